/* sigv4_bench: ns per operation for SigV4 on a typical SQS SendMessage JSON
 * request (awsJson1_0, 5 headers, ~250-byte body, session token), the
 * loadgen sqs engine's hot path. Cases: cm_sigv4_sign with the signing key
 * cached (steady state), with the key derived every time (first request of a
 * UTC day or a new region), cm_aws_req_sign (signing plus building the libcurl
 * header list and options), cm_sigv4_verify (stackd's side), and SHA-256 of
 * the body alone as the floor. Prints the median of 5 runs per case.
 * Usage: sigv4_bench [iterations per run [case name substring]] */
#include "cm/aws.h"
#include "cm/clock.h"
#include "cm/sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNS 5

static const char BODY[] =
    "{\"QueueUrl\":\"https://sqs.eu-west-1.amazonaws.com/123456789012/orders-queue\","
    "\"MessageBody\":\"{\\\"orderId\\\":\\\"0193f1e2-7c4a-7b3e-9f00-123456789abc\\\","
    "\\\"amount\\\":4200,\\\"items\\\":3}\",\"MessageAttributes\":{\"correlation_id\":"
    "{\"DataType\":\"String\",\"StringValue\":\"0193f1e2-7c4a-7b3e-9f00-123456789abc\"}}}";
static const struct cm_sigv4_creds CREDS = {
    "ASIAEXAMPLEEXAMPLE12", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    "IQoJb3JpZ2luX2VjEXAMPLEsessiontokenEXAMPLEsessiontokenEXAMPLEsessiontoken"
    "EXAMPLEsessiontokenEXAMPLEsessiontokenEXAMPLEsessiontokenEXAMPLE=="};
static const int64_t T0 = 1795332605;

static volatile unsigned g_sink;
static struct cm_sigv4_ctx g_ctx;
static struct cm_sigv4_header g_hdrs[8];
static size_t g_nh;
static struct cm_aws_client *g_client;
static struct cm_aws_req *g_req;

static struct cm_sigv4_request request(void)
{
    struct cm_sigv4_request r = {.method = "POST",
                                 .host = "sqs.eu-west-1.amazonaws.com",
                                 .host_len = strlen("sqs.eu-west-1.amazonaws.com"),
                                 .path = "/",
                                 .path_len = 1,
                                 .headers = g_hdrs,
                                 .n_headers = g_nh,
                                 .payload = BODY,
                                 .payload_len = sizeof(BODY) - 1};
    return r;
}

static void run_sign_cached(long n)
{
    struct cm_sigv4_config cfg = {"eu-west-1", "sqs", &CREDS, T0, 0};
    struct cm_sigv4_request r = request();
    for (long i = 0; i < n; i++) {
        cfg.now_s = T0 + (i & 1023); /* new X-Amz-Date, same day: key cached */
        if (cm_sigv4_sign(&g_ctx, &cfg, &r))
            abort();
        g_sink ^= (unsigned char)g_ctx.signature[0];
    }
}

static void run_sign_cold(long n)
{
    struct cm_sigv4_config cfg = {"eu-west-1", "sqs", &CREDS, T0, 0};
    struct cm_sigv4_request r = request();
    for (long i = 0; i < n; i++) {
        cfg.now_s = T0 + (i & 1) * 86400; /* alternate days: key derived every time */
        if (cm_sigv4_sign(&g_ctx, &cfg, &r))
            abort();
        g_sink ^= (unsigned char)g_ctx.signature[0];
    }
}

static void run_aws_req_sign(long n)
{
    for (long i = 0; i < n; i++)
        if (cm_aws_req_sign(g_req, T0 + (i & 1023)))
            abort();
}

static void run_verify(long n)
{
    struct cm_sigv4_config cfg = {"eu-west-1", "sqs", &CREDS, T0, 0};
    struct cm_sigv4_request r = request();
    if (cm_sigv4_sign(&g_ctx, &cfg, &r))
        abort();
    static char vals[CM_SIGV4_MAX_ADD][1024];
    struct cm_sigv4_header all[16];
    memcpy(all, g_hdrs, g_nh * sizeof(all[0]));
    size_t na = g_nh;
    for (size_t i = 0; i < g_ctx.n_add; i++) {
        memcpy(vals[i], g_ctx.add[i].value, g_ctx.add[i].value_len);
        all[na] = g_ctx.add[i];
        all[na++].value = vals[i];
    }
    r.headers = all;
    r.n_headers = na;
    struct cm_sigv4_verify_opts o = {.now_s = T0};
    o.lookup = NULL;
    struct cm_sigv4_verify_result res;
    /* A lookup that always answers the one secret. */
    extern int bench_lookup(void *, const char *, size_t, const char **);
    o.lookup = bench_lookup;
    for (long i = 0; i < n; i++) {
        if (cm_sigv4_verify(&g_ctx, &o, &r, &res))
            abort();
        g_sink ^= (unsigned)res.verdict;
    }
}

