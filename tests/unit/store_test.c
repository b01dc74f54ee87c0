/* store_test.c -- the SQLite store on a real database in a temporary
 * folder: migrations, the release life cycle, the wire log, idempotency,
 * the scheduler's pass, and group commit through the writer thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

typedef struct {
    char dir[64];
    store_t *s;
    core_principal_t issuer;
    core_principal_t editor;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    char err[256];
    strcpy(f->dir, "/tmp/kawat-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(store_open(f->dir, &f->s, err, sizeof(err)), KW_OK);

    store_op_t *op = store_op_new(STORE_OP_ISSUER_ENSURE, NULL, NULL);
    op->input = json_pack("{s:s}", "name", "Acme Widgets");
    assert_int_equal(store_exec(f->s, op), KW_OK);
    f->issuer.role = ROLE_ISSUER;
    strcpy(f->issuer.user_id, "u1");
    strcpy(f->issuer.issuer_id, json_string_value(json_object_get(op->output, "id")));
    store_op_free(op);
    f->editor.role = ROLE_EDITOR;
    strcpy(f->editor.user_id, "u2");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    char cmd[128];
    store_close(f->s);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* Creates a release; returns its id in out. */
static void create(fixture_t *f, const char *headline, const char *extra, char *out)
{
    char json[512];
    snprintf(json, sizeof(json),
             "{\"headline\":\"%s\",\"body\":\"Body\",\"language\":\"en\","
             "\"sectors\":[\"Top Story\"],\"regions\":[\"ID\"]%s}",
             headline, extra ? extra : "");
    store_op_t *op = store_op_new(STORE_OP_RELEASE_CREATE, NULL, NULL);
    op->who = f->issuer;
    op->input = json_loads(json, 0, NULL);
    assert_int_equal(store_exec(f->s, op), KW_OK);
    assert_int_equal(op->release->state, REL_DRAFT);
    assert_string_equal(op->release->issuer_name, "Acme Widgets");
    strcpy(out, op->release->id);
    store_op_free(op);
}

static int act(fixture_t *f, const char *id, core_action_t a, const core_principal_t *who,
               int64_t *seq)
{
    store_op_t *op = store_op_new(STORE_OP_RELEASE_ACT, NULL, NULL);
    op->who = *who;
    op->action = a;
    strcpy(op->release_id, id);
    if (a == ACT_REJECT) op->input = json_pack("{s:s}", "reason", "Needs a source");
    if (a == ACT_CORRECT) op->input = json_pack("{s:s, s:s}", "note", "Typo", "headline", "Fixed");
    int rc = store_exec(f->s, op);
    if (seq) *seq = op->last_seq;
    store_op_free(op);
    return rc;
}

static void test_migrated_and_seeded(void **state)
{
    fixture_t *f = *state;
    assert_string_equal(store_sector_resolve(f->s, "Top Story"), "top-story");
    assert_string_equal(store_sector_resolve(f->s, "daily news"), "daily-news");
    assert_null(store_sector_resolve(f->s, "Gardening"));
    char v[16];
    assert_int_equal(store_meta_get(f->s, "schema_version", v, sizeof(v)), KW_OK);
    assert_string_equal(v, "1");
}

static void test_life_cycle_and_wire(void **state)
{
    fixture_t *f = *state;
    char a[32], b[32];
    int64_t s1 = 0, s2 = 0, s3 = 0, s4 = 0;
    create(f, "First", NULL, a);
    create(f, "Second", NULL, b);
    core_principal_t other = f->issuer;
    strcpy(other.issuer_id, "iOther");

    assert_int_equal(act(f, a, ACT_APPROVE, &f->editor, NULL), KW_CONFLICT); /* a draft */
    assert_int_equal(act(f, a, ACT_SUBMIT, &other, NULL), KW_NOTFOUND);      /* not theirs */
    assert_int_equal(act(f, a, ACT_SUBMIT, &f->issuer, NULL), KW_OK);
    assert_int_equal(act(f, a, ACT_APPROVE, &f->issuer, NULL), KW_FORBIDDEN);
    assert_int_equal(act(f, a, ACT_APPROVE, &f->editor, &s1), KW_OK);
    assert_int_equal(act(f, b, ACT_SUBMIT, &f->issuer, NULL), KW_OK);
    assert_int_equal(act(f, b, ACT_REJECT, &f->editor, NULL), KW_OK);
    assert_int_equal(act(f, b, ACT_SUBMIT, &f->issuer, NULL), KW_OK);
    assert_int_equal(act(f, b, ACT_APPROVE, &f->editor, &s2), KW_OK);
    assert_int_equal(act(f, a, ACT_CORRECT, &f->issuer, &s3), KW_OK);
    assert_int_equal(act(f, b, ACT_WITHDRAW, &f->editor, &s4), KW_OK);
    assert_true(s1 > 0 && s2 > s1 && s3 > s2 && s4 > s3);

    store_event_t *ev;
    size_t n;
    assert_int_equal(store_wire_read(f->s, 0, 100, &ev, &n), KW_OK);
    assert_int_equal(n, 4);
    assert_string_equal(ev[0].kind, "publish");
    assert_string_equal(ev[2].kind, "correction");
    assert_string_equal(ev[3].kind, "withdrawal");
    assert_int_equal(ev[3].release->state, REL_WITHDRAWN);
    store_events_free(ev, n);
    assert_int_equal(store_wire_last_seq(f->s), s4);

    core_release_t *r;
    assert_int_equal(store_release_get(f->s, a, &r), KW_OK);
    assert_int_equal(r->state, REL_CORRECTED);
    assert_int_equal(r->version, 2);
    assert_string_equal(r->headline, "Fixed");
    core_release_free(r);
    json_t *versions = store_release_versions(f->s, a);
    assert_int_equal(json_array_size(versions), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(versions, 0), "headline")),
                        "First");
    json_decref(versions);

    /* Public list: only a (b is withdrawn). */
    store_query_t q = {.scope = STORE_SCOPE_PUBLIC, .sector = "top-story", .limit = 10};
    core_release_t **items;
    int64_t next;
    assert_int_equal(store_release_list(f->s, &q, &items, &n, &next), KW_OK);
    assert_int_equal(n, 1);
    assert_string_equal(items[0]->id, a);
    core_release_free(items[0]);
    free(items);
}

