/* sd_esm.c: SQS event source mappings (see sd_esm.h for the behaviour and
 * the API paths). Each received message is rendered into its event record
 * at once, so a batch is a list of (message id, receipt handle, record
 * JSON) and the receive array goes straight back to the queue side. */
#include "sd_esm.h"

#include "sd_lambda.h"

#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKOFF_MIN_MS   100
#define BACKOFF_MAX_MS   5000
#define SCALE_STEP_MS    200   /* +1 batch per 200 ms = 300 per minute */
#define IDLE_SHRINK_MS   60000 /* no messages this long: back to the initial batches */
#define FAIL_HOLD_MS     1000  /* no scaling up this long after a failed batch */
#define RECORDS_OVERHEAD 16    /* {"Records":[ ... ]} */

struct esm_msg {
    char id[37];
    char *handle;
    char *record; /* this message's element of Records */
    size_t record_len;
};

struct mapping {
    char uuid[37];
    char *queue, *queue_arn, *fn_name, *fn_arn;
    int64_t batch_size, window_s, max_conc;
    int report_failures, enabled, deleted;
    int64_t modified_ms;
    struct esm_msg *gather; /* received, waiting for their batch */
    int n_gather, cap_gather;
    size_t gather_bytes; /* record bytes in gather */
    int64_t gather_start_ms;
    int64_t next_poll_ms, backoff_ms, last_scale_ms, last_msg_ms, last_fail_ms;
    int fail_pending; /* a batch failed since the last tick */
    struct sd_esm_stats st;
};

struct batch {
    struct sd_esm *e;
    struct mapping *m;
    struct esm_msg *msgs;
    int n;
};

struct sd_esm {
    char *region, *account_id;
    struct sd_esm_queue_ops q;
    struct sd_esm_fn_ops f;
    struct mapping **maps;
    size_t n_maps;
};

/* ---------- records ---------- */

static void put_key(struct cm_buf *b, const char *k)
{
    cm_json_append_string(b, k, strlen(k));
    cm_buf_putc(b, ':');
}

static void put_str(struct cm_buf *b, const char *k, const char *v)
{
    put_key(b, k);
    cm_json_append_string(b, v, strlen(v));
}

static void put_base64(struct cm_buf *b, const unsigned char *p, size_t n)
{
    size_t enc = 4 * ((n + 2) / 3);
    char *tmp = cm_xmalloc(enc + 1);
    EVP_EncodeBlock((unsigned char *)tmp, p, (int)n);
    cm_json_append_string(b, tmp, enc);
    free(tmp);
}

static void put_msg_attrs(struct cm_buf *b, const struct sd_sqs_msg *m)
{
    size_t pos = 0;
    struct sd_sqs_attr a;
    int first = 1;
    cm_buf_puts(b, "\"messageAttributes\":{");
    while (m->attrs && sd_sqs_attr_next(m->attrs, m->attrs_len, &pos, &a) == 1) {
        if (!first)
            cm_buf_putc(b, ',');
        first = 0;
        cm_json_append_string(b, a.name, a.name_len);
        cm_buf_puts(b, ":{");
        if (a.binary) {
            put_key(b, "binaryValue");
            put_base64(b, a.value, a.value_len);
        } else {
            put_key(b, "stringValue");
            cm_json_append_string(b, (const char *)a.value, a.value_len);
        }
        cm_buf_puts(b, ",\"stringListValues\":[],\"binaryListValues\":[],\"dataType\":");
        cm_json_append_string(b, a.type, a.type_len);
        cm_buf_putc(b, '}');
    }
    cm_buf_puts(b, "},");
}

void sd_esm_record_json(const struct sd_sqs_msg *m, const char *queue_arn, const char *region,
                        struct cm_buf *b)
{
    cm_buf_putc(b, '{');
    put_str(b, "messageId", m->message_id);
    cm_buf_putc(b, ',');
    put_str(b, "receiptHandle", m->receipt_handle ? m->receipt_handle : "");
    cm_buf_putc(b, ',');
    put_key(b, "body");
    cm_json_append_string(b, m->body ? m->body : "", m->body_len);
    cm_buf_printf(b,
                  ",\"attributes\":{\"ApproximateReceiveCount\":\"%lld\",\"SentTimestamp\":"
                  "\"%lld\",",
                  (long long)m->receive_count, (long long)m->sent_ms);
    put_str(b, "SenderId", m->sender_id ? m->sender_id : "AIDAIT2UOQQY3AUEKVGXU");
    cm_buf_printf(b, ",\"ApproximateFirstReceiveTimestamp\":\"%lld\"",
                  (long long)m->first_receive_ms);
    if (m->trace_header) {
        cm_buf_putc(b, ',');
        put_str(b, "AWSTraceHeader", m->trace_header);
    }
    cm_buf_puts(b, "},");
    put_msg_attrs(b, m);
    put_str(b, "md5OfBody", m->md5_body);
    cm_buf_putc(b, ',');
    if (m->md5_attrs[0]) {
        put_str(b, "md5OfMessageAttributes", m->md5_attrs);
        cm_buf_putc(b, ',');
    }
    put_str(b, "eventSource", "aws:sqs");
    cm_buf_putc(b, ',');
    put_str(b, "eventSourceARN", queue_arn);
    cm_buf_putc(b, ',');
    put_str(b, "awsRegion", region);
    cm_buf_putc(b, '}');
}

