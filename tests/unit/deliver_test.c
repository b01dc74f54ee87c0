/* deliver_test.c -- outbound HTTP (src/deliver/deliver_http.c): CIDR
 * parsing, the address rules that guard against request forgery, URL
 * checks, and real requests on one libuv loop against kawat's own HTTP
 * server on 127.0.0.1 (answered, refused at connect, timed out, redirect
 * not followed, cancelled by stop). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/deliver.h"
#include "net/net_http.h"

/* ---- helpers ---- */

static struct sockaddr_storage addr_of(const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, text, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
    } else {
        assert_int_equal(inet_pton(AF_INET6, text, &in6->sin6_addr), 1);
        in6->sin6_family = AF_INET6;
    }
    return ss;
}

static int special(const char *text)
{
    struct sockaddr_storage ss = addr_of(text);
    return deliver_addr_special((struct sockaddr *)&ss);
}

static int allowed(const char *text, const char *list)
{
    deliver_cidr_t *allow;
    size_t n;
    char err[160];
    assert_int_equal(deliver_cidr_list_parse(list, &allow, &n, err, sizeof(err)), KW_OK);
    struct sockaddr_storage ss = addr_of(text);
    int ok = deliver_addr_allowed((struct sockaddr *)&ss, allow, n);
    free(allow);
    return ok;
}

static int parse(const char *text, deliver_cidr_t *c)
{
    return deliver_cidr_parse(text, strlen(text), c);
}

/* ---- CIDR parsing ---- */

static void test_cidr_parse(void **state)
{
    deliver_cidr_t c;
    assert_int_equal(parse("127.0.0.0/8", &c), KW_OK);
    assert_int_equal(c.family, AF_INET);
    assert_int_equal(c.prefix, 8);
    assert_int_equal(c.addr[0], 127);

    assert_int_equal(parse("::1/128", &c), KW_OK);
    assert_int_equal(c.family, AF_INET6);
    assert_int_equal(c.prefix, 128);
    assert_int_equal(c.addr[15], 1);

    assert_int_equal(parse("10.1.2.3", &c), KW_OK); /* bare: a host */
    assert_int_equal(c.prefix, 32);
    assert_int_equal(parse("fd00::", &c), KW_OK);
    assert_int_equal(c.prefix, 128);
    assert_int_equal(parse("0.0.0.0/0", &c), KW_OK);
    assert_int_equal(parse("::/0", &c), KW_OK);
    assert_int_equal(c.family, AF_INET6);

    /* A mapped block is the IPv4 block. */
    assert_int_equal(parse("::ffff:10.0.0.0/104", &c), KW_OK);
    assert_int_equal(c.family, AF_INET);
    assert_int_equal(c.prefix, 8);
    assert_int_equal(c.addr[0], 10);

    /* Refused: host bits, prefixes out of range, junk. */
    assert_int_equal(parse("10.0.0.1/8", &c), KW_INVALID);
    assert_int_equal(parse("10.0.0.0/33", &c), KW_INVALID);
    assert_int_equal(parse("::/129", &c), KW_INVALID);
    assert_int_equal(parse("10.0.0.0/", &c), KW_INVALID);
    assert_int_equal(parse("/8", &c), KW_INVALID);
    assert_int_equal(parse("10.0.0.0/+8", &c), KW_INVALID);
    assert_int_equal(parse("10.0.0.0/-1", &c), KW_INVALID);
    assert_int_equal(parse("10.0.0.0/8/8", &c), KW_INVALID);
    assert_int_equal(parse("10.0.0.0/0008", &c), KW_INVALID);
    assert_int_equal(parse("localhost", &c), KW_INVALID);
    assert_int_equal(parse("10.0.0", &c), KW_INVALID);
    assert_int_equal(parse(" 10.0.0.0/8", &c), KW_INVALID);
    assert_int_equal(parse("", &c), KW_INVALID);
    assert_int_equal(deliver_cidr_parse(NULL, 0, &c), KW_INVALID);
    /* Counted: the bytes after len are not read. */
    assert_int_equal(deliver_cidr_parse("127.0.0.0/8junk", 11, &c), KW_OK);
}

