/* match_index.c -- the subscription index: which subscriptions does this
 * release match, among millions, in milliseconds.
 *
 * Design note
 * ===========
 *
 * A subscription (a caller's dense uint32 id) holds one or more filters and
 * matches a release when any of them does. A filter constrains languages,
 * sectors, regions, issuers and keywords (any-of and all-of); values of one
 * attribute are any-of, attributes all-of. A release has one language, a
 * few sectors and regions, one issuer (named by id and by slug) and a few
 * hundred distinct words.
 *
 * Interning. Every language, sector and region value becomes an integer in
 * one dictionary ("small values": a few hundred at most), every issuer one
 * in another, every keyword -- a word, or a phrase of words separated by
 * one space -- one in a third. The dictionaries are consulted once per
 * release, to turn its values into ids; nothing below them compares
 * strings, and nothing is allocated per filter or per value.
 *
 * One access path per filter, chosen when it is set: the one expected to
 * visit it least often for releases it does not match.
 *
 *   issuers    it names issuers: listed under each (a release has one
 *              issuer, and these lists are short);
 *   small      it constrains sectors or regions (with or without
 *              languages), or only languages and has no keywords: held in
 *              the language, sector and region sets below;
 *   keywords   it has keywords and constrains at most the language:
 *              listed under each any-of keyword, or under its all-of
 *              keyword with the shortest list (a conjunction needs one);
 *   match-all  it constrains nothing.
 *
 * Keyword and issuer lists are plain vectors of slot numbers; a record
 * keeps its position in each list it is on, so removal is a swap with the
 * last entry and one fix-up of the moved filter's back-pointer. Their
 * candidates are checked against the whole filter: small values by bit
 * tests in a bitmap of the release's small values, issuers against the
 * release's two ids, keywords in a bitmap of the release's keyword ids.
 *
 * The small path is where the volume is -- "English, business and energy,
 * Indonesia and Malaysia, nickel or battery" is the common desktop -- and
 * at that volume lists of filters are too long to walk: at the reference
 * skew a release's language alone is held by a quarter of all filters, and
 * a release matches 4% of them on average, over 15% at the 99th
 * percentile. So the small values are sets over slot numbers, stored as
 * Roaring bitmaps store them: slots are cut into chunks of 65,536; per
 * chunk a value holds a sorted array of 16-bit offsets while it has at
 * most 4,096 members, else an 8 KiB bitmap (a member costs at most 2
 * bytes; a dense value, one bit per slot). Each attribute also has an
 * "any" set: the small-path filters that leave it open. For a release,
 * per chunk:
 *
 *   candidates = (any-language | language)
 *              & (any-sector   | sector_1 | ... | sector_k)
 *              & (any-region   | region_1 | ... | region_m)
 *
 * computed in L1-sized scratch bitmaps, 64 slots per instruction, skipping
 * a chunk as soon as one group is empty there. Every candidate satisfies
 * language, sector and region; what remains is its keywords.
 *
 * Slots. A subscription's first filter lives in the slot numbered as the
 * subscription, so a small-path candidate needs no lookup of its owner and
 * its matches are ORed into the result 64 at a time; further filters of a
 * subscription live in overflow slots (from 2^28 up), which record their
 * owner, chained from the first through a small hash map. Slots are stored
 * in columns, per chunk: kind (1 byte), record offset (4) and a 16-bit
 * code, which is all the candidate scan reads: the filter's keyword most
 * likely to decide it (kw0: its any-of keyword most filters hold, or its
 * all-of keyword fewest filters hold), as a "hot" keyword code, with two
 * flags. The release's hot codes form a 2 KiB bitmap, so most candidates
 * are decided by one 2-byte read and one bit test, without branches; the
 * rest (kw0 absent but more any-of keywords, kw0 present but more all-of
 * ones, or kw0 without a hot code) have their records read in a second
 * pass with prefetching. Hot codes go to the first 16,382 keywords
 * interned and are reused when a keyword is no longer held; popular
 * keywords come early.
 *
 * Records are runs of interned ids with their counts in a header word, in
 * an arena of 1 MiB blocks (growing never copies, and at most one block
 * is unused); freed records go on exact-size free lists and the arena is
 * compacted when half of it is free. A small-path record holds only its
 * keywords (less kw0): the sets are the only copy of its languages,
 * sectors and regions, so removal probes each small value's container for
 * the slot's chunk (a few hundred bit tests or binary searches, ~20 us).
 *
 * Phrases. A multi-word keyword is interned whole ("electric vehicle") and
 * its first word marked as a phrase head, with the most words of a phrase
 * it begins. In a release, only at the positions of head words are the
 * following words joined (and hashed as they are joined) and looked up,
 * up to that many words; the phrases found join its keywords.
 *
 * Results. Matches are bits in a bitmap over subscription ids, which
 * dedupes (several filters, several keyword lists) and is read back in
 * order, clearing it, to give the ascending result.
 *
 * Measured by bench/bench_match.c (3,500,000 subscriptions at the issue's
 * skew, on a 2-CPU VM): 38 bytes per subscription, 1.5 us to add one,
 * ~24 us to replace one; per release 2.1 ms at the median (82,000
 * matches) and 6.2 ms at the 99th percentile (600,000 matches). The time
 * is the fixed set intersection (~0.4 ms), ~5 ns per candidate, ~26 ns
 * per record read and ~2.5 ns per id written out.
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
#define ARRAY_MAX 4096    /* an array container past this becomes a bitmap */
#define ARRAY_MIN 2048    /* a bitmap container under this becomes an array */
#define COUNT_MAX 255     /* values per attribute in a record (8-bit counts) */
#define FREE_SIZES 64     /* exact-size free lists for records up to this many words */
#define ALLOC_OVERHEAD 16 /* what malloc keeps per block, counted in stats */
#define BLOCK_SHIFT 18    /* the arena is blocks of 2^18 words (1 MiB) */
#define BLOCK_WORDS (1u << BLOCK_SHIFT)
#define BLOCKS_MAX (1u << (31 - BLOCK_SHIFT)) /* offsets are 31 bits: 8 GiB of records */
#define HOT_CODES 16384 /* keywords with a 14-bit code, for the small path's slots */

