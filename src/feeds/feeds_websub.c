/* feeds_websub.c -- the WebSub hub: subscription requests, verification of
 * intent, durable subscriptions with leases, and content distribution to
 * the callbacks on every wire event, signed when the subscriber gave a
 * secret. Outbound HTTP goes through deliver/deliver.h.
 *
 * Design note: policies the specification leaves to the hub.
 *   Leases: hub.lease_seconds is a wish. Absent, a lease is 10 days; a
 *   wish is clamped to [5 minutes, 30 days] and the verification GET says
 *   which lease was granted. A subscriber renews by subscribing again.
 *   Topics: exactly the feed URLs this wire serves, spelled as it spells
 *   them (base URL + canonical listing path + feed file). Any other topic
 *   is accepted (202) and then denied with a GET hub.mode=denied, as the
 *   specification says; a topic that is not a URL at all is a 400.
 *   Callbacks: http or https, and not a loopback, private or link-local
 *   address unless --webhook-allow covers it (an address literal is
 *   refused at once with a 400, a name at connect time).
 *   Verification: a 2xx answer whose body is exactly the challenge. It is
 *   tried once; a subscriber that missed it subscribes again.
 *
 * Design note: what a push carries.
 * A publish or a correction pushes the topic's document holding just that
 * entry (the new content, as the specification asks). A withdrawal has no
 * entry left to send: withdrawn releases are never in a feed. So it pushes
 * the topic's current first page, the same document a GET of the topic
 * would return, in which the entry no longer appears; a reader that
 * replaces its copy drops it. An event whose release is no longer public
 * when the hub reads it (withdrawn meanwhile) is treated the same way.
 * Each document is rendered once per topic and event and shared by every
 * subscriber of the topic; only the signature is per subscriber.
 *
 * Design note: retries live in memory.
 * A push that gets no 2xx is retried after about 5 s, 10 s, 20 s, ... (each
 * with +-20% jitter so a recovering callback is not hit by every hub at the
 * same instant), the wait capped at 1 h, and given up 24 h after the first
 * attempt; a 410 Gone ends the subscription. Pending retries are not
 * persisted: a restart loses them, and events committed while the hub was
 * down are not pushed (the hub starts at the wire's end). Subscribers that
 * must not miss anything read the feed itself or the pull API by sequence
 * number; WebSub is the fast path, not the ledger. Subscriptions, by
 * contrast, are durable: they are stored before they take effect.
 *
 * Scale: topics and their subscribers are kept in lists and every event is
 * matched against every topic (one web_scope_matches per topic, not per
 * subscriber). That suits the thousands of feed subscriptions a wire has;
 * the millions of desktop subscriptions go through the matcher instead. */
#include "feeds/feeds_websub.h"
#include "auth/auth.h"
#include "deliver/deliver.h"
#include "deliver/report.h"
#include "feeds/feeds_render.h"
#include "web/web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LEASE_DEFAULT_S (10 * 86400)
#define LEASE_MIN_S 300
#define LEASE_MAX_S (30 * 86400)
#define SECRET_MAX 199           /* WebSub: less than 200 bytes */
#define SUBSCRIPTIONS_MAX 100000 /* in all; more are answered 503 */
#define VERIFICATIONS_MAX 1000   /* in flight at once; more are answered 503 */
#define PUSHES_MAX 10000         /* in flight or waiting to retry; more are dropped */
#define RETRY_FIRST_MS 5000
#define RETRY_CAP_MS (3600 * 1000)
#define RETRY_GIVE_UP_MS (24 * 3600 * 1000LL)
#define SWEEP_MS 60000 /* how often expired leases are removed */
#define WIRE_BATCH 200
#define CHALLENGE_CHARS 32
/* Entries of a pushed first page: as many as GET of the feed shows
 * (web_route.c FEED_SIZE). */
#define PAGE_SIZE 50

typedef struct hub_s hub_t;
typedef struct topic_s topic_t;

/* A verified, stored subscription. */
typedef struct sub_s {
    topic_t *topic;
    char *callback;
    char *secret; /* NULL: unsigned pushes */
    int64_t lease_until;
    struct sub_s *next;
} sub_t;

/* A topic with at least one subscription: the parsed feed it names. */
struct topic_s {
    char *url;  /* base_url + path */
    char *path; /* "/id/sectors/technology/atom.xml" */
    web_scope_t scope;
    feeds_format_t format;
    sub_t *subs;
    topic_t *next;
};

/* A rendered topic document, shared by the pushes of one event. */
typedef struct {
    int refs;
    kw_buf_t body;
    feeds_format_t format;
    char *topic;
} doc_t;

typedef enum { MODE_SUBSCRIBE, MODE_UNSUBSCRIBE, MODE_DENIED } websub_mode_t;

/* A verification (or denial) GET in flight. */
typedef struct {
    hub_t *hub;
    websub_mode_t mode;
    char *callback, *topic, *secret;
    unsigned lease_s;
    char challenge[CHALLENGE_CHARS + 1];
} verify_t;

/* A push in flight or waiting for its retry. */
typedef struct push_s {
    hub_t *hub;
    doc_t *doc;
    char *callback;
    int attempt;      /* 1 for the first */
    int64_t first_ms; /* the first attempt */
    int64_t due_ms;   /* waiting: when to try again */
    int waiting;
    struct push_s *prev, *next; /* the waiting list, by due_ms */
    /* for the distribution report: the event's release, the topic's
     * language and region, and whether it is counted as failing now */
    char release_id[32];
    char language[16];
    char country[4];
    int failing;
    int64_t seq; /* the wire event it carries */
} push_t;

