/* h1_bench.c: the lean HTTP/1.1 pool (loadgen/h1.h) alone, to set its cost
 * apart from the engine around it: `h1_bench -c CONNS -d SECONDS URL` keeps
 * every connection busy with GET /path (closed loop, like wrk -t1) and prints
 * requests/s, errors and mean latency. One thread, one lg_loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm/clock.h"
#include "h1.h"
#include "loop.h"

struct st {
    long done, ok, errs;
    int64_t lat_sum_ns;
};

static void on_done(void *user, const struct lg_h1_result *r, int64_t now)
{
    struct st *s = user;
    (void)now;
    s->done++;
    if (r->err || r->status != 200)
        s->errs++;
    else
        s->ok++;
    s->lat_sum_ns += r->total_ns;
}

int main(int argc, char **argv)
{
    int conns = 64, secs = 10, opt;
    while ((opt = getopt(argc, argv, "c:d:")) != -1) {
        if (opt == 'c')
            conns = (int)strtol(optarg, NULL, 10);
        else if (opt == 'd')
            secs = (int)strtol(optarg, NULL, 10);
        else
            return 2;
    }
    if (optind >= argc || conns < 1 || secs < 1) {
        fprintf(stderr, "usage: h1_bench [-c conns] [-d seconds] http://host:port/path\n");
        return 2;
    }
    char hh[256], host[256], port[16], path[1024];
    struct lg_h1_cfg cfg = {
        .conns = conns, .connect_timeout_ns = 5 * CM_NS_PER_S, .keepalive = 1, .done = on_done};
    if (lg_h1_split_url(argv[optind], hh, sizeof(hh), host, sizeof(host), port, sizeof(port), path,
                        sizeof(path)) != 0 ||
        lg_h1_resolve(host, port, &cfg) != 0) {
        fprintf(stderr, "h1_bench: bad or unresolvable URL %s\n", argv[optind]);
        return 2;
    }
    char req[2048];
    int rl = snprintf(req, sizeof(req),
                      "GET %s/ HTTP/1.1\r\nHost: %s\r\nUser-Agent: h1_bench\r\n\r\n", path, hh);
    struct lg_loop *l;
    struct lg_h1_pool *p;
    if (lg_loop_new(&l) || lg_h1_pool_new(l, &cfg, &p))
        return 3;
    struct st s = {0};
    struct lg_h1_req rq = {
        .iov = {{req, (size_t)rl}}, .iovcnt = 1, .timeout_ns = 10 * CM_NS_PER_S, .user = &s};
    int64_t t0 = cm_clock_mono_ns(), end = t0 + secs * CM_NS_PER_S, now = t0;
    while (now < end) {
        struct lg_h1_conn *c;
        while ((c = lg_h1_pool_idle(p)))
            lg_h1_send(c, &rq, now);
        lg_loop_run_once(l, end);
        now = cm_clock_mono_ns();
    }
    double el = (double)(now - t0) / 1e9;
    printf("h1_bench: %d conns %.2f s: %ld ok, %ld errors, %.0f req/s, mean %.1f us\n", conns, el,
           s.ok, s.errs, (double)s.done / el,
           s.done ? (double)s.lat_sum_ns / (double)s.done / 1e3 : 0);
    lg_h1_pool_free(p);
    lg_loop_free(l);
    return s.errs ? 1 : 0;
}