enum { KIND_FREE, KIND_ALL, KIND_SMALL, KIND_KEYWORD, KIND_ISSUER };
#define KIND_MASK 0x7
#define KIND_MORE 0x80 /* the subscription has another filter after this one */
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
        for (uint32_t i = 0; i < c->card; i++)
            bits[v[i] >> 6] |= UINT64_C(1) << (v[i] & 63);
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
    for (uint32_t i = 0; i < c->card; i++)
        acc[v[i] >> 6] |= UINT64_C(1) << (v[i] & 63);
}

static void cont_or(uint64_t *acc, const cont_t *c)
{
    if (c->bitmap) {
        const uint64_t *b = c->p;
        for (uint32_t i = 0; i < CHUNK_WORDS; i++)
            acc[i] |= b[i];
        return;
    }
    const uint16_t *v = c->p;
    for (uint32_t i = 0; i < c->card; i++)
        acc[v[i] >> 6] |= UINT64_C(1) << (v[i] & 63);
}

/* ---- dictionaries ---- */

/* An interned value. refs counts the filter records holding it (and, for
 * a phrase's first word, the phrases beginning with it); at zero the entry
 * is freed and its id reused. */
typedef struct {
    char *str; /* NULL: id free */
    uint32_t len;
    uint32_t refs;
    uint64_t hash;
    u32vec_t post;         /* keyword, issuer: slots indexed under it */
    cont_t *chunks;        /* small value: its small-path slots, per chunk */
    uint32_t head;         /* phrase keyword: id of its first word; else NONE */
    uint32_t heads;        /* keyword: phrases beginning with this word */
    uint16_t phrase_words; /* keyword: most words in a phrase beginning with it */
    uint16_t hot;          /* keyword: its hot code, or CODE_COLD */
    uint8_t attr;          /* small value: A_LANG, A_SECTOR or A_REGION */
} entry_t;

typedef struct {
    entry_t *e;
    uint32_t n, cap; /* ids in use are < n */
    uint32_t *table; /* open addressing, linear probing: id + 1, 0 empty */
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
    while (d->table[i])
        i = (i + 1) & d->mask;
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
    while (d->table[i] != id + 1)
        i = (i + 1) & d->mask;
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
            for (uint32_t c = 0; c < nchunks; c++)
                b += cont_bytes(&e->chunks[c]);
        }
    }
    return b;
}

/* ---- a map of slot numbers to slot numbers ---- */

/* The next filter of a subscription that has several: most have one, so
 * the chain lives here rather than in a word per slot. Open addressing,
 * linear probing, keys stored + 1 (0 is empty). */
typedef struct {
    uint32_t *key, *val;
    uint32_t mask, n;
} u32map_t;

static uint32_t map_home(const u32map_t *m, uint32_t key)
{
    return (uint32_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> 40) & m->mask;
}

static void map_put(u32map_t *m, uint32_t key, uint32_t val)
{
    if (m->key == NULL || (m->n + 1) * 2 > m->mask + 1) {
        uint32_t old_size = m->key ? m->mask + 1 : 0;
        uint32_t *ok = m->key, *ov = m->val;
        m->mask = old_size ? old_size * 2 - 1 : 63;
        m->key = kw_calloc(m->mask + 1, sizeof(*m->key));
        m->val = kw_calloc(m->mask + 1, sizeof(*m->val));
        m->n = 0;
        for (uint32_t i = 0; i < old_size; i++)
            if (ok[i]) map_put(m, ok[i] - 1, ov[i]);
        free(ok);
        free(ov);
    }
    uint32_t i = map_home(m, key);
    while (m->key[i] && m->key[i] != key + 1)
        i = (i + 1) & m->mask;
    m->n += m->key[i] == 0;
    m->key[i] = key + 1;
    m->val[i] = val;
}

/* Removes key and returns its value (NONE if absent). */
static uint32_t map_take(u32map_t *m, uint32_t key)
{
    if (m->key == NULL) return NONE;
    uint32_t i = map_home(m, key);
    while (m->key[i] != key + 1) {
        if (m->key[i] == 0) return NONE;
        i = (i + 1) & m->mask;
    }
    uint32_t val = m->val[i];
    for (uint32_t j = (i + 1) & m->mask; m->key[j]; j = (j + 1) & m->mask) {
        uint32_t home = map_home(m, m->key[j] - 1);
        if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
            m->key[i] = m->key[j];
            m->val[i] = m->val[j];
            i = j;
        }
    }
    m->key[i] = 0;
    m->n--;
    return val;
}

/* ---- the index ---- */

/* Slots (see the design note). Primary slots, below PRIMARY_LIMIT, are
 * subscription ids; overflow slots are PRIMARY_LIMIT and up. Chunks are
 * created as ids and overflow slots are used, numbered densely in creation
 * order (the sets' containers use the same numbers) and found through dir.
 * Per slot, in three columns:
 *   kind  KIND_*, with KIND_MORE;
 *   data  match-all: its position in the match-all list; otherwise the
 *         offset of its record (0: none);
 *   code  small path: a hot keyword code (14 bits) and two flags:
 *           CODE_NONE              no keywords: it matches;
 *           hot                    kw0 alone decides: in the release, it
 *                                  matches; else not;
 *           hot | CODE_REST        kw0 is any-of: in the release, it
 *                                  matches; else read the record (the
 *                                  other any-of keywords);
 *           hot | CODE_ALL         kw0 is all-of: absent, no match; else
 *                                  read the record (the rest);
 *           CODE_COLD | CODE_REST  kw0 has no hot code: read the record,
 *                                  which holds every keyword.
 *         The release's bitmap of hot codes has CODE_NONE set and never
 *         CODE_COLD, so one bit test and the flags decide, branch-free. */
