/* logs_filter_fuzz.c: FilterLogEvents filter patterns. The input is
 * "pattern\nmessage"; the pattern is compiled (a rejection must say why)
 * and, when accepted, matched against the message and against itself. */
#include "sd_logs.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *nl = memchr(p, '\n', size);
    size_t pn = nl ? (size_t)(nl - p) : size;
    const char *msg = nl ? nl + 1 : p;
    size_t mn = nl ? size - pn - 1 : size;
    struct sd_logs_filter *f = NULL;
    const char *why = NULL;
    if (sd_logs_filter_compile(p, pn, &f, &why) != 0) {
        if (!why || f)
            abort();
        return 0;
    }
    int a = sd_logs_filter_match(f, msg, mn);
    int b = sd_logs_filter_match(f, p, pn);
    if ((a != 0 && a != 1) || (b != 0 && b != 1))
        abort();
    sd_logs_filter_free(f);
    return 0;
}