int bench_lookup(void *arg, const char *akid, size_t len, const char **secret);
int bench_lookup(void *arg, const char *akid, size_t len, const char **secret)
{
    (void)arg, (void)akid, (void)len;
    *secret = CREDS.secret_access_key;
    return 0;
}

static void run_sha256_body(long n)
{
    char hex[65];
    for (long i = 0; i < n; i++) {
        cm_sigv4_sha256_hex(BODY, sizeof(BODY) - 1, hex);
        g_sink ^= (unsigned char)hex[0];
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * CM_NS_PER_S + ts.tv_nsec;
}

/* Wall time per op, and this thread's CPU time per op: on a shared, loaded
 * machine the CPU figure is the one that does not include waiting for a core. */
static const char *g_only; /* run only cases whose name contains this */

static void bench(const char *name, void (*fn)(long), long n)
{
    if (g_only && !strstr(name, g_only))
        return;
    double ns[RUNS], cpu[RUNS];
    fn(n / 10 + 1); /* warm up */
    for (int r = 0; r < RUNS; r++) {
        int64_t t0 = cm_clock_mono_ns(), c0 = cpu_ns();
        fn(n);
        ns[r] = (double)(cm_clock_mono_ns() - t0) / (double)n;
        cpu[r] = (double)(cpu_ns() - c0) / (double)n;
    }
    qsort(ns, RUNS, sizeof(ns[0]), cmp_double);
    qsort(cpu, RUNS, sizeof(cpu[0]), cmp_double);
    printf("%-34s %7.0f ns/op wall (min %.0f)  %7.0f ns/op cpu (min %.0f)\n", name, ns[RUNS / 2],
           ns[0], cpu[RUNS / 2], cpu[0]);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
    if (n < 1)
        n = 1;
    g_only = argc > 2 ? argv[2] : NULL;
    cm_sigv4_ctx_init(&g_ctx);
    g_hdrs[g_nh++] =
        (struct cm_sigv4_header)CM_SIGV4_HEADER("Content-Type", "application/x-amz-json-1.0");
    g_hdrs[g_nh++] =
        (struct cm_sigv4_header)CM_SIGV4_HEADER("X-Amz-Target", "AmazonSQS.SendMessage");
    g_hdrs[g_nh++] = (struct cm_sigv4_header)CM_SIGV4_HEADER("x-amzn-query-mode", "true");
    g_hdrs[g_nh++] = (struct cm_sigv4_header)CM_SIGV4_HEADER("User-Agent", "loadgen/0.1");

    struct cm_aws_client_opts o = {.service = &cm_aws_sqs,
                                   .region = "eu-west-1",
                                   .endpoint = "https://sqs.eu-west-1.amazonaws.com",
                                   .creds = &CREDS};
    char err[256];
    if (cm_aws_client_new(&o, &g_client, err, sizeof(err)) ||
        cm_aws_req_json(g_client, "SendMessage", BODY, sizeof(BODY) - 1, &g_req)) {
        fprintf(stderr, "setup failed: %s\n", err);
        return 1;
    }
    printf("SQS SendMessage, %zu-byte body, session token; %ld iterations x %d runs\n",
           sizeof(BODY) - 1, n, RUNS);
    bench("sha256(body) floor", run_sha256_body, n);
    bench("cm_sigv4_sign (key cached)", run_sign_cached, n);
    bench("cm_sigv4_sign (key derived)", run_sign_cold, n);
    bench("cm_aws_req_sign (sign+curl opts)", run_aws_req_sign, n);
    bench("cm_sigv4_verify (server side)", run_verify, n);
    cm_aws_req_free(g_req);
    cm_aws_client_free(g_client);
    cm_sigv4_ctx_deinit(&g_ctx);
    return (int)(g_sink & 0);
}
