/* Unit tests for the WebSocket framing (sd_ws.c): RFC 6455 examples (1.3
 * accept key, 5.7 frames), masking, fragmentation with control frames in
 * between, invalid opcodes and bits, size limits, UTF-8 and close codes. */
#include "harness.h"
#include "sd_ws.h"

#include "cm/err.h"

#include <stdlib.h>
#include <string.h>

/* A masked client frame into out; returns its length. */
static size_t client_frame(uint8_t *out, int fin, int opcode, const void *payload, size_t n)
{
    static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
    size_t hl = sd_ws_frame_header(out, fin, opcode, n);
    out[1] |= 0x80;
    memcpy(out + hl, mask, 4);
    for (size_t i = 0; i < n; i++)
        out[hl + 4 + i] = ((const uint8_t *)payload)[i] ^ mask[i & 3];
    return hl + 4 + n;
}

static int feed(struct sd_ws_rx *rx, uint8_t *buf, size_t len, size_t *used, struct sd_ws_event *ev)
{
    int code = 0;
    int rc = sd_ws_rx_feed(rx, buf, len, used, ev, &code);
    return rc < 0 ? -code : rc;
}

static void test_accept_key(void)
{
    char out[29];
    static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";
    CHECK_INT(sd_ws_accept_key(key, strlen(key), out), 0);
    CHECK_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK_INT(sd_ws_accept_key("short", 5, out), CM_EINVAL);
    CHECK_INT(sd_ws_accept_key("dGhlIHNhbXBsZSBub25j!!==", 24, out), CM_EINVAL);
}

