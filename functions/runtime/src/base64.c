/* base64.c: RFC 4648 base64 (standard alphabet) for API Gateway bodies with
 * isBase64Encoded. Not the URL-safe variant, not MIME (no line breaks). */
#include "rt.h"

#include "cm/err.h"

#include <stdint.h>

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int rt_base64_encode(const void *p, size_t n, struct cm_buf *out)
{
    const unsigned char *s = p;
    /* 4 output bytes per 3 input bytes, rounded up. */
    int rc = cm_buf_reserve(out, (n + 2) / 3 * 4);
    if (rc)
        return rc;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        char q[4] = {b64_alphabet[v >> 18], b64_alphabet[(v >> 12) & 63],
                     b64_alphabet[(v >> 6) & 63], b64_alphabet[v & 63]};
        cm_buf_append(out, q, 4);
    }
    if (i < n) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)s[i + 1] << 8;
        char q[4] = {b64_alphabet[v >> 18], b64_alphabet[(v >> 12) & 63],
                     i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=', '='};
        cm_buf_append(out, q, 4);
    }
    out->data[out->len] = '\0'; /* reserve() alone does not terminate */
    return 0;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int rt_base64_decode(const char *p, size_t n, struct cm_buf *out)
{
    /* Strip up to two '=' of padding; what remains must be whole quads plus
     * a tail of 2 or 3 symbols (a tail of 1 symbol carries only 6 bits). */
    size_t pad = 0;
    while (n > 0 && p[n - 1] == '=' && pad < 2) {
        n--;
        pad++;
    }
    if (n % 4 == 1 || (pad && (n + pad) % 4 != 0))
        return CM_EPARSE;
    int rc = cm_buf_reserve(out, n / 4 * 3 + 2);
    if (rc)
        return rc;
    size_t start = out->len;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value((unsigned char)p[i]);
        if (v < 0) {
            out->len = start; /* leave out as it was */
            out->data[start] = '\0';
            return CM_EPARSE;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            cm_buf_putc(out, (char)((acc >> bits) & 0xff));
        }
    }
    out->data[out->len] = '\0'; /* reserve() alone does not terminate */
    return 0;
}
