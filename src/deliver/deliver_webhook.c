/* deliver_webhook.c -- the webhook engine: fills the durable outbox from the
 * wire log and delivers it to outlets' endpoints, signed, in order, with
 * retries (see webhook.h for what an endpoint receives).
 *
 * Design note: nothing committed is lost, nothing is sent out of order.
 * The wire log is the source. The engine reads it past the last sequence
 * it has handled (meta.webhook_seq) and, for each batch of events, writes
 * in ONE store op the payloads (rendered once per event and format), a
 * delivery row for every active or paused endpoint whose filter matches,
 * and the new position. A kill -9 before that commit leaves the position
 * where it was, so the batch is read again after the restart; after it,
 * the rows are there. Reading is bounded by the last sequence the loop has
 * been told of (the op's last_seq in api_after_write), not by the wire's
 * end: ops come back to the loop in commit order, so an endpoint created
 * just before an event is known to the engine when the event is read, and
 * one created after it (after_seq) never gets it.
 *
 * Each endpoint has at most one request in flight: its head, the oldest
 * pending delivery, read from the store. When the head is delivered the
 * engine reads the next pending row past it (done_seq), without waiting
 * for the result to be committed; results are written in batches (one op
 * at a time, the next one holding all that arrived meanwhile). After a
 * crash the deliveries whose result was not yet committed go out again,
 * oldest first, with the same webhook-id: at least once, in order.
 *
 * Design note: retries and pausing.
 * A failed attempt is retried after retry_base, x6, x24, x120, x360, then
 * x720 (5 s, 30 s, 2 min, 10 min, 30 min, 1 h by default), capped at
 * retry_max, each +-20% so that recovering receivers are not hit by every
 * endpoint at the same instant. Endpoints are independent: one failing
 * receiver holds back only its own queue. When the head has failed at
 * least pause_failures times over at least pause_after (24 h), the
 * endpoint is paused with the reason; its deliveries keep accumulating
 * and go out, in order, when its owner resumes it.
 *
 * Matching uses the subscription index (match.h) with one small number per
 * endpoint, so the cost per event grows with the matches, not with the
 * endpoints. */
#include "deliver/webhook.h"
#include "auth/auth.h"
#include "core/core_time.h"
#include "deliver/deliver.h"
#include "feeds/feeds.h"
#include "feeds/feeds_render.h"
#include "match/match.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WIRE_BATCH 200
#define ENQUEUE_RETRY_MS 1000
#define NOT_IN_HEAP ((size_t)-1)

typedef enum { FMT_NINJS, FMT_NEWSML, FMT_JSON, FMT_COUNT_ } wh_format_t;

static const struct {
    const char *name;
    const char *type;
} formats[FMT_COUNT_] = {
    [FMT_NINJS] = {"ninjs", "application/json; charset=utf-8"},
    [FMT_NEWSML] = {"newsml", FEEDS_NEWSML_ITEM_TYPE},
    [FMT_JSON] = {"json", "application/json; charset=utf-8"},
};

typedef struct engine_s engine_t;

typedef struct {
    uint32_t num; /* the endpoint's number in the index */
    char id[32];
    char subscriber_id[32];
    char *url;
    unsigned char key[WEBHOOK_KEY_MAX];
    size_t keylen;
    wh_format_t format;
    int64_t after_seq;
    int paused;
    int removed; /* deleted while a request was in flight: freed when it ends */
    int has_head;
    store_webhook_delivery_t head;
    int64_t done_seq; /* the head is read past this */
    int in_flight;
    size_t heap_pos;
} endpoint_t;

/* A request in flight. */
typedef struct {
    engine_t *eng;
    endpoint_t *e;
} attempt_t;

struct engine_s {
    kawat_app_t *app;
    webhook_config_t cfg;
    deliver_t *deliver;
    match_index_t *index;
    endpoint_t **by_num; /* num -> endpoint; NULL once removed */
    size_t nnum, capnum;
    size_t nendpoints, npaused;
    endpoint_t **heap; /* endpoints whose head waits, by head.next_at */
    size_t nheap, capheap;
    uv_timer_t timer;
    uint32_t *matches;
    size_t matches_cap;
    int64_t read_seq;   /* events up to here are in the outbox */
    int64_t target_seq; /* events up to here are committed and known on the loop */
    int64_t enqueue_retry_at;
    int enqueue_busy;
    json_t *results, *pauses; /* for the next results op */
    int results_busy;
    size_t in_flight;
    int ops_pending, handles_open, stopping;
    uint64_t rng;
    uint64_t delivered, failed;
};

