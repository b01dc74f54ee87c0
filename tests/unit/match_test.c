/* match_test.c -- unit tests for the matcher: filter parsing and its
 * errors, the tokenizer in several scripts, one filter against one release,
 * and the index against a brute-force loop over match_filter_matches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/core_release.h"
#include "core/core_sector.h"
#include "match/match.h"

/* ---- helpers ---- */

static const char *resolve_seed(void *ctx, const char *name_or_slug)
{
    (void)ctx;
    const core_sector_t *s = core_sector_find((kw_str_t){name_or_slug, strlen(name_or_slug)});
    return s ? s->slug : NULL;
}

/* A filter from JSON text; fails the test if it does not parse. */
static void filter_from(match_filter_t *f, const char *json)
{
    json_error_t jerr;
    json_t *in = json_loads(json, 0, &jerr);
    if (in == NULL) fail_msg("bad test JSON: %s", jerr.text);
    core_errors_t errs = {0};
    match_filter_init(f);
    int rc = match_filter_parse_json(f, in, "filter", resolve_seed, NULL, &errs);
    if (rc != KW_OK)
        fail_msg("%s: %s: %s", json, errs.count ? errs.items[0].field : "?",
                 errs.count ? errs.items[0].detail : "?");
    json_decref(in);
}

typedef struct {
    const char *language, *headline, *subheadline, *body;
    const char *sectors[4], *regions[4];
    const char *issuer_id, *issuer_slug;
} doc_spec_t;

static match_doc_t *doc_from(const doc_spec_t *s)
{
    core_release_t r;
    core_release_init(&r);
    snprintf(r.language, sizeof(r.language), "%s", s->language ? s->language : "en");
    r.headline = kw_strdup(s->headline ? s->headline : "");
    r.subheadline = s->subheadline ? kw_strdup(s->subheadline) : NULL;
    r.body = kw_strdup(s->body ? s->body : "");
    for (int i = 0; i < 4 && s->sectors[i]; i++)
        json_array_append_new(r.sectors, json_string(s->sectors[i]));
    for (int i = 0; i < 4 && s->regions[i]; i++)
        json_array_append_new(r.regions, json_string(s->regions[i]));
    snprintf(r.issuer_id, sizeof(r.issuer_id), "%s", s->issuer_id ? s->issuer_id : "");
    r.issuer_slug = s->issuer_slug ? kw_strdup(s->issuer_slug) : NULL;
    match_doc_t *d = match_doc_new(&r);
    assert_non_null(d);
    core_release_clear(&r);
    return d;
}

/* Whether the filter in json matches a release with this text. */
static int kw_matches(const char *filter_json, const char *lang, const char *headline,
                      const char *body)
{
    match_filter_t f;
    filter_from(&f, filter_json);
    doc_spec_t s = {.language = lang, .headline = headline, .body = body};
    match_doc_t *d = doc_from(&s);
    int m = match_filter_matches(&f, d);

    /* The index must say the same. */
    match_index_t *ix = match_index_new();
    assert_int_equal(match_index_set(ix, 7, &f, 1), KW_OK);
    uint32_t *out = NULL;
    size_t cap = 0;
    size_t n = match_index_match(ix, d, &out, &cap);
    assert_int_equal(n, (size_t)m);
    if (n) assert_int_equal(out[0], 7);
    free(out);
    match_index_free(ix);

    match_doc_free(d);
    match_filter_clear(&f);
    return m;
}

