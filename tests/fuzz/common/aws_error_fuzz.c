/* Fuzz target for cm_aws_error_parse: the input is "<x-amzn-ErrorType>\n
 * <x-amzn-query-error>\n<body>" (JSON, XML or anything). The parser must
 * always produce a NUL-terminated, non-empty code within its buffer and a
 * terminated message, and the retry policy must accept whatever came out. */
#include "cm/aws.h"
#include "cm/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    const char *nl1 = memchr(p, '\n', size);
    const char *t = nl1 ? p : NULL, *q = NULL, *body = p;
    size_t tl = nl1 ? (size_t)(nl1 - p) : 0, ql = 0;
    if (nl1) {
        const char *nl2 = memchr(nl1 + 1, '\n', (size_t)(end - nl1 - 1));
        q = nl1 + 1;
        ql = nl2 ? (size_t)(nl2 - q) : (size_t)(end - q);
        body = nl2 ? nl2 + 1 : end;
    }
    struct cm_aws_error e;
    memset(&e, 0x55, sizeof(e)); /* no reliance on a zeroed output */
    int rc = cm_aws_error_parse(400, t, tl, q, ql, body, (size_t)(end - body), &e);
    if (rc != 0 && rc != CM_ENOTFOUND)
        abort();
    if (!memchr(e.code, '\0', sizeof(e.code)) || !memchr(e.message, '\0', sizeof(e.message)))
        abort();
    if (rc == CM_ENOTFOUND && strcmp(e.code, "Unknown") != 0)
        abort();
    (void)cm_aws_is_retryable(CURLE_OK, 400, e.code);
    return 0;
}
