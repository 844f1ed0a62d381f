/* loop.h: one worker thread's event loop as the engines see it: an epoll set
 * whose entries point at a struct lg_io (the callback and fd of one socket),
 * and a few tickers (one per engine or component) each carrying the next
 * monotonic time it wants to run. Not a general timer wheel: an engine with
 * many timers keeps its own heap and exposes only its earliest deadline.
 * Single-threaded: every call comes from the thread that runs the loop. */
#ifndef LG_LOOP_H
#define LG_LOOP_H

#include <stdint.h>

struct lg_loop;
struct lg_io;
struct lg_tick;

/* events: EPOLLIN / EPOLLOUT / EPOLLERR / EPOLLHUP as epoll reported them. */
typedef void (*lg_io_fn)(struct lg_io *io, uint32_t events, int64_t now_ns);
typedef void (*lg_tick_fn)(struct lg_tick *t, int64_t now_ns);

/* Caller-owned, usually embedded in the engine's per-connection struct
 * (container_of style); must stay put while registered. */
struct lg_io {
    lg_io_fn fn;
    int fd;
    uint32_t events; /* registered set; 0: not in the epoll set */
};

/* Caller-owned. The loop calls fn once at >= at, after which the engine
 * re-arms by writing a new `at` (INT64_MAX: idle). Engines may lower or
 * raise `at` at any time from inside the loop thread. */
struct lg_tick {
    lg_tick_fn fn;
    int64_t at; /* monotonic ns; INT64_MAX: nothing due */
};

#define LG_LOOP_MAX_TICKS 16

/* CM_EIO when epoll_create fails. */
int lg_loop_new(struct lg_loop **out);
/* Does not close the registered fds (their owners do). Accepts NULL. */
void lg_loop_free(struct lg_loop *l);

/* Sets io's registration to events (EPOLLIN|EPOLLOUT...); 0 removes it.
 * Cheap when unchanged. CM_EIO on an epoll_ctl failure other than the
 * add/mod races it repairs itself. Closing a registered fd: call with 0
 * first, or lg_loop_forget after close() (the kernel already dropped it). */
int lg_loop_watch(struct lg_loop *l, struct lg_io *io, uint32_t events);
/* The fd was closed: mark io unregistered without a syscall. */
void lg_loop_forget(struct lg_loop *l, struct lg_io *io);

/* At most LG_LOOP_MAX_TICKS; CM_ETOOBIG beyond. */
int lg_loop_add_tick(struct lg_loop *l, struct lg_tick *t);
void lg_loop_del_tick(struct lg_loop *l, struct lg_tick *t);
/* Earliest `at` over the tickers (INT64_MAX when none). */
int64_t lg_loop_next_tick(const struct lg_loop *l);

/* Runs due tickers, waits for events until min(deadline, earliest tick)
 * (deadline is monotonic ns; never waits past it), dispatches them, then runs
 * the tickers that came due meanwhile. Returns the number of io callbacks
 * made, or CM_EIO when epoll_wait fails with anything but EINTR. */
int lg_loop_run_once(struct lg_loop *l, int64_t deadline_ns);

/* The epoll fd, for code that must register fds itself (libcurl's socket
 * callback goes through lg_loop_watch instead). */
int lg_loop_fd(const struct lg_loop *l);

#endif
