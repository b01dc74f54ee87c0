/* core_release_test.c -- validation, the state machine and visibility. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/core_release.h"

static const char *resolve(void *ctx, const char *name)
{
    (void)ctx;
    if (strcmp(name, "Business") == 0 || strcmp(name, "business") == 0) return "business";
    if (strcmp(name, "Top Story") == 0 || strcmp(name, "top-story") == 0) return "top-story";
    return NULL;
}

static int has_error(const core_errors_t *e, const char *field)
{
    for (size_t i = 0; i < e->count; i++)
        if (strcmp(e->items[i].field, field) == 0) return 1;
    return 0;
}

static int apply_text(core_release_t *r, const char *json, int creating, core_errors_t *errs)
{
    json_t *in = json_loads(json, 0, NULL);
    assert_non_null(in);
    int rc = core_release_apply(r, in, creating, 1000, resolve, NULL, errs);
    json_decref(in);
    return rc;
}

static void test_valid_create(void **state)
{
    (void)state;
    core_release_t r;
    core_errors_t errs = {0};
    core_release_init(&r);
    assert_int_equal(apply_text(&r,
                                "{\"headline\":\"Hi\",\"body\":\"Text\",\"language\":\"ZH-hans\","
                                "\"sectors\":[\"Top Story\",\"business\",\"top-story\"],"
                                "\"regions\":[\"id\",\"MY\"],\"contacts\":[{\"name\":\"A\","
                                "\"email\":\"a@example.com\"}],"
                                "\"embargo_until\":\"2030-01-01T09:00:00+07:00\"}",
                                1, &errs),
                     KW_OK);
    assert_string_equal(r.language, "zh-Hans");
    assert_int_equal(json_array_size(r.sectors), 2); /* duplicates folded */
    assert_string_equal(json_string_value(json_array_get(r.regions, 0)), "ID");
    assert_int_equal(r.embargo_until, 1893463200000LL); /* 2030-01-01T02:00:00Z */
    core_release_clear(&r);
}

static void test_errors_name_fields(void **state)
{
    (void)state;
    core_release_t r;
    core_errors_t errs = {0};
    core_release_init(&r);
    assert_int_equal(apply_text(&r,
                                "{\"headlne\":\"x\",\"body\":5,\"language\":\"xx\","
                                "\"sectors\":[\"Business\",\"Nope\"],\"regions\":[\"ZZ\"],"
                                "\"embargo_until\":\"tomorrow\"}",
                                1, &errs),
                     KW_INVALID);
    assert_true(has_error(&errs, "headlne"));
    assert_true(has_error(&errs, "headline"));
    assert_true(has_error(&errs, "body"));
    assert_true(has_error(&errs, "language"));
    assert_true(has_error(&errs, "sectors[1]"));
    assert_true(has_error(&errs, "regions[0]"));
    assert_true(has_error(&errs, "embargo_until"));
    core_release_clear(&r);
}

static void test_past_embargo_and_controls(void **state)
{
    (void)state;
    core_release_t r;
    core_errors_t errs = {0};
    core_release_init(&r);
    assert_int_equal(apply_text(&r,
                                "{\"headline\":\"a\\u0007b\",\"body\":\"x\",\"language\":\"en\","
                                "\"publish_at\":\"1970-01-01T00:00:00Z\"}",
                                1, &errs),
                     KW_INVALID);
    assert_true(has_error(&errs, "headline"));
    assert_true(has_error(&errs, "publish_at"));
    core_release_clear(&r);
}

static core_principal_t principal(core_role_t role, const char *issuer)
{
    core_principal_t p = {.role = role};
    if (issuer) strcpy(p.issuer_id, issuer);
    return p;
}

static void test_state_machine(void **state)
{
    (void)state;
    core_release_t r;
    core_release_init(&r);
    strcpy(r.issuer_id, "iA");
    core_principal_t owner = principal(ROLE_ISSUER, "iA"), other = principal(ROLE_ISSUER, "iB"),
                     editor = principal(ROLE_EDITOR, NULL), system = principal(ROLE_ADMIN, NULL);
    core_state_t next;

    r.state = REL_DRAFT;
    assert_int_equal(core_release_transition(&r, ACT_SUBMIT, &owner, 0, &next), KW_OK);
    assert_int_equal(next, REL_SUBMITTED);
    assert_int_equal(core_release_transition(&r, ACT_SUBMIT, &other, 0, &next), KW_FORBIDDEN);
    assert_int_equal(core_release_transition(&r, ACT_APPROVE, &editor, 0, &next), KW_CONFLICT);

    r.state = REL_SUBMITTED;
    assert_int_equal(core_release_transition(&r, ACT_APPROVE, &owner, 0, &next), KW_FORBIDDEN);
    assert_int_equal(core_release_transition(&r, ACT_APPROVE, &editor, 100, &next), KW_OK);
    assert_int_equal(next, REL_PUBLISHED);
    r.embargo_until = 5000;
    assert_int_equal(core_release_transition(&r, ACT_APPROVE, &editor, 100, &next), KW_OK);
    assert_int_equal(next, REL_EMBARGOED);
    r.embargo_until = 0;
    r.publish_at = 5000;
    assert_int_equal(core_release_transition(&r, ACT_APPROVE, &editor, 100, &next), KW_OK);
    assert_int_equal(next, REL_SCHEDULED);

    /* Never early: the scheduler may publish only at or after the instant. */
    r.state = REL_SCHEDULED;
    assert_int_equal(core_release_transition(&r, ACT_PUBLISH, &system, 4999, &next), KW_CONFLICT);
    assert_int_equal(core_release_transition(&r, ACT_PUBLISH, &system, 5000, &next), KW_OK);
    assert_int_equal(core_release_transition(&r, ACT_PUBLISH, &editor, 6000, &next), KW_FORBIDDEN);

    r.state = REL_PUBLISHED;
    assert_int_equal(core_release_transition(&r, ACT_CORRECT, &owner, 0, &next), KW_OK);
    assert_int_equal(next, REL_CORRECTED);
    assert_int_equal(core_release_transition(&r, ACT_EDIT, &owner, 0, &next), KW_CONFLICT);
    assert_int_equal(core_release_transition(&r, ACT_WITHDRAW, &owner, 0, &next), KW_OK);
    assert_int_equal(next, REL_WITHDRAWN);
    r.state = REL_EMBARGOED;
    assert_int_equal(core_release_transition(&r, ACT_WITHDRAW, &owner, 0, &next), KW_OK);
    assert_int_equal(next, REL_DRAFT); /* pulled back, never public */
    r.state = REL_WITHDRAWN;
    assert_int_equal(core_release_transition(&r, ACT_CORRECT, &editor, 0, &next), KW_CONFLICT);
    core_release_clear(&r);
}

