/* http_server_bench: the HTTP/1.1 server choice for stackd, measured.
 * Serves "GET /" -> 200 {"ok":true} (17 bytes, keep-alive) with either
 * stackd's epoll server (sd_server + sd_http) or libwebsockets 4.1.6 with its
 * default poll() loop, on 127.0.0.1:<port>, until SIGTERM/SIGINT or
 * --seconds. Drive it with wrk; see docs/bench-stackd.md.
 *
 *   http_server_bench sd|lws PORT [SECONDS] */
#include "sd_server.h"

#include "cm/clock.h"
#include "cm/mem.h"

#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char body[] = "{\"ok\":true}\n";

static void sd_handle(void *ctx, struct sd_conn *conn, struct sd_req *req)
{
    (void)ctx;
    (void)req;
    struct sd_resp r;
    sd_resp_init(&r);
    cm_strlcpy(r.content_type, "application/json", sizeof(r.content_type));
    cm_buf_append(&r.body, body, sizeof(body) - 1);
    sd_conn_reply(conn, &r);
    sd_resp_deinit(&r);
}

struct sd_run {
    struct sd_server *srv;
    int64_t end_ns;
};

static void sd_tick(void *ctx, int64_t now)
{
    struct sd_run *r = ctx;
    if (now >= r->end_ns)
        sd_server_stop(r->srv);
}

static void sd_sig(void *ctx, int signo)
{
    struct sd_run *r = ctx;
    if (signo != SIGCHLD)
        sd_server_stop(r->srv);
}

static int run_sd(int port, int seconds)
{
    struct sd_run r;
    struct sd_server_opts o = {4096, 50 * CM_NS_PER_MS, 0};
    struct sd_http_limits lim = {10240, 1 << 20};
    r.end_ns = cm_clock_mono_ns() + (int64_t)seconds * CM_NS_PER_S;
    if (sd_server_new(&o, sd_sig, &r, &r.srv) < 0 ||
        sd_server_listen(r.srv, "127.0.0.1", port, &lim, sd_handle, NULL, NULL, NULL) < 0) {
        fprintf(stderr, "sd: cannot listen on %d\n", port);
        return 1;
    }
    sd_server_set_tick(r.srv, sd_tick, &r);
    sd_server_run(r.srv);
    sd_server_free(r.srv);
    return 0;
}

static volatile sig_atomic_t lws_stop;

static void on_lws_signal(int signo)
{
    (void)signo;
    lws_stop = 1;
}

static int lws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len)
{
    uint8_t buf[LWS_PRE + 512], *start = &buf[LWS_PRE], *p = start, *end = &buf[sizeof(buf) - 1];
    (void)user;
    (void)in;
    (void)len;
    switch (reason) {
    case LWS_CALLBACK_HTTP:
        if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, "application/json", sizeof(body) - 1,
                                        &p, end) ||
            lws_finalize_write_http_header(wsi, start, &p, end))
            return 1;
        lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        memcpy(start, body, sizeof(body) - 1);
        if (lws_write(wsi, start, sizeof(body) - 1, LWS_WRITE_HTTP_FINAL) !=
            (int)(sizeof(body) - 1))
            return 1;
        if (lws_http_transaction_completed(wsi))
            return -1;
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static int run_lws(int port, int seconds)
{
    static const struct lws_protocols protocols[] = {
        {"http", lws_cb, 0, 0, 0, NULL, 0},
        {NULL, NULL, 0, 0, 0, NULL, 0},
    };
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = port;
    info.iface = "127.0.0.1";
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE;
    lws_set_log_level(LLL_ERR, NULL);
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx) {
        fprintf(stderr, "lws: cannot create context\n");
        return 1;
    }
    signal(SIGTERM, on_lws_signal);
    signal(SIGINT, on_lws_signal);
    int64_t end = cm_clock_mono_ns() + (int64_t)seconds * CM_NS_PER_S;
    while (!lws_stop && cm_clock_mono_ns() < end && lws_service(ctx, 0) >= 0)
        ;
    lws_context_destroy(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "sd") != 0 && strcmp(argv[1], "lws") != 0)) {
        fprintf(stderr, "usage: http_server_bench sd|lws PORT [SECONDS]\n");
        return 2;
    }
    int port = (int)strtol(argv[2], NULL, 10);
    int seconds = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 60;
    return strcmp(argv[1], "sd") == 0 ? run_sd(port, seconds) : run_lws(port, seconds);
}
