/* wsc_test.c: lg_wsc's configuration checks and the sessions that need no
 * server: a refused connect, max_sessions, a close while connecting, and
 * lg_wsc_free with sessions still pending. The sessions against real
 * servers (echo, 404, silent, stackd, 15,000 at once) are in
 * tests/integration/loadgen_wsc. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cm/clock.h"
#include "cm/err.h"
#include "harness.h"
#include "loop.h"
#include "wsc.h"

static int n_closed, last_reason, last_code;

static void on_close(void *ud, struct lg_wsc_sess *s, void *su, enum lg_wsc_reason reason, int code,
                     int64_t now)
{
    (void)ud;
    (void)s;
    (void)su;
    (void)now;
    n_closed++;
    last_reason = reason;
    last_code = code;
}

static int try_new(struct lg_loop *l, struct lg_wsc_cfg *cfg)
{
    struct lg_wsc *w = (struct lg_wsc *)1;
    int rc = lg_wsc_new(l, cfg, &w);
    if (rc)
        CHECK(w == NULL);
    lg_wsc_free(w);
    return rc;
}

static void test_config(struct lg_loop *l)
{
    struct lg_wsc_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    static const char *const bad_urls[] = {
        "http://127.0.0.1/", "ws://",      "ws://:80/",    "ws://h:/",     "ws://h:0/",
        "ws://h:65536/",     "ws://h:8x/", "ws://h/#frag", "127.0.0.1:80", NULL,
    };
    for (int i = 0; bad_urls[i]; i++) {
        cfg.url = bad_urls[i];
        CHECK_MSG(try_new(l, &cfg) == CM_EINVAL, "url %s", bad_urls[i]);
    }
    cfg.url = NULL;
    CHECK_INT(try_new(l, &cfg), CM_EINVAL);
    cfg.url = "wss://127.0.0.1/";
    CHECK_INT(try_new(l, &cfg), CM_EUNSUPP);

    cfg.url = "ws://127.0.0.1:9/p?q=1";
    static const char *const bad_src[] = {"127.0.0.1", "localhost"};
    cfg.sources = bad_src;
    cfg.nsources = 2;
    CHECK_INT(try_new(l, &cfg), CM_EINVAL);
    cfg.nsources = LG_WSC_MAX_SOURCES + 1;
    CHECK_INT(try_new(l, &cfg), CM_EINVAL);
    cfg.nsources = 0;

    static const struct lg_wsc_header bad_hdr[] = {{"X-A: b", "c"}};
    cfg.headers = bad_hdr;
    cfg.nheaders = 1;
    CHECK_INT(try_new(l, &cfg), CM_EINVAL);
    static const struct lg_wsc_header bad_val[] = {{"X-A", "c\r\nX-Evil: 1"}};
    cfg.headers = bad_val;
    CHECK_INT(try_new(l, &cfg), CM_EINVAL);
    cfg.nheaders = LG_WSC_MAX_HEADERS + 1;
    CHECK_INT(try_new(l, &cfg), CM_EINVAL);
    cfg.nheaders = 0;

    cfg.max_message_bytes = LG_WSC_MAX_MESSAGE + 1;
    CHECK_INT(try_new(l, &cfg), CM_EINVAL);
    cfg.max_message_bytes = 0;
    cfg.connect_timeout_ns = -1;
    CHECK_INT(try_new(l, &cfg), CM_EINVAL);
    cfg.connect_timeout_ns = 0;

    /* good ones */
    static const char *const src[] = {"127.0.0.1", "127.0.0.2"};
    static const struct lg_wsc_header hdr[] = {{"Authorization", "Bearer x"}};
    cfg.sources = src;
    cfg.nsources = 2;
    cfg.headers = hdr;
    cfg.nheaders = 1;
    CHECK_INT(try_new(l, &cfg), 0);
    cfg.url = "ws://localhost";
    CHECK_INT(try_new(l, &cfg), 0);
    cfg.url = "ws://127.0.0.1:65535?x";
    CHECK_INT(try_new(l, &cfg), 0);
}

