/* Fuzz target: schedule expressions (sd_sched_parse) and, for the ones that
 * parse, next fire times (sd_sched_next) from a few starting points. Checks
 * that errors point inside the input and that a next fire time is strictly
 * later, on a whole minute for cron, and that the one after it is later
 * still. */
#include "sd_sched.h"

#include "cm/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    struct sd_sched sc;
    char err[200];
    size_t off = 0;
    int rc = sd_sched_parse(s, size, &sc, err, sizeof(err), &off);
    if (rc < 0) {
        if (rc != CM_EPARSE || off > size || err[0] == '\0')
            abort();
        free(s);
        return 0;
    }
    static const int64_t starts[] = {-86400000LL, 0, 1795335600000LL, 7258118400000LL};
    for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        int64_t n = sd_sched_next(&sc, 1000, starts[i]);
        if (n < 0)
            continue;
        if (n <= starts[i])
            abort();
        if (sc.kind == SD_SCHED_CRON && n % 60000 != 0)
            abort();
        int64_t n2 = sd_sched_next(&sc, 1000, n);
        if (n2 >= 0 && n2 <= n)
            abort();
    }
    free(s);
    return 0;
}
