/* wsc_it.c: lg_wsc over real loopback sockets, one case per run:
 *
 *   wsc_it CASE PORT
 *
 * against a server wsc_it.py started first: bench/ws-client/ws_echo (echo,
 * 404 and silent modes) or stackd with the WebSocket API of
 * deploy/local/stack.yaml. Prints the harness' "N passed, N failed" and
 * exits non-zero on any failure. Every wait is bounded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cm/proc.h"
#include "cm/clock.h"
#include "cm/err.h"
#include "harness.h"
#include "loop.h"
#include "wsc.h"

#define MAXS 20000

struct rec {
    int opened, closed, reason, code, msgs;
    int64_t connect_ns;
    size_t last_len;
    char last[64];
};

struct ctx {
    struct lg_wsc *w;
    struct rec r[MAXS];
    struct lg_wsc_sess *s[MAXS];
    int n_open, n_closed, n_msgs;
    int reasons[8];
    /* what to do on open / on each message */
    const char *send_on_open;
    size_t send_len;
    int sends_per_session;
    int close_after_msgs; /* close once this many messages came back (0: never) */
    size_t bytes_back;
};

static struct ctx C;

static void on_open(void *ud, struct lg_wsc_sess *s, void *su, int64_t now)
{
    (void)ud;
    (void)now;
    struct rec *r = su;
    r->opened = 1;
    r->connect_ns = lg_wsc_sess_connect_ns(s);
    C.n_open++;
    for (int i = 0; C.send_on_open && i < C.sends_per_session; i++)
        CHECK_INT(lg_wsc_send(s, C.send_on_open, C.send_len, 1), 0);
}

static void on_message(void *ud, struct lg_wsc_sess *s, void *su, const char *d, size_t n,
                       int is_text, int64_t now)
{
    (void)ud;
    (void)now;
    (void)is_text;
    struct rec *r = su;
    r->msgs++;
    C.n_msgs++;
    C.bytes_back += n;
    r->last_len = n;
    memcpy(r->last, d, n < sizeof(r->last) ? n : sizeof(r->last));
    if (C.close_after_msgs && r->msgs == C.close_after_msgs)
        lg_wsc_close(s);
}

static void on_close(void *ud, struct lg_wsc_sess *s, void *su, enum lg_wsc_reason reason, int code,
                     int64_t now)
{
    (void)ud;
    (void)s;
    (void)now;
    struct rec *r = su;
    CHECK(!r->closed); /* exactly once */
    r->closed = 1;
    r->reason = reason;
    r->code = code;
    C.n_closed++;
    C.reasons[reason]++;
}

static struct lg_loop *L;

static void mk(const char *url, size_t max, int64_t timeout_ns, const char *const *src, size_t nsrc,
               int64_t ping_ns)
{
    struct lg_wsc_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.url = url;
    cfg.max_sessions = max;
    cfg.connect_timeout_ns = timeout_ns;
    cfg.sources = src;
    cfg.nsources = nsrc;
    cfg.ping_interval_ns = ping_ns;
    cfg.cb.on_open = on_open;
    cfg.cb.on_message = on_message;
    cfg.cb.on_close = on_close;
    static const struct lg_wsc_header hdr[] = {{"X-Test", "wsc-it"}};
    cfg.headers = hdr;
    cfg.nheaders = 1;
    int rc = lg_wsc_new(L, &cfg, &C.w);
    CHECK_INT(rc, 0);
    if (rc) {
        fprintf(stderr, "lg_wsc_new: %s\n", cm_strerror(rc));
        exit(1);
    }
}

/* Runs the loop until cond() or the deadline; returns cond(). */
static int run_until(int (*cond)(void), int64_t max_ns)
{
    int64_t end = cm_clock_mono_ns() + max_ns;
    while (!cond() && cm_clock_mono_ns() < end)
        lg_loop_run_once(L, end);
    return cond();
}

