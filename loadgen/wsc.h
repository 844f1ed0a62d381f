/* wsc.h: WebSocket client sessions on a worker's lg_loop, through
 * libwebsockets 4.1.6 driven from the loop's epoll: lws runs on a private
 * libuv loop (its "foreign loop" support) whose epoll fd is one entry in the
 * worker's epoll set, so there is no lws poll() loop and no extra thread
 * (Debian's lws is built without the external-poll callbacks). One lg_wsc per
 * worker thread holds one lws context and up to max_sessions sessions to one
 * ws:// URL, optionally bound round-robin to several local source addresses
 * (127.0.0.x) so that the kernel's ephemeral port search stays short at tens
 * of thousands of connections to one destination. Not a general client:
 * cleartext ws:// only (no TLS), no extensions (no permessage-deflate), one
 * URL per lg_wsc, no reconnect policy (the ws engine reopens on on_close when
 * its scenario says so). Single-threaded: every call, and every callback,
 * happens on the thread that runs the loop. Raise RLIMIT_NOFILE before
 * lg_wsc_new (lws sizes its fd tables from it). Measured cost and rates:
 * docs/bench-loadgen-ws.md. While binding to a source address the process's
 * getifaddrs() is answered with an empty list (see wsc.c). */
#ifndef LG_WSC_H
#define LG_WSC_H

#include <stddef.h>
#include <stdint.h>

struct lg_loop;
struct lg_wsc;
struct lg_wsc_sess;

#define LG_WSC_MAX_SOURCES 64         /* entries in lg_wsc_cfg.sources */
#define LG_WSC_MAX_HEADERS 16         /* entries in lg_wsc_cfg.headers */
#define LG_WSC_SEND_QUEUE  8          /* messages queued per session before CM_EAGAIN */
#define LG_WSC_MAX_MESSAGE (1u << 20) /* bound on lg_wsc_cfg.max_message_bytes */

/* Why a session ended (on_close). Exactly one on_close per session that
 * lg_wsc_open returned, except for sessions still open at lg_wsc_free. */
enum lg_wsc_reason {
    LG_WSC_HANDSHAKE_FAILED = 1, /* TCP connected, the upgrade was refused or malformed */
    LG_WSC_CONNECT_FAILED,       /* TCP connect refused / unreachable / no source port */
    LG_WSC_DROPPED,              /* open session ended by the peer (close frame or EOF/reset) */
    LG_WSC_CLOSED_BY_US,         /* lg_wsc_close, or a protocol error on our side */
    LG_WSC_TIMEOUT,              /* connect + handshake did not finish in connect_timeout_ns */
};

/* Name of a reason ("handshake_failed", ...), never NULL. */
const char *lg_wsc_reason_name(enum lg_wsc_reason r);

struct lg_wsc_header {
    const char *name; /* without the colon, e.g. "Authorization" */
    const char *value;
};

/* Callbacks; ud is lg_wsc_cfg.user, sess_user what lg_wsc_open got. The
 * session may be closed from inside any callback (lg_wsc_close); it must not
 * be used after on_close returns. now_ns: the loop's monotonic clock. */
struct lg_wsc_cb {
    /* The handshake completed (101 with a valid Sec-WebSocket-Accept). */
    void (*on_open)(void *ud, struct lg_wsc_sess *s, void *sess_user, int64_t now_ns);
    /* One whole message (fragments joined), data borrowed until return.
     * Messages longer than max_message_bytes end the session with close code
     * 1009 (reason LG_WSC_CLOSED_BY_US) instead. */
    void (*on_message)(void *ud, struct lg_wsc_sess *s, void *sess_user, const char *data,
                       size_t len, int is_text, int64_t now_ns);
    /* The session is over; close_code: the peer's close code (1000...),
     * 1006 when the connection ended without one, 0 when it never opened. */
    void (*on_close)(void *ud, struct lg_wsc_sess *s, void *sess_user, enum lg_wsc_reason reason,
                     int close_code, int64_t now_ns);
};