static void msgs_free(struct esm_msg *v, int n)
{
    for (int i = 0; i < n; i++) {
        free(v[i].handle);
        free(v[i].record);
    }
}

/* ---------- stackd adapters (sd_sqs, sd_lambda) ---------- */

static int sqs_receive(void *ctx, const char *queue, int max, int64_t now_ms,
                       struct sd_sqs_msg **out, int *n_out)
{
    return sd_sqs_receive(ctx, queue, max, -1, now_ms, out, n_out);
}

static void sqs_msgs_free(void *ctx, struct sd_sqs_msg *msgs, int n)
{
    (void)ctx;
    sd_sqs_msgs_free(msgs, n);
}

static int sqs_delete(void *ctx, const char *queue, const char *handle)
{
    return sd_sqs_delete(ctx, queue, handle);
}

static int sqs_visible(void *ctx, const char *queue, int64_t now_ms, int64_t *visible)
{
    struct sd_sqs_counts c;
    int rc = sd_sqs_counts(ctx, queue, now_ms, &c);
    *visible = rc == 0 ? c.visible : 0;
    return rc;
}

struct lambda_call {
    sd_esm_done_fn done;
    void *done_ctx;
};

static void lambda_done(void *ctx, const struct sd_inv_result *res)
{
    struct lambda_call c = *(struct lambda_call *)ctx;
    free(ctx);
    enum sd_esm_inv_status st = res->status == SD_INV_OK         ? SD_ESM_INV_OK
                                : res->status == SD_INV_SHUTDOWN ? SD_ESM_INV_SHUTDOWN
                                                                 : SD_ESM_INV_ERROR;
    c.done(c.done_ctx, st, res->body, res->body_len);
}

static int lambda_invoke(void *ctx, const char *function, const char *payload, size_t len,
                         sd_esm_done_fn done, void *done_ctx)
{
    struct sd_fn *fn = sd_lambda_find(ctx, function, strlen(function));
    if (!fn)
        return CM_ENOTFOUND;
    struct lambda_call *c = cm_xmalloc(sizeof(*c));
    c->done = done;
    c->done_ctx = done_ctx;
    struct sd_invoke_opts o = {payload, len, 0, NULL, NULL, lambda_done, c};
    int rc = sd_lambda_invoke(ctx, fn, &o);
    if (rc < 0)
        free(c);
    return rc;
}

static int lambda_resolve(void *ctx, const char *name_or_arn, char *name, char *arn)
{
    struct sd_fn *fn = sd_lambda_find(ctx, name_or_arn, strlen(name_or_arn));
    if (!fn)
        return CM_ENOTFOUND;
    cm_strlcpy(name, sd_fn_config(fn)->name, 65);
    sd_fn_arn(ctx, fn, arn, 160);
    return 0;
}

int sd_esm_new_stackd(const struct sd_esm_config *cfg, struct sd_sqs *sq, struct sd_lambda *l,
                      struct sd_esm **out)
{
    struct sd_esm_queue_ops q = {sqs_receive, sqs_msgs_free, sqs_delete, sqs_visible, sq};
    struct sd_esm_fn_ops f = {lambda_invoke, lambda_resolve, l};
    return sd_esm_new(cfg, &q, &f, out);
}

/* ---------- mappings ---------- */

static void mapping_free(struct mapping *m)
{
    if (!m)
        return;
    msgs_free(m->gather, m->n_gather);
    free(m->gather);
    free(m->queue);
    free(m->queue_arn);
    free(m->fn_name);
    free(m->fn_arn);
    free(m);
}

int sd_esm_new(const struct sd_esm_config *cfg, const struct sd_esm_queue_ops *q,
               const struct sd_esm_fn_ops *f, struct sd_esm **out)
{
    struct sd_esm *e = cm_xcalloc(1, sizeof(*e));
    e->region = cm_xstrdup(cfg && cfg->region ? cfg->region : "us-east-1");
    e->account_id = cm_xstrdup(cfg && cfg->account_id ? cfg->account_id : "000000000000");
    e->q = *q;
    e->f = *f;
    e->maps = cm_xcalloc(SD_ESM_MAX_MAPPINGS, sizeof(*e->maps));
    *out = e;
    return 0;
}

