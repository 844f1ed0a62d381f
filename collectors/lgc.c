/* lgc.c: the sampler: configuration, the sampling thread and its timer,
 * bounded timeseries rows, running maxima, the summary and the threshold
 * lookup. The AWS calls live in the sources (sqs.c, cloudwatch.c, logs.c);
 * this file only orders them and keeps the numbers. */
#include "lgc_int.h"

#include "cm/clock.h"
#include "cm/json.h"
#include "cm/mem.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct lgc_source_ops *const sources[] = {&lgc_sqs_ops, &lgc_cw_ops, &lgc_logs_ops};

static void errf(char *err, size_t n, const char *what, const char *why)
{
    if (err && n)
        snprintf(err, n, "collectors: %s: %s", what, why);
}

static int check_name(const char *s, const char *what, char *err, size_t err_size)
{
    if (!s || !*s || strlen(s) > 1024) {
        errf(err, err_size, what, "empty or longer than 1024 characters");
        return CM_EINVAL;
    }
    return 0;
}

static int copy_config(struct lgc *l, const struct lgc_config *cfg, char *err, size_t err_size)
{
    if (cfg->n_queues > LGC_MAX_QUEUES || cfg->n_functions > LGC_MAX_FUNCTIONS) {
        errf(err, err_size, "targets", "more than 64 queues or functions");
        return CM_EINVAL;
    }
    l->q = cm_xcalloc(cfg->n_queues + 1, sizeof *l->q);
    l->f = cm_xcalloc(cfg->n_functions + 1, sizeof *l->f);
    for (size_t i = 0; i < cfg->n_queues; i++) {
        const struct lgc_queue_target *t = &cfg->queues[i];
        if (check_name(t->name, "queues[].name", err, err_size) ||
            (t->dlq_name && check_name(t->dlq_name, "queues[].dlq", err, err_size)))
            return CM_EINVAL;
        struct lgc_queue *q = &l->q[l->nq++];
        q->name = cm_xstrdup(t->name);
        q->dlq = t->dlq_name ? cm_xstrdup(t->dlq_name) : NULL;
        q->max_visible = q->max_inflight = q->max_delayed = q->last_depth = NAN;
        q->max_age_s = q->cw_age_s = q->dlq_max = q->dlq_last = q->drain_s = NAN;
        q->empty_since_ms = -1;
    }
    for (size_t i = 0; i < cfg->n_functions; i++) {
        if (check_name(cfg->functions[i], "functions[]", err, err_size))
            return CM_EINVAL;
        struct lgc_function *f = &l->f[l->nf++];
        f->name = cm_xstrdup(cfg->functions[i]);
        f->invocations = f->errors = f->throttles = f->max_conc = f->cur_conc = NAN;
        /* 1 us .. 1 h of init, 3 significant digits. */
        if (cm_hist_new(1, 3600LL * 1000000, 3, &f->init_us))
            return CM_EINVAL;
    }
    l->interval_ns = cfg->interval_ns > 0 ? cfg->interval_ns : CM_NS_PER_S;
    int64_t iv_ms = l->interval_ns / CM_NS_PER_MS;
    l->call_timeout_ms = cfg->call_timeout_ms > 0 ? cfg->call_timeout_ms
                         : iv_ms < 5000           ? (iv_ms < 500 ? 500 : iv_ms)
                                                  : 5000;
    l->period_s = cfg->metrics_period_s > 0 ? cfg->metrics_period_s : 60;
    l->no_cloudwatch = cfg->no_cloudwatch;
    l->no_logs = cfg->no_logs;
    l->region = cfg->region ? cm_xstrdup(cfg->region) : NULL;
    return 0;
}

