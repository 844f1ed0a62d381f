/* sd_cw.c: CloudWatch metrics for stackd (see sd_cw.h).
 *
 * Protocols, both on POST /:
 *  - awsQuery: Content-Type application/x-www-form-urlencoded, body
 *    "Action=<Op>&Version=2010-08-01&..." (lists as Name.member.N); answers
 *    text/xml <OpResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">
 *    with <OpResult> and <ResponseMetadata><RequestId>; errors
 *    <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>.
 *  - awsJson1_0: X-Amz-Target GraniteServiceVersion20100801.<Op>, JSON
 *    members named as in the model, timestamps epoch seconds; errors carry
 *    x-amzn-query-error: <Code>;Sender (the client is awsQueryCompatible) and
 *    {"__type":"com.amazonaws.cloudwatch#<Shape>","message":..}.
 *  Either body may be Content-Encoding: gzip (the JS SDK compresses
 *  PutMetricData >= 10 KiB).
 *
 * Buckets hold samples as (value, count) pairs while there are few of them,
 * then in a histogram of round(value * 1000) over [1, 1e15]: values below
 * 0.0005 count as 0, values above 1e12 are clamped, and every percentile is
 * finally clamped into [min, max] of the exact statistics. */
#include "sd_cw.h"

#include "cm/buf.h"
#include "cm/clock.h"
#include "cm/corr.h"
#include "cm/err.h"
#include "cm/hist.h"
#include "cm/json.h"
#include "cm/mem.h"
#include "cm/query.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#define CW_XMLNS        "http://monitoring.amazonaws.com/doc/2010-08-01/"
#define CW_TARGET       "GraniteServiceVersion20100801."
#define CW_JSON_CT      "application/x-amz-json-1.0"
#define CW_SCALE        1000.0
#define CW_HIST_HIGHEST 1000000000000000LL
#define CW_RAW_MAX      64   /* exact (value, count) pairs per bucket before a histogram */
#define CW_AGG_RAW_MAX  4096 /* exact pairs in a query aggregate before a histogram */
#define CW_MAX_BODY     (8u << 20)
#define CW_MAX_DATUMS   1000
#define CW_MAX_VALUES   150
#define CW_MAX_QUERIES  500
#define CW_MAX_POINTS   100800
#define CW_MAX_NAME     255

struct cw_pair {
    double v;
    double c;
};

struct cw_bucket {
    int64_t start_ms;
    int32_t width_ms; /* 1000 (high resolution) or 60000 */
    int neg;          /* a negative sample was seen: no percentiles (as CloudWatch) */
    int no_pct;       /* statistic sets without a distribution were added */
    double count, sum, min, max;
    struct cw_pair *raw; /* n_raw pairs, NULL once h exists */
    int n_raw;
    struct cm_hist *h;
};

struct cw_metric {
    char *key; /* ns \x1f name \x1f d1=v1 \x1f ...: the identity */
    char *ns, *name;
    int n_dims;
    char **dn, **dv; /* sorted by name */
    char unit[24];
    struct cw_bucket *b; /* sorted by (start_ms, width_ms) */
    size_t nb, capb;
};

struct sd_cw {
    struct sd_cw_config cfg;
    struct cw_metric **m;
    size_t nm, capm;
    size_t *slots; /* open addressing: index + 1 into m, 0 empty */
    size_t nslots; /* power of two, >= 2 * nm */
    size_t bytes;
    int64_t newest_ms;     /* newest sample time seen (bounded steps): retention reference */
    int64_t wall_hint_ms;  /* wall clock of the latest request handled, 0 before */
    int64_t last_sweep_ms; /* newest_ms at the last retention sweep */
    uint64_t emf_errors;
};

static const char *const cw_units[] = {
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
    "None",
};

static int valid_unit(const char *u)
{
    for (size_t i = 0; i < sizeof cw_units / sizeof cw_units[0]; i++)
        if (strcmp(u, cw_units[i]) == 0)
            return 1;
    return 0;
}

struct sd_cw *sd_cw_new(const struct sd_cw_config *cfg)
{
    struct sd_cw *cw = cm_xcalloc(1, sizeof *cw);
    if (cfg)
        cw->cfg = *cfg;
    if (cw->cfg.retention_ms <= 0)
        cw->cfg.retention_ms = 3LL * 3600 * 1000;
    if (!cw->cfg.max_bytes)
        cw->cfg.max_bytes = (size_t)64 << 20;
    if (!cw->cfg.max_metrics)
        cw->cfg.max_metrics = 10000;
    if (cw->cfg.sig_digits < 1 || cw->cfg.sig_digits > 3)
        cw->cfg.sig_digits = 2;
    cw->nslots = 64;
    cw->slots = cm_xcalloc(cw->nslots, sizeof *cw->slots);
    cw->newest_ms = INT64_MIN;
    return cw;
}

static void bucket_deinit(struct cw_bucket *b)
{
    free(b->raw);
    cm_hist_free(b->h);
}

static void metric_free(struct cw_metric *m)
{
    for (size_t i = 0; i < m->nb; i++)
        bucket_deinit(&m->b[i]);
    free(m->b);
    for (int i = 0; i < m->n_dims; i++) {
        free(m->dn[i]);
        free(m->dv[i]);
    }
    free(m->dn);
    free(m->dv);
    free(m->key);
    free(m->ns);
    free(m->name);
    free(m);
}

void sd_cw_free(struct sd_cw *cw)
{
    if (!cw)
        return;
    for (size_t i = 0; i < cw->nm; i++)
        metric_free(cw->m[i]);
    free(cw->m);
    free(cw->slots);
    free(cw);
}

size_t sd_cw_metric_count(const struct sd_cw *cw)
{
    return cw->nm;
}

size_t sd_cw_bytes(const struct sd_cw *cw)
{
    return cw->bytes;
}

uint64_t sd_cw_emf_errors(const struct sd_cw *cw)
{
    return cw->emf_errors;
}

/* ---- identity and lookup ---------------------------------------------------- */

/* The identity key, built on the stack for the common short case: the hot
 * path (one lookup per sample) then never allocates. */
struct keybuf {
    char small[512];
    char *p; /* small or heap */
    size_t len, cap;
};

static void kb_init(struct keybuf *k)
{
    k->p = k->small;
    k->len = 0;
    k->cap = sizeof k->small;
    k->small[0] = '\0';
}

static void kb_deinit(struct keybuf *k)
{
    if (k->p != k->small)
        free(k->p);
}

static void kb_put(struct keybuf *k, char sep, const char *s)
{
    size_t n = strlen(s);
    if (k->len + n + 2 > k->cap) {
        size_t cap = (k->len + n + 2) * 2;
        if (k->p == k->small) {
            k->p = cm_xmalloc(cap);
            memcpy(k->p, k->small, k->len + 1);
        } else {
            k->p = cm_xrealloc(k->p, cap);
        }
        k->cap = cap;
    }
    if (sep)
        k->p[k->len++] = sep;
    memcpy(k->p + k->len, s, n + 1);
    k->len += n;
}

/* Builds the identity key into k; dims are sorted into sorted[] (insertion
 * sort: at most 30 of them). */
