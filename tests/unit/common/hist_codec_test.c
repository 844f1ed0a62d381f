/* Unit tests for the HdrHistogram V2 encoding of cm_hist and the interval
 * log: vectors written by hdr-histogram-js 3.0.1 (HdrHistogram's JS port),
 * a hand-built plain V2 payload (9-byte varints, zero runs), round trips,
 * malformed input (every truncation, bit flips, each bounds check) and the
 * log writer/reader. The live round trip with the npm package is
 * tests/integration/hdr_js. */
#include "harness.h"

#include "cm/buf.h"
#include "cm/err.h"
#include "cm/hist.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static uint64_t rng_state = 0x13198a2e03707344ull;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static struct cm_hist *new_hist(int64_t lo, int64_t hi, int digits)
{
    struct cm_hist *h = NULL;
    if (cm_hist_new(lo, hi, digits, &h))
        abort();
    return h;
}

static int decode_str(const char *s, struct cm_hist **out)
{
    return cm_hist_decode_base64(s, strlen(s), out);
}

/* hdr-histogram-js 3.0.1: build({lowestDiscernibleValue: 1,
 * highestTrackableValue: 3600000000, numberOfSignificantValueDigits: 3}),
 * recordValue of 1 2 3 1000 1001 2047 2048 2049 123456 123456 3599999999,
 * encodeIntoCompressedBase64; getValueAtPercentile gave p50 2047,
 * p90 123519, p99 3600809983. */
static const char js_vec1[] =
    "HISTFAAAADN4nJNpmSzMwMAAwowMDAzMDBAAYjNcm7yEAc5nYmI6zs/EtFKAiaU/juXyG0YmAK1nB78=";
/* lowest 1000, highest 1e9, 2 digits: 0 5000 5000 999999999; p0 0, p50 5119,
 * p90 1002438655. */
static const char js_vec2[] =
    "HISTFAAAACt4nJNpmSzMwMDAxsDAwMjAwMDEAAbML0Ck9axTDFDAyMTPclyWCQBtSQTW";
/* The example in hdr-histogram-js's README: build() then recordValue(42). */
static const char js_readme[] = "HISTFAAAAB542pNpmSzMwMDAxAABzFCaEUoz2X+AMIKZAEARAtM=";

static void test_js_vectors(void)
{
    struct cm_hist *h = NULL;
    CHECK_INT(decode_str(js_vec1, &h), 0);
    if (h) {
        CHECK_INT(h->lowest_trackable, 1);
        CHECK_INT(h->highest_trackable, 3600000000LL);
        CHECK_INT(h->sig_digits, 3);
        CHECK_INT(cm_hist_count(h), 11);
        CHECK_INT(cm_hist_min(h), 1);
        CHECK_INT(cm_hist_percentile(h, 50), 2047);
        CHECK_INT(cm_hist_percentile(h, 90), 123519);
        CHECK_INT(cm_hist_percentile(h, 99), 3600809983LL);
        CHECK_INT(cm_hist_max(h), 3600809983LL);
        CHECK_INT(h->counts[1], 1);
        CHECK_INT(h->counts[2047], 1);
        cm_hist_free(h);
    }
    h = NULL;
    CHECK_INT(decode_str(js_vec2, &h), 0);
    if (h) {
        CHECK_INT(h->lowest_trackable, 1000);
        CHECK_INT(h->sig_digits, 2);
        CHECK_INT(cm_hist_count(h), 4);
        CHECK_INT(cm_hist_percentile(h, 0), 0);
        CHECK_INT(cm_hist_percentile(h, 50), 5119);
        CHECK_INT(cm_hist_percentile(h, 90), 1002438655);
        cm_hist_free(h);
    }
    h = NULL;
    CHECK_INT(decode_str(js_readme, &h), 0);
    if (h) {
        CHECK_INT(cm_hist_count(h), 1);
        CHECK_INT(cm_hist_percentile(h, 50), 42);
        CHECK_INT(cm_hist_min(h), 42);
        cm_hist_free(h);
    }
}