#define PRIMARY_LIMIT (MATCH_INDEX_ID_MAX + 1u)
#define DIR_SIZE ((2 * (size_t)PRIMARY_LIMIT) >> CHUNK_SHIFT)
#define CODE_MASK 0x3fff
#define CODE_NONE 0x3fff
#define CODE_COLD 0x3ffe
#define CODE_ALL 0x8000
#define CODE_REST 0x4000

typedef struct {
    uint16_t code[CHUNK_SLOTS];
    uint8_t kind[CHUNK_SLOTS];
    uint32_t data[CHUNK_SLOTS];
    uint32_t base; /* its first slot */
    uint32_t *sub; /* overflow chunk: the owners; NULL for a primary chunk */
} slot_chunk_t;

struct match_index_s {
    uint32_t *dir; /* slot >> CHUNK_SHIFT -> chunk number, or NONE */
    slot_chunk_t **chunk;
    uint32_t nchunks;       /* chunks of slots, and of every set */
    uint32_t id_chunks;     /* primary chunks span ids below id_chunks << CHUNK_SHIFT */
    uint32_t overflow_next; /* overflow slots handed out so far */
    u32vec_t overflow_free;
    uint32_t nfilters, nsubs;
    u32map_t next; /* slot -> next slot of its subscription (KIND_MORE) */

    /* records */
    uint32_t **block;
    uint32_t nblocks, block_cap, block_len; /* block_len: words used in the last block */
    size_t arena_free;                      /* words freed or wasted at block ends */
    uint32_t free_block[FREE_SIZES];

    dict_t small, keywords, issuers;
    cont_t *any[A_SMALL_COUNT]; /* small-path slots not constraining the attribute */
    u32vec_t all;               /* match-all slots */
    uint32_t hot_kw[HOT_CODES]; /* keyword id by hot code */
    uint16_t hot_free[HOT_CODES];
    uint32_t n_hot_free, hot_next;

    /* scratch: a filter being set */
    u32vec_t ids[6];
    /* scratch: a release being matched */
    uint64_t *result; /* by subscription id */
    uint32_t result_words;
    uint64_t *doc_kw; /* by keyword id */
    uint32_t doc_kw_words;
    uint64_t *doc_small; /* by small value id */
    uint32_t doc_small_words;
    uint64_t doc_hot[HOT_CODES / 64]; /* by hot code */
    u32vec_t doc_kw_ids, doc_small_ids[A_SMALL_COUNT];
    uint32_t doc_issuers[2], n_doc_issuers;
    uint32_t *uniq_kw;
    size_t uniq_cap;
    uint64_t *acc, *tmp;
    uint32_t *deferred; /* candidates of one chunk whose record must be read */
    kw_buf_t phrase;
};

/* Record layouts (uint32 words in the arena):
 *   small path (only if its slot cannot decide alone):
 *     [n_any | n_all << 8] [any ids] [all ids]  (without kw0, if its code has one)
 *   keyword and issuer paths:
 *     [n_any | n_all << 8 | n_issuers << 16] [n_lang | n_sector << 8 | n_region << 16 | n_posted <<
 * 24] [issuer ids] [any ids] [all ids] [language ids] [sector ids] [region ids] [posted value ids]
 * [their positions in those values' lists]
 */
#define H_ANY(h) ((h)&0xff)
#define H_ALL(h) (((h) >> 8) & 0xff)
#define H_ISS(h) (((h) >> 16) & 0xff)
#define H_LANG(h) ((h)&0xff)
#define H_SECTOR(h) (((h) >> 8) & 0xff)
#define H_REGION(h) (((h) >> 16) & 0xff)
#define H_POSTED(h) (((h) >> 24) & 0xff)

#define LO(f) ((f) & (CHUNK_SLOTS - 1))

static inline slot_chunk_t *chunk_of(const match_index_t *ix, uint32_t f)
{
    return ix->chunk[ix->dir[f >> CHUNK_SHIFT]];
}

static inline uint32_t *arena_at(const match_index_t *ix, uint32_t off)
{
    return ix->block[off >> BLOCK_SHIFT] + (off & (BLOCK_WORDS - 1));
}

static uint32_t sub_of(const match_index_t *ix, uint32_t f)
{
    return f < PRIMARY_LIMIT ? f : chunk_of(ix, f)->sub[LO(f)];
}

static int sub_exists(const match_index_t *ix, uint32_t id)
{
    uint32_t c = ix->dir[id >> CHUNK_SHIFT];
    return c != NONE && (ix->chunk[c]->kind[LO(id)] & KIND_MASK) != KIND_FREE;
}

/* The record's offset (0: none). */
static uint32_t record_of(const slot_chunk_t *ch, uint32_t lo)
{
    uint8_t kind = ch->kind[lo] & KIND_MASK;
    return kind == KIND_SMALL || kind == KIND_KEYWORD || kind == KIND_ISSUER ? ch->data[lo] : 0;
}

static size_t record_words(const uint32_t *r, uint8_t kind)
{
    uint32_t h0 = r[0];
    if (kind == KIND_SMALL) return 1 + H_ANY(h0) + H_ALL(h0);
    uint32_t h1 = r[1];
    return 2 + H_ISS(h0) + H_ANY(h0) + H_ALL(h0) + H_LANG(h1) + H_SECTOR(h1) + H_REGION(h1) +
           2 * (size_t)H_POSTED(h1);
}

match_index_t *match_index_new(void)
{
    match_index_t *ix = kw_calloc(1, sizeof(*ix));
    ix->dir = kw_malloc(DIR_SIZE * sizeof(*ix->dir));
    memset(ix->dir, 0xff, DIR_SIZE * sizeof(*ix->dir));
    dict_init(&ix->small);
    dict_init(&ix->keywords);
    dict_init(&ix->issuers);
    ix->acc = kw_malloc(CHUNK_WORDS * sizeof(*ix->acc));
    ix->tmp = kw_malloc(CHUNK_WORDS * sizeof(*ix->tmp));
    ix->deferred = kw_malloc((CHUNK_SLOTS + 1) * sizeof(*ix->deferred));
    ix->doc_hot[CODE_NONE >> 6] |= UINT64_C(1) << (CODE_NONE & 63); /* no keywords: "present" */
    return ix;
}

