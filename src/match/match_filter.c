/* match_filter.c -- a subscriber's filter: parsing it from JSON or query
 * parameters into canonical values, writing it back, and matching one
 * filter against one document (the reference the index must agree with).
 *
 * Values of one attribute are any-of, attributes are all-of, an empty
 * attribute does not constrain. Canonical values are what releases carry:
 * language tags as core_lang spells them ("zh-Hans"), sector slugs from the
 * managed list, upper-case ISO 3166-1 codes; issuers are ids or slugs as
 * given (a release names both, a filter may name either); keywords are
 * normalized by match_keyword_normalize. Values are de-duplicated, first
 * occurrence kept. */
#include "match/match_internal.h"

#include "core/core_lang.h"
#include "core/core_region.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ISSUER_BYTES_MAX 100
/* MATCH_KEYWORD_BYTES_MAX bounds a keyword once normalized, which is what
 * is stored and what a filter read back says, so that parsing it again
 * gives the same filter (Thai or Chinese text gains a space between words;
 * full-width letters and punctuation shrink). What is sent may be up to
 * KEYWORD_INPUT_MAX bytes, which bounds the work of normalizing it. */
#define KEYWORD_INPUT_MAX (4 * MATCH_KEYWORD_BYTES_MAX)

void match_filter_init(match_filter_t *f)
{
    memset(f, 0, sizeof(*f));
}

void match_filter_clear(match_filter_t *f)
{
    json_decref(f->languages);
    json_decref(f->sectors);
    json_decref(f->regions);
    json_decref(f->issuers);
    json_decref(f->keywords_any);
    json_decref(f->keywords_all);
    match_filter_init(f);
}

/* dst is overwritten, not cleared: give an empty or uninitialized one. */
int match_filter_copy(match_filter_t *dst, const match_filter_t *src)
{
    match_filter_t t;
    match_filter_init(&t);
    t.languages = json_deep_copy(src->languages);
    t.sectors = json_deep_copy(src->sectors);
    t.regions = json_deep_copy(src->regions);
    t.issuers = json_deep_copy(src->issuers);
    t.keywords_any = json_deep_copy(src->keywords_any);
    t.keywords_all = json_deep_copy(src->keywords_all);
    *dst = t;
    return KW_OK;
}

/* ---- parsing ---- */

typedef enum {
    ATTR_LANGUAGES,
    ATTR_SECTORS,
    ATTR_REGIONS,
    ATTR_ISSUERS,
    ATTR_KEYWORDS,
    ATTR_KEYWORDS_ALL,
    ATTR_COUNT_
} attr_t;

static const char *const attr_json[ATTR_COUNT_] = {"languages", "sectors",  "regions",
                                                   "issuers",   "keywords", "keywords_all"};
static const char *const attr_param[ATTR_COUNT_] = {"language", "sector",  "region",
                                                    "issuer",   "keyword", NULL};

static json_t **attr_slot(match_filter_t *f, attr_t a)
{
    switch (a) {
    case ATTR_LANGUAGES:
        return &f->languages;
    case ATTR_SECTORS:
        return &f->sectors;
    case ATTR_REGIONS:
        return &f->regions;
    case ATTR_ISSUERS:
        return &f->issuers;
    case ATTR_KEYWORDS:
        return &f->keywords_any;
    default:
        return &f->keywords_all;
    }
}

static size_t attr_max(attr_t a)
{
    return a == ATTR_KEYWORDS_ALL ? MATCH_KEYWORDS_ALL_MAX : MATCH_FILTER_VALUES_MAX;
}

