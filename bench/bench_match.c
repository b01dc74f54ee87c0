/* bench_match.c -- the subscription index at wire scale, in process: build
 * time, memory per subscription, match time per release and update time
 * for millions of synthetic subscriptions with a realistic skew. Prints
 * figures, never pass or fail.
 *
 *   bench_match [-n subscriptions] [-r releases] [-u updates] [-s zipf]
 *               [-m percent-with-two-filters] [-c]
 *
 * Defaults: 3,500,000 subscriptions, 1,000 releases, 10,000 updates, Zipf
 * exponent 1.0. -c also checks every release's answer against a brute-force
 * loop over match_filter_matches (keeps every filter: use a small -n).
 *
 * The synthetic population (DESIGN.md's reference scale, the issue's skew):
 *   - values ranked by popularity, drawn with a Zipf law: 15 languages
 *     (DESIGN.md's, English first), the 15 seed sectors, the 249 ISO 3166-1
 *     regions (shuffled once), a vocabulary of 50,000 words;
 *   - a subscription: 1-3 languages, 1-5 sectors, 0-5 regions, 0-10
 *     keywords (uniform counts, distinct values); of its keywords 5% are
 *     two-word phrases (from 5,000 phrases of vocabulary words, also
 *     Zipf-ranked), and one subscription in ten with two or more
 *     keywords requires two of them (keywords_all), the rest any-of;
 *   - a release: 1 language, 1-3 sectors, 1-3 regions, an issuer, a
 *     12-word headline and a ~300-word body drawn from the same vocabulary
 *     with the same law (so the most popular keywords are also the most
 *     frequent words: the hard case), with punctuation and capitals.
 *
 * Build (bench/run.sh does this):
 *   cc -O2 -std=c17 -D_GNU_SOURCE -Isrc $(pkg-config --cflags jansson icu-uc) \
 *      -o bench_match bench/bench_match.c src/match/match_*.c src/core/core_buf.c \
 *      src/core/core_lang.c src/core/core_region.c src/core/core_sector.c \
 *      src/core/core_release.c src/core/core_time.c \
 *      $(pkg-config --libs jansson icu-uc icu-i18n) -lm
 */
#include "core/core.h"
#include "core/core_lang.h"
#include "core/core_region.h"
#include "core/core_release.h"
#include "core/core_sector.h"
#include "match/match.h"

#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define VOCABULARY 50000
#define PHRASES 5000
#define ISSUERS 1000

/* ---- randomness ---- */

static uint64_t rng = 0x2545f4914f6cdd1du;

static uint64_t rnd64(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * UINT64_C(2685821657736338717);
}

static uint32_t rnd(uint32_t n)
{
    return (uint32_t)((rnd64() >> 32) * n >> 32);
}

static double rnd_unit(void)
{
    return (double)(rnd64() >> 11) * (1.0 / 9007199254740992.0);
}

typedef struct {
    double *cdf;
    uint32_t n;
} zipf_t;

static void zipf_init(zipf_t *z, uint32_t n, double s)
{
    z->n = n;
    z->cdf = kw_malloc(n * sizeof(*z->cdf));
    double t = 0;
    for (uint32_t i = 0; i < n; i++)
        z->cdf[i] = (t += 1.0 / pow(i + 1, s));
    for (uint32_t i = 0; i < n; i++)
        z->cdf[i] /= t;
}

static uint32_t zipf(const zipf_t *z)
{
    double u = rnd_unit();
    uint32_t lo = 0, hi = z->n - 1;
    while (lo < hi) {
        uint32_t m = (lo + hi) / 2;
        if (z->cdf[m] < u)
            lo = m + 1;
        else
            hi = m;
    }
    return lo;
}

/* k distinct ranks (fewer if the law keeps repeating itself). */
static uint32_t zipf_distinct(const zipf_t *z, uint32_t k, uint32_t *out)
{
    uint32_t n = 0;
    for (uint32_t tries = 0; n < k && tries < 50 * k; tries++) {
        uint32_t v = zipf(z);
        int dup = 0;
        for (uint32_t j = 0; j < n; j++)
            dup |= out[j] == v;
        if (!dup) out[n++] = v;
    }
    return n;
}

/* ---- the synthetic world ---- */

static const char *langs[15];
static const char *sectors[15];
static const char *regions[300];
static uint32_t nregions;
static char *vocab[VOCABULARY];
static char *phrases[PHRASES];
static zipf_t z_lang, z_sector, z_region, z_word, z_phrase;

/* Word r of the vocabulary: pronounceable, lower-case ASCII, unique (two
 * to three syllables of consonant + vowel, the number r + 80 in base 80). */
