/* sd_sqs_test.c: stackd's SQS without sockets: MD5 vectors (protocols.md
 * 4.3), attribute encoding and selection, base64 and body characters, the
 * visibility / delay / redrive / retention state machine driven with an
 * explicit now through the C API, both wire protocols and their error
 * shapes through sd_sqs_handle, long polls through the io callbacks, and
 * persistence across reopen of the SQLite file. */
#include "harness.h"

#include "sd_sqs.h"
#include "sd_sqs_int.h"

#include "cm/buf.h"
#include "cm/err.h"
#include "cm/mem.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1700000000000LL

static void test_md5_vectors(void)
{
    char h[33];
    sd_sqs_md5_hex("Test message.", 13, h);
    CHECK_STR(h, "e4e68fb7bd0e697a0ae8f1bb342846b3");
    sd_sqs_md5_hex("hello world", 11, h);
    CHECK_STR(h, "5eb63bbbe01eeed093cb22bb8f5acdc3");

    struct sqs_attr_in a[3] = {
        {"customNumberTypeAttrib", "Number.float",
         (const unsigned char *)"4563442423554324324264524243.32543234", 37, 0},
        {"binaryAttribute", "Binary", (const unsigned char *)"Hello binary world!", 19, 1},
        {"attribName1", "String", (const unsigned char *)"attribValue 1", 13, 0},
    };
    const char *one[3] = {"9fe1b90bbd9965bdf77bac517c7d2495", "31a92b15d92f8db860eda32aceb656c3",
                          "19e27d4e946b072f3f58da80d94fd778"};
    for (int i = 0; i < 3; i++) {
        struct cm_buf b;
        cm_buf_init(&b, 0);
        struct sqs_attr_in x = a[i];
        CHECK_INT(sqs_attrs_encode(&x, 1, &b), 0);
        sd_sqs_md5_hex(b.data, b.len, h);
        CHECK_STR(h, one[i]);
        cm_buf_deinit(&b);
    }
    struct cm_buf b;
    cm_buf_init(&b, 0);
    CHECK_INT(sqs_attrs_encode(a, 3, &b), 0);
    sd_sqs_md5_hex(b.data, b.len, h);
    CHECK_STR(h, "c932db14a896c663f83c260297d594ff");
    CHECK_STR(a[0].name, "attribName1"); /* sorted by name */

    /* decoding gives the attributes back, in order */
    size_t pos = 0;
    struct sd_sqs_attr d;
    CHECK_INT(sd_sqs_attr_next((unsigned char *)b.data, b.len, &pos, &d), 1);
    CHECK(d.name_len == 11 && memcmp(d.name, "attribName1", 11) == 0 && !d.binary);
    CHECK_INT(sd_sqs_attr_next((unsigned char *)b.data, b.len, &pos, &d), 1);
    CHECK(d.binary && d.value_len == 19);
    CHECK_INT(sd_sqs_attr_next((unsigned char *)b.data, b.len, &pos, &d), 1);
    CHECK_INT(sd_sqs_attr_next((unsigned char *)b.data, b.len, &pos, &d), 0);
    pos = 0;
    CHECK_INT(sd_sqs_attr_next((unsigned char *)b.data, b.len - 1, &pos, &d), 1);
    CHECK_INT(sd_sqs_attr_next((unsigned char *)b.data, b.len - 1, &pos, &d), 1);
    CHECK_INT(sd_sqs_attr_next((unsigned char *)b.data, b.len - 1, &pos, &d), CM_EPARSE);

    /* selection: exact, prefix.*, All; the subset is re-encoded */
    struct cm_buf sel;
    cm_buf_init(&sel, 0);
    const char *names[] = {"binary.*", "attribName1"};
    CHECK_INT(sqs_attrs_select((unsigned char *)b.data, b.len, names, 2, &sel), 0);
    pos = 0;
    int n = 0;
    while (sd_sqs_attr_next((unsigned char *)sel.data, sel.len, &pos, &d) == 1)
        n++;
    CHECK_INT(n, 1); /* "binary.*" needs "binary." as a prefix: only attribName1 */
    cm_buf_reset(&sel);
    const char *all[] = {"All"};
    CHECK_INT(sqs_attrs_select((unsigned char *)b.data, b.len, all, 1, &sel), 0);
    CHECK_INT(sel.len, b.len);
    CHECK(sqs_attr_name_selected("order.id", 8, (const char *[]){"order.*"}, 1));
    CHECK(!sqs_attr_name_selected("orderid", 7, (const char *[]){"order.*"}, 1));
    cm_buf_deinit(&sel);
    cm_buf_deinit(&b);
}