static void test_names(void)
{
    CHECK_STR(lg_wsc_reason_name(LG_WSC_HANDSHAKE_FAILED), "handshake_failed");
    CHECK_STR(lg_wsc_reason_name(LG_WSC_CONNECT_FAILED), "connect_failed");
    CHECK_STR(lg_wsc_reason_name(LG_WSC_DROPPED), "dropped");
    CHECK_STR(lg_wsc_reason_name(LG_WSC_CLOSED_BY_US), "closed_by_us");
    CHECK_STR(lg_wsc_reason_name(LG_WSC_TIMEOUT), "timeout");
    CHECK_STR(lg_wsc_reason_name((enum lg_wsc_reason)99), "unknown");
}

/* A port nobody listens on (bound, never listened, then closed). */
static int dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof(a);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    getsockname(fd, (struct sockaddr *)&a, &sl);
    close(fd);
    return ntohs(a.sin_port);
}

static void run_until_closed(struct lg_loop *l, int n)
{
    int64_t end = cm_clock_mono_ns() + 5 * CM_NS_PER_S;
    while (n_closed < n && cm_clock_mono_ns() < end)
        lg_loop_run_once(l, end);
}

static void test_refused(struct lg_loop *l)
{
    char url[64];
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d/", dead_port());
    struct lg_wsc_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.url = url;
    cfg.max_sessions = 2;
    cfg.cb.on_close = on_close;
    struct lg_wsc *w;
    CHECK_INT(lg_wsc_new(l, &cfg, &w), 0);
    n_closed = 0;
    struct lg_wsc_sess *s1, *s2, *s3;
    CHECK_INT(lg_wsc_open(w, NULL, &s1), 0);
    CHECK_INT(lg_wsc_open(w, NULL, &s2), 0);
    CHECK_INT(lg_wsc_open(w, NULL, &s3), CM_ETOOBIG);
    CHECK(s3 == NULL);
    CHECK_INT(n_closed, 0); /* never from inside lg_wsc_open */
    CHECK_INT(lg_wsc_sess_connect_ns(s1), -1);
    run_until_closed(l, 2);
    CHECK_INT(n_closed, 2);
    CHECK_INT(last_reason, LG_WSC_CONNECT_FAILED);
    CHECK_INT(last_code, 0);
    CHECK_INT(lg_wsc_active_count(w), 0);
    struct lg_wsc_stats st;
    lg_wsc_stats(w, &st);
    CHECK_INT(st.opens_started, 2);
    CHECK_INT(st.connect_failed, 2);
    CHECK_INT(st.opened, 0);
    lg_wsc_free(w);
}

/* A listener that never accepts: the TCP connect completes (backlog) but the
 * handshake never does; close one while connecting, free with one pending. */
static void test_close_connecting(struct lg_loop *l)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof(a);
    CHECK_INT(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    CHECK_INT(listen(lfd, 16), 0);
    getsockname(lfd, (struct sockaddr *)&a, &sl);
    char url[64];
    snprintf(url, sizeof(url), "ws://127.0.0.1:%d/", ntohs(a.sin_port));
    struct lg_wsc_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.url = url;
    cfg.cb.on_close = on_close;
    struct lg_wsc *w;
    CHECK_INT(lg_wsc_new(l, &cfg, &w), 0);
    n_closed = 0;
    struct lg_wsc_sess *s1, *s2;
    CHECK_INT(lg_wsc_open(w, NULL, &s1), 0);
    CHECK_INT(lg_wsc_open(w, NULL, &s2), 0);
    int64_t end = cm_clock_mono_ns() + 100 * CM_NS_PER_MS;
    while (cm_clock_mono_ns() < end)
        lg_loop_run_once(l, end);
    CHECK_INT(n_closed, 0);
    lg_wsc_close(s1);
    lg_wsc_close(s1); /* idempotent */
    CHECK_INT(n_closed, 0);
    run_until_closed(l, 1);
    CHECK_INT(n_closed, 1);
    CHECK_INT(last_reason, LG_WSC_CLOSED_BY_US);
    CHECK_INT(lg_wsc_active_count(w), 1);
    lg_wsc_free(w); /* s2 still pending: no callback, no leak (ASan) */
    CHECK_INT(n_closed, 1);
    close(lfd);
}

int main(void)
{
    struct lg_loop *l;
    CHECK_INT(lg_loop_new(&l), 0);
    test_names();
    test_config(l);
    test_refused(l);
    test_close_connecting(l);
    lg_wsc_free(NULL);
    lg_loop_free(l);
    return TEST_REPORT();
}
