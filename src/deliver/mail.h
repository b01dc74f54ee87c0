/* mail.h -- e-mail alerts for journalists: the durable outbox engine that
 * mails matching wire events (at once or as hourly / daily digests) over
 * SMTP, the signed links of sign-up confirmation and unsubscription, and
 * the MIME building every mail goes through.
 *
 * A mail, as a journalist receives it:
 *   From: <wire name> <--mail-from>
 *   To: <address>
 *   Subject: [<wire>] <headline>                 RFC 2047 encoded-words when not ASCII
 *   Message-ID: <r…-id.s…-id@host>                stable per (release, recipient)
 *   List-Unsubscribe: <https://…/unsubscribe?token=…>
 *   List-Unsubscribe-Post: List-Unsubscribe=One-Click      (RFC 8058)
 *   Content-Type: multipart/alternative: text/plain (the Markdown, links
 *   as written) and text/html (rendered, links kept), quoted-printable.
 * Texts around the release are in the recipient's language (core_lang).
 * While it can send, the engine is also app->send_mail: password-reset and
 * invitation mails to people go through the same outbox and retries as
 * one text/plain part, with a random Message-ID and no list headers. */
#ifndef KAWAT_MAIL_H
#define KAWAT_MAIL_H

#include "api/api.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *smtp_url;     /* smtp://HOST:PORT (or smtps://); NULL: nothing is sent and
                                 sign-ups answer 503 */
    const char *mail_from;    /* envelope sender and From address */
    unsigned max_in_flight;   /* SMTP transactions at once (default 32) */
    unsigned timeout_ms;      /* one transaction (default 30 s) */
    uint64_t retry_base_ms;   /* wait after a first temporary failure (default 1 min); then
                                 x5, x25, x60: 1, 5, 25 min, 1 h ... capped at retry_max */
    uint64_t retry_max_ms;    /* default 1 h */
    uint64_t give_up_ms;      /* a mail failing this long after it was queued is given up
                                 (default 72 h) */
    unsigned digest_hour;     /* daily digests leave at this UTC hour (default 7) */
    uint64_t digest_every_ms; /* for tests: hourly and daily digests every this long
                                 instead (0: the real hour and day) */
} mail_config_t;

void mail_config_defaults(mail_config_t *cfg);

/* Starts the engine on app's loop: reads the links' key, loads the active
 * recipients, takes the wire up where it left off, schedules the digests
 * and sends what is due. Sets app->mail (also without smtp_url: the links
 * still work). Returns KW_OK or KW_ERROR (message on stderr). */
int mail_start(kawat_app_t *app, const mail_config_t *cfg);

/* Cancels what is in flight (it stays pending for the next start), writes
 * the results it holds, releases everything once its handles are closed.
 * Clears app->mail. */
void mail_stop(kawat_app_t *app);

/* Called on the loop after every committed op (api_after_write): new wire
 * events go to the outbox, approved embargoed releases to trusted
 * recipients, subscriber changes (trusted, beats, deletion) are followed. */
void mail_after_write(kawat_app_t *app, store_op_t *op);

/* Whether mail is sent at all (--smtp given). */
int mail_enabled(const kawat_app_t *app);

/* Appends the Prometheus lines of the engine to b. */
void mail_metrics(kawat_app_t *app, kw_buf_t *b);

/* ---- signed links ----
 *
 * A token is "<id>.<expires>.<mac>": expires in Unix seconds (0: never),
 * mac the first 32 hex digits of HMAC-SHA256(key, "<purpose>:<id>.<expires>")
 * with the key of meta.mail_secret. 'c' confirms a sign-up (48 h), 'u'
 * unsubscribes a recipient (never expires: RFC 8058 links must keep
 * working). */
#define MAIL_TOKEN_SIZE 96
#define MAIL_CONFIRM_TTL_MS (48 * 3600 * 1000LL)

/* Writes the token for (purpose, id, expires_s) into out (size >=
 * MAIL_TOKEN_SIZE). Returns KW_OK or KW_ERROR (no key: mail_start did
 * not run). */
int mail_token_make(const kawat_app_t *app, char purpose, const char *id, int64_t expires_s,
                    char *out, size_t size);
/* Checks token for purpose: KW_OK with the id in id (idsize >= 32);
 * KW_INVALID when malformed or forged; KW_GONE when its time is past. */
int mail_token_check(const kawat_app_t *app, char purpose, const char *token, char *id,
                     size_t idsize);
/* The same on an explicit key (tests). */
int mail_token_make_key(const char *key, char purpose, const char *id, int64_t expires_s, char *out,
                        size_t size);
int mail_token_check_key(const char *key, char purpose, const char *token, int64_t now_s, char *id,
                         size_t idsize);

/* ---- MIME (pure; tests/unit/mail_test.c) ---- */

/* Appends "Name: value\r\n": printable ASCII as it is, folded at spaces
 * past 76 columns; anything else as RFC 2047 "=?UTF-8?B?…?=" words of at
 * most 75 characters, cut between characters, on folded lines. Control
 * characters in value become spaces (no header injection). */
void mail_header(kw_buf_t *b, const char *name, const char *value);
/* Appends the "=?UTF-8?B?…?=" words of value (no header name, no folding
 * beyond what the words need: "\r\n " between them). */
void mail_encode_words(kw_buf_t *b, const char *value);
/* Appends text (len bytes, "\n" or "\r\n" lines) quoted-printable with
 * CRLF lines of at most 76 characters (RFC 2045); '=' , non-ASCII, a dot
 * starting a line and spaces ending one are encoded. */
void mail_qp_encode(kw_buf_t *b, const char *text, size_t len);
/* "Tue, 03 Mar 2026 07:05:09 +0000" (RFC 5322) into out (size >= 40). */
void mail_date(int64_t ms, char *out, size_t size);

typedef struct {
    const char *from_name; /* display name (the wire's), UTF-8 */
    const char *from_addr;
    const char *to_addr;
    const char *subject;         /* UTF-8 */
    const char *message_id;      /* "id@host", without <> */
    const char *in_reply_to;     /* "id@host" or NULL */
    const char *language;        /* Content-Language */
    const char *unsubscribe_url; /* NULL: no List-Unsubscribe (confirmation mails) */
    const char *list_id;         /* NULL: none; else "<name> <id>" as List-Id wants */
    const char *text;            /* the text/plain part, UTF-8 */
    const char *html;            /* the text/html part (a whole document), UTF-8; NULL:
                                    the mail is text/plain only */
    int64_t date_ms;
} mail_message_t;

/* Appends the whole RFC 5322 message (CRLF lines): headers, then a
 * multipart/alternative body with the text and the HTML part (a single
 * text/plain body when html is NULL). The boundary derives from the
 * Message-ID and cannot occur in QP output. */
void mail_build(kw_buf_t *out, const mail_message_t *m);

#endif