static void assert_normalized(const char *in, const char *want)
{
    char *got = match_keyword_normalize(in, strlen(in));
    if (want == NULL) {
        assert_null(got);
        return;
    }
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

/* ---- the tokenizer and keywords ---- */

static void test_normalize(void **state)
{
    (void)state;
    assert_normalized("  Electric  Vehicles! ", "electric vehicles");
    assert_normalized("ＴＯＹＯＴＡ", "toyota"); /* full-width Latin (NFKC) */
    assert_normalized("Straße", "strasse");      /* ß folds to ss */
    assert_normalized("STRASSE", "strasse");
    assert_normalized("ﬁnance", "finance");            /* ligature (NFKC) */
    assert_normalized("elec\xc2\xadtric", "electric"); /* soft hyphen is ignorable */
    assert_normalized("co-operate", "co operate");
    assert_normalized("don't", "don't");
    assert_normalized("!!! ... ---", NULL);
    assert_normalized("", NULL);
    assert_normalized("電気自動車", "電気 自動車"); /* ICU's dictionary splits it */
    /* One character that NFKC makes 18 (four Arabic words). */
    assert_normalized("\xef\xb7\xba", "صلى الله عليه وسلم");
    /* Invalid UTF-8 does not crash; it becomes U+FFFD, which is no word. */
    assert_normalized("a\xff"
                      "b",
                      "a b");
}

static void test_keywords_english(void **state)
{
    (void)state;
    const char *f = "{\"keywords\": [\"car\"]}";
    assert_true(kw_matches(f, "en", "A new car for Jakarta", ""));
    assert_true(kw_matches(f, "en", "", "They unveiled the CAR. It is red."));
    assert_true(kw_matches(f, "en", "Car-sharing grows", ""));
    assert_false(kw_matches(f, "en", "Carbon capture plant opens", "Cars and carts"));
    assert_false(kw_matches(f, "en", "", "scar tissue"));
    /* Case-insensitive on the filter side too. */
    assert_true(kw_matches("{\"keywords\": [\"JAKARTA\"]}", "en", "jakarta office", ""));
}

static void test_keywords_thai(void **state)
{
    (void)state;
    /* "The Ministry of Public Health opens a new hospital in Bangkok today",
     * no spaces between words. */
    const char *text = "กระทรวงสาธารณสุขเปิดโรงพยาบาลใหม่ในกรุงเทพฯวันนี้";
    assert_true(kw_matches("{\"keywords\": [\"โรงพยาบาล\"]}", "th", text, ""));
    assert_true(kw_matches("{\"keywords\": [\"สาธารณสุข\"]}", "th", "", text));
    /* "hospital" is not in "the ministry opens a new school today". */
    assert_false(
        kw_matches("{\"keywords\": [\"โรงพยาบาล\"]}", "th", "กระทรวงเปิดโรงเรียนใหม่วันนี้", ""));
}

static void test_keywords_japanese_chinese(void **state)
{
    (void)state;
    const char *ja = "東京都は新しい電気自動車の工場を発表しました。";
    assert_true(kw_matches("{\"keywords\": [\"電気自動車\"]}", "ja", ja, ""));
    assert_true(kw_matches("{\"keywords\": [\"工場\"]}", "ja", ja, ""));
    assert_false(kw_matches("{\"keywords\": [\"銀行\"]}", "ja", ja, ""));
    /* A word is not a substring: 自動 is part of 自動車. */
    assert_false(kw_matches("{\"keywords\": [\"自動\"]}", "ja", ja, ""));

    const char *zh = "北京大学今天发布了新的人工智能研究报告";
    assert_true(kw_matches("{\"keywords\": [\"人工智能\"]}", "zh-Hans", zh, ""));
    assert_true(kw_matches("{\"keywords\": [\"北京\"]}", "zh-Hans", zh, ""));
    assert_false(kw_matches("{\"keywords\": [\"上海\"]}", "zh-Hans", zh, ""));
}

static void test_keywords_german_fullwidth(void **state)
{
    (void)state;
    assert_true(kw_matches("{\"keywords\": [\"Straße\"]}", "de", "", "DIE STRASSE IST GESPERRT"));
    assert_true(kw_matches("{\"keywords\": [\"STRASSE\"]}", "de", "Neue Straße in Berlin", ""));
    assert_false(kw_matches("{\"keywords\": [\"Straße\"]}", "de", "Straßenbahn fährt", ""));
    assert_true(kw_matches("{\"keywords\": [\"toyota\"]}", "ja", "ＴＯＹＯＴＡが新型車を発表", ""));
    assert_true(kw_matches("{\"keywords\": [\"ＴＯＹＯＴＡ\"]}", "en", "Toyota opens a plant", ""));
}

static void test_keywords_phrases(void **state)
{
    (void)state;
    const char *f = "{\"keywords\": [\"electric vehicle\"]}";
    assert_true(kw_matches(f, "en", "Electric vehicle sales double", ""));
    assert_true(kw_matches(f, "en", "", "A new ELECTRIC-VEHICLE plant."));
    assert_false(kw_matches(f, "en", "Electric blue vehicle", ""));
    assert_false(kw_matches(f, "en", "Vehicle electric", ""));
    /* Never across two fields: headline ends, body begins. */
    assert_false(kw_matches(f, "en", "Going electric", "Vehicle makers agree"));
    /* Thai, where the keyword itself splits into two words. */
    assert_true(kw_matches("{\"keywords\": [\"โรงพยาบาลจุฬาลงกรณ์\"]}", "th",
                           "ผู้ป่วยเข้ารับการรักษาที่โรงพยาบาลจุฬาลงกรณ์", ""));
    /* keywords_all: every one, anywhere. */
    const char *all = "{\"keywords_all\": [\"nickel\", \"battery\"]}";
    assert_true(kw_matches(all, "en", "Nickel smelter", "for battery makers"));
    assert_false(kw_matches(all, "en", "Nickel smelter", "for steel makers"));
}

/* ---- one filter, one release ---- */

static void test_filter_semantics(void **state)
{
    (void)state;
    doc_spec_t s = {.language = "id",
                    .headline = "Gayo coffee exports",
                    .body = "Arabica from Aceh reaches Rotterdam.",
                    .sectors = {"business", "energy"},
                    .regions = {"ID", "NL"},
                    .issuer_id = "iss123",
                    .issuer_slug = "gayo-lestari"};
    match_doc_t *d = doc_from(&s);
    struct {
        const char *json;
        int want;
    } cases[] = {
        {"{}", 1},
        {"{\"languages\": [\"en\", \"id\"]}", 1},
        {"{\"languages\": [\"en\", \"ms\"]}", 0},
        {"{\"sectors\": [\"Health\", \"Energy\"]}", 1},
        {"{\"sectors\": [\"health\"]}", 0},
        {"{\"regions\": [\"nl\"]}", 1},
        {"{\"regions\": [\"MY\", \"SG\"]}", 0},
        {"{\"issuers\": [\"iss123\"]}", 1},
        {"{\"issuers\": [\"gayo-lestari\"]}", 1},
        {"{\"issuers\": [\"someone-else\"]}", 0},
        {"{\"languages\": [\"id\"], \"sectors\": [\"business\"], \"regions\": [\"ID\"]}", 1},
        {"{\"languages\": [\"id\"], \"sectors\": [\"business\"], \"regions\": [\"MY\"]}", 0},
        {"{\"languages\": [\"id\"], \"keywords\": [\"coffee\", \"tea\"]}", 1},
        {"{\"languages\": [\"id\"], \"keywords\": [\"tea\", \"cocoa\"]}", 0},
        {"{\"keywords_all\": [\"coffee\", \"rotterdam\"]}", 1},
        {"{\"keywords_all\": [\"coffee\", \"hamburg\"]}", 0},
        {"{\"keywords\": [\"tea\"], \"keywords_all\": [\"coffee\"]}", 0},
        {"{\"keywords\": [\"arabica\"], \"keywords_all\": [\"coffee\"], \"issuers\": [\"iss123\"]}",
         1},
        {"{\"languages\": [], \"sectors\": []}", 1},
    };
    for (size_t i = 0; i < KW_ARRAY_SIZE(cases); i++) {
        match_filter_t f;
        filter_from(&f, cases[i].json);
        if (match_filter_matches(&f, d) != cases[i].want)
            fail_msg("%s: expected %d", cases[i].json, cases[i].want);
        match_filter_clear(&f);
    }
    match_doc_free(d);
}

/* ---- parsing ---- */

static void expect_error(const char *json, const char *field, const char *detail_part)
{
    json_t *in = json_loads(json, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    assert_non_null(in);
    match_filter_t f;
    match_filter_init(&f);
    core_errors_t errs = {0};
    assert_int_equal(match_filter_parse_json(&f, in, "filters[0]", resolve_seed, NULL, &errs),
                     KW_INVALID);
    int found = 0;
    for (size_t i = 0; i < errs.count; i++)
        if (strcmp(errs.items[i].field, field) == 0 &&
            (detail_part == NULL || strstr(errs.items[i].detail, detail_part)))
            found = 1;
    if (!found)
        fail_msg("%s: no error for %s (first: %s: %s)", json, field,
                 errs.count ? errs.items[0].field : "-", errs.count ? errs.items[0].detail : "-");
    /* f is left empty */
    assert_null(f.languages);
    assert_null(f.keywords_any);
    json_decref(in);
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_error("{\"sectors\": [\"business\", \"energy\", \"basket-weaving\"]}",
                 "filters[0].sectors[2]", "unknown sector");
    expect_error("{\"colour\": [\"red\"]}", "filters[0].colour", "unknown field");
    expect_error("{\"languages\": \"en\"}", "filters[0].languages", "array");
    expect_error("{\"languages\": [\"en\", \"xx-Nope\"]}", "filters[0].languages[1]",
                 "unknown language");
    expect_error("{\"regions\": [\"ID\", 5]}", "filters[0].regions[1]", "string");
    expect_error("{\"regions\": [\"XX\"]}", "filters[0].regions[0]", "ISO 3166-1");
    expect_error("{\"issuers\": [\"\"]}", "filters[0].issuers[0]", NULL);
    expect_error("{\"keywords\": [\"!!!\"]}", "filters[0].keywords[0]", "no words");
    expect_error("{\"keywords_all\": [\"a\\u0000b\"]}", "filters[0].keywords_all[0]", "NUL");
    expect_error("[1, 2]", "filters[0]", "object");

    char big[512];
    memset(big, 'k', 401);
    big[401] = '\0';
    char json[700];
    snprintf(json, sizeof(json), "{\"keywords\": [\"ok\", \"%s\"]}", big);
    expect_error(json, "filters[0].keywords[1]", "too long");

    /* 99 bytes that grow past the limit once normalized. */
    kw_buf_t b = {0};
    kw_buf_puts(&b, "{\"keywords\": [\"");
    for (int i = 0; i < 33; i++)
        kw_buf_puts(&b, "\xef\xb7\xba");
    kw_buf_puts(&b, "\"]}");
    expect_error(b.data, "filters[0].keywords[0]", "once normalized");
    kw_buf_reset(&b);
    /* Over the limit as sent, but not once normalized: accepted. */
    kw_buf_puts(&b, "{\"keywords\": [\"Nickel");
    for (int i = 0; i < 150; i++)
        kw_buf_putc(&b, '!');
    kw_buf_puts(&b, "\"]}");
    json_t *ok = json_loads(b.data, 0, NULL);
    match_filter_t okf;
    match_filter_init(&okf);
    core_errors_t ok_errs = {0};
    assert_int_equal(match_filter_parse_json(&okf, ok, "", resolve_seed, NULL, &ok_errs), KW_OK);
    assert_string_equal(json_string_value(json_array_get(okf.keywords_any, 0)), "nickel");
    match_filter_clear(&okf);
    json_decref(ok);
    /* Thai within the input limit, too long once it gains spaces between
     * its words. */
    kw_buf_reset(&b);
    kw_buf_puts(&b, "{\"keywords\": [\"");
    for (int i = 0; i < 3; i++)
        kw_buf_puts(&b, "โรงพยาบาลจุฬาลงกรณ์");
    kw_buf_puts(&b, "\"]}");
    expect_error(b.data, "filters[0].keywords[0]", "once normalized");
    kw_buf_reset(&b);
    memset(big, 'i', 101);
    big[101] = '\0';
    snprintf(json, sizeof(json), "{\"issuers\": [\"%s\"]}", big);
    expect_error(json, "filters[0].issuers[0]", "issuer id or slug");

    kw_buf_puts(&b, "{\"keywords_all\": [");
    for (int i = 0; i <= MATCH_KEYWORDS_ALL_MAX; i++)
        kw_buf_printf(&b, "%s\"w%d\"", i ? "," : "", i);
    kw_buf_puts(&b, "]}");
    expect_error(b.data, "filters[0].keywords_all", "at most 16");
    kw_buf_free(&b);

    /* Several errors at once, each named. */
    json_t *in = json_loads("{\"languages\": [\"zz\"], \"regions\": [\"QQ\"], \"x\": 1}", 0, NULL);
    match_filter_t f;
    match_filter_init(&f);
    core_errors_t errs = {0};
    assert_int_equal(match_filter_parse_json(&f, in, "", resolve_seed, NULL, &errs), KW_INVALID);
    assert_int_equal(errs.count, 3);
    assert_string_equal(errs.items[0].field, "languages[0]");
    assert_string_equal(errs.items[1].field, "regions[0]");
    assert_string_equal(errs.items[2].field, "x");
    json_decref(in);
}

static void test_parse_canonical_and_json(void **state)
{
    (void)state;
    match_filter_t f;
    filter_from(&f, "{\"languages\": [\"ZH-hans\", \"en\", \"EN\"], \"sectors\": [\"Top Story\"],"
                    " \"regions\": [\"id\", \"ID\"], \"issuers\": [\"gayo-lestari\"],"
                    " \"keywords\": [\"  Electric Vehicles \", \"electric vehicles\"],"
                    " \"keywords_all\": [\"Straße\"]}");
    json_t *j = match_filter_to_json(&f);
    char *z = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(z, "{\"issuers\":[\"gayo-lestari\"],\"keywords\":[\"electric vehicles\"],"
                           "\"keywords_all\":[\"strasse\"],\"languages\":[\"zh-Hans\",\"en\"],"
                           "\"regions\":[\"ID\"],\"sectors\":[\"top-story\"]}");
    /* What to_json writes parses back to the same filter. */
    match_filter_t g;
    match_filter_init(&g);
    core_errors_t errs = {0};
    assert_int_equal(match_filter_parse_json(&g, j, "", resolve_seed, NULL, &errs), KW_OK);
    json_t *j2 = match_filter_to_json(&g);
    assert_true(json_equal(j, j2));
    /* A copy is independent of its source. */
    match_filter_t c;
    match_filter_copy(&c, &g);
    match_filter_clear(&g);
    json_t *j3 = match_filter_to_json(&c);
    assert_true(json_equal(j, j3));
    free(z);
    json_decref(j);
    json_decref(j2);
    json_decref(j3);
    match_filter_clear(&c);
    match_filter_clear(&f);

    /* An empty filter is {}. */
    match_filter_init(&f);
    j = match_filter_to_json(&f);
    assert_int_equal(json_object_size(j), 0);
    json_decref(j);
}

static void test_parse_params(void **state)
{
    (void)state;
    const char *names[] = {"language", "sector",   "keyword", "after",
                           "region",   "language", "issuer",  "keyword"};
    const char *values[] = {"en", "Business", "Electric Vehicle", "17", "my",
                            "id", "acme",     "ＴＯＹＯＴＡ"};
    match_filter_t f;
    match_filter_init(&f);
    core_errors_t errs = {0};
    assert_int_equal(match_filter_parse_params(&f, names, values, KW_ARRAY_SIZE(names),
                                               resolve_seed, NULL, &errs),
                     KW_OK);
    json_t *j = match_filter_to_json(&f);
    char *z = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(z, "{\"issuers\":[\"acme\"],\"keywords\":[\"electric vehicle\",\"toyota\"],"
                           "\"languages\":[\"en\",\"id\"],\"regions\":[\"MY\"],"
                           "\"sectors\":[\"business\"]}");
    free(z);
    json_decref(j);
    match_filter_clear(&f);

    const char *bad_names[] = {"language", "sector", "keyword"};
    const char *bad_values[] = {"en", "nonsense", ""};
    memset(&errs, 0, sizeof(errs));
    assert_int_equal(
        match_filter_parse_params(&f, bad_names, bad_values, 3, resolve_seed, NULL, &errs),
        KW_INVALID);
    assert_int_equal(errs.count, 2);
    assert_string_equal(errs.items[0].field, "sector");
    assert_string_equal(errs.items[1].field, "keyword");
    assert_null(f.languages);

    /* Too many values of one name: one error. */
    const char *many_names[60], *many_values[60];
    for (int i = 0; i < 60; i++) {
        many_names[i] = "region";
        many_values[i] = "ID";
    }
    memset(&errs, 0, sizeof(errs));
    assert_int_equal(
        match_filter_parse_params(&f, many_names, many_values, 60, resolve_seed, NULL, &errs),
        KW_INVALID);
    assert_int_equal(errs.count, 1);
    assert_string_equal(errs.items[0].field, "region");
}

/* ---- the index ---- */

static size_t index_match(match_index_t *ix, const match_doc_t *d, uint32_t **out, size_t *cap)
{
    return match_index_match(ix, d, out, cap);
}

static void test_index_basics(void **state)
{
    (void)state;
    match_index_t *ix = match_index_new();
    match_filter_t f[3];
    filter_from(&f[0], "{\"languages\": [\"en\"], \"sectors\": [\"energy\"]}");
    filter_from(&f[1], "{\"keywords\": [\"nickel\"]}");
    filter_from(&f[2], "{\"issuers\": [\"acme\"]}");
    /* Subscription 5: two filters, both matching: listed once. */
    assert_int_equal(match_index_set(ix, 5, f, 2), KW_OK);
    assert_int_equal(match_index_set(ix, 2, &f[2], 1), KW_OK);
    match_filter_t all;
    match_filter_init(&all);
    assert_int_equal(match_index_set(ix, 9, &all, 1), KW_OK);

    doc_spec_t s = {.language = "en",
                    .headline = "Nickel prices",
                    .sectors = {"energy"},
                    .issuer_slug = "acme"};
    match_doc_t *d = doc_from(&s);
    uint32_t *out = NULL;
    size_t cap = 0;
    size_t n = index_match(ix, d, &out, &cap);
    assert_int_equal(n, 3);
    assert_int_equal(out[0], 2);
    assert_int_equal(out[1], 5);
    assert_int_equal(out[2], 9);

    match_stats_t st;
    match_index_stats(ix, &st);
    assert_int_equal(st.subscriptions, 3);
    assert_int_equal(st.filters, 4);
    assert_true(st.bytes > 0);

    /* Update: 5 now wants only Thai; remove 2. */
    match_filter_t th;
    filter_from(&th, "{\"languages\": [\"th\"]}");
    assert_int_equal(match_index_set(ix, 5, &th, 1), KW_OK);
    match_index_remove(ix, 2);
    match_index_remove(ix, 2);    /* twice is harmless */
    match_index_remove(ix, 1000); /* never set */
    n = index_match(ix, d, &out, &cap);
    assert_int_equal(n, 1);
    assert_int_equal(out[0], 9);
    match_index_stats(ix, &st);
    assert_int_equal(st.subscriptions, 2);
    assert_int_equal(st.filters, 2);

    /* n = 0 removes; bad input changes nothing. */
    assert_int_equal(match_index_set(ix, 9, NULL, 0), KW_OK);
    assert_int_equal(match_index_set(ix, MATCH_INDEX_ID_MAX + 1u, &th, 1), KW_INVALID);
    match_filter_t bad;
    match_filter_init(&bad);
    bad.languages = json_pack("[i]", 1);
    assert_int_equal(match_index_set(ix, 5, &bad, 1), KW_INVALID);
    match_filter_clear(&bad);
    n = index_match(ix, d, &out, &cap);
    assert_int_equal(n, 0);
    match_index_stats(ix, &st);
    assert_int_equal(st.subscriptions, 1);

    free(out);
    match_doc_free(d);
    for (int i = 0; i < 3; i++)
        match_filter_clear(&f[i]);
    match_filter_clear(&th);
    match_index_free(ix);
}

/* Values of any length (a managed sector's slug may be long) are compared
 * whole. */
static void test_index_long_values(void **state)
{
    (void)state;
    char a[201], b[201];
    memset(a, 'x', 200);
    a[200] = '\0';
    memcpy(b, a, sizeof(b));
    b[199] = 'y';
    match_filter_t f;
    match_filter_init(&f);
    f.sectors = json_pack("[s]", a);
    match_index_t *ix = match_index_new();
    assert_int_equal(match_index_set(ix, 1, &f, 1), KW_OK);
    uint32_t *out = NULL;
    size_t cap = 0;
    for (int i = 0; i < 2; i++) {
        doc_spec_t s = {.language = "en", .headline = "h", .sectors = {i ? b : a}};
        match_doc_t *d = doc_from(&s);
        assert_int_equal(match_filter_matches(&f, d), !i);
        assert_int_equal(match_index_match(ix, d, &out, &cap), (size_t)!i);
        match_doc_free(d);
    }
    free(out);
    match_index_free(ix);
    match_filter_clear(&f);
}

/* ---- randomized: the index against brute force ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

static const char *const r_langs[] = {"en", "id", "ms", "th", "ja", "de"};
static const char *const r_sectors[] = {"business", "energy", "health", "technology",
                                        "finance",  "sports", "travel"};
static const char *const r_regions[] = {"ID", "MY", "SG", "TH", "JP", "DE", "US", "NL", "VN"};
static const char *const r_issuers[][2] = {
    {"i1", "alpha"}, {"i2", "beta"}, {"i3", "gamma"}, {"i4", "delta"}, {"i5", "eps"}};
static const char *const r_words[] = {
    "nickel",       "battery", "coffee", "port",      "bank",       "rice",
    "solar",        "grid",    "chip",   "fab",       "hotel",      "airline",
    "vaccine",      "clinic",  "bond",   "yield",     "merger",     "steel",
    "palm",         "oil",     "Straße", "โรงพยาบาล", "電気自動車", "人工智能",
    "ＴＯＹＯＴＡ", "car",     "carbon", "electric",  "vehicle",    "plant"};
static const char *const r_phrases[] = {"electric vehicle", "palm oil",  "solar plant",
                                        "nickel battery",   "car plant", "Electric Vehicle plant"};

static void json_add_strings(kw_buf_t *b, const char *key, const char *const *pool, size_t pool_n,
                             uint32_t n, int *first)
{
    if (n == 0) return;
    kw_buf_printf(b, "%s\"%s\": [", *first ? "" : ", ", key);
    for (uint32_t i = 0; i < n; i++)
        kw_buf_printf(b, "%s\"%s\"", i ? ", " : "", pool[rnd((uint32_t)pool_n)]);
    kw_buf_puts(b, "]");
    *first = 0;
}

static void random_filter(match_filter_t *f)
{
    kw_buf_t b = {0};
    int first = 1;
    kw_buf_puts(&b, "{");
    if (rnd(100) < 60)
        json_add_strings(&b, "languages", r_langs, KW_ARRAY_SIZE(r_langs), 1 + rnd(3), &first);
    if (rnd(100) < 50)
        json_add_strings(&b, "sectors", r_sectors, KW_ARRAY_SIZE(r_sectors), 1 + rnd(3), &first);
    if (rnd(100) < 40)
        json_add_strings(&b, "regions", r_regions, KW_ARRAY_SIZE(r_regions), 1 + rnd(3), &first);
    if (rnd(100) < 10) {
        const char *pool[10];
        for (int i = 0; i < 5; i++)
            pool[2 * i] = r_issuers[i][0], pool[2 * i + 1] = r_issuers[i][1];
        json_add_strings(&b, "issuers", pool, 10, 1 + rnd(2), &first);
    }
    if (rnd(100) < 45) {
        uint32_t n = 1 + rnd(4);
        if (rnd(4) == 0)
            json_add_strings(&b, "keywords", r_phrases, KW_ARRAY_SIZE(r_phrases), n, &first);
        else
            json_add_strings(&b, "keywords", r_words, KW_ARRAY_SIZE(r_words), n, &first);
    }
    if (rnd(100) < 15) {
        uint32_t n = 1 + rnd(2);
        if (rnd(3) == 0)
            json_add_strings(&b, "keywords_all", r_phrases, KW_ARRAY_SIZE(r_phrases), n, &first);
        else
            json_add_strings(&b, "keywords_all", r_words, KW_ARRAY_SIZE(r_words), n, &first);
    }
    kw_buf_puts(&b, "}");
    filter_from(f, b.data);
    kw_buf_free(&b);
}

static char *random_text(uint32_t words)
{
    static const char *const noise[] = {"the", "of", "and", "new", "today", "Jakarta", "said"};
    static const char *const seps[] = {" ", " ", " ", ", ", ". ", "-", "\n\n", " (", ") "};
    kw_buf_t b = {0};
    for (uint32_t i = 0; i < words; i++) {
        const char *w;
        uint32_t k = rnd(10);
        if (k < 5)
            w = r_words[rnd(KW_ARRAY_SIZE(r_words))];
        else if (k < 7)
            w = r_phrases[rnd(KW_ARRAY_SIZE(r_phrases))];
        else
            w = noise[rnd(KW_ARRAY_SIZE(noise))];
        if (i) kw_buf_puts(&b, seps[rnd(KW_ARRAY_SIZE(seps))]);
        if (rnd(5) == 0) {
            /* upper-case it (ASCII) */
            for (const char *p = w; *p; p++)
                kw_buf_putc(&b, (*p >= 'a' && *p <= 'z') ? (char)(*p - 32) : *p);
        } else {
            kw_buf_puts(&b, w);
        }
    }
    return kw_buf_steal(&b, NULL);
}

