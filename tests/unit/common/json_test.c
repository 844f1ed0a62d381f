/* Unit tests for the cm_json helpers: strict parsing of (pointer, length)
 * input, getters on nested objects with missing keys and wrong types, numbers
 * that are not finite or do not fit an int64, and output that is always
 * valid JSON (no NaN, escapes round-trip, bounded buffers left unchanged). */
#include "harness.h"

#include "cm/buf.h"
#include "cm/err.h"
#include "cm/json.h"

#include <math.h>
#include <stdlib.h>

#define PARSE(s) cm_json_parse((s), strlen(s))

static int parses(const char *s)
{
    cJSON *j = PARSE(s);
    cJSON_Delete(j);
    return j != NULL;
}

static void test_parse_strict(void)
{
    CHECK(parses("{}"));
    CHECK(parses("[1,2,3]"));
    CHECK(parses("  {\"a\":1}\r\n\t "));
    CHECK(parses("\"just a string\""));
    CHECK(parses("0"));
    /* One JSON text, nothing after it but whitespace. */
    CHECK(!parses("{}x"));
    CHECK(!parses("1 2"));
    CHECK(!parses("{} {}"));
    CHECK(!parses("[1] ,"));
    /* Malformed. */
    static const char *const bad[] = {"",        "   ",        "{",   "[1,]",      "{\"a\":}",
                                      "{'a':1}", "\"abc",      "nul", "{\"a\" 1}", "[1 2]",
                                      "tru",     "{\"a\":1,}", "01x", "-",         "1e"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(!parses(bad[i]), "accepted malformed JSON \"%s\"", bad[i]);
    CHECK(cm_json_parse(NULL, 0) == NULL);
    /* Only n bytes are read: the input need not be NUL terminated. */
    const char *buf = "{\"a\":1}ZZZ";
    cJSON *j = cm_json_parse(buf, 7);
    CHECK(j != NULL);
    CHECK_INT(cm_json_int(j, "a", -1), 1);
    cJSON_Delete(j);
    CHECK(cm_json_parse(buf, 6) == NULL);
    CHECK(cm_json_parse(buf, 8) == NULL);
    /* A NUL inside the length is not whitespace. */
    CHECK(cm_json_parse("{}\0", 3) == NULL);
}

static const char *const doc =
    "{\"name\":\"fn\",\"n\":42,\"neg\":-7,\"f\":2.5,\"exp\":1.5e3,\"big\":1e400,\"nbig\":-1e400,"
    "\"t\":true,\"fa\":false,\"nil\":null,\"s5\":\"5\",\"arr\":[1,2],"
    "\"a\":{\"b\":{\"c\":\"deep\",\"d\":9,\"e\":[{\"x\":1}]}},"
    "\"i53\":9007199254740992,\"i34\":12345678901,\"imin\":-9223372036854775808,"
    "\"imax\":9223372036854775807,\"i19\":1e19,\"frac\":2.9,\"nfrac\":-2.9,"
    "\"Case\":1,\"uni\":\"caf\\u00e9 \\ud83d\\ude00\"}";

static void test_getters_types(void)
{
    cJSON *j = PARSE(doc);
    CHECK(j != NULL);
    if (!j)
        return;
    /* Strings: present, missing, wrong type, null. */
    CHECK_STR(cm_json_str(j, "name", "fb"), "fn");
    CHECK_STR(cm_json_str(j, "missing", "fb"), "fb");
    CHECK_STR(cm_json_str(j, "n", "fb"), "fb");
    CHECK_STR(cm_json_str(j, "nil", "fb"), "fb");
    CHECK_STR(cm_json_str(j, "arr", "fb"), "fb");
    CHECK(cm_json_str(j, "missing", NULL) == NULL);
    CHECK_STR(cm_json_str(j, "uni", ""), "caf\xc3\xa9 \xf0\x9f\x98\x80");
    /* Keys are case-sensitive. */
    CHECK_INT(cm_json_int(j, "Case", -1), 1);
    CHECK_INT(cm_json_int(j, "case", -1), -1);
    /* Numbers. */
    CHECK_NEAR(cm_json_num(j, "n", -1), 42, 0);
    CHECK_NEAR(cm_json_num(j, "f", -1), 2.5, 0);
    CHECK_NEAR(cm_json_num(j, "exp", -1), 1500, 0);
    CHECK_NEAR(cm_json_num(j, "s5", -1), -1, 0);
    CHECK_NEAR(cm_json_num(j, "t", -1), -1, 0);
    CHECK_NEAR(cm_json_num(j, "nil", -1), -1, 0);
    CHECK_NEAR(cm_json_num(j, "missing", 0.25), 0.25, 0);
    /* Overflowing literals would be infinite: never returned. */
    CHECK(isfinite(cm_json_num(j, "big", -1)));
    CHECK_NEAR(cm_json_num(j, "big", -1), -1, 0);
    CHECK_NEAR(cm_json_num(j, "nbig", -1), -1, 0);
    /* Booleans. */
    CHECK_INT(cm_json_bool(j, "t", -1), 1);
    CHECK_INT(cm_json_bool(j, "fa", -1), 0);
    CHECK_INT(cm_json_bool(j, "n", -1), -1);
    CHECK_INT(cm_json_bool(j, "s5", -1), -1);
    CHECK_INT(cm_json_bool(j, "nil", -1), -1);
    CHECK_INT(cm_json_bool(j, "missing", 7), 7);
    cJSON_Delete(j);
}

static void test_getters_ints(void)
{
    cJSON *j = PARSE(doc);
    CHECK(j != NULL);
    if (!j)
        return;
    CHECK_INT(cm_json_int(j, "n", -1), 42);
    CHECK_INT(cm_json_int(j, "neg", -1), -7);
    /* Past INT_MAX (cJSON's valueint saturates there). */
    CHECK_INT(cm_json_int(j, "i34", -1), 12345678901LL);
    CHECK_INT(cm_json_int(j, "i53", -1), 9007199254740992LL);
    CHECK_INT(cm_json_int(j, "imin", -1), INT64_MIN);
    /* 2^63 - 1 is 2^63 as a double: out of range, as are 1e19 and 1e400. */
    CHECK_INT(cm_json_int(j, "imax", -1), -1);
    CHECK_INT(cm_json_int(j, "i19", -1), -1);
    CHECK_INT(cm_json_int(j, "big", -1), -1);
    CHECK_INT(cm_json_int(j, "nbig", -1), -1);
    /* Fractions truncate toward zero. */
    CHECK_INT(cm_json_int(j, "frac", -1), 2);
    CHECK_INT(cm_json_int(j, "nfrac", -1), -2);
    CHECK_INT(cm_json_int(j, "s5", -1), -1);
    CHECK_INT(cm_json_int(j, "t", -1), -1);
    CHECK_INT(cm_json_int(j, "missing", 5), 5);
    cJSON_Delete(j);

    /* Values built in code rather than parsed: NaN and infinities. */
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "nan", NAN);
    cJSON_AddNumberToObject(o, "inf", INFINITY);
    cJSON_AddNumberToObject(o, "ninf", -INFINITY);
    static const char *const keys[] = {"nan", "inf", "ninf"};
    for (int i = 0; i < 3; i++) {
        CHECK_INT(cm_json_int(o, keys[i], 3), 3);
        CHECK_NEAR(cm_json_num(o, keys[i], 3), 3, 0);
    }
    cJSON_Delete(o);
}