void sd_esm_free(struct sd_esm *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n_maps; i++)
        mapping_free(e->maps[i]);
    free(e->maps);
    free(e->region);
    free(e->account_id);
    free(e);
}

static struct mapping *find_map(const struct sd_esm *e, const char *uuid)
{
    for (size_t i = 0; i < e->n_maps; i++) {
        if (!e->maps[i]->deleted && strcmp(e->maps[i]->uuid, uuid) == 0)
            return e->maps[i];
    }
    return NULL;
}

static void remove_map(struct sd_esm *e, struct mapping *m)
{
    for (size_t i = 0; i < e->n_maps; i++) {
        if (e->maps[i] == m) {
            memmove(&e->maps[i], &e->maps[i + 1], (e->n_maps - i - 1) * sizeof(*e->maps));
            e->n_maps--;
            break;
        }
    }
    mapping_free(m);
}

static void gen_uuid(char out[37])
{
    unsigned char r[16];
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(r, 1, sizeof(r), f) != sizeof(r)) {
        for (size_t i = 0; i < sizeof(r); i++)
            r[i] = (unsigned char)rand();
    }
    if (f)
        fclose(f);
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0],
             r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
             r[14], r[15]);
}

/* NULL when the batching settings are valid, else why. */
static const char *check_batching(int64_t batch_size, int64_t window_s)
{
    if (batch_size < 1 || batch_size > 10000)
        return "BatchSize must be between 1 and 10000 for SQS";
    if (window_s < 0 || window_s > 300)
        return "MaximumBatchingWindowInSeconds must be between 0 and 300";
    if (batch_size > 10 && window_s < 1)
        return "Maximum batch window in seconds must be greater than 0 if maximum batch size is "
               "greater than 10";
    return NULL;
}

static const char *check_concurrency(int64_t max_conc)
{
    if (max_conc != 0 && (max_conc < 2 || max_conc > 1000))
        return "ScalingConfig.MaximumConcurrency must be between 2 and 1000";
    return NULL;
}

int sd_esm_create(struct sd_esm *e, const struct sd_esm_spec *s, int64_t now_ms, char *uuid,
                  char *err, size_t err_size)
{
    const char *why = check_batching(s->batch_size, s->window_s);
    char name[80], arn[200];
    int64_t vis;
    if (!why)
        why = check_concurrency(s->max_concurrency);
    if (why) {
        snprintf(err, err_size, "%s", why);
        return CM_EINVAL;
    }
    if (!s->queue || e->q.visible(e->q.ctx, s->queue, now_ms, &vis) < 0) {
        snprintf(err, err_size, "queue %s does not exist", s->queue ? s->queue : "(none)");
        return CM_ENOTFOUND;
    }
    if (!s->function || e->f.resolve(e->f.ctx, s->function, name, arn) < 0) {
        snprintf(err, err_size, "function %s does not exist", s->function ? s->function : "(none)");
        return CM_ENOTFOUND;
    }
    for (size_t i = 0; i < e->n_maps; i++) {
        const struct mapping *o = e->maps[i];
        if (!o->deleted && strcmp(o->queue, s->queue) == 0 && strcmp(o->fn_name, name) == 0) {
            snprintf(err, err_size,
                     "An event source mapping with SQS arn (\" %s \") and function (\" %s \") "
                     "already exists. Please update or delete the existing mapping with UUID %s",
                     o->queue_arn, o->fn_name, o->uuid);
            return CM_ESTATE;
        }
    }
    if (e->n_maps >= SD_ESM_MAX_MAPPINGS) {
        snprintf(err, err_size, "more than %d event source mappings", SD_ESM_MAX_MAPPINGS);
        return CM_ETOOBIG;
    }
    struct mapping *m = cm_xcalloc(1, sizeof(*m));
    gen_uuid(m->uuid);
    m->queue = cm_xstrdup(s->queue);
    char qarn[300];
    snprintf(qarn, sizeof(qarn), "arn:aws:sqs:%s:%s:%s", e->region, e->account_id, s->queue);
    m->queue_arn = cm_xstrdup(qarn);
    m->fn_name = cm_xstrdup(name);
    m->fn_arn = cm_xstrdup(arn);
    m->batch_size = s->batch_size;
    m->window_s = s->window_s;
    m->max_conc = s->max_concurrency;
    m->report_failures = s->report_failures;
    m->enabled = s->enabled;
    m->modified_ms = now_ms;
    m->st.target = SD_ESM_INITIAL_BATCHES;
    if (m->max_conc && m->st.target > m->max_conc)
        m->st.target = (int)m->max_conc;
    m->last_msg_ms = now_ms;
    m->last_fail_ms = now_ms - FAIL_HOLD_MS;
    m->last_scale_ms = now_ms;
    e->maps[e->n_maps++] = m;
    if (uuid)
        memcpy(uuid, m->uuid, 37);
    return 0;
}

