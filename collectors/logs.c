/* logs.c: CloudWatch Logs source and the server-side join. Speaks Logs
 * FilterLogEvents (awsJson1_1, X-Amz-Target Logs_20140328.FilterLogEvents:
 * logGroupName, startTime/endTime in epoch ms, filterPattern, nextToken ->
 * events[{timestamp,message,eventId,logStreamName}], nextToken) on
 * /aws/lambda/<fn>, and parses what Lambda and our runtime write there:
 *  - REPORT lines: "REPORT RequestId: <id>\tDuration: 1.23 ms\tBilled
 *    Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 20 MB[\tInit
 *    Duration: 3.45 ms][\tStatus: timeout]" (aws-facts.md 4.1);
 *  - the runtime's JSON lines (requestId, correlationId, functionName,
 *    coldStart) and EMF documents (_aws, ColdStart, ProcessingLag).
 * During the run only cold starts are read (filter "Init Duration"); the
 * join reads everything of the run window once, after the run. */
#include "lgc_int.h"

#include "cm/clock.h"
#include "cm/json.h"
#include "cm/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ parsers */

static const char *memfind(const char *p, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; k <= n && i <= n - k; i++)
        if (memcmp(p + i, needle, k) == 0)
            return p + i;
    return NULL;
}

/* The value after key, where key starts a field: at the start or after
 * whitespace, and for "Duration: " not the tail of "Billed/Init/Restore
 * Duration: ". Returns a pointer to the value or NULL. */
static const char *field(const char *p, size_t n, const char *key)
{
    const char *end = p + n, *s = p;
    size_t k = strlen(key);
    while (s < end) {
        const char *hit = memfind(s, (size_t)(end - s), key);
        if (!hit)
            return NULL;
        int ok = hit == p || hit[-1] == '\t' || hit[-1] == ' ';
        static const char *const pre[] = {"Billed ", "Init ", "Restore "};
        for (int i = 0; ok && i < 3; i++) {
            size_t pl = strlen(pre[i]);
            if ((size_t)(hit - p) >= pl && memcmp(hit - pl, pre[i], pl) == 0)
                ok = 0;
        }
        if (ok)
            return hit + k;
        s = hit + 1;
    }
    return NULL;
}

static int num_at(const char *v, const char *end, double *out)
{
    char tmp[40];
    size_t i = 0;
    while (v + i < end && i < sizeof tmp - 1 &&
           (strchr("0123456789.-+eE", v[i]) != NULL && v[i] != '\0')) {
        tmp[i] = v[i];
        i++;
    }
    tmp[i] = '\0';
    if (i == 0)
        return CM_EPARSE;
    char *e = NULL;
    double d = strtod(tmp, &e);
    if (*e || !isfinite(d) || d < 0)
        return CM_EPARSE;
    *out = d;
    return 0;
}

int lgc_report_parse(const char *p, size_t n, struct lgc_report *out)
{
    memset(out, 0, sizeof *out);
    out->init_ms = -1;
    const char *r = memfind(p, n, "REPORT RequestId: ");
    if (!r || (r > p && r[-1] != ' ' && r[-1] != '\t'))
        return CM_ENOTFOUND; /* INIT_REPORT or not a REPORT line */
    const char *end = p + n, *id = r + strlen("REPORT RequestId: ");
    size_t k = 0;
    while (id + k < end && id[k] != '\t' && id[k] != ' ' && id[k] != '\n' && id[k] != '\r')
        k++;
    if (k == 0 || k >= sizeof out->request_id)
        return CM_EPARSE;
    memcpy(out->request_id, id, k);
    const char *rest = id + k;
    size_t rn = (size_t)(end - rest);
    const char *v = field(rest, rn, "Duration: ");
    if (!v || num_at(v, end, &out->duration_ms))
        return CM_EPARSE;
    double d;
    if ((v = field(rest, rn, "Billed Duration: ")) && !num_at(v, end, &d))
        out->billed_ms = d;
    if ((v = field(rest, rn, "Memory Size: ")) && !num_at(v, end, &d) && d < 1e9)
        out->memory_mb = (int)d;
    if ((v = field(rest, rn, "Max Memory Used: ")) && !num_at(v, end, &d) && d < 1e9)
        out->max_memory_mb = (int)d;
    if ((v = field(rest, rn, "Init Duration: ")) && !num_at(v, end, &d))
        out->init_ms = d;
    if ((v = field(rest, rn, "Status: ")) && (size_t)(end - v) >= 7 && memcmp(v, "timeout", 7) == 0)
        out->timeout = 1;
    return 0;
}

