/* orders_env_test: configuration helpers of the orders library: the
 * @connections endpoint resolution order (WS_MANAGEMENT_ENDPOINT, then
 * AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI, then the event's domain and
 * stage) and bounded integer environment variables. */
#include "harness.h"
#include "orders.h"

#include <stdlib.h>
#include <string.h>

static void test_ws_endpoint(void)
{
    char out[256];
    unsetenv("WS_MANAGEMENT_ENDPOINT");
    unsetenv("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI");
    CHECK(ord_ws_endpoint(NULL, NULL, out, sizeof(out)) == NULL);
    CHECK(ord_ws_endpoint("", "prod", out, sizeof(out)) == NULL);
    CHECK_STR(ord_ws_endpoint("abc.execute-api.us-east-1.amazonaws.com", "prod", out, sizeof(out)),
              "https://abc.execute-api.us-east-1.amazonaws.com/prod");
    CHECK_STR(ord_ws_endpoint("example.com", "", out, sizeof(out)), "https://example.com");
    CHECK(ord_ws_endpoint("example.com", "prod", out, 10) == NULL); /* does not fit */
    setenv("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", "http://127.0.0.1:4566", 1);
    CHECK_STR(ord_ws_endpoint("example.com", "prod", out, sizeof(out)), "http://127.0.0.1:4566");
    setenv("WS_MANAGEMENT_ENDPOINT", "https://ws.example/dev", 1);
    CHECK_STR(ord_ws_endpoint(NULL, NULL, out, sizeof(out)), "https://ws.example/dev");
    setenv("WS_MANAGEMENT_ENDPOINT", "", 1);
    CHECK_STR(ord_ws_endpoint(NULL, NULL, out, sizeof(out)), "http://127.0.0.1:4566");
    unsetenv("WS_MANAGEMENT_ENDPOINT");
    unsetenv("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI");
}

static void test_env_i64(void)
{
    unsetenv("ORD_TEST_N");
    CHECK_INT(ord_env_i64("ORD_TEST_N", 10, 0, 1000), 10);
    setenv("ORD_TEST_N", "25", 1);
    CHECK_INT(ord_env_i64("ORD_TEST_N", 10, 0, 1000), 25);
    setenv("ORD_TEST_N", "1001", 1);
    CHECK_INT(ord_env_i64("ORD_TEST_N", 10, 0, 1000), 10);
    setenv("ORD_TEST_N", "-1", 1);
    CHECK_INT(ord_env_i64("ORD_TEST_N", 10, 0, 1000), 10);
    setenv("ORD_TEST_N", "12ms", 1);
    CHECK_INT(ord_env_i64("ORD_TEST_N", 10, 0, 1000), 10);
    setenv("ORD_TEST_N", "", 1);
    CHECK_INT(ord_env_i64("ORD_TEST_N", 10, 0, 1000), 10);
    unsetenv("ORD_TEST_N");
}

int main(void)
{
    test_ws_endpoint();
    test_env_i64();
    return TEST_REPORT();
}