static int metric_key(struct keybuf *k, const char *ns, const char *name, const struct sd_dim *dims,
                      int n_dims, struct sd_dim *sorted)
{
    if (!ns || !*ns || !name || !*name || n_dims < 0 || n_dims > SD_CW_MAX_DIMS)
        return CM_EINVAL;
    for (int i = 0; i < n_dims; i++) {
        if (!dims[i].name || !*dims[i].name || !dims[i].value || !*dims[i].value)
            return CM_EINVAL;
        int j = i;
        while (j > 0 && strcmp(sorted[j - 1].name, dims[i].name) > 0) {
            sorted[j] = sorted[j - 1];
            j--;
        }
        sorted[j] = dims[i];
    }
    kb_put(k, 0, ns);
    kb_put(k, '\x1f', name);
    for (int i = 0; i < n_dims; i++) {
        if (i > 0 && strcmp(sorted[i].name, sorted[i - 1].name) == 0)
            return CM_EINVAL;
        kb_put(k, '\x1f', sorted[i].name);
        kb_put(k, '=', sorted[i].value);
    }
    return 0;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

static size_t *slot_for(const struct sd_cw *cw, const char *key)
{
    size_t mask = cw->nslots - 1, i = (size_t)hash_str(key) & mask;
    while (cw->slots[i] && strcmp(cw->m[cw->slots[i] - 1]->key, key) != 0)
        i = (i + 1) & mask;
    return &cw->slots[i];
}

static void rehash(struct sd_cw *cw)
{
    free(cw->slots);
    cw->nslots *= 2;
    cw->slots = cm_xcalloc(cw->nslots, sizeof *cw->slots);
    for (size_t i = 0; i < cw->nm; i++)
        *slot_for(cw, cw->m[i]->key) = i + 1;
}

static struct cw_metric *metric_find(const struct sd_cw *cw, const char *key)
{
    size_t s = *slot_for(cw, key);
    return s ? cw->m[s - 1] : NULL;
}

/* Finds or creates. *out NULL on error (CM_EINVAL, CM_ETOOBIG). */
static int metric_get(struct sd_cw *cw, const char *ns, const char *name, const struct sd_dim *dims,
                      int n_dims, const char *unit, int create, struct cw_metric **out)
{
    struct sd_dim sorted[SD_CW_MAX_DIMS];
    struct keybuf k;
    kb_init(&k);
    *out = NULL;
    int rc = metric_key(&k, ns, name, dims, n_dims, sorted);
    if (rc)
        goto out;
    *out = metric_find(cw, k.p);
    if (*out || !create)
        goto out;
    if (cw->nm >= cw->cfg.max_metrics) {
        rc = CM_ETOOBIG;
        goto out;
    }
    struct cw_metric *m = cm_xcalloc(1, sizeof *m);
    m->key = cm_xstrndup(k.p, k.len);
    m->ns = cm_xstrdup(ns);
    m->name = cm_xstrdup(name);
    m->n_dims = n_dims;
    m->dn = cm_xcalloc((size_t)n_dims + 1, sizeof *m->dn);
    m->dv = cm_xcalloc((size_t)n_dims + 1, sizeof *m->dv);
    for (int i = 0; i < n_dims; i++) {
        m->dn[i] = cm_xstrdup(sorted[i].name);
        m->dv[i] = cm_xstrdup(sorted[i].value);
    }
    cm_strlcpy(m->unit, unit && *unit ? unit : "None", sizeof m->unit);
    if (cw->nm == cw->capm) {
        cw->capm = cw->capm ? cw->capm * 2 : 16;
        cw->m = cm_xrealloc(cw->m, cw->capm * sizeof *cw->m);
    }
    cw->m[cw->nm++] = m;
    if (cw->nm * 2 > cw->nslots)
        rehash(cw);
    else
        *slot_for(cw, m->key) = cw->nm;
    *out = m;
out:
    kb_deinit(&k);
    return rc;
}

/* ---- buckets ------------------------------------------------------------------ */

static size_t bucket_bytes(const struct cw_bucket *b)
{
    return sizeof *b + (b->raw ? CW_RAW_MAX * sizeof *b->raw : 0) +
           (b->h ? cm_hist_footprint(b->h) : 0);
}

static struct cm_hist *hist_new(const struct sd_cw *cw)
{
    struct cm_hist *h = NULL;
    int rc = cm_hist_new(1, CW_HIST_HIGHEST, cw->cfg.sig_digits, &h);
    (void)rc;
    return h;
}

static int64_t scaled(double v)
{
    double s = v * CW_SCALE;
    if (s < 0.5)
        return 0;
    if (s >= (double)CW_HIST_HIGHEST)
        return CW_HIST_HIGHEST;
    return llround(s);
}

static int64_t weight(double c)
{
    if (!(c < 1e12))
        return 1000000000000LL; /* a bound, so histogram totals cannot overflow */
    int64_t n = llround(c);
    return n < 1 ? 1 : n;
}

static void hist_put(struct cm_hist *h, double v, double c)
{
    cm_hist_record_n(h, scaled(v), weight(c));
}

/* Drops bucket i of m. */
static void bucket_remove(struct sd_cw *cw, struct cw_metric *m, size_t i)
{
    cw->bytes -= bucket_bytes(&m->b[i]);
    bucket_deinit(&m->b[i]);
    memmove(m->b + i, m->b + i + 1, (m->nb - i - 1) * sizeof *m->b);
    m->nb--;
}

static void trim_metric(struct sd_cw *cw, struct cw_metric *m, int64_t cutoff)
{
    size_t k = 0;
    while (k < m->nb && m->b[k].start_ms < cutoff)
        k++;
    if (k == 0)
        return;
    for (size_t i = 0; i < k; i++) {
        cw->bytes -= bucket_bytes(&m->b[i]);
        bucket_deinit(&m->b[i]);
    }
    memmove(m->b, m->b + k, (m->nb - k) * sizeof *m->b);
    m->nb -= k;
}

/* Memory cap: drop the oldest buckets store-wide until under 90% of it. */
static void evict_memory(struct sd_cw *cw)
{
    size_t target = cw->cfg.max_bytes / 10 * 9;
    while (cw->bytes > target) {
        struct cw_metric *best = NULL;
        for (size_t i = 0; i < cw->nm; i++) {
            struct cw_metric *m = cw->m[i];
            if (m->nb && (!best || m->b[0].start_ms < best->b[0].start_ms))
                best = m;
        }
        if (!best)
            break;
        bucket_remove(cw, best, 0);
    }
}

static struct cw_bucket *bucket_get(struct sd_cw *cw, struct cw_metric *m, int64_t start,
                                    int32_t width)
{
    size_t lo = 0, hi = m->nb;
    if (m->nb && m->b[m->nb - 1].start_ms <= start)
        lo = m->nb - 1; /* the common case: the newest bucket or a new one after it */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct cw_bucket *b = &m->b[mid];
        if (b->start_ms < start || (b->start_ms == start && b->width_ms < width))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < m->nb && m->b[lo].start_ms == start && m->b[lo].width_ms == width)
        return &m->b[lo];
    if (m->nb == m->capb) {
        m->capb = m->capb ? m->capb * 2 : 8;
        m->b = cm_xrealloc(m->b, m->capb * sizeof *m->b);
    }
    memmove(m->b + lo + 1, m->b + lo, (m->nb - lo) * sizeof *m->b);
    m->nb++;
    struct cw_bucket *b = &m->b[lo];
    memset(b, 0, sizeof *b);
    b->start_ms = start;
    b->width_ms = width;
    b->min = INFINITY;
    b->max = -INFINITY;
    cw->bytes += bucket_bytes(b);
    return b;
}

static void bucket_add_sample(struct sd_cw *cw, struct cw_bucket *b, double v, double c)
{
    b->count += c;
    b->sum += v * c;
    b->min = v < b->min ? v : b->min;
    b->max = v > b->max ? v : b->max;
    b->neg |= v < 0;
    if (b->h) {
        hist_put(b->h, v, c);
        return;
    }
    for (int i = 0; i < b->n_raw; i++) {
        if (b->raw[i].v == v) {
            b->raw[i].c += c;
            return;
        }
    }
    if (!b->raw) {
        b->raw = cm_xmalloc(CW_RAW_MAX * sizeof *b->raw);
        cw->bytes += CW_RAW_MAX * sizeof *b->raw;
    }
    if (b->n_raw < CW_RAW_MAX) {
        b->raw[b->n_raw].v = v;
        b->raw[b->n_raw++].c = c;
        return;
    }
    /* Past the exact budget: move everything into a histogram. */
    b->h = hist_new(cw);
    for (int i = 0; i < b->n_raw; i++)
        hist_put(b->h, b->raw[i].v, b->raw[i].c);
    hist_put(b->h, v, c);
    free(b->raw);
    b->raw = NULL;
    b->n_raw = 0;
    cw->bytes += cm_hist_footprint(b->h);
    cw->bytes -= CW_RAW_MAX * sizeof *b->raw;
}

/* Common front of every write: retention window and bucket choice. */
static struct cw_bucket *bucket_for(struct sd_cw *cw, struct cw_metric *m, int64_t ts_ms,
                                    int storage_res)
{
    /* The retention reference follows the samples, but one sample moves it
     * at most 5 minutes past what was seen (samples or request clocks), so
     * a single far-future timestamp cannot age everything out; a lagging
     * reference only keeps data longer, and max_bytes still bounds it. */
    if (cw->newest_ms == INT64_MIN) {
        cw->newest_ms = ts_ms;
    } else if (ts_ms > cw->newest_ms) {
        int64_t base = cw->newest_ms > cw->wall_hint_ms ? cw->newest_ms : cw->wall_hint_ms;
        cw->newest_ms = ts_ms < base + 300000 ? ts_ms : base + 300000;
    }
    int64_t cutoff = cw->newest_ms - cw->cfg.retention_ms;
    if (ts_ms < cutoff)
        return NULL;
    if (cw->newest_ms - cw->last_sweep_ms > 60000) {
        for (size_t i = 0; i < cw->nm; i++)
            trim_metric(cw, cw->m[i], cutoff);
        cw->last_sweep_ms = cw->newest_ms;
    }
    int32_t width = storage_res == 1 ? 1000 : 60000;
    int64_t start = ts_ms - ((ts_ms % width) + width) % width;
    return bucket_get(cw, m, start, width);
}

int sd_cw_record_n(struct sd_cw *cw, const char *ns, const char *name, const struct sd_dim *dims,
                   int n_dims, double value, double count, const char *unit, int storage_res,
                   int64_t ts_ms)
{
    if (!isfinite(value) || !isfinite(count) || count <= 0 || (unit && !valid_unit(unit)))
        return CM_EINVAL;
    struct cw_metric *m;
    int rc = metric_get(cw, ns, name, dims, n_dims, unit, 1, &m);
    if (rc)
        return rc;
    struct cw_bucket *b = bucket_for(cw, m, ts_ms, storage_res);
    if (!b)
        return CM_ERANGE;
    bucket_add_sample(cw, b, value, count);
    if (cw->bytes > cw->cfg.max_bytes)
        evict_memory(cw);
    return 0;
}

int sd_cw_record(struct sd_cw *cw, const char *ns, const char *name, const struct sd_dim *dims,
                 int n_dims, double value, const char *unit, int64_t ts_ms)
{
    return sd_cw_record_n(cw, ns, name, dims, n_dims, value, 1.0, unit, 60, ts_ms);
}

/* A statistic set (PutMetricData StatisticValues). Percentiles stay
 * available only when the set is one value repeated (min == max). */
static int record_stats(struct sd_cw *cw, struct cw_metric *m, int64_t ts_ms, int res, double cnt,
                        double sum, double mn, double mx)
{
    struct cw_bucket *b = bucket_for(cw, m, ts_ms, res);
    if (!b)
        return CM_ERANGE;
    if (mn == mx) {
        bucket_add_sample(cw, b, mn, cnt);
        return 0;
    }
    b->count += cnt;
    b->sum += sum;
    b->min = mn < b->min ? mn : b->min;
    b->max = mx > b->max ? mx : b->max;
    b->neg |= mn < 0;
    b->no_pct = 1;
    return 0;
}

/* ---- statistics ----------------------------------------------------------------- */

enum { S_COUNT, S_SUM, S_AVG, S_MIN, S_MAX, S_PCT };

struct cw_stat {
    int kind;
    double p; /* S_PCT: percentile in [0, 100] */
};

static int stat_parse(const char *s, struct cw_stat *st)
{
    static const struct {
        const char *name;
        int kind;
    } names[] = {{"SampleCount", S_COUNT},
                 {"Sum", S_SUM},
                 {"Average", S_AVG},
                 {"Minimum", S_MIN},
                 {"Maximum", S_MAX}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i].name) == 0) {
            st->kind = names[i].kind;
            st->p = 0;
            return 0;
        }
    }
    if ((s[0] != 'p' && s[0] != 'P') || !isdigit((unsigned char)s[1]) || strlen(s) > 12)
        return CM_EINVAL;
    char *end;
    double p = strtod(s + 1, &end);
    if (*end || !(p >= 0 && p <= 100))
        return CM_EINVAL;
    st->kind = S_PCT;
    st->p = p;
    return 0;
}

/* Samples of several buckets merged for one window. */
struct cw_agg {
    const struct sd_cw *cw;
    double count, sum, min, max;
    int neg, no_pct;
    struct cw_pair *raw;
    int n_raw, cap_raw;
    struct cm_hist *h;
    int raw_in_h; /* raw pairs were already recorded into h */
};

static void agg_init(struct cw_agg *a, const struct sd_cw *cw)
{
    memset(a, 0, sizeof *a);
    a->cw = cw;
    a->min = INFINITY;
    a->max = -INFINITY;
}

static void agg_reset(struct cw_agg *a)
{
    free(a->raw);
    cm_hist_free(a->h);
    agg_init(a, a->cw);
}

static void agg_spill(struct cw_agg *a)
{
    if (!a->h)
        a->h = hist_new(a->cw);
    for (int i = 0; i < a->n_raw; i++)
        hist_put(a->h, a->raw[i].v, a->raw[i].c);
    a->n_raw = 0;
}

