/* match.h -- the subscription index: given a release, every subscription
 * whose filter it satisfies, without visiting subscriptions that cannot
 * match. Also the filter itself: parsing, validation and single-filter
 * matching, and the keyword tokenizer (Unicode normalization, case folding,
 * ICU word boundaries so Thai, Chinese and Japanese keywords work). */
#ifndef KAWAT_MATCH_H
#define KAWAT_MATCH_H

#include "core/core.h"
#include "core/core_release.h"
#include <jansson.h>

/* A filter: values of one attribute are any-of; attributes are all-of.
 * An empty attribute does not constrain. keywords_any: at least one of
 * them occurs; keywords_all: every one occurs. Values are canonical:
 * language tags as core_lang gives them, sector slugs, ISO region codes,
 * issuer ids or slugs, keywords normalized by match_keyword_normalize. */
typedef struct {
    json_t *languages;    /* arrays of strings */
    json_t *sectors;
    json_t *regions;
    json_t *issuers;
    json_t *keywords_any;
    json_t *keywords_all;
} match_filter_t;

#define MATCH_FILTER_VALUES_MAX 50  /* per attribute */
#define MATCH_KEYWORDS_ALL_MAX 16
#define MATCH_KEYWORD_BYTES_MAX 100

/* Resolves a sector name or slug to its canonical slug (NULL if unknown);
 * kawat passes store_sector_resolve with the store. */
typedef const char *(*match_sector_resolve_fn)(void *ctx, const char *name_or_slug);

void match_filter_init(match_filter_t *f);
void match_filter_clear(match_filter_t *f);
int match_filter_copy(match_filter_t *dst, const match_filter_t *src);

/* Parses a filter object {"languages": [...], "sectors": [...], "regions":
 * [...], "issuers": [...], "keywords": [...] (any-of), "keywords_all":
 * [...]} into f (canonical values). Unknown keys, wrong types, unknown
 * languages/sectors/regions, too many values or over-long keywords are
 * errors in errs naming the field with prefix (e.g. "filters[0].sectors[2]").
 * Returns KW_OK or KW_INVALID. */
int match_filter_parse_json(match_filter_t *f, json_t *in, const char *prefix,
                            match_sector_resolve_fn resolve, void *ctx, core_errors_t *errs);

/* The same from query parameters: each of language, sector, region, issuer,
 * keyword may repeat (name=value pairs, already percent-decoded); other
 * names are ignored (the caller checks them). */
int match_filter_parse_params(match_filter_t *f, const char *const *names,
                              const char *const *values, size_t n,
                              match_sector_resolve_fn resolve, void *ctx, core_errors_t *errs);

/* The filter as JSON in the same shape match_filter_parse_json reads
 * ("keywords" for keywords_any). Caller decrefs. */
json_t *match_filter_to_json(const match_filter_t *f);

/* ---- documents ---- */

/* What the matcher looks at in a release: its attributes and the set of
 * normalized keyword tokens of its headline, subheadline and body. */
typedef struct match_doc_s match_doc_t;

/* Builds the document of a release (tokenizing its text once). */
match_doc_t *match_doc_new(const core_release_t *r);
/* The document without its text: enough for filters that name no keywords
 * (it matches no keyword), at no tokenizing cost. */
match_doc_t *match_doc_new_attrs(const core_release_t *r);
void match_doc_free(match_doc_t *d);

/* Whether one filter matches a document (used for replay from the wire log
 * and for anonymous streams). */
int match_filter_matches(const match_filter_t *f, const match_doc_t *d);

/* Normalizes a keyword as documents' tokens are: NFKC, case-folded, with
 * surrounding whitespace and punctuation removed; a multi-word keyword
 * ("electric vehicle") matches the words in sequence. Returns a malloc'd
 * string or NULL if nothing is left. */
char *match_keyword_normalize(const char *kw, size_t len);

/* ---- the index ---- */

typedef struct match_index_s match_index_t;

match_index_t *match_index_new(void);
void match_index_free(match_index_t *ix);

/* Sets the filters of subscription id (replacing any it had; n = 0 removes
 * it). ids are the caller's small integers (dense ids keep memory low).
 * Returns KW_OK. */
int match_index_set(match_index_t *ix, uint32_t id, const match_filter_t *filters, size_t n);
/* (match_index_set, continued) Filters must hold canonical values, as
 * match_filter_parse_* give them: the index compares exact bytes and
 * splits phrases at single spaces. It returns KW_INVALID, changing
 * nothing, if id > MATCH_INDEX_ID_MAX, n > MATCH_INDEX_FILTERS_MAX, an
 * attribute holds more than 255 values or a non-string. The index keeps no
 * pointer into the filters. Not thread-safe: set, remove and match share
 * scratch space, so one thread at a time uses an index. */
#define MATCH_INDEX_ID_MAX ((1u << 28) - 1)
#define MATCH_INDEX_FILTERS_MAX 64
void match_index_remove(match_index_t *ix, uint32_t id);

/* Ids of every subscription with a filter matching d, ascending, each
 * once. *out is a growable array the caller keeps between calls (free with
 * free()); returns the count. */
size_t match_index_match(match_index_t *ix, const match_doc_t *d, uint32_t **out, size_t *cap);
/* (match_index_match, continued) d is only read: one document may be
 * matched against several indexes, on several threads at once (each index
 * on one thread). The time grows with the candidates and the matches:
 * about 2 ms for 80,000 matches among 3,500,000 subscriptions; see
 * bench/README.md. */

typedef struct {
    size_t subscriptions;
    size_t filters;
    size_t bytes; /* memory held by the index */
} match_stats_t;
void match_index_stats(const match_index_t *ix, match_stats_t *out);

#endif
