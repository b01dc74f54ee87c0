/* feeds_render.c -- RSS 2.0, Atom, JSON Feed 1.1, the ninjs list, NewsML-G2
 * and the sitemaps, written by hand into a buffer. Every text from a
 * release goes through one of two doors: xml_put() for XML (escapes and
 * drops what XML 1.0 cannot carry) and jtext() for JSON (jansson escapes;
 * invalid UTF-8 is dropped). The contract is in feeds_render.h. */
#include "feeds/feeds_render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/core_markdown.h"
#include "core/core_region.h"
#include "core/core_sector.h"
#include "core/core_time.h"
#include "feeds/feeds.h"

#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define NS_ATOM "http://www.w3.org/2005/Atom"
#define NS_DC "http://purl.org/dc/elements/1.1/"
#define NS_NAR "http://iptc.org/std/nar/2006-10-01/"
#define NS_XHTML "http://www.w3.org/1999/xhtml"
#define NS_SITEMAP "http://www.sitemaps.org/schemas/sitemap/0.9"
#define NS_GNEWS "http://www.google.com/schemas/sitemap-news/0.9"
#define IPTC_CATALOG "http://www.iptc.org/std/catalog/catalog.IPTC-G2-Standards_41.xml"

/* Summaries (RSS description, Atom and JSON Feed summary) are the body's
 * first words, this many characters at most. */
#define SUMMARY_CHARS 300
/* Google News takes at most 1,000 URLs per news sitemap. */
#define NEWS_SITEMAP_MAX 1000

static const struct {
    const char *file;
    const char *type;
} formats[FEEDS_FORMAT_COUNT_] = {
    [FEEDS_RSS] = {"rss.xml", "application/rss+xml; charset=utf-8"},
    [FEEDS_ATOM] = {"atom.xml", "application/atom+xml; charset=utf-8"},
    [FEEDS_JSONFEED] = {"feed.json", "application/feed+json; charset=utf-8"},
    [FEEDS_NINJS] = {"ninjs.json", "application/json; charset=utf-8"},
    [FEEDS_NEWSML] = {"newsml.xml", "application/vnd.iptc.g2.newsmessage+xml; charset=utf-8"},
};

/* ---- XML text --------------------------------------------------------- */

/* Length of the character at p (n > 0 bytes left) if XML 1.0 may carry it,
 * else 0 (the caller then drops one byte and resynchronizes). Legal: tab,
 * newline, carriage return, U+0020-U+D7FF, U+E000-U+FFFD and the
 * supplementary planes -- so bidi controls and C1 controls stay. */
static size_t xml_char(const char *p, size_t n)
{
    unsigned char c = (unsigned char)p[0];
    if (c < 0x80) return c >= 0x20 || c == '\t' || c == '\n' || c == '\r' ? 1 : 0;
    size_t len = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (!len || len > n || !kw_utf8_valid(p, len)) return 0;
    if (len == 3 && c == 0xEF && (unsigned char)p[1] == 0xBF &&
        ((unsigned char)p[2] & 0xFE) == 0xBE)
        return 0; /* U+FFFE, U+FFFF */
    return len;
}

typedef enum {
    XML_TEXT, /* element content: & < > escaped, \r kept as a reference */
    XML_ATTR, /* attribute value: also " ' and tab/newline as references,
                 which a parser would otherwise normalize to spaces */
    XML_NORM, /* attribute of a type without tab or newline (NewsML-G2's
                 g2normalizedString): those become spaces */
    XML_RAW   /* markup we made ourselves: only illegal characters dropped */
} xml_mode_t;

/* Appends p (n bytes) to b for the context mode. */
static void xml_put_n(kw_buf_t *b, const char *p, size_t n, xml_mode_t mode)
{
    size_t i = 0, run = 0; /* run: legal bytes not yet copied, ending at i */
    while (i < n) {
        size_t len = xml_char(p + i, n - i);
        const char *rep = NULL;
        if (len == 1 && mode != XML_RAW) {
            switch (p[i]) {
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
                rep = mode == XML_TEXT ? NULL : "&quot;";
                break;
            case '\'':
                rep = mode == XML_TEXT ? NULL : "&apos;";
                break;
            case '\r':
                rep = mode == XML_NORM ? " " : "&#13;";
                break;
            case '\t':
                rep = mode == XML_ATTR ? "&#9;" : mode == XML_NORM ? " " : NULL;
                break;
            case '\n':
                rep = mode == XML_ATTR ? "&#10;" : mode == XML_NORM ? " " : NULL;
                break;
            default:
                break;
            }
        }
        if (len && !rep) {
            i += len;
            run += len;
            continue;
        }
        kw_buf_append(b, p + i - run, run);
        run = 0;
        if (rep) kw_buf_puts(b, rep);
        i += len ? len : 1;
    }
    kw_buf_append(b, p + i - run, run);
}

static void xml_put(kw_buf_t *b, const char *z, xml_mode_t mode)
{
    if (z) xml_put_n(b, z, strlen(z), mode);
}

void feeds_xml_escape(kw_buf_t *b, const char *z)
{
    xml_put(b, z, XML_ATTR);
}

/* <name>escaped text</name> */
static void xml_elem(kw_buf_t *b, const char *name, const char *text)
{
    kw_buf_printf(b, "<%s>", name);
    xml_put(b, text, XML_TEXT);
    kw_buf_printf(b, "</%s>", name);
}

/* <name>RFC 3339 time</name> */
static void xml_time(kw_buf_t *b, const char *name, int64_t ms)
{
    char t[CORE_TIME_BUF_SIZE];
    core_time_format_rfc3339(ms, t, sizeof(t));
    kw_buf_printf(b, "<%s>%s</%s>", name, t, name);
}

