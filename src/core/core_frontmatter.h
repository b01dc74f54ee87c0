/* core_frontmatter.h -- the metadata block at the top of a release file:
 *
 *   ---
 *   headline: Kawat opens its wire to Southeast Asia
 *   language: id
 *   sectors: [Top Story, Technology]
 *   regions:
 *     - ID
 *     - MY
 *   ---
 *   Body in Markdown...
 *
 * A small, strict subset of YAML: `key: value` scalars (optionally in
 * double or single quotes), flow lists `[a, b, "c, d"]` and block lists of
 * `- item` lines. Anything else is an error naming the line. */
#ifndef KAWAT_CORE_FRONTMATTER_H
#define KAWAT_CORE_FRONTMATTER_H

#include "core/core.h"
#include <jansson.h>

/* Parses text (len bytes, UTF-8). On success returns KW_OK, sets *meta to a
 * new JSON object (keys to strings or arrays of strings; caller decrefs) and
 * *body / *body_len to the Markdown after the closing "---" (pointing into
 * text). Text without a leading "---" line is all body with an empty meta.
 * On error returns KW_INVALID and writes a message naming the line into
 * err (errsize bytes). */
int core_frontmatter_parse(const char *text, size_t len, json_t **meta, const char **body,
                           size_t *body_len, char *err, size_t errsize);

#endif
