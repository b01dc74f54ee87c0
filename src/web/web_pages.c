/* web_pages.c -- the language home pages and the release page.
 *
 * Every string that came from an issuer goes through web_escape (text and
 * attribute contexts alike, so a quote cannot end an attribute); bodies are
 * Markdown rendered by cmark-gfm with raw HTML and unsafe links dropped.
 * Only published releases are ever read here. */
#include "web/web.h"
#include "core/core_markdown.h"
#include "core/core_region.h"
#include "core/core_sector.h"
#include "core/core_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOME_PAGE_SIZE 20

void web_escape(kw_buf_t *b, const char *z)
{
    if (z == NULL) return;
    const char *start = z;
    for (; *z; z++) {
        const char *rep = NULL;
        switch (*z) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: continue;
        }
        kw_buf_append(b, start, (size_t)(z - start));
        kw_buf_puts(b, rep);
        start = z + 1;
    }
    kw_buf_append(b, start, (size_t)(z - start));
}

static void msg(kw_buf_t *b, kawat_app_t *app, const core_lang_t *lang, core_msg_t id)
{
    char *z = core_lang_format(lang, id, app->wire_name);
    web_escape(b, z);
    free(z);
}

/* The page head, the site header with the language switcher, and <main>. */
static void page_open(kw_buf_t *b, kawat_app_t *app, const core_lang_t *lang, const char *title,
                      const char *canonical_path, const char *extra_head, const char *switch_path)
{
    kw_buf_printf(b, "<!DOCTYPE html>\n<html lang=\"%s\" dir=\"%s\">\n<head>\n<meta "
                     "charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, "
                     "initial-scale=1\">\n<title>",
                  lang->tag, lang->rtl ? "rtl" : "ltr");
    web_escape(b, title);
    kw_buf_puts(b, "</title>\n<link rel=\"stylesheet\" href=\"/static/kawat.css\">\n"
                   "<link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">\n");
    if (canonical_path) {
        kw_buf_puts(b, "<link rel=\"canonical\" href=\"");
        web_escape(b, app->base_url);
        web_escape(b, canonical_path);
        kw_buf_puts(b, "\">\n");
    }
    if (extra_head) kw_buf_puts(b, extra_head);
    kw_buf_puts(b, "</head>\n<body>\n<header class=\"site\">\n<a class=\"brand\" href=\"/");
    kw_buf_puts(b, lang->tag);
    kw_buf_puts(b, "/\">");
    web_escape(b, app->wire_name);
    kw_buf_puts(b, "</a>\n<nav class=\"languages\" aria-label=\"");
    msg(b, app, lang, MSG_LANGUAGES);
    kw_buf_puts(b, "\"><ul>");
    for (size_t i = 0; i < core_lang_count(); i++) {
        const core_lang_t *l = core_lang_at(i);
        kw_buf_printf(b, "<li><a href=\"/%s/\" hreflang=\"%s\" lang=\"%s\"%s>", l->tag, l->tag,
                      l->tag, l == lang ? " aria-current=\"page\"" : "");
        web_escape(b, l->native);
        kw_buf_puts(b, "</a></li>");
    }
    (void)switch_path;
    kw_buf_puts(b, "</ul></nav>\n</header>\n<main id=\"main\">\n");
}

static void page_close(kw_buf_t *b, kawat_app_t *app, const core_lang_t *lang)
{
    kw_buf_puts(b, "</main>\n<footer>\n<section class=\"boilerplate\" aria-labelledby=\"about\">"
                   "<h2 id=\"about\">");
    msg(b, app, lang, MSG_ABOUT_WIRE);
    kw_buf_puts(b, "</h2>\n<p>");
    msg(b, app, lang, MSG_BOILERPLATE);
    kw_buf_puts(b, "</p></section>\n</footer>\n</body>\n</html>\n");
}

static void send_page(net_request_t *req, int status, kw_buf_t *b)
{
    net_respond(req, status, "text/html; charset=utf-8",
                "Cache-Control: no-cache\r\nContent-Security-Policy: default-src 'self'; "
                "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'\r\n",
                b->data, b->len);
    kw_buf_free(b);
}

static void sector_names(kw_buf_t *b, const core_release_t *r, const core_lang_t *lang, int links)
{
    size_t i;
    json_t *v;
    json_array_foreach(r->sectors, i, v)
    {
        const char *slug = json_string_value(v);
        const char *name = core_sector_name(slug, lang);
        if (i) kw_buf_puts(b, core_lang_list_separator(lang));
        if (links) {
            kw_buf_printf(b, "<a href=\"/%s/?sector=", lang->tag);
            web_escape(b, slug);
            kw_buf_puts(b, "\">");
        }
        web_escape(b, name ? name : slug);
        if (links) kw_buf_puts(b, "</a>");
    }
}

void web_home(kawat_app_t *app, net_request_t *req, const core_lang_t *lang)
{
    static const char *const allowed[] = {"cursor", "sector", "region", "issuer", NULL};
    net_params_t p;
    char field[64];
    if (net_query_parse(req->query, &p, field, sizeof(field)) != KW_OK) {
        web_error(app, req, lang, 400);
        return;
    }
    const char *bad;
    store_query_t q = {.scope = STORE_SCOPE_PUBLIC, .language = lang->tag,
                       .limit = HOME_PAGE_SIZE};
    const char *v;
    if (!net_query_only(&p, allowed, &bad)) goto bad_request;
    if ((v = net_query_get(&p, "cursor")) != NULL) {
        char *end;
        q.cursor = strtoll(v, &end, 36);
        if (*v == '\0' || *end || q.cursor <= 0) goto bad_request;
    }
    if ((v = net_query_get(&p, "sector")) != NULL &&
        (q.sector = store_sector_resolve(app->store, v)) == NULL)
        goto not_found;
    if ((v = net_query_get(&p, "region")) != NULL) {
        const core_region_t *reg = core_region_find((kw_str_t){v, strlen(v)});
        if (reg == NULL) goto not_found;
        q.region = reg->code;
    }
    if ((v = net_query_get(&p, "issuer")) != NULL) q.issuer = v;

    core_release_t **items = NULL;
    size_t n = 0;
    int64_t next = 0;
    if (store_release_list(app->store, &q, &items, &n, &next) != KW_OK) {
        web_error(app, req, lang, 503);
        net_query_free(&p);
        return;
    }
    if (n == 0 && q.cursor) {
        free(items);
        goto not_found;
    }

    kw_buf_t b = {0};
    char *title = core_lang_format(lang, MSG_LATEST_TITLE, app->wire_name);
    char canon[64];
    snprintf(canon, sizeof(canon), "/%s/", lang->tag);
    kw_buf_t head = {0};
    for (size_t i = 0; i < core_lang_count(); i++) {
        const core_lang_t *l = core_lang_at(i);
        kw_buf_printf(&head, "<link rel=\"alternate\" hreflang=\"%s\" href=\"", l->tag);
        web_escape(&head, app->base_url);
        kw_buf_printf(&head, "/%s/\">\n", l->tag);
    }
    page_open(&b, app, lang, title, canon, head.data, NULL);
    kw_buf_free(&head);
    kw_buf_puts(&b, "<h1>");
    web_escape(&b, title);
    free(title);
    kw_buf_puts(&b, "</h1>\n");
    /* The first page of a language's unfiltered list is live: live.js adds
     * new releases as they are published. */
    int live = q.cursor == 0 && q.sector == NULL && q.region == NULL && q.issuer == NULL;
    if (n == 0) {
        kw_buf_puts(&b, "<p class=\"empty\">");
        msg(&b, app, lang, MSG_NO_RELEASES);
        kw_buf_puts(&b, "</p>\n");
    }
    if (n || live)
        kw_buf_printf(&b, "<ol class=\"releases\"%s%s>\n", live ? " data-live" : "",
                      n ? "" : " hidden");
    for (size_t i = 0; i < n; i++) {
        core_release_t *r = items[i];
        char path[128], iso[40];
        core_release_path(r, path, sizeof(path));
        core_time_format_rfc3339(r->published_at, iso, sizeof(iso));
        char *date = core_time_format_local(r->published_at, lang->icu_locale, CORE_TIME_DATETIME);
        char *summary = core_markdown_text(r->body, strlen(r->body), 240);
        kw_buf_printf(&b, "<li data-id=\"%s\"><article><h2><a href=\"", r->id);
        web_escape(&b, path);
        kw_buf_puts(&b, "\">");
        web_escape(&b, r->headline);
        kw_buf_printf(&b, "</a></h2>\n<time datetime=\"%s\">", iso);
        web_escape(&b, date);
        kw_buf_puts(&b, "</time> · ");
        web_escape(&b, r->issuer_name);
        kw_buf_puts(&b, "\n<p>");
        web_escape(&b, summary);
        kw_buf_puts(&b, "</p></article></li>\n");
        free(date);
        free(summary);
        core_release_free(r);
    }
    free(items);
    if (n || live) kw_buf_puts(&b, "</ol>\n");
    if (live) kw_buf_puts(&b, "<script src=\"/static/live.js\" defer></script>\n");
    if (next) {
        char c[32];
        api_cursor_text(next, c, sizeof(c));
        kw_buf_printf(&b, "<nav class=\"pager\"><a rel=\"next\" href=\"/%s/?cursor=%s", lang->tag, c);
        /* Keep the filters on the next page (values are slugs, codes or
         * issuer ids/slugs: escaped for the attribute, and url-safe). */
        const char *keep[][2] = {{"sector", q.sector}, {"region", q.region}, {"issuer", q.issuer}};
        for (size_t k2 = 0; k2 < KW_ARRAY_SIZE(keep); k2++) {
            if (keep[k2][1] == NULL) continue;
            kw_buf_printf(&b, "&amp;%s=", keep[k2][0]);
            for (const char *z = keep[k2][1]; *z; z++) {
                unsigned char ch = (unsigned char)*z;
                if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                    ch == '-' || ch == '_' || ch == '.')
                    kw_buf_putc(&b, (char)ch);
                else
                    kw_buf_printf(&b, "%%%02X", ch);
            }
        }
        kw_buf_puts(&b, "\">");
        msg(&b, app, lang, MSG_OLDER);
        kw_buf_puts(&b, " →</a></nav>\n");
    }
    page_close(&b, app, lang);
    net_query_free(&p);
    send_page(req, 200, &b);
    return;
bad_request:
    net_query_free(&p);
    web_error(app, req, lang, 400);
    return;
not_found:
    net_query_free(&p);
    web_error(app, req, lang, 404);
}

