/* sd_ddb_test.c: stackd's DynamoDB operations against the SQLite store,
 * sans-IO (sd_ddb_call and sd_ddb_handle with a struct sd_req): tables, item
 * writes with conditions and ReturnValues, Query ordering/paging/filters,
 * batches, TTL (lazy and swept), error shapes, x-amz-crc32, durability of
 * a file-backed store across reopen. */
#include "harness.h"
#include "sd_ddb.h"
#include "sd_stack.h"

#include "cm/buf.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define NOW_MS 1704067200000LL /* 2024-01-01 */

static struct sd_ddb *db;
static int last_status;

/* Runs op and returns the parsed response (caller frees). */
static cJSON *call(const char *op, const char *body)
{
    struct cm_buf out;
    cm_buf_init(&out, 0);
    last_status = sd_ddb_call(db, op, body, strlen(body), NOW_MS, &out);
    cJSON *j = cJSON_Parse(out.data ? out.data : "");
    if (!j)
        fprintf(stderr, "  unparsable response to %s: %s\n", op, out.data ? out.data : "");
    cm_buf_deinit(&out);
    return j;
}

static void ok(const char *op, const char *body)
{
    cJSON *j = call(op, body);
    CHECK_MSG(last_status == 200, "%s %s -> %d %s", op, body, last_status,
              cJSON_GetObjectItem(j, "message") ? cJSON_GetObjectItem(j, "message")->valuestring
                                                : "");
    cJSON_Delete(j);
}

/* Expects an error of type (suffix of __type) whose message contains msg. */
static void err(const char *op, const char *body, const char *type, const char *msg)
{
    cJSON *j = call(op, body);
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItem(j, "__type"));
    const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(j, "message"));
    CHECK_MSG(last_status == 400 && t && strstr(t, type) && m && strstr(m, msg),
              "%s %s -> %d %s: %s (want %s: %s)", op, body, last_status, t ? t : "-", m ? m : "-",
              type, msg);
    cJSON_Delete(j);
}

static char *str_at(cJSON *j, const char *path)
{
    /* path like "Item.n.N" */
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    cJSON *cur = j;
    for (char *p = buf, *dot; cur && p; p = dot ? dot + 1 : NULL) {
        dot = strchr(p, '.');
        if (dot)
            *dot = '\0';
        cur = cJSON_GetObjectItem(cur, p);
    }
    return cJSON_GetStringValue(cur);
}

static void test_tables(void)
{
    ok("CreateTable",
       "{\"TableName\":\"orders\",\"AttributeDefinitions\":[{\"AttributeName\":\"pk\","
       "\"AttributeType\":\"S\"},{\"AttributeName\":\"sk\",\"AttributeType\":\"N\"}],"
       "\"KeySchema\":[{\"AttributeName\":\"pk\",\"KeyType\":\"HASH\"},{\"AttributeName\":"
       "\"sk\",\"KeyType\":\"RANGE\"}],\"BillingMode\":\"PAY_PER_REQUEST\"}");
    err("CreateTable",
        "{\"TableName\":\"orders\",\"AttributeDefinitions\":[{\"AttributeName\":\"pk\","
        "\"AttributeType\":\"S\"}],\"KeySchema\":[{\"AttributeName\":\"pk\",\"KeyType\":"
        "\"HASH\"}],\"BillingMode\":\"PAY_PER_REQUEST\"}",
        "#ResourceInUseException", "Table already exists: orders");
    ok("CreateTable",
       "{\"TableName\":\"kvs\",\"AttributeDefinitions\":[{\"AttributeName\":\"id\","
       "\"AttributeType\":\"B\"}],\"KeySchema\":[{\"AttributeName\":\"id\",\"KeyType\":"
       "\"HASH\"}],\"ProvisionedThroughput\":{\"ReadCapacityUnits\":5,"
       "\"WriteCapacityUnits\":5}}");
    err("CreateTable",
        "{\"TableName\":\"x1x\",\"AttributeDefinitions\":[{\"AttributeName\":\"pk\","
        "\"AttributeType\":\"S\"}],\"KeySchema\":[{\"AttributeName\":\"pk\",\"KeyType\":"
        "\"HASH\"}]}",
        "ValidationException", "ReadCapacityUnits and WriteCapacityUnits must both be specified");
    err("CreateTable",
        "{\"TableName\":\"x1x\",\"AttributeDefinitions\":[{\"AttributeName\":\"a\","
        "\"AttributeType\":\"S\"}],\"KeySchema\":[{\"AttributeName\":\"pk\",\"KeyType\":"
        "\"HASH\"}],\"BillingMode\":\"PAY_PER_REQUEST\"}",
        "ValidationException", "Some index key attributes are not defined in AttributeDefinitions");
    err("CreateTable", "{\"TableName\":\"a\"}", "ValidationException", "tableName");
    cJSON *j = call("DescribeTable", "{\"TableName\":\"orders\"}");
    CHECK_STR(str_at(j, "Table.TableStatus"), "ACTIVE");
    CHECK_STR(str_at(j, "Table.TableArn"), "arn:aws:dynamodb:us-east-1:000000000000:table/orders");
    CHECK_STR(str_at(j, "Table.BillingModeSummary.BillingMode"), "PAY_PER_REQUEST");
    cJSON_Delete(j);
    err("DescribeTable", "{\"TableName\":\"nope\"}",
        "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
        "Requested resource not found");
    j = call("ListTables", "{\"Limit\":1}");
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "TableNames")), 1);
    CHECK_STR(str_at(j, "LastEvaluatedTableName"), "kvs");
    cJSON_Delete(j);
    j = call("ListTables", "{\"ExclusiveStartTableName\":\"kvs\"}");
    CHECK_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "TableNames"), 0)->valuestring, "orders");
    CHECK(cJSON_GetObjectItem(j, "LastEvaluatedTableName") == NULL);
    cJSON_Delete(j);
    err("Frobnicate", "{}", "UnknownOperationException", "");
    err("GetItem", "not json", "SerializationException", "");
}

