/* cw_bench: throughput of stackd's CloudWatch metrics and Logs paths that a
 * load test drives: recording samples, EMF ingestion from function log
 * lines, plain log lines, FilterLogEvents over a full stream, and
 * GetMetricData percentiles over three hours of histogram buckets.
 * Usage: cw_bench [scale]   (scale 1 = the documented sizes) */
#include "cm/clock.h"
#include "cm/hist.h"
#include "sd_cw.h"
#include "sd_logs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0_MS 1704067200000LL

static double secs_since(int64_t t0)
{
    return (double)(cm_clock_mono_ns() - t0) / 1e9;
}

static void report(const char *what, long n, double s, const char *unit)
{
    printf("%-44s %10ld %-8s %8.3f s  %12.0f %s/s  %8.0f ns each\n", what, n, unit, s, n / s, unit,
           s * 1e9 / (double)n);
}

static void bench_record(long n)
{
    struct sd_cw *cw = sd_cw_new(NULL);
    struct sd_dim d = {"FunctionName", "create-order"};
    int64_t t = cm_clock_mono_ns();
    for (long i = 0; i < n; i++)
        sd_cw_record(cw, "Orders", "Latency", &d, 1, (double)(i % 5000) * 0.37 + 1, "Milliseconds",
                     T0_MS + (i * 60000 / (n / 60 + 1)));
    report("sd_cw_record (1 metric, 60 minutes)", n, secs_since(t), "samples");
    printf("    store %zu bytes for %zu metric(s)\n", sd_cw_bytes(cw), sd_cw_metric_count(cw));
    sd_cw_free(cw);
}

static void bench_emf(long n)
{
    struct sd_cw *cw = sd_cw_new(NULL);
    char doc[512];
    int64_t t = cm_clock_mono_ns();
    for (long i = 0; i < n; i++) {
        int len = snprintf(doc, sizeof doc,
                           "{\"_aws\":{\"Timestamp\":%lld,\"CloudWatchMetrics\":[{\"Namespace\":"
                           "\"Orders\",\"Dimensions\":[[\"service\",\"function\"]],\"Metrics\":[{"
                           "\"Name\":\"OrderLatency\",\"Unit\":\"Milliseconds\"},{\"Name\":"
                           "\"Orders\",\"Unit\":\"Count\"}]}]},\"service\":\"orders\",\"function\":"
                           "\"create-order\",\"OrderLatency\":%.3f,\"Orders\":1,\"requestId\":"
                           "\"r-%ld\",\"correlationId\":\"c-%ld\"}",
                           (long long)(T0_MS + i), (double)(i % 997) * 1.3, i, i);
        sd_cw_ingest_emf(cw, doc, (size_t)len, 0);
    }
    report("sd_cw_ingest_emf (2 metrics per document)", n, secs_since(t), "docs");
    sd_cw_free(cw);
}

static void bench_logs(long n)
{
    struct sd_logs *lg = sd_logs_new(NULL);
    char line[256];
    int64_t t = cm_clock_mono_ns();
    for (long i = 0; i < n; i++) {
        int len = snprintf(line, sizeof line,
                           "{\"level\":\"%s\",\"message\":\"order created\",\"orderId\":\"o-%ld\","
                           "\"correlationId\":\"c-%ld\",\"durationMs\":%ld}",
                           i % 100 ? "INFO" : "ERROR", i, i, i % 300);
        sd_logs_put(lg, "/aws/lambda/create-order", "2024/01/01/[$LATEST]abc", T0_MS + i, line,
                    (size_t)len, T0_MS + i);
    }
    report("sd_logs_put (plain JSON lines)", n, secs_since(t), "lines");
    /* FilterLogEvents over the whole stream: term pattern and JSON pattern */
    static const char *pats[] = {"ERROR", "{ $.durationMs > 290 }"};
    for (int k = 0; k < 2; k++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"logGroupName\":\"/aws/lambda/create-order\",\"filterPattern\":\"%s\"}",
                 k ? "{ $.durationMs > 290 }" : "ERROR");
        struct sd_req r;
        memset(&r, 0, sizeof r);
        r.method = "POST";
        r.path = "/";
        r.query = "";
        const char *tg = "Logs_20140328.FilterLogEvents";
        r.headers[0] = (struct sd_header){"X-Amz-Target", 12, tg, strlen(tg)};
        r.n_headers = 1;
        r.body = body;
        r.body_len = strlen(body);
        r.recv_wall_ns = (T0_MS + n) * 1000000;
        struct sd_resp resp;
        sd_resp_init(&resp);
        t = cm_clock_mono_ns();
        sd_logs_handle(lg, &r, &resp);
        double s = secs_since(t);
        printf("FilterLogEvents '%s' over %ld events: %.1f ms, %zu response bytes\n", pats[k], n,
               s * 1e3, resp.body.len);
        sd_resp_deinit(&resp);
    }
    sd_logs_free(lg);
}

static void bench_get_metric_data(void)
{
    struct sd_cw *cw = sd_cw_new(NULL);
    /* 3 hours, 1000 samples a minute, so every bucket is a histogram */
    for (int m = 0; m < 180; m++)
        for (int i = 0; i < 1000; i++)
            sd_cw_record(cw, "Orders", "Latency", NULL, 0, (double)(i * 7 % 1000) + 0.5,
                         "Milliseconds", T0_MS + m * 60000LL + i);
    printf("    3 h of minute histograms: %zu bytes\n", sd_cw_bytes(cw));
    char body[512];
    snprintf(body, sizeof body,
             "{\"StartTime\":%lld,\"EndTime\":%lld,\"MetricDataQueries\":[{\"Id\":\"p\","
             "\"MetricStat\":{\"Metric\":{\"Namespace\":\"Orders\",\"MetricName\":\"Latency\"},"
             "\"Period\":60,\"Stat\":\"p99\"}},{\"Id\":\"q\",\"MetricStat\":{\"Metric\":{"
             "\"Namespace\":\"Orders\",\"MetricName\":\"Latency\"},\"Period\":10800,\"Stat\":"
             "\"p99.9\"}}]}",
             (long long)(T0_MS / 1000), (long long)(T0_MS / 1000 + 10800));
    struct sd_req r;
    memset(&r, 0, sizeof r);
    r.method = "POST";
    r.path = "/";
    r.query = "";
    const char *tg = "GraniteServiceVersion20100801.GetMetricData";
    r.headers[0] = (struct sd_header){"X-Amz-Target", 12, tg, strlen(tg)};
    r.n_headers = 1;
    r.body = body;
    r.body_len = strlen(body);
    r.recv_wall_ns = (T0_MS + 10800000) * 1000000;
    struct sd_resp resp;
    sd_resp_init(&resp);
    int64_t t = cm_clock_mono_ns();
    sd_cw_handle(cw, &r, &resp);
    printf("GetMetricData p99 x 180 minutes + p99.9 over 3 h: %.1f ms (status %d)\n",
           secs_since(t) * 1e3, resp.status);
    sd_resp_deinit(&resp);
    sd_cw_free(cw);
}

int main(int argc, char **argv)
{
    long scale = argc > 1 ? strtol(argv[1], NULL, 10) : 1;
    if (scale < 1)
        scale = 1;
    struct cm_hist *h = NULL;
    cm_hist_new(1, 1000000000000000LL, 2, &h);
    printf("one bucket histogram (1..1e15, 2 digits): %zu bytes\n", cm_hist_footprint(h));
    cm_hist_free(h);
    bench_record(2000000 * scale);
    bench_emf(200000 * scale);
    bench_logs(100000 * scale);
    bench_get_metric_data();
    return 0;
}
