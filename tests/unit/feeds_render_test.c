/* feeds_render_test.c -- every feed format and sitemap for a few releases,
 * one of them hostile: the XML documents must be well-formed (xmllint), the
 * NewsML-G2 ones valid against IPTC's schema, the JSON ones parse, the
 * hostile text must come out escaped and intact, and nothing unpublished
 * may appear. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core_lang.h"
#include "feeds/feeds_render.h"

#define BASE "http://127.0.0.1:8080"
#define T_PUB 1795883286000LL /* 2026-11-28T16:28:06Z */
#define T_UPD 1795886886000LL /* 2026-11-28T17:28:06Z */
#define T_EMB 1795880000000LL
#define SCHEMA_REL "schemas/newsml-g2/NewsML-G2_2.35-spec-All-Power.xsd"

#define RLO "\xE2\x80\xAE" /* U+202E RIGHT-TO-LEFT OVERRIDE */

static char tmpdir[64];
static int have_xmllint;

/* ---- fixtures --------------------------------------------------------- */

static core_release_t *make_release(const char *id, const char *lang, core_state_t state)
{
    core_release_t *r = calloc(1, sizeof(*r));
    core_release_init(r);
    snprintf(r->id, sizeof(r->id), "%s", id);
    snprintf(r->issuer_id, sizeof(r->issuer_id), "i1");
    snprintf(r->language, sizeof(r->language), "%s", lang);
    r->issuer_name = strdup("PT Contoh & Rekan Tbk");
    r->issuer_slug = strdup("contoh");
    r->state = state;
    r->version = 1;
    r->headline = strdup("Contoh launches a wire");
    r->body = strdup("First paragraph with a [link](https://example.com/a?b=1&c=2).\n\n"
                     "- one\n- two\n\n> A quotation.\n\nline one  \nline two\n\n---\n\n"
                     "| a | b |\n|---|---|\n| 1 | 2 |\n\n![img](https://example.com/i.png)\n");
    r->dateline_place = strdup("JAKARTA");
    json_array_append_new(r->sectors, json_string("business"));
    json_array_append_new(r->sectors, json_string("top-story"));
    json_array_append_new(r->regions, json_string("ID"));
    r->created_at = T_PUB - 86400000;
    r->published_at = T_PUB;
    r->updated_at = T_PUB;
    r->publish_seq = 7;
    return r;
}

/* A release built to break documents: markup, an ampersand, a bidi
 * override, a C0 control, invalid UTF-8, U+FFFF and a 5000-byte word in the
 * headline; a javascript: link and raw HTML in the body. */
static core_release_t *make_hostile(void)
{
    core_release_t *r = make_release("rHostile", "en", REL_PUBLISHED);
    kw_buf_t h = {0};
    kw_buf_puts(&h, "<script>alert(1)</script> & \"q\" 'a' " RLO "evil\x01 x\xFFy\xEF\xBF\xBFz ");
    for (int i = 0; i < 5000; i++)
        kw_buf_putc(&h, 'W');
    free(r->headline);
    r->headline = kw_buf_steal(&h, NULL);
    r->subheadline = strdup("sub <b>bold</b> ]]> end");
    free(r->body);
    r->body = strdup("Click [x](javascript:alert(1)) now.\n\n<script>alert(2)</script>\n\n"
                     "Inline <img src=x onerror=alert(3)> and &nbsp;&amp;&#0;&#x1; ctl\x01 " RLO
                     "rtl\n\n<br>\n\n<hr>\n\n```\n<code> & ]]>\n```\n");
    free(r->dateline_place);
    r->dateline_place = strdup("PLACE <&> " RLO);
    json_array_clear(r->sectors);
    json_array_append_new(r->sectors, json_string("technology"));
    json_array_append_new(r->sectors, json_string("not-a-seed & <x>"));
    return r;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    kw_buf_t b = {0};
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        kw_buf_append(&b, tmp, n);
    fclose(f);
    return kw_buf_steal(&b, len);
}

