/* producer: a scheduled function (EventBridge "Scheduled Event", or a direct
 * Invoke with {"count":N}). Each run creates N synthetic PENDING orders in
 * ORDERS_TABLE, each with its own correlation id, and enqueues their
 * OrderCreated messages with SendMessageBatch (10 per call), so that
 * process-orders can confirm them. Answers {"produced":n,"failed":f}.
 * Environment: ORDERS_TABLE, ORDERS_QUEUE_URL (required), PRODUCER_BATCH
 * (10, at most 1000). */
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

#define FN_NAME        "producer"
#define MAX_COUNT      1000
#define SQS_BATCH_MAX  10
#define PRODUCER_ITEMS 3

struct app {
    struct ord_aws *aws;
    const char *table, *queue_url;
    int64_t batch;
};

/* A random order: customer-<0..99>, 1..3 items of SKU-<0..999>, qty 1..5,
 * price 1.00..99.99. */
static void synth_order(struct ord_order *o, int64_t now_ns)
{
    char name[32], sku[32];
    uint64_t r = cm_corr_random_u64();
    snprintf(name, sizeof(name), "customer-%u", (unsigned)(r % 100));
    o->customer_name = cm_xstrdup(name);
    o->n_items = 1 + (size_t)((r >> 8) % PRODUCER_ITEMS);
    o->items = cm_xcalloc(o->n_items, sizeof(*o->items));
    for (size_t i = 0; i < o->n_items; i++) {
        uint64_t x = cm_corr_random_u64();
        snprintf(sku, sizeof(sku), "SKU-%03u", (unsigned)(x % 1000));
        o->items[i].sku = cm_xstrdup(sku);
        o->items[i].qty = 1 + (int64_t)((x >> 16) % 5);
        o->items[i].price_cents = 100 + (int64_t)((x >> 32) % 9900);
        o->total_cents += o->items[i].qty * o->items[i].price_cents;
    }
    char corr[CM_CORR_ID_LEN + 1];
    cm_corr_new_id(now_ns / CM_NS_PER_MS, o->id);
    cm_corr_new_id(now_ns / CM_NS_PER_MS, corr);
    o->correlation_id = cm_xstrdup(corr);
    cm_clock_format_utc(now_ns, 0, o->created_at);
}

static int put_order(struct app *app, const struct ord_order *o)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "TableName", app->table);
    cJSON_AddItemToObject(b, "Item", ord_order_to_item(o));
    struct ord_resp r;
    int rc = ord_ddb(app->aws, "PutItem", b, &r);
    if (rc)
        rt_err("PutItem failed: %s %s", cm_strerror(rc), r.err.code);
    ord_resp_deinit(&r);
    cJSON_Delete(b);
    return rc;
}

static void add_entry(cJSON *entries, size_t i, const struct ord_order *o)
{
    char id[16];
    struct cm_buf msg;
    cm_buf_init(&msg, 0);
    ord_created_build(o, &msg);
    snprintf(id, sizeof(id), "m%zu", i);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "Id", id);
    cJSON_AddStringToObject(e, "MessageBody", msg.data);
    cJSON *attrs = cJSON_AddObjectToObject(e, "MessageAttributes");
    cJSON *a = cJSON_AddObjectToObject(attrs, "correlation_id");
    cJSON_AddStringToObject(a, "DataType", "String");
    cJSON_AddStringToObject(a, "StringValue", o->correlation_id);
    cJSON_AddItemToArray(entries, e);
    cm_buf_deinit(&msg);
}

/* Sends orders[0..n) (n <= 10) in one SendMessageBatch; returns how many
 * were accepted. */
