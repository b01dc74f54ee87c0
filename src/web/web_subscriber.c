/* web_subscriber.c -- subscriber self-service in the browser (/me/...): a
 * journalist, desktop user or outlet signs up, sets beats with a preview of
 * the recent releases they match, chooses e-mail timing, opens a personal
 * live page and the feeds nearest to its beats; an outlet manages its
 * webhook endpoints and reads their delivery log.
 *
 * Design note: who a person is here.
 * Every subscriber already has a user of role subscriber (store.h). A
 * person who signs up at /me/signup gets that user with the e-mail
 * address and a password, logs in like everyone else (/login, sessions
 * and CSRF of web_account.c), and the session's principal carries the
 * subscriber id. Journalists who confirmed e-mail alerts at /signup have
 * the confirmed address on their user and get a password through /reset.
 * So one person is one subscriber, and every /me/ page acts for
 * who.subscriber_id only: the store ops check the owner again.
 * - Roles: every /me/ page but /me/signup needs a session of role
 *   subscriber with a subscriber (no session: 303 to /login for a GET,
 *   403 for a POST; another role: 403). The endpoint pages also need the
 *   kind outlet, /me/timing the kind journalist.
 * - CSRF: every form posts the session's token ("csrf"); /me/signup,
 *   before log-in, the HMAC of the kawat_csrf cookie as web_account.c
 *   makes it. A POST without the right token changes nothing (403).
 * - Beats: the subscriber's filters. [{}] (everything) is what a new
 *   subscriber has; the first beat replaces it, removing the last one
 *   brings it back. A preview runs match_filter_matches over the newest
 *   PREVIEW_SCAN public releases, on the loop (one store read, no write).
 * - E-mail timing lives on the recipient row of a confirmed address
 *   (mail_recipients), where the mail engine reads it. */
#include "web/web_form.h"
#include "core/core_lang.h"
#include "core/core_sector.h"
#include "core/core_time.h"
#include "deliver/webhook.h"
#include "match/match.h"

#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PREVIEW_SCAN 100 /* newest public releases a preview looks at */
#define PREVIEW_SHOW 10  /* matches it lists */
#define FEEDS_SHOW 12    /* feed links on /me/ */
#define DELIVERIES_SHOW 50
#define PASSWORD_MIN_CHARS 12
#define PASSWORD_MAX_BYTES 1024
#define HASH_JOBS_MAX 8
#define CSRF_COOKIE WEB_FORM_CSRF_COOKIE

enum {
    PAGE_HOME,      /* /me/ */
    PAGE_SIGNUP,    /* /me/signup */
    PAGE_BEATS,     /* /me/beats (POST) */
    PAGE_BEAT_DEL,  /* /me/beats/remove (POST) */
    PAGE_TIMING,    /* /me/timing (POST) */
    PAGE_LIVE,      /* /me/live */
    PAGE_ENDPOINTS, /* /me/endpoints */
    PAGE_ENDPOINT   /* /me/endpoints/{id} */
};

/* One request to a /me/ page, kept across the thread pool and the store. */
typedef struct {
    kawat_app_t *app;
    net_request_t *req;
    const core_lang_t *lang;
    int page;
    int has_session;
    web_session_t ses;
    store_subscriber_t *sub; /* the session's subscriber (owned) */
    char form_cookie[AUTH_SECRET_SIZE];
    char old_session_hash[AUTH_HEX_SIZE];
    kw_buf_t headers;
    net_params_t form;
    int have_form;
    char endpoint_id[32];
    /* sign-up */
    uv_work_t work;
    char *password;
    char encoded[AUTH_PASSWORD_HASH_SIZE];
    int hashed;
    char session_secret[AUTH_SECRET_SIZE];
    char session_csrf[AUTH_SECRET_SIZE];
    char webhook_secret[WEBHOOK_SECRET_SIZE];
} ctx_t;

/* What a form said wrong, field by field (-1: nothing). */
typedef struct {
    int name, email, password, kind;
    int languages, sectors, regions, keywords;
    int url, format;
} errs_t;

static const errs_t no_errs = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1};

static int hash_jobs;

/* ---- small helpers ---- */

static void put_msg(kw_buf_t *b, ctx_t *c, core_msg_t id)
{
    web_form_msg(b, c->app, c->lang, id);
}

static const char *form_get(ctx_t *c, const char *name)
{
    return web_form_get(&c->form, c->have_form, name);
}

static int form_has(ctx_t *c, const char *name, const char *value)
{
    return web_form_has(&c->form, c->have_form, name, value);
}

static void add_cookie(ctx_t *c, const char *name, const char *value, long max_age)
{
    web_form_cookie(&c->headers, c->app, name, value, max_age, 1);
}

/* The session's token, or before log-in the HMAC of the kawat_csrf
 * cookie as web_account.c makes it: the same cookie serves both. */
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

static int is_everything(const json_t *filters)
{
    return json_array_size(filters) == 1 && json_object_size(json_array_get(filters, 0)) == 0;
}

static void free_ctx(ctx_t *c)
{
    kw_buf_free(&c->headers);
    if (c->have_form) net_query_free(&c->form);
    if (c->password) {
        explicit_bzero(c->password, strlen(c->password));
        free(c->password);
    }
    explicit_bzero(c->webhook_secret, sizeof(c->webhook_secret));
    store_subscriber_free(c->sub);
    free(c);
}

/* ---- the page shell ---- */

static void page_start(ctx_t *c, kw_buf_t *b, const char *title)
{
    web_form_head(b, c->app, c->lang, title, NULL, NULL);
    web_form_language_picker(b, c->app, c->lang, c->req, NULL);
    if (c->sub) {
        kw_buf_puts(b, "<nav class=\"account\"><a href=\"/me/\">");
        put_msg(b, c, MSG_ME_TITLE);
        kw_buf_puts(b, "</a> <a href=\"/me/live\">");
        put_msg(b, c, MSG_ME_LIVE);
        kw_buf_puts(b, "</a>");
        if (strcmp(c->sub->kind, "outlet") == 0) {
            kw_buf_puts(b, " <a href=\"/me/endpoints\">");
            put_msg(b, c, MSG_ME_ENDPOINTS);
            kw_buf_puts(b, "</a>");
        }
        kw_buf_puts(b, " <a href=\"/account\"><bdi>");
        web_escape(b, c->ses.s.who.name);
        kw_buf_puts(b, "</bdi></a></nav>\n");
    }
    web_form_main(b, title, NULL, NULL);
}

static void page_send(ctx_t *c, kw_buf_t *b, int status)
{
    web_form_send(c->req, status, &c->headers, NULL, b);
    free_ctx(c);
}

static void message_page(ctx_t *c, int status, core_msg_t title, core_msg_t text)
{
    kw_buf_t b = {0};
    char *t = core_lang_format(c->lang, title, c->app->wire_name);
    page_start(c, &b, t);
    free(t);
    kw_buf_printf(&b, "<p class=\"%s\" role=\"%s\">", status >= 400 ? "alert" : "notice",
                  status >= 400 ? "alert" : "status");
    put_msg(&b, c, text);
    kw_buf_puts(&b, "</p>\n");
    page_send(c, &b, status);
}

