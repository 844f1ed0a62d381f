/* sd_apigw.h: API Gateway HTTP API emulation: routes ("POST /orders",
 * "GET /orders/{id}", "ANY /x/{proxy+}", "$default") to Lambda integrations
 * with payload format 2.0 (protocols.md 3.1, 3.2).
 *
 * On the edge port, every request that is not AWS API traffic (see
 * sd_router.h) is HTTP API traffic: the API's routes live at the root
 * (http://127.0.0.1:4566/orders), like the $default stage of an API on its
 * own domain. "/_aws/execute-api/<apiId>/..." and Host
 * "<apiId>.execute-api.localhost" reach it too.
 *
 * Gateway answers: 404 {"message":"Not Found"} (no route), 429 {"message":
 * "Too Many Requests"} (throttled), 500 {"message":"Internal Server Error"}
 * (function error, crash, bad response), 503 {"message":"Service
 * Unavailable"} (function timeout), 413 (payload over 10 MB, from the
 * server). Every answer carries "apigw-requestid". */
#ifndef SD_APIGW_H
#define SD_APIGW_H

#include "sd_lambda.h"
#include "sd_req.h"
#include "sd_server.h"
#include "sd_stack.h"

#include "cm/buf.h"

#define SD_APIGW_MAX_PARAMS 16

struct sd_apigw;

struct sd_apigw_match {
    int route;             /* index in the route table, -1 none */
    const char *route_key; /* "GET /orders/{id}" or "$default" */
    const char *function;
    int n_params;
    char names[SD_APIGW_MAX_PARAMS][64];
    char values[SD_APIGW_MAX_PARAMS][256];
};

/* Routes from the stack (function names must exist in l). */
int sd_apigw_new(const struct sd_stack *st, struct sd_lambda *l, struct sd_apigw **out);
void sd_apigw_free(struct sd_apigw *g);

/* Metric sink for AWS/ApiGateway (same shape as the Lambda hook). */
void sd_apigw_set_metric_hook(struct sd_apigw *g,
                              void (*metric)(void *ctx, const char *ns, const char *name,
                                             const char *dim_name, const char *dim_value,
                                             double value, const char *unit, int64_t ts_ms),
                              void *ctx);

/* Handles one HTTP API request (path with any /_aws prefix removed); answers
 * on conn now or later. */
void sd_apigw_handle(struct sd_apigw *g, struct sd_conn *conn, const struct sd_req *req,
                     const char *path);

/* Answers 503 for requests waiting longer than the integration timeout
 * (30 s, API Gateway's fixed maximum); call from the loop's tick. */
void sd_apigw_tick(struct sd_apigw *g, int64_t now_mono_ns);
/* For tests: a shorter integration timeout. */
void sd_apigw_set_integration_timeout(struct sd_apigw *g, int64_t ns);

/* Most specific route for method+path: literal segments beat {param} beat
 * {greedy+}; an exact method beats ANY; "$default" last. 0 or CM_ENOTFOUND. */
int sd_apigw_match(const struct sd_apigw *g, const char *method, const char *path,
                   struct sd_apigw_match *m);

struct sd_apigw_ctx {
    const char *api_id, *account_id, *region;
    const char *request_id;
    int64_t wall_ns;
    const char *trace_id; /* x-amzn-trace-id to add when the request has none, or NULL */
};

/* Appends the payload format 2.0 event for req to out. */
int sd_apigw_build_event(struct cm_buf *out, const struct sd_req *req, const char *path,
                         const struct sd_apigw_match *m, const struct sd_apigw_ctx *ctx);

/* Maps a function result to the HTTP response (statusCode/headers/cookies/
 * body/isBase64Encoded, or the whole output as a 200 body). 0, or CM_EPARSE
 * when the result is malformed (answer 500). */
int sd_apigw_map_response(const char *out, size_t len, struct sd_resp *resp);

#endif