static void test_nested(void)
{
    cJSON *j = PARSE(doc);
    CHECK(j != NULL);
    if (!j)
        return;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "a");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(a, "b");
    CHECK_STR(cm_json_str(b, "c", "fb"), "deep");
    CHECK_INT(cm_json_int(b, "d", -1), 9);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(b, "e");
    CHECK_INT(cm_json_int(cJSON_GetArrayItem(e, 0), "x", -1), 1);
    CHECK_INT(cm_json_int(cJSON_GetArrayItem(e, 1), "x", -1), -1);
    /* A key one level too shallow or deep is missing, not found elsewhere. */
    CHECK_STR(cm_json_str(j, "c", "fb"), "fb");
    CHECK_STR(cm_json_str(a, "c", "fb"), "fb");
    /* A missing intermediate object: getters take NULL and fall back. */
    const cJSON *nope = cJSON_GetObjectItemCaseSensitive(j, "nope");
    CHECK(nope == NULL);
    const cJSON *deeper = cJSON_GetObjectItemCaseSensitive(nope, "b");
    CHECK_STR(cm_json_str(deeper, "c", "fb"), "fb");
    CHECK_INT(cm_json_int(NULL, "d", 11), 11);
    CHECK_NEAR(cm_json_num(NULL, "d", 1.5), 1.5, 0);
    CHECK_INT(cm_json_bool(NULL, "d", 1), 1);
    /* Lookups on something that is not an object. */
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "arr");
    CHECK_INT(cm_json_int(arr, "0", -1), -1);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
    CHECK_STR(cm_json_str(name, "name", "fb"), "fb");
    cJSON_Delete(j);
}