/* ---- well-formed XHTML ------------------------------------------------ */

/* A design note on NewsML-G2 bodies. inlineXML must hold well-formed XML,
 * and cmark-gfm's HTML usually is (void elements come self-closed, text and
 * attributes are escaped with &amp; &lt; &gt; &quot; and numeric
 * references, raw HTML is replaced by a comment), but that is its habit,
 * not a promise, and control characters pass through it. So the HTML is
 * first stripped of what XML cannot carry and then checked by the small
 * scanner below; if the scanner has any doubt, the body goes out as plain
 * text paragraphs instead. The scanner accepts a strict subset of XML:
 * elements and attributes without prefixes, double or single quoted values,
 * the five predefined entities and numeric references to legal characters,
 * comments; nothing else (no DOCTYPE, CDATA or processing instructions). */

#define XHTML_DEPTH_MAX 256
#define XHTML_ATTRS_MAX 16

static int is_name_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_name_char(unsigned char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Length of the name at p, 0 if none. */
static size_t name_len(const char *p, size_t n)
{
    if (n == 0 || !is_name_start((unsigned char)p[0])) return 0;
    size_t i = 1;
    while (i < n && is_name_char((unsigned char)p[i]))
        i++;
    return i;
}

/* The length of the reference at p ('&'), or 0 if it is not one XML knows
 * without a DTD. */
static size_t entity_len(const char *p, size_t n)
{
    static const char *const named[] = {"amp;", "lt;", "gt;", "quot;", "apos;"};
    for (size_t k = 0; k < KW_ARRAY_SIZE(named); k++) {
        size_t l = strlen(named[k]);
        if (n > l && memcmp(p + 1, named[k], l) == 0) return l + 1;
    }
    if (n < 4 || p[1] != '#') return 0;
    int hex = p[2] == 'x';
    size_t i = hex ? 3 : 2, start = i;
    unsigned long v = 0;
    for (; i < n && i < start + 8 && p[i] != ';'; i++) {
        unsigned char c = (unsigned char)p[i];
        int d = c >= '0' && c <= '9'          ? c - '0'
                : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
                : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10
                                              : -1;
        if (d < 0) return 0;
        v = v * (hex ? 16 : 10) + (unsigned long)d;
    }
    if (i == start || i >= n || p[i] != ';') return 0;
    int legal = v == 0x9 || v == 0xA || v == 0xD || (v >= 0x20 && v <= 0xD7FF) ||
                (v >= 0xE000 && v <= 0xFFFD) || (v >= 0x10000 && v <= 0x10FFFF);
    return legal ? i + 1 : 0;
}

/* 1 if p (n bytes, legal XML characters only) is a well-formed XML fragment
 * in the subset described above, 0 otherwise. */
static int xhtml_well_formed(const char *p, size_t n)
{
    const char *open[XHTML_DEPTH_MAX];
    size_t open_len[XHTML_DEPTH_MAX];
    size_t depth = 0, i = 0;
    while (i < n) {
        char c = p[i];
        if (c == '&') {
            size_t l = entity_len(p + i, n - i);
            if (!l) return 0;
            i += l;
            continue;
        }
        if (c == '>' && i >= 2 && p[i - 1] == ']' && p[i - 2] == ']') return 0;
        if (c != '<') {
            i++;
            continue;
        }
        if (n - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
            size_t j = i + 4;
            while (j + 1 < n && !(p[j] == '-' && p[j + 1] == '-'))
                j++;
            if (j + 2 >= n || p[j + 2] != '>') return 0; /* "--" only as "-->" */
            i = j + 3;
            continue;
        }
        if (i + 1 < n && p[i + 1] == '/') { /* end tag */
            size_t l = name_len(p + i + 2, n - i - 2);
            if (!l || depth == 0) return 0;
            depth--;
            if (open_len[depth] != l || memcmp(open[depth], p + i + 2, l) != 0) return 0;
            i += 2 + l;
            while (i < n && is_space(p[i]))
                i++;
            if (i >= n || p[i] != '>') return 0;
            i++;
            continue;
        }
        size_t l = name_len(p + i + 1, n - i - 1); /* start tag */
        if (!l) return 0;
        const char *name = p + i + 1;
        const char *attr[XHTML_ATTRS_MAX];
        size_t attr_len[XHTML_ATTRS_MAX], nattr = 0;
        i += 1 + l;
        for (;;) {
            size_t ws = 0;
            while (i < n && is_space(p[i]))
                i++, ws++;
            if (i >= n) return 0;
            if (p[i] == '>' || (p[i] == '/' && i + 1 < n && p[i + 1] == '>')) break;
            size_t al = name_len(p + i, n - i);
            if (!al || !ws || nattr == XHTML_ATTRS_MAX) return 0;
            for (size_t k = 0; k < nattr; k++)
                if (attr_len[k] == al && memcmp(attr[k], p + i, al) == 0) return 0;
            attr[nattr] = p + i;
            attr_len[nattr++] = al;
            i += al;
            while (i < n && is_space(p[i]))
                i++;
            if (i >= n || p[i] != '=') return 0;
            i++;
            while (i < n && is_space(p[i]))
                i++;
            if (i >= n || (p[i] != '"' && p[i] != '\'')) return 0;
            char q = p[i++];
            while (i < n && p[i] != q) {
                if (p[i] == '<') return 0;
                if (p[i] == '&') {
                    size_t el = entity_len(p + i, n - i);
                    if (!el) return 0;
                    i += el;
                } else {
                    i++;
                }
            }
            if (i >= n) return 0;
            i++; /* closing quote */
        }
        if (p[i] == '/') {
            i += 2; /* empty element */
        } else {
            if (depth == XHTML_DEPTH_MAX) return 0;
            open[depth] = name;
            open_len[depth++] = l;
            i++;
        }
    }
    return depth == 0;
}

/* ---- shared parts ----------------------------------------------------- */

/* What every format shows: published or corrected releases only, however
 * the caller chose them (nothing unpublished leaks by mistake here). */
static int shown(const core_release_t *r)
{
    return r && r->id[0] && r->language[0] &&
           (r->state == REL_PUBLISHED || r->state == REL_CORRECTED);
}

/* The time a version was made: updated_at for a correction, otherwise the
 * publication. */
static int64_t version_time(const core_release_t *r)
{
    if (r->version > 1 && r->updated_at > 0) return r->updated_at;
    return r->published_at > 0 ? r->published_at : r->updated_at;
}

static const core_lang_t *release_lang(const core_release_t *r)
{
    const core_lang_t *l = core_lang_find_z(r->language);
    return l ? l : core_lang_default();
}

/* base_url + the release page's path, as a NUL-terminated string in b. */
static void release_url(kw_buf_t *b, const char *base_url, const core_release_t *r)
{
    char path[96];
    core_release_path(r, path, sizeof(path));
    kw_buf_reset(b);
    kw_buf_printf(b, "%s%s", base_url ? base_url : "", path);
}

/* The body of a release, rendered once per document. */
typedef struct {
    char *html;    /* core_markdown_html */
    char *text;    /* core_markdown_text, whole */
    char *summary; /* text cut to SUMMARY_CHARS characters */
} body_t;

static void body_render(body_t *bd, const core_release_t *r)
{
    const char *md = r->body ? r->body : "";
    size_t n = strlen(md);
    bd->html = core_markdown_html(md, n);
    bd->text = core_markdown_text(md, n, 0);
    /* core_markdown_truncate counts bytes: find the byte offset of the
     * limit in characters (plus room for the "…" it adds). */
    size_t chars = 0, i = 0, len = strlen(bd->text);
    while (i < len && chars < SUMMARY_CHARS) {
        i++;
        while (i < len && ((unsigned char)bd->text[i] & 0xC0) == 0x80)
            i++;
        chars++;
    }
    bd->summary = i < len ? core_markdown_truncate(bd->text, len, i + 3) : kw_strdup(bd->text);
}

static void body_free(body_t *bd)
{
    free(bd->html);
    free(bd->text);
    free(bd->summary);
}

static const char *str_or(const char *z, const char *dflt)
{
    return z && *z ? z : dflt;
}

/* A JSON string of z with invalid UTF-8 dropped (jansson refuses it, and a
 * field must not vanish). */
static json_t *jtext(const char *z)
{
    if (!z) z = "";
    size_t n = strlen(z);
    if (kw_utf8_valid(z, n)) return json_stringn(z, n);
    kw_buf_t b = {0};
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)z[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (len && i + len <= n && kw_utf8_valid(z + i, len)) {
            kw_buf_append(&b, z + i, len);
            i += len;
        } else {
            i++;
        }
    }
    json_t *s = json_stringn(b.data ? b.data : "", b.len);
    kw_buf_free(&b);
    return s;
}