static void test_cidr_list(void **state)
{
    deliver_cidr_t *items;
    size_t n;
    char err[160];
    assert_int_equal(deliver_cidr_list_parse("127.0.0.0/8,::1/128", &items, &n, err, sizeof(err)),
                     KW_OK);
    assert_int_equal(n, 2);
    assert_int_equal(items[1].family, AF_INET6);
    free(items);
    assert_int_equal(
        deliver_cidr_list_parse(" 10.0.0.0/8 , 192.168.0.0/16 ", &items, &n, err, sizeof(err)),
        KW_OK);
    assert_int_equal(n, 2);
    free(items);
    assert_int_equal(deliver_cidr_list_parse(NULL, &items, &n, err, sizeof(err)), KW_OK);
    assert_int_equal(n, 0);
    assert_null(items);
    assert_int_equal(deliver_cidr_list_parse("", &items, &n, err, sizeof(err)), KW_OK);
    assert_int_equal(n, 0);

    assert_int_equal(deliver_cidr_list_parse("10.0.0.0/8,,::1", &items, &n, err, sizeof(err)),
                     KW_INVALID);
    assert_int_equal(deliver_cidr_list_parse("10.0.0.0/8,", &items, &n, err, sizeof(err)),
                     KW_INVALID);
    assert_int_equal(deliver_cidr_list_parse("127.0.0.0/8,nope", &items, &n, err, sizeof(err)),
                     KW_INVALID);
    assert_non_null(strstr(err, "nope"));
    assert_null(items);
}

/* ---- the address rules ---- */

static void test_special_v4(void **state)
{
    const char *refused[] = {
        "0.0.0.0",         "0.1.2.3",        "10.0.0.1",    "10.255.255.255",  "100.64.0.1",
        "100.127.255.254", "127.0.0.1",      "127.1.2.3",   "169.254.169.254", "172.16.0.1",
        "172.31.255.255",  "192.0.0.8",      "192.0.2.1",   "192.168.1.1",     "198.18.0.1",
        "198.19.255.1",    "198.51.100.7",   "203.0.113.9", "224.0.0.1",       "239.255.255.250",
        "240.0.0.1",       "255.255.255.255"};
    for (size_t i = 0; i < KW_ARRAY_SIZE(refused); i++) {
        if (!special(refused[i])) fail_msg("%s should be special", refused[i]);
    }
    const char *public[] = {"8.8.8.8",     "1.1.1.1",        "93.184.216.34",   "100.63.255.255",
                            "100.128.0.1", "172.15.255.255", "172.32.0.1",      "192.169.0.1",
                            "169.253.0.1", "198.20.0.1",     "223.255.255.254", "11.0.0.1"};
    for (size_t i = 0; i < KW_ARRAY_SIZE(public); i++) {
        if (special(public[i])) fail_msg("%s should be public", public[i]);
    }
}

static void test_special_v6(void **state)
{
    const char *refused[] = {"::", "::1", "::127.0.0.1", "fe80::1", "febf::1", "fec0::1", "fc00::1",
                             "fd12:3456::1", "ff02::1", "ff05::2", "100::1", "2001:db8::1",
                             /* embedded IPv4 judged as IPv4 */
                             "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
                             "64:ff9b::a00:1", "64:ff9b::7f00:1", "2002:7f00:1::1",
                             "2002:c0a8:101::"};
    for (size_t i = 0; i < KW_ARRAY_SIZE(refused); i++) {
        if (!special(refused[i])) fail_msg("%s should be special", refused[i]);
    }
    const char *public[] = {
        "2606:4700:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8", "64:ff9b::808:808",
        "2002:808:808::1",      "2001:4860::8888",      "fe00::1"};
    for (size_t i = 0; i < KW_ARRAY_SIZE(public); i++) {
        if (special(public[i])) fail_msg("%s should be public", public[i]);
    }
    /* Not IP at all: refused. */
    struct sockaddr sa = {.sa_family = AF_UNIX};
    assert_true(deliver_addr_special(&sa));
}

