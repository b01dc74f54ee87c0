/* deliver_mail.c -- e-mail alerts for journalists: fills the durable mail
 * outbox from the wire log and sends it over SMTP with libcurl's multi
 * interface on the server's loop (see mail.h for what a mail looks like).
 *
 * Design note: at least once, never two Message-IDs.
 * The engine follows deliver_webhook.c. It reads the wire past the last
 * sequence it handled (meta.mail_seq) and writes, in ONE store op, an
 * outbox row for every immediate recipient the event matches, a digest
 * item for every hourly or daily one, and the new position. Each row's
 * id is made of what it is for -- "<release>.<subscriber>" for a
 * publication, "<release>.v<version>.<subscriber>" for a correction,
 * "<release>.e.<subscriber>" for an embargoed early mail,
 * "d<h|d><period>.<subscriber>" for a digest, the sign-up's id for a
 * confirmation, "n" and 20 random characters for a notice (a password
 * reset or invitation to a person, app->send_mail: the row holds its
 * subject and text) -- and the Message-ID is "<id@host>". A kill -9
 * before the commit reads the batch again after the restart (INSERT OR
 * IGNORE adds nothing twice); a kill -9 after a mail went out but before
 * its result was committed sends it again with the same Message-ID.
 *
 * Design note: sending.
 * Due rows are read in passes, in order of (next_at, rowid) past the last
 * row read, a bounded batch at a time, and sent up to max_in_flight at
 * once. Results are written in batches (one op at a time, the next holding
 * what arrived meanwhile). A new pass starts from the beginning only when
 * nothing is in flight and every result is committed, so a row is never
 * read twice while its outcome is unknown. A 2xx is sent; a 5xx to RCPT TO
 * or to the message is permanent: the address is marked bounced and gets
 * nothing more; anything else (4xx, no connection, a timeout) is retried
 * after retry_base, x5, x25, x60 (capped), until give_up after queueing.
 *
 * Design note: embargo.
 * Wire events are public by definition. An embargoed release is not on
 * the wire until it lifts; when an editor approves one, trusted
 * recipients whose beats match get it at once (whatever their timing),
 * "EMBARGOED until <lift time>" in subject and text, as the stream hub
 * does for trusted desktops. Others get it when it publishes. At start
 * the engine enqueues the embargoed releases again (ids make it a no-op
 * for what was queued before), so a crash between the approval and that
 * op loses nothing. A release withdrawn or no longer in the state its
 * mail was for is never sent: its pending mails are cancelled. */
#include "deliver/mail.h"
#include "auth/auth.h"
#include "core/core_lang.h"
#include "core/core_markdown.h"
#include "core/core_time.h"
#include "deliver/report.h"
#include "match/match.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WIRE_BATCH 100
#define WIRE_BATCH_MAILS 20000 /* rows per enqueue op, about (one event is never split) */
#define DUE_BATCH 512
#define ENQUEUE_RETRY_MS 1000
#define RENDER_CACHE 64
#define SUMMARY_BYTES 300

/* ---- MIME ---- */

static int is_ascii_text(const char *z)
{
    for (const unsigned char *p = (const unsigned char *)z; *p; p++)
        if (*p < 0x20 || *p > 0x7e) return 0;
    return 1;
}

/* A copy of z with control characters (CR, LF, tabs ...) as spaces. */
static char *header_clean(const char *z)
{
    char *c = kw_strdup(z ? z : "");
    for (unsigned char *p = (unsigned char *)c; *p; p++)
        if (*p < 0x20 || *p == 0x7f) *p = ' ';
    return c;
}

/* Length of the UTF-8 sequence starting with byte c (1 for stray bytes). */
static size_t utf8_len(unsigned char c)
{
    if (c >= 0xf0 && c < 0xf8) return 4;
    if (c >= 0xe0) return c < 0xf0 ? 3 : 1;
    if (c >= 0xc0) return 2;
    return 1;
}

/* The words of value, the first starting at column col: each word and
 * each line stays within 76 columns (RFC 2047 section 2). */
static void encode_words_at(kw_buf_t *b, const char *value, size_t col)
{
    /* 45 bytes give 60 base64 characters: with "=?UTF-8?B?" and "?=" a
     * word is 72 characters on its own folded line (" " + 72 < 76). */
    const char *p = value;
    size_t n = strlen(value);
    int first = 1;
    while (n > 0 || first) {
        size_t room = first && col + 12 < 76 ? (76 - col - 12) / 4 * 3 : 45;
        if (room > 45) room = 45;
        if (room < 3) room = 3;
        size_t take = 0;
        while (take < n) {
            size_t l = utf8_len((unsigned char)p[take]);
            if (take + l > room) break;
            take += l;
        }
        if (take == 0 && n > 0) take = n < room ? n : room; /* a malformed sequence */
        char enc[64];
        EVP_EncodeBlock((unsigned char *)enc, (const unsigned char *)p, (int)take);
        if (!first) kw_buf_puts(b, "\r\n ");
        kw_buf_printf(b, "=?UTF-8?B?%s?=", enc);
        p += take;
        n -= take;
        first = 0;
    }
}

void mail_encode_words(kw_buf_t *b, const char *value)
{
    encode_words_at(b, value, 0);
}

void mail_header(kw_buf_t *b, const char *name, const char *value)
{
    char *v = header_clean(value);
    kw_buf_printf(b, "%s: ", name);
    if (is_ascii_text(v)) {
        /* Fold at spaces past 76 columns. */
        size_t col = strlen(name) + 2;
        const char *p = v;
        while (*p) {
            const char *sp = strchr(p + 1, ' ');
            size_t word = sp ? (size_t)(sp - p) : strlen(p);
            if (col + word > 76 && p != v && *p == ' ') {
                kw_buf_puts(b, "\r\n");
                col = 0;
            }
            kw_buf_append(b, p, word);
            col += word;
            p += word;
        }
    } else {
        encode_words_at(b, v, strlen(name) + 2);
    }
    kw_buf_puts(b, "\r\n");
    free(v);
}

void mail_qp_encode(kw_buf_t *b, const char *text, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i = 0;
    while (i <= len) {
        /* One input line: [i, end). */
        size_t end = i;
        while (end < len && text[end] != '\n')
            end++;
        size_t stop = end;
        if (stop > i && text[stop - 1] == '\r') stop--;
        size_t col = 0;
        for (size_t k = i; k < stop; k++) {
            unsigned char c = (unsigned char)text[k];
            char enc[4];
            size_t w;
            int last = k + 1 == stop;
            if ((c >= 33 && c <= 126 && c != '=' && !(c == '.' && col == 0)) ||
                ((c == ' ' || c == '\t') && !last)) {
                enc[0] = (char)c;
                w = 1;
            } else {
                enc[0] = '=';
                enc[1] = hex[c >> 4];
                enc[2] = hex[c & 15];
                w = 3;
            }
            /* Room for the soft break's '=' at column 76. */
            if (col + w > 75) {
                kw_buf_puts(b, "=\r\n");
                col = 0;
                if (w == 1 && enc[0] == '.') { /* now it starts a line */
                    enc[0] = '=';
                    enc[1] = '2';
                    enc[2] = 'E';
                    w = 3;
                }
            }
            kw_buf_append(b, enc, w);
            col += w;
        }
        if (end >= len) break;
        kw_buf_puts(b, "\r\n");
        i = end + 1;
    }
    kw_buf_puts(b, "\r\n");
}

