/* run.c: the coordinator (see run.h). It never touches a request: workers
 * hand over their interval stats once per second under a short mutex, and
 * the coordinator adds bins (never percentiles) into the interval and the
 * run totals. */
#include "run.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cm/buf.h"
#include "cm/clock.h"
#include "cm/err.h"
#include "cm/hist.h"
#include "cm/json.h"
#include "cm/log.h"
#include "cm/mem.h"
#include "cm/units.h"
#include "results.h"
#include "scenario.h"
#include "schedule.h"
#include "stats.h"
#include "target.h"
#include "worker.h"

#define LAG_STREAK_MAX 5 /* consecutive intervals over tolerance = sustained */

static atomic_int g_stop;
static volatile sig_atomic_t g_interrupted;

static void on_signal(int sig)
{
    (void)sig;
    g_interrupted = 1;
    atomic_store(&g_stop, 1);
}

void lg_run_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

struct coord {
    struct lg_scenario *sc;
    const struct lg_run_opts *o;
    struct lg_target tgt;
    struct lg_worker **w;
    int nw;
    int64_t t0, t0_wall, iv, warm_ns, end_ns;
    struct lg_stats *ivs, *total;
    FILE *hlog, *ts, *reqlog;
    struct lg_req_rec *recs; /* LG_REC_MAX, when sampling */
    int64_t rec_written, rec_lost;
    char dir[1024];
    int tty, progress_lines, color;
    int64_t last_plain;
    int lag_streak;
    char invalid[512];
    const char *aborted_by;
    double last_p50, last_p99, last_rps;
    int start_failed;
    int64_t last_errors;
};

static int mkdir_p(const char *path)
{
    char tmp[1024];
    cm_strlcpy(tmp, path, sizeof(tmp));
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) && errno != EEXIST)
                return CM_EIO;
            *p = '/';
        }
    return (mkdir(tmp, 0755) && errno != EEXIST) ? CM_EIO : 0;
}

static int open_outputs(struct coord *c)
{
    if (c->o->out_dir) {
        cm_strlcpy(c->dir, c->o->out_dir, sizeof(c->dir));
    } else {
        char ts[32];
        cm_clock_format_utc(cm_clock_wall_ns(), 1, ts);
        snprintf(c->dir, sizeof(c->dir), "reports/runs/%s-%s", c->sc->name, ts);
    }
    if (mkdir_p(c->dir)) {
        fprintf(stderr, "loadgen: cannot create %s: %s\n", c->dir, strerror(errno));
        return CM_EIO;
    }
    char p[1100];
    snprintf(p, sizeof(p), "%s/histograms.hlog", c->dir);
    c->hlog = fopen(p, "w");
    snprintf(p, sizeof(p), "%s/timeseries.jsonl", c->dir);
    c->ts = fopen(p, "w");
    if (c->sc->sample_requests > 0) {
        snprintf(p, sizeof(p), "%s/requests.jsonl", c->dir);
        c->reqlog = fopen(p, "w");
        c->recs = cm_xcalloc(LG_REC_MAX, sizeof(*c->recs));
    }
    if (!c->hlog || !c->ts || (c->sc->sample_requests > 0 && !c->reqlog)) {
        fprintf(stderr, "loadgen: cannot write into %s: %s\n", c->dir, strerror(errno));
        return CM_EIO;
    }
    return 0;
}

static int nworkers(const struct lg_scenario *sc, const struct lg_run_opts *o)
{
    int64_t n = o->workers > 0 ? o->workers : sc->workers;
    if (n <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus > 0 ? cpus : 1;
    }
    if (n > sc->http.connections)
        n = sc->http.connections; /* every worker needs a connection */
    if (sc->executor == LG_EXEC_CLOSED) {
        int64_t maxv = 1;
        for (size_t i = 0; i < sc->n_phases; i++)
            maxv = sc->phases[i].vus > maxv ? sc->phases[i].vus : maxv;
        n = n > maxv ? maxv : n;
    }
    return (int)(n < 1 ? 1 : n);
}

