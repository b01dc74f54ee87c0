/* match_text.c -- words for keyword matching: the tokenizer (Unicode NFKC
 * with case folding, then ICU word boundaries) and the matcher's document
 * built from a release.
 *
 * A token is one word as ICU's word-break rules find it in the normalized
 * text, with the root locale: spaces and punctuation separate words in most
 * scripts, and ICU's dictionaries split Thai, Lao, Khmer, Burmese, Chinese
 * and Japanese, which are written without spaces. Only segments ICU calls
 * words (letters, numbers, kana, ideographs) become tokens; spaces,
 * punctuation and symbols do not. Normalization is NFKC_Casefold: NFKC
 * (full-width "ＡＢＣ" is "abc", ligatures split), full case folding (the
 * mapping u_strFoldCase applies: "Straße" and "STRASSE" are both
 * "strasse") and removal of default-ignorable characters (a soft hyphen or
 * zero-width joiner inside a word does not split it), in one ICU pass.
 *
 * A keyword is normalized the same way and stored as its tokens joined by
 * one space, so "Electric  Vehicles!" is "electric vehicles" and matches
 * those two tokens in sequence. Documents and keywords go through the same
 * code, so whatever ICU decides a word is, it decides the same on both
 * sides; the one caveat is dictionary segmentation (Thai, Chinese,
 * Japanese), which may split a compound in running text differently from
 * the keyword alone when the neighbouring words change the best path. */
#include "match/match_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/ubrk.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

/* FNV-1a, then a final mix so the low bits (the table slot) depend on
 * every byte. */
uint64_t match__hash_add(uint64_t h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

uint64_t match__hash_final(uint64_t h)
{
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    return h;
}

uint64_t match__hash(const char *p, size_t n)
{
    return match__hash_final(match__hash_add(MATCH__HASH_INIT, p, n));
}

/* ---- the tokenizer ---- */

int match__tokenize(const char *p, size_t n, match__token_fn emit, void *ctx)
{
    if (n == 0) return KW_OK;
    if (n > (size_t)INT32_MAX / 4) return KW_ERROR;

    int rc = KW_ERROR;
    UErrorCode err = U_ZERO_ERROR;
    UChar *src = NULL, *norm = NULL;
    char *out = NULL;
    UBreakIterator *bi = NULL;

    /* UTF-8 to UTF-16: never more code units than bytes. */
    int32_t src_len = 0;
    src = kw_malloc(((size_t)n + 1) * sizeof(UChar));
    u_strFromUTF8WithSub(src, (int32_t)n + 1, &src_len, p, (int32_t)n, 0xFFFD, NULL, &err);
    if (U_FAILURE(err)) goto done;

    const UNormalizer2 *nfkc_cf = unorm2_getNFKCCasefoldInstance(&err);
    if (U_FAILURE(err)) goto done;
    const UChar *text = src;
    int32_t text_len = src_len;
    if (unorm2_spanQuickCheckYes(nfkc_cf, src, src_len, &err) < src_len || U_FAILURE(err)) {
        err = U_ZERO_ERROR;
        int32_t cap = src_len + src_len / 2 + 16;
        norm = kw_malloc((size_t)cap * sizeof(UChar));
        int32_t len = unorm2_normalize(nfkc_cf, src, src_len, norm, cap, &err);
        if (err == U_BUFFER_OVERFLOW_ERROR) {
            err = U_ZERO_ERROR;
            cap = len + 1;
            norm = kw_realloc(norm, (size_t)cap * sizeof(UChar));
            len = unorm2_normalize(nfkc_cf, src, src_len, norm, cap, &err);
        }
        if (U_FAILURE(err)) goto done;
        text = norm;
        text_len = len;
    }

    bi = ubrk_open(UBRK_WORD, "", text, text_len, &err);
    if (U_FAILURE(err)) goto done;

    size_t out_cap = 0;
    int32_t start = ubrk_first(bi);
    for (int32_t end = ubrk_next(bi); end != UBRK_DONE; start = end, end = ubrk_next(bi)) {
        if (ubrk_getRuleStatus(bi) < UBRK_WORD_NONE_LIMIT) continue;
        size_t need = (size_t)(end - start) * 3 + 1;
        if (need > out_cap) {
            out_cap = need < 256 ? 256 : need;
            out = kw_realloc(out, out_cap);
        }
        int32_t len = 0;
        u_strToUTF8WithSub(out, (int32_t)out_cap, &len, text + start, end - start, 0xFFFD, NULL,
                           &err);
        if (U_FAILURE(err)) goto done;
        if (len > 0) emit(ctx, out, (size_t)len);
    }
    rc = KW_OK;

done:
    if (bi) ubrk_close(bi);
    free(out);
    free(norm);
    free(src);
    return rc;
}

static void join_token(void *ctx, const char *tok, size_t len)
{
    kw_buf_t *b = ctx;
    if (b->len) kw_buf_putc(b, ' ');
    kw_buf_append(b, tok, len);
}

char *match_keyword_normalize(const char *kw, size_t len)
{
    kw_buf_t b = {0};
    if (kw == NULL || match__tokenize(kw, len, join_token, &b) != KW_OK || b.len == 0) {
        kw_buf_free(&b);
        return NULL;
    }
    return kw_buf_steal(&b, NULL);
}

/* ---- documents ---- */

/* Tokens as they come, before sorting: one buffer, an offset and length
 * each; a field break is a token of length UINT32_MAX. */
typedef struct {
    kw_buf_t text;
    uint32_t *off;
    uint32_t *len;
    size_t n, cap;
} collect_t;

static void collect_push(collect_t *c, uint32_t off, uint32_t len)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 256;
        c->off = kw_realloc(c->off, c->cap * sizeof(*c->off));
        c->len = kw_realloc(c->len, c->cap * sizeof(*c->len));
    }
    c->off[c->n] = off;
    c->len[c->n] = len;
    c->n++;
}

