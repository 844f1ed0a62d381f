/* sd_server.c: the epoll loop behind sd_server.h. Objects that the kernel
 * may still report in the current epoll batch are never freed in place: they
 * go on a graveyard list emptied after the batch. */
#include "sd_server.h"

#include "cm/buf.h"
#include "cm/clock.h"
#include "cm/err.h"
#include "cm/log.h"
#include "cm/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

enum ev_kind { EV_LISTENER = 1, EV_CONN, EV_WATCH, EV_SIGNAL };

struct ev {
    enum ev_kind kind;
    int fd;
};

struct sd_listener {
    struct ev ev;
    struct sd_http_limits lim;
    sd_request_fn fn;
    void *ctx;
    int closed;
    struct sd_listener *next;
};

struct sd_conn {
    struct ev ev;
    struct sd_server *srv;
    struct sd_listener *lst; /* NULL once the listener is closed */
    struct cm_buf rbuf, wbuf;
    size_t wpos;         /* bytes of wbuf already written */
    size_t req_consumed; /* bytes of rbuf the request in flight occupies */
    int deferred;        /* a request is waiting for sd_conn_reply/release */
    int dead;            /* fd closed; struct kept while deferred */
    int close_after;     /* close once wbuf is flushed */
    int sent_continue;   /* "100 Continue" sent for the current request */
    int keep_alive;      /* of the request in flight */
    int in_ready;        /* on the ready list */
    int paused;          /* input full while deferred: EPOLLIN off until the reply */
    int hold_output;     /* deferred with sd_conn_defer_hold: wbuf waits for the reply */
    int in_process;      /* inside conn_process: replies to pipelined input wait */
    uint32_t epoll_mask;
    int64_t last_active_ns;
    const struct sd_upgrade_ops *up; /* raw byte mode after an Upgrade, else NULL */
    void *up_ctx;
    char peer_ip[INET_ADDRSTRLEN];
    struct sd_conn *prev, *next; /* all live (or deferred) connections */
    struct sd_conn *ready_next;  /* ready list: has buffered input to parse */
};

struct sd_watch {
    struct ev ev;
    sd_fd_fn fn;
    void *ctx;
    int closed;
    uint64_t reported_turn; /* last turn whose epoll_wait reported it */
    struct sd_watch *grave_next;
};

struct sd_server {
    int epfd;
    struct ev sig;
    sd_signal_fn on_signal;
    void *signal_ctx;
    sd_tick_fn tick_fn;
    void *tick_ctx;
    struct sd_server_opts opts;
    struct sd_listener *listeners;
    struct sd_conn *conns;
    struct sd_conn *ready;
    struct sd_conn *conn_grave;
    struct sd_watch *watch_grave;
    int n_conns;
    int n_deferred;
    int stopping;
    uint64_t turn;  /* epoll_wait calls so far */
    int batch_full; /* this turn's epoll_wait filled evs[]: more may be ready */
    struct sd_server_stats stats;
};

static void conn_process(struct sd_conn *c);
static void conn_mark_ready(struct sd_conn *c);

static int ep_ctl(struct sd_server *s, int op, struct ev *ev, uint32_t events)
{
    struct epoll_event e;
    memset(&e, 0, sizeof(e));
    e.events = events;
    e.data.ptr = ev;
    return epoll_ctl(s->epfd, op, ev->fd, &e) < 0 ? cm_err_from_errno(errno) : 0;
}

int sd_server_new(const struct sd_server_opts *opts, sd_signal_fn on_signal, void *signal_ctx,
                  struct sd_server **out)
{
    struct sd_server *s = cm_xcalloc(1, sizeof(*s));
    s->opts = *opts;
    if (s->opts.max_conns <= 0)
        s->opts.max_conns = 4096;
    if (s->opts.tick_ns <= 0)
        s->opts.tick_ns = 20 * CM_NS_PER_MS;
    s->on_signal = on_signal;
    s->signal_ctx = signal_ctx;
    s->sig.fd = -1;
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd < 0)
        goto fail;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    s->sig.kind = EV_SIGNAL;
    s->sig.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (s->sig.fd < 0 || ep_ctl(s, EPOLL_CTL_ADD, &s->sig, EPOLLIN) < 0)
        goto fail;
    *out = s;
    return 0;
fail:;
    int err = cm_err_from_errno(errno);
    sd_server_free(s);
    return err;
}

