/* web_scope.c -- what a listing page or a feed shows, parsed from its path.
 *
 * A scope is resolved against the wire's own lists (languages, the managed
 * sectors, ISO regions, the issuers in the store) before anything is read,
 * so an unknown name is a 404 and never an empty page that a crawler would
 * index. Paths are canonical: the language tag as kawat spells it, the
 * sector's slug, the region's upper-case code, the issuer's slug. */
#include "web/web.h"
#include "core/core_region.h"
#include "core/core_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL

static int copy_seg(kw_str_t s, char *out, size_t size)
{
    if (s.len == 0 || s.len >= size) return 0;
    memcpy(out, s.data, s.len);
    out[s.len] = '\0';
    return 1;
}

/* "2026-11-28" -> [midnight UTC, next midnight). Only real dates. */
static int parse_day(kw_str_t s, int64_t *from, int64_t *until)
{
    char z[11];
    if (s.len != 10 || !copy_seg(s, z, sizeof(z))) return 0;
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            if (z[i] != '-') return 0;
        } else if (z[i] < '0' || z[i] > '9') {
            return 0;
        }
    }
    int64_t y = atoi(z);
    unsigned m = (unsigned)atoi(z + 5), d = (unsigned)atoi(z + 8);
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31) return 0;
    int64_t days = core_time_days_from_civil(y, m, d);
    int64_t y2;
    unsigned m2, d2;
    core_time_civil_from_days(days, &y2, &m2, &d2);
    if (y2 != y || m2 != m || d2 != d) return 0; /* 2026-02-30 */
    *from = days * DAY_MS;
    *until = *from + DAY_MS;
    return 1;
}

static int scope_issuer(kawat_app_t *app, kw_str_t s, web_scope_t *scope)
{
    char key[64];
    if (!copy_seg(s, key, sizeof(key))) return 0;
    json_t *row = store_issuer_get(app->store, key);
    if (row == NULL) return 0;
    const char *slug = json_string_value(json_object_get(row, "slug"));
    const char *id = json_string_value(json_object_get(row, "id"));
    const char *name = json_string_value(json_object_get(row, "name"));
    /* Only the slug names a newsroom: one page per issuer, not two. */
    int ok = slug && id && strcmp(slug, key) == 0;
    if (ok) {
        snprintf(scope->issuer_id, sizeof(scope->issuer_id), "%s", id);
        snprintf(scope->issuer_slug, sizeof(scope->issuer_slug), "%s", slug);
        scope->issuer_name = kw_strdup(name ? name : slug);
    }
    json_decref(row);
    return ok;
}

