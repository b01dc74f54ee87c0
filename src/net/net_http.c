/* net_http.c -- kawat's HTTP/1.1 server: accepts TCP connections on a libuv
 * loop, parses requests with http-parser, enforces limits and timeouts, hands
 * each complete request to one handler and writes its response.
 *
 * Design notes
 *
 * Connection life cycle.  A connection is always in one state:
 *
 *   IDLE      waiting for the first byte of the next request (timer: idle, or
 *             header timeout on a fresh connection);
 *   HEAD      request line and headers arriving (timer: header timeout, armed
 *             once at the first byte and never re-armed, so a slow-loris head
 *             cannot stretch it);
 *   BODY      body arriving (timer: body timeout, armed once);
 *   INFLIGHT  the handler owns the request (no timer: long polls are fine);
 *   WRITING   the response is queued on the socket (timer: idle timeout, a
 *             peer that does not take its response in that time is dropped;
 *             during a stop at most NET__STOP_WRITE_MS);
 *   LINGER    we answered and shut down our side; we read and discard until
 *             the peer closes or a short timer fires, so that unread input in
 *             the kernel does not turn our close into a reset that destroys
 *             the response (nginx's lingering close).
 *
 * The in-flight rule.  Once a request is handed to the handler the
 * connection parses nothing more until net_respond() has been called and its
 * write has completed: responses go out in request order without any queue
 * of responses.  Meanwhile the connection keeps reading only to notice the
 * peer going away; bytes that arrive (pipelined requests) are buffered, up to
 * max_header_bytes + max_body_bytes, past which reading stops until the
 * buffer has been parsed.  http-parser is paused in on_message_complete so
 * that it stops exactly at the end of each request.
 *
 * Ownership.  The connection owns the request being parsed; the handler owns
 * it from the handler call until net_respond(), which frees it exactly once.
 * A connection whose peer vanished while its request was in flight closes its
 * socket at once, but its memory lives on until net_respond() drops the
 * request: the connection is freed only when both libuv handles are closed
 * and no request refers to it.  The server counts connections until they are
 * freed, so a drain also waits for parked requests to be answered.
 *
 * Limits.  While a head is arriving the parser is fed at most what is left
 * of max_header_bytes; if it has eaten the whole allowance and the head is
 * still not over, the head is too large (431).  Header lines are counted in
 * the callbacks, bodies against max_body_bytes (Content-Length up front,
 * chunks as announced).  Every timer expiry counts in stats.timeouts, the
 * silent idle closes included; only head and body timeouts answer 408.
 *
 * Rejections (400, 408, 413, 431) are written by the server itself with
 * "Connection: close"; the rest of that connection's input is discarded.
 * End of input from the peer while its request is in flight counts as the
 * peer leaving (half-closed clients are not waited for). */
#include "net/net_http.h"

#include <errno.h>
#include <http_parser.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NET__BACKLOG 1024
#define NET__READ_BUF (64 * 1024)
#define NET__LINGER_MS 2000
#define NET__STOP_WRITE_MS 3000 /* during a stop, a response must be taken in this */

typedef enum {
    NET__IDLE,
    NET__HEAD,
    NET__BODY,
    NET__INFLIGHT,
    NET__WRITING,
    NET__LINGER
} net__state_t;

typedef struct net__conn_s net__conn_t;

/* Where a header's name and value sit in the request's head buffer; turned
 * into pointers once the head is complete and the buffer no longer grows. */
typedef struct {
    size_t name_off, name_len;
    size_t value_off, value_len;
} net__hdr_span_t;

typedef struct {
    net_request_t pub; /* first: the handler sees only this part */
    kw_buf_t head;     /* the URL, then header names and values back to back */
    kw_buf_t body;
    size_t url_len; /* the URL is head.data[0 .. url_len) */
    net__hdr_span_t *spans;
    size_t nspans, spans_cap;
    int last_cb;      /* 0 none, 1 header field, 2 header value */
    int headers_done; /* later header callbacks are trailers */
    size_t trailer_bytes;
    char *path; /* percent-decoded, NUL-terminated */
    unsigned short http_major, http_minor;
} net__req_t;

struct net__conn_s {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t shutdown;
    net_server_t *server;
    net__conn_t *prev, *next;
    http_parser parser;
    net__state_t state;
    net__req_t *req;     /* being parsed (HEAD/BODY) or in flight */
    kw_buf_t in;         /* bytes read while a request was in flight */
    size_t in_off;       /* in.data[in_off .. in.len) is yet to be parsed */
    int64_t in_since_ms; /* when the oldest buffered byte arrived */
    size_t head_bytes;   /* bytes of the current head parsed so far */
    int reject_status;   /* set by a parser callback to refuse the request */
    int handles_open;    /* tcp + timer until their close callbacks ran */
    int closing;         /* uv_close has been called */
    int reading;
    int keep;     /* keep the connection after the current response */
    int discard;  /* input is no longer wanted */
    int peer_eof; /* the peer shut down its side */
    char remote[64];
};

struct net_server_s {
    uv_loop_t *loop;
    uv_tcp_t listener;
    net_config_t cfg;
    net_handler_fn handler;
    void *data;
    net__conn_t *conns;
    size_t nconns;
    int port;
    int stopping;
    int listener_closed;
    int drained;
    void (*on_drained)(void *arg);
    void *drained_arg;
    net_stats_t stats;
    time_t date_sec;
    char date[40];
    char read_buf[NET__READ_BUF]; /* one loop thread: reads never overlap */
};