/* Borrowed by lg_wsc_new (strings are copied). */
struct lg_wsc_cfg {
    const char *url;            /* ws://host[:port][/path[?query]]; host: IPv4 literal or name */
    const char *const *sources; /* local IPv4 addresses to bind() before connect, round-robin; */
    size_t nsources;            /*   0: let the kernel choose (one source address) */
    size_t max_sessions;        /* sessions open or opening at once; 0: 1024 */
    int64_t connect_timeout_ns; /* TCP connect + handshake; 0: 10 s */
    size_t max_message_bytes;   /* largest received message; 0: 64 KiB; <= LG_WSC_MAX_MESSAGE */
    int64_t ping_interval_ns;   /* ping every open session this often; 0: never */
    const struct lg_wsc_header *headers; /* extra handshake headers, up to LG_WSC_MAX_HEADERS */
    size_t nheaders;
    const char *origin;      /* Origin header; NULL: none */
    const char *subprotocol; /* Sec-WebSocket-Protocol to offer; NULL: none */
    struct lg_wsc_cb cb;
    void *user; /* ud of every callback */
};

/* Counters since lg_wsc_new, monotonic. */
struct lg_wsc_stats {
    uint64_t opens_started; /* lg_wsc_open calls that returned 0 */
    uint64_t opened;        /* handshakes completed (on_open) */
    uint64_t handshake_failed, connect_failed, dropped, closed_by_us,
        timeouts;                    /* on_close by reason */
    uint64_t msgs_sent, msgs_recv;   /* whole messages */
    uint64_t bytes_sent, bytes_recv; /* message payload bytes (no framing) */
    uint64_t pings_sent, pongs_recv;
    uint64_t send_queue_full; /* lg_wsc_send returning CM_EAGAIN */
};

/* Creates the lws context on l (registers the sockets lws opens with
 * lg_loop_watch and one ticker for lws' timers). Returns 0, CM_EINVAL (bad
 * url: not ws://, no host, bad port; bad source address; too many headers or
 * sources; max_message_bytes too large), CM_EUNSUPP (wss://) or CM_EIO (lws
 * refused to create the context). *out is NULL on failure. Free with
 * lg_wsc_free. */
int lg_wsc_new(struct lg_loop *l, const struct lg_wsc_cfg *cfg, struct lg_wsc **out);

/* Ends every session without calling on_close, destroys the lws context,
 * unregisters everything from the loop. Accepts NULL. Not from a callback. */
void lg_wsc_free(struct lg_wsc *w);

/* Starts one session (async): the socket, bind to the next source address,
 * non-blocking connect, then the handshake; on_open or on_close follow from
 * the loop (never from inside this call). *out (may be NULL) is valid until
 * on_close returns. Returns 0, CM_ETOOBIG (max_sessions open or opening),
 * CM_EIO (lws could not create the connection at once, e.g. out of file
 * descriptors; no on_close then). The connect time (lg_wsc_sess_connect_ns)
 * runs from this call. Keep the sessions still opening (active - open) to a
 * few hundred: lws keeps a timer per handshake in one sorted list (O(n) per
 * insert); 200 in flight opened 15,000 at 7,500/s+, 2,000 at 3,200/s. */
int lg_wsc_open(struct lg_wsc *w, void *sess_user, struct lg_wsc_sess **out);

/* Queues one text (is_text 1) or binary message of n bytes (copied) for an
 * open session; written when the socket is writable, in order. Returns 0,
 * CM_ESTATE (not open yet, or closing), CM_EAGAIN (LG_WSC_SEND_QUEUE
 * messages already waiting), CM_ETOOBIG (n > max_message_bytes). */
int lg_wsc_send(struct lg_wsc_sess *s, const char *p, size_t n, int is_text);

/* Closes the session: a close frame (1000) when open, then the socket;
 * on_close(LG_WSC_CLOSED_BY_US) follows from the loop (not from inside this
 * call). A session still connecting is aborted (same reason). Idempotent. */
void lg_wsc_close(struct lg_wsc_sess *s);

/* Nanoseconds from lg_wsc_open to on_open (TCP connect + handshake); -1
 * until open. */
int64_t lg_wsc_sess_connect_ns(const struct lg_wsc_sess *s);

/* Sessions open (handshake done, not yet closed). */
size_t lg_wsc_open_count(const struct lg_wsc *w);
/* Sessions opening or open (what max_sessions bounds). */
size_t lg_wsc_active_count(const struct lg_wsc *w);

/* Copies the counters. */
void lg_wsc_stats(const struct lg_wsc *w, struct lg_wsc_stats *out);

#endif
