/* cli_tail.c -- `kawat tail`: follows the wire of a kawat server over its
 * Server-Sent Events stream (GET /v1/stream), printing each publish,
 * correction and withdrawal as it happens; `--once` reads the wire log
 * (GET /v1/wire), prints what is there and exits. */
#include "cli/cli.h"
#include "core/core.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Design note: the cursor, and why the stream loses nothing.
 *
 * `cursor` is the sequence number of the last wire event the user has seen
 * (-1 while it is not known yet). Every (re)connection to GET /v1/stream
 * sends it as Last-Event-ID, and the server replays exactly the matching
 * events after it before going live: nothing is lost across a dropped
 * connection or a server restart. An event at or below the cursor is never
 * printed (a replay may overlap what was seen), so nothing is printed
 * twice. Only printed events move the cursor: with a filter, the server
 * scans past events that do not match again on a resume, which costs it a
 * little and the user nothing.
 *
 * Live from now (no --after, no --from-start): the first connection sends
 * no Last-Event-ID, and the server opens the stream with the comment
 * ": kawat wire at N", the newest event it had fanned out when the stream
 * was registered; the stream then carries everything after N. That N is the
 * cursor until an event is printed. A server that does not say it leaves
 * the cursor unknown; if that stream drops before its first event, tail
 * asks GET /v1/wire for the end of the log before reconnecting.
 *
 * When a stream opens with a wire that ends before the cursor (a server
 * whose log was reset), tail says so and follows from that end.
 *
 * The server ends a stream by itself when a resume has more to replay than
 * it sends at once; the client is meant to reconnect with its last id. So a
 * stream that delivered events and then ended cleanly is reconnected at
 * once and without a word. Any other end (no events, a transfer error, no
 * byte for TAIL_IDLE_S although the server sends heartbeats) is reported
 * and retried after a delay of 1 s that doubles on each failure up to
 * TAIL_MAX_BACKOFF_S (at least the server's `retry:` advice after a stream
 * that ended), and starts afresh once a stream has worked.
 *
 * Early deliveries of embargoed releases (event "embargo", for trusted
 * subscribers) are not on the wire log and carry no id: they never move
 * the cursor. The server sends the current ones again on every connection,
 * so tail remembers which (release, version, lift time) it printed. */

#define TAIL_DEFAULT_SERVER "http://127.0.0.1:8080"
#define TAIL_LIMIT 100
#define TAIL_MAX_BACKOFF_S 10
#ifndef TAIL_IDLE_S
#define TAIL_IDLE_S 60 /* 4 of the server's heartbeats (15 s by default) */
#endif
#define TAIL_MAX_RESPONSE ((size_t)32 << 20) /* a /v1/wire page or a problem document */
#define TAIL_MAX_EVENT ((size_t)16 << 20)    /* one SSE event (its lines and data) */
#define TAIL_MAX_EMBARGOES 4096              /* embargo deliveries remembered */

static const char tail_usage[] =
    "Usage: kawat tail [options]\n"
    "\n"
    "Follows the wire: prints every publish, correction and withdrawal on the\n"
    "kawat server as it happens, one line each:\n"
    "  #SEQ KIND TIME [LANGUAGE] HEADLINE — URL\n"
    "KIND is publish, correction or withdrawal; the release id is the last part\n"
    "of the URL. A withdrawal has no headline. By default only events after the\n"
    "moment tail starts are printed.\n"
    "\n"
    "tail holds the server's live stream (GET /v1/stream, Server-Sent Events).\n"
    "With the token of a subscriber and no filter option, the stream uses the\n"
    "subscriber's stored filters; if the subscriber is embargo-trusted, releases\n"
    "still under embargo are printed early, marked, one line each:\n"
    "  EMBARGOED until TIME [LANGUAGE] HEADLINE — URL\n"
    "\n"
    "Options (also as --option=value):\n"
    "  --server URL     server base URL (default: $KAWAT_SERVER, else\n"
    "                   " TAIL_DEFAULT_SERVER ")\n"
    "  --token T        API token (default: $KAWAT_TOKEN); sent when given\n"
    "  --after N        start after wire sequence number N (replays N+1...)\n"
    "  --from-start     replay the whole wire (same as --after 0)\n"
    "  --language L     only releases in language L (BCP 47, e.g. id, zh-Hant)\n"
    "  --sector S       only releases in sector S\n"
    "  --region R       only releases for region R (ISO 3166-1, e.g. MY)\n"
    "  --issuer I       only releases from issuer I\n"
    "  --keyword W      only releases whose headline, summary or body has the\n"
    "                   word or phrase W (any script; case does not matter)\n"
    "                   (each filter may be repeated: any of its values matches;\n"
    "                   different filters must all match)\n"
    "  --json           print each event as one line of compact JSON: seq, kind,\n"
    "                   at, version, release {id, language, headline, url} and,\n"
    "                   from the stream, item (the release as ninjs 3); an\n"
    "                   embargoed release has kind \"embargo\", embargoed_until\n"
    "                   and no seq\n"
    "  --once           print what is on the wire now (GET /v1/wire) and exit;\n"
    "                   do not wait\n"
    "  -h, --help       show this help\n"
    "\n"
    "When the connection drops, tail reconnects and resumes after the last event\n"
    "it printed (Last-Event-ID): none is lost, none printed twice. When the\n"
    "server cannot be reached, it retries after 1, 2, 4, 8, then every 10\n"
    "seconds (with --once it exits instead). Ctrl-C or SIGTERM stops it.\n"
    "\n"
    "Exit status: 0 when stopped by a signal or after --once, 1 on an error,\n"
    "2 on a usage error.\n";

typedef struct {
    const char *name;
    int takes_value;
} tail_option_t;

enum {
    OPT_SERVER,
    OPT_TOKEN,
    OPT_AFTER,
    OPT_FROM_START,
    OPT_LANGUAGE,
    OPT_SECTOR,
    OPT_REGION,
    OPT_ISSUER,
    OPT_KEYWORD,
    OPT_JSON,
    OPT_ONCE,
    OPT_HELP
};

