/* store_test.c -- the SQLite store on a real database in a temporary
 * folder: migrations, the release life cycle, the wire log, idempotency,
 * the scheduler's pass, group commit through the writer thread, and
 * subscribers with their users and tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
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
    /* Every migration applied (the trunk, subscribers, the portal's index,
     * WebSub, and those after), and reopening applies none twice. */
    int version = atoi(v);
    assert_true(version >= 4);
    char err[256];
    store_close(f->s);
    assert_int_equal(store_open(f->dir, &f->s, err, sizeof(err)), KW_OK);
    assert_int_equal(store_meta_get(f->s, "schema_version", v, sizeof(v)), KW_OK);
    assert_int_equal(atoi(v), version);
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

/* ---- subscribers ---- */

/* Signs up a subscriber as who with a new token; returns the op's rc and,
 * on success, the subscriber (caller frees) and the token. */
static int sub_create(fixture_t *f, const core_principal_t *who, json_t *input,
                      store_subscriber_t **out, char token[AUTH_TOKEN_SIZE])
{
    char tok[AUTH_TOKEN_SIZE], hash[AUTH_HEX_SIZE];
    auth_token_generate(tok, sizeof(tok));
    auth_token_hash(tok, strlen(tok), hash);
    json_object_set_new(input, "token_hash", json_string(hash));
    store_op_t *op = store_op_new(STORE_OP_SUBSCRIBER_CREATE, NULL, NULL);
    if (who) op->who = *who;
    op->input = input;
    int rc = store_exec(f->s, op);
    if (rc == KW_OK) {
        assert_non_null(op->subscriber);
        assert_non_null(op->output);
        /* The op's JSON carries the matcher's number. */
        assert_int_equal(json_integer_value(json_object_get(op->output, "num")),
                         op->subscriber->num);
        if (out) {
            *out = op->subscriber;
            op->subscriber = NULL;
        }
        if (token) strcpy(token, tok);
    }
    store_op_free(op);
    return rc;
}

static json_t *desk(const char *name)
{
    return json_pack("{s:s, s:s, s:[{s:[s], s:[s]}]}", "kind", "desktop", "name", name,
                     "filters", "languages", "en", "sectors", "business");
}

static int sub_op(fixture_t *f, store_op_kind_t kind, const core_principal_t *who, const char *id,
                  json_t *input, store_op_t **keep)
{
    store_op_t *op = store_op_new(kind, NULL, NULL);
    op->who = *who;
    op->input = input;
    strcpy(op->subscriber_id, id);
    int rc = store_exec(f->s, op);
    if (keep)
        *keep = op;
    else
        store_op_free(op);
    return rc;
}

static core_principal_t principal_of(fixture_t *f, const char *token)
{
    char hash[AUTH_HEX_SIZE];
    core_principal_t who;
    auth_token_hash(token, strlen(token), hash);
    assert_int_equal(store_principal_by_token(f->s, hash, &who), KW_OK);
    return who;
}