static json_t *jtime(int64_t ms)
{
    char t[CORE_TIME_BUF_SIZE];
    core_time_format_rfc3339(ms, t, sizeof(t));
    return json_string(t);
}

/* Appends the JSON document o (decref'd) to out. */
static void json_out(kw_buf_t *out, json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s) kw_buf_puts(out, s);
    free(s);
    json_decref(o);
}

static int64_t feed_updated(const feeds_meta_t *m)
{
    return m->updated_ms > 0 ? m->updated_ms : kw_now_ms();
}

/* ---- RSS 2.0 ---------------------------------------------------------- */

static void render_rss(const feeds_meta_t *m, core_release_t *const *items, size_t n, kw_buf_t *out)
{
    const char *base = str_or(m->base_url, "");
    char date[CORE_TIME_BUF_SIZE];
    kw_buf_t url = {0};

    kw_buf_puts(out, XML_DECL "<rss version=\"2.0\" xmlns:atom=\"" NS_ATOM "\" xmlns:dc=\"" NS_DC
                              "\">\n<channel>\n");
    xml_elem(out, "title", m->title);
    kw_buf_puts(out, "\n<link>");
    xml_put(out, base, XML_TEXT);
    xml_put(out, m->page_path ? m->page_path : "/", XML_TEXT);
    kw_buf_puts(out, "</link>\n");
    xml_elem(out, "description", m->title);
    if (m->lang) {
        kw_buf_puts(out, "\n");
        xml_elem(out, "language", m->lang->tag);
    }
    /* The HTTP date is an RFC 822 date with a four-digit year, which is what
     * RSS readers and validators expect. */
    core_time_format_http(feed_updated(m), date, sizeof(date));
    kw_buf_printf(out, "\n<lastBuildDate>%s</lastBuildDate>\n", date);
    xml_elem(out, "generator", str_or(m->wire_name, "kawat"));
    kw_buf_puts(out, "\n<atom:link rel=\"self\" type=\"application/rss+xml\" href=\"");
    xml_put(out, base, XML_ATTR);
    xml_put(out, m->self_path, XML_ATTR);
    kw_buf_puts(out, "\"/>\n<atom:link rel=\"hub\" href=\"");
    xml_put(out, base, XML_ATTR);
    xml_put(out, m->hub_path, XML_ATTR);
    kw_buf_puts(out, "\"/>\n");

    for (size_t i = 0; i < n; i++) {
        const core_release_t *r = items[i];
        if (!shown(r)) continue;
        body_t bd;
        body_render(&bd, r);
        release_url(&url, base, r);
        kw_buf_puts(out, "<item>\n");
        xml_elem(out, "title", r->headline);
        kw_buf_puts(out, "\n");
        xml_elem(out, "link", url.data);
        kw_buf_puts(out, "\n<guid isPermaLink=\"true\">");
        xml_put(out, url.data, XML_TEXT);
        core_time_format_http(r->published_at, date, sizeof(date));
        kw_buf_printf(out, "</guid>\n<pubDate>%s</pubDate>\n", date);
        xml_elem(out, "description", bd.summary);
        kw_buf_puts(out, "\n");
        size_t k;
        json_t *v;
        json_array_foreach(r->sectors, k, v)
        {
            if (!json_string_value(v)) continue;
            xml_elem(out, "category", json_string_value(v));
            kw_buf_puts(out, "\n");
        }
        if (r->issuer_name && *r->issuer_name) {
            xml_elem(out, "dc:creator", r->issuer_name);
            kw_buf_puts(out, "\n");
        }
        kw_buf_puts(out, "</item>\n");
        body_free(&bd);
    }
    kw_buf_puts(out, "</channel>\n</rss>\n");
    kw_buf_free(&url);
}