static void test_b64_and_chars(void)
{
    struct cm_buf b;
    unsigned char *out;
    size_t n;
    cm_buf_init(&b, 0);
    CHECK_INT(sqs_b64_encode((const unsigned char *)"hello", 5, &b), 0);
    CHECK_STR(b.data, "aGVsbG8=");
    CHECK_INT(sqs_b64_decode("aGVsbG8=", 8, &out, &n), 0);
    CHECK(n == 5 && memcmp(out, "hello", 5) == 0);
    free(out);
    CHECK_INT(sqs_b64_decode("aGVsbG8", 7, &out, &n), CM_EINVAL);
    CHECK_INT(sqs_b64_decode("aG=sbG8=", 8, &out, &n), CM_EINVAL);
    CHECK_INT(sqs_b64_decode("a!VsbG8=", 8, &out, &n), CM_EINVAL);
    cm_buf_deinit(&b);

    CHECK(sqs_body_chars_ok("a\tb\nc\r", 6));
    CHECK(sqs_body_chars_ok("\xc3\xa9\xf0\x9f\x98\x80", 6)); /* e-acute, an emoji */
    CHECK(!sqs_body_chars_ok("a\x01", 2));
    CHECK(!sqs_body_chars_ok("a\0b", 3));
    CHECK(!sqs_body_chars_ok("\xc0\x80", 2));     /* overlong */
    CHECK(!sqs_body_chars_ok("\xed\xa0\x80", 3)); /* surrogate */
    CHECK(!sqs_body_chars_ok("\xef\xbf\xbf", 3)); /* U+FFFF */
    CHECK(!sqs_body_chars_ok("\xe2\x82", 2));     /* truncated */
    CHECK(sqs_name_ok("orders-dlq_1"));
    CHECK(!sqs_name_ok("a.b"));
    CHECK(!sqs_name_ok(""));
}

static struct sd_sqs *open_store(const char *path)
{
    struct sd_sqs *s = NULL;
    char err[256];
    struct sd_sqs_config cfg = {path, "us-east-1", "000000000000", "http://127.0.0.1:4566"};
    CHECK_INT(sd_sqs_new(&cfg, NULL, &s, err, sizeof err), 0);
    return s;
}

static void counts_are(struct sd_sqs *s, const char *q, int64_t now, int64_t v, int64_t nv,
                       int64_t d, int line)
{
    struct sd_sqs_counts k;
    CHECK_INT(sd_sqs_counts(s, q, now, &k), 0);
    CHECK_MSG(k.visible == v && k.not_visible == nv && k.delayed == d,
              "line %d: counts %lld/%lld/%lld, want %lld/%lld/%lld", line, (long long)k.visible,
              (long long)k.not_visible, (long long)k.delayed, (long long)v, (long long)nv,
              (long long)d);
}

