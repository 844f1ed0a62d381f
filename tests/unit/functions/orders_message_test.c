/* orders_message_test: OrderCreated build/parse (poison detection),
 * OrderUpdated, the business rule, the Powertools-style idempotency record
 * id and payload hash (md5 vectors from Python's hashlib/json.dumps), and the
 * partial batch response process-orders builds for a mixed SQS batch. */
#include "harness.h"
#include "orders.h"
#include "rt.h"

#include "cm/buf.h"
#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID "0192f0c2-7d1e-7abc-8def-0123456789ab"

static void sample(struct ord_order *o)
{
    ord_order_init(o);
    cm_strlcpy(o->id, ID, sizeof(o->id));
    o->customer_name = cm_xstrdup("Ann");
    o->n_items = 1;
    o->items = cm_xcalloc(1, sizeof(*o->items));
    o->items[0] = (struct ord_item){cm_xstrdup("A-1"), 2, 1999};
    o->total_cents = 3998;
}

static void test_created(void)
{
    struct ord_order o;
    struct cm_buf b;
    sample(&o);
    cm_buf_init(&b, 0);
    CHECK_INT(ord_created_build(&o, &b), 0);
    CHECK_STR(b.data, "{\"type\":\"OrderCreated\",\"orderId\":\"" ID
                      "\",\"customerName\":\"Ann\",\"total\":39.98}");
    struct ord_created m;
    const char *why = NULL;
    CHECK_INT(ord_created_parse(b.data, b.len, &m, &why), 0);
    CHECK_STR(m.order_id, ID);
    CHECK_STR(m.customer_name, "Ann");
    CHECK_INT(m.total_cents, 3998);
    ord_created_deinit(&m);
    /* Without type and total: still an order id to work on. */
    const char *bare = "{\"orderId\":\"" ID "\"}";
    CHECK_INT(ord_created_parse(bare, strlen(bare), &m, &why), 0);
    CHECK(m.customer_name == NULL);
    CHECK_INT(m.total_cents, -1);
    ord_created_deinit(&m);
    cm_buf_deinit(&b);
    ord_order_deinit(&o);
}

static void expect_poison(const char *body, int want_rc, const char *want_why)
{
    struct ord_created m;
    const char *why = NULL;
    CHECK_INT(ord_created_parse(body, strlen(body), &m, &why), want_rc);
    CHECK_MSG(why && strcmp(why, want_why) == 0, "%s: why %s", body, why ? why : "(null)");
    ord_created_deinit(&m);
}

static void test_poison(void)
{
    expect_poison("not json", CM_EPARSE, "body is not JSON");
    expect_poison("", CM_EPARSE, "body is not JSON");
    expect_poison("[1]", CM_EINVAL, "body is not a JSON object");
    expect_poison("{}", CM_EINVAL, "orderId is missing");
    expect_poison("{\"orderId\":7}", CM_EINVAL, "orderId is missing");
    expect_poison("{\"orderId\":\"abc\"}", CM_EINVAL, "orderId is not a UUID");
    expect_poison("{\"type\":\"OrderShipped\",\"orderId\":\"" ID "\"}", CM_EINVAL,
                  "type is not OrderCreated");
    expect_poison("{\"type\":1,\"orderId\":\"" ID "\"}", CM_EINVAL, "type is not OrderCreated");
}

static void test_updated(void)
{
    struct ord_order o;
    struct cm_buf b;
    sample(&o);
    cm_buf_init(&b, 0);
    o.status = ORD_CONFIRMED;
    CHECK_INT(ord_updated_build(&o, "c-1", &b), 0);
    CHECK_STR(b.data, "{\"type\":\"OrderUpdated\",\"orderId\":\"" ID
                      "\",\"status\":\"CONFIRMED\",\"correlationId\":\"c-1\","
                      "\"customerName\":\"Ann\"}");
    cm_buf_reset(&b);
    o.status = ORD_FAILED;
    o.reason = cm_xstrdup("total over the limit");
    CHECK_INT(ord_updated_build(&o, NULL, &b), 0);
    CHECK_STR(b.data, "{\"type\":\"OrderUpdated\",\"orderId\":\"" ID
                      "\",\"status\":\"FAILED\",\"correlationId\":null,"
                      "\"customerName\":\"Ann\",\"reason\":\"total over the limit\"}");
    cm_buf_deinit(&b);
    ord_order_deinit(&o);
}

static void test_decide(void)
{
    struct ord_order o;
    const char *reason = "x";
    sample(&o);
    CHECK_INT(ord_order_decide(&o, 10000 * 100, &reason), ORD_CONFIRMED);
    CHECK(reason == NULL);
    CHECK_INT(ord_order_decide(&o, 3998, &reason), ORD_CONFIRMED); /* limit is inclusive */
    CHECK_INT(ord_order_decide(&o, 3997, &reason), ORD_FAILED);
    CHECK_STR(reason, "total over the limit");
    free(o.items[0].sku);
    o.items[0].sku = cm_xstrdup("FAIL-42");
    CHECK_INT(ord_order_decide(&o, 10000 * 100, &reason), ORD_FAILED);
    CHECK_STR(reason, "sku rejected (FAIL-*)");
    free(o.items[0].sku);
    o.items[0].sku = cm_xstrdup("XFAIL-42");
    CHECK_INT(ord_order_decide(&o, 10000 * 100, &reason), ORD_CONFIRMED);
    ord_order_deinit(&o);
}

