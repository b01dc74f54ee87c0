/* cli_tail.c -- `kawat tail`: follows the wire log of a kawat server by long
 * polling, printing each publish, correction and withdrawal as it happens. */
#include "cli/cli.h"
#include "core/core.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Design note: the cursor.
 *
 * `after` is the sequence number of the last event the user has seen.
 * Each poll asks for events after it; printed events move it forward, and
 * an event at or below it is never printed twice (a retried poll may
 * overlap). With filters, the server may also have scanned past events that
 * did not match; moving the cursor past them spares it scanning them again
 * on every poll. A page's "next_after", when the server sends it, is exactly
 * that point. Without it, a page shorter than the limit means everything
 * matching up to "last_seq" was returned, so the cursor moves there; a full
 * page only moves it to its last event, since more may follow. A wire that
 * ends before the cursor (a server whose log was reset) is reported and
 * followed from its end. */

#define TAIL_DEFAULT_SERVER "http://127.0.0.1:8080"
#define TAIL_WAIT_S 25
#define TAIL_LIMIT 100
#define TAIL_MAX_BACKOFF_S 10
#define TAIL_MAX_RESPONSE ((size_t)32 << 20)

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
    "                   (each filter may be repeated: any of its values matches)\n"
    "  --json           print each event as one line of compact JSON\n"
    "  --once           print what is available now and exit; do not wait\n"
    "  -h, --help       show this help\n"
    "\n"
    "When the server cannot be reached, tail retries after 1, 2, 4, 8, then\n"
    "every 10 seconds, and resumes where it left off (with --once it exits\n"
    "instead). Ctrl-C or SIGTERM stops it.\n"
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
    OPT_JSON,
    OPT_ONCE,
    OPT_HELP
};

static const tail_option_t tail_options[] = {
    [OPT_SERVER] = {"server", 1},     [OPT_TOKEN] = {"token", 1},
    [OPT_AFTER] = {"after", 1},       [OPT_FROM_START] = {"from-start", 0},
    [OPT_LANGUAGE] = {"language", 1}, [OPT_SECTOR] = {"sector", 1},
    [OPT_REGION] = {"region", 1},     [OPT_ISSUER] = {"issuer", 1},
    [OPT_JSON] = {"json", 0},         [OPT_ONCE] = {"once", 0},
    [OPT_HELP] = {"help", 0},
};

typedef struct {
    CURL *curl;
    char *server; /* base URL without a trailing '/' (owned) */
    struct curl_slist *headers;
    kw_buf_t filters; /* "&language=id&sector=..." (escaped) */
    kw_buf_t body;    /* the last response */
    int too_large;
    int json;
    int once;
    int wait_s;       /* long-poll wait asked of the server, in seconds */
    int wait_refused; /* the last answer was a 400 naming "wait" */
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

/* Called by libcurl about once a second, and when a signal interrupts its
 * wait: a nonzero return aborts the transfer so a stop is prompt. */
static int tail_on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                            curl_off_t ulnow)
{
    return tail_stop ? 1 : 0;
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
    errbuf[0] = '\0';
    curl_easy_setopt(t->curl, CURLOPT_URL, url);
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
        if (status == 400) {
            json_t *doc = json_loadb(t->body.data, t->body.len, 0, NULL);
            const char *field = json_string_value(json_object_get(doc, "field"));
            t->wait_refused = field != NULL && strcmp(field, "wait") == 0;
            json_decref(doc);
        }
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

/* Prints one event, as its text line or (with --json) compact JSON, and
 * flushes. Returns KW_OK, or KW_ERROR if standard output failed. */
static int tail_print(const tail_t *t, json_t *ev, json_int_t seq)
{
    kw_buf_t line = {0};
    int rc = KW_OK;

    if (t->json) {
        char *z = json_dumps(ev, JSON_COMPACT);
        if (z != NULL) kw_buf_puts(&line, z);
        free(z);
    } else {
        json_t *rel = json_object_get(ev, "release");
        const char *kind = json_string_value(json_object_get(ev, "kind"));
        const char *at = json_string_value(json_object_get(ev, "at"));
        const char *lang = json_string_value(json_object_get(rel, "language"));
        const char *headline = json_string_value(json_object_get(rel, "headline"));
        const char *url = json_string_value(json_object_get(rel, "url"));

        kw_buf_printf(&line, "#%" JSON_INTEGER_FORMAT " ", seq);
        tail_append_clean(&line, kind ? kind : "-");
        kw_buf_putc(&line, ' ');
        tail_append_clean(&line, at ? at : "-");
        kw_buf_puts(&line, " [");
        tail_append_clean(&line, lang ? lang : "-");
        kw_buf_putc(&line, ']');
        if (headline != NULL) {
            kw_buf_putc(&line, ' ');
            tail_append_clean(&line, headline);
        }
        if (url != NULL) {
            kw_buf_puts(&line, " \xE2\x80\x94 "); /* em dash */
            tail_append_clean(&line, url);
        }
    }
    kw_buf_putc(&line, '\n');
    if (fwrite(line.data, 1, line.len, stdout) != line.len || fflush(stdout) != 0) {
        fprintf(stderr, "kawat tail: cannot write output: %s\n", strerror(errno));
        rc = KW_ERROR;
    }
    kw_buf_free(&line);
    return rc;
}

/* Prints the new events of a page and moves *after (see the design note on
 * the cursor). Returns the number of events printed, or -1 if output failed. */
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
        if (tail_print(t, ev, seq) != KW_OK) return -1;
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
                ", before #%" JSON_INTEGER_FORMAT " (was it reset?); following from there\n",
                last_seq, seen);
        seen = last_seq;
    }
    *after = seen;
    return printed;
}

