/* api_serve.c -- `kawat serve`: settings, start-up (store, writer, HTTP,
 * scheduler), and a graceful stop on SIGTERM/SIGINT. */
#include "api/api.h"
#include "core/core_config.h"
#include "core/core_lang.h"
#include "deliver/deliver.h"
#include "deliver/mail.h"
#include "deliver/report.h"
#include "deliver/webhook.h"
#include "feeds/feeds_websub.h"
#include "net/stream.h"
#include "sched/sched.h"
#include "web/web.h"

#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static core_cfg_opt_t serve_opts[] = {
    {"listen", "KAWAT_LISTEN", CFG_STRING, "127.0.0.1:8080",
     "Address and port to serve HTTP on: 127.0.0.1:8080, [::1]:8080, 0.0.0.0:80.", 0, 0, 0},
    {"data", "KAWAT_DATA", CFG_STRING, "var", "Data folder; the SQLite store lives in DATA/kawat.db.",
     0, 0, 0},
    {"base-url", "KAWAT_BASE_URL", CFG_STRING, NULL,
     "Public URL of the wire, used in links (default http://LISTEN).", 0, 0, 0},
    {"wire-name", "KAWAT_WIRE_NAME", CFG_STRING, "kawat",
     "The wire's name in datelines, disclaimers and pages.", 0, 0, 0},
    {"default-language", "KAWAT_DEFAULT_LANGUAGE", CFG_STRING, "en",
     "Language of the home page at /.", 0, 0, 0},
    {"access-log", "KAWAT_ACCESS_LOG", CFG_STRING, "-",
     "Access log: a file path, '-' for standard error, 'off' for none.", 0, 0, 0},
    {"max-body", "KAWAT_MAX_BODY", CFG_SIZE, "1m", "Largest request body; 413 past it.", 0, 0, 0},
    {"max-header", "KAWAT_MAX_HEADER", CFG_SIZE, "16k",
     "Largest request line plus headers; 431 past it.", 0, 0, 0},
    {"max-connections", "KAWAT_MAX_CONNECTIONS", CFG_COUNT, "10000",
     "Open connections at most; more are closed at once.", 0, 0, 0},
    {"header-timeout", "KAWAT_HEADER_TIMEOUT", CFG_MS, "10s",
     "Time a client has to send a whole request head (slow-loris guard); 408 past it.", 0, 0, 0},
    {"body-timeout", "KAWAT_BODY_TIMEOUT", CFG_MS, "30s",
     "Time a client has to send a whole request body; 408 past it.", 0, 0, 0},
    {"idle-timeout", "KAWAT_IDLE_TIMEOUT", CFG_MS, "60s",
     "Idle keep-alive connections are closed after this.", 0, 0, 0},
    {"longpoll-max", "KAWAT_LONGPOLL_MAX", CFG_MS, "60s",
     "Longest wait a client may ask of GET /v1/wire?wait=.", 0, 0, 0},
    {"trust-proxy", "KAWAT_TRUST_PROXY", CFG_BOOL, "false",
     "Take the client address from X-Forwarded-For (only behind your own proxy).", 0, 0, 0},
    {"demo", "KAWAT_DEMO", CFG_BOOL, "false",
     "Load the demo releases on first start and print an admin token.", 0, 0, 0},
    {"demo-dir", "KAWAT_DEMO_DIR", CFG_STRING, "demo", "Folder of demo release files (.md).", 0, 0,
     0},
    {"stream-workers", "KAWAT_STREAM_WORKERS", CFG_COUNT, "0",
     "Loop threads for SSE and WebSocket streams; 0 = one per core.", 0, 0, 0},
    {"stream-max-queue", "KAWAT_STREAM_MAX_QUEUE", CFG_SIZE, "1m",
     "Output a stream may have queued; a subscriber that falls further behind is cut off "
     "(it resumes from its last id).",
     0, 0, 0},
    {"stream-max-connections", "KAWAT_STREAM_MAX_CONNECTIONS", CFG_COUNT, "19000",
     "Stream connections at most; more are answered 503.", 0, 0, 0},
    {"stream-heartbeat", "KAWAT_STREAM_HEARTBEAT", CFG_MS, "15s",
     "Interval of SSE comment heartbeats and WebSocket pings.", 0, 0, 0},
    {"stream-replay-max", "KAWAT_STREAM_REPLAY_MAX", CFG_COUNT, "1000",
     "Events replayed per (re)connection; a client further behind resumes in steps.", 0, 0, 0},
    {"page-cache", "KAWAT_PAGE_CACHE", CFG_SIZE, "64m",
     "Memory for rendered pages and feeds (dropped precisely on publish, correction, "
     "withdrawal); 0 renders every request.",
     0, 0, 0},
    {"webhook-allow", "KAWAT_WEBHOOK_ALLOW", CFG_STRING, NULL,
     "Private, loopback or link-local ranges (CIDR[,CIDR]) outbound callbacks may reach; "
     "none by default.",
     0, 0, 0},
    {"webhook-timeout", "KAWAT_WEBHOOK_TIMEOUT", CFG_MS, "10s",
     "Time an outlet's webhook endpoint has to answer one delivery attempt.", 0, 0, 0},
    {"webhook-retry-base", "KAWAT_WEBHOOK_RETRY_BASE", CFG_MS, "5s",
     "Wait after a webhook's first failed attempt; later waits grow x6, x24, x120, x360, x720.",
     0, 0, 0},
    {"webhook-retry-max", "KAWAT_WEBHOOK_RETRY_MAX", CFG_MS, "1h",
     "Longest wait between two attempts of a webhook delivery.", 0, 0, 0},
    {"webhook-pause-after", "KAWAT_WEBHOOK_PAUSE_AFTER", CFG_MS, "24h",
     "A webhook endpoint failing this long (and webhook-pause-failures times) is paused.", 0, 0,
     0},
    {"webhook-pause-failures", "KAWAT_WEBHOOK_PAUSE_FAILURES", CFG_COUNT, "10",
     "Failed attempts in a row, at least, before a webhook endpoint is paused.", 0, 0, 0},
    {"smtp", "KAWAT_SMTP", CFG_STRING, NULL,
     "SMTP relay for journalists' e-mail alerts: smtp://HOST:PORT (smtps:// for TLS); "
     "none: no mail (sign-ups answer 503).",
     0, 0, 0},
    {"mail-from", "KAWAT_MAIL_FROM", CFG_STRING, "alerts@localhost",
     "Sender address of the e-mail alerts (envelope and From).", 0, 0, 0},
    {"mail-connections", "KAWAT_MAIL_CONNECTIONS", CFG_COUNT, "32",
     "SMTP transactions (and connections) to the relay at once.", 0, 0, 0},
    {"mail-timeout", "KAWAT_MAIL_TIMEOUT", CFG_MS, "30s",
     "Time the relay has for one mail.", 0, 0, 0},
    {"mail-retry-base", "KAWAT_MAIL_RETRY_BASE", CFG_MS, "1m",
     "Wait after a mail's first temporary failure (4xx, no connection); later waits grow x5, "
     "x25, x60.",
     0, 0, 0},
    {"mail-retry-max", "KAWAT_MAIL_RETRY_MAX", CFG_MS, "1h",
     "Longest wait between two attempts of a mail (one is given up 72 h after queueing).", 0, 0,
     0},
    {"mail-digest-hour", "KAWAT_MAIL_DIGEST_HOUR", CFG_COUNT, "7",
     "UTC hour (0-23) the daily digests leave at; hourly ones leave at the top of each hour.", 0,
     0, 0},
    {"mail-digest-every", "KAWAT_MAIL_DIGEST_EVERY", CFG_MS, "0",
     "For tests: send hourly and daily digests every this long instead; 0: the real hour and day.",
     0, 0, 0},    {"mail-log", "KAWAT_MAIL_LOG", CFG_STRING, NULL,
     "While no mail engine sends people's mails (password reset, invitation links), append "
     "them to this file; unset: write them to standard error (development only).",
     0, 0, 0},
};
#define NOPTS KW_ARRAY_SIZE(serve_opts)

