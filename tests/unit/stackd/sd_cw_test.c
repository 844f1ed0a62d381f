/* sd_cw_test.c: the CloudWatch metrics store (statistics, percentiles from
 * histograms, retention, memory cap), EMF validation, metric math, and the
 * handler in both protocols (awsQuery XML and awsJson1_0, gzip bodies). */
#include "cm/buf.h"
#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"
#include "harness.h"
#include "sd_cw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define NOW_MS 1704067200000LL /* 2024-01-01T00:00:00Z, a whole minute */

static int last_status;
static char last_headers[1024];

/* Calls the handler; json != 0 sends awsJson1_0 with X-Amz-Target. Returns
 * the body (free it). */
static char *call_raw(struct sd_cw *cw, const char *target, const char *body, size_t len, int gzip)
{
    struct sd_req r;
    memset(&r, 0, sizeof r);
    r.method = "POST";
    r.path = "/";
    r.query = "";
    int h = 0;
    if (target)
        r.headers[h++] = (struct sd_header){"X-Amz-Target", 12, target, strlen(target)};
    if (gzip)
        r.headers[h++] = (struct sd_header){"Content-Encoding", 16, "gzip", 4};
    r.n_headers = h;
    r.body = body;
    r.body_len = len;
    r.recv_wall_ns = (NOW_MS + 600000) * 1000000; /* ten minutes after NOW_MS */
    struct sd_resp resp;
    sd_resp_init(&resp);
    sd_cw_handle(cw, &r, &resp);
    last_status = resp.status;
    cm_strlcpy(last_headers, resp.headers.data ? resp.headers.data : "", sizeof last_headers);
    CHECK_STR(resp.content_type, target ? "application/x-amz-json-1.0" : "text/xml");
    char *out = cm_xstrdup(resp.body.data ? resp.body.data : "");
    sd_resp_deinit(&resp);
    return out;
}

static char *query(struct sd_cw *cw, const char *form)
{
    return call_raw(cw, NULL, form, strlen(form), 0);
}

static cJSON *json(struct sd_cw *cw, const char *op, const char *body)
{
    char target[96];
    snprintf(target, sizeof target, "GraniteServiceVersion20100801.%s", op);
    char *out = call_raw(cw, target, body, strlen(body), 0);
    cJSON *j = cJSON_Parse(out);
    CHECK_MSG(j != NULL, "%s: not JSON: %s", op, out);
    free(out);
    return j;
}