void mail_date(int64_t ms, char *out, size_t size)
{
    static const char *const days[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t s = ms / 1000, days_since = s / 86400, rem = s % 86400;
    int64_t y;
    unsigned mo, d;
    core_time_civil_from_days(days_since, &y, &mo, &d);
    snprintf(out, size, "%s, %02u %s %04lld %02d:%02d:%02d +0000", days[days_since % 7], d,
             months[mo - 1], (long long)y, (int)(rem / 3600), (int)(rem / 60 % 60),
             (int)(rem % 60));
}

void mail_build(kw_buf_t *out, const mail_message_t *m)
{
    char date[48], boundary[96];
    mail_date(m->date_ms, date, sizeof(date));
    unsigned char mac[32];
    char hexid[17];
    auth_hmac_sha256("kawat-boundary", 14, m->message_id, strlen(m->message_id), mac);
    for (int i = 0; i < 8; i++)
        snprintf(hexid + 2 * i, 3, "%02x", mac[i]);
    /* "=_" never appears in quoted-printable output. */
    snprintf(boundary, sizeof(boundary), "=_kawat_%s", hexid);

    char *name = header_clean(m->from_name);
    kw_buf_puts(out, "From: ");
    if (is_ascii_text(name) && strpbrk(name, "\"\\") == NULL)
        kw_buf_printf(out, "\"%s\"", name);
    else
        encode_words_at(out, name, 6);
    kw_buf_printf(out, " <%s>\r\n", m->from_addr);
    free(name);
    kw_buf_printf(out, "To: <%s>\r\n", m->to_addr);
    mail_header(out, "Subject", m->subject);
    kw_buf_printf(out, "Date: %s\r\nMessage-ID: <%s>\r\n", date, m->message_id);
    if (m->in_reply_to)
        kw_buf_printf(out, "In-Reply-To: <%s>\r\nReferences: <%s>\r\n", m->in_reply_to,
                      m->in_reply_to);
    if (m->list_id) mail_header(out, "List-Id", m->list_id);
    if (m->unsubscribe_url) {
        kw_buf_printf(out, "List-Unsubscribe: <%s>\r\n", m->unsubscribe_url);
        kw_buf_puts(out, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
    }
    kw_buf_puts(out, "Auto-Submitted: auto-generated\r\n");
    if (m->language) kw_buf_printf(out, "Content-Language: %s\r\n", m->language);
    if (m->html == NULL) { /* a plain text mail (notices) */
        kw_buf_puts(out, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                         "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
        mail_qp_encode(out, m->text, strlen(m->text));
        return;
    }
    kw_buf_printf(out,
                  "MIME-Version: 1.0\r\n"
                  "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n"
                  "This is a MIME message: text and HTML.\r\n\r\n"
                  "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                  "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                  boundary, boundary);
    mail_qp_encode(out, m->text, strlen(m->text));
    kw_buf_printf(out,
                  "--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
                  "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                  boundary);
    mail_qp_encode(out, m->html, strlen(m->html));
    kw_buf_printf(out, "--%s--\r\n", boundary);
}

/* ---- signed links ---- */

static void token_mac(const char *key, char purpose, const char *id, int64_t expires_s,
                      char out[33])
{
    char msg[128], hex[AUTH_HEX_SIZE];
    int n = snprintf(msg, sizeof(msg), "%c:%s.%lld", purpose, id, (long long)expires_s);
    auth_hmac_sha256_hex(key, strlen(key), msg, (size_t)n, hex);
    memcpy(out, hex, 32);
    out[32] = '\0';
}

static int id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > 31) return 0;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z'))) return 0;
    return 1;
}

int mail_token_make_key(const char *key, char purpose, const char *id, int64_t expires_s, char *out,
                        size_t size)
{
    if (key == NULL || !id_ok(id) || size < MAIL_TOKEN_SIZE) return KW_ERROR;
    char mac[33];
    token_mac(key, purpose, id, expires_s, mac);
    snprintf(out, size, "%s.%lld.%s", id, (long long)expires_s, mac);
    return KW_OK;
}

int mail_token_check_key(const char *key, char purpose, const char *token, int64_t now_s, char *id,
                         size_t idsize)
{
    if (key == NULL || token == NULL || strlen(token) >= MAIL_TOKEN_SIZE) return KW_INVALID;
    const char *dot1 = strchr(token, '.');
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    if (dot1 == NULL || dot2 == NULL || (size_t)(dot1 - token) >= idsize || dot1 - token > 31 ||
        strlen(dot2 + 1) != 32)
        return KW_INVALID;
    char myid[32];
    memcpy(myid, token, (size_t)(dot1 - token));
    myid[dot1 - token] = '\0';
    if (!id_ok(myid)) return KW_INVALID;
    size_t digits = (size_t)(dot2 - dot1 - 1);
    if (digits == 0 || digits > 12 || strspn(dot1 + 1, "0123456789") != digits) return KW_INVALID;
    int64_t expires = strtoll(dot1 + 1, NULL, 10);
    char mac[33];
    token_mac(key, purpose, myid, expires, mac);
    if (!auth_consttime_eq(mac, dot2 + 1, 32)) return KW_INVALID;
    if (expires != 0 && expires < now_s) return KW_GONE;
    snprintf(id, idsize, "%s", myid);
    return KW_OK;
}

/* ---- the engine ---- */

typedef struct {
    char id[32];  /* subscriber id */
    uint32_t num; /* the engine's dense number in the index */
    char timing;  /* 'i'mmediate, 'h'ourly, 'd'aily */
    int trusted;
    int active;
    int64_t after_seq;
} recipient_t;

/* A rendered release for one language (cache entry). */
typedef struct {
    char release_id[32];
    int version;
    char language[16];
    char variant; /* 'a' alert, 'c' correction, 'e' embargo, 'i' digest item */
    char *subject;
    char *text; /* the part above the footer */
    char *html;
} rendered_t;

typedef struct engine_s engine_t;

/* One SMTP transaction. */
typedef struct attempt_s {
    engine_t *g;
    CURL *easy;
    struct curl_slist *rcpt;
    kw_buf_t msg;
    size_t sent;
    store_mail_t row;
    char errbuf[CURL_ERROR_SIZE];
    struct attempt_s *prev, *next; /* in flight */
} attempt_t;

typedef struct sock_s {
    uv_poll_t poll;
    curl_socket_t fd;
    engine_t *g;
    struct sock_s *prev, *next;
} sock_t;

struct engine_s {
    kawat_app_t *app;
    mail_config_t cfg;
    char *smtp_url, *mail_from, *host;
    char key[80];
    /* recipients */
    match_index_t *index;
    recipient_t **by_num;
    size_t nnum, capnum;
    recipient_t **by_id; /* open addressing on the subscriber id, never shrinks */
    size_t idcap, idcount;
    size_t active;
    uint32_t *matches;
    size_t matches_cap;
    /* the wire */
    int64_t read_seq, target_seq;
    int enqueue_busy;
    int64_t enqueue_retry_at;
    /* digests */
    int64_t digest_done[2]; /* period start (ms) handled: hourly, daily */
    int digest_busy;
    /* sending */
    CURLM *multi;
    uv_timer_t curl_timer, timer;
    sock_t *socks;
    attempt_t *attempts; /* in flight */
    store_mail_t *queue;
    size_t nqueue, qhead;
    int64_t cur_next_at, cur_rowid; /* the pass's position */
    int pass_over;
    size_t in_flight;
    json_t *sent, *retry, *failed, *cancelled;
    int results_busy;
    int64_t wake_at;
    /* rendering */
    rendered_t cache[RENDER_CACHE];
    size_t cache_next;
    /* lifetime */
    int handles_open, ops_pending, stopping;
    uint64_t rng;
    uint64_t n_sent, n_retried, n_failed, n_bounced, n_cancelled;
};

static void pump_enqueue(engine_t *g);
static void pump_send(engine_t *g);
static void schedule(engine_t *g);
static void flush_results(engine_t *g);
static void digest_run(engine_t *g);

/* ---- recipients ---- */

static uint64_t hash_id(const char *z)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *z; z++)
        h = (h ^ (unsigned char)*z) * 1099511628211ULL;
    return h;
}

static recipient_t *recipient_find(engine_t *g, const char *id)
{
    if (g->idcap == 0) return NULL;
    for (size_t i = hash_id(id) & (g->idcap - 1);; i = (i + 1) & (g->idcap - 1)) {
        if (g->by_id[i] == NULL) return NULL;
        if (strcmp(g->by_id[i]->id, id) == 0) return g->by_id[i];
    }
}

static void id_insert(engine_t *g, recipient_t *r)
{
    if ((g->idcount + 1) * 2 > g->idcap) {
        size_t cap = g->idcap ? g->idcap * 2 : 1024;
        recipient_t **t = kw_calloc(cap, sizeof(*t));
        for (size_t i = 0; i < g->idcap; i++) {
            recipient_t *x = g->by_id[i];
            if (x == NULL) continue;
            size_t j = hash_id(x->id) & (cap - 1);
            while (t[j])
                j = (j + 1) & (cap - 1);
            t[j] = x;
        }
        free(g->by_id);
        g->by_id = t;
        g->idcap = cap;
    }
    size_t j = hash_id(r->id) & (g->idcap - 1);
    while (g->by_id[j])
        j = (j + 1) & (g->idcap - 1);
    g->by_id[j] = r;
    g->idcount++;
}

static void recipient_index(engine_t *g, recipient_t *r, json_t *filters)
{
    size_t n = json_array_size(filters);
    match_filter_t *fs = kw_calloc(n ? n : 1, sizeof(*fs));
    core_errors_t errs = {0};
    size_t ok = 0;
    for (size_t i = 0; i < n; i++) {
        match_filter_init(&fs[ok]);
        if (match_filter_parse_json(&fs[ok], json_array_get(filters, i), "filters",
                                    store_sector_resolve, g->app->store, &errs) == KW_OK)
            ok++;
        else
            match_filter_clear(&fs[ok]);
    }
    match_index_set(g->index, r->num, fs, ok);
    for (size_t i = 0; i < ok; i++)
        match_filter_clear(&fs[i]);
    free(fs);
}