struct hub_s {
    kawat_app_t *app;
    deliver_t *deliver;
    topic_t *topics;
    int64_t last_seq;
    uv_timer_t sweep;
    uv_timer_t retry;
    push_t *waiting; /* sorted by due_ms */
    size_t nverify, npush, nwaiting;
    int handles_open; /* the two timers and the deliver client */
    int ops_pending;  /* store ops not yet returned */
    int pos_saving;   /* a STORE_OP_META_SET of the position is in flight */
    int64_t pos_saved; /* the position last written (meta websub_seq) */
    /* Pushes not yet finished (delivered or given up) per wire event,
     * oldest first: the durable position stays before the oldest, so a
     * crash re-pushes what had not finished. */
    struct {
        int64_t seq;
        size_t n;
    } *pend;
    size_t npend, pend_cap;
    int stopping;
    uint64_t rng;
    feeds_websub_stats_t stats;
};

/* ---- small helpers ---- */

static uint64_t rng_next(hub_t *h)
{
    /* xorshift64*: jitter needs spread, not secrecy. */
    h->rng ^= h->rng >> 12;
    h->rng ^= h->rng << 25;
    h->rng ^= h->rng >> 27;
    return h->rng * 2685821657736338717ULL;
}

/* Appends z percent-encoded for a query value (RFC 3986 unreserved kept). */
static void form_encode(kw_buf_t *b, const char *z)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)z; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            kw_buf_putc(b, (char)*p);
        } else {
            kw_buf_putc(b, '%');
            kw_buf_putc(b, hex[*p >> 4]);
            kw_buf_putc(b, hex[*p & 15]);
        }
    }
}

static void doc_unref(doc_t *d)
{
    if (d && --d->refs == 0) {
        kw_buf_free(&d->body);
        free(d->topic);
        free(d);
    }
}

/* ---- topics ---- */

/* Splits a decoded path like the router does: segments between '/', none
 * empty, "." or "..". Returns the count or -1. */
static int split_path(const char *path, size_t len, kw_str_t *seg, int max)
{
    int n = 0;
    size_t i = 1;
    if (len == 0 || path[0] != '/') return -1;
    while (i < len) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        if (j == i || n == max) return -1;
        seg[n].data = path + i;
        seg[n].len = j - i;
        if (kw_str_eq(seg[n], ".") || kw_str_eq(seg[n], "..")) return -1;
        n++;
        i = j + 1;
    }
    if (len > 1 && path[len - 1] == '/') return -1; /* a page, not a feed */
    return n;
}

/* Whether url names a feed this wire serves; fills t's path, scope and
 * format (t->scope must be cleared by the caller on KW_OK). Only the
 * canonical spelling counts, so that one feed is one topic. Returns KW_OK
 * or KW_NOTFOUND with the reason in why. */
static int topic_parse(kawat_app_t *app, const char *url, topic_t *t, const char **why)
{
    size_t blen = strlen(app->base_url);
    *why = "the topic is not a feed of this wire";
    if (strncmp(url, app->base_url, blen) != 0 || url[blen] != '/') return KW_NOTFOUND;
    const char *raw = url + blen;
    if (strpbrk(raw, "?#")) {
        *why = "a topic has no query or fragment";
        return KW_NOTFOUND;
    }
    size_t plen;
    char *path = net_percent_decode(raw, strlen(raw), 0, &plen);
    if (path == NULL || memchr(path, '\0', plen) || !kw_utf8_valid(path, plen)) {
        free(path);
        return KW_NOTFOUND;
    }
    kw_str_t seg[8];
    int n = split_path(path, plen, seg, 8);
    int used = 0, rc = KW_NOTFOUND;
    if (n < 1) goto done;
    feeds_format_t f;
    if (feeds_format_from_file(seg[n - 1].data, seg[n - 1].len, &f) != KW_OK) goto done;
    if (web_scope_parse(app, seg, n - 1, &t->scope, &used) != KW_OK) {
        web_scope_clear(&t->scope);
        goto done;
    }
    if (used != n - 1 || t->scope.kind == WEB_SCOPE_ARCHIVE) {
        web_scope_clear(&t->scope);
        goto done;
    }
    kw_buf_t canon = {0};
    kw_buf_printf(&canon, "%s%s", t->scope.path, feeds_format_file(f));
    if (strcmp(canon.data, raw) != 0) {
        *why = "the topic is not spelled as this wire spells its feeds";
        kw_buf_free(&canon);
        web_scope_clear(&t->scope);
        goto done;
    }
    t->path = kw_buf_steal(&canon, NULL);
    t->format = f;
    rc = KW_OK;
done:
    free(path);
    return rc;
}

static topic_t *topic_find(hub_t *h, const char *url)
{
    for (topic_t *t = h->topics; t; t = t->next)
        if (strcmp(t->url, url) == 0) return t;
    return NULL;
}

/* The topic for url, made if needed; NULL if the wire does not serve it. */
static topic_t *topic_get(hub_t *h, const char *url)
{
    topic_t *t = topic_find(h, url);
    if (t) return t;
    t = kw_calloc(1, sizeof(*t));
    const char *why;
    if (topic_parse(h->app, url, t, &why) != KW_OK) {
        free(t);
        return NULL;
    }
    t->url = kw_strdup(url);
    t->next = h->topics;
    h->topics = t;
    return t;
}