static void test_stats(void)
{
    struct sd_cw *cw = sd_cw_new(NULL);
    struct sd_dim dims[2] = {{"b", "2"}, {"a", "1"}};
    struct sd_dim swapped[2] = {{"a", "1"}, {"b", "2"}};
    for (int i = 1; i <= 4; i++)
        CHECK_INT(sd_cw_record(cw, "App", "Lat", dims, 2, i, "Milliseconds", NOW_MS + i), 0);
    double v = 0;
    int64_t t0 = NOW_MS, t1 = NOW_MS + 60000;
    CHECK_INT(sd_cw_stat(cw, "App", "Lat", swapped, 2, t0, t1, "Sum", &v), 1);
    CHECK_NEAR(v, 10, 0);
    CHECK_INT(sd_cw_stat(cw, "App", "Lat", dims, 2, t0, t1, "SampleCount", &v), 1);
    CHECK_NEAR(v, 4, 0);
    CHECK_INT(sd_cw_stat(cw, "App", "Lat", dims, 2, t0, t1, "Average", &v), 1);
    CHECK_NEAR(v, 2.5, 0);
    CHECK_INT(sd_cw_stat(cw, "App", "Lat", dims, 2, t0, t1, "Minimum", &v), 1);
    CHECK_NEAR(v, 1, 0);
    CHECK_INT(sd_cw_stat(cw, "App", "Lat", dims, 2, t0, t1, "Maximum", &v), 1);
    CHECK_NEAR(v, 4, 0);
    /* exact nearest-rank percentiles while samples are few */
    CHECK_INT(sd_cw_stat(cw, "App", "Lat", dims, 2, t0, t1, "p50", &v), 1);
    CHECK_NEAR(v, 2, 0);
    CHECK_INT(sd_cw_stat(cw, "App", "Lat", dims, 2, t0, t1, "p75.5", &v), 1);
    CHECK_NEAR(v, 4, 0);
    CHECK_INT(sd_cw_stat(cw, "App", "Lat", dims, 2, t0, t1, "p100", &v), 1);
    CHECK_NEAR(v, 4, 0);
    CHECK_INT(sd_cw_stat(cw, "App", "Lat", dims, 2, t0, t1, "p101", &v), CM_EINVAL);
    CHECK_INT(sd_cw_stat(cw, "App", "Lat", dims, 2, t0, t1, "Median", &v), CM_EINVAL);
    CHECK_INT(sd_cw_stat(cw, "App", "Lat", dims, 1, t0, t1, "Sum", &v), 0); /* other metric */
    CHECK_INT(sd_cw_stat(cw, "App", "Lat", dims, 2, t1, t1 + 60000, "Sum", &v), 0);
    /* negative values: sums yes, percentiles no (as CloudWatch) */
    CHECK_INT(sd_cw_record(cw, "App", "Delta", NULL, 0, -5, NULL, NOW_MS), 0);
    CHECK_INT(sd_cw_stat(cw, "App", "Delta", NULL, 0, t0, t1, "Sum", &v), 1);
    CHECK_NEAR(v, -5, 0);
    CHECK_INT(sd_cw_stat(cw, "App", "Delta", NULL, 0, t0, t1, "p50", &v), 0);
    /* bad input */
    struct sd_dim dup[2] = {{"a", "1"}, {"a", "2"}};
    CHECK_INT(sd_cw_record(cw, "App", "X", dup, 2, 1, NULL, NOW_MS), CM_EINVAL);
    CHECK_INT(sd_cw_record(cw, "", "X", NULL, 0, 1, NULL, NOW_MS), CM_EINVAL);
    CHECK_INT(sd_cw_record(cw, "App", "X", NULL, 0, 1, "Parsecs", NOW_MS), CM_EINVAL);
    CHECK_INT(sd_cw_record(cw, "App", "X", NULL, 0, 0.0 / 0.0, NULL, NOW_MS), CM_EINVAL);
    CHECK_INT(sd_cw_metric_count(cw), 2);
    sd_cw_free(cw);
    sd_cw_free(NULL);
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Deterministic skewed samples (xorshift), 0.1 .. ~2000 ms. */
static void samples(double *out, int n)
{
    uint64_t s = 88172645463325252ULL;
    for (int i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        double u = (double)(s >> 11) / 9007199254740992.0;
        out[i] = 0.1 + 2000.0 * u * u * u;
    }
}

static double exact_pct(const double *sorted, int n, double p)
{
    int rank = (int)((p / 100.0) * n + 0.999999999);
    rank = rank < 1 ? 1 : rank;
    return sorted[rank - 1];
}

static void test_percentiles_histogram(void)
{
    struct sd_cw *cw = sd_cw_new(NULL);
    enum { N = 20000 };
    double *x = cm_xmalloc(N * sizeof *x);
    samples(x, N);
    for (int i = 0; i < N; i++)
        sd_cw_record(cw, "App", "Lat", NULL, 0, x[i], "Milliseconds", NOW_MS + (i % 120) * 1000);
    qsort(x, N, sizeof *x, dbl_cmp);
    static const double ps[] = {50, 90, 99, 99.9};
    for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
        char st[16];
        snprintf(st, sizeof st, "p%g", ps[k]);
        double v = 0, want = exact_pct(x, N, ps[k]);
        CHECK_INT(sd_cw_stat(cw, "App", "Lat", NULL, 0, NOW_MS, NOW_MS + 120000, st, &v), 1);
        /* two significant digits: within 1% of the true sample (plus the
         * 0.001 scaling step) */
        CHECK_MSG(fabs(v - want) <= want * 0.01 + 0.001, "%s: %g vs exact %g", st, v, want);
    }
    double v;
    CHECK_INT(sd_cw_stat(cw, "App", "Lat", NULL, 0, NOW_MS, NOW_MS + 120000, "Maximum", &v), 1);
    CHECK_NEAR(v, x[N - 1], 0);
    CHECK_INT(sd_cw_stat(cw, "App", "Lat", NULL, 0, NOW_MS, NOW_MS + 120000, "p100", &v), 1);
    CHECK_NEAR(v, x[N - 1], x[N - 1] * 0.01);
    free(x);
    sd_cw_free(cw);
}

static void test_retention_and_memory(void)
{
    struct sd_cw_config cfg = {.retention_ms = 3600000, .max_bytes = 200000};
    struct sd_cw *cw = sd_cw_new(&cfg);
    double v;
    CHECK_INT(sd_cw_record(cw, "App", "M", NULL, 0, 1, NULL, NOW_MS), 0);
    /* a stray far-future sample moves the reference by 5 minutes only */
    CHECK_INT(sd_cw_record(cw, "App", "Other", NULL, 0, 1, NULL, NOW_MS + 5 * 3600000), 0);
    CHECK_INT(sd_cw_stat(cw, "App", "M", NULL, 0, NOW_MS, NOW_MS + 60000, "Sum", &v), 1);
    /* time passing minute by minute ages the first minute out */
    for (int m = 1; m <= 120; m++)
        CHECK_INT(sd_cw_record(cw, "App", "M", NULL, 0, 1, NULL, NOW_MS + m * 60000LL), 0);
    CHECK_INT(sd_cw_stat(cw, "App", "M", NULL, 0, NOW_MS, NOW_MS + 60000, "Sum", &v), 0);
    CHECK_INT(sd_cw_record(cw, "App", "M", NULL, 0, 1, NULL, NOW_MS), CM_ERANGE);
    /* many histogram buckets: memory stays under the cap, newest data kept */
    for (int m = 0; m < 40; m++)
        for (int i = 0; i < 200; i++)
            sd_cw_record(cw, "App", "M", NULL, 0, i, NULL, NOW_MS + 2 * 3600000 + m * 60000);
    CHECK(sd_cw_bytes(cw) <= cfg.max_bytes);
    CHECK_INT(sd_cw_stat(cw, "App", "M", NULL, 0, NOW_MS + 2 * 3600000 + 39 * 60000,
                         NOW_MS + 2 * 3600000 + 40 * 60000, "SampleCount", &v),
              1);
    CHECK_NEAR(v, 200, 0);
    sd_cw_free(cw);
}

