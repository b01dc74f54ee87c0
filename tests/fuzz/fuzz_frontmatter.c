/* fuzz_frontmatter.c -- libFuzzer harness for core_frontmatter_parse: any
 * bytes must give either KW_OK with a meta object of strings and lists of
 * strings and a body inside the input, or KW_INVALID with a message naming
 * a line -- never a crash, a leak or a read past the input. */
#include "core/core_frontmatter.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Checks the parser's contract on one result; aborts (a finding) if broken. */
static void check_result(const char *text, size_t len, int rc, json_t *meta, const char *body,
                         size_t body_len, const char *err)
{
    if (rc != KW_OK) {
        if (rc != KW_INVALID || meta != NULL || body != NULL || body_len != 0) abort();
        if (strncmp(err, "line ", 5) != 0) abort(); /* every error names its line */
        return;
    }
    if (!json_is_object(meta)) abort();
    if (body == NULL || body < text || body_len > len || (size_t)(body - text) > len - body_len)
        abort();
    const char *key;
    json_t *value;
    json_object_foreach(meta, key, value)
    {
        if (json_is_string(value)) continue;
        if (!json_is_array(value) || json_array_size(value) == 0) abort();
        size_t i;
        json_t *item;
        json_array_foreach(value, i, item) if (!json_is_string(item)) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy of exactly size bytes: ASan then catches any read past
     * the end, which a NUL-terminated buffer would hide. */
    char *text = malloc(size ? size : 1);
    if (text == NULL) return 0;
    if (size) memcpy(text, data, size);

    json_t *meta = NULL;
    const char *body = NULL;
    size_t body_len = 0;
    char err[256];
    int rc = core_frontmatter_parse(text, size, &meta, &body, &body_len, err, sizeof(err));
    check_result(text, size, rc, meta, body, body_len, err);

    /* A tiny error buffer must truncate, never overflow. */
    json_t *meta2 = NULL;
    char small[7];
    int rc2 = core_frontmatter_parse(text, size, &meta2, &body, &body_len, small, sizeof(small));
    if (rc2 != rc) abort();
    if (rc2 != KW_OK && memchr(small, '\0', sizeof(small)) == NULL) abort();

    /* And no buffer at all is allowed. */
    json_t *meta3 = NULL;
    if (core_frontmatter_parse(text, size, &meta3, &body, &body_len, NULL, 0) != rc) abort();
    if (rc == KW_OK && !json_equal(meta, meta3)) abort();

    json_decref(meta);
    json_decref(meta2);
    json_decref(meta3);
    free(text);
    return 0;
}
