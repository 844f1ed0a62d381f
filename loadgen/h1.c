/* h1.c: see h1.h. The protocol spoken (RFC 9112, client side):
 *   request:  METHOD SP path SP HTTP/1.1 CRLF, Host, the caller's headers,
 *             Content-Length when there is a body, CRLF, body (the caller
 *             serialises it; one sendmsg per request).
 *   response: HTTP/1.x SP 3DIGIT [SP reason] CRLF, header lines, CRLF, then a
 *             body framed by (in this order) the request/status (HEAD, 1xx,
 *             204, 304: none), Transfer-Encoding: chunked (chunk-size
 *             [;ext] CRLF data CRLF ... 0 CRLF trailers CRLF), Content-Length,
 *             or the connection's close. Bare LF line ends are accepted.
 * The parser works line by line on the connection's read buffer and consumes
 * each complete line at once, so a response split anywhere costs no rescans;
 * body bytes are consumed in place (copied only when kept for captures). */
#include "h1.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "cm/err.h"
#include "cm/mem.h"
#include "loop.h"

/* ---- parser ---- */

enum pstate {
    P_STATUS,
    P_HEADERS,
    P_BODY_CL,
    P_BODY_EOF,
    P_CHUNK_SIZE,
    P_CHUNK_DATA,
    P_CHUNK_END,
    P_TRAILERS,
    P_DONE,
};

void lg_h1_parser_begin(struct lg_h1_parser *p, int head)
{
    p->status = 0;
    p->minor = 1;
    p->keep_alive = 1;
    p->content_length = -1;
    p->body_bytes = 0;
    p->state = P_STATUS;
    p->head = head;
    p->chunked = 0;
    p->te_other = 0;
    p->interim = 0;
    p->remaining = 0;
    p->hdr_bytes = 0;
    if (p->body_keep)
        cm_buf_reset(p->body_keep);
    if (p->hdr_keep)
        cm_buf_reset(p->hdr_keep);
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Does the comma-separated list v contain token tok (case-insensitive)? */
static int has_token(const char *v, size_t n, const char *tok)
{
    size_t tl = strlen(tok);
    size_t i = 0;
    while (i < n) {
        while (i < n && (is_blank(v[i]) || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',')
            i++;
        size_t e = i;
        while (e > s && is_blank(v[e - 1]))
            e--;
        if (e - s == tl && strncasecmp(v + s, tok, tl) == 0)
            return 1;
    }
    return 0;
}

static int name_is(const char *name, size_t nl, const char *want, size_t wl)
{
    return nl == wl && strncasecmp(name, want, wl) == 0;
}

/* "HTTP/1.x 200 OK": the reason is optional and not kept. */
static int parse_status(struct lg_h1_parser *p, const char *l, size_t n)
{
    if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || l[7] < '0' || l[7] > '9' || l[8] != ' ')
        return CM_EPARSE;
    for (int i = 9; i < 12; i++)
        if (l[i] < '0' || l[i] > '9')
            return CM_EPARSE;
    if (n > 12 && l[12] != ' ')
        return CM_EPARSE;
    p->minor = l[7] - '0';
    p->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
    if (p->status < 100)
        return CM_EPARSE;
    p->keep_alive = p->minor >= 1;
    return 0;
}

static int parse_content_length(struct lg_h1_parser *p, const char *v, size_t n)
{
    if (n == 0 || n > 18)
        return CM_EPARSE; /* 18 digits: below INT64_MAX, far past any real body */
    int64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return CM_EPARSE;
        x = x * 10 + (v[i] - '0');
    }
    if (p->content_length >= 0 && p->content_length != x)
        return CM_EPARSE; /* two different lengths: a smuggling shape, refuse */
    p->content_length = x;
    return 0;
}

