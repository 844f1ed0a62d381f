/* sd_sqs.c: stackd's SQS front end (see sd_sqs.h): both wire protocols,
 * every operation, long polls, and the C API.
 *
 * Protocols, on POST / or POST /<account>/<queue> (the queue path stands in
 * for a missing QueueUrl):
 *  - awsQuery: form body "Action=<Op>&Version=2012-11-05&..." with flattened
 *    lists ("AttributeName.1") and maps ("Attribute.1.Name"/".Value",
 *    "MessageAttribute.1.Value.StringValue"); answers text/xml
 *    <OpResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"> with
 *    flattened elements (<Message>, <QueueUrl>, <Attribute><Name/><Value/>)
 *    and errors <ErrorResponse><Error><Type/><Code/><Message/>.
 *  - awsJson1_0: X-Amz-Target AmazonSQS.<Op>; errors
 *    {"__type":"com.amazonaws.sqs#<Shape>","message":..} plus the header
 *    x-amzn-query-error: <query code>;Sender (SQS is awsQueryCompatible).
 * A query request is first rewritten into the JSON request shape
 * (normalize_query), so every operation is written once, against JSON
 * names, and answers through cm_query_out with small wrappers for SQS's
 * flattened XML lists and maps. */
#include "sd_sqs_int.h"

#include "cm/clock.h"
#include "cm/corr.h"
#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"
#include "cm/query.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SQS_XMLNS   "http://queue.amazonaws.com/doc/2012-11-05/"
#define SQS_TARGET  "AmazonSQS."
#define SQS_JSON_CT "application/x-amz-json-1.0"

#define E_MISSING  "MissingParameter"
#define E_INVALID  "InvalidParameterValue"
#define E_NOQUEUE  "AWS.SimpleQueueService.NonExistentQueue"
#define E_RH       "ReceiptHandleIsInvalid"
#define E_INFL     "AWS.SimpleQueueService.MessageNotInflight"
#define E_ATTRN    "InvalidAttributeName"
#define E_ATTRV    "InvalidAttributeValue"
#define E_CONTENT  "InvalidMessageContents"
#define E_INTERNAL "InternalError"

/* query code -> JSON shape and HTTP status (protocols.md 4.2) */
static const struct {
    const char *code, *shape;
    int status;
} sqs_errors[] = {
    {E_NOQUEUE, "QueueDoesNotExist", 400},
    {"QueueAlreadyExists", "QueueNameExists", 400},
    {E_RH, "ReceiptHandleIsInvalid", 404},
    {E_INFL, "MessageNotInflight", 400},
    {"AWS.SimpleQueueService.PurgeQueueInProgress", "PurgeQueueInProgress", 403},
    {"AWS.SimpleQueueService.TooManyEntriesInBatchRequest", "TooManyEntriesInBatchRequest", 400},
    {"AWS.SimpleQueueService.EmptyBatchRequest", "EmptyBatchRequest", 400},
    {"AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "BatchEntryIdsNotDistinct", 400},
    {"AWS.SimpleQueueService.BatchRequestTooLong", "BatchRequestTooLong", 400},
    {"AWS.SimpleQueueService.InvalidBatchEntryId", "InvalidBatchEntryId", 400},
    {"AWS.SimpleQueueService.UnsupportedOperation", "UnsupportedOperation", 400},
    {E_INTERNAL, "InternalError", 500},
};

struct sqs_error {
    const char *code; /* NULL: no error */
    char msg[512];
};

struct rctx {
    struct sd_sqs *s;
    enum cm_query_fmt fmt;
    cJSON *in; /* the request in JSON shape */
    const char *path;
    struct cm_query_out o;
    int64_t now_ms;
    char base[160];  /* "http://host:port" for queue URLs */
    char sender[64]; /* SenderId */
    struct sqs_error err;
};

struct sqs_waiter {
    struct sqs_waiter *next;
    void *token;
    int64_t deadline_ms;
    enum cm_query_fmt fmt;
    cJSON *in;
    char base[160];
};

static void efail(struct sqs_error *e, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void efail(struct sqs_error *e, const char *code, const char *fmt, ...)
{
    va_list ap;
    if (e->code)
        return; /* the first error wins */
    e->code = code;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}

#define fail(c, ...) efail(&(c)->err, __VA_ARGS__)

/* ---- query -> JSON request shape ------------------------------------------------ */

static cJSON *normalize_obj(const cJSON *q);

/* [{"Name":k,"Value":v}, ...] -> {k: v}; value_is_obj keeps v as a subtree. */
static cJSON *flat_map(const cJSON *arr, const char *kname)
{
    cJSON *m = cJSON_CreateObject();
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
    {
        const char *k = cm_json_str(e, kname, NULL);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "Value");
        if (!k || !v || cJSON_GetObjectItemCaseSensitive(m, k))
            continue;
        cJSON_AddItemToObject(m, k, cJSON_IsObject(v) ? normalize_obj(v) : cJSON_Duplicate(v, 1));
    }
    return m;
}

static const struct {
    const char *query, *json;
    int kind; /* 0 copy/rename, 1 map Name/Value, 2 map Key/Value, 3 list of entries */
} renames[] = {
    {"Attribute", "Attributes", 1},
    {"MessageAttribute", "MessageAttributes", 1},
    {"MessageSystemAttribute", "MessageSystemAttributes", 1},
    {"Tag", "tags", 2},
    {"AttributeName", "AttributeNames", 0},
    {"MessageSystemAttributeName", "MessageSystemAttributeNames", 0},
    {"MessageAttributeName", "MessageAttributeNames", 0},
    {"StringListValue", "StringListValues", 0},
    {"BinaryListValue", "BinaryListValues", 0},
    {"SendMessageBatchRequestEntry", "Entries", 3},
    {"DeleteMessageBatchRequestEntry", "Entries", 3},
    {"ChangeMessageVisibilityBatchRequestEntry", "Entries", 3},
};

static cJSON *normalize_obj(const cJSON *q)
{
    cJSON *out = cJSON_CreateObject();
    const cJSON *it;
    cJSON_ArrayForEach(it, q)
    {
        const char *name = it->string;
        cJSON *v = NULL;
        for (size_t i = 0; i < sizeof renames / sizeof renames[0] && !v; i++) {
            if (strcmp(name, renames[i].query) != 0 || !cJSON_IsArray(it))
                continue;
            name = renames[i].json;
            if (renames[i].kind == 1 || renames[i].kind == 2) {
                v = flat_map(it, renames[i].kind == 1 ? "Name" : "Key");
            } else if (renames[i].kind == 3) {
                v = cJSON_CreateArray();
                const cJSON *e;
                cJSON_ArrayForEach(e, it)
                {
                    cJSON_AddItemToArray(v,
                                         cJSON_IsObject(e) ? normalize_obj(e) : cJSON_CreateNull());
                }
            } else {
                v = cJSON_Duplicate(it, 1);
            }
        }
        if (!v)
            v = cJSON_IsObject(it) ? normalize_obj(it) : cJSON_Duplicate(it, 1);
        if (!cJSON_GetObjectItemCaseSensitive(out, name))
            cJSON_AddItemToObject(out, name, v);
        else
            cJSON_Delete(v);
    }
    return out;
}

/* ---- typed parameters ------------------------------------------------------------- */

static const char *pstr(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* 1 present (in range), 0 absent, -1 after an error. */
static int pint(struct sqs_error *e, const cJSON *obj, const char *key, int64_t lo, int64_t hi,
                int64_t *out)
{
    double d = 0;
    int rc = cm_query_get_num(obj, key, &d);
    if (rc == 0)
        return 0;
    if (rc < 0 || d != (double)(int64_t)d || d < (double)lo || d > (double)hi) {
        const char *raw = pstr(obj, key);
        if (raw)
            efail(e, E_INVALID,
                  "Value %.64s for parameter %s is invalid. Reason: Must be between %" PRId64
                  " and %" PRId64 ", if provided.",
                  raw, key, lo, hi);
        else
            efail(e, E_INVALID,
                  "Value %g for parameter %s is invalid. Reason: Must be between %" PRId64
                  " and %" PRId64 ", if provided.",
                  d, key, lo, hi);
        return -1;
    }
    *out = (int64_t)d;
    return 1;
}

/* Collects the strings of a list parameter into names (at most max). */
static int pnames(const cJSON *obj, const char *key, const char **names, int max)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key), *e;
    int n = 0;
    if (!cJSON_IsArray(arr))
        return 0;
    cJSON_ArrayForEach(e, arr)
    {
        if (cJSON_IsString(e) && n < max)
            names[n++] = e->valuestring;
    }
    return n;
}

/* ---- output helpers for SQS's flattened XML shapes ---------------------------------- */