static void sub_free(sub_t *s)
{
    free(s->callback);
    free(s->secret);
    free(s);
}

static void topic_free(topic_t *t)
{
    while (t->subs) {
        sub_t *s = t->subs;
        t->subs = s->next;
        sub_free(s);
    }
    web_scope_clear(&t->scope);
    free(t->url);
    free(t->path);
    free(t);
}

/* Removes a topic left without subscriptions. */
static void topic_maybe_drop(hub_t *h, topic_t *t)
{
    if (t->subs) return;
    for (topic_t **pp = &h->topics; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            topic_free(t);
            return;
        }
}

static sub_t *sub_find(topic_t *t, const char *callback)
{
    for (sub_t *s = t->subs; s; s = s->next)
        if (strcmp(s->callback, callback) == 0) return s;
    return NULL;
}

/* Adds or renews a subscription in memory. */
static void sub_put(hub_t *h, const char *topic, const char *callback, const char *secret,
                    int64_t lease_until)
{
    topic_t *t = topic_get(h, topic);
    if (t == NULL) return;
    sub_t *s = sub_find(t, callback);
    if (s == NULL) {
        s = kw_calloc(1, sizeof(*s));
        s->topic = t;
        s->callback = kw_strdup(callback);
        s->next = t->subs;
        t->subs = s;
    }
    free(s->secret);
    s->secret = secret ? kw_strdup(secret) : NULL;
    s->lease_until = lease_until;
}

static void sub_remove(hub_t *h, const char *topic, const char *callback)
{
    topic_t *t = topic_find(h, topic);
    if (t == NULL) return;
    for (sub_t **pp = &t->subs; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->callback, callback) == 0) {
            sub_t *s = *pp;
            *pp = s->next;
            sub_free(s);
            break;
        }
    topic_maybe_drop(h, t);
}

static size_t subs_count(const hub_t *h, int64_t now, int active_only)
{
    size_t n = 0;
    for (const topic_t *t = h->topics; t; t = t->next)
        for (const sub_t *s = t->subs; s; s = s->next)
            if (!active_only || s->lease_until > now) n++;
    return n;
}

/* ---- lifetime ---- */

static void position_save(hub_t *h);

static void hub_maybe_free(hub_t *h)
{
    if (!h->stopping || h->handles_open > 0 || h->ops_pending > 0) return;
    while (h->topics) {
        topic_t *t = h->topics;
        h->topics = t->next;
        topic_free(t);
    }
    free(h->pend);
    free(h);
}

static void on_timer_closed(uv_handle_t *handle)
{
    hub_t *h = handle->data;
    h->handles_open--;
    hub_maybe_free(h);
}

static void on_deliver_closed(void *arg)
{
    hub_t *h = arg;
    h->handles_open--;
    hub_maybe_free(h);
}

/* ---- store writes ---- */

static void on_store_done(store_op_t *op)
{
    hub_t *h = op->arg;
    h->ops_pending--;
    if (op->kind == STORE_OP_META_SET) {
        h->pos_saving = 0;
        if (op->rc == KW_OK)
            h->pos_saved = json_integer_value(json_object_get(op->input, "seq"));
        store_op_free(op);
        if (!h->stopping) position_save(h); /* what moved while it was written */
        hub_maybe_free(h);
        return;
    }
    if (!h->stopping) {
        const char *callback = json_string_value(json_object_get(op->input, "callback"));
        const char *topic = json_string_value(json_object_get(op->input, "topic"));
        if (op->kind == STORE_OP_WEBSUB_SUBSCRIBE && op->rc == KW_OK) {
            sub_put(h, topic, callback, json_string_value(json_object_get(op->input, "secret")),
                    json_integer_value(json_object_get(op->input, "lease_until")));
        } else if (op->kind == STORE_OP_WEBSUB_UNSUBSCRIBE &&
                   (op->rc == KW_OK || op->rc == KW_NOTFOUND)) {
            /* With lease_until (an expiry) a KW_NOTFOUND means the row was
             * renewed meanwhile: memory holds the renewal, keep it. */
            if (op->rc == KW_OK || json_object_get(op->input, "lease_until") == NULL)
                sub_remove(h, topic, callback);
        } else if (op->rc != KW_OK) {
            fprintf(stderr, "kawat: websub: storing the subscription of %s to %s failed: %s\n",
                    callback, topic, op->message);
        }
    }
    store_op_free(op);
    hub_maybe_free(h);
}

static void store_write(hub_t *h, store_op_kind_t kind, json_t *input)
{
    store_op_t *op = store_op_new(kind, on_store_done, h);
    op->input = input;
    h->ops_pending++;
    store_submit(h->app->store, op);
}

/* Writes the wire position the hub has pushed through (one write in
 * flight; a later call while it runs is caught up by the next event), so
 * that events committed while the server was down are pushed after the
 * restart. Retries still in flight at a stop are not kept. */
static void position_save(hub_t *h)
{
    int64_t safe = h->npend ? h->pend[0].seq - 1 : h->last_seq;
    if (h->pos_saving || h->stopping || safe == h->pos_saved) return;
    char v[32];
    snprintf(v, sizeof(v), "%lld", (long long)safe);
    h->pos_saving = 1;
    store_write(h, STORE_OP_META_SET,
                json_pack("{s:s, s:s, s:I}", "key", "websub_seq", "value", v, "seq",
                          (json_int_t)safe));
}

