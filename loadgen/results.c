/* results.c: see results.h. Histograms hold microseconds; every output shows
 * milliseconds (with three decimals) to match HdrHistogram's tools. */
#include "results.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm/buf.h"
#include "cm/clock.h"
#include "cm/err.h"
#include "cm/hist.h"
#include "cm/json.h"
#include "cm/mem.h"
#include "cm/units.h"
#include "scenario.h"
#include "stats.h"

#ifndef LG_VERSION
#define LG_VERSION "0"
#endif

static const double pcts[] = {50, 90, 99, 99.9, 99.99};
static const char *const pct_names[] = {"p50", "p90", "p99", "p99.9", "p99.99"};

static double ms(double us)
{
    return round(us) / 1000.0;
}

static cJSON *hist_json(const struct cm_hist *h)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "count", (double)cm_hist_count(h));
    cJSON_AddStringToObject(o, "unit", "ms");
    if (!cm_hist_count(h))
        return o;
    cJSON_AddNumberToObject(o, "min", ms((double)cm_hist_min(h)));
    cJSON_AddNumberToObject(o, "mean", ms(cm_hist_mean(h)));
    cJSON_AddNumberToObject(o, "stddev", ms(cm_hist_stddev(h)));
    for (size_t i = 0; i < 5; i++)
        cJSON_AddNumberToObject(o, pct_names[i], ms((double)cm_hist_percentile(h, pcts[i])));
    cJSON_AddNumberToObject(o, "max", ms((double)cm_hist_max(h)));
    return o;
}

static cJSON *mset_json(const struct lg_mset *m, double secs)
{
    cJSON *o = cJSON_CreateObject();
    const int64_t *c = m->c;
    cJSON_AddNumberToObject(o, "requests", (double)c[LG_C_REQUESTS]);
    cJSON_AddNumberToObject(o, "completed", (double)c[LG_C_COMPLETED]);
    cJSON_AddNumberToObject(o, "ok", (double)c[LG_C_OK]);
    cJSON_AddNumberToObject(o, "errors", (double)c[LG_C_ERRORS]);
    cJSON_AddNumberToObject(o, "error_rate",
                            c[LG_C_COMPLETED] ? (double)c[LG_C_ERRORS] / (double)c[LG_C_COMPLETED]
                                              : 0);
    cJSON_AddNumberToObject(o, "rps", secs > 0 ? (double)c[LG_C_COMPLETED] / secs : 0);
    cJSON *ctr = cJSON_AddObjectToObject(o, "counters");
    for (int i = 0; i < LG_C_COUNT; i++)
        cJSON_AddNumberToObject(ctr, lg_ctr_name(i), (double)c[i]);
    for (int k = 0; k < LG_H_COUNT; k++)
        cJSON_AddItemToObject(o, lg_hist_kind_name(k), hist_json(m->h[k]));
    return o;
}

