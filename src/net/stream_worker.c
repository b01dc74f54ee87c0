/* stream_worker.c -- the fan-out loops: one thread per core, each owning
 * its stream connections and writing shared event buffers to them.
 *
 * Design note: bounded output, no per-connection copies.
 * The hub serializes an event once per format (stream_buf_t, refcounted)
 * and posts it with the list of this worker's connections that match. The
 * worker writes the same buffer to each of them (uv_write with the shared
 * bytes; one ref per write, dropped when the write completes). A
 * connection's output that the kernel has not taken yet is counted in
 * `queued`; when an event would push it past max_queue_bytes the
 * connection is cut off: it is closed after the loop over subscribers, the
 * hub is told (so it forgets the connection and counts a drop), and the
 * client resumes later from the last id it received. So a subscriber that
 * stops reading costs at most max_queue_bytes of references and never slows
 * the others. The socket's send buffer is set small (SO_SNDBUF) so that the
 * bound is ours, not the kernel's autotuning. */
#include "net/stream_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define WORKER_SNDBUF (64 * 1024)
#define WORKER_READ_BUF (16 * 1024)

typedef struct wconn_s {
    uv_tcp_t tcp;
    stream_worker_t *w;
    uint32_t id;
    stream_proto_t proto;
    size_t queued;   /* bytes handed to uv_write and not yet completed */
    int closing;
    int close_after; /* close once the queue is empty */
    int cut;         /* cut off for falling behind */
    stream_ws_t *ws;
} wconn_t;

typedef struct {
    uv_write_t req;
    wconn_t *c;
    stream_buf_t *buf;
    size_t len; /* bytes of buf this write carries (its unsent tail) */
} wwrite_t;

struct stream_worker_s {
    stream_hub_t *hub;
    unsigned index;
    stream_config_t cfg;
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t async;
    uv_timer_t heartbeat;
    pthread_mutex_t lock;
    stream_wmsg_t *head, *tail;
    wconn_t **conns; /* by id */
    size_t conns_cap;
    size_t nconns;
    int stopping;
    stream_buf_t *hb_sse; /* ":\n\n" */
    stream_buf_t *hb_ws;  /* a ping frame */
    char read_buf[WORKER_READ_BUF];
    stream_worker_stats_t stats;
};

/* ---- shared buffers ---- */

stream_buf_t *stream_buf_new(const void *p, size_t n)
{
    stream_buf_t *b = kw_malloc(sizeof(*b) + n);
    atomic_init(&b->refs, 1);
    b->len = n;
    if (n) memcpy(b->data, p, n);
    return b;
}

stream_buf_t *stream_buf_ref(stream_buf_t *b)
{
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    return b;
}

void stream_buf_unref(stream_buf_t *b)
{
    if (b && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) free(b);
}

void stream_wmsg_free(stream_wmsg_t *m)
{
    if (m == NULL) return;
    stream_buf_unref(m->buf);
    stream_buf_unref(m->sse);
    stream_buf_unref(m->ws);
    free(m->conns);
    free(m->labels);
    /* An event never delivered (the worker stopped first) is not counted. */
    if (m->tally && atomic_fetch_sub_explicit(&m->tally->refs, 1, memory_order_acq_rel) == 1)
        free(m->tally);
    free(m);
}

const stream_worker_stats_t *stream_worker_stats(const stream_worker_t *w)
{
    return &w->stats;
}

/* ---- connections ---- */

static void conn_on_close(uv_handle_t *h)
{
    wconn_t *c = h->data;
    stream_worker_t *w = c->w;
    if (c->id < w->conns_cap && w->conns[c->id] == c) w->conns[c->id] = NULL;
    w->nconns--;
    atomic_fetch_sub(&w->stats.connections, 1);
    stream_ws_free(c->ws);
    free(c);
}

