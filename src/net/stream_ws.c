/* stream_ws.c -- the WebSocket side of the streams (RFC 6455, server role):
 * parsing what a client sends with wslay's frame layer, building the frames
 * the server sends, and the handshake's Sec-WebSocket-Accept value. */
#include "net/stream_int.h"

#include <openssl/evp.h>
#include <wslay/wslay.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Design note: feeding a pull parser from pushed bytes.
 *
 * The workers push each read's bytes at stream_ws_feed and expect one result
 * per call, with *used telling them where to continue. wslay's frame layer
 * pulls: wslay_frame_recv asks its recv callback for bytes, keeps them in a
 * private 4 KiB buffer, and hands back payload a piece at a time. If wslay
 * were given everything at once it would read ahead past the frame that
 * completes a message, and those bytes (say, a second ping in the same TCP
 * segment) would sit inside wslay, already counted as used, until the
 * client happened to send more. So the recv callback never lets wslay read
 * past the frame it is on: until wslay has reported a frame's header it gets
 * one byte per call (a header is 2 to 14 bytes), and after that at most the
 * payload bytes the frame still has. When a message completes, wslay holds
 * nothing, and *used is exactly the bytes handed to it.
 *
 * wslay checks the framing itself (control frames fragmented or over 125
 * bytes, lengths not in their shortest form: WSLAY_ERR_PROTO); this file
 * checks what the frame layer leaves to its caller: masking, reserved bits,
 * opcodes, continuation order, the message limit (before any payload is
 * buffered, so a huge length costs nothing), UTF-8 and close codes. Any
 * violation answers a close frame with the RFC 6455 status code and a short
 * reason, and every later byte is discarded. */

#define WS_CLOSE_NORMAL 1000
#define WS_CLOSE_PROTOCOL 1002
#define WS_CLOSE_UNSUPPORTED 1003
#define WS_CLOSE_INVALID_DATA 1007
#define WS_CLOSE_TOO_BIG 1009
#define WS_CLOSE_INTERNAL 1011

#define WS_CONTROL_MAX 125

struct stream_ws_s {
    wslay_frame_context_ptr frames;
    size_t max_message; /* a text message's total payload at most */

    /* The bytes of the current stream_ws_feed call, served to ws_recv. */
    const unsigned char *in;
    size_t in_len;
    size_t in_off;

    /* The frame being received. */
    int in_frame; /* wslay has reported its header */
    uint8_t opcode;
    uint8_t fin;
    uint64_t frame_left;   /* payload bytes still to come */
    unsigned char head[2]; /* its first header bytes, to explain WSLAY_ERR_PROTO */
    size_t head_len;

    /* A text message, possibly fragmented, being reassembled. */
    int in_message;
    kw_buf_t message;

    /* A control frame's payload; control frames may arrive between the
     * fragments of a message, so they get their own buffer. */
    unsigned char control[WS_CONTROL_MAX];
    size_t control_len;

    int closed; /* a close frame was returned: the rest is discarded */
};

/* wslay's recv callback: at most the bytes that belong to the current frame
 * (see the design note); WOULDBLOCK when the fed bytes run out. */
static ssize_t ws_recv(uint8_t *buf, size_t len, int flags, void *user_data)
{
    stream_ws_t *ws = user_data;
    size_t n = ws->in_len - ws->in_off;
    if (ws->in_frame) {
        if (n > ws->frame_left) n = (size_t)ws->frame_left;
    } else if (n > 1) {
        n = 1;
    }
    if (n > len) n = len;
    if (n == 0) return WSLAY_ERR_WOULDBLOCK;
    if (!ws->in_frame && ws->head_len < sizeof(ws->head))
        ws->head[ws->head_len++] = ws->in[ws->in_off];
    memcpy(buf, ws->in + ws->in_off, n);
    ws->in_off += n;
    return (ssize_t)n;
}

/* The server never sends through wslay (frames are built by
 * stream_ws_frame), but wslay wants both callbacks. */
static ssize_t ws_send_unused(const uint8_t *data, size_t len, int flags, void *user_data)
{
    return WSLAY_ERR_WOULDBLOCK;
}

