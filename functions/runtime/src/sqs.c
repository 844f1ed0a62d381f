/* sqs.c: SQS -> Lambda batch events and the partial batch response
 * {"batchItemFailures":[{"itemIdentifier":"<messageId>"}]} that an event
 * source mapping with ReportBatchItemFailures reads (protocols.md 4.4). The
 * event's message attributes are camelCase (stringValue), unlike the SQS
 * API's PascalCase; both are accepted. */
#include "rt.h"

#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"

#include <stdlib.h>
#include <string.h>

static int fail(const char **why, const char *msg, int rc)
{
    if (why)
        *why = msg;
    return rc;
}

static int opt_str(const cJSON *obj, const char *key, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = "";
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v) || !v->valuestring)
        return CM_EINVAL;
    *out = v->valuestring;
    return 0;
}

/* SQS system attributes are decimal strings ("1545082649183"); anything
 * else (absent, empty, signs, junk, overflow) reads as 0. */
static int64_t attr_int(const cJSON *attrs, const char *key)
{
    const char *s = cm_json_str(attrs, key, NULL);
    if (!s || !*s)
        return 0;
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (INT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (*s - '0');
    }
    return v;
}

static int fill_record(const cJSON *rec, struct rt_sqs_record *r, const char **why)
{
    if (!cJSON_IsObject(rec))
        return fail(why, "Records[]: expected an object", CM_EINVAL);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(rec, "messageId");
    if (!cJSON_IsString(id) || !id->valuestring || !*id->valuestring)
        return fail(why, "Records[].messageId: expected a non-empty string", CM_EINVAL);
    r->message_id = id->valuestring;
    if (opt_str(rec, "receiptHandle", &r->receipt_handle) || opt_str(rec, "body", &r->body) ||
        opt_str(rec, "md5OfBody", &r->md5_of_body) ||
        opt_str(rec, "eventSourceARN", &r->event_source_arn) ||
        opt_str(rec, "awsRegion", &r->aws_region))
        return fail(why,
                    "Records[]: receiptHandle, body, md5OfBody, eventSourceARN and awsRegion "
                    "must be strings",
                    CM_EINVAL);
    r->body_len = strlen(r->body);
    r->attributes = cJSON_GetObjectItemCaseSensitive(rec, "attributes");
    if (r->attributes && !cJSON_IsObject(r->attributes))
        return fail(why, "Records[].attributes: expected an object", CM_EINVAL);
    r->message_attributes = cJSON_GetObjectItemCaseSensitive(rec, "messageAttributes");
    if (r->message_attributes && !cJSON_IsObject(r->message_attributes))
        return fail(why, "Records[].messageAttributes: expected an object", CM_EINVAL);
    r->approximate_receive_count = attr_int(r->attributes, "ApproximateReceiveCount");
    r->sent_timestamp_ms = attr_int(r->attributes, "SentTimestamp");
    r->first_receive_timestamp_ms = attr_int(r->attributes, "ApproximateFirstReceiveTimestamp");
    return 0;
}

static int fill_event(const cJSON *root, struct rt_sqs_event *ev, const char **why)
{
    memset(ev, 0, sizeof *ev);
    const cJSON *records = cJSON_GetObjectItemCaseSensitive(root, "Records");
    if (!cJSON_IsArray(records))
        return fail(why, "Records: expected an array (not an SQS event)", CM_EINVAL);
    size_t n = (size_t)cJSON_GetArraySize(records);
    ev->records = n ? cm_xcalloc(n, sizeof *ev->records) : NULL;
    for (const cJSON *rec = records->child; rec; rec = rec->next) {
        int rc = fill_record(rec, &ev->records[ev->n_records], why);
        if (rc)
            return rc;
        ev->n_records++;
    }
    if (ev->n_records) {
        const char *arn = ev->records[0].event_source_arn;
        size_t len = strlen(arn);
        ev->fifo = len >= 5 && strcmp(arn + len - 5, ".fifo") == 0;
    }
    return 0;
}

int rt_sqs_event_from_json(const cJSON *root, struct rt_sqs_event *ev, const char **why)
{
    return fill_event(root, ev, why);
}

int rt_sqs_event_parse(const char *p, size_t n, struct rt_sqs_event *ev, const char **why)
{
    cJSON *tree = cm_json_parse(p, n);
    int rc = fill_event(tree, ev, why);
    ev->owned_ = tree;
    if (!tree)
        return fail(why, "event: not valid JSON", CM_EPARSE);
    return rc;
}

void rt_sqs_event_deinit(struct rt_sqs_event *ev)
{
    if (!ev)
        return;
    free(ev->records);
    cJSON_Delete(ev->owned_);
    memset(ev, 0, sizeof *ev);
}

const char *rt_sqs_attribute(const struct rt_sqs_record *r, const char *name)
{
    return cm_json_str(r->attributes, name, NULL);
}

const char *rt_sqs_message_attribute(const struct rt_sqs_record *r, const char *name)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(r->message_attributes, name);
    const char *v = cm_json_str(a, "stringValue", NULL);
    return v ? v : cm_json_str(a, "StringValue", NULL);
}

int rt_sqs_batch_response(const char *const *failed_ids, size_t n, struct cm_buf *out)
{
    size_t start = out->len;
    int rc = cm_buf_puts(out, "{\"batchItemFailures\":[");
    for (size_t i = 0; i < n && !rc; i++) {
        rc = cm_buf_puts(out, i ? ",{\"itemIdentifier\":" : "{\"itemIdentifier\":");
        rc = rc ? rc : cm_json_append_string(out, failed_ids[i], strlen(failed_ids[i]));
        rc = rc ? rc : cm_buf_putc(out, '}');
    }
    rc = rc ? rc : cm_buf_puts(out, "]}");
    if (rc) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return rc;
}

int rt_sqs_process(const struct rt_invocation *inv, const struct rt_sqs_event *ev,
                   rt_sqs_record_fn fn, void *arg, struct cm_buf *out)
{
    char saved[RT_CORR_ID_MAX];
    cm_strlcpy(saved, rt_log_correlation_id(), sizeof saved);
    const char **failed = ev->n_records ? cm_xcalloc(ev->n_records, sizeof *failed) : NULL;
    size_t n_failed = 0;
    for (size_t i = 0; i < ev->n_records; i++) {
        const struct rt_sqs_record *r = &ev->records[i];
        /* FIFO: after a failure, later messages of the batch must not be
         * processed out of order; report them all for redelivery. */
        if (ev->fifo && n_failed) {
            failed[n_failed++] = r->message_id;
            continue;
        }
        rt_log_set_correlation_id(rt_sqs_message_attribute(r, "correlation_id"));
        if (fn(inv, r, arg) != 0)
            failed[n_failed++] = r->message_id;
    }
    rt_log_set_correlation_id(saved);
    int rc = rt_sqs_batch_response(failed, n_failed, out);
    free(failed);
    return rc ? rc : (int)n_failed;
}
