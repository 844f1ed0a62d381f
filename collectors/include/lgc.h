/* lgc.h: loadgen's collectors: sample the system under test from the inside
 * during a run, through the AWS APIs only (SQS GetQueueAttributes,
 * CloudWatch GetMetricData, CloudWatch Logs FilterLogEvents), so the same
 * code works against stackd and against AWS. Endpoints, region and
 * credentials come from the environment through cm_aws (AWS_ENDPOINT_URL,
 * AWS_ENDPOINT_URL_<SERVICE>, AWS_REGION, ...).
 *
 * Two parts:
 *  - the sampler (struct lgc): one thread that polls on its own timer while
 *    the load runs, keeps bounded timeseries rows and running maxima, and
 *    answers summary and threshold lookups;
 *  - the join (struct lgc_join): after the run, fetches the functions' log
 *    lines for the run window and builds one record per correlation ID
 *    (function, requestId, init, handler duration, queue wait), then breaks
 *    client latencies down (gateway overhead, init, handler, queue wait).
 *
 * Not a metrics store and not an SDK: numbers keep AWS's names and
 * resolutions (on AWS, CloudWatch metrics are per minute and arrive minutes
 * late; see docs/collectors.md). */
#ifndef LGC_H
#define LGC_H

#include "cm/err.h"
#include "cm/opt.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* lgc_metric's code for a known metric without samples yet (distinct from
 * CM_ENOTFOUND, which means the name is not a metric of this collector). */
#define LGC_ENODATA CM_EAGAIN

#define LGC_MAX_QUEUES    64     /* per config */
#define LGC_MAX_FUNCTIONS 64     /* per config */
#define LGC_MAX_ROWS      7200   /* timeseries rows kept until drained (oldest dropped) */
#define LGC_MAX_COLD      100000 /* cold starts remembered (dedup and init_ms) */

struct lgc_queue_target {
    const char *name;     /* queue name or queue URL (http...); required */
    const char *dlq_name; /* its DLQ name or URL; NULL: none */
};

struct lgc_config {
    const struct lgc_queue_target *queues; /* borrowed during lgc_new only (copied) */
    size_t n_queues;
    const char *const *functions; /* Lambda function names (copied) */
    size_t n_functions;
    int64_t interval_ns;     /* sampling interval; 0: 1 s */
    int64_t call_timeout_ms; /* per AWS call; 0: min(interval, 5 s), at least 500 ms */
    int metrics_period_s;    /* GetMetricData period for the "now" queries: 0: 60 */
    const char *region;      /* NULL: cm_aws_region_load(); "us-east-1" when that fails */
    int no_cloudwatch;       /* 1: skip GetMetricData (functions.* stay without data) */
    int no_logs;             /* 1: skip FilterLogEvents (cold starts stay without data) */
};

struct lgc;

/* Validates and copies cfg and creates the AWS clients (credentials,
 * region, endpoints). 0; CM_EINVAL (too many targets, empty name: err says
 * which); an error of cm_aws_client_new (err has its reason). err may be
 * NULL. Free with lgc_free. */
int lgc_new(const struct lgc_config *cfg, struct lgc **out, char *err, size_t err_size);
/* Stops the thread if running and frees everything. NULL ok. */
void lgc_free(struct lgc *l);

/* Starts the sampling thread: the run window opens at run_start_ms (epoch
 * ms: CloudWatch and Logs queries start there). Each tick calls the APIs
 * (each call bounded by call_timeout_ms, at most 2 attempts), so a slow
 * endpoint delays samples, never the caller. 0, CM_ESTATE (already
 * started), CM_EIO (thread creation). */
int lgc_start(struct lgc *l, int64_t run_start_ms);
/* Stops the thread: the tick in progress ends after its current AWS call
 * (bounded by call_timeout_ms x 2 attempts), then one last sample of every
 * source is taken from the caller's thread (cold starts over the whole run)
 * so the summary covers up to the stop. 0 or CM_ESTATE (not running). */
int lgc_stop(struct lgc *l);

/* Takes one sample of every source at once from the caller's thread; only
 * while the thread is not running (CM_ESTATE otherwise). 0 or the first
 * source error (the others still ran). */
int lgc_sample_once(struct lgc *l, int64_t now_ms);

/* Moves the timeseries rows collected so far into a new cJSON array (free
 * with cJSON_Delete), oldest first. Each row:
 *   {"t_ms":..., "queues":{"<q>":{"visible":n,"in_flight":n,"delayed":n,"age_s":x}},
 *    "dlq":{"<d>":{"depth":n}},
 *    "functions":{"<fn>":{"concurrency":n,"invocations":n,"errors":n,"throttles":n,
 *                         "cold_starts":n}}}
 * A value the source could not get at that tick is absent. Thread-safe
 * against the sampler. */
