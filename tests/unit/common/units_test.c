/* Unit tests for cm_units: every unit form, every error path with its exact
 * message, overflow edges, whitespace, (ptr, len) inputs, formatting. */
#include "harness.h"

#include "cm/err.h"
#include "cm/units.h"

#include <stdint.h>

#define S(lit) (lit), (sizeof(lit) - 1)

static const char DUR[] = "expected a duration like 250ms, 1.5s, 2m or 1h";
static const char DUR_UNIT[] =
    "each number in a duration needs a unit (ns, us, ms, s, m, h or d), e.g. 250ms or 1m30s";
static const char RATE[] = "expected a rate like 200/s, 12k/m or 100/250ms";
static const char SIZE[] = "expected a size like 512MB or 1GiB (B, KB, MB, GB, TB, KiB, MiB, GiB, "
                           "TiB)";
static const char COUNT[] = "expected a count like 10k or 1.5M (suffixes k, M, G, T)";
static const char PCT[] = "expected a percentage like 0.1% or a fraction like 0.001";

static int64_t dur(const char *s, size_t n)
{
    int64_t v = -1;
    const char *why = NULL;
    int rc = cm_units_duration_ns(s, n, 0, &v, &why);
    CHECK_MSG(rc == 0, "duration '%.*s': rc %d (%s)", (int)n, s, rc, why ? why : "");
    return v;
}

static void dur_err(const char *s, size_t n, int want_rc, const char *want_why)
{
    int64_t v = 12345;
    const char *why = NULL;
    CHECK_INT(cm_units_duration_ns(s, n, 0, &v, &why), want_rc);
    CHECK_STR(why, want_why);
    CHECK_INT(v, 12345); /* untouched on error */
}

static void test_durations(void)
{
    CHECK_INT(dur(S("250ms")), 250000000);
    CHECK_INT(dur(S("1.5s")), 1500000000);
    CHECK_INT(dur(S("2m")), 120000000000);
    CHECK_INT(dur(S("1h")), 3600000000000);
    CHECK_INT(dur(S("1d")), 86400000000000);
    CHECK_INT(dur(S("1m30s")), 90000000000);
    CHECK_INT(dur(S("1h2m3.5s")), 3723500000000);
    CHECK_INT(dur(S("10ns")), 10);
    CHECK_INT(dur(S("3us")), 3000);
    CHECK_INT(dur(S("3\xc2\xb5s")), 3000);
    CHECK_INT(dur(S("0.5ms")), 500000);
    CHECK_INT(dur(S("0.1s")), 100000000);
    CHECK_INT(dur(S("0.0000000015s")), 2); /* 1.5ns rounds half up */
    CHECK_INT(dur(S("0.0000000014s")), 1);
    CHECK_INT(dur(S("007s")), 7000000000);
    CHECK_INT(dur(S("0")), 0); /* zero needs no unit */
    CHECK_INT(dur(S("0s")), 0);
    CHECK_INT(dur(S("  30s \t\n")), 30000000000); /* trimmed */
    CHECK_INT(dur(S("1.123456789123456789123s")), 1123456789);
    /* The largest: INT64_MAX ns. */
    CHECK_INT(dur(S("9223372036854775807ns")), INT64_MAX);
    CHECK_INT(dur(S("106751d")), 106751 * 86400000000000LL);

    /* (ptr, len): the bytes after n are not read. */
    CHECK_INT(dur("15s0000", 3), 15000000000);

    /* Bare numbers in the caller's unit. */
    int64_t v = 0;
    CHECK_INT(cm_units_duration_ns(S("250"), 1000000, &v, NULL), 0);
    CHECK_INT(v, 250000000);
    CHECK_INT(cm_units_duration_ns(S("1.5"), 1000000000, &v, NULL), 0);
    CHECK_INT(v, 1500000000);
    CHECK_INT(cm_units_duration_ns(S("2s"), 1000000, &v, NULL), 0); /* a unit still wins */
    CHECK_INT(v, 2000000000);

    dur_err(S(""), CM_EINVAL, DUR);
    dur_err(S("   "), CM_EINVAL, DUR);
    dur_err(S("30"), CM_EINVAL, DUR_UNIT);
    dur_err(S("1m30"), CM_EINVAL, DUR_UNIT);
    dur_err(S("-5s"), CM_EINVAL, "a duration must not be negative");
    dur_err(S("+5s"), CM_EINVAL, DUR);
    dur_err(S("5x"), CM_EINVAL, DUR);
    dur_err(S("5S"), CM_EINVAL, DUR);
    dur_err(S("5 s"), CM_EINVAL, DUR);
    dur_err(S("5s garbage"), CM_EINVAL, DUR);
    dur_err(S("s"), CM_EINVAL, DUR);
    dur_err(S(".5s"), CM_EINVAL, DUR);
    dur_err(S("5.s"), CM_EINVAL, DUR);
    dur_err(S("1e3s"), CM_EINVAL, DUR);
    dur_err(S("nan"), CM_EINVAL, DUR);
    dur_err(S("inf"), CM_EINVAL, DUR);
    dur_err(S("infs"), CM_EINVAL, DUR);
    dur_err(S("5s\0"), CM_EINVAL, DUR); /* an embedded NUL is garbage */
    dur_err(S("9223372036854775808ns"), CM_ERANGE, "duration too large (at most about 106751d)");
    dur_err(S("106752d"), CM_ERANGE, "duration too large (at most about 106751d)");
    dur_err(S("99999999999999999999s"), CM_ERANGE, "duration too large (at most about 106751d)");
    dur_err(S("100000d100000d"), CM_ERANGE, "duration too large (at most about 106751d)");
    dur_err(S("1s1ns1x"), CM_EINVAL, DUR);
    /* why may be NULL. */
    CHECK_INT(cm_units_duration_ns(S("x"), 0, &v, NULL), CM_EINVAL);
}

