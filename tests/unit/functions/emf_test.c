/* emf_test.c: CloudWatch Embedded Metric Format output. Every document is
 * parsed back with cJSON and checked against the specification's rules
 * (root-level targets, <= 100 metrics and <= 100 values per document, <= 30
 * dimension keys, valid units), including the split into several documents. */
#include "harness.h"
#include "rt.h"

#include "cm/err.h"
#include "cm/json.h"

#include <math.h>
#include <stdlib.h>

/* Checks one document; returns the number of metrics it defines. */
static int check_doc(const cJSON *doc, int64_t want_ts, const char *want_ns)
{
    const cJSON *aws = cJSON_GetObjectItemCaseSensitive(doc, "_aws");
    CHECK(cJSON_IsObject(aws));
    CHECK_INT(cm_json_int(aws, "Timestamp", -1), want_ts);
    const cJSON *dirs = cJSON_GetObjectItemCaseSensitive(aws, "CloudWatchMetrics");
    CHECK(cJSON_IsArray(dirs) && cJSON_GetArraySize(dirs) == 1);
    const cJSON *d = cJSON_GetArrayItem(dirs, 0);
    CHECK_STR(cm_json_str(d, "Namespace", ""), want_ns);
    const cJSON *sets = cJSON_GetObjectItemCaseSensitive(d, "Dimensions");
    CHECK(cJSON_IsArray(sets));
    for (const cJSON *set = sets ? sets->child : NULL; set; set = set->next) {
        CHECK(cJSON_IsArray(set) && cJSON_GetArraySize(set) <= 30);
        for (const cJSON *k = set->child; k; k = k->next)
            CHECK_MSG(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(doc, k->valuestring)),
                      "dimension %s is not a root string", k->valuestring);
    }
    const cJSON *metrics = cJSON_GetObjectItemCaseSensitive(d, "Metrics");
    int n = cJSON_GetArraySize(metrics);
    CHECK(n >= 1 && n <= 100);
    for (const cJSON *m = metrics ? metrics->child : NULL; m; m = m->next) {
        enum rt_unit u;
        CHECK_INT(rt_unit_parse(cm_json_str(m, "Unit", "None"), &u), 0);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, cm_json_str(m, "Name", ""));
        int ok = cJSON_IsNumber(v);
        if (cJSON_IsArray(v)) {
            ok = cJSON_GetArraySize(v) >= 2 && cJSON_GetArraySize(v) <= 100;
            for (const cJSON *x = v->child; x; x = x->next)
                ok = ok && cJSON_IsNumber(x);
        }
        CHECK_MSG(ok, "metric %s has no valid root value", cm_json_str(m, "Name", ""));
    }
    return n;
}

/* Splits out into lines, parses each; returns the number of documents. */
static int parse_docs(const struct cm_buf *out, cJSON **docs, int max)
{
    int n = 0;
    const char *p = out->data, *end = out->data + out->len;
    while (p < end && n < max) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        CHECK(nl != NULL);
        if (!nl)
            break;
        docs[n] = cm_json_parse(p, (size_t)(nl - p));
        CHECK_MSG(docs[n] != NULL, "document %d is not JSON", n);
        n++;
        p = nl + 1;
    }
    return n;
}

