/* Unit tests for edge-port request classification (sd_router.c). */
#include "harness.h"
#include "sd_router.h"

#include <string.h>

static void req_init(struct sd_req *r, const char *method, const char *path, const char *query)
{
    memset(r, 0, sizeof(*r));
    r->method = method;
    r->path = path;
    r->query = query;
    r->body = "";
}

static void add_header(struct sd_req *r, const char *name, const char *value)
{
    struct sd_header *h = &r->headers[r->n_headers++];
    h->name = name;
    h->name_len = strlen(name);
    h->value = value;
    h->value_len = strlen(value);
}

int main(void)
{
    struct sd_req r;
    struct sd_route rt;

    req_init(&r, "POST", "/", "");
    add_header(&r, "X-Amz-Target", "Logs_20140328.PutLogEvents");
    sd_router_classify(&r, &rt);
    CHECK_INT(rt.svc, SD_SVC_LOGS);
    CHECK_STR(rt.target_op, "PutLogEvents");

    req_init(&r, "POST", "/", "");
    add_header(&r, "Authorization",
               "AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/monitoring/aws4_request, "
               "SignedHeaders=host, Signature=abc");
    add_header(&r, "Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
    r.body = "Action=PutMetricData&Version=2010-08-01";
    r.body_len = strlen(r.body);
    sd_router_classify(&r, &rt);
    CHECK_INT(rt.svc, SD_SVC_CW);
    CHECK_STR(rt.sigv4_service, "monitoring");
    CHECK_STR(rt.target_op, "PutMetricData");

    req_init(&r, "POST", "/", "");
    add_header(&r, "Content-Type", "application/x-www-form-urlencoded");
    r.body = "Action=SendMessage&Version=2012-11-05";
    r.body_len = strlen(r.body);
    sd_router_classify(&r, &rt);
    CHECK_INT(rt.svc, SD_SVC_SQS);

    req_init(&r, "POST", "/2015-03-31/functions/hello/invocations", "");
    sd_router_classify(&r, &rt);
    CHECK_INT(rt.svc, SD_SVC_LAMBDA);

    req_init(&r, "PUT", "/2017-10-31/functions/hello/concurrency", "");
    add_header(&r, "Authorization",
               "AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/lambda/aws4_request");
    sd_router_classify(&r, &rt);
    CHECK_INT(rt.svc, SD_SVC_LAMBDA);

    req_init(&r, "POST", "/@connections/abc", "");
    add_header(&r, "Authorization",
               "AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/execute-api/aws4_request");
    sd_router_classify(&r, &rt);
    CHECK_INT(rt.svc, SD_SVC_APIGW_MGMT);

    /* User traffic: everything else, at the root of the edge port. */
    req_init(&r, "POST", "/orders", "");
    sd_router_classify(&r, &rt);
    CHECK_INT(rt.svc, SD_SVC_HTTP_API);
    CHECK_STR(rt.path, "/orders");

    req_init(&r, "GET", "/_aws/execute-api/abc123/orders/7", "");
    sd_router_classify(&r, &rt);
    CHECK_INT(rt.svc, SD_SVC_HTTP_API);
    CHECK_STR(rt.api_id, "abc123");
    CHECK_STR(rt.path, "/orders/7");

    req_init(&r, "POST", "/", "");
    add_header(&r, "Host", "xyz.execute-api.localhost:4566");
    add_header(&r, "X-Amz-Target", "Logs_20140328.PutLogEvents");
    sd_router_classify(&r, &rt);
    CHECK_INT(rt.svc, SD_SVC_HTTP_API); /* Host wins: the API owns its domain */
    CHECK_STR(rt.api_id, "xyz");

    req_init(&r, "GET", "/_stackd/health", "");
    sd_router_classify(&r, &rt);
    CHECK_INT(rt.svc, SD_SVC_CONTROL);

    req_init(&r, "POST", "/", "");
    add_header(&r, "Authorization",
               "AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/s3/aws4_request");
    sd_router_classify(&r, &rt);
    CHECK_INT(rt.svc, SD_SVC_UNKNOWN);

    req_init(&r, "POST", "/", "");
    add_header(&r, "X-Amz-Target", "DynamoDB_20120810.PutItem");
    sd_router_classify(&r, &rt);
    CHECK_INT(rt.svc, SD_SVC_DYNAMODB);
    CHECK_STR(rt.target_op, "PutItem");
    return TEST_REPORT();
}