/* ---- Atom ------------------------------------------------------------- */

static void atom_link(kw_buf_t *out, const char *rel, const char *type, const char *base,
                      const char *path)
{
    kw_buf_printf(out, "<link rel=\"%s\"", rel);
    if (type) kw_buf_printf(out, " type=\"%s\"", type);
    kw_buf_puts(out, " href=\"");
    xml_put(out, base, XML_ATTR);
    xml_put(out, path, XML_ATTR);
    kw_buf_puts(out, "\"/>\n");
}

static void render_atom(const feeds_meta_t *m, core_release_t *const *items, size_t n,
                        kw_buf_t *out)
{
    const char *base = str_or(m->base_url, "");
    const char *wire = str_or(m->wire_name, "kawat");
    kw_buf_t url = {0};

    kw_buf_puts(out, XML_DECL "<feed xmlns=\"" NS_ATOM "\"");
    if (m->lang) kw_buf_printf(out, " xml:lang=\"%s\"", m->lang->tag);
    kw_buf_puts(out, ">\n<id>");
    xml_put(out, base, XML_TEXT);
    xml_put(out, m->self_path, XML_TEXT);
    kw_buf_puts(out, "</id>\n<title type=\"text\">");
    xml_put(out, m->title, XML_TEXT);
    kw_buf_puts(out, "</title>\n");
    xml_time(out, "updated", feed_updated(m));
    kw_buf_puts(out, "\n");
    atom_link(out, "self", "application/atom+xml", base, m->self_path);
    atom_link(out, "hub", NULL, base, m->hub_path);
    if (m->page_path) atom_link(out, "alternate", "text/html", base, m->page_path);
    kw_buf_puts(out, "<author><name>");
    xml_put(out, wire, XML_TEXT);
    kw_buf_puts(out, "</name><uri>");
    xml_put(out, base, XML_TEXT);
    kw_buf_puts(out, "/</uri></author>\n");
    xml_elem(out, "generator", wire);
    kw_buf_puts(out, "\n");

    for (size_t i = 0; i < n; i++) {
        const core_release_t *r = items[i];
        if (!shown(r)) continue;
        body_t bd;
        body_render(&bd, r);
        release_url(&url, base, r);
        kw_buf_printf(out, "<entry xml:lang=\"%s\">\n", release_lang(r)->tag);
        xml_elem(out, "id", url.data);
        kw_buf_puts(out, "\n<title type=\"text\">");
        xml_put(out, r->headline, XML_TEXT);
        kw_buf_puts(out, "</title>\n");
        xml_time(out, "updated", version_time(r));
        xml_time(out, "published", r->published_at);
        kw_buf_printf(out, "\n<link rel=\"alternate\" type=\"text/html\" hreflang=\"%s\" href=\"",
                      release_lang(r)->tag);
        xml_put(out, url.data, XML_ATTR);
        kw_buf_puts(out, "\"/>\n");
        if (r->issuer_name && *r->issuer_name) {
            kw_buf_puts(out, "<author><name>");
            xml_put(out, r->issuer_name, XML_TEXT);
            kw_buf_puts(out, "</name></author>\n");
        }
        kw_buf_puts(out, "<summary type=\"text\">");
        xml_put(out, bd.summary, XML_TEXT);
        kw_buf_puts(out, "</summary>\n<content type=\"html\">");
        xml_put(out, bd.html, XML_TEXT);
        kw_buf_puts(out, "</content>\n");
        size_t k;
        json_t *v;
        json_array_foreach(r->sectors, k, v)
        {
            const char *slug = json_string_value(v);
            if (!slug) continue;
            const char *label = core_sector_name(slug, release_lang(r));
            kw_buf_puts(out, "<category term=\"");
            xml_put(out, slug, XML_ATTR);
            if (label) {
                kw_buf_puts(out, "\" label=\"");
                xml_put(out, label, XML_ATTR);
            }
            kw_buf_puts(out, "\"/>\n");
        }
        kw_buf_puts(out, "</entry>\n");
        body_free(&bd);
    }
    kw_buf_puts(out, "</feed>\n");
    kw_buf_free(&url);
}

/* ---- JSON Feed 1.1 ---------------------------------------------------- */

