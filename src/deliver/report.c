/* report.c -- the distribution-report aggregate: counts from the delivery
 * engines summed in memory and flushed to the store every REPORT_FLUSH_MS;
 * and the report itself, built from those counts and the webhook outbox.
 *
 * Design note: why an aggregate and not a row per delivery.
 * A release can reach millions of stream connections within a second; a
 * row per delivery would cost the store more than the delivery itself.
 * What a report needs is counts per (release, channel, minute, language,
 * country), so that is the key of the table and of the in-memory table
 * that collects counts between flushes: one flush is one store op with a
 * row per key touched, added to the stored counters (an upsert), whatever
 * the number of deliveries behind it. */
#include "deliver/report.h"
#include "api/api.h"
#include "core/core_time.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char release_id[32];
    report_channel_t channel;
    int64_t minute; /* ms UTC / 60000 */
    report_label_t label;
    int64_t counts[4]; /* by report_outcome_t */
    uint32_t next;     /* chain in the bucket, index + 1; 0 ends it */
} entry_t;

struct report_s {
    store_t *store;
    uv_timer_t timer;
    pthread_mutex_t lock;
    entry_t *entries;
    size_t nentries, cap;
    uint32_t *buckets; /* index + 1 of the first entry; nbuckets is a power of 2 */
    size_t nbuckets;
};

static const char *const channel_names[REPORT_CHANNELS_] = {"streams", "webhooks", "websub",
                                                            "email"};

const char *report_channel_name(report_channel_t channel)
{
    return (unsigned)channel < REPORT_CHANNELS_ ? channel_names[channel] : "?";
}

static int channel_parse(const char *name)
{
    for (int i = 0; name && i < REPORT_CHANNELS_; i++)
        if (strcmp(channel_names[i], name) == 0) return i;
    return -1;
}

/* ---- labels ---- */

/* The one distinct value of the arrays fed in, if there is exactly one and
 * no array was empty (an empty attribute takes every value). */
typedef struct {
    int any;   /* some filter does not constrain */
    int multi; /* more than one value */
    char one[16];
} uniq_t;

static void uniq_feed(uniq_t *u, const json_t *arr)
{
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        u->any = 1;
        return;
    }
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *z = json_string_value(v);
        if (z == NULL || strlen(z) >= sizeof(u->one)) {
            u->multi = 1;
        } else if (u->one[0] == '\0') {
            snprintf(u->one, sizeof(u->one), "%s", z);
        } else if (strcmp(u->one, z) != 0) {
            u->multi = 1;
        }
    }
}

static void label_finish(const uniq_t *lang, const uniq_t *region, report_label_t *out)
{
    snprintf(out->language, sizeof(out->language), "%s",
             lang->any || lang->multi || !lang->one[0] ? REPORT_LANGUAGE_ANY : lang->one);
    int country = !region->any && !region->multi && strlen(region->one) == 2;
    memcpy(out->country, country ? region->one : REPORT_COUNTRY_UNKNOWN, 2);
    out->country[2] = '\0';
}

void report_label_filters(const match_filter_t *filters, size_t n, report_label_t *out)
{
    uniq_t lang = {.any = n == 0}, region = {.any = n == 0};
    for (size_t i = 0; i < n; i++) {
        uniq_feed(&lang, filters[i].languages);
        uniq_feed(&region, filters[i].regions);
    }
    label_finish(&lang, &region, out);
}

void report_label_json(const json_t *filters, report_label_t *out)
{
    size_t n = json_array_size(filters);
    uniq_t lang = {.any = n == 0}, region = {.any = n == 0};
    size_t i;
    const json_t *f;
    json_array_foreach(filters, i, f)
    {
        uniq_feed(&lang, json_object_get(f, "languages"));
        uniq_feed(&region, json_object_get(f, "regions"));
    }
    label_finish(&lang, &region, out);
}

/* ---- counting ---- */

