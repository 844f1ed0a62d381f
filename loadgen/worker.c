/* worker.c: see worker.h. One epoll loop per thread; libcurl multi's socket
 * API tells us which sockets to watch (sock_cb) and when to call it back
 * (timer_cb). Every arrival has an intended time from the schedule; when
 * every connection is busy it waits in a bounded FIFO with that time, so the
 * wait counts in the corrected latency. Schedule lag (how late the loop
 * takes an arrival off the schedule) is the generator's own delay and is
 * kept apart from the wait for a connection. */
#include "worker.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cm/buf.h"
#include "cm/clock.h"
#include "cm/corr.h"
#include "cm/err.h"
#include "cm/hist.h"
#include "cm/json.h"
#include "cm/mem.h"
#include "engines/h1_engine.h"
#include "loop.h"
#include "scenario.h"
#include "schedule.h"
#include "stats.h"
#include "tmpl.h"

#define CAP_RING  256        /* captured values kept per variable */
#define RESP_MAX  (1u << 20) /* response bytes kept for captures */
#define VALUE_MAX 1024       /* longest captured value */
/* HTTP/1.1 connections per libcurl multi handle: part of libcurl's cost per
 * request grows with the connections one multi holds (docs/bench-loadgen.md:
 * 1,000 in one multi cost 79-95 us per request, 16 multis of 62 cost 58), so a
 * worker splits its connections over several multis. */
#define SHARD_CONNS 64

struct lg_worker;

/* One libcurl multi handle and the connections it owns. */
struct shard {
    struct lg_worker *w;
    CURLM *multi;
    int64_t deadline; /* curl's timer, monotonic ns; INT64_MAX: none */
};

struct hdrcache {
    struct curl_slist *list; /* prebuilt: correlation headers first, then static ones */
    char *corr, *tp, *xray;  /* where their values sit inside list nodes */
};

struct slot {
    struct lg_worker *w;
    struct shard *sh; /* the multi this slot's transfers run in */
    CURL *e;
    int ep, last_ep;
    int recording;
    int vu;              /* closed model: this request belongs to a VU */
    int sample;          /* write a record for requests.jsonl */
    int64_t intended_ns; /* monotonic */
    char corr[CM_CORR_ID_LEN + 1];
    struct hdrcache *hc;    /* per endpoint */
    struct curl_slist *dyn; /* per-request list when headers are templated */
    struct cm_buf url, body, resp, hval;
    int want_body, want_hdr;
    int64_t bytes;
    struct slot *next_free;
};

struct qitem {
    int64_t t_ns; /* intended, from the run start */
    int32_t phase;
    int32_t waited; /* counted as queued */
};

struct capring {
    char *v[CAP_RING];
    size_t len[CAP_RING];
    size_t n, next;
};

struct lg_worker {
    struct lg_worker_cfg cfg;
    const struct lg_scenario *sc;
    int id;
    pthread_t th;
    int started;
    int epfd;
    struct shard *shards;
    int nshards;
    uint8_t *fd_reg; /* fd_reg[fd] != 0: fd is in the epoll set (fd < fd_cap) */
    uint16_t *fd_sh; /* fd_sh[fd]: index of the shard whose socket it is */
    size_t fd_cap;
    struct slot *slots;
    int nslots;
    struct slot *free_slots;
    int inflight;
    struct qitem *q;
    size_t qcap, qhead, qlen, qmax;
    struct lg_sched sched;
    int have_next;
    int64_t next_t;
    int next_phase;
    uint64_t rng, seq;
    size_t data_next;
    double *cum_all, *cum_indep; /* cumulative weights */
    struct capring *caps;        /* n_vars */
    const char **var_vals;
    size_t *var_lens;
    int active_vus;
    int64_t end_ns; /* schedule end, from run start */
    struct lg_stats *cur, *pub;
    int pub_has;
    struct lg_req_rec *rec_cur, *rec_pub; /* LG_REC_MAX each, when sampling */
    size_t n_rec_cur, n_rec_pub;
    int64_t rec_lost;
    uint64_t sample_threshold; /* rng value below which a request is sampled */
    pthread_mutex_t mu;
    atomic_int finished, a_inflight, a_queued;
    atomic_llong published; /* intervals published so far (boundary k done: k) */
    struct lg_err_sample errs[LG_ERR_SAMPLES];
    size_t n_errs;
    int64_t cancelled;
    /* lean engine (stopgap until engine.h): set when http.engine picks it; then
     * no libcurl handle exists and the loop below runs lg_loop */
    struct lg_loop *loop;
    struct lg_h1e *lean;
};

static int64_t share(int64_t total, int id, int n)
{
    return total / n + (id < total % n ? 1 : 0);
}

/* ---- curl callbacks ---- */

/* Epoll registration per fd: the events registered, plus FD_IDLE when curl
 * said REMOVE. An idle socket stays in the epoll set (curl removes and re-adds
 * a keep-alive connection's socket around every request: two syscalls saved);
 * close_cb forgets it when curl closes it (close() also drops it from epoll),
 * and an event on an idle socket (the peer closed it) unregisters it. */
#define FD_IDLE 0x80u

static void fd_grow(struct lg_worker *w, curl_socket_t s)
{
    if ((size_t)s < w->fd_cap)
        return;
    size_t ncap = ((size_t)s + 1) * 2;
    w->fd_reg = cm_xrealloc(w->fd_reg, ncap);
    memset(w->fd_reg + w->fd_cap, 0, ncap - w->fd_cap);
    w->fd_sh = cm_xrealloc(w->fd_sh, ncap * sizeof(*w->fd_sh));
    memset(w->fd_sh + w->fd_cap, 0, (ncap - w->fd_cap) * sizeof(*w->fd_sh));
    w->fd_cap = ncap;
}

static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct shard *sh = userp;
    struct lg_worker *w = sh->w;
    if (s < 0)
        return 0;
    fd_grow(w, s);
    w->fd_sh[s] = (uint16_t)(sh - w->shards);
    if (what == CURL_POLL_REMOVE) {
        if (w->fd_reg[s])
            w->fd_reg[s] |= FD_IDLE;
        return 0;
    }
    uint32_t want = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
    uint8_t reg = w->fd_reg[s];
    if (reg && (reg & ~FD_IDLE) == want) {
        w->fd_reg[s] = (uint8_t)want;
        return 0;
    }
    struct epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.data.fd = s;
    ev.events = want;
    int op = reg ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(w->epfd, op, s, &ev) != 0) {
        if (errno == ENOENT)
            epoll_ctl(w->epfd, EPOLL_CTL_ADD, s, &ev);
        else if (errno == EEXIST)
            epoll_ctl(w->epfd, EPOLL_CTL_MOD, s, &ev);
    }
    w->fd_reg[s] = (uint8_t)want;
    return 0;
}

