/* net_query.c -- decoding of query strings into name/value pairs. */
#include "net/net_query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUERY_PARAMS_MAX 100

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char *net_percent_decode(const char *p, size_t n, int plus_is_space, size_t *outlen)
{
    char *out = kw_malloc(n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= n) goto bad; /* needs two hex digits after '%' */
            hi = hexval(p[i + 1]);
            lo = hexval(p[i + 2]);
            if (hi < 0 || lo < 0) goto bad;
            out[j++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out[j++] = ' ';
        } else {
            out[j++] = c;
        }
    }
    out[j] = '\0';
    if (outlen) *outlen = j;
    return out;
bad:
    free(out);
    return NULL;
}

int net_query_parse(kw_str_t query, net_params_t *out, char *field, size_t fieldsize)
{
    out->items = NULL;
    out->count = 0;
    size_t cap = 0;
    const char *p = query.data, *end = query.data + query.len;
    while (p && p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if (stop > p) {
            const char *eq = memchr(p, '=', (size_t)(stop - p));
            const char *nend = eq ? eq : stop;
            size_t nlen, vlen;
            char *name = net_percent_decode(p, (size_t)(nend - p), 1, &nlen);
            char *value = eq ? net_percent_decode(eq + 1, (size_t)(stop - eq - 1), 1, &vlen)
                             : kw_strdup("");
            if (!eq) vlen = 0;
            if (out->count >= QUERY_PARAMS_MAX || name == NULL || value == NULL ||
                strlen(name) != nlen || strlen(value) != vlen || !kw_utf8_valid(name, nlen) ||
                !kw_utf8_valid(value, vlen)) {
                snprintf(field, fieldsize, "%s",
                         out->count >= QUERY_PARAMS_MAX ? "query"
                         : (name && nlen && strlen(name) == nlen && kw_utf8_valid(name, nlen)) ? name
                                                                                      : "query");
                free(name);
                free(value);
                net_query_free(out);
                return KW_INVALID;
            }
            if (out->count == cap) {
                cap = cap ? cap * 2 : 8;
                out->items = kw_realloc(out->items, cap * sizeof(*out->items));
            }
            out->items[out->count].name = name;
            out->items[out->count].value = value;
            out->count++;
        }
        p = amp ? amp + 1 : NULL;
    }
    return KW_OK;
}

void net_query_free(net_params_t *p)
{
    for (size_t i = 0; i < p->count; i++) {
        free(p->items[i].name);
        free(p->items[i].value);
    }
    free(p->items);
    p->items = NULL;
    p->count = 0;
}

const char *net_query_get(const net_params_t *p, const char *name)
{
    for (size_t i = 0; i < p->count; i++)
        if (strcmp(p->items[i].name, name) == 0) return p->items[i].value;
    return NULL;
}

size_t net_query_count(const net_params_t *p, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < p->count; i++)
        if (strcmp(p->items[i].name, name) == 0) n++;
    return n;
}

int net_query_only(const net_params_t *p, const char *const *names, const char **bad)
{
    for (size_t i = 0; i < p->count; i++) {
        int ok = 0;
        for (const char *const *n = names; *n; n++)
            if (strcmp(*n, p->items[i].name) == 0) ok = 1;
        if (!ok) {
            *bad = p->items[i].name;
            return 0;
        }
    }
    return 1;
}