static void put(const char *sk, const char *extra)
{
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"TableName\":\"orders\",\"Item\":{\"pk\":{\"S\":\"u\"},\"sk\":{\"N\":\"%s\"}%s}}",
             sk, extra);
    ok("PutItem", body);
}

static void test_items(void)
{
    ok("PutItem", "{\"TableName\":\"orders\",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1.0\"},"
                  "\"n\":{\"N\":\"1\"}},\"ConditionExpression\":\"attribute_not_exists(pk)\"}");
    err("PutItem",
        "{\"TableName\":\"orders\",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},"
        "\"ConditionExpression\":\"attribute_not_exists(pk)\"}",
        "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
        "The conditional request failed");
    {
        cJSON *f =
            call("PutItem", "{\"TableName\":\"orders\",\"Item\":{\"pk\":{\"S\":\"a\"},"
                            "\"sk\":{\"N\":\"1\"}},\"ConditionExpression\":"
                            "\"attribute_not_exists(pk)\",\"ReturnValuesOnConditionCheckFailure\":"
                            "\"ALL_OLD\"}");
        CHECK(last_status == 400 && strstr(str_at(f, "__type"), "ConditionalCheckFailed"));
        CHECK_STR(str_at(f, "Item.n.N"), "1"); /* the item that failed the condition */
        cJSON_Delete(f);
    }
    cJSON *j =
        call("PutItem", "{\"TableName\":\"orders\",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":"
                        "\"1\"},\"n\":{\"N\":\"2\"}},\"ReturnValues\":\"ALL_OLD\","
                        "\"ReturnConsumedCapacity\":\"TOTAL\"}");
    CHECK_STR(str_at(j, "Attributes.n.N"), "1");
    CHECK_STR(str_at(j, "ConsumedCapacity.TableName"), "orders");
    cJSON_Delete(j);
    err("PutItem",
        "{\"TableName\":\"orders\",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},"
        "\"ReturnValues\":\"ALL_NEW\"}",
        "ValidationException", "Return values set to invalid value");
    err("PutItem", "{\"TableName\":\"orders\",\"Item\":{\"pk\":{\"S\":\"a\"}}}",
        "ValidationException", "Missing the key sk in the item");
    err("PutItem",
        "{\"TableName\":\"orders\",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"S\":\"1\"}}}",
        "ValidationException", "Type mismatch for key sk expected: N actual: S");
    err("PutItem", "{\"TableName\":\"orders\",\"Item\":{\"pk\":{\"S\":\"\"},\"sk\":{\"N\":\"1\"}}}",
        "ValidationException", "cannot contain an empty string value. Key: pk");
    err("PutItem",
        "{\"TableName\":\"orders\",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"},"
        "\"s\":{\"SS\":[]}}}",
        "com.amazon.coral.validate#ValidationException", "An string set  may not be empty");
    err("PutItem",
        "{\"TableName\":\"orders\",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},"
        "\"ExpressionAttributeValues\":{\":v\":{\"S\":\"x\"}},\"ConditionExpression\":"
        "\"attribute_exists(pk)\"}",
        "ValidationException", "unused in expressions: keys: {:v}");
    err("PutItem",
        "{\"TableName\":\"orders\",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},"
        "\"Expected\":{}}",
        "ValidationException", "legacy parameter Expected");
    err("GetItem", "{\"TableName\":\"orders\",\"Key\":{\"pk\":{\"S\":\"a\"}}}",
        "ValidationException", "The provided key element does not match the schema");
    err("GetItem",
        "{\"TableName\":\"orders\",\"Key\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"},"
        "\"x\":{\"S\":\"1\"}}}",
        "ValidationException", "The provided key element does not match the schema");
    j = call("GetItem",
             "{\"TableName\":\"orders\",\"Key\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}}}");
    CHECK_STR(str_at(j, "Item.n.N"), "2");
    CHECK_STR(str_at(j, "Item.sk.N"), "1");
    cJSON_Delete(j);
    j = call("GetItem",
             "{\"TableName\":\"orders\",\"Key\":{\"pk\":{\"S\":\"zz\"},\"sk\":{\"N\":\"1\"}}}");
    CHECK(last_status == 200 && j && j->child == NULL); /* {} when absent */
    cJSON_Delete(j);

    /* UpdateItem: upsert, ReturnValues of every kind */
    const char *key =
        "\"TableName\":\"orders\",\"Key\":{\"pk\":{\"S\":\"b\"},\"sk\":{\"N\":\"5\"}}";
    char body[1024];
    snprintf(
        body, sizeof(body),
        "{%s,\"UpdateExpression\":\"SET #c = if_not_exists(#c, :z) + :one ADD tags :t\","
        "\"ExpressionAttributeNames\":{\"#c\":\"count\"},\"ExpressionAttributeValues\":{\":z\":"
        "{\"N\":\"0\"},\":one\":{\"N\":\"1\"},\":t\":{\"SS\":[\"x\"]}},\"ReturnValues\":\"ALL_"
        "NEW\"}",
        key);
    j = call("UpdateItem", body);
    CHECK_STR(str_at(j, "Attributes.count.N"), "1");
    CHECK_STR(str_at(j, "Attributes.pk.S"), "b");
    cJSON_Delete(j);
    snprintf(body, sizeof(body),
             "{%s,\"UpdateExpression\":\"SET #c = #c + :one\",\"ExpressionAttributeNames\":{\"#c\":"
             "\"count\"},\"ExpressionAttributeValues\":{\":one\":{\"N\":\"1\"}},\"ReturnValues\":"
             "\"UPDATED_OLD\"}",
             key);
    j = call("UpdateItem", body);
    CHECK_STR(str_at(j, "Attributes.count.N"), "1");
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "Attributes"), "tags") == NULL);
    cJSON_Delete(j);
    snprintf(body, sizeof(body),
             "{%s,\"UpdateExpression\":\"REMOVE tags\",\"ReturnValues\":\"ALL_OLD\"}", key);
    j = call("UpdateItem", body);
    CHECK_STR(str_at(j, "Attributes.count.N"), "2");
    CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "Attributes"), "tags") != NULL);
    cJSON_Delete(j);
    snprintf(
        body, sizeof(body),
        "{%s,\"UpdateExpression\":\"SET v = :v\",\"ConditionExpression\":\"#c > :lim\","
        "\"ExpressionAttributeNames\":{\"#c\":\"count\"},\"ExpressionAttributeValues\":{\":v\":"
        "{\"S\":\"x\"},\":lim\":{\"N\":\"2\"}},\"ReturnValues\":\"UPDATED_NEW\"}",
        key);
    err("UpdateItem", body, "ConditionalCheckFailedException", "The conditional request failed");
    snprintf(body, sizeof(body),
             "{%s,\"UpdateExpression\":\"SET pk = :v\",\"ExpressionAttributeValues\":{\":v\":"
             "{\"S\":\"x\"}}}",
             key);
    err("UpdateItem", body, "ValidationException",
        "Cannot update attribute pk. This attribute is part of the key");
    snprintf(body, sizeof(body),
             "{%s,\"UpdateExpression\":\"SET a = :v +\",\"ExpressionAttributeValues\":{\":v\":"
             "{\"N\":\"1\"}}}",
             key);
    err("UpdateItem", body, "ValidationException",
        "Invalid UpdateExpression: Syntax error; token: \"<EOF>\", near: \"+\"");

    /* DeleteItem with condition and ALL_OLD */
    snprintf(body, sizeof(body), "{%s,\"ConditionExpression\":\"attribute_exists(nope)\"}", key);
    err("DeleteItem", body, "ConditionalCheckFailedException", "conditional request failed");
    snprintf(body, sizeof(body), "{%s,\"ReturnValues\":\"ALL_OLD\"}", key);
    j = call("DeleteItem", body);
    CHECK_STR(str_at(j, "Attributes.count.N"), "2");
    cJSON_Delete(j);
    j = call("DeleteItem", body);
    CHECK(last_status == 200 && cJSON_GetObjectItem(j, "Attributes") == NULL);
    cJSON_Delete(j);

    /* 400 KB limit */
    size_t n = 410 * 1024;
    char *big = malloc(n + 256);
    int k = snprintf(big, 256,
                     "{\"TableName\":\"orders\",\"Item\":{\"pk\":{\"S\":\"big\"},\"sk\":"
                     "{\"N\":\"1\"},\"x\":{\"S\":\"");
    memset(big + k, 'y', n);
    memcpy(big + k + n, "\"}}}", 5);
    err("PutItem", big, "ValidationException", "Item size has exceeded the maximum allowed size");
    free(big);
}

