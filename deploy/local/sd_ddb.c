/* sd_ddb.c: DynamoDB for stackd (see sd_ddb.h): the SQLite store and the
 * operation handlers.
 *
 * Protocol: awsJson1_0. POST / with X-Amz-Target: DynamoDB_20120810.<Op> and
 * a JSON body with PascalCase members; the response has Content-Type
 * application/x-amz-json-1.0, x-amzn-RequestId and x-amz-crc32 (boto3 1.26
 * retries and then fails on a wrong one). Errors are HTTP 400 with
 * {"__type":"com.amazonaws.dynamodb.v20120810#<Name>","message":"..."}, or
 * com.amazon.coral.validate#ValidationException for validation failures.
 *
 * Store schema (one database for all tables):
 *   tables(name PK, hash_name, hash_type, range_name, range_type, created_ms,
 *          billing, rcu, wcu, ttl_attr, ttl_on, table_id)
 *   items(tbl, hk BLOB, sk BLOB, item TEXT, size, expires) PK (tbl, hk, sk)
 * sk is the empty blob for hash-only tables; expires is the TTL in epoch
 * seconds when TTL is on and the item carries a number there, else NULL. */
#include "sd_ddb.h"

#include "cm/buf.h"
#include "cm/corr.h"
#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"
#include "sd_ddb_int.h"

#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define DDB_TARGET_PREFIX "DynamoDB_20120810."
#define DDB_CT            "application/x-amz-json-1.0"
#define DDB_MAX_ITEM      (400 * 1024)
#define DDB_MAX_PAGE      (1024 * 1024) /* Query/Scan stop after 1 MB evaluated */
#define DDB_MAX_BATCH_W   25
#define DDB_MAX_BATCH_G   100
#define DDB_NS            "com.amazonaws.dynamodb.v20120810#"
#define DDB_VALIDATION    "com.amazon.coral.validate#ValidationException"
#define MSG_NOT_FOUND     "Requested resource not found"
#define MSG_BAD_KEY       "The provided key element does not match the schema"

#define STMT_CACHE 64

/* Prepared statements are cached by SQL text (static strings and the few
 * Query/Scan shapes): preparing costs more than running a point lookup. */
struct stmt_slot {
    char *sql;
    sqlite3_stmt *st;
};

struct sd_ddb {
    sqlite3 *db;
    char *region, *account;
    struct stmt_slot cache[STMT_CACHE];
    int n_cache;
};

struct tbl {
    char name[256];
    char hash[256], htype[2];
    char range[256], rtype[2]; /* "" for hash-only tables */
    double created_s;
    char billing[32];
    int64_t rcu, wcu;
    char ttl_attr[256];
    int ttl_on;
    char table_id[40];
};

/* One request. */
struct call {
    struct sd_ddb *db;
    cJSON *in;
    cJSON *out;
    int64_t now_ms;
    int status;
    char etype[96];
    char msg[1024];
    cJSON *err_item; /* ConditionalCheckFailed with ReturnValuesOnConditionCheckFailure */
};

struct key {
    unsigned char *hk, *sk;
    size_t hn, sn;
};

/* ---- errors ---------------------------------------------------------------- */

static int fail(struct call *c, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct call *c, const char *type, const char *fmt, ...)
{
    va_list ap;
    if (c->etype[0])
        return CM_EINVAL;
    if (strchr(type, '#'))
        cm_strlcpy(c->etype, type, sizeof(c->etype));
    else
        snprintf(c->etype, sizeof(c->etype), "%s%s", DDB_NS, type);
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
    va_end(ap);
    c->status = strstr(type, "InternalServerError") ? 500 : 400;
    return CM_EINVAL;
}

#define VFAIL(c, ...) fail((c), DDB_VALIDATION, __VA_ARGS__)

static int db_fail(struct call *c)
{
    return fail(c, "InternalServerError", "stackd storage error: %s", sqlite3_errmsg(c->db->db));
}

/* ---- store -------------------------------------------------------------------- */

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS tables(name TEXT PRIMARY KEY, hash_name TEXT NOT NULL,"
    " hash_type TEXT NOT NULL, range_name TEXT NOT NULL, range_type TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL, billing TEXT NOT NULL, rcu INTEGER, wcu INTEGER,"
    " ttl_attr TEXT NOT NULL DEFAULT '', ttl_on INTEGER NOT NULL DEFAULT 0, table_id TEXT);"
    "CREATE TABLE IF NOT EXISTS items(tbl TEXT NOT NULL, hk BLOB NOT NULL, sk BLOB NOT NULL,"
    " item TEXT NOT NULL, size INTEGER NOT NULL, expires INTEGER,"
    " PRIMARY KEY(tbl, hk, sk)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS items_expires ON items(expires) WHERE expires IS NOT NULL;";

int sd_ddb_open(const char *path, const char *region, const char *account_id, struct sd_ddb **out,
                char *err, size_t err_size)
{
    struct sd_ddb *d = cm_xcalloc(1, sizeof(*d));
    char *emsg = NULL;
    int rc =
        sqlite3_open_v2(path ? path : ":memory:", &d->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK && path)
        rc = sqlite3_exec(d->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
                          &emsg);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(d->db, 5000);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(d->db, SCHEMA, NULL, NULL, &emsg);
    if (rc != SQLITE_OK) {
        snprintf(err, err_size, "%s: %s",
                 path ? path : ":memory:", emsg ? emsg : sqlite3_errmsg(d->db));
        sqlite3_free(emsg);
        sd_ddb_free(d);
        return CM_EIO;
    }
    d->region = cm_xstrdup(region ? region : "us-east-1");
    d->account = cm_xstrdup(account_id ? account_id : "000000000000");
    *out = d;
    return 0;
}

void sd_ddb_free(struct sd_ddb *db)
{
    if (!db)
        return;
    for (int i = 0; i < db->n_cache; i++) {
        sqlite3_finalize(db->cache[i].st);
        free(db->cache[i].sql);
    }
    sqlite3_close_v2(db->db);
    free(db->region);
    free(db->account);
    free(db);
}

/* A ready statement for sql (from the cache when possible); give it back
 * with unprep. A statement is never in use twice at once: callers step it to
 * the end (or reset it) before preparing the same SQL again. */
static sqlite3_stmt *prep(struct call *c, const char *sql)
{
    struct sd_ddb *d = c->db;
    sqlite3_stmt *st = NULL;
    for (int i = 0; i < d->n_cache; i++)
        if (strcmp(d->cache[i].sql, sql) == 0)
            return d->cache[i].st;
    if (sqlite3_prepare_v3(d->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
        db_fail(c);
        return NULL;
    }
    if (d->n_cache < STMT_CACHE) {
        d->cache[d->n_cache].sql = cm_xstrdup(sql);
        d->cache[d->n_cache++].st = st;
    }
    return st;
}

static int is_cached(const struct sd_ddb *d, const sqlite3_stmt *st)
{
    for (int i = 0; i < d->n_cache; i++)
        if (d->cache[i].st == st)
            return 1;
    return 0;
}

static void unprep(struct call *c, sqlite3_stmt *st)
{
    if (!st)
        return;
    if (is_cached(c->db, st)) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    } else {
        unprep(c, st);
    }
}

/* Runs a statement without results (BEGIN, COMMIT, ...). */
static int exec_cached(struct call *c, const char *sql)
{
    sqlite3_stmt *st = prep(c, sql);
    int rc = st && sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    unprep(c, st);
    return rc;
}

static void bind_blob(sqlite3_stmt *st, int i, const unsigned char *p, size_t n)
{
    if (n == 0)
        sqlite3_bind_zeroblob(st, i, 0);
    else
        sqlite3_bind_blob(st, i, p, (int)n, SQLITE_TRANSIENT);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

/* 1 found (t filled), 0 missing, <0 storage error. */
static int table_get(struct call *c, const char *name, struct tbl *t)
{
    sqlite3_stmt *st = prep(c, "SELECT hash_name, hash_type, range_name, range_type, created_ms,"
                               " billing, rcu, wcu, ttl_attr, ttl_on, table_id FROM tables"
                               " WHERE name = ?");
    if (!st)
        return CM_EIO;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        memset(t, 0, sizeof(*t));
        cm_strlcpy(t->name, name, sizeof(t->name));
        cm_strlcpy(t->hash, col_text(st, 0), sizeof(t->hash));
        cm_strlcpy(t->htype, col_text(st, 1), sizeof(t->htype));
        cm_strlcpy(t->range, col_text(st, 2), sizeof(t->range));
        cm_strlcpy(t->rtype, col_text(st, 3), sizeof(t->rtype));
        t->created_s = (double)sqlite3_column_int64(st, 4) / 1000.0;
        cm_strlcpy(t->billing, col_text(st, 5), sizeof(t->billing));
        t->rcu = sqlite3_column_int64(st, 6);
        t->wcu = sqlite3_column_int64(st, 7);
        cm_strlcpy(t->ttl_attr, col_text(st, 8), sizeof(t->ttl_attr));
        t->ttl_on = sqlite3_column_int(st, 9);
        cm_strlcpy(t->table_id, col_text(st, 10), sizeof(t->table_id));
        rc = 1;
    } else {
        rc = rc == SQLITE_DONE ? 0 : db_fail(c);
    }
    unprep(c, st);
    return rc;
}

/* The table named by TableName (or name), or NULL with the error set. */
static int need_table(struct call *c, const char *name, struct tbl *t)
{
    if (!name)
        name = cm_json_str(c->in, "TableName", NULL);
    if (!name || !name[0])
        return VFAIL(c, "1 validation error detected: Value null at 'tableName' failed to "
                        "satisfy constraint: Member must not be null");
    int rc = table_get(c, name, t);
    if (rc == 0)
        return fail(c, "ResourceNotFoundException", MSG_NOT_FOUND);
    return rc < 0 ? rc : 0;
}

static void key_free(struct key *k)
{
    free(k->hk);
    free(k->sk);
    memset(k, 0, sizeof(*k));
}

/* Extracts the key of t from obj. as_item: obj is a whole item (messages
 * about the item); otherwise it must hold exactly the key attributes. */
static int key_from(struct call *c, const struct tbl *t, const cJSON *obj, int as_item,
                    struct key *k)
{
    const char *names[2] = {t->hash, t->range};
    const char *types[2] = {t->htype, t->rtype};
    int nk = t->range[0] ? 2 : 1;
    memset(k, 0, sizeof(*k));
    if (!cJSON_IsObject(obj))
        return VFAIL(c, "%s", MSG_BAD_KEY);
    if (!as_item && cJSON_GetArraySize(obj) != nk)
        return VFAIL(c, "%s", MSG_BAD_KEY);
    for (int i = 0; i < nk; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, names[i]);
        enum sd_ddb_type ty = sd_ddb_av_type(v);
        if (!v)
            return as_item ? VFAIL(c,
                                   "One or more parameter values were invalid: Missing the key "
                                   "%s in the item",
                                   names[i])
                           : VFAIL(c, "%s", MSG_BAD_KEY);
        if (strcmp(sd_ddb_type_name(ty), types[i]) != 0)
            return as_item ? VFAIL(c,
                                   "One or more parameter values were invalid: Type mismatch "
                                   "for key %s expected: %s actual: %s",
                                   names[i], types[i], sd_ddb_type_name(ty))
                           : VFAIL(c, "%s", MSG_BAD_KEY);
        unsigned char *b;
        size_t n;
        if (sd_ddb_av_keybytes(v, &b, &n) < 0)
            return VFAIL(c, "%s", MSG_BAD_KEY);
        if (n == 0) {
            free(b);
            return VFAIL(c,
                         "One or more parameter values are not valid. The AttributeValue for a "
                         "key attribute cannot contain an empty %s value. Key: %s",
                         ty == SD_DDB_T_B ? "binary" : "string", names[i]);
        }
        if (i == 0) {
            k->hk = b;
            k->hn = n;
        } else {
            k->sk = b;
            k->sn = n;
        }
    }
    return 0;
}

