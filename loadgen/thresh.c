/* thresh.c: threshold parser and evaluator (grammar in thresh.h). */
#include "thresh.h"

#include <stdlib.h>
#include <string.h>

#include "cm/clock.h"
#include "cm/err.h"
#include "cm/hist.h"
#include "cm/mem.h"
#include "cm/units.h"
#include "stats.h"

struct cur {
    const char *p, *s, *end;
};

static void skip_ws(struct cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

static size_t word(struct cur *c)
{
    const char *b = c->p;
    while (c->p < c->end && (((*c->p | 32) >= 'a' && (*c->p | 32) <= 'z') ||
                             (*c->p >= '0' && *c->p <= '9') || *c->p == '_' || *c->p == '-'))
        c->p++;
    return (size_t)(c->p - b);
}

static int eq(const char *p, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(p, lit, n) == 0;
}

#define FAIL(msg)                                                                                  \
    do {                                                                                           \
        *why = (msg);                                                                              \
        *at = (size_t)(c.p - c.s);                                                                 \
        return CM_EPARSE;                                                                          \
    } while (0)

static int parse_tags(struct cur *cp, struct lg_thresh_expr *e, const char **why, size_t *at)
{
    struct cur c = *cp;
    c.p++; /* '{' */
    for (;;) {
        skip_ws(&c);
        const char *k = c.p;
        size_t kl = word(&c);
        skip_ws(&c);
        if (!kl || c.p >= c.end || *c.p != ':')
            FAIL("expected tag:value inside { }");
        c.p++;
        skip_ws(&c);
        const char *v = c.p;
        while (c.p < c.end && *c.p != ',' && *c.p != '}')
            c.p++;
        size_t vl = (size_t)(c.p - v);
        while (vl && v[vl - 1] == ' ')
            vl--;
        if (eq(k, kl, "name")) {
            if (!vl || vl >= sizeof(e->ep_name))
                FAIL("endpoint name is empty or too long");
            memcpy(e->ep_name, v, vl);
            e->ep_name[vl] = 0;
        } else if (eq(k, kl, "status")) {
            if (vl != 3 || v[0] < '1' || v[0] > '5' || v[1] != 'x' || v[2] != 'x')
                FAIL("status tag must be 1xx..5xx");
            e->status_class = v[0] - '0';
        } else {
            FAIL("unknown tag (use name or status)");
        }
        if (c.p >= c.end)
            FAIL("missing }");
        if (*c.p++ == '}')
            break;
    }
    *cp = c;
    return 0;
}

/* "p99" -> 99, "p999" -> 99.9, "p50" -> 50, "p(99.5)" -> 99.5 */
static int parse_pct(const char *p, size_t n, double *out)
{
    if (n >= 3 && p[0] == 'p' && p[1] == '(' && p[n - 1] == ')') {
        char tmp[32];
        if (n - 3 >= sizeof(tmp))
            return -1;
        memcpy(tmp, p + 2, n - 3);
        tmp[n - 3] = 0;
        char *endp;
        *out = strtod(tmp, &endp);
        return (*endp || *out < 0 || *out > 100) ? -1 : 0;
    }
    if (n < 2 || p[0] != 'p')
        return -1;
    double v = 0, scale = 1;
    for (size_t i = 1; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        if (i <= 2)
            v = v * 10 + (p[i] - '0');
        else {
            scale /= 10;
            v += (p[i] - '0') * scale;
        }
    }
    if (n == 2)
        v *= 10; /* p9 -> 90 */
    if (n == 4 && p[1] == '1' && p[2] == '0' && p[3] == '0')
        v = 100;
    *out = v;
    return v > 100 ? -1 : 0;
}

static int parse_metric_name(struct cur *cp, struct lg_thresh_expr *e, int generator,
                             const char **why, size_t *at)
{
    struct cur c = *cp;
    const char *m = c.p;
    size_t ml = word(&c);
    if (generator) {
        if (eq(m, ml, "lag"))
            e->kind = LG_TK_LAG;
        else if (eq(m, ml, "queue_wait"))
            e->kind = LG_TK_QWAIT;
        else
            FAIL("generator metrics are lag and queue_wait");
    } else if (eq(m, ml, "rps")) {
        e->kind = LG_TK_RPS;
        *cp = c;
        return 0;
    } else {
        int found = 0;
        for (int k = 0; k < LG_H_COUNT && !found; k++)
            if (eq(m, ml, lg_hist_kind_name(k))) {
                e->kind = LG_TK_HIST;
                e->metric = k;
                found = 1;
            }
        for (int k = 0; k < LG_C_COUNT && !found; k++)
            if (eq(m, ml, lg_ctr_name(k))) {
                e->kind = LG_TK_CTR;
                e->metric = k;
                found = 1;
            }
        if (!found)
            FAIL("unknown metric (latency, latency_uncorrected, connect, ttfb, rps, requests, "
                 "errors, timeouts, connect_errors, status_5xx, ...)");
    }
    if (e->kind == LG_TK_CTR && e->status_class)
        FAIL("the status tag applies to latency only");
    if (c.p >= c.end || *c.p != '.')
        FAIL(e->kind == LG_TK_CTR ? "expected .count, .rate or .per_s"
                                  : "expected an aggregation like .p99, .mean or .max");
    c.p++;
    const char *a = c.p;
    if (c.p + 1 < c.end && c.p[0] == 'p' && c.p[1] == '(') {
        while (c.p < c.end && *c.p != ')')
            c.p++;
        if (c.p < c.end)
            c.p++;
    } else {
        word(&c);
    }
    size_t al = (size_t)(c.p - a);
    if (e->kind == LG_TK_CTR) {
        if (eq(a, al, "count"))
            e->agg = LG_AGG_COUNT;
        else if (eq(a, al, "rate"))
            e->agg = e->metric == LG_C_REQUESTS ? LG_AGG_PER_S : LG_AGG_RATE;
        else if (eq(a, al, "per_s"))
            e->agg = LG_AGG_PER_S;
        else
            FAIL("counter aggregations are count, rate and per_s");
    } else if (eq(a, al, "mean") || eq(a, al, "avg")) {
        e->agg = LG_AGG_MEAN;
    } else if (eq(a, al, "max")) {
        e->agg = LG_AGG_MAX;
    } else if (eq(a, al, "min")) {
        e->agg = LG_AGG_MIN;
    } else if (eq(a, al, "med")) {
        e->agg = LG_AGG_PCT;
        e->pct = 50;
    } else if (parse_pct(a, al, &e->pct) == 0) {
        e->agg = LG_AGG_PCT;
    } else {
        c.p = a;
        FAIL("histogram aggregations are pNN (p99, p999), p(99.5), mean, min, max, med");
    }
    *cp = c;
    return 0;
}

static int parse_op(struct cur *cp, enum lg_top *op)
{
    struct cur c = *cp;
    if (c.p >= c.end)
        return -1;
    char a = *c.p, b = c.p + 1 < c.end ? c.p[1] : 0;
    if (a == '<' && b == '=')
        *op = LG_OP_LE, c.p += 2;
    else if (a == '>' && b == '=')
        *op = LG_OP_GE, c.p += 2;
    else if (a == '=' && b == '=')
        *op = LG_OP_EQ, c.p += 2;
    else if (a == '<')
        *op = LG_OP_LT, c.p++;
    else if (a == '>')
        *op = LG_OP_GT, c.p++;
    else
        return -1;
    *cp = c;
    return 0;
}

static int parse_value(const char *v, size_t n, struct lg_thresh_expr *e, const char **why)
{
    int is_dur = e->kind == LG_TK_HIST || e->kind == LG_TK_LAG || e->kind == LG_TK_QWAIT;
    if (is_dur && e->agg != LG_AGG_COUNT) {
        int64_t ns;
        if (cm_units_duration_ns(v, n, CM_NS_PER_MS, &ns, why))
            return CM_EPARSE;
        e->value = (double)ns / 1000.0;
        return 0;
    }
    if (e->agg == LG_AGG_RATE)
        return cm_units_percent(v, n, &e->value, why) ? CM_EPARSE : 0;
    if (memchr(v, '/', n))
        return cm_units_rate_per_s(v, n, &e->value, why) ? CM_EPARSE : 0;
    uint64_t cnt;
    char tmp[64];
    if (n < sizeof(tmp)) {
        memcpy(tmp, v, n);
        tmp[n] = 0;
        char *endp;
        double d = strtod(tmp, &endp);
        if (endp != tmp && *endp == 0) {
            e->value = d;
            return 0;
        }
    }
    if (cm_units_count(v, n, &cnt, why))
        return CM_EPARSE;
    e->value = (double)cnt;
    return 0;
}

int lg_thresh_parse(const char *p, size_t n, struct lg_thresh_expr *e, const char **why, size_t *at)
{
    struct cur c = {p, p, p + n};
    memset(e, 0, sizeof(*e));
    e->ep = -1;
    skip_ws(&c);
    const char *mstart = c.p;
    const char *f = c.p;
    size_t fl = word(&c);
    int generator = eq(f, fl, "generator");
    if (!generator && !eq(f, fl, "http")) {
        c.p = f;
        FAIL("metric must start with http or generator");
    }
    if (c.p < c.end && *c.p == '{') {
        int rc = parse_tags(&c, e, why, at);
        if (rc)
            return rc;
        if (generator)
            FAIL("generator metrics take no tags");
    }
    if (c.p >= c.end || *c.p != '.')
        FAIL("expected . after the metric family");
    c.p++;
    int rc = parse_metric_name(&c, e, generator, why, at);
    if (rc)
        return rc;
    size_t ml = (size_t)(c.p - mstart);
    if (ml >= sizeof(e->metric_text))
        ml = sizeof(e->metric_text) - 1;
    memcpy(e->metric_text, mstart, ml);
    e->metric_text[ml] = 0;
    skip_ws(&c);
    if (parse_op(&c, &e->op))
        FAIL("expected a comparison: < <= > >= ==");
    skip_ws(&c);
    const char *v = c.p;
    size_t vl = (size_t)(c.end - v);
    while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
        vl--;
    if (!vl)
        FAIL("expected a value after the comparison");
    if (parse_value(v, vl, e, why)) {
        *at = (size_t)(v - p);
        return CM_EPARSE;
    }
    return 0;
}

int lg_thresh_resolve(struct lg_thresh_expr *e, const char *const *names, size_t n)
{
    e->ep = -1;
    if (!e->ep_name[0])
        return 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], e->ep_name) == 0) {
            e->ep = (int)i;
            return 0;
        }
    return CM_ENOTFOUND;
}

