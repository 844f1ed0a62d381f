/* orders_validate_test: POST /orders body validation (ord_order_parse_request):
 * every error message and field path, the boundaries (200 characters, 100
 * items, qty 1..1000, price decimals), totals in exact cents, and the
 * {"message","field"} error body. */
#include "harness.h"
#include "orders.h"

#include "cm/buf.h"
#include "cm/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses body; expects failure with exactly msg and field. */
static void expect_invalid(const char *body, const char *msg, const char *field)
{
    struct ord_order o;
    struct ord_invalid why;
    ord_order_init(&o);
    int rc = ord_order_parse_request(body, strlen(body), &o, &why);
    CHECK_MSG(rc == CM_EINVAL, "%s: rc %d", body, rc);
    if (rc == CM_EINVAL) {
        CHECK_MSG(strcmp(why.message, msg) == 0, "%s: message \"%s\", want \"%s\"", body,
                  why.message, msg);
        CHECK_MSG(strcmp(why.field, field) == 0, "%s: field \"%s\", want \"%s\"", body, why.field,
                  field);
    }
    CHECK(o.customer_name == NULL && o.items == NULL && o.n_items == 0);
    ord_order_deinit(&o);
}

static int64_t expect_valid(const char *body, size_t n_items)
{
    struct ord_order o;
    struct ord_invalid why = {"", ""};
    ord_order_init(&o);
    int rc = ord_order_parse_request(body, strlen(body), &o, &why);
    CHECK_MSG(rc == 0, "%s: rc %d (%s at %s)", body, rc, why.message, why.field);
    CHECK_INT(o.n_items, n_items);
    int64_t total = o.total_cents;
    ord_order_deinit(&o);
    return total;
}

