/* ws-connect: the WebSocket API's $connect route. Stores the connection
 * (pk "conn#<id>", sk "meta") in CONNECTIONS_TABLE and, with
 * ?customer=NAME, subscribes it to that customer's order updates. 200
 * accepts the handshake; 400 (bad customer) or 500 (table write failed)
 * reject it. Environment: CONNECTIONS_TABLE (required). */
#include "orders.h"
#include "rt.h"

#include "cm/clock.h"
#include "cm/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FN_NAME "ws-connect"

struct app {
    struct ord_aws *aws;
    const char *table;
};

static int handle(const struct rt_invocation *inv, struct app *app,
                  const struct rt_apigw_request *ws, struct cm_buf *out)
{
    const char *customer = rt_apigw_query_param(ws, "customer");
    int64_t now = cm_clock_wall_ns() / CM_NS_PER_MS;
    if (!ws->connection_id[0]) {
        struct ord_invalid why = {"not a WebSocket event: no connectionId", ""};
        return ord_respond_invalid(inv, &why, out);
    }
    if (customer && (!*customer || strlen(customer) > 4 * ORD_NAME_MAX_CHARS)) {
        struct ord_invalid why = {"customer must be 1 to 200 characters", "customer"};
        return ord_respond_invalid(inv, &why, out);
    }
    int rc = ord_conn_put(app->aws, app->table, ws->connection_id, customer, now);
    if (!rc && customer) {
        char key[1024];
        snprintf(key, sizeof(key), "customer#%s", customer);
        rc = ord_conn_subscribe(app->aws, app->table, key, ws->connection_id, now);
    }
    if (rc)
        return ord_respond_message(inv, 500, "could not store the connection", out);
    struct rt_log_field f[] = {{"connectionId", ws->connection_id, 0},
                               {"customerName", customer ? customer : "", 0}};
    rt_log_fields(CM_LOG_INFO, f, 2, "connected");
    rt_metrics_add(inv->metrics, "Connections", RT_UNIT_COUNT, 1);
    return rt_apigw_respond_json(inv, 200, "{\"message\":\"connected\"}", out);
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