static void free_chunks(cont_t *chunks, uint32_t n)
{
    if (chunks == NULL) return;
    for (uint32_t c = 0; c < n; c++)
        free(chunks[c].p);
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
    for (size_t i = 0; i < KW_ARRAY_SIZE(ix->ids); i++)
        free(ix->ids[i].v);
    for (uint32_t c = 0; c < ix->nchunks; c++) {
        free(ix->chunk[c]->sub);
        free(ix->chunk[c]);
    }
    free(ix->chunk);
    free(ix->dir);
    free(ix->overflow_free.v);
    free(ix->next.key);
    free(ix->next.val);
    for (uint32_t b = 0; b < ix->nblocks; b++)
        free(ix->block[b]);
    free(ix->block);
    free(ix->all.v);
    free(ix->result);
    free(ix->doc_kw);
    free(ix->doc_small);
    free(ix->doc_kw_ids.v);
    free(ix->uniq_kw);
    free(ix->acc);
    free(ix->tmp);
    free(ix->deferred);
    kw_buf_free(&ix->phrase);
    free(ix);
}

/* ---- the arena ---- */

static size_t arena_words(const match_index_t *ix)
{
    return ix->nblocks ? (size_t)(ix->nblocks - 1) * BLOCK_WORDS + ix->block_len : 0;
}

/* Room for words in the last block, starting a new one if needed. */
static uint32_t arena_take(match_index_t *ix, size_t words)
{
    if (ix->nblocks == 0 || ix->block_len + words > BLOCK_WORDS) {
        if (ix->nblocks) ix->arena_free += BLOCK_WORDS - ix->block_len;
        if (ix->nblocks == BLOCKS_MAX) abort(); /* 8 GiB of records: far past any sane index */
        if (ix->nblocks == ix->block_cap) {
            ix->block_cap = ix->block_cap ? ix->block_cap * 2 : 8;
            ix->block = kw_realloc(ix->block, ix->block_cap * sizeof(*ix->block));
        }
        ix->block[ix->nblocks++] = kw_malloc(BLOCK_WORDS * sizeof(uint32_t));
        ix->block_len = ix->nblocks == 1; /* offset 0 means "no record" */
    }
    uint32_t off = (ix->nblocks - 1) << BLOCK_SHIFT | ix->block_len;
    ix->block_len += (uint32_t)words;
    return off;
}

/* Rewrites the live records into fresh blocks, in slot order. */
static void arena_compact(match_index_t *ix)
{
    uint32_t **old = ix->block, nold = ix->nblocks;
    ix->block = NULL;
    ix->nblocks = ix->block_cap = ix->block_len = 0;
    ix->arena_free = 0;
    memset(ix->free_block, 0, sizeof(ix->free_block));
    for (uint32_t c = 0; c < ix->nchunks; c++) {
        slot_chunk_t *ch = ix->chunk[c];
        for (uint32_t lo = 0; lo < CHUNK_SLOTS; lo++) {
            uint32_t from = record_of(ch, lo);
            if (from == 0) continue;
            const uint32_t *r = old[from >> BLOCK_SHIFT] + (from & (BLOCK_WORDS - 1));
            size_t w = record_words(r, ch->kind[lo] & KIND_MASK);
            uint32_t to = arena_take(ix, w);
            memcpy(arena_at(ix, to), r, w * sizeof(*r));
            ch->data[lo] = to;
        }
    }
    for (uint32_t b = 0; b < nold; b++)
        free(old[b]);
    free(old);
}

static uint32_t arena_alloc(match_index_t *ix, size_t words)
{
    if (words < FREE_SIZES && ix->free_block[words]) {
        uint32_t off = ix->free_block[words];
        ix->free_block[words] = *arena_at(ix, off);
        ix->arena_free -= words;
        return off;
    }
    if (ix->nblocks && ix->block_len + words > BLOCK_WORDS && ix->arena_free > BLOCK_WORDS &&
        ix->arena_free > arena_words(ix) / 2)
        arena_compact(ix);
    return arena_take(ix, words);
}

static void arena_release(match_index_t *ix, uint32_t off, size_t words)
{
    ix->arena_free += words;
    if (words < FREE_SIZES) {
        *arena_at(ix, off) = ix->free_block[words];
        ix->free_block[words] = off;
    }
}

/* ---- slots and chunks ---- */

/* The chunk holding slot f, created (with its containers in every set)
 * if new. */
static slot_chunk_t *chunk_get(match_index_t *ix, uint32_t f)
{
    uint32_t key = f >> CHUNK_SHIFT;
    if (ix->dir[key] != NONE) return ix->chunk[ix->dir[key]];
    uint32_t c = ix->nchunks, n = c + 1;
    for (uint32_t i = 0; i < ix->small.n; i++) {
        entry_t *e = &ix->small.e[i];
        if (e->str == NULL) continue;
        e->chunks = kw_realloc(e->chunks, n * sizeof(cont_t));
        memset(&e->chunks[c], 0, sizeof(cont_t));
    }
    for (int a = 0; a < A_SMALL_COUNT; a++) {
        ix->any[a] = kw_realloc(ix->any[a], n * sizeof(cont_t));
        memset(&ix->any[a][c], 0, sizeof(cont_t));
    }
    ix->chunk = kw_realloc(ix->chunk, n * sizeof(*ix->chunk));
    slot_chunk_t *ch = kw_malloc(sizeof(*ch));
    memset(ch->kind, KIND_FREE, sizeof(ch->kind));
    ch->base = key << CHUNK_SHIFT;
    ch->sub = NULL;
    if (f >= PRIMARY_LIMIT) {
        ch->sub = kw_malloc(CHUNK_SLOTS * sizeof(*ch->sub));
    } else if (key + 1 > ix->id_chunks) {
        ix->id_chunks = key + 1;
    }
    ix->chunk[c] = ch;
    ix->dir[key] = c;
    ix->nchunks = n;
    return ch;
}

