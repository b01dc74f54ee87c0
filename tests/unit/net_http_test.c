/* net_http_test.c -- unit tests for the HTTP/1.1 server (src/net/net_http.c).
 *
 * Each test starts a server on 127.0.0.1:0 whose libuv loop runs in a
 * background thread, and talks to it with plain blocking sockets from the
 * test thread.  The handler echoes the request as JSON-ish text; the path
 * "/defer" parks the request and answers it from a uv_timer 50 ms later.
 * Teardown stops the server, waits for it to drain and checks that the loop
 * closes with no handle left (leaks are LSan's job). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net/net_http.h"

/* ---- the server under test ------------------------------------------------ */

typedef struct {
    uv_loop_t loop;
    uv_async_t wake;
    net_server_t *server;
    pthread_t thread;
    int port;
    int stopped;
    FILE *log;
    atomic_int stop_requested;
    atomic_int drained;
    atomic_int deferred_done;
    atomic_int last_alive; /* net_request_alive() seen by the last deferred answer */
} harness_t;

typedef struct {
    uv_timer_t timer;
    net_request_t *req;
    harness_t *h;
} deferred_t;

static void deferred_on_close(uv_handle_t *t)
{
    free(t->data);
}

static void deferred_fire(uv_timer_t *t)
{
    deferred_t *d = t->data;
    atomic_store(&d->h->last_alive, net_request_alive(d->req));
    net_respond(d->req, 200, "text/plain", NULL, "deferred", 8);
    atomic_fetch_add(&d->h->deferred_done, 1);
    uv_close((uv_handle_t *)&d->timer, deferred_on_close);
}

static void test_handler(net_request_t *req, void *data)
{
    harness_t *h = data;
    if (kw_str_eq(req->path, "/defer")) {
        deferred_t *d = calloc(1, sizeof *d);
        d->req = req;
        d->h = h;
        uv_timer_init(&h->loop, &d->timer);
        d->timer.data = d;
        uv_timer_start(&d->timer, deferred_fire, 50, 0);
        return;
    }
    if (kw_str_eq(req->path, "/empty")) {
        net_respond(req, 204, NULL, NULL, "ignored", 7);
        return;
    }
    kw_buf_t b = {0};
    kw_buf_printf(&b,
                  "{\"method\":\"%.*s\",\"path\":\"%.*s\",\"query\":\"%.*s\",\"remote\":\"%s\","
                  "\"body\":\"%.*s\"}",
                  (int)req->method_name.len, req->method_name.data, (int)req->path.len,
                  req->path.data, (int)req->query.len, req->query.data, req->remote_addr,
                  (int)req->body.len, req->body.data);
    net_respond(req, 200, "application/json", "X-Test: 1\r\n", b.data, b.len);
    kw_buf_free(&b);
}

static void harness_on_drained(void *arg)
{
    harness_t *h = arg;
    atomic_store(&h->drained, 1);
    uv_close((uv_handle_t *)&h->wake, NULL);
}

static void harness_on_wake(uv_async_t *a)
{
    harness_t *h = a->data;
    if (atomic_load(&h->stop_requested) == 1) {
        atomic_store(&h->stop_requested, 2);
        net_server_stop(h->server, harness_on_drained, h);
    }
}

static void *harness_run(void *arg)
{
    harness_t *h = arg;
    uv_run(&h->loop, UV_RUN_DEFAULT);
    return NULL;
}

static harness_t *harness_start(const char *listen, size_t max_connections)
{
    harness_t *h = calloc(1, sizeof *h);
    net_config_t cfg;
    net_config_defaults(&cfg);
    cfg.listen = listen;
    cfg.max_header_bytes = 1024;
    cfg.max_headers = 10;
    cfg.max_body_bytes = 1000;
    cfg.header_timeout_ms = 300;
    cfg.body_timeout_ms = 300;
    cfg.idle_timeout_ms = 300;
    cfg.max_connections = max_connections;
    cfg.trust_proxy = 1;
    h->log = tmpfile();
    cfg.access_log = h->log;
    atomic_store(&h->last_alive, -1);
    assert_int_equal(uv_loop_init(&h->loop), 0);
    assert_int_equal(uv_async_init(&h->loop, &h->wake, harness_on_wake), 0);
    h->wake.data = h;
    assert_int_equal(net_server_start(&h->loop, &cfg, test_handler, h, &h->server), KW_OK);
    h->port = net_server_port(h->server);
    assert_true(h->port > 0);
    assert_int_equal(pthread_create(&h->thread, NULL, harness_run, h), 0);
    return h;
}

