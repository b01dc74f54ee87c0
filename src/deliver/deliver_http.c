/* deliver_http.c -- outbound HTTP on libcurl's multi interface, driven by
 * the libuv loop, with the SSRF rules of deliver.h applied at connect time.
 *
 * Design note: how curl and the loop meet.
 * curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when
 * to wake it (CURLMOPT_TIMERFUNCTION); we keep one uv_poll_t per socket and
 * one uv_timer_t, and hand each readiness or timeout back with
 * curl_multi_socket_action. After every such call the finished transfers
 * are collected (curl_multi_info_read) and their callbacks run on the loop.
 * curl never blocks: name resolution runs on its resolver thread, and
 * sockets are non-blocking.
 *
 * Design note: why the address check sits in the open-socket callback.
 * A check of the URL's host before the request (resolve, compare, then let
 * curl connect) is defeated by DNS rebinding: the name answers a public
 * address to the check and 127.0.0.1 to the connect. curl calls
 * CURLOPT_OPENSOCKETFUNCTION with the very address it is about to connect
 * to, for every address it tries, so refusing the socket there is the one
 * place no resolver trick gets past. Proxies from the environment are
 * switched off, since with one the connect address would be the proxy's. */
#include "deliver/deliver.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define DELIVER_URL_MAX 8192 /* room for a callback plus the verification's query */

/* ---- addresses ---- */

/* The IPv4 address embedded in an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d), which the kernel connects to as IPv4. */
static int v6_mapped(const uint8_t a[16])
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(a, prefix, 12) == 0;
}

/* An address as family + bytes, mapped IPv6 folded to IPv4. Returns 0 for
 * a family that is neither. */
static int addr_bytes(const struct sockaddr *sa, uint8_t out[16])
{
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in in4;
        memcpy(&in4, sa, sizeof(in4));
        memcpy(out, &in4.sin_addr, 4);
        return AF_INET;
    }
    if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof(in6));
        if (v6_mapped(in6.sin6_addr.s6_addr)) {
            memcpy(out, in6.sin6_addr.s6_addr + 12, 4);
            return AF_INET;
        }
        memcpy(out, in6.sin6_addr.s6_addr, 16);
        return AF_INET6;
    }
    return 0;
}

/* Whether the first prefix bits of a and b agree. */
static int prefix_eq(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
    unsigned whole = prefix / 8, rest = prefix % 8;
    if (memcmp(a, b, whole) != 0) return 0;
    if (rest == 0) return 1;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

int deliver_cidr_parse(const char *text, size_t len, deliver_cidr_t *out)
{
    char buf[64];
    memset(out, 0, sizeof(*out));
    if (text == NULL || len == 0 || len >= sizeof(buf)) return KW_INVALID;
    memcpy(buf, text, len);
    buf[len] = '\0';
    char *slash = strchr(buf, '/');
    long prefix = -1;
    if (slash) {
        *slash = '\0';
        const char *p = slash + 1;
        size_t digits = strspn(p, "0123456789");
        if (digits == 0 || digits > 3 || p[digits] != '\0') return KW_INVALID;
        prefix = atol(p);
    }
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = AF_INET;
        if (prefix < 0) prefix = 32;
        if (prefix > 32) return KW_INVALID;
    } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = AF_INET6;
        if (prefix < 0) prefix = 128;
        if (prefix > 128) return KW_INVALID;
    } else {
        return KW_INVALID;
    }
    out->prefix = (unsigned)prefix;
    /* Host bits must be zero: compare with the address masked. */
    unsigned nbytes = out->family == AF_INET ? 4 : 16;
    for (unsigned bit = out->prefix; bit < nbytes * 8; bit++)
        if (out->addr[bit / 8] & (0x80 >> (bit % 8))) return KW_INVALID;
    /* ::ffff:a.b.c.d/96+n is the IPv4 block a.b.c.d/n. */
    if (out->family == AF_INET6 && out->prefix >= 96 && v6_mapped(out->addr)) {
        memmove(out->addr, out->addr + 12, 4);
        memset(out->addr + 4, 0, 12);
        out->family = AF_INET;
        out->prefix -= 96;
    }
    return KW_OK;
}

