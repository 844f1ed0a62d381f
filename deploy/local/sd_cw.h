/* sd_cw.h: stackd's CloudWatch metrics: an in-memory time-series store and
 * the handler for PutMetricData, GetMetricData, GetMetricStatistics and
 * ListMetrics in both protocols the clients use: awsQuery (form body with
 * Action=..&Version=2010-08-01, XML responses; Debian awscli 2.9 and boto3
 * 1.26) and awsJson1_0 (X-Amz-Target: GraniteServiceVersion20100801.<Op>;
 * botocore >= 1.3x and the JS SDK v3), gzip request bodies included. Smithy
 * RPCv2 CBOR is not spoken. Dashboards and alarms are not here.
 *
 * A metric is (namespace, name, dimensions sorted by name). Each metric keeps
 * per-minute buckets (per-second ones for StorageResolution 1) holding count,
 * sum, min, max and the samples themselves: exactly (up to 64 distinct
 * value/count pairs) and beyond that in a cm_hist (values scaled by 1000,
 * precision config.sig_digits), so pNN statistics come from real
 * distributions. Memory is bounded: buckets older than retention_ms before
 * the newest sample seen are dropped (one sample advances that reference by
 * at most 5 minutes past the newest sample or request clock seen, so a stray
 * future timestamp cannot age the store out), and past max_bytes the oldest
 * buckets store-wide go first. In memory only (not persisted under
 * --data-dir).
 *
 * EMF: sd_cw_ingest_emf turns one Embedded Metric Format document into
 * samples; sd_logs calls it for every log event that mentions "_aws".
 *
 * Threading: none; the store belongs to stackd's single event loop. */
#ifndef SD_CW_H
#define SD_CW_H

#include "sd_req.h"

#include <stddef.h>
#include <stdint.h>

struct sd_cw;

struct sd_dim {
    const char *name;
    const char *value;
};

struct sd_cw_config {
    int64_t retention_ms; /* 0: default 3 h */
    size_t max_bytes;     /* bucket memory; 0: default 64 MiB */
    size_t max_metrics;   /* 0: default 10000 */
    int sig_digits;       /* histogram precision 1..3; 0: default 2 (1% relative error) */
};

#define SD_CW_MAX_DIMS 30

struct sd_cw *sd_cw_new(const struct sd_cw_config *cfg);
void sd_cw_free(struct sd_cw *cw);

/* Records one sample. unit may be NULL ("None"); a metric keeps the unit of
 * its first sample. dims need not be sorted; names must be distinct. ts_ms
 * is the sample time (epoch ms). Returns 0, CM_EINVAL (empty names, more
 * than 30 dimensions, non-finite value, unknown unit), CM_ETOOBIG (max
 * metrics reached) or CM_ERANGE (older than the retention window: dropped). */
int sd_cw_record(struct sd_cw *cw, const char *ns, const char *name, const struct sd_dim *dims,
                 int n_dims, double value, const char *unit, int64_t ts_ms);
/* The same with a weight (count > 0 equal samples) and a storage resolution
 * (1: per-second buckets, anything else: per-minute). */
int sd_cw_record_n(struct sd_cw *cw, const char *ns, const char *name, const struct sd_dim *dims,
                   int n_dims, double value, double count, const char *unit, int storage_res,
                   int64_t ts_ms);

/* Ingests one EMF document (len bytes, need not be NUL terminated; a JSON
 * object with _aws.CloudWatchMetrics). _aws.Timestamp gives the time; ts_ms
 * is used when it is missing or not a number. Validated per the spec
 * (<= 100 metrics per directive, <= 30 keys per dimension set, dimension
 * values strings, metric values a number or an array of <= 100 numbers,
 * StorageResolution 1 or 60, known units) before anything is recorded.
 * Returns the number of values recorded (>= 0), or CM_EPARSE (not JSON /
 * not EMF) or CM_EINVAL (invalid EMF); failures are counted
 * (sd_cw_emf_errors). */
int sd_cw_ingest_emf(struct sd_cw *cw, const char *line, size_t len, int64_t ts_ms);
uint64_t sd_cw_emf_errors(const struct sd_cw *cw);

/* One statistic over [start_ms, end_ms) of one metric (dims exact):
 * "SampleCount", "Sum", "Average", "Minimum", "Maximum", "pNN", "pNN.N".
 * Returns 1 with *out set, 0 when there is no data (or the percentile is
 * unavailable: negative values, statistic sets), CM_EINVAL for an unknown
 * statistic. For tests and stackd itself. */
int sd_cw_stat(struct sd_cw *cw, const char *ns, const char *name, const struct sd_dim *dims,
               int n_dims, int64_t start_ms, int64_t end_ms, const char *stat, double *out);

size_t sd_cw_metric_count(const struct sd_cw *cw);
size_t sd_cw_bytes(const struct sd_cw *cw);

/* The CloudWatch handler (both protocols). resp was initialised by the
 * caller (sd_resp_init); the handler sets status, content type, the
 * x-amzn-RequestId header (and x-amzn-query-error on JSON errors) and the
 * body. Time comes from req->recv_wall_ns. */
void sd_cw_handle(struct sd_cw *cw, const struct sd_req *req, struct sd_resp *resp);

/* Metric math (GetMetricData Expression), exposed for tests and fuzzing:
 * parses expr and reports 0 or CM_EPARSE with *why set. Grammar: numbers,
 * query ids, + - * / with the usual precedence, unary minus, parentheses,
 * [id, ...] lists, METRICS(), and SUM AVG MIN MAX (of a list: point-wise
 * across series; of one series: a scalar). */
int sd_cw_expr_check(const char *expr, size_t n, const char **why);

#endif
