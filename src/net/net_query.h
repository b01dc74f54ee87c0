/* net_query.h -- application/x-www-form-urlencoded query strings. */
#ifndef KAWAT_NET_QUERY_H
#define KAWAT_NET_QUERY_H

#include "core/core.h"

typedef struct {
    char *name;  /* decoded, NUL-terminated */
    char *value;
} net_param_t;

typedef struct {
    net_param_t *items;
    size_t count;
} net_params_t;

/* Decodes query (percent escapes, '+' as space). Returns KW_OK, or
 * KW_INVALID with the offending parameter's name (or "query") in field
 * when an escape is malformed, a value is not valid UTF-8 or contains NUL,
 * or there are more than 100 parameters. */
int net_query_parse(kw_str_t query, net_params_t *out, char *field, size_t fieldsize);
void net_query_free(net_params_t *p);
/* First value of name, or NULL. */
const char *net_query_get(const net_params_t *p, const char *name);
/* Number of values of name. */
size_t net_query_count(const net_params_t *p, const char *name);
/* Whether every parameter name is one of the NULL-terminated names; if not,
 * *bad is the first unknown one. */
int net_query_only(const net_params_t *p, const char *const *names, const char **bad);

/* Percent-decodes [p, p+n) into a new string; NULL if malformed. */
char *net_percent_decode(const char *p, size_t n, int plus_is_space, size_t *outlen);

#endif