static int has_control(const char *z)
{
    for (const unsigned char *p = (const unsigned char *)z; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return 1;
    return 0;
}

/* Checks one value of attribute a and appends its canonical form to *slot
 * (created on first use) unless already there. field names it in errors. */
static int add_value(match_filter_t *f, attr_t a, const char *v, size_t len, const char *field,
                     match_sector_resolve_fn resolve, void *ctx, core_errors_t *errs)
{
    if (len == 0 || strlen(v) != len) {
        core_errors_add(errs, field, "must be a non-empty string without NUL characters");
        return KW_INVALID;
    }
    char *owned = NULL;
    const char *canon = NULL;
    switch (a) {
    case ATTR_LANGUAGES: {
        const core_lang_t *lang = core_lang_find_z(v);
        if (lang == NULL) {
            core_errors_add(errs, field, "unknown language (see GET /v1/languages)");
            return KW_INVALID;
        }
        canon = lang->tag;
        break;
    }
    case ATTR_SECTORS:
        canon = resolve ? resolve(ctx, v) : NULL;
        if (canon == NULL) {
            core_errors_add(errs, field, "unknown sector (see GET /v1/sectors)");
            return KW_INVALID;
        }
        break;
    case ATTR_REGIONS: {
        const core_region_t *reg = core_region_find((kw_str_t){v, len});
        if (reg == NULL) {
            core_errors_add(errs, field, "must be an ISO 3166-1 alpha-2 code like \"ID\"");
            return KW_INVALID;
        }
        canon = reg->code;
        break;
    }
    case ATTR_ISSUERS:
        if (len > ISSUER_BYTES_MAX || has_control(v)) {
            core_errors_add(errs, field, "must be an issuer id or slug");
            return KW_INVALID;
        }
        canon = v;
        break;
    default: /* keywords */
        if (len > KEYWORD_INPUT_MAX) {
            core_errors_add(errs, field, "is too long (%zu bytes, at most %d)", len,
                            MATCH_KEYWORD_BYTES_MAX);
            return KW_INVALID;
        }
        owned = match_keyword_normalize(v, len);
        if (owned == NULL) {
            core_errors_add(errs, field, "has no words to match");
            return KW_INVALID;
        }
        if (strlen(owned) > MATCH_KEYWORD_BYTES_MAX) {
            core_errors_add(errs, field,
                            "is too long (%zu bytes once normalized: lower case, one space "
                            "between words; at most %d)",
                            strlen(owned), MATCH_KEYWORD_BYTES_MAX);
            free(owned);
            return KW_INVALID;
        }
        canon = owned;
        break;
    }

    json_t **slot = attr_slot(f, a);
    if (*slot == NULL) *slot = json_array();
    size_t i;
    json_t *seen;
    int dup = 0;
    json_array_foreach(*slot, i, seen) if (strcmp(json_string_value(seen), canon) == 0) dup = 1;
    if (!dup) json_array_append_new(*slot, json_string(canon));
    free(owned);
    return KW_OK;
}

static void field_name(char *out, size_t size, const char *prefix, const char *key)
{
    if (prefix && *prefix)
        snprintf(out, size, "%s.%s", prefix, key);
    else
        snprintf(out, size, "%s", key);
}

int match_filter_parse_json(match_filter_t *f, json_t *in, const char *prefix,
                            match_sector_resolve_fn resolve, void *ctx, core_errors_t *errs)
{
    match_filter_t t;
    match_filter_init(&t);
    int rc = KW_OK;
    if (!json_is_object(in)) {
        core_errors_add(errs, prefix && *prefix ? prefix : "filter",
                        "must be an object with languages, sectors, regions, issuers, "
                        "keywords or keywords_all");
        return KW_INVALID;
    }
    const char *key;
    json_t *v;
    json_object_foreach(in, key, v)
    {
        char field[128];
        field_name(field, sizeof(field), prefix, key);
        attr_t a = 0;
        while (a < ATTR_COUNT_ && strcmp(attr_json[a], key) != 0)
            a++;
        if (a == ATTR_COUNT_) {
            core_errors_add(errs, field, "unknown field");
            rc = KW_INVALID;
            continue;
        }
        if (!json_is_array(v)) {
            core_errors_add(errs, field, "must be an array of strings");
            rc = KW_INVALID;
            continue;
        }
        if (json_array_size(v) > attr_max(a)) {
            core_errors_add(errs, field, "at most %zu values", attr_max(a));
            rc = KW_INVALID;
            continue;
        }
        json_t **slot = attr_slot(&t, a);
        if (*slot == NULL) *slot = json_array();
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item)
        {
            char item_field[160];
            snprintf(item_field, sizeof(item_field), "%s[%zu]", field, i);
            if (!json_is_string(item)) {
                core_errors_add(errs, item_field, "must be a string");
                rc = KW_INVALID;
                continue;
            }
            if (add_value(&t, a, json_string_value(item), json_string_length(item), item_field,
                          resolve, ctx, errs) != KW_OK)
                rc = KW_INVALID;
        }
    }
    if (rc != KW_OK) {
        match_filter_clear(&t);
        return rc;
    }
    match_filter_clear(f);
    *f = t;
    return KW_OK;
}