static void fill_random(struct cm_hist *h, int n, int shape)
{
    for (int i = 0; i < n; i++) {
        uint64_t r = rng();
        int64_t v = shape == 0   ? (int64_t)(r % 1000000)
                    : shape == 1 ? (int64_t)(r >> (r % 63))
                                 : (int64_t)(r % 3) * 1000000007;
        cm_hist_record(h, v);
    }
}

static void check_round_trip(struct cm_hist *h)
{
    struct cm_buf b;
    cm_buf_init(&b, 0);
    CHECK_INT(cm_hist_encode_base64(h, &b), 0);
    CHECK(b.len > 0 && memcmp(b.data, "HISTF", 5) == 0);
    struct cm_hist *d = NULL;
    const char *why = NULL;
    int rc = cm_hist_decode_base64_why(b.data, b.len, &d, &why);
    CHECK_MSG(rc == 0, "decode: %s", why ? why : "?");
    if (d) {
        CHECK_INT(d->lowest_trackable, h->lowest_trackable);
        CHECK_INT(d->highest_trackable, h->highest_trackable);
        CHECK_INT(d->sig_digits, h->sig_digits);
        CHECK_INT(d->counts_len, h->counts_len);
        CHECK(memcmp(d->counts, h->counts, (size_t)h->counts_len * 8) == 0);
        CHECK_INT(cm_hist_count(d), cm_hist_count(h));
        if (cm_hist_count(h)) {
            CHECK_INT(cm_hist_min(d), cm_hist_lowest_equivalent(h, cm_hist_min(h)));
            CHECK_INT(cm_hist_max(d), cm_hist_highest_equivalent(h, cm_hist_max(h)));
        }
        static const double ps[] = {1, 25, 50, 90, 99, 99.9, 99.99};
        for (size_t i = 0; i < sizeof ps / sizeof ps[0] && cm_hist_count(h); i++)
            CHECK_INT(cm_hist_percentile(d, ps[i]),
                      cm_hist_highest_equivalent(h, cm_hist_percentile(h, ps[i])));
        /* binary form as well */
        struct cm_buf bin;
        cm_buf_init(&bin, 0);
        CHECK_INT(cm_hist_encode(d, &bin), 0);
        struct cm_hist *d2 = NULL;
        CHECK_INT(cm_hist_decode(bin.data, bin.len, &d2, NULL), 0);
        if (d2)
            CHECK(memcmp(d2->counts, h->counts, (size_t)h->counts_len * 8) == 0);
        cm_hist_free(d2);
        cm_buf_deinit(&bin);
    }
    cm_hist_free(d);
    cm_buf_deinit(&b);
}

static void test_round_trips(void)
{
    static const struct {
        int64_t lo, hi;
        int digits;
    } layouts[] = {{1, 3600000000000LL, 3},
                   {1, INT64_MAX, 2},
                   {1000, 60000000000LL, 4},
                   {1, 2, 1},
                   {1, 100000, 5}};
    for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++) {
        for (int shape = 0; shape < 3; shape++) {
            struct cm_hist *h = new_hist(layouts[l].lo, layouts[l].hi, layouts[l].digits);
            check_round_trip(h); /* empty */
            fill_random(h, 3000, shape);
            check_round_trip(h);
            cm_hist_free(h);
        }
    }
    /* Large counts take the 9-byte varint path. */
    struct cm_hist *h = new_hist(1, 1000000, 3);
    cm_hist_record_n(h, 77, (int64_t)1 << 61);
    cm_hist_record_n(h, 999999, INT64_MAX / 4);
    check_round_trip(h);
    cm_hist_free(h);
}

/* A plain V2 encoding built by hand from the format description. */
static size_t put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    return (size_t)bytes;
}

static size_t build_plain(uint8_t *p, int digits, int64_t lo, int64_t hi, const uint8_t *payload,
                          size_t payload_len, uint32_t declared_len)
{
    size_t n = 0;
    n += put_be(p + n, 0x1c849313, 4);
    n += put_be(p + n, declared_len, 4);
    n += put_be(p + n, 0, 4);
    n += put_be(p + n, (uint64_t)digits, 4);
    n += put_be(p + n, (uint64_t)lo, 8);
    n += put_be(p + n, (uint64_t)hi, 8);
    n += put_be(p + n, 0x3ff0000000000000ull, 8);
    memcpy(p + n, payload, payload_len);
    return n + payload_len;
}

