/* base64_fuzz.c: base64 decoding of arbitrary text (API Gateway bodies with
 * isBase64Encoded) and the encode/decode round trip. Invariants: no crash; a
 * decode that fails leaves the buffer unchanged; encode(decode(x)) decodes to
 * the same bytes; encode then decode of the raw input is the identity. */
#include "rt.h"

#include "cm/err.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cm_buf dec, enc, back;
    cm_buf_init(&dec, 0);
    cm_buf_init(&enc, 0);
    cm_buf_init(&back, 0);
    cm_buf_puts(&dec, "pre");
    int rc = rt_base64_decode((const char *)data, size, &dec);
    if (rc != 0 && (rc != CM_EPARSE || dec.len != 3 || memcmp(dec.data, "pre", 3) != 0))
        abort();
    if (rc == 0) {
        if (dec.len - 3 > size / 4 * 3 + 2)
            abort();
        if (rt_base64_encode(dec.data + 3, dec.len - 3, &enc) != 0 ||
            rt_base64_decode(enc.data, enc.len, &back) != 0 || back.len != dec.len - 3 ||
            (back.len && memcmp(back.data, dec.data + 3, back.len) != 0))
            abort();
    }
    cm_buf_reset(&enc);
    cm_buf_reset(&back);
    if (rt_base64_encode(data, size, &enc) != 0 || enc.len != (size + 2) / 3 * 4 ||
        rt_base64_decode(enc.data, enc.len, &back) != 0 || back.len != size ||
        (size && memcmp(back.data, data, size) != 0))
        abort();
    cm_buf_deinit(&dec);
    cm_buf_deinit(&enc);
    cm_buf_deinit(&back);
    return 0;
}