typedef struct {
    uv_write_t req; /* first: the libuv callback gets this back */
    net__conn_t *conn;
    char *data; /* freed after the write; NULL for static data */
    int final;  /* the response itself, not a 100 Continue */
} net__write_t;

static void net__conn_close(net__conn_t *c);
static void net__conn_reject(net__conn_t *c, int status);
static size_t net__conn_feed(net__conn_t *c, const char *data, size_t len);
static void net__on_timer(uv_timer_t *t);
static void net__on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

/* ---- small helpers ------------------------------------------------------ */

static const struct {
    int status;
    const char *text;
} net__status_texts[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {206, "Partial Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {422, "Unprocessable Content"},
    {425, "Too Early"},
    {426, "Upgrade Required"},
    {428, "Precondition Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {451, "Unavailable For Legal Reasons"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
};

const char *net_status_text(int status)
{
    for (size_t i = 0; i < KW_ARRAY_SIZE(net__status_texts); i++)
        if (net__status_texts[i].status == status) return net__status_texts[i].text;
    return "Unknown";
}

void net_config_defaults(net_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen = "127.0.0.1:8080";
    cfg->max_header_bytes = 16 * 1024;
    cfg->max_headers = 100;
    cfg->max_body_bytes = 1024 * 1024;
    cfg->header_timeout_ms = 10 * 1000;
    cfg->body_timeout_ms = 30 * 1000;
    cfg->idle_timeout_ms = 60 * 1000;
    cfg->max_connections = 10000;
}

static const char net__days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char net__months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* The IMF-fixdate for now ("Sun, 06 Nov 1994 08:49:37 GMT"), recomputed
 * at most once a second. */
static const char *net__date(net_server_t *s)
{
    time_t now = time(NULL);
    if (now != s->date_sec || s->date[0] == '\0') {
        struct tm tm;
        gmtime_r(&now, &tm);
        snprintf(s->date, sizeof s->date, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                 net__days[tm.tm_wday % 7], tm.tm_mday, net__months[tm.tm_mon % 12],
                 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        s->date_sec = now;
    }
    return s->date;
}

static kw_str_t net__trim(const char *p, size_t n)
{
    while (n > 0 && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n'))
        n--;
    return (kw_str_t){p, n};
}

static int net__hex(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Percent-decodes raw into a new NUL-terminated string (*out, to free()).
 * Returns KW_INVALID for a bad escape, an encoded NUL or a result that is
 * not valid UTF-8; '+' is left alone (it means space only in queries). */
static int net__path_decode(const char *raw, size_t n, char **out, size_t *out_len)
{
    char *p = kw_malloc(n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (raw[i] != '%') {
            p[j++] = raw[i];
            continue;
        }
        int hi = i + 1 < n ? net__hex(raw[i + 1]) : -1;
        int lo = i + 2 < n ? net__hex(raw[i + 2]) : -1;
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free(p);
            return KW_INVALID;
        }
        p[j++] = (char)(hi * 16 + lo);
        i += 2;
    }
    p[j] = '\0';
    if (!kw_utf8_valid(p, j)) {
        free(p);
        return KW_INVALID;
    }
    *out = p;
    *out_len = j;
    return KW_OK;
}

/* Appends s to b for a log line: quotes, backslashes, controls and bytes
 * past ASCII become \xHH, so a request cannot forge log lines. */
static void net__log_escape(kw_buf_t *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
            kw_buf_printf(b, "\\x%02X", ch);
        else
            kw_buf_putc(b, (char)ch);
    }
}

/* One access-log line for a response (status, body bytes sent). */
static void net__access_log(net__conn_t *c, const net__req_t *r, int status, size_t bytes)
{
    net_server_t *s = c->server;
    if (s->cfg.access_log == NULL) return;
    int64_t now = kw_now_ms();
    time_t sec = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    kw_buf_t b = {0};
    const char *remote = r ? r->pub.remote_addr : c->remote;
    kw_buf_printf(&b, "%s - - [%02d/%s/%04d:%02d:%02d:%02d +0000] \"", remote, tm.tm_mday,
                  net__months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (r && r->headers_done) {
        kw_buf_puts(&b, r->pub.method_name.data);
        kw_buf_putc(&b, ' ');
        net__log_escape(&b, r->head.data, r->url_len);
        kw_buf_printf(&b, " HTTP/%u.%u", r->http_major, r->http_minor);
    } else if (r && r->url_len > 0) { /* refused before the head was over */
        kw_buf_puts(&b, http_method_str((enum http_method)c->parser.method));
        kw_buf_putc(&b, ' ');
        net__log_escape(&b, r->head.data, r->url_len);
    } else {
        kw_buf_putc(&b, '-');
    }
    int64_t dur = r ? now - r->pub.start_ms : 0;
    kw_buf_printf(&b, "\" %d %zu %lld\n", status, bytes, (long long)(dur < 0 ? 0 : dur));
    fwrite(b.data, 1, b.len, s->cfg.access_log);
    fflush(s->cfg.access_log);
    kw_buf_free(&b);
}

/* ---- requests ------------------------------------------------------------ */

static void net__req_free(net__req_t *r)
{
    if (r == NULL) return;
    kw_buf_free(&r->head);
    kw_buf_free(&r->body);
    free(r->spans);
    free(r->pub.headers);
    free(r->path);
    free(r);
}

const kw_str_t *net_request_header(const net_request_t *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (kw_str_caseeq(req->headers[i].name, name)) return &req->headers[i].value;
    return NULL;
}

int net_request_alive(const net_request_t *req)
{
    const net__conn_t *c = req->conn__;
    return !c->closing && !c->peer_eof;
}

/* Starts a request at its first byte: allocates it and arms the head timer. */
static void net__req_begin(net__conn_t *c, int64_t arrived_ms)
{
    net__req_t *r = kw_calloc(1, sizeof *r);
    r->pub.conn__ = c;
    r->pub.start_ms = arrived_ms;
    memcpy(r->pub.remote_addr, c->remote, sizeof r->pub.remote_addr);
    c->req = r;
    c->state = NET__HEAD;
    c->head_bytes = 0;
    c->reject_status = 0;
    c->parser.data = c;
    uv_timer_start(&c->timer, net__on_timer, c->server->cfg.header_timeout_ms, 0);
}

/* With trust_proxy: the last entry of the last X-Forwarded-For header, which
 * is the one our own proxy appended (earlier entries are the client's claim).
 * Kept only if it parses as an IP address. */
static void net__req_forwarded_for(net__req_t *r)
{
    const kw_str_t *xff = NULL;
    for (size_t i = 0; i < r->pub.nheaders; i++)
        if (kw_str_caseeq(r->pub.headers[i].name, "x-forwarded-for"))
            xff = &r->pub.headers[i].value;
    if (xff == NULL || xff->len == 0) return;
    size_t start = xff->len;
    while (start > 0 && xff->data[start - 1] != ',')
        start--;
    kw_str_t ip = net__trim(xff->data + start, xff->len - start);
    char tmp[64];
    unsigned char addr[16];
    if (ip.len == 0 || ip.len >= sizeof tmp) return;
    memcpy(tmp, ip.data, ip.len);
    tmp[ip.len] = '\0';
    if (uv_inet_pton(AF_INET, tmp, addr) != 0 && uv_inet_pton(AF_INET6, tmp, addr) != 0) return;
    memcpy(r->pub.remote_addr, tmp, ip.len + 1);
}

/* Splits the target into path and query and decodes the path.  Returns
 * KW_OK or KW_INVALID (answer 400). */
static int net__req_target(net__req_t *r, int method)
{
    const char *t = r->head.data;
    size_t n = r->url_len;
    const char *path = t, *query = NULL;
    size_t path_len = n, query_len = 0;

    if (n == 0) return KW_INVALID;
    if (t[0] == '/' || (n == 1 && t[0] == '*') || method == HTTP_CONNECT) {
        size_t end = 0;
        if (method != HTTP_CONNECT)
            while (end < n && t[end] != '?' && t[end] != '#')
                end++;
        else
            end = n;
        path_len = end;
        if (end < n && t[end] == '?') {
            size_t q = end + 1, qe = q;
            while (qe < n && t[qe] != '#')
                qe++;
            query = t + q;
            query_len = qe - q;
        }
    } else {
        struct http_parser_url u;
        http_parser_url_init(&u);
        if (http_parser_parse_url(t, n, 0, &u) != 0) return KW_INVALID;
        if (u.field_set & (1 << UF_PATH)) {
            path = t + u.field_data[UF_PATH].off;
            path_len = u.field_data[UF_PATH].len;
        } else {
            path = "/";
            path_len = 1;
        }
        if (u.field_set & (1 << UF_QUERY)) {
            query = t + u.field_data[UF_QUERY].off;
            query_len = u.field_data[UF_QUERY].len;
        }
    }
    size_t dlen = 0;
    if (net__path_decode(path, path_len, &r->path, &dlen) != KW_OK) return KW_INVALID;
    r->pub.target = (kw_str_t){t, n};
    r->pub.path = (kw_str_t){r->path, dlen};
    r->pub.query = query ? (kw_str_t){query, query_len} : KW_STR("");
    return KW_OK;
}

/* ---- http-parser callbacks ---------------------------------------------- */

static void net__on_write(uv_write_t *req, int status);

static int net__refuse(net__conn_t *c, int status)
{
    if (c->reject_status == 0) c->reject_status = status;
    return -1;
}

static int net__on_url(http_parser *p, const char *at, size_t len)
{
    net__conn_t *c = p->data;
    kw_buf_append(&c->req->head, at, len);
    c->req->url_len += len;
    return 0;
}

/* Trailers (header lines after a chunked body) are counted against
 * max_header_bytes and otherwise dropped. */
static int net__trailer(net__conn_t *c, size_t len)
{
    c->req->trailer_bytes += len;
    return c->req->trailer_bytes > c->server->cfg.max_header_bytes ? net__refuse(c, 431) : 0;
}

static int net__on_header_field(http_parser *p, const char *at, size_t len)
{
    net__conn_t *c = p->data;
    net__req_t *r = c->req;
    if (r->headers_done) return net__trailer(c, len);
    if (r->last_cb != 1) {
        if (r->nspans >= c->server->cfg.max_headers) return net__refuse(c, 431);
        if (r->nspans == r->spans_cap) {
            r->spans_cap = r->spans_cap ? r->spans_cap * 2 : 16;
            r->spans = kw_realloc(r->spans, r->spans_cap * sizeof *r->spans);
        }
        net__hdr_span_t *h = &r->spans[r->nspans++];
        h->name_off = r->head.len;
        h->name_len = 0;
        h->value_off = r->head.len;
        h->value_len = 0;
        r->last_cb = 1;
    }
    kw_buf_append(&r->head, at, len);
    r->spans[r->nspans - 1].name_len += len;
    return 0;
}

static int net__on_header_value(http_parser *p, const char *at, size_t len)
{
    net__conn_t *c = p->data;
    net__req_t *r = c->req;
    if (r->headers_done) return net__trailer(c, len);
    if (r->nspans == 0) return 0;
    net__hdr_span_t *h = &r->spans[r->nspans - 1];
    if (r->last_cb != 2) {
        h->value_off = r->head.len;
        h->value_len = 0;
        r->last_cb = 2;
    }
    kw_buf_append(&r->head, at, len);
    h->value_len += len;
    return 0;
}

/* Whether s is an RFC 9110 token (what a header name must be). */
static int net__is_token(kw_str_t s)
{
    if (s.len == 0) return 0;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char ch = (unsigned char)s.data[i];
        if (ch <= 0x20 || ch >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", ch)) return 0;
    }
    return 1;
}

/* The head is complete: fix the header pointers, check framing and limits,
 * decode the target, answer Expect: 100-continue and arm the body timer. */
static int net__on_headers_complete(http_parser *p)
{
    net__conn_t *c = p->data;
    net__req_t *r = c->req;
    net_server_t *s = c->server;
    int has_cl = 0, has_te = 0, expect_continue = 0, bad_name = 0;

    r->headers_done = 1;
    r->http_major = p->http_major;
    r->http_minor = p->http_minor;
    r->pub.method = p->method;
    r->pub.method_name = (kw_str_t){http_method_str((enum http_method)p->method), 0};
    r->pub.method_name.len = strlen(r->pub.method_name.data);
    r->pub.headers = kw_calloc(r->nspans ? r->nspans : 1, sizeof *r->pub.headers);
    r->pub.nheaders = r->nspans;
    for (size_t i = 0; i < r->nspans; i++) {
        net_header_t *h = &r->pub.headers[i];
        h->name = (kw_str_t){r->head.data + r->spans[i].name_off, r->spans[i].name_len};
        h->value = net__trim(r->head.data + r->spans[i].value_off, r->spans[i].value_len);
        if (!net__is_token(h->name)) bad_name = 1;
        if (kw_str_caseeq(h->name, "content-length")) has_cl = 1;
        if (kw_str_caseeq(h->name, "transfer-encoding")) has_te = 1;
        if (kw_str_caseeq(h->name, "expect") && kw_str_caseeq(h->value, "100-continue"))
            expect_continue = 1;
    }
    if (p->http_major != 1) return net__refuse(c, 400);
    /* "Content-Length :" and the like: RFC 9112 5.1 says reject, since a
     * proxy in front may read such a line differently (smuggling). */
    if (bad_name) return net__refuse(c, 400);
    if (has_cl && has_te) return net__refuse(c, 400); /* request smuggling */
    if (net__req_target(r, p->method) != KW_OK) return net__refuse(c, 400);
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > s->cfg.max_body_bytes)
        return net__refuse(c, 413);
    if (s->cfg.trust_proxy) net__req_forwarded_for(r);
    r->pub.keep_alive = http_should_keep_alive(p) && !p->upgrade;

    int has_body =
        (p->flags & F_CHUNKED) || ((p->flags & F_CONTENTLENGTH) && p->content_length > 0);
    if (has_body) {
        c->state = NET__BODY;
        uv_timer_start(&c->timer, net__on_timer, s->cfg.body_timeout_ms, 0);
        if (expect_continue && (p->http_major > 1 || p->http_minor >= 1)) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            net__write_t *w = kw_calloc(1, sizeof *w);
            uv_buf_t b = uv_buf_init((char *)cont, sizeof cont - 1);
            w->conn = c;
            if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, net__on_write) != 0) {
                free(w);
            } else {
                s->stats.bytes_out += b.len;
                s->stats.responses_by_class[1]++;
            }
        }
    }
    return 0;
}

