/* web_signup.c -- the journalists' e-mail alert pages: /signup (the form,
 * GET and POST), /confirm?token= (the double opt-in link) and
 * /unsubscribe?token= (GET asks, POST -- also the one-click POST of RFC
 * 8058 from a mail client -- unsubscribes at once).
 *
 * The pages are in the reader's language: the form's ?lang= (or its hidden
 * field), else Accept-Language, else the wire's default; confirmation and
 * unsubscription pages in the recipient's mail language. A link that is
 * malformed or forged is a 400 page, an expired one a 410, one for
 * something that no longer exists a 404; never a hint of whose it is. */
#include "core/core_sector.h"
#include "deliver/mail.h"
#include "net/net_query.h"
#include "web/web_form.h"

#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char page_headers[] =
    "Cache-Control: no-store\r\n"
    "Content-Security-Policy: default-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'\r\n"
    "Referrer-Policy: no-referrer\r\n";
static const char html_type[] = "text/html; charset=utf-8";

static void msg(kw_buf_t *b, kawat_app_t *app, const core_lang_t *l, core_msg_t m)
{
    web_form_msg(b, app, l, m);
}

static void msg_email(kw_buf_t *b, kawat_app_t *app, const core_lang_t *l, core_msg_t m,
                      const char *email)
{
    const char *vars[] = {"wire", app->wire_name, "email", email, NULL};
    char *z = core_lang_format_vars(l, m, vars);
    web_escape(b, z);
    free(z);
}

static void page_open(kw_buf_t *b, kawat_app_t *app, const core_lang_t *l, core_msg_t title)
{
    kw_buf_printf(
        b,
        "<!DOCTYPE html>\n<html lang=\"%s\" dir=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta name=\"robots\" content=\"noindex\">\n<title>",
        l->tag, l->rtl ? "rtl" : "ltr");
    msg(b, app, l, title);
    kw_buf_puts(b, " · ");
    web_escape(b, app->wire_name);
    kw_buf_printf(
        b,
        "</title>\n<link rel=\"stylesheet\" href=\"/static/kawat.css\">\n</head>\n<body>\n"
        "<header class=\"site\"><a class=\"brand\" href=\"/%s/\">",
        l->tag);
    web_escape(b, app->wire_name);
    kw_buf_puts(b, "</a></header>\n<main id=\"main\">\n<h1>");
    msg(b, app, l, title);
    kw_buf_puts(b, "</h1>\n");
}

static void page_send(net_request_t *req, int status, kw_buf_t *b)
{
    kw_buf_puts(b, "</main>\n</body>\n</html>\n");
    net_respond(req, status, html_type, page_headers, b->data, b->len);
    kw_buf_free(b);
}

/* A page with one message (and the address it concerns, if any). */
static void page_message(kawat_app_t *app, net_request_t *req, const core_lang_t *l, int status,
                         core_msg_t title, core_msg_t text, const char *email)
{
    kw_buf_t b = {0};
    page_open(&b, app, l, title);
    kw_buf_printf(&b, "<p class=\"%s\">", status >= 400 ? "error" : "notice");
    msg_email(&b, app, l, text, email ? email : "");
    kw_buf_puts(&b, "</p>\n");
    page_send(req, status, &b);
}

/* The reader's language: ?lang= / the form's lang, Accept-Language, the
 * wire's default. */
static const core_lang_t *ui_lang(kawat_app_t *app, net_request_t *req, const char *asked)
{
    const core_lang_t *l = asked ? core_lang_find_z(asked) : NULL;
    if (l == NULL) l = web_accept_language(req);
    if (l == NULL) l = core_lang_find_z(app->default_language);
    return l ? l : core_lang_default();
}

/* ---- /signup ---- */

typedef struct {
    const char *email, *name, *language, *timing, *regions, *keywords;
    const net_params_t *params; /* for the checked boxes */
    const char *err_email, *err_name, *err_language, *err_timing, *err_beats, *err_regions,
        *err_keywords;
    char detail[200];
} form_t;

static int checked(const form_t *f, const char *name, const char *value)
{
    return web_form_has(f->params, f->params != NULL, name, value);
}

static void field_error(kw_buf_t *b, const char *id, const char *err)
{
    if (err == NULL) return;
    kw_buf_printf(b, "<p class=\"error\" id=\"%s-error\">", id);
    web_escape(b, err);
    kw_buf_puts(b, "</p>\n");
}

