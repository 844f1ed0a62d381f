/* runtime.c: the Lambda Runtime API client loop (API version 2018-06-01).
 * Speaks HTTP/1.1 over one keep-alive TCP connection to
 * $AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/...:
 *   GET  invocation/next            -> 200, body = event, headers
 *        Lambda-Runtime-Aws-Request-Id, -Deadline-Ms (epoch ms),
 *        -Invoked-Function-Arn, -Trace-Id, -Client-Context, -Cognito-Identity
 *   POST invocation/{id}/response   -> 202 (body = function result)
 *   POST invocation/{id}/error      -> 202 (body = error JSON, header
 *        Lambda-Runtime-Function-Error-Type)
 *   POST init/error                 -> 202, then the process exits
 * /next has no timeout: the sandbox may be frozen while it waits. A 500 from
 * the Runtime API means the environment is broken: exit promptly. It is not
 * a response-streaming runtime (no Lambda-Runtime-Function-Response-Mode).
 *
 * The client is a small blocking HTTP/1.1 client of its own, not libcurl
 * (which functions still use for every other HTTP call): the Runtime API is
 * a loopback peer with four fixed requests, and libcurl spent ~9 poll()
 * calls per invocation around its 4 socket calls (strace; see
 * docs/bench-stackd.md). After a result POST the next GET /next goes out in
 * the same sendmsg() (HTTP/1.1 pipelining; servers answer in order), so a
 * warm invocation costs the function one send and two recv. It reads
 * Content-Length, chunked and until-close bodies, and reconnects after
 * "Connection: close" or a broken connection. */
#include "rt.h"

#include "cm/clock.h"
#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"
#include "rt_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define RT_API_PATH      "/2018-06-01/runtime/"
#define RT_NEXT_RETRIES  3     /* consecutive failed /next calls before exiting */
#define RT_POST_BODY_MAX 65536 /* Runtime API answers to our POSTs, kept for logs */
#define RT_EXIT_INIT     1
#define RT_EXIT_CONFIG   2
#define RT_EXIT_API_GONE 3

/* Headers of one /next response; bounded copies (longer values are cut,
 * which only the opaque JSON contexts could ever hit). */
struct rt_next {
    char request_id[256];
    char deadline_ms[32];
    char function_arn[512];
    char trace_id[1024];
    char client_context[8192];
    char cognito_identity[4096];
    struct cm_buf body;
};

struct rt_client {
    int fd;         /* -1 while not connected */
    int next_sent;  /* a GET /next is already on the wire behind a POST */
    char host[256]; /* name or address, without IPv6 brackets */
    char port[16];
    char hostport[300]; /* Host header: what AWS_LAMBDA_RUNTIME_API names */
    char base[1024];    /* path prefix + RT_API_PATH */
    char url[1536];     /* http://hostport/base/what, for messages */
    struct cm_buf in;   /* bytes received, from in_pos on not consumed yet */
    size_t in_pos;
    struct cm_buf head;  /* request line and headers being sent */
    struct cm_buf reply; /* body of the Runtime API's answer to a POST */
};

struct rt_state {
    const struct rt_function *fn;
    const char *name, *service, *ns;
    struct rt_client client;
    struct rt_next next;
    struct cm_buf response;
    struct rt_metrics *metrics;
    int cold;
};

