/* hist.c: HdrHistogram-style log-linear histogram (see hist.h): layout,
 * recording, merging, statistics and iteration. The V2 wire encoding and the
 * interval log live in hist_codec.c. Plain int64 counters, one allocation per
 * histogram; nothing here is atomic or locked.
 *
 * Layout, in units of u = 2^unit_magnitude: sub_bucket_count = 2^(m+1) is the
 * smallest power of two >= 2 * 10^S. Bucket 0 counts [0, sub_bucket_count)
 * with step 1; bucket k > 0 counts [half * 2^k, 2 * half * 2^k) with step 2^k.
 * A value v >= half * 2^k therefore shares its bucket with at most 2^k - 1
 * others, and 2^k <= v / half <= v / 10^S: the relative error bound. */
#include "cm/hist.h"

#include "cm/err.h"
#include "cm/mem.h"
#include "hist_int.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int cm_hist_layout(struct cm_hist *h, int64_t lowest_trackable, int64_t highest_trackable,
                   int sig_digits)
{
    if (lowest_trackable < 1 || sig_digits < 1 || sig_digits > 5 ||
        highest_trackable / 2 < lowest_trackable)
        return CM_EINVAL;
    int64_t single_unit_limit = 2;
    for (int i = 0; i < sig_digits; i++)
        single_unit_limit *= 10;
    int count_magnitude = 0;
    while (((int64_t)1 << count_magnitude) < single_unit_limit)
        count_magnitude++;
    int half_magnitude = (count_magnitude > 1 ? count_magnitude : 1) - 1;
    int unit_magnitude = 63 - __builtin_clzll((uint64_t)lowest_trackable);
    /* The first untrackable value, sub_bucket_count << unit_magnitude, must fit. */
    if (unit_magnitude + half_magnitude + 1 > 62)
        return CM_EINVAL;

    h->lowest_trackable = lowest_trackable;
    h->highest_trackable = highest_trackable;
    h->sig_digits = sig_digits;
    h->unit_magnitude = unit_magnitude;
    h->sub_bucket_half_count_magnitude = half_magnitude;
    h->sub_bucket_count = (int32_t)1 << (half_magnitude + 1);
    h->sub_bucket_half_count = h->sub_bucket_count / 2;
    h->sub_bucket_mask = ((int64_t)h->sub_bucket_count - 1) << unit_magnitude;

    /* Buckets needed so that highest_trackable has an index; once doubling
     * would overflow, one more bucket reaches INT64_MAX. */
    int64_t untrackable = (int64_t)h->sub_bucket_count << unit_magnitude;
    int32_t buckets = 1;
    while (untrackable <= highest_trackable) {
        if (untrackable > INT64_MAX / 2) {
            buckets++;
            break;
        }
        untrackable *= 2;
        buckets++;
    }
    h->bucket_count = buckets;
    int64_t len = ((int64_t)buckets + 1) * h->sub_bucket_half_count;
    if (len > CM_HIST_MAX_COUNTS)
        return CM_EINVAL;
    h->counts_len = (int32_t)len;
    assert(cm_hist_index_of(h, highest_trackable) < h->counts_len);
    return 0;
}

int cm_hist_new(int64_t lowest_trackable, int64_t highest_trackable, int sig_digits,
                struct cm_hist **out)
{
    struct cm_hist layout;
    memset(&layout, 0, sizeof layout);
    int rc = cm_hist_layout(&layout, lowest_trackable, highest_trackable, sig_digits);
    if (rc)
        return rc;
    /* One allocation: the struct, then counts (sizeof is a multiple of 8). */
    size_t counts_bytes = (size_t)layout.counts_len * sizeof(int64_t);
    struct cm_hist *h = cm_xcalloc(1, sizeof *h + counts_bytes);
    *h = layout;
    h->counts = (int64_t *)(void *)(h + 1);
    h->min_value = INT64_MAX;
    *out = h;
    return 0;
}

void cm_hist_free(struct cm_hist *h)
{
    free(h);
}

size_t cm_hist_footprint(const struct cm_hist *h)
{
    return sizeof *h + (size_t)h->counts_len * sizeof(int64_t);
}

void cm_hist_reset(struct cm_hist *h)
{
    memset(h->counts, 0, (size_t)h->counts_len * sizeof(int64_t));
    h->total_count = 0;
    h->min_value = INT64_MAX;
    h->max_value = 0;
    h->clamped = 0;
    h->start_ns = 0;
    h->end_ns = 0;
}

void cm_hist_record(struct cm_hist *h, int64_t value)
{
    if (value < 0)
        value = 0;
    if (value > h->highest_trackable) {
        value = h->highest_trackable;
        h->clamped++;
    }
    h->counts[cm_hist_index_of(h, value)]++;
    h->total_count++;
    if (value < h->min_value)
        h->min_value = value;
    if (value > h->max_value)
        h->max_value = value;
}