/* sk values of a Query response, comma-separated (static). */
static const char *sks(cJSON *j)
{
    static char out[512];
    size_t k = 0;
    out[0] = '\0';
    cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(j, "Items"))
    {
        const char *s = str_at(it, "sk.N");
        k += (size_t)snprintf(out + k, sizeof(out) - k, "%s%s", k ? "," : "", s ? s : "?");
    }
    return out;
}

static void test_query(void)
{
    static const char *const v[] = {"10", "-2.5", "3", "0", "100", "-100", "2.75", "1e3"};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char extra[64];
        snprintf(extra, sizeof(extra), ",\"i\":{\"N\":\"%zu\"}", i);
        put(v[i], extra);
    }
    const char *pre =
        "{\"TableName\":\"orders\",\"ExpressionAttributeValues\":{\":p\":{\"S\":\"u\"}";
    char body[1024];
    snprintf(body, sizeof(body), "%s},\"KeyConditionExpression\":\"pk = :p\"}", pre);
    cJSON *j = call("Query", body);
    CHECK_STR(sks(j), "-100,-2.5,0,2.75,3,10,100,1000");
    cJSON_Delete(j);
    snprintf(
        body, sizeof(body),
        "%s,\":a\":{\"N\":\"0\"},\":b\":{\"N\":\"10\"}},\"KeyConditionExpression\":\"pk = :p AND "
        "sk BETWEEN :a AND :b\",\"ScanIndexForward\":false}",
        pre);
    j = call("Query", body);
    CHECK_STR(sks(j), "10,3,2.75,0");
    cJSON_Delete(j);
    static const char *const ops[][2] = {{"<", "-100,-2.5"},
                                         {"<=", "-100,-2.5,0"},
                                         {">", "2.75,3,10,100,1000"},
                                         {">=", "0,2.75,3,10,100,1000"},
                                         {"=", "0"}};
    for (int i = 0; i < 5; i++) {
        snprintf(body, sizeof(body),
                 "%s,\":z\":{\"N\":\"0\"}},\"KeyConditionExpression\":\"pk = :p AND sk %s :z\"}",
                 pre, ops[i][0]);
        j = call("Query", body);
        CHECK_MSG(strcmp(sks(j), ops[i][1]) == 0, "sk %s 0: %s", ops[i][0], sks(j));
        cJSON_Delete(j);
    }
    /* Filter counts after Limit; paging with LastEvaluatedKey */
    snprintf(body, sizeof(body),
             "%s,\":i\":{\"N\":\"4\"}},\"KeyConditionExpression\":\"pk = :p\",\"FilterExpression\":"
             "\"i < :i\",\"Limit\":3}",
             pre);
    j = call("Query", body);
    CHECK_STR(sks(j), "-2.5,0");
    CHECK_INT(cJSON_GetObjectItem(j, "ScannedCount")->valueint, 3);
    CHECK_STR(str_at(j, "LastEvaluatedKey.sk.N"), "0");
    cJSON_Delete(j);
    snprintf(body, sizeof(body),
             "%s},\"KeyConditionExpression\":\"pk = :p\",\"Limit\":3,\"ExclusiveStartKey\":{\"pk\":"
             "{\"S\":\"u\"},\"sk\":{\"N\":\"0\"}},\"ProjectionExpression\":\"sk\"}",
             pre);
    j = call("Query", body);
    CHECK_STR(sks(j), "2.75,3,10");
    cJSON_Delete(j);
    snprintf(body, sizeof(body),
             "%s},\"KeyConditionExpression\":\"pk = :p\",\"Limit\":3,\"ExclusiveStartKey\":{\"pk\":"
             "{\"S\":\"u\"},\"sk\":{\"N\":\"10\"}}}",
             pre);
    j = call("Query", body);
    CHECK_STR(sks(j), "100,1000");
    CHECK(cJSON_GetObjectItem(j, "LastEvaluatedKey") == NULL);
    cJSON_Delete(j);
    snprintf(body, sizeof(body), "%s},\"KeyConditionExpression\":\"pk = :p\",\"Select\":\"COUNT\"}",
             pre);
    j = call("Query", body);
    CHECK_INT(cJSON_GetObjectItem(j, "Count")->valueint, 8);
    CHECK(cJSON_GetObjectItem(j, "Items") == NULL);
    cJSON_Delete(j);
    snprintf(
        body, sizeof(body),
        "%s,\":s\":{\"N\":\"1\"}},\"KeyConditionExpression\":\"pk = :p AND begins_with(sk, :s)\"}",
        pre);
    err("Query", body, "ValidationException", "operator or function: begins_with, operand type: N");
    snprintf(body, sizeof(body),
             "%s,\":s\":{\"S\":\"1\"}},\"KeyConditionExpression\":\"pk = :p AND "
             "sk > :s\"}",
             pre);
    err("Query", body, "ValidationException",
        "Condition parameter type does not match schema type");
    snprintf(body, sizeof(body), "%s},\"KeyConditionExpression\":\"x = :p\"}", pre);
    err("Query", body, "ValidationException", "Query condition missed key schema element: pk");
    err("Query", "{\"TableName\":\"orders\"}", "ValidationException",
        "KeyConditionExpression parameter must be specified");
    j = call("Scan", "{\"TableName\":\"orders\",\"Segment\":1,\"TotalSegments\":2}");
    CHECK(last_status == 200 && cJSON_GetObjectItem(j, "Count")->valueint == 0);
    cJSON_Delete(j);
    err("Scan", "{\"TableName\":\"orders\",\"Segment\":2,\"TotalSegments\":2}",
        "ValidationException", "Segment parameter is zero-based");
    err("Query", "{\"TableName\":\"orders\",\"Limit\":0}", "ValidationException", "'limit'");
    j = call("Scan", "{\"TableName\":\"orders\",\"Limit\":4}");
    CHECK_INT(cJSON_GetObjectItem(j, "Count")->valueint, 4);
    CHECK(cJSON_GetObjectItem(j, "LastEvaluatedKey") != NULL);
    cJSON_Delete(j);
}

