/* Fuzz target for the AWS shared config/credentials INI reader
 * (cm_aws_ini_get): any bytes must give found / not found / parse error with
 * a one-line message naming the place, never a crash or an unterminated
 * value; a value found must not contain a line break. */
#include "cm/aws.h"
#include "cm/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const LOOKUPS[][2] = {{"default", "aws_access_key_id"},
                                             {"profile dev", "region"},
                                             {"default", "aws_session_token"},
                                             {"", ""}};
    const char *text = (const char *)data;
    for (size_t i = 0; i < sizeof(LOOKUPS) / sizeof(LOOKUPS[0]); i++) {
        char out[64], err[160];
        memset(out, 0x55, sizeof(out));
        err[0] = '\0';
        int rc = cm_aws_ini_get("fuzz.ini", text, size, LOOKUPS[i][0], LOOKUPS[i][1], out,
                                sizeof(out), err, sizeof(err));
        if (rc == 0) {
            if (!memchr(out, '\0', sizeof(out)) || strchr(out, '\n'))
                abort();
        } else if (rc == CM_EPARSE || rc == CM_ETOOBIG) {
            if (strncmp(err, "fuzz.ini:", 9) != 0 || strchr(err, '\n'))
                abort();
        } else if (rc != CM_ENOTFOUND) {
            abort();
        }
    }
    return 0;
}
