/* emf.c: CloudWatch Embedded Metric Format documents (see rt.h). One metrics
 * context = one namespace, one dimension set, root-level properties and a
 * list of metrics, each with its values. Validation happens here because
 * CloudWatch drops invalid EMF silently (only the AWS/Logs EMFValidationErrors
 * metric shows it). Not an aggregator: values are shipped as recorded, up to
 * 100 per metric per document, which is what EMF itself aggregates. */
#include "rt.h"

#include "cm/clock.h"
#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"
#include "rt_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EMF_NAME_MAX      255  /* metric names, namespace */
#define EMF_DIM_NAME_MAX  250  /* dimension keys */
#define EMF_DIM_VALUE_MAX 1024 /* dimension values */

struct rt_metric {
    char *name;
    enum rt_unit unit;
    int resolution_s; /* 60 (standard) or 1 (high resolution) */
    double *values;
    size_t n_values, cap_values;
};

struct rt_pair {
    char *name;
    char *value;
};

struct rt_metrics {
    char *ns;
    int fd;
    struct rt_pair dims[RT_EMF_MAX_DIMENSIONS];
    size_t n_dims;
    struct rt_pair props[RT_METRICS_MAX_PROPERTIES];
    size_t n_props;
    struct rt_metric *metrics;
    size_t n_metrics, cap_metrics;
    size_t n_values; /* sum of metrics[].n_values */
};

static const char *const unit_names[RT_UNIT__COUNT] = {
    "None",
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
};

const char *rt_unit_name(enum rt_unit unit)
{
    return (int)unit >= 0 && unit < RT_UNIT__COUNT ? unit_names[unit] : "None";
}

int rt_unit_parse(const char *s, enum rt_unit *out)
{
    for (int i = 0; s && i < RT_UNIT__COUNT; i++) {
        if (strcmp(s, unit_names[i]) == 0) {
            *out = (enum rt_unit)i;
            return 0;
        }
    }
    return CM_EINVAL;
}

struct rt_metrics *rt_metrics_new(const char *ns, int out_fd)
{
    struct rt_metrics *m = cm_xcalloc(1, sizeof *m);
    m->ns = cm_xstrdup(ns ? ns : "");
    m->fd = out_fd;
    return m;
}

static void clear_metrics(struct rt_metrics *m)
{
    for (size_t i = 0; i < m->n_metrics; i++) {
        free(m->metrics[i].name);
        free(m->metrics[i].values);
    }
    m->n_metrics = 0;
    m->n_values = 0;
}

static void clear_pairs(struct rt_pair *p, size_t *n)
{
    for (size_t i = 0; i < *n; i++) {
        free(p[i].name);
        free(p[i].value);
    }
    *n = 0;
}

void rt_metrics_reset(struct rt_metrics *m)
{
    clear_metrics(m);
    clear_pairs(m->dims, &m->n_dims);
    clear_pairs(m->props, &m->n_props);
}

void rt_metrics_free(struct rt_metrics *m)
{
    if (!m)
        return;
    rt_metrics_reset(m);
    free(m->metrics);
    free(m->ns);
    free(m);
}

size_t rt_metrics_count(const struct rt_metrics *m)
{
    return m->n_metrics;
}

static struct rt_pair *find_pair(struct rt_pair *p, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(p[i].name, name) == 0)
            return &p[i];
    return NULL;
}

static struct rt_metric *find_metric(struct rt_metrics *m, const char *name)
{
    for (size_t i = 0; i < m->n_metrics; i++)
        if (strcmp(m->metrics[i].name, name) == 0)
            return &m->metrics[i];
    return NULL;
}

/* Every target is a root member of the document, so the three name spaces
 * (metrics, dimensions, properties) must not overlap, and "_aws" is taken. */
static int name_taken(struct rt_metrics *m, const char *name, int except_kind)
{
    if (strcmp(name, "_aws") == 0)
        return 1;
    return (except_kind != 0 && find_metric(m, name)) ||
           (except_kind != 1 && find_pair(m->dims, m->n_dims, name)) ||
           (except_kind != 2 && find_pair(m->props, m->n_props, name));
}

static int set_pair(struct rt_pair *p, size_t *n, size_t max, const char *name, const char *value)
{
    struct rt_pair *e = find_pair(p, *n, name);
    if (!e) {
        if (*n >= max)
            return CM_ETOOBIG;
        e = &p[(*n)++];
        e->name = cm_xstrdup(name);
        e->value = NULL;
    }
    free(e->value);
    e->value = cm_xstrdup(value);
    return 0;
}

