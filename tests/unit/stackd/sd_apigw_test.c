/* Unit tests for HTTP API routing, payload 2.0 events and response mapping
 * (sd_apigw.c). */
#include "harness.h"
#include "sd_apigw.h"

#include "cm/json.h"

#include <string.h>

static const char stack_yaml[] = "functions:\n"
                                 "  a: {bootstrap: /nonexistent/a}\n"
                                 "  b: {bootstrap: /nonexistent/b}\n"
                                 "http_api:\n"
                                 "  routes:\n"
                                 "    \"GET /orders/{id}\": a\n"
                                 "    \"GET /orders/special\": b\n"
                                 "    \"ANY /orders/{id}\": b\n"
                                 "    \"ANY /files/{proxy+}\": a\n"
                                 "    \"POST /orders\": a\n"
                                 "    $default: b\n";

static void add_header(struct sd_req *r, const char *name, const char *value)
{
    struct sd_header *h = &r->headers[r->n_headers++];
    h->name = name;
    h->name_len = strlen(name);
    h->value = value;
    h->value_len = strlen(value);
}

static void test_match(struct sd_apigw *g)
{
    struct sd_apigw_match m;
    CHECK_INT(sd_apigw_match(g, "GET", "/orders/42", &m), 0);
    CHECK_STR(m.route_key, "GET /orders/{id}");
    CHECK_INT(m.n_params, 1);
    CHECK_STR(m.names[0], "id");
    CHECK_STR(m.values[0], "42");
    CHECK_INT(sd_apigw_match(g, "GET", "/orders/special", &m), 0);
    CHECK_STR(m.route_key, "GET /orders/special");
    CHECK_INT(sd_apigw_match(g, "DELETE", "/orders/42", &m), 0);
    CHECK_STR(m.route_key, "ANY /orders/{id}");
    CHECK_INT(sd_apigw_match(g, "PUT", "/files/a/b/c.txt", &m), 0);
    CHECK_STR(m.route_key, "ANY /files/{proxy+}");
    CHECK_STR(m.names[0], "proxy");
    CHECK_STR(m.values[0], "a/b/c.txt");
    CHECK_INT(sd_apigw_match(g, "POST", "/orders", &m), 0);
    CHECK_STR(m.route_key, "POST /orders");
    CHECK_INT(sd_apigw_match(g, "GET", "/orders", &m), 0);
    CHECK_STR(m.route_key, "$default");
    CHECK_INT(m.n_params, 0);
    CHECK_INT(sd_apigw_match(g, "GET", "/files", &m), 0);
    CHECK_STR(m.route_key, "$default"); /* greedy needs one segment */
}

static void test_event(struct sd_apigw *g)
{
    struct sd_req r;
    struct sd_apigw_match m;
    memset(&r, 0, sizeof(r));
    r.method = "POST";
    r.path = "/orders";
    r.query = "a=1&a=2&b=x%20y";
    r.body = "{\"n\":1}";
    r.body_len = strlen(r.body);
    r.peer_ip = "127.0.0.1";
    add_header(&r, "Content-Type", "application/json");
    add_header(&r, "X-Multi", "one");
    add_header(&r, "x-multi", "two");
    add_header(&r, "Cookie", "c1=v1; c2=v2");
    add_header(&r, "User-Agent", "test/1");
    CHECK_INT(sd_apigw_match(g, "POST", "/orders", &m), 0);
    struct sd_apigw_ctx ctx = {"api1",
                               "123456789012",
                               "us-east-1",
                               "REQ-ID=",
                               1583348638390LL * 1000000LL,
                               "Root=1-5e5fe7ae-0123456789abcdef01234567"};
    struct cm_buf b;
    cm_buf_init(&b, 0);
    sd_apigw_build_event(&b, &r, "/orders", &m, &ctx);
    cJSON *j = cm_json_parse(b.data, b.len);
    CHECK_MSG(j != NULL, "event is not JSON: %s", b.data);
    if (!j)
        return;
    CHECK_STR(cm_json_str(j, "version", ""), "2.0");
    CHECK_STR(cm_json_str(j, "routeKey", ""), "POST /orders");
    CHECK_STR(cm_json_str(j, "rawPath", ""), "/orders");
    CHECK_STR(cm_json_str(j, "rawQueryString", ""), "a=1&a=2&b=x%20y");
    CHECK_STR(cm_json_str(j, "body", ""), "{\"n\":1}");
    CHECK_INT(cm_json_bool(j, "isBase64Encoded", 1), 0);
    cJSON *h = cJSON_GetObjectItem(j, "headers");
    CHECK_STR(cm_json_str(h, "x-multi", ""), "one,two");
    CHECK_STR(cm_json_str(h, "content-type", ""), "application/json");
    CHECK(cJSON_GetObjectItem(h, "cookie") == NULL);
    CHECK_STR(cm_json_str(h, "x-amzn-trace-id", ""), "Root=1-5e5fe7ae-0123456789abcdef01234567");
    CHECK_STR(cm_json_str(h, "x-forwarded-for", ""), "127.0.0.1");
    cJSON *ck = cJSON_GetObjectItem(j, "cookies");
    CHECK_INT(cJSON_GetArraySize(ck), 2);
    CHECK_STR(cJSON_GetArrayItem(ck, 1)->valuestring, "c2=v2");
    cJSON *q = cJSON_GetObjectItem(j, "queryStringParameters");
    CHECK_STR(cm_json_str(q, "a", ""), "1,2");
    CHECK_STR(cm_json_str(q, "b", ""), "x y");
    CHECK(cJSON_GetObjectItem(j, "pathParameters") == NULL);
    cJSON *rc = cJSON_GetObjectItem(j, "requestContext");
    CHECK_STR(cm_json_str(rc, "accountId", ""), "123456789012");
    CHECK_STR(cm_json_str(rc, "apiId", ""), "api1");
    CHECK_STR(cm_json_str(rc, "domainName", ""), "api1.execute-api.us-east-1.amazonaws.com");
    CHECK_STR(cm_json_str(rc, "stage", ""), "$default");
    CHECK_STR(cm_json_str(rc, "requestId", ""), "REQ-ID=");
    CHECK_STR(cm_json_str(rc, "time", ""), "04/Mar/2020:19:03:58 +0000");
    CHECK_INT(cm_json_int(rc, "timeEpoch", 0), 1583348638390LL);
    cJSON *http = cJSON_GetObjectItem(rc, "http");
    CHECK_STR(cm_json_str(http, "method", ""), "POST");
    CHECK_STR(cm_json_str(http, "sourceIp", ""), "127.0.0.1");
    CHECK_STR(cm_json_str(http, "userAgent", ""), "test/1");
    CHECK_STR(cm_json_str(http, "protocol", ""), "HTTP/1.1");
    cJSON_Delete(j);

    /* No body, no query, path parameters, binary body as base64. */
    cm_buf_reset(&b);
    memset(&r, 0, sizeof(r));
    r.method = "GET";
    r.path = "/orders/a%2Fb";
    r.query = "";
    r.body = "";
    CHECK_INT(sd_apigw_match(g, "GET", r.path, &m), 0);
    sd_apigw_build_event(&b, &r, r.path, &m, &ctx);
    j = cm_json_parse(b.data, b.len);
    CHECK(j != NULL);
    CHECK(cJSON_GetObjectItem(j, "body") == NULL);
    CHECK(cJSON_GetObjectItem(j, "queryStringParameters") == NULL);
    CHECK_STR(cm_json_str(j, "rawQueryString", "x"), "");
    CHECK_STR(cm_json_str(cJSON_GetObjectItem(j, "pathParameters"), "id", ""), "a/b");
    cJSON_Delete(j);
    cm_buf_reset(&b);
    r.method = "POST";
    r.path = "/orders";
    r.body = "\x01\x02\xff";
    r.body_len = 3;
    add_header(&r, "Content-Type", "application/octet-stream");
    sd_apigw_match(g, "POST", "/orders", &m);
    sd_apigw_build_event(&b, &r, r.path, &m, &ctx);
    j = cm_json_parse(b.data, b.len);
    CHECK_STR(cm_json_str(j, "body", ""), "AQL/");
    CHECK_INT(cm_json_bool(j, "isBase64Encoded", 0), 1);
    cJSON_Delete(j);
    cm_buf_deinit(&b);
}

