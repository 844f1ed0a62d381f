/* sd_esm_test.c: the SQS event source mapping state machine driven with an
 * explicit `now`: event records, batch size and window, partial batch
 * responses, throttles and backoff, scaling with the backlog, live batch
 * size changes, deletion with batches in flight, and the mapping API.
 * The queue side is a small in-memory queue (messages, visibility, receive
 * counts) and the function side records invocations so the test decides
 * how each one ends. */
#include "sd_esm.h"
#include "sd_stack.h"

#include "../harness.h"

#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"

#include <stdlib.h>
#include <string.h>

#define QMAX 20000

struct qmsg {
    char id[37];
    char body[64];
    int64_t visible_at;
    int receives;
    int deleted;
};

struct tq {
    struct qmsg m[QMAX];
    int n;
    int64_t vis_ms;
    int receive_calls;
    size_t big_body; /* > 0: every body is this many 'x' */
};

struct call {
    sd_esm_done_fn done;
    void *ctx;
    char *payload;
    size_t len;
    int finished;
};

struct tf {
    struct call calls[4096];
    int n_calls;
    int throttle; /* answer CM_EAGAIN */
};

static struct tq Q;
static struct tf F;

static int q_receive(void *ctx, const char *queue, int max, int64_t now, struct sd_sqs_msg **out,
                     int *n_out)
{
    (void)ctx;
    if (strcmp(queue, "q") != 0)
        return CM_ENOTFOUND;
    Q.receive_calls++;
    struct sd_sqs_msg *v = cm_xcalloc(10, sizeof(*v));
    int n = 0;
    for (int i = 0; i < Q.n && n < max; i++) {
        struct qmsg *q = &Q.m[i];
        if (q->deleted || q->visible_at > now)
            continue;
        q->visible_at = now + Q.vis_ms;
        q->receives++;
        struct sd_sqs_msg *m = &v[n++];
        memcpy(m->message_id, q->id, 37);
        char h[64];
        snprintf(h, sizeof(h), "rh-%d-%d", i, q->receives);
        m->receipt_handle = cm_xstrdup(h);
        if (Q.big_body) {
            m->body = cm_xmalloc(Q.big_body + 1);
            memset(m->body, 'x', Q.big_body);
            m->body[Q.big_body] = '\0';
        } else {
            m->body = cm_xstrdup(q->body);
        }
        m->body_len = strlen(m->body);
        memcpy(m->md5_body, "00000000000000000000000000000000", 33);
        m->sent_ms = 1000;
        m->first_receive_ms = 2000;
        m->receive_count = q->receives;
        m->sender_id = cm_xstrdup("AIDATEST");
    }
    *out = v;
    *n_out = n;
    return 0;
}

static void q_free(void *ctx, struct sd_sqs_msg *v, int n)
{
    (void)ctx;
    for (int i = 0; i < n; i++) {
        free(v[i].receipt_handle);
        free(v[i].body);
        free(v[i].sender_id);
        free(v[i].trace_header);
        free(v[i].attrs);
    }
    free(v);
}

static int q_delete(void *ctx, const char *queue, const char *h)
{
    (void)ctx;
    (void)queue;
    int i = strncmp(h, "rh-", 3) == 0 ? (int)strtol(h + 3, NULL, 10) : -1;
    return i >= 0 && i < Q.n ? (Q.m[i].deleted = 1, 0) : CM_EINVAL;
}

static int q_visible(void *ctx, const char *queue, int64_t now, int64_t *vis)
{
    (void)ctx;
    if (strcmp(queue, "q") != 0)
        return CM_ENOTFOUND;
    *vis = 0;
    for (int i = 0; i < Q.n; i++)
        *vis += !Q.m[i].deleted && Q.m[i].visible_at <= now;
    return 0;
}

static int f_invoke(void *ctx, const char *fn, const char *payload, size_t len, sd_esm_done_fn done,
                    void *done_ctx)
{
    (void)ctx;
    if (strcmp(fn, "fn") != 0)
        return CM_ENOTFOUND;
    if (F.throttle)
        return CM_EAGAIN;
    struct call *c = &F.calls[F.n_calls++];
    c->done = done;
    c->ctx = done_ctx;
    c->payload = cm_xmalloc(len + 1);
    memcpy(c->payload, payload, len);
    c->payload[len] = '\0';
    c->len = len;
    return 0;
}

