/* h1_test.c: the lean HTTP/1.1 client. The response parser on tricky
 * responses, each fed whole, split in two at every byte offset and byte by
 * byte (as a connection's read buffer would carry a partial line over);
 * errors for malformed and oversized input; the pool over real loopback
 * sockets against a scripted server thread: keep-alive reuse, Connection:
 * close, a server that closes idle connections (retry on a new one),
 * refused connects, request timeouts, timings. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../harness.h"
#include "cm/clock.h"
#include "cm/err.h"
#include "h1.h"
#include "loop.h"

/* ---- parser ---- */

struct outcome {
    int rc;
    int status, keep_alive;
    int64_t body_bytes;
    char body[256];
    size_t consumed; /* bytes the parser used in total */
};

/* Feeds resp in pieces cut at `cuts` (ascending offsets), carrying the
 * unconsumed tail over as a connection does; eof: the peer closes after. */
static struct outcome feed(const char *resp, size_t len, const size_t *cuts, size_t ncuts, int head,
                           int eof, size_t max_hdr)
{
    struct outcome o;
    memset(&o, 0, sizeof(o));
    struct cm_buf body;
    cm_buf_init(&body, sizeof(o.body) - 1);
    struct lg_h1_parser p = {.body_keep = &body, .max_header_bytes = max_hdr};
    lg_h1_parser_begin(&p, head);
    char *buf = malloc(len + 1);
    size_t blen = 0, from = 0;
    int rc = LG_H1_MORE;
    for (size_t k = 0; k <= ncuts && rc == LG_H1_MORE; k++) {
        size_t to = k < ncuts ? cuts[k] : len;
        memcpy(buf + blen, resp + from, to - from);
        blen += to - from;
        from = to;
        size_t used = 0;
        rc = lg_h1_parse(&p, buf, blen, &used);
        memmove(buf, buf + used, blen - used);
        blen -= used;
        o.consumed += used;
    }
    if (rc == LG_H1_MORE && eof)
        rc = lg_h1_parse_eof(&p);
    o.rc = rc;
    o.status = p.status;
    o.keep_alive = p.keep_alive;
    o.body_bytes = p.body_bytes;
    memcpy(o.body, body.data ? body.data : "", body.len);
    free(buf);
    cm_buf_deinit(&body);
    return o;
}

struct vec {
    const char *name;
    const char *resp;
    int head, eof;
    int rc, status, keep_alive;
    const char *body;
    int trailing; /* bytes after the response that must not be consumed */
};

