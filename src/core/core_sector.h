/* core_sector.h -- the seed list of sectors (the managed list starts from
 * it; editors may add more in the store) with localized names and IPTC
 * Media Topic codes where one fits. */
#ifndef KAWAT_CORE_SECTOR_H
#define KAWAT_CORE_SECTOR_H

#include "core/core.h"
#include "core/core_lang.h"

typedef struct {
    const char *slug;        /* "top-story", "daily-news", "business", ... */
    const char *name;        /* English name: "Top Story" */
    const char *media_topic; /* IPTC Media Topic code "medtop:04000000", or NULL */
} core_sector_t;

size_t core_sector_count(void);
const core_sector_t *core_sector_at(size_t i);
/* By slug, or by English name case-insensitively ("Top Story", "top story",
 * "top-story" all find top-story). NULL if not a seed sector. */
const core_sector_t *core_sector_find(kw_str_t slug_or_name);
/* Localized display name of a seed sector in lang; falls back to English.
 * NULL if slug is not a seed sector. */
const char *core_sector_name(const char *slug, const core_lang_t *lang);
/* Makes a slug from a name: lowercase ASCII letters/digits, '-' between
 * words; malloc'd. Non-ASCII letters are kept as UTF-8 lowercased only for
 * ASCII. Returns NULL if the result would be empty. */
char *core_sector_slugify(kw_str_t name);

#endif
