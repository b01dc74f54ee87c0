/* bench_submit.c -- load generator for durable submissions: N keep-alive
 * connections each POST /v1/releases as an issuer and send the next request
 * the moment the previous answer arrives (closed loop). Prints one line of
 * figures: requests, seconds, req/s, p50/p99 latency, errors.
 *
 * Built by bench/run.sh with `cc -O2`; plain sockets and epoll, no libraries.
 *
 *   bench_submit [-a 127.0.0.1:8080] [-c CONNS] (-n COUNT | -d SECONDS)
 *   token from $KAWAT_TOKEN (kept out of argv, so out of `ps`).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REQ_MAX 4096
#define RESP_MAX 65536
#define GRACE_SECONDS 30.0 /* in-flight requests after a timed run may take this long */

typedef enum { CONN_IDLE, CONN_CONNECTING, CONN_SENDING, CONN_READING } conn_state_t;

typedef struct {
    int fd;
    int index;
    conn_state_t state;
    unsigned long sent;   /* requests this connection has begun */
    char out[REQ_MAX];
    size_t out_len, out_off;
    char in[RESP_MAX];
    size_t in_len;
    double started;       /* when the current request's first byte was queued */
    double retry_at;      /* after a failed connect: not before this */
} conn_t;

static struct sockaddr_in target;
static const char *token;
static int epfd;
static unsigned long issued, done_ok, done_err, connect_failures;
static unsigned long target_count; /* 0: timed run */
static double deadline;
static double *lat_ms;
static size_t lat_len, lat_cap;
static int first_error_shown;
static double last_done; /* when the latest answer or failure came */
static int refused;      /* 401/403: the token is wrong, stop issuing */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
    fprintf(stderr, "usage: KAWAT_TOKEN=... bench_submit [-a HOST:PORT] [-c CONNS] "
                    "(-n COUNT | -d SECONDS)\n");
    exit(2);
}

static void record_latency(double ms)
{
    if (lat_len == lat_cap) {
        lat_cap = lat_cap ? lat_cap * 2 : 65536;
        lat_ms = realloc(lat_ms, lat_cap * sizeof(*lat_ms));
        if (!lat_ms) {
            perror("realloc");
            exit(1);
        }
    }
    lat_ms[lat_len++] = ms;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of the sorted latencies; 0 when there are none. */
static double percentile(double p)
{
    if (lat_len == 0) return 0;
    size_t rank = (size_t)(p * (double)lat_len + 0.999999);
    if (rank < 1) rank = 1;
    if (rank > lat_len) rank = lat_len;
    return lat_ms[rank - 1];
}

/* Whether another request may start now. */
static int may_issue(void)
{
    if (refused) return 0;
    if (target_count) return issued < target_count;
    return now_s() < deadline;
}

static void watch(conn_t *c, uint32_t events, int op)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(epfd, op, c->fd, &ev) != 0) {
        perror("epoll_ctl");
        exit(1);
    }
}

static void conn_close(conn_t *c)
{
    if (c->fd >= 0) close(c->fd); /* close() also removes it from epoll */
    c->fd = -1;
    c->state = CONN_IDLE;
}

/* Formats the next POST into c->out: a unique headline per request so that
 * nothing is deduplicated and every request is a fresh row. */
static void build_request(conn_t *c)
{
    char body[2048];
    int blen = snprintf(
        body, sizeof(body),
        "{\"headline\":\"Benchmark release %d-%d-%lu: durable submission under load\","
        "\"body\":\"This release was written by bench_submit to measure durable "
        "submissions per second. Every request is acknowledged only after its group "
        "commit reached the disk.\\n\\nMore at [the project](https://example.com/kawat).\","
        "\"language\":\"en\",\"sectors\":[\"Business\"],\"regions\":[\"ID\"]}",
        (int)getpid(), c->index, c->sent);
    c->out_len = (size_t)snprintf(c->out, sizeof(c->out),
                                  "POST /v1/releases HTTP/1.1\r\n"
                                  "Host: %s:%d\r\n"
                                  "Authorization: Bearer %s\r\n"
                                  "Content-Type: application/json\r\n"
                                  "Content-Length: %d\r\n"
                                  "\r\n%s",
                                  inet_ntoa(target.sin_addr), ntohs(target.sin_port), token,
                                  blen, body);
    c->out_off = 0;
    c->in_len = 0;
    c->sent++;
}

