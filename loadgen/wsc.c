/* wsc.c: see wsc.h. How lws meets the lg_loop:
 *
 * Debian's libwebsockets 4.1.6 is built without LWS_WITH_EXTERNAL_POLL, so
 * the ADD/DEL/CHANGE_MODE_POLL_FD callbacks never fire and lws' own loop is
 * poll() over every socket (O(sessions) per wake-up). What it does support is
 * a foreign libuv loop. Each lg_wsc owns a private uv_loop_t that is never
 * run blocking: its epoll fd (uv_backend_fd) sits in the worker's epoll set
 * as one lg_io, and when it is readable, or when uv's next timer is due
 * (uv_backend_timeout, folded into our ticker), we run uv_run(UV_RUN_NOWAIT)
 * once. lws keeps one uv_poll_t per socket with exact interest masks and its
 * timers (sul) on a uv timer, so the cost per wake-up is one extra
 * epoll_wait, not a scan of every socket.
 *
 * Our own timers are FIFOs, not a heap: every session has the same connect
 * timeout and ping interval, so the connecting list ordered by start time and
 * the open list ordered by next ping are both sorted by construction (O(1)
 * per timer).
 *
 * on_close is never called from inside lws: sessions that end are moved to a
 * done list that is flushed after uv_run returns (or from the ticker), so a
 * user may close or open sessions from any callback without re-entering lws.
 *
 * Memory per open session (measured, docs/bench-loadgen-ws.md): lws' struct
 * lws and ws state, its receive buffer (WSC_RX_BUF + LWS_PRE, bigger messages
 * arrive in pieces we join), one uv_poll_t, and our struct lg_wsc_sess. */
#include "wsc.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <dlfcn.h>
#include <ifaddrs.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <uv.h>
/* uv.h first: libwebsockets.h declares its libuv helpers only then */
#include <libwebsockets.h>

#include "cm/clock.h"
#include "cm/err.h"
#include "cm/mem.h"
#include "loop.h"

#define WSC_RX_BUF       1024 /* lws' per-session receive buffer (bytes) */
#define WSC_HDR_DATA     2048 /* lws' header buffer while handshaking (bytes) */
#define WSC_HDR_POOL     512  /* handshakes in flight sharing header buffers */
#define WSC_DEF_SESSIONS 1024
#define WSC_DEF_TIMEOUT  (10 * CM_NS_PER_S)
#define WSC_DEF_MESSAGE  (64u * 1024)
#define WSC_PROTO_NAME   "lg-wsc"

enum sess_state {
    S_CONNECTING = 1, /* in w->connecting */
    S_OPEN,           /* in w->open */
    S_ENDED,          /* in w->done, on_close pending */
};

struct wsc_msg {
    struct wsc_msg *next;
    size_t len;
    int is_text;
    unsigned char data[]; /* LWS_PRE bytes of room, then len payload bytes */
};

struct sess_list {
    struct lg_wsc_sess *head, *tail;
};

struct lg_wsc_sess {
    struct lg_wsc *w;
    struct lws *wsi; /* NULL once lws let go of it */
    void *user;
    struct lg_wsc_sess *prev, *next; /* in connecting, open or done */
    int64_t start_ns;                /* lg_wsc_open */
    int64_t connect_ns;              /* start to on_open; -1 before */
    int64_t next_ping_ns;            /* open: when the next ping is due */
    struct wsc_msg *q_head, *q_tail; /* send queue, q_len entries */
    char *rx;                        /* message being joined (rx_len of rx_cap bytes), or NULL */
    size_t rx_len, rx_cap;
    int close_code; /* 0 none yet; see lg_wsc_cb.on_close */
    uint8_t state;  /* enum sess_state */
    uint8_t reason; /* enum lg_wsc_reason once decided, else 0 */
    uint8_t q_len;
    uint8_t tcp_up : 1;     /* TCP connected (a failure now is a handshake failure) */
    uint8_t want_close : 1; /* lg_wsc_close on an open session: close frame pending */
    uint8_t want_ping : 1;
    uint8_t want_kill : 1; /* lg_wsc_close on a connecting session (at the list head) */
    uint8_t rx_text : 1;   /* the message being joined is text */
};

