/* sd_server.h: stackd's single-threaded epoll event loop: HTTP/1.1 listeners
 * (the edge port and one Runtime API listener per execution environment),
 * their connections, watched file descriptors (child output pipes), a
 * signalfd (SIGTERM, SIGINT, SIGCHLD) and a periodic tick. It routes nothing:
 * each listener hands complete requests to its callback.
 *
 * A request callback either answers at once with sd_conn_reply(), or calls
 * sd_conn_defer() and answers later (from any other event) with
 * sd_conn_reply() or drops it with sd_conn_release(). A deferred connection
 * stays allocated until then even if the peer goes away (sd_conn_alive()
 * tells), so holders never see a dangling pointer. Not thread-safe. */
#ifndef SD_SERVER_H
#define SD_SERVER_H

#include "sd_http.h"
#include "sd_req.h"

#include <stdint.h>

struct sd_server;
struct sd_listener;
struct sd_conn;
struct sd_watch;

/* req and everything it points to are valid only during the callback (the
 * connection keeps reading, so its buffer may move): copy what a deferred
 * answer needs. */
typedef void (*sd_request_fn)(void *ctx, struct sd_conn *conn, struct sd_req *req);
typedef void (*sd_fd_fn)(void *ctx, int fd, uint32_t events);
typedef void (*sd_tick_fn)(void *ctx, int64_t now_mono_ns);
typedef void (*sd_signal_fn)(void *ctx, int signo);

struct sd_server_opts {
    int max_conns;        /* simultaneous connections over all listeners; more are refused */
    int64_t tick_ns;      /* period of the tick callback */
    int64_t idle_conn_ns; /* close edge keep-alive connections idle this long (0: never) */
};

/* Creates the loop, blocks SIGTERM/SIGINT/SIGCHLD and routes them to the
 * signal callback (may be NULL). 0 or a cm_err. Free with sd_server_free. */
int sd_server_new(const struct sd_server_opts *opts, sd_signal_fn on_signal, void *signal_ctx,
                  struct sd_server **out);
/* Closes every listener, connection and watch. Accepts NULL. */
void sd_server_free(struct sd_server *s);

/* Listens on addr:port (port 0 picks one; *bound_port gets it). 0 or a cm_err
 * (CM_EIO with errno-derived message logged by the caller). */
int sd_server_listen(struct sd_server *s, const char *addr, int port,
                     const struct sd_http_limits *lim, sd_request_fn fn, void *ctx,
                     struct sd_listener **out, int *bound_port);
/* Stops accepting on l and closes its connections (deferred ones are kept
 * allocated until answered/released, but are no longer alive). */
void sd_server_close_listener(struct sd_server *s, struct sd_listener *l);
/* Stops accepting on every listener (graceful shutdown, phase 1). */
void sd_server_stop_accepting(struct sd_server *s);

void sd_conn_defer(struct sd_conn *c);
/* sd_conn_defer, and answers already written to earlier pipelined requests
 * on this connection stay unsent until this request's reply, which then goes
 * out in the same send() (the Runtime API's POST /response + GET /next). */
void sd_conn_defer_hold(struct sd_conn *c);
/* Sends resp (adds Content-Length, Date-less). Ends a deferral. */
void sd_conn_reply(struct sd_conn *c, const struct sd_resp *resp);
/* Ends a deferral without an answer; the connection is closed. */
void sd_conn_release(struct sd_conn *c);
/* 0 once the peer closed or the listener went away. */
int sd_conn_alive(const struct sd_conn *c);

/* Raw byte mode after an HTTP Upgrade (the WebSocket API, sd_wsapi). */
struct sd_upgrade_ops {
    /* Bytes received; buf may be modified in place. Returns how many were
     * consumed (the rest stays buffered and comes back with more). May call
     * sd_conn_write / sd_conn_close_after_write. */
    size_t (*on_data)(void *ctx, struct sd_conn *c, uint8_t *buf, size_t len);
    /* The socket is closed (peer EOF, error, or after a close): c must not
     * be used after this returns. */
    void (*on_close)(void *ctx, struct sd_conn *c);
};
/* Ends the deferral of the Upgrade request on c by writing head (a complete
 * "HTTP/1.1 101 ...\r\n\r\n" head, sent as is), then hands every later byte
 * to ops. Input is buffered up to max_input_bytes; buffers are freed
 * whenever empty, so an idle upgraded connection costs ~200 bytes plus the
 * kernel's socket buffers. If c is dead, it is released instead. */
void sd_conn_upgrade(struct sd_conn *c, const char *head, size_t head_len,
                     const struct sd_upgrade_ops *ops, void *ctx, size_t max_input_bytes);
/* Queues raw bytes on an upgraded connection and starts writing. 0, CM_EIO
 * when c is dead, CM_ETOOBIG when more than 4 MB would be queued (a client
 * that does not read). */
int sd_conn_write(struct sd_conn *c, const void *p, size_t n);
/* Closes c once its queued output is written (now if nothing is queued). */
void sd_conn_close_after_write(struct sd_conn *c);
/* Peer address ("127.0.0.1"), owned by c. */
const char *sd_conn_peer_ip(const struct sd_conn *c);
/* Number of requests deferred right now (graceful shutdown waits on it). */
int sd_server_deferred(const struct sd_server *s);
/* Counts loop turns (epoll_wait calls): work done in the current turn
 * happened after every event it reported. */
uint64_t sd_server_turn(const struct sd_server *s);
/* Whether this turn's epoll_wait reported w (or may have: a full batch).
 * A level-triggered fd it did not report had nothing to read when the turn
 * began. */
int sd_watch_reported(const struct sd_server *s, const struct sd_watch *w);

/* Watches fd (not owned) for events (EPOLLIN...). */
int sd_server_watch(struct sd_server *s, int fd, uint32_t events, sd_fd_fn fn, void *ctx,
                    struct sd_watch **out);
/* Changes the events a watch waits for (0: none; EPOLLHUP/EPOLLERR are
 * still reported). */
int sd_server_watch_events(struct sd_server *s, struct sd_watch *w, uint32_t events);
void sd_server_unwatch(struct sd_server *s, struct sd_watch *w);

void sd_server_set_tick(struct sd_server *s, sd_tick_fn fn, void *ctx);
/* Runs until sd_server_stop(). 0 or a cm_err from epoll. */
int sd_server_run(struct sd_server *s);
void sd_server_stop(struct sd_server *s);

/* Counters for diagnostics and tests. */
struct sd_server_stats {
    uint64_t accepted, refused, requests, bad_requests;
};
void sd_server_get_stats(const struct sd_server *s, struct sd_server_stats *out);

#endif