static void redirect(ctx_t *c, const char *location)
{
    web_form_redirect(c->req, &c->headers, location);
    free_ctx(c);
}

static void form_open(ctx_t *c, kw_buf_t *b, const char *action, const char *cls)
{
    char csrf[AUTH_HEX_SIZE];
    csrf_expected(c, csrf);
    kw_buf_puts(b, "<form method=\"post\" action=\"");
    web_escape(b, action);
    kw_buf_printf(b, "\"%s%s%s novalidate>\n<input type=\"hidden\" name=\"csrf\" value=\"",
                  cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
    web_escape(b, csrf);
    kw_buf_puts(b, "\">\n");
}

/* A labelled text input; error (a message id, or -1) is said next to it,
 * and the value typed is kept (never for passwords). */
static void field(ctx_t *c, kw_buf_t *b, const char *name, core_msg_t label, const char *type,
                  const char *value, const char *extra, int error)
{
    web_form_field_open(b, c->app, c->lang, name, label, type, value, error);
    if (extra) kw_buf_puts(b, extra);
    if (error >= 0) kw_buf_printf(b, " aria-invalid=\"true\" aria-describedby=\"%s-error\"", name);
    kw_buf_puts(b, ">\n");
    web_form_field_error(b, c->app, c->lang, name, error);
    kw_buf_puts(b, "</p>\n");
}

static void group_error(ctx_t *c, kw_buf_t *b, const char *name, int error)
{
    if (error < 0) return;
    kw_buf_printf(b, "<p class=\"error\" id=\"%s-error\">", name);
    put_msg(b, c, (core_msg_t)error);
    kw_buf_puts(b, "</p>\n");
}

static void button(ctx_t *c, kw_buf_t *b, const char *name, const char *value, core_msg_t label)
{
    kw_buf_puts(b, "<button type=\"submit\"");
    if (name) kw_buf_printf(b, " name=\"%s\" value=\"%s\"", name, value);
    kw_buf_puts(b, ">");
    put_msg(b, c, label);
    kw_buf_puts(b, "</button>");
}

/* ---- beats ---- */

/* A beat as one line of text: "Languages: en, id · Sectors: ..." */
static void beat_text(ctx_t *c, kw_buf_t *b, const json_t *f)
{
    static const struct {
        const char *key;
        core_msg_t label;
    } parts[] = {{"languages", MSG_LANGUAGES},
                 {"sectors", MSG_SECTORS},
                 {"regions", MSG_REGION},
                 {"keywords", MSG_SIGNUP_KEYWORDS}};
    if (json_object_size(f) == 0) {
        put_msg(b, c, MSG_ME_EVERYTHING);
        return;
    }
    int first = 1;
    for (size_t p = 0; p < KW_ARRAY_SIZE(parts); p++) {
        json_t *arr = json_object_get(f, parts[p].key);
        if (json_array_size(arr) == 0) continue;
        if (!first) kw_buf_puts(b, " · ");
        first = 0;
        kw_buf_puts(b, "<span class=\"label\">");
        put_msg(b, c, parts[p].label);
        kw_buf_puts(b, "</span>");
        kw_buf_puts(b, core_lang_label_separator(c->lang));
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
        {
            const char *z = json_string_value(v);
            if (!z) continue;
            if (i) kw_buf_puts(b, core_lang_list_separator(c->lang));
            const char *shown = z;
            if (p == 0) {
                const core_lang_t *x = core_lang_find_z(z);
                if (x) shown = x->native;
            } else if (p == 1) {
                const char *n = core_sector_name(z, c->lang);
                if (n) shown = n;
            }
            kw_buf_puts(b, "<bdi>");
            web_escape(b, shown);
            kw_buf_puts(b, "</bdi>");
        }
    }
    if (first) put_msg(b, c, MSG_ME_EVERYTHING); /* issuers only: not shown here */
}

/* The beat typed in the form as a canonical filter object, or NULL with
 * the fields in error marked in e. */
static json_t *beat_from_form(ctx_t *c, errs_t *e)
{
    json_t *in = json_object(), *langs = json_array(), *secs = json_array();
    for (size_t i = 0; c->have_form && i < c->form.count; i++) {
        if (strcmp(c->form.items[i].name, "language") == 0)
            json_array_append_new(langs, json_string(c->form.items[i].value));
        else if (strcmp(c->form.items[i].name, "sector") == 0)
            json_array_append_new(secs, json_string(c->form.items[i].value));
    }
    json_t *regions = web_form_comma_list(form_get(c, "regions"));
    json_t *keywords = web_form_comma_list(form_get(c, "keywords"));
    /* Region codes are upper case; people type "id". */
    size_t i;
    json_t *v;
    json_array_foreach(regions, i, v)
    {
        char *z = kw_strdup(json_string_value(v));
        for (char *p = z; *p; p++)
            if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 32);
        json_array_set_new(regions, i, json_string(z));
        free(z);
    }
    if (json_array_size(langs)) json_object_set(in, "languages", langs);
    if (json_array_size(secs)) json_object_set(in, "sectors", secs);
    if (json_array_size(regions)) json_object_set(in, "regions", regions);
    if (json_array_size(keywords)) json_object_set(in, "keywords", keywords);
    json_decref(langs);
    json_decref(secs);
    json_decref(regions);
    json_decref(keywords);

    core_errors_t errs = {0};
    match_filter_t f;
    match_filter_init(&f);
    json_t *out = NULL;
    if (json_object_size(in) == 0) {
        e->languages = MSG_ACCT_REQUIRED; /* a beat names something */
    } else if (match_filter_parse_json(&f, in, "", store_sector_resolve, c->app->store, &errs) ==
               KW_OK) {
        out = match_filter_to_json(&f);
    } else {
        for (size_t k = 0; k < errs.count; k++) {
            const char *fl = errs.items[k].field;
            if (strstr(fl, "languages"))
                e->languages = MSG_ME_INVALID;
            else if (strstr(fl, "sectors"))
                e->sectors = MSG_ME_INVALID;
            else if (strstr(fl, "regions"))
                e->regions = MSG_ME_INVALID;
            else
                e->keywords = MSG_ME_INVALID;
        }
    }
    match_filter_clear(&f);
    json_decref(in);
    return out;
}

/* Lists the newest public releases any of filters (canonical objects)
 * matches, at most PREVIEW_SHOW of the last PREVIEW_SCAN. */