static void agg_add(struct cw_agg *a, const struct cw_bucket *b)
{
    a->count += b->count;
    a->sum += b->sum;
    a->min = b->min < a->min ? b->min : a->min;
    a->max = b->max > a->max ? b->max : a->max;
    a->neg |= b->neg;
    a->no_pct |= b->no_pct;
    if (b->h) {
        if (!a->h)
            a->h = hist_new(a->cw);
        cm_hist_add(a->h, b->h);
    }
    for (int i = 0; i < b->n_raw; i++) {
        if (a->n_raw == a->cap_raw) {
            a->cap_raw = a->cap_raw ? a->cap_raw * 2 : 64;
            a->raw = cm_xrealloc(a->raw, (size_t)a->cap_raw * sizeof *a->raw);
        }
        a->raw[a->n_raw++] = b->raw[i];
    }
    if (a->n_raw > CW_AGG_RAW_MAX)
        agg_spill(a);
}

static int pair_cmp(const void *x, const void *y)
{
    double a = ((const struct cw_pair *)x)->v, b = ((const struct cw_pair *)y)->v;
    return a < b ? -1 : a > b;
}

/* Nearest-rank percentile: the smallest value v with at least p% of the
 * samples <= v. With a histogram the same rank is answered by cm_hist
 * (within its relative precision), then clamped into [min, max]. */
static double agg_percentile(struct cw_agg *a, double p)
{
    double v;
    if (a->h) {
        if (a->n_raw)
            agg_spill(a);
        v = (double)cm_hist_percentile(a->h, p) / CW_SCALE;
    } else {
        qsort(a->raw, (size_t)a->n_raw, sizeof *a->raw, pair_cmp);
        double total = 0, cum = 0, target;
        for (int i = 0; i < a->n_raw; i++)
            total += a->raw[i].c;
        target = p / 100.0 * total;
        v = a->n_raw ? a->raw[a->n_raw - 1].v : 0;
        for (int i = 0; i < a->n_raw; i++) {
            cum += a->raw[i].c;
            if (cum >= target - 1e-9 * total) {
                v = a->raw[i].v;
                break;
            }
        }
    }
    return v < a->min ? a->min : v > a->max ? a->max : v;
}

/* 1 with *out, 0 when unavailable. */
static int agg_stat(struct cw_agg *a, const struct cw_stat *st, double *out)
{
    if (a->count <= 0)
        return 0;
    switch (st->kind) {
    case S_COUNT:
        *out = a->count;
        return 1;
    case S_SUM:
        *out = a->sum;
        return 1;
    case S_AVG:
        *out = a->sum / a->count;
        return 1;
    case S_MIN:
        *out = a->min;
        return 1;
    case S_MAX:
        *out = a->max;
        return 1;
    default:
        if (a->neg || a->no_pct)
            return 0;
        *out = agg_percentile(a, st->p);
        return 1;
    }
}

/* Calls fn for every window [origin + k*period, +period) of [start, end)
 * that holds data; the origin is start rounded down to min(period, 60 s). */
typedef void (*cw_window_fn)(void *ctx, int64_t ts_ms, struct cw_agg *a);

static void metric_windows(const struct sd_cw *cw, const struct cw_metric *m, int64_t start,
                           int64_t end, int64_t period_ms, cw_window_fn fn, void *ctx)
{
    int64_t g = period_ms < 60000 ? period_ms : 60000;
    int64_t origin = start - ((start % g) + g) % g;
    struct cw_agg a;
    agg_init(&a, cw);
    int64_t cur = -1;
    for (size_t i = 0; i < m->nb; i++) {
        const struct cw_bucket *b = &m->b[i];
        if (b->start_ms < origin || b->start_ms >= end)
            continue;
        int64_t w = (b->start_ms - origin) / period_ms;
        if (w != cur && cur >= 0) {
            fn(ctx, origin + cur * period_ms, &a);
            agg_reset(&a);
        }
        cur = w;
        agg_add(&a, b);
    }
    if (cur >= 0)
        fn(ctx, origin + cur * period_ms, &a);
    agg_reset(&a);
}

struct one_stat {
    const struct cw_stat *st;
    double v;
    int have;
};

static void one_stat_fn(void *ctx, int64_t ts_ms, struct cw_agg *a)
{
    struct one_stat *o = ctx;
    (void)ts_ms;
    o->have = agg_stat(a, o->st, &o->v);
}

int sd_cw_stat(struct sd_cw *cw, const char *ns, const char *name, const struct sd_dim *dims,
               int n_dims, int64_t start_ms, int64_t end_ms, const char *stat, double *out)
{
    struct cw_stat st;
    if (stat_parse(stat, &st))
        return CM_EINVAL;
    struct cw_metric *m;
    if (metric_get(cw, ns, name, dims, n_dims, NULL, 0, &m) || !m || end_ms <= start_ms)
        return 0;
    /* One window covering the whole range: period = range, origin = start. */
    struct one_stat o = {&st, 0, 0};
    struct cw_agg a;
    agg_init(&a, cw);
    for (size_t i = 0; i < m->nb; i++)
        if (m->b[i].start_ms >= start_ms && m->b[i].start_ms < end_ms)
            agg_add(&a, &m->b[i]);
    one_stat_fn(&o, start_ms, &a);
    agg_reset(&a);
    if (o.have)
        *out = o.v;
    return o.have;
}

/* ---- EMF ------------------------------------------------------------------------- */

/* Checks one directive; 0 or CM_EINVAL. */
static int emf_check_directive(const cJSON *root, const cJSON *d)
{
    const char *ns = cm_json_str(d, "Namespace", NULL);
    const cJSON *dims = cJSON_GetObjectItemCaseSensitive(d, "Dimensions");
    const cJSON *mets = cJSON_GetObjectItemCaseSensitive(d, "Metrics");
    if (!ns || !*ns || strlen(ns) > 1024 || !cJSON_IsArray(dims) || !cJSON_IsArray(mets) ||
        cJSON_GetArraySize(mets) > 100)
        return CM_EINVAL;
    const cJSON *set, *key, *met;
    cJSON_ArrayForEach(set, dims)
    {
        if (!cJSON_IsArray(set) || cJSON_GetArraySize(set) > SD_CW_MAX_DIMS)
            return CM_EINVAL;
        cJSON_ArrayForEach(key, set)
        {
            if (!cJSON_IsString(key) || !*key->valuestring || strlen(key->valuestring) > 250)
                return CM_EINVAL;
            const char *v = cm_json_str(root, key->valuestring, NULL);
            if (!v || !*v || strlen(v) > 1024)
                return CM_EINVAL;
        }
    }
    cJSON_ArrayForEach(met, mets)
    {
        const char *name = cm_json_str(met, "Name", NULL);
        const char *unit = cm_json_str(met, "Unit", "None");
        double res = cm_json_num(met, "StorageResolution", 60);
        if (!name || !*name || strlen(name) > 1024 || !valid_unit(unit) || (res != 1 && res != 60))
            return CM_EINVAL;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
        if (cJSON_IsArray(v)) {
            if (cJSON_GetArraySize(v) > 100)
                return CM_EINVAL;
            const cJSON *x;
            cJSON_ArrayForEach(x, v)
            {
                if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
                    return CM_EINVAL;
            }
        } else if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
            return CM_EINVAL;
        }
    }
    return 0;
}

/* Records every metric of directive d under one dimension set. */
static int emf_record_set(struct sd_cw *cw, const cJSON *root, const cJSON *d, const cJSON *set,
                          int64_t ts)
{
    struct sd_dim dims[SD_CW_MAX_DIMS];
    int nd = 0, recorded = 0;
    const cJSON *key, *met;
    cJSON_ArrayForEach(key, set)
    {
        /* a set naming the same key twice counts it once */
        int dup = 0;
        for (int i = 0; i < nd; i++)
            dup |= strcmp(dims[i].name, key->valuestring) == 0;
        if (!dup) {
            dims[nd].name = key->valuestring;
            dims[nd++].value = cm_json_str(root, key->valuestring, "");
        }
    }
    const char *ns = cm_json_str(d, "Namespace", "");
    cJSON_ArrayForEach(met, cJSON_GetObjectItemCaseSensitive(d, "Metrics"))
    {
        const char *name = cm_json_str(met, "Name", "");
        const char *unit = cm_json_str(met, "Unit", "None");
        int res = (int)cm_json_num(met, "StorageResolution", 60);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name), *x;
        if (cJSON_IsNumber(v)) {
            recorded +=
                sd_cw_record_n(cw, ns, name, dims, nd, v->valuedouble, 1, unit, res, ts) == 0;
            continue;
        }
        cJSON_ArrayForEach(x, v)
        {
            recorded +=
                sd_cw_record_n(cw, ns, name, dims, nd, x->valuedouble, 1, unit, res, ts) == 0;
        }
    }
    return recorded;
}

int sd_cw_ingest_emf(struct sd_cw *cw, const char *line, size_t len, int64_t ts_ms)
{
    cJSON *root = cJSON_ParseWithLength(line, len);
    const cJSON *aws = root ? cJSON_GetObjectItemCaseSensitive(root, "_aws") : NULL;
    const cJSON *dirs = aws ? cJSON_GetObjectItemCaseSensitive(aws, "CloudWatchMetrics") : NULL;
    int rc = 0;
    if (!cJSON_IsObject(root) || !cJSON_IsObject(aws)) {
        rc = CM_EPARSE;
        goto out;
    }
    if (!cJSON_IsArray(dirs)) {
        rc = CM_EINVAL;
        goto out;
    }
    const cJSON *tsv = cJSON_GetObjectItemCaseSensitive(aws, "Timestamp");
    int64_t ts = cJSON_IsNumber(tsv) && tsv->valuedouble > 0 && tsv->valuedouble < 1e15
                     ? (int64_t)tsv->valuedouble
                     : ts_ms;
    const cJSON *d, *set;
    cJSON_ArrayForEach(d, dirs)
    {
        if (!cJSON_IsObject(d) || emf_check_directive(root, d)) {
            rc = CM_EINVAL;
            goto out;
        }
    }
    cJSON_ArrayForEach(d, dirs)
    {
        const cJSON *dims = cJSON_GetObjectItemCaseSensitive(d, "Dimensions");
        if (cJSON_GetArraySize(dims) == 0) {
            cJSON *empty = cJSON_CreateArray();
            rc += emf_record_set(cw, root, d, empty, ts);
            cJSON_Delete(empty);
        }
        cJSON_ArrayForEach(set, dims)
        {
            rc += emf_record_set(cw, root, d, set, ts);
        }
    }
out:
    if (rc < 0)
        cw->emf_errors++;
    cJSON_Delete(root);
    return rc;
}

