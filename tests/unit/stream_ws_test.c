/* stream_ws_test.c -- unit tests for the WebSocket framing of the streams
 * (src/net/stream_ws.c): the handshake's accept key, the parser of client
 * frames (whole, split anywhere, fragmented, control frames, every protocol
 * error with its close code) and the server's frame encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "net/stream_int.h"

/* ---- helpers ------------------------------------------------------------- */

static const unsigned char mask_key[4] = {0x37, 0xfa, 0x21, 0x3d};

/* Appends a client frame to out (kw_buf_t): masked unless told, with the
 * 7/16/64-bit length the size needs. first_byte is FIN|RSV|opcode. */
static void client_frame_ex(kw_buf_t *out, unsigned first_byte, int masked, const void *payload,
                            size_t len)
{
    unsigned char head[14];
    size_t hl = 0;
    head[hl++] = (unsigned char)first_byte;
    unsigned char m = masked ? 0x80 : 0;
    if (len < 126) {
        head[hl++] = (unsigned char)(m | len);
    } else if (len <= 0xffff) {
        head[hl++] = m | 126;
        head[hl++] = (unsigned char)(len >> 8);
        head[hl++] = (unsigned char)len;
    } else {
        head[hl++] = m | 127;
        for (int i = 0; i < 8; i++)
            head[hl++] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    }
    if (masked) {
        memcpy(head + hl, mask_key, 4);
        hl += 4;
    }
    kw_buf_append(out, head, hl);
    const unsigned char *p = payload;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = masked ? (unsigned char)(p[i] ^ mask_key[i % 4]) : p[i];
        kw_buf_append(out, &c, 1);
    }
}

static void client_frame(kw_buf_t *out, int fin, int opcode, const void *payload, size_t len)
{
    client_frame_ex(out, (fin ? 0x80u : 0u) | (unsigned)opcode, 1, payload, len);
}

/* What one feed produced. */
typedef struct {
    stream_ws_result_t kind;
    char *msg;
    size_t len;
} result_t;

typedef struct {
    result_t items[16];
    size_t count;
    size_t used; /* bytes consumed in all */
} results_t;

/* Feeds data in chunks of at most chunk bytes the way the workers do (loop
 * on used; stop after a close), collecting every result but NEED_MORE. */
static void feed_chunked(stream_ws_t *ws, const char *data, size_t len, size_t chunk,
                         results_t *out)
{
    memset(out, 0, sizeof(*out));
    size_t pos = 0;
    int stop = 0;
    while (pos < len && !stop) {
        size_t n = len - pos < chunk ? len - pos : chunk;
        size_t off = 0;
        while (off < n) {
            size_t used = 0, mlen = 0;
            char *msg = NULL;
            stream_ws_result_t r =
                stream_ws_feed(ws, data + pos + off, n - off, &used, &msg, &mlen);
            assert_true(used <= n - off);
            off += used;
            if (r == WS_NEED_MORE) {
                assert_null(msg);
                if (used == 0) break;
                continue;
            }
            assert_non_null(msg);
            assert_true(out->count < 16);
            out->items[out->count++] = (result_t){r, msg, mlen};
            if (r == WS_CLOSE || r == WS_ERROR) {
                stop = 1;
                break;
            }
        }
        out->used += off;
        pos += n;
    }
}

static void results_free(results_t *r)
{
    for (size_t i = 0; i < r->count; i++)
        free(r->items[i].msg);
    r->count = 0;
}

/* The close code in a close frame we sent (unmasked, short). */
static unsigned close_code(const result_t *r)
{
    assert_true(r->len >= 4);
    assert_int_equal((unsigned char)r->msg[0], 0x88);
    return (unsigned)(unsigned char)r->msg[2] << 8 | (unsigned char)r->msg[3];
}

static int close_reason_is(const result_t *r, const char *reason)
{
    size_t n = strlen(reason);
    return r->len == 4 + n && (size_t)(unsigned char)r->msg[1] == 2 + n &&
           memcmp(r->msg + 4, reason, n) == 0;
}