static void test_emf(void)
{
    struct sd_cw *cw = sd_cw_new(NULL);
    const char *ok =
        "{\"_aws\":{\"Timestamp\":1704067200000,\"CloudWatchMetrics\":[{\"Namespace\":"
        "\"Orders\",\"Dimensions\":[[\"svc\"],[\"svc\",\"fn\"]],\"Metrics\":[{\"Name\":"
        "\"Lat\",\"Unit\":\"Milliseconds\",\"StorageResolution\":1},{\"Name\":\"N\"}]}]},"
        "\"svc\":\"orders\",\"fn\":\"create\",\"Lat\":[5,7],\"N\":1,\"requestId\":\"r\"}";
    CHECK_INT(sd_cw_ingest_emf(cw, ok, strlen(ok), 0), 6); /* 2 sets x (2 + 1) values */
    CHECK_INT(sd_cw_metric_count(cw), 4);
    struct sd_dim d[2] = {{"svc", "orders"}, {"fn", "create"}};
    double v;
    CHECK_INT(sd_cw_stat(cw, "Orders", "Lat", d, 2, NOW_MS, NOW_MS + 1000, "Sum", &v), 1);
    CHECK_NEAR(v, 12, 0);
    /* no Dimensions key sets: one metric without dimensions; missing
     * Timestamp falls back to ts_ms */
    const char *nodims = "{\"_aws\":{\"CloudWatchMetrics\":[{\"Namespace\":\"O\",\"Dimensions\":[],"
                         "\"Metrics\":[{\"Name\":\"X\"}]}]},\"X\":3}";
    CHECK_INT(sd_cw_ingest_emf(cw, nodims, strlen(nodims), NOW_MS), 1);
    CHECK_INT(sd_cw_stat(cw, "O", "X", NULL, 0, NOW_MS, NOW_MS + 60000, "Sum", &v), 1);
    static const char *bad[] = {
        "{\"_aws\":{\"CloudWatchMetrics\":[{\"Namespace\":\"O\",\"Dimensions\":[[\"d\"]],"
        "\"Metrics\":[{\"Name\":\"X\"}]}]},\"X\":1,\"d\":5}", /* dimension value not a string */
        "{\"_aws\":{\"CloudWatchMetrics\":[{\"Namespace\":\"O\",\"Dimensions\":[],"
        "\"Metrics\":[{\"Name\":\"X\"}]}]},\"X\":\"1\"}", /* value not a number */
        "{\"_aws\":{\"CloudWatchMetrics\":[{\"Namespace\":\"O\",\"Dimensions\":[],"
        "\"Metrics\":[{\"Name\":\"X\",\"StorageResolution\":5}]}]},\"X\":1}",
        "{\"_aws\":{\"CloudWatchMetrics\":[{\"Namespace\":\"O\",\"Dimensions\":[],"
        "\"Metrics\":[{\"Name\":\"X\",\"Unit\":\"Furlongs\"}]}]},\"X\":1}",
        "{\"_aws\":{\"CloudWatchMetrics\":[{\"Dimensions\":[],\"Metrics\":[]}]}}",
        "{\"_aws\":{}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(sd_cw_ingest_emf(cw, bad[i], strlen(bad[i]), NOW_MS) == CM_EINVAL,
                  "bad EMF %zu accepted", i);
    CHECK_INT(sd_cw_ingest_emf(cw, "not json", 8, NOW_MS), CM_EPARSE);
    CHECK_INT(sd_cw_ingest_emf(cw, "{\"a\":1}", 7, NOW_MS), CM_EPARSE);
    /* limits: 101 metrics in a directive, 101 values in an array, 31 dimensions */
    struct cm_buf b;
    cm_buf_init(&b, 0);
    cm_buf_puts(&b, "{\"_aws\":{\"CloudWatchMetrics\":[{\"Namespace\":\"O\",\"Dimensions\":[],"
                    "\"Metrics\":[");
    for (int i = 0; i < 101; i++)
        cm_buf_printf(&b, "%s{\"Name\":\"m%d\"}", i ? "," : "", i);
    cm_buf_puts(&b, "]}]}");
    for (int i = 0; i < 101; i++)
        cm_buf_printf(&b, ",\"m%d\":1", i);
    cm_buf_puts(&b, "}");
    CHECK_INT(sd_cw_ingest_emf(cw, b.data, b.len, NOW_MS), CM_EINVAL);
    cm_buf_reset(&b);
    cm_buf_puts(&b, "{\"_aws\":{\"CloudWatchMetrics\":[{\"Namespace\":\"O\",\"Dimensions\":[],"
                    "\"Metrics\":[{\"Name\":\"v\"}]}]},\"v\":[");
    for (int i = 0; i < 101; i++)
        cm_buf_printf(&b, "%s%d", i ? "," : "", i);
    cm_buf_puts(&b, "]}");
    CHECK_INT(sd_cw_ingest_emf(cw, b.data, b.len, NOW_MS), CM_EINVAL);
    cm_buf_reset(&b);
    cm_buf_puts(&b, "{\"_aws\":{\"CloudWatchMetrics\":[{\"Namespace\":\"O\",\"Dimensions\":[[");
    for (int i = 0; i < 31; i++)
        cm_buf_printf(&b, "%s\"d%d\"", i ? "," : "", i);
    cm_buf_puts(&b, "]],\"Metrics\":[{\"Name\":\"v\"}]}]},\"v\":1");
    for (int i = 0; i < 31; i++)
        cm_buf_printf(&b, ",\"d%d\":\"x\"", i);
    cm_buf_puts(&b, "}");
    CHECK_INT(sd_cw_ingest_emf(cw, b.data, b.len, NOW_MS), CM_EINVAL);
    cm_buf_deinit(&b);
    CHECK_INT(sd_cw_emf_errors(cw), 11);
    sd_cw_free(cw);
}

