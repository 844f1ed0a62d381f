/* ingest: POST /ingest, the "accept now, process later" pattern: checks
 * that the body is a JSON object, sends it unchanged to the queue with the
 * correlation id as message attribute `correlation_id` (and `traceparent`
 * when the request has one) and answers 202 {"accepted":true,"messageId",
 * "correlationId"}. 400 for a body that is not a JSON object.
 * Environment: INGEST_QUEUE_URL, else ORDERS_QUEUE_URL (one is required). */
#include "orders.h"
#include "rt.h"

#include "cm/clock.h"
#include "cm/corr.h"
#include "cm/err.h"
#include "cm/json.h"

#include <stdlib.h>
#include <string.h>

#define FN_NAME "ingest"

struct app {
    struct ord_aws *aws;
    const char *queue_url;
};

static void add_attr(cJSON *attrs, const char *name, const char *value)
{
    cJSON *a = cJSON_AddObjectToObject(attrs, name);
    cJSON_AddStringToObject(a, "DataType", "String");
    cJSON_AddStringToObject(a, "StringValue", value);
}

static int check_body(const struct rt_apigw_request *http, struct ord_invalid *why)
{
    if (http->body_len == 0) {
        *why = (struct ord_invalid){"request body is required", ""};
        return CM_EINVAL;
    }
    if (http->body_len > ORD_BODY_MAX_BYTES) {
        *why = (struct ord_invalid){"request body must be at most 262144 bytes", ""};
        return CM_EINVAL;
    }
    cJSON *j = cm_json_parse(http->body, http->body_len);
    int ok = cJSON_IsObject(j);
    cJSON_Delete(j);
    if (!ok) {
        *why = (struct ord_invalid){"request body must be a JSON object", ""};
        return CM_EINVAL;
    }
    return 0;
}

static int accepted(const struct rt_invocation *inv, const char *mid, const char *corr,
                    struct cm_buf *out)
{
    struct cm_buf b;
    cm_buf_init(&b, 4096);
    int rc = cm_buf_puts(&b, "{\"accepted\":true,\"messageId\":");
    rc = rc ? rc : cm_json_append_string(&b, mid, strlen(mid));
    rc = rc ? rc : cm_buf_puts(&b, ",\"correlationId\":");
    rc = rc ? rc : cm_json_append_string(&b, corr, strlen(corr));
    rc = rc ? rc : cm_buf_putc(&b, '}');
    rc = rc ? rc : rt_apigw_respond_json(inv, 202, b.data, out);
    cm_buf_deinit(&b);
    return rc;
}

static int handle(const struct rt_invocation *inv, struct app *app,
                  const struct rt_apigw_request *http, struct cm_buf *out)
{
    struct ord_invalid why;
    if (check_body(http, &why) != 0) {
        rt_metrics_add(inv->metrics, "IngestRejected", RT_UNIT_COUNT, 1);
        return ord_respond_invalid(inv, &why, out);
    }
    char fresh[CM_CORR_ID_LEN + 1];
    const char *corr = inv->correlation_id;
    if (!corr[0]) {
        cm_corr_new_id(cm_clock_wall_ns() / CM_NS_PER_MS, fresh);
        corr = fresh;
    }
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "QueueUrl", app->queue_url);
    cJSON_AddItemToObject(b, "MessageBody", cJSON_CreateString(http->body));
    cJSON *attrs = cJSON_AddObjectToObject(b, "MessageAttributes");
    add_attr(attrs, "correlation_id", corr);
    const char *tp = rt_apigw_header(http, "traceparent");
    if (tp && *tp)
        add_attr(attrs, "traceparent", tp);
    struct ord_resp r;
    int rc = ord_sqs(app->aws, "SendMessage", b, &r);
    if (rc) {
        rt_err("SendMessage failed: %s %s %s", cm_strerror(rc), r.err.code, r.err.message);
        rc = ord_respond_message(inv, ord_aws_transient(rc, &r) ? 503 : 500,
                                 "could not enqueue the message", out);
    } else {
        const char *mid = cm_json_str(r.json, "MessageId", "");
        struct rt_log_field f[] = {{"messageId", mid, 0}};
        rt_log_fields(CM_LOG_INFO, f, 1, "accepted");
        rt_metrics_add(inv->metrics, "MessagesIngested", RT_UNIT_COUNT, 1);
        rc = accepted(inv, mid, corr, out);
    }
    ord_resp_deinit(&r);
    cJSON_Delete(b);
    return rc;
}

static int handler(const struct rt_invocation *inv, const char *event, size_t len,
                   struct cm_buf *response, struct rt_error *err)
{
    struct app *app = inv->user;
    struct rt_apigw_request http;
    const char *why = NULL;
    ord_aws_begin(app->aws, inv);
    int rc = rt_apigw_request_from_json(inv->event_json, &http, &why);
    if (rc)
        rt_error_set(err, "InvalidEvent", "not an API Gateway event: %s", why ? why : "");
    else
        rc = handle(inv, app, &http, response);
    rt_apigw_request_deinit(&http);
    return rc;
}

static int init(void *user, struct rt_error *err)
{
    struct app *app = user;
    app->queue_url = getenv("INGEST_QUEUE_URL");
    if (!app->queue_url || !*app->queue_url)
        app->queue_url = getenv("ORDERS_QUEUE_URL");
    if (!app->queue_url || !*app->queue_url) {
        rt_error_set(err, "Runtime.ConfigError",
                     "INGEST_QUEUE_URL or ORDERS_QUEUE_URL must be set");
        return CM_EINVAL;
    }
    app->aws = ord_aws_new(ord_env_i64("ORDERS_AWS_TIMEOUT_MS", 3000, 100, 60000));
    return 0;
}

int main(void)
{
    static struct app app;
    struct rt_function fn = {.service = getenv("POWERTOOLS_SERVICE_NAME") ? NULL : FN_NAME,
                             .init = init,
                             .handler = handler,
                             .user = &app};
    return rt_run(&fn);
}