static match_doc_t *random_doc(void)
{
    doc_spec_t s = {0};
    s.language = r_langs[rnd(KW_ARRAY_SIZE(r_langs))];
    for (uint32_t i = 0, n = rnd(4); i < n; i++)
        s.sectors[i] = r_sectors[rnd(KW_ARRAY_SIZE(r_sectors))];
    for (uint32_t i = 0, n = rnd(4); i < n; i++)
        s.regions[i] = r_regions[rnd(KW_ARRAY_SIZE(r_regions))];
    uint32_t iss = rnd(6);
    if (iss < 5) {
        s.issuer_id = r_issuers[iss][0];
        s.issuer_slug = r_issuers[iss][1];
    }
    char *h = random_text(2 + rnd(5)), *sub = rnd(2) ? random_text(3) : NULL,
         *body = random_text(rnd(25));
    s.headline = h;
    s.subheadline = sub;
    s.body = body;
    match_doc_t *d = doc_from(&s);
    free(h);
    free(sub);
    free(body);
    return d;
}

typedef struct {
    match_filter_t f[3];
    size_t n; /* 0: not set */
} sub_t;

static void sub_clear(sub_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        match_filter_clear(&s->f[i]);
    s->n = 0;
}

/* Matches random releases with the index and with match_filter_matches
 * over every subscription; the answers must be identical. Returns the
 * number of matches seen. */
