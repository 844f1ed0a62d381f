/* parse_test.c: the collectors' parsers of outside input: REPORT lines (with
 * and without Init Duration, Status: timeout, space-separated, INIT_REPORT),
 * the runtime's JSON log lines and EMF documents, GetQueueAttributes and
 * GetMetricData responses. REPORT vectors follow aws-facts.md 4.1 and the
 * lines stackd writes (sd_lambda_format_report). */
#include "../../../collectors/lgc_int.h"
#include "../harness.h"

#include "cm/json.h"

#include <math.h>
#include <string.h>

static void test_report(void)
{
    struct lgc_report r;
    const char *warm = "REPORT RequestId: 8f5e-11\tDuration: 1.23 ms\tBilled Duration: 2 ms\t"
                       "Memory Size: 128 MB\tMax Memory Used: 20 MB\t";
    CHECK_INT(lgc_report_parse(warm, strlen(warm), &r), 0);
    CHECK_STR(r.request_id, "8f5e-11");
    CHECK_NEAR(r.duration_ms, 1.23, 1e-9);
    CHECK_NEAR(r.billed_ms, 2, 1e-9);
    CHECK_INT(r.memory_mb, 128);
    CHECK_INT(r.max_memory_mb, 20);
    CHECK(r.init_ms < 0);
    CHECK_INT(r.timeout, 0);

    const char *cold = "REPORT RequestId: a1\tDuration: 100.50 ms\tBilled Duration: 101 ms\t"
                       "Memory Size: 512 MB\tMax Memory Used: 33 MB\tInit Duration: 12.34 ms";
    CHECK_INT(lgc_report_parse(cold, strlen(cold), &r), 0);
    CHECK_NEAR(r.duration_ms, 100.5, 1e-9);
    CHECK_NEAR(r.init_ms, 12.34, 1e-9);
    CHECK_INT(r.memory_mb, 512);

    const char *to = "REPORT RequestId: t1\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\t"
                     "Memory Size: 128 MB\tMax Memory Used: 9 MB\tStatus: timeout";
    CHECK_INT(lgc_report_parse(to, strlen(to), &r), 0);
    CHECK_INT(r.timeout, 1);
    CHECK_NEAR(r.duration_ms, 3000, 1e-9);

    /* Spaces instead of tabs, Init Duration before Duration: keys still found
     * at field starts, "Billed Duration" never read as Duration. */
    const char *sp = "REPORT RequestId: s1  Init Duration: 5.00 ms  Billed Duration: 9 ms  "
                     "Duration: 8.25 ms";
    CHECK_INT(lgc_report_parse(sp, strlen(sp), &r), 0);
    CHECK_NEAR(r.duration_ms, 8.25, 1e-9);
    CHECK_NEAR(r.init_ms, 5.0, 1e-9);
    CHECK_NEAR(r.billed_ms, 9, 1e-9);

    /* Not NUL-terminated: the parser stops at n. */
    char buf[64];
    memcpy(buf, "REPORT RequestId: x\tDuration: 7 ms9999", 38);
    CHECK_INT(lgc_report_parse(buf, 33, &r), 0);
    CHECK_NEAR(r.duration_ms, 7, 1e-9);

    const char *init = "INIT_REPORT Init Duration: 10000.00 ms\tPhase: init\tStatus: timeout";
    CHECK_INT(lgc_report_parse(init, strlen(init), &r), CM_ENOTFOUND);
    const char *start = "START RequestId: a1 Version: $LATEST";
    CHECK_INT(lgc_report_parse(start, strlen(start), &r), CM_ENOTFOUND);
    const char *nodur = "REPORT RequestId: a1\tBilled Duration: 2 ms";
    CHECK_INT(lgc_report_parse(nodur, strlen(nodur), &r), CM_EPARSE);
    const char *noid = "REPORT RequestId: \tDuration: 2 ms";
    CHECK_INT(lgc_report_parse(noid, strlen(noid), &r), CM_EPARSE);
    const char *neg = "REPORT RequestId: a\tDuration: -2 ms";
    CHECK_INT(lgc_report_parse(neg, strlen(neg), &r), CM_EPARSE);
}