struct lg_wsc {
    struct lg_loop *loop;
    uv_loop_t uv;
    struct lg_io uv_io;  /* uv's epoll fd in the worker's epoll */
    struct lg_tick tick; /* uv timers, connect timeouts, pings, done list */
    struct lws_context *ctx;
    struct lws_protocols protocols[2];
    lws_retry_bo_t retry; /* all zero: no lws validity timer (see lg_wsc_open) */
    /* config (owned copies) */
    char *host, *path, *host_hdr, *origin, *subprotocol;
    int port;
    char **sources;
    size_t nsources, next_source;
    struct lg_wsc_header headers[LG_WSC_MAX_HEADERS];
    size_t nheaders;
    size_t max_sessions, max_message;
    int64_t timeout_ns, ping_ns;
    struct lg_wsc_cb cb;
    void *ud;
    /* state */
    struct sess_list connecting, open, done;
    size_t nactive, nopen;
    int uv_inited;
    int dirty; /* lws calls since the last uv_run (see touched) */
    struct lg_wsc_stats st;
};

const char *lg_wsc_reason_name(enum lg_wsc_reason r)
{
    switch (r) {
    case LG_WSC_HANDSHAKE_FAILED:
        return "handshake_failed";
    case LG_WSC_CONNECT_FAILED:
        return "connect_failed";
    case LG_WSC_DROPPED:
        return "dropped";
    case LG_WSC_CLOSED_BY_US:
        return "closed_by_us";
    case LG_WSC_TIMEOUT:
        return "timeout";
    }
    return "unknown";
}

/* ---- source binding without getifaddrs ----
 *
 * lws 4.1.6 binds a client socket to ci.iface through lws_socket_bind ->
 * lws_interface_to_sa, which calls getifaddrs() (a netlink dump of every
 * interface and address) on every connection before it tries the string as
 * an IP literal: 24% of the client's CPU while opening 15,000 sessions over
 * 8 source addresses (docs/bench-loadgen-ws.md). Our sources are IPv4
 * literals checked by lg_wsc_new, so while this thread is inside
 * lws_client_connect_via_info we answer getifaddrs with an empty list and lws
 * falls through to inet_pton. The executable's definition takes precedence
 * over libc's for libwebsockets.so (the linker exports it because a shared
 * library refers to it); every other call, on any thread, goes to libc's. */
static _Thread_local int in_connect;
static int (*libc_getifaddrs)(struct ifaddrs **);
static pthread_once_t libc_once = PTHREAD_ONCE_INIT;

static void find_libc_getifaddrs(void)
{
    void *f = dlsym(RTLD_NEXT, "getifaddrs");
    memcpy(&libc_getifaddrs, &f, sizeof(f));
}

int getifaddrs(struct ifaddrs **ifap)
{
    if (in_connect) {
        *ifap = NULL;
        return 0;
    }
    pthread_once(&libc_once, find_libc_getifaddrs);
    if (!libc_getifaddrs) {
        errno = ENOSYS;
        return -1;
    }
    return libc_getifaddrs(ifap);
}

/* ---- lists ---- */

static void list_push(struct sess_list *l, struct lg_wsc_sess *s)
{
    s->next = NULL;
    s->prev = l->tail;
    if (l->tail)
        l->tail->next = s;
    else
        l->head = s;
    l->tail = s;
}

static void list_push_front(struct sess_list *l, struct lg_wsc_sess *s)
{
    s->prev = NULL;
    s->next = l->head;
    if (l->head)
        l->head->prev = s;
    else
        l->tail = s;
    l->head = s;
}

static void list_del(struct sess_list *l, struct lg_wsc_sess *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        l->head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        l->tail = s->prev;
    s->prev = s->next = NULL;
}

static struct sess_list *list_of(struct lg_wsc *w, const struct lg_wsc_sess *s)
{
    return s->state == S_CONNECTING ? &w->connecting : s->state == S_OPEN ? &w->open : &w->done;
}

/* ---- session end ---- */

static void sess_free(struct lg_wsc_sess *s)
{
    while (s->q_head) {
        struct wsc_msg *m = s->q_head;
        s->q_head = m->next;
        free(m);
    }
    free(s->rx);
    free(s);
}

/* The session is over as far as we are concerned (lws may still hold the
 * wsi for a moment): first reason wins; moved to the done list. */