int lgc_new_offline(const struct lgc_config *cfg, struct lgc **out, char *err, size_t err_size)
{
    *out = NULL;
    struct lgc *l = cm_xcalloc(1, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cv, &ca);
    pthread_condattr_destroy(&ca);
    l->rows = cm_xcalloc(LGC_MAX_ROWS, sizeof *l->rows);
    atomic_init(&l->stop, 0);
    int rc = copy_config(l, cfg, err, err_size);
    if (rc) {
        lgc_free(l);
        return rc;
    }
    *out = l;
    return 0;
}

static int client_new(struct lgc *l, const struct cm_aws_service *svc, struct cm_aws_client **c,
                      char *err, size_t err_size)
{
    struct cm_aws_client_opts o = {
        .service = svc,
        .region = l->region,
        .max_attempts = 2,
        .timeout_ms = l->call_timeout_ms,
        .max_backoff_ns = 200 * CM_NS_PER_MS,
    };
    return cm_aws_client_new(&o, c, err, err_size);
}

int lgc_new(const struct lgc_config *cfg, struct lgc **out, char *err, size_t err_size)
{
    struct lgc *l = NULL;
    int rc = lgc_new_offline(cfg, &l, err, err_size);
    if (rc)
        return rc;
    rc = client_new(l, &cm_aws_sqs, &l->sqs, err, err_size);
    if (!rc && !l->no_cloudwatch)
        rc = client_new(l, &cm_aws_cloudwatch, &l->cw, err, err_size);
    if (!rc && !l->no_logs)
        rc = client_new(l, &cm_aws_logs, &l->logs, err, err_size);
    if (rc) {
        lgc_free(l);
        return rc;
    }
    *out = l;
    return 0;
}