/* Serialised numbers are always valid JSON: NaN and infinities print as
 * null, large integers keep their digits up to 2^53. */
static void test_append_numbers(void)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "nan", NAN);
    cJSON_AddNumberToObject(o, "inf", INFINITY);
    cJSON_AddNumberToObject(o, "ms", 1763796000123.0);
    cJSON_AddNumberToObject(o, "p53", 9007199254740992.0);
    cJSON_AddNumberToObject(o, "i16", 1234567890123456.0);
    cJSON_AddNumberToObject(o, "neg", -12345678901.0);
    cJSON_AddNumberToObject(o, "half", 0.5);
    struct cm_buf b;
    cm_buf_init(&b, 0);
    CHECK_INT(cm_json_append(&b, o), 0);
    CHECK(strstr(cm_buf_cstr(&b), ":nan") == NULL && strstr(cm_buf_cstr(&b), "NaN") == NULL);
    CHECK(strstr(cm_buf_cstr(&b), ":inf") == NULL);
    CHECK(strstr(cm_buf_cstr(&b), "\"nan\":null") != NULL);
    CHECK(strstr(cm_buf_cstr(&b), "\"inf\":null") != NULL);
    cJSON *back = cm_json_parse(b.data, b.len);
    CHECK(back != NULL);
    CHECK_INT(cm_json_int(back, "ms", -1), 1763796000123LL);
    CHECK_INT(cm_json_int(back, "p53", -1), 9007199254740992LL);
    CHECK_INT(cm_json_int(back, "i16", -1), 1234567890123456LL);
    CHECK_INT(cm_json_int(back, "neg", -1), -12345678901LL);
    CHECK_NEAR(cm_json_num(back, "half", -1), 0.5, 0);
    CHECK_NEAR(cm_json_num(back, "nan", -1), -1, 0); /* null, not a number */
    cJSON_Delete(back);
    cJSON_Delete(o);
    cm_buf_deinit(&b);
}

static void test_append_bounds(void)
{
    cJSON *o = PARSE("{\"key\":\"a fairly long value\"}");
    struct cm_buf b;
    cm_buf_init(&b, 12);
    CHECK_INT(cm_buf_puts(&b, "ab"), 0);
    CHECK_INT(cm_json_append(&b, o), CM_ETOOBIG);
    CHECK_STR(cm_buf_cstr(&b), "ab");
    CHECK_INT(b.len, 2);
    CHECK_INT(cm_json_append(&b, NULL), CM_EINVAL);
    cJSON_Delete(o);

    /* The raw length fits but the escapes (14 bytes) do not: nothing is
     * appended. */
    CHECK_INT(cm_json_append_string(&b, "\x01\x02", 2), CM_ETOOBIG);
    CHECK_STR(cm_buf_cstr(&b), "ab");
    CHECK_INT(b.len, 2);
    CHECK_INT(cm_json_append_string(&b, "0123456789abcdef", 16), CM_ETOOBIG);
    CHECK_INT(b.len, 2);
    CHECK_INT(cm_json_append_string(&b, "\"x\"", 3), 0);
    CHECK_STR(cm_buf_cstr(&b), "ab\"\\\"x\\\"\"");
    cm_buf_deinit(&b);
}