int sd_esm_set_batching(struct sd_esm *e, const char *uuid, int64_t batch_size, int64_t window_s,
                        char *err, size_t err_size)
{
    struct mapping *m = find_map(e, uuid);
    if (!m) {
        snprintf(err, err_size, "no event source mapping %s", uuid);
        return CM_ENOTFOUND;
    }
    const char *why = check_batching(batch_size, window_s);
    if (why) {
        snprintf(err, err_size, "%s", why);
        return CM_EINVAL;
    }
    m->batch_size = batch_size;
    m->window_s = window_s;
    return 0;
}

int sd_esm_delete(struct sd_esm *e, const char *uuid)
{
    struct mapping *m = find_map(e, uuid);
    if (!m)
        return CM_ENOTFOUND;
    /* Gathered messages are dropped: they come back after their visibility
     * timeout. Batches in flight keep the mapping until they end. */
    msgs_free(m->gather, m->n_gather);
    m->n_gather = 0;
    m->gather_bytes = 0;
    m->deleted = 1;
    if (m->st.inflight == 0)
        remove_map(e, m);
    return 0;
}

int sd_esm_stats(const struct sd_esm *e, const char *uuid, struct sd_esm_stats *out)
{
    const struct mapping *m = find_map(e, uuid);
    if (!m)
        return CM_ENOTFOUND;
    *out = m->st;
    out->gathered = m->n_gather;
    return 0;
}

size_t sd_esm_count(const struct sd_esm *e)
{
    size_t n = 0;
    for (size_t i = 0; i < e->n_maps; i++)
        n += !e->maps[i]->deleted;
    return n;
}

/* ---------- batch results ---------- */

/* Which messages failed: all (returns -1), none (0) or those marked in
 * failed[] (returns the count). See protocols.md 4.4 for the rules. */
static int partial_failures(const struct batch *b, const char *body, size_t len, char *failed)
{
    size_t i = 0;
    while (i < len && isspace((unsigned char)body[i]))
        i++;
    if (i == len)
        return 0; /* empty response: success */
    cJSON *j = cm_json_parse(body, len);
    int n = 0;
    if (!j)
        return -1; /* invalid JSON */
    const cJSON *list =
        cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "batchItemFailures") : NULL;
    if (list && !cJSON_IsNull(list) && !cJSON_IsArray(list)) {
        n = -1;
        goto out;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        const cJSON *id =
            cJSON_IsObject(it) ? cJSON_GetObjectItemCaseSensitive(it, "itemIdentifier") : NULL;
        int found = -1;
        if (cJSON_IsString(id) && id->valuestring[0]) {
            for (int k = 0; k < b->n && found < 0; k++) {
                if (strcmp(b->msgs[k].id, id->valuestring) == 0)
                    found = k;
            }
        }
        if (found < 0) {
            n = -1; /* null, empty, wrong key or unknown id: the whole batch failed */
            goto out;
        }
        if (!failed[found])
            n++;
        failed[found] = 1;
    }
out:
    cJSON_Delete(j);
    return n;
}

static void on_batch_done(void *ctx, enum sd_esm_inv_status st, const char *body, size_t len)
{
    struct batch *b = ctx;
    struct sd_esm *e = b->e;
    struct mapping *m = b->m;
    char *failed = cm_xcalloc((size_t)b->n + 1, 1);
    int nf = 0;
    m->st.inflight--;
    if (st == SD_ESM_INV_OK && m->report_failures)
        nf = partial_failures(b, body ? body : "", body ? len : 0, failed);
    if (st != SD_ESM_INV_OK || nf < 0) {
        if (st != SD_ESM_INV_SHUTDOWN) {
            m->st.failed_batches++;
            m->fail_pending = 1; /* scale() stamps it with the next tick's time */
        }
    } else {
        if (nf > 0)
            m->st.partial_batches++;
        for (int i = 0; i < b->n; i++) {
            if (failed[i])
                continue;
            if (e->q.delete_msg(e->q.ctx, m->queue, b->msgs[i].handle) == 0)
                m->st.deleted++;
        }
    }
    free(failed);
    msgs_free(b->msgs, b->n);
    free(b->msgs);
    free(b);
    if (m->deleted && m->st.inflight == 0)
        remove_map(e, m);
}

/* ---------- polling ---------- */