static int want_closed;
static int all_closed(void)
{
    return C.n_closed >= want_closed;
}
static int want_open;
static int all_open(void)
{
    return C.n_open >= want_open;
}
static int want_msgs;
static int all_msgs(void)
{
    return C.n_msgs >= want_msgs;
}

static void open_n(int n)
{
    for (int i = 0; i < n; i++)
        CHECK_INT(lg_wsc_open(C.w, &C.r[i], &C.s[i]), 0);
}

static char url[128];

/* N sessions each send 3 messages, get 3 echoes, close. */
static void case_echo(void)
{
    const int n = 200;
    mk(url, 1000, 5 * CM_NS_PER_S, NULL, 0, 0);
    C.send_on_open = "hello wsc";
    C.send_len = 9;
    C.sends_per_session = 3;
    C.close_after_msgs = 3;
    open_n(n);
    CHECK_INT(lg_wsc_active_count(C.w), n);
    want_closed = n;
    CHECK(run_until(all_closed, 20 * CM_NS_PER_S));
    CHECK_INT(C.n_open, n);
    CHECK_INT(C.n_msgs, 3 * n);
    CHECK_INT(C.reasons[LG_WSC_CLOSED_BY_US], n);
    int ok = 1;
    for (int i = 0; i < n; i++)
        ok &= C.r[i].connect_ns > 0 && C.r[i].code == 1000 && C.r[i].last_len == 9 &&
              memcmp(C.r[i].last, "hello wsc", 9) == 0;
    CHECK(ok);
    struct lg_wsc_stats st;
    lg_wsc_stats(C.w, &st);
    CHECK_INT(st.opened, n);
    CHECK_INT(st.msgs_sent, 3 * n);
    CHECK_INT(st.msgs_recv, 3 * n);
    CHECK_INT(st.bytes_recv, 27 * n);
    CHECK_INT(st.closed_by_us, n);
    CHECK_INT(lg_wsc_open_count(C.w), 0);
    CHECK_INT(lg_wsc_active_count(C.w), 0);
}

/* Sources round-robin over 127.0.0.1..4, max_sessions and send-queue
 * bounds, a 300 KB message (joined from lws' 1 KB pieces) and one past
 * max_message_bytes (closed by us, 1009). */
static void case_bounds(void)
{
    static const char *const src[] = {"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"};
    struct lg_wsc_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.url = url;
    cfg.max_sessions = 8;
    cfg.sources = src;
    cfg.nsources = 4;
    cfg.max_message_bytes = 400 * 1024;
    cfg.cb.on_open = on_open;
    cfg.cb.on_message = on_message;
    cfg.cb.on_close = on_close;
    CHECK_INT(lg_wsc_new(L, &cfg, &C.w), 0);
    open_n(8);
    struct lg_wsc_sess *extra;
    CHECK_INT(lg_wsc_open(C.w, &C.r[9], &extra), CM_ETOOBIG);
    want_open = 8;
    CHECK(run_until(all_open, 10 * CM_NS_PER_S));
    CHECK_INT(lg_wsc_open_count(C.w), 8);
    /* the queue bound */
    int rc = 0, k = 0;
    while ((rc = lg_wsc_send(C.s[0], "x", 1, 1)) == 0 && k < 100)
        k++;
    CHECK_INT(k, LG_WSC_SEND_QUEUE);
    CHECK_INT(rc, CM_EAGAIN);
    want_msgs = k;
    CHECK(run_until(all_msgs, 10 * CM_NS_PER_S));
    /* a big one, split by lws and joined by us */
    size_t big = 300 * 1024;
    char *p = malloc(big);
    for (size_t i = 0; i < big; i++)
        p[i] = (char)('a' + i % 26);
    C.bytes_back = 0;
    CHECK_INT(lg_wsc_send(C.s[1], p, big, 1), 0);
    want_msgs = k + 1;
    CHECK(run_until(all_msgs, 10 * CM_NS_PER_S));
    CHECK_INT(C.bytes_back, big);
    CHECK_INT(C.r[1].last_len, big);
    CHECK(memcmp(C.r[1].last, p, sizeof(C.r[1].last)) == 0);
    CHECK_INT(lg_wsc_send(C.s[2], p, 401 * 1024, 1), CM_ETOOBIG);
    free(p);
    CHECK_INT(C.reasons[LG_WSC_CLOSED_BY_US], 0);
    for (int i = 0; i < 8; i++)
        lg_wsc_close(C.s[i]);
    want_closed = 8;
    CHECK(run_until(all_closed, 10 * CM_NS_PER_S));
    CHECK_INT(C.reasons[LG_WSC_CLOSED_BY_US], 8);
}

