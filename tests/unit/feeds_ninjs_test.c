/* feeds_ninjs_test.c -- releases as ninjs 3 items and stream events: the
 * properties the schema and the mapping in feeds.h promise, and that nothing
 * unpublished comes out. Schema validity itself is checked by
 * tests/e2e/check_ninjs.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_lang.h"
#include "feeds/feeds.h"

#define BASE "http://127.0.0.1:8080"
#define T_PUB 1795883286000LL  /* 2026-11-28T16:28:06Z */
#define T_UPD 1795886886000LL  /* 2026-11-28T17:28:06Z */
#define T_LIFT 1795971600000LL /* 2026-11-29T17:00:00Z */

static void make_release(core_release_t *r, const char *lang, core_state_t state)
{
    core_release_init(r);
    snprintf(r->id, sizeof(r->id), "rTest%s", lang);
    snprintf(r->issuer_id, sizeof(r->issuer_id), "i1");
    snprintf(r->language, sizeof(r->language), "%s", lang);
    r->issuer_name = strdup("PT Contoh Tbk");
    r->issuer_slug = strdup("contoh");
    r->state = state;
    r->headline = strdup("Contoh launches a wire");
    r->subheadline = strdup("In fifteen languages");
    r->body = strdup("First paragraph with a [link](https://example.com/a).\n\n"
                     "- one\n- two\n\n> A quotation.");
    r->dateline_place = strdup("JAKARTA");
    json_array_append_new(r->sectors, json_string("business"));
    json_array_append_new(r->sectors, json_string("top-story"));
    json_array_append_new(r->regions, json_string("ID"));
    json_array_append_new(r->regions, json_string("MY"));
    json_array_append_new(r->contacts, json_pack("{s:s, s:s, s:s, s:s}", "name", "Sari", "email",
                                                 "sari@example.com", "phone", "+62 21 555 0100",
                                                 "organization", "Contoh"));
    r->created_at = T_PUB - 86400000;
    r->published_at = T_PUB;
    r->updated_at = T_PUB;
    r->publish_seq = 7;
}

static const char *sget(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* The element of array arr whose key equals value, or NULL. */
static json_t *find_by(const json_t *arr, const char *key, const char *value)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *s = sget(v, key);
        if (s && strcmp(s, value) == 0) return v;
    }
    return NULL;
}

static json_t *find_body(const json_t *item, const char *content_type)
{
    return find_by(json_object_get(item, "bodies"), "contentType", content_type);
}