static cJSON *thresholds_json(const struct lg_run_result *r)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < r->sc->n_th; i++) {
        const struct lg_thresh *t = &r->sc->th[i];
        const struct lg_thresh_result *x = &r->tr[i];
        int dur =
            t->expr.kind != LG_TK_CTR && t->expr.kind != LG_TK_RPS && t->expr.agg != LG_AGG_COUNT;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "threshold", t->text);
        cJSON_AddStringToObject(o, "metric", t->expr.metric_text);
        cJSON_AddBoolToObject(o, "pass", x->pass);
        cJSON_AddBoolToObject(o, "has_samples", x->has_samples);
        cJSON_AddNumberToObject(o, "value", dur ? ms(x->value) : x->value);
        cJSON_AddNumberToObject(o, "limit", dur ? ms(t->expr.value) : t->expr.value);
        cJSON_AddStringToObject(o, "unit",
                                dur                          ? "ms"
                                : t->expr.agg == LG_AGG_RATE ? "fraction"
                                                             : "");
        cJSON_AddBoolToObject(o, "abort_on_fail", t->abort_on_fail);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static cJSON *errors_json(const struct lg_run_result *r)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < r->n_errs; i++) {
        const struct lg_err_sample *e = &r->errs[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "correlation_id", e->corr_id);
        cJSON_AddStringToObject(o, "endpoint", r->sc->reqs[e->ep].name);
        cJSON_AddNumberToObject(o, "status", e->status);
        cJSON_AddNumberToObject(o, "intended_ms", (double)e->intended_ms);
        cJSON_AddNumberToObject(o, "latency_ms", ms((double)e->latency_us));
        cJSON_AddStringToObject(o, "error", e->what);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static cJSON *summary_json(const struct lg_run_result *r)
{
    const struct lg_scenario *sc = r->sc;
    const struct lg_stats *s = r->total;
    char ts[32];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "format_version", LG_SUMMARY_FORMAT_VERSION);
    cJSON_AddStringToObject(o, "tool", "loadgen " LG_VERSION);
    cJSON *scn = cJSON_AddObjectToObject(o, "scenario");
    cJSON_AddStringToObject(scn, "name", sc->name);
    cJSON_AddStringToObject(scn, "file", sc->path);
    cJSON_AddStringToObject(o, "target", r->target);
    cm_clock_format_utc(r->start_wall_ns, 0, ts);
    cJSON_AddStringToObject(o, "start", ts);
    cm_clock_format_utc(r->end_wall_ns, 0, ts);
    cJSON_AddStringToObject(o, "end", ts);
    cJSON_AddNumberToObject(o, "duration_s", r->recorded_s);
    cJSON_AddNumberToObject(o, "planned_s", r->planned_s);
    cJSON_AddBoolToObject(o, "pass", r->pass);
    cJSON_AddBoolToObject(o, "valid", r->valid);
    cJSON_AddBoolToObject(o, "complete", r->complete);
    cJSON_AddBoolToObject(o, "interrupted", r->interrupted);
    if (r->invalid_why[0])
        cJSON_AddStringToObject(o, "invalid_reason", r->invalid_why);
    if (r->aborted_by)
        cJSON_AddStringToObject(o, "aborted_by", r->aborted_by);
    cJSON *cfg = cJSON_AddObjectToObject(o, "config");
    cJSON_AddStringToObject(cfg, "executor", sc->executor ? "closed" : "open");
    cJSON_AddNumberToObject(cfg, "workers", r->workers);
    cJSON_AddNumberToObject(cfg, "connections", (double)sc->http.connections);
    static const char *const vers[] = {"1.1", "2", "2-prior-knowledge"};
    cJSON_AddStringToObject(cfg, "http_version", vers[sc->http.version]);
    cJSON *sch = cJSON_AddObjectToObject(o, "schedule");
    const struct lg_mset *all = &s->ep[s->n_ep];
    cJSON_AddNumberToObject(sch, "expected_requests", round(r->expected_requests));
    cJSON_AddNumberToObject(sch, "sent", (double)all->c[LG_C_REQUESTS]);
    cJSON_AddNumberToObject(sch, "dropped", (double)all->c[LG_C_DROPPED]);
    cJSON_AddNumberToObject(sch, "queued", (double)all->c[LG_C_QUEUED]);
    cJSON_AddNumberToObject(sch, "cancelled", (double)r->cancelled);
    cJSON_AddNumberToObject(sch, "lag_tolerance_ms", (double)sc->lag_tolerance_ns / 1e6);
    cJSON_AddItemToObject(sch, "lag", hist_json(s->sched_lag));
    cJSON_AddItemToObject(sch, "queue_wait", hist_json(s->queue_wait));
    cJSON *http = mset_json(all, r->recorded_s);
    cJSON_AddItemToObject(o, "http", http);
    cJSON *bs = cJSON_AddObjectToObject(http, "latency_by_status");
    for (int i = 0; i < 5; i++) {
        char k[4] = {(char)('1' + i), 'x', 'x', 0};
        if (cm_hist_count(s->by_class[i]))
            cJSON_AddItemToObject(bs, k, hist_json(s->by_class[i]));
    }
    cJSON *eps = cJSON_AddObjectToObject(http, "endpoints");
    for (int e = 0; e < s->n_ep; e++) {
        cJSON *x = mset_json(&s->ep[e], r->recorded_s);
        cJSON_AddStringToObject(x, "method", sc->reqs[e].method);
        cJSON_AddStringToObject(x, "path", sc->reqs[e].path);
        cJSON_AddItemToObject(eps, sc->reqs[e].name, x);
    }
    cJSON_AddItemToObject(o, "thresholds", thresholds_json(r));
    cJSON_AddItemToObject(o, "errors_sample", errors_json(r));
    if (r->sampled) {
        cJSON *rl = cJSON_AddObjectToObject(o, "requests_log");
        cJSON_AddStringToObject(rl, "file", "requests.jsonl");
        cJSON_AddNumberToObject(rl, "fraction", r->sc->sample_requests);
        cJSON_AddNumberToObject(rl, "records", (double)r->sampled_written);
        cJSON_AddNumberToObject(rl, "lost", (double)r->sampled_lost);
    }
    return o;
}

