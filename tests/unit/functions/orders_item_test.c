/* orders_item_test: the order's DynamoDB item form (ord_order_to_item /
 * ord_order_from_item round trip and exact wire shape), the API JSON form,
 * money as exact cents (format and parse), and decoding errors. */
#include "harness.h"
#include "orders.h"

#include "cm/buf.h"
#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"

#include <stdlib.h>
#include <string.h>

static void sample(struct ord_order *o)
{
    ord_order_init(o);
    cm_strlcpy(o->id, "0192f0c2-7d1e-7abc-8def-0123456789ab", sizeof(o->id));
    cm_strlcpy(o->created_at, "2026-11-22T07:19:56.123Z", sizeof(o->created_at));
    o->customer_name = cm_xstrdup("Ann \"the\" Buyer");
    o->n_items = 2;
    o->items = cm_xcalloc(2, sizeof(*o->items));
    o->items[0] = (struct ord_item){cm_xstrdup("A-1"), 2, 1999};
    o->items[1] = (struct ord_item){cm_xstrdup("B"), 3, 10};
    o->total_cents = 4028;
    o->correlation_id = cm_xstrdup("corr-1");
}

static void test_money(void)
{
    char m[ORD_MONEY_MAX];
    CHECK_STR(ord_money_format(0, m), "0");
    CHECK_STR(ord_money_format(1999, m), "19.99");
    CHECK_STR(ord_money_format(1990, m), "19.9");
    CHECK_STR(ord_money_format(1900, m), "19");
    CHECK_STR(ord_money_format(5, m), "0.05");
    CHECK_STR(ord_money_format(-150, m), "-1.5");
    CHECK_STR(ord_money_format(INT64_MIN, m), "-92233720368547758.08");
    int64_t c = 0;
    CHECK_INT(ord_money_parse("19.99", 5, &c), 0);
    CHECK_INT(c, 1999);
    CHECK_INT(ord_money_parse("19.9", 4, &c), 0);
    CHECK_INT(c, 1990);
    CHECK_INT(ord_money_parse("19.900", 6, &c), 0);
    CHECK_INT(c, 1990);
    CHECK_INT(ord_money_parse("7", 1, &c), 0);
    CHECK_INT(c, 700);
    CHECK_INT(ord_money_parse("-0.05", 5, &c), 0);
    CHECK_INT(c, -5);
    CHECK_INT(ord_money_parse("19.991", 6, &c), CM_EINVAL);
    CHECK_INT(ord_money_parse("1e3", 3, &c), CM_EINVAL);
    CHECK_INT(ord_money_parse("", 0, &c), CM_EINVAL);
    CHECK_INT(ord_money_parse(".5", 2, &c), CM_EINVAL);
    CHECK_INT(ord_money_parse("5.", 2, &c), CM_EINVAL);
    CHECK_INT(ord_money_parse("12x", 3, &c), CM_EINVAL);
    CHECK_INT(ord_money_parse("999999999999999999999", 21, &c), CM_ERANGE);
    /* Round trip over a spread of values. */
    for (int64_t v = 0; v < 100000000000LL; v = v * 7 + 13) {
        int64_t back = -1;
        ord_money_format(v, m);
        CHECK_MSG(ord_money_parse(m, strlen(m), &back) == 0 && back == v, "%lld", (long long)v);
    }
}

static void test_item_shape(void)
{
    struct ord_order o;
    sample(&o);
    cJSON *item = ord_order_to_item(&o);
    struct cm_buf b;
    cm_buf_init(&b, 0);
    CHECK_INT(cm_json_append(&b, item), 0);
    CHECK_STR(b.data,
              "{\"id\":{\"S\":\"0192f0c2-7d1e-7abc-8def-0123456789ab\"},"
              "\"status\":{\"S\":\"PENDING\"},\"customerName\":{\"S\":\"Ann \\\"the\\\" Buyer\"},"
              "\"items\":{\"L\":[{\"M\":{\"sku\":{\"S\":\"A-1\"},\"qty\":{\"N\":\"2\"},"
              "\"price\":{\"N\":\"19.99\"}}},{\"M\":{\"sku\":{\"S\":\"B\"},\"qty\":{\"N\":\"3\"},"
              "\"price\":{\"N\":\"0.1\"}}}]},\"total\":{\"N\":\"40.28\"},"
              "\"createdAt\":{\"S\":\"2026-11-22T07:19:56.123Z\"},"
              "\"correlationId\":{\"S\":\"corr-1\"}}");
    cm_buf_deinit(&b);
    cJSON_Delete(item);
    ord_order_deinit(&o);
}

