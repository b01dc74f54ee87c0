/* fanout_pub.c -- the publisher side of bench/fanout.sh for kawat: turns the
 * fan-out benchmark's timestamped messages ("seq=<i> ts=<ns>", CLOCK_MONOTONIC)
 * into published kawat releases, so that the text reaches every SSE
 * subscriber inside the release's headline.
 *
 * Publishing in kawat takes three requests: an issuer creates a draft
 * (POST /v1/releases), submits it (POST /v1/releases/{id}/submit), and an
 * editor approves it (POST /v1/releases/{id}/approve), which publishes and
 * fans out at once. Two modes:
 *
 *   chain    reads one message per line on standard input (the shared
 *            harness's `publish --print`, which takes ts right before it
 *            writes the line) and runs create, submit, approve for each, on
 *            a thread and a keep-alive connection of its own (open loop: a
 *            slow answer never delays the next message). The latency the
 *            client measures includes all three requests.
 *
 *   approve  stages M drafts first (created and submitted, not timed), with
 *            the headline "seq=<i> ts=<T0 + i/rate>", then sends each one's
 *            approve at exactly that instant (clock_nanosleep, absolute), on
 *            its own thread and connection. The latency the client measures
 *            starts at the publish request itself, as with Nchan's POST.
 *
 * Either way it prints, per message, the times relative to ts (ms) and one
 * summary line:
 *   FANOUT_PUB mode= ok= failed= pre_p50_ms= pre_max_ms= approve_p50_ms=
 *              approve_p99_ms= approve_max_ms= lag_max_ms=
 * pre = ts -> the approve request's first byte written (chain: create and
 * submit; approve: the scheduling lag); approve = approve written -> its
 * 200 read.
 *
 *   KAWAT_ISSUER_TOKEN=.. KAWAT_EDITOR_TOKEN=.. fanout_pub -a 127.0.0.1:PORT
 *       -m M [-r RATE] [--mode chain|approve] [--lead S] [--go-file F]
 *
 * Tokens come from the environment (kept out of argv, so out of `ps`).
 * Loopback only; every socket has a 30 s send/receive timeout. Plain
 * sockets and pthreads, no libraries.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define RESP_MAX (64 * 1024)
#define IO_TIMEOUT_S 30

typedef struct {
    long seq;
    int64_t ts;         /* the message's ts (ns, CLOCK_MONOTONIC) */
    char text[96];      /* "seq=<i> ts=<ns>" */
    char id[64];        /* release id (approve mode: staged) */
    int64_t t_created, t_submitted, t_approve_sent, t_approved; /* ns, absolute */
    int status;         /* approve's HTTP status; 0 = not reached */
    char err[160];
    pthread_t thread;
    int started;
} msg_t;

static struct sockaddr_in target;
static const char *issuer_token, *editor_token;
static int mode_approve;

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int conn_open(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&target, sizeof target) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* One request on the keep-alive connection fd; returns the HTTP status (or
 * -1) and copies the body (NUL-terminated) into body. *sent is set to the
 * moment the request was written. */
static int request(int fd, const char *method, const char *path, const char *token,
                   const char *json, char *body, size_t body_cap, int64_t *sent)
{
    static const char *host = "127.0.0.1";
    size_t jl = json ? strlen(json) : 0;
    char head[1024];
    int hl = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                      "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                      method, path, host, token, jl);
    char out[sizeof head + 4096];
    if (hl < 0 || (size_t)hl >= sizeof head || (size_t)hl + jl > sizeof out) return -1;
    memcpy(out, head, (size_t)hl);
    if (jl) memcpy(out + hl, json, jl);
    size_t n = (size_t)hl + jl, off = 0;
    if (sent) *sent = now_ns();
    while (off < n) {
        ssize_t w = write(fd, out + off, n - off);
        if (w <= 0) {
            if (w < 0 && errno == EINTR) continue;
            return -1;
        }
        off += (size_t)w;
    }
    static __thread char in[RESP_MAX];
    size_t got = 0, need = 0, hdr_end = 0;
    for (;;) {
        if (got == sizeof in - 1) return -1;
        ssize_t r = read(fd, in + got, sizeof in - 1 - got);
        if (r <= 0) {
            if (r < 0 && errno == EINTR) continue;
            return -1;
        }
        got += (size_t)r;
        in[got] = 0;
        if (!hdr_end) {
            char *e = strstr(in, "\r\n\r\n");
            if (!e) continue;
            hdr_end = (size_t)(e - in) + 4;
            char *cl = strcasestr(in, "\r\ncontent-length:");
            if (!cl || cl > e) return -1; /* kawat always sends Content-Length */
            need = hdr_end + strtoul(cl + 17, NULL, 10);
        }
        if (got >= need) break;
    }
    int status = 0;
    if (sscanf(in, "HTTP/1.%*d %d", &status) != 1) return -1;
    size_t bl = need - hdr_end;
    if (body) {
        if (bl >= body_cap) bl = body_cap - 1;
        memcpy(body, in + hdr_end, bl);
        body[bl] = 0;
    }
    return status;
}

