/* report_test.c -- the distribution-report aggregate: the labels recipients
 * are counted under, and counts summed in memory, flushed through the
 * writer thread and added to what is stored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deliver/report.h"

static void label_of(const char *filters, report_label_t *l)
{
    json_error_t err;
    json_t *j = json_loads(filters, 0, &err);
    assert_non_null(j);
    report_label_json(j, l);
    json_decref(j);
}

static void test_labels_from_filters(void **state)
{
    report_label_t l;
    label_of("[]", &l);
    assert_string_equal(l.language, "any");
    assert_string_equal(l.country, "ZZ");
    label_of("[{}]", &l);
    assert_string_equal(l.language, "any");
    assert_string_equal(l.country, "ZZ");
    label_of("[{\"languages\": [\"id\"], \"regions\": [\"ID\"]}]", &l);
    assert_string_equal(l.language, "id");
    assert_string_equal(l.country, "ID");
    /* the same one value in every filter */
    label_of("[{\"languages\": [\"zh-Hant\"]}, {\"languages\": [\"zh-Hant\"], \"sectors\": "
             "[\"business\"]}]",
             &l);
    assert_string_equal(l.language, "zh-Hant");
    assert_string_equal(l.country, "ZZ");
    /* several values, or a filter that takes every language */
    label_of("[{\"languages\": [\"en\", \"ms\"], \"regions\": [\"MY\", \"SG\"]}]", &l);
    assert_string_equal(l.language, "any");
    assert_string_equal(l.country, "ZZ");
    label_of("[{\"languages\": [\"en\"], \"regions\": [\"MY\"]}, {\"keywords\": [\"tin\"]}]", &l);
    assert_string_equal(l.language, "any");
    assert_string_equal(l.country, "ZZ");

    /* match_filter_t gives the same answer */
    match_filter_t f[2];
    match_filter_init(&f[0]);
    match_filter_init(&f[1]);
    for (int i = 0; i < 2; i++) {
        f[i].languages = json_pack("[s]", "ja");
        f[i].regions = json_pack("[s]", "JP");
    }
    report_label_filters(f, 2, &l);
    assert_string_equal(l.language, "ja");
    assert_string_equal(l.country, "JP");
    report_label_filters(f, 0, &l);
    assert_string_equal(l.language, "any");
    match_filter_clear(&f[0]);
    match_filter_clear(&f[1]);
}

static int64_t stored(json_t *rows, const char *channel, int64_t minute, const char *language,
                      const char *country, const char *count)
{
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "channel")), channel) == 0 &&
            json_integer_value(json_object_get(r, "minute")) == minute &&
            strcmp(json_string_value(json_object_get(r, "language")), language) == 0 &&
            strcmp(json_string_value(json_object_get(r, "country")), country) == 0)
            return json_integer_value(json_object_get(r, count));
    }
    return -1;
}

/* Runs the loop until the writer has handed back every op. */
static void settle(uv_loop_t *loop)
{
    for (int i = 0; i < 50; i++) {
        uv_run(loop, UV_RUN_NOWAIT);
        usleep(10000);
    }
}

static void test_counts_are_summed_flushed_and_added(void **state)
{
    char dir[64] = "/tmp/kawat-report-XXXXXX", err[256];
    assert_non_null(mkdtemp(dir));
    store_t *s;
    assert_int_equal(store_open(dir, &s, err, sizeof(err)), KW_OK);
    uv_loop_t loop;
    uv_loop_init(&loop);
    assert_int_equal(store_writer_start(s, &loop), KW_OK);
    report_t *rep = report_start(&loop, s);
    assert_non_null(rep);

    const int64_t t = 1796000000000; /* a minute boundary plus change */
    const int64_t m = t / 60000;
    for (int i = 0; i < 1000; i++)
        report_add(rep, "rabc", REPORT_STREAM, "en", "ID", REPORT_DELIVERED, 1, t + i);
    report_add(rep, "rabc", REPORT_STREAM, "en", "ID", REPORT_MATCHED, 1000, t);
    report_add(rep, "rabc", REPORT_WEBSUB, NULL, "", REPORT_FAILED, 1, t);
    report_add(rep, "rabc", REPORT_EMAIL, "id", "ID", REPORT_DELIVERED, 2, t + 60000);
    report_add(rep, "rxyz", REPORT_EMAIL, "id", "ID", REPORT_DELIVERED, 7, t);
    report_add(NULL, "rabc", REPORT_EMAIL, "id", "ID", REPORT_DELIVERED, 7, t); /* off: no-op */
    report_stop(rep); /* submits what is held */
    settle(&loop);

    json_t *rows = store_report_counts(s, "rabc");
    assert_int_equal(stored(rows, "streams", m, "en", "ID", "delivered"), 1000);
    assert_int_equal(stored(rows, "streams", m, "en", "ID", "matched"), 1000);
    assert_int_equal(stored(rows, "websub", m, "any", "ZZ", "failed"), 1);
    assert_int_equal(stored(rows, "email", m + 1, "id", "ID", "delivered"), 2);
    assert_int_equal(json_array_size(rows), 3);
    json_decref(rows);

    /* A second aggregate adds to what is stored; a failure that recovers
     * takes its count back. */
    rep = report_start(&loop, s);
    report_add(rep, "rabc", REPORT_STREAM, "en", "ID", REPORT_DELIVERED, 5, t);
    report_add(rep, "rabc", REPORT_WEBSUB, "any", "ZZ", REPORT_FAILED, -1, t);
    report_add(rep, "rabc", REPORT_WEBSUB, "any", "ZZ", REPORT_DELIVERED, 1, t);
    report_stop(rep);
    settle(&loop);
    rows = store_report_counts(s, "rabc");
    assert_int_equal(stored(rows, "streams", m, "en", "ID", "delivered"), 1005);
    assert_int_equal(stored(rows, "websub", m, "any", "ZZ", "failed"), 0);
    assert_int_equal(stored(rows, "websub", m, "any", "ZZ", "delivered"), 1);
    json_decref(rows);
    rows = store_report_counts(s, "rxyz");
    assert_int_equal(stored(rows, "email", m, "id", "ID", "delivered"), 7);
    json_decref(rows);

    store_writer_stop(s);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_labels_from_filters),
        cmocka_unit_test(test_counts_are_summed_flushed_and_added),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