/* ---- metric math ------------------------------------------------------------------ */

enum { X_NUM, X_REF, X_ADD, X_SUB, X_MUL, X_DIV, X_NEG, X_FUNC, X_LIST, X_METRICS };
enum { F_SUM, F_AVG, F_MIN, F_MAX };

#define CW_EXPR_MAX_NODES 512
#define CW_EXPR_MAX_DEPTH 32

struct xnode {
    int type;
    int fn;     /* X_FUNC: F_* */
    double num; /* X_NUM */
    char *id;   /* X_REF */
    struct xnode *a, *b;
    struct xnode **args; /* X_FUNC, X_LIST */
    int nargs;
};

static void xnode_free(struct xnode *x)
{
    if (!x)
        return;
    xnode_free(x->a);
    xnode_free(x->b);
    for (int i = 0; i < x->nargs; i++)
        xnode_free(x->args[i]);
    free(x->args);
    free(x->id);
    free(x);
}

struct xparse {
    const char *p;
    size_t n, i;
    int depth, nodes;
    const char *why;
};

static void xp_ws(struct xparse *xp)
{
    while (xp->i < xp->n && isspace((unsigned char)xp->p[xp->i]))
        xp->i++;
}

static int xp_peek(struct xparse *xp, char ch)
{
    xp_ws(xp);
    return xp->i < xp->n && xp->p[xp->i] == ch;
}

static struct xnode *xp_new(struct xparse *xp, int type)
{
    if (++xp->nodes > CW_EXPR_MAX_NODES) {
        xp->why = "expression too long";
        return NULL;
    }
    struct xnode *x = cm_xcalloc(1, sizeof *x);
    x->type = type;
    return x;
}

static struct xnode *xp_expr(struct xparse *xp);

static struct xnode *xp_fail(struct xparse *xp, struct xnode *x, const char *why)
{
    if (!xp->why)
        xp->why = why;
    xnode_free(x);
    return NULL;
}

/* "(" or "[" already consumed: args separated by ',' up to close. */
static struct xnode *xp_args(struct xparse *xp, struct xnode *x, char close)
{
    if (xp_peek(xp, close)) {
        xp->i++;
        return x;
    }
    for (;;) {
        struct xnode *a = xp_expr(xp);
        if (!a)
            return xp_fail(xp, x, "bad argument");
        x->args = cm_xrealloc(x->args, (size_t)(x->nargs + 1) * sizeof *x->args);
        x->args[x->nargs++] = a;
        if (xp_peek(xp, ',')) {
            xp->i++;
            continue;
        }
        if (xp_peek(xp, close)) {
            xp->i++;
            return x;
        }
        return xp_fail(xp, x, close == ')' ? "expected ',' or ')'" : "expected ',' or ']'");
    }
}

static struct xnode *xp_ident(struct xparse *xp)
{
    size_t start = xp->i;
    while (xp->i < xp->n && (isalnum((unsigned char)xp->p[xp->i]) || xp->p[xp->i] == '_'))
        xp->i++;
    size_t len = xp->i - start;
    if (!xp_peek(xp, '(')) {
        struct xnode *x = xp_new(xp, X_REF);
        if (x)
            x->id = cm_xstrndup(xp->p + start, len);
        return x;
    }
    static const struct {
        const char *name;
        int type, fn;
    } fns[] = {{"SUM", X_FUNC, F_SUM},
               {"AVG", X_FUNC, F_AVG},
               {"MIN", X_FUNC, F_MIN},
               {"MAX", X_FUNC, F_MAX},
               {"METRICS", X_METRICS, 0}};
    for (size_t k = 0; k < sizeof fns / sizeof fns[0]; k++) {
        if (strlen(fns[k].name) == len && strncasecmp(fns[k].name, xp->p + start, len) == 0) {
            xp->i++; /* '(' */
            struct xnode *x = xp_new(xp, fns[k].type);
            if (!x)
                return NULL;
            x->fn = fns[k].fn;
            x = xp_args(xp, x, ')');
            if (x && x->type == X_FUNC && x->nargs != 1)
                return xp_fail(xp, x, "SUM, AVG, MIN and MAX take one argument");
            if (x && x->type == X_METRICS && x->nargs != 0)
                return xp_fail(xp, x, "METRICS() takes no argument in stackd");
            return x;
        }
    }
    return xp_fail(xp, NULL, "unknown function (stackd supports SUM, AVG, MIN, MAX, METRICS)");
}

static struct xnode *xp_primary(struct xparse *xp)
{
    xp_ws(xp);
    if (xp->i >= xp->n)
        return xp_fail(xp, NULL, "unexpected end of expression");
    char ch = xp->p[xp->i];
    if (ch == '(') {
        xp->i++;
        struct xnode *x = xp_expr(xp);
        if (!x)
            return NULL;
        if (!xp_peek(xp, ')'))
            return xp_fail(xp, x, "expected ')'");
        xp->i++;
        return x;
    }
    if (ch == '[') {
        xp->i++;
        struct xnode *x = xp_new(xp, X_LIST);
        return x ? xp_args(xp, x, ']') : NULL;
    }
    if (isdigit((unsigned char)ch) || ch == '.') {
        char tmp[64];
        size_t start = xp->i;
        while (xp->i < xp->n && xp->i - start < sizeof tmp - 1 &&
               (isalnum((unsigned char)xp->p[xp->i]) || xp->p[xp->i] == '.' ||
                ((xp->p[xp->i] == '+' || xp->p[xp->i] == '-') &&
                 (xp->p[xp->i - 1] == 'e' || xp->p[xp->i - 1] == 'E'))))
            xp->i++;
        memcpy(tmp, xp->p + start, xp->i - start);
        tmp[xp->i - start] = '\0';
        char *end;
        double d = strtod(tmp, &end);
        if (*end || !isfinite(d))
            return xp_fail(xp, NULL, "malformed number");
        struct xnode *x = xp_new(xp, X_NUM);
        if (x)
            x->num = d;
        return x;
    }
    if (isalpha((unsigned char)ch) || ch == '_')
        return xp_ident(xp);
    return xp_fail(xp, NULL, "unexpected character");
}

static struct xnode *xp_unary(struct xparse *xp)
{
    if (++xp->depth > CW_EXPR_MAX_DEPTH)
        return xp_fail(xp, NULL, "expression nested too deeply");
    struct xnode *x;
    if (xp_peek(xp, '-')) {
        xp->i++;
        x = xp_new(xp, X_NEG);
        if (x) {
            x->a = xp_unary(xp);
            if (!x->a)
                x = xp_fail(xp, x, "expected an operand after '-'");
        }
    } else {
        x = xp_primary(xp);
    }
    xp->depth--;
    return x;
}

static struct xnode *xp_binary(struct xparse *xp, int level)
{
    struct xnode *l = level ? xp_unary(xp) : xp_binary(xp, 1);
    while (l) {
        xp_ws(xp);
        if (xp->i >= xp->n)
            break;
        char ch = xp->p[xp->i];
        int type = level ? (ch == '*'   ? X_MUL
                            : ch == '/' ? X_DIV
                                        : -1)
                         : (ch == '+'   ? X_ADD
                            : ch == '-' ? X_SUB
                                        : -1);
        if (type < 0)
            break;
        xp->i++;
        struct xnode *x = xp_new(xp, type);
        if (!x)
            return xp_fail(xp, l, "expression too long");
        x->a = l;
        x->b = level ? xp_unary(xp) : xp_binary(xp, 1);
        if (!x->b)
            return xp_fail(xp, x, "expected an operand");
        l = x;
    }
    return l;
}

static struct xnode *xp_expr(struct xparse *xp)
{
    if (++xp->depth > CW_EXPR_MAX_DEPTH)
        return xp_fail(xp, NULL, "expression nested too deeply");
    struct xnode *x = xp_binary(xp, 0);
    xp->depth--;
    return x;
}

static struct xnode *expr_parse(const char *s, size_t n, const char **why)
{
    struct xparse xp = {.p = s, .n = n};
    struct xnode *x = xp_expr(&xp);
    xp_ws(&xp);
    if (x && xp.i != n)
        x = xp_fail(&xp, x, "unexpected text after the expression");
    *why = xp.why ? xp.why : "malformed expression";
    return x;
}

int sd_cw_expr_check(const char *expr, size_t n, const char **why)
{
    const char *dummy;
    struct xnode *x = expr_parse(expr, n, why ? why : &dummy);
    int ok = x != NULL;
    xnode_free(x);
    return ok ? 0 : CM_EPARSE;
}

/* Values during evaluation. */
struct series {
    int64_t *ts; /* ascending */
    double *v;
    size_t n, cap;
};

enum { V_SCALAR, V_SERIES, V_LIST };

struct xval {
    int kind;
    double s;
    struct series ser;
    struct series *items; /* V_LIST */
    int nitems;
};

static void series_push(struct series *s, int64_t ts, double v)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->ts = cm_xrealloc(s->ts, s->cap * sizeof *s->ts);
        s->v = cm_xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->ts[s->n] = ts;
    s->v[s->n++] = v;
}

static void series_free(struct series *s)
{
    free(s->ts);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static void series_copy(struct series *dst, const struct series *src)
{
    memset(dst, 0, sizeof *dst);
    for (size_t i = 0; i < src->n; i++)
        series_push(dst, src->ts[i], src->v[i]);
}

static void xval_free(struct xval *v)
{
    series_free(&v->ser);
    for (int i = 0; i < v->nitems; i++)
        series_free(&v->items[i]);
    free(v->items);
    memset(v, 0, sizeof *v);
}

/* The queries of one GetMetricData call. */
struct gq {
    const char *id, *label, *expr_text;
    struct xnode *expr;
    const cJSON *stat; /* MetricStat */
    int64_t period_ms;
    int return_data;
    int state; /* 0 new, 1 evaluating, 2 done */
    struct series res;
};

struct gctx {
    struct sd_cw *cw;
    struct gq *q;
    int nq;
    int64_t start_ms, end_ms;
    char why[200];
};

static int eval_query(struct gctx *g, struct gq *q);

static double fn_apply(int fn, const double *v, size_t n)
{
    double r = fn == F_MIN ? INFINITY : fn == F_MAX ? -INFINITY : 0;
    for (size_t i = 0; i < n; i++) {
        if (fn == F_MIN)
            r = v[i] < r ? v[i] : r;
        else if (fn == F_MAX)
            r = v[i] > r ? v[i] : r;
        else
            r += v[i];
    }
    return fn == F_AVG && n ? r / (double)n : r;
}

struct tsv {
    int64_t ts;
    double v;
};

static int tsv_cmp(const void *x, const void *y)
{
    int64_t a = ((const struct tsv *)x)->ts, b = ((const struct tsv *)y)->ts;
    return a < b ? -1 : a > b;
}

/* Point-wise fn across the series of a list: for each timestamp present in
 * any series, fn of the values present there. */
static void list_reduce(int fn, const struct xval *l, struct series *out)
{
    size_t total = 0, k = 0;
    for (int i = 0; i < l->nitems; i++)
        total += l->items[i].n;
    struct tsv *all = cm_xmalloc((total + 1) * sizeof *all);
    double *vals = cm_xmalloc((total + 1) * sizeof *vals);
    for (int i = 0; i < l->nitems; i++)
        for (size_t j = 0; j < l->items[i].n; j++)
            all[k++] = (struct tsv){l->items[i].ts[j], l->items[i].v[j]};
    qsort(all, total, sizeof *all, tsv_cmp);
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < total;) {
        size_t j = i, nv = 0;
        while (j < total && all[j].ts == all[i].ts)
            vals[nv++] = all[j++].v;
        series_push(out, all[i].ts, fn_apply(fn, vals, nv));
        i = j;
    }
    free(all);
    free(vals);
}

