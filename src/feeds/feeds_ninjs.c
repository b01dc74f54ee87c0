/* feeds_ninjs.c -- a release as an IPTC ninjs 3 item, and the stream event
 * that carries one. The mapping and its reasons are in feeds.h; the schema
 * is ../shared/schemas/ninjs/ninjs-schema_3.1.json. */
#include "feeds/feeds.h"
#include "feeds/feeds_render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_lang.h"
#include "core/core_markdown.h"
#include "core/core_region.h"
#include "core/core_sector.h"
#include "core/core_time.h"

#define MEDIATOPIC_BASE "http://cv.iptc.org/newscodes/mediatopic/"
#define ISO3166_BASE "http://cvx.iptc.org/iso3166-1a2/"
#define CPPROLE_BASE "http://cv.iptc.org/newscodes/contentprodpartyrole/"

/* ---- helpers ---------------------------------------------------------- */

/* A JSON string from z, with any invalid UTF-8 replaced by U+FFFD, so that
 * a field is never dropped (jansson refuses invalid UTF-8). */
static json_t *jstr(const char *z)
{
    size_t n = strlen(z);
    if (kw_utf8_valid(z, n)) return json_stringn(z, n);
    kw_buf_t b = {0};
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)z[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (len && i + len <= n && kw_utf8_valid(z + i, len)) {
            kw_buf_append(&b, z + i, len);
            i += len;
        } else {
            kw_buf_puts(&b, "\xEF\xBF\xBD");
            i++;
        }
    }
    json_t *s = json_stringn(b.data ? b.data : "", b.len);
    kw_buf_free(&b);
    return s;
}

/* Sets key to z if z is a non-empty string. */
static void set_str(json_t *o, const char *key, const char *z)
{
    if (z && *z) json_object_set_new(o, key, jstr(z));
}

static void set_time(json_t *o, const char *key, int64_t ms)
{
    if (ms > 0) {
        char buf[CORE_TIME_BUF_SIZE];
        core_time_format_rfc3339(ms, buf, sizeof(buf));
        json_object_set_new(o, key, json_string(buf));
    }
}

/* base_url + "/{language}/releases/{id}", malloc'd. */
static char *page_url(const char *base_url, const char *language, const char *id)
{
    kw_buf_t b = {0};
    kw_buf_printf(&b, "%s/%s/releases/%s", base_url ? base_url : "", language, id);
    return kw_buf_steal(&b, NULL);
}

static size_t utf8_chars(const char *z)
{
    size_t n = 0;
    for (; *z; z++)
        if (((unsigned char)*z & 0xC0) != 0x80) n++;
    return n;
}

static const core_lang_t *release_lang(const core_release_t *r)
{
    const core_lang_t *l = core_lang_find_z(r->language);
    return l ? l : core_lang_default();
}

/* ---- parts of the item ------------------------------------------------ */

/* The properties every item has, tombstones included. */
static json_t *item_head(const core_release_t *r, const char *base_url, int full)
{
    json_t *o = json_object();
    char *uri = page_url(base_url, r->language, r->id);
    json_object_set_new(o, "uri", jstr(uri));
    free(uri);
    json_object_set_new(o, "type", json_string("text"));
    json_object_set_new(o, "representationType", json_string(full ? "full" : "partial"));
    json_object_set_new(o, "standard",
                        json_pack("{s:s, s:s, s:s}", "name", "ninjs", "version",
                                  FEEDS_NINJS_VERSION, "schema", FEEDS_NINJS_SCHEMA));
    char ver[24];
    snprintf(ver, sizeof(ver), "%d", r->version > 0 ? r->version : 1);
    json_object_set_new(o, "version", json_string(ver));
    return o;
}