cJSON *lgc_drain_rows(struct lgc *l);
/* Rows dropped because LGC_MAX_ROWS were waiting undrained. */
uint64_t lgc_rows_dropped(const struct lgc *l);

/* The summary as a new cJSON object (free with cJSON_Delete):
 *   queues.<q>.{max_depth,max_in_flight,max_delayed,max_age_s,age_source,last_depth,samples}
 *   dlq.<d>.{max_depth,last_depth}
 *   functions.<fn>.{invocations,errors,throttles,max_concurrency}
 *   cold_starts.{count,rate}, cold_starts.<fn>.{count,rate,init_ms{p50,p90,p99,max,mean}}
 *   collector.{samples,errors,last_error}
 * Thread-safe against the sampler. */
cJSON *lgc_summary(struct lgc *l);

/* Threshold lookup by name: queues.<q>.max_depth|max_in_flight|max_delayed|
 * max_age|last_depth|drain_s, dlq.<d>.max_depth|last_depth,
 * functions.<fn>.invocations|errors|throttles|max_concurrency,
 * functions.invocations|errors|throttles (all functions),
 * cold_starts.count|rate, cold_starts.<fn>.count|rate|init_ms.p50|p90|p99|max.
 * 0 with *out; CM_ENOTFOUND (not a metric of this config); LGC_ENODATA
 * (known, no sample yet); CM_EINVAL (NULL arguments). Thread-safe. */
int lgc_metric(const struct lgc *l, const char *name, double *out);

/* After the load: polls every queue (not the DLQs) every poll_ms (0: the
 * interval) until visible + in flight + delayed == 0 for all of them, at
 * most timeout_ns. 0 with *drain_ns (may be NULL; time from the call to the first
 * all-empty poll; also stored as queues.<q>.drain_s for each queue);
 * CM_ETIMEDOUT; CM_ESTATE while the sampler thread runs (stop it first);
 * an AWS error when no poll at all succeeded. */
int lgc_wait_drained(struct lgc *l, int64_t timeout_ns, int64_t poll_ms, int64_t *drain_ns);

/* Error counters: AWS calls that failed, and the last error text. */
uint64_t lgc_errors(const struct lgc *l);

/* ------------------------------------------------------------------ scenario section */

/* The scenario's `collectors:` section:
 *   collectors:
 *     interval: 1s          # 0s (default): loadgen picks 1s locally, 60s on AWS
 *     call_timeout: 5s      # per AWS call; 0s: min(interval, 5s)
 *     drain_timeout: 60s    # lgc_wait_drained after the load; 0s: no wait
 *     cloudwatch: true      # GetMetricData (functions.*, AWS/SQS age)
 *     logs: true            # cold starts from REPORT lines
 *     join: true            # post-run log join by correlation ID
 *     queues: [order-events, {name: orders, dlq: orders-dlq}]
 *     functions: [create-order, process-orders]
 * lgc_opts is the option table (for --help and the key reference). */
struct lgc_settings {
    int64_t interval_ns;
    int64_t call_timeout_ns;
    int64_t drain_timeout_ns;
    int cloudwatch, logs, join;
    const struct cm_ynode *queues_node, *functions_node; /* raw, parsed below */
    struct lgc_queue_target *queues;                     /* owned */
    size_t n_queues;
    char **functions; /* owned */
    size_t n_functions;
    struct cm_opt_err err_store; /* private */
};
extern const struct cm_opt lgc_opts[];
/* Fills out from map (NULL: defaults, no targets). 0 or CM_EINVAL with
 * err->msg "file:line:col: collectors.queues[1].dlq: reason" (path is the
 * section's path, e.g. "collectors"). Free with lgc_settings_free (also
 * after an error; NULL ok). */
int lgc_settings_parse(const struct cm_ydoc *doc, const struct cm_ynode *map, const char *path,
                       struct lgc_settings *out, struct cm_opt_err *err);
void lgc_settings_free(struct lgc_settings *s);
/* A config borrowing s's lists (valid while s is). region stays NULL. */
void lgc_settings_config(const struct lgc_settings *s, struct lgc_config *cfg);

/* ------------------------------------------------------------------ log line parsers */

