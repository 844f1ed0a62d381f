/* hist_codec.c: HdrHistogram V2 encoding of struct cm_hist and the
 * HdrHistogram interval log, byte-compatible with HdrHistogram's Java, C and
 * JS implementations. Writes only the V2 compressed form; reads compressed or
 * plain V2 (not V0/V1 or DoubleHistogram's own wrapper).
 *
 * V2 (all integers big-endian):
 *   compressed = int32 cookie 0x1c849304|0x10, int32 zlib_len, zlib_len bytes
 *                of a zlib stream (RFC 1950) whose inflated content is:
 *   plain      = int32 cookie 0x1c849303|0x10, int32 payload_len,
 *                int32 normalizing_index_offset (0), int32 significant digits,
 *                int64 lowest discernible value, int64 highest trackable value,
 *                float64 integer-to-double ratio (1.0), payload_len bytes.
 *   payload    = counts[0 .. last non-zero], each a ZigZag LEB128-64b9B
 *                varint: v >= 0 is one count, v < 0 is -v zero counts.
 * LEB128-64b9B: up to 8 bytes of 7 bits (LSB first, 0x80 = more follows); a
 * 9th byte, if reached, carries the last 8 bits whole. Readers mask the
 * cookie's word-size nibble (0xf0).
 *
 * Untrusted input is bounded at every step: the zlib length against the bytes
 * present, the header against cm_hist_layout, payload_len against what the
 * counts can need (9 bytes each) and what zlib_len bytes can inflate to
 * (deflate expands at most ~1032:1), and every count index against counts_len. */
#include "cm/buf.h"
#include "cm/err.h"
#include "cm/hist.h"
#include "cm/mem.h"
#include "hist_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#define V2_COOKIE            0x1c849303u
#define V2_COMPRESSED_COOKIE 0x1c849304u
#define COOKIE_WORD_SIZE_9   0x10u /* written by every V2 writer */
#define COOKIE_BASE(c)       ((c) & ~0xf0u)
#define V2_HEADER_BYTES      40
#define VARINT_MAX_BYTES     9
/* Deflate's best case is ~1032:1 (258-byte matches in 2 bits). */
#define INFLATE_RATIO_MAX 1040

static void put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
    return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* ZigZag maps 0, -1, 1, -2, ... to 0, 1, 2, 3, ... */
static size_t put_varint(uint8_t *p, int64_t v)
{
    uint64_t z = v < 0 ? ~((uint64_t)v << 1) : (uint64_t)v << 1;
    size_t n = 0;
    for (int i = 0; i < 8; i++) {
        if (z < 0x80) {
            p[n++] = (uint8_t)z;
            return n;
        }
        p[n++] = (uint8_t)((z & 0x7f) | 0x80);
        z >>= 7;
    }
    p[n++] = (uint8_t)z;
    return n;
}

/* 0, or -1 when the varint runs past n. */
static int get_varint(const uint8_t *p, size_t n, size_t *pos, int64_t *out)
{
    uint64_t z = 0;
    for (int i = 0; i < VARINT_MAX_BYTES; i++) {
        if (*pos >= n)
            return -1;
        uint8_t b = p[(*pos)++];
        if (i == 8) {
            z |= (uint64_t)b << 56;
            break;
        }
        z |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80))
            break;
    }
    *out = (z & 1) ? -(int64_t)(z >> 1) - 1 : (int64_t)(z >> 1);
    return 0;
}

/* Plain V2 bytes of h into a new buffer of *len bytes (free with free()). */
static uint8_t *encode_plain(const struct cm_hist *h, size_t *len)
{
    int32_t limit = h->counts_len;
    while (limit > 0 && h->counts[limit - 1] == 0)
        limit--;
    uint8_t *p = cm_xmalloc(V2_HEADER_BYTES + (size_t)limit * VARINT_MAX_BYTES);
    size_t n = V2_HEADER_BYTES;
    for (int32_t i = 0; i < limit;) {
        int64_t c = h->counts[i++];
        int64_t zeros = 0;
        if (c == 0) {
            zeros = 1;
            while (i < limit && h->counts[i] == 0) {
                zeros++;
                i++;
            }
        }
        n += put_varint(p + n, zeros > 1 ? -zeros : c);
    }
    double ratio = 1.0;
    uint64_t ratio_bits;
    memcpy(&ratio_bits, &ratio, sizeof ratio_bits);
    put_be32(p, V2_COOKIE | COOKIE_WORD_SIZE_9);
    put_be32(p + 4, (uint32_t)(n - V2_HEADER_BYTES));
    put_be32(p + 8, 0);
    put_be32(p + 12, (uint32_t)h->sig_digits);
    put_be64(p + 16, (uint64_t)h->lowest_trackable);
    put_be64(p + 24, (uint64_t)h->highest_trackable);
    put_be64(p + 32, ratio_bits);
    *len = n;
    return p;
}

