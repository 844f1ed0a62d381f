/* lgc_it: drives the collectors library against a running stackd for
 * collectors_it.py (endpoints and credentials come from the environment).
 *   lgc_it sample QUEUE DLQ FN INTERVAL_MS DURATION_MS   -> {"summary","rows","metrics"}
 *   lgc_it drain QUEUE TIMEOUT_MS                        -> {"rc","drain_ms"}
 *   lgc_it join FN[,FN...] START_MS END_MS CORR LATENCY_MS -> {"rc","found","rec","breakdown"}
 * Prints one JSON object on stdout; exit 0 unless the library refused. */
#include "lgc.h"

#include "cm/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long long num(const char *s)
{
    return strtoll(s, NULL, 10);
}

static void print(cJSON *o)
{
    char *t = cJSON_PrintUnformatted(o);
    puts(t ? t : "null");
    free(t);
    cJSON_Delete(o);
}

static int cmd_sample(char **argv)
{
    struct lgc_queue_target q = {argv[0], argv[1]};
    const char *fns[] = {argv[2]};
    struct lgc_config cfg = {.queues = &q,
                             .n_queues = 1,
                             .functions = fns,
                             .n_functions = 1,
                             .interval_ns = num(argv[3]) * CM_NS_PER_MS};
    struct lgc *l = NULL;
    char err[256];
    if (lgc_new(&cfg, &l, err, sizeof err)) {
        fprintf(stderr, "lgc_new: %s\n", err);
        return 1;
    }
    int64_t start = cm_clock_wall_ns() / CM_NS_PER_MS - 30000; /* covers the setup */
    lgc_start(l, start);
    cm_clock_sleep_ns(num(argv[4]) * CM_NS_PER_MS);
    lgc_stop(l);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "summary", lgc_summary(l));
    cJSON_AddItemToObject(o, "rows", lgc_drain_rows(l));
    cJSON *m = cJSON_AddObjectToObject(o, "metrics");
    char names[8][512];
    snprintf(names[0], 512, "queues.%s.max_depth", argv[0]);
    snprintf(names[1], 512, "dlq.%s.max_depth", argv[1]);
    snprintf(names[2], 512, "queues.%s.max_age", argv[0]);
    snprintf(names[3], 512, "cold_starts.%s.count", argv[2]);
    snprintf(names[4], 512, "cold_starts.rate");
    snprintf(names[5], 512, "functions.%s.invocations", argv[2]);
    snprintf(names[6], 512, "queues.nope.max_depth");
    snprintf(names[7], 512, "cold_starts.%s.init_ms.p99", argv[2]);
    for (int i = 0; i < 8; i++) {
        double v = 0;
        int rc = lgc_metric(l, names[i], &v);
        if (rc)
            cJSON_AddStringToObject(m, names[i], cm_strerror(rc));
        else
            cJSON_AddNumberToObject(m, names[i], v);
    }
    print(o);
    lgc_free(l);
    return 0;
}

static int cmd_drain(char **argv)
{
    struct lgc_queue_target q = {argv[0], NULL};
    struct lgc_config cfg = {.queues = &q, .n_queues = 1, .interval_ns = 100 * CM_NS_PER_MS};
    cfg.no_cloudwatch = cfg.no_logs = 1;
    struct lgc *l = NULL;
    char err[256];
    if (lgc_new(&cfg, &l, err, sizeof err)) {
        fprintf(stderr, "lgc_new: %s\n", err);
        return 1;
    }
    int64_t ns = -1;
    int rc = lgc_wait_drained(l, num(argv[1]) * CM_NS_PER_MS, 100, &ns);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "rc", rc ? cm_strerror(rc) : "ok");
    cJSON_AddNumberToObject(o, "drain_ms", (double)ns / 1e6);
    print(o);
    lgc_free(l);
    return 0;
}

static int cmd_join(char **argv)
{
    struct lgc_join *j = NULL;
    char err[256];
    if (lgc_join_new(NULL, &j, err, sizeof err)) {
        fprintf(stderr, "lgc_join_new: %s\n", err);
        return 1;
    }
    const char *fns[8];
    size_t nf = 0;
    for (char *p = argv[0]; p && nf < 8;) { /* comma-separated names, split in place */
        fns[nf++] = p;
        p = strchr(p, ',');
        if (p)
            *p++ = '\0';
    }
    int rc = lgc_join_fetch(j, fns, nf, num(argv[1]), num(argv[2]));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "rc", rc ? cm_strerror(rc) : "ok");
    struct lgc_join_rec r;
    int found = lgc_join_lookup(j, argv[3], &r) == 0;
    cJSON_AddBoolToObject(o, "found", found);
    if (found) {
        cJSON *x = cJSON_AddObjectToObject(o, "rec");
        cJSON_AddStringToObject(x, "function", r.function_name);
        cJSON_AddStringToObject(x, "request_id", r.request_id);
        cJSON_AddNumberToObject(x, "init_ms", r.init_ms);
        cJSON_AddNumberToObject(x, "duration_ms", r.duration_ms);
        cJSON_AddNumberToObject(x, "queue_wait_ms", r.queue_wait_ms);
    }
    struct lgc_client_rec c = {argv[3], (double)num(argv[4])};
    cJSON_AddItemToObject(o, "breakdown", lgc_join_breakdown(j, &c, 1));
    print(o);
    lgc_join_free(j);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[1], "sample") == 0)
        return cmd_sample(argv + 2);
    if (argc == 4 && strcmp(argv[1], "drain") == 0)
        return cmd_drain(argv + 2);
    if (argc == 7 && strcmp(argv[1], "join") == 0)
        return cmd_join(argv + 2);
    fprintf(stderr, "usage: lgc_it sample|drain|join ...\n");
    return 2;
}