static void flist_open(struct rctx *c, const char *json_name)
{
    if (c->fmt == CM_QUERY_JSON)
        cm_query_out_open(&c->o, json_name, CM_QUERY_LIST);
}

static void flist_close(struct rctx *c)
{
    if (c->fmt == CM_QUERY_JSON)
        cm_query_out_close(&c->o);
}

static void fmap_open(struct rctx *c, const char *json_name)
{
    if (c->fmt == CM_QUERY_JSON)
        cm_query_out_open(&c->o, json_name, CM_QUERY_MAP);
}

static void fmap_str(struct rctx *c, const char *xml_entry, const char *key, const char *val)
{
    if (c->fmt == CM_QUERY_JSON) {
        cm_query_out_str(&c->o, key, val);
        return;
    }
    cm_query_out_open(&c->o, xml_entry, CM_QUERY_OBJ);
    cm_query_out_str(&c->o, "Name", key);
    cm_query_out_str(&c->o, "Value", val);
    cm_query_out_close(&c->o);
}

static void fmap_int(struct rctx *c, const char *xml_entry, const char *key, int64_t v)
{
    char t[32];
    snprintf(t, sizeof t, "%" PRId64, v);
    fmap_str(c, xml_entry, key, t);
}

/* ---- queues from requests ----------------------------------------------------------- */

static void queue_url(const struct rctx *c, const struct sqs_queue *q, char *out, size_t n)
{
    snprintf(out, n, "%s/%s/%s", c->base, c->s->account, q->name);
}

/* The queue named by QueueUrl (its last path segment), or by the request
 * path "/<account>/<name>" when QueueUrl is absent. */
static struct sqs_queue *req_queue(struct rctx *c)
{
    const char *url = pstr(c->in, "QueueUrl");
    const char *src = url && *url ? url : NULL;
    if (!src && c->path && strcmp(c->path, "/") != 0 && c->path[0] == '/')
        src = c->path;
    if (!src) {
        fail(c, E_MISSING, "The request must contain the parameter QueueUrl.");
        return NULL;
    }
    size_t n = strlen(src);
    while (n > 0 && src[n - 1] == '/')
        n--;
    const char *name = src;
    for (size_t i = 0; i < n; i++)
        if (src[i] == '/')
            name = src + i + 1;
    char nm[SQS_MAX_NAME + 1];
    size_t nl = (size_t)(src + n - name);
    struct sqs_queue *q = NULL;
    if (nl > 0 && nl <= SQS_MAX_NAME) {
        memcpy(nm, name, nl);
        nm[nl] = '\0';
        q = sqs_queue_find(c->s, nm);
    }
    if (!q)
        fail(c, E_NOQUEUE, "The specified queue does not exist.");
    return q;
}

/* ---- queue attributes ------------------------------------------------------------------ */

struct qset {
    int64_t vis, ret, delay, wait, maxb, maxrecv;
    char dlq[256]; /* "" none */
    cJSON *extra;  /* object */
};

static void qset_from(struct qset *a, const struct sqs_queue *q)
{
    a->vis = q->vis_s;
    a->ret = q->retention_s;
    a->delay = q->delay_s;
    a->wait = q->wait_s;
    a->maxb = q->max_bytes;
    a->maxrecv = q->max_receive;
    cm_strlcpy(a->dlq, q->dlq_arn ? q->dlq_arn : "", sizeof a->dlq);
    a->extra = q->extra ? cJSON_Parse(q->extra) : NULL;
    if (!cJSON_IsObject(a->extra)) {
        cJSON_Delete(a->extra);
        a->extra = cJSON_CreateObject();
    }
}

static void qset_to(const struct qset *a, struct sqs_queue *q)
{
    q->vis_s = a->vis;
    q->retention_s = a->ret;
    q->delay_s = a->delay;
    q->wait_s = a->wait;
    q->max_bytes = a->maxb;
    q->max_receive = a->dlq[0] ? a->maxrecv : 0;
    free(q->dlq_arn);
    q->dlq_arn = a->dlq[0] ? cm_xstrdup(a->dlq) : NULL;
    free(q->extra);
    q->extra = a->extra->child ? cJSON_PrintUnformatted(a->extra) : NULL;
}

static const struct {
    const char *name;
    size_t off;
    int64_t lo, hi;
} num_attrs[] = {
    {"VisibilityTimeout", offsetof(struct qset, vis), 0, 43200},
    {"MessageRetentionPeriod", offsetof(struct qset, ret), 60, 1209600},
    {"DelaySeconds", offsetof(struct qset, delay), 0, 900},
    {"ReceiveMessageWaitTimeSeconds", offsetof(struct qset, wait), 0, 20},
    {"MaximumMessageSize", offsetof(struct qset, maxb), 1024, 1048576},
};

static const char *const verbatim_attrs[] = {
    "Policy",
    "RedriveAllowPolicy",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
};

static int parse_redrive(struct sd_sqs *s, const char *v, struct qset *a, struct sqs_error *e)
{
    if (!*v) {
        a->dlq[0] = '\0';
        a->maxrecv = 0;
        return 0;
    }
    cJSON *j = cJSON_Parse(v);
    const char *arn = pstr(j, "deadLetterTargetArn");
    int64_t mrc = 0;
    struct sqs_error tmp = {0};
    int has = pint(&tmp, j, "maxReceiveCount", 1, 1000, &mrc);
    const char *dn = arn ? sqs_arn_name(s, arn) : NULL;
    int rc = 0;
    if (!cJSON_IsObject(j) || !arn || has != 1) {
        efail(e, E_ATTRV,
              "Value %.200s for parameter RedrivePolicy is invalid. Reason: Redrive policy is not "
              "a valid JSON map with deadLetterTargetArn and maxReceiveCount (1 to 1000).",
              v);
        rc = -1;
    } else if (!dn || !sqs_queue_find(s, dn)) {
        efail(e, E_ATTRV,
              "Value %.200s for parameter RedrivePolicy is invalid. Reason: Dead-letter target "
              "does not exist.",
              v);
        rc = -1;
    } else {
        cm_strlcpy(a->dlq, arn, sizeof a->dlq);
        a->maxrecv = mrc;
    }
    cJSON_Delete(j);
    return rc;
}

/* Applies one attribute (name, string value) to a. 0 or -1 with e set. */
static int apply_attr(struct sd_sqs *s, struct qset *a, const char *name, const char *v,
                      struct sqs_error *e)
{
    for (size_t i = 0; i < sizeof num_attrs / sizeof num_attrs[0]; i++) {
        if (strcmp(name, num_attrs[i].name) != 0)
            continue;
        char *end;
        long long x = strtoll(v, &end, 10);
        if (!*v || *end || x < num_attrs[i].lo || x > num_attrs[i].hi) {
            efail(e, E_ATTRV, "Invalid value for the parameter %s.", name);
            return -1;
        }
        *(int64_t *)(void *)((char *)a + num_attrs[i].off) = x;
        return 0;
    }
    if (strcmp(name, "RedrivePolicy") == 0)
        return parse_redrive(s, v, a, e);
    for (size_t i = 0; i < sizeof verbatim_attrs / sizeof verbatim_attrs[0]; i++) {
        if (strcmp(name, verbatim_attrs[i]) == 0) {
            cJSON_DeleteItemFromObjectCaseSensitive(a->extra, name);
            if (*v)
                cJSON_AddStringToObject(a->extra, name, v);
            return 0;
        }
    }
    if (strcmp(name, "FifoQueue") == 0 && strcasecmp(v, "false") == 0)
        return 0;
    if (strcmp(name, "FifoQueue") == 0 || strcmp(name, "ContentBasedDeduplication") == 0 ||
        strcmp(name, "DeduplicationScope") == 0 || strcmp(name, "FifoThroughputLimit") == 0) {
        efail(e, E_ATTRN, "Attribute %s applies to FIFO queues, which stackd does not emulate.",
              name);
        return -1;
    }
    efail(e, E_ATTRN, "Unknown Attribute %.100s.", name);
    return -1;
}

/* Applies the Attributes map of the request. 0 or -1 (error set). */
static int apply_attrs(struct rctx *c, struct qset *a, const char **first_name)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(c->in, "Attributes"), *it;
    if (!m)
        return 0;
    if (!cJSON_IsObject(m)) {
        fail(c, E_INVALID, "Attributes must be a map of attribute names to string values.");
        return -1;
    }
    cJSON_ArrayForEach(it, m)
    {
        char num[32];
        const char *v = it->valuestring;
        if (cJSON_IsNumber(it)) {
            snprintf(num, sizeof num, "%.0f", it->valuedouble);
            v = num;
        } else if (!cJSON_IsString(it)) {
            fail(c, E_ATTRV, "Invalid value for the parameter %.100s.", it->string);
            return -1;
        }
        if (first_name && !*first_name)
            *first_name = it->string;
        if (apply_attr(c->s, a, it->string, v, &c->err))
            return -1;
    }
    return 0;
}