/* ---- signing ---- */

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int webhook_secret_decode(const char *secret, unsigned char *key, size_t *keylen)
{
    if (secret == NULL || strncmp(secret, "whsec_", 6) != 0) return KW_INVALID;
    const char *b = secret + 6;
    size_t n = strlen(b);
    if (n == 0 || n % 4 != 0 || n > 4 * ((WEBHOOK_KEY_MAX + 2) / 3)) return KW_INVALID;
    size_t out = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int j = 0; j < 4; j++) {
            if (b[i + j] == '=' && i + 4 == n && j >= 2) {
                v[j] = 0;
                pad++;
            } else {
                if (pad) return KW_INVALID; /* '=' only at the very end */
                v[j] = b64_value((unsigned char)b[i + j]);
                if (v[j] < 0) return KW_INVALID;
            }
        }
        uint32_t w =
            (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        unsigned char bytes[3] = {(unsigned char)(w >> 16), (unsigned char)(w >> 8),
                                  (unsigned char)w};
        for (int j = 0; j < 3 - pad; j++) {
            if (out == WEBHOOK_KEY_MAX) return KW_INVALID;
            key[out++] = bytes[j];
        }
    }
    if (out < WEBHOOK_KEY_MIN) return KW_INVALID;
    *keylen = out;
    return KW_OK;
}

void webhook_secret_generate(char *out, size_t size)
{
    unsigned char key[32];
    if (RAND_bytes(key, (int)sizeof(key)) != 1) {
        /* No secret beats a weak one. */
        fprintf(stderr, "kawat: webhooks: the system random generator failed\n");
        abort();
    }
    char b64[48];
    EVP_EncodeBlock((unsigned char *)b64, key, (int)sizeof(key));
    snprintf(out, size, "whsec_%s", b64);
    explicit_bzero(key, sizeof(key));
}

int webhook_sign(const unsigned char *key, size_t keylen, const char *msg_id, int64_t timestamp,
                 const void *body, size_t len, char *out, size_t size)
{
    kw_buf_t msg = {0};
    kw_buf_printf(&msg, "%s.%lld.", msg_id, (long long)timestamp);
    kw_buf_append(&msg, body, len);
    unsigned char mac[32];
    int rc = auth_hmac_sha256(key, keylen, msg.data, msg.len, mac);
    kw_buf_free(&msg);
    if (rc != KW_OK || size < WEBHOOK_SIGNATURE_SIZE) return KW_ERROR;
    memcpy(out, "v1,", 3);
    EVP_EncodeBlock((unsigned char *)out + 3, mac, (int)sizeof(mac));
    return KW_OK;
}

/* ---- small helpers ---- */

static uint64_t rng_next(engine_t *g)
{
    /* xorshift64*: jitter needs spread, not secrecy. */
    g->rng ^= g->rng >> 12;
    g->rng ^= g->rng << 25;
    g->rng ^= g->rng >> 27;
    return g->rng * 2685821657736338717ULL;
}

static int format_parse(const char *name, wh_format_t *out)
{
    for (int f = 0; f < FMT_COUNT_; f++)
        if (name && strcmp(name, formats[f].name) == 0) {
            *out = (wh_format_t)f;
            return KW_OK;
        }
    return KW_INVALID;
}

/* The wait before attempt n+1 after n failed attempts, with jitter. */
static int64_t backoff_ms(engine_t *g, int failures)
{
    static const unsigned mult[] = {1, 6, 24, 120, 360, 720};
    size_t i = failures < 1 ? 0 : (size_t)failures - 1;
    if (i >= KW_ARRAY_SIZE(mult)) i = KW_ARRAY_SIZE(mult) - 1;
    int64_t d = (int64_t)g->cfg.retry_base_ms * mult[i];
    if (d > (int64_t)g->cfg.retry_max_ms) d = (int64_t)g->cfg.retry_max_ms;
    if (d < 1) d = 1;
    return d * 8 / 10 + (int64_t)(rng_next(g) % (uint64_t)(d * 4 / 10 + 1));
}

/* ---- the heap of waiting heads ---- */

static int heap_less(const endpoint_t *a, const endpoint_t *b)
{
    return a->head.next_at < b->head.next_at;
}

static void heap_set(engine_t *g, size_t i, endpoint_t *e)
{
    g->heap[i] = e;
    e->heap_pos = i;
}

static void heap_up(engine_t *g, size_t i)
{
    endpoint_t *e = g->heap[i];
    while (i > 0 && heap_less(e, g->heap[(i - 1) / 2])) {
        heap_set(g, i, g->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(g, i, e);
}

static void heap_down(engine_t *g, size_t i)
{
    endpoint_t *e = g->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= g->nheap) break;
        if (c + 1 < g->nheap && heap_less(g->heap[c + 1], g->heap[c])) c++;
        if (!heap_less(g->heap[c], e)) break;
        heap_set(g, i, g->heap[c]);
        i = c;
    }
    heap_set(g, i, e);
}

static void heap_push(engine_t *g, endpoint_t *e)
{
    if (e->heap_pos != NOT_IN_HEAP) return;
    if (g->nheap == g->capheap) {
        g->capheap = g->capheap ? 2 * g->capheap : 64;
        g->heap = kw_realloc(g->heap, g->capheap * sizeof(*g->heap));
    }
    heap_set(g, g->nheap++, e);
    heap_up(g, g->nheap - 1);
}