static void copy_value(char *dst, size_t cap, const char *v, size_t n)
{
    while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

/* One header line "Name: value" (without CRLF) of a /next answer. */
static void next_header(struct rt_next *nx, const char *p, size_t n)
{
    static const struct {
        const char *name;
        size_t off, cap;
    } map[] = {
        {"lambda-runtime-aws-request-id", offsetof(struct rt_next, request_id), 256},
        {"lambda-runtime-deadline-ms", offsetof(struct rt_next, deadline_ms), 32},
        {"lambda-runtime-invoked-function-arn", offsetof(struct rt_next, function_arn), 512},
        {"lambda-runtime-trace-id", offsetof(struct rt_next, trace_id), 1024},
        {"lambda-runtime-client-context", offsetof(struct rt_next, client_context), 8192},
        {"lambda-runtime-cognito-identity", offsetof(struct rt_next, cognito_identity), 4096},
    };
    const char *colon = memchr(p, ':', n);
    if (!colon)
        return;
    size_t name_len = (size_t)(colon - p);
    const char *v = colon + 1;
    while (v < p + n && (*v == ' ' || *v == '\t'))
        v++;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strlen(map[i].name) == name_len && strncasecmp(p, map[i].name, name_len) == 0) {
            copy_value((char *)nx + map[i].off, map[i].cap, v, (size_t)(p + n - v));
            break;
        }
    }
}

/* "host:port[/prefix]" or "[v6]:port[/prefix]". */
static int client_init(struct rt_client *c, const char *api)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    cm_buf_init(&c->in, RT_MAX_EVENT_BYTES + ((size_t)256 << 10));
    cm_buf_init(&c->head, (size_t)64 << 10);
    cm_buf_init(&c->reply, RT_POST_BODY_MAX);
    if (strpbrk(api, " \t\r\n"))
        return CM_EINVAL;
    const char *slash = strchr(api, '/');
    size_t hp_len = slash ? (size_t)(slash - api) : strlen(api);
    const char *prefix = slash ? slash : "";
    if (hp_len == 0 || hp_len >= sizeof c->hostport)
        return CM_EINVAL;
    memcpy(c->hostport, api, hp_len);
    c->hostport[hp_len] = '\0';
    size_t need = (size_t)snprintf(c->base, sizeof c->base, "%s%s", prefix, RT_API_PATH);
    if (need >= sizeof c->base)
        return CM_EINVAL;
    const char *h = c->hostport, *port = NULL;
    size_t h_len;
    if (*h == '[') {
        const char *rb = strchr(h, ']');
        if (!rb)
            return CM_EINVAL;
        h++;
        h_len = (size_t)(rb - h);
        if (rb[1] == ':')
            port = rb + 2;
        else if (rb[1])
            return CM_EINVAL;
    } else {
        const char *colon = strrchr(h, ':');
        h_len = colon ? (size_t)(colon - h) : hp_len;
        port = colon ? colon + 1 : NULL;
    }
    if (h_len == 0 || h_len >= sizeof c->host)
        return CM_EINVAL;
    memcpy(c->host, h, h_len);
    c->host[h_len] = '\0';
    if (!port)
        port = "80";
    if (!*port || strlen(port) >= sizeof c->port || strspn(port, "0123456789") != strlen(port))
        return CM_EINVAL;
    cm_strlcpy(c->port, port, sizeof c->port);
    return 0;
}

static void client_close(struct rt_client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->next_sent = 0;
    cm_buf_reset(&c->in);
    c->in_pos = 0;
}

static void client_deinit(struct rt_client *c)
{
    client_close(c);
    cm_buf_deinit(&c->in);
    cm_buf_deinit(&c->head);
    cm_buf_deinit(&c->reply);
}

