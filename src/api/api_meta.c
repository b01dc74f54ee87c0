/* api_meta.c -- the wire's reference lists (languages, sectors, regions),
 * who-am-I, and the operational endpoints /healthz and /metrics. */
#include "api/api.h"
#include "core/core_lang.h"
#include "core/core_region.h"
#include "core/core_sector.h"
#include "deliver/mail.h"
#include "deliver/webhook.h"
#include "feeds/feeds_websub.h"
#include "net/stream.h"
#include "sched/sched.h"
#include "web/web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void api_languages_list(kawat_app_t *app, net_request_t *req)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < core_lang_count(); i++) {
        const core_lang_t *l = core_lang_at(i);
        char url[256];
        snprintf(url, sizeof(url), "%s/%s/", app->base_url, l->tag);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s}", "tag", l->tag, "name",
                                             l->name, "native", l->native, "direction",
                                             l->rtl ? "rtl" : "ltr", "url", url));
    }
    api_json(req, 200, json_pack("{s:o}", "items", arr), "Cache-Control: public, max-age=3600\r\n");
}

void api_regions_list(kawat_app_t *app, net_request_t *req)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < core_region_count(); i++) {
        const core_region_t *r = core_region_at(i);
        json_array_append_new(arr, json_pack("{s:s, s:s}", "code", r->code, "name", r->name));
    }
    api_json(req, 200, json_pack("{s:o}", "items", arr), "Cache-Control: public, max-age=3600\r\n");
}

void api_sectors_list(kawat_app_t *app, net_request_t *req)
{
    json_t *arr = store_sectors(app->store);
    size_t i;
    json_t *s;
    json_array_foreach(arr, i, s)
    {
        /* Localized names of seed sectors, for clients that label them. */
        const char *slug = json_string_value(json_object_get(s, "slug"));
        if (core_sector_find((kw_str_t){slug, strlen(slug)}) == NULL) continue;
        json_t *names = json_object();
        for (size_t j = 0; j < core_lang_count(); j++) {
            const core_lang_t *l = core_lang_at(j);
            json_object_set_new(names, l->tag, json_string(core_sector_name(slug, l)));
        }
        json_object_set_new(s, "names", names);
    }
    api_json(req, 200, json_pack("{s:o}", "items", arr), NULL);
}

static void on_sector_added(store_op_t *op)
{
    net_request_t *req = op->arg;
    if (op->rc == KW_OK) {
        /* The same shape as an item of GET /v1/sectors. */
        json_t *o = json_deep_copy(op->output);
        json_t *topic = json_object_get(op->input, "media_topic");
        json_object_set_new(o, "media_topic", topic ? json_incref(topic) : json_null());
        api_json(req, 201, o, NULL);
    } else if (op->rc == KW_INVALID) {
        api_problem(req, 422, "validation", "Invalid sector", op->errs.items[0].detail, &op->errs);
    } else if (op->rc == KW_CONFLICT) {
        api_problem(req, 409, "conflict", "Conflict", op->message, NULL);
    } else {
        api_problem(req, 503, "unavailable", "Service unavailable", "Try again.", NULL);
    }
    store_op_free(op);
}

void api_sectors_add(kawat_app_t *app, net_request_t *req, const core_principal_t *who)
{
    if (who->role != ROLE_EDITOR && who->role != ROLE_ADMIN) {
        api_refused(req, who, "Editors manage the sector list.");
        return;
    }
    json_t *in;
    if (api_body_json(req, &in, 0) != KW_OK) return;
    const char *k;
    json_t *v;
    json_object_foreach(in, k, v)
    {
        if (strcmp(k, "name") && strcmp(k, "media_topic")) {
            char f[64];
            snprintf(f, sizeof(f), "%.60s", k);
            json_decref(in);
            api_problem_field(req, 422, f, "unknown field");
            return;
        }
        if (!json_is_string(v)) {
            json_decref(in);
            api_problem_field(req, 422, k, "must be a string");
            return;
        }
    }
    store_op_t *op = store_op_new(STORE_OP_SECTOR_ADD, on_sector_added, req);
    op->who = *who;
    op->input = in;
    store_submit(app->store, op);
}