static double rate_at(const struct lg_scenario *sc, int64_t rel, size_t *phase)
{
    int64_t t = 0;
    for (size_t i = 0; i < sc->n_phases; i++) {
        const struct lg_phase *p = &sc->phases[i];
        if (rel < t + p->duration_ns || i + 1 == sc->n_phases) {
            *phase = i;
            double f = p->duration_ns ? (double)(rel - t) / (double)p->duration_ns : 0;
            f = f < 0 ? 0 : f > 1 ? 1 : f;
            return sc->executor == LG_EXEC_CLOSED
                       ? (double)p->vus
                       : p->rate_per_s + (p->ramp_to_per_s - p->rate_per_s) * f;
        }
        t += p->duration_ns;
    }
    *phase = 0;
    return 0;
}

static void phase_name(const struct lg_scenario *sc, size_t i, char *out, size_t n)
{
    if (sc->phases[i].name)
        cm_strlcpy(out, sc->phases[i].name, n);
    else
        snprintf(out, n, "phase %zu", i + 1);
}

/* ---- progress ---- */

static void progress(struct coord *c, int64_t now, int final)
{
    if (c->o->quiet)
        return;
    const struct lg_scenario *sc = c->sc;
    int64_t rel = now - c->t0;
    size_t ph;
    double target = rate_at(sc, rel, &ph);
    char el[32], rem[32], p50[32], p99[32], name[64];
    cm_units_format_duration(rel > 0 ? rel / CM_NS_PER_S * CM_NS_PER_S : 0, el);
    int64_t left = c->end_ns - rel;
    cm_units_format_duration(left > 0 ? left / CM_NS_PER_S * CM_NS_PER_S : 0, rem);
    cm_units_format_duration((int64_t)(c->last_p50 * 1000), p50);
    cm_units_format_duration((int64_t)(c->last_p99 * 1000), p99);
    phase_name(sc, ph, name, sizeof(name));
    int infl = 0, q = 0;
    for (int i = 0; i < c->nw; i++) {
        infl += lg_worker_inflight(c->w[i]);
        q += lg_worker_queued(c->w[i]);
    }
    const char *unit = sc->executor == LG_EXEC_CLOSED ? " vus" : "/s";
    if (!c->tty) {
        if (!final && now - c->last_plain < 5 * CM_NS_PER_S)
            return;
        c->last_plain = now;
        fprintf(stderr,
                "loadgen: %s elapsed, %s left, %s: %.0f/s (target %.0f%s), p50 %s, p99 %s, "
                "errors %lld, in flight %d, queued %d\n",
                el, rem, name, c->last_rps, target, unit, p50, p99, (long long)c->last_errors, infl,
                q);
        return;
    }
    if (c->progress_lines)
        fprintf(stderr, "\033[%dA", c->progress_lines);
    int64_t t = 0;
    for (size_t i = 0; i < sc->n_phases; i++) {
        const struct lg_phase *p = &sc->phases[i];
        double f = (double)(rel - t) / (double)(p->duration_ns ? p->duration_ns : 1);
        f = f < 0 ? 0 : f > 1 ? 1 : f;
        char bar[31];
        int fill = (int)(f * 30);
        for (int k = 0; k < 30; k++)
            bar[k] = k < fill ? '#' : '.';
        bar[30] = 0;
        phase_name(sc, i, name, sizeof(name));
        char d[32];
        cm_units_format_duration(p->duration_ns, d);
        fprintf(stderr, "\033[K  %-14.14s [%s] %3.0f%%  %s%s\n", name, bar, f * 100, d,
                p->warmup ? " (warm-up)" : "");
        t += p->duration_ns;
    }
    fprintf(stderr,
            "\033[K  %s / %s left  rate %.0f/s (target %.0f%s)  p50 %s  p99 %s  errors %lld  "
            "in flight %d  queued %d\n",
            el, rem, c->last_rps, target, unit, p50, p99, (long long)c->last_errors, infl, q);
    c->progress_lines = (int)sc->n_phases + 1;
}

/* ---- per interval ---- */