/* The rendered body with the dateline opening its first paragraph:
 * "<strong>PLACE</strong>, 28 November 2026 (kawat) – ". */
static void body_with_dateline(kw_buf_t *b, kawat_app_t *app, const core_release_t *r,
                               const core_lang_t *lang)
{
    char *html = core_markdown_html(r->body, strlen(r->body));
    char *date = core_time_format_local(r->published_at, lang->icu_locale, CORE_TIME_DATE);
    kw_buf_t dl = {0};
    kw_buf_puts(&dl, "<span class=\"dateline\">");
    if (r->dateline_place) {
        kw_buf_puts(&dl, "<strong>");
        web_escape(&dl, r->dateline_place);
        kw_buf_puts(&dl, "</strong>");
        kw_buf_puts(&dl, core_lang_list_separator(lang));
    }
    web_escape(&dl, date);
    kw_buf_puts(&dl, " (");
    web_escape(&dl, app->wire_name);
    kw_buf_puts(&dl, ") – </span>");
    free(date);

    kw_buf_puts(b, "<div class=\"body\">\n");
    if (strncmp(html, "<p>", 3) == 0) {
        kw_buf_puts(b, "<p>");
        kw_buf_append(b, dl.data, dl.len);
        kw_buf_puts(b, html + 3);
    } else {
        kw_buf_puts(b, "<p>");
        kw_buf_append(b, dl.data, dl.len);
        kw_buf_puts(b, "</p>\n");
        kw_buf_puts(b, html);
    }
    kw_buf_puts(b, "</div>\n");
    kw_buf_free(&dl);
    free(html);
}

