/* core_markdown_test.c -- Markdown to safe HTML and to cut plain-text
 * summaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>

#include <cmocka.h>

#include "core/core.h"
#include "core/core_markdown.h"

static char *html(const char *md)
{
    return core_markdown_html(md, strlen(md));
}

static char *text(const char *md, size_t max)
{
    return core_markdown_text(md, strlen(md), max);
}

/* Case-insensitive substring search. */
static int contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0) return 1;
    return 0;
}

/* Fails with the whole output when needle is missing from (or, with want 0,
 * present in) h. */
#define assert_has(h, needle) check_has((h), (needle), 1, __LINE__)
#define assert_lacks(h, needle) check_has((h), (needle), 0, __LINE__)

static void check_has(const char *h, const char *needle, int want, int line)
{
    if (contains(h, needle) != want)
        fail_msg("line %d: %s \"%s\" in:\n%s", line, want ? "missing" : "unexpected", needle, h);
}

static void test_html_basics(void **state)
{
    char *h = html("# Title\n\nHello [wire](https://example.com/a?x=1&y=2 \"The wire\") "
                   "and **bold**, *em*, ~~old~~, `code`, www.example.org and "
                   "https://example.net/p.\n");
    assert_has(h, "<h1>Title</h1>");
    assert_has(h, "<a href=\"https://example.com/a?x=1&amp;y=2\" title=\"The wire\">"
                  "wire</a>");
    assert_has(h, "<strong>bold</strong>");
    assert_has(h, "<em>em</em>");
    assert_has(h, "<del>old</del>");
    assert_has(h, "<code>code</code>");
    assert_has(h, "<a href=\"http://www.example.org\">www.example.org</a>");
    assert_has(h, "<a href=\"https://example.net/p\">https://example.net/p</a>.");
    free(h);

    h = html("Mail <mailto:press@example.com> or <https://example.com/x>.");
    assert_has(h, "href=\"mailto:press@example.com\"");
    assert_has(h, "href=\"https://example.com/x\"");
    free(h);
}

static void test_html_blocks(void **state)
{
    char *h = html("- one\n- two\n\n1. first\n2. second\n\n> quoted\n> words\n\n"
                   "| Market | Change |\n|:--|--:|\n| IDX | +1.2% |\n| N225 | -0.4% |\n");
    assert_has(h, "<ul>\n<li>one</li>\n<li>two</li>\n</ul>");
    assert_has(h, "<ol>\n<li>first</li>");
    assert_has(h, "<blockquote>\n<p>quoted\nwords</p>\n</blockquote>");
    assert_has(h, "<table>");
    assert_has(h, "<th align=\"left\">Market</th>");
    assert_has(h, "<td align=\"right\">+1.2%</td>");
    assert_has(h, "</table>");
    free(h);
}

static void test_html_no_raw_html(void **state)
{
    const char *inputs[] = {
        "<script>alert(1)</script>",
        "Text <script>alert(1)</script> more",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<img src=x onerror=alert(1)>",
        "Inline <img src=x onerror=alert(1)> image",
        "<iframe src=\"https://evil.example\"></iframe>",
        "<a href=\"javascript:alert(1)\">click</a>",
        "<div onclick=\"alert(1)\">x</div>",
        "<style>body{display:none}</style>",
        "<svg onload=alert(1)>",
    };
    for (size_t i = 0; i < KW_ARRAY_SIZE(inputs); i++) {
        char *h = html(inputs[i]);
        if (contains(h, "<script") || contains(h, "<img") || contains(h, "onerror") ||
            contains(h, "<iframe") || contains(h, "<a href=\"javascript") ||
            contains(h, "onclick") || contains(h, "<style") || contains(h, "<svg"))
            fail_msg("raw HTML passed through for %s: %s", inputs[i], h);
        assert_has(h, "raw HTML omitted");
        free(h);
    }
}

