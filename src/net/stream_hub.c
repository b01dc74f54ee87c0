/* stream_hub.c -- the main-loop side of live distribution: who is
 * connected with which filter, the subscription index, replay from the
 * wire log on (re)connect, and fan-out of each event to the worker loops.
 *
 * Design note: no gap, no duplicate.
 * Everything here runs on the main loop, which is also where commits are
 * acknowledged. The hub remembers `last_seq`, the newest wire event it has
 * fanned out. A new stream replays the matching events in (after, last_seq]
 * from the store and is registered in the same loop turn, so the next
 * fan-out (events > last_seq) reaches it: nothing is missed between replay
 * and live, nothing is sent twice. The ADOPT message carrying the replay is
 * queued to the connection's worker before any later event message, so the
 * order on the wire is the order of sequence numbers. A replay longer than
 * replay_max events is sent in part and the stream closed: the client
 * reconnects with the last id it got (SSE does this by itself) and gets
 * the rest.
 *
 * Two indexes, each over dense ids: `ix` holds every stored subscriber
 * under its number (all its live connections share the entry, and the same
 * index serves delivery by e-mail and webhook later); `cix` holds the
 * connections that carry their own filter (anonymous streams, WebSockets
 * that changed their filter) under their connection id. */
#include "net/stream_int.h"
#include "api/api.h" /* problem documents for refused streams */
#include "deliver/report.h"
#include "feeds/feeds.h"
#include "match/match.h"
#include "net/net_query.h"

#include <errno.h>
#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NO_CONN 0u
#define MATCH_SAMPLES 1024

typedef struct {
    int in_use;
    unsigned worker;
    stream_proto_t proto;
    uint32_t sub_num; /* 0: own filter */
    int trusted;
    match_filter_t *filters; /* own filters (sub_num 0), or a copy of the subscriber's */
    size_t nfilters;
    uint32_t next_same_sub; /* the subscriber's next connection, NO_CONN at the end */
    uint32_t prev_same_sub;
    uint16_t label; /* the report label of its filters (hub->labels) */
} hconn_t;

struct stream_hub_s {
    uv_loop_t *loop;
    store_t *store;
    stream_config_t cfg;
    char *base_url;
    char *wire_name;
    stream_worker_t **workers;
    unsigned nworkers;
    uv_async_t async;
    pthread_mutex_t lock;
    stream_hmsg_t *head, *tail;
    match_index_t *ix;  /* stored subscribers, by number */
    match_index_t *cix; /* connections with their own filter, by id */
    int64_t last_seq;

    hconn_t *conns; /* by id; id 0 unused */
    uint32_t conns_cap;
    uint32_t *free_ids;
    size_t nfree, free_cap;
    uint32_t next_id;
    size_t nconns;

    uint32_t *sub_head; /* by subscriber number: first live connection */
    uint32_t sub_cap;

    uint32_t *match_buf;
    size_t match_cap;
    uint32_t **per_worker;
    uint16_t **per_worker_label; /* each target's label, when counting */
    size_t *per_worker_n, *per_worker_cap;

    /* Report labels (language, country) connections are counted under,
     * numbered in order of first use; never removed, so a number stays
     * valid in a tally that comes back later. 0 is ("any", "ZZ"). */
    report_label_t *labels;
    size_t nlabels, labels_cap;

    /* counters */
    uint64_t events;
    uint64_t matched;
    uint64_t drops;
    uint64_t replayed;
    uint64_t refused; /* streams refused: at the limit, stopping, or out of descriptors */
    double match_ms[MATCH_SAMPLES]; /* a ring of recent match times */
    size_t match_samples;
    double match_ms_total;

    int stopping;
    void (*on_done)(void *arg);
    void *done_arg;
};

void stream_config_defaults(stream_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->workers = 0;
    cfg->max_queue_bytes = 1024 * 1024;
    cfg->heartbeat_ms = 15000;
    cfg->retry_ms = 2000;
    cfg->replay_max = 1000;
    cfg->max_connections = 19000;
    cfg->ws_max_message = 64 * 1024;
    cfg->base_url = "http://127.0.0.1:8080";
    cfg->wire_name = "kawat";
}

static double now_ms_precise(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---- filters ---- */

static const char *resolve_canonical(void *ctx, const char *v)
{
    return store_sector_resolve(ctx, v);
}

static void filters_free(match_filter_t *f, size_t n)
{
    for (size_t i = 0; i < n; i++) match_filter_clear(&f[i]);
    free(f);
}

/* Parses a stored subscriber's filters (already canonical). */
static match_filter_t *filters_from_json(stream_hub_t *hub, json_t *arr, size_t *n)
{
    size_t count = json_array_size(arr);
    match_filter_t *f = kw_calloc(count ? count : 1, sizeof(*f));
    size_t ok = 0, i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        core_errors_t errs = {0};
        match_filter_init(&f[ok]);
        if (match_filter_parse_json(&f[ok], v, "filters", resolve_canonical, hub->store, &errs) ==
            KW_OK)
            ok++;
        else
            match_filter_clear(&f[ok]);
    }
    *n = ok;
    return f;
}

static int filters_match(const match_filter_t *f, size_t n, const match_doc_t *d)
{
    if (d == NULL) return 0;
    for (size_t i = 0; i < n; i++)
        if (match_filter_matches(&f[i], d)) return 1;
    return 0;
}

/* The number of the report label of filters, adding it if new (the
 * catch-all 0 once there are UINT16_MAX). */