static const char *schema_path(void)
{
    static char path[512];
    const char *shared = getenv("KAWAT_SHARED");
    snprintf(path, sizeof(path), "%s/" SCHEMA_REL, shared ? shared : "../shared");
    return access(path, R_OK) == 0 ? path : NULL;
}

/* Writes doc to a file in tmpdir (kept with KEEP_FEEDS=1, for
 * tests/e2e/check_feeds.py); returns its path in a static buffer. */
static const char *save(const kw_buf_t *doc, const char *name)
{
    static char path[128];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(doc->data, 1, doc->len, f), doc->len);
    fclose(f);
    return path;
}

/* Writes doc to a file and runs xmllint on it (with the NewsML-G2 schema if
 * schema is set); asserts it passes. */
static void assert_xml(const kw_buf_t *doc, const char *name, const char *schema)
{
    char path[128], cmd[1024];
    snprintf(path, sizeof(path), "%s", save(doc, name));
    if (!have_xmllint) return;
    if (schema)
        snprintf(cmd, sizeof(cmd), "xmllint --noout --nonet --schema '%s' '%s' 2>'%s.err'", schema,
                 path, path);
    else
        snprintf(cmd, sizeof(cmd), "xmllint --noout --nonet '%s' 2>'%s.err'", path, path);
    int rc = system(cmd);
    if (rc != 0) {
        char errpath[160];
        snprintf(errpath, sizeof(errpath), "%s.err", path);
        char *err = read_file(errpath, NULL);
        print_error("xmllint failed on %s:\n%s\n", path, err ? err : "?");
        free(err);
    }
    assert_int_equal(rc, 0);
}

/* The checks every XML document with the hostile release passes. */
static void assert_inert_xml(const kw_buf_t *doc)
{
    assert_non_null(doc->data);
    assert_null(strstr(doc->data, "<script"));
    assert_null(strstr(doc->data, "<img src=x"));
    assert_null(strstr(doc->data, "javascript:"));
    assert_null(strchr(doc->data, '\x01'));
    assert_null(strstr(doc->data, "\xFF"));
    assert_null(strstr(doc->data, "\xEF\xBF\xBF"));
    assert_true(kw_utf8_valid(doc->data, doc->len));
    /* The headline is there, escaped, with its bidi override. */
    assert_non_null(strstr(doc->data, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; "));
    assert_non_null(strstr(doc->data, RLO "evil xyz WWWW"));
    assert_null(strstr(doc->data, "rDraft"));
}

typedef struct {
    core_release_t *items[4];
    json_t *tr[4];
    size_t n;
} fixture_t;

static int setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof(*fx));
    fx->items[0] = make_hostile();
    fx->items[1] = make_release("rTwoId", "id", REL_CORRECTED);
    fx->items[1]->version = 2;
    fx->items[1]->updated_at = T_UPD;
    fx->items[1]->embargo_until = T_EMB;
    fx->items[1]->correction_note = strdup("Fixed a figure");
    fx->items[1]->subheadline = strdup("Dalam lima belas bahasa");
    fx->items[2] = make_release("rDraft", "en", REL_DRAFT);
    fx->items[3] = make_release("rThreeAr", "ar", REL_PUBLISHED);
    fx->tr[1] = json_pack("[{s:s, s:s}, {s:s, s:s}]", "language", "en", "id", "rTwoEn", "language",
                          "id", "id", "rTwoId");
    fx->n = 4;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *fx = *state;
    for (size_t i = 0; i < fx->n; i++) {
        core_release_free(fx->items[i]);
        json_decref(fx->tr[i]);
    }
    free(fx);
    return 0;
}

static feeds_meta_t meta(const core_lang_t *lang)
{
    return (feeds_meta_t){.base_url = BASE,
                          .wire_name = "kawat",
                          .self_path = "/en/sectors/technology/rss.xml?x=1&y=2",
                          .page_path = lang ? "/en/sectors/technology" : NULL,
                          .hub_path = "/websub",
                          .title = "Tech & <more> " RLO,
                          .lang = lang,
                          .updated_ms = 0};
}