static const struct vec vecs[] = {
    {"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n{\"ok\":true}", 0, 0,
     LG_H1_DONE, 200, 1, "{\"ok\":true}", 0},
    {"nginx-like",
     "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: x\r\nContent-Type: "
     "application/json\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nhi",
     0, 0, LG_H1_DONE, 200, 1, "hi", 0},
    {"bare LF", "HTTP/1.1 201 Created\nContent-Length: 3\n\nabc", 0, 0, LG_H1_DONE, 201, 1, "abc",
     0},
    {"no reason", "HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n", 0, 0, LG_H1_DONE, 404, 1, "", 0},
    {"chunked ext trailers",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=val\r\nhello\r\n1 ; x\r\n,"
     "\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\nX-Other: 2\r\n\r\n",
     0, 0, LG_H1_DONE, 200, 1, "hello, world", 0},
    {"chunked upper hex",
     "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, Chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n", 0,
     0, LG_H1_DONE, 200, 1, "0123456789", 0},
    {"1xx then final",
     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
     "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz",
     0, 0, LG_H1_DONE, 200, 1, "z", 0},
    {"204 no body", "HTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\n", 0, 0, LG_H1_DONE, 204,
     1, "", 0},
    {"304 no body", "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 0,
     LG_H1_DONE, 304, 1, "", 0},
    {"HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 12345\r\n\r\n", 1, 0, LG_H1_DONE, 200, 1, "", 0},
    {"connection close",
     "HTTP/1.1 200 OK\r\nConnection: Upgrade, close\r\nContent-Length: 2\r\n\r\nok", 0, 0,
     LG_H1_DONE, 200, 0, "ok", 0},
    {"http/1.0 to close", "HTTP/1.0 200 OK\r\nServer: old\r\n\r\nuntil the end", 0, 1, LG_H1_DONE,
     200, 0, "until the end", 0},
    {"http/1.0 keep-alive",
     "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nab", 0, 0, LG_H1_DONE,
     200, 1, "ab", 0},
    {"1.1 no length to close", "HTTP/1.1 200 OK\r\n\r\nstream", 0, 1, LG_H1_DONE, 200, 0, "stream",
     0},
    {"leading blank line", "\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nq", 0, 0, LG_H1_DONE,
     200, 1, "q", 0},
    {"same length twice", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab", 0,
     0, LG_H1_DONE, 200, 1, "ab", 0},
    {"next response not consumed", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxHTTP/1.1 200", 0,
     0, LG_H1_DONE, 200, 1, "x", 12},
    {"truncated body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0, 1, CM_ECONN, 200, 1,
     "abc", 0},
    {"truncated chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", 0, 1,
     CM_ECONN, 200, 1, "ab", 0},
    {"bad version", "HTTP/2 200 OK\r\n\r\n", 0, 0, CM_EPARSE, 0, 1, "", 0},
    {"garbage", "<html>hello</html>\r\n", 0, 0, CM_EPARSE, 0, 1, "", 0},
    {"bad status", "HTTP/1.1 2x0 OK\r\n\r\n", 0, 0, CM_EPARSE, 0, 1, "", 0},
    {"101 upgrade", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", 0, 0,
     CM_EPARSE, 101, 1, "", 0},
    {"conflicting lengths", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nab",
     0, 0, CM_EPARSE, 200, 1, "", 0},
    {"negative length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, 0, CM_EPARSE, 200, 1,
     "", 0},
    {"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0, 0,
     CM_EPARSE, 200, 1, "", 0},
    {"huge chunk size",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", 0, 0, CM_EPARSE,
     200, 1, "", 0},
    {"chunk without CRLF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", 0,
     0, CM_EPARSE, 200, 1, "ab", 0},
    {"header without colon", "HTTP/1.1 200 OK\r\nBroken\r\n\r\n", 0, 0, CM_EPARSE, 200, 1, "", 0},
    {"obs-fold", "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", 0, 0, CM_EPARSE, 200, 1, "", 0},
};

static void check_vec(const struct vec *v)
{
    size_t len = strlen(v->resp);
    size_t want_used = len - (size_t)v->trailing;
    struct outcome whole = feed(v->resp, len, NULL, 0, v->head, v->eof, 0);
    CHECK_MSG(whole.rc == v->rc, "%s: rc %d want %d", v->name, whole.rc, v->rc);
    CHECK_MSG(whole.status == v->status, "%s: status %d", v->name, whole.status);
    if (v->rc == LG_H1_DONE) {
        CHECK_MSG(whole.keep_alive == v->keep_alive, "%s: keep_alive", v->name);
        CHECK_MSG(strcmp(whole.body, v->body) == 0, "%s: body '%s'", v->name, whole.body);
        CHECK_MSG(whole.body_bytes == (int64_t)strlen(v->body), "%s: body_bytes", v->name);
        CHECK_MSG(whole.consumed == want_used, "%s: consumed %zu want %zu", v->name, whole.consumed,
                  want_used);
    }
    /* every split point gives the same outcome */
    int same = 1;
    for (size_t cut = 0; cut <= len; cut++) {
        struct outcome s = feed(v->resp, len, &cut, 1, v->head, v->eof, 0);
        if (s.rc != whole.rc || s.status != whole.status || strcmp(s.body, whole.body) != 0 ||
            (v->rc == LG_H1_DONE && s.consumed != whole.consumed)) {
            same = 0;
            TH_FAIL_AT("%s: split at %zu: rc %d body '%s'", v->name, cut, s.rc, s.body);
            break;
        }
    }
    CHECK(same);
    size_t *cuts = malloc(len * sizeof(*cuts) + 1);
    for (size_t i = 0; i < len; i++)
        cuts[i] = i + 1;
    struct outcome b = feed(v->resp, len, cuts, len, v->head, v->eof, 0);
    free(cuts);
    CHECK_MSG(b.rc == whole.rc && strcmp(b.body, whole.body) == 0, "%s: byte by byte rc %d",
              v->name, b.rc);
}

