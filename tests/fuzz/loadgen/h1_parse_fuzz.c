/* h1_parse_fuzz.c: the lean engine's HTTP/1.1 response parser on arbitrary
 * bytes. The first byte picks HEAD, a small header limit and where the input
 * is cut in two; the rest is the response. Must not crash or read past the
 * input; consumed bytes never exceed what was given; feeding it whole and in
 * two pieces (carrying the unconsumed tail, as a connection does) must agree
 * on the outcome, the status and the body. */
#include <stdlib.h>
#include <string.h>

#include "cm/buf.h"
#include "cm/err.h"
#include "h1.h"

struct res {
    int rc, status;
    int64_t body_bytes;
    size_t used;
    struct cm_buf body;
};

static void run(const uint8_t *d, size_t n, size_t cut, int head, size_t max_hdr, struct res *r)
{
    cm_buf_init(&r->body, 4096);
    struct cm_buf hdr;
    cm_buf_init(&hdr, 2048);
    struct lg_h1_parser p = {.body_keep = &r->body, .hdr_keep = &hdr, .max_header_bytes = max_hdr};
    lg_h1_parser_begin(&p, head);
    /* a heap copy of exactly n bytes, so ASan sees any read past the end */
    char *buf = malloc(n ? n : 1);
    size_t blen = 0, from = 0, total = 0;
    int rc = LG_H1_MORE;
    for (int k = 0; k < 2 && rc == LG_H1_MORE; k++) {
        size_t to = k == 0 ? cut : n;
        memcpy(buf + blen, d + from, to - from);
        blen += to - from;
        from = to;
        size_t used = 0;
        rc = lg_h1_parse(&p, buf, blen, &used);
        if (used > blen)
            abort();
        memmove(buf, buf + used, blen - used);
        blen -= used;
        total += used;
    }
    if (rc == LG_H1_MORE)
        rc = lg_h1_parse_eof(&p);
    const char *v;
    size_t vl;
    if (hdr.len && lg_h1_header(hdr.data, hdr.len, "content-length", &v, &vl) && vl > hdr.len)
        abort();
    r->rc = rc;
    r->status = p.status;
    r->body_bytes = p.body_bytes;
    r->used = total;
    free(buf);
    cm_buf_deinit(&hdr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t f = data[0];
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    int head = f & 1;
    size_t max_hdr = (f & 2) ? 256 : 0;
    size_t cut = n ? (size_t)(f >> 2) * n / 63 : 0;
    if (cut > n)
        cut = n;
    struct res a, b;
    run(d, n, n, head, max_hdr, &a);
    run(d, n, cut, head, max_hdr, &b);
    /* a limit error may show up at a different point when split; everything else agrees */
    if (a.rc != b.rc && a.rc != CM_ETOOBIG && b.rc != CM_ETOOBIG)
        abort();
    if (a.rc == LG_H1_DONE && b.rc == LG_H1_DONE &&
        (a.status != b.status || a.body_bytes != b.body_bytes || a.used != b.used ||
         a.body.len != b.body.len ||
         (a.body.len && memcmp(a.body.data, b.body.data, a.body.len) != 0)))
        abort();
    cm_buf_deinit(&a.body);
    cm_buf_deinit(&b.body);
    return 0;
}