static void test_html_dangerous_urls(void **state)
{
    const char *inputs[] = {
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x]( javascript:alert(1) )",
        "[x](<javascript:alert(1)>)",
        "<javascript:alert(1)>",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![x](javascript:alert(1))",
        "[x][r]\n\n[r]: javascript:alert(1)",
        "[x](file:///etc/passwd)",
    };
    for (size_t i = 0; i < KW_ARRAY_SIZE(inputs); i++) {
        char *h = html(inputs[i]);
        if (contains(h, "href=\"javascript") || contains(h, "src=\"javascript") ||
            contains(h, "href=\"vbscript") || contains(h, "href=\"data:") ||
            contains(h, "href=\"file:"))
            fail_msg("dangerous URL kept for %s: %s", inputs[i], h);
        free(h);
    }
    /* Ordinary schemes survive. */
    char *h = html("[a](https://a.example) [b](http://b.example) [c](/relative) [d](#frag)");
    assert_has(h, "href=\"https://a.example\"");
    assert_has(h, "href=\"http://b.example\"");
    assert_has(h, "href=\"/relative\"");
    assert_has(h, "href=\"#frag\"");
    free(h);
}

static void test_html_escaping(void **state)
{
    char *h = html("[x\"><b>](https://e.example/\"onmouseover=\"alert(1) \"t\\\"<>\") 1 < 2 & 3");
    assert_lacks(h, "<b>");
    assert_lacks(h, "\"onmouseover");
    assert_has(h, "1 &lt; 2 &amp; 3");
    free(h);

    /* Empty and NULL input, invalid UTF-8, embedded NUL. */
    h = core_markdown_html(NULL, 0);
    assert_string_equal(h, "");
    free(h);
    h = core_markdown_html("", 0);
    assert_string_equal(h, "");
    free(h);
    const char bad[] = "ok \xC3\x28 \xFF x\0y";
    h = core_markdown_html(bad, sizeof(bad) - 1);
    assert_true(kw_utf8_valid(h, strlen(h)));
    assert_has(h, "\xEF\xBF\xBD"); /* U+FFFD */
    free(h);
}

static void test_text_plain(void **state)
{
    char *t = text("# Title\n\nHello [wire](https://example.com) and **bold**,  ~~old~~\n"
                   "next   line.\n\n- one\n- two\n\n> quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
                   "<script>alert(1)</script>\n\n![alt text](x.png) `code`  \n",
                   0);
    assert_string_equal(t, "Title Hello wire and bold, old next line. one two quoted a b 1 2 "
                           "alt text code");
    free(t);

    t = text("   \n\n  ", 0);
    assert_string_equal(t, "");
    free(t);
    t = core_markdown_text(NULL, 0, 10);
    assert_string_equal(t, "");
    free(t);
    t = text("1 &lt; 2 &amp; \"3\"", 0); /* entities decoded, not re-escaped */
    assert_string_equal(t, "1 < 2 & \"3\"");
    free(t);
}

static void test_text_cut_ascii(void **state)
{
    char *t = text("The quick brown fox jumps", 14);
    assert_string_equal(t, "The quick…"); /* word boundary, 12 bytes */
    free(t);
    t = text("The quick brown fox jumps", 25);
    assert_string_equal(t, "The quick brown fox jumps");
    free(t);
    t = text("The quick brown fox jumps", 24);
    assert_string_equal(t, "The quick brown fox…");
    free(t);
    t = text("The quick brown fox jumps", 13); /* cut right after a word */
    assert_string_equal(t, "The quick…");
    free(t);
    t = text("Supercalifragilisticexpialidocious", 10); /* one long word */
    assert_string_equal(t, "Superca…");
    free(t);
    t = text("abcdef", 3); /* no room for the ellipsis */
    assert_string_equal(t, "abc");
    free(t);
    t = text("abcdef", 4);
    assert_string_equal(t, "a…");
    free(t);
}