static const char *opt(const char *name)
{
    return core_config_get(serve_opts, NOPTS, name)->str;
}

static uint64_t opt_num(const char *name)
{
    return core_config_get(serve_opts, NOPTS, name)->num;
}

typedef struct {
    kawat_app_t app;
    uv_signal_t sigterm;
    uv_signal_t sigint;
    FILE *access_log;
} server_t;

static void on_sched_published(store_op_t *op, void *arg)
{
    api_after_write(arg, op);
}

static void on_drained(void *arg)
{
    server_t *srv = arg;
    /* Every request is answered: close the streams (their clients resume
     * elsewhere or after the restart from their last id), commit what is
     * queued and stop the writer. Nothing else keeps the loop alive. */
    stream_hub_stop(srv->app.streams, NULL, NULL);
    srv->app.streams = NULL;
    feeds_websub_stop(&srv->app);
    webhook_stop(&srv->app);
    mail_stop(&srv->app);
    report_stop(srv->app.report); /* after the engines: their last counts go with it */
    srv->app.report = NULL;
    store_writer_stop(srv->app.store);
}

static void on_subscriber(kawat_app_t *app, store_op_t *op)
{
    stream_hub_subscriber_changed(app->streams, op);
}

static void on_signal(uv_signal_t *h, int signum)
{
    server_t *srv = h->data;
    if (srv->app.stopping) return;
    fprintf(stderr, "kawat: %s: stopping (finishing requests in flight)\n",
            signum == SIGTERM ? "SIGTERM" : "SIGINT");
    srv->app.stopping = 1;
    uv_close((uv_handle_t *)&srv->sigterm, NULL);
    uv_close((uv_handle_t *)&srv->sigint, NULL);
    /* Stop the server first, so that the answers below (parked long polls)
     * already say "Connection: close"; it drains only on a later turn. */
    net_server_stop(srv->app.http, on_drained, srv);
    api_wire_shutdown(&srv->app);
    sched_stop(srv->app.sched);
}