static void test_state_machine(void)
{
    struct sd_sqs *s = open_store(NULL);
    struct sd_sqs_queue_opts o;
    char err[256];
    struct sd_sqs_msg *m;
    int n;
    sd_sqs_queue_opts_init(&o);
    CHECK_INT(sd_sqs_ensure_queue(s, "dlq", &o, T0, err, sizeof err), 0);
    o.visibility_timeout_s = 10;
    o.dlq_name = "dlq";
    o.max_receive_count = 2;
    CHECK_INT(sd_sqs_ensure_queue(s, "q", &o, T0, err, sizeof err), 0);
    o.dlq_name = "missing";
    CHECK_INT(sd_sqs_ensure_queue(s, "bad", &o, T0, err, sizeof err), CM_EINVAL);
    CHECK(strstr(err, "does not exist") != NULL);

    CHECK_INT(sd_sqs_send(s, "q", "one", 3, -1, T0, NULL), 0);
    CHECK_INT(sd_sqs_send(s, "q", "two", 3, 5, T0, NULL), 0); /* delayed 5 s */
    CHECK_INT(sd_sqs_send(s, "nope", "x", 1, -1, T0, NULL), CM_ENOTFOUND);
    CHECK_INT(sd_sqs_send(s, "q", "", 0, -1, T0, NULL), CM_EINVAL);
    counts_are(s, "q", T0, 1, 0, 1, __LINE__);

    /* receive: one visible; the delayed one is not */
    CHECK_INT(sd_sqs_receive(s, "q", 10, -1, T0, &m, &n), 0);
    CHECK_INT(n, 1);
    CHECK_STR(m[0].body, "one");
    CHECK_INT(m[0].receive_count, 1);
    CHECK_INT(m[0].first_receive_ms, T0);
    CHECK_STR(m[0].md5_body, "f97c5d29941bfb1b2fdab0874906ab82");
    char rh1[64];
    cm_strlcpy(rh1, m[0].receipt_handle, sizeof rh1);
    sd_sqs_msgs_free(m, n);
    counts_are(s, "q", T0, 0, 1, 1, __LINE__);

    /* the delay ends at T0+5 s, the visibility timeout at T0+10 s */
    counts_are(s, "q", T0 + 5000, 1, 1, 0, __LINE__);
    CHECK_INT(sd_sqs_receive(s, "q", 10, 30, T0 + 5000, &m, &n), 0);
    CHECK(n == 1 && strcmp(m[0].body, "two") == 0);
    char rh2[64];
    cm_strlcpy(rh2, m[0].receipt_handle, sizeof rh2);
    sd_sqs_msgs_free(m, n);
    counts_are(s, "q", T0 + 9999, 0, 2, 0, __LINE__);
    counts_are(s, "q", T0 + 10000, 1, 1, 0, __LINE__);

    /* change visibility: in flight only; stale or foreign handles refused */
    CHECK_INT(sd_sqs_change_visibility(s, "q", rh2, 0, T0 + 6000), 0);
    counts_are(s, "q", T0 + 6000, 1, 1, 0, __LINE__);
    CHECK_INT(sd_sqs_change_visibility(s, "q", rh2, 5, T0 + 6000), CM_ESTATE);
    CHECK_INT(sd_sqs_change_visibility(s, "q", "junk", 5, T0 + 6000), CM_EINVAL);
    CHECK_INT(sd_sqs_change_visibility(s, "dlq", rh2, 5, T0 + 6000), CM_EINVAL);

    /* "one" expires at T0+10 s and comes back with receive count 2 */
    CHECK_INT(sd_sqs_receive(s, "q", 10, 1, T0 + 10000, &m, &n), 0);
    CHECK_INT(n, 2);
    int one = strcmp(m[0].body, "one") == 0 ? 0 : 1;
    CHECK_INT(m[one].receive_count, 2);
    CHECK_INT(m[one].first_receive_ms, T0);
    /* the old handle of "one" is stale now: delete keeps the message */
    CHECK_INT(sd_sqs_delete(s, "q", rh1), 0);
    counts_are(s, "q", T0 + 10000, 0, 2, 0, __LINE__);
    CHECK_INT(sd_sqs_delete(s, "q", m[1 - one].receipt_handle), 0); /* "two" */
    CHECK_INT(sd_sqs_delete(s, "q", m[1 - one].receipt_handle), 0); /* again: fine */
    sd_sqs_msgs_free(m, n);
    counts_are(s, "q", T0 + 10000, 0, 1, 0, __LINE__);

    /* received twice = maxReceiveCount: the next attempt moves it to the DLQ */
    CHECK_INT(sd_sqs_receive(s, "q", 10, 30, T0 + 11000, &m, &n), 0);
    CHECK_INT(n, 0);
    CHECK(m == NULL);
    counts_are(s, "q", T0 + 11000, 0, 0, 0, __LINE__);
    counts_are(s, "dlq", T0 + 11000, 1, 0, 0, __LINE__);
    CHECK_INT(sd_sqs_receive(s, "dlq", 1, -1, T0 + 11000, &m, &n), 0);
    CHECK(n == 1 && strcmp(m[0].body, "one") == 0 && m[0].receive_count == 1);
    CHECK(m[0].dlq_source_arn &&
          strcmp(m[0].dlq_source_arn, "arn:aws:sqs:us-east-1:000000000000:q") == 0);
    CHECK_INT(m[0].sent_ms, T0);
    sd_sqs_msgs_free(m, n);

    /* visibility 0 inside one batch: each message once per receive */
    for (int i = 0; i < 3; i++)
        CHECK_INT(sd_sqs_send(s, "dlq", "z", 1, 0, T0 + 20000, NULL), 0);
    CHECK_INT(sd_sqs_receive(s, "dlq", 10, 0, T0 + 20000, &m, &n), 0);
    CHECK_INT(n, 3);
    sd_sqs_msgs_free(m, n);

    /* retention: messages older than MessageRetentionPeriod are dropped */
    sd_sqs_queue_opts_init(&o);
    o.retention_s = 60;
    CHECK_INT(sd_sqs_ensure_queue(s, "short", &o, T0, err, sizeof err), 0);
    CHECK_INT(sd_sqs_send(s, "short", "old", 3, -1, T0, NULL), 0);
    CHECK_INT(sd_sqs_receive(s, "short", 1, -1, T0 + 61000, &m, &n), 0);
    CHECK_INT(n, 0);
    counts_are(s, "short", T0 + 61000, 0, 0, 0, __LINE__);
    CHECK_INT(sd_sqs_send(s, "short", "old2", 4, -1, T0, NULL), 0);
    sd_sqs_tick(s, T0 + 120000); /* the sweep */
    counts_are(s, "short", T0, 0, 0, 0, __LINE__);
    CHECK_INT(sd_sqs_receive(s, "short", 11, -1, T0, &m, &n), CM_EINVAL);
    sd_sqs_free(s);
}