/* Asks the loop to stop the server without waiting. */
static void harness_request_stop(harness_t *h)
{
    atomic_store(&h->stop_requested, 1);
    uv_async_send(&h->wake);
}

/* Stops the server, waits for the drain and the loop thread. */
static void harness_stop(harness_t *h)
{
    if (h->stopped) return;
    if (atomic_load(&h->stop_requested) == 0) harness_request_stop(h);
    pthread_join(h->thread, NULL);
    h->stopped = 1;
    assert_int_equal(atomic_load(&h->drained), 1);
}

static int setup(void **state)
{
    *state = harness_start("127.0.0.1:0", 10000);
    return 0;
}

static int setup_two_conns(void **state)
{
    *state = harness_start("127.0.0.1:0", 2);
    return 0;
}

static int setup_ipv6(void **state)
{
    *state = harness_start("[::1]:0", 10000);
    return 0;
}

static int teardown(void **state)
{
    harness_t *h = *state;
    harness_stop(h);
    net_server_free(h->server);
    assert_int_equal(uv_loop_close(&h->loop), 0);
    fclose(h->log);
    free(h);
    return 0;
}

/* ---- a blocking test client ------------------------------------------------ */

typedef struct {
    int fd;
    char buf[65536];
    size_t len;
} client_t;

typedef struct {
    int status;
    char head[4096];
    char body[8192];
    size_t body_len;
    long content_length; /* -1 if absent */
} resp_t;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int cl_try_open_af(client_t *c, int family, int port)
{
    struct sockaddr_storage ss = {0};
    socklen_t len;
    struct timeval tv = {2, 0};
    int one = 1;
    if (family == AF_INET6) {
        struct sockaddr_in6 *sa = (struct sockaddr_in6 *)&ss;
        sa->sin6_family = AF_INET6;
        sa->sin6_port = htons((uint16_t)port);
        sa->sin6_addr = in6addr_loopback;
        len = sizeof *sa;
    } else {
        struct sockaddr_in *sa = (struct sockaddr_in *)&ss;
        sa->sin_family = AF_INET;
        sa->sin_port = htons((uint16_t)port);
        sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *sa;
    }
    c->len = 0;
    c->fd = socket(family, SOCK_STREAM, 0);
    assert_true(c->fd >= 0);
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&ss, len) != 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

static int cl_try_open(client_t *c, int port)
{
    return cl_try_open_af(c, AF_INET, port);
}

static void cl_open(client_t *c, int port)
{
    assert_int_equal(cl_try_open(c, port), 0);
}

static void cl_close(client_t *c)
{
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
}

static void cl_send(client_t *c, const void *data, size_t n)
{
    const char *p = data;
    while (n > 0) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return; /* the server may have closed on us: reads will tell */
        p += w;
        n -= (size_t)w;
    }
}

static void cl_sends(client_t *c, const char *z)
{
    cl_send(c, z, strlen(z));
}

/* Reads more into c->buf; returns bytes read, 0 on EOF, -1 on error/timeout. */
static ssize_t cl_fill(client_t *c)
{
    if (c->len == sizeof c->buf) return -1;
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (n > 0) c->len += (size_t)n;
    return n < 0 ? -1 : n;
}

static const char *resp_header(const resp_t *r, const char *name)
{
    size_t n = strlen(name);
    const char *p = strstr(r->head, "\r\n");
    while (p && p[2] != '\0') {
        p += 2;
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            p += n + 1;
            while (*p == ' ')
                p++;
            return p;
        }
        p = strstr(p, "\r\n");
    }
    return NULL;
}