static json_t *abs_url(const char *base, const char *path)
{
    kw_buf_t b = {0};
    kw_buf_printf(&b, "%s%s", base, path ? path : "/");
    json_t *s = jtext(b.data);
    kw_buf_free(&b);
    return s;
}

static void render_jsonfeed(const feeds_meta_t *m, core_release_t *const *items, size_t n,
                            kw_buf_t *out)
{
    const char *base = str_or(m->base_url, "");
    kw_buf_t url = {0};
    json_t *f = json_object();
    json_object_set_new(f, "version", json_string("https://jsonfeed.org/version/1.1"));
    json_object_set_new(f, "title", jtext(m->title));
    json_object_set_new(f, "home_page_url", abs_url(base, m->page_path));
    json_object_set_new(f, "feed_url", abs_url(base, m->self_path));
    if (m->lang) json_object_set_new(f, "language", json_string(m->lang->tag));
    json_object_set_new(f, "authors",
                        json_pack("[{s:o, s:o}]", "name", jtext(str_or(m->wire_name, "kawat")),
                                  "url", abs_url(base, "/")));
    json_object_set_new(
        f, "hubs", json_pack("[{s:s, s:o}]", "type", "WebSub", "url", abs_url(base, m->hub_path)));
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const core_release_t *r = items[i];
        if (!shown(r)) continue;
        body_t bd;
        body_render(&bd, r);
        release_url(&url, base, r);
        json_t *it = json_object();
        json_object_set_new(it, "id", jtext(url.data));
        json_object_set_new(it, "url", jtext(url.data));
        json_object_set_new(it, "title", jtext(r->headline));
        json_object_set_new(it, "content_html", jtext(bd.html));
        json_object_set_new(it, "content_text", jtext(bd.text));
        json_object_set_new(it, "summary", jtext(bd.summary));
        json_object_set_new(it, "date_published", jtime(r->published_at));
        if (version_time(r) != r->published_at)
            json_object_set_new(it, "date_modified", jtime(version_time(r)));
        if (r->issuer_name && *r->issuer_name)
            json_object_set_new(it, "authors", json_pack("[{s:o}]", "name", jtext(r->issuer_name)));
        json_t *tags = json_array();
        size_t k;
        json_t *v;
        json_array_foreach(r->sectors, k, v)
        {
            if (json_string_value(v)) json_array_append_new(tags, jtext(json_string_value(v)));
        }
        json_object_set_new(it, "tags", tags);
        json_object_set_new(it, "language", jtext(r->language));
        json_array_append_new(arr, it);
        body_free(&bd);
    }
    json_object_set_new(f, "items", arr);
    json_out(out, f);
    kw_buf_free(&url);
}

/* ---- ninjs list ------------------------------------------------------- */

/* {"uri": the feed's own URL, "links": [{rel self}, {rel hub}], "items":
 * [ninjs 3 items]}. ninjs has no list type, and its schema forbids any
 * property of ours in an item, so the wrapper is kawat's own and each item
 * validates alone against the schema. */
static void render_ninjs(const feeds_meta_t *m, core_release_t *const *items, size_t n,
                         json_t *const *translations, kw_buf_t *out)
{
    const char *base = str_or(m->base_url, "");
    json_t *o = json_object();
    json_object_set_new(o, "uri", abs_url(base, m->self_path));
    json_object_set_new(o, "links",
                        json_pack("[{s:s, s:o}, {s:s, s:o}]", "rel", "self", "href",
                                  abs_url(base, m->self_path), "rel", "hub", "href",
                                  abs_url(base, m->hub_path)));
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        if (!shown(items[i])) continue;
        json_t *it = feeds_ninjs_release(items[i], base, m->wire_name,
                                         translations ? translations[i] : NULL);
        if (it) json_array_append_new(arr, it);
    }
    json_object_set_new(o, "items", arr);
    json_out(out, o);
}

/* ---- NewsML-G2 -------------------------------------------------------- */

/* The XHTML rendition of the body: cmark's HTML when it passes the
 * well-formedness scanner, otherwise the plain text as one paragraph. */
static void newsml_xhtml(kw_buf_t *out, const core_release_t *r, const body_t *bd)
{
    const core_lang_t *lang = release_lang(r);
    kw_buf_t html = {0};
    xml_put(&html, bd->html, XML_RAW);
    kw_buf_printf(out, "<html xmlns=\"" NS_XHTML "\" xml:lang=\"%s\" lang=\"%s\"%s>", lang->tag,
                  lang->tag, lang->rtl ? " dir=\"rtl\"" : "");
    kw_buf_puts(out, "<head><title>");
    xml_put(out, r->headline, XML_TEXT);
    kw_buf_puts(out, "</title></head><body>");
    if (html.len && xhtml_well_formed(html.data, html.len)) {
        kw_buf_append(out, html.data, html.len);
    } else {
        kw_buf_puts(out, "<p>");
        xml_put(out, bd->text, XML_TEXT);
        kw_buf_puts(out, "</p>");
    }
    kw_buf_puts(out, "</body></html>");
    kw_buf_free(&html);
}

/* A subject: the sector's IPTC Media Topic as a QCode where it has one,
 * else the slug as a literal. */
static void newsml_sector(kw_buf_t *out, const char *slug)
{
    const core_sector_t *s = core_sector_find((kw_str_t){slug, strlen(slug)});
    kw_buf_puts(out, "<subject type=\"cpnat:abstract\"");
    if (s && s->media_topic && strncmp(s->media_topic, "medtop:", 7) == 0) {
        kw_buf_puts(out, " qcode=\"");
        xml_put(out, s->media_topic, XML_NORM);
    } else {
        kw_buf_puts(out, " literal=\"");
        xml_put(out, s ? s->slug : slug, XML_NORM);
    }
    kw_buf_puts(out, "\"><name xml:lang=\"en\">");
    xml_put(out, s ? s->name : slug, XML_TEXT);
    kw_buf_puts(out, "</name></subject>\n");
}

