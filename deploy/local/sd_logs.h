/* sd_logs.h: stackd's CloudWatch Logs: an in-memory store of log groups,
 * streams and events, and the awsJson1_1 handler (X-Amz-Target
 * Logs_20140328.<Op>) for CreateLogGroup, CreateLogStream, PutLogEvents,
 * DescribeLogGroups, DescribeLogStreams, GetLogEvents and FilterLogEvents.
 *
 * Memory is bounded: each stream keeps at most max_events_per_stream events
 * and the store at most max_bytes of messages; past either, the oldest
 * events go first (per stream by timestamp; across streams the stream whose
 * oldest event is oldest). Not persistent: --data-dir is not used yet (the
 * logs are a window for the collectors, not a record).
 *
 * Every event whose message holds an Embedded Metric Format document is also
 * fed to the attached CloudWatch store (sd_logs_set_cw), both for function
 * output (sd_logs_put) and for PutLogEvents, with or without the
 * x-amzn-logs-format header.
 *
 * Threading: none. The store belongs to stackd's single event loop; no
 * function here locks or may be called from another thread. */
#ifndef SD_LOGS_H
#define SD_LOGS_H

#include "sd_req.h"

#include <stddef.h>
#include <stdint.h>

struct sd_cw;
struct sd_logs;

struct sd_logs_config {
    size_t max_events_per_stream; /* 0: default 100000 */
    size_t max_bytes;             /* all messages together; 0: default 256 MiB */
    size_t max_groups;            /* 0: default 10000 */
    size_t max_streams_per_group; /* 0: default 10000 */
};

/* Creates an empty store; cfg may be NULL for the defaults. */
struct sd_logs *sd_logs_new(const struct sd_logs_config *cfg);
void sd_logs_free(struct sd_logs *lg);
/* Events carrying EMF feed cw (borrowed; NULL detaches). */
void sd_logs_set_cw(struct sd_logs *lg, struct sd_cw *cw);

/* 0, CM_ESTATE when it exists already, CM_EINVAL for a bad
 * name (1-512 chars of [.-_/#A-Za-z0-9]), CM_ETOOBIG past max_groups. */
int sd_logs_create_group(struct sd_logs *lg, const char *group, int64_t now_ms);
/* 0, CM_ENOTFOUND (no group), CM_ESTATE (exists), CM_EINVAL (1-512 chars, no
 * ':' or '*'), CM_ETOOBIG. */
int sd_logs_create_stream(struct sd_logs *lg, const char *group, const char *stream,
                          int64_t now_ms);

/* Appends one event (msg: len bytes, not NUL terminated, at most 1 MiB),
 * creating the group and the stream when missing (as Lambda does), and
 * ingests EMF from it into the attached cw store. ts_ms is the event time,
 * now_ms the ingestion time. 0 or CM_EINVAL (bad names, oversized event). */
int sd_logs_put(struct sd_logs *lg, const char *group, const char *stream, int64_t ts_ms,
                const char *msg, size_t len, int64_t now_ms);

/* Counts, for tests and stackd's status page. */
size_t sd_logs_event_count(const struct sd_logs *lg);
size_t sd_logs_bytes(const struct sd_logs *lg);
/* Events in one stream, or -1 when it does not exist. */
long sd_logs_stream_events(const struct sd_logs *lg, const char *group, const char *stream);

/* The Logs_20140328 handler. resp was initialised by the caller
 * (sd_resp_init); the handler sets status, content type, the
 * x-amzn-RequestId header and the body. Time comes from req->recv_wall_ns. */
void sd_logs_handle(struct sd_logs *lg, const struct sd_req *req, struct sd_resp *resp);

/* Filter patterns (FilterLogEvents filterPattern), compiled once. Supported:
 * "" (everything); terms "ERROR timeout" (all must occur, case-sensitive
 * substrings); "\"exact phrase\""; "-term" (must not occur); "?a ?b" (at
 * least one must occur); and JSON patterns "{ $.field = \"v\" }" with
 * = != < <= > >=, string values with a leading/trailing '*' wildcard,
 * numbers, $.a.b and $.a[0] selectors, && || and parentheses, "IS NULL",
 * "NOT EXISTS", "IS TRUE", "IS FALSE". The space-delimited "[a, b, ...]"
 * form is not supported (CM_EUNSUPP). */
struct sd_logs_filter;
/* 0, CM_EPARSE with *why set (static sentence), CM_EUNSUPP. */
int sd_logs_filter_compile(const char *p, size_t n, struct sd_logs_filter **out, const char **why);
void sd_logs_filter_free(struct sd_logs_filter *f);
/* 1 when the message (n bytes) matches, else 0. */
int sd_logs_filter_match(const struct sd_logs_filter *f, const char *msg, size_t n);

#endif
