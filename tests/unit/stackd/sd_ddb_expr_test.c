/* sd_ddb_expr_test.c: DynamoDB expressions: every condition operator and
 * function, precedence, update actions (SET arithmetic, if_not_exists,
 * list_append, REMOVE, ADD, DELETE), projections, key conditions, and the
 * error messages for bad expressions (naming the token). */
#include "harness.h"
#include "sd_ddb_int.h"

#include "cm/err.h"

#include <stdlib.h>
#include <string.h>

static const char *VALUES =
    "{\":one\":{\"N\":\"1\"},\":two\":{\"N\":\"2\"},\":ten\":{\"N\":\"10\"},"
    "\":a\":{\"S\":\"a\"},\":ab\":{\"S\":\"ab\"},\":z\":{\"S\":\"z\"},\":x\":{\"S\":\"x\"},"
    "\":tS\":{\"S\":\"S\"},\":tN\":{\"S\":\"N\"},\":tL\":{\"S\":\"L\"},\":t\":{\"BOOL\":true},"
    "\":ss\":{\"SS\":[\"q\"]},\":l\":{\"L\":[{\"S\":\"new\"}]},\":el\":{\"L\":[]},"
    "\":ns\":{\"NS\":[\"5\",\"6\"]},\":half\":{\"N\":\"0.5\"},\":bin\":{\"B\":\"AAE=\"}}";
static const char *NAMES = "{\"#n\":\"name\",\"#c\":\"count\",\"#m\":\"map\"}";
static const char *ITEM =
    "{\"pk\":{\"S\":\"k\"},\"name\":{\"S\":\"abc\"},\"n\":{\"N\":\"5\"},\"count\":{\"N\":\"1\"},"
    "\"tags\":{\"SS\":[\"p\",\"q\"]},\"nums\":{\"NS\":[\"1\",\"2\"]},\"flag\":{\"BOOL\":true},"
    "\"map\":{\"M\":{\"a\":{\"L\":[{\"S\":\"x\"},{\"M\":{\"c\":{\"N\":\"7\"}}}]},\"s\":{\"S\":"
    "\"ab\"}}},"
    "\"lst\":{\"L\":[{\"S\":\"x\"},{\"N\":\"2\"}]},\"bin\":{\"B\":\"AAEC\"},\"nul\":{\"NULL\":"
    "true}}";

static cJSON *g_values, *g_names;

static struct sd_ddb_expr *parse(enum sd_ddb_expr_kind k, const char *s, char *why)
{
    struct sd_ddb_ectx x;
    struct sd_ddb_expr *e = NULL;
    memset(&x, 0, sizeof(x));
    x.values = g_values;
    x.names = g_names;
    why[0] = '\0';
    sd_ddb_expr_parse(k, s, strlen(s), &x, &e, why, 512);
    return e;
}

/* 1/0 for the condition on ITEM, -1 when it does not parse. */
static int cond(const char *s)
{
    char why[512];
    struct sd_ddb_expr *e = parse(SD_DDB_EXPR_CONDITION, s, why);
    if (!e) {
        fprintf(stderr, "  parse failed: %s: %s\n", s, why);
        return -1;
    }
    cJSON *item = cJSON_Parse(ITEM);
    int r = sd_ddb_expr_eval(e, item);
    cJSON_Delete(item);
    sd_ddb_expr_free(e);
    return r;
}

#define TRUE_(s)  CHECK_MSG(cond(s) == 1, "expected true: %s", s)
#define FALSE_(s) CHECK_MSG(cond(s) == 0, "expected false: %s", s)

