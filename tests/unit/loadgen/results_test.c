/* results_test.c: the interval outputs decode back (hlog lines are valid
 * HdrHistogram V2 base64 with the recorded counts; timeseries lines are JSON)
 * and summary.json / report.md are written with the documented keys. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm/buf.h"
#include "cm/hist.h"
#include "cm/json.h"
#include "harness.h"
#include "results.h"
#include "scenario.h"
#include "stats.h"

static const char scen[] =
    "phases: [{duration: 2s, rate: 10/s}]\n"
    "requests: [{name: create, path: /a}, {name: get, path: /b}]\n"
    "thresholds: ['http.latency.p99 < 1s', 'http{name:get}.ttfb.p50 < 1s']\n";

int main(void)
{
    struct lg_scenario *sc = NULL;
    char err[512];
    CHECK_INT(lg_scenario_parse(scen, strlen(scen), "r.yaml", &sc, err, sizeof(err)), 0);
    if (!sc)
        return TEST_REPORT();
    struct lg_stats *s = lg_stats_new(2);
    for (int i = 1; i <= 1000; i++) {
        lg_stats_hist(s, 0, LG_H_LATENCY, i * 100);
        lg_stats_count(s, 0, LG_C_REQUESTS, 1);
        lg_stats_count(s, 0, LG_C_COMPLETED, 1);
        lg_stats_count(s, 0, LG_C_OK, 1);
    }
    cm_hist_record(s->by_class[1], 500);
    cm_hist_record(s->sched_lag, 20);

    struct cm_buf b;
    cm_buf_init(&b, 0);
    CHECK_INT(lg_results_hlog(&b, s, sc, 3.0, 1.0), 0);
    const char *text = cm_buf_cstr(&b);
    CHECK(strstr(text, "Tag=http.latency,3.000,1.000,") != NULL);
    CHECK(strstr(text, "Tag=http.latency{name:create},") != NULL);
    CHECK(strstr(text, "Tag=http.latency{name:get},") == NULL); /* empty: no line */
    CHECK(strstr(text, "Tag=http.latency{status:2xx},") != NULL);
    CHECK(strstr(text, "Tag=generator.lag,") != NULL);
    /* decode the overall latency line back */
    const char *line = strstr(text, "Tag=http.latency,");
    const char *last = line ? strchr(line, '\n') : NULL;
    const char *comma = last;
    while (comma && comma > line && comma[-1] != ',')
        comma--;
    struct cm_hist *h = NULL;
    if (comma && last)
        CHECK_INT(cm_hist_decode_base64(comma, (size_t)(last - comma), &h), 0);
    if (h) {
        CHECK_INT(cm_hist_count(h), 1000);
        CHECK_NEAR((double)cm_hist_percentile(h, 50), 50000, 50);
        cm_hist_free(h);
    }

    cm_buf_reset(&b);
    CHECK_INT(lg_results_timeseries(&b, s, 3.0, 1.0, "steady \"x\"", 10, 2, 1), 0);
    cJSON *ts = cm_json_parse(b.data, b.len);
    CHECK(ts != NULL);
    CHECK_NEAR(cm_json_num(ts, "rps", -1), 1000, 1e-9);
    CHECK_STR(cm_json_str(ts, "phase", ""), "steady \"x\"");
    CHECK_NEAR(cm_json_num(ts, "p50_ms", -1), 50, 0.1);
    cJSON_Delete(ts);
    cm_buf_deinit(&b);

    char dir[] = "/tmp/lg_results_test_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    struct lg_thresh_result tr[2] = {{0}};
    struct lg_run_result r = {.sc = sc,
                              .target = "http://127.0.0.1:1",
                              .out_dir = dir,
                              .recorded_s = 2,
                              .planned_s = 2,
                              .workers = 1,
                              .total = s,
                              .tr = tr,
                              .pass = 0,
                              .valid = 1,
                              .complete = 1};
    tr[0].pass = 1, tr[0].has_samples = 1, tr[0].value = 99000;
    CHECK_INT(lg_results_write(&r), 0);
    char path[256];
    snprintf(path, sizeof(path), "%s/summary.json", dir);
    FILE *f = fopen(path, "r");
    char *js = calloc(1, 1 << 20);
    size_t n = f ? fread(js, 1, (1 << 20) - 1, f) : 0;
    if (f)
        fclose(f);
    cJSON *o = cm_json_parse(js, n);
    CHECK(o != NULL);
    CHECK_INT(cm_json_int(o, "format_version", 0), 1);
    CHECK(!cm_json_bool(o, "pass", 1) && cm_json_bool(o, "valid", 0));
    const cJSON *http = cJSON_GetObjectItem(o, "http");
    const cJSON *lat = cJSON_GetObjectItem(http, "latency");
    CHECK_NEAR(cm_json_num(lat, "p50", 0), 50, 0.1);
    CHECK(cJSON_GetObjectItem(lat, "p99.99") != NULL);
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(http, "endpoints"), "get") != NULL);
    const cJSON *th = cJSON_GetObjectItem(o, "thresholds");
    CHECK_INT(cJSON_GetArraySize(th), 2);
    CHECK(!cm_json_bool(cJSON_GetArrayItem(th, 1), "has_samples", 1));
    cJSON_Delete(o);
    free(js);
    snprintf(path, sizeof(path), "%s/report.md", dir);
    CHECK(access(path, R_OK) == 0);
    remove(path);
    snprintf(path, sizeof(path), "%s/summary.json", dir);
    remove(path);
    rmdir(dir);
    lg_stats_free(s);
    lg_scenario_free(sc);
    return TEST_REPORT();
}