static void recipient_deactivate(engine_t *g, recipient_t *r)
{
    if (!r->active) return;
    r->active = 0;
    g->active--;
    match_index_remove(g->index, r->num);
}

/* Adds or refreshes the recipient of a stored row. */
static void recipient_apply(engine_t *g, const char *id, const char *timing, int trusted,
                            int64_t after_seq, json_t *filters)
{
    recipient_t *r = recipient_find(g, id);
    if (r == NULL) {
        r = kw_calloc(1, sizeof(*r));
        snprintf(r->id, sizeof(r->id), "%s", id);
        if (g->nnum == g->capnum) {
            g->capnum = g->capnum ? 2 * g->capnum : 1024;
            g->by_num = kw_realloc(g->by_num, g->capnum * sizeof(*g->by_num));
        }
        r->num = (uint32_t)g->nnum;
        g->by_num[g->nnum++] = r;
        id_insert(g, r);
    }
    if (timing) r->timing = timing[0] == 'h' ? 'h' : timing[0] == 'd' ? 'd' : 'i';
    r->trusted = trusted;
    r->after_seq = after_seq;
    if (!r->active) g->active++;
    r->active = 1;
    recipient_index(g, r, filters);
}

static int load_recipient(const store_mail_recipient_t *sr, void *arg)
{
    recipient_apply(arg, sr->subscriber_id, sr->timing, sr->trusted, sr->after_seq, sr->filters);
    return KW_OK;
}

/* Re-reads one recipient from the store (after a confirmation or a
 * change of its subscriber). */
static void recipient_reload(engine_t *g, const char *id)
{
    store_mail_recipient_t *sr = NULL;
    if (store_mail_recipient_get(g->app->store, id, &sr) == KW_OK &&
        strcmp(sr->state, "active") == 0) {
        recipient_apply(g, sr->subscriber_id, sr->timing, sr->trusted, sr->after_seq, sr->filters);
    } else {
        recipient_t *r = recipient_find(g, id);
        if (r) recipient_deactivate(g, r);
    }
    store_mail_recipient_free(sr);
}

/* ---- lifetime ---- */

static void rendered_clear(rendered_t *e)
{
    free(e->subject);
    free(e->text);
    free(e->html);
    memset(e, 0, sizeof(*e));
}

static void engine_maybe_free(engine_t *g)
{
    if (!g->stopping || g->handles_open > 0 || g->ops_pending > 0 || g->in_flight > 0) return;
    for (size_t i = 0; i < g->nnum; i++)
        free(g->by_num[i]);
    free(g->by_num);
    free(g->by_id);
    free(g->matches);
    match_index_free(g->index);
    store_mail_free(g->queue, g->nqueue);
    for (size_t i = 0; i < RENDER_CACHE; i++)
        rendered_clear(&g->cache[i]);
    json_decref(g->sent);
    json_decref(g->retry);
    json_decref(g->failed);
    json_decref(g->cancelled);
    free(g->smtp_url);
    free(g->mail_from);
    free(g->host);
    explicit_bzero(g->key, sizeof(g->key));
    free(g);
    curl_global_cleanup();
}

static void on_handle_closed(uv_handle_t *h)
{
    engine_t *g = h->data;
    g->handles_open--;
    engine_maybe_free(g);
}

static void on_sock_closed(uv_handle_t *h)
{
    sock_t *s = h->data;
    engine_t *g = s->g;
    free(s);
    g->handles_open--;
    engine_maybe_free(g);
}

static void sock_close(engine_t *g, sock_t *s)
{
    uv_poll_stop(&s->poll);
    if (s->prev)
        s->prev->next = s->next;
    else
        g->socks = s->next;
    if (s->next) s->next->prev = s->prev;
    uv_close((uv_handle_t *)&s->poll, on_sock_closed);
}

/* ---- filling the outbox ---- */

static void on_enqueue_done(store_op_t *op)
{
    engine_t *g = op->arg;
    g->ops_pending--;
    g->enqueue_busy = 0;
    if (op->rc == KW_OK) {
        json_t *through = json_object_get(op->input, "through");
        if (json_is_integer(through) && json_integer_value(through) > g->read_seq)
            g->read_seq = json_integer_value(through);
    } else {
        fprintf(stderr, "kawat: mail: cannot write the outbox: %s\n", op->message);
        g->enqueue_retry_at = kw_now_ms() + ENQUEUE_RETRY_MS;
    }
    store_op_free(op);
    if (g->stopping) {
        engine_maybe_free(g);
        return;
    }
    pump_enqueue(g);
    digest_run(g);
    pump_send(g);
    schedule(g);
}

/* Whether a mail about r may go out now: publications and corrections
 * only while public, embargoed mails only while embargoed. */
static int release_sendable(const core_release_t *r, char variant)
{
    if (variant == 'e') return r->state == REL_EMBARGOED;
    return r->state == REL_PUBLISHED || r->state == REL_CORRECTED;
}

/* Adds to mails (and digest) what event ev of release r means for the
 * recipients its beats match. */
static void match_event(engine_t *g, const core_release_t *r, int64_t seq, const char *kind,
                        json_t *mails, json_t *digest)
{
    int embargo = strcmp(kind, "embargo") == 0;
    int correction = strcmp(kind, "correction") == 0;
    match_doc_t *doc = match_doc_new(r);
    size_t nm = match_index_match(g->index, doc, &g->matches, &g->matches_cap);
    for (size_t k = 0; k < nm; k++) {
        recipient_t *x = g->matches[k] < g->nnum ? g->by_num[g->matches[k]] : NULL;
        if (x == NULL || !x->active) continue;
        if (embargo) {
            if (!x->trusted) continue;
        } else if (x->after_seq >= seq) {
            continue;
        }
        char id[96];
        if (!embargo && x->timing != 'i') {
            json_array_append_new(digest, json_pack("[s, s, I]", x->id, r->id, (json_int_t)seq));
            continue;
        }
        if (embargo)
            snprintf(id, sizeof(id), "%s.e.%s", r->id, x->id);
        else if (correction)
            snprintf(id, sizeof(id), "%s.v%d.%s", r->id, r->version, x->id);
        else
            snprintf(id, sizeof(id), "%s.%s", r->id, x->id);
        json_array_append_new(mails, json_pack("[s, s, s, s, I]", id,
                                               embargo      ? "embargo"
                                               : correction ? "correction"
                                                            : "alert",
                                               x->id, r->id, (json_int_t)seq));
    }
    match_doc_free(doc);
}

/* Reads the wire past read_seq (up to target_seq) into one enqueue op. */
static void pump_enqueue(engine_t *g)
{
    if (g->stopping || g->enqueue_busy || g->smtp_url == NULL) return;
    if (g->enqueue_retry_at && g->enqueue_retry_at > kw_now_ms()) return;
    g->enqueue_retry_at = 0;
    if (g->read_seq >= g->target_seq) return;
    store_event_t *ev = NULL;
    size_t n = 0;
    if (store_wire_read(g->app->store, g->read_seq, WIRE_BATCH, &ev, &n) != KW_OK) {
        fprintf(stderr, "kawat: mail: cannot read the wire after %lld\n", (long long)g->read_seq);
        g->enqueue_retry_at = kw_now_ms() + ENQUEUE_RETRY_MS;
        schedule(g);
        return;
    }
    json_t *mails = json_array(), *digest = json_array();
    int64_t through = n == 0 ? g->target_seq : g->read_seq;
    for (size_t i = 0; i < n && ev[i].seq <= g->target_seq; i++) {
        through = ev[i].seq;
        if (strcmp(ev[i].kind, "withdrawal") != 0 && release_sendable(ev[i].release, 'a'))
            match_event(g, ev[i].release, ev[i].seq, ev[i].kind, mails, digest);
        if (json_array_size(mails) + json_array_size(digest) >= WIRE_BATCH_MAILS) break;
    }
    store_events_free(ev, n);
    store_op_t *op = store_op_new(STORE_OP_MAIL_ENQUEUE, on_enqueue_done, g);
    op->input = json_pack("{s:I, s:o, s:o}", "through", (json_int_t)through, "mails", mails,
                          "digest", digest);
    g->enqueue_busy = 1;
    g->ops_pending++;
    store_submit(g->app->store, op);
}

static void on_side_op_done(store_op_t *op)
{
    engine_t *g = op->arg;
    g->ops_pending--;
    if (op->rc != KW_OK) fprintf(stderr, "kawat: mail: cannot write the outbox: %s\n", op->message);
    store_op_free(op);
    if (g->stopping) {
        engine_maybe_free(g);
        return;
    }
    pump_send(g);
    schedule(g);
}

