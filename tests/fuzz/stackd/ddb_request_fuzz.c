/* ddb_request_fuzz.c: whole DynamoDB requests against an in-memory store:
 * the first byte picks the operation, the rest is the JSON body. The store
 * persists across inputs; every answer is 200 or 400 with a JSON body. */
#include "sd_ddb.h"

#include "cm/buf.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static struct sd_ddb *db;
static const char *const ops[] = {"CreateTable",
                                  "DescribeTable",
                                  "ListTables",
                                  "DeleteTable",
                                  "PutItem",
                                  "GetItem",
                                  "UpdateItem",
                                  "DeleteItem",
                                  "Query",
                                  "Scan",
                                  "BatchWriteItem",
                                  "BatchGetItem",
                                  "UpdateTimeToLive",
                                  "DescribeTimeToLive",
                                  "Nope",
                                  "PutItem"};

static void run(const char *op, const char *body, size_t n)
{
    struct cm_buf out;
    cm_buf_init(&out, 0);
    int st = sd_ddb_call(db, op, body, n, 1704067200000LL, &out);
    if (st != 200 && st != 400)
        abort();
    cJSON *j = cJSON_ParseWithLength(out.data ? out.data : "", out.len);
    if (!j)
        abort();
    cJSON_Delete(j);
    cm_buf_deinit(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!db) {
        char err[256];
        if (sd_ddb_open(NULL, "us-east-1", "000000000000", &db, err, sizeof(err)) < 0)
            abort();
        const char *t =
            "{\"TableName\":\"tbl\",\"AttributeDefinitions\":[{\"AttributeName\":\"pk\","
            "\"AttributeType\":\"S\"},{\"AttributeName\":\"sk\",\"AttributeType\":\"N\"}],"
            "\"KeySchema\":[{\"AttributeName\":\"pk\",\"KeyType\":\"HASH\"},{"
            "\"AttributeName\":\"sk\",\"KeyType\":\"RANGE\"}],\"BillingMode\":"
            "\"PAY_PER_REQUEST\"}";
        run("CreateTable", t, strlen(t));
    }
    if (size == 0)
        return 0;
    run(ops[data[0] & 15], (const char *)data + 1, size - 1);
    sd_ddb_tick(db, 1704067200000LL, 10);
    return 0;
}