void lgc_free(struct lgc *l)
{
    if (!l)
        return;
    if (l->running)
        lgc_stop(l);
    for (size_t i = 0; i < l->nq; i++) {
        free(l->q[i].name);
        free(l->q[i].dlq);
        free(l->q[i].url);
        free(l->q[i].dlq_url);
    }
    for (size_t i = 0; i < l->nf; i++) {
        free(l->f[i].name);
        cm_hist_free(l->f[i].init_us);
    }
    free(l->q);
    free(l->f);
    for (size_t i = 0; i < l->row_len; i++)
        free(l->rows[(l->row_head + i) % LGC_MAX_ROWS]);
    free(l->rows);
    free(l->cold_ids);
    free(l->region);
    cm_aws_client_free(l->sqs);
    cm_aws_client_free(l->cw);
    cm_aws_client_free(l->logs);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

/* ------------------------------------------------------------------ AWS calls */

int lgc_aws_call(struct cm_aws_client *c, const char *op, cJSON *body, cJSON **resp, char *aws_code)
{
    struct cm_aws_req *r = NULL;
    *resp = NULL;
    if (aws_code)
        aws_code[0] = '\0';
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    int rc = text ? cm_aws_req_json(c, op, text, strlen(text), &r) : CM_EINVAL;
    free(text);
    if (rc)
        goto out;
    rc = cm_aws_perform(r);
    if (rc) {
        if (rc == CM_EAWS && aws_code)
            cm_strlcpy(aws_code, cm_aws_req_error(r)->code, 128);
        goto out;
    }
    size_t n = 0;
    const char *p = cm_aws_req_body(r, &n);
    *resp = cm_json_parse(p, n);
    if (!*resp)
        rc = CM_EPARSE;
out:
    cm_aws_req_free(r);
    return rc;
}

void lgc_note_error(struct lgc *l, const char *source, const char *what, int rc,
                    const char *aws_code)
{
    pthread_mutex_lock(&l->mu);
    l->errors++;
    snprintf(l->last_error, sizeof l->last_error, "%s: %s: %s%s%s", source, what, cm_strerror(rc),
             aws_code && *aws_code ? " " : "", aws_code ? aws_code : "");
    pthread_mutex_unlock(&l->mu);
}

/* ------------------------------------------------------------------ bookkeeping */

static double fmax_nan(double a, double b)
{
    if (isnan(a))
        return b;
    if (isnan(b))
        return a;
    return a > b ? a : b;
}

double *lgc_row_q(struct lgc *l, struct lgc_row *r, size_t qi)
{
    (void)l;
    return &r->v[qi * LGC_QV_N];
}

double *lgc_row_f(struct lgc *l, struct lgc_row *r, size_t fi)
{
    return &r->v[l->nq * LGC_QV_N + fi * LGC_FV_N];
}

/* Age of the oldest message: CloudWatch's when it has one (AWS), else an
 * upper bound: every message now in the queue arrived after the last sample
 * that saw it empty, so age <= now - empty_since. 0 when empty. */
void lgc_record_queue(struct lgc *l, size_t qi, int64_t now_ms, double visible, double inflight,
                      double delayed, double *age_out)
{
    struct lgc_queue *q = &l->q[qi];
    double depth = visible + inflight + delayed;
    double age;
    if (!isnan(q->cw_age_s)) {
        age = q->cw_age_s;
        q->age_from_cw = 1;
    } else if (depth == 0) {
        age = 0;
    } else if (q->empty_since_ms >= 0) {
        age = (double)(now_ms - q->empty_since_ms) / 1000.0;
    } else {
        age = l->run_start_ms > 0 && now_ms >= l->run_start_ms
                  ? (double)(now_ms - l->run_start_ms) / 1000.0
                  : NAN; /* non-empty before the run: unknown */
    }
    if (depth == 0)
        q->empty_since_ms = now_ms;
    q->max_visible = fmax_nan(q->max_visible, visible);
    q->max_inflight = fmax_nan(q->max_inflight, inflight);
    q->max_delayed = fmax_nan(q->max_delayed, delayed);
    q->max_age_s = fmax_nan(q->max_age_s, age);
    q->last_depth = visible;
    q->samples++;
    if (age_out)
        *age_out = age;
}

void lgc_record_dlq(struct lgc *l, size_t qi, double depth)
{
    struct lgc_queue *q = &l->q[qi];
    q->dlq_max = fmax_nan(q->dlq_max, depth);
    q->dlq_last = depth;
}

void lgc_record_totals(struct lgc *l, size_t fi, double inv, double err, double thr,
                       double max_conc, double cur_conc)
{
    struct lgc_function *f = &l->f[fi];
    f->invocations = inv;
    f->errors = err;
    f->throttles = thr;
    f->max_conc = fmax_nan(f->max_conc, max_conc);
    f->cur_conc = cur_conc;
}

static uint64_t hash_id(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h ? h : 1;
}

/* Open addressing, load <= 1/2; grows by doubling up to 2 * LGC_MAX_COLD. */
static int cold_insert(struct lgc *l, uint64_t h)
{
    if (l->cold_n >= LGC_MAX_COLD)
        return 0;
    if ((l->cold_n + 1) * 2 > l->cold_cap) {
        size_t ncap = l->cold_cap ? l->cold_cap * 2 : 1024;
        uint64_t *t = cm_xcalloc(ncap, sizeof *t);
        for (size_t i = 0; i < l->cold_cap; i++) {
            if (!l->cold_ids[i])
                continue;
            size_t k = l->cold_ids[i] & (ncap - 1);
            while (t[k])
                k = (k + 1) & (ncap - 1);
            t[k] = l->cold_ids[i];
        }
        free(l->cold_ids);
        l->cold_ids = t;
        l->cold_cap = ncap;
    }
    size_t k = h & (l->cold_cap - 1);
    while (l->cold_ids[k]) {
        if (l->cold_ids[k] == h)
            return 0;
        k = (k + 1) & (l->cold_cap - 1);
    }
    l->cold_ids[k] = h;
    l->cold_n++;
    return 1;
}

int lgc_record_cold(struct lgc *l, size_t fi, const char *request_id, double init_ms, int64_t ts_ms)
{
    struct lgc_function *f = &l->f[fi];
    if (ts_ms > f->log_max_ts_ms)
        f->log_max_ts_ms = ts_ms;
    if (!cold_insert(l, hash_id(request_id)))
        return 0;
    f->cold++;
    f->cold_row++;
    if (init_ms >= 0 && isfinite(init_ms))
        cm_hist_record(f->init_us, (int64_t)(init_ms * 1000.0 + 0.5));
    return 1;
}

/* ------------------------------------------------------------------ ticks */

static struct lgc_row *row_new(struct lgc *l, int64_t now_ms)
{
    size_t n = l->nq * LGC_QV_N + l->nf * LGC_FV_N;
    struct lgc_row *r = cm_xmalloc(sizeof *r + (n + 1) * sizeof(double));
    r->t_ms = now_ms;
    for (size_t i = 0; i < n; i++)
        r->v[i] = NAN;
    return r;
}

/* Per-row function values: interval deltas of the CloudWatch run totals. */
static void finish_row(struct lgc *l, struct lgc_row *r)
{
    for (size_t i = 0; i < l->nf; i++) {
        struct lgc_function *f = &l->f[i];
        double *v = lgc_row_f(l, r, i);
        v[LGC_FV_CONC] = f->cur_conc;
        if (!isnan(f->invocations)) {
            v[LGC_FV_INV] = f->invocations - f->prev_inv;
            v[LGC_FV_ERR] = f->errors - f->prev_err;
            v[LGC_FV_THR] = f->throttles - f->prev_thr;
            f->prev_inv = f->invocations;
            f->prev_err = f->errors;
            f->prev_thr = f->throttles;
        }
        if (f->logs_ok)
            v[LGC_FV_COLD] = (double)f->cold_row;
        f->cold_row = 0;
    }
}

static void push_row(struct lgc *l, struct lgc_row *r)
{
    if (l->row_len == LGC_MAX_ROWS) {
        free(l->rows[l->row_head]);
        l->row_head = (l->row_head + 1) % LGC_MAX_ROWS;
        l->row_len--;
        l->rows_dropped++;
    }
    l->rows[(l->row_head + l->row_len) % LGC_MAX_ROWS] = r;
    l->row_len++;
}

static int tick(struct lgc *l, int64_t now_ms, int final)
{
    struct lgc_row *r = row_new(l, now_ms);
    int first_rc = 0;
    for (size_t i = 0; i < sizeof sources / sizeof *sources; i++) {
        int rc = sources[i]->sample(l, now_ms, r, final);
        if (rc && !first_rc)
            first_rc = rc;
    }
    pthread_mutex_lock(&l->mu);
    finish_row(l, r);
    push_row(l, r);
    l->samples++;
    pthread_mutex_unlock(&l->mu);
    return first_rc;
}

static void *thread_main(void *arg)
{
    struct lgc *l = arg;
    int64_t due = cm_clock_mono_ns();
    while (!atomic_load(&l->stop)) {
        tick(l, cm_clock_wall_ns() / CM_NS_PER_MS, 0);
        due += l->interval_ns;
        int64_t now = cm_clock_mono_ns();
        if (due < now) /* fell behind (slow calls): skip, never burst */
            due = now + l->interval_ns - (now - due) % l->interval_ns;
        struct timespec ts = {(time_t)(due / CM_NS_PER_S), (long)(due % CM_NS_PER_S)};
        pthread_mutex_lock(&l->mu);
        while (!atomic_load(&l->stop) && cm_clock_mono_ns() < due)
            if (pthread_cond_timedwait(&l->cv, &l->mu, &ts) == ETIMEDOUT)
                break;
        pthread_mutex_unlock(&l->mu);
    }
    return NULL;
}

int lgc_start(struct lgc *l, int64_t run_start_ms)
{
    if (l->running)
        return CM_ESTATE;
    l->run_start_ms = run_start_ms;
    atomic_store(&l->stop, 0);
    if (pthread_create(&l->thread, NULL, thread_main, l))
        return CM_EIO;
    l->running = 1;
    return 0;
}

int lgc_stop(struct lgc *l)
{
    if (!l->running)
        return CM_ESTATE;
    pthread_mutex_lock(&l->mu);
    atomic_store(&l->stop, 1);
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    l->running = 0;
    tick(l, cm_clock_wall_ns() / CM_NS_PER_MS, 1);
    return 0;
}

int lgc_sample_once(struct lgc *l, int64_t now_ms)
{
    if (l->running)
        return CM_ESTATE;
    if (!l->run_start_ms)
        l->run_start_ms = now_ms;
    return tick(l, now_ms, 0);
}

/* The lock is not part of the object's value: readers of a const sampler
 * still take it. */
static pthread_mutex_t *mu_of(const struct lgc *l)
{
    return (pthread_mutex_t *)&l->mu;
}

uint64_t lgc_errors(const struct lgc *l)
{
    pthread_mutex_lock(mu_of(l));
    uint64_t n = l->errors;
    pthread_mutex_unlock(mu_of(l));
    return n;
}

uint64_t lgc_rows_dropped(const struct lgc *l)
{
    pthread_mutex_lock(mu_of(l));
    uint64_t n = l->rows_dropped;
    pthread_mutex_unlock(mu_of(l));
    return n;
}

/* ------------------------------------------------------------------ output */

static void add_num(cJSON *o, const char *k, double v)
{
    if (!isnan(v))
        cJSON_AddNumberToObject(o, k, v);
}

static cJSON *obj_child(cJSON *parent, const char *k)
{
    cJSON *o = cJSON_GetObjectItemCaseSensitive(parent, k);
    return o ? o : cJSON_AddObjectToObject(parent, k);
}

static cJSON *row_json(struct lgc *l, struct lgc_row *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "t_ms", (double)r->t_ms);
    cJSON *qs = cJSON_AddObjectToObject(o, "queues"), *ds = cJSON_AddObjectToObject(o, "dlq");
    cJSON *fs = cJSON_AddObjectToObject(o, "functions");
    for (size_t i = 0; i < l->nq; i++) {
        double *v = lgc_row_q(l, r, i);
        cJSON *q = obj_child(qs, l->q[i].name);
        add_num(q, "visible", v[LGC_QV_VISIBLE]);
        add_num(q, "in_flight", v[LGC_QV_INFLIGHT]);
        add_num(q, "delayed", v[LGC_QV_DELAYED]);
        add_num(q, "age_s", v[LGC_QV_AGE]);
        if (l->q[i].dlq)
            add_num(obj_child(ds, l->q[i].dlq), "depth", v[LGC_QV_DLQ]);
    }
    static const char *const fk[LGC_FV_N] = {"concurrency", "invocations", "errors", "throttles",
                                             "cold_starts"};
    for (size_t i = 0; i < l->nf; i++) {
        double *v = lgc_row_f(l, r, i);
        cJSON *f = obj_child(fs, l->f[i].name);
        for (int k = 0; k < LGC_FV_N; k++)
            add_num(f, fk[k], v[k]);
    }
    return o;
}

