/* ddb_bench.c: CPU cost per DynamoDB operation in stackd's store, without
 * HTTP: PutItem (conditional), GetItem, UpdateItem (counter), Query (20
 * items of one partition) against an in-memory database and a WAL file under
 * a directory. Usage: ddb_bench [DIR] [N]; prints one line per operation. */
#include "sd_ddb.h"

#include "cm/buf.h"
#include "cm/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Request bodies: partition "c<i/20>", sort key i%20. */
#define ITEM                                                                                       \
    "\"status\":{\"S\":\"PENDING\"},\"total\":{\"N\":\"129.99\"},\"lines\":{\"L\":[{\"M\":"        \
    "{\"sku\":{\"S\":\"A-1\"},\"qty\":{\"N\":\"2\"}}}]}"

static void mk_put(struct cm_buf *b, int i)
{
    cm_buf_printf(
        b,
        "{\"TableName\":\"orders\",\"Item\":{\"pk\":{\"S\":\"c%d\"},\"sk\":{\"N\":\"%d\"}," ITEM
        "},\"ConditionExpression\":\"attribute_not_exists(pk)\"}",
        i / 20, i % 20);
}

static void mk_get(struct cm_buf *b, int i)
{
    cm_buf_printf(
        b,
        "{\"TableName\":\"orders\",\"Key\":{\"pk\":{\"S\":\"c%d\"},\"sk\":{\"N\":\"%d\"}},"
        "\"ConsistentRead\":true}",
        i / 20, i % 20);
}

static void mk_update(struct cm_buf *b, int i)
{
    cm_buf_printf(
        b,
        "{\"TableName\":\"orders\",\"Key\":{\"pk\":{\"S\":\"c%d\"},\"sk\":{\"N\":\"%d\"}},"
        "\"UpdateExpression\":\"SET #s = :s ADD n :one\",\"ConditionExpression\":\"#s = :p\","
        "\"ExpressionAttributeNames\":{\"#s\":\"status\"},\"ExpressionAttributeValues\":{"
        "\":s\":{\"S\":\"PENDING\"},\":p\":{\"S\":\"PENDING\"},\":one\":{\"N\":\"1\"}}}",
        i / 20, i % 20);
}

static void mk_query(struct cm_buf *b, int i)
{
    cm_buf_printf(b,
                  "{\"TableName\":\"orders\",\"KeyConditionExpression\":\"pk = :p AND sk >= :z\","
                  "\"ExpressionAttributeValues\":{\":p\":{\"S\":\"c%d\"},\":z\":{\"N\":\"0\"}}}",
                  i);
}

/* Mean wall time per call in microseconds. */
static double run(struct sd_ddb *db, const char *op, void (*mk)(struct cm_buf *, int), int n)
{
    struct cm_buf out, body;
    cm_buf_init(&out, 0);
    cm_buf_init(&body, 0);
    int64_t t0 = cm_clock_mono_ns();
    for (int i = 0; i < n; i++) {
        cm_buf_reset(&body);
        mk(&body, i);
        cm_buf_reset(&out);
        if (sd_ddb_call(db, op, body.data, body.len, 1704067200000LL, &out) != 200) {
            fprintf(stderr, "%s failed: %s\n", op, out.data);
            exit(1);
        }
    }
    double us = (double)(cm_clock_mono_ns() - t0) / 1e3 / n;
    cm_buf_deinit(&out);
    cm_buf_deinit(&body);
    return us;
}

static void bench(const char *label, const char *path, int n)
{
    struct sd_ddb *db;
    char err[256];
    if (sd_ddb_open(path, "us-east-1", "000000000000", &db, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    struct cm_buf o;
    cm_buf_init(&o, 0);
    const char *ct =
        "{\"TableName\":\"orders\",\"AttributeDefinitions\":[{\"AttributeName\":\"pk\","
        "\"AttributeType\":\"S\"},{\"AttributeName\":\"sk\",\"AttributeType\":\"N\"}],"
        "\"KeySchema\":[{\"AttributeName\":\"pk\",\"KeyType\":\"HASH\"},{\"AttributeName\":"
        "\"sk\",\"KeyType\":\"RANGE\"}],\"BillingMode\":\"PAY_PER_REQUEST\"}";
    sd_ddb_call(db, "CreateTable", ct, strlen(ct), 1704067200000LL, &o);
    cm_buf_deinit(&o);
    double p = run(db, "PutItem", mk_put, n);
    double g = run(db, "GetItem", mk_get, n);
    double u = run(db, "UpdateItem", mk_update, n);
    double q = run(db, "Query", mk_query, n / 20);
    printf("%-8s PutItem %.1f us  GetItem %.1f us  UpdateItem %.1f us  Query(20 items) %.1f us  "
           "(n=%d)\n",
           label, p, g, u, q, n);
    sd_ddb_free(db);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    int n = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 20000;
    char path[4096];
    snprintf(path, sizeof(path), "%s/ddb_bench.%d.sqlite", dir, (int)getpid());
    bench("memory", NULL, n);
    bench("wal-file", path, n);
    char side[4200];
    unlink(path);
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
    return 0;
}