typedef match_doc_t *(*doc_fn)(void);

static size_t compare_docs(match_index_t *ix, const sub_t *subs, size_t nsubs, int ndocs,
                           doc_fn make_doc)
{
    size_t total = 0;
    uint32_t *out = NULL, *want = kw_malloc(nsubs * sizeof(*want) + 4);
    size_t cap = 0;
    for (int k = 0; k < ndocs; k++) {
        match_doc_t *d = make_doc();
        size_t nw = 0;
        for (size_t i = 0; i < nsubs; i++)
            for (size_t j = 0; j < subs[i].n; j++)
                if (match_filter_matches(&subs[i].f[j], d)) {
                    want[nw++] = (uint32_t)i;
                    break;
                }
        size_t n = match_index_match(ix, d, &out, &cap);
        if (n != nw) fail_msg("doc %d: index found %zu, brute force %zu", k, n, nw);
        total += n;
        for (size_t i = 0; i < n; i++)
            if (out[i] != want[i])
                fail_msg("doc %d: result %zu is %u, want %u", k, i, out[i], want[i]);
        match_doc_free(d);
    }
    free(out);
    free(want);
    return total;
}

static size_t compare_with_brute_force(match_index_t *ix, const sub_t *subs, size_t nsubs,
                                       int ndocs)
{
    return compare_docs(ix, subs, nsubs, ndocs, random_doc);
}