cJSON *lgc_drain_rows(struct lgc *l)
{
    cJSON *a = cJSON_CreateArray();
    pthread_mutex_lock(&l->mu);
    for (size_t i = 0; i < l->row_len; i++) {
        struct lgc_row *r = l->rows[(l->row_head + i) % LGC_MAX_ROWS];
        cJSON_AddItemToArray(a, row_json(l, r));
        free(r);
    }
    l->row_head = 0;
    l->row_len = 0;
    pthread_mutex_unlock(&l->mu);
    return a;
}

static double total_of(const struct lgc *l, size_t field_off)
{
    double sum = NAN;
    for (size_t i = 0; i < l->nf; i++) {
        double v = *(const double *)((const char *)&l->f[i] + field_off);
        if (!isnan(v))
            sum = isnan(sum) ? v : sum + v;
    }
    return sum;
}

static double cold_total(const struct lgc *l, int *any)
{
    double n = 0;
    *any = 0;
    for (size_t i = 0; i < l->nf; i++) {
        n += (double)l->f[i].cold;
        *any |= l->f[i].logs_ok;
    }
    return n;
}

static double rate(double cold, double inv)
{
    return isnan(inv) || inv <= 0 ? NAN : cold / inv;
}

static double init_pct(const struct lgc_function *f, double p)
{
    if (cm_hist_count(f->init_us) == 0)
        return NAN;
    return (double)cm_hist_percentile(f->init_us, p) / 1000.0;
}

