/* thresh_fuzz.c: the threshold expression parser on arbitrary bytes (not
 * NUL terminated), then evaluation of whatever parsed against empty stats
 * (which must fail: no samples). */
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "thresh.h"

static struct lg_stats *st;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lg_thresh_expr e;
    const char *why = NULL;
    size_t at = 0;
    char *copy = malloc(size ? size : 1); /* exact size: reads past it are caught by ASan */
    memcpy(copy, data, size);
    if (!st)
        st = lg_stats_new(1);
    if (lg_thresh_parse(copy, size, &e, &why, &at) == 0) {
        const char *names[] = {"a"};
        double v;
        int has;
        if (lg_thresh_resolve(&e, names, 1) == 0 && lg_thresh_eval(&e, st, 1.0, &v, &has) &&
            e.kind != LG_TK_CTR)
            abort(); /* a metric without samples never passes */
    } else if (!why || at > size) {
        abort();
    }
    free(copy);
    return 0;
}
