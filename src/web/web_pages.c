/* web_pages.c -- the portal's pages: a listing per scope (language home,
 * sector, region, issuer newsroom, day), the archive of days, the release
 * page, and the error pages, all in the reader's language.
 *
 * Every string that came from an issuer goes through web_escape (text and
 * attribute contexts alike, so a quote cannot end an attribute); bodies are
 * Markdown rendered by cmark-gfm with raw HTML and unsafe links dropped;
 * JSON-LD is escaped so that no text can close its <script> element. Issuer
 * texts that sit inside a localized line are wrapped in <bdi>, so a name in
 * another script (or one full of bidi controls) cannot reorder the words
 * around it. Only published releases are ever read here, and every 200 and
 * 410 goes out through the page cache with what it shows (web_deps_t). */
#include "web/web.h"
#include "core/core_markdown.h"
#include "core/core_region.h"
#include "core/core_sector.h"
#include "core/core_time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uloc.h>
#include <unicode/unum.h>
#include <unicode/ustring.h>

#define PAGE_SIZE 20
#define SUMMARY_BYTES 240
#define DAY_MS 86400000LL

/* Every page is HTML with this policy: scripts only from the site (so no
 * inline script can ever run, whatever a release contains), no plugins, no
 * <base> rewriting, no framing. */
static const char page_headers[] =
    "Content-Security-Policy: default-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'\r\n";
static const char html_type[] = "text/html; charset=utf-8";

void web_escape(kw_buf_t *b, const char *z)
{
    if (z == NULL) return;
    const char *start = z;
    for (; *z; z++) {
        const char *rep = NULL;
        switch (*z) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            continue;
        }
        kw_buf_append(b, start, (size_t)(z - start));
        kw_buf_puts(b, rep);
        start = z + 1;
    }
    kw_buf_append(b, start, (size_t)(z - start));
}

/* Appends a URL path percent-encoded for an href: unreserved characters and
 * '/' stay, everything else (UTF-8 of a sector slug, quotes, '<') becomes
 * %XX, so the result needs no further HTML escaping. */
static void put_path(kw_buf_t *b, const char *z)
{
    for (; *z; z++) {
        unsigned char c = (unsigned char)*z;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~' || c == '/')
            kw_buf_putc(b, (char)c);
        else
            kw_buf_printf(b, "%%%02X", c);
    }
}

/* An absolute URL for path, escaped for an attribute. */
static void put_url(kw_buf_t *b, kawat_app_t *app, const char *path)
{
    web_escape(b, app->base_url);
    put_path(b, path);
}

static const core_lang_t *app_lang(kawat_app_t *app)
{
    const core_lang_t *l = core_lang_find_z(app->default_language);
    return l ? l : core_lang_default();
}

static void msg(kw_buf_t *b, kawat_app_t *app, const core_lang_t *lang, core_msg_t id)
{
    char *z = core_lang_format(lang, id, app->wire_name);
    web_escape(b, z);
    free(z);
}

/* "<span class="label">Sector</span>: ": a localized label and what
 * separates it from its value in the language ("：" in Japanese). */
static void label(kw_buf_t *b, kawat_app_t *app, const core_lang_t *lang, core_msg_t id)
{
    kw_buf_puts(b, "<span class=\"label\">");
    msg(b, app, lang, id);
    kw_buf_puts(b, "</span>");
    kw_buf_puts(b, core_lang_label_separator(lang));
}

/* A UTF-16 ICU result as a malloc'd UTF-8 string; NULL if it cannot be. */
static char *utf8_from_icu(const UChar *u, int32_t n)
{
    UErrorCode st = U_ZERO_ERROR;
    int32_t need = 0;
    u_strToUTF8(NULL, 0, &need, u, n, &st);
    if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st)) return NULL;
    char *out = kw_malloc((size_t)need + 1);
    st = U_ZERO_ERROR;
    u_strToUTF8(out, need + 1, NULL, u, n, &st);
    if (U_FAILURE(st)) {
        free(out);
        return NULL;
    }
    return out;
}

/* A region's name in the reader's language ("Indonesia", "インドネシア"),
 * from ICU's locale data; the English short name if ICU has none. Caller
 * frees. */
static char *region_name(const char *code, const core_lang_t *lang)
{
    char loc[16];
    snprintf(loc, sizeof(loc), "und_%s", code);
    UChar u[128];
    UErrorCode st = U_ZERO_ERROR;
    int32_t n = uloc_getDisplayCountry(loc, lang->icu_locale, u, (int32_t)KW_ARRAY_SIZE(u), &st);
    char *name = NULL;
    /* ICU answers the code itself when it knows no name for it. */
    if (U_SUCCESS(st) && st != U_USING_DEFAULT_WARNING && n > 0 && n < (int32_t)KW_ARRAY_SIZE(u))
        name = utf8_from_icu(u, n);
    if (name && strcmp(name, code) != 0) return name;
    free(name);
    const core_region_t *r = core_region_find((kw_str_t){code, strlen(code)});
    return kw_strdup(r ? r->name : code);
}

/* Numbers in the reader's locale (digits and grouping: "1.234", "١٬٢٣٤"). */
typedef struct {
    UNumberFormat *fmt;
} numfmt_t;

static void numfmt_open(numfmt_t *nf, const core_lang_t *lang)
{
    UErrorCode st = U_ZERO_ERROR;
    nf->fmt = unum_open(UNUM_DECIMAL, NULL, 0, lang->icu_locale, NULL, &st);
    if (U_FAILURE(st)) nf->fmt = NULL;
}

static void numfmt_put(kw_buf_t *b, numfmt_t *nf, int64_t v)
{
    UChar u[64];
    UErrorCode st = U_ZERO_ERROR;
    int32_t n = nf->fmt ? unum_formatInt64(nf->fmt, v, u, (int32_t)KW_ARRAY_SIZE(u), NULL, &st) : 0;
    char *z =
        nf->fmt && U_SUCCESS(st) && n < (int32_t)KW_ARRAY_SIZE(u) ? utf8_from_icu(u, n) : NULL;
    if (z)
        web_escape(b, z);
    else
        kw_buf_printf(b, "%lld", (long long)v);
    free(z);
}

static void numfmt_close(numfmt_t *nf)
{
    if (nf->fmt) unum_close(nf->fmt);
}

/* og:locale wants language_TERRITORY ("id_ID", "zh_TW"): ICU's likely
 * subtags give the territory a language is most used in. */
static void og_locale(const core_lang_t *l, char *out, size_t size)
{
    char full[ULOC_FULLNAME_CAPACITY], language[16], country[8];
    UErrorCode st = U_ZERO_ERROR;
    uloc_addLikelySubtags(l->icu_locale, full, (int32_t)sizeof(full), &st);
    if (U_FAILURE(st)) snprintf(full, sizeof(full), "%s", l->icu_locale);
    st = U_ZERO_ERROR;
    uloc_getLanguage(full, language, (int32_t)sizeof(language), &st);
    if (U_FAILURE(st) || st == U_STRING_NOT_TERMINATED_WARNING)
        snprintf(language, sizeof(language), "%s", "en");
    st = U_ZERO_ERROR;
    int32_t n = uloc_getCountry(full, country, (int32_t)sizeof(country), &st);
    if (U_FAILURE(st) || st == U_STRING_NOT_TERMINATED_WARNING) n = 0;
    if (n > 0)
        snprintf(out, size, "%s_%s", language, country);
    else
        snprintf(out, size, "%s", language);
}

/* "2026-11-28" for the UTC day of ms. */
static void day_text(int64_t ms, char *out, size_t size)
{
    int64_t y;
    unsigned m, d;
    core_time_civil_from_days(ms / DAY_MS, &y, &m, &d);
    snprintf(out, size, "%04lld-%02u-%02u", (long long)y, m, d);
}

/* ---- scopes in other languages ---- */