static void summary_fn(cJSON *fs, cJSON *cs, const struct lgc_function *f)
{
    cJSON *o = obj_child(fs, f->name);
    add_num(o, "invocations", f->invocations);
    add_num(o, "errors", f->errors);
    add_num(o, "throttles", f->throttles);
    add_num(o, "max_concurrency", f->max_conc);
    if (!f->logs_ok)
        return;
    cJSON *c = obj_child(cs, f->name);
    cJSON_AddNumberToObject(c, "count", (double)f->cold);
    add_num(c, "rate", rate((double)f->cold, f->invocations));
    if (cm_hist_count(f->init_us) > 0) {
        cJSON *h = cJSON_AddObjectToObject(c, "init_ms");
        add_num(h, "p50", init_pct(f, 50));
        add_num(h, "p90", init_pct(f, 90));
        add_num(h, "p99", init_pct(f, 99));
        add_num(h, "max", init_pct(f, 100));
        add_num(h, "mean", cm_hist_mean(f->init_us) / 1000.0);
    }
}

cJSON *lgc_summary(struct lgc *l)
{
    cJSON *o = cJSON_CreateObject();
    pthread_mutex_lock(&l->mu);
    cJSON *qs = cJSON_AddObjectToObject(o, "queues"), *ds = cJSON_AddObjectToObject(o, "dlq");
    for (size_t i = 0; i < l->nq; i++) {
        const struct lgc_queue *q = &l->q[i];
        cJSON *j = obj_child(qs, q->name);
        add_num(j, "max_depth", q->max_visible);
        add_num(j, "max_in_flight", q->max_inflight);
        add_num(j, "max_delayed", q->max_delayed);
        add_num(j, "max_age_s", q->max_age_s);
        if (!isnan(q->max_age_s))
            cJSON_AddStringToObject(j, "age_source", q->age_from_cw ? "cloudwatch" : "estimate");
        add_num(j, "last_depth", q->last_depth);
        add_num(j, "drain_s", q->drain_s);
        cJSON_AddNumberToObject(j, "samples", (double)q->samples);
        if (q->dlq) {
            cJSON *d = obj_child(ds, q->dlq);
            add_num(d, "max_depth", q->dlq_max);
            add_num(d, "last_depth", q->dlq_last);
        }
    }
    cJSON *fs = cJSON_AddObjectToObject(o, "functions");
    cJSON *cs = cJSON_AddObjectToObject(o, "cold_starts");
    int any = 0;
    double cold = cold_total(l, &any);
    if (any) {
        cJSON_AddNumberToObject(cs, "count", cold);
        add_num(cs, "rate", rate(cold, total_of(l, offsetof(struct lgc_function, invocations))));
    }
    for (size_t i = 0; i < l->nf; i++)
        summary_fn(fs, cs, &l->f[i]);
    cJSON *c = cJSON_AddObjectToObject(o, "collector");
    cJSON_AddNumberToObject(c, "samples", (double)l->samples);
    cJSON_AddNumberToObject(c, "errors", (double)l->errors);
    cJSON_AddNumberToObject(c, "rows_dropped", (double)l->rows_dropped);
    if (l->last_error[0])
        cJSON_AddStringToObject(c, "last_error", l->last_error);
    pthread_mutex_unlock(&l->mu);
    return o;
}