static void test_published_item(void **state)
{
    (void)state;
    core_release_t r;
    make_release(&r, "en", REL_PUBLISHED);
    json_t *tr = json_pack("[{s:s, s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s}]", "language", "id",
                           "id", "rTestid", "url", BASE "/id/releases/rTestid", "language", "ja",
                           "id", "rTestja", "language", "en", "id", "rTesten", "id", "nolang");
    json_t *o = feeds_ninjs_release(&r, BASE, "kawat", tr);
    assert_non_null(o);

    assert_string_equal(sget(o, "uri"), BASE "/en/releases/rTesten");
    assert_string_equal(sget(o, "type"), "text");
    assert_string_equal(sget(o, "representationType"), "full");
    assert_string_equal(sget(o, "version"), "1");
    assert_string_equal(sget(o, "language"), "en");
    assert_string_equal(sget(o, "pubStatus"), "usable");
    assert_string_equal(sget(o, "firstCreated"), "2026-11-28T16:28:06Z");
    assert_string_equal(sget(o, "versionCreated"), "2026-11-28T16:28:06Z");
    assert_null(json_object_get(o, "embargoedUntil"));
    assert_null(json_object_get(o, "edNote"));
    assert_string_equal(sget(json_object_get(o, "standard"), "version"), "3.1");

    /* Headlines: main and subhead, plain text. */
    json_t *h = json_object_get(o, "headlines");
    assert_int_equal(json_array_size(h), 2);
    assert_string_equal(sget(json_array_get(h, 0), "role"), "main");
    assert_string_equal(sget(json_array_get(h, 0), "value"), "Contoh launches a wire");
    assert_string_equal(sget(json_array_get(h, 1), "role"), "subhead");
    assert_string_equal(sget(json_array_get(h, 1), "value"), "In fifteen languages");

    /* Bodies: HTML keeps the link; plain text has only the words. */
    json_t *html = find_body(o, "text/html");
    json_t *text = find_body(o, "text/plain");
    assert_non_null(html);
    assert_non_null(text);
    assert_non_null(strstr(sget(html, "value"), "<a href=\"https://example.com/a\">link</a>"));
    assert_non_null(strstr(sget(html, "value"), "<blockquote>"));
    assert_string_equal(sget(text, "value"), "First paragraph with a link. one two A quotation.");
    assert_int_equal(json_integer_value(json_object_get(text, "charCount")),
                     strlen("First paragraph with a link. one two A quotation."));

    /* Dateline and boilerplate; disclaimer as usage terms. */
    assert_string_equal(sget(o, "located"), "JAKARTA");
    json_t *dl = find_by(json_object_get(o, "descriptions"), "role", "dateline");
    assert_non_null(dl);
    assert_non_null(strstr(sget(dl, "value"), "JAKARTA, "));
    assert_non_null(strstr(sget(dl, "value"), "2026 (kawat) \xE2\x80\x93"));
    assert_non_null(find_by(json_object_get(o, "descriptions"), "role", "boilerplate"));
    assert_non_null(strstr(sget(o, "usageTerms"), "kawat makes no warranty"));

    /* Sectors: Media Topic where one fits, the slug always. */
    json_t *subj = json_object_get(o, "subjects");
    assert_int_equal(json_array_size(subj), 2);
    json_t *biz = find_by(subj, "literal", "business");
    assert_non_null(biz);
    assert_string_equal(sget(biz, "name"), "Business");
    assert_string_equal(sget(biz, "uri"), "http://cv.iptc.org/newscodes/mediatopic/04000000");
    json_t *top = find_by(subj, "literal", "top-story");
    assert_non_null(top);
    assert_string_equal(sget(top, "name"), "Top Story");
    assert_null(json_object_get(top, "uri"));

    /* Regions as ISO 3166-1 places. */
    json_t *places = json_object_get(o, "places");
    assert_int_equal(json_array_size(places), 2);
    json_t *idp = find_by(places, "literal", "ID");
    assert_non_null(idp);
    assert_string_equal(sget(idp, "name"), "Indonesia");
    assert_string_equal(sget(idp, "uri"), "http://cvx.iptc.org/iso3166-1a2/ID");

    /* Issuer and wire. */
    assert_string_equal(sget(o, "by"), "PT Contoh Tbk");
    assert_string_equal(sget(o, "copyrightHolder"), "PT Contoh Tbk");
    json_t *src = json_object_get(o, "infoSources");
    json_t *iss = find_by(src, "name", "PT Contoh Tbk");
    json_t *wire = find_by(src, "name", "kawat");
    assert_non_null(iss);
    assert_non_null(wire);
    assert_string_equal(sget(iss, "role"),
                        "http://cv.iptc.org/newscodes/contentprodpartyrole/origcont");
    assert_string_equal(sget(wire, "role"),
                        "http://cv.iptc.org/newscodes/contentprodpartyrole/distributor");
    assert_string_equal(sget(wire, "uri"), BASE);
    json_t *ci = json_object_get(iss, "contactInfo");
    assert_int_equal(json_array_size(ci), 2);
    assert_string_equal(sget(find_by(ci, "type", "email"), "value"), "sari@example.com");
    assert_string_equal(sget(find_by(ci, "type", "phone"), "name"), "Sari (Contoh)");

    /* Translations: the given url, or one built from the id; itself and
     * entries without a language skipped. */
    json_t *as = json_object_get(o, "associations");
    assert_int_equal(json_array_size(as), 2);
    json_t *a_id = find_by(as, "language", "id");
    json_t *a_ja = find_by(as, "language", "ja");
    assert_string_equal(sget(a_id, "uri"), BASE "/id/releases/rTestid");
    assert_string_equal(sget(a_id, "rel"), "translation");
    assert_string_equal(sget(a_id, "name"), "translation-id");
    assert_string_equal(sget(a_ja, "uri"), BASE "/ja/releases/rTestja");

    assert_string_equal(sget(find_by(json_object_get(o, "altIds"), "role", "release-id"), "value"),
                        "rTesten");

    /* It serializes. */
    char *s = json_dumps(o, JSON_COMPACT);
    assert_non_null(s);
    free(s);
    json_decref(o);
    json_decref(tr);
    core_release_clear(&r);
}

