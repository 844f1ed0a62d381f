/* lgc_int.h: private to collectors/: the sampler's state shared by lgc.c and
 * the sources (sqs.c, cloudwatch.c, logs.c), and the one small ops struct
 * every source implements. Unit tests include it to drive the bookkeeping
 * without a network. */
#ifndef LGC_INT_H
#define LGC_INT_H

#include "lgc.h"

#include "cm/aws.h"
#include "cm/hist.h"

#include <pthread.h>
#include <stdatomic.h>

/* Values per queue and per function in one timeseries row (NaN = absent). */
enum { LGC_QV_VISIBLE, LGC_QV_INFLIGHT, LGC_QV_DELAYED, LGC_QV_AGE, LGC_QV_DLQ, LGC_QV_N };
enum { LGC_FV_CONC, LGC_FV_INV, LGC_FV_ERR, LGC_FV_THR, LGC_FV_COLD, LGC_FV_N };

struct lgc_row {
    int64_t t_ms;
    double v[]; /* n_queues * LGC_QV_N, then n_functions * LGC_FV_N */
};

struct lgc_queue {
    char *name, *dlq;    /* as configured (name or URL) */
    char *url, *dlq_url; /* resolved; NULL until GetQueueUrl answered */
    double max_visible, max_inflight, max_delayed, last_depth; /* NaN until sampled */
    double max_age_s;                                          /* NaN until known */
    int age_from_cw;          /* max_age_s came from CloudWatch at least once */
    int64_t empty_since_ms;   /* last sample that saw the queue empty; -1 none */
    double cw_age_s;          /* latest AWS/SQS ApproximateAgeOfOldestMessage; NaN none */
    double dlq_max, dlq_last; /* NaN until sampled */
    double drain_s;           /* from lgc_wait_drained; NaN none */
    uint64_t samples;
};

struct lgc_function {
    char *name;
    double invocations, errors, throttles, max_conc; /* run totals from CloudWatch; NaN none */
    double cur_conc;                                 /* latest period's Maximum; NaN none */
    double prev_inv, prev_err, prev_thr;             /* totals at the previous row */
    uint64_t cold;                                   /* cold starts seen (deduplicated) */
    uint64_t cold_row;                               /* of those, since the last row */
    int logs_ok;                                     /* one FilterLogEvents pass succeeded */
    struct cm_hist *init_us;                         /* Init Duration, microseconds */
    int64_t log_max_ts_ms;                           /* newest cold-start event seen */
};

struct lgc {
    struct lgc_queue *q;
    size_t nq;
    struct lgc_function *f;
    size_t nf;
    int64_t interval_ns;
    int64_t call_timeout_ms;
    int period_s;
    int no_cloudwatch, no_logs;
    char *region;
    struct cm_aws_client *sqs, *cw, *logs; /* used by one thread at a time */
    int64_t run_start_ms;

    pthread_mutex_t mu; /* guards everything below and the per-target stats */
    pthread_cond_t cv;
    pthread_t thread;
    int running;
    atomic_int stop;
    struct lgc_row **rows; /* ring of LGC_MAX_ROWS */
    size_t row_head, row_len;
    uint64_t rows_dropped;
    uint64_t samples, errors;
    char last_error[256];
    uint64_t *cold_ids; /* open-addressing set of requestId hashes (0 = empty) */
    size_t cold_cap, cold_n;
};

/* A source of samples: sample() makes its AWS calls without the lock and
 * records under it. final != 0 on the last pass after the thread stopped
 * (sources may look further back then). Returns 0 or the first error; the
 * error was already counted with lgc_note_error. */
struct lgc_source_ops {
    const char *name;
    int (*sample)(struct lgc *l, int64_t now_ms, struct lgc_row *row, int final);
};

extern const struct lgc_source_ops lgc_sqs_ops;
extern const struct lgc_source_ops lgc_cw_ops;
extern const struct lgc_source_ops lgc_logs_ops;

/* One JSON-protocol call: body is consumed (deleted); *resp gets the parsed
 * response (cJSON_Delete) on success. Errors: cm_aws_perform's, or
 * CM_EPARSE for a non-JSON 2xx body; aws_code (may be NULL, 128 bytes) gets
 * the AWS error code. */
int lgc_aws_call(struct cm_aws_client *c, const char *op, cJSON *body, cJSON **resp,
                 char *aws_code);
/* Counts an error and keeps its text (locks). */
void lgc_note_error(struct lgc *l, const char *source, const char *what, int rc,
                    const char *aws_code);
double *lgc_row_q(struct lgc *l, struct lgc_row *r, size_t qi);
double *lgc_row_f(struct lgc *l, struct lgc_row *r, size_t fi);

/* Bookkeeping, called with l->mu held (tests call them directly). */
void lgc_record_queue(struct lgc *l, size_t qi, int64_t now_ms, double visible, double inflight,
                      double delayed, double *age_out);
void lgc_record_dlq(struct lgc *l, size_t qi, double depth);
void lgc_record_totals(struct lgc *l, size_t fi, double inv, double err, double thr,
                       double max_conc, double cur_conc);
/* 1 when request_id was new (counted and its init recorded), 0 duplicate
 * or the cap was reached. */
int lgc_record_cold(struct lgc *l, size_t fi, const char *request_id, double init_ms,
                    int64_t ts_ms);

/* Builds a sampler with no AWS clients (unit tests). */
int lgc_new_offline(const struct lgc_config *cfg, struct lgc **out, char *err, size_t err_size);

/* Resolves a queue name or URL to a URL with GetQueueUrl (sqs.c). */
int lgc_sqs_queue_url(struct cm_aws_client *c, const char *name, char **url, char *aws_code);
/* GetQueueAttributes: visible, in flight, delayed. */
int lgc_sqs_depth(struct cm_aws_client *c, const char *url, double out[3], char *aws_code);
/* Parses a GetQueueAttributes JSON response body (n bytes). 0 or CM_EPARSE. */
int lgc_sqs_parse_attrs(const char *p, size_t n, double out[3]);

/* Merges one GetMetricData JSON response page: for each id in ids, the
 * value at the newest timestamp into latest[i] when it is still NaN, and
 * the maximum over all points into maxv[i]. The caller sets both arrays to
 * NaN before the first page. 0 or CM_EPARSE. */
int lgc_cw_parse(const cJSON *resp, const char *const *ids, size_t n, double *latest, double *maxv);

#endif