static void test_conditions(void)
{
    TRUE_("n > :one");
    TRUE_("n = n");
    TRUE_("n <> :one");
    TRUE_("n < :ten");
    TRUE_("n <= :ten");
    FALSE_("n > :ten");
    TRUE_("n >= :one");
    TRUE_("#n > :a"); /* "abc" > "a" */
    FALSE_("#n < :a");
    TRUE_("n BETWEEN :one AND :ten");
    FALSE_("n BETWEEN :ten AND :ten");
    TRUE_("n IN (:one, :two, n)");
    FALSE_("n IN (:one, :two)");
    TRUE_("attribute_exists(#m.a[1].c)");
    FALSE_("attribute_exists(#m.a[2])");
    TRUE_("attribute_not_exists(nope)");
    TRUE_("attribute_type(n, :tN)");
    TRUE_("attribute_type(lst, :tL)");
    FALSE_("attribute_type(n, :tS)");
    TRUE_("begins_with(#n, :ab)");
    FALSE_("begins_with(#n, :z)");
    TRUE_("begins_with(bin, :bin)");
    TRUE_("contains(#n, :ab)");
    TRUE_("contains(tags, :ss) OR contains(tags, :z) OR contains(lst, :x)");
    FALSE_("contains(tags, :z)");
    TRUE_("size(#n) > :two");
    TRUE_("size(tags) = :two");
    TRUE_("size(#m) = :two");
    TRUE_("size(#m.a) = :two");
    TRUE_("NOT n = :one");
    TRUE_("(n = :one OR n = n) AND flag = :t");
    /* precedence: NOT > AND > OR */
    TRUE_("n = :one AND n = :two OR flag = :t"); /* (F and F) or T */
    FALSE_("n = :one AND (n = :two OR flag = :t)");
    TRUE_("NOT n = :one AND flag = :t"); /* (not F) and T */
    FALSE_("NOT (n = n AND flag = :t)");
    TRUE_("flag = :t OR n = :one AND n = :two"); /* T or (F and F) */
    /* missing attributes: comparisons false, <> true */
    FALSE_("nope = :one");
    FALSE_("nope < :one");
    TRUE_("nope <> :one");
    /* different types never compare */
    FALSE_("#n < :one");
    FALSE_("n = :a");
    /* keywords are case-insensitive */
    TRUE_("n between :one and :ten and NoT n in (:two)");
    TRUE_("#m.s = :ab and #m.a[0] = :x");
    TRUE_("nul = nul");
}

static void expect_error(enum sd_ddb_expr_kind k, const char *s, const char *want)
{
    char why[512];
    struct sd_ddb_expr *e = parse(k, s, why);
    CHECK_MSG(e == NULL && strstr(why, want) != NULL, "%s: got \"%s\", want \"%s\"", s, why, want);
    sd_ddb_expr_free(e);
}

static void test_errors(void)
{
    const enum sd_ddb_expr_kind C = SD_DDB_EXPR_CONDITION, U = SD_DDB_EXPR_UPDATE,
                                P = SD_DDB_EXPR_PROJECTION;
    expect_error(C, "n < < :one", "Syntax error; token: \"<\", near: \"< < :one\"");
    expect_error(C, "n = :one AND", "Syntax error; token: \"<EOF>\", near: \"AND\"");
    expect_error(C, "n = :one )", "Syntax error; token: \")\"");
    expect_error(C, "(n = :one", "Syntax error; token: \"<EOF>\"");
    expect_error(C, "n = :nope",
                 "An expression attribute value used in expression is not defined; "
                 "attribute value: :nope");
    expect_error(C, "#zz = :one",
                 "An expression attribute name used in the document path is not "
                 "defined; attribute name: #zz");
    expect_error(C, "foo(n) = :one", "Invalid function name; function: foo");
    expect_error(C, "if_not_exists(n, :one) = :one", "function: if_not_exists");
    expect_error(C, "n BETWEEN :one OR :two", "Syntax error; token: \"OR\"");
    expect_error(C, "n = :one $", "Invalid character encountered; character: \"$\"");
    expect_error(C, "", "The expression can not be empty");
    expect_error(C, "a[x] = :one", "Syntax error; token: \"x\"");
    expect_error(C, "AND = :one", "Syntax error; token: \"AND\"");
    expect_error(U, "SET a = :one SET b = :two", "The \"SET\" section can only be used once");
    expect_error(U, "SET a = :one,", "Syntax error; token: \"<EOF>\"");
    expect_error(U, "SET a :one", "Syntax error; token: \":one\"");
    expect_error(U, "SET a = :one, a.b = :two",
                 "Two document paths overlap with each other; must "
                 "remove or rewrite one of these paths; path one: "
                 "[a], path two: [a, b]");
    expect_error(U, "UPSERT a = :one", "Syntax error; token: \"UPSERT\"");
    expect_error(U, "ADD a b", "Syntax error; token: \"b\"");
    expect_error(U, "SET a = size(b)", "function: size");
    expect_error(P, "a, , b", "Syntax error; token: \",\"");
    expect_error(U, "SET count = :one",
                 "Attribute name is a reserved keyword; reserved keyword: count");
    expect_error(C, "a.Status = :one", "reserved keyword: Status");
    expect_error(P, "pk, data", "reserved keyword: data");
    expect_error(C, "attribute_type(n, :a)", "Invalid attribute type name found; type: a");
    expect_error(P, "a.", "Syntax error; token: \"<EOF>\"");
}