static void test_batches(void)
{
    char body[8192];
    size_t k = (size_t)snprintf(body, sizeof(body), "{\"RequestItems\":{\"orders\":[");
    for (int i = 0; i < 25; i++)
        k += (size_t)snprintf(
            body + k, sizeof(body) - k,
            "%s{\"PutRequest\":{\"Item\":{\"pk\":{\"S\":\"bw\"},\"sk\":{\"N\":\"%d\"}}}}",
            i ? "," : "", i);
    snprintf(body + k, sizeof(body) - k, "]},\"ReturnConsumedCapacity\":\"TOTAL\"}");
    cJSON *j = call("BatchWriteItem", body);
    CHECK(last_status == 200 && cJSON_IsObject(cJSON_GetObjectItem(j, "UnprocessedItems")));
    CHECK_INT(
        cJSON_GetArrayItem(cJSON_GetObjectItem(j, "ConsumedCapacity"), 0)->child->next->valuedouble,
        25);
    cJSON_Delete(j);
    err("BatchWriteItem",
        "{\"RequestItems\":{\"orders\":[{\"PutRequest\":{\"Item\":{\"pk\":{\"S\":\"d\"},\"sk\":{"
        "\"N\":"
        "\"1\"}}}},{\"DeleteRequest\":{\"Key\":{\"pk\":{\"S\":\"d\"},\"sk\":{\"N\":\"1.0\"}}}}]}}",
        "ValidationException", "Provided list of item keys contains duplicates");
    k = (size_t)snprintf(body, sizeof(body), "{\"RequestItems\":{\"orders\":[");
    for (int i = 0; i < 26; i++)
        k += (size_t)snprintf(
            body + k, sizeof(body) - k,
            "%s{\"DeleteRequest\":{\"Key\":{\"pk\":{\"S\":\"bw\"},\"sk\":{\"N\":\"%d\"}}}}",
            i ? "," : "", i);
    snprintf(body + k, sizeof(body) - k, "]}}");
    err("BatchWriteItem", body, "ValidationException", "Too many items requested");
    ok("BatchWriteItem",
       "{\"RequestItems\":{\"orders\":[{\"DeleteRequest\":{\"Key\":{\"pk\":{\"S\":"
       "\"bw\"},\"sk\":{\"N\":\"0\"}}}}]}}");
    j = call(
        "BatchGetItem",
        "{\"RequestItems\":{\"orders\":{\"Keys\":[{\"pk\":{\"S\":\"bw\"},\"sk\":{\"N\":\"0\"}},"
        "{\"pk\":{\"S\":\"bw\"},\"sk\":{\"N\":\"1\"}},{\"pk\":{\"S\":\"bw\"},\"sk\":{\"N\":\"24\"}}"
        "],"
        "\"ProjectionExpression\":\"sk\"}}}");
    cJSON *arr = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "Responses"), "orders");
    CHECK_INT(cJSON_GetArraySize(arr), 2);
    CHECK(cJSON_IsObject(cJSON_GetObjectItem(j, "UnprocessedKeys")));
    cJSON_Delete(j);
    err("BatchGetItem", "{\"RequestItems\":{\"nope\":{\"Keys\":[{\"pk\":{\"S\":\"a\"}}]}}}",
        "ResourceNotFoundException", "Requested resource not found");
}

