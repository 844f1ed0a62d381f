/* apigw_fuzz.c: the API Gateway payload 2.0 / WebSocket event parser, the
 * correlation id reader, and the response builder fed with what was parsed.
 * Invariants: no crash or leak; every string of a parsed request is non-NULL;
 * header names come out lower-case and are found again by lookup; a response
 * built from the parsed body is valid JSON whose base64 body decodes back to
 * the same bytes. */
#include "rt.h"

#include "cm/json.h"

#include <stdlib.h>
#include <string.h>

static void check_request(const struct rt_apigw_request *req)
{
    const char *strs[] = {req->version,     req->route_key,     req->raw_path,   req->raw_query,
                          req->method,      req->request_id,    req->source_ip,  req->stage,
                          req->domain_name, req->connection_id, req->event_type, req->body};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (!strs[i])
            abort();
    for (size_t i = 0; i < req->n_headers; i++) {
        for (const char *c = req->headers[i].name; *c; c++)
            if (*c >= 'A' && *c <= 'Z')
                abort();
        if (!rt_apigw_header(req, req->headers[i].name))
            abort();
    }
    for (size_t i = 0; i < req->n_query; i++)
        if (!rt_apigw_query_param(req, req->query[i].name))
            abort();
    for (size_t i = 0; i < req->n_path_params; i++)
        if (!rt_apigw_path_param(req, req->path_params[i].name))
            abort();
}

static void check_response(const struct rt_apigw_request *req)
{
    struct rt_invocation inv = {
        .request_id = "r", .correlation_id = req->request_id, .cold_start = 1};
    struct rt_apigw_response r = {.status_code = 200,
                                  .headers = req->headers,
                                  .n_headers = req->n_headers,
                                  .body = req->body,
                                  .body_len = req->body_len,
                                  .base64 = 1};
    struct cm_buf out, dec;
    cm_buf_init(&out, 0);
    cm_buf_init(&dec, 0);
    if (rt_apigw_response_write(&inv, &r, &out) != 0)
        abort();
    cJSON *j = cm_json_parse(out.data, out.len);
    if (!j)
        abort();
    const char *b = cm_json_str(j, "body", NULL);
    if (!b || rt_base64_decode(b, strlen(b), &dec) != 0 || dec.len != req->body_len ||
        (dec.len && memcmp(dec.data, req->body, dec.len) != 0))
        abort();
    cJSON_Delete(j);
    cm_buf_deinit(&out);
    cm_buf_deinit(&dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rt_apigw_request req;
    const char *why = NULL;
    int rc = rt_apigw_request_parse((const char *)data, size, &req, &why);
    if (rc == 0) {
        check_request(&req);
        check_response(&req);
    } else if (!why) {
        abort(); /* every failure names its cause */
    }
    char corr[RT_CORR_ID_MAX];
    rt_event_correlation_id(req.owned_, corr, sizeof corr);
    if (strlen(corr) >= sizeof corr)
        abort();
    rt_apigw_request_deinit(&req);
    return 0;
}