/* Applies an update to ITEM and returns the result as compact JSON (static). */
static const char *update(const char *s, int *rc, char *why)
{
    static char out[4096];
    struct sd_ddb_expr *e = parse(SD_DDB_EXPR_UPDATE, s, why);
    out[0] = '\0';
    *rc = CM_EPARSE;
    if (!e)
        return out;
    cJSON *item = cJSON_Parse(ITEM);
    const char *keys[] = {"pk"};
    *rc = sd_ddb_expr_update(e, item, keys, 1, NULL, why, 512);
    char *p = cJSON_PrintUnformatted(item);
    snprintf(out, sizeof(out), "%s", p);
    free(p);
    cJSON_Delete(item);
    sd_ddb_expr_free(e);
    return out;
}

static cJSON *attr_after(const char *expr, const char *attr)
{
    char why[512];
    int rc;
    const char *j = update(expr, &rc, why);
    CHECK_MSG(rc == 0, "%s: %s", expr, why);
    cJSON *item = cJSON_Parse(j);
    cJSON *a = cJSON_DetachItemFromObjectCaseSensitive(item, attr);
    cJSON_Delete(item);
    return a;
}

static void check_attr(const char *expr, const char *attr, const char *want_json)
{
    cJSON *a = attr_after(expr, attr);
    char *got = a ? cJSON_PrintUnformatted(a) : NULL;
    CHECK_MSG(got && strcmp(got, want_json) == 0, "%s: %s = %s, want %s", expr, attr,
              got ? got : "(missing)", want_json);
    free(got);
    cJSON_Delete(a);
}

