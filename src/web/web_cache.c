/* web_cache.c -- rendered pages and feeds, kept until a wire event touches
 * what they show.
 *
 * The portal is read far more than it changes: a release is published once
 * and read by thousands. Rendering a page costs store reads, Markdown, ICU
 * formatting; serving a cached one is a hash lookup and a copy. Correctness
 * comes first: an entry records what it shows (web_deps_t) and every wire
 * event (publish, correction, withdrawal) drops each entry it touches
 * before the commit's answer goes out, so a withdrawn release is never
 * served from here once its withdrawal is acknowledged.
 *
 * One hash table (chained, power-of-two buckets) keyed by request target
 * and one LRU list bound the memory. Invalidation scans every entry: an
 * event touches few entries but the checks are cheap (string compares on
 * a few fields), and a cache of 64 MiB holds some thousands of entries,
 * so a scan is microseconds against the milliseconds a commit takes. */
#include "web/web.h"
#include "core/core_time.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef struct entry_s entry_t;
struct entry_s {
    char *key;
    size_t keylen;
    uint64_t hash;
    entry_t *hnext;          /* bucket chain */
    entry_t *prev, *next;    /* LRU: head is the most recently used */

    int status;
    char *ctype;
    char *headers;           /* extra lines + ETag + Last-Modified + Cache-Control */
    char *body;
    size_t len;
    char etag[40];           /* "\"...\"" */
    char last_modified[40];  /* IMF-fixdate */
    int64_t last_modified_s;

    /* deps, copied */
    int list;
    char *language, *sector, *region, *issuer_id, *group;
    int64_t day_from, day_until;
    char **ids;
    size_t nids;
    int64_t expires_ms;

    size_t cost;
};

struct web_cache_s {
    size_t max_bytes;
    size_t bytes;
    entry_t **buckets;
    size_t nbuckets; /* power of two */
    size_t count;
    entry_t *head, *tail;
    int64_t wire_seq;
    web_cache_stats_t stats;
};

