/* stream.h -- live distribution: Server-Sent Events and WebSocket streams
 * fed from the wire log, matched by the subscription index, fanned out by
 * one loop thread per core. */
#ifndef KAWAT_STREAM_H
#define KAWAT_STREAM_H

#include "core/core.h"
#include "core/core_release.h"
#include "net/net_http.h"
#include "store/store.h"

#include <uv.h>

typedef struct stream_hub_s stream_hub_t;

typedef struct {
    unsigned workers;        /* loop threads for stream connections; 0 = one per core */
    size_t max_queue_bytes;  /* a connection with more unsent output is cut off */
    unsigned heartbeat_ms;   /* comment/ping interval */
    unsigned retry_ms;       /* SSE reconnection delay advertised to clients */
    size_t replay_max;       /* events replayed per connection before it must resume */
    size_t max_connections;  /* stream connections at most (each is a descriptor) */
    size_t ws_max_message;   /* largest WebSocket message a client may send */
    const char *base_url;
    const char *wire_name;
    struct report_s *report; /* counts deliveries for distribution reports
                                (deliver/report.h); NULL: not counted */
} stream_config_t;

void stream_config_defaults(stream_config_t *cfg);

/* Starts the hub on the main loop and its worker loops; loads every stored
 * subscriber's filters into the index. Returns NULL (message on stderr) on
 * failure. */
stream_hub_t *stream_hub_start(uv_loop_t *main_loop, store_t *store, const stream_config_t *cfg);

/* Closes every stream connection, stops and joins the workers, frees the
 * hub. Called on the main loop during a graceful stop; on_done runs on the
 * main loop once everything is closed. */
void stream_hub_stop(stream_hub_t *hub, void (*on_done)(void *arg), void *arg);

/* Fans out every wire event committed since the last call (publish,
 * correction, withdrawal), in sequence order. Call after a commit that
 * appended wire events. */
void stream_hub_publish(stream_hub_t *hub);

/* Early delivery of an approved, embargoed release to the trusted
 * subscribers it matches, marked embargoed with its lift time. */
void stream_hub_embargo(stream_hub_t *hub, const core_release_t *r);

/* A stored subscriber was created, changed or deleted (op is the committed
 * subscriber op): updates the index and its live connections. */
void stream_hub_subscriber_changed(stream_hub_t *hub, store_op_t *op);

/* GET /v1/stream (SSE) and GET /v1/ws (WebSocket). The filter comes from
 * the query (language, sector, region, issuer, keyword; repeatable) or,
 * for a subscriber's token, from its stored filters. Resumes after
 * Last-Event-ID or ?after=. Answers errors itself. */
void stream_sse_open(stream_hub_t *hub, net_request_t *req, const core_principal_t *who);
void stream_ws_open(stream_hub_t *hub, net_request_t *req, const core_principal_t *who);

/* Appends the hub's Prometheus metrics to out. */
void stream_hub_metrics(stream_hub_t *hub, kw_buf_t *out);

#endif
