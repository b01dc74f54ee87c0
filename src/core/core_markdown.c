/* core_markdown.c -- Markdown release bodies to safe HTML and to plain-text
 * summaries, with cmark-gfm. */
#include "core/core_markdown.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cmark-gfm.h>
#include <cmark-gfm-core-extensions.h>

#include "core/core.h"

/* Design note: safety comes from cmark itself. Without CMARK_OPT_UNSAFE the
 * HTML renderer replaces every raw HTML block and inline tag with a comment
 * and empties the href/src of dangerous URLs (javascript:, vbscript:, file:,
 * data: other than a few image types). tagfilter is attached as a second
 * line of defence should anyone ever turn CMARK_OPT_UNSAFE on. Text and
 * attributes are escaped by the renderer. */
#define CORE__MD_OPTIONS (CMARK_OPT_DEFAULT | CMARK_OPT_VALIDATE_UTF8)

static const char *const core__md_extensions[] = {"table", "strikethrough", "autolink",
                                                  "tagfilter"};

static pthread_once_t core__md_once = PTHREAD_ONCE_INIT;

/* Design note: cmark-gfm (through 0.29.0.gfm.6 at least) is not re-entrant.
 * Its inline parser reads a process-wide SPECIAL_CHARS table that every
 * parse with extensions edits: '~', '|', ':' and 'w' are added when inlines
 * are processed and removed again afterwards, so a parse finishing in one
 * thread switches off strikethrough and autolinks in a parse running in
 * another (reproduced by core_markdown_test; upstream cmark-gfm PR #176).
 * Parsing is therefore serialized by this lock; rendering the finished tree
 * does not touch that table and runs unlocked. */
static pthread_mutex_t core__md_parse_lock = PTHREAD_MUTEX_INITIALIZER;

static void core__md_register(void)
{
    cmark_gfm_core_extensions_ensure_registered();
}

/* cmark allocates through this, so its output is kawat's to free() and an
 * out-of-memory inside cmark follows the project policy. */
static void *core__md_calloc(size_t count, size_t size)
{
    return kw_calloc(count, size);
}

static void *core__md_realloc(void *p, size_t size)
{
    return kw_realloc(p, size);
}

static void core__md_free(void *p)
{
    free(p);
}

static cmark_mem core__md_mem = {core__md_calloc, core__md_realloc, core__md_free};

/* Parses md into a document; *parser receives the parser, which owns the
 * extension list the HTML renderer needs. Free both with cmark_node_free()
 * and cmark_parser_free(). Thread-safe (see the lock above). */
static cmark_node *core__md_parse(const char *md, size_t len, cmark_parser **parser)
{
    pthread_once(&core__md_once, core__md_register);
    cmark_parser *p = cmark_parser_new_with_mem(CORE__MD_OPTIONS, &core__md_mem);
    for (size_t i = 0; i < KW_ARRAY_SIZE(core__md_extensions); i++) {
        cmark_syntax_extension *ext = cmark_find_syntax_extension(core__md_extensions[i]);
        if (ext) cmark_parser_attach_syntax_extension(p, ext);
    }
    pthread_mutex_lock(&core__md_parse_lock);
    if (md && len) cmark_parser_feed(p, md, len);
    cmark_node *doc = cmark_parser_finish(p);
    pthread_mutex_unlock(&core__md_parse_lock);
    *parser = p;
    return doc;
}

char *core_markdown_html(const char *md, size_t len)
{
    cmark_parser *parser;
    cmark_node *doc = core__md_parse(md, len, &parser);
    char *html = cmark_render_html_with_mem(
        doc, CORE__MD_OPTIONS, cmark_parser_get_syntax_extensions(parser), &core__md_mem);
    cmark_node_free(doc);
    cmark_parser_free(parser);
    return html ? html : kw_strdup("");
}

static int core__is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Decodes the UTF-8 character at p[i] (input is valid UTF-8 here; a stray
 * byte decodes as itself). */
static unsigned core__utf8_at(const unsigned char *p, size_t n, size_t i)
{
    unsigned c = p[i];
    size_t need = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    unsigned cp = need == 3 ? c & 0x07 : need == 2 ? c & 0x0F : need == 1 ? c & 0x1F : c;
    for (size_t k = 1; k <= need && i + k < n; k++)
        cp = (cp << 6) | (p[i + k] & 0x3F);
    return cp;
}

/* Characters that attach to the one before them, so a cut must not fall
 * just before them: combining marks of the scripts kawat carries (Latin and
 * Vietnamese diacritics, Thai vowels and tone marks including the spacing
 * SARA AM, Arabic harakat, kana voicing marks, decomposed Hangul), joiners,
 * variation selectors, emoji modifiers and tag characters. An approximation
 * of UAX #29 grapheme clusters that needs no ICU. */