/* Name of the first setting that differs, or NULL. */
static const char *qset_diff(const struct qset *a, const struct qset *b)
{
    for (size_t i = 0; i < sizeof num_attrs / sizeof num_attrs[0]; i++) {
        const int64_t *x = (const int64_t *)(const void *)((const char *)a + num_attrs[i].off);
        const int64_t *y = (const int64_t *)(const void *)((const char *)b + num_attrs[i].off);
        if (*x != *y)
            return num_attrs[i].name;
    }
    if (strcmp(a->dlq, b->dlq) != 0 || (a->dlq[0] && a->maxrecv != b->maxrecv))
        return "RedrivePolicy";
    if (!cJSON_Compare(a->extra, b->extra, 1))
        return "Policy";
    return NULL;
}

/* ---- operations: queues ------------------------------------------------------------------ */

static int op_create(struct rctx *c)
{
    const char *name = pstr(c->in, "QueueName");
    struct qset want, have;
    char url[400];
    int rc = -1;
    memset(&want, 0, sizeof want);
    memset(&have, 0, sizeof have);
    if (!name) {
        fail(c, E_MISSING, "The request must contain the parameter QueueName.");
        return -1;
    }
    size_t nl = strlen(name);
    if (nl > 5 && strcmp(name + nl - 5, ".fifo") == 0) {
        fail(c, E_INVALID, "FIFO queues are not emulated by stackd (standard queues only).");
        return -1;
    }
    if (!sqs_name_ok(name)) {
        fail(c, E_INVALID,
             "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in "
             "length");
        return -1;
    }
    struct sqs_queue *q = sqs_queue_find(c->s, name);
    struct sqs_queue *fresh = q ? NULL : sqs_queue_alloc(c->s, name, c->now_ms);
    qset_from(&have, q ? q : fresh);
    qset_from(&want, q ? q : fresh);
    if (apply_attrs(c, &want, NULL))
        goto out;
    if (q) {
        const char *d = qset_diff(&want, &have);
        if (d) {
            fail(c, "QueueAlreadyExists",
                 "A queue already exists with the same name and a different value for "
                 "attribute %s",
                 d);
            goto out;
        }
    } else {
        qset_to(&want, fresh);
        if (sqs_queue_save(c->s, fresh)) {
            fail(c, E_INTERNAL, "The queue could not be stored.");
            goto out;
        }
        q = fresh;
        fresh = NULL;
    }
    queue_url(c, q, url, sizeof url);
    cm_query_out_str(&c->o, "QueueUrl", url);
    rc = 0;
out:
    sqs_queue_release(fresh);
    cJSON_Delete(want.extra);
    cJSON_Delete(have.extra);
    return rc;
}

static int op_get_url(struct rctx *c)
{
    const char *name = pstr(c->in, "QueueName");
    char url[400];
    if (!name) {
        fail(c, E_MISSING, "The request must contain the parameter QueueName.");
        return -1;
    }
    struct sqs_queue *q = sqs_queue_find(c->s, name);
    if (!q) {
        fail(c, E_NOQUEUE, "The specified queue does not exist.");
        return -1;
    }
    queue_url(c, q, url, sizeof url);
    cm_query_out_str(&c->o, "QueueUrl", url);
    return 0;
}

static int qname_cmp(const void *a, const void *b)
{
    return strcmp((*(struct sqs_queue *const *)a)->name, (*(struct sqs_queue *const *)b)->name);
}

static int op_list(struct rctx *c)
{
    const char *prefix = pstr(c->in, "QueueNamePrefix");
    int64_t max = 1000, start = 0;
    char url[400], tok[32];
    if (pint(&c->err, c->in, "MaxResults", 1, 1000, &max) < 0)
        return -1;
    const char *nt = pstr(c->in, "NextToken");
    if (nt && *nt) {
        char *end;
        start = strtoll(nt, &end, 10);
        if (*end || start < 0) {
            fail(c, E_INVALID, "Invalid NextToken value.");
            return -1;
        }
    }
    struct sqs_queue **v = cm_xmalloc((c->s->nq + 1) * sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < c->s->nq; i++)
        if (!prefix || strncmp(c->s->qs[i]->name, prefix, strlen(prefix)) == 0)
            v[n++] = c->s->qs[i];
    qsort(v, n, sizeof *v, qname_cmp);
    size_t i = (size_t)start, emitted = 0;
    if (i < n)
        flist_open(c, "QueueUrls");
    for (; i < n && (int64_t)emitted < max; i++, emitted++) {
        queue_url(c, v[i], url, sizeof url);
        cm_query_out_str(&c->o, "QueueUrl", url);
    }
    if (emitted)
        flist_close(c);
    /* A token only when MaxResults was given (as SQS) and more remain. */
    if (i < n && cJSON_GetObjectItemCaseSensitive(c->in, "MaxResults")) {
        snprintf(tok, sizeof tok, "%zu", i);
        cm_query_out_str(&c->o, "NextToken", tok);
    }
    free(v);
    return 0;
}

/* Long polls on q are answered (empty) before q goes away. */
static void flush_waiters(struct sd_sqs *s, struct sqs_queue *q);

static int op_delete_queue(struct rctx *c)
{
    struct sqs_queue *q = req_queue(c);
    if (!q)
        return -1;
    flush_waiters(c->s, q);
    if (sqs_queue_delete(c->s, q)) {
        fail(c, E_INTERNAL, "The queue could not be deleted.");
        return -1;
    }
    return 0;
}

static const char *const get_attr_names[] = {
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "VisibilityTimeout",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
    "RedrivePolicy",
    "Policy",
    "RedriveAllowPolicy",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
};

static int attr_wanted(const char *name, const char **names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], "All") == 0 || strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

static void put_queue_attr(struct rctx *c, const struct sqs_queue *q, const struct qset *a,
                           const struct sd_sqs_counts *k, const char *name)
{
    const int64_t nums[] = {k->visible,   k->not_visible, k->delayed, q->vis_s,
                            q->max_bytes, q->retention_s, q->delay_s, q->wait_s,
                            q->created_s, q->modified_s};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        if (strcmp(name, get_attr_names[i]) == 0) {
            fmap_int(c, "Attribute", name, nums[i]);
            return;
        }
    }
    if (strcmp(name, "QueueArn") == 0) {
        char arn[160];
        sqs_queue_arn(c->s, q, arn, sizeof arn);
        fmap_str(c, "Attribute", name, arn);
    } else if (strcmp(name, "RedrivePolicy") == 0) {
        if (q->dlq_arn) {
            char v[400];
            snprintf(v, sizeof v,
                     "{\"deadLetterTargetArn\":\"%s\",\"maxReceiveCount\":%" PRId64 "}", q->dlq_arn,
                     q->max_receive);
            fmap_str(c, "Attribute", name, v);
        }
    } else {
        const char *v = pstr(a->extra, name);
        if (v)
            fmap_str(c, "Attribute", name, v);
    }
}

static int op_get_attrs(struct rctx *c)
{
    const char *names[64];
    struct qset a;
    struct sd_sqs_counts k;
    struct sqs_queue *q = req_queue(c);
    if (!q)
        return -1;
    int n = pnames(c->in, "AttributeNames", names, 64);
    for (int i = 0; i < n; i++) {
        int known = strcmp(names[i], "All") == 0 || strcmp(names[i], "FifoQueue") == 0 ||
                    strcmp(names[i], "ContentBasedDeduplication") == 0;
        for (size_t j = 0; j < sizeof get_attr_names / sizeof get_attr_names[0] && !known; j++)
            known = strcmp(names[i], get_attr_names[j]) == 0;
        if (!known) {
            fail(c, E_ATTRN, "Unknown Attribute %.100s.", names[i]);
            return -1;
        }
    }
    if (n == 0)
        return 0;
    qset_from(&a, q);
    sqs_store_counts(q, c->now_ms, &k);
    fmap_open(c, "Attributes");
    for (size_t j = 0; j < sizeof get_attr_names / sizeof get_attr_names[0]; j++)
        if (attr_wanted(get_attr_names[j], names, n))
            put_queue_attr(c, q, &a, &k, get_attr_names[j]);
    if (c->fmt == CM_QUERY_JSON)
        cm_query_out_close(&c->o);
    cJSON_Delete(a.extra);
    return 0;
}

static int op_set_attrs(struct rctx *c)
{
    struct qset a;
    const char *first = NULL;
    struct sqs_queue *q = req_queue(c);
    if (!q)
        return -1;
    if (!cJSON_GetObjectItemCaseSensitive(c->in, "Attributes")) {
        fail(c, E_MISSING, "The request must contain the parameter Attributes.");
        return -1;
    }
    qset_from(&a, q);
    int rc = apply_attrs(c, &a, &first);
    if (rc == 0) {
        qset_to(&a, q);
        q->modified_s = c->now_ms / 1000;
        if (sqs_queue_save(c->s, q)) {
            fail(c, E_INTERNAL, "The queue could not be stored.");
            rc = -1;
        }
    }
    cJSON_Delete(a.extra);
    return rc;
}