/* ---- tests ------------------------------------------------------------ */

static void test_escape(void **state)
{
    (void)state;
    kw_buf_t b = {0};
    feeds_xml_escape(&b, "a<b>&\"'\x01\x1f\t\n\r" RLO "\xC3\xA9\xFF\xC3\xEF\xBF\xBE\xF0\x9F\x98\x80"
                         "\xED\xA0\x80\x7F end");
    assert_string_equal(b.data, "a&lt;b&gt;&amp;&quot;&apos;&#9;&#10;&#13;" RLO
                                "\xC3\xA9\xF0\x9F\x98\x80\x7F end");
    kw_buf_free(&b);
}

static void test_format_names(void **state)
{
    (void)state;
    for (int f = 0; f < FEEDS_FORMAT_COUNT_; f++) {
        const char *file = feeds_format_file((feeds_format_t)f);
        feeds_format_t back;
        assert_non_null(file);
        assert_non_null(feeds_format_type((feeds_format_t)f));
        assert_int_equal(feeds_format_from_file(file, strlen(file), &back), KW_OK);
        assert_int_equal(back, f);
    }
    feeds_format_t out;
    assert_int_equal(feeds_format_from_file("rss.xm", 6, &out), KW_NOTFOUND);
    assert_int_equal(feeds_format_from_file("rss.xmlx", 8, &out), KW_NOTFOUND);
    assert_string_equal(feeds_format_type(FEEDS_ATOM), "application/atom+xml; charset=utf-8");
}

static void test_rss(void **state)
{
    fixture_t *fx = *state;
    kw_buf_t b = {0};
    feeds_meta_t m = meta(core_lang_find_z("en"));
    m.updated_ms = T_UPD;
    assert_int_equal(feeds_render(FEEDS_RSS, &m, fx->items, fx->n, NULL, &b), KW_OK);
    assert_xml(&b, "rss.xml", NULL);
    assert_inert_xml(&b);
    assert_non_null(strstr(b.data, "<language>en</language>"));
    assert_non_null(strstr(b.data,
                           "<atom:link rel=\"self\" type=\"application/rss+xml\" href=\"" BASE
                           "/en/sectors/technology/rss.xml?x=1&amp;y=2\"/>"));
    assert_non_null(strstr(b.data, "<atom:link rel=\"hub\" href=\"" BASE "/websub\"/>"));
    assert_non_null(
        strstr(b.data, "<guid isPermaLink=\"true\">" BASE "/id/releases/rTwoId</guid>"));
    assert_non_null(strstr(b.data, "<pubDate>Sat, 28 Nov 2026 16:28:06 GMT</pubDate>"));
    assert_non_null(strstr(b.data, "<category>not-a-seed &amp; &lt;x&gt;</category>"));
    assert_non_null(strstr(b.data, "<dc:creator>PT Contoh &amp; Rekan Tbk</dc:creator>"));
    /* lastBuildDate: the newest change, as the caller says. */
    assert_non_null(strstr(b.data, "<lastBuildDate>Sat, 28 Nov 2026 17:28:06 GMT</lastBuildDate>"));
    kw_buf_free(&b);

    /* All languages: no <language>. */
    m = meta(NULL);
    feeds_render(FEEDS_RSS, &m, fx->items, fx->n, NULL, &b);
    assert_xml(&b, "rss-all.xml", NULL);
    assert_null(strstr(b.data, "<language>"));
    kw_buf_free(&b);
}

