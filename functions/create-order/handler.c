/* create-order: POST /orders (API Gateway HTTP API, payload 2.0). Validates
 * the body, takes the idempotency lock when an Idempotency-Key header is
 * present (a conditional PutItem, as the Powertools idempotency utility
 * does), writes the PENDING order, sends OrderCreated to the queue with the
 * correlation id as message attribute `correlation_id` (and `traceparent`),
 * and answers 201 {"id","status":"PENDING"} with a Location header.
 *
 * Idempotency record (IDEMPOTENCY_TABLE, key `id`): id
 * "create-order#<md5>", status INPROGRESS | COMPLETED, expiration (epoch s,
 * the table's TTL attribute), in_progress_expiration (epoch ms), validation
 * (md5 of the canonical order), data (the stored 201 response). Same key +
 * same order -> the stored response again (header idempotency-replayed:
 * true); same key + other order -> 422; still in progress -> 409.
 * Environment: ORDERS_TABLE, ORDERS_QUEUE_URL (required), IDEMPOTENCY_TABLE
 * (without it the header is ignored), IDEMPOTENCY_TTL_S (3600). */
#include "orders.h"
#include "rt.h"

#include "cm/clock.h"
#include "cm/corr.h"
#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FN_NAME "create-order"

struct app {
    struct ord_aws *aws;
    const char *orders_table, *idem_table, *queue_url;
    int64_t idem_ttl_s;
};

/* What one request works with. */
struct req {
    const struct rt_invocation *inv;
    struct app *app;
    struct rt_apigw_request http;
    struct ord_order order;
    char idem_id[320]; /* "" = no idempotency */
    char validation[ORD_MD5_HEX];
    int locked; /* we hold the INPROGRESS record */
};

static int respond_aws_failure(struct req *q, const char *what, int rc, const struct ord_resp *r,
                               struct cm_buf *out)
{
    struct rt_log_field f[] = {
        {"operation", what, 0}, {"errorCode", r->err.code, 0}, {"errorMessage", r->err.message, 0}};
    rt_log_fields(CM_LOG_ERROR, f, 3, "%s failed: %s", what, cm_strerror(rc));
    if (ord_aws_transient(rc, r))
        return ord_respond_message(q->inv, 503, "service unavailable, retry later", out);
    return ord_respond_message(q->inv, 500, "internal error", out);
}

/* ------------------------------------------------------------------ idempotency */

/* The conditional PutItem of aws-facts.md 1.5: new key, expired record, or
 * an INPROGRESS record whose holder's deadline has passed. */
static int idem_lock(struct req *q, struct ord_resp *r)
{
    int64_t now = cm_clock_wall_ns() / CM_NS_PER_MS;
    int64_t left = rt_remaining_ms_at(q->inv, now);
    cJSON *b = cJSON_CreateObject(), *item = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "TableName", q->app->idem_table);
    cJSON_AddItemToObject(item, "id", ord_av_s(q->idem_id));
    cJSON_AddItemToObject(item, "status", ord_av_s("INPROGRESS"));
    cJSON_AddItemToObject(item, "expiration", ord_av_n_i64(now / 1000 + q->app->idem_ttl_s));
    cJSON_AddItemToObject(item, "in_progress_expiration",
                          ord_av_n_i64(now + (left == INT64_MAX ? 60000 : left)));
    cJSON_AddItemToObject(item, "validation", ord_av_s(q->validation));
    cJSON_AddItemToObject(b, "Item", item);
    cJSON_AddStringToObject(b, "ConditionExpression",
                            "attribute_not_exists(#id) OR #exp < :now OR "
                            "(#st = :inprogress AND attribute_exists(#ipe) AND #ipe < :now_ms)");
    cJSON *names = cJSON_AddObjectToObject(b, "ExpressionAttributeNames");
    cJSON_AddStringToObject(names, "#id", "id");
    cJSON_AddStringToObject(names, "#exp", "expiration");
    cJSON_AddStringToObject(names, "#st", "status");
    cJSON_AddStringToObject(names, "#ipe", "in_progress_expiration");
    cJSON *vals = cJSON_AddObjectToObject(b, "ExpressionAttributeValues");
    cJSON_AddItemToObject(vals, ":now", ord_av_n_i64(now / 1000));
    cJSON_AddItemToObject(vals, ":now_ms", ord_av_n_i64(now));
    cJSON_AddItemToObject(vals, ":inprogress", ord_av_s("INPROGRESS"));
    cJSON_AddStringToObject(b, "ReturnValuesOnConditionCheckFailure", "ALL_OLD");
    int rc = ord_ddb(q->app->aws, "PutItem", b, r);
    cJSON_Delete(b);
    return rc;
}

