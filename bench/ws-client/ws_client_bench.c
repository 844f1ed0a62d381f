/* ws_client_bench.c: lg_wsc alone at scale, on one lg_loop (one thread):
 * opens N sessions as fast as it can (or at --rate), holds them, optionally
 * sends one message per session on open, and reports the open rate, connect
 * latency percentiles, and RSS per session held (RSS after minus RSS with one
 * session open, over N - 1).
 *
 *   ws_client_bench --url ws://127.0.0.1:PORT/path [--sessions N]
 *       [--sources K] [--rate R] [--inflight M] [--hold SECONDS]
 *       [--send TEXT] [--json]
 *
 * --sources K: bind round-robin to 127.0.0.1 .. 127.0.0.K (0: no bind).
 * --inflight M: at most M handshakes outstanding (default 200: lws keeps a
 * timer per handshake in one sorted list, O(M) per insert).
 * Raises RLIMIT_NOFILE to the hard limit. Exit 0 when every session opened
 * and none closed, 1 otherwise, 2 on bad arguments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cm/proc.h"
#include "cm/clock.h"
#include "cm/err.h"
#include "loop.h"
#include "wsc.h"

struct bench {
    int n_open, n_closed, n_msgs;
    int64_t *connect_ns;
    const char *send;
    int reasons[8];
};

static struct bench B;

static void on_open(void *ud, struct lg_wsc_sess *s, void *su, int64_t now)
{
    (void)ud;
    (void)su;
    (void)now;
    B.connect_ns[B.n_open++] = lg_wsc_sess_connect_ns(s);
    if (B.send)
        lg_wsc_send(s, B.send, strlen(B.send), 1);
}

static void on_message(void *ud, struct lg_wsc_sess *s, void *su, const char *d, size_t n,
                       int is_text, int64_t now)
{
    (void)ud;
    (void)s;
    (void)su;
    (void)d;
    (void)n;
    (void)is_text;
    (void)now;
    B.n_msgs++;
}

static void on_close(void *ud, struct lg_wsc_sess *s, void *su, enum lg_wsc_reason reason, int code,
                     int64_t now)
{
    (void)ud;
    (void)s;
    (void)su;
    (void)code;
    (void)now;
    B.n_closed++;
    B.reasons[reason]++;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_ms(const int64_t *v, int n, double p)
{
    if (n <= 0)
        return 0;
    int i = (int)(p / 100.0 * (n - 1) + 0.5);
    return (double)v[i] / 1e6;
}

static int usage(void)
{
    fprintf(stderr, "usage: ws_client_bench --url ws://HOST:PORT/PATH [--sessions N] "
                    "[--sources K] [--rate R] [--inflight M] [--hold S] [--send TEXT] "
                    "[--json]\n");
    return 2;
}

static void run_for(struct lg_loop *l, int64_t ns)
{
    int64_t end = cm_clock_mono_ns() + ns;
    while (cm_clock_mono_ns() < end)
        lg_loop_run_once(l, end);
}

int main(int argc, char **argv)
{
    const char *url = NULL;
    long n = 15000, nsrc = 8, inflight = 200, json = 0;
    double rate = 0, hold = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json")) {
            json = 1;
            continue;
        }
        if (!v)
            return usage();
        i++;
        if (!strcmp(a, "--url"))
            url = v;
        else if (!strcmp(a, "--sessions"))
            n = strtol(v, NULL, 10);
        else if (!strcmp(a, "--sources"))
            nsrc = strtol(v, NULL, 10);
        else if (!strcmp(a, "--rate"))
            rate = strtod(v, NULL);
        else if (!strcmp(a, "--inflight"))
            inflight = strtol(v, NULL, 10);
        else if (!strcmp(a, "--hold"))
            hold = strtod(v, NULL);
        else if (!strcmp(a, "--send"))
            B.send = v;
        else
            return usage();
    }
    if (!url || n < 2 || nsrc < 0 || nsrc > LG_WSC_MAX_SOURCES || inflight < 1)
        return usage();
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);

    static char addr[LG_WSC_MAX_SOURCES][16];
    static const char *src[LG_WSC_MAX_SOURCES];
    for (long i = 0; i < nsrc; i++) {
        snprintf(addr[i], sizeof(addr[i]), "127.0.0.%ld", i + 1);
        src[i] = addr[i];
    }
    struct lg_loop *l;
    if (lg_loop_new(&l))
        return 1;
    struct lg_wsc_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.url = url;
    cfg.sources = src;
    cfg.nsources = (size_t)nsrc;
    cfg.max_sessions = (size_t)n;
    cfg.connect_timeout_ns = 30 * CM_NS_PER_S;
    cfg.cb.on_open = on_open;
    cfg.cb.on_message = on_message;
    cfg.cb.on_close = on_close;
    struct lg_wsc *w;
    int rc = lg_wsc_new(l, &cfg, &w);
    if (rc) {
        fprintf(stderr, "ws_client_bench: %s: %s\n", url, cm_strerror(rc));
        return 2;
    }
    B.connect_ns = calloc((size_t)n, sizeof(int64_t));

    /* one session first: lws, libuv and the allocator warmed up */
    lg_wsc_open(w, NULL, NULL);
    int64_t end = cm_clock_mono_ns() + 10 * CM_NS_PER_S;
    while (B.n_open < 1 && !B.n_closed && cm_clock_mono_ns() < end)
        lg_loop_run_once(l, end);
    long rss0 = (long)(cm_proc_rss_bytes() / 1024);
    int64_t t0 = cm_clock_mono_ns();
    long started = 1;
    end = t0 + 120 * CM_NS_PER_S;
    while (B.n_open + B.n_closed < n && cm_clock_mono_ns() < end) {
        int64_t now = cm_clock_mono_ns();
        long due = rate > 0 ? 1 + (long)((double)(now - t0) * rate / 1e9) : n;
        if (due > n)
            due = n;
        while (started < due && (long)(lg_wsc_active_count(w) - lg_wsc_open_count(w)) < inflight) {
            if (lg_wsc_open(w, NULL, NULL))
                break;
            started++;
        }
        int64_t wake = now + CM_NS_PER_MS;
        lg_loop_run_once(l, wake);
    }
    int64_t el = cm_clock_mono_ns() - t0;
    long rss1 = (long)(cm_proc_rss_bytes() / 1024);
    int held = B.n_open;
    run_for(l, (int64_t)(hold * 1e9));
    int still = (int)lg_wsc_open_count(w);
    qsort(B.connect_ns, (size_t)B.n_open, sizeof(int64_t), cmp64);
    double per = (double)(rss1 - rss0) * 1024.0 / (double)(n - 1);
    double orate = (double)(held - 1) * 1e9 / (double)el;
    struct lg_wsc_stats st;
    lg_wsc_stats(w, &st);
    if (json)
        printf("{\"sessions\":%ld,\"sources\":%ld,\"opened\":%d,\"held_after_hold\":%d,"
               "\"closed\":%d,\"open_s\":%.3f,\"open_per_s\":%.0f,\"rss_before_kb\":%ld,"
               "\"rss_after_kb\":%ld,\"bytes_per_session\":%.0f,\"connect_ms_p50\":%.2f,"
               "\"connect_ms_p99\":%.2f,\"connect_ms_max\":%.2f,\"msgs_recv\":%d}\n",
               n, nsrc, held, still, B.n_closed, (double)el / 1e9, orate, rss0, rss1, per,
               pct_ms(B.connect_ns, B.n_open, 50), pct_ms(B.connect_ns, B.n_open, 99),
               pct_ms(B.connect_ns, B.n_open, 100), B.n_msgs);
    else
        printf("sessions %ld (sources %ld): opened %d in %.2f s = %.0f/s, held %d after "
               "%.1f s, closed %d (connect_failed %d handshake_failed %d dropped %d timeout "
               "%d)\nRSS %ld -> %ld KB = %.0f B/session\nconnect ms p50 %.2f p99 %.2f max "
               "%.2f; messages received %d\n",
               n, nsrc, held, (double)el / 1e9, orate, still, hold, B.n_closed,
               B.reasons[LG_WSC_CONNECT_FAILED], B.reasons[LG_WSC_HANDSHAKE_FAILED],
               B.reasons[LG_WSC_DROPPED], B.reasons[LG_WSC_TIMEOUT], rss0, rss1, per,
               pct_ms(B.connect_ns, B.n_open, 50), pct_ms(B.connect_ns, B.n_open, 99),
               pct_ms(B.connect_ns, B.n_open, 100), B.n_msgs);
    lg_wsc_free(w);
    lg_loop_free(l);
    free(B.connect_ns);
    return held == n && B.n_closed == 0 ? 0 : 1;
}