/* Feeds one buffer whole and expects a single WS_ERROR with code. */
static void expect_error(const kw_buf_t *in, size_t max_message, unsigned code, const char *reason)
{
    for (size_t chunk = 1; chunk <= in->len; chunk = chunk < 4 ? chunk + 1 : in->len) {
        stream_ws_t *ws = stream_ws_new(max_message);
        results_t r;
        feed_chunked(ws, in->data, in->len, chunk, &r);
        assert_int_equal(r.count, 1);
        assert_int_equal(r.items[0].kind, WS_ERROR);
        assert_int_equal(close_code(&r.items[0]), code);
        if (reason) assert_true(close_reason_is(&r.items[0], reason));
        /* After a close everything is discarded. */
        size_t used = 99, mlen = 99;
        char *msg = (char *)1;
        assert_int_equal(stream_ws_feed(ws, "\x81\x80xxxx", 6, &used, &msg, &mlen), WS_NEED_MORE);
        assert_int_equal(used, 6);
        assert_null(msg);
        assert_int_equal(mlen, 0);
        results_free(&r);
        stream_ws_free(ws);
        if (chunk == in->len) break;
    }
}

/* ---- the handshake ------------------------------------------------------- */

static void test_accept_key(void **state)
{
    char out[32];
    const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
    assert_int_equal(stream_ws_accept_key(key, strlen(key), out), KW_OK);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

    /* Counted, not NUL-terminated: a longer buffer with the key in front. */
    const char *longer = "dGhlIHNhbXBsZSBub25jZQ==trailing";
    assert_int_equal(stream_ws_accept_key(longer, 24, out), KW_OK);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

    const char *bad[] = {
        "",
        "dGhlIHNhbXBsZSBub25jZQ=",   /* 23 characters */
        "dGhlIHNhbXBsZSBub25jZQ===", /* 25 */
        "dGhlIHNhbXBsZSBub25jZQ",    /* no padding */
        "dGhlIHNhbXBsZSBub25j",      /* 15 bytes */
        "dGhlIHNhbXBsZSBub2*jZQ==",  /* not base64 */
        "dGhlIHNhbXBsZSBub25jZQAA",  /* 18 bytes */
        "dGhlIHNhbXBs ZSBub25jZQ=",  /* a space inside */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(stream_ws_accept_key(bad[i], strlen(bad[i]), out), KW_INVALID);
    }
    /* A NUL inside the counted key. */
    char withnul[24];
    memcpy(withnul, key, 24);
    withnul[3] = '\0';
    assert_int_equal(stream_ws_accept_key(withnul, 24, out), KW_INVALID);
}

/* ---- messages ------------------------------------------------------------ */

static void test_masked_text(void **state)
{
    /* RFC 6455 5.7: a single-frame masked text message "Hello". */
    static const char frame[] = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
    stream_ws_t *ws = stream_ws_new(1024);
    size_t used = 0, mlen = 0;
    char *msg = NULL;
    assert_int_equal(stream_ws_feed(ws, frame, 11, &used, &msg, &mlen), WS_TEXT);
    assert_int_equal(used, 11);
    assert_int_equal(mlen, 5);
    assert_memory_equal(msg, "Hello", 5);
    assert_int_equal(msg[5], '\0');
    free(msg);
    /* Nothing left: an empty feed needs more. */
    assert_int_equal(stream_ws_feed(ws, "", 0, &used, &msg, &mlen), WS_NEED_MORE);
    assert_int_equal(used, 0);
    stream_ws_free(ws);
}

static void test_one_byte_at_a_time(void **state)
{
    static const char frame[] = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
    stream_ws_t *ws = stream_ws_new(1024);
    for (size_t i = 0; i < 11; i++) {
        size_t used = 0, mlen = 0;
        char *msg = NULL;
        stream_ws_result_t r = stream_ws_feed(ws, frame + i, 1, &used, &msg, &mlen);
        assert_int_equal(used, 1);
        if (i < 10) {
            assert_int_equal(r, WS_NEED_MORE);
            assert_null(msg);
        } else {
            assert_int_equal(r, WS_TEXT);
            assert_int_equal(mlen, 5);
            assert_memory_equal(msg, "Hello", 5);
            free(msg);
        }
    }
    stream_ws_free(ws);
}

