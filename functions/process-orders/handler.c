/* process-orders: the SQS consumer (event source mapping with
 * ReportBatchItemFailures). Per record: parse OrderCreated, read the order,
 * apply the business rule, move it PENDING -> CONFIRMED or FAILED with a
 * conditional UpdateItem (a failed condition means another delivery already
 * did it: success), then push OrderUpdated to the WebSocket connections
 * subscribed to the order or its customer (@connections; a 410 Gone deletes
 * the stale subscription). Poison messages (not JSON, no orderId) and
 * transient failures are listed in batchItemFailures, so the queue retries
 * them and moves them to the DLQ after maxReceiveCount.
 * Environment: ORDERS_TABLE (required), CONNECTIONS_TABLE (pushes off
 * without it), ORDER_MAX_TOTAL (10000, in currency units),
 * WS_MANAGEMENT_ENDPOINT or AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI. */
#include "orders.h"
#include "rt.h"

#include "cm/clock.h"
#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FN_NAME      "process-orders"
#define MAX_PUSH_PER 100 /* connections per subscription key per update */

struct app {
    struct ord_aws *aws;
    const char *orders_table, *conn_table;
    int64_t max_total_cents;
    char ws_endpoint[1024]; /* "" = no pushes */
};

static int get_order(struct app *app, const char *id, struct ord_order *o, int *found)
{
    cJSON *b = cJSON_CreateObject(), *key = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "TableName", app->orders_table);
    cJSON_AddItemToObject(key, "id", ord_av_s(id));
    cJSON_AddItemToObject(b, "Key", key);
    cJSON_AddBoolToObject(b, "ConsistentRead", 1);
    struct ord_resp r;
    const char *why = NULL;
    int rc = ord_ddb(app->aws, "GetItem", b, &r);
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(r.json, "Item");
    *found = rc == 0 && cJSON_IsObject(item);
    if (rc)
        rt_err("GetItem %s failed: %s %s", id, cm_strerror(rc), r.err.code);
    else if (*found && (rc = ord_order_from_item(item, o, &why)) != 0)
        rt_err("stored order %s is malformed: %s", id, why);
    ord_resp_deinit(&r);
    cJSON_Delete(b);
    return rc;
}

/* 0 = updated, 1 = already done by an earlier delivery, < 0 = failed. */
static int update_status(struct app *app, struct ord_order *o)
{
    cJSON *b = cJSON_CreateObject(), *key = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "TableName", app->orders_table);
    cJSON_AddItemToObject(key, "id", ord_av_s(o->id));
    cJSON_AddItemToObject(b, "Key", key);
    cJSON_AddStringToObject(b, "UpdateExpression",
                            o->reason ? "SET #st = :new, #up = :now, #r = :r"
                                      : "SET #st = :new, #up = :now");
    cJSON_AddStringToObject(b, "ConditionExpression", "#st = :pending");
    cJSON *names = cJSON_AddObjectToObject(b, "ExpressionAttributeNames");
    cJSON_AddStringToObject(names, "#st", "status");
    cJSON_AddStringToObject(names, "#up", "updatedAt");
    if (o->reason)
        cJSON_AddStringToObject(names, "#r", "reason");
    cJSON *vals = cJSON_AddObjectToObject(b, "ExpressionAttributeValues");
    cJSON_AddItemToObject(vals, ":new", ord_av_s(ord_status_name(o->status)));
    cJSON_AddItemToObject(vals, ":now", ord_av_s(o->updated_at));
    cJSON_AddItemToObject(vals, ":pending", ord_av_s("PENDING"));
    if (o->reason)
        cJSON_AddItemToObject(vals, ":r", ord_av_s(o->reason));
    struct ord_resp r;
    int rc = ord_ddb(app->aws, "UpdateItem", b, &r);
    if (rc == CM_EAWS && strcmp(r.err.code, "ConditionalCheckFailedException") == 0)
        rc = 1;
    else if (rc)
        rt_err("UpdateItem %s failed: %s %s", o->id, cm_strerror(rc), r.err.code);
    ord_resp_deinit(&r);
    cJSON_Delete(b);
    return rc;
}