static uint16_t hub_label(stream_hub_t *hub, const match_filter_t *f, size_t n)
{
    report_label_t l;
    report_label_filters(f, n, &l);
    for (size_t i = 0; i < hub->nlabels; i++)
        if (strcmp(hub->labels[i].language, l.language) == 0 &&
            strcmp(hub->labels[i].country, l.country) == 0)
            return (uint16_t)i;
    if (hub->nlabels == UINT16_MAX) return 0;
    if (hub->nlabels == hub->labels_cap) {
        hub->labels_cap = hub->labels_cap ? hub->labels_cap * 2 : 64;
        hub->labels = kw_realloc(hub->labels, hub->labels_cap * sizeof(*hub->labels));
    }
    hub->labels[hub->nlabels] = l;
    return (uint16_t)hub->nlabels++;
}

/* ---- connections ---- */

static uint32_t conn_alloc(stream_hub_t *hub)
{
    uint32_t id;
    if (hub->nfree) {
        id = hub->free_ids[--hub->nfree];
    } else {
        id = ++hub->next_id;
        if (id >= hub->conns_cap) {
            uint32_t cap = hub->conns_cap ? hub->conns_cap * 2 : 1024;
            hub->conns = kw_realloc(hub->conns, cap * sizeof(*hub->conns));
            memset(hub->conns + hub->conns_cap, 0, (cap - hub->conns_cap) * sizeof(*hub->conns));
            hub->conns_cap = cap;
        }
    }
    memset(&hub->conns[id], 0, sizeof(hub->conns[id]));
    hub->conns[id].in_use = 1;
    hub->nconns++;
    return id;
}

static void sub_link(stream_hub_t *hub, uint32_t id, uint32_t num)
{
    if (num >= hub->sub_cap) {
        uint32_t cap = hub->sub_cap ? hub->sub_cap : 1024;
        while (cap <= num) cap *= 2;
        hub->sub_head = kw_realloc(hub->sub_head, cap * sizeof(*hub->sub_head));
        memset(hub->sub_head + hub->sub_cap, 0, (cap - hub->sub_cap) * sizeof(*hub->sub_head));
        hub->sub_cap = cap;
    }
    hconn_t *c = &hub->conns[id];
    c->sub_num = num;
    c->prev_same_sub = NO_CONN;
    c->next_same_sub = hub->sub_head[num];
    if (c->next_same_sub) hub->conns[c->next_same_sub].prev_same_sub = id;
    hub->sub_head[num] = id;
}

static void sub_unlink(stream_hub_t *hub, uint32_t id)
{
    hconn_t *c = &hub->conns[id];
    if (c->sub_num == 0) return;
    if (c->prev_same_sub)
        hub->conns[c->prev_same_sub].next_same_sub = c->next_same_sub;
    else
        hub->sub_head[c->sub_num] = c->next_same_sub;
    if (c->next_same_sub) hub->conns[c->next_same_sub].prev_same_sub = c->prev_same_sub;
    c->sub_num = 0;
    c->next_same_sub = c->prev_same_sub = NO_CONN;
}

static void conn_release(stream_hub_t *hub, uint32_t id)
{
    hconn_t *c = &hub->conns[id];
    if (!c->in_use) return;
    if (c->sub_num)
        sub_unlink(hub, id);
    else
        match_index_remove(hub->cix, id);
    filters_free(c->filters, c->nfilters);
    memset(c, 0, sizeof(*c));
    hub->nconns--;
    if (hub->nfree == hub->free_cap) {
        hub->free_cap = hub->free_cap ? hub->free_cap * 2 : 256;
        hub->free_ids = kw_realloc(hub->free_ids, hub->free_cap * sizeof(*hub->free_ids));
    }
    hub->free_ids[hub->nfree++] = id;
}

/* The worker with the fewest connections takes a new one. */
static unsigned pick_worker(stream_hub_t *hub)
{
    unsigned best = 0;
    unsigned long long least = ~0ull;
    for (unsigned i = 0; i < hub->nworkers; i++) {
        unsigned long long n = atomic_load(&stream_worker_stats(hub->workers[i])->connections);
        if (n < least) least = n, best = i;
    }
    return best;
}

/* ---- payloads ---- */

/* The SSE and WebSocket forms of one event; either pointer may be NULL
 * when that form is not wanted. kind "embargo" carries no id (it is not on
 * the public wire log, so it must not move Last-Event-ID). */
static void event_bufs(stream_hub_t *hub, const core_release_t *r, int64_t seq, const char *kind,
                       stream_buf_t **sse, stream_buf_t **ws)
{
    json_t *j = feeds_ninjs_event(r, seq, kind, hub->base_url, hub->wire_name, NULL);
    if (j == NULL) /* not showable for this kind: a bare event */
        j = json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)seq, "kind", kind, "id", r->id);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    size_t n = strlen(text);
    if (sse) {
        kw_buf_t b = {0};
        if (seq > 0) kw_buf_printf(&b, "id: %lld\n", (long long)seq);
        kw_buf_printf(&b, "event: %s\ndata: ", kind);
        kw_buf_append(&b, text, n);
        kw_buf_puts(&b, "\n\n");
        *sse = stream_buf_new(b.data, b.len);
        kw_buf_free(&b);
    }
    if (ws) {
        size_t flen;
        char *frame = stream_ws_frame(0x1, text, n, &flen);
        *ws = stream_buf_new(frame, flen);
        free(frame);
    }
    free(text);
}

/* Appends one event in the form proto speaks (replays, embargoes now). */
static void event_append(stream_hub_t *hub, const core_release_t *r, int64_t seq,
                         const char *kind, stream_proto_t proto, kw_buf_t *out)
{
    stream_buf_t *b;
    event_bufs(hub, r, seq, kind, proto == STREAM_WS ? NULL : &b, proto == STREAM_WS ? &b : NULL);
    kw_buf_append(out, b->data, b->len);
    stream_buf_unref(b);
}

