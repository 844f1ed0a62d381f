/* sd_ws.c: RFC 6455 framing (see sd_ws.h). Wire format of a frame:
 *   byte 0: FIN(0x80) RSV1-3(0x70, must be 0: no extension negotiated) opcode(0x0F)
 *   byte 1: MASK(0x80, must be 1 from a client) payload length 0..125,
 *           126 -> 16-bit length follows, 127 -> 64-bit length (MSB 0) follows
 *   then the 4-byte masking key, then the payload XORed with it. */
#include "sd_ws.h"

#include "cm/err.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>

void sd_ws_rx_init(struct sd_ws_rx *rx, size_t max_frame_bytes, size_t max_message_bytes)
{
    memset(rx, 0, sizeof(*rx));
    rx->max_frame_bytes = max_frame_bytes ? max_frame_bytes : SD_WS_MAX_FRAME_BYTES;
    rx->max_message_bytes = max_message_bytes ? max_message_bytes : SD_WS_MAX_MESSAGE_BYTES;
    cm_buf_init(&rx->frag, rx->max_message_bytes);
}

void sd_ws_rx_deinit(struct sd_ws_rx *rx)
{
    cm_buf_deinit(&rx->frag);
    rx->frag_opcode = 0;
}

int sd_ws_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned c = *p;
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t need;
        unsigned cp, min;
        if ((c & 0xE0) == 0xC0) {
            need = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            need = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            need = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if ((size_t)(end - p) <= need)
            return 0;
        for (size_t i = 1; i <= need; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        p += need + 1;
    }
    return 1;
}

/* Codes a peer may send (RFC 6455 7.4.1/7.4.2 and the IANA registry). */
static int close_code_ok(int code)
{
    if (code >= 3000 && code <= 4999)
        return 1;
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

static int fail(int *close_code, int code)
{
    *close_code = code;
    return code == SD_WS_CLOSE_TOO_BIG ? CM_ETOOBIG : CM_EPARSE;
}

struct frame {
    int fin, opcode;
    uint8_t *payload;
    size_t len;
    size_t total; /* header + payload bytes */
};

/* Parses the frame at buf: 1 done, 0 need more, negative with *close_code. */
static int parse_frame(const struct sd_ws_rx *rx, uint8_t *buf, size_t len, struct frame *f,
                       int *close_code)
{
    if (len < 2)
        return 0;
    f->fin = (buf[0] & 0x80) != 0;
    f->opcode = buf[0] & 0x0F;
    if (buf[0] & 0x70)
        return fail(close_code, SD_WS_CLOSE_PROTOCOL);
    if (!(buf[1] & 0x80))
        return fail(close_code, SD_WS_CLOSE_PROTOCOL); /* clients must mask */
    switch (f->opcode) {
    case SD_WS_OP_CONT:
    case SD_WS_OP_TEXT:
    case SD_WS_OP_BINARY:
    case SD_WS_OP_CLOSE:
    case SD_WS_OP_PING:
    case SD_WS_OP_PONG:
        break;
    default:
        return fail(close_code, SD_WS_CLOSE_PROTOCOL);
    }
    uint64_t plen = buf[1] & 0x7F;
    size_t hl = 2;
    if (plen == 126) {
        if (len < 4)
            return 0;
        plen = ((uint64_t)buf[2] << 8) | buf[3];
        hl = 4;
    } else if (plen == 127) {
        if (len < 10)
            return 0;
        plen = 0;
        for (int i = 0; i < 8; i++)
            plen = (plen << 8) | buf[2 + i];
        if (plen >> 63)
            return fail(close_code, SD_WS_CLOSE_PROTOCOL);
        hl = 10;
    }
    int control = f->opcode >= SD_WS_OP_CLOSE;
    if (control && (!f->fin || plen > 125))
        return fail(close_code, SD_WS_CLOSE_PROTOCOL);
    if (!control && plen > rx->max_frame_bytes)
        return fail(close_code, SD_WS_CLOSE_TOO_BIG); /* known before the payload arrives */
    if (len - hl < 4 || len - hl - 4 < plen)
        return 0;
    const uint8_t *mask = buf + hl;
    f->payload = buf + hl + 4;
    f->len = (size_t)plen;
    f->total = hl + 4 + f->len;
    for (size_t i = 0; i < f->len; i++)
        f->payload[i] ^= mask[i & 3];
    return 1;
}

static int on_close_frame(const struct frame *f, struct sd_ws_event *ev, int *close_code)
{
    ev->type = SD_WS_EV_CLOSE;
    ev->close_code = SD_WS_CLOSE_NO_STATUS;
    if (f->len == 0)
        return 0;
    if (f->len == 1)
        return fail(close_code, SD_WS_CLOSE_PROTOCOL);
    int code = (f->payload[0] << 8) | f->payload[1];
    if (!close_code_ok(code))
        return fail(close_code, SD_WS_CLOSE_PROTOCOL);
    if (!sd_ws_utf8_valid((const char *)f->payload + 2, f->len - 2))
        return fail(close_code, SD_WS_CLOSE_BAD_DATA);
    ev->close_code = code;
    ev->reason = (const char *)f->payload + 2;
    ev->reason_len = f->len - 2;
    return 0;
}

static int emit_message(int opcode, const char *data, size_t len, struct sd_ws_event *ev,
                        int *close_code)
{
    if (opcode == SD_WS_OP_TEXT && !sd_ws_utf8_valid(data, len))
        return fail(close_code, SD_WS_CLOSE_BAD_DATA);
    ev->type = SD_WS_EV_MESSAGE;
    ev->binary = opcode == SD_WS_OP_BINARY;
    ev->data = data;
    ev->len = len;
    return 0;
}

static int on_data_frame(struct sd_ws_rx *rx, const struct frame *f, struct sd_ws_event *ev,
                         int *close_code)
{
    if (f->opcode == SD_WS_OP_CONT) {
        if (!rx->frag_opcode)
            return fail(close_code, SD_WS_CLOSE_PROTOCOL); /* nothing to continue */
    } else if (rx->frag_opcode) {
        return fail(close_code, SD_WS_CLOSE_PROTOCOL); /* new message inside a fragmented one */
    } else if (f->fin) {
        return emit_message(f->opcode, (const char *)f->payload, f->len, ev, close_code);
    } else {
        rx->frag_opcode = (uint8_t)f->opcode;
    }
    if (rx->frag.len + f->len > rx->max_message_bytes ||
        cm_buf_append(&rx->frag, f->payload, f->len) < 0)
        return fail(close_code, SD_WS_CLOSE_TOO_BIG);
    if (!f->fin)
        return 0;
    int op = rx->frag_opcode;
    rx->frag_opcode = 0; /* frag keeps the bytes until the next feed */
    return emit_message(op, rx->frag.data ? rx->frag.data : "", rx->frag.len, ev, close_code);
}

int sd_ws_rx_feed(struct sd_ws_rx *rx, uint8_t *buf, size_t len, size_t *consumed,
                  struct sd_ws_event *ev, int *close_code)
{
    struct frame f;
    memset(ev, 0, sizeof(*ev));
    *consumed = 0;
    *close_code = 0;
    if (!rx->frag_opcode && rx->frag.data)
        cm_buf_deinit(&rx->frag); /* the last reassembled message was delivered */
    int rc = parse_frame(rx, buf, len, &f, close_code);
    if (rc <= 0)
        return rc;
    *consumed = f.total;
    switch (f.opcode) {
    case SD_WS_OP_CLOSE:
        return on_close_frame(&f, ev, close_code);
    case SD_WS_OP_PING:
    case SD_WS_OP_PONG:
        ev->type = f.opcode == SD_WS_OP_PING ? SD_WS_EV_PING : SD_WS_EV_PONG;
        ev->data = (const char *)f.payload;
        ev->len = f.len;
        return 0;
    default:
        return on_data_frame(rx, &f, ev, close_code);
    }
}

size_t sd_ws_frame_header(uint8_t *hdr, int fin, int opcode, size_t n)
{
    hdr[0] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0F));
    if (n < 126) {
        hdr[1] = (uint8_t)n;
        return 2;
    }
    if (n <= 0xFFFF) {
        hdr[1] = 126;
        hdr[2] = (uint8_t)(n >> 8);
        hdr[3] = (uint8_t)n;
        return 4;
    }
    hdr[1] = 127;
    for (int i = 0; i < 8; i++)
        hdr[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
    return 10;
}