static void add_alt_ids(json_t *o, const core_release_t *r)
{
    json_t *ids = json_array();
    json_array_append_new(ids, json_pack("{s:s, s:o}", "role", "release-id", "value", jstr(r->id)));
    if (r->translation_group && *r->translation_group)
        json_array_append_new(ids, json_pack("{s:s, s:o}", "role", "translation-group", "value",
                                             jstr(r->translation_group)));
    json_object_set_new(o, "altIds", ids);
}

static void add_headlines(json_t *o, const core_release_t *r)
{
    json_t *h = json_array();
    json_array_append_new(h,
                          json_pack("{s:s, s:s, s:o}", "role", "main", "contentType", "text/plain",
                                    "value", jstr(r->headline ? r->headline : "")));
    if (r->subheadline && *r->subheadline)
        json_array_append_new(h, json_pack("{s:s, s:s, s:o}", "role", "subhead", "contentType",
                                           "text/plain", "value", jstr(r->subheadline)));
    json_object_set_new(o, "headlines", h);
}

static void add_bodies(json_t *o, const core_release_t *r)
{
    const char *md = r->body ? r->body : "";
    size_t n = strlen(md);
    char *html = core_markdown_html(md, n);
    char *text = core_markdown_text(md, n, 0);
    json_t *b = json_array();
    json_array_append_new(b, json_pack("{s:s, s:s, s:o}", "role", "main", "contentType",
                                       "text/html", "value", jstr(html)));
    json_array_append_new(b, json_pack("{s:s, s:s, s:I, s:o}", "role", "main", "contentType",
                                       "text/plain", "charCount", (json_int_t)utf8_chars(text),
                                       "value", jstr(text)));
    json_object_set_new(o, "bodies", b);
    free(html);
    free(text);
}

/* feeds_render.h: the dateline, shared with NewsML-G2. */
char *feeds_dateline(const core_release_t *r, const core_lang_t *lang, const char *wire_name,
                     int64_t date_ms)
{
    if (!lang) lang = release_lang(r);
    char *date = core_time_format_local(date_ms, lang->icu_locale, CORE_TIME_DATE);
    kw_buf_t b = {0};
    if (r->dateline_place && *r->dateline_place) {
        kw_buf_puts(&b, r->dateline_place);
        kw_buf_puts(&b, core_lang_list_separator(lang));
    }
    kw_buf_printf(&b, "%s (%s) \xE2\x80\x93", date, wire_name ? wire_name : "kawat");
    free(date);
    return kw_buf_steal(&b, NULL);
}

/* "PLACE, 28 November 2026 (wire) –" as the release page opens its body,
 * and the wire's boilerplate, both in the release's language. */
static void add_descriptions(json_t *o, const core_release_t *r, const core_lang_t *lang,
                             const char *wire_name, int64_t date_ms)
{
    json_t *d = json_array();
    if (date_ms > 0) {
        char *line = feeds_dateline(r, lang, wire_name, date_ms);
        json_array_append_new(d, json_pack("{s:s, s:s, s:o}", "role", "dateline", "contentType",
                                           "text/plain", "value", jstr(line)));
        free(line);
    }
    char *bp = core_lang_format(lang, MSG_BOILERPLATE, wire_name);
    json_array_append_new(d, json_pack("{s:s, s:s, s:o}", "role", "boilerplate", "contentType",
                                       "text/plain", "value", jstr(bp)));
    free(bp);
    json_object_set_new(o, "descriptions", d);
}

