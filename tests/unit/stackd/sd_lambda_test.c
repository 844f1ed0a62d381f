/* Unit tests for the Lambda platform formatting helpers (sd_lambda.c). */
#include "harness.h"
#include "sd_lambda.h"
#include "sd_stack.h"

#include <string.h>

/* Function lookup by name, partial ARN and ARN, as Invoke's path allows. */
static void test_find(void)
{
    static const char y[] = "functions:\n  hello: {bootstrap: /nonexistent/b}\n"
                            "  other: {bootstrap: /nonexistent/o, memory_mb: 512}\n";
    struct sd_stack *st = NULL;
    struct sd_lambda *l = NULL;
    struct sd_lambda_config lc = {0};
    char err[256];
    CHECK_INT(sd_stack_parse(y, strlen(y), "t.yaml", "/", &st, err, sizeof(err)), 0);
    CHECK_INT(sd_lambda_new(NULL, st, &lc, NULL, &l), 0);
    const char *forms[] = {"hello", "000000000000:function:hello",
                           "arn:aws:lambda:us-east-1:000000000000:function:hello",
                           "arn:aws:lambda:us-east-1:000000000000:function:hello:$LATEST"};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        struct sd_fn *fn = sd_lambda_find(l, forms[i], strlen(forms[i]));
        CHECK_MSG(fn && strcmp(sd_fn_config(fn)->name, "hello") == 0, "find(%s)", forms[i]);
    }
    CHECK(sd_lambda_find(l, "hell", 4) == NULL);
    CHECK(sd_lambda_find(l, "hello:1", 7) == NULL); /* versions are not emulated */
    struct sd_fn *o = sd_lambda_find(l, "other", 5);
    CHECK(o && sd_fn_config(o)->memory_mb == 512);
    char arn[200];
    sd_fn_arn(l, o, arn, sizeof(arn));
    CHECK_STR(arn, "arn:aws:lambda:us-east-1:000000000000:function:other");
    CHECK_INT(sd_lambda_count(l), 2);
    CHECK_INT(sd_lambda_inflight(l), 0);
    CHECK_INT(strlen(sd_fn_config(o)->last_modified), 28); /* 2026-11-22T07:00:00.000+0000 */
    sd_lambda_free(l);
    sd_stack_free(st);
}

int main(void)
{
    char out[512];
    /* Warm: no Init Duration; Billed Duration is ceil(ms). */
    sd_lambda_format_report(out, sizeof(out), "bf5f58db-ef7d-4cb2-b3c6-266eba1bbedb", 395.99, 512,
                            301, -1.0, 0);
    CHECK_STR(out, "REPORT RequestId: bf5f58db-ef7d-4cb2-b3c6-266eba1bbedb\tDuration: 395.99 ms\t"
                   "Billed Duration: 396 ms\tMemory Size: 512 MB\tMax Memory Used: 301 MB");
    /* Cold: Init Duration last, 2 decimals. */
    sd_lambda_format_report(out, sizeof(out), "id", 1.234, 128, 20, 3.456, 0);
    CHECK_STR(out, "REPORT RequestId: id\tDuration: 1.23 ms\tBilled Duration: 2 ms\t"
                   "Memory Size: 128 MB\tMax Memory Used: 20 MB\tInit Duration: 3.46 ms");
    /* Sub-millisecond work bills 1 ms; exact integers are not rounded up. */
    sd_lambda_format_report(out, sizeof(out), "id", 0.2, 128, 9, -1.0, 0);
    CHECK(strstr(out, "Billed Duration: 1 ms") != NULL);
    sd_lambda_format_report(out, sizeof(out), "id", 3000.0, 128, 9, -1.0, 1);
    CHECK(strstr(out, "Billed Duration: 3000 ms") != NULL);
    CHECK(strstr(out, "\tStatus: timeout") != NULL);

    uint8_t rnd[16];
    for (int i = 0; i < 16; i++)
        rnd[i] = (uint8_t)(0x42 + i);
    /* 2020-01-14T00:00:00Z */
    sd_lambda_format_stream(out, sizeof(out), 1578960000LL * 1000000000LL, rnd);
    CHECK_STR(out, "2020/01/14/[$LATEST]42434445464748494a4b4c4d4e4f5051");

    char a[37], b[37];
    sd_lambda_uuid(a);
    sd_lambda_uuid(b);
    CHECK_INT(strlen(a), 36);
    CHECK(a[8] == '-' && a[13] == '-' && a[14] == '4' && a[18] == '-' && a[23] == '-');
    CHECK(strchr("89ab", a[19]) != NULL);
    CHECK(strcmp(a, b) != 0);
    test_find();
    return TEST_REPORT();
}
