/* query_test.c: awsQuery form parsing, typed getters, time parsing and the
 * XML/JSON response writer (cm/query.h). */
#include "cm/buf.h"
#include "cm/err.h"
#include "cm/query.h"
#include "harness.h"

#include <stdlib.h>
#include <string.h>

static cJSON *parse(const char *s)
{
    cJSON *j = NULL;
    const char *why = NULL;
    int rc = cm_query_parse(s, strlen(s), &j, &why);
    CHECK_MSG(rc == 0, "parse '%s': %d %s", s, rc, why ? why : "");
    return j;
}

static void test_cloudwatch_form(void)
{
    cJSON *j = parse("Action=PutMetricData&Version=2010-08-01&Namespace=App"
                     "&MetricData.member.1.MetricName=Latency"
                     "&MetricData.member.1.Dimensions.member.1.Name=Fn"
                     "&MetricData.member.1.Dimensions.member.1.Value=f+1%2Fx"
                     "&MetricData.member.1.Values.member.1=1"
                     "&MetricData.member.1.Values.member.2=2.5"
                     "&MetricData.member.1.Timestamp=2024-01-01T00%3A00%3A00Z"
                     "&MetricData.member.2.MetricName=Errors&MetricData.member.2.Value=3");
    CHECK_STR(cJSON_GetObjectItem(j, "Action")->valuestring, "PutMetricData");
    const cJSON *md = cm_query_get_list(j, "MetricData");
    CHECK(md != NULL);
    CHECK_INT(cJSON_GetArraySize(md), 2);
    const cJSON *m1 = cJSON_GetArrayItem(md, 0);
    const cJSON *dims = cm_query_get_list(m1, "Dimensions");
    CHECK_STR(cJSON_GetObjectItem(cJSON_GetArrayItem(dims, 0), "Value")->valuestring, "f 1/x");
    const cJSON *vals = cm_query_get_list(m1, "Values");
    CHECK_INT(cJSON_GetArraySize(vals), 2);
    CHECK_STR(cJSON_GetArrayItem(vals, 1)->valuestring, "2.5");
    int64_t ms = 0;
    CHECK_INT(cm_query_get_time_ms(m1, "Timestamp", &ms), 1);
    CHECK_INT(ms, 1704067200000LL);
    double v = 0;
    CHECK_INT(cm_query_get_num(cJSON_GetArrayItem(md, 1), "Value", &v), 1);
    CHECK_NEAR(v, 3, 0);
    CHECK_INT(cm_query_get_num(m1, "Value", &v), 0);
    cJSON_Delete(j);
}

static void test_sqs_flattened(void)
{
    cJSON *j = parse("Action=ReceiveMessage&AttributeName.1=All&AttributeName.2=SentTimestamp"
                     "&MessageAttribute.1.Name=a&MessageAttribute.1.Value.StringValue=x+y"
                     "&MessageAttribute.1.Value.DataType=String");
    const cJSON *an = cm_query_get_list(j, "AttributeName");
    CHECK_INT(cJSON_GetArraySize(an), 2);
    CHECK_STR(cJSON_GetArrayItem(an, 1)->valuestring, "SentTimestamp");
    const cJSON *ma = cJSON_GetArrayItem(cm_query_get_list(j, "MessageAttribute"), 0);
    CHECK_STR(cJSON_GetObjectItem(cJSON_GetObjectItem(ma, "Value"), "StringValue")->valuestring,
              "x y");
    cJSON_Delete(j);
    /* out of order and a small gap are fine; later duplicates win */
    j = parse("L.member.3=c&L.member.1=a&X=1&X=2");
    const cJSON *l = cm_query_get_list(j, "L");
    CHECK_INT(cJSON_GetArraySize(l), 3);
    CHECK(cJSON_IsNull(cJSON_GetArrayItem(l, 1)));
    CHECK_STR(cJSON_GetArrayItem(l, 0)->valuestring, "a");
    CHECK_STR(cJSON_GetObjectItem(j, "X")->valuestring, "2");
    cJSON_Delete(j);
}

static void test_parse_errors(void)
{
    static const char *bad[] = {
        "A=%zz",           "A=%4",      "A.member.0=x", "A=1&A.B=2", "A..B=1", "=x",
        "A.member.1000=x", "A.1=x&A=y", "A%00=1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *j = NULL;
        const char *why = NULL;
        int rc = cm_query_parse(bad[i], strlen(bad[i]), &j, &why);
        CHECK_MSG(rc < 0 && j == NULL && why != NULL, "'%s' should fail (rc %d)", bad[i], rc);
    }
    cJSON *j = NULL;
    CHECK_INT(cm_query_parse("A.member.99999=x", 16, &j, NULL), CM_ETOOBIG);
    /* not NUL terminated: only n bytes count */
    CHECK_INT(cm_query_parse("A=1&B=2", 3, &j, NULL), 0);
    CHECK(cJSON_GetObjectItem(j, "B") == NULL);
    cJSON_Delete(j);
}

