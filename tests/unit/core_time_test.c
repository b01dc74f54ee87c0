/* core_time_test.c -- RFC 3339 parsing, RFC 3339 / HTTP formatting and
 * localized dates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/core_time.h"

static int64_t parse_ok(const char *z)
{
    int64_t ms = -12345;
    kw_str_t s = {z, strlen(z)};
    int rc = core_time_parse_rfc3339(s, &ms);
    if (rc != KW_OK) fail_msg("expected to parse: %s", z);
    return ms;
}

static void parse_bad(const char *z)
{
    int64_t ms = -12345;
    kw_str_t s = {z, strlen(z)};
    int rc = core_time_parse_rfc3339(s, &ms);
    if (rc != KW_INVALID) fail_msg("expected KW_INVALID: %s", z);
    assert_int_equal(ms, -12345);
}

static void test_parse_basic(void **state)
{
    assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(parse_ok("2026-11-28T16:28:06Z"), INT64_C(1795883286000));
    assert_int_equal(parse_ok("2026-11-28t16:28:06z"), INT64_C(1795883286000));
    assert_int_equal(parse_ok("2000-02-29T12:00:00Z"), INT64_C(951825600000));
    assert_int_equal(parse_ok("9999-12-31T23:59:59Z"), INT64_C(253402300799000));
    assert_int_equal(parse_ok("2038-01-19T03:14:08Z"), INT64_C(2147483648000));
}

static void test_parse_offsets(void **state)
{
    int64_t z = parse_ok("2026-11-28T16:28:06Z");
    assert_int_equal(parse_ok("2026-11-28T23:28:06+07:00"), z); /* Jakarta */
    assert_int_equal(parse_ok("2026-11-29T01:28:06+09:00"), z); /* Tokyo, next day */
    assert_int_equal(parse_ok("2026-11-28T11:28:06-05:00"), z); /* New York */
    assert_int_equal(parse_ok("2026-11-28T22:13:06+05:45"), z); /* Kathmandu */
    assert_int_equal(parse_ok("2026-11-28T16:28:06+00:00"), z);
    assert_int_equal(parse_ok("2026-11-28T16:28:06-00:00"), z);
    assert_int_equal(parse_ok("1970-01-01T00:00:00-01:00"), 3600000);
}

static void test_parse_fraction(void **state)
{
    int64_t z = parse_ok("2026-11-28T16:28:06Z");
    assert_int_equal(parse_ok("2026-11-28T16:28:06.5Z"), z + 500);
    assert_int_equal(parse_ok("2026-11-28T16:28:06.12Z"), z + 120);
    assert_int_equal(parse_ok("2026-11-28T16:28:06.123Z"), z + 123);
    assert_int_equal(parse_ok("2026-11-28T16:28:06.123999999Z"), z + 123); /* truncated */
    assert_int_equal(parse_ok("2026-11-28T16:28:06.000+00:00"), z);
    assert_int_equal(parse_ok("2026-11-28T23:28:06.250+07:00"), z + 250);
}

static void test_parse_leap(void **state)
{
    /* Leap years: divisible by 4, not by 100 unless by 400. */
    parse_ok("2024-02-29T00:00:00Z");
    parse_ok("2000-02-29T00:00:00Z");
    parse_bad("2100-02-29T00:00:00Z");
    parse_bad("2026-02-29T00:00:00Z");
    parse_bad("2026-04-31T00:00:00Z");
    parse_ok("2026-12-31T00:00:00Z");
    /* A leap second is clamped to :59 of the same minute. */
    assert_int_equal(parse_ok("2016-12-31T23:59:60Z"), parse_ok("2016-12-31T23:59:59Z"));
    assert_int_equal(parse_ok("2016-12-31T23:59:60.5Z"), parse_ok("2016-12-31T23:59:59.5Z"));
}

static void test_parse_invalid(void **state)
{
    parse_bad("");
    parse_bad("2026-11-28");
    parse_bad("2026-11-28T16:28:06");   /* no offset */
    parse_bad("2026-11-28T16:28Z");     /* no seconds */
    parse_bad("2026-11-28 16:28:06Z");  /* space separator */
    parse_bad("2026-11-28T16:28:06.Z"); /* empty fraction */
    parse_bad("2026-11-28T16:28:06,5Z");
    parse_bad("2026-11-28T16:28:06+0700");
    parse_bad("2026-11-28T16:28:06+07");
    parse_bad("2026-11-28T16:28:06+24:00");
    parse_bad("2026-11-28T16:28:06+07:60");
    parse_bad("2026-11-28T16:28:06ZZ");
    parse_bad("2026-11-28T16:28:06Z ");
    parse_bad(" 2026-11-28T16:28:06Z");
    parse_bad("2026-13-01T00:00:00Z");
    parse_bad("2026-00-01T00:00:00Z");
    parse_bad("2026-01-00T00:00:00Z");
    parse_bad("2026-01-32T00:00:00Z");
    parse_bad("2026-01-01T24:00:00Z");
    parse_bad("2026-01-01T23:60:00Z");
    parse_bad("2026-01-01T23:59:61Z");
    parse_bad("1969-12-31T23:59:59Z");
    parse_bad("1970-01-01T00:30:00+01:00"); /* before the epoch in UTC */
    parse_bad("10000-01-01T00:00:00Z");
    parse_bad("+2026-01-01T00:00:00Z");
    parse_bad("2026-1-01T00:00:00Z");
    parse_bad("2026-01-01T0:00:00Z");
    parse_bad("2026/01/01T00:00:00Z");
    parse_bad("2026-01-01X00:00:00Z");
    parse_bad("2026-0a-01T00:00:00Z");

    /* Counted string: bytes past len are not looked at. */
    const char *z = "2026-11-28T16:28:06Zjunk";
    int64_t ms = 0;
    assert_int_equal(core_time_parse_rfc3339((kw_str_t){z, 20}, &ms), KW_OK);
    assert_int_equal(ms, INT64_C(1795883286000));
    assert_int_equal(core_time_parse_rfc3339((kw_str_t){z, 19}, &ms), KW_INVALID);
    assert_int_equal(core_time_parse_rfc3339(KW_STR_NULL, &ms), KW_INVALID);
}

