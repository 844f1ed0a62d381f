/* sd_ddb_value_test.c: DynamoDB decimals (parse, compare, add/subtract with 38
 * digits, format, sortable key), base64 and AttributeValue validation. */
#include "harness.h"
#include "sd_ddb_int.h"

#include "cm/err.h"

#include <stdlib.h>
#include <string.h>

static struct sd_ddb_dec D(const char *s) {
    struct sd_ddb_dec d;
    const char *why;
    int rc = sd_ddb_dec_parse(s, strlen(s), &d, &why);
    CHECK_MSG(rc == 0, "parse %s: %d", s, rc);
    return d;
}

static const char *
fmt(const struct sd_ddb_dec *d)
{
    static char buf[4][SD_DDB_DEC_TEXT];
    static int k;
    char *b = buf[k++ & 3];
    sd_ddb_dec_format(d, b, SD_DDB_DEC_TEXT);
    return b;
}

static void test_parse_format(void)
{
    static const char *const v[][2] = {
        {"0", "0"},
        {"-0", "0"},
        {"0.000", "0"},
        {"1.50", "1.5"},
        {"+7", "7"},
        {"007", "7"},
        {".5", "0.5"},
        {"-1e3", "-1000"},
        {"1.23E-2", "0.0123"},
        {"100", "100"},
        {"5.", "5"},
        {"12345678901234567890123456789012345678", "12345678901234567890123456789012345678"},
        {"1e125", "1"
                  "0000000000000000000000000000000000000000000000000000000000000000000000"
                  "0000000000000000000000000000000000000000000000000000000"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct sd_ddb_dec d = D(v[i][0]);
        CHECK_STR(fmt(&d), v[i][1]);
    }
    struct sd_ddb_dec d = D("1e-130");
    CHECK_INT(d.exp, -130);
    const char *why;
    static const char *const bad[] = {"",     "-",  "abc", "1.2.3", "1e",      "1e+",
                                      "0x10", " 1", "1 ",  "NaN",   "Infinity"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_MSG(sd_ddb_dec_parse(bad[i], strlen(bad[i]), &d, &why) == CM_EINVAL, "bad %s",
                  bad[i]);
    CHECK_INT(sd_ddb_dec_parse("123456789012345678901234567890123456789", 39, &d, &why), CM_ERANGE);
    CHECK(strstr(why, "38 significant digits") != NULL);
    CHECK_INT(sd_ddb_dec_parse("1e126", 5, &d, &why), CM_ERANGE);
    CHECK(strstr(why, "overflow") != NULL);
    CHECK_INT(sd_ddb_dec_parse("1e-131", 6, &d, &why), CM_ERANGE);
    CHECK(strstr(why, "underflow") != NULL);
    /* trailing zeros do not count as significant digits */
    CHECK_INT(sd_ddb_dec_parse("1000000000000000000000000000000000000000000", 43, &d, &why), 0);
}

static void test_compare(void)
{
    static const char *const order[] = {"-1e100",
                                        "-100",
                                        "-99.99",
                                        "-1",
                                        "-0.5",
                                        "-0.0001",
                                        "0",
                                        "1e-130",
                                        "0.001",
                                        "0.5",
                                        "1",
                                        "1.000000000000000000000000000000000001",
                                        "2",
                                        "10",
                                        "99.9",
                                        "100",
                                        "12345678901234567890123456789012345678",
                                        "1e125"};
    size_t n = sizeof(order) / sizeof(order[0]);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            struct sd_ddb_dec a = D(order[i]), b = D(order[j]);
            int want = (i > j) - (i < j);
            CHECK_MSG(sd_ddb_dec_cmp(&a, &b) == want, "cmp %s %s", order[i], order[j]);
            unsigned char ka[SD_DDB_DEC_KEY], kb[SD_DDB_DEC_KEY];
            size_t na = sd_ddb_dec_sortkey(&a, ka), nb = sd_ddb_dec_sortkey(&b, kb);
            int c = memcmp(ka, kb, na < nb ? na : nb);
            if (c == 0)
                c = (na > nb) - (na < nb);
            CHECK_MSG(((c > 0) - (c < 0)) == want, "sortkey %s %s", order[i], order[j]);
        }
    }
    struct sd_ddb_dec a = D("1.50"), b = D("1.5");
    CHECK_INT(sd_ddb_dec_cmp(&a, &b), 0);
}