static uint32_t key_hash(const entry_t *e)
{
    uint32_t h = 2166136261u;
    const char *parts[3] = {e->release_id, e->label.language, e->label.country};
    for (int p = 0; p < 3; p++) {
        for (const char *c = parts[p]; *c; c++)
            h = (h ^ (uint8_t)*c) * 16777619u;
        h = (h ^ 0xff) * 16777619u;
    }
    h = (h ^ (uint32_t)e->channel) * 16777619u;
    h = (h ^ (uint32_t)e->minute) * 16777619u;
    return h;
}

static int key_eq(const entry_t *a, const entry_t *b)
{
    return a->channel == b->channel && a->minute == b->minute &&
           strcmp(a->release_id, b->release_id) == 0 &&
           strcmp(a->label.language, b->label.language) == 0 &&
           strcmp(a->label.country, b->label.country) == 0;
}

static void rehash(report_t *rep, size_t nbuckets)
{
    free(rep->buckets);
    rep->buckets = kw_calloc(nbuckets, sizeof(*rep->buckets));
    rep->nbuckets = nbuckets;
    for (size_t i = 0; i < rep->nentries; i++) {
        uint32_t b = key_hash(&rep->entries[i]) & (uint32_t)(nbuckets - 1);
        rep->entries[i].next = rep->buckets[b];
        rep->buckets[b] = (uint32_t)i + 1;
    }
}

/* The entry for key (its counts zero if new); called under the lock. */
static entry_t *entry_get(report_t *rep, const entry_t *key)
{
    uint32_t h = key_hash(key);
    if (rep->nbuckets) {
        for (uint32_t i = rep->buckets[h & (rep->nbuckets - 1)]; i; i = rep->entries[i - 1].next)
            if (key_eq(&rep->entries[i - 1], key)) return &rep->entries[i - 1];
    }
    if (rep->nentries == rep->cap) {
        rep->cap = rep->cap ? rep->cap * 2 : 64;
        rep->entries = kw_realloc(rep->entries, rep->cap * sizeof(*rep->entries));
    }
    entry_t *e = &rep->entries[rep->nentries++];
    *e = *key;
    memset(e->counts, 0, sizeof(e->counts));
    if (rep->nentries * 2 > rep->nbuckets) {
        rehash(rep, rep->nbuckets ? rep->nbuckets * 2 : 128);
    } else {
        uint32_t b = h & (uint32_t)(rep->nbuckets - 1);
        e->next = rep->buckets[b];
        rep->buckets[b] = (uint32_t)rep->nentries;
    }
    return e;
}

static void copy_label(char *out, size_t size, const char *z, const char *dflt)
{
    snprintf(out, size, "%s", z && z[0] && strlen(z) < size ? z : dflt);
}

void report_add(report_t *rep, const char *release_id, report_channel_t channel,
                const char *language, const char *country, report_outcome_t outcome, int64_t n,
                int64_t at_ms)
{
    if (rep == NULL || release_id == NULL || n == 0 || (unsigned)channel >= REPORT_CHANNELS_ ||
        (unsigned)outcome > REPORT_FAILED_ATTEMPT || strlen(release_id) >= 32)
        return;
    entry_t key;
    memset(&key, 0, sizeof(key));
    snprintf(key.release_id, sizeof(key.release_id), "%s", release_id);
    key.channel = channel;
    key.minute = (at_ms ? at_ms : kw_now_ms()) / 60000;
    copy_label(key.label.language, sizeof(key.label.language), language, REPORT_LANGUAGE_ANY);
    copy_label(key.label.country, sizeof(key.label.country), country, REPORT_COUNTRY_UNKNOWN);
    pthread_mutex_lock(&rep->lock);
    entry_get(rep, &key)->counts[outcome] += n;
    pthread_mutex_unlock(&rep->lock);
}