static void collect_token(void *ctx, const char *tok, size_t len)
{
    collect_t *c = ctx;
    /* A release is at most a few hundred KiB (CORE_BODY_MAX), far below
     * what 32-bit offsets hold; the check keeps that true for any caller. */
    if (c->text.len + len + 1 > UINT32_MAX / 2) return;
    collect_push(c, (uint32_t)c->text.len, (uint32_t)len);
    kw_buf_append(&c->text, tok, len);
    kw_buf_putc(&c->text, '\0');
}

static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int r = memcmp(a, b, an < bn ? an : bn);
    if (r) return r;
    return an < bn ? -1 : an > bn;
}

static int collect_cmp(const void *x, const void *y, void *arg)
{
    const collect_t *c = arg;
    uint32_t i = *(const uint32_t *)x, j = *(const uint32_t *)y;
    return bytes_cmp(c->text.data + c->off[i], c->len[i], c->text.data + c->off[j], c->len[j]);
}

static char *dup_or_null(const char *z)
{
    return z && *z ? kw_strdup(z) : NULL;
}

static char **strings_of(json_t *arr, size_t *n)
{
    *n = 0;
    if (!json_is_array(arr) || json_array_size(arr) == 0) return NULL;
    char **v = kw_calloc(json_array_size(arr), sizeof(*v));
    size_t i;
    json_t *item;
    json_array_foreach(arr, i, item)
    {
        if (json_is_string(item)) v[(*n)++] = kw_strdup(json_string_value(item));
    }
    return v;
}

