/* web_route.c -- every GET outside the API: portal pages, feeds, sitemaps,
 * robots.txt, static files.
 *
 * The cache answers first: a target it holds was valid when rendered and
 * stays valid until a wire event drops it (web_cache.c). Misses are parsed
 * into a scope (web_scope.c) and rendered: pages by web_pages.c, feeds and
 * discovery documents here with feeds_render.h. Only public releases are
 * ever read (STORE_SCOPE_PUBLIC lists published and corrected releases). */
#include "web/web.h"
#include "core/core_time.h"
#include "feeds/feeds_render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FEED_SIZE 50           /* entries per feed */
#define SITEMAP_MAX 50000      /* URLs per sitemap (sitemaps.org's limit) */
#define NEWS_SITEMAP_MAX 1000  /* Google News sitemaps: at most 1,000 URLs */
#define NEWS_SITEMAP_AGE (2 * 86400000LL) /* ... of the last two days */
#define DAY_MS 86400000LL

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* When a release last changed as readers see it. */
static int64_t release_modified(const core_release_t *r)
{
    return r->state == REL_CORRECTED && r->updated_at > r->published_at ? r->updated_at
                                                                           : r->published_at;
}

static void free_items(core_release_t **items, size_t n)
{
    for (size_t i = 0; i < n; i++) core_release_free(items[i]);
    free(items);
}

/* Reads public releases of q, following cursors up to max. */
static void read_all(kawat_app_t *app, store_query_t *q, size_t max, core_release_t ***out,
                     size_t *n)
{
    core_release_t **all = NULL;
    size_t count = 0, cap = 0;
    q->limit = 100;
    for (;;) {
        core_release_t **items = NULL;
        size_t got = 0;
        int64_t next = 0;
        if (store_release_list(app->store, q, &items, &got, &next) != KW_OK) break;
        for (size_t i = 0; i < got; i++) {
            if (count == max) {
                core_release_free(items[i]);
                continue;
            }
            if (count == cap) {
                cap = cap ? cap * 2 : 128;
                all = kw_realloc(all, cap * sizeof(*all));
            }
            all[count++] = items[i];
        }
        free(items);
        if (next == 0 || count == max) break;
        q->cursor = next;
    }
    *out = all;
    *n = count;
}

static json_t **translations_of(kawat_app_t *app, core_release_t *const *items, size_t n)
{
    if (n == 0) return NULL;
    json_t **tr = kw_calloc(n, sizeof(*tr));
    for (size_t i = 0; i < n; i++)
        if (items[i]->translation_group)
            tr[i] = store_translations(app->store, items[i]->translation_group, items[i]->id);
    return tr;
}

static void free_translations(json_t **tr, size_t n)
{
    if (tr == NULL) return;
    for (size_t i = 0; i < n; i++) json_decref(tr[i]);
    free(tr);
}

static const char **ids_of(core_release_t *const *items, size_t n)
{
    const char **ids = kw_calloc(n ? n : 1, sizeof(*ids));
    for (size_t i = 0; i < n; i++) ids[i] = items[i]->id;
    return ids;
}

/* ---- feeds ---- */

static void serve_feed(kawat_app_t *app, net_request_t *req, const web_scope_t *scope,
                       feeds_format_t f)
{
    if (req->query.len) { /* feeds take no parameters */
        web_error(app, req, scope->lang, 400);
        return;
    }
    store_query_t q;
    web_scope_query(scope, &q);
    q.limit = FEED_SIZE;
    core_release_t **items = NULL;
    size_t n = 0;
    int64_t next = 0;
    if (store_release_list(app->store, &q, &items, &n, &next) != KW_OK) {
        web_error(app, req, scope->lang, 503);
        return;
    }
    json_t **tr = f == FEEDS_NINJS || f == FEEDS_NEWSML ? translations_of(app, items, n) : NULL;
    int64_t updated = 0;
    for (size_t i = 0; i < n; i++)
        if (release_modified(items[i]) > updated) updated = release_modified(items[i]);

    kw_buf_t title = {0}, self = {0};
    web_scope_title(app, scope, NULL, &title);
    kw_buf_printf(&self, "%s%s", scope->path, feeds_format_file(f));
    feeds_meta_t m = {
        .base_url = app->base_url,
        .wire_name = app->wire_name,
        .self_path = self.data,
        .page_path = scope->lang ? scope->path : NULL,
        .hub_path = "/websub",
        .title = title.data ? title.data : app->wire_name,
        .lang = scope->lang,
        .updated_ms = updated,
    };
    kw_buf_t body = {0};
    feeds_render(f, &m, items, n, tr, &body);

    /* WebSub discovery (W3C WebSub 4): the hub and the topic's own URL. */
    kw_buf_t h = {0};
    kw_buf_printf(&h, "Link: <%s/websub>; rel=\"hub\", <%s%s>; rel=\"self\"\r\n", app->base_url,
                  app->base_url, self.data);
    const char **ids = ids_of(items, n);
    web_deps_t deps = {
        .list = 1,
        .language = scope->lang ? scope->lang->tag : NULL,
        .sector = scope->sector,
        .region = scope->region,
        .issuer_id = scope->issuer_id[0] ? scope->issuer_id : NULL,
        .day_from = scope->day_from,
        .day_until = scope->day_until,
        .ids = ids,
        .nids = n,
    };
    web_cache_respond(app->cache, req, 200, feeds_format_type(f), h.data, &body,
                      updated ? updated : app->started_ms, &deps);
    free(ids);
    kw_buf_free(&h);
    kw_buf_free(&title);
    kw_buf_free(&self);
    free_translations(tr, n);
    free_items(items, n);
}

