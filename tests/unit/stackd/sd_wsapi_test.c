/* Unit tests for the WebSocket API's pure parts (sd_wsapi.c): route
 * selection by $request.body.<path> and @connections path parsing. */
#include "harness.h"
#include "sd_wsapi.h"

#include "cm/err.h"

#include <string.h>

static int sel(const char *expr, const char *body, char *out, size_t n)
{
    return sd_wsapi_select(expr, body, strlen(body), out, n);
}

static void test_select(void)
{
    char k[64];
    CHECK_INT(sel("$request.body.action", "{\"action\":\"subscribe\",\"o\":1}", k, sizeof(k)), 1);
    CHECK_STR(k, "subscribe");
    CHECK_INT(sel("$request.body.msg.type", "{\"msg\":{\"type\":\"ping\"}}", k, sizeof(k)), 1);
    CHECK_STR(k, "ping");
    CHECK_INT(sel("$request.body.action", "{\"action\":7}", k, sizeof(k)), 1);
    CHECK_STR(k, "7");
    /* No match, not JSON, not an object, empty or non-scalar value: $default. */
    CHECK_INT(sel("$request.body.action", "{\"other\":\"x\"}", k, sizeof(k)), 0);
    CHECK_INT(sel("$request.body.action", "hello", k, sizeof(k)), 0);
    CHECK_INT(sel("$request.body.action", "[1,2]", k, sizeof(k)), 0);
    CHECK_INT(sel("$request.body.action", "{\"action\":\"\"}", k, sizeof(k)), 0);
    CHECK_INT(sel("$request.body.action", "{\"action\":{\"a\":1}}", k, sizeof(k)), 0);
    CHECK_INT(sel("$request.body.action", "", k, sizeof(k)), 0);
    CHECK_INT(sel("$request.header.x", "{\"x\":\"y\"}", k, sizeof(k)), 0);
    /* A value longer than the output is no match rather than a truncated key. */
    CHECK_INT(sel("$request.body.action", "{\"action\":\"0123456789\"}", k, 5), 0);
}

static void test_mgmt_path(void)
{
    char id[64];
    CHECK_INT(sd_wsapi_mgmt_path("/@connections/R1kmxc2VNjMCFIA%3D", id, sizeof(id)), 0);
    CHECK_STR(id, "R1kmxc2VNjMCFIA=");
    CHECK_INT(sd_wsapi_mgmt_path("/prod/@connections/abc", id, sizeof(id)), 0);
    CHECK_STR(id, "abc");
    CHECK_INT(sd_wsapi_mgmt_path("/prod/%40connections/abc%3d", id, sizeof(id)), 0);
    CHECK_STR(id, "abc=");
    CHECK_INT(sd_wsapi_mgmt_path("/a/b/@connections/abc", id, sizeof(id)), CM_ENOTFOUND);
    CHECK_INT(sd_wsapi_mgmt_path("/@connections/", id, sizeof(id)), CM_ENOTFOUND);
    CHECK_INT(sd_wsapi_mgmt_path("/@connections/a/b", id, sizeof(id)), CM_ENOTFOUND);
    CHECK_INT(sd_wsapi_mgmt_path("/orders/1", id, sizeof(id)), CM_ENOTFOUND);
}

int main(void)
{
    test_select();
    test_mgmt_path();
    return TEST_REPORT();
}
