/* core_frontmatter_test.c -- the strict YAML subset at the top of release
 * files: what it accepts, what it returns, and the line each error names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/core_frontmatter.h"

/* Parses z, which must succeed; returns the meta object (caller decrefs)
 * and the body as a NUL-terminated copy in *body_out (caller frees). */
static json_t *parse_ok(const char *z, char **body_out)
{
    json_t *meta = NULL;
    const char *body = NULL;
    size_t body_len = 0;
    char err[256];
    int rc = core_frontmatter_parse(z, strlen(z), &meta, &body, &body_len, err, sizeof(err));
    if (rc != KW_OK) fail_msg("expected to parse, got: %s\n--- input:\n%s", err, z);
    assert_non_null(meta);
    assert_true(json_is_object(meta));
    assert_non_null(body);
    assert_true(body >= z && body + body_len == z + strlen(z));
    if (body_out) *body_out = kw_strndup(body, body_len);
    return meta;
}

/* Parses n bytes at p, which must fail with exactly the message want. */
static void parse_bad_n(const char *p, size_t n, const char *want)
{
    json_t *meta = (json_t *)0x1;
    const char *body = "x";
    size_t body_len = 99;
    char err[256] = "unset";
    int rc = core_frontmatter_parse(p, n, &meta, &body, &body_len, err, sizeof(err));
    if (rc != KW_INVALID) fail_msg("expected KW_INVALID (%s) for:\n%.*s", want, (int)n, p);
    assert_null(meta);
    assert_null(body);
    assert_int_equal(body_len, 0);
    if (strcmp(err, want) != 0) fail_msg("error was \"%s\", wanted \"%s\"", err, want);
}

static void parse_bad(const char *z, const char *want)
{
    parse_bad_n(z, strlen(z), want);
}

static const char *str(json_t *meta, const char *key)
{
    json_t *v = json_object_get(meta, key);
    if (!json_is_string(v)) fail_msg("'%s' is not a string", key);
    return json_string_value(v);
}

/* Ends the variadic list of assert_list (a typed null pointer). */
#define LIST_END ((const char *)NULL)

/* Asserts meta[key] is an array of exactly the given strings, LIST_END-ended. */
static void assert_list(json_t *meta, const char *key, ...)
{
    json_t *v = json_object_get(meta, key);
    if (!json_is_array(v)) fail_msg("'%s' is not an array", key);
    va_list ap;
    va_start(ap, key);
    size_t i = 0;
    for (const char *want; (want = va_arg(ap, const char *)) != NULL; i++) {
        json_t *item = json_array_get(v, i);
        if (!json_is_string(item)) fail_msg("%s[%zu] missing or not a string", key, i);
        assert_string_equal(json_string_value(item), want);
    }
    va_end(ap);
    assert_int_equal(json_array_size(v), i);
}

static void test_good_file(void **state)
{
    char *body;
    json_t *m = parse_ok("---\n"
                         "# a comment line\n"
                         "headline: Kawat opens its wire to Southeast Asia\n"
                         "subheadline: Fifteen languages, one wire   # trailing comment\n"
                         "language: id\n"
                         "\n"
                         "sectors: [Top Story, Technology]\n"
                         "regions:\n"
                         "  - ID\n"
                         "  - MY\n"
                         "publish_at: 2026-11-28T16:00:00+07:00\n"
                         "---\n"
                         "Body in *Markdown*.\n\nSecond paragraph.\n",
                         &body);
    assert_int_equal(json_object_size(m), 6);
    assert_string_equal(str(m, "headline"), "Kawat opens its wire to Southeast Asia");
    assert_string_equal(str(m, "subheadline"), "Fifteen languages, one wire");
    assert_string_equal(str(m, "language"), "id");
    assert_string_equal(str(m, "publish_at"), "2026-11-28T16:00:00+07:00");
    assert_list(m, "sectors", "Top Story", "Technology", LIST_END);
    assert_list(m, "regions", "ID", "MY", LIST_END);
    assert_string_equal(body, "Body in *Markdown*.\n\nSecond paragraph.\n");
    free(body);
    json_decref(m);
}