static void copy_str(char *dst, size_t size, const char *s)
{
    if (s && strlen(s) < size)
        cm_strlcpy(dst, s, size);
}

int lgc_logline_parse(const char *p, size_t n, struct lgc_logline *out)
{
    memset(out, 0, sizeof *out);
    out->cold_start = -1;
    out->processing_lag_ms = -1;
    const char *b = memchr(p, '{', n);
    if (!b)
        return CM_EPARSE;
    cJSON *j = cm_json_parse(b, n - (size_t)(b - p));
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return CM_EPARSE;
    }
    copy_str(out->request_id, sizeof out->request_id, cm_json_str(j, "requestId", NULL));
    copy_str(out->correlation_id, sizeof out->correlation_id,
             cm_json_str(j, "correlationId", NULL));
    copy_str(out->function_name, sizeof out->function_name, cm_json_str(j, "functionName", NULL));
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(j, "coldStart");
    if (cJSON_IsBool(cs))
        out->cold_start = cJSON_IsTrue(cs);
    const cJSON *aws = cJSON_GetObjectItemCaseSensitive(j, "_aws");
    out->emf = cJSON_IsObject(aws) &&
               cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(aws, "CloudWatchMetrics"));
    if (out->emf) {
        out->emf_cold_start = cm_json_num(j, "ColdStart", 0) > 0;
        const cJSON *lag = cJSON_GetObjectItemCaseSensitive(j, "ProcessingLag");
        const cJSON *x;
        if (cJSON_IsNumber(lag) && isfinite(lag->valuedouble) && lag->valuedouble >= 0)
            out->processing_lag_ms = lag->valuedouble;
        else if (cJSON_IsArray(lag))
            cJSON_ArrayForEach(x, lag) if (cJSON_IsNumber(x) && isfinite(x->valuedouble) &&
                                           x->valuedouble > out->processing_lag_ms)
                out->processing_lag_ms = x->valuedouble;
    }
    cJSON_Delete(j);
    return 0;
}

/* ------------------------------------------------------------------ FilterLogEvents */

typedef int (*event_fn)(void *ctx, const char *msg, size_t len, int64_t ts_ms);

/* Pages through FilterLogEvents. 0; CM_ETOOBIG when max_pages or
 * max_events stopped it; an AWS error (a missing group is 0). */
static int filter_events(struct cm_aws_client *c, const char *group, int64_t t0, int64_t t1,
                         const char *pattern, int max_pages, size_t *events_left, event_fn fn,
                         void *ctx, char *code)
{
    char *token = NULL;
    int rc = 0;
    for (int page = 0;; page++) {
        if (page >= max_pages) {
            rc = CM_ETOOBIG;
            break;
        }
        cJSON *b = cJSON_CreateObject(), *resp = NULL;
        cJSON_AddStringToObject(b, "logGroupName", group);
        cJSON_AddNumberToObject(b, "startTime", (double)t0);
        cJSON_AddNumberToObject(b, "endTime", (double)t1);
        if (pattern)
            cJSON_AddStringToObject(b, "filterPattern", pattern);
        if (token)
            cJSON_AddStringToObject(b, "nextToken", token);
        rc = lgc_aws_call(c, "FilterLogEvents", b, &resp, code);
        free(token);
        token = NULL;
        if (rc == CM_EAWS && strcmp(code, "ResourceNotFoundException") == 0)
            rc = 0; /* no group yet: the function has not logged */
        if (rc || !resp) {
            cJSON_Delete(resp);
            break;
        }
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(resp, "events"))
        {
            if (*events_left == 0) {
                rc = CM_ETOOBIG;
                break;
            }
            (*events_left)--;
            const char *m = cm_json_str(e, "message", "");
            fn(ctx, m, strlen(m), cm_json_int(e, "timestamp", 0));
        }
        const char *nt = cm_json_str(resp, "nextToken", NULL);
        if (!rc && nt && *nt)
            token = cm_xstrdup(nt);
        cJSON_Delete(resp);
        if (rc || !token)
            break;
    }
    free(token);
    return rc;
}

