/* sqs.c: queue depth source. SQS JSON protocol (awsJson1_0, X-Amz-Target
 * AmazonSQS.<Op>, x-amzn-query-mode: true): GetQueueUrl once per queue, then
 * GetQueueAttributes for ApproximateNumberOfMessages (visible),
 * ApproximateNumberOfMessagesNotVisible (in flight) and
 * ApproximateNumberOfMessagesDelayed on every tick, for each queue and its
 * DLQ. The age of the oldest message is not an attribute (CloudWatch has it
 * on AWS; see lgc_record_queue for the estimate used otherwise). */
#include "lgc_int.h"

#include "cm/json.h"
#include "cm/mem.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const attr_names[3] = {"ApproximateNumberOfMessages",
                                          "ApproximateNumberOfMessagesNotVisible",
                                          "ApproximateNumberOfMessagesDelayed"};

int lgc_sqs_queue_url(struct cm_aws_client *c, const char *name, char **url, char *aws_code)
{
    if (strncmp(name, "http://", 7) == 0 || strncmp(name, "https://", 8) == 0) {
        *url = cm_xstrdup(name);
        return 0;
    }
    cJSON *b = cJSON_CreateObject(), *resp = NULL;
    cJSON_AddStringToObject(b, "QueueName", name);
    int rc = lgc_aws_call(c, "GetQueueUrl", b, &resp, aws_code);
    if (!rc) {
        const char *u = cm_json_str(resp, "QueueUrl", NULL);
        if (u && *u)
            *url = cm_xstrdup(u);
        else
            rc = CM_EPARSE;
    }
    cJSON_Delete(resp);
    return rc;
}

/* Attribute values are decimal strings ("12"); a missing one reads 0 (SQS
 * omits nothing it was asked for, but a DLQ-less stub might). */
static int parse_attrs_json(const cJSON *resp, double out[3])
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(resp, "Attributes");
    if (!cJSON_IsObject(a))
        return CM_EPARSE;
    for (int i = 0; i < 3; i++) {
        const char *s = cm_json_str(a, attr_names[i], NULL);
        out[i] = 0;
        if (!s)
            continue;
        char *end = NULL;
        double v = strtod(s, &end);
        if (end == s || *end || !isfinite(v) || v < 0)
            return CM_EPARSE;
        out[i] = v;
    }
    return 0;
}

int lgc_sqs_parse_attrs(const char *p, size_t n, double out[3])
{
    cJSON *j = cm_json_parse(p, n);
    int rc = j ? parse_attrs_json(j, out) : CM_EPARSE;
    cJSON_Delete(j);
    return rc;
}

int lgc_sqs_depth(struct cm_aws_client *c, const char *url, double out[3], char *aws_code)
{
    cJSON *b = cJSON_CreateObject(), *resp = NULL;
    cJSON_AddStringToObject(b, "QueueUrl", url);
    cJSON_AddItemToObject(b, "AttributeNames", cJSON_CreateStringArray(attr_names, 3));
    int rc = lgc_aws_call(c, "GetQueueAttributes", b, &resp, aws_code);
    if (!rc)
        rc = parse_attrs_json(resp, out);
    cJSON_Delete(resp);
    return rc;
}

/* Resolves (once) and reads one queue; url is cached in *cache. */
static int read_queue(struct lgc *l, const char *name, char **cache, double d[3])
{
    char code[128];
    int rc = *cache ? 0 : lgc_sqs_queue_url(l->sqs, name, cache, code);
    if (!rc)
        rc = lgc_sqs_depth(l->sqs, *cache, d, code);
    if (rc)
        lgc_note_error(l, "sqs", name, rc, code);
    return rc;
}

static int sqs_sample(struct lgc *l, int64_t now_ms, struct lgc_row *row, int final)
{
    (void) final;
    int first = 0;
    if (!l->sqs)
        return 0;
    for (size_t i = 0; i < l->nq; i++) {
        if (!final && atomic_load(&l->stop))
            break; /* lgc_stop waits for this tick: cut it short */
        struct lgc_queue *q = &l->q[i];
        double d[3], dd[3];
        double *v = lgc_row_q(l, row, i);
        int rc = read_queue(l, q->name, &q->url, d);
        int drc = q->dlq ? read_queue(l, q->dlq, &q->dlq_url, dd) : 1;
        pthread_mutex_lock(&l->mu);
        if (!rc) {
            v[LGC_QV_VISIBLE] = d[0];
            v[LGC_QV_INFLIGHT] = d[1];
            v[LGC_QV_DELAYED] = d[2];
            lgc_record_queue(l, i, now_ms, d[0], d[1], d[2], &v[LGC_QV_AGE]);
        }
        if (!drc) { /* a DLQ's depth counts everything it holds */
            v[LGC_QV_DLQ] = dd[0] + dd[1] + dd[2];
            lgc_record_dlq(l, i, v[LGC_QV_DLQ]);
        }
        pthread_mutex_unlock(&l->mu);
        if (!first)
            first = rc ? rc : drc > 0 ? 0 : drc;
    }
    return first;
}

const struct lgc_source_ops lgc_sqs_ops = {"sqs", sqs_sample};