static void pend_add(hub_t *h, int64_t seq)
{
    if (h->npend && h->pend[h->npend - 1].seq == seq) {
        h->pend[h->npend - 1].n++;
        return;
    }
    if (h->npend == h->pend_cap) {
        h->pend_cap = h->pend_cap ? h->pend_cap * 2 : 16;
        h->pend = kw_realloc(h->pend, h->pend_cap * sizeof(*h->pend));
    }
    h->pend[h->npend].seq = seq;
    h->pend[h->npend].n = 1;
    h->npend++;
}

/* One push of event seq finished; the position may move on. */
static void pend_done(hub_t *h, int64_t seq)
{
    for (size_t i = 0; i < h->npend; i++) {
        if (h->pend[i].seq != seq) continue;
        if (h->pend[i].n) h->pend[i].n--;
        break;
    }
    size_t k = 0;
    while (k < h->npend && h->pend[k].n == 0) k++;
    if (k) {
        memmove(h->pend, h->pend + k, (h->npend - k) * sizeof(*h->pend));
        h->npend -= k;
    }
    position_save(h);
}

/* ---- verification of intent ---- */

static void verify_free(verify_t *v)
{
    v->hub->nverify--;
    free(v->callback);
    free(v->topic);
    free(v->secret);
    free(v);
}

static void on_verify_done(const deliver_result_t *res, void *arg)
{
    verify_t *v = arg;
    hub_t *h = v->hub;
    if (res->outcome == DELIVER_CANCELLED || h->stopping || v->mode == MODE_DENIED) {
        verify_free(v);
        return;
    }
    int ok = res->outcome == DELIVER_ANSWERED && res->status >= 200 && res->status < 300 &&
             res->body.len == CHALLENGE_CHARS &&
             auth_consttime_eq(res->body.data, v->challenge, CHALLENGE_CHARS);
    if (!ok) {
        if (res->outcome == DELIVER_ANSWERED)
            fprintf(stderr, "kawat: websub: %s of %s to %s not verified: status %d, %s challenge\n",
                    v->mode == MODE_SUBSCRIBE ? "subscription" : "unsubscription", v->callback,
                    v->topic, res->status,
                    res->status >= 200 && res->status < 300 ? "wrong" : "no");
        else
            fprintf(stderr, "kawat: websub: verifying %s for %s: %s\n", v->callback, v->topic,
                    res->error);
        verify_free(v);
        return;
    }
    h->stats.verifications++;
    if (v->mode == MODE_SUBSCRIBE) {
        int64_t lease_until = kw_now_ms() + (int64_t)v->lease_s * 1000;
        store_write(h, STORE_OP_WEBSUB_SUBSCRIBE,
                    json_pack("{s:s, s:s, s:s?, s:I}", "callback", v->callback, "topic", v->topic,
                              "secret", v->secret, "lease_until", (json_int_t)lease_until));
    } else {
        store_write(h, STORE_OP_WEBSUB_UNSUBSCRIBE,
                    json_pack("{s:s, s:s}", "callback", v->callback, "topic", v->topic));
    }
    verify_free(v);
}

/* Sends the verification GET (or the denial, with reason). */
static void verify_start(hub_t *h, websub_mode_t mode, const char *callback, const char *topic,
                         const char *secret, unsigned lease_s, const char *reason)
{
    verify_t *v = kw_calloc(1, sizeof(*v));
    v->hub = h;
    v->mode = mode;
    v->callback = kw_strdup(callback);
    v->topic = kw_strdup(topic);
    v->secret = secret ? kw_strdup(secret) : NULL;
    v->lease_s = lease_s;
    auth_random_id(v->challenge, CHALLENGE_CHARS);
    h->nverify++;

    /* The callback keeps its own query; a fragment is not sent. */
    kw_buf_t url = {0};
    size_t clen = strcspn(callback, "#");
    kw_buf_append(&url, callback, clen);
    kw_buf_putc(&url, memchr(callback, '?', clen) ? '&' : '?');
    kw_buf_puts(&url, "hub.mode=");
    kw_buf_puts(&url, mode == MODE_SUBSCRIBE     ? "subscribe"
                      : mode == MODE_UNSUBSCRIBE ? "unsubscribe"
                                                 : "denied");
    kw_buf_puts(&url, "&hub.topic=");
    form_encode(&url, topic);
    if (mode == MODE_DENIED) {
        kw_buf_puts(&url, "&hub.reason=");
        form_encode(&url, reason);
    } else {
        kw_buf_printf(&url, "&hub.challenge=%s", v->challenge);
        if (mode == MODE_SUBSCRIBE) kw_buf_printf(&url, "&hub.lease_seconds=%u", lease_s);
    }
    deliver_http_send(h->deliver, "GET", url.data, NULL, NULL, 0, on_verify_done, v);
    kw_buf_free(&url);
}

/* ---- content distribution ---- */

static void push_send(hub_t *h, push_t *p);

static void push_free(push_t *p)
{
    p->hub->npush--;
    pend_done(p->hub, p->seq);
    doc_unref(p->doc);
    free(p->callback);
    free(p);
}

static void waiting_remove(hub_t *h, push_t *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        h->waiting = p->next;
    if (p->next) p->next->prev = p->prev;
    p->prev = p->next = NULL;
    p->waiting = 0;
    h->nwaiting--;
}

static void on_retry(uv_timer_t *t);