static int write_text(const char *dir, const char *name, const char *text, size_t n)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return CM_EIO;
    int ok = fwrite(text, 1, n, f) == n;
    ok = (fclose(f) == 0) && ok;
    return ok ? 0 : CM_EIO;
}

static void md_hist_row(struct cm_buf *b, const char *name, const struct cm_hist *h)
{
    if (!cm_hist_count(h)) {
        cm_buf_printf(b, "| %s | 0 | | | | | | |\n", name);
        return;
    }
    cm_buf_printf(b, "| %s | %lld | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |\n", name,
                  (long long)cm_hist_count(h), ms(cm_hist_mean(h)),
                  ms((double)cm_hist_percentile(h, 50)), ms((double)cm_hist_percentile(h, 90)),
                  ms((double)cm_hist_percentile(h, 99)), ms((double)cm_hist_percentile(h, 99.9)),
                  ms((double)cm_hist_max(h)));
}

static void report_md(const struct lg_run_result *r, struct cm_buf *b)
{
    const struct lg_scenario *sc = r->sc;
    const struct lg_stats *s = r->total;
    const struct lg_mset *all = &s->ep[s->n_ep];
    char ts[32];
    cm_clock_format_utc(r->start_wall_ns, 0, ts);
    cm_buf_printf(b, "# Run report: %s\n\n", sc->name);
    cm_buf_printf(
        b, "- Scenario: `%s`\n- Target: %s\n- Started: %s, recorded %.1f s of %.1f s planned\n",
        sc->path, r->target, ts, r->recorded_s, r->planned_s);
    cm_buf_printf(b, "- Result: **%s**; valid: %s; complete: %s\n", r->pass ? "PASS" : "FAIL",
                  r->valid ? "yes" : "no", r->complete ? "yes" : "no");
    if (r->invalid_why[0])
        cm_buf_printf(b, "- Invalid because: %s\n", r->invalid_why);
    if (r->aborted_by)
        cm_buf_printf(b, "- Aborted by threshold `%s`\n", r->aborted_by);
    cm_buf_puts(b, "\n## Thresholds\n\n| | threshold | observed |\n|---|---|---|\n");
    for (size_t i = 0; i < sc->n_th; i++) {
        const struct lg_thresh_result *x = &r->tr[i];
        int dur = sc->th[i].expr.kind != LG_TK_CTR && sc->th[i].expr.kind != LG_TK_RPS;
        if (!x->has_samples)
            cm_buf_printf(b, "| FAIL | `%s` | no samples |\n", sc->th[i].text);
        else
            cm_buf_printf(b, "| %s | `%s` | %.4g%s |\n", x->pass ? "pass" : "FAIL", sc->th[i].text,
                          dur ? ms(x->value) : x->value, dur ? " ms" : "");
    }
    cm_buf_printf(b,
                  "\n## Requests\n\n%lld sent, %lld completed, %lld ok, %lld errors "
                  "(connect %lld, timeout %lld, other transport %lld, unexpected status %lld; "
                  "4xx %lld, 5xx %lld, 429 %lld); %.1f req/s.\n",
                  (long long)all->c[LG_C_REQUESTS], (long long)all->c[LG_C_COMPLETED],
                  (long long)all->c[LG_C_OK], (long long)all->c[LG_C_ERRORS],
                  (long long)all->c[LG_C_CONNECT_ERR], (long long)all->c[LG_C_TIMEOUT],
                  (long long)all->c[LG_C_TRANSPORT], (long long)all->c[LG_C_UNEXPECTED],
                  (long long)all->c[LG_C_S4XX], (long long)all->c[LG_C_S5XX],
                  (long long)all->c[LG_C_S429],
                  r->recorded_s > 0 ? (double)all->c[LG_C_COMPLETED] / r->recorded_s : 0);
    cm_buf_puts(b,
                "\n## Latency (ms)\n\nCorrected latency is measured from each request's "
                "intended send time.\n\n| metric | count | mean | p50 | p90 | p99 | p99.9 | max |\n"
                "|---|---|---|---|---|---|---|---|\n");
    for (int k = 0; k < LG_H_COUNT; k++)
        md_hist_row(b, lg_hist_kind_name(k), all->h[k]);
    for (int e = 0; e < s->n_ep; e++) {
        char name[160];
        snprintf(name, sizeof(name), "%s latency", sc->reqs[e].name);
        md_hist_row(b, name, s->ep[e].h[LG_H_LATENCY]);
    }
    md_hist_row(b, "generator lag", s->sched_lag);
    md_hist_row(b, "queue wait", s->queue_wait);
    cm_buf_puts(b, "\nFiles: `summary.json`, `histograms.hlog` (HdrHistogram interval log, "
                   "microsecond values), `timeseries.jsonl`.\n");
}