/* The listing path of scope in language l: "/ja/sectors/technology/". The
 * same scope exists in every language (an empty list is still a page), so
 * the language switcher and hreflang links can name it. */
static void scope_path_in(const web_scope_t *s, const core_lang_t *l, char *out, size_t size)
{
    char day[16];
    switch (s->kind) {
    case WEB_SCOPE_SECTOR:
        snprintf(out, size, "/%s/sectors/%s/", l->tag, s->sector);
        break;
    case WEB_SCOPE_REGION:
        snprintf(out, size, "/%s/regions/%s/", l->tag, s->region);
        break;
    case WEB_SCOPE_ISSUER:
        snprintf(out, size, "/%s/issuers/%s/", l->tag, s->issuer_slug);
        break;
    case WEB_SCOPE_ARCHIVE:
        snprintf(out, size, "/%s/archive/", l->tag);
        break;
    case WEB_SCOPE_DAY:
        day_text(s->day_from, day, sizeof(day));
        snprintf(out, size, "/%s/archive/%s/", l->tag, day);
        break;
    case WEB_SCOPE_HOME:
    default:
        snprintf(out, size, "/%s/", l->tag);
        break;
    }
}

void web_scope_title(kawat_app_t *app, const web_scope_t *scope, const core_lang_t *ui,
                     kw_buf_t *out)
{
    if (ui == NULL) ui = scope->lang ? scope->lang : app_lang(app);
    char *z = NULL;
    switch (scope->kind) {
    case WEB_SCOPE_HOME:
        /* The language's own headline; all languages together are the wire. */
        z = scope->lang ? core_lang_format(ui, MSG_LATEST_TITLE, app->wire_name)
                        : kw_strdup(app->wire_name ? app->wire_name : "kawat");
        break;
    case WEB_SCOPE_SECTOR: {
        const char *name = core_sector_name(scope->sector, ui);
        json_t *list = NULL;
        if (name == NULL) {
            /* A sector editors added: its one managed name. */
            list = store_sectors(app->store);
            size_t i;
            json_t *v;
            json_array_foreach(list, i, v)
            {
                const char *slug = json_string_value(json_object_get(v, "slug"));
                if (slug && strcmp(slug, scope->sector) == 0)
                    name = json_string_value(json_object_get(v, "name"));
            }
        }
        const char *vars[] = {"sector", name ? name : scope->sector, NULL};
        z = core_lang_format_vars(ui, MSG_SECTOR_TITLE, vars);
        json_decref(list);
        break;
    }
    case WEB_SCOPE_REGION: {
        char *name = region_name(scope->region, ui);
        const char *vars[] = {"region", name, NULL};
        z = core_lang_format_vars(ui, MSG_REGION_TITLE, vars);
        free(name);
        break;
    }
    case WEB_SCOPE_ISSUER: {
        const char *vars[] = {"issuer",
                              scope->issuer_name ? scope->issuer_name : scope->issuer_slug, NULL};
        z = core_lang_format_vars(ui, MSG_ISSUER_TITLE, vars);
        break;
    }
    case WEB_SCOPE_ARCHIVE:
        z = core_lang_format(ui, MSG_ARCHIVE_TITLE, app->wire_name);
        break;
    case WEB_SCOPE_DAY: {
        char *date = core_time_format_local(scope->day_from, ui->icu_locale, CORE_TIME_DATE);
        const char *vars[] = {"date", date, NULL};
        z = core_lang_format_vars(ui, MSG_DAY_TITLE, vars);
        free(date);
        break;
    }
    }
    kw_buf_puts(out, z ? z : "");
    free(z);
}

/* ---- the page frame ---- */

/* Where the language switcher leads for one language: the same content in
 * it (same = 1: also an hreflang alternate), or its home. */
typedef struct {
    char path[192];
    int same;
} lang_link_t;

/* What the frame of a page says about it. */
typedef struct {
    const char *title;        /* plain text: <title>, og:title */
    const char *path;         /* canonical path (may carry "?cursor="); NULL: none */
    const char *og_type;      /* "website" or "article" */
    const char *description;  /* plain text; NULL: the wire's boilerplate */
    const char *feeds;        /* listing path whose feeds the page advertises; NULL: none */
    const char *feeds_title;  /* plain text, for the feed links' titles */
    const lang_link_t *links; /* core_lang_count() entries; NULL: every language's home */
    const char *jsonld;       /* JSON-LD already safe inside <script>; NULL: none */
    const char *og_extra;     /* more <meta property> lines (article times); NULL: none */
    int noindex;
    int live; /* loads /static/live.js */
} head_t;

/* The feeds every listing has (feeds/feeds_render.h), as autodiscovery
 * announces them. */
static const struct {
    const char *file, *type, *label;
} page_feeds[] = {
    {"rss.xml", "application/rss+xml", "RSS"},
    {"atom.xml", "application/atom+xml", "Atom"},
    {"feed.json", "application/feed+json", "JSON Feed"},
};

/* Turns a JSON document into text that is safe inside <script
 * type="application/ld+json">: '<', '>' and '&' only occur inside JSON
 * strings, where \u003c etc. mean the same, and without them no
 * "</script>" or "<!--" can appear. Takes doc. */
static char *jsonld_text(json_t *doc)
{
    char *raw = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (raw == NULL) return NULL;
    kw_buf_t b = {0};
    for (const char *p = raw; *p; p++) {
        switch (*p) {
        case '<':
            kw_buf_puts(&b, "\\u003c");
            break;
        case '>':
            kw_buf_puts(&b, "\\u003e");
            break;
        case '&':
            kw_buf_puts(&b, "\\u0026");
            break;
        default:
            kw_buf_putc(&b, *p);
        }
    }
    free(raw);
    return kw_buf_steal(&b, NULL);
}

static void meta_property(kw_buf_t *b, const char *prop, const char *content)
{
    kw_buf_printf(b, "<meta property=\"%s\" content=\"", prop);
    web_escape(b, content);
    kw_buf_puts(b, "\">\n");
}

/* The head, the skip link, the site header with the language switcher, and
 * <main>. */