static void sess_end(struct lg_wsc_sess *s, enum lg_wsc_reason reason)
{
    struct lg_wsc *w = s->w;
    if (s->state == S_ENDED)
        return;
    if (!s->reason)
        s->reason = (uint8_t)reason;
    if (s->state == S_OPEN)
        w->nopen--;
    w->nactive--;
    list_del(list_of(w, s), s);
    s->state = S_ENDED;
    list_push(&w->done, s);
    if (s->wsi)
        lws_set_opaque_user_data(s->wsi, NULL);
    s->wsi = NULL;
    uint64_t *ctr[] = {NULL,           &w->st.handshake_failed, &w->st.connect_failed,
                       &w->st.dropped, &w->st.closed_by_us,     &w->st.timeouts};
    (*ctr[s->reason])++;
}

static void flush_done(struct lg_wsc *w, int64_t now)
{
    struct lg_wsc_sess *s;
    while ((s = w->done.head)) {
        list_del(&w->done, s);
        int code = s->close_code;
        if (!code && s->connect_ns >= 0)
            code = 1006;
        if (w->cb.on_close)
            w->cb.on_close(w->ud, s, s->user, (enum lg_wsc_reason)s->reason, code, now);
        sess_free(s);
    }
}

/* ---- ticker ---- */

static void rearm(struct lg_wsc *w)
{
    int64_t at = INT64_MAX, now = -1;
    if (w->done.head || w->dirty)
        at = 0;
    if (w->connecting.head) {
        const struct lg_wsc_sess *h = w->connecting.head;
        int64_t t = h->want_kill ? 0 : h->start_ns + w->timeout_ns;
        if (t < at)
            at = t;
    }
    if (w->ping_ns && w->open.head && w->open.head->next_ping_ns < at)
        at = w->open.head->next_ping_ns;
    int ms = uv_backend_timeout(&w->uv);
    if (ms >= 0) {
        now = cm_clock_mono_ns();
        int64_t t = now + (int64_t)ms * CM_NS_PER_MS;
        if (t < at)
            at = t;
    }
    w->tick.at = at;
}

/* lws changed its uv watchers outside uv_run: libuv applies watcher changes
 * to its epoll set only inside uv_run, so run it on the next loop turn. */
static void touched(struct lg_wsc *w)
{
    w->dirty = 1;
    w->tick.at = 0;
}

static void run_uv(struct lg_wsc *w)
{
    w->dirty = 0;
    uv_run(&w->uv, UV_RUN_NOWAIT);
}

/* Never from inside an lws callback: lws closes the wsi synchronously. */
static void abort_connecting(struct lg_wsc_sess *s, enum lg_wsc_reason reason)
{
    struct lws *wsi = s->wsi;
    sess_end(s, reason);
    if (wsi)
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
}

static void on_tick(struct lg_tick *t, int64_t now)
{
    struct lg_wsc *w = (struct lg_wsc *)((char *)t - offsetof(struct lg_wsc, tick));
    struct lg_wsc_sess *s;
    /* aborts first (lg_wsc_close puts them at the head), then connect +
     * handshake timeouts: after them the FIFO head is the oldest */
    while ((s = w->connecting.head) && (s->want_kill || s->start_ns + w->timeout_ns <= now))
        abort_connecting(s, s->want_kill ? LG_WSC_CLOSED_BY_US : LG_WSC_TIMEOUT);
    while (w->ping_ns && (s = w->open.head) && s->next_ping_ns <= now) {
        list_del(&w->open, s);
        s->next_ping_ns = now + w->ping_ns;
        list_push(&w->open, s);
        s->want_ping = 1;
        lws_callback_on_writable(s->wsi);
    }
    run_uv(w);
    flush_done(w, now);
    rearm(w);
}

static void on_uv_io(struct lg_io *io, uint32_t events, int64_t now)
{
    (void)events;
    struct lg_wsc *w = (struct lg_wsc *)((char *)io - offsetof(struct lg_wsc, uv_io));
    run_uv(w);
    flush_done(w, now);
    rearm(w);
}

/* ---- lws callbacks ---- */

