/* results.h: what a run leaves behind. summary.json (format_version 1),
 * report.md and the human summary at the end; histograms.hlog lines and
 * timeseries.jsonl lines per interval while it runs. Formats are described
 * in docs/loadgen.md. */
#ifndef LG_RESULTS_H
#define LG_RESULTS_H

#include <stdint.h>
#include <stdio.h>

#include "worker.h"

struct cm_buf;
struct lg_scenario;
struct lg_stats;

#define LG_SUMMARY_FORMAT_VERSION 1

struct lg_thresh_result {
    double value; /* us for durations */
    int has_samples;
    int pass;
};

struct lg_run_result {
    const struct lg_scenario *sc;
    const char *target; /* base URL */
    const char *out_dir;
    int64_t start_wall_ns, end_wall_ns;
    double recorded_s;        /* measured (non-warm-up) time */
    double planned_s;         /* schedule length without warm-up */
    double expected_requests; /* open model: planned arrivals (recorded phases) */
    int workers;
    const struct lg_stats *total;
    struct lg_thresh_result *tr; /* sc->n_th */
    int pass, valid, complete, interrupted;
    const char *aborted_by; /* threshold text, or NULL */
    char invalid_why[512];
    int64_t cancelled;
    const struct lg_err_sample *errs;
    size_t n_errs;
    int sampled; /* requests.jsonl was written */
    int64_t sampled_written, sampled_lost;
};

/* Writes summary.json and report.md into r->out_dir. 0 or CM_EIO. */
int lg_results_write(const struct lg_run_result *r);
/* The human summary (k6-like: thresholds with marks, metrics grouped). */
void lg_results_print(const struct lg_run_result *r, FILE *out, int color);
/* One hlog line per non-empty histogram of the interval. */
int lg_results_hlog(struct cm_buf *out, const struct lg_stats *iv, const struct lg_scenario *sc,
                    double start_s, double len_s);
/* One timeseries.jsonl line for the interval (no trailing newline added). */
int lg_results_timeseries(struct cm_buf *out, const struct lg_stats *iv, double t_s, double len_s,
                          const char *phase, double target_rate, int inflight, int queued);

#endif