static void test_limits(void)
{
    /* a header block past the limit is an error, whole or in pieces, never a crash */
    char big[3000];
    int n = snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nX-Big: ");
    memset(big + n, 'a', sizeof(big) - (size_t)n - 1);
    big[sizeof(big) - 1] = 0;
    size_t cut = 100;
    CHECK_INT(feed(big, strlen(big), NULL, 0, 0, 0, 1024).rc, CM_ETOOBIG);
    CHECK_INT(feed(big, strlen(big), &cut, 1, 0, 0, 1024).rc, CM_ETOOBIG);
    /* many small lines add up */
    char many[4096] = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i < 200; i++)
        strncat(many, "A: b\r\n", sizeof(many) - strlen(many) - 1);
    CHECK_INT(feed(many, strlen(many), NULL, 0, 0, 0, 512).rc, CM_ETOOBIG);
    /* a chunk-size line longer than LG_H1_MAX_CHUNK_LINE */
    char ext[8192];
    n = snprintf(ext, sizeof(ext), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;");
    memset(ext + n, 'e', sizeof(ext) - (size_t)n - 1);
    ext[sizeof(ext) - 1] = 0;
    CHECK_INT(feed(ext, strlen(ext), NULL, 0, 0, 0, 0).rc, CM_ETOOBIG);
    /* endless 1xx */
    char inter[2048] = "";
    for (int i = 0; i < 20; i++)
        strncat(inter, "HTTP/1.1 100 Continue\r\n\r\n", sizeof(inter) - strlen(inter) - 1);
    CHECK_INT(feed(inter, strlen(inter), NULL, 0, 0, 0, 0).rc, CM_ETOOBIG);
    /* the kept body stops at its cap; body_bytes counts all */
    char longb[1024];
    n = snprintf(longb, sizeof(longb), "HTTP/1.1 200 OK\r\nContent-Length: 600\r\n\r\n");
    memset(longb + n, 'b', 600);
    struct outcome o = feed(longb, (size_t)n + 600, NULL, 0, 0, 0, 0);
    CHECK_INT(o.rc, LG_H1_DONE);
    CHECK_INT(o.body_bytes, 600);
    CHECK_INT(strlen(o.body), sizeof(o.body) - 1);
}

static void test_header_keep(void)
{
    const char *r = "HTTP/1.1 100 Continue\r\nX-Id: early\r\n\r\nHTTP/1.1 200 OK\r\nX-Id: one\r\n"
                    "Location:  /orders/42 \r\nx-id: two\r\nContent-Length: 0\r\n\r\n";
    struct cm_buf h;
    cm_buf_init(&h, 4096);
    struct lg_h1_parser p = {.hdr_keep = &h};
    lg_h1_parser_begin(&p, 0);
    size_t used;
    CHECK_INT(lg_h1_parse(&p, r, strlen(r), &used), LG_H1_DONE);
    const char *v;
    size_t vl;
    CHECK(lg_h1_header(h.data, h.len, "location", &v, &vl));
    CHECK(vl == 10 && memcmp(v, "/orders/42", 10) == 0);
    CHECK(lg_h1_header(h.data, h.len, "X-ID", &v, &vl));
    CHECK(vl == 3 && memcmp(v, "two", 3) == 0); /* the last wins; the 1xx block is gone */
    CHECK(!lg_h1_header(h.data, h.len, "X-I", &v, &vl));
    CHECK(!lg_h1_header(h.data, h.len, "missing", &v, &vl));
    cm_buf_deinit(&h);
}

