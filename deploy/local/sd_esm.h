/* sd_esm.h: SQS -> Lambda event source mappings: pollers that receive from
 * a queue, gather batches (up to BatchSize or until
 * MaximumBatchingWindowInSeconds passes), invoke the function synchronously
 * with AWS's SQS event (protocols.md 4.4), delete what succeeded (all, or
 * all but the batchItemFailures with ReportBatchItemFailures), and scale the
 * number of concurrent batches with the backlog (aws-facts.md 4.5). Also the
 * mapping API of the Lambda service (restJson1, sans-IO):
 *   POST   /2015-03-31/event-source-mappings/         CreateEventSourceMapping (202)
 *   GET    /2015-03-31/event-source-mappings/         ListEventSourceMappings
 *          (?EventSourceArn=&FunctionName=&Marker=&MaxItems=)
 *   GET    /2015-03-31/event-source-mappings/{UUID}  GetEventSourceMapping
 *   PUT    /2015-03-31/event-source-mappings/{UUID}  UpdateEventSourceMapping (202)
 *   DELETE /2015-03-31/event-source-mappings/{UUID}  DeleteEventSourceMapping (202)
 *
 * Scaling, as AWS documents it for standard queues: 5 concurrent batches at
 * first; while every slot is busy, the queue still has visible messages and
 * the last batch did not fail, one more every 200 ms (300 per minute), up to
 * ScalingConfig.MaximumConcurrency (2..1000) or 1000; a throttle (the
 * function or account is at its concurrency limit: the invoke returns
 * CM_EAGAIN, Lambda's 429) lowers the target to the batches in flight and
 * pauses polling with an exponential backoff (100 ms doubling to 5 s); after
 * 60 s without messages the target drops back to 5. The gathered batch is
 * kept across a throttle (its messages stay in flight until their visibility
 * timeout, as on AWS). FIFO queues are not supported.
 *
 * The queue and the function are reached through the two ops structs, so
 * the state machine is testable with an explicit `now`. Not thread-safe:
 * stackd's loop owns it. */
#ifndef SD_ESM_H
#define SD_ESM_H

#include "sd_req.h"
#include "sd_sqs.h"

#include <stddef.h>
#include <stdint.h>

struct sd_esm;

#define SD_ESM_MAX_MAPPINGS      1000
#define SD_ESM_INITIAL_BATCHES   5
#define SD_ESM_MAX_BATCHES       1000
#define SD_ESM_MAX_PAYLOAD       (6u * 1024 * 1024) /* synchronous invoke limit */
#define SD_ESM_RECEIVES_PER_TICK 200                /* per mapping, bounds one tick's work */

/* The queue side (sd_sqs in stackd). */
struct sd_esm_queue_ops {
    /* As sd_sqs_receive with the queue's visibility timeout. */
    int (*receive)(void *ctx, const char *queue, int max, int64_t now_ms, struct sd_sqs_msg **out,
                   int *n_out);
    void (*msgs_free)(void *ctx, struct sd_sqs_msg *msgs, int n);
    /* As sd_sqs_delete. */
    int (*delete_msg)(void *ctx, const char *queue, const char *receipt_handle);
    /* Visible messages in *visible: 0, or CM_ENOTFOUND for an unknown queue. */
    int (*visible)(void *ctx, const char *queue, int64_t now_ms, int64_t *visible);
    void *ctx;
};

enum sd_esm_inv_status { SD_ESM_INV_OK = 0, SD_ESM_INV_ERROR, SD_ESM_INV_SHUTDOWN };

/* Called exactly once per started invocation, never from inside invoke().
 * body: the function's response (OK) or error JSON. */
typedef void (*sd_esm_done_fn)(void *done_ctx, enum sd_esm_inv_status st, const char *body,
                               size_t len);

/* The function side (sd_lambda in stackd). */
struct sd_esm_fn_ops {
    /* Starts a synchronous invocation of `function` (canonical name). 0,
     * CM_EAGAIN (throttled: nothing started), CM_ENOTFOUND, other < 0. */
    int (*invoke)(void *ctx, const char *function, const char *payload, size_t len,
                  sd_esm_done_fn done, void *done_ctx);
    /* Resolves a name, partial ARN or ARN: canonical name into name (>= 65
     * bytes) and its ARN into arn (>= 160 bytes). 0 or CM_ENOTFOUND. */
    int (*resolve)(void *ctx, const char *name_or_arn, char *name, char *arn);
    void *ctx;
};

