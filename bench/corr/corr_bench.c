/* corr_bench: ns per operation for UUIDv7 ids and trace headers, single
 * thread and with several threads at once, against a baseline that asks the
 * kernel for 16 random bytes per id (what a generator without a per-thread
 * PRNG would do). Usage: corr_bench [iterations] [threads]. */
#include "cm/clock.h"
#include "cm/corr.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* Per-thread sink: a shared one would bounce its cache line between the
 * threads and measure that instead. */
static _Thread_local volatile uint8_t g_sink;

typedef void (*bench_fn)(long n);

static void run_uuid7(long n)
{
    uint8_t id[16];
    int64_t ms = cm_clock_wall_ns() / CM_NS_PER_MS;
    for (long i = 0; i < n; i++) {
        cm_corr_uuid7(ms, id);
        g_sink ^= id[15];
    }
}

static void run_new_id_clock(long n)
{
    char id[CM_CORR_ID_LEN + 1];
    for (long i = 0; i < n; i++) {
        cm_corr_new_id(cm_clock_wall_ns() / CM_NS_PER_MS, id);
        g_sink ^= (uint8_t)id[35];
    }
}

static void run_getrandom_baseline(long n)
{
    uint8_t id[16];
    for (long i = 0; i < n; i++) {
        if (getrandom(id, sizeof id, 0) != (ssize_t)sizeof id)
            abort();
        g_sink ^= id[15];
    }
}

static void run_traceparent(long n)
{
    struct cm_trace t, back;
    char tp[CM_TRACEPARENT_LEN + 1];
    cm_trace_new(cm_clock_wall_ns() / CM_NS_PER_MS, &t);
    for (long i = 0; i < n; i++) {
        cm_trace_child(&t, &t);
        cm_trace_format_traceparent(&t, tp);
        if (cm_trace_parse_traceparent(tp, CM_TRACEPARENT_LEN, &back) != 0)
            abort();
        g_sink ^= back.parent_id[7];
    }
}

static void run_xray(long n)
{
    struct cm_trace t, back;
    char xr[CM_XRAY_HEADER_MAX];
    cm_trace_new(cm_clock_wall_ns() / CM_NS_PER_MS, &t);
    for (long i = 0; i < n; i++) {
        cm_trace_child(&t, &t);
        cm_trace_format_xray(&t, xr);
        if (cm_trace_parse_xray(xr, strlen(xr), &back) != 0)
            abort();
        g_sink ^= back.parent_id[7];
    }
}

struct job {
    bench_fn fn;
    long n;
};

static void *job_main(void *p)
{
    struct job *j = p;
    j->fn(j->n);
    return NULL;
}

/* Wall time for `threads` threads each doing n operations, in ns per
 * operation per thread. */
static double time_it(bench_fn fn, long n, int threads)
{
    pthread_t th[64];
    struct job j = {fn, n};
    fn(n / 10 + 1); /* warm up: seed the generator, fault in the code */
    int64_t t0 = cm_clock_mono_ns();
    for (int i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, job_main, &j);
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    return (double)(cm_clock_mono_ns() - t0) / (double)n;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 2000000;
    int threads = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 2;
    if (n <= 0 || threads < 1 || threads > 64) {
        fprintf(stderr, "usage: corr_bench [iterations > 0] [threads 1..64]\n");
        return 2;
    }
    static const struct {
        const char *name;
        bench_fn fn;
    } benches[] = {
        {"cm_corr_uuid7 (fixed ms)", run_uuid7},
        {"cm_corr_new_id (+ clock, text)", run_new_id_clock},
        {"getrandom(16) baseline", run_getrandom_baseline},
        {"trace child+format+parse traceparent", run_traceparent},
        {"trace child+format+parse x-ray", run_xray},
    };
    printf("| operation | ns/op, 1 thread | ns/op per thread, %d threads |\n", threads);
    printf("|---|---:|---:|\n");
    for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++) {
        long k = benches[i].fn == run_getrandom_baseline ? n / 10 : n;
        double one = time_it(benches[i].fn, k, 1);
        double many = time_it(benches[i].fn, k, threads);
        printf("| %s | %.1f | %.1f |\n", benches[i].name, one, many);
    }
    return 0;
}