static void test_atom(void **state)
{
    fixture_t *fx = *state;
    kw_buf_t b = {0};
    feeds_meta_t m = meta(core_lang_find_z("en"));
    feeds_render(FEEDS_ATOM, &m, fx->items, fx->n, NULL, &b);
    assert_xml(&b, "atom.xml", NULL);
    assert_inert_xml(&b);
    assert_non_null(strstr(b.data, "<id>" BASE "/en/sectors/technology/rss.xml?x=1&amp;y=2</id>"));
    assert_non_null(strstr(b.data, "<link rel=\"hub\" href=\"" BASE "/websub\"/>"));
    assert_non_null(strstr(b.data, "<link rel=\"alternate\" type=\"text/html\" href=\"" BASE
                                   "/en/sectors/technology\"/>"));
    /* A correction is updated at its new version, published at the first. */
    assert_non_null(strstr(b.data, "<updated>2026-11-28T17:28:06Z</updated>"
                                   "<published>2026-11-28T16:28:06Z</published>"));
    assert_non_null(strstr(b.data, "hreflang=\"ar\""));
    assert_non_null(strstr(b.data, "<entry xml:lang=\"id\">"));
    assert_non_null(strstr(b.data, "<category term=\"business\" label=\""));
    /* The body's HTML, escaped once, links intact. */
    assert_non_null(strstr(b.data, "&lt;a href=\"https://example.com/a?b=1&amp;amp;c=2\"&gt;link"));
    kw_buf_free(&b);
}

static void test_jsonfeed(void **state)
{
    fixture_t *fx = *state;
    kw_buf_t b = {0};
    feeds_meta_t m = meta(core_lang_find_z("en"));
    feeds_render(FEEDS_JSONFEED, &m, fx->items, fx->n, NULL, &b);
    save(&b, "feed.json");
    json_error_t err;
    json_t *o = json_loads(b.data, 0, &err);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "version")),
                        "https://jsonfeed.org/version/1.1");
    assert_string_equal(json_string_value(json_object_get(o, "feed_url")),
                        BASE "/en/sectors/technology/rss.xml?x=1&y=2");
    assert_string_equal(json_string_value(json_object_get(o, "language")), "en");
    json_t *hub = json_array_get(json_object_get(o, "hubs"), 0);
    assert_string_equal(json_string_value(json_object_get(hub, "type")), "WebSub");
    assert_string_equal(json_string_value(json_object_get(hub, "url")), BASE "/websub");
    json_t *items = json_object_get(o, "items");
    assert_int_equal(json_array_size(items), 3);
    json_t *h = json_array_get(items, 0);
    const char *title = json_string_value(json_object_get(h, "title"));
    assert_non_null(strstr(title, "<script>alert(1)</script> & \"q\" 'a' " RLO "evil\x01 xy"));
    assert_string_equal(json_string_value(json_object_get(h, "id")), BASE "/en/releases/rHostile");
    assert_null(strstr(json_string_value(json_object_get(h, "content_html")), "<script"));
    assert_null(strstr(json_string_value(json_object_get(h, "content_html")), "javascript:"));
    json_t *c = json_array_get(items, 1);
    assert_string_equal(json_string_value(json_object_get(c, "date_modified")),
                        "2026-11-28T17:28:06Z");
    assert_string_equal(json_string_value(json_object_get(c, "language")), "id");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(c, "authors"), 0), "name")),
                        "PT Contoh & Rekan Tbk");
    assert_int_equal(json_array_size(json_object_get(c, "tags")), 2);
    assert_null(strstr(b.data, "rDraft"));
    json_decref(o);
    kw_buf_free(&b);
}

static void test_ninjs(void **state)
{
    fixture_t *fx = *state;
    kw_buf_t b = {0};
    feeds_meta_t m = meta(NULL);
    feeds_render(FEEDS_NINJS, &m, fx->items, fx->n, fx->tr, &b);
    save(&b, "ninjs.json");
    json_t *o = json_loads(b.data, 0, NULL);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "uri")),
                        BASE "/en/sectors/technology/rss.xml?x=1&y=2");
    json_t *items = json_object_get(o, "items");
    assert_int_equal(json_array_size(items), 3);
    json_t *c = json_array_get(items, 1);
    assert_string_equal(json_string_value(json_object_get(c, "uri")), BASE "/id/releases/rTwoId");
    assert_int_equal(json_array_size(json_object_get(c, "associations")), 1);
    assert_null(strstr(b.data, "rDraft"));
    json_decref(o);
    kw_buf_free(&b);
}

