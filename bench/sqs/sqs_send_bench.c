/* sqs_send_bench.c: SendMessageBatch throughput of stackd's SQS, awsJson1_0
 * with 10 messages of `size` bytes per request.
 *
 *   sqs_send_bench inproc DB_PATH SECONDS SIZE
 *       sd_sqs_handle in this process on a store at DB_PATH (SQLite, WAL):
 *       the cost of parsing, validating, MD5s and the commit, without HTTP.
 *   sqs_send_bench http PORT SECONDS SIZE CONNECTIONS
 *       against a running stackd on 127.0.0.1:PORT, one thread per
 *       keep-alive connection, each sending the next batch when the
 *       previous answer arrived (closed loop). The queue "bench" is created.
 * Prints messages/s and the mean request latency. */
#include "sd_sqs.h"

#include "cm/buf.h"
#include "cm/clock.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void batch_body(struct cm_buf *b, int size)
{
    cm_buf_puts(b, "{\"QueueUrl\":\"http://127.0.0.1/000000000000/bench\",\"Entries\":[");
    for (int i = 0; i < 10; i++) {
        cm_buf_printf(b, "%s{\"Id\":\"m%d\",\"MessageBody\":\"", i ? "," : "", i);
        for (int k = 0; k < size; k++)
            cm_buf_putc(b, (char)('a' + k % 26));
        cm_buf_puts(b, "\"}");
    }
    cm_buf_puts(b, "]}");
}

static int inproc(const char *path, double secs, int size)
{
    struct sd_sqs *s;
    char err[256];
    struct sd_sqs_config cfg = {path, NULL, NULL, NULL};
    if (sd_sqs_new(&cfg, NULL, &s, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    struct sd_sqs_queue_opts o;
    sd_sqs_queue_opts_init(&o);
    sd_sqs_ensure_queue(s, "bench", &o, cm_clock_wall_ns() / 1000000, err, sizeof err);
    struct cm_buf body;
    cm_buf_init(&body, 0);
    batch_body(&body, size);
    struct sd_req r;
    memset(&r, 0, sizeof r);
    r.method = "POST";
    r.path = "/";
    r.query = "";
    r.headers[0] = (struct sd_header){"X-Amz-Target", 12, "AmazonSQS.SendMessageBatch", 26};
    r.n_headers = 1;
    r.body = body.data;
    r.body_len = body.len;
    int64_t t0 = cm_clock_mono_ns(), n = 0;
    while (cm_clock_mono_ns() - t0 < (int64_t)(secs * 1e9)) {
        struct sd_resp resp;
        sd_resp_init(&resp);
        r.recv_wall_ns = cm_clock_wall_ns();
        sd_sqs_handle(s, &r, &resp, NULL);
        if (resp.status != 200) {
            fprintf(stderr, "status %d: %s\n", resp.status, resp.body.data);
            return 1;
        }
        sd_resp_deinit(&resp);
        n++;
    }
    double el = (double)(cm_clock_mono_ns() - t0) / 1e9;
    printf("inproc: %lld batches, %.0f messages/s, %.1f us per batch\n", (long long)n,
           (double)n * 10 / el, el * 1e6 / (double)n);
    cm_buf_deinit(&body);
    sd_sqs_free(s);
    return 0;
}

struct worker {
    int port;
    double secs;
    const struct cm_buf *req;
    long long batches;
    int failed;
};

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads one HTTP response; returns its status or -1. */
static int read_response(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    for (;;) {
        ssize_t k = read(fd, buf + len, cap - 1 - len);
        if (k <= 0)
            return -1;
        len += (size_t)k;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (!end)
            continue;
        char *cl = strcasestr(buf, "content-length:");
        size_t want = (size_t)(end + 4 - buf) + (cl ? strtoul(cl + 15, NULL, 10) : 0);
        if (len >= want)
            return (int)strtol(buf + 9, NULL, 10);
        if (want >= cap)
            return -1;
    }
}

static void *run_worker(void *arg)
{
    struct worker *w = arg;
    char buf[65536];
    int fd = connect_to(w->port);
    int64_t t0 = cm_clock_mono_ns();
    while (fd >= 0 && cm_clock_mono_ns() - t0 < (int64_t)(w->secs * 1e9)) {
        if (write(fd, w->req->data, w->req->len) != (ssize_t)w->req->len ||
            read_response(fd, buf, sizeof buf) != 200) {
            w->failed = 1;
            break;
        }
        w->batches++;
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static int http(int port, double secs, int size, int conns)
{
    struct cm_buf body, req;
    cm_buf_init(&body, 0);
    cm_buf_init(&req, 0);
    const char *create = "{\"QueueName\":\"bench\"}";
    cm_buf_printf(&req,
                  "POST / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Amz-Target: AmazonSQS.CreateQueue\r\n"
                  "Content-Type: application/x-amz-json-1.0\r\nContent-Length: %zu\r\n\r\n%s",
                  port, strlen(create), create);
    char buf[4096];
    int fd = connect_to(port);
    if (fd < 0 || write(fd, req.data, req.len) != (ssize_t)req.len ||
        read_response(fd, buf, sizeof buf) != 200) {
        fprintf(stderr, "CreateQueue failed on port %d\n", port);
        return 1;
    }
    close(fd);
    batch_body(&body, size);
    cm_buf_reset(&req);
    cm_buf_printf(&req,
                  "POST / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Amz-Target: "
                  "AmazonSQS.SendMessageBatch\r\nContent-Type: application/x-amz-json-1.0\r\n"
                  "Content-Length: %zu\r\n\r\n",
                  port, body.len);
    cm_buf_append(&req, body.data, body.len);
    struct worker *ws = calloc((size_t)conns, sizeof *ws);
    pthread_t *th = calloc((size_t)conns, sizeof *th);
    int64_t t0 = cm_clock_mono_ns();
    for (int i = 0; i < conns; i++) {
        ws[i] = (struct worker){port, secs, &req, 0, 0};
        pthread_create(&th[i], NULL, run_worker, &ws[i]);
    }
    long long total = 0;
    int failed = 0;
    for (int i = 0; i < conns; i++) {
        pthread_join(th[i], NULL);
        total += ws[i].batches;
        failed |= ws[i].failed;
    }
    double el = (double)(cm_clock_mono_ns() - t0) / 1e9;
    printf("http: %d connections, %lld batches, %.0f messages/s, %.1f us mean per request%s\n",
           conns, total, (double)total * 10 / el, el * 1e6 * conns / (double)total,
           failed ? " (a connection failed)" : "");
    free(ws);
    free(th);
    cm_buf_deinit(&body);
    cm_buf_deinit(&req);
    return failed;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && strcmp(argv[1], "inproc") == 0)
        return inproc(argv[2], strtod(argv[3], NULL), (int)strtol(argv[4], NULL, 10));
    if (argc >= 6 && strcmp(argv[1], "http") == 0)
        return http((int)strtol(argv[2], NULL, 10), strtod(argv[3], NULL),
                    (int)strtol(argv[4], NULL, 10), (int)strtol(argv[5], NULL, 10));
    fprintf(stderr,
            "usage: sqs_send_bench inproc DB SECONDS SIZE | http PORT SECONDS SIZE CONNS\n");
    return 2;
}