static void add_target(stream_hub_t *hub, uint32_t id, stream_tally_t *tally)
{
    unsigned w = hub->conns[id].worker;
    if (hub->per_worker_n[w] == hub->per_worker_cap[w]) {
        hub->per_worker_cap[w] = hub->per_worker_cap[w] ? hub->per_worker_cap[w] * 2 : 256;
        hub->per_worker[w] =
            kw_realloc(hub->per_worker[w], hub->per_worker_cap[w] * sizeof(uint32_t));
        hub->per_worker_label[w] =
            kw_realloc(hub->per_worker_label[w], hub->per_worker_cap[w] * sizeof(uint16_t));
    }
    hub->per_worker_label[w][hub->per_worker_n[w]] = hub->conns[id].label;
    hub->per_worker[w][hub->per_worker_n[w]++] = id;
    if (tally) tally->groups[hub->conns[id].label].matched++;
}

/* A new tally for an event of release_id, one group per label; NULL when
 * the hub does not count. */
static stream_tally_t *tally_new(stream_hub_t *hub, const char *release_id)
{
    if (hub->cfg.report == NULL) return NULL;
    stream_tally_t *t = kw_calloc(1, sizeof(*t) + hub->nlabels * sizeof(t->groups[0]));
    atomic_init(&t->refs, 1);
    snprintf(t->release_id, sizeof(t->release_id), "%s", release_id);
    t->ngroups = hub->nlabels;
    for (size_t g = 0; g < t->ngroups; g++) {
        atomic_init(&t->groups[g].delivered, 0);
        atomic_init(&t->groups[g].failed, 0);
    }
    return t;
}

void stream_hub__tally_done(stream_hub_t *hub, stream_tally_t *t)
{
    if (t == NULL || atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1) return;
    stream_hmsg_t *m = kw_calloc(1, sizeof(*m));
    m->kind = HMSG_TALLY;
    m->tally = t;
    stream_hub__post(hub, m);
}

/* On the main loop: an event's counts, every worker done, to the report. */
static void tally_report(stream_hub_t *hub, stream_tally_t *t)
{
    int64_t now = kw_now_ms();
    for (size_t g = 0; g < t->ngroups; g++) {
        const stream_tally_group_t *x = &t->groups[g];
        if (x->matched == 0) continue;
        const report_label_t *l = &hub->labels[g];
        report_add(hub->cfg.report, t->release_id, REPORT_STREAM, l->language, l->country,
                   REPORT_MATCHED, (int64_t)x->matched, now);
        report_add(hub->cfg.report, t->release_id, REPORT_STREAM, l->language, l->country,
                   REPORT_DELIVERED, (int64_t)atomic_load(&x->delivered), now);
        report_add(hub->cfg.report, t->release_id, REPORT_STREAM, l->language, l->country,
                   REPORT_FAILED, (int64_t)atomic_load(&x->failed), now);
    }
}

/* Matches r and posts the event to every worker with matching connections.
 * trusted_only: the early embargo delivery. */
static void fanout(stream_hub_t *hub, const core_release_t *r, int64_t seq, const char *kind,
                   int trusted_only)
{
    if (hub->nconns == 0) return;
    match_doc_t *doc = match_doc_new(r);
    if (doc == NULL) {
        /* Only an ICU failure gets here; say so rather than crash. */
        fprintf(stderr, "kawat: streams: cannot read release %s for matching\n", r->id);
        return;
    }
    double t0 = now_ms_precise();
    stream_tally_t *tally = tally_new(hub, r->id);
    size_t n = match_index_match(hub->ix, doc, &hub->match_buf, &hub->match_cap);
    for (unsigned w = 0; w < hub->nworkers; w++) hub->per_worker_n[w] = 0;
    size_t targets = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t x = hub->match_buf[i];
        if (x >= hub->sub_cap) continue;
        for (uint32_t id = hub->sub_head[x]; id; id = hub->conns[id].next_same_sub)
            if (!trusted_only || hub->conns[id].trusted) add_target(hub, id, tally), targets++;
    }
    n = match_index_match(hub->cix, doc, &hub->match_buf, &hub->match_cap);
    for (size_t i = 0; i < n; i++) {
        uint32_t id = hub->match_buf[i];
        if (id < hub->conns_cap && hub->conns[id].in_use &&
            (!trusted_only || hub->conns[id].trusted))
            add_target(hub, id, tally), targets++;
    }
    double dt = now_ms_precise() - t0;
    match_doc_free(doc);
    hub->match_ms[hub->match_samples++ % MATCH_SAMPLES] = dt;
    hub->match_ms_total += dt;
    hub->matched += targets;
    if (targets == 0) {
        free(tally);
        return;
    }

    stream_buf_t *sse, *ws;
    event_bufs(hub, r, trusted_only ? 0 : seq, kind, &sse, &ws);
    for (unsigned w = 0; w < hub->nworkers; w++) {
        if (hub->per_worker_n[w] == 0) continue;
        stream_wmsg_t *m = kw_calloc(1, sizeof(*m));
        m->kind = WMSG_EVENT;
        m->seq = seq;
        m->sse = stream_buf_ref(sse);
        m->ws = stream_buf_ref(ws);
        m->conns = kw_malloc(hub->per_worker_n[w] * sizeof(uint32_t));
        memcpy(m->conns, hub->per_worker[w], hub->per_worker_n[w] * sizeof(uint32_t));
        m->nconns = hub->per_worker_n[w];
        if (tally) {
            atomic_fetch_add_explicit(&tally->refs, 1, memory_order_relaxed);
            m->tally = tally;
            m->labels = kw_malloc(m->nconns * sizeof(uint16_t));
            memcpy(m->labels, hub->per_worker_label[w], m->nconns * sizeof(uint16_t));
        }
        stream_worker_post(hub->workers[w], m);
    }
    stream_hub__tally_done(hub, tally);
    stream_buf_unref(sse);
    stream_buf_unref(ws);
}