static void test_updates(void)
{
    check_attr("SET n = n + :one", "n", "{\"N\":\"6\"}");
    check_attr("SET n = n - :half", "n", "{\"N\":\"4.5\"}");
    check_attr("SET x = :ten - n", "x", "{\"N\":\"5\"}");
    check_attr("SET #c = if_not_exists(#c, :ten) + :one", "count", "{\"N\":\"2\"}");
    check_attr("SET newc = if_not_exists(newc, :ten) + :one", "newc", "{\"N\":\"11\"}");
    check_attr("SET lst = list_append(lst, :l)", "lst",
               "{\"L\":[{\"S\":\"x\"},{\"N\":\"2\"},{\"S\":\"new\"}]}");
    check_attr("SET lst = list_append(:l, lst)", "lst",
               "{\"L\":[{\"S\":\"new\"},{\"S\":\"x\"},{\"N\":\"2\"}]}");
    check_attr("SET nl = list_append(if_not_exists(nl, :el), :l)", "nl",
               "{\"L\":[{\"S\":\"new\"}]}");
    check_attr("SET #m.a[1].c = :one", "map",
               "{\"M\":{\"a\":{\"L\":[{\"S\":\"x\"},{\"M\":{\"c\":{\"N\":\"1\"}}}]},\"s\":{\"S\":"
               "\"ab\"}}}");
    check_attr("SET lst[5] = :a", "lst", "{\"L\":[{\"S\":\"x\"},{\"N\":\"2\"},{\"S\":\"a\"}]}");
    check_attr("SET n = #c, #c = n", "count", "{\"N\":\"5\"}"); /* right sides see the old item */
    check_attr("REMOVE lst[0]", "lst", "{\"L\":[{\"N\":\"2\"}]}");
    check_attr("REMOVE lst[0], lst[1]", "lst", "{\"L\":[]}");
    check_attr("REMOVE #m.s", "map",
               "{\"M\":{\"a\":{\"L\":[{\"S\":\"x\"},{\"M\":{\"c\":{\"N\":\"7\"}}}]}}}");
    CHECK(attr_after("REMOVE n, flag", "n") == NULL);
    check_attr("ADD n :ten", "n", "{\"N\":\"15\"}");
    check_attr("ADD fresh :one", "fresh", "{\"N\":\"1\"}");
    check_attr("ADD tags :ss", "tags", "{\"SS\":[\"p\",\"q\"]}");
    check_attr("ADD nums :ns", "nums", "{\"NS\":[\"1\",\"2\",\"5\",\"6\"]}");
    check_attr("DELETE tags :ss", "tags", "{\"SS\":[\"p\"]}");

    check_attr("SET a = :one REMOVE flag ADD n :one DELETE tags :ss", "n", "{\"N\":\"6\"}");
    check_attr("set a = :one remove flag", "a", "{\"N\":\"1\"}");

    char why[512];
    int rc;
    update("SET n = #n + :one", &rc, why);
    CHECK_INT(rc, CM_EINVAL);
    CHECK_STR(why, "An operand in the update expression has an incorrect data type");
    update("SET n = nope + :one", &rc, why);
    CHECK(rc == CM_EINVAL && strstr(why, "does not exist in the item"));
    update("SET pk = :a", &rc, why);
    CHECK(rc == CM_EINVAL &&
          strstr(why, "Cannot update attribute pk. This attribute is part of the key"));
    update("SET nope.x = :a", &rc, why);
    CHECK(rc == CM_EINVAL &&
          strstr(why, "document path provided in the update expression is invalid"));
    update("ADD #n :one", &rc, why);
    CHECK(rc == CM_EINVAL && strstr(why, "incorrect data type"));
    update("ADD n :a", &rc, why);
    CHECK(rc == CM_EINVAL && strstr(why, "operator: ADD"));
    update("DELETE tags :a", &rc, why);
    CHECK(rc == CM_EINVAL && strstr(why, "operator: DELETE"));
    update("SET lst = list_append(n, :l)", &rc, why);
    CHECK(rc == CM_EINVAL && strstr(why, "list_append"));
}

static void test_projection(void)
{
    char why[512];
    struct sd_ddb_expr *e = parse(SD_DDB_EXPR_PROJECTION, "#n, #m.a[1].c, lst[1], nope", why);
    CHECK(e != NULL);
    cJSON *item = cJSON_Parse(ITEM);
    cJSON *p = sd_ddb_expr_project(e, item);
    char *s = cJSON_PrintUnformatted(p);
    CHECK_STR(
        s,
        "{\"name\":{\"S\":\"abc\"},\"map\":{\"M\":{\"a\":{\"L\":[{\"M\":{\"c\":{\"N\":\"7\"}}}]}}},"
        "\"lst\":{\"L\":[{\"N\":\"2\"}]}}");
    free(s);
    cJSON_Delete(p);
    cJSON_Delete(item);
    sd_ddb_expr_free(e);
}

static void test_project_updated(void)
{
    char why[512];
    struct sd_ddb_expr *e =
        parse(SD_DDB_EXPR_UPDATE, "SET #m.a[1].c = :one, n = :two REMOVE nope ADD tags :ss", why);
    CHECK(e != NULL);
    cJSON *item = cJSON_Parse(ITEM);
    cJSON *p = sd_ddb_expr_project_updated(e, item);
    char *s = cJSON_PrintUnformatted(p);
    CHECK_STR(
        s, "{\"map\":{\"M\":{\"a\":{\"L\":[{\"M\":{\"c\":{\"N\":\"7\"}}}]}}},\"n\":{\"N\":\"5\"},"
           "\"tags\":{\"SS\":[\"p\",\"q\"]}}");
    free(s);
    cJSON_Delete(p);
    cJSON_Delete(item);
    sd_ddb_expr_free(e);
}