static void test_basic(void)
{
    struct rt_metrics *m = rt_metrics_new("Orders", -1);
    CHECK_INT(rt_metrics_add_dimension(m, "service", "orders"), 0);
    CHECK_INT(rt_metrics_add_dimension(m, "function_name", "create-order"), 0);
    CHECK_INT(rt_metrics_add_dimension(m, "service", "orders2"), 0); /* replaces */
    CHECK_INT(rt_metrics_set_property(m, "requestId", "r-1"), 0);
    CHECK_INT(rt_metrics_add(m, "OrderLatency", RT_UNIT_MILLISECONDS, 12.5), 0);
    CHECK_INT(rt_metrics_add(m, "OrderLatency", RT_UNIT_MILLISECONDS, 13), 0);
    CHECK_INT(rt_metrics_add(m, "Orders", RT_UNIT_COUNT, 1), 0);
    CHECK_INT(rt_metrics_add_hr(m, "QueueWait", RT_UNIT_MICROSECONDS, 250), 0);
    CHECK_INT(rt_metrics_count(m), 3);
    struct cm_buf out;
    cm_buf_init(&out, 0);
    CHECK_INT(rt_metrics_flush(m, 1795331580123LL, &out), 1);
    CHECK_INT(rt_metrics_count(m), 0);
    cJSON *docs[4];
    CHECK_INT(parse_docs(&out, docs, 4), 1);
    cJSON *d = docs[0];
    CHECK_INT(check_doc(d, 1795331580123LL, "Orders"), 3);
    const cJSON *dir =
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
                               cJSON_GetObjectItemCaseSensitive(d, "_aws"), "CloudWatchMetrics"),
                           0);
    char *dims = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(dir, "Dimensions"));
    CHECK_STR(dims, "[[\"service\",\"function_name\"]]");
    cJSON_free(dims);
    char *mets = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(dir, "Metrics"));
    CHECK_STR(mets, "[{\"Name\":\"OrderLatency\",\"Unit\":\"Milliseconds\"},"
                    "{\"Name\":\"Orders\",\"Unit\":\"Count\"},"
                    "{\"Name\":\"QueueWait\",\"Unit\":\"Microseconds\",\"StorageResolution\":1}]");
    cJSON_free(mets);
    CHECK_STR(cm_json_str(d, "service", ""), "orders2");
    CHECK_STR(cm_json_str(d, "requestId", ""), "r-1");
    const cJSON *lat = cJSON_GetObjectItemCaseSensitive(d, "OrderLatency");
    CHECK(cJSON_IsArray(lat) && cJSON_GetArraySize(lat) == 2);
    CHECK_NEAR(cJSON_GetArrayItem(lat, 0)->valuedouble, 12.5, 1e-12);
    CHECK_INT(cm_json_int(d, "Orders", 0), 1);
    cJSON_Delete(d);

    /* Flushing an empty context writes nothing; dimensions persist. */
    cm_buf_reset(&out);
    CHECK_INT(rt_metrics_flush(m, 1, &out), 0);
    CHECK_INT(out.len, 0);
    CHECK_INT(rt_metrics_add(m, "Again", RT_UNIT_NONE, -3), 0);
    CHECK_INT(rt_metrics_flush(m, 1795331580124LL, &out), 1);
    CHECK(strstr(cm_buf_cstr(&out), "\"service\":\"orders2\"") != NULL);
    cm_buf_deinit(&out);
    rt_metrics_free(m);
    rt_metrics_free(NULL);
}

static void test_split_metrics(void)
{
    /* 250 distinct metrics: 3 documents of 100, 100 and 50. */
    struct rt_metrics *m = rt_metrics_new("Orders", -1);
    rt_metrics_add_dimension(m, "service", "s");
    char name[32];
    for (int i = 0; i < 250; i++) {
        snprintf(name, sizeof name, "M%03d", i);
        CHECK_INT(rt_metrics_add(m, name, RT_UNIT_COUNT, i), 0);
    }
    struct cm_buf out;
    cm_buf_init(&out, 0);
    CHECK_INT(rt_metrics_flush(m, 5, &out), 3);
    cJSON *docs[8];
    CHECK_INT(parse_docs(&out, docs, 8), 3);
    int total = 0, want[] = {100, 100, 50};
    for (int i = 0; i < 3; i++) {
        int n = check_doc(docs[i], 5, "Orders");
        CHECK_INT(n, want[i]);
        total += n;
    }
    CHECK_INT(total, 250);
    CHECK_INT(cm_json_int(docs[2], "M249", -1), 249);
    CHECK_INT(cm_json_int(docs[0], "M000", -1), 0);
    for (int i = 0; i < 3; i++)
        cJSON_Delete(docs[i]);
    cm_buf_deinit(&out);
    rt_metrics_free(m);
}

