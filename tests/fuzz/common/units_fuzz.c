/* units_fuzz.c: every cm_units parser on the same bytes, plus invariants:
 * accepted values are non-negative and finite, a rejected value always says
 * why, and a formatted duration parses back to within its printed precision. */
#include "cm/units.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void check_duration(const char *p, size_t n)
{
    int64_t ns = -1;
    const char *why = NULL;
    if (cm_units_duration_ns(p, n, 0, &ns, &why) != 0) {
        if (!why)
            abort();
        return;
    }
    if (ns < 0)
        abort();
    char out[32];
    int64_t back = -1;
    cm_units_format_duration(ns, out);
    if (strlen(out) >= sizeof out || cm_units_duration_ns(out, strlen(out), 0, &back, NULL) != 0)
        abort();
    /* Below a minute: 3 decimals of the unit (relative error <= 1/2000);
     * from a minute on: seconds to the millisecond (<= 0.5ms). */
    int64_t diff = back > ns ? back - ns : ns - back;
    if (diff > ns / 1000 + 500000)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *why = NULL;
    int64_t ns;
    double d;
    uint64_t u;

    check_duration(p, size);
    if (cm_units_duration_ns(p, size, 1000000, &ns, &why) == 0 && ns < 0)
        abort();
    if (cm_units_rate_per_s(p, size, &d, &why) == 0 && !(d >= 0 && isfinite(d)))
        abort();
    cm_units_size_bytes(p, size, &u, &why);
    cm_units_count(p, size, &u, &why);
    if (cm_units_percent(p, size, &d, &why) == 0 && !(d >= 0 && isfinite(d)))
        abort();

    /* Formatting any int64 (negative too) stays inside its 32 bytes. */
    if (size >= 8) {
        int64_t v;
        char out[32];
        memcpy(&v, data, sizeof v);
        cm_units_format_duration(v, out);
        if (!memchr(out, '\0', sizeof out))
            abort();
    }
    return 0;
}