static const tail_option_t tail_options[] = {
    [OPT_SERVER] = {"server", 1},     [OPT_TOKEN] = {"token", 1},
    [OPT_AFTER] = {"after", 1},       [OPT_FROM_START] = {"from-start", 0},
    [OPT_LANGUAGE] = {"language", 1}, [OPT_SECTOR] = {"sector", 1},
    [OPT_REGION] = {"region", 1},     [OPT_ISSUER] = {"issuer", 1},
    [OPT_KEYWORD] = {"keyword", 1},   [OPT_JSON] = {"json", 0},
    [OPT_ONCE] = {"once", 0},         [OPT_HELP] = {"help", 0},
};

/* The Server-Sent Events parser (WHATWG HTML, "Interpreting an event
 * stream"), fed whatever bytes each read brings. */
typedef struct {
    kw_buf_t line;  /* the line read so far, without its end */
    int after_cr;   /* the last byte was CR: a LF right after it ends nothing */
    int started;    /* a line was read (a BOM opening the first is dropped) */
    kw_buf_t event; /* the block's event type */
    kw_buf_t data;  /* its data lines, each followed by LF */
    int has_data;
    kw_buf_t id; /* its own id field (not inherited from an earlier block) */
    int has_id;
} sse_parser_t;

typedef struct {
    CURL *curl;
    char *server; /* base URL without a trailing '/' (owned) */
    const char *token;
    struct curl_slist *get_headers; /* for GET /v1/wire */
    kw_buf_t filters;               /* "&language=id&sector=..." (escaped) */
    int has_keyword;
    kw_buf_t body; /* the last non-stream response */
    int too_large;
    int json;
    int once;

    /* the stream */
    json_int_t cursor;    /* last event seen; -1: not known yet */
    long retry_ms;        /* the server's reconnection advice; 0: none */
    int head_checked;     /* the response head was looked at */
    long status;          /* its status */
    int is_stream;        /* 200 text/event-stream */
    int told_start;       /* this connection's ": kawat wire at N" was read */
    long printed;         /* events printed on this connection */
    int failing;          /* the last attempt failed: say so when it works again */
    int idle_abort;       /* the transfer was cut for silence */
    int output_failed;    /* writing to standard output failed */
    const char *protocol; /* why the stream was cut as malformed, or NULL */
    struct timespec last_rx;
    sse_parser_t sse;
    char **embargoes; /* keys of the embargo deliveries printed, a ring */
    size_t nembargoes, embargo_next;
} tail_t;

static volatile sig_atomic_t tail_stop;

static void tail_on_signal(int sig)
{
    tail_stop = 1;
}

/* Parses the option at argv[*i] ("--name", "--name=value" or "--name value")
 * against table. Returns the option's index with *value set (NULL for
 * flags), *i advanced past a separate value; -1 after printing a usage
 * error. */
static int tail_option(const tail_option_t *table, size_t n, int argc, char **argv, int *i,
                       const char **value)
{
    const char *arg = argv[*i];
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t name_len = eq ? (size_t)(eq - name) : strlen(name);

    *value = NULL;
    if (strcmp(arg, "-h") == 0) return OPT_HELP;
    if (strncmp(arg, "--", 2) != 0) goto unknown;
    for (size_t k = 0; k < n; k++) {
        if (strlen(table[k].name) != name_len || strncmp(table[k].name, name, name_len) != 0)
            continue;
        if (!table[k].takes_value) {
            if (eq == NULL) return (int)k;
            fprintf(stderr, "kawat tail: option --%s takes no value\n", table[k].name);
            return -1;
        }
        if (eq != NULL) {
            *value = eq + 1;
        } else if (*i + 1 < argc) {
            *value = argv[++*i];
        } else {
            fprintf(stderr, "kawat tail: option --%s needs a value\n", table[k].name);
            return -1;
        }
        return (int)k;
    }
unknown:
    fprintf(stderr, "kawat tail: unknown option '%s' (see kawat tail --help)\n", arg);
    return -1;
}

/* Appends z to b with control characters (C0, DEL, C1) replaced by spaces,
 * so text from the wire cannot drive the terminal. */
static void tail_append_clean(kw_buf_t *b, const char *z)
{
    for (size_t i = 0; z[i] != '\0'; i++) {
        unsigned char c = (unsigned char)z[i];
        if (c < 0x20 || c == 0x7F) {
            kw_buf_putc(b, ' ');
        } else if (c == 0xC2 && (unsigned char)z[i + 1] >= 0x80 &&
                   (unsigned char)z[i + 1] <= 0x9F) {
            kw_buf_putc(b, ' ');
            i++;
        } else {
            kw_buf_putc(b, (char)c);
        }
    }
}

/* Appends "&name=value" to the filter query, value percent-encoded. */
static void tail_add_filter(tail_t *t, const char *name, const char *value)
{
    char *esc = curl_easy_escape(t->curl, value, 0);
    if (esc == NULL) {
        fprintf(stderr, "kawat tail: out of memory\n");
        abort();
    }
    kw_buf_printf(&t->filters, "&%s=%s", name, esc);
    curl_free(esc);
}

static size_t tail_on_data(char *p, size_t size, size_t n, void *user)
{
    tail_t *t = user;
    if (t->body.len + n > TAIL_MAX_RESPONSE) {
        t->too_large = 1;
        return 0; /* aborts the transfer */
    }
    kw_buf_append(&t->body, p, n);
    return n;
}

static double tail_elapsed_s(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - since->tv_sec) + (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

/* Called by libcurl about once a second, and when a signal interrupts its
 * wait: a nonzero return aborts the transfer, so a stop is prompt and a
 * stream that has gone silent is given up. */
static int tail_on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                            curl_off_t ulnow)
{
    tail_t *t = user;
    if (tail_stop) return 1;
    if (t->is_stream && tail_elapsed_s(&t->last_rx) > TAIL_IDLE_S) {
        t->idle_abort = 1;
        return 1;
    }
    return 0;
}