/* Closes c and tells the hub (which frees the id for reuse). */
static void conn_close(wconn_t *c)
{
    if (c->closing) return;
    c->closing = 1;
    if (c->cut) atomic_fetch_add(&c->w->stats.drops, 1);
    stream_hmsg_t *m = kw_calloc(1, sizeof(*m));
    m->kind = HMSG_CLOSED;
    m->conn = c->id;
    m->dropped = c->cut;
    stream_hub__post(c->w->hub, m);
    uv_close((uv_handle_t *)&c->tcp, conn_on_close);
}

static void on_written(uv_write_t *req, int status)
{
    wwrite_t *wr = (wwrite_t *)req;
    wconn_t *c = wr->c;
    c->queued -= wr->len;
    atomic_fetch_sub(&c->w->stats.queue_bytes, wr->len);
    stream_buf_unref(wr->buf);
    free(wr);
    if (c->closing) return;
    if (status < 0 || (c->close_after && c->queued == 0)) conn_close(c);
}

/* Writes buf to c unless that would pass the queue bound, in which case c
 * is marked to be cut off (closed by the caller after its loop). */
static int conn_write(wconn_t *c, stream_buf_t *buf, int counted)
{
    stream_worker_t *w = c->w;
    if (c->closing || c->cut) return KW_ERROR;
    if (c->queued + buf->len > w->cfg.max_queue_bytes) {
        c->cut = 1;
        return KW_AGAIN;
    }
    if (counted) atomic_fetch_add(&w->stats.deliveries, 1);
    atomic_fetch_add(&w->stats.bytes, buf->len);

    /* With nothing queued, write straight away: most events fit in the
     * socket buffer, and a completed uv_write would cost an allocation, a
     * deferred callback and an epoll_ctl per delivery. Only the unsent
     * tail is queued. */
    size_t off = 0;
    if (c->queued == 0) {
        uv_buf_t now = uv_buf_init(buf->data, (unsigned)buf->len);
        int n = uv_try_write((uv_stream_t *)&c->tcp, &now, 1);
        if (n == (int)buf->len) return KW_OK;
        if (n > 0) off = (size_t)n;
        else if (n != UV_EAGAIN && n != UV_ENOSYS) {
            conn_close(c);
            return KW_ERROR;
        }
    }
    size_t len = buf->len - off;
    wwrite_t *wr = kw_malloc(sizeof(*wr));
    wr->c = c;
    wr->buf = stream_buf_ref(buf);
    wr->len = len;
    c->queued += len;
    atomic_fetch_add(&w->stats.queue_bytes, len);
    if (c->queued > atomic_load(&w->stats.queue_max)) atomic_store(&w->stats.queue_max, c->queued);
    uv_buf_t b = uv_buf_init(buf->data + off, (unsigned)len);
    if (uv_write(&wr->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
        c->queued -= len;
        atomic_fetch_sub(&w->stats.queue_bytes, len);
        stream_buf_unref(wr->buf);
        free(wr);
        conn_close(c);
        return KW_ERROR;
    }
    return KW_OK;
}

static void send_frame(wconn_t *c, char *frame, size_t len)
{
    stream_buf_t *b = stream_buf_new(frame, len);
    free(frame);
    conn_write(c, b, 0);
    stream_buf_unref(b);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    wconn_t *c = h->data;
    buf->base = c->w->read_buf;
    buf->len = sizeof(c->w->read_buf);
}

/* SSE clients send nothing after their request: reading only notices them
 * leave. WebSocket clients send frames: pings, filter changes, close. */
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    wconn_t *c = s->data;
    if (nread == 0 || c->closing) return;
    if (nread < 0) {
        conn_close(c);
        return;
    }
    if (c->proto != STREAM_WS) return;
    size_t off = 0;
    while (off < (size_t)nread && !c->closing) {
        size_t used = 0, mlen = 0;
        char *msg = NULL;
        stream_ws_result_t r =
            stream_ws_feed(c->ws, buf->base + off, (size_t)nread - off, &used, &msg, &mlen);
        off += used;
        switch (r) {
        case WS_NEED_MORE:
            break;
        case WS_TEXT: {
            stream_hmsg_t *m = kw_calloc(1, sizeof(*m));
            m->kind = HMSG_WS_TEXT;
            m->conn = c->id;
            m->text = msg;
            m->len = mlen;
            stream_hub__post(c->w->hub, m);
            msg = NULL;
            break;
        }
        case WS_PING:
            send_frame(c, msg, mlen);
            msg = NULL;
            break;
        case WS_CLOSE:
        case WS_ERROR:
            send_frame(c, msg, mlen);
            msg = NULL;
            uv_read_stop(s);
            c->close_after = 1;
            if (c->queued == 0) conn_close(c);
            off = (size_t)nread;
            break;
        }
        free(msg);
        if (r == WS_NEED_MORE && used == 0) break;
    }
}

