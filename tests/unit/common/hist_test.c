/* Unit tests for cm_hist: layout, recording, clamping, equivalence,
 * percentiles, coordinated-omission back-fill (against the naive loop),
 * merging, iteration, statistics and reset. Accuracy over distributions is
 * hist_accuracy_test.c; the V2 encoding and logs are hist_codec_test.c. */
#include "harness.h"

#include "cm/err.h"
#include "cm/hist.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* splitmix64: deterministic, so failures reproduce. */
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
    int rc = cm_hist_new(lo, hi, digits, &h);
    CHECK_INT(rc, 0);
    if (rc)
        abort();
    return h;
}

static void test_new_bounds(void)
{
    struct cm_hist *h = NULL;
    CHECK_INT(cm_hist_new(0, 100, 3, &h), CM_EINVAL);
    CHECK_INT(cm_hist_new(-5, 100, 3, &h), CM_EINVAL);
    CHECK_INT(cm_hist_new(1, 1, 3, &h), CM_EINVAL);
    CHECK_INT(cm_hist_new(10, 19, 3, &h), CM_EINVAL);
    CHECK_INT(cm_hist_new(1, 100, 0, &h), CM_EINVAL);
    CHECK_INT(cm_hist_new(1, 100, 6, &h), CM_EINVAL);
    /* lowest * sub_bucket_count would not fit int64 */
    CHECK_INT(cm_hist_new(INT64_MAX / 4, INT64_MAX, 3, &h), CM_EINVAL);
    CHECK(h == NULL);
    CHECK_INT(cm_hist_new(10, 20, 3, &h), 0);
    cm_hist_free(h);
    /* The largest layout: everything from 1 to INT64_MAX at 5 digits. */
    CHECK_INT(cm_hist_new(1, INT64_MAX, 5, &h), 0);
    CHECK_INT(h->sub_bucket_count, 262144);
    CHECK_INT(h->counts_len, 47 * 131072);
    cm_hist_record(h, INT64_MAX);
    CHECK_INT(cm_hist_max(h), INT64_MAX);
    CHECK_INT(cm_hist_percentile(h, 50), INT64_MAX);
    CHECK_INT(cm_hist_highest_equivalent(h, INT64_MAX), INT64_MAX);
    cm_hist_free(h);
    cm_hist_free(NULL);
}

/* The HdrHistogram layout for the textbook case: 3 digits -> 2048
 * sub-buckets; 1 ns .. 1 h needs 32 buckets, 33 * 1024 counters. */
static void test_layout(void)
{
    struct cm_hist *h = new_hist(1, 3600LL * 1000000000, 3);
    CHECK_INT(h->sub_bucket_count, 2048);
    CHECK_INT(h->sub_bucket_half_count, 1024);
    CHECK_INT(h->sub_bucket_half_count_magnitude, 10);
    CHECK_INT(h->unit_magnitude, 0);
    CHECK_INT(h->bucket_count, 32);
    CHECK_INT(h->counts_len, 33 * 1024);
    CHECK_INT(cm_hist_footprint(h), sizeof *h + 33 * 1024 * 8);
    cm_hist_free(h);
    h = new_hist(1000, 1000000, 2);
    CHECK_INT(h->unit_magnitude, 9);
    CHECK_INT(h->sub_bucket_count, 256);
    CHECK_INT(h->sub_bucket_mask, 255 << 9);
    cm_hist_free(h);
}

static void test_equivalence(void)
{
    struct cm_hist *h = new_hist(1, 1000000000, 3);
    /* bucket 0 (0..2047) has unit resolution */
    CHECK_INT(cm_hist_lowest_equivalent(h, 2047), 2047);
    CHECK_INT(cm_hist_highest_equivalent(h, 2047), 2047);
    CHECK_INT(cm_hist_lowest_equivalent(h, 0), 0);
    /* bucket 1 (2048..4095) in steps of 2, bucket 2 in steps of 4 */
    CHECK_INT(cm_hist_lowest_equivalent(h, 2049), 2048);
    CHECK_INT(cm_hist_highest_equivalent(h, 2048), 2049);
    CHECK_INT(cm_hist_lowest_equivalent(h, 4099), 4096);
    CHECK_INT(cm_hist_highest_equivalent(h, 4099), 4099);
    CHECK_INT(cm_hist_highest_equivalent(h, 4100), 4103);
    CHECK_INT(cm_hist_lowest_equivalent(h, -7), 0);
    /* Every bucket's width is below 10^-3 of its values. */
    for (int64_t v = 1; v < 1000000000; v = v * 3 + 1) {
        int64_t lo = cm_hist_lowest_equivalent(h, v), hi = cm_hist_highest_equivalent(h, v);
        CHECK_MSG(lo <= v && v <= hi && (hi - lo) * 1000 <= v, "v=%lld lo=%lld hi=%lld",
                  (long long)v, (long long)lo, (long long)hi);
    }
    cm_hist_free(h);
}

