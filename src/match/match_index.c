/* match_index.c -- the subscription index: which subscriptions does this
 * release match, for millions of subscriptions, in about a millisecond.
 *
 * Design note
 * ===========
 *
 * A subscription (a caller's dense uint32 id) holds one or more filters and
 * matches a release when any of them does. A filter constrains five
 * attributes: language, sectors, regions, issuers, keywords (any-of and
 * all-of). A release has exactly one language, a few sectors and regions,
 * one issuer (named by id and by slug) and a few hundred distinct words.
 *
 * Values are interned. Every language, sector and region value becomes a
 * small integer in one dictionary ("small values": a few hundred of them at
 * most), every issuer one in another, every keyword -- a single word, or a
 * phrase of words separated by one space -- one in a third. Nothing below
 * the dictionaries compares strings; the dictionaries are only consulted
 * to turn a release's values into ids, once per release.
 *
 * Filters live in slots: slot f has the owning subscription, the offset of
 * its record in one uint32 arena, the next slot of the same subscription
 * and its kind. Records are runs of interned ids with their counts in a
 * header word; freed records go on exact-size free lists and the arena is
 * compacted when half of it is free. There is no allocation per filter.
 *
 * Each filter is indexed under ONE access path, chosen when it is set, the
 * one expected to visit it least often for releases it does not match:
 *
 *   issuers    if it names issuers: under each of them (a release has one
 *              issuer; these lists are short);
 *   small      if it constrains sectors or regions (with or without
 *              languages), or only languages and no keywords: in the
 *              language, sector and region sets below;
 *   keywords   if it has keywords and constrains at most the language:
 *              under each any-of keyword, or under its all-of keyword with
 *              the shortest list (a conjunction needs only one);
 *   match-all  if it constrains nothing.
 *
 * The small path is where the volume is (a desktop that follows "English,
 * business and energy, Indonesia and Malaysia" is the common case), and at
 * that volume posting lists of slot numbers are too long to walk: with the
 * reference skew a release's language alone is held by a quarter of all
 * filters. So the small values are sets over slot numbers, stored the way
 * Roaring bitmaps store them: slots are cut into chunks of 65,536; per
 * chunk a value holds a sorted array of 16-bit offsets while it has at most
 * 4,096 members, else an 8 KiB bitmap (so a member costs at most 2 bytes,
 * and a dense value one bit per slot). Each attribute also has an "any"
 * set: the small-path filters that do not constrain it. For a release, per
 * chunk:
 *
 *   L = any-language | language                     (one 8 KiB bitmap)
 *   S = any-sector   | sector_1 | ... | sector_k
 *   R = any-region   | region_1 | ... | region_m
 *   candidates = L & S & R
 *
 * computed word by word in L1-sized scratch bitmaps, skipping a chunk as
 * soon as one group is empty there. This is posting-list intersection done
 * 64 slots per instruction; every candidate already satisfies language,
 * sector and region, so what remains is its keywords: one record read and
 * a bit test per keyword in the release's word bitmap (a bitmap over
 * keyword ids). Candidates come out in slot order, so those reads move
 * forward through memory and are prefetched a few ahead.
 *
 * The issuer and keyword paths are plain posting lists of slots (unsorted
 * uint32 vectors); each record keeps, for every list it is on, its position
 * there, so removal is a swap with the last entry and one fix-up of the
 * moved filter's back-pointer. Their candidates are checked against the
 * whole filter: language, sector and region ids by bit tests in a bitmap
 * of the release's small values, issuers against the release's two ids,
 * keywords in the word bitmap.
 *
 * Phrases: a multi-word keyword is interned whole ("electric vehicle") and
 * its first word is marked as a phrase head. For a release, only at the
 * positions of head words are the following words joined and looked up,
 * up to the longest phrase indexed; phrases found join the release's words.
 *
 * Matches are marked in a bitmap over subscription ids, which dedupes
 * (several filters of one subscription, a filter on several keyword lists)
 * and is read back in order to give the ascending result, clearing it.
 *
 * Updates are in place: match_index_set removes a subscription's filters
 * (clearing their bits, swap-removing their postings, freeing slots and
 * records, releasing interned values no longer held) and adds the new
 * ones. A small-path record keeps only keywords -- the language, sector and
 * region sets are the only copy of those -- so removal probes each small
 * value's container for the slot's chunk (a few hundred bit tests or
 * binary searches).
 *
 * Not thread-safe: match, set and remove share scratch space; callers
 * serialize them (one index per thread, or one owner that matches and
 * hands results out). */
#include "match/match_internal.h"

#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
#define CHUNK_SHIFT 16
#define CHUNK_SLOTS (1u << CHUNK_SHIFT)
#define CHUNK_WORDS (CHUNK_SLOTS / 64)
#define ARRAY_MAX 4096 /* an array container past this becomes a bitmap */
#define ARRAY_MIN 2048 /* a bitmap container under this becomes an array */
#define COUNT_MAX 255  /* values per attribute in a record (8-bit counts) */
#define FREE_SIZES 64  /* exact-size free lists for records up to this many words */
#define ALLOC_OVERHEAD 16 /* what malloc keeps per block, counted in stats */

enum { KIND_FREE, KIND_ALL, KIND_SMALL, KIND_KEYWORD, KIND_ISSUER };
enum { A_LANG, A_SECTOR, A_REGION, A_SMALL_COUNT };
static const char small_prefix[A_SMALL_COUNT] = {'l', 's', 'r'};

/* ---- growable vectors ---- */

typedef struct {
    uint32_t *v;
    uint32_t n, cap;
} u32vec_t;

static void vec_push(u32vec_t *a, uint32_t x)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap + a->cap / 2 + 1 : 4;
        a->v = kw_realloc(a->v, (size_t)a->cap * sizeof(*a->v));
    }
    a->v[a->n++] = x;
}