static void newsml_region(kw_buf_t *out, const char *code)
{
    const core_region_t *reg = core_region_find((kw_str_t){code, strlen(code)});
    if (!reg) return;
    /* iso3166-1a2 is IPTC's scheme alias for the ISO 3166-1 alpha-2 codes. */
    kw_buf_printf(out, "<subject type=\"cpnat:geoArea\" qcode=\"iso3166-1a2:%s\">", reg->code);
    kw_buf_puts(out, "<name xml:lang=\"en\">");
    xml_put(out, reg->name, XML_TEXT);
    kw_buf_puts(out, "</name></subject>\n");
}

/* One newsItem element (no XML declaration) for a shown release. */
static void newsml_item(kw_buf_t *out, const core_release_t *r, const char *base, const char *wire,
                        const json_t *translations)
{
    const core_lang_t *lang = release_lang(r);
    kw_buf_t url = {0};
    body_t bd;
    body_render(&bd, r);
    release_url(&url, base, r);

    /* guid: the page URL, as ninjs's uri, so both name the same item. */
    kw_buf_puts(out, "<newsItem xmlns=\"" NS_NAR "\" guid=\"");
    xml_put(out, url.data, XML_NORM);
    kw_buf_printf(out,
                  "\" version=\"%d\" standard=\"NewsML-G2\" standardversion=\"2.35\""
                  " conformance=\"power\" xml:lang=\"%s\">\n",
                  r->version > 0 ? r->version : 1, lang->tag);
    kw_buf_puts(out, "<catalogRef href=\"" IPTC_CATALOG "\"/>\n");
    /* The subheadline's role is kawat's own code: IPTC has no vocabulary
     * of headline roles, so the scheme is declared here. */
    kw_buf_puts(out, "<catalog><scheme alias=\"kwhdl\" uri=\"");
    xml_put(out, base, XML_ATTR);
    kw_buf_puts(out, "/newscodes/headline-role/\"/></catalog>\n");

    char *terms = core_lang_format(lang, MSG_DISCLAIMER, wire);
    kw_buf_puts(out, "<rightsInfo>");
    if (r->issuer_name && *r->issuer_name) {
        kw_buf_puts(out, "<copyrightHolder><name>");
        xml_put(out, r->issuer_name, XML_TEXT);
        kw_buf_puts(out, "</name></copyrightHolder>");
    }
    xml_elem(out, "usageTerms", terms);
    kw_buf_puts(out, "</rightsInfo>\n");
    free(terms);

    kw_buf_puts(out, "<itemMeta>\n<itemClass qcode=\"ninat:text\"/>\n<provider uri=\"");
    xml_put(out, base, XML_NORM);
    kw_buf_puts(out, "/\"><name>");
    xml_put(out, wire, XML_TEXT);
    kw_buf_puts(out, "</name></provider>\n");
    xml_time(out, "versionCreated", version_time(r));
    xml_time(out, "firstCreated", r->published_at);
    if (r->embargo_until > 0) xml_time(out, "embargoed", r->embargo_until);
    kw_buf_puts(out, "\n<pubStatus qcode=\"stat:usable\"/>\n");
    xml_elem(out, "title", r->headline);
    kw_buf_puts(out, "\n");
    if (r->version > 1) {
        int has_note = r->correction_note && *r->correction_note;
        char *label = core_lang_format(lang, has_note ? MSG_CORRECTION_NOTE : MSG_CORRECTED, wire);
        kw_buf_puts(out, "<edNote>");
        xml_put(out, label, XML_TEXT);
        if (has_note) {
            kw_buf_puts(out, ": ");
            xml_put(out, r->correction_note, XML_TEXT);
        }
        kw_buf_puts(out, "</edNote>\n");
        free(label);
    }
    /* The other language versions. A NewsML-G2 link has no hreflang; the
     * language is in the target's path and in its own newsItem. */
    size_t k;
    json_t *t;
    json_array_foreach(translations, k, t)
    {
        const char *tl = json_string_value(json_object_get(t, "language"));
        const char *tid = json_string_value(json_object_get(t, "id"));
        if (!tl || !*tl || !tid || !*tid || strcmp(tid, r->id) == 0) continue;
        kw_buf_t h = {0};
        kw_buf_printf(&h, "%s/%s/releases/%s", base, tl, tid);
        kw_buf_puts(out, "<link rel=\"irel:seeAlso\" contenttype=\"text/html\" href=\"");
        xml_put(out, h.data, XML_NORM);
        kw_buf_puts(out, "\" residref=\"");
        xml_put(out, h.data, XML_NORM);
        kw_buf_puts(out, "\"/>\n");
        kw_buf_free(&h);
    }
    kw_buf_puts(out, "</itemMeta>\n");

    kw_buf_puts(out, "<contentMeta>\n");
    xml_time(out, "contentCreated", r->published_at);
    if (version_time(r) != r->published_at) xml_time(out, "contentModified", version_time(r));
    kw_buf_puts(out, "\n");
    if (r->dateline_place && *r->dateline_place) {
        kw_buf_puts(out, "<located><name>");
        xml_put(out, r->dateline_place, XML_TEXT);
        kw_buf_puts(out, "</name></located>\n");
    }
    kw_buf_puts(out, "<infoSource role=\"cpprole:distributor\" uri=\"");
    xml_put(out, base, XML_NORM);
    kw_buf_puts(out, "/\"><name>");
    xml_put(out, wire, XML_TEXT);
    kw_buf_puts(out, "</name></infoSource>\n");
    if (r->issuer_name && *r->issuer_name) {
        kw_buf_puts(out, "<creator role=\"cpprole:origcont\"><name>");
        xml_put(out, r->issuer_name, XML_TEXT);
        kw_buf_puts(out, "</name></creator>\n");
    }
    kw_buf_printf(out, "<language tag=\"%s\"/>\n", lang->tag);
    kw_buf_puts(out, "<genre literal=\"press-release\"><name xml:lang=\"en\">Press Release</name>"
                     "</genre>\n");
    json_t *v;
    json_array_foreach(r->sectors, k, v)
    {
        if (json_string_value(v) && *json_string_value(v)) newsml_sector(out, json_string_value(v));
    }
    json_array_foreach(r->regions, k, v)
    {
        if (json_string_value(v)) newsml_region(out, json_string_value(v));
    }
    xml_elem(out, "headline", r->headline);
    kw_buf_puts(out, "\n");
    if (r->subheadline && *r->subheadline) {
        kw_buf_puts(out, "<headline role=\"kwhdl:subheadline\">");
        xml_put(out, r->subheadline, XML_TEXT);
        kw_buf_puts(out, "</headline>\n");
    }
    if (r->published_at > 0) {
        char *line = feeds_dateline(r, lang, wire, r->published_at);
        xml_elem(out, "dateline", line);
        kw_buf_puts(out, "\n");
        free(line);
    }
    if (r->issuer_name && *r->issuer_name) {
        xml_elem(out, "by", r->issuer_name);
        kw_buf_puts(out, "\n");
    }
    kw_buf_puts(out, "<description role=\"drol:summary\">");
    xml_put(out, bd.summary, XML_TEXT);
    kw_buf_puts(out, "</description>\n</contentMeta>\n");

    /* Two renditions of the body: XHTML (links and structure kept) and
     * plain text for systems that take nothing else. */
    kw_buf_puts(out, "<contentSet>\n<inlineXML contenttype=\"application/xhtml+xml\">");
    newsml_xhtml(out, r, &bd);
    kw_buf_puts(out, "</inlineXML>\n<inlineData contenttype=\"text/plain\">");
    xml_put(out, bd.text, XML_TEXT);
    kw_buf_puts(out, "</inlineData>\n</contentSet>\n</newsItem>\n");

    body_free(&bd);
    kw_buf_free(&url);
}