/* Arms the retry timer for the first waiting push. */
static void retry_rearm(hub_t *h)
{
    if (h->waiting == NULL) {
        uv_timer_stop(&h->retry);
        return;
    }
    int64_t wait = h->waiting->due_ms - kw_now_ms();
    uv_timer_start(&h->retry, on_retry, wait > 0 ? (uint64_t)wait : 0, 0);
}

/* Queues p for another attempt, sorted by due time. */
static void push_wait(hub_t *h, push_t *p, int64_t delay_ms)
{
    p->due_ms = kw_now_ms() + delay_ms;
    p->waiting = 1;
    push_t **pp = &h->waiting, *prev = NULL;
    while (*pp && (*pp)->due_ms <= p->due_ms) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    p->next = *pp;
    p->prev = prev;
    if (*pp) (*pp)->prev = p;
    *pp = p;
    h->nwaiting++;
    retry_rearm(h);
}

static void on_retry(uv_timer_t *t)
{
    hub_t *h = t->data;
    int64_t now = kw_now_ms();
    while (h->waiting && h->waiting->due_ms <= now) {
        push_t *p = h->waiting;
        waiting_remove(h, p);
        push_send(h, p);
    }
    retry_rearm(h);
}

/* The subscription a push is for, if it is still active. */
static sub_t *push_sub(hub_t *h, push_t *p)
{
    topic_t *t = topic_find(h, p->doc->topic);
    sub_t *s = t ? sub_find(t, p->callback) : NULL;
    return s && s->lease_until > kw_now_ms() ? s : NULL;
}

/* Counts a push's result for the distribution report (deliver/report.h).
 * "failed" counts pushes whose last try failed, so a retry that succeeds
 * moves the push from failed to delivered. attempted: a request was made
 * (and failed, unless delivered). */
static void push_report(push_t *p, int delivered, int attempted)
{
    kawat_app_t *app = p->hub->app;
    int64_t now = kw_now_ms();
    if (delivered) {
        report_count(app, p->release_id, REPORT_WEBSUB, p->language, p->country,
                     REPORT_DELIVERED, 1, now);
        if (p->failing)
            report_count(app, p->release_id, REPORT_WEBSUB, p->language, p->country,
                         REPORT_FAILED, -1, now);
        p->failing = 0;
        return;
    }
    if (attempted)
        report_count(app, p->release_id, REPORT_WEBSUB, p->language, p->country,
                     REPORT_FAILED_ATTEMPT, 1, now);
    if (!p->failing)
        report_count(app, p->release_id, REPORT_WEBSUB, p->language, p->country, REPORT_FAILED,
                     1, now);
    p->failing = 1;
}

static void on_push_done(const deliver_result_t *res, void *arg)
{
    push_t *p = arg;
    hub_t *h = p->hub;
    if (res->outcome == DELIVER_CANCELLED || h->stopping) {
        push_free(p);
        return;
    }
    if (res->outcome == DELIVER_ANSWERED && res->status >= 200 && res->status < 300) {
        h->stats.pushes_ok++;
        push_report(p, 1, 1);
        push_free(p);
        return;
    }
    push_report(p, 0, 1);
    if (res->outcome == DELIVER_ANSWERED && res->status == 410) {
        /* The subscriber says the callback is gone for good. */
        fprintf(stderr, "kawat: websub: %s answered 410 Gone; unsubscribed from %s\n", p->callback,
                p->doc->topic);
        h->stats.pushes_failed++;
        store_write(h, STORE_OP_WEBSUB_UNSUBSCRIBE,
                    json_pack("{s:s, s:s}", "callback", p->callback, "topic", p->doc->topic));
        push_free(p);
        return;
    }
    int64_t delay = RETRY_FIRST_MS;
    for (int i = 1; i < p->attempt && delay < RETRY_CAP_MS; i++)
        delay *= 2;
    if (delay > RETRY_CAP_MS) delay = RETRY_CAP_MS;
    delay = delay * 8 / 10 + (int64_t)(rng_next(h) % (uint64_t)(delay * 4 / 10 + 1));
    int give_up =
        res->outcome == DELIVER_REFUSED || kw_now_ms() + delay - p->first_ms > RETRY_GIVE_UP_MS;
    if (give_up) {
        h->stats.pushes_failed++;
        char last[64];
        if (res->outcome == DELIVER_ANSWERED)
            snprintf(last, sizeof(last), "status %d", res->status);
        fprintf(stderr, "kawat: websub: giving up on pushing %s to %s after %d attempts: %s\n",
                p->doc->topic, p->callback, p->attempt,
                res->outcome == DELIVER_ANSWERED ? last : res->error);
        push_free(p);
        return;
    }
    p->attempt++;
    push_wait(h, p, delay);
}

/* Sends (or re-sends) p, unless its subscription ended meanwhile. */
static void push_send(hub_t *h, push_t *p)
{
    sub_t *s = push_sub(h, p);
    if (s == NULL) {
        push_report(p, 0, 0); /* the subscription ended: it will never be delivered */
        push_free(p);
        return;
    }
    char ctype[128], link[STORE_WEBSUB_URL_MAX + 512], sig[96];
    snprintf(ctype, sizeof(ctype), "Content-Type: %s", feeds_format_type(p->doc->format));
    snprintf(link, sizeof(link), "Link: <%s/websub>; rel=\"hub\", <%s>; rel=\"self\"",
             h->app->base_url, p->doc->topic);
    const char *headers[4] = {ctype, link, NULL, NULL};
    if (s->secret) {
        char hex[AUTH_HEX_SIZE];
        if (auth_hmac_sha256_hex(s->secret, strlen(s->secret), p->doc->body.data, p->doc->body.len,
                                 hex) != KW_OK) {
            h->stats.pushes_failed++;
            push_report(p, 0, 0);
            push_free(p);
            return;
        }
        snprintf(sig, sizeof(sig), "X-Hub-Signature: sha256=%s", hex);
        headers[2] = sig;
    }
    deliver_http_send(h->deliver, "POST", p->callback, headers, p->doc->body.data, p->doc->body.len,
                      on_push_done, p);
}