/* ---- the wire protocols -------------------------------------------------------- */

struct call {
    struct sd_resp resp;
    int rc;
};

static void do_call(struct sd_sqs *s, int json, const char *op, const char *body, int64_t now,
                    void *token, struct call *out)
{
    char target[96];
    struct sd_req r;
    memset(&r, 0, sizeof r);
    r.method = "POST";
    r.path = "/";
    r.query = "";
    r.headers[0] = (struct sd_header){"Host", 4, "127.0.0.1:4566", 14};
    r.n_headers = 1;
    if (json) {
        snprintf(target, sizeof target, "AmazonSQS.%s", op);
        r.headers[1] = (struct sd_header){"X-Amz-Target", 12, target, strlen(target)};
        r.n_headers = 2;
    }
    r.body = body;
    r.body_len = strlen(body);
    r.recv_wall_ns = now * 1000000;
    sd_resp_init(&out->resp);
    out->rc = sd_sqs_handle(s, &r, &out->resp, token);
}

static const char *hdr(const struct sd_resp *r, const char *name)
{
    static char v[256];
    const char *p = r->headers.data ? strstr(r->headers.data, name) : NULL;
    if (!p)
        return NULL;
    p += strlen(name) + 2;
    size_t n = strcspn(p, "\r");
    snprintf(v, sizeof v, "%.*s", (int)n, p);
    return v;
}

static const char *body(struct call *c)
{
    return cm_buf_cstr(&c->resp.body);
}