/* Whether listen is "host:port" or "[v6]:port" with a numeric IP address
 * and a port from 0 to 65535 (the syntax net_server_start takes). */
static int listen_valid(const char *listen)
{
    char host[64];
    const char *h = listen, *colon;
    int v6 = listen[0] == '[';
    if (v6) {
        const char *close = strchr(listen, ']');
        if (close == NULL || close[1] != ':') return 0;
        h = listen + 1;
        colon = close + 1;
    } else if ((colon = strrchr(listen, ':')) == NULL) {
        return 0;
    }
    size_t hlen = (size_t)(colon - h) - (size_t)v6;
    if (hlen == 0 || hlen >= sizeof(host)) return 0;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    const char *p = colon + 1;
    size_t digits = strspn(p, "0123456789");
    if (digits == 0 || digits > 5 || p[digits] != '\0' || atol(p) > 65535) return 0;
    struct sockaddr_in6 sa6;
    struct sockaddr_in sa4;
    return v6 ? uv_ip6_addr(host, 0, &sa6) == 0
              : uv_ip4_addr(host, 0, &sa4) == 0 || uv_ip6_addr(host, 0, &sa6) == 0;
}

/* Checks what the types alone do not: ranges, addresses, URLs.  Zero is
 * refused for limits and timeouts (net would silently read it as "the
 * default"), and times must fit the unsigned milliseconds net keeps. */