static void test_newsml(void **state)
{
    fixture_t *fx = *state;
    const char *schema = schema_path();
    if (!schema)
        print_message(
            "NewsML-G2 schema not found; set KAWAT_SHARED (checking well-formedness only)\n");
    kw_buf_t b = {0};
    feeds_meta_t m = meta(core_lang_find_z("en"));
    feeds_render(FEEDS_NEWSML, &m, fx->items, fx->n, fx->tr, &b);
    assert_xml(&b, "newsml.xml", schema);
    assert_inert_xml(&b);
    assert_non_null(strstr(b.data, "<newsMessage xmlns=\"http://iptc.org/std/nar/2006-10-01/\">"));
    assert_non_null(strstr(b.data, "qcode=\"medtop:20000225\"")); /* technology */
    assert_non_null(strstr(b.data, "qcode=\"iso3166-1a2:ID\""));
    assert_non_null(strstr(b.data, "<embargoed>"));
    assert_non_null(strstr(b.data, "<edNote>"));
    assert_non_null(strstr(b.data, "href=\"" BASE "/en/releases/rTwoEn\""));
    assert_non_null(strstr(b.data, "dir=\"rtl\""));
    assert_non_null(strstr(b.data, "<dateline>JAKARTA, "));
    assert_non_null(strstr(b.data, "(kawat) \xE2\x80\x93</dateline>"));
    assert_non_null(strstr(b.data, "<dateline>PLACE &lt;&amp;&gt; " RLO ", "));
    /* The body went out as XHTML, markup kept. */
    assert_non_null(strstr(b.data, "<blockquote>"));
    assert_non_null(strstr(b.data, "<br />"));
    kw_buf_free(&b);

    for (size_t i = 0; i < fx->n; i++) {
        int rc = feeds_newsml_item(fx->items[i], BASE, "kawat", fx->tr[i], &b);
        if (fx->items[i]->state == REL_DRAFT) {
            assert_int_equal(rc, KW_DECLINED);
            assert_int_equal(b.len, 0);
            continue;
        }
        assert_int_equal(rc, KW_OK);
        char name[64];
        snprintf(name, sizeof(name), "item-%s.xml", fx->items[i]->id);
        assert_xml(&b, name, schema);
        assert_non_null(strstr(b.data, "<newsItem xmlns="));
        assert_non_null(strstr(b.data, "conformance=\"power\""));
        kw_buf_free(&b);
    }
}

/* A body cmark renders into something the XHTML scanner refuses (nesting
 * past its depth) goes out as plain text, still valid. */
static void test_newsml_fallback(void **state)
{
    (void)state;
    core_release_t *r = make_release("rDeep", "en", REL_PUBLISHED);
    kw_buf_t md = {0};
    for (int i = 0; i < 300; i++)
        kw_buf_puts(&md, "> ");
    kw_buf_puts(&md, "deep & down");
    free(r->body);
    r->body = kw_buf_steal(&md, NULL);
    kw_buf_t b = {0};
    assert_int_equal(feeds_newsml_item(r, BASE, "kawat", NULL, &b), KW_OK);
    assert_xml(&b, "item-deep.xml", schema_path());
    assert_non_null(strstr(b.data, "<body><p>deep &amp; down</p></body>"));
    kw_buf_free(&b);
    core_release_free(r);
}

