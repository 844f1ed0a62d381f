/* units.h: the one parser for human quantities in scenarios, stack files and
 * flags. Inputs are (pointer, length), not NUL terminated. On error each
 * returns CM_EINVAL (or CM_ERANGE) and, when why != NULL, a static sentence
 * for the user ("expected a duration like 250ms, 1.5s, 2m or 1h"); *out is
 * left untouched. Leading and trailing whitespace is trimmed; whitespace
 * inside a value, signs (a '-' gets "must not be negative"), exponents, NaN and
 * infinity are errors. Numbers are exact decimals ("1.5", not ".5" or "5.").
 * Thread-safe, no allocation. */
#ifndef CM_UNITS_H
#define CM_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Durations: a number (decimals allowed) with a unit ns, us (or µs), ms, s,
 * m, h, d; several may be concatenated ("1m30s"). A bare number is an error
 * unless bare_unit_ns > 0, then it is in that unit ("0" is always 0).
 * Result in nanoseconds (rounded half up), 0..INT64_MAX (else CM_ERANGE). */
int cm_units_duration_ns(const char *p, size_t n, int64_t bare_unit_ns, int64_t *out,
                         const char **why);
/* Rates: COUNT/UNIT with UNIT in s, m, h, or a duration ("100/250ms"); count
 * may have a k/M suffix ("12k/m"). Result per second, > 0 or == 0. */
int cm_units_rate_per_s(const char *p, size_t n, double *out, const char **why);
/* Sizes: B, KB (or kB), MB, GB, TB, PB (powers of 1000) and KiB, MiB, GiB,
 * TiB, PiB (1024); a bare number is bytes. Result in bytes: a fraction of a
 * larger unit rounds down ("1.1KiB" = 1126), a fraction of a byte is an
 * error. */
int cm_units_size_bytes(const char *p, size_t n, uint64_t *out, const char **why);
/* Counts: integer or decimal with k or K (1e3), M (1e6), G (1e9), T (1e12)
 * suffix, e.g. "10k", "1.5M"; the result must be a whole number. */
int cm_units_count(const char *p, size_t n, uint64_t *out, const char **why);
/* Percentages: "0.1%" -> 0.001; a bare number is a fraction ("0.001").
 * Values above 100% are accepted (bounds are the caller's). */
int cm_units_percent(const char *p, size_t n, double *out, const char **why);

/* Formats ns as the shortest natural unit ("250ms", "1.5s", "812us"), with
 * up to 3 decimals; from a minute on as "2m", "1h30m", "1m30.5s" (seconds to
 * the ms). The text always parses back with cm_units_duration_ns (for
 * ns >= 0). out must hold 32 bytes. */
void cm_units_format_duration(int64_t ns, char out[32]);

#endif