static void add_subjects(json_t *o, const core_release_t *r)
{
    if (!json_is_array(r->sectors) || json_array_size(r->sectors) == 0) return;
    json_t *subjects = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(r->sectors, i, v)
    {
        const char *slug = json_string_value(v);
        if (!slug || !*slug) continue;
        const core_sector_t *s = core_sector_find((kw_str_t){slug, strlen(slug)});
        json_t *sub = json_object();
        json_object_set_new(sub, "name", jstr(s ? s->name : slug));
        json_object_set_new(sub, "literal", jstr(s ? s->slug : slug));
        if (s && s->media_topic) {
            const char *code = s->media_topic;
            if (strncmp(code, "medtop:", 7) == 0) {
                kw_buf_t b = {0};
                kw_buf_printf(&b, MEDIATOPIC_BASE "%s", code + 7);
                json_object_set_new(sub, "uri", jstr(b.data));
                kw_buf_free(&b);
            } else if (strncmp(code, "http://", 7) == 0 || strncmp(code, "https://", 8) == 0) {
                json_object_set_new(sub, "uri", jstr(code));
            }
        }
        json_array_append_new(subjects, sub);
    }
    if (json_array_size(subjects))
        json_object_set_new(o, "subjects", subjects);
    else
        json_decref(subjects);
}

static void add_places(json_t *o, const core_release_t *r)
{
    if (!json_is_array(r->regions) || json_array_size(r->regions) == 0) return;
    json_t *places = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(r->regions, i, v)
    {
        const char *code = json_string_value(v);
        if (!code || !*code) continue;
        const core_region_t *reg = core_region_find((kw_str_t){code, strlen(code)});
        json_t *p = json_object();
        if (reg) {
            kw_buf_t b = {0};
            kw_buf_printf(&b, ISO3166_BASE "%s", reg->code);
            json_object_set_new(p, "name", jstr(reg->name));
            json_object_set_new(p, "literal", jstr(reg->code));
            json_object_set_new(p, "uri", jstr(b.data));
            kw_buf_free(&b);
        } else {
            json_object_set_new(p, "literal", jstr(code));
        }
        json_array_append_new(places, p);
    }
    if (json_array_size(places))
        json_object_set_new(o, "places", places);
    else
        json_decref(places);
}

/* The issuer's media contacts as ninjs contactInfo: one entry per e-mail
 * address and per phone number (contactInfo requires a value). */
static json_t *contact_info(const core_release_t *r)
{
    json_t *arr = json_array();
    size_t i;
    json_t *c;
    if (!json_is_array(r->contacts)) return arr;
    json_array_foreach(r->contacts, i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *org = json_string_value(json_object_get(c, "organization"));
        kw_buf_t label = {0};
        if (name && *name) kw_buf_puts(&label, name);
        if (org && *org) kw_buf_printf(&label, label.len ? " (%s)" : "%s", org);
        static const char *const kinds[][2] = {{"email", "email"}, {"phone", "phone"}};
        for (size_t k = 0; k < 2; k++) {
            const char *value = json_string_value(json_object_get(c, kinds[k][0]));
            if (!value || !*value) continue;
            json_t *ci = json_object();
            json_object_set_new(ci, "type", json_string(kinds[k][1]));
            json_object_set_new(ci, "role", json_string("media contact"));
            if (label.len) json_object_set_new(ci, "name", jstr(label.data));
            json_object_set_new(ci, "value", jstr(value));
            json_array_append_new(arr, ci);
        }
        kw_buf_free(&label);
    }
    return arr;
}

static void add_parties(json_t *o, const core_release_t *r, const char *base_url,
                        const char *wire_name)
{
    set_str(o, "by", r->issuer_name);
    set_str(o, "copyrightHolder", r->issuer_name);
    json_t *src = json_array();
    json_t *issuer = json_object();
    if (r->issuer_name && *r->issuer_name)
        json_object_set_new(issuer, "name", jstr(r->issuer_name));
    json_object_set_new(issuer, "role", json_string(CPPROLE_BASE "origcont"));
    if (r->issuer_slug && *r->issuer_slug)
        json_object_set_new(issuer, "literal", jstr(r->issuer_slug));
    else if (r->issuer_id[0])
        json_object_set_new(issuer, "literal", jstr(r->issuer_id));
    json_t *ci = contact_info(r);
    if (json_array_size(ci))
        json_object_set_new(issuer, "contactInfo", ci);
    else
        json_decref(ci);
    json_array_append_new(src, issuer);
    json_t *wire = json_object();
    json_object_set_new(wire, "name", jstr(wire_name));
    json_object_set_new(wire, "role", json_string(CPPROLE_BASE "distributor"));
    if (base_url && *base_url) json_object_set_new(wire, "uri", jstr(base_url));
    json_array_append_new(src, wire);
    json_object_set_new(o, "infoSources", src);
}

