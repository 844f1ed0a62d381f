/* sd_ddb.h: stackd's DynamoDB: tables and items in SQLite and the
 * awsJson1_0 handler (X-Amz-Target DynamoDB_20120810.<Op>) for CreateTable,
 * DescribeTable, ListTables, DeleteTable, PutItem, GetItem, UpdateItem,
 * DeleteItem, Query, Scan, BatchWriteItem, BatchGetItem, UpdateTimeToLive and
 * DescribeTimeToLive, with condition, update, projection, key-condition and
 * filter expressions (bare attribute names that are DynamoDB reserved words
 * are rejected as DynamoDB does), ReturnValues, ReturnValuesOnConditionCheck-
 * Failure, ReturnConsumedCapacity (units as DynamoDB bills them). Secondary
 * indexes, streams, transactions, PartiQL and the legacy Expected/
 * AttributeUpdates/KeyConditions/AttributesToGet parameters are not emulated
 * (ValidationException names them). Scan's Segment/TotalSegments are
 * accepted; segment 0 holds every item.
 *
 * Storage: one SQLite database (a file in WAL mode under --data-dir, or in
 * memory), table `items(tbl, hk, sk, item, expires)` keyed by (tbl, hk, sk):
 * hk/sk are byte encodings of the key attributes whose memcmp order is
 * DynamoDB's order (S: UTF-8 bytes, B: the bytes, N: sd_ddb_dec_sortkey), so
 * Query is an index range scan; item is the item's canonical JSON. Every
 * request is one SQLite transaction, and stackd is single-threaded, so
 * conditional writes are atomic. WAL with synchronous=NORMAL: a killed stackd
 * loses nothing committed; a power cut may lose the last transactions.
 *
 * TTL: when enabled on a table, items whose TTL attribute is a number of
 * epoch seconds <= now are invisible to reads at once and deleted by
 * sd_ddb_tick (bounded batches), as DynamoDB's background sweeper does later.
 *
 * Threading: none; the store belongs to stackd's single event loop. */
#ifndef SD_DDB_H
#define SD_DDB_H

#include "sd_req.h"

#include <stddef.h>
#include <stdint.h>

struct sd_ddb;
struct cm_buf;

/* Opens the store: path "<dir>/dynamodb.sqlite" style file, or NULL for an
 * in-memory database. region/account_id go into ARNs (copied). Returns 0 or
 * CM_EIO with a one-line reason in err. Free with sd_ddb_free. */
int sd_ddb_open(const char *path, const char *region, const char *account_id, struct sd_ddb **out,
                char *err, size_t err_size);
void sd_ddb_free(struct sd_ddb *db);

/* Declares a table from the stack file: created when missing (TTL attribute
 * enabled when ttl_attr is non-NULL), left alone when it exists with the same
 * key schema. hash_type/range_type are "S", "N" or "B"; range_name may be
 * NULL. 0, CM_EINVAL (bad name or type; err says which), CM_ESTATE (exists
 * with another key schema). */
int sd_ddb_declare_table(struct sd_ddb *db, const char *name, const char *hash_name,
                         const char *hash_type, const char *range_name, const char *range_type,
                         const char *ttl_attr, int64_t now_ms, char *err, size_t err_size);

/* The DynamoDB_20120810 handler. resp was initialised by the caller
 * (sd_resp_init); the handler sets status (200, 400, or 500 on a storage
 * failure), content type application/x-amz-json-1.0, x-amzn-RequestId,
 * x-amz-crc32 (CRC-32 of the body, decimal) and the body. Time comes from
 * req->recv_wall_ns. */
void sd_ddb_handle(struct sd_ddb *db, const struct sd_req *req, struct sd_resp *resp);

/* The same without HTTP: runs operation op ("PutItem") on the JSON body
 * (len bytes). The response body is appended to out; returns the HTTP status. */
int sd_ddb_call(struct sd_ddb *db, const char *op, const char *body, size_t len, int64_t now_ms,
                struct cm_buf *out);

/* Deletes at most max_items items whose TTL has passed (now_ms wall clock).
 * Returns the number deleted (>= 0) or CM_EIO. Call from the server tick. */
int sd_ddb_tick(struct sd_ddb *db, int64_t now_ms, int max_items);

#endif
