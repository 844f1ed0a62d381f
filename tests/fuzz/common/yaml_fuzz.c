/* yaml_fuzz.c: cm_yaml_parse on arbitrary bytes, a check of the tree's
 * invariants, then cm_opt over it with a scenario-like table (a nested list of
 * phases through CM_OPT_NODE), and cm_opt_set on the first line as key=value. */
#include "cm/opt.h"
#include "cm/yaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct phase {
    int64_t duration_ns;
    double rate_per_s;
    char *name;
};

struct scen {
    int verbose;
    int64_t workers;
    double factor;
    char *target;
    int arrival;
    int64_t think_ns;
    double rate_per_s;
    uint64_t body_bytes;
    uint64_t requests;
    double error_budget;
    const struct cm_ynode *phases;
};

static const struct cm_opt phase_opts[] = {
    CM_OPT_DURATION(struct phase, duration_ns, "duration", "30s", 1e6, 3.6e12, "Length."),
    CM_OPT_RATE(struct phase, rate_per_s, "rate", NULL, 0, 1e6, "Rate."),
    CM_OPT_STRING(struct phase, name, "name", NULL, "Label."),
    CM_OPT_END,
};

static const struct cm_opt scen_opts[] = {
    CM_OPT_BOOL(struct scen, verbose, "verbose", "false", "Verbose."),
    CM_OPT_INT(struct scen, workers, "workers", "2", 1, 256, "Workers."),
    CM_OPT_DOUBLE(struct scen, factor, "factor", "1.5", -10, 10, "Factor."),
    CM_OPT_STRING(struct scen, target, "target", "local", "Target."),
    CM_OPT_ENUM(struct scen, arrival, "arrival", "uniform", "uniform|poisson", "Arrivals."),
    CM_OPT_DURATION(struct scen, think_ns, "think_time", "0", 0, 0, "Think time."),
    CM_OPT_RATE(struct scen, rate_per_s, "rate", "10/s", 0, 0, "Rate."),
    CM_OPT_SIZE(struct scen, body_bytes, "body_size", "1KiB", 0, 1e9, "Body."),
    CM_OPT_COUNT(struct scen, requests, "requests", "10k", 0, 0, "Requests."),
    CM_OPT_PERCENT(struct scen, error_budget, "error_budget", "1%", "Errors."),
    CM_OPT_NODE(struct scen, phases, "phases", "Phases."),
    CM_OPT_END,
};

static void check_tree(const struct cm_ynode *n, int depth)
{
    if (!n || depth > 64 || n->line < 1 || n->col < 1)
        abort();
    if (n->type == CM_YNODE_SCALAR) {
        if (!n->str || n->str[n->len] != '\0')
            abort();
        return;
    }
    if (n->type != CM_YNODE_MAP && n->type != CM_YNODE_SEQ)
        abort();
    for (size_t i = 0; i < n->n; i++) {
        if (n->type == CM_YNODE_MAP) {
            const struct cm_ynode *k = n->keys[i];
            if (k->type != CM_YNODE_SCALAR)
                abort();
            for (size_t j = 0; j < i && n->n <= 64; j++)
                if (n->keys[j]->len == k->len && memcmp(n->keys[j]->str, k->str, k->len) == 0)
                    abort(); /* duplicates are refused */
            if (n->n <= 64 && strlen(k->str) == k->len && cm_yaml_get(n, k->str) == NULL)
                abort();
        }
        /* Aliases share nodes: only descend into the first few items, so an
         * input near the node cap stays fast. */
        if (i < 16)
            check_tree(n->vals[i], depth + 1);
    }
}

static void check_msg(const struct cm_opt_err *err, const char *name)
{
    if (strncmp(err->msg, name, strlen(name)) != 0 || !memchr(err->msg, '\0', sizeof err->msg))
        abort();
}

static void apply_tables(const struct cm_ydoc *doc)
{
    struct scen s;
    struct cm_opt_err err;
    if (cm_opt_defaults(scen_opts, &s, &err) != 0)
        abort();
    if (cm_opt_apply(scen_opts, doc, doc->root, "", &s, &err) != 0) {
        check_msg(&err, doc->name);
    } else if (s.phases && s.phases->type == CM_YNODE_SEQ) {
        for (size_t i = 0; i < s.phases->n && i < 8; i++) {
            struct phase p;
            char path[32];
            snprintf(path, sizeof path, "phases[%zu]", i);
            cm_opt_defaults(phase_opts, &p, NULL);
            if (cm_opt_apply(phase_opts, doc, s.phases->vals[i], path, &p, &err) != 0)
                check_msg(&err, doc->name);
            cm_opt_free(phase_opts, &p);
        }
    }
    cm_opt_free(scen_opts, &s);
}

/* "key=value" from the first line, like --set. */
static void set_first_line(const char *p, size_t n)
{
    const char *nl = memchr(p, '\n', n);
    size_t len = nl ? (size_t)(nl - p) : n;
    const char *eq = memchr(p, '=', len);
    if (!eq || len > 256)
        return;
    char key[257], val[257];
    size_t kn = (size_t)(eq - p);
    memcpy(key, p, kn);
    key[kn] = '\0';
    memcpy(val, eq + 1, len - kn - 1);
    val[len - kn - 1] = '\0';
    struct scen s;
    struct cm_opt_err err;
    cm_opt_defaults(scen_opts, &s, NULL);
    if (cm_opt_set(scen_opts, key, val, &s, &err) != 0 && strncmp(err.msg, "--", 2) != 0)
        abort();
    cm_opt_free(scen_opts, &s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cm_ydoc *doc = NULL;
    char err[256];
    int rc = cm_yaml_parse((const char *)data, size, "fuzz.yaml", &doc, err, sizeof err);
    if (rc != 0) {
        if (doc || strncmp(err, "fuzz.yaml:", 10) != 0)
            abort();
    } else {
        if (doc->root)
            check_tree(doc->root, 0);
        apply_tables(doc);
        cm_yaml_free(doc);
    }
    set_first_line((const char *)data, size);
    return 0;
}