static int net__on_chunk_header(http_parser *p)
{
    net__conn_t *c = p->data;
    /* Written so that a huge announced chunk size cannot wrap around. */
    if (p->content_length > c->server->cfg.max_body_bytes - c->req->body.len)
        return net__refuse(c, 413);
    return 0;
}

static int net__on_body(http_parser *p, const char *at, size_t len)
{
    net__conn_t *c = p->data;
    if (len > c->server->cfg.max_body_bytes - c->req->body.len) return net__refuse(c, 413);
    kw_buf_append(&c->req->body, at, len);
    return 0;
}

/* Stops the parser exactly at the end of this request (the in-flight rule). */
static int net__on_message_complete(http_parser *p)
{
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings net__settings = {
    .on_url = net__on_url,
    .on_header_field = net__on_header_field,
    .on_header_value = net__on_header_value,
    .on_headers_complete = net__on_headers_complete,
    .on_body = net__on_body,
    .on_message_complete = net__on_message_complete,
    .on_chunk_header = net__on_chunk_header,
};

/* ---- connections ---------------------------------------------------------- */

static void net__server_maybe_drained(net_server_t *s)
{
    if (!s->stopping || !s->listener_closed || s->nconns > 0 || s->drained) return;
    s->drained = 1;
    if (s->on_drained) s->on_drained(s->drained_arg); /* may free s */
}

/* Frees c once both handles are closed and no request refers to it. */
static void net__conn_maybe_free(net__conn_t *c)
{
    if (c->handles_open > 0 || c->req != NULL) return;
    net_server_t *s = c->server;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    s->nconns--;
    s->stats.connections_open--;
    kw_buf_free(&c->in);
    free(c);
    net__server_maybe_drained(s);
}

static void net__conn_on_close(uv_handle_t *h)
{
    net__conn_t *c = h->data;
    c->handles_open--;
    net__conn_maybe_free(c);
}

/* Closes the socket now.  A request being parsed is freed; one in flight
 * stays with the handler (net_request_alive() turns 0). */
static void net__conn_close(net__conn_t *c)
{
    if (c->closing) return;
    c->closing = 1;
    if (c->req && c->state != NET__INFLIGHT) {
        net__req_free(c->req);
        c->req = NULL;
    }
    uv_close((uv_handle_t *)&c->timer, net__conn_on_close);
    uv_close((uv_handle_t *)&c->tcp, net__conn_on_close);
}

static void net__conn_on_shutdown(uv_shutdown_t *sr, int status)
{
    net__conn_t *c = sr->data;
    if (status < 0 && !c->closing) net__conn_close(c);
}

/* Ends a connection after its last response: half-close, then discard input
 * until the peer closes or NET__LINGER_MS pass. */
static void net__conn_linger(net__conn_t *c)
{
    if (c->peer_eof) {
        net__conn_close(c);
        return;
    }
    c->state = NET__LINGER;
    c->discard = 1;
    c->shutdown.data = c;
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, net__conn_on_shutdown) != 0) {
        net__conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, net__on_timer, NET__LINGER_MS, 0);
}

