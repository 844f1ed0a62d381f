/* loop_test.c: lg_loop dispatches io events to the registered lg_io, runs
 * tickers when due, re-registers cheaply and survives a closed fd. */
#include <sys/epoll.h>
#include <unistd.h>

#include "../harness.h"
#include "cm/clock.h"
#include "loop.h"

struct probe {
    struct lg_io io;
    int calls;
    uint32_t last;
};

static void on_io(struct lg_io *io, uint32_t ev, int64_t now)
{
    struct probe *p = (struct probe *)io; /* io is the first member */
    (void)now;
    p->calls++;
    p->last = ev;
    char b[16];
    if (ev & EPOLLIN) {
        ssize_t n = read(io->fd, b, sizeof(b));
        (void)n;
    }
}

struct tick_probe {
    struct lg_tick t;
    int calls;
    int64_t period;
};

static void on_tick(struct lg_tick *t, int64_t now)
{
    struct tick_probe *p = (struct tick_probe *)t;
    p->calls++;
    if (p->calls < 3)
        t->at = now + p->period;
}

int main(void)
{
    struct lg_loop *l;
    CHECK_INT(lg_loop_new(&l), 0);
    int fds[2];
    CHECK_INT(pipe(fds), 0);
    struct probe p = {.io = {.fn = on_io, .fd = fds[0]}};
    CHECK_INT(lg_loop_watch(l, &p.io, EPOLLIN), 0);
    CHECK_INT(lg_loop_watch(l, &p.io, EPOLLIN), 0); /* unchanged: no-op */
    CHECK_INT(write(fds[1], "x", 1), 1);
    int64_t t0 = cm_clock_mono_ns();
    CHECK_INT(lg_loop_run_once(l, t0 + 1000 * CM_NS_PER_MS), 1);
    CHECK_INT(p.calls, 1);
    CHECK(p.last & EPOLLIN);
    /* nothing ready: returns at the deadline */
    t0 = cm_clock_mono_ns();
    CHECK_INT(lg_loop_run_once(l, t0 + 20 * CM_NS_PER_MS), 0);
    CHECK(cm_clock_mono_ns() - t0 >= 19 * CM_NS_PER_MS);
    /* a ticker runs three times, then goes idle */
    struct tick_probe tp = {.t = {.fn = on_tick, .at = cm_clock_mono_ns()}, .period = CM_NS_PER_MS};
    CHECK_INT(lg_loop_add_tick(l, &tp.t), 0);
    for (int i = 0; i < 10 && tp.calls < 3; i++)
        lg_loop_run_once(l, cm_clock_mono_ns() + 50 * CM_NS_PER_MS);
    CHECK_INT(tp.calls, 3);
    CHECK(lg_loop_next_tick(l) == INT64_MAX);
    lg_loop_del_tick(l, &tp.t);
    /* removal, then a closed and reused fd number */
    CHECK_INT(lg_loop_watch(l, &p.io, 0), 0);
    CHECK_INT(p.io.events, 0);
    CHECK_INT(lg_loop_watch(l, &p.io, EPOLLIN), 0);
    close(fds[0]);
    lg_loop_forget(l, &p.io);
    CHECK_INT(pipe(fds), 0);
    p.io.fd = fds[0];
    CHECK_INT(lg_loop_watch(l, &p.io, EPOLLIN), 0);
    CHECK_INT(write(fds[1], "y", 1), 1);
    CHECK_INT(lg_loop_run_once(l, cm_clock_mono_ns() + 1000 * CM_NS_PER_MS), 1);
    CHECK_INT(p.calls, 2);
    close(fds[0]);
    close(fds[1]);
    lg_loop_free(l);
    lg_loop_free(NULL);
    return TEST_REPORT();
}