void stream_hub_publish(stream_hub_t *hub)
{
    if (hub == NULL || hub->stopping) return;
    for (;;) {
        store_event_t *ev = NULL;
        size_t n = 0;
        store_wire_read(hub->store, hub->last_seq, 256, &ev, &n);
        for (size_t i = 0; i < n; i++) {
            fanout(hub, ev[i].release, ev[i].seq, ev[i].kind, 0);
            hub->last_seq = ev[i].seq;
            hub->events++;
        }
        store_events_free(ev, n);
        if (n < 256) break;
    }
}

void stream_hub_embargo(stream_hub_t *hub, const core_release_t *r)
{
    if (hub == NULL || hub->stopping || r->state != REL_EMBARGOED) return;
    fanout(hub, r, 0, "embargo", 1);
}

/* ---- subscribers ---- */

static int load_subscriber(const store_subscriber_t *sub, void *arg)
{
    stream_hub_t *hub = arg;
    size_t n;
    match_filter_t *f = filters_from_json(hub, sub->filters, &n);
    if (n) match_index_set(hub->ix, sub->num, f, n);
    filters_free(f, n);
    return 0;
}

void stream_hub_subscriber_changed(stream_hub_t *hub, store_op_t *op)
{
    if (hub == NULL || op->subscriber == NULL) return;
    const store_subscriber_t *sub = op->subscriber;
    if (op->kind == STORE_OP_SUBSCRIBER_DELETE) {
        match_index_remove(hub->ix, sub->num);
        /* Its streams end: the token that opened them is revoked. */
        uint32_t id = sub->num < hub->sub_cap ? hub->sub_head[sub->num] : NO_CONN;
        while (id) {
            uint32_t next = hub->conns[id].next_same_sub;
            stream_wmsg_t *m = kw_calloc(1, sizeof(*m));
            m->kind = WMSG_CLOSE;
            m->conn = id;
            stream_worker_post(hub->workers[hub->conns[id].worker], m);
            sub_unlink(hub, id);
            id = next;
        }
        return;
    }
    size_t n;
    match_filter_t *f = filters_from_json(hub, sub->filters, &n);
    if (n)
        match_index_set(hub->ix, sub->num, f, n);
    else
        match_index_remove(hub->ix, sub->num);
    uint16_t label = hub_label(hub, f, n);
    for (uint32_t id = sub->num < hub->sub_cap ? hub->sub_head[sub->num] : NO_CONN; id;
         id = hub->conns[id].next_same_sub) {
        hconn_t *c = &hub->conns[id];
        c->trusted = sub->trusted;
        c->label = label;
        filters_free(c->filters, c->nfilters);
        c->filters = kw_calloc(n ? n : 1, sizeof(*c->filters));
        for (size_t i = 0; i < n; i++) match_filter_copy(&c->filters[i], &f[i]);
        c->nfilters = n;
    }
    filters_free(f, n);
}

/* ---- opening a stream ---- */

typedef struct {
    match_filter_t *filters;
    size_t nfilters;
    uint32_t sub_num;
    int trusted;
    int64_t after;   /* -1: live only */
    json_t *written; /* ids of the releases in the replay, counted once it is sent */
} open_spec_t;

static void spec_clear(open_spec_t *s)
{
    filters_free(s->filters, s->nfilters);
    json_decref(s->written);
    memset(s, 0, sizeof(*s));
}

/* Notes that the stream's head carries an event of r (for the report). */
static void spec_wrote(stream_hub_t *hub, open_spec_t *spec, const core_release_t *r)
{
    if (hub->cfg.report == NULL) return;
    if (spec->written == NULL) spec->written = json_array();
    json_array_append_new(spec->written, json_string(r->id));
}

/* Reads the request's filter and resume point; answers 4xx and returns
 * KW_INVALID on bad input. */