int lg_results_write(const struct lg_run_result *r)
{
    cJSON *o = summary_json(r);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    int rc = text ? write_text(r->out_dir, "summary.json", text, strlen(text)) : CM_EIO;
    free(text);
    struct cm_buf b;
    cm_buf_init(&b, 0);
    report_md(r, &b);
    if (rc == 0)
        rc = write_text(r->out_dir, "report.md", cm_buf_cstr(&b), b.len);
    cm_buf_deinit(&b);
    return rc;
}

static void fmt_ms(double us, char out[32])
{
    cm_units_format_duration((int64_t)(us * 1000.0), out);
}

static void print_hist(FILE *out, const char *name, const struct cm_hist *h)
{
    char p[7][32];
    fprintf(out, "    %-22s", name);
    if (!cm_hist_count(h)) {
        fprintf(out, " no samples\n");
        return;
    }
    fmt_ms(cm_hist_mean(h), p[0]);
    fmt_ms((double)cm_hist_percentile(h, 50), p[1]);
    fmt_ms((double)cm_hist_percentile(h, 90), p[2]);
    fmt_ms((double)cm_hist_percentile(h, 99), p[3]);
    fmt_ms((double)cm_hist_percentile(h, 99.9), p[4]);
    fmt_ms((double)cm_hist_percentile(h, 99.99), p[5]);
    fmt_ms((double)cm_hist_max(h), p[6]);
    fprintf(out, " avg=%-8s p50=%-8s p90=%-8s p99=%-8s p99.9=%-8s p99.99=%-8s max=%s\n", p[0], p[1],
            p[2], p[3], p[4], p[5], p[6]);
}

static void dots(FILE *out, const char *name)
{
    int n = fprintf(out, "    %s", name);
    for (; n < 27; n++)
        fputc('.', out);
    fputc(' ', out);
}