static void test_expr_check(void)
{
    static const char *good[] = {"m1",
                                 "m1 * 2 + m2 / 4",
                                 "-(m1 - 3)",
                                 "SUM([m1, m2])",
                                 "AVG(METRICS())",
                                 "max(m1) * 100",
                                 "1e3 * m1"};
    static const char *bad[] = {"",      "m1 +", "SUM(m1, m2)", "FOO(m1)", "(m1",
                                "m1 m2", "[m1",  "1.2.3",       "#"};
    const char *why;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECK_MSG(sd_cw_expr_check(good[i], strlen(good[i]), &why) == 0, "'%s': %s", good[i], why);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(sd_cw_expr_check(bad[i], strlen(bad[i]), &why) == CM_EPARSE, "'%s' accepted",
                  bad[i]);
}

static void check_has(const char *body, const char *needle)
{
    CHECK_MSG(strstr(body, needle) != NULL, "missing %s in %s", needle, body);
}

static void test_query_protocol(void)
{
    struct sd_cw *cw = sd_cw_new(NULL);
    char *r =
        query(cw, "Action=PutMetricData&Version=2010-08-01&Namespace=App"
                  "&MetricData.member.1.MetricName=Lat&MetricData.member.1.Unit=Milliseconds"
                  "&MetricData.member.1.Dimensions.member.1.Name=Fn"
                  "&MetricData.member.1.Dimensions.member.1.Value=f1"
                  "&MetricData.member.1.Values.member.1=1&MetricData.member.1.Values.member.2=2"
                  "&MetricData.member.1.Values.member.3=3&MetricData.member.1.Counts.member.1=1"
                  "&MetricData.member.1.Counts.member.2=1&MetricData.member.1.Counts.member.3=2"
                  "&MetricData.member.1.Timestamp=2024-01-01T00%3A00%3A30Z"
                  "&MetricData.member.2.MetricName=Errors&MetricData.member.2.Value=1"
                  "&MetricData.member.2.Unit=Count"
                  "&MetricData.member.2.Timestamp=2024-01-01T00%3A02%3A00Z"
                  "&MetricData.member.3.MetricName=Set"
                  "&MetricData.member.3.StatisticValues.SampleCount=2"
                  "&MetricData.member.3.StatisticValues.Sum=10"
                  "&MetricData.member.3.StatisticValues.Minimum=4"
                  "&MetricData.member.3.StatisticValues.Maximum=6"
                  "&MetricData.member.3.Timestamp=2024-01-01T00%3A00%3A00Z");
    CHECK_INT(last_status, 200);
    check_has(r, "<PutMetricDataResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">"
                 "<ResponseMetadata><RequestId>");
    CHECK(strstr(r, "PutMetricDataResult") == NULL);
    free(r);
    r = query(cw, "Action=GetMetricStatistics&Version=2010-08-01&Namespace=App&MetricName=Lat"
                  "&Dimensions.member.1.Name=Fn&Dimensions.member.1.Value=f1"
                  "&StartTime=2024-01-01T00%3A00%3A00Z&EndTime=2024-01-01T00%3A05%3A00Z&Period=60"
                  "&Statistics.member.1=Sum&Statistics.member.2=SampleCount"
                  "&ExtendedStatistics.member.1=p50");
    CHECK_INT(last_status, 200);
    check_has(r, "<GetMetricStatisticsResult><Label>Lat</Label><Datapoints><member>"
                 "<Timestamp>2024-01-01T00:00:00Z</Timestamp><Sum>9.0</Sum>"
                 "<SampleCount>4.0</SampleCount><Unit>Milliseconds</Unit><ExtendedStatistics>"
                 "<entry><key>p50</key><value>2.0</value></entry></ExtendedStatistics></member>"
                 "</Datapoints></GetMetricStatisticsResult>");
    free(r);
    r = query(cw, "Action=GetMetricData&Version=2010-08-01"
                  "&MetricDataQueries.member.1.Id=m1"
                  "&MetricDataQueries.member.1.MetricStat.Metric.Namespace=App"
                  "&MetricDataQueries.member.1.MetricStat.Metric.MetricName=Lat"
                  "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name=Fn"
                  "&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value=f1"
                  "&MetricDataQueries.member.1.MetricStat.Period=60"
                  "&MetricDataQueries.member.1.MetricStat.Stat=Sum"
                  "&MetricDataQueries.member.1.ReturnData=false"
                  "&MetricDataQueries.member.2.Id=e1&MetricDataQueries.member.2.Expression=m1*2"
                  "&MetricDataQueries.member.2.Label=Double"
                  "&StartTime=2024-01-01T00%3A00%3A00Z&EndTime=2024-01-01T00%3A05%3A00Z");
    CHECK_INT(last_status, 200);
    check_has(r, "<MetricDataResults><member><Id>e1</Id><Label>Double</Label><Timestamps>"
                 "<member>2024-01-01T00:00:00Z</member></Timestamps><Values><member>18.0</member>"
                 "</Values><StatusCode>Complete</StatusCode></member></MetricDataResults>");
    CHECK(strstr(r, "<Id>m1</Id>") == NULL);
    free(r);
    r = query(cw, "Action=ListMetrics&Version=2010-08-01&Namespace=App");
    CHECK_INT(last_status, 200);
    check_has(r, "<Metrics><member><Namespace>App</Namespace><MetricName>Lat</MetricName>"
                 "<Dimensions><member><Name>Fn</Name><Value>f1</Value></member></Dimensions>"
                 "</member>");
    check_has(r, "<MetricName>Errors</MetricName><Dimensions></Dimensions>");
    free(r);
    r = query(cw, "Action=ListMetrics&Version=2010-08-01&Dimensions.member.1.Name=Fn");
    CHECK(strstr(r, "Errors") == NULL && strstr(r, "<MetricName>Lat</MetricName>") != NULL);
    free(r);
    /* statistic sets: sums yes, percentiles of a spread set no */
    r = query(cw, "Action=GetMetricStatistics&Version=2010-08-01&Namespace=App&MetricName=Set"
                  "&StartTime=2024-01-01T00%3A00%3A00Z&EndTime=2024-01-01T00%3A01%3A00Z&Period=60"
                  "&Statistics.member.1=Average&ExtendedStatistics.member.1=p90");
    check_has(r, "<Average>5.0</Average>");
    check_has(r, "<ExtendedStatistics></ExtendedStatistics>");
    free(r);
    static const struct {
        const char *form, *code;
    } errs[] = {
        {"Action=PutMetricData&Version=2010-08-01&MetricData.member.1.MetricName=x"
         "&MetricData.member.1.Value=1",
         "MissingParameter"},
        {"Action=PutMetricData&Version=2010-08-01&Namespace=AWS%2FLambda"
         "&MetricData.member.1.MetricName=x&MetricData.member.1.Value=1",
         "InvalidParameterValue"},
        {"Action=PutMetricData&Version=2010-08-01&Namespace=A&MetricData.member.1.MetricName=x"
         "&MetricData.member.1.Value=abc",
         "InvalidParameterValue"},
        {"Action=PutMetricData&Version=2010-08-01&Namespace=A&MetricData.member.1.MetricName=x",
         "InvalidParameterCombination"},
        {"Action=PutMetricData&Version=2010-08-01&Namespace=A&MetricData.member.1.MetricName=x"
         "&MetricData.member.1.Value=1&MetricData.member.1.StorageResolution=30",
         "InvalidParameterValue"},
        {"Action=PutMetricData&Version=2010-08-01&Namespace=A&MetricData.member.1.MetricName=x"
         "&MetricData.member.1.Values.member.1=1&MetricData.member.1.Counts.member.1=1"
         "&MetricData.member.1.Counts.member.2=1",
         "InvalidParameterCombination"},
        {"Action=DeleteEverything&Version=2010-08-01", "InvalidAction"},
        {"Version=2010-08-01", "MissingParameter"},
        {"Action=GetMetricStatistics&Namespace=A&MetricName=x&StartTime=2024-01-01T00%3A00%3A00Z"
         "&EndTime=2024-01-01T00%3A05%3A00Z&Period=7&Statistics.member.1=Sum",
         "InvalidParameterValue"},
        {"Action=GetMetricStatistics&Namespace=A&MetricName=x&StartTime=2024-01-01T00%3A00%3A00Z"
         "&EndTime=2024-01-05T00%3A00%3A00Z&Period=60&Statistics.member.1=Sum",
         "InvalidParameterCombination"},
        {"Action=GetMetricData&StartTime=2024-01-01T00%3A00%3A00Z&EndTime=2024-01-01T00%3A05%3A00Z"
         "&MetricDataQueries.member.1.Id=e1&MetricDataQueries.member.1.Expression=m9%2B1",
         "InvalidParameterValue"},
        {"Action=GetMetricData&StartTime=2024-01-01T00%3A00%3A00Z&EndTime=2024-01-01T00%3A05%3A00Z"
         "&MetricDataQueries.member.1.Id=e1&MetricDataQueries.member.1.Expression=e2"
         "&MetricDataQueries.member.2.Id=e2&MetricDataQueries.member.2.Expression=e1",
         "InvalidParameterValue"},
        {"Action=GetMetricData&StartTime=2024-01-01T00%3A00%3A00Z&EndTime=2024-01-01T00%3A05%3A00Z"
         "&MetricDataQueries.member.1.Id=M1&MetricDataQueries.member.1.Expression=1",
         "InvalidParameterValue"},
        {"Action=ListMetrics&NextToken=abc", "InvalidNextToken"},
        {"Action=PutMetricData&Namespace=%ZZ", "InvalidParameterValue"},
    };
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        r = query(cw, errs[i].form);
        char want[96];
        snprintf(want, sizeof want, "<Code>%s</Code>", errs[i].code);
        CHECK_MSG(last_status == 400 && strstr(r, want) && strstr(r, "<Type>Sender</Type>") &&
                      strstr(r, "<RequestId>"),
                  "error case %zu: %d %s", i, last_status, r);
        free(r);
    }
    sd_cw_free(cw);
}