void api_me(kawat_app_t *app, net_request_t *req, const core_principal_t *who)
{
    if (who->role == ROLE_NONE) {
        api_problem(req, 401, "unauthorized", "Unauthorized",
                    "Send Authorization: Bearer <token>", NULL);
        return;
    }
    json_t *o = json_pack("{s:s, s:s, s:s}", "user_id", who->user_id, "name", who->name, "role",
                          core_role_name(who->role));
    if (who->issuer_id[0]) {
        json_t *iss = store_issuer_get(app->store, who->issuer_id);
        json_object_set_new(o, "issuer", iss ? iss : json_null());
    }
    if (who->subscriber_id[0]) {
        store_subscriber_t *sub = NULL;
        if (store_subscriber_get(app->store, who->subscriber_id, &sub) == KW_OK) {
            json_object_set_new(o, "subscriber", api_subscriber_json(sub));
            store_subscriber_free(sub);
        } else {
            json_object_set_new(o, "subscriber", json_null());
        }
    }
    api_json(req, 200, o, NULL);
}

/* Whether the peer is on this machine (metrics are for operators: they
 * count writes, which would hint at unpublished activity). */
static int peer_is_loopback(const net_request_t *req)
{
    /* A reverse proxy on this machine is a loopback peer too: whatever it
     * forwards carries X-Forwarded-For or Forwarded, and is not trusted. */
    if (net_request_header(req, "x-forwarded-for") || net_request_header(req, "forwarded"))
        return 0;
    return strncmp(req->remote_addr, "127.", 4) == 0 || strcmp(req->remote_addr, "::1") == 0 ||
           strncmp(req->remote_addr, "::ffff:127.", 11) == 0;
}