static int u32_cmp(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

/* ---- containers: one chunk of one set of slots ---- */

typedef struct {
    void *p;       /* uint16_t[cap] sorted, or uint64_t[CHUNK_WORDS] */
    uint32_t card; /* members */
    uint16_t cap;  /* array capacity */
    uint8_t bitmap;
} cont_t;

static long cont_search(const cont_t *c, uint16_t lo)
{
    const uint16_t *v = c->p;
    size_t a = 0, b = c->card;
    while (a < b) {
        size_t m = (a + b) / 2;
        if (v[m] == lo) return (long)m;
        if (v[m] < lo)
            a = m + 1;
        else
            b = m;
    }
    return -1 - (long)a;
}

static void cont_add(cont_t *c, uint16_t lo)
{
    if (c->bitmap) {
        uint64_t *w = &((uint64_t *)c->p)[lo >> 6], bit = UINT64_C(1) << (lo & 63);
        c->card += !(*w & bit);
        *w |= bit;
        return;
    }
    long at = c->card ? cont_search(c, lo) : -1;
    if (at >= 0) return;
    size_t pos = (size_t)(-1 - at);
    if (c->card == ARRAY_MAX) {
        uint64_t *bits = kw_calloc(CHUNK_WORDS, sizeof(*bits));
        const uint16_t *v = c->p;
        for (uint32_t i = 0; i < c->card; i++) bits[v[i] >> 6] |= UINT64_C(1) << (v[i] & 63);
        free(c->p);
        c->p = bits;
        c->cap = 0;
        c->bitmap = 1;
        cont_add(c, lo);
        return;
    }
    if (c->card == c->cap) {
        c->cap = c->cap ? (uint16_t)(c->cap * 2 > ARRAY_MAX ? ARRAY_MAX : c->cap * 2) : 4;
        c->p = kw_realloc(c->p, (size_t)c->cap * sizeof(uint16_t));
    }
    uint16_t *v = c->p;
    memmove(v + pos + 1, v + pos, (c->card - pos) * sizeof(*v));
    v[pos] = lo;
    c->card++;
}

/* Removes lo; returns 1 if it was there. */
static int cont_del(cont_t *c, uint16_t lo)
{
    if (c->card == 0) return 0;
    if (c->bitmap) {
        uint64_t *w = &((uint64_t *)c->p)[lo >> 6], bit = UINT64_C(1) << (lo & 63);
        if (!(*w & bit)) return 0;
        *w &= ~bit;
        if (--c->card < ARRAY_MIN) {
            uint16_t *v = kw_malloc(ARRAY_MAX * sizeof(*v));
            const uint64_t *bits = c->p;
            uint32_t n = 0;
            for (uint32_t i = 0; i < CHUNK_WORDS; i++)
                for (uint64_t x = bits[i]; x; x &= x - 1)
                    v[n++] = (uint16_t)(i * 64 + (uint32_t)__builtin_ctzll(x));
            free(c->p);
            c->p = v;
            c->cap = ARRAY_MAX;
            c->bitmap = 0;
        }
        return 1;
    }
    long at = cont_search(c, lo);
    if (at < 0) return 0;
    uint16_t *v = c->p;
    memmove(v + at, v + at + 1, (c->card - (size_t)at - 1) * sizeof(*v));
    if (--c->card == 0) {
        free(c->p);
        c->p = NULL;
        c->cap = 0;
    }
    return 1;
}

static size_t cont_bytes(const cont_t *c)
{
    if (c->p == NULL) return 0;
    return (c->bitmap ? CHUNK_WORDS * sizeof(uint64_t) : (size_t)c->cap * sizeof(uint16_t)) +
           ALLOC_OVERHEAD;
}

/* acc = the container's members (acc has CHUNK_WORDS words). */
static void cont_copy(uint64_t *acc, const cont_t *c)
{
    if (c->bitmap) {
        memcpy(acc, c->p, CHUNK_WORDS * sizeof(*acc));
        return;
    }
    memset(acc, 0, CHUNK_WORDS * sizeof(*acc));
    const uint16_t *v = c->p;
    for (uint32_t i = 0; i < c->card; i++) acc[v[i] >> 6] |= UINT64_C(1) << (v[i] & 63);
}

static void cont_or(uint64_t *acc, const cont_t *c)
{
    if (c->bitmap) {
        const uint64_t *b = c->p;
        for (uint32_t i = 0; i < CHUNK_WORDS; i++) acc[i] |= b[i];
        return;
    }
    const uint16_t *v = c->p;
    for (uint32_t i = 0; i < c->card; i++) acc[v[i] >> 6] |= UINT64_C(1) << (v[i] & 63);
}

/* ---- dictionaries ---- */

/* An interned value. refs counts the filter records holding it (and, for
 * a phrase's first word, the phrases beginning with it); at zero the entry
 * is freed and its id reused. */
typedef struct {
    char *str;        /* NULL: id free */
    uint32_t len;
    uint32_t refs;
    uint64_t hash;
    u32vec_t post;    /* keyword, issuer: slots indexed under it */
    cont_t *chunks;   /* small value: its small-path slots, per chunk */
    uint32_t head;    /* phrase keyword: id of its first word; else NONE */
    uint32_t heads;   /* keyword: phrases beginning with this word */
    uint8_t attr;     /* small value: A_LANG, A_SECTOR or A_REGION */
} entry_t;

typedef struct {
    entry_t *e;
    uint32_t n, cap;  /* ids in use are < n */
    uint32_t *table;  /* open addressing, linear probing: id + 1, 0 empty */
    uint32_t mask;
    uint32_t live;
    u32vec_t free_ids;
} dict_t;

static void dict_init(dict_t *d)
{
    memset(d, 0, sizeof(*d));
    d->mask = 63;
    d->table = kw_calloc(d->mask + 1, sizeof(*d->table));
}

static uint32_t dict_find(const dict_t *d, const char *s, size_t len, uint64_t hash)
{
    for (uint32_t i = (uint32_t)hash & d->mask;; i = (i + 1) & d->mask) {
        uint32_t t = d->table[i];
        if (t == 0) return NONE;
        const entry_t *e = &d->e[t - 1];
        if (e->hash == hash && e->len == len && memcmp(e->str, s, len) == 0) return t - 1;
    }
}

static void dict_place(dict_t *d, uint32_t id)
{
    uint32_t i = (uint32_t)d->e[id].hash & d->mask;
    while (d->table[i]) i = (i + 1) & d->mask;
    d->table[i] = id + 1;
}

/* The id of s, interning it (with refs 0) if new; *fresh says which. */
static uint32_t dict_intern(dict_t *d, const char *s, size_t len, int *fresh)
{
    uint64_t hash = match__hash(s, len);
    uint32_t id = dict_find(d, s, len, hash);
    *fresh = id == NONE;
    if (id != NONE) return id;
    if ((d->live + 1) * 2 > d->mask + 1) {
        uint32_t old_size = d->mask + 1;
        uint32_t *old = d->table;
        d->mask = old_size * 2 - 1;
        d->table = kw_calloc(d->mask + 1, sizeof(*d->table));
        for (uint32_t i = 0; i < old_size; i++)
            if (old[i]) dict_place(d, old[i] - 1);
        free(old);
    }
    if (d->free_ids.n) {
        id = d->free_ids.v[--d->free_ids.n];
    } else {
        if (d->n == d->cap) {
            d->cap = d->cap ? d->cap * 2 : 64;
            d->e = kw_realloc(d->e, (size_t)d->cap * sizeof(*d->e));
        }
        id = d->n++;
    }
    entry_t *e = &d->e[id];
    memset(e, 0, sizeof(*e));
    e->str = kw_strndup(s, len);
    e->len = (uint32_t)len;
    e->hash = hash;
    e->head = NONE;
    dict_place(d, id);
    d->live++;
    return id;
}

/* Takes id out of the table (backward-shift deletion keeps probe runs
 * unbroken) and frees its string; the caller has freed its lists. */
static void dict_drop(dict_t *d, uint32_t id)
{
    entry_t *e = &d->e[id];
    uint32_t i = (uint32_t)e->hash & d->mask;
    while (d->table[i] != id + 1) i = (i + 1) & d->mask;
    for (uint32_t j = (i + 1) & d->mask; d->table[j]; j = (j + 1) & d->mask) {
        uint32_t home = (uint32_t)d->e[d->table[j] - 1].hash & d->mask;
        /* Move entry j back into the hole at i unless its home lies
         * cyclically in (i, j]. */
        if (((j - home) & d->mask) >= ((j - i) & d->mask)) {
            d->table[i] = d->table[j];
            i = j;
        }
    }
    d->table[i] = 0;
    free(e->str);
    free(e->post.v);
    free(e->chunks);
    memset(e, 0, sizeof(*e));
    vec_push(&d->free_ids, id);
    d->live--;
}

static size_t dict_bytes(const dict_t *d, uint32_t nchunks)
{
    size_t b = (size_t)d->cap * sizeof(entry_t) + (size_t)(d->mask + 1) * sizeof(uint32_t) +
               (size_t)d->free_ids.cap * sizeof(uint32_t) + 3 * ALLOC_OVERHEAD;
    for (uint32_t i = 0; i < d->n; i++) {
        const entry_t *e = &d->e[i];
        if (e->str == NULL) continue;
        b += e->len + 1 + ALLOC_OVERHEAD;
        if (e->post.v) b += (size_t)e->post.cap * sizeof(uint32_t) + ALLOC_OVERHEAD;
        if (e->chunks) {
            b += (size_t)nchunks * sizeof(cont_t) + ALLOC_OVERHEAD;
            for (uint32_t c = 0; c < nchunks; c++) b += cont_bytes(&e->chunks[c]);
        }
    }
    return b;
}

/* ---- the index ---- */

typedef struct {
    uint32_t sub;  /* owning subscription */
    uint32_t data; /* arena offset of the record, 0 if none; match-all: position in its list */
} slot_t;

struct match_index_s {
    /* filters, by slot */
    slot_t *slot;
    uint32_t *next; /* next slot of the same subscription; free slots: next free */
    uint8_t *kind;
    uint32_t nslots, slot_cap, free_slot, nfilters;

    /* subscriptions: first slot, by id */
    uint32_t *first;
    uint32_t first_cap, nsubs;

    /* records */
    uint32_t *arena;
    size_t arena_len, arena_cap, arena_free;
    uint32_t free_block[FREE_SIZES];

    dict_t small, keywords, issuers;
    cont_t *any[A_SMALL_COUNT]; /* small-path slots not constraining the attribute */
    uint32_t nchunks;
    u32vec_t all; /* match-all slots */
    uint32_t phrase_max; /* most words in a phrase keyword indexed so far */

    /* scratch: a filter being set */
    u32vec_t ids[6];
    /* scratch: a release being matched */
    uint64_t *result;  /* by subscription id */
    uint32_t result_words;
    uint64_t *doc_kw;  /* by keyword id */
    uint32_t doc_kw_words;
    uint64_t *doc_small; /* by small value id */
    uint32_t doc_small_words;
    u32vec_t doc_kw_ids, doc_small_ids[A_SMALL_COUNT], surv;
    uint32_t doc_issuers[2], n_doc_issuers;
    uint32_t *uniq_kw;
    size_t uniq_cap;
    uint64_t *acc, *tmp;
    kw_buf_t phrase;
};

/* Record layouts (uint32 words in the arena):
 *   small path, if it has keywords:
 *     [n_any | n_all << 8] [any ids] [all ids]
 *   keyword and issuer paths:
 *     [n_any | n_all << 8 | n_issuers << 16] [n_lang | n_sector << 8 | n_region << 16 | n_posted << 24]
 *     [issuer ids] [any ids] [all ids] [language ids] [sector ids] [region ids]
 *     [posted value ids] [their positions in those values' lists]
 */
#define H_ANY(h) ((h) & 0xff)
#define H_ALL(h) (((h) >> 8) & 0xff)
#define H_ISS(h) (((h) >> 16) & 0xff)
#define H_LANG(h) ((h) & 0xff)
#define H_SECTOR(h) (((h) >> 8) & 0xff)
#define H_REGION(h) (((h) >> 16) & 0xff)
#define H_POSTED(h) (((h) >> 24) & 0xff)

static size_t record_words(const uint32_t *r, uint8_t kind)
{
    uint32_t h0 = r[0];
    if (kind == KIND_SMALL) return 1 + H_ANY(h0) + H_ALL(h0);
    uint32_t h1 = r[1];
    return 2 + H_ISS(h0) + H_ANY(h0) + H_ALL(h0) + H_LANG(h1) + H_SECTOR(h1) + H_REGION(h1) +
           2 * (size_t)H_POSTED(h1);
}

static int has_record(const match_index_t *ix, uint32_t f)
{
    return (ix->kind[f] == KIND_SMALL && ix->slot[f].data) || ix->kind[f] == KIND_KEYWORD ||
           ix->kind[f] == KIND_ISSUER;
}

match_index_t *match_index_new(void)
{
    match_index_t *ix = kw_calloc(1, sizeof(*ix));
    dict_init(&ix->small);
    dict_init(&ix->keywords);
    dict_init(&ix->issuers);
    ix->free_slot = NONE;
    ix->arena_len = 1; /* offset 0 means "no record" */
    ix->arena_cap = 1024;
    ix->arena = kw_malloc(ix->arena_cap * sizeof(*ix->arena));
    ix->acc = kw_malloc(CHUNK_WORDS * sizeof(*ix->acc));
    ix->tmp = kw_malloc(CHUNK_WORDS * sizeof(*ix->tmp));
    return ix;
}

static void free_chunks(cont_t *chunks, uint32_t n)
{
    if (chunks == NULL) return;
    for (uint32_t c = 0; c < n; c++) free(chunks[c].p);
}

static void dict_free(dict_t *d, uint32_t nchunks)
{
    for (uint32_t i = 0; i < d->n; i++) {
        free(d->e[i].str);
        free(d->e[i].post.v);
        free_chunks(d->e[i].chunks, nchunks);
        free(d->e[i].chunks);
    }
    free(d->e);
    free(d->table);
    free(d->free_ids.v);
}

void match_index_free(match_index_t *ix)
{
    if (ix == NULL) return;
    dict_free(&ix->small, ix->nchunks);
    dict_free(&ix->keywords, 0);
    dict_free(&ix->issuers, 0);
    for (int a = 0; a < A_SMALL_COUNT; a++) {
        free_chunks(ix->any[a], ix->nchunks);
        free(ix->any[a]);
        free(ix->doc_small_ids[a].v);
    }
    for (size_t i = 0; i < KW_ARRAY_SIZE(ix->ids); i++) free(ix->ids[i].v);
    free(ix->slot);
    free(ix->next);
    free(ix->kind);
    free(ix->first);
    free(ix->arena);
    free(ix->all.v);
    free(ix->result);
    free(ix->doc_kw);
    free(ix->doc_small);
    free(ix->doc_kw_ids.v);
    free(ix->surv.v);
    free(ix->uniq_kw);
    free(ix->acc);
    free(ix->tmp);
    kw_buf_free(&ix->phrase);
    free(ix);
}

/* ---- the arena ---- */

static void arena_compact(match_index_t *ix);

static uint32_t arena_alloc(match_index_t *ix, size_t words)
{
    if (words < FREE_SIZES && ix->free_block[words]) {
        uint32_t off = ix->free_block[words];
        ix->free_block[words] = ix->arena[off];
        ix->arena_free -= words;
        return off;
    }
    if (ix->arena_len + words > ix->arena_cap) {
        if (ix->arena_free > ix->arena_len / 2 && ix->arena_free > 4096) arena_compact(ix);
        if (ix->arena_len + words > ix->arena_cap) {
            size_t cap = ix->arena_cap + ix->arena_cap / 2;
            if (cap < ix->arena_len + words) cap = ix->arena_len + words;
            if (cap > UINT32_MAX) abort(); /* 16 GiB of records: far past any sane index */
            ix->arena = kw_realloc(ix->arena, cap * sizeof(*ix->arena));
            ix->arena_cap = cap;
        }
    }
    uint32_t off = (uint32_t)ix->arena_len;
    ix->arena_len += words;
    return off;
}

static void arena_release(match_index_t *ix, uint32_t off, size_t words)
{
    ix->arena_free += words;
    if (words < FREE_SIZES) {
        ix->arena[off] = ix->free_block[words];
        ix->free_block[words] = off;
    }
}

/* Rewrites the arena with the live records only, in slot order. */
static void arena_compact(match_index_t *ix)
{
    size_t len = 1;
    for (uint32_t f = 0; f < ix->nslots; f++)
        if (has_record(ix, f)) len += record_words(ix->arena + ix->slot[f].data, ix->kind[f]);
    uint32_t *fresh = kw_malloc((len + len / 2 + 1024) * sizeof(*fresh));
    size_t at = 1;
    for (uint32_t f = 0; f < ix->nslots; f++) {
        if (!has_record(ix, f)) continue;
        const uint32_t *r = ix->arena + ix->slot[f].data;
        size_t w = record_words(r, ix->kind[f]);
        memcpy(fresh + at, r, w * sizeof(*r));
        ix->slot[f].data = (uint32_t)at;
        at += w;
    }
    free(ix->arena);
    ix->arena = fresh;
    ix->arena_len = at;
    ix->arena_cap = len + len / 2 + 1024;
    ix->arena_free = 0;
    memset(ix->free_block, 0, sizeof(ix->free_block));
}

/* ---- slots and chunks ---- */

static void grow_chunks(match_index_t *ix, uint32_t nchunks)
{
    if (nchunks <= ix->nchunks) return;
    size_t add = nchunks - ix->nchunks;
    for (uint32_t i = 0; i < ix->small.n; i++) {
        entry_t *e = &ix->small.e[i];
        if (e->str == NULL) continue;
        e->chunks = kw_realloc(e->chunks, nchunks * sizeof(cont_t));
        memset(e->chunks + ix->nchunks, 0, add * sizeof(cont_t));
    }
    for (int a = 0; a < A_SMALL_COUNT; a++) {
        ix->any[a] = kw_realloc(ix->any[a], nchunks * sizeof(cont_t));
        memset(ix->any[a] + ix->nchunks, 0, add * sizeof(cont_t));
    }
    ix->nchunks = nchunks;
}

static uint32_t slot_alloc(match_index_t *ix)
{
    uint32_t f;
    if (ix->free_slot != NONE) {
        f = ix->free_slot;
        ix->free_slot = ix->next[f];
    } else {
        if (ix->nslots == ix->slot_cap) {
            uint32_t cap = ix->slot_cap ? ix->slot_cap + ix->slot_cap / 2 : 1024;
            ix->slot = kw_realloc(ix->slot, cap * sizeof(*ix->slot));
            ix->next = kw_realloc(ix->next, cap * sizeof(*ix->next));
            ix->kind = kw_realloc(ix->kind, cap * sizeof(*ix->kind));
            ix->slot_cap = cap;
        }
        f = ix->nslots++;
        grow_chunks(ix, (ix->nslots + CHUNK_SLOTS - 1) >> CHUNK_SHIFT);
    }
    ix->nfilters++;
    return f;
}

static void slot_free(match_index_t *ix, uint32_t f)
{
    ix->kind[f] = KIND_FREE;
    ix->slot[f].sub = NONE;
    ix->slot[f].data = 0;
    ix->next[f] = ix->free_slot;
    ix->free_slot = f;
    ix->nfilters--;
}

/* ---- interning a filter's values ---- */

static void keyword_release(match_index_t *ix, uint32_t id);

static uint32_t small_intern(match_index_t *ix, int attr, const char *s, size_t len)
{
    char buf[128];
    if (len + 1 > sizeof(buf)) len = sizeof(buf) - 1; /* canonical values are short */
    buf[0] = small_prefix[attr];
    memcpy(buf + 1, s, len);
    int fresh;
    uint32_t id = dict_intern(&ix->small, buf, len + 1, &fresh);
    entry_t *e = &ix->small.e[id];
    if (fresh) {
        e->attr = (uint8_t)attr;
        e->chunks = ix->nchunks ? kw_calloc(ix->nchunks, sizeof(cont_t)) : NULL;
    }
    e->refs++;
    return id;
}

static void small_release(match_index_t *ix, uint32_t id)
{
    entry_t *e = &ix->small.e[id];
    if (--e->refs) return;
    free_chunks(e->chunks, ix->nchunks);
    dict_drop(&ix->small, id);
}

static uint32_t keyword_intern(match_index_t *ix, const char *s, size_t len)
{
    int fresh;
    uint32_t id = dict_intern(&ix->keywords, s, len, &fresh);
    if (fresh) {
        const char *sp = memchr(s, ' ', len);
        if (sp) {
            uint32_t words = 1;
            for (size_t i = 0; i < len; i++) words += s[i] == ' ';
            if (words > ix->phrase_max) ix->phrase_max = words;
            /* The first word is interned too (it may move the entries). */
            uint32_t head = keyword_intern(ix, s, (size_t)(sp - s));
            ix->keywords.e[head].heads++;
            ix->keywords.e[id].head = head;
        }
    }
    ix->keywords.e[id].refs++;
    return id;
}

static void keyword_release(match_index_t *ix, uint32_t id)
{
    entry_t *e = &ix->keywords.e[id];
    if (--e->refs) return;
    uint32_t head = e->head;
    dict_drop(&ix->keywords, id);
    if (head != NONE) {
        ix->keywords.e[head].heads--;
        keyword_release(ix, head);
    }
}

static uint32_t issuer_intern(match_index_t *ix, const char *s, size_t len)
{
    int fresh;
    uint32_t id = dict_intern(&ix->issuers, s, len, &fresh);
    ix->issuers.e[id].refs++;
    return id;
}

static void issuer_release(match_index_t *ix, uint32_t id)
{
    if (--ix->issuers.e[id].refs == 0) dict_drop(&ix->issuers, id);
}

/* ---- adding and removing one filter ---- */

enum { V_LANG, V_SECTOR, V_REGION, V_ISSUER, V_ANY, V_ALL };

static int filter_ok(const match_filter_t *f)
{
    const json_t *arrays[] = {f->languages, f->sectors,      f->regions,
                              f->issuers,   f->keywords_any, f->keywords_all};
    for (size_t a = 0; a < KW_ARRAY_SIZE(arrays); a++) {
        if (arrays[a] == NULL) continue;
        if (!json_is_array(arrays[a]) || json_array_size(arrays[a]) > COUNT_MAX) return 0;
        size_t i;
        json_t *v;
        json_array_foreach(arrays[a], i, v) if (!json_is_string(v)) return 0;
    }
    return 1;
}

/* Interns the filter's values into ix->ids[V_*], sorted and unique, each
 * holding one reference. */
static void intern_filter(match_index_t *ix, const match_filter_t *f)
{
    const json_t *arrays[] = {f->languages, f->sectors,      f->regions,
                              f->issuers,   f->keywords_any, f->keywords_all};
    for (int a = 0; a < 6; a++) {
        u32vec_t *out = &ix->ids[a];
        out->n = 0;
        size_t i;
        json_t *v;
        json_array_foreach(arrays[a], i, v)
        {
            const char *s = json_string_value(v);
            size_t len = json_string_length(v);
            uint32_t id;
            if (a <= V_REGION)
                id = small_intern(ix, a, s, len);
            else if (a == V_ISSUER)
                id = issuer_intern(ix, s, len);
            else
                id = keyword_intern(ix, s, len);
            vec_push(out, id);
        }
        if (out->n < 2) continue;
        qsort(out->v, out->n, sizeof(*out->v), u32_cmp);
        /* A value given twice keeps one reference (it had two, so this
         * never frees it). */
        uint32_t m = 1;
        for (uint32_t k = 1; k < out->n; k++) {
            if (out->v[k] != out->v[m - 1]) {
                out->v[m++] = out->v[k];
            } else if (a <= V_REGION) {
                small_release(ix, out->v[k]);
            } else if (a == V_ISSUER) {
                issuer_release(ix, out->v[k]);
            } else {
                keyword_release(ix, out->v[k]);
            }
        }
        out->n = m;
    }
}

static void remove_filter(match_index_t *ix, uint32_t f)
{
    uint8_t kind = ix->kind[f];
    uint32_t data = ix->slot[f].data;
    if (kind == KIND_ALL) {
        uint32_t last = ix->all.v[--ix->all.n];
        if (data != ix->all.n) {
            ix->all.v[data] = last;
            ix->slot[last].data = data;
        }
    } else if (kind == KIND_SMALL) {
        uint32_t c = f >> CHUNK_SHIFT;
        uint16_t lo = (uint16_t)(f & (CHUNK_SLOTS - 1));
        for (int a = 0; a < A_SMALL_COUNT; a++) cont_del(&ix->any[a][c], lo);
        u32vec_t *gone = &ix->ids[0];
        gone->n = 0;
        for (uint32_t i = 0; i < ix->small.n; i++) {
            entry_t *e = &ix->small.e[i];
            if (e->str && e->chunks && cont_del(&e->chunks[c], lo)) vec_push(gone, i);
        }
        for (uint32_t i = 0; i < gone->n; i++) small_release(ix, gone->v[i]);
        if (data) {
            const uint32_t *r = ix->arena + data;
            uint32_t nk = H_ANY(r[0]) + H_ALL(r[0]);
            for (uint32_t i = 0; i < nk; i++) keyword_release(ix, r[1 + i]);
            arena_release(ix, data, 1 + nk);
        }
    } else { /* keyword or issuer path */
        uint32_t *r = ix->arena + data;
        uint32_t h0 = r[0], h1 = r[1];
        uint32_t *iss = r + 2, *kw = iss + H_ISS(h0), *small = kw + H_ANY(h0) + H_ALL(h0);
        uint32_t nsmall = H_LANG(h1) + H_SECTOR(h1) + H_REGION(h1);
        uint32_t *posted = small + nsmall, *back = posted + H_POSTED(h1);
        dict_t *d = kind == KIND_KEYWORD ? &ix->keywords : &ix->issuers;
        for (uint32_t j = 0; j < H_POSTED(h1); j++) {
            u32vec_t *list = &d->e[posted[j]].post;
            uint32_t pos = back[j];
            uint32_t moved = list->v[--list->n];
            if (pos != list->n) {
                list->v[pos] = moved;
                uint32_t *m = ix->arena + ix->slot[moved].data;
                uint32_t mh1 = m[1];
                uint32_t *mposted = m + 2 + H_ISS(m[0]) + H_ANY(m[0]) + H_ALL(m[0]) +
                                    H_LANG(mh1) + H_SECTOR(mh1) + H_REGION(mh1);
                for (uint32_t k = 0; k < H_POSTED(mh1); k++)
                    if (mposted[k] == posted[j]) mposted[H_POSTED(mh1) + k] = pos;
            }
        }
        for (uint32_t j = 0; j < H_ISS(h0); j++) issuer_release(ix, iss[j]);
        for (uint32_t j = 0; j < H_ANY(h0) + H_ALL(h0); j++) keyword_release(ix, kw[j]);
        for (uint32_t j = 0; j < nsmall; j++) small_release(ix, small[j]);
        arena_release(ix, data, record_words(r, kind));
    }
    slot_free(ix, f);
}

static void remove_sub(match_index_t *ix, uint32_t id)
{
    if (id >= ix->first_cap || ix->first[id] == NONE) return;
    uint32_t f = ix->first[id];
    while (f != NONE) {
        uint32_t nx = ix->next[f];
        remove_filter(ix, f);
        f = nx;
    }
    ix->first[id] = NONE;
    ix->nsubs--;
}

static uint32_t add_filter_slot(match_index_t *ix, uint32_t sub, const match_filter_t *flt)
{
    intern_filter(ix, flt);
    const u32vec_t *v = ix->ids;
    uint32_t nl = v[V_LANG].n, ns = v[V_SECTOR].n, nr = v[V_REGION].n;
    uint32_t ni = v[V_ISSUER].n, na = v[V_ANY].n, nall = v[V_ALL].n;
    uint8_t kind;
    if (ni)
        kind = KIND_ISSUER;
    else if (ns || nr)
        kind = KIND_SMALL;
    else if (na || nall)
        kind = KIND_KEYWORD;
    else if (nl)
        kind = KIND_SMALL;
    else
        kind = KIND_ALL;

    uint32_t f = slot_alloc(ix);
    /* Free until its record is in place: arena_alloc may compact. */
    ix->kind[f] = KIND_FREE;
    ix->slot[f].sub = sub;
    ix->slot[f].data = 0;

    if (kind == KIND_ALL) {
        ix->slot[f].data = ix->all.n;
        vec_push(&ix->all, f);
    } else if (kind == KIND_SMALL) {
        uint32_t c = f >> CHUNK_SHIFT;
        uint16_t lo = (uint16_t)(f & (CHUNK_SLOTS - 1));
        for (int a = 0; a < A_SMALL_COUNT; a++) {
            if (v[a].n == 0) cont_add(&ix->any[a][c], lo);
            for (uint32_t j = 0; j < v[a].n; j++) cont_add(&ix->small.e[v[a].v[j]].chunks[c], lo);
        }
        if (na + nall) {
            uint32_t off = arena_alloc(ix, 1 + na + nall);
            uint32_t *r = ix->arena + off;
            r[0] = na | nall << 8;
            if (na) memcpy(r + 1, v[V_ANY].v, na * sizeof(*r));
            if (nall) memcpy(r + 1 + na, v[V_ALL].v, nall * sizeof(*r));
            ix->slot[f].data = off;
        }
    } else {
        dict_t *d = kind == KIND_ISSUER ? &ix->issuers : &ix->keywords;
        const uint32_t *posted;
        uint32_t np, best;
        if (kind == KIND_ISSUER) {
            posted = v[V_ISSUER].v;
            np = ni;
        } else if (nall) {
            /* A conjunction is found through any one of its words: take
             * the one with the shortest list. */
            best = v[V_ALL].v[0];
            for (uint32_t j = 1; j < nall; j++)
                if (d->e[v[V_ALL].v[j]].post.n < d->e[best].post.n) best = v[V_ALL].v[j];
            posted = &best;
            np = 1;
        } else {
            posted = v[V_ANY].v;
            np = na;
        }
        size_t words = 2 + (size_t)ni + na + nall + nl + ns + nr + 2 * (size_t)np;
        uint32_t off = arena_alloc(ix, words);
        uint32_t *r = ix->arena + off, *p = r + 2;
        r[0] = na | nall << 8 | ni << 16;
        r[1] = nl | ns << 8 | nr << 16 | np << 24;
        const u32vec_t *order[] = {&v[V_ISSUER], &v[V_ANY],    &v[V_ALL],
                                   &v[V_LANG],   &v[V_SECTOR], &v[V_REGION]};
        for (size_t k = 0; k < KW_ARRAY_SIZE(order); k++) {
            if (order[k]->n) memcpy(p, order[k]->v, order[k]->n * sizeof(*p));
            p += order[k]->n;
        }
        for (uint32_t j = 0; j < np; j++) {
            u32vec_t *list = &d->e[posted[j]].post;
            p[j] = posted[j];
            p[np + j] = list->n;
            vec_push(list, f);
        }
        ix->slot[f].data = off;
    }
    ix->kind[f] = kind;
    return f;
}

int match_index_set(match_index_t *ix, uint32_t id, const match_filter_t *filters, size_t n)
{
    if (id > MATCH_INDEX_ID_MAX || n > MATCH_INDEX_FILTERS_MAX) return KW_INVALID;
    for (size_t i = 0; i < n; i++)
        if (!filter_ok(&filters[i])) return KW_INVALID;
    remove_sub(ix, id);
    if (n == 0) return KW_OK;
    if (id >= ix->first_cap) {
        uint32_t cap = ix->first_cap ? ix->first_cap + ix->first_cap / 2 : 1024;
        if (cap <= id) cap = id + 1;
        ix->first = kw_realloc(ix->first, (size_t)cap * sizeof(*ix->first));
        for (uint32_t i = ix->first_cap; i < cap; i++) ix->first[i] = NONE;
        ix->first_cap = cap;
    }
    uint32_t head = NONE;
    for (size_t i = n; i-- > 0;) {
        uint32_t f = add_filter_slot(ix, id, &filters[i]);
        ix->next[f] = head;
        head = f;
    }
    ix->first[id] = head;
    ix->nsubs++;
    return KW_OK;
}

void match_index_remove(match_index_t *ix, uint32_t id)
{
    remove_sub(ix, id);
}

/* ---- matching ---- */

static void ensure_words(uint64_t **bits, uint32_t *words, size_t nbits)
{
    size_t need = (nbits + 63) / 64;
    if (need <= *words) return;
    *bits = kw_realloc(*bits, need * sizeof(**bits));
    memset(*bits + *words, 0, (need - *words) * sizeof(**bits));
    *words = (uint32_t)need;
}

static inline int bit_get(const uint64_t *b, uint32_t i)
{
    return (b[i >> 6] >> (i & 63)) & 1;
}

static inline void bit_set(uint64_t *b, uint32_t i)
{
    b[i >> 6] |= UINT64_C(1) << (i & 63);
}

static inline int any_bit(const uint64_t *b, const uint32_t *ids, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (bit_get(b, ids[i])) return 1;
    return 0;
}

static uint32_t small_find(const match_index_t *ix, int attr, const char *s)
{
    char buf[128];
    size_t len = strlen(s);
    if (len + 1 > sizeof(buf)) return NONE;
    buf[0] = small_prefix[attr];
    memcpy(buf + 1, s, len);
    return dict_find(&ix->small, buf, len + 1, match__hash(buf, len + 1));
}

/* Turns the document's values into ids: the bitmaps and lists of its
 * keywords (words and phrases) and small values, and its issuer ids. */
static void doc_prepare(match_index_t *ix, const match_doc_t *d)
{
    ensure_words(&ix->result, &ix->result_words, ix->first_cap);
    ensure_words(&ix->doc_kw, &ix->doc_kw_words, ix->keywords.n);
    ensure_words(&ix->doc_small, &ix->doc_small_words, ix->small.n);

    ix->doc_kw_ids.n = 0;
    if (ix->keywords.live) {
        if (d->n_uniq > ix->uniq_cap) {
            ix->uniq_cap = d->n_uniq;
            ix->uniq_kw = kw_realloc(ix->uniq_kw, ix->uniq_cap * sizeof(*ix->uniq_kw));
        }
        for (size_t u = 0; u < d->n_uniq; u++) {
            uint32_t id = dict_find(&ix->keywords, d->text + d->uniq_off[u], d->uniq_len[u],
                                    d->uniq_hash[u]);
            ix->uniq_kw[u] = id;
            if (id != NONE) {
                bit_set(ix->doc_kw, id);
                vec_push(&ix->doc_kw_ids, id);
            }
        }
    }
    if (ix->keywords.live && ix->phrase_max > 1) {
        kw_buf_t *b = &ix->phrase;
        for (size_t i = 0; i < d->n_seq; i++) {
            uint32_t u = d->seq[i];
            if (u == MATCH__SEQ_BREAK || ix->uniq_kw[u] == NONE ||
                ix->keywords.e[ix->uniq_kw[u]].heads == 0)
                continue;
            kw_buf_reset(b);
            kw_buf_append(b, d->text + d->uniq_off[u], d->uniq_len[u]);
            for (size_t k = 1; k < ix->phrase_max && i + k < d->n_seq; k++) {
                uint32_t w = d->seq[i + k];
                if (w == MATCH__SEQ_BREAK) break;
                kw_buf_putc(b, ' ');
                kw_buf_append(b, d->text + d->uniq_off[w], d->uniq_len[w]);
                uint32_t id = dict_find(&ix->keywords, b->data, b->len, match__hash(b->data, b->len));
                if (id != NONE && !bit_get(ix->doc_kw, id)) {
                    bit_set(ix->doc_kw, id);
                    vec_push(&ix->doc_kw_ids, id);
                }
            }
        }
    }

    for (int a = 0; a < A_SMALL_COUNT; a++) ix->doc_small_ids[a].n = 0;
    if (ix->small.live) {
        const char *lang = d->language;
        char *const *vals[A_SMALL_COUNT] = {(char *const *)&lang, d->sectors, d->regions};
        size_t nvals[A_SMALL_COUNT] = {d->language[0] ? 1 : 0, d->n_sectors, d->n_regions};
        for (int a = 0; a < A_SMALL_COUNT; a++)
            for (size_t i = 0; i < nvals[a]; i++) {
                uint32_t id = small_find(ix, a, vals[a][i]);
                if (id != NONE && !bit_get(ix->doc_small, id)) {
                    bit_set(ix->doc_small, id);
                    vec_push(&ix->doc_small_ids[a], id);
                }
            }
    }

    ix->n_doc_issuers = 0;
    const char *iss[2] = {d->issuer_id, d->issuer_slug};
    for (int i = 0; i < 2; i++) {
        if (iss[i] == NULL || ix->issuers.live == 0) continue;
        size_t len = strlen(iss[i]);
        uint32_t id = dict_find(&ix->issuers, iss[i], len, match__hash(iss[i], len));
        if (id != NONE && (ix->n_doc_issuers == 0 || ix->doc_issuers[0] != id))
            ix->doc_issuers[ix->n_doc_issuers++] = id;
    }
}

static void doc_clear(match_index_t *ix)
{
    for (uint32_t i = 0; i < ix->doc_kw_ids.n; i++) {
        uint32_t id = ix->doc_kw_ids.v[i];
        ix->doc_kw[id >> 6] = 0;
    }
    for (int a = 0; a < A_SMALL_COUNT; a++)
        for (uint32_t i = 0; i < ix->doc_small_ids[a].n; i++) {
            uint32_t id = ix->doc_small_ids[a].v[i];
            ix->doc_small[id >> 6] = 0;
        }
}

/* Whether a keyword- or issuer-path record matches the prepared document. */
static int verify_full(const match_index_t *ix, const uint32_t *r)
{
    uint32_t h0 = r[0], h1 = r[1];
    const uint32_t *p = r + 2;
    if (H_ISS(h0)) {
        int ok = 0;
        for (uint32_t j = 0; j < H_ISS(h0) && !ok; j++)
            for (uint32_t k = 0; k < ix->n_doc_issuers; k++) ok |= p[j] == ix->doc_issuers[k];
        if (!ok) return 0;
        p += H_ISS(h0);
    }
    const uint32_t *any = p, *all = p + H_ANY(h0);
    p += H_ANY(h0) + H_ALL(h0);
    const uint32_t counts[A_SMALL_COUNT] = {H_LANG(h1), H_SECTOR(h1), H_REGION(h1)};
    for (int a = 0; a < A_SMALL_COUNT; a++) {
        if (counts[a] && !any_bit(ix->doc_small, p, counts[a])) return 0;
        p += counts[a];
    }
    for (uint32_t j = 0; j < H_ALL(h0); j++)
        if (!bit_get(ix->doc_kw, all[j])) return 0;
    return H_ANY(h0) == 0 || any_bit(ix->doc_kw, any, H_ANY(h0));
}

/* Whether a small-path record's keywords match the prepared document. */
static inline int verify_keywords(const match_index_t *ix, const uint32_t *r)
{
    uint32_t na = H_ANY(r[0]), nall = H_ALL(r[0]);
    for (uint32_t j = 0; j < nall; j++)
        if (!bit_get(ix->doc_kw, r[1 + na + j])) return 0;
    return na == 0 || any_bit(ix->doc_kw, r + 1, na);
}

/* out = the union of the attribute's "any" set and the document's values'
 * sets in chunk c; returns 0 if that is empty. */
static int group_build(const match_index_t *ix, int a, uint32_t c, uint64_t *out)
{
    int empty = 1;
    const cont_t *any = &ix->any[a][c];
    if (any->card) {
        cont_copy(out, any);
        empty = 0;
    }
    const u32vec_t *ids = &ix->doc_small_ids[a];
    for (uint32_t i = 0; i < ids->n; i++) {
        const cont_t *k = &ix->small.e[ids->v[i]].chunks[c];
        if (k->card == 0) continue;
        if (empty)
            cont_copy(out, k);
        else
            cont_or(out, k);
        empty = 0;
    }
    return !empty;
}

static int and_into(uint64_t *acc, const uint64_t *b)
{
    uint64_t any = 0;
    for (uint32_t i = 0; i < CHUNK_WORDS; i++) {
        acc[i] &= b[i];
        any |= acc[i];
    }
    return any != 0;
}

static void match_small(match_index_t *ix)
{
    uint64_t *acc = ix->acc, *tmp = ix->tmp;
    for (uint32_t c = 0; c < ix->nchunks; c++) {
        if (!group_build(ix, A_LANG, c, acc)) continue;
        if (!group_build(ix, A_SECTOR, c, tmp) || !and_into(acc, tmp)) continue;
        if (!group_build(ix, A_REGION, c, tmp) || !and_into(acc, tmp)) continue;

        /* The candidates, then their keywords: records are read in slot
         * order, each prefetched a few candidates ahead. */
        u32vec_t *s = &ix->surv;
        s->n = 0;
        uint32_t base = c << CHUNK_SHIFT;
        for (uint32_t w = 0; w < CHUNK_WORDS; w++)
            for (uint64_t x = acc[w]; x; x &= x - 1)
                vec_push(s, base + w * 64 + (uint32_t)__builtin_ctzll(x));
        const slot_t *slot = ix->slot;
        for (uint32_t i = 0; i < s->n; i++) {
            if (i + 16 < s->n) __builtin_prefetch(&slot[s->v[i + 16]]);
            if (i + 8 < s->n) {
                uint32_t ahead = slot[s->v[i + 8]].data;
                if (ahead) __builtin_prefetch(ix->arena + ahead);
            }
            slot_t sl = slot[s->v[i]];
            if (sl.data == 0 || verify_keywords(ix, ix->arena + sl.data)) bit_set(ix->result, sl.sub);
        }
    }
}

static void match_list(match_index_t *ix, const u32vec_t *list)
{
    for (uint32_t i = 0; i < list->n; i++) {
        slot_t sl = ix->slot[list->v[i]];
        if (bit_get(ix->result, sl.sub)) continue;
        if (verify_full(ix, ix->arena + sl.data)) bit_set(ix->result, sl.sub);
    }
}

size_t match_index_match(match_index_t *ix, const match_doc_t *d, uint32_t **out, size_t *cap)
{
    if (ix->nsubs == 0) return 0;
    doc_prepare(ix, d);

    for (uint32_t i = 0; i < ix->all.n; i++) bit_set(ix->result, ix->slot[ix->all.v[i]].sub);
    for (uint32_t i = 0; i < ix->n_doc_issuers; i++)
        match_list(ix, &ix->issuers.e[ix->doc_issuers[i]].post);
    for (uint32_t i = 0; i < ix->doc_kw_ids.n; i++)
        match_list(ix, &ix->keywords.e[ix->doc_kw_ids.v[i]].post);
    match_small(ix);

    /* Read the marks back in order, clearing them. */
    size_t n = 0;
    uint32_t words = (ix->first_cap + 63) / 64;
    for (uint32_t w = 0; w < words; w++) {
        uint64_t x = ix->result[w];
        if (x == 0) continue;
        ix->result[w] = 0;
        for (; x; x &= x - 1) {
            if (n == *cap) {
                *cap = *cap ? *cap * 2 : 1024;
                *out = kw_realloc(*out, *cap * sizeof(**out));
            }
            (*out)[n++] = w * 64 + (uint32_t)__builtin_ctzll(x);
        }
    }
    doc_clear(ix);
    return n;
}

/* ---- statistics ---- */

void match_index_stats(const match_index_t *ix, match_stats_t *out)
{
    size_t b = sizeof(*ix) + ALLOC_OVERHEAD;
    b += (size_t)ix->slot_cap * (sizeof(slot_t) + sizeof(uint32_t) + sizeof(uint8_t)) +
         3 * ALLOC_OVERHEAD;
    b += (size_t)ix->first_cap * sizeof(uint32_t) + ALLOC_OVERHEAD;
    b += ix->arena_cap * sizeof(uint32_t) + ALLOC_OVERHEAD;
    b += dict_bytes(&ix->small, ix->nchunks);
    b += dict_bytes(&ix->keywords, 0);
    b += dict_bytes(&ix->issuers, 0);
    for (int a = 0; a < A_SMALL_COUNT; a++) {
        if (ix->any[a] == NULL) continue;
        b += (size_t)ix->nchunks * sizeof(cont_t) + ALLOC_OVERHEAD;
        for (uint32_t c = 0; c < ix->nchunks; c++) b += cont_bytes(&ix->any[a][c]);
    }
    b += (size_t)ix->all.cap * sizeof(uint32_t);
    /* scratch */
    for (size_t i = 0; i < KW_ARRAY_SIZE(ix->ids); i++) b += (size_t)ix->ids[i].cap * 4;
    for (int a = 0; a < A_SMALL_COUNT; a++) b += (size_t)ix->doc_small_ids[a].cap * 4;
    b += ((size_t)ix->result_words + ix->doc_kw_words + ix->doc_small_words) * 8;
    b += ((size_t)ix->doc_kw_ids.cap + ix->surv.cap + ix->uniq_cap) * 4;
    b += 2 * CHUNK_WORDS * sizeof(uint64_t) + ix->phrase.cap;
    out->subscriptions = ix->nsubs;
    out->filters = ix->nfilters;
    out->bytes = b;
}