static void test_record_basics(void)
{
    struct cm_hist *h = new_hist(1, 1000000, 3);
    CHECK_INT(cm_hist_count(h), 0);
    CHECK_INT(cm_hist_min(h), 0);
    CHECK_INT(cm_hist_max(h), 0);
    CHECK_INT(cm_hist_percentile(h, 50), 0);
    CHECK_NEAR(cm_hist_mean(h), 0, 0);
    CHECK_NEAR(cm_hist_stddev(h), 0, 0);
    cm_hist_record(h, 5);
    cm_hist_record(h, 7);
    cm_hist_record(h, -3); /* recorded as 0 */
    cm_hist_record_n(h, 9, 3);
    cm_hist_record_n(h, 9, 0);
    cm_hist_record_n(h, 9, -4);
    CHECK_INT(cm_hist_count(h), 6);
    CHECK_INT(cm_hist_min(h), 0);
    CHECK_INT(cm_hist_max(h), 9);
    CHECK_NEAR(cm_hist_mean(h), (0 + 5 + 7 + 27) / 6.0, 1e-9);
    CHECK_INT(cm_hist_percentile(h, 0), 0);
    CHECK_INT(cm_hist_percentile(h, 100), 9);
    CHECK_INT(cm_hist_percentile(h, 20), 5); /* rank 2 of 6 */
    /* sorted: 0 5 7 9 9 9 */
    CHECK_INT(cm_hist_percentile(h, 50), 7);  /* rank 3 */
    CHECK_INT(cm_hist_percentile(h, 51), 9);  /* rank ceil(3.06) = 4 */
    CHECK_INT(cm_hist_percentile(h, 150), 9); /* out of range -> ends */
    CHECK_INT(cm_hist_percentile(h, -1), 0);
    /* clamping */
    cm_hist_record(h, 5000000);
    cm_hist_record_n(h, INT64_MAX, 2);
    CHECK_INT(h->clamped, 3);
    CHECK_INT(cm_hist_count(h), 9);
    CHECK_INT(cm_hist_max(h), 1000000);
    CHECK_INT(cm_hist_percentile(h, 100), 1000000);
    cm_hist_reset(h);
    CHECK_INT(cm_hist_count(h), 0);
    CHECK_INT(h->clamped, 0);
    CHECK_INT(cm_hist_max(h), 0);
    for (int32_t i = 0; i < h->counts_len; i++)
        if (h->counts[i]) {
            CHECK_MSG(0, "counts[%d] not reset", i);
            break;
        }
    cm_hist_free(h);
}

/* Percentile (the rank's bucket, highest equivalent, within [min, max]) on
 * a case checked by hand: 1..10000 once each at 3 digits. */
static void test_percentile_semantics(void)
{
    struct cm_hist *h = new_hist(1, 3600000000LL, 3);
    for (int v = 1; v <= 10000; v++)
        cm_hist_record(h, v);
    CHECK_INT(cm_hist_percentile(h, 50), 5003); /* rank 5000 in 4096..8191 step 4 */
    CHECK_INT(cm_hist_percentile(h, 10), 1000); /* bucket 0: exact */
    CHECK_INT(cm_hist_percentile(h, 99.9), 9991);
    CHECK_INT(cm_hist_percentile(h, 99.99), 9999); /* rank 9999 in 9996..9999 */
    CHECK_INT(cm_hist_percentile(h, 100), 10000);
    CHECK_INT(cm_hist_percentile(h, 0), 1);
    /* 0.1 * 10000 is 1000 exactly despite fp: rank must not become 1001 */
    CHECK_INT(cm_hist_percentile(h, 10.0), 1000);
    CHECK_NEAR(cm_hist_mean(h), 5000.5, 5000.5e-3);
    CHECK_NEAR(cm_hist_stddev(h), 2886.75, 2886.75e-3);
    cm_hist_free(h);
}

/* Reference: HdrHistogram's recordValueWithExpectedInterval, one record per
 * back-filled value. */
static void naive_corrected(struct cm_hist *h, int64_t value, int64_t e)
{
    cm_hist_record(h, value);
    if (e <= 0 || value <= e)
        return;
    for (int64_t missing = value - e; missing >= e; missing -= e)
        cm_hist_record(h, missing);
}

static int same_state(const struct cm_hist *a, const struct cm_hist *b)
{
    return a->total_count == b->total_count && a->min_value == b->min_value &&
           a->max_value == b->max_value && a->clamped == b->clamped &&
           memcmp(a->counts, b->counts, (size_t)a->counts_len * sizeof(int64_t)) == 0;
}