/* Several messages in one read come out one per call, each with used
 * stopping exactly at its frame's end -- however the bytes are split. */
static void test_many_in_one_read(void **state)
{
    kw_buf_t in = {0};
    client_frame(&in, 1, 0x1, "one", 3);
    client_frame(&in, 1, 0x9, "p", 1);
    client_frame(&in, 1, 0xA, "ignored", 7);
    client_frame(&in, 1, 0x1, "", 0);
    client_frame(&in, 1, 0x1, "three", 5);
    size_t first = 2 + 4 + 3;
    {
        stream_ws_t *ws = stream_ws_new(1024);
        size_t used = 0, mlen = 0;
        char *msg = NULL;
        assert_int_equal(stream_ws_feed(ws, in.data, in.len, &used, &msg, &mlen), WS_TEXT);
        assert_int_equal(used, first);
        free(msg);
        stream_ws_free(ws);
    }
    for (size_t chunk = 1; chunk <= in.len; chunk++) {
        stream_ws_t *ws = stream_ws_new(1024);
        results_t r;
        feed_chunked(ws, in.data, in.len, chunk, &r);
        assert_int_equal(r.used, in.len);
        assert_int_equal(r.count, 4);
        assert_int_equal(r.items[0].kind, WS_TEXT);
        assert_int_equal(r.items[0].len, 3);
        assert_memory_equal(r.items[0].msg, "one", 3);
        assert_int_equal(r.items[1].kind, WS_PING);
        assert_int_equal(r.items[1].len, 3);
        assert_memory_equal(r.items[1].msg, "\x8a\x01p", 3);
        assert_int_equal(r.items[2].kind, WS_TEXT);
        assert_int_equal(r.items[2].len, 0);
        assert_string_equal(r.items[2].msg, "");
        assert_int_equal(r.items[3].kind, WS_TEXT);
        assert_int_equal(r.items[3].len, 5);
        assert_memory_equal(r.items[3].msg, "three", 5);
        results_free(&r);
        stream_ws_free(ws);
    }
    kw_buf_free(&in);
}

static void test_fragmented(void **state)
{
    /* "Hel" + "lo" (RFC 6455 5.7), with a ping between the fragments, and
     * "é" split between two fragments (valid once reassembled). */
    kw_buf_t in = {0};
    client_frame(&in, 0, 0x1, "Hel", 3);
    client_frame(&in, 1, 0x9, "mid", 3);
    client_frame(&in, 0, 0x0, "", 0);
    client_frame(&in, 1, 0x0, "lo", 2);
    client_frame(&in, 0, 0x1, "caf\xc3", 4);
    client_frame(&in, 1, 0x0, "\xa9", 1);
    for (size_t chunk = 1; chunk <= in.len; chunk++) {
        stream_ws_t *ws = stream_ws_new(5);
        results_t r;
        feed_chunked(ws, in.data, in.len, chunk, &r);
        assert_int_equal(r.count, 3);
        assert_int_equal(r.items[0].kind, WS_PING);
        assert_memory_equal(r.items[0].msg, "\x8a\x03mid", 5);
        assert_int_equal(r.items[1].kind, WS_TEXT);
        assert_int_equal(r.items[1].len, 5);
        assert_memory_equal(r.items[1].msg, "Hello", 5);
        assert_int_equal(r.items[2].kind, WS_TEXT);
        assert_int_equal(r.items[2].len, 5);
        assert_memory_equal(r.items[2].msg, "caf\xc3\xa9", 5);
        results_free(&r);
        stream_ws_free(ws);
    }
    kw_buf_free(&in);
}

static void test_text_may_carry_nul(void **state)
{
    kw_buf_t in = {0};
    client_frame(&in, 1, 0x1, "a\0\xe0\xb8\x81\0", 6);
    stream_ws_t *ws = stream_ws_new(64);
    results_t r;
    feed_chunked(ws, in.data, in.len, in.len, &r);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.items[0].kind, WS_TEXT);
    assert_int_equal(r.items[0].len, 6);
    assert_memory_equal(r.items[0].msg, "a\0\xe0\xb8\x81\0", 6);
    results_free(&r);
    stream_ws_free(ws);
    kw_buf_free(&in);
}