static void test_split_values(void)
{
    /* 250 values of one metric plus one other metric: values go out 100 per
     * document, the other metric only in the first. */
    struct rt_metrics *m = rt_metrics_new("Orders", -1);
    for (int i = 0; i < 250; i++)
        CHECK_INT(rt_metrics_add(m, "Latency", RT_UNIT_MILLISECONDS, i), 0);
    CHECK_INT(rt_metrics_add(m, "Other", RT_UNIT_COUNT, 1), 0);
    struct cm_buf out;
    cm_buf_init(&out, 0);
    CHECK_INT(rt_metrics_flush(m, 7, &out), 3);
    cJSON *docs[8];
    CHECK_INT(parse_docs(&out, docs, 8), 3);
    int want_n[] = {100, 100, 50};
    double sum = 0;
    for (int i = 0; i < 3; i++) {
        check_doc(docs[i], 7, "Orders");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(docs[i], "Latency");
        CHECK_INT(cJSON_GetArraySize(v), want_n[i]);
        for (const cJSON *x = v ? v->child : NULL; x; x = x->next)
            sum += x->valuedouble;
        CHECK_INT(cJSON_GetObjectItemCaseSensitive(docs[i], "Other") != NULL, i == 0);
        /* Dimensions: none were set -> one empty set. */
        const cJSON *dir = cJSON_GetArrayItem(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(docs[i], "_aws"),
                                             "CloudWatchMetrics"),
            0);
        char *dims = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(dir, "Dimensions"));
        CHECK_STR(dims, "[[]]");
        cJSON_free(dims);
        cJSON_Delete(docs[i]);
    }
    CHECK_NEAR(sum, 249.0 * 250 / 2, 1e-9);
    cm_buf_deinit(&out);
    rt_metrics_free(m);
}

static void test_limits(void)
{
    struct rt_metrics *m = rt_metrics_new("Orders", -1);
    char name[32];
    for (int i = 0; i < 30; i++) {
        snprintf(name, sizeof name, "d%d", i);
        CHECK_INT(rt_metrics_add_dimension(m, name, "v"), 0);
    }
    CHECK_INT(rt_metrics_add_dimension(m, "d30", "v"), CM_ETOOBIG);
    CHECK_INT(rt_metrics_add_dimension(m, "d0", "replaced"), 0); /* replacing is fine */
    CHECK_INT(rt_metrics_add_dimension(m, "", "v"), CM_EINVAL);
    CHECK_INT(rt_metrics_add_dimension(m, "x", ""), CM_EINVAL);
    char big[1100];
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK_INT(rt_metrics_add_dimension(m, "x", big), CM_EINVAL);
    CHECK_INT(rt_metrics_add(m, "", RT_UNIT_COUNT, 1), CM_EINVAL);
    CHECK_INT(rt_metrics_add(m, big, RT_UNIT_COUNT, 1), CM_EINVAL);
    CHECK_INT(rt_metrics_add(m, "n", RT_UNIT_COUNT, NAN), CM_EINVAL);
    CHECK_INT(rt_metrics_add(m, "n", RT_UNIT_COUNT, INFINITY), CM_EINVAL);
    CHECK_INT(rt_metrics_add(m, "n", (enum rt_unit)99, 1), CM_EINVAL);
    CHECK_INT(rt_metrics_add(m, "d1", RT_UNIT_COUNT, 1), CM_EINVAL);   /* a dimension's name */
    CHECK_INT(rt_metrics_add(m, "_aws", RT_UNIT_COUNT, 1), CM_EINVAL); /* reserved */
    CHECK_INT(rt_metrics_add(m, "n", RT_UNIT_COUNT, 1), 0);
    CHECK_INT(rt_metrics_add(m, "n", RT_UNIT_BYTES, 1), CM_EINVAL);    /* unit changed */
    CHECK_INT(rt_metrics_add_hr(m, "n", RT_UNIT_COUNT, 1), CM_EINVAL); /* resolution changed */
    CHECK_INT(rt_metrics_add_dimension(m, "n", "v"), CM_EINVAL);       /* a metric's name */
    CHECK_INT(rt_metrics_set_property(m, "n", "v"), CM_EINVAL);
    CHECK_INT(rt_metrics_set_property(m, "d2", "v"), CM_EINVAL);
    /* The context's own capacity: CM_ETOOBIG without an fd. */
    rt_metrics_reset(m);
    for (int i = 0; i < RT_METRICS_MAX_VALUES; i++)
        if (rt_metrics_add(m, "v", RT_UNIT_COUNT, 1) != 0)
            break;
    CHECK_INT(rt_metrics_add(m, "v", RT_UNIT_COUNT, 1), CM_ETOOBIG);
    rt_metrics_free(m);

    /* Invalid namespace: flush refuses. */
    m = rt_metrics_new("", -1);
    rt_metrics_add(m, "x", RT_UNIT_COUNT, 1);
    struct cm_buf out;
    cm_buf_init(&out, 0);
    CHECK_INT(rt_metrics_flush(m, 1, &out), CM_EINVAL);
    rt_metrics_free(m);

    /* An output buffer too small: nothing written, metrics kept. */
    m = rt_metrics_new("Orders", -1);
    rt_metrics_add(m, "x", RT_UNIT_COUNT, 1);
    struct cm_buf small;
    cm_buf_init(&small, 32);
    CHECK_INT(rt_metrics_flush(m, 1, &small), CM_ETOOBIG);
    CHECK_INT(small.len, 0);
    CHECK_INT(rt_metrics_count(m), 1);
    CHECK_INT(rt_metrics_flush(m, 1, &out), 1);
    cm_buf_deinit(&small);
    cm_buf_deinit(&out);
    rt_metrics_free(m);
}