static void preview(ctx_t *c, kw_buf_t *b, const json_t *filters, const char *id)
{
    size_t nf = json_array_size(filters);
    match_filter_t *fs = kw_calloc(nf ? nf : 1, sizeof(*fs));
    int keywords = 0;
    for (size_t i = 0; i < nf; i++) {
        core_errors_t errs = {0};
        match_filter_init(&fs[i]);
        match_filter_parse_json(&fs[i], json_array_get(filters, i), "", store_sector_resolve,
                                c->app->store, &errs);
        if (json_object_get(json_array_get(filters, i), "keywords")) keywords = 1;
    }
    store_query_t q = {.scope = STORE_SCOPE_PUBLIC, .limit = PREVIEW_SCAN};
    core_release_t **rs = NULL;
    size_t n = 0, shown = 0;
    int64_t next = 0;
    kw_buf_printf(b, "<section id=\"%s\"><h2>", id);
    put_msg(b, c, MSG_ME_MATCHING);
    kw_buf_puts(b, "</h2>\n");
    if (store_release_list(c->app->store, &q, &rs, &n, &next) == KW_OK) {
        for (size_t i = 0; i < n && shown < PREVIEW_SHOW; i++) {
            /* Tokenize only when a filter names keywords. */
            match_doc_t *d = keywords ? match_doc_new(rs[i]) : match_doc_new_attrs(rs[i]);
            int hit = 0;
            for (size_t k = 0; d && k < nf && !hit; k++)
                hit = match_filter_matches(&fs[k], d);
            match_doc_free(d);
            if (!hit) continue;
            if (shown++ == 0) kw_buf_puts(b, "<ol class=\"preview\">\n");
            kw_buf_printf(
                b, "<li data-id=\"%s\"><a href=\"/%s/releases/%s\" lang=\"%s\" dir=\"auto\">",
                rs[i]->id, rs[i]->language, rs[i]->id, rs[i]->language);
            web_escape(b, rs[i]->headline);
            char when[64];
            core_time_format_rfc3339(rs[i]->published_at, when, sizeof(when));
            kw_buf_printf(b, "</a> <time datetime=\"%s\">%.10s</time></li>\n", when, when);
        }
        for (size_t i = 0; i < n; i++)
            core_release_free(rs[i]);
        free(rs);
    }
    if (shown)
        kw_buf_puts(b, "</ol>\n");
    else {
        kw_buf_puts(b, "<p class=\"empty\">");
        put_msg(b, c, MSG_NO_RELEASES);
        kw_buf_puts(b, "</p>\n");
    }
    kw_buf_puts(b, "</section>\n");
    for (size_t i = 0; i < nf; i++)
        match_filter_clear(&fs[i]);
    free(fs);
}

/* Feed links nearest to the beats: per language and sector, else per
 * language and region, else per language, sector or region alone. */
static void feeds(ctx_t *c, kw_buf_t *b, const json_t *filters)
{
    json_t *urls = json_array();
    size_t i;
    json_t *f;
    json_array_foreach(filters, i, f)
    {
        json_t *ls = json_object_get(f, "languages"), *ss = json_object_get(f, "sectors"),
               *rs = json_object_get(f, "regions");
        size_t nl = json_array_size(ls), ns = json_array_size(ss), nr = json_array_size(rs);
        for (size_t a = 0; a < (nl ? nl : 1); a++) {
            const char *lang = nl ? json_string_value(json_array_get(ls, a)) : NULL;
            char prefix[40];
            snprintf(prefix, sizeof(prefix), "%s%s", lang ? "/" : "", lang ? lang : "");
            if (ns) {
                for (size_t s = 0; s < ns; s++) {
                    char *u = NULL;
                    size_t len = 0;
                    FILE *m = open_memstream(&u, &len);
                    fprintf(m, "%s/sectors/%s/atom.xml", prefix,
                            json_string_value(json_array_get(ss, s)));
                    fclose(m);
                    json_array_append_new(urls, json_string(u));
                    free(u);
                }
            } else if (nr) {
                for (size_t r = 0; r < nr; r++) {
                    char u[80];
                    snprintf(u, sizeof(u), "%s/regions/%s/atom.xml", prefix,
                             json_string_value(json_array_get(rs, r)));
                    json_array_append_new(urls, json_string(u));
                }
            } else {
                char u[64];
                snprintf(u, sizeof(u), "%s/atom.xml", prefix);
                json_array_append_new(urls, json_string(u));
            }
        }
    }
    kw_buf_puts(b, "<section id=\"feeds\"><h2>");
    put_msg(b, c, MSG_FEEDS);
    kw_buf_puts(b, "</h2>\n<ul class=\"feeds\">\n");
    size_t shown = 0;
    json_t *u;
    json_array_foreach(urls, i, u)
    {
        const char *z = json_string_value(u);
        int dup = 0;
        for (size_t k = 0; k < i && !dup; k++)
            dup = strcmp(json_string_value(json_array_get(urls, k)), z) == 0;
        if (dup || shown >= FEEDS_SHOW) continue;
        shown++;
        kw_buf_puts(b, "<li><a href=\"");
        web_escape(b, z);
        kw_buf_puts(b, "\"><code>");
        web_escape(b, c->app->base_url);
        web_escape(b, z);
        kw_buf_puts(b, "</code></a></li>\n");
    }
    kw_buf_puts(b, "</ul>\n</section>\n");
    json_decref(urls);
}

/* The add-a-beat form, with what was typed and its errors. */
static void beat_form(ctx_t *c, kw_buf_t *b, const errs_t *e)
{
    kw_buf_puts(b, "<section id=\"add-beat\"><h2>");
    put_msg(b, c, MSG_ME_ADD_BEAT);
    kw_buf_puts(b, "</h2>\n");
    form_open(c, b, "/me/beats", "beat");
    kw_buf_printf(b, "<fieldset%s><legend>", e->languages >= 0 ? " class=\"invalid\"" : "");
    put_msg(b, c, MSG_SIGNUP_RELEASE_LANGUAGES);
    kw_buf_puts(b, "</legend>\n");
    group_error(c, b, "languages", e->languages);
    for (size_t i = 0; i < core_lang_count(); i++) {
        const core_lang_t *x = core_lang_at(i);
        kw_buf_printf(
            b, "<label lang=\"%s\"><input type=\"checkbox\" name=\"language\" value=\"%s\"%s> ",
            x->tag, x->tag, form_has(c, "language", x->tag) ? " checked" : "");
        web_escape(b, x->native);
        kw_buf_puts(b, "</label>\n");
    }
    kw_buf_printf(b, "</fieldset>\n<fieldset%s><legend>",
                  e->sectors >= 0 ? " class=\"invalid\"" : "");
    put_msg(b, c, MSG_SECTORS);
    kw_buf_puts(b, "</legend>\n");
    group_error(c, b, "sectors", e->sectors);
    json_t *sectors = store_sectors(c->app->store);
    size_t i;
    json_t *v;
    json_array_foreach(sectors, i, v)
    {
        const char *slug = json_string_value(json_object_get(v, "slug"));
        if (slug == NULL) continue;
        const char *name = core_sector_name(slug, c->lang);
        kw_buf_puts(b, "<label><input type=\"checkbox\" name=\"sector\" value=\"");
        web_escape(b, slug);
        kw_buf_printf(b, "\"%s> ", form_has(c, "sector", slug) ? " checked" : "");
        web_escape(b, name ? name : json_string_value(json_object_get(v, "name")));
        kw_buf_puts(b, "</label>\n");
    }
    json_decref(sectors);
    kw_buf_puts(b, "</fieldset>\n");
    field(c, b, "regions", MSG_SIGNUP_REGIONS, "text", form_get(c, "regions"), NULL, e->regions);
    field(c, b, "keywords", MSG_SIGNUP_KEYWORDS, "text", form_get(c, "keywords"), NULL,
          e->keywords);
    kw_buf_puts(b, "<p>");
    button(c, b, "action", "preview", MSG_ME_PREVIEW);
    kw_buf_puts(b, " ");
    button(c, b, "action", "save", MSG_ME_SAVE);
    kw_buf_puts(b, "</p>\n</form>\n</section>\n");
}

