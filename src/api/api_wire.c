/* api_wire.c -- GET /v1/wire: the wire log read from a sequence number,
 * filtered, with long polling so a client can follow it or catch up after
 * any outage. Only published events are on the log, so it is public. */
#include "api/api.h"
#include "core/core_lang.h"
#include "core/core_region.h"
#include "core/core_time.h"
#include "feeds/feeds.h"
#include "match/match.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WIRE_LIMIT_MAX 500
#define WIRE_SCAN_BATCH 500

struct api_waiter_s {
    uv_timer_t timer;
    kawat_app_t *app;
    net_request_t *req;
    match_filter_t filter;
    int64_t after;
    size_t limit;
    int ninjs;
    api_waiter_t *next;
    api_waiter_t *prev;
};

/* The wire takes the same filters as the live streams (match_filter_t):
 * values of one name any-of, names all-of, keywords on word boundaries. A
 * release's text is tokenized only when the filter names keywords. */
static int filter_match(const match_filter_t *f, const core_release_t *r)
{
    int keywords = json_array_size(f->keywords_any) || json_array_size(f->keywords_all);
    match_doc_t *d = keywords ? match_doc_new(r) : match_doc_new_attrs(r);
    int ok = d && match_filter_matches(f, d);
    match_doc_free(d);
    return ok;
}

/* Reads the filter from the query; answers 400 naming the parameter and
 * returns KW_INVALID on a bad value. */
static int filter_parse(kawat_app_t *app, net_request_t *req, const net_params_t *p,
                        match_filter_t *f)
{
    const char **names = kw_calloc(p->count + 1, sizeof(*names));
    const char **values = kw_calloc(p->count + 1, sizeof(*values));
    for (size_t i = 0; i < p->count; i++) {
        names[i] = p->items[i].name;
        values[i] = p->items[i].value;
    }
    core_errors_t errs = {0};
    int rc = match_filter_parse_params(f, names, values, p->count, store_sector_resolve,
                                       app->store, &errs);
    free(names);
    free(values);
    if (rc != KW_OK) {
        api_problem_field(req, 400, errs.items[0].field, errs.items[0].detail);
        return KW_INVALID;
    }
    return KW_OK;
}

static int parse_int(const char *v, long long lo, long long hi, long long *out)
{
    char *end;
    /* Digits only: strtoll would also take spaces and a sign, and clamp
     * what overflows to a number the client never sent. */
    if (v == NULL || *v < '0' || *v > '9') return KW_INVALID;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (*end || errno == ERANGE || n < lo || n > hi) return KW_INVALID;
    *out = n;
    return KW_OK;
}

/* Reads up to limit matching events after `after`. Returns the array; sets
 * *scanned to the highest sequence looked at (so a filtered client can move
 * past events that did not match). */
static json_t *wire_collect(kawat_app_t *app, const match_filter_t *f, int64_t after, size_t limit,
                            int ninjs, int64_t *scanned)
{
    json_t *events = json_array();
    *scanned = after;
    while (json_array_size(events) < limit) {
        store_event_t *ev = NULL;
        size_t n = 0;
        store_wire_read(app->store, *scanned, WIRE_SCAN_BATCH, &ev, &n);
        for (size_t i = 0; i < n && json_array_size(events) < limit; i++) {
            *scanned = ev[i].seq;
            if (!filter_match(f, ev[i].release)) continue;
            if (ninjs) {
                /* The live streams' payload: {seq, kind, id, item}. */
                json_t *e = feeds_ninjs_event(ev[i].release, ev[i].seq, ev[i].kind, app->base_url,
                                              app->wire_name, NULL);
                if (e) json_array_append_new(events, e);
                continue;
            }
            char at[40];
            core_time_format_rfc3339(ev[i].at, at, sizeof(at));
            json_array_append_new(
                events, json_pack("{s:I, s:s, s:s, s:i, s:o}", "seq", (json_int_t)ev[i].seq,
                                  "kind", ev[i].kind, "at", at, "version", ev[i].version,
                                  "release",
                                  core_release_to_json(ev[i].release, app->base_url, 0)));
        }
        store_events_free(ev, n);
        if (n < WIRE_SCAN_BATCH) break;
    }
    return events;
}

static void wire_answer(kawat_app_t *app, net_request_t *req, json_t *events, int64_t scanned)
{
    json_t *body = json_pack("{s:o, s:I, s:I}", "events", events, "last_seq",
                             (json_int_t)store_wire_last_seq(app->store), "next_after",
                             (json_int_t)scanned);
    api_json(req, 200, body, NULL);
}

