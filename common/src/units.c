/* units.c: the one parser for human quantities (durations, rates, sizes,
 * counts, percentages). Hand-written, no strtod: numbers are read as an exact
 * decimal (integer mantissa + count of fraction digits) and scaled with
 * 128-bit integer arithmetic, so "1.5s" is exactly 1500000000 ns and overflow
 * is detected rather than rounded away. Leading and trailing ASCII whitespace
 * is trimmed; whitespace inside a value, signs, exponents, NaN and infinity
 * are rejected. It is deliberately not a general expression parser. */
#include "cm/units.h"

#include "cm/err.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Messages: static sentences, one set per kind. */
static const char WHY_DURATION[] = "expected a duration like 250ms, 1.5s, 2m or 1h";
static const char WHY_DURATION_UNIT[] =
    "each number in a duration needs a unit (ns, us, ms, s, m, h or d), e.g. 250ms or 1m30s";
static const char WHY_DURATION_NEG[] = "a duration must not be negative";
static const char WHY_DURATION_RANGE[] = "duration too large (at most about 106751d)";
static const char WHY_RATE[] = "expected a rate like 200/s, 12k/m or 100/250ms";
static const char WHY_RATE_NEG[] = "a rate must not be negative";
static const char WHY_RATE_ZERO[] = "the period of a rate must be longer than 0 (e.g. 100/250ms)";
static const char WHY_RATE_RANGE[] = "rate too large";
static const char WHY_SIZE[] = "expected a size like 512MB or 1GiB (B, KB, MB, GB, TB, KiB, MiB, "
                               "GiB, TiB)";
static const char WHY_SIZE_NEG[] = "a size must not be negative";
static const char WHY_SIZE_WHOLE[] = "a size in bytes must be a whole number";
static const char WHY_SIZE_RANGE[] = "size too large (at most 16EiB)";
static const char WHY_COUNT[] = "expected a count like 10k or 1.5M (suffixes k, M, G, T)";
static const char WHY_COUNT_NEG[] = "a count must not be negative";
static const char WHY_COUNT_WHOLE[] = "a count must be a whole number";
static const char WHY_COUNT_RANGE[] = "count too large";
static const char WHY_PERCENT[] = "expected a percentage like 0.1% or a fraction like 0.001";
static const char WHY_PERCENT_NEG[] = "a percentage must not be negative";
static const char WHY_PERCENT_RANGE[] = "percentage too large";

typedef unsigned __int128 u128; /* exact products of a 64-bit mantissa and a unit */

/* An exact non-negative decimal: value = mant / 10^scale. */
struct dec {
    uint64_t mant;
    int scale; /* fraction digits kept in mant, 0..19 */
};

static const uint64_t POW10[20] = {1ull,
                                   10ull,
                                   100ull,
                                   1000ull,
                                   10000ull,
                                   100000ull,
                                   1000000ull,
                                   10000000ull,
                                   100000000ull,
                                   1000000000ull,
                                   10000000000ull,
                                   100000000000ull,
                                   1000000000000ull,
                                   10000000000000ull,
                                   100000000000000ull,
                                   1000000000000000ull,
                                   10000000000000000ull,
                                   100000000000000000ull,
                                   1000000000000000000ull,
                                   10000000000000000000ull};

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static void trim(const char **p, size_t *n)
{
    while (*n && is_space((*p)[0])) {
        (*p)++;
        (*n)--;
    }
    while (*n && is_space((*p)[*n - 1]))
        (*n)--;
}

/* Reads digits ['.' digits] from p[0..n). Fraction digits past what the
 * 64-bit mantissa can hold are dropped (truncation below 1e-19 relative).
 * Returns 0 and the bytes consumed, CM_EINVAL when there is no number there,
 * CM_ERANGE when the integer part needs more than 64 bits. */
static int parse_dec(const char *p, size_t n, size_t *used, struct dec *d)
{
    size_t i = 0;
    d->mant = 0;
    d->scale = 0;
    if (i == n || !is_digit(p[i]))
        return CM_EINVAL;
    for (; i < n && is_digit(p[i]); i++) {
        uint64_t dig = (uint64_t)(p[i] - '0');
        if (d->mant > (UINT64_MAX - dig) / 10)
            return CM_ERANGE;
        d->mant = d->mant * 10 + dig;
    }
    if (i < n && p[i] == '.') {
        i++;
        if (i == n || !is_digit(p[i]))
            return CM_EINVAL; /* "5." and "5.s" are typos, not numbers */
        for (; i < n && is_digit(p[i]); i++) {
            uint64_t dig = (uint64_t)(p[i] - '0');
            if (d->scale < 19 && d->mant <= (UINT64_MAX - dig) / 10) {
                d->mant = d->mant * 10 + dig;
                d->scale++;
            }
        }
    }
    *used = i;
    return 0;
}