static void check_abort(struct coord *c, int64_t rel)
{
    const struct lg_scenario *sc = c->sc;
    double secs = (double)(rel - c->warm_ns) / 1e9;
    if (secs <= 0)
        return;
    for (size_t i = 0; i < sc->n_th && !c->aborted_by; i++) {
        const struct lg_thresh *t = &sc->th[i];
        if (!t->abort_on_fail || rel - c->warm_ns < t->delay_ns)
            continue;
        double v;
        int has;
        if (!lg_thresh_eval(&t->expr, c->total, secs, &v, &has) && has) {
            c->aborted_by = t->text;
            atomic_store(&g_stop, 1);
        }
    }
}

/* requests.jsonl: one line per sampled request, intended send time on the
 * wall clock, so the line joins with the target's logs by correlation_id. */
static void write_records(struct coord *c)
{
    if (!c->reqlog)
        return;
    struct cm_buf b;
    cm_buf_init(&b, 0);
    int64_t lost_total = 0;
    for (int i = 0; i < c->nw; i++) {
        int64_t lost = 0;
        size_t n = lg_worker_take_records(c->w[i], c->recs, LG_REC_MAX, &lost);
        lost_total += lost;
        for (size_t k = 0; k < n; k++) {
            const struct lg_req_rec *r = &c->recs[k];
            char ts[32];
            cm_clock_format_utc(c->t0_wall + r->intended_ns, 0, ts);
            cm_buf_reset(&b);
            cm_buf_printf(&b,
                          "{\"intended\":\"%s\",\"t_ms\":%.3f,\"correlation_id\":\"%s\","
                          "\"endpoint\":",
                          ts, (double)r->intended_ns / 1e6, r->corr_id);
            const char *name = c->sc->reqs[r->ep].name;
            cm_json_append_string(&b, name, strlen(name));
            cm_buf_printf(&b, ",\"status\":%d,\"latency_ms\":%.3f", r->status,
                          (double)r->latency_us / 1000.0);
            if (r->uncorrected_us >= 0)
                cm_buf_printf(&b, ",\"latency_uncorrected_ms\":%.3f",
                              (double)r->uncorrected_us / 1000.0);
            if (r->err)
                cm_buf_printf(&b, ",\"error\":\"%s\"", lg_ctr_name((enum lg_ctr)r->err));
            cm_buf_puts(&b, "}\n");
            fwrite(b.data, 1, b.len, c->reqlog);
        }
        c->rec_written += (int64_t)n;
    }
    c->rec_lost = lost_total;
    fflush(c->reqlog);
    cm_buf_deinit(&b);
}

static void interval(struct coord *c, int k, int64_t now)
{
    write_records(c);
    for (int i = 0; i < c->nw; i++)
        lg_worker_collect(c->w[i], c->ivs);
    const struct lg_mset *a = &c->ivs->ep[c->ivs->n_ep];
    double len = (double)c->iv / 1e9, start = (double)(k - 1) * len;
    int64_t rel = now - c->t0;
    size_t ph;
    double target = rate_at(c->sc, start * 1e9 + 1, &ph);
    char name[64];
    phase_name(c->sc, ph, name, sizeof(name));
    int infl = 0, q = 0;
    for (int i = 0; i < c->nw; i++) {
        infl += lg_worker_inflight(c->w[i]);
        q += lg_worker_queued(c->w[i]);
    }
    struct cm_buf b;
    cm_buf_init(&b, 0);
    if (a->c[LG_C_REQUESTS] || a->c[LG_C_COMPLETED] || cm_hist_count(c->ivs->sched_lag)) {
        lg_results_hlog(&b, c->ivs, c->sc, start, len);
        fwrite(b.data ? b.data : "", 1, b.len, c->hlog);
        fflush(c->hlog);
        cm_buf_reset(&b);
        lg_results_timeseries(&b, c->ivs, start, len, name, target, infl, q);
        fwrite(b.data ? b.data : "", 1, b.len, c->ts);
        fflush(c->ts);
    }
    cm_buf_deinit(&b);
    c->last_rps = (double)a->c[LG_C_COMPLETED] / len;
    c->last_p50 = (double)cm_hist_percentile(a->h[LG_H_LATENCY], 50);
    c->last_p99 = (double)cm_hist_percentile(a->h[LG_H_LATENCY], 99);
    if (cm_hist_count(c->ivs->sched_lag) &&
        (double)cm_hist_percentile(c->ivs->sched_lag, 99) * 1000.0 >
            (double)c->sc->lag_tolerance_ns) {
        if (++c->lag_streak >= LAG_STREAK_MAX && !c->invalid[0])
            snprintf(c->invalid, sizeof(c->invalid),
                     "the generator fell behind its schedule: p99 schedule lag above %s for %d "
                     "seconds in a row (ending at %.0f s)",
                     "lag_tolerance", LAG_STREAK_MAX, start + len);
    } else {
        c->lag_streak = 0;
    }
    lg_stats_add(c->total, c->ivs);
    c->last_errors = c->total->ep[c->total->n_ep].c[LG_C_ERRORS];
    lg_stats_reset(c->ivs);
    check_abort(c, rel);
}