static int f_resolve(void *ctx, const char *name_or_arn, char *name, char *arn)
{
    (void)ctx;
    const char *n = strrchr(name_or_arn, ':');
    n = n ? n + 1 : name_or_arn;
    if (strcmp(n, "fn") != 0)
        return CM_ENOTFOUND;
    snprintf(name, 65, "fn");
    snprintf(arn, 160, "arn:aws:lambda:us-east-1:000000000000:function:fn");
    return 0;
}

static struct sd_esm *setup(int n_msgs)
{
    memset(&Q, 0, sizeof(Q));
    for (int i = 0; i < F.n_calls; i++)
        free(F.calls[i].payload);
    memset(&F, 0, sizeof(F));
    Q.vis_ms = 30000;
    for (int i = 0; i < n_msgs; i++) {
        snprintf(Q.m[i].id, 37, "00000000-0000-4000-8000-%012d", i);
        snprintf(Q.m[i].body, sizeof(Q.m[i].body), "msg %d", i);
    }
    Q.n = n_msgs;
    struct sd_esm_queue_ops qo = {q_receive, q_free, q_delete, q_visible, NULL};
    struct sd_esm_fn_ops fo = {f_invoke, f_resolve, NULL};
    struct sd_esm_config cfg = {"us-east-1", "000000000000"};
    struct sd_esm *e = NULL;
    sd_esm_new(&cfg, &qo, &fo, &e);
    return e;
}

static void add_msgs(int n)
{
    for (int i = Q.n; i < Q.n + n; i++) {
        snprintf(Q.m[i].id, 37, "00000000-0000-4000-8000-%012d", i);
        snprintf(Q.m[i].body, sizeof(Q.m[i].body), "msg %d", i);
    }
    Q.n += n;
}

static int records_in(const struct call *c)
{
    cJSON *j = cm_json_parse(c->payload, c->len);
    int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "Records"));
    cJSON_Delete(j);
    return n;
}

static void finish(int i, enum sd_esm_inv_status st, const char *body)
{
    struct call *c = &F.calls[i];
    c->finished = 1;
    c->done(c->ctx, st, body, body ? strlen(body) : 0);
}

/* As stackd does (sd_lambda_free first): end what is pending, then free. */
static void teardown(struct sd_esm *e)
{
    for (int i = 0; i < F.n_calls; i++) {
        if (!F.calls[i].finished)
            finish(i, SD_ESM_INV_SHUTDOWN, NULL);
    }
    sd_esm_free(e);
}

static int deleted(void)
{
    int n = 0;
    for (int i = 0; i < Q.n; i++)
        n += Q.m[i].deleted;
    return n;
}

static void create(struct sd_esm *e, int64_t batch, int64_t window, int64_t maxc, int report,
                   char uuid[37])
{
    struct sd_esm_spec s = {"q", "fn", batch, window, maxc, report, 1};
    char err[256];
    int rc = sd_esm_create(e, &s, 0, uuid, err, sizeof(err));
    CHECK_MSG(rc == 0, "create: %s", err);
}