void report_count(struct kawat_app_s *app, const char *release_id, report_channel_t channel,
                  const char *language, const char *country, report_outcome_t outcome, int64_t n,
                  int64_t at_ms)
{
    if (app) report_add(app->report, release_id, channel, language, country, outcome, n, at_ms);
}

/* ---- flushing ---- */

static void on_flushed(store_op_t *op)
{
    if (op->rc != KW_OK)
        fprintf(stderr, "kawat: report: %zu counts were not stored: %s\n",
                json_array_size(json_object_get(op->input, "rows")), op->message);
    store_op_free(op);
}

/* Hands what is held to the writer as one op; the aggregate is empty after. */
static void flush(report_t *rep)
{
    pthread_mutex_lock(&rep->lock);
    if (rep->nentries == 0) {
        pthread_mutex_unlock(&rep->lock);
        return;
    }
    json_t *rows = json_array();
    for (size_t i = 0; i < rep->nentries; i++) {
        const entry_t *e = &rep->entries[i];
        json_array_append_new(
            rows, json_pack("{s:s, s:s, s:I, s:s, s:s, s:I, s:I, s:I, s:I}", "release_id",
                            e->release_id, "channel", channel_names[e->channel], "minute",
                            (json_int_t)e->minute, "language", e->label.language, "country",
                            e->label.country, "matched", (json_int_t)e->counts[REPORT_MATCHED],
                            "delivered", (json_int_t)e->counts[REPORT_DELIVERED], "failed",
                            (json_int_t)e->counts[REPORT_FAILED], "failed_attempts",
                            (json_int_t)e->counts[REPORT_FAILED_ATTEMPT]));
    }
    rep->nentries = 0;
    if (rep->nbuckets) memset(rep->buckets, 0, rep->nbuckets * sizeof(*rep->buckets));
    pthread_mutex_unlock(&rep->lock);
    store_op_t *op = store_op_new(STORE_OP_REPORT_ADD, on_flushed, NULL);
    op->input = json_pack("{s:o}", "rows", rows);
    store_submit(rep->store, op);
}

static void on_timer(uv_timer_t *t)
{
    flush(t->data);
}

report_t *report_start(uv_loop_t *loop, store_t *store)
{
    report_t *rep = kw_calloc(1, sizeof(*rep));
    rep->store = store;
    pthread_mutex_init(&rep->lock, NULL);
    if (uv_timer_init(loop, &rep->timer) != 0) {
        pthread_mutex_destroy(&rep->lock);
        free(rep);
        return NULL;
    }
    rep->timer.data = rep;
    uv_timer_start(&rep->timer, on_timer, REPORT_FLUSH_MS, REPORT_FLUSH_MS);
    return rep;
}

static void on_closed(uv_handle_t *h)
{
    report_t *rep = h->data;
    pthread_mutex_destroy(&rep->lock);
    free(rep->entries);
    free(rep->buckets);
    free(rep);
}

void report_stop(report_t *rep)
{
    if (rep == NULL) return;
    flush(rep);
    uv_timer_stop(&rep->timer);
    uv_close((uv_handle_t *)&rep->timer, on_closed);
}

/* ---- the report ---- */

typedef struct {
    int64_t v[4]; /* by report_outcome_t */
} counts_t;

static json_t *counts_json(const counts_t *c)
{
    int64_t pending = c->v[REPORT_MATCHED] - c->v[REPORT_DELIVERED] - c->v[REPORT_FAILED];
    return json_pack("{s:I, s:I, s:I, s:I, s:I}", "matched", (json_int_t)c->v[REPORT_MATCHED],
                     "delivered", (json_int_t)c->v[REPORT_DELIVERED], "failed",
                     (json_int_t)c->v[REPORT_FAILED], "pending",
                     (json_int_t)(pending > 0 ? pending : 0), "failed_attempts",
                     (json_int_t)c->v[REPORT_FAILED_ATTEMPT]);
}

/* Adds c into map[key]: a JSON array of the four counts by
 * report_outcome_t, created on first use. */
