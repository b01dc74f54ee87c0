/* net_http.h -- kawat's HTTP/1.1 server on a libuv loop: connections,
 * parsing (http-parser), limits and timeouts, keep-alive, responses, and a
 * graceful stop. It knows nothing of routes: it hands each complete request
 * to one handler. */
#ifndef KAWAT_NET_HTTP_H
#define KAWAT_NET_HTTP_H

#include "core/core.h"
#include <uv.h>

typedef struct net_server_s net_server_t;
typedef struct net_request_s net_request_t;

typedef struct {
    kw_str_t name;  /* as received */
    kw_str_t value; /* leading/trailing whitespace trimmed */
} net_header_t;

/* A complete request. Valid from the handler call until net_respond() is
 * called for it (which frees it). All strings point into memory owned by
 * the request. */
struct net_request_s {
    int method;            /* http_parser's enum http_method (HTTP_GET, ...) */
    kw_str_t method_name;  /* "GET" */
    kw_str_t target;       /* raw request target: "/v1/releases?x=1" */
    kw_str_t path;         /* percent-decoded path, no query: "/v1/releases" */
    kw_str_t query;        /* raw query after '?', not decoded ("" if none) */
    net_header_t *headers;
    size_t nheaders;
    kw_str_t body;
    char remote_addr[64];  /* peer IP (or X-Forwarded-For when trusted) */
    int64_t start_ms;      /* when the first byte of the request arrived */
    int keep_alive;        /* client wants the connection kept */
    void *user;            /* free for the handler's use */
    /* private */
    void *conn__;
};

/* The handler is called on the loop thread with each complete request. It
 * must call net_respond() exactly once, now or later (for example when a
 * store write commits, or when a long poll wakes). The connection does not
 * read further requests until then. */
typedef void (*net_handler_fn)(net_request_t *req, void *data);

typedef struct {
    const char *listen;         /* "127.0.0.1:8080" or "[::1]:8080" */
    size_t max_header_bytes;    /* request line + headers; 431 past it (default 16 KiB) */
    size_t max_headers;         /* header lines; 431 past it (default 100) */
    size_t max_body_bytes;      /* 413 past it (default 1 MiB) */
    unsigned header_timeout_ms; /* whole request head must arrive in this (default 10 s) */
    unsigned body_timeout_ms;   /* whole body must arrive in this (default 30 s) */
    unsigned idle_timeout_ms;   /* keep-alive idle (default 60 s) */
    size_t max_connections;     /* beyond it new connections are closed (default 10000) */
    int trust_proxy;            /* take X-Forwarded-For / -Proto from the peer */
    FILE *access_log;           /* NULL: no access log */
} net_config_t;

void net_config_defaults(net_config_t *cfg);

/* Binds and listens on loop. Returns KW_OK or KW_ERROR (message on stderr). */
int net_server_start(uv_loop_t *loop, const net_config_t *cfg, net_handler_fn handler,
                     void *data, net_server_t **out);

/* Graceful stop: closes the listener and idle connections at once; a
 * connection with a request in flight closes after its response. on_drained
 * is called (on the loop) once no connection is left. */
void net_server_stop(net_server_t *s, void (*on_drained)(void *arg), void *arg);

/* Frees the server after it has drained. */
void net_server_free(net_server_t *s);

/* The bound port (useful with ":0"). */
int net_server_port(const net_server_t *s);

/* Counters for /metrics. */
typedef struct {
    uint64_t connections_open;
    uint64_t connections_total;
    uint64_t requests_total;
    uint64_t responses_by_class[6]; /* index status/100: 1xx..5xx */
    uint64_t bytes_in;
    uint64_t bytes_out;
    uint64_t timeouts;
    uint64_t rejected_limits;       /* 4xx from limits: 400/408/413/431 */
} net_stats_t;
const net_stats_t *net_server_stats(const net_server_t *s);

/* Header lookup, case-insensitive; NULL if absent. */
const kw_str_t *net_request_header(const net_request_t *req, const char *name);

/* Sends the response and frees req. headers is NULL or extra header lines,
 * each ending in "\r\n" (e.g. "ETag: \"x\"\r\n"). Content-Length, Date,
 * Connection and Content-Type are written by the server. The body is copied.
 * If the client has gone away the response is dropped quietly. For HEAD
 * requests the body is not sent but its length is. */
void net_respond(net_request_t *req, int status, const char *content_type,
                 const char *headers, const void *body, size_t len);

/* Takes a request's connection away from the HTTP server for a long-lived
 * stream that another loop will own (SSE, WebSocket): logs the request with
 * status, frees req, closes the server's handle and gives the caller a
 * duplicate of the socket in *out (the caller closes it). The caller writes
 * the response head itself. Bytes the client sent after the request are
 * not kept (SSE clients send none; WebSocket clients wait for the 101).
 * Returns KW_OK, or KW_ERROR when the client is gone or no descriptor is
 * left (then req is already answered or freed). */
int net_request_detach(net_request_t *req, int status, uv_os_sock_t *out);

/* Whether the client of a parked request is still connected. */
int net_request_alive(const net_request_t *req);

/* Reason phrase for a status code ("Not Found"). */
const char *net_status_text(int status);

#endif