static void test_logline(void)
{
    struct lgc_logline l;
    const char *rt =
        "{\"timestamp\":\"2026-11-22T08:00:00.123Z\",\"level\":\"INFO\",\"message\":"
        "\"hello\",\"service\":\"hello\",\"functionName\":\"hello\",\"coldStart\":true,"
        "\"requestId\":\"r-1\",\"correlationId\":\"c-1\"}\n";
    CHECK_INT(lgc_logline_parse(rt, strlen(rt), &l), 0);
    CHECK_STR(l.request_id, "r-1");
    CHECK_STR(l.correlation_id, "c-1");
    CHECK_STR(l.function_name, "hello");
    CHECK_INT(l.cold_start, 1);
    CHECK_INT(l.emf, 0);
    CHECK(l.processing_lag_ms < 0);

    /* Lambda's text prefix before the JSON document. */
    const char *emf = "2026-11-22T08:00:00.123Z\tr-2\tINFO\t{\"_aws\":{\"Timestamp\":1,"
                      "\"CloudWatchMetrics\":[{\"Namespace\":\"Orders\",\"Dimensions\":[["
                      "\"service\"]],\"Metrics\":[{\"Name\":\"ColdStart\"},{\"Name\":"
                      "\"ProcessingLag\"}]}]},\"service\":\"p\",\"ColdStart\":1,"
                      "\"ProcessingLag\":[12,250.5,3],\"requestId\":\"r-2\"}";
    CHECK_INT(lgc_logline_parse(emf, strlen(emf), &l), 0);
    CHECK_INT(l.emf, 1);
    CHECK_INT(l.emf_cold_start, 1);
    CHECK_NEAR(l.processing_lag_ms, 250.5, 1e-9);
    CHECK_STR(l.request_id, "r-2");
    CHECK_INT(l.cold_start, -1);

    CHECK_INT(lgc_logline_parse("not json", 8, &l), CM_EPARSE);
    CHECK_INT(lgc_logline_parse("[1,2]", 5, &l), CM_EPARSE);
    CHECK_INT(lgc_logline_parse("{\"a\":", 5, &l), CM_EPARSE);
    /* Overlong ids are dropped, not truncated into a wrong join key. */
    char big[400];
    int n = snprintf(big, sizeof big, "{\"requestId\":\"%0300d\"}", 7);
    CHECK_INT(lgc_logline_parse(big, (size_t)n, &l), 0);
    CHECK_STR(l.request_id, "");
}

static void test_sqs_attrs(void)
{
    double d[3];
    const char *ok = "{\"Attributes\":{\"ApproximateNumberOfMessages\":\"12\","
                     "\"ApproximateNumberOfMessagesNotVisible\":\"3\","
                     "\"ApproximateNumberOfMessagesDelayed\":\"0\"}}";
    CHECK_INT(lgc_sqs_parse_attrs(ok, strlen(ok), d), 0);
    CHECK_NEAR(d[0], 12, 0);
    CHECK_NEAR(d[1], 3, 0);
    CHECK_NEAR(d[2], 0, 0);
    const char *partial = "{\"Attributes\":{\"ApproximateNumberOfMessages\":\"5\"}}";
    CHECK_INT(lgc_sqs_parse_attrs(partial, strlen(partial), d), 0);
    CHECK_NEAR(d[0], 5, 0);
    CHECK_NEAR(d[1], 0, 0);
    const char *bad = "{\"Attributes\":{\"ApproximateNumberOfMessages\":\"5x\"}}";
    CHECK_INT(lgc_sqs_parse_attrs(bad, strlen(bad), d), CM_EPARSE);
    CHECK_INT(lgc_sqs_parse_attrs("{}", 2, d), CM_EPARSE);
    CHECK_INT(lgc_sqs_parse_attrs("", 0, d), CM_EPARSE);
}

static void test_cw(void)
{
    const char *body = "{\"MetricDataResults\":[{\"Id\":\"a\",\"Label\":\"x\",\"StatusCode\":"
                       "\"Complete\",\"Timestamps\":[1704067260,1704067200,1704067320],"
                       "\"Values\":[4,9,2]},{\"Id\":\"b\",\"Timestamps\":[],\"Values\":[]},"
                       "{\"Id\":\"zz\",\"Timestamps\":[1],\"Values\":[100]}],\"Messages\":[]}";
    cJSON *j = cm_json_parse(body, strlen(body));
    const char *ids[] = {"a", "b", "c"};
    double latest[3] = {NAN, NAN, NAN}, maxv[3] = {NAN, NAN, NAN};
    CHECK_INT(lgc_cw_parse(j, ids, 3, latest, maxv), 0);
    CHECK_NEAR(latest[0], 2, 0); /* newest timestamp, whatever the order */
    CHECK_NEAR(maxv[0], 9, 0);
    CHECK(isnan(latest[1]) && isnan(maxv[1]));
    CHECK(isnan(latest[2]));
    cJSON_Delete(j);
    /* A second page (older points): latest stays, the maximum grows. */
    const char *page2 = "{\"MetricDataResults\":[{\"Id\":\"a\",\"Timestamps\":[1704067000],"
                        "\"Values\":[50]},{\"Id\":\"b\",\"Timestamps\":[1],\"Values\":[7]}]}";
    j = cm_json_parse(page2, strlen(page2));
    CHECK_INT(lgc_cw_parse(j, ids, 3, latest, maxv), 0);
    CHECK_NEAR(latest[0], 2, 0);
    CHECK_NEAR(maxv[0], 50, 0);
    CHECK_NEAR(latest[1], 7, 0);
    cJSON_Delete(j);
    j = cm_json_parse("{}", 2);
    CHECK_INT(lgc_cw_parse(j, ids, 3, latest, maxv), CM_EPARSE);
    cJSON_Delete(j);
}

int main(void)
{
    test_report();
    test_logline();
    test_sqs_attrs();
    test_cw();
    return TEST_REPORT();
}