static void text_input(kw_buf_t *b, kawat_app_t *app, const core_lang_t *l, const char *id,
                       const char *type, core_msg_t label, const char *value, const char *err,
                       const char *extra)
{
    kw_buf_printf(b, "<p><label for=\"%s\">", id);
    msg(b, app, l, label);
    kw_buf_printf(b, "</label><br><input id=\"%s\" name=\"%s\" type=\"%s\" value=\"", id, id, type);
    web_escape(b, value ? value : "");
    kw_buf_printf(b, "\"%s", extra ? extra : "");
    if (err) kw_buf_printf(b, " aria-invalid=\"true\" aria-describedby=\"%s-error\"", id);
    kw_buf_puts(b, "></p>\n");
    field_error(b, id, err);
}

static void signup_form(kawat_app_t *app, net_request_t *req, const core_lang_t *l, int status,
                        const form_t *f)
{
    kw_buf_t b = {0};
    page_open(&b, app, l, MSG_SIGNUP_TITLE);
    kw_buf_puts(&b, "<p>");
    msg(&b, app, l, MSG_SIGNUP_INTRO);
    kw_buf_puts(&b, "</p>\n");
    if (f->detail[0]) {
        kw_buf_puts(&b, "<p class=\"error\" role=\"alert\">");
        web_escape(&b, f->detail);
        kw_buf_puts(&b, "</p>\n");
    }
    kw_buf_printf(&b,
                  "<form method=\"post\" action=\"/signup\" accept-charset=\"utf-8\">\n"
                  "<input type=\"hidden\" name=\"lang\" value=\"%s\">\n",
                  l->tag);
    text_input(&b, app, l, "email", "email", MSG_SIGNUP_EMAIL, f->email, f->err_email,
               " required autocomplete=\"email\"");
    text_input(&b, app, l, "name", "text", MSG_SIGNUP_NAME, f->name, f->err_name,
               " autocomplete=\"name\" maxlength=\"200\"");

    kw_buf_puts(&b, "<p><label for=\"language\">");
    msg(&b, app, l, MSG_SIGNUP_LANGUAGE);
    kw_buf_puts(&b, "</label><br><select id=\"language\" name=\"language\">");
    const char *mail_lang = f->language ? f->language : l->tag;
    for (size_t i = 0; i < core_lang_count(); i++) {
        const core_lang_t *x = core_lang_at(i);
        kw_buf_printf(&b, "<option value=\"%s\" lang=\"%s\"%s>", x->tag, x->tag,
                      strcmp(x->tag, mail_lang) == 0 ? " selected" : "");
        web_escape(&b, x->native);
        kw_buf_puts(&b, "</option>");
    }
    kw_buf_puts(&b, "</select></p>\n");
    field_error(&b, "language", f->err_language);

    kw_buf_puts(&b, "<fieldset><legend>");
    msg(&b, app, l, MSG_SIGNUP_BEATS);
    kw_buf_puts(&b, "</legend>\n");
    field_error(&b, "beats", f->err_beats);
    kw_buf_puts(&b, "<fieldset><legend>");
    msg(&b, app, l, MSG_SIGNUP_RELEASE_LANGUAGES);
    kw_buf_puts(&b, "</legend>");
    for (size_t i = 0; i < core_lang_count(); i++) {
        const core_lang_t *x = core_lang_at(i);
        kw_buf_printf(&b,
                      "<label lang=\"%s\"><input type=\"checkbox\" name=\"release_language\" "
                      "value=\"%s\"%s> ",
                      x->tag, x->tag, checked(f, "release_language", x->tag) ? " checked" : "");
        web_escape(&b, x->native);
        kw_buf_puts(&b, "</label> ");
    }
    kw_buf_puts(&b, "</fieldset>\n<fieldset><legend>");
    msg(&b, app, l, MSG_SECTORS);
    kw_buf_puts(&b, "</legend>");
    json_t *sectors = store_sectors(app->store);
    size_t i;
    json_t *v;
    json_array_foreach(sectors, i, v)
    {
        const char *slug = json_string_value(json_object_get(v, "slug"));
        if (slug == NULL) continue;
        const char *name = core_sector_name(slug, l);
        kw_buf_puts(&b, "<label><input type=\"checkbox\" name=\"sector\" value=\"");
        web_escape(&b, slug);
        kw_buf_printf(&b, "\"%s> ", checked(f, "sector", slug) ? " checked" : "");
        web_escape(&b, name ? name : json_string_value(json_object_get(v, "name")));
        kw_buf_puts(&b, "</label> ");
    }
    json_decref(sectors);
    kw_buf_puts(&b, "</fieldset>\n");
    text_input(&b, app, l, "regions", "text", MSG_SIGNUP_REGIONS, f->regions, f->err_regions, NULL);
    text_input(&b, app, l, "keywords", "text", MSG_SIGNUP_KEYWORDS, f->keywords, f->err_keywords,
               NULL);
    kw_buf_puts(&b, "</fieldset>\n<fieldset><legend>");
    msg(&b, app, l, MSG_SIGNUP_TIMING);
    kw_buf_puts(&b, "</legend>\n");
    static const struct {
        const char *value;
        core_msg_t label;
    } timings[] = {{"immediate", MSG_SIGNUP_IMMEDIATE},
                   {"hourly", MSG_SIGNUP_HOURLY},
                   {"daily", MSG_SIGNUP_DAILY}};
    const char *timing = f->timing ? f->timing : "immediate";
    for (size_t k = 0; k < KW_ARRAY_SIZE(timings); k++) {
        kw_buf_printf(&b, "<label><input type=\"radio\" name=\"timing\" value=\"%s\"%s> ",
                      timings[k].value, strcmp(timing, timings[k].value) == 0 ? " checked" : "");
        msg(&b, app, l, timings[k].label);
        kw_buf_puts(&b, "</label><br>\n");
    }
    field_error(&b, "timing", f->err_timing);
    kw_buf_puts(&b, "</fieldset>\n<p><button type=\"submit\">");
    msg(&b, app, l, MSG_SIGNUP_SUBMIT);
    kw_buf_puts(&b, "</button></p>\n</form>\n");
    page_send(req, status, &b);
}

