/* sd_logs_test.c: the CloudWatch Logs store, filter patterns, EMF hand-off
 * and the Logs_20140328 handler driven with constructed requests. */
#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"
#include "harness.h"
#include "sd_cw.h"
#include "sd_logs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOW_MS 1700000000000LL

static int last_status;

static cJSON *call(struct sd_logs *lg, const char *op, const char *body)
{
    struct sd_req r;
    memset(&r, 0, sizeof r);
    char target[80];
    snprintf(target, sizeof target, "Logs_20140328.%s", op);
    r.method = "POST";
    r.path = "/";
    r.query = "";
    r.headers[0] = (struct sd_header){"X-Amz-Target", 12, target, strlen(target)};
    r.headers[1] = (struct sd_header){"Authorization", 13,
                                      "AWS4-HMAC-SHA256 Credential=AK/20240101/eu-west-1/logs/"
                                      "aws4_request, SignedHeaders=host, Signature=x",
                                      120};
    r.headers[1].value_len = strlen(r.headers[1].value);
    r.n_headers = 2;
    r.body = body;
    r.body_len = strlen(body);
    r.recv_wall_ns = NOW_MS * 1000000;
    struct sd_resp resp;
    sd_resp_init(&resp);
    sd_logs_handle(lg, &r, &resp);
    last_status = resp.status;
    CHECK_STR(resp.content_type, "application/x-amz-json-1.1");
    CHECK(strstr(resp.headers.data ? resp.headers.data : "", "x-amzn-RequestId: ") != NULL);
    cJSON *j = cJSON_ParseWithLength(resp.body.data ? resp.body.data : "", resp.body.len);
    CHECK_MSG(j != NULL, "%s: body is not JSON: %s", op, resp.body.data ? resp.body.data : "");
    sd_resp_deinit(&resp);
    return j;
}

static void expect_error(struct sd_logs *lg, const char *op, const char *body, const char *type)
{
    cJSON *j = call(lg, op, body);
    CHECK_INT(last_status, 400);
    CHECK_STR(cm_json_str(j, "__type", ""), type);
    CHECK(strlen(cm_json_str(j, "message", "")) > 0);
    cJSON_Delete(j);
}

static void test_store(void)
{
    struct sd_logs_config cfg = {.max_events_per_stream = 5, .max_bytes = 80};
    struct sd_logs *lg = sd_logs_new(&cfg);
    CHECK_INT(sd_logs_create_group(lg, "/aws/lambda/f", NOW_MS), 0);
    CHECK_INT(sd_logs_create_group(lg, "/aws/lambda/f", NOW_MS), CM_ESTATE);
    CHECK_INT(sd_logs_create_group(lg, "bad name", NOW_MS), CM_EINVAL);
    CHECK_INT(sd_logs_create_group(lg, "", NOW_MS), CM_EINVAL);
    CHECK_INT(sd_logs_create_stream(lg, "nope", "s", NOW_MS), CM_ENOTFOUND);
    CHECK_INT(sd_logs_create_stream(lg, "/aws/lambda/f", "a:b", NOW_MS), CM_EINVAL);
    CHECK_INT(sd_logs_create_stream(lg, "/aws/lambda/f", "s1", NOW_MS), 0);
    CHECK_INT(sd_logs_create_stream(lg, "/aws/lambda/f", "s1", NOW_MS), CM_ESTATE);
    /* per-stream cap: 7 events into a 5-event stream keep the newest 5 */
    for (int i = 0; i < 7; i++)
        CHECK_INT(sd_logs_put(lg, "/aws/lambda/f", "s1", NOW_MS + i, "0123456789", 10, NOW_MS), 0);
    CHECK_INT(sd_logs_stream_events(lg, "/aws/lambda/f", "s1"), 5);
    CHECK_INT(sd_logs_bytes(lg), 50);
    /* auto-created group and stream; total cap 80 bytes evicts oldest first
     * (down to 72 bytes): s1's events are older than s2's */
    for (int i = 0; i < 6; i++)
        CHECK_INT(sd_logs_put(lg, "g2", "s2", NOW_MS + 100 + i, "0123456789", 10, NOW_MS), 0);
    CHECK(sd_logs_bytes(lg) <= 80);
    CHECK_INT(sd_logs_stream_events(lg, "g2", "s2"), 5); /* stream cap */
    CHECK(sd_logs_stream_events(lg, "/aws/lambda/f", "s1") < 5);
    CHECK_INT(sd_logs_stream_events(lg, "g2", "nope"), -1);
    CHECK_INT(sd_logs_put(lg, "bad name", "s", NOW_MS, "x", 1, NOW_MS), CM_EINVAL);
    sd_logs_free(lg);
    sd_logs_free(NULL);
    /* interleaved streams: the store-wide cap drops the oldest events
     * whichever stream holds them, so the streams stay balanced */
    struct sd_logs_config cfg2 = {.max_bytes = 300};
    lg = sd_logs_new(&cfg2);
    static const char *names[] = {"a", "b", "c"};
    for (int i = 0; i < 90; i++)
        sd_logs_put(lg, "g", names[i % 3], NOW_MS + i, "0123456789", 10, NOW_MS);
    CHECK(sd_logs_bytes(lg) <= 300);
    long na = sd_logs_stream_events(lg, "g", "a"), nb = sd_logs_stream_events(lg, "g", "b"),
         nc = sd_logs_stream_events(lg, "g", "c");
    CHECK_MSG(labs(na - nb) <= 1 && labs(nb - nc) <= 1 && na >= 9, "%ld %ld %ld", na, nb, nc);
    sd_logs_free(lg);
}