static void tally_add(json_t *map, const char *key, const counts_t *c)
{
    json_t *a = json_object_get(map, key);
    if (a == NULL) {
        a = json_pack("[I, I, I, I]", (json_int_t)0, (json_int_t)0, (json_int_t)0, (json_int_t)0);
        json_object_set_new(map, key, a);
    }
    for (size_t i = 0; i < 4; i++)
        json_array_set_new(a, i, json_integer(json_integer_value(json_array_get(a, i)) + c->v[i]));
}

static counts_t tally_get(const json_t *a)
{
    counts_t c;
    for (size_t i = 0; i < 4; i++)
        c.v[i] = json_integer_value(json_array_get(a, i));
    return c;
}

/* The map as an array of {name: key, matched, ...}, keys sorted. A
 * breakdown key "channel language country" (name NULL) becomes three
 * fields. */
static json_t *tally_list(json_t *map, const char *name)
{
    json_t *out = json_array();
    const char *key;
    json_t *a;
    size_t n = json_object_size(map), i = 0;
    const char **keys = kw_calloc(n ? n : 1, sizeof(*keys));
    json_object_foreach(map, key, a) keys[i++] = key;
    for (size_t x = 1; x < n; x++)
        for (size_t y = x; y > 0 && strcmp(keys[y - 1], keys[y]) > 0; y--) {
            const char *t = keys[y];
            keys[y] = keys[y - 1];
            keys[y - 1] = t;
        }
    for (i = 0; i < n; i++) {
        json_t *o;
        char ch[16], lang[16], cc[4];
        if (name)
            o = json_pack("{s:s}", name, keys[i]);
        else if (sscanf(keys[i], "%15s %15s %3s", ch, lang, cc) == 3)
            o = json_pack("{s:s, s:s, s:s}", "channel", ch, "language", lang, "country", cc);
        else
            continue;
        counts_t c = tally_get(json_object_get(map, keys[i]));
        json_object_update_new(o, counts_json(&c));
        json_array_append_new(out, o);
    }
    free(keys);
    return out;
}

typedef struct {
    json_t *channels;  /* name -> counts */
    json_t *languages; /* tag -> counts */
    json_t *countries; /* code -> counts */
    json_t *breakdown; /* "channel language country" -> counts */
    int64_t start_minute;
    int64_t minutes[REPORT_CHANNELS_][REPORT_TIMELINE_MINUTES];
    int64_t before, later; /* deliveries outside the first hour */
    int published;
} build_t;

static void build_add(build_t *b, int channel, int64_t minute, const report_label_t *l,
                      const counts_t *c)
{
    char key[64];
    tally_add(b->channels, channel_names[channel], c);
    tally_add(b->languages, l->language, c);
    tally_add(b->countries, l->country, c);
    snprintf(key, sizeof(key), "%s %s %s", channel_names[channel], l->language, l->country);
    tally_add(b->breakdown, key, c);
    int64_t d = c->v[REPORT_DELIVERED];
    if (d == 0 || minute < 0) return;
    int64_t rel = minute - b->start_minute;
    if (!b->published || rel < 0)
        b->before += d;
    else if (rel >= REPORT_TIMELINE_MINUTES)
        b->later += d;
    else
        b->minutes[channel][rel] += d;
}

