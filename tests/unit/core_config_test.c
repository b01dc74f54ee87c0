/* core_config_test.c -- settings precedence and parsing; query strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core_config.h"
#include "net/net_query.h"

static core_cfg_opt_t opts[] = {
    {"listen", "KAWAT_TEST_LISTEN", CFG_STRING, "127.0.0.1:8080", "h", 0, 0, 0},
    {"max-body", "KAWAT_TEST_MAX_BODY", CFG_SIZE, "1m", "h", 0, 0, 0},
    {"idle-timeout", "KAWAT_TEST_IDLE", CFG_MS, "60s", "h", 0, 0, 0},
    {"demo", "KAWAT_TEST_DEMO", CFG_BOOL, "false", "h", 0, 0, 0},
};

static void test_precedence(void **state)
{
    (void)state;
    char path[] = "/tmp/kawat-cfg-XXXXXX", err[256];
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "# comment\nlisten = 127.0.0.1:1\nmax-body = 2k\nidle-timeout = 5s\n");
    fclose(f);
    setenv("KAWAT_TEST_LISTEN", "127.0.0.1:2", 1);
    char cfgflag[64];
    snprintf(cfgflag, sizeof(cfgflag), "--config=%s", path);
    char *argv[] = {cfgflag, "--idle-timeout", "250ms", "--demo"};
    assert_int_equal(core_config_load(opts, 4, 4, argv, err, sizeof(err)), KW_OK);
    assert_string_equal(opts[0].str, "127.0.0.1:2"); /* env beats file */
    assert_int_equal(opts[1].num, 2048);             /* file beats default */
    assert_int_equal(opts[2].num, 250);              /* flag beats file */
    assert_int_equal(opts[3].num, 1);                /* bare bool flag */
    core_config_free(opts, 4);
    unsetenv("KAWAT_TEST_LISTEN");
    unlink(path);
}

static void test_errors(void **state)
{
    (void)state;
    char err[256];
    char *bad_size[] = {"--max-body", "lots"};
    assert_int_equal(core_config_load(opts, 4, 2, bad_size, err, sizeof(err)), KW_INVALID);
    assert_non_null(strstr(err, "max-body"));
    core_config_free(opts, 4);
    char *unknown[] = {"--nope"};
    assert_int_equal(core_config_load(opts, 4, 1, unknown, err, sizeof(err)), KW_INVALID);
    assert_non_null(strstr(err, "nope"));
    core_config_free(opts, 4);
    char *help[] = {"--help"};
    assert_int_equal(core_config_load(opts, 4, 1, help, err, sizeof(err)), KW_DECLINED);
    core_config_free(opts, 4);
    char *missing[] = {"--listen"};
    assert_int_equal(core_config_load(opts, 4, 1, missing, err, sizeof(err)), KW_INVALID);
    core_config_free(opts, 4);
}

static void test_query(void **state)
{
    (void)state;
    net_params_t p;
    char field[64];
    const char *q = "language=id&sector=Top+Story&sector=top%2Dstory&empty=&flag";
    assert_int_equal(net_query_parse((kw_str_t){q, strlen(q)}, &p, field, sizeof(field)), KW_OK);
    assert_string_equal(net_query_get(&p, "sector"), "Top Story");
    assert_int_equal(net_query_count(&p, "sector"), 2);
    assert_string_equal(net_query_get(&p, "empty"), "");
    assert_string_equal(net_query_get(&p, "flag"), "");
    static const char *const allowed[] = {"language", "sector", NULL};
    const char *bad;
    assert_false(net_query_only(&p, allowed, &bad));
    assert_string_equal(bad, "empty");
    net_query_free(&p);

    const char *bads[] = {"a=%zz", "a=%4", "a=%00", "a=%ff", "%ff=1", "a=%"};
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
        assert_int_equal(
            net_query_parse((kw_str_t){bads[i], strlen(bads[i])}, &p, field, sizeof(field)),
            KW_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
