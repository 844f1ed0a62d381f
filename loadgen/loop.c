/* loop.c: see loop.h. epoll with data.ptr pointing at the lg_io; tickers in
 * a short array scanned linearly (a handful per worker). */
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "cm/clock.h"
#include "cm/err.h"
#include "cm/mem.h"

#define LOOP_EVENTS 256

struct lg_loop {
    int epfd;
    struct lg_tick *ticks[LG_LOOP_MAX_TICKS];
    int nticks;
};

int lg_loop_new(struct lg_loop **out)
{
    struct lg_loop *l = cm_xcalloc(1, sizeof(*l));
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        free(l);
        *out = NULL;
        return CM_EIO;
    }
    *out = l;
    return 0;
}

void lg_loop_free(struct lg_loop *l)
{
    if (!l)
        return;
    close(l->epfd);
    free(l);
}

int lg_loop_fd(const struct lg_loop *l)
{
    return l->epfd;
}

int lg_loop_watch(struct lg_loop *l, struct lg_io *io, uint32_t events)
{
    if (io->events == events)
        return 0;
    struct epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.events = events;
    ev.data.ptr = io;
    int op = !events ? EPOLL_CTL_DEL : io->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    int rc = epoll_ctl(l->epfd, op, io->fd, &ev);
    if (rc != 0 && op != EPOLL_CTL_DEL) {
        /* our record and the kernel's disagree (an fd number reused after a
         * close we were not told about): take the kernel's view */
        if (errno == ENOENT)
            rc = epoll_ctl(l->epfd, EPOLL_CTL_ADD, io->fd, &ev);
        else if (errno == EEXIST)
            rc = epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev);
    }
    io->events = events;
    if (rc != 0 && op == EPOLL_CTL_DEL)
        rc = 0; /* already gone (closed): nothing to undo */
    return rc == 0 ? 0 : CM_EIO;
}

void lg_loop_forget(struct lg_loop *l, struct lg_io *io)
{
    (void)l;
    io->events = 0;
}

int lg_loop_add_tick(struct lg_loop *l, struct lg_tick *t)
{
    if (l->nticks == LG_LOOP_MAX_TICKS)
        return CM_ETOOBIG;
    l->ticks[l->nticks++] = t;
    return 0;
}

void lg_loop_del_tick(struct lg_loop *l, struct lg_tick *t)
{
    for (int i = 0; i < l->nticks; i++)
        if (l->ticks[i] == t) {
            l->ticks[i] = l->ticks[--l->nticks];
            return;
        }
}

int64_t lg_loop_next_tick(const struct lg_loop *l)
{
    int64_t m = INT64_MAX;
    for (int i = 0; i < l->nticks; i++)
        if (l->ticks[i]->at < m)
            m = l->ticks[i]->at;
    return m;
}

static void run_ticks(struct lg_loop *l, int64_t now)
{
    /* a ticker may delete itself (swap with the last): walk backwards */
    for (int i = l->nticks - 1; i >= 0; i--) {
        if (i >= l->nticks)
            continue;
        struct lg_tick *t = l->ticks[i];
        if (t->at <= now) {
            t->at = INT64_MAX;
            t->fn(t, now);
        }
    }
}

int lg_loop_run_once(struct lg_loop *l, int64_t deadline_ns)
{
    struct epoll_event evs[LOOP_EVENTS];
    int64_t now = cm_clock_mono_ns();
    run_ticks(l, now);
    int64_t wake = lg_loop_next_tick(l);
    if (deadline_ns < wake)
        wake = deadline_ns;
    now = cm_clock_mono_ns();
    int64_t d = wake > now ? wake - now : 0;
    struct timespec ts = {(time_t)(d / CM_NS_PER_S), (long)(d % CM_NS_PER_S)};
    int n = epoll_pwait2(l->epfd, evs, LOOP_EVENTS, &ts, NULL);
    if (n < 0)
        return errno == EINTR ? 0 : CM_EIO;
    now = cm_clock_mono_ns();
    for (int i = 0; i < n; i++) {
        struct lg_io *io = evs[i].data.ptr;
        io->fn(io, evs[i].events, now);
    }
    run_ticks(l, cm_clock_mono_ns());
    return n;
}