/* zlib-compresses plain into the V2 compressed form; returns its length. */
static size_t compress_v2(uint8_t *dst, size_t cap, const uint8_t *plain, size_t n)
{
    uLongf zlen = (uLongf)(cap - 8);
    if (compress2(dst + 8, &zlen, plain, (uLong)n, 6) != Z_OK)
        abort();
    put_be(dst, 0x1c849314, 4);
    put_be(dst + 4, zlen, 4);
    return 8 + zlen;
}

static void test_hand_built(void)
{
    /* counts[0] = 5, 99 zeros, counts[100] = 2^61, counts[101] = 1 */
    uint8_t payload[] = {0x0a,                                           /* +5 */
                         0xc5, 0x01,                                     /* -99 */
                         0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, /* 2^62 zz */
                         0x40, 0x02};                                    /* +1 */
    uint8_t plain[128], z[256];
    size_t n = build_plain(plain, 2, 1, 1000, payload, sizeof payload, sizeof payload);
    struct cm_hist *h = NULL;
    const char *why = NULL;
    CHECK_INT(cm_hist_decode(plain, n, &h, &why), 0);
    if (h) {
        CHECK_INT(h->counts[0], 5);
        CHECK_INT(h->counts[99], 0);
        CHECK_INT(h->counts[100], (int64_t)1 << 61);
        CHECK_INT(h->counts[101], 1);
        CHECK_INT(cm_hist_count(h), ((int64_t)1 << 61) + 6);
        CHECK_INT(cm_hist_min(h), 0);
        CHECK_INT(cm_hist_max(h), 101);
        cm_hist_free(h);
    }
    size_t zn = compress_v2(z, sizeof z, plain, n);
    h = NULL;
    CHECK_INT(cm_hist_decode(z, zn, &h, &why), 0);
    CHECK(h && h->counts[100] == (int64_t)1 << 61);
    cm_hist_free(h);

    /* Each bounds check. A 2-digit 1..1000 layout has 256 sub-buckets and
     * 3 buckets: 4 * 128 = 512 counters. */
    struct {
        const char *name;
        uint8_t payload[16];
        size_t len;
        uint32_t declared;
        int digits;
        int64_t lo, hi;
    } bad[] = {
        {"count past the end", {0xff, 0x07, 0x02}, 3, 3, 2, 1, 1000}, /* 512 zeros, +1 */
        {"zero run past the end", {0xff, 0xff, 0x03}, 3, 3, 2, 1, 1000},
        {"truncated varint", {0x80, 0x80}, 2, 2, 2, 1, 1000},
        {"payload past bytes", {0x02}, 1, 5, 2, 1, 1000},
        {"digits 0", {0x02}, 1, 1, 0, 1, 1000},
        {"digits 6", {0x02}, 1, 1, 6, 1, 1000},
        {"lowest 0", {0x02}, 1, 1, 2, 0, 1000},
        {"highest < 2 lowest", {0x02}, 1, 1, 2, 600, 1000},
        {"negative highest", {0x02}, 1, 1, 2, 1, -1000},
        /* INT64_MAX (9-byte varint), then +1 */
        {"total overflow",
         {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02},
         10,
         10,
         2,
         1,
         1000},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = build_plain(plain, bad[i].digits, bad[i].lo, bad[i].hi, bad[i].payload, bad[i].len,
                        bad[i].declared);
        h = NULL;
        why = NULL;
        int rc = cm_hist_decode(plain, n, &h, &why);
        CHECK_MSG(rc == CM_EPARSE && h == NULL && why, "%s: rc %d", bad[i].name, rc);
        zn = compress_v2(z, sizeof z, plain, n);
        rc = cm_hist_decode(z, zn, &h, &why);
        CHECK_MSG(rc == CM_EPARSE && h == NULL && why, "%s (compressed): rc %d", bad[i].name, rc);
    }
    /* ...while 512 zeros exactly fill it. */
    uint8_t ok_payload[] = {0xff, 0x07};
    n = build_plain(plain, 2, 1, 1000, ok_payload, 2, 2);
    h = NULL;
    CHECK_INT(cm_hist_decode(plain, n, &h, NULL), 0);
    CHECK(h && cm_hist_count(h) == 0 && h->counts_len == 512);
    cm_hist_free(h);
    /* payload longer than 9 bytes per counter (1 digit 1..4: 32 counters) */
    uint8_t zeros[300] = {0}, big[400];
    n = build_plain(big, 1, 1, 4, zeros, sizeof zeros, sizeof zeros);
    why = NULL;
    CHECK_INT(cm_hist_decode(big, n, &h, &why), CM_EPARSE);
    CHECK(why && strstr(why, "counts array"));
}