static void test_no_subheadline_no_extras(void **state)
{
    (void)state;
    core_release_t r;
    make_release(&r, "th", REL_PUBLISHED);
    free(r.subheadline);
    r.subheadline = NULL;
    free(r.dateline_place);
    r.dateline_place = NULL;
    json_array_clear(r.sectors);
    json_array_clear(r.regions);
    json_array_clear(r.contacts);
    json_t *o = feeds_ninjs_release(&r, BASE, NULL, NULL);
    assert_non_null(o);
    assert_int_equal(json_array_size(json_object_get(o, "headlines")), 1);
    assert_null(json_object_get(o, "located"));
    assert_null(json_object_get(o, "subjects"));
    assert_null(json_object_get(o, "places"));
    assert_null(json_object_get(o, "associations"));
    assert_null(json_object_get(find_by(json_object_get(o, "infoSources"), "name", "PT Contoh Tbk"),
                                "contactInfo"));
    /* Default wire name; the dateline starts with the date. */
    json_t *dl = find_by(json_object_get(o, "descriptions"), "role", "dateline");
    assert_non_null(strstr(sget(dl, "value"), "(kawat) \xE2\x80\x93"));
    assert_non_null(find_by(json_object_get(o, "infoSources"), "name", "kawat"));
    json_decref(o);
    core_release_clear(&r);
}

static void test_corrected(void **state)
{
    (void)state;
    core_release_t r;
    make_release(&r, "de", REL_CORRECTED);
    r.version = 3;
    r.updated_at = T_UPD;
    r.correction_note = strdup("Date of the launch fixed");
    json_t *o = feeds_ninjs_release(&r, BASE, "kawat", NULL);
    assert_non_null(o);
    assert_string_equal(sget(o, "version"), "3");
    assert_string_equal(sget(o, "firstCreated"), "2026-11-28T16:28:06Z");
    assert_string_equal(sget(o, "versionCreated"), "2026-11-28T17:28:06Z");
    assert_string_equal(sget(o, "pubStatus"), "usable");
    const core_lang_t *de = core_lang_find_z("de");
    char *want = NULL;
    assert_true(asprintf(&want, "%s: Date of the launch fixed", de->msgs[MSG_CORRECTION_NOTE]) > 0);
    assert_string_equal(sget(o, "edNote"), want);
    free(want);
    json_decref(o);

    /* No note: the localized "Corrected". */
    free(r.correction_note);
    r.correction_note = NULL;
    o = feeds_ninjs_release(&r, BASE, "kawat", NULL);
    assert_string_equal(sget(o, "edNote"), de->msgs[MSG_CORRECTED]);
    json_decref(o);
    core_release_clear(&r);
}

static void test_withdrawn(void **state)
{
    (void)state;
    core_release_t r;
    make_release(&r, "ar", REL_WITHDRAWN);
    r.withdrawn_at = T_UPD;
    r.withdrawal_reason = strdup("Issued in error");
    r.translation_group = strdup("g1");
    json_t *tr = json_pack("[{s:s, s:s}]", "language", "en", "id", "rTesten");
    json_t *o = feeds_ninjs_release(&r, BASE, "kawat", tr);
    assert_non_null(o);
    assert_string_equal(sget(o, "uri"), BASE "/ar/releases/rTestar");
    assert_string_equal(sget(o, "pubStatus"), "canceled");
    assert_string_equal(sget(o, "representationType"), "partial");
    assert_string_equal(sget(o, "language"), "ar");
    assert_string_equal(sget(o, "versionCreated"), "2026-11-28T17:28:06Z");
    assert_non_null(strstr(sget(o, "edNote"), "Issued in error"));
    static const char *const gone[] = {"headlines",   "bodies",          "descriptions",
                                       "subjects",    "places",          "located",
                                       "by",          "associations",    "usageTerms",
                                       "infoSources", "copyrightHolder", "embargoedUntil"};
    for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
        assert_null(json_object_get(o, gone[i]));
    assert_non_null(find_by(json_object_get(o, "altIds"), "role", "translation-group"));
    /* Nothing of the text anywhere. */
    char *s = json_dumps(o, 0);
    assert_null(strstr(s, "Contoh launches"));
    assert_null(strstr(s, "First paragraph"));
    free(s);
    json_decref(o);

    /* The event too, whatever kind the caller names. */
    json_t *ev = feeds_ninjs_event(&r, 9, FEEDS_KIND_PUBLISH, BASE, "kawat", tr);
    assert_non_null(ev);
    assert_string_equal(sget(json_object_get(ev, "item"), "pubStatus"), "canceled");
    json_decref(ev);
    json_decref(tr);
    core_release_clear(&r);
}

