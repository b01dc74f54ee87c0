/* core_frontmatter.c -- parses the strict YAML subset at the top of a release
 * file into a JSON object of strings and lists of strings. */
#include "core/core_frontmatter.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Design note: why a subset and not a YAML library.
 *
 * Release files are written by people at companies, often in a hurry, and a
 * YAML parser that quietly turns `language: no` into false, `publish_at:
 * 2026-11-28` into a date, or a stray indented line into part of the previous
 * value produces a release nobody meant. So the grammar is small and every
 * value is a string:
 *
 *   file     := [BOM] "---" EOL { line } "---" EOL body
 *   line     := blank | comment | key ":" SP value | key ":" [comment] items
 *   value    := plain | "double" | 'single' | "[" item { "," item } [","] "]"
 *   items    := { INDENT "-" SP scalar }          (same indent for every item)
 *
 * Anything else (block scalars, anchors, tags, flow mappings, nested lists,
 * multi-line values, tabs in indentation, duplicate keys) is an error naming
 * its line, as is a plain value that a real YAML parser would read
 * differently (one containing ": ", or starting with an indicator). Lines end
 * in LF or CRLF; a lone CR is an error. Line numbers count from the opening
 * "---" as line 1. */

typedef struct {
    kw_str_t line; /* without its end of line and trailing blanks */
    size_t next;   /* offset of the following line in the text */
    size_t number; /* 1-based */
} fm_line_t;

typedef struct {
    const char *text;
    size_t len;
    size_t pos;    /* offset of the next unread line */
    size_t number; /* number of the last line read */
    char *err;
    size_t errsize;
} fm_parser_t;

enum { FM_BLOCK, FM_FLOW };

/* Writes "line N: <message>" into the caller's error buffer; returns
 * KW_INVALID so callers can `return fm_fail(...)`. */
__attribute__((format(printf, 3, 4))) static int fm_fail(fm_parser_t *p, size_t number,
                                                         const char *fmt, ...)
{
    if (p->err == NULL || p->errsize == 0) return KW_INVALID;
    int n = snprintf(p->err, p->errsize, "line %zu: ", number);
    if (n < 0 || (size_t)n >= p->errsize) return KW_INVALID;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->errsize - (size_t)n, fmt, ap);
    va_end(ap);
    return KW_INVALID;
}

static int fm_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Reads the next line. Returns 1 with *out filled, 0 at the end of the text.
 * The line excludes "\n" or "\r\n" and trailing blanks; a CR anywhere else
 * is left in the line for the caller to reject. */
static int fm_next_line(fm_parser_t *p, fm_line_t *out)
{
    if (p->pos >= p->len) return 0;
    const char *start = p->text + p->pos;
    const char *nl = memchr(start, '\n', p->len - p->pos);
    size_t n = nl ? (size_t)(nl - start) : p->len - p->pos;
    out->next = p->pos + n + (nl ? 1 : 0);
    if (n > 0 && start[n - 1] == '\r') n--;
    while (n > 0 && fm_is_blank(start[n - 1]))
        n--;
    out->line = (kw_str_t){start, n};
    out->number = ++p->number;
    p->pos = out->next;
    return 1;
}

/* Checks the whole text for valid UTF-8 (and no NUL) line by line, so the
 * error can name the line. Returns KW_OK or KW_INVALID. */
static int fm_check_utf8(fm_parser_t *p)
{
    size_t number = 1, off = 0;
    while (off < p->len) {
        const char *start = p->text + off;
        const char *nl = memchr(start, '\n', p->len - off);
        size_t n = nl ? (size_t)(nl - start) : p->len - off;
        if (memchr(start, '\0', n) != NULL) return fm_fail(p, number, "NUL byte in text");
        if (!kw_utf8_valid(start, n)) return fm_fail(p, number, "invalid UTF-8");
        off += n + (nl ? 1 : 0);
        number++;
    }
    return KW_OK;
}

static int fm_is_dashes(kw_str_t line)
{
    return kw_str_eq(line, "---");
}

/* Appends code point cp as UTF-8. */
static void fm_put_utf8(kw_buf_t *out, unsigned long cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6)), b[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12)), b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18)), b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), b[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    }
    kw_buf_append(out, b, n);
}

/* Decodes a double-quoted scalar starting at s[*at] == '"' into out. On
 * success *at is just past the closing quote. Supports \" \\ \/ \n \t \r
 * \uXXXX and \UXXXXXXXX; the value stays on one line. */