static uint64_t hash_key(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

web_cache_t *web_cache_new(size_t max_bytes)
{
    web_cache_t *c = kw_calloc(1, sizeof(*c));
    c->max_bytes = max_bytes;
    c->nbuckets = 256;
    c->buckets = kw_calloc(c->nbuckets, sizeof(*c->buckets));
    c->stats.max_bytes = max_bytes;
    return c;
}

static void entry_free(entry_t *e)
{
    free(e->key);
    free(e->ctype);
    free(e->headers);
    free(e->body);
    free(e->language);
    free(e->sector);
    free(e->region);
    free(e->issuer_id);
    free(e->group);
    for (size_t i = 0; i < e->nids; i++) free(e->ids[i]);
    free(e->ids);
    free(e);
}

void web_cache_free(web_cache_t *c)
{
    if (c == NULL) return;
    entry_t *e = c->head;
    while (e) {
        entry_t *next = e->next;
        entry_free(e);
        e = next;
    }
    free(c->buckets);
    free(c);
}

static void lru_unlink(web_cache_t *c, entry_t *e)
{
    if (e->prev) e->prev->next = e->next; else c->head = e->next;
    if (e->next) e->next->prev = e->prev; else c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push(web_cache_t *c, entry_t *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head) c->head->prev = e;
    c->head = e;
    if (c->tail == NULL) c->tail = e;
}

/* Removes e from the table and the list and frees it. */
static void entry_drop(web_cache_t *c, entry_t *e)
{
    entry_t **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
    while (*pp != e) pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(c, e);
    c->bytes -= e->cost;
    c->count--;
    entry_free(e);
}

static entry_t *lookup(web_cache_t *c, kw_str_t key, uint64_t h)
{
    for (entry_t *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->hnext)
        if (e->hash == h && e->keylen == key.len && memcmp(e->key, key.data, key.len) == 0)
            return e;
    return NULL;
}

static void grow(web_cache_t *c)
{
    size_t n = c->nbuckets * 2;
    entry_t **b = kw_calloc(n, sizeof(*b));
    for (size_t i = 0; i < c->nbuckets; i++) {
        entry_t *e = c->buckets[i];
        while (e) {
            entry_t *next = e->hnext;
            e->hnext = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

/* ---- validators ---- */

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") to seconds; -1 if it is
 * not one. The obsolete forms RFC 9110 lets servers accept are not worth
 * it: clients send back the date we gave them. */
static int64_t parse_http_date(kw_str_t v)
{
    char z[40];
    if (v.len != 29) return -1;
    memcpy(z, v.data, v.len);
    z[v.len] = '\0';
    int d, y, hh, mm, ss;
    char mon[4], gmt[4];
    if (sscanf(z + 5, "%2d %3s %4d %2d:%2d:%2d %3s", &d, mon, &y, &hh, &mm, &ss, gmt) != 7 ||
        strcmp(gmt, "GMT") != 0)
        return -1;
    int m = -1;
    for (int i = 0; i < 12; i++)
        if (strcmp(mon, months[i]) == 0) m = i + 1;
    if (m < 0 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60 || y < 1970) return -1;
    return core_time_days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 + hh * 3600 + mm * 60 +
           ss;
}

/* Whether etag (with quotes) is in an If-None-Match list: "*", or a
 * comma-separated list of entity tags, weak ones compared weakly as RFC
 * 9110 says for If-None-Match. */
static int etag_listed(kw_str_t v, const char *etag)
{
    size_t elen = strlen(etag);
    size_t i = 0;
    while (i < v.len) {
        while (i < v.len && (v.data[i] == ' ' || v.data[i] == '\t' || v.data[i] == ',')) i++;
        if (i < v.len && v.data[i] == '*') return 1;
        if (i + 2 <= v.len && v.data[i] == 'W' && v.data[i + 1] == '/') i += 2;
        size_t start = i;
        while (i < v.len && v.data[i] != ',') i++;
        size_t end = i;
        while (end > start && (v.data[end - 1] == ' ' || v.data[end - 1] == '\t')) end--;
        if (end - start == elen && memcmp(v.data + start, etag, elen) == 0) return 1;
    }
    return 0;
}

/* RFC 9110 13.2.2: If-None-Match decides when present; otherwise
 * If-Modified-Since, for GET and HEAD. */
static int not_modified(const net_request_t *req, const char *etag, int64_t last_modified_s)
{
    const kw_str_t *inm = net_request_header(req, "If-None-Match");
    if (inm) return etag_listed(*inm, etag);
    const kw_str_t *ims = net_request_header(req, "If-Modified-Since");
    if (ims) {
        int64_t t = parse_http_date(*ims);
        return t >= 0 && last_modified_s <= t;
    }
    return 0;
}

static void send_not_modified(net_request_t *req, const char *etag, const char *last_modified)
{
    char h[160];
    snprintf(h, sizeof(h), "ETag: %s\r\nLast-Modified: %s\r\nCache-Control: no-cache\r\n", etag,
             last_modified);
    net_respond(req, 304, NULL, h, "", 0);
}

static void body_etag(const char *body, size_t len, char *out, size_t size)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_Digest(body, len, md, &mdlen, EVP_sha256(), NULL);
    /* 128 bits of SHA-256 in hex: strong, and the same bytes give the same
     * tag across restarts and nodes. */
    char hex[33];
    for (int i = 0; i < 16; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    snprintf(out, size, "\"%s\"", hex);
}

/* ---- serving ---- */

int web_cache_serve(web_cache_t *c, net_request_t *req)
{
    if (c == NULL || c->max_bytes == 0) return 0;
    uint64_t h = hash_key(req->target.data, req->target.len);
    entry_t *e = lookup(c, req->target, h);
    if (e == NULL) {
        c->stats.misses++;
        return 0;
    }
    if (e->expires_ms && now_ms() >= e->expires_ms) {
        entry_drop(c, e);
        c->stats.dropped++;
        c->stats.misses++;
        return 0;
    }
    lru_unlink(c, e);
    lru_push(c, e);
    c->stats.hits++;
    if (not_modified(req, e->etag, e->last_modified_s)) {
        c->stats.not_modified++;
        send_not_modified(req, e->etag, e->last_modified);
        return 1;
    }
    net_respond(req, e->status, e->ctype, e->headers, e->body, e->len);
    return 1;
}

static char *dup_or_null(const char *z)
{
    return z ? kw_strdup(z) : NULL;
}

/* Keeps an answer; takes key and body (freed if not kept). */
static void store_entry(web_cache_t *c, char *key, int status, const char *ctype,
                        const char *headers, char *body, size_t len, const char *etag,
                        const char *last_modified, int64_t last_modified_s, const web_deps_t *deps)
{
    size_t keylen = strlen(key);
    uint64_t h = hash_key(key, keylen);
    entry_t *old = lookup(c, (kw_str_t){key, keylen}, h);
    if (old) entry_drop(c, old);

    entry_t *e = kw_calloc(1, sizeof(*e));
    e->key = key;
    e->keylen = keylen;
    e->hash = h;
    e->status = status;
    e->ctype = kw_strdup(ctype);
    e->headers = kw_strdup(headers);
    e->body = body;
    e->len = len;
    snprintf(e->etag, sizeof(e->etag), "%s", etag);
    snprintf(e->last_modified, sizeof(e->last_modified), "%s", last_modified);
    e->last_modified_s = last_modified_s;
    size_t cost = sizeof(*e) + e->keylen + strlen(e->headers) + len + 64;
    if (deps) {
        e->list = deps->list;
        e->language = dup_or_null(deps->language);
        e->sector = dup_or_null(deps->sector);
        e->region = dup_or_null(deps->region);
        e->issuer_id = dup_or_null(deps->issuer_id);
        e->group = dup_or_null(deps->group);
        e->day_from = deps->day_from;
        e->day_until = deps->day_until;
        e->expires_ms = deps->expires_ms;
        if (deps->nids) {
            e->ids = kw_calloc(deps->nids, sizeof(*e->ids));
            for (size_t i = 0; i < deps->nids; i++) {
                e->ids[i] = kw_strdup(deps->ids[i]);
                cost += strlen(e->ids[i]) + sizeof(char *) + 16;
            }
            e->nids = deps->nids;
        }
    }
    e->cost = cost;
    if (cost > c->max_bytes / 4) { /* one huge answer must not flush the rest */
        entry_free(e);
        return;
    }
    while (c->bytes + cost > c->max_bytes && c->tail) {
        entry_drop(c, c->tail);
        c->stats.evicted++;
    }
    if (c->count + 1 > c->nbuckets) grow(c);
    size_t b = h & (c->nbuckets - 1);
    e->hnext = c->buckets[b];
    c->buckets[b] = e;
    lru_push(c, e);
    c->bytes += cost;
    c->count++;
    c->stats.stored++;
}

void web_cache_respond(web_cache_t *c, net_request_t *req, int status, const char *content_type,
                       const char *headers, kw_buf_t *body, int64_t last_modified_ms,
                       const web_deps_t *deps)
{
    size_t len = 0;
    char *data = kw_buf_steal(body, &len);
    if (data == NULL) data = kw_strdup("");
    char etag[40], lm[40];
    body_etag(data, len, etag, sizeof(etag));
    if (last_modified_ms <= 0) last_modified_ms = now_ms();
    core_time_format_http(last_modified_ms, lm, sizeof(lm));
    int64_t lm_s = last_modified_ms / 1000;

    kw_buf_t h = {0};
    if (headers) kw_buf_puts(&h, headers);
    kw_buf_printf(&h, "ETag: %s\r\nLast-Modified: %s\r\nCache-Control: no-cache\r\n", etag, lm);
    char *hz = kw_buf_steal(&h, NULL);

    /* net_respond frees req: the key is taken first. */
    int keep = c && c->max_bytes && (status == 200 || status == 410);
    char *key = keep ? kw_strndup(req->target.data, req->target.len) : NULL;
    if (not_modified(req, etag, lm_s)) {
        if (c) c->stats.not_modified++;
        send_not_modified(req, etag, lm); /* the body is still worth keeping */
    } else {
        net_respond(req, status, content_type, hz, data, len);
    }
    if (keep)
        store_entry(c, key, status, content_type, hz, data, len, etag, lm, lm_s, deps);
    else
        free(data);
    free(hz);
}

/* ---- invalidation ---- */

static int touches(const entry_t *e, const core_release_t *r)
{
    for (size_t i = 0; i < e->nids; i++)
        if (strcmp(e->ids[i], r->id) == 0) return 1;
    if (e->group && r->translation_group && strcmp(e->group, r->translation_group) == 0) return 1;
    if (!e->list) return 0;
    if (e->language && strcmp(e->language, r->language) != 0) return 0;
    if (e->sector && !web_json_has(r->sectors, e->sector)) return 0;
    if (e->region && !web_json_has(r->regions, e->region)) return 0;
    if (e->issuer_id && strcmp(e->issuer_id, r->issuer_id) != 0) return 0;
    if (e->day_until && (r->published_at < e->day_from || r->published_at >= e->day_until))
        return 0;
    return 1;
}

void web_cache_release_changed(web_cache_t *c, const core_release_t *r)
{
    if (c == NULL || r == NULL) return;
    entry_t *e = c->head;
    while (e) {
        entry_t *next = e->next;
        if (touches(e, r)) {
            entry_drop(c, e);
            c->stats.dropped++;
        }
        e = next;
    }
}

void web_cache_wire_init(web_cache_t *c, int64_t seq)
{
    c->wire_seq = seq;
}

void web_cache_wire_advanced(kawat_app_t *app)
{
    web_cache_t *c = app->cache;
    if (c == NULL) return;
    for (;;) {
        store_event_t *ev = NULL;
        size_t n = 0;
        if (store_wire_read(app->store, c->wire_seq, 256, &ev, &n) != KW_OK) {
            /* Could not read what changed: drop everything rather than
             * serve a page the event may have touched. */
            while (c->head) entry_drop(c, c->head);
            c->wire_seq = store_wire_last_seq(app->store);
            return;
        }
        for (size_t i = 0; i < n; i++) {
            web_cache_release_changed(c, ev[i].release);
            c->wire_seq = ev[i].seq;
        }
        store_events_free(ev, n);
        if (n < 256) return;
    }
}

void web_cache_get_stats(const web_cache_t *c, web_cache_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    if (c == NULL) return;
    *out = c->stats;
    out->entries = c->count;
    out->bytes = c->bytes;
    out->max_bytes = c->max_bytes;
}