/* Early mails of an approved embargoed release to trusted recipients. */
static void enqueue_embargo(engine_t *g, const core_release_t *r)
{
    if (g->smtp_url == NULL || r->state != REL_EMBARGOED) return;
    json_t *mails = json_array(), *digest = json_array();
    match_event(g, r, 0, "embargo", mails, digest);
    json_decref(digest);
    if (json_array_size(mails) == 0) {
        json_decref(mails);
        return;
    }
    store_op_t *op = store_op_new(STORE_OP_MAIL_ENQUEUE, on_side_op_done, g);
    op->input = json_pack("{s:o, s:[]}", "mails", mails, "digest");
    g->ops_pending++;
    store_submit(g->app->store, op);
}

static void enqueue_embargoed_all(engine_t *g)
{
    store_query_t q = {.scope = STORE_SCOPE_ALL, .states_mask = 1u << REL_EMBARGOED, .limit = 100};
    for (;;) {
        core_release_t **items = NULL;
        size_t n = 0;
        int64_t next = 0;
        if (store_release_list(g->app->store, &q, &items, &n, &next) != KW_OK) break;
        for (size_t i = 0; i < n; i++) {
            enqueue_embargo(g, items[i]);
            core_release_free(items[i]);
        }
        free(items);
        if (next == 0) break;
        q.cursor = next;
    }
}

/* ---- digests ---- */

#define HOUR_MS 3600000LL
#define DAY_MS 86400000LL

/* The start of the latest period of timing t (0 hourly, 1 daily) at or
 * before now. */
static int64_t period_start(const engine_t *g, int t, int64_t now)
{
    if (g->cfg.digest_every_ms) {
        int64_t e = (int64_t)g->cfg.digest_every_ms;
        return now / e * e;
    }
    if (t == 0) return now / HOUR_MS * HOUR_MS;
    int64_t off = (int64_t)g->cfg.digest_hour * HOUR_MS;
    return (now - off) / DAY_MS * DAY_MS + off;
}

static int64_t period_next(const engine_t *g, int t, int64_t start)
{
    if (g->cfg.digest_every_ms) return start + (int64_t)g->cfg.digest_every_ms;
    return start + (t == 0 ? HOUR_MS : DAY_MS);
}

static void on_digest_done(store_op_t *op)
{
    engine_t *g = op->arg;
    g->ops_pending--;
    g->digest_busy = 0;
    if (op->rc == KW_OK) {
        int t = strcmp(json_string_value(json_object_get(op->input, "timing")), "daily") == 0;
        g->digest_done[t] = json_integer_value(json_object_get(op->input, "period"));
    } else {
        fprintf(stderr, "kawat: mail: cannot make the digests: %s\n", op->message);
    }
    store_op_free(op);
    if (g->stopping) {
        engine_maybe_free(g);
        return;
    }
    digest_run(g);
    pump_send(g);
    schedule(g);
}

/* Submits the digest op of the first timing whose period has begun since
 * it last ran. The wire is enqueued first, so that the period's events
 * are in its digest. */
static void digest_run(engine_t *g)
{
    if (g->stopping || g->digest_busy || g->smtp_url == NULL) return;
    if (g->enqueue_busy || g->read_seq < g->target_seq) return; /* after the wire */
    int64_t now = kw_now_ms();
    for (int t = 0; t < 2; t++) {
        int64_t p = period_start(g, t, now);
        if (p <= g->digest_done[t]) continue;
        char key[40];
        snprintf(key, sizeof(key), "d%c%lld", t ? 'd' : 'h', (long long)(p / 1000));
        store_op_t *op = store_op_new(STORE_OP_MAIL_DIGEST, on_digest_done, g);
        op->input = json_pack("{s:s, s:s, s:I}", "timing", t ? "daily" : "hourly", "key", key,
                              "period", (json_int_t)p);
        g->digest_busy = 1;
        g->ops_pending++;
        store_submit(g->app->store, op);
        return;
    }
}

/* ---- rendering ---- */

static const core_lang_t *lang_of(const char *tag)
{
    const core_lang_t *l = core_lang_find_z(tag);
    return l ? l : core_lang_default();
}

static char *msg_vars(const core_lang_t *l, core_msg_t m, const char *wire, const char *name,
                      const char *value)
{
    const char *vars[] = {"wire", wire, name, value, NULL};
    return core_lang_format_vars(l, m, vars);
}

static void html_escape(kw_buf_t *b, const char *z)
{
    for (const char *p = z ? z : ""; *p; p++) {
        switch (*p) {
        case '&':
            kw_buf_puts(b, "&amp;");
            break;
        case '<':
            kw_buf_puts(b, "&lt;");
            break;
        case '>':
            kw_buf_puts(b, "&gt;");
            break;
        case '"':
            kw_buf_puts(b, "&quot;");
            break;
        case '\'':
            kw_buf_puts(b, "&#39;");
            break;
        default:
            kw_buf_putc(b, *p);
        }
    }
}

static void release_url(engine_t *g, const core_release_t *r, kw_buf_t *b)
{
    kw_buf_printf(b, "%s/%s/releases/%s", g->app->base_url, r->language, r->id);
}

/* Renders (or finds) r in language l for variant. */
static rendered_t *render_release(engine_t *g, const core_release_t *r, const core_lang_t *l,
                                  char variant)
{
    for (size_t i = 0; i < RENDER_CACHE; i++) {
        rendered_t *e = &g->cache[i];
        if (e->subject && e->variant == variant && e->version == r->version &&
            strcmp(e->release_id, r->id) == 0 && strcmp(e->language, l->tag) == 0)
            return e;
    }
    rendered_t *e = &g->cache[g->cache_next];
    g->cache_next = (g->cache_next + 1) % RENDER_CACHE;
    rendered_clear(e);
    snprintf(e->release_id, sizeof(e->release_id), "%s", r->id);
    snprintf(e->language, sizeof(e->language), "%s", l->tag);
    e->version = r->version;
    e->variant = variant;
    const char *wire = g->app->wire_name;
    kw_buf_t url = {0};
    release_url(g, r, &url);
    char *embargo = NULL;
    if (variant == 'e') {
        char *when = core_time_format_local(r->embargo_until, l->icu_locale, CORE_TIME_DATETIME);
        char iso[CORE_TIME_BUF_SIZE];
        core_time_format_rfc3339(r->embargo_until, iso, sizeof(iso));
        kw_buf_t w = {0};
        kw_buf_printf(&w, "%s (%s)", when, iso);
        embargo = msg_vars(l, MSG_MAIL_EMBARGOED, wire, "time", w.data);
        kw_buf_free(&w);
        free(when);
    }
    char *correction = variant == 'c' ? core_lang_format(l, MSG_CORRECTION_NOTE, wire) : NULL;

    if (variant == 'i') {
        /* A digest item: headline with its link, date, summary. */
        char *date = core_time_format_local(r->published_at, l->icu_locale, CORE_TIME_DATETIME);
        char *summary = core_markdown_text(r->body, strlen(r->body), SUMMARY_BYTES);
        kw_buf_t t = {0}, h = {0};
        kw_buf_printf(&t, "* %s\n  %s\n  %s\n  %s\n\n", r->headline, date, summary, url.data);
        kw_buf_puts(&h, "<li><p><a href=\"");
        html_escape(&h, url.data);
        kw_buf_puts(&h, "\"><strong>");
        html_escape(&h, r->headline);
        kw_buf_puts(&h, "</strong></a><br><small>");
        html_escape(&h, date);
        kw_buf_puts(&h, "</small></p><p>");
        html_escape(&h, summary);
        kw_buf_puts(&h, "</p></li>\n");
        e->subject = kw_strdup(r->headline);
        e->text = kw_buf_steal(&t, NULL);
        e->html = kw_buf_steal(&h, NULL);
        free(date);
        free(summary);
        kw_buf_free(&url);
        return e;
    }

    kw_buf_t s = {0}, t = {0}, h = {0};
    kw_buf_printf(&s, "[%s] ", wire);
    if (embargo) kw_buf_printf(&s, "%s: ", embargo);
    if (correction) kw_buf_printf(&s, "%s%s", correction, core_lang_label_separator(l));
    kw_buf_puts(&s, r->headline);

    /* Text: the Markdown as written (links stay readable and whole). */
    if (embargo) kw_buf_printf(&t, "*** %s ***\n\n", embargo);
    kw_buf_printf(&t, "%s\n", r->headline);
    if (r->subheadline) kw_buf_printf(&t, "%s\n", r->subheadline);
    kw_buf_puts(&t, "\n");
    if (correction && r->correction_note)
        kw_buf_printf(&t, "%s%s%s\n\n", correction, core_lang_label_separator(l),
                      r->correction_note);
    kw_buf_puts(&t, r->body);
    kw_buf_puts(&t, "\n\n");
    if (variant != 'e') {
        char *read = core_lang_format(l, MSG_MAIL_READ_ONLINE, wire);
        kw_buf_printf(&t, "%s%s%s\n", read, core_lang_label_separator(l), url.data);
        free(read);
    }

    /* HTML: the rendered body; its links are kept. */
    if (embargo) {
        kw_buf_puts(&h, "<p style=\"color:#a00;font-weight:bold\">");
        html_escape(&h, embargo);
        kw_buf_puts(&h, "</p>\n");
    }
    kw_buf_puts(&h, "<h1>");
    html_escape(&h, r->headline);
    kw_buf_puts(&h, "</h1>\n");
    if (r->subheadline) {
        kw_buf_puts(&h, "<p><em>");
        html_escape(&h, r->subheadline);
        kw_buf_puts(&h, "</em></p>\n");
    }
    if (correction && r->correction_note) {
        kw_buf_puts(&h, "<p><strong>");
        html_escape(&h, correction);
        kw_buf_puts(&h, "</strong>");
        html_escape(&h, core_lang_label_separator(l));
        html_escape(&h, r->correction_note);
        kw_buf_puts(&h, "</p>\n");
    }
    char *body = core_markdown_html(r->body, strlen(r->body));
    kw_buf_puts(&h, body);
    free(body);
    if (variant != 'e') {
        char *read = core_lang_format(l, MSG_MAIL_READ_ONLINE, wire);
        kw_buf_puts(&h, "<p><a href=\"");
        html_escape(&h, url.data);
        kw_buf_puts(&h, "\">");
        html_escape(&h, read);
        kw_buf_puts(&h, "</a></p>\n");
        free(read);
    }
    e->subject = kw_buf_steal(&s, NULL);
    e->text = kw_buf_steal(&t, NULL);
    e->html = kw_buf_steal(&h, NULL);
    free(embargo);
    free(correction);
    kw_buf_free(&url);
    return e;
}