static void heap_remove(engine_t *g, endpoint_t *e)
{
    size_t i = e->heap_pos;
    if (i == NOT_IN_HEAP) return;
    e->heap_pos = NOT_IN_HEAP;
    endpoint_t *last = g->heap[--g->nheap];
    if (i == g->nheap) return;
    heap_set(g, i, last);
    heap_up(g, i);
    heap_down(g, last->heap_pos);
}

/* ---- lifetime ---- */

static void endpoint_free(endpoint_t *e)
{
    free(e->url);
    explicit_bzero(e->key, sizeof(e->key));
    free(e);
}

static void engine_maybe_free(engine_t *g)
{
    if (!g->stopping || g->handles_open > 0 || g->ops_pending > 0 || g->in_flight > 0) return;
    for (size_t i = 0; i < g->nnum; i++)
        if (g->by_num[i]) endpoint_free(g->by_num[i]);
    free(g->by_num);
    free(g->heap);
    free(g->matches);
    match_index_free(g->index);
    json_decref(g->results);
    json_decref(g->pauses);
    free(g);
}

static void on_timer_closed(uv_handle_t *h)
{
    engine_t *g = h->data;
    g->handles_open--;
    engine_maybe_free(g);
}

static void on_deliver_closed(void *arg)
{
    engine_t *g = arg;
    g->handles_open--;
    engine_maybe_free(g);
}

/* ---- endpoints in memory ---- */

static endpoint_t *endpoint_find(engine_t *g, const char *id)
{
    for (size_t i = 0; i < g->nnum; i++)
        if (g->by_num[i] && strcmp(g->by_num[i]->id, id) == 0) return g->by_num[i];
    return NULL;
}

/* Gives the index e's filters (canonical JSON from the store). */
static int endpoint_index(engine_t *g, endpoint_t *e, json_t *filters)
{
    size_t n = json_array_size(filters);
    match_filter_t *fs = kw_calloc(n ? n : 1, sizeof(*fs));
    core_errors_t errs = {0};
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        match_filter_init(&fs[ok]);
        if (match_filter_parse_json(&fs[ok], json_array_get(filters, i), "filters",
                                    store_sector_resolve, g->app->store, &errs) == KW_OK)
            ok++;
        else
            match_filter_clear(&fs[ok]);
    }
    int rc = match_index_set(g->index, e->num, fs, ok);
    for (size_t i = 0; i < ok; i++)
        match_filter_clear(&fs[i]);
    free(fs);
    if (ok < n || rc != KW_OK)
        fprintf(stderr, "kawat: webhooks: endpoint %s: %zu of %zu filters not understood\n", e->id,
                n - ok, n);
    return rc;
}

/* Copies what may change from a stored row into e. Only the engine pauses
 * and only a resume unpauses: a pause not yet committed when another change
 * of the endpoint is read from the store stays. */
static void endpoint_apply(engine_t *g, endpoint_t *e, const store_webhook_t *w, int resume)
{
    free(e->url);
    e->url = kw_strdup(w->url);
    if (webhook_secret_decode(w->secret, e->key, &e->keylen) != KW_OK) e->keylen = 0;
    if (format_parse(w->format, &e->format) != KW_OK) e->format = FMT_NINJS;
    e->after_seq = w->after_seq;
    int paused = resume ? 0 : e->paused || w->paused;
    if (paused && !e->paused) g->npaused++;
    if (!paused && e->paused) g->npaused--;
    e->paused = paused;
    endpoint_index(g, e, w->filters);
}

static void schedule(engine_t *g);

/* Reads e's oldest pending delivery past done_seq, when it has none in
 * hand, and queues it unless e is paused. */
static void head_load(engine_t *g, endpoint_t *e)
{
    if (e->removed || e->in_flight || e->has_head) return;
    int rc = store_webhook_next(g->app->store, e->id, e->done_seq, &e->head);
    if (rc == KW_OK) {
        e->has_head = 1;
        if (!e->paused) heap_push(g, e);
    } else if (rc != KW_NOTFOUND) {
        fprintf(stderr, "kawat: webhooks: cannot read the outbox of %s\n", e->id);
    }
}

static endpoint_t *endpoint_add(engine_t *g, const store_webhook_t *w)
{
    endpoint_t *e = kw_calloc(1, sizeof(*e));
    e->heap_pos = NOT_IN_HEAP;
    snprintf(e->id, sizeof(e->id), "%s", w->id);
    snprintf(e->subscriber_id, sizeof(e->subscriber_id), "%s", w->subscriber_id);
    if (g->nnum == g->capnum) {
        g->capnum = g->capnum ? 2 * g->capnum : 64;
        g->by_num = kw_realloc(g->by_num, g->capnum * sizeof(*g->by_num));
    }
    e->num = (uint32_t)g->nnum;
    g->by_num[g->nnum++] = e;
    g->nendpoints++;
    endpoint_apply(g, e, w, 0);
    return e;
}