/* Describes a refused request into msg: the problem document's title and
 * detail and its per-field errors, or the status and start of the body. */
static void tail_describe_problem(const tail_t *t, long status, kw_buf_t *msg)
{
    json_t *doc = t->body.len ? json_loadb(t->body.data, t->body.len, 0, NULL) : NULL;
    const char *title = json_string_value(json_object_get(doc, "title"));
    const char *detail = json_string_value(json_object_get(doc, "detail"));

    kw_buf_printf(msg, "HTTP %ld", status);
    if (title != NULL) kw_buf_puts(msg, ": "), tail_append_clean(msg, title);
    if (detail != NULL) kw_buf_puts(msg, ": "), tail_append_clean(msg, detail);
    if (title == NULL && detail == NULL && t->body.len > 0 && !json_is_object(doc)) {
        const char *nl = memchr(t->body.data, '\n', t->body.len);
        size_t n = nl ? (size_t)(nl - t->body.data) : t->body.len;
        char *first = kw_strndup(t->body.data, n < 200 ? n : 200);
        kw_buf_puts(msg, ": ");
        tail_append_clean(msg, first);
        free(first);
    }
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(doc, "errors"), i, e)
    {
        const char *field = json_string_value(json_object_get(e, "field"));
        const char *why = json_string_value(json_object_get(e, "detail"));
        kw_buf_puts(msg, "\n  ");
        if (field != NULL) tail_append_clean(msg, field), kw_buf_puts(msg, ": ");
        if (why != NULL) tail_append_clean(msg, why);
    }
    json_decref(doc);
}

/* Writes line and a newline to standard output and flushes. Returns KW_OK,
 * or KW_ERROR (reported) if standard output failed. */
static int tail_emit(kw_buf_t *line)
{
    kw_buf_putc(line, '\n');
    if (fwrite(line->data, 1, line->len, stdout) != line->len || fflush(stdout) != 0) {
        fprintf(stderr, "kawat tail: cannot write output: %s\n", strerror(errno));
        return KW_ERROR;
    }
    return KW_OK;
}

/* "#SEQ KIND TIME [LANGUAGE] HEADLINE — URL" (lead is "#SEQ KIND" or
 * "EMBARGOED until"); any part may be missing but the brackets. */
static void tail_format_line(kw_buf_t *line, const char *lead, const char *at, const char *lang,
                             const char *headline, const char *url)
{
    tail_append_clean(line, lead);
    kw_buf_putc(line, ' ');
    tail_append_clean(line, at ? at : "-");
    kw_buf_puts(line, " [");
    tail_append_clean(line, lang ? lang : "-");
    kw_buf_putc(line, ']');
    if (headline != NULL) {
        kw_buf_putc(line, ' ');
        tail_append_clean(line, headline);
    }
    if (url != NULL) {
        kw_buf_puts(line, " \xE2\x80\x94 "); /* em dash */
        tail_append_clean(line, url);
    }
}

/* ---- --once: the wire log ---------------------------------------------- */

/* GETs url. On a 200 with a well-formed wire page ({"events": [...],
 * "last_seq": N}) sets *page (caller decrefs) and returns KW_OK. Otherwise
 * describes the failure into msg and returns KW_AGAIN when trying again may
 * help (no connection, 5xx, 408, 429, a malformed page), KW_ERROR when it
 * will not (any other status), or KW_DECLINED when a signal asked to stop. */
static int tail_get(tail_t *t, const char *url, json_t **page, kw_buf_t *msg)
{
    char errbuf[CURL_ERROR_SIZE];
    long status = 0;
    json_error_t jerr;

    *page = NULL;
    kw_buf_reset(&t->body);
    t->too_large = 0;
    t->is_stream = 0;
    errbuf[0] = '\0';
    curl_easy_setopt(t->curl, CURLOPT_URL, url);
    curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, t->get_headers);
    curl_easy_setopt(t->curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, tail_on_data);
    curl_easy_setopt(t->curl, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(t->curl, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode cc = curl_easy_perform(t->curl);
    curl_easy_setopt(t->curl, CURLOPT_ERRORBUFFER, NULL);
    if (tail_stop) return KW_DECLINED;
    if (cc != CURLE_OK) {
        kw_buf_printf(msg, "cannot reach %s: %s", t->server,
                      t->too_large ? "response too large"
                      : errbuf[0]  ? errbuf
                                   : curl_easy_strerror(cc));
        return KW_AGAIN;
    }
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        tail_describe_problem(t, status, msg);
        return status >= 500 || status == 408 || status == 429 ? KW_AGAIN : KW_ERROR;
    }
    json_t *doc = json_loadb(t->body.data, t->body.len, 0, &jerr);
    if (!json_is_array(json_object_get(doc, "events")) ||
        !json_is_integer(json_object_get(doc, "last_seq"))) {
        kw_buf_printf(msg, "malformed answer from %s: %s", t->server,
                      doc ? "no \"events\" list or \"last_seq\"" : jerr.text);
        json_decref(doc);
        return KW_AGAIN;
    }
    *page = doc;
    return KW_OK;
}

/* Prints one /v1/wire event, as its text line or (with --json) compact
 * JSON. Returns KW_OK, or KW_ERROR if standard output failed. */