static int core__is_combining(unsigned cp)
{
    return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x0483 && cp <= 0x0489) ||
           (cp >= 0x0610 && cp <= 0x061A) || (cp >= 0x064B && cp <= 0x065F) || cp == 0x0670 ||
           (cp >= 0x06D6 && cp <= 0x06DC) || (cp >= 0x06DF && cp <= 0x06E4) ||
           (cp >= 0x06E7 && cp <= 0x06E8) || (cp >= 0x06EA && cp <= 0x06ED) || cp == 0x0E31 ||
           cp == 0x0E33 || (cp >= 0x0E34 && cp <= 0x0E3A) || (cp >= 0x0E47 && cp <= 0x0E4E) ||
           (cp >= 0x1160 && cp <= 0x11FF) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
           (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x200C && cp <= 0x200D) ||
           (cp >= 0x20D0 && cp <= 0x20FF) || (cp >= 0x3099 && cp <= 0x309A) ||
           (cp >= 0xD7B0 && cp <= 0xD7FF) || (cp >= 0xFE00 && cp <= 0xFE0F) ||
           (cp >= 0xFE20 && cp <= 0xFE2F) || (cp >= 0x1F3FB && cp <= 0x1F3FF) ||
           (cp >= 0xE0020 && cp <= 0xE007F) || (cp >= 0xE0100 && cp <= 0xE01EF);
}

/* Start of the character before position i (i > 0). */
static size_t core__utf8_prev(const unsigned char *p, size_t i)
{
    do
        i--;
    while (i > 0 && (p[i] & 0xC0) == 0x80);
    return i;
}

/* Design note: where to cut. The largest prefix of at most `room` bytes that
 * ends on a character boundary, moved back over combining marks (so Thai
 * "กี" never loses its vowel) and past a trailing zero-width joiner. If that
 * lands inside a word of a spaced script, back up to the last space when it
 * is at most CORE__WORD_SLACK bytes back; scripts written without spaces
 * (Japanese, Chinese, Thai within a phrase) simply cut at the character. */
#define CORE__WORD_SLACK 24

static size_t core__cut_point(const unsigned char *p, size_t n, size_t room)
{
    size_t cut = room;
    while (cut > 0 && (p[cut] & 0xC0) == 0x80)
        cut--;
    while (cut > 0 && (core__is_combining(core__utf8_at(p, n, cut)) ||
                       core__utf8_at(p, n, core__utf8_prev(p, cut)) == 0x200D))
        cut = core__utf8_prev(p, cut);
    if (cut > 0 && !core__is_space(p[cut]) && !core__is_space(p[cut - 1])) {
        size_t stop = cut > CORE__WORD_SLACK ? cut - CORE__WORD_SLACK : 0;
        for (size_t i = cut - 1; i > stop; i--) {
            if (core__is_space(p[i])) {
                cut = i;
                break;
            }
        }
    }
    while (cut > 0 && core__is_space(p[cut - 1]))
        cut--;
    return cut;
}

char *core_markdown_truncate(const char *s, size_t n, size_t max_bytes)
{
    static const char ellipsis[] = "\xE2\x80\xA6"; /* U+2026 */
    const size_t elen = sizeof(ellipsis) - 1;
    const unsigned char *p = (const unsigned char *)s;

    if (max_bytes == 0 || n <= max_bytes) return kw_strndup(s, n);
    if (max_bytes <= elen) return kw_strndup(s, core__cut_point(p, n, max_bytes));

    size_t cut = core__cut_point(p, n, max_bytes - elen);
    char *out = kw_malloc(cut + elen + 1);
    memcpy(out, s, cut);
    memcpy(out + cut, ellipsis, elen + 1);
    return out;
}

/* Appends text to b with every whitespace run folded into one space; a
 * space is only written when more text follows, so the result is trimmed. */
static void core__text_append(kw_buf_t *b, int *pending_space, const char *z)
{
    if (z == NULL) return;
    for (; *z; z++) {
        if (core__is_space((unsigned char)*z)) {
            *pending_space = 1;
            continue;
        }
        if (*pending_space && b->len > 0) kw_buf_putc(b, ' ');
        *pending_space = 0;
        kw_buf_putc(b, *z);
    }
}

/* Design note: summaries come from walking the tree rather than from
 * cmark's plaintext renderer, which writes Markdown-ish syntax ("- " bullets,
 * "| --- |" table rules, "~" for strikethrough). Here only the words remain:
 * text, code, image alt text; raw HTML and URLs are dropped; every block
 * boundary and line break is a space. */
char *core_markdown_text(const char *md, size_t len, size_t max_bytes)
{
    cmark_parser *parser;
    cmark_node *doc = core__md_parse(md, len, &parser);
    cmark_iter *it = cmark_iter_new(doc);
    kw_buf_t b = {0};
    int pending_space = 0;
    cmark_event_type ev;

    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *node = cmark_iter_get_node(it);
        int type = (int)cmark_node_get_type(node);
        switch (type) {
        case CMARK_NODE_TEXT:
        case CMARK_NODE_CODE:
        case CMARK_NODE_CODE_BLOCK:
            core__text_append(&b, &pending_space, cmark_node_get_literal(node));
            break;
        case CMARK_NODE_SOFTBREAK:
        case CMARK_NODE_LINEBREAK:
            pending_space = 1;
            break;
        default:
            if ((type & CMARK_NODE_TYPE_MASK) == CMARK_NODE_TYPE_BLOCK) pending_space = 1;
            break;
        }
    }
    cmark_iter_free(it);
    cmark_node_free(doc);
    cmark_parser_free(parser);

    size_t n;
    char *text = kw_buf_steal(&b, &n);
    if (max_bytes == 0 || n <= max_bytes) return text;
    char *cut = core_markdown_truncate(text, n, max_bytes);
    free(text);
    return cut;
}