static void test_civil_roundtrip(void **state)
{
    assert_int_equal(core_time_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(core_time_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(core_time_days_from_civil(1969, 12, 31), -1);
    for (int64_t d = -800000; d <= 3000000; d += 97) {
        int64_t y;
        unsigned m, dd;
        core_time_civil_from_days(d, &y, &m, &dd);
        assert_int_equal(core_time_days_from_civil(y, m, dd), d);
    }
}

static void test_format_rfc3339(void **state)
{
    char buf[CORE_TIME_BUF_SIZE];
    core_time_format_rfc3339(INT64_C(1795883286999), buf, sizeof(buf));
    assert_string_equal(buf, "2026-11-28T16:28:06Z");
    core_time_format_rfc3339(0, buf, sizeof(buf));
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    core_time_format_rfc3339(-1, buf, sizeof(buf));
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
    core_time_format_rfc3339(INT64_C(253402300799000), buf, sizeof(buf));
    assert_string_equal(buf, "9999-12-31T23:59:59Z");
    core_time_format_rfc3339(INT64_C(951825600000), buf, sizeof(buf));
    assert_string_equal(buf, "2000-02-29T12:00:00Z");

    /* Round trip through the parser. */
    for (int64_t ms = 0; ms < INT64_C(253402300799000); ms += INT64_C(7777777777777)) {
        int64_t back = -1;
        core_time_format_rfc3339(ms, buf, sizeof(buf));
        assert_int_equal(core_time_parse_rfc3339((kw_str_t){buf, strlen(buf)}, &back), KW_OK);
        assert_int_equal(back, ms - ms % 1000);
    }

    /* Agrees with the C library's gmtime_r() across the whole range. */
    for (int64_t ms = -INT64_C(86400000); ms < INT64_C(253402300799000);
         ms += INT64_C(86399999777)) {
        char want[CORE_TIME_BUF_SIZE];
        time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
        struct tm tm;
        assert_non_null(gmtime_r(&t, &tm));
        strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
        core_time_format_rfc3339(ms, buf, sizeof(buf));
        assert_string_equal(buf, want);
        strftime(want, sizeof(want), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        core_time_format_http(ms, buf, sizeof(buf));
        assert_string_equal(buf, want);
    }

    /* Small buffers are truncated and terminated, never overrun. */
    char small[8];
    core_time_format_rfc3339(0, small, sizeof(small));
    assert_string_equal(small, "1970-01");
}

static void test_format_http(void **state)
{
    char buf[CORE_TIME_BUF_SIZE];
    core_time_format_http(INT64_C(1795883286000), buf, sizeof(buf));
    assert_string_equal(buf, "Sat, 28 Nov 2026 16:28:06 GMT");
    core_time_format_http(0, buf, sizeof(buf));
    assert_string_equal(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
    core_time_format_http(INT64_C(784111777000), buf, sizeof(buf)); /* RFC 9110's example */
    assert_string_equal(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
    core_time_format_http(INT64_C(951825600000), buf, sizeof(buf));
    assert_string_equal(buf, "Tue, 29 Feb 2000 12:00:00 GMT");
    core_time_format_http(-1, buf, sizeof(buf));
    assert_string_equal(buf, "Wed, 31 Dec 1969 23:59:59 GMT");
}

static void check_local(const char *locale, int style, const char *want)
{
    char *got = core_time_format_local(INT64_C(1795883286000), locale, style);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_format_local(void **state)
{
    check_local("id", CORE_TIME_DATE, "28 November 2026");
    check_local("ms", CORE_TIME_DATE, "28 November 2026");
    check_local("ja", CORE_TIME_DATE, "2026年11月28日");
    check_local("zh-Hant", CORE_TIME_DATE, "2026年11月28日");
    check_local("zh_Hans", CORE_TIME_DATE, "2026年11月28日");
    check_local("ko", CORE_TIME_DATE, "2026년 11월 28일");
    check_local("de", CORE_TIME_DATE, "28. November 2026");
    check_local("pt-BR", CORE_TIME_DATE, "28 de novembro de 2026");
    check_local("en", CORE_TIME_DATE, "November 28, 2026");
    check_local(NULL, CORE_TIME_DATE, "November 28, 2026");
    check_local("ja", CORE_TIME_DATETIME, "2026年11月28日 16:28");
    check_local("id", CORE_TIME_DATETIME, "28 November 2026 pukul 16.28");

    /* The time zone is UTC whatever TZ says. */
    setenv("TZ", "Asia/Tokyo", 1);
    check_local("ja", CORE_TIME_DATETIME, "2026年11月28日 16:28");
    unsetenv("TZ");

    /* A tag ICU cannot read falls back to the RFC 3339 date. */
    check_local("-", CORE_TIME_DATE, "2026-11-28");
    check_local("-", CORE_TIME_DATETIME, "2026-11-28T16:28:06Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_basic),    cmocka_unit_test(test_parse_offsets),
        cmocka_unit_test(test_parse_fraction), cmocka_unit_test(test_parse_leap),
        cmocka_unit_test(test_parse_invalid),  cmocka_unit_test(test_civil_roundtrip),
        cmocka_unit_test(test_format_rfc3339), cmocka_unit_test(test_format_http),
        cmocka_unit_test(test_format_local),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