/* /me/: beats, the preview, e-mail timing, the feeds. beat_preview: a
 * typed beat to preview (NULL: none); e: the beat form's errors. */
static void home_page(ctx_t *c, int status, const json_t *beat_preview, const errs_t *e)
{
    kw_buf_t b = {0};
    char *t = core_lang_format(c->lang, MSG_ME_TITLE, c->app->wire_name);
    page_start(c, &b, t);
    free(t);
    const store_subscriber_t *s = c->sub;
    kw_buf_printf(&b, "<p id=\"me-kind\" data-kind=\"%s\">", s->kind);
    put_msg(&b, c,
            strcmp(s->kind, "outlet") == 0       ? MSG_ME_KIND_OUTLET
            : strcmp(s->kind, "journalist") == 0 ? MSG_ME_KIND_JOURNALIST
                                                 : MSG_ME_KIND_DESKTOP);
    kw_buf_puts(&b, "</p>\n<section id=\"beats\"><h2>");
    put_msg(&b, c, MSG_SIGNUP_BEATS);
    kw_buf_puts(&b, "</h2>\n<ul class=\"beats\">\n");
    size_t i;
    json_t *f;
    json_array_foreach(s->filters, i, f)
    {
        kw_buf_printf(&b, "<li data-beat=\"%zu\"><span class=\"beat\">", i);
        beat_text(c, &b, f);
        kw_buf_puts(&b, "</span>");
        if (!is_everything(s->filters)) {
            kw_buf_puts(&b, " ");
            form_open(c, &b, "/me/beats/remove", "inline");
            kw_buf_printf(&b, "<input type=\"hidden\" name=\"beat\" value=\"%zu\">", i);
            button(c, &b, NULL, NULL, MSG_ME_REMOVE);
            kw_buf_puts(&b, "</form>");
        }
        kw_buf_puts(&b, "</li>\n");
    }
    kw_buf_puts(&b, "</ul>\n</section>\n");
    if (beat_preview) {
        json_t *one = json_pack("[O]", beat_preview);
        preview(c, &b, one, "preview");
        json_decref(one);
    }
    beat_form(c, &b, e);
    if (!beat_preview) preview(c, &b, s->filters, "matching");

    if (strcmp(s->kind, "journalist") == 0) {
        store_mail_recipient_t *r = NULL;
        int have = store_mail_recipient_get(c->app->store, s->id, &r) == KW_OK;
        kw_buf_puts(&b, "<section id=\"timing\"><h2>");
        put_msg(&b, c, MSG_SIGNUP_TIMING);
        kw_buf_puts(&b, "</h2>\n");
        if (!have) {
            kw_buf_puts(&b, "<p class=\"notice\">");
            put_msg(&b, c, MSG_ME_TIMING_UNCONFIRMED);
            kw_buf_puts(&b, " <a href=\"/signup\">");
            put_msg(&b, c, MSG_SIGNUP_TITLE);
            kw_buf_puts(&b, "</a></p>\n");
        } else {
            form_open(c, &b, "/me/timing", NULL);
            static const struct {
                const char *v;
                core_msg_t m;
            } opts[] = {{"immediate", MSG_SIGNUP_IMMEDIATE},
                        {"hourly", MSG_SIGNUP_HOURLY},
                        {"daily", MSG_SIGNUP_DAILY}};
            kw_buf_puts(&b, "<fieldset><legend>");
            put_msg(&b, c, MSG_SIGNUP_TIMING);
            kw_buf_puts(&b, "</legend>\n");
            for (size_t k = 0; k < KW_ARRAY_SIZE(opts); k++) {
                kw_buf_printf(&b, "<label><input type=\"radio\" name=\"timing\" value=\"%s\"%s> ",
                              opts[k].v, strcmp(r->timing, opts[k].v) == 0 ? " checked" : "");
                put_msg(&b, c, opts[k].m);
                kw_buf_puts(&b, "</label>\n");
            }
            kw_buf_puts(&b, "</fieldset>\n<p>");
            button(c, &b, NULL, NULL, MSG_ME_SAVE);
            kw_buf_puts(&b, "</p>\n</form>\n");
        }
        store_mail_recipient_free(r);
        kw_buf_puts(&b, "</section>\n");
    }
    feeds(c, &b, s->filters);
    page_send(c, &b, status);
}

static void subscriber_written(store_op_t *op)
{
    ctx_t *c = op->arg;
    int rc = op->rc;
    if (rc == KW_OK) api_after_write(c->app, op);
    store_op_free(op);
    if (rc != KW_OK) {
        message_page(c, rc == KW_NOTFOUND ? 404 : 503, MSG_ME_TITLE, MSG_UNAVAILABLE);
        return;
    }
    redirect(c, "/me/");
}

static void update_subscriber(ctx_t *c, json_t *input)
{
    store_op_t *op = store_op_new(STORE_OP_SUBSCRIBER_UPDATE, subscriber_written, c);
    op->who = c->ses.s.who;
    snprintf(op->subscriber_id, sizeof(op->subscriber_id), "%s", c->sub->id);
    op->input = input;
    store_submit(c->app->store, op);
}

static void beats_post(ctx_t *c)
{
    errs_t e = no_errs;
    json_t *beat = beat_from_form(c, &e);
    if (beat == NULL) {
        home_page(c, 422, NULL, &e);
        return;
    }
    if (strcmp(form_get(c, "action"), "save") != 0) {
        home_page(c, 200, beat, &e);
        json_decref(beat);
        return;
    }
    json_t *filters =
        is_everything(c->sub->filters) ? json_array() : json_deep_copy(c->sub->filters);
    if (json_array_size(filters) >= STORE_SUBSCRIBER_FILTERS_MAX) {
        json_decref(filters);
        json_decref(beat);
        e.languages = MSG_ME_INVALID;
        home_page(c, 422, NULL, &e);
        return;
    }
    json_array_append_new(filters, beat);
    update_subscriber(c, json_pack("{s:o}", "filters", filters));
}

static void beat_remove_post(ctx_t *c)
{
    const char *z = form_get(c, "beat");
    char *end = NULL;
    long k = strtol(z, &end, 10);
    size_t n = json_array_size(c->sub->filters);
    if (!*z || *end || k < 0 || (size_t)k >= n || is_everything(c->sub->filters)) {
        redirect(c, "/me/");
        return;
    }
    json_t *filters = json_deep_copy(c->sub->filters);
    json_array_remove(filters, (size_t)k);
    if (json_array_size(filters) == 0) json_array_append_new(filters, json_object());
    update_subscriber(c, json_pack("{s:o}", "filters", filters));
}

