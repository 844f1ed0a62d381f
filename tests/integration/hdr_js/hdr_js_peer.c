/* hdr_js_peer: the C side of the hdr-histogram-js round trip
 * (hdr_js_test.js drives it).
 *
 *   hdr_js_peer encode           one line per histogram we build:
 *                                NAME COUNT P0 P1 .. P100 MEAN DIGITS BASE64, where
 *                                the Ps are what an HdrHistogram reader must
 *                                report (bucket bounds, see expected())
 *   hdr_js_peer log FILE         writes an interval log to FILE with
 *                                cm_hist_log_header/line; stdout: one line per
 *                                interval: TAG START_MS END_MS COUNT P50 P99
 *   hdr_js_peer decode FILE      FILE has NAME COUNT P0 .. P100 MEAN DIGITS BASE64
 *                                lines written by hdr-histogram-js; decodes
 *                                each, compares
 *   hdr_js_peer readlog LOG EXP  reads a log hdr-histogram-js wrote with
 *                                cm_hist_log_read_line; EXP lines: TAG COUNT
 *                                START_S LENGTH_S P50 P99 P100
 * decode and readlog end with "N passed, N failed" (exit 1 on failures). */
#include "cm/buf.h"
#include "cm/err.h"
#include "cm/hist.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Percentiles exchanged in both directions (hdr_js_test.js has the same). */
static const double ps[] = {0, 1, 25, 50, 90, 99, 99.9, 99.99, 100};
#define NPS ((int)(sizeof ps / sizeof ps[0]))

static int passed, failed;

static void check(int ok, const char *what, const char *name, long long got, long long want)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    fprintf(stderr, "FAIL %s %s: C has %lld, JS says %lld\n", name, what, got, want);
}

static uint64_t rng_state = 42;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double unit_rand(void)
{
    return ((double)(rng() >> 11) + 1.0) / 9007199254740992.0;
}

static struct cm_hist *new_hist(int64_t lo, int64_t hi, int digits)
{
    struct cm_hist *h = NULL;
    if (cm_hist_new(lo, hi, digits, &h)) {
        fprintf(stderr, "cm_hist_new(%" PRId64 ", %" PRId64 ", %d) failed\n", lo, hi, digits);
        exit(2);
    }
    return h;
}

/* What an HdrHistogram decoder of h reports for ps[i]: it only has the
 * buckets, so the lowest value of the first bucket for 0, the highest value
 * of the bucket holding the rank otherwise (ours is the same bucket, clamped
 * to the exact min/max, which the encoding does not carry). */
static int64_t expected(const struct cm_hist *h, int i)
{
    if (cm_hist_count(h) == 0)
        return 0;
    if (ps[i] <= 0)
        return cm_hist_lowest_equivalent(h, cm_hist_min(h));
    return cm_hist_highest_equivalent(h, cm_hist_percentile(h, ps[i]));
}

static void emit(const char *name, const struct cm_hist *h)
{
    struct cm_buf b;
    cm_buf_init(&b, 0);
    if (cm_hist_encode_base64(h, &b)) {
        fprintf(stderr, "encode %s failed\n", name);
        exit(2);
    }
    printf("%s %" PRId64, name, cm_hist_count(h));
    for (int i = 0; i < NPS; i++)
        printf(" %" PRId64, expected(h, i));
    printf(" %.6f %d %s\n", cm_hist_mean(h), h->sig_digits, b.data);
    cm_buf_deinit(&b);
}

/* The coordinated-omission recipe hdr_js_test.js replays with
 * recordValueWithExpectedInterval: mostly 1-2 ms, a 50 ms stall every 100th,
 * one expected every 10 ms. */
static void co_recipe(struct cm_hist *h)
{
    for (int i = 0; i < 1000; i++) {
        int64_t v = i % 100 == 0 ? 50000000 : 1000000 + (int64_t)i * 1000;
        cm_hist_record_corrected(h, v, 10000000);
    }
}

