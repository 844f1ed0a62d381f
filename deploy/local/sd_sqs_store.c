/* sd_sqs_store.c: queues and messages of stackd's SQS. SQLite is the truth
 * (WAL, synchronous=NORMAL: a committed write survives kill -9 of stackd);
 * memory holds every live message in a per-queue min-heap ordered by
 * (visible_ms, seq), so a receive pops the earliest-visible ones, and a
 * hash on seq resolves receipt handles. Every change is written to SQLite
 * first and applied to memory only once the write succeeded.
 *
 * Message states follow from the fields, at a given now:
 *   visible     visible_ms <= now
 *   in flight   visible_ms >  now, recv_count > 0
 *   delayed     visible_ms >  now, recv_count == 0
 * A receive of a message already received max_receive times moves it to
 * the DLQ (as SQS: on the receive attempt after the last allowed one). */
#include "sd_sqs_int.h"

#include "cm/corr.h"
#include "cm/err.h"
#include "cm/mem.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const schema =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS queues(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
    " created_s INTEGER, modified_s INTEGER, vis_s INTEGER, retention_s INTEGER,"
    " delay_s INTEGER, wait_s INTEGER, max_bytes INTEGER, dlq_arn TEXT, max_receive INTEGER,"
    " extra TEXT, purged_ms INTEGER);"
    "CREATE TABLE IF NOT EXISTS messages(seq INTEGER PRIMARY KEY, queue_id INTEGER NOT NULL,"
    " msg_id TEXT NOT NULL, body BLOB NOT NULL, attrs BLOB, md5_body TEXT, md5_attrs TEXT,"
    " sender TEXT, trace TEXT, src_arn TEXT, sent_ms INTEGER, visible_ms INTEGER,"
    " recv_count INTEGER, first_recv_ms INTEGER, nonce INTEGER);"
    "CREATE INDEX IF NOT EXISTS messages_queue ON messages(queue_id);";

static const char *const stmt_sql[SQS_ST_N] = {
    [SQS_ST_INS] = "INSERT INTO messages(queue_id,msg_id,body,attrs,md5_body,md5_attrs,sender,"
                   "trace,src_arn,sent_ms,visible_ms,recv_count,first_recv_ms,nonce)"
                   " VALUES(?,?,?,?,?,?,?,?,NULL,?,?,0,0,0)",
    [SQS_ST_RECV] =
        "UPDATE messages SET visible_ms=?,recv_count=?,first_recv_ms=?,nonce=? WHERE seq=?",
    [SQS_ST_VIS] = "UPDATE messages SET visible_ms=? WHERE seq=?",
    [SQS_ST_DEL] = "DELETE FROM messages WHERE seq=?",
    [SQS_ST_MOVE] = "UPDATE messages SET queue_id=?,visible_ms=?,recv_count=0,first_recv_ms=0,"
                    "src_arn=? WHERE seq=?",
    [SQS_ST_PURGE] = "DELETE FROM messages WHERE queue_id=?",
    [SQS_ST_QPUT] = "INSERT OR REPLACE INTO queues(id,name,created_s,modified_s,vis_s,"
                    "retention_s,delay_s,wait_s,max_bytes,dlq_arn,max_receive,extra,purged_ms)"
                    " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [SQS_ST_QDEL] = "DELETE FROM queues WHERE id=?",
};

/* ---- the seq -> message hash (linear probing, backward-shift deletion) ---- */

static size_t slot_of(const struct sd_sqs *s, int64_t seq)
{
    return (size_t)(((uint64_t)seq * 0x9E3779B97F4A7C15ull) >> 17) & (s->idx_cap - 1);
}

static void idx_put(struct sd_sqs *s, struct sqs_msg *m);

static void idx_grow(struct sd_sqs *s)
{
    struct sqs_msg **old = s->idx;
    size_t oldcap = s->idx_cap;
    s->idx_cap = oldcap ? oldcap * 2 : 1024;
    s->idx = cm_xcalloc(s->idx_cap, sizeof *s->idx);
    s->idx_n = 0;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i])
            idx_put(s, old[i]);
    free(old);
}

static void idx_put(struct sd_sqs *s, struct sqs_msg *m)
{
    if ((s->idx_n + 1) * 2 > s->idx_cap)
        idx_grow(s);
    size_t i = slot_of(s, m->seq);
    while (s->idx[i])
        i = (i + 1) & (s->idx_cap - 1);
    s->idx[i] = m;
    s->idx_n++;
}