static double rate(const char *s, size_t n)
{
    double v = -1;
    const char *why = NULL;
    int rc = cm_units_rate_per_s(s, n, &v, &why);
    CHECK_MSG(rc == 0, "rate '%.*s': rc %d (%s)", (int)n, s, rc, why ? why : "");
    return v;
}

static void rate_err(const char *s, size_t n, int want_rc, const char *want_why)
{
    double v = 7;
    const char *why = NULL;
    CHECK_INT(cm_units_rate_per_s(s, n, &v, &why), want_rc);
    CHECK_STR(why, want_why);
    CHECK(v == 7);
}

static void test_rates(void)
{
    CHECK_NEAR(rate(S("200/s")), 200, 1e-9);
    CHECK_NEAR(rate(S("12k/m")), 200, 1e-9);
    CHECK_NEAR(rate(S("100/250ms")), 400, 1e-9);
    CHECK_NEAR(rate(S("3600/h")), 1, 1e-12);
    CHECK_NEAR(rate(S("1.5M/h")), 1500000.0 / 3600, 1e-9);
    CHECK_NEAR(rate(S("1K/s")), 1000, 1e-9);
    CHECK_NEAR(rate(S("2G/d")), 2e9 / 86400, 1e-6);
    CHECK_NEAR(rate(S("5/ms")), 5000, 1e-9);
    CHECK_NEAR(rate(S("1/us")), 1e6, 1e-6);
    CHECK_NEAR(rate(S("1/ns")), 1e9, 1e-3);
    CHECK_NEAR(rate(S("0.5/s")), 0.5, 1e-12);
    CHECK_NEAR(rate(S("1/1m30s")), 1.0 / 90, 1e-12);
    CHECK_NEAR(rate(S("0/s")), 0, 0);
    CHECK_NEAR(rate(S(" 10/s ")), 10, 0);

    rate_err(S(""), CM_EINVAL, RATE);
    rate_err(S("200"), CM_EINVAL, RATE);
    rate_err(S("200/"), CM_EINVAL, RATE);
    rate_err(S("/s"), CM_EINVAL, RATE);
    rate_err(S("200/x"), CM_EINVAL, RATE);
    rate_err(S("200/sec"), CM_EINVAL, RATE);
    rate_err(S("200 /s"), CM_EINVAL, RATE);
    rate_err(S("200/ s"), CM_EINVAL, RATE);
    rate_err(S("200x/s"), CM_EINVAL, RATE);
    rate_err(S("200kk/s"), CM_EINVAL, RATE);
    rate_err(S("200/s/s"), CM_EINVAL, RATE);
    rate_err(S("200/10"), CM_EINVAL, RATE);
    rate_err(S("nan/s"), CM_EINVAL, RATE);
    rate_err(S("-1/s"), CM_EINVAL, "a rate must not be negative");
    rate_err(S("1/-1s"), CM_EINVAL, RATE);
    rate_err(S("1/0s"), CM_EINVAL, "the period of a rate must be longer than 0 (e.g. 100/250ms)");
    rate_err(S("99999999999999999999/s"), CM_ERANGE, "rate too large");
    rate_err(S("1/999999999d"), CM_ERANGE, "duration too large (at most about 106751d)");
}