static void test_idempotency(void)
{
    char h[ORD_MD5_HEX], id[320];
    ord_md5_hex("", 0, h);
    CHECK_STR(h, "d41d8cd98f00b204e9800998ecf8427e");
    /* Powertools hashes json.dumps(key): md5('"abc"'). */
    CHECK_INT(ord_idem_record_id("create-order", "abc", 3, id, sizeof(id)), 0);
    CHECK_STR(id, "create-order#ebd9f4c7b06cb0aaf5d13d80e49d8b90");
    CHECK_INT(ord_idem_record_id("create-order", "abc", 3, id, 20), CM_ETOOBIG);
    /* The validation hash is over the canonical order, so whitespace, key
     * order, unknown keys and number spelling do not matter. */
    struct ord_order a, b;
    struct ord_invalid why;
    const char *t1 =
        "{\"customerName\":\"Ann\",\"items\":[{\"sku\":\"A-1\",\"qty\":2,\"price\":19.99}]}";
    const char *t2 = "{ \"items\" : [ {\"price\":19.990, \"qty\":2.0, \"sku\":\"A-1\"} ],"
                     " \"customerName\" : \"Ann\", \"x\": 1 }";
    const char *t3 =
        "{\"customerName\":\"Ann\",\"items\":[{\"sku\":\"A-1\",\"qty\":3,\"price\":19.99}]}";
    char h1[ORD_MD5_HEX], h2[ORD_MD5_HEX], h3[ORD_MD5_HEX];
    ord_order_init(&a);
    ord_order_init(&b);
    CHECK_INT(ord_order_parse_request(t1, strlen(t1), &a, &why), 0);
    CHECK_INT(ord_order_parse_request(t2, strlen(t2), &b, &why), 0);
    ord_idem_validation(&a, h1);
    ord_idem_validation(&b, h2);
    CHECK_STR(h1, h2);
    /* md5 of {"customerName":"Ann","items":[{"sku":"A-1","qty":2,"price":19.99}]} */
    CHECK_STR(h1, "fe67b0700feb0041ae62d23b705c0ff6");
    ord_order_deinit(&b);
    ord_order_init(&b);
    CHECK_INT(ord_order_parse_request(t3, strlen(t3), &b, &why), 0);
    ord_idem_validation(&b, h3);
    CHECK(strcmp(h1, h3) != 0);
    ord_order_deinit(&a);
    ord_order_deinit(&b);
}

/* The record callback process-orders runs, minus the table: poison fails. */
static int parse_only(const struct rt_invocation *inv, const struct rt_sqs_record *r, void *arg)
{
    struct ord_created m;
    const char *why = NULL;
    int rc = ord_created_parse(r->body, r->body_len, &m, &why);
    ord_created_deinit(&m);
    (*(int *)arg)++;
    return rc != 0;
}

static void test_batch_response(void)
{
    const char *ev =
        "{\"Records\":["
        "{\"messageId\":\"m1\",\"body\":\"{\\\"type\\\":\\\"OrderCreated\\\",\\\"orderId\\\":"
        "\\\"" ID "\\\"}\",\"messageAttributes\":{\"correlation_id\":{\"stringValue\":\"c1\","
        "\"dataType\":\"String\"}},\"eventSourceARN\":\"arn:aws:sqs:us-east-1:1:orders\"},"
        "{\"messageId\":\"m2\",\"body\":\"not "
        "json\",\"eventSourceARN\":\"arn:aws:sqs:us-east-1:1:orders\"},"
        "{\"messageId\":\"m3\",\"body\":\"{\\\"type\\\":\\\"OrderCreated\\\"}\"},"
        "{\"messageId\":\"m4\",\"body\":\"{\\\"orderId\\\":\\\"" ID "\\\"}\"}]}";
    struct rt_sqs_event e;
    const char *why = NULL;
    CHECK_INT(rt_sqs_event_parse(ev, strlen(ev), &e, &why), 0);
    struct cm_buf out;
    int calls = 0;
    cm_buf_init(&out, 0);
    CHECK_INT(rt_sqs_process(NULL, &e, parse_only, &calls, &out), 2);
    CHECK_INT(calls, 4);
    CHECK_STR(out.data,
              "{\"batchItemFailures\":[{\"itemIdentifier\":\"m2\"},{\"itemIdentifier\":\"m3\"}]}");
    cm_buf_deinit(&out);
    rt_sqs_event_deinit(&e);
}

int main(void)
{
    rt_log_setup("orders_message_test", "test", 2);
    rt_log_set_level(CM_LOG_ERROR);
    test_created();
    test_poison();
    test_updated();
    test_decide();
    test_idempotency();
    test_batch_response();
    return TEST_REPORT();
}