static int open_parse(stream_hub_t *hub, net_request_t *req, const core_principal_t *who,
                      open_spec_t *spec, int ws)
{
    static const char *const allowed[] = {"language", "sector", "region", "issuer",
                                          "keyword",  "after",  NULL};
    net_params_t p;
    char field[64];
    memset(spec, 0, sizeof(*spec));
    spec->after = -1;
    if (net_query_parse(req->query, &p, field, sizeof(field)) != KW_OK) {
        api_problem_field(req, 400, field, "malformed query parameter");
        return KW_INVALID;
    }
    const char *bad;
    if (!net_query_only(&p, allowed, &bad)) {
        char f[64];
        snprintf(f, sizeof(f), "%.60s", bad);
        net_query_free(&p);
        api_problem_field(req, 400, f,
                          "unknown parameter (filters: language, sector, region, issuer, keyword; "
                          "resume: after or Last-Event-ID)");
        return KW_INVALID;
    }

    /* Resume point: Last-Event-ID (what EventSource sends) or ?after=. */
    const kw_str_t *leid = net_request_header(req, "last-event-id");
    const char *after = net_query_get(&p, "after");
    /* Last-Event-ID wins: an EventSource opened with ?after= sends both
     * when it reconnects, and the header is where it has got to since. */
    struct {
        const char *name;
        char num[32];
    } given[2] = {{"Last-Event-ID", ""}, {"after", ""}};
    if (leid && leid->len < sizeof(given[0].num))
        memcpy(given[0].num, leid->data, leid->len), given[0].num[leid->len] = 0;
    else if (leid)
        snprintf(given[0].num, sizeof(given[0].num), "x");
    if (after) snprintf(given[1].num, sizeof(given[1].num), "%s", after[0] ? after : "x");
    /* Both are checked; where both are given the header wins. */
    for (int i = 1; i >= 0; i--) {
        const char *num = given[i].num;
        if (!num[0]) continue;
        char *end;
        errno = 0;
        long long v = strtoll(num, &end, 10);
        if (*end || errno || v < 0 || num[0] == '-' || num[0] == '+' || num[0] == ' ') {
            net_query_free(&p);
            api_problem_field(req, 400, given[i].name,
                              "must be a wire sequence number (an integer >= 0)");
            return KW_INVALID;
        }
        spec->after = v;
    }

    /* The filter: from the query, else a subscriber's stored filters. */
    size_t nf = 0;
    const char *names[64], *values[64];
    for (size_t i = 0; i < p.count && nf < 64; i++) {
        if (strcmp(p.items[i].name, "after") == 0) continue;
        names[nf] = p.items[i].name;
        values[nf] = p.items[i].value;
        nf++;
    }
    if (p.count > 64) {
        net_query_free(&p);
        api_problem_field(req, 400, "query", "too many filter values");
        return KW_INVALID;
    }
    if (who->role == ROLE_SUBSCRIBER && who->subscriber_id[0]) {
        store_subscriber_t *sub = NULL;
        if (store_subscriber_get(hub->store, who->subscriber_id, &sub) != KW_OK) {
            net_query_free(&p);
            api_problem(req, 401, "unauthorized", "Unauthorized", "The subscriber is gone.", NULL);
            return KW_INVALID;
        }
        spec->trusted = sub->trusted;
        if (nf == 0) {
            spec->sub_num = sub->num;
            spec->filters = filters_from_json(hub, sub->filters, &spec->nfilters);
        }
        store_subscriber_free(sub);
    }
    if (spec->sub_num == 0) {
        core_errors_t errs = {0};
        spec->filters = kw_calloc(1, sizeof(*spec->filters));
        match_filter_init(&spec->filters[0]);
        spec->nfilters = 1;
        if (match_filter_parse_params(&spec->filters[0], names, values, nf, store_sector_resolve,
                                      hub->store, &errs) != KW_OK) {
            net_query_free(&p);
            spec_clear(spec);
            char detail[300];
            snprintf(detail, sizeof(detail), "%s: %s", errs.items[0].field, errs.items[0].detail);
            api_problem(req, 400, "bad-filter", "Bad filter", detail, &errs);
            return KW_INVALID;
        }
    }
    net_query_free(&p);
    (void)ws;
    return KW_OK;
}

/* Replays the matching wire events in (after, last_seq] into out (SSE or
 * WebSocket form), at most replay_max; returns 1 if more remain. */
static int replay(stream_hub_t *hub, open_spec_t *spec, stream_proto_t proto, kw_buf_t *out)
{
    int64_t pos = spec->after;
    size_t sent = 0;
    while (pos < hub->last_seq) {
        store_event_t *ev = NULL;
        size_t n = 0;
        store_wire_read(hub->store, pos, 256, &ev, &n);
        for (size_t i = 0; i < n; i++) {
            if (ev[i].seq > hub->last_seq) {
                pos = hub->last_seq;
                break;
            }
            pos = ev[i].seq;
            match_doc_t *doc = match_doc_new(ev[i].release);
            int ok = filters_match(spec->filters, spec->nfilters, doc);
            match_doc_free(doc);
            if (!ok) continue;
            if (sent == hub->cfg.replay_max) {
                store_events_free(ev, n);
                return 1;
            }
            event_append(hub, ev[i].release, ev[i].seq, ev[i].kind, proto, out);
            spec_wrote(hub, spec, ev[i].release);
            sent++;
            hub->replayed++;
        }
        store_events_free(ev, n);
        if (n < 256) break;
    }
    return 0;
}

/* For a trusted subscriber: the embargoed releases it matches, now. */
static void embargoed_now(stream_hub_t *hub, open_spec_t *spec, stream_proto_t proto,
                          kw_buf_t *out)
{
    store_query_t q = {.scope = STORE_SCOPE_ALL, .states_mask = 1u << REL_EMBARGOED, .limit = 100};
    core_release_t **items = NULL;
    size_t n = 0;
    int64_t next = 0;
    if (store_release_list(hub->store, &q, &items, &n, &next) != KW_OK) return;
    for (size_t i = 0; i < n; i++) {
        match_doc_t *doc = match_doc_new(items[i]);
        if (filters_match(spec->filters, spec->nfilters, doc)) {
            event_append(hub, items[i], 0, "embargo", proto, out);
            spec_wrote(hub, spec, items[i]);
        }
        match_doc_free(doc);
        core_release_free(items[i]);
    }
    free(items);
}

/* Registers the stream and hands its socket to a worker, with head (the
 * response head plus replay) to write first. */