struct sd_esm_config {
    const char *region;     /* "us-east-1" */
    const char *account_id; /* "000000000000" */
};

/* One mapping's settings (stack file, CreateEventSourceMapping). */
struct sd_esm_spec {
    const char *queue;       /* queue name */
    const char *function;    /* name, partial ARN or ARN */
    int64_t batch_size;      /* 1..10000; above 10 needs window_s >= 1 */
    int64_t window_s;        /* MaximumBatchingWindowInSeconds 0..300 */
    int64_t max_concurrency; /* ScalingConfig.MaximumConcurrency 2..1000, 0: none */
    int report_failures;     /* FunctionResponseTypes ["ReportBatchItemFailures"] */
    int enabled;
};

/* Counters of one mapping, for tests and diagnostics. */
struct sd_esm_stats {
    uint64_t batches;         /* invocations started */
    uint64_t records;         /* messages in them */
    uint64_t deleted;         /* messages deleted after success; subset of records */
    uint64_t failed_batches;  /* function error, timeout or invalid partial response */
    uint64_t partial_batches; /* batches with a valid, non-empty batchItemFailures */
    uint64_t throttles;       /* invocations refused with CM_EAGAIN */
    int inflight;             /* batches being processed now */
    int target;               /* concurrent batches allowed now */
    int gathered;             /* messages received and waiting for their batch */
    int last_batch_size;      /* records in the last batch started */
};

/* 0 or a cm_err. ops are copied. Free with sd_esm_free (after the function
 * side has called every pending done callback, e.g. sd_lambda_free). */
int sd_esm_new(const struct sd_esm_config *cfg, const struct sd_esm_queue_ops *q,
               const struct sd_esm_fn_ops *f, struct sd_esm **out);
void sd_esm_free(struct sd_esm *e);
/* sd_esm_new over stackd's own services: queues from sq, invocations through
 * sd_lambda_invoke (free the ESM after sd_lambda_free, before sd_sqs_free). */
struct sd_lambda;
int sd_esm_new_stackd(const struct sd_esm_config *cfg, struct sd_sqs *sq, struct sd_lambda *l,
                      struct sd_esm **out);

/* Validates spec and adds a mapping. uuid (37 bytes) may be NULL. 0,
 * CM_EINVAL (err names the field), CM_ENOTFOUND (queue or function; err
 * says which), CM_ESTATE (this queue and function already have a mapping),
 * CM_ETOOBIG (too many mappings). */
int sd_esm_create(struct sd_esm *e, const struct sd_esm_spec *spec, int64_t now_ms, char *uuid,
                  char *err, size_t err_size);
/* Changes batch size and window of a live mapping (they apply to the next
 * batch). 0 or CM_ENOTFOUND / CM_EINVAL. */
int sd_esm_set_batching(struct sd_esm *e, const char *uuid, int64_t batch_size, int64_t window_s,
                        char *err, size_t err_size);
/* Stops polling and removes the mapping (batches in flight finish; their
 * results still delete messages). 0 or CM_ENOTFOUND. */
int sd_esm_delete(struct sd_esm *e, const char *uuid);
int sd_esm_stats(const struct sd_esm *e, const char *uuid, struct sd_esm_stats *out);
size_t sd_esm_count(const struct sd_esm *e);

/* Polls, dispatches and scales every mapping. Call every few ms. */
void sd_esm_tick(struct sd_esm *e, int64_t now_ms);

/* One mapping API request (paths above; resp complete on return). */
void sd_esm_api_handle(struct sd_esm *e, const struct sd_req *req, struct sd_resp *resp);
/* 1 when path belongs to the mapping API. */
int sd_esm_api_match(const char *path);

/* Appends the Lambda event record of m (one element of "Records"). */
void sd_esm_record_json(const struct sd_sqs_msg *m, const char *queue_arn, const char *region,
                        struct cm_buf *out);

#endif