static char *make_word(uint32_t r)
{
    static const char cons[] = "bdfghjklmnprstvz", vow[] = "aeiou";
    char buf[16];
    size_t n = 0;
    uint32_t x = r + 80;
    char tmp[16];
    size_t m = 0;
    while (x) {
        uint32_t syl = x % 80;
        tmp[m++] = vow[syl % 5];
        tmp[m++] = cons[syl / 5];
        x /= 80;
    }
    while (m)
        buf[n++] = tmp[--m];
    buf[n] = '\0';
    return kw_strdup(buf);
}

static void world_init(double s)
{
    for (size_t i = 0; i < 15; i++) {
        langs[i] = core_lang_at(i)->tag;
        sectors[i] = core_sector_at(i)->slug;
    }
    nregions = (uint32_t)core_region_count();
    if (nregions > KW_ARRAY_SIZE(regions)) nregions = KW_ARRAY_SIZE(regions);
    for (uint32_t i = 0; i < nregions; i++)
        regions[i] = core_region_at(i)->code;
    for (uint32_t i = nregions - 1; i > 0; i--) {
        uint32_t j = rnd(i + 1);
        const char *t = regions[i];
        regions[i] = regions[j];
        regions[j] = t;
    }
    for (uint32_t i = 0; i < VOCABULARY; i++)
        vocab[i] = make_word(i);
    zipf_init(&z_lang, 15, s);
    zipf_init(&z_word, VOCABULARY, s);
    /* Phrases: pairs of vocabulary words, themselves ranked. */
    for (uint32_t i = 0; i < PHRASES; i++) {
        char buf[64];
        snprintf(buf, sizeof(buf), "%s %s", vocab[zipf(&z_word)], vocab[zipf(&z_word)]);
        phrases[i] = kw_strdup(buf);
    }
    zipf_init(&z_phrase, PHRASES, s);
    zipf_init(&z_sector, 15, s);
    zipf_init(&z_region, nregions, s);
}

static json_t *strings_json(const char *const *pool, const uint32_t *ranks, uint32_t n)
{
    json_t *a = json_array();
    for (uint32_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(pool[ranks[i]]));
    return a;
}

static void random_filter(match_filter_t *f)
{
    uint32_t r[16];
    match_filter_init(f);
    f->languages = strings_json(langs, r, zipf_distinct(&z_lang, 1 + rnd(3), r));
    f->sectors = strings_json(sectors, r, zipf_distinct(&z_sector, 1 + rnd(5), r));
    uint32_t nr = rnd(6);
    if (nr) f->regions = strings_json(regions, r, zipf_distinct(&z_region, nr, r));
    uint32_t nk = rnd(11);
    if (nk == 0) return;
    nk = zipf_distinct(&z_word, nk, r);
    json_t *kws = json_array();
    for (uint32_t i = 0; i < nk; i++) {
        if (rnd(100) < 5) {
            json_array_append_new(kws, json_string(phrases[zipf(&z_phrase)]));
        } else {
            json_array_append_new(kws, json_string(vocab[r[i]]));
        }
    }
    if (nk >= 2 && rnd(10) == 0) {
        f->keywords_all = json_array();
        json_array_append(f->keywords_all, json_array_get(kws, 0));
        json_array_append(f->keywords_all, json_array_get(kws, 1));
        json_array_remove(kws, 0);
        json_array_remove(kws, 0);
    }
    if (json_array_size(kws))
        f->keywords_any = kws;
    else
        json_decref(kws);
}

static char *random_text(uint32_t words)
{
    static const char *const seps[] = {" ",  " ",  " ",   " ",    " ",  " ", ", ",
                                       ". ", "; ", " - ", "\n\n", " (", ") "};
    kw_buf_t b = {0};
    int cap_next = 1;
    for (uint32_t i = 0; i < words; i++) {
        const char *w = vocab[zipf(&z_word)];
        if (i) {
            const char *sep = seps[rnd(KW_ARRAY_SIZE(seps))];
            kw_buf_puts(&b, sep);
            cap_next = sep[0] == '.' || sep[0] == '\n';
        }
        if (cap_next || rnd(20) == 0) {
            kw_buf_putc(&b, (char)(w[0] - 32));
            kw_buf_puts(&b, w + 1);
        } else {
            kw_buf_puts(&b, w);
        }
    }
    kw_buf_putc(&b, '.');
    return kw_buf_steal(&b, NULL);
}

