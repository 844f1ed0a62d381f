/* sd_sqs.h: stackd's SQS: standard queues kept in SQLite (the truth) with an
 * in-memory index, spoken over both wire protocols the clients use --
 * awsQuery (form body Action=..&Version=2012-11-05, XML answers; Debian
 * awscli 2.9 and boto3 1.26) and awsJson1_0 (X-Amz-Target AmazonSQS.<Op>;
 * botocore >= 1.3x and the JS SDK v3) -- plus a C API for stackd's own
 * consumers (the event source mapping). FIFO queues are not emulated
 * (FifoQueue / ".fifo" names are refused); MessageDeduplicationId and
 * MessageGroupId are ignored. Not thread-safe: it belongs to stackd's loop.
 *
 * Delivery is at-least-once: a message is written to SQLite (WAL,
 * synchronous=NORMAL) before SendMessage is answered, receives and
 * deletes are written before they are answered, and after a restart every
 * message keeps its visibility deadline, so in-flight ones come back when
 * their visibility timeout passes. Time is wall-clock epoch milliseconds,
 * always passed in as `now_ms`. */
#ifndef SD_SQS_H
#define SD_SQS_H

#include "sd_req.h"

#include <stddef.h>
#include <stdint.h>

struct sd_sqs;

/* Long-poll answers. reply() is called exactly once for every request that
 * sd_sqs_handle deferred: with the response, or with resp == NULL when the
 * request is dropped (the peer went away, sd_sqs_free). alive() may be NULL. */
struct sd_sqs_io {
    void (*reply)(void *ctx, void *token, const struct sd_resp *resp);
    int (*alive)(void *ctx, void *token);
    void *ctx;
};

struct sd_sqs_config {
    const char *db_path;    /* SQLite file (created); NULL: in memory, nothing survives */
    const char *region;     /* "us-east-1" when NULL */
    const char *account_id; /* "000000000000" when NULL */
    const char *endpoint;   /* "http://127.0.0.1:4566": queue URLs when a request has no Host */
};

/* Opens (or creates) the store and loads every queue and message. 0 or a
 * cm_err with one line in err. Free with sd_sqs_free. */
int sd_sqs_new(const struct sd_sqs_config *cfg, const struct sd_sqs_io *io, struct sd_sqs **out,
               char *err, size_t err_size);
/* Drops pending long polls (io.reply with NULL) and closes the store. Accepts NULL. */
void sd_sqs_free(struct sd_sqs *s);

#define SD_SQS_DEFERRED 1

/* One SQS request in either protocol. Returns 0 with resp complete (status,
 * content type, x-amzn-RequestId, body; errors as AWS shapes them), or
 * SD_SQS_DEFERRED: a ReceiveMessage long poll that found nothing yet; it is
 * answered later through io.reply(token). With token NULL nothing is ever
 * deferred (the poll answers empty at once). Time is req->recv_wall_ns. */
int sd_sqs_handle(struct sd_sqs *s, const struct sd_req *req, struct sd_resp *resp, void *token);
/* Answers every pending long poll now, empty (graceful shutdown). */
void sd_sqs_end_polls(struct sd_sqs *s);
/* Answers long polls whose deadline passed or that can now be served
 * (visibility timeouts and delays that expired), drops dead ones, and
 * deletes messages past their retention period. Call every few ms. */
void sd_sqs_tick(struct sd_sqs *s, int64_t now_ms);

/* ---- C API (stack file, event source mapping, tests) ---------------------- */

/* Queue settings; a negative value means the AWS default. */
struct sd_sqs_queue_opts {
    int64_t visibility_timeout_s; /* 0..43200, default 30 */
    int64_t retention_s;          /* 60..1209600, default 345600 */
    int64_t delay_s;              /* 0..900, default 0 */
    int64_t receive_wait_s;       /* 0..20, default 0 */
    int64_t max_message_bytes;    /* 1024..1048576, default 1048576 */
    const char *dlq_name;         /* redrive target queue (must exist), NULL: none */
    int64_t max_receive_count;    /* 1..1000 with dlq_name */
};
void sd_sqs_queue_opts_init(struct sd_sqs_queue_opts *o);

/* Creates the queue, or updates an existing one to exactly these settings
 * (the stack file is the source of truth). 0, CM_EINVAL (bad name or value,
 * unknown DLQ; err says which), CM_EIO (SQLite). */