/* The existing record: from the failed condition's ALL_OLD item, else a
 * consistent GetItem. NULL when it vanished meanwhile. Owned by *hold. */
static const cJSON *idem_existing(struct req *q, struct ord_resp *failed, struct ord_resp *hold,
                                  int *rc)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(failed->json, "Item");
    *rc = 0;
    if (cJSON_IsObject(item))
        return item;
    cJSON *b = cJSON_CreateObject(), *key = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "TableName", q->app->idem_table);
    cJSON_AddItemToObject(key, "id", ord_av_s(q->idem_id));
    cJSON_AddItemToObject(b, "Key", key);
    cJSON_AddBoolToObject(b, "ConsistentRead", 1);
    *rc = ord_ddb(q->app->aws, "GetItem", b, hold);
    cJSON_Delete(b);
    item = cJSON_GetObjectItemCaseSensitive(hold->json, "Item");
    return *rc == 0 && cJSON_IsObject(item) ? item : NULL;
}

/* Answers from an existing record: replay, 422 or 409. */
static int idem_answer(struct req *q, const cJSON *rec, struct cm_buf *out)
{
    const char *validation = ord_av_get_s(rec, "validation");
    const char *status = ord_av_get_s(rec, "status");
    const char *data = ord_av_get_s(rec, "data");
    struct ord_invalid why = {"", "Idempotency-Key"};
    if (validation && strcmp(validation, q->validation) != 0) {
        cm_strlcpy(why.message, "Idempotency-Key was already used with a different request body",
                   sizeof(why.message));
        struct cm_buf b;
        cm_buf_init(&b, 4096);
        int rc = ord_invalid_json(&why, &b);
        rc = rc ? rc : rt_apigw_respond_json(q->inv, 422, b.data, out);
        cm_buf_deinit(&b);
        return rc;
    }
    cJSON *stored = data && status && strcmp(status, "COMPLETED") == 0
                        ? cm_json_parse(data, strlen(data))
                        : NULL;
    const char *body = cm_json_str(stored, "body", NULL);
    const char *location = cm_json_str(stored, "location", "");
    int rc;
    if (body) {
        struct rt_kv hdrs[] = {{"location", location}, {"idempotency-replayed", "true"}};
        struct rt_apigw_response resp = {.status_code = (int)cm_json_int(stored, "statusCode", 201),
                                         .headers = hdrs,
                                         .n_headers = 2,
                                         .body = body,
                                         .body_len = strlen(body)};
        rt_info("idempotent replay of %s", location);
        rc = rt_apigw_response_write(q->inv, &resp, out);
    } else {
        rc = ord_respond_message(q->inv, 409,
                                 "a request with this Idempotency-Key is still in progress", out);
    }
    cJSON_Delete(stored);
    return rc;
}

static void idem_complete(struct req *q, const char *body, const char *location)
{
    cJSON *data = cJSON_CreateObject();
    cJSON_AddNumberToObject(data, "statusCode", 201);
    cJSON_AddStringToObject(data, "body", body);
    cJSON_AddStringToObject(data, "location", location);
    char *text = cJSON_PrintUnformatted(data);
    cJSON *b = cJSON_CreateObject(), *key = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "TableName", q->app->idem_table);
    cJSON_AddItemToObject(key, "id", ord_av_s(q->idem_id));
    cJSON_AddItemToObject(b, "Key", key);
    cJSON_AddStringToObject(b, "UpdateExpression", "SET #st = :c, #d = :d");
    cJSON *names = cJSON_AddObjectToObject(b, "ExpressionAttributeNames");
    cJSON_AddStringToObject(names, "#st", "status");
    cJSON_AddStringToObject(names, "#d", "data");
    cJSON *vals = cJSON_AddObjectToObject(b, "ExpressionAttributeValues");
    cJSON_AddItemToObject(vals, ":c", ord_av_s("COMPLETED"));
    cJSON_AddItemToObject(vals, ":d", ord_av_s(text ? text : "{}"));
    struct ord_resp r;
    int rc = ord_ddb(q->app->aws, "UpdateItem", b, &r);
    if (rc)
        rt_warn("idempotency record not completed: %s %s", cm_strerror(rc), r.err.code);
    ord_resp_deinit(&r);
    cJSON_Delete(b);
    cJSON_Delete(data);
    free(text);
}