/* Renders t's document for an event: release r alone when it is public,
 * else (a withdrawal) the topic's current first page. NULL if rendering
 * failed. */
static doc_t *doc_render(hub_t *h, topic_t *t, const core_release_t *r, int64_t at)
{
    kawat_app_t *app = h->app;
    core_release_t **items = NULL;
    size_t n = 0;
    int64_t next;
    int own = 0;
    if (r) {
        items = kw_malloc(sizeof(*items));
        items[0] = (core_release_t *)r;
        n = 1;
    } else {
        store_query_t q;
        web_scope_query(&t->scope, &q);
        q.limit = PAGE_SIZE;
        if (store_release_list(app->store, &q, &items, &n, &next) != KW_OK) return NULL;
        own = 1;
    }
    /* Only ninjs and NewsML-G2 name the other language versions. */
    int want_tr = t->format == FEEDS_NINJS || t->format == FEEDS_NEWSML;
    json_t **translations = n && want_tr ? kw_calloc(n, sizeof(*translations)) : NULL;
    for (size_t i = 0; translations && i < n; i++)
        if (items[i]->translation_group)
            translations[i] =
                store_translations(app->store, items[i]->translation_group, items[i]->id);
    kw_buf_t title = {0};
    web_scope_title(app, &t->scope, NULL, &title);
    feeds_meta_t m = {
        .base_url = app->base_url,
        .wire_name = app->wire_name,
        .self_path = t->path,
        .page_path = t->scope.lang ? t->scope.path : NULL,
        .hub_path = "/websub",
        .title = title.data ? title.data : app->wire_name,
        .lang = t->scope.lang,
        .updated_ms = at,
    };
    doc_t *d = kw_calloc(1, sizeof(*d));
    d->refs = 1;
    d->format = t->format;
    d->topic = kw_strdup(t->url);
    if (feeds_render(t->format, &m, items, n, translations, &d->body) != KW_OK) {
        doc_unref(d);
        d = NULL;
    }
    kw_buf_free(&title);
    for (size_t i = 0; i < n; i++) {
        if (translations) json_decref(translations[i]);
        if (own) core_release_free(items[i]);
    }
    free(translations);
    free(items);
    return d;
}

static void event_push(hub_t *h, const store_event_t *ev)
{
    const core_release_t *r = ev->release;
    int public = r->state == REL_PUBLISHED || r->state == REL_CORRECTED;
    int64_t now = kw_now_ms();
    for (topic_t *t = h->topics; t; t = t->next) {
        if (!web_scope_matches(&t->scope, r)) continue;
        int active = 0;
        for (sub_t *s = t->subs; s && !active; s = s->next)
            active = s->lease_until > now;
        if (!active) continue;
        doc_t *d = doc_render(h, t, public ? r : NULL, ev->at);
        if (d == NULL) {
            fprintf(stderr, "kawat: websub: cannot render %s for event %lld\n", t->url,
                    (long long)ev->seq);
            continue;
        }
        const char *language = t->scope.lang ? t->scope.lang->tag : REPORT_LANGUAGE_ANY;
        const char *country = t->scope.kind == WEB_SCOPE_REGION && t->scope.region
                                  ? t->scope.region
                                  : REPORT_COUNTRY_UNKNOWN;
        for (sub_t *s = t->subs; s; s = s->next) {
            if (s->lease_until <= now) continue;
            report_count(h->app, r->id, REPORT_WEBSUB, language, country, REPORT_MATCHED, 1, now);
            if (h->npush >= PUSHES_MAX) {
                h->stats.pushes_failed++;
                report_count(h->app, r->id, REPORT_WEBSUB, language, country, REPORT_FAILED, 1,
                             now);
                continue;
            }
            push_t *p = kw_calloc(1, sizeof(*p));
            p->hub = h;
            p->doc = d;
            d->refs++;
            p->callback = kw_strdup(s->callback);
            p->attempt = 1;
            p->first_ms = now;
            snprintf(p->release_id, sizeof(p->release_id), "%s", r->id);
            p->seq = ev->seq;
            pend_add(h, ev->seq);
            snprintf(p->language, sizeof(p->language), "%s", language);
            snprintf(p->country, sizeof(p->country), "%.2s", country);
            h->npush++;
            push_send(h, p);
        }
        doc_unref(d);
    }
}

void feeds_websub_wire_advanced(kawat_app_t *app)
{
    hub_t *h = app->websub;
    if (h == NULL || h->stopping) return;
    if (h->topics == NULL) {
        /* Nobody to push to: skip the reading. */
        h->last_seq = store_wire_last_seq(app->store);
        position_save(h);
        return;
    }
    for (;;) {
        store_event_t *ev = NULL;
        size_t n = 0;
        if (store_wire_read(app->store, h->last_seq, WIRE_BATCH, &ev, &n) != KW_OK) {
            fprintf(stderr, "kawat: websub: cannot read the wire after %lld\n",
                    (long long)h->last_seq);
            return;
        }
        for (size_t i = 0; i < n; i++) {
            h->last_seq = ev[i].seq;
            event_push(h, &ev[i]);
        }
        store_events_free(ev, n);
        if (n < WIRE_BATCH) break;
    }
    position_save(h);
}

