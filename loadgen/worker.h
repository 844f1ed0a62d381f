/* worker.h: one load-generating thread: its own epoll loop driving a
 * libcurl multi handle (socket API), its own schedule share, easy-handle
 * pool, histograms and counters. The only state shared while it runs is the
 * stop flag and, once per interval, a short mutex-protected handoff of the
 * interval's stats to the coordinator (never per request). */
#ifndef LG_WORKER_H
#define LG_WORKER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct lg_scenario;
struct lg_stats;

struct lg_worker_cfg {
    const struct lg_scenario *sc;
    const char *base_url; /* no trailing '/' */
    int nworkers;
    int64_t t0_mono_ns;  /* run start: schedule time 0 */
    int64_t t0_wall_ns;  /* the same instant on the wall clock */
    int64_t interval_ns; /* publish period (1 s) */
    atomic_int *stop;    /* set by the coordinator; read relaxed in the loop */
    uint64_t seed;
};

/* One failed request, kept with its correlation ID (first few per worker). */
struct lg_err_sample {
    char corr_id[40];
    int ep;
    int status;          /* HTTP status, 0 for transport errors */
    int64_t intended_ms; /* from the run start */
    int64_t latency_us;
    char what[96]; /* curl error text or "unexpected status" */
};

#define LG_ERR_SAMPLES 16

/* One sampled request (sample_requests), handed over with the interval. */
struct lg_req_rec {
    char corr_id[40];
    int64_t intended_ns; /* from the run start */
    int64_t latency_us;  /* corrected */
    int64_t uncorrected_us;
    int32_t ep;
    int32_t status; /* 0: transport error */
    int32_t err;    /* 0 ok, else enum lg_ctr of the error kind */
};

#define LG_REC_MAX 32768 /* sampled records per worker per interval; beyond: counted */

struct lg_worker;

/* Starts the thread. CM_EIO when epoll/curl/pthread setup fails. */
int lg_worker_start(const struct lg_worker_cfg *cfg, int id, struct lg_worker **out);
/* Adds what the worker published since the last call into dst and resets
 * it. Thread-safe (the short per-interval mutex). */
void lg_worker_collect(struct lg_worker *w, struct lg_stats *dst);
/* 1 once the thread has finished (schedule over and drained, or stopped). */
int lg_worker_finished(const struct lg_worker *w);
int lg_worker_inflight(const struct lg_worker *w);
/* Interval boundaries the worker has published (k once interval k is out). */
int64_t lg_worker_published(const struct lg_worker *w);
int lg_worker_queued(const struct lg_worker *w);
/* Moves the sampled request records published so far into out (up to cap,
 * returns how many); *lost gets the records that did not fit anywhere. */
size_t lg_worker_take_records(struct lg_worker *w, struct lg_req_rec *out, size_t cap,
                              int64_t *lost);
/* Joins the thread, then publishes what is left. */
void lg_worker_join(struct lg_worker *w);
/* After join: error samples, and requests cancelled in flight by a stop. */
size_t lg_worker_errors(const struct lg_worker *w, const struct lg_err_sample **out);
int64_t lg_worker_cancelled(const struct lg_worker *w);
void lg_worker_free(struct lg_worker *w);

#endif