/* On failure the record goes, so that a retry with the same key can run. */
static void idem_release(struct req *q)
{
    cJSON *b = cJSON_CreateObject(), *key = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "TableName", q->app->idem_table);
    cJSON_AddItemToObject(key, "id", ord_av_s(q->idem_id));
    cJSON_AddItemToObject(b, "Key", key);
    struct ord_resp r;
    if (ord_ddb(q->app->aws, "DeleteItem", b, &r) != 0)
        rt_warn("idempotency record not released: %s", r.err.code);
    ord_resp_deinit(&r);
    cJSON_Delete(b);
}

/* 0 = lock taken or no key (go on); 1 = answered from the record; < 0 =
 * error already answered. */
static int idem_begin(struct req *q, struct cm_buf *out)
{
    const char *key = rt_apigw_header(&q->http, "idempotency-key");
    if (!key || !q->app->idem_table)
        return 0;
    size_t kl = strlen(key);
    if (kl == 0 || kl > ORD_IDEM_KEY_MAX) {
        struct ord_invalid why = {"Idempotency-Key must be 1 to 255 characters", "Idempotency-Key"};
        ord_respond_invalid(q->inv, &why, out);
        return 1;
    }
    ord_idem_record_id(FN_NAME, key, kl, q->idem_id, sizeof(q->idem_id));
    ord_idem_validation(&q->order, q->validation);
    struct ord_resp r, hold = {0};
    int rc = idem_lock(q, &r), answered = 0;
    if (rc == 0) {
        q->locked = 1;
    } else if (rc == CM_EAWS && strcmp(r.err.code, "ConditionalCheckFailedException") == 0) {
        int grc = 0;
        const cJSON *rec = idem_existing(q, &r, &hold, &grc);
        if (rec)
            idem_answer(q, rec, out);
        else if (grc)
            respond_aws_failure(q, "GetItem idempotency", grc, &hold, out);
        else
            ord_respond_message(q->inv, 409, "Idempotency-Key conflict, retry", out);
        answered = 1;
    } else {
        respond_aws_failure(q, "PutItem idempotency", rc, &r, out);
        answered = 1;
    }
    ord_resp_deinit(&r);
    ord_resp_deinit(&hold);
    return answered;
}

/* ------------------------------------------------------------------ the order */

static int put_order(struct req *q, struct ord_resp *r)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "TableName", q->app->orders_table);
    cJSON_AddItemToObject(b, "Item", ord_order_to_item(&q->order));
    cJSON_AddStringToObject(b, "ConditionExpression", "attribute_not_exists(#id)");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(b, "ExpressionAttributeNames"), "#id", "id");
    int rc = ord_ddb(q->app->aws, "PutItem", b, r);
    cJSON_Delete(b);
    return rc;
}

static void add_attr(cJSON *attrs, const char *name, const char *value)
{
    cJSON *a = cJSON_AddObjectToObject(attrs, name);
    cJSON_AddStringToObject(a, "DataType", "String");
    cJSON_AddStringToObject(a, "StringValue", value);
}

static int send_created(struct req *q, struct ord_resp *r)
{
    struct cm_buf msg;
    cm_buf_init(&msg, 0);
    ord_created_build(&q->order, &msg);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "QueueUrl", q->app->queue_url);
    cJSON_AddStringToObject(b, "MessageBody", msg.data);
    cJSON *attrs = cJSON_AddObjectToObject(b, "MessageAttributes");
    add_attr(attrs, "correlation_id", q->order.correlation_id);
    const char *tp = rt_apigw_header(&q->http, "traceparent");
    if (tp && *tp)
        add_attr(attrs, "traceparent", tp);
    int rc = ord_sqs(q->app->aws, "SendMessage", b, r);
    cJSON_Delete(b);
    cm_buf_deinit(&msg);
    return rc;
}

