/* fuzz_ws.c -- libFuzzer harness for the WebSocket frame parser
 * (stream_ws_feed): any bytes from a client, split into reads anywhere,
 * must give the same results as the same bytes in one read -- each result
 * well formed (text valid UTF-8 within the limit, pongs and close frames
 * well framed), WS_NEED_MORE only once every byte is taken, nothing after a
 * close -- and never a crash, a leak or a read past a read's bytes.
 *
 * Input: byte 0 picks the message limit, bytes 1-4 seed the chunking, the
 * rest is what the client sends. */
#include "net/stream_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int utf8_valid_with_nul(const char *p, size_t n)
{
    while (n > 0) {
        const char *nul = memchr(p, '\0', n);
        size_t run = nul ? (size_t)(nul - p) : n;
        if (run > 0 && !kw_utf8_valid(p, run)) return 0;
        if (nul == NULL) break;
        p += run + 1;
        n -= run + 1;
    }
    return 1;
}

static int close_code_sendable(unsigned code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

/* Checks one result and appends it to the transcript. */
static void check_result(stream_ws_result_t r, const char *msg, size_t len, size_t max_message,
                         kw_buf_t *transcript)
{
    switch (r) {
    case WS_TEXT:
        if (msg == NULL || len > max_message || msg[len] != '\0') abort();
        if (!utf8_valid_with_nul(msg, len)) abort();
        break;
    case WS_PING:
        if (msg == NULL || len < 2 || len > 127) abort();
        if ((unsigned char)msg[0] != 0x8a || (size_t)(unsigned char)msg[1] != len - 2) abort();
        break;
    case WS_CLOSE:
    case WS_ERROR:
        if (msg == NULL || len < 4 || len > 127) abort();
        if ((unsigned char)msg[0] != 0x88 || (size_t)(unsigned char)msg[1] != len - 2) abort();
        if (!close_code_sendable((unsigned)(unsigned char)msg[2] << 8 | (unsigned char)msg[3]))
            abort();
        break;
    default:
        abort();
    }
    unsigned char head[9];
    head[0] = (unsigned char)r;
    for (int i = 0; i < 8; i++)
        head[1 + i] = (unsigned char)((uint64_t)len >> (8 * i));
    kw_buf_append(transcript, head, sizeof(head));
    kw_buf_append(transcript, msg, len);
}

static uint32_t next_rand(uint32_t *s)
{
    /* xorshift32; never zero */
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* Feeds data as reads of the sizes the chunker picks (seed 0: one read),
 * looping on used as the workers do; every result goes to transcript. */
static void run(const uint8_t *data, size_t size, size_t max_message, uint32_t seed,
                size_t max_chunk, kw_buf_t *transcript)
{
    stream_ws_t *ws = stream_ws_new(max_message);
    uint32_t rng = seed ? seed : 1;
    size_t pos = 0;
    int closed = 0;
    while (pos < size) {
        size_t n = size - pos;
        if (seed) {
            size_t want = 1 + next_rand(&rng) % max_chunk;
            if (want < n) n = want;
        }
        /* Exactly n bytes: a read past them is ASan's to catch. */
        char *chunk = malloc(n);
        if (chunk == NULL) abort();
        memcpy(chunk, data + pos, n);
        size_t off = 0;
        while (off < n) {
            size_t used = (size_t)-1, len = (size_t)-1;
            char *msg = (char *)chunk; /* must be overwritten */
            stream_ws_result_t r = stream_ws_feed(ws, chunk + off, n - off, &used, &msg, &len);
            if (used > n - off) abort();
            off += used;
            if (r == WS_NEED_MORE) {
                /* Nothing is left behind: the worker would lose it. */
                if (msg != NULL || len != 0 || off != n) abort();
                break;
            }
            if (closed || used == 0) abort(); /* results need bytes; none after a close */
            check_result(r, msg, len, max_message, transcript);
            free(msg);
            if (r == WS_CLOSE || r == WS_ERROR) closed = 1;
        }
        free(chunk);
        pos += n;
    }
    /* An empty read changes nothing. */
    size_t used = 1, len = 1;
    char *msg = (char *)data;
    if (stream_ws_feed(ws, "", 0, &used, &msg, &len) != WS_NEED_MORE || used != 0 || msg != NULL ||
        len != 0)
        abort();
    stream_ws_free(ws);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5) return 0;
    static const size_t limits[] = {0, 1, 5, 16, 125, 126, 200, 4096, 65535, 65536, 1 << 20};
    size_t max_message = limits[data[0] % (sizeof(limits) / sizeof(limits[0]))];
    uint32_t seed = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 |
                    (uint32_t)data[4] << 24;
    data += 5;
    size -= 5;

    kw_buf_t whole = {0}, split = {0}, bytewise = {0};
    run(data, size, max_message, 0, 0, &whole);
    run(data, size, max_message, seed | 1, 1 + (seed >> 24) % 64, &split);
    if (whole.len != split.len || (whole.len && memcmp(whole.data, split.data, whole.len) != 0))
        abort();
    if (size <= 1024) {
        run(data, size, max_message, 0x9e3779b9u, 1, &bytewise);
        if (whole.len != bytewise.len ||
            (whole.len && memcmp(whole.data, bytewise.data, whole.len) != 0))
            abort();
    }
    kw_buf_free(&whole);
    kw_buf_free(&split);
    kw_buf_free(&bytewise);
    return 0;
}