static curl_socket_t open_cb(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct lg_worker *w = clientp;
    curl_socket_t s = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (s >= 0) {
        fd_grow(w, s);
        w->fd_reg[s] = 0;
    }
    return s;
}

static int close_cb(void *clientp, curl_socket_t s)
{
    struct lg_worker *w = clientp;
    if (s >= 0 && (size_t)s < w->fd_cap)
        w->fd_reg[s] = 0;
    return close(s);
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
    struct shard *sh = userp;
    sh->deadline = timeout_ms < 0 ? INT64_MAX : cm_clock_mono_ns() + timeout_ms * CM_NS_PER_MS;
    return 0;
}

static size_t write_cb(char *p, size_t size, size_t n, void *ud)
{
    struct slot *sl = ud;
    size_t len = size * n;
    sl->bytes += (int64_t)len;
    if (sl->want_body && sl->resp.len + len <= RESP_MAX)
        cm_buf_append(&sl->resp, p, len);
    return len;
}

static size_t header_cb(char *p, size_t size, size_t n, void *ud)
{
    struct slot *sl = ud;
    size_t len = size * n;
    if (sl->hval.len + len <= 64 * 1024)
        cm_buf_append(&sl->hval, p, len);
    return len;
}

/* ---- set-up ---- */

static void slot_setup(struct lg_worker *w, struct slot *sl)
{
    const struct lg_http_cfg *h = &w->sc->http;
    if (w->lean) { /* lean engine: only the capture buffers */
        sl->w = w;
        sl->last_ep = -1;
        cm_buf_init(&sl->resp, RESP_MAX + 1);
        cm_buf_init(&sl->hval, 65 * 1024);
        return;
    }
    CURL *e = curl_easy_init();
    if (!e)
        abort(); /* only fails on out-of-memory */
    sl->w = w;
    sl->e = e;
    sl->last_ep = -1;
    sl->hc = cm_xcalloc(w->sc->n_reqs, sizeof(*sl->hc));
    cm_buf_init(&sl->url, 64 * 1024);
    cm_buf_init(&sl->body, 16u << 20);
    cm_buf_init(&sl->resp, RESP_MAX + 1);
    cm_buf_init(&sl->hval, 65 * 1024);
    curl_easy_setopt(e, CURLOPT_PRIVATE, sl);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, sl);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_cb);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, w);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, close_cb);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, w);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_PROXY, ""); /* no proxy look-ups per transfer */
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, h->tls_verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, h->tls_verify ? 2L : 0L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(h->connect_timeout_ns / CM_NS_PER_MS));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(h->timeout_ns / CM_NS_PER_MS));
    if (!h->keepalive)
        curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    long ver = h->version == LG_HTTP_2      ? (long)CURL_HTTP_VERSION_2TLS
               : h->version == LG_HTTP_2_PK ? (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
                                            : (long)CURL_HTTP_VERSION_1_1;
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, ver);
    if (h->version != LG_HTTP_1_1)
        curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
}

static void slot_deinit(struct lg_worker *w, struct slot *sl)
{
    if (sl->e)
        curl_easy_cleanup(sl->e);
    for (size_t i = 0; sl->hc && i < w->sc->n_reqs; i++)
        curl_slist_free_all(sl->hc[i].list);
    free(sl->hc);
    curl_slist_free_all(sl->dyn);
    cm_buf_deinit(&sl->url);
    cm_buf_deinit(&sl->body);
    cm_buf_deinit(&sl->resp);
    cm_buf_deinit(&sl->hval);
}

static void build_cum(struct lg_worker *w)
{
    const struct lg_scenario *sc = w->sc;
    w->cum_all = cm_xcalloc(sc->n_reqs, sizeof(double));
    w->cum_indep = cm_xcalloc(sc->n_reqs, sizeof(double));
    double a = 0, b = 0;
    for (size_t i = 0; i < sc->n_reqs; i++) {
        a += sc->reqs[i].weight;
        b += sc->reqs[i].uses_vars ? 0 : sc->reqs[i].weight;
        w->cum_all[i] = a;
        w->cum_indep[i] = b;
    }
}

static void lean_done(void *user, const struct lg_h1_result *r, int64_t now);

