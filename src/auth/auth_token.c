/* auth_token.c -- API tokens, random ids, argon2id passwords, HMAC-SHA256:
 * the few places kawat touches secret material, on OpenSSL and libargon2. */
#include "auth/auth.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/core.h"

#define AUTH__ARGON2_T 3
#define AUTH__ARGON2_M_KIB (64 * 1024)
#define AUTH__ARGON2_P 1
#define AUTH__SALT_LEN 16
#define AUTH__TAG_LEN 32

/* A valid argon2id hash with the parameters above, of a random password
 * nobody kept; auth_password_verify(NULL, ...) spends its time on it. */
static const char auth__dummy_hash[] = "$argon2id$v=19$m=65536,t=3,p=1$xAipcjB2k3AMKZFPdFHzhA$"
                                       "pEuSqzswy5BlGTIAr4XItV1N6j3Q6wNO0nFMibyUlm0";

static void auth__fatal(const char *what)
{
    fprintf(stderr, "kawat: %s failed\n", what);
    abort();
}

/* Fills p with n bytes from the OpenSSL CSPRNG (seeded from the OS); aborts
 * on failure rather than hand out predictable secrets. */
static void auth__random(void *p, size_t n)
{
    if (n > INT32_MAX || RAND_bytes(p, (int)n) != 1) auth__fatal("RAND_bytes");
}

static const char auth__hex[] = "0123456789abcdef";

static void auth__to_hex(const unsigned char *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = auth__hex[p[i] >> 4];
        out[2 * i + 1] = auth__hex[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static const char auth__b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding of n bytes into out (4 * n / 3 rounded up, plus
 * the NUL). Returns the number of characters written. */
static size_t auth__base64url(const unsigned char *p, size_t n, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = auth__b64url[v >> 18 & 63];
        out[o++] = auth__b64url[v >> 12 & 63];
        out[o++] = auth__b64url[v >> 6 & 63];
        out[o++] = auth__b64url[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        out[o++] = auth__b64url[v >> 18 & 63];
        out[o++] = auth__b64url[v >> 12 & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        out[o++] = auth__b64url[v >> 18 & 63];
        out[o++] = auth__b64url[v >> 12 & 63];
        out[o++] = auth__b64url[v >> 6 & 63];
    }
    out[o] = '\0';
    return o;
}

void auth_token_generate(char *out, size_t size)
{
    unsigned char raw[32];
    if (size < AUTH_TOKEN_LEN + 1) auth__fatal("auth_token_generate (buffer too small)");
    auth__random(raw, sizeof(raw));
    memcpy(out, AUTH_TOKEN_PREFIX, sizeof(AUTH_TOKEN_PREFIX) - 1);
    auth__base64url(raw, sizeof(raw), out + sizeof(AUTH_TOKEN_PREFIX) - 1);
    OPENSSL_cleanse(raw, sizeof(raw));
}

int auth_token_well_formed(const char *token, size_t len)
{
    const size_t plen = sizeof(AUTH_TOKEN_PREFIX) - 1;
    if (token == NULL || len != AUTH_TOKEN_LEN) return 0;
    if (memcmp(token, AUTH_TOKEN_PREFIX, plen) != 0) return 0;
    for (size_t i = plen; i < len; i++) {
        char c = token[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    /* 43 characters carry 258 bits for 256: the last character's two low
     * bits are zero, so only every 4th letter of the alphabet can end a
     * real token. */
    return (strchr(auth__b64url, token[len - 1]) - auth__b64url) % 4 == 0;
}

void auth_token_hash(const char *token, size_t len, char out[AUTH_HEX_SIZE])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    if (EVP_Digest(token, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        auth__fatal("EVP_Digest(SHA-256)");
    auth__to_hex(md, sizeof(md), out);
}

void auth_random_id(char *out, size_t nchars)
{
    static const char alphabet[33] = "0123456789abcdefghjkmnpqrstvwxyz";
    unsigned char raw[64];
    size_t done = 0;
    while (done < nchars) {
        size_t n = nchars - done < sizeof(raw) ? nchars - done : sizeof(raw);
        auth__random(raw, n);
        for (size_t i = 0; i < n; i++)
            out[done + i] = alphabet[raw[i] & 31]; /* 256 % 32 == 0: unbiased */
        done += n;
    }
    out[nchars] = '\0';
}

int auth_password_hash(const char *password, char *out, size_t size)
{
    unsigned char salt[AUTH__SALT_LEN];
    size_t need = argon2_encodedlen(AUTH__ARGON2_T, AUTH__ARGON2_M_KIB, AUTH__ARGON2_P,
                                    AUTH__SALT_LEN, AUTH__TAG_LEN, Argon2_id);
    if (size) out[0] = '\0';
    if (password == NULL || size < need) return KW_ERROR;

    auth__random(salt, sizeof(salt));
    int rc = argon2id_hash_encoded(AUTH__ARGON2_T, AUTH__ARGON2_M_KIB, AUTH__ARGON2_P, password,
                                   strlen(password), salt, sizeof(salt), AUTH__TAG_LEN, out, size);
    if (rc != ARGON2_OK) {
        out[0] = '\0';
        return KW_ERROR;
    }
    return KW_OK;
}

int auth_password_verify(const char *encoded, const char *password)
{
    static const char prefix[] = "$argon2id$";
    int known = encoded != NULL;
    if (password == NULL) return 0;
    if (!known) encoded = auth__dummy_hash;
    if (strncmp(encoded, prefix, sizeof(prefix) - 1) != 0) return 0;
    int rc = argon2id_verify(encoded, password, strlen(password));
    return known && rc == ARGON2_OK;
}

int auth_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t len,
                     unsigned char out[32])
{
    unsigned int outlen = 0;
    static const unsigned char empty[1];
    if (keylen > INT32_MAX) return KW_ERROR;
    /* OpenSSL treats a NULL key as "reuse the previous one"; never mean that. */
    if (HMAC(EVP_sha256(), keylen ? key : empty, (int)keylen, len ? msg : empty, len, out,
             &outlen) == NULL ||
        outlen != 32)
        return KW_ERROR;
    return KW_OK;
}

int auth_hmac_sha256_hex(const void *key, size_t keylen, const void *msg, size_t len,
                         char out_hex[AUTH_HEX_SIZE])
{
    unsigned char mac[32];
    if (auth_hmac_sha256(key, keylen, msg, len, mac) != KW_OK) {
        out_hex[0] = '\0';
        return KW_ERROR;
    }
    auth__to_hex(mac, sizeof(mac), out_hex);
    return KW_OK;
}

int auth_consttime_eq(const char *a, const char *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}

void auth_secret_generate(char out[AUTH_SECRET_SIZE])
{
    unsigned char raw[32];
    auth__random(raw, sizeof(raw));
    auth__base64url(raw, sizeof(raw), out);
    OPENSSL_cleanse(raw, sizeof(raw));
}