/* ------------------------------------------------------------------ lookup */

/* Splits "a.b.c" at the first dot and the last component; mid is what lies
 * between (it may contain dots: "cold_starts.fn.init_ms.p99" is handled by
 * the caller trying the longer suffix first). */
static int match_prefix(const char *name, const char *prefix, const char **rest)
{
    size_t n = strlen(prefix);
    if (strncmp(name, prefix, n) != 0 || name[n] != '.')
        return 0;
    *rest = name + n + 1;
    return 1;
}

/* rest = "<target>.<field>" where target may hold dots: the field is one of
 * fields (tried as suffixes). Returns the field index or -1; tgt gets the
 * target name. */
static int split_target(const char *rest, const char *const *fields, size_t nfields, char *tgt,
                        size_t tgt_size)
{
    size_t n = strlen(rest);
    for (size_t i = 0; i < nfields; i++) {
        size_t k = strlen(fields[i]);
        if (n > k + 1 && rest[n - k - 1] == '.' && strcmp(rest + n - k, fields[i]) == 0) {
            if (n - k - 1 >= tgt_size)
                return -1;
            memcpy(tgt, rest, n - k - 1);
            tgt[n - k - 1] = '\0';
            return (int)i;
        }
    }
    return -1;
}

static int value_out(double v, double *out)
{
    if (isnan(v))
        return LGC_ENODATA;
    *out = v;
    return 0;
}