/* Sleeps up to seconds, waking early when a signal asks to stop. */
static void tail_sleep(int seconds)
{
    struct timespec slice = {0, 100 * 1000 * 1000};
    for (int i = 0; i < seconds * 10 && !tail_stop; i++)
        nanosleep(&slice, NULL);
}

/* Polls until stopped. Returns the process exit status.
 *
 * A server may cap the long-poll wait below TAIL_WAIT_S (--longpoll-max);
 * it then answers 400 naming "wait", and tail halves its wait and asks
 * again, down to plain polling once a second. */
static int tail_run(tail_t *t, json_int_t after, int know_start)
{
    int status = 1, backoff = 1, failing = 0;
    kw_buf_t url = {0}, msg = {0};
    json_t *page = NULL;

    while (!tail_stop) {
        kw_buf_reset(&url);
        kw_buf_reset(&msg);
        if (!know_start)
            kw_buf_printf(&url, "%s/v1/wire?after=0&limit=0", t->server);
        else
            kw_buf_printf(&url, "%s/v1/wire?after=%" JSON_INTEGER_FORMAT "&wait=%d&limit=%d%s",
                          t->server, after, t->once ? 0 : t->wait_s, TAIL_LIMIT,
                          t->filters.data ? t->filters.data : "");

        json_decref(page);
        t->wait_refused = 0;
        int rc = tail_get(t, url.data, &page, &msg);
        if (rc == KW_DECLINED) break;
        if (rc == KW_ERROR && t->wait_refused && !t->once && t->wait_s > 0) {
            t->wait_s /= 2;
            continue;
        }
        if (rc == KW_ERROR || (rc == KW_AGAIN && t->once)) {
            fprintf(stderr, "kawat tail: %s\n", msg.data);
            goto done;
        }
        if (rc == KW_AGAIN) {
            fprintf(stderr, "kawat tail: %s; retrying in %ds\n", msg.data, backoff);
            tail_sleep(backoff);
            backoff = backoff * 2 > TAIL_MAX_BACKOFF_S ? TAIL_MAX_BACKOFF_S : backoff * 2;
            failing = 1;
            continue;
        }
        if (failing) fprintf(stderr, "kawat tail: %s answers again\n", t->server);
        backoff = 1;
        failing = 0;

        if (!know_start) {
            after = json_integer_value(json_object_get(page, "last_seq"));
            know_start = 1;
            continue;
        }
        long printed = tail_page(t, page, &after);
        if (printed < 0) goto done;
        if (t->once && json_array_size(json_object_get(page, "events")) == 0) break;
        if (!t->once && t->wait_s == 0 && printed == 0) tail_sleep(1); /* no long poll */
    }
    status = 0;

done:
    json_decref(page);
    kw_buf_free(&url);
    kw_buf_free(&msg);
    return status;
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

int cli_tail_main(int argc, char **argv)
{
    static const char *const filter_names[] = {
        [OPT_LANGUAGE] = "language",
        [OPT_SECTOR] = "sector",
        [OPT_REGION] = "region",
        [OPT_ISSUER] = "issuer",
    };
    int status = 2, curl_ready = 0, know_start = 0;
    tail_t t = {.wait_s = TAIL_WAIT_S};
    const char *server = getenv("KAWAT_SERVER");
    const char *token = getenv("KAWAT_TOKEN");
    const char **filters = kw_calloc((size_t)argc + 1, sizeof(*filters)); /* name, value pairs */
    size_t nfilters = 0;
    json_int_t after = 0;
    kw_buf_t auth = {0};
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
        t.headers = curl_slist_append(t.headers, auth.data);
    }
    t.headers = curl_slist_append(t.headers, "Accept: application/json, application/problem+json");
    curl_easy_setopt(t.curl, CURLOPT_HTTPHEADER, t.headers);
    curl_easy_setopt(t.curl, CURLOPT_USERAGENT, "kawat-tail/1");
    curl_easy_setopt(t.curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(t.curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(t.curl, CURLOPT_TIMEOUT, (long)TAIL_WAIT_S + 30L);
    curl_easy_setopt(t.curl, CURLOPT_WRITEFUNCTION, tail_on_data);
    curl_easy_setopt(t.curl, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(t.curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(t.curl, CURLOPT_XFERINFOFUNCTION, tail_on_progress);
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

    status = tail_run(&t, after, know_start);

done:
    if (t.curl != NULL) curl_easy_cleanup(t.curl);
    if (curl_ready) curl_global_cleanup();
    curl_slist_free_all(t.headers);
    kw_buf_free(&t.filters);
    kw_buf_free(&t.body);
    kw_buf_free(&auth);
    free(t.server);
    free(filters);
    return status;
}