/* ---- discovery ---- */

static void serve_robots(kawat_app_t *app, net_request_t *req)
{
    kw_buf_t b = {0};
    /* Everything public may be crawled; the API and streams are for
     * programs, not crawlers. */
    kw_buf_printf(&b,
                  "User-agent: *\nDisallow: /v1/\nDisallow: /websub\nDisallow: /metrics\n"
                  "Allow: /\n\nSitemap: %s/sitemap.xml\nSitemap: %s/sitemap-news.xml\n",
                  app->base_url, app->base_url);
    web_deps_t deps = {0};
    web_cache_respond(app->cache, req, 200, "text/plain; charset=utf-8", NULL, &b,
                      app->started_ms, &deps);
}

/* [first midnight of month m, first midnight of the next) in ms UTC. */
static void month_range(int64_t y, unsigned m, int64_t *from, int64_t *until)
{
    *from = core_time_days_from_civil(y, m, 1) * DAY_MS;
    *until = (m == 12 ? core_time_days_from_civil(y + 1, 1, 1)
                      : core_time_days_from_civil(y, m + 1, 1)) *
             DAY_MS;
}

/* The public releases published in month m of year y (at most
 * SITEMAP_MAX) and the newest change among them. */
static void month_releases(kawat_app_t *app, int64_t y, unsigned m, core_release_t ***items,
                           size_t *n, int64_t *lastmod)
{
    store_query_t q = {.scope = STORE_SCOPE_PUBLIC};
    month_range(y, m, &q.published_from, &q.published_until);
    read_all(app, &q, SITEMAP_MAX, items, n);
    *lastmod = 0;
    for (size_t k = 0; k < *n; k++)
        if (release_modified((*items)[k]) > *lastmod) *lastmod = release_modified((*items)[k]);
}

static void month_of(int64_t ms, char *out, size_t size)
{
    int64_t y;
    unsigned m, d;
    core_time_civil_from_days(ms / DAY_MS, &y, &m, &d);
    snprintf(out, size, "%04lld-%02u", (long long)y, m);
}

static void serve_sitemap_index(kawat_app_t *app, net_request_t *req)
{
    json_t *days = store_public_days(app->store, NULL, 0, 0);
    feeds_sitemap_month_t *months = kw_calloc(json_array_size(days) + 1, sizeof(*months));
    size_t nm = 0;
    size_t i;
    json_t *d;
    int64_t newest = 0;
    /* The days come newest first: a month's are consecutive, and its
     * lastmod is the newest change among them (one aggregate query, no
     * release read). */
    json_array_foreach(days, i, d)
    {
        char mon[8];
        month_of(json_integer_value(json_object_get(d, "day_ms")), mon, sizeof(mon));
        int64_t modified = json_integer_value(json_object_get(d, "modified_ms"));
        if (nm == 0 || strcmp(months[nm - 1].month, mon) != 0) {
            snprintf(months[nm].month, sizeof(months[nm].month), "%s", mon);
            nm++;
        }
        if (modified > months[nm - 1].lastmod_ms) months[nm - 1].lastmod_ms = modified;
        if (modified > newest) newest = modified;
    }
    json_decref(days);
    kw_buf_t b = {0};
    feeds_sitemap_index(app->base_url, months, nm, &b);
    free(months);
    web_deps_t deps = {.list = 1}; /* every event may add a month or change a lastmod */
    web_cache_respond(app->cache, req, 200, "application/xml; charset=utf-8", NULL, &b,
                      newest ? newest : app->started_ms, &deps);
}

