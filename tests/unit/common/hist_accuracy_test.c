/* Accuracy of cm_hist against exact order statistics: for random and
 * adversarial distributions at 1..5 significant digits, every percentile on
 * a fine grid, min, max and mean are within the configured error of the
 * exact value computed from the sorted samples (hist.h's bound:
 * |reported - true| < max(true * 10^-S, 2^unit_magnitude)). */
#include "harness.h"

#include "cm/hist.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SAMPLES 20000

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double unit_rand(void) /* (0, 1] */
{
    return ((double)(rng() >> 11) + 1.0) / 9007199254740992.0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

enum dist {
    D_UNIFORM,
    D_EXPONENTIAL,
    D_BIMODAL,
    D_ALL_EQUAL,
    D_POW2,
    D_BOUNDARIES,
    D_MAX_TRACKABLE,
    D_LOGUNIFORM,
    D_COUNT
};
static const char *const dist_names[D_COUNT] = {
    "uniform",       "exponential",       "bimodal",       "all-equal",
    "powers-of-two", "bucket-boundaries", "max-trackable", "log-uniform"};

static int64_t clamp_to(int64_t v, int64_t hi)
{
    return v < 0 ? 0 : v > hi ? hi : v;
}

/* Values just below, at and just above each bucket boundary of h. */
static int fill_boundaries(const struct cm_hist *h, int64_t *v, int cap)
{
    int n = 0;
    int64_t edge = (int64_t)h->sub_bucket_count << h->unit_magnitude;
    while (n + 6 <= cap && edge > 0 && edge <= h->highest_trackable) {
        int64_t lo = cm_hist_lowest_equivalent(h, edge - 1);
        v[n++] = edge - 1;
        v[n++] = edge;
        v[n++] = edge + 1;
        v[n++] = lo;
        v[n++] = lo - 1;
        v[n++] = cm_hist_highest_equivalent(h, edge + (edge >> 1));
        if (edge > INT64_MAX / 2)
            break;
        edge *= 2;
    }
    return n;
}

static int fill(enum dist d, const struct cm_hist *h, int64_t *v, int cap)
{
    int64_t top = h->highest_trackable;
    int n = cap;
    switch (d) {
    case D_UNIFORM:
        for (int i = 0; i < n; i++)
            v[i] = (int64_t)(rng() % (uint64_t)(top < 10000000 ? top : 10000000));
        break;
    case D_EXPONENTIAL:
        for (int i = 0; i < n; i++)
            v[i] = (int64_t)(-log(unit_rand()) * 200000.0);
        break;
    case D_BIMODAL: /* 95% around 1 ms, 5% around 1 s, in ns */
        for (int i = 0; i < n; i++)
            v[i] = (i % 20 ? 1000000 : 1000000000) + (int64_t)(rng() % 100000);
        break;
    case D_ALL_EQUAL:
        for (int i = 0; i < n; i++)
            v[i] = 987654321;
        break;
    case D_POW2:
        n = 0;
        for (int k = 0; k < 63 && n < cap; k++)
            for (int rep = 0; rep < 3 && n < cap; rep++)
                v[n++] = (int64_t)1 << k;
        break;
    case D_BOUNDARIES:
        n = fill_boundaries(h, v, cap);
        break;
    case D_MAX_TRACKABLE:
        for (int i = 0; i < n; i++)
            v[i] = i % 2 ? top : top - (int64_t)(rng() % 1000);
        break;
    case D_LOGUNIFORM: /* 1 .. 2^45, every magnitude equally */
        for (int i = 0; i < n; i++)
            v[i] = (int64_t)exp2(unit_rand() * 45.0);
        break;
    default:
        n = 0;
    }
    for (int i = 0; i < n; i++)
        v[i] = clamp_to(v[i], top);
    return n;
}

/* The error hist.h promises for true value v. */
static int64_t allowed(const struct cm_hist *h, int64_t v, int digits)
{
    int64_t rel = v;
    for (int i = 0; i < digits; i++)
        rel /= 10;
    int64_t unit = ((int64_t)1 << h->unit_magnitude) - 1;
    return rel > unit ? rel : unit;
}

/* Same rank rule as the histogram (and HdrHistogram): ceil(p/100 * n),
 * at least 1. The tiny epsilon absorbs 0.1 * 20000 = 2000.0000000000002. */
static int64_t rank_for(double p, int n)
{
    double r = ceil(p / 100.0 * n - 1e-7);
    if (r < 1)
        r = 1;
    if (r > n)
        r = n;
    return (int64_t)r;
}

static void check_one(enum dist d, int64_t lo, int64_t hi, int digits, int64_t *v, int64_t *s)
{
    struct cm_hist *h = NULL;
    if (cm_hist_new(lo, hi, digits, &h)) {
        CHECK_MSG(0, "cm_hist_new(%lld, %lld, %d)", (long long)lo, (long long)hi, digits);
        return;
    }
    int n = fill(d, h, v, MAX_SAMPLES);
    for (int i = 0; i < n; i++)
        cm_hist_record(h, v[i]);
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_i64);
    int bad = 0;
    CHECK_INT(cm_hist_count(h), n);
    CHECK_INT(cm_hist_min(h), s[0]);
    CHECK_INT(cm_hist_max(h), s[n - 1]);
    /* 0..100 in steps of 0.25, then the tail nines, in one pass; every
     * 16th also through the single-percentile call. */
    static const double tail[] = {99.9, 99.95, 99.99, 99.995, 99.999, 99.9999, 100};
    enum { GRID = 400, NP = GRID + 7 };
    double ps[NP];
    int64_t got[NP];
    for (int i = 0; i < NP; i++)
        ps[i] = i < GRID ? i * 0.25 : tail[i - GRID];
    CHECK_INT(cm_hist_percentiles(h, ps, got, NP), 0);
    for (int i = 0; i < NP && !bad; i++) {
        int64_t exact = s[rank_for(ps[i], n) - 1];
        int64_t err = got[i] > exact ? got[i] - exact : exact - got[i];
        if (i % 100 == 0 && cm_hist_percentile(h, ps[i]) != got[i]) {
            bad = 1;
            CHECK_MSG(0, "%s p%g: single %lld != batch %lld", dist_names[d], ps[i],
                      (long long)cm_hist_percentile(h, ps[i]), (long long)got[i]);
        }
        if (err > allowed(h, exact, digits)) {
            bad = 1;
            CHECK_MSG(0, "%s lo=%lld S=%d p%g: got %lld, exact %lld", dist_names[d], (long long)lo,
                      digits, ps[i], (long long)got[i], (long long)exact);
        }
    }
    if (!bad)
        th_passed++;
    long double sum = 0, sumsq = 0;
    for (int i = 0; i < n; i++) {
        sum += s[i];
        sumsq += (long double)s[i] * s[i];
    }
    double mean = (double)(sum / n);
    double rms = sqrt((double)(sumsq / n));
    double unit = (double)((int64_t)1 << h->unit_magnitude);
    double tol = mean * pow(10, -digits) + unit + 1e-9 * mean;
    CHECK_MSG(fabs(cm_hist_mean(h) - mean) <= tol, "%s S=%d mean %.3f vs %.3f", dist_names[d],
              digits, cm_hist_mean(h), mean);
    double var = (double)(sumsq / n) - mean * mean;
    double sd = sqrt(var > 0 ? var : 0);
    double sd_tol = rms * pow(10, -digits) + unit + 1e-6 * rms;
    CHECK_MSG(fabs(cm_hist_stddev(h) - sd) <= sd_tol, "%s S=%d stddev %.3f vs %.3f", dist_names[d],
              digits, cm_hist_stddev(h), sd);
    cm_hist_free(h);
}

int main(void)
{
    int64_t *v = malloc(MAX_SAMPLES * sizeof *v);
    int64_t *s = malloc(MAX_SAMPLES * sizeof *s);
    if (!v || !s)
        return 2;
    static const struct {
        int64_t lo, hi;
    } ranges[] = {
        {1, 3600LL * 1000000000},   /* 1 ns .. 1 h */
        {1, INT64_MAX},             /* everything */
        {1000, 3600LL * 1000000000} /* us resolution on ns values */
    };
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++)
        for (int digits = 1; digits <= 5; digits++)
            for (int d = 0; d < D_COUNT; d++)
                check_one((enum dist)d, ranges[r].lo, ranges[r].hi, digits, v, s);
    free(v);
    free(s);
    return TEST_REPORT();
}
