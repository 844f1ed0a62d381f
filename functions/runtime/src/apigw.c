/* apigw.c: API Gateway events for Lambda proxy integrations: HTTP API
 * payload format 2.0 requests and responses, and WebSocket API events
 * ($connect, $disconnect, messages), which share the requestContext layout
 * closely enough for one parser (protocols.md 3.1-3.3). Not the REST API
 * payload 1.0 format. */
#include "rt.h"

#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* An optional string member: absent or null -> "", a string -> its value,
 * anything else is the caller's error. */
static int opt_str(const cJSON *obj, const char *key, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = "";
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v) || !v->valuestring)
        return CM_EINVAL;
    *out = v->valuestring;
    return 0;
}

/* An optional object of string values -> kv array (names borrowed). */
static int opt_map(const cJSON *obj, const char *key, struct rt_kv **kv, size_t *n)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, key);
    *kv = NULL;
    *n = 0;
    if (!m || cJSON_IsNull(m))
        return 0;
    if (!cJSON_IsObject(m))
        return CM_EINVAL;
    size_t count = (size_t)cJSON_GetArraySize(m);
    if (count == 0)
        return 0;
    *kv = cm_xcalloc(count, sizeof **kv);
    for (const cJSON *e = m->child; e; e = e->next) {
        if (!cJSON_IsString(e) || !e->valuestring || !e->string)
            return CM_EINVAL;
        (*kv)[*n].name = e->string;
        (*kv)[*n].value = e->valuestring;
        (*n)++;
    }
    return 0;
}

/* Header names are case-insensitive; copies are lower-cased into one block
 * so lookups and callers can compare with strcmp. */
static void lower_header_names(struct rt_apigw_request *req)
{
    size_t total = 0;
    for (size_t i = 0; i < req->n_headers; i++)
        total += strlen(req->headers[i].name) + 1;
    if (total == 0)
        return;
    char *p = req->names_ = cm_xmalloc(total);
    for (size_t i = 0; i < req->n_headers; i++) {
        const char *s = req->headers[i].name;
        req->headers[i].name = p;
        while (*s)
            *p++ = (char)tolower((unsigned char)*s++);
        *p++ = '\0';
    }
}

static int decode_body(struct rt_apigw_request *req)
{
    struct cm_buf b;
    cm_buf_init(&b, RT_MAX_EVENT_BYTES);
    int rc = rt_base64_decode(req->body, strlen(req->body), &b);
    if (rc) {
        cm_buf_deinit(&b);
        return rc;
    }
    req->body_len = b.len;
    req->body_buf_ = cm_buf_steal(&b, NULL);
    req->body = req->body_buf_ ? req->body_buf_ : "";
    return 0;
}

static int fail(const char **why, const char *msg, int rc)
{
    if (why)
        *why = msg;
    return rc;
}

static int parse_context(const cJSON *ctx, struct rt_apigw_request *req, const char **why)
{
    const cJSON *http = cJSON_GetObjectItemCaseSensitive(ctx, "http");
    const cJSON *identity = cJSON_GetObjectItemCaseSensitive(ctx, "identity");
    if (http && !cJSON_IsObject(http))
        return fail(why, "requestContext.http: expected an object", CM_EINVAL);
    if (opt_str(ctx, "requestId", &req->request_id) || opt_str(ctx, "stage", &req->stage) ||
        opt_str(ctx, "domainName", &req->domain_name) ||
        opt_str(ctx, "connectionId", &req->connection_id) ||
        opt_str(ctx, "eventType", &req->event_type))
        return fail(why,
                    "requestContext: requestId, stage, domainName, connectionId and "
                    "eventType must be strings",
                    CM_EINVAL);
    if (opt_str(http, "method", &req->method))
        return fail(why, "requestContext.http.method: expected a string", CM_EINVAL);
    if (opt_str(http, "sourceIp", &req->source_ip) ||
        (!*req->source_ip && cJSON_IsObject(identity) &&
         opt_str(identity, "sourceIp", &req->source_ip)))
        return fail(why, "requestContext sourceIp: expected a string", CM_EINVAL);
    if (!*req->route_key && opt_str(ctx, "routeKey", &req->route_key))
        return fail(why, "requestContext.routeKey: expected a string", CM_EINVAL);
    req->is_websocket = *req->event_type != '\0';
    return 0;
}

/* Fills req from root; req is reset first, and whatever was allocated
 * before a failure is freed by rt_apigw_request_deinit(). */
static int fill_request(const cJSON *root, struct rt_apigw_request *req, const char **why)
{
    memset(req, 0, sizeof *req);
    req->version = req->route_key = req->raw_path = req->raw_query = req->method = "";
    req->request_id = req->source_ip = req->stage = req->domain_name = "";
    req->connection_id = req->event_type = req->body = "";
    if (!cJSON_IsObject(root))
        return fail(why, "event: expected a JSON object", CM_EINVAL);
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(root, "requestContext");
    if (!cJSON_IsObject(ctx))
        return fail(why, "requestContext: expected an object (not an API Gateway event)",
                    CM_EINVAL);
    if (opt_str(root, "version", &req->version) || opt_str(root, "routeKey", &req->route_key) ||
        opt_str(root, "rawPath", &req->raw_path) ||
        opt_str(root, "rawQueryString", &req->raw_query) || opt_str(root, "body", &req->body))
        return fail(why, "version, routeKey, rawPath, rawQueryString and body must be strings",
                    CM_EINVAL);
    int rc = parse_context(ctx, req, why);
    if (rc)
        return rc;
    if (!req->is_websocket && strcmp(req->version, "2.0") != 0)
        return fail(why, "version: expected \"2.0\" (HTTP API payload format 2.0)", CM_EINVAL);
    if (opt_map(root, "headers", &req->headers, &req->n_headers))
        return fail(why, "headers: expected an object of strings", CM_EINVAL);
    if (opt_map(root, "pathParameters", &req->path_params, &req->n_path_params))
        return fail(why, "pathParameters: expected an object of strings", CM_EINVAL);
    if (opt_map(root, "queryStringParameters", &req->query, &req->n_query))
        return fail(why, "queryStringParameters: expected an object of strings", CM_EINVAL);
    lower_header_names(req);
    const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(root, "isBase64Encoded");
    if (b64 && !cJSON_IsBool(b64) && !cJSON_IsNull(b64))
        return fail(why, "isBase64Encoded: expected true or false", CM_EINVAL);
    req->is_base64 = cJSON_IsTrue(b64);
    req->body_len = strlen(req->body);
    if (req->is_base64 && decode_body(req))
        return fail(why, "body: invalid base64 (isBase64Encoded is true)", CM_EINVAL);
    return 0;
}