static void test_subscriber_create_and_token(void **state)
{
    fixture_t *f = *state;
    core_principal_t anonymous = {.role = ROLE_NONE};
    store_subscriber_t *sub;
    char token[AUTH_TOKEN_SIZE];
    json_t *in = desk("Desk One");
    json_object_set_new(in, "email", json_string("desk@example.com"));
    assert_int_equal(sub_create(f, &anonymous, in, &sub, token), KW_OK);
    assert_true(sub->num > 0);
    assert_int_equal(sub->id[0], 's');
    assert_int_equal(strlen(sub->id), 16);
    assert_string_equal(sub->kind, "desktop");
    assert_string_equal(sub->name, "Desk One");
    assert_string_equal(sub->email, "desk@example.com");
    assert_false(sub->trusted);
    assert_int_equal(json_array_size(sub->filters), 1);
    assert_true(sub->created_at > 0 && sub->updated_at == sub->created_at);

    /* Its token is a subscriber user's, linked to it. */
    core_principal_t who = principal_of(f, token);
    assert_int_equal(who.role, ROLE_SUBSCRIBER);
    assert_string_equal(who.subscriber_id, sub->id);
    assert_string_equal(who.user_id, sub->user_id);
    assert_string_equal(who.name, "Desk One");

    store_subscriber_t *got;
    assert_int_equal(store_subscriber_get(f->s, sub->id, &got), KW_OK);
    assert_int_equal(got->num, sub->num);
    assert_string_equal(got->email, "desk@example.com");
    json_t *j = store_subscriber_json(got);
    assert_string_equal(json_string_value(json_object_get(j, "id")), sub->id);
    assert_true(json_is_false(json_object_get(j, "trusted")));
    assert_non_null(json_string_value(json_object_get(j, "created_at")));
    json_decref(j);
    store_subscriber_free(got);
    assert_int_equal(store_subscriber_get(f->s, "s0000000000000000", &got), KW_NOTFOUND);
    store_subscriber_free(sub);

    /* Shape checks: a missing kind, an unknown field, no filters. */
    in = json_pack("{s:s, s:[], s:i}", "name", "X", "filters", "colour", 3);
    store_op_t *op = store_op_new(STORE_OP_SUBSCRIBER_CREATE, NULL, NULL);
    op->input = in;
    json_object_set_new(in, "token_hash", json_string(
        "0000000000000000000000000000000000000000000000000000000000000000"));
    assert_int_equal(store_exec(f->s, op), KW_INVALID);
    assert_true(op->errs.count >= 3);
    store_op_free(op);

    /* Users that are not subscribers have no subscriber id. */
    op = store_op_new(STORE_OP_USER_ADD, NULL, NULL);
    op->input = json_pack("{s:s, s:s}", "name", "Plain Reader", "role", "subscriber");
    assert_int_equal(store_exec(f->s, op), KW_OK);
    char uid[32];
    strcpy(uid, json_string_value(json_object_get(op->output, "id")));
    store_op_free(op);
    char tok[AUTH_TOKEN_SIZE], hash[AUTH_HEX_SIZE];
    auth_token_generate(tok, sizeof(tok));
    auth_token_hash(tok, strlen(tok), hash);
    op = store_op_new(STORE_OP_TOKEN_CREATE, NULL, NULL);
    op->input = json_pack("{s:s, s:s}", "user_id", uid, "token_hash", hash);
    assert_int_equal(store_exec(f->s, op), KW_OK);
    store_op_free(op);
    core_principal_t plain = principal_of(f, tok);
    assert_int_equal(plain.role, ROLE_SUBSCRIBER);
    assert_string_equal(plain.subscriber_id, "");
}

static void test_subscriber_trusted_only_by_editors(void **state)
{
    fixture_t *f = *state;
    core_principal_t anonymous = {.role = ROLE_NONE};
    json_t *in = desk("Trusted Desk");
    json_object_set_new(in, "trusted", json_true());
    assert_int_equal(sub_create(f, &anonymous, json_deep_copy(in), NULL, NULL), KW_FORBIDDEN);
    assert_int_equal(sub_create(f, &f->issuer, json_deep_copy(in), NULL, NULL), KW_FORBIDDEN);
    store_subscriber_t *sub;
    char token[AUTH_TOKEN_SIZE];
    assert_int_equal(sub_create(f, &f->editor, in, &sub, token), KW_OK);
    assert_true(sub->trusted);

    /* The subscriber may change itself, but not its trust. */
    core_principal_t self = principal_of(f, token);
    store_op_t *op;
    assert_int_equal(sub_op(f, STORE_OP_SUBSCRIBER_UPDATE, &self, sub->id,
                            json_pack("{s:b}", "trusted", 0), &op), KW_FORBIDDEN);
    assert_string_equal(op->errs.items[0].field, "trusted");
    store_op_free(op);
    assert_int_equal(sub_op(f, STORE_OP_SUBSCRIBER_UPDATE, &f->editor, sub->id,
                            json_pack("{s:b}", "trusted", 0), &op), KW_OK);
    assert_false(op->subscriber->trusted);
    assert_int_equal(op->subscriber->num, sub->num);
    store_op_free(op);
    store_subscriber_free(sub);
}