static int header_is(const resp_t *r, const char *name, const char *value)
{
    const char *v = resp_header(r, name);
    return v && strncmp(v, value, strlen(value)) == 0 && v[strlen(value)] == '\r';
}

/* Reads one response.  no_body: it answers a HEAD.  Returns the status, or
 * -1 if the connection ended or timed out first. */
static int cl_read_response(client_t *c, resp_t *r, int no_body)
{
    char *end;
    memset(r, 0, sizeof *r);
    for (;;) {
        end = c->len ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL;
        if (end) break;
        if (cl_fill(c) <= 0) return -1;
    }
    size_t head_len = (size_t)(end - c->buf) + 4;
    assert_true(head_len < sizeof r->head);
    memcpy(r->head, c->buf, head_len);
    r->head[head_len] = '\0';
    assert_int_equal(sscanf(r->head, "HTTP/1.1 %d ", &r->status), 1);
    const char *cl = resp_header(r, "content-length");
    r->content_length = cl ? atol(cl) : -1;
    size_t want = 0;
    if (!no_body && r->status >= 200 && r->status != 204 && r->status != 304 && cl)
        want = (size_t)r->content_length;
    assert_true(want < sizeof r->body);
    while (c->len < head_len + want)
        if (cl_fill(c) <= 0) return -1;
    memcpy(r->body, c->buf + head_len, want);
    r->body_len = want;
    memmove(c->buf, c->buf + head_len + want, c->len - head_len - want);
    c->len -= head_len + want;
    return r->status;
}

/* 1 if the server closes the connection (after any unread bytes), else 0. */
static int cl_wait_closed(client_t *c)
{
    char tmp[4096];
    for (;;) {
        ssize_t n = recv(c->fd, tmp, sizeof tmp, 0);
        if (n == 0) return 1;
        if (n < 0) return errno == ECONNRESET;
    }
}

static int body_has(const resp_t *r, const char *z)
{
    return memmem(r->body, r->body_len, z, strlen(z)) != NULL;
}

/* One request on a fresh connection; returns the status and closes. */
static int one_shot(harness_t *h, const char *raw, resp_t *r)
{
    client_t c;
    cl_open(&c, h->port);
    cl_sends(&c, raw);
    int st = cl_read_response(&c, r, 0);
    cl_close(&c);
    return st;
}

/* ---- tests ----------------------------------------------------------------- */

