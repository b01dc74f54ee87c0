/* fuzz_release.c -- libFuzzer harness for core_release_apply: the input is
 * parsed as JSON (as the API does, duplicates rejected) and applied to a
 * fresh release, as on create, and to an existing one, as on edit, with a
 * resolver that knows a few sectors. It must return KW_OK with every
 * required field set, or KW_INVALID with at least one named error; the
 * release must stay consistent and serializable either way. */
#include "core/core_release.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 2026-11-28T00:00:00Z: times before it are "in the past". */
#define FUZZ_NOW_MS INT64_C(1795824000000)

static const char *fuzz_resolve(void *ctx, const char *name_or_slug)
{
    static const char *const sectors[][2] = {
        {"Business", "business"},
        {"Technology", "technology"},
        {"Top Story", "top-story"},
        {"Daily News", "daily-news"},
    };
    (void)ctx;
    for (size_t i = 0; i < sizeof(sectors) / sizeof(sectors[0]); i++)
        if (strcmp(name_or_slug, sectors[i][0]) == 0 || strcmp(name_or_slug, sectors[i][1]) == 0)
            return sectors[i][1];
    return NULL;
}

static void check_release(const core_release_t *r)
{
    if (!json_is_array(r->sectors) || !json_is_array(r->regions) || !json_is_array(r->contacts))
        abort();
    if (json_array_size(r->sectors) > CORE_SECTORS_MAX) abort();
    if (json_array_size(r->regions) > CORE_REGIONS_MAX) abort();
    if (json_array_size(r->contacts) > CORE_CONTACTS_MAX) abort();
    if (r->headline && strlen(r->headline) > CORE_HEADLINE_MAX) abort();
    if (r->body && strlen(r->body) > CORE_BODY_MAX) abort();
    if (memchr(r->language, '\0', sizeof(r->language)) == NULL) abort();
    /* Serializing must work on whatever state apply left behind. */
    json_t *o = core_release_to_json(r, "http://127.0.0.1:8080", 1);
    char *z = json_dumps(o, JSON_COMPACT);
    if (z == NULL) abort();
    free(z);
    json_decref(o);
}

static void check_errors(const core_errors_t *errs, int rc, size_t before)
{
    if (rc == KW_OK && errs->count != before) abort();
    if (rc == KW_INVALID && errs->count <= before && errs->count < 16) abort();
    for (size_t i = 0; i < errs->count; i++) {
        if (memchr(errs->items[i].field, '\0', sizeof(errs->items[i].field)) == NULL) abort();
        if (memchr(errs->items[i].detail, '\0', sizeof(errs->items[i].detail)) == NULL) abort();
        if (errs->items[i].detail[0] == '\0') abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *in =
        json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (in == NULL) return 0;

    /* Create: headline, body and language are required. */
    core_release_t r;
    core_errors_t errs = {0};
    core_release_init(&r);
    int rc = core_release_apply(&r, in, 1, FUZZ_NOW_MS, fuzz_resolve, NULL, &errs);
    if (rc != KW_OK && rc != KW_INVALID) abort();
    check_errors(&errs, rc, 0);
    if (rc == KW_OK && (r.headline == NULL || r.body == NULL || r.language[0] == '\0')) abort();
    check_release(&r);

    /* Edit: the same input over a complete release. */
    core_release_t e;
    core_errors_t errs2 = {0};
    core_release_init(&e);
    json_t *base = json_pack("{s:s, s:s, s:s, s:[s], s:[s]}", "headline", "Base headline", "body",
                             "Base body", "language", "en", "sectors", "Business", "regions", "ID");
    if (core_release_apply(&e, base, 1, FUZZ_NOW_MS, fuzz_resolve, NULL, &errs2) != KW_OK) abort();
    json_decref(base);
    rc = core_release_apply(&e, in, 0, FUZZ_NOW_MS, fuzz_resolve, NULL, &errs2);
    if (rc != KW_OK && rc != KW_INVALID) abort();
    check_errors(&errs2, rc, 0);
    if (e.headline == NULL || e.body == NULL || e.language[0] == '\0') abort();
    check_release(&e);

    /* Correction: the same input as a correction of the edited release. */
    core_errors_t errs3 = {0};
    core_release_t *c = core_release_dup(&e);
    rc = core_release_apply_correction(c, in, fuzz_resolve, NULL, &errs3);
    if (rc != KW_OK && rc != KW_INVALID) abort();
    check_errors(&errs3, rc, 0);
    if (rc == KW_OK && c->correction_note == NULL) abort();
    check_release(c);

    core_release_free(c);
    core_release_clear(&e);
    core_release_clear(&r);
    json_decref(in);
    return 0;
}
