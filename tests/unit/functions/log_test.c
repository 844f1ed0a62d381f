/* log_test.c: the structured JSON log lines: fields, coldStart transitions,
 * correlation ids, escaping, extra fields, level filtering, one line per
 * write on the configured fd. */
#include "harness.h"
#include "rt.h"

#include "cm/err.h"
#include "cm/json.h"

#include <math.h>
#include <stdlib.h>

static cJSON *format_line(enum cm_log_level level, const struct rt_log_field *f, size_t n,
                          const char *msg)
{
    struct cm_buf out;
    cm_buf_init(&out, 0);
    CHECK_INT(rt_log_format(&out, 1795331580123000000LL, level, f, n, msg, strlen(msg)), 0);
    CHECK(out.len > 0 && out.data[out.len - 1] == '\n');
    CHECK(memchr(out.data, '\n', out.len - 1) == NULL); /* exactly one line */
    cJSON *j = cm_json_parse(out.data, out.len - 1);
    CHECK_MSG(j != NULL, "not JSON: %s", cm_buf_cstr(&out));
    cm_buf_deinit(&out);
    return j;
}

static void test_fields(void)
{
    rt_log_setup("create-order", "orders", 1);
    cJSON *j = format_line(CM_LOG_INFO, NULL, 0, "init");
    CHECK_STR(cm_json_str(j, "timestamp", ""), "2026-11-22T07:13:00.123Z");
    CHECK_STR(cm_json_str(j, "level", ""), "INFO");
    CHECK_STR(cm_json_str(j, "message", ""), "init");
    CHECK_STR(cm_json_str(j, "functionName", ""), "create-order");
    CHECK_STR(cm_json_str(j, "service", ""), "orders");
    CHECK_INT(cm_json_bool(j, "coldStart", -1), 1); /* init belongs to the cold start */
    CHECK(cJSON_GetObjectItemCaseSensitive(j, "requestId") == NULL);
    CHECK(cJSON_GetObjectItemCaseSensitive(j, "correlationId") == NULL);
    cJSON_Delete(j);

    rt_log_begin_invocation("req-1", "corr-1", 1);
    j = format_line(CM_LOG_WARN, NULL, 0, "first");
    CHECK_STR(cm_json_str(j, "level", ""), "WARN");
    CHECK_STR(cm_json_str(j, "requestId", ""), "req-1");
    CHECK_STR(cm_json_str(j, "correlationId", ""), "corr-1");
    CHECK_INT(cm_json_bool(j, "coldStart", -1), 1);
    cJSON_Delete(j);
    rt_log_set_correlation_id("record-7");
    j = format_line(CM_LOG_DEBUG, NULL, 0, "record");
    CHECK_STR(cm_json_str(j, "correlationId", ""), "record-7");
    cJSON_Delete(j);
    rt_log_end_invocation();

    j = format_line(CM_LOG_ERROR, NULL, 0, "between");
    CHECK_INT(cm_json_bool(j, "coldStart", -1), 0);
    CHECK(cJSON_GetObjectItemCaseSensitive(j, "requestId") == NULL);
    cJSON_Delete(j);

    rt_log_begin_invocation("req-2", NULL, 0);
    struct rt_log_field f[] = {{"orderId", "o-1", 0}, {"qty", NULL, 3},
                               {"ratio", NULL, 0.25}, {"bad", NULL, NAN},
                               {NULL, "skipped", 0},  {"quote\"key", "v\"al\n", 0}};
    j = format_line(CM_LOG_INFO, f, sizeof f / sizeof f[0], "tab\there \"quoted\" \x01");
    CHECK_INT(cm_json_bool(j, "coldStart", -1), 0);
    CHECK_STR(cm_json_str(j, "requestId", ""), "req-2");
    CHECK(cJSON_GetObjectItemCaseSensitive(j, "correlationId") == NULL);
    CHECK_STR(cm_json_str(j, "message", ""), "tab\there \"quoted\" \x01");
    CHECK_STR(cm_json_str(j, "orderId", ""), "o-1");
    CHECK_INT(cm_json_int(j, "qty", -1), 3);
    CHECK_NEAR(cm_json_num(j, "ratio", -1), 0.25, 1e-12);
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "bad")));
    CHECK_STR(cm_json_str(j, "quote\"key", ""), "v\"al\n");
    cJSON_Delete(j);
    rt_log_end_invocation();

    /* Long correlation ids are cut, not overflowing. */
    char longid[300];
    memset(longid, 'c', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    rt_log_set_correlation_id(longid);
    CHECK_INT(strlen(rt_log_correlation_id()), RT_CORR_ID_MAX - 1);
    rt_log_set_correlation_id("");
    CHECK_STR(rt_log_correlation_id(), "");
}

static void test_output(void)
{
    FILE *tmp = tmpfile();
    CHECK(tmp != NULL);
    if (!tmp)
        return;
    rt_log_setup("fn", NULL, fileno(tmp));
    rt_log_set_level(CM_LOG_INFO);
    rt_debug("hidden %d", 1);
    rt_info("shown %d", 2);
    struct rt_log_field f[] = {{"k", "v", 0}};
    rt_log_fields(CM_LOG_ERROR, f, 1, "with %s", "fields");
    rt_log_set_level(CM_LOG_OFF);
    rt_err("also hidden");
    rt_log_set_level(CM_LOG_INFO);
    /* A message over 8 KiB is cut, the line stays valid JSON. */
    char *big = malloc(20000);
    memset(big, 'x', 19999);
    big[19999] = '\0';
    rt_info("%s", big);
    free(big);
    rewind(tmp);
    char line[32768];
    int n = 0;
    const char *want[] = {"shown 2", "with fields", NULL};
    while (fgets(line, sizeof line, tmp)) {
        cJSON *j = cm_json_parse(line, strlen(line) - 1);
        CHECK_MSG(j != NULL, "line %d not JSON", n);
        if (n < 2)
            CHECK_STR(cm_json_str(j, "message", ""), want[n]);
        if (n == 1)
            CHECK_STR(cm_json_str(j, "k", ""), "v");
        if (n == 2)
            CHECK_INT(strlen(cm_json_str(j, "message", "")), 8192);
        CHECK_STR(cm_json_str(j, "service", ""), "fn"); /* service defaults to the name */
        cJSON_Delete(j);
        n++;
    }
    CHECK_INT(n, 3);
    fclose(tmp);
    rt_log_setup("fn", NULL, 1);
}

static void test_levels(void)
{
    enum cm_log_level l = CM_LOG_OFF;
    CHECK_INT(rt_log_parse_level("DEBUG", &l), 0);
    CHECK_INT(l, CM_LOG_DEBUG);
    CHECK_INT(rt_log_parse_level("Warning", &l), 0);
    CHECK_INT(l, CM_LOG_WARN);
    CHECK_INT(rt_log_parse_level("critical", &l), 0);
    CHECK_INT(l, CM_LOG_ERROR);
    CHECK_INT(rt_log_parse_level("off", &l), 0);
    CHECK_INT(l, CM_LOG_OFF);
    CHECK_INT(rt_log_parse_level("verbose", &l), CM_EINVAL);
    CHECK_INT(rt_log_parse_level(NULL, &l), CM_EINVAL);
}

int main(void)
{
    test_fields();
    test_output();
    test_levels();
    return TEST_REPORT();
}