static void endpoint_remove(engine_t *g, endpoint_t *e)
{
    heap_remove(g, e);
    match_index_remove(g->index, e->num);
    g->by_num[e->num] = NULL;
    g->nendpoints--;
    if (e->paused) g->npaused--;
    if (e->in_flight)
        e->removed = 1; /* freed when its request ends */
    else
        endpoint_free(e);
}

/* ---- store ops ---- */

static void pump_enqueue(engine_t *g);
static void flush_results(engine_t *g);

static void on_results_done(store_op_t *op)
{
    engine_t *g = op->arg;
    g->ops_pending--;
    g->results_busy = 0;
    if (op->rc != KW_OK) /* The deliveries stay pending and go out again: at least once. */
        fprintf(stderr, "kawat: webhooks: cannot record %zu attempts: %s\n",
                json_array_size(json_object_get(op->input, "attempts")), op->message);
    store_op_free(op);
    if (!g->stopping) flush_results(g);
    engine_maybe_free(g);
}

/* Writes the attempts and pauses gathered since the last write, one op at
 * a time (a stopping engine writes what it holds at once). */
static void flush_results(engine_t *g)
{
    if ((g->results_busy && !g->stopping) ||
        (json_array_size(g->results) == 0 && json_array_size(g->pauses) == 0))
        return;
    store_op_t *op = store_op_new(STORE_OP_WEBHOOK_RESULTS, on_results_done, g);
    op->input = json_pack("{s:o, s:o}", "attempts", g->results, "pauses", g->pauses);
    g->results = json_array();
    g->pauses = json_array();
    g->results_busy = 1;
    g->ops_pending++;
    store_submit(g->app->store, op);
}

/* ---- payloads ---- */

/* A withdrawn release (or one withdrawn since the event) as a NewsML-G2
 * newsItem with pubStatus canceled and no content. */
static void newsml_canceled(kawat_app_t *app, const core_release_t *r, kw_buf_t *out)
{
    char path[96], at[40];
    core_release_path(r, path, sizeof(path));
    core_time_format_rfc3339(r->withdrawn_at ? r->withdrawn_at : r->updated_at, at, sizeof(at));
    kw_buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<newsItem xmlns=\"http://iptc.org/std/nar/2006-10-01/\" guid=\"");
    feeds_xml_escape(out, app->base_url);
    feeds_xml_escape(out, path);
    kw_buf_printf(out,
                  "\" version=\"%d\" standard=\"NewsML-G2\" standardversion=\"2.35\" "
                  "conformance=\"power\" xml:lang=\"",
                  r->version > 0 ? r->version : 1);
    feeds_xml_escape(out, r->language);
    kw_buf_puts(out, "\">\n<catalogRef href=\"http://www.iptc.org/std/catalog/"
                     "catalog.IPTC-G2-Standards_41.xml\"/>\n<itemMeta>\n"
                     "<itemClass qcode=\"ninat:text\"/>\n<provider uri=\"");
    feeds_xml_escape(out, app->base_url);
    kw_buf_puts(out, "/\"><name>");
    feeds_xml_escape(out, app->wire_name);
    kw_buf_printf(out,
                  "</name></provider>\n<versionCreated>%s</versionCreated>\n"
                  "<pubStatus qcode=\"stat:canceled\"/>\n",
                  at);
    if (r->withdrawal_reason && *r->withdrawal_reason) {
        kw_buf_puts(out, "<edNote>");
        feeds_xml_escape(out, r->withdrawal_reason);
        kw_buf_puts(out, "</edNote>\n");
    }
    kw_buf_puts(out, "</itemMeta>\n</newsItem>\n");
}

/* Renders event ev in format f into out. Only public content leaves: a
 * release withdrawn by the time it is read goes as its tombstone. */
static int payload_render(engine_t *g, const store_event_t *ev, wh_format_t f, kw_buf_t *out)
{
    kawat_app_t *app = g->app;
    const core_release_t *r = ev->release;
    int public = r->state == REL_PUBLISHED || r->state == REL_CORRECTED;
    json_t *translations = NULL;
    if (public && r->translation_group && f != FMT_JSON)
        translations = store_translations(app->store, r->translation_group, r->id);
    int rc = KW_OK;
    if (f == FMT_NINJS) {
        json_t *o =
            feeds_ninjs_event(r, ev->seq, ev->kind, app->base_url, app->wire_name, translations);
        char *z = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (z)
            kw_buf_puts(out, z);
        else
            rc = KW_ERROR;
        free(z);
        json_decref(o);
    } else if (f == FMT_NEWSML) {
        if (!public || strcmp(ev->kind, FEEDS_KIND_WITHDRAWAL) == 0 ||
            feeds_newsml_item(r, app->base_url, app->wire_name, translations, out) != KW_OK)
            newsml_canceled(app, r, out);
    } else {
        char at[40];
        core_time_format_rfc3339(ev->at, at, sizeof(at));
        json_t *o = json_pack("{s:I, s:s, s:s, s:i, s:o}", "seq", (json_int_t)ev->seq, "kind",
                              ev->kind, "at", at, "version", ev->version, "release",
                              core_release_to_json(r, app->base_url, 0));
        char *z = o ? json_dumps(o, JSON_COMPACT) : NULL;
        if (z)
            kw_buf_puts(out, z);
        else
            rc = KW_ERROR;
        free(z);
        json_decref(o);
    }
    json_decref(translations);
    return rc;
}

