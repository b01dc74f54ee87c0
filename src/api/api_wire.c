/* api_wire.c -- GET /v1/wire: the wire log read from a sequence number,
 * filtered, with long polling so a client can follow it or catch up after
 * any outage. Only published events are on the log, so it is public. */
#include "api/api.h"
#include "core/core_lang.h"
#include "core/core_region.h"
#include "core/core_time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WIRE_LIMIT_MAX 500
#define WIRE_SCAN_BATCH 500

typedef struct {
    json_t *languages; /* arrays of canonical values; empty = any */
    json_t *sectors;
    json_t *regions;
    json_t *issuers;
} wire_filter_t;

struct api_waiter_s {
    uv_timer_t timer;
    kawat_app_t *app;
    net_request_t *req;
    wire_filter_t filter;
    int64_t after;
    size_t limit;
    api_waiter_t *next;
    api_waiter_t *prev;
};

static void filter_free(wire_filter_t *f)
{
    json_decref(f->languages);
    json_decref(f->sectors);
    json_decref(f->regions);
    json_decref(f->issuers);
}

static int in_set(json_t *set, const char *v)
{
    size_t i;
    json_t *x;
    json_array_foreach(set, i, x) if (v && strcmp(json_string_value(x), v) == 0) return 1;
    return 0;
}

static int any_in_set(json_t *set, json_t *values)
{
    size_t i;
    json_t *x;
    json_array_foreach(values, i, x) if (in_set(set, json_string_value(x))) return 1;
    return 0;
}

/* Values of one name are any-of; different names are all-of. */
static int filter_match(const wire_filter_t *f, const core_release_t *r)
{
    if (json_array_size(f->languages) && !in_set(f->languages, r->language)) return 0;
    if (json_array_size(f->sectors) && !any_in_set(f->sectors, r->sectors)) return 0;
    if (json_array_size(f->regions) && !any_in_set(f->regions, r->regions)) return 0;
    if (json_array_size(f->issuers) && !in_set(f->issuers, r->issuer_id) &&
        !in_set(f->issuers, r->issuer_slug))
        return 0;
    return 1;
}

static int filter_parse(kawat_app_t *app, net_request_t *req, const net_params_t *p,
                        wire_filter_t *f)
{
    f->languages = json_array();
    f->sectors = json_array();
    f->regions = json_array();
    f->issuers = json_array();
    for (size_t i = 0; i < p->count; i++) {
        const char *name = p->items[i].name, *v = p->items[i].value;
        if (strcmp(name, "language") == 0) {
            const core_lang_t *lang = core_lang_find_z(v);
            if (lang == NULL) {
                api_problem_field(req, 400, "language", "unknown language (see GET /v1/languages)");
                return KW_INVALID;
            }
            json_array_append_new(f->languages, json_string(lang->tag));
        } else if (strcmp(name, "sector") == 0) {
            const char *slug = store_sector_resolve(app->store, v);
            if (slug == NULL) {
                api_problem_field(req, 400, "sector", "unknown sector (see GET /v1/sectors)");
                return KW_INVALID;
            }
            json_array_append_new(f->sectors, json_string(slug));
        } else if (strcmp(name, "region") == 0) {
            const core_region_t *reg = core_region_find((kw_str_t){v, strlen(v)});
            if (reg == NULL) {
                api_problem_field(req, 400, "region", "must be an ISO 3166-1 alpha-2 code");
                return KW_INVALID;
            }
            json_array_append_new(f->regions, json_string(reg->code));
        } else if (strcmp(name, "issuer") == 0) {
            if (*v == '\0' || strlen(v) > 100) {
                api_problem_field(req, 400, "issuer", "must be an issuer id or slug");
                return KW_INVALID;
            }
            json_array_append_new(f->issuers, json_string(v));
        }
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
static json_t *wire_collect(kawat_app_t *app, const wire_filter_t *f, int64_t after, size_t limit,
                            int64_t *scanned)
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
    filter_free(&w->filter);
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
    static const char *const allowed[] = {"after", "limit", "wait", "language",
                                          "sector", "region", "issuer", NULL};
    net_params_t p;
    wire_filter_t f = {0};
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
    if (filter_parse(app, req, &p, &f) != KW_OK) goto done;

    int64_t scanned;
    json_t *events = limit ? wire_collect(app, &f, after, (size_t)limit, &scanned) : json_array();
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
    w->filter = f;
    memset(&f, 0, sizeof(f));
    w->after = scanned;
    w->limit = (size_t)limit;
    uv_timer_init(app->loop, &w->timer);
    w->timer.data = w;
    uv_timer_start(&w->timer, waiter_timeout, (uint64_t)wait * 1000, 0);
    w->next = app->waiters;
    if (app->waiters) app->waiters->prev = w;
    app->waiters = w;
    app->nwaiters++;
done:
    filter_free(&f);
    net_query_free(&p);
}

void api_wire_notify(kawat_app_t *app)
{
    api_waiter_t *w = app->waiters;
    while (w) {
        api_waiter_t *next = w->next;
        int64_t scanned;
        json_t *events = wire_collect(app, &w->filter, w->after, w->limit, &scanned);
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