int rt_metrics_add_dimension(struct rt_metrics *m, const char *name, const char *value)
{
    if (!name || !value || !*name || !*value || strlen(name) > EMF_DIM_NAME_MAX ||
        strlen(value) > EMF_DIM_VALUE_MAX || name_taken(m, name, 1))
        return CM_EINVAL;
    return set_pair(m->dims, &m->n_dims, RT_EMF_MAX_DIMENSIONS, name, value);
}

int rt_metrics_set_property(struct rt_metrics *m, const char *key, const char *value)
{
    if (!key || !value || !*key || strlen(key) > EMF_NAME_MAX || name_taken(m, key, 2))
        return CM_EINVAL;
    return set_pair(m->props, &m->n_props, RT_METRICS_MAX_PROPERTIES, key, value);
}

static int add_value(struct rt_metrics *m, const char *name, enum rt_unit unit, int res_s,
                     double value)
{
    if (!name || !*name || strlen(name) > EMF_NAME_MAX || !isfinite(value) || (int)unit < 0 ||
        unit >= RT_UNIT__COUNT || name_taken(m, name, 0))
        return CM_EINVAL;
    struct rt_metric *mt = find_metric(m, name);
    if (mt && (mt->unit != unit || mt->resolution_s != res_s))
        return CM_EINVAL;
    if ((!mt && m->n_metrics >= RT_METRICS_MAX_METRICS) || m->n_values >= RT_METRICS_MAX_VALUES) {
        if (m->fd < 0)
            return CM_ETOOBIG;
        int rc = rt_metrics_flush_fd(m);
        if (rc < 0)
            return rc;
        mt = NULL; /* the flush dropped every metric */
    }
    if (!mt) {
        if (m->n_metrics == m->cap_metrics) {
            m->cap_metrics = m->cap_metrics ? m->cap_metrics * 2 : 8;
            m->metrics = cm_xrealloc(m->metrics, m->cap_metrics * sizeof *m->metrics);
        }
        mt = &m->metrics[m->n_metrics++];
        *mt = (struct rt_metric){.name = cm_xstrdup(name), .unit = unit, .resolution_s = res_s};
    }
    if (mt->n_values == mt->cap_values) {
        mt->cap_values = mt->cap_values ? mt->cap_values * 2 : 4;
        mt->values = cm_xrealloc(mt->values, mt->cap_values * sizeof *mt->values);
    }
    mt->values[mt->n_values++] = value;
    m->n_values++;
    return 0;
}

int rt_metrics_add(struct rt_metrics *m, const char *name, enum rt_unit unit, double value)
{
    return add_value(m, name, unit, 60, value);
}

int rt_metrics_add_hr(struct rt_metrics *m, const char *name, enum rt_unit unit, double value)
{
    return add_value(m, name, unit, 1, value);
}

static int put_str(struct cm_buf *out, const char *s)
{
    return cm_json_append_string(out, s, strlen(s));
}

static int put_num(struct cm_buf *out, double v)
{
    if (v == floor(v) && fabs(v) < 9007199254740992.0)
        return cm_buf_printf(out, "%lld", (long long)v);
    return cm_buf_printf(out, "%.17g", v);
}

/* The _aws metadata of one document: the directive lists the metrics in
 * sel[0..n_sel). */
static int put_directive(const struct rt_metrics *m, int64_t now_ms, const size_t *sel,
                         size_t n_sel, struct cm_buf *out)
{
    int rc = cm_buf_printf(out, "{\"_aws\":{\"Timestamp\":%lld,\"CloudWatchMetrics\":[{",
                           (long long)now_ms);
    rc = rc ? rc : cm_buf_puts(out, "\"Namespace\":");
    rc = rc ? rc : put_str(out, m->ns);
    rc = rc ? rc : cm_buf_puts(out, ",\"Dimensions\":[[");
    for (size_t i = 0; i < m->n_dims && !rc; i++) {
        rc = i ? cm_buf_putc(out, ',') : 0;
        rc = rc ? rc : put_str(out, m->dims[i].name);
    }
    rc = rc ? rc : cm_buf_puts(out, "]],\"Metrics\":[");
    for (size_t i = 0; i < n_sel && !rc; i++) {
        const struct rt_metric *mt = &m->metrics[sel[i]];
        rc = cm_buf_puts(out, i ? ",{\"Name\":" : "{\"Name\":");
        rc = rc ? rc : put_str(out, mt->name);
        rc = rc ? rc : cm_buf_printf(out, ",\"Unit\":\"%s\"", rt_unit_name(mt->unit));
        if (!rc && mt->resolution_s == 1)
            rc = cm_buf_puts(out, ",\"StorageResolution\":1");
        rc = rc ? rc : cm_buf_putc(out, '}');
    }
    return rc ? rc : cm_buf_puts(out, "]}]}");
}

