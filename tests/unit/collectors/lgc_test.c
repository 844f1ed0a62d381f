/* lgc_test.c: the sampler's bookkeeping without a network: maxima, the age
 * estimate, DLQ depth, CloudWatch totals and per-row deltas, cold-start
 * deduplication and init percentiles, the summary object, lgc_metric's
 * names and codes, and the bounded row ring. */
#include "../../../collectors/lgc_int.h"
#include "../harness.h"

#include <math.h>
#include <string.h>

static struct lgc *make(void)
{
    static const struct lgc_queue_target qs[] = {{"order-events", "order-events-dlq"},
                                                 {"plain", NULL}};
    static const char *const fns[] = {"create-order", "process-orders"};
    struct lgc_config cfg = {.queues = qs, .n_queues = 2, .functions = fns, .n_functions = 2};
    struct lgc *l = NULL;
    char err[128];
    CHECK_INT(lgc_new_offline(&cfg, &l, err, sizeof err), 0);
    return l;
}

static double metric(struct lgc *l, const char *name, int want_rc)
{
    double v = -12345;
    int rc = lgc_metric(l, name, &v);
    CHECK_MSG(rc == want_rc, "%s: rc %d, want %d", name, rc, want_rc);
    return v;
}

static void test_config_errors(void)
{
    struct lgc_queue_target bad = {"", NULL};
    struct lgc_config cfg = {.queues = &bad, .n_queues = 1};
    struct lgc *l = NULL;
    char err[128] = "";
    CHECK_INT(lgc_new_offline(&cfg, &l, err, sizeof err), CM_EINVAL);
    CHECK(l == NULL);
    CHECK(strstr(err, "queues[].name") != NULL);
    cfg.n_queues = LGC_MAX_QUEUES + 1;
    CHECK_INT(lgc_new_offline(&cfg, &l, err, sizeof err), CM_EINVAL);
}

static void test_queues(void)
{
    struct lgc *l = make();
    /* Known names without samples: LGC_ENODATA; unknown: CM_ENOTFOUND. */
    metric(l, "queues.order-events.max_depth", LGC_ENODATA);
    metric(l, "dlq.order-events-dlq.max_depth", LGC_ENODATA);
    metric(l, "queues.nope.max_depth", CM_ENOTFOUND);
    metric(l, "queues.order-events.bogus", CM_ENOTFOUND);
    metric(l, "dlq.plain.max_depth", CM_ENOTFOUND);
    metric(l, "nothing", CM_ENOTFOUND);
    metric(l, "queues", CM_ENOTFOUND);
    CHECK_INT(lgc_metric(l, NULL, NULL), CM_EINVAL);

    l->run_start_ms = 1000;
    double age = -1;
    lgc_record_queue(l, 0, 2000, 0, 0, 0, &age); /* empty at 2 s */
    CHECK_NEAR(age, 0, 0);
    lgc_record_queue(l, 0, 3000, 10, 2, 1, &age); /* everything arrived after 2 s */
    CHECK_NEAR(age, 1.0, 1e-9);
    lgc_record_queue(l, 0, 5500, 4, 7, 0, &age);
    CHECK_NEAR(age, 3.5, 1e-9);
    lgc_record_dlq(l, 0, 3);
    lgc_record_dlq(l, 0, 1);
    CHECK_NEAR(metric(l, "queues.order-events.max_depth", 0), 10, 0);
    CHECK_NEAR(metric(l, "queues.order-events.max_in_flight", 0), 7, 0);
    CHECK_NEAR(metric(l, "queues.order-events.max_delayed", 0), 1, 0);
    CHECK_NEAR(metric(l, "queues.order-events.max_age", 0), 3.5, 1e-9);
    CHECK_NEAR(metric(l, "queues.order-events.last_depth", 0), 4, 0);
    CHECK_NEAR(metric(l, "dlq.order-events-dlq.max_depth", 0), 3, 0);
    CHECK_NEAR(metric(l, "dlq.order-events-dlq.last_depth", 0), 1, 0);
    metric(l, "queues.order-events.drain_s", LGC_ENODATA);

    /* CloudWatch's age wins once it has one (AWS). */
    l->q[1].cw_age_s = 42;
    lgc_record_queue(l, 1, 6000, 1, 0, 0, &age);
    CHECK_NEAR(age, 42, 0);
    cJSON *s = lgc_summary(l);
    cJSON *q0 = cJSON_GetObjectItem(cJSON_GetObjectItem(s, "queues"), "order-events");
    CHECK_NEAR(cJSON_GetObjectItem(q0, "max_depth")->valuedouble, 10, 0);
    CHECK_STR(cJSON_GetObjectItem(q0, "age_source")->valuestring, "estimate");
    cJSON *q1 = cJSON_GetObjectItem(cJSON_GetObjectItem(s, "queues"), "plain");
    CHECK_STR(cJSON_GetObjectItem(q1, "age_source")->valuestring, "cloudwatch");
    cJSON *d = cJSON_GetObjectItem(cJSON_GetObjectItem(s, "dlq"), "order-events-dlq");
    CHECK_NEAR(cJSON_GetObjectItem(d, "max_depth")->valuedouble, 3, 0);
    cJSON_Delete(s);
    lgc_free(l);
}

