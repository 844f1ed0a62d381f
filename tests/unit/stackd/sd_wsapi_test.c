/* Unit tests for the WebSocket API's pure parts (sd_wsapi.c): route
 * selection by $request.body.<path>, @connections path parsing, and the
 * websocket_api section of the stack file. */
#include "harness.h"
#include "sd_router.h"
#include "sd_stack.h"
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
    CHECK_INT(sd_wsapi_mgmt_path("/_aws/execute-api/localws/prod/@connections/abc", id, sizeof(id)),
              0);
    CHECK_STR(id, "abc");
    CHECK_INT(sd_wsapi_mgmt_path("/@connections/", id, sizeof(id)), CM_ENOTFOUND);
    CHECK_INT(sd_wsapi_mgmt_path("/@connections/a/b", id, sizeof(id)), CM_ENOTFOUND);
    CHECK_INT(sd_wsapi_mgmt_path("/orders/1", id, sizeof(id)), CM_ENOTFOUND);
}

static enum sd_service classify(const char *method, const char *path, const char *hname,
                                const char *hval)
{
    struct sd_req r;
    struct sd_route rt;
    memset(&r, 0, sizeof(r));
    r.method = method;
    r.path = path;
    r.query = "";
    r.body = "";
    if (hname) {
        r.headers[0].name = hname;
        r.headers[0].name_len = strlen(hname);
        r.headers[0].value = hval;
        r.headers[0].value_len = strlen(hval);
        r.n_headers = 1;
    }
    sd_router_classify(&r, &rt);
    return rt.svc;
}

static void test_router(void)
{
    CHECK_INT(classify("GET", "/prod", "Upgrade", "websocket"), SD_SVC_WEBSOCKET);
    CHECK_INT(classify("GET", "/", "upgrade", "WebSocket"), SD_SVC_WEBSOCKET);
    CHECK_INT(classify("POST", "/@connections/abc%3D", NULL, NULL), SD_SVC_APIGW_MGMT);
    CHECK_INT(classify("POST", "/prod/%40connections/abc", NULL, NULL), SD_SVC_APIGW_MGMT);
    CHECK_INT(classify("GET", "/@connections/abc", "Host", "localws.execute-api.localhost:4566"),
              SD_SVC_APIGW_MGMT);
    CHECK_INT(classify("DELETE", "/_aws/execute-api/localws/prod/@connections/abc", NULL, NULL),
              SD_SVC_APIGW_MGMT);
    CHECK_INT(classify("POST", "/a/b/@connections/abc", NULL, NULL), SD_SVC_HTTP_API);
    CHECK_INT(classify("GET", "/orders/1", "Host", "local.execute-api.localhost"), SD_SVC_HTTP_API);
    CHECK_INT(classify("GET", "/orders/1", NULL, NULL), SD_SVC_HTTP_API);
}

static int parse(const char *yaml, struct sd_stack **st, char *err, size_t n)
{
    *st = NULL;
    err[0] = '\0';
    return sd_stack_parse(yaml, strlen(yaml), "t.yaml", "/", st, err, n);
}

static void test_stack_section(void)
{
    struct sd_stack *st;
    char err[512];
    CHECK_INT(parse("functions:\n  f: {bootstrap: /bin/true}\n", &st, err, sizeof(err)), 0);
    CHECK_INT(st->ws.enabled, 0);
    sd_stack_free(st);
    CHECK_INT(parse("functions:\n  f: {bootstrap: /bin/true}\nwebsocket_api:\n  routes:\n"
                    "    $connect: f\n    $default: f\n    subscribe: f\n",
                    &st, err, sizeof(err)),
              0);
    CHECK_INT(st->ws.enabled, 1);
    CHECK_STR(st->ws.api_id, "localws");
    CHECK_STR(st->ws.stage, "prod");
    CHECK_STR(st->ws.route_selection, "$request.body.action");
    CHECK(st->ws.idle_timeout_ns == 600LL * 1000000000LL);
    CHECK(st->ws.max_duration_ns == 7200LL * 1000000000LL);
    CHECK_INT(st->ws.n_routes, 3);
    CHECK_STR(st->ws.routes[2].route_key, "subscribe");
    CHECK_STR(st->ws.routes[2].function, "f");
    sd_stack_free(st);
    CHECK_INT(parse("functions:\n  f: {bootstrap: /bin/true}\nwebsocket_api:\n  idle_timeout: 2s\n"
                    "  route_selection_expression: $request.body.msg.type\n",
                    &st, err, sizeof(err)),
              0);
    CHECK(st->ws.idle_timeout_ns == 2000000000LL);
    CHECK_STR(st->ws.route_selection, "$request.body.msg.type");
    sd_stack_free(st);
    /* Errors name the place. */
    CHECK(parse("functions:\n  f: {bootstrap: /bin/true}\nwebsocket_api:\n  routes:\n"
                "    $bogus: f\n",
                &st, err, sizeof(err)) < 0);
    CHECK_MSG(strstr(err, "t.yaml:5:5: websocket_api.routes.$bogus") != NULL, "err: %s", err);
    CHECK(parse("functions:\n  f: {bootstrap: /bin/true}\nwebsocket_api:\n  routes:\n"
                "    $default: nope\n",
                &st, err, sizeof(err)) < 0);
    CHECK_MSG(strstr(err, "no such function") != NULL, "err: %s", err);
    CHECK(parse("websocket_api:\n  route_selection_expression: $request.header.x\n", &st, err,
                sizeof(err)) < 0);
    CHECK_MSG(strstr(err, "t.yaml:2:") != NULL && strstr(err, "route_selection_expression"),
              "err: %s", err);
    CHECK(parse("websocket_api:\n  idle: 1s\n", &st, err, sizeof(err)) < 0);
    CHECK_MSG(strstr(err, "idle") != NULL, "err: %s", err);
}

int main(void)
{
    test_router();
    test_stack_section();
    test_select();
    test_mgmt_path();
    return TEST_REPORT();
}
