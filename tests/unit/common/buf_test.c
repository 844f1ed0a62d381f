/* Unit tests for cm_buf, cm_err, cm_mem and cm_json string escaping. */
#include "harness.h"

#include "cm/buf.h"
#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"

#include <stdlib.h>

static void test_growth_and_max(void)
{
    struct cm_buf b;
    cm_buf_init(&b, 10);
    CHECK_STR(cm_buf_cstr(&b), "");
    CHECK_INT(cm_buf_puts(&b, "hello"), 0);
    CHECK_INT(cm_buf_printf(&b, "%d", 12345), 0);
    CHECK_STR(cm_buf_cstr(&b), "hello12345");
    /* Passing the maximum fails and leaves the buffer unchanged. */
    CHECK_INT(cm_buf_putc(&b, 'x'), CM_ETOOBIG);
    CHECK_INT(b.len, 10);
    CHECK_STR(cm_buf_cstr(&b), "hello12345");
    cm_buf_reset(&b);
    CHECK_INT(b.len, 0);
    CHECK_INT(cm_buf_printf(&b, "%s", "0123456789abc"), CM_ETOOBIG);
    size_t n;
    char *s = cm_buf_steal(&b, &n);
    CHECK_INT(n, 0);
    free(s);
    cm_buf_deinit(&b);
    cm_buf_deinit(NULL);
}

static void test_long_printf(void)
{
    struct cm_buf b;
    cm_buf_init(&b, 0);
    char big[1000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK_INT(cm_buf_printf(&b, "[%s]", big), 0);
    CHECK_INT(b.len, 1001);
    CHECK(b.data[0] == '[' && b.data[1000] == ']' && b.data[1001] == '\0');
    cm_buf_deinit(&b);
}

static void test_json_string(void)
{
    struct cm_buf b;
    cm_buf_init(&b, 0);
    CHECK_INT(cm_json_append_string(&b, "a\"b\\c\n\x01", 7), 0);
    CHECK_STR(cm_buf_cstr(&b), "\"a\\\"b\\\\c\\n\\u0001\"");
    cm_buf_deinit(&b);
    cJSON *j = cm_json_parse("{\"a\":\"x\",\"n\":12345678901}", 25);
    CHECK(j != NULL);
    CHECK_STR(cm_json_str(j, "a", NULL), "x");
    CHECK_INT(cm_json_int(j, "n", 0), 12345678901LL);
    CHECK_STR(cm_json_str(j, "n", "fb"), "fb");
    cJSON_Delete(j);
}

static void test_err_and_strlcpy(void)
{
    CHECK_STR(cm_strerror(CM_ETOOBIG), "too big");
    CHECK_STR(cm_strerror(-999), "unknown error");
    char d[4];
    CHECK_INT(cm_strlcpy(d, "abcdef", sizeof d), 6);
    CHECK_STR(d, "abc");
    char *s = cm_xstrndup("xyz123", 3);
    CHECK_STR(s, "xyz");
    free(s);
}

int main(void)
{
    test_growth_and_max();
    test_long_printf();
    test_json_string();
    test_err_and_strlcpy();
    return TEST_REPORT();
}
