/* aws_e2e_client.c: drives cm_aws against the capture server of
 * aws_e2e.py. Endpoints, credentials and region come from the environment
 * the driver sets (so resolution is exercised too). Prints one line per call:
 *   <name> rc=<cm_err> status=<http> attempts=<n> code=<aws code> body=<body>
 * Every call is bounded by the client's timeout and attempt limits. */
#include "cm/aws.h"
#include "cm/clock.h"
#include "cm/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void report(const char *name, int rc, const struct cm_aws_req *r)
{
    size_t len = 0;
    const char *body = cm_aws_req_body(r, &len);
    printf("%s rc=%d status=%ld attempts=%d code=%s body=%.*s\n", name, rc, cm_aws_req_status(r),
           cm_aws_req_attempts(r), cm_aws_req_error(r)->code, (int)(len > 200 ? 200 : len), body);
    fflush(stdout);
}

static struct cm_aws_client *client(const struct cm_aws_service *svc)
{
    struct cm_aws_client *c = NULL;
    char err[256] = "";
    struct cm_aws_client_opts o = {.service = svc,
                                   .max_attempts = 3,
                                   .base_backoff_ns = 10 * CM_NS_PER_MS,
                                   .max_backoff_ns = 100 * CM_NS_PER_MS,
                                   .timeout_ms = 10000};
    int rc = cm_aws_client_new(&o, &c, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "client %s: %s (%s)\n", svc->service_id, cm_strerror(rc), err);
        exit(1);
    }
    return c;
}

/* One request through a caller-owned multi handle, with retries driven by
 * the caller as the worker loops do. */
static int run_multi(struct cm_aws_client *c, struct cm_aws_req *r)
{
    CURLM *m = curl_multi_init();
    int rc = CM_ETIMEDOUT;
    int64_t deadline = cm_clock_mono_ns() + 20 * CM_NS_PER_S;
    if (cm_aws_req_attach(r, m, cm_clock_wall_ns() / CM_NS_PER_S))
        goto out;
    while (cm_clock_mono_ns() < deadline) {
        int running = 0, left = 0;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int done = 0;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE || cm_aws_req_from_easy(msg->easy_handle) != r)
                continue;
            CURLcode res = msg->data.result;
            cm_aws_req_detach(r, m);
            rc = cm_aws_req_finish(r, res);
            int64_t delay;
            if (rc && cm_aws_req_next_delay(r, cm_aws_client_rand01(c), &delay)) {
                cm_clock_sleep_ns(delay);
                if (cm_aws_req_attach(r, m, cm_clock_wall_ns() / CM_NS_PER_S))
                    goto out;
            } else {
                done = 1;
            }
        }
        if (done)
            break;
        curl_multi_poll(m, NULL, 0, 100, NULL);
    }
out:
    curl_multi_cleanup(m);
    return rc;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct cm_aws_client *sqs = client(&cm_aws_sqs), *ddb = client(&cm_aws_dynamodb),
                         *gw = client(&cm_aws_apigw_mgmt), *lam = client(&cm_aws_lambda);
    struct cm_aws_req *r = NULL;
    int rc;

    const char *send = "{\"QueueUrl\":\"http://127.0.0.1/000000000000/q1\",\"MessageBody\":"
                       "\"hello \\u00e9 world\"}";
    cm_aws_req_json(sqs, "SendMessage", send, strlen(send), &r);
    rc = run_multi(sqs, r);
    report("sqs.send_multi", rc, r);
    cm_aws_req_free(r);

    const char *gq = "{\"QueueName\":\"missing\"}";
    cm_aws_req_json(sqs, "GetQueueUrl", gq, strlen(gq), &r);
    rc = cm_aws_perform(r);
    report("sqs.missing", rc, r);
    cm_aws_req_free(r);

    /* 1.5 MiB body: libcurl would add Expect: 100-continue on its own. */
    size_t big = 1536 * 1024;
    char *item = malloc(big + 64);
    int n = snprintf(item, 64, "{\"TableName\":\"t\",\"Item\":{\"pk\":{\"S\":\"");
    memset(item + n, 'x', big);
    memcpy(item + n + big, "\"}}}", 5);
    cm_aws_req_json(ddb, "PutItem", item, strlen(item), &r);
    rc = cm_aws_perform(r);
    report("ddb.put_big", rc, r);
    cm_aws_req_free(r);
    free(item);

    const char *thr = "{\"TableName\":\"throttle-once\"}";
    cm_aws_req_json(ddb, "GetItem", thr, strlen(thr), &r);
    rc = run_multi(ddb, r);
    report("ddb.throttled_once", rc, r);
    cm_aws_req_free(r);

    const char *always = "{\"TableName\":\"throttle-always\"}";
    cm_aws_req_json(ddb, "GetItem", always, strlen(always), &r);
    rc = cm_aws_perform(r);
    report("ddb.throttled_always", rc, r);
    cm_aws_req_free(r);

    /* restJson with a '%' in the path (signed double-encoded), an unsorted
     * query, a header with odd whitespace, a body and no content type. */
    struct cm_sigv4_header hs[] = {CM_SIGV4_HEADER("X-Amz-Meta-Note", "  spaced   out  "),
                                   CM_SIGV4_HEADER("X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3f")};
    cm_aws_req_rest(gw, "POST", "/@connections/R1kmxc2VNjMCFIA%3D", "b=2&a=x%2Fy&a=1", hs, 2,
                    "hello", 5, NULL, &r);
    rc = cm_aws_perform(r);
    report("gw.post", rc, r);
    cm_aws_req_free(r);

    cm_aws_req_rest(gw, "DELETE", "/@connections/gone-id", NULL, NULL, 0, NULL, 0, NULL, &r);
    rc = cm_aws_perform(r);
    report("gw.gone", rc, r);
    cm_aws_req_free(r);

    struct cm_sigv4_header lh[] = {CM_SIGV4_HEADER("X-Amz-Invocation-Type", "RequestResponse"),
                                   CM_SIGV4_HEADER("X-Amz-Log-Type", "None")};
    cm_aws_req_rest(lam, "POST", "/2015-03-31/functions/f1/invocations", NULL, lh, 2, "{\"a\":1}",
                    7, "application/json", &r);
    rc = cm_aws_perform(r);
    report("lambda.invoke", rc, r);
    cm_aws_req_free(r);

    cm_aws_req_rest(lam, "GET", "/2015-03-31/functions/f1", NULL, NULL, 0, NULL, 0, NULL, &r);
    rc = cm_aws_perform(r);
    report("lambda.get", rc, r);
    cm_aws_req_free(r);

    cm_aws_client_free(sqs);
    cm_aws_client_free(ddb);
    cm_aws_client_free(gw);
    cm_aws_client_free(lam);
    curl_global_cleanup();
    return 0;
}
