/* ws-default: the WebSocket API's $default and `subscribe` routes. A frame
 * {"action":"subscribe","orderId":"<uuid>"} or {"action":"subscribe",
 * "customerName":"<name>"} stores the subscription in CONNECTIONS_TABLE
 * (pk "order#<id>" / "customer#<name>", sk "conn#<connectionId>") and
 * replies {"type":"subscribed",...} to the caller through @connections; any
 * other frame gets {"type":"error","message":...}. The route response has
 * no body: the reply goes only through @connections, so a gateway that
 * treats the route as two-way (stackd does) does not deliver it twice.
 * Environment: CONNECTIONS_TABLE (required); the @connections endpoint from
 * WS_MANAGEMENT_ENDPOINT, AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI, or
 * https://<domainName>/<stage> of the event. */
#include "orders.h"
#include "rt.h"

#include "cm/clock.h"
#include "cm/err.h"
#include "cm/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FN_NAME "ws-default"

struct app {
    struct ord_aws *aws;
    const char *table;
};

/* The subscription key for a subscribe frame, or an error sentence. */
static const char *subscription_key(const cJSON *msg, char *key, size_t cap, const char **kind,
                                    const char **value)
{
    const char *action = cm_json_str(msg, "action", NULL);
    if (!action)
        return "expected {\"action\":\"subscribe\",\"orderId\":...} or "
               "{\"action\":\"subscribe\",\"customerName\":...}";
    if (strcmp(action, "subscribe") != 0)
        return "unknown action; expected subscribe";
    const char *id = cm_json_str(msg, "orderId", NULL);
    const char *name = cm_json_str(msg, "customerName", NULL);
    if (id) {
        if (!ord_id_valid(id, strlen(id)))
            return "orderId must be a UUID";
        snprintf(key, cap, "order#%s", id);
        *kind = "orderId";
        *value = id;
        return NULL;
    }
    if (!name || !*name || strlen(name) > 4 * ORD_NAME_MAX_CHARS)
        return "subscribe needs orderId (a UUID) or customerName (1 to 200 characters)";
    snprintf(key, cap, "customer#%s", name);
    *kind = "customerName";
    *value = name;
    return NULL;
}

static void build_reply(const char *kind, const char *value, const char *error, struct cm_buf *b)
{
    if (error) {
        cm_buf_puts(b, "{\"type\":\"error\",\"message\":");
        cm_json_append_string(b, error, strlen(error));
    } else {
        cm_buf_printf(b, "{\"type\":\"subscribed\",\"%s\":", kind);
        cm_json_append_string(b, value, strlen(value));
    }
    cm_buf_putc(b, '}');
}

static void reply(struct app *app, const struct rt_apigw_request *ws, const struct cm_buf *b)
{
    char endpoint[1024];
    if (!ord_ws_endpoint(ws->domain_name, ws->stage, endpoint, sizeof(endpoint))) {
        rt_warn("no @connections endpoint; reply not sent");
        return;
    }
    struct ord_resp r;
    int rc = ord_ws_post(app->aws, endpoint, ws->connection_id, b->data, b->len, &r);
    if (rc)
        rt_warn("reply to %s failed: %s %s (HTTP %ld)", ws->connection_id, cm_strerror(rc),
                r.err.code, r.status);
    ord_resp_deinit(&r);
}

static int handle(const struct rt_invocation *inv, struct app *app,
                  const struct rt_apigw_request *ws, struct cm_buf *out)
{
    char key[1024];
    const char *kind = NULL, *value = NULL, *error = NULL;
    cJSON *msg = cm_json_parse(ws->body, ws->body_len);
    if (!cJSON_IsObject(msg))
        error = "message is not a JSON object";
    else
        error = subscription_key(msg, key, sizeof(key), &kind, &value);
    if (!error && ord_conn_subscribe(app->aws, app->table, key, ws->connection_id,
                                     cm_clock_wall_ns() / CM_NS_PER_MS) != 0)
        error = "could not store the subscription, try again";
    struct cm_buf b;
    cm_buf_init(&b, 8192);
    build_reply(kind, value, error, &b);
    struct rt_log_field f[] = {{"connectionId", ws->connection_id, 0},
                               {"subscription", error ? "" : key, 0}};
    rt_log_fields(error ? CM_LOG_WARN : CM_LOG_INFO, f, 2, "%s", error ? error : "subscribed");
    rt_metrics_add(inv->metrics, error ? "MessagesRejected" : "Subscriptions", RT_UNIT_COUNT, 1);
    if (ws->connection_id[0])
        reply(app, ws, &b);
    struct rt_apigw_response resp = {.status_code = 200};
    int rc = rt_apigw_response_write(inv, &resp, out);
    cm_buf_deinit(&b);
    cJSON_Delete(msg);
    return rc;
}

static int handler(const struct rt_invocation *inv, const char *event, size_t len,
                   struct cm_buf *response, struct rt_error *err)
{
    struct app *app = inv->user;
    struct rt_apigw_request ws;
    const char *why = NULL;
    ord_aws_begin(app->aws, inv);
    int rc = rt_apigw_request_from_json(inv->event_json, &ws, &why);
    if (rc)
        rt_error_set(err, "InvalidEvent", "not a WebSocket event: %s", why ? why : "");
    else
        rc = handle(inv, app, &ws, response);
    rt_apigw_request_deinit(&ws);
    return rc;
}

static int init(void *user, struct rt_error *err)
{
    struct app *app = user;
    app->table = getenv("CONNECTIONS_TABLE");
    if (!app->table || !*app->table) {
        rt_error_set(err, "Runtime.ConfigError", "CONNECTIONS_TABLE must be set");
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