static int check_settings(char *err, size_t errsize)
{
    static const struct {
        const char *name;
        uint64_t min, max;
        const char *range;
    } ranges[] = {
        {"max-body", 1, 1024ull * 1024 * 1024, "from 1 byte to 1g"},
        {"max-header", 256, 1024 * 1024, "from 256 bytes to 1m"},
        {"max-connections", 1, 1000000, "from 1 to 1000000"},
        {"header-timeout", 1, 24 * 3600 * 1000ull, "from 1ms to 24h"},
        {"body-timeout", 1, 24 * 3600 * 1000ull, "from 1ms to 24h"},
        {"idle-timeout", 1, 24 * 3600 * 1000ull, "from 1ms to 24h"},
        {"longpoll-max", 0, 24 * 3600 * 1000ull, "from 0s to 24h"},
        {"stream-workers", 0, 64, "from 0 (one per core) to 64"},
        {"stream-max-queue", 1024, 1024ull * 1024 * 1024, "from 1k to 1g"},
        {"stream-max-connections", 1, 1000000, "from 1 to 1000000"},
        {"stream-heartbeat", 100, 3600 * 1000ull, "from 100ms to 1h"},
        {"stream-replay-max", 1, 1000000, "from 1 to 1000000"},
        {"page-cache", 0, 16ull * 1024 * 1024 * 1024, "from 0 (off) to 16g"},
        {"webhook-timeout", 100, 300 * 1000ull, "from 100ms to 5m"},
        {"webhook-retry-base", 10, 3600 * 1000ull, "from 10ms to 1h"},
        {"webhook-retry-max", 10, 24 * 3600 * 1000ull, "from 10ms to 24h"},
        {"webhook-pause-after", 0, 30 * 24 * 3600 * 1000ull, "from 0s to 30 days"},
        {"webhook-pause-failures", 1, 1000000, "from 1 to 1000000"},
        {"mail-connections", 1, 1000, "from 1 to 1000"},
        {"mail-timeout", 100, 600 * 1000ull, "from 100ms to 10m"},
        {"mail-retry-base", 10, 3600 * 1000ull, "from 10ms to 1h"},
        {"mail-retry-max", 10, 24 * 3600 * 1000ull, "from 10ms to 24h"},
        {"mail-digest-hour", 0, 23, "from 0 to 23"},
        {"mail-digest-every", 0, 24 * 3600 * 1000ull, "from 0 (off) to 24h"},
    };
    for (size_t i = 0; i < KW_ARRAY_SIZE(ranges); i++) {
        const core_cfg_opt_t *o = core_config_get(serve_opts, NOPTS, ranges[i].name);
        if (o->num < ranges[i].min || o->num > ranges[i].max) {
            snprintf(err, errsize, "%s (from %s): \"%s\" is out of range (%s)", o->name, o->source,
                     o->str, ranges[i].range);
            return KW_INVALID;
        }
    }
    const core_cfg_opt_t *o = core_config_get(serve_opts, NOPTS, "listen");
    if (!listen_valid(o->str)) {
        snprintf(err, errsize,
                 "%s (from %s): bad address \"%s\" (want IP:PORT or [IPv6]:PORT, "
                 "like 127.0.0.1:8080)",
                 o->name, o->source, o->str);
        return KW_INVALID;
    }
    o = core_config_get(serve_opts, NOPTS, "webhook-allow");
    if (o->str) {
        deliver_cidr_t *cidrs = NULL;
        size_t ncidrs = 0;
        char why[160];
        int rc = deliver_cidr_list_parse(o->str, &cidrs, &ncidrs, why, sizeof(why));
        free(cidrs);
        if (rc != KW_OK) {
            snprintf(err, errsize, "%s (from %s): %s",
                     o->name, o->source, why);
            return KW_INVALID;
        }
    }
    o = core_config_get(serve_opts, NOPTS, "smtp");
    if (o->str && strncmp(o->str, "smtp://", 7) != 0 && strncmp(o->str, "smtps://", 8) != 0) {
        snprintf(err, errsize, "%s (from %s): must be smtp://HOST:PORT or smtps://HOST:PORT",
                 o->name, o->source);
        return KW_INVALID;
    }
    o = core_config_get(serve_opts, NOPTS, "mail-from");
    {
        const char *at = strchr(o->str, '@');
        int bad = at == NULL || at == o->str || at[1] == '\0' || strlen(o->str) > 254;
        for (const char *c = o->str; !bad && *c; c++)
            if ((unsigned char)*c <= 0x20 || *c == 0x7f || strchr("<>()[],;:\\\"", *c)) bad = 1;
        if (bad) {
            snprintf(err, errsize, "%s (from %s): must be an address like alerts@wire.example.com",
                     o->name, o->source);
            return KW_INVALID;
        }
    }
    o = core_config_get(serve_opts, NOPTS, "wire-name");
    size_t n = strlen(o->str);
    int ctl = 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)o->str[i] < 0x20 || o->str[i] == 0x7f) ctl = 1;
    if (n == 0 || n > 100 || ctl || !kw_utf8_valid(o->str, n)) {
        snprintf(err, errsize, "%s (from %s): must be 1-100 bytes of UTF-8 text on one line",
                 o->name, o->source);
        return KW_INVALID;
    }
    o = core_config_get(serve_opts, NOPTS, "base-url");
    if (o->str) {
        const char *u = o->str;
        const char *rest = strncmp(u, "http://", 7) == 0    ? u + 7
                           : strncmp(u, "https://", 8) == 0 ? u + 8
                                                            : NULL;
        int bad = rest == NULL || *rest == '\0' || *rest == '/' || strlen(u) > 200;
        for (const char *c = u; !bad && *c; c++)
            if ((unsigned char)*c <= 0x20 || *c == 0x7f || strchr("\"'<>\\`", *c)) bad = 1;
        if (bad) {
            snprintf(err, errsize,
                     "%s (from %s): must be an http:// or https:// URL, like "
                     "https://wire.example.com",
                     o->name, o->source);
            return KW_INVALID;
        }
    }
    return KW_OK;
}