static void page_open(kw_buf_t *b, kawat_app_t *app, const core_lang_t *lang, const head_t *h)
{
    kw_buf_printf(
        b,
        "<!DOCTYPE html>\n<html lang=\"%s\" dir=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
        lang->tag, lang->rtl ? "rtl" : "ltr");
    web_escape(b, h->title);
    kw_buf_puts(b, "</title>\n");
    char *about = h->description ? NULL : core_lang_format(lang, MSG_BOILERPLATE, app->wire_name);
    const char *desc = h->description ? h->description : about;
    kw_buf_puts(b, "<meta name=\"description\" content=\"");
    web_escape(b, desc);
    kw_buf_puts(b, "\">\n");
    if (h->noindex) kw_buf_puts(b, "<meta name=\"robots\" content=\"noindex\">\n");
    kw_buf_puts(b, "<link rel=\"stylesheet\" href=\"/static/kawat.css\">\n"
                   "<link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">\n");
    if (h->path) {
        kw_buf_puts(b, "<link rel=\"canonical\" href=\"");
        web_escape(b, app->base_url);
        web_escape(b, h->path); /* already a URL path: built from slugs and codes */
        kw_buf_puts(b, "\">\n");
    }
    if (h->links) {
        for (size_t i = 0; i < core_lang_count(); i++) {
            if (!h->links[i].same) continue;
            kw_buf_printf(b, "<link rel=\"alternate\" hreflang=\"%s\" href=\"",
                          core_lang_at(i)->tag);
            put_url(b, app, h->links[i].path);
            kw_buf_puts(b, "\">\n");
        }
    }
    if (h->feeds) {
        for (size_t i = 0; i < KW_ARRAY_SIZE(page_feeds); i++) {
            kw_buf_printf(b, "<link rel=\"alternate\" type=\"%s\" title=\"%s: ", page_feeds[i].type,
                          page_feeds[i].label);
            web_escape(b, h->feeds_title ? h->feeds_title : h->title);
            kw_buf_puts(b, "\" href=\"");
            put_url(b, app, h->feeds);
            kw_buf_printf(b, "%s\">\n", page_feeds[i].file);
        }
    }
    /* OpenGraph, for the cards social sites and chat apps draw. */
    char loc[32];
    og_locale(lang, loc, sizeof(loc));
    meta_property(b, "og:site_name", app->wire_name);
    meta_property(b, "og:type", h->og_type ? h->og_type : "website");
    meta_property(b, "og:title", h->title);
    meta_property(b, "og:description", desc);
    meta_property(b, "og:locale", loc);
    if (h->links && h->og_type && strcmp(h->og_type, "article") == 0) {
        /* An article's language versions (listings exist in every language,
         * which would say nothing). */
        for (size_t i = 0; i < core_lang_count(); i++) {
            if (!h->links[i].same || core_lang_at(i) == lang) continue;
            og_locale(core_lang_at(i), loc, sizeof(loc));
            meta_property(b, "og:locale:alternate", loc);
        }
    }
    if (h->path) {
        kw_buf_puts(b, "<meta property=\"og:url\" content=\"");
        web_escape(b, app->base_url);
        web_escape(b, h->path);
        kw_buf_puts(b, "\">\n");
    }
    if (h->og_extra) kw_buf_puts(b, h->og_extra);
    if (h->jsonld) {
        kw_buf_puts(b, "<script type=\"application/ld+json\">");
        kw_buf_puts(b, h->jsonld);
        kw_buf_puts(b, "</script>\n");
    }
    if (h->live) kw_buf_puts(b, "<script src=\"/static/live.js\" defer></script>\n");
    free(about);

    kw_buf_puts(b, "</head>\n<body>\n<a class=\"skip\" href=\"#main\">");
    msg(b, app, lang, MSG_SKIP_TO_CONTENT);
    kw_buf_printf(b, "</a>\n<header class=\"site\">\n<a class=\"brand\" href=\"/%s/\">", lang->tag);
    web_escape(b, app->wire_name);
    kw_buf_puts(b, "</a>\n<nav class=\"languages\" aria-label=\"");
    msg(b, app, lang, MSG_LANGUAGES);
    kw_buf_puts(b, "\"><ul>");
    for (size_t i = 0; i < core_lang_count(); i++) {
        const core_lang_t *l = core_lang_at(i);
        kw_buf_puts(b, "<li><a href=\"");
        if (h->links)
            put_path(b, h->links[i].path);
        else
            kw_buf_printf(b, "/%s/", l->tag);
        kw_buf_printf(b, "\" hreflang=\"%s\" lang=\"%s\" dir=\"%s\"%s%s>", l->tag, l->tag,
                      l->rtl ? "rtl" : "ltr",
                      h->links && h->links[i].same ? " rel=\"alternate\"" : "",
                      l == lang ? " aria-current=\"page\"" : "");
        web_escape(b, l->native);
        kw_buf_puts(b, "</a></li>");
    }
    kw_buf_puts(b, "</ul></nav>\n</header>\n<main id=\"main\" tabindex=\"-1\">\n");
}

/* The footer: sector pages, the archive, the feeds of the page's scope and
 * the wire's boilerplate. feeds: as in head_t. */
static void page_close(kw_buf_t *b, kawat_app_t *app, const core_lang_t *lang, const char *feeds)
{
    kw_buf_puts(b, "</main>\n<footer class=\"site\">\n<nav class=\"sectors-nav\" "
                   "aria-labelledby=\"nav-sectors\">"
                   "<h2 id=\"nav-sectors\">");
    msg(b, app, lang, MSG_SECTORS);
    kw_buf_puts(b, "</h2><ul>");
    json_t *sectors = store_sectors(app->store);
    size_t i;
    json_t *v;
    json_array_foreach(sectors, i, v)
    {
        const char *slug = json_string_value(json_object_get(v, "slug"));
        const char *name = core_sector_name(slug, lang);
        if (slug == NULL) continue;
        kw_buf_printf(b, "<li><a href=\"/%s/sectors/", lang->tag);
        put_path(b, slug);
        kw_buf_puts(b, "/\">");
        web_escape(b, name ? name : json_string_value(json_object_get(v, "name")));
        kw_buf_puts(b, "</a></li>");
    }
    json_decref(sectors);
    kw_buf_printf(b, "</ul><p><a href=\"/%s/archive/\">", lang->tag);
    msg(b, app, lang, MSG_ARCHIVE_TITLE);
    kw_buf_puts(b, "</a></p></nav>\n");
    if (feeds) {
        kw_buf_puts(b, "<nav class=\"feeds\" aria-label=\"");
        msg(b, app, lang, MSG_FEEDS);
        kw_buf_puts(b, "\"><ul>");
        for (i = 0; i < KW_ARRAY_SIZE(page_feeds); i++) {
            kw_buf_puts(b, "<li><a href=\"");
            put_path(b, feeds);
            kw_buf_printf(b, "%s\" type=\"%s\">%s</a></li>", page_feeds[i].file, page_feeds[i].type,
                          page_feeds[i].label);
        }
        kw_buf_puts(b, "</ul></nav>\n");
    }
    kw_buf_puts(b, "<section class=\"boilerplate\" aria-labelledby=\"about\"><h2 id=\"about\">");
    msg(b, app, lang, MSG_ABOUT_WIRE);
    kw_buf_puts(b, "</h2>\n<p>");
    msg(b, app, lang, MSG_BOILERPLATE);
    kw_buf_puts(b, "</p></section>\n</footer>\n</body>\n</html>\n");
}

/* ---- query parameters ---- */

/* Checks a page's query: only "cursor", once, when takes_cursor, and no
 * parameter at all otherwise. *cursor is 0 when absent. Returns KW_OK or
 * KW_INVALID (malformed, unknown, repeated, or a cursor this server cannot
 * have given out: api_cursor_text's base 36, positive). */
static int page_query(net_request_t *req, int takes_cursor, int64_t *cursor)
{
    static const char *const allowed[] = {"cursor", NULL};
    static const char *const none[] = {NULL};
    if (cursor) *cursor = 0;
    if (req->query.len == 0) return KW_OK;
    net_params_t p;
    char field[64];
    if (net_query_parse(req->query, &p, field, sizeof(field)) != KW_OK) return KW_INVALID;
    int rc = KW_OK;
    const char *bad;
    const char *v;
    if (!net_query_only(&p, takes_cursor ? allowed : none, &bad) ||
        net_query_count(&p, "cursor") > 1) {
        rc = KW_INVALID;
    } else if ((v = net_query_get(&p, "cursor")) != NULL) {
        char *end;
        errno = 0;
        long long n = strtoll(v, &end, 36);
        /* strtoll would also take spaces, a sign, "0x" and upper case. */
        for (const char *z = v; *z; z++)
            if (!((*z >= '0' && *z <= '9') || (*z >= 'a' && *z <= 'z'))) rc = KW_INVALID;
        if (*v == '\0' || *end || errno == ERANGE || n <= 0) rc = KW_INVALID;
        if (rc == KW_OK) *cursor = n;
    }
    net_query_free(&p);
    return rc;
}

/* ---- pieces of releases ---- */

/* Per page: the managed list of sectors, read once when a sector that is
 * not in the seed list needs its name. */
typedef struct {
    kawat_app_t *app;
    const core_lang_t *lang;
    json_t *sectors;
} names_t;

static const char *sector_label(names_t *nm, const char *slug)
{
    const char *name = core_sector_name(slug, nm->lang);
    if (name) return name;
    if (nm->sectors == NULL) nm->sectors = store_sectors(nm->app->store);
    size_t i;
    json_t *v;
    json_array_foreach(nm->sectors, i, v)
    {
        const char *s = json_string_value(json_object_get(v, "slug"));
        if (s && strcmp(s, slug) == 0) {
            const char *n = json_string_value(json_object_get(v, "name"));
            if (n) return n;
        }
    }
    return slug;
}

/* "Sector: <a>Technology</a>, <a>Business</a>": localized label and names,
 * each linking its sector page in the page's language. */
static void sector_line(kw_buf_t *b, names_t *nm, const core_release_t *r)
{
    kw_buf_puts(b, "<p class=\"sectors\">");
    label(b, nm->app, nm->lang, MSG_SECTOR);
    size_t i;
    json_t *v;
    json_array_foreach(r->sectors, i, v)
    {
        const char *slug = json_string_value(v);
        if (slug == NULL) continue;
        if (i) kw_buf_puts(b, core_lang_list_separator(nm->lang));
        kw_buf_printf(b, "<a href=\"/%s/sectors/", nm->lang->tag);
        put_path(b, slug);
        kw_buf_puts(b, "/\">");
        web_escape(b, sector_label(nm, slug));
        kw_buf_puts(b, "</a>");
    }
    kw_buf_puts(b, "</p>\n");
}

/* The issuer's name linking its newsroom in the page's language. */
static void issuer_link(kw_buf_t *b, const core_lang_t *lang, const core_release_t *r)
{
    if (r->issuer_slug && *r->issuer_slug) {
        kw_buf_printf(b, "<a class=\"issuer\" href=\"/%s/issuers/", lang->tag);
        put_path(b, r->issuer_slug);
        kw_buf_puts(b, "/\"><bdi>");
        web_escape(b, r->issuer_name);
        kw_buf_puts(b, "</bdi></a>");
    } else {
        kw_buf_puts(b, "<bdi class=\"issuer\">");
        web_escape(b, r->issuer_name);
        kw_buf_puts(b, "</bdi>");
    }
}

static void time_element(kw_buf_t *b, int64_t ms, const core_lang_t *lang, int style)
{
    char iso[40];
    core_time_format_rfc3339(ms, iso, sizeof(iso));
    char *when = core_time_format_local(ms, lang->icu_locale, style);
    kw_buf_printf(b, "<time datetime=\"%s\">", iso);
    web_escape(b, when);
    kw_buf_puts(b, "</time>");
    free(when);
}

/* One item of a listing. live.js builds the same markup for releases that
 * arrive while the page is open: change both together. */
static void listing_item(kw_buf_t *b, names_t *nm, const core_release_t *r)
{
    char path[128];
    core_release_path(r, path, sizeof(path));
    kw_buf_printf(b, "<li data-id=\"%s\"><article>\n<h2><a href=\"", r->id);
    put_path(b, path);
    kw_buf_puts(b, "\" dir=\"auto\">");
    web_escape(b, r->headline);
    kw_buf_puts(b, "</a></h2>\n<p class=\"meta\">");
    if (r->dateline_place) {
        kw_buf_puts(b, "<bdi class=\"place\">");
        web_escape(b, r->dateline_place);
        kw_buf_puts(b, "</bdi> · ");
    }
    time_element(b, r->published_at, nm->lang, CORE_TIME_DATETIME);
    kw_buf_puts(b, " · ");
    issuer_link(b, nm->lang, r);
    kw_buf_puts(b, "</p>\n");
    char *summary = core_markdown_text(r->body, strlen(r->body), SUMMARY_BYTES);
    if (*summary) {
        kw_buf_puts(b, "<p class=\"summary\" dir=\"auto\">");
        web_escape(b, summary);
        kw_buf_puts(b, "</p>\n");
    }
    free(summary);
    if (json_array_size(r->sectors)) sector_line(b, nm, r);
    kw_buf_puts(b, "</article></li>\n");
}

/* A value for a URL query (the live stream's filter). */
static void put_query_value(kw_buf_t *b, const char *z)
{
    for (; *z; z++) {
        unsigned char c = (unsigned char)*z;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            kw_buf_putc(b, (char)c);
        else
            kw_buf_printf(b, "%%%02X", c);
    }
}

/* The data live.js needs to draw items like listing_item does: the stream
 * filter of the scope, the wire position the page shows, the localized
 * sector label and every sector's localized name. */
static void live_attributes(kw_buf_t *b, kawat_app_t *app, const web_scope_t *scope,
                            const core_lang_t *lang)
{
    kw_buf_t q = {0};
    kw_buf_puts(&q, "/v1/stream?language=");
    put_query_value(&q, lang->tag);
    if (scope->kind == WEB_SCOPE_SECTOR) {
        kw_buf_puts(&q, "&sector=");
        put_query_value(&q, scope->sector);
    } else if (scope->kind == WEB_SCOPE_REGION) {
        kw_buf_puts(&q, "&region=");
        put_query_value(&q, scope->region);
    } else if (scope->kind == WEB_SCOPE_ISSUER) {
        kw_buf_puts(&q, "&issuer=");
        put_query_value(&q, scope->issuer_id);
    }
    kw_buf_puts(b, " data-live data-stream=\"");
    web_escape(b, q.data);
    kw_buf_free(&q);
    kw_buf_puts(b, "\"");
    /* Events after this one are not on the page: the stream replays them,
     * so nothing published between rendering and connecting is missed. */
    web_live_labels(b, app, lang, store_wire_last_seq(app->store));
}

void web_live_labels(kw_buf_t *b, kawat_app_t *app, const core_lang_t *lang, int64_t after)
{
    names_t nm = {app, lang, NULL};
    kw_buf_printf(b, " data-after=\"%lld\" data-sector-label=\"", (long long)after);
    msg(b, app, lang, MSG_SECTOR);
    kw_buf_puts(b, "\" data-label-separator=\"");
    web_escape(b, core_lang_label_separator(lang));
    kw_buf_puts(b, "\" data-separator=\"");
    web_escape(b, core_lang_list_separator(lang));
    json_t *names = json_object();
    json_t *sectors = store_sectors(app->store);
    size_t i;
    json_t *v;
    json_array_foreach(sectors, i, v)
    {
        const char *slug = json_string_value(json_object_get(v, "slug"));
        if (slug) json_object_set_new(names, slug, json_string(sector_label(&nm, slug)));
    }
    json_decref(sectors);
    json_decref(nm.sectors);
    char *text = json_dumps(names, JSON_COMPACT);
    json_decref(names);
    kw_buf_puts(b, "\" data-sector-names=\"");
    web_escape(b, text);
    kw_buf_puts(b, "\"");
    free(text);
}

/* ---- listings ---- */

void web_listing(kawat_app_t *app, net_request_t *req, const web_scope_t *in)
{
    web_scope_t scope = *in; /* shallow: in keeps its issuer_name */
    if (scope.lang == NULL) scope.lang = app_lang(app);
    const core_lang_t *lang = scope.lang;
    int64_t cursor;
    if (page_query(req, 1, &cursor) != KW_OK) {
        web_error(app, req, lang, 400);
        return;
    }
    store_query_t q;
    web_scope_query(&scope, &q);
    q.cursor = cursor;
    q.limit = PAGE_SIZE;
    core_release_t **items = NULL;
    size_t n = 0;
    int64_t next = 0;
    if (store_release_list(app->store, &q, &items, &n, &next) != KW_OK) {
        web_error(app, req, lang, 503);
        return;
    }
    if (n == 0 && cursor) {
        free(items);
        web_error(app, req, lang, 404);
        return;
    }

    char base[192], canon[256];
    scope_path_in(&scope, lang, base, sizeof(base));
    kw_buf_t cb = {0};
    put_path(&cb, base);
    if (cursor) {
        char c[32];
        api_cursor_text(cursor, c, sizeof(c));
        kw_buf_printf(&cb, "?cursor=%s", c);
    }
    snprintf(canon, sizeof(canon), "%s", cb.data);
    kw_buf_free(&cb);

    size_t nl = core_lang_count();
    lang_link_t *links = kw_calloc(nl, sizeof(*links));
    for (size_t i = 0; i < nl; i++) {
        scope_path_in(&scope, core_lang_at(i), links[i].path, sizeof(links[i].path));
        links[i].same = 1;
    }

    kw_buf_t title = {0};
    web_scope_title(app, &scope, lang, &title);
    names_t nm = {app, lang, NULL};
    int live = cursor == 0 && scope.kind != WEB_SCOPE_DAY;

    /* schema.org: the page is a list of the articles it links. */
    json_t *ld =
        json_pack("{s:s, s:s, s:s, s:s}", "@context", "https://schema.org", "@type", "ItemList",
                  "name", title.data ? title.data : "", "inLanguage", lang->tag);
    json_t *elements = json_array();
    const char **ids = kw_calloc(n ? n : 1, sizeof(*ids));
    size_t nids = 0;
    for (size_t i = 0; i < n; i++) {
        char path[128], url[512];
        core_release_path(items[i], path, sizeof(path));
        snprintf(url, sizeof(url), "%s%s", app->base_url, path);
        json_array_append_new(elements, json_pack("{s:s, s:I, s:s}", "@type", "ListItem",
                                                  "position", (json_int_t)(i + 1), "url", url));
    }
    json_object_set_new(ld, "itemListElement", elements);
    char *jsonld = jsonld_text(ld);

    head_t h = {.title = title.data ? title.data : "",
                .path = canon,
                .og_type = "website",
                .feeds = base,
                .links = links,
                .jsonld = jsonld,
                .live = live};
    kw_buf_t b = {0};
    page_open(&b, app, lang, &h);
    kw_buf_puts(&b, "<h1>");
    web_escape(&b, h.title);
    kw_buf_puts(&b, "</h1>\n");
    if (n == 0) {
        kw_buf_puts(&b, "<p class=\"empty\">");
        msg(&b, app, lang, MSG_NO_RELEASES);
        kw_buf_puts(&b, "</p>\n");
    }
    if (n || live) {
        kw_buf_puts(&b, "<ol class=\"releases\"");
        if (live) live_attributes(&b, app, &scope, lang);
        kw_buf_puts(&b, n ? ">\n" : " hidden>\n");
    }
    for (size_t i = 0; i < n; i++) {
        core_release_t *r = items[i];
        /* The store lists only public releases; the page checks again. */
        if (r->state != REL_PUBLISHED && r->state != REL_CORRECTED) continue;
        listing_item(&b, &nm, r);
        ids[nids++] = r->id;
    }
    if (n || live) kw_buf_puts(&b, "</ol>\n");
    if (next || cursor) {
        kw_buf_puts(&b, "<nav class=\"pager\" aria-label=\"");
        msg(&b, app, lang, MSG_PAGES);
        kw_buf_puts(&b, "\">");
        if (cursor) {
            /* Cursors lead one way: back is the newest page. */
            kw_buf_puts(&b, "<a class=\"newer\" href=\"");
            put_path(&b, base);
            kw_buf_puts(&b, "\">");
            msg(&b, app, lang, MSG_NEWER);
            kw_buf_puts(&b, "</a>");
        }
        if (next) {
            char c[32];
            api_cursor_text(next, c, sizeof(c));
            kw_buf_puts(&b, "<a class=\"older\" rel=\"next\" href=\"");
            put_path(&b, base);
            kw_buf_printf(&b, "?cursor=%s\">", c);
            msg(&b, app, lang, MSG_OLDER);
            kw_buf_puts(&b, "</a>");
        }
        kw_buf_puts(&b, "</nav>\n");
    }
    page_close(&b, app, lang, base);

    web_deps_t deps = {.list = 1,
                       .language = lang->tag,
                       .sector = scope.sector,
                       .region = scope.region,
                       .issuer_id = scope.issuer_id[0] ? scope.issuer_id : NULL,
                       .day_from = scope.day_from,
                       .day_until = scope.day_until,
                       .ids = ids,
                       .nids = nids};
    /* Last-Modified is the time of rendering: the entry is dropped by every
     * change to the list, so the newest item's time could go backwards
     * after a withdrawal and wrongly answer 304. */
    web_cache_respond(app->cache, req, 200, html_type, page_headers, &b, 0, &deps);

    for (size_t i = 0; i < n; i++)
        core_release_free(items[i]);
    free(items);
    free(ids);
    free(links);
    free(jsonld);
    kw_buf_free(&title);
    json_decref(nm.sectors);
}

void web_archive(kawat_app_t *app, net_request_t *req, const web_scope_t *in)
{
    web_scope_t scope = *in;
    if (scope.lang == NULL) scope.lang = app_lang(app);
    scope.kind = WEB_SCOPE_ARCHIVE;
    const core_lang_t *lang = scope.lang;
    if (page_query(req, 0, NULL) != KW_OK) {
        web_error(app, req, lang, 400);
        return;
    }
    json_t *days = store_public_days(app->store, lang->tag, 0, 0);
    if (days == NULL) {
        web_error(app, req, lang, 503);
        return;
    }
    char base[192], home[64];
    scope_path_in(&scope, lang, base, sizeof(base));
    snprintf(home, sizeof(home), "/%s/", lang->tag);
    size_t nl = core_lang_count();
    lang_link_t *links = kw_calloc(nl, sizeof(*links));
    for (size_t i = 0; i < nl; i++) {
        scope_path_in(&scope, core_lang_at(i), links[i].path, sizeof(links[i].path));
        links[i].same = 1;
    }
    kw_buf_t title = {0};
    web_scope_title(app, &scope, lang, &title);
    kw_buf_t latest = {0};
    web_scope_title(app, &(web_scope_t){.kind = WEB_SCOPE_HOME, .lang = lang}, lang, &latest);

    head_t h = {.title = title.data,
                .path = base,
                .og_type = "website",
                .feeds = home,
                .feeds_title = latest.data,
                .links = links};
    kw_buf_t b = {0};
    page_open(&b, app, lang, &h);
    kw_buf_puts(&b, "<h1>");
    web_escape(&b, title.data);
    kw_buf_puts(&b, "</h1>\n");
    if (json_array_size(days) == 0) {
        kw_buf_puts(&b, "<p class=\"empty\">");
        msg(&b, app, lang, MSG_NO_RELEASES);
        kw_buf_puts(&b, "</p>\n");
    } else {
        numfmt_t nf;
        numfmt_open(&nf, lang);
        kw_buf_puts(&b, "<table class=\"archive\">\n<thead><tr><th scope=\"col\">");
        msg(&b, app, lang, MSG_DAY);
        kw_buf_puts(&b, "</th><th scope=\"col\">");
        msg(&b, app, lang, MSG_RELEASES);
        kw_buf_puts(&b, "</th></tr></thead>\n<tbody>\n");
        size_t i;
        json_t *d;
        json_array_foreach(days, i, d)
        {
            int64_t ms = json_integer_value(json_object_get(d, "day_ms"));
            int64_t count = json_integer_value(json_object_get(d, "count"));
            char day[16];
            day_text(ms, day, sizeof(day));
            char *when = core_time_format_local(ms, lang->icu_locale, CORE_TIME_DATE);
            kw_buf_printf(
                &b, "<tr><th scope=\"row\"><a href=\"/%s/archive/%s/\"><time datetime=\"%s\">",
                lang->tag, day, day);
            web_escape(&b, when);
            kw_buf_puts(&b, "</time></a></th><td>");
            numfmt_put(&b, &nf, count);
            kw_buf_puts(&b, "</td></tr>\n");
            free(when);
        }
        kw_buf_puts(&b, "</tbody>\n</table>\n");
        numfmt_close(&nf);
    }
    page_close(&b, app, lang, home);
    json_decref(days);

    web_deps_t deps = {.list = 1, .language = lang->tag};
    web_cache_respond(app->cache, req, 200, html_type, page_headers, &b, 0, &deps);
    free(links);
    kw_buf_free(&title);
    kw_buf_free(&latest);
}

/* ---- the release page ---- */

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
        kw_buf_puts(&dl, "<strong><bdi>");
        web_escape(&dl, r->dateline_place);
        kw_buf_puts(&dl, "</bdi></strong>");
        kw_buf_puts(&dl, core_lang_list_separator(lang));
    }
    web_escape(&dl, date);
    kw_buf_puts(&dl, " (");
    web_escape(&dl, app->wire_name);
    kw_buf_puts(&dl, ") – </span>");
    free(date);

    kw_buf_puts(b, "<div class=\"body\">\n");
    kw_buf_puts(b, "<p>");
    kw_buf_append(b, dl.data, dl.len);
    if (strncmp(html, "<p>", 3) == 0) {
        kw_buf_puts(b, html + 3);
    } else {
        kw_buf_puts(b, "</p>\n");
        kw_buf_puts(b, html);
    }
    kw_buf_puts(b, "</div>\n");
    kw_buf_free(&dl);
    free(html);
}

