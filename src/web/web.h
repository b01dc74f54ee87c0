/* web.h -- the reader's portal: server-rendered HTML5 with every text from
 * a release escaped, lang and dir set, localized labels and dates; the
 * scopes pages and feeds are listed by; the routing of every non-API GET. */
#ifndef KAWAT_WEB_H
#define KAWAT_WEB_H

#include "api/api.h"
#include "auth/auth.h"
#include "core/core_lang.h"

/* ---- scopes: what a listing page or a feed shows ----
 *
 * URL scheme (docs/api.md has the full table):
 *   /{lang}/                         a language's latest releases (page)
 *   /{lang}/sectors/{slug}/          ... in one sector (page)
 *   /{lang}/regions/{CC}/            ... about one region, ISO 3166-1 upper case (page)
 *   /{lang}/issuers/{slug}/          ... of one issuer: its newsroom (page)
 *   /{lang}/archive/                 the days with releases (page)
 *   /{lang}/archive/YYYY-MM-DD/      one UTC day's releases (page)
 *   /sectors/{slug}/  /regions/{CC}/  /issuers/{slug}/   all languages (feeds only)
 *   /                                all languages (feeds); the page is the
 *                                    default language's home
 * A feed is its listing path + one of FEEDS_FILE_* (feeds/feeds.h):
 * "/id/sectors/technology/rss.xml". */
typedef enum {
    WEB_SCOPE_HOME,    /* language (or all) */
    WEB_SCOPE_SECTOR,
    WEB_SCOPE_REGION,
    WEB_SCOPE_ISSUER,
    WEB_SCOPE_ARCHIVE, /* the list of days (pages only) */
    WEB_SCOPE_DAY
} web_scope_kind_t;

typedef struct {
    web_scope_kind_t kind;
    const core_lang_t *lang; /* NULL: all languages */
    const char *sector;      /* canonical slug (static storage: the store's) */
    const char *region;      /* ISO code (static storage) */
    char issuer_id[32];      /* "" unless WEB_SCOPE_ISSUER */
    char issuer_slug[64];
    char *issuer_name;       /* owned; web_scope_clear frees it */
    int64_t day_from, day_until; /* WEB_SCOPE_DAY: [midnight UTC, next midnight) */
    char path[160];          /* canonical listing path, ending in '/': "/id/sectors/technology/" */
} web_scope_t;

/* Parses the listing part of a path, already split into segments (decoded),
 * e.g. {"id","sectors","technology"}. *used is the count of segments the
 * scope took; the caller looks at what follows (nothing, a feed file, or
 * another route's words: "releases/…", "robots.txt"). A first segment that
 * is not a language tag spelled exactly as kawat spells it opens the
 * all-languages scope. Returns KW_OK; KW_NOTFOUND for an unknown sector,
 * region, issuer, a day that is not a real date, or a scope word without
 * its argument ("/en/sectors/"). */
int web_scope_parse(kawat_app_t *app, const kw_str_t *seg, int n, web_scope_t *scope, int *used);
void web_scope_clear(web_scope_t *scope);

/* The store query listing the scope's public releases (first page). */
void web_scope_query(const web_scope_t *scope, store_query_t *q);

/* Whether a release belongs to the scope's list (its language, sector,
 * region, issuer, day). Says nothing of its state: callers show only public
 * releases. */
int web_scope_matches(const web_scope_t *scope, const core_release_t *r);
/* Whether the JSON array of strings arr holds z (sectors, regions). */
int web_json_has(const json_t *arr, const char *z);

/* ---- routing and pages (web_pages.c) ---- */

/* Every GET/HEAD outside /v1, /healthz, /metrics: pages, feeds, sitemaps,
 * robots.txt, static files. seg/n/trailing as split by the router. */
void web_route(kawat_app_t *app, net_request_t *req, const kw_str_t *seg, int n, int trailing);

/* A listing page: scope->lang is set and scope->kind is HOME, SECTOR,
 * REGION, ISSUER or DAY. Takes ?cursor= (pagination, newest first; a
 * cursor past the end is a 404 page, a malformed one or any other
 * parameter a 400 page). Answers through web_cache_respond with deps for
 * the scope's list and the ids shown. "/" is the default language's HOME. */
void web_listing(kawat_app_t *app, net_request_t *req, const web_scope_t *scope);
/* "/{lang}/archive/": the UTC days with releases in the language, newest
 * first, each linking its day page, with counts. */
