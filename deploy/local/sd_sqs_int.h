/* sd_sqs_int.h: the pieces of stackd's SQS shared by sd_sqs.c (both wire
 * protocols, long polls), sd_sqs_store.c (queues and messages: memory index
 * and SQLite) and sd_sqs_attr.c (attribute encoding, MD5s, base64), and by
 * their unit tests. Not used outside sd_sqs*. */
#ifndef SD_SQS_INT_H
#define SD_SQS_INT_H

#include "sd_sqs.h"

#include "cm/buf.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define SQS_MAX_NAME        80
#define SQS_DEFAULT_VIS_S   30
#define SQS_DEFAULT_RET_S   345600
#define SQS_DEFAULT_MAX_B   1048576
#define SQS_MAX_ATTRS       10
#define SQS_PURGE_WINDOW_MS 60000

struct sqs_waiter;

struct sqs_msg {
    int64_t seq; /* SQLite rowid, unique store-wide */
    struct sqs_queue *q;
    int64_t visible_ms;    /* visible from this time on (delay, visibility timeout) */
    int64_t sent_ms;       /* SentTimestamp */
    int64_t first_recv_ms; /* 0 before the first receive */
    int64_t recv_count;
    uint32_t nonce; /* changes with every receive: stale receipt handles are detected */
    size_t heap_idx;
    char id[37];
    char md5_body[33];
    char md5_attrs[33];
    char *body;
    size_t body_len;
    unsigned char *attrs; /* encoded as for the MD5 (sd_sqs_attr_next) */
    size_t attrs_len;
    char *sender, *trace, *src_arn; /* NULL when absent */
};

struct sqs_queue {
    int64_t id;
    char name[SQS_MAX_NAME + 1];
    int64_t created_s, modified_s;
    int64_t vis_s, retention_s, delay_s, wait_s, max_bytes;
    char *dlq_arn; /* RedrivePolicy target, NULL: none */
    int64_t max_receive;
    char *extra;           /* JSON object text: attributes stored verbatim (Policy...), or NULL */
    int64_t purged_ms;     /* last PurgeQueue, 0: never */
    struct sqs_msg **heap; /* min-heap on (visible_ms, seq): every live message */
    size_t n, cap;
    struct sqs_waiter *waiters; /* long polls, oldest first */
};

enum {
    SQS_ST_INS,
    SQS_ST_RECV,
    SQS_ST_VIS,
    SQS_ST_DEL,
    SQS_ST_MOVE,
    SQS_ST_PURGE,
    SQS_ST_QPUT,
    SQS_ST_QDEL,
    SQS_ST_N
};

struct sd_sqs {
    sqlite3 *db;
    sqlite3_stmt *st[SQS_ST_N];
    char region[32];
    char account[16];
    char endpoint[128];
    struct sd_sqs_io io;
    struct sqs_queue **qs;
    size_t nq, capq;
    struct sqs_msg **idx; /* open addressing on seq, NULL = empty */
    size_t idx_cap, idx_n;
    int64_t next_qid;
    int64_t last_sweep_ms;
};

/* ---- sd_sqs_attr.c ------------------------------------------------------------- */

struct sqs_attr_in {
    const char *name;
    const char *type;
    const unsigned char *value;
    size_t value_len;
    int binary;
};

/* Sorts a[0..n) by name (byte order) and appends the MD5 input encoding:
 * per attribute u32be name length, name, u32be type length, type, one
 * transport byte (1 String/Number, 2 Binary), u32be value length, value.
 * 0 or CM_ETOOBIG. */
int sqs_attrs_encode(struct sqs_attr_in *a, int n, struct cm_buf *out);
/* Re-encodes the subset of enc whose names match the selection: "All",
 * ".*", an exact name, or "prefix.*". names may be NULL (nothing). */
int sqs_attrs_select(const unsigned char *enc, size_t len, const char *const *names, int n_names,
                     struct cm_buf *out);
int sqs_attr_name_selected(const char *name, size_t n, const char *const *names, int n_names);
/* Standard base64 with padding. */
int sqs_b64_encode(const unsigned char *p, size_t n, struct cm_buf *out);
/* Decodes into a new buffer (free()); 0 or CM_EINVAL. */
int sqs_b64_decode(const char *s, size_t n, unsigned char **out, size_t *out_n);
/* 1 when the n bytes are UTF-8 made only of the characters SQS accepts:
 * #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF. */
int sqs_body_chars_ok(const char *p, size_t n);
/* Valid queue name: 1..80 of [A-Za-z0-9_-]. */
int sqs_name_ok(const char *name);

/* ---- sd_sqs_store.c ------------------------------------------------------------ */

struct sqs_send_in {
    const char *body;
    size_t body_len;
    const unsigned char *attrs; /* encoded, may be NULL */
    size_t attrs_len;
    const char *sender; /* may be NULL */
    const char *trace;  /* AWSTraceHeader, may be NULL */
    int64_t delay_s;    /* < 0: the queue's */
};

int sqs_store_open(struct sd_sqs *s, const char *path, char *err, size_t err_size);
void sqs_store_close(struct sd_sqs *s);
struct sqs_queue *sqs_queue_find(const struct sd_sqs *s, const char *name);
/* Fills a new queue with defaults (not stored yet). */
struct sqs_queue *sqs_queue_alloc(struct sd_sqs *s, const char *name, int64_t now_ms);
void sqs_queue_release(struct sqs_queue *q);
/* Inserts or updates the queue row; adds q to the store if new. 0 or CM_EIO. */
int sqs_queue_save(struct sd_sqs *s, struct sqs_queue *q);
/* Deletes the queue and its messages; q is freed. */
int sqs_queue_delete(struct sd_sqs *s, struct sqs_queue *q);
/* Queue name of an ARN of this account ("arn:aws:sqs:r:acct:name"), or NULL. */
const char *sqs_arn_name(const struct sd_sqs *s, const char *arn);
void sqs_queue_arn(const struct sd_sqs *s, const struct sqs_queue *q, char *out, size_t n);

/* Stores n messages in one transaction; out[i] (may be NULL) get the new
 * messages (owned by the store). 0 or CM_EIO (nothing stored). */
int sqs_store_send(struct sd_sqs *s, struct sqs_queue *q, const struct sqs_send_in *in, int n,
                   int64_t now_ms, struct sqs_msg **out);
/* Receives up to max visible messages; *out[i] stay valid until the next
 * store call. Messages past retention are deleted, those over the redrive
 * limit moved to the DLQ. 0 or CM_EIO. */
int sqs_store_receive(struct sd_sqs *s, struct sqs_queue *q, int max, int64_t vis_s, int64_t now_ms,
                      struct sqs_msg **out, int *n_out);
void sqs_receipt(const struct sqs_msg *m, char out[64]);
/* 0, CM_EINVAL (malformed, other queue, stale for change), CM_ESTATE (not
 * in flight), CM_EIO. */
int sqs_store_delete(struct sd_sqs *s, struct sqs_queue *q, const char *rh);
int sqs_store_change_vis(struct sd_sqs *s, struct sqs_queue *q, const char *rh, int64_t vis_s,
                         int64_t now_ms);
int sqs_store_purge(struct sd_sqs *s, struct sqs_queue *q, int64_t now_ms);
void sqs_store_counts(const struct sqs_queue *q, int64_t now_ms, struct sd_sqs_counts *out);
/* Deletes messages past retention in every queue. */
void sqs_store_sweep(struct sd_sqs *s, int64_t now_ms);
/* Earliest visible_ms in q, INT64_MAX when empty. */
int64_t sqs_queue_next_visible(const struct sqs_queue *q);

#endif