static void test_record_shape(void)
{
    struct sd_sqs_msg m;
    memset(&m, 0, sizeof(m));
    memcpy(m.message_id, "059f36b4-87a3-44ab-83d2-661975830a7d", 37);
    m.receipt_handle = "AQEB";
    m.body = "Test message.";
    m.body_len = 13;
    memcpy(m.md5_body, "e4e68fb7bd0e697a0ae8f1bb342846b3", 33);
    memcpy(m.md5_attrs, "d25a6aea97eb8f585bfa92d314504a92", 33);
    m.sent_ms = 1545082649183;
    m.first_receive_ms = 1545082649185;
    m.receive_count = 2;
    m.sender_id = "AIDAIENQZJOLO23YVJ4VO";
    /* Encoded attributes: u32be name len, name, u32be type len, type, transport
     * byte (1 string, 2 binary), u32be value len, value. */
    static const unsigned char enc[] = {
        0, 0, 0, 1,   'a', 0, 0, 0, 6,   'S', 't', 'r', 'i', 'n', 'g', 1, 0, 0, 0, 2, 'h', 'i', 0,
        0, 0, 1, 'b', 0,   0, 0, 6, 'B', 'i', 'n', 'a', 'r', 'y', 2,   0, 0, 0, 3, 1, 2,   3};
    m.attrs = (unsigned char *)enc;
    m.attrs_len = sizeof(enc);
    struct cm_buf b;
    cm_buf_init(&b, 0);
    sd_esm_record_json(&m, "arn:aws:sqs:us-east-2:123456789012:my-queue", "us-east-2", &b);
    cJSON *j = cm_json_parse(b.data, b.len);
    CHECK(j != NULL);
    CHECK_STR(cm_json_str(j, "messageId", ""), "059f36b4-87a3-44ab-83d2-661975830a7d");
    CHECK_STR(cm_json_str(j, "receiptHandle", ""), "AQEB");
    CHECK_STR(cm_json_str(j, "body", ""), "Test message.");
    CHECK_STR(cm_json_str(j, "md5OfBody", ""), "e4e68fb7bd0e697a0ae8f1bb342846b3");
    CHECK_STR(cm_json_str(j, "md5OfMessageAttributes", ""), "d25a6aea97eb8f585bfa92d314504a92");
    CHECK_STR(cm_json_str(j, "eventSource", ""), "aws:sqs");
    CHECK_STR(cm_json_str(j, "eventSourceARN", ""), "arn:aws:sqs:us-east-2:123456789012:my-queue");
    CHECK_STR(cm_json_str(j, "awsRegion", ""), "us-east-2");
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(j, "attributes");
    CHECK_STR(cm_json_str(at, "ApproximateReceiveCount", ""), "2");
    CHECK_STR(cm_json_str(at, "SentTimestamp", ""), "1545082649183");
    CHECK_STR(cm_json_str(at, "SenderId", ""), "AIDAIENQZJOLO23YVJ4VO");
    CHECK_STR(cm_json_str(at, "ApproximateFirstReceiveTimestamp", ""), "1545082649185");
    const cJSON *ma = cJSON_GetObjectItemCaseSensitive(j, "messageAttributes");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(ma, "a");
    CHECK_STR(cm_json_str(a, "stringValue", ""), "hi");
    CHECK_STR(cm_json_str(a, "dataType", ""), "String");
    CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(a, "stringListValues")));
    CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(a, "binaryListValues")));
    const cJSON *bb = cJSON_GetObjectItemCaseSensitive(ma, "b");
    CHECK_STR(cm_json_str(bb, "binaryValue", ""), "AQID");
    CHECK_STR(cm_json_str(bb, "dataType", ""), "Binary");
    cJSON_Delete(j);
    cm_buf_deinit(&b);
}

static void test_batch_size_window0(void)
{
    struct sd_esm *e = setup(25);
    char id[37];
    create(e, 10, 0, 0, 0, id);
    sd_esm_tick(e, 1000);
    CHECK_INT(F.n_calls, 3);
    CHECK_INT(records_in(&F.calls[0]), 10);
    CHECK_INT(records_in(&F.calls[1]), 10);
    CHECK_INT(records_in(&F.calls[2]), 5);
    struct sd_esm_stats st;
    sd_esm_stats(e, id, &st);
    CHECK_INT(st.inflight, 3);
    CHECK_INT(st.records, 25);
    finish(0, SD_ESM_INV_OK, "null");
    finish(1, SD_ESM_INV_OK, "{\"batchItemFailures\":[{\"itemIdentifier\":\"x\"}]}");
    finish(2, SD_ESM_INV_ERROR, "{\"errorType\":\"Boom\"}");
    /* Without ReportBatchItemFailures the response is ignored; an error fails the batch. */
    CHECK_INT(deleted(), 20);
    sd_esm_stats(e, id, &st);
    CHECK_INT(st.failed_batches, 1);
    CHECK_INT(st.inflight, 0);
    /* The failed five come back after the visibility timeout with receive count 2. */
    sd_esm_tick(e, 2000);
    CHECK_INT(F.n_calls, 3);
    sd_esm_tick(e, 31000);
    CHECK_INT(F.n_calls, 4);
    CHECK_INT(records_in(&F.calls[3]), 5);
    CHECK(strstr(F.calls[3].payload, "\"ApproximateReceiveCount\":\"2\"") != NULL);
    teardown(e);
}