static void add_translations(json_t *o, const core_release_t *r, const char *base_url,
                             const json_t *translations)
{
    if (!json_is_array(translations) || json_array_size(translations) == 0) return;
    json_t *assoc = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(translations, i, t)
    {
        const char *lang = json_string_value(json_object_get(t, "language"));
        const char *id = json_string_value(json_object_get(t, "id"));
        const char *url = json_string_value(json_object_get(t, "url"));
        if (!lang || !*lang) continue;
        if (id && strcmp(id, r->id) == 0) continue;
        if ((!url || !*url) && (!id || !*id)) continue;
        char *built = NULL;
        if (!url || !*url) url = built = page_url(base_url, lang, id);
        char name[64];
        snprintf(name, sizeof(name), "translation-%s", lang);
        json_t *a = json_object();
        json_object_set_new(a, "name", jstr(name));
        json_object_set_new(a, "rel", json_string("translation"));
        json_object_set_new(a, "uri", jstr(url));
        json_object_set_new(a, "type", json_string("text"));
        json_object_set_new(a, "language", jstr(lang));
        if (id && *id)
            json_object_set_new(a, "altIds",
                                json_pack("[{s:s, s:o}]", "role", "release-id", "value", jstr(id)));
        json_array_append_new(assoc, a);
        free(built);
    }
    if (json_array_size(assoc))
        json_object_set_new(o, "associations", assoc);
    else
        json_decref(assoc);
}

/* ---- items ------------------------------------------------------------ */

/* The canceled tombstone of a withdrawn release: identity, times and the
 * notice; no content. */
static json_t *item_withdrawn(const core_release_t *r, const char *base_url, const char *wire_name)
{
    const core_lang_t *lang = release_lang(r);
    json_t *o = item_head(r, base_url, 0);
    set_time(o, "firstCreated", r->published_at);
    int64_t when = r->withdrawn_at ? r->withdrawn_at : r->updated_at;
    set_time(o, "versionCreated", when);
    json_object_set_new(o, "pubStatus", json_string("canceled"));
    json_object_set_new(o, "language", jstr(r->language));
    char *notice = core_lang_format(lang, MSG_WITHDRAWN, wire_name);
    kw_buf_t b = {0};
    kw_buf_puts(&b, notice);
    if (r->withdrawal_reason && *r->withdrawal_reason) {
        kw_buf_putc(&b, ' ');
        kw_buf_puts(&b, r->withdrawal_reason);
    }
    json_object_set_new(o, "edNote", jstr(b.data));
    kw_buf_free(&b);
    free(notice);
    add_alt_ids(o, r);
    return o;
}

/* The full item. embargo_ms > 0 marks it embargoed until then (early
 * delivery); otherwise r's own embargo time, if any, is given. */
