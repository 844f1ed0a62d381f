/* sd_ws.h: sans-IO WebSocket (RFC 6455) server-side framing for stackd's
 * WebSocket API: the handshake accept key, a receiver that turns the bytes a
 * client sent into messages and control events (masked frames only,
 * fragmentation, control frames between fragments, UTF-8 validation of text,
 * close-code validation, frame and message size limits), and frame encoding
 * for what the server sends (unmasked). No sockets, no allocation except the
 * reassembly buffer of a fragmented message. Extensions (permessage-deflate)
 * and subprotocols are not negotiated. */
#ifndef SD_WS_H
#define SD_WS_H

#include "cm/buf.h"

#include <stddef.h>
#include <stdint.h>

enum sd_ws_opcode {
    SD_WS_OP_CONT = 0x0,
    SD_WS_OP_TEXT = 0x1,
    SD_WS_OP_BINARY = 0x2,
    SD_WS_OP_CLOSE = 0x8,
    SD_WS_OP_PING = 0x9,
    SD_WS_OP_PONG = 0xA,
};

/* Close codes used here (RFC 6455 7.4.1). */
enum sd_ws_close {
    SD_WS_CLOSE_NORMAL = 1000,
    SD_WS_CLOSE_GOING_AWAY = 1001,
    SD_WS_CLOSE_PROTOCOL = 1002,
    SD_WS_CLOSE_NO_STATUS = 1005, /* never sent; reported when a close had no code */
    SD_WS_CLOSE_ABNORMAL = 1006,  /* never sent; the TCP connection ended without a close */
    SD_WS_CLOSE_BAD_DATA = 1007,  /* text that is not UTF-8 */
    SD_WS_CLOSE_TOO_BIG = 1009,
    SD_WS_CLOSE_INTERNAL = 1011,
};

/* API Gateway WebSocket limits (aws-facts.md 4.6). */
#define SD_WS_MAX_FRAME_BYTES   (32 * 1024)
#define SD_WS_MAX_MESSAGE_BYTES (128 * 1024)

enum sd_ws_ev_type {
    SD_WS_EV_NONE = 0, /* need more bytes */
    SD_WS_EV_MESSAGE,  /* a complete text or binary message */
    SD_WS_EV_PING,
    SD_WS_EV_PONG,
    SD_WS_EV_CLOSE, /* the client's close frame: answer with a close and close */
};

struct sd_ws_event {
    enum sd_ws_ev_type type;
    int binary;         /* MESSAGE: 1 binary, 0 text (validated UTF-8) */
    const char *data;   /* payload (unmasked), len bytes; valid until the next feed */
    size_t len;         /* bytes */
    int close_code;     /* CLOSE: the client's code, SD_WS_CLOSE_NO_STATUS when absent */
    const char *reason; /* CLOSE: reason text (UTF-8), reason_len bytes */
    size_t reason_len;
};

/* Receiver state of one connection. Small while no fragmented message is in
 * progress (frag holds no allocation then). */
struct sd_ws_rx {
    size_t max_frame_bytes;   /* payload of one frame; 0 = SD_WS_MAX_FRAME_BYTES */
    size_t max_message_bytes; /* reassembled message; 0 = SD_WS_MAX_MESSAGE_BYTES */
    uint8_t frag_opcode;      /* TEXT/BINARY of the message being reassembled, 0 none */
    struct cm_buf frag;       /* reassembly buffer (allocated only while fragmented) */
};

void sd_ws_rx_init(struct sd_ws_rx *rx, size_t max_frame_bytes, size_t max_message_bytes);
void sd_ws_rx_deinit(struct sd_ws_rx *rx);

/* Consumes at most one frame from buf[0..len) (unmasking it in place) and
 * fills ev. Returns 0 with *consumed set (ev->type NONE when more bytes are
 * needed; a control frame or a non-final fragment may also consume bytes and
 * yield NONE), or a negative cm_err (CM_EPARSE, CM_ETOOBIG) with *close_code
 * set to the code to close with (1002, 1007, 1009): the connection must then
 * be closed. ev's pointers point into buf or into rx and stay valid until the
 * next call. */
int sd_ws_rx_feed(struct sd_ws_rx *rx, uint8_t *buf, size_t len, size_t *consumed,
                  struct sd_ws_event *ev, int *close_code);

/* Writes a frame header for a server (unmasked) frame into hdr (>= 10 bytes);
 * returns its length. */
size_t sd_ws_frame_header(uint8_t *hdr, int fin, int opcode, size_t payload_len);
/* Appends a whole message to out, split into frames of at most
 * max_frame_bytes (0: SD_WS_MAX_FRAME_BYTES). 0 or CM_ETOOBIG. */
int sd_ws_append_message(struct cm_buf *out, int opcode, const void *data, size_t len,
                         size_t max_frame_bytes);
/* Appends a close frame with code (and reason, truncated to 123 bytes). */
int sd_ws_append_close(struct cm_buf *out, int code, const char *reason);

/* Sec-WebSocket-Accept for the client's Sec-WebSocket-Key: base64(SHA-1(key +
 * GUID)) into out (>= 29 bytes with the NUL). 0, or CM_EINVAL when the key is
 * not the base64 of 16 bytes (RFC 6455 4.2.1 item 5). */
int sd_ws_accept_key(const char *key, size_t key_len, char out[29]);

/* 1 when p[0..n) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
int sd_ws_utf8_valid(const char *p, size_t n);

#endif
