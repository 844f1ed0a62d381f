/* join_test.c: the post-run join from log lines (REPORT, runtime JSON, EMF)
 * by requestId and correlation ID, and the breakdown math: gateway overhead
 * = client latency - handler duration - init (never below 0), init only for
 * cold invocations, queue wait from the SQS-fed invocation. */
#include "../harness.h"
#include "lgc.h"

#include <stdio.h>
#include <string.h>

static void add(struct lgc_join *j, const char *fn, const char *line)
{
    lgc_join_add_line(j, fn, line, strlen(line));
}

static void rt_line(struct lgc_join *j, const char *fn, const char *rid, const char *corr)
{
    char b[512];
    snprintf(b, sizeof b,
             "{\"timestamp\":\"2026-11-22T08:00:00.000Z\",\"level\":\"INFO\",\"message\":\"x\","
             "\"functionName\":\"%s\",\"coldStart\":false,\"requestId\":\"%s\","
             "\"correlationId\":\"%s\"}",
             fn, rid, corr);
    add(j, fn, b);
}

static double num(const cJSON *o, const char *part, const char *k)
{
    const cJSON *x = cJSON_GetObjectItem(cJSON_GetObjectItem(o, part), k);
    return x ? x->valuedouble : -1;
}

int main(void)
{
    struct lgc_join_config cfg = {.offline = 1, .max_records = 8};
    struct lgc_join *j = NULL;
    CHECK_INT(lgc_join_new(&cfg, &j, NULL, 0), 0);
    /* HTTP request c1 (cold) on create-order, then its message processed. */
    add(j, "create-order", "START RequestId: r1 Version: $LATEST");
    rt_line(j, "create-order", "r1", "c1");
    rt_line(j, "create-order", "r1", "c1"); /* several lines: one link */
    add(j, "create-order",
        "REPORT RequestId: r1\tDuration: 20.00 ms\tBilled Duration: 20 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 20 MB\tInit Duration: 30.00 ms");
    rt_line(j, "process-orders", "r9", "c1");
    rt_line(j, "process-orders", "r9", "c2"); /* one batch, two messages */
    add(j, "process-orders",
        "{\"_aws\":{\"Timestamp\":1,\"CloudWatchMetrics\":[]},\"ProcessingLag\":[40,75],"
        "\"requestId\":\"r9\"}");
    add(j, "process-orders",
        "REPORT RequestId: r9\tDuration: 5.00 ms\tBilled Duration: 5 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 20 MB");
    /* c3: warm, REPORT before the JSON line (interleaved fetch order). */
    add(j, "create-order",
        "REPORT RequestId: r3\tDuration: 10.00 ms\tBilled Duration: 10 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 20 MB");
    rt_line(j, "create-order", "r3", "c3");
    lgc_join_finish(j);
    CHECK_INT(lgc_join_count(j), 4);

    struct lgc_join_rec r;
    CHECK_INT(lgc_join_lookup(j, "c1", &r), 0);
    CHECK_STR(r.function_name, "create-order");
    CHECK_STR(r.request_id, "r1");
    CHECK_NEAR(r.init_ms, 30, 1e-9);
    CHECK_NEAR(r.duration_ms, 20, 1e-9);
    CHECK_NEAR(r.queue_wait_ms, 75, 1e-9);
    CHECK_INT(lgc_join_lookup(j, "c2", &r), 0); /* only the SQS invocation */
    CHECK_STR(r.request_id, "r9");
    CHECK_NEAR(r.queue_wait_ms, 75, 1e-9);
    CHECK_INT(lgc_join_lookup(j, "c3", &r), 0);
    CHECK(r.init_ms < 0);
    CHECK_NEAR(r.duration_ms, 10, 1e-9);
    CHECK_INT(lgc_join_lookup(j, "nope", &r), CM_ENOTFOUND);
    CHECK_INT(lgc_join_lookup(j, NULL, &r), CM_ENOTFOUND);
    CHECK_INT(lgc_join_fetch(j, NULL, 0, 0, 1), CM_ESTATE);

    struct lgc_client_rec recs[] = {
        {"c1", 100.0}, /* 100 - 20 - 30 = 50 */
        {"c3", 12.0},  /* 12 - 10 = 2 */
        {"c2", 1.0},   /* 1 - 5 < 0: clamped to 0 */
        {"zz", 9.0},   /* unmatched */
    };
    cJSON *b = lgc_join_breakdown(j, recs, 4);
    CHECK_NEAR(cJSON_GetObjectItem(b, "matched")->valuedouble, 3, 0);
    CHECK_NEAR(cJSON_GetObjectItem(b, "unmatched")->valuedouble, 1, 0);
    CHECK_NEAR(num(b, "gateway_overhead_ms", "count"), 3, 0);
    CHECK_NEAR(num(b, "gateway_overhead_ms", "max"), 50, 0.05);
    CHECK_NEAR(num(b, "gateway_overhead_ms", "p50"), 2, 0.01);
    CHECK_NEAR(num(b, "init_ms", "count"), 1, 0);
    CHECK_NEAR(num(b, "init_ms", "p99"), 30, 0.05);
    CHECK_NEAR(num(b, "handler_ms", "count"), 3, 0);
    CHECK_NEAR(num(b, "handler_ms", "p99"), 20, 0.05);
    CHECK_NEAR(num(b, "queue_wait_ms", "count"), 2, 0);
    CHECK_NEAR(num(b, "queue_wait_ms", "p50"), 75, 0.1);
    cJSON_Delete(b);

    /* Caps: max_records bounds invocations and links. */
    for (int i = 0; i < 20; i++) {
        char rid[16], corr[16];
        snprintf(rid, sizeof rid, "x%d", i);
        snprintf(corr, sizeof corr, "k%d", i);
        rt_line(j, "f", rid, corr);
    }
    lgc_join_finish(j);
    CHECK(lgc_join_count(j) <= 8);
    b = lgc_join_breakdown(j, NULL, 0);
    CHECK_NEAR(num(b, "handler_ms", "count"), 0, 0);
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(b, "handler_ms"), "p50") == NULL);
    cJSON_Delete(b);
    lgc_join_free(j);
    lgc_join_free(NULL);
    return TEST_REPORT();
}