static void net__on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    net__conn_t *c = h->data;
    buf->base = c->server->read_buf;
    buf->len = sizeof c->server->read_buf;
}

static void net__conn_read_start(net__conn_t *c)
{
    if (c->reading || c->closing) return;
    if (uv_read_start((uv_stream_t *)&c->tcp, net__on_alloc, net__on_read) != 0) {
        net__conn_close(c);
        return;
    }
    c->reading = 1;
}

static void net__conn_read_stop(net__conn_t *c)
{
    if (!c->reading) return;
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = 0;
}

/* Parses the bytes buffered while a request was in flight; called when the
 * connection is ready for its next request. */
static void net__conn_drain_input(net__conn_t *c)
{
    size_t pending = c->in.len - c->in_off;
    if (pending > 0) {
        size_t used = net__conn_feed(c, c->in.data + c->in_off, pending);
        if (!c->closing && !c->discard) {
            c->in_off += used;
            if (c->in_off == c->in.len) {
                kw_buf_reset(&c->in);
                c->in_off = 0;
            }
        }
    }
    if (c->closing) return;
    if (c->discard) {
        kw_buf_reset(&c->in);
        c->in_off = 0;
    }
    if (c->state == NET__IDLE || c->state == NET__HEAD || c->state == NET__BODY ||
        c->state == NET__LINGER)
        net__conn_read_start(c);
}