static int create(struct req *q, struct cm_buf *out)
{
    int64_t now_ns = cm_clock_wall_ns();
    cm_corr_new_id(now_ns / CM_NS_PER_MS, q->order.id);
    cm_clock_format_utc(now_ns, 0, q->order.created_at);
    q->order.status = ORD_PENDING;
    const char *corr = q->inv->correlation_id[0] ? q->inv->correlation_id : q->order.id;
    q->order.correlation_id = cm_xstrdup(corr);
    struct ord_resp r;
    int rc = put_order(q, &r);
    if (rc) {
        respond_aws_failure(q, "PutItem order", rc, &r, out);
        ord_resp_deinit(&r);
        return -1;
    }
    ord_resp_deinit(&r);
    rc = send_created(q, &r);
    if (rc) {
        respond_aws_failure(q, "SendMessage", rc, &r, out);
        ord_resp_deinit(&r);
        return -1;
    }
    const char *mid = cm_json_str(r.json, "MessageId", "");
    struct rt_log_field f[] = {{"orderId", q->order.id, 0},
                               {"messageId", mid, 0},
                               {"total", NULL, (double)q->order.total_cents / 100}};
    rt_log_fields(CM_LOG_INFO, f, 3, "order created");
    ord_resp_deinit(&r);
    return 0;
}

static int answer_created(struct req *q, struct cm_buf *out)
{
    char location[64], body[128];
    snprintf(location, sizeof(location), "/orders/%s", q->order.id);
    snprintf(body, sizeof(body), "{\"id\":\"%s\",\"status\":\"PENDING\"}", q->order.id);
    if (q->locked)
        idem_complete(q, body, location);
    struct rt_kv hdrs[] = {{"location", location}};
    struct rt_apigw_response resp = {.status_code = 201,
                                     .headers = hdrs,
                                     .n_headers = 1,
                                     .body = body,
                                     .body_len = strlen(body)};
    rt_metrics_add(q->inv->metrics, "OrdersCreated", RT_UNIT_COUNT, 1);
    rt_metrics_add(q->inv->metrics, "OrderValue", RT_UNIT_NONE, (double)q->order.total_cents / 100);
    rt_metrics_set_property(q->inv->metrics, "orderId", q->order.id);
    return rt_apigw_response_write(q->inv, &resp, out);
}

static int handle(struct req *q, struct cm_buf *out)
{
    struct ord_invalid why;
    if (ord_order_parse_request(q->http.body, q->http.body_len, &q->order, &why) != 0) {
        struct rt_log_field f[] = {{"field", why.field, 0}};
        rt_log_fields(CM_LOG_INFO, f, 1, "rejected: %s", why.message);
        rt_metrics_add(q->inv->metrics, "OrdersRejected", RT_UNIT_COUNT, 1);
        return ord_respond_invalid(q->inv, &why, out);
    }
    if (idem_begin(q, out) != 0)
        return 0;
    if (create(q, out) != 0) {
        if (q->locked)
            idem_release(q);
        return 0;
    }
    return answer_created(q, out);
}

static int handler(const struct rt_invocation *inv, const char *event, size_t len,
                   struct cm_buf *response, struct rt_error *err)
{
    struct app *app = inv->user;
    struct req q = {.inv = inv, .app = app};
    const char *why = NULL;
    ord_order_init(&q.order);
    ord_aws_begin(app->aws, inv);
    int rc = rt_apigw_request_from_json(inv->event_json, &q.http, &why);
    if (rc)
        rt_error_set(err, "InvalidEvent", "not an API Gateway event: %s", why ? why : "");
    else
        rc = handle(&q, response);
    rt_apigw_request_deinit(&q.http);
    ord_order_deinit(&q.order);
    return rc;
}

static int init(void *user, struct rt_error *err)
{
    struct app *app = user;
    app->orders_table = getenv("ORDERS_TABLE");
    app->queue_url = getenv("ORDERS_QUEUE_URL");
    app->idem_table = getenv("IDEMPOTENCY_TABLE");
    if (app->idem_table && !*app->idem_table)
        app->idem_table = NULL;
    if (!app->orders_table || !*app->orders_table || !app->queue_url || !*app->queue_url) {
        rt_error_set(err, "Runtime.ConfigError", "ORDERS_TABLE and ORDERS_QUEUE_URL must be set");
        return CM_EINVAL;
    }
    app->idem_ttl_s = ord_env_i64("IDEMPOTENCY_TTL_S", 3600, 1, 30LL * 86400);
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