static void delete_subscription(struct app *app, const char *pk, const char *sk)
{
    cJSON *b = cJSON_CreateObject(), *key = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "TableName", app->conn_table);
    cJSON_AddItemToObject(key, "pk", ord_av_s(pk));
    cJSON_AddItemToObject(key, "sk", ord_av_s(sk));
    cJSON_AddItemToObject(b, "Key", key);
    struct ord_resp r;
    ord_ddb(app->aws, "DeleteItem", b, &r);
    ord_resp_deinit(&r);
    cJSON_Delete(b);
}

/* Pushes msg to every connection subscribed under pk; returns pushes done. */
static int push_key(struct app *app, const char *pk, const struct cm_buf *msg)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "TableName", app->conn_table);
    cJSON_AddStringToObject(b, "KeyConditionExpression", "pk = :pk AND begins_with(sk, :c)");
    cJSON *vals = cJSON_AddObjectToObject(b, "ExpressionAttributeValues");
    cJSON_AddItemToObject(vals, ":pk", ord_av_s(pk));
    cJSON_AddItemToObject(vals, ":c", ord_av_s("conn#"));
    cJSON_AddNumberToObject(b, "Limit", MAX_PUSH_PER);
    struct ord_resp r;
    int pushed = 0, rc = ord_ddb(app->aws, "Query", b, &r);
    if (rc)
        rt_warn("Query %s failed: %s %s", pk, cm_strerror(rc), r.err.code);
    const cJSON *it, *items = rc ? NULL : cJSON_GetObjectItemCaseSensitive(r.json, "Items");
    cJSON_ArrayForEach(it, items)
    {
        const char *sk = ord_av_get_s(it, "sk");
        if (!sk || strncmp(sk, "conn#", 5) != 0)
            continue;
        struct ord_resp pr;
        int prc = ord_ws_post(app->aws, app->ws_endpoint, sk + 5, msg->data, msg->len, &pr);
        if (prc == 0) {
            pushed++;
        } else if (pr.status == 410) {
            rt_info("connection %s is gone; dropping its subscription %s", sk + 5, pk);
            delete_subscription(app, pk, sk);
        } else {
            rt_warn("push to %s failed: %s %s", sk + 5, cm_strerror(prc), pr.err.code);
        }
        ord_resp_deinit(&pr);
    }
    ord_resp_deinit(&r);
    cJSON_Delete(b);
    return pushed;
}

static void push_update(const struct rt_invocation *inv, struct app *app, const struct ord_order *o)
{
    if (!app->conn_table || !app->ws_endpoint[0])
        return;
    const char *corr = rt_log_correlation_id();
    struct cm_buf msg;
    char pk[300];
    cm_buf_init(&msg, 0);
    ord_updated_build(o, corr[0] ? corr : o->correlation_id, &msg);
    snprintf(pk, sizeof(pk), "order#%s", o->id);
    int n = push_key(app, pk, &msg);
    if (o->customer_name && strlen(o->customer_name) < sizeof(pk) - 10) {
        snprintf(pk, sizeof(pk), "customer#%s", o->customer_name);
        n += push_key(app, pk, &msg);
    }
    if (n)
        rt_metrics_add(inv->metrics, "UpdatesPushed", RT_UNIT_COUNT, n);
    cm_buf_deinit(&msg);
}

