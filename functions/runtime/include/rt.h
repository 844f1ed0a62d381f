/* rt.h: the Lambda runtime library for C functions (prefix rt_). A function
 * is one `bootstrap` executable whose main() fills a struct rt_function and
 * returns rt_run(); the same binary runs on AWS `provided.al2023` and under
 * stackd. The library speaks the Lambda Runtime API (2018-06-01) over one
 * keep-alive TCP connection with a small HTTP/1.1 client of its own (libcurl
 * cost ~9 poll() per invocation; see runtime.c), writes structured JSON log
 * lines and CloudWatch Embedded Metric Format (EMF) documents to stdout, and
 * parses the events our functions receive (API Gateway HTTP API payload 2.0,
 * API Gateway WebSocket, SQS batches). It is deliberately not a general AWS
 * SDK: calls to DynamoDB, SQS or @connections go through common/ (libcurl).
 *
 * A function in full (see functions/hello/handler.c for a larger one):
 *
 *   static int handler(const struct rt_invocation *inv, const char *event, size_t len,
 *                      struct cm_buf *response, struct rt_error *err)
 *   {
 *       struct rt_apigw_request req;
 *       const char *why = NULL;
 *       int rc = rt_apigw_request_from_json(inv->event_json, &req, &why);
 *       if (rc == 0) {
 *           rt_info("GET %s", req.raw_path);   // JSON line with requestId, correlationId
 *           rt_metrics_add(inv->metrics, "Hits", RT_UNIT_COUNT, 1);
 *           rc = rt_apigw_respond_json(inv, 200, "{\"ok\":true}", response);
 *       } else {
 *           rt_error_set(err, "InvalidEvent", "%s", why);
 *       }
 *       rt_apigw_request_deinit(&req);
 *       return rc;
 *   }
 *   int main(void)
 *   {
 *       struct rt_function fn = {.handler = handler};
 *       return rt_run(&fn);
 *   }
 *
 * Threading: the runtime loop, the log context and the invocation's metrics
 * context belong to the thread that called rt_run(). A handler may start its
 * own threads, but only the rt_run() thread may call rt_log*() and
 * rt_metrics*() on the runtime's objects while an invocation is running.
 * Parsers and builders (rt_apigw_*, rt_sqs_*, rt_base64_*, rt_event_*,
 * rt_error_*) are reentrant: they touch only the objects passed to them;
 * the one exception is rt_sqs_process(), which sets the log context's
 * correlation id. */
#ifndef RT_H
#define RT_H

#include "cm/buf.h"
#include "cm/log.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------------ */
/* Limits                                                                    */
/* ------------------------------------------------------------------------ */

#define RT_MAX_EVENT_BYTES    ((size_t)8 << 20) /* largest /next body accepted */
#define RT_MAX_RESPONSE_BYTES ((size_t)6291556) /* Lambda's sync limit: 6 MiB + 100 B */
#define RT_ERROR_TYPE_MAX     128               /* bytes incl. NUL */
#define RT_ERROR_MESSAGE_MAX  1024              /* bytes incl. NUL */
#define RT_CORR_ID_MAX        128               /* bytes incl. NUL; longer ids are cut */

/* ------------------------------------------------------------------------ */
/* Errors reported to the Runtime API                                        */
/* ------------------------------------------------------------------------ */

/* A function error: becomes the body {"errorMessage","errorType","stackTrace":[]}
 * of POST .../invocation/{id}/error (or /init/error). Caller-owned storage;
 * both strings are always NUL-terminated (truncated if too long). */
struct rt_error {
    char type[RT_ERROR_TYPE_MAX];       /* errorType, e.g. "ValidationError"; "" = unset */
    char message[RT_ERROR_MESSAGE_MAX]; /* errorMessage, free text */
};