static int cmd_encode(void)
{
    struct cm_hist *h;
    static const int64_t hour_ns = 3600LL * 1000000000;
    for (int digits = 1; digits <= 5; digits++) {
        char name[32];
        h = new_hist(1, hour_ns, digits);
        for (int i = 0; i < 20000; i++)
            cm_hist_record(h, (int64_t)(-log(unit_rand()) * 2000000.0) + 1);
        snprintf(name, sizeof name, "exp%d", digits);
        emit(name, h);
        cm_hist_free(h);
    }
    h = new_hist(1, hour_ns, 3);
    for (int i = 0; i < 10000; i++)
        cm_hist_record(h, (i % 20 ? 1000000 : 1000000000) + (int64_t)(rng() % 100000));
    emit("bimodal3", h);
    cm_hist_free(h);
    h = new_hist(1, (int64_t)1 << 52, 4); /* JS numbers are exact to 2^53 */
    for (int i = 0; i < 10000; i++)
        cm_hist_record(h, (int64_t)exp2(unit_rand() * 50.0));
    emit("wide4", h);
    cm_hist_free(h);
    h = new_hist(1000, hour_ns, 3); /* microsecond resolution on ns values */
    for (int i = 0; i < 10000; i++)
        cm_hist_record(h, (int64_t)(rng() % 100000000));
    emit("us3", h);
    cm_hist_free(h);
    h = new_hist(1, 100, 1);
    for (int v = 1; v <= 100; v++)
        cm_hist_record(h, v);
    emit("tiny1", h);
    cm_hist_free(h);
    h = new_hist(1, hour_ns, 3);
    cm_hist_record_n(h, 12345, 1000000000);
    cm_hist_record(h, 7);
    emit("bigcount3", h);
    cm_hist_free(h);
    h = new_hist(1, hour_ns, 3);
    emit("empty3", h);
    co_recipe(h);
    emit("co3", h);
    cm_hist_free(h);
    return 0;
}

static int cmd_log(const char *path)
{
    struct cm_buf b;
    cm_buf_init(&b, 0);
    const int64_t start_ns = 1700000000123000000LL;
    int rc = cm_hist_log_header(&b, start_ns);
    static const struct {
        const char *tag;
        double start_s, length_s;
        int64_t base;
    } iv[] = {{"get", 0.0, 1.0, 1000000}, {"put", 0.0, 1.0, 5000000}, {NULL, 1.0, 1.5, 20000}};
    for (size_t k = 0; k < sizeof iv / sizeof iv[0] && !rc; k++) {
        struct cm_hist *h = new_hist(1, 3600LL * 1000000000, 3);
        int n = 1000 + 500 * (int)k;
        for (int i = 0; i < n; i++)
            cm_hist_record(h, iv[k].base + (int64_t)(rng() % 1000000));
        rc = cm_hist_log_line(&b, iv[k].tag, iv[k].start_s, iv[k].length_s, h, 1e6);
        double base_ms = (double)start_ns / 1e6;
        printf("%s %.3f %.3f %d %" PRId64 " %" PRId64 "\n", iv[k].tag ? iv[k].tag : "-",
               base_ms + iv[k].start_s * 1000, base_ms + (iv[k].start_s + iv[k].length_s) * 1000, n,
               cm_hist_highest_equivalent(h, cm_hist_percentile(h, 50)),
               cm_hist_highest_equivalent(h, cm_hist_percentile(h, 99)));
        cm_hist_free(h);
    }
    FILE *f = fopen(path, "w");
    if (rc || !f || fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0) {
        fprintf(stderr, "%s: cannot write the log (%s)\n", path, rc ? cm_strerror(rc) : "io");
        return 2;
    }
    cm_buf_deinit(&b);
    return 0;
}

static FILE *open_or_die(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        exit(2);
    }
    return f;
}