static void test_visibility(void **state)
{
    (void)state;
    core_release_t r;
    core_release_init(&r);
    strcpy(r.issuer_id, "iA");
    core_principal_t owner = principal(ROLE_ISSUER, "iA"), other = principal(ROLE_ISSUER, "iB"),
                     editor = principal(ROLE_EDITOR, NULL), anon = principal(ROLE_NONE, NULL),
                     sub = principal(ROLE_SUBSCRIBER, NULL);
    for (int s = 0; s < REL_STATE_COUNT_; s++) {
        r.state = (core_state_t)s;
        int pub = s == REL_PUBLISHED || s == REL_CORRECTED || s == REL_WITHDRAWN;
        assert_int_equal(core_release_visible(&r, &anon), pub);
        assert_int_equal(core_release_visible(&r, &sub), pub);
        assert_int_equal(core_release_visible(&r, &other), pub);
        assert_true(core_release_visible(&r, &owner));
        assert_true(core_release_visible(&r, &editor));
    }
    core_release_clear(&r);
}

static void test_correction(void **state)
{
    (void)state;
    core_release_t r;
    core_errors_t errs = {0};
    core_release_init(&r);
    assert_int_equal(apply_text(&r, "{\"headline\":\"Old\",\"body\":\"x\",\"language\":\"en\"}", 1,
                                &errs),
                     KW_OK);
    json_t *in = json_loads("{\"headline\":\"New\"}", 0, NULL);
    assert_int_equal(core_release_apply_correction(&r, in, resolve, NULL, &errs), KW_INVALID);
    assert_true(has_error(&errs, "note"));
    json_decref(in);
    errs.count = 0;
    in = json_loads("{\"note\":\"Fixed the figure\",\"language\":\"de\"}", 0, NULL);
    assert_int_equal(core_release_apply_correction(&r, in, resolve, NULL, &errs), KW_INVALID);
    assert_true(has_error(&errs, "language"));
    json_decref(in);
    errs.count = 0;
    in = json_loads("{\"note\":\"Fixed the figure\",\"headline\":\"New\"}", 0, NULL);
    assert_int_equal(core_release_apply_correction(&r, in, resolve, NULL, &errs), KW_OK);
    assert_string_equal(r.headline, "New");
    assert_string_equal(r.correction_note, "Fixed the figure");
    json_decref(in);
    core_release_clear(&r);
}

static void test_json_views(void **state)
{
    (void)state;
    core_release_t r;
    core_errors_t errs = {0};
    core_release_init(&r);
    apply_text(&r, "{\"headline\":\"H\",\"body\":\"secret body\",\"language\":\"en\"}", 1, &errs);
    strcpy(r.id, "rabc");
    r.state = REL_WITHDRAWN;
    r.rejection_reason = kw_strdup("nope");
    json_t *pub = core_release_to_json(&r, "http://x", 0);
    assert_null(json_object_get(pub, "body")); /* a tombstone */
    assert_null(json_object_get(pub, "headline"));
    assert_string_equal(json_string_value(json_object_get(pub, "url")), "http://x/en/releases/rabc");
    json_decref(pub);
    r.state = REL_PUBLISHED;
    pub = core_release_to_json(&r, "http://x", 0);
    assert_null(json_object_get(pub, "rejection_reason"));
    json_decref(pub);
    json_t *priv = core_release_to_json(&r, "http://x", 1);
    assert_string_equal(json_string_value(json_object_get(priv, "rejection_reason")), "nope");
    json_decref(priv);
    core_release_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_create),   cmocka_unit_test(test_errors_name_fields),
        cmocka_unit_test(test_past_embargo_and_controls), cmocka_unit_test(test_state_machine),
        cmocka_unit_test(test_visibility),     cmocka_unit_test(test_correction),
        cmocka_unit_test(test_json_views),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