static int json_id(const char *body, char *id, size_t cap)
{
    const char *p = strstr(body, "\"id\":\"");
    if (!p) return -1;
    p += 6;
    size_t i = 0;
    while (p[i] && p[i] != '"' && i + 1 < cap) id[i] = p[i], i++;
    id[i] = 0;
    return i ? 0 : -1;
}

/* create + submit; returns 0 on success. */
static int stage(int fd, msg_t *m)
{
    static __thread char body[RESP_MAX];
    char json[256], path[160];
    snprintf(json, sizeof json,
             "{\"headline\":\"%s\",\"body\":\"Fan-out benchmark release %ld.\",\"language\":\"en\"}",
             m->text, m->seq);
    int st = request(fd, "POST", "/v1/releases", issuer_token, json, body, sizeof body, NULL);
    if (st != 201 || json_id(body, m->id, sizeof m->id) != 0) {
        snprintf(m->err, sizeof m->err, "create: status %d: %.100s", st, st > 0 ? body : "");
        return -1;
    }
    m->t_created = now_ns();
    snprintf(path, sizeof path, "/v1/releases/%s/submit", m->id);
    st = request(fd, "POST", path, issuer_token, NULL, body, sizeof body, NULL);
    if (st != 200) {
        snprintf(m->err, sizeof m->err, "submit: status %d: %.100s", st, st > 0 ? body : "");
        return -1;
    }
    m->t_submitted = now_ns();
    return 0;
}

static void approve(int fd, msg_t *m)
{
    static __thread char body[RESP_MAX];
    char path[160];
    snprintf(path, sizeof path, "/v1/releases/%s/approve", m->id);
    int st = request(fd, "POST", path, editor_token, NULL, body, sizeof body, &m->t_approve_sent);
    m->t_approved = now_ns();
    m->status = st;
    if (st != 200) snprintf(m->err, sizeof m->err, "approve: status %d: %.100s", st, st > 0 ? body : "");
}

static void *chain_thread(void *arg)
{
    msg_t *m = arg;
    int fd = conn_open();
    if (fd < 0) {
        snprintf(m->err, sizeof m->err, "connect: %s", strerror(errno));
        return NULL;
    }
    if (stage(fd, m) == 0) approve(fd, m);
    close(fd);
    return NULL;
}

static void *approve_thread(void *arg)
{
    msg_t *m = arg;
    int fd = conn_open(); /* connect ahead of the instant: not part of publishing */
    if (fd < 0) {
        snprintf(m->err, sizeof m->err, "connect: %s", strerror(errno));
        return NULL;
    }
    struct timespec due = {.tv_sec = m->ts / 1000000000LL, .tv_nsec = m->ts % 1000000000LL};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR) {}
    approve(fd, m);
    close(fd);
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double pctl(int64_t *v, size_t n, double p)
{
    if (n == 0) return -1;
    size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (k < 1) k = 1;
    if (k > n) k = n;
    return (double)v[k - 1] / 1e6;
}

