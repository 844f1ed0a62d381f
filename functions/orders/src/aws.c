/* aws.c: DynamoDB, SQS and @connections calls for the order functions,
 * through cm_aws requests run on one process-wide libcurl multi handle. The
 * multi handle owns the connection cache, so the TCP (and TLS) connection of
 * one invocation is reused by the next; clients (credentials, region,
 * endpoint) are built once. Every call is bounded by the invocation's
 * deadline: attempts and backoff sleeps stop there (CM_ETIMEDOUT). */
#include "orders.h"

#include "cm/clock.h"
#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"
#include "rt.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WS_CLIENTS 4 /* distinct @connections endpoints cached */
#define ENDPOINT_MAX   1024

struct ws_client {
    char endpoint[ENDPOINT_MAX];
    struct cm_aws_client *client;
};

struct ord_aws {
    CURLM *multi;
    long timeout_ms;
    int64_t deadline_ms; /* wall clock; 0 = none */
    struct cm_aws_client *ddb, *sqs;
    int ddb_failed, sqs_failed; /* setup failed (logged once, retried next call) */
    struct ws_client ws[MAX_WS_CLIENTS];
    size_t n_ws, next_ws;
};

static int64_t now_ms(void)
{
    return cm_clock_wall_ns() / CM_NS_PER_MS;
}

struct ord_aws *ord_aws_new(long timeout_ms)
{
    struct ord_aws *a = cm_xcalloc(1, sizeof(*a));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    a->multi = curl_multi_init();
    if (!a->multi)
        abort();
    a->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
    return a;
}

void ord_aws_free(struct ord_aws *a)
{
    if (!a)
        return;
    cm_aws_client_free(a->ddb);
    cm_aws_client_free(a->sqs);
    for (size_t i = 0; i < a->n_ws; i++)
        cm_aws_client_free(a->ws[i].client);
    curl_multi_cleanup(a->multi);
    free(a);
}

void ord_aws_set_deadline(struct ord_aws *a, int64_t deadline_ms)
{
    a->deadline_ms = deadline_ms;
}

void ord_aws_begin(struct ord_aws *a, const struct rt_invocation *inv)
{
    int64_t now = now_ms(), left = rt_remaining_ms_at(inv, now);
    if (left == INT64_MAX) {
        a->deadline_ms = now + 10000;
        return;
    }
    int64_t reserve = left / 10 < 500 ? left / 10 : 500;
    a->deadline_ms = now + (left - reserve > 1 ? left - reserve : 1);
}

int ord_respond_invalid(const struct rt_invocation *inv, const struct ord_invalid *why,
                        struct cm_buf *out)
{
    struct cm_buf b;
    cm_buf_init(&b, 4096);
    int rc = ord_invalid_json(why, &b);
    rc = rc ? rc : rt_apigw_respond_json(inv, 400, b.data, out);
    cm_buf_deinit(&b);
    return rc;
}

int ord_respond_message(const struct rt_invocation *inv, int status, const char *msg,
                        struct cm_buf *out)
{
    struct cm_buf b;
    cm_buf_init(&b, 4096);
    int rc = ord_message_json(msg, &b);
    rc = rc ? rc : rt_apigw_respond_json(inv, status, b.data, out);
    cm_buf_deinit(&b);
    return rc;
}

void ord_resp_deinit(struct ord_resp *r)
{
    if (!r)
        return;
    cJSON_Delete(r->json);
    memset(r, 0, sizeof(*r));
}

static int client_new(const struct cm_aws_service *svc, const char *endpoint, long timeout_ms,
                      struct cm_aws_client **out, int *failed_before)
{
    char err[256] = "";
    struct cm_aws_client_opts o = {.service = svc, .endpoint = endpoint, .timeout_ms = timeout_ms};
    int rc = cm_aws_client_new(&o, out, err, sizeof(err));
    if (rc && !(failed_before && *failed_before))
        rt_err("cannot set up the %s client: %s (%s)", svc->service_id, err, cm_strerror(rc));
    if (failed_before)
        *failed_before = rc != 0;
    return rc;
}

/* One attempt on the multi handle, until done or the deadline. */
static int run_attempt(struct ord_aws *a, struct cm_aws_req *r, int64_t deadline)
{
    int rc = cm_aws_req_attach(r, a->multi, now_ms() / 1000);
    if (rc)
        return rc;
    CURL *e = cm_aws_req_easy(r);
    CURLcode res = CURLE_OPERATION_TIMEDOUT;
    int done = 0, running = 0;
    while (!done) {
        curl_multi_perform(a->multi, &running);
        CURLMsg *msg;
        int left_msgs;
        while ((msg = curl_multi_info_read(a->multi, &left_msgs)) != NULL) {
            if (msg->msg == CURLMSG_DONE && msg->easy_handle == e) {
                res = msg->data.result;
                done = 1;
            }
        }
        int64_t left = deadline - now_ms();
        if (done || left <= 0)
            break;
        curl_multi_poll(a->multi, NULL, 0, (int)(left < 200 ? left : 200), NULL);
    }
    cm_aws_req_detach(r, a->multi);
    rc = cm_aws_req_finish(r, res);
    return done ? rc : CM_ETIMEDOUT;
}