static void expect_bad_bin(const char *name, const uint8_t *p, size_t n, int want)
{
    struct cm_hist *h = NULL;
    const char *why = NULL;
    int rc = cm_hist_decode(p, n, &h, &why);
    CHECK_MSG(rc == want && h == NULL && why, "%s: rc %d why %s", name, rc, why ? why : "-");
}

static void test_malformed_headers(void)
{
    uint8_t buf[64] = {0};
    expect_bad_bin("empty", buf, 0, CM_EPARSE);
    expect_bad_bin("short", (const uint8_t *)"\x1c\x84\x93\x14", 4, CM_EPARSE);
    expect_bad_bin("bad cookie", (const uint8_t *)"\x1c\x84\x93\x10\0\0\0\0", 8, CM_EPARSE);
    /* V0/V1 cookies are not read */
    expect_bad_bin("v1 cookie", (const uint8_t *)"\x1c\x84\x93\x02\0\0\0\0", 8, CM_EPARSE);
    /* compressed length past the bytes present */
    memcpy(buf, "\x1c\x84\x93\x14\x00\x00\x01\x00", 8);
    expect_bad_bin("zlen too big", buf, 40, CM_EPARSE);
    memcpy(buf, "\x1c\x84\x93\x14\xff\xff\xff\xff", 8);
    expect_bad_bin("zlen huge", buf, 40, CM_EPARSE);
    /* not zlib */
    memcpy(buf, "\x1c\x84\x93\x14\x00\x00\x00\x20", 8);
    expect_bad_bin("not zlib", buf, 40, CM_EPARSE);
    /* a header that declares a payload far beyond what the zlib data can
     * inflate to (decompression bomb guard) */
    uint8_t plain[64], z[128], none[1] = {0};
    size_t n = build_plain(plain, 3, 1, INT64_MAX, none, 0, 50000000);
    size_t zn = compress_v2(z, sizeof z, plain, n);
    struct cm_hist *h = NULL;
    const char *why = NULL;
    CHECK_INT(cm_hist_decode(z, zn, &h, &why), CM_EPARSE);
    CHECK(why && strstr(why, "compressed data can hold"));
    /* inflated data shorter than the declared payload */
    n = build_plain(plain, 1, 1, 4, none, 0, 100);
    zn = compress_v2(z, sizeof z, plain, n);
    expect_bad_bin("short inflate", z, zn, CM_EPARSE);
    /* too large input */
    expect_bad_bin("too large", buf, CM_HIST_MAX_ENCODED_BYTES + 1, CM_ETOOBIG);
}

static void test_truncations_and_flips(void)
{
    struct cm_hist *h = new_hist(1, 3600000000LL, 3);
    fill_random(h, 2000, 1);
    struct cm_buf b;
    cm_buf_init(&b, 0);
    CHECK_INT(cm_hist_encode(h, &b), 0);
    const uint8_t *p = (const uint8_t *)b.data;
    int bad = 0;
    for (size_t len = 0; len < b.len; len++) {
        struct cm_hist *d = NULL;
        if (cm_hist_decode(p, len, &d, NULL) != CM_EPARSE || d) {
            bad++;
            cm_hist_free(d);
        }
    }
    CHECK_MSG(bad == 0, "%d truncations decoded", bad);
    /* Flipped bits: any result is fine as long as it is a clean one. */
    uint8_t *m = malloc(b.len);
    int ok = 0, err = 0;
    for (int i = 0; i < 2000 && m; i++) {
        memcpy(m, p, b.len);
        for (int k = 0; k < 1 + i % 3; k++)
            m[rng() % b.len] ^= (uint8_t)(1u << (rng() % 8));
        struct cm_hist *d = NULL;
        int rc = cm_hist_decode(m, b.len, &d, NULL);
        if (rc == 0 && d) {
            ok++;
            struct cm_buf again;
            cm_buf_init(&again, 0);
            if (cm_hist_encode(d, &again) != 0)
                err++;
            cm_buf_deinit(&again);
        } else if (rc != CM_EPARSE || d) {
            err++;
        }
        cm_hist_free(d);
    }
    CHECK_MSG(err == 0, "%d bit flips gave unclean results (%d decoded)", err, ok);
    free(m);
    cm_buf_deinit(&b);
    cm_hist_free(h);
}