static int op_purge(struct rctx *c)
{
    struct sqs_queue *q = req_queue(c);
    if (!q)
        return -1;
    if (q->purged_ms && c->now_ms - q->purged_ms < SQS_PURGE_WINDOW_MS) {
        fail(c, "AWS.SimpleQueueService.PurgeQueueInProgress",
             "Only one PurgeQueue operation on %s is allowed every 60 seconds.", q->name);
        return -1;
    }
    if (sqs_store_purge(c->s, q, c->now_ms)) {
        fail(c, E_INTERNAL, "The queue could not be purged.");
        return -1;
    }
    return 0;
}

/* ---- sending -----------------------------------------------------------------------------------
 */

/* A decimal number as SQS accepts for Number attributes. */
static int number_ok(const char *s)
{
    char *end;
    if (!*s || isspace((unsigned char)*s))
        return 0;
    strtod(s, &end);
    return *end == '\0' && strpbrk(s, "xXnNiI") == NULL;
}

static int attr_name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > 256 || n[0] == '.' || n[len - 1] == '.' || strstr(n, ".."))
        return 0;
    if (strncasecmp(n, "AWS.", 4) == 0 || strncasecmp(n, "Amazon.", 7) == 0)
        return 0;
    return strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") == len;
}

struct attr_bufs {
    struct sqs_attr_in a[SQS_MAX_ATTRS];
    unsigned char *owned[SQS_MAX_ATTRS]; /* decoded binaries */
    int n;
};

static void attr_bufs_free(struct attr_bufs *b)
{
    for (int i = 0; i < b->n; i++)
        free(b->owned[i]);
    b->n = 0;
}

/* Validates a MessageAttributes map into b; *size_bytes grows by the bytes
 * SQS counts (name + type + value). 0 or -1 with e set. */
static int parse_msg_attrs(const cJSON *m, struct attr_bufs *b, size_t *size_bytes,
                           struct sqs_error *e)
{
    const cJSON *it;
    if (!m)
        return 0;
    if (!cJSON_IsObject(m)) {
        efail(e, E_INVALID, "MessageAttributes must be a map.");
        return -1;
    }
    if (cJSON_GetArraySize(m) > SQS_MAX_ATTRS) {
        efail(e, E_INVALID, "Number of message attributes [%d] exceeds the allowed maximum [10].",
              cJSON_GetArraySize(m));
        return -1;
    }
    cJSON_ArrayForEach(it, m)
    {
        const char *name = it->string, *type = pstr(it, "DataType");
        if (!attr_name_ok(name)) {
            efail(e, E_INVALID, "Message attribute name '%.256s' is invalid.", name);
            return -1;
        }
        if (!type || !*type) {
            efail(e, E_INVALID,
                  "The message attribute '%.256s' must contain non-empty message attribute type.",
                  name);
            return -1;
        }
        int bin = strncmp(type, "Binary", 6) == 0, num = strncmp(type, "Number", 6) == 0;
        int str = strncmp(type, "String", 6) == 0;
        if ((!bin && !num && !str) || (type[6] && (type[6] != '.' || !type[7])) ||
            strlen(type) > 256) {
            efail(e, E_INVALID,
                  "The type of message (user) attribute '%.256s' is invalid. You must use only "
                  "the following supported type prefixes: Binary, Number, String.",
                  name);
            return -1;
        }
        struct sqs_attr_in *a = &b->a[b->n];
        b->owned[b->n] = NULL;
        a->name = name;
        a->type = type;
        a->binary = bin;
        if (bin) {
            const char *v = pstr(it, "BinaryValue");
            if (!v || !*v || sqs_b64_decode(v, strlen(v), &b->owned[b->n], &a->value_len) ||
                a->value_len == 0) {
                free(b->owned[b->n]);
                efail(e, E_INVALID,
                      "The message attribute '%.256s' must contain a non-empty message attribute "
                      "value for message attribute type '%.64s'.",
                      name, type);
                return -1;
            }
            a->value = b->owned[b->n];
        } else {
            const char *v = pstr(it, "StringValue");
            if (!v || !*v) {
                efail(e, E_INVALID,
                      "The message attribute '%.256s' must contain a non-empty message attribute "
                      "value for message attribute type '%.64s'.",
                      name, type);
                return -1;
            }
            if ((num && !number_ok(v)) || !sqs_body_chars_ok(v, strlen(v))) {
                efail(e, E_INVALID, "The message attribute '%.256s' has an invalid value.", name);
                return -1;
            }
            a->value = (const unsigned char *)v;
            a->value_len = strlen(v);
        }
        *size_bytes += strlen(name) + strlen(type) + a->value_len;
        b->n++;
    }
    return 0;
}

/* One message to send, validated. */
struct prep {
    struct sqs_send_in in;
    struct attr_bufs ua, sa;
    struct cm_buf uenc, senc;
    char md5_sys[33];
};

static void prep_init(struct prep *p)
{
    memset(p, 0, sizeof *p);
    cm_buf_init(&p->uenc, 0);
    cm_buf_init(&p->senc, 0);
}

static void prep_deinit(struct prep *p)
{
    attr_bufs_free(&p->ua);
    attr_bufs_free(&p->sa);
    cm_buf_deinit(&p->uenc);
    cm_buf_deinit(&p->senc);
}

static int prep_message(struct rctx *c, const struct sqs_queue *q, const cJSON *obj, struct prep *p,
                        struct sqs_error *e)
{
    const char *body = pstr(obj, "MessageBody");
    size_t size = 0;
    if (!body || !*body) {
        efail(e, E_MISSING, "The request must contain the parameter MessageBody.");
        return -1;
    }
    size = strlen(body);
    if (!sqs_body_chars_ok(body, size)) {
        efail(e, E_CONTENT,
              "Invalid binary character was found in the message body, the set of allowed "
              "characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to "
              "#x10FFFF");
        return -1;
    }
    p->in.body = body;
    p->in.body_len = size;
    p->in.delay_s = -1;
    if (pint(e, obj, "DelaySeconds", 0, 900, &p->in.delay_s) < 0)
        return -1;
    if (parse_msg_attrs(cJSON_GetObjectItemCaseSensitive(obj, "MessageAttributes"), &p->ua, &size,
                        e))
        return -1;
    const cJSON *sys = cJSON_GetObjectItemCaseSensitive(obj, "MessageSystemAttributes"), *it;
    size_t sys_size = 0;
    cJSON_ArrayForEach(it, sys)
    {
        if (strcmp(it->string, "AWSTraceHeader") != 0 ||
            strcmp(cm_json_str(it, "DataType", ""), "String") != 0) {
            efail(e, E_INVALID, "Message system attribute '%.100s' is not supported.", it->string);
            return -1;
        }
    }
    if (parse_msg_attrs(sys, &p->sa, &sys_size, e))
        return -1;
    if ((int64_t)size > q->max_bytes) {
        efail(e, E_INVALID,
              "One or more parameters are invalid. Reason: Message must be shorter than %" PRId64
              " bytes.",
              q->max_bytes);
        return -1;
    }
    if (p->ua.n && sqs_attrs_encode(p->ua.a, p->ua.n, &p->uenc) == 0) {
        p->in.attrs = (const unsigned char *)p->uenc.data;
        p->in.attrs_len = p->uenc.len;
    }
    if (p->sa.n && sqs_attrs_encode(p->sa.a, p->sa.n, &p->senc) == 0) {
        sd_sqs_md5_hex(p->senc.data, p->senc.len, p->md5_sys);
        p->in.trace = (const char *)p->sa.a[0].value; /* NUL terminated: a JSON string */
    }
    p->in.sender = c->sender;
    return 0;
}

static void wake(struct sd_sqs *s, struct sqs_queue *q, int64_t now_ms);

static void put_send_result(struct rctx *c, const struct sqs_msg *m, const struct prep *p)
{
    cm_query_out_str(&c->o, "MD5OfMessageBody", m->md5_body);
    if (m->attrs_len)
        cm_query_out_str(&c->o, "MD5OfMessageAttributes", m->md5_attrs);
    if (p->md5_sys[0])
        cm_query_out_str(&c->o, "MD5OfMessageSystemAttributes", p->md5_sys);
    cm_query_out_str(&c->o, "MessageId", m->id);
}