int match_filter_parse_params(match_filter_t *f, const char *const *names,
                              const char *const *values, size_t n, match_sector_resolve_fn resolve,
                              void *ctx, core_errors_t *errs)
{
    match_filter_t t;
    match_filter_init(&t);
    int rc = KW_OK;
    size_t count[ATTR_COUNT_] = {0};
    for (size_t i = 0; i < n; i++) {
        attr_t a = 0;
        while (a < ATTR_COUNT_ && (attr_param[a] == NULL || strcmp(attr_param[a], names[i]) != 0))
            a++;
        if (a == ATTR_COUNT_) continue;
        if (++count[a] > attr_max(a)) {
            if (count[a] == attr_max(a) + 1) {
                core_errors_add(errs, names[i], "at most %zu values", attr_max(a));
                rc = KW_INVALID;
            }
            continue;
        }
        const char *v = values[i] ? values[i] : "";
        if (add_value(&t, a, v, strlen(v), names[i], resolve, ctx, errs) != KW_OK) rc = KW_INVALID;
    }
    if (rc != KW_OK) {
        match_filter_clear(&t);
        return rc;
    }
    match_filter_clear(f);
    *f = t;
    return KW_OK;
}

json_t *match_filter_to_json(const match_filter_t *f)
{
    json_t *o = json_object();
    const json_t *arrays[ATTR_COUNT_] = {f->languages, f->sectors,      f->regions,
                                         f->issuers,   f->keywords_any, f->keywords_all};
    for (int a = 0; a < ATTR_COUNT_; a++)
        if (json_array_size(arrays[a]))
            json_object_set_new(o, attr_json[a], json_deep_copy(arrays[a]));
    return o;
}

/* ---- matching one filter ---- */

static int in_strings(const json_t *set, const char *const *v, size_t n)
{
    size_t i;
    json_t *item;
    json_array_foreach(set, i, item)
    {
        const char *z = json_string_value(item);
        if (z == NULL) continue;
        for (size_t j = 0; j < n; j++)
            if (v[j] && strcmp(z, v[j]) == 0) return 1;
    }
    return 0;
}

int match_filter_matches(const match_filter_t *f, const match_doc_t *d)
{
    if (json_array_size(f->languages)) {
        const char *lang = d->language;
        if (!in_strings(f->languages, &lang, 1)) return 0;
    }
    if (json_array_size(f->sectors) &&
        !in_strings(f->sectors, (const char *const *)d->sectors, d->n_sectors))
        return 0;
    if (json_array_size(f->regions) &&
        !in_strings(f->regions, (const char *const *)d->regions, d->n_regions))
        return 0;
    if (json_array_size(f->issuers)) {
        const char *issuer[2] = {d->issuer_id, d->issuer_slug};
        if (!in_strings(f->issuers, issuer, 2)) return 0;
    }
    size_t i;
    json_t *kw;
    json_array_foreach(f->keywords_all, i, kw)
    {
        if (!json_is_string(kw) ||
            !match__doc_has_keyword(d, json_string_value(kw), json_string_length(kw)))
            return 0;
    }
    if (json_array_size(f->keywords_any)) {
        int any = 0;
        json_array_foreach(f->keywords_any, i, kw)
        {
            if (json_is_string(kw) &&
                match__doc_has_keyword(d, json_string_value(kw), json_string_length(kw))) {
                any = 1;
                break;
            }
        }
        if (!any) return 0;
    }
    return 1;
}