static void test_getters(void)
{
    cJSON *j = cJSON_Parse("{\"n\":1.5,\"s\":\"2e3\",\"bad\":\"abc\",\"b\":true,\"bs\":\"False\","
                           "\"t\":1704067200.5,\"ts\":\"2024-01-01T01:00:00+01:00\"}");
    double d;
    int b;
    int64_t ms;
    CHECK_INT(cm_query_get_num(j, "n", &d), 1);
    CHECK_NEAR(d, 1.5, 0);
    CHECK_INT(cm_query_get_num(j, "s", &d), 1);
    CHECK_NEAR(d, 2000, 0);
    CHECK_INT(cm_query_get_num(j, "bad", &d), CM_EINVAL);
    CHECK_INT(cm_query_get_bool(j, "b", &b), 1);
    CHECK_INT(b, 1);
    CHECK_INT(cm_query_get_bool(j, "bs", &b), 1);
    CHECK_INT(b, 0);
    CHECK_INT(cm_query_get_time_ms(j, "t", &ms), 1);
    CHECK_INT(ms, 1704067200500LL);
    CHECK_INT(cm_query_get_time_ms(j, "ts", &ms), 1);
    CHECK_INT(ms, 1704067200000LL);
    CHECK_INT(cm_query_get_time_ms(j, "bad", &ms), CM_EINVAL);
    cJSON_Delete(j);
    static const struct {
        const char *s;
        long long ms;
    } times[] = {
        {"2024-01-01T00:00:00Z", 1704067200000LL}, {"2024-01-01T00:00:00.123Z", 1704067200123LL},
        {"2024-01-01 00:00:00", 1704067200000LL},  {"2024-02-29T12:00:00-0130", 1709213400000LL},
        {"1704067200", 1704067200000LL},           {"1970-01-01T00:00:00Z", 0},
        {"1969-12-31T23:59:59Z", -1000},
    };
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        ms = -7;
        CHECK_INT(cm_query_parse_time_ms(times[i].s, strlen(times[i].s), &ms), 0);
        CHECK_MSG(ms == times[i].ms, "%s -> %lld", times[i].s, (long long)ms);
    }
    static const char *bad_times[] = {"2024-13-01T00:00:00Z", "2024-01-01T00:00", "yesterday",
                                      "2024-01-01T00:00:00Q", ""};
    for (size_t i = 0; i < sizeof bad_times / sizeof bad_times[0]; i++)
        CHECK_MSG(cm_query_parse_time_ms(bad_times[i], strlen(bad_times[i]), &ms) == CM_EINVAL,
                  "'%s' should fail", bad_times[i]);
}

static void test_formatting(void)
{
    struct cm_buf b;
    cm_buf_init(&b, 0);
    static const struct {
        double v;
        const char *json, *xml;
    } nums[] = {{10, "10", "10.0"},
                {0.1, "0.1", "0.1"},
                {-2.5, "-2.5", "-2.5"},
                {1e300, "1e+300", "1e+300"},
                {123456.789, "123456.789", "123456.789"}};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        cm_buf_reset(&b);
        cm_query_append_double(&b, nums[i].v, 0);
        CHECK_STR(cm_buf_cstr(&b), nums[i].json);
        cm_buf_reset(&b);
        cm_query_append_double(&b, nums[i].v, 1);
        CHECK_STR(cm_buf_cstr(&b), nums[i].xml);
    }
    cm_buf_reset(&b);
    cm_query_append_iso_ms(&b, 1704067260123LL);
    CHECK_STR(cm_buf_cstr(&b), "2024-01-01T00:01:00.123Z");
    cm_buf_reset(&b);
    cm_query_append_iso_ms(&b, 951782400000LL); /* leap day 2000 */
    CHECK_STR(cm_buf_cstr(&b), "2000-02-29T00:00:00Z");
    cm_buf_reset(&b);
    cm_query_append_xml_text(&b, "a<b>&\"c'", 9);
    CHECK_STR(cm_buf_cstr(&b), "a&lt;b&gt;&amp;&quot;c&apos;");
    cm_buf_deinit(&b);
}

