/* sd_lambda_api.c: the Lambda restJson1 API on the edge port (protocols.md
 * 1.4, 2.3), shaped as botocore's lambda/2015-03-31 model expects:
 *   POST   /2015-03-31/functions/{name}/invocations   Invoke
 *   GET    /2015-03-31/functions/                     ListFunctions
 *   GET    /2015-03-31/functions/{name}               GetFunction
 *   GET    /2015-03-31/functions/{name}/configuration GetFunctionConfiguration
 *   PUT    /2015-03-31/functions/{name}/configuration UpdateFunctionConfiguration
 *   PUT    /2017-10-31/functions/{name}/concurrency   PutFunctionConcurrency
 *   DELETE /2017-10-31/functions/{name}/concurrency   DeleteFunctionConcurrency
 *   GET    /2019-09-30/functions/{name}/concurrency   GetFunctionConcurrency
 * Errors: status from the model, x-amzn-ErrorType, {"Type":"User","Message":..}.
 * Versions, aliases, code updates and function creation are not emulated. */
#include "sd_lambda_api.h"

#include "cm/clock.h"
#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SYNC_PAYLOAD  (6u * 1024 * 1024)
#define MAX_ASYNC_PAYLOAD (256u * 1024)

static void api_error(struct sd_conn *conn, int status, const char *type, const char *msg)
{
    struct sd_resp r;
    char rid[37];
    sd_resp_init(&r);
    r.status = status;
    cm_strlcpy(r.content_type, "application/json", sizeof(r.content_type));
    sd_resp_header(&r, "x-amzn-ErrorType", type);
    sd_lambda_uuid(rid);
    sd_resp_header(&r, "x-amzn-RequestId", rid);
    cm_buf_puts(&r.body, "{\"Type\":\"User\",\"Message\":");
    cm_json_append_string(&r.body, msg, strlen(msg));
    cm_buf_puts(&r.body, ",\"message\":");
    cm_json_append_string(&r.body, msg, strlen(msg));
    cm_buf_puts(&r.body, "}");
    sd_conn_reply(conn, &r);
    sd_resp_deinit(&r);
}

static void reply_json(struct sd_conn *conn, int status, struct cm_buf *body)
{
    struct sd_resp r;
    char rid[37];
    sd_resp_init(&r);
    r.status = status;
    cm_strlcpy(r.content_type, "application/json", sizeof(r.content_type));
    sd_lambda_uuid(rid);
    sd_resp_header(&r, "x-amzn-RequestId", rid);
    if (body)
        cm_buf_append(&r.body, body->data ? body->data : "", body->len);
    sd_conn_reply(conn, &r);
    sd_resp_deinit(&r);
}

static void not_found(struct sd_lambda *l, struct sd_conn *conn, const char *name)
{
    char msg[512];
    snprintf(msg, sizeof(msg),
             "Function not found: arn:aws:lambda:us-east-1:000000000000:function:%s", name);
    (void)l;
    api_error(conn, 404, "ResourceNotFoundException", msg);
}

static void put_kv_str(struct cm_buf *b, const char *k, const char *v)
{
    cm_json_append_string(b, k, strlen(k));
    cm_buf_putc(b, ':');
    cm_json_append_string(b, v, strlen(v));
    cm_buf_putc(b, ',');
}