/* The key attributes of item, as a new object. */
static cJSON *key_of(const struct tbl *t, const cJSON *item)
{
    cJSON *k = cJSON_CreateObject();
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(item, t->hash);
    if (h)
        cJSON_AddItemToObject(k, t->hash, cJSON_Duplicate(h, 1));
    if (t->range[0]) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(item, t->range);
        if (r)
            cJSON_AddItemToObject(k, t->range, cJSON_Duplicate(r, 1));
    }
    return k;
}

static int64_t now_s(const struct call *c)
{
    return c->now_ms / 1000;
}

/* DynamoDB TTL never deletes items whose timestamp is more than five years
 * in the past (they are taken for mistakes, e.g. other units). */
#define TTL_MAX_AGE_S (5LL * 365 * 86400)

static int ttl_expired(sqlite3_stmt *st, int col, int64_t now)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return 0;
    int64_t e = sqlite3_column_int64(st, col);
    return e <= now && e > now - TTL_MAX_AGE_S;
}

/* Loads the live item at k into *item (NULL when absent or expired). */
static int item_load(struct call *c, const struct tbl *t, const struct key *k, cJSON **item)
{
    *item = NULL;
    sqlite3_stmt *st =
        prep(c, "SELECT item, expires FROM items WHERE tbl = ? AND hk = ? AND sk = ?");
    if (!st)
        return CM_EIO;
    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_TRANSIENT);
    bind_blob(st, 2, k->hk, k->hn);
    bind_blob(st, 3, k->sk, k->sn);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (!ttl_expired(st, 1, now_s(c)))
            *item = cJSON_Parse(col_text(st, 0));
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? 0 : db_fail(c);
    }
    unprep(c, st);
    return rc;
}

/* TTL of item in epoch seconds, or 0 (bind NULL) when none applies. */
static int item_expires(const struct tbl *t, const cJSON *item, int64_t *out)
{
    const cJSON *v = t->ttl_on ? cJSON_GetObjectItemCaseSensitive(item, t->ttl_attr) : NULL;
    if (sd_ddb_av_type(v) != SD_DDB_T_N)
        return 0;
    double d = strtod(v->child->valuestring, NULL);
    if (!(d > 0 && d < 9e15))
        return 0;
    *out = (int64_t)d;
    return 1;
}

static int item_store(struct call *c, const struct tbl *t, const struct key *k, const cJSON *item)
{
    struct cm_buf b;
    int64_t exp = 0;
    int rc = 0;
    cm_buf_init(&b, 8u << 20);
    if (cm_json_append(&b, item) < 0)
        return VFAIL(c, "Item size has exceeded the maximum allowed size");
    sqlite3_stmt *st = prep(c, "INSERT OR REPLACE INTO items(tbl, hk, sk, item, size, expires)"
                               " VALUES(?, ?, ?, ?, ?, ?)");
    if (!st) {
        cm_buf_deinit(&b);
        return CM_EIO;
    }
    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_TRANSIENT);
    bind_blob(st, 2, k->hk, k->hn);
    bind_blob(st, 3, k->sk, k->sn);
    sqlite3_bind_text(st, 4, b.data, (int)b.len, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, (int64_t)sd_ddb_item_size(item));
    if (item_expires(t, item, &exp))
        sqlite3_bind_int64(st, 6, exp);
    else
        sqlite3_bind_null(st, 6);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(c);
    unprep(c, st);
    cm_buf_deinit(&b);
    return rc;
}

static int item_delete(struct call *c, const struct tbl *t, const struct key *k)
{
    sqlite3_stmt *st = prep(c, "DELETE FROM items WHERE tbl = ? AND hk = ? AND sk = ?");
    if (!st)
        return CM_EIO;
    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_TRANSIENT);
    bind_blob(st, 2, k->hk, k->hn);
    bind_blob(st, 3, k->sk, k->sn);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(c);
    unprep(c, st);
    return rc;
}

/* ---- request helpers ------------------------------------------------------------ */