typedef struct {
    net_request_t *req;
    const core_lang_t *lang;
    char email[STORE_SUBSCRIBER_EMAIL_MAX + 1];
} pending_t;

static void on_form_signed_up(store_op_t *op)
{
    pending_t *p = op->arg;
    kawat_app_t *app = p->req->user;
    if (op->rc == KW_OK) {
        api_after_write(app, op);
        page_message(app, p->req, p->lang, 202, MSG_SIGNUP_TITLE, MSG_SIGNUP_CHECK_MAIL, p->email);
    } else if (op->rc == KW_CONFLICT) {
        page_message(app, p->req, p->lang, 429, MSG_SIGNUP_TITLE, MSG_SIGNUP_TOO_MANY, NULL);
    } else {
        web_error(app, p->req, p->lang, 503);
    }
    store_op_free(op);
    free(p);
}

static void signup_post(kawat_app_t *app, net_request_t *req)
{
    const kw_str_t *ct = net_request_header(req, "content-type");
    if (ct == NULL || ct->len < 33 ||
        strncasecmp(ct->data, "application/x-www-form-urlencoded", 33) != 0) {
        web_error(app, req, NULL, 415);
        return;
    }
    net_params_t params = {0};
    char bad[64];
    if (net_query_parse(req->body, &params, bad, sizeof(bad)) != KW_OK) {
        web_error(app, req, NULL, 400);
        return;
    }
    const core_lang_t *l = ui_lang(app, req, net_query_get(&params, "lang"));
    form_t f = {.params = &params};
    f.email = net_query_get(&params, "email");
    f.name = net_query_get(&params, "name");
    f.language = net_query_get(&params, "language");
    f.timing = net_query_get(&params, "timing");
    f.regions = net_query_get(&params, "regions");
    f.keywords = net_query_get(&params, "keywords");
    if (!mail_enabled(app)) {
        page_message(app, req, l, 503, MSG_SIGNUP_TITLE, MSG_UNAVAILABLE, NULL);
        net_query_free(&params);
        return;
    }

    /* The form as the API's JSON: one beat of the boxes and lists. */
    json_t *beat = json_object(), *langs = json_array(), *secs = json_array();
    for (size_t i = 0; i < params.count; i++) {
        if (strcmp(params.items[i].name, "release_language") == 0)
            json_array_append_new(langs, json_string(params.items[i].value));
        else if (strcmp(params.items[i].name, "sector") == 0)
            json_array_append_new(secs, json_string(params.items[i].value));
    }
    json_object_set_new(beat, "languages", langs);
    json_object_set_new(beat, "sectors", secs);
    json_object_set_new(beat, "regions", web_form_comma_list(f.regions));
    json_object_set_new(beat, "keywords", web_form_comma_list(f.keywords));
    json_t *in = json_pack("{s:s, s:s, s:s, s:[o]}", "email", f.email ? f.email : "", "language",
                           f.language ? f.language : l->tag, "timing",
                           f.timing ? f.timing : "immediate", "beats", beat);
    if (f.name && *f.name) json_object_set_new(in, "name", json_string(f.name));
    core_errors_t errs = {0};
    json_t *input = api_signup_input(app, in, &errs);
    json_decref(in);
    if (input == NULL) {
        char *generic = core_lang_format(l, MSG_SIGNUP_INVALID, app->wire_name);
        char *bad_email = core_lang_format(l, MSG_SIGNUP_BAD_EMAIL, app->wire_name);
        char details[16][256];
        for (size_t i = 0; i < errs.count && i < 16; i++) {
            const char *field = errs.items[i].field;
            snprintf(details[i], sizeof(details[i]), "%s (%s)", generic, errs.items[i].detail);
            const char **slot = strcmp(field, "email") == 0      ? &f.err_email
                                : strcmp(field, "name") == 0     ? &f.err_name
                                : strcmp(field, "language") == 0 ? &f.err_language
                                : strcmp(field, "timing") == 0   ? &f.err_timing
                                : strstr(field, ".regions")      ? &f.err_regions
                                : strstr(field, ".keywords")     ? &f.err_keywords
                                                                 : &f.err_beats;
            if (*slot == NULL) *slot = slot == &f.err_email ? bad_email : details[i];
        }
        signup_form(app, req, l, 422, &f);
        free(generic);
        free(bad_email);
        net_query_free(&params);
        return;
    }
    if (!api_signup_rate_ok(req->remote_addr)) {
        json_decref(input);
        page_message(app, req, l, 429, MSG_SIGNUP_TITLE, MSG_SIGNUP_TOO_MANY, NULL);
        net_query_free(&params);
        return;
    }
    pending_t *p = kw_calloc(1, sizeof(*p));
    p->req = req;
    p->lang = l;
    snprintf(p->email, sizeof(p->email), "%s", json_string_value(json_object_get(input, "email")));
    net_query_free(&params);
    req->user = app;
    api_signup_submit(app, input, req->remote_addr, on_form_signed_up, p);
}