static void fail(conn_t *c, const char *why)
{
    done_err++;
    last_done = now_s();
    c->retry_at = last_done + 0.05; /* no busy loop against a closed port */
    if (!first_error_shown) {
        first_error_shown = 1;
        fprintf(stderr, "bench_submit: first error (connection %d): %s\n", c->index, why);
    }
    conn_close(c);
}

/* Opens c's socket (non-blocking) and starts the connect. Returns 0, or -1
 * if the socket could not even be created. */
static int conn_open(conn_t *c)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        perror("socket");
        return -1;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int rc = connect(c->fd, (struct sockaddr *)&target, sizeof(target));
    if (rc == 0) {
        c->state = CONN_SENDING;
        watch(c, EPOLLOUT, EPOLL_CTL_ADD);
    } else if (errno == EINPROGRESS) {
        c->state = CONN_CONNECTING;
        watch(c, EPOLLOUT, EPOLL_CTL_ADD);
    } else {
        connect_failures++;
        conn_close(c);
        return -1;
    }
    return 0;
}

/* Starts c's next request if the run still wants one: reuses the open
 * keep-alive connection or opens a new one. */
static void conn_next(conn_t *c)
{
    if (!may_issue()) {
        conn_close(c);
        return;
    }
    issued++;
    build_request(c);
    c->started = now_s();
    if (c->fd < 0) {
        if (conn_open(c) != 0) {
            fail(c, "connect failed");
            return;
        }
    } else {
        c->state = CONN_SENDING;
        watch(c, EPOLLOUT, EPOLL_CTL_MOD);
    }
}

static void on_writable(conn_t *c)
{
    if (c->state == CONN_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            connect_failures++;
            fail(c, strerror(err));
            return;
        }
        c->state = CONN_SENDING;
    }
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) return;
            fail(c, strerror(errno));
            return;
        }
        c->out_off += (size_t)n;
    }
    c->state = CONN_READING;
    watch(c, EPOLLIN, EPOLL_CTL_MOD);
}

/* Finds header name (case-insensitive) in the head; returns its value or NULL. */
static const char *header_value(const char *head, size_t head_len, const char *name)
{
    size_t nlen = strlen(name);
    const char *p = memchr(head, '\n', head_len);
    const char *end = head + head_len;
    while (p && p + 1 + nlen < end) {
        p++;
        if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            p += nlen + 1;
            while (*p == ' ' || *p == '\t') p++;
            return p;
        }
        p = memchr(p, '\n', (size_t)(end - p));
    }
    return NULL;
}

static void on_readable(conn_t *c)
{
    for (;;) {
        if (c->in_len >= sizeof(c->in) - 1) {
            fail(c, "response larger than the read buffer");
            return;
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) break;
            fail(c, strerror(errno));
            return;
        }
        if (n == 0) {
            fail(c, "server closed the connection before answering");
            return;
        }
        c->in_len += (size_t)n;
    }
    c->in[c->in_len] = '\0';
    char *eoh = strstr(c->in, "\r\n\r\n");
    if (!eoh) return; /* head not complete yet */
    size_t head_len = (size_t)(eoh - c->in) + 4;
    const char *cl = header_value(c->in, head_len, "Content-Length");
    if (!cl) {
        fail(c, "response without Content-Length");
        return;
    }
    size_t body_len = strtoul(cl, NULL, 10);
    if (c->in_len < head_len + body_len) return; /* body not complete yet */

    last_done = now_s();
    int status = 0;
    if (sscanf(c->in, "HTTP/1.%*d %d", &status) != 1) status = 0;
    const char *conn_hdr = header_value(c->in, head_len, "Connection");
    int must_close = conn_hdr && strncasecmp(conn_hdr, "close", 5) == 0;

    if (status == 201) {
        done_ok++;
        record_latency((now_s() - c->started) * 1000.0);
    } else {
        done_err++;
        if (status == 401 || status == 403) refused = 1;
        if (!first_error_shown) {
            first_error_shown = 1;
            fprintf(stderr, "bench_submit: first error (connection %d): status %d: %.300s\n",
                    c->index, status, c->in + head_len);
        }
    }
    if (must_close || c->in_len != head_len + body_len) conn_close(c);
    conn_next(c);
}