static void test_keycond(void)
{
    char why[512];
    struct sd_ddb_keycond k;
    struct sd_ddb_expr *e = parse(SD_DDB_EXPR_CONDITION, "pk = :a AND begins_with(sk, :ab)", why);
    CHECK_INT(sd_ddb_expr_keycond(e, "pk", &k, why, sizeof(why)), 0);
    CHECK(k.op == SD_DDB_KOP_BEGINS && strcmp(k.range_name, "sk") == 0);
    CHECK_STR(k.hash->child->valuestring, "a");
    sd_ddb_expr_free(e);
    e = parse(SD_DDB_EXPR_CONDITION, "sk BETWEEN :one AND :two AND :a = pk", why);
    CHECK_INT(sd_ddb_expr_keycond(e, "pk", &k, why, sizeof(why)), 0);
    CHECK(k.op == SD_DDB_KOP_BETWEEN && k.r2 != NULL);
    sd_ddb_expr_free(e);
    static const char *const ops[][2] = {{"sk = :one", "1"},
                                         {"sk < :one", "2"},
                                         {"sk <= :one", "3"},
                                         {"sk > :one", "4"},
                                         {"sk >= :one", "5"}};
    for (int i = 0; i < 5; i++) {
        char s[128];
        snprintf(s, sizeof(s), "pk = :a AND %s", ops[i][0]);
        e = parse(SD_DDB_EXPR_CONDITION, s, why);
        CHECK_INT(sd_ddb_expr_keycond(e, "pk", &k, why, sizeof(why)), 0);
        CHECK_INT(k.op, SD_DDB_KOP_EQ + i);
        sd_ddb_expr_free(e);
    }
    e = parse(SD_DDB_EXPR_CONDITION, "pk = :a OR sk = :one", why);
    CHECK_INT(sd_ddb_expr_keycond(e, "pk", &k, why, sizeof(why)), CM_EINVAL);
    CHECK_STR(why, "Invalid operator used in KeyConditionExpression: OR");
    sd_ddb_expr_free(e);
    e = parse(SD_DDB_EXPR_CONDITION, "sk = :one", why);
    CHECK_INT(sd_ddb_expr_keycond(e, "pk", &k, why, sizeof(why)), CM_EINVAL);
    CHECK_STR(why, "Query condition missed key schema element: pk");
    sd_ddb_expr_free(e);
    e = parse(SD_DDB_EXPR_CONDITION, "pk = :a AND sk <> :one", why);
    CHECK_INT(sd_ddb_expr_keycond(e, "pk", &k, why, sizeof(why)), CM_EINVAL);
    CHECK_STR(why, "Query key condition not supported");
    sd_ddb_expr_free(e);
}

static void test_used_tracking(void)
{
    struct sd_ddb_ectx x;
    struct sd_ddb_expr *e = NULL;
    char why[512];
    memset(&x, 0, sizeof(x));
    x.values = g_values;
    x.names = g_names;
    const char *s = "#c = :two";
    CHECK_INT(sd_ddb_expr_parse(SD_DDB_EXPR_CONDITION, s, strlen(s), &x, &e, why, sizeof(why)), 0);
    CHECK(x.used_names[1] && !x.used_names[0] && x.used_values[1] && !x.used_values[0]);
    sd_ddb_expr_free(e);
}

int main(void)
{
    g_values = cJSON_Parse(VALUES);
    g_names = cJSON_Parse(NAMES);
    char why[512];
    for (cJSON *v = g_values->child; v; v = v->next)
        sd_ddb_av_check(v, why, sizeof(why));
    test_conditions();
    test_errors();
    test_updates();
    test_projection();
    test_keycond();
    test_project_updated();
    test_used_tracking();
    cJSON_Delete(g_values);
    cJSON_Delete(g_names);
    return TEST_REPORT();
}