/* ------------------------------------------------------------------ cold starts */

struct cold_ctx {
    struct lgc *l;
    size_t fi;
};

static int on_cold(void *arg, const char *msg, size_t len, int64_t ts_ms)
{
    struct cold_ctx *c = arg;
    struct lgc_report r;
    if (lgc_report_parse(msg, len, &r) || r.init_ms < 0)
        return 0;
    pthread_mutex_lock(&c->l->mu);
    lgc_record_cold(c->l, c->fi, r.request_id, r.init_ms, ts_ms);
    pthread_mutex_unlock(&c->l->mu);
    return 0;
}

/* Each tick reads [newest cold start seen - 60 s - interval, now]: events
 * can be ingested late, duplicates are dropped by requestId. The last pass
 * reads the whole run. */
static int logs_sample(struct lgc *l, int64_t now_ms, struct lgc_row *row, int final)
{
    (void)row;
    if (!l->logs)
        return 0;
    int first = 0;
    for (size_t i = 0; i < l->nf; i++) {
        if (!final && atomic_load(&l->stop))
            break;
        struct lgc_function *f = &l->f[i];
        char group[1200], code[128];
        snprintf(group, sizeof group, "/aws/lambda/%s", f->name);
        pthread_mutex_lock(&l->mu);
        int64_t back = 60000 + l->interval_ns / CM_NS_PER_MS;
        int64_t t0 = f->log_max_ts_ms > 0 ? f->log_max_ts_ms - back : l->run_start_ms;
        pthread_mutex_unlock(&l->mu);
        if (final || t0 < l->run_start_ms)
            t0 = l->run_start_ms;
        struct cold_ctx c = {l, i};
        size_t left = 100000;
        int rc = filter_events(l->logs, group, t0, now_ms + 1000, "\"Init Duration\"",
                               final ? 1000 : 20, &left, on_cold, &c, code);
        if (rc && rc != CM_ETOOBIG) {
            lgc_note_error(l, "logs", group, rc, code);
            first = first ? first : rc;
            continue;
        }
        pthread_mutex_lock(&l->mu);
        f->logs_ok = 1;
        pthread_mutex_unlock(&l->mu);
    }
    return first;
}

const struct lgc_source_ops lgc_logs_ops = {"logs", logs_sample};

/* ------------------------------------------------------------------ join */

struct jinv {
    char fn[128];
    char rid[64];
    double init_ms, dur_ms, lag_ms;
    uint64_t last_corr; /* hash of the last correlation id linked (dedup) */
};

struct jlink {
    char *corr;
    size_t inv;
};

struct lgc_join {
    struct lgc_join_config cfg;
    struct cm_aws_client *logs;
    struct jinv *inv;
    size_t ninv;
    size_t *slots; /* open addressing by requestId: index + 1, 0 empty */
    size_t nslots;
    struct jlink *links;
    size_t nlinks;
    int sorted;
};

int lgc_join_new(const struct lgc_join_config *cfg, struct lgc_join **out, char *err,
                 size_t err_size)
{
    struct lgc_join *j = cm_xcalloc(1, sizeof *j);
    if (cfg)
        j->cfg = *cfg;
    if (!j->cfg.max_records)
        j->cfg.max_records = 100000;
    if (!j->cfg.max_events)
        j->cfg.max_events = 1000000;
    if (!j->cfg.max_pages)
        j->cfg.max_pages = 1000;
    if (!j->cfg.call_timeout_ms)
        j->cfg.call_timeout_ms = 10000;
    j->inv = cm_xcalloc(j->cfg.max_records, sizeof *j->inv);
    j->links = cm_xcalloc(j->cfg.max_records, sizeof *j->links);
    j->nslots = 16;
    while (j->nslots < j->cfg.max_records * 2)
        j->nslots *= 2;
    j->slots = cm_xcalloc(j->nslots, sizeof *j->slots);
    *out = j;
    if (j->cfg.offline)
        return 0;
    struct cm_aws_client_opts o = {
        .service = &cm_aws_logs, .max_attempts = 3, .timeout_ms = j->cfg.call_timeout_ms};
    int rc = cm_aws_client_new(&o, &j->logs, err, err_size);
    if (rc) {
        lgc_join_free(j);
        *out = NULL;
    }
    return rc;
}