static int worker_init(struct lg_worker *w)
{
    const struct lg_scenario *sc = w->sc;
    const struct lg_http_cfg *h = &sc->http;
    int n = w->cfg.nworkers;
    long conns = (long)share(h->connections, w->id, n);
    if (conns < 1)
        conns = 1;
    w->nslots = (int)(h->version == LG_HTTP_1_1 ? conns : conns * h->max_streams);
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (w->epfd < 0)
        return CM_EIO;
    if (lg_h1e_wanted(sc, w->cfg.base_url)) { /* lean engine (stopgap until engine.h) */
        w->nslots = (int)conns;
        int rc = lg_loop_new(&w->loop);
        if (rc == 0)
            rc = lg_h1e_new(w->loop, sc, w->cfg.base_url, (int)conns, lean_done, &w->lean);
        if (rc)
            return rc;
    }
    w->nshards = w->lean                     ? 0
                 : h->version == LG_HTTP_1_1 ? (int)((conns + SHARD_CONNS - 1) / SHARD_CONNS)
                                             : 1;
    w->shards = cm_xcalloc((size_t)w->nshards, sizeof(*w->shards));
    for (int k = 0; k < w->nshards; k++) {
        struct shard *sh = &w->shards[k];
        long c = (long)share(conns, k, w->nshards);
        sh->w = w;
        sh->deadline = INT64_MAX;
        sh->multi = curl_multi_init();
        if (!sh->multi)
            return CM_EIO;
        curl_multi_setopt(sh->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
        curl_multi_setopt(sh->multi, CURLMOPT_SOCKETDATA, sh);
        curl_multi_setopt(sh->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
        curl_multi_setopt(sh->multi, CURLMOPT_TIMERDATA, sh);
        curl_multi_setopt(sh->multi, CURLMOPT_MAX_HOST_CONNECTIONS, c);
        curl_multi_setopt(sh->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, c);
        curl_multi_setopt(sh->multi, CURLMOPT_MAXCONNECTS, c);
        curl_multi_setopt(sh->multi, CURLMOPT_PIPELINING,
                          h->version == LG_HTTP_1_1 ? (long)CURLPIPE_NOTHING
                                                    : (long)CURLPIPE_MULTIPLEX);
        if (h->version != LG_HTTP_1_1)
            curl_multi_setopt(sh->multi, CURLMOPT_MAX_CONCURRENT_STREAMS, (long)h->max_streams);
    }
    w->slots = cm_xcalloc((size_t)w->nslots, sizeof(*w->slots));
    for (int i = w->nslots - 1; i >= 0; i--) {
        slot_setup(w, &w->slots[i]);
        /* HTTP/1.1: slot i -> shard i mod n, so shard k holds share(conns, k, n) slots,
         * exactly its connection limit */
        w->slots[i].sh = w->nshards ? &w->shards[i % w->nshards] : NULL;
        w->slots[i].next_free = w->free_slots;
        w->free_slots = &w->slots[i];
    }
    w->qmax = (size_t)share(sc->queue_max, w->id, n);
    if (w->qmax < 16)
        w->qmax = 16;
    w->qcap = w->qmax < 4096 ? w->qmax : 4096;
    w->q = cm_xcalloc(w->qcap, sizeof(*w->q));
    lg_sched_init(&w->sched, sc->phases, sc->n_phases, w->id, n, w->cfg.seed);
    w->end_ns = w->sched.end_ns;
    w->rng = (w->cfg.seed ? w->cfg.seed : (uint64_t)cm_clock_wall_ns()) * 31 + (uint64_t)w->id + 7;
    build_cum(w);
    w->caps = cm_xcalloc(sc->n_vars ? sc->n_vars : 1, sizeof(*w->caps));
    w->var_vals = cm_xcalloc(sc->n_vars ? sc->n_vars : 1, sizeof(char *));
    w->var_lens = cm_xcalloc(sc->n_vars ? sc->n_vars : 1, sizeof(size_t));
    w->cur = lg_stats_new((int)sc->n_reqs);
    w->pub = lg_stats_new((int)sc->n_reqs);
    if (sc->sample_requests > 0) {
        w->rec_cur = cm_xcalloc(LG_REC_MAX, sizeof(*w->rec_cur));
        w->rec_pub = cm_xcalloc(LG_REC_MAX, sizeof(*w->rec_pub));
        w->sample_threshold = sc->sample_requests >= 1
                                  ? UINT64_MAX
                                  : (uint64_t)(sc->sample_requests * 18446744073709551615.0);
    }
    return 0;
}

/* ---- queue ---- */

static int q_push(struct lg_worker *w, int64_t t, int phase, int waited)
{
    if (w->qlen == w->qcap) {
        if (w->qcap >= w->qmax)
            return CM_ETOOBIG;
        size_t ncap = w->qcap * 2 > w->qmax ? w->qmax : w->qcap * 2;
        struct qitem *nq = cm_xcalloc(ncap, sizeof(*nq));
        for (size_t i = 0; i < w->qlen; i++)
            nq[i] = w->q[(w->qhead + i) % w->qcap];
        free(w->q);
        w->q = nq;
        w->qcap = ncap;
        w->qhead = 0;
    }
    w->q[(w->qhead + w->qlen) % w->qcap] = (struct qitem){t, phase, waited};
    w->qlen++;
    return 0;
}

static struct qitem *q_head(struct lg_worker *w)
{
    return w->qlen ? &w->q[w->qhead] : NULL;
}

static void q_pop(struct lg_worker *w)
{
    w->qhead = (w->qhead + 1) % w->qcap;
    w->qlen--;
}

/* ---- one request ---- */

static int pick_ep(struct lg_worker *w, int *redirected)
{
    const struct lg_scenario *sc = w->sc;
    double u = (double)(lg_rng_next(&w->rng) >> 11) / 9007199254740992.0;
    size_t i = 0;
    while (i + 1 < sc->n_reqs && u * sc->total_weight >= w->cum_all[i])
        i++;
    *redirected = 0;
    if (!sc->reqs[i].uses_vars)
        return (int)i;
    int ok = 1;
    for (size_t v = 0; v < sc->n_vars; v++)
        if (!w->caps[v].n)
            ok = 0; /* conservative: any missing variable redirects */
    if (ok)
        return (int)i;
    *redirected = 1;
    i = 0;
    while (i + 1 < sc->n_reqs && (u * sc->indep_weight >= w->cum_indep[i] || sc->reqs[i].uses_vars))
        i++;
    return (int)i;
}

static void fill_vars(struct lg_worker *w)
{
    uint64_t r = lg_rng_next(&w->rng);
    for (size_t v = 0; v < w->sc->n_vars; v++) {
        struct capring *c = &w->caps[v];
        size_t idx = c->n ? (size_t)(r % c->n) : 0;
        w->var_vals[v] = c->n ? c->v[idx] : NULL;
        w->var_lens[v] = c->n ? c->len[idx] : 0;
    }
}

static void put_value(char *dst, const char *v, size_t n)
{
    memcpy(dst, v, n); /* fixed-length header values are overwritten in place */
}

static struct curl_slist *append_hdr(struct curl_slist *l, const char *name, const char *val,
                                     char **where)
{
    struct cm_buf b;
    cm_buf_init(&b, 0);
    cm_buf_printf(&b, "%s: %s", name, val);
    l = curl_slist_append(l, cm_buf_cstr(&b));
    cm_buf_deinit(&b);
    if (where) {
        struct curl_slist *last = l;
        while (last->next)
            last = last->next;
        *where = last->data + strlen(name) + 2;
    }
    return l;
}

static struct curl_slist *build_headers(struct lg_worker *w, const struct lg_request *r,
                                        struct hdrcache *hc, const struct lg_tmpl_ctx *ctx,
                                        const char *tp, const char *xr)
{
    const struct lg_corr_cfg *cc = &w->sc->corr;
    struct curl_slist *l = NULL;
    if (cc->enabled) {
        l = append_hdr(l, cc->header, ctx->corr_id, hc ? &hc->corr : NULL);
        if (cc->traceparent)
            l = append_hdr(l, "traceparent", tp, hc ? &hc->tp : NULL);
        if (cc->xray)
            l = append_hdr(l, "X-Amzn-Trace-Id", xr, hc ? &hc->xray : NULL);
    }
    struct cm_buf v;
    cm_buf_init(&v, 64 * 1024);
    for (size_t i = 0; i < r->n_headers; i++) {
        cm_buf_reset(&v);
        lg_tmpl_render(r->headers[i].value, ctx, &v);
        l = append_hdr(l, r->headers[i].name, cm_buf_cstr(&v), NULL);
    }
    cm_buf_deinit(&v);
    /* no "Expect: 100-continue" round trip for bodies */
    if (r->body_t)
        l = curl_slist_append(l, "Expect:");
    return l;
}

static void set_headers(struct lg_worker *w, struct slot *sl, const struct lg_request *r,
                        const struct lg_tmpl_ctx *ctx)
{
    const struct lg_corr_cfg *cc = &w->sc->corr;
    char tp[CM_TRACEPARENT_LEN + 1] = "", xr[96] = "";
    if (cc->enabled && (cc->traceparent || cc->xray)) {
        struct cm_trace t;
        cm_trace_new(ctx->wall_ns / CM_NS_PER_MS, &t);
        if (cc->traceparent)
            cm_trace_format_traceparent(&t, tp);
        if (cc->xray)
            cm_trace_format_xray(&t, xr);
    }
    if (r->headers_dynamic) {
        curl_slist_free_all(sl->dyn);
        sl->dyn = build_headers(w, r, NULL, ctx, tp, xr);
        curl_easy_setopt(sl->e, CURLOPT_HTTPHEADER, sl->dyn);
        return;
    }
    struct hdrcache *hc = &sl->hc[sl->ep];
    int fresh = !hc->list;
    if (fresh) {
        hc->list = build_headers(w, r, hc, ctx, tp, xr);
    } else if (cc->enabled) {
        put_value(hc->corr, ctx->corr_id, CM_CORR_ID_LEN);
        if (cc->traceparent)
            put_value(hc->tp, tp, CM_TRACEPARENT_LEN);
        if (cc->xray && strlen(hc->xray) == strlen(xr))
            put_value(hc->xray, xr, strlen(xr));
    }
    if (fresh || sl->last_ep != sl->ep)
        curl_easy_setopt(sl->e, CURLOPT_HTTPHEADER, hc->list);
}

static void set_method(struct slot *sl, const struct lg_request *r, const struct cm_buf *body)
{
    CURL *e = sl->e;
    int is_head = strcmp(r->method, "HEAD") == 0;
    curl_easy_setopt(e, CURLOPT_NOBODY, is_head ? 1L : 0L);
    if (r->body_t) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body->data ? body->data : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
    } else if (!is_head) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    int custom = strcmp(r->method, "GET") && strcmp(r->method, "POST") && !is_head;
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, custom ? r->method : NULL);
}