static int receive_into(struct sd_esm *e, struct mapping *m, int want, int64_t now)
{
    struct sd_sqs_msg *v = NULL;
    int n = 0;
    if (e->q.receive(e->q.ctx, m->queue, want, now, &v, &n) < 0 || n <= 0) {
        if (v)
            e->q.msgs_free(e->q.ctx, v, n);
        return 0;
    }
    if (m->n_gather + n > m->cap_gather) {
        m->cap_gather = (m->n_gather + n) * 2;
        m->gather = cm_xrealloc(m->gather, (size_t)m->cap_gather * sizeof(*m->gather));
    }
    if (m->n_gather == 0)
        m->gather_start_ms = now;
    for (int i = 0; i < n; i++) {
        struct esm_msg *g = &m->gather[m->n_gather++];
        struct cm_buf rec;
        cm_buf_init(&rec, 0);
        sd_esm_record_json(&v[i], m->queue_arn, e->region, &rec);
        memcpy(g->id, v[i].message_id, sizeof(g->id));
        g->handle = cm_xstrdup(v[i].receipt_handle ? v[i].receipt_handle : "");
        g->record = cm_buf_steal(&rec, &g->record_len);
        if (!g->record) {
            g->record = cm_xstrdup("{}");
            g->record_len = 2;
        }
        m->gather_bytes += g->record_len + 1;
        cm_buf_deinit(&rec);
    }
    e->q.msgs_free(e->q.ctx, v, n);
    return n;
}

static void throttled(struct mapping *m, int64_t now)
{
    m->st.throttles++;
    m->st.target = m->st.inflight > 1 ? m->st.inflight : 1;
    m->backoff_ms = m->backoff_ms ? m->backoff_ms * 2 : BACKOFF_MIN_MS;
    if (m->backoff_ms > BACKOFF_MAX_MS)
        m->backoff_ms = BACKOFF_MAX_MS;
    m->next_poll_ms = now + m->backoff_ms;
}

/* Invokes the function with the first gathered messages that fit in the
 * synchronous payload limit. 0, or < 0 when nothing was started. */
static int dispatch(struct sd_esm *e, struct mapping *m, int64_t now)
{
    size_t total = RECORDS_OVERHEAD;
    int k = 0;
    while (k < m->n_gather && k < m->batch_size &&
           (k == 0 || total + m->gather[k].record_len + 1 <= SD_ESM_MAX_PAYLOAD)) {
        total += m->gather[k].record_len + 1;
        k++;
    }
    struct cm_buf p;
    cm_buf_init(&p, 0);
    cm_buf_reserve(&p, total);
    cm_buf_puts(&p, "{\"Records\":[");
    for (int i = 0; i < k; i++) {
        if (i)
            cm_buf_putc(&p, ',');
        cm_buf_append(&p, m->gather[i].record, m->gather[i].record_len);
    }
    cm_buf_puts(&p, "]}");
    struct batch *b = cm_xcalloc(1, sizeof(*b));
    b->e = e;
    b->m = m;
    b->n = k;
    int rc = e->f.invoke(e->f.ctx, m->fn_name, p.data, p.len, on_batch_done, b);
    cm_buf_deinit(&p);
    if (rc == CM_EAGAIN) {
        free(b);
        throttled(m, now);
        return rc;
    }
    b->msgs = cm_xmalloc((size_t)k * sizeof(*b->msgs));
    memcpy(b->msgs, m->gather, (size_t)k * sizeof(*b->msgs));
    for (int i = 0; i < k; i++)
        m->gather_bytes -= m->gather[i].record_len + 1;
    memmove(m->gather, m->gather + k, (size_t)(m->n_gather - k) * sizeof(*m->gather));
    m->n_gather -= k;
    m->gather_start_ms = now;
    if (rc < 0) {
        /* Could not start (e.g. the function vanished): the batch failed,
         * its messages come back after the visibility timeout. */
        m->st.failed_batches++;
        m->last_fail_ms = now;
        msgs_free(b->msgs, b->n);
        free(b->msgs);
        free(b);
        m->backoff_ms = BACKOFF_MAX_MS;
        m->next_poll_ms = now + m->backoff_ms;
        return rc;
    }
    m->st.inflight++;
    m->st.batches++;
    m->st.records += (uint64_t)k;
    m->st.last_batch_size = k;
    m->backoff_ms = 0;
    return 0;
}

static int batch_full(const struct mapping *m)
{
    return m->n_gather >= m->batch_size || m->gather_bytes >= SD_ESM_MAX_PAYLOAD;
}

static void scale(struct sd_esm *e, struct mapping *m, int64_t now)
{
    int cap = m->max_conc ? (int)m->max_conc : SD_ESM_MAX_BATCHES;
    int64_t vis = 0;
    if (m->fail_pending) {
        m->last_fail_ms = now;
        m->fail_pending = 0;
    }
    if (m->st.target > cap)
        m->st.target = cap;
    if (now - m->last_msg_ms >= IDLE_SHRINK_MS && m->st.target > SD_ESM_INITIAL_BATCHES)
        m->st.target = SD_ESM_INITIAL_BATCHES < cap ? SD_ESM_INITIAL_BATCHES : cap;
    if (m->st.inflight < m->st.target || m->st.target >= cap || now < m->next_poll_ms ||
        now - m->last_scale_ms < SCALE_STEP_MS || now - m->last_fail_ms < FAIL_HOLD_MS)
        return;
    if (e->q.visible(e->q.ctx, m->queue, now, &vis) == 0 && vis > 0) {
        m->st.target++;
        m->last_scale_ms = now;
    }
}

