/* stream_int.h -- what the stream modules share inside src/net: the
 * shared immutable buffers, the messages between the hub (main loop) and
 * the worker loops, and the workers' interface. */
#ifndef KAWAT_STREAM_INT_H
#define KAWAT_STREAM_INT_H

#include "net/stream.h"

#include <pthread.h>
#include <stdatomic.h>

/* An immutable, reference-counted byte buffer: an event serialized once per
 * wire format and written to every matching connection. The last unref
 * frees it; refs are atomic because workers on other threads hold them. */
typedef struct {
    atomic_int refs;
    size_t len;
    char data[];
} stream_buf_t;

stream_buf_t *stream_buf_new(const void *p, size_t n);
stream_buf_t *stream_buf_ref(stream_buf_t *b);
void stream_buf_unref(stream_buf_t *b);

/* The deliveries of one event, counted for the distribution report
 * (deliver/report.h) by the label (language, country) of the recipients:
 * the hub sets matched per label and posts the tally with the event to
 * every worker concerned; each worker adds what it wrote and what it could
 * not, with atomics (several add at once); whoever drops the last
 * reference posts it back to the hub (HMSG_TALLY), which hands the sums to
 * the report on the main loop. groups[] is indexed by the hub's label
 * numbers. */
typedef struct {
    uint64_t matched; /* set by the hub before the tally is posted */
    atomic_ullong delivered;
    atomic_ullong failed;
} stream_tally_group_t;

typedef struct {
    atomic_int refs;
    char release_id[32];
    size_t ngroups;
    stream_tally_group_t groups[];
} stream_tally_t;

/* Drops a reference to t; the last one sends it to the hub to be counted.
 * Any thread. */
void stream_hub__tally_done(stream_hub_t *hub, stream_tally_t *t);

typedef enum { STREAM_SSE, STREAM_WS } stream_proto_t;

/* hub -> worker */
typedef enum {
    WMSG_ADOPT, /* take over fd as connection conn; write buf first */
    WMSG_EVENT, /* write the event to conns[0..nconns) */
    WMSG_SEND,  /* write buf to conn */
    WMSG_CLOSE, /* close conn (after what is queued) */
    WMSG_STOP   /* close everything and end the loop */
} stream_wmsg_kind_t;

typedef struct stream_wmsg_s {
    stream_wmsg_kind_t kind;
    struct stream_wmsg_s *next;
    uint32_t conn;
    uv_os_sock_t fd;
    stream_proto_t proto;
    int close_after;   /* ADOPT: close once buf is written (replay cut short) */
    stream_buf_t *buf; /* ADOPT, SEND */
    stream_buf_t *sse; /* EVENT: the same event in each format */
    stream_buf_t *ws;
    int64_t seq;
    uint32_t *conns;
    size_t nconns;
    stream_tally_t *tally; /* EVENT: counts for the report, NULL if not counted */
    uint16_t *labels;      /* EVENT with a tally: each conn's group in it */
} stream_wmsg_t;

/* worker -> hub */
typedef enum {
    HMSG_CLOSED, /* conn is gone (peer closed, error, or cut off) */
    HMSG_WS_TEXT, /* a WebSocket text message from conn */
    HMSG_TALLY    /* an event's deliveries, all workers done with it */
} stream_hmsg_kind_t;

typedef struct stream_hmsg_s {
    stream_hmsg_kind_t kind;
    struct stream_hmsg_s *next;
    uint32_t conn;
    int dropped; /* HMSG_CLOSED: cut off for falling behind */
    char *text;  /* HMSG_WS_TEXT, malloc'd */
    size_t len;
    stream_tally_t *tally; /* HMSG_TALLY */
} stream_hmsg_t;

typedef struct stream_worker_s stream_worker_t;

/* Counters a worker keeps; the hub sums them for /metrics. */
typedef struct {
    atomic_ullong connections;  /* open now */
    atomic_ullong accepted;
    atomic_ullong deliveries;   /* events written to a connection */
    atomic_ullong bytes;
    atomic_ullong drops;        /* connections cut off for falling behind */
    atomic_ullong queue_bytes;  /* output queued, all connections */
    atomic_ullong queue_max;    /* largest one connection's queue has been */
} stream_worker_stats_t;

stream_worker_t *stream_worker_start(stream_hub_t *hub, unsigned index, const stream_config_t *cfg);
/* Queues m for the worker (takes ownership) and wakes it. */
void stream_worker_post(stream_worker_t *w, stream_wmsg_t *m);
/* After WMSG_STOP: waits for the thread and frees the worker. */
void stream_worker_join(stream_worker_t *w);
const stream_worker_stats_t *stream_worker_stats(const stream_worker_t *w);

/* From a worker: queues m for the hub (takes ownership) and wakes the main
 * loop. */
void stream_hub__post(stream_hub_t *hub, stream_hmsg_t *m);

void stream_wmsg_free(stream_wmsg_t *m);

/* ---- WebSocket framing (stream_ws.c), used by the workers ---- */

typedef struct stream_ws_s stream_ws_t;

/* A frame parser for one connection's incoming bytes. */
stream_ws_t *stream_ws_new(size_t max_message);
void stream_ws_free(stream_ws_t *ws);

/* What feeding bytes produced. */
typedef enum {
    WS_NEED_MORE,  /* nothing complete yet */
    WS_TEXT,       /* a complete text message in *msg (malloc'd) */
    WS_PING,       /* answer with the pong in *msg (a complete frame) */
    WS_CLOSE,      /* the peer closed: send *msg (close frame) and close */
    WS_ERROR       /* protocol error: send *msg (close frame with code) and close */
} stream_ws_result_t;

/* Feeds up to len bytes; returns what happened and sets *used to the bytes
 * consumed (call again with the rest). *msg and *msg_len are set for every
 * result but WS_NEED_MORE; the caller frees *msg. */
stream_ws_result_t stream_ws_feed(stream_ws_t *ws, const char *data, size_t len, size_t *used,
                                  char **msg, size_t *msg_len);

/* A server frame (unmasked) carrying payload; malloc'd, length in *out_len.
 * opcode 0x1 text, 0x8 close, 0x9 ping, 0xA pong. */
char *stream_ws_frame(int opcode, const void *payload, size_t len, size_t *out_len);

/* The Sec-WebSocket-Accept value for a client's key (28 characters + NUL). */
int stream_ws_accept_key(const char *key, size_t len, char out[32]);

#endif