/* "/sitemaps/2026-11.xml" */
static void serve_sitemap_month(kawat_app_t *app, net_request_t *req, kw_str_t name)
{
    char z[16];
    int64_t y;
    unsigned m;
    if (name.len != 11 || memcmp(name.data + 7, ".xml", 4) != 0) goto not_found;
    memcpy(z, name.data, 7);
    z[7] = '\0';
    if (z[4] != '-') goto not_found;
    for (int i = 0; i < 7; i++)
        if (i != 4 && (z[i] < '0' || z[i] > '9')) goto not_found;
    y = atoi(z);
    m = (unsigned)atoi(z + 5);
    if (y < 1970 || m < 1 || m > 12 || req->query.len) goto not_found;
    {
        core_release_t **items = NULL;
        size_t n = 0;
        int64_t lastmod;
        month_releases(app, y, m, &items, &n, &lastmod);
        if (n == 0) {
            free(items);
            goto not_found;
        }
        json_t **tr = translations_of(app, items, n);
        kw_buf_t b = {0};
        feeds_sitemap_urls(app->base_url, items, n, tr, &b);
        /* Any event may change a translation's alternates: a month's
         * sitemap is dropped by every event (they are few and cheap). */
        web_deps_t deps = {.list = 1};
        web_cache_respond(app->cache, req, 200, "application/xml; charset=utf-8", NULL, &b,
                          lastmod, &deps);
        free_translations(tr, n);
        free_items(items, n);
        return;
    }
not_found:
    web_error(app, req, NULL, 404);
}

static void serve_sitemap_news(kawat_app_t *app, net_request_t *req)
{
    if (req->query.len) {
        web_error(app, req, NULL, 400);
        return;
    }
    int64_t now = now_ms();
    store_query_t q = {.scope = STORE_SCOPE_PUBLIC, .published_from = now - NEWS_SITEMAP_AGE};
    core_release_t **items = NULL;
    size_t n = 0;
    read_all(app, &q, NEWS_SITEMAP_MAX, &items, &n);
    int64_t lastmod = 0, oldest = 0;
    for (size_t k = 0; k < n; k++) {
        if (release_modified(items[k]) > lastmod) lastmod = release_modified(items[k]);
        if (oldest == 0 || items[k]->published_at < oldest) oldest = items[k]->published_at;
    }
    kw_buf_t b = {0};
    feeds_sitemap_news(app->base_url, app->wire_name, items, n, &b);
    /* Dropped by every event, and when its oldest entry turns two days
     * old. */
    web_deps_t deps = {.list = 1, .expires_ms = oldest ? oldest + NEWS_SITEMAP_AGE : 0};
    web_cache_respond(app->cache, req, 200, "application/xml; charset=utf-8", NULL, &b,
                      lastmod ? lastmod : app->started_ms, &deps);
    free_items(items, n);
}

/* ---- routing ---- */

static void redirect(net_request_t *req, const char *path)
{
    kw_buf_t h = {0};
    kw_buf_printf(&h, "Location: %s", path);
    if (req->query.len) kw_buf_printf(&h, "?%.*s", (int)req->query.len, req->query.data);
    kw_buf_puts(&h, "\r\nCache-Control: no-cache\r\n");
    net_respond(req, 301, "text/plain; charset=utf-8", h.data, "", 0);
    kw_buf_free(&h);
}

/* Release ids: 'r' and lower-case base32; anything else is no release. */
static int release_id(kw_str_t s, char *out, size_t size)
{
    if (s.len < 2 || s.len >= size || s.data[0] != 'r') return 0;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.data[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) return 0;
    }
    memcpy(out, s.data, s.len);
    out[s.len] = '\0';
    return 1;
}

/* Campaign and click tags that links shared in mail, chat and social
 * posts carry ("?utm_source=…", "?fbclid=…"). Pages and feeds take no
 * such parameter, so they would be a 400; and each variant would be its
 * own cache entry. The reader is sent to the same address without them. */
static int tracking_param(const char *name)
{
    static const char *const exact[] = {"fbclid", "gclid", "dclid", "msclkid", "mc_cid",
                                        "mc_eid", "yclid", "igshid", NULL};
    if (strncmp(name, "utm_", 4) == 0) return 1;
    for (int i = 0; exact[i]; i++)
        if (strcmp(name, exact[i]) == 0) return 1;
    return 0;
}

/* Answers a 301 to the target without its tracking parameters and
 * returns 1, or returns 0 when it has none. */