static void test_rfc_examples(void)
{
    struct sd_ws_rx rx;
    struct sd_ws_event ev;
    size_t used;
    sd_ws_rx_init(&rx, 0, 0);
    /* RFC 6455 5.7: a single-frame masked text message "Hello". */
    uint8_t masked[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
    for (size_t cut = 0; cut < sizeof(masked); cut++) { /* partial input: need more */
        uint8_t tmp[sizeof(masked)];
        memcpy(tmp, masked, sizeof(masked));
        CHECK_INT(feed(&rx, tmp, cut, &used, &ev), 0);
        CHECK_INT(ev.type, SD_WS_EV_NONE);
        CHECK_INT(used, 0);
    }
    CHECK_INT(feed(&rx, masked, sizeof(masked), &used, &ev), 0);
    CHECK_INT(used, sizeof(masked));
    CHECK_INT(ev.type, SD_WS_EV_MESSAGE);
    CHECK_INT(ev.binary, 0);
    CHECK(ev.len == 5 && memcmp(ev.data, "Hello", 5) == 0);
    /* The same unmasked (as a server sends it) is rejected from a client. */
    uint8_t unmasked[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    CHECK_INT(feed(&rx, unmasked, sizeof(unmasked), &used, &ev), -SD_WS_CLOSE_PROTOCOL);
    /* Server side encoding matches the RFC's unmasked examples. */
    struct cm_buf b;
    cm_buf_init(&b, 0);
    sd_ws_append_message(&b, SD_WS_OP_TEXT, "Hello", 5, 0);
    CHECK(b.len == sizeof(unmasked) && memcmp(b.data, unmasked, b.len) == 0);
    cm_buf_reset(&b);
    uint8_t hdr256[] = {0x82, 0x7E, 0x01, 0x00};
    char *big = calloc(1, 65536);
    sd_ws_append_message(&b, SD_WS_OP_BINARY, big, 256, 0);
    CHECK(b.len == 260 && memcmp(b.data, hdr256, 4) == 0);
    cm_buf_reset(&b);
    uint8_t hdr64k[] = {0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0};
    sd_ws_append_message(&b, SD_WS_OP_BINARY, big, 65536, 65536);
    CHECK(b.len == 65546 && memcmp(b.data, hdr64k, 10) == 0);
    /* Split into 32 KB frames by default: TEXT (no FIN) then CONT (FIN). */
    cm_buf_reset(&b);
    sd_ws_append_message(&b, SD_WS_OP_TEXT, big, 40000, 0);
    CHECK_INT((uint8_t)b.data[0], 0x01);
    CHECK_INT((uint8_t)b.data[4 + 32768], 0x80);
    cm_buf_deinit(&b);
    free(big);
    sd_ws_rx_deinit(&rx);
}

static void test_fragments_and_control(void)
{
    struct sd_ws_rx rx;
    struct sd_ws_event ev;
    uint8_t buf[512];
    size_t used, n = 0;
    sd_ws_rx_init(&rx, 0, 0);
    n += client_frame(buf + n, 0, SD_WS_OP_TEXT, "Hel", 3);
    n += client_frame(buf + n, 1, SD_WS_OP_PING, "p", 1); /* control between fragments */
    n += client_frame(buf + n, 0, SD_WS_OP_CONT, "l", 1);
    n += client_frame(buf + n, 1, SD_WS_OP_CONT, "o", 1);
    size_t off = 0;
    CHECK_INT(feed(&rx, buf, n, &used, &ev), 0);
    CHECK_INT(ev.type, SD_WS_EV_NONE); /* first fragment consumed */
    off += used;
    CHECK_INT(feed(&rx, buf + off, n - off, &used, &ev), 0);
    CHECK_INT(ev.type, SD_WS_EV_PING);
    CHECK(ev.len == 1 && ev.data[0] == 'p');
    off += used;
    CHECK_INT(feed(&rx, buf + off, n - off, &used, &ev), 0);
    CHECK_INT(ev.type, SD_WS_EV_NONE);
    off += used;
    CHECK_INT(feed(&rx, buf + off, n - off, &used, &ev), 0);
    CHECK_INT(ev.type, SD_WS_EV_MESSAGE);
    CHECK(ev.len == 5 && memcmp(ev.data, "Hello", 5) == 0);
    off += used;
    CHECK_INT(off, n);
    /* CONT without a start, and a new TEXT inside a fragmented message. */
    n = client_frame(buf, 1, SD_WS_OP_CONT, "x", 1);
    CHECK_INT(feed(&rx, buf, n, &used, &ev), -SD_WS_CLOSE_PROTOCOL);
    sd_ws_rx_deinit(&rx);
    sd_ws_rx_init(&rx, 0, 0);
    n = client_frame(buf, 0, SD_WS_OP_TEXT, "a", 1);
    CHECK_INT(feed(&rx, buf, n, &used, &ev), 0);
    n = client_frame(buf, 1, SD_WS_OP_TEXT, "b", 1);
    CHECK_INT(feed(&rx, buf, n, &used, &ev), -SD_WS_CLOSE_PROTOCOL);
    sd_ws_rx_deinit(&rx);
    /* Fragmented control frame, control frame over 125 bytes. */
    sd_ws_rx_init(&rx, 0, 0);
    n = client_frame(buf, 0, SD_WS_OP_PING, "a", 1);
    CHECK_INT(feed(&rx, buf, n, &used, &ev), -SD_WS_CLOSE_PROTOCOL);
    char p126[126] = {0};
    n = client_frame(buf, 1, SD_WS_OP_PING, p126, sizeof(p126));
    CHECK_INT(feed(&rx, buf, n, &used, &ev), -SD_WS_CLOSE_PROTOCOL);
    sd_ws_rx_deinit(&rx);
}

static void test_invalid(void)
{
    struct sd_ws_rx rx;
    struct sd_ws_event ev;
    uint8_t buf[256];
    size_t used, n;
    static const int bad_ops[] = {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF};
    for (size_t i = 0; i < sizeof(bad_ops) / sizeof(bad_ops[0]); i++) {
        sd_ws_rx_init(&rx, 0, 0);
        n = client_frame(buf, 1, bad_ops[i], "x", 1);
        CHECK_INT(feed(&rx, buf, n, &used, &ev), -SD_WS_CLOSE_PROTOCOL);
        sd_ws_rx_deinit(&rx);
    }
    sd_ws_rx_init(&rx, 0, 0);
    n = client_frame(buf, 1, SD_WS_OP_TEXT, "x", 1);
    buf[0] |= 0x40; /* RSV1 without an extension */
    CHECK_INT(feed(&rx, buf, n, &used, &ev), -SD_WS_CLOSE_PROTOCOL);
    /* 64-bit length with the high bit set. */
    uint8_t huge[] = {0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1};
    CHECK_INT(feed(&rx, huge, sizeof(huge), &used, &ev), -SD_WS_CLOSE_PROTOCOL);
    /* UTF-8: invalid text is 1007, binary is not checked. */
    n = client_frame(buf, 1, SD_WS_OP_TEXT, "\xc3\x28", 2);
    CHECK_INT(feed(&rx, buf, n, &used, &ev), -SD_WS_CLOSE_BAD_DATA);
    n = client_frame(buf, 1, SD_WS_OP_BINARY, "\xc3\x28", 2);
    CHECK_INT(feed(&rx, buf, n, &used, &ev), 0);
    CHECK_INT(ev.binary, 1);
    sd_ws_rx_deinit(&rx);
    CHECK(sd_ws_utf8_valid("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", 11));
    CHECK(sd_ws_utf8_valid("\xf0\x9f\x98\x80", 4));
    CHECK(!sd_ws_utf8_valid("\xc0\xaf", 2));         /* overlong */
    CHECK(!sd_ws_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    CHECK(!sd_ws_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    CHECK(!sd_ws_utf8_valid("\xe2\x82", 2));         /* truncated */
}

static void test_limits(void)
{
    struct sd_ws_rx rx;
    struct sd_ws_event ev;
    size_t used;
    static uint8_t buf[3 * 32768];
    char *payload = calloc(1, 32769);
    memset(payload, 'a', 32769);
    /* Over 32 KB in one frame: 1009 as soon as the header is read. */
    sd_ws_rx_init(&rx, 0, 0);
    size_t n = client_frame(buf, 1, SD_WS_OP_TEXT, payload, 32769);
    CHECK_INT(feed(&rx, buf, 8, &used, &ev), -SD_WS_CLOSE_TOO_BIG);
    sd_ws_rx_deinit(&rx);
    sd_ws_rx_init(&rx, 0, 0);
    n = client_frame(buf, 1, SD_WS_OP_TEXT, payload, 32768); /* exactly 32 KB is fine */
    CHECK_INT(feed(&rx, buf, n, &used, &ev), 0);
    CHECK_INT(ev.type, SD_WS_EV_MESSAGE);
    CHECK_INT(ev.len, 32768);
    sd_ws_rx_deinit(&rx);
    /* 5 fragments of 30 KB: the message passes 128 KB on the fifth. */
    sd_ws_rx_init(&rx, 0, 0);
    int last = 0;
    for (int i = 0; i < 5; i++) {
        n = client_frame(buf, i == 4, i ? SD_WS_OP_CONT : SD_WS_OP_TEXT, payload, 30 * 1024);
        last = feed(&rx, buf, n, &used, &ev);
        if (i < 4)
            CHECK_INT(last, 0);
    }
    CHECK_INT(last, -SD_WS_CLOSE_TOO_BIG);
    sd_ws_rx_deinit(&rx);
    free(payload);
}

static void test_close(void)
{
    struct sd_ws_rx rx;
    struct sd_ws_event ev;
    uint8_t buf[256];
    size_t used, n;
    sd_ws_rx_init(&rx, 0, 0);
    n = client_frame(buf, 1, SD_WS_OP_CLOSE,
                     "\x03\xe8"
                     "bye",
                     5);
    CHECK_INT(feed(&rx, buf, n, &used, &ev), 0);
    CHECK_INT(ev.type, SD_WS_EV_CLOSE);
    CHECK_INT(ev.close_code, 1000);
    CHECK(ev.reason_len == 3 && memcmp(ev.reason, "bye", 3) == 0);
    n = client_frame(buf, 1, SD_WS_OP_CLOSE, "", 0);
    CHECK_INT(feed(&rx, buf, n, &used, &ev), 0);
    CHECK_INT(ev.close_code, SD_WS_CLOSE_NO_STATUS);
    n = client_frame(buf, 1, SD_WS_OP_CLOSE, "\x03", 1); /* 1-byte payload */
    CHECK_INT(feed(&rx, buf, n, &used, &ev), -SD_WS_CLOSE_PROTOCOL);
    static const int bad[] = {0, 999, 1004, 1005, 1006, 1015, 2999, 5000};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t p[2] = {(uint8_t)(bad[i] >> 8), (uint8_t)bad[i]};
        n = client_frame(buf, 1, SD_WS_OP_CLOSE, p, 2);
        CHECK_INT(feed(&rx, buf, n, &used, &ev), -SD_WS_CLOSE_PROTOCOL);
    }
    n = client_frame(buf, 1, SD_WS_OP_CLOSE, "\x0f\xa1", 2); /* 4001: application code */
    CHECK_INT(feed(&rx, buf, n, &used, &ev), 0);
    CHECK_INT(ev.close_code, 4001);
    n = client_frame(buf, 1, SD_WS_OP_CLOSE, "\x03\xe8\xc3\x28", 4); /* bad UTF-8 reason */
    CHECK_INT(feed(&rx, buf, n, &used, &ev), -SD_WS_CLOSE_BAD_DATA);
    sd_ws_rx_deinit(&rx);
    struct cm_buf b;
    cm_buf_init(&b, 0);
    sd_ws_append_close(&b, 1009, "Message too big");
    CHECK(b.len == 19 && (uint8_t)b.data[0] == 0x88 && b.data[1] == 17);
    CHECK((uint8_t)b.data[2] == 0x03 && (uint8_t)b.data[3] == 0xf1);
    cm_buf_deinit(&b);
}

int main(void)
{
    test_accept_key();
    test_rfc_examples();
    test_fragments_and_control();
    test_invalid();
    test_limits();
    test_close();
    return TEST_REPORT();
}