static void test_record_corrected(void)
{
    struct cm_hist *fast = new_hist(1, 100000, 2);
    struct cm_hist *slow = new_hist(1, 100000, 2);
    for (int i = 0; i < 300; i++) {
        int64_t e = (int64_t)(rng() % 200) + 1;
        int64_t v = (int64_t)(rng() % 300000); /* some beyond the range */
        if (i % 7 == 0)
            e = 0;
        if (i % 11 == 0)
            v = e * (int64_t)(rng() % 50); /* exact multiples */
        cm_hist_record_corrected(fast, v, e);
        naive_corrected(slow, v, e);
    }
    CHECK(same_state(fast, slow));
    CHECK(fast->clamped > 0);
    cm_hist_free(fast);
    cm_hist_free(slow);

    /* A 1000 s stall at a 1 ns interval: 10^12 back-filled values, counted
     * per bucket (this would not finish one record at a time). */
    struct cm_hist *h = new_hist(1, 3600LL * 1000000000, 3);
    cm_hist_record_corrected(h, 1000LL * 1000000000, 1);
    CHECK_INT(cm_hist_count(h), 1000LL * 1000000000);
    CHECK_INT(cm_hist_min(h), 1);
    CHECK_INT(cm_hist_max(h), 1000LL * 1000000000);
    int64_t p50 = cm_hist_percentile(h, 50);
    CHECK_MSG(llabs(p50 - 500LL * 1000000000) <= 500LL * 1000000, "p50=%lld", (long long)p50);
    cm_hist_free(h);

    /* value <= interval: no back-fill */
    h = new_hist(1, 1000, 3);
    cm_hist_record_corrected(h, 100, 100);
    cm_hist_record_corrected(h, 250, 100); /* 250, 150 */
    CHECK_INT(cm_hist_count(h), 3);
    CHECK_INT(cm_hist_min(h), 100);
    cm_hist_free(h);
}

static void test_add_same_layout(void)
{
    struct cm_hist *a = new_hist(1, 10000000, 3);
    struct cm_hist *b = new_hist(1, 10000000, 3);
    struct cm_hist *all = new_hist(1, 10000000, 3);
    for (int i = 0; i < 5000; i++) {
        int64_t v = (int64_t)(rng() % 20000000);
        cm_hist_record(i % 3 ? a : b, v);
        cm_hist_record(all, v);
    }
    CHECK_INT(cm_hist_add(a, b), 0);
    CHECK(same_state(a, all));
    /* adding an empty histogram changes nothing */
    cm_hist_reset(b);
    CHECK_INT(cm_hist_add(a, b), 0);
    CHECK(same_state(a, all));
    /* self-add doubles */
    int64_t n = cm_hist_count(a), p90 = cm_hist_percentile(a, 90);
    CHECK_INT(cm_hist_add(a, a), 0);
    CHECK_INT(cm_hist_count(a), 2 * n);
    CHECK_INT(cm_hist_percentile(a, 90), p90);
    cm_hist_free(a);
    cm_hist_free(b);
    cm_hist_free(all);
}

static void test_add_other_layout(void)
{
    /* src: fine and wide; dst: coarse and narrow. */
    struct cm_hist *src = new_hist(1, 100000000, 4);
    struct cm_hist *dst = new_hist(1, 1000000, 2);
    for (int v = 1; v <= 1000; v++)
        cm_hist_record(src, v * 1000); /* 1000 .. 1000000 */
    cm_hist_record_n(src, 50000000, 7);
    cm_hist_record_n(src, 500000000, 2); /* clamped in src */
    CHECK_INT(src->clamped, 2);
    int64_t dropped = cm_hist_add(dst, src);
    CHECK_INT(dropped, 9);
    CHECK_INT(dst->clamped, 9);
    CHECK_INT(cm_hist_count(dst), 1009);
    CHECK_INT(cm_hist_max(dst), 1000000);
    CHECK_INT(cm_hist_min(dst), 1000);
    int64_t p50 = cm_hist_percentile(dst, 50);
    CHECK_MSG(llabs(p50 - 505000) <= 505000 / 100, "p50=%lld", (long long)p50);

    /* src clamped values whose bucket fits dst: still counted as clamped. */
    struct cm_hist *s2 = new_hist(1, 1000, 3);
    struct cm_hist *d2 = new_hist(1, 1000000, 3);
    cm_hist_record(s2, 5000);
    CHECK_INT(cm_hist_add(d2, s2), 0);
    CHECK_INT(d2->clamped, 1);
    CHECK_INT(cm_hist_max(d2), 1000);

    /* coarse into fine: totals and ranks preserved within dst's precision */
    struct cm_hist *coarse = new_hist(1, 1000000, 1);
    struct cm_hist *fine = new_hist(1, 1000000, 4);
    for (int v = 1; v <= 100; v++)
        cm_hist_record(coarse, v * 997);
    CHECK_INT(cm_hist_add(fine, coarse), 0);
    CHECK_INT(cm_hist_count(fine), 100);
    CHECK_INT(cm_hist_percentile(fine, 100), 99700);
    CHECK_INT(cm_hist_min(fine), 997);
    cm_hist_free(src);
    cm_hist_free(dst);
    cm_hist_free(s2);
    cm_hist_free(d2);
    cm_hist_free(coarse);
    cm_hist_free(fine);
}