static int op_send(struct rctx *c)
{
    struct prep p;
    struct sqs_msg *m = NULL;
    int rc = -1;
    struct sqs_queue *q = req_queue(c);
    if (!q)
        return -1;
    prep_init(&p);
    if (prep_message(c, q, c->in, &p, &c->err))
        goto out;
    if (sqs_store_send(c->s, q, &p.in, 1, c->now_ms, &m)) {
        fail(c, E_INTERNAL, "The message could not be stored.");
        goto out;
    }
    put_send_result(c, m, &p);
    wake(c->s, q, c->now_ms);
    rc = 0;
out:
    prep_deinit(&p);
    return rc;
}

static int batch_id_ok(const char *id)
{
    size_t n = strlen(id);
    return n >= 1 && n <= 80 &&
           strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/* Common checks of Entries: 1..10, ids valid and distinct. Returns the
 * count or -1 with the error set. */
static int batch_entries(struct rctx *c, const char *entry_name, const cJSON **out)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(c->in, "Entries");
    int n = cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : 0;
    if (n == 0) {
        fail(c, "AWS.SimpleQueueService.EmptyBatchRequest",
             "There should be at least one %s in the request.", entry_name);
        return -1;
    }
    if (n > 10) {
        fail(c, "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
             "Maximum number of entries per request are 10. You have sent %d.", n);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        out[i] = cJSON_GetArrayItem(arr, i);
        const char *id = pstr(out[i], "Id");
        if (!id || !batch_id_ok(id)) {
            fail(c, "AWS.SimpleQueueService.InvalidBatchEntryId",
                 "A batch entry id can only contain alphanumeric characters, hyphens and "
                 "underscores. It can be at most 80 letters long.");
            return -1;
        }
        for (int j = 0; j < i; j++) {
            if (strcmp(id, pstr(out[j], "Id")) == 0) {
                fail(c, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "Id %s repeated.", id);
                return -1;
            }
        }
    }
    return n;
}

static void put_batch_error(struct rctx *c, const char *id, const struct sqs_error *e)
{
    cm_query_out_open(&c->o, "BatchResultErrorEntry", CM_QUERY_OBJ);
    cm_query_out_str(&c->o, "Id", id);
    cm_query_out_bool(&c->o, "SenderFault", 1);
    cm_query_out_str(&c->o, "Code", e->code);
    cm_query_out_str(&c->o, "Message", e->msg);
    cm_query_out_close(&c->o);
}

static int op_send_batch(struct rctx *c)
{
    const cJSON *ent[10];
    struct prep p[10];
    struct sqs_error e[10];
    struct sqs_send_in ins[10];
    struct sqs_msg *ms[10];
    int idx[10], nok = 0, n, rc = -1;
    struct sqs_queue *q = req_queue(c);
    if (!q || (n = batch_entries(c, "SendMessageBatchRequestEntry", ent)) < 0)
        return -1;
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        prep_init(&p[i]);
        memset(&e[i], 0, sizeof e[i]);
        if (prep_message(c, q, ent[i], &p[i], &e[i]) == 0) {
            total += p[i].in.body_len + (size_t)p[i].uenc.len;
            ins[nok] = p[i].in;
            idx[nok++] = i;
        }
    }
    if ((int64_t)total > q->max_bytes) {
        fail(c, "AWS.SimpleQueueService.BatchRequestTooLong",
             "Batch requests cannot be longer than %" PRId64 " bytes. You have sent %zu bytes.",
             q->max_bytes, total);
        goto out;
    }
    if (nok && sqs_store_send(c->s, q, ins, nok, c->now_ms, ms)) {
        fail(c, E_INTERNAL, "The messages could not be stored.");
        goto out;
    }
    flist_open(c, "Successful");
    for (int k = 0; k < nok; k++) {
        cm_query_out_open(&c->o, "SendMessageBatchResultEntry", CM_QUERY_OBJ);
        cm_query_out_str(&c->o, "Id", pstr(ent[idx[k]], "Id"));
        put_send_result(c, ms[k], &p[idx[k]]);
        cm_query_out_close(&c->o);
    }
    flist_close(c);
    flist_open(c, "Failed");
    for (int i = 0; i < n; i++)
        if (e[i].code)
            put_batch_error(c, pstr(ent[i], "Id"), &e[i]);
    flist_close(c);
    if (nok)
        wake(c->s, q, c->now_ms);
    rc = 0;
out:
    for (int i = 0; i < n; i++)
        prep_deinit(&p[i]);
    return rc;
}

/* ---- receiving ----------------------------------------------------------------------------- */

struct recv_opts {
    int64_t max, vis, wait;
    const char *sys[16];
    int n_sys;
    const char *ua[16];
    int n_ua;
};

static int parse_recv_opts(struct sqs_error *e, const cJSON *in, const struct sqs_queue *q,
                           struct recv_opts *r)
{
    r->max = 1;
    r->vis = q->vis_s;
    r->wait = q->wait_s;
    if (pint(e, in, "MaxNumberOfMessages", 1, 10, &r->max) < 0 ||
        pint(e, in, "VisibilityTimeout", 0, 43200, &r->vis) < 0 ||
        pint(e, in, "WaitTimeSeconds", 0, 20, &r->wait) < 0)
        return -1;
    r->n_sys = pnames(in, "AttributeNames", r->sys, 8);
    r->n_sys += pnames(in, "MessageSystemAttributeNames", r->sys + r->n_sys, 8);
    r->n_ua = pnames(in, "MessageAttributeNames", r->ua, 16);
    return 0;
}

static int sys_wanted(const struct recv_opts *r, const char *name)
{
    for (int i = 0; i < r->n_sys; i++)
        if (strcmp(r->sys[i], "All") == 0 || strcmp(r->sys[i], name) == 0)
            return 1;
    return 0;
}

static void put_msg_attrs(struct rctx *c, const unsigned char *enc, size_t len)
{
    size_t pos = 0;
    struct sd_sqs_attr a;
    struct cm_buf t;
    cm_buf_init(&t, 0);
    fmap_open(c, "MessageAttributes");
    while (sd_sqs_attr_next(enc, len, &pos, &a) == 1) {
        char name[257], type[257];
        snprintf(name, sizeof name, "%.*s", (int)a.name_len, a.name);
        snprintf(type, sizeof type, "%.*s", (int)a.type_len, a.type);
        if (c->fmt == CM_QUERY_XML) {
            cm_query_out_open(&c->o, "MessageAttribute", CM_QUERY_OBJ);
            cm_query_out_str(&c->o, "Name", name);
            cm_query_out_open(&c->o, "Value", CM_QUERY_OBJ);
        } else {
            cm_query_out_open(&c->o, name, CM_QUERY_OBJ);
        }
        if (a.binary) {
            cm_buf_reset(&t);
            sqs_b64_encode(a.value, a.value_len, &t);
            cm_query_out_strn(&c->o, "BinaryValue", t.data ? t.data : "", t.len);
        } else {
            cm_query_out_strn(&c->o, "StringValue", (const char *)a.value, a.value_len);
        }
        cm_query_out_str(&c->o, "DataType", type);
        cm_query_out_close(&c->o);
        if (c->fmt == CM_QUERY_XML)
            cm_query_out_close(&c->o);
    }
    if (c->fmt == CM_QUERY_JSON)
        cm_query_out_close(&c->o);
    cm_buf_deinit(&t);
}

static void put_message(struct rctx *c, const struct sqs_msg *m, const struct recv_opts *r)
{
    char rh[64];
    sqs_receipt(m, rh);
    cm_query_out_open(&c->o, "Message", CM_QUERY_OBJ);
    cm_query_out_str(&c->o, "MessageId", m->id);
    cm_query_out_str(&c->o, "ReceiptHandle", rh);
    cm_query_out_str(&c->o, "MD5OfBody", m->md5_body);
    cm_query_out_strn(&c->o, "Body", m->body, m->body_len);
    if (r->n_sys) {
        fmap_open(c, "Attributes");
        if (sys_wanted(r, "SenderId"))
            fmap_str(c, "Attribute", "SenderId", m->sender ? m->sender : c->s->account);
        if (sys_wanted(r, "SentTimestamp"))
            fmap_int(c, "Attribute", "SentTimestamp", m->sent_ms);
        if (sys_wanted(r, "ApproximateReceiveCount"))
            fmap_int(c, "Attribute", "ApproximateReceiveCount", m->recv_count);
        if (sys_wanted(r, "ApproximateFirstReceiveTimestamp"))
            fmap_int(c, "Attribute", "ApproximateFirstReceiveTimestamp", m->first_recv_ms);
        if (m->trace && sys_wanted(r, "AWSTraceHeader"))
            fmap_str(c, "Attribute", "AWSTraceHeader", m->trace);
        if (m->src_arn && sys_wanted(r, "DeadLetterQueueSourceArn"))
            fmap_str(c, "Attribute", "DeadLetterQueueSourceArn", m->src_arn);
        if (c->fmt == CM_QUERY_JSON)
            cm_query_out_close(&c->o);
    }
    if (r->n_ua && m->attrs_len) {
        struct cm_buf sel;
        cm_buf_init(&sel, 0);
        sqs_attrs_select(m->attrs, m->attrs_len, r->ua, r->n_ua, &sel);
        if (sel.len) {
            char md5[33];
            sd_sqs_md5_hex(sel.data, sel.len, md5);
            cm_query_out_str(&c->o, "MD5OfMessageAttributes", md5);
            put_msg_attrs(c, (const unsigned char *)sel.data, sel.len);
        }
        cm_buf_deinit(&sel);
    }
    cm_query_out_close(&c->o);
}