match_doc_t *match_doc_new(const core_release_t *r)
{
    match_doc_t *d = kw_calloc(1, sizeof(*d));
    snprintf(d->language, sizeof(d->language), "%s", r->language);
    d->sectors = strings_of(r->sectors, &d->n_sectors);
    d->regions = strings_of(r->regions, &d->n_regions);
    d->issuer_id = dup_or_null(r->issuer_id);
    d->issuer_slug = dup_or_null(r->issuer_slug);

    collect_t c = {0};
    const char *fields[] = {r->headline, r->subheadline, r->body};
    int rc = KW_OK;
    for (size_t f = 0; f < KW_ARRAY_SIZE(fields) && rc == KW_OK; f++) {
        if (fields[f] == NULL || fields[f][0] == '\0') continue;
        if (c.n) collect_push(&c, 0, UINT32_MAX);
        rc = match__tokenize(fields[f], strlen(fields[f]), collect_token, &c);
    }
    if (rc != KW_OK) {
        kw_buf_free(&c.text);
        free(c.off);
        free(c.len);
        match_doc_free(d);
        return NULL;
    }

    /* Sort the tokens' positions by their bytes; equal runs become one
     * distinct token. */
    uint32_t *order = kw_malloc((c.n + 1) * sizeof(*order));
    size_t m = 0;
    for (size_t i = 0; i < c.n; i++)
        if (c.len[i] != UINT32_MAX) order[m++] = (uint32_t)i;
    qsort_r(order, m, sizeof(*order), collect_cmp, &c);

    d->seq = kw_malloc((c.n + 1) * sizeof(*d->seq));
    d->n_seq = c.n;
    d->uniq_off = kw_malloc((m + 1) * sizeof(*d->uniq_off));
    d->uniq_len = kw_malloc((m + 1) * sizeof(*d->uniq_len));
    d->uniq_hash = kw_malloc((m + 1) * sizeof(*d->uniq_hash));
    kw_buf_t text = {0};
    for (size_t i = 0; i < c.n; i++)
        if (c.len[i] == UINT32_MAX) d->seq[i] = MATCH__SEQ_BREAK;
    for (size_t k = 0; k < m; k++) {
        uint32_t i = order[k];
        if (k == 0 || collect_cmp(&order[k - 1], &order[k], &c) != 0) {
            d->uniq_off[d->n_uniq] = (uint32_t)text.len;
            d->uniq_len[d->n_uniq] = c.len[i];
            d->uniq_hash[d->n_uniq] = match__hash(c.text.data + c.off[i], c.len[i]);
            kw_buf_append(&text, c.text.data + c.off[i], c.len[i]);
            kw_buf_putc(&text, '\0');
            d->n_uniq++;
        }
        d->seq[i] = (uint32_t)(d->n_uniq - 1);
    }
    d->text = text.data ? kw_buf_steal(&text, NULL) : kw_strdup("");

    free(order);
    kw_buf_free(&c.text);
    free(c.off);
    free(c.len);
    return d;
}

void match_doc_free(match_doc_t *d)
{
    if (d == NULL) return;
    for (size_t i = 0; i < d->n_sectors; i++)
        free(d->sectors[i]);
    for (size_t i = 0; i < d->n_regions; i++)
        free(d->regions[i]);
    free(d->sectors);
    free(d->regions);
    free(d->issuer_id);
    free(d->issuer_slug);
    free(d->text);
    free(d->uniq_off);
    free(d->uniq_len);
    free(d->uniq_hash);
    free(d->seq);
    free(d);
}

long match__doc_find(const match_doc_t *d, const char *p, size_t n)
{
    size_t lo = 0, hi = d->n_uniq;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = bytes_cmp(d->text + d->uniq_off[mid], d->uniq_len[mid], p, n);
        if (r == 0) return (long)mid;
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int match__doc_has_keyword(const match_doc_t *d, const char *kw, size_t n)
{
    const char *sp = memchr(kw, ' ', n);
    if (sp == NULL) return match__doc_find(d, kw, n) >= 0;

    /* A phrase: every word must be a token of the document; then look for
     * them in sequence. */
    uint32_t stack[32], *ids = stack;
    size_t nparts = 1;
    for (size_t i = 0; i < n; i++)
        nparts += kw[i] == ' ';
    if (nparts > KW_ARRAY_SIZE(stack)) ids = kw_malloc(nparts * sizeof(*ids));
    int found = 0;
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && kw[i] != ' ') continue;
        long id = match__doc_find(d, kw + start, i - start);
        if (id < 0) goto done;
        ids[k++] = (uint32_t)id;
        start = i + 1;
    }
    for (size_t i = 0; i + nparts <= d->n_seq && !found; i++) {
        size_t j = 0;
        while (j < nparts && d->seq[i + j] == ids[j])
            j++;
        found = j == nparts;
    }
done:
    if (ids != stack) free(ids);
    return found;
}

match_doc_t *match_doc_new_attrs(const core_release_t *r)
{
    core_release_t bare = *r; /* shallow: only the text fields differ */
    bare.headline = bare.subheadline = bare.body = NULL;
    return match_doc_new(&bare);
}