static void count_start(struct lg_worker *w, const struct slot *sl, const struct qitem *it,
                        int redirected, int64_t now)
{
    if (sl->recording) {
        lg_stats_count(w->cur, sl->ep, LG_C_REQUESTS, 1);
        if (redirected)
            lg_stats_count(w->cur, -1, LG_C_NO_CAPTURE, 1);
        if (it->waited)
            cm_hist_record(w->cur->queue_wait, (now - sl->intended_ns) / 1000);
    }
}

static void lean_start(struct lg_worker *w, struct slot *sl, const struct qitem *it,
                       const struct lg_tmpl_ctx *ctx, int redirected, int64_t now);

static void start_request(struct lg_worker *w, const struct qitem *it, int64_t now)
{
    const struct lg_scenario *sc = w->sc;
    struct slot *sl = w->free_slots;
    w->free_slots = sl->next_free;
    int redirected;
    sl->ep = pick_ep(w, &redirected);
    const struct lg_request *r = &sc->reqs[sl->ep];
    sl->recording = !sc->phases[it->phase].warmup;
    sl->intended_ns = w->cfg.t0_mono_ns + it->t_ns;
    sl->vu = sc->executor == LG_EXEC_CLOSED;
    sl->bytes = 0;
    sl->sample = w->rec_cur && sl->recording && lg_rng_next(&w->rng) <= w->sample_threshold;
    sl->want_body = 0;
    sl->want_hdr = 0;
    for (size_t i = 0; i < r->n_caps; i++) {
        sl->want_body |= r->caps[i].from == LG_CAP_JSON;
        sl->want_hdr |= r->caps[i].from == LG_CAP_HEADER;
    }
    cm_buf_reset(&sl->resp);
    cm_buf_reset(&sl->hval);
    int64_t wall = w->cfg.t0_wall_ns + (now - w->cfg.t0_mono_ns);
    if (sc->corr.enabled)
        cm_corr_new_id(wall / CM_NS_PER_MS, sl->corr);
    else
        sl->corr[0] = 0;
    if (r->uses_vars)
        fill_vars(w);
    const char *const *row = NULL;
    if (sc->data.n_rows) {
        size_t ri = sc->data.order ? (size_t)(lg_rng_next(&w->rng) % sc->data.n_rows)
                                   : (w->data_next++ * (size_t)w->cfg.nworkers + (size_t)w->id) %
                                         sc->data.n_rows;
        row = (const char *const *)sc->data.rows[ri];
    }
    struct lg_tmpl_ctx ctx = {
        .seq = ++w->seq * (uint64_t)w->cfg.nworkers + (uint64_t)w->id,
        .corr_id = sl->corr,
        .wall_ns = wall,
        .rng = &w->rng,
        .data_row = row,
        .vars = w->var_vals,
        .var_lens = w->var_lens,
    };
    if (w->lean) { /* lean engine (stopgap until engine.h) */
        lean_start(w, sl, it, &ctx, redirected, now);
        return;
    }
    if (r->path_t->dynamic || sl->last_ep != sl->ep) {
        cm_buf_reset(&sl->url);
        cm_buf_puts(&sl->url, w->cfg.base_url);
        lg_tmpl_render(r->path_t, &ctx, &sl->url);
        curl_easy_setopt(sl->e, CURLOPT_URL, cm_buf_cstr(&sl->url));
    }
    if (r->body_t && (r->body_t->dynamic || sl->last_ep != sl->ep)) {
        cm_buf_reset(&sl->body);
        lg_tmpl_render(r->body_t, &ctx, &sl->body);
    }
    set_headers(w, sl, r, &ctx);
    if (sl->last_ep != sl->ep || (r->body_t && r->body_t->dynamic)) {
        set_method(sl, r, &sl->body);
        /* with HEADERDATA set and no HEADERFUNCTION, curl would pass headers to write_cb */
        curl_easy_setopt(sl->e, CURLOPT_HEADERFUNCTION, sl->want_hdr ? header_cb : NULL);
        curl_easy_setopt(sl->e, CURLOPT_HEADERDATA, sl->want_hdr ? (void *)sl : NULL);
        curl_easy_setopt(
            sl->e, CURLOPT_TIMEOUT_MS,
            (long)((r->timeout_ns ? r->timeout_ns : sc->http.timeout_ns) / CM_NS_PER_MS));
    }
    sl->last_ep = sl->ep;
    count_start(w, sl, it, redirected, now);
    curl_multi_add_handle(sl->sh->multi, sl->e);
    w->inflight++;
}