static void waiter_closed(uv_handle_t *h)
{
    api_waiter_t *w = h->data;
    match_filter_clear(&w->filter);
    free(w);
}

static void waiter_unlink(api_waiter_t *w)
{
    kawat_app_t *app = w->app;
    if (w->prev)
        w->prev->next = w->next;
    else
        app->waiters = w->next;
    if (w->next) w->next->prev = w->prev;
    app->nwaiters--;
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->timer, waiter_closed);
}

static void waiter_timeout(uv_timer_t *t)
{
    api_waiter_t *w = t->data;
    net_request_t *req = w->req;
    int64_t after = w->after;
    kawat_app_t *app = w->app;
    waiter_unlink(w);
    wire_answer(app, req, json_array(), after);
}

void api_wire_get(kawat_app_t *app, net_request_t *req, const core_principal_t *who)
{
    static const char *const allowed[] = {"after",  "limit",  "wait",    "format", "language",
                                          "sector", "region", "issuer", "keyword", NULL};
    net_params_t p;
    match_filter_t f;
    match_filter_init(&f);
    long long after = 0, limit = 100, wait = 0;
    if (api_query(req, &p, allowed) != KW_OK) return;
    const char *v;
    if ((v = net_query_get(&p, "after")) != NULL &&
        parse_int(v, 0, INT64_MAX, &after) != KW_OK) {
        api_problem_field(req, 400, "after", "must be a wire sequence number (an integer >= 0)");
        goto done;
    }
    if ((v = net_query_get(&p, "limit")) != NULL &&
        parse_int(v, 0, WIRE_LIMIT_MAX, &limit) != KW_OK) {
        api_problem_field(req, 400, "limit", "must be an integer from 0 to 500");
        goto done;
    }
    if ((v = net_query_get(&p, "wait")) != NULL &&
        parse_int(v, 0, app->longpoll_max_ms / 1000, &wait) != KW_OK) {
        char msg[80];
        snprintf(msg, sizeof(msg), "must be seconds from 0 to %u", app->longpoll_max_ms / 1000);
        api_problem_field(req, 400, "wait", msg);
        goto done;
    }
    int ninjs = 0;
    if ((v = net_query_get(&p, "format")) != NULL) {
        if (strcmp(v, "ninjs") == 0) {
            ninjs = 1;
        } else if (strcmp(v, "json") != 0) {
            api_problem_field(req, 400, "format", "must be json or ninjs");
            goto done;
        }
    }
    if (filter_parse(app, req, &p, &f) != KW_OK) goto done;

    int64_t scanned;
    json_t *events =
        limit ? wire_collect(app, &f, after, (size_t)limit, ninjs, &scanned) : json_array();
    if (!limit) scanned = after;
    if (json_array_size(events) || wait == 0 || limit == 0 || app->stopping) {
        wire_answer(app, req, events, scanned);
        goto done;
    }
    json_decref(events);

    /* Park until an event arrives or the wait ends. */
    api_waiter_t *w = kw_calloc(1, sizeof(*w));
    w->app = app;
    w->req = req;
    w->filter = f; /* the waiter owns it now */
    match_filter_init(&f);
    w->after = scanned;
    w->limit = (size_t)limit;
    w->ninjs = ninjs;
    uv_timer_init(app->loop, &w->timer);
    w->timer.data = w;
    uv_timer_start(&w->timer, waiter_timeout, (uint64_t)wait * 1000, 0);
    w->next = app->waiters;
    if (app->waiters) app->waiters->prev = w;
    app->waiters = w;
    app->nwaiters++;
done:
    match_filter_clear(&f);
    net_query_free(&p);
}

void api_wire_notify(kawat_app_t *app)
{
    api_waiter_t *w = app->waiters;
    while (w) {
        api_waiter_t *next = w->next;
        int64_t scanned;
        json_t *events = wire_collect(app, &w->filter, w->after, w->limit, w->ninjs, &scanned);
        if (json_array_size(events) || !net_request_alive(w->req)) {
            net_request_t *req = w->req;
            waiter_unlink(w);
            wire_answer(app, req, events, scanned);
        } else {
            w->after = scanned;
            json_decref(events);
        }
        w = next;
    }
}

void api_wire_shutdown(kawat_app_t *app)
{
    while (app->waiters) {
        api_waiter_t *w = app->waiters;
        net_request_t *req = w->req;
        int64_t after = w->after;
        waiter_unlink(w);
        wire_answer(app, req, json_array(), after);
    }
}