static int arith(int op, double a, double b, double *out)
{
    switch (op) {
    case X_ADD:
        *out = a + b;
        break;
    case X_SUB:
        *out = a - b;
        break;
    case X_MUL:
        *out = a * b;
        break;
    default:
        if (b == 0)
            return 0; /* CloudWatch drops the point */
        *out = a / b;
    }
    return isfinite(*out);
}

/* a op b for scalars and series: series with series pairs equal timestamps
 * (the intersection); a scalar applies to every point. */
static int binop(struct gctx *g, int op, const struct xval *a, const struct xval *b,
                 struct xval *out)
{
    memset(out, 0, sizeof *out);
    if (a->kind == V_LIST || b->kind == V_LIST) {
        snprintf(g->why, sizeof g->why, "arithmetic on a list of series is not supported");
        return CM_EINVAL;
    }
    double r;
    if (a->kind == V_SCALAR && b->kind == V_SCALAR) {
        out->kind = V_SCALAR;
        out->s = arith(op, a->s, b->s, &r) ? r : NAN;
        return 0;
    }
    out->kind = V_SERIES;
    if (a->kind == V_SERIES && b->kind == V_SERIES) {
        size_t i = 0, j = 0;
        while (i < a->ser.n && j < b->ser.n) {
            if (a->ser.ts[i] < b->ser.ts[j]) {
                i++;
            } else if (a->ser.ts[i] > b->ser.ts[j]) {
                j++;
            } else {
                if (arith(op, a->ser.v[i], b->ser.v[j], &r))
                    series_push(&out->ser, a->ser.ts[i], r);
                i++;
                j++;
            }
        }
        return 0;
    }
    const struct series *s = a->kind == V_SERIES ? &a->ser : &b->ser;
    for (size_t i = 0; i < s->n; i++) {
        double x = a->kind == V_SERIES ? s->v[i] : a->s;
        double y = b->kind == V_SERIES ? s->v[i] : b->s;
        if (arith(op, x, y, &r))
            series_push(&out->ser, s->ts[i], r);
    }
    return 0;
}

static struct gq *find_query(struct gctx *g, const char *id)
{
    for (int i = 0; i < g->nq; i++)
        if (strcmp(g->q[i].id, id) == 0)
            return &g->q[i];
    return NULL;
}

static int eval_node(struct gctx *g, const struct xnode *x, struct xval *out);

static int eval_list(struct gctx *g, const struct xnode *x, struct xval *out)
{
    memset(out, 0, sizeof *out);
    out->kind = V_LIST;
    int n = x->type == X_METRICS ? g->nq : x->nargs;
    out->items = cm_xcalloc((size_t)n + 1, sizeof *out->items);
    for (int i = 0; i < n; i++) {
        if (x->type == X_METRICS) {
            if (!g->q[i].stat)
                continue;
            if (eval_query(g, &g->q[i]))
                return CM_EINVAL;
            series_copy(&out->items[out->nitems++], &g->q[i].res);
            continue;
        }
        struct xval v;
        if (eval_node(g, x->args[i], &v)) {
            xval_free(&v);
            return CM_EINVAL;
        }
        if (v.kind != V_SERIES) {
            xval_free(&v);
            snprintf(g->why, sizeof g->why, "a list holds time series only");
            return CM_EINVAL;
        }
        out->items[out->nitems++] = v.ser;
    }
    return 0;
}

static int eval_node(struct gctx *g, const struct xnode *x, struct xval *out)
{
    memset(out, 0, sizeof *out);
    switch (x->type) {
    case X_NUM:
        out->kind = V_SCALAR;
        out->s = x->num;
        return 0;
    case X_REF: {
        struct gq *q = find_query(g, x->id);
        if (!q) {
            snprintf(g->why, sizeof g->why, "Unrecognized metric id %.64s", x->id);
            return CM_EINVAL;
        }
        if (eval_query(g, q))
            return CM_EINVAL;
        out->kind = V_SERIES;
        series_copy(&out->ser, &q->res);
        return 0;
    }
    case X_LIST:
    case X_METRICS:
        return eval_list(g, x, out);
    case X_NEG: {
        struct xval a, zero = {.kind = V_SCALAR, .s = 0};
        if (eval_node(g, x->a, &a)) {
            xval_free(&a);
            return CM_EINVAL;
        }
        int rc = binop(g, X_SUB, &zero, &a, out);
        xval_free(&a);
        return rc;
    }
    case X_FUNC: {
        struct xval a;
        if (eval_node(g, x->args[0], &a)) {
            xval_free(&a);
            return CM_EINVAL;
        }
        if (a.kind == V_LIST) {
            out->kind = V_SERIES;
            list_reduce(x->fn, &a, &out->ser);
        } else if (a.kind == V_SERIES) {
            out->kind = V_SCALAR;
            out->s = a.ser.n ? fn_apply(x->fn, a.ser.v, a.ser.n) : NAN;
        } else {
            *out = a;
            return 0;
        }
        xval_free(&a);
        return 0;
    }
    default: {
        struct xval a, b;
        if (eval_node(g, x->a, &a)) {
            xval_free(&a);
            return CM_EINVAL;
        }
        if (eval_node(g, x->b, &b)) {
            xval_free(&a);
            xval_free(&b);
            return CM_EINVAL;
        }
        int rc = binop(g, x->type, &a, &b, out);
        xval_free(&a);
        xval_free(&b);
        return rc;
    }
    }
}

struct series_ctx {
    const struct cw_stat *st;
    struct series *out;
};

static void series_fn(void *ctx, int64_t ts_ms, struct cw_agg *a)
{
    struct series_ctx *s = ctx;
    double v;
    if (agg_stat(a, s->st, &v))
        series_push(s->out, ts_ms, v);
}

/* MetricStat: the metric's windows. A unit that differs from the metric's
 * gives no data (CloudWatch filters datapoints by unit). */
static int eval_stat(struct gctx *g, struct gq *q)
{
    const cJSON *metric = cJSON_GetObjectItemCaseSensitive(q->stat, "Metric");
    const char *ns = cm_json_str(metric, "Namespace", NULL);
    const char *name = cm_json_str(metric, "MetricName", NULL);
    const char *stat = cm_json_str(q->stat, "Stat", NULL);
    const char *unit = cm_json_str(q->stat, "Unit", NULL);
    struct sd_dim dims[SD_CW_MAX_DIMS];
    int nd = 0;
    const cJSON *d;
    cJSON_ArrayForEach(d, cm_query_get_list(metric, "Dimensions"))
    {
        if (nd == SD_CW_MAX_DIMS)
            break;
        dims[nd].name = cm_json_str(d, "Name", "");
        dims[nd++].value = cm_json_str(d, "Value", "");
    }
    struct cw_stat st;
    stat_parse(stat, &st); /* validated when the request was read */
    struct cw_metric *m = NULL;
    metric_get(g->cw, ns, name, dims, nd, NULL, 0, &m);
    if (!m || (unit && strcmp(unit, m->unit) != 0))
        return 0;
    struct series_ctx sc = {&st, &q->res};
    metric_windows(g->cw, m, g->start_ms, g->end_ms, q->period_ms, series_fn, &sc);
    return 0;
}

static int eval_query(struct gctx *g, struct gq *q)
{
    if (q->state == 2)
        return 0;
    if (q->state == 1) {
        snprintf(g->why, sizeof g->why, "Circular dependency on metric id %.64s", q->id);
        return CM_EINVAL;
    }
    q->state = 1;
    int rc = 0;
    if (q->stat) {
        rc = eval_stat(g, q);
    } else {
        struct xval v;
        rc = eval_node(g, q->expr, &v);
        if (rc == 0 && v.kind == V_SERIES) {
            q->res = v.ser;
            memset(&v.ser, 0, sizeof v.ser);
        } else if (rc == 0 && v.kind == V_SCALAR) {
            /* A constant is drawn at every period of the range. */
            int64_t p = q->period_ms > 0 ? q->period_ms : 60000;
            int64_t origin = g->start_ms - ((g->start_ms % 60000) + 60000) % 60000;
            for (int64_t t = origin; t < g->end_ms && q->res.n < CW_MAX_POINTS && isfinite(v.s);
                 t += p)
                series_push(&q->res, t, v.s);
        } else if (rc == 0) {
            snprintf(g->why, sizeof g->why, "expression %.64s must return one time series", q->id);
            rc = CM_EINVAL;
        }
        xval_free(&v);
    }
    q->state = 2;
    return rc;
}

/* ---- handlers ------------------------------------------------------------------------ */

struct cctx {
    struct sd_cw *cw;
    const cJSON *in;
    struct cm_query_out o;
    enum cm_query_fmt fmt;
    int64_t now_ms;
    const char *err_code; /* query error code; NULL while fine */
    char err_msg[300];
};

static const struct {
    const char *code, *shape;
    int status;
} cw_errors[] = {
    {"InvalidParameterValue", "InvalidParameterValueException", 400},
    {"MissingParameter", "MissingRequiredParameterException", 400},
    {"InvalidParameterCombination", "InvalidParameterCombinationException", 400},
    {"InvalidNextToken", "InvalidNextToken", 400},
    {"LimitExceeded", "LimitExceededFault", 400},
    {"InvalidAction", "UnknownOperationException", 400},
    {"SerializationException", "SerializationException", 400},
    {"InternalServiceError", "InternalServiceFault", 500},
};