/* ---- leases ---- */

/* Drops expired subscriptions from memory and from the store. */
static void on_sweep(uv_timer_t *timer)
{
    hub_t *h = timer->data;
    int64_t now = kw_now_ms();
    for (topic_t *t = h->topics, *tnext; t; t = tnext) {
        tnext = t->next;
        for (sub_t **pp = &t->subs; *pp;) {
            sub_t *s = *pp;
            if (s->lease_until > now) {
                pp = &s->next;
                continue;
            }
            store_write(h, STORE_OP_WEBSUB_UNSUBSCRIBE,
                        json_pack("{s:s, s:s, s:I}", "callback", s->callback, "topic", t->url,
                                  "lease_until", (json_int_t)s->lease_until));
            *pp = s->next;
            sub_free(s);
        }
        topic_maybe_drop(h, t);
    }
}

/* ---- start, stop ---- */

static int load_one(const store_websub_t *row, void *arg)
{
    hub_t *h = arg;
    if (topic_get(h, row->topic) == NULL) {
        /* The base URL changed, or an issuer is gone: the row stays in the
         * store (a later start with the old base URL serves it again). */
        fprintf(stderr, "kawat: websub: ignoring the subscription of %s to %s (not a feed of %s)\n",
                row->callback, row->topic, h->app->base_url);
        return KW_OK;
    }
    sub_put(h, row->topic, row->callback, row->secret, row->lease_until);
    return KW_OK;
}

int feeds_websub_start(kawat_app_t *app)
{
    deliver_config_t dc;
    deliver_config_defaults(&dc);
    dc.allow = app->webhook_allow;
    dc.user_agent = "kawat-websub (+https://www.w3.org/TR/websub/)";
    deliver_t *d;
    if (deliver_start(app->loop, &dc, &d) != KW_OK) {
        fprintf(stderr, "kawat: websub: cannot start the outbound HTTP client\n");
        return KW_ERROR;
    }
    hub_t *h = kw_calloc(1, sizeof(*h));
    h->app = app;
    h->deliver = d;
    h->rng = (uint64_t)kw_now_ms() ^ ((uint64_t)(uintptr_t)h << 16) ^ 0x9e3779b97f4a7c15ULL;
    if (h->rng == 0) h->rng = 1;
    /* Resume where the last run stopped pushing (at the wire's end on a
     * first start). */
    h->last_seq = store_wire_last_seq(app->store);
    char pos[32];
    h->pos_saved = -1; /* none yet: the first start writes the wire's end */
    if (store_meta_get(app->store, "websub_seq", pos, sizeof(pos)) == KW_OK) {
        long long saved = atoll(pos);
        if (saved >= 0 && saved < h->last_seq) h->last_seq = saved;
        h->pos_saved = h->last_seq;
    }
    if (store_websub_each(app->store, load_one, h) != KW_OK) {
        fprintf(stderr, "kawat: websub: cannot read the subscriptions\n");
        while (h->topics) {
            topic_t *t = h->topics;
            h->topics = t->next;
            topic_free(t);
        }
        deliver_stop(d, NULL, NULL);
        free(h);
        return KW_ERROR;
    }
    uv_timer_init(app->loop, &h->sweep);
    uv_timer_init(app->loop, &h->retry);
    h->sweep.data = h->retry.data = h;
    /* Neither keeps the loop alive: a stopping server does not wait for a
     * lease to expire or a retry to come due. */
    uv_unref((uv_handle_t *)&h->sweep);
    uv_unref((uv_handle_t *)&h->retry);
    uv_timer_start(&h->sweep, on_sweep, SWEEP_MS, SWEEP_MS);
    h->handles_open = 3;
    app->websub = h;
    /* What was published while the server was down. */
    feeds_websub_wire_advanced(app);
    return KW_OK;
}

void feeds_websub_stop(kawat_app_t *app)
{
    hub_t *h = app->websub;
    if (h == NULL) return;
    app->websub = NULL;
    h->stopping = 1;
    while (h->waiting) {
        push_t *p = h->waiting;
        waiting_remove(h, p);
        push_free(p);
    }
    deliver_stop(h->deliver, on_deliver_closed, h); /* cancels what is in flight */
    h->deliver = NULL;
    uv_close((uv_handle_t *)&h->sweep, on_timer_closed);
    uv_close((uv_handle_t *)&h->retry, on_timer_closed);
}

void feeds_websub_get_stats(const kawat_app_t *app, feeds_websub_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    const hub_t *h = app->websub;
    if (h == NULL) return;
    *out = h->stats;
    out->subscriptions = subs_count(h, kw_now_ms(), 1);
    out->retries_pending = h->nwaiting;
}

/* ---- POST /websub ---- */

static void bad_field(net_request_t *req, const char *field, const char *detail)
{
    api_problem_field(req, 400, field, detail);
}

/* The single value of a form field; NULL (answered 400) when repeated. */
static int form_one(net_request_t *req, const net_params_t *form, const char *name,
                    const char **out)
{
    *out = NULL;
    if (net_query_count(form, name) > 1) {
        bad_field(req, name, "given more than once");
        return KW_INVALID;
    }
    *out = net_query_get(form, name);
    return KW_OK;
}