void web_release(kawat_app_t *app, net_request_t *req, const core_lang_t *lang, const char *id)
{
    core_release_t *r = NULL;
    if (req->query.len) {
        /* Release pages take no parameters. */
        net_params_t p;
        char field[64];
        if (net_query_parse(req->query, &p, field, sizeof(field)) != KW_OK) {
            web_error(app, req, lang, 400);
            return;
        }
        net_query_free(&p);
    }
    /* Pages never show unpublished releases, whoever asks. */
    if (store_release_get(app->store, id, &r) != KW_OK || !core_release_is_public(r) ||
        strcmp(r->language, lang->tag) != 0) {
        core_release_free(r);
        web_error(app, req, lang, 404);
        return;
    }
    kw_buf_t b = {0};
    char path[128];
    core_release_path(r, path, sizeof(path));

    if (r->state == REL_WITHDRAWN) {
        char *title = core_lang_format(lang, MSG_WITHDRAWN, app->wire_name);
        page_open(&b, app, lang, title, path, NULL, NULL);
        kw_buf_puts(&b, "<h1>");
        web_escape(&b, title);
        kw_buf_puts(&b, "</h1>\n");
        if (r->withdrawal_reason) {
            kw_buf_puts(&b, "<p class=\"withdrawal\">");
            web_escape(&b, r->withdrawal_reason);
            kw_buf_puts(&b, "</p>\n");
        }
        free(title);
        page_close(&b, app, lang);
        core_release_free(r);
        send_page(req, 410, &b);
        return;
    }

    json_t *tr = store_translations(app->store, r->translation_group, r->id);
    kw_buf_t head = {0};
    size_t i;
    json_t *t;
    kw_buf_printf(&head, "<link rel=\"alternate\" hreflang=\"%s\" href=\"", r->language);
    web_escape(&head, app->base_url);
    web_escape(&head, path);
    kw_buf_puts(&head, "\">\n");
    json_array_foreach(tr, i, t)
    {
        const char *tl = json_string_value(json_object_get(t, "language"));
        kw_buf_printf(&head, "<link rel=\"alternate\" hreflang=\"%s\" href=\"", tl);
        web_escape(&head, app->base_url);
        kw_buf_printf(&head, "/%s/releases/%s\">\n", tl,
                      json_string_value(json_object_get(t, "id")));
    }
    page_open(&b, app, lang, r->headline, path, head.data, NULL);
    kw_buf_free(&head);

    char iso[40];
    core_time_format_rfc3339(r->published_at, iso, sizeof(iso));
    kw_buf_puts(&b, "<article class=\"release\">\n<h1>");
    web_escape(&b, r->headline);
    kw_buf_puts(&b, "</h1>\n");
    if (r->subheadline) {
        kw_buf_puts(&b, "<p class=\"subheadline\">");
        web_escape(&b, r->subheadline);
        kw_buf_puts(&b, "</p>\n");
    }
    kw_buf_puts(&b, "<p class=\"meta\">");
    msg(&b, app, lang, MSG_PUBLISHED);
    kw_buf_printf(&b, ": <time datetime=\"%s\">", iso);
    char *when = core_time_format_local(r->published_at, lang->icu_locale, CORE_TIME_DATETIME);
    web_escape(&b, when);
    free(when);
    kw_buf_puts(&b, "</time> · ");
    msg(&b, app, lang, MSG_ISSUER);
    kw_buf_puts(&b, ": ");
    web_escape(&b, r->issuer_name);
    kw_buf_puts(&b, "</p>\n");
    if (r->state == REL_CORRECTED && r->correction_note) {
        kw_buf_puts(&b, "<p class=\"correction\"><strong>");
        msg(&b, app, lang, MSG_CORRECTION_NOTE);
        kw_buf_puts(&b, ":</strong> ");
        web_escape(&b, r->correction_note);
        kw_buf_puts(&b, "</p>\n");
    }
    body_with_dateline(&b, app, r, lang);

    if (json_array_size(r->contacts)) {
        kw_buf_puts(&b, "<section class=\"contacts\"><h2>");
        msg(&b, app, lang, MSG_CONTACTS);
        kw_buf_puts(&b, "</h2><ul>");
        json_array_foreach(r->contacts, i, t)
        {
            const char *email = json_string_value(json_object_get(t, "email"));
            const char *phone = json_string_value(json_object_get(t, "phone"));
            kw_buf_puts(&b, "<li>");
            web_escape(&b, json_string_value(json_object_get(t, "name")));
            if (email) {
                kw_buf_puts(&b, " · <a href=\"mailto:");
                web_escape(&b, email);
                kw_buf_puts(&b, "\">");
                web_escape(&b, email);
                kw_buf_puts(&b, "</a>");
            }
            if (phone) {
                kw_buf_puts(&b, " · ");
                web_escape(&b, phone);
            }
            kw_buf_puts(&b, "</li>");
        }
        kw_buf_puts(&b, "</ul></section>\n");
    }
    if (json_array_size(r->sectors)) {
        kw_buf_puts(&b, "<p class=\"sectors\">");
        msg(&b, app, lang, MSG_SECTOR);
        kw_buf_puts(&b, ": ");
        sector_names(&b, r, lang, 1);
        kw_buf_puts(&b, "</p>\n");
    }
    kw_buf_puts(&b, "<p class=\"disclaimer\">");
    msg(&b, app, lang, MSG_DISCLAIMER);
    kw_buf_puts(&b, "</p>\n");
    if (json_array_size(tr)) {
        kw_buf_puts(&b, "<nav class=\"translations\" aria-labelledby=\"other-languages\"><h2 "
                        "id=\"other-languages\">");
        msg(&b, app, lang, MSG_OTHER_LANGUAGES);
        kw_buf_puts(&b, "</h2><ul>");
        json_array_foreach(tr, i, t)
        {
            const char *tl = json_string_value(json_object_get(t, "language"));
            const core_lang_t *l = core_lang_find_z(tl);
            kw_buf_printf(&b, "<li><a href=\"/%s/releases/%s\" hreflang=\"%s\" lang=\"%s\">", tl,
                          json_string_value(json_object_get(t, "id")), tl, tl);
            web_escape(&b, l ? l->native : tl);
            kw_buf_puts(&b, "</a></li>");
        }
        kw_buf_puts(&b, "</ul></nav>\n");
    }
    kw_buf_puts(&b, "</article>\n");
    json_decref(tr);
    page_close(&b, app, lang);
    core_release_free(r);
    send_page(req, 200, &b);
}

void web_error(kawat_app_t *app, net_request_t *req, const core_lang_t *lang, int status)
{
    if (lang == NULL) lang = core_lang_find_z(app->default_language);
    if (lang == NULL) lang = core_lang_default();
    core_msg_t m = status == 400 ? MSG_BAD_REQUEST : MSG_NOT_FOUND;
    kw_buf_t b = {0};
    char *title = core_lang_format(lang, m, app->wire_name);
    page_open(&b, app, lang, title, NULL, "<meta name=\"robots\" content=\"noindex\">\n", NULL);
    kw_buf_printf(&b, "<h1>%d · ", status);
    web_escape(&b, title);
    kw_buf_printf(&b, "</h1>\n<p><a href=\"/%s/\">", lang->tag);
    msg(&b, app, lang, MSG_HOME);
    kw_buf_puts(&b, "</a></p>\n");
    free(title);
    page_close(&b, app, lang);
    send_page(req, status, &b);
}