static int cfail(struct cctx *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int cfail(struct cctx *c, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err_msg, sizeof c->err_msg, fmt, ap);
    va_end(ap);
    c->err_code = code;
    return -1;
}

#define BAD     "InvalidParameterValue"
#define MISSING "MissingParameter"
#define COMBO   "InvalidParameterCombination"

/* Reads a string member; required ones fail with MissingParameter. */
static const char *get_str(struct cctx *c, const cJSON *obj, const char *key, const char *field,
                           int required)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (cJSON_IsString(v) && v->valuestring[0])
        return v->valuestring;
    if (required)
        cfail(c, MISSING, "The parameter %s is required.", field);
    else if (v && !cJSON_IsNull(v) && !cJSON_IsString(v))
        cfail(c, BAD, "The parameter %s must be a string.", field);
    return NULL;
}

static int get_time(struct cctx *c, const cJSON *obj, const char *key, const char *field,
                    int required, int64_t *out)
{
    int rc = cm_query_get_time_ms(obj, key, out);
    if (rc < 0)
        return cfail(c, BAD,
                     "The parameter %s must be a timestamp (ISO 8601 or epoch "
                     "seconds).",
                     field);
    if (rc == 0 && required)
        return cfail(c, MISSING, "The parameter %s is required.", field);
    return rc;
}

static int get_num(struct cctx *c, const cJSON *obj, const char *key, const char *field,
                   double *out)
{
    int rc = cm_query_get_num(obj, key, out);
    if (rc < 0)
        return cfail(c, BAD, "The parameter %s must be a finite number.", field);
    return rc;
}

/* Dimensions [{Name, Value}] (Value optional when allow_no_value). */
static int get_dims(struct cctx *c, const cJSON *obj, const char *field, struct sd_dim *dims,
                    int *nd, int allow_no_value)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(obj, "Dimensions"), *d;
    *nd = 0;
    if (!list || cJSON_IsNull(list))
        return 0;
    if (!cJSON_IsArray(list))
        return cfail(c, BAD, "The parameter %s.Dimensions must be a list.", field);
    if (cJSON_GetArraySize(list) > SD_CW_MAX_DIMS)
        return cfail(c, BAD,
                     "The collection %s.Dimensions must not have a size greater than "
                     "30.",
                     field);
    cJSON_ArrayForEach(d, list)
    {
        const char *n = cm_json_str(d, "Name", NULL), *v = cm_json_str(d, "Value", NULL);
        if (!n || !*n || strlen(n) > CW_MAX_NAME)
            return cfail(c, MISSING,
                         "The parameter %s.Dimensions.member.%d.Name is required "
                         "(1-255 characters).",
                         field, *nd + 1);
        if ((!v || !*v || strlen(v) > 1024) && !(allow_no_value && !v))
            return cfail(c, MISSING,
                         "The parameter %s.Dimensions.member.%d.Value is required "
                         "(1-1024 characters).",
                         field, *nd + 1);
        for (int i = 0; i < *nd; i++)
            if (strcmp(dims[i].name, n) == 0)
                return cfail(c, BAD,
                             "The collection %s.Dimensions must not contain duplicate "
                             "name %s.",
                             field, n);
        dims[*nd].name = n;
        dims[(*nd)++].value = v;
    }
    return 0;
}

struct datum {
    const char *name, *unit;
    struct sd_dim dims[SD_CW_MAX_DIMS];
    int nd, res;
    int64_t ts;
    int has_value, has_stats;
    double value, sc, sum, mn, mx;
    const cJSON *values, *counts;
};

static int read_stats(struct cctx *c, const cJSON *sv, const char *f, struct datum *d)
{
    static const char *keys[] = {"SampleCount", "Sum", "Minimum", "Maximum"};
    double *dst[] = {&d->sc, &d->sum, &d->mn, &d->mx};
    char field[96];
    for (int k = 0; k < 4; k++) {
        snprintf(field, sizeof field, "%s.StatisticValues.%s", f, keys[k]);
        int rc = get_num(c, sv, keys[k], field, dst[k]);
        if (rc < 0)
            return -1;
        if (rc == 0)
            return cfail(c, MISSING, "The parameter %s is required.", field);
    }
    if (d->sc <= 0 || d->mn > d->mx)
        return cfail(c, BAD,
                     "The parameter %s.StatisticValues is invalid: SampleCount must be "
                     "positive and Minimum <= Maximum.",
                     f);
    d->has_stats = 1;
    return 0;
}

static int read_values(struct cctx *c, const char *f, struct datum *d)
{
    int nv = cJSON_GetArraySize(d->values);
    if (nv > CW_MAX_VALUES)
        return cfail(c, BAD, "The collection %s.Values must not have a size greater than 150.", f);
    if (d->counts && cJSON_GetArraySize(d->counts) != nv)
        return cfail(c, COMBO,
                     "The parameters %s.Values and %s.Counts must be of the same "
                     "size.",
                     f, f);
    for (int i = 0; i < nv; i++) {
        double x;
        const cJSON *v = cJSON_GetArrayItem(d->values, i);
        if (cJSON_IsString(v) ? sscanf(v->valuestring, "%lf", &x) != 1 : !cJSON_IsNumber(v))
            return cfail(c, BAD, "The parameter %s.Values.member.%d must be a number.", f, i + 1);
        if (cJSON_IsNumber(v))
            x = v->valuedouble;
        if (!isfinite(x))
            return cfail(c, BAD, "The parameter %s.Values.member.%d must be finite.", f, i + 1);
        const cJSON *cn = d->counts ? cJSON_GetArrayItem(d->counts, i) : NULL;
        if (cn && (cJSON_IsString(cn) ? sscanf(cn->valuestring, "%lf", &x) != 1 || x < 0
                                      : !cJSON_IsNumber(cn) || cn->valuedouble < 0))
            return cfail(c, BAD,
                         "The parameter %s.Counts.member.%d must be a non-negative "
                         "number.",
                         f, i + 1);
    }
    return 0;
}

static int read_datum(struct cctx *c, const cJSON *j, int idx, struct datum *d)
{
    char f[48];
    snprintf(f, sizeof f, "MetricData.member.%d", idx);
    memset(d, 0, sizeof *d);
    d->name = get_str(c, j, "MetricName", "MetricName", 1);
    if (!d->name)
        return cfail(c, MISSING, "The parameter %s.MetricName is required.", f);
    if (strlen(d->name) > CW_MAX_NAME)
        return cfail(c, BAD, "The parameter %s.MetricName is longer than 255.", f);
    if (get_dims(c, j, f, d->dims, &d->nd, 0))
        return -1;
    d->unit = cm_json_str(j, "Unit", NULL);
    if (d->unit && !valid_unit(d->unit))
        return cfail(c, BAD, "The parameter %s.Unit must be a CloudWatch unit, not %.40s.", f,
                     d->unit);
    double res = 60;
    if (get_num(c, j, "StorageResolution", "StorageResolution", &res) < 0)
        return -1;
    if (res != 1 && res != 60)
        return cfail(c, BAD, "The parameter %s.StorageResolution must be 1 or 60.", f);
    d->res = (int)res;
    d->ts = c->now_ms;
    if (get_time(c, j, "Timestamp", "Timestamp", 0, &d->ts) < 0)
        return -1;
    if (d->ts < c->now_ms - 14LL * 86400000 || d->ts > c->now_ms + 2LL * 3600000)
        return cfail(c, BAD,
                     "The parameter %s.Timestamp must specify a time no more than two "
                     "weeks in the past and two hours in the future.",
                     f);
    int hv = get_num(c, j, "Value", "Value", &d->value);
    if (hv < 0)
        return -1;
    d->has_value = hv;
    d->values = cm_query_get_list(j, "Values");
    d->counts = cm_query_get_list(j, "Counts");
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(j, "StatisticValues");
    if (sv && read_stats(c, sv, f, d))
        return -1;
    if (d->has_value + (d->values != NULL) + d->has_stats != 1)
        return cfail(c, COMBO,
                     "The parameters %s.Value, %s.Values and %s.StatisticValues are "
                     "mutually exclusive and one is required.",
                     f, f, f);
    return d->values ? read_values(c, f, d) : 0;
}

static double list_num(const cJSON *list, int i, double def)
{
    const cJSON *v = list ? cJSON_GetArrayItem(list, i) : NULL;
    if (cJSON_IsNumber(v))
        return v->valuedouble;
    return cJSON_IsString(v) ? strtod(v->valuestring, NULL) : def;
}

static int write_datum(struct cctx *c, const char *ns, const struct datum *d)
{
    int rc = 0;
    if (d->has_value) {
        rc =
            sd_cw_record_n(c->cw, ns, d->name, d->dims, d->nd, d->value, 1, d->unit, d->res, d->ts);
    } else if (d->values) {
        int nv = cJSON_GetArraySize(d->values);
        for (int i = 0; i < nv && (rc == 0 || rc == CM_ERANGE); i++) {
            double cnt = list_num(d->counts, i, 1);
            if (cnt > 0)
                rc = sd_cw_record_n(c->cw, ns, d->name, d->dims, d->nd, list_num(d->values, i, 0),
                                    cnt, d->unit, d->res, d->ts);
        }
    } else {
        struct cw_metric *m;
        rc = metric_get(c->cw, ns, d->name, d->dims, d->nd, d->unit, 1, &m);
        if (rc == 0)
            rc = record_stats(c->cw, m, d->ts, d->res, d->sc, d->sum, d->mn, d->mx);
        if (c->cw->bytes > c->cw->cfg.max_bytes)
            evict_memory(c->cw);
    }
    if (rc == CM_ETOOBIG)
        return cfail(c, "LimitExceeded", "stackd holds its maximum of %zu metrics.",
                     c->cw->cfg.max_metrics);
    return 0; /* CM_ERANGE: older than the retention window, dropped as CloudWatch ages it */
}