void sd_lambda_api_config_json(struct sd_lambda *l, struct sd_fn *fn, struct cm_buf *b)
{
    struct sd_fn_config *c = sd_fn_config(fn);
    char arn[200];
    sd_fn_arn(l, fn, arn, sizeof(arn));
    cm_buf_putc(b, '{');
    put_kv_str(b, "FunctionName", c->name);
    put_kv_str(b, "FunctionArn", arn);
    put_kv_str(b, "Runtime", "provided.al2023");
    put_kv_str(b, "Role", "arn:aws:iam::000000000000:role/stackd-local");
    put_kv_str(b, "Handler", c->handler);
    cm_buf_printf(b, "\"CodeSize\":%lld,", (long long)c->code_size);
    put_kv_str(b, "Description", "");
    cm_buf_printf(b, "\"Timeout\":%lld,", (long long)(c->timeout_ns / CM_NS_PER_S));
    cm_buf_printf(b, "\"MemorySize\":%lld,", (long long)c->memory_mb);
    put_kv_str(b, "LastModified", c->last_modified);
    put_kv_str(b, "CodeSha256", c->code_sha256);
    put_kv_str(b, "Version", "$LATEST");
    cm_buf_puts(b, "\"Environment\":{\"Variables\":{");
    for (size_t i = 0; i < c->n_env; i++) {
        if (i)
            cm_buf_putc(b, ',');
        cm_json_append_string(b, c->env_keys[i], strlen(c->env_keys[i]));
        cm_buf_putc(b, ':');
        cm_json_append_string(b, c->env_vals[i], strlen(c->env_vals[i]));
    }
    cm_buf_puts(b, "}},\"TracingConfig\":{\"Mode\":\"PassThrough\"},");
    put_kv_str(b, "RevisionId", c->revision_id);
    put_kv_str(b, "State", "Active");
    put_kv_str(b, "LastUpdateStatus", "Successful");
    put_kv_str(b, "PackageType", "Zip");
    cm_buf_puts(b, "\"Architectures\":[\"x86_64\"],\"EphemeralStorage\":{\"Size\":512}}");
}

static void op_list(struct sd_lambda *l, struct sd_conn *conn)
{
    struct cm_buf b;
    cm_buf_init(&b, 0);
    cm_buf_puts(&b, "{\"Functions\":[");
    for (size_t i = 0; i < sd_lambda_count(l); i++) {
        if (i)
            cm_buf_putc(&b, ',');
        sd_lambda_api_config_json(l, sd_lambda_at(l, i), &b);
    }
    cm_buf_puts(&b, "]}");
    reply_json(conn, 200, &b);
    cm_buf_deinit(&b);
}

static void op_get(struct sd_lambda *l, struct sd_fn *fn, struct sd_conn *conn, int config_only)
{
    struct cm_buf b;
    cm_buf_init(&b, 0);
    if (config_only) {
        sd_lambda_api_config_json(l, fn, &b);
    } else {
        struct sd_fn_config *c = sd_fn_config(fn);
        cm_buf_puts(&b, "{\"Configuration\":");
        sd_lambda_api_config_json(l, fn, &b);
        cm_buf_puts(&b, ",\"Code\":{\"RepositoryType\":\"S3\",\"Location\":");
        char loc[512];
        snprintf(loc, sizeof(loc), "file://%s", c->bootstrap);
        cm_json_append_string(&b, loc, strlen(loc));
        cm_buf_putc(&b, '}');
        if (c->reserved_concurrency >= 0)
            cm_buf_printf(&b, ",\"Concurrency\":{\"ReservedConcurrentExecutions\":%lld}",
                          (long long)c->reserved_concurrency);
        cm_buf_puts(&b, ",\"Tags\":{}}");
    }
    reply_json(conn, 200, &b);
    cm_buf_deinit(&b);
}