static void test_sitemaps(void **state)
{
    fixture_t *fx = *state;
    kw_buf_t b = {0};
    feeds_sitemap_month_t months[] = {{"2026-11", T_UPD}, {"2026-10", T_PUB - 40LL * 86400000}};
    assert_int_equal(feeds_sitemap_index(BASE, months, 2, &b), KW_OK);
    assert_xml(&b, "sitemap-index.xml", NULL);
    assert_non_null(strstr(b.data, "<loc>" BASE "/sitemaps/2026-11.xml</loc>"
                                   "<lastmod>2026-11-28T17:28:06Z</lastmod>"));
    kw_buf_free(&b);

    assert_int_equal(feeds_sitemap_urls(BASE, fx->items, fx->n, fx->tr, &b), KW_OK);
    assert_xml(&b, "sitemap-urls.xml", NULL);
    assert_null(strstr(b.data, "rDraft"));
    assert_non_null(strstr(b.data, "<loc>" BASE "/id/releases/rTwoId</loc>"));
    assert_non_null(strstr(b.data, "<xhtml:link rel=\"alternate\" hreflang=\"id\" href=\"" BASE
                                   "/id/releases/rTwoId\"/>"));
    assert_non_null(strstr(b.data, "<xhtml:link rel=\"alternate\" hreflang=\"en\" href=\"" BASE
                                   "/en/releases/rTwoEn\"/>"));
    /* Once each: itself is not repeated from the translations array. */
    const char *first = strstr(b.data, "hreflang=\"id\"");
    assert_null(strstr(first + 1, "hreflang=\"id\""));
    kw_buf_free(&b);

    assert_int_equal(feeds_sitemap_news(BASE, "kawat & co", fx->items, fx->n, &b), KW_OK);
    assert_xml(&b, "sitemap-news.xml", NULL);
    assert_inert_xml(&b);
    assert_non_null(strstr(b.data, "<news:name>kawat &amp; co</news:name>"
                                   "<news:language>ar</news:language>"));
    assert_non_null(strstr(b.data, "<news:publication_date>2026-11-28T16:28:06Z"));
    kw_buf_free(&b);
}

/* Summaries are the body's first 300 characters (not bytes), cut whole. */
static void test_summary(void **state)
{
    (void)state;
    core_release_t *r = make_release("rLong", "th", REL_PUBLISHED);
    kw_buf_t md = {0};
    for (int i = 0; i < 400; i++)
        kw_buf_puts(&md, "\xE0\xB8\x81\xE0\xB8\xB2 "); /* "กา " */
    free(r->body);
    r->body = kw_buf_steal(&md, NULL);
    kw_buf_t b = {0};
    feeds_meta_t m = meta(NULL);
    feeds_render(FEEDS_JSONFEED, &m, &r, 1, NULL, &b);
    json_t *o = json_loads(b.data, 0, NULL);
    const char *sum = json_string_value(
        json_object_get(json_array_get(json_object_get(o, "items"), 0), "summary"));
    assert_non_null(sum);
    size_t chars = 0;
    for (const char *p = sum; *p; p++)
        chars += ((unsigned char)*p & 0xC0) != 0x80;
    assert_true(chars <= 301 && chars > 250);
    assert_true(kw_utf8_valid(sum, strlen(sum)));
    assert_string_equal(sum + strlen(sum) - 3, "\xE2\x80\xA6");
    json_decref(o);
    kw_buf_free(&b);
    core_release_free(r);
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/feeds_render_XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    have_xmllint = system("xmllint --version >/dev/null 2>&1") == 0;
    if (!have_xmllint) fprintf(stderr, "xmllint not found: XML documents are not checked\n");

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_format_names),
        cmocka_unit_test_setup_teardown(test_rss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atom, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jsonfeed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ninjs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newsml, setup, teardown),
        cmocka_unit_test(test_newsml_fallback),
        cmocka_unit_test(test_summary),
        cmocka_unit_test_setup_teardown(test_sitemaps, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (!failed && !getenv("KEEP_FEEDS")) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    } else {
        fprintf(stderr, "documents kept in %s\n", tmpdir);
    }
    return failed;
}