/* A message longer than max_message_bytes ends the session with 1009; one
 * exactly at the bound passes. */
static void case_too_big(void)
{
    struct lg_wsc_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.url = url;
    cfg.max_message_bytes = 3000;
    cfg.cb.on_open = on_open;
    cfg.cb.on_message = on_message;
    cfg.cb.on_close = on_close;
    CHECK_INT(lg_wsc_new(L, &cfg, &C.w), 0);
    open_n(2);
    want_open = 2;
    CHECK(run_until(all_open, 10 * CM_NS_PER_S));
    CHECK_INT(lg_wsc_send(C.s[0], "big 3000", 8, 1), 0);
    CHECK_INT(lg_wsc_send(C.s[1], "big 3001", 8, 1), 0);
    want_closed = 1;
    want_msgs = 1; /* the two answers race: wait for both */
    CHECK(run_until(all_closed, 10 * CM_NS_PER_S));
    CHECK(run_until(all_msgs, 10 * CM_NS_PER_S));
    CHECK_INT(C.r[0].msgs, 1);
    CHECK_INT(C.r[0].last_len, 3000);
    CHECK_INT(C.r[1].msgs, 0);
    CHECK_INT(C.r[1].reason, LG_WSC_CLOSED_BY_US);
    CHECK_INT(C.r[1].code, 1009);
    lg_wsc_close(C.s[0]);
    want_closed = 2;
    CHECK(run_until(all_closed, 10 * CM_NS_PER_S));
    CHECK_INT(C.r[0].reason, LG_WSC_CLOSED_BY_US);
    CHECK_INT(C.r[0].code, 1000);
}

/* The peer ends sessions: TCP drop (1006) and a close frame (its code). */
static void case_drop(void)
{
    mk(url, 10, 5 * CM_NS_PER_S, NULL, 0, 0);
    open_n(2);
    want_open = 2;
    CHECK(run_until(all_open, 10 * CM_NS_PER_S));
    CHECK_INT(lg_wsc_send(C.s[0], "drop", 4, 1), 0);
    CHECK_INT(lg_wsc_send(C.s[1], "close 4001", 10, 1), 0);
    want_closed = 2;
    CHECK(run_until(all_closed, 10 * CM_NS_PER_S));
    CHECK_INT(C.r[0].reason, LG_WSC_DROPPED);
    CHECK_INT(C.r[0].code, 1006);
    CHECK_INT(C.r[1].reason, LG_WSC_DROPPED);
    CHECK_INT(C.r[1].code, 4001);
    CHECK_INT(lg_wsc_open_count(C.w), 0);
}

/* A server answering 404: handshake failed, never opened, code 0. */
static void case_404(void)
{
    mk(url, 10, 5 * CM_NS_PER_S, NULL, 0, 0);
    open_n(3);
    want_closed = 3;
    CHECK(run_until(all_closed, 10 * CM_NS_PER_S));
    CHECK_INT(C.reasons[LG_WSC_HANDSHAKE_FAILED], 3);
    CHECK_INT(C.n_open, 0);
    CHECK_INT(C.r[0].code, 0);
}