static void size_ok(const char *s, size_t n, uint64_t want)
{
    uint64_t v = 0;
    const char *why = NULL;
    int rc = cm_units_size_bytes(s, n, &v, &why);
    CHECK_MSG(rc == 0 && v == want, "size '%.*s': rc %d v %" PRIu64 " (%s)", (int)n, s, rc, v,
              why ? why : "");
}

static void size_err(const char *s, size_t n, int want_rc, const char *want_why)
{
    uint64_t v = 9;
    const char *why = NULL;
    CHECK_INT(cm_units_size_bytes(s, n, &v, &why), want_rc);
    CHECK_STR(why, want_why);
    CHECK_INT(v, 9);
}

static void test_sizes(void)
{
    size_ok(S("512MB"), 512000000);
    size_ok(S("1GiB"), 1073741824);
    size_ok(S("100"), 100);
    size_ok(S("100B"), 100);
    size_ok(S("1KB"), 1000);
    size_ok(S("1kB"), 1000);
    size_ok(S("2GB"), 2000000000);
    size_ok(S("3TB"), 3000000000000);
    size_ok(S("1PB"), 1000000000000000);
    size_ok(S("4KiB"), 4096);
    size_ok(S("1MiB"), 1048576);
    size_ok(S("1TiB"), 1099511627776);
    size_ok(S("1PiB"), 1125899906842624);
    size_ok(S("1.5KiB"), 1536);
    size_ok(S("1.1KB"), 1100);
    size_ok(S("0.0001KiB"), 0); /* fractions of a larger unit round down */
    size_ok(S("18446744073709551615"), UINT64_MAX);
    size_ok(S(" 8MiB "), 8388608);

    size_err(S(""), CM_EINVAL, SIZE);
    size_err(S("MB"), CM_EINVAL, SIZE);
    size_err(S("5mb"), CM_EINVAL, SIZE);
    size_err(S("5 MB"), CM_EINVAL, SIZE);
    size_err(S("5M"), CM_EINVAL, SIZE);
    size_err(S("5MBx"), CM_EINVAL, SIZE);
    size_err(S("1.5"), CM_EINVAL, "a size in bytes must be a whole number");
    size_err(S("1.5B"), CM_EINVAL, "a size in bytes must be a whole number");
    size_err(S("-1MB"), CM_EINVAL, "a size must not be negative");
    size_err(S("18446744073709551616"), CM_ERANGE, "size too large (at most 16EiB)");
    size_err(S("16384PiB"), CM_ERANGE, "size too large (at most 16EiB)");
}

static void count_ok(const char *s, size_t n, uint64_t want)
{
    uint64_t v = 0;
    const char *why = NULL;
    int rc = cm_units_count(s, n, &v, &why);
    CHECK_MSG(rc == 0 && v == want, "count '%.*s': rc %d v %" PRIu64 " (%s)", (int)n, s, rc, v,
              why ? why : "");
}

static void count_err(const char *s, size_t n, int want_rc, const char *want_why)
{
    uint64_t v = 9;
    const char *why = NULL;
    CHECK_INT(cm_units_count(s, n, &v, &why), want_rc);
    CHECK_STR(why, want_why);
    CHECK_INT(v, 9);
}

