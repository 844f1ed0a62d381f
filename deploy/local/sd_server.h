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
/* Sends resp (adds Content-Length, Date-less). Ends a deferral. */
void sd_conn_reply(struct sd_conn *c, const struct sd_resp *resp);
/* Ends a deferral without an answer; the connection is closed. */
void sd_conn_release(struct sd_conn *c);
/* 0 once the peer closed or the listener went away. */
int sd_conn_alive(const struct sd_conn *c);
/* Number of requests deferred right now (graceful shutdown waits on it). */
int sd_server_deferred(const struct sd_server *s);

/* Watches fd (not owned) for events (EPOLLIN...). */
int sd_server_watch(struct sd_server *s, int fd, uint32_t events, sd_fd_fn fn, void *ctx,
                    struct sd_watch **out);
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