static const char *opt_str(struct call *c, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->in, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Legacy (pre-expression) parameters stackd does not emulate. */
static int reject_legacy(struct call *c)
{
    static const char *const legacy[] = {
        "Expected",   "AttributeUpdates", "KeyConditions",       "QueryFilter",
        "ScanFilter", "AttributesToGet",  "ConditionalOperator", NULL};
    for (int i = 0; legacy[i]; i++)
        if (cJSON_GetObjectItemCaseSensitive(c->in, legacy[i]))
            return VFAIL(c, "stackd does not support the legacy parameter %s; use expressions",
                         legacy[i]);
    if (cJSON_GetObjectItemCaseSensitive(c->in, "IndexName"))
        return VFAIL(c, "stackd does not support secondary indexes (IndexName)");
    return 0;
}

/* Validates ExpressionAttributeValues and sets up x. */
static int ectx_init(struct call *c, const cJSON *names, const cJSON *values, struct sd_ddb_ectx *x)
{
    char why[512];
    memset(x, 0, sizeof(*x));
    if (names && !cJSON_IsObject(names))
        return VFAIL(c, "ExpressionAttributeNames must be a map");
    if (values && !cJSON_IsObject(values))
        return VFAIL(c, "ExpressionAttributeValues must be a map");
    if (names && !names->child)
        return VFAIL(c, "ExpressionAttributeNames must not be empty");
    if (values && !values->child)
        return VFAIL(c, "ExpressionAttributeValues must not be empty");
    for (cJSON *v = values ? values->child : NULL; v; v = v->next)
        if (sd_ddb_av_check(v, why, sizeof(why)) < 0)
            return VFAIL(c, "ExpressionAttributeValues contains invalid value: %s for key %s", why,
                         v->string);
    x->names = names;
    x->values = values;
    return 0;
}

/* Parses the expression in member param (absent: *out NULL). */
static int parse_expr(struct call *c, const cJSON *from, const char *param,
                      enum sd_ddb_expr_kind kind, struct sd_ddb_ectx *x, struct sd_ddb_expr **out)
{
    char why[768];
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(from, param);
    *out = NULL;
    if (!s)
        return 0;
    if (!cJSON_IsString(s))
        return VFAIL(c, "%s must be a string", param);
    if (sd_ddb_expr_parse(kind, s->valuestring, strlen(s->valuestring), x, out, why, sizeof(why)) <
        0)
        return VFAIL(c, "Invalid %s: %s", param, why);
    return 0;
}

/* After all expressions of a request are parsed: every name and value used. */
static int ectx_check_used(struct call *c, const struct sd_ddb_ectx *x, int any_expr)
{
    if (!any_expr && x->names)
        return VFAIL(c, "ExpressionAttributeNames can only be specified when using expressions");
    if (!any_expr && x->values)
        return VFAIL(c, "ExpressionAttributeValues can only be specified when using expressions");
    int i = 0;
    for (const cJSON *v = x->names ? x->names->child : NULL; v; v = v->next, i++)
        if (i < (int)sizeof(x->used_names) && !x->used_names[i])
            return VFAIL(c,
                         "Value provided in ExpressionAttributeNames unused in expressions: "
                         "keys: {%s}",
                         v->string);
    i = 0;
    for (const cJSON *v = x->values ? x->values->child : NULL; v; v = v->next, i++)
        if (i < (int)sizeof(x->used_values) && !x->used_values[i])
            return VFAIL(c,
                         "Value provided in ExpressionAttributeValues unused in expressions: "
                         "keys: {%s}",
                         v->string);
    return 0;
}

static int check_return_values(struct call *c, const char *rv, int update)
{
    static const char *const ok[] = {"NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"};
    for (int i = 0; rv && i < (update ? 5 : 2); i++)
        if (strcmp(rv, ok[i]) == 0)
            return 0;
    return rv ? VFAIL(c, "Return values set to invalid value") : 0;
}

/* ConsumedCapacity, when asked for: units as DynamoDB bills them. */
static void add_capacity(struct call *c, cJSON *to, const char *table, double units)
{
    const char *rcc = opt_str(c, "ReturnConsumedCapacity");
    if (!rcc || strcmp(rcc, "NONE") == 0)
        return;
    cJSON *cc = cJSON_CreateObject();
    cJSON_AddStringToObject(cc, "TableName", table);
    cJSON_AddNumberToObject(cc, "CapacityUnits", units);
    if (strcmp(rcc, "INDEXES") == 0) {
        cJSON *tb = cJSON_AddObjectToObject(cc, "Table");
        cJSON_AddNumberToObject(tb, "CapacityUnits", units);
    }
    if (cJSON_IsArray(to))
        cJSON_AddItemToArray(to, cc);
    else
        cJSON_AddItemToObject(to, "ConsumedCapacity", cc);
}

static double write_units(size_t bytes)
{
    return bytes == 0 ? 1.0 : ceil((double)bytes / 1024.0);
}

static double read_units(size_t bytes, int consistent)
{
    double u = bytes == 0 ? 1.0 : ceil((double)bytes / 4096.0);
    return consistent ? u : u / 2;
}

/* Validates the Item member and its size. */
static int check_item(struct call *c, cJSON *item)
{
    char why[512];
    if (!cJSON_IsObject(item))
        return VFAIL(c, "1 validation error detected: Value null at 'item' failed to satisfy "
                        "constraint: Member must not be null");
    if (sd_ddb_item_check(item, why, sizeof(why)) < 0)
        return VFAIL(c, "%s", why);
    if (sd_ddb_item_size(item) > DDB_MAX_ITEM)
        return VFAIL(c, "Item size has exceeded the maximum allowed size");
    return 0;
}

static int check_key_values(struct call *c, cJSON *key)
{
    char why[512];
    if (!cJSON_IsObject(key))
        return VFAIL(c, "1 validation error detected: Value null at 'key' failed to satisfy "
                        "constraint: Member must not be null");
    return sd_ddb_item_check(key, why, sizeof(why)) < 0 ? VFAIL(c, "%s", why) : 0;
}

/* ---- item operations ---------------------------------------------------------------- */

/* Common shape of PutItem/UpdateItem/DeleteItem: the table, its key, the
 * expression context and the condition. */
struct wctx {
    struct tbl t;
    struct key k;
    struct sd_ddb_ectx x;
    struct sd_ddb_expr *cond, *update;
    cJSON *old;
};

static void wctx_free(struct wctx *w)
{
    key_free(&w->k);
    sd_ddb_expr_free(w->cond);
    sd_ddb_expr_free(w->update);
    cJSON_Delete(w->old);
}

static int write_prepare(struct call *c, struct wctx *w, cJSON *item_or_key, int as_item,
                         int update)
{
    int rc;
    if ((rc = reject_legacy(c)) < 0 || (rc = need_table(c, NULL, &w->t)) < 0)
        return rc;
    if ((rc = as_item ? check_item(c, item_or_key) : check_key_values(c, item_or_key)) < 0 ||
        (rc = key_from(c, &w->t, item_or_key, as_item, &w->k)) < 0)
        return rc;
    if ((rc = check_return_values(c, opt_str(c, "ReturnValues"), update)) < 0 ||
        (rc = check_return_values(c, opt_str(c, "ReturnValuesOnConditionCheckFailure"), 0)) < 0)
        return rc;
    if ((rc = ectx_init(c, cJSON_GetObjectItemCaseSensitive(c->in, "ExpressionAttributeNames"),
                        cJSON_GetObjectItemCaseSensitive(c->in, "ExpressionAttributeValues"),
                        &w->x)) < 0)
        return rc;
    if ((rc = parse_expr(c, c->in, "ConditionExpression", SD_DDB_EXPR_CONDITION, &w->x, &w->cond)) <
        0)
        return rc;
    if (update &&
        (rc = parse_expr(c, c->in, "UpdateExpression", SD_DDB_EXPR_UPDATE, &w->x, &w->update)) < 0)
        return rc;
    if ((rc = ectx_check_used(c, &w->x, w->cond || w->update)) < 0)
        return rc;
    if ((rc = item_load(c, &w->t, &w->k, &w->old)) < 0)
        return rc;
    if (w->cond && !sd_ddb_expr_eval(w->cond, w->old)) {
        const char *rv = opt_str(c, "ReturnValuesOnConditionCheckFailure");
        if (rv && strcmp(rv, "ALL_OLD") == 0 && w->old)
            c->err_item = cJSON_Duplicate(w->old, 1);
        return fail(c, "ConditionalCheckFailedException", "The conditional request failed");
    }
    return 0;
}

static int op_put_item(struct call *c)
{
    struct wctx w;
    memset(&w, 0, sizeof(w));
    cJSON *item = cJSON_GetObjectItemCaseSensitive(c->in, "Item");
    int rc = write_prepare(c, &w, item, 1, 0);
    if (rc == 0)
        rc = item_store(c, &w.t, &w.k, item);
    if (rc == 0) {
        const char *rv = opt_str(c, "ReturnValues");
        if (rv && strcmp(rv, "ALL_OLD") == 0 && w.old) {
            cJSON_AddItemToObject(c->out, "Attributes", w.old);
            w.old = NULL;
        }
        add_capacity(c, c->out, w.t.name, write_units(sd_ddb_item_size(item)));
    }
    wctx_free(&w);
    return rc;
}

static int op_delete_item(struct call *c)
{
    struct wctx w;
    memset(&w, 0, sizeof(w));
    int rc = write_prepare(c, &w, cJSON_GetObjectItemCaseSensitive(c->in, "Key"), 0, 0);
    if (rc == 0 && w.old)
        rc = item_delete(c, &w.t, &w.k);
    if (rc == 0) {
        size_t size = w.old ? sd_ddb_item_size(w.old) : 0;
        const char *rv = opt_str(c, "ReturnValues");
        if (rv && strcmp(rv, "ALL_OLD") == 0 && w.old) {
            cJSON_AddItemToObject(c->out, "Attributes", w.old);
            w.old = NULL;
        }
        add_capacity(c, c->out, w.t.name, write_units(size));
    }
    wctx_free(&w);
    return rc;
}

static int op_update_item(struct call *c)
{
    struct wctx w;
    char why[768];
    cJSON *item = NULL, *touched = cJSON_CreateObject();
    memset(&w, 0, sizeof(w));
    cJSON *key = cJSON_GetObjectItemCaseSensitive(c->in, "Key");
    int rc = write_prepare(c, &w, key, 0, 1);
    if (rc < 0)
        goto out;
    item = w.old ? cJSON_Duplicate(w.old, 1) : cJSON_Duplicate(key, 1);
    const char *keys[2] = {w.t.hash, w.t.range};
    if (w.update && sd_ddb_expr_update(w.update, item, keys, w.t.range[0] ? 2 : 1, touched, why,
                                       sizeof(why)) < 0) {
        rc = VFAIL(c, "%s%s",
                   strstr(why, "parameter values") ? "" : "Invalid UpdateExpression: ", why);
        goto out;
    }
    if (sd_ddb_item_size(item) > DDB_MAX_ITEM) {
        rc = VFAIL(c, "Item size to update has exceeded the maximum allowed size");
        goto out;
    }
    if ((rc = item_store(c, &w.t, &w.k, item)) < 0)
        goto out;
    const char *rv = opt_str(c, "ReturnValues");
    cJSON *attrs = NULL;
    if (!rv || strcmp(rv, "NONE") == 0)
        attrs = NULL;
    else if (strcmp(rv, "ALL_NEW") == 0)
        attrs = cJSON_Duplicate(item, 1);
    else if (strcmp(rv, "ALL_OLD") == 0)
        attrs = w.old ? cJSON_Duplicate(w.old, 1) : NULL;
    else if (strcmp(rv, "UPDATED_NEW") == 0)
        attrs = sd_ddb_expr_project_updated(w.update, item);
    else
        attrs = w.old ? sd_ddb_expr_project_updated(w.update, w.old) : NULL;
    if (attrs && attrs->child)
        cJSON_AddItemToObject(c->out, "Attributes", attrs);
    else
        cJSON_Delete(attrs);
    add_capacity(c, c->out, w.t.name, write_units(sd_ddb_item_size(item)));
out:
    cJSON_Delete(item);
    cJSON_Delete(touched);
    wctx_free(&w);
    return rc;
}

static int consistent(struct call *c, const cJSON *from)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(from, "ConsistentRead"));
}