static void test_text_cut_multibyte(void **state)
{
    /* Japanese: 3 bytes a character, no spaces. */
    char *t = text("日本語のテキストです", 10); /* 30 bytes */
    assert_string_equal(t, "日本…");
    free(t);
    t = text("日本語のテキストです", 11);
    assert_string_equal(t, "日本…");
    free(t);
    t = text("日本語のテキストです", 12);
    assert_string_equal(t, "日本語…");
    free(t);

    /* Thai: "ที่นี่" is tho thahan + sara ii + mai ek, twice; the marks must
     * stay with their consonant. */
    t = text("ที่นี่", 12);
    assert_string_equal(t, "ที่…");
    free(t);
    t = text("ที่นี่", 11);
    assert_string_equal(t, "…");
    free(t);
    t = text("ที่นี่", 18);
    assert_string_equal(t, "ที่นี่");
    free(t);
    /* Thai words are separated by spaces only between phrases. */
    t = text("ประเทศไทย สวัสดีครับ", 33);
    assert_string_equal(t, "ประเทศไทย…");
    free(t);

    /* Emoji with a skin-tone modifier stays whole. */
    t = text("👍🏽👍🏽👍🏽", 20); /* 8 bytes each */
    assert_string_equal(t, "👍🏽👍🏽…");
    free(t);
    t = text("👍🏽👍🏽👍🏽", 16);
    assert_string_equal(t, "👍🏽…");
    free(t);
}

/* The cut is a prefix of the text, valid UTF-8, within max, and never leaves
 * a combining mark behind, for every max. */
static void check_cuts(const char *z)
{
    size_t n = strlen(z);
    for (size_t max = 1; max <= n + 2; max++) {
        char *t = core_markdown_truncate(z, n, max);
        size_t tl = strlen(t);
        if (tl > max) fail_msg("'%s' cut to %zu is %zu bytes", z, max, tl);
        assert_true(kw_utf8_valid(t, tl));
        if (n <= max) {
            assert_string_equal(t, z);
        } else {
            size_t keep = tl;
            if (tl >= 3 && memcmp(t + tl - 3, "…", 3) == 0)
                keep = tl - 3;
            else
                assert_true(max < 4);
            assert_memory_equal(t, z, keep);
            /* The next character of the original is not a Thai mark. */
            const unsigned char *next = (const unsigned char *)z + keep;
            if (next[0] == 0xE0 && next[1] == 0xB8) {
                unsigned cp = 0x0E00 | (next[2] & 0x3F);
                assert_false(cp == 0x0E31 || (cp >= 0x0E33 && cp <= 0x0E3A));
            }
            if (next[0] == 0xE0 && next[1] == 0xB9) {
                unsigned cp = 0x0E40 | (next[2] & 0x3F);
                assert_false(cp >= 0x0E47 && cp <= 0x0E4E);
            }
        }
        free(t);
    }
}

static void test_truncate_properties(void **state)
{
    check_cuts("ข่าวประชาสัมพันธ์ล่าสุดวันนี้ ที่นี่ และ ที่นั่น");
    check_cuts("กำไรประจำปี น้ำมันดิบ"); /* SARA AM */
    check_cuts("本日の最新ニュース。プレスリリースを配信します。");
    check_cuts("Berita terkini hari ini dari kawat");
    check_cuts("Tin tức mới nhất hôm nay");
    check_cuts("أخبار اليوم الأخيرة");
    check_cuts("오늘의 최신 뉴스");
    check_cuts("a👨‍👩‍👧b");
    check_cuts("");
}

/* cmark-gfm edits a global table during each parse; without the module's
 * parse lock, concurrent renders lose strikethrough and autolinks. */
static void *render_thread(void *arg)
{
    for (int i = 0; i < 50; i++) {
        char *h = html("| a |\n|---|\n| b |\n\n~~x~~ www.example.com");
        int ok = contains(h, "<table>") && contains(h, "<del>") && contains(h, "<a href");
        free(h);
        if (!ok) return (void *)1;
    }
    return NULL;
}

static void test_threads(void **state)
{
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, render_thread, NULL), 0);
    for (int i = 0; i < 4; i++) {
        void *rv;
        pthread_join(th[i], &rv);
        assert_null(rv);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads), /* first: races the one-time registration */
        cmocka_unit_test(test_html_basics),
        cmocka_unit_test(test_html_blocks),
        cmocka_unit_test(test_html_no_raw_html),
        cmocka_unit_test(test_html_dangerous_urls),
        cmocka_unit_test(test_html_escaping),
        cmocka_unit_test(test_text_plain),
        cmocka_unit_test(test_text_cut_ascii),
        cmocka_unit_test(test_text_cut_multibyte),
        cmocka_unit_test(test_truncate_properties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