static void write_shape(struct cm_query_out *o)
{
    cm_query_out_str(o, "Label", "Lat<1>");
    cm_query_out_open(o, "Datapoints", CM_QUERY_LIST);
    cm_query_out_open(o, "", CM_QUERY_OBJ);
    cm_query_out_time_ms(o, "Timestamp", 1704067200000LL);
    cm_query_out_num(o, "SampleCount", 4);
    cm_query_out_open(o, "ExtendedStatistics", CM_QUERY_MAP);
    cm_query_out_num(o, "p99", 19.8);
    cm_query_out_close(o);
    cm_query_out_close(o);
    cm_query_out_close(o);
    cm_query_out_open(o, "Values", CM_QUERY_LIST);
    cm_query_out_int(o, "", 1);
    cm_query_out_bool(o, "", 0);
    cm_query_out_close(o);
}

static void test_writer(void)
{
    struct cm_buf b;
    struct cm_query_out o;
    cm_buf_init(&b, 0);
    cm_query_out_begin(&o, &b, CM_QUERY_XML, "GetMetricStatistics", "urn:x", 1);
    write_shape(&o);
    CHECK_INT(cm_query_out_end(&o, "rid-1"), 0);
    CHECK_STR(cm_buf_cstr(&b),
              "<?xml version=\"1.0\"?>\n<GetMetricStatisticsResponse xmlns=\"urn:x\">"
              "<GetMetricStatisticsResult><Label>Lat&lt;1&gt;</Label><Datapoints><member>"
              "<Timestamp>2024-01-01T00:00:00Z</Timestamp><SampleCount>4.0</SampleCount>"
              "<ExtendedStatistics><entry><key>p99</key><value>19.8</value></entry>"
              "</ExtendedStatistics></member></Datapoints><Values><member>1</member>"
              "<member>false</member></Values></GetMetricStatisticsResult><ResponseMetadata>"
              "<RequestId>rid-1</RequestId></ResponseMetadata></GetMetricStatisticsResponse>");
    cm_buf_reset(&b);
    cm_query_out_begin(&o, &b, CM_QUERY_JSON, "GetMetricStatistics", "urn:x", 1);
    write_shape(&o);
    CHECK_INT(cm_query_out_end(&o, "rid-1"), 0);
    CHECK_STR(cm_buf_cstr(&b), "{\"Label\":\"Lat<1>\",\"Datapoints\":[{\"Timestamp\":1704067200,"
                               "\"SampleCount\":4,\"ExtendedStatistics\":{\"p99\":19.8}}],"
                               "\"Values\":[1,false]}");
    cJSON *back = cJSON_Parse(cm_buf_cstr(&b));
    CHECK(back != NULL);
    cJSON_Delete(back);
    /* no result wrapper */
    cm_buf_reset(&b);
    cm_query_out_begin(&o, &b, CM_QUERY_XML, "PutMetricData", "urn:x", 0);
    CHECK_INT(cm_query_out_end(&o, "r"), 0);
    CHECK_STR(cm_buf_cstr(&b), "<?xml version=\"1.0\"?>\n<PutMetricDataResponse xmlns=\"urn:x\">"
                               "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"
                               "</PutMetricDataResponse>");
    /* misuse is reported, not a crash */
    cm_buf_reset(&b);
    cm_query_out_begin(&o, &b, CM_QUERY_JSON, "X", "", 1);
    cm_query_out_close(&o);
    CHECK_INT(cm_query_out_end(&o, "r"), CM_ESTATE);
    /* bounded buffer */
    struct cm_buf small;
    cm_buf_init(&small, 16);
    cm_query_out_begin(&o, &small, CM_QUERY_XML, "GetMetricData", "urn:x", 1);
    CHECK_INT(cm_query_out_end(&o, "r"), CM_ETOOBIG);
    cm_buf_deinit(&small);
    cm_buf_reset(&b);
    cm_query_error_body(&b, CM_QUERY_XML, "urn:x", 1, "InvalidParameterValue", "T", "bad & worse",
                        "r");
    CHECK_STR(cm_buf_cstr(&b), "<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"urn:x\"><Error>"
                               "<Type>Sender</Type><Code>InvalidParameterValue</Code><Message>bad "
                               "&amp; worse</Message><Detail/></Error><RequestId>r</RequestId>"
                               "</ErrorResponse>");
    cm_buf_reset(&b);
    cm_query_error_body(&b, CM_QUERY_JSON, "", 1, "C", "ns#Shape", "m\"", "r");
    CHECK_STR(cm_buf_cstr(&b), "{\"__type\":\"ns#Shape\",\"message\":\"m\\\"\"}");
    cm_buf_deinit(&b);
}

int main(void)
{
    test_cloudwatch_form();
    test_sqs_flattened();
    test_parse_errors();
    test_getters();
    test_formatting();
    test_writer();
    return TEST_REPORT();
}