static void conn_free(struct sd_conn *c)
{
    cm_buf_deinit(&c->rbuf);
    cm_buf_deinit(&c->wbuf);
    free(c);
}

static void conn_unlink(struct sd_server *s, struct sd_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

/* Closes the socket; frees the struct after the batch unless deferred. */
static void conn_close(struct sd_conn *c)
{
    struct sd_server *s = c->srv;
    if (c->dead)
        return;
    c->dead = 1;
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->ev.fd, NULL);
    close(c->ev.fd);
    c->ev.fd = -1;
    s->n_conns--;
    if (!c->deferred) {
        conn_unlink(s, c);
        c->next = s->conn_grave;
        s->conn_grave = c;
    }
    if (c->up && c->up->on_close)
        c->up->on_close(c->up_ctx, c);
}

void sd_server_free(struct sd_server *s)
{
    if (!s)
        return;
    while (s->conns) {
        struct sd_conn *c = s->conns;
        conn_unlink(s, c);
        if (!c->dead)
            close(c->ev.fd);
        conn_free(c);
    }
    while (s->conn_grave) {
        struct sd_conn *c = s->conn_grave;
        s->conn_grave = c->next;
        conn_free(c);
    }
    while (s->watch_grave) {
        struct sd_watch *w = s->watch_grave;
        s->watch_grave = w->grave_next;
        free(w);
    }
    while (s->listeners) {
        struct sd_listener *l = s->listeners;
        s->listeners = l->next;
        if (!l->closed)
            close(l->ev.fd);
        free(l);
    }
    if (s->sig.fd >= 0)
        close(s->sig.fd);
    if (s->epfd >= 0)
        close(s->epfd);
    free(s);
}

int sd_server_listen(struct sd_server *s, const char *addr, int port,
                     const struct sd_http_limits *lim, sd_request_fn fn, void *ctx,
                     struct sd_listener **out, int *bound_port)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
        return CM_EINVAL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return cm_err_from_errno(errno);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    socklen_t sl = sizeof(sa);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1024) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
        int err = cm_err_from_errno(errno);
        close(fd);
        return err;
    }
    struct sd_listener *l = cm_xcalloc(1, sizeof(*l));
    l->ev.kind = EV_LISTENER;
    l->ev.fd = fd;
    l->lim = *lim;
    l->fn = fn;
    l->ctx = ctx;
    int rc = ep_ctl(s, EPOLL_CTL_ADD, &l->ev, EPOLLIN);
    if (rc < 0) {
        close(fd);
        free(l);
        return rc;
    }
    l->next = s->listeners;
    s->listeners = l;
    if (out)
        *out = l;
    if (bound_port)
        *bound_port = ntohs(sa.sin_port);
    return 0;
}

static void listener_close_fd(struct sd_server *s, struct sd_listener *l)
{
    if (l->closed)
        return;
    l->closed = 1;
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, l->ev.fd, NULL);
    close(l->ev.fd);
}

void sd_server_close_listener(struct sd_server *s, struct sd_listener *l)
{
    if (!l)
        return;
    listener_close_fd(s, l);
    for (struct sd_conn *c = s->conns, *n; c; c = n) {
        n = c->next;
        if (c->lst == l) {
            c->lst = NULL;
            conn_close(c);
        }
    }
    /* Unlink and free: nothing refers to l any more (epoll entry removed,
     * connections detached). A stale event in the current batch can only
     * name the fd, which we removed before closing. */
    for (struct sd_listener **pp = &s->listeners; *pp; pp = &(*pp)->next) {
        if (*pp == l) {
            *pp = l->next;
            break;
        }
    }
    /* Keep it on a tiny leak-free path: reuse the watch graveyard is not
     * type-safe, so free after the batch via a zero-fd watch shell. */
    struct sd_watch *w = cm_xcalloc(1, sizeof(*w));
    w->closed = 1;
    w->ctx = l;
    w->grave_next = s->watch_grave;
    s->watch_grave = w;
}

void sd_server_stop_accepting(struct sd_server *s)
{
    if (s->stopping < 1)
        s->stopping = 1;
    for (struct sd_listener *l = s->listeners; l; l = l->next)
        listener_close_fd(s, l);
}

static void conn_set_mask(struct sd_conn *c, uint32_t mask)
{
    if (c->dead || c->epoll_mask == mask)
        return;
    c->epoll_mask = mask;
    ep_ctl(c->srv, EPOLL_CTL_MOD, &c->ev, mask);
}