static int cb_writeable(struct lg_wsc *w, struct lg_wsc_sess *s, struct lws *wsi)
{
    if (s->want_close) {
        s->close_code = LWS_CLOSE_STATUS_NORMAL;
        lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
        sess_end(s, LG_WSC_CLOSED_BY_US);
        return -1;
    }
    if (s->want_ping) {
        unsigned char buf[LWS_PRE + 1];
        s->want_ping = 0;
        if (lws_write(wsi, buf + LWS_PRE, 0, LWS_WRITE_PING) < 0)
            return -1;
        w->st.pings_sent++;
    } else if (s->q_head) {
        struct wsc_msg *m = s->q_head;
        s->q_head = m->next;
        if (!s->q_head)
            s->q_tail = NULL;
        s->q_len--;
        int n = lws_write(wsi, m->data + LWS_PRE, m->len,
                          m->is_text ? LWS_WRITE_TEXT : LWS_WRITE_BINARY);
        size_t len = m->len;
        free(m);
        if (n < 0)
            return -1;
        w->st.msgs_sent++;
        w->st.bytes_sent += len;
    }
    if (s->q_head || s->want_ping)
        lws_callback_on_writable(wsi);
    return 0;
}

static int cb_receive(struct lg_wsc *w, struct lg_wsc_sess *s, struct lws *wsi, const char *in,
                      size_t len, int64_t now)
{
    int final = lws_is_final_fragment(wsi);
    w->st.bytes_recv += len;
    if (!s->rx && final) { /* the common case: the whole message at once */
        if (len > w->max_message)
            goto too_big;
        w->st.msgs_recv++;
        if (w->cb.on_message)
            w->cb.on_message(w->ud, s, s->user, in, len, !lws_frame_is_binary(wsi), now);
        return 0;
    }
    if (s->rx_len + len > w->max_message)
        goto too_big;
    if (!s->rx) {
        /* a split message: a buffer of what lws says is coming in this
         * frame (at least 4 KiB), grown by doubling up to the bound; freed
         * when the message completes */
        size_t want = len + lws_remaining_packet_payload(wsi);
        s->rx_cap = want < 4096 ? 4096 : want;
        if (s->rx_cap > w->max_message)
            s->rx_cap = w->max_message;
        s->rx = cm_xmalloc(s->rx_cap);
        s->rx_len = 0;
        s->rx_text = !lws_frame_is_binary(wsi);
    }
    if (s->rx_len + len > s->rx_cap) {
        size_t ncap = s->rx_cap * 2;
        while (ncap < s->rx_len + len)
            ncap *= 2;
        s->rx_cap = ncap > w->max_message ? w->max_message : ncap;
        s->rx = cm_xrealloc(s->rx, s->rx_cap);
    }
    memcpy(s->rx + s->rx_len, in, len);
    s->rx_len += len;
    if (final) {
        w->st.msgs_recv++;
        if (w->cb.on_message && s->state == S_OPEN)
            w->cb.on_message(w->ud, s, s->user, s->rx, s->rx_len, s->rx_text, now);
        free(s->rx);
        s->rx = NULL;
        s->rx_len = 0;
    }
    return 0;
too_big:
    s->close_code = LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE;
    lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
    sess_end(s, LG_WSC_CLOSED_BY_US);
    return -1;
}

static void cb_established(struct lg_wsc *w, struct lg_wsc_sess *s, int64_t now)
{
    list_del(&w->connecting, s);
    s->state = S_OPEN;
    s->connect_ns = now - s->start_ns;
    s->next_ping_ns = now + w->ping_ns;
    list_push(&w->open, s);
    w->nopen++;
    w->st.opened++;
    if (w->cb.on_open)
        w->cb.on_open(w->ud, s, s->user, now);
    if (s->state == S_OPEN && (s->q_head || s->want_close))
        lws_callback_on_writable(s->wsi);
}

static int cb_append_headers(struct lg_wsc *w, struct lws *wsi, void *in, size_t len)
{
    unsigned char **p = (unsigned char **)in, *end = *p + len;
    for (size_t i = 0; i < w->nheaders; i++) {
        const struct lg_wsc_header *h = &w->headers[i];
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)h->name,
                                        (const unsigned char *)h->value, (int)strlen(h->value), p,
                                        end))
            return -1;
    }
    return 0;
}

