/* core_config.c -- settings from defaults, file, environment and flags. */
#include "core/core_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int core_config_parse_size(const char *z, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)*z)) return KW_INVALID;
    unsigned long long v = strtoull(z, &end, 10);
    if (errno) return KW_INVALID;
    uint64_t mul = 1;
    if (*end == 'k' || *end == 'K') mul = 1024, end++;
    else if (*end == 'm' || *end == 'M') mul = 1024 * 1024, end++;
    else if (*end == 'g' || *end == 'G') mul = 1024ull * 1024 * 1024, end++;
    if (*end == 'b' || *end == 'B') end++;
    if (*end) return KW_INVALID;
    if (v > UINT64_MAX / mul) return KW_INVALID; /* would wrap */
    *out = v * mul;
    return KW_OK;
}

int core_config_parse_ms(const char *z, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)*z)) return KW_INVALID;
    unsigned long long v = strtoull(z, &end, 10);
    if (errno) return KW_INVALID;
    uint64_t mul = 1000; /* plain numbers are seconds */
    if (strcmp(end, "ms") == 0) mul = 1, end += 2;
    else if (strcmp(end, "s") == 0) mul = 1000, end += 1;
    else if (strcmp(end, "m") == 0) mul = 60000, end += 1;
    else if (strcmp(end, "h") == 0) mul = 3600000, end += 1;
    if (*end) return KW_INVALID;
    if (v > UINT64_MAX / mul) return KW_INVALID; /* would wrap */
    *out = v * mul;
    return KW_OK;
}

static int parse_bool(const char *z, uint64_t *out)
{
    if (!strcmp(z, "1") || !strcasecmp(z, "true") || !strcasecmp(z, "yes") || !strcasecmp(z, "on"))
        *out = 1;
    else if (!strcmp(z, "0") || !strcasecmp(z, "false") || !strcasecmp(z, "no") ||
             !strcasecmp(z, "off"))
        *out = 0;
    else
        return KW_INVALID;
    return KW_OK;
}

static int set_value(core_cfg_opt_t *o, const char *value, const char *source, char *err,
                     size_t errsize)
{
    uint64_t num = 0;
    int rc = KW_OK;
    switch (o->type) {
    case CFG_SIZE:
        rc = core_config_parse_size(value, &num);
        break;
    case CFG_COUNT: {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(value, &end, 10);
        rc = (!isdigit((unsigned char)*value) || *end || errno) ? KW_INVALID : KW_OK;
        num = v;
        break;
    }
    case CFG_MS:
        rc = core_config_parse_ms(value, &num);
        break;
    case CFG_BOOL:
        rc = parse_bool(value, &num);
        break;
    case CFG_STRING:
        break;
    }
    if (rc != KW_OK) {
        snprintf(err, errsize, "%s (from %s): bad value \"%s\"%s", o->name, source, value,
                 o->type == CFG_SIZE  ? " (expected bytes like 1048576 or 1m)"
                 : o->type == CFG_MS  ? " (expected a duration like 30s or 500ms)"
                 : o->type == CFG_BOOL ? " (expected true or false)"
                 : o->type == CFG_COUNT ? " (expected a whole number)"
                                       : "");
        return KW_INVALID;
    }
    free(o->str);
    o->str = kw_strdup(value);
    o->num = num;
    o->source = source;
    return KW_OK;
}

static core_cfg_opt_t *find(core_cfg_opt_t *opts, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0) return &opts[i];
    return NULL;
}

/* One config file serves every command: a setting another command takes
 * is skipped here, while a name no command knows is an error (a typo). */
static const char *const core__all_keys[] = {
    "listen", "data", "base-url", "wire-name", "default-language", "access-log", "max-body",
    "max-header", "max-connections", "header-timeout", "body-timeout", "idle-timeout",
    "longpoll-max", "trust-proxy", "demo", "demo-dir", "name", "role", "issuer", "email", "user",
    "password-stdin", "server", "token"};

static int core__shared_key(const char *name, size_t len)
{
    for (size_t i = 0; i < KW_ARRAY_SIZE(core__all_keys); i++)
        if (strlen(core__all_keys[i]) == len && strncmp(core__all_keys[i], name, len) == 0)
            return 1;
    return 0;
}

