/* hist_decode_fuzz.c: the cm_hist decoders on untrusted bytes. The first
 * byte picks the entry point, so mutations reach each one:
 *   0  cm_hist_decode (compressed or plain V2, binary)
 *   1  cm_hist_decode_base64_why (text)
 *   2  cm_hist_log_read_line (one interval-log line)
 *   3  the rest zlib-compressed behind a V2 compressed header, so mutated
 *      plain headers and payloads get through the inflate path too.
 * Invariants: a rejection says why and returns no histogram; an accepted
 * histogram's counts sum to its count, percentiles are monotone within
 * [min, max], and it re-encodes and decodes to the same counts. */
#include "cm/buf.h"
#include "cm/err.h"
#include "cm/hist.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void check_hist(const struct cm_hist *h)
{
    int64_t sum = 0;
    struct cm_hist_iter it;
    cm_hist_iter_init(&it, h);
    while (cm_hist_iter_next(&it)) {
        if (it.count <= 0 || it.value_lo > it.value_hi)
            abort();
        sum = it.cumulative;
    }
    if (sum != cm_hist_count(h))
        abort();
    static const double ps[] = {0, 10, 50, 90, 99, 99.99, 100};
    int64_t v[7];
    if (cm_hist_percentiles(h, ps, v, 7) != 0)
        abort();
    for (int i = 0; i < 7; i++)
        if (v[i] < cm_hist_min(h) || v[i] > cm_hist_max(h) || (i && v[i] < v[i - 1]))
            abort();
    struct cm_buf b;
    cm_buf_init(&b, 0);
    if (cm_hist_encode(h, &b) != 0)
        abort();
    struct cm_hist *again = NULL;
    if (cm_hist_decode(b.data, b.len, &again, NULL) != 0 || again->counts_len != h->counts_len ||
        memcmp(again->counts, h->counts, (size_t)h->counts_len * sizeof(int64_t)) != 0)
        abort();
    cm_hist_free(again);
    cm_buf_deinit(&b);
}

static void check_result(int rc, struct cm_hist *h, const char *why)
{
    if (rc < 0) {
        if (h || !why)
            abort();
        return;
    }
    if (!h)
        abort();
    check_hist(h);
    cm_hist_free(h);
}

static void run_compressed(const uint8_t *p, size_t n)
{
    uLongf zlen = compressBound((uLong)n);
    uint8_t *z = malloc(8 + zlen);
    if (!z)
        abort();
    if (compress2(z + 8, &zlen, p, (uLong)n, 1) != Z_OK)
        abort();
    static const uint8_t head[4] = {0x1c, 0x84, 0x93, 0x14};
    memcpy(z, head, 4);
    for (int i = 0; i < 4; i++)
        z[4 + i] = (uint8_t)(zlen >> (24 - 8 * i));
    struct cm_hist *h = NULL;
    const char *why = NULL;
    int rc = cm_hist_decode(z, 8 + zlen, &h, &why);
    check_result(rc, h, why);
    free(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    struct cm_hist *h = NULL;
    const char *why = NULL;
    int rc;
    switch (data[0] & 3) {
    case 0:
        rc = cm_hist_decode(p, n, &h, &why);
        check_result(rc, h, why);
        break;
    case 1:
        rc = cm_hist_decode_base64_why((const char *)p, n, &h, &why);
        check_result(rc, h, why);
        break;
    case 2: {
        struct cm_hist_log_entry e;
        memset(&e, 0, sizeof e);
        rc = cm_hist_log_read_line((const char *)p, n, &e, &why);
        if (rc == 1) {
            if (strlen(e.tag) >= sizeof e.tag)
                abort();
            check_result(0, e.h, NULL);
        } else if (e.h || (rc < 0 && !why)) {
            abort();
        }
        break;
    }
    default:
        run_compressed(p, n);
        break;
    }
    return 0;
}