static int strip_tracking(net_request_t *req)
{
    kw_str_t q = req->query;
    if (q.len == 0) return 0;
    kw_buf_t kept = {0};
    int dropped = 0;
    size_t i = 0;
    while (i <= q.len) {
        size_t j = i;
        while (j < q.len && q.data[j] != '&') j++;
        size_t eq = i;
        while (eq < j && q.data[eq] != '=') eq++;
        size_t nlen = 0;
        char *name = net_percent_decode(q.data + i, eq - i, 1, &nlen);
        if (name && j > i && tracking_param(name)) {
            dropped = 1;
        } else if (j > i) {
            if (kept.len) kw_buf_putc(&kept, '&');
            kw_buf_append(&kept, q.data + i, j - i);
        }
        free(name);
        i = j + 1;
    }
    if (!dropped) {
        kw_buf_free(&kept);
        return 0;
    }
    size_t plen = (size_t)((const char *)memchr(req->target.data, '?', req->target.len) -
                           req->target.data);
    kw_buf_t h = {0};
    kw_buf_printf(&h, "Location: %.*s", (int)plen, req->target.data);
    if (kept.len) kw_buf_printf(&h, "?%.*s", (int)kept.len, kept.data);
    kw_buf_puts(&h, "\r\nCache-Control: no-cache\r\n");
    net_respond(req, 301, "text/plain; charset=utf-8", h.data, "", 0);
    kw_buf_free(&h);
    kw_buf_free(&kept);
    return 1;
}

void web_route(kawat_app_t *app, net_request_t *req, const kw_str_t *seg, int n, int trailing)
{
    if (n == 2 && kw_str_eq(seg[0], "static") && !trailing) {
        char name[64];
        if (seg[1].len >= sizeof(name)) {
            web_error(app, req, NULL, 404);
            return;
        }
        memcpy(name, seg[1].data, seg[1].len);
        name[seg[1].len] = '\0';
        web_static(app, req, name);
        return;
    }
    if (strip_tracking(req)) return;
    if (web_cache_serve(app->cache, req)) return;

    if (n == 1 && !trailing) {
        if (kw_str_eq(seg[0], "robots.txt")) { serve_robots(app, req); return; }
        if (kw_str_eq(seg[0], "sitemap.xml")) { serve_sitemap_index(app, req); return; }
        if (kw_str_eq(seg[0], "sitemap-news.xml")) { serve_sitemap_news(app, req); return; }
    }
    if (n == 2 && kw_str_eq(seg[0], "sitemaps") && !trailing) {
        serve_sitemap_month(app, req, seg[1]);
        return;
    }

    /* A language tag spelled otherwise ("/ID/", "/zh-hans/") is sent to
     * the canonical spelling, the rest of the path kept. */
    const core_lang_t *lang = n > 0 ? core_lang_find(seg[0]) : NULL;
    if (lang && (seg[0].len != strlen(lang->tag) || memcmp(seg[0].data, lang->tag, seg[0].len))) {
        kw_buf_t p = {0};
        kw_buf_printf(&p, "/%s", lang->tag);
        for (int i = 1; i < n; i++) kw_buf_printf(&p, "/%.*s", (int)seg[i].len, seg[i].data);
        if (trailing || n == 1) kw_buf_putc(&p, '/');
        redirect(req, p.data);
        kw_buf_free(&p);
        return;
    }

    if (lang && n >= 2 && kw_str_eq(seg[1], "releases")) {
        char id[48];
        if (n == 3 && !trailing && release_id(seg[2], id, sizeof(id))) {
            web_release(app, req, lang, id);
            return;
        }
        web_error(app, req, lang, 404);
        return;
    }

    web_scope_t scope;
    int used = 0;
    int rc = web_scope_parse(app, seg, n, &scope, &used);
    if (rc != KW_OK) {
        web_error(app, req, lang, 404);
        return;
    }
    if (used == n) {
        /* A page. The all-languages scopes are feeds only; "/" is the
         * default language's home. */
        if (scope.lang == NULL && n > 0) {
            web_error(app, req, NULL, 404);
        } else if (n > 0 && !trailing) {
            redirect(req, scope.path);
        } else if (n == 0) {
            web_scope_clear(&scope);
            const core_lang_t *def = core_lang_find_z(app->default_language);
            kw_str_t one = {def ? def->tag : core_lang_default()->tag, 0};
            one.len = strlen(one.data);
            web_scope_parse(app, &one, 1, &scope, &used);
            web_listing(app, req, &scope);
        } else if (scope.kind == WEB_SCOPE_ARCHIVE) {
            web_archive(app, req, &scope);
        } else {
            web_listing(app, req, &scope);
        }
        web_scope_clear(&scope);
        return;
    }
    feeds_format_t f;
    if (used == n - 1 && !trailing && scope.kind != WEB_SCOPE_ARCHIVE &&
        feeds_format_from_file(seg[n - 1].data, seg[n - 1].len, &f) == KW_OK) {
        serve_feed(app, req, &scope, f);
        web_scope_clear(&scope);
        return;
    }
    web_scope_clear(&scope);
    web_error(app, req, lang, 404);
}