int sd_sqs_ensure_queue(struct sd_sqs *s, const char *name, const struct sd_sqs_queue_opts *o,
                        int64_t now_ms, char *err, size_t err_size);
/* "arn:aws:sqs:<region>:<account>:<name>" into out. 0 or CM_ENOTFOUND. */
int sd_sqs_queue_arn(const struct sd_sqs *s, const char *name, char *out, size_t out_size);

/* Sends one message without attributes; delay_s < 0 uses the queue's.
 * message_id (37 bytes) may be NULL. 0, CM_ENOTFOUND, CM_EINVAL (body
 * empty, too big or with characters SQS refuses), CM_EIO. */
int sd_sqs_send(struct sd_sqs *s, const char *queue, const char *body, size_t len, int64_t delay_s,
                int64_t now_ms, char *message_id);

/* One message attribute as decoded from a received message. */
struct sd_sqs_attr {
    const char *name; /* name_len bytes, not NUL terminated */
    size_t name_len;
    const char *type; /* DataType: "String", "Number.int", "Binary"... */
    size_t type_len;
    const unsigned char *value; /* string bytes or raw binary */
    size_t value_len;
    int binary; /* 1 for Binary types: value is raw bytes (base64 it for JSON) */
};

/* A received message; everything is owned by the array (sd_sqs_msgs_free). */
struct sd_sqs_msg {
    char message_id[37];
    char *receipt_handle;
    char *body;
    size_t body_len;
    char md5_body[33];
    char md5_attrs[33]; /* "" without attributes */
    int64_t sent_ms;
    int64_t first_receive_ms;
    int64_t receive_count; /* including this receive */
    char *sender_id;
    char *trace_header;   /* AWSTraceHeader or NULL */
    char *dlq_source_arn; /* set after a redrive, else NULL */
    unsigned char *attrs; /* encoded attributes (see sd_sqs_attr_next) */
    size_t attrs_len;
};

/* Receives up to max (1..10) visible messages, making them invisible for
 * visibility_timeout_s (< 0: the queue's). Messages over maxReceiveCount
 * move to the DLQ instead. *out (NULL when *n_out is 0) is freed with
 * sd_sqs_msgs_free. 0, CM_ENOTFOUND, CM_EINVAL, CM_EIO. */
int sd_sqs_receive(struct sd_sqs *s, const char *queue, int max, int64_t visibility_timeout_s,
                   int64_t now_ms, struct sd_sqs_msg **out, int *n_out);
void sd_sqs_msgs_free(struct sd_sqs_msg *msgs, int n);
/* Iterates encoded attributes: *pos starts at 0. Returns 1 with *a filled,
 * 0 at the end, CM_EPARSE for a corrupt encoding. */
int sd_sqs_attr_next(const unsigned char *enc, size_t len, size_t *pos, struct sd_sqs_attr *a);

/* Deletes by receipt handle. A handle of an already deleted message is a
 * success (as SQS). 0, CM_ENOTFOUND (queue), CM_EINVAL (malformed or
 * another queue's handle), CM_EIO. */
int sd_sqs_delete(struct sd_sqs *s, const char *queue, const char *receipt_handle);
/* Makes an in-flight message visible again after timeout_s (0..43200).
 * 0, CM_ENOTFOUND (queue), CM_EINVAL (malformed handle, another queue's, or
 * stale: the message was received again since), CM_ESTATE (the message is
 * gone or not in flight), CM_EIO. */
int sd_sqs_change_visibility(struct sd_sqs *s, const char *queue, const char *receipt_handle,
                             int64_t timeout_s, int64_t now_ms);

struct sd_sqs_counts {
    int64_t visible;     /* ApproximateNumberOfMessages */
    int64_t not_visible; /* ApproximateNumberOfMessagesNotVisible: received, in flight */
    int64_t delayed;     /* ApproximateNumberOfMessagesDelayed: never received, not yet due */
};
int sd_sqs_counts(const struct sd_sqs *s, const char *queue, int64_t now_ms,
                  struct sd_sqs_counts *out);

/* ---- pieces exposed for tests and fuzzing ------------------------------------ */

/* Lower-case hex MD5 of n bytes into out (33 bytes). */
void sd_sqs_md5_hex(const void *p, size_t n, char out[33]);

#endif