/* ---- the outbox: from the wire ---- */

static void on_enqueue_done(store_op_t *op)
{
    engine_t *g = op->arg;
    g->ops_pending--;
    g->enqueue_busy = 0;
    if (!g->stopping) {
        if (op->rc == KW_OK) {
            g->read_seq = json_integer_value(json_object_get(op->input, "through"));
            size_t i;
            json_t *d;
            json_array_foreach(json_object_get(op->input, "deliveries"), i, d)
            {
                /* "num" is the engine's own note; the store ignores it. A
                 * number is never reused, so it names the same endpoint
                 * or a removed one (NULL). */
                size_t num = (size_t)json_integer_value(json_object_get(d, "num"));
                endpoint_t *e = num < g->nnum ? g->by_num[num] : NULL;
                if (e && strcmp(e->id, json_string_value(json_object_get(d, "endpoint"))) == 0)
                    head_load(g, e);
            }
            pump_enqueue(g);
            schedule(g);
        } else {
            fprintf(stderr, "kawat: webhooks: cannot write the outbox after %lld: %s\n",
                    (long long)g->read_seq, op->message);
            g->enqueue_retry_at = kw_now_ms() + ENQUEUE_RETRY_MS;
            schedule(g);
        }
    }
    store_op_free(op);
    engine_maybe_free(g);
}

/* Reads the next batch of events past read_seq (up to target_seq) and
 * writes their deliveries in one op. */
static void pump_enqueue(engine_t *g)
{
    if (g->stopping || g->enqueue_busy || g->read_seq >= g->target_seq) return;
    if (g->nendpoints == 0) {
        /* Nobody to deliver to; endpoints made later start past here. The
         * position is written with the next batch. */
        g->read_seq = g->target_seq;
        return;
    }
    store_event_t *ev = NULL;
    size_t n = 0;
    if (store_wire_read(g->app->store, g->read_seq, WIRE_BATCH, &ev, &n) != KW_OK) {
        fprintf(stderr, "kawat: webhooks: cannot read the wire after %lld\n",
                (long long)g->read_seq);
        g->enqueue_retry_at = kw_now_ms() + ENQUEUE_RETRY_MS;
        schedule(g);
        return;
    }
    json_t *payloads = json_array(), *deliveries = json_array();
    int64_t through = g->read_seq;
    for (size_t i = 0; i < n && ev[i].seq <= g->target_seq; i++) {
        through = ev[i].seq;
        match_doc_t *doc = match_doc_new(ev[i].release);
        size_t nm = match_index_match(g->index, doc, &g->matches, &g->matches_cap);
        int need[FMT_COUNT_] = {0};
        for (size_t k = 0; k < nm; k++) {
            endpoint_t *e = g->matches[k] < g->nnum ? g->by_num[g->matches[k]] : NULL;
            if (e == NULL || e->after_seq >= ev[i].seq) continue;
            need[e->format] = 1;
            json_array_append_new(deliveries,
                                  json_pack("{s:s, s:I, s:s, s:s, s:I}", "endpoint", e->id, "seq",
                                            (json_int_t)ev[i].seq, "kind", ev[i].kind, "release_id",
                                            ev[i].release->id, "num", (json_int_t)e->num));
        }
        match_doc_free(doc);
        for (int f = 0; f < FMT_COUNT_; f++) {
            if (!need[f]) continue;
            kw_buf_t body = {0};
            if (payload_render(g, &ev[i], (wh_format_t)f, &body) != KW_OK)
                fprintf(stderr, "kawat: webhooks: cannot render event %lld as %s\n",
                        (long long)ev[i].seq, formats[f].name);
            json_t *p = json_pack("{s:I, s:s, s:s%}", "seq", (json_int_t)ev[i].seq, "format",
                                  formats[f].name, "body", body.data ? body.data : "", body.len);
            if (p == NULL) /* not UTF-8: the renderers never make that */
                fprintf(stderr, "kawat: webhooks: event %lld as %s is not UTF-8\n",
                        (long long)ev[i].seq, formats[f].name);
            else
                json_array_append_new(payloads, p);
            kw_buf_free(&body);
        }
    }
    store_events_free(ev, n);
    if (n == 0) through = g->target_seq; /* nothing past read_seq after all */
    store_op_t *op = store_op_new(STORE_OP_WEBHOOK_ENQUEUE, on_enqueue_done, g);
    op->input = json_pack("{s:I, s:o, s:o}", "through", (json_int_t)through, "payloads", payloads,
                          "deliveries", deliveries);
    g->enqueue_busy = 1;
    g->ops_pending++;
    store_submit(g->app->store, op);
}