static int same_text(const char *a, const char *b)
{
    if (a == NULL || b == NULL) return a == b;
    return strcmp(a, b) == 0;
}

static int same_json(json_t *a, json_t *b)
{
    int empty_a = a == NULL || json_is_null(a) || (json_is_array(a) && json_array_size(a) == 0);
    int empty_b = b == NULL || json_is_null(b) || (json_is_array(b) && json_array_size(b) == 0);
    if (empty_a || empty_b) return empty_a == empty_b;
    return json_equal(a, b);
}

static const char *jget(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* The corrections of a release, newest first: for each later version its
 * date, its note, which fields it changed and, when the headline changed,
 * the headline it replaced. versions (store_release_versions) holds the
 * earlier versions' texts, oldest first; the current text is r. */
static void corrections(kw_buf_t *b, kawat_app_t *app, const core_release_t *r,
                        const core_lang_t *lang)
{
    json_t *versions = store_release_versions(app->store, r->id);
    size_t nv = json_array_size(versions);
    /* The release as a version snapshot, to compare like with like. */
    json_t *cur = json_pack("{s:s?, s:s?, s:s?, s:s?, s:O?, s:O?, s:O?}", "headline", r->headline,
                            "subheadline", r->subheadline, "body", r->body, "dateline_place",
                            r->dateline_place, "sectors", r->sectors, "regions", r->regions,
                            "contacts", r->contacts);
    if (cur == NULL || nv == 0) {
        json_decref(cur);
        json_decref(versions);
        return;
    }
    kw_buf_puts(
        b, "<section class=\"correction\" aria-labelledby=\"correction\"><h2 id=\"correction\">");
    msg(b, app, lang, MSG_CORRECTION_NOTE);
    kw_buf_puts(b, "</h2>\n<ol reversed>\n");
    static const struct {
        const char *key;
        core_msg_t label;
        int is_json;
    } fields[] = {
        {"headline", MSG_FIELD_HEADLINE, 0}, {"subheadline", MSG_FIELD_SUBHEADLINE, 0},
        {"body", MSG_FIELD_BODY, 0},         {"dateline_place", MSG_FIELD_DATELINE, 0},
        {"sectors", MSG_SECTOR, 1},          {"regions", MSG_REGION, 1},
        {"contacts", MSG_CONTACTS, 1},
    };
    /* Version k (2..N) replaced version k-1: versions[k-2] is k-1's text;
     * k's text is versions[k-1], or the release itself for the last. */
    for (size_t k = nv + 1; k >= 2; k--) {
        json_t *before = json_array_get(versions, k - 2);
        json_t *after = k - 1 < nv ? json_array_get(versions, k - 1) : cur;
        const char *note = k - 1 < nv ? jget(after, "note") : r->correction_note;
        int64_t at =
            k - 1 < nv ? json_integer_value(json_object_get(after, "at_ms")) : r->updated_at;
        kw_buf_puts(b, "<li>");
        if (at) {
            time_element(b, at, lang, CORE_TIME_DATETIME);
            kw_buf_puts(b, core_lang_label_separator(lang));
        }
        if (note) {
            kw_buf_puts(b, "<span class=\"note\" dir=\"auto\">");
            web_escape(b, note);
            kw_buf_puts(b, "</span>");
        }
        int nchanged = 0;
        for (size_t f = 0; f < KW_ARRAY_SIZE(fields); f++) {
            json_t *x = json_object_get(before, fields[f].key);
            json_t *y = json_object_get(after, fields[f].key);
            int same = fields[f].is_json ? same_json(x, y)
                                         : same_text(json_string_value(x), json_string_value(y));
            if (same) continue;
            kw_buf_puts(b,
                        nchanged ? core_lang_list_separator(lang) : "<br><span class=\"changed\">");
            if (nchanged == 0) {
                msg(b, app, lang, MSG_WHAT_CHANGED);
                kw_buf_puts(b, core_lang_label_separator(lang));
            }
            msg(b, app, lang, fields[f].label);
            nchanged++;
        }
        if (nchanged) kw_buf_puts(b, "</span>");
        const char *old_headline = jget(before, "headline");
        if (!same_text(old_headline, jget(after, "headline")) && old_headline) {
            kw_buf_puts(b, "<br><span class=\"previous\">");
            msg(b, app, lang, MSG_PREVIOUS_HEADLINE);
            kw_buf_puts(b, core_lang_label_separator(lang));
            kw_buf_puts(b, "<del dir=\"auto\">");
            web_escape(b, old_headline);
            kw_buf_puts(b, "</del></span>");
        }
        kw_buf_puts(b, "</li>\n");
    }
    kw_buf_puts(b, "</ol></section>\n");
    json_decref(cur);
    json_decref(versions);
}

static void contacts(kw_buf_t *b, kawat_app_t *app, const core_release_t *r,
                     const core_lang_t *lang)
{
    kw_buf_puts(b, "<section class=\"contacts\" aria-labelledby=\"contacts\"><h2 id=\"contacts\">");
    msg(b, app, lang, MSG_CONTACTS);
    kw_buf_puts(b, "</h2><ul>");
    size_t i;
    json_t *t;
    json_array_foreach(r->contacts, i, t)
    {
        const char *name = jget(t, "name"), *org = jget(t, "organization");
        const char *email = jget(t, "email"), *phone = jget(t, "phone");
        kw_buf_puts(b, "<li><bdi>");
        web_escape(b, name);
        kw_buf_puts(b, "</bdi>");
        if (org) {
            kw_buf_puts(b, " · <bdi>");
            web_escape(b, org);
            kw_buf_puts(b, "</bdi>");
        }
        if (email) {
            /* "mailto:" first: whatever the text, the link can only be mail. */
            kw_buf_puts(b, " · <a href=\"mailto:");
            web_escape(b, email);
            kw_buf_puts(b, "\" dir=\"ltr\">");
            web_escape(b, email);
            kw_buf_puts(b, "</a>");
        }
        if (phone) {
            kw_buf_puts(b, " · <span dir=\"ltr\">");
            web_escape(b, phone);
            kw_buf_puts(b, "</span>");
        }
        kw_buf_puts(b, "</li>");
    }
    kw_buf_puts(b, "</ul></section>\n");
}

/* schema.org NewsArticle for the release, with its dateline. */
static char *release_jsonld(kawat_app_t *app, const core_release_t *r, const core_lang_t *lang,
                            const char *summary, names_t *nm)
{
    char path[128], url[512], published[40], modified[40];
    core_release_path(r, path, sizeof(path));
    snprintf(url, sizeof(url), "%s%s", app->base_url, path);
    core_time_format_rfc3339(r->published_at, published, sizeof(published));
    core_time_format_rfc3339(r->updated_at > r->published_at ? r->updated_at : r->published_at,
                             modified, sizeof(modified));
    char *date = core_time_format_local(r->published_at, lang->icu_locale, CORE_TIME_DATE);
    kw_buf_t dl = {0};
    if (r->dateline_place) {
        kw_buf_puts(&dl, r->dateline_place);
        kw_buf_puts(&dl, core_lang_list_separator(lang));
    }
    kw_buf_printf(&dl, "%s (%s) –", date, app->wire_name);
    free(date);

    json_t *author = json_pack("{s:s, s:s}", "@type", "Organization", "name",
                               r->issuer_name ? r->issuer_name : "");
    if (r->issuer_slug) {
        char nr[512];
        snprintf(nr, sizeof(nr), "%s/%s/issuers/%s/", app->base_url, lang->tag, r->issuer_slug);
        json_object_set_new(author, "url", json_string(nr));
    }
    json_t *sections = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(r->sectors, i, v)
    {
        if (json_string_value(v))
            json_array_append_new(sections, json_string(sector_label(nm, json_string_value(v))));
    }
    json_t *doc =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:{s:s, s:s, s:s}, s:o, s:b}",
                  "@context", "https://schema.org", "@type", "NewsArticle", "@id", url, "url", url,
                  "mainEntityOfPage", url, "headline", r->headline, "datePublished", published,
                  "dateModified", modified, "inLanguage", r->language, "author", author,
                  "publisher", "@type", "Organization", "name", app->wire_name, "url",
                  app->base_url, "articleSection", sections, "isAccessibleForFree", 1);
    if (doc == NULL) {
        kw_buf_free(&dl);
        return NULL;
    }
    json_object_set_new(doc, "dateline", json_string(dl.data));
    if (summary && *summary) json_object_set_new(doc, "description", json_string(summary));
    if (r->subheadline)
        json_object_set_new(doc, "alternativeHeadline", json_string(r->subheadline));
    if (r->state == REL_CORRECTED && r->correction_note)
        json_object_set_new(doc, "correction", json_string(r->correction_note));
    kw_buf_free(&dl);
    return jsonld_text(doc);
}