static int cb_lws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len)
{
    (void)user;
    struct lg_wsc *w = lws_context_user(lws_get_context(wsi));
    struct lg_wsc_sess *s = wsi ? lws_get_opaque_user_data(wsi) : NULL;
    if (!s || !w)
        return 0;
    int64_t now = cm_clock_mono_ns();
    switch (reason) {
    case LWS_CALLBACK_WSI_CREATE: /* the TCP connect completed */
        s->tcp_up = 1;
        return 0;
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        return cb_append_headers(w, wsi, in, len);
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (s->state == S_CONNECTING)
            cb_established(w, s, now);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        return s->state == S_OPEN ? cb_receive(w, s, wsi, in, len, now) : 0;
    case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
        w->st.pongs_recv++;
        return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return s->state == S_OPEN ? cb_writeable(w, s, wsi) : 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (len >= 2 && !s->close_code) {
            const unsigned char *b = in;
            s->close_code = (b[0] << 8) | b[1];
        } else if (!s->close_code)
            s->close_code = LWS_CLOSE_STATUS_NO_STATUS;
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        sess_end(s, s->tcp_up ? LG_WSC_HANDSHAKE_FAILED : LG_WSC_CONNECT_FAILED);
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        if (s->state == S_OPEN)
            sess_end(s, LG_WSC_DROPPED);
        else if (s->state == S_CONNECTING)
            sess_end(s, s->tcp_up ? LG_WSC_HANDSHAKE_FAILED : LG_WSC_CONNECT_FAILED);
        return 0;
    default:
        return 0;
    }
}

/* ---- setup ---- */

/* ws://host[:port][/path] -> w->host, port, path ("/" when absent). */
static int parse_url(struct lg_wsc *w, const char *url)
{
    if (!url)
        return CM_EINVAL;
    if (strncmp(url, "wss://", 6) == 0)
        return CM_EUNSUPP;
    if (strncmp(url, "ws://", 5) != 0)
        return CM_EINVAL;
    const char *h = url + 5, *e = h + strcspn(h, "/?#");
    const char *colon = memchr(h, ':', (size_t)(e - h));
    const char *hend = colon ? colon : e;
    if (hend == h || strchr(e, '#') || strpbrk(url, " \r\n"))
        return CM_EINVAL;
    w->port = 80;
    if (colon) {
        long p = 0;
        const char *c = colon + 1;
        if (c == e)
            return CM_EINVAL;
        for (; c < e; c++) {
            if (*c < '0' || *c > '9' || (p = p * 10 + (*c - '0')) > 65535)
                return CM_EINVAL;
        }
        if (p == 0)
            return CM_EINVAL;
        w->port = (int)p;
    }
    w->host = cm_xstrndup(h, (size_t)(hend - h));
    size_t plen = strlen(e);
    w->path = cm_xmalloc(plen + 2);
    w->path[0] = '/';
    memcpy(w->path + (*e == '/'), e, plen + 1);
    size_t hl = (size_t)(e - h);
    w->host_hdr = cm_xstrndup(h, hl);
    return 0;
}

static int copy_cfg(struct lg_wsc *w, const struct lg_wsc_cfg *cfg)
{
    int rc = parse_url(w, cfg->url);
    if (rc)
        return rc;
    if (cfg->nsources > LG_WSC_MAX_SOURCES || cfg->nheaders > LG_WSC_MAX_HEADERS ||
        cfg->max_message_bytes > LG_WSC_MAX_MESSAGE || cfg->connect_timeout_ns < 0 ||
        cfg->ping_interval_ns < 0)
        return CM_EINVAL;
    w->sources = cm_xcalloc(cfg->nsources + 1, sizeof(char *));
    for (size_t i = 0; i < cfg->nsources; i++) {
        struct in_addr a;
        if (!cfg->sources[i] || inet_pton(AF_INET, cfg->sources[i], &a) != 1)
            return CM_EINVAL;
        w->sources[w->nsources++] = cm_xstrdup(cfg->sources[i]);
    }
    for (size_t i = 0; i < cfg->nheaders; i++) {
        const struct lg_wsc_header *h = &cfg->headers[i];
        if (!h->name || !h->value || !*h->name || strpbrk(h->name, ": \r\n") ||
            strpbrk(h->value, "\r\n"))
            return CM_EINVAL;
        /* lws wants the colon in the name */
        size_t n = strlen(h->name);
        char *name = cm_xmalloc(n + 2);
        memcpy(name, h->name, n);
        memcpy(name + n, ":", 2);
        w->headers[i].name = name;
        w->headers[i].value = cm_xstrdup(h->value);
        w->nheaders = i + 1;
    }
    w->origin = cfg->origin ? cm_xstrdup(cfg->origin) : NULL;
    w->subprotocol = cfg->subprotocol ? cm_xstrdup(cfg->subprotocol) : NULL;
    w->max_sessions = cfg->max_sessions ? cfg->max_sessions : WSC_DEF_SESSIONS;
    w->max_message = cfg->max_message_bytes ? cfg->max_message_bytes : WSC_DEF_MESSAGE;
    w->timeout_ns = cfg->connect_timeout_ns ? cfg->connect_timeout_ns : WSC_DEF_TIMEOUT;
    w->ping_ns = cfg->ping_interval_ns;
    w->cb = cfg->cb;
    w->ud = cfg->user;
    return 0;
}