static void test_filters(void)
{
    static const struct {
        const char *pat, *msg;
        int want;
    } cases[] = {
        {"", "anything", 1},
        {"ERROR", "[ERROR] boom", 1},
        {"ERROR", "[WARN] boom", 0},
        {"ERROR boom", "boom ERROR", 1},
        {"ERROR boom", "ERROR only", 0},
        {"\"fatal error\"", "a fatal error here", 1},
        {"\"fatal error\"", "fatal and error", 0},
        {"ERROR -retry", "ERROR will retry", 0},
        {"ERROR -retry", "ERROR final", 1},
        {"?ERROR ?WARN", "WARN low disk", 1},
        {"?ERROR ?WARN", "INFO ok", 0},
        {"ERROR", "error", 0}, /* case-sensitive */
        {"{ $.level = \"ERROR\" }", "{\"level\":\"ERROR\",\"n\":3}", 1},
        {"{ $.level = \"ERROR\" }", "{\"level\":\"INFO\"}", 0},
        {"{ $.level = \"ERROR\" }", "not json", 0},
        {"{ $.level != \"INFO\" }", "{\"level\":\"ERROR\"}", 1},
        {"{ $.latency > 100 }", "{\"latency\":150.5}", 1},
        {"{ $.latency > 100 }", "{\"latency\":50}", 0},
        {"{ $.latency >= 50 && $.level = ERR* }", "{\"latency\":50,\"level\":\"ERROR\"}", 1},
        {"{ ($.a = 1) || ($.b = 2) }", "{\"b\":2}", 1},
        {"{ $.a = 1 || $.b = 2 }", "{\"b\":3}", 0},
        {"{ $.req.user.id = \"u*\" }", "{\"req\":{\"user\":{\"id\":\"u42\"}}}", 1},
        {"{ $.items[1] = \"b\" }", "{\"items\":[\"a\",\"b\"]}", 1},
        {"{ $.x IS NULL }", "{\"x\":null}", 1},
        {"{ $.x NOT EXISTS }", "{\"y\":1}", 1},
        {"{ $.x NOT EXISTS }", "{\"x\":1}", 0},
        {"{ $.ok IS TRUE }", "{\"ok\":true}", 1},
        {"{ $.ok IS FALSE }", "{\"ok\":true}", 0},
        {"{ $.msg = \"*timeout*\" }", "{\"msg\":\"a timeout b\"}", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sd_logs_filter *f = NULL;
        const char *why = NULL;
        int rc = sd_logs_filter_compile(cases[i].pat, strlen(cases[i].pat), &f, &why);
        CHECK_MSG(rc == 0, "compile '%s': %s", cases[i].pat, why ? why : "");
        if (rc)
            continue;
        int m = sd_logs_filter_match(f, cases[i].msg, strlen(cases[i].msg));
        CHECK_MSG(m == cases[i].want, "'%s' on '%s': got %d", cases[i].pat, cases[i].msg, m);
        sd_logs_filter_free(f);
    }
    static const char *bad[] = {"\"unterminated",
                                "{ $.a = }",
                                "{ $.a ~ 1 }",
                                "{ a = 1 }",
                                "{ $.a = 1",
                                "{ $.a < x }",
                                "-",
                                "{ ((((((((((((((((((((((((((("
                                "((((((((((( $.a = 1 }"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sd_logs_filter *f = NULL;
        const char *why = NULL;
        int rc = sd_logs_filter_compile(bad[i], strlen(bad[i]), &f, &why);
        CHECK_MSG(rc == CM_EPARSE && f == NULL && why, "'%s' should not compile", bad[i]);
    }
    struct sd_logs_filter *f = NULL;
    CHECK_INT(sd_logs_filter_compile("[ip, user]", 10, &f, NULL), CM_EUNSUPP);
}

static void put_events(struct sd_logs *lg, const char *stream, int64_t t0, int n, int step)
{
    char body[8192];
    int off = snprintf(body, sizeof body,
                       "{\"logGroupName\":\"g\",\"logStreamName\":\"%s\",\"logEvents\":[", stream);
    for (int i = 0; i < n; i++)
        off +=
            snprintf(body + off, sizeof body - (size_t)off,
                     "%s{\"timestamp\":%lld,\"message\":\"%s event %d %s\"}", i ? "," : "",
                     (long long)(t0 + (int64_t)i * step), stream, i, i % 3 == 0 ? "ERROR" : "INFO");
    snprintf(body + off, sizeof body - (size_t)off, "]}");
    cJSON *j = call(lg, "PutLogEvents", body);
    CHECK_INT(last_status, 200);
    CHECK(cm_json_str(j, "nextSequenceToken", NULL) != NULL);
    cJSON_Delete(j);
}

static void test_handler_basics(struct sd_logs *lg)
{
    cJSON *j = call(lg, "CreateLogGroup", "{\"logGroupName\":\"g\"}");
    CHECK_INT(last_status, 200);
    cJSON_Delete(j);
    expect_error(lg, "CreateLogGroup", "{\"logGroupName\":\"g\"}",
                 "ResourceAlreadyExistsException");
    expect_error(lg, "CreateLogGroup", "{}", "InvalidParameterException");
    expect_error(lg, "CreateLogStream", "{\"logGroupName\":\"nope\",\"logStreamName\":\"s\"}",
                 "ResourceNotFoundException");
    expect_error(lg, "Bogus", "{}", "UnknownOperationException");
    expect_error(lg, "CreateLogGroup", "[1]", "SerializationException");
    for (int i = 0; i < 3; i++) {
        char b[128];
        snprintf(b, sizeof b, "{\"logGroupName\":\"g\",\"logStreamName\":\"s%d\"}", i);
        cJSON_Delete(call(lg, "CreateLogStream", b));
        CHECK_INT(last_status, 200);
    }
    expect_error(lg, "CreateLogStream", "{\"logGroupName\":\"g\",\"logStreamName\":\"s1\"}",
                 "ResourceAlreadyExistsException");
    expect_error(lg, "PutLogEvents",
                 "{\"logGroupName\":\"g\",\"logStreamName\":\"zz\","
                 "\"logEvents\":[{\"timestamp\":1,\"message\":\"x\"}]}",
                 "ResourceNotFoundException");
    expect_error(lg, "PutLogEvents",
                 "{\"logGroupName\":\"g\",\"logStreamName\":\"s0\","
                 "\"logEvents\":[{\"timestamp\":2,\"message\":\"x\"},{\"timestamp\":1,"
                 "\"message\":\"y\"}]}",
                 "InvalidParameterException");
    expect_error(lg, "PutLogEvents",
                 "{\"logGroupName\":\"g\",\"logStreamName\":\"s0\","
                 "\"logEvents\":[]}",
                 "InvalidParameterException");
    /* too new / too old events are reported, not stored */
    char body[512];
    snprintf(body, sizeof body,
             "{\"logGroupName\":\"g\",\"logStreamName\":\"s2\",\"logEvents\":["
             "{\"timestamp\":%lld,\"message\":\"old\"},{\"timestamp\":%lld,\"message\":\"ok\"},"
             "{\"timestamp\":%lld,\"message\":\"new\"}]}",
             NOW_MS - 20LL * 86400000, NOW_MS, NOW_MS + 3 * 3600000LL);
    j = call(lg, "PutLogEvents", body);
    const cJSON *rej = cJSON_GetObjectItem(j, "rejectedLogEventsInfo");
    CHECK_INT(cm_json_int(rej, "tooOldLogEventEndIndex", -1), 0);
    CHECK_INT(cm_json_int(rej, "tooNewLogEventStartIndex", -1), 2);
    CHECK_INT(sd_logs_stream_events(lg, "g", "s2"), 1);
    cJSON_Delete(j);
    /* s0: 30 events 1 s apart from T; s1: 30 events 1 s apart from T + 500 ms */
    put_events(lg, "s0", NOW_MS - 100000, 30, 1000);
    put_events(lg, "s1", NOW_MS - 100000 + 500, 30, 1000);
}

static void test_describe(struct sd_logs *lg)
{
    for (int i = 0; i < 4; i++) {
        char b[96];
        snprintf(b, sizeof b, "{\"logGroupName\":\"/aws/lambda/fn%d\"}", i);
        cJSON_Delete(call(lg, "CreateLogGroup", b));
    }
    cJSON *j = call(lg, "DescribeLogGroups",
                    "{\"logGroupNamePrefix\":\"/aws/lambda/\","
                    "\"limit\":3}");
    const cJSON *gs = cJSON_GetObjectItem(j, "logGroups");
    CHECK_INT(cJSON_GetArraySize(gs), 3);
    CHECK_STR(cm_json_str(cJSON_GetArrayItem(gs, 0), "logGroupName", ""), "/aws/lambda/fn0");
    CHECK_STR(cm_json_str(cJSON_GetArrayItem(gs, 0), "arn", ""),
              "arn:aws:logs:eu-west-1:000000000000:log-group:/aws/lambda/fn0:*");
    CHECK_INT(cm_json_int(cJSON_GetArrayItem(gs, 0), "creationTime", 0), NOW_MS);
    char b[256];
    snprintf(b, sizeof b,
             "{\"logGroupNamePrefix\":\"/aws/lambda/\",\"limit\":3,\"nextToken\":"
             "\"%s\"}",
             cm_json_str(j, "nextToken", "missing"));
    cJSON_Delete(j);
    j = call(lg, "DescribeLogGroups", b);
    gs = cJSON_GetObjectItem(j, "logGroups");
    CHECK_INT(cJSON_GetArraySize(gs), 1);
    CHECK_STR(cm_json_str(cJSON_GetArrayItem(gs, 0), "logGroupName", ""), "/aws/lambda/fn3");
    CHECK(cJSON_GetObjectItem(j, "nextToken") == NULL);
    cJSON_Delete(j);
    j = call(lg, "DescribeLogGroups", "{}");
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "logGroups")), 5);
    cJSON_Delete(j);
    expect_error(lg, "DescribeLogGroups", "{\"limit\":51}", "InvalidParameterException");
    /* streams by last event time, descending: s1 (its last event is later), s0, s2 */
    j = call(lg, "DescribeLogStreams",
             "{\"logGroupName\":\"g\",\"orderBy\":\"LastEventTime\","
             "\"descending\":true}");
    const cJSON *ss = cJSON_GetObjectItem(j, "logStreams");
    CHECK_INT(cJSON_GetArraySize(ss), 3);
    CHECK_STR(cm_json_str(cJSON_GetArrayItem(ss, 0), "logStreamName", ""), "s2");
    CHECK_STR(cm_json_str(cJSON_GetArrayItem(ss, 1), "logStreamName", ""), "s1");
    CHECK_INT(cm_json_int(cJSON_GetArrayItem(ss, 1), "lastEventTimestamp", 0),
              NOW_MS - 100000 + 500 + 29000);
    CHECK_INT(cm_json_int(cJSON_GetArrayItem(ss, 1), "firstEventTimestamp", 0),
              NOW_MS - 100000 + 500);
    cJSON_Delete(j);
    j = call(lg, "DescribeLogStreams", "{\"logGroupName\":\"g\",\"limit\":2}");
    ss = cJSON_GetObjectItem(j, "logStreams");
    CHECK_INT(cJSON_GetArraySize(ss), 2);
    CHECK_STR(cm_json_str(cJSON_GetArrayItem(ss, 0), "logStreamName", ""), "s0");
    CHECK_STR(cm_json_str(j, "nextToken", ""), "2");
    cJSON_Delete(j);
    expect_error(lg, "DescribeLogStreams",
                 "{\"logGroupName\":\"g\",\"orderBy\":\"LastEventTime\","
                 "\"logStreamNamePrefix\":\"s\"}",
                 "InvalidParameterException");
    expect_error(lg, "DescribeLogStreams", "{\"logGroupName\":\"zz\"}",
                 "ResourceNotFoundException");
}

