/* harness.h: the unit-test harness. One executable per module; each check
 * counts; main() ends with TEST_REPORT(), which prints "N passed, N failed"
 * and returns non-zero when anything failed. Header-only on purpose. */
#ifndef LG_TEST_HARNESS_H
#define LG_TEST_HARNESS_H

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static int th_passed, th_failed;

#define TH_FAIL_AT(...)                                                                            \
    do {                                                                                           \
        th_failed++;                                                                               \
        fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);                                      \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
    } while (0)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond)                                                                                  \
            th_passed++;                                                                           \
        else                                                                                       \
            TH_FAIL_AT("%s", #cond);                                                               \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        if (cond)                                                                                  \
            th_passed++;                                                                           \
        else                                                                                       \
            TH_FAIL_AT(__VA_ARGS__);                                                               \
    } while (0)

#define CHECK_INT(a, b)                                                                            \
    do {                                                                                           \
        long long th_a = (long long)(a), th_b = (long long)(b);                                    \
        if (th_a == th_b)                                                                          \
            th_passed++;                                                                           \
        else                                                                                       \
            TH_FAIL_AT("%s == %s (%lld != %lld)", #a, #b, th_a, th_b);                             \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *th_a = (a), *th_b = (b);                                                       \
        if (th_a && th_b && strcmp(th_a, th_b) == 0)                                               \
            th_passed++;                                                                           \
        else                                                                                       \
            TH_FAIL_AT("%s == %s (\"%s\" != \"%s\")", #a, #b, th_a ? th_a : "(null)",              \
                       th_b ? th_b : "(null)");                                                    \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double th_a = (double)(a), th_b = (double)(b);                                             \
        if (fabs(th_a - th_b) <= (tol))                                                            \
            th_passed++;                                                                           \
        else                                                                                       \
            TH_FAIL_AT("%s ~ %s (%g vs %g, tol %g)", #a, #b, th_a, th_b, (double)(tol));           \
    } while (0)

#define TEST_REPORT() (printf("%d passed, %d failed\n", th_passed, th_failed), th_failed ? 1 : 0)

#endif