static void test_arith(void)
{
    static const char *const v[][4] = {
        /* a, b, a+b, a-b */
        {"1", "2", "3", "-1"},
        {"0.1", "0.2", "0.3", "-0.1"},
        {"-5", "3", "-2", "-8"},
        {"99999999999999999999999999999999999998", "1", "99999999999999999999999999999999999999",
         "99999999999999999999999999999999999997"},
        {"1e20", "1", "100000000000000000001", "99999999999999999999"},
        {"1.5", "-1.5", "0", "3"},
        {"0", "-7.25", "-7.25", "7.25"},
        {"123.456", "0.544", "124", "122.912"},
    };
    const char *why;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct sd_ddb_dec a = D(v[i][0]), b = D(v[i][1]), r;
        CHECK_INT(sd_ddb_dec_add(&a, &b, &r, &why), 0);
        CHECK_STR(fmt(&r), v[i][2]);
        CHECK_INT(sd_ddb_dec_sub(&a, &b, &r, &why), 0);
        CHECK_STR(fmt(&r), v[i][3]);
    }
    struct sd_ddb_dec a = D("99999999999999999999999999999999999999"), b = D("0.1"), r;
    CHECK_INT(sd_ddb_dec_add(&a, &b, &r, &why), CM_ERANGE); /* 39 digits */
    a = D("9.9999999999999999999999999999999999999e125");
    b = D("1e88");
    CHECK_INT(sd_ddb_dec_add(&a, &b, &r, &why), CM_ERANGE);
    a = D("1e125");
    b = D("1e-129");
    CHECK_INT(sd_ddb_dec_add(&a, &b, &r, &why), CM_ERANGE); /* needs 255 digits */
}

static void test_base64(void)
{
    unsigned char *p;
    size_t n;
    CHECK_INT(sd_ddb_b64_decode("AAEC", 4, &p, &n), 0);
    CHECK(n == 3 && p[0] == 0 && p[1] == 1 && p[2] == 2);
    char *e = sd_ddb_b64_encode(p, n);
    CHECK_STR(e, "AAEC");
    free(e);
    free(p);
    CHECK_INT(sd_ddb_b64_decode("aGk=", 4, &p, &n), 0);
    CHECK(n == 2 && memcmp(p, "hi", 2) == 0);
    free(p);
    CHECK_INT(sd_ddb_b64_decode("a$==", 4, &p, &n), CM_EINVAL);
}

static int check_av(const char *json, char *why)
{
    cJSON *v = cJSON_Parse(json);
    int rc = sd_ddb_av_check(v, why, 512);
    cJSON_Delete(v);
    return rc;
}