static void test_window(void)
{
    struct sd_esm *e = setup(30);
    char id[37], err[256];
    create(e, 100, 2, 0, 0, id);
    sd_esm_tick(e, 10000);
    CHECK_INT(F.n_calls, 0); /* 30 < 100: wait for the window */
    struct sd_esm_stats st;
    sd_esm_stats(e, id, &st);
    CHECK_INT(st.gathered, 30);
    sd_esm_tick(e, 11999);
    CHECK_INT(F.n_calls, 0);
    add_msgs(5);
    sd_esm_tick(e, 12000); /* the window counts from the first gathered message */
    CHECK_INT(F.n_calls, 1);
    CHECK_INT(records_in(&F.calls[0]), 35);
    /* A full batch goes at once. */
    add_msgs(250);
    sd_esm_tick(e, 12010);
    CHECK_INT(F.n_calls, 3);
    CHECK_INT(records_in(&F.calls[1]), 100);
    CHECK_INT(records_in(&F.calls[2]), 100);
    sd_esm_stats(e, id, &st);
    CHECK_INT(st.gathered, 50);
    /* Live change: batch size 20 applies to the next batch. */
    CHECK_INT(sd_esm_set_batching(e, id, 20, 1, err, sizeof(err)), 0);
    sd_esm_tick(e, 12020);
    CHECK_INT(F.n_calls, 5);
    CHECK_INT(records_in(&F.calls[3]), 20);
    CHECK_INT(records_in(&F.calls[4]), 20);
    CHECK_INT(sd_esm_set_batching(e, id, 11, 0, err, sizeof(err)), CM_EINVAL);
    CHECK(strstr(err, "greater than 0") != NULL);
    CHECK_INT(sd_esm_set_batching(e, "nope", 5, 0, err, sizeof(err)), CM_ENOTFOUND);
    teardown(e);
}

/* A batch is cut so the event stays under the 6 MB synchronous limit. */
static void test_payload_limit(void)
{
    struct sd_esm *e = setup(10);
    char id[37];
    Q.big_body = 1000000;
    create(e, 10, 1, 0, 0, id);
    sd_esm_tick(e, 0);
    CHECK_INT(F.n_calls, 1);
    CHECK_INT(records_in(&F.calls[0]), 6); /* 7 records of ~1 MB are over 6,291,456 bytes */
    CHECK(F.calls[0].len <= SD_ESM_MAX_PAYLOAD);
    struct sd_esm_stats st;
    sd_esm_stats(e, id, &st);
    CHECK_INT(st.gathered, 4);
    sd_esm_tick(e, 999);
    CHECK_INT(F.n_calls, 1);
    sd_esm_tick(e, 1000); /* the rest goes when the window passes */
    CHECK_INT(F.n_calls, 2);
    CHECK_INT(records_in(&F.calls[1]), 4);
    teardown(e);
}

