/* sd_router.c: request classification for the edge port (see sd_router.h). */
#include "sd_router.h"

#include "cm/mem.h"

#include <string.h>
#include <strings.h>

static int has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* "AWS4-HMAC-SHA256 Credential=AK/20261122/us-east-1/lambda/aws4_request, ..." */
static void sigv4_service(const struct sd_req *req, char *out, size_t out_size)
{
    size_t n;
    const char *v = sd_req_header(req, "authorization", &n);
    out[0] = '\0';
    if (!v)
        return;
    const char *end = v + n, *p = NULL;
    for (const char *q = v; q + 11 <= end; q++) {
        if (memcmp(q, "Credential=", 11) == 0) {
            p = q + 11;
            break;
        }
    }
    if (!p)
        return;
    /* Skip three '/'-separated fields: key, date, region. */
    for (int slashes = 0; p < end && slashes < 3; p++) {
        if (*p == '/')
            slashes++;
    }
    size_t i = 0;
    while (p < end && *p != '/' && *p != ',' && i + 1 < out_size)
        out[i++] = *p++;
    out[i] = '\0';
}

/* "[/{stage}]/@connections/..." with "@" possibly sent as "%40". */
static int is_mgmt_path(const char *path)
{
    const char *p = path;
    if (*p != '/')
        return 0;
    const char *slash = strchr(p + 1, '/');
    for (int i = 0; i < 2 && p; i++) {
        if (has_prefix(p, "/@connections/") || strncasecmp(p, "/%40connections/", 16) == 0)
            return 1;
        p = slash; /* skip one stage segment */
    }
    return 0;
}

/* "Upgrade: websocket" (token list, case-insensitive). */
static int is_ws_upgrade(const struct sd_req *req)
{
    size_t n;
    const char *v = sd_req_header(req, "upgrade", &n);
    for (size_t i = 0; v && i + 9 <= n; i++) {
        if (strncasecmp(v + i, "websocket", 9) == 0)
            return 1;
    }
    return 0;
}

static enum sd_service from_sigv4(const char *svc, const char *path)
{
    if (!svc[0])
        return 0;
    if (strcmp(svc, "lambda") == 0)
        return SD_SVC_LAMBDA;
    if (strcmp(svc, "logs") == 0)
        return SD_SVC_LOGS;
    if (strcmp(svc, "monitoring") == 0)
        return SD_SVC_CW;
    if (strcmp(svc, "sqs") == 0)
        return SD_SVC_SQS;
    if (strcmp(svc, "dynamodb") == 0)
        return SD_SVC_DYNAMODB;
    if (strcmp(svc, "execute-api") == 0)
        return is_mgmt_path(path) ? SD_SVC_APIGW_MGMT : SD_SVC_HTTP_API;
    return SD_SVC_UNKNOWN;
}

static enum sd_service from_target(const struct sd_req *req, char *op, size_t op_size)
{
    size_t n;
    const char *v = sd_req_header(req, "x-amz-target", &n);
    static const struct {
        const char *prefix;
        enum sd_service svc;
    } tab[] = {
        {"Logs_20140328.", SD_SVC_LOGS},
        {"GraniteServiceVersion20100801.", SD_SVC_CW},
        {"AmazonSQS.", SD_SVC_SQS},
        {"DynamoDB_20120810.", SD_SVC_DYNAMODB},
    };
    if (!v)
        return 0;
    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
        size_t pl = strlen(tab[i].prefix);
        if (n > pl && strncmp(v, tab[i].prefix, pl) == 0) {
            size_t on = n - pl < op_size - 1 ? n - pl : op_size - 1;
            memcpy(op, v + pl, on);
            op[on] = '\0';
            return tab[i].svc;
        }
    }
    return SD_SVC_UNKNOWN;
}

/* Value of key in a form/query string (not decoded), copied into out. */
static int form_value(const char *s, size_t n, const char *key, char *out, size_t out_size)
{
    size_t kl = strlen(key);
    const char *p = s, *end = s + n;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *fe = amp ? amp : end;
        if ((size_t)(fe - p) > kl && memcmp(p, key, kl) == 0 && p[kl] == '=') {
            size_t vl = (size_t)(fe - p) - kl - 1;
            if (vl >= out_size)
                vl = out_size - 1;
            memcpy(out, p + kl + 1, vl);
            out[vl] = '\0';
            return 1;
        }
        p = fe + 1;
    }
    return 0;
}