static double hist_value(const struct cm_hist *h, const struct lg_thresh_expr *e)
{
    switch (e->agg) {
    case LG_AGG_MEAN:
        return cm_hist_mean(h);
    case LG_AGG_MIN:
        return (double)cm_hist_min(h);
    case LG_AGG_MAX:
        return (double)cm_hist_max(h);
    case LG_AGG_COUNT:
        return (double)cm_hist_count(h);
    default:
        return (double)cm_hist_percentile(h, e->pct);
    }
}

static int compare(double v, enum lg_top op, double ref)
{
    switch (op) {
    case LG_OP_LT:
        return v < ref;
    case LG_OP_LE:
        return v <= ref;
    case LG_OP_GT:
        return v > ref;
    case LG_OP_GE:
        return v >= ref;
    case LG_OP_EQ:
        return v == ref;
    }
    return 0;
}

int lg_thresh_eval(const struct lg_thresh_expr *e, const struct lg_stats *s, double elapsed_s,
                   double *value, int *has_samples)
{
    const struct lg_mset *m = &s->ep[e->ep >= 0 && e->ep < s->n_ep ? e->ep : s->n_ep];
    const struct cm_hist *h = NULL;
    double v = 0;
    int have = 0;
    switch (e->kind) {
    case LG_TK_HIST:
        h = e->status_class ? s->by_class[e->status_class - 1] : m->h[e->metric];
        break;
    case LG_TK_LAG:
        h = s->sched_lag;
        break;
    case LG_TK_QWAIT:
        h = s->queue_wait;
        break;
    case LG_TK_RPS:
        have = m->c[LG_C_COMPLETED] > 0 && elapsed_s > 0;
        v = have ? (double)m->c[LG_C_COMPLETED] / elapsed_s : 0;
        break;
    case LG_TK_CTR: {
        int64_t cnt = m->c[e->metric];
        if (e->agg == LG_AGG_COUNT) {
            have = m->c[LG_C_REQUESTS] > 0;
            v = (double)cnt;
        } else if (e->agg == LG_AGG_PER_S) {
            have = m->c[LG_C_REQUESTS] > 0 && elapsed_s > 0;
            v = have ? (double)cnt / elapsed_s : 0;
        } else {
            have = m->c[LG_C_COMPLETED] > 0;
            v = have ? (double)cnt / (double)m->c[LG_C_COMPLETED] : 0;
        }
        break;
    }
    }
    if (h) {
        have = cm_hist_count(h) > 0;
        v = have ? hist_value(h, e) : 0;
    }
    *value = v;
    *has_samples = have;
    return have && compare(v, e->op, e->value);
}

const char *lg_thresh_op_text(enum lg_top op)
{
    static const char *const t[] = {"<", "<=", ">", ">=", "=="};
    return (unsigned)op < 5 ? t[op] : "?";
}