static int fm_double_quoted(fm_parser_t *p, size_t number, kw_str_t s, size_t *at, kw_buf_t *out)
{
    size_t i = *at + 1;
    while (i < s.len) {
        char c = s.data[i];
        if (c == '"') {
            *at = i + 1;
            return KW_OK;
        }
        if (c != '\\') {
            kw_buf_putc(out, c);
            i++;
            continue;
        }
        if (++i >= s.len) break;
        c = s.data[i++];
        size_t digits = 0;
        switch (c) {
        case '"':
            kw_buf_putc(out, '"');
            break;
        case '\\':
            kw_buf_putc(out, '\\');
            break;
        case '/':
            kw_buf_putc(out, '/');
            break;
        case 'n':
            kw_buf_putc(out, '\n');
            break;
        case 't':
            kw_buf_putc(out, '\t');
            break;
        case 'r':
            kw_buf_putc(out, '\r');
            break;
        case 'u':
            digits = 4;
            break;
        case 'U':
            digits = 8;
            break;
        default:
            return fm_fail(p, number, "unsupported escape '\\%c' in a quoted value", c);
        }
        if (digits == 0) continue;
        unsigned long cp = 0;
        for (size_t k = 0; k < digits; k++, i++) {
            char h = i < s.len ? s.data[i] : '\0';
            int v = h >= '0' && h <= '9'   ? h - '0'
                    : h >= 'a' && h <= 'f' ? h - 'a' + 10
                    : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                           : -1;
            if (v < 0) return fm_fail(p, number, "bad hexadecimal digits in '\\%c' escape", c);
            cp = cp * 16 + (unsigned long)v;
        }
        if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return fm_fail(p, number, "escape names no valid character (U+%04lX)", cp);
        fm_put_utf8(out, cp);
    }
    return fm_fail(p, number,
                   "unterminated double-quoted value (quotes must close on the same line)");
}

/* Decodes a single-quoted scalar starting at s[*at] == '\'' into out; ''
 * stands for one quote. On success *at is just past the closing quote. */
static int fm_single_quoted(fm_parser_t *p, size_t number, kw_str_t s, size_t *at, kw_buf_t *out)
{
    size_t i = *at + 1;
    while (i < s.len) {
        if (s.data[i] == '\'') {
            if (i + 1 < s.len && s.data[i + 1] == '\'') {
                kw_buf_putc(out, '\'');
                i += 2;
                continue;
            }
            *at = i + 1;
            return KW_OK;
        }
        kw_buf_putc(out, s.data[i++]);
    }
    return fm_fail(p, number,
                   "unterminated single-quoted value (quotes must close on the same line)");
}

/* Rejects a plain scalar that YAML would read as something other than a
 * string, by its first character(s). c is the first character, next the one
 * after it ('\0' at the end). */
static int fm_check_plain_start(fm_parser_t *p, size_t number, char c, char next, int ctx)
{
    int next_ends =
        next == '\0' || fm_is_blank(next) || (ctx == FM_FLOW && (next == ',' || next == ']'));
    switch (c) {
    case '|':
    case '>':
        return fm_fail(p, number,
                       "multi-line values ('%c') are not supported; put long text in "
                       "the body or quote it on one line",
                       c);
    case '&':
    case '*':
        return fm_fail(p, number, "anchors and aliases ('%c') are not supported", c);
    case '!':
        return fm_fail(p, number, "tags ('!') are not supported");
    case '{':
    case '}':
        return fm_fail(p, number, "mappings ('{') are not supported");
    case '[':
        return fm_fail(p, number, "nested lists are not supported");
    case ']':
    case ',':
        return fm_fail(p, number, "unexpected '%c'", c);
    case '#':
    case '%':
    case '@':
    case '`':
        return fm_fail(p, number, "a value cannot start with '%c' unless quoted", c);
    case '-':
    case '?':
    case ':':
        if (next_ends)
            return fm_fail(p, number, "unexpected '%c'; quote the value if it is text", c);
        break;
    default:
        break;
    }
    return KW_OK;
}

/* Reads a plain (unquoted) scalar from s[*at], which is not blank. In the
 * block context it runs to the end of the line or a " #" comment; in the
 * flow context it stops before ',' or ']'. Trailing blanks are dropped. On
 * success *at is just past the value's last non-blank character. */
static int fm_plain(fm_parser_t *p, size_t number, kw_str_t s, size_t *at, int ctx, kw_buf_t *out)
{
    size_t i = *at, end = *at;
    int rc = fm_check_plain_start(p, number, s.data[i], i + 1 < s.len ? s.data[i + 1] : '\0', ctx);
    if (rc != KW_OK) return rc;
    while (i < s.len) {
        char c = s.data[i];
        if (c == '#' && i > *at && fm_is_blank(s.data[i - 1])) {
            if (ctx == FM_FLOW) return fm_fail(p, number, "unterminated list (missing ']')");
            break;
        }
        if (c == ':' && (i + 1 == s.len || fm_is_blank(s.data[i + 1])))
            return fm_fail(p, number,
                           "':' followed by a space in an unquoted value; put the "
                           "value in quotes");
        if (ctx == FM_FLOW) {
            if (c == ',' || c == ']') break;
            if (c == '[' || c == '{' || c == '}')
                return fm_fail(p, number, "unexpected '%c' in a list; quote the item", c);
        }
        i++;
        if (!fm_is_blank(c)) end = i;
    }
    kw_buf_append(out, s.data + *at, end - *at);
    *at = end;
    return KW_OK;
}