int deliver_cidr_list_parse(const char *list, deliver_cidr_t **out, size_t *n, char *err,
                            size_t errsize)
{
    *out = NULL;
    *n = 0;
    if (list == NULL) return KW_OK;
    deliver_cidr_t *items = NULL;
    size_t count = 0, cap = 0;
    const char *p = list;
    for (;;) {
        const char *end = strchr(p, ',');
        if (end == NULL) end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        if (b > a) {
            deliver_cidr_t c;
            if (deliver_cidr_parse(a, (size_t)(b - a), &c) != KW_OK) {
                snprintf(err, errsize,
                         "\"%.*s\" is not a CIDR block (like 127.0.0.0/8 or ::1/128, "
                         "host bits zero)",
                         (int)((b - a) > 64 ? 64 : (b - a)), a);
                free(items);
                return KW_INVALID;
            }
            if (count == cap) {
                cap = cap ? cap * 2 : 4;
                items = kw_realloc(items, cap * sizeof(*items));
            }
            items[count++] = c;
        } else if (*end == ',' || p != list) {
            snprintf(err, errsize, "empty item in the CIDR list");
            free(items);
            return KW_INVALID;
        }
        if (*end == '\0') break;
        p = end + 1;
    }
    *out = items;
    *n = count;
    return KW_OK;
}

int deliver_cidr_contains(const deliver_cidr_t *c, const struct sockaddr *sa)
{
    uint8_t a[16];
    int family = addr_bytes(sa, a);
    return family != 0 && family == c->family && prefix_eq(a, c->addr, c->prefix);
}

typedef struct {
    uint8_t addr[4];
    unsigned prefix;
} v4_block_t;

/* RFC 6890 and friends: what is not the public Internet. */
static const v4_block_t v4_special[] = {
    {{0, 0, 0, 0}, 8},       /* "this network" */
    {{10, 0, 0, 0}, 8},      /* RFC 1918 */
    {{100, 64, 0, 0}, 10},   /* shared address space (carrier-grade NAT) */
    {{127, 0, 0, 0}, 8},     /* loopback */
    {{169, 254, 0, 0}, 16},  /* link-local, cloud metadata (169.254.169.254) */
    {{172, 16, 0, 0}, 12},   /* RFC 1918 */
    {{192, 0, 0, 0}, 24},    /* IETF protocol assignments */
    {{192, 0, 2, 0}, 24},    /* TEST-NET-1 */
    {{192, 168, 0, 0}, 16},  /* RFC 1918 */
    {{198, 18, 0, 0}, 15},   /* benchmarking */
    {{198, 51, 100, 0}, 24}, /* TEST-NET-2 */
    {{203, 0, 113, 0}, 24},  /* TEST-NET-3 */
    {{224, 0, 0, 0}, 4},     /* multicast */
    {{240, 0, 0, 0}, 4},     /* reserved, and 255.255.255.255 broadcast */
};

static int v4_is_special(const uint8_t a[4])
{
    for (size_t i = 0; i < KW_ARRAY_SIZE(v4_special); i++)
        if (prefix_eq(a, v4_special[i].addr, v4_special[i].prefix)) return 1;
    return 0;
}

typedef struct {
    uint8_t addr[16];
    unsigned prefix;
} v6_block_t;

static const v6_block_t v6_special[] = {
    {{0}, 96},                      /* ::, ::1, IPv4-compatible */
    {{0x01, 0x00}, 64},             /* discard-only 100::/64 */
    {{0x20, 0x01, 0x0d, 0xb8}, 32}, /* documentation */
    {{0xfc}, 7},                    /* unique local */
    {{0xfe, 0x80}, 10},             /* link-local */
    {{0xfe, 0xc0}, 10},             /* site-local (deprecated) */
    {{0xff}, 8},                    /* multicast */
};

int deliver_addr_special(const struct sockaddr *sa)
{
    uint8_t a[16];
    int family = addr_bytes(sa, a);
    if (family == AF_INET) return v4_is_special(a);
    if (family != AF_INET6) return 1;
    for (size_t i = 0; i < KW_ARRAY_SIZE(v6_special); i++)
        if (prefix_eq(a, v6_special[i].addr, v6_special[i].prefix)) return 1;
    /* Translators carry an IPv4 address inside: judge that one. */
    static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};
    if (memcmp(a, nat64, 12) == 0) return v4_is_special(a + 12);
    if (a[0] == 0x20 && a[1] == 0x02) return v4_is_special(a + 2); /* 6to4 */
    return 0;
}