static void test_counts(void)
{
    count_ok(S("10k"), 10000);
    count_ok(S("10K"), 10000);
    count_ok(S("1.5M"), 1500000);
    count_ok(S("2G"), 2000000000);
    count_ok(S("1T"), 1000000000000);
    count_ok(S("42"), 42);
    count_ok(S("0"), 0);
    count_ok(S("1.000"), 1);
    count_ok(S("0.001k"), 1);
    count_ok(S("18446744073709551615"), UINT64_MAX);

    count_err(S(""), CM_EINVAL, COUNT);
    count_err(S("k"), CM_EINVAL, COUNT);
    count_err(S("10m"), CM_EINVAL, COUNT);
    count_err(S("10kk"), CM_EINVAL, COUNT);
    count_err(S("1e6"), CM_EINVAL, COUNT);
    count_err(S("1.5"), CM_EINVAL, "a count must be a whole number");
    count_err(S("0.0001k"), CM_EINVAL, "a count must be a whole number");
    count_err(S("-3"), CM_EINVAL, "a count must not be negative");
    count_err(S("18446744073709551616"), CM_ERANGE, "count too large");
    count_err(S("18446744073709552k"), CM_ERANGE, "count too large");
}

static void test_percents(void)
{
    double v = -1;
    const char *why = NULL;
    CHECK_INT(cm_units_percent(S("0.1%"), &v, &why), 0);
    CHECK(v == 0.001);
    CHECK_INT(cm_units_percent(S("0.001"), &v, &why), 0);
    CHECK(v == 0.001);
    CHECK_INT(cm_units_percent(S("100%"), &v, &why), 0);
    CHECK(v == 1.0);
    CHECK_INT(cm_units_percent(S("250%"), &v, &why), 0); /* bounds are the caller's */
    CHECK(v == 2.5);
    CHECK_INT(cm_units_percent(S("99.9%"), &v, &why), 0);
    CHECK(v == 0.999);
    CHECK_INT(cm_units_percent(S(" 5% "), &v, &why), 0);
    CHECK(v == 0.05);

    static const struct {
        const char *s;
        int rc;
        const char *why;
    } bad[] = {
        {"", CM_EINVAL, PCT},
        {"%", CM_EINVAL, PCT},
        {"5%%", CM_EINVAL, PCT},
        {"5 %", CM_EINVAL, PCT},
        {"5 percent", CM_EINVAL, PCT},
        {"nan%", CM_EINVAL, PCT},
        {"-1%", CM_EINVAL, "a percentage must not be negative"},
        {"99999999999999999999%", CM_ERANGE, "percentage too large"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 3;
        why = NULL;
        CHECK_INT(cm_units_percent(bad[i].s, strlen(bad[i].s), &v, &why), bad[i].rc);
        CHECK_STR(why, bad[i].why);
        CHECK(v == 3);
    }
}

static void fmt(int64_t ns, const char *want)
{
    char out[32];
    cm_units_format_duration(ns, out);
    CHECK_STR(out, want);
}

static void test_format(void)
{
    fmt(0, "0s");
    fmt(1, "1ns");
    fmt(999, "999ns");
    fmt(1000, "1us");
    fmt(812000, "812us");
    fmt(1500, "1.5us");
    fmt(250000000, "250ms");
    fmt(1234567, "1.235ms");
    fmt(999999999, "1s"); /* rounds into the next unit */
    fmt(1500000000, "1.5s");
    fmt(30000000000, "30s");
    fmt(59999999999, "1m");
    fmt(60000000000, "1m");
    fmt(90000000000, "1m30s");
    fmt(120000000000, "2m");
    fmt(3600000000000, "1h");
    fmt(5400000000000, "1h30m");
    fmt(3605500000000, "1h5.5s");
    fmt(86400000000000, "24h");
    fmt(-250000000, "-250ms");
    fmt(INT64_MAX, "2562047h47m16.854s"); /* rounded down: must parse */
    fmt(INT64_MIN, "-2562047h47m16.854s");

    /* Every formatted value parses back, to within the printed precision. */
    static const int64_t vals[] = {1,         999,         1500,          1234567,
                                   250000000, 90000000000, 3605500000000, INT64_MAX / 2};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        char out[32];
        int64_t back = -1;
        cm_units_format_duration(vals[i], out);
        CHECK_INT(cm_units_duration_ns(out, strlen(out), 0, &back, NULL), 0);
        CHECK_NEAR((double)back, (double)vals[i], (double)vals[i] * 0.001);
    }
}

int main(void)
{
    test_durations();
    test_rates();
    test_sizes();
    test_counts();
    test_percents();
    test_format();
    return TEST_REPORT();
}