static void test_every_value_is_a_string(void **state)
{
    /* The YAML 1.1 traps: booleans, nulls, numbers and dates stay text. */
    json_t *m = parse_ok("---\nlanguage: no\na: yes\nb: ~\nc: null\nd: 007\ne: 2026-11-28\n"
                         "f: 1.50\ng: true\n---\n",
                         NULL);
    assert_string_equal(str(m, "language"), "no");
    assert_string_equal(str(m, "a"), "yes");
    assert_string_equal(str(m, "b"), "~");
    assert_string_equal(str(m, "c"), "null");
    assert_string_equal(str(m, "d"), "007");
    assert_string_equal(str(m, "e"), "2026-11-28");
    assert_string_equal(str(m, "f"), "1.50");
    assert_string_equal(str(m, "g"), "true");
    json_decref(m);
}

static void test_plain_values_keep_urls_and_hashes(void **state)
{
    json_t *m = parse_ok("---\nurl: https://example.com/a?b=c#frag\nt: 16:00:00Z\n"
                         "tag: C# and F#\nx: a:b\n---\n",
                         NULL);
    assert_string_equal(str(m, "url"), "https://example.com/a?b=c#frag");
    assert_string_equal(str(m, "t"), "16:00:00Z");
    assert_string_equal(str(m, "tag"), "C# and F#");
    assert_string_equal(str(m, "x"), "a:b");
    json_decref(m);
}

static void test_flow_lists(void **state)
{
    json_t *m = parse_ok("---\n"
                         "a: []\n"
                         "b: [ one ]\n"
                         "c: [x, 'y, z', \"w]\", v ,]\n"
                         "d: [Top Story,Daily News]   # comment\n"
                         "e: [\"\"]\n"
                         "f: [日本, 한국어, العربية]\n"
                         "---\n",
                         NULL);
    assert_list(m, "a", LIST_END);
    assert_list(m, "b", "one", LIST_END);
    assert_list(m, "c", "x", "y, z", "w]", "v", LIST_END);
    assert_list(m, "d", "Top Story", "Daily News", LIST_END);
    assert_list(m, "e", "", LIST_END);
    assert_list(m, "f", "日本", "한국어", "العربية", LIST_END);
    json_decref(m);
}

static void test_block_lists(void **state)
{
    json_t *m = parse_ok("---\n"
                         "contacts:\n"
                         "  - Jane Doe <jane@example.com> +62 21 555 0100\n"
                         "  # a comment between items\n"
                         "\n"
                         "  - \"Budi: press office\"\n"
                         "regions:   # countries\n"
                         "- ID\n"
                         "-   MY   # Malaysia\n"
                         "sectors:\n"
                         "    - 'Top Story'\n"
                         "---\n",
                         NULL);
    assert_list(m, "contacts", "Jane Doe <jane@example.com> +62 21 555 0100", "Budi: press office",
                LIST_END);
    assert_list(m, "regions", "ID", "MY", LIST_END);
    assert_list(m, "sectors", "Top Story", LIST_END);
    json_decref(m);
}

static void test_quotes(void **state)
{
    json_t *m = parse_ok("---\n"
                         "a: \"Kawat: the wire\"\n"
                         "b: 'It''s here'\n"
                         "c: \"tab\\there \\\"quoted\\\" back\\\\slash \\/ \\u00e9 \\U0001F600\"\n"
                         "d: \"\"\n"
                         "e: ''\n"
                         "f: \"# not a comment\"   # a comment\n"
                         "g: '  spaces kept  '\n"
                         "h: \"- [not, a, list]\"\n"
                         "---\n",
                         NULL);
    assert_string_equal(str(m, "a"), "Kawat: the wire");
    assert_string_equal(str(m, "b"), "It's here");
    assert_string_equal(str(m, "c"),
                        "tab\there \"quoted\" back\\slash / \xC3\xA9 \xF0\x9F\x98\x80");
    assert_string_equal(str(m, "d"), "");
    assert_string_equal(str(m, "e"), "");
    assert_string_equal(str(m, "f"), "# not a comment");
    assert_string_equal(str(m, "g"), "  spaces kept  ");
    assert_string_equal(str(m, "h"), "- [not, a, list]");
    json_decref(m);
}

static void test_crlf(void **state)
{
    char *body;
    json_t *m = parse_ok("---\r\n"
                         "headline: Windows line ends   \r\n"
                         "regions:\r\n"
                         "  - ID\r\n"
                         "sectors: [a, b]\r\n"
                         "---\r\n"
                         "Body\r\nline two\r\n",
                         &body);
    assert_string_equal(str(m, "headline"), "Windows line ends");
    assert_list(m, "regions", "ID", LIST_END);
    assert_list(m, "sectors", "a", "b", LIST_END);
    assert_string_equal(body, "Body\r\nline two\r\n");
    free(body);
    json_decref(m);
}