static void test_idempotency(void **state)
{
    fixture_t *f = *state;
    char first[32] = "";
    for (int i = 0; i < 3; i++) {
        store_op_t *op = store_op_new(STORE_OP_RELEASE_CREATE, NULL, NULL);
        op->who = f->issuer;
        op->input = json_pack("{s:s, s:s, s:s}", "headline", "Once", "body", "B", "language", "en");
        strcpy(op->idem_key, "key-1");
        strcpy(op->idem_hash, i == 2 ? "other" : "same");
        int rc = store_exec(f->s, op);
        if (i == 0) {
            assert_int_equal(rc, KW_OK);
            strcpy(first, op->release->id);
        } else if (i == 1) {
            assert_int_equal(rc, KW_OK);
            assert_true(op->idem_replay);
            assert_string_equal(op->release->id, first);
        } else {
            assert_int_equal(rc, KW_CONFLICT);
        }
        store_op_free(op);
    }
}

static void test_publish_due_never_early(void **state)
{
    fixture_t *f = *state;
    char id[32], extra[96], when[40];
    int64_t due = kw_now_ms() + 400;
    time_t secs = (time_t)(due / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(extra, sizeof(extra), ",\"publish_at\":\"%s.%03dZ\"", when, (int)(due % 1000));
    create(f, "Later", extra, id);
    assert_int_equal(act(f, id, ACT_SUBMIT, &f->issuer, NULL), KW_OK);
    assert_int_equal(act(f, id, ACT_APPROVE, &f->editor, NULL), KW_OK);
    assert_int_equal(store_next_due(f->s), due);

    store_op_t *op = store_op_new(STORE_OP_PUBLISH_DUE, NULL, NULL);
    assert_int_equal(store_exec(f->s, op), KW_OK);
    assert_int_equal(op->published, 0); /* not before its instant */
    store_op_free(op);
    usleep(500 * 1000);
    op = store_op_new(STORE_OP_PUBLISH_DUE, NULL, NULL);
    assert_int_equal(store_exec(f->s, op), KW_OK);
    assert_int_equal(op->published, 1);
    store_op_free(op);
    op = store_op_new(STORE_OP_PUBLISH_DUE, NULL, NULL);
    assert_int_equal(store_exec(f->s, op), KW_OK);
    assert_int_equal(op->published, 0); /* exactly once */
    store_op_free(op);
    core_release_t *r;
    assert_int_equal(store_release_get(f->s, id, &r), KW_OK);
    assert_int_equal(r->state, REL_PUBLISHED);
    assert_true(r->published_at >= due);
    core_release_free(r);
    assert_int_equal(store_next_due(f->s), 0);
}

static int done_count;

static void on_done(store_op_t *op)
{
    assert_int_equal(op->rc, KW_OK);
    done_count++;
    store_op_free(op);
}

static void test_writer_group_commit(void **state)
{
    fixture_t *f = *state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    assert_int_equal(store_writer_start(f->s, &loop), KW_OK);
    done_count = 0;
    enum { N = 300 };
    for (int i = 0; i < N; i++) {
        store_op_t *op = store_op_new(STORE_OP_RELEASE_CREATE, on_done, NULL);
        op->who = f->issuer;
        op->input = json_pack("{s:s, s:s, s:s}", "headline", "Burst", "body", "B", "language", "id");
        store_submit(f->s, op);
    }
    while (done_count < N) uv_run(&loop, UV_RUN_ONCE);
    store_stats_t st;
    store_get_stats(f->s, &st);
    assert_int_equal(st.write_ops, N);
    assert_true(st.write_batches >= 1 && st.write_batches <= N);
    store_writer_stop(f->s);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);

    /* Everything acknowledged is there after a reopen. */
    char err[256];
    store_close(f->s);
    assert_int_equal(store_open(f->dir, &f->s, err, sizeof(err)), KW_OK);
    store_query_t q = {.scope = STORE_SCOPE_ALL, .states_mask = 1u << REL_DRAFT,
                       .language = "id", .limit = 100};
    size_t total = 0, n;
    core_release_t **items;
    int64_t next;
    do {
        assert_int_equal(store_release_list(f->s, &q, &items, &n, &next), KW_OK);
        for (size_t i = 0; i < n; i++) core_release_free(items[i]);
        free(items);
        total += n;
        q.cursor = next;
    } while (next);
    assert_int_equal(total, N);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrated_and_seeded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_life_cycle_and_wire, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_due_never_early, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_group_commit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