/* Every byte value below 0x80 survives cm_json_append_string and a parse. */
static void test_append_string_round_trip(void)
{
    char raw[128];
    for (int i = 0; i < 127; i++)
        raw[i] = (char)(i + 1);
    struct cm_buf b;
    cm_buf_init(&b, 0);
    CHECK_INT(cm_buf_puts(&b, "{\"s\":"), 0);
    CHECK_INT(cm_json_append_string(&b, raw, 127), 0);
    CHECK_INT(cm_buf_puts(&b, ",\"t\":"), 0);
    CHECK_INT(cm_json_append_string(&b, "caf\xc3\xa9\n\r\t", 8), 0);
    CHECK_INT(cm_buf_puts(&b, ",\"e\":"), 0);
    CHECK_INT(cm_json_append_string(&b, "", 0), 0);
    CHECK_INT(cm_buf_putc(&b, '}'), 0);
    CHECK(strstr(b.data, "\\n\\r\\t") != NULL);
    CHECK(strstr(b.data, "\\u0001") != NULL);
    cJSON *j = cm_json_parse(b.data, b.len);
    CHECK(j != NULL);
    const char *s = cm_json_str(j, "s", "");
    CHECK_INT(strlen(s), 127);
    CHECK(memcmp(s, raw, 127) == 0);
    CHECK_STR(cm_json_str(j, "t", ""), "caf\xc3\xa9\n\r\t");
    CHECK_STR(cm_json_str(j, "e", "fb"), "");
    cJSON_Delete(j);

    /* A NUL inside the length is escaped, not a terminator. */
    cm_buf_reset(&b);
    CHECK_INT(cm_json_append_string(&b, "a\0b", 3), 0);
    CHECK_STR(cm_buf_cstr(&b), "\"a\\u0000b\"");
    cm_buf_deinit(&b);
}

/* Regression: cJSON's printer turned 9007199254740991 into
 * 9.00719925474099e+15 and 5000000000000001 into 5e+15. */
static void test_append_number_precision(void)
{
    static const struct {
        double d;
        const char *text;
    } cases[] = {
        {9007199254740991.0, "9007199254740991"},
        {5000000000000001.0, "5000000000000001"},
        {9007199254740992.0, "9007199254740992"},
        {-9223372036854775808.0, "-9223372036854775808"},
        {1e19, "1e+19"},
        {1e300, "1e+300"},
        {0.1, "0.1"},
        {-2.5, "-2.5"},
        {1.0 / 3.0, "0.3333333333333333"},
        {0.0, "0"},
        {-0.0, "0"},
        {1e-7, "1e-07"},
    };
    struct cm_buf b;
    cm_buf_init(&b, 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *n = cJSON_CreateNumber(cases[i].d);
        cm_buf_reset(&b);
        CHECK_INT(cm_json_append(&b, n), 0);
        CHECK_STR(cm_buf_cstr(&b), cases[i].text);
        /* Reads back as the same double. */
        cJSON *back = cm_json_parse(b.data, b.len);
        CHECK(back && cJSON_IsNumber(back) && back->valuedouble == cases[i].d);
        cJSON_Delete(back);
        cJSON_Delete(n);
    }
    cm_buf_deinit(&b);
}

/* For ordinary documents the output is what cJSON_PrintUnformatted gives. */
static void test_append_matches_cjson(void)
{
    const char *src = "{\"a\":[1,2.5,-3,true,false,null,\"s\\\"q\\n\",{}],\"b\":{\"c\":[],"
                      "\"d\":{\"e\":\"caf\u00e9\"}},\"\":0,\"t\\u0001\":1e+300}";
    cJSON *j = PARSE(src);
    CHECK(j != NULL);
    struct cm_buf b;
    cm_buf_init(&b, 0);
    CHECK_INT(cm_json_append(&b, j), 0);
    char *ref = cJSON_PrintUnformatted(j);
    CHECK_STR(cm_buf_cstr(&b), ref);
    cJSON_free(ref);
    cJSON_Delete(j);

    /* Raw items are copied; nesting past 1000 levels is refused whole. */
    cJSON *o = cJSON_CreateObject();
    cJSON_AddRawToObject(o, "raw", "[1, 2]");
    cm_buf_reset(&b);
    CHECK_INT(cm_json_append(&b, o), 0);
    CHECK_STR(cm_buf_cstr(&b), "{\"raw\":[1, 2]}");
    cJSON_Delete(o);
    cJSON *deep = cJSON_CreateArray(), *cur = deep;
    for (int i = 0; i < 1100; i++) {
        cJSON *next = cJSON_CreateArray();
        cJSON_AddItemToArray(cur, next);
        cur = next;
    }
    cm_buf_reset(&b);
    CHECK_INT(cm_buf_puts(&b, "x"), 0);
    CHECK_INT(cm_json_append(&b, deep), CM_EINVAL);
    CHECK_STR(cm_buf_cstr(&b), "x");
    cJSON_Delete(deep);
    cm_buf_deinit(&b);
}

int main(void)
{
    test_parse_strict();
    test_getters_types();
    test_getters_ints();
    test_nested();
    test_append_numbers();
    test_append_number_precision();
    test_append_matches_cjson();
    test_append_bounds();
    test_append_string_round_trip();
    return TEST_REPORT();
}