/* Nobody listens: connect failed. */
static void case_refused(void)
{
    mk(url, 10, 5 * CM_NS_PER_S, NULL, 0, 0);
    open_n(3);
    want_closed = 3;
    CHECK(run_until(all_closed, 10 * CM_NS_PER_S));
    CHECK_INT(C.reasons[LG_WSC_CONNECT_FAILED], 3);
}

/* A server that accepts and never answers: our timeout; and a close while
 * connecting. */
static void case_silent(void)
{
    mk(url, 10, 300 * CM_NS_PER_MS, NULL, 0, 0);
    open_n(3);
    lg_wsc_close(C.s[2]);
    want_closed = 3;
    int64_t t0 = cm_clock_mono_ns();
    CHECK(run_until(all_closed, 10 * CM_NS_PER_S));
    int64_t el = cm_clock_mono_ns() - t0;
    CHECK_INT(C.r[0].reason, LG_WSC_TIMEOUT);
    CHECK_INT(C.r[1].reason, LG_WSC_TIMEOUT);
    CHECK_INT(C.r[2].reason, LG_WSC_CLOSED_BY_US);
    CHECK_MSG(el >= 250 * CM_NS_PER_MS && el < 3 * CM_NS_PER_S, "timeout after %lld ms",
              (long long)(el / CM_NS_PER_MS));
}

/* Pings every 50 ms come back as pongs. */
static void case_ping(void)
{
    mk(url, 10, 5 * CM_NS_PER_S, NULL, 0, 50 * CM_NS_PER_MS);
    open_n(2);
    want_open = 2;
    CHECK(run_until(all_open, 10 * CM_NS_PER_S));
    int64_t end = cm_clock_mono_ns() + 400 * CM_NS_PER_MS;
    while (cm_clock_mono_ns() < end)
        lg_loop_run_once(L, end);
    struct lg_wsc_stats st;
    lg_wsc_stats(C.w, &st);
    CHECK_MSG(st.pings_sent >= 8 && st.pongs_recv >= 6, "pings %llu pongs %llu",
              (unsigned long long)st.pings_sent, (unsigned long long)st.pongs_recv);
}

/* The extra handshake header reaches the server; a server ping is answered
 * with a pong carrying its payload (lws answers it). */
static void case_ping_hdr(void)
{
    mk(url, 10, 5 * CM_NS_PER_S, NULL, 0, 0);
    open_n(1);
    want_open = 1;
    CHECK(run_until(all_open, 10 * CM_NS_PER_S));
    CHECK_INT(lg_wsc_send(C.s[0], "hdr X-Test", 10, 1), 0);
    want_msgs = 1;
    CHECK(run_until(all_msgs, 10 * CM_NS_PER_S));
    CHECK_INT(C.r[0].last_len, 6);
    CHECK(memcmp(C.r[0].last, "wsc-it", 6) == 0);
    CHECK_INT(lg_wsc_send(C.s[0], "ping abc", 8, 1), 0);
    want_msgs = 2;
    CHECK(run_until(all_msgs, 10 * CM_NS_PER_S));
    CHECK_INT(C.r[0].last_len, 8);
    CHECK(memcmp(C.r[0].last, "pong abc", 8) == 0);
}

/* stackd's WebSocket API: subscribe gets {"type":"subscribed",...}. */
static void case_stackd(void)
{
    const int n = 20;
    mk(url, 100, 10 * CM_NS_PER_S, NULL, 0, 0);
    static const char sub[] = "{\"action\":\"subscribe\",\"customerName\":\"wsc-it\"}";
    C.send_on_open = sub;
    C.send_len = sizeof(sub) - 1;
    C.sends_per_session = 1;
    open_n(n);
    want_msgs = n;
    CHECK(run_until(all_msgs, 30 * CM_NS_PER_S));
    int ok = 0;
    for (int i = 0; i < n; i++)
        ok += C.r[i].msgs >= 1 && memmem(C.r[i].last, sizeof(C.r[i].last), "subscribed", 10);
    CHECK_INT(ok, n);
    for (int i = 0; i < n; i++)
        lg_wsc_close(C.s[i]);
    want_closed = n;
    CHECK(run_until(all_closed, 10 * CM_NS_PER_S));
    CHECK_INT(C.reasons[LG_WSC_CLOSED_BY_US], n);
}