static void test_no_front_matter(void **state)
{
    char *body;
    json_t *m = parse_ok("Just a body.\n---\nheadline: not meta\n", &body);
    assert_int_equal(json_object_size(m), 0);
    assert_string_equal(body, "Just a body.\n---\nheadline: not meta\n");
    free(body);
    json_decref(m);

    m = parse_ok("", &body);
    assert_int_equal(json_object_size(m), 0);
    assert_string_equal(body, "");
    free(body);
    json_decref(m);

    /* "----" is a Markdown rule, not front matter. */
    m = parse_ok("----\nx\n", &body);
    assert_int_equal(json_object_size(m), 0);
    assert_string_equal(body, "----\nx\n");
    free(body);
    json_decref(m);
}

static void test_edges(void **state)
{
    char *body;
    /* Empty front matter, closing line without newline, trailing blanks
     * on the fences, a byte order mark. */
    json_t *m = parse_ok("---\n---", &body);
    assert_int_equal(json_object_size(m), 0);
    assert_string_equal(body, "");
    free(body);
    json_decref(m);

    m = parse_ok("\xEF\xBB\xBF---  \nheadline: BOM\n--- \t\nbody", &body);
    assert_string_equal(str(m, "headline"), "BOM");
    assert_string_equal(body, "body");
    free(body);
    json_decref(m);

    m = parse_ok("\xEF\xBB\xBFplain body", &body);
    assert_string_equal(body, "plain body");
    free(body);
    json_decref(m);
}

static void test_unterminated(void **state)
{
    parse_bad("---\nheadline: x\n", "line 1: front matter is not closed (no '---' line after it)");
    parse_bad("---", "line 1: front matter is not closed (no '---' line after it)");
    parse_bad("---\r\nheadline: x\r\n-- \r\n", "line 3: expected 'key: value'");
    parse_bad("---\na: \"open\n---\n",
              "line 2: unterminated double-quoted value (quotes must close on the same line)");
    parse_bad("---\na: 'open\n---\n",
              "line 2: unterminated single-quoted value (quotes must close on the same line)");
    parse_bad("---\na: [x, y\n---\n", "line 2: unterminated list (missing ']' on this line)");
    parse_bad("---\na: [x, y # c]\n---\n", "line 2: unterminated list (missing ']')");
}

static void test_bad_lines(void **state)
{
    parse_bad("---\nheadline: x\njust text\n---\n", "line 3: expected 'key: value'");
    parse_bad("---\n\"quoted\": key\n---\n", "line 2: expected 'key: value'");
    parse_bad("---\nkey : v\n---\n", "line 2: expected 'key: value'");
    parse_bad("---\nkey:v\n---\n", "line 2: expected a space after 'key:'");
    parse_bad("---\na: 1\na: 2\n---\n", "line 3: duplicate key 'a'");
    parse_bad("---\na: 1\n  continued\n---\n",
              "line 3: unexpected indentation (values must fit on their key's line)");
    parse_bad("---\n\theadline: x\n---\n", "line 2: tab in indentation (use spaces)");
    parse_bad("---\n- orphan\n---\n",
              "line 2: list item without a key above it ('key:' alone on its line)");
    parse_bad("---\na: b\n  - c\n---\n",
              "line 3: list item without a key above it ('key:' alone on its line)");
    parse_bad("---\nempty:\nnext: x\n---\n", "line 2: 'empty' has no value");
    parse_bad("---\nempty:   # nothing\n---\n", "line 2: 'empty' has no value");
    parse_bad("---\nl:\n  - a\n    - b\n---\n", "line 4: list items must be indented alike");
    parse_bad("---\nl:\n  -\n---\n", "line 3: empty list item");
    parse_bad("---\nl:\n  - - x\n---\n", "line 3: nested lists are not supported");
    parse_bad("---\nl: [a, [b]]\n---\n", "line 2: nested lists are not supported");
    parse_bad("---\nl:\n  - [a, b]\n---\n", "line 3: nested lists are not supported");
    parse_bad("---\nl: [a,, b]\n---\n", "line 2: empty list item");
    parse_bad("---\nl: [a b c] x\n---\n", "line 2: unexpected text after the value");
    parse_bad("---\nl: [\"a\" \"b\"]\n---\n", "line 2: expected ',' or ']' in the list");
    parse_bad("---\na: \"x\" y\n---\n", "line 2: unexpected text after the value");
    parse_bad("---\nheadline: Kawat: the wire\n---\n",
              "line 2: ':' followed by a space in an unquoted value; put the value in quotes");
    parse_bad("---\nl:\n  - name: Jane\n---\n",
              "line 3: ':' followed by a space in an unquoted value; put the value in quotes");
    parse_bad("---\na: \"\\q\"\n---\n", "line 2: unsupported escape '\\q' in a quoted value");
    parse_bad("---\na: \"\\u00zz\"\n---\n", "line 2: bad hexadecimal digits in '\\u' escape");
    parse_bad("---\na: \"\\ud800\"\n---\n", "line 2: escape names no valid character (U+D800)");
    parse_bad("---\na: \"\\u0000\"\n---\n", "line 2: escape names no valid character (U+0000)");
    parse_bad("---\na: x\r\rb: y\n---\n", "line 2: carriage return inside a line");
}