static int op_get_item(struct call *c)
{
    struct tbl t;
    struct key k;
    struct sd_ddb_ectx x;
    struct sd_ddb_expr *proj = NULL;
    cJSON *item = NULL;
    memset(&k, 0, sizeof(k));
    cJSON *key = cJSON_GetObjectItemCaseSensitive(c->in, "Key");
    int rc;
    if ((rc = reject_legacy(c)) < 0 || (rc = need_table(c, NULL, &t)) < 0 ||
        (rc = check_key_values(c, key)) < 0 || (rc = key_from(c, &t, key, 0, &k)) < 0)
        goto out;
    if ((rc = ectx_init(c, cJSON_GetObjectItemCaseSensitive(c->in, "ExpressionAttributeNames"),
                        NULL, &x)) < 0 ||
        (rc = parse_expr(c, c->in, "ProjectionExpression", SD_DDB_EXPR_PROJECTION, &x, &proj)) <
            0 ||
        (rc = ectx_check_used(c, &x, proj != NULL)) < 0)
        goto out;
    if (cJSON_GetObjectItemCaseSensitive(c->in, "ExpressionAttributeValues")) {
        rc = VFAIL(c, "ExpressionAttributeValues can only be specified when using expressions: "
                      "ProjectionExpression does not use values");
        goto out;
    }
    if ((rc = item_load(c, &t, &k, &item)) < 0)
        goto out;
    double units = read_units(item ? sd_ddb_item_size(item) : 0, consistent(c, c->in));
    if (item)
        cJSON_AddItemToObject(c->out, "Item",
                              proj ? sd_ddb_expr_project(proj, item) : cJSON_Duplicate(item, 1));
    add_capacity(c, c->out, t.name, units);
out:
    cJSON_Delete(item);
    sd_ddb_expr_free(proj);
    key_free(&k);
    return rc;
}

/* ---- Query and Scan --------------------------------------------------------------------- */

struct binds {
    const unsigned char *p[6];
    size_t n[6];
    int count;
};

static void add_bind(struct binds *b, struct cm_buf *sql, const char *cond, const unsigned char *p,
                     size_t n)
{
    cm_buf_puts(sql, cond);
    b->p[b->count] = p;
    b->n[b->count++] = n;
}

/* Smallest byte string greater than every string starting with p[0..n):
 * p with its last non-0xff byte incremented and truncated after it; 0 when
 * there is none (all 0xff). */
static size_t prefix_successor(unsigned char *p, size_t n)
{
    while (n > 0 && p[n - 1] == 0xff)
        n--;
    if (n > 0)
        p[n - 1]++;
    return n;
}

struct qstate {
    struct tbl t;
    struct sd_ddb_ectx x;
    struct sd_ddb_expr *kc, *filter, *proj;
    struct key hk, esk;
    unsigned char *r1, *r2;
    size_t n1, n2;
};

static void qstate_free(struct qstate *q)
{
    sd_ddb_expr_free(q->kc);
    sd_ddb_expr_free(q->filter);
    sd_ddb_expr_free(q->proj);
    key_free(&q->hk);
    key_free(&q->esk);
    free(q->r1);
    free(q->r2);
}

static int range_bytes(struct call *c, const struct tbl *t, const cJSON *v, unsigned char **p,
                       size_t *n)
{
    if (strcmp(sd_ddb_type_name(sd_ddb_av_type(v)), t->rtype) != 0)
        return VFAIL(c, "One or more parameter values were invalid: Condition parameter type does "
                        "not match schema type");
    return sd_ddb_av_keybytes(v, p, n) < 0 ? VFAIL(c, "%s", MSG_BAD_KEY) : 0;
}

/* Key condition -> SQL conditions on hk/sk. */
static int query_where(struct call *c, struct qstate *q, int forward, struct cm_buf *sql,
                       struct binds *b)
{
    struct sd_ddb_keycond k;
    char why[512];
    if (sd_ddb_expr_keycond(q->kc, q->t.hash, &k, why, sizeof(why)) < 0)
        return VFAIL(c, "%s", why);
    if (strcmp(sd_ddb_type_name(sd_ddb_av_type(k.hash)), q->t.htype) != 0)
        return VFAIL(c, "One or more parameter values were invalid: Condition parameter type does "
                        "not match schema type");
    if (sd_ddb_av_keybytes(k.hash, &q->hk.hk, &q->hk.hn) < 0)
        return VFAIL(c, "%s", MSG_BAD_KEY);
    add_bind(b, sql, " AND hk = ?", q->hk.hk, q->hk.hn);
    if (k.op == SD_DDB_KOP_NONE)
        return 0;
    if (!q->t.range[0] || strcmp(k.range_name, q->t.range) != 0)
        return VFAIL(c, "Query key condition not supported");
    if (k.op == SD_DDB_KOP_BEGINS && strcmp(q->t.rtype, "N") == 0)
        return VFAIL(c, "Invalid KeyConditionExpression: Incorrect operand type for operator or "
                        "function; operator or function: begins_with, operand type: N");
    if (range_bytes(c, &q->t, k.r1, &q->r1, &q->n1) < 0 ||
        (k.r2 && range_bytes(c, &q->t, k.r2, &q->r2, &q->n2) < 0))
        return CM_EINVAL;
    static const char *const ops[] = {[SD_DDB_KOP_EQ] = " AND sk = ?",
                                      [SD_DDB_KOP_LT] = " AND sk < ?",
                                      [SD_DDB_KOP_LE] = " AND sk <= ?",
                                      [SD_DDB_KOP_GT] = " AND sk > ?",
                                      [SD_DDB_KOP_GE] = " AND sk >= ?"};
    if (k.op == SD_DDB_KOP_BETWEEN) {
        add_bind(b, sql, " AND sk >= ?", q->r1, q->n1);
        add_bind(b, sql, " AND sk <= ?", q->r2, q->n2);
    } else if (k.op == SD_DDB_KOP_BEGINS) {
        add_bind(b, sql, " AND sk >= ?", q->r1, q->n1);
        q->r2 = cm_xmalloc(q->n1 + 1);
        memcpy(q->r2, q->r1, q->n1);
        q->n2 = prefix_successor(q->r2, q->n1);
        if (q->n2 > 0)
            add_bind(b, sql, " AND sk < ?", q->r2, q->n2);
    } else {
        add_bind(b, sql, ops[k.op], q->r1, q->n1);
    }
    (void)forward;
    return 0;
}

static int query_setup(struct call *c, struct qstate *q, int is_query, int forward,
                       struct cm_buf *sql, struct binds *b)
{
    int rc;
    if ((rc = reject_legacy(c)) < 0 || (rc = need_table(c, NULL, &q->t)) < 0)
        return rc;
    if ((rc = ectx_init(c, cJSON_GetObjectItemCaseSensitive(c->in, "ExpressionAttributeNames"),
                        cJSON_GetObjectItemCaseSensitive(c->in, "ExpressionAttributeValues"),
                        &q->x)) < 0)
        return rc;
    if (is_query && !cJSON_GetObjectItemCaseSensitive(c->in, "KeyConditionExpression"))
        return VFAIL(c, "Either the KeyConditions or KeyConditionExpression parameter must be "
                        "specified in the request.");
    if ((is_query && (rc = parse_expr(c, c->in, "KeyConditionExpression", SD_DDB_EXPR_CONDITION,
                                      &q->x, &q->kc)) < 0) ||
        (rc = parse_expr(c, c->in, "FilterExpression", SD_DDB_EXPR_CONDITION, &q->x, &q->filter)) <
            0 ||
        (rc = parse_expr(c, c->in, "ProjectionExpression", SD_DDB_EXPR_PROJECTION, &q->x,
                         &q->proj)) < 0 ||
        (rc = ectx_check_used(c, &q->x, q->kc || q->filter || q->proj)) < 0)
        return rc;
    cm_buf_puts(sql, "SELECT item, expires, size FROM items WHERE tbl = ?");
    if (is_query && (rc = query_where(c, q, forward, sql, b)) < 0)
        return rc;
    cJSON *esk = cJSON_GetObjectItemCaseSensitive(c->in, "ExclusiveStartKey");
    if (esk) {
        if ((rc = check_key_values(c, esk)) < 0 || (rc = key_from(c, &q->t, esk, 0, &q->esk)) < 0)
            return VFAIL(c, "The provided starting key is invalid: %s", c->msg);
        if (is_query) {
            add_bind(b, sql, forward ? " AND sk > ?" : " AND sk < ?", q->esk.sk, q->esk.sn);
        } else {
            add_bind(b, sql, " AND (hk, sk) > (?", q->esk.hk, q->esk.hn);
            add_bind(b, sql, ", ?)", q->esk.sk, q->esk.sn);
        }
    }
    cm_buf_puts(sql, is_query ? (forward ? " ORDER BY sk ASC" : " ORDER BY sk DESC")
                              : " ORDER BY hk, sk");
    return 0;
}