void api_metrics(kawat_app_t *app, net_request_t *req, const core_principal_t *who)
{
    if (!peer_is_loopback(req) && who->role != ROLE_ADMIN && who->role != ROLE_EDITOR) {
        api_problem(req, 403, "forbidden", "Forbidden",
                    "Metrics are served to local peers (not through a proxy) and to admin and editor tokens.", NULL);
        return;
    }
    const net_stats_t *ns = net_server_stats(app->http);
    store_stats_t ss;
    store_get_stats(app->store, &ss);
    kw_buf_t b = {0};
    kw_buf_printf(&b,
                  "# HELP kawat_up Whether kawat is serving.\n# TYPE kawat_up gauge\nkawat_up 1\n"
                  "# HELP kawat_uptime_seconds Seconds since the server started.\n"
                  "# TYPE kawat_uptime_seconds gauge\nkawat_uptime_seconds %.3f\n",
                  (double)(kw_now_ms() - app->started_ms) / 1000.0);
    kw_buf_printf(&b,
                  "# HELP kawat_http_connections Open HTTP connections.\n"
                  "# TYPE kawat_http_connections gauge\nkawat_http_connections %llu\n"
                  "# HELP kawat_http_connections_total Accepted HTTP connections.\n"
                  "# TYPE kawat_http_connections_total counter\n"
                  "kawat_http_connections_total %llu\n"
                  "# HELP kawat_http_requests_total HTTP requests parsed.\n"
                  "# TYPE kawat_http_requests_total counter\nkawat_http_requests_total %llu\n",
                  (unsigned long long)ns->connections_open,
                  (unsigned long long)ns->connections_total,
                  (unsigned long long)ns->requests_total);
    kw_buf_puts(&b, "# HELP kawat_http_responses_total HTTP responses by status class.\n"
                    "# TYPE kawat_http_responses_total counter\n");
    for (int c = 1; c <= 5; c++)
        kw_buf_printf(&b, "kawat_http_responses_total{class=\"%dxx\"} %llu\n", c,
                      (unsigned long long)ns->responses_by_class[c]);
    kw_buf_printf(&b,
                  "# HELP kawat_http_bytes_received_total Bytes read from clients.\n"
                  "# TYPE kawat_http_bytes_received_total counter\n"
                  "kawat_http_bytes_received_total %llu\n"
                  "# HELP kawat_http_bytes_sent_total Bytes written to clients.\n"
                  "# TYPE kawat_http_bytes_sent_total counter\nkawat_http_bytes_sent_total %llu\n"
                  "# HELP kawat_http_timeouts_total Connections closed by a timeout.\n"
                  "# TYPE kawat_http_timeouts_total counter\nkawat_http_timeouts_total %llu\n"
                  "# HELP kawat_http_rejected_total Requests refused by a limit.\n"
                  "# TYPE kawat_http_rejected_total counter\nkawat_http_rejected_total %llu\n",
                  (unsigned long long)ns->bytes_in, (unsigned long long)ns->bytes_out,
                  (unsigned long long)ns->timeouts, (unsigned long long)ns->rejected_limits);
    kw_buf_printf(&b,
                  "# HELP kawat_store_write_batches_total Group commits.\n"
                  "# TYPE kawat_store_write_batches_total counter\n"
                  "kawat_store_write_batches_total %llu\n"
                  "# HELP kawat_store_write_ops_total Operations committed.\n"
                  "# TYPE kawat_store_write_ops_total counter\nkawat_store_write_ops_total %llu\n"
                  "# HELP kawat_store_write_batch_max Largest group commit.\n"
                  "# TYPE kawat_store_write_batch_max gauge\nkawat_store_write_batch_max %llu\n"
                  "# HELP kawat_store_queue_depth Operations waiting for the writer.\n"
                  "# TYPE kawat_store_queue_depth gauge\nkawat_store_queue_depth %llu\n",
                  (unsigned long long)ss.write_batches, (unsigned long long)ss.write_ops,
                  (unsigned long long)ss.write_batch_max, (unsigned long long)ss.queue_depth);
    kw_buf_printf(&b,
                  "# HELP kawat_wire_last_seq Sequence number of the newest wire event.\n"
                  "# TYPE kawat_wire_last_seq gauge\nkawat_wire_last_seq %lld\n"
                  "# HELP kawat_releases_created_total Releases created through the API.\n"
                  "# TYPE kawat_releases_created_total counter\n"
                  "kawat_releases_created_total %llu\n"
                  "# HELP kawat_releases_published_total Releases published by this process.\n"
                  "# TYPE kawat_releases_published_total counter\n"
                  "kawat_releases_published_total %llu\n"
                  "# HELP kawat_scheduler_passes_total Scheduler publishing passes.\n"
                  "# TYPE kawat_scheduler_passes_total counter\n"
                  "kawat_scheduler_passes_total %llu\n"
                  "# HELP kawat_wire_pollers Long polls waiting on /v1/wire.\n"
                  "# TYPE kawat_wire_pollers gauge\nkawat_wire_pollers %zu\n"
                  "# HELP kawat_auth_failures_total Requests with a bad token.\n"
                  "# TYPE kawat_auth_failures_total counter\nkawat_auth_failures_total %llu\n",
                  (long long)ss.wire_last_seq, (unsigned long long)app->releases_created,
                  (unsigned long long)app->releases_published,
                  (unsigned long long)sched_passes(app->sched), app->nwaiters,
                  (unsigned long long)app->auth_failures);
    stream_hub_metrics(app->streams, &b);
    web_cache_stats_t cs;
    web_cache_get_stats(app->cache, &cs);
    kw_buf_printf(&b,
                  "# HELP kawat_page_cache_hits_total Pages and feeds answered from the cache.\n"
                  "# TYPE kawat_page_cache_hits_total counter\nkawat_page_cache_hits_total %llu\n"
                  "# HELP kawat_page_cache_misses_total Pages and feeds rendered.\n"
                  "# TYPE kawat_page_cache_misses_total counter\n"
                  "kawat_page_cache_misses_total %llu\n"
                  "# HELP kawat_page_cache_not_modified_total 304 answers to revalidations.\n"
                  "# TYPE kawat_page_cache_not_modified_total counter\n"
                  "kawat_page_cache_not_modified_total %llu\n"
                  "# HELP kawat_page_cache_dropped_total Entries dropped by wire events.\n"
                  "# TYPE kawat_page_cache_dropped_total counter\n"
                  "kawat_page_cache_dropped_total %llu\n"
                  "# HELP kawat_page_cache_evicted_total Entries evicted for room.\n"
                  "# TYPE kawat_page_cache_evicted_total counter\n"
                  "kawat_page_cache_evicted_total %llu\n"
                  "# HELP kawat_page_cache_entries Entries held.\n"
                  "# TYPE kawat_page_cache_entries gauge\nkawat_page_cache_entries %llu\n"
                  "# HELP kawat_page_cache_bytes Memory held by entries.\n"
                  "# TYPE kawat_page_cache_bytes gauge\nkawat_page_cache_bytes %llu\n",
                  (unsigned long long)cs.hits, (unsigned long long)cs.misses,
                  (unsigned long long)cs.not_modified, (unsigned long long)cs.dropped,
                  (unsigned long long)cs.evicted, (unsigned long long)cs.entries,
                  (unsigned long long)cs.bytes);
    if (app->websub) {
        feeds_websub_stats_t ws;
        feeds_websub_get_stats(app, &ws);
        kw_buf_printf(&b,
                      "# HELP kawat_websub_subscriptions Active WebSub subscriptions.\n"
                      "# TYPE kawat_websub_subscriptions gauge\nkawat_websub_subscriptions %llu\n"
                      "# HELP kawat_websub_pushes_total WebSub content distributions.\n"
                      "# TYPE kawat_websub_pushes_total counter\n"
                      "kawat_websub_pushes_total{result=\"ok\"} %llu\n"
                      "kawat_websub_pushes_total{result=\"failed\"} %llu\n"
                      "# HELP kawat_websub_retries_pending Distributions waiting for a retry.\n"
                      "# TYPE kawat_websub_retries_pending gauge\n"
                      "kawat_websub_retries_pending %llu\n",
                      (unsigned long long)ws.subscriptions, (unsigned long long)ws.pushes_ok,
                      (unsigned long long)ws.pushes_failed, (unsigned long long)ws.retries_pending);
    }
    if (app->webhooks) {
        webhook_stats_t wh;
        webhook_get_stats(app, &wh);
        kw_buf_printf(&b,
                      "# HELP kawat_webhook_deliveries_total Webhook delivery attempts since start.\n"
                      "# TYPE kawat_webhook_deliveries_total counter\n"
                      "kawat_webhook_deliveries_total{result=\"ok\"} %llu\n"
                      "kawat_webhook_deliveries_total{result=\"failed\"} %llu\n"
                      "# HELP kawat_webhook_pending Webhook deliveries not yet delivered.\n"
                      "# TYPE kawat_webhook_pending gauge\nkawat_webhook_pending %lld\n"
                      "# HELP kawat_webhook_endpoints Webhook endpoints, by state.\n"
                      "# TYPE kawat_webhook_endpoints gauge\n"
                      "kawat_webhook_endpoints{state=\"active\"} %llu\n"
                      "kawat_webhook_endpoints{state=\"paused\"} %llu\n",
                      (unsigned long long)wh.delivered, (unsigned long long)wh.failed,
                      (long long)store_webhook_pending_total(app->store),
                      (unsigned long long)(wh.endpoints - wh.paused),
                      (unsigned long long)wh.paused);
    }
    mail_metrics(app, &b);
    net_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8",
                "Cache-Control: no-store\r\n", b.data, b.len);
    kw_buf_free(&b);
}

