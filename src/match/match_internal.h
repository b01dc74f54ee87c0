/* match_internal.h -- what the files of src/match share and nobody else
 * needs: the layout of a document and the string hash the index uses. */
#ifndef KAWAT_MATCH_INTERNAL_H
#define KAWAT_MATCH_INTERNAL_H

#include "match/match.h"

#include <stdint.h>

/* In a document's token sequence, between headline, subheadline and body,
 * so a multi-word keyword never spans two fields. */
#define MATCH__SEQ_BREAK UINT32_MAX

/* A document: a release as the matcher sees it. Strings are owned by the
 * document. Its tokens are kept twice: every distinct token once, sorted by
 * bytes (for lookups: binary search here, the hash in the index), and the
 * token sequence as indexes into the distinct ones (for multi-word
 * keywords). */
struct match_doc_s {
    char language[16];
    char **sectors;
    size_t n_sectors;
    char **regions;
    size_t n_regions;
    char *issuer_id;   /* NULL if none */
    char *issuer_slug; /* NULL if none */

    char *text;          /* the distinct tokens, each NUL-terminated */
    uint32_t *uniq_off;  /* distinct token i is text + uniq_off[i] */
    uint32_t *uniq_len;  /* its length in bytes */
    uint64_t *uniq_hash; /* match__hash of it */
    size_t n_uniq;
    uint32_t *seq; /* the token sequence, or MATCH__SEQ_BREAK */
    size_t n_seq;
};

/* The hash of a string, as the index's dictionaries use it; also built
 * piece by piece: match__hash(p, n) is
 * match__hash_final(match__hash_add(MATCH__HASH_INIT, p, n)). */
#define MATCH__HASH_INIT UINT64_C(0xcbf29ce484222325)
uint64_t match__hash(const char *p, size_t n);
uint64_t match__hash_add(uint64_t state, const char *p, size_t n);
uint64_t match__hash_final(uint64_t state);

/* Index of the distinct token p[0..n) in d, or -1. */
long match__doc_find(const match_doc_t *d, const char *p, size_t n);

/* Whether the normalized keyword kw (tokens separated by one space) occurs
 * in d: a one-word keyword as a token, a multi-word one as consecutive
 * tokens of one field. */
int match__doc_has_keyword(const match_doc_t *d, const char *kw, size_t n);

/* Calls emit for each normalized token of the UTF-8 text p[0..n) (invalid
 * sequences count as U+FFFD), in order. Returns KW_OK or KW_ERROR if ICU
 * failed. */
typedef void (*match__token_fn)(void *ctx, const char *tok, size_t len);
int match__tokenize(const char *p, size_t n, match__token_fn emit, void *ctx);

#endif