static void test_protocols(void)
{
    struct sd_sqs *s = open_store(NULL);
    struct call c;

    /* query: create with attributes, idempotent, conflicting */
    do_call(s, 0, NULL,
            "Action=CreateQueue&Version=2012-11-05&QueueName=q1&Attribute.1.Name=VisibilityTimeout"
            "&Attribute.1.Value=40",
            T0, NULL, &c);
    CHECK_INT(c.resp.status, 200);
    CHECK_STR(c.resp.content_type, "text/xml");
    CHECK(strstr(body(&c), "<CreateQueueResult><QueueUrl>http://127.0.0.1:4566/000000000000/q1"
                           "</QueueUrl></CreateQueueResult>") != NULL);
    sd_resp_deinit(&c.resp);
    do_call(s, 1, "CreateQueue",
            "{\"QueueName\":\"q1\",\"Attributes\":{\"VisibilityTimeout\":\"40\"}}", T0, NULL, &c);
    CHECK_INT(c.resp.status, 200);
    CHECK_STR(body(&c), "{\"QueueUrl\":\"http://127.0.0.1:4566/000000000000/q1\"}");
    sd_resp_deinit(&c.resp);
    do_call(s, 1, "CreateQueue",
            "{\"QueueName\":\"q1\",\"Attributes\":{\"VisibilityTimeout\":\"41\"}}", T0, NULL, &c);
    CHECK_INT(c.resp.status, 400);
    CHECK(strstr(body(&c), "\"__type\":\"com.amazonaws.sqs#QueueNameExists\"") != NULL);
    CHECK_STR(hdr(&c.resp, "x-amzn-query-error"), "QueueAlreadyExists;Sender");
    sd_resp_deinit(&c.resp);

    /* errors: missing queue (both protocols), unknown attribute, bad action */
    do_call(s, 0, NULL, "Action=GetQueueUrl&Version=2012-11-05&QueueName=zz", T0, NULL, &c);
    CHECK_INT(c.resp.status, 400);
    CHECK(strstr(body(&c),
                 "<Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code>"));
    sd_resp_deinit(&c.resp);
    do_call(s, 1, "SendMessage",
            "{\"QueueUrl\":\"http://x/000000000000/zz\",\"MessageBody\":\"a\"}", T0, NULL, &c);
    CHECK(strstr(body(&c), "com.amazonaws.sqs#QueueDoesNotExist") != NULL);
    CHECK_STR(hdr(&c.resp, "x-amzn-query-error"), "AWS.SimpleQueueService.NonExistentQueue;Sender");
    sd_resp_deinit(&c.resp);
    do_call(s, 1, "Frobnicate", "{}", T0, NULL, &c);
    CHECK(c.resp.status == 400 && strstr(body(&c), "InvalidAction"));
    sd_resp_deinit(&c.resp);
    do_call(s, 1, "SendMessage", "{not json", T0, NULL, &c);
    CHECK_INT(c.resp.status, 400);
    sd_resp_deinit(&c.resp);
    do_call(s, 0, NULL, "Action=SendMessage&Version=2012-11-05&QueueUrl=q1&MessageBody=%ZZ", T0,
            NULL, &c);
    CHECK(c.resp.status == 400 && strstr(body(&c), "<?xml"));
    sd_resp_deinit(&c.resp);
    do_call(s, 1, "GetQueueAttributes", "{\"QueueUrl\":\"q1\",\"AttributeNames\":[\"Nope\"]}", T0,
            NULL, &c);
    CHECK(strstr(body(&c), "InvalidAttributeName") != NULL);
    sd_resp_deinit(&c.resp);

    /* query SendMessage with attributes: the MD5s of protocols.md 4.3 */
    do_call(s, 0, NULL,
            "Action=SendMessage&Version=2012-11-05&QueueUrl=http%3A%2F%2F127.0.0.1%3A4566%"
            "2F000000000000"
            "%2Fq1&MessageBody=Test+message.&MessageAttribute.1.Name=attribName1"
            "&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue="
            "attribValue+1",
            T0, NULL, &c);
    CHECK_INT(c.resp.status, 200);
    CHECK(
        strstr(body(&c), "<MD5OfMessageBody>e4e68fb7bd0e697a0ae8f1bb342846b3</MD5OfMessageBody>"));
    CHECK(strstr(
        body(&c),
        "<MD5OfMessageAttributes>19e27d4e946b072f3f58da80d94fd778</MD5OfMessageAttributes>"));
    sd_resp_deinit(&c.resp);
    /* JSON with a binary attribute (base64) */
    do_call(s, 1, "SendMessage",
            "{\"QueueUrl\":\"q1\",\"MessageBody\":\"b\",\"MessageAttributes\":{\"binaryAttribute\":"
            "{\"DataType\":\"Binary\",\"BinaryValue\":\"SGVsbG8gYmluYXJ5IHdvcmxkIQ==\"}}}",
            T0, NULL, &c);
    CHECK(strstr(body(&c), "\"MD5OfMessageAttributes\":\"31a92b15d92f8db860eda32aceb656c3\""));
    sd_resp_deinit(&c.resp);
    /* invalid attributes and bodies */
    const char *bad[] = {
        "{\"QueueUrl\":\"q1\",\"MessageBody\":\"\"}",
        "{\"QueueUrl\":\"q1\",\"MessageBody\":\"a\\u0001\"}",
        "{\"QueueUrl\":\"q1\",\"MessageBody\":\"a\",\"MessageAttributes\":{\"n\":{\"DataType\":"
        "\"Number\",\"StringValue\":\"abc\"}}}",
        "{\"QueueUrl\":\"q1\",\"MessageBody\":\"a\",\"MessageAttributes\":{\"AWS.x\":{\"DataType\":"
        "\"String\",\"StringValue\":\"v\"}}}",
        "{\"QueueUrl\":\"q1\",\"MessageBody\":\"a\",\"MessageAttributes\":{\"x\":{\"DataType\":"
        "\"Date\",\"StringValue\":\"v\"}}}",
        "{\"QueueUrl\":\"q1\",\"MessageBody\":\"a\",\"DelaySeconds\":901}",
    };
    const char *codes[] = {"MissingParameter",      "InvalidMessageContents",
                           "InvalidParameterValue", "InvalidParameterValue",
                           "InvalidParameterValue", "InvalidParameterValue"};
    for (int i = 0; i < 6; i++) {
        do_call(s, 1, "SendMessage", bad[i], T0, NULL, &c);
        CHECK_MSG(c.resp.status == 400 &&
                      strncmp(hdr(&c.resp, "x-amzn-query-error"), codes[i], strlen(codes[i])) == 0,
                  "bad send %d: %d %s", i, c.resp.status, body(&c));
        sd_resp_deinit(&c.resp);
    }

    /* query ReceiveMessage: flattened <Message>, <Attribute>, <MessageAttribute> */
    do_call(s, 0, NULL,
            "Action=ReceiveMessage&Version=2012-11-05&QueueUrl=q1&MaxNumberOfMessages=1"
            "&AttributeName.1=All&MessageAttributeName.1=All",
            T0, NULL, &c);
    CHECK(strstr(body(&c), "<ReceiveMessageResult><Message><MessageId>") != NULL);
    CHECK(strstr(body(&c), "<Attribute><Name>ApproximateReceiveCount</Name><Value>1</Value>"
                           "</Attribute>") != NULL);
    CHECK(strstr(body(&c), "<MessageAttribute><Name>attribName1</Name><Value><StringValue>"
                           "attribValue 1</StringValue><DataType>String</DataType></Value>"
                           "</MessageAttribute>") != NULL);
    CHECK(strstr(body(&c), "<MD5OfMessageAttributes>19e27d4e946b072f3f58da80d94fd778") != NULL);
    sd_resp_deinit(&c.resp);
    /* JSON receive of the binary one, attributes selected by prefix */
    do_call(s, 1, "ReceiveMessage",
            "{\"QueueUrl\":\"q1\",\"MessageAttributeNames\":[\"binary.*\",\"binaryAttribute\"],"
            "\"MessageSystemAttributeNames\":[\"SentTimestamp\"]}",
            T0, NULL, &c);
    cJSON *j = cJSON_Parse(body(&c));
    cJSON *msg = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "Messages"), 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(msg, "Body")), "b");
    CHECK_STR(cJSON_GetStringValue(
                  cJSON_GetObjectItem(cJSON_GetObjectItem(msg, "Attributes"), "SentTimestamp")),
              "1700000000000");
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(msg, "Attributes"), "SenderId") == NULL);
    CHECK_STR(
        cJSON_GetStringValue(cJSON_GetObjectItem(
            cJSON_GetObjectItem(cJSON_GetObjectItem(msg, "MessageAttributes"), "binaryAttribute"),
            "BinaryValue")),
        "SGVsbG8gYmluYXJ5IHdvcmxkIQ==");
    cJSON_Delete(j);
    sd_resp_deinit(&c.resp);
    /* nothing left: JSON {} and XML without <Message> */
    do_call(s, 1, "ReceiveMessage", "{\"QueueUrl\":\"q1\"}", T0, NULL, &c);
    CHECK_STR(body(&c), "{}");
    sd_resp_deinit(&c.resp);
    do_call(s, 1, "ReceiveMessage", "{\"QueueUrl\":\"q1\",\"MaxNumberOfMessages\":11}", T0, NULL,
            &c);
    CHECK(c.resp.status == 400 && strstr(body(&c), "MaxNumberOfMessages"));
    sd_resp_deinit(&c.resp);

    /* batch errors */
    do_call(s, 1, "SendMessageBatch", "{\"QueueUrl\":\"q1\",\"Entries\":[]}", T0, NULL, &c);
    CHECK_STR(hdr(&c.resp, "x-amzn-query-error"),
              "AWS.SimpleQueueService.EmptyBatchRequest;Sender");
    sd_resp_deinit(&c.resp);
    do_call(s, 1, "SendMessageBatch",
            "{\"QueueUrl\":\"q1\",\"Entries\":[{\"Id\":\"a\",\"MessageBody\":\"x\"},{\"Id\":\"a\","
            "\"MessageBody\":\"y\"}]}",
            T0, NULL, &c);
    CHECK(strstr(hdr(&c.resp, "x-amzn-query-error"), "BatchEntryIdsNotDistinct") != NULL);
    sd_resp_deinit(&c.resp);
    do_call(s, 0, NULL,
            "Action=SendMessageBatch&Version=2012-11-05&QueueUrl=q1"
            "&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=x"
            "&SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2.MessageBody=",
            T0, NULL, &c);
    CHECK(strstr(body(&c), "<SendMessageBatchResultEntry><Id>a</Id>") != NULL);
    CHECK(strstr(body(&c), "<BatchResultErrorEntry><Id>b</Id><SenderFault>true</SenderFault>") !=
          NULL);
    sd_resp_deinit(&c.resp);

    /* queue path instead of QueueUrl; GetQueueAttributes counts */
    struct sd_req r;
    memset(&r, 0, sizeof r);
    r.method = "POST";
    r.path = "/000000000000/q1";
    r.query = "";
    r.body = "Action=GetQueueAttributes&Version=2012-11-05&AttributeName.1=All";
    r.body_len = strlen(r.body);
    r.recv_wall_ns = T0 * 1000000;
    sd_resp_init(&c.resp);
    sd_sqs_handle(s, &r, &c.resp, NULL);
    CHECK(strstr(body(&c), "<Attribute><Name>ApproximateNumberOfMessages</Name><Value>1</Value>"));
    CHECK(
        strstr(body(&c), "<Attribute><Name>ApproximateNumberOfMessagesNotVisible</Name><Value>2"));
    CHECK(strstr(body(&c), "<Attribute><Name>VisibilityTimeout</Name><Value>40</Value>"));
    sd_resp_deinit(&c.resp);

    /* purge twice within 60 s */
    do_call(s, 1, "PurgeQueue", "{\"QueueUrl\":\"q1\"}", T0, NULL, &c);
    CHECK_INT(c.resp.status, 200);
    sd_resp_deinit(&c.resp);
    do_call(s, 1, "PurgeQueue", "{\"QueueUrl\":\"q1\"}", T0 + 1000, NULL, &c);
    CHECK_INT(c.resp.status, 403);
    sd_resp_deinit(&c.resp);
    do_call(s, 1, "ListQueues", "{\"QueueNamePrefix\":\"q\"}", T0, NULL, &c);
    CHECK_STR(body(&c), "{\"QueueUrls\":[\"http://127.0.0.1:4566/000000000000/q1\"]}");
    sd_resp_deinit(&c.resp);
    do_call(s, 0, NULL, "Action=ListQueues&Version=2012-11-05", T0, NULL, &c);
    CHECK(strstr(body(&c), "<ListQueuesResult><QueueUrl>http://127.0.0.1:4566/000000000000/q1"
                           "</QueueUrl></ListQueuesResult>") != NULL);
    sd_resp_deinit(&c.resp);
    sd_sqs_free(s);
}

