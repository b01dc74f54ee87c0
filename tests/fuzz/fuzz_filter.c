/* fuzz_filter.c -- libFuzzer harness for the matcher's parsers: the input
 * is parsed as JSON into a filter (as the API does, duplicates refused),
 * and, whatever it is, as text by the keyword tokenizer.
 *
 * What must hold:
 *   - match_filter_parse_json returns KW_OK with no errors, or KW_INVALID
 *     with at least one, each named under the prefix, with a detail; an
 *     accepted filter is within the limits of match.h (keywords counted
 *     once normalized), its keywords are normalized (valid UTF-8, no
 *     leading, trailing or double spaces), and
 *     writing it with match_filter_to_json and parsing that again gives
 *     the same JSON;
 *   - match_keyword_normalize gives NULL or such a normalized keyword, and
 *     a release whose headline is the input (when it holds no NUL) has
 *     that keyword: by match_filter_matches and through an index;
 *   - an accepted filter matches that release the same way alone and
 *     through an index. */
#include "core/core.h"
#include "core/core_release.h"
#include "match/match.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *fuzz_resolve(void *ctx, const char *name_or_slug)
{
    static const char *const sectors[][2] = {
        {"Business", "business"},
        {"Technology", "technology"},
        {"Top Story", "top-story"},
        {"Energy", "energy"},
    };
    (void)ctx;
    for (size_t i = 0; i < sizeof(sectors) / sizeof(sectors[0]); i++)
        if (strcmp(name_or_slug, sectors[i][0]) == 0 || strcmp(name_or_slug, sectors[i][1]) == 0)
            return sectors[i][1];
    return NULL;
}

static void check_keyword(const char *kw)
{
    size_t n = strlen(kw);
    if (n == 0 || !kw_utf8_valid(kw, n)) abort();
    if (kw[0] == ' ' || kw[n - 1] == ' ' || strstr(kw, "  ")) abort();
}

static void check_strings(const json_t *a, size_t max, int keywords)
{
    if (a == NULL) return;
    if (!json_is_array(a) || json_array_size(a) > max) abort();
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v) || json_string_length(v) == 0) abort();
        if (strlen(json_string_value(v)) != json_string_length(v)) abort();
        if (keywords) {
            check_keyword(json_string_value(v));
            if (json_string_length(v) > MATCH_KEYWORD_BYTES_MAX) abort();
        }
        /* de-duplicated */
        for (size_t j = 0; j < i; j++)
            if (json_equal(v, json_array_get(a, j))) abort();
    }
}

/* The filter alone and through an index must agree on d. */
static void check_match(const match_filter_t *f, const match_doc_t *d)
{
    int alone = match_filter_matches(f, d);
    match_index_t *ix = match_index_new();
    if (match_index_set(ix, 3, f, 1) != KW_OK) abort();
    uint32_t *out = NULL;
    size_t cap = 0;
    size_t n = match_index_match(ix, d, &out, &cap);
    if (n != (size_t)alone || (n && out[0] != 3)) abort();
    match_index_remove(ix, 3);
    if (match_index_match(ix, d, &out, &cap) != 0) abort();
    free(out);
    match_index_free(ix);
}

static match_doc_t *doc_of_text(const char *text)
{
    core_release_t r;
    core_release_init(&r);
    snprintf(r.language, sizeof(r.language), "en");
    r.headline = kw_strdup(text);
    r.body = kw_strdup("Body");
    json_array_append_new(r.sectors, json_string("energy"));
    json_array_append_new(r.regions, json_string("ID"));
    snprintf(r.issuer_id, sizeof(r.issuer_id), "i1");
    r.issuer_slug = kw_strdup("acme");
    match_doc_t *d = match_doc_new(&r);
    core_release_clear(&r);
    if (d == NULL) abort();
    return d;
}

static void fuzz_json(const uint8_t *data, size_t size, const match_doc_t *d)
{
    json_error_t jerr;
    json_t *in =
        json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (in == NULL) return;

    match_filter_t f;
    match_filter_init(&f);
    core_errors_t errs = {0};
    int rc = match_filter_parse_json(&f, in, "filters[0]", fuzz_resolve, NULL, &errs);
    if (rc != KW_OK && rc != KW_INVALID) abort();
    if (rc == KW_OK && errs.count) abort();
    if (rc == KW_INVALID && errs.count == 0) abort();
    for (size_t i = 0; i < errs.count; i++) {
        if (strncmp(errs.items[i].field, "filters[0]", 10) != 0) abort();
        if (errs.items[i].detail[0] == '\0') abort();
    }
    if (rc == KW_INVALID) {
        if (f.languages || f.sectors || f.regions || f.issuers || f.keywords_any || f.keywords_all)
            abort();
        json_decref(in);
        return;
    }

    check_strings(f.languages, MATCH_FILTER_VALUES_MAX, 0);
    check_strings(f.sectors, MATCH_FILTER_VALUES_MAX, 0);
    check_strings(f.regions, MATCH_FILTER_VALUES_MAX, 0);
    check_strings(f.issuers, MATCH_FILTER_VALUES_MAX, 0);
    check_strings(f.keywords_any, MATCH_FILTER_VALUES_MAX, 1);
    check_strings(f.keywords_all, MATCH_KEYWORDS_ALL_MAX, 1);

    /* Written and read back: the same filter. */
    json_t *out = match_filter_to_json(&f);
    match_filter_t g;
    match_filter_init(&g);
    core_errors_t errs2 = {0};
    if (match_filter_parse_json(&g, out, "", fuzz_resolve, NULL, &errs2) != KW_OK) abort();
    json_t *out2 = match_filter_to_json(&g);
    if (!json_equal(out, out2)) abort();

    check_match(&f, d);

    json_decref(out2);
    json_decref(out);
    match_filter_clear(&g);
    match_filter_clear(&f);
    json_decref(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The input as text: the tokenizer takes any bytes. */
    char *kw = match_keyword_normalize((const char *)data, size);
    int has_nul = memchr(data, '\0', size) != NULL;
    char *text = kw_strndup((const char *)data, size);
    match_doc_t *d = doc_of_text(text);
    if (kw) {
        check_keyword(kw);
        if (!has_nul) {
            /* Every word of the headline is in the release, in order. */
            match_filter_t f;
            match_filter_init(&f);
            f.keywords_all = json_pack("[s]", kw);
            if (!match_filter_matches(&f, d)) abort();
            check_match(&f, d);
            match_filter_clear(&f);
        }
    }

    fuzz_json(data, size, d);

    match_doc_free(d);
    free(text);
    free(kw);
    return 0;
}