/* lws logs per connection (notices, and errors such as a failed bind()):
 * errors only, and only the first few per process, on stderr. Failures are
 * counted by reason in lg_wsc_stats instead. */
static void log_emit(int level, const char *line)
{
    static _Atomic int n;
    (void)level;
    int k = n++;
    if (k < 5)
        fprintf(stderr, "lws: %s", line);
    else if (k == 5)
        fputs("lws: further messages suppressed\n", stderr);
}

static void log_quiet(void)
{
    lws_set_log_level(LLL_ERR, log_emit);
}

static int make_context(struct lg_wsc *w)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, log_quiet);
    w->protocols[0].name = WSC_PROTO_NAME;
    w->protocols[0].callback = cb_lws;
    w->protocols[0].rx_buffer_size = WSC_RX_BUF;
    void *loops[1] = {&w->uv};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = w->protocols;
    info.gid = -1;
    info.uid = -1;
    info.options = LWS_SERVER_OPTION_LIBUV;
    info.foreign_loops = loops;
    info.count_threads = 1;
    info.user = w;
    info.max_http_header_data = WSC_HDR_DATA;
    info.max_http_header_pool = WSC_HDR_POOL;
    /* lws' own connect timers stay behind ours */
    int64_t secs = w->timeout_ns / CM_NS_PER_S + 5;
    info.timeout_secs = secs > 3600 ? 3600 : (unsigned int)secs;
    info.connect_timeout_secs = info.timeout_secs;
    w->ctx = lws_create_context(&info);
    return w->ctx ? 0 : CM_EIO;
}

int lg_wsc_new(struct lg_loop *l, const struct lg_wsc_cfg *cfg, struct lg_wsc **out)
{
    struct lg_wsc *w = cm_xcalloc(1, sizeof(*w));
    *out = NULL;
    w->loop = l;
    int rc = copy_cfg(w, cfg);
    if (rc)
        goto fail;
    if (uv_loop_init(&w->uv) != 0) {
        rc = CM_EIO;
        goto fail;
    }
    w->uv_inited = 1;
    rc = make_context(w);
    if (rc)
        goto fail;
    w->uv_io.fn = on_uv_io;
    w->uv_io.fd = uv_backend_fd(&w->uv);
    w->tick.fn = on_tick;
    w->tick.at = 0; /* lws' first idle pass */
    if ((rc = lg_loop_watch(l, &w->uv_io, EPOLLIN)) != 0 || (rc = lg_loop_add_tick(l, &w->tick)))
        goto fail;
    *out = w;
    return 0;
fail:
    lg_wsc_free(w);
    return rc;
}

static void free_cfg(struct lg_wsc *w)
{
    free(w->host);
    free(w->path);
    free(w->host_hdr);
    free(w->origin);
    free(w->subprotocol);
    for (size_t i = 0; w->sources && i < w->nsources; i++)
        free(w->sources[i]);
    free(w->sources);
    for (size_t i = 0; i < w->nheaders; i++) {
        free((char *)w->headers[i].name);
        free((char *)w->headers[i].value);
    }
}

static void drop_list(struct sess_list *l)
{
    struct lg_wsc_sess *s;
    while ((s = l->head)) {
        list_del(l, s);
        if (s->wsi) {
            /* the run is over: reset instead of FIN, so no TIME_WAIT is
             * left on our (bound) source ports to block the next run's
             * bind() for a minute */
            struct linger lg = {1, 0};
            int fd = lws_get_socket_fd(s->wsi);
            if (fd >= 0)
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
            lws_set_opaque_user_data(s->wsi, NULL);
        }
        sess_free(s);
    }
}

