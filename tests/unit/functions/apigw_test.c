/* apigw_test.c: API Gateway payload 2.0 and WebSocket event parsing and
 * response building, over the captured-shape files in
 * functions/runtime/testdata/. */
#include "harness.h"
#include "rt.h"

#include "cm/err.h"
#include "cm/json.h"

#include <stdlib.h>

static char *read_testdata(const char *name, size_t *len)
{
    const char *top = getenv("LG_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/functions/runtime/testdata/%s", top ? top : ".", name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return NULL;
    }
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void test_no_authorizer(void)
{
    size_t n = 0;
    char *p = read_testdata("apigw-v2-request-no-authorizer.json", &n);
    struct rt_apigw_request req;
    const char *why = NULL;
    CHECK_INT(rt_apigw_request_parse(p, n, &req, &why), 0);
    CHECK_STR(req.version, "2.0");
    CHECK_STR(req.route_key, "$default");
    CHECK_STR(req.raw_path, "/orders/o-1001");
    CHECK_STR(req.raw_query, "");
    CHECK_STR(req.method, "GET");
    CHECK_STR(req.request_id, "Bq7Xwj1SIAMEVNQ=");
    CHECK_STR(req.source_ip, "203.0.113.7");
    CHECK_STR(req.stage, "$default");
    CHECK_INT(req.n_headers, 9);
    CHECK_STR(rt_apigw_header(&req, "X-Amzn-Trace-Id"), "Root=1-6740a1b2-0f1e2d3c4b5a697887766554");
    CHECK(rt_apigw_header(&req, "cookie") == NULL);
    CHECK_INT(req.n_query, 0);
    CHECK_INT(req.n_path_params, 0);
    CHECK(rt_apigw_query_param(&req, "x") == NULL);
    CHECK_STR(req.body, "");
    CHECK_INT(req.body_len, 0);
    CHECK_INT(req.is_base64, 0);
    CHECK_INT(req.is_websocket, 0);
    rt_apigw_request_deinit(&req);
    free(p);
}

static void test_full(void)
{
    size_t n = 0;
    char *p = read_testdata("apigw-v2-request-full.json", &n);
    struct rt_apigw_request req;
    CHECK_INT(rt_apigw_request_parse(p, n, &req, NULL), 0);
    CHECK_STR(req.route_key, "POST /orders/{id}");
    CHECK_STR(req.raw_path, "/prod/orders/o-42");
    CHECK_STR(req.raw_query, "dry=1&tag=a&tag=b");
    CHECK_STR(req.method, "POST");
    CHECK_STR(req.stage, "prod");
    /* Names are lower-cased copies; lookups ignore case. */
    int saw_lower = 0;
    for (size_t i = 0; i < req.n_headers; i++)
        saw_lower += strcmp(req.headers[i].name, "x-correlation-id") == 0;
    CHECK_INT(saw_lower, 1);
    CHECK_STR(rt_apigw_header(&req, "x-correlation-id"), "corr-full-1");
    CHECK_STR(rt_apigw_header(&req, "X-MULTI"), "v1,v2");
    CHECK_STR(rt_apigw_query_param(&req, "tag"), "a,b");
    CHECK_STR(rt_apigw_query_param(&req, "dry"), "1");
    CHECK(rt_apigw_query_param(&req, "DRY") == NULL); /* query names are case-sensitive */
    CHECK_STR(rt_apigw_path_param(&req, "id"), "o-42");
    CHECK_INT(req.is_base64, 1);
    CHECK_STR(req.body, "{\"item\":\"widget\",\"qty\":2}");
    CHECK_INT(req.body_len, 25);
    char corr[64];
    CHECK_INT(rt_event_correlation_id(req.owned_, corr, sizeof corr), 1);
    CHECK_STR(corr, "corr-full-1");
    rt_apigw_request_deinit(&req);
    free(p);
}

static void test_websocket(void)
{
    size_t n = 0;
    char *p = read_testdata("apigw-websocket-connect.json", &n);
    struct rt_apigw_request req;
    CHECK_INT(rt_apigw_request_parse(p, n, &req, NULL), 0);
    CHECK_INT(req.is_websocket, 1);
    CHECK_STR(req.event_type, "CONNECT");
    CHECK_STR(req.route_key, "$connect");
    CHECK_STR(req.connection_id, "Xk2PqcWbIAMCJ1w=");
    CHECK_STR(req.domain_name, "w9p2c4e6g8.execute-api.us-east-1.amazonaws.com");
    CHECK_STR(req.stage, "prod");
    CHECK_STR(req.source_ip, "192.0.2.44");
    CHECK_STR(rt_apigw_header(&req, "sec-websocket-version"), "13");
    CHECK_STR(rt_apigw_query_param(&req, "user"), "u-7");
    char corr[64];
    CHECK_INT(rt_event_correlation_id(req.owned_, corr, sizeof corr), 1);
    CHECK_STR(corr, "corr-ws-connect");
    rt_apigw_request_deinit(&req);
    free(p);

    p = read_testdata("apigw-websocket-message.json", &n);
    CHECK_INT(rt_apigw_request_parse(p, n, &req, NULL), 0);
    CHECK_STR(req.event_type, "MESSAGE");
    CHECK_STR(req.route_key, "$default");
    CHECK_STR(req.body, "{\"action\":\"subscribe\",\"order\":\"o-42\"}");
    CHECK_INT(req.n_headers, 0);
    CHECK_INT(rt_event_correlation_id(req.owned_, corr, sizeof corr), 0);
    CHECK_STR(corr, "");
    rt_apigw_request_deinit(&req);
    free(p);

    p = read_testdata("apigw-websocket-disconnect.json", &n);
    CHECK_INT(rt_apigw_request_parse(p, n, &req, NULL), 0);
    CHECK_STR(req.event_type, "DISCONNECT");
    CHECK_STR(req.route_key, "$disconnect");
    rt_apigw_request_deinit(&req);
    free(p);
}

static void expect_invalid(const char *json, int want, const char *why_part)
{
    struct rt_apigw_request req;
    const char *why = NULL;
    int rc = rt_apigw_request_parse(json, strlen(json), &req, &why);
    CHECK_MSG(rc == want, "%s: rc %d, want %d", json, rc, want);
    CHECK_MSG(why && strstr(why, why_part), "%s: why '%s' lacks '%s'", json, why ? why : "",
              why_part);
    rt_apigw_request_deinit(&req);
}

static void test_invalid(void)
{
    expect_invalid("{\"version\":", CM_EPARSE, "JSON");
    expect_invalid("[1,2]", CM_EINVAL, "object");
    expect_invalid("{\"version\":\"2.0\"}", CM_EINVAL, "requestContext");
    expect_invalid("{\"version\":\"1.0\",\"requestContext\":{}}", CM_EINVAL, "version");
    expect_invalid("{\"version\":\"2.0\",\"requestContext\":{},\"headers\":[]}", CM_EINVAL,
                   "headers");
    expect_invalid("{\"version\":\"2.0\",\"requestContext\":{},\"headers\":{\"a\":1}}", CM_EINVAL,
                   "headers");
    expect_invalid("{\"version\":\"2.0\",\"requestContext\":{},\"body\":5}", CM_EINVAL, "body");
    expect_invalid("{\"version\":\"2.0\",\"requestContext\":{},\"body\":\"!!\","
                   "\"isBase64Encoded\":true}",
                   CM_EINVAL, "base64");
    expect_invalid("{\"version\":\"2.0\",\"requestContext\":{},\"isBase64Encoded\":\"yes\"}",
                   CM_EINVAL, "isBase64Encoded");
    expect_invalid("{\"version\":\"2.0\",\"requestContext\":{\"http\":5}}", CM_EINVAL,
                   "requestContext.http");
    expect_invalid("{\"version\":\"2.0\",\"requestContext\":{},\"pathParameters\":{\"id\":null}}",
                   CM_EINVAL, "pathParameters");
    /* Not NUL-terminated input: only n bytes are read. */
    const char *minimal = "{\"version\":\"2.0\",\"requestContext\":{}}GARBAGE";
    struct rt_apigw_request req;
    CHECK_INT(rt_apigw_request_parse(minimal, strlen(minimal) - 7, &req, NULL), 0);
    CHECK_STR(req.method, "");
    rt_apigw_request_deinit(&req);
    rt_apigw_request_deinit(NULL);
}

static cJSON *parse_response(struct cm_buf *out)
{
    cJSON *j = cm_json_parse(out->data, out->len);
    CHECK_MSG(j != NULL, "response is not JSON: %s", cm_buf_cstr(out));
    return j;
}

static void test_response(void)
{
    struct rt_invocation inv = {.request_id = "r-1", .correlation_id = "c-9", .cold_start = 1};
    struct cm_buf out;
    cm_buf_init(&out, 0);
    CHECK_INT(rt_apigw_respond_json(&inv, 201, "{\"id\":\"o-1\"}", &out), 0);
    cJSON *j = parse_response(&out);
    CHECK_INT(cm_json_int(j, "statusCode", 0), 201);
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(j, "headers");
    CHECK_STR(cm_json_str(h, "content-type", NULL), "application/json");
    CHECK_STR(cm_json_str(h, "x-cold-start", NULL), "1");
    CHECK_STR(cm_json_str(h, "x-correlation-id", NULL), "c-9");
    CHECK_STR(cm_json_str(j, "body", NULL), "{\"id\":\"o-1\"}");
    CHECK_INT(cm_json_bool(j, "isBase64Encoded", -1), 0);
    cJSON_Delete(j);

    /* Warm invocation, caller headers win, binary body as base64. */
    inv.cold_start = 0;
    struct rt_kv hdrs[] = {{"Content-Type", "application/octet-stream"},
                           {"x-correlation-id", "own"},
                           {"cache-control", "no-store"}};
    const char bin[] = {0, 1, 2, (char)0xff, 'a'};
    struct rt_apigw_response r = {.status_code = 200,
                                  .headers = hdrs,
                                  .n_headers = 3,
                                  .body = bin,
                                  .body_len = sizeof bin,
                                  .base64 = 1};
    cm_buf_reset(&out);
    CHECK_INT(rt_apigw_response_write(&inv, &r, &out), 0);
    j = parse_response(&out);
    h = cJSON_GetObjectItemCaseSensitive(j, "headers");
    CHECK(cm_json_str(h, "content-type", NULL) == NULL);
    CHECK_STR(cm_json_str(h, "Content-Type", NULL), "application/octet-stream");
    CHECK_STR(cm_json_str(h, "x-cold-start", NULL), "0");
    CHECK_STR(cm_json_str(h, "x-correlation-id", NULL), "own");
    CHECK_STR(cm_json_str(h, "cache-control", NULL), "no-store");
    CHECK_STR(cm_json_str(j, "body", NULL), "AAEC/2E=");
    CHECK_INT(cm_json_bool(j, "isBase64Encoded", -1), 1);
    cJSON_Delete(j);

    /* No invocation: no cold-start header; no body: no body member. */
    struct rt_apigw_response bare = {.status_code = 204};
    cm_buf_reset(&out);
    CHECK_INT(rt_apigw_response_write(NULL, &bare, &out), 0);
    j = parse_response(&out);
    h = cJSON_GetObjectItemCaseSensitive(j, "headers");
    CHECK(cm_json_str(h, "x-cold-start", NULL) == NULL);
    CHECK(cJSON_GetObjectItemCaseSensitive(j, "body") == NULL);
    cJSON_Delete(j);

    /* Body text needing escapes survives the round trip. */
    cm_buf_reset(&out);
    CHECK_INT(rt_apigw_respond_json(&inv, 200, "line1\n\"q\"\\\t\x01", &out), 0);
    j = parse_response(&out);
    CHECK_STR(cm_json_str(j, "body", NULL), "line1\n\"q\"\\\t\x01");
    cJSON_Delete(j);

    cm_buf_reset(&out);
    CHECK_INT(rt_apigw_respond_json(&inv, 99, "{}", &out), CM_EINVAL);
    CHECK_INT(rt_apigw_respond_json(&inv, 600, "{}", &out), CM_EINVAL);
    CHECK_INT(out.len, 0);

    /* A bounded buffer that overflows is left as it was. */
    struct cm_buf small;
    cm_buf_init(&small, 40);
    cm_buf_puts(&small, "x");
    CHECK_INT(rt_apigw_respond_json(&inv, 200, "{\"a\":\"long enough to overflow\"}", &small),
              CM_ETOOBIG);
    CHECK_STR(cm_buf_cstr(&small), "x");
    cm_buf_deinit(&small);
    cm_buf_deinit(&out);
}

int main(void)
{
    test_no_authorizer();
    test_full();
    test_websocket();
    test_invalid();
    test_response();
    return TEST_REPORT();
}