int main(int argc, char **argv)
{
    const char *addr = "127.0.0.1:8080";
    int conns = 16;
    double seconds = 0;
    int opt;
    while ((opt = getopt(argc, argv, "a:c:n:d:")) != -1) {
        switch (opt) {
        case 'a': addr = optarg; break;
        case 'c': conns = atoi(optarg); break;
        case 'n': target_count = strtoul(optarg, NULL, 10); break;
        case 'd': seconds = atof(optarg); break;
        default: usage();
        }
    }
    if (conns < 1 || (target_count == 0) == (seconds <= 0)) usage();
    token = getenv("KAWAT_TOKEN");
    if (!token || !*token) {
        fprintf(stderr, "bench_submit: set KAWAT_TOKEN to an issuer token\n");
        return 2;
    }
    char host[64];
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof(host)) usage();
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    target.sin_family = AF_INET;
    target.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &target.sin_addr) != 1) {
        fprintf(stderr, "bench_submit: %s is not an IPv4 address\n", host);
        return 2;
    }

    epfd = epoll_create1(EPOLL_CLOEXEC);
    conn_t *cs = calloc((size_t)conns, sizeof(*cs));
    if (epfd < 0 || !cs) {
        perror("setup");
        return 1;
    }
    double start = now_s();
    deadline = start + seconds;
    for (int i = 0; i < conns; i++) {
        cs[i].fd = -1;
        cs[i].index = i;
        conn_next(&cs[i]);
    }

    struct epoll_event evs[256];
    last_done = start;
    for (;;) {
        unsigned long finished = done_ok + done_err;
        if (finished == issued && !may_issue()) break;
        if (finished == issued && finished > 0 && done_ok == 0 && connect_failures > 100) {
            fprintf(stderr, "bench_submit: cannot connect to %s\n", addr);
            break;
        }
        /* A timed run stops issuing at the deadline and waits GRACE_SECONDS for
         * what is in flight; whatever is still open then counts as an error. */
        if (!target_count && now_s() > deadline + GRACE_SECONDS) {
            done_err += issued - finished;
            fprintf(stderr, "bench_submit: %lu requests unanswered after %.0f s grace\n",
                    issued - finished, GRACE_SECONDS);
            break;
        }
        int n = epoll_wait(epfd, evs, 256, 10);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            if (c->fd < 0) continue;
            if (c->state == CONN_READING && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                on_readable(c);
            else if (evs[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
                on_writable(c);
        }
        /* Connections that failed to reconnect sit idle; restart them. */
        for (int i = 0; i < conns; i++)
            if (cs[i].fd < 0 && cs[i].state == CONN_IDLE && now_s() >= cs[i].retry_at &&
                may_issue())
                conn_next(&cs[i]);
    }
    double elapsed = last_done - start;
    if (elapsed <= 0) elapsed = 1e-9;

    if (lat_len) qsort(lat_ms, lat_len, sizeof(*lat_ms), cmp_double);
    printf("connections=%d requests=%lu seconds=%.2f req_per_s=%.1f p50_ms=%.2f p99_ms=%.2f "
           "errors=%lu\n",
           conns, done_ok + done_err, elapsed, (double)done_ok / elapsed, percentile(0.50),
           percentile(0.99), done_err);
    for (int i = 0; i < conns; i++) conn_close(&cs[i]);
    free(cs);
    free(lat_ms);
    close(epfd);
    return done_err ? 1 : 0;
}
