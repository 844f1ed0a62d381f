/* logline_fuzz.c: the collectors' log parsers on arbitrary bytes: REPORT
 * lines, runtime JSON lines / EMF documents, and the join fed with them.
 * Checks: no crash, no read past size; a parsed REPORT has a non-empty
 * request id and finite non-negative durations. */
#include "lgc.h"

#include <assert.h>
#include <math.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    struct lgc_report r;
    if (lgc_report_parse(p, size, &r) == 0) {
        assert(r.request_id[0] != '\0');
        assert(isfinite(r.duration_ms) && r.duration_ms >= 0);
        assert(r.init_ms < 0 || isfinite(r.init_ms));
    }
    struct lgc_logline l;
    if (lgc_logline_parse(p, size, &l) == 0)
        assert(strlen(l.request_id) < sizeof l.request_id);
    struct lgc_join_config cfg = {.offline = 1, .max_records = 16};
    struct lgc_join *j = NULL;
    if (lgc_join_new(&cfg, &j, NULL, 0) == 0) {
        /* Each line of the input is one log event. */
        size_t s = 0;
        for (size_t i = 0; i <= size; i++)
            if (i == size || p[i] == '\n') {
                lgc_join_add_line(j, "f", p + s, i - s);
                s = i + 1;
            }
        lgc_join_finish(j);
        struct lgc_join_rec rec;
        lgc_join_lookup(j, "c1", &rec);
        lgc_join_free(j);
    }
    return 0;
}