json_t *report_build(store_t *store, const core_release_t *r, int64_t now_ms)
{
    build_t *b = kw_calloc(1, sizeof(*b));
    b->channels = json_object();
    b->languages = json_object();
    b->countries = json_object();
    b->breakdown = json_object();
    b->published = r->published_at != 0;
    b->start_minute = r->published_at / 60000;

    size_t i;
    json_t *row;
    json_t *rows = store_report_counts(store, r->id);
    json_array_foreach(rows, i, row)
    {
        int ch = channel_parse(json_string_value(json_object_get(row, "channel")));
        if (ch < 0) continue;
        report_label_t l;
        copy_label(l.language, sizeof(l.language),
                   json_string_value(json_object_get(row, "language")), REPORT_LANGUAGE_ANY);
        copy_label(l.country, sizeof(l.country), json_string_value(json_object_get(row, "country")),
                   REPORT_COUNTRY_UNKNOWN);
        counts_t c = {{json_integer_value(json_object_get(row, "matched")),
                       json_integer_value(json_object_get(row, "delivered")),
                       json_integer_value(json_object_get(row, "failed")),
                       json_integer_value(json_object_get(row, "failed_attempts"))}};
        build_add(b, ch, json_integer_value(json_object_get(row, "minute")), &l, &c);
    }
    json_decref(rows);

    /* Webhooks: each outbox row is one event for one endpoint; delivered
     * ones carry their minute; the others fail (attempted) or wait. */
    rows = store_report_webhooks(store, r->id);
    json_array_foreach(rows, i, row)
    {
        report_label_t l;
        report_label_json(json_object_get(row, "filters"), &l);
        int delivered = json_is_true(json_object_get(row, "delivered"));
        int64_t n = json_integer_value(json_object_get(row, "deliveries"));
        counts_t c = {{n, delivered ? n : 0,
                       delivered ? 0 : json_integer_value(json_object_get(row, "attempted")),
                       json_integer_value(json_object_get(row, "failed_attempts"))}};
        json_t *minute = json_object_get(row, "minute");
        build_add(b, REPORT_WEBHOOK, json_is_integer(minute) ? json_integer_value(minute) : -1, &l,
                  &c);
    }
    json_decref(rows);

    char when[40];
    json_t *out = json_pack("{s:s, s:s, s:s, s:s}", "release_id", r->id, "headline",
                            r->headline ? r->headline : "", "language", r->language, "state",
                            core_state_name(r->state));
    if (r->published_at) core_time_format_rfc3339(r->published_at, when, sizeof(when));
    json_object_set_new(out, "published_at", r->published_at ? json_string(when) : json_null());
    core_time_format_rfc3339(now_ms, when, sizeof(when));
    json_object_set_new(out, "generated_at", json_string(when));

    counts_t total = {{0}};
    json_t *channels = json_object();
    for (int ch = 0; ch < REPORT_CHANNELS_; ch++) {
        json_t *a = json_object_get(b->channels, channel_names[ch]);
        counts_t c = a ? tally_get(a) : (counts_t){{0}};
        for (int k = 0; k < 4; k++)
            total.v[k] += c.v[k];
        json_object_set_new(channels, channel_names[ch], counts_json(&c));
    }
    json_object_set_new(out, "totals", counts_json(&total));
    json_object_set_new(out, "channels", channels);
    json_object_set_new(out, "languages", tally_list(b->languages, "language"));
    json_object_set_new(out, "countries", tally_list(b->countries, "country"));

    json_object_set_new(out, "breakdown", tally_list(b->breakdown, NULL));

    json_t *minutes = json_array();
    for (int m = 0; m < REPORT_TIMELINE_MINUTES; m++) {
        json_t *o = json_pack("{s:i}", "minute", m);
        int64_t sum = 0;
        for (int ch = 0; ch < REPORT_CHANNELS_; ch++) {
            json_object_set_new(o, channel_names[ch], json_integer(b->minutes[ch][m]));
            sum += b->minutes[ch][m];
        }
        json_object_set_new(o, "delivered", json_integer(sum));
        json_array_append_new(minutes, o);
    }
    json_t *timeline = json_pack("{s:o, s:I, s:I}", "minutes", minutes, "before_publication",
                                 (json_int_t)b->before, "after_first_hour", (json_int_t)b->later);
    json_object_set_new(out, "timeline", timeline);

    json_decref(b->channels);
    json_decref(b->languages);
    json_decref(b->countries);
    json_decref(b->breakdown);
    free(b);
    return out;
}