static int first_event_index(const cJSON *evs)
{
    const char *m = cm_json_str(cJSON_GetArrayItem(evs, 0), "message", "");
    const char *p = strstr(m, "event ");
    return p ? (int)strtol(p + 6, NULL, 10) : -1;
}

static void test_get_events(struct sd_logs *lg)
{
    /* from the tail by default, then backwards with nextBackwardToken */
    cJSON *j = call(lg, "GetLogEvents",
                    "{\"logGroupName\":\"g\",\"logStreamName\":\"s0\","
                    "\"limit\":10}");
    const cJSON *evs = cJSON_GetObjectItem(j, "events");
    CHECK_INT(cJSON_GetArraySize(evs), 10);
    CHECK_INT(first_event_index(evs), 20);
    CHECK_INT(cm_json_int(cJSON_GetArrayItem(evs, 0), "ingestionTime", 0), NOW_MS);
    char b[256], tok[64];
    int expect_first[] = {10, 0};
    for (int k = 0; k < 3; k++) {
        cm_strlcpy(tok, cm_json_str(j, "nextBackwardToken", ""), sizeof tok);
        snprintf(b, sizeof b,
                 "{\"logGroupName\":\"g\",\"logStreamName\":\"s0\",\"limit\":10,"
                 "\"nextToken\":\"%s\"}",
                 tok);
        cJSON_Delete(j);
        j = call(lg, "GetLogEvents", b);
        evs = cJSON_GetObjectItem(j, "events");
        if (k < 2) {
            CHECK_INT(cJSON_GetArraySize(evs), 10);
            CHECK_INT(first_event_index(evs), expect_first[k]);
        } else {
            CHECK_INT(cJSON_GetArraySize(evs), 0);
            CHECK_STR(cm_json_str(j, "nextBackwardToken", ""), tok); /* the end: same token */
        }
    }
    cJSON_Delete(j);
    /* from the head, forwards */
    j = call(lg, "GetLogEvents",
             "{\"logGroupName\":\"g\",\"logStreamName\":\"s0\","
             "\"limit\":10,\"startFromHead\":true}");
    CHECK_INT(first_event_index(cJSON_GetObjectItem(j, "events")), 0);
    int seen = 10;
    for (int k = 0; k < 5; k++) {
        cm_strlcpy(tok, cm_json_str(j, "nextForwardToken", ""), sizeof tok);
        snprintf(b, sizeof b,
                 "{\"logGroupName\":\"g\",\"logStreamName\":\"s0\",\"limit\":10,"
                 "\"nextToken\":\"%s\"}",
                 tok);
        cJSON_Delete(j);
        j = call(lg, "GetLogEvents", b);
        int n = cJSON_GetArraySize(cJSON_GetObjectItem(j, "events"));
        seen += n;
        if (n == 0) {
            CHECK_STR(cm_json_str(j, "nextForwardToken", ""), tok);
            break;
        }
    }
    CHECK_INT(seen, 30);
    cJSON_Delete(j);
    /* time range: [T+5 s, T+8 s) holds events 5, 6, 7 */
    snprintf(b, sizeof b,
             "{\"logGroupName\":\"g\",\"logStreamName\":\"s0\",\"startTime\":%lld,"
             "\"endTime\":%lld,\"startFromHead\":true}",
             NOW_MS - 95000, NOW_MS - 92000);
    j = call(lg, "GetLogEvents", b);
    evs = cJSON_GetObjectItem(j, "events");
    CHECK_INT(cJSON_GetArraySize(evs), 3);
    CHECK_INT(first_event_index(evs), 5);
    cJSON_Delete(j);
    expect_error(lg, "GetLogEvents",
                 "{\"logGroupName\":\"g\",\"logStreamName\":\"s0\","
                 "\"nextToken\":\"zzz\"}",
                 "InvalidParameterException");
    expect_error(lg, "GetLogEvents", "{\"logGroupName\":\"g\",\"logStreamName\":\"nope\"}",
                 "ResourceNotFoundException");
}

