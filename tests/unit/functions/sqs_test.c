/* sqs_test.c: SQS batch event parsing, the partial batch response and the
 * per-record processing helper (standard and FIFO semantics), over the
 * captured-shape files in functions/runtime/testdata/. */
#include "harness.h"
#include "rt.h"

#include "cm/err.h"
#include "cm/json.h"

#include <stdlib.h>

static char *read_testdata(const char *name, size_t *len)
{
    const char *top = getenv("LG_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/functions/runtime/testdata/%s", top ? top : ".", name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return NULL;
    }
    char *buf = malloc(1 << 20);
    *len = fread(buf, 1, (1 << 20) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

static void test_parse(void)
{
    size_t n = 0;
    char *p = read_testdata("sqs-event.json", &n);
    struct rt_sqs_event ev;
    const char *why = NULL;
    CHECK_INT(rt_sqs_event_parse(p, n, &ev, &why), 0);
    CHECK_INT(ev.n_records, 2);
    CHECK_INT(ev.fifo, 0);
    const struct rt_sqs_record *r = &ev.records[0];
    CHECK_STR(r->message_id, "5d2c8f3e-1a4b-4c6d-9e8f-0a1b2c3d4e5f");
    CHECK_STR(r->receipt_handle, "AQEBz8XkPqW7yR2mN4vB6cT1uJ3hG5fD9sA0lK8jI7oE2wQ==");
    CHECK_STR(r->body, "{\"orderId\":\"o-42\",\"qty\":2}");
    CHECK_INT(r->body_len, 26);
    CHECK_STR(r->event_source_arn, "arn:aws:sqs:us-east-1:123456789012:orders");
    CHECK_STR(r->aws_region, "us-east-1");
    CHECK_STR(r->md5_of_body, "0f1e2d3c4b5a69788776655443322110");
    CHECK_INT(r->approximate_receive_count, 1);
    CHECK_INT(r->sent_timestamp_ms, 1795331580123LL);
    CHECK_INT(r->first_receive_timestamp_ms, 1795331580150LL);
    CHECK_STR(rt_sqs_attribute(r, "SenderId"), "AIDAEXAMPLESENDERID01");
    CHECK_STR(rt_sqs_attribute(r, "AWSTraceHeader"),
              "Root=1-6740a1fc-1a2b3c4d5e6f708192a3b4c5;Parent=53995c3f42cd8ad8;Sampled=1");
    CHECK(rt_sqs_attribute(r, "MessageGroupId") == NULL);
    CHECK_STR(rt_sqs_message_attribute(r, "correlation_id"),
              "0193a1b2-7c00-7abc-8def-0123456789ab");
    CHECK(rt_sqs_message_attribute(r, "missing") == NULL);
    r = &ev.records[1];
    CHECK_INT(r->approximate_receive_count, 3);
    CHECK(rt_sqs_message_attribute(r, "correlation_id") == NULL);
    char corr[64];
    CHECK_INT(rt_event_correlation_id(ev.owned_, corr, sizeof corr), 1);
    CHECK_STR(corr, "0193a1b2-7c00-7abc-8def-0123456789ab");
    rt_sqs_event_deinit(&ev);
    free(p);

    p = read_testdata("sqs-event-fifo.json", &n);
    CHECK_INT(rt_sqs_event_parse(p, n, &ev, NULL), 0);
    CHECK_INT(ev.fifo, 1);
    CHECK_STR(rt_sqs_attribute(&ev.records[0], "MessageGroupId"), "g-1");
    rt_sqs_event_deinit(&ev);
    free(p);
}

static void expect_invalid(const char *json, int want, const char *why_part)
{
    struct rt_sqs_event ev;
    const char *why = NULL;
    int rc = rt_sqs_event_parse(json, strlen(json), &ev, &why);
    CHECK_MSG(rc == want, "%s: rc %d, want %d", json, rc, want);
    CHECK_MSG(why && strstr(why, why_part), "%s: why '%s' lacks '%s'", json, why ? why : "",
              why_part);
    rt_sqs_event_deinit(&ev);
}

static void test_invalid(void)
{
    expect_invalid("", CM_EPARSE, "JSON");
    expect_invalid("{}", CM_EINVAL, "Records");
    expect_invalid("{\"Records\":{}}", CM_EINVAL, "Records");
    expect_invalid("{\"Records\":[1]}", CM_EINVAL, "object");
    expect_invalid("{\"Records\":[{}]}", CM_EINVAL, "messageId");
    expect_invalid("{\"Records\":[{\"messageId\":\"\"}]}", CM_EINVAL, "messageId");
    expect_invalid("{\"Records\":[{\"messageId\":\"a\",\"body\":{}}]}", CM_EINVAL, "body");
    expect_invalid("{\"Records\":[{\"messageId\":\"a\",\"attributes\":[]}]}", CM_EINVAL,
                   "attributes");
    expect_invalid("{\"Records\":[{\"messageId\":\"a\",\"messageAttributes\":\"x\"}]}", CM_EINVAL,
                   "messageAttributes");
    /* Odd attribute values read as 0, not as garbage. */
    const char *odd =
        "{\"Records\":[{\"messageId\":\"a\",\"attributes\":{"
        "\"ApproximateReceiveCount\":\"-1\",\"SentTimestamp\":\"99999999999999999999\","
        "\"ApproximateFirstReceiveTimestamp\":7}}]}";
    struct rt_sqs_event ev;
    CHECK_INT(rt_sqs_event_parse(odd, strlen(odd), &ev, NULL), 0);
    CHECK_INT(ev.records[0].approximate_receive_count, 0);
    CHECK_INT(ev.records[0].sent_timestamp_ms, 0);
    CHECK_INT(ev.records[0].first_receive_timestamp_ms, 0);
    CHECK_STR(ev.records[0].body, "");
    rt_sqs_event_deinit(&ev);
    /* Empty batch is valid. */
    CHECK_INT(rt_sqs_event_parse("{\"Records\":[]}", 14, &ev, NULL), 0);
    CHECK_INT(ev.n_records, 0);
    rt_sqs_event_deinit(&ev);
    rt_sqs_event_deinit(NULL);
}

static void test_batch_response(void)
{
    struct cm_buf out;
    cm_buf_init(&out, 0);
    CHECK_INT(rt_sqs_batch_response(NULL, 0, &out), 0);
    CHECK_STR(cm_buf_cstr(&out), "{\"batchItemFailures\":[]}");
    cm_buf_reset(&out);
    const char *ids[] = {"m-1", "m\"2"};
    CHECK_INT(rt_sqs_batch_response(ids, 2, &out), 0);
    CHECK_STR(cm_buf_cstr(&out), "{\"batchItemFailures\":[{\"itemIdentifier\":\"m-1\"},"
                                 "{\"itemIdentifier\":\"m\\\"2\"}]}");
    cm_buf_deinit(&out);
}

struct seen {
    char ids[8][32];
    char corr[8][64];
    int n;
};

static int record_cb(const struct rt_invocation *inv, const struct rt_sqs_record *r, void *arg)
{
    struct seen *s = arg;
    if (s->n < 8) {
        snprintf(s->ids[s->n], sizeof s->ids[0], "%s", r->message_id);
        snprintf(s->corr[s->n], sizeof s->corr[0], "%s", rt_log_correlation_id());
        s->n++;
    }
    return strcmp(r->body, "fail") == 0 ? -1 : 0;
}

static void test_process(void)
{
    const char *std =
        "{\"Records\":["
        "{\"messageId\":\"a\",\"body\":\"ok\",\"messageAttributes\":{\"correlation_id\":"
        "{\"stringValue\":\"c-a\",\"dataType\":\"String\"}}},"
        "{\"messageId\":\"b\",\"body\":\"fail\"},"
        "{\"messageId\":\"c\",\"body\":\"fail\",\"messageAttributes\":{\"correlation_id\":"
        "{\"StringValue\":\"c-c\",\"DataType\":\"String\"}}},"
        "{\"messageId\":\"d\",\"body\":\"ok\"}]}";
    struct rt_sqs_event ev;
    CHECK_INT(rt_sqs_event_parse(std, strlen(std), &ev, NULL), 0);
    struct seen s = {.n = 0};
    struct cm_buf out;
    cm_buf_init(&out, 0);
    rt_log_set_correlation_id("outer");
    CHECK_INT(rt_sqs_process(NULL, &ev, record_cb, &s, &out), 2);
    CHECK_INT(s.n, 4);
    CHECK_STR(s.corr[0], "c-a");
    CHECK_STR(s.corr[1], "");
    CHECK_STR(s.corr[2], "c-c");
    CHECK_STR(rt_log_correlation_id(), "outer");
    CHECK_STR(cm_buf_cstr(&out),
              "{\"batchItemFailures\":[{\"itemIdentifier\":\"b\"},{\"itemIdentifier\":\"c\"}]}");
    rt_sqs_event_deinit(&ev);

    /* FIFO: stop at the first failure, report it and every later record. */
    size_t n = 0;
    const char *top = getenv("LG_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/functions/runtime/testdata/sqs-event-fifo.json",
             top ? top : ".");
    FILE *f = fopen(path, "rb");
    char buf[8192];
    n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f)
        fclose(f);
    CHECK_INT(rt_sqs_event_parse(buf, n, &ev, NULL), 0);
    s.n = 0;
    cm_buf_reset(&out);
    CHECK_INT(rt_sqs_process(NULL, &ev, record_cb, &s, &out), 2);
    CHECK_INT(s.n, 2); /* f-3 was never processed */
    CHECK_STR(s.ids[1], "f-2");
    CHECK_STR(s.corr[1], "c-2");
    CHECK_STR(
        cm_buf_cstr(&out),
        "{\"batchItemFailures\":[{\"itemIdentifier\":\"f-2\"},{\"itemIdentifier\":\"f-3\"}]}");
    rt_sqs_event_deinit(&ev);
    rt_log_set_correlation_id(NULL);
    cm_buf_deinit(&out);
}

int main(void)
{
    test_parse();
    test_invalid();
    test_batch_response();
    test_process();
    return TEST_REPORT();
}