static void timing_post(ctx_t *c)
{
    const char *t = form_get(c, "timing");
    if (strcmp(t, "immediate") && strcmp(t, "hourly") && strcmp(t, "daily")) {
        errs_t e = no_errs;
        home_page(c, 422, NULL, &e);
        return;
    }
    update_subscriber(c, json_pack("{s:s}", "timing", t));
}

/* ---- the live page ---- */

static void live_page(ctx_t *c)
{
    kw_buf_t b = {0};
    char *t = core_lang_format(c->lang, MSG_ME_LIVE, c->app->wire_name);
    page_start(c, &b, t);
    free(t);
    kw_buf_puts(&b, "<p class=\"beats\">");
    size_t i;
    json_t *f;
    json_array_foreach(c->sub->filters, i, f)
    {
        if (i) kw_buf_puts(&b, "<br>");
        beat_text(c, &b, f);
    }
    kw_buf_puts(&b, "</p>\n<p class=\"empty\" role=\"status\">");
    put_msg(&b, c, MSG_ME_LIVE_WAITING);
    /* live.js (web_static.c) draws each event of the stream; with the
     * session cookie and no filter in the query, /v1/stream applies the
     * subscriber's own beats. It starts after the wire's end now. */
    int64_t after = store_wire_last_seq(c->app->store);
    kw_buf_printf(&b,
                  "</p>\n<ol class=\"releases\" id=\"live\" hidden data-live "
                  "data-stream=\"/v1/stream?after=%lld\"",
                  (long long)after);
    web_live_labels(&b, c->app, c->lang, after);
    kw_buf_puts(&b, "></ol>\n<script src=\"/static/live.js\" defer></script>\n");
    page_send(c, &b, 200);
}

/* ---- sign-up ---- */

static void signup_page(ctx_t *c, int status, const errs_t *e, int alert_msg)
{
    kw_buf_t b = {0};
    char *t = core_lang_format(c->lang, MSG_ME_SIGNUP_TITLE, c->app->wire_name);
    page_start(c, &b, t);
    free(t);
    if (alert_msg >= 0) {
        kw_buf_puts(&b, "<p class=\"alert\" role=\"alert\">");
        put_msg(&b, c, (core_msg_t)alert_msg);
        kw_buf_puts(&b, " <a href=\"/login?next=/me/\">");
        put_msg(&b, c, MSG_ACCT_LOGIN);
        kw_buf_puts(&b, "</a></p>\n");
    }
    form_open(c, &b, "/me/signup", NULL);
    kw_buf_printf(&b, "<fieldset%s><legend>", e->kind >= 0 ? " class=\"invalid\"" : "");
    put_msg(&b, c, MSG_ME_KIND);
    kw_buf_puts(&b, "</legend>\n");
    group_error(c, &b, "kind", e->kind);
    static const struct {
        const char *v;
        core_msg_t m;
    } kinds[] = {{"journalist", MSG_ME_KIND_JOURNALIST},
                 {"desktop", MSG_ME_KIND_DESKTOP},
                 {"outlet", MSG_ME_KIND_OUTLET}};
    const char *kind = form_get(c, "kind");
    for (size_t k = 0; k < KW_ARRAY_SIZE(kinds); k++) {
        kw_buf_printf(&b, "<label><input type=\"radio\" name=\"kind\" value=\"%s\"%s> ", kinds[k].v,
                      strcmp(kind, kinds[k].v) == 0 || (!*kind && k == 0) ? " checked" : "");
        put_msg(&b, c, kinds[k].m);
        kw_buf_puts(&b, "</label>\n");
    }
    kw_buf_puts(&b, "</fieldset>\n");
    field(c, &b, "name", MSG_ACCT_NAME, "text", form_get(c, "name"),
          " autocomplete=\"name\" maxlength=\"200\"", e->name);
    field(c, &b, "email", MSG_ACCT_EMAIL, "email", form_get(c, "email"), " autocomplete=\"email\"",
          e->email);
    field(c, &b, "password", MSG_ACCT_NEW_PASSWORD, "password", NULL,
          " autocomplete=\"new-password\"", e->password);
    kw_buf_puts(&b, "<p>");
    button(c, &b, NULL, NULL, MSG_ME_SIGNUP_TITLE);
    kw_buf_puts(&b, "</p>\n</form>\n");
    page_send(c, &b, status);
}

static void signup_session_created(store_op_t *op)
{
    ctx_t *c = op->arg;
    int rc = op->rc;
    store_op_free(op);
    if (rc != KW_OK) {
        message_page(c, 503, MSG_ME_SIGNUP_TITLE, MSG_UNAVAILABLE);
        return;
    }
    add_cookie(c, WEB_SESSION_COOKIE, c->session_secret, STORE_SESSION_MAX_MS / 1000);
    redirect(c, "/me/");
}

static void signup_created(store_op_t *op)
{
    ctx_t *c = op->arg;
    if (op->rc != KW_OK) {
        int rc = op->rc;
        store_op_free(op);
        errs_t e = no_errs;
        if (rc == KW_CONFLICT) {
            e.email = MSG_ACCT_EMAIL_TAKEN;
            signup_page(c, 409, &e, MSG_ACCT_EMAIL_TAKEN);
        } else if (rc == KW_INVALID) {
            e.name = MSG_ME_INVALID;
            signup_page(c, 422, &e, -1);
        } else {
            message_page(c, 503, MSG_ME_SIGNUP_TITLE, MSG_UNAVAILABLE);
        }
        return;
    }
    api_after_write(c->app, op); /* the stream engine and matcher learn of it */
    char user_id[32];
    snprintf(user_id, sizeof(user_id), "%s", op->subscriber->user_id);
    store_op_free(op);
    /* Log in at once, in a new session (the old cookie's is discarded). */
    char id_hash[AUTH_HEX_SIZE];
    auth_secret_generate(c->session_secret);
    auth_secret_generate(c->session_csrf);
    auth_token_hash(c->session_secret, strlen(c->session_secret), id_hash);
    store_op_t *s = store_op_new(STORE_OP_SESSION_CREATE, signup_session_created, c);
    s->input = json_pack("{s:s, s:s, s:s}", "id_hash", id_hash, "user_id", user_id, "csrf",
                         c->session_csrf);
    if (c->old_session_hash[0])
        json_object_set_new(s->input, "discard", json_string(c->old_session_hash));
    store_submit(c->app->store, s);
}

static void hash_work(uv_work_t *w)
{
    ctx_t *c = w->data;
    c->hashed = auth_password_hash(c->password, c->encoded, sizeof(c->encoded)) == KW_OK;
}

