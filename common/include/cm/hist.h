/* hist.h: HdrHistogram-style log-linear histogram of non-negative integer
 * values (we record nanoseconds or microseconds, by convention named in the
 * metric). Memory is fixed at creation; recording never allocates and never
 * fails (values above the highest trackable value are clamped to it and
 * counted in `clamped`, values below 0 are recorded as 0).
 *
 * Precision: with S significant digits, every value v is stored in a bucket
 * whose width is at most 10^-S * v, so any reported value (percentile, min,
 * max) is within that relative error of a true recorded value.
 *
 * Not thread-safe: each thread owns its histograms; a coordinator merges
 * them with cm_hist_add (bins are added, never percentiles).
 *
 * Serialisation: HdrHistogram V2 compressed encoding (cookie 0x1c849304,
 * zlib-deflated V2 payload with ZigZag LEB128 counts, cookie 0x1c849303), as
 * written by HdrHistogram's Java/C/JS implementations and their interval
 * logs, base64 on top for text. */
#ifndef CM_HIST_H
#define CM_HIST_H

#include <stddef.h>
#include <stdint.h>

struct cm_buf;

struct cm_hist {
    int64_t lowest_trackable;  /* >= 1 */
    int64_t highest_trackable; /* >= 2 * lowest_trackable */
    int sig_digits;            /* 1..5 */
    int unit_magnitude;        /* floor(log2(lowest_trackable)) */
    int sub_bucket_half_count_magnitude;
    int32_t sub_bucket_count;
    int32_t sub_bucket_half_count;
    int64_t sub_bucket_mask;
    int32_t bucket_count;
    int32_t counts_len;
    int64_t total_count; /* values recorded (including clamped ones) */
    int64_t min_value;   /* INT64_MAX when empty */
    int64_t max_value;   /* 0 when empty */
    int64_t clamped;     /* subset of total_count: values above highest_trackable */
    int64_t start_ns;    /* interval start, wall clock ns; 0 if unset (for logs) */
    int64_t end_ns;      /* interval end, wall clock ns; 0 if unset */
    int64_t *counts;     /* counts_len entries */
};

/* Creates a histogram; CM_EINVAL for bounds or digits out of range. */
int cm_hist_new(int64_t lowest_trackable, int64_t highest_trackable, int sig_digits,
                struct cm_hist **out);
void cm_hist_free(struct cm_hist *h);
/* Memory footprint in bytes (struct + counts). */
size_t cm_hist_footprint(const struct cm_hist *h);
void cm_hist_reset(struct cm_hist *h);

/* Records one value (count 1) or n equal values. Allocation-free, O(1). */
void cm_hist_record(struct cm_hist *h, int64_t value);
void cm_hist_record_n(struct cm_hist *h, int64_t value, int64_t n);
/* Coordinated-omission correction (as wrk2 / HdrHistogram
 * recordValueWithExpectedInterval): records value, then, if value exceeds
 * expected_interval, back-fills value - k*expected_interval for k = 1.. while
 * that stays >= expected_interval. expected_interval <= 0 disables it. */
void cm_hist_record_corrected(struct cm_hist *h, int64_t value, int64_t expected_interval);

/* Adds every count of src to dst (they may differ in range and precision).
 * Returns the number of counts of src that did not fit dst's range (those
 * are clamped into dst's top bucket and also counted in dst->clamped). */
int64_t cm_hist_add(struct cm_hist *dst, const struct cm_hist *src);

int64_t cm_hist_count(const struct cm_hist *h);
int64_t cm_hist_min(const struct cm_hist *h); /* 0 when empty */
int64_t cm_hist_max(const struct cm_hist *h); /* 0 when empty */
double cm_hist_mean(const struct cm_hist *h);
double cm_hist_stddev(const struct cm_hist *h);
/* Value at percentile p in [0, 100] (HdrHistogram semantics: the highest
 * value equivalent to the bucket holding the p-th percentile count, max for
 * 100). 0 when empty. */
int64_t cm_hist_percentile(const struct cm_hist *h, double p);
/* Values are equivalent when they share a bucket. */
int64_t cm_hist_lowest_equivalent(const struct cm_hist *h, int64_t value);
int64_t cm_hist_highest_equivalent(const struct cm_hist *h, int64_t value);

/* Iterates the non-empty buckets in ascending value order. */
struct cm_hist_iter {
    const struct cm_hist *h;
    int32_t index;      /* next counts[] index to look at */
    int64_t value_lo;   /* lowest value of the current bucket */
    int64_t value_hi;   /* highest equivalent value of the current bucket */
    int64_t count;      /* count in the current bucket */
    int64_t cumulative; /* counts up to and including the current bucket */
};
void cm_hist_iter_init(struct cm_hist_iter *it, const struct cm_hist *h);
/* 1 while a non-empty bucket was found (fields set), 0 at the end. */
int cm_hist_iter_next(struct cm_hist_iter *it);

/* Appends the V2 compressed encoding, base64-encoded, to out.
 * 0 or CM_ETOOBIG (out's maximum). */
int cm_hist_encode_base64(const struct cm_hist *h, struct cm_buf *out);
/* Decodes base64 of a V2 compressed histogram (or a plain V2 one) into a new
 * histogram with the encoded range and precision. CM_EPARSE on bad input.
 * The input need not be NUL terminated. */
int cm_hist_decode_base64(const char *p, size_t n, struct cm_hist **out);

/* HdrHistogram interval log ("#[StartTime: ...]", "#[BaseTime: ...]",
 * "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"",
 * then lines "Tag=NAME,start,length,max,BASE64"). max_unit_ratio divides
 * the max column (1e6 for ns recorded and milliseconds shown, as the tools do). */
int cm_hist_log_header(struct cm_buf *out, int64_t start_wall_ns);
int cm_hist_log_line(struct cm_buf *out, const char *tag, double start_s, double length_s,
                     const struct cm_hist *h, double max_unit_ratio);

#endif