/* ---- long polls ---------------------------------------------------------------- */

struct fake_conn {
    int replies, dropped, alive;
    char body[4096];
};

static void fake_reply(void *ctx, void *token, const struct sd_resp *resp)
{
    struct fake_conn *f = token;
    if (!resp) {
        f->dropped++;
        return;
    }
    f->replies++;
    snprintf(f->body, sizeof f->body, "%s", resp->body.data ? resp->body.data : "");
}

static int fake_alive(void *ctx, void *token)
{
    return ((struct fake_conn *)token)->alive;
}

static void test_long_poll(void)
{
    struct sd_sqs *s = NULL;
    char err[256];
    struct sd_sqs_io io = {fake_reply, fake_alive, NULL};
    CHECK_INT(sd_sqs_new(NULL, &io, &s, err, sizeof err), 0);
    struct call c;
    struct fake_conn a = {0, 0, 1, ""}, b = {0, 0, 1, ""}, d = {0, 0, 1, ""};
    do_call(s, 1, "CreateQueue", "{\"QueueName\":\"lp\"}", T0, NULL, &c);
    sd_resp_deinit(&c.resp);

    do_call(s, 1, "ReceiveMessage", "{\"QueueUrl\":\"lp\",\"WaitTimeSeconds\":20}", T0, &a, &c);
    CHECK_INT(c.rc, SD_SQS_DEFERRED);
    sd_resp_deinit(&c.resp);
    do_call(s, 0, NULL, "Action=ReceiveMessage&Version=2012-11-05&QueueUrl=lp&WaitTimeSeconds=2",
            T0, &b, &c);
    CHECK_INT(c.rc, SD_SQS_DEFERRED);
    sd_resp_deinit(&c.resp);
    do_call(s, 1, "ReceiveMessage", "{\"QueueUrl\":\"lp\",\"WaitTimeSeconds\":20}", T0, &d, &c);
    sd_resp_deinit(&c.resp);
    d.alive = 0; /* the peer went away */

    sd_sqs_tick(s, T0 + 1000);
    CHECK(a.replies == 0 && b.replies == 0);
    CHECK_INT(d.dropped, 1);
    sd_sqs_tick(s, T0 + 2000); /* b's deadline: an empty XML answer */
    CHECK_INT(b.replies, 1);
    CHECK(strstr(b.body, "<ReceiveMessageResponse") && !strstr(b.body, "<Message>"));
    CHECK_INT(a.replies, 0);

    /* a send wakes the oldest poll at once */
    do_call(s, 1, "SendMessage", "{\"QueueUrl\":\"lp\",\"MessageBody\":\"wake\"}", T0 + 3000, NULL,
            &c);
    sd_resp_deinit(&c.resp);
    CHECK_INT(a.replies, 1);
    CHECK(strstr(a.body, "\"Body\":\"wake\"") != NULL);

    /* a delayed message wakes a poll when its delay ends (tick) */
    struct fake_conn e = {0, 0, 1, ""};
    CHECK_INT(sd_sqs_send(s, "lp", "later", 5, 2, T0 + 4000, NULL), 0);
    do_call(s, 1, "ReceiveMessage", "{\"QueueUrl\":\"lp\",\"WaitTimeSeconds\":10}", T0 + 4000, &e,
            &c);
    CHECK_INT(c.rc, SD_SQS_DEFERRED);
    sd_resp_deinit(&c.resp);
    sd_sqs_tick(s, T0 + 5999);
    CHECK_INT(e.replies, 0);
    sd_sqs_tick(s, T0 + 6000);
    CHECK(e.replies == 1 && strstr(e.body, "later"));

    /* ReceiveMessageWaitTimeSeconds of the queue applies without WaitTimeSeconds;
     * WaitTimeSeconds 0 overrides it */
    struct fake_conn g = {0, 0, 1, ""};
    do_call(s, 1, "CreateQueue",
            "{\"QueueName\":\"lp2\",\"Attributes\":{\"ReceiveMessageWaitTimeSeconds\":\"5\"}}", T0,
            NULL, &c);
    sd_resp_deinit(&c.resp);
    do_call(s, 1, "ReceiveMessage", "{\"QueueUrl\":\"lp2\"}", T0 + 7000, &g, &c);
    CHECK_INT(c.rc, SD_SQS_DEFERRED);
    sd_resp_deinit(&c.resp);
    do_call(s, 1, "ReceiveMessage", "{\"QueueUrl\":\"lp2\",\"WaitTimeSeconds\":0}", T0 + 7000, &g,
            &c);
    CHECK_INT(c.rc, 0);
    sd_resp_deinit(&c.resp);
    sd_sqs_tick(s, T0 + 11999);
    CHECK_INT(g.replies, 0);
    sd_sqs_tick(s, T0 + 12000);
    CHECK_INT(g.replies, 1);

    /* sd_sqs_end_polls answers every pending poll, empty */
    struct fake_conn h = {0, 0, 1, ""};
    do_call(s, 0, NULL, "Action=ReceiveMessage&Version=2012-11-05&QueueUrl=lp2", T0 + 13000, &h,
            &c);
    CHECK_INT(c.rc, SD_SQS_DEFERRED);
    sd_resp_deinit(&c.resp);
    sd_sqs_end_polls(s);
    CHECK(h.replies == 1 && strstr(h.body, "<ReceiveMessageResponse") &&
          !strstr(h.body, "<Message>"));

    /* a pending poll is dropped by free */
    struct fake_conn f = {0, 0, 1, ""};
    do_call(s, 1, "ReceiveMessage", "{\"QueueUrl\":\"lp\",\"WaitTimeSeconds\":10}", T0 + 7000, &f,
            &c);
    sd_resp_deinit(&c.resp);
    sd_sqs_free(s);
    CHECK_INT(f.dropped, 1);
}