static void hash_done(uv_work_t *w, int status)
{
    ctx_t *c = w->data;
    hash_jobs--;
    if (!c->hashed || status != 0) {
        message_page(c, 503, MSG_ME_SIGNUP_TITLE, MSG_UNAVAILABLE);
        return;
    }
    char token[AUTH_TOKEN_SIZE], token_hash[AUTH_HEX_SIZE];
    auth_token_generate(token, sizeof(token)); /* the API token nobody sees: the person uses
                                                  the session; /v1 tokens come from editors */
    auth_token_hash(token, strlen(token), token_hash);
    explicit_bzero(token, sizeof(token));
    char email[STORE_SUBSCRIBER_EMAIL_MAX + 1];
    web_form_email_valid(form_get(c, "email"), email, sizeof(email));
    store_op_t *op = store_op_new(STORE_OP_SUBSCRIBER_CREATE, signup_created, c);
    op->input = json_pack("{s:s, s:s, s:s, s:[{}], s:s, s:s}", "kind", form_get(c, "kind"), "name",
                          form_get(c, "name"), "email", email, "filters", "token_hash", token_hash,
                          "password_hash", c->encoded);
    store_submit(c->app->store, op);
}

static void signup_post(ctx_t *c)
{
    errs_t e = no_errs;
    const char *kind = form_get(c, "kind"), *name = form_get(c, "name");
    const char *email = form_get(c, "email"), *pw = form_get(c, "password");
    char lower[STORE_SUBSCRIBER_EMAIL_MAX + 1];
    if (strcmp(kind, "journalist") && strcmp(kind, "desktop") && strcmp(kind, "outlet"))
        e.kind = MSG_ACCT_REQUIRED;
    if (!*name)
        e.name = MSG_ACCT_REQUIRED;
    else if (strlen(name) > STORE_SUBSCRIBER_NAME_MAX)
        e.name = MSG_ACCT_TOO_LONG;
    if (!*email)
        e.email = MSG_ACCT_REQUIRED;
    else if (!web_form_email_valid(email, lower, sizeof(lower)))
        e.email = MSG_ACCT_EMAIL_INVALID;
    if (!*pw)
        e.password = MSG_ACCT_REQUIRED;
    else if (strlen(pw) > PASSWORD_MAX_BYTES)
        e.password = MSG_ACCT_TOO_LONG;
    else if (web_form_utf8_chars(pw) < PASSWORD_MIN_CHARS)
        e.password = MSG_ACCT_PASSWORD_SHORT;
    if (e.kind >= 0 || e.name >= 0 || e.email >= 0 || e.password >= 0) {
        signup_page(c, 422, &e, -1);
        return;
    }
    if (hash_jobs >= HASH_JOBS_MAX) {
        kw_buf_puts(&c->headers, "Retry-After: 2\r\n");
        message_page(c, 503, MSG_ME_SIGNUP_TITLE, MSG_UNAVAILABLE);
        return;
    }
    c->password = kw_strdup(pw);
    c->work.data = c;
    hash_jobs++;
    uv_queue_work(c->app->loop, &c->work, hash_work, hash_done);
}

/* ---- outlet webhook endpoints ---- */

static void endpoints_page(ctx_t *c, int status, const errs_t *e, const char *secret_for)
{
    kw_buf_t b = {0};
    char *t = core_lang_format(c->lang, MSG_ME_ENDPOINTS, c->app->wire_name);
    page_start(c, &b, t);
    free(t);
    if (secret_for) {
        kw_buf_puts(&b, "<p class=\"notice\" role=\"status\" id=\"secret\">");
        put_msg(&b, c, MSG_ME_SECRET_ONCE);
        kw_buf_puts(&b, " <code>");
        web_escape(&b, c->webhook_secret);
        kw_buf_puts(&b, "</code></p>\n");
    }
    store_webhook_t **ws = NULL;
    size_t n = 0;
    int64_t next = 0;
    if (store_webhook_list(c->app->store, c->sub->id, 0, STORE_WEBHOOKS_PER_OUTLET, &ws, &n,
                           &next) != KW_OK)
        n = 0;
    if (n == 0) {
        kw_buf_puts(&b, "<p class=\"empty\">");
        put_msg(&b, c, MSG_ME_NONE);
        kw_buf_puts(&b, "</p>\n");
    } else {
        kw_buf_puts(&b, "<ul class=\"endpoints\">\n");
        for (size_t i = 0; i < n; i++) {
            kw_buf_printf(
                &b,
                "<li data-endpoint=\"%s\" data-state=\"%s\"><a href=\"/me/endpoints/%s\"><code>",
                ws[i]->id, ws[i]->paused ? "paused" : "active", ws[i]->id);
            web_escape(&b, ws[i]->url);
            kw_buf_printf(&b, "</code></a> · %s · ", ws[i]->format);
            put_msg(&b, c, ws[i]->paused ? MSG_ME_PAUSED : MSG_ME_ACTIVE);
            kw_buf_puts(&b, "</li>\n");
            store_webhook_free(ws[i]);
        }
        kw_buf_puts(&b, "</ul>\n");
    }
    free(ws);
    kw_buf_puts(&b, "<section id=\"add-endpoint\"><h2>");
    put_msg(&b, c, MSG_ME_ADD_ENDPOINT);
    kw_buf_puts(&b, "</h2>\n");
    form_open(c, &b, "/me/endpoints", NULL);
    field(c, &b, "url", MSG_ME_ADD_ENDPOINT, "url", form_get(c, "url"),
          " inputmode=\"url\" placeholder=\"https://\"", e->url);
    kw_buf_printf(&b, "<p class=\"field%s\"><label for=\"f-format\">",
                  e->format >= 0 ? " invalid" : "");
    put_msg(&b, c, MSG_ME_FORMAT);
    kw_buf_puts(&b, "</label>\n<select id=\"f-format\" name=\"format\">");
    static const char *const formats[] = {"ninjs", "newsml", "json"};
    const char *fmt = form_get(c, "format");
    for (size_t k = 0; k < KW_ARRAY_SIZE(formats); k++)
        kw_buf_printf(&b, "<option%s>%s</option>", strcmp(fmt, formats[k]) == 0 ? " selected" : "",
                      formats[k]);
    kw_buf_puts(&b, "</select></p>\n");
    group_error(c, &b, "format", e->format);
    kw_buf_puts(&b, "<p>");
    button(c, &b, NULL, NULL, MSG_ME_ADD_ENDPOINT);
    kw_buf_puts(&b, "</p>\n</form>\n</section>\n");
    page_send(c, &b, status);
}

static void endpoint_created(store_op_t *op)
{
    ctx_t *c = op->arg;
    int rc = op->rc;
    if (rc == KW_OK) webhook_endpoint_changed(c->app, op);
    store_op_free(op);
    errs_t e = no_errs;
    if (rc == KW_OK) {
        c->have_form = 0; /* the form starts empty again */
        net_query_free(&c->form);
        endpoints_page(c, 201, &e, c->webhook_secret);
    } else if (rc == KW_CONFLICT || rc == KW_INVALID) {
        e.url = MSG_ME_INVALID;
        endpoints_page(c, rc == KW_CONFLICT ? 409 : 422, &e, NULL);
    } else {
        message_page(c, rc == KW_FORBIDDEN ? 403 : 503, MSG_ME_ENDPOINTS,
                     rc == KW_FORBIDDEN ? MSG_ACCT_FORBIDDEN : MSG_UNAVAILABLE);
    }
}