static int lookup_queue(const struct lgc *l, const char *rest, int dlq, double *out)
{
    static const char *const qf[] = {"max_depth", "max_in_flight", "max_delayed",
                                     "max_age",   "last_depth",    "drain_s"};
    static const char *const df[] = {"max_depth", "last_depth"};
    char tgt[1100];
    int k = dlq ? split_target(rest, df, 2, tgt, sizeof tgt)
                : split_target(rest, qf, 6, tgt, sizeof tgt);
    if (k < 0)
        return CM_ENOTFOUND;
    for (size_t i = 0; i < l->nq; i++) {
        const struct lgc_queue *q = &l->q[i];
        if (dlq) {
            if (!q->dlq || strcmp(q->dlq, tgt) != 0)
                continue;
            return value_out(k == 0 ? q->dlq_max : q->dlq_last, out);
        }
        if (strcmp(q->name, tgt) != 0)
            continue;
        const double v[] = {q->max_visible, q->max_inflight, q->max_delayed,
                            q->max_age_s,   q->last_depth,   q->drain_s};
        return value_out(v[k], out);
    }
    return CM_ENOTFOUND;
}

static int lookup_function(const struct lgc *l, const char *rest, double *out)
{
    static const char *const ff[] = {"invocations", "errors", "throttles", "max_concurrency"};
    static const size_t off[] = {
        offsetof(struct lgc_function, invocations), offsetof(struct lgc_function, errors),
        offsetof(struct lgc_function, throttles), offsetof(struct lgc_function, max_conc)};
    for (size_t k = 0; k < 3; k++)
        if (strcmp(rest, ff[k]) == 0)
            return value_out(total_of(l, off[k]), out);
    char tgt[1100];
    int k = split_target(rest, ff, 4, tgt, sizeof tgt);
    if (k < 0)
        return CM_ENOTFOUND;
    for (size_t i = 0; i < l->nf; i++)
        if (strcmp(l->f[i].name, tgt) == 0)
            return value_out(*(const double *)((const char *)&l->f[i] + off[k]), out);
    return CM_ENOTFOUND;
}

