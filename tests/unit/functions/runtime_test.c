/* runtime_test.c: the pure parts of the runtime: error bodies and the
 * error-type header rule, remaining time, base64 (RFC 4648 section 10
 * vectors) and the correlation id read from each kind of event. The loop
 * itself is tested against a Runtime API server in
 * tests/integration/runtime_api/. */
#include "harness.h"
#include "rt.h"

#include "cm/err.h"
#include "cm/json.h"

static void test_error(void)
{
    struct rt_error err = {{0}, {0}};
    struct cm_buf out;
    cm_buf_init(&out, 0);
    rt_error_set(&err, "ValidationError", "bad %s \"%d\"", "qty", 5);
    CHECK_INT(rt_error_body(&err, &out), 0);
    CHECK_STR(cm_buf_cstr(&out), "{\"errorMessage\":\"bad qty \\\"5\\\"\",\"errorType\":"
                                 "\"ValidationError\",\"stackTrace\":[]}");
    CHECK_STR(rt_error_header_type(&err, "Function.Unhandled"), "Function.Unhandled");
    rt_error_set(&err, "Runtime.NoSuchHandler", "x");
    CHECK_STR(rt_error_header_type(&err, "Function.Unhandled"), "Runtime.NoSuchHandler");
    rt_error_set(&err, "Function.ResponseSizeTooLarge", "x");
    CHECK_STR(rt_error_header_type(&err, "F"), "Function.ResponseSizeTooLarge");
    const char *bad[] = {"Function.",
                         "Function.lower",
                         "Runtime.Has.Dot",
                         "Runtime.Digit1",
                         "Other.Thing",
                         "Runtime.A b",
                         ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rt_error_set(&err, bad[i], "x");
        CHECK_MSG(strcmp(rt_error_header_type(&err, "Function.Unhandled"), "Function.Unhandled") ==
                      0,
                  "'%s' must not be used as the header", bad[i]);
    }
    CHECK_STR(rt_error_header_type(NULL, "Runtime.InitError"), "Runtime.InitError");
    rt_error_set(&err, NULL, "%s", "");
    cm_buf_reset(&out);
    rt_error_body(&err, &out);
    CHECK_STR(cm_buf_cstr(&out),
              "{\"errorMessage\":\"\",\"errorType\":\"Error\",\"stackTrace\":[]}");
    /* Long messages are cut, never overflow. */
    char longmsg[3000];
    memset(longmsg, 'm', sizeof longmsg - 1);
    longmsg[sizeof longmsg - 1] = '\0';
    rt_error_set(&err, longmsg, "%s", longmsg);
    CHECK_INT(strlen(err.type), RT_ERROR_TYPE_MAX - 1);
    CHECK_INT(strlen(err.message), RT_ERROR_MESSAGE_MAX - 1);
    cm_buf_deinit(&out);
}

static void test_remaining(void)
{
    struct rt_invocation inv = {.deadline_ms = 1795331583000LL};
    CHECK_INT(rt_remaining_ms_at(&inv, 1795331580000LL), 3000);
    CHECK_INT(rt_remaining_ms_at(&inv, 1795331584000LL), -1000);
    inv.deadline_ms = 0;
    CHECK(rt_remaining_ms_at(&inv, 1) == INT64_MAX);
    CHECK(rt_remaining_ms(NULL) == INT64_MAX);
    inv.deadline_ms = 1;
    CHECK(rt_remaining_ms(&inv) < 0); /* the wall clock is past 1970 */
}

static void b64_roundtrip(const char *plain, const char *encoded)
{
    struct cm_buf out;
    cm_buf_init(&out, 0);
    CHECK_INT(rt_base64_encode(plain, strlen(plain), &out), 0);
    CHECK_STR(cm_buf_cstr(&out), encoded);
    cm_buf_reset(&out);
    CHECK_INT(rt_base64_decode(encoded, strlen(encoded), &out), 0);
    CHECK_STR(cm_buf_cstr(&out), plain);
    CHECK_INT(out.len, strlen(plain));
    cm_buf_deinit(&out);
}