static int tail_print_wire(const tail_t *t, json_t *ev, json_int_t seq)
{
    kw_buf_t line = {0};
    int rc;

    if (t->json) {
        char *z = json_dumps(ev, JSON_COMPACT);
        if (z != NULL) kw_buf_puts(&line, z);
        free(z);
    } else {
        json_t *rel = json_object_get(ev, "release");
        const char *kind = json_string_value(json_object_get(ev, "kind"));
        char lead[64];
        snprintf(lead, sizeof(lead), "#%" JSON_INTEGER_FORMAT " %.32s", seq, kind ? kind : "-");
        tail_format_line(&line, lead, json_string_value(json_object_get(ev, "at")),
                         json_string_value(json_object_get(rel, "language")),
                         json_string_value(json_object_get(rel, "headline")),
                         json_string_value(json_object_get(rel, "url")));
    }
    rc = tail_emit(&line);
    kw_buf_free(&line);
    return rc;
}

/* Prints the new events of a page and moves *after past them (and past
 * what the server scanned: "next_after" when it sends it; else a page
 * shorter than the limit means everything matching up to "last_seq" was
 * returned). Returns the number printed, or -1 if output failed. */
static long tail_page(const tail_t *t, json_t *page, json_int_t *after)
{
    json_t *events = json_object_get(page, "events");
    json_int_t last_seq = json_integer_value(json_object_get(page, "last_seq"));
    json_int_t seen = *after;
    long printed = 0;
    size_t i;
    json_t *ev;

    json_array_foreach(events, i, ev)
    {
        json_t *s = json_object_get(ev, "seq");
        if (!json_is_integer(s)) {
            fprintf(stderr, "kawat tail: skipping an event without a sequence number\n");
            continue;
        }
        json_int_t seq = json_integer_value(s);
        if (seq <= seen) continue; /* already printed */
        if (tail_print_wire(t, ev, seq) != KW_OK) return -1;
        seen = seq;
        printed++;
    }
    json_t *next = json_object_get(page, "next_after");
    if (json_is_integer(next)) {
        if (json_integer_value(next) > seen) seen = json_integer_value(next);
    } else if (json_array_size(events) < TAIL_LIMIT && last_seq > seen) {
        seen = last_seq;
    }
    if (json_array_size(events) == 0 && last_seq < seen) {
        fprintf(stderr,
                "kawat tail: the server's wire ends at #%" JSON_INTEGER_FORMAT
                ", before #%" JSON_INTEGER_FORMAT " (was it reset?)\n",
                last_seq, seen);
        seen = last_seq;
    }
    *after = seen;
    return printed;
}

/* Asks the wire log where it ends. Returns KW_OK with *last set, or what
 * tail_get returns (msg says why). */
static int tail_wire_end(tail_t *t, json_int_t *last, kw_buf_t *msg)
{
    kw_buf_t url = {0};
    json_t *page = NULL;
    kw_buf_printf(&url, "%s/v1/wire?after=0&limit=0", t->server);
    int rc = tail_get(t, url.data, &page, msg);
    if (rc == KW_OK) *last = json_integer_value(json_object_get(page, "last_seq"));
    json_decref(page);
    kw_buf_free(&url);
    return rc;
}

/* --once: pages through the wire log from after (or from its end when
 * !know_start) and exits. Returns the process exit status. */
static int tail_run_once(tail_t *t, json_int_t after, int know_start)
{
    int status = 1;
    kw_buf_t url = {0}, msg = {0};
    json_t *page = NULL;

    if (!know_start) {
        int rc = tail_wire_end(t, &after, &msg);
        if (rc == KW_DECLINED) return 0;
        if (rc != KW_OK) goto fail;
    }
    while (!tail_stop) {
        kw_buf_reset(&url);
        kw_buf_printf(&url, "%s/v1/wire?after=%" JSON_INTEGER_FORMAT "&wait=0&limit=%d%s",
                      t->server, after, TAIL_LIMIT, t->filters.data ? t->filters.data : "");
        json_decref(page);
        int rc = tail_get(t, url.data, &page, &msg);
        if (rc == KW_DECLINED) break;
        if (rc != KW_OK) goto fail;
        if (tail_page(t, page, &after) < 0) goto done;
        if (json_array_size(json_object_get(page, "events")) == 0) break;
    }
    status = 0;
    goto done;
fail:
    fprintf(stderr, "kawat tail: %s\n", msg.data);
done:
    json_decref(page);
    kw_buf_free(&url);
    kw_buf_free(&msg);
    return status;
}

/* ---- the stream: one event ----------------------------------------------- */

/* The main headline of a ninjs item, or NULL (a withdrawal has none). */
static const char *item_headline(json_t *item)
{
    json_t *list = json_object_get(item, "headlines"), *h;
    size_t i;
    json_array_foreach(list, i, h)
    {
        const char *role = json_string_value(json_object_get(h, "role"));
        if (role == NULL || strcmp(role, "main") == 0)
            return json_string_value(json_object_get(h, "value"));
    }
    return json_string_value(json_object_get(json_array_get(list, 0), "value"));
}

/* The release id of a stream event: its "id", else the item's release-id. */
static const char *event_release_id(json_t *data, json_t *item)
{
    const char *id = json_string_value(json_object_get(data, "id"));
    json_t *alt;
    size_t i;
    if (id != NULL) return id;
    json_array_foreach(json_object_get(item, "altIds"), i, alt)
    {
        const char *role = json_string_value(json_object_get(alt, "role"));
        if (role != NULL && strcmp(role, "release-id") == 0)
            return json_string_value(json_object_get(alt, "value"));
    }
    return NULL;
}

/* When the event happened: its "at" if the server sends one, else the
 * item's versionCreated (which, on a replay, is that of the release's
 * current version). */
static const char *event_time(json_t *data, json_t *item)
{
    const char *at = json_string_value(json_object_get(data, "at"));
    return at ? at : json_string_value(json_object_get(item, "versionCreated"));
}

/* The --json line of a stream event, in the shape of a /v1/wire event
 * (seq, kind, at, version, release {id, language, headline, url}) plus the
 * ninjs item. seq < 0: an embargo delivery (no seq; embargoed_until). */