/* The switcher for a release: its language versions where they exist, each
 * other language's home where not. tr: store_translations. */
static lang_link_t *release_links(const core_release_t *r, json_t *tr)
{
    size_t nl = core_lang_count();
    lang_link_t *links = kw_calloc(nl, sizeof(*links));
    for (size_t i = 0; i < nl; i++) {
        const core_lang_t *l = core_lang_at(i);
        snprintf(links[i].path, sizeof(links[i].path), "/%s/", l->tag);
        if (strcmp(l->tag, r->language) == 0) {
            core_release_path(r, links[i].path, sizeof(links[i].path));
            links[i].same = 1;
        }
        size_t k;
        json_t *t;
        json_array_foreach(tr, k, t)
        {
            const char *tl = jget(t, "language"), *tid = jget(t, "id");
            if (tl && tid && strcmp(tl, l->tag) == 0) {
                snprintf(links[i].path, sizeof(links[i].path), "/%s/releases/%s", tl, tid);
                links[i].same = 1;
            }
        }
    }
    return links;
}

static void release_gone(kawat_app_t *app, net_request_t *req, const core_release_t *r,
                         const core_lang_t *lang)
{
    char path[128], home[64];
    core_release_path(r, path, sizeof(path));
    snprintf(home, sizeof(home), "/%s/", lang->tag);
    char *title = core_lang_format(lang, MSG_WITHDRAWN, app->wire_name);
    head_t h = {.title = title, .path = path, .og_type = "website", .noindex = 1, .feeds = home};
    kw_buf_t b = {0};
    page_open(&b, app, lang, &h);
    kw_buf_puts(&b, "<h1>");
    web_escape(&b, title);
    kw_buf_puts(&b, "</h1>\n");
    if (r->withdrawn_at) {
        kw_buf_puts(&b, "<p class=\"meta\">");
        time_element(&b, r->withdrawn_at, lang, CORE_TIME_DATETIME);
        kw_buf_puts(&b, "</p>\n");
    }
    if (r->withdrawal_reason) {
        kw_buf_puts(&b, "<p class=\"withdrawal\">");
        label(&b, app, lang, MSG_REASON);
        kw_buf_puts(&b, "<span dir=\"auto\">");
        web_escape(&b, r->withdrawal_reason);
        kw_buf_puts(&b, "</span></p>\n");
    }
    kw_buf_printf(&b, "<p><a href=\"/%s/\">", lang->tag);
    msg(&b, app, lang, MSG_HOME);
    kw_buf_puts(&b, "</a></p>\n");
    page_close(&b, app, lang, home);
    free(title);
    const char *ids[] = {r->id};
    web_deps_t deps = {.ids = ids, .nids = 1};
    web_cache_respond(app->cache, req, 410, html_type, page_headers, &b,
                      r->withdrawn_at ? r->withdrawn_at : r->updated_at, &deps);
}

