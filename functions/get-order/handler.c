/* get-order: GET /orders/{id} (API Gateway HTTP API, payload 2.0). Reads the
 * order with a consistent GetItem and answers 200 with the order JSON, 404
 * {"message":"order not found"}, or 400 for an id that is not a UUID.
 * Environment: ORDERS_TABLE (required). */
#include "orders.h"
#include "rt.h"

#include "cm/buf.h"
#include "cm/err.h"

#include <stdlib.h>
#include <string.h>

#define FN_NAME "get-order"

struct app {
    struct ord_aws *aws;
    const char *table;
};

/* {id} from the path parameters, else the last segment of the raw path. */
static const char *order_id(const struct rt_apigw_request *http)
{
    const char *id = rt_apigw_path_param(http, "id");
    if (id)
        return id;
    const char *slash = strrchr(http->raw_path, '/');
    return slash ? slash + 1 : http->raw_path;
}

static int answer(const struct rt_invocation *inv, const cJSON *item, struct cm_buf *out)
{
    struct ord_order o;
    const char *why = NULL;
    ord_order_init(&o);
    if (ord_order_from_item(item, &o, &why) != 0) {
        rt_err("stored order is malformed: %s", why);
        return ord_respond_message(inv, 500, "internal error", out);
    }
    struct cm_buf b;
    cm_buf_init(&b, 0);
    int rc = ord_order_to_json(&o, &b);
    rc = rc ? rc : rt_apigw_respond_json(inv, 200, b.data, out);
    rt_metrics_add(inv->metrics, "OrdersRead", RT_UNIT_COUNT, 1);
    cm_buf_deinit(&b);
    ord_order_deinit(&o);
    return rc;
}

static int handle(const struct rt_invocation *inv, struct app *app,
                  const struct rt_apigw_request *http, struct cm_buf *out)
{
    const char *id = order_id(http);
    if (!ord_id_valid(id, strlen(id))) {
        struct ord_invalid why = {"id must be a UUID", "id"};
        return ord_respond_invalid(inv, &why, out);
    }
    cJSON *b = cJSON_CreateObject(), *key = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "TableName", app->table);
    cJSON_AddItemToObject(key, "id", ord_av_s(id));
    cJSON_AddItemToObject(b, "Key", key);
    cJSON_AddBoolToObject(b, "ConsistentRead", 1);
    struct ord_resp r;
    int rc = ord_ddb(app->aws, "GetItem", b, &r);
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(r.json, "Item");
    if (rc) {
        rt_err("GetItem failed: %s %s %s", cm_strerror(rc), r.err.code, r.err.message);
        rc = ord_respond_message(inv, ord_aws_transient(rc, &r) ? 503 : 500,
                                 "could not read the order", out);
    } else if (!cJSON_IsObject(item)) {
        rc = ord_respond_message(inv, 404, "order not found", out);
    } else {
        rc = answer(inv, item, out);
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
    app->table = getenv("ORDERS_TABLE");
    if (!app->table || !*app->table) {
        rt_error_set(err, "Runtime.ConfigError", "ORDERS_TABLE must be set");
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