static void endpoints_post(ctx_t *c)
{
    errs_t e = no_errs;
    const char *url = form_get(c, "url"), *fmt = form_get(c, "format");
    char why[256];
    if (!*url)
        e.url = MSG_ACCT_REQUIRED;
    else if (strlen(url) > STORE_WEBHOOK_URL_MAX ||
             webhook_url_check(c->app, url, why, sizeof(why)) != KW_OK)
        e.url = MSG_ME_INVALID;
    if (strcmp(fmt, "ninjs") && strcmp(fmt, "newsml") && strcmp(fmt, "json"))
        e.format = MSG_ME_INVALID;
    if (e.url >= 0 || e.format >= 0) {
        endpoints_page(c, 422, &e, NULL);
        return;
    }
    webhook_secret_generate(c->webhook_secret, sizeof(c->webhook_secret));
    /* The endpoint gets the outlet's beats. */
    store_op_t *op = store_op_new(STORE_OP_WEBHOOK_CREATE, endpoint_created, c);
    op->who = c->ses.s.who;
    op->input = json_pack("{s:s, s:s, s:O, s:s}", "url", url, "secret", c->webhook_secret,
                          "filters", c->sub->filters, "format", fmt);
    store_submit(c->app->store, op);
}

/* The endpoint named in the path if it is this outlet's, else NULL. */
static store_webhook_t *own_endpoint(ctx_t *c)
{
    store_webhook_t *w = NULL;
    if (store_webhook_get(c->app->store, c->endpoint_id, &w) != KW_OK) return NULL;
    if (strcmp(w->subscriber_id, c->sub->id) != 0) {
        store_webhook_free(w);
        return NULL;
    }
    return w;
}

static void endpoint_page(ctx_t *c)
{
    store_webhook_t *w = own_endpoint(c);
    if (w == NULL) {
        message_page(c, 404, MSG_NOT_FOUND, MSG_NOT_FOUND_DETAIL);
        return;
    }
    kw_buf_t b = {0};
    char *t = core_lang_format(c->lang, MSG_ME_DELIVERIES, c->app->wire_name);
    page_start(c, &b, t);
    free(t);
    char action[64];
    snprintf(action, sizeof(action), "/me/endpoints/%s", w->id);
    kw_buf_printf(&b, "<p id=\"endpoint\" data-state=\"%s\"><code>",
                  w->paused ? "paused" : "active");
    web_escape(&b, w->url);
    kw_buf_printf(&b, "</code> · %s · ", w->format);
    put_msg(&b, c, w->paused ? MSG_ME_PAUSED : MSG_ME_ACTIVE);
    if (w->paused_reason) {
        kw_buf_puts(&b, " (");
        web_escape(&b, w->paused_reason);
        kw_buf_puts(&b, ")");
    }
    kw_buf_puts(&b, "</p>\n");
    form_open(c, &b, action, "inline");
    button(c, &b, "action", w->paused ? "resume" : "pause",
           w->paused ? MSG_ME_RESUME : MSG_ME_PAUSE);
    kw_buf_puts(&b, "</form>\n");
    form_open(c, &b, action, "inline");
    button(c, &b, "action", "delete", MSG_ME_DELETE);
    kw_buf_puts(&b, "</form>\n");

    int64_t next = 0;
    json_t *log = store_webhook_deliveries(c->app->store, w->id, 0, DELIVERIES_SHOW, &next);
    if (json_array_size(log) == 0) {
        kw_buf_puts(&b, "<p class=\"empty\">");
        put_msg(&b, c, MSG_ME_NONE);
        kw_buf_puts(&b, "</p>\n");
    } else {
        kw_buf_puts(&b, "<div class=\"table-wrap\"><table class=\"deliveries\">\n<thead><tr>"
                        "<th>#</th><th>");
        put_msg(&b, c, MSG_RELEASES);
        kw_buf_puts(&b, "</th><th>");
        put_msg(&b, c, MSG_ACCT_STATUS);
        kw_buf_puts(&b, "</th><th>HTTP</th><th>");
        put_msg(&b, c, MSG_DAY);
        kw_buf_puts(&b, "</th></tr></thead>\n<tbody>\n");
        size_t i;
        json_t *d;
        json_array_foreach(log, i, d)
        {
            const char *rid = json_string_value(json_object_get(d, "release_id"));
            const char *state = json_string_value(json_object_get(d, "state"));
            json_t *attempts = json_object_get(d, "log");
            json_t *last = json_array_get(attempts, json_array_size(attempts) - 1);
            json_t *status = last ? json_object_get(last, "status") : NULL;
            const char *at = json_string_value(json_object_get(d, "delivered_at"));
            if (!at) at = json_string_value(json_object_get(d, "created_at"));
            kw_buf_printf(&b, "<tr data-state=\"");
            web_escape(&b, state ? state : "");
            kw_buf_printf(&b, "\"><td>%lld</td><td><code>",
                          (long long)json_integer_value(json_object_get(d, "seq")));
            web_escape(&b, rid ? rid : "");
            kw_buf_puts(&b, "</code> ");
            web_escape(&b, json_string_value(json_object_get(d, "kind")));
            kw_buf_puts(&b, "</td><td>");
            web_escape(&b, state ? state : "");
            kw_buf_printf(&b, " (%lld)</td><td>",
                          (long long)json_integer_value(json_object_get(d, "attempts")));
            if (json_is_integer(status))
                kw_buf_printf(&b, "%lld", (long long)json_integer_value(status));
            kw_buf_puts(&b, "</td><td>");
            web_escape(&b, at ? at : "");
            kw_buf_puts(&b, "</td></tr>\n");
        }
        kw_buf_puts(&b, "</tbody></table></div>\n");
    }
    json_decref(log);
    store_webhook_free(w);
    page_send(c, &b, 200);
}

static void endpoint_changed(store_op_t *op)
{
    ctx_t *c = op->arg;
    int rc = op->rc;
    store_op_kind_t kind = op->kind;
    if (rc == KW_OK) webhook_endpoint_changed(c->app, op);
    store_op_free(op);
    if (rc == KW_NOTFOUND) {
        message_page(c, 404, MSG_NOT_FOUND, MSG_NOT_FOUND_DETAIL);
    } else if (rc != KW_OK) {
        message_page(c, 503, MSG_ME_ENDPOINTS, MSG_UNAVAILABLE);
    } else if (kind == STORE_OP_WEBHOOK_DELETE) {
        redirect(c, "/me/endpoints");
    } else {
        char loc[64];
        snprintf(loc, sizeof(loc), "/me/endpoints/%s", c->endpoint_id);
        redirect(c, loc);
    }
}