/* The article of a release page, from <article> to </article>: what readers
 * see, and what the desk's preview shows (web_desk.c). tr: the release's
 * other language versions (store_translations) or NULL. */
void web_release_article(kawat_app_t *app, const core_release_t *r, const core_lang_t *lang,
                         json_t *tr, kw_buf_t *b)
{
    names_t nm = {app, lang, NULL};
    size_t i;
    json_t *t;
    kw_buf_puts(b, "<article class=\"release\">\n<header>\n<h1 dir=\"auto\">");
    web_escape(b, r->headline);
    kw_buf_puts(b, "</h1>\n");
    if (r->subheadline) {
        kw_buf_puts(b, "<p class=\"subheadline\" dir=\"auto\">");
        web_escape(b, r->subheadline);
        kw_buf_puts(b, "</p>\n");
    }
    kw_buf_puts(b, "<p class=\"meta\">");
    label(b, app, lang, MSG_PUBLISHED);
    time_element(b, r->published_at, lang, CORE_TIME_DATETIME);
    if (r->state == REL_CORRECTED && r->updated_at > r->published_at) {
        kw_buf_puts(b, " · ");
        label(b, app, lang, MSG_UPDATED);
        time_element(b, r->updated_at, lang, CORE_TIME_DATETIME);
    }
    kw_buf_puts(b, " · ");
    label(b, app, lang, MSG_ISSUER);
    issuer_link(b, lang, r);
    kw_buf_puts(b, "</p>\n</header>\n");
    if (r->state == REL_CORRECTED || r->version > 1) corrections(b, app, r, lang);
    body_with_dateline(b, app, r, lang);
    if (json_array_size(r->contacts)) contacts(b, app, r, lang);
    if (json_array_size(r->sectors)) sector_line(b, &nm, r);
    kw_buf_puts(b, "<p class=\"disclaimer\">");
    msg(b, app, lang, MSG_DISCLAIMER);
    kw_buf_puts(b, "</p>\n");
    if (json_array_size(tr)) {
        kw_buf_puts(b, "<nav class=\"translations\" aria-labelledby=\"other-languages\"><h2 "
                        "id=\"other-languages\">");
        msg(b, app, lang, MSG_OTHER_LANGUAGES);
        kw_buf_puts(b, "</h2><ul>");
        json_array_foreach(tr, i, t)
        {
            const char *tl = jget(t, "language"), *tid = jget(t, "id");
            const core_lang_t *l = core_lang_find_z(tl);
            if (tl == NULL || tid == NULL || l == NULL) continue;
            kw_buf_printf(b,
                          "<li><a href=\"/%s/releases/%s\" hreflang=\"%s\" lang=\"%s\" dir=\"%s\">",
                          l->tag, tid, l->tag, l->tag, l->rtl ? "rtl" : "ltr");
            web_escape(b, l->native);
            kw_buf_puts(b, "</a></li>");
        }
        kw_buf_puts(b, "</ul></nav>\n");
    }
    kw_buf_puts(b, "</article>\n");
    json_decref(nm.sectors);
}