/* Drops what is cached of a release (it changed). */
static void render_forget(engine_t *g, const char *release_id)
{
    for (size_t i = 0; i < RENDER_CACHE; i++)
        if (g->cache[i].subject && strcmp(g->cache[i].release_id, release_id) == 0)
            rendered_clear(&g->cache[i]);
}

static void html_open(kw_buf_t *h, const core_lang_t *l, const char *title)
{
    kw_buf_printf(h,
                  "<!DOCTYPE html>\n<html lang=\"%s\" dir=\"%s\">\n<head>\n<meta "
                  "charset=\"utf-8\">\n<title>",
                  l->tag, l->rtl ? "rtl" : "ltr");
    html_escape(h, title);
    kw_buf_puts(h, "</title>\n</head>\n<body>\n");
}

/* The footer every alert and digest ends with. */
static void footer(engine_t *g, const core_lang_t *l, const char *unsub, kw_buf_t *t, kw_buf_t *h)
{
    char *why = core_lang_format(l, MSG_MAIL_WHY, g->app->wire_name);
    char *un = core_lang_format(l, MSG_MAIL_UNSUBSCRIBE, g->app->wire_name);
    kw_buf_printf(t, "\n-- \n%s\n%s%s%s\n", why, un, core_lang_label_separator(l), unsub);
    kw_buf_puts(h, "<hr>\n<p><small>");
    html_escape(h, why);
    kw_buf_puts(h, " <a href=\"");
    html_escape(h, unsub);
    kw_buf_puts(h, "\">");
    html_escape(h, un);
    kw_buf_puts(h, "</a></small></p>\n");
    free(why);
    free(un);
}

/* Builds the message of row into out. Returns KW_OK, or KW_GONE when it
 * must not be sent any more (why in reason). */
static int compose(engine_t *g, const store_mail_t *row, kw_buf_t *out, char *reason, size_t rsize)
{
    const core_lang_t *l = lang_of(row->language);
    const char *wire = g->app->wire_name;
    char msgid[160], reply[160], token[MAIL_TOKEN_SIZE];
    kw_buf_t unsub = {0}, subject = {0}, text = {0}, html = {0}, list = {0};
    int rc = KW_OK, has_reply = 0, plain = 0;
    snprintf(msgid, sizeof(msgid), "%s@%s", row->id, g->host);
    kw_buf_printf(&list, "%s <alerts.%s>", wire, g->host);
    if (row->subscriber_id[0]) {
        mail_token_make_key(g->key, 'u', row->subscriber_id, 0, token, sizeof(token));
        kw_buf_printf(&unsub, "%s/unsubscribe?token=%s", g->app->base_url, token);
    }

    if (strcmp(row->kind, "notice") == 0) {
        /* A one-off mail to a person (send_notice): its subject and text
         * are in the row, as they were written. Not a list. */
        json_t *ref = json_loads(row->ref, 0, NULL);
        const char *subj = json_string_value(json_object_get(ref, "subject"));
        const char *body = json_string_value(json_object_get(ref, "text"));
        if (subj == NULL || body == NULL) {
            snprintf(reason, rsize, "a malformed notice");
            rc = KW_GONE;
        } else {
            kw_buf_puts(&subject, subj);
            kw_buf_puts(&text, body);
        }
        json_decref(ref);
        kw_buf_reset(&unsub);
        kw_buf_reset(&list);
        plain = 1;
    } else if (strcmp(row->kind, "confirm") == 0) {
        int64_t expires = (row->created_at + MAIL_CONFIRM_TTL_MS) / 1000;
        mail_token_make_key(g->key, 'c', row->ref, expires, token, sizeof(token));
        kw_buf_t url = {0};
        kw_buf_printf(&url, "%s/confirm?token=%s", g->app->base_url, token);
        char *subj = core_lang_format(l, MSG_MAIL_CONFIRM_SUBJECT, wire);
        char *body = core_lang_format(l, MSG_MAIL_CONFIRM_BODY, wire);
        char *ignore = core_lang_format(l, MSG_MAIL_CONFIRM_IGNORE, wire);
        kw_buf_puts(&subject, subj);
        kw_buf_printf(&text, "%s\n\n%s\n\n%s\n", body, url.data, ignore);
        html_open(&html, l, subj);
        kw_buf_puts(&html, "<p>");
        html_escape(&html, body);
        kw_buf_puts(&html, "</p>\n<p><a href=\"");
        html_escape(&html, url.data);
        kw_buf_puts(&html, "\">");
        html_escape(&html, url.data);
        kw_buf_puts(&html, "</a></p>\n<p><small>");
        html_escape(&html, ignore);
        kw_buf_puts(&html, "</small></p>\n</body>\n</html>\n");
        free(subj);
        free(body);
        free(ignore);
        kw_buf_free(&url);
        kw_buf_reset(&unsub); /* not a list yet */
        kw_buf_reset(&list);
    } else if (strcmp(row->kind, "digest") == 0) {
        json_t *ids = json_loads(row->ref, 0, NULL);
        int daily = strncmp(row->id, "dd", 2) == 0;
        kw_buf_t items_t = {0}, items_h = {0};
        size_t count = 0, i;
        json_t *v;
        json_array_foreach(ids, i, v)
        {
            core_release_t *r = NULL;
            if (!json_is_string(v) ||
                store_release_get(g->app->store, json_string_value(v), &r) != KW_OK)
                continue;
            if (release_sendable(r, 'a')) {
                rendered_t *e = render_release(g, r, l, 'i');
                kw_buf_puts(&items_t, e->text);
                kw_buf_puts(&items_h, e->html);
                count++;
            }
            core_release_free(r);
        }
        json_decref(ids);
        if (count == 0) {
            snprintf(reason, rsize, "every release of the digest was withdrawn");
            rc = KW_GONE;
        } else {
            char n[24];
            snprintf(n, sizeof(n), "%zu", count);
            char *subj = msg_vars(l, MSG_MAIL_DIGEST_SUBJECT, wire, "count", n);
            char *head =
                core_lang_format(l, daily ? MSG_MAIL_DIGEST_DAILY : MSG_MAIL_DIGEST_HOURLY, wire);
            kw_buf_printf(&subject, "[%s] %s", wire, subj);
            kw_buf_printf(&text, "%s\n\n%s", head, items_t.data);
            html_open(&html, l, subject.data);
            kw_buf_puts(&html, "<h1>");
            html_escape(&html, head);
            kw_buf_puts(&html, "</h1>\n<ul>\n");
            kw_buf_puts(&html, items_h.data);
            kw_buf_puts(&html, "</ul>\n");
            footer(g, l, unsub.data, &text, &html);
            kw_buf_puts(&html, "</body>\n</html>\n");
            free(subj);
            free(head);
        }
        kw_buf_free(&items_t);
        kw_buf_free(&items_h);
    } else {
        char variant = strcmp(row->kind, "embargo") == 0      ? 'e'
                       : strcmp(row->kind, "correction") == 0 ? 'c'
                                                              : 'a';
        core_release_t *r = NULL;
        if (store_release_get(g->app->store, row->ref, &r) != KW_OK ||
            !release_sendable(r, variant)) {
            snprintf(reason, rsize, "the release is no longer %s",
                     variant == 'e' ? "under embargo" : "public");
            rc = KW_GONE;
        } else {
            rendered_t *e = render_release(g, r, l, variant);
            kw_buf_puts(&subject, e->subject);
            kw_buf_puts(&text, e->text);
            html_open(&html, l, e->subject);
            kw_buf_puts(&html, e->html);
            footer(g, l, unsub.data, &text, &html);
            kw_buf_puts(&html, "</body>\n</html>\n");
            if (variant == 'c') {
                const char *dot = strrchr(row->id, '.');
                snprintf(reply, sizeof(reply), "%s.%s@%s", r->id, dot ? dot + 1 : "", g->host);
                has_reply = 1;
            }
        }
        core_release_free(r);
    }
    if (rc == KW_OK) {
        mail_message_t m = {
            .from_name = wire,
            .from_addr = g->mail_from,
            .to_addr = row->email,
            .subject = subject.data,
            .message_id = msgid,
            .in_reply_to = has_reply ? reply : NULL,
            .language = l->tag,
            .unsubscribe_url = unsub.len ? unsub.data : NULL,
            .list_id = list.len ? list.data : NULL,
            .text = text.data ? text.data : "",
            .html = plain ? NULL : (html.data ? html.data : ""),
            .date_ms = kw_now_ms(),
        };
        mail_build(out, &m);
    }
    kw_buf_free(&unsub);
    kw_buf_free(&subject);
    kw_buf_free(&text);
    kw_buf_free(&html);
    kw_buf_free(&list);
    return rc;
}