static void test_persistence(void)
{
    char path[] = "/tmp/sd_sqs_test_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    unlink(path);
    struct sd_sqs *s = open_store(path);
    struct sd_sqs_queue_opts o;
    char err[256], rh[64];
    struct sd_sqs_msg *m;
    int n;
    sd_sqs_queue_opts_init(&o);
    o.visibility_timeout_s = 60;
    CHECK_INT(sd_sqs_ensure_queue(s, "p", &o, T0, err, sizeof err), 0);
    for (int i = 0; i < 5; i++)
        CHECK_INT(sd_sqs_send(s, "p", "m", 1, -1, T0, NULL), 0);
    CHECK_INT(sd_sqs_receive(s, "p", 2, -1, T0, &m, &n), 0);
    CHECK_INT(n, 2);
    cm_strlcpy(rh, m[0].receipt_handle, sizeof rh);
    sd_sqs_msgs_free(m, n);
    sd_sqs_free(s);

    s = open_store(path);
    counts_are(s, "p", T0, 3, 2, 0, __LINE__);
    counts_are(s, "p", T0 + 60000, 5, 0, 0, __LINE__);
    CHECK_INT(sd_sqs_delete(s, "p", rh), 0); /* handles survive a restart */
    counts_are(s, "p", T0, 3, 1, 0, __LINE__);
    sd_sqs_free(s);
    s = open_store(path);
    counts_are(s, "p", T0, 3, 1, 0, __LINE__);
    sd_sqs_free(s);
    char side[600];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

int main(void)
{
    test_md5_vectors();
    test_b64_and_chars();
    test_state_machine();
    test_protocols();
    test_long_poll();
    test_persistence();
    return TEST_REPORT();
}