int rt_apigw_request_from_json(const cJSON *root, struct rt_apigw_request *req, const char **why)
{
    return fill_request(root, req, why);
}

int rt_apigw_request_parse(const char *p, size_t n, struct rt_apigw_request *req, const char **why)
{
    cJSON *tree = cm_json_parse(p, n);
    int rc = fill_request(tree, req, why);
    req->owned_ = tree;
    if (!tree)
        return fail(why, "event: not valid JSON", CM_EPARSE);
    return rc;
}

void rt_apigw_request_deinit(struct rt_apigw_request *req)
{
    if (!req)
        return;
    free(req->headers);
    free(req->path_params);
    free(req->query);
    free(req->names_);
    free(req->body_buf_);
    cJSON_Delete(req->owned_);
    memset(req, 0, sizeof *req);
}

static const char *kv_find(const struct rt_kv *kv, size_t n, const char *name, int nocase)
{
    for (size_t i = 0; name && i < n; i++)
        if ((nocase ? strcasecmp(kv[i].name, name) : strcmp(kv[i].name, name)) == 0)
            return kv[i].value;
    return NULL;
}

const char *rt_apigw_header(const struct rt_apigw_request *req, const char *name)
{
    return kv_find(req->headers, req->n_headers, name, 1);
}

const char *rt_apigw_query_param(const struct rt_apigw_request *req, const char *name)
{
    return kv_find(req->query, req->n_query, name, 0);
}

const char *rt_apigw_path_param(const struct rt_apigw_request *req, const char *name)
{
    return kv_find(req->path_params, req->n_path_params, name, 0);
}

static int put_header(struct cm_buf *out, int *first, const char *name, const char *value)
{
    int rc = *first ? 0 : cm_buf_putc(out, ',');
    *first = 0;
    rc = rc ? rc : cm_json_append_string(out, name, strlen(name));
    rc = rc ? rc : cm_buf_putc(out, ':');
    return rc ? rc : cm_json_append_string(out, value, strlen(value));
}

static int has_header(const struct rt_apigw_response *resp, const char *name)
{
    return kv_find(resp->headers, resp->headers ? resp->n_headers : 0, name, 1) != NULL;
}

static int put_headers(const struct rt_invocation *inv, const struct rt_apigw_response *resp,
                       struct cm_buf *out)
{
    int first = 1;
    int rc = cm_buf_puts(out, ",\"headers\":{");
    if (!rc && !has_header(resp, "content-type"))
        rc = put_header(out, &first, "content-type",
                        resp->content_type ? resp->content_type : "application/json");
    for (size_t i = 0; resp->headers && i < resp->n_headers && !rc; i++)
        if (resp->headers[i].name && resp->headers[i].value)
            rc = put_header(out, &first, resp->headers[i].name, resp->headers[i].value);
    /* Cold-start marking for loadgen, which attributes each sample cold or
     * warm from this header. */
    if (!rc && inv && !has_header(resp, "x-cold-start"))
        rc = put_header(out, &first, "x-cold-start", inv->cold_start ? "1" : "0");
    if (!rc && inv && inv->correlation_id && *inv->correlation_id &&
        !has_header(resp, "x-correlation-id"))
        rc = put_header(out, &first, "x-correlation-id", inv->correlation_id);
    return rc ? rc : cm_buf_putc(out, '}');
}

int rt_apigw_response_write(const struct rt_invocation *inv, const struct rt_apigw_response *resp,
                            struct cm_buf *out)
{
    if (resp->status_code < 100 || resp->status_code > 599)
        return CM_EINVAL;
    size_t start = out->len;
    int rc = cm_buf_printf(out, "{\"statusCode\":%d", resp->status_code);
    rc = rc ? rc : put_headers(inv, resp, out);
    if (!rc && resp->body) {
        rc = cm_buf_puts(out, ",\"body\":");
        if (!rc && resp->base64) {
            rc = cm_buf_putc(out, '"');
            rc = rc ? rc : rt_base64_encode(resp->body, resp->body_len, out);
            rc = rc ? rc : cm_buf_putc(out, '"');
        } else if (!rc) {
            rc = cm_json_append_string(out, resp->body, resp->body_len);
        }
    }
    rc = rc ? rc
            : cm_buf_printf(out, ",\"isBase64Encoded\":%s}",
                            resp->body && resp->base64 ? "true" : "false");
    if (rc) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return rc;
}

int rt_apigw_respond_json(const struct rt_invocation *inv, int status, const char *json,
                          struct cm_buf *out)
{
    struct rt_apigw_response r = {
        .status_code = status,
        .body = json,
        .body_len = json ? strlen(json) : 0,
    };
    return rt_apigw_response_write(inv, &r, out);
}