void feeds_websub_request(kawat_app_t *app, net_request_t *req)
{
    hub_t *h = app->websub;
    if (h == NULL || h->stopping) {
        api_problem(req, 503, "unavailable", "The hub is not running",
                    "WebSub is off on this server.", NULL);
        return;
    }
    const kw_str_t *ct = net_request_header(req, "content-type");
    static const char form_type[] = "application/x-www-form-urlencoded";
    size_t flen = sizeof(form_type) - 1;
    if (ct == NULL || ct->len < flen || strncasecmp(ct->data, form_type, flen) != 0 ||
        (ct->len > flen && ct->data[flen] != ';' && ct->data[flen] != ' ')) {
        api_problem(req, 415, "unsupported-media-type", "Unsupported media type",
                    "Send the subscription as Content-Type: application/x-www-form-urlencoded",
                    NULL);
        return;
    }
    net_params_t form = {0};
    char field[64];
    if (net_query_parse(req->body, &form, field, sizeof(field)) != KW_OK) {
        bad_field(req, field, "malformed form field (bad percent-encoding or invalid UTF-8)");
        return;
    }
    const char *mode, *callback, *topic, *lease, *secret;
    if (form_one(req, &form, "hub.mode", &mode) != KW_OK ||
        form_one(req, &form, "hub.callback", &callback) != KW_OK ||
        form_one(req, &form, "hub.topic", &topic) != KW_OK ||
        form_one(req, &form, "hub.lease_seconds", &lease) != KW_OK ||
        form_one(req, &form, "hub.secret", &secret) != KW_OK)
        goto done;

    websub_mode_t m;
    if (mode == NULL || mode[0] == '\0') {
        bad_field(req, "hub.mode", "required: subscribe or unsubscribe");
        goto done;
    }
    if (strcmp(mode, "subscribe") == 0) {
        m = MODE_SUBSCRIBE;
    } else if (strcmp(mode, "unsubscribe") == 0) {
        m = MODE_UNSUBSCRIBE;
    } else {
        bad_field(req, "hub.mode", "must be subscribe or unsubscribe");
        goto done;
    }
    char why[256];
    if (callback == NULL || callback[0] == '\0') {
        bad_field(req, "hub.callback", "required: the subscriber's http or https URL");
        goto done;
    }
    if (strlen(callback) > STORE_WEBSUB_URL_MAX) {
        bad_field(req, "hub.callback", "must be at most 2048 bytes");
        goto done;
    }
    if (deliver_url_allowed(h->deliver, callback, why, sizeof(why)) != KW_OK) {
        char msg[300];
        snprintf(msg, sizeof(msg), "the callback %s", why);
        bad_field(req, "hub.callback", msg);
        goto done;
    }
    if (topic == NULL || topic[0] == '\0') {
        bad_field(req, "hub.topic", "required: the URL of a feed of this wire");
        goto done;
    }
    if (strlen(topic) > STORE_WEBSUB_URL_MAX) {
        bad_field(req, "hub.topic", "must be at most 2048 bytes");
        goto done;
    }
    if (deliver_url_check(topic, why, sizeof(why)) != KW_OK) {
        char msg[300];
        snprintf(msg, sizeof(msg), "the topic %s", why);
        bad_field(req, "hub.topic", msg);
        goto done;
    }
    unsigned lease_s = LEASE_DEFAULT_S;
    if (lease && lease[0] != '\0') {
        size_t digits = strspn(lease, "0123456789");
        if (digits == 0 || lease[digits] != '\0') {
            bad_field(req, "hub.lease_seconds", "must be a whole number of seconds");
            goto done;
        }
        /* A wish: clamped to the hub's range (a long number is the max). */
        unsigned long long v = digits > 10 ? LEASE_MAX_S : strtoull(lease, NULL, 10);
        lease_s = v < LEASE_MIN_S ? LEASE_MIN_S : v > LEASE_MAX_S ? LEASE_MAX_S : (unsigned)v;
    }
    if (secret && m == MODE_SUBSCRIBE) {
        size_t slen = strlen(secret);
        if (slen == 0 || slen > SECRET_MAX) {
            bad_field(req, "hub.secret", "must be 1 to 199 bytes");
            goto done;
        }
    }
    if (h->nverify >= VERIFICATIONS_MAX ||
        (m == MODE_SUBSCRIBE && subs_count(h, 0, 0) >= SUBSCRIPTIONS_MAX)) {
        api_problem(req, 503, "busy", "The hub is busy", "Try again in a minute.", NULL);
        goto done;
    }

    topic_t probe = {0};
    const char *deny = NULL;
    if (topic_find(h, topic) == NULL) {
        if (topic_parse(app, topic, &probe, &deny) == KW_OK) {
            web_scope_clear(&probe.scope);
            free(probe.path);
            deny = NULL;
        }
    }
    if (deny && m == MODE_SUBSCRIBE) {
        /* Accepted, then denied, as the specification has it. */
        verify_start(h, MODE_DENIED, callback, topic, NULL, 0, deny);
    } else {
        /* An unsubscription is verified even from a topic no longer served
         * (an issuer gone, the base URL changed), so its row can go. */
        verify_start(h, m, callback, topic, m == MODE_SUBSCRIBE ? secret : NULL, lease_s, NULL);
    }
    static const char accepted[] =
        "Accepted: the hub verifies the request with a GET to the callback.\n";
    net_respond(req, 202, "text/plain; charset=utf-8", "Cache-Control: no-store\r\n", accepted,
                sizeof(accepted) - 1);
done:
    net_query_free(&form);
}