/* mant * mul / 10^scale as (quotient, remainder); the product is < 2^128. */
static u128 dec_scale(const struct dec *d, uint64_t mul, u128 *rem)
{
    u128 prod = (u128)d->mant * mul;
    *rem = prod % POW10[d->scale];
    return prod / POW10[d->scale];
}

/* Correctly rounded while mant < 2^53 and the divisor's exponent <= 22 (both
 * exact in a double); otherwise within one ulp. extra adds powers of ten to the
 * divisor (2 for percent). */
static double dec_to_double(const struct dec *d, int extra)
{
    static const double P10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    return (double)d->mant / P10[d->scale + extra];
}

/* Nanoseconds per duration unit, or 0 for an unknown unit. */
static uint64_t duration_unit_ns(const char *u, size_t n)
{
    static const struct {
        const char *name;
        uint64_t ns;
    } units[] = {
        {"ns", 1ull},
        {"us", 1000ull},
        {"\xc2\xb5s", 1000ull}, /* U+00B5 micro sign, as Go accepts */
        {"ms", 1000000ull},
        {"s", 1000000000ull},
        {"m", 60000000000ull},
        {"h", 3600000000000ull},
        {"d", 86400000000000ull},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0)
            return units[i].ns;
    return 0;
}

/* One "number unit" component of a duration at p; *used gets its length. */
static int duration_component(const char *p, size_t n, int first, int64_t bare_unit_ns,
                              size_t *used, u128 *ns, const char **why)
{
    struct dec d;
    size_t i = 0;
    int rc = parse_dec(p, n, &i, &d);
    if (rc) {
        *why = rc == CM_ERANGE ? WHY_DURATION_RANGE : WHY_DURATION;
        return rc;
    }
    size_t u = i;
    while (i < n && !is_digit(p[i]) && p[i] != '.')
        i++;
    uint64_t mul;
    if (i == u) {
        /* A bare number: only as the whole input, and only when the caller
         * names a unit for it (0 is 0 in every unit). */
        if (!first || i != n) {
            *why = WHY_DURATION_UNIT;
            return CM_EINVAL;
        }
        mul = bare_unit_ns > 0 ? (uint64_t)bare_unit_ns : (d.mant == 0 ? 1 : 0);
        if (!mul) {
            *why = WHY_DURATION_UNIT;
            return CM_EINVAL;
        }
    } else if (!(mul = duration_unit_ns(p + u, i - u))) {
        *why = WHY_DURATION;
        return CM_EINVAL;
    }
    u128 rem;
    u128 q = dec_scale(&d, mul, &rem);
    if (rem * 2 >= POW10[d.scale] && rem) /* round half up to a whole ns */
        q++;
    *ns = q;
    *used = i;
    return 0;
}

int cm_units_duration_ns(const char *p, size_t n, int64_t bare_unit_ns, int64_t *out,
                         const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    trim(&p, &n);
    if (n && p[0] == '-') {
        *why = WHY_DURATION_NEG;
        return CM_EINVAL;
    }
    if (!n) {
        *why = WHY_DURATION;
        return CM_EINVAL;
    }
    u128 total = 0;
    for (size_t i = 0; i < n;) {
        size_t used = 0;
        u128 ns = 0;
        int rc = duration_component(p + i, n - i, i == 0, bare_unit_ns, &used, &ns, why);
        if (rc)
            return rc;
        total += ns;
        if (total > INT64_MAX) {
            *why = WHY_DURATION_RANGE;
            return CM_ERANGE;
        }
        i += used;
    }
    *out = (int64_t)total;
    return 0;
}

/* k, M, G, T multipliers shared by counts and the count part of rates;
 * returns 0 for an unknown suffix. */
static uint64_t count_suffix(const char *s, size_t n)
{
    if (n == 0)
        return 1;
    if (n != 1)
        return 0;
    switch (s[0]) {
    case 'k':
    case 'K':
        return 1000ull;
    case 'M':
        return 1000000ull;
    case 'G':
        return 1000000000ull;
    case 'T':
        return 1000000000000ull;
    default:
        return 0;
    }
}