void web_archive(kawat_app_t *app, net_request_t *req, const web_scope_t *scope);
/* "/{lang}/releases/{id}": a published release (410 page if withdrawn). */
void web_release(kawat_app_t *app, net_request_t *req, const core_lang_t *lang, const char *id);
/* The scope's title as plain text in ui's language: "Berita Indonesia
 * Terbaru Hari Ini", "Technology" news, an issuer's name, a localized date
 * (feeds use it too). ui NULL: the scope's language, else the default. */
void web_scope_title(kawat_app_t *app, const web_scope_t *scope, const core_lang_t *ui,
                     kw_buf_t *out);
/* Appends the article of a release page (<article>...</article>) for r in
 * lang: the same markup readers get, used by the desk's preview. tr: the
 * release's other language versions (store_translations) or NULL. */
void web_release_article(kawat_app_t *app, const core_release_t *r, const core_lang_t *lang,
                         json_t *tr, kw_buf_t *b);
/* A 400, 404 or 503 page in the reader's language (default language when
 * lang is NULL). Never cached. */
void web_error(kawat_app_t *app, net_request_t *req, const core_lang_t *lang, int status);
/* "/static/NAME": the stylesheet and friends, compiled in. */
void web_static(kawat_app_t *app, net_request_t *req, const char *name);

/* The attributes /static/live.js reads to draw stream items as listings
 * do, after data-stream: data-after (the wire position the page shows),
 * the localized sector label and separators, and every sector's localized
 * name (data-sector-names, JSON). */
void web_live_labels(kw_buf_t *b, kawat_app_t *app, const core_lang_t *lang, int64_t after);

/* Appends z escaped for HTML text and attribute values. */
void web_escape(kw_buf_t *b, const char *z);

/* ---- the cache of rendered pages and feeds (web_cache.c) ----
 *
 * Pages and feeds are rendered once and kept in memory, keyed by request
 * target (path and raw query). Every answer carries a strong ETag (a hash
 * of the body) and Last-Modified; If-None-Match / If-Modified-Since get a
 * 304. An entry is dropped precisely when a wire event (publish, correction,
 * withdrawal) touches what it shows: its deps say which releases and which
 * lists. The cache is bounded in bytes (least recently used go first). */
typedef struct web_cache_s web_cache_t;

/* What a cached response shows. An event's release R drops the entry when:
 *   - R's id is among ids (it is shown: its page, or an item of a list), or
 *   - group is set and equals R's translation group (a release page links
 *     its other language versions), or
 *   - list is set and R belongs to the list: every selector field that is
 *     set (language, sector, region, issuer_id, day range) matches R. A list
 *     with no selector field (all languages, everything) is dropped by
 *     every event: sitemaps, the all-languages feeds.
 * expires_ms, when not 0, also drops it at that instant (the news sitemap
 * shows the last two days). Strings are copied. */
typedef struct {
    int list;
    const char *language;
    const char *sector;
    const char *region;
    const char *issuer_id;
    int64_t day_from, day_until;
    const char *group;
    const char *const *ids;
    size_t nids;
    int64_t expires_ms;
} web_deps_t;

/* max_bytes 0 means no caching (every request renders; still ETag/304). */
web_cache_t *web_cache_new(size_t max_bytes);
void web_cache_free(web_cache_t *c);

/* Answers req from the cache when it holds req's target (200 with the body,
 * or 304 when the request's validators match). Returns 1 if answered, 0 if
 * the caller must render. */
int web_cache_serve(web_cache_t *c, net_request_t *req);

/* Answers req with a freshly rendered response and, when status is 200 or
 * 410, keeps it for the next requests of the same target. Takes body (the
 * buffer is freed). headers: extra header lines ("X: y\r\n") or NULL; the
 * cache adds ETag, Last-Modified (last_modified_ms, 0 = now) and
 * Cache-Control: no-cache (readers revalidate, so a withdrawal is never
 * served from a browser's or proxy's cache). A 304 is sent instead of the
 * body when the request's validators already match. */
void web_cache_respond(web_cache_t *c, net_request_t *req, int status, const char *content_type,
                       const char *headers, kw_buf_t *body, int64_t last_modified_ms,
                       const web_deps_t *deps);