static int send_batch(struct app *app, const struct ord_order *orders, size_t n)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "QueueUrl", app->queue_url);
    cJSON *entries = cJSON_AddArrayToObject(b, "Entries");
    for (size_t i = 0; i < n; i++)
        add_entry(entries, i, &orders[i]);
    struct ord_resp r;
    int rc = ord_sqs(app->aws, "SendMessageBatch", b, &r), ok = 0;
    if (rc) {
        rt_err("SendMessageBatch failed: %s %s", cm_strerror(rc), r.err.code);
    } else {
        ok = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.json, "Successful"));
        const cJSON *f, *failed = cJSON_GetObjectItemCaseSensitive(r.json, "Failed");
        cJSON_ArrayForEach(f, failed) rt_warn("entry %s not sent: %s", cm_json_str(f, "Id", "?"),
                                              cm_json_str(f, "Code", "?"));
    }
    ord_resp_deinit(&r);
    cJSON_Delete(b);
    return ok;
}

static int produce(const struct rt_invocation *inv, struct app *app, int64_t count,
                   struct cm_buf *out)
{
    struct ord_order orders[SQS_BATCH_MAX];
    int64_t produced = 0, failed = 0;
    for (int64_t done = 0; done < count;) {
        size_t n = 0;
        for (; n < SQS_BATCH_MAX && done < count; done++) {
            ord_order_init(&orders[n]);
            synth_order(&orders[n], cm_clock_wall_ns());
            if (put_order(app, &orders[n]) == 0) {
                n++;
            } else {
                ord_order_deinit(&orders[n]);
                failed++;
            }
        }
        int ok = n ? send_batch(app, orders, n) : 0;
        produced += ok;
        failed += (int64_t)n - ok;
        for (size_t i = 0; i < n; i++)
            ord_order_deinit(&orders[i]);
        if (rt_remaining_ms(inv) < 1000) {
            rt_warn("stopping early: %lld of %lld left for the next run", (long long)(count - done),
                    (long long)count);
            break;
        }
    }
    rt_metrics_add(inv->metrics, "OrdersProduced", RT_UNIT_COUNT, (double)produced);
    if (failed)
        rt_metrics_add(inv->metrics, "ProduceFailures", RT_UNIT_COUNT, (double)failed);
    struct rt_log_field f[] = {{"produced", NULL, (double)produced},
                               {"failed", NULL, (double)failed}};
    rt_log_fields(CM_LOG_INFO, f, 2, "produced orders");
    return cm_buf_printf(out, "{\"produced\":%lld,\"failed\":%lld}", (long long)produced,
                         (long long)failed);
}

static int handler(const struct rt_invocation *inv, const char *event, size_t len,
                   struct cm_buf *response, struct rt_error *err)
{
    struct app *app = inv->user;
    const cJSON *ev = inv->event_json;
    int64_t count = app->batch;
    ord_aws_begin(app->aws, inv);
    if (ev && !cJSON_IsObject(ev)) {
        rt_error_set(err, "InvalidEvent", "expected a scheduled event or {\"count\":N}");
        return CM_EINVAL;
    }
    const char *dt = cm_json_str(ev, "detail-type", NULL);
    if (dt && strcmp(dt, "Scheduled Event") != 0)
        rt_warn("unexpected detail-type \"%s\"; producing anyway", dt);
    count = cm_json_int(ev, "count", count);
    if (count < 0 || count > MAX_COUNT) {
        rt_error_set(err, "InvalidEvent", "count must be between 0 and %d", MAX_COUNT);
        return CM_EINVAL;
    }
    return produce(inv, app, count, response);
}

static int init(void *user, struct rt_error *err)
{
    struct app *app = user;
    app->table = getenv("ORDERS_TABLE");
    app->queue_url = getenv("ORDERS_QUEUE_URL");
    if (!app->table || !*app->table || !app->queue_url || !*app->queue_url) {
        rt_error_set(err, "Runtime.ConfigError", "ORDERS_TABLE and ORDERS_QUEUE_URL must be set");
        return CM_EINVAL;
    }
    app->batch = ord_env_i64("PRODUCER_BATCH", 10, 0, MAX_COUNT);
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
