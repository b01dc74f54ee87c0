/* web_account.c -- the pages people log in with: log-in and log-out, their
 * account, password reset by e-mailed link, and the admin's invitations of
 * issuers and editors, in the person's language.
 *
 * Design note: what each page withstands.
 * - CSRF: every form carries a token in the hidden field "csrf". With a
 *   session it is the session's own token; before log-in it is an HMAC
 *   (under the wire's account secret) of a random HttpOnly cookie,
 *   kawat_csrf, so a page on another site can neither read nor forge it.
 *   A POST without the right token is answered 403 and changes nothing.
 * - Session fixation: log-in always makes a new session id; the session
 *   cookie the browser came with is deleted in the same store operation.
 * - Guessing passwords: failures are counted per account (5 in 15 minutes)
 *   and per client address (20 in 15 minutes); past either, log-in answers
 *   429 without looking at the password, until the window has passed. An
 *   unknown address and a wrong password get the same answer, and cost the
 *   same argon2id time (auth_password_verify with a dummy hash).
 * - Open redirects: "next" is only ever a path on this site (one leading
 *   '/', no "//", no backslash, no control characters).
 * - Links: reset (1 hour) and invitation (7 days) tokens are 160 random
 *   bits plus an HMAC that binds them to their purpose; the store keeps
 *   their SHA-256 only and marks them used in the op that sets the
 *   password. A reset request gets the same answer whether the address
 *   exists or not.
 * argon2id runs on libuv's thread pool, at most HASH_JOBS_MAX at once (a
 * 503 past that): each costs about 64 MiB and 100 ms. */
#include "web/web_form.h"
#include "core/core_lang.h"

#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PASSWORD_MIN_CHARS 12
#define PASSWORD_MAX_BYTES 1024
#define NAME_MAX_BYTES 128
#define ORG_MAX_BYTES 200
#define EMAIL_MAX_BYTES WEB_FORM_EMAIL_MAX
#define ACCOUNT_FAILURES_MAX 5
#define ADDRESS_FAILURES_MAX 20
#define RESETS_PER_HOUR 3
#define LOCK_WINDOW_MS (15 * 60 * 1000LL)
#define RESET_VALID_MS (3600 * 1000LL)
#define INVITE_VALID_MS (7 * 24 * 3600 * 1000LL)
#define HASH_JOBS_MAX 8
#define LINK_RANDOM_CHARS 32
#define LINK_MAC_CHARS 32
#define LINK_CHARS (LINK_RANDOM_CHARS + LINK_MAC_CHARS)
#define CSRF_COOKIE WEB_FORM_CSRF_COOKIE

/* One request to an account page, kept across the thread pool and the
 * store's writer. */
typedef struct {
    kawat_app_t *app;
    net_request_t *req;
    const core_lang_t *lang;
    int has_session;
    web_session_t ses;
    char form_cookie[AUTH_SECRET_SIZE];   /* kawat_csrf, "" if the browser has none */
    char old_session_hash[AUTH_HEX_SIZE]; /* hash of any kawat_session cookie sent */
    kw_buf_t headers;                     /* Set-Cookie lines to send */
    net_params_t form;
    int have_form;
    /* the page being handled */
    int page;
    char token[LINK_CHARS + 1];
    char token_hash[AUTH_HEX_SIZE];
    store_account_link_t link;
    /* thread-pool work */
    uv_work_t work;
    int verify; /* 1: check password against encoded; 0: hash password */
    char *password;
    char encoded[AUTH_PASSWORD_HASH_SIZE];
    int ok;
    store_account_t account;
    int account_found;
    char email[EMAIL_MAX_BYTES + 1];
    char next[512];
    char session_secret[AUTH_SECRET_SIZE];
    char session_csrf[AUTH_SECRET_SIZE];
} ctx_t;

enum {
    PAGE_LOGIN,
    PAGE_LOGOUT,
    PAGE_ACCOUNT,
    PAGE_RESET,
    PAGE_RESET_TOKEN,
    PAGE_INVITES,
    PAGE_INVITE_TOKEN
};

static int hash_jobs;

/* ---- small helpers ---- */

static void add_cookie(ctx_t *c, const char *name, const char *value, long max_age, int http_only)
{
    web_form_cookie(&c->headers, c->app, name, value, max_age, http_only);
}

static char *fmt(ctx_t *c, core_msg_t id)
{
    return core_lang_format(c->lang, id, c->app->wire_name);
}

static void put_msg(kw_buf_t *b, ctx_t *c, core_msg_t id)
{
    web_form_msg(b, c->app, c->lang, id);
}

static const char *form_get(ctx_t *c, const char *name)
{
    return web_form_get(&c->form, c->have_form, name);
}

/* A "next" path is only ever on this site: one leading '/', then no '/'
 * or '\\' right after it, no backslash, encoded slash or backslash, or
 * control character anywhere. */
static int next_valid(const char *z)
{
    size_t n = strlen(z);
    if (n == 0 || n >= 512 || z[0] != '/' || z[1] == '/' || z[1] == '\\') return 0;
    if (strcasestr(z, "%2f") || strcasestr(z, "%5c")) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)z[i];
        if (ch < 0x20 || ch == 0x7f || ch == '\\') return 0;
    }
    return 1;
}

/* The CSRF token forms must carry: the session's, or before log-in an HMAC
 * of the kawat_csrf cookie. "" when neither exists (then no POST passes). */
static void csrf_expected(ctx_t *c, char out[AUTH_HEX_SIZE])
{
    web_form_csrf_expected(c->app, c->has_session ? c->ses.s.csrf : NULL, c->form_cookie, out);
}

static int csrf_ok(ctx_t *c)
{
    char want[AUTH_HEX_SIZE];
    csrf_expected(c, want);
    return web_form_csrf_ok(want, form_get(c, "csrf"));
}

/* A link token: 32 random base32 characters and the first 32 hex digits
 * of HMAC(secret, kind ":" random). */
