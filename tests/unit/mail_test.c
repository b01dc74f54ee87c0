/* mail_test.c -- the MIME building of e-mail alerts (RFC 2047 words,
 * quoted-printable, dates, the whole message) and the signed links. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "core/core.h"
#include "deliver/mail.h"

/* Decodes every "=?UTF-8?B?…?=" word of s (folding dropped) into out. */
static void decode_words(const char *s, kw_buf_t *out)
{
    const char *p = s;
    while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
        p += 10;
        const char *end = strstr(p, "?=");
        assert_non_null(end);
        unsigned char bytes[128];
        int n = EVP_DecodeBlock(bytes, (const unsigned char *)p, (int)(end - p));
        assert_true(n >= 0);
        /* EVP_DecodeBlock counts the padding as bytes: drop them. */
        n -= (end[-1] == '=') + (end[-2] == '=');
        kw_buf_append(out, bytes, (size_t)n);
        p = end + 2;
    }
}

static void assert_lines_within(const char *s, size_t max)
{
    const char *line = s;
    for (const char *p = s;; p++) {
        if (*p == '\r' || *p == '\0') {
            assert_true((size_t)(p - line) <= max);
            if (*p == '\0') break;
            line = p + 2;
        }
    }
}

static void test_header_words_are_cut_between_characters(void **state)
{
    const char *subjects[] = {
        "[kawat] 東京のAI新興企業が資金調達、次世代半導体の設計で海外展開を加速",
        "[kawat] مجموعة الاتصالات تعلن نتائج الربع الثالث وتوسع شبكة الألياف في المنطقة",
        "[kawat] ไทยเปิดตัวโครงการพลังงานสะอาดแห่งใหม่", "Ü"};
    for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
        kw_buf_t b = {0}, dec = {0};
        mail_header(&b, "Subject", subjects[i]);
        assert_lines_within(b.data, 76);
        assert_memory_equal(b.data + b.len - 2, "\r\n", 2);
        decode_words(b.data, &dec);
        assert_string_equal(dec.data, subjects[i]);
        /* Every word decodes to whole UTF-8 characters on its own. */
        const char *w = b.data;
        while ((w = strstr(w, "=?UTF-8?B?")) != NULL) {
            const char *end = strstr(w + 10, "?=");
            assert_true(end - w + 2 <= 75);
            kw_buf_t one = {0};
            char word[80];
            memcpy(word, w, (size_t)(end - w + 2));
            word[end - w + 2] = '\0';
            decode_words(word, &one);
            assert_true(kw_utf8_valid(one.data, one.len));
            kw_buf_free(&one);
            w = end + 2;
        }
        kw_buf_free(&b);
        kw_buf_free(&dec);
    }
}

static void test_header_ascii_and_injection(void **state)
{
    kw_buf_t b = {0};
    mail_header(&b, "Subject", "Plain words stay plain");
    assert_string_equal(b.data, "Subject: Plain words stay plain\r\n");
    kw_buf_reset(&b);
    mail_header(&b, "Subject", "Evil\r\nBcc: victim@example.com");
    assert_null(strstr(b.data, "\r\nBcc"));
    assert_string_equal(b.data, "Subject: Evil  Bcc: victim@example.com\r\n");
    kw_buf_reset(&b);
    mail_header(&b, "Subject",
                "A long ASCII headline that goes on and on past the seventy-six columns a "
                "line should keep to");
    assert_lines_within(b.data, 76);
    assert_non_null(strstr(b.data, "\r\n "));
    kw_buf_free(&b);
}

static void test_quoted_printable(void **state)
{
    kw_buf_t b = {0};
    const char text[] = "a=b café\n.dot at start\ntrailing space \n"
                        "0123456789012345678901234567890123456789012345678901234567890123456789"
                        "0123456789";
    mail_qp_encode(&b, text, strlen(text));
    assert_lines_within(b.data, 76);
    assert_non_null(strstr(b.data, "a=3Db caf=C3=A9\r\n"));
    assert_non_null(strstr(b.data, "\r\n=2Edot at start\r\n"));
    assert_non_null(strstr(b.data, "trailing space=20\r\n"));
    assert_non_null(strstr(b.data, "=\r\n")); /* the long line is soft-broken */
    assert_null(strstr(b.data, "=_"));        /* the boundary cannot occur */
    kw_buf_free(&b);
}

static void test_date(void **state)
{
    char d[48];
    mail_date(0, d, sizeof(d));
    assert_string_equal(d, "Thu, 01 Jan 1970 00:00:00 +0000");
    mail_date(1772521509000LL, d, sizeof(d));
    assert_string_equal(d, "Tue, 03 Mar 2026 07:05:09 +0000");
}

