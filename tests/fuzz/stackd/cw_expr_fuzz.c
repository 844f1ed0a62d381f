/* cw_expr_fuzz.c: metric math. The input is parsed by sd_cw_expr_check and
 * then evaluated through a GetMetricData call against a store holding two
 * metrics (ids m1, m2); the answer must be a well-formed JSON response
 * (200) or a CloudWatch error (400), never a crash or a hang. */
#include "cm/buf.h"
#include "cm/json.h"
#include "sd_cw.h"

#include <stdlib.h>
#include <string.h>

static struct sd_cw *cw;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cw = sd_cw_new(NULL);
    for (int i = 0; i < 300; i++) {
        sd_cw_record(cw, "F", "A", NULL, 0, i % 17, NULL, 1704067200000LL + i * 1000);
        sd_cw_record(cw, "F", "B", NULL, 0, i % 5 - 2, NULL, 1704067200000LL + i * 2000);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cw)
        LLVMFuzzerInitialize(NULL, NULL);
    const char *why = NULL;
    int ok = sd_cw_expr_check((const char *)data, size, &why) == 0;
    if (!ok && !why)
        abort();
    struct cm_buf body;
    cm_buf_init(&body, 0);
    cm_buf_puts(&body, "{\"StartTime\":1704067200,\"EndTime\":1704068000,\"MetricDataQueries\":["
                       "{\"Id\":\"m1\",\"MetricStat\":{\"Metric\":{\"Namespace\":\"F\","
                       "\"MetricName\":\"A\"},\"Period\":60,\"Stat\":\"p90\"}},"
                       "{\"Id\":\"m2\",\"MetricStat\":{\"Metric\":{\"Namespace\":\"F\","
                       "\"MetricName\":\"B\"},\"Period\":60,\"Stat\":\"Sum\"}},"
                       "{\"Id\":\"e1\",\"Expression\":");
    cm_json_append_string(&body, (const char *)data, size);
    cm_buf_puts(&body, "}]}");
    struct sd_req r;
    memset(&r, 0, sizeof r);
    r.method = "POST";
    r.path = "/";
    r.query = "";
    const char *t = "GraniteServiceVersion20100801.GetMetricData";
    r.headers[0] = (struct sd_header){"X-Amz-Target", 12, t, strlen(t)};
    r.n_headers = 1;
    r.body = body.data;
    r.body_len = body.len;
    r.recv_wall_ns = 1704068000000LL * 1000000;
    struct sd_resp resp;
    sd_resp_init(&resp);
    sd_cw_handle(cw, &r, &resp);
    cJSON *j = cJSON_ParseWithLength(resp.body.data, resp.body.len);
    if (!j || (resp.status != 200 && resp.status != 400))
        abort();
    /* a body with NUL bytes is not valid JSON text, so only then may a
     * parseable expression be rejected as malformed request */
    if (ok && resp.status == 400 && !memchr(data, 0, size) &&
        strstr(cm_json_str(j, "message", ""), "Error in expression") == NULL)
        abort();
    cJSON_Delete(j);
    sd_resp_deinit(&resp);
    cm_buf_deinit(&body);
    return 0;
}