int feeds_newsml_item(const core_release_t *r, const char *base_url, const char *wire_name,
                      const json_t *translations, kw_buf_t *out)
{
    if (!shown(r)) return KW_DECLINED;
    kw_buf_puts(out, XML_DECL);
    newsml_item(out, r, str_or(base_url, ""), str_or(wire_name, "kawat"), translations);
    return KW_OK;
}

/* The newsMessage: a header (sent, sender: the wire's host, origin: the
 * feed's URL) and one newsItem per release. NewsML-G2 has no place for
 * links, so the self and hub links of WebSub travel as HTTP Link headers
 * (the caller's job). */
static void render_newsml(const feeds_meta_t *m, core_release_t *const *items, size_t n,
                          json_t *const *translations, kw_buf_t *out)
{
    const char *base = str_or(m->base_url, "");
    const char *wire = str_or(m->wire_name, "kawat");
    const char *host = strstr(base, "://");
    host = host ? host + 3 : base;
    kw_buf_puts(out, XML_DECL "<newsMessage xmlns=\"" NS_NAR "\">\n<header>\n");
    xml_time(out, "sent", kw_now_ms());
    kw_buf_puts(out, "\n<sender>");
    xml_put_n(out, host, strcspn(host, "/"), XML_TEXT);
    kw_buf_puts(out, "</sender>\n<origin>");
    xml_put(out, base, XML_TEXT);
    xml_put(out, m->self_path, XML_TEXT);
    kw_buf_puts(out, "</origin>\n</header>\n<itemSet>\n");
    for (size_t i = 0; i < n; i++) {
        if (!shown(items[i])) continue;
        newsml_item(out, items[i], base, wire, translations ? translations[i] : NULL);
    }
    kw_buf_puts(out, "</itemSet>\n</newsMessage>\n");
}

/* ---- public: feeds ---------------------------------------------------- */

const char *feeds_format_file(feeds_format_t f)
{
    return (unsigned)f < FEEDS_FORMAT_COUNT_ ? formats[f].file : NULL;
}

const char *feeds_format_type(feeds_format_t f)
{
    return (unsigned)f < FEEDS_FORMAT_COUNT_ ? formats[f].type : NULL;
}

int feeds_format_from_file(const char *name, size_t len, feeds_format_t *out)
{
    for (size_t f = 0; f < FEEDS_FORMAT_COUNT_; f++) {
        if (strlen(formats[f].file) == len && memcmp(formats[f].file, name, len) == 0) {
            *out = (feeds_format_t)f;
            return KW_OK;
        }
    }
    return KW_NOTFOUND;
}

int feeds_render(feeds_format_t f, const feeds_meta_t *m, core_release_t *const *items, size_t n,
                 json_t *const *translations, kw_buf_t *out)
{
    switch (f) {
    case FEEDS_RSS:
        render_rss(m, items, n, out);
        break;
    case FEEDS_ATOM:
        render_atom(m, items, n, out);
        break;
    case FEEDS_JSONFEED:
        render_jsonfeed(m, items, n, out);
        break;
    case FEEDS_NINJS:
        render_ninjs(m, items, n, translations, out);
        break;
    case FEEDS_NEWSML:
        render_newsml(m, items, n, translations, out);
        break;
    default:
        return KW_INVALID;
    }
    return KW_OK;
}