/* ---- SMTP on the loop (curl multi) ---- */

static void check_done(engine_t *g);

static void on_poll(uv_poll_t *h, int status, int events)
{
    sock_t *s = h->data;
    engine_t *g = s->g;
    int flags = 0;
    if (status < 0) flags |= CURL_CSELECT_ERR;
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    int running;
    curl_multi_socket_action(g->multi, s->fd, flags, &running);
    check_done(g);
}

static void on_curl_timeout(uv_timer_t *t)
{
    engine_t *g = t->data;
    int running;
    curl_multi_socket_action(g->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(g);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    engine_t *g = userp;
    sock_t *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            curl_multi_assign(g->multi, fd, NULL);
            sock_close(g, s);
        }
        return 0;
    }
    if (s == NULL) {
        s = kw_calloc(1, sizeof(*s));
        s->fd = fd;
        s->g = g;
        if (uv_poll_init_socket(g->app->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        g->handles_open++;
        s->next = g->socks;
        if (g->socks) g->socks->prev = s;
        g->socks = s;
        curl_multi_assign(g->multi, fd, s);
    }
    int events = 0;
    if (what & CURL_POLL_IN) events |= UV_READABLE;
    if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, on_poll);
    return 0;
}

static int on_timer_set(CURLM *multi, long timeout_ms, void *userp)
{
    engine_t *g = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&g->curl_timer);
    else
        uv_timer_start(&g->curl_timer, on_curl_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *userp)
{
    attempt_t *a = userp;
    size_t n = size * nitems, left = a->msg.len - a->sent;
    if (n > left) n = left;
    memcpy(buf, a->msg.data + a->sent, n);
    a->sent += n;
    return n;
}

static void attempt_free(attempt_t *a)
{
    if (a->easy) curl_easy_cleanup(a->easy);
    curl_slist_free_all(a->rcpt);
    kw_buf_free(&a->msg);
    free(a->row.email);
    free(a->row.ref);
    free(a);
}

static uint64_t rng_next(engine_t *g)
{
    g->rng ^= g->rng >> 12;
    g->rng ^= g->rng << 25;
    g->rng ^= g->rng >> 27;
    return g->rng * 2685821657736338717ULL;
}

static int64_t backoff_ms(engine_t *g, int failures)
{
    static const unsigned mult[] = {1, 5, 25, 60};
    size_t i = failures < 1 ? 0 : (size_t)failures - 1;
    if (i >= KW_ARRAY_SIZE(mult)) i = KW_ARRAY_SIZE(mult) - 1;
    int64_t d = (int64_t)g->cfg.retry_base_ms * mult[i];
    if (d > (int64_t)g->cfg.retry_max_ms) d = (int64_t)g->cfg.retry_max_ms;
    if (d < 1) d = 1;
    return d * 8 / 10 + (int64_t)(rng_next(g) % (uint64_t)(d * 4 / 10 + 1));
}

/* Records how a mail ended for the next results op. */
/* Counts an attempt in the distribution report, for every release the
 * mail carries (a digest carries several; confirmations none). The first
 * attempt makes the recipient matched; "failed" means failing now, so a
 * late success takes its failure back. Recipients are counted under the
 * mail's language; their country is not known. */
static void report_attempt(engine_t *g, const store_mail_t *row, int ok, int first_failure)
{
    if (strcmp(row->kind, "confirm") == 0 || strcmp(row->kind, "notice") == 0 || row->ref == NULL)
        return;
    json_t *ids = NULL;
    if (strcmp(row->kind, "digest") == 0) {
        ids = json_loads(row->ref, 0, NULL);
    } else {
        ids = json_pack("[s]", row->ref);
    }
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        const char *rid = json_string_value(v);
        if (rid == NULL) continue;
#define COUNT(outcome, n)                                                                          \
    report_count(g->app, rid, REPORT_EMAIL, row->language, REPORT_COUNTRY_UNKNOWN, outcome, n, 0)
        if (row->attempts == 0) COUNT(REPORT_MATCHED, 1);
        if (ok) {
            COUNT(REPORT_DELIVERED, 1);
            if (row->attempts > 0) COUNT(REPORT_FAILED, -1);
        } else {
            COUNT(REPORT_FAILED_ATTEMPT, 1);
            if (first_failure) COUNT(REPORT_FAILED, 1);
        }
#undef COUNT
    }
    json_decref(ids);
}

static void attempt_result(engine_t *g, const store_mail_t *row, CURLcode cc, long code,
                           const char *err)
{
    int attempts = row->attempts + 1;
    report_attempt(g, row, cc == CURLE_OK, row->attempts == 0);
    if (cc == CURLE_OK) {
        json_array_append_new(g->sent, json_string(row->id));
        g->n_sent++;
        return;
    }
    char error[300];
    const char *what = err && *err ? err : curl_easy_strerror(cc);
    if (code)
        snprintf(error, sizeof(error), "%s (SMTP %ld)", what, code);
    else
        snprintf(error, sizeof(error), "%s", what);
    /* A 5xx to the recipient or to the message: the address is refused
     * for good. A 5xx to anything else (our sender, the greeting) says
     * the relay is misconfigured, not that the address is bad. Only a
     * recipient's address is marked bounced: a sign-up confirmation or a
     * notice (no subscriber) just fails. */
    int permanent =
        code >= 500 && code < 600 &&
        ((err && strncmp(err, "RCPT failed", 11) == 0) || cc == CURLE_WEIRD_SERVER_REPLY);
    int64_t now = kw_now_ms();
    if (permanent || now - row->created_at > (int64_t)g->cfg.give_up_ms) {
        json_array_append_new(g->failed, json_pack("[s, i, s, b]", row->id, attempts, error,
                                                   permanent && row->subscriber_id[0]));
        g->n_failed++;
        if (permanent && row->subscriber_id[0]) {
            g->n_bounced++;
            recipient_t *r = recipient_find(g, row->subscriber_id);
            if (r) recipient_deactivate(g, r);
            fprintf(stderr, "kawat: mail: %s bounced (%s); no more mail to it\n", row->email,
                    error);
        }
        return;
    }
    json_array_append_new(g->retry, json_pack("[s, i, I, s]", row->id, attempts,
                                              (json_int_t)(now + backoff_ms(g, attempts)), error));
    g->n_retried++;
}

static void attempt_unlink(engine_t *g, attempt_t *a)
{
    if (a->prev)
        a->prev->next = a->next;
    else
        g->attempts = a->next;
    if (a->next) a->next->prev = a->prev;
    g->in_flight--;
}