static void test_partial(void)
{
    struct sd_esm *e = setup(40);
    char id[37], body[512];
    create(e, 10, 0, 0, 1, id);
    sd_esm_tick(e, 0);
    CHECK_INT(F.n_calls, 4);
    /* Batch 0: two listed failures -> 8 deleted. */
    snprintf(body, sizeof(body),
             "{\"batchItemFailures\":[{\"itemIdentifier\":\"%s\"},{\"itemIdentifier\":\"%s\"}]}",
             Q.m[1].id, Q.m[3].id);
    finish(0, SD_ESM_INV_OK, body);
    CHECK_INT(deleted(), 8);
    CHECK(!Q.m[1].deleted && !Q.m[3].deleted && Q.m[2].deleted);
    /* Batch 1: an unknown id -> the whole batch failed. */
    finish(1, SD_ESM_INV_OK, "{\"batchItemFailures\":[{\"itemIdentifier\":\"nope\"}]}");
    CHECK_INT(deleted(), 8);
    /* Batch 2: empty list -> all deleted. Batch 3: wrong key -> whole batch failed. */
    finish(2, SD_ESM_INV_OK, "{\"batchItemFailures\":[]}");
    CHECK_INT(deleted(), 18);
    finish(3, SD_ESM_INV_OK, "{\"batchItemFailures\":[{\"id\":\"x\"}]}");
    CHECK_INT(deleted(), 18);
    struct sd_esm_stats st;
    sd_esm_stats(e, id, &st);
    CHECK_INT(st.partial_batches, 1);
    CHECK_INT(st.failed_batches, 2);
    CHECK_INT(st.deleted, 18);
    teardown(e);
    /* Invalid JSON, null itemIdentifier, empty response. */
    static const struct {
        const char *body;
        int deleted;
    } v[] = {{"not json", 0},
             {"{\"batchItemFailures\":[{\"itemIdentifier\":null}]}", 0},
             {"{\"batchItemFailures\":[{\"itemIdentifier\":\"\"}]}", 0},
             {"{\"batchItemFailures\":\"x\"}", 0},
             {"", 1},
             {"null", 1},
             {"{}", 1},
             {"{\"batchItemFailures\":null}", 1}};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        e = setup(1);
        create(e, 10, 0, 0, 1, id);
        sd_esm_tick(e, 0);
        finish(0, SD_ESM_INV_OK, v[i].body);
        CHECK_MSG(deleted() == v[i].deleted, "response %s: deleted %d", v[i].body, deleted());
        teardown(e);
    }
}

static void test_throttle(void)
{
    struct sd_esm *e = setup(10);
    char id[37];
    struct sd_esm_stats st;
    create(e, 10, 0, 0, 0, id);
    F.throttle = 1;
    sd_esm_tick(e, 0);
    sd_esm_stats(e, id, &st);
    CHECK_INT(st.throttles, 1);
    CHECK_INT(st.target, 1);
    CHECK_INT(st.gathered, 10); /* kept for the retry */
    F.throttle = 0;
    sd_esm_tick(e, 50); /* backing off: 100 ms */
    CHECK_INT(F.n_calls, 0);
    sd_esm_tick(e, 100);
    CHECK_INT(F.n_calls, 1);
    CHECK_INT(records_in(&F.calls[0]), 10);
    finish(0, SD_ESM_INV_OK, NULL);
    CHECK_INT(deleted(), 10);
    /* Repeated throttles double the backoff up to 5 s. */
    add_msgs(1);
    F.throttle = 1;
    int64_t t = 200;
    for (int i = 0; i < 10; i++) {
        sd_esm_tick(e, t);
        t += 6000;
    }
    sd_esm_stats(e, id, &st);
    CHECK_INT(st.throttles, 11);
    sd_esm_tick(e, t - 6000 + 4999);
    sd_esm_stats(e, id, &st);
    CHECK_INT(st.throttles, 11);
    teardown(e);
}

