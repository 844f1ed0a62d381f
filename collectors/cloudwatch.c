/* cloudwatch.c: metrics source. One CloudWatch GetMetricData call per tick
 * (awsJson1_0, X-Amz-Target GraniteServiceVersion20100801.GetMetricData,
 * epoch-second StartTime/EndTime) with, per function (AWS/Lambda,
 * dimension FunctionName): run totals of Invocations, Errors, Throttles
 * (Sum) and ConcurrentExecutions (Maximum) over one period spanning the run,
 * and the newest ConcurrentExecutions Maximum at the configured period; per
 * queue (AWS/SQS, dimension QueueName): the newest
 * ApproximateAgeOfOldestMessage Maximum.
 *
 * Resolution: CloudWatch stores these per minute (stackd too: its Lambda
 * metrics are standard resolution), so the run window is widened to whole
 * minutes: totals may include invocations of the minute before the run. */
#include "lgc_int.h"

#include "cm/json.h"
#include "cm/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LGC_CW_MAX_PAGES 10 /* GetMetricData pages per tick */

enum { Q_INV, Q_ERR, Q_THR, Q_CMAX, Q_CNOW, Q_PER_FN };

static cJSON *query(const char *id, const char *ns, const char *metric, const char *dim,
                    const char *value, int period, const char *stat)
{
    cJSON *q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "Id", id);
    cJSON *ms = cJSON_AddObjectToObject(q, "MetricStat");
    cJSON *m = cJSON_AddObjectToObject(ms, "Metric");
    cJSON_AddStringToObject(m, "Namespace", ns);
    cJSON_AddStringToObject(m, "MetricName", metric);
    cJSON *dims = cJSON_AddArrayToObject(m, "Dimensions");
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "Name", dim);
    cJSON_AddStringToObject(d, "Value", value);
    cJSON_AddItemToArray(dims, d);
    cJSON_AddNumberToObject(ms, "Period", period);
    cJSON_AddStringToObject(ms, "Stat", stat);
    cJSON_AddBoolToObject(q, "ReturnData", 1);
    return q;
}

static double newest(const cJSON *ts, const cJSON *vs, double *maxv)
{
    double best_t = -INFINITY, best = NAN;
    *maxv = NAN;
    int n = cJSON_GetArraySize(vs);
    for (int i = 0; i < n; i++) {
        const cJSON *v = cJSON_GetArrayItem(vs, i), *t = cJSON_GetArrayItem(ts, i);
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
            continue;
        double tt = cJSON_IsNumber(t) ? t->valuedouble : 0;
        if (tt > best_t) {
            best_t = tt;
            best = v->valuedouble;
        }
        if (isnan(*maxv) || v->valuedouble > *maxv)
            *maxv = v->valuedouble;
    }
    return best;
}

int lgc_cw_parse(const cJSON *resp, const char *const *ids, size_t n, double *latest, double *maxv)
{
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(resp, "MetricDataResults");
    if (!cJSON_IsArray(res))
        return CM_EPARSE;
    const cJSON *r;
    cJSON_ArrayForEach(r, res)
    {
        const char *id = cm_json_str(r, "Id", "");
        const cJSON *ts = cJSON_GetObjectItemCaseSensitive(r, "Timestamps");
        const cJSON *vs = cJSON_GetObjectItemCaseSensitive(r, "Values");
        if (!cJSON_IsArray(vs))
            continue;
        for (size_t i = 0; i < n; i++) {
            if (strcmp(ids[i], id) != 0)
                continue;
            double m;
            double v = newest(ts, vs, &m);
            /* Pages come newest first (ScanBy TimestampDescending, the
             * default): the first page with a value has the newest one. */
            if (isnan(latest[i]))
                latest[i] = v;
            if (isnan(maxv[i]) || m > maxv[i])
                maxv[i] = m;
        }
    }
    return 0;
}