int sd_ws_append_message(struct cm_buf *out, int opcode, const void *data, size_t len,
                         size_t max_frame_bytes)
{
    const uint8_t *p = data;
    size_t max = max_frame_bytes ? max_frame_bytes : SD_WS_MAX_FRAME_BYTES;
    size_t off = 0;
    int op = opcode;
    /* Reserve everything first so a CM_ETOOBIG leaves out unchanged. */
    if (cm_buf_reserve(out, len + 10 * (len / max + 1)) < 0)
        return CM_ETOOBIG;
    do {
        size_t n = len - off < max ? len - off : max;
        uint8_t hdr[10];
        size_t hl = sd_ws_frame_header(hdr, off + n == len, op, n);
        cm_buf_append(out, hdr, hl);
        cm_buf_append(out, p + off, n);
        off += n;
        op = SD_WS_OP_CONT;
    } while (off < len);
    return 0;
}

int sd_ws_append_close(struct cm_buf *out, int code, const char *reason)
{
    uint8_t f[2 + 2 + 123];
    size_t rl = reason ? strlen(reason) : 0;
    if (rl > 123)
        rl = 123;
    f[0] = 0x80 | SD_WS_OP_CLOSE;
    f[1] = (uint8_t)(2 + rl);
    f[2] = (uint8_t)(code >> 8);
    f[3] = (uint8_t)code;
    if (rl)
        memcpy(f + 4, reason, rl);
    return cm_buf_append(out, f, 4 + rl);
}

int sd_ws_accept_key(const char *key, size_t key_len, char out[29])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char raw[20], dec[32];
    /* A valid key is base64 of 16 bytes: 24 characters ending in "==". */
    if (key_len != 24 || key[22] != '=' || key[23] != '=')
        return CM_EINVAL;
    if (EVP_DecodeBlock(dec, (const unsigned char *)key, 24) != 18)
        return CM_EINVAL;
    char cat[24 + sizeof(guid)];
    memcpy(cat, key, 24);
    memcpy(cat + 24, guid, sizeof(guid) - 1);
    SHA1((const unsigned char *)cat, 24 + sizeof(guid) - 1, raw);
    EVP_EncodeBlock((unsigned char *)out, raw, 20); /* 28 chars + NUL */
    return 0;
}