int cm_hist_encode(const struct cm_hist *h, struct cm_buf *out)
{
    size_t plain_len;
    uint8_t *plain = encode_plain(h, &plain_len);
    uLongf zlen = compressBound((uLong)plain_len);
    uint8_t *z = cm_xmalloc(8 + (size_t)zlen);
    int rc = CM_EINVAL;
    if (compress2(z + 8, &zlen, plain, (uLong)plain_len, Z_DEFAULT_COMPRESSION) != Z_OK ||
        zlen > INT32_MAX)
        goto out;
    put_be32(z, V2_COMPRESSED_COOKIE | COOKIE_WORD_SIZE_9);
    put_be32(z + 4, (uint32_t)zlen);
    rc = cm_buf_append(out, z, 8 + (size_t)zlen);
out:
    free(z);
    free(plain);
    return rc;
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int cm_hist_encode_base64(const struct cm_hist *h, struct cm_buf *out)
{
    struct cm_buf bin;
    cm_buf_init(&bin, 0);
    int rc = cm_hist_encode(h, &bin);
    if (rc)
        goto out;
    const uint8_t *p = (const uint8_t *)bin.data;
    size_t n = bin.len, want = (n + 2) / 3 * 4;
    rc = cm_buf_reserve(out, want);
    if (rc)
        goto out;
    char *o = out->data + out->len;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        *o++ = b64_alphabet[v >> 18];
        *o++ = b64_alphabet[(v >> 12) & 63];
        *o++ = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
        *o++ = i + 2 < n ? b64_alphabet[v & 63] : '=';
    }
    out->len += want;
    out->data[out->len] = '\0';
out:
    cm_buf_deinit(&bin);
    return rc;
}

/* Value of a base64 character, -1 for anything else. */
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

/* Decodes n base64 characters (padding optional) into dst, which has room
 * for n / 4 * 3 + 2 bytes. Returns the byte count or -1. */