/* Builds the queries; ids[k] points into idbuf. */
static cJSON *build(struct lgc *l, int64_t t0, int64_t t1, char (*idbuf)[32], const char **ids,
                    size_t *nids)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddNumberToObject(b, "StartTime", (double)t0);
    cJSON_AddNumberToObject(b, "EndTime", (double)t1);
    cJSON *qs = cJSON_AddArrayToObject(b, "MetricDataQueries");
    int span = (int)(t1 - t0);
    static const char *const mname[Q_PER_FN] = {"Invocations", "Errors", "Throttles",
                                                "ConcurrentExecutions", "ConcurrentExecutions"};
    static const char *const stat[Q_PER_FN] = {"Sum", "Sum", "Sum", "Maximum", "Maximum"};
    size_t k = 0;
    for (size_t i = 0; i < l->nf; i++)
        for (int m = 0; m < Q_PER_FN; m++, k++) {
            snprintf(idbuf[k], 32, "f%zu_%d", i, m);
            ids[k] = idbuf[k];
            cJSON_AddItemToArray(qs,
                                 query(ids[k], "AWS/Lambda", mname[m], "FunctionName", l->f[i].name,
                                       m == Q_CNOW ? l->period_s : span, stat[m]));
        }
    for (size_t i = 0; i < l->nq; i++, k++) {
        snprintf(idbuf[k], 32, "q%zu", i);
        ids[k] = idbuf[k];
        cJSON_AddItemToArray(qs, query(ids[k], "AWS/SQS", "ApproximateAgeOfOldestMessage",
                                       "QueueName", l->q[i].name, 60, "Maximum"));
    }
    *nids = k;
    return b;
}

static int cw_sample(struct lgc *l, int64_t now_ms, struct lgc_row *row, int final)
{
    (void)row;
    if (!l->cw || (l->nf == 0 && l->nq == 0) || (!final && atomic_load(&l->stop)))
        return 0;
    int64_t start_s = l->run_start_ms / 1000, now_s = now_ms / 1000;
    int64_t t0 = start_s - start_s % 60, t1 = now_s - now_s % 60 + 60;
    size_t max = l->nf * Q_PER_FN + l->nq;
    char(*idbuf)[32] = cm_xcalloc(max + 1, sizeof *idbuf);
    const char **ids = cm_xcalloc(max + 1, sizeof *ids);
    double *latest = cm_xcalloc(max + 1, sizeof *latest);
    double *maxv = cm_xcalloc(max + 1, sizeof *maxv);
    size_t n = 0;
    cJSON *resp = NULL;
    char code[128];
    for (size_t i = 0; i < max; i++)
        latest[i] = maxv[i] = NAN;
    int rc = 0;
    char *token = NULL;
    for (int page = 0; page < LGC_CW_MAX_PAGES && !rc; page++) {
        cJSON *b = build(l, t0, t1, idbuf, ids, &n);
        if (token)
            cJSON_AddStringToObject(b, "NextToken", token);
        free(token);
        token = NULL;
        rc = lgc_aws_call(l->cw, "GetMetricData", b, &resp, code);
        if (!rc)
            rc = lgc_cw_parse(resp, ids, n, latest, maxv);
        const char *nt = rc ? NULL : cm_json_str(resp, "NextToken", NULL);
        if (nt && *nt)
            token = cm_xstrdup(nt);
        cJSON_Delete(resp);
        resp = NULL;
        if (!token)
            break;
    }
    free(token);
    if (rc) {
        lgc_note_error(l, "cloudwatch", "GetMetricData", rc, code);
        goto out;
    }
    pthread_mutex_lock(&l->mu);
    for (size_t i = 0; i < l->nf; i++) {
        const double *lv = &latest[i * Q_PER_FN], *mv = &maxv[i * Q_PER_FN];
        /* No datapoint at all means no invocation yet: totals are 0. */
        lgc_record_totals(l, i, isnan(mv[Q_INV]) ? 0 : mv[Q_INV], isnan(mv[Q_ERR]) ? 0 : mv[Q_ERR],
                          isnan(mv[Q_THR]) ? 0 : mv[Q_THR], mv[Q_CMAX],
                          isnan(lv[Q_CNOW]) ? 0 : lv[Q_CNOW]);
    }
    for (size_t i = 0; i < l->nq; i++)
        l->q[i].cw_age_s = latest[l->nf * Q_PER_FN + i];
    pthread_mutex_unlock(&l->mu);
out:
    cJSON_Delete(resp);
    free(idbuf);
    free(ids);
    free(latest);
    free(maxv);
    return rc;
}

const struct lgc_source_ops lgc_cw_ops = {"cloudwatch", cw_sample};