static void test_ttl(void)
{
    ok("CreateTable",
       "{\"TableName\":\"sessions\",\"AttributeDefinitions\":[{\"AttributeName\":\"id\","
       "\"AttributeType\":\"S\"}],\"KeySchema\":[{\"AttributeName\":\"id\",\"KeyType\":"
       "\"HASH\"}],\"BillingMode\":\"PAY_PER_REQUEST\"}");
    /* NOW_MS is 1704067200 s: one item expired, one live, one without ttl */
    ok("PutItem", "{\"TableName\":\"sessions\",\"Item\":{\"id\":{\"S\":\"old\"},\"exp\":{\"N\":"
                  "\"1704067100\"}}}");
    ok("PutItem", "{\"TableName\":\"sessions\",\"Item\":{\"id\":{\"S\":\"new\"},\"exp\":{\"N\":"
                  "\"1804067100\"}}}");
    ok("PutItem", "{\"TableName\":\"sessions\",\"Item\":{\"id\":{\"S\":\"none\"}}}");
    /* more than five years in the past: DynamoDB leaves it alone */
    ok("PutItem", "{\"TableName\":\"sessions\",\"Item\":{\"id\":{\"S\":\"ancient\"},\"exp\":{\"N\":"
                  "\"1500000000\"}}}");
    cJSON *j = call("GetItem", "{\"TableName\":\"sessions\",\"Key\":{\"id\":{\"S\":\"old\"}}}");
    CHECK(cJSON_GetObjectItem(j, "Item") != NULL); /* TTL off: kept */
    cJSON_Delete(j);
    j = call("UpdateTimeToLive",
             "{\"TableName\":\"sessions\",\"TimeToLiveSpecification\":{\"Enabled\":"
             "true,\"AttributeName\":\"exp\"}}");
    CHECK(cJSON_IsTrue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "TimeToLiveSpecification"), "Enabled")));
    cJSON_Delete(j);
    err("UpdateTimeToLive",
        "{\"TableName\":\"sessions\",\"TimeToLiveSpecification\":{\"Enabled\":"
        "true,\"AttributeName\":\"exp\"}}",
        "ValidationException", "TimeToLive is already enabled");
    j = call("DescribeTimeToLive", "{\"TableName\":\"sessions\"}");
    CHECK_STR(str_at(j, "TimeToLiveDescription.TimeToLiveStatus"), "ENABLED");
    CHECK_STR(str_at(j, "TimeToLiveDescription.AttributeName"), "exp");
    cJSON_Delete(j);
    j = call("GetItem", "{\"TableName\":\"sessions\",\"Key\":{\"id\":{\"S\":\"old\"}}}");
    CHECK(cJSON_GetObjectItem(j, "Item") == NULL); /* expired: invisible at once */
    cJSON_Delete(j);
    CHECK_INT(sd_ddb_tick(db, NOW_MS, 100), 1);
    CHECK_INT(sd_ddb_tick(db, NOW_MS, 100), 0);
    j = call("DescribeTable", "{\"TableName\":\"sessions\"}");
    CHECK_INT(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "Table"), "ItemCount")->valueint, 3);
    cJSON_Delete(j);
    j = call("GetItem", "{\"TableName\":\"sessions\",\"Key\":{\"id\":{\"S\":\"ancient\"}}}");
    CHECK(cJSON_GetObjectItem(j, "Item") != NULL);
    cJSON_Delete(j);
    CHECK_INT(sd_ddb_tick(db, 1804067200000LL, 100), 1);
    ok("DeleteTable", "{\"TableName\":\"sessions\"}");
    err("DescribeTimeToLive", "{\"TableName\":\"sessions\"}", "ResourceNotFoundException", "");
}