static int keep_line(struct lg_h1_parser *p, const char *l, size_t n)
{
    if (!p->hdr_keep)
        return 0;
    /* a block that does not fit is cut at a line boundary: captures see fewer headers */
    if (p->hdr_keep->len + n + 2 > p->hdr_keep->max)
        return 0;
    cm_buf_append(p->hdr_keep, l, n);
    cm_buf_append(p->hdr_keep, "\r\n", 2);
    return 0;
}

static int parse_header(struct lg_h1_parser *p, const char *l, size_t n)
{
    if (is_blank(l[0]))
        return CM_EPARSE; /* obsolete line folding: refused (RFC 9112 5.2 allows it) */
    const char *colon = memchr(l, ':', n);
    if (!colon || colon == l)
        return CM_EPARSE;
    size_t nl = (size_t)(colon - l);
    if (is_blank(l[nl - 1]))
        return CM_EPARSE; /* no blank between name and colon (RFC 9112 5.1) */
    const char *v = colon + 1, *e = l + n;
    while (v < e && is_blank(*v))
        v++;
    while (e > v && is_blank(e[-1]))
        e--;
    size_t vl = (size_t)(e - v);
    int rc = 0;
    switch (lower(l[0])) { /* only three names matter for framing */
    case 'c':
        if (name_is(l, nl, "content-length", 14))
            rc = parse_content_length(p, v, vl);
        else if (name_is(l, nl, "connection", 10)) {
            if (has_token(v, vl, "close"))
                p->keep_alive = 0;
            else if (has_token(v, vl, "keep-alive"))
                p->keep_alive = 1;
        }
        break;
    case 't':
        if (name_is(l, nl, "transfer-encoding", 17)) {
            /* chunked must be the last coding; anything else runs to the close */
            if (vl >= 7 && strncasecmp(e - 7, "chunked", 7) == 0 &&
                (vl == 7 || e[-8] == ',' || is_blank(e[-8])))
                p->chunked = 1;
            else
                p->te_other = 1;
        }
        break;
    default:
        break;
    }
    if (rc == 0)
        rc = keep_line(p, l, n);
    return rc;
}