/* ---- control frames ------------------------------------------------------ */

static void test_ping_pong(void **state)
{
    /* RFC 6455 5.7: a masked ping "Hello" is answered with an unmasked pong. */
    kw_buf_t in = {0};
    client_frame(&in, 1, 0x9, "Hello", 5);
    stream_ws_t *ws = stream_ws_new(16);
    size_t used = 0, mlen = 0;
    char *msg = NULL;
    assert_int_equal(stream_ws_feed(ws, in.data, in.len, &used, &msg, &mlen), WS_PING);
    assert_int_equal(used, in.len);
    assert_int_equal(mlen, 7);
    assert_memory_equal(msg, "\x8a\x05Hello", 7);
    free(msg);

    /* A 125-byte ping is the largest allowed. */
    char big[125];
    memset(big, 'x', sizeof(big));
    kw_buf_reset(&in);
    client_frame(&in, 1, 0x9, big, 125);
    assert_int_equal(stream_ws_feed(ws, in.data, in.len, &used, &msg, &mlen), WS_PING);
    assert_int_equal(mlen, 127);
    assert_memory_equal(msg, "\x8a\x7d", 2);
    assert_memory_equal(msg + 2, big, 125);
    free(msg);

    /* A pong is ignored. */
    kw_buf_reset(&in);
    client_frame(&in, 1, 0xA, "Hello", 5);
    assert_int_equal(stream_ws_feed(ws, in.data, in.len, &used, &msg, &mlen), WS_NEED_MORE);
    assert_int_equal(used, in.len);
    assert_null(msg);
    stream_ws_free(ws);
    kw_buf_free(&in);
}

static void test_close_echo(void **state)
{
    static const struct {
        const char *payload;
        size_t len;
        unsigned echo;
    } cases[] = {
        {"\x03\xe9"
         "bye",
         5, 1001},
        {"\x03\xe8", 2, 1000},
        {"", 0, 1000},         /* no code: answered with 1000 */
        {"\x0b\xb8", 2, 3000}, /* registered range */
        {"\x13\x87"
         "x",
         3, 4999},
        {"\x03\xf3", 2, 1011},
        {"\x03\xf6", 2, 1014},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kw_buf_t in = {0};
        client_frame(&in, 1, 0x8, cases[i].payload, cases[i].len);
        client_frame(&in, 1, 0x1, "after", 5); /* never reported */
        stream_ws_t *ws = stream_ws_new(16);
        results_t r;
        feed_chunked(ws, in.data, in.len, in.len, &r);
        assert_int_equal(r.count, 1);
        assert_int_equal(r.items[0].kind, WS_CLOSE);
        assert_int_equal(r.items[0].len, 4);
        assert_int_equal(close_code(&r.items[0]), cases[i].echo);
        results_free(&r);
        stream_ws_free(ws);
        kw_buf_free(&in);
    }
}

/* ---- protocol errors ----------------------------------------------------- */