void lg_wsc_free(struct lg_wsc *w)
{
    if (!w)
        return;
    if (w->uv_io.events)
        lg_loop_watch(w->loop, &w->uv_io, 0);
    lg_loop_del_tick(w->loop, &w->tick);
    drop_list(&w->connecting);
    drop_list(&w->open);
    drop_list(&w->done);
    if (w->ctx) {
        /* with a foreign loop lws closes its uv handles asynchronously:
         * destroy, let the loop finish the closes, destroy again */
        lws_context_destroy(w->ctx);
        uv_run(&w->uv, UV_RUN_DEFAULT);
        lws_context_destroy(w->ctx);
    }
    if (w->uv_inited) {
        uv_run(&w->uv, UV_RUN_DEFAULT);
        uv_loop_close(&w->uv);
    }
    free_cfg(w);
    free(w);
}

/* ---- sessions ---- */

int lg_wsc_open(struct lg_wsc *w, void *sess_user, struct lg_wsc_sess **out)
{
    if (out)
        *out = NULL;
    if (w->nactive >= w->max_sessions)
        return CM_ETOOBIG;
    struct lg_wsc_sess *s = cm_xcalloc(1, sizeof(*s));
    s->w = w;
    s->user = sess_user;
    s->connect_ns = -1;
    s->start_ns = cm_clock_mono_ns();
    s->state = S_CONNECTING;
    list_push(&w->connecting, s);
    w->nactive++;

    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof(ci));
    ci.context = w->ctx;
    ci.address = w->host;
    ci.port = w->port;
    ci.path = w->path;
    ci.host = w->host_hdr;
    ci.origin = w->origin;
    ci.protocol = w->subprotocol;
    ci.local_protocol_name = WSC_PROTO_NAME;
    ci.opaque_user_data = s;
    ci.pwsi = &s->wsi;
    /* lws' default policy arms a validity timer (ping at 300 s) on every
     * open session, inserted into one sorted list: O(sessions) per insert,
     * the top cost at 15,000 sessions. We ping ourselves (FIFO, O(1)). */
    ci.retry_and_idle_policy = &w->retry;
    if (w->nsources) {
        ci.iface = w->sources[w->next_source];
        w->next_source = (w->next_source + 1) % w->nsources;
    }
    in_connect = w->nsources > 0;
    struct lws *wsi = lws_client_connect_via_info(&ci);
    in_connect = 0;
    if (!wsi) {
        if (s->state != S_ENDED) {
            /* failed before lws told us anything: no session at all */
            list_del(&w->connecting, s);
            w->nactive--;
            free(s);
            return CM_EIO;
        }
        s->wsi = NULL;
    }
    w->st.opens_started++;
    if (out)
        *out = s;
    touched(w);
    return 0;
}

int lg_wsc_send(struct lg_wsc_sess *s, const char *p, size_t n, int is_text)
{
    struct lg_wsc *w = s->w;
    if (s->state != S_OPEN || s->want_close)
        return CM_ESTATE;
    if (n > w->max_message)
        return CM_ETOOBIG;
    if (s->q_len >= LG_WSC_SEND_QUEUE) {
        w->st.send_queue_full++;
        return CM_EAGAIN;
    }
    struct wsc_msg *m = cm_xmalloc(sizeof(*m) + LWS_PRE + n);
    m->next = NULL;
    m->len = n;
    m->is_text = !!is_text;
    if (n)
        memcpy(m->data + LWS_PRE, p, n);
    if (s->q_tail)
        s->q_tail->next = m;
    else
        s->q_head = m;
    s->q_tail = m;
    s->q_len++;
    lws_callback_on_writable(s->wsi);
    touched(w);
    return 0;
}

void lg_wsc_close(struct lg_wsc_sess *s)
{
    struct lg_wsc *w = s->w;
    if (s->state == S_OPEN) {
        if (!s->want_close) {
            s->want_close = 1;
            lws_callback_on_writable(s->wsi);
            touched(w);
        }
        return;
    }
    if (s->state != S_CONNECTING || s->want_kill)
        return;
    /* to the head of the FIFO: the ticker aborts it outside lws */
    s->want_kill = 1;
    list_del(&w->connecting, s);
    list_push_front(&w->connecting, s);
    w->tick.at = 0;
}

int64_t lg_wsc_sess_connect_ns(const struct lg_wsc_sess *s)
{
    return s->connect_ns;
}

size_t lg_wsc_open_count(const struct lg_wsc *w)
{
    return w->nopen;
}

size_t lg_wsc_active_count(const struct lg_wsc *w)
{
    return w->nactive;
}

void lg_wsc_stats(const struct lg_wsc *w, struct lg_wsc_stats *out)
{
    *out = w->st;
}