void lgc_join_free(struct lgc_join *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->nlinks; i++)
        free(j->links[i].corr);
    free(j->links);
    free(j->inv);
    free(j->slots);
    cm_aws_client_free(j->logs);
    free(j);
}

size_t lgc_join_count(const struct lgc_join *j)
{
    return j->nlinks;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h ? h : 1;
}

/* The invocation of rid (created when absent); NULL when the cap is hit. */
static struct jinv *inv_get(struct lgc_join *j, const char *fn, const char *rid)
{
    size_t k = hash_str(rid) & (j->nslots - 1);
    while (j->slots[k]) {
        struct jinv *v = &j->inv[j->slots[k] - 1];
        if (strcmp(v->rid, rid) == 0)
            return v;
        k = (k + 1) & (j->nslots - 1);
    }
    if (j->ninv >= j->cfg.max_records)
        return NULL;
    struct jinv *v = &j->inv[j->ninv++];
    cm_strlcpy(v->fn, fn, sizeof v->fn);
    cm_strlcpy(v->rid, rid, sizeof v->rid);
    v->init_ms = v->dur_ms = v->lag_ms = -1;
    j->slots[k] = j->ninv;
    return v;
}

void lgc_join_add_line(struct lgc_join *j, const char *fn, const char *p, size_t n)
{
    struct lgc_report r;
    if (lgc_report_parse(p, n, &r) == 0) {
        struct jinv *v = inv_get(j, fn, r.request_id);
        if (v) {
            v->dur_ms = r.duration_ms;
            v->init_ms = r.init_ms;
        }
        return;
    }
    struct lgc_logline ll;
    if (lgc_logline_parse(p, n, &ll) || !ll.request_id[0])
        return;
    struct jinv *v = inv_get(j, ll.function_name[0] ? ll.function_name : fn, ll.request_id);
    if (!v)
        return;
    if (ll.processing_lag_ms > v->lag_ms)
        v->lag_ms = ll.processing_lag_ms;
    if (!ll.correlation_id[0])
        return;
    uint64_t h = hash_str(ll.correlation_id);
    if (h == v->last_corr || j->nlinks >= j->cfg.max_records)
        return;
    v->last_corr = h;
    j->links[j->nlinks].corr = cm_xstrdup(ll.correlation_id);
    j->links[j->nlinks].inv = (size_t)(v - j->inv);
    j->nlinks++;
    j->sorted = 0;
}

static int link_cmp(const void *a, const void *b)
{
    const struct jlink *x = a, *y = b;
    int c = strcmp(x->corr, y->corr);
    return c ? c : (x->inv > y->inv) - (x->inv < y->inv);
}

void lgc_join_finish(struct lgc_join *j)
{
    qsort(j->links, j->nlinks, sizeof *j->links, link_cmp);
    /* Drop duplicate (corr, inv) pairs left by interleaved lines. */
    size_t w = 0;
    for (size_t i = 0; i < j->nlinks; i++) {
        if (w > 0 && link_cmp(&j->links[w - 1], &j->links[i]) == 0) {
            free(j->links[i].corr);
            continue;
        }
        j->links[w++] = j->links[i];
    }
    j->nlinks = w;
    j->sorted = 1;
}

struct join_ctx {
    struct lgc_join *j;
    const char *fn;
};

static int on_join(void *arg, const char *msg, size_t len, int64_t ts_ms)
{
    (void)ts_ms;
    struct join_ctx *c = arg;
    lgc_join_add_line(c->j, c->fn, msg, len);
    return 0;
}