static void test_allowed(void **state)
{
    assert_true(allowed("8.8.8.8", NULL));
    assert_false(allowed("127.0.0.1", NULL));
    assert_false(allowed("::1", ""));

    const char *list = "127.0.0.0/8,::1/128";
    assert_true(allowed("127.0.0.1", list));
    assert_true(allowed("127.200.0.9", list));
    assert_true(allowed("::1", list));
    assert_true(allowed("::ffff:127.0.0.1", list)); /* both spellings, one rule */
    assert_false(allowed("10.0.0.1", list));
    assert_false(allowed("169.254.169.254", list));
    assert_false(allowed("::2", list));
    assert_false(allowed("fe80::1", list));
    assert_true(allowed("1.1.1.1", list));

    /* A mapped block in the list covers the IPv4 addresses. */
    assert_true(allowed("10.9.8.7", "::ffff:10.0.0.0/104"));
    assert_true(allowed("::ffff:10.9.8.7", "10.0.0.0/8"));
    assert_false(allowed("::ffff:172.16.0.1", "::ffff:10.0.0.0/104"));
    /* A single host. */
    assert_true(allowed("192.168.1.20", "192.168.1.20"));
    assert_false(allowed("192.168.1.21", "192.168.1.20"));
    /* Prefix edges. */
    assert_true(allowed("172.16.0.1", "172.16.0.0/12"));
    assert_true(allowed("172.31.255.255", "172.16.0.0/12"));
    assert_true(allowed("fd00::5", "fd00::/8"));
    assert_false(allowed("fe80::5", "fd00::/8"));
}

static void test_url_check(void **state)
{
    char err[200];
    assert_int_equal(deliver_url_check("http://example.com/cb", err, sizeof(err)), KW_OK);
    assert_int_equal(deliver_url_check("https://example.com:8443/cb?x=1#f", err, sizeof(err)),
                     KW_OK);
    assert_int_equal(deliver_url_check("HTTP://EXAMPLE.COM/", err, sizeof(err)), KW_OK);
    assert_int_equal(deliver_url_check("http://[::1]:80/", err, sizeof(err)), KW_OK);

    const char *bad[] = {"",
                         "example.com/cb",
                         "/cb",
                         "//example.com/cb",
                         "ftp://example.com/",
                         "file:///etc/passwd",
                         "gopher://example.com/",
                         "dict://127.0.0.1:6379/",
                         "http://",
                         "http:///x",
                         "http://user:pw@example.com/",
                         "http://user@example.com/",
                         "http://exa mple.com/",
                         "http://example.com/\r\nX: y",
                         "http://ex\xc3\xa4mple.com/"};
    for (size_t i = 0; i < KW_ARRAY_SIZE(bad); i++) {
        err[0] = '\0';
        if (deliver_url_check(bad[i], err, sizeof(err)) == KW_OK)
            fail_msg("\"%s\" should be refused", bad[i]);
        assert_true(err[0] != '\0');
    }
    char *big = malloc(9000);
    memcpy(big, "http://e.com/", 13);
    memset(big + 13, 'a', 8986);
    big[8999] = '\0';
    assert_int_equal(deliver_url_check(big, err, sizeof(err)), KW_INVALID);
    free(big);
    assert_int_equal(deliver_url_check(NULL, err, sizeof(err)), KW_INVALID);
}

/* ---- requests on a loop ---- */

typedef struct {
    uv_loop_t loop;
    net_server_t *server;
    int port;
    uv_tcp_t silent; /* accepts and never answers */
    uv_tcp_t silent_conn[4];
    int nsilent;
    int silent_port;
    deliver_t *d;
    int done;
    int cancelled;
    deliver_result_t res;
    char body[256];
    int closed;
} fixture_t;

static void handler(net_request_t *req, void *data)
{
    if (kw_str_eq(req->path, "/redirect")) {
        net_respond(req, 302, "text/plain", "Location: http://127.0.0.1:1/\r\n", "moved", 5);
        return;
    }
    if (kw_str_eq(req->path, "/echo")) {
        kw_buf_t b = {0};
        const kw_str_t *x = net_request_header(req, "x-test");
        kw_buf_printf(&b, "%.*s %.*s|%.*s|%.*s", (int)req->method_name.len, req->method_name.data,
                      (int)req->query.len, req->query.data, x ? (int)x->len : 0, x ? x->data : "",
                      (int)req->body.len, req->body.data);
        net_respond(req, 200, "text/plain", NULL, b.data, b.len);
        kw_buf_free(&b);
        return;
    }
    if (kw_str_eq(req->path, "/big")) {
        size_t n = 200 * 1024;
        char *z = malloc(n);
        memset(z, 'x', n);
        net_respond(req, 500, "text/plain", NULL, z, n);
        free(z);
        return;
    }
    net_respond(req, 200, "text/plain", NULL, "hello", 5);
}