static void test_handle(void)
{
    struct sd_req r;
    struct sd_resp resp;
    memset(&r, 0, sizeof(r));
    r.method = "POST";
    r.path = "/";
    r.query = "";
    const char *target = "DynamoDB_20120810.GetItem";
    r.headers[0] = (struct sd_header){"x-amz-target", 12, target, strlen(target)};
    r.n_headers = 1;
    const char *body =
        "{\"TableName\":\"orders\",\"Key\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}}}";
    r.body = body;
    r.body_len = strlen(body);
    r.recv_wall_ns = NOW_MS * 1000000;
    sd_resp_init(&resp);
    sd_ddb_handle(db, &r, &resp);
    CHECK_INT(resp.status, 200);
    CHECK_STR(resp.content_type, "application/x-amz-json-1.0");
    char want[64];
    snprintf(want, sizeof(want), "x-amz-crc32: %lu\r\n",
             crc32(0L, (const Bytef *)resp.body.data, (uInt)resp.body.len));
    CHECK(resp.headers.data && strstr(resp.headers.data, want) != NULL);
    CHECK(resp.headers.data && strstr(resp.headers.data, "x-amzn-RequestId: ") != NULL);
    sd_resp_deinit(&resp);
    target = "DynamoDB_20120810.Nope";
    r.headers[0].value = target;
    r.headers[0].value_len = strlen(target);
    sd_resp_init(&resp);
    sd_ddb_handle(db, &r, &resp);
    CHECK_INT(resp.status, 400);
    CHECK(strstr(resp.body.data, "UnknownOperationException") != NULL);
    sd_resp_deinit(&resp);
}