static int all_finished(struct coord *c)
{
    for (int i = 0; i < c->nw; i++)
        if (!lg_worker_finished(c->w[i]))
            return 0;
    return 1;
}

/* 1 when every worker has published interval k (or finished). */
static int all_published(struct coord *c, int k)
{
    for (int i = 0; i < c->nw; i++)
        if (lg_worker_published(c->w[i]) < k && !lg_worker_finished(c->w[i]))
            return 0;
    return 1;
}

/* Interval k is collected once every worker has published it: the line is
 * labelled with the interval its requests belong to even when a worker or
 * the coordinator runs late (up to a second; later data joins the next). */
static void coordinate(struct coord *c)
{
    int k;
    for (k = 1;; k++) {
        int64_t tick = c->t0 + k * c->iv + 20 * CM_NS_PER_MS;
        int64_t give_up = tick + 900 * CM_NS_PER_MS;
        int done = 0;
        for (;;) {
            int64_t now = cm_clock_mono_ns();
            done = all_finished(c);
            if (done || (now >= tick && (all_published(c, k) || now >= give_up)))
                break;
            if (c->tty && now - c->last_plain > 250 * CM_NS_PER_MS) {
                progress(c, now, 0);
                c->last_plain = now;
            }
            int64_t d = (now < tick ? tick : now + 5 * CM_NS_PER_MS) - now;
            cm_clock_sleep_ns(d < 50 * CM_NS_PER_MS ? d : 50 * CM_NS_PER_MS);
        }
        if (done)
            break;
        interval(c, k, cm_clock_mono_ns());
        if (!c->tty)
            progress(c, cm_clock_mono_ns(), 0);
    }
    for (int i = 0; i < c->nw; i++)
        lg_worker_join(c->w[i]);
    interval(c, k, cm_clock_mono_ns()); /* what the workers published last */
}

/* ---- results ---- */

static double expected_requests(const struct lg_scenario *sc)
{
    double n = 0;
    for (size_t i = 0; i < sc->n_phases; i++)
        if (!sc->phases[i].warmup && sc->executor == LG_EXEC_OPEN)
            n += (sc->phases[i].rate_per_s + sc->phases[i].ramp_to_per_s) / 2 *
                 (double)sc->phases[i].duration_ns / 1e9;
    return n;
}

static void check_validity(struct coord *c, struct lg_run_result *r)
{
    const struct lg_stats *s = c->total;
    const struct lg_mset *a = &s->ep[s->n_ep];
    char tol[32], lag[32];
    cm_units_format_duration(c->sc->lag_tolerance_ns, tol);
    cm_units_format_duration(cm_hist_percentile(s->sched_lag, 99) * 1000, lag);
    if (!c->invalid[0] && cm_hist_count(s->sched_lag) &&
        (double)cm_hist_percentile(s->sched_lag, 99) * 1000.0 > (double)c->sc->lag_tolerance_ns)
        snprintf(c->invalid, sizeof(c->invalid),
                 "the generator fell behind its schedule: p99 schedule lag %s > lag_tolerance %s "
                 "(too few CPUs for this rate? try more workers or a lower rate)",
                 lag, tol);
    if (!c->invalid[0] && a->c[LG_C_DROPPED])
        snprintf(c->invalid, sizeof(c->invalid),
                 "%lld arrivals were dropped: every connection was busy and the send queue "
                 "(queue_max %lld) was full; raise http.connections or queue_max",
                 (long long)a->c[LG_C_DROPPED], (long long)c->sc->queue_max);
    if (c->invalid[0]) {
        r->valid = 0;
        cm_strlcpy(r->invalid_why, c->invalid, sizeof(r->invalid_why));
    }
    if (a->c[LG_C_QUEUED] && r->valid && !c->o->quiet)
        fprintf(stderr,
                "loadgen: note: %lld arrivals waited for a free connection (all %lld busy); "
                "their wait counts in the corrected latency\n",
                (long long)a->c[LG_C_QUEUED], (long long)c->sc->http.connections);
}