/* Attempts with backoff, never past the deadline; fills resp. */
static int run(struct ord_aws *a, struct cm_aws_client *c, struct cm_aws_req *r,
               struct ord_resp *resp)
{
    int64_t deadline = a->deadline_ms > 0 ? a->deadline_ms : now_ms() + 30000;
    int rc = CM_ETIMEDOUT;
    for (int i = 0; i < 20 && now_ms() < deadline; i++) {
        rc = run_attempt(a, r, deadline);
        int64_t delay_ns = 0;
        if (rc == 0 || rc == CM_ETIMEDOUT ||
            !cm_aws_req_next_delay(r, cm_aws_client_rand01(c), &delay_ns))
            break;
        if (now_ms() + delay_ns / CM_NS_PER_MS >= deadline)
            break;
        cm_clock_sleep_ns(delay_ns);
    }
    size_t len = 0;
    const char *body = cm_aws_req_body(r, &len);
    resp->status = cm_aws_req_status(r);
    resp->json = len ? cm_json_parse(body, len) : NULL;
    resp->err = *cm_aws_req_error(r);
    if (rc == CM_ETIMEDOUT && !resp->err.code[0])
        cm_strlcpy(resp->err.code, "Timeout", sizeof(resp->err.code));
    return rc;
}

static int call_json(struct ord_aws *a, struct cm_aws_client *c, const char *op, const cJSON *body,
                     struct ord_resp *resp)
{
    struct cm_buf b;
    struct cm_aws_req *r = NULL;
    cm_buf_init(&b, 0);
    int rc = cm_json_append(&b, body);
    rc = rc ? rc : cm_aws_req_json(c, op, b.data, b.len, &r);
    rc = rc ? rc : run(a, c, r, resp);
    cm_aws_req_free(r);
    cm_buf_deinit(&b);
    return rc;
}

int ord_ddb(struct ord_aws *a, const char *op, const cJSON *body, struct ord_resp *r)
{
    memset(r, 0, sizeof(*r));
    if (!a->ddb) {
        int rc = client_new(&cm_aws_dynamodb, NULL, a->timeout_ms, &a->ddb, &a->ddb_failed);
        if (rc)
            return rc;
    }
    return call_json(a, a->ddb, op, body, r);
}

int ord_sqs(struct ord_aws *a, const char *op, const cJSON *body, struct ord_resp *r)
{
    memset(r, 0, sizeof(*r));
    if (!a->sqs) {
        int rc = client_new(&cm_aws_sqs, NULL, a->timeout_ms, &a->sqs, &a->sqs_failed);
        if (rc)
            return rc;
    }
    return call_json(a, a->sqs, op, body, r);
}

static struct cm_aws_client *ws_client(struct ord_aws *a, const char *endpoint)
{
    for (size_t i = 0; i < a->n_ws; i++)
        if (strcmp(a->ws[i].endpoint, endpoint) == 0)
            return a->ws[i].client;
    struct cm_aws_client *c = NULL;
    if (client_new(&cm_aws_apigw_mgmt, endpoint, a->timeout_ms, &c, NULL) != 0)
        return NULL;
    size_t slot = a->n_ws < MAX_WS_CLIENTS ? a->n_ws++ : a->next_ws++ % MAX_WS_CLIENTS;
    cm_aws_client_free(a->ws[slot].client);
    cm_strlcpy(a->ws[slot].endpoint, endpoint, sizeof(a->ws[slot].endpoint));
    a->ws[slot].client = c;
    return c;
}

/* Percent-encodes a connection id for the path ('=' becomes %3D, as botocore
 * sends it; protocols.md 3.4). */
static int encode_id(const char *id, struct cm_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = 0;
    for (const unsigned char *p = (const unsigned char *)id; *p && !rc; p++) {
        int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~';
        if (plain)
            rc = cm_buf_putc(out, (char)*p);
        else
            rc = cm_buf_printf(out, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
    }
    return rc;
}

int ord_ws_post(struct ord_aws *a, const char *endpoint, const char *connection_id,
                const char *data, size_t len, struct ord_resp *resp)
{
    memset(resp, 0, sizeof(*resp));
    struct cm_aws_client *c = ws_client(a, endpoint);
    if (!c)
        return CM_EINVAL;
    struct cm_buf path;
    struct cm_aws_req *r = NULL;
    cm_buf_init(&path, 4096);
    int rc = cm_buf_puts(&path, "/@connections/");
    rc = rc ? rc : encode_id(connection_id, &path);
    rc = rc ? rc
            : cm_aws_req_rest(c, "POST", path.data, NULL, NULL, 0, data, len, "application/json",
                              &r);
    rc = rc ? rc : run(a, c, r, resp);
    cm_aws_req_free(r);
    cm_buf_deinit(&path);
    return rc;
}

int ord_aws_transient(int rc, const struct ord_resp *r)
{
    if (rc == 0)
        return 0;
    if (rc != CM_EAWS)
        return rc == CM_ETIMEDOUT || rc == CM_ECONN || rc == CM_EIO;
    return cm_aws_is_retryable(CURLE_OK, r->status, r->err.code[0] ? r->err.code : NULL);
}

const char *ord_ws_endpoint(const char *domain, const char *stage, char *out, size_t cap)
{
    const char *v = getenv("WS_MANAGEMENT_ENDPOINT");
    if (!v || !*v)
        v = getenv("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI");
    if (v && *v) {
        cm_strlcpy(out, v, cap);
        return out;
    }
    if (!domain || !*domain)
        return NULL;
    int n = snprintf(out, cap, "https://%s%s%s", domain, stage && *stage ? "/" : "",
                     stage ? stage : "");
    return n > 0 && (size_t)n < cap ? out : NULL;
}
