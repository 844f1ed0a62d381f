/* thresh.h: threshold expressions on run metrics, parsed once at load:
 *   METRIC OP VALUE      e.g. "http.latency.p99 < 300ms", "http.errors.rate < 0.1%",
 *                        "http.rps > 900", "http{name:create}.latency.p999 < 1s"
 * METRIC = family ["{" tag ":" value ("," tag ":" value)* "}"] "." name ["." agg]
 *   family http: histograms latency (corrected), latency_uncorrected, connect,
 *   ttfb with aggregations pNN (p99 = 99, p999 = 99.9), p(99.5), mean, min,
 *   max, med; counters (requests, errors, timeouts, connect_errors,
 *   status_5xx, ...) with count, rate (fraction of completed requests;
 *   requests.rate is per second) or per_s; rps (completed per second).
 *   Tags: name (an endpoint), status (1xx..5xx, histograms only).
 *   family generator: lag and queue_wait histograms.
 * OP is < <= > >= ==. A metric with no samples fails. */
#ifndef LG_THRESH_H
#define LG_THRESH_H

#include <stddef.h>

struct lg_stats;

enum lg_tagg {
    LG_AGG_PCT = 0,
    LG_AGG_MEAN,
    LG_AGG_MIN,
    LG_AGG_MAX,
    LG_AGG_COUNT,
    LG_AGG_RATE,
    LG_AGG_PER_S,
};

enum lg_top { LG_OP_LT = 0, LG_OP_LE, LG_OP_GT, LG_OP_GE, LG_OP_EQ };

enum lg_tkind { LG_TK_HIST = 0, LG_TK_CTR, LG_TK_RPS, LG_TK_LAG, LG_TK_QWAIT };

struct lg_thresh_expr {
    char ep_name[64]; /* "" = all endpoints */
    int ep;           /* endpoint index, -1 = all (set by lg_thresh_resolve) */
    int status_class; /* 0 = none, 1..5 */
    enum lg_tkind kind;
    int metric; /* enum lg_hist_kind or enum lg_ctr */
    enum lg_tagg agg;
    double pct; /* LG_AGG_PCT */
    enum lg_top op;
    double value; /* us for durations, fraction for rates, else plain */
    char metric_text[128];
};

/* Parses n bytes. CM_EPARSE with *why (static) and *at (byte offset). */
int lg_thresh_parse(const char *p, size_t n, struct lg_thresh_expr *e, const char **why,
                    size_t *at);
/* Resolves the endpoint tag against names; CM_ENOTFOUND if unknown. */
int lg_thresh_resolve(struct lg_thresh_expr *e, const char *const *names, size_t n);
/* Evaluates against merged stats over elapsed_s seconds of recording.
 * Returns 1 pass, 0 fail; *value gets the observed value (us for durations),
 * *has_samples 0 when the metric had none (then it fails). */
int lg_thresh_eval(const struct lg_thresh_expr *e, const struct lg_stats *s, double elapsed_s,
                   double *value, int *has_samples);
const char *lg_thresh_op_text(enum lg_top op);

#endif