static void test_scaling(void)
{
    struct sd_esm *e = setup(2000);
    char id[37];
    struct sd_esm_stats st;
    create(e, 1, 0, 0, 0, id);
    sd_esm_tick(e, 0);
    CHECK_INT(F.n_calls, 5); /* five concurrent batches at first */
    /* Nothing finishes; the backlog is there: one more batch per 200 ms. */
    for (int64_t t = 10; t <= 1000; t += 10)
        sd_esm_tick(e, t);
    sd_esm_stats(e, id, &st);
    CHECK_INT(st.target, 10);
    sd_esm_tick(e, 1005); /* the new slot is used on the next tick */
    CHECK_INT(F.n_calls, 10);
    /* A failed batch holds scaling for a second. */
    finish(0, SD_ESM_INV_ERROR, "{}");
    for (int64_t t = 1010; t <= 1900; t += 10)
        sd_esm_tick(e, t);
    sd_esm_stats(e, id, &st);
    CHECK_INT(st.target, 10);
    for (int64_t t = 1910; t <= 3000; t += 10)
        sd_esm_tick(e, t);
    sd_esm_stats(e, id, &st);
    CHECK(st.target >= 14 && st.target <= 16);
    /* Throttled at the function's limit: back to the batches in flight. */
    F.throttle = 1;
    finish(1, SD_ESM_INV_OK, NULL);
    sd_esm_tick(e, 3010);
    sd_esm_stats(e, id, &st);
    CHECK_INT(st.target, st.inflight);
    CHECK_INT(st.throttles, 1);
    teardown(e);

    /* MaximumConcurrency caps the batches. */
    e = setup(2000);
    create(e, 1, 0, 3, 0, id);
    for (int64_t t = 0; t <= 5000; t += 10)
        sd_esm_tick(e, t);
    sd_esm_stats(e, id, &st);
    CHECK_INT(st.target, 3);
    CHECK_INT(F.n_calls, 3);
    teardown(e);

    /* Idle for a minute: back to five. */
    e = setup(200);
    create(e, 1, 0, 0, 0, id);
    int done = 0;
    for (int64_t t = 0; t <= 120000; t += 10) {
        sd_esm_tick(e, t);
        while (done < F.n_calls)
            finish(done++, SD_ESM_INV_OK, NULL);
    }
    CHECK_INT(deleted(), 200);
    sd_esm_stats(e, id, &st);
    CHECK_INT(st.target, 5);
    teardown(e);
}

static void test_delete_inflight(void)
{
    struct sd_esm *e = setup(30);
    char id[37];
    create(e, 10, 0, 0, 0, id);
    sd_esm_tick(e, 0);
    CHECK_INT(F.n_calls, 3);
    CHECK_INT(sd_esm_delete(e, id), 0);
    CHECK_INT(sd_esm_count(e), 0);
    CHECK_INT(sd_esm_delete(e, id), CM_ENOTFOUND);
    finish(0, SD_ESM_INV_OK, NULL);
    finish(1, SD_ESM_INV_SHUTDOWN, NULL);
    finish(2, SD_ESM_INV_OK, NULL);
    CHECK_INT(deleted(), 20);
    teardown(e);
}

static void api(struct sd_esm *e, const char *method, const char *path, const char *query,
                const char *body, struct sd_resp *r)
{
    struct sd_req q;
    memset(&q, 0, sizeof(q));
    q.method = method;
    q.path = path;
    q.query = query ? query : "";
    q.body = body ? body : "";
    q.body_len = body ? strlen(body) : 0;
    q.recv_wall_ns = 1700000000123LL * 1000000;
    sd_resp_deinit(r);
    sd_resp_init(r);
    sd_esm_api_handle(e, &q, r);
}