static void test_base64_edges(void)
{
    struct cm_hist *h = NULL;
    /* whitespace around, padding optional */
    char tmp[256];
    snprintf(tmp, sizeof tmp, " \t%s\r\n", js_vec1);
    CHECK_INT(decode_str(tmp, &h), 0);
    cm_hist_free(h);
    h = NULL;
    size_t n = strlen(js_vec1);
    CHECK_INT(cm_hist_decode_base64(js_vec1, n - 1, &h), 0); /* one '=' dropped */
    cm_hist_free(h);
    h = NULL;
    /* not NUL-terminated: decoding stops at n */
    memcpy(tmp, js_vec2, strlen(js_vec2));
    memset(tmp + strlen(js_vec2), '!', 10);
    CHECK_INT(cm_hist_decode_base64(tmp, strlen(js_vec2), &h), 0);
    cm_hist_free(h);
    h = NULL;
    const char *why = NULL;
    CHECK_INT(cm_hist_decode_base64_why("HIST FAAA", 9, &h, &why), CM_EPARSE);
    CHECK(why && strstr(why, "base64"));
    CHECK_INT(cm_hist_decode_base64("HISTF", 5, &h), CM_EPARSE);
    CHECK_INT(cm_hist_decode_base64("", 0, &h), CM_EPARSE);
    CHECK_INT(cm_hist_decode_base64("====", 4, &h), CM_EPARSE);
    CHECK(h == NULL);
    /* a base64 encode into a full buffer leaves it unchanged */
    struct cm_hist *e = new_hist(1, 1000, 3);
    cm_hist_record(e, 5);
    struct cm_buf small;
    cm_buf_init(&small, 12);
    CHECK_INT(cm_buf_puts(&small, "abc"), 0);
    CHECK_INT(cm_hist_encode_base64(e, &small), CM_ETOOBIG);
    CHECK_STR(cm_buf_cstr(&small), "abc");
    cm_buf_deinit(&small);
    cm_hist_free(e);
}

