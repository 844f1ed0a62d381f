/* settings.c: the scenario's `collectors:` section, validated by one option
 * table (cm_opt) plus two list parsers for queues and functions, turned into
 * a struct lgc_config. Errors name file:line:col and the key. */
#include "lgc.h"

#include "cm/mem.h"
#include "cm/opt.h"
#include "cm/yaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct cm_opt lgc_opts[] = {
    CM_OPT_DURATION(struct lgc_settings, interval_ns, "interval", "0s", 0, 3600e9,
                    "Sampling interval; 0s: 1s against stackd, 60s on AWS (chosen by loadgen)."),
    CM_OPT_DURATION(struct lgc_settings, call_timeout_ns, "call_timeout", "0s", 0, 60e9,
                    "Time limit of one AWS call; 0s: min(interval, 5s)."),
    CM_OPT_DURATION(struct lgc_settings, drain_timeout_ns, "drain_timeout", "0s", 0, 3600e9,
                    "After the load, wait up to this long for the queues to empty; 0s: no wait."),
    CM_OPT_BOOL(struct lgc_settings, cloudwatch, "cloudwatch", "true",
                "Read AWS/Lambda and AWS/SQS metrics with GetMetricData."),
    CM_OPT_BOOL(struct lgc_settings, logs, "logs", "true",
                "Count cold starts from the functions' REPORT lines (FilterLogEvents)."),
    CM_OPT_BOOL(struct lgc_settings, join, "join", "true",
                "After the run, join the functions' log lines by correlation ID."),
    CM_OPT_NODE(struct lgc_settings, queues_node, "queues",
                "Queues to sample: names, or {name, dlq} mappings."),
    CM_OPT_NODE(struct lgc_settings, functions_node, "functions", "Lambda function names."),
    CM_OPT_END,
};

static int scalar_name(const struct cm_ydoc *doc, const struct cm_ynode *n, const char *path,
                       char **out, struct cm_opt_err *err)
{
    if (!n || n->type != CM_YNODE_SCALAR || cm_yaml_is_null(n) || n->len == 0 || n->len > 1024)
        return cm_opt_errorf(err, doc, n, path, "expected a name (1-1024 characters)");
    *out = cm_xstrndup(n->str, n->len);
    return 0;
}

static int parse_queue(struct lgc_settings *s, const struct cm_ydoc *doc,
                       const struct cm_ynode *item, const char *path)
{
    struct lgc_queue_target *t = &s->queues[s->n_queues];
    char *name = NULL, *dlq = NULL;
    if (item->type == CM_YNODE_SCALAR) {
        if (scalar_name(doc, item, path, &name, &s->err_store))
            return CM_EINVAL;
    } else if (item->type == CM_YNODE_MAP) {
        for (size_t k = 0; k < item->n; k++) {
            const char *key = item->keys[k]->str;
            if (strcmp(key, "name") != 0 && strcmp(key, "dlq") != 0) {
                free(name);
                free(dlq);
                return cm_opt_errorf(&s->err_store, doc, item->keys[k], path,
                                     "unknown key '%s' (expected name, dlq)", key);
            }
        }
        if (scalar_name(doc, cm_yaml_get(item, "name") ? cm_yaml_get(item, "name") : item, path,
                        &name, &s->err_store))
            return CM_EINVAL;
        const struct cm_ynode *d = cm_yaml_get(item, "dlq");
        if (d && scalar_name(doc, d, path, &dlq, &s->err_store)) {
            free(name);
            return CM_EINVAL;
        }
    } else {
        return cm_opt_errorf(&s->err_store, doc, item, path,
                             "expected a queue name or {name, dlq}");
    }
    t->name = name;
    t->dlq_name = dlq;
    s->n_queues++;
    return 0;
}

static int parse_lists(struct lgc_settings *s, const struct cm_ydoc *doc, const char *prefix)
{
    char path[256];
    const struct cm_ynode *q = s->queues_node, *f = s->functions_node;
    if (q && !cm_yaml_is_null(q)) {
        snprintf(path, sizeof path, "%s%squeues", prefix, *prefix ? "." : "");
        if (q->type != CM_YNODE_SEQ || q->n > LGC_MAX_QUEUES)
            return cm_opt_errorf(&s->err_store, doc, q, path, "expected a list of at most %d",
                                 LGC_MAX_QUEUES);
        s->queues = cm_xcalloc(q->n + 1, sizeof *s->queues);
        for (size_t i = 0; i < q->n; i++) {
            snprintf(path, sizeof path, "%s%squeues[%zu]", prefix, *prefix ? "." : "", i);
            if (parse_queue(s, doc, q->vals[i], path))
                return CM_EINVAL;
        }
    }
    if (f && !cm_yaml_is_null(f)) {
        snprintf(path, sizeof path, "%s%sfunctions", prefix, *prefix ? "." : "");
        if (f->type != CM_YNODE_SEQ || f->n > LGC_MAX_FUNCTIONS)
            return cm_opt_errorf(&s->err_store, doc, f, path, "expected a list of at most %d",
                                 LGC_MAX_FUNCTIONS);
        s->functions = cm_xcalloc(f->n + 1, sizeof *s->functions);
        for (size_t i = 0; i < f->n; i++) {
            snprintf(path, sizeof path, "%s%sfunctions[%zu]", prefix, *prefix ? "." : "", i);
            if (scalar_name(doc, f->vals[i], path, &s->functions[s->n_functions], &s->err_store))
                return CM_EINVAL;
            s->n_functions++;
        }
    }
    return 0;
}

int lgc_settings_parse(const struct cm_ydoc *doc, const struct cm_ynode *map, const char *path,
                       struct lgc_settings *out, struct cm_opt_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = cm_opt_defaults(lgc_opts, out, err);
    if (!rc)
        rc = cm_opt_apply(lgc_opts, doc, map, path ? path : "", out, err);
    if (!rc) {
        rc = parse_lists(out, doc, path ? path : "");
        if (rc && err)
            *err = out->err_store;
    }
    if (rc)
        lgc_settings_free(out);
    return rc;
}

void lgc_settings_free(struct lgc_settings *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_queues; i++) {
        free((char *)s->queues[i].name);
        free((char *)s->queues[i].dlq_name);
    }
    for (size_t i = 0; i < s->n_functions; i++)
        free(s->functions[i]);
    free(s->queues);
    free(s->functions);
    cm_opt_free(lgc_opts, s);
    memset(s, 0, sizeof *s);
}

void lgc_settings_config(const struct lgc_settings *s, struct lgc_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->queues = s->queues;
    cfg->n_queues = s->n_queues;
    cfg->functions = (const char *const *)s->functions;
    cfg->n_functions = s->n_functions;
    cfg->interval_ns = s->interval_ns;
    cfg->call_timeout_ms = s->call_timeout_ns / 1000000;
    cfg->no_cloudwatch = !s->cloudwatch;
    cfg->no_logs = !s->logs;
}