static void test_build(void **state)
{
    mail_message_t m = {
        .from_name = "kawat",
        .from_addr = "alerts@wire.example",
        .to_addr = "sato@example.jp",
        .subject = "[kawat] 資金調達",
        .message_id = "rabc.sdef@wire.example",
        .language = "ja",
        .unsubscribe_url = "https://wire.example/unsubscribe?token=sdef.0.abc",
        .list_id = "kawat <alerts.wire.example>",
        .text = "Body [link](https://example.com/)\n",
        .html = "<p><a href=\"https://example.com/\">link</a></p>\n",
        .date_ms = 0,
    };
    kw_buf_t b = {0};
    mail_build(&b, &m);
    assert_non_null(strstr(b.data, "From: \"kawat\" <alerts@wire.example>\r\n"));
    assert_non_null(strstr(b.data, "\r\nMessage-ID: <rabc.sdef@wire.example>\r\n"));
    assert_non_null(strstr(b.data, "\r\nList-Unsubscribe: <https://wire.example/unsubscribe?"
                                   "token=sdef.0.abc>\r\n"));
    assert_non_null(strstr(b.data, "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
    assert_non_null(strstr(b.data, "multipart/alternative; boundary=\"=_kawat_"));
    assert_non_null(strstr(b.data, "Content-Type: text/plain; charset=utf-8"));
    assert_non_null(strstr(b.data, "Content-Type: text/html; charset=utf-8"));
    assert_non_null(strstr(b.data, "https://example.com/"));
    for (size_t i = 0; i < b.len; i++)
        assert_true((unsigned char)b.data[i] < 0x80);
    /* The same Message-ID gives the same boundary (a resent mail is the same). */
    kw_buf_t again = {0};
    mail_build(&again, &m);
    assert_string_equal(b.data, again.data);
    kw_buf_free(&b);
    kw_buf_free(&again);
}

static void test_build_plain(void **state)
{
    /* A notice: one text/plain part, no boundary, no list headers. */
    mail_message_t m = {
        .from_name = "kawat",
        .from_addr = "alerts@wire.example",
        .to_addr = "iris@example.com",
        .subject = "Reset your kawat password",
        .message_id = "nabc@wire.example",
        .language = "en",
        .text = "Open:\n\nhttps://wire.example/reset/abc\n",
        .date_ms = 0,
    };
    kw_buf_t b = {0};
    mail_build(&b, &m);
    assert_non_null(strstr(b.data, "\r\nSubject: Reset your kawat password\r\n"));
    assert_non_null(strstr(b.data, "\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                   "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                                   "Open:\r\n\r\nhttps://wire.example/reset/abc\r\n"));
    assert_null(strstr(b.data, "multipart"));
    assert_null(strstr(b.data, "List-"));
    assert_null(strstr(b.data, "text/html"));
    kw_buf_free(&b);
}

static void test_tokens(void **state)
{
    const char *key = "0123456789abcdef0123456789abcdef";
    char tok[MAIL_TOKEN_SIZE], id[32];
    assert_int_equal(mail_token_make_key(key, 'u', "s1234", 0, tok, sizeof(tok)), KW_OK);
    assert_int_equal(mail_token_check_key(key, 'u', tok, 2000000000, id, sizeof(id)), KW_OK);
    assert_string_equal(id, "s1234");
    /* Another purpose, another key, a changed id or mac: forged. */
    assert_int_equal(mail_token_check_key(key, 'c', tok, 0, id, sizeof(id)), KW_INVALID);
    assert_int_equal(
        mail_token_check_key("another key of enough length....", 'u', tok, 0, id, sizeof(id)),
        KW_INVALID);
    char bad[MAIL_TOKEN_SIZE];
    snprintf(bad, sizeof(bad), "s1235%s", tok + 5);
    assert_int_equal(mail_token_check_key(key, 'u', bad, 0, id, sizeof(id)), KW_INVALID);
    snprintf(bad, sizeof(bad), "%s", tok);
    bad[strlen(bad) - 1] = bad[strlen(bad) - 1] == '0' ? '1' : '0';
    assert_int_equal(mail_token_check_key(key, 'u', bad, 0, id, sizeof(id)), KW_INVALID);
    const char *junk[] = {"",
                          "s1",
                          "s1.0",
                          "s1.0.",
                          "S1.0.00000000000000000000000000000000",
                          "s1.x.00000000000000000000000000000000",
                          NULL};
    for (int i = 0; i < 6; i++)
        assert_int_equal(mail_token_check_key(key, 'u', junk[i], 0, id, sizeof(id)), KW_INVALID);
    assert_int_equal(mail_token_check_key(key, 'u', NULL, 0, id, sizeof(id)), KW_INVALID);
    /* Expiry. */
    assert_int_equal(mail_token_make_key(key, 'c', "gabc", 1000, tok, sizeof(tok)), KW_OK);
    assert_int_equal(mail_token_check_key(key, 'c', tok, 999, id, sizeof(id)), KW_OK);
    assert_int_equal(mail_token_check_key(key, 'c', tok, 1001, id, sizeof(id)), KW_GONE);
    /* Ids that would break a URL are never signed. */
    assert_int_equal(mail_token_make_key(key, 'u', "a&b", 0, tok, sizeof(tok)), KW_ERROR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_words_are_cut_between_characters),
        cmocka_unit_test(test_header_ascii_and_injection),
        cmocka_unit_test(test_quoted_printable),
        cmocka_unit_test(test_date),
        cmocka_unit_test(test_build),
        cmocka_unit_test(test_build_plain),
        cmocka_unit_test(test_tokens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