void cm_hist_record_n(struct cm_hist *h, int64_t value, int64_t n)
{
    if (n <= 0)
        return;
    if (value < 0)
        value = 0;
    if (value > h->highest_trackable) {
        value = h->highest_trackable;
        h->clamped += n;
    }
    h->counts[cm_hist_index_of(h, value)] += n;
    h->total_count += n;
    if (value < h->min_value)
        h->min_value = value;
    if (value > h->max_value)
        h->max_value = value;
}

/* Counts n values lo..hi (all in one bucket, hi <= highest_trackable). */
static void add_run(struct cm_hist *h, int64_t lo, int64_t hi, int64_t n)
{
    h->counts[cm_hist_index_of(h, hi)] += n;
    h->total_count += n;
    if (lo < h->min_value)
        h->min_value = lo;
    if (hi > h->max_value)
        h->max_value = hi;
}

/* The back-filled values x, x - E, x - 2E, ... >= E form an arithmetic
 * sequence, so instead of one record per term (value / E of them: 10^12 for
 * a 1000 s stall at 1 ns) each step counts every term that falls into x's
 * bucket at once. Steps <= buckets touched + 1, so the loop is bounded by
 * counts_len however large value / E is. Overflow: n * E <= x - lo + E <= value. */
void cm_hist_record_corrected(struct cm_hist *h, int64_t value, int64_t expected_interval)
{
    cm_hist_record(h, value);
    int64_t e = expected_interval;
    if (e <= 0 || value <= e)
        return;
    int64_t x = value - e;
    while (x >= e) {
        int64_t n;
        if (x > h->highest_trackable) {
            n = (x - h->highest_trackable - 1) / e + 1; /* terms above the range */
            cm_hist_record_n(h, x, n);
        } else {
            int64_t lo = cm_hist_lowest_equivalent(h, x);
            if (lo < e)
                lo = e;
            n = (x - lo) / e + 1;
            add_run(h, x - (n - 1) * e, x, n);
        }
        x -= n * e;
    }
}

int64_t cm_hist_add(struct cm_hist *dst, const struct cm_hist *src)
{
    if (src->total_count == 0)
        return 0;
    int64_t top = dst->highest_trackable;
    int32_t top_index = cm_hist_index_of(dst, top);
    int64_t dropped = 0;
    if (dst->unit_magnitude == src->unit_magnitude &&
        dst->sub_bucket_half_count_magnitude == src->sub_bucket_half_count_magnitude) {
        /* Same layout (the coordinator's case): index i means the same
         * bucket in both, and i > top_index starts above dst's range. A
         * plain loop the compiler vectorises. */
        int32_t fit = src->counts_len < top_index + 1 ? src->counts_len : top_index + 1;
        for (int32_t i = 0; i < fit; i++)
            dst->counts[i] += src->counts[i];
        for (int32_t i = fit; i < src->counts_len; i++)
            dropped += src->counts[i];
        dst->counts[top_index] += dropped;
    } else {
        /* A bucket lands where its lowest value does; one starting above
         * dst's range goes to dst's top bucket and counts as dropped. */
        struct cm_hist_iter it;
        cm_hist_iter_init(&it, src);
        while (cm_hist_iter_next(&it)) {
            if (it.value_lo > top) {
                dst->counts[top_index] += it.count;
                dropped += it.count;
            } else {
                dst->counts[cm_hist_index_of(dst, it.value_lo)] += it.count;
            }
        }
    }
    dst->total_count += src->total_count;
    /* src's own clamped values sit in its top bucket: already in `dropped`
     * when that bucket fell outside dst, to be added otherwise. */
    int src_top_dropped = cm_hist_lowest_equivalent(src, src->highest_trackable) > top;
    dst->clamped += dropped + (src_top_dropped ? 0 : src->clamped);
    int64_t lo = src->min_value < top ? src->min_value : top;
    int64_t hi = src->max_value < top ? src->max_value : top;
    if (lo < dst->min_value)
        dst->min_value = lo;
    if (hi > dst->max_value)
        dst->max_value = hi;
    return dropped;
}

int64_t cm_hist_count(const struct cm_hist *h)
{
    return h->total_count;
}

int64_t cm_hist_min(const struct cm_hist *h)
{
    return h->total_count ? h->min_value : 0;
}

int64_t cm_hist_max(const struct cm_hist *h)
{
    return h->total_count ? h->max_value : 0;
}

/* Bucket representative for mean/stddev: its middle, kept within the exact
 * min and max so a single-valued histogram reports that value exactly. */
static double bucket_mid(const struct cm_hist *h, const struct cm_hist_iter *it)
{
    int64_t mid = it->value_lo + (it->value_hi - it->value_lo + 1) / 2;
    if (mid > h->max_value)
        mid = h->max_value;
    if (mid < h->min_value)
        mid = h->min_value;
    return (double)mid;
}

double cm_hist_mean(const struct cm_hist *h)
{
    if (h->total_count == 0)
        return 0.0;
    double sum = 0.0;
    struct cm_hist_iter it;
    cm_hist_iter_init(&it, h);
    while (cm_hist_iter_next(&it))
        sum += bucket_mid(h, &it) * (double)it.count;
    return sum / (double)h->total_count;
}