void api_serve_usage(FILE *f)
{
    core_config_usage(f, serve_opts, NOPTS);
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: kawat serve [options]\n\n"
               "Serves the wire: the JSON API under /v1, the pages, /healthz and /metrics,\n"
               "and publishes scheduled and embargoed releases at their instant.\n\nOptions:\n");
    core_config_usage(f, serve_opts, NOPTS);
}

int api_serve_main(int argc, char **argv)
{
    char err[512];
    int rc = core_config_load(serve_opts, NOPTS, argc - 1, argv + 1, err, sizeof(err));
    if (rc == KW_DECLINED) {
        usage(stdout);
        core_config_free(serve_opts, NOPTS);
        return 0;
    }
    if (rc == KW_OK) rc = check_settings(err, sizeof(err));
    if (rc != KW_OK) {
        fprintf(stderr, "kawat serve: %s\n", err);
        core_config_free(serve_opts, NOPTS);
        return 2;
    }
    if (core_lang_find_z(opt("default-language")) == NULL) {
        fprintf(stderr, "kawat serve: default-language: unknown language \"%s\"\n",
                opt("default-language"));
        core_config_free(serve_opts, NOPTS);
        return 2;
    }

    signal(SIGPIPE, SIG_IGN);
    /* Every stream is a descriptor: take the whole hard limit, and say so
     * when it cannot hold the streams and HTTP connections asked for. */
    /* Responses are allocated and freed at a high rate (a cached page is
     * copied into each answer): without this glibc gives the top of the
     * heap back to the kernel and faults it in again, a few page faults
     * per request. Keeping 64 MiB of free heap is a bounded price. */
    mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
    mallopt(M_TOP_PAD, 4 * 1024 * 1024);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        if (rl.rlim_cur < rl.rlim_max) {
            rl.rlim_cur = rl.rlim_max;
            setrlimit(RLIMIT_NOFILE, &rl);
            getrlimit(RLIMIT_NOFILE, &rl);
        }
        uint64_t want = opt_num("stream-max-connections") + 256;
        if (rl.rlim_cur != RLIM_INFINITY && (uint64_t)rl.rlim_cur < want)
            fprintf(stderr,
                    "kawat serve: warning: the descriptor limit (%llu) is below "
                    "stream-max-connections + 256 (%llu); streams past it are refused with 503\n",
                    (unsigned long long)rl.rlim_cur, (unsigned long long)want);
    }
    server_t *srv = kw_calloc(1, sizeof(*srv));
    kawat_app_t *app = &srv->app;
    uv_loop_t loop;
    int exit_code = 1;
    uv_loop_init(&loop);
    app->loop = &loop;
    app->started_ms = kw_now_ms();
    app->wire_name = kw_strdup(opt("wire-name"));
    app->default_language = kw_strdup(core_lang_find_z(opt("default-language"))->tag);
    app->longpoll_max_ms = (unsigned)opt_num("longpoll-max");

    if (store_open(opt("data"), &app->store, err, sizeof(err)) != KW_OK) {
        fprintf(stderr, "kawat serve: store: %s\n", err);
        goto out;
    }
    if (opt_num("demo") && api_demo_load(app->store, opt("demo-dir"), opt("data")) != KW_OK)
        goto out;

    const char *alog = opt("access-log");
    if (strcmp(alog, "-") == 0) {
        srv->access_log = stderr;
    } else if (strcmp(alog, "off") != 0) {
        srv->access_log = fopen(alog, "a");
        if (srv->access_log == NULL) {
            fprintf(stderr, "kawat serve: access-log: cannot open %s\n", alog);
            goto out;
        }
    }

    net_config_t nc;
    net_config_defaults(&nc);
    nc.listen = opt("listen");
    nc.max_body_bytes = opt_num("max-body");
    nc.max_header_bytes = opt_num("max-header");
    nc.max_connections = opt_num("max-connections");
    nc.header_timeout_ms = (unsigned)opt_num("header-timeout");
    nc.body_timeout_ms = (unsigned)opt_num("body-timeout");
    nc.idle_timeout_ms = (unsigned)opt_num("idle-timeout");
    nc.trust_proxy = (int)opt_num("trust-proxy");
    nc.access_log = srv->access_log;

    if (store_writer_start(app->store, &loop) != KW_OK) {
        fprintf(stderr, "kawat serve: cannot start the store writer\n");
        goto out;
    }
    if (net_server_start(&loop, &nc, api_route, app, &app->http) != KW_OK) {
        store_writer_stop(app->store);
        uv_run(&loop, UV_RUN_NOWAIT);
        goto out;
    }
    if (opt("base-url")) {
        size_t n = strlen(opt("base-url"));
        app->base_url = kw_strndup(opt("base-url"), n && opt("base-url")[n - 1] == '/' ? n - 1 : n);
    } else {
        char buf[300];
        const char *l = opt("listen");
        const char *colon = strrchr(l, ':');
        size_t hostlen = colon ? (size_t)(colon - l) : strlen(l);
        if (hostlen == 7 && strncmp(l, "0.0.0.0", 7) == 0) l = "127.0.0.1", hostlen = 9;
        snprintf(buf, sizeof(buf), "http://%.*s:%d", (int)hostlen, l,
                 net_server_port(app->http));
        app->base_url = kw_strdup(buf);
    }
    stream_config_t sc;
    stream_config_defaults(&sc);
    sc.workers = (unsigned)opt_num("stream-workers");
    sc.max_queue_bytes = opt_num("stream-max-queue");
    sc.max_connections = opt_num("stream-max-connections");
    sc.heartbeat_ms = (unsigned)opt_num("stream-heartbeat");
    sc.replay_max = opt_num("stream-replay-max");
    sc.base_url = app->base_url;
    sc.wire_name = app->wire_name;
    app->report = report_start(&loop, app->store);
    sc.report = app->report;
    app->streams = stream_hub_start(&loop, app->store, &sc);
    if (app->streams == NULL) {
        fprintf(stderr, "kawat serve: cannot start the stream workers; streams are off\n");
    }
    app->on_subscriber = on_subscriber;
    app->cache = web_cache_new(opt_num("page-cache"));
    web_cache_wire_init(app->cache, store_wire_last_seq(app->store));
    if (opt("webhook-allow")) app->webhook_allow = kw_strdup(opt("webhook-allow"));
    if (opt("mail-log")) app->mail_log = kw_strdup(opt("mail-log"));
    if (feeds_websub_start(app) != KW_OK)
        fprintf(stderr, "kawat serve: cannot start the WebSub hub; POST /websub answers 503\n");
    webhook_config_t whc;
    webhook_config_defaults(&whc);
    whc.timeout_ms = (unsigned)opt_num("webhook-timeout");
    whc.retry_base_ms = opt_num("webhook-retry-base");
    whc.retry_max_ms = opt_num("webhook-retry-max");
    whc.pause_after_ms = opt_num("webhook-pause-after");
    whc.pause_failures = (unsigned)opt_num("webhook-pause-failures");
    if (webhook_start(app, &whc) != KW_OK)
        fprintf(stderr, "kawat serve: cannot start the webhook engine; endpoints get nothing\n");
    mail_config_t mc;
    mail_config_defaults(&mc);
    mc.smtp_url = opt("smtp");
    mc.mail_from = opt("mail-from");
    mc.max_in_flight = (unsigned)opt_num("mail-connections");
    mc.timeout_ms = (unsigned)opt_num("mail-timeout");
    mc.retry_base_ms = opt_num("mail-retry-base");
    mc.retry_max_ms = opt_num("mail-retry-max");
    mc.digest_hour = (unsigned)opt_num("mail-digest-hour");
    mc.digest_every_ms = opt_num("mail-digest-every");
    if (mail_start(app, &mc) != KW_OK)
        fprintf(stderr, "kawat serve: cannot start the e-mail alerts; journalists get nothing\n");
    app->sched = sched_start(&loop, app->store, on_sched_published, app);

    uv_signal_init(&loop, &srv->sigterm);
    uv_signal_init(&loop, &srv->sigint);
    srv->sigterm.data = srv->sigint.data = srv;
    uv_signal_start(&srv->sigterm, on_signal, SIGTERM);
    uv_signal_start(&srv->sigint, on_signal, SIGINT);

    printf("kawat: serving %s/ (data in %s)\n", app->base_url, opt("data"));
    fflush(stdout);
    uv_run(&loop, UV_RUN_DEFAULT);
    net_server_free(app->http);
    exit_code = 0;
    fprintf(stderr, "kawat: stopped cleanly\n");
out:
    store_close(app->store);
    uv_loop_close(&loop);
    if (srv->access_log && srv->access_log != stderr) fclose(srv->access_log);
    free(app->base_url);
    free(app->wire_name);
    free(app->default_language);
    free(app->webhook_allow);
    free(app->mail_log);
    web_cache_free(app->cache);
    free(srv);
    core_config_free(serve_opts, NOPTS);
    return exit_code;
}
