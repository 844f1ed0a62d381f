/* ws-disconnect: the WebSocket API's $disconnect route. Deletes the
 * connection's items and its subscriptions from CONNECTIONS_TABLE (through
 * the reverse "sub#" entries) and answers 200. $disconnect is best effort on
 * AWS, so the items also carry a TTL. Environment: CONNECTIONS_TABLE. */
#include "orders.h"
#include "rt.h"

#include "cm/err.h"

#include <stdlib.h>
#include <string.h>

#define FN_NAME "ws-disconnect"

struct app {
    struct ord_aws *aws;
    const char *table;
};

static int handle(const struct rt_invocation *inv, struct app *app,
                  const struct rt_apigw_request *ws, struct cm_buf *out)
{
    if (!ws->connection_id[0])
        return ord_respond_message(inv, 400, "not a WebSocket event: no connectionId", out);
    int n = ord_conn_delete_all(app->aws, app->table, ws->connection_id);
    struct rt_log_field f[] = {{"connectionId", ws->connection_id, 0},
                               {"itemsDeleted", NULL, n < 0 ? 0 : n}};
    rt_log_fields(n < 0 ? CM_LOG_ERROR : CM_LOG_INFO, f, 2, "disconnected");
    rt_metrics_add(inv->metrics, "Disconnections", RT_UNIT_COUNT, 1);
    if (n < 0)
        return ord_respond_message(inv, 500, "could not delete the connection", out);
    return rt_apigw_respond_json(inv, 200, "{\"message\":\"disconnected\"}", out);
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