void web_release(kawat_app_t *app, net_request_t *req, const core_lang_t *lang, const char *id)
{
    if (lang == NULL) lang = app_lang(app);
    /* Release pages take no parameters. */
    if (page_query(req, 0, NULL) != KW_OK) {
        web_error(app, req, lang, 400);
        return;
    }
    core_release_t *r = NULL;
    /* Pages never show unpublished releases, whoever asks. */
    if (store_release_get(app->store, id, &r) != KW_OK || !core_release_is_public(r) ||
        strcmp(r->language, lang->tag) != 0) {
        core_release_free(r);
        web_error(app, req, lang, 404);
        return;
    }
    if (r->state == REL_WITHDRAWN) {
        release_gone(app, req, r, lang);
        core_release_free(r);
        return;
    }

    char path[128], home[64];
    core_release_path(r, path, sizeof(path));
    snprintf(home, sizeof(home), "/%s/", lang->tag);
    json_t *tr = store_translations(app->store, r->translation_group, r->id);
    lang_link_t *links = release_links(r, tr);
    names_t nm = {app, lang, NULL};
    char *summary = core_markdown_text(r->body, strlen(r->body), SUMMARY_BYTES);
    char *jsonld = release_jsonld(app, r, lang, summary, &nm);
    kw_buf_t latest = {0};
    web_scope_title(app, &(web_scope_t){.kind = WEB_SCOPE_HOME, .lang = lang}, lang, &latest);

    /* article:* OpenGraph properties: times, section, the issuer. */
    kw_buf_t og = {0};
    char iso[40];
    core_time_format_rfc3339(r->published_at, iso, sizeof(iso));
    meta_property(&og, "article:published_time", iso);
    if (r->updated_at > r->published_at) {
        core_time_format_rfc3339(r->updated_at, iso, sizeof(iso));
        meta_property(&og, "article:modified_time", iso);
    }
    size_t i;
    json_t *t;
    json_array_foreach(r->sectors, i, t)
    {
        if (json_string_value(t))
            meta_property(&og, "article:section", sector_label(&nm, json_string_value(t)));
    }

    head_t h = {.title = r->headline,
                .path = path,
                .og_type = "article",
                .description = summary,
                .feeds = home,
                .feeds_title = latest.data,
                .links = links,
                .jsonld = jsonld,
                .og_extra = og.data};
    kw_buf_t b = {0};
    page_open(&b, app, lang, &h);

    web_release_article(app, r, lang, tr, &b);
    page_close(&b, app, lang, home);

    const char *ids[] = {r->id};
    web_deps_t deps = {.ids = ids, .nids = 1, .group = r->translation_group};
    web_cache_respond(app->cache, req, 200, html_type, page_headers, &b,
                      r->updated_at > r->published_at ? r->updated_at : r->published_at, &deps);

    json_decref(tr);
    json_decref(nm.sectors);
    free(links);
    free(summary);
    free(jsonld);
    kw_buf_free(&og);
    kw_buf_free(&latest);
    core_release_free(r);
}