void api_after_write(kawat_app_t *app, store_op_t *op)
{
    if (op->published) app->releases_published += (uint64_t)op->published;
    if (op->last_seq) {
        /* The page cache first: once anyone hears of the event, no cached
         * page may still show the release as it was. */
        web_cache_wire_advanced(app);
        api_wire_notify(app);
        if (app->websub) feeds_websub_wire_advanced(app);
    }
    if (app->webhooks) webhook_after_write(app, op); /* wire events, deleted outlets */
    if (app->mail) mail_after_write(app, op); /* wire events, embargoes, journalists */
    if (op->kind == STORE_OP_RELEASE_ACT && op->release &&
        (op->release->state == REL_SCHEDULED || op->release->state == REL_EMBARGOED ||
         op->action == ACT_WITHDRAW || op->action == ACT_REJECT))
        sched_poke(app->sched);
    if (STORE_OP_IS_SUBSCRIBER(op->kind) && op->rc == KW_OK && app->on_subscriber)
        app->on_subscriber(app, op);
    if (app->streams) {
        if (op->last_seq) stream_hub_publish(app->streams);
        if (op->kind == STORE_OP_RELEASE_ACT && op->rc == KW_OK && op->release &&
            op->release->state == REL_EMBARGOED &&
            (op->action == ACT_APPROVE || op->action == ACT_SCHEDULE))
            stream_hub_embargo(app->streams, op->release);
    }
}
