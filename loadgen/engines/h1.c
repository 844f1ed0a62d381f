/* engines/h1.c: the lean HTTP/1.1 engine for cleartext http:// targets: the
 * scenario's requests serialised by hand and run over loadgen/h1.h's
 * keep-alive pool on the worker's lg_loop. Chosen by http.engine (auto: this
 * engine for http:// with version 1.1; curl for TLS and HTTP/2). The request
 * on the wire:
 *   METHOD SP <url path prefix><rendered path> SP HTTP/1.1 CRLF
 *   Host: <host[:port] from the target URL> CRLF
 *   <correlation header>: <id> CRLF, traceparent, X-Amzn-Trace-Id (as configured)
 *   <the request's headers, rendered> CRLF ...
 *   Content-Length: <n> CRLF (when the request has a body)
 *   Connection: close CRLF (http.keepalive: false)
 *   CRLF <body>
 * sent with one sendmsg of two buffers (head, body). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cm/buf.h"
#include "cm/clock.h"
#include "cm/corr.h"
#include "cm/err.h"
#include "cm/mem.h"
#include "engines/h1_engine.h"
#include "h1.h"
#include "loop.h"
#include "scenario.h"
#include "tmpl.h"

#define HEAD_MAX (64u * 1024) /* request line + headers */
#define BODY_MAX (16u << 20)  /* rendered request body */
#define RESP_MAX (1u << 20)   /* response body kept for captures */

struct h1_slot {
    struct lg_h1e *e;
    struct cm_buf head, body;
    void *user; /* the generic loop's request */
    struct h1_slot *next_free;
};

struct lg_h1e {
    const struct lg_scenario *sc;
    struct lg_h1_pool *pool;
    struct h1_slot *slots; /* one per connection: a request's buffers live as long as it */
    struct h1_slot *free_slots;
    int nslots;
    lg_h1e_done_fn done;
    char host_hdr[256];
    size_t host_len;
    char prefix[1024];
    size_t prefix_len;
};

static void put_header(struct cm_buf *h, const char *name, const char *v, size_t n)
{
    cm_buf_puts(h, name);
    cm_buf_append(h, ": ", 2);
    cm_buf_append(h, v, n);
    cm_buf_append(h, "\r\n", 2);
}

static void put_corr(struct cm_buf *h, const struct lg_corr_cfg *cc, const struct lg_tmpl_ctx *ctx)
{
    put_header(h, cc->header, ctx->corr_id, strlen(ctx->corr_id));
    if (!cc->traceparent && !cc->xray)
        return;
    struct cm_trace t;
    cm_trace_new(ctx->wall_ns / CM_NS_PER_MS, &t);
    if (cc->traceparent) {
        char tp[CM_TRACEPARENT_LEN + 1];
        cm_trace_format_traceparent(&t, tp);
        put_header(h, "traceparent", tp, CM_TRACEPARENT_LEN);
    }
    if (cc->xray) {
        char xr[CM_XRAY_HEADER_MAX];
        cm_trace_format_xray(&t, xr);
        put_header(h, "X-Amzn-Trace-Id", xr, strlen(xr));
    }
}

/* Renders the whole request again for every request: a few short copies,
 * cheaper than tracking which parts of which templates changed. 0, or
 * CM_ETOOBIG when the head or the body passes its maximum. */
static int build_request(struct lg_h1e *e, struct h1_slot *s, const struct lg_request *r,
                         const struct lg_tmpl_ctx *ctx)
{
    const struct lg_corr_cfg *cc = &e->sc->corr;
    struct cm_buf *h = &s->head;
    cm_buf_reset(h);
    cm_buf_reset(&s->body);
    cm_buf_puts(h, r->method);
    cm_buf_putc(h, ' ');
    cm_buf_append(h, e->prefix, e->prefix_len);
    int rc = lg_tmpl_render(r->path_t, ctx, h);
    cm_buf_append(h, " HTTP/1.1\r\nHost: ", 17);
    cm_buf_append(h, e->host_hdr, e->host_len);
    cm_buf_append(h, "\r\n", 2);
    if (cc->enabled)
        put_corr(h, cc, ctx);
    for (size_t i = 0; i < r->n_headers; i++) {
        cm_buf_puts(h, r->headers[i].name);
        cm_buf_append(h, ": ", 2);
        rc |= lg_tmpl_render(r->headers[i].value, ctx, h);
        cm_buf_append(h, "\r\n", 2);
    }
    if (r->body_t) {
        rc |= lg_tmpl_render(r->body_t, ctx, &s->body);
        char cl[40];
        int n = snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", s->body.len);
        cm_buf_append(h, cl, (size_t)n);
    }
    if (!e->sc->http.keepalive)
        cm_buf_append(h, "Connection: close\r\n", 19);
    cm_buf_append(h, "\r\n", 2);
    /* a head that hit its maximum lost an append somewhere: refuse it whole */
    if (h->len + 64 > h->max)
        rc = CM_ETOOBIG;
    return rc ? CM_ETOOBIG : 0;
}