/* The response is on the wire: close, or wait for the next request. */
static void net__conn_after_response(net__conn_t *c)
{
    net_server_t *s = c->server;
    if (!c->keep || s->stopping || c->peer_eof) {
        net__conn_linger(c);
        if (!c->closing) net__conn_read_start(c);
        return;
    }
    c->state = NET__IDLE;
    uv_timer_start(&c->timer, net__on_timer, s->cfg.idle_timeout_ms, 0);
    net__conn_drain_input(c);
}

static void net__on_write(uv_write_t *req, int status)
{
    net__write_t *w = (net__write_t *)req;
    net__conn_t *c = w->conn;
    int final = w->final;
    free(w->data);
    free(w);
    if (c->closing) return;
    if (status < 0) {
        net__conn_close(c);
        return;
    }
    if (final) net__conn_after_response(c);
}

/* How long a peer may take to accept a response: the idle timeout, but no
 * more than NET__STOP_WRITE_MS once the server is stopping, so that a
 * client that does not read cannot hold a graceful stop up. */
static uint64_t net__write_timeout(const net_server_t *s)
{
    return s->stopping && s->cfg.idle_timeout_ms > NET__STOP_WRITE_MS ? NET__STOP_WRITE_MS
                                                                      : s->cfg.idle_timeout_ms;
}

/* Queues a complete response (head + body in data, taken over) and moves
 * the connection to WRITING.  On failure the connection is closed. */
static void net__conn_send(net__conn_t *c, char *data, size_t len)
{
    net__write_t *w = kw_calloc(1, sizeof *w);
    w->conn = c;
    w->data = data;
    w->final = 1;
    c->state = NET__WRITING;
    c->server->stats.bytes_out += len;
    uv_timer_start(&c->timer, net__on_timer, net__write_timeout(c->server), 0);
    uv_buf_t b = uv_buf_init(data, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, net__on_write) != 0) {
        free(w->data);
        free(w);
        net__conn_close(c);
    }
}