static void test_filter_events(struct sd_logs *lg)
{
    /* ERROR events: i % 3 == 0 in s0 and s1 -> 10 each, interleaved by time */
    char ids[32][24];
    int n_ids = 0, pages = 0;
    int64_t prev_ts = 0;
    char tok[64] = "";
    for (; pages < 10; pages++) {
        char b[256];
        snprintf(b, sizeof b,
                 "{\"logGroupName\":\"g\",\"filterPattern\":\"ERROR\",\"limit\":7%s%s%s}",
                 tok[0] ? ",\"nextToken\":\"" : "", tok, tok[0] ? "\"" : "");
        cJSON *j = call(lg, "FilterLogEvents", b);
        CHECK_INT(last_status, 200);
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "events"))
        {
            int64_t ts = cm_json_int(e, "timestamp", 0);
            CHECK(ts >= prev_ts);
            prev_ts = ts;
            CHECK(strstr(cm_json_str(e, "message", ""), "ERROR") != NULL);
            CHECK(cm_json_str(e, "logStreamName", NULL) != NULL);
            if (n_ids < 32)
                cm_strlcpy(ids[n_ids++], cm_json_str(e, "eventId", ""), sizeof ids[0]);
        }
        CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "searchedLogStreams")), 3);
        const char *nt = cm_json_str(j, "nextToken", NULL);
        cm_strlcpy(tok, nt ? nt : "", sizeof tok);
        cJSON_Delete(j);
        if (!nt)
            break;
    }
    CHECK_INT(n_ids, 20);
    int dups = 0;
    for (int a = 0; a < n_ids; a++)
        for (int b2 = a + 1; b2 < n_ids; b2++)
            dups += strcmp(ids[a], ids[b2]) == 0;
    CHECK_INT(dups, 0);
    cJSON *j = call(lg, "FilterLogEvents",
                    "{\"logGroupName\":\"g\",\"logStreamNames\":[\"s1\"],"
                    "\"filterPattern\":\"?ERROR ?ok\"}");
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "events")), 10);
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "searchedLogStreams")), 1);
    cJSON_Delete(j);
    char b[256];
    snprintf(b, sizeof b, "{\"logGroupName\":\"g\",\"startTime\":%lld,\"endTime\":%lld}",
             NOW_MS - 100000, NOW_MS - 97000);
    j = call(lg, "FilterLogEvents", b);
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "events")), 6); /* 3 from each */
    cJSON_Delete(j);
    expect_error(lg, "FilterLogEvents", "{\"logGroupName\":\"g\",\"filterPattern\":\"{ $.a = }\"}",
                 "InvalidParameterException");
    expect_error(lg, "FilterLogEvents", "{\"logGroupName\":\"g\",\"logStreamNames\":[\"x\"]}",
                 "ResourceNotFoundException");
}