static int op_put(struct cctx *c)
{
    const char *ns = get_str(c, c->in, "Namespace", "Namespace", 1);
    if (!ns)
        return -1;
    if (strncmp(ns, "AWS/", 4) == 0 || strlen(ns) > CW_MAX_NAME)
        return cfail(c, BAD, "The value %.255s for parameter Namespace is invalid.", ns);
    const cJSON *md = cm_query_get_list(c->in, "MetricData");
    int n = md ? cJSON_GetArraySize(md) : 0;
    if (n == 0)
        return cfail(c, MISSING, "The parameter MetricData is required.");
    if (n > CW_MAX_DATUMS)
        return cfail(c, BAD,
                     "The collection MetricData must not have a size greater than "
                     "1000.");
    struct datum *d = cm_xmalloc((size_t)n * sizeof *d);
    int rc = 0, i = 0;
    const cJSON *j;
    cJSON_ArrayForEach(j, md)
    {
        if (!cJSON_IsObject(j) || read_datum(c, j, i + 1, &d[i])) {
            if (!c->err_code)
                cfail(c, BAD, "The parameter MetricData.member.%d is malformed.", i + 1);
            rc = -1;
            goto out;
        }
        i++;
    }
    for (i = 0; i < n && rc == 0; i++)
        rc = write_datum(c, ns, &d[i]);
out:
    free(d);
    return rc;
}

/* Period: 1, 5, 10, 30 or a multiple of 60 seconds. */
static int get_period(struct cctx *c, const cJSON *obj, const char *field, int required,
                      int64_t *out_ms)
{
    double p = 0;
    int rc = get_num(c, obj, "Period", field, &p);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        *out_ms = 0;
        return required ? cfail(c, MISSING, "The parameter %s is required.", field) : 0;
    }
    if (!(p > 0 && p <= 86400 * 366))
        return cfail(c, BAD, "The parameter %s must be 1, 5, 10, 30 or a multiple of 60.", field);
    int64_t s = (int64_t)p;
    if ((double)s != p || s <= 0 || (s != 1 && s != 5 && s != 10 && s != 30 && s % 60 != 0))
        return cfail(c, BAD, "The parameter %s must be 1, 5, 10, 30 or a multiple of 60.", field);
    *out_ms = s * 1000;
    return 0;
}

static int valid_id(const char *id)
{
    if (!islower((unsigned char)id[0]) || strlen(id) > 255)
        return 0;
    for (const char *p = id; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            return 0;
    return 1;
}

static int read_query(struct cctx *c, const cJSON *j, int idx, struct gq *q)
{
    char f[64];
    snprintf(f, sizeof f, "MetricDataQueries.member.%d", idx);
    memset(q, 0, sizeof *q);
    q->id = cm_json_str(j, "Id", NULL);
    if (!q->id || !valid_id(q->id))
        return cfail(c, BAD,
                     "The parameter %s.Id must start with a lowercase letter and hold "
                     "only letters, digits and '_'.",
                     f);
    q->label = cm_json_str(j, "Label", NULL);
    q->return_data = 1;
    if (cm_query_get_bool(j, "ReturnData", &q->return_data) < 0)
        return cfail(c, BAD, "The parameter %s.ReturnData must be true or false.", f);
    q->stat = cJSON_GetObjectItemCaseSensitive(j, "MetricStat");
    q->expr_text = cm_json_str(j, "Expression", NULL);
    if (!!cJSON_IsObject(q->stat) + !!q->expr_text != 1)
        return cfail(c, COMBO, "Exactly one of %s.MetricStat and %s.Expression is required.", f, f);
    if (q->expr_text) {
        const char *why;
        q->stat = NULL;
        if (get_period(c, j, "Period", 0, &q->period_ms))
            return -1;
        q->expr = expr_parse(q->expr_text, strlen(q->expr_text), &why);
        if (!q->expr)
            return cfail(c, BAD, "Error in expression '%.64s': %s", q->id, why);
        return 0;
    }
    const cJSON *metric = cJSON_GetObjectItemCaseSensitive(q->stat, "Metric");
    struct sd_dim dims[SD_CW_MAX_DIMS];
    int nd;
    struct cw_stat st;
    const char *stat = cm_json_str(q->stat, "Stat", NULL);
    if (!cJSON_IsObject(metric) || !cm_json_str(metric, "Namespace", NULL) ||
        !cm_json_str(metric, "MetricName", NULL))
        return cfail(c, MISSING,
                     "The parameter %s.MetricStat.Metric needs Namespace and "
                     "MetricName.",
                     f);
    if (get_dims(c, metric, f, dims, &nd, 0) || get_period(c, q->stat, "Period", 1, &q->period_ms))
        return -1;
    if (!stat || stat_parse(stat, &st))
        return cfail(c, BAD,
                     "The parameter %s.MetricStat.Stat is not a supported statistic "
                     "(SampleCount, Sum, Average, Minimum, Maximum, pNN, pNN.N).",
                     f);
    return 0;
}

/* Writes one result: timestamps and values in the requested order. */
static void out_result(struct cctx *c, const struct gq *q, int ascending, int64_t max_points)
{
    const struct series *s = &q->res;
    size_t n = s->n < (size_t)max_points ? s->n : (size_t)max_points;
    cm_query_out_open(&c->o, "", CM_QUERY_OBJ);
    cm_query_out_str(&c->o, "Id", q->id);
    const char *label = q->label;
    if (!label && q->stat)
        label =
            cm_json_str(cJSON_GetObjectItemCaseSensitive(q->stat, "Metric"), "MetricName", q->id);
    cm_query_out_str(&c->o, "Label", label ? label : q->id);
    cm_query_out_open(&c->o, "Timestamps", CM_QUERY_LIST);
    for (size_t i = 0; i < n; i++)
        cm_query_out_time_ms(&c->o, "", s->ts[ascending ? i : s->n - 1 - i]);
    cm_query_out_close(&c->o);
    cm_query_out_open(&c->o, "Values", CM_QUERY_LIST);
    for (size_t i = 0; i < n; i++)
        cm_query_out_num(&c->o, "", s->v[ascending ? i : s->n - 1 - i]);
    cm_query_out_close(&c->o);
    cm_query_out_str(&c->o, "StatusCode", n < s->n ? "PartialData" : "Complete");
    cm_query_out_close(&c->o);
}

static int op_get_data(struct cctx *c)
{
    struct gctx g = {.cw = c->cw};
    int rc = -1;
    const cJSON *qs = cm_query_get_list(c->in, "MetricDataQueries"), *j;
    int n = qs ? cJSON_GetArraySize(qs) : 0;
    if (n == 0)
        return cfail(c, MISSING, "The parameter MetricDataQueries is required.");
    if (n > CW_MAX_QUERIES)
        return cfail(c, BAD,
                     "The collection MetricDataQueries must not have a size greater "
                     "than 500.");
    if (get_time(c, c->in, "StartTime", "StartTime", 1, &g.start_ms) < 0 ||
        get_time(c, c->in, "EndTime", "EndTime", 1, &g.end_ms) < 0)
        return -1;
    if (g.end_ms <= g.start_ms)
        return cfail(c, BAD, "The parameter StartTime must be less than the parameter EndTime.");
    const char *scan = cm_json_str(c->in, "ScanBy", "TimestampDescending");
    if (strcmp(scan, "TimestampDescending") != 0 && strcmp(scan, "TimestampAscending") != 0)
        return cfail(c, BAD,
                     "The parameter ScanBy must be TimestampDescending or "
                     "TimestampAscending.");
    double maxdp = 100800;
    if (get_num(c, c->in, "MaxDatapoints", "MaxDatapoints", &maxdp) < 0)
        return -1;
    g.q = cm_xcalloc((size_t)n, sizeof *g.q);
    cJSON_ArrayForEach(j, qs)
    {
        if (read_query(c, j, g.nq + 1, &g.q[g.nq]))
            goto out;
        for (int k = 0; k < g.nq; k++)
            if (strcmp(g.q[k].id, g.q[g.nq].id) == 0) {
                cfail(c, BAD, "The values for parameter Id in MetricDataQueries are not unique.");
                g.nq++;
                goto out;
            }
        g.nq++;
    }
    for (int k = 0; k < g.nq; k++) {
        if (g.q[k].return_data && eval_query(&g, &g.q[k])) {
            cfail(c, BAD, "Error in expression '%.64s': %s", g.q[k].id, g.why);
            goto out;
        }
    }
    cm_query_out_open(&c->o, "MetricDataResults", CM_QUERY_LIST);
    int64_t budget = maxdp > 0 && maxdp < CW_MAX_POINTS ? (int64_t)maxdp : CW_MAX_POINTS;
    for (int k = 0; k < g.nq; k++) {
        if (!g.q[k].return_data)
            continue;
        out_result(c, &g.q[k], scan[9] == 'A', budget);
        budget -= (int64_t)g.q[k].res.n;
        budget = budget < 0 ? 0 : budget;
    }
    cm_query_out_close(&c->o);
    cm_query_out_open(&c->o, "Messages", CM_QUERY_LIST);
    cm_query_out_close(&c->o);
    rc = 0;
out:
    for (int k = 0; k < g.nq; k++) {
        xnode_free(g.q[k].expr);
        series_free(&g.q[k].res);
    }
    free(g.q);
    return rc;
}

struct gms_ctx {
    struct cctx *c;
    struct cw_stat st[10];
    const char *names[10];
    int nst, n_ext; /* first nst - n_ext are Statistics, the rest ExtendedStatistics */
    const char *unit;
};

static void gms_window(void *ctx, int64_t ts_ms, struct cw_agg *a)
{
    struct gms_ctx *g = ctx;
    struct cm_query_out *o = &g->c->o;
    double v;
    cm_query_out_open(o, "", CM_QUERY_OBJ);
    cm_query_out_time_ms(o, "Timestamp", ts_ms);
    for (int i = 0; i < g->nst - g->n_ext; i++)
        if (agg_stat(a, &g->st[i], &v))
            cm_query_out_num(o, g->names[i], v);
    cm_query_out_str(o, "Unit", g->unit);
    if (g->n_ext) {
        cm_query_out_open(o, "ExtendedStatistics", CM_QUERY_MAP);
        for (int i = g->nst - g->n_ext; i < g->nst; i++)
            if (agg_stat(a, &g->st[i], &v))
                cm_query_out_num(o, g->names[i], v);
        cm_query_out_close(o);
    }
    cm_query_out_close(o);
}

static int read_stat_list(struct cctx *c, struct gms_ctx *g, const char *key, int extended)
{
    const cJSON *list = cm_query_get_list(c->in, key), *s;
    cJSON_ArrayForEach(s, list)
    {
        if (g->nst == 10)
            return cfail(c, BAD, "At most 10 statistics may be requested.");
        const char *name = cJSON_IsString(s) ? s->valuestring : "";
        struct cw_stat st;
        if (stat_parse(name, &st) || (extended != (st.kind == S_PCT)))
            return cfail(c, BAD, "The parameter %s holds an unsupported statistic %.40s.", key,
                         name);
        g->st[g->nst] = st;
        g->names[g->nst++] = name;
        g->n_ext += extended;
    }
    return 0;
}

static int op_get_stats(struct cctx *c)
{
    struct gms_ctx g = {.c = c};
    struct sd_dim dims[SD_CW_MAX_DIMS];
    int nd;
    int64_t t0, t1, period;
    const char *ns = get_str(c, c->in, "Namespace", "Namespace", 1);
    const char *name = ns ? get_str(c, c->in, "MetricName", "MetricName", 1) : NULL;
    if (!name || get_dims(c, c->in, "Dimensions", dims, &nd, 0) ||
        get_time(c, c->in, "StartTime", "StartTime", 1, &t0) < 0 ||
        get_time(c, c->in, "EndTime", "EndTime", 1, &t1) < 0 ||
        get_period(c, c->in, "Period", 1, &period))
        return -1;
    if (t1 <= t0)
        return cfail(c, BAD, "The parameter StartTime must be less than the parameter EndTime.");
    if ((t1 - t0) / period > 1440)
        return cfail(c, COMBO,
                     "You have requested up to %lld datapoints, which exceeds the "
                     "limit of 1440.",
                     (long long)((t1 - t0) / period));
    if (read_stat_list(c, &g, "Statistics", 0) || read_stat_list(c, &g, "ExtendedStatistics", 1))
        return -1;
    if (g.nst == 0)
        return cfail(c, MISSING, "Must specify either Statistics or ExtendedStatistics.");
    const char *unit = cm_json_str(c->in, "Unit", NULL);
    struct cw_metric *m = NULL;
    metric_get(c->cw, ns, name, dims, nd, NULL, 0, &m);
    cm_query_out_str(&c->o, "Label", name);
    cm_query_out_open(&c->o, "Datapoints", CM_QUERY_LIST);
    if (m && (!unit || strcmp(unit, m->unit) == 0)) {
        g.unit = m->unit;
        metric_windows(c->cw, m, t0, t1, period, gms_window, &g);
    }
    cm_query_out_close(&c->o);
    return 0;
}

static int metric_matches(const struct cw_metric *m, const char *ns, const char *name,
                          const struct sd_dim *dims, int nd)
{
    if ((ns && strcmp(ns, m->ns) != 0) || (name && strcmp(name, m->name) != 0))
        return 0;
    for (int i = 0; i < nd; i++) {
        int ok = 0;
        for (int k = 0; k < m->n_dims && !ok; k++)
            ok = strcmp(m->dn[k], dims[i].name) == 0 &&
                 (!dims[i].value || strcmp(m->dv[k], dims[i].value) == 0);
        if (!ok)
            return 0;
    }
    return 1;
}

static int op_list(struct cctx *c)
{
    struct sd_dim dims[SD_CW_MAX_DIMS];
    int nd;
    const char *ns = cm_json_str(c->in, "Namespace", NULL);
    const char *name = cm_json_str(c->in, "MetricName", NULL);
    const char *tok = cm_json_str(c->in, "NextToken", NULL);
    if (get_dims(c, c->in, "Dimensions", dims, &nd, 1))
        return -1;
    size_t start = 0;
    if (tok) {
        char *end;
        start = (size_t)strtoull(tok, &end, 10);
        if (*end || end == tok)
            return cfail(c, "InvalidNextToken", "The NextToken is invalid.");
    }
    size_t emitted = 0, i = start;
    cm_query_out_open(&c->o, "Metrics", CM_QUERY_LIST);
    for (; i < c->cw->nm && emitted < 500; i++) {
        const struct cw_metric *m = c->cw->m[i];
        if (!metric_matches(m, ns, name, dims, nd))
            continue;
        cm_query_out_open(&c->o, "", CM_QUERY_OBJ);
        cm_query_out_str(&c->o, "Namespace", m->ns);
        cm_query_out_str(&c->o, "MetricName", m->name);
        cm_query_out_open(&c->o, "Dimensions", CM_QUERY_LIST);
        for (int k = 0; k < m->n_dims; k++) {
            cm_query_out_open(&c->o, "", CM_QUERY_OBJ);
            cm_query_out_str(&c->o, "Name", m->dn[k]);
            cm_query_out_str(&c->o, "Value", m->dv[k]);
            cm_query_out_close(&c->o);
        }
        cm_query_out_close(&c->o);
        cm_query_out_close(&c->o);
        emitted++;
    }
    cm_query_out_close(&c->o);
    if (i < c->cw->nm) {
        char t[32];
        snprintf(t, sizeof t, "%zu", i);
        cm_query_out_str(&c->o, "NextToken", t);
    }
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(struct cctx *);
    int has_result;
} cw_ops[] = {
    {"PutMetricData", op_put, 0},
    {"GetMetricData", op_get_data, 1},
    {"GetMetricStatistics", op_get_stats, 1},
    {"ListMetrics", op_list, 1},
};

/* Inflates a gzip body into out (at most CW_MAX_BODY bytes). */
static int gunzip(const char *p, size_t n, struct cm_buf *out)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return CM_EIO;
    zs.next_in = (Bytef *)(uintptr_t)p;
    zs.avail_in = (uInt)n;
    int rc = 0, zr = Z_OK;
    char chunk[16384];
    while (zr != Z_STREAM_END) {
        zs.next_out = (Bytef *)chunk;
        zs.avail_out = sizeof chunk;
        zr = inflate(&zs, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END) {
            rc = CM_EPARSE;
            break;
        }
        rc = cm_buf_append(out, chunk, sizeof chunk - zs.avail_out);
        if (rc)
            break;
        if (zr == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
            rc = CM_EPARSE; /* truncated stream */
            break;
        }
    }
    inflateEnd(&zs);
    return rc;
}