/* Output parked behind a deferred request (see sd_conn_defer_hold). */
static int conn_holding(const struct sd_conn *c)
{
    return c->deferred && c->hold_output;
}

static void conn_update_mask(struct sd_conn *c)
{
    uint32_t m = EPOLLRDHUP;
    if (c->wpos < c->wbuf.len && !conn_holding(c))
        m |= EPOLLOUT;
    else if (!c->close_after && !c->paused)
        m |= EPOLLIN; /* also while deferred: saves two epoll_ctl per request */
    conn_set_mask(c, m);
}

static void conn_flush(struct sd_conn *c)
{
    while (!c->dead && c->wpos < c->wbuf.len && !conn_holding(c)) {
        ssize_t n = send(c->ev.fd, c->wbuf.data + c->wpos, c->wbuf.len - c->wpos, MSG_NOSIGNAL);
        if (n > 0) {
            c->wpos += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        conn_close(c);
        return;
    }
    if (c->wpos == c->wbuf.len) {
        c->wpos = 0;
        if (c->up) {
            cm_buf_deinit(&c->wbuf); /* idle upgraded connections hold no buffers */
            if (c->paused && !c->close_after) {
                c->paused = 0; /* input waited for the output to drain */
                conn_mark_ready(c);
            }
        } else {
            cm_buf_reset(&c->wbuf);
        }
        if (c->close_after) {
            conn_close(c);
            return;
        }
    }
    conn_update_mask(c);
}

static void conn_mark_ready(struct sd_conn *c)
{
    if (c->in_ready || c->dead)
        return;
    c->in_ready = 1;
    c->ready_next = c->srv->ready;
    c->srv->ready = c;
}

static void write_response(struct sd_conn *c, const struct sd_resp *resp, int keep_alive)
{
    struct cm_buf *w = &c->wbuf;
    cm_buf_printf(w, "HTTP/1.1 %d %s\r\n", resp->status, sd_http_reason(resp->status));
    if (resp->content_type[0])
        cm_buf_printf(w, "Content-Type: %s\r\n", resp->content_type);
    cm_buf_printf(w, "Content-Length: %zu\r\n", resp->body.len);
    if (!keep_alive)
        cm_buf_puts(w, "Connection: close\r\n");
    if (resp->headers.len)
        cm_buf_append(w, resp->headers.data, resp->headers.len);
    cm_buf_puts(w, "\r\n");
    if (resp->body.len)
        cm_buf_append(w, resp->body.data, resp->body.len);
}

static void finish_request(struct sd_conn *c)
{
    /* Drop the request's bytes; pipelined ones behind it move to the front. */
    size_t rest = c->rbuf.len - c->req_consumed;
    if (rest)
        memmove(c->rbuf.data, c->rbuf.data + c->req_consumed, rest);
    c->rbuf.len = rest;
    if (c->rbuf.data)
        c->rbuf.data[rest] = '\0';
    c->req_consumed = 0;
    c->sent_continue = 0;
}

void sd_conn_reply(struct sd_conn *c, const struct sd_resp *resp)
{
    struct sd_server *s = c->srv;
    int was_deferred = c->deferred;
    if (was_deferred) {
        c->deferred = 0;
        s->n_deferred--;
    }
    if (c->dead) {
        if (was_deferred) { /* the holder was the last reference */
            conn_unlink(s, c);
            c->next = s->conn_grave;
            s->conn_grave = c;
        }
        return;
    }
    if (!c->keep_alive || s->stopping)
        c->close_after = 1;
    write_response(c, resp, !c->close_after);
    finish_request(c);
    c->paused = 0;
    c->last_active_ns = cm_clock_mono_ns();
    /* A pipelined request behind this one is handled next in conn_process,
     * which then sends both answers with one send(). */
    if (!c->in_process || !c->rbuf.len || c->close_after)
        conn_flush(c);
    if (!c->dead && c->rbuf.len && !c->close_after)
        conn_mark_ready(c);
}

static void conn_defer(struct sd_conn *c, int hold)
{
    if (c->deferred)
        return;
    c->hold_output = hold;
    c->deferred = 1;
    c->srv->n_deferred++;
    conn_update_mask(c);
}

void sd_conn_defer(struct sd_conn *c)
{
    conn_defer(c, 0);
}

void sd_conn_defer_hold(struct sd_conn *c)
{
    conn_defer(c, 1);
}

uint64_t sd_server_turn(const struct sd_server *s)
{
    return s->turn;
}

int sd_watch_reported(const struct sd_server *s, const struct sd_watch *w)
{
    return s->batch_full || !w || w->reported_turn == s->turn;
}

void sd_conn_release(struct sd_conn *c)
{
    struct sd_server *s = c->srv;
    if (!c->deferred)
        return;
    c->deferred = 0;
    s->n_deferred--;
    if (c->dead) {
        conn_unlink(s, c);
        c->next = s->conn_grave;
        s->conn_grave = c;
        return;
    }
    conn_close(c);
}

int sd_conn_alive(const struct sd_conn *c)
{
    return !c->dead;
}

void sd_conn_upgrade(struct sd_conn *c, const char *head, size_t head_len,
                     const struct sd_upgrade_ops *ops, void *ctx, size_t max_input_bytes)
{
    struct sd_server *s = c->srv;
    if (c->deferred) {
        c->deferred = 0;
        s->n_deferred--;
    }
    if (c->dead) {
        conn_unlink(s, c);
        c->next = s->conn_grave;
        s->conn_grave = c;
        return;
    }
    finish_request(c); /* frames the client sent early stay buffered */
    c->rbuf.max = max_input_bytes;
    c->up = ops;
    c->up_ctx = ctx;
    c->paused = 0;
    c->last_active_ns = cm_clock_mono_ns();
    cm_buf_append(&c->wbuf, head, head_len);
    conn_flush(c);
    if (!c->dead && c->rbuf.len)
        conn_mark_ready(c);
    else if (!c->dead)
        cm_buf_deinit(&c->rbuf);
}

int sd_conn_write(struct sd_conn *c, const void *p, size_t n)
{
    if (c->dead || c->close_after)
        return CM_EIO;
    if (c->wbuf.len - c->wpos + n > 4u * 1024 * 1024)
        return CM_ETOOBIG;
    if (cm_buf_append(&c->wbuf, p, n) < 0)
        return CM_ETOOBIG;
    conn_flush(c);
    return 0;
}

void sd_conn_close_after_write(struct sd_conn *c)
{
    if (c->dead)
        return;
    c->close_after = 1;
    conn_flush(c);
}

const char *sd_conn_peer_ip(const struct sd_conn *c)
{
    return c->peer_ip;
}

int sd_server_deferred(const struct sd_server *s)
{
    return s->n_deferred;
}

static void reply_error(struct sd_conn *c, int status)
{
    struct sd_resp r;
    sd_resp_init(&r);
    r.status = status;
    cm_strlcpy(r.content_type, "application/json", sizeof(r.content_type));
    cm_buf_printf(&r.body, "{\"message\":\"%s\"}", sd_http_reason(status));
    c->close_after = 1;
    write_response(c, &r, 0);
    sd_resp_deinit(&r);
    c->rbuf.len = 0;
    conn_flush(c);
}

/* Upgraded connection: hand the buffered bytes to the protocol module. */
static void conn_process_raw(struct sd_conn *c)
{
    if (c->rbuf.len == 0)
        return;
    if (c->wbuf.len >= 1024 * 1024) {
        c->paused = 1; /* the client does not read: stop reading it until it does */
        conn_update_mask(c);
        return;
    }
    size_t n = c->up->on_data(c->up_ctx, c, (uint8_t *)c->rbuf.data, c->rbuf.len);
    if (c->dead)
        return;
    if (n > c->rbuf.len)
        n = c->rbuf.len;
    size_t rest = c->rbuf.len - n;
    if (rest)
        memmove(c->rbuf.data, c->rbuf.data + n, rest);
    c->rbuf.len = rest;
    if (rest == 0)
        cm_buf_deinit(&c->rbuf);
    else
        c->rbuf.data[rest] = '\0';
}

/* Parses and dispatches buffered requests until one is deferred, input runs
 * out, or output backs up. */
static void conn_process(struct sd_conn *c)
{
    if (c->up) {
        conn_process_raw(c);
        return;
    }
    c->in_process = 1;
    while (!c->dead && !c->deferred && !c->close_after && !c->up && c->rbuf.len > 0 && c->lst &&
           c->wbuf.len < 256 * 1024) {
        struct sd_req req;
        struct sd_http_info info;
        int rc = sd_http_parse(c->rbuf.data, c->rbuf.len, &c->lst->lim, &req, &info);
        if (rc < 0) {
            c->srv->stats.bad_requests++;
            reply_error(c, info.error_status ? info.error_status : 400);
            break;
        }
        if (rc == SD_HTTP_NEED_MORE) {
            if (info.head_done && info.expect_continue && !c->sent_continue) {
                c->sent_continue = 1;
                cm_buf_puts(&c->wbuf, "HTTP/1.1 100 Continue\r\n\r\n");
            }
            break;
        }
        c->srv->stats.requests++;
        c->req_consumed = info.consumed;
        c->keep_alive = info.keep_alive;
        req.peer_ip = c->peer_ip;
        req.recv_wall_ns = cm_clock_wall_ns();
        /* The handler either replies (finish_request runs) or defers. */
        size_t before = c->rbuf.len;
        c->lst->fn(c->lst->ctx, c, &req);
        if (!c->deferred && !c->dead && c->req_consumed && c->rbuf.len == before) {
            /* Handler neither replied nor deferred: answer 500 so the
             * connection cannot wedge. */
            struct sd_resp r;
            sd_resp_init(&r);
            r.status = 500;
            sd_conn_reply(c, &r);
            sd_resp_deinit(&r);
        }
    }
    c->in_process = 0;
    if (!c->dead && c->wpos < c->wbuf.len)
        conn_flush(c); /* answers held for pipelined requests (unless holding) */
}

static void conn_on_read(struct sd_conn *c)
{
    size_t cap = c->rbuf.max;
    for (int i = 0; i < 64; i++) {
        if (c->rbuf.len >= cap) {
            if (c->deferred || c->up) { /* pipelined input piles up behind a held request */
                c->paused = 1;
                conn_update_mask(c);
                return;
            }
            reply_error(c, 413);
            return;
        }
        size_t want = 64 * 1024;
        if (want > cap - c->rbuf.len)
            want = cap - c->rbuf.len;
        cm_buf_reserve(&c->rbuf, want);
        ssize_t n = recv(c->ev.fd, c->rbuf.data + c->rbuf.len, want, 0);
        if (n > 0) {
            c->rbuf.len += (size_t)n;
            c->rbuf.data[c->rbuf.len] = '\0';
            if ((size_t)n < want)
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        conn_close(c); /* EOF or error */
        return;
    }
    c->last_active_ns = cm_clock_mono_ns();
    conn_process(c);
}

static void on_accept(struct sd_server *s, struct sd_listener *l)
{
    for (int i = 0; i < 64; i++) {
        struct sockaddr_in sa;
        socklen_t sl = sizeof(sa);
        int fd = accept4(l->ev.fd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        if (s->n_conns >= s->opts.max_conns || s->stopping) {
            s->stats.refused++;
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        struct sd_conn *c = cm_xcalloc(1, sizeof(*c));
        c->ev.kind = EV_CONN;
        c->ev.fd = fd;
        c->srv = s;
        c->lst = l;
        /* Head + body + room for one pipelined request head behind it. */
        cm_buf_init(&c->rbuf,
                    l->lim.max_head_bytes + l->lim.max_body_bytes + l->lim.max_head_bytes + 64);
        cm_buf_init(&c->wbuf, 0);
        inet_ntop(AF_INET, &sa.sin_addr, c->peer_ip, sizeof(c->peer_ip));
        c->epoll_mask = EPOLLIN | EPOLLRDHUP;
        c->last_active_ns = cm_clock_mono_ns();
        if (ep_ctl(s, EPOLL_CTL_ADD, &c->ev, c->epoll_mask) < 0) {
            close(fd);
            conn_free(c);
            continue;
        }
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        s->n_conns++;
        s->stats.accepted++;
    }
}

int sd_server_watch(struct sd_server *s, int fd, uint32_t events, sd_fd_fn fn, void *ctx,
                    struct sd_watch **out)
{
    struct sd_watch *w = cm_xcalloc(1, sizeof(*w));
    w->ev.kind = EV_WATCH;
    w->ev.fd = fd;
    w->fn = fn;
    w->ctx = ctx;
    int rc = ep_ctl(s, EPOLL_CTL_ADD, &w->ev, events);
    if (rc < 0) {
        free(w);
        return rc;
    }
    *out = w;
    return 0;
}

int sd_server_watch_events(struct sd_server *s, struct sd_watch *w, uint32_t events)
{
    if (!w || w->closed)
        return CM_ESTATE;
    return ep_ctl(s, EPOLL_CTL_MOD, &w->ev, events);
}

void sd_server_unwatch(struct sd_server *s, struct sd_watch *w)
{
    if (!w || w->closed)
        return;
    w->closed = 1;
    epoll_ctl(s->epfd, EPOLL_CTL_DEL, w->ev.fd, NULL);
    w->grave_next = s->watch_grave;
    s->watch_grave = w;
}

void sd_server_set_tick(struct sd_server *s, sd_tick_fn fn, void *ctx)
{
    s->tick_fn = fn;
    s->tick_ctx = ctx;
}

void sd_server_stop(struct sd_server *s)
{
    s->stopping = 2;
}

void sd_server_get_stats(const struct sd_server *s, struct sd_server_stats *out)
{
    *out = s->stats;
}

static void on_signalfd(struct sd_server *s)
{
    struct signalfd_siginfo si;
    while (read(s->sig.fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (s->on_signal)
            s->on_signal(s->signal_ctx, (int)si.ssi_signo);
    }
}

static void bury(struct sd_server *s)
{
    while (s->conn_grave) {
        struct sd_conn *c = s->conn_grave;
        s->conn_grave = c->next;
        conn_free(c);
    }
    while (s->watch_grave) {
        struct sd_watch *w = s->watch_grave;
        s->watch_grave = w->grave_next;
        if (w->ev.kind == 0) /* listener shell from sd_server_close_listener */
            free(w->ctx);
        free(w);
    }
}

static void run_ready(struct sd_server *s)
{
    /* Bounded: each pass handles the list as it was; new entries wait. */
    struct sd_conn *list = s->ready;
    s->ready = NULL;
    while (list) {
        struct sd_conn *c = list;
        list = c->ready_next;
        c->in_ready = 0;
        if (!c->dead)
            conn_process(c);
    }
}

static void dispatch(struct sd_server *s, struct ev *ev, uint32_t events)
{
    switch (ev->kind) {
    case EV_LISTENER: {
        struct sd_listener *l = (struct sd_listener *)ev;
        if (!l->closed)
            on_accept(s, l);
        break;
    }
    case EV_CONN: {
        struct sd_conn *c = (struct sd_conn *)ev;
        if (c->dead)
            break;
        if (events & EPOLLOUT)
            conn_flush(c);
        if (!c->dead && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
            conn_on_read(c);
        else if (!c->dead && (events & EPOLLRDHUP) && c->deferred)
            conn_close(c); /* peer went away while we hold its request */
        break;
    }
    case EV_WATCH: {
        struct sd_watch *w = (struct sd_watch *)ev;
        if (!w->closed)
            w->fn(w->ctx, w->ev.fd, events);
        break;
    }
    case EV_SIGNAL:
        on_signalfd(s);
        break;
    }
}

int sd_server_run(struct sd_server *s)
{
    struct epoll_event evs[256];
    int64_t next_tick = cm_clock_mono_ns() + s->opts.tick_ns;
    while (s->stopping != 2) {
        int64_t now = cm_clock_mono_ns();
        int timeout_ms = (int)((next_tick - now + CM_NS_PER_MS - 1) / CM_NS_PER_MS);
        if (timeout_ms < 0)
            timeout_ms = 0;
        if (s->ready)
            timeout_ms = 0;
        int n = epoll_wait(s->epfd, evs, 256, timeout_ms);
        s->turn++;
        if (n < 0 && errno != EINTR)
            return cm_err_from_errno(errno);
        s->batch_full = n == (int)(sizeof evs / sizeof evs[0]);
        for (int i = 0; i < n; i++) {
            struct ev *ev = evs[i].data.ptr;
            if (ev->kind == EV_WATCH)
                ((struct sd_watch *)ev)->reported_turn = s->turn;
        }
        for (int i = 0; i < n; i++)
            dispatch(s, evs[i].data.ptr, evs[i].events);
        run_ready(s);
        now = cm_clock_mono_ns();
        if (now >= next_tick) {
            next_tick = now + s->opts.tick_ns;
            if (s->tick_fn)
                s->tick_fn(s->tick_ctx, now);
            if (s->opts.idle_conn_ns > 0) {
                for (struct sd_conn *c = s->conns, *nx; c; c = nx) {
                    nx = c->next;
                    if (!c->dead && !c->deferred && !c->up && c->lst && c->rbuf.len == 0 &&
                        now - c->last_active_ns > s->opts.idle_conn_ns)
                        conn_close(c);
                }
            }
        }
        bury(s);
    }
    return 0;
}