int deliver_addr_allowed(const struct sockaddr *sa, const deliver_cidr_t *allow, size_t nallow)
{
    for (size_t i = 0; i < nallow; i++)
        if (deliver_cidr_contains(&allow[i], sa)) return 1;
    return !deliver_addr_special(sa);
}

int deliver_url_check(const char *url, char *err, size_t errsize)
{
    size_t n = url ? strlen(url) : 0;
    if (n == 0 || n > DELIVER_URL_MAX) {
        snprintf(err, errsize, "must be an http or https URL of at most %d bytes", DELIVER_URL_MAX);
        return KW_INVALID;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f) {
            snprintf(err, errsize,
                     "must not contain spaces, control or non-ASCII characters "
                     "(percent-encode them)");
            return KW_INVALID;
        }
    }
    /* curl forgives "http:///host"; a callback spelled so is a typo. */
    const char *sep = strstr(url, "://");
    if (sep == NULL || sep[3] == '/' || sep[3] == '\0') {
        snprintf(err, errsize, "is not an absolute URL (scheme://host/...)");
        return KW_INVALID;
    }
    int rc = KW_INVALID;
    char *scheme = NULL, *host = NULL, *user = NULL, *password = NULL;
    CURLU *u = curl_url();
    if (u == NULL) {
        snprintf(err, errsize, "out of memory");
        return KW_ERROR;
    }
    if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
        snprintf(err, errsize, "is not an absolute URL");
        goto done;
    }
    if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
        snprintf(err, errsize, "must use http or https");
        goto done;
    }
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0') {
        snprintf(err, errsize, "has no host");
        goto done;
    }
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
        curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK) {
        snprintf(err, errsize, "must not carry a user name or password");
        goto done;
    }
    rc = KW_OK;
done:
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_free(password);
    curl_url_cleanup(u);
    return rc;
}

/* ---- the client ---- */

typedef struct deliver_req_s deliver_req_t;

/* One watched socket. */
typedef struct sock_ctx_s {
    uv_poll_t poll;
    curl_socket_t fd;
    deliver_t *d;
    struct sock_ctx_s *prev, *next;
} sock_ctx_t;

struct deliver_req_s {
    deliver_t *d;
    CURL *easy;
    struct curl_slist *headers;
    kw_buf_t answer;
    size_t max_answer;
    int refused; /* the open-socket callback said no */
    char refused_addr[INET6_ADDRSTRLEN];
    char errbuf[CURL_ERROR_SIZE];
    deliver_outcome_t early; /* outcome when it never reached curl */
    char early_error[256];
    deliver_done_fn done;
    void *arg;
    int64_t start_ms;
    deliver_req_t *prev, *next;
};

struct deliver_s {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;    /* curl's timeout */
    uv_timer_t later;    /* runs the callbacks of requests that never reached curl */
    deliver_req_t *reqs; /* in curl */
    deliver_req_t *early_head, *early_tail; /* failed before curl */
    sock_ctx_t *socks;
    size_t nreqs;
    deliver_cidr_t *allow;
    size_t nallow;
    deliver_config_t cfg;
    char *user_agent;
    int handles_open;
    int stopping;
    void (*on_closed)(void *arg);
    void *closed_arg;
    deliver_stats_t stats;
};

static int curl_users; /* deliver_t alive: curl's global state lives while > 0 */

void deliver_config_defaults(deliver_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->connect_timeout_ms = 5000;
    cfg->timeout_ms = 15000;
    cfg->max_response_bytes = 64 * 1024;
    cfg->max_connections = 64;
    cfg->user_agent = "kawat";
}

static void maybe_free(deliver_t *d)
{
    if (!d->stopping || d->handles_open > 0) return;
    void (*cb)(void *) = d->on_closed;
    void *arg = d->closed_arg;
    free(d->allow);
    free(d->user_agent);
    free(d);
    if (--curl_users == 0) curl_global_cleanup();
    if (cb) cb(arg);
}

static void on_handle_closed(uv_handle_t *h)
{
    deliver_t *d = h->data;
    d->handles_open--;
    maybe_free(d);
}

static void on_sock_closed(uv_handle_t *h)
{
    sock_ctx_t *ctx = h->data;
    deliver_t *d = ctx->d;
    free(ctx);
    d->handles_open--;
    maybe_free(d);
}

