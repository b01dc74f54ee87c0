/* core_config.h -- settings from defaults, a config file, KAWAT_*
 * environment variables and the command line, in rising precedence. */
#ifndef KAWAT_CORE_CONFIG_H
#define KAWAT_CORE_CONFIG_H

#include "core/core.h"
#include <stdio.h>

typedef enum { CFG_STRING, CFG_SIZE, CFG_MS, CFG_BOOL, CFG_COUNT } core_cfg_type_t;

typedef struct {
    const char *name;  /* long option and config-file key: "listen" */
    const char *env;   /* "KAWAT_LISTEN" */
    core_cfg_type_t type;
    const char *def;   /* default as text, NULL for none */
    const char *help;
    /* value, filled by core_config_load */
    char *str;
    uint64_t num;      /* sizes in bytes, times in ms, bools 0/1 */
    const char *source; /* "default", "file", "env", "flag" */
} core_cfg_opt_t;

/* Loads settings into opts (n of them) from, in order: defaults, the file
 * named by --config/KAWAT_CONFIG (if any), environment, argv. argv holds
 * only options ("--name value" or "--name=value"; bools may stand alone).
 * Returns KW_OK, or KW_INVALID with a message in err naming the option.
 * "--help" makes it return KW_DECLINED. */
int core_config_load(core_cfg_opt_t *opts, size_t n, int argc, char **argv, char *err,
                     size_t errsize);
void core_config_free(core_cfg_opt_t *opts, size_t n);
const core_cfg_opt_t *core_config_get(const core_cfg_opt_t *opts, size_t n, const char *name);
/* Prints every option with its env variable, default and help. */
void core_config_usage(FILE *f, const core_cfg_opt_t *opts, size_t n);

/* Parses "10k", "1m", "512" (bytes) and "30s", "500ms", "2m" (ms). */
int core_config_parse_size(const char *z, uint64_t *out);
int core_config_parse_ms(const char *z, uint64_t *out);

#endif