int web_scope_parse(kawat_app_t *app, const kw_str_t *seg, int n, web_scope_t *scope, int *used)
{
    memset(scope, 0, sizeof(*scope));
    *used = 0;
    int i = 0;
    if (n > 0) {
        /* A first segment that is a language tag (exactly as kawat spells
         * it; the router redirects other spellings) opens a language's
         * scope; else the scope spans every language. */
        const core_lang_t *l = core_lang_find(seg[0]);
        if (l && seg[0].len == strlen(l->tag) && memcmp(seg[0].data, l->tag, seg[0].len) == 0) {
            scope->lang = l;
            i = 1;
        }
    }
    scope->kind = WEB_SCOPE_HOME;
    if (i < n) {
        kw_str_t a = seg[i];
        int has_arg = i + 1 < n;
        if (kw_str_eq(a, "sectors") && has_arg) {
            char slug[64];
            const char *found = copy_seg(seg[i + 1], slug, sizeof(slug))
                                    ? store_sector_resolve(app->store, slug)
                                    : NULL;
            if (found == NULL || strcmp(found, slug) != 0) return KW_NOTFOUND;
            scope->kind = WEB_SCOPE_SECTOR;
            scope->sector = found;
            i += 2;
        } else if (kw_str_eq(a, "regions") && has_arg) {
            const core_region_t *r = core_region_find(seg[i + 1]);
            if (r == NULL || strlen(r->code) != seg[i + 1].len ||
                memcmp(r->code, seg[i + 1].data, seg[i + 1].len) != 0)
                return KW_NOTFOUND;
            scope->kind = WEB_SCOPE_REGION;
            scope->region = r->code;
            i += 2;
        } else if (kw_str_eq(a, "issuers") && has_arg) {
            if (!scope_issuer(app, seg[i + 1], scope)) return KW_NOTFOUND;
            scope->kind = WEB_SCOPE_ISSUER;
            i += 2;
        } else if (kw_str_eq(a, "archive") && scope->lang) {
            scope->kind = WEB_SCOPE_ARCHIVE;
            i++;
            if (i < n && seg[i].len == 10 && seg[i].data[4] == '-') {
                if (!parse_day(seg[i], &scope->day_from, &scope->day_until)) return KW_NOTFOUND;
                scope->kind = WEB_SCOPE_DAY;
                i++;
            }
        } else if (kw_str_eq(a, "sectors") || kw_str_eq(a, "regions") ||
                   kw_str_eq(a, "issuers") || kw_str_eq(a, "archive")) {
            return KW_NOTFOUND; /* "/en/sectors/": no index pages of those */
        }
        /* Any other word ends the scope: the caller looks at what follows
         * ("atom.xml", "releases/…"). */
    }

    /* The canonical path. */
    kw_buf_t p = {0};
    kw_buf_putc(&p, '/');
    if (scope->lang) kw_buf_printf(&p, "%s/", scope->lang->tag);
    switch (scope->kind) {
    case WEB_SCOPE_SECTOR: kw_buf_printf(&p, "sectors/%s/", scope->sector); break;
    case WEB_SCOPE_REGION: kw_buf_printf(&p, "regions/%s/", scope->region); break;
    case WEB_SCOPE_ISSUER: kw_buf_printf(&p, "issuers/%s/", scope->issuer_slug); break;
    case WEB_SCOPE_ARCHIVE: kw_buf_puts(&p, "archive/"); break;
    case WEB_SCOPE_DAY: {
        int64_t y;
        unsigned m, d;
        core_time_civil_from_days(scope->day_from / DAY_MS, &y, &m, &d);
        kw_buf_printf(&p, "archive/%04lld-%02u-%02u/", (long long)y, m, d);
        break;
    }
    case WEB_SCOPE_HOME: break;
    }
    snprintf(scope->path, sizeof(scope->path), "%.*s", (int)p.len, p.data ? p.data : "/");
    kw_buf_free(&p);
    *used = i;
    return KW_OK;
}

void web_scope_clear(web_scope_t *scope)
{
    free(scope->issuer_name);
    scope->issuer_name = NULL;
}

void web_scope_query(const web_scope_t *scope, store_query_t *q)
{
    memset(q, 0, sizeof(*q));
    q->scope = STORE_SCOPE_PUBLIC;
    q->language = scope->lang ? scope->lang->tag : NULL;
    q->sector = scope->sector;
    q->region = scope->region;
    q->issuer_id = scope->issuer_id[0] ? scope->issuer_id : NULL;
    q->published_from = scope->day_from;
    q->published_until = scope->day_until;
    q->limit = 20;
}

int web_json_has(const json_t *arr, const char *z)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *s = json_string_value(v);
        if (s && strcmp(s, z) == 0) return 1;
    }
    return 0;
}

int web_scope_matches(const web_scope_t *scope, const core_release_t *r)
{
    if (scope->lang && strcmp(scope->lang->tag, r->language) != 0) return 0;
    if (scope->sector && !web_json_has(r->sectors, scope->sector)) return 0;
    if (scope->region && !web_json_has(r->regions, scope->region)) return 0;
    if (scope->issuer_id[0] && strcmp(scope->issuer_id, r->issuer_id) != 0) return 0;
    if (scope->day_until && (r->published_at < scope->day_from || r->published_at >= scope->day_until))
        return 0;
    return 1;
}