static void on_done(void *user, const struct lg_h1_result *r, int64_t now)
{
    struct h1_slot *s = user;
    struct lg_h1e *e = s->e;
    void *req = s->user;
    s->next_free = e->free_slots;
    e->free_slots = s;
    e->done(req, r, now);
}

int lg_h1e_wanted(const struct lg_scenario *sc, const char *base_url)
{
    if (sc->http.engine == LG_ENGINE_LEAN)
        return 1;
    return sc->http.engine == LG_ENGINE_AUTO && sc->http.version == LG_HTTP_1_1 &&
           strncasecmp(base_url, "http://", 7) == 0;
}

void lg_h1e_free(struct lg_h1e *e)
{
    if (!e)
        return;
    lg_h1_pool_free(e->pool);
    for (int i = 0; i < e->nslots; i++) {
        cm_buf_deinit(&e->slots[i].head);
        cm_buf_deinit(&e->slots[i].body);
    }
    free(e->slots);
    free(e);
}

int lg_h1e_new(struct lg_loop *loop, const struct lg_scenario *sc, const char *base_url, int conns,
               lg_h1e_done_fn done, struct lg_h1e **out)
{
    struct lg_h1e *e = cm_xcalloc(1, sizeof(*e));
    struct lg_h1_cfg cfg = {.conns = conns,
                            .connect_timeout_ns = sc->http.connect_timeout_ns,
                            .keepalive = sc->http.keepalive,
                            .body_cap = RESP_MAX,
                            .done = on_done};
    char host[256], port[16];
    e->sc = sc;
    e->done = done;
    int rc = lg_h1_split_url(base_url, e->host_hdr, sizeof(e->host_hdr), host, sizeof(host), port,
                             sizeof(port), e->prefix, sizeof(e->prefix));
    if (rc == 0)
        rc = lg_h1_resolve(host, port, &cfg);
    if (rc == 0)
        rc = lg_h1_pool_new(loop, &cfg, &e->pool);
    if (rc) {
        lg_h1e_free(e);
        *out = NULL;
        return rc;
    }
    e->host_len = strlen(e->host_hdr);
    e->prefix_len = strlen(e->prefix);
    e->nslots = conns;
    e->slots = cm_xcalloc((size_t)conns, sizeof(*e->slots));
    for (int i = conns - 1; i >= 0; i--) {
        struct h1_slot *s = &e->slots[i];
        s->e = e;
        cm_buf_init(&s->head, HEAD_MAX + 64);
        cm_buf_init(&s->body, BODY_MAX);
        s->next_free = e->free_slots;
        e->free_slots = s;
    }
    *out = e;
    return 0;
}

int lg_h1e_ready(const struct lg_h1e *e)
{
    return e->free_slots != NULL;
}

int lg_h1e_start(struct lg_h1e *e, int ep, const struct lg_tmpl_ctx *ctx, int want_body,
                 int want_hdr, void *user, int64_t now)
{
    const struct lg_request *r = &e->sc->reqs[ep];
    struct h1_slot *s = e->free_slots;
    if (build_request(e, s, r, ctx) != 0)
        return CM_ETOOBIG;
    struct lg_h1_conn *c = lg_h1_pool_idle(e->pool);
    e->free_slots = s->next_free;
    s->user = user;
    struct lg_h1_req rq = {
        .iov = {{s->head.data, s->head.len}, {s->body.data, s->body.len}},
        .iovcnt = s->body.len ? 2 : 1,
        .head = strcmp(r->method, "HEAD") == 0,
        .keep_body = want_body,
        .keep_headers = want_hdr,
        .timeout_ns = r->timeout_ns ? r->timeout_ns : e->sc->http.timeout_ns,
        .user = s,
    };
    lg_h1_send(c, &rq, now);
    return 0;
}

int lg_h1e_cancel_all(struct lg_h1e *e, int64_t now)
{
    return lg_h1_pool_cancel_all(e->pool, now);
}