/* Request body, decompressed when Content-Encoding says gzip. */
static int request_body(const struct sd_req *req, struct cm_buf *tmp, const char **p, size_t *n)
{
    size_t en = 0;
    const char *enc = sd_req_header(req, "content-encoding", &en);
    *p = req->body ? req->body : "";
    *n = req->body_len;
    if (!enc || !memmem(enc, en, "gzip", 4))
        return 0;
    int rc = gunzip(req->body, req->body_len, tmp);
    *p = cm_buf_cstr(tmp);
    *n = tmp->len;
    return rc;
}

static int find_op(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof cw_ops / sizeof cw_ops[0]; i++)
        if (strlen(cw_ops[i].name) == n && memcmp(cw_ops[i].name, name, n) == 0)
            return (int)i;
    return -1;
}

/* Parses the request in either protocol; returns the op index or -1 after
 * cfail. */
static int parse_request(struct cctx *c, const struct sd_req *req, cJSON **in)
{
    struct cm_buf tmp;
    cm_buf_init(&tmp, CW_MAX_BODY);
    const char *body, *why = NULL, *op;
    size_t n, tn = 0, pl = strlen(CW_TARGET);
    const char *target = sd_req_header(req, "x-amz-target", &tn);
    int idx = -1;
    c->fmt = target ? CM_QUERY_JSON : CM_QUERY_XML;
    if (request_body(req, &tmp, &body, &n)) {
        cfail(c, "SerializationException", "The gzip request body could not be decompressed.");
        goto out;
    }
    if (target) {
        if (tn <= pl || memcmp(target, CW_TARGET, pl) != 0 ||
            (idx = find_op(target + pl, tn - pl)) < 0) {
            cfail(c, "InvalidAction", "The action %.*s is not valid for this web service.",
                  (int)(tn < 80 ? tn : 80), target);
            goto out;
        }
        *in = n ? cJSON_ParseWithLength(body, n) : cJSON_CreateObject();
        if (!cJSON_IsObject(*in)) {
            idx = -1;
            cfail(c, "SerializationException", "The request body is not a JSON object.");
        }
        goto out;
    }
    if (n == 0) {
        body = req->query ? req->query : "";
        n = strlen(body);
    }
    if (cm_query_parse(body, n, in, &why)) {
        cfail(c, BAD, "Malformed query request: %s.", why ? why : "bad form body");
        goto out;
    }
    op = cm_json_str(*in, "Action", NULL);
    if (!op) {
        cfail(c, MISSING, "The parameter Action is required.");
        goto out;
    }
    idx = find_op(op, strlen(op));
    if (idx < 0)
        cfail(c, "InvalidAction", "The action %.80s is not valid for this web service.", op);
out:
    cm_buf_deinit(&tmp);
    return idx;
}

static void error_response(struct cctx *c, struct sd_resp *resp, const char *rid)
{
    const char *shape = c->err_code;
    int status = 400;
    for (size_t i = 0; i < sizeof cw_errors / sizeof cw_errors[0]; i++) {
        if (strcmp(cw_errors[i].code, c->err_code) == 0) {
            shape = cw_errors[i].shape;
            status = cw_errors[i].status;
        }
    }
    char type[128];
    snprintf(type, sizeof type, "com.amazonaws.cloudwatch#%s", shape);
    resp->status = status;
    cm_buf_reset(&resp->body);
    cm_query_error_body(&resp->body, c->fmt, CW_XMLNS, status < 500, c->err_code, type, c->err_msg,
                        rid);
    if (c->fmt == CM_QUERY_JSON) {
        char hdr[160];
        snprintf(hdr, sizeof hdr, "%s;%s", c->err_code, status < 500 ? "Sender" : "Receiver");
        sd_resp_header(resp, "x-amzn-query-error", hdr);
    }
}

void sd_cw_handle(struct sd_cw *cw, const struct sd_req *req, struct sd_resp *resp)
{
    struct cctx c = {.cw = cw};
    char rid[CM_CORR_ID_LEN + 1];
    c.now_ms =
        req->recv_wall_ns ? req->recv_wall_ns / CM_NS_PER_MS : cm_clock_wall_ns() / CM_NS_PER_MS;
    cm_corr_new_id(c.now_ms, rid);
    if (c.now_ms > cw->wall_hint_ms)
        cw->wall_hint_ms = c.now_ms;
    cJSON *in = NULL;
    int idx = parse_request(&c, req, &in);
    if (idx >= 0) {
        c.in = in;
        cm_buf_reset(&resp->body);
        cm_query_out_begin(&c.o, &resp->body, c.fmt, cw_ops[idx].name, CW_XMLNS,
                           cw_ops[idx].has_result);
        if (cw_ops[idx].fn(&c) == 0 && cm_query_out_end(&c.o, rid))
            cfail(&c, "InternalServiceError", "The response is too large.");
    }
    cJSON_Delete(in);
    resp->status = 200;
    cm_strlcpy(resp->content_type, c.fmt == CM_QUERY_JSON ? CW_JSON_CT : "text/xml",
               sizeof resp->content_type);
    sd_resp_header(resp, "x-amzn-RequestId", rid);
    if (c.err_code)
        error_response(&c, resp, rid);
}