static void set_random(match_index_t *ix, sub_t *s, uint32_t id)
{
    sub_clear(s);
    s->n = 1 + rnd(3) / 2 + (rnd(10) == 0);
    for (size_t j = 0; j < s->n; j++)
        random_filter(&s->f[j]);
    assert_int_equal(match_index_set(ix, id, s->f, s->n), KW_OK);
}

static void test_index_random(void **state)
{
    (void)state;
    enum { NSUBS = 3000 };
    sub_t *subs = kw_calloc(NSUBS, sizeof(*subs));
    match_index_t *ix = match_index_new();
    for (uint32_t i = 0; i < NSUBS; i++)
        if (rnd(10)) set_random(ix, &subs[i], i); /* some ids stay unused */
    /* The random filters and releases are meant to match sometimes, not
     * always and not never. */
    size_t seen = compare_with_brute_force(ix, subs, NSUBS, 300);
    assert_true(seen > 300 * NSUBS / 200 && seen < 300 * NSUBS / 2);

    /* Churn: replace, remove, re-add; the answers must stay identical. */
    for (int round = 0; round < 4; round++) {
        for (int k = 0; k < 1500; k++) {
            uint32_t id = rnd(NSUBS);
            if (rnd(4) == 0) {
                match_index_remove(ix, id);
                sub_clear(&subs[id]);
            } else {
                set_random(ix, &subs[id], id);
            }
        }
        compare_with_brute_force(ix, subs, NSUBS, 100);
    }
    match_stats_t st;
    match_index_stats(ix, &st);
    size_t live = 0, filters = 0;
    for (uint32_t i = 0; i < NSUBS; i++) {
        live += subs[i].n > 0;
        filters += subs[i].n;
    }
    assert_int_equal(st.subscriptions, live);
    assert_int_equal(st.filters, filters);

    /* Remove everything: nothing matches, and the dictionaries empty out
     * (ASan's leak check sees the rest). */
    for (uint32_t i = 0; i < NSUBS; i++) {
        match_index_remove(ix, i);
        sub_clear(&subs[i]);
    }
    compare_with_brute_force(ix, subs, NSUBS, 5);
    match_index_free(ix);
    free(subs);
}