/* ---- /confirm and /unsubscribe ---- */

/* The token of ?token= (exactly one parameter), NULL if absent. */
static char *query_token(net_request_t *req)
{
    net_params_t params = {0};
    char bad[64];
    char *token = NULL;
    if (net_query_parse(req->query, &params, bad, sizeof(bad)) == KW_OK && params.count == 1 &&
        strcmp(params.items[0].name, "token") == 0)
        token = kw_strdup(params.items[0].value);
    net_query_free(&params);
    return token;
}

/* Answers a token that did not check (rc of mail_token_check). */
static void bad_link(kawat_app_t *app, net_request_t *req, int rc, core_msg_t title)
{
    page_message(app, req, ui_lang(app, req, NULL), rc == KW_GONE ? 410 : 400, title,
                 MSG_LINK_INVALID, NULL);
}

static void on_confirmed(store_op_t *op)
{
    net_request_t *req = op->arg;
    kawat_app_t *app = req->user;
    if (op->rc == KW_OK) {
        api_after_write(app, op); /* the engine takes the recipient on */
        const core_lang_t *l =
            ui_lang(app, req, json_string_value(json_object_get(op->output, "language")));
        page_message(app, req, l, 200, MSG_SIGNUP_TITLE, MSG_CONFIRM_DONE,
                     json_string_value(json_object_get(op->output, "email")));
    } else if (op->rc == KW_NOTFOUND || op->rc == KW_GONE) {
        page_message(app, req, ui_lang(app, req, NULL), op->rc == KW_GONE ? 410 : 404,
                     MSG_SIGNUP_TITLE, MSG_LINK_INVALID, NULL);
    } else {
        web_error(app, req, NULL, 503);
    }
    store_op_free(op);
}

static void confirm_get(kawat_app_t *app, net_request_t *req)
{
    char *token = query_token(req);
    char id[32];
    int rc = mail_token_check(app, 'c', token, id, sizeof(id));
    free(token);
    if (rc != KW_OK) {
        bad_link(app, req, rc, MSG_SIGNUP_TITLE);
        return;
    }
    store_op_t *op = store_op_new(STORE_OP_MAIL_CONFIRM, on_confirmed, req);
    op->input = json_pack("{s:s}", "signup", id);
    req->user = app;
    store_submit(app->store, op);
}