static void test_base64(void)
{
    /* RFC 4648 section 10. */
    b64_roundtrip("", "");
    b64_roundtrip("f", "Zg==");
    b64_roundtrip("fo", "Zm8=");
    b64_roundtrip("foo", "Zm9v");
    b64_roundtrip("foob", "Zm9vYg==");
    b64_roundtrip("fooba", "Zm9vYmE=");
    b64_roundtrip("foobar", "Zm9vYmFy");
    struct cm_buf out;
    cm_buf_init(&out, 0);
    CHECK_INT(rt_base64_decode("Zm9vYg", 6, &out), 0); /* padding optional */
    CHECK_STR(cm_buf_cstr(&out), "foob");
    const char *bad[] = {"Z", "Zm9vY", "Zm 9v", "Zm9v\n", "Zm9=v", "Zg===", "Zm9v!A==", "=Zg="};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cm_buf_reset(&out);
        cm_buf_puts(&out, "keep");
        CHECK_MSG(rt_base64_decode(bad[i], strlen(bad[i]), &out) == CM_EPARSE, "'%s' accepted",
                  bad[i]);
        CHECK_STR(cm_buf_cstr(&out), "keep");
    }
    /* All byte values survive. */
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    struct cm_buf enc;
    cm_buf_init(&enc, 0);
    CHECK_INT(rt_base64_encode(all, sizeof all, &enc), 0);
    cm_buf_reset(&out);
    CHECK_INT(rt_base64_decode(enc.data, enc.len, &out), 0);
    CHECK(out.len == 256 && memcmp(out.data, all, 256) == 0);
    cm_buf_deinit(&enc);
    cm_buf_deinit(&out);
}

static void corr_of(const char *json, int want_rc, const char *want)
{
    cJSON *j = cm_json_parse(json, strlen(json));
    char out[RT_CORR_ID_MAX];
    CHECK_MSG(rt_event_correlation_id(j, out, sizeof out) == want_rc, "%s", json);
    CHECK_STR(out, want);
    cJSON_Delete(j);
}

static void test_correlation(void)
{
    corr_of("{\"headers\":{\"x-correlation-id\":\"a\"}}", 1, "a");
    corr_of("{\"headers\":{\"X-CORRELATION-ID\":\"b\"}}", 1, "b");
    corr_of("{\"headers\":{\"x-correlation-id\":5}}", 0, "");
    corr_of("{\"headers\":{\"x-correlation-id\":\"\"}}", 0, "");
    corr_of("{\"Records\":[{\"messageAttributes\":{\"correlation_id\":{\"stringValue\":\"c\"}}},"
            "{\"messageAttributes\":{\"correlation_id\":{\"stringValue\":\"d\"}}}]}",
            1, "c");
    corr_of("{\"Records\":[]}", 0, "");
    corr_of("{\"correlation_id\":\"e\"}", 1, "e");
    corr_of("{\"correlationId\":\"f\"}", 1, "f");
    corr_of("[]", 0, "");
    corr_of("\"x-correlation-id\"", 0, "");
    char out[4] = "zzz";
    CHECK_INT(rt_event_correlation_id(NULL, out, sizeof out), 0);
    CHECK_STR(out, "");
    /* Cut to the buffer. */
    const char *ev = "{\"headers\":{\"x-correlation-id\":\"abcdef\"}}";
    cJSON *j = cm_json_parse(ev, strlen(ev));
    CHECK_INT(rt_event_correlation_id(j, out, sizeof out), 1);
    CHECK_STR(out, "abc");
    cJSON_Delete(j);
}

int main(void)
{
    test_error();
    test_remaining();
    test_base64();
    test_correlation();
    return TEST_REPORT();
}