/* ---- completion ---- */

static const char *json_path(const cJSON *root, const char *path, char *out, size_t outsz)
{
    const cJSON *cur = root;
    const char *p = path;
    while (*p && cur) {
        char key[128];
        size_t k = 0;
        if (*p == '[') {
            long idx = strtol(p + 1, (char **)&p, 10);
            if (*p != ']')
                return NULL;
            p++;
            cur = cJSON_IsArray(cur) ? cJSON_GetArrayItem(cur, (int)idx) : NULL;
        } else {
            while (*p && *p != '.' && *p != '[' && k + 1 < sizeof(key))
                key[k++] = *p++;
            key[k] = 0;
            cur = cJSON_IsObject(cur) ? cJSON_GetObjectItemCaseSensitive(cur, key) : NULL;
        }
        if (*p == '.')
            p++;
    }
    if (!cur)
        return NULL;
    if (cJSON_IsString(cur))
        cm_strlcpy(out, cur->valuestring, outsz);
    else if (cJSON_IsNumber(cur))
        snprintf(out, outsz, "%.17g", cur->valuedouble);
    else if (cJSON_IsBool(cur))
        cm_strlcpy(out, cJSON_IsTrue(cur) ? "true" : "false", outsz);
    else
        return NULL;
    return out;
}

static const char *header_value(struct slot *sl, const char *name, char *out, size_t outsz)
{
    const char *p = cm_buf_cstr(&sl->hval), *found = NULL;
    size_t nl = strlen(name);
    while (*p) { /* the last occurrence wins: redirects and 100-continue add blocks */
        const char *eol = strstr(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0)
            found = p;
        p += len + (eol ? 2 : 0);
    }
    if (!found)
        return NULL;
    found += nl + 1;
    while (*found == ' ')
        found++;
    size_t n = strcspn(found, "\r\n");
    while (n && found[n - 1] == ' ')
        n--;
    if (n >= outsz)
        n = outsz - 1;
    memcpy(out, found, n);
    out[n] = 0;
    return out;
}

static void store_capture(struct lg_worker *w, int var, const char *v)
{
    struct capring *c = &w->caps[var];
    size_t i = c->next;
    free(c->v[i]);
    c->v[i] = cm_xstrdup(v);
    c->len[i] = strlen(v);
    c->next = (i + 1) % CAP_RING;
    if (c->n < CAP_RING)
        c->n++;
}

static void do_captures(struct lg_worker *w, struct slot *sl, const struct lg_request *r)
{
    cJSON *root = NULL;
    char val[VALUE_MAX];
    for (size_t i = 0; i < r->n_caps; i++) {
        const struct lg_capture *c = &r->caps[i];
        const char *v = NULL;
        if (c->from == LG_CAP_HEADER) {
            v = header_value(sl, c->arg, val, sizeof(val));
        } else {
            if (!root)
                root = cm_json_parse(sl->resp.data ? sl->resp.data : "", sl->resp.len);
            v = root ? json_path(root, c->arg, val, sizeof(val)) : NULL;
        }
        if (v)
            store_capture(w, c->var, v);
    }
    cJSON_Delete(root);
}

static void sample_error(struct lg_worker *w, struct slot *sl, int status, int64_t lat_us,
                         const char *what)
{
    if (w->n_errs >= LG_ERR_SAMPLES)
        return;
    struct lg_err_sample *e = &w->errs[w->n_errs++];
    cm_strlcpy(e->corr_id, sl->corr, sizeof(e->corr_id));
    e->ep = sl->ep;
    e->status = status;
    e->intended_ms = (sl->intended_ns - w->cfg.t0_mono_ns) / CM_NS_PER_MS;
    e->latency_us = lat_us;
    cm_strlcpy(e->what, what, sizeof(e->what));
}

static void add_record(struct lg_worker *w, const struct slot *sl, int status, int err,
                       int64_t lat_us, int64_t unc_us)
{
    if (w->n_rec_cur >= LG_REC_MAX) {
        w->rec_lost++;
        return;
    }
    struct lg_req_rec *r = &w->rec_cur[w->n_rec_cur++];
    memcpy(r->corr_id, sl->corr, sizeof(sl->corr));
    r->intended_ns = sl->intended_ns - w->cfg.t0_mono_ns;
    r->latency_us = lat_us;
    r->uncorrected_us = unc_us;
    r->ep = sl->ep;
    r->status = status;
    r->err = err;
}

/* One finished request, whichever engine ran it. status 0: a transport error
 * of kind `kind`. Times from the actual send, us; connect_us -1: the request
 * reused a connection. bytes: response body bytes. */
struct done_info {
    int status;
    enum lg_ctr kind;
    const char *what;
    int64_t total_us, ttfb_us, connect_us, bytes;
};

