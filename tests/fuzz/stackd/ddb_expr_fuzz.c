/* ddb_expr_fuzz.c: DynamoDB expressions (sd_ddb_expr_parse). The first byte
 * picks condition, update or projection; the rest is the expression. Parsed
 * expressions are also evaluated, applied or projected on a fixed item, and
 * conditions go through the key-condition check. */
#include "sd_ddb_int.h"

#include <stdlib.h>
#include <string.h>

static cJSON *values, *names, *item;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[768];
    if (!values) {
        values = cJSON_Parse(
            "{\":a\":{\"S\":\"ab\"},\":n\":{\"N\":\"1.5\"},\":l\":{\"L\":[{\"N\":\"1\"}]},"
            "\":s\":{\"SS\":[\"x\"]},\":ns\":{\"NS\":[\"2\"]},\":t\":{\"S\":\"N\"},"
            "\":b\":{\"B\":\"AAE=\"},\":m\":{\"M\":{\"k\":{\"BOOL\":true}}}}");
        names = cJSON_Parse("{\"#a\":\"a\",\"#k\":\"pk\",\"#x\":\"x.y\"}");
        item = cJSON_Parse(
            "{\"pk\":{\"S\":\"k\"},\"a\":{\"M\":{\"b\":{\"L\":[{\"N\":\"1\"},{\"M\":"
            "{\"c\":{\"S\":\"x\"}}}]}}},\"n\":{\"N\":\"9\"},\"s\":{\"SS\":[\"x\",\"y\"]},"
            "\"l\":{\"L\":[{\"S\":\"q\"},{\"NULL\":true}]},\"b\":{\"B\":\"AAEC\"}}");
    }
    if (size == 0)
        return 0;
    struct sd_ddb_ectx x;
    struct sd_ddb_expr *e = NULL;
    memset(&x, 0, sizeof(x));
    x.values = values;
    x.names = names;
    enum sd_ddb_expr_kind kind = (enum sd_ddb_expr_kind)(data[0] % 3 + 1);
    if (sd_ddb_expr_parse(kind, (const char *)data + 1, size - 1, &x, &e, why, sizeof(why)) < 0) {
        if (e || !why[0])
            abort(); /* failures report a reason and return nothing */
        return 0;
    }
    if (kind == SD_DDB_EXPR_CONDITION) {
        struct sd_ddb_keycond k;
        int r = sd_ddb_expr_eval(e, item);
        if (r != 0 && r != 1)
            abort();
        sd_ddb_expr_eval(e, NULL);
        sd_ddb_expr_keycond(e, "pk", &k, why, sizeof(why));
    } else if (kind == SD_DDB_EXPR_UPDATE) {
        cJSON *copy = cJSON_Duplicate(item, 1), *touched = cJSON_CreateObject();
        const char *keys[] = {"pk"};
        if (sd_ddb_expr_update(e, copy, keys, 1, touched, why, sizeof(why)) == 0 &&
            sd_ddb_item_check(copy, why, sizeof(why)) < 0 && !strstr(why, "Nesting"))
            abort(); /* an update must leave a valid item */
        cJSON_Delete(copy);
        cJSON_Delete(touched);
    } else {
        cJSON *p = sd_ddb_expr_project(e, item);
        if (sd_ddb_item_check(p, why, sizeof(why)) < 0)
            abort();
        cJSON_Delete(p);
    }
    sd_ddb_expr_free(e);
    return 0;
}