/* Reads one scalar of any style from s[*at] (not blank) into out, which is
 * reset first. */
static int fm_scalar(fm_parser_t *p, size_t number, kw_str_t s, size_t *at, int ctx, kw_buf_t *out)
{
    kw_buf_reset(out);
    if (s.data[*at] == '"') return fm_double_quoted(p, number, s, at, out);
    if (s.data[*at] == '\'') return fm_single_quoted(p, number, s, at, out);
    return fm_plain(p, number, s, at, ctx, out);
}

static size_t fm_skip_blanks(kw_str_t s, size_t at)
{
    while (at < s.len && fm_is_blank(s.data[at]))
        at++;
    return at;
}

/* After a complete value only blanks and a " #" comment may follow. */
static int fm_expect_end(fm_parser_t *p, size_t number, kw_str_t s, size_t at)
{
    size_t i = fm_skip_blanks(s, at);
    if (i == s.len) return KW_OK;
    if (s.data[i] == '#' && i > at) return KW_OK;
    return fm_fail(p, number, "unexpected text after the value");
}

/* Makes a JSON string from a decoded scalar; NULL only if jansson rejects
 * it (a decoded escape may not produce invalid UTF-8, so that means OOM). */
static json_t *fm_json_string(const kw_buf_t *b)
{
    return json_stringn(b->data ? b->data : "", b->len);
}

/* Parses a flow list "[a, 'b', "c, d"]" starting at s[*at] == '[' into a new
 * JSON array (*out). The list must close on the same line. */
static int fm_flow_list(fm_parser_t *p, size_t number, kw_str_t s, size_t at, kw_buf_t *scratch,
                        json_t **out)
{
    int rc = KW_INVALID;
    json_t *list = json_array();
    size_t i = fm_skip_blanks(s, at + 1);

    for (;;) {
        if (i >= s.len) {
            rc = fm_fail(p, number, "unterminated list (missing ']' on this line)");
            goto done;
        }
        if (s.data[i] == ']') break; /* "[]" or a trailing comma */
        if (s.data[i] == ',') {
            rc = fm_fail(p, number, "empty list item");
            goto done;
        }
        rc = fm_scalar(p, number, s, &i, FM_FLOW, scratch);
        if (rc != KW_OK) goto done;
        json_array_append_new(list, fm_json_string(scratch));
        i = fm_skip_blanks(s, i);
        if (i < s.len && s.data[i] == ',') {
            i = fm_skip_blanks(s, i + 1);
            continue;
        }
        if (i < s.len && s.data[i] == ']') break;
        rc = i < s.len ? fm_fail(p, number, "expected ',' or ']' in the list")
                       : fm_fail(p, number, "unterminated list (missing ']' on this line)");
        goto done;
    }
    rc = fm_expect_end(p, number, s, i + 1);

done:
    if (rc == KW_OK)
        *out = list;
    else
        json_decref(list);
    return rc;
}

/* Length of the key at the start of line: a letter, then letters, digits,
 * '_' or '-'. 0 if the line does not start with one. */