/* Validates the whole update first, then applies it (all or nothing). */
static void op_update(struct sd_lambda *l, struct sd_fn *fn, struct sd_conn *conn,
                      const struct sd_req *req)
{
    struct sd_fn_config *c = sd_fn_config(fn);
    cJSON *j = cm_json_parse(req->body, req->body_len);
    if (!j || !cJSON_IsObject(j)) {
        api_error(conn, 400, "InvalidParameterValueException", "request body is not a JSON object");
        goto out;
    }
    const cJSON *mem = cJSON_GetObjectItemCaseSensitive(j, "MemorySize");
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(j, "Timeout");
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(j, "Handler");
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(j, "Environment");
    const cJSON *vars = env ? cJSON_GetObjectItemCaseSensitive(env, "Variables") : NULL;
    if (mem && (!cJSON_IsNumber(mem) || mem->valuedouble < 128 || mem->valuedouble > 10240)) {
        api_error(conn, 400, "InvalidParameterValueException",
                  "MemorySize must be between 128 and 10240 MB");
        goto out;
    }
    if (to && (!cJSON_IsNumber(to) || to->valuedouble < 1 || to->valuedouble > 900)) {
        api_error(conn, 400, "InvalidParameterValueException",
                  "Timeout must be between 1 and 900 seconds");
        goto out;
    }
    if (h && !cJSON_IsString(h)) {
        api_error(conn, 400, "InvalidParameterValueException", "Handler must be a string");
        goto out;
    }
    const cJSON *v;
    size_t nv = 0;
    cJSON_ArrayForEach(v, vars)
    {
        if (!cJSON_IsString(v) || !v->string || !v->string[0] || strchr(v->string, '=')) {
            api_error(conn, 400, "InvalidParameterValueException",
                      "Environment.Variables must map names to strings");
            goto out;
        }
        nv++;
    }
    if (mem)
        c->memory_mb = (int64_t)mem->valuedouble;
    if (to)
        c->timeout_ns = (int64_t)to->valuedouble * CM_NS_PER_S;
    if (h) {
        free(c->handler);
        c->handler = cm_xstrdup(h->valuestring);
    }
    if (vars) {
        for (size_t i = 0; i < c->n_env; i++) {
            free(c->env_keys[i]);
            free(c->env_vals[i]);
        }
        free(c->env_keys);
        free(c->env_vals);
        c->env_keys = cm_xcalloc(nv + 1, sizeof(char *));
        c->env_vals = cm_xcalloc(nv + 1, sizeof(char *));
        c->n_env = 0;
        cJSON_ArrayForEach(v, vars)
        {
            c->env_keys[c->n_env] = cm_xstrdup(v->string);
            c->env_vals[c->n_env] = cm_xstrdup(v->valuestring);
            c->n_env++;
        }
    }
    sd_fn_config_changed(l, fn);
    op_get(l, fn, conn, 1);
out:
    cJSON_Delete(j);
}

static void op_concurrency(struct sd_lambda *l, struct sd_fn *fn, struct sd_conn *conn,
                           const struct sd_req *req)
{
    struct sd_fn_config *c = sd_fn_config(fn);
    struct cm_buf b;
    cm_buf_init(&b, 256);
    if (strcmp(req->method, "DELETE") == 0) {
        c->reserved_concurrency = -1;
        reply_json(conn, 204, NULL);
        goto out;
    }
    if (strcmp(req->method, "GET") == 0) {
        if (c->reserved_concurrency >= 0)
            cm_buf_printf(&b, "{\"ReservedConcurrentExecutions\":%lld}",
                          (long long)c->reserved_concurrency);
        else
            cm_buf_puts(&b, "{}");
        reply_json(conn, 200, &b);
        goto out;
    }
    cJSON *j = cm_json_parse(req->body, req->body_len);
    const cJSON *n = j ? cJSON_GetObjectItemCaseSensitive(j, "ReservedConcurrentExecutions") : NULL;
    if (!cJSON_IsNumber(n) || n->valuedouble < 0 || n->valuedouble > 100000 ||
        n->valuedouble != (double)(int64_t)n->valuedouble) {
        api_error(conn, 400, "InvalidParameterValueException",
                  "ReservedConcurrentExecutions must be a non-negative integer");
    } else {
        c->reserved_concurrency = (int64_t)n->valuedouble;
        cm_buf_printf(&b, "{\"ReservedConcurrentExecutions\":%lld}",
                      (long long)c->reserved_concurrency);
        reply_json(conn, 200, &b);
    }
    cJSON_Delete(j);
    (void)l;
out:
    cm_buf_deinit(&b);
}

/* ---------- Invoke ---------- */

struct invoke_call {
    struct sd_conn *conn;
};