static int ws_genmask_unused(uint8_t *buf, size_t len, void *user_data)
{
    return -1;
}

stream_ws_t *stream_ws_new(size_t max_message)
{
    static const struct wslay_frame_callbacks callbacks = {ws_send_unused, ws_recv,
                                                           ws_genmask_unused};
    stream_ws_t *ws = kw_calloc(1, sizeof(*ws));
    ws->max_message = max_message;
    if (wslay_frame_context_init(&ws->frames, &callbacks, ws) != 0) {
        /* wslay's only failure is malloc: the project's out-of-memory rule. */
        fprintf(stderr, "kawat: out of memory starting a WebSocket parser\n");
        abort();
    }
    return ws;
}

void stream_ws_free(stream_ws_t *ws)
{
    if (ws == NULL) return;
    wslay_frame_context_free(ws->frames);
    kw_buf_free(&ws->message);
    free(ws);
}

/* Valid UTF-8 where NUL is allowed (RFC 6455 text may carry U+0000, and
 * kw_utf8_valid refuses it). A 0x00 byte is never part of a multi-byte
 * sequence, so checking the runs between NULs is exactly that. */
static int ws_utf8_valid(const unsigned char *p, size_t n)
{
    while (n > 0) {
        const unsigned char *nul = memchr(p, '\0', n);
        size_t run = nul ? (size_t)(nul - p) : n;
        if (run > 0 && !kw_utf8_valid((const char *)p, run)) return 0;
        if (nul == NULL) break;
        p += run + 1;
        n -= run + 1;
    }
    return 1;
}

/* Close codes a peer may send (RFC 6455 7.4, and the IANA registry's
 * 1012-1014); 1005, 1006 and 1015 must never appear on the wire. */