void lg_results_print(const struct lg_run_result *r, FILE *out, int color)
{
    const struct lg_scenario *sc = r->sc;
    const struct lg_stats *s = r->total;
    const struct lg_mset *all = &s->ep[s->n_ep];
    const char *g = color ? "\033[32m" : "", *red = color ? "\033[31m" : "",
               *off = color ? "\033[0m" : "";
    fprintf(out, "\n  scenario: %s (%s)\n  target:   %s\n", sc->name, sc->path, r->target);
    fprintf(out, "  recorded: %.1fs of %.1fs, %d workers, %lld connections%s\n", r->recorded_s,
            r->planned_s, r->workers, (long long)sc->http.connections,
            r->complete ? "" : " (INCOMPLETE)");
    if (sc->n_th) {
        fprintf(out, "\n  THRESHOLDS\n");
        for (size_t i = 0; i < sc->n_th; i++) {
            const struct lg_thresh_result *x = &r->tr[i];
            int dur = sc->th[i].expr.kind != LG_TK_CTR && sc->th[i].expr.kind != LG_TK_RPS &&
                      sc->th[i].expr.agg != LG_AGG_COUNT;
            char v[32];
            if (!x->has_samples)
                cm_strlcpy(v, "no samples", sizeof(v));
            else if (dur)
                fmt_ms(x->value, v);
            else if (sc->th[i].expr.agg == LG_AGG_RATE)
                snprintf(v, sizeof(v), "%.3f%%", x->value * 100);
            else
                snprintf(v, sizeof(v), "%.6g", x->value);
            fprintf(out, "    %s%s%s %s  (%s)\n", x->pass ? g : red, x->pass ? "✓" : "✗", off,
                    sc->th[i].text, v);
        }
    }
    fprintf(out, "\n  HTTP\n");
    dots(out, "requests");
    fprintf(out, "%lld sent, %lld completed, %.1f/s\n", (long long)all->c[LG_C_REQUESTS],
            (long long)all->c[LG_C_COMPLETED],
            r->recorded_s > 0 ? (double)all->c[LG_C_COMPLETED] / r->recorded_s : 0);
    dots(out, "errors");
    fprintf(out,
            "%lld (%.3f%%): connect %lld, timeout %lld, transport %lld, unexpected %lld; "
            "4xx %lld, 5xx %lld, 429 %lld\n",
            (long long)all->c[LG_C_ERRORS],
            all->c[LG_C_COMPLETED]
                ? 100.0 * (double)all->c[LG_C_ERRORS] / (double)all->c[LG_C_COMPLETED]
                : 0,
            (long long)all->c[LG_C_CONNECT_ERR], (long long)all->c[LG_C_TIMEOUT],
            (long long)all->c[LG_C_TRANSPORT], (long long)all->c[LG_C_UNEXPECTED],
            (long long)all->c[LG_C_S4XX], (long long)all->c[LG_C_S5XX],
            (long long)all->c[LG_C_S429]);
    print_hist(out, "latency (corrected)", all->h[LG_H_LATENCY]);
    print_hist(out, "latency (uncorrected)", all->h[LG_H_LATENCY_UNCORR]);
    print_hist(out, "connect", all->h[LG_H_CONNECT]);
    print_hist(out, "time to first byte", all->h[LG_H_TTFB]);
    if (s->n_ep > 1)
        for (int e = 0; e < s->n_ep; e++) {
            char n[96];
            snprintf(n, sizeof(n), "{name:%s}", sc->reqs[e].name);
            print_hist(out, n, s->ep[e].h[LG_H_LATENCY]);
        }
    fprintf(out, "\n  GENERATOR\n");
    print_hist(out, "schedule lag", s->sched_lag);
    print_hist(out, "queue wait", s->queue_wait);
    dots(out, "queued / dropped");
    fprintf(out, "%lld / %lld\n", (long long)all->c[LG_C_QUEUED], (long long)all->c[LG_C_DROPPED]);
    if (!r->valid)
        fprintf(out, "\n  %sINVALID RUN%s: %s\n", red, off, r->invalid_why);
    if (r->aborted_by)
        fprintf(out, "\n  aborted by threshold: %s\n", r->aborted_by);
    fprintf(out, "\n  result: %s%s%s   results in %s\n\n", r->pass && r->valid ? g : red,
            !r->valid ? "INVALID"
            : r->pass ? "PASS"
                      : "FAIL",
            off, r->out_dir);
}