static void sock_close(deliver_t *d, sock_ctx_t *ctx)
{
    uv_poll_stop(&ctx->poll);
    if (ctx->prev)
        ctx->prev->next = ctx->next;
    else
        d->socks = ctx->next;
    if (ctx->next) ctx->next->prev = ctx->prev;
    uv_close((uv_handle_t *)&ctx->poll, on_sock_closed);
}

static void req_unlink(deliver_t *d, deliver_req_t *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        d->reqs = r->next;
    if (r->next) r->next->prev = r->prev;
    r->prev = r->next = NULL;
    d->nreqs--;
}

static void req_free(deliver_req_t *r)
{
    if (r->easy) curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->headers);
    kw_buf_free(&r->answer);
    free(r);
}

/* Runs the callback of a request curl finished (cc) and frees it. */
static void req_finish(deliver_t *d, deliver_req_t *r, CURLcode cc)
{
    deliver_result_t res = {0};
    char msg[256];
    res.elapsed_ms = kw_now_ms() - r->start_ms;
    if (cc == CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
        res.outcome = DELIVER_ANSWERED;
        res.status = (int)status;
        res.body.data = r->answer.data ? r->answer.data : "";
        res.body.len = r->answer.len;
        res.error = "";
        d->stats.answered++;
    } else if (r->refused) {
        snprintf(msg, sizeof(msg),
                 "refused: %s is a loopback, private, link-local or reserved address "
                 "(not in the allow list)",
                 r->refused_addr);
        res.outcome = DELIVER_REFUSED;
        res.error = msg;
        d->stats.refused++;
    } else {
        snprintf(msg, sizeof(msg), "%s", r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc));
        res.outcome = DELIVER_FAILED;
        res.error = msg;
        d->stats.failed++;
    }
    r->done(&res, r->arg);
    req_free(r);
}

/* Collects what curl finished. The callbacks may start new requests. */
static void check_done(deliver_t *d)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(d->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL *easy = msg->easy_handle;
        CURLcode cc = msg->data.result; /* msg is gone after the removal */
        char *priv = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        deliver_req_t *r = (deliver_req_t *)priv;
        curl_multi_remove_handle(d->multi, easy);
        req_unlink(d, r);
        req_finish(d, r, cc);
    }
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    sock_ctx_t *ctx = h->data;
    deliver_t *d = ctx->d;
    int flags = 0;
    if (status < 0) flags |= CURL_CSELECT_ERR;
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    int running;
    curl_multi_socket_action(d->multi, ctx->fd, flags, &running);
    check_done(d);
}

static void on_timeout(uv_timer_t *t)
{
    deliver_t *d = t->data;
    int running;
    curl_multi_socket_action(d->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(d);
}

/* CURLMOPT_SOCKETFUNCTION: watch, change or forget a socket. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    deliver_t *d = userp;
    sock_ctx_t *ctx = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (ctx) {
            curl_multi_assign(d->multi, fd, NULL);
            sock_close(d, ctx);
        }
        return 0;
    }
    if (ctx == NULL) {
        ctx = kw_calloc(1, sizeof(*ctx));
        ctx->fd = fd;
        ctx->d = d;
        if (uv_poll_init_socket(d->loop, &ctx->poll, fd) != 0) {
            free(ctx);
            return -1; /* curl fails the transfer */
        }
        ctx->poll.data = ctx;
        d->handles_open++;
        ctx->next = d->socks;
        if (d->socks) d->socks->prev = ctx;
        d->socks = ctx;
        curl_multi_assign(d->multi, fd, ctx);
    }
    int events = 0;
    if (what & CURL_POLL_IN) events |= UV_READABLE;
    if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
    uv_poll_start(&ctx->poll, events, on_poll);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: curl wants to be woken in timeout_ms (-1: not). */
