/* delay_server.c: an HTTP/1.1 keep-alive test server on 127.0.0.1 whose
 * response delay is known, to check loadgen's latency measurement.
 *   delay_server --port-file F --ttl SECONDS --mode MODE
 *   MODE fixed:MS          every response after MS milliseconds
 *        bimodal:A:B:N     every N-th request (per server) after B ms, the rest after A ms
 *        stall:MS:PERIOD   immediate responses, but the whole process stalls
 *                          (no accept, read or write) for MS ms every PERIOD ms,
 *                          starting PERIOD - MS after start
 * One thread, epoll, ns timeouts (epoll_pwait2). Exits after TTL seconds.
 * Not a general HTTP server: requests are header blocks, with an optional
 * Content-Length body; one response per request, in order. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONN    4096
#define MAX_PENDING 64
#define BUF_SIZE    65536

struct conn {
    int fd;
    char buf[BUF_SIZE];
    size_t len;
    int64_t due[MAX_PENDING]; /* response times, FIFO */
    int head, n;
};

static struct conn *conns[MAX_CONN];
static int64_t stall_ms, period_ms, fast_ms, slow_ms, every_n;
static int mode; /* 0 fixed, 1 bimodal, 2 stall */
static uint64_t nreq;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t delay_ns(void)
{
    nreq++;
    if (mode == 0)
        return fast_ms * 1000000LL;
    if (mode == 1)
        return (nreq % (uint64_t)every_n == 0 ? slow_ms : fast_ms) * 1000000LL;
    return 0;
}

static void close_conn(int ep, struct conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    conns[c->fd] = NULL;
    free(c);
}

/* Consumes complete requests from c->buf, queueing one response each. */
static void parse(struct conn *c, int64_t now)
{
    for (;;) {
        char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (!end)
            return;
        size_t hdr = (size_t)(end - c->buf) + 4, body = 0;
        char *cl = memmem(c->buf, hdr, "Content-Length:", 15);
        if (!cl)
            cl = memmem(c->buf, hdr, "content-length:", 15);
        if (cl)
            body = (size_t)strtoul(cl + 15, NULL, 10);
        if (hdr + body > c->len)
            return;
        memmove(c->buf, c->buf + hdr + body, c->len - hdr - body);
        c->len -= hdr + body;
        if (c->n < MAX_PENDING) {
            c->due[(c->head + c->n) % MAX_PENDING] = now + delay_ns();
            c->n++;
        }
    }
}

static int send_due(struct conn *c, int64_t now)
{
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                               "Content-Length: 11\r\n\r\n{\"ok\":true}";
    while (c->n && c->due[c->head] <= now) {
        if (write(c->fd, resp, sizeof(resp) - 1) != (ssize_t)(sizeof(resp) - 1))
            return -1;
        c->head = (c->head + 1) % MAX_PENDING;
        c->n--;
    }
    return 0;
}

static void stall_if_due(int64_t start)
{
    if (mode != 2)
        return;
    int64_t t_ms = (now_ns() - start) / 1000000LL;
    int64_t phase = t_ms % period_ms;
    if (phase >= period_ms - stall_ms) {
        int64_t left = period_ms - phase;
        struct timespec ts = {(time_t)(left / 1000), (long)(left % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
}

static int parse_mode(const char *m)
{
    if (sscanf(m, "fixed:%" SCNd64 "", &fast_ms) == 1) {
        mode = 0;
        return 0;
    }
    if (sscanf(m, "bimodal:%" SCNd64 ":%" SCNd64 ":%" SCNd64 "", &fast_ms, &slow_ms, &every_n) ==
            3 &&
        every_n > 0) {
        mode = 1;
        return 0;
    }
    if (sscanf(m, "stall:%" SCNd64 ":%" SCNd64 "", &stall_ms, &period_ms) == 2 &&
        period_ms > stall_ms) {
        mode = 2;
        return 0;
    }
    return -1;
}

int main(int argc, char **argv)
{
    const char *port_file = NULL, *m = "fixed:0";
    long ttl = 60;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port-file"))
            port_file = argv[i + 1];
        else if (!strcmp(argv[i], "--ttl"))
            ttl = strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--mode"))
            m = argv[i + 1];
    }
    if (!port_file || parse_mode(m)) {
        fprintf(stderr, "usage: delay_server --port-file F --ttl S --mode "
                        "fixed:MS|bimodal:A:B:N|stall:MS:PERIOD\n");
        return 2;
    }
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    if (bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 1024) ||
        getsockname(ls, (struct sockaddr *)&a, &al)) {
        perror("listen");
        return 1;
    }
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return 1;
    fprintf(f, "%d\n", ntohs(a.sin_port));
    fclose(f);
    rename(tmp, port_file);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    int64_t start = now_ns(), end = start + ttl * 1000000000LL;
    while (now_ns() < end) {
        stall_if_due(start);
        int64_t now = now_ns(), next = now + 100000000LL;
        for (int i = 0; i < MAX_CONN; i++)
            if (conns[i] && conns[i]->n) {
                if (send_due(conns[i], now)) {
                    close_conn(ep, conns[i]);
                    continue;
                }
                if (conns[i]->n && conns[i]->due[conns[i]->head] < next)
                    next = conns[i]->due[conns[i]->head];
            }
        if (mode == 2) { /* wake for the next stall window too */
            int64_t t_ms = (now - start) / 1000000LL;
            int64_t to = (period_ms - stall_ms) - t_ms % period_ms;
            if (to > 0 && now + to * 1000000LL < next)
                next = now + to * 1000000LL;
        }
        int64_t d = next - now_ns();
        if (d < 0)
            d = 0;
        struct timespec ts = {(time_t)(d / 1000000000LL), (long)(d % 1000000000LL)};
        struct epoll_event evs[128];
        int n = epoll_pwait2(ep, evs, 128, &ts, NULL);
        now = now_ns();
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                int c;
                while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (c >= MAX_CONN) {
                        close(c);
                        continue;
                    }
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    conns[c] = calloc(1, sizeof(struct conn));
                    conns[c]->fd = c;
                    struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                }
                continue;
            }
            struct conn *c = conns[fd];
            if (!c)
                continue;
            ssize_t k = read(fd, c->buf + c->len, BUF_SIZE - c->len);
            if (k <= 0 && !(k < 0 && errno == EAGAIN)) {
                close_conn(ep, c);
                continue;
            }
            if (k > 0) {
                c->len += (size_t)k;
                parse(c, now);
                if (send_due(c, now))
                    close_conn(ep, c);
            }
        }
    }
    return 0;
}
