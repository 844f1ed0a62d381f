/* conn.c: the WebSocket connections table shared by ws-connect,
 * ws-disconnect, ws-default and process-orders (layout in orders.h). Items
 * carry `expiration` so that the table's TTL cleans up after connections
 * whose $disconnect never ran (delivery is best effort). */
#include "orders.h"

#include "cm/err.h"
#include "rt.h"

#include <stdio.h>
#include <string.h>

static int put_item(struct ord_aws *a, const char *table, cJSON *item)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "TableName", table);
    cJSON_AddItemToObject(b, "Item", item);
    struct ord_resp r;
    int rc = ord_ddb(a, "PutItem", b, &r);
    if (rc)
        rt_err("PutItem %s failed: %s %s", table, cm_strerror(rc), r.err.code);
    ord_resp_deinit(&r);
    cJSON_Delete(b);
    return rc;
}

static cJSON *key_item(const char *pk, const char *sk, const char *conn_id, int64_t now_ms)
{
    cJSON *item = cJSON_CreateObject();
    cJSON_AddItemToObject(item, "pk", ord_av_s(pk));
    cJSON_AddItemToObject(item, "sk", ord_av_s(sk));
    cJSON_AddItemToObject(item, "connectionId", ord_av_s(conn_id));
    cJSON_AddItemToObject(item, "expiration", ord_av_n_i64(now_ms / 1000 + ORD_CONN_TTL_S));
    return item;
}

int ord_conn_put(struct ord_aws *a, const char *table, const char *conn_id, const char *customer,
                 int64_t now_ms)
{
    char pk[256];
    snprintf(pk, sizeof(pk), "conn#%s", conn_id);
    cJSON *item = key_item(pk, "meta", conn_id, now_ms);
    cJSON_AddItemToObject(item, "connectedAt", ord_av_n_i64(now_ms));
    if (customer)
        cJSON_AddItemToObject(item, "customerName", ord_av_s(customer));
    return put_item(a, table, item);
}

int ord_conn_subscribe(struct ord_aws *a, const char *table, const char *key, const char *conn_id,
                       int64_t now_ms)
{
    char conn[256], rev[1100];
    snprintf(conn, sizeof(conn), "conn#%s", conn_id);
    snprintf(rev, sizeof(rev), "sub#%s", key);
    int rc = put_item(a, table, key_item(key, conn, conn_id, now_ms));
    return rc ? rc : put_item(a, table, key_item(conn, rev, conn_id, now_ms));
}

static int delete_item(struct ord_aws *a, const char *table, const char *pk, const char *sk)
{
    cJSON *b = cJSON_CreateObject(), *key = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "TableName", table);
    cJSON_AddItemToObject(key, "pk", ord_av_s(pk));
    cJSON_AddItemToObject(key, "sk", ord_av_s(sk));
    cJSON_AddItemToObject(b, "Key", key);
    struct ord_resp r;
    int rc = ord_ddb(a, "DeleteItem", b, &r);
    if (rc)
        rt_warn("DeleteItem %s/%s failed: %s %s", pk, sk, cm_strerror(rc), r.err.code);
    ord_resp_deinit(&r);
    cJSON_Delete(b);
    return rc;
}

int ord_conn_delete_all(struct ord_aws *a, const char *table, const char *conn_id)
{
    char pk[256];
    snprintf(pk, sizeof(pk), "conn#%s", conn_id);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "TableName", table);
    cJSON_AddStringToObject(b, "KeyConditionExpression", "pk = :pk");
    cJSON *vals = cJSON_AddObjectToObject(b, "ExpressionAttributeValues");
    cJSON_AddItemToObject(vals, ":pk", ord_av_s(pk));
    cJSON_AddNumberToObject(b, "Limit", 500);
    cJSON_AddBoolToObject(b, "ConsistentRead", 1);
    struct ord_resp r;
    int rc = ord_ddb(a, "Query", b, &r), n = 0;
    const cJSON *it, *items = rc ? NULL : cJSON_GetObjectItemCaseSensitive(r.json, "Items");
    cJSON_ArrayForEach(it, items)
    {
        const char *sk = ord_av_get_s(it, "sk");
        if (!sk)
            continue;
        if (strncmp(sk, "sub#", 4) == 0 && delete_item(a, table, sk + 4, pk) == 0)
            n++;
        if (delete_item(a, table, pk, sk) == 0)
            n++;
    }
    if (rc)
        rt_err("Query %s failed: %s %s", pk, cm_strerror(rc), r.err.code);
    ord_resp_deinit(&r);
    cJSON_Delete(b);
    return rc ? rc : n;
}