static void test_split_url(void)
{
    char hh[64], h[64], port[8], pre[64];
    CHECK_INT(lg_h1_split_url("http://127.0.0.1:18080", hh, 64, h, 64, port, 8, pre, 64), 0);
    CHECK_STR(hh, "127.0.0.1:18080");
    CHECK_STR(h, "127.0.0.1");
    CHECK_STR(port, "18080");
    CHECK_STR(pre, "");
    CHECK_INT(lg_h1_split_url("http://example.com/prod/", hh, 64, h, 64, port, 8, pre, 64), 0);
    CHECK_STR(hh, "example.com");
    CHECK_STR(port, "80");
    CHECK_STR(pre, "/prod");
    CHECK_INT(lg_h1_split_url("http://[::1]:81/a", hh, 64, h, 64, port, 8, pre, 64), 0);
    CHECK_STR(h, "::1");
    CHECK_STR(hh, "[::1]:81");
    CHECK_INT(lg_h1_split_url("https://x", hh, 64, h, 64, port, 8, pre, 64), CM_EINVAL);
    CHECK_INT(lg_h1_split_url("http://:80", hh, 64, h, 64, port, 8, pre, 64), CM_EINVAL);
    CHECK_INT(lg_h1_split_url("http://h:/", hh, 64, h, 64, port, 8, pre, 64), CM_EINVAL);
}

/* ---- pool against a scripted loopback server ---- */

enum { S_NORMAL, S_CLOSE_EACH, S_SILENT, S_CLOSE_IDLE, S_HUGE, S_GARBAGE };

struct server {
    int lfd, port, mode;
    int accepted, requests;
    pthread_t th;
};

/* Reads one request head (no bodies in these tests); 0 at EOF. */
static int read_request(int fd)
{
    char b[4096];
    size_t n = 0;
    while (n < sizeof(b)) {
        ssize_t k = read(fd, b + n, sizeof(b) - n);
        if (k <= 0)
            return 0;
        n += (size_t)k;
        if (n >= 4 && memcmp(b + n - 4, "\r\n\r\n", 4) == 0)
            return 1;
    }
    return 0;
}

struct client {
    struct server *s;
    int fd;
};

static void *serve_conn(void *arg)
{
    struct client *cl = arg;
    struct server *s = cl->s;
    int fd = cl->fd;
    free(cl);
    while (read_request(fd)) {
        int k = __atomic_add_fetch(&s->requests, 1, __ATOMIC_SEQ_CST);
        if (s->mode == S_SILENT)
            continue; /* never answers */
        if (s->mode == S_HUGE || s->mode == S_GARBAGE) {
            /* 100 KiB of header line, or bytes that are no HTTP at all */
            static char big[100 * 1024 + 64];
            int n =
                snprintf(big, sizeof(big), "%s",
                         s->mode == S_HUGE ? "HTTP/1.1 200 OK\r\nX-Big: " : "SSH-2.0-x\r\n\r\n");
            memset(big + n, 'a', sizeof(big) - (size_t)n);
            if (send(fd, big, s->mode == S_HUGE ? sizeof(big) : (size_t)n, MSG_NOSIGNAL) < 0)
                break;
            continue;
        }
        const char *r = s->mode == S_CLOSE_EACH
                            ? "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
                            : "HTTP/1.1 200 OK\r\nX-N: 1\r\nContent-Length: 2\r\n\r\nok";
        if (send(fd, r, strlen(r), MSG_NOSIGNAL) < 0)
            break;
        if (s->mode == S_CLOSE_EACH || (s->mode == S_CLOSE_IDLE && k % 2 == 0))
            break; /* S_CLOSE_IDLE: close silently after every second answer */
    }
    close(fd);
    return NULL;
}

/* One thread per connection, detached: each ends when its client closes. */
static void *serve(void *arg)
{
    struct server *s = arg;
    for (;;) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            return NULL;
        __atomic_add_fetch(&s->accepted, 1, __ATOMIC_SEQ_CST);
        struct client *cl = malloc(sizeof(*cl));
        cl->s = s;
        cl->fd = fd;
        pthread_t th;
        pthread_create(&th, NULL, serve_conn, cl);
        pthread_detach(th);
    }
}

