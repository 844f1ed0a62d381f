/* sd_router.h: decides which emulated service gets a request on stackd's
 * edge port (protocols.md 0.3). Sans-IO and pure: it only reads the request.
 *
 * Order: "Upgrade: websocket" (any path) -> WebSocket API; Host
 * "<apiId>.execute-api.<anything>" or path prefix "/_aws/execute-api/<apiId>/"
 * -> HTTP API; SigV4 credential scope service; X-Amz-Target prefix; form body
 * Action=/Version=; Lambda REST path prefixes; "[/{stage}]/@connections/{id}"
 * (or %40connections) -> management API; "/_stackd/" control paths;
 * everything else is HTTP API traffic for the
 * stack's API (its routes live at the root of the edge port). */
#ifndef SD_ROUTER_H
#define SD_ROUTER_H

#include "sd_req.h"

#include <stddef.h>

enum sd_service {
    SD_SVC_HTTP_API = 1, /* API Gateway HTTP API (user routes) */
    SD_SVC_LAMBDA,       /* Lambda restJson1 API */
    SD_SVC_LOGS,         /* CloudWatch Logs (awsJson1_1) */
    SD_SVC_CW,           /* CloudWatch metrics (query or json) */
    SD_SVC_SQS,
    SD_SVC_DYNAMODB,
    SD_SVC_APIGW_MGMT, /* @connections */
    SD_SVC_CONTROL,    /* /_stackd/... (health) */
    SD_SVC_WEBSOCKET,  /* an HTTP Upgrade to the WebSocket API (any path) */
    SD_SVC_UNKNOWN,    /* an AWS request for a service stackd does not emulate */
};

struct sd_route {
    enum sd_service svc;
    char target_op[64];     /* X-Amz-Target operation after the '.', or Action=, or "" */
    const char *path;       /* path for the service (prefix stripped for HTTP API) */
    char api_id[32];        /* HTTP API id from Host or prefix, "" when implicit */
    char sigv4_service[32]; /* credential scope service, "" when unsigned */
};

/* Classifies req. Never fails: unknown AWS traffic is SD_SVC_UNKNOWN. */
void sd_router_classify(const struct sd_req *req, struct sd_route *out);
const char *sd_router_service_name(enum sd_service svc);

#endif