static struct sqs_msg *idx_get(const struct sd_sqs *s, int64_t seq)
{
    if (!s->idx_cap)
        return NULL;
    for (size_t i = slot_of(s, seq); s->idx[i]; i = (i + 1) & (s->idx_cap - 1))
        if (s->idx[i]->seq == seq)
            return s->idx[i];
    return NULL;
}

static void idx_del(struct sd_sqs *s, int64_t seq)
{
    size_t mask = s->idx_cap - 1, i = slot_of(s, seq);
    while (s->idx[i] && s->idx[i]->seq != seq)
        i = (i + 1) & mask;
    if (!s->idx[i])
        return;
    s->idx[i] = NULL;
    s->idx_n--;
    /* Move later members of the cluster back if their home slot allows it. */
    for (size_t j = (i + 1) & mask; s->idx[j]; j = (j + 1) & mask) {
        size_t home = slot_of(s, s->idx[j]->seq);
        int between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!between) {
            s->idx[i] = s->idx[j];
            s->idx[j] = NULL;
            i = j;
        }
    }
}

/* ---- the per-queue heap ------------------------------------------------------- */

static int heap_less(const struct sqs_msg *a, const struct sqs_msg *b)
{
    return a->visible_ms != b->visible_ms ? a->visible_ms < b->visible_ms : a->seq < b->seq;
}

static void heap_set(struct sqs_queue *q, size_t i, struct sqs_msg *m)
{
    q->heap[i] = m;
    m->heap_idx = i;
}

static void heap_up(struct sqs_queue *q, size_t i)
{
    struct sqs_msg *m = q->heap[i];
    while (i > 0 && heap_less(m, q->heap[(i - 1) / 2])) {
        heap_set(q, i, q->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(q, i, m);
}

static void heap_down(struct sqs_queue *q, size_t i)
{
    struct sqs_msg *m = q->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= q->n)
            break;
        if (c + 1 < q->n && heap_less(q->heap[c + 1], q->heap[c]))
            c++;
        if (!heap_less(q->heap[c], m))
            break;
        heap_set(q, i, q->heap[c]);
        i = c;
    }
    heap_set(q, i, m);
}

static void heap_push(struct sqs_queue *q, struct sqs_msg *m)
{
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 64;
        q->heap = cm_xrealloc(q->heap, q->cap * sizeof *q->heap);
    }
    m->q = q;
    heap_set(q, q->n++, m);
    heap_up(q, q->n - 1);
}

static void heap_remove(struct sqs_queue *q, struct sqs_msg *m)
{
    size_t i = m->heap_idx;
    q->n--;
    if (i == q->n)
        return;
    struct sqs_msg *x = q->heap[q->n];
    heap_set(q, i, x);
    heap_up(q, i);
    heap_down(q, x->heap_idx);
}

/* Re-establishes the heap after m->visible_ms changed. */
static void heap_fix(struct sqs_queue *q, struct sqs_msg *m)
{
    heap_up(q, m->heap_idx);
    heap_down(q, m->heap_idx);
}

int64_t sqs_queue_next_visible(const struct sqs_queue *q)
{
    return q->n ? q->heap[0]->visible_ms : INT64_MAX;
}

/* ---- messages in memory ------------------------------------------------------- */

static void msg_free(struct sqs_msg *m)
{
    if (!m)
        return;
    free(m->body);
    free(m->attrs);
    free(m->sender);
    free(m->trace);
    free(m->src_arn);
    free(m);
}

/* Removes m from its queue, the index, and frees it (memory only). */
static void msg_drop(struct sd_sqs *s, struct sqs_msg *m)
{
    heap_remove(m->q, m);
    idx_del(s, m->seq);
    msg_free(m);
}

static char *dup_or_null(const char *p)
{
    return p ? cm_xstrdup(p) : NULL;
}

/* ---- SQLite helpers ------------------------------------------------------------- */

static sqlite3_stmt *stmt(struct sd_sqs *s, int which)
{
    sqlite3_stmt *st = s->st[which];
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

static int exec(struct sd_sqs *s, const char *sql)
{
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : CM_EIO;
}

static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : CM_EIO;
}