static void record_result(struct lg_worker *w, struct slot *sl, const struct done_info *d,
                          int64_t now)
{
    struct lg_stats *st = w->cur;
    int ep = sl->ep;
    const struct lg_request *r = &w->sc->reqs[ep];
    int64_t lat_us = (now - sl->intended_ns) / 1000;
    long status = d->status;
    if (status >= 100 && status < 600 && r->expect[status] && r->n_caps)
        do_captures(w, sl, r);
    if (!sl->recording)
        return;
    lg_stats_count(st, ep, LG_C_COMPLETED, 1);
    lg_stats_count(st, ep, LG_C_BYTES_IN, d->bytes);
    if (status == 0) {
        enum lg_ctr kind = d->kind;
        lg_stats_count(st, ep, LG_C_ERRORS, 1);
        lg_stats_count(st, ep, kind, 1);
        if (kind == LG_C_TIMEOUT) /* the wait was real: keep it in the latency */
            lg_stats_hist(st, ep, LG_H_LATENCY, lat_us);
        if (sl->sample)
            add_record(w, sl, 0, kind, lat_us, -1);
        sample_error(w, sl, 0, lat_us, d->what);
        return;
    }
    lg_stats_hist(st, ep, LG_H_LATENCY, lat_us);
    lg_stats_hist(st, ep, LG_H_LATENCY_UNCORR, d->total_us);
    lg_stats_hist(st, ep, LG_H_TTFB, d->ttfb_us);
    if (d->connect_us >= 0)
        lg_stats_hist(st, ep, LG_H_CONNECT, d->connect_us);
    int cls = (int)(status / 100);
    if (cls >= 1 && cls <= 5) {
        lg_stats_count(st, ep, (enum lg_ctr)(LG_C_S1XX + cls - 1), 1);
        cm_hist_record(st->by_class[cls - 1], lat_us);
    }
    if (status == 429)
        lg_stats_count(st, ep, LG_C_S429, 1);
    int ok = status >= 100 && status < 600 && r->expect[status];
    if (sl->sample)
        add_record(w, sl, (int)status, ok ? 0 : LG_C_UNEXPECTED, lat_us, d->total_us);
    if (ok) {
        lg_stats_count(st, ep, LG_C_OK, 1);
    } else {
        lg_stats_count(st, ep, LG_C_ERRORS, 1);
        lg_stats_count(st, ep, LG_C_UNEXPECTED, 1);
        sample_error(w, sl, (int)status, lat_us, "unexpected status");
    }
}