static void open_finish(stream_hub_t *hub, net_request_t *req, open_spec_t *spec,
                        stream_proto_t proto, kw_buf_t *head, int close_after)
{
    uv_os_sock_t fd;
    if (net_request_detach(req, proto == STREAM_WS ? 101 : 200, &fd) != KW_OK) {
        hub->refused++; /* the client left, or no descriptor was left (answered 503) */
        spec_clear(spec);
        return;
    }
    uint32_t id = conn_alloc(hub);
    hconn_t *c = &hub->conns[id];
    c->worker = pick_worker(hub);
    c->proto = proto;
    c->trusted = spec->trusted;
    c->filters = spec->filters;
    c->nfilters = spec->nfilters;
    c->label = hub_label(hub, c->filters, c->nfilters);
    spec->filters = NULL;
    spec->nfilters = 0;
    if (!close_after) {
        if (spec->sub_num)
            sub_link(hub, id, spec->sub_num);
        else
            match_index_set(hub->cix, id, c->filters, c->nfilters);
    }
    stream_wmsg_t *m = kw_calloc(1, sizeof(*m));
    m->kind = WMSG_ADOPT;
    m->conn = id;
    m->fd = fd;
    m->proto = proto;
    m->close_after = close_after;
    m->buf = stream_buf_new(head->data, head->len);
    stream_worker_post(hub->workers[c->worker], m);
    /* The replayed events go out with the head: each is a delivery of its
     * release to this stream (a resuming client gets only what it missed). */
    size_t i;
    json_t *v;
    int64_t now = kw_now_ms();
    const report_label_t *l = &hub->labels[c->label];
    json_array_foreach(spec->written, i, v)
    {
        report_add(hub->cfg.report, json_string_value(v), REPORT_STREAM, l->language, l->country,
                   REPORT_MATCHED, 1, now);
        report_add(hub->cfg.report, json_string_value(v), REPORT_STREAM, l->language, l->country,
                   REPORT_DELIVERED, 1, now);
    }
    spec_clear(spec);
}

static int open_check(stream_hub_t *hub, net_request_t *req)
{
    if (hub->stopping || hub->nconns >= hub->cfg.max_connections) hub->refused++;
    if (hub->stopping) {
        api_problem(req, 503, "unavailable", "Service unavailable", "The server is stopping.",
                    NULL);
        return KW_ERROR;
    }
    if (hub->nconns >= hub->cfg.max_connections) {
        api_problem(req, 503, "unavailable", "Too many streams",
                    "The server holds as many streams as it may; retry shortly.", NULL);
        return KW_ERROR;
    }
    return KW_OK;
}

void stream_sse_open(stream_hub_t *hub, net_request_t *req, const core_principal_t *who)
{
    open_spec_t spec;
    if (open_check(hub, req) != KW_OK) return;
    if (open_parse(hub, req, who, &spec, 0) != KW_OK) return;
    if (req->method == HTTP_HEAD) {
        net_respond(req, 200, "text/event-stream; charset=utf-8", "Cache-Control: no-store\r\n",
                    "", 0);
        spec_clear(&spec);
        return;
    }
    kw_buf_t head = {0};
    kw_buf_printf(&head,
                  "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
                  "Cache-Control: no-store\r\nX-Accel-Buffering: no\r\n"
                  "X-Content-Type-Options: nosniff\r\nConnection: keep-alive\r\n\r\n"
                  "retry: %u\n: kawat wire at %lld\n\n",
                  hub->cfg.retry_ms, (long long)hub->last_seq);
    int more = spec.after >= 0 ? replay(hub, &spec, STREAM_SSE, &head) : 0;
    if (!more && spec.trusted) embargoed_now(hub, &spec, STREAM_SSE, &head);
    open_finish(hub, req, &spec, STREAM_SSE, &head, more);
    kw_buf_free(&head);
}

void stream_ws_open(stream_hub_t *hub, net_request_t *req, const core_principal_t *who)
{
    open_spec_t spec;
    const kw_str_t *upgrade = net_request_header(req, "upgrade");
    const kw_str_t *key = net_request_header(req, "sec-websocket-key");
    const kw_str_t *version = net_request_header(req, "sec-websocket-version");
    char accept[32];
    if (req->method != HTTP_GET || upgrade == NULL || !kw_str_caseeq(*upgrade, "websocket") ||
        key == NULL) {
        api_problem(req, 426, "upgrade-required", "Upgrade required",
                    "GET /v1/ws is a WebSocket endpoint (RFC 6455): send Upgrade: websocket and "
                    "Sec-WebSocket-Key.",
                    NULL);
        return;
    }
    if (version == NULL || !kw_str_eq(*version, "13")) {
        api_problem_field(req, 400, "Sec-WebSocket-Version", "must be 13");
        return;
    }
    if (stream_ws_accept_key(key->data, key->len, accept) != KW_OK) {
        api_problem_field(req, 400, "Sec-WebSocket-Key", "must be 16 bytes in base64");
        return;
    }
    if (open_check(hub, req) != KW_OK) return;
    if (open_parse(hub, req, who, &spec, 1) != KW_OK) return;
    kw_buf_t head = {0};
    kw_buf_printf(&head,
                  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                  accept);
    int more = spec.after >= 0 ? replay(hub, &spec, STREAM_WS, &head) : 0;
    if (!more && spec.trusted) embargoed_now(hub, &spec, STREAM_WS, &head);
    if (more) {
        /* Tell the client to resume, then close. */
        size_t flen;
        char *frame = stream_ws_frame(0x8, "\x03\xe8resume", 8, &flen);
        kw_buf_append(&head, frame, flen);
        free(frame);
    }
    open_finish(hub, req, &spec, STREAM_WS, &head, more);
    kw_buf_free(&head);
}

/* ---- messages from the workers ---- */

static void ws_reply(stream_hub_t *hub, uint32_t id, json_t *msg)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    size_t flen;
    char *frame = stream_ws_frame(0x1, text, strlen(text), &flen);
    free(text);
    stream_wmsg_t *m = kw_calloc(1, sizeof(*m));
    m->kind = WMSG_SEND;
    m->conn = id;
    m->buf = stream_buf_new(frame, flen);
    free(frame);
    stream_worker_post(hub->workers[hub->conns[id].worker], m);
}

/* A client message on a WebSocket: {"type": "filter", "filter": {...}}
 * replaces the connection's filter from now on. */