static void test_simple_get(void **state)
{
    harness_t *h = *state;
    client_t c;
    resp_t r;
    cl_open(&c, h->port);
    cl_sends(&c, "GET /hello?x=1&y=%20 HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(cl_read_response(&c, &r, 0), 200);
    assert_int_equal((long)r.body_len, r.content_length);
    assert_true(body_has(&r, "\"method\":\"GET\""));
    assert_true(body_has(&r, "\"path\":\"/hello\""));
    assert_true(body_has(&r, "\"query\":\"x=1&y=%20\""));
    assert_true(body_has(&r, "\"remote\":\"127.0.0.1\""));
    assert_true(header_is(&r, "content-type", "application/json"));
    assert_true(header_is(&r, "x-content-type-options", "nosniff"));
    assert_true(header_is(&r, "connection", "keep-alive"));
    assert_true(header_is(&r, "x-test", "1"));
    const char *date = resp_header(&r, "date");
    assert_non_null(date);
    assert_true(strncmp(date + 25, " GMT\r\n", 6) == 0); /* "Sun, 06 Nov 1994 08:49:37" */
    cl_close(&c);
}

static void test_keep_alive(void **state)
{
    harness_t *h = *state;
    client_t c;
    resp_t r;
    cl_open(&c, h->port);
    cl_sends(&c, "GET /one HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(cl_read_response(&c, &r, 0), 200);
    assert_true(body_has(&r, "\"path\":\"/one\""));
    cl_sends(&c, "GET /two HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(cl_read_response(&c, &r, 0), 200);
    assert_true(body_has(&r, "\"path\":\"/two\""));
    cl_close(&c);
}

static void test_pipelined(void **state)
{
    harness_t *h = *state;
    client_t c;
    resp_t r;
    cl_open(&c, h->port);
    cl_sends(&c, "GET /a HTTP/1.1\r\nHost: t\r\n\r\n"
                 "POST /b HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nxyz"
                 "\r\n" /* a stray CRLF between requests is tolerated */
                 "GET /c HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_int_equal(cl_read_response(&c, &r, 0), 200);
    assert_true(body_has(&r, "\"path\":\"/a\""));
    assert_int_equal(cl_read_response(&c, &r, 0), 200);
    assert_true(body_has(&r, "\"path\":\"/b\""));
    assert_true(body_has(&r, "\"body\":\"xyz\""));
    assert_int_equal(cl_read_response(&c, &r, 0), 200);
    assert_true(body_has(&r, "\"path\":\"/c\""));
    cl_close(&c);
}

static void test_post_body(void **state)
{
    harness_t *h = *state;
    resp_t r;
    assert_int_equal(one_shot(h,
                              "POST /p HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\n"
                              "hello world",
                              &r),
                     200);
    assert_true(body_has(&r, "\"method\":\"POST\""));
    assert_true(body_has(&r, "\"body\":\"hello world\""));
}

static void test_chunked_body(void **state)
{
    harness_t *h = *state;
    client_t c;
    resp_t r;
    cl_open(&c, h->port);
    cl_sends(&c, "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "5\r\nhello\r\n");
    sleep_ms(20); /* the body in two reads */
    cl_sends(&c, "6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
    assert_int_equal(cl_read_response(&c, &r, 0), 200);
    assert_true(body_has(&r, "\"body\":\"hello world\""));
    cl_close(&c);
}

static void expect_refusal(harness_t *h, const char *raw, size_t n, int status)
{
    client_t c;
    resp_t r;
    cl_open(&c, h->port);
    cl_send(&c, raw, n);
    assert_int_equal(cl_read_response(&c, &r, 0), status);
    assert_true(header_is(&r, "connection", "close"));
    assert_int_equal(cl_wait_closed(&c), 1);
    cl_close(&c);
}

static void expect_refusal_z(harness_t *h, const char *raw, int status)
{
    expect_refusal(h, raw, strlen(raw), status);
}

static void test_body_too_large(void **state)
{
    harness_t *h = *state;
    expect_refusal_z(h, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n", 413);
    /* A chunked body that grows past the limit, the excess already sent. */
    kw_buf_t b = {0};
    kw_buf_puts(&b, "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < 4; i++) {
        kw_buf_puts(&b, "12c\r\n"); /* 300 bytes each */
        for (int j = 0; j < 300; j++)
            kw_buf_putc(&b, 'a');
        kw_buf_puts(&b, "\r\n");
    }
    kw_buf_puts(&b, "0\r\n\r\n");
    expect_refusal(h, b.data, b.len, 413);
    kw_buf_free(&b);
    /* Exactly at the limit is fine. */
    kw_buf_t ok = {0};
    kw_buf_puts(&ok, "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n");
    for (int j = 0; j < 1000; j++)
        kw_buf_putc(&ok, 'b');
    client_t c;
    resp_t r;
    cl_open(&c, h->port);
    cl_send(&c, ok.data, ok.len);
    assert_int_equal(cl_read_response(&c, &r, 0), 200);
    cl_close(&c);
    kw_buf_free(&ok);
}

static void test_header_too_large(void **state)
{
    harness_t *h = *state;
    kw_buf_t b = {0};
    kw_buf_puts(&b, "GET / HTTP/1.1\r\nHost: t\r\nX-Big: ");
    for (int i = 0; i < 2000; i++)
        kw_buf_putc(&b, 'a');
    kw_buf_puts(&b, "\r\n\r\n");
    expect_refusal(h, b.data, b.len, 431);
    kw_buf_reset(&b);
    kw_buf_puts(&b, "GET /");
    for (int i = 0; i < 2000; i++)
        kw_buf_putc(&b, 'u');
    kw_buf_puts(&b, " HTTP/1.1\r\n\r\n");
    expect_refusal(h, b.data, b.len, 431);
    kw_buf_free(&b);
}

static void test_too_many_headers(void **state)
{
    harness_t *h = *state;
    kw_buf_t b = {0};
    resp_t r;
    kw_buf_puts(&b, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 10; i++)
        kw_buf_printf(&b, "X-H%d: %d\r\n", i, i);
    kw_buf_puts(&b, "\r\n");
    assert_int_equal(one_shot(h, b.data, &r), 200); /* ten is the limit */
    kw_buf_reset(&b);
    kw_buf_puts(&b, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 11; i++)
        kw_buf_printf(&b, "X-H%d: %d\r\n", i, i);
    kw_buf_puts(&b, "\r\n");
    expect_refusal(h, b.data, b.len, 431);
    kw_buf_free(&b);
}

static void test_garbage(void **state)
{
    harness_t *h = *state;
    expect_refusal_z(h, "\x01\x02\x03 hello\r\n\r\n", 400);
    expect_refusal_z(h, "GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400);
    expect_refusal_z(h, "GET / HTTP/2.0\r\n\r\n", 400);
    expect_refusal_z(h, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nabc", 400);

    /* Random and mutated input must never crash the server. */
    static const char valid[] = "POST /x?y=1 HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n";
    unsigned seed = 12345;
    for (int i = 0; i < 150; i++) {
        char msg[sizeof valid];
        size_t n = sizeof valid - 1;
        memcpy(msg, valid, n);
        if (i % 2) {
            for (size_t j = 0; j < n; j++)
                msg[j] = (char)(rand_r(&seed) & 0xff);
        } else {
            for (int k = 0; k < 4; k++)
                msg[rand_r(&seed) % n] = (char)(rand_r(&seed) & 0xff);
        }
        client_t c;
        cl_open(&c, h->port);
        cl_send(&c, msg, (size_t)(rand_r(&seed) % n) + 1);
        cl_close(&c);
    }
    resp_t r;
    assert_int_equal(one_shot(h, "GET /alive HTTP/1.1\r\n\r\n", &r), 200);
}

static void test_cl_and_te(void **state)
{
    harness_t *h = *state;
    expect_refusal_z(h,
                     "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                     400);
    expect_refusal_z(h,
                     "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                     "Content-Length: 4\r\n\r\n0\r\n\r\n",
                     400);
    expect_refusal_z(h, "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400);
}

static void test_bad_path(void **state)
{
    harness_t *h = *state;
    resp_t r;
    expect_refusal_z(h, "GET /a%00b HTTP/1.1\r\n\r\n", 400);
    expect_refusal_z(h, "GET /a%zzb HTTP/1.1\r\n\r\n", 400);
    expect_refusal_z(h, "GET /a%4 HTTP/1.1\r\n\r\n", 400);
    expect_refusal_z(h, "GET /a%ff HTTP/1.1\r\n\r\n", 400);    /* not UTF-8 */
    expect_refusal_z(h, "GET /a%C0%AF HTTP/1.1\r\n\r\n", 400); /* overlong '/' */
    assert_int_equal(one_shot(h, "GET /caf%C3%A9%20x?q=%00 HTTP/1.1\r\n\r\n", &r), 200);
    assert_true(body_has(&r, "\"path\":\"/caf\xc3\xa9 x\""));
    assert_true(body_has(&r, "\"query\":\"q=%00\"")); /* the query stays raw */
    assert_int_equal(one_shot(h, "GET http://example.com/abs?k=v HTTP/1.1\r\n\r\n", &r), 200);
    assert_true(body_has(&r, "\"path\":\"/abs\""));
    assert_true(body_has(&r, "\"query\":\"k=v\""));
}

static void test_slow_head(void **state)
{
    harness_t *h = *state;
    client_t c;
    resp_t r;
    cl_open(&c, h->port);
    int64_t t0 = now_ms();
    cl_sends(&c, "GET /slo");
    sleep_ms(100);
    cl_sends(&c, "w HTTP/1.1\r\n"); /* dribbling does not extend the deadline */
    sleep_ms(100);
    cl_sends(&c, "Host: t\r\n");
    assert_int_equal(cl_read_response(&c, &r, 0), 408);
    int64_t took = now_ms() - t0;
    assert_true(took >= 280 && took < 1500);
    assert_int_equal(cl_wait_closed(&c), 1);
    cl_close(&c);

    /* A body that stalls. */
    cl_open(&c, h->port);
    t0 = now_ms();
    cl_sends(&c, "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
    assert_int_equal(cl_read_response(&c, &r, 0), 408);
    took = now_ms() - t0;
    assert_true(took >= 280 && took < 1500);
    cl_close(&c);

    harness_stop(h);
    const net_stats_t *st = net_server_stats(h->server);
    assert_true(st->timeouts >= 2);
    assert_true(st->rejected_limits >= 2);
    assert_int_equal(st->connections_open, 0);
}

static void test_idle_close(void **state)
{
    harness_t *h = *state;
    client_t c;
    resp_t r;
    cl_open(&c, h->port);
    cl_sends(&c, "GET / HTTP/1.1\r\n\r\n");
    assert_int_equal(cl_read_response(&c, &r, 0), 200);
    int64_t t0 = now_ms();
    assert_int_equal(cl_wait_closed(&c), 1);
    int64_t took = now_ms() - t0;
    assert_true(took >= 250 && took < 1500);
    cl_close(&c);
}

static void test_head_no_body(void **state)
{
    harness_t *h = *state;
    client_t c;
    resp_t r;
    cl_open(&c, h->port);
    cl_sends(&c, "HEAD /x HTTP/1.1\r\n\r\nGET /y HTTP/1.1\r\n\r\nGET /empty HTTP/1.1\r\n\r\n");
    assert_int_equal(cl_read_response(&c, &r, 1), 200);
    assert_true(r.content_length > 0);
    assert_int_equal(cl_read_response(&c, &r, 0), 200); /* would fail on stray body bytes */
    assert_true(body_has(&r, "\"path\":\"/y\""));
    assert_int_equal(cl_read_response(&c, &r, 0), 204);
    assert_null(resp_header(&r, "content-length"));
    cl_sends(&c, "GET /z HTTP/1.1\r\n\r\n");
    assert_int_equal(cl_read_response(&c, &r, 0), 200);
    assert_true(body_has(&r, "\"path\":\"/z\""));
    cl_close(&c);
}

static void test_deferred(void **state)
{
    harness_t *h = *state;
    client_t c;
    resp_t r;
    cl_open(&c, h->port);
    int64_t t0 = now_ms();
    /* The second request waits for the deferred first (the in-flight rule). */
    cl_sends(&c, "GET /defer HTTP/1.1\r\n\r\nGET /after HTTP/1.1\r\n\r\n");
    assert_int_equal(cl_read_response(&c, &r, 0), 200);
    assert_true(now_ms() - t0 >= 45);
    assert_int_equal(r.body_len, 8);
    assert_memory_equal(r.body, "deferred", 8);
    assert_int_equal(cl_read_response(&c, &r, 0), 200);
    assert_true(body_has(&r, "\"path\":\"/after\""));
    cl_close(&c);
    assert_int_equal(atomic_load(&h->last_alive), 1);
}

static void test_deferred_client_gone(void **state)
{
    harness_t *h = *state;
    client_t c;
    resp_t r;
    cl_open(&c, h->port);
    cl_sends(&c, "GET /defer HTTP/1.1\r\n\r\n");
    cl_close(&c);
    for (int i = 0; i < 100 && atomic_load(&h->deferred_done) == 0; i++)
        sleep_ms(10);
    assert_int_equal(atomic_load(&h->deferred_done), 1);
    assert_int_equal(atomic_load(&h->last_alive), 0);
    assert_int_equal(one_shot(h, "GET /still HTTP/1.1\r\n\r\n", &r), 200);
    harness_stop(h);
    assert_int_equal(net_server_stats(h->server)->connections_open, 0);
}

static void test_stop_with_inflight(void **state)
{
    harness_t *h = *state;
    client_t busy, idle, late;
    resp_t r;
    cl_open(&idle, h->port);
    cl_sends(&idle, "GET / HTTP/1.1\r\n\r\n");
    assert_int_equal(cl_read_response(&idle, &r, 0), 200);
    cl_open(&busy, h->port);
    cl_sends(&busy, "GET /defer HTTP/1.1\r\n\r\n");
    sleep_ms(15); /* let it be dispatched and parked */

    int64_t t0 = now_ms();
    harness_request_stop(h);
    assert_int_equal(cl_wait_closed(&idle), 1); /* idle: closed at once */
    assert_true(now_ms() - t0 < 200);
    cl_close(&idle);

    assert_int_equal(cl_read_response(&busy, &r, 0), 200); /* in flight: finishes */
    assert_memory_equal(r.body, "deferred", 8);
    assert_true(header_is(&r, "connection", "close"));
    assert_int_equal(cl_wait_closed(&busy), 1);
    cl_close(&busy);

    harness_stop(h);
    assert_int_equal(cl_try_open(&late, h->port), -1); /* the listener is gone */
    const net_stats_t *st = net_server_stats(h->server);
    assert_int_equal(st->connections_open, 0);
    assert_int_equal(st->connections_total, 2);
    assert_int_equal(st->requests_total, 2);
    assert_int_equal(st->responses_by_class[2], 2);
    assert_true(st->bytes_in > 0 && st->bytes_out > 0);
}

static void test_expect_continue(void **state)
{
    harness_t *h = *state;
    client_t c;
    resp_t r;
    cl_open(&c, h->port);
    cl_sends(&c, "PUT /e HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    assert_int_equal(cl_read_response(&c, &r, 0), 100);
    cl_sends(&c, "12345");
    assert_int_equal(cl_read_response(&c, &r, 0), 200);
    assert_true(body_has(&r, "\"body\":\"12345\""));
    cl_close(&c);
    /* Refused before the body is sent: no 100. */
    expect_refusal_z(h, "PUT /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n",
                     413);
}

static void test_http10(void **state)
{
    harness_t *h = *state;
    client_t c;
    resp_t r;
    cl_open(&c, h->port);
    cl_sends(&c, "GET /old HTTP/1.0\r\n\r\n");
    assert_int_equal(cl_read_response(&c, &r, 0), 200);
    assert_true(header_is(&r, "connection", "close"));
    assert_int_equal(cl_wait_closed(&c), 1);
    cl_close(&c);

    cl_open(&c, h->port);
    cl_sends(&c, "GET /ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_int_equal(cl_read_response(&c, &r, 0), 200);
    assert_true(header_is(&r, "connection", "keep-alive"));
    cl_sends(&c, "GET /ka2 HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert_int_equal(cl_read_response(&c, &r, 0), 200);
    assert_true(header_is(&r, "connection", "close"));
    assert_int_equal(cl_wait_closed(&c), 1);
    cl_close(&c);
}

static void test_forwarded_for(void **state)
{
    harness_t *h = *state;
    resp_t r;
    /* With trust_proxy the entry our proxy appended (the last) counts. */
    assert_int_equal(
        one_shot(h, "GET / HTTP/1.1\r\nX-Forwarded-For: 198.51.100.1, 203.0.113.7 \r\n\r\n", &r),
        200);
    assert_true(body_has(&r, "\"remote\":\"203.0.113.7\""));
    assert_int_equal(one_shot(h, "GET / HTTP/1.1\r\nX-Forwarded-For: 2001:db8::1\r\n\r\n", &r),
                     200);
    assert_true(body_has(&r, "\"remote\":\"2001:db8::1\""));
    assert_int_equal(one_shot(h, "GET / HTTP/1.1\r\nX-Forwarded-For: not-an-ip\r\n\r\n", &r), 200);
    assert_true(body_has(&r, "\"remote\":\"127.0.0.1\""));
}

static void test_access_log(void **state)
{
    harness_t *h = *state;
    resp_t r;
    assert_int_equal(one_shot(h, "GET /logged?a=\"b HTTP/1.1\r\n\r\n", &r), 200);
    harness_stop(h);
    char line[512];
    rewind(h->log);
    assert_non_null(fgets(line, sizeof line, h->log));
    int day, year, hh, mm, ss, status;
    char mon[4], req[128];
    unsigned long bytes;
    long dur;
    assert_int_equal(sscanf(line,
                            "127.0.0.1 - - [%d/%3s/%d:%d:%d:%d +0000] \"%127[^\"]\" %d %lu %ld",
                            &day, mon, &year, &hh, &mm, &ss, req, &status, &bytes, &dur),
                     10);
    assert_string_equal(req, "GET /logged?a=\\x22b HTTP/1.1");
    assert_int_equal(status, 200);
    assert_int_equal(bytes, r.body_len);
    assert_true(dur >= 0 && dur < 1000);
}

static void test_max_connections(void **state)
{
    harness_t *h = *state;
    client_t a, b, c;
    resp_t r;
    cl_open(&a, h->port);
    cl_open(&b, h->port);
    cl_sends(&a, "GET / HTTP/1.1\r\n\r\n");
    assert_int_equal(cl_read_response(&a, &r, 0), 200);
    cl_sends(&b, "GET / HTTP/1.1\r\n\r\n");
    assert_int_equal(cl_read_response(&b, &r, 0), 200);
    cl_open(&c, h->port); /* the kernel completes it; the server closes it */
    assert_int_equal(cl_wait_closed(&c), 1);
    cl_close(&c);
    cl_close(&a);
    cl_close(&b);
}

/* Every split of a request across two reads parses the same. */
static void test_split_anywhere(void **state)
{
    harness_t *h = *state;
    static const char req[] = "POST /split?q=1 HTTP/1.1\r\nHost: example\r\nX-Long-Name: "
                              "some value\r\nContent-Length: 5\r\n\r\nhello";
    client_t c;
    resp_t r;
    cl_open(&c, h->port);
    for (size_t i = 1; i < sizeof req - 1; i++) {
        cl_send(&c, req, i);
        sleep_ms(1);
        cl_send(&c, req + i, sizeof req - 1 - i);
        assert_int_equal(cl_read_response(&c, &r, 0), 200);
        assert_true(body_has(&r, "\"path\":\"/split\",\"query\":\"q=1\""));
        assert_true(body_has(&r, "\"body\":\"hello\""));
    }
    cl_close(&c);
}

static void test_ipv6(void **state)
{
    harness_t *h = *state;
    client_t c;
    resp_t r;
    assert_int_equal(cl_try_open_af(&c, AF_INET6, h->port), 0);
    cl_sends(&c, "GET /six HTTP/1.1\r\n\r\n");
    assert_int_equal(cl_read_response(&c, &r, 0), 200);
    assert_true(body_has(&r, "\"remote\":\"::1\""));
    cl_close(&c);
}

static void test_bad_listen(void **state)
{
    static const char *bad[] = {
        "nonsense",  "127.0.0.1",       "127.0.0.1:", "127.0.0.1:99999", "[::1]",
        "[::1]8080", "host.invalid:80", ":80",        "1.2.3.4:80x"};
    uv_loop_t loop;
    net_config_t cfg;
    net_server_t *s = (net_server_t *)&loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    net_config_defaults(&cfg);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cfg.listen = bad[i];
        assert_int_equal(net_server_start(&loop, &cfg, test_handler, NULL, &s), KW_ERROR);
        assert_null(s);
    }
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_simple_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipelined, setup, teardown),
        cmocka_unit_test_setup_teardown(test_post_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunked_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_many_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cl_and_te, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_no_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_client_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_with_inflight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expect_continue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http10, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forwarded_for, setup, teardown),
        cmocka_unit_test_setup_teardown(test_access_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_connections, setup_two_conns, teardown),
        cmocka_unit_test_setup_teardown(test_split_anywhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6, setup_ipv6, teardown),
        cmocka_unit_test(test_bad_listen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
