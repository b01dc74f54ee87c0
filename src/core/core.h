/* core.h -- what every kawat module shares: return codes, counted strings,
 * growable buffers and the out-of-memory policy. */
#ifndef KAWAT_CORE_H
#define KAWAT_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* One set of return codes for the whole project; 0 is success. */
typedef enum {
    KW_OK = 0,
    KW_ERROR = -1,     /* internal failure (I/O, library error) */
    KW_AGAIN = -2,     /* try again later (busy, would block) */
    KW_DECLINED = -3,  /* not handled here; let another handler try */
    KW_NOTFOUND = -4,  /* no such thing (or not visible to the caller) */
    KW_INVALID = -5,   /* bad input from the caller */
    KW_CONFLICT = -6,  /* not allowed in the current state */
    KW_FORBIDDEN = -7, /* the caller may not do this */
    KW_GONE = -8       /* existed, now withdrawn (tombstone) */
} kw_rc_t;

/* Counted string; never assume NUL termination of protocol data. */
typedef struct {
    const char *data;
    size_t len;
} kw_str_t;

#define KW_STR(lit) ((kw_str_t){(lit), sizeof(lit) - 1})
#define KW_STR_NULL ((kw_str_t){NULL, 0})

int kw_str_eq(kw_str_t a, const char *z);      /* exact, z is NUL-terminated */
int kw_str_caseeq(kw_str_t a, const char *z);  /* ASCII case-insensitive */

/* Growable byte buffer, always NUL-terminated after its len bytes. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} kw_buf_t;

void kw_buf_append(kw_buf_t *b, const void *p, size_t n);
/* Makes room for extra more bytes at once (one allocation instead of a
 * doubling series when the size is known). */
void kw_buf_reserve(kw_buf_t *b, size_t extra);
void kw_buf_puts(kw_buf_t *b, const char *z);
void kw_buf_putc(kw_buf_t *b, char c);
void kw_buf_printf(kw_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void kw_buf_vprintf(kw_buf_t *b, const char *fmt, va_list ap);
/* Hands the data to the caller (to free()); the buffer is left empty. */
char *kw_buf_steal(kw_buf_t *b, size_t *len);
void kw_buf_reset(kw_buf_t *b);
void kw_buf_free(kw_buf_t *b);

/* Out of memory is decided once: kawat bounds its own memory use (request,
 * body and queue limits), so a failed allocation means the machine is out of
 * memory and the process stops with a message rather than limping on with
 * half-built state. */
void *kw_malloc(size_t n);
void *kw_calloc(size_t count, size_t n);
void *kw_realloc(void *p, size_t n);
char *kw_strdup(const char *z);
char *kw_strndup(const char *p, size_t n);

/* Valid UTF-8 (no overlongs, no surrogates, no NUL). Returns 1 if valid. */
int kw_utf8_valid(const char *p, size_t n);

/* Clock helpers: milliseconds since the Unix epoch, UTC. */
int64_t kw_now_ms(void);

#define KW_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
