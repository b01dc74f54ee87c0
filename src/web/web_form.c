/* web_form.c -- the page machinery the form pages share (account, desk,
 * subscriber, sign-up): one place for the shell, CSRF, fields and replies
 * so every page answers with the same markup and the same headers. */
#include "web/web_form.h"
#include "core/core_lang.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LANG_COOKIE "lang"

const char web_form_page_headers[] =
    "Content-Security-Policy: default-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'\r\n"
    "Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n";

void web_form_msg(kw_buf_t *b, kawat_app_t *app, const core_lang_t *l, core_msg_t id)
{
    char *z = core_lang_format(l, id, app->wire_name);
    web_escape(b, z);
    free(z);
}

const char *web_form_get(const net_params_t *form, int have_form, const char *name)
{
    const char *v = have_form ? net_query_get(form, name) : NULL;
    return v ? v : "";
}

int web_form_has(const net_params_t *form, int have_form, const char *name, const char *value)
{
    if (!have_form) return 0;
    for (size_t i = 0; i < form->count; i++)
        if (strcmp(form->items[i].name, name) == 0 && strcmp(form->items[i].value, value) == 0)
            return 1;
    return 0;
}

int web_form_read(net_request_t *req, net_params_t *form)
{
    const kw_str_t *ct = net_request_header(req, "content-type");
    char bad[64];
    return ct && ct->len >= 33 &&
           strncasecmp(ct->data, "application/x-www-form-urlencoded", 33) == 0 &&
           net_query_parse(req->body, form, bad, sizeof(bad)) == KW_OK;
}

const core_lang_t *web_form_language(kawat_app_t *app, net_request_t *req, const net_params_t *q,
                                     kw_buf_t *headers)
{
    const char *want = q ? net_query_get(q, "lang") : NULL;
    const core_lang_t *l = want ? core_lang_find_z(want) : NULL;
    if (l) {
        web_form_cookie(headers, app, LANG_COOKIE, l->tag, 365L * 86400, 0);
    } else {
        char tag[32];
        if (web_cookie_get(req, LANG_COOKIE, tag, sizeof(tag)) == KW_OK) l = core_lang_find_z(tag);
    }
    if (l == NULL) l = web_accept_language(req);
    if (l == NULL) l = core_lang_find_z(app->default_language);
    return l ? l : core_lang_default();
}

const char *web_form_secret_key(kawat_app_t *app)
{
    static char key[80];
    if (!key[0] && store_meta_get(app->store, "account_secret", key, sizeof(key)) != KW_OK) {
        fprintf(stderr, "kawat: the account secret is missing from the store\n");
        abort();
    }
    return key;
}

void web_form_csrf_expected(kawat_app_t *app, const char *session_csrf, const char *form_cookie,
                            char out[AUTH_HEX_SIZE])
{
    out[0] = '\0';
    if (session_csrf) {
        snprintf(out, AUTH_HEX_SIZE, "%s", session_csrf);
    } else if (form_cookie[0]) {
        char msg[AUTH_SECRET_SIZE + 8];
        snprintf(msg, sizeof(msg), "form:%s", form_cookie);
        const char *key = web_form_secret_key(app);
        if (auth_hmac_sha256_hex(key, strlen(key), msg, strlen(msg), out) != KW_OK) out[0] = '\0';
    }
}

int web_form_csrf_ok(const char *want, const char *got)
{
    size_t n = strlen(want);
    return n > 0 && strlen(got) == n && auth_consttime_eq(got, want, n);
}