static void usage(void)
{
    fprintf(stderr, "usage: KAWAT_ISSUER_TOKEN=.. KAWAT_EDITOR_TOKEN=.. fanout_pub -a HOST:PORT -m M\n"
                    "       [-r RATE=10] [--mode chain|approve] [--lead S=0.5] [--go-file F]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *addr = NULL, *go_file = NULL;
    long nmsg = 0;
    double rate = 10, lead = 0.5;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) usage();
        if (!strcmp(a, "-a")) addr = v;
        else if (!strcmp(a, "-m")) nmsg = atol(v);
        else if (!strcmp(a, "-r")) rate = atof(v);
        else if (!strcmp(a, "--mode")) {
            if (!strcmp(v, "approve")) mode_approve = 1;
            else if (strcmp(v, "chain")) usage();
        } else if (!strcmp(a, "--lead")) lead = atof(v);
        else if (!strcmp(a, "--go-file")) go_file = v;
        else usage();
        i++;
    }
    issuer_token = getenv("KAWAT_ISSUER_TOKEN");
    editor_token = getenv("KAWAT_EDITOR_TOKEN");
    if (!addr || nmsg < 1 || rate <= 0 || !issuer_token || !editor_token) usage();
    char host[64];
    int port = 0;
    if (sscanf(addr, "%63[^:]:%d", host, &port) != 2 || port <= 0) usage();
    memset(&target, 0, sizeof target);
    target.sin_family = AF_INET;
    target.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &target.sin_addr) != 1 ||
        (ntohl(target.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "fanout_pub: %s is not a loopback address\n", host);
        return 2;
    }
    msg_t *msgs = calloc((size_t)nmsg, sizeof *msgs);
    if (!msgs) return 2;
    long n = 0;

    if (mode_approve) {
        /* Stage every draft on one connection, then approve on schedule. */
        int fd = conn_open();
        if (fd < 0) {
            perror("fanout_pub: connect");
            return 1;
        }
        /* The instants go into the headlines, so they are fixed before
         * staging: time one throwaway draft (never published), then allow
         * twice that per message plus the lead. */
        int64_t s0 = now_ns();
        msg_t probe = {.seq = -1};
        snprintf(probe.text, sizeof probe.text, "fan-out staging probe");
        if (stage(fd, &probe) != 0) {
            fprintf(stderr, "fanout_pub: %s\n", probe.err);
            return 1;
        }
        int64_t t0 = now_ns() + (now_ns() - s0) * 2 * nmsg + (int64_t)(lead * 1e9);
        for (long i = 0; i < nmsg; i++) {
            msg_t *m = &msgs[i];
            m->seq = i;
            m->ts = t0 + (int64_t)((double)i * 1e9 / rate);
            snprintf(m->text, sizeof m->text, "seq=%ld ts=%lld", i, (long long)m->ts);
            if (stage(fd, m) != 0) {
                fprintf(stderr, "fanout_pub: staging seq %ld: %s\n", i, m->err);
                return 1;
            }
        }
        close(fd);
        if (now_ns() > t0) fprintf(stderr, "fanout_pub: staging overran the lead; approvals start late\n");
        if (go_file) {
            /* the first instant, on the wall clock, for the caller's CPU window */
            struct timespec rt;
            clock_gettime(CLOCK_REALTIME, &rt);
            double wall = (double)rt.tv_sec + rt.tv_nsec / 1e9 + (double)(t0 - now_ns()) / 1e9;
            FILE *f = fopen(go_file, "w");
            if (f) fprintf(f, "%.6f\n", wall), fclose(f);
        }
        for (long i = 0; i < nmsg; i++) {
            msgs[i].started = pthread_create(&msgs[i].thread, NULL, approve_thread, &msgs[i]) == 0;
            if (!msgs[i].started) snprintf(msgs[i].err, sizeof msgs[i].err, "pthread_create failed");
        }
        n = nmsg;
    } else {
        char line[256];
        while (n < nmsg && fgets(line, sizeof line, stdin)) {
            msg_t *m = &msgs[n];
            line[strcspn(line, "\r\n")] = 0;
            long long ts = 0;
            if (sscanf(line, "seq=%ld ts=%lld", &m->seq, &ts) != 2) continue;
            m->ts = ts;
            snprintf(m->text, sizeof m->text, "seq=%ld ts=%lld", m->seq, ts);
            m->started = pthread_create(&m->thread, NULL, chain_thread, m) == 0;
            if (!m->started) snprintf(m->err, sizeof m->err, "pthread_create failed");
            n++;
        }
    }

    long ok = 0, failed = 0;
    int64_t *pre = calloc((size_t)n + 1, sizeof *pre), *appr = calloc((size_t)n + 1, sizeof *appr);
    size_t np = 0;
    for (long i = 0; i < n; i++) {
        msg_t *m = &msgs[i];
        if (m->started) pthread_join(m->thread, NULL);
        if (m->status == 200) {
            ok++;
            pre[np] = m->t_approve_sent - m->ts;
            appr[np] = m->t_approved - m->t_approve_sent;
            np++;
            printf("PUB seq=%ld create_ms=%.3f submit_ms=%.3f approve_sent_ms=%.3f approved_ms=%.3f\n",
                   m->seq, mode_approve ? 0.0 : (m->t_created - m->ts) / 1e6,
                   mode_approve ? 0.0 : (m->t_submitted - m->ts) / 1e6,
                   (m->t_approve_sent - m->ts) / 1e6, (m->t_approved - m->ts) / 1e6);
        } else {
            failed++;
            printf("PUB seq=%ld failed: %s\n", m->seq, m->err[0] ? m->err : "no answer");
        }
    }
    int64_t lagmax = np ? pre[0] : 0;
    for (size_t i = 0; i < np; i++) if (pre[i] > lagmax) lagmax = pre[i];
    qsort(pre, np, sizeof *pre, cmp_i64);
    qsort(appr, np, sizeof *appr, cmp_i64);
    printf("FANOUT_PUB mode=%s ok=%ld failed=%ld pre_p50_ms=%.3f pre_max_ms=%.3f approve_p50_ms=%.3f "
           "approve_p99_ms=%.3f approve_max_ms=%.3f lag_max_ms=%.3f\n",
           mode_approve ? "approve" : "chain", ok, failed, pctl(pre, np, 50), pctl(pre, np, 100),
           pctl(appr, np, 50), pctl(appr, np, 99), pctl(appr, np, 100), lagmax / 1e6);
    return failed ? 1 : 0;
}