static long b64_decode(const char *s, size_t n, uint8_t *dst)
{
    if (n >= 1 && s[n - 1] == '=')
        n--;
    if (n >= 1 && s[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return -1;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value((unsigned char)s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            dst[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return (long)o;
}

/* Fills h->counts from the payload. NULL or the reason it is malformed. */
static const char *fill_counts(struct cm_hist *h, const uint8_t *p, size_t n)
{
    size_t pos = 0;
    int64_t index = 0;
    while (pos < n) {
        int64_t v;
        if (get_varint(p, n, &pos, &v))
            return "payload ends inside a count";
        if (v < 0) {
            if (v < -(int64_t)h->counts_len || index - v > h->counts_len)
                return "zero run past the end of the counts array";
            index -= v;
            continue;
        }
        if (index >= h->counts_len)
            return "more counts than the encoded range holds";
        h->counts[index++] = v;
    }
    if (cm_hist_settle(h))
        return "total count overflows int64";
    return NULL;
}

/* Decodes a plain V2 header + payload from n bytes. */
static int decode_plain(const uint8_t *p, size_t n, struct cm_hist **out, const char **why)
{
    if (n < V2_HEADER_BYTES) {
        *why = "truncated V2 header";
        return CM_EPARSE;
    }
    uint32_t cookie = get_be32(p);
    if (COOKIE_BASE(cookie) != V2_COOKIE) {
        *why = "not a V2 histogram (bad cookie)";
        return CM_EPARSE;
    }
    uint32_t payload_len = get_be32(p + 4);
    int32_t digits = (int32_t)get_be32(p + 12);
    int64_t lowest = (int64_t)get_be64(p + 16);
    int64_t highest = (int64_t)get_be64(p + 24);
    struct cm_hist *h = NULL;
    if (digits < 1 || digits > 5 || cm_hist_new(lowest, highest, digits, &h)) {
        *why = "header: lowest/highest trackable value or significant digits out of range";
        return CM_EPARSE;
    }
    if ((uint64_t)payload_len > (uint64_t)h->counts_len * VARINT_MAX_BYTES) {
        *why = "payload length larger than the counts array can need";
        goto fail;
    }
    if (payload_len > n - V2_HEADER_BYTES) {
        *why = "payload length exceeds the bytes present";
        goto fail;
    }
    *why = fill_counts(h, p + V2_HEADER_BYTES, payload_len);
    if (*why)
        goto fail;
    *out = h;
    return 0;
fail:
    cm_hist_free(h);
    return CM_EPARSE;
}

/* Inflates exactly want bytes (or fewer if the stream ends first) into dst.
 * Returns the bytes produced or -1 on a zlib error. */
static long inflate_some(z_stream *zs, uint8_t *dst, size_t want)
{
    zs->next_out = dst;
    zs->avail_out = (uInt)want;
    while (zs->avail_out > 0) {
        int zr = inflate(zs, Z_NO_FLUSH);
        if (zr == Z_STREAM_END)
            break;
        if (zr != Z_OK)
            return -1;
    }
    return (long)(want - zs->avail_out);
}

/* Inflates the 40-byte header first, so the payload buffer is sized by a
 * validated payload length, never by the stream. */
static int decode_compressed(const uint8_t *p, size_t n, struct cm_hist **out, const char **why)
{
    uint32_t zlen = get_be32(p + 4);
    if (zlen > n - 8) {
        *why = "compressed length exceeds the bytes present";
        return CM_EPARSE;
    }
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) != Z_OK) {
        *why = "zlib: inflateInit failed";
        return CM_EPARSE;
    }
    zs.next_in = (Bytef *)(uintptr_t)(p + 8);
    zs.avail_in = zlen;
    uint8_t *plain = NULL;
    int rc = CM_EPARSE;
    uint8_t head[V2_HEADER_BYTES];
    if (inflate_some(&zs, head, sizeof head) != (long)sizeof head) {
        *why = "zlib data corrupt or shorter than a V2 header";
        goto out;
    }
    uint32_t payload_len = get_be32(head + 4);
    if ((uint64_t)payload_len > (uint64_t)zlen * INFLATE_RATIO_MAX + 1024 ||
        payload_len > (uint32_t)CM_HIST_MAX_COUNTS * VARINT_MAX_BYTES) {
        *why = "payload length larger than the compressed data can hold";
        goto out;
    }
    plain = cm_xmalloc(V2_HEADER_BYTES + (size_t)payload_len);
    memcpy(plain, head, sizeof head);
    long got = inflate_some(&zs, plain + V2_HEADER_BYTES, payload_len);
    if (got != (long)payload_len) {
        *why = "zlib data corrupt or shorter than the payload length";
        goto out;
    }
    rc = decode_plain(plain, V2_HEADER_BYTES + (size_t)payload_len, out, why);
out:
    inflateEnd(&zs);
    free(plain);
    return rc;
}

int cm_hist_decode(const void *data, size_t n, struct cm_hist **out, const char **why)
{
    const char *ignored;
    if (!why)
        why = &ignored;
    *why = NULL;
    const uint8_t *p = data;
    if (n < 8) {
        *why = "shorter than a histogram header";
        return CM_EPARSE;
    }
    if (n > CM_HIST_MAX_ENCODED_BYTES) {
        *why = "encoded histogram too large";
        return CM_ETOOBIG;
    }
    uint32_t base = COOKIE_BASE(get_be32(p));
    if (base == V2_COMPRESSED_COOKIE)
        return decode_compressed(p, n, out, why);
    if (base == V2_COOKIE)
        return decode_plain(p, n, out, why);
    *why = "not an HdrHistogram V2 encoding (unknown cookie)";
    return CM_EPARSE;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int cm_hist_decode_base64_why(const char *p, size_t n, struct cm_hist **out, const char **why)
{
    const char *ignored;
    if (!why)
        why = &ignored;
    *why = NULL;
    while (n > 0 && is_space(p[0])) {
        p++;
        n--;
    }
    while (n > 0 && is_space(p[n - 1]))
        n--;
    if (n / 4 * 3 > CM_HIST_MAX_ENCODED_BYTES) {
        *why = "encoded histogram too large";
        return CM_ETOOBIG;
    }
    uint8_t *bin = cm_xmalloc(n / 4 * 3 + 3);
    int rc = CM_EPARSE;
    long len = b64_decode(p, n, bin);
    if (len < 0)
        *why = "invalid base64";
    else
        rc = cm_hist_decode(bin, (size_t)len, out, why);
    free(bin);
    return rc;
}

int cm_hist_decode_base64(const char *p, size_t n, struct cm_hist **out)
{
    return cm_hist_decode_base64_why(p, n, out, NULL);
}

/* Appends s to out, or nothing at all on CM_ETOOBIG. */
static int append_whole(struct cm_buf *out, struct cm_buf *s)
{
    int rc = cm_buf_append(out, s->data ? s->data : "", s->len);
    cm_buf_deinit(s);
    return rc;
}

int cm_hist_log_header(struct cm_buf *out, int64_t start_wall_ns)
{
    double start_s = (double)start_wall_ns / 1e9;
    time_t secs = (time_t)(start_wall_ns / 1000000000);
    struct tm tm;
    char date[64] = "?";
    if (gmtime_r(&secs, &tm))
        strftime(date, sizeof date, "%a %b %d %H:%M:%S UTC %Y", &tm);
    struct cm_buf s;
    cm_buf_init(&s, 0);
    int rc = cm_buf_printf(&s,
                           "#[Histogram log format version 1.3]\n"
                           "#[StartTime: %.3f (seconds since epoch), %s]\n"
                           "#[BaseTime: %.3f (seconds since epoch)]\n"
                           "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
                           "\"Interval_Compressed_Histogram\"\n",
                           start_s, date, start_s);
    if (rc) {
        cm_buf_deinit(&s);
        return rc;
    }
    return append_whole(out, &s);
}

/* Log readers split on commas and whitespace; a tag must survive that. */
static int tag_ok(const char *tag)
{
    for (const char *c = tag; *c; c++) {
        if (*c == ',' || (unsigned char)*c <= ' ' || *c == 0x7f)
            return 0;
    }
    return 1;
}

int cm_hist_log_line(struct cm_buf *out, const char *tag, double start_s, double length_s,
                     const struct cm_hist *h, double max_unit_ratio)
{
    if ((tag && !tag_ok(tag)) || !(max_unit_ratio > 0) || !isfinite(start_s) || !isfinite(length_s))
        return CM_EINVAL;
    struct cm_buf s;
    cm_buf_init(&s, out->max);
    int rc = 0;
    if (tag && *tag)
        rc = cm_buf_printf(&s, "Tag=%s,", tag);
    if (!rc)
        rc = cm_buf_printf(&s, "%.3f,%.3f,%.3f,", start_s, length_s,
                           (double)cm_hist_max(h) / max_unit_ratio);
    if (!rc)
        rc = cm_hist_encode_base64(h, &s);
    if (!rc)
        rc = cm_buf_putc(&s, '\n');
    if (rc) {
        cm_buf_deinit(&s);
        return rc;
    }
    return append_whole(out, &s);
}

/* Parses a whole field as a finite double (strtod needs a NUL: copy). */
static int parse_double(const char *p, size_t n, double *out)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    char *end;
    double v = strtod(tmp, &end);
    if (end != tmp + n || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* Length of the field at p (up to the next comma or the end). */
static size_t field_len(const char *p, size_t n)
{
    const char *c = memchr(p, ',', n);
    return c ? (size_t)(c - p) : n;
}

int cm_hist_log_read_line(const char *p, size_t n, struct cm_hist_log_entry *e, const char **why)
{
    const char *ignored;
    if (!why)
        why = &ignored;
    *why = NULL;
    while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
        n--;
    if (n == 0 || p[0] == '#' || p[0] == '"')
        return 0;
    char tag[sizeof e->tag] = "";
    if (n >= 4 && memcmp(p, "Tag=", 4) == 0) {
        size_t t = field_len(p + 4, n - 4);
        if (t >= sizeof tag) {
            *why = "Tag: longer than 63 bytes";
            return CM_ETOOBIG;
        }
        memcpy(tag, p + 4, t);
        tag[t] = '\0';
        if (t == n - 4) {
            *why = "Tag: no interval fields follow";
            return CM_EPARSE;
        }
        p += 4 + t + 1;
        n -= 4 + t + 1;
    }
    static const char *const names[3] = {"StartTimestamp: expected a number",
                                         "Interval_Length: expected a number",
                                         "Interval_Max: expected a number"};
    double v[3];
    for (int i = 0; i < 3; i++) {
        size_t f = field_len(p, n);
        if (f == n || parse_double(p, f, &v[i])) {
            *why = names[i];
            return CM_EPARSE;
        }
        p += f + 1;
        n -= f + 1;
    }
    struct cm_hist *h = NULL;
    int rc = cm_hist_decode_base64_why(p, n, &h, why);
    if (rc)
        return rc;
    memcpy(e->tag, tag, sizeof tag);
    e->start_s = v[0];
    e->length_s = v[1];
    e->max = v[2];
    e->h = h;
    return 1;
}