/* Connects with a 1 s limit, then leaves the socket blocking. */
static int connect_one(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int err = 0;
        socklen_t len = sizeof err;
        if (errno != EINPROGRESS || poll(&p, 1, 1000) != 1 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
            close(fd);
            return -1;
        }
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int client_connect(struct rt_client *c)
{
    if (c->fd >= 0)
        return 0;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int gai = getaddrinfo(c->host, c->port, &hints, &res);
    if (gai != 0) {
        rt_log(CM_LOG_ERROR, "runtime: cannot resolve %s: %s", c->host, gai_strerror(gai));
        return CM_ECONN;
    }
    for (const struct addrinfo *ai = res; ai && c->fd < 0; ai = ai->ai_next)
        c->fd = connect_one(ai);
    freeaddrinfo(res);
    if (c->fd < 0) {
        rt_log(CM_LOG_ERROR, "runtime: cannot connect to %s: %s", c->hostport, strerror(errno));
        return CM_ECONN;
    }
    return 0;
}

/* Sends every byte of iov[0..n); 0 or CM_ECONN. */
static int send_iov(struct rt_client *c, struct iovec *iov, int n)
{
    while (n > 0) {
        struct msghdr m;
        memset(&m, 0, sizeof m);
        m.msg_iov = iov;
        m.msg_iovlen = (size_t)n;
        ssize_t w = sendmsg(c->fd, &m, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return CM_ECONN;
        size_t left = (size_t)w;
        while (n > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return 0;
}

/* Receives more bytes into c->in (blocking). 0, or CM_ECONN on EOF/error,
 * CM_ETOOBIG when the buffer is full. */
static int recv_more(struct rt_client *c)
{
    if (c->in_pos > 0) { /* keep only the unread bytes */
        memmove(c->in.data, c->in.data + c->in_pos, c->in.len - c->in_pos);
        c->in.len -= c->in_pos;
        c->in_pos = 0;
    }
    if (cm_buf_reserve(&c->in, 65536) < 0)
        return CM_ETOOBIG;
    for (;;) {
        ssize_t r = recv(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return CM_ECONN;
        c->in.len += (size_t)r;
        c->in.data[c->in.len] = '\0';
        return 0;
    }
}

/* Makes at least n unread bytes available. */
static int need_bytes(struct rt_client *c, size_t n)
{
    while (c->in.len - c->in_pos < n) {
        if (c->in.len + (n - (c->in.len - c->in_pos)) > c->in.max)
            return CM_ETOOBIG;
        int rc = recv_more(c);
        if (rc)
            return rc;
    }
    return 0;
}

/* Position of the next CRLF at or after c->in_pos, receiving up to max bytes. */
static int find_crlf(struct rt_client *c, const char *delim, size_t max, size_t *at)
{
    size_t scanned = c->in_pos;
    for (;;) {
        const char *hit = strstr(c->in.data ? c->in.data + scanned : "", delim);
        if (hit) {
            *at = (size_t)(hit - c->in.data);
            return 0;
        }
        if (c->in.len - c->in_pos > max)
            return CM_EPARSE;
        size_t keep = c->in.len - c->in_pos;
        size_t back = keep < 3 ? keep : 3; /* a delimiter split across reads */
        int rc = recv_more(c);
        if (rc)
            return rc;
        scanned = c->in_pos + keep - back;
    }
}

/* Appends len bytes of c->in at in_pos to body (dropped when full and
 * truncate is set) and consumes them. */
static int take_body(struct rt_client *c, struct cm_buf *body, size_t len, int truncate)
{
    int rc = cm_buf_append(body, c->in.data + c->in_pos, len);
    c->in_pos += len;
    return rc < 0 && !truncate ? CM_ETOOBIG : 0;
}

/* Reads one response: its status (>= 200) or a negative cm_err after which
 * the connection is closed. Headers of interest go to nx (may be NULL). */
static long read_response(struct rt_client *c, struct rt_next *nx, struct cm_buf *body,
                          int truncate)
{
    size_t end;
    long status = 0;
    int rc;
    int chunked, close_after, have_len;
    unsigned long long clen;
    do {
        if ((rc = find_crlf(c, "\r\n\r\n", 65536, &end)) != 0)
            goto fail;
        const char *p = c->in.data + c->in_pos, *e = c->in.data + end;
        if (e - p < 12 || strncmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' || p[9] < '1' ||
            p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9') {
            rc = CM_EPARSE;
            goto fail;
        }
        status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
        close_after = p[7] == '0';
        chunked = have_len = 0;
        clen = 0;
        const char *line = (const char *)memchr(p, '\n', (size_t)(e - p) + 2) + 1;
        while (line < e) {
            const char *nl = memchr(line, '\r', (size_t)(e - line) + 1);
            size_t n = (size_t)(nl - line);
            if (nx)
                next_header(nx, line, n);
            if (n > 15 && strncasecmp(line, "content-length:", 15) == 0) {
                char *stop;
                errno = 0;
                clen = strtoull(line + 15, &stop, 10);
                have_len = errno == 0 && stop > line + 15;
            } else if (n > 18 && strncasecmp(line, "transfer-encoding:", 18) == 0) {
                chunked = memmem(line, n, "chunked", 7) != NULL;
            } else if (n > 11 && strncasecmp(line, "connection:", 11) == 0) {
                if (memmem(line, n, "close", 5))
                    close_after = 1;
            }
            line = nl + 2;
        }
        c->in_pos = end + 4;
    } while (status < 200); /* 1xx interim answers have no body */
    if (chunked) {
        for (;;) {
            if ((rc = find_crlf(c, "\r\n", 1024, &end)) != 0)
                goto fail;
            char *stop;
            unsigned long long n = strtoull(c->in.data + c->in_pos, &stop, 16);
            if (stop == c->in.data + c->in_pos || n > c->in.max) {
                rc = CM_EPARSE;
                goto fail;
            }
            c->in_pos = end + 2;
            if (n == 0) {
                for (;;) { /* trailers up to the empty line */
                    if ((rc = find_crlf(c, "\r\n", 8192, &end)) != 0)
                        goto fail;
                    int empty = end == c->in_pos;
                    c->in_pos = end + 2;
                    if (empty)
                        break;
                }
                break;
            }
            if ((rc = need_bytes(c, (size_t)n + 2)) != 0 ||
                (rc = take_body(c, body, (size_t)n, truncate)) != 0)
                goto fail;
            c->in_pos += 2;
        }
    } else if (have_len) {
        if (clen > c->in.max) {
            rc = CM_ETOOBIG;
            goto fail;
        }
        if ((rc = need_bytes(c, (size_t)clen)) != 0 ||
            (rc = take_body(c, body, (size_t)clen, truncate)) != 0)
            goto fail;
    } else { /* no length: the body ends with the connection */
        while ((rc = recv_more(c)) == 0) {
        }
        if (rc != CM_ECONN || (rc = take_body(c, body, c->in.len - c->in_pos, truncate)) != 0)
            goto fail;
        close_after = 1;
    }
    if (close_after)
        client_close(c);
    return status;
fail:
    client_close(c);
    return rc;
}

static void head_request(struct rt_client *c, const char *method, const char *what)
{
    cm_buf_printf(&c->head, "%s %s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: loadgen-rt/1\r\n", method,
                  c->base, what, c->hostport);
}

/* The id becomes a path segment of our POSTs: UUIDs and the like only. */
static int valid_request_id(const char *id)
{
    if (!*id)
        return 0;
    for (; *id; id++)
        if (!((*id >= 'a' && *id <= 'z') || (*id >= 'A' && *id <= 'Z') ||
              (*id >= '0' && *id <= '9') || *id == '-' || *id == '_' || *id == '.' || *id == ':'))
            return 0;
    return 1;
}

/* GET /next (unless already pipelined). Returns 0 with nx filled, CM_EAGAIN
 * for a failure worth a retry (transport error, unexpected status, no request
 * id), CM_EIO for a 500. */
static int client_next(struct rt_client *c, struct rt_next *nx)
{
    memset(nx, 0, offsetof(struct rt_next, body));
    cm_buf_reset(&nx->body);
    snprintf(c->url, sizeof c->url, "http://%s%sinvocation/next", c->hostport, c->base);
    int rc = 0;
    if (!c->next_sent) {
        if ((rc = client_connect(c)) == 0) {
            cm_buf_reset(&c->head);
            head_request(c, "GET", "invocation/next");
            cm_buf_puts(&c->head, "\r\n");
            struct iovec iov[1] = {{c->head.data, c->head.len}};
            rc = send_iov(c, iov, 1);
        }
    }
    c->next_sent = 0;
    long status = rc ? rc : read_response(c, nx, &nx->body, 0);
    if (status < 0) {
        client_close(c);
        rt_log(CM_LOG_ERROR, "runtime: GET %s failed: %s", c->url, cm_strerror((int)status));
        return CM_EAGAIN;
    }
    if (status == 500) {
        rt_log(CM_LOG_ERROR, "runtime: GET %s: 500 from the Runtime API, exiting", c->url);
        return CM_EIO;
    }
    if (status != 200 || !valid_request_id(nx->request_id)) {
        rt_log(CM_LOG_ERROR, "runtime: GET %s: status %ld%s", c->url, status,
               valid_request_id(nx->request_id)
                   ? ""
                   : ", missing or unusable Lambda-Runtime-Aws-Request-Id");
        return CM_EAGAIN;
    }
    return 0;
}

/* POST body to base + path. error_type != NULL adds the error-type header;
 * then_next pipelines GET /next behind it. Returns the HTTP status, or a
 * negative cm_err on transport failure. */
static long client_post(struct rt_client *c, const char *path, const char *body, size_t len,
                        const char *error_type, int then_next)
{
    snprintf(c->url, sizeof c->url, "http://%s%s%s", c->hostport, c->base, path);
    cm_buf_reset(&c->reply);
    int rc = client_connect(c);
    if (rc == 0) {
        cm_buf_reset(&c->head);
        head_request(c, "POST", path);
        cm_buf_printf(&c->head, "Content-Type: application/json\r\nContent-Length: %zu\r\n", len);
        if (error_type)
            cm_buf_printf(&c->head, "Lambda-Runtime-Function-Error-Type: %s\r\n", error_type);
        cm_buf_puts(&c->head, "\r\n");
        size_t post_len = c->head.len;
        if (then_next) {
            head_request(c, "GET", "invocation/next");
            cm_buf_puts(&c->head, "\r\n");
        }
        struct iovec iov[3] = {{c->head.data, post_len},
                               {(void *)(body ? body : ""), len},
                               {c->head.data + post_len, c->head.len - post_len}};
        rc = send_iov(c, iov, then_next ? 3 : 2);
    }
    long status = rc ? rc : read_response(c, NULL, &c->reply, 1);
    if (status < 0) {
        client_close(c);
        rt_log(CM_LOG_ERROR, "runtime: POST %s failed: %s", c->url, cm_strerror((int)status));
        return CM_ECONN;
    }
    c->next_sent = then_next && c->fd >= 0; /* a closed connection lost the GET */
    if (status != 202)
        rt_log(CM_LOG_ERROR, "runtime: POST %s: status %ld: %.512s", c->url, status,
               cm_buf_cstr(&c->reply));
    return status;
}

static long post_error(struct rt_client *c, const char *path, const struct rt_error *err,
                       const char *fallback_type, int then_next)
{
    struct cm_buf body;
    cm_buf_init(&body, 0);
    rt_error_body(err, &body);
    long status = client_post(c, path, body.data, body.len,
                              rt_error_header_type(err, fallback_type), then_next);
    cm_buf_deinit(&body);
    return status;
}

static const char *env_or(const char *set, const char *var, const char *fallback)
{
    if (set && *set)
        return set;
    const char *v = getenv(var);
    return v && *v ? v : fallback;
}

int64_t rt_remaining_ms_at(const struct rt_invocation *inv, int64_t now_ms)
{
    if (!inv || inv->deadline_ms <= 0)
        return INT64_MAX;
    return inv->deadline_ms - now_ms;
}

int64_t rt_remaining_ms(const struct rt_invocation *inv)
{
    return rt_remaining_ms_at(inv, cm_clock_wall_ns() / CM_NS_PER_MS);
}

static int64_t parse_deadline(const char *s)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0)
        return 0;
    return (int64_t)v;
}

/* The runtime's own error for a handler that failed without saying why. */
static void default_error(struct rt_error *err, int rc)
{
    if (!err->type[0])
        cm_strlcpy(err->type, "Runtime.HandlerError", sizeof err->type);
    if (!err->message[0])
        snprintf(err->message, sizeof err->message, "handler failed: %s", cm_strerror(rc));
}

static void write_cold_start(struct rt_state *st)
{
    struct cm_buf doc;
    cm_buf_init(&doc, 0);
    if (rt_metrics_cold_start_doc(st->ns, st->name, st->service, cm_clock_wall_ns() / CM_NS_PER_MS,
                                  &doc) == 0)
        rt_write_all(rt_log_fd(), doc.data, doc.len);
    cm_buf_deinit(&doc);
}

static void prepare_metrics(struct rt_state *st, const struct rt_invocation *inv)
{
    rt_metrics_reset(st->metrics);
    rt_metrics_add_dimension(st->metrics, "service", st->service);
    rt_metrics_set_property(st->metrics, "requestId", inv->request_id);
    if (*inv->correlation_id)
        rt_metrics_set_property(st->metrics, "correlationId", inv->correlation_id);
}

/* Calls the handler and posts its outcome. Returns the POST's HTTP status
 * or a negative cm_err. */
static long invoke(struct rt_state *st, const struct rt_invocation *inv, const char *event,
                   size_t len)
{
    struct rt_error err = {{0}, {0}};
    char path[512];
    cm_buf_reset(&st->response);
    int rc = st->fn->handler(inv, event, len, &st->response, &err);
    rt_metrics_flush_fd(st->metrics);
    if (rc == 0 && st->response.len > RT_MAX_RESPONSE_BYTES) {
        rt_error_set(&err, "Function.ResponseSizeTooLarge",
                     "Response payload size (%zu bytes) exceeded maximum allowed payload size "
                     "(%zu bytes).",
                     st->response.len, RT_MAX_RESPONSE_BYTES);
        rc = CM_ETOOBIG;
    }
    if (rc == 0) {
        snprintf(path, sizeof path, "invocation/%s/response", inv->request_id);
        return client_post(&st->client, path, st->response.data, st->response.len, NULL, 1);
    }
    default_error(&err, rc);
    struct rt_log_field f[] = {{"errorType", err.type, 0}, {"errorMessage", err.message, 0}};
    rt_log_fields(CM_LOG_ERROR, f, 2, "invocation failed");
    snprintf(path, sizeof path, "invocation/%s/error", inv->request_id);
    return post_error(&st->client, path, &err, "Function.Unhandled", 1);
}

static long run_one(struct rt_state *st)
{
    struct rt_next *nx = &st->next;
    char corr[RT_CORR_ID_MAX];
    if (nx->trace_id[0])
        setenv("_X_AMZN_TRACE_ID", nx->trace_id, 1);
    else
        unsetenv("_X_AMZN_TRACE_ID");
    const char *event = nx->body.data ? nx->body.data : "";
    cJSON *json = cm_json_parse(event, nx->body.len);
    rt_event_correlation_id(json, corr, sizeof corr);
    struct rt_invocation inv = {
        .request_id = nx->request_id,
        .deadline_ms = parse_deadline(nx->deadline_ms),
        .function_arn = nx->function_arn,
        .trace_id = nx->trace_id,
        .client_context = nx->client_context,
        .cognito_identity = nx->cognito_identity,
        .correlation_id = corr,
        .cold_start = st->cold,
        .event_json = json,
        .metrics = st->metrics,
        .user = st->fn->user,
    };
    rt_log_begin_invocation(inv.request_id, corr, st->cold);
    prepare_metrics(st, &inv);
    if (st->cold)
        write_cold_start(st);
    long status = invoke(st, &inv, event, nx->body.len);
    rt_log_end_invocation();
    cJSON_Delete(json);
    st->cold = 0;
    return status;
}

static int init_function(struct rt_state *st)
{
    if (!st->fn->init)
        return 0;
    struct rt_error err = {{0}, {0}};
    int rc = st->fn->init(st->fn->user, &err);
    if (rc == 0)
        return 0;
    if (!err.type[0])
        cm_strlcpy(err.type, "Runtime.InitError", sizeof err.type);
    if (!err.message[0])
        snprintf(err.message, sizeof err.message, "init failed: %s", cm_strerror(rc));
    struct rt_log_field f[] = {{"errorType", err.type, 0}, {"errorMessage", err.message, 0}};
    rt_log_fields(CM_LOG_ERROR, f, 2, "init failed");
    post_error(&st->client, "init/error", &err, "Runtime.InitError", 0);
    return rc;
}

static int loop(struct rt_state *st)
{
    int failures = 0;
    for (;;) {
        int rc = client_next(&st->client, &st->next);
        if (rc == CM_EIO)
            return RT_EXIT_API_GONE;
        if (rc) {
            if (++failures >= RT_NEXT_RETRIES) {
                rt_log(CM_LOG_ERROR, "runtime: %d failed /next calls in a row, exiting", failures);
                return RT_EXIT_API_GONE;
            }
            cm_clock_sleep_ns(50 * CM_NS_PER_MS * failures);
            continue;
        }
        failures = 0;
        if (run_one(st) == 500) {
            rt_log(CM_LOG_ERROR, "runtime: 500 from the Runtime API, exiting");
            return RT_EXIT_API_GONE;
        }
    }
}

static void setup_logging(const char *name, const char *service)
{
    enum cm_log_level level = CM_LOG_INFO;
    const char *lv = getenv("AWS_LAMBDA_LOG_LEVEL");
    if (!lv || !*lv)
        lv = getenv("POWERTOOLS_LOG_LEVEL");
    if (lv && *lv && rt_log_parse_level(lv, &level) != 0)
        level = CM_LOG_INFO;
    rt_log_setup(name, service, 1);
    rt_log_set_level(level);
}

int rt_run(const struct rt_function *fn)
{
    int64_t t0_ns = cm_clock_mono_ns();
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    if (!fn || !fn->handler) {
        fprintf(stderr, "rt_run: no handler given\n");
        return RT_EXIT_CONFIG;
    }
    if (!api || !*api) {
        fprintf(stderr, "rt_run: AWS_LAMBDA_RUNTIME_API is not set; this program is a Lambda "
                        "function and runs under the Lambda Runtime API (AWS or stackd)\n");
        return RT_EXIT_CONFIG;
    }
    signal(SIGPIPE, SIG_IGN);
    struct rt_state st = {.fn = fn, .cold = 1};
    st.name = env_or(fn->name, "AWS_LAMBDA_FUNCTION_NAME", "function");
    st.service = env_or(fn->service, "POWERTOOLS_SERVICE_NAME", st.name);
    st.ns = env_or(fn->metrics_namespace, "POWERTOOLS_METRICS_NAMESPACE", "Orders");
    setup_logging(st.name, st.service);
    if (strlen(st.ns) > 255) {
        rt_log(CM_LOG_WARN, "metrics namespace longer than 255 bytes; using \"Orders\"");
        st.ns = "Orders";
    }
    cm_buf_init(&st.next.body, RT_MAX_EVENT_BYTES);
    cm_buf_init(&st.response, RT_MAX_EVENT_BYTES);
    st.metrics = rt_metrics_new(st.ns, rt_log_fd());
    int status;
    if (client_init(&st.client, api) != 0) {
        fprintf(stderr, "rt_run: AWS_LAMBDA_RUNTIME_API=%s: cannot set up the client\n", api);
        status = RT_EXIT_CONFIG;
        goto out;
    }
    if (init_function(&st) != 0) {
        status = RT_EXIT_INIT;
        goto out;
    }
    struct rt_log_field f[] = {
        {"initDurationMs", NULL, (double)(cm_clock_mono_ns() - t0_ns) / (double)CM_NS_PER_MS}};
    rt_log_fields(CM_LOG_DEBUG, f, 1, "runtime ready");
    status = loop(&st);
out:
    client_deinit(&st.client);
    rt_metrics_free(st.metrics);
    cm_buf_deinit(&st.next.body);
    cm_buf_deinit(&st.response);
    return status;
}