static void poll_mapping(struct sd_esm *e, struct mapping *m, int64_t now)
{
    int receives = 0;
    if (m->deleted || !m->enabled || now < m->next_poll_ms)
        return;
    while (m->st.inflight < m->st.target) {
        if (!batch_full(m) && receives < SD_ESM_RECEIVES_PER_TICK) {
            int64_t room = m->batch_size - m->n_gather;
            receives++;
            if (receive_into(e, m, room < 10 ? (int)room : 10, now) > 0) {
                m->last_msg_ms = now;
                continue;
            }
        }
        if (m->n_gather == 0)
            break;
        if (!batch_full(m) && m->window_s > 0 && now - m->gather_start_ms < m->window_s * 1000)
            break;
        if (dispatch(e, m, now) < 0)
            break;
    }
    scale(e, m, now);
}

void sd_esm_tick(struct sd_esm *e, int64_t now_ms)
{
    for (size_t i = 0; i < e->n_maps; i++)
        poll_mapping(e, e->maps[i], now_ms);
}

/* ---------- API ---------- */

#define API_PREFIX "/2015-03-31/event-source-mappings"

int sd_esm_api_match(const char *path)
{
    size_t n = strlen(API_PREFIX);
    return strncmp(path, API_PREFIX, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static void api_error(struct sd_resp *r, int status, const char *type, const char *msg)
{
    r->status = status;
    cm_strlcpy(r->content_type, "application/json", sizeof(r->content_type));
    sd_resp_header(r, "x-amzn-ErrorType", type);
    cm_buf_reset(&r->body);
    cm_buf_puts(&r->body, "{\"Type\":\"User\",\"Message\":");
    cm_json_append_string(&r->body, msg, strlen(msg));
    cm_buf_puts(&r->body, ",\"message\":");
    cm_json_append_string(&r->body, msg, strlen(msg));
    cm_buf_puts(&r->body, "}");
}

static void mapping_json(const struct sd_esm *e, const struct mapping *m, const char *state,
                         struct cm_buf *b)
{
    cm_buf_putc(b, '{');
    put_str(b, "UUID", m->uuid);
    cm_buf_printf(b, ",\"BatchSize\":%lld,\"MaximumBatchingWindowInSeconds\":%lld,",
                  (long long)m->batch_size, (long long)m->window_s);
    put_str(b, "EventSourceArn", m->queue_arn);
    cm_buf_putc(b, ',');
    put_str(b, "FunctionArn", m->fn_arn);
    cm_buf_printf(b, ",\"LastModified\":%lld.%03d,", (long long)(m->modified_ms / 1000),
                  (int)(m->modified_ms % 1000));
    put_str(b, "State", state ? state : m->enabled ? "Enabled" : "Disabled");
    cm_buf_putc(b, ',');
    put_str(b, "StateTransitionReason", "USER_INITIATED");
    cm_buf_puts(b, ",\"FunctionResponseTypes\":[");
    if (m->report_failures)
        cm_buf_puts(b, "\"ReportBatchItemFailures\"");
    cm_buf_puts(b, "]");
    if (m->max_conc)
        cm_buf_printf(b, ",\"ScalingConfig\":{\"MaximumConcurrency\":%lld}",
                      (long long)m->max_conc);
    char arn[300];
    snprintf(arn, sizeof(arn), "arn:aws:lambda:%s:%s:event-source-mapping:%s", e->region,
             e->account_id, m->uuid);
    cm_buf_putc(b, ',');
    put_str(b, "EventSourceMappingArn", arn);
    cm_buf_putc(b, '}');
}

static void reply_mapping(struct sd_resp *r, int status, const struct sd_esm *e,
                          const struct mapping *m, const char *state)
{
    r->status = status;
    cm_strlcpy(r->content_type, "application/json", sizeof(r->content_type));
    mapping_json(e, m, state, &r->body);
}

/* Optional integer member: 0 (absent: *v untouched), 1 set, -1 wrong type. */
static int get_int(const cJSON *j, const char *k, int64_t *v)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, k);
    if (!x || cJSON_IsNull(x))
        return 0;
    if (!cJSON_IsNumber(x) || x->valuedouble != (double)(int64_t)x->valuedouble ||
        x->valuedouble < -1e9 || x->valuedouble > 1e9)
        return -1;
    *v = (int64_t)x->valuedouble;
    return 1;
}