/* ---- delivering ---- */

static void dispatch(engine_t *g);

static void on_attempt_done(const deliver_result_t *res, void *arg)
{
    attempt_t *a = arg;
    engine_t *g = a->eng;
    endpoint_t *e = a->e;
    free(a);
    g->in_flight--;
    e->in_flight = 0;
    if (e->removed) {
        endpoint_free(e);
        if (!g->stopping) dispatch(g);
        engine_maybe_free(g);
        return;
    }
    if (res->outcome == DELIVER_CANCELLED || g->stopping) {
        /* Not an attempt: the delivery stays pending for the next start. */
        engine_maybe_free(g);
        return;
    }
    int64_t now = kw_now_ms();
    int ok = res->outcome == DELIVER_ANSWERED && res->status >= 200 && res->status < 300;
    int attempt = e->head.attempts + 1;
    char error[256] = "";
    if (!ok) {
        if (res->outcome == DELIVER_ANSWERED)
            snprintf(error, sizeof(error), "HTTP %d", res->status);
        else
            snprintf(error, sizeof(error), "%s%s",
                     res->outcome == DELIVER_REFUSED && res->error &&
                             strncmp(res->error, "refused", 7) != 0
                         ? "refused: "
                         : "",
                     res->error && *res->error ? res->error : "no answer");
    }
    json_t *rec = json_pack("{s:s, s:I, s:i, s:I, s:I, s:b}", "endpoint", e->id, "seq",
                            (json_int_t)e->head.seq, "attempt", attempt, "at",
                            (json_int_t)(now - res->elapsed_ms), "elapsed_ms",
                            (json_int_t)res->elapsed_ms, "delivered", ok);
    json_object_set_new(rec, "status",
                        res->outcome == DELIVER_ANSWERED ? json_integer(res->status) : json_null());
    json_object_set_new(rec, "error", ok ? json_null() : json_string(error));
    if (ok) {
        g->delivered++;
        json_object_set_new(rec, "next_at", json_integer(now));
        e->done_seq = e->head.seq;
        e->has_head = 0;
        head_load(g, e);
    } else {
        g->failed++;
        if (e->head.first_failed_at == 0) e->head.first_failed_at = now;
        e->head.attempts = attempt;
        e->head.next_at = now + backoff_ms(g, attempt);
        json_object_set_new(rec, "next_at", json_integer(e->head.next_at));
        json_object_set_new(rec, "first_failed_at", json_integer(e->head.first_failed_at));
        if ((unsigned)attempt >= g->cfg.pause_failures &&
            now - e->head.first_failed_at >= (int64_t)g->cfg.pause_after_ms) {
            char since[40], reason[512];
            core_time_format_rfc3339(e->head.first_failed_at, since, sizeof(since));
            snprintf(reason, sizeof(reason),
                     "%d failed attempts to deliver event %lld since %s; the last: %s", attempt,
                     (long long)e->head.seq, since, error);
            fprintf(stderr, "kawat: webhooks: pausing endpoint %s: %s\n", e->id, reason);
            e->paused = 1;
            g->npaused++;
            json_array_append_new(g->pauses,
                                  json_pack("{s:s, s:s}", "endpoint", e->id, "reason", reason));
        } else {
            heap_push(g, e);
        }
    }
    json_array_append_new(g->results, rec);
    flush_results(g);
    dispatch(g);
}