static enum sd_service from_form(const struct sd_req *req, char *op, size_t op_size)
{
    char ver[32];
    size_t ctn;
    const char *ct = sd_req_header(req, "content-type", &ctn);
    const char *src = NULL;
    size_t srcn = 0;
    if (ct && ctn >= 33 && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0) {
        src = req->body;
        srcn = req->body_len;
    }
    for (int pass = 0; pass < 2; pass++) {
        if (src && form_value(src, srcn, "Action", op, op_size) &&
            form_value(src, srcn, "Version", ver, sizeof(ver))) {
            if (strcmp(ver, "2012-11-05") == 0)
                return SD_SVC_SQS;
            if (strcmp(ver, "2010-08-01") == 0)
                return SD_SVC_CW;
            return SD_SVC_UNKNOWN;
        }
        src = req->query;
        srcn = strlen(req->query);
    }
    op[0] = '\0';
    return 0;
}

/* "abc.execute-api.localhost:4566" -> "abc". */
static int host_api_id(const struct sd_req *req, char *out, size_t out_size)
{
    size_t n;
    const char *h = sd_req_header(req, "host", &n);
    if (!h)
        return 0;
    const char *dot = memchr(h, '.', n);
    if (!dot || dot == h || (size_t)(dot - h) >= out_size)
        return 0;
    size_t rest = n - (size_t)(dot - h);
    if (rest < 13 || strncasecmp(dot, ".execute-api.", 13) != 0)
        return 0;
    memcpy(out, h, (size_t)(dot - h));
    out[dot - h] = '\0';
    return 1;
}

void sd_router_classify(const struct sd_req *req, struct sd_route *out)
{
    static const char prefix[] = "/_aws/execute-api/";
    memset(out, 0, sizeof(*out));
    out->path = req->path;
    if (is_ws_upgrade(req)) {
        out->svc = SD_SVC_WEBSOCKET;
        return;
    }
    if (host_api_id(req, out->api_id, sizeof(out->api_id))) {
        /* "<apiId>.execute-api..." is also the @connections endpoint's host. */
        out->svc = is_mgmt_path(req->path) ? SD_SVC_APIGW_MGMT : SD_SVC_HTTP_API;
        return;
    }
    if (has_prefix(req->path, prefix)) {
        const char *id = req->path + sizeof(prefix) - 1;
        const char *slash = strchr(id, '/');
        size_t idn = slash ? (size_t)(slash - id) : strlen(id);
        if (idn < sizeof(out->api_id)) {
            memcpy(out->api_id, id, idn);
            out->api_id[idn] = '\0';
        }
        out->path = slash ? slash : "/";
        out->svc = is_mgmt_path(out->path) ? SD_SVC_APIGW_MGMT : SD_SVC_HTTP_API;
        return;
    }
    sigv4_service(req, out->sigv4_service, sizeof(out->sigv4_service));
    enum sd_service t = from_target(req, out->target_op, sizeof(out->target_op));
    enum sd_service f = t ? 0 : from_form(req, out->target_op, sizeof(out->target_op));
    enum sd_service s = from_sigv4(out->sigv4_service, req->path);
    if (s && s != SD_SVC_UNKNOWN) {
        out->svc = s;
        return;
    }
    if (t || f) {
        out->svc = t ? t : f;
        return;
    }
    if (has_prefix(req->path, "/2015-03-31/functions") ||
        has_prefix(req->path, "/2017-10-31/functions") ||
        has_prefix(req->path, "/2019-09-30/functions")) {
        out->svc = SD_SVC_LAMBDA;
        return;
    }
    if (is_mgmt_path(req->path)) {
        out->svc = SD_SVC_APIGW_MGMT;
        return;
    }
    if (has_prefix(req->path, "/_stackd/")) {
        out->svc = SD_SVC_CONTROL;
        return;
    }
    out->svc = s ? s : SD_SVC_HTTP_API;
}

const char *sd_router_service_name(enum sd_service svc)
{
    switch (svc) {
    case SD_SVC_HTTP_API:
        return "http-api";
    case SD_SVC_LAMBDA:
        return "lambda";
    case SD_SVC_LOGS:
        return "logs";
    case SD_SVC_CW:
        return "monitoring";
    case SD_SVC_SQS:
        return "sqs";
    case SD_SVC_DYNAMODB:
        return "dynamodb";
    case SD_SVC_APIGW_MGMT:
        return "execute-api";
    case SD_SVC_CONTROL:
        return "control";
    case SD_SVC_WEBSOCKET:
        return "websocket";
    case SD_SVC_UNKNOWN:
        return "unknown";
    }
    return "unknown";
}