static void test_durable(void)
{
    char dir[] = "/tmp/sd_ddb_test.XXXXXX", path[256], errbuf[256];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/dynamodb.sqlite", dir);
    struct sd_ddb *mem = db;
    CHECK_INT(sd_ddb_open(path, "eu-west-1", "123456789012", &db, errbuf, sizeof(errbuf)), 0);
    CHECK_INT(sd_ddb_declare_table(db, "decl", "pk", "S", "sk", "N", "ttl", NOW_MS, errbuf,
                                   sizeof(errbuf)),
              0);
    ok("PutItem", "{\"TableName\":\"decl\",\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}}}");
    sd_ddb_free(db);
    CHECK_INT(sd_ddb_open(path, "eu-west-1", "123456789012", &db, errbuf, sizeof(errbuf)), 0);
    CHECK_INT(sd_ddb_declare_table(db, "decl", "pk", "S", "sk", "N", "ttl", NOW_MS, errbuf,
                                   sizeof(errbuf)),
              0);
    CHECK_INT(sd_ddb_declare_table(db, "decl", "pk", "S", NULL, NULL, NULL, NOW_MS, errbuf,
                                   sizeof(errbuf)),
              -11 /* CM_ESTATE */);
    cJSON *j = call("GetItem",
                    "{\"TableName\":\"decl\",\"Key\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}}}");
    CHECK_STR(str_at(j, "Item.pk.S"), "a");
    cJSON_Delete(j);
    j = call("DescribeTimeToLive", "{\"TableName\":\"decl\"}");
    CHECK_STR(str_at(j, "TimeToLiveDescription.TimeToLiveStatus"), "ENABLED");
    cJSON_Delete(j);
    j = call("DescribeTable", "{\"TableName\":\"decl\"}");
    CHECK_STR(str_at(j, "Table.TableArn"), "arn:aws:dynamodb:eu-west-1:123456789012:table/decl");
    cJSON_Delete(j);
    sd_ddb_free(db);
    db = mem;
    char rm[512];
    snprintf(rm, sizeof(rm), "%s-wal", path);
    unlink(rm);
    snprintf(rm, sizeof(rm), "%s-shm", path);
    unlink(rm);
    unlink(path);
    rmdir(dir);
}

