/* Fuzz target for the trace header parsers in cm_corr: every input is fed to
 * the traceparent parser, the X-Ray parser and the UUIDv7 timestamp reader.
 * Whatever parses must survive a format/parse round trip unchanged, and the
 * same trace must be readable in the other format. */
#include "cm/corr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_traceparent(const char *p, size_t n)
{
    struct cm_trace t, back;
    if (cm_trace_parse_traceparent(p, n, &t) != 0)
        return;
    char out[CM_TRACEPARENT_LEN + 1];
    cm_trace_format_traceparent(&t, out);
    if (strlen(out) != CM_TRACEPARENT_LEN || cm_trace_parse_traceparent(out, strlen(out), &back))
        abort();
    if (memcmp(&t, &back, sizeof t) != 0)
        abort();
    /* The same ids as an X-Ray header (flags reduce to the sampled bit). */
    char xr[CM_XRAY_HEADER_MAX];
    cm_trace_format_xray(&t, xr);
    if (cm_trace_parse_xray(xr, strlen(xr), &back) != 0)
        abort();
    if (memcmp(t.trace_id, back.trace_id, 16) || memcmp(t.parent_id, back.parent_id, 8) ||
        back.flags != (t.flags & CM_TRACE_SAMPLED))
        abort();
}

static void check_xray(const char *p, size_t n)
{
    struct cm_trace t, back;
    if (cm_trace_parse_xray(p, n, &t) != 0)
        return;
    if (t.flags & ~CM_TRACE_SAMPLED)
        abort();
    char out[CM_XRAY_HEADER_MAX];
    cm_trace_format_xray(&t, out);
    if (strlen(out) >= sizeof out || cm_trace_parse_xray(out, strlen(out), &back) != 0)
        abort();
    if (memcmp(&t, &back, sizeof t) != 0)
        abort();
    static const uint8_t zero[8];
    char tp[CM_TRACEPARENT_LEN + 1];
    cm_trace_format_traceparent(&t, tp);
    int rc = cm_trace_parse_traceparent(tp, strlen(tp), &back);
    /* A root segment (no Parent) has no W3C equivalent until a span id is chosen. */
    if ((rc == 0) != (memcmp(t.parent_id, zero, 8) != 0))
        abort();
    if (rc == 0 && memcmp(&t, &back, sizeof t) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy, exactly size bytes, so any read past the end is caught. */
    char *p = malloc(size ? size : 1);
    if (!p)
        return 0;
    if (size)
        memcpy(p, data, size);
    check_traceparent(p, size);
    check_xray(p, size);
    int64_t ms = cm_corr_id_time_ms(p, size);
    if (ms < -1 || ms >= (INT64_C(1) << 48))
        abort();
    if (ms >= 0 && size != CM_CORR_ID_LEN)
        abort();
    free(p);
    return 0;
}