/* Builds the response head into b. */
static void net__response_head(kw_buf_t *b, net_server_t *s, int status, const char *ctype,
                               const char *headers, size_t len, int send_length, int keep)
{
    kw_buf_printf(b, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status, net_status_text(status),
                  net__date(s));
    if (ctype && *ctype) kw_buf_printf(b, "Content-Type: %s\r\n", ctype);
    if (send_length) kw_buf_printf(b, "Content-Length: %zu\r\n", len);
    kw_buf_puts(b, keep ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
    kw_buf_puts(b, "X-Content-Type-Options: nosniff\r\n");
    if (headers && *headers) {
        kw_buf_puts(b, headers);
        if (b->data[b->len - 1] != '\n') kw_buf_puts(b, "\r\n"); /* forgiving */
    }
    kw_buf_puts(b, "\r\n");
}

static void net__count_status(net_server_t *s, int status)
{
    int cls = status / 100;
    if (cls >= 1 && cls <= 5) s->stats.responses_by_class[cls]++;
}

/* Whether the target of a refused request (as far as it arrived) is under
 * the JSON API, whose clients expect problem documents. */
static int net__target_is_api(const net__req_t *r)
{
    if (r == NULL || r->url_len < 3 || memcmp(r->head.data, "/v1", 3) != 0) return 0;
    return r->url_len == 3 || r->head.data[3] == '/' || r->head.data[3] == '?';
}

/* Refuses the current input with a short error response and closes after it:
 * an RFC 9457 problem document for targets under /v1, else a small HTML page.
 * Only for a connection that is not in flight. */
static void net__conn_reject(net__conn_t *c, int status)
{
    net_server_t *s = c->server;
    const char *text = net_status_text(status);
    kw_buf_t b = {0}, body = {0};
    int api = net__target_is_api(c->req);

    if (api)
        kw_buf_printf(&body,
                      "{\"type\":\"/problems/%s\",\"title\":\"%s\",\"status\":%d,"
                      "\"detail\":\"The HTTP layer refused the request: %s.\"}",
                      status == 400   ? "bad-request"
                      : status == 408 ? "request-timeout"
                      : status == 413 ? "content-too-large"
                      : status == 431 ? "header-fields-too-large"
                                      : "refused",
                      text, status,
                      status == 400   ? "it is not well-formed HTTP/1.1"
                      : status == 408 ? "it did not arrive in time"
                      : status == 413 ? "the body is larger than the server takes"
                      : status == 431 ? "the request line and headers are too large"
                                      : text);
    else
        kw_buf_printf(&body,
                      "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>%d %s</title>"
                      "</head>\n<body><h1>%d %s</h1></body></html>\n",
                      status, text, status, text);
    s->stats.rejected_limits++;
    net__count_status(s, status);
    net__access_log(c, c->req, status, body.len);
    net__req_free(c->req);
    c->req = NULL;
    c->discard = 1;
    c->keep = 0;
    net__response_head(&b, s, status, api ? "application/problem+json" : "text/html; charset=utf-8",
                       "Cache-Control: no-store\r\n", body.len, 1, 0);
    kw_buf_append(&b, body.data, body.len);
    kw_buf_free(&body);
    size_t len;
    char *data = kw_buf_steal(&b, &len);
    net__conn_send(c, data, len);
}

/* Hands the complete request to the handler. */
static void net__conn_dispatch(net__conn_t *c)
{
    net_server_t *s = c->server;
    net__req_t *r = c->req;
    r->pub.body = (kw_str_t){r->body.data ? r->body.data : "", r->body.len};
    c->state = NET__INFLIGHT;
    uv_timer_stop(&c->timer);
    s->stats.requests_total++;
    if (c->parser.upgrade) c->discard = 1; /* the rest is another protocol */
    s->handler(&r->pub, s->data);
}

/* Feeds bytes to the parser until they run out, a request is dispatched or
 * the input is refused.  Returns how many bytes were used; the caller keeps
 * the rest (in c->in) for after the response. */
static size_t net__conn_feed(net__conn_t *c, const char *data, size_t len)
{
    net_server_t *s = c->server;
    size_t done = 0;
    while (done < len && !c->closing && !c->discard) {
        if (c->state == NET__IDLE) {
            /* Stray CRLFs between requests are not a request. */
            while (done < len && (data[done] == '\r' || data[done] == '\n'))
                done++;
            if (done == len) break;
            net__req_begin(c, c->in_off < c->in.len ? c->in_since_ms : kw_now_ms());
        } else if (c->state != NET__HEAD && c->state != NET__BODY) {
            break;
        }
        size_t n = len - done;
        if (c->state == NET__HEAD && n > s->cfg.max_header_bytes - c->head_bytes)
            n = s->cfg.max_header_bytes - c->head_bytes; /* see "Limits" above */
        size_t used = http_parser_execute(&c->parser, &net__settings, data + done, n);
        enum http_errno err = HTTP_PARSER_ERRNO(&c->parser);
        if (c->reject_status) {
            net__conn_reject(c, c->reject_status);
            return len;
        }
        if (err == HPE_PAUSED) {
            http_parser_pause(&c->parser, 0);
            done += used;
            net__conn_dispatch(c);
            break;
        }
        if (err != HPE_OK) {
            net__conn_reject(c, err == HPE_HEADER_OVERFLOW ? 431 : 400);
            return len;
        }
        done += used;
        if (c->state == NET__HEAD) {
            c->head_bytes += used;
            if (c->head_bytes >= s->cfg.max_header_bytes) {
                /* The whole allowance is used and the head is not over. */
                net__conn_reject(c, 431);
                return len;
            }
        }
        if (used < n) { /* cannot happen without an error; never spin */
            net__conn_reject(c, 400);
            return len;
        }
    }
    return done;
}

/* Keeps bytes that arrived while a request was in flight; stops reading
 * once max_header_bytes + max_body_bytes are waiting. */
static void net__conn_buffer(net__conn_t *c, const char *data, size_t len)
{
    net_server_t *s = c->server;
    if (c->in_off == c->in.len) {
        kw_buf_reset(&c->in);
        c->in_off = 0;
        c->in_since_ms = kw_now_ms();
    } else if (c->in_off > c->in.len / 2) {
        memmove(c->in.data, c->in.data + c->in_off, c->in.len - c->in_off);
        c->in.len -= c->in_off;
        c->in_off = 0;
    }
    kw_buf_append(&c->in, data, len);
    if (c->in.len - c->in_off > s->cfg.max_header_bytes + s->cfg.max_body_bytes)
        net__conn_read_stop(c);
}

static void net__on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    net__conn_t *c = stream->data;
    if (nread == 0 || c->closing) return;
    if (nread < 0) {
        if (nread == UV_EOF && c->state == NET__WRITING) {
            /* Let the response go out, then close. */
            c->peer_eof = 1;
            c->keep = 0;
            net__conn_read_stop(c);
        } else {
            net__conn_close(c);
        }
        return;
    }
    c->server->stats.bytes_in += (uint64_t)nread;
    if (c->discard) return;
    if (c->state == NET__INFLIGHT || c->state == NET__WRITING) {
        net__conn_buffer(c, buf->base, (size_t)nread);
        return;
    }
    size_t used = net__conn_feed(c, buf->base, (size_t)nread);
    if (used < (size_t)nread && !c->closing && !c->discard)
        net__conn_buffer(c, buf->base + used, (size_t)nread - used);
}