static void ws_message(stream_hub_t *hub, uint32_t id, const char *text, size_t len)
{
    if (id >= hub->conns_cap || !hub->conns[id].in_use) return;
    json_error_t jerr;
    json_t *in = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    const char *type = in ? json_string_value(json_object_get(in, "type")) : NULL;
    if (type == NULL || strcmp(type, "filter") != 0) {
        ws_reply(hub, id, json_pack("{s:s, s:s, s:s}", "type", "error", "field", "type",
                                    "detail", "send {\"type\": \"filter\", \"filter\": {...}}"));
        json_decref(in);
        return;
    }
    core_errors_t errs = {0};
    match_filter_t f;
    match_filter_init(&f);
    json_t *fj = json_object_get(in, "filter");
    if (fj == NULL) fj = json_object();
    else json_incref(fj);
    if (match_filter_parse_json(&f, fj, "filter", store_sector_resolve, hub->store, &errs) !=
        KW_OK) {
        ws_reply(hub, id, json_pack("{s:s, s:s, s:s}", "type", "error", "field",
                                    errs.items[0].field, "detail", errs.items[0].detail));
        match_filter_clear(&f);
        json_decref(fj);
        json_decref(in);
        return;
    }
    hconn_t *c = &hub->conns[id];
    sub_unlink(hub, id); /* from now on its own filter */
    filters_free(c->filters, c->nfilters);
    c->filters = kw_calloc(1, sizeof(*c->filters));
    match_filter_copy(&c->filters[0], &f);
    c->nfilters = 1;
    c->label = hub_label(hub, c->filters, 1);
    match_index_set(hub->cix, id, c->filters, 1);
    ws_reply(hub, id, json_pack("{s:s, s:o, s:I}", "type", "filter", "filter",
                                match_filter_to_json(&f), "last_seq", (json_int_t)hub->last_seq));
    match_filter_clear(&f);
    json_decref(fj);
    json_decref(in);
}

static void drain_messages(stream_hub_t *hub)
{
    pthread_mutex_lock(&hub->lock);
    stream_hmsg_t *m = hub->head;
    hub->head = hub->tail = NULL;
    pthread_mutex_unlock(&hub->lock);
    while (m) {
        stream_hmsg_t *next = m->next;
        if (m->kind == HMSG_CLOSED) {
            if (m->dropped) hub->drops++;
            if (m->conn < hub->conns_cap) conn_release(hub, m->conn);
        } else if (m->kind == HMSG_WS_TEXT && !hub->stopping) {
            ws_message(hub, m->conn, m->text, m->len);
        } else if (m->kind == HMSG_TALLY) {
            tally_report(hub, m->tally); /* also while stopping: these happened */
            free(m->tally);
        }
        free(m->text);
        free(m);
        m = next;
    }
}

static void on_async(uv_async_t *h)
{
    drain_messages(h->data);
}

void stream_hub__post(stream_hub_t *hub, stream_hmsg_t *m)
{
    m->next = NULL;
    pthread_mutex_lock(&hub->lock);
    if (hub->tail)
        hub->tail->next = m;
    else
        hub->head = m;
    hub->tail = m;
    pthread_mutex_unlock(&hub->lock);
    uv_async_send(&hub->async);
}

/* ---- life ---- */

stream_hub_t *stream_hub_start(uv_loop_t *main_loop, store_t *store, const stream_config_t *cfg)
{
    stream_hub_t *hub = kw_calloc(1, sizeof(*hub));
    hub->loop = main_loop;
    hub->store = store;
    hub->cfg = *cfg;
    hub->base_url = kw_strdup(cfg->base_url);
    hub->wire_name = kw_strdup(cfg->wire_name);
    hub->cfg.base_url = hub->base_url;
    hub->cfg.wire_name = hub->wire_name;
    hub->nworkers = cfg->workers ? cfg->workers : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    if (hub->nworkers == 0) hub->nworkers = 1;
    pthread_mutex_init(&hub->lock, NULL);
    uv_async_init(main_loop, &hub->async, on_async);
    hub->async.data = hub;
    hub->ix = match_index_new();
    hub->cix = match_index_new();
    hub->last_seq = store_wire_last_seq(store);
    store_subscribers_each(store, load_subscriber, hub);

    hub->workers = kw_calloc(hub->nworkers, sizeof(*hub->workers));
    hub->per_worker = kw_calloc(hub->nworkers, sizeof(*hub->per_worker));
    hub->per_worker_label = kw_calloc(hub->nworkers, sizeof(*hub->per_worker_label));
    hub_label(hub, NULL, 0); /* label 0: any language, unknown country */
    hub->per_worker_n = kw_calloc(hub->nworkers, sizeof(size_t));
    hub->per_worker_cap = kw_calloc(hub->nworkers, sizeof(size_t));
    for (unsigned i = 0; i < hub->nworkers; i++) {
        hub->workers[i] = stream_worker_start(hub, i, &hub->cfg);
        if (hub->workers[i] == NULL) {
            hub->nworkers = i;
            stream_hub_stop(hub, NULL, NULL);
            return NULL;
        }
    }
    return hub;
}

static void hub_free(uv_handle_t *h)
{
    stream_hub_t *hub = h->data;
    void (*on_done)(void *) = hub->on_done;
    void *arg = hub->done_arg;
    for (uint32_t id = 1; id < hub->conns_cap; id++)
        if (hub->conns[id].in_use) filters_free(hub->conns[id].filters, hub->conns[id].nfilters);
    match_index_free(hub->ix);
    match_index_free(hub->cix);
    free(hub->conns);
    free(hub->free_ids);
    free(hub->sub_head);
    free(hub->match_buf);
    for (unsigned i = 0; i < hub->nworkers; i++) free(hub->per_worker[i]);
    free(hub->per_worker);
    for (unsigned i = 0; i < hub->nworkers; i++) free(hub->per_worker_label[i]);
    free(hub->per_worker_label);
    free(hub->labels);
    free(hub->per_worker_n);
    free(hub->per_worker_cap);
    free(hub->workers);
    free(hub->base_url);
    free(hub->wire_name);
    pthread_mutex_destroy(&hub->lock);
    free(hub);
    if (on_done) on_done(arg);
}