static void bind_text(sqlite3_stmt *st, int i, const char *p)
{
    if (p)
        sqlite3_bind_text(st, i, p, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? cm_xstrdup((const char *)t) : NULL;
}

static int begin(struct sd_sqs *s)
{
    return exec(s, "BEGIN IMMEDIATE");
}

static int finish(struct sd_sqs *s, int rc)
{
    if (rc == 0 && exec(s, "COMMIT") == 0)
        return 0;
    exec(s, "ROLLBACK");
    return rc ? rc : CM_EIO;
}

/* ---- queues ----------------------------------------------------------------------- */

struct sqs_queue *sqs_queue_find(const struct sd_sqs *s, const char *name)
{
    for (size_t i = 0; i < s->nq; i++)
        if (strcmp(s->qs[i]->name, name) == 0)
            return s->qs[i];
    return NULL;
}

struct sqs_queue *sqs_queue_alloc(struct sd_sqs *s, const char *name, int64_t now_ms)
{
    struct sqs_queue *q = cm_xcalloc(1, sizeof *q);
    cm_strlcpy(q->name, name, sizeof q->name);
    q->created_s = q->modified_s = now_ms / 1000;
    q->vis_s = SQS_DEFAULT_VIS_S;
    q->retention_s = SQS_DEFAULT_RET_S;
    q->max_bytes = SQS_DEFAULT_MAX_B;
    return q;
}

void sqs_queue_release(struct sqs_queue *q)
{
    if (!q)
        return;
    free(q->heap);
    free(q->dlq_arn);
    free(q->extra);
    free(q);
}

int sqs_queue_save(struct sd_sqs *s, struct sqs_queue *q)
{
    int is_new = q->id == 0;
    if (is_new)
        q->id = s->next_qid;
    sqlite3_stmt *st = stmt(s, SQS_ST_QPUT);
    sqlite3_bind_int64(st, 1, q->id);
    sqlite3_bind_text(st, 2, q->name, -1, SQLITE_STATIC);
    int64_t v[] = {q->created_s, q->modified_s, q->vis_s,    q->retention_s,
                   q->delay_s,   q->wait_s,     q->max_bytes};
    for (int i = 0; i < 7; i++)
        sqlite3_bind_int64(st, 3 + i, v[i]);
    bind_text(st, 10, q->dlq_arn);
    sqlite3_bind_int64(st, 11, q->max_receive);
    bind_text(st, 12, q->extra);
    sqlite3_bind_int64(st, 13, q->purged_ms);
    if (step_done(st)) {
        if (is_new)
            q->id = 0;
        return CM_EIO;
    }
    if (is_new) {
        s->next_qid++;
        if (s->nq == s->capq) {
            s->capq = s->capq ? s->capq * 2 : 16;
            s->qs = cm_xrealloc(s->qs, s->capq * sizeof *s->qs);
        }
        s->qs[s->nq++] = q;
    }
    return 0;
}

int sqs_queue_delete(struct sd_sqs *s, struct sqs_queue *q)
{
    int rc = begin(s);
    if (rc == 0) {
        sqlite3_stmt *st = stmt(s, SQS_ST_PURGE);
        sqlite3_bind_int64(st, 1, q->id);
        rc = step_done(st);
    }
    if (rc == 0) {
        sqlite3_stmt *st = stmt(s, SQS_ST_QDEL);
        sqlite3_bind_int64(st, 1, q->id);
        rc = step_done(st);
    }
    if ((rc = finish(s, rc)))
        return rc;
    while (q->n)
        msg_drop(s, q->heap[q->n - 1]);
    for (size_t i = 0; i < s->nq; i++) {
        if (s->qs[i] == q) {
            s->qs[i] = s->qs[--s->nq];
            break;
        }
    }
    sqs_queue_release(q);
    return 0;
}

void sqs_queue_arn(const struct sd_sqs *s, const struct sqs_queue *q, char *out, size_t n)
{
    snprintf(out, n, "arn:aws:sqs:%s:%s:%s", s->region, s->account, q->name);
}

const char *sqs_arn_name(const struct sd_sqs *s, const char *arn)
{
    char prefix[96];
    int pl = snprintf(prefix, sizeof prefix, "arn:aws:sqs:%s:%s:", s->region, s->account);
    if (pl <= 0 || strncmp(arn, prefix, (size_t)pl) != 0)
        return NULL;
    return arn + pl;
}

/* ---- open / load ------------------------------------------------------------------- */

static int load_queues(struct sd_sqs *s)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id,name,created_s,modified_s,vis_s,retention_s,delay_s,wait_s,"
                           "max_bytes,dlq_arn,max_receive,extra,purged_ms FROM queues ORDER BY id",
                           -1, &st, NULL) != SQLITE_OK)
        return CM_EIO;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct sqs_queue *q = sqs_queue_alloc(s, (const char *)sqlite3_column_text(st, 1), 0);
        q->id = sqlite3_column_int64(st, 0);
        q->created_s = sqlite3_column_int64(st, 2);
        q->modified_s = sqlite3_column_int64(st, 3);
        q->vis_s = sqlite3_column_int64(st, 4);
        q->retention_s = sqlite3_column_int64(st, 5);
        q->delay_s = sqlite3_column_int64(st, 6);
        q->wait_s = sqlite3_column_int64(st, 7);
        q->max_bytes = sqlite3_column_int64(st, 8);
        q->dlq_arn = col_text(st, 9);
        q->max_receive = sqlite3_column_int64(st, 10);
        q->extra = col_text(st, 11);
        q->purged_ms = sqlite3_column_int64(st, 12);
        if (q->id >= s->next_qid)
            s->next_qid = q->id + 1;
        if (s->nq == s->capq) {
            s->capq = s->capq ? s->capq * 2 : 16;
            s->qs = cm_xrealloc(s->qs, s->capq * sizeof *s->qs);
        }
        s->qs[s->nq++] = q;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : CM_EIO;
}

