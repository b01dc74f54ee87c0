/* core_region.h -- ISO 3166-1 alpha-2 country and territory codes. */
#ifndef KAWAT_CORE_REGION_H
#define KAWAT_CORE_REGION_H

#include "core/core.h"

typedef struct {
    const char *code; /* "ID" */
    const char *name; /* English short name: "Indonesia" */
} core_region_t;

/* Case-insensitive lookup ("id" finds "ID"); NULL if not an assigned
 * ISO 3166-1 alpha-2 code. */
const core_region_t *core_region_find(kw_str_t code);
size_t core_region_count(void);
const core_region_t *core_region_at(size_t i);

#endif
