/* responses_fuzz.c: the collectors' AWS response parsers on arbitrary
 * bytes: SQS GetQueueAttributes and CloudWatch GetMetricData bodies.
 * Checks: no crash; parsed depths are finite and non-negative. */
#include "../../../collectors/lgc_int.h"

#include "cm/json.h"

#include <assert.h>
#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    double d[3];
    if (lgc_sqs_parse_attrs(p, size, d) == 0)
        for (int i = 0; i < 3; i++)
            assert(isfinite(d[i]) && d[i] >= 0);
    cJSON *j = cm_json_parse(p, size);
    if (j) {
        const char *ids[] = {"a", "f0_0", "q0"};
        double latest[3] = {NAN, NAN, NAN}, maxv[3] = {NAN, NAN, NAN};
        lgc_cw_parse(j, ids, 3, latest, maxv);
        cJSON_Delete(j);
    }
    return 0;
}