static void on_invoke_done(void *ctx, const struct sd_inv_result *res)
{
    struct invoke_call *ic = ctx;
    struct sd_conn *conn = ic->conn;
    free(ic);
    if (!sd_conn_alive(conn)) {
        sd_conn_release(conn);
        return;
    }
    if (res->status == SD_INV_SHUTDOWN) {
        api_error(conn, 500, "ServiceException", "stackd is shutting down");
        return;
    }
    struct sd_resp r;
    sd_resp_init(&r);
    r.status = 200;
    cm_strlcpy(r.content_type, "application/json", sizeof(r.content_type));
    sd_resp_header(&r, "x-amzn-RequestId", res->request_id);
    sd_resp_header(&r, "X-Amz-Executed-Version", "$LATEST");
    if (res->status != SD_INV_OK)
        sd_resp_header(&r, "X-Amz-Function-Error", "Unhandled");
    if (res->log_tail) {
        size_t enc_len = 4 * ((res->log_tail_len + 2) / 3);
        char *enc = cm_xmalloc(enc_len + 1);
        EVP_EncodeBlock((unsigned char *)enc, (const unsigned char *)res->log_tail,
                        (int)res->log_tail_len);
        sd_resp_header(&r, "X-Amz-Log-Result", enc);
        free(enc);
    }
    if (res->body_len)
        cm_buf_append(&r.body, res->body, res->body_len);
    sd_conn_reply(conn, &r);
    sd_resp_deinit(&r);
}

static int hdr_is(const struct sd_req *req, const char *name, const char *val)
{
    size_t n;
    const char *v = sd_req_header(req, name, &n);
    return v && n == strlen(val) && memcmp(v, val, n) == 0;
}

static void op_invoke(struct sd_lambda *l, struct sd_fn *fn, struct sd_conn *conn,
                      const struct sd_req *req)
{
    size_t tn;
    const char *type = sd_req_header(req, "x-amz-invocation-type", &tn);
    if (type && !hdr_is(req, "x-amz-invocation-type", "RequestResponse") &&
        !hdr_is(req, "x-amz-invocation-type", "Event") &&
        !hdr_is(req, "x-amz-invocation-type", "DryRun")) {
        api_error(conn, 400, "InvalidParameterValueException",
                  "InvocationType must be RequestResponse, Event or DryRun");
        return;
    }
    if (hdr_is(req, "x-amz-invocation-type", "DryRun")) {
        reply_json(conn, 204, NULL);
        return;
    }
    if (hdr_is(req, "x-amz-invocation-type", "Event")) {
        char id[37];
        if (req->body_len > MAX_ASYNC_PAYLOAD) {
            api_error(conn, 413, "RequestTooLargeException",
                      "Request must be smaller than 262144 bytes for the InvokeAsync operation");
            return;
        }
        if (sd_lambda_invoke_event(l, fn, req->body, req->body_len, id) < 0) {
            api_error(conn, 429, "TooManyRequestsException", "Rate Exceeded.");
            return;
        }
        struct sd_resp r;
        sd_resp_init(&r);
        r.status = 202;
        sd_resp_header(&r, "x-amzn-RequestId", id);
        sd_conn_reply(conn, &r);
        sd_resp_deinit(&r);
        return;
    }
    if (req->body_len > MAX_SYNC_PAYLOAD) {
        api_error(conn, 413, "RequestTooLargeException",
                  "Request must be smaller than 6291456 bytes for the InvokeFunction operation");
        return;
    }
    /* Client context: base64 JSON, passed decoded to the runtime. */
    char ctxbuf[4096];
    const char *cc = NULL;
    size_t ccn;
    const char *ccv = sd_req_header(req, "x-amz-client-context", &ccn);
    if (ccv && ccn > 0 && ccn < 4 * (sizeof(ctxbuf) / 3) - 4 && ccn % 4 == 0) {
        int dn = EVP_DecodeBlock((unsigned char *)ctxbuf, (const unsigned char *)ccv, (int)ccn);
        if (dn >= 0) {
            while (ccn > 0 && ccv[ccn - 1] == '=') {
                dn--;
                ccn--;
            }
            ctxbuf[dn] = '\0';
            cc = ctxbuf;
        }
    }
    char trace[256];
    size_t trn;
    const char *tv = sd_req_header(req, "x-amzn-trace-id", &trn);
    if (tv && trn < sizeof(trace)) {
        memcpy(trace, tv, trn);
        trace[trn] = '\0';
    }
    struct invoke_call *ic = cm_xcalloc(1, sizeof(*ic));
    ic->conn = conn;
    struct sd_invoke_opts o = {req->body,
                               req->body_len,
                               hdr_is(req, "x-amz-log-type", "Tail"),
                               tv && trn < sizeof(trace) ? trace : NULL,
                               cc,
                               on_invoke_done,
                               ic};
    int rc = sd_lambda_invoke(l, fn, &o);
    if (rc < 0) {
        free(ic);
        if (rc == CM_EAGAIN) {
            struct sd_resp r;
            sd_resp_init(&r);
            r.status = 429;
            cm_strlcpy(r.content_type, "application/json", sizeof(r.content_type));
            sd_resp_header(&r, "x-amzn-ErrorType", "TooManyRequestsException");
            cm_buf_puts(&r.body,
                        "{\"Reason\":\"ReservedFunctionConcurrentInvocationLimitExceeded\","
                        "\"Type\":\"User\",\"message\":\"Rate Exceeded.\"}");
            sd_conn_reply(conn, &r);
            sd_resp_deinit(&r);
        } else {
            api_error(conn, 502, "InvalidRuntimeException",
                      "The runtime could not be started (bootstrap missing or not executable)");
        }
        return;
    }
    sd_conn_defer(conn);
}