static json_t *event_json(json_t *data, json_t *item, const char *kind, json_int_t seq)
{
    json_t *out = json_object(), *rel = json_object();
    const char *v;
    if (seq >= 0) json_object_set_new(out, "seq", json_integer(seq));
    json_object_set_new(out, "kind", json_string(kind));
    if (seq < 0 && (v = json_string_value(json_object_get(item, "embargoedUntil"))) != NULL)
        json_object_set_new(out, "embargoed_until", json_string(v));
    if ((v = event_time(data, item)) != NULL) json_object_set_new(out, "at", json_string(v));
    v = json_string_value(json_object_get(item, "version"));
    if (json_is_integer(json_object_get(data, "version"))) /* the event's own, if sent */
        json_object_set(out, "version", json_object_get(data, "version"));
    else if (v != NULL && v[0] != '\0' && strlen(v) < 10 && strspn(v, "0123456789") == strlen(v))
        json_object_set_new(out, "version", json_integer(atoi(v)));
    if ((v = event_release_id(data, item)) != NULL) json_object_set_new(rel, "id", json_string(v));
    if ((v = json_string_value(json_object_get(item, "language"))) != NULL)
        json_object_set_new(rel, "language", json_string(v));
    if ((v = item_headline(item)) != NULL) json_object_set_new(rel, "headline", json_string(v));
    if ((v = json_string_value(json_object_get(item, "uri"))) != NULL)
        json_object_set_new(rel, "url", json_string(v));
    json_object_set_new(out, "release", rel);
    if (item != NULL) json_object_set(out, "item", item);
    return out;
}

/* Prints a stream event. seq < 0: an embargo delivery. */
static int tail_print_event(tail_t *t, json_t *data, const char *kind, json_int_t seq)
{
    json_t *item = json_object_get(data, "item");
    kw_buf_t line = {0};
    int rc;

    if (t->json) {
        json_t *out = event_json(data, item, kind, seq);
        char *z = json_dumps(out, JSON_COMPACT);
        json_decref(out);
        if (z != NULL) kw_buf_puts(&line, z);
        free(z);
    } else if (seq < 0) {
        tail_format_line(&line, "EMBARGOED until",
                         json_string_value(json_object_get(item, "embargoedUntil")),
                         json_string_value(json_object_get(item, "language")), item_headline(item),
                         json_string_value(json_object_get(item, "uri")));
    } else {
        char lead[64];
        snprintf(lead, sizeof(lead), "#%" JSON_INTEGER_FORMAT " %.32s", seq, kind);
        tail_format_line(&line, lead, event_time(data, item),
                         json_string_value(json_object_get(item, "language")), item_headline(item),
                         json_string_value(json_object_get(item, "uri")));
    }
    rc = tail_emit(&line);
    kw_buf_free(&line);
    return rc;
}

/* Whether this embargo delivery was printed before; remembers it if not. */
static int tail_embargo_seen(tail_t *t, json_t *data)
{
    json_t *item = json_object_get(data, "item");
    const char *id = event_release_id(data, item);
    const char *ver = json_string_value(json_object_get(item, "version"));
    const char *lift = json_string_value(json_object_get(item, "embargoedUntil"));
    kw_buf_t key = {0};
    kw_buf_printf(&key, "%s\x1f%s\x1f%s", id ? id : "", ver ? ver : "", lift ? lift : "");
    for (size_t i = 0; i < t->nembargoes; i++) {
        if (strcmp(t->embargoes[i], key.data) == 0) {
            kw_buf_free(&key);
            return 1;
        }
    }
    if (t->embargoes == NULL) t->embargoes = kw_calloc(TAIL_MAX_EMBARGOES, sizeof(char *));
    size_t slot = t->embargo_next;
    free(t->embargoes[slot]); /* the oldest, once the ring is full */
    t->embargoes[slot] = kw_buf_steal(&key, NULL);
    t->embargo_next = (slot + 1) % TAIL_MAX_EMBARGOES;
    if (t->nembargoes < TAIL_MAX_EMBARGOES) t->nembargoes++;
    return 0;
}

/* Reads a sequence number: decimal digits only, at most 18 of them. */
static int tail_parse_seq(const char *z, json_int_t *out)
{
    json_int_t v = 0;
    size_t n = strlen(z);
    if (n == 0 || n > 18 || strspn(z, "0123456789") != n) return KW_INVALID;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (z[i] - '0');
    *out = v;
    return KW_OK;
}

/* A dispatched SSE event: type (may be ""), its own id (NULL if none) and
 * data. Returns KW_OK, or KW_ERROR if standard output failed. */
static int tail_on_event(tail_t *t, const char *type, const char *id, const char *data,
                         size_t data_len)
{
    json_error_t jerr;
    json_t *doc = json_loadb(data, data_len, 0, &jerr);
    const char *kind = type[0] && strcmp(type, "message") != 0
                           ? type
                           : json_string_value(json_object_get(doc, "kind"));
    json_int_t seq = -1;
    int rc = KW_OK;

    if (kind == NULL) goto done; /* not a wire event */
    if (strcmp(kind, "embargo") == 0) {
        if (!json_is_object(json_object_get(doc, "item")))
            fprintf(stderr, "kawat tail: skipping an embargo event without an item\n");
        else if (!tail_embargo_seen(t, doc))
            rc = tail_print_event(t, doc, kind, -1);
        goto done;
    }
    if (strcmp(kind, "publish") != 0 && strcmp(kind, "correction") != 0 &&
        strcmp(kind, "withdrawal") != 0)
        goto done; /* a kind this tail does not know: not for it */
    if (id == NULL || tail_parse_seq(id, &seq) != KW_OK) {
        json_t *s = json_object_get(doc, "seq");
        seq = json_is_integer(s) ? json_integer_value(s) : -1;
    }
    if (seq < 0) {
        fprintf(stderr, "kawat tail: skipping a %s event without a sequence number\n", kind);
        goto done;
    }
    if (t->cursor >= 0 && seq <= t->cursor) goto done; /* seen: a replay overlapped */
    if (!json_is_object(doc) || !json_is_object(json_object_get(doc, "item"))) {
        fprintf(stderr, "kawat tail: skipping event #%" JSON_INTEGER_FORMAT ": %s\n", seq,
                doc ? "no item" : jerr.text);
    } else if ((rc = tail_print_event(t, doc, kind, seq)) != KW_OK) {
        goto done;
    }
    t->cursor = seq;
    t->printed++;
done:
    json_decref(doc);
    return rc;
}