static void test_protocol_errors(void **state)
{
    kw_buf_t in = {0};
    char big[126];
    memset(big, 'x', sizeof(big));

    client_frame_ex(&in, 0x81, 0, "Hello", 5);
    expect_error(&in, 64, 1002, "client frames must be masked");
    kw_buf_reset(&in);
    client_frame_ex(&in, 0x81 | 0x40, 1, "Hello", 5); /* RSV1 */
    expect_error(&in, 64, 1002, "reserved bits set without an extension");
    kw_buf_reset(&in);
    client_frame_ex(&in, 0x81 | 0x10, 1, "Hello", 5); /* RSV3 */
    expect_error(&in, 64, 1002, NULL);
    for (unsigned op = 0x3; op <= 0xF; op++) {
        if (op >= 0x8 && op <= 0xA) continue;
        kw_buf_reset(&in);
        client_frame(&in, 1, (int)op, "x", 1);
        expect_error(&in, 64, 1002, "unknown opcode");
    }
    kw_buf_reset(&in);
    client_frame(&in, 1, 0x9, big, 126); /* control frame over 125 bytes */
    expect_error(&in, 1024, 1002, "control frame over 125 bytes");
    kw_buf_reset(&in);
    client_frame(&in, 0, 0x9, "x", 1); /* fragmented control frame */
    expect_error(&in, 1024, 1002, "fragmented control frame");
    kw_buf_reset(&in);
    client_frame(&in, 1, 0x0, "x", 1);
    expect_error(&in, 64, 1002, "continuation frame without a message");
    kw_buf_reset(&in);
    client_frame(&in, 0, 0x1, "x", 1);
    client_frame(&in, 1, 0x1, "y", 1);
    expect_error(&in, 64, 1002, "new message inside a fragmented one");
    /* A length that is not in its shortest form. */
    kw_buf_reset(&in);
    kw_buf_append(&in,
                  "\x81\xfe\x00\x05\x37\xfa\x21\x3d"
                  "aaaaa",
                  13);
    expect_error(&in, 64, 1002, "payload length not minimally encoded or too large");
    kw_buf_reset(&in);
    kw_buf_append(&in,
                  "\x81\xff\x00\x00\x00\x00\x00\x00\x00\x05\x37\xfa\x21\x3d"
                  "aaaaa",
                  19);
    expect_error(&in, 64, 1002, NULL);
    /* 64-bit length with the top bit set. */
    kw_buf_reset(&in);
    kw_buf_append(&in,
                  "\x81\xff\x80\x00\x00\x00\x00\x01\x00\x00\x37\xfa\x21\x3d"
                  "a",
                  15);
    expect_error(&in, 64, 1002, NULL);
    /* Close frames: 1-byte payload, invalid codes, reason not UTF-8. */
    kw_buf_reset(&in);
    client_frame(&in, 1, 0x8, "\x03", 1);
    expect_error(&in, 64, 1002, "close frame with a 1-byte payload");
    static const unsigned bad_codes[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535};
    for (size_t i = 0; i < sizeof(bad_codes) / sizeof(bad_codes[0]); i++) {
        unsigned char p[2] = {(unsigned char)(bad_codes[i] >> 8), (unsigned char)bad_codes[i]};
        kw_buf_reset(&in);
        client_frame(&in, 1, 0x8, p, 2);
        expect_error(&in, 64, 1002, "invalid close code");
    }
    kw_buf_reset(&in);
    client_frame(&in, 1, 0x8, "\x03\xe8\xff", 3);
    expect_error(&in, 64, 1007, "close reason is not valid UTF-8");
    kw_buf_free(&in);
}

static void test_binary_refused(void **state)
{
    kw_buf_t in = {0};
    client_frame(&in, 1, 0x2, "\x01\x02", 2);
    expect_error(&in, 64, 1003, "text only");
    kw_buf_free(&in);
}

static void test_invalid_utf8(void **state)
{
    static const struct {
        const char *p;
        size_t n;
    } bad[] = {
        {"\xff", 1},
        {"caf\xc3", 4},          /* truncated */
        {"\xc0\xaf", 2},         /* overlong */
        {"\xed\xa0\x80", 3},     /* surrogate */
        {"\xf4\x90\x80\x80", 4}, /* past U+10FFFF */
        {"ok\0\x80", 4},         /* bad after a NUL */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        kw_buf_t in = {0};
        client_frame(&in, 1, 0x1, bad[i].p, bad[i].n);
        expect_error(&in, 64, 1007, "text is not valid UTF-8");
        /* The same, fragmented. */
        kw_buf_reset(&in);
        client_frame(&in, 0, 0x1, bad[i].p, 1);
        client_frame(&in, 1, 0x0, bad[i].p + 1, bad[i].n - 1);
        expect_error(&in, 64, 1007, "text is not valid UTF-8");
        kw_buf_free(&in);
    }
}

