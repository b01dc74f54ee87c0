/* auth.h -- secrets: API tokens (stored only as SHA-256), random ids,
 * argon2id password hashes, HMAC-SHA256 and constant-time comparison. */
#ifndef KAWAT_AUTH_H
#define KAWAT_AUTH_H

#include <stddef.h>

/* An API token is "kw_" + 43 base64url characters (32 random bytes). */
#define AUTH_TOKEN_PREFIX "kw_"
#define AUTH_TOKEN_LEN 46  /* without the NUL */
#define AUTH_TOKEN_SIZE 48 /* buffer size for auth_token_generate() */

/* Hex SHA-256 / HMAC-SHA256 digest: 64 characters plus the NUL. */
#define AUTH_HEX_SIZE 65

/* Buffer size that always holds an encoded argon2id hash (about 97 bytes). */
#define AUTH_PASSWORD_HASH_SIZE 128

/* Writes a new API token into out (size >= AUTH_TOKEN_SIZE), NUL-terminated.
 * Show it to its owner once and store only auth_token_hash() of it. Aborts if
 * the system RNG fails or size is too small: no token beats a weak one. */
void auth_token_generate(char *out, size_t size);

/* 1 if token (len bytes) has the shape auth_token_generate() makes ("kw_"
 * and 43 base64url characters), else 0. A cheap filter before hashing and a
 * store look-up; says nothing about whether the token exists. */
int auth_token_well_formed(const char *token, size_t len);

/* Writes the lower-case hex SHA-256 of token (len bytes) into out. Tokens
 * are 256-bit random, so a fast hash is enough (no salt, no slow hash): look
 * tokens up by this value. */
void auth_token_hash(const char *token, size_t len, char out[AUTH_HEX_SIZE]);

/* Writes nchars random characters from "0123456789abcdefghjkmnpqrstvwxyz"
 * (Crockford-style base32, lower case: no i, l, o, u) plus a NUL into out,
 * which must hold nchars + 1 bytes. 5 bits of entropy per character (16
 * characters = 80 bits). Aborts if the system RNG fails. */
void auth_random_id(char *out, size_t nchars);

/* Hashes password (NUL-terminated) with argon2id, t=3, m=64 MiB, p=1, a
 * 16-byte random salt and a 32-byte tag, into out as the standard encoded
 * string "$argon2id$v=19$m=65536,t=3,p=1$salt$hash" (size >=
 * AUTH_PASSWORD_HASH_SIZE). Takes about 100 ms of CPU and 64 MiB of memory
 * while it runs: call it off the event loop and bound how many run at once.
 * Returns KW_OK, or KW_ERROR (buffer too small, out of memory) with out set
 * to "". */
int auth_password_hash(const char *password, char *out, size_t size);

/* 1 if password matches encoded (made by auth_password_hash()), else 0 --
 * also for a malformed or non-argon2id encoded string. Costs as much as
 * auth_password_hash(). With encoded NULL (no such user) it checks against
 * a built-in dummy hash of the same cost and returns 0, so a log-in for an
 * unknown account takes as long as one for a known account. */
int auth_password_verify(const char *encoded, const char *password);

/* HMAC-SHA256 of msg (len bytes) under key (keylen bytes): raw 32 bytes into
 * out, or lower-case hex into out_hex. Return KW_OK or KW_ERROR. For
 * Standard Webhooks signatures, base64 the raw form. */
int auth_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t len,
                     unsigned char out[32]);
int auth_hmac_sha256_hex(const void *key, size_t keylen, const void *msg, size_t len,
                         char out_hex[AUTH_HEX_SIZE]);

/* 1 if the n bytes at a and b are equal, else 0, in time that depends only
 * on n. Both must have n readable bytes: compare fixed-length values (hex
 * digests, signatures) and check lengths first, which are not secret. */
int auth_consttime_eq(const char *a, const char *b, size_t n);

/* 32 random bytes as 43 base64url characters: session cookies and CSRF
 * tokens. out must hold AUTH_SECRET_SIZE bytes (NUL included). Aborts if
 * the system RNG fails. */
#define AUTH_SECRET_LEN 43
#define AUTH_SECRET_SIZE 44
void auth_secret_generate(char out[AUTH_SECRET_SIZE]);

#endif