static void test_functions_and_cold(void)
{
    struct lgc *l = make();
    metric(l, "functions.create-order.invocations", LGC_ENODATA);
    metric(l, "functions.invocations", LGC_ENODATA);
    metric(l, "cold_starts.rate", LGC_ENODATA);
    metric(l, "cold_starts.create-order.count", LGC_ENODATA);
    metric(l, "cold_starts.nope.count", CM_ENOTFOUND);

    lgc_record_totals(l, 0, 200, 4, 1, 12, 9);
    lgc_record_totals(l, 1, 50, 0, 0, 3, 1);
    l->f[0].logs_ok = l->f[1].logs_ok = 1;
    CHECK_INT(lgc_record_cold(l, 0, "r1", 10.0, 100), 1);
    CHECK_INT(lgc_record_cold(l, 0, "r1", 10.0, 100), 0); /* duplicate event */
    CHECK_INT(lgc_record_cold(l, 0, "r2", 20.0, 200), 1);
    CHECK_INT(lgc_record_cold(l, 0, "r3", 30.0, 300), 1);
    CHECK_INT(lgc_record_cold(l, 0, "r4", 40.0, 400), 1);
    CHECK_INT(lgc_record_cold(l, 1, "r5", 5.0, 500), 1);

    CHECK_NEAR(metric(l, "functions.create-order.invocations", 0), 200, 0);
    CHECK_NEAR(metric(l, "functions.create-order.errors", 0), 4, 0);
    CHECK_NEAR(metric(l, "functions.create-order.throttles", 0), 1, 0);
    CHECK_NEAR(metric(l, "functions.create-order.max_concurrency", 0), 12, 0);
    CHECK_NEAR(metric(l, "functions.invocations", 0), 250, 0);
    CHECK_NEAR(metric(l, "functions.throttles", 0), 1, 0);
    CHECK_NEAR(metric(l, "cold_starts.create-order.count", 0), 4, 0);
    CHECK_NEAR(metric(l, "cold_starts.create-order.rate", 0), 4.0 / 200, 1e-12);
    CHECK_NEAR(metric(l, "cold_starts.count", 0), 5, 0);
    CHECK_NEAR(metric(l, "cold_starts.rate", 0), 5.0 / 250, 1e-12);
    CHECK_NEAR(metric(l, "cold_starts.create-order.init_ms.max", 0), 40, 0.05);
    CHECK_NEAR(metric(l, "cold_starts.create-order.init_ms.p50", 0), 20, 0.05);
    CHECK_NEAR(metric(l, "cold_starts.process-orders.init_ms.p99", 0), 5, 0.01);

    /* Rows carry per-interval deltas of the run totals. */
    struct lgc_row *r = NULL;
    cJSON *rows = lgc_drain_rows(l);
    CHECK_INT(cJSON_GetArraySize(rows), 0);
    cJSON_Delete(rows);
    CHECK_INT(lgc_sample_once(l, 10000), 0); /* no clients: an empty tick */
    lgc_record_totals(l, 0, 260, 4, 3, 12, 2);
    CHECK_INT(lgc_sample_once(l, 11000), 0);
    (void)r;
    rows = lgc_drain_rows(l);
    CHECK_INT(cJSON_GetArraySize(rows), 2);
    cJSON *f0 = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 0), "functions"),
                                    "create-order");
    CHECK_NEAR(cJSON_GetObjectItem(f0, "invocations")->valuedouble, 200, 0);
    CHECK_NEAR(cJSON_GetObjectItem(f0, "cold_starts")->valuedouble, 4, 0);
    cJSON *f1 = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 1), "functions"),
                                    "create-order");
    CHECK_NEAR(cJSON_GetObjectItem(f1, "invocations")->valuedouble, 60, 0);
    CHECK_NEAR(cJSON_GetObjectItem(f1, "throttles")->valuedouble, 2, 0);
    CHECK_NEAR(cJSON_GetObjectItem(f1, "cold_starts")->valuedouble, 0, 0);
    CHECK_NEAR(cJSON_GetObjectItem(f1, "concurrency")->valuedouble, 2, 0);
    /* Queues were never sampled: their values are absent, not 0. */
    cJSON *q = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 1), "queues"),
                                   "order-events");
    CHECK(q != NULL && cJSON_GetObjectItem(q, "visible") == NULL);
    cJSON_Delete(rows);

    cJSON *s = lgc_summary(l);
    cJSON *cs = cJSON_GetObjectItem(s, "cold_starts");
    CHECK_NEAR(cJSON_GetObjectItem(cs, "count")->valuedouble, 5, 0);
    cJSON *co = cJSON_GetObjectItem(cs, "create-order");
    CHECK_NEAR(cJSON_GetObjectItem(cJSON_GetObjectItem(co, "init_ms"), "max")->valuedouble, 40,
               0.05);
    cJSON_Delete(s);
    CHECK_INT(lgc_stop(l), CM_ESTATE);
    CHECK_INT(lgc_wait_drained(l, 1, 1, NULL), CM_ESTATE); /* offline: no SQS client */
    lgc_free(l);
}

static void test_row_ring(void)
{
    struct lgc *l = make();
    for (int i = 0; i < LGC_MAX_ROWS + 5; i++)
        lgc_sample_once(l, 1000 + i);
    CHECK_INT(lgc_rows_dropped(l), 5);
    cJSON *rows = lgc_drain_rows(l);
    CHECK_INT(cJSON_GetArraySize(rows), LGC_MAX_ROWS);
    CHECK_NEAR(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 0), "t_ms")->valuedouble, 1005, 0);
    cJSON_Delete(rows);
    lgc_free(l);
    lgc_free(NULL);
}

int main(void)
{
    test_config_errors();
    test_queues();
    test_functions_and_cold();
    test_row_ring();
    return TEST_REPORT();
}
