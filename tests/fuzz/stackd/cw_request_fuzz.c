/* cw_request_fuzz.c: whole CloudWatch requests. The first byte picks the
 * protocol and operation, the rest is the body (a form body for awsQuery,
 * JSON for awsJson1_0). The same store lives across inputs, so puts feed
 * later gets. Every answer is 200 or 400 with a body of the right kind. */
#include "sd_cw.h"

#include <cjson/cJSON.h>
#include <stdio.h>

#include <stdlib.h>
#include <string.h>

static struct sd_cw *cw;
static const char *ops[] = {"PutMetricData", "GetMetricData", "GetMetricStatistics", "ListMetrics"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cw) {
        struct sd_cw_config cfg = {.max_metrics = 200, .max_bytes = 4 << 20};
        cw = sd_cw_new(&cfg);
    }
    if (size == 0)
        return 0;
    int json = data[0] & 1;
    char target[96];
    snprintf(target, sizeof target, "GraniteServiceVersion20100801.%s", ops[(data[0] >> 1) & 3]);
    struct sd_req r;
    memset(&r, 0, sizeof r);
    r.method = "POST";
    r.path = "/";
    r.query = "";
    if (json) {
        r.headers[0] = (struct sd_header){"X-Amz-Target", 12, target, strlen(target)};
        r.n_headers = 1;
    }
    r.body = (const char *)data + 1;
    r.body_len = size - 1;
    r.recv_wall_ns = 1704068000000LL * 1000000;
    struct sd_resp resp;
    sd_resp_init(&resp);
    sd_cw_handle(cw, &r, &resp);
    if (resp.status != 200 && resp.status != 400)
        abort();
    if (json) {
        cJSON *j = cJSON_ParseWithLength(resp.body.data, resp.body.len);
        if (!j)
            abort();
        cJSON_Delete(j);
    } else if (!resp.body.data || strncmp(resp.body.data, "<?xml", 5) != 0) {
        abort();
    }
    sd_resp_deinit(&resp);
    return 0;
}