static void record_done(struct lg_worker *w, struct slot *sl, CURLcode res, int64_t now)
{
    struct done_info d = {.kind = LG_C_TRANSPORT, .what = "", .connect_us = -1, .bytes = sl->bytes};
    if (res != CURLE_OK) {
        if (res == CURLE_COULDNT_CONNECT || res == CURLE_COULDNT_RESOLVE_HOST)
            d.kind = LG_C_CONNECT_ERR;
        else if (res == CURLE_OPERATION_TIMEDOUT)
            d.kind = LG_C_TIMEOUT;
        d.what = curl_easy_strerror(res);
        record_result(w, sl, &d, now);
        return;
    }
    long status = 0, nconn = 0;
    curl_off_t total = 0, ttfb = 0, conn = 0;
    curl_easy_getinfo(sl->e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(sl->e, CURLINFO_TOTAL_TIME_T, &total);
    curl_easy_getinfo(sl->e, CURLINFO_STARTTRANSFER_TIME_T, &ttfb);
    curl_easy_getinfo(sl->e, CURLINFO_NUM_CONNECTS, &nconn);
    if (nconn > 0) {
        curl_easy_getinfo(sl->e, CURLINFO_CONNECT_TIME_T, &conn);
        d.connect_us = (int64_t)conn;
    }
    d.status = (int)status;
    d.total_us = (int64_t)total;
    d.ttfb_us = (int64_t)ttfb;
    record_result(w, sl, &d, now);
}

static void release(struct lg_worker *w, struct slot *sl)
{
    if (!w->lean)
        curl_multi_remove_handle(sl->sh->multi, sl->e);
    if (sl->dyn) {
        curl_slist_free_all(sl->dyn);
        sl->dyn = NULL;
        sl->last_ep = -1; /* the handle points at the freed list */
    }
    sl->next_free = w->free_slots;
    w->free_slots = sl;
    w->inflight--;
}

static void closed_next(struct lg_worker *w, int64_t now);

static void drain_done(struct lg_worker *w)
{
    CURLMsg *m;
    int left;
    int64_t now = cm_clock_mono_ns();
    for (int k = 0; k < w->nshards; k++)
        while ((m = curl_multi_info_read(w->shards[k].multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            struct slot *sl = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&sl);
            CURLcode res = m->data.result;
            record_done(w, sl, res, now);
            int vu = sl->vu;
            release(w, sl);
            if (vu)
                closed_next(w, now);
        }
}

/* ---- lean engine (stopgap until engine.h) ---- */

static void lean_done(void *user, const struct lg_h1_result *r, int64_t now)
{
    struct slot *sl = user;
    struct lg_worker *w = sl->w;
    if (r->err == LG_H1_E_CANCELLED) {
        w->cancelled++;
        release(w, sl);
        return;
    }
    struct done_info d = {
        .status = r->err ? 0 : r->status,
        .kind = r->err == LG_H1_E_CONNECT   ? LG_C_CONNECT_ERR
                : r->err == LG_H1_E_TIMEOUT ? LG_C_TIMEOUT
                                            : LG_C_TRANSPORT,
        .what = r->what,
        .total_us = r->total_ns / 1000,
        .ttfb_us = r->ttfb_ns >= 0 ? r->ttfb_ns / 1000 : 0,
        .connect_us = r->connect_ns >= 0 ? r->connect_ns / 1000 : -1,
        .bytes = r->body_bytes,
    };
    /* captures read the slot's buffers, as with libcurl */
    if (r->body) {
        cm_buf_reset(&sl->resp);
        cm_buf_append(&sl->resp, r->body, r->body_len);
    }
    if (r->headers) {
        cm_buf_reset(&sl->hval);
        cm_buf_append(&sl->hval, r->headers, r->headers_len);
    }
    record_result(w, sl, &d, now);
    int vu = sl->vu;
    release(w, sl);
    if (vu)
        closed_next(w, now);
}

static void lean_start(struct lg_worker *w, struct slot *sl, const struct qitem *it,
                       const struct lg_tmpl_ctx *ctx, int redirected, int64_t now)
{
    sl->last_ep = sl->ep;
    count_start(w, sl, it, redirected, now);
    w->inflight++;
    if (lg_h1e_start(w->lean, sl->ep, ctx, sl->want_body, sl->want_hdr, sl, now) != 0) {
        struct lg_h1_result r = {.err = LG_H1_E_TRANSPORT, .what = "request too big"};
        lean_done(sl, &r, now);
    }
}

/* ---- closed model ---- */

static int64_t vus_target(struct lg_worker *w, int64_t rel)
{
    if (rel >= w->end_ns)
        return 0;
    size_t p = lg_sched_phase_at(&w->sched, rel);
    return share(w->sc->phases[p].vus, w->id, w->cfg.nworkers);
}

static void closed_next(struct lg_worker *w, int64_t now)
{
    int64_t rel = now - w->cfg.t0_mono_ns;
    if (w->active_vus > vus_target(w, rel)) {
        w->active_vus--;
        return;
    }
    size_t p = lg_sched_phase_at(&w->sched, rel);
    if (q_push(w, rel + w->sc->phases[p].think_ns, (int)p, 0))
        w->active_vus--;
}

static void closed_spawn(struct lg_worker *w, int64_t rel)
{
    int64_t target = vus_target(w, rel);
    size_t p = lg_sched_phase_at(&w->sched, rel);
    while (w->active_vus < target && q_push(w, rel, (int)p, 0) == 0)
        w->active_vus++;
}

/* ---- loop ---- */

static void publish(struct lg_worker *w)
{
    pthread_mutex_lock(&w->mu);
    if (w->n_rec_cur) {
        size_t room = LG_REC_MAX - w->n_rec_pub, n = w->n_rec_cur < room ? w->n_rec_cur : room;
        memcpy(w->rec_pub + w->n_rec_pub, w->rec_cur, n * sizeof(*w->rec_cur));
        w->n_rec_pub += n;
        w->rec_lost += (int64_t)(w->n_rec_cur - n);
        w->n_rec_cur = 0;
    }
    if (!w->pub_has) {
        struct lg_stats *t = w->pub;
        w->pub = w->cur;
        w->cur = t; /* the coordinator reset it when it took it */
        w->pub_has = 1;
    } else {
        lg_stats_add(w->pub, w->cur);
        lg_stats_reset(w->cur);
    }
    pthread_mutex_unlock(&w->mu);
}

static void pull_schedule(struct lg_worker *w, int64_t rel)
{
    while (w->have_next && w->next_t <= rel) {
        int rec = !w->sc->phases[w->next_phase].warmup;
        if (rec)
            cm_hist_record(w->cur->sched_lag, (rel - w->next_t) / 1000);
        int waited = w->inflight + (int)w->qlen >= w->nslots;
        if (q_push(w, w->next_t, w->next_phase, waited) != 0) {
            if (rec)
                lg_stats_count(w->cur, -1, LG_C_DROPPED, 1);
        } else if (waited && rec) {
            lg_stats_count(w->cur, -1, LG_C_QUEUED, 1);
        }
        w->have_next = lg_sched_next(&w->sched, &w->next_t, &w->next_phase);
    }
}

static void dispatch(struct lg_worker *w, int64_t now)
{
    int64_t rel = now - w->cfg.t0_mono_ns;
    struct qitem *h;
    while (w->free_slots && (h = q_head(w)) && h->t_ns <= rel) {
        struct qitem it = *h;
        q_pop(w);
        if (w->sc->executor == LG_EXEC_CLOSED && it.t_ns >= w->end_ns) {
            w->active_vus--;
            continue;
        }
        start_request(w, &it, now);
    }
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static void wait_events(struct lg_worker *w, int64_t now, int64_t wake)
{
    struct epoll_event evs[256];
    int64_t d = wake - now;
    if (d < 0)
        d = 0;
    if (d > 100 * CM_NS_PER_MS)
        d = 100 * CM_NS_PER_MS; /* re-check the stop flag at least every 100 ms */
    if (w->lean) {              /* lean engine: its callbacks record and release as they come */
        lg_loop_run_once(w->loop, now + d);
        return;
    }
    struct timespec ts = {(time_t)(d / CM_NS_PER_S), (long)(d % CM_NS_PER_S)};
    int n = epoll_pwait2(w->epfd, evs, 256, &ts, NULL);
    int running;
    for (int i = 0; i < n; i++) {
        int fd = evs[i].data.fd;
        if ((size_t)fd < w->fd_cap && (w->fd_reg[fd] & FD_IDLE)) {
            epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL); /* idle, and the peer spoke: forget it */
            w->fd_reg[fd] = 0;
            continue;
        }
        int fl = ((evs[i].events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
                 ((evs[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                 ((evs[i].events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action(w->shards[w->fd_sh[fd]].multi, fd, fl, &running);
    }
    if (n > 0)
        drain_done(w);
}

static void cancel_all(struct lg_worker *w)
{
    if (w->lean) {
        lg_h1e_cancel_all(w->lean, cm_clock_mono_ns());
        return;
    }
    for (int i = 0; i < w->nslots; i++) {
        struct slot *sl = &w->slots[i];
        int busy = 1;
        for (struct slot *f = w->free_slots; f; f = f->next_free)
            if (f == sl)
                busy = 0;
        if (busy) {
            w->cancelled++;
            release(w, sl);
        }
    }
}

static void run_loop(struct lg_worker *w)
{
    const int64_t t0 = w->cfg.t0_mono_ns, iv = w->cfg.interval_ns;
    const int closed = w->sc->executor == LG_EXEC_CLOSED;
    int64_t next_pub = t0 + iv;
    int64_t drain_end = t0 + w->end_ns + w->sc->drain_ns;
    int running, skipped = 0;
    if (!closed)
        w->have_next = lg_sched_next(&w->sched, &w->next_t, &w->next_phase);
    for (;;) {
        int64_t now = cm_clock_mono_ns();
        if (atomic_load_explicit(w->cfg.stop, memory_order_relaxed)) {
            cancel_all(w);
            break;
        }
        if (now >= next_pub) {
            publish(w);
            while (next_pub <= now)
                next_pub += iv;
            atomic_store(&w->published, (next_pub - t0) / iv - 1);
        }
        int64_t rel = now - t0;
        if (rel >= 0) {
            if (closed)
                closed_spawn(w, rel);
            else
                pull_schedule(w, rel);
            dispatch(w, now);
        }
        /* new transfers ask for a 0 ms timeout: start them now, not after a wake-up */
        int fired = 0;
        int64_t tnow = cm_clock_mono_ns();
        for (int k = 0; k < w->nshards; k++) {
            struct shard *sh = &w->shards[k];
            if (sh->deadline <= tnow) {
                sh->deadline = INT64_MAX;
                curl_multi_socket_action(sh->multi, CURL_SOCKET_TIMEOUT, 0, &running);
                fired = 1;
            }
        }
        if (fired)
            drain_done(w);
        atomic_store_explicit(&w->a_inflight, w->inflight, memory_order_relaxed);
        atomic_store_explicit(&w->a_queued, (int)w->qlen, memory_order_relaxed);
        /* a trailing pause still runs to the schedule's end (recovery is observed) */
        int sched_over = rel >= w->end_ns && (closed ? w->active_vus <= 0 : !w->have_next);
        if (sched_over && w->qlen == 0 && w->inflight == 0)
            break;
        if (now >= drain_end && rel >= w->end_ns) {
            /* still in flight after the drain period: count as timeouts */
            lg_stats_count(w->cur, -1, LG_C_ERRORS, w->inflight);
            lg_stats_count(w->cur, -1, LG_C_TIMEOUT, w->inflight);
            lg_stats_count(w->cur, -1, LG_C_COMPLETED, w->inflight);
            cancel_all(w);
            w->qlen = 0;
            break;
        }
        int64_t wake = next_pub;
        for (int k = 0; k < w->nshards; k++)
            wake = min64(wake, w->shards[k].deadline);
        if (!closed && w->have_next) {
            /* timer_slack: wake for arrivals on a grid of slack, sending all that are due
             * together (fewer wake-ups; each is at most slack late, which the
             * corrected latency and the lag histogram show) */
            int64_t sl = w->sc->timer_slack_ns, nt = w->next_t;
            if (sl > 0)
                nt = (nt / sl + 1) * sl;
            wake = min64(wake, t0 + nt);
        }
        if (!sched_over)
            wake = min64(wake, t0 + w->end_ns);
        struct qitem *h = q_head(w);
        if (h && w->free_slots)
            wake = min64(wake, t0 + h->t_ns);
        if (sched_over)
            wake = min64(wake, drain_end);
        int64_t t = cm_clock_mono_ns();
        if (wake <= t && !skipped) {
            skipped = 1; /* work is due already: loop once without polling */
            continue;
        }
        skipped = 0;
        wait_events(w, t, wake);
    }
    publish(w);
}

static void *thread_main(void *arg)
{
    struct lg_worker *w = arg;
    run_loop(w);
    atomic_store(&w->finished, 1);
    return NULL;
}

int lg_worker_start(const struct lg_worker_cfg *cfg, int id, struct lg_worker **out)
{
    struct lg_worker *w = cm_xcalloc(1, sizeof(*w));
    w->cfg = *cfg;
    w->sc = cfg->sc;
    w->id = id;
    w->epfd = -1;
    pthread_mutex_init(&w->mu, NULL);
    int rc = worker_init(w);
    if (rc == 0 && pthread_create(&w->th, NULL, thread_main, w) != 0)
        rc = CM_EIO;
    w->started = rc == 0;
    if (rc) {
        lg_worker_free(w);
        w = NULL;
    }
    *out = w;
    return rc;
}

void lg_worker_collect(struct lg_worker *w, struct lg_stats *dst)
{
    pthread_mutex_lock(&w->mu);
    if (w->pub_has) {
        lg_stats_add(dst, w->pub);
        lg_stats_reset(w->pub);
        w->pub_has = 0;
    }
    pthread_mutex_unlock(&w->mu);
}

size_t lg_worker_take_records(struct lg_worker *w, struct lg_req_rec *out, size_t cap,
                              int64_t *lost)
{
    pthread_mutex_lock(&w->mu);
    size_t n = w->n_rec_pub < cap ? w->n_rec_pub : cap;
    memcpy(out, w->rec_pub, n * sizeof(*out));
    w->rec_lost += (int64_t)(w->n_rec_pub - n);
    w->n_rec_pub = 0;
    *lost = w->rec_lost;
    pthread_mutex_unlock(&w->mu);
    return n;
}

int lg_worker_finished(const struct lg_worker *w)
{
    return atomic_load(&((struct lg_worker *)w)->finished);
}

int64_t lg_worker_published(const struct lg_worker *w)
{
    return atomic_load(&((struct lg_worker *)w)->published);
}

int lg_worker_inflight(const struct lg_worker *w)
{
    return atomic_load_explicit(&((struct lg_worker *)w)->a_inflight, memory_order_relaxed);
}

int lg_worker_queued(const struct lg_worker *w)
{
    return atomic_load_explicit(&((struct lg_worker *)w)->a_queued, memory_order_relaxed);
}

void lg_worker_join(struct lg_worker *w)
{
    if (w->started) {
        pthread_join(w->th, NULL);
        w->started = 0;
    }
}

size_t lg_worker_errors(const struct lg_worker *w, const struct lg_err_sample **out)
{
    *out = w->errs;
    return w->n_errs;
}

int64_t lg_worker_cancelled(const struct lg_worker *w)
{
    return w->cancelled;
}

void lg_worker_free(struct lg_worker *w)
{
    if (!w)
        return;
    lg_worker_join(w);
    lg_h1e_free(w->lean);
    lg_loop_free(w->loop);
    for (int i = 0; i < w->nslots; i++)
        slot_deinit(w, &w->slots[i]);
    free(w->slots);
    for (int k = 0; w->shards && k < w->nshards; k++)
        if (w->shards[k].multi)
            curl_multi_cleanup(w->shards[k].multi);
    free(w->shards);
    free(w->fd_sh);
    if (w->epfd >= 0)
        close(w->epfd);
    free(w->q);
    free(w->fd_reg);
    lg_sched_deinit(&w->sched);
    free(w->cum_all);
    free(w->cum_indep);
    for (size_t v = 0; w->caps && v < w->sc->n_vars; v++)
        for (size_t i = 0; i < CAP_RING; i++)
            free(w->caps[v].v[i]);
    free(w->caps);
    free(w->var_vals);
    free(w->var_lens);
    lg_stats_free(w->cur);
    lg_stats_free(w->pub);
    free(w->rec_cur);
    free(w->rec_pub);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