static int finish(struct coord *c, int64_t end_mono, int64_t end_wall)
{
    struct lg_scenario *sc = c->sc;
    struct lg_run_result r;
    memset(&r, 0, sizeof(r));
    r.sc = sc;
    r.target = c->tgt.base_url;
    r.out_dir = c->dir;
    r.start_wall_ns = c->t0_wall;
    r.end_wall_ns = end_wall;
    int64_t rec_end = end_mono - c->t0 < c->end_ns ? end_mono - c->t0 : c->end_ns;
    r.recorded_s = rec_end > c->warm_ns ? (double)(rec_end - c->warm_ns) / 1e9 : 0;
    r.planned_s = (double)(c->end_ns - c->warm_ns) / 1e9;
    r.expected_requests = expected_requests(sc);
    r.workers = c->nw;
    r.total = c->total;
    r.interrupted = g_interrupted != 0;
    r.aborted_by = c->aborted_by;
    r.complete = !r.interrupted && !r.aborted_by;
    r.valid = 1;
    check_validity(c, &r);
    r.tr = cm_xcalloc(sc->n_th ? sc->n_th : 1, sizeof(*r.tr));
    r.pass = !r.aborted_by;
    for (size_t i = 0; i < sc->n_th; i++) {
        r.tr[i].pass = lg_thresh_eval(&sc->th[i].expr, c->total, r.recorded_s, &r.tr[i].value,
                                      &r.tr[i].has_samples);
        r.pass = r.pass && r.tr[i].pass;
    }
    r.pass = r.pass && r.valid;
    /* error samples: the first few of every worker, in worker order */
    struct lg_err_sample *errs = cm_xcalloc((size_t)c->nw * LG_ERR_SAMPLES, sizeof(*errs));
    for (int i = 0; i < c->nw; i++) {
        const struct lg_err_sample *e;
        size_t n = lg_worker_errors(c->w[i], &e);
        memcpy(errs + r.n_errs, e, n * sizeof(*e));
        r.n_errs += n;
        r.cancelled += lg_worker_cancelled(c->w[i]);
    }
    r.errs = errs;
    r.sampled = c->reqlog != NULL;
    r.sampled_written = c->rec_written;
    r.sampled_lost = c->rec_lost;
    int rc = lg_results_write(&r);
    if (rc)
        fprintf(stderr, "loadgen: cannot write results into %s\n", c->dir);
    if (!c->o->quiet)
        lg_results_print(&r, stdout, c->color);
    int code = r.interrupted    ? LG_EXIT_INTERRUPTED
               : !r.valid || rc ? LG_EXIT_INVALID
               : r.aborted_by   ? LG_EXIT_FAIL
               : r.pass         ? LG_EXIT_PASS
                                : LG_EXIT_FAIL;
    free(errs);
    free(r.tr);
    return code;
}

static int start_workers(struct coord *c)
{
    struct lg_worker_cfg wc = {
        .sc = c->sc,
        .base_url = c->tgt.base_url,
        .nworkers = c->nw,
        .t0_mono_ns = c->t0,
        .t0_wall_ns = c->t0_wall,
        .interval_ns = c->iv,
        .stop = &g_stop,
        .seed = c->sc->seed ? (uint64_t)c->sc->seed : (uint64_t)cm_clock_wall_ns(),
    };
    c->w = cm_xcalloc((size_t)c->nw, sizeof(*c->w));
    for (int i = 0; i < c->nw; i++)
        if (lg_worker_start(&wc, i, &c->w[i])) {
            fprintf(stderr, "loadgen: cannot start worker %d\n", i);
            atomic_store(&g_stop, 1);
            c->nw = i; /* only the started ones are joined and reported */
            c->start_failed = 1;
            return CM_EIO;
        }
    return 0;
}