static void random_release(core_release_t *r)
{
    uint32_t v[4];
    core_release_init(r);
    snprintf(r->language, sizeof(r->language), "%s", langs[zipf(&z_lang)]);
    uint32_t n = zipf_distinct(&z_sector, 1 + rnd(3), v);
    for (uint32_t i = 0; i < n; i++)
        json_array_append_new(r->sectors, json_string(sectors[v[i]]));
    n = zipf_distinct(&z_region, 1 + rnd(3), v);
    for (uint32_t i = 0; i < n; i++)
        json_array_append_new(r->regions, json_string(regions[v[i]]));
    uint32_t iss = rnd(ISSUERS);
    snprintf(r->issuer_id, sizeof(r->issuer_id), "i%05u", iss);
    char slug[32];
    snprintf(slug, sizeof(slug), "issuer-%u", iss);
    r->issuer_slug = kw_strdup(slug);
    r->headline = random_text(12);
    r->body = random_text(270 + rnd(60));
}

/* ---- measuring ---- */

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) return 0;
    char line[256];
    long kb = 0;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0) kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts v and gives the q-quantile (nearest rank). */
static double quantile(double *v, size_t n, double q)
{
    if (n == 0) return 0;
    size_t i = (size_t)ceil(q * (double)n);
    if (i) i--;
    if (i >= n) i = n - 1;
    return v[i];
}

static void summary(const char *label, double *v, size_t n, const char *unit, double scale)
{
    qsort(v, n, sizeof(*v), dbl_cmp);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    printf("%-30s p50 %8.3f  p99 %8.3f  max %8.3f  mean %8.3f %s  (n=%zu)\n", label,
           quantile(v, n, 0.50) * scale, quantile(v, n, 0.99) * scale, v[n - 1] * scale,
           sum / (double)n * scale, unit, n);
}