static const cJSON *result(const cJSON *j, const char *id)
{
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItem(j, "MetricDataResults"))
    {
        if (strcmp(cm_json_str(r, "Id", ""), id) == 0)
            return r;
    }
    return NULL;
}

static void test_json_protocol(void)
{
    struct sd_cw *cw = sd_cw_new(NULL);
    /* Lat: 100 samples 1..100 ms at minute 0, one sample of 500 at minute 2;
     * Req: 10 at minute 0 and 20 at minute 2 */
    struct cm_buf b;
    cm_buf_init(&b, 0);
    cm_buf_puts(&b, "{\"Namespace\":\"App\",\"MetricData\":[{\"MetricName\":\"Lat\",\"Timestamp\":"
                    "1704067205,\"StorageResolution\":1,\"Unit\":\"Milliseconds\",\"Values\":[");
    for (int i = 1; i <= 100; i++)
        cm_buf_printf(&b, "%s%d", i > 1 ? "," : "", i);
    cm_buf_puts(&b,
                "]},{\"MetricName\":\"Lat\",\"Timestamp\":1704067320.5,\"Value\":500,"
                "\"Unit\":\"Milliseconds\"},{\"MetricName\":\"Req\",\"Timestamp\":1704067200,"
                "\"Value\":10},{\"MetricName\":\"Req\",\"Timestamp\":1704067320,\"Value\":20}]}");
    cJSON *j = json(cw, "PutMetricData", b.data);
    CHECK_INT(last_status, 200);
    cJSON_Delete(j);
    cm_buf_deinit(&b);
    j = json(cw, "GetMetricData",
             "{\"StartTime\":1704067200,\"EndTime\":1704067500,\"ScanBy\":\"TimestampAscending\","
             "\"MetricDataQueries\":["
             "{\"Id\":\"lat\",\"MetricStat\":{\"Metric\":{\"Namespace\":\"App\",\"MetricName\":"
             "\"Lat\"},\"Period\":60,\"Stat\":\"p99\"}},"
             "{\"Id\":\"req\",\"ReturnData\":false,\"MetricStat\":{\"Metric\":{\"Namespace\":"
             "\"App\",\"MetricName\":\"Req\"},\"Period\":60,\"Stat\":\"Sum\"}},"
             "{\"Id\":\"tot\",\"Expression\":\"SUM([lat, req])\"},"
             "{\"Id\":\"avg\",\"Expression\":\"AVG(req) + 0 * req\"},"
             "{\"Id\":\"div\",\"Expression\":\"req / (req - req)\"},"
             "{\"Id\":\"neg\",\"Expression\":\"-req * 2 - 1\"}]}");
    CHECK_INT(last_status, 200);
    const cJSON *lat = result(j, "lat");
    CHECK(lat != NULL);
    CHECK(result(j, "req") == NULL);
    const cJSON *ts = cJSON_GetObjectItem(lat, "Timestamps");
    const cJSON *vs = cJSON_GetObjectItem(lat, "Values");
    CHECK_INT(cJSON_GetArraySize(ts), 2);
    CHECK_NEAR(cJSON_GetArrayItem(ts, 0)->valuedouble, 1704067200, 0);
    CHECK_NEAR(cJSON_GetArrayItem(ts, 1)->valuedouble, 1704067320, 0);
    /* 100 distinct values live in a histogram: within its 1% */
    CHECK_NEAR(cJSON_GetArrayItem(vs, 0)->valuedouble, 99, 0.99);
    CHECK_NEAR(cJSON_GetArrayItem(vs, 1)->valuedouble, 500, 0);
    CHECK_STR(cm_json_str(lat, "Label", ""), "Lat");
    CHECK_STR(cm_json_str(lat, "StatusCode", ""), "Complete");
    vs = cJSON_GetObjectItem(result(j, "tot"), "Values");
    CHECK_NEAR(cJSON_GetArrayItem(vs, 0)->valuedouble, 109, 0.99);
    CHECK_NEAR(cJSON_GetArrayItem(vs, 1)->valuedouble, 520, 0);
    vs = cJSON_GetObjectItem(result(j, "avg"), "Values");
    CHECK_INT(cJSON_GetArraySize(vs), 2);
    CHECK_NEAR(cJSON_GetArrayItem(vs, 0)->valuedouble, 15, 0);
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(result(j, "div"), "Values")), 0);
    vs = cJSON_GetObjectItem(result(j, "neg"), "Values");
    CHECK_NEAR(cJSON_GetArrayItem(vs, 1)->valuedouble, -41, 0);
    CHECK(cJSON_IsArray(cJSON_GetObjectItem(j, "Messages")));
    cJSON_Delete(j);
    /* default order is newest first; per-second data at 1 s periods */
    j = json(cw, "GetMetricData",
             "{\"StartTime\":1704067200,\"EndTime\":1704067500,\"MetricDataQueries\":["
             "{\"Id\":\"r\",\"MetricStat\":{\"Metric\":{\"Namespace\":\"App\",\"MetricName\":"
             "\"Req\"},\"Period\":60,\"Stat\":\"Sum\"}},"
             "{\"Id\":\"hi\",\"MetricStat\":{\"Metric\":{\"Namespace\":\"App\",\"MetricName\":"
             "\"Lat\"},\"Period\":1,\"Stat\":\"SampleCount\"}}]}");
    vs = cJSON_GetObjectItem(result(j, "r"), "Values");
    CHECK_NEAR(cJSON_GetArrayItem(vs, 0)->valuedouble, 20, 0);
    ts = cJSON_GetObjectItem(result(j, "hi"), "Timestamps");
    CHECK_NEAR(cJSON_GetArrayItem(ts, 1)->valuedouble, 1704067205, 0);
    cJSON_Delete(j);
    j = json(cw, "GetMetricStatistics",
             "{\"Namespace\":\"App\",\"MetricName\":\"Lat\",\"StartTime\":1704067200,"
             "\"EndTime\":1704067500,\"Period\":300,\"Statistics\":[\"Maximum\",\"Average\"],"
             "\"ExtendedStatistics\":[\"p50\"]}");
    const cJSON *dp = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "Datapoints"), 0);
    CHECK_NEAR(cm_json_num(dp, "Maximum", 0), 500, 0);
    CHECK_NEAR(cm_json_num(dp, "Average", 0), 5550.0 / 101, 1e-9);
    CHECK_NEAR(cm_json_num(cJSON_GetObjectItem(dp, "ExtendedStatistics"), "p50", 0), 51, 0.51);
    CHECK_NEAR(cm_json_num(dp, "Timestamp", 0), 1704067200, 0);
    cJSON_Delete(j);
    j = json(cw, "ListMetrics", "{}");
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "Metrics")), 2);
    cJSON_Delete(j);
    /* errors carry the query code in a header and a qualified __type */
    j = json(cw, "PutMetricData", "{\"MetricData\":[{\"MetricName\":\"x\",\"Value\":1}]}");
    CHECK_INT(last_status, 400);
    CHECK_STR(cm_json_str(j, "__type", ""),
              "com.amazonaws.cloudwatch#MissingRequiredParameterException");
    CHECK(strstr(last_headers, "x-amzn-query-error: MissingParameter;Sender\r\n") != NULL);
    cJSON_Delete(j);
    j = json(cw, "GetMetricData",
             "{\"StartTime\":1704067200,\"EndTime\":1704067500,"
             "\"MetricDataQueries\":[{\"Id\":\"m\",\"MetricStat\":{"
             "\"Metric\":{\"Namespace\":\"App\",\"MetricName\":\"Lat\"},"
             "\"Period\":60,\"Stat\":\"tm99\"}}]}");
    CHECK_INT(last_status, 400);
    cJSON_Delete(j);
    j = json(cw, "DescribeAlarms", "{}");
    CHECK_INT(last_status, 400);
    CHECK(strstr(last_headers, "x-amzn-query-error: InvalidAction;Sender") != NULL);
    cJSON_Delete(j);
    char *r = call_raw(cw, "GraniteServiceVersion20100801.ListMetrics", "{nope", 5, 0);
    CHECK_INT(last_status, 400);
    free(r);
    sd_cw_free(cw);
}