static json_t *item_full(const core_release_t *r, const char *base_url, const char *wire_name,
                         const json_t *translations, int64_t embargo_ms)
{
    const core_lang_t *lang = release_lang(r);
    json_t *o = item_head(r, base_url, 1);

    int64_t first = r->published_at;
    int64_t version_at = r->version > 1 && r->updated_at ? r->updated_at : r->published_at;
    if (!version_at) version_at = r->updated_at;
    set_time(o, "firstCreated", first);
    set_time(o, "versionCreated", version_at);
    set_time(o, "embargoedUntil", embargo_ms > 0 ? embargo_ms : r->embargo_until);
    json_object_set_new(o, "pubStatus", json_string("usable"));
    json_object_set_new(o, "language", jstr(r->language));

    char *disclaimer = core_lang_format(lang, MSG_DISCLAIMER, wire_name);
    json_object_set_new(o, "usageTerms", jstr(disclaimer));
    free(disclaimer);

    if (r->version > 1) {
        int has_note = r->correction_note && *r->correction_note;
        char *label =
            core_lang_format(lang, has_note ? MSG_CORRECTION_NOTE : MSG_CORRECTED, wire_name);
        kw_buf_t b = {0};
        kw_buf_puts(&b, label);
        if (has_note) kw_buf_printf(&b, ": %s", r->correction_note);
        json_object_set_new(o, "edNote", jstr(b.data));
        kw_buf_free(&b);
        free(label);
    }

    add_headlines(o, r);
    add_bodies(o, r);
    /* The dateline carries the publication date; before it, the lift. */
    add_descriptions(o, r, lang, wire_name, first ? first : embargo_ms);
    set_str(o, "located", r->dateline_place);
    add_subjects(o, r);
    add_places(o, r);
    json_object_set_new(o, "genres", json_pack("[{s:s}]", "name", "Press Release"));
    add_parties(o, r, base_url, wire_name);
    add_translations(o, r, base_url, translations);
    add_alt_ids(o, r);
    return o;
}

/* ---- public ----------------------------------------------------------- */

int feeds_ninjs_kind_valid(const char *kind)
{
    return kind &&
           (strcmp(kind, FEEDS_KIND_PUBLISH) == 0 || strcmp(kind, FEEDS_KIND_CORRECTION) == 0 ||
            strcmp(kind, FEEDS_KIND_WITHDRAWAL) == 0 || strcmp(kind, FEEDS_KIND_EMBARGO) == 0);
}

json_t *feeds_ninjs_release(const core_release_t *r, const char *base_url, const char *wire_name,
                            const json_t *translations)
{
    if (!r || !r->id[0] || !r->language[0]) return NULL;
    if (!wire_name || !*wire_name) wire_name = "kawat";
    if (r->state == REL_WITHDRAWN) return item_withdrawn(r, base_url, wire_name);
    if (r->state != REL_PUBLISHED && r->state != REL_CORRECTED) return NULL;
    return item_full(r, base_url, wire_name, translations, 0);
}

json_t *feeds_ninjs_event(const core_release_t *r, int64_t seq, const char *kind,
                          const char *base_url, const char *wire_name, const json_t *translations)
{
    if (!r || !r->id[0] || !r->language[0] || !feeds_ninjs_kind_valid(kind)) return NULL;
    if (!wire_name || !*wire_name) wire_name = "kawat";
    json_t *item;
    if (r->state == REL_WITHDRAWN || strcmp(kind, FEEDS_KIND_WITHDRAWAL) == 0) {
        /* Only what was once public may be announced as withdrawn. */
        if (r->state != REL_WITHDRAWN && r->state != REL_PUBLISHED && r->state != REL_CORRECTED)
            return NULL;
        item = item_withdrawn(r, base_url, wire_name);
    } else if (strcmp(kind, FEEDS_KIND_EMBARGO) == 0) {
        int waiting = r->state == REL_EMBARGOED || r->state == REL_SCHEDULED;
        int public_ = r->state == REL_PUBLISHED || r->state == REL_CORRECTED;
        if (r->embargo_until <= 0 || !(waiting || public_)) return NULL;
        int64_t lift = waiting ? core_release_due(r) : r->embargo_until;
        item = item_full(r, base_url, wire_name, translations, lift);
    } else {
        item = feeds_ninjs_release(r, base_url, wire_name, translations);
    }
    if (!item) return NULL;
    json_t *ev = json_object();
    if (seq > 0) json_object_set_new(ev, "seq", json_integer((json_int_t)seq));
    json_object_set_new(ev, "kind", json_string(kind));
    json_object_set_new(ev, "id", jstr(r->id));
    json_object_set_new(ev, "item", item);
    return ev;
}