/* Limit and Select of Query/Scan. */
static int check_page_params(struct call *c, int64_t *limit, int *count_only)
{
    const char *sel = opt_str(c, "Select");
    *limit = cm_json_int(c->in, "Limit", 0);
    *count_only = sel && strcmp(sel, "COUNT") == 0;
    if (cJSON_GetObjectItemCaseSensitive(c->in, "Limit") && *limit < 1)
        return VFAIL(c,
                     "1 validation error detected: Value '%lld' at 'limit' failed to satisfy "
                     "constraint: Member must have value greater than or equal to 1",
                     (long long)*limit);
    if (sel && strcmp(sel, "COUNT") != 0 && strcmp(sel, "ALL_ATTRIBUTES") != 0 &&
        strcmp(sel, "SPECIFIC_ATTRIBUTES") != 0 && strcmp(sel, "ALL_PROJECTED_ATTRIBUTES") != 0)
        return VFAIL(c,
                     "1 validation error detected: Value '%s' at 'select' failed to satisfy "
                     "constraint: Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, "
                     "COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]",
                     sel);
    return 0;
}

/* Steps the bound statement: Limit counts items evaluated (before the
 * filter), a page also ends after 1 MB evaluated, and LastEvaluatedKey is
 * set only when a further row exists. Fills Items, Count, ScannedCount. */
static int scan_rows(struct call *c, sqlite3_stmt *st, const struct qstate *q, int64_t limit,
                     int count_only)
{
    cJSON *items = count_only ? NULL : cJSON_AddArrayToObject(c->out, "Items");
    cJSON *last = NULL;
    int64_t scanned = 0, matched = 0;
    size_t bytes = 0;
    int more = 0, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (more) /* one row past the page: there is a next page */
            break;
        if (ttl_expired(st, 1, now_s(c)))
            continue;
        cJSON *item = cJSON_Parse(col_text(st, 0));
        if (!item)
            continue;
        scanned++;
        bytes += (size_t)sqlite3_column_int64(st, 2);
        if (!q->filter || sd_ddb_expr_eval(q->filter, item)) {
            matched++;
            if (items)
                cJSON_AddItemToArray(items, q->proj ? sd_ddb_expr_project(q->proj, item)
                                                    : cJSON_Duplicate(item, 1));
        }
        cJSON_Delete(last);
        last = item;
        if ((limit > 0 && scanned >= limit) || bytes >= DDB_MAX_PAGE)
            more = 1;
    }
    cJSON_AddNumberToObject(c->out, "Count", (double)matched);
    cJSON_AddNumberToObject(c->out, "ScannedCount", (double)scanned);
    if (more && last && step == SQLITE_ROW)
        cJSON_AddItemToObject(c->out, "LastEvaluatedKey", key_of(&q->t, last));
    cJSON_Delete(last);
    add_capacity(c, c->out, q->t.name, read_units(bytes, consistent(c, c->in)));
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : db_fail(c);
}

static int op_query_scan(struct call *c, int is_query)
{
    struct qstate q;
    struct cm_buf sql;
    struct binds b;
    sqlite3_stmt *st = NULL;
    int64_t limit;
    int count_only, rc;
    memset(&q, 0, sizeof(q));
    memset(&b, 0, sizeof(b));
    cm_buf_init(&sql, 4096);
    int forward = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(c->in, "ScanIndexForward"));
    int seg = (int)cm_json_int(c->in, "Segment", 0),
        nseg = (int)cm_json_int(c->in, "TotalSegments", 1);
    if ((rc = check_page_params(c, &limit, &count_only)) < 0 ||
        (rc = query_setup(c, &q, is_query, forward, &sql, &b)) < 0)
        goto out;
    if (!is_query && (nseg < 1 || seg < 0 || seg >= nseg)) {
        rc = VFAIL(c, "The Segment parameter is zero-based and must be less than parameter "
                      "TotalSegments");
        goto out;
    }
    if (seg != 0) { /* everything is in segment 0 (a valid, if unbalanced, split) */
        if (!count_only)
            cJSON_AddArrayToObject(c->out, "Items");
        cJSON_AddNumberToObject(c->out, "Count", 0);
        cJSON_AddNumberToObject(c->out, "ScannedCount", 0);
        goto out;
    }
    if (!(st = prep(c, sql.data))) {
        rc = CM_EIO;
        goto out;
    }
    sqlite3_bind_text(st, 1, q.t.name, -1, SQLITE_TRANSIENT);
    for (int i = 0; i < b.count; i++)
        bind_blob(st, i + 2, b.p[i], b.n[i]);
    rc = scan_rows(c, st, &q, limit, count_only);
out:
    unprep(c, st);
    cm_buf_deinit(&sql);
    qstate_free(&q);
    return rc;
}

static int op_query(struct call *c)
{
    return op_query_scan(c, 1);
}

static int op_scan(struct call *c)
{
    return op_query_scan(c, 0);
}

/* ---- batch operations ----------------------------------------------------------------- */

struct bw {
    struct tbl t;
    struct key k;
    cJSON *item; /* borrowed; NULL for a delete */
};

static int same_key(const struct bw *a, const struct bw *b)
{
    return strcmp(a->t.name, b->t.name) == 0 && a->k.hn == b->k.hn && a->k.sn == b->k.sn &&
           memcmp(a->k.hk, b->k.hk, a->k.hn) == 0 &&
           (a->k.sn == 0 || memcmp(a->k.sk, b->k.sk, a->k.sn) == 0);
}

static int bw_collect(struct call *c, const cJSON *ri, struct bw *w, int *nw)
{
    int rc;
    for (const cJSON *tb = ri->child; tb; tb = tb->next) {
        struct tbl t;
        if ((rc = need_table(c, tb->string, &t)) < 0)
            return rc;
        if (!cJSON_IsArray(tb) || !tb->child)
            return VFAIL(c, "1 validation error detected: Value at 'requestItems' failed to "
                            "satisfy constraint: Map value must satisfy constraint: [Member must "
                            "have length less than or equal to 25, Member must have length "
                            "greater than or equal to 1]");
        for (const cJSON *r = tb->child; r; r = r->next) {
            if (*nw >= DDB_MAX_BATCH_W)
                return VFAIL(c, "Too many items requested for the BatchWriteItem call");
            struct bw *e = &w[(*nw)++];
            e->t = t;
            const cJSON *put = cJSON_GetObjectItemCaseSensitive(r, "PutRequest");
            const cJSON *del = cJSON_GetObjectItemCaseSensitive(r, "DeleteRequest");
            if (!put == !del)
                return VFAIL(c, "Supplied AttributeValue has more than one datatypes set, must "
                                "contain exactly one of the supported datatypes");
            if (put) {
                e->item = cJSON_GetObjectItemCaseSensitive(put, "Item");
                if ((rc = check_item(c, e->item)) < 0 ||
                    (rc = key_from(c, &t, e->item, 1, &e->k)) < 0)
                    return rc;
            } else {
                cJSON *key = cJSON_GetObjectItemCaseSensitive(del, "Key");
                if ((rc = check_key_values(c, key)) < 0 ||
                    (rc = key_from(c, &t, key, 0, &e->k)) < 0)
                    return rc;
            }
            for (int i = 0; i < *nw - 1; i++)
                if (same_key(&w[i], e))
                    return VFAIL(c, "Provided list of item keys contains duplicates");
        }
    }
    return 0;
}

static int op_batch_write(struct call *c)
{
    struct bw w[DDB_MAX_BATCH_W];
    int nw = 0, rc;
    memset(w, 0, sizeof(w));
    const cJSON *ri = cJSON_GetObjectItemCaseSensitive(c->in, "RequestItems");
    if (!cJSON_IsObject(ri) || !ri->child) {
        rc = VFAIL(c, "1 validation error detected: Value null at 'requestItems' failed to "
                      "satisfy constraint: Member must not be null");
        goto out;
    }
    if ((rc = bw_collect(c, ri, w, &nw)) < 0)
        goto out;
    cJSON *caps = cJSON_CreateArray();
    for (int i = 0; rc == 0 && i < nw; i++) {
        rc = w[i].item ? item_store(c, &w[i].t, &w[i].k, w[i].item)
                       : item_delete(c, &w[i].t, &w[i].k);
        int first = 1;
        for (int j = 0; j < i; j++)
            first &= strcmp(w[j].t.name, w[i].t.name) != 0;
        if (first) {
            double units = 0;
            for (int j = i; j < nw; j++)
                if (strcmp(w[j].t.name, w[i].t.name) == 0)
                    units += write_units(w[j].item ? sd_ddb_item_size(w[j].item) : 0);
            add_capacity(c, caps, w[i].t.name, units);
        }
    }
    cJSON_AddObjectToObject(c->out, "UnprocessedItems");
    if (caps->child)
        cJSON_AddItemToObject(c->out, "ConsumedCapacity", caps);
    else
        cJSON_Delete(caps);
out:
    for (int i = 0; i < nw; i++)
        key_free(&w[i].k);
    return rc;
}