static void test_api(void)
{
    struct sd_esm *e = setup(0);
    struct sd_resp r;
    sd_resp_init(&r);
    CHECK(sd_esm_api_match("/2015-03-31/event-source-mappings/"));
    CHECK(sd_esm_api_match("/2015-03-31/event-source-mappings/abc"));
    CHECK(!sd_esm_api_match("/2015-03-31/event-source-mappingsx"));
    api(e, "POST", "/2015-03-31/event-source-mappings/", NULL,
        "{\"EventSourceArn\":\"arn:aws:sqs:us-east-1:000000000000:q\",\"FunctionName\":\"fn\","
        "\"BatchSize\":5,\"FunctionResponseTypes\":[\"ReportBatchItemFailures\"],"
        "\"ScalingConfig\":{\"MaximumConcurrency\":4}}",
        &r);
    CHECK_INT(r.status, 202);
    cJSON *j = cm_json_parse(r.body.data, r.body.len);
    char uuid[64];
    snprintf(uuid, sizeof(uuid), "%s", cm_json_str(j, "UUID", ""));
    CHECK_INT(strlen(uuid), 36);
    CHECK_INT(cm_json_int(j, "BatchSize", 0), 5);
    CHECK_INT(cm_json_int(j, "MaximumBatchingWindowInSeconds", -1), 0);
    CHECK_STR(cm_json_str(j, "State", ""), "Creating");
    CHECK_STR(cm_json_str(j, "StateTransitionReason", ""), "USER_INITIATED");
    CHECK_STR(cm_json_str(j, "EventSourceArn", ""), "arn:aws:sqs:us-east-1:000000000000:q");
    CHECK_STR(cm_json_str(j, "FunctionArn", ""),
              "arn:aws:lambda:us-east-1:000000000000:function:fn");
    CHECK_NEAR(cm_json_num(j, "LastModified", 0), 1700000000.123, 0.001);
    CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "FunctionResponseTypes"), 0)
                  ->valuestring,
              "ReportBatchItemFailures");
    CHECK_INT(
        cm_json_int(cJSON_GetObjectItemCaseSensitive(j, "ScalingConfig"), "MaximumConcurrency", 0),
        4);
    cJSON_Delete(j);
    /* Duplicate, bad values, unknown function and queue. */
    api(e, "POST", "/2015-03-31/event-source-mappings/", NULL,
        "{\"EventSourceArn\":\"arn:aws:sqs:us-east-1:000000000000:q\",\"FunctionName\":\"fn\"}",
        &r);
    CHECK_INT(r.status, 409);
    api(e, "POST", "/2015-03-31/event-source-mappings/", NULL,
        "{\"EventSourceArn\":\"arn:aws:sqs:us-east-1:000000000000:q\",\"FunctionName\":\"fn\","
        "\"BatchSize\":11}",
        &r);
    CHECK_INT(r.status, 400);
    CHECK(strstr(r.body.data, "greater than 0") != NULL);
    api(e, "POST", "/2015-03-31/event-source-mappings/", NULL,
        "{\"EventSourceArn\":\"arn:aws:sqs:us-east-1:000000000000:q\",\"FunctionName\":\"other\"}",
        &r);
    CHECK_INT(r.status, 404);
    api(e, "POST", "/2015-03-31/event-source-mappings/", NULL,
        "{\"EventSourceArn\":\"arn:aws:sqs:us-east-1:000000000000:zz\",\"FunctionName\":\"fn\"}",
        &r);
    CHECK_INT(r.status, 400);
    api(e, "POST", "/2015-03-31/event-source-mappings/", NULL, "[1]", &r);
    CHECK_INT(r.status, 400);
    /* Get, list with filters, update, delete. */
    char path[128];
    snprintf(path, sizeof(path), "/2015-03-31/event-source-mappings/%s", uuid);
    api(e, "GET", path, NULL, NULL, &r);
    CHECK_INT(r.status, 200);
    CHECK(strstr(r.body.data, "\"State\":\"Enabled\"") != NULL);
    api(e, "GET", "/2015-03-31/event-source-mappings/", "FunctionName=fn", NULL, &r);
    CHECK(strstr(r.body.data, uuid) != NULL);
    api(e, "GET", "/2015-03-31/event-source-mappings/",
        "EventSourceArn=arn%3Aaws%3Asqs%3Aus-east-1%3A000000000000%3Aq", NULL, &r);
    CHECK(strstr(r.body.data, uuid) != NULL);
    api(e, "GET", "/2015-03-31/event-source-mappings/", "FunctionName=nope", NULL, &r);
    CHECK_STR(r.body.data, "{\"EventSourceMappings\":[]}");
    api(e, "PUT", path, NULL, "{\"BatchSize\":50,\"MaximumBatchingWindowInSeconds\":2}", &r);
    CHECK_INT(r.status, 202);
    CHECK(strstr(r.body.data, "\"BatchSize\":50") != NULL);
    CHECK(strstr(r.body.data, "\"State\":\"Updating\"") != NULL);
    api(e, "PUT", path, NULL, "{\"MaximumBatchingWindowInSeconds\":0}", &r);
    CHECK_INT(r.status, 400);
    api(e, "PUT", path, NULL, "{\"Enabled\":false,\"FunctionResponseTypes\":[]}", &r);
    CHECK_INT(r.status, 202);
    CHECK(strstr(r.body.data, "\"FunctionResponseTypes\":[]") != NULL);
    api(e, "GET", path, NULL, NULL, &r);
    CHECK(strstr(r.body.data, "\"State\":\"Disabled\"") != NULL);
    api(e, "DELETE", path, NULL, NULL, &r);
    CHECK_INT(r.status, 202);
    CHECK(strstr(r.body.data, "\"State\":\"Deleting\"") != NULL);
    api(e, "GET", path, NULL, NULL, &r);
    CHECK_INT(r.status, 404);
    CHECK(strstr(r.body.data, "ResourceNotFoundException") == NULL); /* type is in the header */
    CHECK(strstr(r.headers.data, "ResourceNotFoundException") != NULL);
    sd_resp_deinit(&r);
    teardown(e);
}