/* ---- public: sitemaps ------------------------------------------------- */

int feeds_sitemap_index(const char *base_url, const feeds_sitemap_month_t *months, size_t n,
                        kw_buf_t *out)
{
    const char *base = str_or(base_url, "");
    kw_buf_puts(out, XML_DECL "<sitemapindex xmlns=\"" NS_SITEMAP "\">\n");
    for (size_t i = 0; i < n; i++) {
        kw_buf_puts(out, "<sitemap><loc>");
        xml_put(out, base, XML_TEXT);
        kw_buf_puts(out, "/sitemaps/");
        xml_put_n(out, months[i].month, strnlen(months[i].month, sizeof(months[i].month)),
                  XML_TEXT);
        kw_buf_puts(out, ".xml</loc>");
        if (months[i].lastmod_ms > 0) xml_time(out, "lastmod", months[i].lastmod_ms);
        kw_buf_puts(out, "</sitemap>\n");
    }
    kw_buf_puts(out, "</sitemapindex>\n");
    return KW_OK;
}

static void hreflang_link(kw_buf_t *out, const char *base, const char *lang, const char *id)
{
    kw_buf_puts(out, "<xhtml:link rel=\"alternate\" hreflang=\"");
    xml_put(out, lang, XML_ATTR);
    kw_buf_puts(out, "\" href=\"");
    xml_put(out, base, XML_ATTR);
    kw_buf_puts(out, "/");
    xml_put(out, lang, XML_ATTR);
    kw_buf_puts(out, "/releases/");
    xml_put(out, id, XML_ATTR);
    kw_buf_puts(out, "\"/>\n");
}

int feeds_sitemap_urls(const char *base_url, core_release_t *const *items, size_t n,
                       json_t *const *translations, kw_buf_t *out)
{
    const char *base = str_or(base_url, "");
    kw_buf_t url = {0};
    kw_buf_puts(out, XML_DECL "<urlset xmlns=\"" NS_SITEMAP "\" xmlns:xhtml=\"" NS_XHTML "\">\n");
    for (size_t i = 0; i < n; i++) {
        const core_release_t *r = items[i];
        if (!shown(r)) continue;
        release_url(&url, base, r);
        kw_buf_puts(out, "<url>\n");
        xml_elem(out, "loc", url.data);
        xml_time(out, "lastmod", version_time(r));
        kw_buf_puts(out, "\n");
        /* Alternates name every version, this one included, and only when
         * there is another (Google's rule for hreflang in sitemaps). */
        const json_t *tr = translations ? translations[i] : NULL;
        size_t k, others = 0;
        json_t *t;
        json_array_foreach(tr, k, t)
        {
            const char *tl = json_string_value(json_object_get(t, "language"));
            const char *tid = json_string_value(json_object_get(t, "id"));
            if (tl && *tl && tid && *tid && strcmp(tid, r->id) != 0) others++;
        }
        if (others) {
            hreflang_link(out, base, r->language, r->id);
            json_array_foreach(tr, k, t)
            {
                const char *tl = json_string_value(json_object_get(t, "language"));
                const char *tid = json_string_value(json_object_get(t, "id"));
                if (tl && *tl && tid && *tid && strcmp(tid, r->id) != 0)
                    hreflang_link(out, base, tl, tid);
            }
        }
        kw_buf_puts(out, "</url>\n");
    }
    kw_buf_puts(out, "</urlset>\n");
    kw_buf_free(&url);
    return KW_OK;
}

/* Google News names languages by ISO 639 code, with zh-cn and zh-tw for
 * the two Chinese scripts. */
static void news_language(kw_buf_t *out, const char *tag)
{
    if (strcasecmp(tag, "zh-Hans") == 0) {
        kw_buf_puts(out, "zh-cn");
    } else if (strcasecmp(tag, "zh-Hant") == 0) {
        kw_buf_puts(out, "zh-tw");
    } else {
        for (; *tag && *tag != '-'; tag++)
            kw_buf_putc(out, (char)(*tag >= 'A' && *tag <= 'Z' ? *tag + 32 : *tag));
    }
}

int feeds_sitemap_news(const char *base_url, const char *wire_name, core_release_t *const *items,
                       size_t n, kw_buf_t *out)
{
    const char *base = str_or(base_url, "");
    kw_buf_t url = {0};
    size_t count = 0;
    kw_buf_puts(out, XML_DECL "<urlset xmlns=\"" NS_SITEMAP "\" xmlns:news=\"" NS_GNEWS "\">\n");
    for (size_t i = 0; i < n && count < NEWS_SITEMAP_MAX; i++) {
        const core_release_t *r = items[i];
        if (!shown(r)) continue;
        count++;
        release_url(&url, base, r);
        kw_buf_puts(out, "<url>\n");
        xml_elem(out, "loc", url.data);
        kw_buf_puts(out, "\n<news:news><news:publication><news:name>");
        xml_put(out, str_or(wire_name, "kawat"), XML_TEXT);
        kw_buf_puts(out, "</news:name><news:language>");
        news_language(out, release_lang(r)->tag);
        kw_buf_puts(out, "</news:language></news:publication>");
        xml_time(out, "news:publication_date", r->published_at);
        xml_elem(out, "news:title", r->headline);
        kw_buf_puts(out, "</news:news>\n</url>\n");
    }
    kw_buf_puts(out, "</urlset>\n");
    kw_buf_free(&url);
    return KW_OK;
}