/* The settings members shared by Create and Update, applied onto *s. NULL or why. */
static const char *read_settings(const cJSON *j, struct sd_esm_spec *s)
{
    if (get_int(j, "BatchSize", &s->batch_size) < 0)
        return "BatchSize must be an integer";
    if (get_int(j, "MaximumBatchingWindowInSeconds", &s->window_s) < 0)
        return "MaximumBatchingWindowInSeconds must be an integer";
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(j, "Enabled");
    if (en && !cJSON_IsNull(en)) {
        if (!cJSON_IsBool(en))
            return "Enabled must be a boolean";
        s->enabled = cJSON_IsTrue(en);
    }
    const cJSON *frt = cJSON_GetObjectItemCaseSensitive(j, "FunctionResponseTypes");
    if (frt && !cJSON_IsNull(frt)) {
        const cJSON *it;
        if (!cJSON_IsArray(frt))
            return "FunctionResponseTypes must be a list";
        s->report_failures = 0;
        cJSON_ArrayForEach(it, frt)
        {
            if (!cJSON_IsString(it) || strcmp(it->valuestring, "ReportBatchItemFailures") != 0)
                return "FunctionResponseTypes: the only value is ReportBatchItemFailures";
            s->report_failures = 1;
        }
    }
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(j, "ScalingConfig");
    if (sc && !cJSON_IsNull(sc)) {
        if (!cJSON_IsObject(sc))
            return "ScalingConfig must be an object";
        s->max_concurrency = 0;
        if (get_int(sc, "MaximumConcurrency", &s->max_concurrency) < 0)
            return "ScalingConfig.MaximumConcurrency must be an integer";
    }
    const char *why = check_batching(s->batch_size, s->window_s);
    return why ? why : check_concurrency(s->max_concurrency);
}

/* The queue name of "arn:aws:sqs:<region>:<account>:<name>", or NULL. */
static const char *queue_of_arn(const char *arn)
{
    if (strncmp(arn, "arn:aws:sqs:", 12) != 0)
        return NULL;
    const char *p = arn + 12;
    for (int i = 0; i < 2; i++) {
        p = strchr(p, ':');
        if (!p)
            return NULL;
        p++;
    }
    return *p && !strchr(p, ':') ? p : NULL;
}

static void op_create(struct sd_esm *e, const struct sd_req *req, struct sd_resp *r, int64_t now)
{
    cJSON *j = cm_json_parse(req->body, req->body_len);
    struct sd_esm_spec s = {NULL, NULL, 10, 0, 0, 0, 1};
    char err[512], uuid[37];
    const char *why = NULL;
    if (!cJSON_IsObject(j)) {
        why = "request body is not a JSON object";
        goto bad;
    }
    const char *arn = cm_json_str(j, "EventSourceArn", NULL);
    s.function = cm_json_str(j, "FunctionName", NULL);
    if (!arn || !s.function) {
        why = "EventSourceArn and FunctionName are required";
        goto bad;
    }
    s.queue = queue_of_arn(arn);
    if (!s.queue) {
        why = "EventSourceArn: only SQS queues (arn:aws:sqs:region:account:name) are supported";
        goto bad;
    }
    if ((why = read_settings(j, &s)) != NULL)
        goto bad;
    int rc = sd_esm_create(e, &s, now, uuid, err, sizeof(err));
    if (rc == 0)
        reply_mapping(r, 202, e, find_map(e, uuid), "Creating");
    else if (rc == CM_ESTATE)
        api_error(r, 409, "ResourceConflictException", err);
    else if (rc == CM_ENOTFOUND && strncmp(err, "function", 8) == 0)
        api_error(r, 404, "ResourceNotFoundException", err);
    else
        api_error(r, 400, "InvalidParameterValueException", err);
    cJSON_Delete(j);
    return;
bad:
    api_error(r, 400, "InvalidParameterValueException", why);
    cJSON_Delete(j);
}

static void op_update(struct sd_esm *e, struct mapping *m, const struct sd_req *req,
                      struct sd_resp *r, int64_t now)
{
    cJSON *j = cm_json_parse(req->body, req->body_len);
    struct sd_esm_spec s = {m->queue,           NULL,      m->batch_size, m->window_s, m->max_conc,
                            m->report_failures, m->enabled};
    char name[80], arn[200];
    const char *why = NULL;
    if (!cJSON_IsObject(j))
        why = "request body is not a JSON object";
    else
        why = read_settings(j, &s);
    if (why) {
        api_error(r, 400, "InvalidParameterValueException", why);
        goto out;
    }
    const char *fn = cm_json_str(j, "FunctionName", NULL);
    if (fn && e->f.resolve(e->f.ctx, fn, name, arn) < 0) {
        char msg[300];
        snprintf(msg, sizeof(msg), "Function not found: %s", fn);
        api_error(r, 404, "ResourceNotFoundException", msg);
        goto out;
    }
    if (fn) {
        free(m->fn_name);
        free(m->fn_arn);
        m->fn_name = cm_xstrdup(name);
        m->fn_arn = cm_xstrdup(arn);
    }
    m->batch_size = s.batch_size;
    m->window_s = s.window_s;
    m->max_conc = s.max_concurrency;
    m->report_failures = s.report_failures;
    m->enabled = s.enabled;
    m->modified_ms = now;
    reply_mapping(r, 202, e, m, "Updating");
out:
    cJSON_Delete(j);
}