/* Records too big for the exact-size free lists are reclaimed by
 * compacting the arena; filters handed to the index with repeated values
 * hold each once. */
static void test_index_compaction_and_repeats(void **state)
{
    (void)state;
    enum { NSUBS = 300 };
    sub_t *subs = kw_calloc(NSUBS, sizeof(*subs));
    match_index_t *ix = match_index_new();
    for (int round = 0; round < 30; round++) {
        for (uint32_t i = 0; i < NSUBS; i++) {
            kw_buf_t b = {0};
            kw_buf_printf(&b, "{\"languages\": [\"%s\"], \"keywords\": [",
                          r_langs[rnd(KW_ARRAY_SIZE(r_langs))]);
            int first = 1;
            for (size_t w = 0; w < KW_ARRAY_SIZE(r_words); w++)
                if (rnd(10) < 8) {
                    kw_buf_printf(&b, "%s\"%s\"", first ? "" : ", ", r_words[w]);
                    first = 0;
                }
            for (size_t w = 0; w < KW_ARRAY_SIZE(r_phrases); w++)
                kw_buf_printf(&b, "%s\"%s\"", first ? "" : ", ", r_phrases[w]), first = 0;
            kw_buf_puts(&b, "]}");
            sub_clear(&subs[i]);
            subs[i].n = 1;
            filter_from(&subs[i].f[0], b.data);
            kw_buf_free(&b);
            assert_int_equal(match_index_set(ix, i, subs[i].f, 1), KW_OK);
        }
        if (round % 10 == 9) compare_with_brute_force(ix, subs, NSUBS, 40);
    }

    /* Repeated values, as a caller might build a filter by hand. */
    match_filter_t rep;
    match_filter_init(&rep);
    rep.languages = json_pack("[s,s,s]", "en", "en", "id");
    rep.sectors = json_pack("[s,s]", "energy", "energy");
    rep.issuers = json_pack("[s,s]", "alpha", "alpha");
    rep.keywords_any = json_pack("[s,s,s]", "nickel", "nickel", "palm oil");
    rep.keywords_all = json_pack("[s,s]", "palm oil", "palm oil");
    match_filter_t rep2;
    match_filter_init(&rep2);
    rep2.regions = json_pack("[s,s]", "ID", "ID");
    rep2.keywords_any = json_pack("[s,s]", "coffee", "coffee");
    match_filter_t both[2] = {rep, rep2};
    assert_int_equal(match_index_set(ix, 0, both, 2), KW_OK);
    sub_clear(&subs[0]);
    subs[0].n = 2;
    match_filter_copy(&subs[0].f[0], &rep);
    match_filter_copy(&subs[0].f[1], &rep2);
    compare_with_brute_force(ix, subs, NSUBS, 40);
    match_filter_clear(&rep);
    match_filter_clear(&rep2);

    for (uint32_t i = 0; i < NSUBS; i++)
        sub_clear(&subs[i]);
    match_index_free(ix);
    free(subs);
}