static int hlog_one(struct cm_buf *out, const char *tag, const struct cm_hist *h, double start_s,
                    double len_s)
{
    return cm_hist_count(h) ? cm_hist_log_line(out, tag, start_s, len_s, h, 1000.0) : 0;
}

int lg_results_hlog(struct cm_buf *out, const struct lg_stats *iv, const struct lg_scenario *sc,
                    double start_s, double len_s)
{
    char tag[256];
    int rc = 0;
    for (int e = iv->n_ep; e >= 0 && rc == 0; e--)
        for (int k = 0; k < LG_H_COUNT && rc == 0; k++) {
            if (e == iv->n_ep)
                snprintf(tag, sizeof(tag), "http.%s", lg_hist_kind_name(k));
            else
                snprintf(tag, sizeof(tag), "http.%s{name:%s}", lg_hist_kind_name(k),
                         sc->reqs[e].name);
            rc = hlog_one(out, tag, iv->ep[e].h[k], start_s, len_s);
        }
    for (int i = 0; i < 5 && rc == 0; i++) {
        snprintf(tag, sizeof(tag), "http.latency{status:%dxx}", i + 1);
        rc = hlog_one(out, tag, iv->by_class[i], start_s, len_s);
    }
    if (rc == 0)
        rc = hlog_one(out, "generator.lag", iv->sched_lag, start_s, len_s);
    if (rc == 0)
        rc = hlog_one(out, "generator.queue_wait", iv->queue_wait, start_s, len_s);
    return rc;
}

int lg_results_timeseries(struct cm_buf *out, const struct lg_stats *iv, double t_s, double len_s,
                          const char *phase, double target_rate, int inflight, int queued)
{
    const struct lg_mset *a = &iv->ep[iv->n_ep];
    const struct cm_hist *h = a->h[LG_H_LATENCY];
    cm_buf_printf(out, "{\"t\":%.3f,\"phase\":", t_s);
    cm_json_append_string(out, phase, strlen(phase));
    return cm_buf_printf(
        out,
        ",\"target_rate\":%.1f,\"sent_per_s\":%.1f,\"rps\":%.1f,\"errors\":%lld,\"status_4xx\":%"
        "lld,"
        "\"status_5xx\":%lld,\"timeouts\":%lld,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,"
        "\"max_ms\":%.3f,\"p99_uncorrected_ms\":%.3f,\"lag_p99_ms\":%.3f,\"inflight\":%d,"
        "\"queued\":%d,\"dropped\":%lld}\n",
        target_rate, (double)a->c[LG_C_REQUESTS] / len_s, (double)a->c[LG_C_COMPLETED] / len_s,
        (long long)a->c[LG_C_ERRORS], (long long)a->c[LG_C_S4XX], (long long)a->c[LG_C_S5XX],
        (long long)a->c[LG_C_TIMEOUT], ms((double)cm_hist_percentile(h, 50)),
        ms((double)cm_hist_percentile(h, 90)), ms((double)cm_hist_percentile(h, 99)),
        ms((double)cm_hist_max(h)), ms((double)cm_hist_percentile(a->h[LG_H_LATENCY_UNCORR], 99)),
        ms((double)cm_hist_percentile(iv->sched_lag, 99)), inflight, queued,
        (long long)a->c[LG_C_DROPPED]);
}