int lgc_join_fetch(struct lgc_join *j, const char *const *fns, size_t n_fns, int64_t start_ms,
                   int64_t end_ms)
{
    if (!j->logs)
        return CM_ESTATE;
    size_t left = j->cfg.max_events;
    int rc = 0;
    for (size_t i = 0; i < n_fns && (!rc || rc == CM_ETOOBIG); i++) {
        char group[1200], code[128] = "";
        snprintf(group, sizeof group, "/aws/lambda/%s", fns[i]);
        struct join_ctx c = {j, fns[i]};
        int r = filter_events(j->logs, group, start_ms, end_ms, NULL, j->cfg.max_pages, &left,
                              on_join, &c, code);
        if (r)
            rc = r;
    }
    lgc_join_finish(j);
    return rc;
}

int lgc_join_lookup(const struct lgc_join *j, const char *correlation_id, struct lgc_join_rec *out)
{
    if (!j->sorted || !correlation_id)
        return CM_ENOTFOUND;
    size_t lo = 0, hi = j->nlinks;
    while (lo < hi) { /* first link with corr >= correlation_id */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(j->links[mid].corr, correlation_id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    memset(out, 0, sizeof *out);
    out->init_ms = out->duration_ms = out->queue_wait_ms = -1;
    int found = 0;
    for (size_t i = lo; i < j->nlinks && strcmp(j->links[i].corr, correlation_id) == 0; i++) {
        const struct jinv *v = &j->inv[j->links[i].inv];
        if (v->lag_ms >= 0 && out->queue_wait_ms < 0)
            out->queue_wait_ms = v->lag_ms;
        /* The handler invocation: the first one that was not SQS-fed, else
         * the first one. */
        if (!found || (out->queue_wait_ms >= 0 && v->lag_ms < 0 && found == 2)) {
            cm_strlcpy(out->function_name, v->fn, sizeof out->function_name);
            cm_strlcpy(out->request_id, v->rid, sizeof out->request_id);
            out->init_ms = v->init_ms;
            out->duration_ms = v->dur_ms;
            found = v->lag_ms >= 0 ? 2 : 1;
        }
    }
    return found ? 0 : CM_ENOTFOUND;
}

static void part(cJSON *o, const char *k, struct cm_hist *h)
{
    cJSON *p = cJSON_AddObjectToObject(o, k);
    cJSON_AddNumberToObject(p, "count", (double)cm_hist_count(h));
    if (cm_hist_count(h) == 0)
        return;
    cJSON_AddNumberToObject(p, "p50", (double)cm_hist_percentile(h, 50) / 1000.0);
    cJSON_AddNumberToObject(p, "p99", (double)cm_hist_percentile(h, 99) / 1000.0);
    cJSON_AddNumberToObject(p, "max", (double)cm_hist_max(h) / 1000.0);
    cJSON_AddNumberToObject(p, "mean", cm_hist_mean(h) / 1000.0);
}

static void rec_ms(struct cm_hist *h, double ms)
{
    if (ms >= 0 && isfinite(ms))
        cm_hist_record(h, (int64_t)(ms * 1000.0 + 0.5));
}

cJSON *lgc_join_breakdown(const struct lgc_join *j, const struct lgc_client_rec *recs, size_t n)
{
    struct cm_hist *h[4] = {NULL, NULL, NULL, NULL};
    for (int i = 0; i < 4; i++)
        cm_hist_new(1, 3600LL * 1000000, 3, &h[i]); /* microseconds, up to 1 h */
    size_t matched = 0;
    for (size_t i = 0; i < n; i++) {
        struct lgc_join_rec r;
        if (lgc_join_lookup(j, recs[i].correlation_id, &r))
            continue;
        matched++;
        if (r.duration_ms >= 0) {
            double gw = recs[i].latency_ms - r.duration_ms - (r.init_ms > 0 ? r.init_ms : 0);
            rec_ms(h[0], gw < 0 ? 0 : gw);
        }
        rec_ms(h[1], r.init_ms);
        rec_ms(h[2], r.duration_ms);
        rec_ms(h[3], r.queue_wait_ms);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "matched", (double)matched);
    cJSON_AddNumberToObject(o, "unmatched", (double)(n - matched));
    static const char *const names[4] = {"gateway_overhead_ms", "init_ms", "handler_ms",
                                         "queue_wait_ms"};
    for (int i = 0; i < 4; i++) {
        part(o, names[i], h[i]);
        cm_hist_free(h[i]);
    }
    return o;
}