/* Receives into the response. Returns the number of messages, or -1. */
static int receive_into(struct rctx *c, struct sqs_queue *q, const struct recv_opts *r)
{
    struct sqs_msg *got[10];
    int n = 0;
    if (sqs_store_receive(c->s, q, (int)r->max, r->vis, c->now_ms, got, &n)) {
        fail(c, E_INTERNAL, "The messages could not be received.");
        return -1;
    }
    if (n) {
        flist_open(c, "Messages");
        for (int i = 0; i < n; i++)
            put_message(c, got[i], r);
        flist_close(c);
    }
    return n;
}

/* ---- deleting and visibility ----------------------------------------------------------------- */

static void map_store_err(int rc, struct sqs_error *e, const char *rh)
{
    if (rc == CM_EINVAL)
        efail(e, E_RH, "The input receipt handle \"%.100s\" is not a valid receipt handle.", rh);
    else if (rc == CM_ESTATE)
        efail(e, E_INFL, "The message referred to is not in flight.");
    else if (rc)
        efail(e, E_INTERNAL, "The store failed.");
}

static int op_delete(struct rctx *c)
{
    struct sqs_queue *q = req_queue(c);
    const char *rh = pstr(c->in, "ReceiptHandle");
    if (!q)
        return -1;
    if (!rh || !*rh) {
        fail(c, E_MISSING, "The request must contain the parameter ReceiptHandle.");
        return -1;
    }
    map_store_err(sqs_store_delete(c->s, q, rh), &c->err, rh);
    return c->err.code ? -1 : 0;
}

static int op_change_vis(struct rctx *c)
{
    struct sqs_queue *q = req_queue(c);
    const char *rh = pstr(c->in, "ReceiptHandle");
    int64_t vis = 0;
    if (!q)
        return -1;
    if (!rh || !*rh) {
        fail(c, E_MISSING, "The request must contain the parameter ReceiptHandle.");
        return -1;
    }
    int has = pint(&c->err, c->in, "VisibilityTimeout", 0, 43200, &vis);
    if (has <= 0) {
        fail(c, E_MISSING, "The request must contain the parameter VisibilityTimeout.");
        return -1;
    }
    map_store_err(sqs_store_change_vis(c->s, q, rh, vis, c->now_ms), &c->err, rh);
    if (!c->err.code && vis == 0)
        wake(c->s, q, c->now_ms);
    return c->err.code ? -1 : 0;
}

/* DeleteMessageBatch (vis_op 0) and ChangeMessageVisibilityBatch (1). */
static int op_batch_rh(struct rctx *c, int vis_op)
{
    const cJSON *ent[10];
    struct sqs_error e[10];
    int n, woke = 0;
    struct sqs_queue *q = req_queue(c);
    if (!q || (n = batch_entries(c,
                                 vis_op ? "ChangeMessageVisibilityBatchRequestEntry"
                                        : "DeleteMessageBatchRequestEntry",
                                 ent)) < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        const char *rh = pstr(ent[i], "ReceiptHandle");
        int64_t vis = 0;
        memset(&e[i], 0, sizeof e[i]);
        if (!rh || !*rh) {
            efail(&e[i], E_MISSING, "The request must contain the parameter ReceiptHandle.");
        } else if (!vis_op) {
            map_store_err(sqs_store_delete(c->s, q, rh), &e[i], rh);
        } else if (pint(&e[i], ent[i], "VisibilityTimeout", 0, 43200, &vis) >= 0) {
            map_store_err(sqs_store_change_vis(c->s, q, rh, vis, c->now_ms), &e[i], rh);
            woke |= !e[i].code && vis == 0;
        }
    }
    flist_open(c, "Successful");
    for (int i = 0; i < n; i++) {
        if (e[i].code)
            continue;
        cm_query_out_open(&c->o,
                          vis_op ? "ChangeMessageVisibilityBatchResultEntry"
                                 : "DeleteMessageBatchResultEntry",
                          CM_QUERY_OBJ);
        cm_query_out_str(&c->o, "Id", pstr(ent[i], "Id"));
        cm_query_out_close(&c->o);
    }
    flist_close(c);
    flist_open(c, "Failed");
    for (int i = 0; i < n; i++)
        if (e[i].code)
            put_batch_error(c, pstr(ent[i], "Id"), &e[i]);
    flist_close(c);
    if (woke)
        wake(c->s, q, c->now_ms);
    return 0;
}

static int op_delete_batch(struct rctx *c)
{
    return op_batch_rh(c, 0);
}

static int op_change_vis_batch(struct rctx *c)
{
    return op_batch_rh(c, 1);
}

static int op_receive(struct rctx *c); /* handled in sd_sqs_handle (long polls) */

static const struct {
    const char *name;
    int (*fn)(struct rctx *);
    int has_result;
} sqs_ops[] = {
    {"CreateQueue", op_create, 1},
    {"GetQueueUrl", op_get_url, 1},
    {"ListQueues", op_list, 1},
    {"DeleteQueue", op_delete_queue, 0},
    {"GetQueueAttributes", op_get_attrs, 1},
    {"SetQueueAttributes", op_set_attrs, 0},
    {"PurgeQueue", op_purge, 0},
    {"SendMessage", op_send, 1},
    {"SendMessageBatch", op_send_batch, 1},
    {"ReceiveMessage", op_receive, 1},
    {"DeleteMessage", op_delete, 0},
    {"DeleteMessageBatch", op_delete_batch, 1},
    {"ChangeMessageVisibility", op_change_vis, 0},
    {"ChangeMessageVisibilityBatch", op_change_vis_batch, 1},
};

#define OP_RECEIVE 9

static int op_receive(struct rctx *c)
{
    struct recv_opts r;
    struct sqs_queue *q = req_queue(c);
    if (!q || parse_recv_opts(&c->err, c->in, q, &r))
        return -1;
    return receive_into(c, q, &r) < 0 ? -1 : 0;
}

/* ---- request plumbing -------------------------------------------------------------------------
 */

static int find_op(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof sqs_ops / sizeof sqs_ops[0]; i++)
        if (strlen(sqs_ops[i].name) == n && memcmp(sqs_ops[i].name, name, n) == 0)
            return (int)i;
    return -1;
}

/* Parses the request (either protocol) into c->in; returns the op index or
 * -1 with the error set. */
static int parse_request(struct rctx *c, const struct sd_req *req)
{
    size_t tn = 0, pl = strlen(SQS_TARGET);
    const char *target = sd_req_header(req, "x-amz-target", &tn);
    const char *body = req->body ? req->body : "", *why = NULL;
    size_t n = req->body_len;
    int idx;
    c->fmt = target ? CM_QUERY_JSON : CM_QUERY_XML;
    if (target) {
        if (tn <= pl || strncmp(target, SQS_TARGET, pl) != 0 ||
            (idx = find_op(target + pl, tn - pl)) < 0) {
            fail(c, "InvalidAction", "The action %.*s is not valid for this endpoint.",
                 (int)(tn < 80 ? tn : 80), target);
            return -1;
        }
        c->in = n ? cm_json_parse(body, n) : cJSON_CreateObject();
        if (!cJSON_IsObject(c->in)) {
            fail(c, "SerializationException", "The request body is not a JSON object.");
            return -1;
        }
        return idx;
    }
    if (n == 0) {
        body = req->query ? req->query : "";
        n = strlen(body);
    }
    cJSON *q = NULL;
    if (cm_query_parse(body, n, &q, &why)) {
        fail(c, "MalformedQueryString", "Malformed query request: %s.",
             why ? why : "bad form body");
        return -1;
    }
    c->in = normalize_obj(q);
    cJSON_Delete(q);
    const char *op = pstr(c->in, "Action");
    if (!op) {
        fail(c, E_MISSING, "The request must contain the parameter Action.");
        return -1;
    }
    idx = find_op(op, strlen(op));
    if (idx < 0)
        fail(c, "InvalidAction", "The action %.80s is not valid for this endpoint.", op);
    return idx;
}