static void check_done(engine_t *g)
{
    CURLMsg *msg;
    int left, any = 0;
    while ((msg = curl_multi_info_read(g->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE) continue;
        CURL *easy = msg->easy_handle;
        CURLcode cc = msg->data.result;
        char *priv = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        attempt_t *a = (attempt_t *)priv;
        long code = 0;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
        curl_multi_remove_handle(g->multi, easy);
        attempt_unlink(g, a);
        attempt_result(g, &a->row, cc, code, a->errbuf);
        attempt_free(a);
        any = 1;
    }
    if (any && !g->stopping) {
        flush_results(g);
        pump_send(g);
    }
}

/* Starts the SMTP transaction of row (taking its strings). */
static void attempt_start(engine_t *g, store_mail_t *row)
{
    attempt_t *a = kw_calloc(1, sizeof(*a));
    a->g = g;
    a->row = *row;
    memset(row, 0, sizeof(*row));
    char reason[160];
    if (a->row.subscriber_id[0]) {
        recipient_t *r = recipient_find(g, a->row.subscriber_id);
        if (r == NULL || !r->active) {
            json_array_append_new(g->cancelled, json_pack("[s, i, s]", a->row.id, a->row.attempts,
                                                          "the recipient gets no more mail"));
            g->n_cancelled++;
            attempt_free(a);
            return;
        }
    }
    if (compose(g, &a->row, &a->msg, reason, sizeof(reason)) != KW_OK) {
        json_array_append_new(g->cancelled,
                              json_pack("[s, i, s]", a->row.id, a->row.attempts, reason));
        g->n_cancelled++;
        attempt_free(a);
        return;
    }
    char rcpt[320], from[320];
    snprintf(rcpt, sizeof(rcpt), "<%s>", a->row.email);
    snprintf(from, sizeof(from), "<%s>", g->mail_from);
    a->rcpt = curl_slist_append(NULL, rcpt);
    a->easy = curl_easy_init();
    if (a->easy == NULL || a->rcpt == NULL) {
        attempt_result(g, &a->row, CURLE_OUT_OF_MEMORY, 0, "cannot start a transfer");
        attempt_free(a);
        return;
    }
    CURL *e = a->easy;
    curl_easy_setopt(e, CURLOPT_URL, g->smtp_url);
    curl_easy_setopt(e, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(e, CURLOPT_MAIL_RCPT, a->rcpt);
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(e, CURLOPT_READDATA, a);
    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)a->msg.len);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)a);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, a->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)g->cfg.timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(g->cfg.timeout_ms < 10000 ? g->cfg.timeout_ms : 10000));
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    if (curl_multi_add_handle(g->multi, e) != CURLM_OK) {
        attempt_result(g, &a->row, CURLE_FAILED_INIT, 0, "cannot start a transfer");
        attempt_free(a);
        return;
    }
    a->next = g->attempts;
    if (g->attempts) g->attempts->prev = a;
    g->attempts = a;
    g->in_flight++;
}

/* Fills the in-flight slots from the queue, reading the next batch of due
 * rows when it runs dry (see the design note on passes). */
static void pump_send(engine_t *g)
{
    if (g->stopping || g->smtp_url == NULL) return;
    int cancelled_before = (int)json_array_size(g->cancelled);
    while (g->in_flight < g->cfg.max_in_flight) {
        if (g->qhead == g->nqueue) {
            store_mail_free(g->queue, g->nqueue);
            g->queue = NULL;
            g->nqueue = g->qhead = 0;
            if (g->pass_over) {
                /* A new pass only when nothing read is still unsettled. */
                if (g->in_flight || g->results_busy || json_array_size(g->sent) ||
                    json_array_size(g->retry) || json_array_size(g->failed) ||
                    json_array_size(g->cancelled))
                    break;
                g->pass_over = 0;
                g->cur_next_at = g->cur_rowid = 0;
            }
            if (store_mail_due(g->app->store, kw_now_ms(), g->cur_next_at, g->cur_rowid, DUE_BATCH,
                               &g->queue, &g->nqueue) != KW_OK) {
                fprintf(stderr, "kawat: mail: cannot read the outbox\n");
                break;
            }
            if (g->nqueue < DUE_BATCH) g->pass_over = 1;
            if (g->nqueue == 0) break;
            g->cur_next_at = g->queue[g->nqueue - 1].next_at;
            g->cur_rowid = g->queue[g->nqueue - 1].rowid;
        }
        attempt_start(g, &g->queue[g->qhead++]);
    }
    if ((int)json_array_size(g->cancelled) != cancelled_before) flush_results(g);
    schedule(g);
}

/* ---- results ---- */

static void on_results_done(store_op_t *op)
{
    engine_t *g = op->arg;
    g->ops_pending--;
    g->results_busy = 0;
    if (op->rc != KW_OK)
        fprintf(stderr, "kawat: mail: cannot write %s results: %s\n", "mail", op->message);
    store_op_free(op);
    if (g->stopping) {
        engine_maybe_free(g); /* what is left goes out again after the start */
        return;
    }
    flush_results(g);
    pump_send(g);
}

static void flush_results(engine_t *g)
{
    if (g->results_busy) return;
    if (!json_array_size(g->sent) && !json_array_size(g->retry) && !json_array_size(g->failed) &&
        !json_array_size(g->cancelled))
        return;
    store_op_t *op = store_op_new(STORE_OP_MAIL_RESULTS, on_results_done, g);
    op->input = json_pack("{s:o, s:o, s:o, s:o}", "sent", g->sent, "retry", g->retry, "failed",
                          g->failed, "cancelled", g->cancelled);
    g->sent = json_array();
    g->retry = json_array();
    g->failed = json_array();
    g->cancelled = json_array();
    g->results_busy = 1;
    g->ops_pending++;
    store_submit(g->app->store, op);
}

/* ---- timers ---- */

static void on_timer(uv_timer_t *t)
{
    engine_t *g = t->data;
    g->wake_at = 0;
    pump_enqueue(g);
    digest_run(g);
    pump_send(g);
    schedule(g);
}

/* Wakes the engine at the earliest of: a retry or new pass coming due,
 * the next digest period, an enqueue retry. */
static void schedule(engine_t *g)
{
    if (g->stopping || g->smtp_url == NULL) return;
    int64_t now = kw_now_ms();
    int64_t due = period_next(g, 0, period_start(g, 0, now));
    int64_t daily = period_next(g, 1, period_start(g, 1, now));
    if (daily < due) due = daily;
    if (g->enqueue_retry_at && g->enqueue_retry_at < due) due = g->enqueue_retry_at;
    if (g->in_flight == 0 && g->qhead == g->nqueue) {
        int64_t next = store_mail_next_at(g->app->store);
        if (next && next < due) due = next < now ? now + 50 : next;
    }
    if (g->wake_at && g->wake_at <= due && g->wake_at > now) return;
    g->wake_at = due;
    uv_timer_start(&g->timer, on_timer, due > now ? (uint64_t)(due - now) : 0, 0);
}

/* ---- following the store ---- */

void mail_after_write(kawat_app_t *app, store_op_t *op)
{
    engine_t *g = app->mail;
    if (g == NULL || g->stopping || op->rc != KW_OK) return;
    if (op->release) render_forget(g, op->release->id);
    if (op->kind == STORE_OP_MAIL_CONFIRM && op->subscriber) {
        recipient_reload(g, op->subscriber->id);
    } else if (op->kind == STORE_OP_MAIL_UNSUBSCRIBE) {
        recipient_t *r =
            recipient_find(g, json_string_value(json_object_get(op->output, "subscriber")));
        if (r) recipient_deactivate(g, r);
    } else if (STORE_OP_IS_SUBSCRIBER(op->kind) && op->subscriber) {
        recipient_t *r = recipient_find(g, op->subscriber->id);
        if (op->kind == STORE_OP_SUBSCRIBER_DELETE) {
            if (r) recipient_deactivate(g, r);
        } else if (r && r->active) {
            recipient_reload(g, op->subscriber->id); /* trusted, beats */
        }
    } else if (op->kind == STORE_OP_MAIL_SIGNUP) {
        pump_send(g);
    }
    if (op->kind == STORE_OP_RELEASE_ACT && op->release && op->release->state == REL_EMBARGOED &&
        (op->action == ACT_APPROVE || op->action == ACT_SCHEDULE))
        enqueue_embargo(g, op->release);
    if (op->last_seq > g->target_seq) {
        g->target_seq = op->last_seq;
        pump_enqueue(g);
    }
}

/* app->send_mail while the engine can send: queues a "notice" -- a one-off
 * plain text mail to a person (password reset, invitation), not to a
 * recipient -- in the durable outbox, sent and retried like the others,
 * under a fresh random id (so Message-ID). Returns KW_OK once the op is
 * submitted (the page does not wait for the commit), KW_INVALID for a
 * missing argument or an address a mail cannot go to, KW_ERROR when the
 * engine is stopping. */