static uint32_t overflow_alloc(match_index_t *ix)
{
    if (ix->overflow_free.n) return ix->overflow_free.v[--ix->overflow_free.n];
    if (ix->overflow_next == PRIMARY_LIMIT) abort(); /* 2^28 extra filters */
    return PRIMARY_LIMIT + ix->overflow_next++;
}

static void slot_free(match_index_t *ix, uint32_t f)
{
    slot_chunk_t *ch = chunk_of(ix, f);
    ch->kind[LO(f)] = KIND_FREE;
    ch->data[LO(f)] = 0;
    ch->code[LO(f)] = CODE_NONE;
    if (f >= PRIMARY_LIMIT) vec_push(&ix->overflow_free, f);
    ix->nfilters--;
}

/* ---- interning a filter's values ---- */

static void keyword_release(match_index_t *ix, uint32_t id);

/* A small value's key in its dictionary: its attribute's letter, then the
 * value. Written to buf if it fits (canonical values are short), else to
 * a malloc'd copy the caller frees. */
static char *small_key(char *buf, size_t size, int attr, const char *s, size_t len)
{
    char *k = len + 1 <= size ? buf : kw_malloc(len + 1);
    k[0] = small_prefix[attr];
    memcpy(k + 1, s, len);
    return k;
}

static uint32_t small_intern(match_index_t *ix, int attr, const char *s, size_t len)
{
    char buf[128], *key = small_key(buf, sizeof(buf), attr, s, len);
    int fresh;
    uint32_t id = dict_intern(&ix->small, key, len + 1, &fresh);
    if (key != buf) free(key);
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
        uint16_t hot = CODE_COLD;
        if (ix->n_hot_free)
            hot = ix->hot_free[--ix->n_hot_free];
        else if (ix->hot_next < CODE_COLD)
            hot = (uint16_t)ix->hot_next++;
        if (hot != CODE_COLD) ix->hot_kw[hot] = id;
        ix->keywords.e[id].hot = hot;
        const char *sp = memchr(s, ' ', len);
        if (sp) {
            uint32_t words = 1;
            for (size_t i = 0; i < len; i++)
                words += s[i] == ' ';
            /* The first word is interned too (it may move the entries). */
            uint32_t head = keyword_intern(ix, s, (size_t)(sp - s));
            entry_t *h = &ix->keywords.e[head];
            h->heads++;
            if (words > h->phrase_words)
                h->phrase_words = (uint16_t)(words > 65535 ? 65535 : words);
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
    if (e->hot != CODE_COLD) ix->hot_free[ix->n_hot_free++] = e->hot;
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

/* Puts the filter in slot f (free) for subscription sub. */
static void add_filter(match_index_t *ix, uint32_t f, uint32_t sub, const match_filter_t *flt)
{
    intern_filter(ix, flt);
    u32vec_t *v = ix->ids;
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

    slot_chunk_t *ch = chunk_get(ix, f);
    uint32_t lo = LO(f);
    /* Free until its record is in place: arena_alloc may compact. */
    ch->kind[lo] = KIND_FREE;
    if (ch->sub) ch->sub[lo] = sub;
    uint32_t data = 0;
    uint16_t code = CODE_NONE;

    if (kind == KIND_ALL) {
        data = ix->all.n;
        vec_push(&ix->all, f);
    } else if (kind == KIND_SMALL) {
        uint32_t c = ix->dir[f >> CHUNK_SHIFT];
        for (int a = 0; a < A_SMALL_COUNT; a++) {
            if (v[a].n == 0) cont_add(&ix->any[a][c], (uint16_t)lo);
            for (uint32_t j = 0; j < v[a].n; j++)
                cont_add(&ix->small.e[v[a].v[j]].chunks[c], (uint16_t)lo);
        }
        /* kw0: the all-of keyword fewest filters hold, or the any-of
         * keyword most filters hold; taken out of the record if it has a
         * hot code. */
        u32vec_t *from = nall ? &v[V_ALL] : &v[V_ANY];
        if (from->n == 0) {
            code = CODE_NONE;
        } else {
            uint32_t best = 0;
            for (uint32_t j = 1; j < from->n; j++) {
                uint32_t rj = ix->keywords.e[from->v[j]].refs,
                         rb = ix->keywords.e[from->v[best]].refs;
                if (nall ? rj < rb : rj > rb) best = j;
            }
            uint16_t hot = ix->keywords.e[from->v[best]].hot;
            if (hot == CODE_COLD) {
                code = CODE_COLD | CODE_REST;
            } else {
                code = hot;
                from->v[best] = from->v[--from->n];
                if (nall) {
                    code |= CODE_ALL;
                    nall--;
                } else {
                    na--;
                }
            }
        }
        if (na + nall == 0) {
            /* A lone all-of keyword decides like a lone any-of one. */
            code &= (uint16_t)~CODE_ALL;
        } else {
            if (!(code & CODE_ALL)) code |= CODE_REST;
            uint32_t off = arena_alloc(ix, 1 + na + nall);
            uint32_t *r = arena_at(ix, off);
            r[0] = na | nall << 8;
            if (na) memcpy(r + 1, v[V_ANY].v, na * sizeof(*r));
            if (nall) memcpy(r + 1 + na, v[V_ALL].v, nall * sizeof(*r));
            data = off;
        }
    } else {
        dict_t *d = kind == KIND_ISSUER ? &ix->issuers : &ix->keywords;
        const uint32_t *posted;
        uint32_t np, best[1];
        if (kind == KIND_ISSUER) {
            posted = v[V_ISSUER].v;
            np = ni;
        } else if (nall) {
            /* A conjunction is found through any one of its words: take
             * the one with the shortest list. */
            best[0] = v[V_ALL].v[0];
            for (uint32_t j = 1; j < nall; j++)
                if (d->e[v[V_ALL].v[j]].post.n < d->e[best[0]].post.n) best[0] = v[V_ALL].v[j];
            posted = best;
            np = 1;
        } else {
            posted = v[V_ANY].v;
            np = na;
        }
        size_t words = 2 + (size_t)ni + na + nall + nl + ns + nr + 2 * (size_t)np;
        uint32_t off = arena_alloc(ix, words);
        uint32_t *r = arena_at(ix, off), *p = r + 2;
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
        data = off;
    }
    ch->data[lo] = data;
    ch->code[lo] = code;
    ch->kind[lo] = kind;
    ix->nfilters++;
}

static void remove_filter(match_index_t *ix, uint32_t f)
{
    slot_chunk_t *ch = chunk_of(ix, f);
    uint32_t lo = LO(f);
    uint8_t kind = ch->kind[lo] & KIND_MASK;
    uint32_t data = ch->data[lo];
    if (kind == KIND_ALL) {
        uint32_t last = ix->all.v[--ix->all.n];
        if (data != ix->all.n) {
            ix->all.v[data] = last;
            chunk_of(ix, last)->data[LO(last)] = data;
        }
    } else if (kind == KIND_SMALL) {
        uint32_t c = ix->dir[f >> CHUNK_SHIFT];
        for (int a = 0; a < A_SMALL_COUNT; a++)
            cont_del(&ix->any[a][c], (uint16_t)lo);
        /* The sets are the only copy of its languages, sectors and
         * regions: probe each value's container for this chunk. */
        u32vec_t *gone = &ix->ids[0];
        gone->n = 0;
        for (uint32_t i = 0; i < ix->small.n; i++) {
            entry_t *e = &ix->small.e[i];
            if (e->str && e->chunks && cont_del(&e->chunks[c], (uint16_t)lo)) vec_push(gone, i);
        }
        for (uint32_t i = 0; i < gone->n; i++)
            small_release(ix, gone->v[i]);
        uint32_t c0 = ch->code[lo] & CODE_MASK;
        if (c0 != CODE_NONE && c0 != CODE_COLD) keyword_release(ix, ix->hot_kw[c0]);
        if (data) {
            const uint32_t *r = arena_at(ix, data);
            uint32_t nk = H_ANY(r[0]) + H_ALL(r[0]);
            for (uint32_t i = 0; i < nk; i++)
                keyword_release(ix, r[1 + i]);
            arena_release(ix, data, 1 + nk);
        }
    } else { /* keyword or issuer path */
        uint32_t *r = arena_at(ix, data);
        uint32_t h0 = r[0], h1 = r[1];
        uint32_t *iss = r + 2, *kw = iss + H_ISS(h0), *small = kw + H_ANY(h0) + H_ALL(h0);
        uint32_t nsmall = H_LANG(h1) + H_SECTOR(h1) + H_REGION(h1);
        uint32_t *posted = small + nsmall, *back = posted + H_POSTED(h1);
        dict_t *d = kind == KIND_KEYWORD ? &ix->keywords : &ix->issuers;
        for (uint32_t j = 0; j < H_POSTED(h1); j++) {
            /* Swap-remove from the list; fix the moved filter's back-pointer. */
            u32vec_t *list = &d->e[posted[j]].post;
            uint32_t pos = back[j];
            uint32_t moved = list->v[--list->n];
            if (pos != list->n) {
                list->v[pos] = moved;
                uint32_t *m = arena_at(ix, chunk_of(ix, moved)->data[LO(moved)]);
                uint32_t mh1 = m[1];
                uint32_t *mposted = m + 2 + H_ISS(m[0]) + H_ANY(m[0]) + H_ALL(m[0]) + H_LANG(mh1) +
                                    H_SECTOR(mh1) + H_REGION(mh1);
                for (uint32_t k = 0; k < H_POSTED(mh1); k++)
                    if (mposted[k] == posted[j]) mposted[H_POSTED(mh1) + k] = pos;
            }
        }
        for (uint32_t j = 0; j < H_ISS(h0); j++)
            issuer_release(ix, iss[j]);
        for (uint32_t j = 0; j < H_ANY(h0) + H_ALL(h0); j++)
            keyword_release(ix, kw[j]);
        for (uint32_t j = 0; j < nsmall; j++)
            small_release(ix, small[j]);
        arena_release(ix, data, record_words(r, kind));
    }
    slot_free(ix, f);
}

static void remove_sub(match_index_t *ix, uint32_t id)
{
    if (!sub_exists(ix, id)) return;
    uint32_t f = id;
    while (f != NONE) {
        uint32_t nx = (chunk_of(ix, f)->kind[LO(f)] & KIND_MORE) ? map_take(&ix->next, f) : NONE;
        remove_filter(ix, f);
        f = nx;
    }
    ix->nsubs--;
}

int match_index_set(match_index_t *ix, uint32_t id, const match_filter_t *filters, size_t n)
{
    if (id > MATCH_INDEX_ID_MAX || n > MATCH_INDEX_FILTERS_MAX) return KW_INVALID;
    for (size_t i = 0; i < n; i++)
        if (!filter_ok(&filters[i])) return KW_INVALID;
    remove_sub(ix, id);
    if (n == 0) return KW_OK;
    uint32_t prev = NONE;
    for (size_t i = 0; i < n; i++) {
        uint32_t f = i == 0 ? id : overflow_alloc(ix);
        add_filter(ix, f, id, &filters[i]);
        if (prev != NONE) {
            chunk_of(ix, prev)->kind[LO(prev)] |= KIND_MORE;
            map_put(&ix->next, prev, f);
        }
        prev = f;
    }
    ix->nsubs++;
    return KW_OK;
}

void match_index_remove(match_index_t *ix, uint32_t id)
{
    if (id <= MATCH_INDEX_ID_MAX) remove_sub(ix, id);
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
    size_t len = strlen(s);
    char buf[128], *key = small_key(buf, sizeof(buf), attr, s, len);
    uint32_t id = dict_find(&ix->small, key, len + 1, match__hash(key, len + 1));
    if (key != buf) free(key);
    return id;
}

/* Turns the document's values into ids: the bitmaps and lists of its
 * keywords (words and phrases) and small values, and its issuer ids. */
static void doc_prepare(match_index_t *ix, const match_doc_t *d)
{
    ensure_words(&ix->result, &ix->result_words, (size_t)ix->id_chunks << CHUNK_SHIFT);
    ensure_words(&ix->doc_kw, &ix->doc_kw_words, ix->keywords.n);
    ensure_words(&ix->doc_small, &ix->doc_small_words, ix->small.n);

    ix->doc_kw_ids.n = 0;
    if (ix->keywords.live) {
        if (d->n_uniq > ix->uniq_cap) {
            ix->uniq_cap = d->n_uniq;
            ix->uniq_kw = kw_realloc(ix->uniq_kw, ix->uniq_cap * sizeof(*ix->uniq_kw));
        }
        for (size_t u = 0; u < d->n_uniq; u++) {
            uint32_t id =
                dict_find(&ix->keywords, d->text + d->uniq_off[u], d->uniq_len[u], d->uniq_hash[u]);
            ix->uniq_kw[u] = id;
            if (id != NONE) {
                bit_set(ix->doc_kw, id);
                vec_push(&ix->doc_kw_ids, id);
                if (ix->keywords.e[id].hot != CODE_COLD)
                    bit_set(ix->doc_hot, ix->keywords.e[id].hot);
            }
        }
    }
    if (ix->keywords.live) {
        /* Phrases: from each head word, as many words as its longest
         * phrase, hashing as the phrase grows. */
        kw_buf_t *b = &ix->phrase;
        for (size_t i = 0; i < d->n_seq; i++) {
            uint32_t u = d->seq[i];
            if (u == MATCH__SEQ_BREAK || ix->uniq_kw[u] == NONE) continue;
            const entry_t *head = &ix->keywords.e[ix->uniq_kw[u]];
            if (head->heads == 0) continue;
            size_t words = head->phrase_words;
            kw_buf_reset(b);
            kw_buf_append(b, d->text + d->uniq_off[u], d->uniq_len[u]);
            uint64_t h = match__hash_add(MATCH__HASH_INIT, b->data, b->len);
            for (size_t k = 1; k < words && i + k < d->n_seq; k++) {
                uint32_t w = d->seq[i + k];
                if (w == MATCH__SEQ_BREAK) break;
                size_t at = b->len;
                kw_buf_putc(b, ' ');
                kw_buf_append(b, d->text + d->uniq_off[w], d->uniq_len[w]);
                h = match__hash_add(h, b->data + at, b->len - at);
                uint32_t id = dict_find(&ix->keywords, b->data, b->len, match__hash_final(h));
                if (id != NONE && !bit_get(ix->doc_kw, id)) {
                    bit_set(ix->doc_kw, id);
                    vec_push(&ix->doc_kw_ids, id);
                    if (ix->keywords.e[id].hot != CODE_COLD)
                        bit_set(ix->doc_hot, ix->keywords.e[id].hot);
                }
            }
        }
    }

    for (int a = 0; a < A_SMALL_COUNT; a++)
        ix->doc_small_ids[a].n = 0;
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
    for (uint32_t i = 0; i < ix->doc_kw_ids.n; i++)
        ix->doc_kw[ix->doc_kw_ids.v[i] >> 6] = 0;
    memset(ix->doc_hot, 0, sizeof(ix->doc_hot));
    bit_set(ix->doc_hot, CODE_NONE); /* no keywords: always "present" */
    for (int a = 0; a < A_SMALL_COUNT; a++)
        for (uint32_t i = 0; i < ix->doc_small_ids[a].n; i++)
            ix->doc_small[ix->doc_small_ids[a].v[i] >> 6] = 0;
}

/* Whether a keyword- or issuer-path record matches the prepared document. */
static int verify_full(const match_index_t *ix, const uint32_t *r)
{
    uint32_t h0 = r[0], h1 = r[1];
    const uint32_t *p = r + 2;
    if (H_ISS(h0)) {
        int ok = 0;
        for (uint32_t j = 0; j < H_ISS(h0) && !ok; j++)
            for (uint32_t k = 0; k < ix->n_doc_issuers; k++)
                ok |= p[j] == ix->doc_issuers[k];
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

/* A small-path candidate's keywords when its slot alone cannot decide:
 * the all-of and any-of keywords its record holds (kw0, if its code has
 * one, was in the release for all-of, was not for any-of). */
static int verify_record(const match_index_t *ix, const uint32_t *r)
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
    uint64_t *acc = ix->acc, *tmp = ix->tmp, *result = ix->result;
    for (uint32_t c = 0; c < ix->nchunks; c++) {
        if (!group_build(ix, A_LANG, c, acc)) continue;
        if (!group_build(ix, A_SECTOR, c, tmp) || !and_into(acc, tmp)) continue;
        if (!group_build(ix, A_REGION, c, tmp) || !and_into(acc, tmp)) continue;

        /* Every candidate satisfies language, sector and region; its code
         * (read in slot order) decides most of them. The others have their
         * records read afterwards, prefetched ahead. */
        const slot_chunk_t *ch = ix->chunk[c];
        uint64_t *res = ch->sub ? NULL : result + (ch->base >> 6);
        uint32_t ndef = 0, *deferred = ix->deferred;
        const uint64_t *doc_hot = ix->doc_hot;
        for (uint32_t w = 0; w < CHUNK_WORDS; w++) {
            uint64_t x = acc[w], hit = 0;
            /* Branch-free: which way a candidate goes is data, not a
             * pattern the branch predictor could learn. */
            for (; x; x &= x - 1) {
                uint32_t b = (uint32_t)__builtin_ctzll(x), lo = w * 64 + b;
                uint32_t code = ch->code[lo], c0 = code & CODE_MASK;
                uint32_t present = (uint32_t)(doc_hot[c0 >> 6] >> (c0 & 63)) & 1;
                uint32_t all = code >> 15, rest = (code >> 14) & 1;
                hit |= (uint64_t)(present & ~all & 1) << b;
                deferred[ndef] = lo;
                ndef += (present & all) | (~present & rest & 1);
            }
            if (hit == 0) continue;
            if (res) {
                res[w] |= hit;
            } else {
                for (; hit; hit &= hit - 1)
                    bit_set(result, ch->sub[w * 64 + (uint32_t)__builtin_ctzll(hit)]);
            }
        }
        for (uint32_t i = 0; i < ndef; i++) {
            if (i + 48 < ndef) __builtin_prefetch(&ch->data[deferred[i + 48]]);
            if (i + 16 < ndef) __builtin_prefetch(arena_at(ix, ch->data[deferred[i + 16]]));
            uint32_t lo = ix->deferred[i];
            if (verify_record(ix, arena_at(ix, ch->data[lo])))
                bit_set(result, ch->sub ? ch->sub[lo] : ch->base + lo);
        }
    }
}

static void match_list(match_index_t *ix, const u32vec_t *list)
{
    for (uint32_t i = 0; i < list->n; i++) {
        uint32_t f = list->v[i], sub = sub_of(ix, f);
        if (bit_get(ix->result, sub)) continue;
        if (verify_full(ix, arena_at(ix, chunk_of(ix, f)->data[LO(f)]))) bit_set(ix->result, sub);
    }
}

size_t match_index_match(match_index_t *ix, const match_doc_t *d, uint32_t **out, size_t *cap)
{
    if (ix->nsubs == 0) return 0;
    doc_prepare(ix, d);

    for (uint32_t i = 0; i < ix->all.n; i++)
        bit_set(ix->result, sub_of(ix, ix->all.v[i]));
    for (uint32_t i = 0; i < ix->n_doc_issuers; i++)
        match_list(ix, &ix->issuers.e[ix->doc_issuers[i]].post);
    for (uint32_t i = 0; i < ix->doc_kw_ids.n; i++)
        match_list(ix, &ix->keywords.e[ix->doc_kw_ids.v[i]].post);
    match_small(ix);

    /* Read the marks back in order, clearing them. */
    size_t n = 0;
    for (uint32_t w = 0; w < ix->result_words; w++) {
        uint64_t x = ix->result[w];
        if (x == 0) continue;
        ix->result[w] = 0;
        size_t bits = (size_t)__builtin_popcountll(x);
        if (n + 64 > *cap) {
            *cap = *cap ? *cap * 2 : 1024;
            *out = kw_realloc(*out, *cap * sizeof(**out));
        }
        /* The first four unrolled (most words hold few), so that the loop
         * exit is rarely mispredicted; what they write past the last
         * match is overwritten or beyond n. */
        uint32_t *o = *out + n, base = w * 64;
        const uint64_t top = UINT64_C(1) << 63;
        o[0] = base + (uint32_t)__builtin_ctzll(x | top);
        x &= x - 1;
        o[1] = base + (uint32_t)__builtin_ctzll(x | top);
        x &= x - 1;
        o[2] = base + (uint32_t)__builtin_ctzll(x | top);
        x &= x - 1;
        o[3] = base + (uint32_t)__builtin_ctzll(x | top);
        x &= x - 1;
        for (o += 4; x; x &= x - 1)
            *o++ = base + (uint32_t)__builtin_ctzll(x);
        n += bits;
    }
    doc_clear(ix);
    return n;
}

/* ---- statistics ---- */

void match_index_stats(const match_index_t *ix, match_stats_t *out)
{
    size_t b = sizeof(*ix) + ALLOC_OVERHEAD + DIR_SIZE * sizeof(uint32_t) + ALLOC_OVERHEAD;
    for (uint32_t c = 0; c < ix->nchunks; c++)
        b += sizeof(slot_chunk_t) + ALLOC_OVERHEAD + sizeof(void *) +
             (ix->chunk[c]->sub ? CHUNK_SLOTS * sizeof(uint32_t) + ALLOC_OVERHEAD : 0);
    b += (size_t)ix->overflow_free.cap * sizeof(uint32_t);
    if (ix->next.key) b += (size_t)(ix->next.mask + 1) * 2 * sizeof(uint32_t);
    b += (size_t)ix->nblocks * (BLOCK_WORDS * sizeof(uint32_t) + ALLOC_OVERHEAD) +
         (size_t)ix->block_cap * sizeof(void *);
    b += dict_bytes(&ix->small, ix->nchunks);
    b += dict_bytes(&ix->keywords, 0);
    b += dict_bytes(&ix->issuers, 0);
    for (int a = 0; a < A_SMALL_COUNT; a++) {
        if (ix->any[a] == NULL) continue;
        b += (size_t)ix->nchunks * sizeof(cont_t) + ALLOC_OVERHEAD;
        for (uint32_t c = 0; c < ix->nchunks; c++)
            b += cont_bytes(&ix->any[a][c]);
    }
    b += (size_t)ix->all.cap * sizeof(uint32_t);
    /* scratch */
    for (size_t i = 0; i < KW_ARRAY_SIZE(ix->ids); i++)
        b += (size_t)ix->ids[i].cap * 4;
    for (int a = 0; a < A_SMALL_COUNT; a++)
        b += (size_t)ix->doc_small_ids[a].cap * 4;
    b += ((size_t)ix->result_words + ix->doc_kw_words + ix->doc_small_words) * 8;
    b += ((size_t)ix->doc_kw_ids.cap + ix->uniq_cap) * 4;
    b += 2 * CHUNK_WORDS * sizeof(uint64_t) + CHUNK_SLOTS * sizeof(uint32_t) + ix->phrase.cap;
    out->subscriptions = ix->nsubs;
    out->filters = ix->nfilters;
    out->bytes = b;
}