static void error_response(struct rctx *c, struct sd_resp *resp, const char *rid)
{
    const char *shape = c->err.code;
    int status = 400;
    for (size_t i = 0; i < sizeof sqs_errors / sizeof sqs_errors[0]; i++) {
        if (strcmp(sqs_errors[i].code, c->err.code) == 0) {
            shape = sqs_errors[i].shape;
            status = sqs_errors[i].status;
        }
    }
    char type[160];
    snprintf(type, sizeof type, "com.amazonaws.sqs#%s", shape);
    resp->status = status;
    cm_buf_reset(&resp->body);
    cm_query_error_body(&resp->body, c->fmt, SQS_XMLNS, status < 500, c->err.code, type, c->err.msg,
                        rid);
    if (c->fmt == CM_QUERY_JSON) {
        char hdr[200];
        snprintf(hdr, sizeof hdr, "%s;%s", c->err.code, status < 500 ? "Sender" : "Receiver");
        sd_resp_header(resp, "x-amzn-query-error", hdr);
    }
}

static void set_base(struct rctx *c, const struct sd_req *req)
{
    size_t hn = 0;
    const char *h = req ? sd_req_header(req, "host", &hn) : NULL;
    while (h && hn && (h[hn - 1] == ' ' || h[hn - 1] == '\t'))
        hn--;
    if (h && hn && hn < 120 && !memchr(h, '/', hn) && !memchr(h, '"', hn))
        snprintf(c->base, sizeof c->base, "http://%.*s", (int)hn, h);
    else
        cm_strlcpy(c->base, c->s->endpoint, sizeof c->base);
}

/* "Credential=AKID/..." -> AKID as SenderId (SQS reports the sender's id). */
static void set_sender(struct rctx *c, const struct sd_req *req)
{
    size_t n = 0;
    const char *a = sd_req_header(req, "authorization", &n);
    const char *p = a ? memmem(a, n, "Credential=", 11) : NULL;
    c->sender[0] = '\0';
    if (!p)
        return;
    p += 11;
    size_t i = 0;
    while (p < a + n && *p != '/' && *p != ',' && i + 1 < sizeof c->sender)
        c->sender[i++] = *p++;
    c->sender[i] = '\0';
}

static void finish_resp(struct rctx *c, struct sd_resp *resp, const char *rid)
{
    resp->status = 200;
    cm_strlcpy(resp->content_type, c->fmt == CM_QUERY_JSON ? SQS_JSON_CT : "text/xml",
               sizeof resp->content_type);
    sd_resp_header(resp, "x-amzn-RequestId", rid);
    if (c->err.code)
        error_response(c, resp, rid);
}

static void run_op(struct rctx *c, int idx, struct sd_resp *resp, const char *rid)
{
    cm_buf_reset(&resp->body);
    cm_query_out_begin(&c->o, &resp->body, c->fmt, sqs_ops[idx].name, SQS_XMLNS,
                       sqs_ops[idx].has_result);
    if (sqs_ops[idx].fn(c) == 0 && cm_query_out_end(&c->o, rid))
        fail(c, E_INTERNAL, "The response is too large.");
}

int sd_sqs_handle(struct sd_sqs *s, const struct sd_req *req, struct sd_resp *resp, void *token)
{
    struct rctx c;
    char rid[CM_CORR_ID_LEN + 1];
    memset(&c, 0, sizeof c);
    c.s = s;
    c.path = req->path;
    c.now_ms =
        req->recv_wall_ns ? req->recv_wall_ns / CM_NS_PER_MS : cm_clock_wall_ns() / CM_NS_PER_MS;
    cm_corr_new_id(c.now_ms, rid);
    set_base(&c, req);
    set_sender(&c, req);
    int idx = parse_request(&c, req), rc = 0;
    if (idx == OP_RECEIVE && token) {
        /* A long poll: answer now when messages are there or no wait. */
        struct recv_opts r;
        struct sqs_queue *q = req_queue(&c);
        if (q && parse_recv_opts(&c.err, c.in, q, &r) == 0 && r.wait > 0 &&
            sqs_queue_next_visible(q) > c.now_ms) {
            struct sqs_waiter *w = cm_xcalloc(1, sizeof *w), **pp = &q->waiters;
            w->token = token;
            w->deadline_ms = c.now_ms + r.wait * 1000;
            w->fmt = c.fmt;
            w->in = c.in;
            c.in = NULL;
            cm_strlcpy(w->base, c.base, sizeof w->base);
            while (*pp)
                pp = &(*pp)->next;
            *pp = w;
            return SD_SQS_DEFERRED;
        }
    }
    if (idx >= 0 && !c.err.code)
        run_op(&c, idx, resp, rid);
    finish_resp(&c, resp, rid);
    cJSON_Delete(c.in);
    return rc;
}

/* ---- long polls
 * ---------------------------------------------------------------------------------- */

/* Answers w: with messages when receive is set and there are any, else
 * empty. Returns 1 when answered (w may be freed), 0 when receive found
 * nothing (w stays). */
static int answer_waiter(struct sd_sqs *s, struct sqs_queue *q, struct sqs_waiter *w, int receive,
                         int64_t now_ms)
{
    struct rctx c;
    struct sd_resp resp;
    char rid[CM_CORR_ID_LEN + 1];
    struct recv_opts r;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.fmt = w->fmt;
    c.in = w->in;
    c.now_ms = now_ms;
    cm_strlcpy(c.base, w->base, sizeof c.base);
    cm_corr_new_id(now_ms, rid);
    sd_resp_init(&resp);
    cm_query_out_begin(&c.o, &resp.body, c.fmt, "ReceiveMessage", SQS_XMLNS, 1);
    int n = 0;
    if (receive && parse_recv_opts(&c.err, c.in, q, &r) == 0)
        n = receive_into(&c, q, &r);
    if (receive && n == 0 && !c.err.code) {
        sd_resp_deinit(&resp);
        return 0;
    }
    if (!c.err.code && cm_query_out_end(&c.o, rid))
        fail(&c, E_INTERNAL, "The response is too large.");
    finish_resp(&c, &resp, rid);
    s->io.reply(s->io.ctx, w->token, &resp);
    sd_resp_deinit(&resp);
    return 1;
}

static int waiter_alive(const struct sd_sqs *s, const struct sqs_waiter *w)
{
    return !s->io.alive || s->io.alive(s->io.ctx, w->token);
}

static void waiter_free(struct sqs_waiter *w)
{
    cJSON_Delete(w->in);
    free(w);
}

/* Serves q's long polls in arrival order while messages are visible, and
 * answers (empty) or drops those past their deadline or whose peer left. */
static void service_waiters(struct sd_sqs *s, struct sqs_queue *q, int64_t now_ms)
{
    struct sqs_waiter **pp = &q->waiters;
    while (*pp) {
        struct sqs_waiter *w = *pp;
        int done = 0;
        if (!waiter_alive(s, w)) {
            s->io.reply(s->io.ctx, w->token, NULL);
            done = 1;
        } else if (sqs_queue_next_visible(q) <= now_ms && answer_waiter(s, q, w, 1, now_ms)) {
            done = 1;
        } else if (now_ms >= w->deadline_ms) {
            done = answer_waiter(s, q, w, 0, now_ms);
        }
        if (done) {
            *pp = w->next;
            waiter_free(w);
        } else {
            pp = &w->next;
        }
    }
}

static void wake(struct sd_sqs *s, struct sqs_queue *q, int64_t now_ms)
{
    if (q->waiters)
        service_waiters(s, q, now_ms);
}

static void flush_waiters(struct sd_sqs *s, struct sqs_queue *q)
{
    while (q->waiters) {
        struct sqs_waiter *w = q->waiters;
        q->waiters = w->next;
        if (waiter_alive(s, w))
            answer_waiter(s, q, w, 0, cm_clock_wall_ns() / CM_NS_PER_MS);
        else
            s->io.reply(s->io.ctx, w->token, NULL);
        waiter_free(w);
    }
}

void sd_sqs_end_polls(struct sd_sqs *s)
{
    for (size_t i = 0; i < s->nq; i++)
        flush_waiters(s, s->qs[i]);
}

void sd_sqs_tick(struct sd_sqs *s, int64_t now_ms)
{
    for (size_t i = 0; i < s->nq; i++)
        wake(s, s->qs[i], now_ms);
    if (now_ms - s->last_sweep_ms >= 60000) {
        s->last_sweep_ms = now_ms;
        sqs_store_sweep(s, now_ms);
    }
}

/* ---- lifecycle and the C API
 * ---------------------------------------------------------------------- */