static int report(void)
{
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

/* One "NAME COUNT P.. MEAN DIGITS BASE64" line from hdr-histogram-js. */
static void decode_line(char *line)
{
    char name[64];
    long long count, p[NPS];
    double mean;
    int digits, off = 0;
    if (sscanf(line, "%63s %lld%n", name, &count, &off) != 2) {
        check(0, "line", "?", 0, 0);
        return;
    }
    char *s = line + off;
    for (int i = 0; i < NPS; i++) {
        int k = 0;
        if (sscanf(s, " %lld%n", &p[i], &k) != 1) {
            check(0, "percentile column", name, 0, 0);
            return;
        }
        s += k;
    }
    char b64[1 << 16];
    if (sscanf(s, " %lf %d %65535s", &mean, &digits, b64) != 3) {
        check(0, "mean/digits/base64 columns", name, 0, 0);
        return;
    }
    struct cm_hist *h = NULL;
    const char *why = NULL;
    int rc = cm_hist_decode_base64_why(b64, strlen(b64), &h, &why);
    if (rc) {
        fprintf(stderr, "FAIL %s: decode: %s (%s)\n", name, cm_strerror(rc), why ? why : "-");
        failed++;
        return;
    }
    check(cm_hist_count(h) == count, "count", name, cm_hist_count(h), count);
    check(h->sig_digits == digits, "digits", name, h->sig_digits, digits);
    for (int i = 0; i < NPS; i++) {
        char what[32];
        snprintf(what, sizeof what, "p%g", ps[i]);
        int64_t got = cm_hist_percentile(h, ps[i]);
        check(got == p[i], what, name, got, p[i]);
    }
    /* JS averages bucket middles; ours keeps them within [min, max]. */
    double tol = fabs(mean) * pow(10, -digits) + (double)((int64_t)1 << h->unit_magnitude);
    check(fabs(cm_hist_mean(h) - mean) <= tol, "mean", name, llround(cm_hist_mean(h)),
          llround(mean));
    cm_hist_free(h);
}

static int cmd_decode(const char *path)
{
    FILE *f = open_or_die(path);
    static char line[1 << 17];
    int lines = 0;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '\n' || line[0] == '\0')
            continue;
        decode_line(line);
        lines++;
    }
    fclose(f);
    check(lines >= 5, "histogram lines", path, lines, 5);
    return report();
}

static int cmd_readlog(const char *log_path, const char *exp_path)
{
    FILE *lf = open_or_die(log_path), *ef = open_or_die(exp_path);
    static char line[1 << 17];
    char exp_line[256];
    int intervals = 0;
    while (fgets(line, sizeof line, lf)) {
        struct cm_hist_log_entry e;
        const char *why = NULL;
        int rc = cm_hist_log_read_line(line, strlen(line), &e, &why);
        if (rc == 0)
            continue;
        if (rc < 0) {
            fprintf(stderr, "FAIL %s: %s (%s)\n", log_path, cm_strerror(rc), why ? why : "-");
            failed++;
            continue;
        }
        intervals++;
        char tag[64];
        long long count, p50, p99, p100;
        double start_s, length_s;
        if (!fgets(exp_line, sizeof exp_line, ef) ||
            sscanf(exp_line, "%63s %lld %lf %lf %lld %lld %lld", tag, &count, &start_s, &length_s,
                   &p50, &p99, &p100) != 7) {
            check(0, "expectation line", log_path, intervals, 0);
            cm_hist_free(e.h);
            continue;
        }
        check(strcmp(e.tag, strcmp(tag, "-") ? tag : "") == 0, "tag", tag, 0, 0);
        check(cm_hist_count(e.h) == count, "count", tag, cm_hist_count(e.h), count);
        check(fabs(e.start_s - start_s) < 0.0015, "start_s", tag, llround(e.start_s * 1000),
              llround(start_s * 1000));
        check(fabs(e.length_s - length_s) < 0.0015, "length_s", tag, llround(e.length_s * 1000),
              llround(length_s * 1000));
        check(cm_hist_percentile(e.h, 50) == p50, "p50", tag, cm_hist_percentile(e.h, 50), p50);
        check(cm_hist_percentile(e.h, 99) == p99, "p99", tag, cm_hist_percentile(e.h, 99), p99);
        check(cm_hist_max(e.h) == p100, "max", tag, cm_hist_max(e.h), p100);
        cm_hist_free(e.h);
    }
    fclose(lf);
    fclose(ef);
    check(intervals >= 2, "interval lines", log_path, intervals, 2);
    return report();
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "encode") == 0)
        return cmd_encode();
    if (argc == 3 && strcmp(argv[1], "log") == 0)
        return cmd_log(argv[2]);
    if (argc == 3 && strcmp(argv[1], "decode") == 0)
        return cmd_decode(argv[2]);
    if (argc == 4 && strcmp(argv[1], "readlog") == 0)
        return cmd_readlog(argv[2], argv[3]);
    fprintf(stderr, "usage: hdr_js_peer encode | log FILE | decode FILE | readlog LOG EXP\n");
    return 2;
}