/* A comment line (after its ':'). ": kawat wire at N" opens a stream and
 * says where the wire ended when it was registered. */
static void tail_on_comment(tail_t *t, const char *text)
{
    static const char prefix[] = " kawat wire at ";
    json_int_t last;
    if (t->told_start || strncmp(text, prefix, sizeof(prefix) - 1) != 0 ||
        tail_parse_seq(text + sizeof(prefix) - 1, &last) != KW_OK)
        return;
    t->told_start = 1;
    if (t->cursor < 0) {
        t->cursor = last;
    } else if (last < t->cursor) {
        fprintf(stderr,
                "kawat tail: the server's wire ends at #%" JSON_INTEGER_FORMAT
                ", before #%" JSON_INTEGER_FORMAT " (was it reset?); following from there\n",
                last, t->cursor);
        t->cursor = last;
    }
}

/* ---- the stream: the SSE parser -------------------------------------------- */

static void sse_reset_block(sse_parser_t *s)
{
    kw_buf_reset(&s->event);
    kw_buf_reset(&s->data);
    kw_buf_reset(&s->id);
    s->has_data = s->has_id = 0;
}

static void sse_reset(sse_parser_t *s)
{
    kw_buf_reset(&s->line);
    s->after_cr = s->started = 0;
    sse_reset_block(s);
}

static void sse_free(sse_parser_t *s)
{
    kw_buf_free(&s->line);
    kw_buf_free(&s->event);
    kw_buf_free(&s->data);
    kw_buf_free(&s->id);
}

/* One complete line of the stream (without its end). */
static int sse_line(tail_t *t, const char *line, size_t len)
{
    sse_parser_t *s = &t->sse;
    int rc = KW_OK;

    if (len == 0) { /* dispatch */
        if (s->has_data) {
            if (s->data.len > 0) s->data.data[--s->data.len] = '\0'; /* the last LF */
            rc = tail_on_event(t, s->event.data ? s->event.data : "",
                               s->has_id ? (s->id.data ? s->id.data : "") : NULL, s->data.data,
                               s->data.len);
        }
        sse_reset_block(s);
        return rc;
    }
    if (line[0] == ':') {
        tail_on_comment(t, line + 1);
        return KW_OK;
    }
    const char *colon = memchr(line, ':', len);
    size_t name_len = colon ? (size_t)(colon - line) : len;
    const char *value = colon ? colon + 1 : line + len;
    size_t value_len = (size_t)(line + len - value);
    if (value_len > 0 && value[0] == ' ') value++, value_len--;

    if (name_len == 5 && memcmp(line, "event", 5) == 0) {
        kw_buf_reset(&s->event);
        kw_buf_append(&s->event, value, value_len);
    } else if (name_len == 4 && memcmp(line, "data", 4) == 0) {
        kw_buf_append(&s->data, value, value_len);
        kw_buf_putc(&s->data, '\n');
        s->has_data = 1;
    } else if (name_len == 2 && memcmp(line, "id", 2) == 0) {
        if (memchr(value, '\0', value_len) == NULL) {
            kw_buf_reset(&s->id);
            kw_buf_append(&s->id, value, value_len);
            s->has_id = 1;
        }
    } else if (name_len == 5 && memcmp(line, "retry", 5) == 0) {
        if (value_len > 0 && value_len <= 9) {
            size_t k = 0;
            long ms = 0;
            while (k < value_len && value[k] >= '0' && value[k] <= '9')
                ms = ms * 10 + (value[k++] - '0');
            if (k == value_len) t->retry_ms = ms;
        }
    } /* any other field is ignored */
    return KW_OK;
}

/* Feeds bytes of the stream to the parser; lines may be split anywhere
 * across reads and end in CRLF, LF or CR. Returns KW_OK, KW_ERROR when
 * output failed, KW_INVALID when the stream is malformed (t->protocol). */
static int sse_feed(tail_t *t, const char *p, size_t n)
{
    sse_parser_t *s = &t->sse;
    size_t i = 0;

    while (i < n) {
        if (s->after_cr) {
            s->after_cr = 0;
            if (p[i] == '\n') {
                i++;
                continue;
            }
        }
        size_t j = i;
        while (j < n && p[j] != '\n' && p[j] != '\r')
            j++;
        kw_buf_append(&s->line, p + i, j - i);
        if (s->line.len + s->data.len > TAIL_MAX_EVENT) {
            t->protocol = "an event larger than 16 MiB";
            return KW_INVALID;
        }
        if (j == n) break;
        s->after_cr = p[j] == '\r';
        const char *line = s->line.data ? s->line.data : "";
        size_t len = s->line.len;
        if (!s->started) { /* a UTF-8 byte order mark may open the stream */
            s->started = 1;
            if (len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) line += 3, len -= 3;
        }
        int rc = sse_line(t, line, len);
        kw_buf_reset(&s->line);
        if (rc != KW_OK) return rc;
        i = j + 1;
    }
    return KW_OK;
}

static size_t tail_on_stream_data(char *p, size_t size, size_t n, void *user)
{
    tail_t *t = user;
    clock_gettime(CLOCK_MONOTONIC, &t->last_rx);
    if (!t->head_checked) {
        const char *type = NULL;
        t->head_checked = 1;
        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &t->status);
        curl_easy_getinfo(t->curl, CURLINFO_CONTENT_TYPE, &type);
        t->is_stream =
            t->status == 200 && type != NULL && strncasecmp(type, "text/event-stream", 17) == 0;
        if (t->is_stream && t->failing) {
            fprintf(stderr, "kawat tail: %s answers again\n", t->server);
            t->failing = 0;
        }
    }
    if (!t->is_stream) return tail_on_data(p, size, n, user);
    int rc = sse_feed(t, p, n);
    if (rc == KW_ERROR) t->output_failed = 1;
    return rc == KW_OK ? n : 0;
}