void stream_hub_stop(stream_hub_t *hub, void (*on_done)(void *arg), void *arg)
{
    if (hub == NULL) {
        if (on_done) on_done(arg);
        return;
    }
    hub->stopping = 1;
    hub->on_done = on_done;
    hub->done_arg = arg;
    for (unsigned i = 0; i < hub->nworkers; i++) {
        stream_wmsg_t *m = kw_calloc(1, sizeof(*m));
        m->kind = WMSG_STOP;
        stream_worker_post(hub->workers[i], m);
    }
    /* Workers close their connections and end; joining takes as long as
     * their loops need to close sockets (no waiting on peers). */
    for (unsigned i = 0; i < hub->nworkers; i++) stream_worker_join(hub->workers[i]);
    drain_messages(hub);
    uv_close((uv_handle_t *)&hub->async, hub_free);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void stream_hub_metrics(stream_hub_t *hub, kw_buf_t *out)
{
    if (hub == NULL) return;
    unsigned long long conns = 0, accepted = 0, deliveries = 0, bytes = 0, drops = 0, queued = 0,
                       qmax = 0;
    for (unsigned i = 0; i < hub->nworkers; i++) {
        const stream_worker_stats_t *st = stream_worker_stats(hub->workers[i]);
        conns += atomic_load(&st->connections);
        accepted += atomic_load(&st->accepted);
        deliveries += atomic_load(&st->deliveries);
        bytes += atomic_load(&st->bytes);
        drops += atomic_load(&st->drops);
        queued += atomic_load(&st->queue_bytes);
        unsigned long long q = atomic_load(&st->queue_max);
        if (q > qmax) qmax = q;
    }
    size_t ns = hub->match_samples < MATCH_SAMPLES ? hub->match_samples : MATCH_SAMPLES;
    double sorted[MATCH_SAMPLES], p50 = 0, p99 = 0;
    if (ns) {
        memcpy(sorted, hub->match_ms, ns * sizeof(double));
        qsort(sorted, ns, sizeof(double), cmp_double);
        p50 = sorted[ns / 2];
        p99 = sorted[(ns * 99) / 100 < ns ? (ns * 99) / 100 : ns - 1];
    }
    match_stats_t ms, cms;
    match_index_stats(hub->ix, &ms);
    match_index_stats(hub->cix, &cms);
    ms.subscriptions += cms.subscriptions;
    ms.bytes += cms.bytes;
    kw_buf_printf(out,
                  "# HELP kawat_stream_connections Open stream connections (SSE and WebSocket).\n"
                  "# TYPE kawat_stream_connections gauge\nkawat_stream_connections %llu\n"
                  "# HELP kawat_stream_connections_total Stream connections opened.\n"
                  "# TYPE kawat_stream_connections_total counter\n"
                  "kawat_stream_connections_total %llu\n"
                  "# HELP kawat_stream_deliveries_total Events written to stream connections.\n"
                  "# TYPE kawat_stream_deliveries_total counter\n"
                  "kawat_stream_deliveries_total %llu\n"
                  "# HELP kawat_stream_bytes_total Bytes written to stream connections.\n"
                  "# TYPE kawat_stream_bytes_total counter\nkawat_stream_bytes_total %llu\n"
                  "# HELP kawat_stream_drops_total Streams cut off for falling behind.\n"
                  "# TYPE kawat_stream_drops_total counter\nkawat_stream_drops_total %llu\n"
                  "# HELP kawat_stream_queue_bytes Output queued for stream connections.\n"
                  "# TYPE kawat_stream_queue_bytes gauge\nkawat_stream_queue_bytes %llu\n"
                  "# HELP kawat_stream_queue_max_bytes Largest queue one connection has had.\n"
                  "# TYPE kawat_stream_queue_max_bytes gauge\nkawat_stream_queue_max_bytes %llu\n",
                  conns, accepted, deliveries, bytes, drops, queued, qmax);
    kw_buf_printf(out,
                  "# HELP kawat_stream_events_total Wire events fanned out.\n"
                  "# TYPE kawat_stream_events_total counter\nkawat_stream_events_total %llu\n"
                  "# HELP kawat_stream_refused_total Streams refused (limit, stopping, no descriptor).\n"
                  "# TYPE kawat_stream_refused_total counter\nkawat_stream_refused_total %llu\n"
                  "# HELP kawat_stream_replayed_total Events replayed to resuming streams.\n"
                  "# TYPE kawat_stream_replayed_total counter\nkawat_stream_replayed_total %llu\n"
                  "# HELP kawat_match_seconds Time to match one event (recent p50, p99).\n"
                  "# TYPE kawat_match_seconds summary\n"
                  "kawat_match_seconds{quantile=\"0.5\"} %.6f\n"
                  "kawat_match_seconds{quantile=\"0.99\"} %.6f\n"
                  "kawat_match_seconds_sum %.6f\nkawat_match_seconds_count %zu\n"
                  "# HELP kawat_match_subscriptions Subscriptions in the index.\n"
                  "# TYPE kawat_match_subscriptions gauge\nkawat_match_subscriptions %zu\n"
                  "# HELP kawat_match_index_bytes Memory held by the index.\n"
                  "# TYPE kawat_match_index_bytes gauge\nkawat_match_index_bytes %zu\n",
                  (unsigned long long)hub->events, (unsigned long long)hub->refused,
                  (unsigned long long)hub->replayed, p50 / 1e3,
                  p99 / 1e3, hub->match_ms_total / 1e3, hub->match_samples, ms.subscriptions,
                  ms.bytes);
}
