/* feeds_render.h -- the documents outlets and news readers take: RSS 2.0,
 * Atom (RFC 4287), JSON Feed 1.1, a ninjs 3 list, NewsML-G2 (a newsItem per
 * release and a newsMessage feed), and the discovery documents (sitemaps,
 * Google News sitemap). Pure functions: they render what they are given
 * into a buffer and read nothing; the caller (web_route.c) chooses the
 * releases, and only ever gives public ones (published or corrected).
 *
 * Every text from a release is escaped for its context (XML text and
 * attributes, JSON strings) and characters XML 1.0 cannot carry (C0
 * controls but tab, newline and carriage return; U+FFFE, U+FFFF; invalid
 * UTF-8) are dropped, so a hostile release gives a well-formed, inert
 * document that keeps its text intact. */
#ifndef KAWAT_FEEDS_RENDER_H
#define KAWAT_FEEDS_RENDER_H

#include "core/core.h"
#include "core/core_lang.h"
#include "core/core_release.h"

#include <jansson.h>
#include <stdint.h>

typedef enum {
    FEEDS_RSS,      /* rss.xml     application/rss+xml; charset=utf-8 */
    FEEDS_ATOM,     /* atom.xml    application/atom+xml; charset=utf-8 */
    FEEDS_JSONFEED, /* feed.json   application/feed+json; charset=utf-8 */
    FEEDS_NINJS,    /* ninjs.json  application/json; charset=utf-8 */
    FEEDS_NEWSML,   /* newsml.xml  application/vnd.iptc.g2.newsmessage+xml; charset=utf-8 */
    FEEDS_FORMAT_COUNT_
} feeds_format_t;

/* The file name a feed has at the end of its listing path ("rss.xml"). */
const char *feeds_format_file(feeds_format_t f);
/* The Content-Type of a feed document. */
const char *feeds_format_type(feeds_format_t f);
/* The format named by a file name (len bytes, not NUL-terminated): KW_OK
 * or KW_NOTFOUND. */
int feeds_format_from_file(const char *name, size_t len, feeds_format_t *out);

/* What a feed document says about itself. */
typedef struct {
    const char *base_url;     /* "http://127.0.0.1:8080": absolute, no trailing slash */
    const char *wire_name;    /* "kawat" */
    const char *self_path;    /* the feed's own path: "/id/sectors/technology/rss.xml" */
    const char *page_path;    /* the HTML page listing the same releases, or NULL
                                 (all-language scopes have no page) */
    const char *hub_path;     /* the WebSub hub: "/websub" */
    const char *title;        /* localized title of the listing, plain text */
    const core_lang_t *lang;  /* the feed's language; NULL: all languages */
    int64_t updated_ms;       /* the newest change shown (0: now) */
} feeds_meta_t;

/* Renders items (newest first; each published or corrected; any other is
 * skipped) as a feed of format f, appending to out. translations, when not
 * NULL, is an array of n JSON arrays of {language, id} (store_translations)
 * naming each item's other language versions (used by ninjs and
 * NewsML-G2; NULL entries or a NULL array mean none). Every feed links
 * itself (rel self) and the hub (rel hub), as WebSub requires. Returns
 * KW_OK.
 *
 * Shapes worth knowing:
 *   FEEDS_NINJS   ninjs has no list type and its schema allows no property
 *                 of ours in an item, so the document is kawat's wrapper
 *                 {"uri": self URL, "links": [{"rel": "self", "href"},
 *                 {"rel": "hub", "href"}], "items": [ninjs 3 items of
 *                 feeds_ninjs_release()]}; each item validates alone.
 *   FEEDS_NEWSML  a newsMessage: header (sent, sender = the host of
 *                 base_url, origin = the feed's URL) and an itemSet of
 *                 newsItems as feeds_newsml_item() writes them. NewsML-G2
 *                 has no element for links, so the caller sends self and
 *                 hub as HTTP Link headers (WebSub allows either).
 *   FEEDS_RSS     pubDate and lastBuildDate are RFC 822 dates with a
 *                 four-digit year and "GMT"; description is a plain-text
 *                 summary (the body's first 300 characters). */
int feeds_render(feeds_format_t f, const feeds_meta_t *m, core_release_t *const *items, size_t n,
                 json_t *const *translations, kw_buf_t *out);

/* One release as a NewsML-G2 newsItem document (GET /v1/releases/{id}
 * ?format=newsml), valid against the IPTC schema. guid is the release
 * page URL (as ninjs's uri); the body travels twice in contentSet: as
 * XHTML in inlineXML (cmark's HTML, checked well-formed, else the plain
 * text as one paragraph) and as text/plain in inlineData. translations
 * as above for the one release (may be NULL). Returns KW_OK; KW_DECLINED
 * for a release that is not published or corrected. */
int feeds_newsml_item(const core_release_t *r, const char *base_url, const char *wire_name,
                      const json_t *translations, kw_buf_t *out);
#define FEEDS_NEWSML_ITEM_TYPE "application/vnd.iptc.g2.newsitem+xml; charset=utf-8"

/* ---- discovery ---- */

/* The sitemap index: one <sitemap> per month "YYYY-MM" (newest first) at
 * base_url + "/sitemaps/YYYY-MM.xml", with lastmod. */
typedef struct {
    char month[8];       /* "2026-11" */
    int64_t lastmod_ms;
} feeds_sitemap_month_t;
int feeds_sitemap_index(const char *base_url, const feeds_sitemap_month_t *months, size_t n,
                        kw_buf_t *out);

/* A sitemap of release pages: one <url> per item with lastmod and, per
 * item's translations (array of {language, id}, may be NULL), xhtml:link
 * rel="alternate" hreflang for every language version including itself. */
int feeds_sitemap_urls(const char *base_url, core_release_t *const *items, size_t n,
                       json_t *const *translations, kw_buf_t *out);

/* The Google News sitemap: items (at most 1,000, of the last two days),
 * each with news:publication (wire_name, language), publication_date and
 * title. */
int feeds_sitemap_news(const char *base_url, const char *wire_name, core_release_t *const *items,
                       size_t n, kw_buf_t *out);

/* Appends z escaped for XML text and attributes, dropping characters XML
 * 1.0 cannot carry. */
void feeds_xml_escape(kw_buf_t *b, const char *z);

/* The dateline a release page opens its body with, "PLACE, 28 November
 * 2026 (wire) –", in lang (NULL: the release's language) with the date of
 * date_ms. Shared by ninjs and NewsML-G2 (defined in feeds_ninjs.c).
 * malloc'd, caller frees. */
char *feeds_dateline(const core_release_t *r, const core_lang_t *lang, const char *wire_name,
                     int64_t date_ms);

#endif