static void test_oversize(void **state)
{
    char data[32];
    memset(data, 'a', sizeof(data));
    kw_buf_t in = {0};

    /* Exactly the limit is fine, one more is not. */
    client_frame(&in, 1, 0x1, data, 16);
    {
        stream_ws_t *ws = stream_ws_new(16);
        results_t r;
        feed_chunked(ws, in.data, in.len, 1, &r);
        assert_int_equal(r.count, 1);
        assert_int_equal(r.items[0].kind, WS_TEXT);
        assert_int_equal(r.items[0].len, 16);
        results_free(&r);
        stream_ws_free(ws);
    }
    kw_buf_reset(&in);
    client_frame(&in, 1, 0x1, data, 17);
    expect_error(&in, 16, 1009, "message too big");

    /* The limit is on the whole message, across fragments. */
    kw_buf_reset(&in);
    client_frame(&in, 0, 0x1, data, 10);
    client_frame(&in, 0, 0x0, data, 6);
    client_frame(&in, 1, 0x0, data, 1);
    expect_error(&in, 16, 1009, "message too big");

    /* A huge declared length is refused at its first payload byte, without
     * waiting for (or buffering) the rest. */
    kw_buf_reset(&in);
    kw_buf_append(&in,
                  "\x81\xff\x40\x00\x00\x00\x00\x00\x00\x00\x37\xfa\x21\x3d"
                  "a",
                  15);
    expect_error(&in, 1 << 20, 1009, "message too big");
    kw_buf_reset(&in);
    kw_buf_append(&in,
                  "\x01\xff\x00\x00\x00\x00\x00\x01\x00\x00\x37\xfa\x21\x3d"
                  "a",
                  15);
    expect_error(&in, 65535, 1009, "message too big");
    kw_buf_free(&in);
}

/* ---- server frames ------------------------------------------------------- */

static void test_frame_encoding(void **state)
{
    static const struct {
        size_t len;
        size_t head;
        const char *lenbytes;
    } cases[] = {
        {0, 2, "\x00"},
        {125, 2, "\x7d"},
        {126, 4, "\x7e\x00\x7e"},
        {65535, 4, "\x7e\xff\xff"},
        {65536, 10, "\x7f\x00\x00\x00\x00\x00\x01\x00\x00"},
    };
    char *payload = malloc(65536);
    assert_non_null(payload);
    for (size_t i = 0; i < 65536; i++)
        payload[i] = (char)('a' + i % 26);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = 0;
        char *f = stream_ws_frame(0x1, payload, cases[i].len, &n);
        assert_int_equal(n, cases[i].head + cases[i].len);
        assert_int_equal((unsigned char)f[0], 0x81);                      /* FIN, text */
        assert_memory_equal(f + 1, cases[i].lenbytes, cases[i].head - 1); /* no mask bit */
        if (cases[i].len) assert_memory_equal(f + cases[i].head, payload, cases[i].len);
        free(f);

        /* The parser reads the same lengths back (as a client would send). */
        kw_buf_t in = {0};
        client_frame(&in, 1, 0x1, payload, cases[i].len);
        assert_int_equal(in.len, cases[i].head + 4 + cases[i].len);
        stream_ws_t *ws = stream_ws_new(65536);
        results_t r;
        feed_chunked(ws, in.data, in.len, 1000, &r);
        assert_int_equal(r.count, 1);
        assert_int_equal(r.items[0].kind, WS_TEXT);
        assert_int_equal(r.items[0].len, cases[i].len);
        if (cases[i].len) assert_memory_equal(r.items[0].msg, payload, cases[i].len);
        results_free(&r);
        stream_ws_free(ws);
        kw_buf_free(&in);
    }
    free(payload);

    size_t n = 0;
    char *f = stream_ws_frame(0x8, "\x03\xe8resume", 8, &n);
    assert_int_equal(n, 10);
    assert_memory_equal(f, "\x88\x08\x03\xe8resume", 10);
    free(f);
    f = stream_ws_frame(0x9, "", 0, &n);
    assert_int_equal(n, 2);
    assert_memory_equal(f, "\x89\x00", 2);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_key),         cmocka_unit_test(test_masked_text),
        cmocka_unit_test(test_one_byte_at_a_time), cmocka_unit_test(test_many_in_one_read),
        cmocka_unit_test(test_fragmented),         cmocka_unit_test(test_text_may_carry_nul),
        cmocka_unit_test(test_ping_pong),          cmocka_unit_test(test_close_echo),
        cmocka_unit_test(test_protocol_errors),    cmocka_unit_test(test_binary_refused),
        cmocka_unit_test(test_invalid_utf8),       cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_frame_encoding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