/* ---- errors ---- */

/* The reader's language from Accept-Language when the address names none
 * (or an unknown one): the carried language with the highest q, matching a
 * tag exactly or by its primary language ("pt-BR" is pt, "zh-TW" and
 * "zh-HK" are zh-Hant, other "zh" zh-Hans). NULL if none is carried. */
static const core_lang_t *accept_language(const net_request_t *req)
{
    const kw_str_t *h = net_request_header(req, "accept-language");
    if (h == NULL) return NULL;
    const core_lang_t *best = NULL;
    int best_q = 0;
    size_t i = 0;
    while (i < h->len) {
        size_t start = i;
        while (i < h->len && h->data[i] != ',')
            i++;
        kw_str_t item = {h->data + start, i - start};
        i++;
        /* "  zh-TW ; q=0.8" -> tag "zh-TW", q 800 */
        size_t a = 0, e = 0;
        while (a < item.len && item.data[a] == ' ')
            a++;
        e = a;
        while (e < item.len && item.data[e] != ';' && item.data[e] != ' ')
            e++;
        kw_str_t tag = {item.data + a, e - a};
        int q = 1000;
        const char *qp = memchr(item.data, ';', item.len);
        if (qp) {
            const char *end = item.data + item.len;
            while (qp < end && (*qp == ';' || *qp == ' '))
                qp++;
            if (end - qp >= 3 && qp[0] == 'q' && qp[1] == '=') {
                q = 0;
                int scale = 1000;
                for (const char *d = qp + 2; d < end && scale > 0; d++) {
                    if (*d == '.') continue;
                    if (*d < '0' || *d > '9') break;
                    q += (*d - '0') * scale;
                    scale /= 10;
                }
            }
        }
        if (tag.len == 0 || q <= best_q) continue;
        const core_lang_t *l = core_lang_find(tag);
        if (l == NULL) {
            size_t primary = 0;
            while (primary < tag.len && tag.data[primary] != '-' && tag.data[primary] != '_')
                primary++;
            kw_str_t p = {tag.data, primary};
            if (kw_str_caseeq(p, "zh")) {
                /* Subtags after "zh": a script or a region of Traditional use. */
                int hant = 0;
                size_t k = primary;
                while (k < tag.len) {
                    size_t b0 = ++k;
                    while (k < tag.len && tag.data[k] != '-' && tag.data[k] != '_')
                        k++;
                    kw_str_t sub = {tag.data + b0, k - b0};
                    if (kw_str_caseeq(sub, "hant") || kw_str_caseeq(sub, "tw") ||
                        kw_str_caseeq(sub, "hk") || kw_str_caseeq(sub, "mo"))
                        hant = 1;
                }
                l = core_lang_find_z(hant ? "zh-Hant" : "zh-Hans");
            } else {
                l = core_lang_find(p);
            }
        }
        if (l) {
            best = l;
            best_q = q;
        }
    }
    return best;
}

void web_error(kawat_app_t *app, net_request_t *req, const core_lang_t *lang, int status)
{
    if (lang == NULL) lang = accept_language(req);
    if (lang == NULL) lang = app_lang(app);
    core_msg_t title_msg = MSG_NOT_FOUND, detail_msg = MSG_NOT_FOUND_DETAIL;
    if (status >= 500) {
        title_msg = MSG_UNAVAILABLE;
        detail_msg = MSG_UNAVAILABLE;
    } else if (status != 404 && status != 410) {
        title_msg = MSG_BAD_REQUEST;
        detail_msg = MSG_BAD_REQUEST_DETAIL;
    }
    char *title = core_lang_format(lang, title_msg, app->wire_name);
    head_t h = {.title = title, .noindex = 1};
    kw_buf_t b = {0};
    page_open(&b, app, lang, &h);
    kw_buf_printf(&b, "<h1>%d · ", status);
    web_escape(&b, title);
    kw_buf_puts(&b, "</h1>\n");
    if (detail_msg != title_msg) {
        kw_buf_puts(&b, "<p>");
        msg(&b, app, lang, detail_msg);
        kw_buf_puts(&b, "</p>\n");
    }
    kw_buf_printf(&b, "<p><a href=\"/%s/\">", lang->tag);
    msg(&b, app, lang, MSG_HOME);
    kw_buf_puts(&b, "</a></p>\n");
    free(title);
    page_close(&b, app, lang, NULL);
    /* Errors are never cached: a 404 can become a page the next second. */
    kw_buf_t headers = {0};
    kw_buf_puts(&headers, "Cache-Control: no-cache\r\n");
    kw_buf_puts(&headers, page_headers);
    if (status == 503) kw_buf_puts(&headers, "Retry-After: 5\r\n");
    net_respond(req, status, html_type, headers.data, b.data, b.len);
    kw_buf_free(&headers);
    kw_buf_free(&b);
}

const core_lang_t *web_accept_language(const net_request_t *req)
{
    return accept_language(req);
}