static void endpoint_post(ctx_t *c)
{
    store_webhook_t *w = own_endpoint(c);
    if (w == NULL) {
        message_page(c, 404, MSG_NOT_FOUND, MSG_NOT_FOUND_DETAIL);
        return;
    }
    store_webhook_free(w);
    const char *action = form_get(c, "action");
    store_op_kind_t kind = STORE_OP_WEBHOOK_UPDATE;
    json_t *input = NULL;
    if (strcmp(action, "pause") == 0)
        input = json_pack("{s:s, s:b}", "id", c->endpoint_id, "pause", 1);
    else if (strcmp(action, "resume") == 0)
        input = json_pack("{s:s, s:b}", "id", c->endpoint_id, "resume", 1);
    else if (strcmp(action, "delete") == 0)
        input = json_pack("{s:s}", "id", c->endpoint_id), kind = STORE_OP_WEBHOOK_DELETE;
    if (input == NULL) {
        message_page(c, 400, MSG_BAD_REQUEST, MSG_BAD_REQUEST_DETAIL);
        return;
    }
    store_op_t *op = store_op_new(kind, endpoint_changed, c);
    op->who = c->ses.s.who;
    op->input = input;
    store_submit(c->app->store, op);
}

/* ---- routing ---- */

static void method_not_allowed(net_request_t *req, const char *allow)
{
    char h[96];
    snprintf(h, sizeof(h), "Allow: %s\r\nCache-Control: no-store\r\n", allow);
    static const char body[] = "Method not allowed\n";
    net_respond(req, 405, "text/plain; charset=utf-8", h, body, sizeof(body) - 1);
}

static void choose_language(ctx_t *c, const net_params_t *q)
{
    c->lang = web_form_language(c->app, c->req, q, &c->headers);
}

int web_subscriber_route(kawat_app_t *app, net_request_t *req, const kw_str_t *seg, int n,
                         int trailing)
{
    if (n < 1 || !kw_str_eq(seg[0], "me")) return 0;
    int get = req->method == HTTP_GET || req->method == HTTP_HEAD;
    int post = req->method == HTTP_POST;
    int page = -1;
    kw_str_t id = KW_STR_NULL;
    if (n == 1 && trailing)
        page = PAGE_HOME;
    else if (n == 1) {
        if (!get) {
            method_not_allowed(req, "GET, HEAD");
            return 1;
        }
        net_respond(req, 301, "text/plain; charset=utf-8",
                    "Location: /me/\r\nCache-Control: no-store\r\n", "", 0);
        return 1;
    } else if (trailing)
        return 0;
    else if (n == 2 && kw_str_eq(seg[1], "signup"))
        page = PAGE_SIGNUP;
    else if (n == 2 && kw_str_eq(seg[1], "beats"))
        page = PAGE_BEATS;
    else if (n == 3 && kw_str_eq(seg[1], "beats") && kw_str_eq(seg[2], "remove"))
        page = PAGE_BEAT_DEL;
    else if (n == 2 && kw_str_eq(seg[1], "timing"))
        page = PAGE_TIMING;
    else if (n == 2 && kw_str_eq(seg[1], "live"))
        page = PAGE_LIVE;
    else if (n == 2 && kw_str_eq(seg[1], "endpoints"))
        page = PAGE_ENDPOINTS;
    else if (n == 3 && kw_str_eq(seg[1], "endpoints"))
        page = PAGE_ENDPOINT, id = seg[2];
    if (page < 0) return 0;

    int post_only = page == PAGE_BEATS || page == PAGE_BEAT_DEL || page == PAGE_TIMING;
    int get_only = page == PAGE_HOME || page == PAGE_LIVE;
    if (post_only && !post) {
        method_not_allowed(req, "POST");
        return 1;
    }
    if (get_only && !get) {
        method_not_allowed(req, "GET, HEAD");
        return 1;
    }
    if (!get && !post) {
        method_not_allowed(req, "GET, HEAD, POST");
        return 1;
    }

    ctx_t *c = kw_calloc(1, sizeof(*c));
    c->app = app;
    c->req = req;
    c->page = page;
    if (id.len > 0 && id.len < sizeof(c->endpoint_id)) memcpy(c->endpoint_id, id.data, id.len);
    c->has_session = web_session_get(app, req, &c->ses) == KW_OK;
    web_form_cookies(req, c->old_session_hash, c->form_cookie);
    net_params_t q = {0};
    char bad[64];
    int have_q = net_query_parse(req->query, &q, bad, sizeof(bad)) == KW_OK;
    choose_language(c, have_q ? &q : NULL);
    if (have_q) net_query_free(&q);
    if (post) c->have_form = web_form_read(req, &c->form);
    if (c->has_session && c->ses.s.who.role == ROLE_SUBSCRIBER && c->ses.s.who.subscriber_id[0] &&
        store_subscriber_get(app->store, c->ses.s.who.subscriber_id, &c->sub) != KW_OK)
        c->sub = NULL;

    /* Every POST carries the form's CSRF token, checked before anything. */
    if (post && !csrf_ok(c)) {
        message_page(c, 403, MSG_ACCT_LOGIN, MSG_ACCT_FORM_EXPIRED);
        return 1;
    }
    if (page == PAGE_SIGNUP) {
        if (c->sub) {
            redirect(c, "/me/");
        } else if (c->has_session) {
            message_page(c, 403, MSG_ME_SIGNUP_TITLE, MSG_ACCT_FORBIDDEN);
        } else if (get) {
            /* Before log-in, a form needs the kawat_csrf cookie. */
            if (!c->form_cookie[0]) {
                auth_secret_generate(c->form_cookie);
                add_cookie(c, CSRF_COOKIE, c->form_cookie, 30L * 86400);
            }
            signup_page(c, 200, &no_errs, -1);
        } else {
            signup_post(c);
        }
        return 1;
    }
    /* The rest: a subscriber's own pages. */
    if (!c->has_session) {
        if (post) {
            message_page(c, 403, MSG_ACCT_LOGIN, MSG_ACCT_FORM_EXPIRED);
        } else {
            web_form_login_redirect(req, &c->headers, "/me/");
            free_ctx(c);
        }
        return 1;
    }
    int outlet = c->sub && strcmp(c->sub->kind, "outlet") == 0;
    int journalist = c->sub && strcmp(c->sub->kind, "journalist") == 0;
    if (c->sub == NULL || ((page == PAGE_ENDPOINTS || page == PAGE_ENDPOINT) && !outlet) ||
        (page == PAGE_TIMING && !journalist)) {
        message_page(c, 403, MSG_ME_TITLE, MSG_ACCT_FORBIDDEN);
        return 1;
    }
    switch (page) {
    case PAGE_HOME:
        home_page(c, 200, NULL, &no_errs);
        break;
    case PAGE_BEATS:
        beats_post(c);
        break;
    case PAGE_BEAT_DEL:
        beat_remove_post(c);
        break;
    case PAGE_TIMING:
        timing_post(c);
        break;
    case PAGE_LIVE:
        live_page(c);
        break;
    case PAGE_ENDPOINTS:
        if (get)
            endpoints_page(c, 200, &no_errs, NULL);
        else
            endpoints_post(c);
        break;
    case PAGE_ENDPOINT:
        if (get)
            endpoint_page(c);
        else
            endpoint_post(c);
        break;
    }
    return 1;
}
