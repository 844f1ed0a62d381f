/* logs_request_fuzz.c: whole CloudWatch Logs requests: the first byte picks
 * the operation, the rest is the JSON body. The store persists across inputs
 * (bounded), every answer is 200 or 400 with a JSON body. */
#include "sd_logs.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <stdio.h>

static struct sd_logs *lg;
static const char *ops[] = {
    "CreateLogGroup",     "CreateLogStream", "PutLogEvents",    "DescribeLogGroups",
    "DescribeLogStreams", "GetLogEvents",    "FilterLogEvents", "Nope"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!lg) {
        struct sd_logs_config cfg = {.max_events_per_stream = 1000,
                                     .max_bytes = 1 << 20,
                                     .max_groups = 50,
                                     .max_streams_per_group = 50};
        lg = sd_logs_new(&cfg);
        sd_logs_put(lg, "g", "s", 1704067200000LL, "hello ERROR", 11, 1704067200000LL);
        sd_logs_put(lg, "g", "t", 1704067201000LL, "{\"a\":1}", 7, 1704067200000LL);
    }
    if (size == 0)
        return 0;
    char target[64];
    snprintf(target, sizeof target, "Logs_20140328.%s", ops[data[0] & 7]);
    struct sd_req r;
    memset(&r, 0, sizeof r);
    r.method = "POST";
    r.path = "/";
    r.query = "";
    r.headers[0] = (struct sd_header){"X-Amz-Target", 12, target, strlen(target)};
    r.n_headers = 1;
    r.body = (const char *)data + 1;
    r.body_len = size - 1;
    r.recv_wall_ns = 1704068000000LL * 1000000;
    struct sd_resp resp;
    sd_resp_init(&resp);
    sd_logs_handle(lg, &r, &resp);
    if (resp.status != 200 && resp.status != 400)
        abort();
    cJSON *j = cJSON_ParseWithLength(resp.body.data, resp.body.len);
    if (!j)
        abort();
    cJSON_Delete(j);
    sd_resp_deinit(&resp);
    return 0;
}