static void test_unpublished_gives_nothing(void **state)
{
    (void)state;
    static const core_state_t hidden[] = {REL_DRAFT, REL_SUBMITTED, REL_REJECTED, REL_SCHEDULED,
                                          REL_EMBARGOED};
    for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
        core_release_t r;
        make_release(&r, "en", hidden[i]);
        r.published_at = 0;
        assert_null(feeds_ninjs_release(&r, BASE, "kawat", NULL));
        assert_null(feeds_ninjs_event(&r, 5, FEEDS_KIND_PUBLISH, BASE, "kawat", NULL));
        assert_null(feeds_ninjs_event(&r, 5, FEEDS_KIND_CORRECTION, BASE, "kawat", NULL));
        assert_null(feeds_ninjs_event(&r, 5, FEEDS_KIND_WITHDRAWAL, BASE, "kawat", NULL));
        /* Without an embargo time there is nothing to deliver early. */
        assert_null(feeds_ninjs_event(&r, 0, FEEDS_KIND_EMBARGO, BASE, "kawat", NULL));
        r.embargo_until = T_LIFT;
        json_t *ev = feeds_ninjs_event(&r, 0, FEEDS_KIND_EMBARGO, BASE, "kawat", NULL);
        if (hidden[i] == REL_SCHEDULED || hidden[i] == REL_EMBARGOED)
            assert_non_null(ev);
        else
            assert_null(ev);
        json_decref(ev);
        core_release_clear(&r);
    }
}

static void test_event_envelope(void **state)
{
    (void)state;
    core_release_t r;
    make_release(&r, "ko", REL_PUBLISHED);
    json_t *ev = feeds_ninjs_event(&r, 7, FEEDS_KIND_PUBLISH, BASE, "kawat", NULL);
    assert_non_null(ev);
    assert_int_equal(json_object_size(ev), 4);
    assert_int_equal(json_integer_value(json_object_get(ev, "seq")), 7);
    assert_string_equal(sget(ev, "kind"), "publish");
    assert_string_equal(sget(ev, "id"), "rTestko");
    json_t *item = json_object_get(ev, "item");
    assert_string_equal(sget(item, "uri"), BASE "/ko/releases/rTestko");
    assert_string_equal(sget(item, "pubStatus"), "usable");
    json_decref(ev);

    /* A withdrawal of a release still marked published is a tombstone. */
    ev = feeds_ninjs_event(&r, 8, FEEDS_KIND_WITHDRAWAL, BASE, "kawat", NULL);
    assert_non_null(ev);
    assert_string_equal(sget(json_object_get(ev, "item"), "pubStatus"), "canceled");
    assert_null(json_object_get(json_object_get(ev, "item"), "headlines"));
    json_decref(ev);

    /* Unknown kinds, and kinds in the wrong case, are refused. */
    assert_null(feeds_ninjs_event(&r, 7, "Publish", BASE, "kawat", NULL));
    assert_null(feeds_ninjs_event(&r, 7, "update", BASE, "kawat", NULL));
    assert_null(feeds_ninjs_event(&r, 7, NULL, BASE, "kawat", NULL));
    assert_true(feeds_ninjs_kind_valid("embargo"));
    assert_false(feeds_ninjs_kind_valid(""));
    core_release_clear(&r);
}