static int ws_close_code_valid(unsigned code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

/* A close frame with code and reason (reason at most 123 bytes). */
static char *ws_close_frame(unsigned code, const char *reason, size_t *out_len)
{
    unsigned char payload[WS_CONTROL_MAX];
    size_t n = reason ? strlen(reason) : 0;
    if (n > WS_CONTROL_MAX - 2) n = WS_CONTROL_MAX - 2;
    payload[0] = (unsigned char)(code >> 8);
    payload[1] = (unsigned char)(code & 0xff);
    if (n) memcpy(payload + 2, reason, n);
    return stream_ws_frame(0x8, payload, n + 2, out_len);
}

/* Ends the connection with an error: *msg is the close frame to send. */
static stream_ws_result_t ws_fail(stream_ws_t *ws, unsigned code, const char *reason, char **msg,
                                  size_t *msg_len)
{
    *msg = ws_close_frame(code, reason, msg_len);
    ws->closed = 1;
    ws->in_message = 0;
    kw_buf_free(&ws->message);
    return WS_ERROR;
}

/* Why wslay said WSLAY_ERR_PROTO, from the frame's first two bytes. */
static const char *ws_proto_reason(const stream_ws_t *ws)
{
    if (ws->head_len == 2 && (ws->head[0] & 0x08)) {
        if (!(ws->head[0] & 0x80)) return "fragmented control frame";
        if ((ws->head[1] & 0x7f) > WS_CONTROL_MAX) return "control frame over 125 bytes";
    }
    return "payload length not minimally encoded or too large";
}

/* Checks a frame's header when wslay first reports it. Returns WS_NEED_MORE
 * to go on, or WS_ERROR with the close frame in *msg. */
static stream_ws_result_t ws_frame_begin(stream_ws_t *ws, const struct wslay_frame_iocb *f,
                                         char **msg, size_t *msg_len)
{
    if (!f->mask)
        return ws_fail(ws, WS_CLOSE_PROTOCOL, "client frames must be masked", msg, msg_len);
    if (f->rsv != 0)
        return ws_fail(ws, WS_CLOSE_PROTOCOL, "reserved bits set without an extension", msg,
                       msg_len);
    switch (f->opcode) {
    case WSLAY_CONTINUATION_FRAME:
        if (!ws->in_message)
            return ws_fail(ws, WS_CLOSE_PROTOCOL, "continuation frame without a message", msg,
                           msg_len);
        break;
    case WSLAY_TEXT_FRAME:
        if (ws->in_message)
            return ws_fail(ws, WS_CLOSE_PROTOCOL, "new message inside a fragmented one", msg,
                           msg_len);
        ws->in_message = 1;
        kw_buf_reset(&ws->message);
        break;
    case WSLAY_BINARY_FRAME:
        return ws_fail(ws, WS_CLOSE_UNSUPPORTED, "text only", msg, msg_len);
    case WSLAY_CONNECTION_CLOSE:
    case WSLAY_PING:
    case WSLAY_PONG:
        /* wslay refuses fragmented and over-long control frames; the
         * length is checked again because ws->control relies on it. */
        if (!f->fin || f->payload_length > WS_CONTROL_MAX)
            return ws_fail(ws, WS_CLOSE_PROTOCOL, "control frame fragmented or over 125 bytes", msg,
                           msg_len);
        ws->control_len = 0;
        break;
    default:
        return ws_fail(ws, WS_CLOSE_PROTOCOL, "unknown opcode", msg, msg_len);
    }
    if (!wslay_is_ctrl_frame(f->opcode) &&
        f->payload_length > (uint64_t)(ws->max_message - ws->message.len))
        return ws_fail(ws, WS_CLOSE_TOO_BIG, "message too big", msg, msg_len);
    ws->in_frame = 1;
    ws->opcode = f->opcode;
    ws->fin = f->fin;
    ws->frame_left = f->payload_length;
    return WS_NEED_MORE;
}

/* The peer's close frame is complete: echo its code (1000 if it gave none),
 * or refuse a malformed one. */
static stream_ws_result_t ws_close_received(stream_ws_t *ws, char **msg, size_t *msg_len)
{
    unsigned code = WS_CLOSE_NORMAL;
    if (ws->control_len == 1)
        return ws_fail(ws, WS_CLOSE_PROTOCOL, "close frame with a 1-byte payload", msg, msg_len);
    if (ws->control_len >= 2) {
        code = (unsigned)ws->control[0] << 8 | ws->control[1];
        if (!ws_close_code_valid(code))
            return ws_fail(ws, WS_CLOSE_PROTOCOL, "invalid close code", msg, msg_len);
        if (!ws_utf8_valid(ws->control + 2, ws->control_len - 2))
            return ws_fail(ws, WS_CLOSE_INVALID_DATA, "close reason is not valid UTF-8", msg,
                           msg_len);
    }
    *msg = ws_close_frame(code, NULL, msg_len);
    ws->closed = 1;
    kw_buf_free(&ws->message);
    return WS_CLOSE;
}

/* A frame's payload is complete: what it means. */
static stream_ws_result_t ws_frame_end(stream_ws_t *ws, char **msg, size_t *msg_len)
{
    switch (ws->opcode) {
    case WSLAY_CONTINUATION_FRAME:
    case WSLAY_TEXT_FRAME:
        if (!ws->fin) return WS_NEED_MORE;
        ws->in_message = 0;
        if (!ws_utf8_valid((const unsigned char *)ws->message.data, ws->message.len))
            return ws_fail(ws, WS_CLOSE_INVALID_DATA, "text is not valid UTF-8", msg, msg_len);
        *msg = kw_buf_steal(&ws->message, msg_len);
        return WS_TEXT;
    case WSLAY_PING:
        *msg = stream_ws_frame(0xA, ws->control, ws->control_len, msg_len);
        return WS_PING;
    case WSLAY_CONNECTION_CLOSE:
        return ws_close_received(ws, msg, msg_len);
    default: /* pong: nothing to do */
        return WS_NEED_MORE;
    }
}

/* One piece of payload from wslay (the first piece of a frame carries its
 * header). */
static stream_ws_result_t ws_frame_piece(stream_ws_t *ws, const struct wslay_frame_iocb *f,
                                         char **msg, size_t *msg_len)
{
    if (!ws->in_frame) {
        stream_ws_result_t r = ws_frame_begin(ws, f, msg, msg_len);
        if (r != WS_NEED_MORE) return r;
    }
    if (f->data_length > ws->frame_left) /* cannot happen: ws_recv caps it */
        return ws_fail(ws, WS_CLOSE_INTERNAL, "frame overrun", msg, msg_len);
    if (wslay_is_ctrl_frame(ws->opcode)) {
        memcpy(ws->control + ws->control_len, f->data, f->data_length);
        ws->control_len += f->data_length;
    } else if (f->data_length > 0) {
        kw_buf_append(&ws->message, f->data, f->data_length);
    }
    ws->frame_left -= f->data_length;
    if (ws->frame_left > 0) return WS_NEED_MORE;
    ws->in_frame = 0;
    ws->head_len = 0;
    return ws_frame_end(ws, msg, msg_len);
}

stream_ws_result_t stream_ws_feed(stream_ws_t *ws, const char *data, size_t len, size_t *used,
                                  char **msg, size_t *msg_len)
{
    stream_ws_result_t r = WS_NEED_MORE;
    *used = 0;
    *msg = NULL;
    *msg_len = 0;
    if (ws->closed) {
        *used = len;
        return WS_NEED_MORE;
    }
    ws->in = (const unsigned char *)data;
    ws->in_len = len;
    ws->in_off = 0;
    for (;;) {
        size_t before = ws->in_off;
        struct wslay_frame_iocb f;
        memset(&f, 0, sizeof(f));
        ssize_t n = wslay_frame_recv(ws->frames, &f);
        if (n == WSLAY_ERR_WANT_READ) {
            if (ws->in_off == ws->in_len || ws->in_off == before) break;
            continue;
        }
        if (n < 0) {
            r = n == WSLAY_ERR_PROTO
                    ? ws_fail(ws, WS_CLOSE_PROTOCOL, ws_proto_reason(ws), msg, msg_len)
                    : ws_fail(ws, WS_CLOSE_INTERNAL, "frame parser failure", msg, msg_len);
            break;
        }
        r = ws_frame_piece(ws, &f, msg, msg_len);
        if (r != WS_NEED_MORE) break;
        /* No byte taken and the frame still open: wait for more input. */
        if (ws->in_frame && ws->in_off == before) break;
    }
    *used = ws->in_off;
    ws->in = NULL;
    ws->in_len = ws->in_off = 0;
    return r;
}

char *stream_ws_frame(int opcode, const void *payload, size_t len, size_t *out_len)
{
    unsigned char head[10];
    size_t hl;
    head[0] = (unsigned char)(0x80 | (opcode & 0x0f)); /* FIN, no RSV */
    if (len < 126) {
        head[1] = (unsigned char)len;
        hl = 2;
    } else if (len <= 0xffff) {
        head[1] = 126;
        head[2] = (unsigned char)(len >> 8);
        head[3] = (unsigned char)(len & 0xff);
        hl = 4;
    } else {
        uint64_t n = len;
        head[1] = 127;
        for (int i = 0; i < 8; i++)
            head[2 + i] = (unsigned char)(n >> (56 - 8 * i));
        hl = 10;
    }
    char *frame = kw_malloc(hl + len);
    memcpy(frame, head, hl);
    if (len) memcpy(frame + hl, payload, len);
    *out_len = hl + len;
    return frame;
}

/* Sec-WebSocket-Key is base64 of 16 bytes: 22 characters of the alphabet
 * and "==". */
static int ws_key_valid(const char *key, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (len != 24 || key[22] != '=' || key[23] != '=') return 0;
    for (size_t i = 0; i < 22; i++)
        if (key[i] == '\0' || strchr(alphabet, key[i]) == NULL) return 0;
    return 1;
}

int stream_ws_accept_key(const char *key, size_t len, char out[32])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    char joined[24 + sizeof(guid)];
    out[0] = '\0';
    if (!ws_key_valid(key, len)) return KW_INVALID;
    memcpy(joined, key, 24);
    memcpy(joined + 24, guid, sizeof(guid) - 1);
    if (EVP_Digest(joined, 24 + sizeof(guid) - 1, digest, &dlen, EVP_sha1(), NULL) != 1 ||
        dlen != 20)
        return KW_ERROR;
    /* 20 bytes -> 28 characters and a NUL. */
    EVP_EncodeBlock((unsigned char *)out, digest, 20);
    return KW_OK;
}