static int put_pairs(const struct rt_pair *p, size_t n, struct cm_buf *out)
{
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        rc = cm_buf_putc(out, ',');
        rc = rc ? rc : put_str(out, p[i].name);
        rc = rc ? rc : cm_buf_putc(out, ':');
        rc = rc ? rc : put_str(out, p[i].value);
    }
    return rc;
}

/* Values off[k] .. off[k]+take-1 of each selected metric, as a number when
 * one value is sent, else an array. */
static int put_values(const struct rt_metrics *m, const size_t *sel, size_t n_sel,
                      const size_t *off, struct cm_buf *out)
{
    int rc = 0;
    for (size_t i = 0; i < n_sel && !rc; i++) {
        const struct rt_metric *mt = &m->metrics[sel[i]];
        size_t from = off[sel[i]], left = mt->n_values - from;
        size_t take = left < RT_EMF_MAX_VALUES_PER_DOC ? left : RT_EMF_MAX_VALUES_PER_DOC;
        rc = cm_buf_putc(out, ',');
        rc = rc ? rc : put_str(out, mt->name);
        rc = rc ? rc : cm_buf_putc(out, ':');
        if (take == 1) {
            rc = rc ? rc : put_num(out, mt->values[from]);
            continue;
        }
        rc = rc ? rc : cm_buf_putc(out, '[');
        for (size_t j = 0; j < take && !rc; j++) {
            rc = j ? cm_buf_putc(out, ',') : 0;
            rc = rc ? rc : put_num(out, mt->values[from + j]);
        }
        rc = rc ? rc : cm_buf_putc(out, ']');
    }
    return rc;
}

int rt_metrics_flush(struct rt_metrics *m, int64_t now_ms, struct cm_buf *out)
{
    size_t nslen = strlen(m->ns);
    if (nslen == 0 || nslen > EMF_NAME_MAX)
        return CM_EINVAL;
    if (m->n_metrics == 0)
        return 0;
    size_t start = out->len;
    size_t *off = cm_xcalloc(m->n_metrics, sizeof *off);
    size_t *sel = cm_xcalloc(RT_EMF_MAX_METRICS_PER_DOC, sizeof *sel);
    int rc = 0, docs = 0;
    /* Each pass takes the next (up to) 100 metrics that still have values
     * to send and (up to) 100 values of each; a metric with v values thus
     * spans ceil(v/100) documents. Every pass sends at least one value, so
     * there are at most n_values passes. */
    for (;;) {
        size_t n_sel = 0;
        for (size_t i = 0; i < m->n_metrics && n_sel < RT_EMF_MAX_METRICS_PER_DOC; i++)
            if (off[i] < m->metrics[i].n_values)
                sel[n_sel++] = i;
        if (n_sel == 0)
            break;
        rc = put_directive(m, now_ms, sel, n_sel, out);
        rc = rc ? rc : put_pairs(m->dims, m->n_dims, out);
        rc = rc ? rc : put_pairs(m->props, m->n_props, out);
        rc = rc ? rc : put_values(m, sel, n_sel, off, out);
        rc = rc ? rc : cm_buf_puts(out, "}\n");
        if (rc)
            break;
        for (size_t i = 0; i < n_sel; i++) {
            size_t left = m->metrics[sel[i]].n_values - off[sel[i]];
            off[sel[i]] += left < RT_EMF_MAX_VALUES_PER_DOC ? left : RT_EMF_MAX_VALUES_PER_DOC;
        }
        docs++;
    }
    free(off);
    free(sel);
    if (rc) {
        out->len = start; /* all or nothing: keep the metrics for a retry */
        if (out->data)
            out->data[start] = '\0';
        return rc;
    }
    clear_metrics(m);
    return docs;
}

int rt_metrics_flush_fd(struct rt_metrics *m)
{
    struct cm_buf out;
    cm_buf_init(&out, 0);
    int rc = rt_metrics_flush(m, cm_clock_wall_ns() / CM_NS_PER_MS, &out);
    if (rc > 0)
        rt_write_all(m->fd >= 0 ? m->fd : 1, out.data, out.len);
    cm_buf_deinit(&out);
    return rc;
}

int rt_metrics_cold_start_doc(const char *ns, const char *function_name, const char *service,
                              int64_t now_ms, struct cm_buf *out)
{
    struct rt_metrics *m = rt_metrics_new(ns, -1);
    int rc = rt_metrics_add_dimension(m, "function_name", function_name ? function_name : "");
    rc = rc ? rc : rt_metrics_add_dimension(m, "service", service ? service : "");
    rc = rc ? rc : rt_metrics_add(m, "ColdStart", RT_UNIT_COUNT, 1);
    rc = rc ? rc : rt_metrics_flush(m, now_ms, out);
    rt_metrics_free(m);
    return rc < 0 ? rc : 0;
}