static void test_embargo_event(void **state)
{
    (void)state;
    core_release_t r;
    make_release(&r, "ja", REL_EMBARGOED);
    r.published_at = 0;
    r.publish_seq = 0;
    r.embargo_until = T_LIFT - 3600000;
    r.publish_at = T_LIFT; /* the later of the two is the lift */
    r.updated_at = T_UPD;
    json_t *ev = feeds_ninjs_event(&r, 0, FEEDS_KIND_EMBARGO, BASE, "kawat", NULL);
    assert_non_null(ev);
    assert_null(json_object_get(ev, "seq")); /* not on the wire log */
    assert_string_equal(sget(ev, "kind"), "embargo");
    json_t *item = json_object_get(ev, "item");
    assert_string_equal(sget(item, "embargoedUntil"), "2026-11-29T17:00:00Z");
    assert_string_equal(sget(item, "pubStatus"), "usable");
    assert_null(json_object_get(item, "firstCreated"));
    assert_string_equal(sget(item, "versionCreated"), "2026-11-28T17:28:06Z");
    assert_non_null(json_object_get(item, "bodies"));
    /* The dateline carries the date it will be published on. */
    json_t *dl = find_by(json_object_get(item, "descriptions"), "role", "dateline");
    assert_non_null(strstr(sget(dl, "value"), "29"));
    json_decref(ev);

    /* Once published, the item still says until when it was embargoed. */
    r.state = REL_PUBLISHED;
    r.published_at = T_LIFT;
    json_t *o = feeds_ninjs_release(&r, BASE, "kawat", NULL);
    assert_string_equal(sget(o, "embargoedUntil"), "2026-11-29T16:00:00Z");
    assert_string_equal(sget(o, "firstCreated"), "2026-11-29T17:00:00Z");
    json_decref(o);
    core_release_clear(&r);
}

static void test_hostile_content(void **state)
{
    (void)state;
    core_release_t r;
    make_release(&r, "en", REL_PUBLISHED);
    free(r.headline);
    r.headline = strdup("<script>alert(1)</script> bad \xff\xfe byte \xe2\x80\xae bidi");
    free(r.body);
    r.body = strdup("<script>alert(1)</script>\n\n[x](javascript:alert(1)) "
                    "<img src=x onerror=alert(1)>");
    json_t *o = feeds_ninjs_release(&r, BASE, "kawat", NULL);
    assert_non_null(o);
    const char *hl = sget(json_array_get(json_object_get(o, "headlines"), 0), "value");
    assert_non_null(hl); /* kept, as text, with U+FFFD for the bad bytes */
    assert_non_null(strstr(hl, "<script>"));
    assert_non_null(strstr(hl, "\xEF\xBF\xBD\xEF\xBF\xBD byte"));
    const char *html = sget(find_body(o, "text/html"), "value");
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "javascript:"));
    assert_null(strstr(html, "onerror"));
    json_decref(o);
    core_release_clear(&r);
}

static void test_every_language(void **state)
{
    (void)state;
    static const char *const langs[] = {"en", "ko", "ja", "ar", "zh-Hans", "zh-Hant", "vi", "th",
                                        "id", "ms", "de", "ru", "fr",      "es",      "pt"};
    for (size_t i = 0; i < sizeof(langs) / sizeof(langs[0]); i++) {
        core_release_t r;
        make_release(&r, langs[i], REL_PUBLISHED);
        json_t *ev = feeds_ninjs_event(&r, (int64_t)i + 1, FEEDS_KIND_PUBLISH, BASE, "kawat", NULL);
        assert_non_null(ev);
        json_t *item = json_object_get(ev, "item");
        assert_string_equal(sget(item, "language"), langs[i]);
        assert_non_null(strstr(sget(item, "usageTerms"), "kawat"));
        json_t *dl = find_by(json_object_get(item, "descriptions"), "role", "dateline");
        assert_non_null(dl);
        assert_non_null(strstr(sget(dl, "value"), "JAKARTA"));
        assert_non_null(strstr(sget(dl, "value"), "(kawat)"));
        json_decref(ev);
        core_release_clear(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_published_item),
        cmocka_unit_test(test_no_subheadline_no_extras),
        cmocka_unit_test(test_corrected),
        cmocka_unit_test(test_withdrawn),
        cmocka_unit_test(test_unpublished_gives_nothing),
        cmocka_unit_test(test_event_envelope),
        cmocka_unit_test(test_embargo_event),
        cmocka_unit_test(test_hostile_content),
        cmocka_unit_test(test_every_language),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