static int send_notice(kawat_app_t *app, const char *to, const char *language, const char *subject,
                       const char *text)
{
    engine_t *g = app->mail;
    if (g == NULL || g->stopping || g->smtp_url == NULL) return KW_ERROR;
    if (to == NULL || subject == NULL || text == NULL) return KW_INVALID;
    size_t n = strlen(to);
    if (n == 0 || n > 254 || strchr(to, '@') == NULL) return KW_INVALID;
    for (const unsigned char *p = (const unsigned char *)to; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || *p == '<' || *p == '>') return KW_INVALID;
    char id[24];
    id[0] = 'n';
    auth_random_id(id + 1, 20);
    json_t *ref = json_pack("{s:s, s:s}", "subject", subject, "text", text);
    char *refz = ref ? json_dumps(ref, JSON_COMPACT) : NULL;
    json_decref(ref);
    if (refz == NULL) return KW_INVALID; /* not UTF-8 */
    json_t *input =
        json_pack("{s:[], s:[], s:[[s, s, s, s]]}", "mails", "digest", "notices", id, to,
                  language && *language ? language : core_lang_default()->tag, refz);
    free(refz);
    if (input == NULL) return KW_INVALID; /* not UTF-8 */
    store_op_t *op = store_op_new(STORE_OP_MAIL_ENQUEUE, on_side_op_done, g);
    op->input = input;
    g->ops_pending++;
    store_submit(g->app->store, op);
    return KW_OK;
}

int mail_enabled(const kawat_app_t *app)
{
    const engine_t *g = app->mail;
    return g != NULL && g->smtp_url != NULL;
}

void mail_metrics(kawat_app_t *app, kw_buf_t *b)
{
    engine_t *g = app->mail;
    if (g == NULL) return;
    store_mail_stats_t st;
    store_mail_stats(app->store, &st);
    kw_buf_printf(b,
                  "# HELP kawat_mail_sent_total E-mails accepted by the SMTP relay since start.\n"
                  "# TYPE kawat_mail_sent_total counter\nkawat_mail_sent_total %llu\n"
                  "# HELP kawat_mail_failures_total E-mail attempts that failed since start.\n"
                  "# TYPE kawat_mail_failures_total counter\n"
                  "kawat_mail_failures_total{kind=\"temporary\"} %llu\n"
                  "kawat_mail_failures_total{kind=\"permanent\"} %llu\n"
                  "# HELP kawat_mail_cancelled_total E-mails dropped unsent (withdrawn release, "
                  "unsubscribed) since start.\n"
                  "# TYPE kawat_mail_cancelled_total counter\nkawat_mail_cancelled_total %llu\n"
                  "# HELP kawat_mail_pending E-mails waiting in the outbox.\n"
                  "# TYPE kawat_mail_pending gauge\nkawat_mail_pending %lld\n"
                  "# HELP kawat_mail_in_flight SMTP transactions in progress.\n"
                  "# TYPE kawat_mail_in_flight gauge\nkawat_mail_in_flight %zu\n"
                  "# HELP kawat_mail_recipients Journalists with e-mail alerts, by state.\n"
                  "# TYPE kawat_mail_recipients gauge\n"
                  "kawat_mail_recipients{state=\"active\"} %lld\n"
                  "kawat_mail_recipients{state=\"unsubscribed\"} %lld\n"
                  "kawat_mail_recipients{state=\"bounced\"} %lld\n",
                  (unsigned long long)g->n_sent, (unsigned long long)g->n_retried,
                  (unsigned long long)g->n_failed, (unsigned long long)g->n_cancelled,
                  (long long)st.pending, g->in_flight, (long long)st.recipients_active,
                  (long long)st.recipients_unsubscribed, (long long)st.recipients_bounced);
}

int mail_token_make(const kawat_app_t *app, char purpose, const char *id, int64_t expires_s,
                    char *out, size_t size)
{
    const engine_t *g = app->mail;
    return mail_token_make_key(g ? g->key : NULL, purpose, id, expires_s, out, size);
}

int mail_token_check(const kawat_app_t *app, char purpose, const char *token, char *id,
                     size_t idsize)
{
    const engine_t *g = app->mail;
    return mail_token_check_key(g ? g->key : NULL, purpose, token, kw_now_ms() / 1000, id, idsize);
}

/* ---- start, stop ---- */

void mail_config_defaults(mail_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_in_flight = 32;
    cfg->timeout_ms = 30000;
    cfg->retry_base_ms = 60000;
    cfg->retry_max_ms = 3600 * 1000;
    cfg->give_up_ms = 72 * 3600 * 1000LL;
    cfg->digest_hour = 7;
}

/* The host part of base_url ("wire.example.com"), for Message-IDs. */
static char *url_host(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = strcspn(p, ":/");
    if (*p == '[') n = strcspn(p, "]") + 1;
    if (n == 0) return kw_strdup("localhost");
    char *h = kw_strndup(p, n);
    for (char *c = h; *c; c++)
        if (*c == '[' || *c == ']') *c = c[0] == '[' ? 'v' : '6';
    return h;
}

int mail_start(kawat_app_t *app, const mail_config_t *cfg)
{
    engine_t *g = kw_calloc(1, sizeof(*g));
    g->app = app;
    g->cfg = *cfg;
    if (g->cfg.max_in_flight == 0) g->cfg.max_in_flight = 1;
    if (store_meta_get(app->store, "mail_secret", g->key, sizeof(g->key)) != KW_OK ||
        strlen(g->key) < 32) {
        fprintf(stderr, "kawat: mail: the store has no mail_secret\n");
        free(g);
        return KW_ERROR;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g->host = url_host(app->base_url);
    g->index = match_index_new();
    g->sent = json_array();
    g->retry = json_array();
    g->failed = json_array();
    g->cancelled = json_array();
    g->rng = (uint64_t)kw_now_ms() ^ ((uint64_t)(uintptr_t)g << 16) ^ 0x9e3779b97f4a7c15ULL;
    uv_timer_init(app->loop, &g->timer);
    uv_timer_init(app->loop, &g->curl_timer);
    g->timer.data = g->curl_timer.data = g;
    uv_unref((uv_handle_t *)&g->timer);
    g->handles_open = 2;
    app->mail = g;
    if (cfg->smtp_url == NULL) return KW_OK; /* links only */

    g->smtp_url = kw_strdup(cfg->smtp_url);
    g->mail_from = kw_strdup(cfg->mail_from ? cfg->mail_from : "alerts@localhost");
    g->multi = curl_multi_init();
    app->send_mail = send_notice;
    curl_multi_setopt(g->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(g->multi, CURLMOPT_SOCKETDATA, g);
    curl_multi_setopt(g->multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
    curl_multi_setopt(g->multi, CURLMOPT_TIMERDATA, g);
    curl_multi_setopt(g->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)g->cfg.max_in_flight);
    curl_multi_setopt(g->multi, CURLMOPT_MAXCONNECTS, (long)g->cfg.max_in_flight);
    if (store_mail_recipients_each(app->store, load_recipient, g) != KW_OK)
        fprintf(stderr, "kawat: mail: cannot read the recipients\n");
    char pos[32];
    g->target_seq = store_wire_last_seq(app->store);
    /* First start: the wire so far is history, not news. */
    g->read_seq = store_meta_get(app->store, "mail_seq", pos, sizeof(pos)) == KW_OK
                      ? strtoll(pos, NULL, 10)
                      : g->target_seq;
    for (int t = 0; t < 2; t++) {
        char key[32];
        snprintf(key, sizeof(key), "mail_digest_%s", t ? "daily" : "hourly");
        g->digest_done[t] =
            store_meta_get(app->store, key, pos, sizeof(pos)) == KW_OK ? strtoll(pos, NULL, 10) : 0;
    }
    enqueue_embargoed_all(g);
    pump_enqueue(g);
    digest_run(g);
    pump_send(g);
    schedule(g);
    return KW_OK;
}

static void cancel_all(engine_t *g)
{
    while (g->attempts) {
        attempt_t *a = g->attempts;
        curl_multi_remove_handle(g->multi, a->easy);
        attempt_unlink(g, a);
        attempt_free(a);
    }
}

void mail_stop(kawat_app_t *app)
{
    engine_t *g = app->mail;
    if (g == NULL) return;
    app->mail = NULL;
    if (app->send_mail == send_notice) app->send_mail = NULL;
    g->stopping = 1;
    cancel_all(g); /* not attempts: they stay pending for the next start */
    if (g->multi) {
        curl_multi_cleanup(g->multi);
        g->multi = NULL;
    }
    while (g->socks)
        sock_close(g, g->socks);
    flush_results(g); /* the writer commits it before it stops */
    uv_timer_stop(&g->timer);
    uv_timer_stop(&g->curl_timer);
    uv_close((uv_handle_t *)&g->timer, on_handle_closed);
    uv_close((uv_handle_t *)&g->curl_timer, on_handle_closed);
}
