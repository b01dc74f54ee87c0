/* core_buf.c -- counted strings, growable buffers, allocation, UTF-8 check. */
#include "core/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static void kw__oom(size_t n)
{
    fprintf(stderr, "kawat: out of memory allocating %zu bytes\n", n);
    abort();
}

void *kw_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL) kw__oom(n);
    return p;
}

void *kw_calloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (p == NULL) kw__oom(count * n);
    return p;
}

void *kw_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL) kw__oom(n);
    return q;
}

char *kw_strdup(const char *z)
{
    return kw_strndup(z, strlen(z));
}

char *kw_strndup(const char *p, size_t n)
{
    char *z = kw_malloc(n + 1);
    if (n) memcpy(z, p, n);
    z[n] = '\0';
    return z;
}

int kw_str_eq(kw_str_t a, const char *z)
{
    size_t n = strlen(z);
    return a.len == n && (n == 0 || memcmp(a.data, z, n) == 0);
}

int kw_str_caseeq(kw_str_t a, const char *z)
{
    size_t n = strlen(z);
    return a.len == n && (n == 0 || strncasecmp(a.data, z, n) == 0);
}

static void kw__buf_grow(kw_buf_t *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) cap *= 2;
    b->data = kw_realloc(b->data, cap);
    b->cap = cap;
}

void kw_buf_reserve(kw_buf_t *b, size_t extra)
{
    kw__buf_grow(b, extra);
}

void kw_buf_append(kw_buf_t *b, const void *p, size_t n)
{
    kw__buf_grow(b, n);
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void kw_buf_puts(kw_buf_t *b, const char *z)
{
    kw_buf_append(b, z, strlen(z));
}

void kw_buf_putc(kw_buf_t *b, char c)
{
    kw_buf_append(b, &c, 1);
}

void kw_buf_vprintf(kw_buf_t *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0) return;
    kw__buf_grow(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void kw_buf_printf(kw_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kw_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

char *kw_buf_steal(kw_buf_t *b, size_t *len)
{
    if (b->data == NULL) kw__buf_grow(b, 0), b->data[0] = '\0';
    char *p = b->data;
    if (len) *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void kw_buf_reset(kw_buf_t *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

void kw_buf_free(kw_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int kw_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned c = *p;
        if (c == 0) return 0;
        if (c < 0x80) { p++; continue; }
        size_t need;
        unsigned cp;
        if (c >= 0xC2 && c <= 0xDF) need = 1, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF) need = 2, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4) need = 3, cp = c & 0x07;
        else return 0;
        if ((size_t)(end - p) <= need) return 0;
        for (size_t i = 1; i <= need; i++) {
            if ((p[i] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if (need == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return 0;
        if (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)) return 0;
        p += need + 1;
    }
    return 1;
}

int64_t kw_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