/* 15,000 sessions held over 8 source addresses: all open, RSS per session
 * under 10 KB, open rate reported (asserted >= 2,000/s: the machine is
 * shared; docs/bench-loadgen-ws.md has the quiet numbers). */
static void case_scale(void)
{
    const int n = 15000;
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    static const char *const src[] = {"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4",
                                      "127.0.0.5", "127.0.0.6", "127.0.0.7", "127.0.0.8"};
    mk(url, (size_t)n, 20 * CM_NS_PER_S, src, 8, 0);
    /* warm the allocator and lws with one session first */
    open_n(1);
    want_open = 1;
    CHECK(run_until(all_open, 5 * CM_NS_PER_S));
    long rss0 = (long)(cm_proc_rss_bytes() / 1024);
    int64_t t0 = cm_clock_mono_ns();
    int opened_calls = 1;
    want_open = n;
    /* open as fast as the loop allows, 500 per turn, at most 200 handshakes
     * in flight (wsc.h: lws keeps one sorted timer list) */
    int64_t end = t0 + 60 * CM_NS_PER_S;
    while (C.n_open < n && cm_clock_mono_ns() < end) {
        for (int k = 0;
             k < 500 && opened_calls < n && lg_wsc_active_count(C.w) - lg_wsc_open_count(C.w) < 200;
             k++) {
            int rc = lg_wsc_open(C.w, &C.r[opened_calls], &C.s[opened_calls]);
            if (rc)
                break;
            opened_calls++;
        }
        lg_loop_run_once(L, cm_clock_mono_ns() + CM_NS_PER_MS);
        if (C.n_closed)
            break;
    }
    int64_t el = cm_clock_mono_ns() - t0;
    long rss1 = (long)(cm_proc_rss_bytes() / 1024);
    double rate = (double)(C.n_open - 1) * 1e9 / (double)el;
    double per = (double)(rss1 - rss0) * 1024.0 / (double)(n - 1);
    printf("scale: %d open of %d in %.2f s = %.0f/s; RSS %ld -> %ld KB = %.0f B/session; "
           "closed %d\n",
           C.n_open, n, (double)el / 1e9, rate, rss0, rss1, per, C.n_closed);
    CHECK_INT(C.n_open, n);
    CHECK_INT(C.n_closed, 0);
    CHECK_MSG(per < 10240, "%.0f bytes per session", per);
    CHECK_MSG(rate >= 2000, "open rate %.0f/s", rate);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: wsc_it CASE PORT\n");
        return 2;
    }
    snprintf(url, sizeof(url), "ws://127.0.0.1:%s/prod?user=wsc-it", argv[2]);
    if (lg_loop_new(&L)) {
        fprintf(stderr, "lg_loop_new failed\n");
        return 1;
    }
    const char *c = argv[1];
    if (!strcmp(c, "echo"))
        case_echo();
    else if (!strcmp(c, "bounds"))
        case_bounds();
    else if (!strcmp(c, "too_big"))
        case_too_big();
    else if (!strcmp(c, "drop"))
        case_drop();
    else if (!strcmp(c, "404"))
        case_404();
    else if (!strcmp(c, "refused"))
        case_refused();
    else if (!strcmp(c, "silent"))
        case_silent();
    else if (!strcmp(c, "ping"))
        case_ping();
    else if (!strcmp(c, "ping_hdr"))
        case_ping_hdr();
    else if (!strcmp(c, "stackd"))
        case_stackd();
    else if (!strcmp(c, "scale"))
        case_scale();
    else {
        fprintf(stderr, "wsc_it: unknown case %s\n", c);
        return 2;
    }
    lg_wsc_free(C.w);
    lg_loop_free(L);
    return TEST_REPORT();
}