static void test_self_flush(void)
{
    /* With an fd the context flushes itself when full instead of failing. */
    FILE *tmp = tmpfile();
    CHECK(tmp != NULL);
    if (!tmp)
        return;
    struct rt_metrics *m = rt_metrics_new("Orders", fileno(tmp));
    char name[32];
    int rc = 0;
    for (int i = 0; i < RT_METRICS_MAX_METRICS + 1 && rc == 0; i++) {
        snprintf(name, sizeof name, "m%d", i);
        rc = rt_metrics_add(m, name, RT_UNIT_COUNT, 1);
    }
    CHECK_INT(rc, 0);
    CHECK_INT(rt_metrics_count(m), 1); /* the 1001st started a new batch */
    struct cm_buf got;
    cm_buf_init(&got, 0);
    char chunk[65536];
    size_t r;
    rewind(tmp);
    while ((r = fread(chunk, 1, sizeof chunk, tmp)) > 0)
        cm_buf_append(&got, chunk, r);
    fclose(tmp);
    cJSON *docs[16];
    int n = parse_docs(&got, docs, 16);
    CHECK_INT(n, 10); /* 1000 metrics / 100 per document */
    for (int i = 0; i < n; i++) {
        CHECK_INT(check_doc(docs[i],
                            cm_json_int(cJSON_GetObjectItemCaseSensitive(docs[i], "_aws"),
                                        "Timestamp", 0),
                            "Orders"),
                  100);
        cJSON_Delete(docs[i]);
    }
    cm_buf_deinit(&got);
    rt_metrics_free(m);
}

static void test_cold_start_doc(void)
{
    struct cm_buf out;
    cm_buf_init(&out, 0);
    CHECK_INT(rt_metrics_cold_start_doc("Orders", "create-order", "orders", 1795331580000LL, &out),
              0);
    CHECK_STR(cm_buf_cstr(&out),
              "{\"_aws\":{\"Timestamp\":1795331580000,\"CloudWatchMetrics\":[{\"Namespace\":"
              "\"Orders\",\"Dimensions\":[[\"function_name\",\"service\"]],\"Metrics\":[{\"Name\":"
              "\"ColdStart\",\"Unit\":\"Count\"}]}]},\"function_name\":\"create-order\","
              "\"service\":\"orders\",\"ColdStart\":1}\n");
    cm_buf_deinit(&out);
}

static void test_units(void)
{
    for (int u = 0; u < RT_UNIT__COUNT; u++) {
        enum rt_unit back;
        CHECK_INT(rt_unit_parse(rt_unit_name((enum rt_unit)u), &back), 0);
        CHECK_INT(back, u);
    }
    enum rt_unit u;
    CHECK_STR(rt_unit_name(RT_UNIT_COUNT_PER_SECOND), "Count/Second");
    CHECK_STR(rt_unit_name((enum rt_unit) - 1), "None");
    CHECK_INT(rt_unit_parse("Millisecond", &u), CM_EINVAL);
    CHECK_INT(rt_unit_parse("count", &u), CM_EINVAL);
    CHECK_INT(rt_unit_parse(NULL, &u), CM_EINVAL);
}

int main(void)
{
    test_basic();
    test_split_metrics();
    test_split_values();
    test_limits();
    test_self_flush();
    test_cold_start_doc();
    test_units();
    return TEST_REPORT();
}