static void test_stack_tables(void)
{
    static const char ok_yaml[] = "tables:\n"
                                  "  orders:\n"
                                  "    hash_key: pk\n"
                                  "    range_key: sk\n"
                                  "    range_type: N\n"
                                  "    ttl_attribute: expires\n"
                                  "  kv_store: {hash_key: id, hash_type: B}\n";
    struct sd_stack *st = NULL;
    char e[512];
    CHECK_INT(sd_stack_parse(ok_yaml, sizeof(ok_yaml) - 1, "t.yaml", ".", &st, e, sizeof(e)), 0);
    if (!st)
        return;
    CHECK_INT(st->n_tables, 2);
    CHECK_STR(st->tables[0].name, "orders");
    CHECK_STR(st->tables[0].hash_type, "S");
    CHECK_STR(st->tables[0].range_type, "N");
    CHECK_STR(st->tables[0].ttl_attr, "expires");
    CHECK_STR(st->tables[1].hash_type, "B");
    CHECK(st->tables[1].range_key == NULL && st->tables[1].ttl_attr == NULL);
    sd_stack_free(st);
    static const char bad_type[] = "tables:\n  orders:\n    hash_key: pk\n    hash_type: X\n";
    CHECK(sd_stack_parse(bad_type, sizeof(bad_type) - 1, "t.yaml", ".", &st, e, sizeof(e)) < 0);
    CHECK_MSG(strstr(e, "t.yaml:4:") && strstr(e, "tables.orders.hash_type"), "%s", e);
    static const char no_hash[] = "tables:\n  orders: {range_key: sk}\n";
    CHECK(sd_stack_parse(no_hash, sizeof(no_hash) - 1, "t.yaml", ".", &st, e, sizeof(e)) < 0);
    CHECK_MSG(strstr(e, "hash_key") != NULL, "%s", e);
    static const char bad_name[] = "tables:\n  ab: {hash_key: pk}\n";
    CHECK(sd_stack_parse(bad_name, sizeof(bad_name) - 1, "t.yaml", ".", &st, e, sizeof(e)) < 0);
    CHECK_MSG(strstr(e, "t.yaml:2:3: tables.ab") != NULL, "%s", e);
}

int main(void)
{
    char e[256];
    if (sd_ddb_open(NULL, "us-east-1", "000000000000", &db, e, sizeof(e)) < 0) {
        fprintf(stderr, "open: %s\n", e);
        return 1;
    }
    test_tables();
    test_items();
    test_query();
    test_batches();
    test_ttl();
    test_handle();
    test_durable();
    test_stack_tables();
    sd_ddb_free(db);
    return TEST_REPORT();
}
