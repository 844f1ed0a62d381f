/* hist_bench: ns per cm_hist_record (the hot path of every loadgen worker)
 * and the per-interval costs around it: merging, percentiles, V2 encoding
 * and decoding. Each case runs REPS times; the table shows the best and the
 * median, since a shared machine only ever adds time. Times are this
 * thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so time spent descheduled on
 * a busy machine is not counted; the wall-clock median is shown beside it.
 * Usage: hist_bench [records_per_rep] [reps]. */
#include "cm/buf.h"
#include "cm/clock.h"
#include "cm/hist.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NVALUES  16384 /* 128 KiB of inputs: stays in L2 next to the counts */
#define MAX_REPS 32

static int64_t values[NVALUES];
static volatile int64_t g_sink;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static uint64_t rng_state = 7;

static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Latencies in ns, log-normal around 2 ms with a long tail (100 us .. 10 s):
 * spread over ~17 buckets, like a real run, not one hot counter. */
static void make_values(void)
{
    for (int i = 0; i < NVALUES; i++) {
        double u1 = ((double)(rng() >> 11) + 1) / 9007199254740992.0;
        double u2 = ((double)(rng() >> 11) + 1) / 9007199254740992.0;
        double z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
        double v = exp(log(2e6) + 1.2 * z);
        values[i] = (int64_t)(v < 1e5 ? 1e5 : v > 1e10 ? 1e10 : v);
    }
}

static struct cm_hist *new_hist(void)
{
    struct cm_hist *h = NULL;
    if (cm_hist_new(1, 3600LL * CM_NS_PER_S, 3, &h))
        abort();
    return h;
}

typedef void (*bench_fn)(struct cm_hist *h, long n);

static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * CM_NS_PER_S + ts.tv_nsec;
}

/* Per-rep timing: CPU and wall time of one rep, divided by its op count. */
struct stopwatch {
    int64_t cpu0, wall0;
};

static void sw_start(struct stopwatch *sw)
{
    sw->wall0 = cm_clock_mono_ns();
    sw->cpu0 = cpu_ns();
}

static void sw_stop(struct stopwatch *sw, double ops, double scale, double *cpu, double *wall)
{
    *cpu = (double)(cpu_ns() - sw->cpu0) / ops / scale;
    *wall = (double)(cm_clock_mono_ns() - sw->wall0) / ops / scale;
}

static void run_loop_baseline(struct cm_hist *h, long n)
{
    int64_t s = 0;
    for (long i = 0; i < n; i++)
        s += values[i & (NVALUES - 1)];
    g_sink = s + h->total_count;
}

static void run_record(struct cm_hist *h, long n)
{
    for (long i = 0; i < n; i++)
        cm_hist_record(h, values[i & (NVALUES - 1)]);
}

static void run_record_same(struct cm_hist *h, long n)
{
    for (long i = 0; i < n; i++)
        cm_hist_record(h, 1234567);
}

/* The loadgen call: corrected with a 10 ms schedule interval, which the
 * 2 ms-median values exceed only in the tail. */
static void run_record_corrected(struct cm_hist *h, long n)
{
    for (long i = 0; i < n; i++)
        cm_hist_record_corrected(h, values[i & (NVALUES - 1)], 10 * CM_NS_PER_MS);
}

static void report(const char *name, const char *unit, double *cpu, double *wall, int reps)
{
    qsort(cpu, (size_t)reps, sizeof *cpu, cmp_double);
    qsort(wall, (size_t)reps, sizeof *wall, cmp_double);
    printf("%-46s %9.2f %9.2f %9.2f  %s\n", name, cpu[0], cpu[reps / 2], wall[reps / 2], unit);
}

static void bench_hot(const char *name, bench_fn fn, long n, int reps)
{
    double cpu[MAX_REPS], wall[MAX_REPS];
    struct stopwatch sw;
    struct cm_hist *h = new_hist();
    fn(h, n / 10); /* warm the counts and the inputs */
    for (int r = 0; r < reps; r++) {
        cm_hist_reset(h);
        sw_start(&sw);
        fn(h, n);
        sw_stop(&sw, (double)n, 1.0, &cpu[r], &wall[r]);
    }
    g_sink = cm_hist_count(h);
    cm_hist_free(h);
    report(name, "ns/op", cpu, wall, reps);
}

/* A one-second interval's worth of 100k requests from one worker. */
static struct cm_hist *interval_hist(void)
{
    struct cm_hist *h = new_hist();
    for (int i = 0; i < 100000; i++)
        cm_hist_record(h, values[(i * 7) & (NVALUES - 1)] + (int64_t)(rng() % 1000));
    return h;
}

static void bench_interval_ops(int reps)
{
    struct cm_hist *src = interval_hist(), *dst = new_hist();
    double cpu[MAX_REPS], wall[MAX_REPS];
    struct stopwatch sw;
    const int k = 200;
    static const double ps[] = {50, 90, 99, 99.9, 99.99, 100};
    int64_t out[6];
    for (int r = 0; r < reps; r++) {
        sw_start(&sw);
        for (int i = 0; i < k; i++)
            cm_hist_add(dst, src);
        sw_stop(&sw, k, 1000.0, &cpu[r], &wall[r]);
    }
    report("cm_hist_add (100k values, 1 ns..1 h, 3 digits)", "us/op", cpu, wall, reps);
    for (int r = 0; r < reps; r++) {
        sw_start(&sw);
        for (int i = 0; i < k; i++) {
            cm_hist_percentiles(src, ps, out, 6);
            g_sink = out[5];
        }
        sw_stop(&sw, k, 1000.0, &cpu[r], &wall[r]);
    }
    report("cm_hist_percentiles (6 at once)", "us/op", cpu, wall, reps);
    struct cm_buf b;
    cm_buf_init(&b, 0);
    for (int r = 0; r < reps; r++) {
        sw_start(&sw);
        for (int i = 0; i < k / 10; i++) {
            cm_buf_reset(&b);
            if (cm_hist_encode_base64(src, &b))
                abort();
        }
        sw_stop(&sw, k / 10, 1000.0, &cpu[r], &wall[r]);
    }
    report("cm_hist_encode_base64", "us/op", cpu, wall, reps);
    printf("  (encoded size: %zu base64 characters)\n", b.len);
    for (int r = 0; r < reps; r++) {
        sw_start(&sw);
        for (int i = 0; i < k / 10; i++) {
            struct cm_hist *d = NULL;
            if (cm_hist_decode_base64(b.data, b.len, &d))
                abort();
            g_sink = cm_hist_count(d);
            cm_hist_free(d);
        }
        sw_stop(&sw, k / 10, 1000.0, &cpu[r], &wall[r]);
    }
    report("cm_hist_decode_base64", "us/op", cpu, wall, reps);
    cm_buf_deinit(&b);
    cm_hist_free(src);
    cm_hist_free(dst);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 20000000;
    int reps = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 7;
    if (n < 1000 || reps < 1 || reps > MAX_REPS) {
        fprintf(stderr, "usage: hist_bench [records_per_rep >= 1000] [reps 1..%d]\n", MAX_REPS);
        return 2;
    }
    make_values();
    printf("%-46s %9s %9s %9s\n", "operation", "cpu best", "cpu med", "wall med");
    bench_hot("loop + load only (baseline)", run_loop_baseline, n, reps);
    bench_hot("cm_hist_record (log-normal latencies)", run_record, n, reps);
    bench_hot("cm_hist_record (one value)", run_record_same, n, reps);
    bench_hot("cm_hist_record_corrected (10 ms interval)", run_record_corrected, n, reps);
    bench_interval_ops(reps);
    return 0;
}