/* Sends e's head. */
static void attempt_send(engine_t *g, endpoint_t *e)
{
    kw_buf_t body = {0};
    if (store_webhook_payload(g->app->store, e->head.seq, formats[e->format].name, &body) !=
        KW_OK) {
        /* The endpoint's format changed after the event was queued: render
         * it now (the same bytes every later attempt gets are not
         * guaranteed, the id is). */
        store_event_t *ev = NULL;
        size_t n = 0;
        if (store_wire_read(g->app->store, e->head.seq - 1, 1, &ev, &n) == KW_OK && n == 1 &&
            ev[0].seq == e->head.seq)
            payload_render(g, &ev[0], e->format, &body);
        store_events_free(ev, n);
    }
    char msg_id[80], ts[32], h_id[96], h_ts[64], h_sig[96], sig[WEBHOOK_SIGNATURE_SIZE], ctype[96];
    int64_t now_s = kw_now_ms() / 1000;
    snprintf(msg_id, sizeof(msg_id), "evt_%lld_%s", (long long)e->head.seq, e->id);
    snprintf(ts, sizeof(ts), "%lld", (long long)now_s);
    if (webhook_sign(e->key, e->keylen, msg_id, now_s, body.data ? body.data : "", body.len, sig,
                     sizeof(sig)) != KW_OK)
        snprintf(sig, sizeof(sig), "v1,");
    snprintf(ctype, sizeof(ctype), "Content-Type: %s", formats[e->format].type);
    snprintf(h_id, sizeof(h_id), "webhook-id: %s", msg_id);
    snprintf(h_ts, sizeof(h_ts), "webhook-timestamp: %s", ts);
    snprintf(h_sig, sizeof(h_sig), "webhook-signature: %s", sig);
    const char *headers[] = {ctype, h_id, h_ts, h_sig, NULL};
    attempt_t *a = kw_calloc(1, sizeof(*a));
    a->eng = g;
    a->e = e;
    e->in_flight = 1;
    g->in_flight++;
    deliver_http_send(g->deliver, "POST", e->url, headers, body.data, body.len, on_attempt_done, a);
    kw_buf_free(&body);
}

/* Sends every head that is due, as far as max_in_flight allows, and sets
 * the timer for the next. */
static void dispatch(engine_t *g)
{
    if (g->stopping) return;
    int64_t now = kw_now_ms();
    while (g->nheap > 0 && g->in_flight < g->cfg.max_in_flight && g->heap[0]->head.next_at <= now) {
        endpoint_t *e = g->heap[0];
        heap_remove(g, e);
        attempt_send(g, e);
    }
    schedule(g);
}

static void on_timer(uv_timer_t *t)
{
    engine_t *g = t->data;
    if (g->enqueue_retry_at && g->enqueue_retry_at <= kw_now_ms()) {
        g->enqueue_retry_at = 0;
        pump_enqueue(g);
    }
    dispatch(g);
}

static void schedule(engine_t *g)
{
    if (g->stopping) return;
    int64_t now = kw_now_ms(), due = 0;
    if (g->nheap > 0 && g->in_flight < g->cfg.max_in_flight) due = g->heap[0]->head.next_at;
    if (g->enqueue_retry_at && (due == 0 || g->enqueue_retry_at < due)) due = g->enqueue_retry_at;
    if (due == 0) {
        uv_timer_stop(&g->timer);
        return;
    }
    uv_timer_start(&g->timer, on_timer, due > now ? (uint64_t)(due - now) : 0, 0);
}

/* ---- following the store ---- */

static void on_delete_done(store_op_t *op)
{
    engine_t *g = op->arg;
    g->ops_pending--;
    if (op->rc != KW_OK && op->rc != KW_NOTFOUND)
        fprintf(stderr, "kawat: webhooks: cannot remove an endpoint of a deleted outlet: %s\n",
                op->message);
    store_op_free(op);
    engine_maybe_free(g);
}

void webhook_after_write(kawat_app_t *app, store_op_t *op)
{
    engine_t *g = app->webhooks;
    if (g == NULL || g->stopping || op->rc != KW_OK) return;
    if (op->last_seq > g->target_seq) {
        g->target_seq = op->last_seq;
        pump_enqueue(g);
    }
    if (op->kind == STORE_OP_SUBSCRIBER_DELETE && op->subscriber) {
        /* The outlet is gone: so are its endpoints, in memory now and in
         * the store by an op of the wire's own (its tokens are revoked, so
         * nobody else could). */
        for (size_t i = 0; i < g->nnum; i++) {
            endpoint_t *e = g->by_num[i];
            if (e == NULL || strcmp(e->subscriber_id, op->subscriber->id) != 0) continue;
            store_op_t *del = store_op_new(STORE_OP_WEBHOOK_DELETE, on_delete_done, g);
            del->who.role = ROLE_ADMIN;
            snprintf(del->who.name, sizeof(del->who.name), "kawat");
            del->input = json_pack("{s:s}", "id", e->id);
            g->ops_pending++;
            store_submit(app->store, del);
            endpoint_remove(g, e);
        }
    }
}

void webhook_endpoint_changed(kawat_app_t *app, const store_op_t *op)
{
    engine_t *g = app->webhooks;
    if (g == NULL || g->stopping || op->rc != KW_OK) return;
    const char *id = json_string_value(json_object_get(op->output, "id"));
    if (id == NULL) return;
    endpoint_t *e = endpoint_find(g, id);
    if (op->kind == STORE_OP_WEBHOOK_DELETE) {
        if (e) endpoint_remove(g, e);
        return;
    }
    store_webhook_t *w = NULL;
    if (store_webhook_get(app->store, id, &w) != KW_OK) {
        if (e) endpoint_remove(g, e);
        return;
    }
    if (e == NULL) {
        e = endpoint_add(g, w);
    } else {
        int resume = json_is_true(json_object_get(op->input, "resume"));
        endpoint_apply(g, e, w, resume);
        if (resume && e->has_head) {
            /* The store made every pending delivery due now. */
            heap_remove(g, e);
            e->head.next_at = kw_now_ms();
            e->head.first_failed_at = 0;
        }
        if (e->paused) heap_remove(g, e);
    }
    store_webhook_free(w);
    if (e->has_head && !e->paused && !e->in_flight) heap_push(g, e);
    head_load(g, e);
    dispatch(g);
}