static void net__on_timer(uv_timer_t *t)
{
    net__conn_t *c = t->data;
    net_server_t *s = c->server;
    switch (c->state) {
    case NET__HEAD:
    case NET__BODY:
        s->stats.timeouts++;
        net__conn_reject(c, 408);
        break;
    case NET__IDLE:
    case NET__WRITING:
        s->stats.timeouts++;
        net__conn_close(c);
        break;
    case NET__LINGER:
        net__conn_close(c);
        break;
    case NET__INFLIGHT:
        break;
    }
}

static void net__on_reject_close(uv_handle_t *h)
{
    free(h);
}

static void net__on_connection(uv_stream_t *listener, int status)
{
    net_server_t *s = listener->data;
    if (status < 0 || s->stopping) return;

    if (s->nconns >= s->cfg.max_connections) {
        /* Accept and close at once: the peer learns now, not at a timeout. */
        uv_tcp_t *t = kw_malloc(sizeof *t);
        uv_tcp_init(s->loop, t);
        uv_accept(listener, (uv_stream_t *)t);
        uv_close((uv_handle_t *)t, net__on_reject_close);
        return;
    }

    net__conn_t *c = kw_calloc(1, sizeof *c);
    c->server = s;
    c->state = NET__IDLE;
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->handles_open = 2;
    c->next = s->conns;
    if (s->conns) s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    s->stats.connections_open++;
    s->stats.connections_total++;
    strcpy(c->remote, "-");

    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        net__conn_close(c);
        return;
    }
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            uv_ip4_name((struct sockaddr_in *)&ss, c->remote, sizeof c->remote);
        else if (ss.ss_family == AF_INET6)
            uv_ip6_name((struct sockaddr_in6 *)&ss, c->remote, sizeof c->remote);
        /* A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d. */
        if (strncmp(c->remote, "::ffff:", 7) == 0 && strchr(c->remote, '.'))
            memmove(c->remote, c->remote + 7, strlen(c->remote + 7) + 1);
    }
    uv_tcp_nodelay(&c->tcp, 1);
    /* A fresh connection gets the header timeout to send its first byte. */
    uv_timer_start(&c->timer, net__on_timer, s->cfg.header_timeout_ms, 0);
    net__conn_read_start(c);
}

/* ---- responses ------------------------------------------------------------ */

void net_respond(net_request_t *req, int status, const char *content_type, const char *headers,
                 const void *body, size_t len)
{
    net__req_t *r = (net__req_t *)req;
    net__conn_t *c = req->conn__;
    net_server_t *s = c->server;

    if (c->closing) {
        /* The peer is gone: drop the response (logged as nginx's 499). */
        net__access_log(c, r, 499, 0);
        net__req_free(r);
        c->req = NULL;
        net__conn_maybe_free(c);
        return;
    }

    int no_body = status < 200 || status == 204 || status == 304;
    int head = req->method == HTTP_HEAD;
    size_t sent = (no_body || head) ? 0 : len;
    c->keep = req->keep_alive && !s->stopping && !c->peer_eof && !c->parser.upgrade;

    kw_buf_t b = {0};
    /* One allocation for head and body: a cached page is written as it
     * is, without a series of reallocations growing the buffer. */
    kw_buf_reserve(&b, 384 + (headers ? strlen(headers) : 0) + sent);
    net__response_head(&b, s, status, content_type, headers, len, !no_body, c->keep);
    if (sent) kw_buf_append(&b, body, sent);
    net__count_status(s, status);
    net__access_log(c, r, status, sent);
    net__req_free(r);
    c->req = NULL;

    size_t out_len;
    char *data = kw_buf_steal(&b, &out_len);
    net__conn_send(c, data, out_len);
}

int net_request_detach(net_request_t *req, int status, uv_os_sock_t *out)
{
    net__req_t *r = (net__req_t *)req;
    net__conn_t *c = req->conn__;
    net_server_t *s = c->server;
    uv_os_fd_t fd;
    int copy = -1;

    if (!c->closing && uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0) copy = dup(fd);
    if (copy < 0) {
        if (!c->closing) {
            net_respond(req, 503, "text/plain; charset=utf-8", NULL, "busy\n", 5);
            return KW_ERROR;
        }
        net__access_log(c, r, 499, 0);
        net__req_free(r);
        c->req = NULL;
        net__conn_maybe_free(c);
        return KW_ERROR;
    }
    net__count_status(s, status);
    net__access_log(c, r, status, 0);
    net__req_free(r);
    c->req = NULL;
    /* Our handle goes; the duplicate keeps the socket open for its new
     * owner. */
    net__conn_close(c);
    *out = (uv_os_sock_t)copy;
    return KW_OK;
}

/* ---- the server ------------------------------------------------------------ */