static void test_validate(void)
{
    char why[512];
    static const char *const good[] = {
        "{\"S\":\"\"}",
        "{\"N\":\"-1.5e3\"}",
        "{\"B\":\"AAEC\"}",
        "{\"BOOL\":false}",
        "{\"NULL\":true}",
        "{\"M\":{}}",
        "{\"L\":[]}",
        "{\"SS\":[\"a\",\"b\"]}",
        "{\"NS\":[\"1\",\"2\"]}",
        "{\"BS\":[\"AA==\"]}",
        "{\"M\":{\"a\":{\"L\":[{\"N\":\"1\"},{\"M\":{\"b\":{\"NULL\":true}}}]}}}"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECK_MSG(check_av(good[i], why) == 0, "%s: %s", good[i], why);
    CHECK_INT(check_av("{}", why), CM_EINVAL);
    CHECK(strstr(why, "Supplied AttributeValue is empty") != NULL);
    CHECK_INT(check_av("{\"S\":\"a\",\"N\":\"1\"}", why), CM_EINVAL);
    CHECK(strstr(why, "more than one datatypes") != NULL);
    CHECK_INT(check_av("{\"SS\":[]}", why), CM_EINVAL);
    CHECK_STR(why, "One or more parameter values were invalid: An string set  may not be empty");
    CHECK_INT(check_av("{\"NS\":[]}", why), CM_EINVAL);
    CHECK_STR(why, "One or more parameter values were invalid: An number set  may not be empty");
    CHECK_INT(check_av("{\"NS\":[\"1\",\"1.0\"]}", why), CM_EINVAL);
    CHECK(strstr(why, "duplicates") != NULL);
    CHECK_INT(check_av("{\"N\":\"x\"}", why), CM_EINVAL);
    CHECK(strstr(why, "numeric value") != NULL);
    CHECK_INT(check_av("{\"NULL\":false}", why), CM_EINVAL);
    CHECK_INT(check_av("{\"B\":\"***\"}", why), CM_EINVAL);
    CHECK_INT(check_av("{\"X\":\"1\"}", why), CM_EINVAL);
    CHECK_INT(check_av("{\"M\":{\"a\":{}}}", why), CM_EINVAL);
    /* nesting beyond 32 levels */
    char deep[2048];
    size_t k = 0;
    for (int i = 0; i < 40; i++, k += 6)
        memcpy(deep + k, "{\"L\":[", 6);
    memcpy(deep + k, "{\"S\":\"x\"}", 9);
    k += 9;
    for (int i = 0; i < 40; i++, k += 2)
        memcpy(deep + k, "]}", 2);
    deep[k] = '\0';
    CHECK_INT(check_av(deep, why), CM_EINVAL);
    CHECK(strstr(why, "Nesting Levels") != NULL);
    /* canonicalisation */
    cJSON *v = cJSON_Parse("{\"N\":\"001.50\"}");
    CHECK_INT(sd_ddb_av_check(v, why, sizeof(why)), 0);
    CHECK_STR(v->child->valuestring, "1.5");
    cJSON_Delete(v);
}

static void test_equal_size(void)
{
    cJSON *a = cJSON_Parse("{\"SS\":[\"a\",\"b\"]}"), *b = cJSON_Parse("{\"SS\":[\"b\",\"a\"]}");
    CHECK(sd_ddb_av_equal(a, b));
    cJSON_Delete(a);
    cJSON_Delete(b);
    a = cJSON_Parse("{\"N\":\"1\"}");
    b = cJSON_Parse("{\"N\":\"1.0\"}");
    CHECK(sd_ddb_av_equal(a, b));
    cJSON_Delete(b);
    b = cJSON_Parse("{\"S\":\"1\"}");
    CHECK(!sd_ddb_av_equal(a, b));
    int c;
    CHECK_INT(sd_ddb_av_cmp(a, b, &c), CM_EINVAL);
    cJSON_Delete(a);
    cJSON_Delete(b);
    a = cJSON_Parse("{\"L\":[{\"S\":\"x\"},{\"M\":{\"k\":{\"BOOL\":true}}}]}");
    b = cJSON_Parse("{\"L\":[{\"S\":\"x\"},{\"M\":{\"k\":{\"BOOL\":true}}}]}");
    CHECK(sd_ddb_av_equal(a, b));
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON *item =
        cJSON_Parse("{\"name\":{\"S\":\"abcd\"},\"n\":{\"N\":\"123\"},\"ok\":{\"BOOL\":true}}");
    /* name(4) + 4, n(1) + (3+1)/2+1 = 3, ok(2) + 1 */
    CHECK_INT(sd_ddb_item_size(item), 4 + 4 + 1 + 3 + 2 + 1);
    cJSON_Delete(item);
}

int main(void)
{
    test_parse_format();
    test_compare();
    test_arith();
    test_base64();
    test_validate();
    test_equal_size();
    return TEST_REPORT();
}