/* Drops every entry a release event touches (see web_deps_t). */
void web_cache_release_changed(web_cache_t *c, const core_release_t *r);

/* Reads the wire log past what the cache has seen and drops what each
 * event touches. Called on the loop after every commit that appended wire
 * events (api_after_write). */
void web_cache_wire_advanced(kawat_app_t *app);
/* The wire position the cache starts from (store_wire_last_seq at start:
 * everything rendered after it shows the events up to it). */
void web_cache_wire_init(web_cache_t *c, int64_t seq);

typedef struct {
    uint64_t hits, misses, not_modified, stored, dropped, evicted;
    uint64_t entries, bytes, max_bytes;
} web_cache_stats_t;
void web_cache_get_stats(const web_cache_t *c, web_cache_stats_t *out);

/* ---- people: sessions and the account pages (web_session.c, web_account.c) ----
 *
 * A browser that logs in gets the cookie kawat_session (HttpOnly,
 * SameSite=Lax, Path=/, Secure when the base URL is https): 256 random
 * bits, kept by the store only as their SHA-256. Each session has its own
 * CSRF token, which every form posts back (field "csrf") and every unsafe
 * API call made with the cookie sends as X-CSRF-Token. */
#define WEB_SESSION_COOKIE "kawat_session"

typedef struct {
    store_session_t s;            /* the user (s.who), e-mail, CSRF token */
    char id_hash[AUTH_HEX_SIZE];  /* SHA-256 of the cookie value */
} web_session_t;

/* The session of the request's cookie: KW_OK, or KW_NOTFOUND when there
 * is no cookie or it names no live session. Refreshes last_seen (at most
 * once a minute, asynchronously). */
int web_session_get(kawat_app_t *app, net_request_t *req, web_session_t *out);

/* For api_authenticate, when a request has no Authorization header: the
 * principal of its session cookie (ROLE_NONE without one). An unsafe
 * method (anything but GET, HEAD, OPTIONS) authenticated by the cookie
 * must carry the session's CSRF token in X-CSRF-Token, else it is
 * answered 403 here and KW_FORBIDDEN returned. */
int web_session_authenticate(kawat_app_t *app, net_request_t *req, core_principal_t *who);

/* The value of cookie name in the request's Cookie header(s), copied into
 * out (size bytes, NUL-terminated): KW_OK, or KW_NOTFOUND when absent,
 * empty or longer than size - 1. */
int web_cookie_get(const net_request_t *req, const char *name, char *out, size_t size);

/* The reader's language from Accept-Language (web_pages.c); NULL if it
 * names none the wire carries. */
const core_lang_t *web_accept_language(const net_request_t *req);

/* The account pages: /login, /logout, /account, /reset, /reset/{token},
 * /admin/invites, /invite/{token}, for every method (GET, HEAD, POST;
 * others get 405). Returns 1 if the path is one of them (answered), 0 if
 * not (the caller routes it). */
int web_account_route(kawat_app_t *app, net_request_t *req, const kw_str_t *seg, int n,
                      int trailing);

/* The journalists' e-mail alert pages (web_signup.c): /signup (GET, HEAD,
 * POST), /confirm?token= (GET, HEAD), /unsubscribe?token= (GET, HEAD;
 * POST is RFC 8058's one-click). Returns 1 if the path is one of them
 * (answered, also with 405 for another method), 0 if not. */
int web_signup_route(kawat_app_t *app, net_request_t *req, const kw_str_t *seg, int n,
                     int trailing);

/* Subscriber self-service (web_subscriber.c): /me/ (beats, preview,
 * e-mail timing, feeds), /me/signup, /me/beats, /me/beats/remove,
 * /me/timing, /me/live, /me/endpoints, /me/endpoints/{id}. Returns 1 if the
 * path is one of them (answered, also with 405 for another method), 0 if
 * not. */
int web_subscriber_route(kawat_app_t *app, net_request_t *req, const kw_str_t *seg, int n,
                         int trailing);

/* The issuer portal and the editor desk (web_desk.c): /desk,
 * /desk/new, /desk/preview, /desk/releases/{id}, for logged-in issuers,
 * editors and admins. Returns 1 if the path is one of them (answered, also
 * with 405 for another method), 0 if not. */
int web_desk_route(kawat_app_t *app, net_request_t *req, const kw_str_t *seg, int n, int trailing);

#endif