/* Parses "host:port" or "[v6]:port" into sa.  Returns KW_OK or KW_INVALID. */
static int net__parse_listen(const char *listen, struct sockaddr_storage *sa)
{
    char host[64];
    const char *colon;
    const char *h = listen;
    size_t hlen;
    int v6 = 0;

    if (listen == NULL) return KW_INVALID;
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (close == NULL || close[1] != ':') return KW_INVALID;
        h = listen + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
        v6 = 1;
    } else {
        colon = strrchr(listen, ':');
        if (colon == NULL) return KW_INVALID;
        hlen = (size_t)(colon - listen);
    }
    if (hlen == 0 || hlen >= sizeof host) return KW_INVALID;
    memcpy(host, h, hlen);
    host[hlen] = '\0';

    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || errno || port < 0 || port > 65535) return KW_INVALID;

    memset(sa, 0, sizeof *sa);
    if (!v6 && uv_ip4_addr(host, (int)port, (struct sockaddr_in *)sa) == 0) return KW_OK;
    if (uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)sa) == 0) return KW_OK;
    return KW_INVALID;
}

static void net__listener_on_close(uv_handle_t *h)
{
    net_server_t *s = h->data;
    s->listener_closed = 1;
    net__server_maybe_drained(s);
}

static void net__listener_free_on_close(uv_handle_t *h)
{
    free(h->data);
}

int net_server_start(uv_loop_t *loop, const net_config_t *cfg, net_handler_fn handler, void *data,
                     net_server_t **out)
{
    net_config_t def;
    struct sockaddr_storage sa;
    int fd = -1, one = 1, rc;
    net_server_t *s = NULL;

    *out = NULL;
    net_config_defaults(&def);
    /* A peer that resets while we write must cost an EPIPE, not the process.
     * Only a default disposition is replaced; a caller's own handler stays. */
    struct sigaction old;
    if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL) signal(SIGPIPE, SIG_IGN);
    if (net__parse_listen(cfg->listen, &sa) != KW_OK) {
        fprintf(stderr, "kawat: bad listen address '%s' (want host:port or [v6]:port)\n",
                cfg->listen ? cfg->listen : "(null)");
        goto fail;
    }
    socklen_t salen =
        sa.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&sa, salen) != 0 || listen(fd, NET__BACKLOG) != 0) {
        fprintf(stderr, "kawat: cannot listen on %s: %s\n", cfg->listen, strerror(errno));
        goto fail;
    }

    s = kw_calloc(1, sizeof *s);
    s->loop = loop;
    s->cfg = *cfg;
    s->cfg.listen = NULL; /* the caller's string need not outlive this call */
    /* Zero means "the default" for every limit. */
    if (!s->cfg.max_header_bytes) s->cfg.max_header_bytes = def.max_header_bytes;
    if (!s->cfg.max_headers) s->cfg.max_headers = def.max_headers;
    if (!s->cfg.max_body_bytes) s->cfg.max_body_bytes = def.max_body_bytes;
    if (!s->cfg.header_timeout_ms) s->cfg.header_timeout_ms = def.header_timeout_ms;
    if (!s->cfg.body_timeout_ms) s->cfg.body_timeout_ms = def.body_timeout_ms;
    if (!s->cfg.idle_timeout_ms) s->cfg.idle_timeout_ms = def.idle_timeout_ms;
    if (!s->cfg.max_connections) s->cfg.max_connections = def.max_connections;
    s->handler = handler;
    s->data = data;

    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    if (getsockname(fd, (struct sockaddr *)&bound, &blen) == 0)
        s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                    : ((struct sockaddr_in *)&bound)->sin_port);

    if ((rc = uv_tcp_init(loop, &s->listener)) != 0) {
        fprintf(stderr, "kawat: listen %s: %s\n", cfg->listen, uv_strerror(rc));
        goto fail;
    }
    s->listener.data = s;
    if ((rc = uv_tcp_open(&s->listener, fd)) != 0 ||
        (rc = uv_listen((uv_stream_t *)&s->listener, NET__BACKLOG, net__on_connection)) != 0) {
        fprintf(stderr, "kawat: listen %s: %s\n", cfg->listen, uv_strerror(rc));
        /* The handle owns fd now; it and s go when the loop runs the close. */
        uv_close((uv_handle_t *)&s->listener, net__listener_free_on_close);
        return KW_ERROR;
    }
    *out = s;
    return KW_OK;

fail:
    if (fd >= 0) close(fd);
    free(s);
    return KW_ERROR;
}

void net_server_stop(net_server_t *s, void (*on_drained)(void *arg), void *arg)
{
    if (s->stopping) return;
    s->stopping = 1;
    s->on_drained = on_drained;
    s->drained_arg = arg;
    for (net__conn_t *c = s->conns; c; c = c->next) {
        if (c->closing) continue;
        switch (c->state) {
        case NET__IDLE:
        case NET__HEAD:
        case NET__BODY:
            net__conn_close(c);
            break;
        case NET__WRITING: /* a response still going out gets a short grace */
            if (uv_timer_get_due_in(&c->timer) > NET__STOP_WRITE_MS)
                uv_timer_start(&c->timer, net__on_timer, NET__STOP_WRITE_MS, 0);
            break;
        case NET__INFLIGHT: /* closes after its response */
        case NET__LINGER:
            break;
        }
    }
    uv_close((uv_handle_t *)&s->listener, net__listener_on_close);
}

void net_server_free(net_server_t *s)
{
    if (s == NULL) return;
    if (!s->drained) {
        /* Freeing now would leave libuv handles pointing at freed memory. */
        fprintf(stderr, "kawat: net_server_free before the server drained; leaking it\n");
        return;
    }
    free(s);
}

int net_server_port(const net_server_t *s)
{
    return s->port;
}

const net_stats_t *net_server_stats(const net_server_t *s)
{
    return &s->stats;
}