/* The stack file's event_source_mappings: section. */
static void test_stack_section(void)
{
    const char *ok = "functions:\n  f:\n    bootstrap: /x\n"
                     "event_source_mappings:\n"
                     "  - queue: orders\n    function: f\n"
                     "  - queue: q2\n    function: f\n    batch_size: 500\n"
                     "    batching_window: 5s\n    maximum_concurrency: 50\n"
                     "    report_batch_item_failures: true\n    enabled: false\n";
    struct sd_stack *st = NULL;
    char err[300];
    int rc = sd_stack_parse(ok, strlen(ok), "s.yaml", "/", &st, err, sizeof(err));
    CHECK_MSG(rc == 0, "%s", err);
    if (rc)
        return;
    CHECK_INT(st->n_esms, 2);
    CHECK_STR(st->esms[0].queue, "orders");
    CHECK_INT(st->esms[0].batch_size, 10);
    CHECK_INT(st->esms[0].window_s, 0);
    CHECK_INT(st->esms[0].max_concurrency, 0);
    CHECK_INT(st->esms[0].report_failures, 0);
    CHECK_INT(st->esms[0].enabled, 1);
    CHECK_INT(st->esms[0].line, 5);
    CHECK_INT(st->esms[1].batch_size, 500);
    CHECK_INT(st->esms[1].window_s, 5);
    CHECK_INT(st->esms[1].max_concurrency, 50);
    CHECK_INT(st->esms[1].report_failures, 1);
    CHECK_INT(st->esms[1].enabled, 0);
    sd_stack_free(st);
    static const struct {
        const char *tail, *want;
    } bad[] = {
        {"  - queue: q\n    function: f\n    batch_size: 11\n",
         "s.yaml:5:5: event_source_mappings[0].batching_window"},
        {"  - queue: q\n    function: f\n    batch_size: 10001\n    batching_window: 1s\n",
         "s.yaml:7:17: event_source_mappings[0].batch_size"},
        {"  - queue: q\n    function: f\n    batching_window: 1500ms\n",
         "s.yaml:7:22: event_source_mappings[0].batching_window"},
        {"  - queue: q\n    function: f\n    batching_window: 301s\n",
         "s.yaml:7:22: event_source_mappings[0].batching_window"},
        {"  - queue: q\n    function: f\n    maximum_concurrency: 1\n",
         "s.yaml:7:26: event_source_mappings[0].maximum_concurrency"},
        {"  - queue: q\n    function: g\n", "s.yaml:6:15: event_source_mappings[0].function"},
        {"  - function: f\n", "s.yaml:5:5: event_source_mappings[0]"},
        {"  - queue: q\n    function: f\n    batchsize: 5\n",
         "s.yaml:7:5: event_source_mappings[0]"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char yaml[512];
        snprintf(yaml, sizeof(yaml),
                 "functions:\n  f:\n    bootstrap: /x\nevent_source_mappings:\n%s", bad[i].tail);
        st = NULL;
        rc = sd_stack_parse(yaml, strlen(yaml), "s.yaml", "/", &st, err, sizeof(err));
        CHECK_MSG(rc < 0 && strncmp(err, bad[i].want, strlen(bad[i].want)) == 0,
                  "case %zu: \"%s\", want \"%s...\"", i, err, bad[i].want);
        sd_stack_free(st);
    }
}

int main(void)
{
    test_record_shape();
    test_batch_size_window0();
    test_window();
    test_payload_limit();
    test_partial();
    test_throttle();
    test_scaling();
    test_delete_inflight();
    test_api();
    test_stack_section();
    for (int i = 0; i < F.n_calls; i++)
        free(F.calls[i].payload);
    return TEST_REPORT();
}