static int batch_get_table(struct call *c, const cJSON *tb, cJSON *responses, cJSON *caps,
                           int *total)
{
    struct tbl t;
    struct sd_ddb_ectx x;
    struct sd_ddb_expr *proj = NULL;
    struct key keys[DDB_MAX_BATCH_G];
    int nk = 0, rc;
    size_t bytes = 0;
    memset(keys, 0, sizeof(keys));
    const cJSON *klist = cJSON_GetObjectItemCaseSensitive(tb, "Keys");
    if ((rc = need_table(c, tb->string, &t)) < 0)
        goto out;
    if (cJSON_GetObjectItemCaseSensitive(tb, "AttributesToGet")) {
        rc = VFAIL(c, "stackd does not support the legacy parameter AttributesToGet; use "
                      "expressions");
        goto out;
    }
    if (!cJSON_IsArray(klist) || !klist->child) {
        rc = VFAIL(c, "1 validation error detected: Value null at 'keys' failed to satisfy "
                      "constraint: Member must not be null");
        goto out;
    }
    if ((rc = ectx_init(c, cJSON_GetObjectItemCaseSensitive(tb, "ExpressionAttributeNames"), NULL,
                        &x)) < 0 ||
        (rc = parse_expr(c, tb, "ProjectionExpression", SD_DDB_EXPR_PROJECTION, &x, &proj)) < 0 ||
        (rc = ectx_check_used(c, &x, proj != NULL)) < 0)
        goto out;
    cJSON *arr = cJSON_AddArrayToObject(responses, t.name);
    for (cJSON *kv = klist->child; kv; kv = kv->next) {
        if (++*total > DDB_MAX_BATCH_G) {
            rc = VFAIL(c, "Too many items requested for the BatchGetItem call");
            goto out;
        }
        struct key *k = &keys[nk++];
        if ((rc = check_key_values(c, kv)) < 0 || (rc = key_from(c, &t, kv, 0, k)) < 0)
            goto out;
        for (int i = 0; i < nk - 1; i++) {
            if (keys[i].hn == k->hn && keys[i].sn == k->sn && !memcmp(keys[i].hk, k->hk, k->hn) &&
                (k->sn == 0 || !memcmp(keys[i].sk, k->sk, k->sn))) {
                rc = VFAIL(c, "Provided list of item keys contains duplicates");
                goto out;
            }
        }
        cJSON *item = NULL;
        if ((rc = item_load(c, &t, k, &item)) < 0)
            goto out;
        if (item) {
            bytes += sd_ddb_item_size(item);
            cJSON_AddItemToArray(arr,
                                 proj ? sd_ddb_expr_project(proj, item) : cJSON_Duplicate(item, 1));
            cJSON_Delete(item);
        }
    }
    add_capacity(c, caps, t.name, read_units(bytes, consistent(c, tb)));
out:
    for (int i = 0; i < nk; i++)
        key_free(&keys[i]);
    sd_ddb_expr_free(proj);
    return rc;
}

static int op_batch_get(struct call *c)
{
    const cJSON *ri = cJSON_GetObjectItemCaseSensitive(c->in, "RequestItems");
    int total = 0, rc = 0;
    if (!cJSON_IsObject(ri) || !ri->child)
        return VFAIL(c, "1 validation error detected: Value null at 'requestItems' failed to "
                        "satisfy constraint: Member must not be null");
    cJSON *responses = cJSON_AddObjectToObject(c->out, "Responses");
    cJSON *caps = cJSON_CreateArray();
    for (const cJSON *tb = ri->child; rc == 0 && tb; tb = tb->next)
        rc = batch_get_table(c, tb, responses, caps, &total);
    cJSON_AddObjectToObject(c->out, "UnprocessedKeys");
    if (caps->child)
        cJSON_AddItemToObject(c->out, "ConsumedCapacity", caps);
    else
        cJSON_Delete(caps);
    return rc;
}

/* ---- tables --------------------------------------------------------------------------- */

static void add_key_schema(cJSON *d, const struct tbl *t)
{
    cJSON *ad = cJSON_AddArrayToObject(d, "AttributeDefinitions");
    cJSON *ks = cJSON_AddArrayToObject(d, "KeySchema");
    for (int i = 0; i < (t->range[0] ? 2 : 1); i++) {
        cJSON *a = cJSON_CreateObject(), *k = cJSON_CreateObject();
        cJSON_AddStringToObject(a, "AttributeName", i ? t->range : t->hash);
        cJSON_AddStringToObject(a, "AttributeType", i ? t->rtype : t->htype);
        cJSON_AddItemToArray(ad, a);
        cJSON_AddStringToObject(k, "AttributeName", i ? t->range : t->hash);
        cJSON_AddStringToObject(k, "KeyType", i ? "RANGE" : "HASH");
        cJSON_AddItemToArray(ks, k);
    }
}

static cJSON *describe(struct call *c, const struct tbl *t, const char *status)
{
    cJSON *d = cJSON_CreateObject();
    char arn[640];
    int64_t count = 0, bytes = 0;
    sqlite3_stmt *st = prep(c, "SELECT count(*), total(size) FROM items WHERE tbl = ?");
    if (st) {
        sqlite3_bind_text(st, 1, t->name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) == SQLITE_ROW) {
            count = sqlite3_column_int64(st, 0);
            bytes = (int64_t)sqlite3_column_double(st, 1);
        }
        unprep(c, st);
    }
    add_key_schema(d, t);
    cJSON_AddStringToObject(d, "TableName", t->name);
    cJSON_AddStringToObject(d, "TableStatus", status);
    cJSON_AddNumberToObject(d, "CreationDateTime", t->created_s);
    cJSON *pt = cJSON_AddObjectToObject(d, "ProvisionedThroughput");
    cJSON_AddNumberToObject(pt, "NumberOfDecreasesToday", 0);
    cJSON_AddNumberToObject(pt, "ReadCapacityUnits", (double)t->rcu);
    cJSON_AddNumberToObject(pt, "WriteCapacityUnits", (double)t->wcu);
    cJSON_AddNumberToObject(d, "TableSizeBytes", (double)bytes);
    cJSON_AddNumberToObject(d, "ItemCount", (double)count);
    snprintf(arn, sizeof(arn), "arn:aws:dynamodb:%s:%s:table/%s", c->db->region, c->db->account,
             t->name);
    cJSON_AddStringToObject(d, "TableArn", arn);
    cJSON_AddStringToObject(d, "TableId", t->table_id);
    cJSON *bm = cJSON_AddObjectToObject(d, "BillingModeSummary");
    cJSON_AddStringToObject(bm, "BillingMode", t->billing);
    cJSON_AddFalseToObject(d, "DeletionProtectionEnabled");
    return d;
}

static int valid_table_name(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > 255)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '-'))
            return 0;
    }
    return 1;
}

static int valid_key_type(const char *s)
{
    return s && (strcmp(s, "S") == 0 || strcmp(s, "N") == 0 || strcmp(s, "B") == 0);
}