static void test_subscriber_update_by_owner_only(void **state)
{
    fixture_t *f = *state;
    store_subscriber_t *a, *b;
    char ta[AUTH_TOKEN_SIZE], tb[AUTH_TOKEN_SIZE];
    assert_int_equal(sub_create(f, NULL, desk("Alpha"), &a, ta), KW_OK);
    assert_int_equal(sub_create(f, NULL, desk("Beta"), &b, tb), KW_OK);
    core_principal_t pa = principal_of(f, ta), pb = principal_of(f, tb);

    /* Another subscriber, an issuer and an unknown id: all "not found". */
    json_t *change = json_pack("{s:s}", "name", "Hijacked");
    assert_int_equal(sub_op(f, STORE_OP_SUBSCRIBER_UPDATE, &pb, a->id, json_deep_copy(change), NULL),
                     KW_NOTFOUND);
    assert_int_equal(sub_op(f, STORE_OP_SUBSCRIBER_UPDATE, &f->issuer, a->id,
                            json_deep_copy(change), NULL), KW_NOTFOUND);
    assert_int_equal(sub_op(f, STORE_OP_SUBSCRIBER_DELETE, &pb, a->id, NULL, NULL), KW_NOTFOUND);
    assert_int_equal(sub_op(f, STORE_OP_SUBSCRIBER_UPDATE, &f->editor, "snotthere0000000",
                            change, NULL), KW_NOTFOUND);

    /* The owner changes name, kind, e-mail and filters; the user follows. */
    store_op_t *op;
    json_t *in = json_pack("{s:s, s:s, s:s, s:[{s:[s]}, {s:[s, s]}]}", "name", "Alpha Desk", "kind",
                           "journalist", "email", "alpha@example.com", "filters", "regions", "ID",
                           "keywords", "coffee", "tea");
    assert_int_equal(sub_op(f, STORE_OP_SUBSCRIBER_UPDATE, &pa, a->id, in, &op), KW_OK);
    assert_string_equal(op->subscriber->name, "Alpha Desk");
    assert_string_equal(op->subscriber->kind, "journalist");
    assert_int_equal(json_array_size(op->subscriber->filters), 2);
    assert_int_equal(op->subscriber->num, a->num);
    assert_true(op->subscriber->updated_at >= a->updated_at);
    store_op_free(op);
    core_principal_t again = principal_of(f, ta);
    assert_string_equal(again.name, "Alpha Desk");

    /* Clearing the e-mail; a bad kind changes nothing. */
    assert_int_equal(sub_op(f, STORE_OP_SUBSCRIBER_UPDATE, &pa, a->id,
                            json_pack("{s:n}", "email"), &op), KW_OK);
    assert_null(op->subscriber->email);
    store_op_free(op);
    assert_int_equal(sub_op(f, STORE_OP_SUBSCRIBER_UPDATE, &pa, a->id,
                            json_pack("{s:s, s:s}", "kind", "robot", "name", "Zed"), &op),
                     KW_INVALID);
    assert_string_equal(op->errs.items[0].field, "kind");
    store_op_free(op);
    store_subscriber_t *got;
    assert_int_equal(store_subscriber_get(f->s, a->id, &got), KW_OK);
    assert_string_equal(got->name, "Alpha Desk");
    store_subscriber_free(got);
    store_subscriber_free(a);
    store_subscriber_free(b);
}