/* ---- the stream: connections -------------------------------------------- */

/* Sleeps up to ms, waking early when a signal asks to stop. */
static void tail_sleep_ms(long ms)
{
    struct timespec slice = {0, 50 * 1000 * 1000};
    for (long waited = 0; waited < ms && !tail_stop; waited += 50)
        nanosleep(&slice, NULL);
}

static void tail_say_delay(kw_buf_t *msg, long ms)
{
    if (ms % 1000 == 0)
        kw_buf_printf(msg, "%lds", ms / 1000);
    else
        kw_buf_printf(msg, "%.1fs", (double)ms / 1000);
}

/* Opens the stream once and follows it until it ends. Returns KW_OK when
 * it was a stream (ended for whatever reason: see t and *cc), KW_AGAIN when
 * it could not be opened but may be later, KW_ERROR when it was refused for
 * good (msg says why), KW_DECLINED on a signal. */
static int tail_stream_once(tail_t *t, CURLcode *cc, char *errbuf, kw_buf_t *msg)
{
    kw_buf_t url = {0}, h = {0};
    struct curl_slist *headers = NULL;

    kw_buf_printf(&url, "%s/v1/stream", t->server);
    if (t->filters.len > 0) kw_buf_printf(&url, "?%s", t->filters.data + 1);
    headers = curl_slist_append(headers, "Accept: text/event-stream");
    headers = curl_slist_append(headers, "Cache-Control: no-cache");
    if (t->token != NULL && t->token[0] != '\0') {
        kw_buf_printf(&h, "Authorization: Bearer %s", t->token);
        headers = curl_slist_append(headers, h.data);
    }
    if (t->cursor >= 0) {
        kw_buf_reset(&h);
        kw_buf_printf(&h, "Last-Event-ID: %" JSON_INTEGER_FORMAT, t->cursor);
        headers = curl_slist_append(headers, h.data);
    }

    kw_buf_reset(&t->body);
    t->too_large = 0;
    t->head_checked = t->is_stream = t->told_start = t->idle_abort = 0;
    t->status = 0;
    t->printed = 0;
    t->protocol = NULL;
    sse_reset(&t->sse);
    clock_gettime(CLOCK_MONOTONIC, &t->last_rx);
    errbuf[0] = '\0';

    curl_easy_setopt(t->curl, CURLOPT_URL, url.data);
    curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(t->curl, CURLOPT_TIMEOUT, 0L);
    curl_easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, tail_on_stream_data);
    curl_easy_setopt(t->curl, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(t->curl, CURLOPT_ERRORBUFFER, errbuf);
    *cc = curl_easy_perform(t->curl);
    curl_easy_setopt(t->curl, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
    kw_buf_free(&url);
    kw_buf_free(&h);

    if (tail_stop) return KW_DECLINED;
    if (t->is_stream) return KW_OK;
    if (*cc != CURLE_OK) {
        kw_buf_printf(msg, "cannot reach %s: %s", t->server,
                      t->too_large ? "response too large"
                      : errbuf[0]  ? errbuf
                                   : curl_easy_strerror(*cc));
        return KW_AGAIN;
    }
    if (t->status == 200) {
        const char *type = NULL;
        curl_easy_getinfo(t->curl, CURLINFO_CONTENT_TYPE, &type);
        kw_buf_printf(msg, "%s/v1/stream is not an event stream (Content-Type: ", t->server);
        tail_append_clean(msg, type ? type : "none");
        kw_buf_putc(msg, ')');
        return KW_ERROR;
    }
    tail_describe_problem(t, t->status, msg);
    return t->status >= 500 || t->status == 408 || t->status == 429 ? KW_AGAIN : KW_ERROR;
}

/* Follows the stream until stopped, reconnecting as the design note says.
 * Returns the process exit status. */
static int tail_run_stream(tail_t *t)
{
    char errbuf[CURL_ERROR_SIZE];
    kw_buf_t msg = {0};
    long backoff_ms = 0; /* the next delay; below the base: the base */
    int status = 1;

    while (!tail_stop) {
        CURLcode cc = CURLE_OK;
        struct timespec opened;
        const long base_ms = 1000;
        long delay_ms;

        if (backoff_ms < base_ms) backoff_ms = base_ms;
        kw_buf_reset(&msg);
        clock_gettime(CLOCK_MONOTONIC, &opened);
        int rc = t->cursor < 0 && t->failing ? tail_wire_end(t, &t->cursor, &msg) : KW_OK;
        if (rc == KW_OK) rc = tail_stream_once(t, &cc, errbuf, &msg);
        if (rc == KW_DECLINED) break;
        if (t->output_failed) goto done;
        if (rc == KW_ERROR) {
            fprintf(stderr, "kawat tail: %s\n", msg.data);
            goto done;
        }
        if (rc == KW_OK) {
            /* A stream that worked for a while starts the backoff afresh. */
            if (t->printed > 0 || tail_elapsed_s(&opened) >= TAIL_MAX_BACKOFF_S)
                backoff_ms = base_ms;
            if (t->printed > 0 && cc == CURLE_OK) continue; /* resume at once */
            kw_buf_printf(&msg, "the stream from %s ended", t->server);
            if (t->idle_abort)
                kw_buf_printf(&msg, " (nothing heard for %ds)", TAIL_IDLE_S);
            else if (t->protocol != NULL)
                kw_buf_printf(&msg, " (%s)", t->protocol);
            else if (cc != CURLE_OK)
                kw_buf_printf(&msg, " (%s)", errbuf[0] ? errbuf : curl_easy_strerror(cc));
            kw_buf_puts(&msg, "; reconnecting");
        }
        delay_ms = backoff_ms;
        if (rc == KW_OK && t->retry_ms > delay_ms) /* the server's advice */
            delay_ms =
                t->retry_ms < TAIL_MAX_BACKOFF_S * 1000L ? t->retry_ms : TAIL_MAX_BACKOFF_S * 1000L;
        kw_buf_puts(&msg, rc == KW_OK ? " in " : "; retrying in ");
        tail_say_delay(&msg, delay_ms);
        fprintf(stderr, "kawat tail: %s\n", msg.data);
        t->failing = 1;
        tail_sleep_ms(delay_ms);
        backoff_ms = backoff_ms * 2 > TAIL_MAX_BACKOFF_S * 1000L ? TAIL_MAX_BACKOFF_S * 1000L
                                                                 : backoff_ms * 2;
    }
    status = 0;
done:
    kw_buf_free(&msg);
    return status;
}

int cli_tail_main(int argc, char **argv)
{
    static const char *const filter_names[] = {
        [OPT_LANGUAGE] = "language", [OPT_SECTOR] = "sector",   [OPT_REGION] = "region",
        [OPT_ISSUER] = "issuer",     [OPT_KEYWORD] = "keyword",
    };
    int status = 2, curl_ready = 0, know_start = 0;
    tail_t t = {.cursor = -1};
    const char *server = getenv("KAWAT_SERVER");
    const char *token = getenv("KAWAT_TOKEN");
    const char **filters = kw_calloc((size_t)argc + 1, sizeof(*filters)); /* name, value pairs */
    size_t nfilters = 0;
    json_int_t after = 0;
    kw_buf_t auth = {0};
    struct curl_slist *get_headers = NULL;
    struct sigaction sa;

    for (int i = 1; i < argc; i++) {
        const char *v;
        if (argv[i][0] != '-') {
            fprintf(stderr, "kawat tail: unexpected argument '%s' (see kawat tail --help)\n",
                    argv[i]);
            goto done;
        }
        int opt = tail_option(tail_options, KW_ARRAY_SIZE(tail_options), argc, argv, &i, &v);
        switch (opt) {
        case OPT_SERVER:
            server = v;
            break;
        case OPT_TOKEN:
            token = v;
            break;
        case OPT_AFTER:
        case OPT_FROM_START:
            if (know_start) {
                fprintf(stderr, "kawat tail: give one of --after and --from-start, once\n");
                goto done;
            }
            if (opt == OPT_AFTER && tail_parse_seq(v, &after) != KW_OK) {
                fprintf(stderr, "kawat tail: --after needs a sequence number, not '%s'\n", v);
                goto done;
            }
            know_start = 1;
            break;
        case OPT_KEYWORD:
            if (v[0] == '\0') {
                fprintf(stderr, "kawat tail: --keyword needs a word or phrase\n");
                goto done;
            }
            t.has_keyword = 1;
            /* fall through */
        case OPT_LANGUAGE:
        case OPT_SECTOR:
        case OPT_REGION:
        case OPT_ISSUER:
            filters[nfilters++] = filter_names[opt];
            filters[nfilters++] = v;
            break;
        case OPT_JSON:
            t.json = 1;
            break;
        case OPT_ONCE:
            t.once = 1;
            break;
        case OPT_HELP:
            fputs(tail_usage, stdout);
            status = 0;
            goto done;
        default:
            goto done;
        }
    }
    if (server == NULL || server[0] == '\0') server = TAIL_DEFAULT_SERVER;
    t.server = kw_strdup(server);
    for (size_t n = strlen(t.server); n > 0 && t.server[n - 1] == '/'; n--)
        t.server[n - 1] = '\0';
    if (token != NULL && strpbrk(token, "\r\n") != NULL) {
        fprintf(stderr, "kawat tail: the API token contains a line break\n");
        goto done;
    }
    t.token = token;

    status = 1;
    curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    if (!curl_ready || (t.curl = curl_easy_init()) == NULL) {
        fprintf(stderr, "kawat tail: cannot initialise libcurl\n");
        goto done;
    }
    for (size_t k = 0; k < nfilters; k += 2)
        tail_add_filter(&t, filters[k], filters[k + 1]);
    if (token != NULL && token[0] != '\0') {
        kw_buf_printf(&auth, "Authorization: Bearer %s", token);
        get_headers = curl_slist_append(get_headers, auth.data);
    }
    get_headers =
        curl_slist_append(get_headers, "Accept: application/json, application/problem+json");
    curl_easy_setopt(t.curl, CURLOPT_USERAGENT, "kawat-tail/2");
    curl_easy_setopt(t.curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t.curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(t.curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(t.curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(t.curl, CURLOPT_XFERINFOFUNCTION, tail_on_progress);
    curl_easy_setopt(t.curl, CURLOPT_XFERINFODATA, &t);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(t.curl, CURLOPT_PROTOCOLS_STR, "http,https");
#endif

    /* No SA_RESTART: a signal interrupts libcurl's wait, whose progress
     * callback then aborts the transfer. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = tail_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    t.get_headers = get_headers;
    if (t.once) {
        status = tail_run_once(&t, after, know_start);
    } else {
        if (know_start) t.cursor = after;
        status = tail_run_stream(&t);
    }

done:
    if (t.curl != NULL) curl_easy_cleanup(t.curl);
    if (curl_ready) curl_global_cleanup();
    curl_slist_free_all(get_headers);
    kw_buf_free(&t.filters);
    kw_buf_free(&t.body);
    kw_buf_free(&auth);
    sse_free(&t.sse);
    for (size_t i = 0; i < t.nembargoes; i++)
        free(t.embargoes[i]);
    free(t.embargoes);
    free(t.server);
    free(filters);
    return status;
}