/* More distinct keywords than the index has 14-bit codes for: the
 * keywords past them are matched through records ("cold"), and codes of
 * keywords no longer held are reused. */
enum { MANY_KEYWORDS = 20000 };

static match_doc_t *many_keywords_doc(void)
{
    kw_buf_t b = {0};
    for (int i = 0; i < 60; i++)
        kw_buf_printf(&b, "zq%u ", rnd(MANY_KEYWORDS + 100));
    doc_spec_t s = {.language = "en", .body = b.data, .sectors = {rnd(2) ? "energy" : "health"}};
    match_doc_t *d = doc_from(&s);
    kw_buf_free(&b);
    return d;
}

static void test_index_many_keywords(void **state)
{
    (void)state;
    sub_t *subs = kw_calloc(MANY_KEYWORDS, sizeof(*subs));
    match_index_t *ix = match_index_new();
    for (int round = 0; round < 2; round++) {
        for (uint32_t i = 0; i < MANY_KEYWORDS; i++) {
            char json[256];
            uint32_t k = round ? rnd(MANY_KEYWORDS) : i;
            switch (rnd(4)) {
            case 0:
                snprintf(json, sizeof(json),
                         "{\"sectors\": [\"energy\"], \"keywords\": [\"zq%u\"]}", k);
                break;
            case 1:
                snprintf(json, sizeof(json),
                         "{\"sectors\": [\"energy\"], \"keywords\": [\"zq%u\", \"zq%u\"]}", k,
                         rnd(MANY_KEYWORDS));
                break;
            case 2:
                snprintf(json, sizeof(json),
                         "{\"sectors\": [\"health\"], \"keywords_all\": [\"zq%u\", \"zq%u\"]}", k,
                         rnd(50));
                break;
            default:
                snprintf(json, sizeof(json),
                         "{\"regions\": [\"ID\"], \"keywords_all\": [\"zq%u\"], \"keywords\": "
                         "[\"zq%u\"]}",
                         k, rnd(50));
                break;
            }
            sub_clear(&subs[i]);
            subs[i].n = 1;
            filter_from(&subs[i].f[0], json);
            assert_int_equal(match_index_set(ix, i, subs[i].f, 1), KW_OK);
        }
        size_t seen = compare_docs(ix, subs, MANY_KEYWORDS, 40, many_keywords_doc);
        assert_true(seen > 0);
        /* Drop most, so their codes come free for the next round. */
        for (uint32_t i = 0; i < MANY_KEYWORDS; i++)
            if (rnd(4)) {
                match_index_remove(ix, i);
                sub_clear(&subs[i]);
            }
        compare_docs(ix, subs, MANY_KEYWORDS, 20, many_keywords_doc);
    }
    for (uint32_t i = 0; i < MANY_KEYWORDS; i++)
        sub_clear(&subs[i]);
    match_index_free(ix);
    free(subs);
}