/* Value of key in a raw query string, URL-decoded into out; 1 found, 0 not. */
static int query_get(const char *q, const char *key, char *out, size_t out_size)
{
    size_t kl = strlen(key);
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t n = amp ? (size_t)(amp - q) : strlen(q);
        if (n > kl && strncmp(q, key, kl) == 0 && q[kl] == '=') {
            size_t o = 0;
            for (size_t i = kl + 1; i < n && o + 1 < out_size; i++) {
                if (q[i] == '%' && i + 2 < n && isxdigit((unsigned char)q[i + 1]) &&
                    isxdigit((unsigned char)q[i + 2])) {
                    char hx[3] = {q[i + 1], q[i + 2], 0};
                    out[o++] = (char)strtol(hx, NULL, 16);
                    i += 2;
                } else {
                    out[o++] = q[i] == '+' ? ' ' : q[i];
                }
            }
            out[o] = '\0';
            return 1;
        }
        q = amp ? amp + 1 : NULL;
    }
    return 0;
}

static void op_list(struct sd_esm *e, const struct sd_req *req, struct sd_resp *r)
{
    char src[300], fn[300], name[80], arn[200], marker[32], maxs[32];
    int has_src = query_get(req->query, "EventSourceArn", src, sizeof(src));
    int has_fn = query_get(req->query, "FunctionName", fn, sizeof(fn));
    long start =
        query_get(req->query, "Marker", marker, sizeof(marker)) ? strtol(marker, NULL, 10) : 0;
    long max = query_get(req->query, "MaxItems", maxs, sizeof(maxs)) ? strtol(maxs, NULL, 10) : 100;
    if (max < 1 || max > 10000)
        max = 100;
    if (has_fn && e->f.resolve(e->f.ctx, fn, name, arn) < 0)
        name[0] = '\0'; /* unknown function: nothing matches */
    r->status = 200;
    cm_strlcpy(r->content_type, "application/json", sizeof(r->content_type));
    cm_buf_puts(&r->body, "{\"EventSourceMappings\":[");
    long idx = 0, shown = 0;
    for (size_t i = 0; i < e->n_maps; i++) {
        const struct mapping *m = e->maps[i];
        if (m->deleted || (has_src && strcmp(src, m->queue_arn) != 0) ||
            (has_fn && strcmp(name, m->fn_name) != 0))
            continue;
        if (idx++ < start)
            continue;
        if (shown == max) {
            cm_buf_printf(&r->body, "],\"NextMarker\":\"%ld\"}", idx - 1);
            return;
        }
        if (shown++)
            cm_buf_putc(&r->body, ',');
        mapping_json(e, m, NULL, &r->body);
    }
    cm_buf_puts(&r->body, "]}");
}

void sd_esm_api_handle(struct sd_esm *e, const struct sd_req *req, struct sd_resp *r)
{
    const char *p = req->path + strlen(API_PREFIX);
    int64_t now = req->recv_wall_ns / 1000000;
    char rid[37];
    gen_uuid(rid);
    sd_resp_header(r, "x-amzn-RequestId", rid);
    if (!sd_esm_api_match(req->path)) {
        api_error(r, 404, "UnknownOperationException", "Unknown operation");
        return;
    }
    if (*p == '/')
        p++;
    char uuid[64];
    size_t n = strcspn(p, "/");
    if (n >= sizeof(uuid) || (p[n] == '/' && p[n + 1] != '\0')) {
        api_error(r, 404, "UnknownOperationException", "Unknown operation");
        return;
    }
    memcpy(uuid, p, n);
    uuid[n] = '\0';
    if (n == 0) {
        if (strcmp(req->method, "POST") == 0)
            op_create(e, req, r, now);
        else if (strcmp(req->method, "GET") == 0)
            op_list(e, req, r);
        else
            api_error(r, 404, "UnknownOperationException", "Unknown operation");
        return;
    }
    struct mapping *m = find_map(e, uuid);
    if (!m) {
        api_error(r, 404, "ResourceNotFoundException",
                  "The resource you requested does not exist.");
        return;
    }
    if (strcmp(req->method, "GET") == 0) {
        reply_mapping(r, 200, e, m, NULL);
    } else if (strcmp(req->method, "PUT") == 0) {
        op_update(e, m, req, r, now);
    } else if (strcmp(req->method, "DELETE") == 0) {
        reply_mapping(r, 202, e, m, "Deleting");
        sd_esm_delete(e, uuid);
    } else {
        api_error(r, 404, "UnknownOperationException", "Unknown operation");
    }
}