static int on_timer_set(CURLM *multi, long timeout_ms, void *userp)
{
    deliver_t *d = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&d->timer);
    else
        uv_timer_start(&d->timer, on_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

/* CURLOPT_OPENSOCKETFUNCTION: the SSRF gate (see the design note). */
static curl_socket_t on_opensocket(void *clientp, curlsocktype purpose,
                                   struct curl_sockaddr *address)
{
    deliver_req_t *r = clientp;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    memcpy(&ss, &address->addr, address->addrlen < sizeof(ss) ? address->addrlen : sizeof(ss));
    const struct sockaddr *sa = (const struct sockaddr *)&ss;
    if (purpose != CURLSOCKTYPE_IPCXN || !deliver_addr_allowed(sa, r->d->allow, r->d->nallow)) {
        r->refused = 1;
        if (ss.ss_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, r->refused_addr,
                      sizeof(r->refused_addr));
        else if (ss.ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, r->refused_addr,
                      sizeof(r->refused_addr));
        else
            snprintf(r->refused_addr, sizeof(r->refused_addr), "a non-IP address");
        return CURL_SOCKET_BAD;
    }
    return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userp)
{
    deliver_req_t *r = userp;
    size_t n = size * nmemb;
    /* Past the bound the answer is read and dropped: the peer's status
     * still counts, its body cannot grow our memory. */
    if (r->answer.len < r->max_answer) {
        size_t take = r->max_answer - r->answer.len;
        kw_buf_append(&r->answer, data, n < take ? n : take);
    }
    return n;
}

int deliver_start(uv_loop_t *loop, const deliver_config_t *cfg, deliver_t **out)
{
    *out = NULL;
    deliver_cidr_t *allow = NULL;
    size_t nallow = 0;
    char err[160];
    if (deliver_cidr_list_parse(cfg->allow, &allow, &nallow, err, sizeof(err)) != KW_OK) {
        fprintf(stderr, "kawat: deliver: allow list: %s\n", err);
        return KW_INVALID;
    }
    if (curl_users++ == 0 && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        curl_users--;
        free(allow);
        fprintf(stderr, "kawat: deliver: curl_global_init failed\n");
        return KW_ERROR;
    }
    deliver_t *d = kw_calloc(1, sizeof(*d));
    d->loop = loop;
    d->allow = allow;
    d->nallow = nallow;
    d->cfg = *cfg;
    d->user_agent = kw_strdup(cfg->user_agent ? cfg->user_agent : "kawat");
    d->cfg.user_agent = d->user_agent;
    d->cfg.allow = NULL; /* parsed above; the caller's string is not kept */
    d->multi = curl_multi_init();
    if (d->multi == NULL) {
        free(d->allow);
        free(d->user_agent);
        free(d);
        if (--curl_users == 0) curl_global_cleanup();
        fprintf(stderr, "kawat: deliver: curl_multi_init failed\n");
        return KW_ERROR;
    }
    curl_multi_setopt(d->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(d->multi, CURLMOPT_SOCKETDATA, d);
    curl_multi_setopt(d->multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
    curl_multi_setopt(d->multi, CURLMOPT_TIMERDATA, d);
    curl_multi_setopt(d->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      (long)(cfg->max_connections ? cfg->max_connections : 64));
    uv_timer_init(loop, &d->timer);
    uv_timer_init(loop, &d->later);
    d->timer.data = d->later.data = d;
    d->handles_open = 2;
    *out = d;
    return KW_OK;
}

static void on_later(uv_timer_t *t)
{
    deliver_t *d = t->data;
    /* Take the list first: a callback may queue another early failure. */
    deliver_req_t *r = d->early_head;
    d->early_head = d->early_tail = NULL;
    while (r) {
        deliver_req_t *next = r->next;
        deliver_result_t res = {0};
        res.outcome = r->early;
        res.error = r->early_error;
        r->d->nreqs--;
        r->done(&res, r->arg);
        req_free(r);
        r = next;
    }
}

/* Fails r before it reaches curl; the callback runs on a later turn. */
static void req_early(deliver_t *d, deliver_req_t *r, deliver_outcome_t outcome, const char *why)
{
    r->early = outcome;
    snprintf(r->early_error, sizeof(r->early_error), "%s", why);
    if (outcome == DELIVER_REFUSED)
        d->stats.refused++;
    else
        d->stats.failed++;
    r->next = NULL;
    if (d->early_tail)
        d->early_tail->next = r;
    else
        d->early_head = r;
    d->early_tail = r;
    uv_timer_start(&d->later, on_later, 0, 0);
}

void deliver_http_send(deliver_t *d, const char *method, const char *url,
                       const char *const *headers, const void *body, size_t len,
                       deliver_done_fn done, void *arg)
{
    deliver_req_t *r = kw_calloc(1, sizeof(*r));
    r->d = d;
    r->done = done;
    r->arg = arg;
    r->start_ms = kw_now_ms();
    r->max_answer = d->cfg.max_response_bytes ? d->cfg.max_response_bytes : 64 * 1024;
    d->stats.requests++;
    d->nreqs++;
    char why[160];
    if (d->stopping) {
        req_early(d, r, DELIVER_CANCELLED, "the client is stopping");
        return;
    }
    if (deliver_url_check(url, why, sizeof(why)) != KW_OK) {
        char msg[200];
        snprintf(msg, sizeof(msg), "the URL %s", why);
        req_early(d, r, DELIVER_REFUSED, msg);
        return;
    }
    r->easy = curl_easy_init();
    if (r->easy == NULL) {
        req_early(d, r, DELIVER_FAILED, "curl_easy_init failed");
        return;
    }
    CURL *e = r->easy;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROXY, ""); /* never a proxy from the environment */
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)d->cfg.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)d->cfg.timeout_ms);
    curl_easy_setopt(e, CURLOPT_USERAGENT, d->user_agent);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_opensocket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, r);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
        if (strcmp(method, "POST") != 0) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body ? (const char *)body : "");
    }
    for (size_t i = 0; headers && headers[i]; i++)
        r->headers = curl_slist_append(r->headers, headers[i]);
    /* No "Expect: 100-continue" round trip before a body. */
    r->headers = curl_slist_append(r->headers, "Expect:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);

    if (curl_multi_add_handle(d->multi, e) != CURLM_OK) {
        req_early(d, r, DELIVER_FAILED, "curl_multi_add_handle failed");
        return;
    }
    r->next = d->reqs;
    if (d->reqs) d->reqs->prev = r;
    d->reqs = r;
}