int cm_units_rate_per_s(const char *p, size_t n, double *out, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    trim(&p, &n);
    if (n && p[0] == '-') {
        *why = WHY_RATE_NEG;
        return CM_EINVAL;
    }
    const char *slash = n ? memchr(p, '/', n) : NULL;
    if (!slash) {
        *why = WHY_RATE;
        return CM_EINVAL;
    }
    size_t cn = (size_t)(slash - p), used = 0;
    struct dec d;
    int rc = parse_dec(p, cn, &used, &d);
    uint64_t mul = rc ? 0 : count_suffix(p + used, cn - used);
    if (rc == CM_ERANGE) {
        *why = WHY_RATE_RANGE;
        return rc;
    }
    if (rc || !mul) {
        *why = WHY_RATE;
        return CM_EINVAL;
    }
    const char *den = slash + 1;
    size_t dn = n - cn - 1;
    int64_t period_ns = 0;
    if (dn && !is_digit(den[0])) {
        /* "/s", "/m": one of that unit. */
        uint64_t u = duration_unit_ns(den, dn);
        if (!u) {
            *why = WHY_RATE;
            return CM_EINVAL;
        }
        period_ns = (int64_t)u;
    } else {
        const char *dwhy;
        /* den has no leading space (that took the branch above) and no
         * trailing space (trimmed), so the duration parser's trim is a no-op. */
        rc = cm_units_duration_ns(den, dn, 0, &period_ns, &dwhy);
        if (rc) {
            *why = rc == CM_ERANGE ? dwhy : WHY_RATE;
            return rc;
        }
        if (period_ns == 0) {
            *why = WHY_RATE_ZERO;
            return CM_EINVAL;
        }
    }
    /* count * mul / period: count <= 1.8e19 * 1e12, far inside a double. */
    *out = dec_to_double(&d, 0) * (double)mul * 1e9 / (double)period_ns;
    return 0;
}

int cm_units_size_bytes(const char *p, size_t n, uint64_t *out, const char **why)
{
    static const struct {
        const char *name;
        uint64_t mul;
    } units[] = {
        {"", 1ull},
        {"B", 1ull},
        {"KB", 1000ull},
        {"kB", 1000ull},
        {"MB", 1000000ull},
        {"GB", 1000000000ull},
        {"TB", 1000000000000ull},
        {"PB", 1000000000000000ull},
        {"KiB", 1ull << 10},
        {"MiB", 1ull << 20},
        {"GiB", 1ull << 30},
        {"TiB", 1ull << 40},
        {"PiB", 1ull << 50},
    };
    const char *dummy;
    if (!why)
        why = &dummy;
    trim(&p, &n);
    if (n && p[0] == '-') {
        *why = WHY_SIZE_NEG;
        return CM_EINVAL;
    }
    struct dec d;
    size_t used = 0;
    int rc = parse_dec(p, n, &used, &d);
    if (rc) {
        *why = rc == CM_ERANGE ? WHY_SIZE_RANGE : WHY_SIZE;
        return rc;
    }
    uint64_t mul = 0;
    for (size_t i = 0; i < sizeof units / sizeof units[0] && !mul; i++)
        if (strlen(units[i].name) == n - used && memcmp(units[i].name, p + used, n - used) == 0)
            mul = units[i].mul;
    if (!mul) {
        *why = WHY_SIZE;
        return CM_EINVAL;
    }
    u128 rem;
    u128 q = dec_scale(&d, mul, &rem);
    /* Fractions of a larger unit round down to whole bytes ("1.1GiB");
     * a fraction of one byte is a mistake. */
    if (mul == 1 && rem) {
        *why = WHY_SIZE_WHOLE;
        return CM_EINVAL;
    }
    if (q > UINT64_MAX) {
        *why = WHY_SIZE_RANGE;
        return CM_ERANGE;
    }
    *out = (uint64_t)q;
    return 0;
}