static void map(const char *out, int want_rc, int want_status, const char *want_body)
{
    struct sd_resp r;
    sd_resp_init(&r);
    int rc = sd_apigw_map_response(out, strlen(out), &r);
    CHECK_MSG(rc == want_rc, "map(%s) rc %d", out, rc);
    if (rc == 0) {
        CHECK_INT(r.status, want_status);
        CHECK_STR(cm_buf_cstr(&r.body), want_body);
    }
    sd_resp_deinit(&r);
}

static void test_response(void)
{
    map("{\"statusCode\":201,\"body\":\"made\"}", 0, 201, "made");
    map("\"Hello from Lambda!\"", 0, 200, "Hello from Lambda!");
    map("{\"message\":\"Hello from Lambda!\"}", 0, 200, "{\"message\":\"Hello from Lambda!\"}");
    map("[1,2]", 0, 200, "[1,2]");
    map("{\"statusCode\":200,\"isBase64Encoded\":true,\"body\":\"aGk=\"}", 0, 200, "hi");
    map("{\"statusCode\":\"x\"}", -4, 0, "");
    map("not json", -4, 0, "");
    struct sd_resp r;
    sd_resp_init(&r);
    const char *o = "{\"statusCode\":302,\"headers\":{\"Location\":\"/x\",\"Content-Type\":"
                    "\"text/plain\",\"X-N\":5},\"cookies\":[\"a=b; Path=/\",\"c=d\"]}";
    CHECK_INT(sd_apigw_map_response(o, strlen(o), &r), 0);
    CHECK_INT(r.status, 302);
    CHECK_STR(r.content_type, "text/plain");
    const char *hs = cm_buf_cstr(&r.headers);
    CHECK(strstr(hs, "Location: /x\r\n") != NULL);
    CHECK(strstr(hs, "X-N: 5\r\n") != NULL);
    CHECK(strstr(hs, "Set-Cookie: a=b; Path=/\r\nSet-Cookie: c=d\r\n") != NULL);
    sd_resp_deinit(&r);
}

int main(void)
{
    struct sd_stack *st = NULL;
    struct sd_lambda *l = NULL;
    struct sd_apigw *g = NULL;
    char err[512];
    struct sd_lambda_config lc = {0};
    if (sd_stack_parse(stack_yaml, strlen(stack_yaml), "t.yaml", "/", &st, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    sd_lambda_new(NULL, st, &lc, NULL, &l);
    sd_apigw_new(st, l, &g);
    test_match(g);
    test_event(g);
    test_response();
    sd_apigw_free(g);
    sd_lambda_free(l);
    sd_stack_free(st);
    return TEST_REPORT();
}