/* One REPORT line (text format, tab- or space-separated fields). */
struct lgc_report {
    char request_id[64];
    double duration_ms;
    double billed_ms;
    int memory_mb;
    int max_memory_mb;
    double init_ms; /* < 0 when the line has no Init Duration (warm) */
    int timeout;    /* "Status: timeout" */
};
/* Parses "REPORT RequestId: <id>\tDuration: 1.23 ms\t..." (n bytes, no NUL
 * needed; leading text before "REPORT " ignored). 0; CM_ENOTFOUND (not a
 * REPORT line, including INIT_REPORT); CM_EPARSE (a REPORT line without a
 * request id or Duration). */
int lgc_report_parse(const char *p, size_t n, struct lgc_report *out);

/* One runtime JSON log line (functions/runtime rt_log_format) or EMF
 * document: the fields the join needs. */
struct lgc_logline {
    char request_id[64];
    char correlation_id[128];
    char function_name[128];
    int cold_start;           /* -1 absent, 0, 1 */
    int emf;                  /* has _aws.CloudWatchMetrics */
    int emf_cold_start;       /* EMF ColdStart metric present (value > 0) */
    double processing_lag_ms; /* EMF ProcessingLag (max of an array); < 0 absent */
};
/* Parses a JSON object line (n bytes; a Lambda text prefix before the
 * first '{' is skipped). 0; CM_EPARSE (not a JSON object). */
int lgc_logline_parse(const char *p, size_t n, struct lgc_logline *out);

/* ------------------------------------------------------------------ join */

struct lgc_join_config {
    size_t max_records;      /* correlation records kept; 0: 100000 */
    size_t max_events;       /* log events read over all functions; 0: 1000000 */
    int max_pages;           /* FilterLogEvents pages per function; 0: 1000 */
    int64_t call_timeout_ms; /* 0: 10 s */
    int offline;             /* 1: no AWS client (lines come from lgc_join_add_line) */
};

struct lgc_join_rec {
    char function_name[128];
    char request_id[64];
    double init_ms;       /* < 0: warm (or unknown) */
    double duration_ms;   /* REPORT Duration; < 0 unknown */
    double queue_wait_ms; /* SQS SentTimestamp to processing; < 0 unknown */
};

struct lgc_join;

/* cfg may be NULL (defaults). 0 or an error of cm_aws_client_new (err,
 * may be NULL, has the reason). Free with lgc_join_free (NULL ok). */
int lgc_join_new(const struct lgc_join_config *cfg, struct lgc_join **out, char *err,
                 size_t err_size);
void lgc_join_free(struct lgc_join *j);
/* Fetches every log event of /aws/lambda/<fn> in [start_ms, end_ms] with
 * pagination (bounded by max_pages and max_events) and joins REPORT lines
 * with runtime JSON lines and EMF documents by requestId, then by
 * correlationId. May be called several times (records accumulate). 0;
 * CM_ETOOBIG when a bound cut the fetch short (what was read is kept); an
 * AWS error; CM_ESTATE for an offline join. A missing log group counts as
 * empty. Not thread-safe: one thread uses a join at a time. */
int lgc_join_fetch(struct lgc_join *j, const char *const *fns, size_t n_fns, int64_t start_ms,
                   int64_t end_ms);
/* Feeds one log event's text (as fetched) for fn: for tests and for callers
 * that already hold log lines. */
void lgc_join_add_line(struct lgc_join *j, const char *fn, const char *p, size_t n);
/* Resolves the requestId -> correlation links added so far (lgc_join_fetch
 * calls it). */
void lgc_join_finish(struct lgc_join *j);
/* 0 with *out; CM_ENOTFOUND. When several invocations carry one
 * correlation ID (HTTP create, then SQS processing), *out is the first
 * handler invocation and queue_wait_ms comes from the SQS one. */
int lgc_join_lookup(const struct lgc_join *j, const char *correlation_id, struct lgc_join_rec *out);
size_t lgc_join_count(const struct lgc_join *j);

/* One client-side request, as loadgen recorded it. */
struct lgc_client_rec {
    const char *correlation_id;
    double latency_ms; /* client-measured latency (uncorrected) */
};
/* Breakdown over the records found in the join, as a new cJSON object:
 *   {"matched":n,"unmatched":n,
 *    "gateway_overhead_ms":{"count","p50","p99","mean"},  (latency - duration, >= 0)
 *    "init_ms":{...}, "handler_ms":{...}, "queue_wait_ms":{...}}
 * A part with no values has count 0 and no percentiles. */
cJSON *lgc_join_breakdown(const struct lgc_join *j, const struct lgc_client_rec *recs, size_t n);

#endif
