/* hist_int.h: the counts-array layout of struct cm_hist, shared by hist.c
 * (recording, statistics) and hist_codec.c (V2 encoding, interval logs).
 * Private to libcm. */
#ifndef CM_HIST_INT_H
#define CM_HIST_INT_H

#include "cm/hist.h"

#include <stdint.h>

/* Upper bound on counts_len. The largest legal layout (lowest 1, highest
 * INT64_MAX, 5 digits) needs 47 * 2^17 = 6,160,384 counters, so this only
 * rejects corrupt headers, never a histogram cm_hist_new accepts. */
#define CM_HIST_MAX_COUNTS ((int32_t)1 << 23)

/* Bucket index of v >= 0: how many powers of two v lies above the range of
 * bucket 0 ([0, sub_bucket_count << unit_magnitude)). OR-ing the mask maps
 * every value of bucket 0 to the same leading-bit position. */
static inline int32_t cm_hist_bucket_of(const struct cm_hist *h, int64_t v)
{
    int top_bit = 63 - __builtin_clzll((uint64_t)v | (uint64_t)h->sub_bucket_mask);
    return top_bit - h->unit_magnitude - h->sub_bucket_half_count_magnitude;
}

/* counts[] index of v >= 0. Bucket 0 owns indexes [0, sub_bucket_count);
 * bucket k > 0 only its top half of sub-buckets (the bottom half is covered,
 * more finely, by bucket k-1), at [(k+1)*half, (k+2)*half). */
static inline int32_t cm_hist_index_of(const struct cm_hist *h, int64_t v)
{
    int32_t b = cm_hist_bucket_of(h, v);
    int64_t sub = v >> (b + h->unit_magnitude);
    return (int32_t)(((int64_t)(b + 1) << h->sub_bucket_half_count_magnitude) +
                     (sub - h->sub_bucket_half_count));
}

/* Lowest value counted at counts[] index i (inverse of cm_hist_index_of). */
static inline int64_t cm_hist_value_at(const struct cm_hist *h, int32_t i)
{
    int32_t b = (i >> h->sub_bucket_half_count_magnitude) - 1;
    int64_t sub = (i & (h->sub_bucket_half_count - 1)) + h->sub_bucket_half_count;
    if (b < 0) {
        sub -= h->sub_bucket_half_count;
        b = 0;
    }
    return sub << (b + h->unit_magnitude);
}

/* Fills the layout fields of h (not counts, not the recorded state) for the
 * given bounds. 0 or CM_EINVAL. */
int cm_hist_layout(struct cm_hist *h, int64_t lowest_trackable, int64_t highest_trackable,
                   int sig_digits);

/* Recomputes total_count, min_value and max_value from counts[] (after
 * decoding); min/max become bucket bounds since exact values are unknown.
 * CM_ERANGE if the total overflows int64. */
int cm_hist_settle(struct cm_hist *h);

#endif