static void test_gzip(void)
{
    struct sd_cw *cw = sd_cw_new(NULL);
    const char *body = "{\"Namespace\":\"Z\",\"MetricData\":[{\"MetricName\":\"Big\",\"Timestamp\":"
                       "1704067200,\"Values\":[1,2,3],\"Counts\":[3,1,0]}]}";
    unsigned char gz[512];
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    CHECK_INT(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (Bytef *)(uintptr_t)body;
    zs.avail_in = (uInt)strlen(body);
    zs.next_out = gz;
    zs.avail_out = sizeof gz;
    CHECK_INT(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t n = sizeof gz - zs.avail_out;
    deflateEnd(&zs);
    char *r = call_raw(cw, "GraniteServiceVersion20100801.PutMetricData", (const char *)gz, n, 1);
    CHECK_INT(last_status, 200);
    free(r);
    double v;
    CHECK_INT(sd_cw_stat(cw, "Z", "Big", NULL, 0, NOW_MS, NOW_MS + 60000, "SampleCount", &v), 1);
    CHECK_NEAR(v, 4, 0); /* count 0 records nothing */
    CHECK_INT(sd_cw_stat(cw, "Z", "Big", NULL, 0, NOW_MS, NOW_MS + 60000, "Sum", &v), 1);
    CHECK_NEAR(v, 5, 0);
    /* truncated gzip is an error, not a crash */
    r = call_raw(cw, "GraniteServiceVersion20100801.PutMetricData", (const char *)gz, n / 2, 1);
    CHECK_INT(last_status, 400);
    free(r);
    sd_cw_free(cw);
}

/* Percentiles through the wire: 1500 skewed samples via PutMetricData
 * (150 values per datum, as clients batch them), p90/p99 from
 * GetMetricData within the histogram's 1%. */
static void test_wire_percentiles(void)
{
    struct sd_cw *cw = sd_cw_new(NULL);
    enum { N = 1500 };
    double x[N];
    samples(x, N);
    struct cm_buf b;
    cm_buf_init(&b, 0);
    cm_buf_puts(&b, "{\"Namespace\":\"P\",\"MetricData\":[");
    for (int d = 0; d < N / 150; d++) {
        cm_buf_printf(&b, "%s{\"MetricName\":\"L\",\"Timestamp\":1704067210,\"Values\":[",
                      d ? "," : "");
        for (int i = 0; i < 150; i++)
            cm_buf_printf(&b, "%s%.17g", i ? "," : "", x[d * 150 + i]);
        cm_buf_puts(&b, "]}");
    }
    cm_buf_puts(&b, "]}");
    cJSON_Delete(json(cw, "PutMetricData", b.data));
    CHECK_INT(last_status, 200);
    cm_buf_deinit(&b);
    qsort(x, N, sizeof x[0], dbl_cmp);
    cJSON *j = json(cw, "GetMetricData",
                    "{\"StartTime\":1704067200,\"EndTime\":1704067260,\"MetricDataQueries\":["
                    "{\"Id\":\"a\",\"MetricStat\":{\"Metric\":{\"Namespace\":\"P\",\"MetricName\":"
                    "\"L\"},\"Period\":60,\"Stat\":\"p90\"}},"
                    "{\"Id\":\"b\",\"MetricStat\":{\"Metric\":{\"Namespace\":\"P\",\"MetricName\":"
                    "\"L\"},\"Period\":60,\"Stat\":\"p99.9\"}}]}");
    double a = cJSON_GetArrayItem(cJSON_GetObjectItem(result(j, "a"), "Values"), 0)->valuedouble;
    double bb = cJSON_GetArrayItem(cJSON_GetObjectItem(result(j, "b"), "Values"), 0)->valuedouble;
    double wa = exact_pct(x, N, 90), wb = exact_pct(x, N, 99.9);
    CHECK_MSG(fabs(a - wa) <= wa * 0.01 + 0.001, "p90 %g vs %g", a, wa);
    CHECK_MSG(fabs(bb - wb) <= wb * 0.01 + 0.001, "p99.9 %g vs %g", bb, wb);
    cJSON_Delete(j);
    sd_cw_free(cw);
}

int main(void)
{
    test_stats();
    test_percentiles_histogram();
    test_retention_and_memory();
    test_emf();
    test_expr_check();
    test_query_protocol();
    test_json_protocol();
    test_gzip();
    test_wire_percentiles();
    return TEST_REPORT();
}
