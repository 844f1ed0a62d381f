/* scenario_fuzz.c: scenario loading (YAML -> option tables, templates,
 * thresholds, captures) on arbitrary bytes: must never crash, leak or hang;
 * an error must name a place ("name:line:col: ..."). Data files are not read
 * (the name has no directory, so a `data.file` resolves relative to the
 * working directory and is usually missing, which is an error path too). */
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lg_scenario *s = NULL;
    char err[1024];
    err[0] = 0;
    if (size > 1 << 16)
        return 0;
    int rc = lg_scenario_parse((const char *)data, size, "fuzz.yaml", &s, err, sizeof(err));
    if (rc == 0) {
        if (!s || !s->n_phases || !s->n_reqs)
            abort();
        lg_scenario_set_duration(s, lg_scenario_duration_ns(s) / 2 + 1);
        lg_scenario_free(s);
    } else if (s || strncmp(err, "fuzz.yaml", 9) != 0) {
        abort();
    }
    return 0;
}
