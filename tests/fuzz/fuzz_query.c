/* fuzz_query.c -- libFuzzer harness for net_query_parse and
 * net_percent_decode: any query string must give either KW_OK with at most
 * 100 parameters whose names and values are valid UTF-8 without NUL, or
 * KW_INVALID with the field named -- never a crash, a leak or a read past
 * the input. */
#include "net/net_query.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exactly size bytes, no terminator: protocol data is counted. */
    char *q = malloc(size ? size : 1);
    if (q == NULL) return 0;
    if (size) memcpy(q, data, size);

    net_params_t p;
    char field[64];
    field[0] = '\0';
    int rc = net_query_parse((kw_str_t){q, size}, &p, field, sizeof(field));
    if (rc == KW_OK) {
        if (p.count > 100) abort();
        for (size_t i = 0; i < p.count; i++) {
            const char *n = p.items[i].name, *v = p.items[i].value;
            if (n == NULL || v == NULL) abort();
            if (!kw_utf8_valid(n, strlen(n)) || !kw_utf8_valid(v, strlen(v))) abort();
            /* Lookups find the first value of each name. */
            const char *got = net_query_get(&p, n);
            if (got == NULL || net_query_count(&p, n) == 0) abort();
        }
        const char *const names[] = {"after", "limit", "language", NULL};
        const char *bad = NULL;
        if (!net_query_only(&p, names, &bad) && bad == NULL) abort();
        net_query_free(&p);
        if (p.items != NULL || p.count != 0) abort();
    } else {
        if (rc != KW_INVALID || p.items != NULL || p.count != 0) abort();
        if (memchr(field, '\0', sizeof(field)) == NULL) abort();
#ifndef FUZZ_QUERY_ALLOW_EMPTY_FIELD
        /* The 400 names the parameter; an empty name is no help ("=%E3"
         * gave field "" until net_query.c named it "query"). Build with
         * -DFUZZ_QUERY_ALLOW_EMPTY_FIELD to look past that one. */
        if (field[0] == '\0') abort();
#endif
    }

    /* The decoder alone, both ways of reading '+'. */
    for (int plus = 0; plus <= 1; plus++) {
        size_t n = 0;
        char *d = net_percent_decode(q, size, plus, &n);
        if (d != NULL) {
            if (n > size || d[n] != '\0') abort();
            free(d);
        }
    }
    free(q);
    return 0;
}
