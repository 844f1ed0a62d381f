/* hist.h: HdrHistogram-style log-linear histogram of non-negative integer
 * values (we record nanoseconds or microseconds, by convention named in the
 * metric). Memory is fixed at creation; recording never allocates and never
 * fails (values above the highest trackable value are clamped to it and
 * counted in `clamped`, values below 0 are recorded as 0).
 *
 * Precision: with S significant digits, every value v is stored in a bucket
 * whose width is at most max(10^-S * v, 2^floor(log2(lowest_trackable))),
 * so any reported value (percentile, min, max) is within that error of a
 * true recorded value (a relative error of 10^-S when lowest_trackable is 1).
 * min and max are exact while recorded; after decoding they are bucket
 * bounds, as in every HdrHistogram implementation.
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

/* Creates a histogram; CM_EINVAL for bounds or digits out of range (also
 * when lowest_trackable * 10^S is too large for int64 bucket arithmetic).
 * Free with cm_hist_free. Footprint: 8 bytes * (buckets + 1) * 2^m where
 * 2^(m+1) >= 2 * 10^S and buckets = log2(highest / lowest) - m: 3 digits,
 * 1 ns to 1 h: 264 KiB; 1 to 3.6e9 (us up to 1 h): 184 KiB. */
int cm_hist_new(int64_t lowest_trackable, int64_t highest_trackable, int sig_digits,
                struct cm_hist **out);
void cm_hist_free(struct cm_hist *h);
/* Memory footprint in bytes (struct + counts). */
size_t cm_hist_footprint(const struct cm_hist *h);
/* Empties h (counts, min, max, clamped, start_ns, end_ns); keeps the layout. */
void cm_hist_reset(struct cm_hist *h);

/* Records one value (count 1) or n equal values (n <= 0: nothing).
 * Allocation-free, O(1). */
void cm_hist_record(struct cm_hist *h, int64_t value);
void cm_hist_record_n(struct cm_hist *h, int64_t value, int64_t n);
/* Coordinated-omission correction (as wrk2 / HdrHistogram
 * recordValueWithExpectedInterval): records value, then, if value exceeds
 * expected_interval, back-fills value - k*expected_interval for k = 1.. while
 * that stays >= expected_interval. expected_interval <= 0 disables it.
 * Allocation-free; the back-fill is counted per bucket, so the cost is
 * bounded by the number of buckets, not by value / expected_interval. */
void cm_hist_record_corrected(struct cm_hist *h, int64_t value, int64_t expected_interval);

/* Adds every count of src to dst (they may differ in range and precision).
 * Returns the number of counts of src that did not fit dst's range (those
 * are clamped into dst's top bucket and also counted in dst->clamped).
 * Each src bucket goes where its lowest value falls in dst. dst->clamped
 * also takes src's own clamped count when src's top bucket fits dst. */
int64_t cm_hist_add(struct cm_hist *dst, const struct cm_hist *src);

int64_t cm_hist_count(const struct cm_hist *h);
int64_t cm_hist_min(const struct cm_hist *h); /* 0 when empty */
int64_t cm_hist_max(const struct cm_hist *h); /* 0 when empty */
double cm_hist_mean(const struct cm_hist *h);
double cm_hist_stddev(const struct cm_hist *h);
/* Value at percentile p in [0, 100] (HdrHistogram semantics: the highest
 * value equivalent to the bucket holding the p-th percentile count, kept
 * within [min, max]; min for p <= 0, max for p >= 100). 0 when empty.
 * O(non-empty range of counts). */
int64_t cm_hist_percentile(const struct cm_hist *h, double p);
/* The same for n percentiles in one pass: ps ascending (else CM_EINVAL,
 * out untouched), out[i] = cm_hist_percentile(h, ps[i]). 0 or CM_EINVAL. */
int cm_hist_percentiles(const struct cm_hist *h, const double *ps, int64_t *out, size_t n);
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

/* Largest encoded histogram (binary) the decoders accept. */
#define CM_HIST_MAX_ENCODED_BYTES ((size_t)64 << 20)

/* Appends the V2 compressed encoding (binary) to out. 0 or CM_ETOOBIG
 * (out's maximum; out is then unchanged). Allocates scratch memory. */
int cm_hist_encode(const struct cm_hist *h, struct cm_buf *out);
/* Appends the V2 compressed encoding, base64-encoded, to out.
 * 0 or CM_ETOOBIG (out's maximum; out is then unchanged). */
int cm_hist_encode_base64(const struct cm_hist *h, struct cm_buf *out);
/* Decodes a V2 compressed histogram (or a plain V2 one) into a new
 * histogram with the encoded range and precision (free with cm_hist_free);
 * count, min and max come from the counts. CM_EPARSE on bad input with *why
 * (a static string; why may be NULL) naming the defect; CM_ETOOBIG above
 * CM_HIST_MAX_ENCODED_BYTES. Never reads past n; inflation is bounded by the
 * validated payload length. */
int cm_hist_decode(const void *p, size_t n, struct cm_hist **out, const char **why);
/* The same for base64 text (surrounding whitespace ignored, padding
 * optional). The input need not be NUL terminated. */
int cm_hist_decode_base64(const char *p, size_t n, struct cm_hist **out);
int cm_hist_decode_base64_why(const char *p, size_t n, struct cm_hist **out, const char **why);

/* HdrHistogram interval log ("#[StartTime: ...]", "#[BaseTime: ...]",
 * "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"",
 * then lines "Tag=NAME,start,length,max,BASE64"). max_unit_ratio divides
 * the max column (1e6 for ns recorded and milliseconds shown, as the tools do).
 * The header writes format version 1.3 and both StartTime and BaseTime as
 * start_wall_ns; a line's start_s is then relative to it. Both append whole
 * lines or nothing: 0, CM_ETOOBIG, or CM_EINVAL (log_line: a tag with a
 * comma, whitespace or control character, max_unit_ratio <= 0, non-finite
 * times). tag NULL or "" writes no Tag= field. */
int cm_hist_log_header(struct cm_buf *out, int64_t start_wall_ns);
int cm_hist_log_line(struct cm_buf *out, const char *tag, double start_s, double length_s,
                     const struct cm_hist *h, double max_unit_ratio);

/* One interval line of a log, as cm_hist_log_read_line parses it. */
struct cm_hist_log_entry {
    char tag[64];      /* "" when the line has no Tag= field */
    double start_s;    /* StartTimestamp column, s (relative to BaseTime if any) */
    double length_s;   /* Interval_Length column, s */
    double max;        /* Interval_Max column as written (max_unit_ratio units) */
    struct cm_hist *h; /* decoded histogram, owned by the caller: cm_hist_free */
};
/* Parses one line of an interval log (n bytes, no NUL needed, a trailing
 * "\n" or "\r\n" ignored). 1: an interval line, e filled; 0: a comment,
 * legend or blank line, e untouched; CM_EPARSE (CM_ETOOBIG for a tag over
 * 63 bytes) with *why naming the column or the histogram's defect (static
 * string; why may be NULL). */
int cm_hist_log_read_line(const char *p, size_t n, struct cm_hist_log_entry *e, const char **why);

#endif