int lg_run(struct lg_scenario *sc, const struct lg_run_opts *o)
{
    struct coord c;
    char err[1024];
    int code = LG_EXIT_INVALID;
    memset(&c, 0, sizeof(c));
    c.sc = sc;
    c.o = o;
    if (o->duration_ns > 0)
        lg_scenario_set_duration(sc, o->duration_ns + sc->warmup_ns);
    const char *target = o->target ? o->target : sc->target;
    if (sc->http.engine == LG_ENGINE_LEAN && target && strcmp(target, "local") != 0 &&
        strncasecmp(target, "http://", 7) != 0) {
        /* the lean engine speaks cleartext HTTP/1.1 only: say so before anything starts */
        fprintf(stderr,
                "loadgen: %s: http.engine: lean needs an http:// target (got %s); use auto or "
                "curl for https://\n",
                sc->path ? sc->path : "scenario", target);
        return LG_EXIT_USAGE;
    }
    int rc = lg_target_resolve(target, sc, o->yes, &c.tgt, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "loadgen: %s\n", err);
        return rc == CM_EINVAL ? LG_EXIT_USAGE : LG_EXIT_INVALID;
    }
    if (c.tgt.pid && !o->quiet)
        fprintf(stderr, "loadgen: started stackd (pid %d) at %s; it stops when the run ends\n",
                (int)c.tgt.pid, c.tgt.base_url);
    if (open_outputs(&c))
        goto out;
    c.tty = isatty(2);
    c.color = isatty(1) && !getenv("NO_COLOR");
    c.nw = nworkers(sc, o);
    c.iv = CM_NS_PER_S;
    c.end_ns = lg_scenario_duration_ns(sc);
    for (size_t i = 0; i < sc->n_phases && sc->phases[i].warmup; i++)
        c.warm_ns += sc->phases[i].duration_ns;
    c.ivs = lg_stats_new((int)sc->n_reqs);
    c.total = lg_stats_new((int)sc->n_reqs);
    int64_t now = cm_clock_mono_ns();
    c.t0 = now + 100 * CM_NS_PER_MS;
    c.t0_wall = cm_clock_wall_ns() + (c.t0 - now);
    struct cm_buf hb;
    cm_buf_init(&hb, 0);
    cm_hist_log_header(&hb, c.t0_wall);
    fprintf(c.hlog, "#[loadgen %s: values in microseconds, max column in ms]\n", sc->name);
    fwrite(hb.data ? hb.data : "", 1, hb.len, c.hlog);
    cm_buf_deinit(&hb);
    curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
    if (sc->http.version == LG_HTTP_2_PK && cv->version_num < 0x075900)
        fprintf(stderr,
                "loadgen: warning: h2c with prior knowledge fails on reused connections in "
                "libcurl %s (curl issue #10634, fixed in 7.89.0); use http.version 2 over "
                "TLS or 1.1\n",
                cv->version);
    if (!o->quiet)
        fprintf(stderr, "loadgen: %s -> %s, %d workers, %lld connections, results in %s\n",
                sc->name, c.tgt.base_url, c.nw, (long long)sc->http.connections, c.dir);
    if (start_workers(&c) == 0)
        coordinate(&c);
    else
        for (int i = 0; i < c.nw; i++)
            lg_worker_join(c.w[i]);
    if (c.start_failed)
        cm_strlcpy(c.invalid, "the workers could not be started", sizeof(c.invalid));
    progress(&c, cm_clock_mono_ns(), 1);
    code = finish(&c, cm_clock_mono_ns(), cm_clock_wall_ns());
out:
    for (int i = 0; c.w && i < c.nw; i++)
        lg_worker_free(c.w[i]);
    free(c.w);
    lg_stats_free(c.ivs);
    lg_stats_free(c.total);
    if (c.hlog)
        fclose(c.hlog);
    if (c.ts)
        fclose(c.ts);
    if (c.reqlog)
        fclose(c.reqlog);
    free(c.recs);
    lg_target_stop(&c.tgt);
    return code;
}