static int lookup_cold(const struct lgc *l, const char *rest, double *out)
{
    static const char *const cf[] = {"count",       "rate",        "init_ms.p50",
                                     "init_ms.p90", "init_ms.p99", "init_ms.max"};
    static const double pct[] = {0, 0, 50, 90, 99, 100};
    int any = 0;
    if (strcmp(rest, "count") == 0 || strcmp(rest, "rate") == 0) {
        double c = cold_total(l, &any);
        if (!any)
            return LGC_ENODATA;
        if (rest[0] == 'c')
            return value_out(c, out);
        return value_out(rate(c, total_of(l, offsetof(struct lgc_function, invocations))), out);
    }
    char tgt[1100];
    int k = split_target(rest, cf, 6, tgt, sizeof tgt);
    if (k < 0)
        return CM_ENOTFOUND;
    for (size_t i = 0; i < l->nf; i++) {
        const struct lgc_function *f = &l->f[i];
        if (strcmp(f->name, tgt) != 0)
            continue;
        if (!f->logs_ok)
            return LGC_ENODATA;
        if (k == 0)
            return value_out((double)f->cold, out);
        if (k == 1)
            return value_out(rate((double)f->cold, f->invocations), out);
        return value_out(init_pct(f, pct[k]), out);
    }
    return CM_ENOTFOUND;
}

int lgc_metric(const struct lgc *l, const char *name, double *out)
{
    if (!l || !name || !out)
        return CM_EINVAL;
    const char *rest;
    int rc = CM_ENOTFOUND;
    pthread_mutex_lock(mu_of(l));
    if (match_prefix(name, "queues", &rest))
        rc = lookup_queue(l, rest, 0, out);
    else if (match_prefix(name, "dlq", &rest))
        rc = lookup_queue(l, rest, 1, out);
    else if (match_prefix(name, "functions", &rest))
        rc = lookup_function(l, rest, out);
    else if (match_prefix(name, "cold_starts", &rest))
        rc = lookup_cold(l, rest, out);
    pthread_mutex_unlock(mu_of(l));
    return rc;
}

/* ------------------------------------------------------------------ drain */

int lgc_wait_drained(struct lgc *l, int64_t timeout_ns, int64_t poll_ms, int64_t *drain_ns)
{
    if (l->running)
        return CM_ESTATE;
    if (!l->sqs)
        return CM_ESTATE;
    int64_t poll_ns = poll_ms > 0 ? poll_ms * CM_NS_PER_MS : l->interval_ns;
    int64_t t0 = cm_clock_mono_ns(), deadline = t0 + timeout_ns;
    int ok_once = 0, last_rc = 0;
    char code[128];
    for (;;) {
        int empty = 1, failed = 0;
        for (size_t i = 0; i < l->nq && !failed; i++) {
            struct lgc_queue *q = &l->q[i];
            double d[3];
            int rc = q->url ? 0 : lgc_sqs_queue_url(l->sqs, q->name, &q->url, code);
            if (!rc)
                rc = lgc_sqs_depth(l->sqs, q->url, d, code);
            if (rc) {
                lgc_note_error(l, "sqs", q->name, rc, code);
                last_rc = rc;
                failed = 1;
                break;
            }
            pthread_mutex_lock(&l->mu);
            lgc_record_queue(l, i, cm_clock_wall_ns() / CM_NS_PER_MS, d[0], d[1], d[2], NULL);
            pthread_mutex_unlock(&l->mu);
            empty &= d[0] + d[1] + d[2] == 0;
        }
        ok_once |= !failed;
        int64_t now = cm_clock_mono_ns();
        if (!failed && empty) {
            if (drain_ns)
                *drain_ns = now - t0;
            pthread_mutex_lock(&l->mu);
            for (size_t i = 0; i < l->nq; i++)
                l->q[i].drain_s = (double)(now - t0) / 1e9;
            pthread_mutex_unlock(&l->mu);
            return 0;
        }
        if (now + poll_ns > deadline)
            return ok_once ? CM_ETIMEDOUT : last_rc;
        cm_clock_sleep_ns(poll_ns);
    }
}