/* The empty line after the headers: decide how the body is framed. */
static int end_headers(struct lg_h1_parser *p)
{
    if (p->status < 200) {
        if (p->status == 101)
            return CM_EPARSE; /* an upgrade we never asked for */
        if (++p->interim > LG_H1_MAX_INTERIM)
            return CM_ETOOBIG;
        int interim = p->interim, head = p->head;
        lg_h1_parser_begin(p, head); /* 100/102/103: the final response follows */
        p->interim = interim;
        return LG_H1_MORE;
    }
    if (p->head || p->status == 204 || p->status == 304) {
        p->state = P_DONE;
        return LG_H1_DONE;
    }
    if (p->chunked && !p->te_other) {
        p->keep_alive = p->keep_alive && p->content_length < 0; /* both: close after */
        p->state = P_CHUNK_SIZE;
        return LG_H1_MORE;
    }
    if (p->chunked || p->te_other || p->content_length < 0) {
        p->keep_alive = 0;
        p->state = P_BODY_EOF;
        return LG_H1_MORE;
    }
    if (p->content_length == 0) {
        p->state = P_DONE;
        return LG_H1_DONE;
    }
    p->remaining = p->content_length;
    p->state = P_BODY_CL;
    return LG_H1_MORE;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "1a2b[;ext...]": 15 hex digits at most (< 2^60). */
static int parse_chunk_size(struct lg_h1_parser *p, const char *l, size_t n)
{
    int64_t x = 0;
    size_t i = 0;
    for (; i < n && hexval(l[i]) >= 0; i++) {
        if (i == 15)
            return CM_EPARSE;
        x = x * 16 + hexval(l[i]);
    }
    if (i == 0)
        return CM_EPARSE;
    while (i < n && is_blank(l[i]))
        i++;
    if (i < n && l[i] != ';')
        return CM_EPARSE;
    if (x == 0) {
        p->state = P_TRAILERS;
        p->hdr_bytes = 0;
    } else {
        p->remaining = x;
        p->state = P_CHUNK_DATA;
    }
    return LG_H1_MORE;
}

/* One complete line (without its line end) in a line-oriented state. */
static int on_line(struct lg_h1_parser *p, const char *l, size_t n)
{
    switch (p->state) {
    case P_STATUS:
        if (n == 0)
            return LG_H1_MORE; /* blank lines before a status line are tolerated */
        if (parse_status(p, l, n) != 0)
            return CM_EPARSE;
        p->state = P_HEADERS;
        return LG_H1_MORE;
    case P_HEADERS:
        if (n == 0)
            return end_headers(p);
        return parse_header(p, l, n) ? CM_EPARSE : LG_H1_MORE;
    case P_CHUNK_SIZE:
        return parse_chunk_size(p, l, n);
    case P_CHUNK_END:
        if (n != 0)
            return CM_EPARSE;
        p->state = P_CHUNK_SIZE;
        return LG_H1_MORE;
    case P_TRAILERS:
        if (n != 0)
            return LG_H1_MORE; /* trailer fields are not used */
        p->state = P_DONE;
        return LG_H1_DONE;
    default:
        assert(0);
        return CM_EPARSE;
    }
}

static size_t line_limit(const struct lg_h1_parser *p)
{
    size_t max = p->max_header_bytes ? p->max_header_bytes : LG_H1_MAX_HEADER_DEFAULT;
    if (p->state == P_CHUNK_SIZE || p->state == P_CHUNK_END)
        return LG_H1_MAX_CHUNK_LINE;
    return max > p->hdr_bytes ? max - p->hdr_bytes : 0;
}

static void take_body(struct lg_h1_parser *p, const char *d, size_t n)
{
    p->body_bytes += (int64_t)n;
    struct cm_buf *k = p->body_keep;
    if (k && k->len < k->max) {
        size_t room = k->max - k->len;
        cm_buf_append(k, d, n < room ? n : room);
    }
}

int lg_h1_parse(struct lg_h1_parser *p, const char *d, size_t len, size_t *used)
{
    size_t off = 0;
    int rc = p->state == P_DONE ? LG_H1_DONE : LG_H1_MORE;
    while (rc == LG_H1_MORE && off < len) {
        size_t avail = len - off;
        if (p->state == P_BODY_CL || p->state == P_CHUNK_DATA) {
            size_t take = (uint64_t)p->remaining < avail ? (size_t)p->remaining : avail;
            take_body(p, d + off, take);
            off += take;
            p->remaining -= (int64_t)take;
            if (p->remaining == 0) {
                p->state = p->state == P_BODY_CL ? P_DONE : P_CHUNK_END;
                rc = p->state == P_DONE ? LG_H1_DONE : LG_H1_MORE;
            }
            continue;
        }
        if (p->state == P_BODY_EOF) {
            take_body(p, d + off, avail);
            off = len;
            break;
        }
        size_t limit = line_limit(p);
        const char *nl = memchr(d + off, '\n', avail < limit ? avail : limit);
        if (!nl) {
            if (avail >= limit)
                rc = CM_ETOOBIG;
            break;
        }
        size_t n = (size_t)(nl - (d + off)), ln = n;
        if (ln && d[off + ln - 1] == '\r')
            ln--;
        if (p->state != P_CHUNK_SIZE && p->state != P_CHUNK_END)
            p->hdr_bytes += n + 1;
        const char *line = d + off;
        off += n + 1;
        rc = on_line(p, line, ln);
    }
    *used = off;
    return rc;
}

int lg_h1_parse_eof(struct lg_h1_parser *p)
{
    if (p->state == P_BODY_EOF) {
        p->state = P_DONE;
        return LG_H1_DONE;
    }
    return p->state == P_DONE ? LG_H1_DONE : CM_ECONN;
}

int lg_h1_header(const char *block, size_t len, const char *name, const char **val, size_t *vlen)
{
    size_t nl = strlen(name);
    int found = 0;
    const char *p = block, *end = block + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end;
        if ((size_t)(le - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            const char *v = p + nl + 1, *e = le;
            if (e > v && e[-1] == '\r')
                e--;
            while (v < e && is_blank(*v))
                v++;
            while (e > v && is_blank(e[-1]))
                e--;
            *val = v;
            *vlen = (size_t)(e - v);
            found = 1; /* the last one wins */
        }
        p = eol ? eol + 1 : end;
    }
    return found;
}

/* ---- connection pool ---- */

enum cstate {
    C_CLOSED,
    C_CONNECTING,
    C_IDLE,    /* open, no request */
    C_SENDING, /* request not fully written */
    C_READING, /* request written, response not complete */
};

#define RBUF_INIT 4096

struct lg_h1_conn {
    struct lg_io io; /* first member: the loop hands us &io */
    struct lg_h1_pool *pool;
    int state;
    int reused;  /* this request went out on an already-open connection */
    int retried; /* it was resent once on a new connection */
    int pending; /* enum lg_h1_err to report from the ticker (0: none) */
    const char *pending_what;
    int64_t deadline_ns;      /* request deadline; INT64_MAX when idle */
    int64_t conn_deadline_ns; /* connect deadline while C_CONNECTING */
    int64_t t_send, t_conn0, t_first;
    int64_t connect_ns;
    int64_t bytes_in;
    struct lg_h1_req req;            /* as given (for a retry) */
    struct iovec iov[LG_H1_MAX_IOV]; /* what is left to write */
    int iovi;
    char *rbuf;
    size_t rlen, rcap;
    struct lg_h1_parser ps;
    struct cm_buf body, hdrs;
    struct lg_h1_conn *next_free;
};

struct lg_h1_pool {
    struct lg_tick tick; /* first member */
    struct lg_loop *loop;
    struct lg_h1_cfg cfg;
    struct lg_h1_conn *conns;
    struct lg_h1_conn *free_open, *free_closed; /* idle stacks */
    int busy, open;
};

static void conn_close(struct lg_h1_conn *c)
{
    if (c->state == C_CLOSED)
        return;
    close(c->io.fd);
    lg_loop_forget(c->pool->loop, &c->io);
    c->io.fd = -1;
    c->state = C_CLOSED;
    c->rlen = 0;
    c->pool->open--;
}

static void arm(struct lg_h1_pool *p, int64_t at)
{
    if (at < p->tick.at)
        p->tick.at = at;
}

/* Back on an idle stack after done (the callback may not see it: it is
 * pushed after the callback returns). */
static void push_free(struct lg_h1_conn *c)
{
    struct lg_h1_pool *p = c->pool;
    c->deadline_ns = INT64_MAX;
    if (c->state == C_IDLE) {
        c->next_free = p->free_open;
        p->free_open = c;
    } else {
        c->next_free = p->free_closed;
        p->free_closed = c;
    }
}

static void finish(struct lg_h1_conn *c, int err, const char *what, int64_t now)
{
    struct lg_h1_pool *p = c->pool;
    struct lg_h1_result r = {
        .err = err,
        .what = what,
        .status = err ? 0 : c->ps.status,
        .connect_ns = c->connect_ns,
        .ttfb_ns = c->t_first ? c->t_first - c->t_send : -1,
        .total_ns = now - c->t_send,
        .bytes_in = c->bytes_in,
        .body_bytes = c->ps.body_bytes,
    };
    if (!err && c->req.keep_body) {
        r.body = c->body.data ? c->body.data : "";
        r.body_len = c->body.len;
    }
    if (!err && c->req.keep_headers) {
        r.headers = c->hdrs.data ? c->hdrs.data : "";
        r.headers_len = c->hdrs.len;
    }
    /* leftover bytes after a response, or an answer before the request was all
     * written (an early 413): the stream is out of step, so it is not reused */
    if (err || !c->ps.keep_alive || !p->cfg.keepalive || c->rlen || c->state == C_SENDING)
        conn_close(c);
    else
        c->state = C_IDLE;
    c->pending = 0;
    p->busy--;
    void *user = c->req.user;
    p->cfg.done(user, &r, now);
    push_free(c);
}

static void fail_later(struct lg_h1_conn *c, int err, const char *what, int64_t now)
{
    c->pending = err;
    c->pending_what = what;
    c->deadline_ns = now;
    arm(c->pool, now);
}

static void start_connect(struct lg_h1_conn *c, int64_t now);

/* The request failed before any response byte on a connection the server
 * may have closed while it sat idle: resend it once on a new connection. */
static int maybe_retry(struct lg_h1_conn *c, int64_t now)
{
    if (!c->reused || c->retried || c->t_first)
        return 0;
    conn_close(c);
    c->retried = 1;
    c->reused = 0;
    memcpy(c->iov, c->req.iov, sizeof(c->iov));
    c->iovi = 0;
    start_connect(c, now);
    return 1;
}

static int watch(struct lg_h1_conn *c, uint32_t ev)
{
    return lg_loop_watch(c->pool->loop, &c->io, ev);
}

static void do_send(struct lg_h1_conn *c, int64_t now)
{
    while (c->iovi < c->req.iovcnt) {
        struct msghdr m = {.msg_iov = c->iov + c->iovi,
                           .msg_iovlen = (size_t)(c->req.iovcnt - c->iovi)};
        ssize_t n = sendmsg(c->io.fd, &m, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                watch(c, EPOLLIN | EPOLLOUT);
                return;
            }
            if (!maybe_retry(c, now))
                fail_later(c, LG_H1_E_TRANSPORT, "send failed", now);
            return;
        }
        size_t left = (size_t)n;
        while (c->iovi < c->req.iovcnt && left >= c->iov[c->iovi].iov_len)
            left -= c->iov[c->iovi++].iov_len;
        if (c->iovi < c->req.iovcnt) {
            c->iov[c->iovi].iov_base = (char *)c->iov[c->iovi].iov_base + left;
            c->iov[c->iovi].iov_len -= left;
        }
    }
    c->state = C_READING;
    watch(c, EPOLLIN);
}