int main(int argc, char **argv)
{
    size_t nsubs = 3500000, nrel = 1000, nupd = 10000;
    double s = 1.0;
    int check = 0, two_filters_pct = 0;
    int opt;
    while ((opt = getopt(argc, argv, "n:r:u:s:m:c")) != -1) {
        switch (opt) {
        case 'n':
            nsubs = strtoul(optarg, NULL, 10);
            break;
        case 'r':
            nrel = strtoul(optarg, NULL, 10);
            break;
        case 'u':
            nupd = strtoul(optarg, NULL, 10);
            break;
        case 's':
            s = strtod(optarg, NULL);
            break;
        case 'm':
            two_filters_pct = atoi(optarg);
            break;
        case 'c':
            check = 1;
            break;
        default:
            fprintf(stderr, "usage: bench_match [-n subscriptions] [-r releases] [-u updates] "
                            "[-s zipf] [-m percent-with-two-filters] [-c]\n");
            return 2;
        }
    }
    if (optind < argc) nsubs = strtoul(argv[optind], NULL, 10); /* bench_match 100000 */
    if (nsubs == 0 || nrel == 0) return 2;

    world_init(s);
    printf("bench_match: %zu subscriptions, %zu releases, %zu updates, Zipf s=%.2f, "
           "%d%% with two filters\n",
           nsubs, nrel, nupd, s, two_filters_pct);

    /* Releases first (their memory is not the index's). */
    core_release_t *rel = kw_calloc(nrel, sizeof(*rel));
    match_doc_t **docs = kw_calloc(nrel, sizeof(*docs));
    double *t = kw_malloc((nrel > nupd ? nrel : nupd) * sizeof(*t) + 8);
    size_t tokens = 0;
    for (size_t i = 0; i < nrel; i++) {
        random_release(&rel[i]);
        double t0 = now_us();
        docs[i] = match_doc_new(&rel[i]);
        t[i] = now_us() - t0;
        if (docs[i] == NULL) {
            fprintf(stderr, "match_doc_new failed\n");
            return 1;
        }
    }
    for (size_t i = 0; i < nrel; i++)
        tokens += strlen(rel[i].body) + strlen(rel[i].headline);
    printf("release text                   %.0f bytes on average\n", (double)tokens / nrel);
    summary("match_doc_new (tokenize)", t, nrel, "ms", 1e-3);

    /* Build. */
    match_filter_t *kept = check ? kw_calloc(nsubs * 2, sizeof(*kept)) : NULL;
    malloc_trim(0);
    long rss0 = rss_kb();
    match_index_t *ix = match_index_new();
    double in_index = 0, t_build = now_us();
    match_filter_t f[2];
    for (size_t id = 0; id < nsubs; id++) {
        size_t nf = 1 + (rnd(100) < (uint32_t)two_filters_pct);
        for (size_t j = 0; j < nf; j++)
            random_filter(&f[j]);
        double t0 = now_us();
        if (match_index_set(ix, (uint32_t)id, f, nf) != KW_OK) {
            fprintf(stderr, "match_index_set failed\n");
            return 1;
        }
        in_index += now_us() - t0;
        for (size_t j = 0; j < nf; j++) {
            if (check)
                kept[2 * id + j] = f[j];
            else
                match_filter_clear(&f[j]);
        }
    }
    t_build = now_us() - t_build;
    malloc_trim(0);
    long rss1 = rss_kb();
    match_stats_t st;
    match_index_stats(ix, &st);
    printf("build                          %.2f s in match_index_set (%.2f us per subscription), "
           "%.2f s with generating the filters\n",
           in_index / 1e6, in_index / (double)nsubs, t_build / 1e6);
    printf("index                          %zu subscriptions, %zu filters\n", st.subscriptions,
           st.filters);
    printf("bytes per subscription         %.1f (match_index_stats: %.1f MiB held)\n",
           (double)st.bytes / (double)nsubs, (double)st.bytes / 1048576.0);
    printf("RSS growth per subscription    %.1f (%.1f MiB, VmRSS after malloc_trim)\n",
           (double)(rss1 - rss0) * 1024.0 / (double)nsubs, (double)(rss1 - rss0) / 1024.0);

    /* Match. */
    uint32_t *out = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < nrel && i < 20; i++)
        match_index_match(ix, docs[i], &out, &cap);
    double *m = kw_malloc(nrel * sizeof(*m));
    size_t mismatches = 0;
    for (size_t i = 0; i < nrel; i++) {
        double t0 = now_us();
        size_t n = match_index_match(ix, docs[i], &out, &cap);
        t[i] = now_us() - t0;
        m[i] = (double)n;
        if (check) {
            size_t k = 0, bad = 0;
            for (size_t id = 0; id < nsubs; id++) {
                int hit = match_filter_matches(&kept[2 * id], docs[i]) ||
                          (kept[2 * id + 1].languages &&
                           match_filter_matches(&kept[2 * id + 1], docs[i]));
                if (hit) bad |= k >= n || out[k++] != id;
            }
            mismatches += bad || k != n;
        }
    }
    double msum = 0, tsum = 0;
    for (size_t i = 0; i < nrel; i++)
        msum += m[i], tsum += t[i];
    summary("match per release", t, nrel, "ms", 1e-3);
    summary("matches per release", m, nrel, "", 1);
    printf("matched share                  %.2f%% of subscriptions per release on average\n",
           100.0 * msum / (double)nrel / (double)nsubs);
    printf("time per match                 %.1f ns (all match time / all matches)\n",
           msum > 0 ? tsum * 1e3 / msum : 0.0);
    if (check)
        printf("checked against match_filter_matches: %zu of %zu releases differ\n", mismatches,
               nrel);

    /* Updates: replace random subscriptions' filters. */
    if (nupd) {
        for (size_t i = 0; i < nupd; i++) {
            uint32_t id = rnd((uint32_t)nsubs);
            random_filter(&f[0]);
            double t0 = now_us();
            match_index_set(ix, id, f, 1);
            t[i] = now_us() - t0;
            if (check) {
                match_filter_clear(&kept[2 * id]);
                match_filter_clear(&kept[2 * id + 1]);
                kept[2 * id] = f[0];
            } else {
                match_filter_clear(&f[0]);
            }
        }
        summary("update (replace filters)", t, nupd, "us", 1);
        uint32_t *ids = kw_malloc(nupd * sizeof(*ids));
        for (size_t i = 0; i < nupd; i++) {
            ids[i] = rnd((uint32_t)nsubs);
            double t0 = now_us();
            match_index_remove(ix, ids[i]);
            t[i] = now_us() - t0;
            if (check) {
                match_filter_clear(&kept[2 * ids[i]]);
                match_filter_clear(&kept[2 * ids[i] + 1]);
            }
        }
        summary("remove", t, nupd, "us", 1);
        free(ids);
        size_t again = nrel < 200 ? nrel : 200;
        for (size_t i = 0; i < again; i++) {
            double t0 = now_us();
            match_index_match(ix, docs[i], &out, &cap);
            t[i] = now_us() - t0;
        }
        summary("match after the updates", t, again, "ms", 1e-3);
        match_index_stats(ix, &st);
        printf("bytes per subscription after   %.1f (%zu subscriptions)\n",
               (double)st.bytes / (double)st.subscriptions, st.subscriptions);
    }

    free(out);
    free(m);
    free(t);
    match_index_free(ix);
    for (size_t i = 0; i < nrel; i++) {
        match_doc_free(docs[i]);
        core_release_clear(&rel[i]);
    }
    free(docs);
    free(rel);
    if (kept) {
        for (size_t i = 0; i < 2 * nsubs; i++)
            match_filter_clear(&kept[i]);
        free(kept);
    }
    for (uint32_t i = 0; i < VOCABULARY; i++)
        free(vocab[i]);
    for (uint32_t i = 0; i < PHRASES; i++)
        free(phrases[i]);
    return 0;
}