/* Sets type (copied, NULL means "Error") and the printf-formatted message. */
void rt_error_set(struct rt_error *err, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends the standard error JSON for err to out. 0 or CM_ETOOBIG. */
int rt_error_body(const struct rt_error *err, struct cm_buf *out);
/* The Lambda-Runtime-Function-Error-Type header value for err: err->type
 * itself when it already has the form (Runtime|Function).[A-Z][a-zA-Z]+
 * (the form RIE and Lambda accept), else `fallback` ("Function.Unhandled"
 * for invocations, "Runtime.InitError" for init). Returns a pointer into err
 * or fallback; never NULL. */
const char *rt_error_header_type(const struct rt_error *err, const char *fallback);

/* ------------------------------------------------------------------------ */
/* The runtime loop                                                          */
/* ------------------------------------------------------------------------ */

struct rt_metrics;

/* One invocation, valid for the duration of the handler call only (every
 * pointer is owned by the runtime and is reused for the next invocation).
 * Strings are never NULL: an absent header is "". */
struct rt_invocation {
    const char *request_id;       /* Lambda-Runtime-Aws-Request-Id */
    int64_t deadline_ms;          /* Lambda-Runtime-Deadline-Ms, Unix epoch ms; 0 = none */
    const char *function_arn;     /* Lambda-Runtime-Invoked-Function-Arn */
    const char *trace_id;         /* Lambda-Runtime-Trace-Id; also in $_X_AMZN_TRACE_ID */
    const char *client_context;   /* Lambda-Runtime-Client-Context (JSON text) */
    const char *cognito_identity; /* Lambda-Runtime-Cognito-Identity (JSON text) */
    const char *correlation_id;   /* from the event (see rt_event_correlation_id); "" = none */
    int cold_start;               /* 1 only for the first invocation of this process */
    const cJSON *event_json;      /* the event parsed once; NULL when it is not JSON */
    struct rt_metrics *metrics;   /* this invocation's EMF context, flushed after the
                                     handler returns; preset: dimension `service`,
                                     properties `requestId` and `correlationId` */
    void *user;                   /* rt_function.user */
};

/* The handler. `event` (len bytes, NUL-terminated for convenience) is the raw
 * /next body. Write the result into `response` (empty on entry, max
 * RT_MAX_EVENT_BYTES; a response over RT_MAX_RESPONSE_BYTES is reported as
 * Function.ResponseSizeTooLarge). Return 0 for success, or a negative value
 * for a function error: fill `err` (if err->type is left empty the runtime
 * uses "Runtime.HandlerError" and cm_strerror(rc)). */
typedef int (*rt_handler_fn)(const struct rt_invocation *inv, const char *event, size_t len,
                             struct cm_buf *response, struct rt_error *err);
/* Optional init, run once before the first /next. Return 0, or a negative
 * value with err filled: the runtime posts it to /init/error and rt_run()
 * returns 1 without polling for events. */
typedef int (*rt_init_fn)(void *user, struct rt_error *err);

struct rt_function {
    const char *name;              /* NULL: $AWS_LAMBDA_FUNCTION_NAME, else "function" */
    const char *service;           /* NULL: $POWERTOOLS_SERVICE_NAME, else the name */
    const char *metrics_namespace; /* NULL: $POWERTOOLS_METRICS_NAMESPACE, else "Orders" */
    rt_init_fn init;               /* may be NULL */
    rt_handler_fn handler;         /* required */
    void *user;                    /* passed to init and as inv->user */
};

/* Runs the Runtime API loop until the Runtime API fails for good; meant to
 * be `return rt_run(&fn);` in main(). Reads AWS_LAMBDA_RUNTIME_API
 * (host:port[/prefix]) and the AWS_LAMBDA_* variables. Per invocation it sets
 * (or unsets) $_X_AMZN_TRACE_ID, derives the correlation id, emits the
 * ColdStart EMF document on the first invocation, calls the handler, flushes
 * the metrics and posts /response or /error. The GET /next has no timeout:
 * the process may be frozen between invocations. SIGPIPE is ignored (a
 * closed stdout must not kill the function mid-invocation). Returns the exit
 * status: 1 after an init failure (already reported), 2 when
 * AWS_LAMBDA_RUNTIME_API is missing or fn is invalid, 3 when the Runtime API
 * is gone (500 from /next or /response, or 3 failed /next calls in a row).
 * Call once per process, from the main thread. */
int rt_run(const struct rt_function *fn);

/* Milliseconds until inv's deadline at wall-clock time now_ms (Unix epoch
 * ms); negative when past; INT64_MAX when the invocation has no deadline. */
int64_t rt_remaining_ms_at(const struct rt_invocation *inv, int64_t now_ms);
/* rt_remaining_ms_at() with the current wall clock. */
int64_t rt_remaining_ms(const struct rt_invocation *inv);

/* ------------------------------------------------------------------------ */
/* Structured logs (JSON lines on stdout)                                    */
/* ------------------------------------------------------------------------ */
/* Every line is one JSON object written with one write():
 *   {"timestamp":"2026-11-22T07:19:56.123Z","level":"INFO","message":"...",
 *    "service":"...","functionName":"...","coldStart":true,
 *    "requestId":"...","correlationId":"...", ...extra fields}
 * requestId and correlationId appear only when known. The level threshold
 * comes from $AWS_LAMBDA_LOG_LEVEL or $POWERTOOLS_LOG_LEVEL (DEBUG, INFO, WARN,
 * ERROR; default INFO). Messages are cut at 8 KiB. */

/* One extra member of a log line: a string when str != NULL, else num. */
struct rt_log_field {
    const char *key; /* borrowed, JSON-escaped on output */
    const char *str; /* borrowed; NULL = use num */
    double num;      /* written as an integer when integral; NaN/Inf as null */
};

/* Process-wide context (the runtime calls these; tests and tools may too).
 * Strings are copied. fd is where lines go (default 1 = stdout). */
void rt_log_setup(const char *function_name, const char *service, int fd);
void rt_log_set_level(enum cm_log_level level);
/* Parses DEBUG/INFO/WARN/WARNING/ERROR/CRITICAL/OFF, any case. 0 or CM_EINVAL. */
int rt_log_parse_level(const char *s, enum cm_log_level *out);
/* Marks the start of an invocation (request id and correlation id copied,
 * either may be NULL) and whether it is the cold one. */
void rt_log_begin_invocation(const char *request_id, const char *correlation_id, int cold_start);
/* Clears requestId and correlationId; coldStart becomes false from now on. */
void rt_log_end_invocation(void);
/* Overrides the correlation id of the current invocation (NULL or "" clears);
 * used per record of an SQS batch. Copied, cut at RT_CORR_ID_MAX - 1 bytes. */
void rt_log_set_correlation_id(const char *id);
/* Current correlation id, "" when none. Valid until the next set. */
const char *rt_log_correlation_id(void);

void rt_log(enum cm_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rt_log_fields(enum cm_log_level level, const struct rt_log_field *fields, size_t n,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Builds the line rt_log_fields() would write (including the trailing
 * newline) into out, without the level check, at wall-clock time now_ns.
 * For tests and for callers that batch lines. 0 or CM_ETOOBIG. */
int rt_log_format(struct cm_buf *out, int64_t now_ns, enum cm_log_level level,
                  const struct rt_log_field *fields, size_t n, const char *msg, size_t msg_len);

#define rt_debug(...) rt_log(CM_LOG_DEBUG, __VA_ARGS__)
#define rt_info(...)  rt_log(CM_LOG_INFO, __VA_ARGS__)
#define rt_warn(...)  rt_log(CM_LOG_WARN, __VA_ARGS__)
#define rt_err(...)   rt_log(CM_LOG_ERROR, __VA_ARGS__)

/* ------------------------------------------------------------------------ */
/* CloudWatch Embedded Metric Format                                         */
/* ------------------------------------------------------------------------ */
/* A metrics context collects named metrics (each a list of values), one
 * dimension set and root-level properties, and flushes them as EMF
 * documents:
 *   {"_aws":{"Timestamp":<ms>,"CloudWatchMetrics":[{"Namespace":"Orders",
 *     "Dimensions":[["service",...]],"Metrics":[{"Name":"X","Unit":"Count"}]}]},
 *    "service":"orders","X":[1,2],...properties}
 * Limits enforced (CloudWatch EMF spec): at most 100 metrics and at most 100
 * values per metric in one document (a flush writes as many documents as
 * needed), at most 30 keys per dimension set, dimension values <= 1024
 * bytes, names 1..255 bytes, only CloudWatch units (the enum below). The
 * context holds at most RT_METRICS_MAX_METRICS metrics and
 * RT_METRICS_MAX_VALUES values in total; past that, add returns CM_ETOOBIG
 * unless an output fd was given, in which case the context flushes itself
 * first (as Powertools does at 100 metrics). Not thread-safe. */

#define RT_EMF_MAX_METRICS_PER_DOC 100
#define RT_EMF_MAX_VALUES_PER_DOC  100
#define RT_EMF_MAX_DIMENSIONS      30
#define RT_METRICS_MAX_METRICS     1000
#define RT_METRICS_MAX_VALUES      10000
#define RT_METRICS_MAX_PROPERTIES  64

enum rt_unit {
    RT_UNIT_NONE = 0,
    RT_UNIT_SECONDS,
    RT_UNIT_MICROSECONDS,
    RT_UNIT_MILLISECONDS,
    RT_UNIT_BYTES,
    RT_UNIT_KILOBYTES,
    RT_UNIT_MEGABYTES,
    RT_UNIT_GIGABYTES,
    RT_UNIT_TERABYTES,
    RT_UNIT_BITS,
    RT_UNIT_KILOBITS,
    RT_UNIT_MEGABITS,
    RT_UNIT_GIGABITS,
    RT_UNIT_TERABITS,
    RT_UNIT_PERCENT,
    RT_UNIT_COUNT,
    RT_UNIT_BYTES_PER_SECOND,
    RT_UNIT_KILOBYTES_PER_SECOND,
    RT_UNIT_MEGABYTES_PER_SECOND,
    RT_UNIT_GIGABYTES_PER_SECOND,
    RT_UNIT_TERABYTES_PER_SECOND,
    RT_UNIT_BITS_PER_SECOND,
    RT_UNIT_KILOBITS_PER_SECOND,
    RT_UNIT_MEGABITS_PER_SECOND,
    RT_UNIT_GIGABITS_PER_SECOND,
    RT_UNIT_TERABITS_PER_SECOND,
    RT_UNIT_COUNT_PER_SECOND,
    RT_UNIT__COUNT /* number of units, not a unit */
};

/* CloudWatch spelling ("Count/Second"); "None" for out-of-range values. */
const char *rt_unit_name(enum rt_unit unit);
/* Exact CloudWatch spelling -> unit. 0 or CM_EINVAL. */
int rt_unit_parse(const char *s, enum rt_unit *out);

/* New context for namespace ns (copied; must be 1..255 bytes, otherwise
 * every flush fails with CM_EINVAL). out_fd >= 0 enables self-flushing to
 * that fd when full; -1 disables it. Never NULL (aborts on OOM); free with
 * rt_metrics_free(). */
struct rt_metrics *rt_metrics_new(const char *ns, int out_fd);
void rt_metrics_free(struct rt_metrics *m);
/* Drops metrics, dimensions and properties; keeps namespace and fd. */
void rt_metrics_reset(struct rt_metrics *m);
/* Adds dimension name=value to the (single) dimension set. Both copied.
 * Replaces the value of an existing name. 0, CM_EINVAL (empty name or
 * value, name > 250 bytes, value > 1024 bytes, name used by a metric or a
 * property, "_aws") or CM_ETOOBIG (> 30 dimensions). */
int rt_metrics_add_dimension(struct rt_metrics *m, const char *name, const char *value);
/* Adds one value to metric `name` (created on first use with this unit and
 * storage resolution 60; a later call with another unit is CM_EINVAL).
 * CM_EINVAL also for NaN/Inf, an invalid unit or a name used by a dimension
 * or property; CM_ETOOBIG when full and no fd was given. */
int rt_metrics_add(struct rt_metrics *m, const char *name, enum rt_unit unit, double value);
/* As rt_metrics_add with StorageResolution 1 (high resolution). */
int rt_metrics_add_hr(struct rt_metrics *m, const char *name, enum rt_unit unit, double value);
/* Root-level string member that is not a dimension (requestId, orderId, ...).
 * Copied; replaces an existing key. 0, CM_EINVAL, CM_ETOOBIG (> 64). */
int rt_metrics_set_property(struct rt_metrics *m, const char *key, const char *value);
/* Number of distinct metrics currently held. */
size_t rt_metrics_count(const struct rt_metrics *m);
/* Appends the EMF documents for everything held (one JSON object per line,
 * each ending in '\n') to out with _aws.Timestamp = now_ms, then clears the
 * metrics (dimensions and properties stay). Nothing is written when no metric
 * is held. Returns the number of documents written (>= 0), or CM_EINVAL
 * (invalid namespace) / CM_ETOOBIG (out full; metrics are kept). */
int rt_metrics_flush(struct rt_metrics *m, int64_t now_ms, struct cm_buf *out);
/* rt_metrics_flush() to the context's fd (or stdout when it has none) with
 * the current wall clock. Returns the number of documents or a cm_err. */
int rt_metrics_flush_fd(struct rt_metrics *m);
/* Writes the ColdStart document (metric ColdStart, Count, value 1, dimensions
 * [["function_name","service"]], as Powertools does) to out. 0 or cm_err. */
int rt_metrics_cold_start_doc(const char *ns, const char *function_name, const char *service,
                              int64_t now_ms, struct cm_buf *out);

/* ------------------------------------------------------------------------ */
/* Base64 (RFC 4648, standard alphabet, padded)                              */
/* ------------------------------------------------------------------------ */

/* Appends the encoding of n bytes to out. 0 or CM_ETOOBIG. */
int rt_base64_encode(const void *p, size_t n, struct cm_buf *out);
/* Appends the decoded bytes to out. Accepts missing padding; rejects other
 * characters (whitespace included). 0, CM_EPARSE or CM_ETOOBIG. */
int rt_base64_decode(const char *p, size_t n, struct cm_buf *out);

/* ------------------------------------------------------------------------ */
/* Event helpers                                                             */
/* ------------------------------------------------------------------------ */

/* A name/value pair borrowed from a parsed event (see the owner's _deinit). */
struct rt_kv {
    const char *name;
    const char *value;
};

/* The correlation id of an event, copied into out (cap bytes, cut if longer),
 * from the first of:
 * - API Gateway v2 / WebSocket: header x-correlation-id (any case);
 * - SQS: messageAttributes.correlation_id.stringValue of the first record
 *   (per record, rt_sqs_process() sets each record's own id);
 * - direct Invoke payloads: a top-level string "correlation_id" or
 *   "correlationId".
 * Returns 1 when found, else 0 with out = "". root may be NULL. */
int rt_event_correlation_id(const cJSON *root, char *out, size_t cap);

/* API Gateway HTTP API (payload format 2.0) and WebSocket API events. One
 * parser for both: WebSocket events have event_type set ("CONNECT",
 * "DISCONNECT", "MESSAGE"). All strings are "" when absent and are valid
 * until rt_apigw_request_deinit(); when parsed from a borrowed cJSON tree the
 * tree must outlive the request. */
struct rt_apigw_request {
    const char *version;       /* "2.0"; "" for WebSocket events */
    const char *route_key;     /* routeKey (top level, else requestContext.routeKey) */
    const char *raw_path;      /* rawPath */
    const char *raw_query;     /* rawQueryString, no '?' */
    const char *method;        /* requestContext.http.method */
    const char *request_id;    /* requestContext.requestId */
    const char *source_ip;     /* requestContext.http.sourceIp or .identity.sourceIp */
    const char *stage;         /* requestContext.stage */
    const char *domain_name;   /* requestContext.domainName */
    const char *connection_id; /* WebSocket: requestContext.connectionId */
    const char *event_type;    /* WebSocket: requestContext.eventType */
    struct rt_kv *headers;     /* names lower-cased (copies), values borrowed */
    size_t n_headers;
    struct rt_kv *path_params; /* pathParameters */
    size_t n_path_params;
    struct rt_kv *query; /* queryStringParameters (already decoded) */
    size_t n_query;
    const char *body; /* decoded when is_base64; "" when absent */
    size_t body_len;  /* bytes of body */
    int is_base64;    /* isBase64Encoded was true */
    int is_websocket; /* event_type is set */
    /* private */
    cJSON *owned_;
    char *body_buf_;
    char *names_;
};

/* Parses an event from n bytes (need not be NUL-terminated). On error
 * returns CM_EPARSE (not JSON) or CM_EINVAL (not an API Gateway v2 or
 * WebSocket event, a field of the wrong type, invalid base64 body) and sets
 * *why (when why != NULL) to a static sentence naming the field. req is
 * always safe to deinit afterwards. */
int rt_apigw_request_parse(const char *p, size_t n, struct rt_apigw_request *req, const char **why);
/* Same over an already parsed tree (borrowed). */
int rt_apigw_request_from_json(const cJSON *root, struct rt_apigw_request *req, const char **why);
void rt_apigw_request_deinit(struct rt_apigw_request *req);
/* Lookups; NULL when absent. Header names compare case-insensitively. */
const char *rt_apigw_header(const struct rt_apigw_request *req, const char *name);
const char *rt_apigw_query_param(const struct rt_apigw_request *req, const char *name);
const char *rt_apigw_path_param(const struct rt_apigw_request *req, const char *name);

/* A payload-2.0 (and WebSocket) structured response. */
struct rt_apigw_response {
    int status_code;             /* e.g. 200 */
    const char *content_type;    /* NULL: "application/json" */
    const struct rt_kv *headers; /* extra headers (may be NULL) */
    size_t n_headers;
    const char *body; /* may be NULL (no body) */
    size_t body_len;
    int base64; /* encode body as base64 and set isBase64Encoded */
};

/* Appends {"statusCode","headers","body","isBase64Encoded"} to out. When inv
 * is not NULL the headers also carry `x-cold-start: 1` (cold invocation) or
 * `0`, and `x-correlation-id` when the invocation has one and the caller did
 * not set it. 0, CM_EINVAL (status outside 100..599) or CM_ETOOBIG. */
int rt_apigw_response_write(const struct rt_invocation *inv, const struct rt_apigw_response *resp,
                            struct cm_buf *out);
/* Shorthand: status + JSON body text (copied as the body string). */
int rt_apigw_respond_json(const struct rt_invocation *inv, int status, const char *json,
                          struct cm_buf *out);

/* SQS -> Lambda batch events. */
struct rt_sqs_record {
    const char *message_id;     /* messageId (required) */
    const char *receipt_handle; /* receiptHandle */
    const char *body;           /* body; "" when absent */
    size_t body_len;
    const char *md5_of_body;            /* md5OfBody */
    const char *event_source_arn;       /* eventSourceARN */
    const char *aws_region;             /* awsRegion */
    int64_t approximate_receive_count;  /* attributes.ApproximateReceiveCount; 0 if absent */
    int64_t sent_timestamp_ms;          /* attributes.SentTimestamp; 0 if absent */
    int64_t first_receive_timestamp_ms; /* attributes.ApproximateFirstReceiveTimestamp */
    const cJSON *attributes;            /* raw `attributes` object or NULL */
    const cJSON *message_attributes;    /* raw `messageAttributes` object or NULL */
};

struct rt_sqs_event {
    struct rt_sqs_record *records;
    size_t n_records;
    int fifo; /* eventSourceARN of the first record ends in ".fifo" */
    /* private */
    cJSON *owned_;
};

/* Parses {"Records":[...]}. CM_EPARSE (not JSON) or CM_EINVAL (no Records
 * array, a record that is not an object or has no string messageId, a field
 * of the wrong type) with *why set. ev is always safe to deinit. */
int rt_sqs_event_parse(const char *p, size_t n, struct rt_sqs_event *ev, const char **why);
int rt_sqs_event_from_json(const cJSON *root, struct rt_sqs_event *ev, const char **why);
void rt_sqs_event_deinit(struct rt_sqs_event *ev);
/* attributes.<name> (e.g. "AWSTraceHeader", "MessageGroupId"); NULL if absent. */
const char *rt_sqs_attribute(const struct rt_sqs_record *r, const char *name);
/* messageAttributes.<name>.stringValue; NULL if absent. */
const char *rt_sqs_message_attribute(const struct rt_sqs_record *r, const char *name);

/* Appends {"batchItemFailures":[{"itemIdentifier":"id"},...]} to out. 0 or
 * CM_ETOOBIG. */
int rt_sqs_batch_response(const char *const *failed_ids, size_t n, struct cm_buf *out);

/* Per-record callback for rt_sqs_process(): 0 = processed, anything else =
 * failed (reported in batchItemFailures). */
typedef int (*rt_sqs_record_fn)(const struct rt_invocation *inv, const struct rt_sqs_record *r,
                                void *arg);
/* Calls fn for each record with the log correlation id set to the record's
 * `correlation_id` message attribute, collects the failures and writes the
 * partial batch response to out. For FIFO queues it stops at the first
 * failure and reports that record and every later one (order preserved).
 * Restores the invocation's correlation id afterwards. Returns the number
 * of failed records (>= 0) or CM_ETOOBIG. inv may be NULL. */
int rt_sqs_process(const struct rt_invocation *inv, const struct rt_sqs_event *ev,
                   rt_sqs_record_fn fn, void *arg, struct cm_buf *out);

#endif