static int load_file(core_cfg_opt_t *opts, size_t n, const char *path, char *err, size_t errsize)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errsize, "config: cannot open %s: %s", path, strerror(errno));
        return KW_INVALID;
    }
    char line[4096];
    int lineno = 0, rc = KW_OK;
    while (rc == KW_OK && fgets(line, sizeof(line), f)) {
        lineno++;
        char *p = line;
        while (isspace((unsigned char)*p)) p++;
        if (*p == '#' || *p == '\0') continue;
        char *eq = strchr(p, '=');
        if (eq == NULL) {
            snprintf(err, errsize, "config %s:%d: expected key = value", path, lineno);
            rc = KW_INVALID;
            break;
        }
        char *kend = eq;
        while (kend > p && isspace((unsigned char)kend[-1])) kend--;
        char *v = eq + 1;
        while (isspace((unsigned char)*v)) v++;
        char *vend = v + strlen(v);
        while (vend > v && isspace((unsigned char)vend[-1])) vend--;
        *vend = '\0';
        core_cfg_opt_t *o = find(opts, n, p, (size_t)(kend - p));
        if (o == NULL && core__shared_key(p, (size_t)(kend - p))) continue;
        if (o == NULL) {
            snprintf(err, errsize, "config %s:%d: unknown setting \"%.*s\"", path, lineno,
                     (int)(kend - p), p);
            rc = KW_INVALID;
            break;
        }
        rc = set_value(o, v, "file", err, errsize);
    }
    fclose(f);
    return rc;
}

int core_config_load(core_cfg_opt_t *opts, size_t n, int argc, char **argv, char *err,
                     size_t errsize)
{
    const char *config_path = getenv("KAWAT_CONFIG");
    for (size_t i = 0; i < n; i++) {
        opts[i].str = NULL;
        opts[i].num = 0;
        opts[i].source = "default";
        if (opts[i].def && set_value(&opts[i], opts[i].def, "default", err, errsize)) return KW_INVALID;
    }
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return KW_DECLINED;
        if (strncmp(argv[i], "--config=", 9) == 0) config_path = argv[i] + 9;
        else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) config_path = argv[i + 1];
    }
    if (config_path && *config_path && load_file(opts, n, config_path, err, errsize) != KW_OK)
        return KW_INVALID;
    for (size_t i = 0; i < n; i++) {
        const char *v = opts[i].env ? getenv(opts[i].env) : NULL;
        if (v && set_value(&opts[i], v, opts[i].env, err, errsize) != KW_OK) return KW_INVALID;
    }
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            snprintf(err, errsize, "unexpected argument \"%s\"", a);
            return KW_INVALID;
        }
        a += 2;
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        if (len == 6 && strncmp(a, "config", 6) == 0) {
            if (!eq) i++;
            continue;
        }
        core_cfg_opt_t *o = find(opts, n, a, len);
        if (o == NULL) {
            snprintf(err, errsize, "unknown option --%.*s (see --help)", (int)len, a);
            return KW_INVALID;
        }
        const char *v;
        if (eq) v = eq + 1;
        else if (o->type == CFG_BOOL && (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0))
            v = "true";
        else if (i + 1 < argc) v = argv[++i];
        else {
            snprintf(err, errsize, "option --%s needs a value", o->name);
            return KW_INVALID;
        }
        if (set_value(o, v, "flag", err, errsize) != KW_OK) return KW_INVALID;
    }
    return KW_OK;
}

void core_config_free(core_cfg_opt_t *opts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(opts[i].str);
        opts[i].str = NULL;
    }
}

const core_cfg_opt_t *core_config_get(const core_cfg_opt_t *opts, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(opts[i].name, name) == 0) return &opts[i];
    return NULL;
}

void core_config_usage(FILE *f, const core_cfg_opt_t *opts, size_t n)
{
    fprintf(f, "  --config FILE  (KAWAT_CONFIG)\n      Read settings from FILE: lines of "
               "'name = value' using the option names below, '#' comments.\n");
    for (size_t i = 0; i < n; i++) {
        const char *arg = opts[i].type == CFG_BOOL   ? ""
                          : opts[i].type == CFG_SIZE ? " BYTES"
                          : opts[i].type == CFG_MS   ? " DURATION"
                          : opts[i].type == CFG_COUNT ? " N"
                                                     : " VALUE";
        fprintf(f, "  --%s%s  (%s", opts[i].name, arg, opts[i].env);
        if (opts[i].def) fprintf(f, ", default %s", opts[i].def);
        fprintf(f, ")\n      %s\n", opts[i].help);
    }
    fprintf(f, "Precedence: command line, then environment, then config file, then default.\n");
}