int sd_sqs_new(const struct sd_sqs_config *cfg, const struct sd_sqs_io *io, struct sd_sqs **out,
               char *err, size_t err_size)
{
    struct sd_sqs *s = cm_xcalloc(1, sizeof *s);
    *out = NULL;
    cm_strlcpy(s->region, cfg && cfg->region ? cfg->region : "us-east-1", sizeof s->region);
    cm_strlcpy(s->account, cfg && cfg->account_id ? cfg->account_id : "000000000000",
               sizeof s->account);
    cm_strlcpy(s->endpoint, cfg && cfg->endpoint ? cfg->endpoint : "http://127.0.0.1:4566",
               sizeof s->endpoint);
    if (io)
        s->io = *io;
    int rc = sqs_store_open(s, cfg ? cfg->db_path : NULL, err, err_size);
    if (rc) {
        sqs_store_close(s);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void sd_sqs_free(struct sd_sqs *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nq; i++) {
        struct sqs_queue *q = s->qs[i];
        while (q->waiters) {
            struct sqs_waiter *w = q->waiters;
            q->waiters = w->next;
            if (s->io.reply)
                s->io.reply(s->io.ctx, w->token, NULL);
            waiter_free(w);
        }
    }
    sqs_store_close(s);
    free(s);
}

void sd_sqs_queue_opts_init(struct sd_sqs_queue_opts *o)
{
    memset(o, 0, sizeof *o);
    o->visibility_timeout_s = o->retention_s = o->delay_s = o->receive_wait_s = -1;
    o->max_message_bytes = o->max_receive_count = -1;
}

int sd_sqs_ensure_queue(struct sd_sqs *s, const char *name, const struct sd_sqs_queue_opts *o,
                        int64_t now_ms, char *err, size_t err_size)
{
    struct qset a;
    struct sqs_error e = {0};
    char v[400];
    if (!sqs_name_ok(name)) {
        snprintf(err, err_size, "queue name '%.100s': 1 to 80 of A-Z a-z 0-9 _ -", name);
        return CM_EINVAL;
    }
    struct sqs_queue *q = sqs_queue_find(s, name);
    struct sqs_queue *fresh = q ? NULL : sqs_queue_alloc(s, name, now_ms);
    qset_from(&a, q ? q : fresh);
    /* Declared values replace everything; unset ones go back to defaults. */
    a.vis = o->visibility_timeout_s >= 0 ? o->visibility_timeout_s : SQS_DEFAULT_VIS_S;
    a.ret = o->retention_s >= 0 ? o->retention_s : SQS_DEFAULT_RET_S;
    a.delay = o->delay_s >= 0 ? o->delay_s : 0;
    a.wait = o->receive_wait_s >= 0 ? o->receive_wait_s : 0;
    a.maxb = o->max_message_bytes >= 0 ? o->max_message_bytes : SQS_DEFAULT_MAX_B;
    const char *names[] = {"VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds",
                           "ReceiveMessageWaitTimeSeconds", "MaximumMessageSize"};
    int64_t vals[] = {a.vis, a.ret, a.delay, a.wait, a.maxb};
    for (int i = 0; i < 5 && !e.code; i++) {
        snprintf(v, sizeof v, "%" PRId64, vals[i]);
        apply_attr(s, &a, names[i], v, &e);
    }
    if (!e.code) {
        if (o->dlq_name)
            snprintf(
                v, sizeof v,
                "{\"deadLetterTargetArn\":\"arn:aws:sqs:%s:%s:%s\",\"maxReceiveCount\":%" PRId64
                "}",
                s->region, s->account, o->dlq_name, o->max_receive_count);
        else
            v[0] = '\0';
        apply_attr(s, &a, "RedrivePolicy", v, &e);
    }
    int rc = 0;
    if (e.code) {
        snprintf(err, err_size, "queue %s: %s", name, e.msg);
        rc = CM_EINVAL;
    } else {
        qset_to(&a, q ? q : fresh);
        if (sqs_queue_save(s, q ? q : fresh)) {
            snprintf(err, err_size, "queue %s: SQLite: %s", name, sqlite3_errmsg(s->db));
            rc = CM_EIO;
        } else {
            fresh = NULL;
        }
    }
    sqs_queue_release(fresh);
    cJSON_Delete(a.extra);
    return rc;
}

int sd_sqs_queue_arn(const struct sd_sqs *s, const char *name, char *out, size_t out_size)
{
    const struct sqs_queue *q = sqs_queue_find(s, name);
    if (!q)
        return CM_ENOTFOUND;
    sqs_queue_arn(s, q, out, out_size);
    return 0;
}

int sd_sqs_send(struct sd_sqs *s, const char *queue, const char *body, size_t len, int64_t delay_s,
                int64_t now_ms, char *message_id)
{
    struct sqs_queue *q = sqs_queue_find(s, queue);
    struct sqs_msg *m;
    if (!q)
        return CM_ENOTFOUND;
    if (len == 0 || (int64_t)len > q->max_bytes || delay_s > 900 || !sqs_body_chars_ok(body, len))
        return CM_EINVAL;
    struct sqs_send_in in = {body, len, NULL, 0, NULL, NULL, delay_s};
    int rc = sqs_store_send(s, q, &in, 1, now_ms, &m);
    if (rc)
        return rc;
    if (message_id)
        memcpy(message_id, m->id, 37);
    wake(s, q, now_ms);
    return 0;
}

static char *dup_opt(const char *p)
{
    return p ? cm_xstrdup(p) : NULL;
}

int sd_sqs_receive(struct sd_sqs *s, const char *queue, int max, int64_t visibility_timeout_s,
                   int64_t now_ms, struct sd_sqs_msg **out, int *n_out)
{
    struct sqs_queue *q = sqs_queue_find(s, queue);
    struct sqs_msg *got[10];
    int n = 0;
    *out = NULL;
    *n_out = 0;
    if (!q)
        return CM_ENOTFOUND;
    if (max < 1 || max > 10 || visibility_timeout_s > 43200)
        return CM_EINVAL;
    int64_t vis = visibility_timeout_s >= 0 ? visibility_timeout_s : q->vis_s;
    int rc = sqs_store_receive(s, q, max, vis, now_ms, got, &n);
    if (rc || n == 0)
        return rc;
    struct sd_sqs_msg *v = cm_xcalloc((size_t)n, sizeof *v);
    for (int i = 0; i < n; i++) {
        const struct sqs_msg *m = got[i];
        char rh[64];
        sqs_receipt(m, rh);
        memcpy(v[i].message_id, m->id, sizeof v[i].message_id);
        v[i].receipt_handle = cm_xstrdup(rh);
        v[i].body = cm_xstrndup(m->body, m->body_len);
        v[i].body_len = m->body_len;
        memcpy(v[i].md5_body, m->md5_body, sizeof v[i].md5_body);
        memcpy(v[i].md5_attrs, m->md5_attrs, sizeof v[i].md5_attrs);
        v[i].sent_ms = m->sent_ms;
        v[i].first_receive_ms = m->first_recv_ms;
        v[i].receive_count = m->recv_count;
        v[i].sender_id = cm_xstrdup(m->sender ? m->sender : s->account);
        v[i].trace_header = dup_opt(m->trace);
        v[i].dlq_source_arn = dup_opt(m->src_arn);
        if (m->attrs_len) {
            v[i].attrs = cm_xmalloc(m->attrs_len);
            memcpy(v[i].attrs, m->attrs, m->attrs_len);
            v[i].attrs_len = m->attrs_len;
        }
    }
    *out = v;
    *n_out = n;
    return 0;
}

void sd_sqs_msgs_free(struct sd_sqs_msg *msgs, int n)
{
    if (!msgs)
        return;
    for (int i = 0; i < n; i++) {
        free(msgs[i].receipt_handle);
        free(msgs[i].body);
        free(msgs[i].sender_id);
        free(msgs[i].trace_header);
        free(msgs[i].dlq_source_arn);
        free(msgs[i].attrs);
    }
    free(msgs);
}

int sd_sqs_delete(struct sd_sqs *s, const char *queue, const char *receipt_handle)
{
    struct sqs_queue *q = sqs_queue_find(s, queue);
    return q ? sqs_store_delete(s, q, receipt_handle) : CM_ENOTFOUND;
}

int sd_sqs_change_visibility(struct sd_sqs *s, const char *queue, const char *receipt_handle,
                             int64_t timeout_s, int64_t now_ms)
{
    struct sqs_queue *q = sqs_queue_find(s, queue);
    if (!q)
        return CM_ENOTFOUND;
    if (timeout_s < 0 || timeout_s > 43200)
        return CM_EINVAL;
    int rc = sqs_store_change_vis(s, q, receipt_handle, timeout_s, now_ms);
    if (rc == 0 && timeout_s == 0)
        wake(s, q, now_ms);
    return rc;
}

int sd_sqs_counts(const struct sd_sqs *s, const char *queue, int64_t now_ms,
                  struct sd_sqs_counts *out)
{
    const struct sqs_queue *q = sqs_queue_find(s, queue);
    if (!q)
        return CM_ENOTFOUND;
    sqs_store_counts(q, now_ms, out);
    return 0;
}