int cm_units_count(const char *p, size_t n, uint64_t *out, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    trim(&p, &n);
    if (n && p[0] == '-') {
        *why = WHY_COUNT_NEG;
        return CM_EINVAL;
    }
    struct dec d;
    size_t used = 0;
    int rc = parse_dec(p, n, &used, &d);
    if (rc) {
        *why = rc == CM_ERANGE ? WHY_COUNT_RANGE : WHY_COUNT;
        return rc;
    }
    uint64_t mul = count_suffix(p + used, n - used);
    if (!mul) {
        *why = WHY_COUNT;
        return CM_EINVAL;
    }
    u128 rem;
    u128 q = dec_scale(&d, mul, &rem);
    if (rem) {
        *why = WHY_COUNT_WHOLE;
        return CM_EINVAL;
    }
    if (q > UINT64_MAX) {
        *why = WHY_COUNT_RANGE;
        return CM_ERANGE;
    }
    *out = (uint64_t)q;
    return 0;
}

int cm_units_percent(const char *p, size_t n, double *out, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    trim(&p, &n);
    if (n && p[0] == '-') {
        *why = WHY_PERCENT_NEG;
        return CM_EINVAL;
    }
    struct dec d;
    size_t used = 0;
    int rc = parse_dec(p, n, &used, &d);
    if (rc) {
        *why = rc == CM_ERANGE ? WHY_PERCENT_RANGE : WHY_PERCENT;
        return rc;
    }
    int pct = used + 1 == n && p[used] == '%';
    if (used != n && !pct) {
        *why = WHY_PERCENT;
        return CM_EINVAL;
    }
    *out = dec_to_double(&d, pct ? 2 : 0);
    return 0;
}

/* Appends "W[.FFF]" for scaled/1000 with trailing fraction zeros removed. */
static size_t put_milli(char *out, size_t cap, uint64_t scaled)
{
    uint64_t whole = scaled / 1000, frac = scaled % 1000;
    int len;
    if (!frac)
        len = snprintf(out, cap, "%" PRIu64, whole);
    else if (frac % 100 == 0)
        len = snprintf(out, cap, "%" PRIu64 ".%" PRIu64, whole, frac / 100);
    else if (frac % 10 == 0)
        len = snprintf(out, cap, "%" PRIu64 ".%02" PRIu64, whole, frac / 10);
    else
        len = snprintf(out, cap, "%" PRIu64 ".%03" PRIu64, whole, frac);
    return len < 0 ? 0 : ((size_t)len < cap ? (size_t)len : cap - 1);
}

void cm_units_format_duration(int64_t ns, char out[32])
{
    static const uint64_t MS = 1000000ull, S = 1000000000ull, MIN = 60 * S, H = 60 * MIN;
    static const struct {
        uint64_t ns;
        const char *name;
    } small[] = {{1, "ns"}, {1000, "us"}, {MS, "ms"}, {S, "s"}};
    size_t len = 0, cap = 32;
    uint64_t v = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    if (ns < 0)
        out[len++] = '-';
    if (v == 0) {
        snprintf(out, cap, "0s");
        return;
    }
    if (v < MIN) {
        /* Largest unit whose 3-decimal rounding stays below 1000 of it. */
        size_t u = 0;
        while (u + 1 < sizeof small / sizeof small[0] && v >= small[u + 1].ns)
            u++;
        uint64_t scaled = (v * 1000 + small[u].ns / 2) / small[u].ns;
        if (scaled >= 1000000 && u + 1 < sizeof small / sizeof small[0]) {
            u++;
            scaled = (v * 1000 + small[u].ns / 2) / small[u].ns;
        }
        if (u == 3 && scaled >= 60000) {
            snprintf(out + len, cap - len, "1m");
            return;
        }
        len += put_milli(out + len, cap - len, scaled);
        snprintf(out + len, cap - len, "%s", small[u].name);
        return;
    }
    /* A minute or more: "2m", "1h", "1m30s", "1h5.5s", seconds to the ms. */
    /* Round to the ms, except where rounding up would pass INT64_MAX and the
     * text would no longer parse. */
    uint64_t ms = v / MS + (v % MS >= MS / 2 && v <= (uint64_t)INT64_MAX - MS);
    uint64_t h = ms / (H / MS), m = ms % (H / MS) / (MIN / MS), sms = ms % (MIN / MS);
    if (h)
        len += (size_t)snprintf(out + len, cap - len, "%" PRIu64 "h", h);
    if (m)
        len += (size_t)snprintf(out + len, cap - len, "%" PRIu64 "m", m);
    if (sms) {
        len += put_milli(out + len, cap - len, sms);
        snprintf(out + len, cap - len, "s");
    }
    /* v >= 1m so h or m is non-zero: out is never left empty. The longest
     * output, INT64_MIN, is "-2562047h47m16.854s" (20 bytes). */
}
