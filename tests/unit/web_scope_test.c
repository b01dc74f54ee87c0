/* web_scope_test.c -- portal paths into scopes, against a real store in a
 * temporary folder: canonical paths, what is a 404 (unknown language,
 * sector, region, issuer; impossible dates) and where another route's
 * words begin,
 * and which releases a scope lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/web.h"

typedef struct {
    char dir[64];
    kawat_app_t app;
    char issuer_id[32];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    char err[256];
    strcpy(f->dir, "/tmp/kawat-scope-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(f->dir, &f->app.store, err, sizeof(err)), KW_OK);
    store_op_t *op = store_op_new(STORE_OP_ISSUER_ENSURE, NULL, NULL);
    op->input = json_pack("{s:s}", "name", "PT Kopi Gayo Lestari");
    assert_int_equal(store_exec(f->app.store, op), KW_OK);
    strcpy(f->issuer_id, json_string_value(json_object_get(op->output, "id")));
    store_op_free(op);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    char cmd[128];
    store_close(f->app.store);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Parses "a/b/c" split on '/'; returns the rc, scope and used count. */
static int parse(fixture_t *f, const char *path, web_scope_t *scope, int *used)
{
    static char buf[256];
    kw_str_t seg[8];
    int n = 0;
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf; *p && n < 8;) {
        char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        seg[n].data = p;
        seg[n].len = len;
        n++;
        if (!slash) break;
        p = slash + 1;
    }
    return web_scope_parse(&f->app, seg, *path ? n : 0, scope, used);
}

static void expect_path(fixture_t *f, const char *in, const char *canonical, web_scope_kind_t kind,
                        int want_used)
{
    web_scope_t s;
    int used;
    assert_int_equal(parse(f, in, &s, &used), KW_OK);
    assert_string_equal(s.path, canonical);
    assert_int_equal(s.kind, kind);
    assert_int_equal(used, want_used);
    web_scope_clear(&s);
}

static void test_canonical_paths(void **state)
{
    fixture_t *f = *state;
    expect_path(f, "", "/", WEB_SCOPE_HOME, 0);
    expect_path(f, "id", "/id/", WEB_SCOPE_HOME, 1);
    expect_path(f, "zh-Hans", "/zh-Hans/", WEB_SCOPE_HOME, 1);
    expect_path(f, "id/sectors/business", "/id/sectors/business/", WEB_SCOPE_SECTOR, 3);
    expect_path(f, "sectors/business/rss.xml", "/sectors/business/", WEB_SCOPE_SECTOR, 2);
    expect_path(f, "ja/regions/JP", "/ja/regions/JP/", WEB_SCOPE_REGION, 3);
    expect_path(f, "en/issuers/pt-kopi-gayo-lestari", "/en/issuers/pt-kopi-gayo-lestari/",
                WEB_SCOPE_ISSUER, 3);
    expect_path(f, "en/archive", "/en/archive/", WEB_SCOPE_ARCHIVE, 2);
    expect_path(f, "en/archive/2024-02-29", "/en/archive/2024-02-29/", WEB_SCOPE_DAY, 3);
    expect_path(f, "en/atom.xml", "/en/", WEB_SCOPE_HOME, 1);

    web_scope_t s;
    int used;
    assert_int_equal(parse(f, "en/issuers/pt-kopi-gayo-lestari", &s, &used), KW_OK);
    assert_string_equal(s.issuer_id, f->issuer_id);
    assert_string_equal(s.issuer_name, "PT Kopi Gayo Lestari");
    web_scope_clear(&s);
    assert_int_equal(parse(f, "en/archive/2026-11-28", &s, &used), KW_OK);
    assert_int_equal(s.day_until - s.day_from, 86400000);
    assert_int_equal(s.day_from % 86400000, 0);
    web_scope_clear(&s);
}

static void test_not_found_and_other_words(void **state)
{
    fixture_t *f = *state;
    static const char *const missing[] = {
        "en/sectors/no-such-sector", "en/sectors/Business", /* names are not slugs */
        "en/regions/jp",             "en/regions/XX",     "en/issuers/nobody",
        "en/issuers/PT Kopi",        "en/archive/2026-02-30", "en/archive/2023-02-29",
        "en/archive/1969-12-31",     "en/archive/2026-13-01", "en/archive/2026-1x-01",
        "en/sectors",                "regions",           "archive",
    };
    for (size_t i = 0; i < sizeof(missing) / sizeof(*missing); i++) {
        web_scope_t s;
        int used;
        int rc = parse(f, missing[i], &s, &used);
        if (rc != KW_NOTFOUND) fail_msg("%s: rc %d", missing[i], rc);
        web_scope_clear(&s);
    }
    web_scope_t s;
    int used;
    /* Other words end the scope: the caller sees what follows. */
    assert_int_equal(parse(f, "static/kawat.css", &s, &used), KW_OK);
    assert_int_equal(used, 0);
    assert_int_equal(parse(f, "atom.xml", &s, &used), KW_OK);
    assert_int_equal(used, 0);
    assert_string_equal(s.path, "/");
    /* A language tag spelled otherwise is not a language scope (the
     * router sends it to the canonical spelling). */
    assert_int_equal(parse(f, "ID", &s, &used), KW_OK);
    assert_null(s.lang);
    assert_int_equal(used, 0);
    /* Inside a language, an unknown word ends the scope: the caller sees
     * what follows (a feed file or a 404). */
    assert_int_equal(parse(f, "en/releases/r1", &s, &used), KW_OK);
    assert_int_equal(used, 1);
}

static void test_matches(void **state)
{
    fixture_t *f = *state;
    core_release_t r = {0};
    strcpy(r.language, "id");
    strcpy(r.issuer_id, f->issuer_id);
    r.sectors = json_pack("[s]", "business");
    r.regions = json_pack("[s,s]", "ID", "JP");
    r.published_at = 1764288000000LL + 3600000; /* 2025-11-28 01:00 UTC */
    struct {
        const char *path;
        int match;
    } cases[] = {
        {"", 1},
        {"id", 1},
        {"en", 0},
        {"id/sectors/business", 1},
        {"id/sectors/technology", 0},
        {"regions/JP", 1},
        {"regions/DE", 0},
        {"issuers/pt-kopi-gayo-lestari", 1},
        {"id/archive/2025-11-28", 1},
        {"id/archive/2025-11-27", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        web_scope_t s;
        int used;
        assert_int_equal(parse(f, cases[i].path, &s, &used), KW_OK);
        if (web_scope_matches(&s, &r) != cases[i].match) fail_msg("%s", cases[i].path);
        store_query_t q;
        web_scope_query(&s, &q);
        assert_int_equal(q.scope, STORE_SCOPE_PUBLIC);
        web_scope_clear(&s);
    }
    json_decref(r.sectors);
    json_decref(r.regions);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_canonical_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found_and_other_words, setup, teardown),
        cmocka_unit_test_setup_teardown(test_matches, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