/* Enough filters to fill more than one chunk of 65,536 slots, with values
 * dense enough to become bitmaps, then thinned out so they become arrays
 * again. */
static void test_index_large(void **state)
{
    (void)state;
    enum { NSUBS = 140000 };
    sub_t *subs = kw_calloc(NSUBS, sizeof(*subs));
    match_index_t *ix = match_index_new();
    match_filter_t proto[8];
    const char *protos[8] = {
        "{\"languages\": [\"en\"], \"sectors\": [\"energy\"]}",
        "{\"languages\": [\"en\", \"id\"], \"regions\": [\"ID\"]}",
        "{\"languages\": [\"id\"], \"sectors\": [\"business\", \"energy\"], \"keywords\": "
        "[\"nickel\"]}",
        "{\"sectors\": [\"health\"], \"keywords_all\": [\"clinic\", \"solar\"]}",
        "{\"languages\": [\"en\"], \"keywords\": [\"palm oil\", \"coffee\"]}",
        "{\"regions\": [\"MY\", \"SG\"]}",
        "{\"languages\": [\"th\"]}",
        "{\"issuers\": [\"alpha\"], \"languages\": [\"en\"]}",
    };
    for (int i = 0; i < 8; i++)
        filter_from(&proto[i], protos[i]);
    for (uint32_t i = 0; i < NSUBS; i++) {
        uint32_t k = rnd(16);
        k = k < 8 ? k : (k < 12 ? 0 : 1); /* en/energy and en-id/ID are dense */
        subs[i].n = 1;
        match_filter_copy(&subs[i].f[0], &proto[k]);
        assert_int_equal(match_index_set(ix, i, subs[i].f, 1), KW_OK);
    }
    compare_with_brute_force(ix, subs, NSUBS, 30);
    for (uint32_t i = 0; i < NSUBS; i++)
        if (rnd(10)) {
            match_index_remove(ix, i);
            sub_clear(&subs[i]);
        }
    compare_with_brute_force(ix, subs, NSUBS, 30);
    for (uint32_t i = 0; i < NSUBS; i++)
        sub_clear(&subs[i]);
    for (int i = 0; i < 8; i++)
        match_filter_clear(&proto[i]);
    match_index_free(ix);
    free(subs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_keywords_english),
        cmocka_unit_test(test_keywords_thai),
        cmocka_unit_test(test_keywords_japanese_chinese),
        cmocka_unit_test(test_keywords_german_fullwidth),
        cmocka_unit_test(test_keywords_phrases),
        cmocka_unit_test(test_filter_semantics),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_canonical_and_json),
        cmocka_unit_test(test_parse_params),
        cmocka_unit_test(test_index_basics),
        cmocka_unit_test(test_index_long_values),
        cmocka_unit_test(test_index_random),
        cmocka_unit_test(test_index_compaction_and_repeats),
        cmocka_unit_test(test_index_many_keywords),
        cmocka_unit_test(test_index_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
