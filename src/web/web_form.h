/* web_form.h -- the machinery the server-rendered form pages share (the
 * account, desk, subscriber and sign-up pages): the person's language, the
 * page shell with its language picker, the CSRF token of a form, form
 * fields with their errors, reading a posted form, sending a page with the
 * security headers, redirects. */
#ifndef KAWAT_WEB_FORM_H
#define KAWAT_WEB_FORM_H

#include "web/web.h"

/* The cookie a form's CSRF token is made from before log-in. */
#define WEB_FORM_CSRF_COOKIE "kawat_csrf"
/* The longest e-mail address a form takes (RFC 5321's path limit). */
#define WEB_FORM_EMAIL_MAX 254

/* The headers every form page is sent with (CSP, no-store, no referrer). */
extern const char web_form_page_headers[];

/* Appends message id in l, formatted with the wire's name, escaped. */
void web_form_msg(kw_buf_t *b, kawat_app_t *app, const core_lang_t *l, core_msg_t id);

/* The posted value of name, "" when absent or there is no form. */
const char *web_form_get(const net_params_t *form, int have_form, const char *name);
/* Whether the form posted name=value (checkbox groups: one of many). */
int web_form_has(const net_params_t *form, int have_form, const char *name, const char *value);
/* Parses req's body into form when it is application/x-www-form-urlencoded.
 * Returns 1 when parsed (the caller then frees form), 0 otherwise. */
int web_form_read(net_request_t *req, net_params_t *form);

/* The person's language: ?lang= in q (NULL: none; then kept in the lang
 * cookie, a Set-Cookie line appended to headers), else the lang cookie,
 * else Accept-Language, else the wire's default. Never NULL. */
const core_lang_t *web_form_language(kawat_app_t *app, net_request_t *req, const net_params_t *q,
                                     kw_buf_t *headers);

/* The account secret (made by the store's migration, read once): the key
 * of the form and link MACs. Aborts when the store lacks it. */
const char *web_form_secret_key(kawat_app_t *app);
/* The CSRF token forms must carry: session_csrf when there is a session
 * (not NULL), else before log-in an HMAC under the account secret of the
 * kawat_csrf cookie form_cookie; "" when neither exists (no POST passes). */
void web_form_csrf_expected(kawat_app_t *app, const char *session_csrf, const char *form_cookie,
                            char out[AUTH_HEX_SIZE]);
/* Whether got is the non-empty token want (constant time). */
int web_form_csrf_ok(const char *want, const char *got);

/* The page shell, in three parts a page puts its own navigation between.
 * web_form_head: from the doctype to the site's brand link in the header,
 * with the csrf-token meta when csrf is not NULL and a deferred script
 * when script is not NULL. */
void web_form_head(kw_buf_t *b, kawat_app_t *app, const core_lang_t *l, const char *title,
                   const char *csrf, const char *script);
/* The language picker: a GET of the same page with ?lang= (and next, when
 * not NULL, kept as a hidden field). */
void web_form_language_picker(kw_buf_t *b, kawat_app_t *app, const core_lang_t *l,
                              const net_request_t *req, const char *next);
/* Closes the header and opens <main> (with class main_class, if any) and
 * the title's <h1> (with h1_attr, e.g. " dir=\"auto\"", if any). */
void web_form_main(kw_buf_t *b, const char *title, const char *main_class, const char *h1_attr);
/* Ends the page and sends it with status, the form page headers and extra
 * (header lines or NULL) after headers' own lines. Frees body and headers. */
void web_form_send(net_request_t *req, int status, kw_buf_t *headers, const char *extra,
                   kw_buf_t *body);
/* A 303 to location (a path of this site) after headers' lines; frees
 * headers. */
void web_form_redirect(net_request_t *req, kw_buf_t *headers, const char *location);
/* A 303 to /login?next= the request's path, or fallback when the path is
 * not plain enough for a Location header (a CR, LF, '%', '\\' or space, or
 * too long). Frees headers. */
void web_form_login_redirect(net_request_t *req, kw_buf_t *headers, const char *fallback);
/* 405 with the Allow header and a small HTML page. */
void web_form_method_not_allowed(net_request_t *req, const char *allow);

/* A labelled input, up to the end of its attributes the caller may add
 * to: <p class="field[ invalid]"><label ...>label</label> and
 * <input id="f-name" name="name" type="type" value="value" -- the value
 * typed is kept, never for passwords. error is a message id or -1. */
void web_form_field_open(kw_buf_t *b, kawat_app_t *app, const core_lang_t *l, const char *name,
                         core_msg_t label, const char *type, const char *value, int error);
/* The error said next to field name (nothing when error is -1). */
void web_form_field_error(kw_buf_t *b, kawat_app_t *app, const core_lang_t *l, const char *name,
                          int error);

/* Appends a Set-Cookie line for name=value to headers: Path=/, SameSite=Lax,
 * HttpOnly when http_only, Secure when the base URL is https. */
void web_form_cookie(kw_buf_t *headers, kawat_app_t *app, const char *name, const char *value,
                     long max_age, int http_only);
/* The request's cookies a form page needs: the SHA-256 of any session
 * cookie sent (old_session_hash, "" if none: a log-in discards it) and the
 * kawat_csrf cookie (form_cookie, "" if absent or malformed). */
void web_form_cookies(const net_request_t *req, char old_session_hash[AUTH_HEX_SIZE],
                      char form_cookie[AUTH_SECRET_SIZE]);

/* Whether z is a plausible e-mail address (one '@', a dot in the domain,
 * at most WEB_FORM_EMAIL_MAX bytes, no spaces, controls or markup); copies
 * it in lower case to out (size bytes). */
int web_form_email_valid(const char *z, char *out, size_t size);
/* Number of characters (code points) of a valid UTF-8 string. */
size_t web_form_utf8_chars(const char *z);

/* "a, b ,c" as a JSON array of the trimmed non-empty items (new ref). */
json_t *web_form_comma_list(const char *z);

#endif