static void on_unsubscribed(store_op_t *op)
{
    net_request_t *req = op->arg;
    kawat_app_t *app = req->user;
    const char *sid = json_string_value(json_object_get(op->input, "subscriber"));
    if (op->rc == KW_OK) {
        api_after_write(app, op);
        store_mail_recipient_t *r = NULL;
        store_mail_recipient_get(app->store, sid, &r);
        page_message(app, req, ui_lang(app, req, r ? r->language : NULL), 200, MSG_MAIL_UNSUBSCRIBE,
                     MSG_UNSUB_DONE, json_string_value(json_object_get(op->output, "email")));
        store_mail_recipient_free(r);
    } else if (op->rc == KW_NOTFOUND) {
        page_message(app, req, ui_lang(app, req, NULL), 404, MSG_MAIL_UNSUBSCRIBE, MSG_LINK_INVALID,
                     NULL);
    } else {
        web_error(app, req, NULL, 503);
    }
    store_op_free(op);
}

static void unsubscribe(kawat_app_t *app, net_request_t *req)
{
    char *token = query_token(req);
    char id[32];
    int rc = mail_token_check(app, 'u', token, id, sizeof(id));
    if (rc != KW_OK) {
        free(token);
        bad_link(app, req, rc, MSG_MAIL_UNSUBSCRIBE);
        return;
    }
    if (req->method == HTTP_POST) {
        /* RFC 8058: the body is "List-Unsubscribe=One-Click"; the signed
         * link alone decides, so the page's own button posts the same. */
        free(token);
        store_op_t *op = store_op_new(STORE_OP_MAIL_UNSUBSCRIBE, on_unsubscribed, req);
        op->input = json_pack("{s:s}", "subscriber", id);
        req->user = app;
        store_submit(app->store, op);
        return;
    }
    store_mail_recipient_t *r = NULL;
    if (store_mail_recipient_get(app->store, id, &r) != KW_OK) {
        free(token);
        page_message(app, req, ui_lang(app, req, NULL), 404, MSG_MAIL_UNSUBSCRIBE, MSG_LINK_INVALID,
                     NULL);
        return;
    }
    const core_lang_t *l = ui_lang(app, req, r->language);
    kw_buf_t b = {0};
    page_open(&b, app, l, MSG_MAIL_UNSUBSCRIBE);
    kw_buf_puts(&b, "<p>");
    msg_email(&b, app, l, strcmp(r->state, "active") == 0 ? MSG_UNSUB_QUESTION : MSG_UNSUB_DONE,
              r->email);
    kw_buf_puts(&b, "</p>\n");
    if (strcmp(r->state, "active") == 0) {
        kw_buf_puts(&b, "<form method=\"post\" action=\"/unsubscribe?token=");
        web_escape(&b, token);
        kw_buf_puts(&b, "\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">"
                        "<button type=\"submit\">");
        msg(&b, app, l, MSG_MAIL_UNSUBSCRIBE);
        kw_buf_puts(&b, "</button></form>\n");
    }
    store_mail_recipient_free(r);
    free(token);
    page_send(req, 200, &b);
}

int web_signup_route(kawat_app_t *app, net_request_t *req, const kw_str_t *seg, int n, int trailing)
{
    if (n != 1 || trailing) return 0;
    int get = req->method == HTTP_GET || req->method == HTTP_HEAD;
    int post = req->method == HTTP_POST;
    if (kw_str_eq(seg[0], "signup")) {
        if (post) {
            signup_post(app, req);
        } else if (get) {
            net_params_t params = {0};
            char bad[64];
            net_query_parse(req->query, &params, bad, sizeof(bad));
            const core_lang_t *l = ui_lang(app, req, net_query_get(&params, "lang"));
            net_query_free(&params);
            form_t f = {0};
            signup_form(app, req, l, mail_enabled(app) ? 200 : 503, &f);
        } else {
            web_form_method_not_allowed(req, "GET, HEAD, POST");
        }
        return 1;
    }
    if (kw_str_eq(seg[0], "confirm")) {
        if (get)
            confirm_get(app, req);
        else
            web_form_method_not_allowed(req, "GET, HEAD");
        return 1;
    }
    if (kw_str_eq(seg[0], "unsubscribe")) {
        if (get || post)
            unsubscribe(app, req);
        else
            web_form_method_not_allowed(req, "GET, HEAD, POST");
        return 1;
    }
    return 0;
}