int webhook_url_check(const kawat_app_t *app, const char *url, char *err, size_t errsize)
{
    const engine_t *g = app->webhooks;
    if (g && g->deliver) return deliver_url_allowed(g->deliver, url, err, errsize);
    return deliver_url_check(url, err, errsize);
}

void webhook_get_stats(const kawat_app_t *app, webhook_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    const engine_t *g = app->webhooks;
    if (g == NULL) return;
    out->delivered = g->delivered;
    out->failed = g->failed;
    out->endpoints = g->nendpoints;
    out->paused = g->npaused;
    out->in_flight = g->in_flight;
}

/* ---- start, stop ---- */

void webhook_config_defaults(webhook_config_t *cfg)
{
    cfg->timeout_ms = 10000;
    cfg->retry_base_ms = 5000;
    cfg->retry_max_ms = 3600 * 1000;
    cfg->pause_after_ms = 24 * 3600 * 1000ULL;
    cfg->pause_failures = 10;
    cfg->max_in_flight = 64;
}

static int load_one(const store_webhook_t *w, void *arg)
{
    engine_t *g = arg;
    endpoint_add(g, w);
    return KW_OK;
}

int webhook_start(kawat_app_t *app, const webhook_config_t *cfg)
{
    deliver_config_t dc;
    deliver_config_defaults(&dc);
    dc.allow = app->webhook_allow;
    dc.user_agent = "kawat-webhooks (+https://www.standardwebhooks.com/)";
    dc.timeout_ms = cfg->timeout_ms;
    if (dc.connect_timeout_ms > cfg->timeout_ms) dc.connect_timeout_ms = cfg->timeout_ms;
    dc.max_connections = cfg->max_in_flight;
    dc.max_response_bytes = 4096; /* only the status counts */
    deliver_t *d;
    if (deliver_start(app->loop, &dc, &d) != KW_OK) {
        fprintf(stderr, "kawat: webhooks: cannot start the outbound HTTP client\n");
        return KW_ERROR;
    }
    engine_t *g = kw_calloc(1, sizeof(*g));
    g->app = app;
    g->cfg = *cfg;
    if (g->cfg.max_in_flight == 0) g->cfg.max_in_flight = 1;
    g->deliver = d;
    g->index = match_index_new();
    g->results = json_array();
    g->pauses = json_array();
    g->rng = (uint64_t)kw_now_ms() ^ ((uint64_t)(uintptr_t)g << 16) ^ 0x9e3779b97f4a7c15ULL;
    if (g->rng == 0) g->rng = 1;
    if (store_webhooks_each(app->store, load_one, g) != KW_OK) {
        fprintf(stderr, "kawat: webhooks: cannot read the endpoints\n");
        deliver_stop(d, NULL, NULL);
        g->stopping = 1;
        engine_maybe_free(g);
        return KW_ERROR;
    }
    char pos[32];
    g->read_seq = store_meta_get(app->store, "webhook_seq", pos, sizeof(pos)) == KW_OK
                      ? strtoll(pos, NULL, 10)
                      : 0;
    g->target_seq = store_wire_last_seq(app->store);
    int64_t oldest = g->target_seq;
    for (size_t i = 0; i < g->nnum; i++) {
        endpoint_t *e = g->by_num[i];
        if (e->after_seq < oldest) oldest = e->after_seq;
        head_load(g, e);
    }
    /* Events no endpoint was there for need no reading. */
    if (oldest > g->read_seq) g->read_seq = oldest;
    uv_timer_init(app->loop, &g->timer);
    g->timer.data = g;
    /* A stopping server does not wait for a retry to come due. */
    uv_unref((uv_handle_t *)&g->timer);
    g->handles_open = 2; /* the timer and the deliver client */
    app->webhooks = g;
    pump_enqueue(g);
    dispatch(g);
    return KW_OK;
}

void webhook_stop(kawat_app_t *app)
{
    engine_t *g = app->webhooks;
    if (g == NULL) return;
    app->webhooks = NULL;
    g->stopping = 1;
    while (g->nheap)
        heap_remove(g, g->heap[0]);
    deliver_stop(g->deliver, on_deliver_closed, g); /* cancels what is in flight */
    g->deliver = NULL;
    flush_results(g); /* the writer commits it before it stops */
    uv_close((uv_handle_t *)&g->timer, on_timer_closed);
}