static void test_body_errors(void)
{
    expect_invalid("", "request body is required", "");
    expect_invalid("{", "request body is not valid JSON", "");
    expect_invalid("not json", "request body is not valid JSON", "");
    expect_invalid("[1,2]", "request body must be a JSON object", "");
    expect_invalid("\"x\"", "request body must be a JSON object", "");
    expect_invalid("null", "request body must be a JSON object", "");
    struct cm_buf big;
    cm_buf_init(&big, 0);
    cm_buf_puts(&big, "{\"customerName\":\"");
    while (big.len <= ORD_BODY_MAX_BYTES)
        cm_buf_puts(&big, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    cm_buf_puts(&big, "\"}");
    expect_invalid(big.data, "request body must be at most 262144 bytes", "");
    cm_buf_deinit(&big);
}

static void test_customer_errors(void)
{
    const char *items = "\"items\":[{\"sku\":\"A\",\"qty\":1,\"price\":1}]";
    char b[2048];
    snprintf(b, sizeof(b), "{%s}", items);
    expect_invalid(b, "customerName is required", "customerName");
    snprintf(b, sizeof(b), "{\"customerName\":42,%s}", items);
    expect_invalid(b, "customerName must be a string", "customerName");
    snprintf(b, sizeof(b), "{\"customerName\":null,%s}", items);
    expect_invalid(b, "customerName must be a string", "customerName");
    snprintf(b, sizeof(b), "{\"customerName\":\"\",%s}", items);
    expect_invalid(b, "customerName must not be empty", "customerName");
    char name[256];
    memset(name, 'n', 201);
    name[201] = '\0';
    snprintf(b, sizeof(b), "{\"customerName\":\"%s\",%s}", name, items);
    expect_invalid(b, "customerName must be at most 200 characters", "customerName");
    name[200] = '\0';
    snprintf(b, sizeof(b), "{\"customerName\":\"%s\",%s}", name, items);
    expect_valid(b, 1);
    /* 200 two-byte characters are 200 characters, not 400. */
    struct cm_buf u;
    cm_buf_init(&u, 0);
    cm_buf_puts(&u, "{\"customerName\":\"");
    for (int i = 0; i < 200; i++)
        cm_buf_puts(&u, "\xc3\xa9");
    cm_buf_printf(&u, "\",%s}", items);
    expect_valid(u.data, 1);
    cm_buf_deinit(&u);
}

static void test_items_errors(void)
{
    expect_invalid("{\"customerName\":\"A\"}", "items is required", "items");
    expect_invalid("{\"customerName\":\"A\",\"items\":{}}", "items must be an array", "items");
    expect_invalid("{\"customerName\":\"A\",\"items\":[]}", "items must contain at least 1 item",
                   "items");
    struct cm_buf b;
    cm_buf_init(&b, 0);
    cm_buf_puts(&b, "{\"customerName\":\"A\",\"items\":[");
    for (int i = 0; i < 101; i++)
        cm_buf_printf(&b, "%s{\"sku\":\"S%d\",\"qty\":1,\"price\":0.5}", i ? "," : "", i);
    cm_buf_puts(&b, "]}");
    expect_invalid(b.data, "items must contain at most 100 items", "items");
    /* Exactly 100 is fine: 100 * 0.50 = 50.00. */
    char *cut = strstr(b.data, ",{\"sku\":\"S100\"");
    CHECK(cut != NULL);
    if (cut) {
        cut[0] = ']';
        cut[1] = '}';
        cut[2] = '\0';
        CHECK_INT(expect_valid(b.data, 100), 5000);
    }
    cm_buf_deinit(&b);
    expect_invalid("{\"customerName\":\"A\",\"items\":[{\"sku\":\"A\",\"qty\":1,\"price\":1},7]}",
                   "items[1] must be an object", "items[1]");
}

#define ITEM3(x)                                                                                   \
    "{\"customerName\":\"A\",\"items\":[{\"sku\":\"A\",\"qty\":1,\"price\":1},"                    \
    "{\"sku\":\"B\",\"qty\":2,\"price\":2},{" x "}]}"

static void test_item_field_errors(void)
{
    expect_invalid(ITEM3("\"qty\":1,\"price\":1"), "items[2].sku is required", "items[2].sku");
    expect_invalid(ITEM3("\"sku\":5,\"qty\":1,\"price\":1"), "items[2].sku must be a string",
                   "items[2].sku");
    expect_invalid(ITEM3("\"sku\":\"\",\"qty\":1,\"price\":1"), "items[2].sku must not be empty",
                   "items[2].sku");
    expect_invalid(
        ITEM3("\"sku\":\"0123456789012345678901234567890123456789012345678901234567890123X\","
              "\"qty\":1,\"price\":1"),
        "items[2].sku must be at most 64 characters", "items[2].sku");
    expect_invalid(ITEM3("\"sku\":\"C\",\"price\":1"), "items[2].qty is required", "items[2].qty");
    expect_invalid(ITEM3("\"sku\":\"C\",\"qty\":\"1\",\"price\":1"),
                   "items[2].qty must be an integer", "items[2].qty");
    expect_invalid(ITEM3("\"sku\":\"C\",\"qty\":1.5,\"price\":1"),
                   "items[2].qty must be an integer", "items[2].qty");
    expect_invalid(ITEM3("\"sku\":\"C\",\"qty\":0,\"price\":1"),
                   "items[2].qty must be between 1 and 1000", "items[2].qty");
    expect_invalid(ITEM3("\"sku\":\"C\",\"qty\":-3,\"price\":1"),
                   "items[2].qty must be between 1 and 1000", "items[2].qty");
    expect_invalid(ITEM3("\"sku\":\"C\",\"qty\":1001,\"price\":1"),
                   "items[2].qty must be between 1 and 1000", "items[2].qty");
    expect_invalid(ITEM3("\"sku\":\"C\",\"qty\":1"), "items[2].price is required",
                   "items[2].price");
    expect_invalid(ITEM3("\"sku\":\"C\",\"qty\":1,\"price\":\"1.00\""),
                   "items[2].price must be a number", "items[2].price");
    expect_invalid(ITEM3("\"sku\":\"C\",\"qty\":1,\"price\":-0.01"),
                   "items[2].price must not be negative", "items[2].price");
    expect_invalid(ITEM3("\"sku\":\"C\",\"qty\":1,\"price\":1.001"),
                   "items[2].price must have at most 2 decimal places", "items[2].price");
    expect_invalid(ITEM3("\"sku\":\"C\",\"qty\":1,\"price\":1.005"),
                   "items[2].price must have at most 2 decimal places", "items[2].price");
    expect_invalid(ITEM3("\"sku\":\"C\",\"qty\":1,\"price\":1000000.01"),
                   "items[2].price must be at most 1000000", "items[2].price");
    expect_invalid(ITEM3("\"sku\":\"C\",\"qty\":1,\"price\":1e400"),
                   "items[2].price must be a number", "items[2].price");
}

static void test_valid(void)
{
    /* 2 * 19.99 + 3 * 0.1 + 1 * 0 = 40.28, exactly. */
    CHECK_INT(expect_valid("{\"customerName\":\"Ann\",\"items\":[{\"sku\":\"A-1\",\"qty\":2,"
                           "\"price\":19.99},{\"sku\":\"B\",\"qty\":3,\"price\":0.1},"
                           "{\"sku\":\"C\",\"qty\":1,\"price\":0}],\"note\":\"ignored\"}",
                           3),
              4028);
    CHECK_INT(expect_valid("{\"customerName\":\"A\",\"items\":[{\"sku\":\"A\",\"qty\":1000,"
                           "\"price\":1000000}]}",
                           1),
              100000000000LL);
    CHECK_INT(expect_valid("{\"customerName\":\"A\",\"items\":[{\"sku\":\"A\",\"qty\":1e2,"
                           "\"price\":0.07}]}",
                           1),
              700);
    /* Not NUL-terminated: only len bytes are read. */
    const char *s =
        "{\"customerName\":\"A\",\"items\":[{\"sku\":\"A\",\"qty\":1,\"price\":1}]}XXXX";
    struct ord_order o;
    struct ord_invalid why;
    ord_order_init(&o);
    CHECK_INT(ord_order_parse_request(s, strlen(s) - 4, &o, &why), 0);
    CHECK_STR(o.customer_name, "A");
    CHECK_STR(o.items[0].sku, "A");
    ord_order_deinit(&o);
}

static void test_error_json(void)
{
    struct cm_buf b;
    cm_buf_init(&b, 0);
    struct ord_invalid why = {"items[2].qty must be an integer", "items[2].qty"};
    CHECK_INT(ord_invalid_json(&why, &b), 0);
    CHECK_STR(b.data,
              "{\"message\":\"items[2].qty must be an integer\",\"field\":\"items[2].qty\"}");
    cm_buf_reset(&b);
    struct ord_invalid body = {"request body is not valid JSON", ""};
    CHECK_INT(ord_invalid_json(&body, &b), 0);
    CHECK_STR(b.data, "{\"message\":\"request body is not valid JSON\"}");
    cm_buf_reset(&b);
    CHECK_INT(ord_message_json("order \"x\" not found", &b), 0);
    CHECK_STR(b.data, "{\"message\":\"order \\\"x\\\" not found\"}");
    cm_buf_deinit(&b);
}

static void test_ids(void)
{
    CHECK(ord_id_valid("0192f0c2-7d1e-7abc-8def-0123456789ab", 36));
    CHECK(ord_id_valid("0192F0C2-7D1E-7ABC-8DEF-0123456789AB", 36));
    CHECK(!ord_id_valid("0192f0c2-7d1e-7abc-8def-0123456789a", 35));
    CHECK(!ord_id_valid("0192f0c2x7d1e-7abc-8def-0123456789ab", 36));
    CHECK(!ord_id_valid("0192f0c2-7d1e-7abc-8def-0123456789ag", 36));
    CHECK(!ord_id_valid("../../etc/passwd", 16));
    CHECK(!ord_id_valid(NULL, 0));
}

int main(void)
{
    test_body_errors();
    test_customer_errors();
    test_items_errors();
    test_item_field_errors();
    test_valid();
    test_error_json();
    test_ids();
    return TEST_REPORT();
}
