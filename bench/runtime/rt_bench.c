/* rt_bench: cold start and per-invocation overhead of a function built on the
 * rt_ runtime, measured against a minimal Runtime API written here (one
 * socket, hand-written HTTP/1.1 answers), so the numbers are the function's,
 * not a test server's.
 *   cold: time from posix_spawn() of the bootstrap to its first
 *         GET /2018-06-01/runtime/invocation/next arriving (process start,
 *         dynamic linking, libcurl init, function init, connect); the
 *         baseline row is spawn-to-exit of /bin/true on the same machine.
 *   warm: round trips /next -> handler -> POST /response on the keep-alive
 *         connection, per invocation, with an API Gateway v2 event and the
 *         function's log line and EMF document going to /dev/null.
 * usage: rt_bench BOOTSTRAP [COLD_RUNS [WARM_INVOCATIONS]] */
#include "cm/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define IO_TIMEOUT_MS 10000

static const char event[] =
    "{\"version\":\"2.0\",\"routeKey\":\"$default\",\"rawPath\":\"/hello\",\"rawQueryString\":"
    "\"\",\"headers\":{\"x-correlation-id\":\"0193a1b2-7c00-7abc-8def-0123456789ab\"},"
    "\"requestContext\":{\"http\":{\"method\":\"GET\",\"path\":\"/hello\"},\"requestId\":\"b\","
    "\"routeKey\":\"$default\",\"stage\":\"$default\"},\"isBase64Encoded\":false}";

static int listen_any(int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("rt_bench: listen");
        exit(1);
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static int wait_fd(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, IO_TIMEOUT_MS) == 1 ? 0 : -1;
}

/* Reads one request (headers + Content-Length body) into buf; -1 on EOF,
 * timeout or an oversized request. *have carries bytes of the next,
 * pipelined request (the runtime sends GET /next right behind its POST). */
static int read_request(int fd, char *buf, size_t cap, size_t *have)
{
    size_t len = *have;
    for (;;) {
        char *end = len ? memmem(buf, len, "\r\n\r\n", 4) : NULL;
        if (end) {
            size_t head = (size_t)(end - buf) + 4, body = 0;
            for (char *h = buf; h < end; h = strstr(h, "\r\n") + 2)
                if (strncasecmp(h, "content-length:", 15) == 0)
                    body = (size_t)strtoul(h + 15, NULL, 10);
            if (len >= head + body) {
                *have = len - head - body;
                memmove(buf, buf + head + body, *have);
                return 0;
            }
        }
        if (len + 1 >= cap || wait_fd(fd) != 0)
            return -1;
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r <= 0)
            return -1;
        len += (size_t)r;
        buf[len] = '\0';
    }
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* port > 0: the function's environment; port 0: the caller's; port -1:
 * the function's without AWS_LAMBDA_RUNTIME_API (it loads, then exits 2). */
static pid_t spawn(const char *path, int port)
{
    char api[64];
    snprintf(api, sizeof api, "AWS_LAMBDA_RUNTIME_API=127.0.0.1:%d", port);
    char *envp[] = {"AWS_LAMBDA_FUNCTION_NAME=hello", "PATH=/usr/bin:/bin", api, NULL};
    if (port < 0)
        envp[2] = NULL;
    char *argv[] = {(char *)path, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, path, &fa, NULL, argv, port ? envp : environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, "rt_bench: spawn %s: %s\n", path, strerror(rc));
        exit(1);
    }
    return pid;
}

/* utime + stime of a live process, in seconds (clock ticks of /proc). */
static double cpu_seconds(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* fields after the command name */
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, int64_t *ns, int n)
{
    qsort(ns, (size_t)n, sizeof *ns, cmp_i64);
    printf("%-34s n=%-5d min %7.2f  p50 %7.2f  p90 %7.2f  max %7.2f ms\n", what, n, ns[0] / 1e6,
           ns[n / 2] / 1e6, ns[n * 9 / 10] / 1e6, ns[n - 1] / 1e6);
}

static void cold(const char *bootstrap, int lfd, int port, int runs)
{
    int64_t *t = calloc((size_t)runs, sizeof *t), *base = calloc((size_t)runs, sizeof *base);
    int64_t *load = calloc((size_t)runs, sizeof *load);
    char buf[4096];
    int ok = 0;
    for (int i = 0; i < runs; i++) {
        int64_t t0 = cm_clock_mono_ns();
        pid_t pid = spawn("/bin/true", 0);
        waitpid(pid, NULL, 0);
        base[i] = cm_clock_mono_ns() - t0;
        t0 = cm_clock_mono_ns();
        pid = spawn(bootstrap, -1);
        waitpid(pid, NULL, 0);
        load[i] = cm_clock_mono_ns() - t0;
        t0 = cm_clock_mono_ns();
        pid = spawn(bootstrap, port);
        int c = wait_fd(lfd) == 0 ? accept(lfd, NULL, NULL) : -1;
        size_t have = 0;
        if (c >= 0 && read_request(c, buf, sizeof buf, &have) == 0)
            t[ok++] = cm_clock_mono_ns() - t0;
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (c >= 0)
            close(c);
    }
    report("baseline: spawn /bin/true to exit", base, runs);
    report("bootstrap load+exit (no API var)", load, runs);
    if (ok)
        report("cold: spawn to first /next", t, ok);
    free(t);
    free(base);
    free(load);
}

static void warm(const char *bootstrap, int lfd, int port, int n)
{
    char req[16384], head[256];
    pid_t pid = spawn(bootstrap, port);
    int c = wait_fd(lfd) == 0 ? accept(lfd, NULL, NULL) : -1;
    int one = 1, done = 0;
    size_t have = 0;
    if (c >= 0)
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int64_t t0 = cm_clock_mono_ns();
    for (; c >= 0 && done < n; done++) {
        if (read_request(c, req, sizeof req, &have) != 0) /* GET /next */
            break;
        int hl = snprintf(head, sizeof head,
                          "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r-%d\r\n"
                          "Lambda-Runtime-Deadline-Ms: 9999999999999\r\nContent-Type: "
                          "application/json\r\nContent-Length: %zu\r\n\r\n",
                          done, sizeof event - 1);
        static const char ok202[] = "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
                                    "Content-Length: 15\r\n\r\n{\"status\":\"OK\"}";
        if (write_all(c, head, (size_t)hl) || write_all(c, event, sizeof event - 1) ||
            read_request(c, req, sizeof req, &have) != 0 || /* POST /response */
            write_all(c, ok202, sizeof ok202 - 1))
            break;
    }
    int64_t el = cm_clock_mono_ns() - t0;
    double cpu = cpu_seconds(pid);
    if (done)
        printf("warm: %d invocations, %.1f us per /next+handler+/response round trip "
               "(%.0f invocations/s); function CPU %.1f us per invocation\n",
               done, el / 1e3 / done, done / (el / 1e9), cpu * 1e6 / done);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    if (c >= 0)
        close(c);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: rt_bench BOOTSTRAP [COLD_RUNS [WARM_INVOCATIONS]]\n");
        return 2;
    }
    int runs = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 50;
    int n = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 20000;
    if (runs < 1 || n < 1) {
        fprintf(stderr, "rt_bench: COLD_RUNS and WARM_INVOCATIONS must be positive\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int port, lfd = listen_any(&port);
    cold(argv[1], lfd, port, runs);
    warm(argv[1], lfd, port, n);
    close(lfd);
    return 0;
}