static struct sqs_queue *queue_by_id(const struct sd_sqs *s, int64_t id)
{
    for (size_t i = 0; i < s->nq; i++)
        if (s->qs[i]->id == id)
            return s->qs[i];
    return NULL;
}

static int load_messages(struct sd_sqs *s)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(
            s->db,
            "SELECT seq,queue_id,msg_id,body,attrs,md5_body,md5_attrs,sender,trace,"
            "src_arn,sent_ms,visible_ms,recv_count,first_recv_ms,nonce FROM messages",
            -1, &st, NULL) != SQLITE_OK)
        return CM_EIO;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct sqs_queue *q = queue_by_id(s, sqlite3_column_int64(st, 1));
        if (!q)
            continue; /* orphan of a half-deleted queue: ignored */
        struct sqs_msg *m = cm_xcalloc(1, sizeof *m);
        m->seq = sqlite3_column_int64(st, 0);
        cm_strlcpy(m->id, (const char *)sqlite3_column_text(st, 2), sizeof m->id);
        m->body_len = (size_t)sqlite3_column_bytes(st, 3);
        m->body = cm_xstrndup(sqlite3_column_blob(st, 3), m->body_len);
        m->attrs_len = (size_t)sqlite3_column_bytes(st, 4);
        if (m->attrs_len) {
            m->attrs = cm_xmalloc(m->attrs_len);
            memcpy(m->attrs, sqlite3_column_blob(st, 4), m->attrs_len);
        }
        const unsigned char *t = sqlite3_column_text(st, 5);
        cm_strlcpy(m->md5_body, t ? (const char *)t : "", sizeof m->md5_body);
        t = sqlite3_column_text(st, 6);
        cm_strlcpy(m->md5_attrs, t ? (const char *)t : "", sizeof m->md5_attrs);
        m->sender = col_text(st, 7);
        m->trace = col_text(st, 8);
        m->src_arn = col_text(st, 9);
        m->sent_ms = sqlite3_column_int64(st, 10);
        m->visible_ms = sqlite3_column_int64(st, 11);
        m->recv_count = sqlite3_column_int64(st, 12);
        m->first_recv_ms = sqlite3_column_int64(st, 13);
        m->nonce = (uint32_t)sqlite3_column_int64(st, 14);
        heap_push(q, m);
        idx_put(s, m);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : CM_EIO;
}