static void test_unknown_constructs(void **state)
{
    parse_bad("---\nbody: |\n  text\n---\n",
              "line 2: multi-line values ('|') are not supported; put long text in the body or "
              "quote it on one line");
    parse_bad("---\nbody: >\n---\n",
              "line 2: multi-line values ('>') are not supported; put long text in the body or "
              "quote it on one line");
    parse_bad("---\na: &anchor x\n---\n", "line 2: anchors and aliases ('&') are not supported");
    parse_bad("---\na: *anchor\n---\n", "line 2: anchors and aliases ('*') are not supported");
    parse_bad("---\na: !!str x\n---\n", "line 2: tags ('!') are not supported");
    parse_bad("---\na: {b: c}\n---\n", "line 2: mappings ('{') are not supported");
    parse_bad("---\na: @x\n---\n", "line 2: a value cannot start with '@' unless quoted");
    parse_bad("---\na: - x\n---\n", "line 2: unexpected '-'; quote the value if it is text");
    parse_bad("---\na: ? x\n---\n", "line 2: unexpected '?'; quote the value if it is text");
    parse_bad("---\nl: [a, b{]\n---\n", "line 2: unexpected '{' in a list; quote the item");
    parse_bad("---\n? complex\n---\n", "line 2: expected 'key: value'");
    parse_bad("---\n...\n---\n", "line 2: expected 'key: value'");
}

static void test_invalid_utf8(void **state)
{
    parse_bad("---\nheadline: ok\nsub: bad \xC3\x28 byte\n---\n", "line 3: invalid UTF-8");
    parse_bad("---\nh: overlong \xC0\xAF\n---\n", "line 2: invalid UTF-8");
    parse_bad("---\nh: surrogate \xED\xA0\x80\n---\n", "line 2: invalid UTF-8");
    parse_bad("---\nh: truncated \xE2\x82\n---\n", "line 2: invalid UTF-8");
    /* In the body too, and without front matter. */
    parse_bad("---\nh: x\n---\nbody\nmore \xFF\n", "line 5: invalid UTF-8");
    parse_bad("\xFE plain body", "line 1: invalid UTF-8");
    static const char nul[] = "---\nh: a\0b\n---\n";
    parse_bad_n(nul, sizeof(nul) - 1, "line 2: NUL byte in text");
}

static void test_error_buffer_limits(void **state)
{
    json_t *meta;
    const char *body;
    size_t body_len;
    char err[12];
    const char *z = "---\nheadline: x\njust text\n---\n";
    assert_int_equal(
        core_frontmatter_parse(z, strlen(z), &meta, &body, &body_len, err, sizeof(err)),
        KW_INVALID);
    assert_string_equal(err, "line 3: exp");
    assert_int_equal(core_frontmatter_parse(z, strlen(z), &meta, &body, &body_len, NULL, 0),
                     KW_INVALID);
    assert_null(meta);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_file),
        cmocka_unit_test(test_every_value_is_a_string),
        cmocka_unit_test(test_plain_values_keep_urls_and_hashes),
        cmocka_unit_test(test_flow_lists),
        cmocka_unit_test(test_block_lists),
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_no_front_matter),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_unterminated),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_unknown_constructs),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_error_buffer_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