double cm_hist_stddev(const struct cm_hist *h)
{
    if (h->total_count == 0)
        return 0.0;
    double mean = cm_hist_mean(h);
    double sq = 0.0;
    struct cm_hist_iter it;
    cm_hist_iter_init(&it, h);
    while (cm_hist_iter_next(&it)) {
        double d = bucket_mid(h, &it) - mean;
        sq += d * d * (double)it.count;
    }
    return sqrt(sq / (double)h->total_count);
}

/* The rank (1-based) holding percentile p, as HdrHistogram computes it: the
 * fp product can come out one ulp above an exact integer, which must not
 * push the rank up by one. */
static int64_t rank_of(const struct cm_hist *h, double p)
{
    double fp = p / 100.0 * (double)h->total_count;
    double r = ceil(fp - (nextafter(fp, INFINITY) - fp));
    if (r < 1.0)
        return 1;
    if (r > (double)h->total_count)
        return h->total_count;
    return (int64_t)r;
}

static int64_t within_min_max(const struct cm_hist *h, int64_t v)
{
    if (v > h->max_value)
        return h->max_value;
    if (v < h->min_value)
        return h->min_value;
    return v;
}

int cm_hist_percentiles(const struct cm_hist *h, const double *ps, int64_t *out, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (!(ps[i] >= ps[i - 1]))
            return CM_EINVAL;
    /* One forward scan over counts shared by all ps; a bucket's value is
     * computed only where a rank lands. */
    const int64_t *counts = h->counts;
    int32_t idx = -1, len = h->counts_len;
    int64_t cumulative = 0;
    for (size_t i = 0; i < n; i++) {
        double p = ps[i];
        if (h->total_count == 0) {
            out[i] = 0;
        } else if (!(p > 0.0)) { /* also NaN */
            out[i] = h->min_value;
        } else if (p >= 100.0) {
            out[i] = h->max_value;
        } else {
            int64_t rank = rank_of(h, p);
            while ((idx < 0 || cumulative < rank) && idx + 1 < len)
                cumulative += counts[++idx];
            /* counts sum to total_count >= rank, so idx holds the rank */
            int64_t lo = cm_hist_value_at(h, idx);
            out[i] = within_min_max(h, cm_hist_highest_equivalent(h, lo));
        }
    }
    return 0;
}

int64_t cm_hist_percentile(const struct cm_hist *h, double p)
{
    int64_t v = 0;
    cm_hist_percentiles(h, &p, &v, 1);
    return v;
}

int64_t cm_hist_lowest_equivalent(const struct cm_hist *h, int64_t value)
{
    if (value < 0)
        value = 0;
    int shift = cm_hist_bucket_of(h, value) + h->unit_magnitude;
    return (value >> shift) << shift;
}

int64_t cm_hist_highest_equivalent(const struct cm_hist *h, int64_t value)
{
    if (value < 0)
        value = 0;
    int shift = cm_hist_bucket_of(h, value) + h->unit_magnitude;
    /* (sub + 1) << shift can be 2^63: compute unsigned, the result fits. */
    uint64_t next = ((uint64_t)(value >> shift) + 1) << shift;
    return (int64_t)(next - 1);
}

void cm_hist_iter_init(struct cm_hist_iter *it, const struct cm_hist *h)
{
    memset(it, 0, sizeof *it);
    it->h = h;
}

int cm_hist_iter_next(struct cm_hist_iter *it)
{
    const struct cm_hist *h = it->h;
    /* Stop once every count was seen: no scan over the empty tail. */
    if (it->cumulative >= h->total_count)
        return 0;
    /* Locals, so the scan over empty counters stays in registers. */
    const int64_t *counts = h->counts;
    int32_t i = it->index, len = h->counts_len;
    while (i < len && counts[i] == 0)
        i++;
    if (i >= len) {
        it->index = len;
        return 0;
    }
    it->index = i + 1;
    it->count = counts[i];
    it->cumulative += counts[i];
    it->value_lo = cm_hist_value_at(h, i);
    it->value_hi = cm_hist_highest_equivalent(h, it->value_lo);
    return 1;
}

int cm_hist_settle(struct cm_hist *h)
{
    int64_t total = 0;
    int32_t first = -1, last = -1;
    for (int32_t i = 0; i < h->counts_len; i++) {
        int64_t c = h->counts[i];
        if (c == 0)
            continue;
        if (__builtin_add_overflow(total, c, &total))
            return CM_ERANGE;
        if (first < 0)
            first = i;
        last = i;
    }
    h->total_count = total;
    h->clamped = 0;
    if (first < 0) {
        h->min_value = INT64_MAX;
        h->max_value = 0;
        return 0;
    }
    h->min_value = cm_hist_value_at(h, first);
    h->max_value = cm_hist_highest_equivalent(h, cm_hist_value_at(h, last));
    return 0;
}