static void server_start(struct server *s, int mode)
{
    memset(s, 0, sizeof(*s));
    s->mode = mode;
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(s->lfd, (struct sockaddr *)&a, sizeof(a));
    listen(s->lfd, 64);
    socklen_t al = sizeof(a);
    getsockname(s->lfd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    pthread_create(&s->th, NULL, serve, s);
}

static void server_stop(struct server *s)
{
    shutdown(s->lfd, SHUT_RDWR);
    close(s->lfd);
    pthread_join(s->th, NULL);
}

struct tally {
    int done, ok, err[8], status200, connects;
    int64_t last_ttfb, last_total;
    char last_hdr[128];
};

static void on_done(void *user, const struct lg_h1_result *r, int64_t now)
{
    struct tally *t = user;
    (void)now;
    t->done++;
    t->err[r->err]++;
    if (!r->err) {
        t->ok++;
        t->status200 += r->status == 200;
        t->last_ttfb = r->ttfb_ns;
        t->last_total = r->total_ns;
        if (r->headers) {
            size_t n = r->headers_len < sizeof(t->last_hdr) - 1 ? r->headers_len : 127;
            memcpy(t->last_hdr, r->headers, n);
            t->last_hdr[n] = 0;
        }
    }
    t->connects += r->connect_ns >= 0;
}

static const char REQ[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

static struct lg_h1_pool *pool_for(struct lg_loop *l, int port, int conns, int keepalive)
{
    struct lg_h1_cfg cfg = {.conns = conns,
                            .connect_timeout_ns = CM_NS_PER_S,
                            .keepalive = keepalive,
                            .body_cap = 1024,
                            .done = on_done};
    char ps[16];
    snprintf(ps, sizeof(ps), "%d", port);
    CHECK_INT(lg_h1_resolve("127.0.0.1", ps, &cfg), 0);
    struct lg_h1_pool *p = NULL;
    CHECK_INT(lg_h1_pool_new(l, &cfg, &p), 0);
    return p;
}

/* Sends n requests, at most `par` at a time, and runs the loop until all are done. */
static void run_requests(struct lg_loop *l, struct lg_h1_pool *p, struct tally *t, int n,
                         int64_t timeout_ns)
{
    struct lg_h1_req rq = {.iov = {{(void *)REQ, sizeof(REQ) - 1}},
                           .iovcnt = 1,
                           .keep_headers = 1,
                           .timeout_ns = timeout_ns,
                           .user = t};
    int sent = 0;
    int64_t end = cm_clock_mono_ns() + 5 * CM_NS_PER_S;
    while (t->done < n && cm_clock_mono_ns() < end) {
        struct lg_h1_conn *c;
        while (sent < n && (c = lg_h1_pool_idle(p))) {
            lg_h1_send(c, &rq, cm_clock_mono_ns());
            sent++;
        }
        lg_loop_run_once(l, cm_clock_mono_ns() + 50 * CM_NS_PER_MS);
    }
}

static void test_pool(void)
{
    struct lg_loop *l;
    CHECK_INT(lg_loop_new(&l), 0);
    struct server s;

    /* keep-alive: 200 requests over 4 connections, 4 connects */
    server_start(&s, S_NORMAL);
    struct lg_h1_pool *p = pool_for(l, s.port, 4, 1);
    struct tally t = {0};
    run_requests(l, p, &t, 200, CM_NS_PER_S);
    CHECK_INT(t.ok, 200);
    CHECK_INT(t.status200, 200);
    CHECK(t.connects >= 1 && t.connects <= 4);
    CHECK(__atomic_load_n(&s.accepted, __ATOMIC_SEQ_CST) <= 4);
    CHECK(t.last_ttfb > 0 && t.last_ttfb <= t.last_total);
    CHECK(strstr(t.last_hdr, "X-N: 1\r\n") != NULL);
    CHECK_INT(lg_h1_pool_busy(p), 0);
    lg_h1_pool_free(p);
    server_stop(&s);

    /* Connection: close: a new connection per request, no errors */
    server_start(&s, S_CLOSE_EACH);
    p = pool_for(l, s.port, 2, 1);
    memset(&t, 0, sizeof(t));
    run_requests(l, p, &t, 20, CM_NS_PER_S);
    CHECK_INT(t.ok, 20);
    CHECK_INT(t.connects, 20);
    lg_h1_pool_free(p);
    server_stop(&s);

    /* the server closes every second connection silently after answering: the next
     * request on it fails before any byte and is resent on a fresh connection */
    server_start(&s, S_CLOSE_IDLE);
    p = pool_for(l, s.port, 1, 1);
    memset(&t, 0, sizeof(t));
    for (int i = 0; i < 10; i++) {
        run_requests(l, p, &t, i + 1, CM_NS_PER_S);
        cm_clock_sleep_ns(2 * CM_NS_PER_MS); /* let the close arrive (or not) */
    }
    CHECK_INT(t.ok, 10);
    CHECK(t.connects >= 5);
    lg_h1_pool_free(p);
    server_stop(&s);

    /* keepalive off in the config: one connection per request */
    server_start(&s, S_NORMAL);
    p = pool_for(l, s.port, 2, 0);
    memset(&t, 0, sizeof(t));
    run_requests(l, p, &t, 10, CM_NS_PER_S);
    CHECK_INT(t.ok, 10);
    CHECK_INT(t.connects, 10);
    lg_h1_pool_free(p);
    server_stop(&s);

    /* a server that never answers: request timeouts, at about the deadline */
    server_start(&s, S_SILENT);
    p = pool_for(l, s.port, 3, 1);
    memset(&t, 0, sizeof(t));
    int64_t t0 = cm_clock_mono_ns();
    run_requests(l, p, &t, 3, 100 * CM_NS_PER_MS);
    int64_t took = cm_clock_mono_ns() - t0;
    CHECK_INT(t.err[LG_H1_E_TIMEOUT], 3);
    CHECK(took >= 95 * CM_NS_PER_MS && took < 1000 * CM_NS_PER_MS);
    CHECK_INT(lg_h1_pool_open(p), 0);
    /* cancel: in-flight requests end with LG_H1_E_CANCELLED */
    struct lg_h1_req rq = {.iov = {{(void *)REQ, sizeof(REQ) - 1}},
                           .iovcnt = 1,
                           .timeout_ns = CM_NS_PER_S,
                           .user = &t};
    lg_h1_send(lg_h1_pool_idle(p), &rq, cm_clock_mono_ns());
    lg_loop_run_once(l, cm_clock_mono_ns() + 20 * CM_NS_PER_MS);
    CHECK_INT(lg_h1_pool_cancel_all(p, cm_clock_mono_ns()), 1);
    CHECK_INT(t.err[LG_H1_E_CANCELLED], 1);
    lg_h1_pool_free(p);
    server_stop(&s);

    /* an oversized header block and a non-HTTP answer: parse errors, no crash */
    for (int mode = S_HUGE; mode <= S_GARBAGE; mode++) {
        server_start(&s, mode);
        p = pool_for(l, s.port, 1, 1);
        memset(&t, 0, sizeof(t));
        run_requests(l, p, &t, 3, CM_NS_PER_S);
        CHECK_INT(t.err[LG_H1_E_PARSE], 3);
        lg_h1_pool_free(p);
        server_stop(&s);
    }

    /* nobody listens: connect errors, reported from the loop, not from send */
    server_start(&s, S_NORMAL);
    int dead = s.port;
    server_stop(&s);
    p = pool_for(l, dead, 2, 1);
    memset(&t, 0, sizeof(t));
    run_requests(l, p, &t, 4, CM_NS_PER_S);
    CHECK_INT(t.err[LG_H1_E_CONNECT], 4);
    lg_h1_pool_free(p);
    lg_loop_free(l);
}

int main(void)
{
    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++)
        check_vec(&vecs[i]);
    test_limits();
    test_header_keep();
    test_split_url();
    test_pool();
    return TEST_REPORT();
}