static int grow_rbuf(struct lg_h1_conn *c)
{
    const struct lg_h1_cfg *cfg = &c->pool->cfg;
    size_t max = (cfg->max_header_bytes ? cfg->max_header_bytes : LG_H1_MAX_HEADER_DEFAULT) + 64;
    if (c->rcap >= max && c->rbuf)
        return CM_ETOOBIG; /* the parser would have refused the line already */
    size_t ncap = c->rcap ? c->rcap * 2 : RBUF_INIT;
    c->rbuf = cm_xrealloc(c->rbuf, ncap);
    c->rcap = ncap;
    return 0;
}

/* Feeds what arrived to the parser; returns 1 when the request ended. */
static int consume(struct lg_h1_conn *c, int64_t now)
{
    size_t used = 0;
    int rc = lg_h1_parse(&c->ps, c->rbuf, c->rlen, &used);
    if (used < c->rlen && used)
        memmove(c->rbuf, c->rbuf + used, c->rlen - used);
    c->rlen -= used;
    if (rc == LG_H1_DONE) {
        finish(c, LG_H1_OK, "", now);
        return 1;
    }
    if (rc < 0) {
        finish(c, LG_H1_E_PARSE, rc == CM_ETOOBIG ? "response too big" : "malformed response", now);
        return 1;
    }
    return 0;
}