static void on_silent(uv_stream_t *server, int status)
{
    fixture_t *f = server->data;
    if (status != 0 || f->nsilent == 4) return;
    uv_tcp_t *c = &f->silent_conn[f->nsilent];
    uv_tcp_init(&f->loop, c);
    if (uv_accept(server, (uv_stream_t *)c) == 0)
        f->nsilent++;
    else
        uv_close((uv_handle_t *)c, NULL);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    uv_loop_init(&f->loop);
    net_config_t nc;
    net_config_defaults(&nc);
    nc.listen = "127.0.0.1:0";
    assert_int_equal(net_server_start(&f->loop, &nc, handler, f, &f->server), KW_OK);
    f->port = net_server_port(f->server);

    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", 0, &sa);
    uv_tcp_init(&f->loop, &f->silent);
    f->silent.data = f;
    assert_int_equal(uv_tcp_bind(&f->silent, (struct sockaddr *)&sa, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&f->silent, 8, on_silent), 0);
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    uv_tcp_getsockname(&f->silent, (struct sockaddr *)&ss, &len);
    f->silent_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    *state = f;
    return 0;
}

static void on_drained(void *arg)
{
    (void)arg;
}

static void on_closed(void *arg)
{
    fixture_t *f = arg;
    f->closed = 1;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    if (f->d) deliver_stop(f->d, on_closed, f);
    net_server_stop(f->server, on_drained, f);
    for (int i = 0; i < f->nsilent; i++)
        uv_close((uv_handle_t *)&f->silent_conn[i], NULL);
    uv_close((uv_handle_t *)&f->silent, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    if (f->d) assert_true(f->closed);
    net_server_free(f->server);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
    return 0;
}

static void start(fixture_t *f, const char *allow, unsigned timeout_ms)
{
    deliver_config_t dc;
    deliver_config_defaults(&dc);
    dc.allow = allow;
    if (timeout_ms) dc.timeout_ms = timeout_ms;
    dc.max_response_bytes = 100;
    assert_int_equal(deliver_start(&f->loop, &dc, &f->d), KW_OK);
}

static void on_done(const deliver_result_t *res, void *arg)
{
    fixture_t *f = arg;
    f->done++;
    if (res->outcome == DELIVER_CANCELLED) f->cancelled++;
    f->res = *res;
    snprintf(f->body, sizeof(f->body), "%.*s", (int)res->body.len,
             res->body.data ? res->body.data : "");
    f->res.body.data = f->body;
    f->res.error = NULL;
    uv_stop(&f->loop);
}

/* Sends and runs the loop until the callback. */
static void request(fixture_t *f, const char *method, const char *path, const char *host,
                    const char *const *headers, const char *body)
{
    char url[256];
    snprintf(url, sizeof(url), "http://%s:%d%s", host, f->port, path);
    f->done = 0;
    deliver_http_send(f->d, method, url, headers, body, body ? strlen(body) : 0, on_done, f);
    assert_int_equal(f->done, 0); /* never from within the call */
    while (!f->done)
        uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(f->done, 1);
}

static void test_request_allowed(void **state)
{
    fixture_t *f = *state;
    start(f, "127.0.0.0/8", 0);
    request(f, "GET", "/hello", "127.0.0.1", NULL, NULL);
    assert_int_equal(f->res.outcome, DELIVER_ANSWERED);
    assert_int_equal(f->res.status, 200);
    assert_string_equal(f->body, "hello");

    const char *headers[] = {"X-Test: yes", "Content-Type: text/plain", NULL};
    request(f, "POST", "/echo?a=1", "127.0.0.1", headers, "the body");
    assert_int_equal(f->res.outcome, DELIVER_ANSWERED);
    assert_string_equal(f->body, "POST a=1|yes|the body");

    request(f, "DELETE", "/echo", "127.0.0.1", NULL, NULL);
    assert_string_equal(f->body, "DELETE ||");

    /* Redirects are answers, never followed. */
    request(f, "GET", "/redirect", "127.0.0.1", NULL, NULL);
    assert_int_equal(f->res.outcome, DELIVER_ANSWERED);
    assert_int_equal(f->res.status, 302);

    /* A big answer is cut at max_response_bytes; the status still counts. */
    request(f, "GET", "/big", "127.0.0.1", NULL, NULL);
    assert_int_equal(f->res.outcome, DELIVER_ANSWERED);
    assert_int_equal(f->res.status, 500);
    assert_int_equal(f->res.body.len, 100);

    deliver_stats_t st;
    deliver_get_stats(f->d, &st);
    assert_int_equal(st.requests, 5);
    assert_int_equal(st.answered, 5);
    assert_int_equal(deliver_in_flight(f->d), 0);
}

static void test_request_refused(void **state)
{
    fixture_t *f = *state;
    start(f, NULL, 0);
    request(f, "GET", "/hello", "127.0.0.1", NULL, NULL);
    assert_int_equal(f->res.outcome, DELIVER_REFUSED);
    assert_int_equal(f->res.status, 0);
    /* A name is judged by the address it resolves to, at connect time. */
    request(f, "GET", "/hello", "localhost", NULL, NULL);
    assert_int_equal(f->res.outcome, DELIVER_REFUSED);
    /* The allow list for another range does not help. */
    deliver_stop(f->d, NULL, NULL);
    start(f, "10.0.0.0/8,::1/128", 0);
    request(f, "GET", "/hello", "127.0.0.1", NULL, NULL);
    assert_int_equal(f->res.outcome, DELIVER_REFUSED);
    /* Bad URLs are refused before any connection, still asynchronously. */
    f->done = 0;
    deliver_http_send(f->d, "GET", "file:///etc/passwd", NULL, NULL, 0, on_done, f);
    assert_int_equal(f->done, 0);
    while (!f->done)
        uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(f->res.outcome, DELIVER_REFUSED);

    char err[200];
    assert_int_equal(deliver_url_allowed(f->d, "http://127.0.0.1:9/x", err, sizeof(err)),
                     KW_FORBIDDEN);
    assert_int_equal(deliver_url_allowed(f->d, "http://[::ffff:127.0.0.1]/x", err, sizeof(err)),
                     KW_FORBIDDEN);
    assert_int_equal(deliver_url_allowed(f->d, "http://[fe80::1%25eth0]/x", err, sizeof(err)),
                     KW_FORBIDDEN);
    assert_int_equal(deliver_url_allowed(f->d, "http://[::1]/x", err, sizeof(err)), KW_OK);
    assert_int_equal(deliver_url_allowed(f->d, "http://10.1.1.1/x", err, sizeof(err)), KW_OK);
    assert_int_equal(deliver_url_allowed(f->d, "http://example.com/x", err, sizeof(err)), KW_OK);
    assert_int_equal(deliver_url_allowed(f->d, "ftp://example.com/x", err, sizeof(err)),
                     KW_INVALID);
}

static void test_request_timeout(void **state)
{
    fixture_t *f = *state;
    start(f, "127.0.0.0/8", 300);
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", f->silent_port);
    f->done = 0;
    int64_t t0 = kw_now_ms();
    deliver_http_send(f->d, "GET", url, NULL, NULL, 0, on_done, f);
    while (!f->done)
        uv_run(&f->loop, UV_RUN_DEFAULT);
    int64_t took = kw_now_ms() - t0;
    assert_int_equal(f->res.outcome, DELIVER_FAILED);
    assert_true(took >= 250 && took < 5000);
}

static void test_stop_cancels(void **state)
{
    fixture_t *f = *state;
    start(f, "127.0.0.0/8", 0);
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", f->silent_port);
    f->done = 0;
    deliver_http_send(f->d, "GET", url, NULL, NULL, 0, on_done, f);
    deliver_http_send(f->d, "GET", "gopher://x/", NULL, NULL, 0, on_done, f);
    /* Neither has finished: the first waits on a silent peer, the second
     * (refused at once) waits for the next turn of the loop. */
    assert_int_equal(f->done, 0);
    deliver_stop(f->d, on_closed, f);
    f->d = NULL;
    assert_int_equal(f->done, 2); /* every callback ran, exactly once */
    assert_int_equal(f->cancelled, 1);
    assert_false(f->closed); /* handles close on the loop */
    for (int i = 0; i < 10 && !f->closed; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_true(f->closed);
    assert_int_equal(f->done, 2);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cidr_parse),
        cmocka_unit_test(test_cidr_list),
        cmocka_unit_test(test_special_v4),
        cmocka_unit_test(test_special_v6),
        cmocka_unit_test(test_allowed),
        cmocka_unit_test(test_url_check),
        cmocka_unit_test_setup_teardown(test_request_allowed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_cancels, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