static void test_emf(void)
{
    struct sd_logs *lg = sd_logs_new(NULL);
    struct sd_cw *cw = sd_cw_new(NULL);
    sd_logs_set_cw(lg, cw);
    const char *emf = "2024-01-01T00:00:00.000Z\treq-1\t{\"_aws\":{\"Timestamp\":1700000000000,"
                      "\"CloudWatchMetrics\":[{\"Namespace\":\"Orders\",\"Dimensions\":[[\"fn\"]],"
                      "\"Metrics\":[{\"Name\":\"Latency\",\"Unit\":\"Milliseconds\"}]}]},"
                      "\"fn\":\"create\",\"Latency\":[10,20,30]}";
    CHECK_INT(sd_logs_put(lg, "/aws/lambda/create", "s", NOW_MS, emf, strlen(emf), NOW_MS), 0);
    struct sd_dim d = {"fn", "create"};
    double v = 0;
    CHECK_INT(sd_cw_stat(cw, "Orders", "Latency", &d, 1, NOW_MS - 60000, NOW_MS + 60000, "Sum", &v),
              1);
    CHECK_NEAR(v, 60, 1e-9);
    /* plain lines and broken EMF never become metrics */
    CHECK_INT(sd_logs_put(lg, "/aws/lambda/create", "s", NOW_MS, "hello", 5, NOW_MS), 0);
    const char *bad = "{\"_aws\":{\"CloudWatchMetrics\":\"x\"}}";
    CHECK_INT(sd_logs_put(lg, "/aws/lambda/create", "s", NOW_MS, bad, strlen(bad), NOW_MS), 0);
    CHECK_INT(sd_cw_emf_errors(cw), 1);
    CHECK_INT(sd_cw_metric_count(cw), 1);
    /* PutLogEvents feeds EMF too */
    cJSON_Delete(call(lg, "CreateLogStream",
                      "{\"logGroupName\":\"/aws/lambda/create\","
                      "\"logStreamName\":\"api\"}"));
    cJSON *j =
        call(lg, "PutLogEvents",
             "{\"logGroupName\":\"/aws/lambda/create\",\"logStreamName\":\"api\","
             "\"logEvents\":[{\"timestamp\":1700000000000,\"message\":\"{\\\"_aws\\\":{"
             "\\\"Timestamp\\\":1700000000000,\\\"CloudWatchMetrics\\\":[{\\\"Namespace\\\":"
             "\\\"Orders\\\",\\\"Dimensions\\\":[[\\\"fn\\\"]],\\\"Metrics\\\":[{\\\"Name\\\":"
             "\\\"Latency\\\"}]}]},\\\"fn\\\":\\\"create\\\",\\\"Latency\\\":40}\"}]}");
    CHECK_INT(last_status, 200);
    cJSON_Delete(j);
    CHECK_INT(sd_cw_stat(cw, "Orders", "Latency", &d, 1, NOW_MS - 60000, NOW_MS + 60000,
                         "SampleCount", &v),
              1);
    CHECK_NEAR(v, 4, 0);
    sd_logs_free(lg);
    sd_cw_free(cw);
}

int main(void)
{
    test_store();
    test_filters();
    struct sd_logs *lg = sd_logs_new(NULL);
    test_handler_basics(lg);
    test_describe(lg);
    test_get_events(lg);
    test_filter_events(lg);
    sd_logs_free(lg);
    test_emf();
    return TEST_REPORT();
}