static void test_log_write_read(void)
{
    struct cm_buf b;
    cm_buf_init(&b, 0);
    /* 2023-11-14T22:13:20.250Z */
    CHECK_INT(cm_hist_log_header(&b, 1700000000250000000LL), 0);
    CHECK_STR(cm_buf_cstr(&b), "#[Histogram log format version 1.3]\n"
                               "#[StartTime: 1700000000.250 (seconds since epoch), "
                               "Tue Nov 14 22:13:20 UTC 2023]\n"
                               "#[BaseTime: 1700000000.250 (seconds since epoch)]\n"
                               "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\","
                               "\"Interval_Compressed_Histogram\"\n");
    struct cm_hist *h = new_hist(1, 3600000000000LL, 3);
    for (int i = 1; i <= 1000; i++)
        cm_hist_record(h, i * 12345);
    size_t before = b.len;
    CHECK_INT(cm_hist_log_line(&b, "get-item", 1.0, 1.5, h, 1e6), 0);
    const char *line = b.data + before;
    CHECK(strncmp(line, "Tag=get-item,1.000,1.500,12.345,HISTF", 37) == 0);
    CHECK_INT(cm_hist_log_line(&b, NULL, 2.5, 1.0, h, 1.0), 0);
    CHECK(strstr(b.data, "\n2.500,1.000,12345000.000,HISTF") != NULL);
    /* bad arguments leave the buffer as it was */
    size_t len = b.len;
    CHECK_INT(cm_hist_log_line(&b, "a,b", 0, 1, h, 1), CM_EINVAL);
    CHECK_INT(cm_hist_log_line(&b, "a b", 0, 1, h, 1), CM_EINVAL);
    CHECK_INT(cm_hist_log_line(&b, "ok", 0, 1, h, 0), CM_EINVAL);
    CHECK_INT(b.len, len);

    /* read it back, line by line */
    const char *p = b.data, *end = b.data + b.len;
    int intervals = 0, others = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p + 1) : (size_t)(end - p);
        struct cm_hist_log_entry e;
        const char *why = NULL;
        int rc = cm_hist_log_read_line(p, n, &e, &why);
        if (rc == 1) {
            intervals++;
            CHECK_INT(cm_hist_count(e.h), 1000);
            CHECK_INT(cm_hist_percentile(e.h, 50),
                      cm_hist_highest_equivalent(h, cm_hist_percentile(h, 50)));
            if (intervals == 1) {
                CHECK_STR(e.tag, "get-item");
                CHECK_NEAR(e.start_s, 1.0, 1e-9);
                CHECK_NEAR(e.length_s, 1.5, 1e-9);
                CHECK_NEAR(e.max, 12.345, 1e-9);
            } else {
                CHECK_STR(e.tag, "");
                CHECK_NEAR(e.start_s, 2.5, 1e-9);
            }
            cm_hist_free(e.h);
        } else {
            CHECK_MSG(rc == 0, "line rc %d: %s", rc, why ? why : "-");
            others++;
        }
        p += n;
    }
    CHECK_INT(intervals, 2);
    CHECK_INT(others, 4);

    /* too small a buffer: CM_ETOOBIG and nothing appended */
    struct cm_buf small;
    cm_buf_init(&small, 40);
    CHECK_INT(cm_hist_log_line(&small, "t", 0, 1, h, 1), CM_ETOOBIG);
    CHECK_INT(small.len, 0);
    CHECK_INT(cm_hist_log_header(&small, 0), CM_ETOOBIG);
    CHECK_INT(small.len, 0);
    cm_buf_deinit(&small);
    cm_hist_free(h);
    cm_buf_deinit(&b);
}

static void expect_bad_line(const char *line, int want, const char *why_part)
{
    struct cm_hist_log_entry e;
    memset(&e, 0, sizeof e);
    const char *why = NULL;
    int rc = cm_hist_log_read_line(line, strlen(line), &e, &why);
    CHECK_MSG(rc == want && e.h == NULL && why && strstr(why, why_part), "'%.40s': rc %d why %s",
              line, rc, why ? why : "-");
}

static void test_log_bad_lines(void)
{
    struct cm_hist_log_entry e;
    CHECK_INT(cm_hist_log_read_line("", 0, &e, NULL), 0);
    CHECK_INT(cm_hist_log_read_line("\r\n", 2, &e, NULL), 0);
    CHECK_INT(cm_hist_log_read_line("#[BaseTime: 1.0]", 16, &e, NULL), 0);
    expect_bad_line("x,1,2,HISTFAAA", CM_EPARSE, "StartTimestamp");
    expect_bad_line("1,,2,HISTFAAA", CM_EPARSE, "Interval_Length");
    expect_bad_line("1,2,nan,HISTFAAA", CM_EPARSE, "Interval_Max");
    expect_bad_line("1,2,3", CM_EPARSE, "Interval_Max");
    expect_bad_line("1,2,3,@@@@", CM_EPARSE, "base64");
    expect_bad_line("Tag=abc", CM_EPARSE, "Tag");
    expect_bad_line("Tag=0123456789012345678901234567890123456789012345678901234567890123,1,2,3,A",
                    CM_ETOOBIG, "Tag");
    /* CRLF line endings as written on Windows */
    char line[256];
    snprintf(line, sizeof line, "Tag=x,0.5,1,2,%s\r\n", js_vec2);
    CHECK_INT(cm_hist_log_read_line(line, strlen(line), &e, NULL), 1);
    CHECK_STR(e.tag, "x");
    CHECK_INT(cm_hist_count(e.h), 4);
    cm_hist_free(e.h);
}

int main(void)
{
    test_js_vectors();
    test_round_trips();
    test_hand_built();
    test_malformed_headers();
    test_truncations_and_flips();
    test_base64_edges();
    test_log_write_read();
    test_log_bad_lines();
    return TEST_REPORT();
}