static void link_make(kawat_app_t *app, const char *kind, char out[LINK_CHARS + 1])
{
    char msg[64], mac[AUTH_HEX_SIZE];
    auth_random_id(out, LINK_RANDOM_CHARS);
    snprintf(msg, sizeof(msg), "%s:%s", kind, out);
    const char *key = web_form_secret_key(app);
    auth_hmac_sha256_hex(key, strlen(key), msg, strlen(msg), mac);
    memcpy(out + LINK_RANDOM_CHARS, mac, LINK_MAC_CHARS);
    out[LINK_CHARS] = '\0';
}

static int link_check(kawat_app_t *app, const char *kind, kw_str_t tok, char out[LINK_CHARS + 1])
{
    if (tok.len != LINK_CHARS) return 0;
    for (size_t i = 0; i < tok.len; i++) {
        char ch = tok.data[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z'))) return 0;
    }
    char msg[64], mac[AUTH_HEX_SIZE];
    snprintf(msg, sizeof(msg), "%s:%.*s", kind, LINK_RANDOM_CHARS, tok.data);
    const char *key = web_form_secret_key(app);
    auth_hmac_sha256_hex(key, strlen(key), msg, strlen(msg), mac);
    if (!auth_consttime_eq(mac, tok.data + LINK_RANDOM_CHARS, LINK_MAC_CHARS)) return 0;
    memcpy(out, tok.data, LINK_CHARS);
    out[LINK_CHARS] = '\0';
    return 1;
}

/* A role's localized name; malloc'd. */
static char *role_text(ctx_t *c, core_role_t r)
{
    return fmt(c, r == ROLE_ADMIN    ? MSG_ACCT_ROLE_ADMIN
                  : r == ROLE_EDITOR ? MSG_ACCT_ROLE_EDITOR
                  : r == ROLE_ISSUER ? MSG_ISSUER
                                     : MSG_ACCT_ROLE_SUBSCRIBER);
}

/* ---- mail ---- */

/* Sends (or, without a mail engine, records) one mail to a person. */
static void send_mail(ctx_t *c, const char *to, core_msg_t subject_id, core_msg_t body_id,
                      const char *link, const char *role)
{
    kawat_app_t *app = c->app;
    char *subject = fmt(c, subject_id);
    const char *vars[] = {"wire", app->wire_name, "link", link, "role", role, NULL};
    char *text = core_lang_format_vars(c->lang, body_id, vars);
    if (app->send_mail) {
        if (app->send_mail(app, to, c->lang->tag, subject, text) != KW_OK)
            fprintf(stderr, "kawat: could not queue the mail \"%s\" to %s\n", subject, to);
    } else {
        FILE *f = app->mail_log ? fopen(app->mail_log, "a") : NULL;
        if (app->mail_log && f == NULL)
            fprintf(stderr, "kawat: mail-log: cannot open %s\n", app->mail_log);
        if (f == NULL) {
            f = stderr;
            fprintf(f, "kawat: no mail relay: the mail below was not sent\n");
        }
        fprintf(f, "From: %s\nTo: %s\nSubject: %s\nContent-Language: %s\n\n%s\n.\n", app->wire_name,
                to, subject, c->lang->tag, text);
        if (f != stderr) fclose(f);
    }
    free(subject);
    free(text);
}

/* ---- the page shell ---- */

static void page_start(ctx_t *c, kw_buf_t *b, const char *title)
{
    web_form_head(b, c->app, c->lang, title, c->has_session ? c->ses.s.csrf : NULL, NULL);
    web_form_language_picker(b, c->app, c->lang, c->req,
                             c->page == PAGE_LOGIN && c->next[0] ? c->next : NULL);
    if (c->has_session) {
        kw_buf_puts(b, "<nav class=\"account\"><a href=\"/account\">");
        web_escape(b, c->ses.s.who.name);
        kw_buf_puts(b, "</a></nav>\n");
    }
    web_form_main(b, title, NULL, NULL);
}

/* Frees c with what it holds (the form, the password, wiped). */
static void ctx_free(ctx_t *c)
{
    kw_buf_free(&c->headers);
    if (c->have_form) net_query_free(&c->form);
    if (c->password) {
        memset(c->password, 0, strlen(c->password));
        free(c->password);
    }
    free(c);
}

/* Ends the page, sends it with status and frees c. */
static void page_send(ctx_t *c, kw_buf_t *b, int status, const char *extra)
{
    web_form_send(c->req, status, &c->headers, extra, b);
    ctx_free(c);
}

/* A page with a title and one message. */
static void message_page(ctx_t *c, int status, core_msg_t title, core_msg_t text, const char *link,
                         core_msg_t link_text, const char *extra)
{
    kw_buf_t b = {0};
    char *t = fmt(c, title);
    page_start(c, &b, t);
    free(t);
    kw_buf_printf(&b, "<p class=\"%s\" role=\"%s\">", status >= 400 ? "alert" : "notice",
                  status >= 400 ? "alert" : "status");
    put_msg(&b, c, text);
    kw_buf_puts(&b, "</p>\n");
    if (link) {
        kw_buf_puts(&b, "<p><a href=\"");
        web_escape(&b, link);
        kw_buf_puts(&b, "\">");
        put_msg(&b, c, link_text);
        kw_buf_puts(&b, "</a></p>\n");
    }
    page_send(c, &b, status, extra);
}

static void redirect(ctx_t *c, const char *location)
{
    web_form_redirect(c->req, &c->headers, location);
    ctx_free(c);
}

static void forbidden_form(ctx_t *c)
{
    message_page(c, 403, MSG_ACCT_LOGIN, MSG_ACCT_FORM_EXPIRED, "/login", MSG_ACCT_LOGIN, NULL);
}

/* ---- form pieces ---- */

static void form_open(ctx_t *c, kw_buf_t *b, const char *action)
{
    char csrf[AUTH_HEX_SIZE];
    csrf_expected(c, csrf);
    kw_buf_puts(b, "<form method=\"post\" action=\"");
    web_escape(b, action);
    kw_buf_puts(b, "\" novalidate>\n<input type=\"hidden\" name=\"csrf\" value=\"");
    web_escape(b, csrf);
    kw_buf_puts(b, "\">\n");
}

/* A labelled input; error (a message id, or -1) is said next to it. */
static void field(ctx_t *c, kw_buf_t *b, const char *name, core_msg_t label, const char *type,
                  const char *value, const char *autocomplete, int error, int hint)
{
    web_form_field_open(b, c->app, c->lang, name, label, type, value, error);
    if (autocomplete) kw_buf_printf(b, " autocomplete=\"%s\"", autocomplete);
    if (error >= 0 || hint >= 0)
        kw_buf_printf(b, " aria-describedby=\"%s-%s\"", name, error >= 0 ? "error" : "hint");
    if (error >= 0) kw_buf_puts(b, " aria-invalid=\"true\"");
    kw_buf_puts(b, ">\n");
    if (hint >= 0 && error < 0) {
        kw_buf_printf(b, "<span class=\"hint\" id=\"%s-hint\">", name);
        put_msg(b, c, (core_msg_t)hint);
        kw_buf_puts(b, "</span>\n");
    }
    web_form_field_error(b, c->app, c->lang, name, error);
    kw_buf_puts(b, "</p>\n");
}

static void submit(ctx_t *c, kw_buf_t *b, core_msg_t label)
{
    kw_buf_puts(b, "<p><button type=\"submit\">");
    put_msg(b, c, label);
    kw_buf_puts(b, "</button></p>\n</form>\n");
}

static void alert(ctx_t *c, kw_buf_t *b, int msg_id)
{
    if (msg_id < 0) return;
    kw_buf_puts(b, "<p class=\"alert\" role=\"alert\">");
    put_msg(b, c, (core_msg_t)msg_id);
    kw_buf_puts(b, "</p>\n");
}

/* ---- log-in ---- */

static void login_page(ctx_t *c, int status, int alert_msg, int email_err, int pw_err,
                       const char *extra)
{
    kw_buf_t b = {0};
    char *t = fmt(c, MSG_ACCT_LOGIN);
    page_start(c, &b, t);
    free(t);
    alert(c, &b, alert_msg);
    form_open(c, &b, "/login");
    if (c->next[0]) {
        kw_buf_puts(&b, "<input type=\"hidden\" name=\"next\" value=\"");
        web_escape(&b, c->next);
        kw_buf_puts(&b, "\">\n");
    }
    field(c, &b, "email", MSG_ACCT_EMAIL, "email", form_get(c, "email"), "username", email_err, -1);
    field(c, &b, "password", MSG_ACCT_PASSWORD, "password", NULL, "current-password", pw_err, -1);
    submit(c, &b, MSG_ACCT_LOGIN);
    kw_buf_puts(&b, "<p><a href=\"/reset\">");
    put_msg(&b, c, MSG_ACCT_FORGOT);
    kw_buf_puts(&b, "</a></p>\n");
    page_send(c, &b, status, extra);
}

static void session_created(store_op_t *op)
{
    ctx_t *c = op->arg;
    if (op->rc != KW_OK) {
        store_op_free(op);
        message_page(c, 503, MSG_ACCT_LOGIN, MSG_UNAVAILABLE, NULL, MSG_HOME, "Retry-After: 5\r\n");
        return;
    }
    store_op_free(op);
    add_cookie(c, WEB_SESSION_COOKIE, c->session_secret, STORE_SESSION_MAX_MS / 1000, 1);
    redirect(c, c->next[0] ? c->next : "/account");
}

static void failure_recorded(store_op_t *op)
{
    ctx_t *c = op->arg;
    store_op_free(op);
    login_page(c, 401, MSG_ACCT_BAD_LOGIN, -1, -1, NULL);
}

static void new_session_secrets(ctx_t *c, char id_hash[AUTH_HEX_SIZE])
{
    auth_secret_generate(c->session_secret);
    auth_secret_generate(c->session_csrf);
    auth_token_hash(c->session_secret, strlen(c->session_secret), id_hash);
}

static void verify_work(uv_work_t *w)
{
    ctx_t *c = w->data;
    if (c->verify)
        c->ok = auth_password_verify(c->encoded[0] ? c->encoded : NULL, c->password);
    else
        c->ok = auth_password_hash(c->password, c->encoded, sizeof(c->encoded)) == KW_OK;
}

static void login_verified(uv_work_t *w, int status)
{
    ctx_t *c = w->data;
    hash_jobs--;
    char key[300];
    if (c->ok && c->account_found) {
        char id_hash[AUTH_HEX_SIZE];
        new_session_secrets(c, id_hash);
        snprintf(key, sizeof(key), "a:%s", c->email);
        store_op_t *op = store_op_new(STORE_OP_SESSION_CREATE, session_created, c);
        op->input = json_pack("{s:s, s:s, s:s, s:[s]}", "id_hash", id_hash, "user_id",
                              c->account.user_id, "csrf", c->session_csrf, "clear", key);
        if (c->old_session_hash[0])
            json_object_set_new(op->input, "discard", json_string(c->old_session_hash));
        store_submit(c->app->store, op);
        return;
    }
    char ip[80];
    snprintf(key, sizeof(key), "a:%s", c->email);
    snprintf(ip, sizeof(ip), "ip:%s", c->req->remote_addr);
    store_op_t *op = store_op_new(STORE_OP_LOGIN_FAILED, failure_recorded, c);
    op->input = json_pack("{s:[s, s]}", "keys", key, ip);
    store_submit(c->app->store, op);
}

/* Starts argon2id on the thread pool; after runs on the loop. Returns 0
 * (and answers 503) when too many run already. */
static int hash_start(ctx_t *c, int verify, const char *password, uv_after_work_cb after)
{
    if (hash_jobs >= HASH_JOBS_MAX) {
        message_page(c, 503, MSG_ACCT_LOGIN, MSG_UNAVAILABLE, NULL, MSG_HOME, "Retry-After: 2\r\n");
        return 0;
    }
    c->verify = verify;
    c->password = kw_strdup(password);
    c->work.data = c;
    hash_jobs++;
    uv_queue_work(c->app->loop, &c->work, verify_work, after);
    return 1;
}

static void login_post(ctx_t *c)
{
    if (!csrf_ok(c)) {
        forbidden_form(c);
        return;
    }
    const char *next = form_get(c, "next");
    if (next_valid(next)) snprintf(c->next, sizeof(c->next), "%s", next);
    const char *email = form_get(c, "email");
    const char *pw = form_get(c, "password");
    int email_err = !*email ? MSG_ACCT_REQUIRED
                    : !web_form_email_valid(email, c->email, sizeof(c->email))
                        ? MSG_ACCT_EMAIL_INVALID
                        : -1;
    int pw_err = !*pw                              ? MSG_ACCT_REQUIRED
                 : strlen(pw) > PASSWORD_MAX_BYTES ? MSG_ACCT_TOO_LONG
                                                   : -1;
    if (email_err >= 0 || pw_err >= 0) {
        login_page(c, 422, -1, email_err, pw_err, NULL);
        return;
    }
    char key[300], ip[80];
    int64_t since = kw_now_ms() - LOCK_WINDOW_MS;
    snprintf(key, sizeof(key), "a:%s", c->email);
    snprintf(ip, sizeof(ip), "ip:%s", c->req->remote_addr);
    if (store_login_failures(c->app->store, key, since) >= ACCOUNT_FAILURES_MAX ||
        store_login_failures(c->app->store, ip, since) >= ADDRESS_FAILURES_MAX) {
        c->app->auth_failures++;
        login_page(c, 429, MSG_ACCT_LOCKED, -1, -1, "Retry-After: 900\r\n");
        return;
    }
    c->account_found = store_account_by_email(c->app->store, c->email, &c->account) == KW_OK &&
                       c->account.password_hash[0];
    snprintf(c->encoded, sizeof(c->encoded), "%s",
             c->account_found ? c->account.password_hash : "");
    hash_start(c, 1, pw, login_verified);
}

static void logout_done(store_op_t *op)
{
    ctx_t *c = op->arg;
    store_op_free(op);
    add_cookie(c, WEB_SESSION_COOKIE, "", 0, 1);
    redirect(c, "/login");
}

static void logout_post(ctx_t *c)
{
    if (!c->has_session) {
        redirect(c, "/login");
        return;
    }
    if (!csrf_ok(c)) {
        forbidden_form(c);
        return;
    }
    store_op_t *op = store_op_new(STORE_OP_SESSION_DELETE, logout_done, c);
    op->input = json_pack("{s:s}", "id_hash", c->ses.id_hash);
    store_submit(c->app->store, op);
}

/* ---- the account page ---- */

static void account_get(ctx_t *c)
{
    kw_buf_t b = {0};
    char *t = fmt(c, MSG_ACCT_TITLE);
    page_start(c, &b, t);
    free(t);
    const store_session_t *s = &c->ses.s;
    kw_buf_puts(&b, "<dl class=\"account\">\n<dt>");
    put_msg(&b, c, MSG_ACCT_NAME);
    kw_buf_puts(&b, "</dt><dd id=\"account-name\"><bdi>");
    web_escape(&b, s->who.name);
    kw_buf_puts(&b, "</bdi></dd>\n<dt>");
    put_msg(&b, c, MSG_ACCT_EMAIL);
    kw_buf_puts(&b, "</dt><dd id=\"account-email\">");
    web_escape(&b, s->email);
    kw_buf_puts(&b, "</dd>\n<dt>");
    put_msg(&b, c, MSG_ACCT_ROLE);
    char *role = role_text(c, s->who.role);
    kw_buf_printf(&b, "</dt><dd id=\"account-role\" data-role=\"%s\">",
                  core_role_name(s->who.role));
    web_escape(&b, role);
    free(role);
    kw_buf_puts(&b, "</dd>\n");
    if (s->issuer_name[0]) {
        kw_buf_puts(&b, "<dt>");
        put_msg(&b, c, MSG_ACCT_ORGANIZATION);
        kw_buf_puts(&b, "</dt><dd id=\"account-organization\"><bdi>");
        web_escape(&b, s->issuer_name);
        kw_buf_puts(&b, "</bdi></dd>\n");
    }
    kw_buf_puts(&b, "</dl>\n");
    if (s->who.role == ROLE_ADMIN) {
        kw_buf_puts(&b, "<p><a href=\"/admin/invites\">");
        put_msg(&b, c, MSG_ACCT_INVITES_TITLE);
        kw_buf_puts(&b, "</a></p>\n");
    }
    if (s->who.role == ROLE_SUBSCRIBER && s->who.subscriber_id[0]) {
        kw_buf_puts(&b, "<p><a href=\"/me/\">"); /* web_subscriber.c */
        put_msg(&b, c, MSG_ME_TITLE);
        kw_buf_puts(&b, "</a></p>\n");
    }
    form_open(c, &b, "/logout");
    submit(c, &b, MSG_ACCT_LOGOUT);
    page_send(c, &b, 200, NULL);
}

/* ---- password reset ---- */

static void reset_page(ctx_t *c, int status, int email_err)
{
    kw_buf_t b = {0};
    char *t = fmt(c, MSG_ACCT_RESET_TITLE);
    page_start(c, &b, t);
    free(t);
    form_open(c, &b, "/reset");
    field(c, &b, "email", MSG_ACCT_EMAIL, "email", form_get(c, "email"), "username", email_err, -1);
    submit(c, &b, MSG_ACCT_RESET_SEND);
    page_send(c, &b, status, NULL);
}

static void reset_answered(store_op_t *op)
{
    ctx_t *c = op->arg;
    if (op->kind == STORE_OP_RESET_CREATE && op->rc == KW_OK) {
        char *link = NULL;
        size_t n = strlen(c->app->base_url) + LINK_CHARS + 16;
        link = kw_malloc(n);
        snprintf(link, n, "%s/reset/%s", c->app->base_url, c->token);
        send_mail(c, c->account.email, MSG_ACCT_MAIL_RESET_SUBJECT, MSG_ACCT_MAIL_RESET_BODY, link,
                  "");
        free(link);
    }
    store_op_free(op);
    message_page(c, 200, MSG_ACCT_RESET_TITLE, MSG_ACCT_RESET_SENT, "/login", MSG_ACCT_LOGIN, NULL);
}

static void reset_counted(store_op_t *op)
{
    ctx_t *c = op->arg;
    store_op_free(op);
    if (!c->account_found) {
        message_page(c, 200, MSG_ACCT_RESET_TITLE, MSG_ACCT_RESET_SENT, "/login", MSG_ACCT_LOGIN,
                     NULL);
        return;
    }
    char hash[AUTH_HEX_SIZE];
    link_make(c->app, "reset", c->token);
    auth_token_hash(c->token, strlen(c->token), hash);
    op = store_op_new(STORE_OP_RESET_CREATE, reset_answered, c);
    op->input = json_pack("{s:s, s:s, s:I}", "hash", hash, "user_id", c->account.user_id,
                          "expires_at", (json_int_t)(kw_now_ms() + RESET_VALID_MS));
    store_submit(c->app->store, op);
}

static void reset_post(ctx_t *c)
{
    if (!csrf_ok(c)) {
        forbidden_form(c);
        return;
    }
    const char *email = form_get(c, "email");
    if (!*email || !web_form_email_valid(email, c->email, sizeof(c->email))) {
        reset_page(c, 422, !*email ? MSG_ACCT_REQUIRED : MSG_ACCT_EMAIL_INVALID);
        return;
    }
    /* Every request is counted (a write either way, so known and unknown
     * addresses take alike); past RESETS_PER_HOUR nothing more is sent to
     * the address, with the same answer. */
    char key[300];
    snprintf(key, sizeof(key), "r:%s", c->email);
    int64_t recent = store_login_failures(c->app->store, key, kw_now_ms() - RESET_VALID_MS);
    c->account_found = recent < RESETS_PER_HOUR &&
                       store_account_by_email(c->app->store, c->email, &c->account) == KW_OK;
    store_op_t *op = store_op_new(STORE_OP_LOGIN_FAILED, reset_counted, c);
    op->input = json_pack("{s:[s]}", "keys", key);
    store_submit(c->app->store, op);
}

/* Reads the link of c->token (kind reset or invite). Returns 1 if usable,
 * else answers 404 (unknown) or 410 (used, expired) and returns 0. */
static int link_usable(ctx_t *c, const char *kind, kw_str_t tok)
{
    int status = 404;
    if (link_check(c->app, kind, tok, c->token)) {
        auth_token_hash(c->token, strlen(c->token), c->token_hash);
        if (store_account_link_get(c->app->store, strcmp(kind, "invite") == 0, c->token_hash,
                                   &c->link) == KW_OK) {
            if (!c->link.used && c->link.expires_at > kw_now_ms()) return 1;
            status = 410;
        }
    }
    message_page(c, status,
                 strcmp(kind, "invite") == 0 ? MSG_ACCT_INVITE_TITLE : MSG_ACCT_RESET_TITLE,
                 MSG_ACCT_LINK_INVALID, strcmp(kind, "invite") == 0 ? "/login" : "/reset",
                 strcmp(kind, "invite") == 0 ? MSG_ACCT_LOGIN : MSG_ACCT_RESET_TITLE, NULL);
    return 0;
}

static void new_password_page(ctx_t *c, int status, int pw_err)
{
    kw_buf_t b = {0};
    char *t = fmt(c, MSG_ACCT_RESET_TITLE);
    page_start(c, &b, t);
    free(t);
    char action[LINK_CHARS + 16];
    snprintf(action, sizeof(action), "/reset/%s", c->token);
    form_open(c, &b, action);
    kw_buf_puts(&b, "<input type=\"hidden\" name=\"username\" autocomplete=\"username\" value=\"");
    web_escape(&b, c->link.email);
    kw_buf_puts(&b, "\">\n");
    field(c, &b, "password", MSG_ACCT_NEW_PASSWORD, "password", NULL, "new-password", pw_err,
          MSG_ACCT_PASSWORD_HINT);
    submit(c, &b, MSG_ACCT_SET_PASSWORD);
    page_send(c, &b, status, NULL);
}

static int password_error(const char *pw)
{
    if (!*pw) return MSG_ACCT_REQUIRED;
    if (strlen(pw) > PASSWORD_MAX_BYTES) return MSG_ACCT_TOO_LONG;
    if (web_form_utf8_chars(pw) < PASSWORD_MIN_CHARS) return MSG_ACCT_PASSWORD_SHORT;
    return -1;
}

static void password_saved(store_op_t *op)
{
    ctx_t *c = op->arg;
    int rc = op->rc;
    store_op_free(op);
    if (rc == KW_NOTFOUND || rc == KW_GONE) {
        message_page(c, 410,
                     c->page == PAGE_INVITE_TOKEN ? MSG_ACCT_INVITE_TITLE : MSG_ACCT_RESET_TITLE,
                     MSG_ACCT_LINK_INVALID, "/login", MSG_ACCT_LOGIN, NULL);
        return;
    }
    if (rc != KW_OK) {
        message_page(c, 503, MSG_ACCT_RESET_TITLE, MSG_UNAVAILABLE, NULL, MSG_HOME,
                     "Retry-After: 5\r\n");
        return;
    }
    if (c->page == PAGE_INVITE_TOKEN) {
        add_cookie(c, WEB_SESSION_COOKIE, c->session_secret, STORE_SESSION_MAX_MS / 1000, 1);
        redirect(c, "/account");
        return;
    }
    /* Every session of the user has ended, the browser's own too. */
    if (c->has_session && strcmp(c->ses.s.who.user_id, c->link.user_id) == 0)
        add_cookie(c, WEB_SESSION_COOKIE, "", 0, 1);
    message_page(c, 200, MSG_ACCT_RESET_TITLE, MSG_ACCT_PASSWORD_DONE, "/login", MSG_ACCT_LOGIN,
                 NULL);
}

static void password_hashed(uv_work_t *w, int status)
{
    ctx_t *c = w->data;
    hash_jobs--;
    if (!c->ok) {
        message_page(c, 503, MSG_ACCT_RESET_TITLE, MSG_UNAVAILABLE, NULL, MSG_HOME,
                     "Retry-After: 5\r\n");
        return;
    }
    int invite = c->page == PAGE_INVITE_TOKEN;
    store_op_t *op = store_op_new(STORE_OP_PASSWORD_SET, password_saved, c);
    op->input = json_pack("{s:s, s:s, s:s}", "kind", invite ? "invite" : "reset", "hash",
                          c->token_hash, "password_hash", c->encoded);
    if (invite) {
        char id_hash[AUTH_HEX_SIZE];
        new_session_secrets(c, id_hash);
        json_object_set_new(op->input, "name", json_string(form_get(c, "name")));
        json_t *ses = json_pack("{s:s, s:s}", "id_hash", id_hash, "csrf", c->session_csrf);
        if (c->old_session_hash[0])
            json_object_set_new(ses, "discard", json_string(c->old_session_hash));
        json_object_set_new(op->input, "session", ses);
    }
    store_submit(c->app->store, op);
}

static void reset_token_post(ctx_t *c)
{
    if (!csrf_ok(c)) {
        forbidden_form(c);
        return;
    }
    const char *pw = form_get(c, "password");
    int err = password_error(pw);
    if (err >= 0) {
        new_password_page(c, 422, err);
        return;
    }
    hash_start(c, 0, pw, password_hashed);
}

/* ---- invitations ---- */

static void invite_accept_page(ctx_t *c, int status, int name_err, int pw_err)
{
    kw_buf_t b = {0};
    char *t = fmt(c, MSG_ACCT_INVITE_TITLE);
    page_start(c, &b, t);
    free(t);
    char *role = role_text(c, c->link.role);
    kw_buf_puts(&b, "<dl class=\"account\">\n<dt>");
    put_msg(&b, c, MSG_ACCT_EMAIL);
    kw_buf_puts(&b, "</dt><dd id=\"invite-email\">");
    web_escape(&b, c->link.email);
    kw_buf_puts(&b, "</dd>\n<dt>");
    put_msg(&b, c, MSG_ACCT_ROLE);
    kw_buf_puts(&b, "</dt><dd>");
    web_escape(&b, role);
    kw_buf_puts(&b, "</dd>\n");
    free(role);
    if (c->link.issuer_name[0]) {
        kw_buf_puts(&b, "<dt>");
        put_msg(&b, c, MSG_ACCT_ORGANIZATION);
        kw_buf_puts(&b, "</dt><dd><bdi>");
        web_escape(&b, c->link.issuer_name);
        kw_buf_puts(&b, "</bdi></dd>\n");
    }
    kw_buf_puts(&b, "</dl>\n");
    char action[LINK_CHARS + 16];
    snprintf(action, sizeof(action), "/invite/%s", c->token);
    form_open(c, &b, action);
    kw_buf_puts(&b, "<input type=\"hidden\" name=\"username\" autocomplete=\"username\" value=\"");
    web_escape(&b, c->link.email);
    kw_buf_puts(&b, "\">\n");
    /* The name the admin gave, unless it was only the address. */
    const char *name = c->have_form                               ? form_get(c, "name")
                       : strcmp(c->link.name, c->link.email) == 0 ? ""
                                                                  : c->link.name;
    field(c, &b, "name", MSG_ACCT_NAME, "text", name, "name", name_err, -1);
    field(c, &b, "password", MSG_ACCT_PASSWORD, "password", NULL, "new-password", pw_err,
          MSG_ACCT_PASSWORD_HINT);
    submit(c, &b, MSG_ACCT_INVITE_ACCEPT);
    page_send(c, &b, status, NULL);
}

static void invite_token_post(ctx_t *c)
{
    if (!csrf_ok(c)) {
        forbidden_form(c);
        return;
    }
    const char *name = form_get(c, "name");
    const char *pw = form_get(c, "password");
    int name_err = !*name                          ? MSG_ACCT_REQUIRED
                   : strlen(name) > NAME_MAX_BYTES ? MSG_ACCT_TOO_LONG
                                                   : -1;
    int pw_err = password_error(pw);
    if (name_err >= 0 || pw_err >= 0) {
        invite_accept_page(c, 422, name_err, pw_err);
        return;
    }
    hash_start(c, 0, pw, password_hashed);
}

static void invites_page(ctx_t *c, int status, int alert_msg, int email_err, int role_err,
                         int org_err, int name_err, const char *sent_to)
{
    kw_buf_t b = {0};
    char *t = fmt(c, MSG_ACCT_INVITES_TITLE);
    page_start(c, &b, t);
    free(t);
    alert(c, &b, alert_msg);
    if (sent_to) {
        const char *vars[] = {"email", sent_to, "wire", c->app->wire_name, NULL};
        char *z = core_lang_format_vars(c->lang, MSG_ACCT_INVITE_SENT, vars);
        kw_buf_puts(&b, "<p class=\"notice\" role=\"status\">");
        web_escape(&b, z);
        kw_buf_puts(&b, "</p>\n");
        free(z);
    }
    /* After a successful invitation the form starts empty. */
    int keep = sent_to == NULL;
    form_open(c, &b, "/admin/invites");
    field(c, &b, "email", MSG_ACCT_EMAIL, "email", keep ? form_get(c, "email") : "", "off",
          email_err, -1);
    const char *role = keep ? form_get(c, "role") : "";
    kw_buf_printf(&b, "<p class=\"field%s\"><label for=\"f-role\">",
                  role_err >= 0 ? " invalid" : "");
    put_msg(&b, c, MSG_ACCT_ROLE);
    kw_buf_printf(&b, "</label>\n<select id=\"f-role\" name=\"role\"%s>",
                  role_err >= 0 ? " aria-invalid=\"true\" aria-describedby=\"role-error\"" : "");
    kw_buf_printf(&b, "<option value=\"issuer\"%s>", strcmp(role, "editor") ? " selected" : "");
    put_msg(&b, c, MSG_ISSUER);
    kw_buf_printf(&b, "</option><option value=\"editor\"%s>",
                  strcmp(role, "editor") == 0 ? " selected" : "");
    put_msg(&b, c, MSG_ACCT_ROLE_EDITOR);
    kw_buf_puts(&b, "</option></select>\n");
    if (role_err >= 0) {
        kw_buf_puts(&b, "<span class=\"error\" id=\"role-error\">");
        put_msg(&b, c, (core_msg_t)role_err);
        kw_buf_puts(&b, "</span>\n");
    }
    kw_buf_puts(&b, "</p>\n");
    field(c, &b, "organization", MSG_ACCT_ORGANIZATION, "text",
          keep ? form_get(c, "organization") : "", "organization", org_err, -1);
    field(c, &b, "name", MSG_ACCT_NAME, "text", keep ? form_get(c, "name") : "", "off", name_err,
          -1);
    submit(c, &b, MSG_ACCT_INVITE_SEND);

    json_t *recent = store_invites_recent(c->app->store, 20);
    if (json_array_size(recent)) {
        kw_buf_puts(&b, "<h2>");
        put_msg(&b, c, MSG_ACCT_RECENT_INVITES);
        kw_buf_puts(&b, "</h2>\n<table class=\"invites\"><thead><tr><th>");
        put_msg(&b, c, MSG_ACCT_EMAIL);
        kw_buf_puts(&b, "</th><th>");
        put_msg(&b, c, MSG_ACCT_ROLE);
        kw_buf_puts(&b, "</th><th>");
        put_msg(&b, c, MSG_ACCT_ORGANIZATION);
        kw_buf_puts(&b, "</th><th>");
        put_msg(&b, c, MSG_ACCT_STATUS);
        kw_buf_puts(&b, "</th></tr></thead><tbody>\n");
        size_t i;
        json_t *v;
        json_array_foreach(recent, i, v)
        {
            core_role_t r = ROLE_NONE;
            core_role_parse(json_string_value(json_object_get(v, "role")), &r);
            char *rt = role_text(c, r);
            kw_buf_puts(&b, "<tr><td>");
            web_escape(&b, json_string_value(json_object_get(v, "email")));
            kw_buf_puts(&b, "</td><td>");
            web_escape(&b, rt);
            kw_buf_puts(&b, "</td><td><bdi>");
            web_escape(&b, json_string_value(json_object_get(v, "issuer")));
            kw_buf_puts(&b, "</bdi></td><td>");
            put_msg(&b, c,
                    json_is_null(json_object_get(v, "accepted_at")) ? MSG_ACCT_PENDING
                                                                    : MSG_ACCT_ACCEPTED);
            kw_buf_puts(&b, "</td></tr>\n");
            free(rt);
        }
        kw_buf_puts(&b, "</tbody></table>\n");
    }
    json_decref(recent);
    page_send(c, &b, status, NULL);
}

static void invite_created(store_op_t *op)
{
    ctx_t *c = op->arg;
    int rc = op->rc;
    store_op_free(op);
    if (rc == KW_CONFLICT) {
        invites_page(c, 409, -1, MSG_ACCT_EMAIL_TAKEN, -1, -1, -1, NULL);
        return;
    }
    if (rc != KW_OK) {
        message_page(c, 503, MSG_ACCT_INVITES_TITLE, MSG_UNAVAILABLE, NULL, MSG_HOME,
                     "Retry-After: 5\r\n");
        return;
    }
    size_t n = strlen(c->app->base_url) + LINK_CHARS + 16;
    char *link = kw_malloc(n);
    snprintf(link, n, "%s/invite/%s", c->app->base_url, c->token);
    core_role_t r = strcmp(form_get(c, "role"), "editor") == 0 ? ROLE_EDITOR : ROLE_ISSUER;
    char *role = role_text(c, r);
    send_mail(c, c->email, MSG_ACCT_MAIL_INVITE_SUBJECT, MSG_ACCT_MAIL_INVITE_BODY, link, role);
    free(role);
    free(link);
    char to[EMAIL_MAX_BYTES + 1];
    snprintf(to, sizeof(to), "%s", c->email);
    invites_page(c, 200, -1, -1, -1, -1, -1, to);
}

static void invites_post(ctx_t *c)
{
    if (!csrf_ok(c)) {
        forbidden_form(c);
        return;
    }
    const char *email = form_get(c, "email");
    const char *role = form_get(c, "role");
    const char *org = form_get(c, "organization");
    const char *name = form_get(c, "name");
    int is_issuer = strcmp(role, "issuer") == 0;
    int email_err = !*email ? MSG_ACCT_REQUIRED
                    : !web_form_email_valid(email, c->email, sizeof(c->email))
                        ? MSG_ACCT_EMAIL_INVALID
                        : -1;
    int role_err = is_issuer || strcmp(role, "editor") == 0 ? -1 : MSG_ACCT_REQUIRED;
    int org_err = is_issuer && !*org            ? MSG_ACCT_REQUIRED
                  : strlen(org) > ORG_MAX_BYTES ? MSG_ACCT_TOO_LONG
                                                : -1;
    int name_err = strlen(name) > NAME_MAX_BYTES ? MSG_ACCT_TOO_LONG : -1;
    if (email_err >= 0 || role_err >= 0 || org_err >= 0 || name_err >= 0) {
        invites_page(c, 422, -1, email_err, role_err, org_err, name_err, NULL);
        return;
    }
    char hash[AUTH_HEX_SIZE];
    link_make(c->app, "invite", c->token);
    auth_token_hash(c->token, strlen(c->token), hash);
    store_op_t *op = store_op_new(STORE_OP_INVITE_CREATE, invite_created, c);
    op->who = c->ses.s.who;
    op->input = json_pack("{s:s, s:s, s:s, s:I}", "email", c->email, "role", role, "hash", hash,
                          "expires_at", (json_int_t)(kw_now_ms() + INVITE_VALID_MS));
    if (is_issuer) json_object_set_new(op->input, "issuer", json_string(org));
    if (*name) json_object_set_new(op->input, "name", json_string(name));
    store_submit(c->app->store, op);
}

/* ---- routing ---- */

/* The person's language: ?lang= (which the picker sends, kept in the lang
 * cookie), else the lang cookie, else Accept-Language, else the wire's
 * default. */
static void choose_language(ctx_t *c, const net_params_t *q)
{
    c->lang = web_form_language(c->app, c->req, q, &c->headers);
}

int web_account_route(kawat_app_t *app, net_request_t *req, const kw_str_t *seg, int n,
                      int trailing)
{
    int page = -1;
    kw_str_t tok = KW_STR_NULL;
    if (trailing || n < 1 || n > 2) return 0;
    if (n == 1 && kw_str_eq(seg[0], "login"))
        page = PAGE_LOGIN;
    else if (n == 1 && kw_str_eq(seg[0], "logout"))
        page = PAGE_LOGOUT;
    else if (n == 1 && kw_str_eq(seg[0], "account"))
        page = PAGE_ACCOUNT;
    else if (n == 1 && kw_str_eq(seg[0], "reset"))
        page = PAGE_RESET;
    else if (n == 2 && kw_str_eq(seg[0], "reset"))
        page = PAGE_RESET_TOKEN, tok = seg[1];
    else if (n == 2 && kw_str_eq(seg[0], "invite"))
        page = PAGE_INVITE_TOKEN, tok = seg[1];
    else if (n == 2 && kw_str_eq(seg[0], "admin") && kw_str_eq(seg[1], "invites"))
        page = PAGE_INVITES;
    if (page < 0) return 0;

    int get = req->method == HTTP_GET || req->method == HTTP_HEAD;
    int post = req->method == HTTP_POST;
    if (page == PAGE_LOGOUT && !post) {
        web_form_method_not_allowed(req, "POST");
        return 1;
    }
    if (page == PAGE_ACCOUNT && !get) {
        web_form_method_not_allowed(req, "GET, HEAD");
        return 1;
    }
    if (!get && !post) {
        web_form_method_not_allowed(req, "GET, HEAD, POST");
        return 1;
    }

    ctx_t *c = kw_calloc(1, sizeof(*c));
    c->app = app;
    c->req = req;
    c->page = page;
    c->has_session = web_session_get(app, req, &c->ses) == KW_OK;
    web_form_cookies(req, c->old_session_hash, c->form_cookie);
    net_params_t q = {0};
    char bad[64];
    int have_q = net_query_parse(req->query, &q, bad, sizeof(bad)) == KW_OK;
    choose_language(c, have_q ? &q : NULL);
    if (page == PAGE_LOGIN && have_q) {
        const char *next = net_query_get(&q, "next");
        if (next && next_valid(next)) snprintf(c->next, sizeof(c->next), "%s", next);
    }
    if (have_q) net_query_free(&q);
    if (post) c->have_form = web_form_read(req, &c->form);
    /* Before log-in, a form needs the kawat_csrf cookie its token is made
     * from: give one with the page. */
    if (get && !c->has_session && !c->form_cookie[0]) {
        auth_secret_generate(c->form_cookie);
        add_cookie(c, CSRF_COOKIE, c->form_cookie, 30L * 86400, 1);
    }

    /* Who may open what: /account for anyone logged in, /admin/invites for
     * admins; the rest for anyone (the links are the proof). */
    if ((page == PAGE_ACCOUNT || page == PAGE_INVITES) && !c->has_session) {
        if (post) {
            forbidden_form(c);
            return 1;
        }
        redirect(c, page == PAGE_ACCOUNT ? "/login?next=/account" : "/login?next=/admin/invites");
        return 1;
    }
    if (page == PAGE_INVITES && c->ses.s.who.role != ROLE_ADMIN) {
        message_page(c, 403, MSG_ACCT_INVITES_TITLE, MSG_ACCT_FORBIDDEN, "/account", MSG_ACCT_TITLE,
                     NULL);
        return 1;
    }
    switch (page) {
    case PAGE_LOGIN:
        if (get)
            login_page(c, 200, -1, -1, -1, NULL);
        else
            login_post(c);
        break;
    case PAGE_LOGOUT:
        logout_post(c);
        break;
    case PAGE_ACCOUNT:
        account_get(c);
        break;
    case PAGE_RESET:
        if (get)
            reset_page(c, 200, -1);
        else
            reset_post(c);
        break;
    case PAGE_RESET_TOKEN:
        if (!link_usable(c, "reset", tok)) break;
        if (get)
            new_password_page(c, 200, -1);
        else
            reset_token_post(c);
        break;
    case PAGE_INVITE_TOKEN:
        if (!link_usable(c, "invite", tok)) break;
        if (get)
            invite_accept_page(c, 200, -1, -1);
        else
            invite_token_post(c);
        break;
    case PAGE_INVITES:
        if (get)
            invites_page(c, 200, -1, -1, -1, -1, -1, NULL);
        else
            invites_post(c);
        break;
    }
    return 1;
}