static void test_round_trip(void)
{
    struct ord_order o, back;
    sample(&o);
    o.status = ORD_FAILED;
    o.reason = cm_xstrdup("sku rejected (FAIL-*)");
    cm_strlcpy(o.updated_at, "2026-11-22T07:20:00.000Z", sizeof(o.updated_at));
    cJSON *item = ord_order_to_item(&o);
    const char *why = NULL;
    ord_order_init(&back);
    CHECK_INT(ord_order_from_item(item, &back, &why), 0);
    CHECK_STR(back.id, o.id);
    CHECK_INT(back.status, ORD_FAILED);
    CHECK_STR(back.customer_name, o.customer_name);
    CHECK_INT(back.n_items, 2);
    CHECK_STR(back.items[1].sku, "B");
    CHECK_INT(back.items[0].qty, 2);
    CHECK_INT(back.items[0].price_cents, 1999);
    CHECK_INT(back.items[1].price_cents, 10);
    CHECK_INT(back.total_cents, 4028);
    CHECK_STR(back.created_at, o.created_at);
    CHECK_STR(back.updated_at, o.updated_at);
    CHECK_STR(back.reason, o.reason);
    CHECK_STR(back.correlation_id, "corr-1");

    struct cm_buf b;
    cm_buf_init(&b, 0);
    CHECK_INT(ord_order_to_json(&back, &b), 0);
    CHECK_STR(b.data, "{\"id\":\"0192f0c2-7d1e-7abc-8def-0123456789ab\",\"status\":\"FAILED\","
                      "\"customerName\":\"Ann \\\"the\\\" Buyer\",\"items\":[{\"sku\":\"A-1\","
                      "\"qty\":2,\"price\":19.99},{\"sku\":\"B\",\"qty\":3,\"price\":0.1}],"
                      "\"total\":40.28,\"createdAt\":\"2026-11-22T07:19:56.123Z\","
                      "\"updatedAt\":\"2026-11-22T07:20:00.000Z\","
                      "\"reason\":\"sku rejected (FAIL-*)\",\"correlationId\":\"corr-1\"}");
    cJSON *parsed = cm_json_parse(b.data, b.len);
    CHECK(parsed != NULL);
    cJSON_Delete(parsed);
    cm_buf_deinit(&b);
    cJSON_Delete(item);
    ord_order_deinit(&back);
    ord_order_deinit(&o);
}

/* DynamoDB normalises numbers ("19.90" -> "19.9"); both decode. */
static void test_decode_service_forms(void)
{
    const char *text =
        "{\"id\":{\"S\":\"x\"},\"status\":{\"S\":\"CONFIRMED\"},\"customerName\":{\"S\":\"\"},"
        "\"items\":{\"L\":[{\"M\":{\"sku\":{\"S\":\"s\"},\"qty\":{\"N\":\"1\"},"
        "\"price\":{\"N\":\"19.90\"}}}]},\"total\":{\"N\":\"19.9\"},\"extra\":{\"BOOL\":true}}";
    cJSON *item = cm_json_parse(text, strlen(text));
    struct ord_order o;
    const char *why = NULL;
    ord_order_init(&o);
    CHECK_INT(ord_order_from_item(item, &o, &why), 0);
    CHECK_INT(o.status, ORD_CONFIRMED);
    CHECK_INT(o.items[0].price_cents, 1990);
    CHECK_INT(o.total_cents, 1990);
    CHECK_STR(o.created_at, "");
    CHECK(o.correlation_id == NULL && o.reason == NULL);
    ord_order_deinit(&o);
    cJSON_Delete(item);
}

static void expect_bad_item(const char *text, const char *why_prefix)
{
    cJSON *item = cm_json_parse(text, strlen(text));
    struct ord_order o;
    const char *why = NULL;
    ord_order_init(&o);
    CHECK_INT(ord_order_from_item(item, &o, &why), CM_EINVAL);
    CHECK_MSG(why && strncmp(why, why_prefix, strlen(why_prefix)) == 0, "%s: why %s", text,
              why ? why : "(null)");
    CHECK(o.items == NULL && o.customer_name == NULL);
    ord_order_deinit(&o);
    cJSON_Delete(item);
}

static void test_decode_errors(void)
{
    expect_bad_item("{}", "id:");
    expect_bad_item("{\"id\":{\"N\":\"1\"}}", "id:");
    expect_bad_item("{\"id\":{\"S\":\"x\"},\"status\":{\"S\":\"DONE\"}}", "status:");
    expect_bad_item("{\"id\":{\"S\":\"x\"},\"status\":{\"S\":\"PENDING\"}}", "customerName:");
    expect_bad_item("{\"id\":{\"S\":\"x\"},\"status\":{\"S\":\"PENDING\"},\"customerName\":"
                    "{\"S\":\"a\"},\"total\":{\"S\":\"1\"}}",
                    "total:");
    expect_bad_item("{\"id\":{\"S\":\"x\"},\"status\":{\"S\":\"PENDING\"},\"customerName\":"
                    "{\"S\":\"a\"},\"total\":{\"N\":\"1\"}}",
                    "items:");
    expect_bad_item("{\"id\":{\"S\":\"x\"},\"status\":{\"S\":\"PENDING\"},\"customerName\":"
                    "{\"S\":\"a\"},\"total\":{\"N\":\"1\"},\"items\":{\"L\":[{\"M\":{}}]}}",
                    "items[].sku");
    expect_bad_item("{\"id\":{\"S\":\"x\"},\"status\":{\"S\":\"PENDING\"},\"customerName\":"
                    "{\"S\":\"a\"},\"total\":{\"N\":\"1\"},\"items\":{\"L\":[{\"M\":{\"sku\":"
                    "{\"S\":\"a\"},\"qty\":{\"N\":\"1\"},\"price\":{\"N\":\"1.234\"}}}]}}",
                    "items[].qty");
    expect_bad_item("null", "id:");
}

static void test_status_names(void)
{
    enum ord_status s;
    CHECK_STR(ord_status_name(ORD_PENDING), "PENDING");
    CHECK_STR(ord_status_name(ORD_CONFIRMED), "CONFIRMED");
    CHECK_STR(ord_status_name(ORD_FAILED), "FAILED");
    CHECK_INT(ord_status_parse("FAILED", &s), 0);
    CHECK_INT(s, ORD_FAILED);
    CHECK_INT(ord_status_parse("pending", &s), CM_EINVAL);
    CHECK_INT(ord_status_parse(NULL, &s), CM_EINVAL);
}

int main(void)
{
    test_money();
    test_item_shape();
    test_round_trip();
    test_decode_service_forms();
    test_decode_errors();
    test_status_names();
    return TEST_REPORT();
}