static void test_subscriber_delete_revokes(void **state)
{
    fixture_t *f = *state;
    store_subscriber_t *a, *b, *c;
    char ta[AUTH_TOKEN_SIZE], tb[AUTH_TOKEN_SIZE];
    assert_int_equal(sub_create(f, NULL, desk("Keep"), &a, ta), KW_OK);
    assert_int_equal(sub_create(f, NULL, desk("Go"), &b, tb), KW_OK);
    core_principal_t pb = principal_of(f, tb);
    store_op_t *op;
    assert_int_equal(sub_op(f, STORE_OP_SUBSCRIBER_DELETE, &pb, b->id, NULL, &op), KW_OK);
    /* The op says which number the matcher drops. */
    assert_non_null(op->subscriber);
    assert_int_equal(op->subscriber->num, b->num);
    assert_int_equal(json_integer_value(json_object_get(op->output, "num")), b->num);
    store_op_free(op);

    core_principal_t who;
    char hash[AUTH_HEX_SIZE];
    auth_token_hash(tb, strlen(tb), hash);
    assert_int_equal(store_principal_by_token(f->s, hash, &who), KW_NOTFOUND);
    store_subscriber_t *got = NULL;
    assert_int_equal(store_subscriber_get(f->s, b->id, &got), KW_NOTFOUND);
    assert_int_equal(sub_op(f, STORE_OP_SUBSCRIBER_DELETE, &f->editor, b->id, NULL, NULL),
                     KW_NOTFOUND);
    (void)principal_of(f, ta); /* the other one's token still works */

    /* A deleted subscriber's number is never given to another. */
    assert_int_equal(sub_create(f, NULL, desk("New"), &c, NULL), KW_OK);
    assert_true(c->num > b->num);
    store_subscriber_free(a);
    store_subscriber_free(b);
    store_subscriber_free(c);
}

typedef struct {
    size_t count;
    uint32_t last;
    int ordered;
    size_t stop_after;
} each_t;

static int count_each(const store_subscriber_t *sub, void *arg)
{
    each_t *e = arg;
    if (sub->num <= e->last) e->ordered = 0;
    e->last = sub->num;
    assert_true(json_is_array(sub->filters));
    assert_non_null(sub->name);
    e->count++;
    return e->stop_after && e->count == e->stop_after ? KW_DECLINED : KW_OK;
}

static void test_subscribers_each_and_list(void **state)
{
    fixture_t *f = *state;
    enum { N = 2000 };
    /* Many at once through one transaction-per-op exec is slow; a writer
     * batch is what production does, so use it. */
    uv_loop_t loop;
    uv_loop_init(&loop);
    assert_int_equal(store_writer_start(f->s, &loop), KW_OK);
    done_count = 0;
    for (int i = 0; i < N; i++) {
        char name[32], hash[AUTH_HEX_SIZE];
        snprintf(name, sizeof(name), "Desk %d", i);
        auth_token_hash(name, strlen(name), hash);
        store_op_t *op = store_op_new(STORE_OP_SUBSCRIBER_CREATE, on_done, NULL);
        op->input = desk(name);
        if (i % 4 == 0) json_object_set_new(op->input, "kind", json_string("outlet"));
        json_object_set_new(op->input, "token_hash", json_string(hash));
        store_submit(f->s, op);
    }
    while (done_count < N) uv_run(&loop, UV_RUN_ONCE);
    store_writer_stop(f->s);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);

    each_t e = {.ordered = 1};
    int64_t t0 = kw_now_ms();
    assert_int_equal(store_subscribers_each(f->s, count_each, &e), KW_OK);
    int64_t took = kw_now_ms() - t0;
    assert_int_equal(e.count, N);
    assert_true(e.ordered);
    print_message("store_subscribers_each: %d subscribers in %lld ms\n", N, (long long)took);
    e = (each_t){.ordered = 1, .stop_after = 10};
    assert_int_equal(store_subscribers_each(f->s, count_each, &e), KW_DECLINED);
    assert_int_equal(e.count, 10);

    /* Pages of outlets, newest first, every one once. */
    size_t total = 0, n;
    int64_t cursor = 0, next;
    uint32_t prev = UINT32_MAX;
    do {
        store_subscriber_t **items;
        assert_int_equal(store_subscriber_list(f->s, "outlet", cursor, 100, &items, &n, &next),
                         KW_OK);
        for (size_t i = 0; i < n; i++) {
            assert_string_equal(items[i]->kind, "outlet");
            assert_true(items[i]->num < prev);
            prev = items[i]->num;
            store_subscriber_free(items[i]);
        }
        free(items);
        total += n;
        cursor = next;
    } while (next);
    assert_int_equal(total, N / 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrated_and_seeded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_life_cycle_and_wire, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_due_never_early, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_group_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscriber_create_and_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscriber_trusted_only_by_editors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscriber_update_by_owner_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscriber_delete_revokes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscribers_each_and_list, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