/* Inserts a new table row (t->name must not exist). */
static int table_insert(struct call *c, struct tbl *t)
{
    char id[CM_CORR_ID_LEN + 1];
    cm_corr_new_id(c->now_ms, id);
    cm_strlcpy(t->table_id, id, sizeof(t->table_id));
    t->created_s = (double)c->now_ms / 1000.0;
    sqlite3_stmt *st = prep(c, "INSERT INTO tables(name, hash_name, hash_type, range_name,"
                               " range_type, created_ms, billing, rcu, wcu, ttl_attr, ttl_on,"
                               " table_id) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!st)
        return CM_EIO;
    sqlite3_bind_text(st, 1, t->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, t->hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, t->htype, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, t->range, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, t->rtype, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, c->now_ms);
    sqlite3_bind_text(st, 7, t->billing, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 8, t->rcu);
    sqlite3_bind_int64(st, 9, t->wcu);
    sqlite3_bind_text(st, 10, t->ttl_attr, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 11, t->ttl_on);
    sqlite3_bind_text(st, 12, t->table_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(c);
    unprep(c, st);
    return rc;
}

static int parse_key_schema(struct call *c, struct tbl *t)
{
    const cJSON *ks = cJSON_GetObjectItemCaseSensitive(c->in, "KeySchema");
    const cJSON *ad = cJSON_GetObjectItemCaseSensitive(c->in, "AttributeDefinitions");
    int nks = cJSON_GetArraySize(ks);
    if (!cJSON_IsArray(ks) || nks < 1 || nks > 2)
        return VFAIL(c, "1 validation error detected: Value at 'keySchema' failed to satisfy "
                        "constraint: Member must have length less than or equal to 2 and "
                        "greater than or equal to 1");
    if (!cJSON_IsArray(ad) || !ad->child)
        return VFAIL(c, "1 validation error detected: Value null at 'attributeDefinitions' "
                        "failed to satisfy constraint: Member must not be null");
    for (int i = 0; i < nks; i++) {
        const cJSON *e = cJSON_GetArrayItem(ks, i);
        const char *name = cm_json_str(e, "AttributeName", ""), *kt = cm_json_str(e, "KeyType", "");
        if (strcmp(kt, i ? "RANGE" : "HASH") != 0)
            return VFAIL(c, "Invalid KeySchema: The %s KeySchemaElement is not a %s key type",
                         i ? "second" : "first", i ? "RANGE" : "HASH");
        if (!name[0] || strlen(name) > 255)
            return VFAIL(c, "Invalid KeySchema: bad AttributeName");
        const char *type = NULL;
        for (const cJSON *d = ad->child; d; d = d->next)
            if (strcmp(cm_json_str(d, "AttributeName", ""), name) == 0)
                type = cm_json_str(d, "AttributeType", NULL);
        if (!type)
            return VFAIL(c,
                         "One or more parameter values were invalid: Some index key attributes "
                         "are not defined in AttributeDefinitions. Keys: [%s]",
                         name);
        if (!valid_key_type(type))
            return VFAIL(c,
                         "1 validation error detected: Value '%s' at "
                         "'attributeDefinitions.%d.member.attributeType' failed to satisfy "
                         "constraint: Member must satisfy enum value set: [B, N, S]",
                         type, i + 1);
        cm_strlcpy(i ? t->range : t->hash, name, sizeof(t->hash));
        cm_strlcpy(i ? t->rtype : t->htype, type, sizeof(t->htype));
    }
    if (nks == 2 && strcmp(t->hash, t->range) == 0)
        return VFAIL(c, "Invalid KeySchema: Some index key attribute have no definition");
    if (cJSON_GetArraySize(ad) != nks)
        return VFAIL(c, "One or more parameter values were invalid: Number of attributes in "
                        "KeySchema does not exactly match number of attributes defined in "
                        "AttributeDefinitions");
    return 0;
}

static int parse_billing(struct call *c, struct tbl *t)
{
    const char *bm = opt_str(c, "BillingMode");
    const cJSON *pt = cJSON_GetObjectItemCaseSensitive(c->in, "ProvisionedThroughput");
    cm_strlcpy(t->billing, bm ? bm : "PROVISIONED", sizeof(t->billing));
    if (strcmp(t->billing, "PAY_PER_REQUEST") == 0) {
        if (pt)
            return VFAIL(c, "One or more parameter values were invalid: Neither "
                            "ReadCapacityUnits nor WriteCapacityUnits can be specified when "
                            "BillingMode is PAY_PER_REQUEST");
        return 0;
    }
    if (strcmp(t->billing, "PROVISIONED") != 0)
        return VFAIL(c,
                     "1 validation error detected: Value '%s' at 'billingMode' failed to "
                     "satisfy constraint: Member must satisfy enum value set: [PROVISIONED, "
                     "PAY_PER_REQUEST]",
                     t->billing);
    t->rcu = cm_json_int(pt, "ReadCapacityUnits", 0);
    t->wcu = cm_json_int(pt, "WriteCapacityUnits", 0);
    if (!pt)
        return VFAIL(c, "One or more parameter values were invalid: ReadCapacityUnits and "
                        "WriteCapacityUnits must both be specified when BillingMode is "
                        "PROVISIONED");
    if (t->rcu < 1 || t->wcu < 1)
        return VFAIL(c, "One or more parameter values were invalid: ReadCapacityUnits and "
                        "WriteCapacityUnits must both be greater than 0");
    return 0;
}

static int op_create_table(struct call *c)
{
    struct tbl t, old;
    int rc;
    memset(&t, 0, sizeof(t));
    const char *name = opt_str(c, "TableName");
    if (!name || !valid_table_name(name))
        return VFAIL(c,
                     "1 validation error detected: Value '%s' at 'tableName' failed to satisfy "
                     "constraint: Member must satisfy regular expression pattern: "
                     "[a-zA-Z0-9_.-]+ and have length between 3 and 255",
                     name ? name : "null");
    cm_strlcpy(t.name, name, sizeof(t.name));
    if (cJSON_GetObjectItemCaseSensitive(c->in, "GlobalSecondaryIndexes") ||
        cJSON_GetObjectItemCaseSensitive(c->in, "LocalSecondaryIndexes"))
        return VFAIL(c, "stackd does not support secondary indexes (GlobalSecondaryIndexes, "
                        "LocalSecondaryIndexes)");
    if ((rc = parse_key_schema(c, &t)) < 0 || (rc = parse_billing(c, &t)) < 0)
        return rc;
    if ((rc = table_get(c, name, &old)) != 0)
        return rc < 0 ? rc : fail(c, "ResourceInUseException", "Table already exists: %s", name);
    if ((rc = table_insert(c, &t)) < 0)
        return rc;
    cJSON_AddItemToObject(c->out, "TableDescription", describe(c, &t, "ACTIVE"));
    return 0;
}

static int op_describe_table(struct call *c)
{
    struct tbl t;
    int rc = need_table(c, NULL, &t);
    if (rc == 0)
        cJSON_AddItemToObject(c->out, "Table", describe(c, &t, "ACTIVE"));
    return rc;
}

static int op_delete_table(struct call *c)
{
    struct tbl t;
    int rc = need_table(c, NULL, &t);
    if (rc < 0)
        return rc;
    cJSON_AddItemToObject(c->out, "TableDescription", describe(c, &t, "DELETING"));
    sqlite3_stmt *a = prep(c, "DELETE FROM items WHERE tbl = ?");
    sqlite3_stmt *b = prep(c, "DELETE FROM tables WHERE name = ?");
    if (a && b) {
        sqlite3_bind_text(a, 1, t.name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(b, 1, t.name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(a) != SQLITE_DONE || sqlite3_step(b) != SQLITE_DONE)
            rc = db_fail(c);
    } else {
        rc = CM_EIO;
    }
    unprep(c, a);
    unprep(c, b);
    return rc;
}

static int op_list_tables(struct call *c)
{
    int64_t limit = cm_json_int(c->in, "Limit", 100);
    const char *start = opt_str(c, "ExclusiveStartTableName");
    if (limit < 1 || limit > 100)
        return VFAIL(c,
                     "1 validation error detected: Value '%lld' at 'limit' failed to satisfy "
                     "constraint: Member must have value less than or equal to 100",
                     (long long)limit);
    sqlite3_stmt *st = prep(c, "SELECT name FROM tables WHERE name > ? ORDER BY name LIMIT ?");
    if (!st)
        return CM_EIO;
    sqlite3_bind_text(st, 1, start ? start : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, limit + 1);
    cJSON *names = cJSON_AddArrayToObject(c->out, "TableNames");
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n++ == limit) {
            cJSON *last = cJSON_GetArrayItem(names, (int)limit - 1);
            cJSON_AddStringToObject(c->out, "LastEvaluatedTableName", last->valuestring);
            rc = SQLITE_DONE;
            break;
        }
        cJSON_AddItemToArray(names, cJSON_CreateString(col_text(st, 0)));
    }
    unprep(c, st);
    return rc == SQLITE_DONE ? 0 : db_fail(c);
}

/* Recomputes the expires column of every item of t (TTL turned on or off). */
static int ttl_recompute(struct call *c, const struct tbl *t)
{
    sqlite3_stmt *sel = prep(c, "SELECT hk, sk, item FROM items WHERE tbl = ?");
    sqlite3_stmt *upd = prep(c, "UPDATE items SET expires = ? WHERE tbl = ? AND hk = ? AND sk = ?");
    int rc = 0;
    if (!sel || !upd) {
        rc = CM_EIO;
        goto out;
    }
    sqlite3_bind_text(sel, 1, t->name, -1, SQLITE_TRANSIENT);
    while (rc == 0 && sqlite3_step(sel) == SQLITE_ROW) {
        cJSON *item = cJSON_Parse(col_text(sel, 2));
        int64_t exp;
        if (item && item_expires(t, item, &exp))
            sqlite3_bind_int64(upd, 1, exp);
        else
            sqlite3_bind_null(upd, 1);
        cJSON_Delete(item);
        sqlite3_bind_text(upd, 2, t->name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_value(upd, 3, sqlite3_column_value(sel, 0));
        sqlite3_bind_value(upd, 4, sqlite3_column_value(sel, 1));
        if (sqlite3_step(upd) != SQLITE_DONE)
            rc = db_fail(c);
        sqlite3_reset(upd);
    }
out:
    unprep(c, sel);
    unprep(c, upd);
    return rc;
}

static int op_update_ttl(struct call *c)
{
    struct tbl t;
    int rc = need_table(c, NULL, &t);
    if (rc < 0)
        return rc;
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(c->in, "TimeToLiveSpecification");
    const char *attr = cm_json_str(spec, "AttributeName", NULL);
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(spec, "Enabled");
    if (!spec || !attr || !attr[0] || !cJSON_IsBool(en))
        return VFAIL(c, "1 validation error detected: Value null at 'timeToLiveSpecification' "
                        "failed to satisfy constraint: Member must not be null");
    int on = cJSON_IsTrue(en);
    if (on && t.ttl_on)
        return VFAIL(c, "TimeToLive is already enabled");
    if (!on && !t.ttl_on)
        return VFAIL(c, "TimeToLive is already disabled");
    if (!on && strcmp(attr, t.ttl_attr) != 0)
        return VFAIL(c,
                     "TimeToLive is active on a different AttributeName: current "
                     "AttributeName is %s",
                     t.ttl_attr);
    t.ttl_on = on;
    cm_strlcpy(t.ttl_attr, attr, sizeof(t.ttl_attr));
    sqlite3_stmt *st = prep(c, "UPDATE tables SET ttl_attr = ?, ttl_on = ? WHERE name = ?");
    if (!st)
        return CM_EIO;
    sqlite3_bind_text(st, 1, t.ttl_attr, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 2, t.ttl_on);
    sqlite3_bind_text(st, 3, t.name, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(c);
    unprep(c, st);
    if (rc == 0)
        rc = ttl_recompute(c, &t);
    if (rc == 0) {
        cJSON *o = cJSON_AddObjectToObject(c->out, "TimeToLiveSpecification");
        cJSON_AddBoolToObject(o, "Enabled", on);
        cJSON_AddStringToObject(o, "AttributeName", attr);
    }
    return rc;
}

static int op_describe_ttl(struct call *c)
{
    struct tbl t;
    int rc = need_table(c, NULL, &t);
    if (rc < 0)
        return rc;
    cJSON *o = cJSON_AddObjectToObject(c->out, "TimeToLiveDescription");
    cJSON_AddStringToObject(o, "TimeToLiveStatus", t.ttl_on ? "ENABLED" : "DISABLED");
    if (t.ttl_on)
        cJSON_AddStringToObject(o, "AttributeName", t.ttl_attr);
    return 0;
}

/* ---- dispatch ----------------------------------------------------------------------------- */

struct op {
    const char *name;
    int (*fn)(struct call *c);
    int writes;
};

static const struct op OPS[] = {
    {"CreateTable", op_create_table, 1},
    {"DescribeTable", op_describe_table, 0},
    {"ListTables", op_list_tables, 0},
    {"DeleteTable", op_delete_table, 1},
    {"PutItem", op_put_item, 1},
    {"GetItem", op_get_item, 0},
    {"UpdateItem", op_update_item, 1},
    {"DeleteItem", op_delete_item, 1},
    {"Query", op_query, 0},
    {"Scan", op_scan, 0},
    {"BatchWriteItem", op_batch_write, 1},
    {"BatchGetItem", op_batch_get, 0},
    {"UpdateTimeToLive", op_update_ttl, 1},
    {"DescribeTimeToLive", op_describe_ttl, 0},
    {NULL, NULL, 0},
};

/* {"__type":..., "message":...[, "Item":{...}]}; item is borrowed. */
static void error_body(struct cm_buf *out, const char *type, const char *msg, const cJSON *item)
{
    cm_buf_puts(out, "{\"__type\":");
    cm_json_append_string(out, type, strlen(type));
    cm_buf_puts(out, ",\"message\":");
    cm_json_append_string(out, msg, strlen(msg));
    if (item) {
        cm_buf_puts(out, ",\"Item\":");
        cm_json_append(out, item);
    }
    cm_buf_putc(out, '}');
}

int sd_ddb_call(struct sd_ddb *db, const char *op, const char *body, size_t len, int64_t now_ms,
                struct cm_buf *out)
{
    struct call c;
    const struct op *o = OPS;
    memset(&c, 0, sizeof(c));
    c.db = db;
    c.now_ms = now_ms;
    c.status = 200;
    while (o->name && strcmp(o->name, op) != 0)
        o++;
    if (!o->name) {
        error_body(out, "com.amazon.coral.service#UnknownOperationException", "", NULL);
        return 400;
    }
    c.in = len ? cm_json_parse(body, len) : cJSON_CreateObject();
    if (!cJSON_IsObject(c.in)) {
        cJSON_Delete(c.in);
        error_body(out, "com.amazon.coral.service#SerializationException",
                   "The request body is not a JSON object", NULL);
        return 400;
    }
    c.out = cJSON_CreateObject();
    int rc = exec_cached(&c, o->writes ? "BEGIN IMMEDIATE" : "BEGIN");
    if (rc != SQLITE_OK) {
        db_fail(&c);
    } else {
        rc = o->fn(&c);
        if (rc < 0 || c.etype[0])
            exec_cached(&c, "ROLLBACK");
        else if (exec_cached(&c, "COMMIT") != SQLITE_OK) {
            db_fail(&c);
            exec_cached(&c, "ROLLBACK");
        }
    }
    if (c.etype[0]) {
        error_body(out, c.etype, c.msg, c.err_item);
    } else if (cm_json_append(out, c.out) < 0) {
        cm_buf_reset(out);
        error_body(out, DDB_VALIDATION, "Response size exceeded", NULL);
        c.status = 400;
    }
    cJSON_Delete(c.in);
    cJSON_Delete(c.out);
    cJSON_Delete(c.err_item);
    return c.status;
}

void sd_ddb_handle(struct sd_ddb *db, const struct sd_req *req, struct sd_resp *resp)
{
    size_t tn = 0;
    const char *target = sd_req_header(req, "X-Amz-Target", &tn);
    char op[64] = "";
    size_t pl = strlen(DDB_TARGET_PREFIX);
    if (target && tn > pl && tn - pl < sizeof(op) && strncmp(target, DDB_TARGET_PREFIX, pl) == 0) {
        memcpy(op, target + pl, tn - pl);
        op[tn - pl] = '\0';
    }
    int64_t now_ms = req->recv_wall_ns / 1000000;
    resp->status = sd_ddb_call(db, op, req->body, req->body_len, now_ms, &resp->body);
    cm_strlcpy(resp->content_type, DDB_CT, sizeof(resp->content_type));
    char rid[CM_CORR_ID_LEN + 1], crc[16];
    cm_corr_new_id(now_ms, rid);
    sd_resp_header(resp, "x-amzn-RequestId", rid);
    snprintf(
        crc, sizeof(crc), "%lu",
        crc32(0L, (const Bytef *)(resp->body.data ? resp->body.data : ""), (uInt)resp->body.len));
    sd_resp_header(resp, "x-amz-crc32", crc);
}

int sd_ddb_tick(struct sd_ddb *db, int64_t now_ms, int max_items)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->db,
                           "DELETE FROM items WHERE (tbl, hk, sk) IN (SELECT tbl, hk, sk FROM "
                           "items WHERE expires <= ?1 AND expires > ?1 - ?3 LIMIT ?2)",
                           -1, &st, NULL) != SQLITE_OK)
        return CM_EIO;
    sqlite3_bind_int64(st, 1, now_ms / 1000);
    sqlite3_bind_int(st, 2, max_items);
    sqlite3_bind_int64(st, 3, TTL_MAX_AGE_S);
    int rc = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(db->db) : CM_EIO;
    sqlite3_finalize(st);
    return rc;
}

