/* corr.h: correlation IDs and trace headers.
 * - Correlation IDs are UUIDv7 (RFC 9562): 48-bit Unix ms timestamp, version,
 *   random bits; lexically sortable by creation time, unique across threads
 *   and processes without coordination.
 * - W3C Trace Context `traceparent`: "00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>".
 * - AWS X-Ray `X-Amzn-Trace-Id`: "Root=1-<8 hex epoch s>-<24 hex>;Parent=<16 hex>;Sampled=<0|1>".
 * Generation is thread-safe and lock-free (a per-thread PRNG seeded from
 * getrandom). Parsers take (pointer, length). */
#ifndef CM_CORR_H
#define CM_CORR_H

#include <stddef.h>
#include <stdint.h>

#define CM_CORR_ID_LEN     36 /* 8-4-4-4-12 hex with dashes */
#define CM_TRACEPARENT_LEN 55
#define CM_XRAY_ROOT_LEN   35 /* "1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx" */

struct cm_trace {
    uint8_t trace_id[16];
    uint8_t parent_id[8];
    uint8_t flags; /* bit 0: sampled */
};

/* Fills 16 bytes of a UUIDv7 for wall-clock time now_ms. */
void cm_corr_uuid7(int64_t now_ms, uint8_t out[16]);
/* Writes a new correlation id (UUIDv7 text, lower-case) and a NUL:
 * out must hold CM_CORR_ID_LEN + 1 bytes. */
void cm_corr_new_id(int64_t now_ms, char out[CM_CORR_ID_LEN + 1]);
/* Timestamp (ms) of a UUIDv7 text id, or -1 if it is not one. */
int64_t cm_corr_id_time_ms(const char *p, size_t n);
/* Random bytes from the per-thread generator (not for secrets). */
void cm_corr_random(void *out, size_t n);

/* New trace whose trace id embeds now (first 4 bytes = Unix seconds, so the
 * same id is a valid X-Ray root) and a random parent id; sampled flag set. */
void cm_trace_new(int64_t now_ms, struct cm_trace *t);
/* out: CM_TRACEPARENT_LEN + 1 bytes. */
void cm_trace_format_traceparent(const struct cm_trace *t, char out[CM_TRACEPARENT_LEN + 1]);
/* 0 or CM_EPARSE (wrong length, non-hex, version ff, all-zero ids). */
int cm_trace_parse_traceparent(const char *p, size_t n, struct cm_trace *t);
/* "Root=1-...;Parent=...;Sampled=1"; out must hold 96 bytes. */
void cm_trace_format_xray(const struct cm_trace *t, char out[96]);
/* Parses Root, Parent and Sampled (any order, other keys ignored);
 * CM_EPARSE when Root is missing or malformed. */
int cm_trace_parse_xray(const char *p, size_t n, struct cm_trace *t);

#endif