static size_t fm_key_len(kw_str_t s)
{
    size_t i = 0;
    if (s.len == 0 ||
        !((s.data[0] >= 'a' && s.data[0] <= 'z') || (s.data[0] >= 'A' && s.data[0] <= 'Z')))
        return 0;
    while (i < s.len) {
        char c = s.data[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            break;
        i++;
    }
    return i;
}

int core_frontmatter_parse(const char *text, size_t len, json_t **meta, const char **body,
                           size_t *body_len, char *err, size_t errsize)
{
    fm_parser_t p = {.text = text, .len = len, .err = err, .errsize = errsize};
    json_t *obj = json_object();
    kw_buf_t scratch = {0};
    char *list_key = NULL; /* key whose block list is being read, or NULL */
    json_t *list = NULL;   /* that list (owned by obj once it has items) */
    size_t list_line = 0;  /* line of list_key */
    long list_indent = -1; /* indent of its items; -1 before the first */
    int rc = KW_INVALID;
    size_t start = 0; /* offset of the first line, past a BOM */
    fm_line_t ln;

    *meta = NULL;
    *body = NULL;
    *body_len = 0;
    if (err && errsize) err[0] = '\0';

    rc = fm_check_utf8(&p);
    if (rc != KW_OK) goto done;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) start = p.pos = 3; /* byte order mark */

    /* No opening "---": everything is body. */
    if (!fm_next_line(&p, &ln) || !fm_is_dashes(ln.line)) {
        *body = text + start;
        *body_len = len - start;
        rc = KW_OK;
        goto done;
    }

    rc = KW_INVALID;
    for (;;) {
        if (!fm_next_line(&p, &ln)) {
            rc = fm_fail(&p, 1, "front matter is not closed (no '---' line after it)");
            goto done;
        }
        kw_str_t s = ln.line;
        size_t n = ln.number;
        if (memchr(s.data, '\r', s.len) != NULL) {
            rc = fm_fail(&p, n, "carriage return inside a line");
            goto done;
        }

        size_t indent = 0;
        while (indent < s.len && fm_is_blank(s.data[indent])) {
            if (s.data[indent] == '\t') {
                rc = fm_fail(&p, n, "tab in indentation (use spaces)");
                goto done;
            }
            indent++;
        }
        if (indent == s.len) continue;       /* blank line */
        if (s.data[indent] == '#') continue; /* comment line */

        /* "- item" of the block list under the last key. */
        if (s.data[indent] == '-' && (indent + 1 == s.len || fm_is_blank(s.data[indent + 1]))) {
            if (list_key == NULL) {
                rc = fm_fail(&p, n, "list item without a key above it ('key:' alone on its line)");
                goto done;
            }
            if (list_indent < 0) {
                list_indent = (long)indent;
            } else if ((long)indent != list_indent) {
                rc = fm_fail(&p, n, "list items must be indented alike");
                goto done;
            }
            size_t i = fm_skip_blanks(s, indent + 1);
            if (i == s.len || s.data[i] == '#') {
                rc = fm_fail(&p, n, "empty list item");
                goto done;
            }
            if (s.data[i] == '-' && (i + 1 == s.len || fm_is_blank(s.data[i + 1]))) {
                rc = fm_fail(&p, n, "nested lists are not supported");
                goto done;
            }
            rc = fm_scalar(&p, n, s, &i, FM_BLOCK, &scratch);
            if (rc == KW_OK) rc = fm_expect_end(&p, n, s, i);
            if (rc != KW_OK) goto done;
            if (list == NULL) {
                list = json_array();
                json_object_set_new(obj, list_key, list);
            }
            json_array_append_new(list, fm_json_string(&scratch));
            rc = KW_INVALID;
            continue;
        }

        if (indent > 0) {
            rc = fm_fail(&p, n, "unexpected indentation (values must fit on their key's line)");
            goto done;
        }

        /* A new key ends the block list before it, which must have items. */
        if (list_key != NULL && list == NULL) {
            rc = fm_fail(&p, list_line, "'%s' has no value", list_key);
            goto done;
        }
        free(list_key);
        list_key = NULL;
        list = NULL;
        list_indent = -1;

        if (fm_is_dashes(s)) break; /* end of front matter */

        size_t klen = fm_key_len(s);
        if (klen == 0 || klen == s.len || s.data[klen] != ':') {
            rc = fm_fail(&p, n, "expected 'key: value'");
            goto done;
        }
        char *key = kw_strndup(s.data, klen);
        if (json_object_get(obj, key) != NULL) {
            rc = fm_fail(&p, n, "duplicate key '%s'", key);
            free(key);
            goto done;
        }
        size_t i = klen + 1;
        if (i < s.len && !fm_is_blank(s.data[i])) {
            rc = fm_fail(&p, n, "expected a space after '%s:'", key);
            free(key);
            goto done;
        }
        i = fm_skip_blanks(s, i);
        if (i == s.len || s.data[i] == '#') {
            /* "key:" alone: a block list follows. */
            list_key = key;
            list_line = n;
            continue;
        }
        json_t *value = NULL;
        if (s.data[i] == '[') {
            rc = fm_flow_list(&p, n, s, i, &scratch, &value);
        } else {
            rc = fm_scalar(&p, n, s, &i, FM_BLOCK, &scratch);
            if (rc == KW_OK) rc = fm_expect_end(&p, n, s, i);
            if (rc == KW_OK) value = fm_json_string(&scratch);
        }
        if (rc == KW_OK) json_object_set_new(obj, key, value);
        free(key);
        if (rc != KW_OK) goto done;
        rc = KW_INVALID;
    }

    *body = text + ln.next;
    *body_len = len - ln.next;
    rc = KW_OK;

done:
    free(list_key);
    kw_buf_free(&scratch);
    if (rc == KW_OK) {
        *meta = obj;
    } else {
        json_decref(obj);
        *body = NULL;
        *body_len = 0;
    }
    return rc;
}