int sd_ddb_declare_table(struct sd_ddb *db, const char *name, const char *hash_name,
                         const char *hash_type, const char *range_name, const char *range_type,
                         const char *ttl_attr, int64_t now_ms, char *err, size_t err_size)
{
    struct call c;
    struct tbl t, old;
    memset(&c, 0, sizeof(c));
    memset(&t, 0, sizeof(t));
    c.db = db;
    c.now_ms = now_ms;
    if (!valid_table_name(name) || !hash_name || !hash_name[0] || !valid_key_type(hash_type) ||
        (range_name && range_name[0] && !valid_key_type(range_type))) {
        snprintf(err, err_size, "table %s: bad name or key type (types are S, N or B)", name);
        return CM_EINVAL;
    }
    cm_strlcpy(t.name, name, sizeof(t.name));
    cm_strlcpy(t.hash, hash_name, sizeof(t.hash));
    cm_strlcpy(t.htype, hash_type, sizeof(t.htype));
    if (range_name && range_name[0]) {
        cm_strlcpy(t.range, range_name, sizeof(t.range));
        cm_strlcpy(t.rtype, range_type, sizeof(t.rtype));
    }
    cm_strlcpy(t.billing, "PAY_PER_REQUEST", sizeof(t.billing));
    if (ttl_attr && ttl_attr[0]) {
        cm_strlcpy(t.ttl_attr, ttl_attr, sizeof(t.ttl_attr));
        t.ttl_on = 1;
    }
    int rc = table_get(&c, name, &old);
    if (rc == 1) {
        if (strcmp(old.hash, t.hash) || strcmp(old.htype, t.htype) || strcmp(old.range, t.range) ||
            strcmp(old.rtype, t.rtype)) {
            snprintf(err, err_size, "table %s exists in the data directory with another key schema",
                     name);
            return CM_ESTATE;
        }
        return 0;
    }
    if (rc == 0)
        rc = table_insert(&c, &t);
    if (rc < 0)
        snprintf(err, err_size, "table %s: %s", name, c.msg[0] ? c.msg : "storage error");
    return rc < 0 ? CM_EIO : 0;
}