void deliver_stop(deliver_t *d, void (*on_closed)(void *arg), void *arg)
{
    d->stopping = 1;
    d->on_closed = on_closed;
    d->closed_arg = arg;
    /* Cancel in curl first, then what never reached it; a callback that
     * sends again gets an early cancellation, drained by the loop below. */
    while (d->reqs) {
        deliver_req_t *r = d->reqs;
        curl_multi_remove_handle(d->multi, r->easy);
        req_unlink(d, r);
        deliver_result_t res = {.outcome = DELIVER_CANCELLED, .error = "cancelled: stopping"};
        res.elapsed_ms = kw_now_ms() - r->start_ms;
        d->stats.cancelled++;
        r->done(&res, r->arg);
        req_free(r);
    }
    while (d->early_head)
        on_later(&d->later);
    curl_multi_cleanup(d->multi);
    d->multi = NULL;
    /* curl forgets its sockets on cleanup without always saying so. */
    while (d->socks)
        sock_close(d, d->socks);
    uv_timer_stop(&d->timer);
    uv_close((uv_handle_t *)&d->timer, on_handle_closed);
    uv_close((uv_handle_t *)&d->later, on_handle_closed);
}

int deliver_url_allowed(const deliver_t *d, const char *url, char *err, size_t errsize)
{
    int rc = deliver_url_check(url, err, errsize);
    if (rc != KW_OK) return rc;
    CURLU *u = curl_url();
    char *host = NULL;
    if (u == NULL || curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        curl_url_cleanup(u);
        return KW_OK; /* checked above; leave it to connect time */
    }
    /* curl gives IPv6 literals in brackets, possibly with a zone id. */
    char lit[INET6_ADDRSTRLEN + 8];
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && n - 2 < sizeof(lit)) {
        memcpy(lit, host + 1, n - 2);
        lit[n - 2] = '\0';
        char *zone = strchr(lit, '%');
        if (zone) *zone = '\0';
    } else {
        snprintf(lit, sizeof(lit), "%s", n < sizeof(lit) ? host : "");
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    int literal = 0;
    if (inet_pton(AF_INET, lit, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        literal = 1;
    } else if (inet_pton(AF_INET6, lit, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        literal = 1;
    }
    if (literal && !deliver_addr_allowed((struct sockaddr *)&ss, d->allow, d->nallow)) {
        snprintf(err, errsize,
                 "points to %s, a loopback, private, link-local or reserved address, which "
                 "this wire does not call",
                 lit);
        rc = KW_FORBIDDEN;
    }
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

size_t deliver_in_flight(const deliver_t *d)
{
    return d->nreqs;
}

void deliver_get_stats(const deliver_t *d, deliver_stats_t *out)
{
    *out = d->stats;
}