int sqs_store_open(struct sd_sqs *s, const char *path, char *err, size_t err_size)
{
    const char *what = "open";
    int rc = 0;
    s->next_qid = 1;
    if (sqlite3_open_v2(path ? path : ":memory:", &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(s->db, 2000);
    what = "schema";
    if (sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    what = "prepare";
    for (int i = 0; i < SQS_ST_N; i++)
        if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
                               NULL) != SQLITE_OK)
            goto fail;
    what = "load";
    if (load_queues(s) || load_messages(s))
        goto fail;
    return 0;
fail:
    rc = CM_EIO;
    snprintf(err, err_size, "sqs store %s: %s: %s", path ? path : ":memory:", what,
             s->db ? sqlite3_errmsg(s->db) : "out of memory");
    return rc;
}

void sqs_store_close(struct sd_sqs *s)
{
    for (size_t i = 0; i < s->nq; i++) {
        struct sqs_queue *q = s->qs[i];
        for (size_t k = 0; k < q->n; k++)
            msg_free(q->heap[k]);
        sqs_queue_release(q);
    }
    free(s->qs);
    free(s->idx);
    for (int i = 0; i < SQS_ST_N; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
}

/* ---- send ---------------------------------------------------------------------------- */

static void new_message_id(int64_t now_ms, char out[37])
{
    uint8_t u[16];
    cm_corr_random(u, sizeof u);
    u[6] = (uint8_t)((u[6] & 0x0F) | 0x40); /* version 4 */
    u[8] = (uint8_t)((u[8] & 0x3F) | 0x80);
    (void)now_ms;
    cm_corr_format_uuid(u, out);
}

static struct sqs_msg *msg_new(const struct sqs_send_in *in, const struct sqs_queue *q,
                               int64_t now_ms)
{
    struct sqs_msg *m = cm_xcalloc(1, sizeof *m);
    new_message_id(now_ms, m->id);
    m->body = cm_xstrndup(in->body, in->body_len);
    m->body_len = in->body_len;
    sd_sqs_md5_hex(in->body, in->body_len, m->md5_body);
    if (in->attrs_len) {
        m->attrs = cm_xmalloc(in->attrs_len);
        memcpy(m->attrs, in->attrs, in->attrs_len);
        m->attrs_len = in->attrs_len;
        sd_sqs_md5_hex(in->attrs, in->attrs_len, m->md5_attrs);
    }
    m->sender = dup_or_null(in->sender);
    m->trace = dup_or_null(in->trace);
    m->sent_ms = now_ms;
    m->visible_ms = now_ms + (in->delay_s >= 0 ? in->delay_s : q->delay_s) * 1000;
    return m;
}

static int insert_msg(struct sd_sqs *s, struct sqs_queue *q, struct sqs_msg *m)
{
    sqlite3_stmt *st = stmt(s, SQS_ST_INS);
    sqlite3_bind_int64(st, 1, q->id);
    sqlite3_bind_text(st, 2, m->id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, m->body, (int)m->body_len, SQLITE_STATIC);
    if (m->attrs_len)
        sqlite3_bind_blob(st, 4, m->attrs, (int)m->attrs_len, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, m->md5_body, -1, SQLITE_STATIC);
    bind_text(st, 6, m->attrs_len ? m->md5_attrs : NULL);
    bind_text(st, 7, m->sender);
    bind_text(st, 8, m->trace);
    sqlite3_bind_int64(st, 9, m->sent_ms);
    sqlite3_bind_int64(st, 10, m->visible_ms);
    if (step_done(st))
        return CM_EIO;
    m->seq = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int sqs_store_send(struct sd_sqs *s, struct sqs_queue *q, const struct sqs_send_in *in, int n,
                   int64_t now_ms, struct sqs_msg **out)
{
    struct sqs_msg *tmp[10];
    struct sqs_msg **ms = n <= 10 ? tmp : cm_xmalloc((size_t)n * sizeof *ms);
    int rc = n > 1 ? begin(s) : 0;
    int made = 0;
    for (; made < n && rc == 0; made++) {
        ms[made] = msg_new(&in[made], q, now_ms);
        rc = insert_msg(s, q, ms[made]);
    }
    if (n > 1)
        rc = finish(s, rc);
    for (int i = 0; i < made; i++) {
        if (rc) {
            msg_free(ms[i]);
            continue;
        }
        heap_push(q, ms[i]);
        idx_put(s, ms[i]);
        if (out)
            out[i] = ms[i];
    }
    if (ms != tmp)
        free(ms);
    return rc;
}

/* ---- receive --------------------------------------------------------------------------- */

static int move_to_dlq(struct sd_sqs *s, struct sqs_msg *m, struct sqs_queue *dlq, int64_t now_ms)
{
    char arn[160];
    sqs_queue_arn(s, m->q, arn, sizeof arn);
    sqlite3_stmt *st = stmt(s, SQS_ST_MOVE);
    sqlite3_bind_int64(st, 1, dlq->id);
    sqlite3_bind_int64(st, 2, now_ms);
    sqlite3_bind_text(st, 3, arn, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, m->seq);
    if (step_done(st))
        return CM_EIO;
    heap_remove(m->q, m);
    m->visible_ms = now_ms;
    m->recv_count = 0;
    m->first_recv_ms = 0;
    free(m->src_arn);
    m->src_arn = cm_xstrdup(arn);
    heap_push(dlq, m);
    return 0;
}

static int delete_row(struct sd_sqs *s, int64_t seq)
{
    sqlite3_stmt *st = stmt(s, SQS_ST_DEL);
    sqlite3_bind_int64(st, 1, seq);
    return step_done(st);
}

static uint32_t new_nonce(uint32_t old)
{
    uint32_t n;
    do
        n = (uint32_t)cm_corr_random_u64();
    while (n == old || n == 0);
    return n;
}

/* One candidate at the top of the heap: deleted (expired), moved (redrive)
 * or received. Returns 1 when received, 0 when it went elsewhere. */
static int take_top(struct sd_sqs *s, struct sqs_queue *q, int64_t vis_s, int64_t now_ms, int *rc)
{
    struct sqs_msg *m = q->heap[0];
    if (m->sent_ms + q->retention_s * 1000 <= now_ms) {
        if ((*rc = delete_row(s, m->seq)) == 0)
            msg_drop(s, m);
        return 0;
    }
    struct sqs_queue *dlq = NULL;
    if (q->dlq_arn && q->max_receive > 0 && m->recv_count >= q->max_receive) {
        const char *dn = sqs_arn_name(s, q->dlq_arn);
        dlq = dn ? sqs_queue_find(s, dn) : NULL;
    }
    if (dlq && dlq != q) {
        *rc = move_to_dlq(s, m, dlq, now_ms);
        return 0;
    }
    uint32_t nonce = new_nonce(m->nonce);
    int64_t first = m->first_recv_ms ? m->first_recv_ms : now_ms;
    sqlite3_stmt *st = stmt(s, SQS_ST_RECV);
    sqlite3_bind_int64(st, 1, now_ms + vis_s * 1000);
    sqlite3_bind_int64(st, 2, m->recv_count + 1);
    sqlite3_bind_int64(st, 3, first);
    sqlite3_bind_int64(st, 4, nonce);
    sqlite3_bind_int64(st, 5, m->seq);
    if ((*rc = step_done(st)))
        return 0;
    m->visible_ms = now_ms + vis_s * 1000;
    m->recv_count++;
    m->first_recv_ms = first;
    m->nonce = nonce;
    heap_remove(q, m); /* out of the heap until the batch is complete (vis 0) */
    return 1;
}

int sqs_store_receive(struct sd_sqs *s, struct sqs_queue *q, int max, int64_t vis_s, int64_t now_ms,
                      struct sqs_msg **out, int *n_out)
{
    int n = 0, rc = begin(s);
    /* Bound the work per call: expired/redriven messages also count. */
    for (int steps = 0;
         rc == 0 && n < max && q->n && q->heap[0]->visible_ms <= now_ms && steps < 10000; steps++) {
        struct sqs_msg *m = q->heap[0];
        if (take_top(s, q, vis_s, now_ms, &rc))
            out[n++] = m;
    }
    rc = finish(s, rc);
    for (int i = 0; i < n; i++)
        heap_push(q, out[i]);
    if (rc) {
        /* SQLite refused: memory may be ahead of it for this batch; reload
         * would be exact, but the rows are only visibility updates, so the
         * worst case after a restart is an earlier redelivery. */
        n = 0;
    }
    *n_out = n;
    return rc;
}

/* ---- receipt handles --------------------------------------------------------------------- */

void sqs_receipt(const struct sqs_msg *m, char out[64])
{
    snprintf(out, 64, "SD1-%" PRIx64 "-%" PRIx64 "-%08" PRIx32, (uint64_t)m->q->id,
             (uint64_t)m->seq, m->nonce);
}

static int parse_receipt(const char *rh, int64_t *qid, int64_t *seq, uint32_t *nonce)
{
    unsigned long long a, b;
    unsigned c;
    int used = 0;
    if (strlen(rh) > 60 || sscanf(rh, "SD1-%llx-%llx-%8x%n", &a, &b, &c, &used) != 3 ||
        rh[used] != '\0')
        return CM_EINVAL;
    *qid = (int64_t)a;
    *seq = (int64_t)b;
    *nonce = c;
    return 0;
}

int sqs_store_delete(struct sd_sqs *s, struct sqs_queue *q, const char *rh)
{
    int64_t qid, seq;
    uint32_t nonce;
    if (parse_receipt(rh, &qid, &seq, &nonce) || qid != q->id)
        return CM_EINVAL;
    struct sqs_msg *m = idx_get(s, seq);
    /* Gone already, or received again since (SQS: "succeeds, but the message
     * might not be deleted"; keeping it is what at-least-once wants). */
    if (!m || m->q != q || m->nonce != nonce)
        return 0;
    int rc = delete_row(s, seq);
    if (rc == 0)
        msg_drop(s, m);
    return rc;
}

int sqs_store_change_vis(struct sd_sqs *s, struct sqs_queue *q, const char *rh, int64_t vis_s,
                         int64_t now_ms)
{
    int64_t qid, seq;
    uint32_t nonce;
    if (parse_receipt(rh, &qid, &seq, &nonce) || qid != q->id)
        return CM_EINVAL;
    struct sqs_msg *m = idx_get(s, seq);
    if (!m || m->q != q || m->recv_count == 0 || m->visible_ms <= now_ms)
        return CM_ESTATE;
    if (m->nonce != nonce)
        return CM_EINVAL;
    sqlite3_stmt *st = stmt(s, SQS_ST_VIS);
    sqlite3_bind_int64(st, 1, now_ms + vis_s * 1000);
    sqlite3_bind_int64(st, 2, seq);
    if (step_done(st))
        return CM_EIO;
    m->visible_ms = now_ms + vis_s * 1000;
    heap_fix(q, m);
    return 0;
}

int sqs_store_purge(struct sd_sqs *s, struct sqs_queue *q, int64_t now_ms)
{
    int64_t old = q->purged_ms;
    int rc = begin(s);
    if (rc == 0) {
        sqlite3_stmt *st = stmt(s, SQS_ST_PURGE);
        sqlite3_bind_int64(st, 1, q->id);
        rc = step_done(st);
    }
    q->purged_ms = now_ms;
    if (rc == 0)
        rc = sqs_queue_save(s, q);
    if ((rc = finish(s, rc))) {
        q->purged_ms = old;
        return rc;
    }
    while (q->n)
        msg_drop(s, q->heap[q->n - 1]);
    return 0;
}

void sqs_store_counts(const struct sqs_queue *q, int64_t now_ms, struct sd_sqs_counts *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < q->n; i++) {
        const struct sqs_msg *m = q->heap[i];
        if (m->visible_ms <= now_ms)
            out->visible++;
        else if (m->recv_count > 0)
            out->not_visible++;
        else
            out->delayed++;
    }
}

void sqs_store_sweep(struct sd_sqs *s, int64_t now_ms)
{
    for (size_t k = 0; k < s->nq; k++) {
        struct sqs_queue *q = s->qs[k];
        int64_t cutoff = now_ms - q->retention_s * 1000;
        int any = 0;
        for (size_t i = 0; i < q->n && !any; i++)
            any = q->heap[i]->sent_ms <= cutoff;
        if (!any || begin(s))
            continue;
        int rc = 0;
        size_t nd = 0;
        struct sqs_msg **dead = cm_xmalloc(q->n * sizeof *dead);
        for (size_t i = 0; i < q->n && rc == 0; i++)
            if (q->heap[i]->sent_ms <= cutoff && (rc = delete_row(s, q->heap[i]->seq)) == 0)
                dead[nd++] = q->heap[i];
        if (finish(s, rc) == 0)
            for (size_t i = 0; i < nd; i++)
                msg_drop(s, dead[i]);
        free(dead);
    }
}
