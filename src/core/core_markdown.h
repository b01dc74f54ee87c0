/* core_markdown.h -- release bodies: Markdown (GitHub flavour) to safe HTML,
 * and to plain text for summaries, feeds and e-mail previews.
 * All functions are thread-safe; parsing is serialized internally because
 * cmark-gfm is not re-entrant (see core_markdown.c). */
#ifndef KAWAT_CORE_MARKDOWN_H
#define KAWAT_CORE_MARKDOWN_H

#include <stddef.h>

/* Renders md (len bytes, need not be NUL-terminated) to an HTML fragment:
 * CommonMark plus the GFM table, strikethrough, autolink and tagfilter
 * extensions. Safe by construction: raw HTML in the source is never passed
 * through (it becomes "<!-- raw HTML omitted -->"), and links or images with
 * javascript:, vbscript:, file: or data: URLs (except data:image/png, gif,
 * jpeg and webp, which cmark allows for images) get an empty href/src.
 * Invalid UTF-8 is replaced by U+FFFD. Links carry no rel attribute: add
 * rel="nofollow noopener" in templates if wanted.
 * Returns a NUL-terminated string the caller frees with free(); never NULL. */
char *core_markdown_html(const char *md, size_t len);

/* Renders md to plain text for summaries: only the words remain (text, code,
 * image alt text; no bullets, table rules or emphasis marks; URLs and raw
 * HTML dropped), every block boundary and run of ASCII whitespace becomes one
 * space, trimmed at both ends. The text is NOT HTML-escaped ("&lt;" in the
 * source comes out as "<"): escape it for HTML, XML and JSON yourself.
 * If longer than max_bytes it is cut as core_markdown_truncate() does.
 * Returns a NUL-terminated string the caller frees with free(); never NULL. */
char *core_markdown_text(const char *md, size_t len, size_t max_bytes);

/* Cuts UTF-8 text p (n bytes) to at most max_bytes, "…" (3 bytes) included:
 * at the last space when one lies within the last 24 bytes that fit (spaced
 * scripts lose a partial word, not a partial letter), otherwise at a
 * character boundary -- never inside a UTF-8 sequence, nor between a letter
 * and its combining marks (Thai vowels and tone marks, Arabic harakat,
 * diacritics, emoji modifiers and joiners). Trailing spaces before "…" are
 * dropped. With max_bytes < 4 there is no room for "…" and the cut has none;
 * max_bytes 0 means no limit; text that fits is returned whole.
 * Returns a new NUL-terminated string for free(); never NULL. */
char *core_markdown_truncate(const char *p, size_t n, size_t max_bytes);

#endif
