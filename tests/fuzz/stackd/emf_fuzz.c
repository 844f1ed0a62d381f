/* emf_fuzz.c: Embedded Metric Format ingestion on arbitrary bytes: returns
 * a count or an error, and the store stays within its configured bounds. */
#include "cm/err.h"
#include "sd_cw.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sd_cw_config cfg = {.max_metrics = 50, .max_bytes = 1 << 20};
    struct sd_cw *cw = sd_cw_new(&cfg);
    int rc = sd_cw_ingest_emf(cw, (const char *)data, size, 1704067200000LL);
    if (rc < 0 && rc != CM_EPARSE && rc != CM_EINVAL)
        abort();
    if (rc < 0 && sd_cw_emf_errors(cw) != 1)
        abort();
    if (sd_cw_metric_count(cw) > 50 || sd_cw_bytes(cw) > (1u << 20))
        abort();
    sd_cw_free(cw);
    return 0;
}