void web_form_head(kw_buf_t *b, kawat_app_t *app, const core_lang_t *l, const char *title,
                   const char *csrf, const char *script)
{
    kw_buf_printf(
        b,
        "<!DOCTYPE html>\n<html lang=\"%s\" dir=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta name=\"robots\" content=\"noindex\">\n<title>",
        l->tag, l->rtl ? "rtl" : "ltr");
    web_escape(b, title);
    kw_buf_puts(b, " · ");
    web_escape(b, app->wire_name);
    kw_buf_puts(b, "</title>\n");
    if (csrf) {
        /* For the pages' scripts: API calls made with the cookie send it
         * as X-CSRF-Token. */
        kw_buf_puts(b, "<meta name=\"csrf-token\" content=\"");
        web_escape(b, csrf);
        kw_buf_puts(b, "\">\n");
    }
    kw_buf_puts(b, "<link rel=\"stylesheet\" href=\"/static/kawat.css\">\n"
                   "<link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">\n");
    if (script) kw_buf_printf(b, "<script src=\"%s\" defer></script>\n", script);
    kw_buf_puts(b, "</head>\n<body>\n<a class=\"skip\" href=\"#main\">");
    web_form_msg(b, app, l, MSG_SKIP_TO_CONTENT);
    kw_buf_printf(b, "</a>\n<header class=\"site\">\n<a class=\"brand\" href=\"/%s/\">", l->tag);
    web_escape(b, app->wire_name);
    kw_buf_puts(b, "</a>\n");
}

void web_form_language_picker(kw_buf_t *b, kawat_app_t *app, const core_lang_t *l,
                              const net_request_t *req, const char *next)
{
    kw_buf_puts(b, "<form class=\"language-picker\" method=\"get\" action=\"");
    char *path = kw_strndup(req->path.data, req->path.len);
    web_escape(b, path);
    free(path);
    kw_buf_puts(b, "\">");
    if (next) {
        kw_buf_puts(b, "<input type=\"hidden\" name=\"next\" value=\"");
        web_escape(b, next);
        kw_buf_puts(b, "\">");
    }
    kw_buf_puts(b, "<label for=\"language-pick\">");
    web_form_msg(b, app, l, MSG_LANGUAGES);
    kw_buf_puts(b, "</label> <select id=\"language-pick\" name=\"lang\">");
    for (size_t i = 0; i < core_lang_count(); i++) {
        const core_lang_t *o = core_lang_at(i);
        kw_buf_printf(b, "<option value=\"%s\" lang=\"%s\"%s>", o->tag, o->tag,
                      o == l ? " selected" : "");
        web_escape(b, o->native);
        kw_buf_puts(b, "</option>");
    }
    kw_buf_puts(b, "</select> <button type=\"submit\">");
    web_form_msg(b, app, l, MSG_ACCT_CHANGE);
    kw_buf_puts(b, "</button></form>\n");
}

void web_form_main(kw_buf_t *b, const char *title, const char *main_class, const char *h1_attr)
{
    kw_buf_puts(b, "</header>\n<main id=\"main\" tabindex=\"-1\"");
    if (main_class) kw_buf_printf(b, " class=\"%s\"", main_class);
    kw_buf_printf(b, ">\n<h1%s>", h1_attr ? h1_attr : "");
    web_escape(b, title);
    kw_buf_puts(b, "</h1>\n");
}

void web_form_send(net_request_t *req, int status, kw_buf_t *headers, const char *extra,
                   kw_buf_t *body)
{
    kw_buf_puts(body, "</main>\n</body>\n</html>\n");
    kw_buf_puts(headers, web_form_page_headers);
    if (extra) kw_buf_puts(headers, extra);
    net_respond(req, status, "text/html; charset=utf-8", headers->data, body->data, body->len);
    kw_buf_free(body);
    kw_buf_free(headers);
}

void web_form_redirect(net_request_t *req, kw_buf_t *headers, const char *location)
{
    kw_buf_printf(headers, "Location: %s\r\nCache-Control: no-store\r\n", location);
    net_respond(req, 303, "text/plain; charset=utf-8", headers->data, "", 0);
    kw_buf_free(headers);
}

void web_form_login_redirect(net_request_t *req, kw_buf_t *headers, const char *fallback)
{
    /* Back here after log-in; the path is decoded, so only a plain one
     * goes into the Location header (never a CR, LF or '%'). */
    char loc[600];
    int plain = req->path.len < 500;
    for (size_t i = 0; plain && i < req->path.len; i++) {
        unsigned char ch = (unsigned char)req->path.data[i];
        plain = ch > 0x20 && ch < 0x7f && ch != '%' && ch != '\\';
    }
    if (plain)
        snprintf(loc, sizeof(loc), "/login?next=%.*s", (int)req->path.len, req->path.data);
    else
        snprintf(loc, sizeof(loc), "/login?next=%s", fallback);
    web_form_redirect(req, headers, loc);
}

void web_form_method_not_allowed(net_request_t *req, const char *allow)
{
    char headers[160];
    snprintf(headers, sizeof(headers), "Allow: %s\r\nCache-Control: no-store\r\n", allow);
    static const char body[] =
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>405 Method Not Allowed"
        "</title></head>\n<body><h1>405 Method Not Allowed</h1></body></html>\n";
    net_respond(req, 405, "text/html; charset=utf-8", headers, body, sizeof(body) - 1);
}

void web_form_field_open(kw_buf_t *b, kawat_app_t *app, const core_lang_t *l, const char *name,
                         core_msg_t label, const char *type, const char *value, int error)
{
    kw_buf_printf(b, "<p class=\"field%s\"><label for=\"f-%s\">", error >= 0 ? " invalid" : "",
                  name);
    web_form_msg(b, app, l, label);
    kw_buf_printf(b, "</label>\n<input id=\"f-%s\" name=\"%s\" type=\"%s\"", name, name, type);
    if (value && strcmp(type, "password") != 0) {
        kw_buf_puts(b, " value=\"");
        web_escape(b, value);
        kw_buf_puts(b, "\"");
    }
}

void web_form_field_error(kw_buf_t *b, kawat_app_t *app, const core_lang_t *l, const char *name,
                          int error)
{
    if (error < 0) return;
    kw_buf_printf(b, "<span class=\"error\" id=\"%s-error\">", name);
    web_form_msg(b, app, l, (core_msg_t)error);
    kw_buf_puts(b, "</span>\n");
}

json_t *web_form_comma_list(const char *z)
{
    json_t *arr = json_array();
    while (z && *z) {
        const char *end = strchr(z, ',');
        size_t n = end ? (size_t)(end - z) : strlen(z);
        const char *s = z;
        while (n && (*s == ' ' || *s == '\t'))
            s++, n--;
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (n) json_array_append_new(arr, json_stringn(s, n));
        z = end ? end + 1 : NULL;
    }
    return arr;
}

void web_form_cookie(kw_buf_t *headers, kawat_app_t *app, const char *name, const char *value,
                     long max_age, int http_only)
{
    kw_buf_printf(headers, "Set-Cookie: %s=%s; Path=/; Max-Age=%ld;%s SameSite=Lax%s\r\n", name,
                  value, max_age, http_only ? " HttpOnly;" : "",
                  strncmp(app->base_url, "https://", 8) == 0 ? "; Secure" : "");
}

void web_form_cookies(const net_request_t *req, char old_session_hash[AUTH_HEX_SIZE],
                      char form_cookie[AUTH_SECRET_SIZE])
{
    char old[AUTH_SECRET_SIZE + 8];
    old_session_hash[0] = '\0';
    if (web_cookie_get(req, WEB_SESSION_COOKIE, old, sizeof(old)) == KW_OK)
        auth_token_hash(old, strlen(old), old_session_hash);
    if (web_cookie_get(req, WEB_FORM_CSRF_COOKIE, form_cookie, AUTH_SECRET_SIZE) != KW_OK ||
        strlen(form_cookie) != AUTH_SECRET_LEN)
        form_cookie[0] = '\0';
}

int web_form_email_valid(const char *z, char *out, size_t size)
{
    size_t n = strlen(z);
    const char *at = strchr(z, '@');
    if (n < 3 || n > WEB_FORM_EMAIL_MAX || n >= size || at == NULL || at == z ||
        strchr(at + 1, '@') || strchr(at + 1, '.') == NULL || at[1] == '.' || z[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)z[i];
        if (ch <= 0x20 || ch == 0x7f || strchr("<>()[]\\,;:\"", ch)) return 0;
        out[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    out[n] = '\0';
    return 1;
}

size_t web_form_utf8_chars(const char *z)
{
    size_t n = 0;
    for (; *z; z++)
        if (((unsigned char)*z & 0xC0) != 0x80) n++;
    return n;
}
