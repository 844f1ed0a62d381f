/* corr.h: correlation IDs and trace headers.
 * - Correlation IDs are UUIDv7 (RFC 9562): 48-bit Unix ms timestamp, version,
 *   random bits; lexically sortable by creation time, unique across threads
 *   and processes without coordination.
 * - W3C Trace Context `traceparent`: "00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>".
 * - AWS X-Ray `X-Amzn-Trace-Id`: "Root=1-<8 hex epoch s>-<24 hex>;Parent=<16 hex>;Sampled=<0|1>".
 * Generation is thread-safe and lock-free (a per-thread PRNG seeded from
 * getrandom, reseeded in the child after fork). Parsers take (pointer, length),
 * never write *t on failure, and tolerate leading/trailing spaces and tabs
 * (HTTP optional whitespace). Not for secrets: the generator is not a CSPRNG. */
#ifndef CM_CORR_H
#define CM_CORR_H

#include <stddef.h>
#include <stdint.h>

#define CM_CORR_ID_LEN     36 /* 8-4-4-4-12 hex with dashes */
#define CM_TRACEPARENT_LEN 55
#define CM_XRAY_ROOT_LEN   35 /* "1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx" */
#define CM_XRAY_HEADER_MAX 96 /* buffer size for cm_trace_format_xray, NUL included */
#define CM_TRACE_ID_HEX    32 /* trace id as 32 lower-case hex digits */

#define CM_TRACE_SAMPLED 0x01 /* trace-flags bit 0 */

struct cm_trace {
    uint8_t trace_id[16];
    uint8_t parent_id[8]; /* all zero after parsing an X-Ray header without Parent */
    uint8_t flags;        /* bit 0: sampled */
};

/* Fills 16 bytes of a UUIDv7 for wall-clock time now_ms. Within one thread
 * the ids are strictly increasing (as 16-byte big-endian numbers) as long as
 * now_ms does not go back by more than 10 s: a 12-bit counter in rand_a
 * (RFC 9562 section 6.2, method 1) orders ids of the same millisecond, and
 * when it runs out, or the clock steps back, the previous timestamp is
 * reused or advanced by 1 ms. A larger step back restarts at now_ms.
 * now_ms is clamped to [0, 2^48 - 1]. */
void cm_corr_uuid7(int64_t now_ms, uint8_t out[16]);
/* Writes a new correlation id (UUIDv7 text, lower-case) and a NUL:
 * out must hold CM_CORR_ID_LEN + 1 bytes. */
void cm_corr_new_id(int64_t now_ms, char out[CM_CORR_ID_LEN + 1]);
/* Formats 16 UUID bytes as 36 lower-case characters and a NUL. */
void cm_corr_format_uuid(const uint8_t id[16], char out[CM_CORR_ID_LEN + 1]);
/* Timestamp (ms) of a UUIDv7 text id, or -1 if it is not one (length 36,
 * dashes at 8/13/18/23, hex digits of either case elsewhere, version 7,
 * variant 10). */
int64_t cm_corr_id_time_ms(const char *p, size_t n);
/* Random bytes from the per-thread generator (not for secrets). */
void cm_corr_random(void *out, size_t n);
/* A random 64-bit value from the per-thread generator. */
uint64_t cm_corr_random_u64(void);

/* New trace whose trace id embeds now (first 4 bytes = Unix seconds, so the
 * same id is a valid X-Ray root) and a random parent id; sampled flag set. */
void cm_trace_new(int64_t now_ms, struct cm_trace *t);
/* child = parent with a new random, non-zero parent_id (the span the caller
 * is about to start); trace id and flags are kept. child may equal parent. */
void cm_trace_child(const struct cm_trace *parent, struct cm_trace *child);
/* out: CM_TRACEPARENT_LEN + 1 bytes. Always writes version 00. */
void cm_trace_format_traceparent(const struct cm_trace *t, char out[CM_TRACEPARENT_LEN + 1]);
/* 0 or CM_EPARSE (wrong length, non-hex or upper-case hex, version ff,
 * all-zero ids). Version 00 must be exactly 55 characters; a higher version
 * may carry more fields after a '-' following the flags (W3C versioning
 * rule); only the version 00 fields are read. */
int cm_trace_parse_traceparent(const char *p, size_t n, struct cm_trace *t);
/* "Root=1-...;Parent=...;Sampled=1"; out must hold CM_XRAY_HEADER_MAX (96)
 * bytes. Parent is left out when parent_id is all zero. */
void cm_trace_format_xray(const struct cm_trace *t, char out[96]);
/* The Root value alone, "1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx" (as Lambda
 * REPORT lines print it): out holds CM_XRAY_ROOT_LEN + 1 bytes. */
void cm_trace_format_xray_root(const struct cm_trace *t, char out[CM_XRAY_ROOT_LEN + 1]);
/* The trace id as 32 lower-case hex digits and a NUL. */
void cm_trace_format_trace_id(const struct cm_trace *t, char out[CM_TRACE_ID_HEX + 1]);
/* Parses Root, Parent and Sampled (any order, keys case-insensitive, other
 * keys ignored, spaces/tabs around ';' and '=' tolerated, empty fields
 * skipped). CM_EPARSE when Root is missing or malformed (not "1-" + 8 hex
 * + "-" + 24 hex, or all zero), when Parent is not 16 hex digits or all
 * zero, when Sampled is not 0, 1 or ?, when one of those keys repeats, or
 * when a field has no '='. Hex digits may be of either case. Sampled=1 sets
 * CM_TRACE_SAMPLED; 0, ? and absent leave flags 0; absent Parent leaves
 * parent_id all zero. */
int cm_trace_parse_xray(const char *p, size_t n, struct cm_trace *t);

#endif