/* 0 = done (also for duplicates), 1 = report in batchItemFailures. */
static int process(const struct rt_invocation *inv, struct app *app, const struct ord_created *m)
{
    struct ord_order o;
    int found = 0, rc;
    ord_order_init(&o);
    if ((rc = get_order(app, m->order_id, &o, &found)) != 0 || !found) {
        if (rc == 0)
            rt_warn("order %s not found; leaving the message for a retry", m->order_id);
        rc = 1;
        goto out;
    }
    if (o.status != ORD_PENDING) {
        rt_info("order %s already %s (duplicate delivery)", o.id, ord_status_name(o.status));
        goto out;
    }
    const char *reason = NULL;
    o.status = ord_order_decide(&o, app->max_total_cents, &reason);
    o.reason = reason ? cm_xstrdup(reason) : NULL;
    cm_clock_format_utc(cm_clock_wall_ns(), 0, o.updated_at);
    rc = update_status(app, &o);
    if (rc < 0) {
        rc = 1;
        goto out;
    }
    if (rc == 1) {
        rt_info("order %s was updated by another delivery", o.id);
        rc = 0;
        goto out;
    }
    struct rt_log_field f[] = {{"orderId", o.id, 0}, {"status", ord_status_name(o.status), 0}};
    rt_log_fields(CM_LOG_INFO, f, 2, "order %s",
                  o.status == ORD_CONFIRMED ? "confirmed" : "failed");
    rt_metrics_add(inv->metrics, o.status == ORD_CONFIRMED ? "OrdersConfirmed" : "OrdersFailed",
                   RT_UNIT_COUNT, 1);
    push_update(inv, app, &o);
out:
    ord_order_deinit(&o);
    return rc;
}

static int on_record(const struct rt_invocation *inv, const struct rt_sqs_record *r, void *arg)
{
    struct app *app = arg;
    int64_t now = cm_clock_wall_ns() / CM_NS_PER_MS;
    if (r->sent_timestamp_ms > 0 && now >= r->sent_timestamp_ms)
        rt_metrics_add(inv->metrics, "ProcessingLag", RT_UNIT_MILLISECONDS,
                       (double)(now - r->sent_timestamp_ms));
    struct ord_created m;
    const char *why = NULL;
    int rc = ord_created_parse(r->body, r->body_len, &m, &why);
    if (rc) {
        struct rt_log_field f[] = {{"messageId", r->message_id, 0},
                                   {"receiveCount", NULL, (double)r->approximate_receive_count}};
        rt_log_fields(CM_LOG_ERROR, f, 2, "poison message: %s", why);
        rt_metrics_add(inv->metrics, "PoisonMessages", RT_UNIT_COUNT, 1);
        ord_created_deinit(&m);
        return 1;
    }
    rc = process(inv, app, &m);
    ord_created_deinit(&m);
    return rc;
}

static int handler(const struct rt_invocation *inv, const char *event, size_t len,
                   struct cm_buf *response, struct rt_error *err)
{
    struct app *app = inv->user;
    struct rt_sqs_event ev;
    const char *why = NULL;
    ord_aws_begin(app->aws, inv);
    int rc = rt_sqs_event_from_json(inv->event_json, &ev, &why);
    if (rc) {
        rt_error_set(err, "InvalidEvent", "not an SQS event: %s", why ? why : "");
    } else {
        rc = rt_sqs_process(inv, &ev, on_record, app, response);
        if (rc > 0)
            rt_warn("%d of %zu records failed", rc, ev.n_records);
        rc = rc < 0 ? rc : 0;
    }
    rt_sqs_event_deinit(&ev);
    return rc;
}

static int init(void *user, struct rt_error *err)
{
    struct app *app = user;
    app->orders_table = getenv("ORDERS_TABLE");
    app->conn_table = getenv("CONNECTIONS_TABLE");
    if (!app->orders_table || !*app->orders_table) {
        rt_error_set(err, "Runtime.ConfigError", "ORDERS_TABLE must be set");
        return CM_EINVAL;
    }
    if (app->conn_table && !*app->conn_table)
        app->conn_table = NULL;
    app->max_total_cents = ord_env_i64("ORDER_MAX_TOTAL", 10000, 0, 10000000000LL) * 100;
    if (!ord_ws_endpoint(NULL, NULL, app->ws_endpoint, sizeof(app->ws_endpoint)))
        app->ws_endpoint[0] = '\0';
    if (app->conn_table && !app->ws_endpoint[0])
        rt_warn("no WS_MANAGEMENT_ENDPOINT: order updates are not pushed");
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