/* Same layout, narrower dst: the direct index path drops what starts
 * above dst's range exactly like the bucket-by-bucket path would. */
static void test_add_narrower_same_layout(void)
{
    struct cm_hist *src = new_hist(1, 1000000000, 3);
    struct cm_hist *dst = new_hist(1, 1000000, 3);
    CHECK_INT(src->sub_bucket_half_count_magnitude, dst->sub_bucket_half_count_magnitude);
    cm_hist_record(src, 500);
    cm_hist_record(src, 1000000); /* highest trackable of dst: fits */
    cm_hist_record(src, 1000001); /* same bucket as 1000000 in both: fits */
    cm_hist_record(src, 2000000);
    cm_hist_record_n(src, 500000000, 3);
    CHECK_INT(cm_hist_add(dst, src), 4);
    CHECK_INT(dst->clamped, 4);
    CHECK_INT(cm_hist_count(dst), 7);
    CHECK_INT(cm_hist_max(dst), 1000000);
    CHECK_INT(cm_hist_percentile(dst, 50), 1000000);
    CHECK_INT(cm_hist_percentile(dst, 10), 500);
    struct cm_hist_iter it;
    cm_hist_iter_init(&it, dst);
    CHECK_INT(cm_hist_iter_next(&it), 1);
    CHECK_INT(it.count, 1);
    CHECK_INT(cm_hist_iter_next(&it), 1);
    CHECK_INT(it.count, 6);
    CHECK(it.value_lo <= 1000000 && 1000000 <= it.value_hi);
    CHECK_INT(cm_hist_iter_next(&it), 0);
    cm_hist_free(src);
    cm_hist_free(dst);
}

static void test_iteration(void)
{
    struct cm_hist *h = new_hist(1, 1000000, 3);
    struct cm_hist_iter it;
    cm_hist_iter_init(&it, h);
    CHECK_INT(cm_hist_iter_next(&it), 0);
    cm_hist_record_n(h, 3, 2);
    cm_hist_record(h, 3000);
    cm_hist_record(h, 3001);
    cm_hist_record(h, 999999);
    cm_hist_iter_init(&it, h);
    CHECK_INT(cm_hist_iter_next(&it), 1);
    CHECK_INT(it.value_lo, 3);
    CHECK_INT(it.value_hi, 3);
    CHECK_INT(it.count, 2);
    CHECK_INT(it.cumulative, 2);
    CHECK_INT(cm_hist_iter_next(&it), 1);
    CHECK_INT(it.value_lo, 3000);
    CHECK_INT(it.value_hi, 3001);
    CHECK_INT(it.count, 2);
    CHECK_INT(it.cumulative, 4);
    CHECK_INT(cm_hist_iter_next(&it), 1);
    CHECK(it.value_lo <= 999999 && 999999 <= it.value_hi);
    CHECK_INT(it.value_hi - it.value_lo + 1, 512);
    CHECK_INT(it.cumulative, 5);
    CHECK_INT(cm_hist_iter_next(&it), 0);
    CHECK_INT(cm_hist_iter_next(&it), 0);
    cm_hist_free(h);
}

static void test_all_equal_stats(void)
{
    struct cm_hist *h = new_hist(1, 1000000000, 2);
    cm_hist_record_n(h, 123457, 1000);
    CHECK_INT(cm_hist_percentile(h, 50), 123457);
    CHECK_INT(cm_hist_percentile(h, 99.999), 123457);
    CHECK_NEAR(cm_hist_mean(h), 123457, 0);
    CHECK_NEAR(cm_hist_stddev(h), 0, 0);
    cm_hist_free(h);
}

int main(void)
{
    test_new_bounds();
    test_layout();
    test_equivalence();
    test_record_basics();
    test_percentile_semantics();
    test_record_corrected();
    test_add_same_layout();
    test_add_other_layout();
    test_add_narrower_same_layout();
    test_iteration();
    test_all_equal_stats();
    return TEST_REPORT();
}