static void adopt(stream_worker_t *w, stream_wmsg_t *m)
{
    wconn_t *c = kw_calloc(1, sizeof(*c));
    c->w = w;
    c->id = m->conn;
    c->proto = m->proto;
    uv_tcp_init(&w->loop, &c->tcp);
    c->tcp.data = c;
    w->nconns++;
    atomic_fetch_add(&w->stats.connections, 1);
    atomic_fetch_add(&w->stats.accepted, 1);
    if (c->id >= w->conns_cap) {
        size_t cap = w->conns_cap ? w->conns_cap : 1024;
        while (cap <= c->id) cap *= 2;
        w->conns = kw_realloc(w->conns, cap * sizeof(*w->conns));
        memset(w->conns + w->conns_cap, 0, (cap - w->conns_cap) * sizeof(*w->conns));
        w->conns_cap = cap;
    }
    w->conns[c->id] = c;
    if (uv_tcp_open(&c->tcp, m->fd) != 0) {
        close(m->fd);
        conn_close(c);
        return;
    }
    int sndbuf = WORKER_SNDBUF;
    setsockopt(m->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    uv_tcp_nodelay(&c->tcp, 1);
    if (c->proto == STREAM_WS) c->ws = stream_ws_new(w->cfg.ws_max_message);
    if (w->stopping) {
        conn_close(c);
        return;
    }
    if (m->buf) conn_write(c, m->buf, 0);
    if (c->cut) {
        conn_close(c);
        return;
    }
    if (m->close_after) {
        c->close_after = 1;
        if (c->queued == 0) conn_close(c);
        return;
    }
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static wconn_t *conn_get(stream_worker_t *w, uint32_t id)
{
    return id < w->conns_cap ? w->conns[id] : NULL;
}

static void deliver(stream_worker_t *w, stream_wmsg_t *m)
{
    /* Write to all first; close the ones cut off afterwards, so closing
     * never happens inside the loop over subscribers. */
    size_t ncut = 0;
    for (size_t i = 0; i < m->nconns; i++) {
        wconn_t *c = conn_get(w, m->conns[i]);
        int rc = c == NULL || c->closing ? KW_ERROR
                                         : conn_write(c, c->proto == STREAM_WS ? m->ws : m->sse, 1);
        if (rc == KW_AGAIN) ncut++;
        if (m->tally) {
            stream_tally_group_t *g = &m->tally->groups[m->labels[i]];
            atomic_fetch_add_explicit(rc == KW_OK ? &g->delivered : &g->failed, 1,
                                      memory_order_relaxed);
        }
    }
    if (m->tally) {
        stream_hub__tally_done(w->hub, m->tally);
        m->tally = NULL;
    }
    if (ncut == 0) return;
    for (size_t i = 0; i < m->nconns; i++) {
        wconn_t *c = conn_get(w, m->conns[i]);
        if (c && c->cut && !c->closing) conn_close(c);
    }
}

static void close_all(stream_worker_t *w)
{
    for (size_t i = 0; i < w->conns_cap; i++)
        if (w->conns[i] && !w->conns[i]->closing) conn_close(w->conns[i]);
}

static void on_heartbeat(uv_timer_t *t)
{
    stream_worker_t *w = t->data;
    for (size_t i = 0; i < w->conns_cap; i++) {
        wconn_t *c = w->conns[i];
        if (c == NULL || c->closing) continue;
        if (conn_write(c, c->proto == STREAM_WS ? w->hb_ws : w->hb_sse, 0) == KW_AGAIN)
            conn_close(c);
    }
}

static void on_async(uv_async_t *h)
{
    stream_worker_t *w = h->data;
    pthread_mutex_lock(&w->lock);
    stream_wmsg_t *m = w->head;
    w->head = w->tail = NULL;
    pthread_mutex_unlock(&w->lock);
    while (m) {
        stream_wmsg_t *next = m->next;
        wconn_t *c;
        switch (m->kind) {
        case WMSG_ADOPT:
            adopt(w, m);
            break;
        case WMSG_EVENT:
            deliver(w, m);
            break;
        case WMSG_SEND:
            if ((c = conn_get(w, m->conn)) != NULL && conn_write(c, m->buf, 0) == KW_AGAIN)
                conn_close(c);
            break;
        case WMSG_CLOSE:
            if ((c = conn_get(w, m->conn)) != NULL && !c->closing) {
                c->close_after = 1;
                if (c->queued == 0) conn_close(c);
            }
            break;
        case WMSG_STOP:
            w->stopping = 1;
            close_all(w);
            uv_timer_stop(&w->heartbeat);
            uv_close((uv_handle_t *)&w->heartbeat, NULL);
            uv_close((uv_handle_t *)&w->async, NULL);
            break;
        }
        stream_wmsg_free(m);
        m = next;
    }
}

static void worker_main(void *arg)
{
    stream_worker_t *w = arg;
    uv_run(&w->loop, UV_RUN_DEFAULT);
}

stream_worker_t *stream_worker_start(stream_hub_t *hub, unsigned index, const stream_config_t *cfg)
{
    stream_worker_t *w = kw_calloc(1, sizeof(*w));
    w->hub = hub;
    w->index = index;
    w->cfg = *cfg;
    pthread_mutex_init(&w->lock, NULL);
    uv_loop_init(&w->loop);
    uv_async_init(&w->loop, &w->async, on_async);
    w->async.data = w;
    uv_timer_init(&w->loop, &w->heartbeat);
    w->heartbeat.data = w;
    uv_timer_start(&w->heartbeat, on_heartbeat, cfg->heartbeat_ms, cfg->heartbeat_ms);
    w->hb_sse = stream_buf_new(":\n\n", 3);
    size_t flen;
    char *ping = stream_ws_frame(0x9, "", 0, &flen);
    w->hb_ws = stream_buf_new(ping, flen);
    free(ping);
    if (uv_thread_create(&w->thread, worker_main, w) != 0) {
        fprintf(stderr, "kawat: cannot start stream worker %u\n", index);
        uv_close((uv_handle_t *)&w->async, NULL);
        uv_close((uv_handle_t *)&w->heartbeat, NULL);
        uv_run(&w->loop, UV_RUN_DEFAULT);
        uv_loop_close(&w->loop);
        stream_buf_unref(w->hb_sse);
        stream_buf_unref(w->hb_ws);
        free(w);
        return NULL;
    }
    return w;
}

void stream_worker_post(stream_worker_t *w, stream_wmsg_t *m)
{
    m->next = NULL;
    pthread_mutex_lock(&w->lock);
    if (w->tail)
        w->tail->next = m;
    else
        w->head = m;
    w->tail = m;
    pthread_mutex_unlock(&w->lock);
    uv_async_send(&w->async);
}

void stream_worker_join(stream_worker_t *w)
{
    uv_thread_join(&w->thread);
    /* Messages that came after the stop: nothing to deliver them to. */
    stream_wmsg_t *m = w->head;
    while (m) {
        stream_wmsg_t *next = m->next;
        if (m->kind == WMSG_ADOPT) close(m->fd);
        stream_wmsg_free(m);
        m = next;
    }
    uv_loop_close(&w->loop);
    pthread_mutex_destroy(&w->lock);
    stream_buf_unref(w->hb_sse);
    stream_buf_unref(w->hb_ws);
    free(w->conns);
    free(w);
}
