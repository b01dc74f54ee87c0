/* auth_test.c -- API tokens, random ids, argon2id passwords, HMAC-SHA256
 * and constant-time comparison. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "auth/auth.h"
#include "core/core.h"

static void test_token_generate(void **state)
{
    char a[AUTH_TOKEN_SIZE], b[AUTH_TOKEN_SIZE];
    auth_token_generate(a, sizeof(a));
    auth_token_generate(b, sizeof(b));
    assert_int_equal(strlen(a), AUTH_TOKEN_LEN);
    assert_memory_equal(a, "kw_", 3);
    assert_string_not_equal(a, b);
    assert_true(auth_token_well_formed(a, strlen(a)));
    assert_true(auth_token_well_formed(b, strlen(b)));

    /* It is the unpadded base64url of exactly 32 bytes. */
    for (int round = 0; round < 100; round++) {
        char t[AUTH_TOKEN_SIZE], std[48];
        unsigned char raw[48];
        auth_token_generate(t, sizeof(t));
        for (size_t i = 0; i < 43; i++) {
            char c = t[3 + i];
            assert_true((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_');
            std[i] = c == '-' ? '+' : c == '_' ? '/' : c;
        }
        memcpy(std + 43, "=", 2);
        assert_int_equal(EVP_DecodeBlock(raw, (unsigned char *)std, 44), 33); /* 32 + pad */
        char back[48];
        assert_int_equal(EVP_EncodeBlock((unsigned char *)back, raw, 32), 44);
        assert_memory_equal(back, std, 44);
        assert_true(auth_token_well_formed(t, strlen(t)));
    }
}

static void test_token_well_formed(void **state)
{
    const char *good = "kw_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert_int_equal(strlen(good), AUTH_TOKEN_LEN);
    assert_true(auth_token_well_formed(good, strlen(good)));
    assert_true(auth_token_well_formed("kw_-_09azAZ-_09azAZ-_09azAZ-_09azAZ-_09azAZAAw", 46));
    assert_false(auth_token_well_formed("kw_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", 46));
    assert_false(auth_token_well_formed("kx_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 46));
    assert_false(auth_token_well_formed("kw_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 46));
    assert_false(auth_token_well_formed("kw_AAAAAAAAAAAAAAAAAAAAAAAAA+AAAAAAAAAAAAAAAAA", 46));
    assert_false(auth_token_well_formed(good, 45));
    assert_false(auth_token_well_formed("kw_", 3));
    assert_false(auth_token_well_formed(NULL, 0));
}

static void test_token_hash(void **state)
{
    char out[AUTH_HEX_SIZE];
    auth_token_hash("abc", 3, out);
    assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    auth_token_hash("", 0, out);
    assert_string_equal(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    auth_token_hash("abcdef", 3, out); /* counted, not NUL-terminated */
    assert_string_equal(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_random_id(void **state)
{
    static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
    char id[301];
    unsigned counts[32] = {0};

    auth_random_id(id, 0);
    assert_string_equal(id, "");

    memset(id, 'X', sizeof(id));
    auth_random_id(id, 16);
    assert_int_equal(strlen(id), 16);
    assert_int_equal(id[16], '\0');
    assert_int_equal(id[17], 'X'); /* writes nchars + 1 bytes, no more */

    /* Every character comes from the alphabet, roughly evenly. */
    for (int round = 0; round < 128; round++) {
        auth_random_id(id, 300); /* more than one RNG chunk */
        assert_int_equal(strlen(id), 300);
        for (size_t i = 0; i < 300; i++) {
            const char *p = strchr(alphabet, id[i]);
            assert_non_null(p);
            counts[p - alphabet]++;
        }
    }
    for (size_t i = 0; i < 32; i++) { /* expected 1200 each; sigma ~34 */
        if (counts[i] < 1000 || counts[i] > 1400)
            fail_msg("'%c' drawn %u times of 38400", alphabet[i], counts[i]);
    }

    char a[17], b[17];
    auth_random_id(a, 16);
    auth_random_id(b, 16);
    assert_string_not_equal(a, b);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The real parameters, once: a hash and three verifies, ~100 ms each
 * (more under ASan). */
static void test_password(void **state)
{
    char enc[AUTH_PASSWORD_HASH_SIZE];
    const char *pw = "correct horse battery staple ข่าว 日本";

    assert_int_equal(auth_password_hash(pw, enc, sizeof(enc)), KW_OK);
    assert_memory_equal(enc, "$argon2id$v=19$m=65536,t=3,p=1$", 31);
    assert_true(strlen(enc) < AUTH_PASSWORD_HASH_SIZE);

    double t0 = now_s();
    assert_int_equal(auth_password_verify(enc, pw), 1);
    double t_known = now_s() - t0;
    assert_int_equal(auth_password_verify(enc, "correct horse battery staple"), 0);

    /* An unknown user costs a real argon2id run, and never matches. */
    t0 = now_s();
    assert_int_equal(auth_password_verify(NULL, pw), 0);
    double t_unknown = now_s() - t0;
    if (t_unknown < t_known / 4)
        fail_msg("unknown-user verify took %.3fs vs %.3fs", t_unknown, t_known);
}

static void test_password_cheap_failures(void **state)
{
    char small[64];
    assert_int_equal(auth_password_hash("pw", small, sizeof(small)), KW_ERROR);
    assert_string_equal(small, "");
    assert_int_equal(auth_password_hash(NULL, small, sizeof(small)), KW_ERROR);

    /* Malformed or other-algorithm encodings are rejected without work. */
    assert_int_equal(auth_password_verify("", "pw"), 0);
    assert_int_equal(auth_password_verify("plaintext", "plaintext"), 0);
    assert_int_equal(auth_password_verify("$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA", "pw"), 0);
    assert_int_equal(auth_password_verify("$argon2id$v=19$m=8,t=1,p=1$garbage", "pw"), 0);
    assert_int_equal(auth_password_verify("$argon2id$", NULL), 0);
}

static void check_hmac(const void *key, size_t keylen, const char *msg, const char *want)
{
    char out[AUTH_HEX_SIZE];
    assert_int_equal(auth_hmac_sha256_hex(key, keylen, msg, strlen(msg), out), KW_OK);
    assert_string_equal(out, want);
}

static void test_hmac(void **state)
{
    /* RFC 4231 test cases 1, 2 and 6. */
    unsigned char k1[20], k6[131];
    memset(k1, 0x0b, sizeof(k1));
    memset(k6, 0xaa, sizeof(k6));
    check_hmac(k1, sizeof(k1), "Hi There",
               "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    check_hmac("Jefe", 4, "what do ya want for nothing?",
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    check_hmac(k6, sizeof(k6), "Test Using Larger Than Block-Size Key - Hash Key First",
               "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    /* Empty key and message (NULL pointers allowed with length 0). */
    char out[AUTH_HEX_SIZE];
    assert_int_equal(auth_hmac_sha256_hex(NULL, 0, NULL, 0, out), KW_OK);
    assert_string_equal(out, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");

    unsigned char raw[32];
    assert_int_equal(auth_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, raw), KW_OK);
    assert_int_equal(raw[0], 0x5b);
    assert_int_equal(raw[31], 0x43);
}

static void test_consttime_eq(void **state)
{
    assert_true(auth_consttime_eq("abcdef", "abcdef", 6));
    assert_false(auth_consttime_eq("abcdef", "abcdeg", 6));
    assert_false(auth_consttime_eq("xbcdef", "abcdef", 6));
    assert_true(auth_consttime_eq("abcdef", "abcxyz", 3));
    assert_true(auth_consttime_eq("a", "b", 0));

    char h1[AUTH_HEX_SIZE], h2[AUTH_HEX_SIZE];
    auth_token_hash("kw_x", 4, h1);
    auth_token_hash("kw_x", 4, h2);
    assert_true(auth_consttime_eq(h1, h2, 64));
    auth_token_hash("kw_y", 4, h2);
    assert_false(auth_consttime_eq(h1, h2, 64));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_generate), cmocka_unit_test(test_token_well_formed),
        cmocka_unit_test(test_token_hash),     cmocka_unit_test(test_random_id),
        cmocka_unit_test(test_password),       cmocka_unit_test(test_password_cheap_failures),
        cmocka_unit_test(test_hmac),           cmocka_unit_test(test_consttime_eq),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
