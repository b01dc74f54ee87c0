/* webhook_test.c -- Standard Webhooks signing: the published test vector,
 * secrets (decoding, generating) and what is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "deliver/webhook.h"

/* The vector of the Standard Webhooks reference libraries: a receiver's
 * library must accept exactly what we send. */
static void test_sign_reference_vector(void **state)
{
    unsigned char key[WEBHOOK_KEY_MAX];
    size_t keylen = 0;
    assert_int_equal(webhook_secret_decode("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", key, &keylen),
                     KW_OK);
    assert_int_equal(keylen, 24);
    const char body[] = "{\"test\": 2432232314}";
    char sig[WEBHOOK_SIGNATURE_SIZE];
    assert_int_equal(webhook_sign(key, keylen, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
                                  sizeof(body) - 1, sig, sizeof(sig)),
                     KW_OK);
    assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    /* Any change of id, time or body changes it. */
    webhook_sign(key, keylen, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body, sizeof(body) - 1,
                 sig, sizeof(sig));
    assert_string_not_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    assert_int_equal(webhook_sign(key, keylen, "x", 1, body, 3, sig, 10), KW_ERROR);
}

static void test_secret_decode_refuses(void **state)
{
    unsigned char key[WEBHOOK_KEY_MAX];
    size_t n;
    static const char *const bad[] = {
        NULL,
        "",
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",       /* no prefix */
        "whsec_",                                 /* empty */
        "whsec_c2hvcnQ=",                         /* 5 bytes: too short */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",  /* not a multiple of 4 */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa-w", /* base64url is not the format */
        "whsec_MfKQ9r8GKYqrTwjU=D8ILPZIo2LaLaSw", /* padding inside */
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n",
        /* 66 bytes: too long */
        "whsec_"
        "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(webhook_secret_decode(bad[i], key, &n), KW_INVALID);
    /* Padding at the end is fine: 25 bytes. */
    assert_int_equal(webhook_secret_decode("whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQQ==", key, &n),
                     KW_OK);
    assert_int_equal(n, 25);
    assert_memory_equal(key, "AAAAAAAAAAAAAAAAAAAAAAAAA", 25);
}

static void test_secret_generate(void **state)
{
    char a[WEBHOOK_SECRET_SIZE], b[WEBHOOK_SECRET_SIZE];
    webhook_secret_generate(a, sizeof(a));
    webhook_secret_generate(b, sizeof(b));
    assert_memory_equal(a, "whsec_", 6);
    assert_string_not_equal(a, b);
    unsigned char key[WEBHOOK_KEY_MAX];
    size_t n;
    assert_int_equal(webhook_secret_decode(a, key, &n), KW_OK);
    assert_int_equal(n, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_reference_vector),
        cmocka_unit_test(test_secret_decode_refuses),
        cmocka_unit_test(test_secret_generate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