static void on_eof(struct lg_h1_conn *c, int64_t now, const char *what)
{
    if ((c->state == C_READING || c->state == C_SENDING) && maybe_retry(c, now))
        return;
    if (c->state == C_READING && lg_h1_parse_eof(&c->ps) == LG_H1_DONE) {
        c->ps.keep_alive = 0;
        finish(c, LG_H1_OK, "", now);
        return;
    }
    finish(c, LG_H1_E_TRANSPORT, what, now);
}

static void do_read(struct lg_h1_conn *c, int64_t now)
{
    for (;;) {
        if (c->rlen == c->rcap && grow_rbuf(c) != 0) {
            finish(c, LG_H1_E_PARSE, "response too big", now);
            return;
        }
        size_t room = c->rcap - c->rlen;
        ssize_t n = recv(c->io.fd, c->rbuf + c->rlen, room, 0);
        if (n > 0) {
            if (!c->t_first)
                c->t_first = now;
            c->bytes_in += n;
            c->rlen += (size_t)n;
            if (consume(c, now) || (size_t)n < room)
                return; /* level-triggered: anything left wakes us again */
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        on_eof(c, now, n == 0 ? "connection closed by peer" : "recv failed");
        return;
    }
}

static void on_connected(struct lg_h1_conn *c, int64_t now)
{
    int err = 0;
    socklen_t el = sizeof(err);
    if (getsockopt(c->io.fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err) {
        conn_close(c);
        finish(c, LG_H1_E_CONNECT, "connect failed", now);
        return;
    }
    c->connect_ns = now - c->t_conn0;
    c->state = C_SENDING;
    do_send(c, now);
}

static void on_io(struct lg_io *io, uint32_t ev, int64_t now)
{
    struct lg_h1_conn *c = (struct lg_h1_conn *)io;
    if (c->pending)
        return; /* reported from the ticker */
    switch (c->state) {
    case C_CONNECTING:
        on_connected(c, now);
        break;
    case C_SENDING:
        if (ev & EPOLLIN)
            do_read(c, now); /* an early answer (or the close) ends the request */
        if (c->state == C_SENDING && (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            do_send(c, now);
        break;
    case C_READING:
        do_read(c, now);
        break;
    case C_IDLE: {
        /* the server closed an idle connection (or spoke out of turn): drop it */
        struct lg_h1_conn **pp = &c->pool->free_open;
        while (*pp && *pp != c)
            pp = &(*pp)->next_free;
        if (*pp) {
            *pp = c->next_free;
            conn_close(c);
            push_free(c);
        }
        break;
    }
    default:
        break;
    }
}

static void start_connect(struct lg_h1_conn *c, int64_t now)
{
    struct lg_h1_pool *p = c->pool;
    c->t_conn0 = now;
    int fd = socket(p->cfg.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fail_later(c, LG_H1_E_CONNECT, "socket failed", now);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->io.fd = fd;
    c->io.events = 0;
    c->state = C_CONNECTING;
    p->open++;
    c->conn_deadline_ns = now + p->cfg.connect_timeout_ns;
    arm(p, c->conn_deadline_ns);
    if (connect(fd, (const struct sockaddr *)&p->cfg.addr, p->cfg.addr_len) != 0 &&
        errno != EINPROGRESS) {
        fail_later(c, LG_H1_E_CONNECT, "connect failed", now);
        return;
    }
    if (watch(c, EPOLLOUT) != 0)
        fail_later(c, LG_H1_E_CONNECT, "epoll failed", now);
}

void lg_h1_send(struct lg_h1_conn *c, const struct lg_h1_req *req, int64_t now)
{
    struct lg_h1_pool *p = c->pool;
    assert(req->iovcnt >= 1 && req->iovcnt <= LG_H1_MAX_IOV);
    assert(c->state == C_IDLE || c->state == C_CLOSED);
    c->req = *req;
    memcpy(c->iov, req->iov, sizeof(c->iov));
    c->iovi = 0;
    c->reused = c->state == C_IDLE;
    c->retried = 0;
    c->pending = 0;
    c->t_send = now;
    c->t_first = 0;
    c->connect_ns = -1;
    c->bytes_in = 0;
    c->ps.body_keep = req->keep_body ? &c->body : NULL;
    c->ps.hdr_keep = req->keep_headers ? &c->hdrs : NULL;
    lg_h1_parser_begin(&c->ps, req->head);
    c->deadline_ns = now + req->timeout_ns;
    arm(p, c->deadline_ns);
    p->busy++;
    if (c->state == C_CLOSED) {
        start_connect(c, now);
        return;
    }
    c->state = C_SENDING;
    do_send(c, now);
}

/* Deadlines: a scan over the connections whenever the earliest one may have
 * passed. The ticker is armed at the earliest deadline the last scan saw (or
 * lower, by arm()), so with requests far shorter than their timeout the scan
 * runs about once per timeout period: O(conns) then, nothing per request. */
static void on_tick(struct lg_tick *t, int64_t now)
{
    struct lg_h1_pool *p = (struct lg_h1_pool *)t;
    int64_t next = INT64_MAX;
    for (int i = 0; i < p->cfg.conns; i++) {
        struct lg_h1_conn *c = &p->conns[i];
        if (c->state == C_IDLE || (c->state == C_CLOSED && !c->pending))
            continue;
        if (c->pending) {
            conn_close(c);
            finish(c, c->pending, c->pending_what, now);
            continue;
        }
        int connecting = c->state == C_CONNECTING;
        int64_t d = connecting && c->conn_deadline_ns < c->deadline_ns ? c->conn_deadline_ns
                                                                       : c->deadline_ns;
        if (d <= now) {
            conn_close(c);
            finish(c, LG_H1_E_TIMEOUT, connecting ? "connect timeout" : "request timeout", now);
            continue;
        }
        if (d < next)
            next = d;
    }
    if (next < t->at)
        t->at = next; /* callbacks may have armed it lower already */
}

int lg_h1_pool_new(struct lg_loop *loop, const struct lg_h1_cfg *cfg, struct lg_h1_pool **out)
{
    *out = NULL;
    if (cfg->conns < 1 || !cfg->done || cfg->connect_timeout_ns <= 0 || !cfg->addr_len)
        return CM_EINVAL;
    struct lg_h1_pool *p = cm_xcalloc(1, sizeof(*p));
    p->loop = loop;
    p->cfg = *cfg;
    p->tick.fn = on_tick;
    p->tick.at = INT64_MAX;
    p->conns = cm_xcalloc((size_t)cfg->conns, sizeof(*p->conns));
    for (int i = cfg->conns - 1; i >= 0; i--) {
        struct lg_h1_conn *c = &p->conns[i];
        c->pool = p;
        c->io.fn = on_io;
        c->io.fd = -1;
        c->deadline_ns = INT64_MAX;
        cm_buf_init(&c->body, cfg->body_cap ? cfg->body_cap : 1);
        cm_buf_init(&c->hdrs,
                    cfg->max_header_bytes ? cfg->max_header_bytes : LG_H1_MAX_HEADER_DEFAULT);
        c->next_free = p->free_closed;
        p->free_closed = c;
    }
    int rc = lg_loop_add_tick(loop, &p->tick);
    if (rc) {
        lg_h1_pool_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void lg_h1_pool_free(struct lg_h1_pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->cfg.conns; i++) {
        struct lg_h1_conn *c = &p->conns[i];
        if (c->state != C_CLOSED)
            lg_loop_watch(p->loop, &c->io, 0);
        conn_close(c);
        free(c->rbuf);
        cm_buf_deinit(&c->body);
        cm_buf_deinit(&c->hdrs);
    }
    lg_loop_del_tick(p->loop, &p->tick);
    free(p->conns);
    free(p);
}

struct lg_h1_conn *lg_h1_pool_idle(struct lg_h1_pool *p)
{
    struct lg_h1_conn **top = p->free_open ? &p->free_open : &p->free_closed;
    struct lg_h1_conn *c = *top;
    if (c)
        *top = c->next_free;
    return c;
}

int lg_h1_pool_busy(const struct lg_h1_pool *p)
{
    return p->busy;
}

int lg_h1_pool_open(const struct lg_h1_pool *p)
{
    return p->open;
}

int lg_h1_pool_cancel_all(struct lg_h1_pool *p, int64_t now)
{
    int n = 0;
    for (int i = 0; i < p->cfg.conns; i++) {
        struct lg_h1_conn *c = &p->conns[i];
        if (c->state == C_IDLE || (c->state == C_CLOSED && !c->pending))
            continue;
        conn_close(c);
        finish(c, LG_H1_E_CANCELLED, "cancelled", now);
        n++;
    }
    return n;
}

/* ---- set-up helpers ---- */

static int put(char *dst, size_t size, const char *s, size_t n)
{
    if (n >= size)
        return CM_EINVAL;
    memcpy(dst, s, n);
    dst[n] = 0;
    return 0;
}

int lg_h1_split_url(const char *url, char *host_hdr, size_t host_hdr_size, char *host,
                    size_t host_size, char *port, size_t port_size, char *prefix,
                    size_t prefix_size)
{
    if (strncasecmp(url, "http://", 7) != 0)
        return CM_EINVAL;
    const char *a = url + 7;
    size_t al = strcspn(a, "/?#");
    if (al == 0)
        return CM_EINVAL;
    const char *h = a, *colon = NULL;
    size_t hl = al;
    if (a[0] == '[') { /* [v6]:port */
        const char *rb = memchr(a, ']', al);
        if (!rb)
            return CM_EINVAL;
        h = a + 1;
        hl = (size_t)(rb - h);
        if (rb + 1 < a + al) {
            if (rb[1] != ':')
                return CM_EINVAL;
            colon = rb + 1;
        }
    } else {
        colon = memchr(a, ':', al);
        if (colon)
            hl = (size_t)(colon - a);
    }
    size_t pl = colon ? (size_t)(a + al - colon - 1) : 0;
    const char *pre = a + al;
    size_t prel = strlen(pre);
    while (prel && pre[prel - 1] == '/')
        prel--;
    if (hl == 0 || (colon && pl == 0) || strcspn(pre, "?#") < prel)
        return CM_EINVAL;
    if (put(host_hdr, host_hdr_size, a, al) || put(host, host_size, h, hl) ||
        put(port, port_size, colon ? colon + 1 : "80", colon ? pl : 2) ||
        put(prefix, prefix_size, pre, prel))
        return CM_EINVAL;
    return 0;
}

/* Can we connect to a within timeout_ms? A blocking check at set-up time. */
static int answers(const struct addrinfo *a, int timeout_ms)
{
    int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    int ok = connect(fd, a->ai_addr, a->ai_addrlen) == 0;
    if (!ok && errno == EINPROGRESS) {
        struct pollfd pf = {.fd = fd, .events = POLLOUT};
        int err = 0;
        socklen_t el = sizeof(err);
        ok = poll(&pf, 1, timeout_ms) == 1 &&
             getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0;
    }
    close(fd);
    return ok;
}

int lg_h1_resolve(const char *host, const char *port, struct lg_h1_cfg *cfg)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = AF_UNSPEC;
    if (getaddrinfo(host, port, &hints, &res) != 0 || !res)
        return CM_ECONN;
    /* "localhost" may resolve to ::1 first while the server listens on 127.0.0.1
     * only: take the first address that answers (else the first one, whose
     * connect errors the run then counts) */
    const struct addrinfo *pick = res;
    if (res->ai_next)
        for (const struct addrinfo *a = res; a; a = a->ai_next)
            if (answers(a, 1000)) {
                pick = a;
                break;
            }
    memcpy(&cfg->addr, pick->ai_addr, pick->ai_addrlen);
    cfg->addr_len = pick->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}