/* ---------- dispatch ---------- */

static size_t url_decode(const char *s, size_t n, char *out, size_t out_size)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < out_size; i++) {
        if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
            isxdigit((unsigned char)s[i + 2])) {
            char hx[3] = {s[i + 1], s[i + 2], 0};
            out[o++] = (char)strtol(hx, NULL, 16);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return o;
}

void sd_lambda_api_handle(struct sd_lambda *l, struct sd_conn *conn, const struct sd_req *req)
{
    const char *p = req->path, *m = req->method;
    int ver;
    if (strncmp(p, "/2015-03-31/functions", 21) == 0)
        ver = 2015;
    else if (strncmp(p, "/2017-10-31/functions", 21) == 0)
        ver = 2017;
    else if (strncmp(p, "/2019-09-30/functions", 21) == 0)
        ver = 2019;
    else {
        api_error(conn, 404, "UnknownOperationException", "Unknown operation");
        return;
    }
    p += 21;
    if ((*p == '\0' || strcmp(p, "/") == 0) && ver == 2015 && strcmp(m, "GET") == 0) {
        op_list(l, conn);
        return;
    }
    if (*p != '/') {
        api_error(conn, 404, "UnknownOperationException", "Unknown operation");
        return;
    }
    p++;
    const char *slash = strchr(p, '/');
    size_t raw_len = slash ? (size_t)(slash - p) : strlen(p);
    const char *rest = slash ? slash : "";
    char name[256];
    size_t nl = url_decode(p, raw_len, name, sizeof(name));
    struct sd_fn *fn = sd_lambda_find(l, name, nl);
    if (!fn) {
        not_found(l, conn, name);
        return;
    }
    if (ver == 2015 && strcmp(rest, "/invocations") == 0 && strcmp(m, "POST") == 0)
        op_invoke(l, fn, conn, req);
    else if (ver == 2015 && (*rest == '\0' || strcmp(rest, "/") == 0) && strcmp(m, "GET") == 0)
        op_get(l, fn, conn, 0);
    else if (ver == 2015 && strcmp(rest, "/configuration") == 0 && strcmp(m, "GET") == 0)
        op_get(l, fn, conn, 1);
    else if (ver == 2015 && strcmp(rest, "/configuration") == 0 && strcmp(m, "PUT") == 0)
        op_update(l, fn, conn, req);
    else if (strcmp(rest, "/concurrency") == 0 &&
             ((ver == 2017 && (strcmp(m, "PUT") == 0 || strcmp(m, "DELETE") == 0)) ||
              (ver == 2019 && strcmp(m, "GET") == 0)))
        op_concurrency(l, fn, conn, req);
    else
        api_error(conn, 404, "UnknownOperationException", "Unknown operation");
}
