/* sd_stack.c: stack file parsing (see sd_stack.h). */
#include "sd_stack.h"

#include "sd_sched.h"

#include "cm/buf.h"
#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"
#include "cm/opt.h"
#include "cm/yaml.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct top {
    const struct cm_ynode *stack, *functions, *http_api, *websocket_api;
    const struct cm_ynode *event_source_mappings, *schedules, *tables, *queues;
};

static const struct cm_opt top_opts[] = {
    CM_OPT_NODE(struct top, stack, "stack", "Global settings."),
    CM_OPT_NODE(struct top, functions, "functions", "Lambda functions by name."),
    CM_OPT_NODE(struct top, http_api, "http_api", "API Gateway HTTP API routes."),
    CM_OPT_NODE(struct top, websocket_api, "websocket_api", "API Gateway WebSocket API."),
    CM_OPT_NODE(struct top, event_source_mappings, "event_source_mappings",
                "SQS -> Lambda event source mappings (list)."),
    CM_OPT_NODE(struct top, schedules, "schedules",
                "EventBridge scheduled rules invoking functions (list)."),
    CM_OPT_NODE(struct top, tables, "tables", "DynamoDB tables by name."),
    CM_OPT_NODE(struct top, queues, "queues", "SQS standard queues by name."),
    CM_OPT_END,
};

struct glob {
    char *region, *account_id, *api_id;
    int64_t account_concurrency;
    int64_t idle_reclaim_ns;
};

static const struct cm_opt glob_opts[] = {
    CM_OPT_STRING(struct glob, region, "region", "us-east-1", "AWS region reported everywhere."),
    CM_OPT_STRING(struct glob, account_id, "account_id", "000000000000", "Account id in ARNs."),
    CM_OPT_STRING(struct glob, api_id, "api_id", "local", "HTTP API id (requestContext.apiId)."),
    CM_OPT_INT(struct glob, account_concurrency, "account_concurrency", "1000", 1, 100000,
               "Account concurrency limit over all functions."),
    CM_OPT_DURATION(struct glob, idle_reclaim_ns, "idle_reclaim", "5m", 1e8, 86400e9,
                    "Idle time after which an execution environment is stopped."),
    CM_OPT_END,
};

struct fnopt {
    char *bootstrap, *handler;
    int64_t memory_mb, timeout_ns, reserved;
    const struct cm_ynode *environment;
};

static const struct cm_opt fn_opts[] = {
    CM_OPT_(struct fnopt, bootstrap, "bootstrap", CM_OPT_T_STRING, NULL, 0, 0, NULL, 1,
            "Path of the bootstrap executable (${VAR} and ${VAR:-default} expand)."),
    CM_OPT_STRING(struct fnopt, handler, "handler", "bootstrap", "_HANDLER value."),
    CM_OPT_INT(struct fnopt, memory_mb, "memory_mb", "128", 128, 10240, "Memory size in MB."),
    CM_OPT_DURATION(struct fnopt, timeout_ns, "timeout", "3s", 1e9, 900e9, "Function timeout."),
    CM_OPT_INT(struct fnopt, reserved, "reserved_concurrency", "-1", -1, 100000,
               "Reserved concurrency (-1: none, 0: throttle everything)."),
    CM_OPT_NODE(struct fnopt, environment, "environment", "Environment variables (map)."),
    CM_OPT_END,
};

struct apiopt {
    const struct cm_ynode *routes;
    int64_t integration_timeout_ns;
};

static const struct cm_opt api_opts[] = {
    CM_OPT_NODE(struct apiopt, routes, "routes", "Route key -> function name."),
    CM_OPT_DURATION(struct apiopt, integration_timeout_ns, "integration_timeout", "30s", 50e6, 30e9,
                    "Integration timeout (API Gateway: 50 ms to 30 s); then 503."),
    CM_OPT_END,
};

struct wsopt {
    char *api_id, *stage, *route_selection;
    int64_t idle_timeout_ns, max_duration_ns;
    const struct cm_ynode *routes;
};

static const struct cm_opt ws_opts[] = {
    CM_OPT_STRING(struct wsopt, api_id, "api_id", "localws",
                  "WebSocket API id (requestContext.apiId)."),
    CM_OPT_STRING(struct wsopt, stage, "stage", "prod", "Stage name (requestContext.stage)."),
    CM_OPT_STRING(struct wsopt, route_selection, "route_selection_expression",
                  "$request.body.action", "Route selection: $request.body.<json path>."),
    CM_OPT_DURATION(struct wsopt, idle_timeout_ns, "idle_timeout", "10m", 1e8, 86400e9,
                    "Close connections idle this long (API Gateway: 10 min)."),
    CM_OPT_DURATION(struct wsopt, max_duration_ns, "max_connection_duration", "2h", 1e8, 86400e9,
                    "Close connections open this long (API Gateway: 2 h)."),
    CM_OPT_NODE(struct wsopt, routes, "routes",
                "Route key ($connect, $disconnect, $default, custom) -> function."),
    CM_OPT_END,
};

static int node_err(const char *name, const struct cm_ynode *n, const char *key, const char *why,
                    char *err, size_t err_size)
{
    snprintf(err, err_size, "%s:%d:%d: %s: %s", name, n ? n->line : 1, n ? n->col : 1, key, why);
    return CM_EINVAL;
}

/* Expands ${VAR} and ${VAR:-default} from the environment. */
static int expand_env(const char *s, struct cm_buf *out, const char **why)
{
    for (const char *p = s; *p;) {
        if (p[0] != '$' || p[1] != '{') {
            cm_buf_putc(out, *p++);
            continue;
        }
        const char *close = strchr(p, '}');
        if (!close) {
            *why = "unterminated ${";
            return CM_EINVAL;
        }
        char var[128];
        const char *def = NULL;
        size_t vn = (size_t)(close - p - 2);
        const char *colon = memchr(p + 2, ':', vn);
        if (colon && colon[1] == '-') {
            def = colon + 2;
            vn = (size_t)(colon - p - 2);
        }
        if (vn == 0 || vn >= sizeof(var)) {
            *why = "bad ${VAR} name";
            return CM_EINVAL;
        }
        memcpy(var, p + 2, vn);
        var[vn] = '\0';
        const char *val = getenv(var);
        if (val && *val)
            cm_buf_puts(out, val);
        else if (def)
            cm_buf_append(out, def, (size_t)(close - def));
        else {
            *why = "environment variable in ${...} is not set";
            return CM_EINVAL;
        }
        p = close + 1;
    }
    return 0;
}

static int parse_env_map(const struct cm_ydoc *doc, const struct cm_ynode *n, const char *path,
                         struct sd_stack_fn *fn, char *err, size_t err_size)
{
    if (!n || cm_yaml_is_null(n))
        return 0;
    if (n->type != CM_YNODE_MAP)
        return node_err(doc->name, n, path, "expected a map of NAME: value", err, err_size);
    if (n->n > SD_STACK_MAX_ENV)
        return node_err(doc->name, n, path, "too many variables", err, err_size);
    fn->env_keys = cm_xcalloc(n->n + 1, sizeof(char *));
    fn->env_vals = cm_xcalloc(n->n + 1, sizeof(char *));
    for (size_t i = 0; i < n->n; i++) {
        const struct cm_ynode *k = n->keys[i], *v = n->vals[i];
        if (v->type != CM_YNODE_SCALAR)
            return node_err(doc->name, v, path, "values must be scalars", err, err_size);
        if (k->len == 0 || strchr(k->str, '='))
            return node_err(doc->name, k, path, "bad variable name", err, err_size);
        fn->env_keys[i] = cm_xstrdup(k->str);
        fn->env_vals[i] = cm_xstrdup(v->str);
        fn->n_env++;
    }
    return 0;
}

static int valid_fn_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

static int parse_function(const struct cm_ydoc *doc, const struct cm_ynode *k,
                          const struct cm_ynode *v, const char *base_dir, struct sd_stack_fn *fn,
                          char *err, size_t err_size)
{
    struct fnopt fo;
    struct cm_opt_err oe;
    char path[160];
    int rc;
    memset(&fo, 0, sizeof(fo));
    snprintf(path, sizeof(path), "functions.%s", k->str);
    if (!valid_fn_name(k->str)) {
        rc =
            node_err(doc->name, k, path, "function names are 1-64 of [A-Za-z0-9_-]", err, err_size);
        goto out;
    }
    fn->name = cm_xstrdup(k->str);
    if (v->type != CM_YNODE_MAP) {
        rc = node_err(doc->name, v, path, "expected a map", err, err_size);
        goto out;
    }
    if ((rc = cm_opt_defaults(fn_opts, &fo, &oe)) < 0 ||
        (rc = cm_opt_apply(fn_opts, doc, v, path, &fo, &oe)) < 0) {
        cm_strlcpy(err, oe.msg, err_size);
        goto out;
    }
    struct cm_buf b;
    const char *why = NULL;
    cm_buf_init(&b, 4096);
    rc = expand_env(fo.bootstrap, &b, &why);
    if (rc == 0 && b.len == 0) {
        why = "empty path";
        rc = CM_EINVAL;
    }
    if (rc < 0) {
        char key[192];
        snprintf(key, sizeof(key), "%s.bootstrap", path);
        node_err(doc->name, cm_yaml_get(v, "bootstrap"), key, why, err, err_size);
        cm_buf_deinit(&b);
        goto out;
    }
    if (b.data[0] == '/' || !base_dir || !base_dir[0]) {
        fn->bootstrap = cm_buf_steal(&b, NULL);
    } else {
        struct cm_buf full;
        cm_buf_init(&full, 8192);
        cm_buf_printf(&full, "%s/%s", base_dir, b.data);
        fn->bootstrap = cm_buf_steal(&full, NULL);
    }
    cm_buf_deinit(&b);
    fn->handler = cm_xstrdup(fo.handler ? fo.handler : "bootstrap");
    fn->memory_mb = fo.memory_mb;
    fn->timeout_ns = fo.timeout_ns;
    fn->reserved_concurrency = fo.reserved;
    char envpath[192];
    snprintf(envpath, sizeof(envpath), "%s.environment", path);
    rc = parse_env_map(doc, fo.environment, envpath, fn, err, err_size);
out:
    cm_opt_free(fn_opts, &fo);
    return rc;
}

static int parse_functions(const struct cm_ydoc *doc, const struct cm_ynode *n,
                           const char *base_dir, struct sd_stack *st, char *err, size_t err_size)
{
    if (!n || cm_yaml_is_null(n))
        return 0;
    if (n->type != CM_YNODE_MAP)
        return node_err(doc->name, n, "functions", "expected a map of name: {...}", err, err_size);
    if (n->n > SD_STACK_MAX_FUNCTIONS)
        return node_err(doc->name, n, "functions", "too many functions", err, err_size);
    st->fns = cm_xcalloc(n->n + 1, sizeof(*st->fns));
    for (size_t i = 0; i < n->n; i++) {
        int rc = parse_function(doc, n->keys[i], n->vals[i], base_dir, &st->fns[i], err, err_size);
        st->n_fns++;
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* "$default" or "METHOD /path" with METHOD one of the HTTP API's. */
static const char *check_route_key(const char *k)
{
    static const char *methods[] = {"ANY",  "GET",   "POST",    "PUT", "DELETE",
                                    "HEAD", "PATCH", "OPTIONS", NULL};
    if (strcmp(k, "$default") == 0)
        return NULL;
    const char *sp = strchr(k, ' ');
    if (!sp)
        return "expected \"METHOD /path\" or \"$default\"";
    int ok = 0;
    for (int i = 0; methods[i]; i++) {
        if (strlen(methods[i]) == (size_t)(sp - k) && strncmp(methods[i], k, (size_t)(sp - k)) == 0)
            ok = 1;
    }
    if (!ok)
        return "unknown method (ANY GET POST PUT DELETE HEAD PATCH OPTIONS)";
    if (sp[1] != '/')
        return "path must start with '/'";
    for (const char *p = sp + 1; *p; p++) {
        if (*p == ' ' || *p == '?' || *p == '#')
            return "path must not contain spaces, '?' or '#'";
        if (*p == '{') {
            const char *c = strchr(p, '}');
            if (!c || c == p + 1 || (c[1] != '/' && c[1] != '\0') || p[-1] != '/')
                return "path parameters are whole segments like /{id}";
            if (c[-1] == '+' && c[1] != '\0')
                return "a greedy {name+} parameter must be the last segment";
        }
    }
    return NULL;
}

static int parse_http_api(const struct cm_ydoc *doc, const struct cm_ynode *n, struct sd_stack *st,
                          char *err, size_t err_size)
{
    struct apiopt ao;
    struct cm_opt_err oe;
    memset(&ao, 0, sizeof(ao));
    st->integration_timeout_ns = 30 * 1000000000LL;
    if (!n || cm_yaml_is_null(n))
        return 0;
    if (cm_opt_defaults(api_opts, &ao, &oe) < 0 ||
        cm_opt_apply(api_opts, doc, n, "http_api", &ao, &oe) < 0) {
        cm_strlcpy(err, oe.msg, err_size);
        return CM_EINVAL;
    }
    st->integration_timeout_ns = ao.integration_timeout_ns;
    const struct cm_ynode *r = ao.routes;
    if (!r || cm_yaml_is_null(r))
        return 0;
    if (r->type != CM_YNODE_MAP)
        return node_err(doc->name, r, "http_api.routes", "expected a map of \"METHOD /path\": fn",
                        err, err_size);
    if (r->n > SD_STACK_MAX_ROUTES)
        return node_err(doc->name, r, "http_api.routes", "more than 300 routes", err, err_size);
    st->routes = cm_xcalloc(r->n + 1, sizeof(*st->routes));
    for (size_t i = 0; i < r->n; i++) {
        const struct cm_ynode *k = r->keys[i], *v = r->vals[i];
        char path[160];
        snprintf(path, sizeof(path), "http_api.routes.%s", k->str);
        const char *why = check_route_key(k->str);
        if (why)
            return node_err(doc->name, k, path, why, err, err_size);
        if (v->type != CM_YNODE_SCALAR || v->len == 0)
            return node_err(doc->name, v, path, "expected a function name", err, err_size);
        if (!sd_stack_find_fn(st, v->str))
            return node_err(doc->name, v, path, "no such function in functions:", err, err_size);
        st->routes[i].route_key = cm_xstrdup(k->str);
        st->routes[i].function = cm_xstrdup(v->str);
        st->n_routes++;
    }
    return 0;
}

static int parse_ws_routes(const struct cm_ydoc *doc, const struct cm_ynode *r, struct sd_stack *st,
                           char *err, size_t err_size)
{
    if (!r || cm_yaml_is_null(r))
        return 0;
    if (r->type != CM_YNODE_MAP)
        return node_err(doc->name, r, "websocket_api.routes", "expected a map of route key: fn",
                        err, err_size);
    if (r->n > SD_STACK_MAX_WS_ROUTES)
        return node_err(doc->name, r, "websocket_api.routes", "more than 300 routes", err,
                        err_size);
    st->ws.routes = cm_xcalloc(r->n + 1, sizeof(*st->ws.routes));
    for (size_t i = 0; i < r->n; i++) {
        const struct cm_ynode *k = r->keys[i], *v = r->vals[i];
        char path[160];
        snprintf(path, sizeof(path), "websocket_api.routes.%s", k->str);
        if (k->len == 0 || k->len > 128 ||
            (k->str[0] == '$' && strcmp(k->str, "$connect") != 0 &&
             strcmp(k->str, "$disconnect") != 0 && strcmp(k->str, "$default") != 0))
            return node_err(doc->name, k, path,
                            "expected $connect, $disconnect, $default or a custom route key", err,
                            err_size);
        if (v->type != CM_YNODE_SCALAR || v->len == 0)
            return node_err(doc->name, v, path, "expected a function name", err, err_size);
        if (!sd_stack_find_fn(st, v->str))
            return node_err(doc->name, v, path, "no such function in functions:", err, err_size);
        st->ws.routes[i].route_key = cm_xstrdup(k->str);
        st->ws.routes[i].function = cm_xstrdup(v->str);
        st->ws.n_routes++;
    }
    return 0;
}

static int parse_websocket_api(const struct cm_ydoc *doc, const struct cm_ynode *n,
                               struct sd_stack *st, char *err, size_t err_size)
{
    struct wsopt wo;
    struct cm_opt_err oe;
    int rc;
    memset(&wo, 0, sizeof(wo));
    if (!n)
        return 0;
    if ((rc = cm_opt_defaults(ws_opts, &wo, &oe)) < 0 ||
        (!cm_yaml_is_null(n) &&
         (rc = cm_opt_apply(ws_opts, doc, n, "websocket_api", &wo, &oe)) < 0)) {
        cm_strlcpy(err, oe.msg, err_size);
        goto out;
    }
    if (strncmp(wo.route_selection, "$request.body.", 14) != 0 || !wo.route_selection[14]) {
        rc = node_err(doc->name, cm_yaml_get(n, "route_selection_expression"),
                      "websocket_api.route_selection_expression",
                      "expected $request.body.<field>[.<field>...]", err, err_size);
        goto out;
    }
    st->ws.enabled = 1;
    st->ws.api_id = cm_xstrdup(wo.api_id);
    st->ws.stage = cm_xstrdup(wo.stage);
    st->ws.route_selection = cm_xstrdup(wo.route_selection);
    st->ws.idle_timeout_ns = wo.idle_timeout_ns;
    st->ws.max_duration_ns = wo.max_duration_ns;
    rc = parse_ws_routes(doc, wo.routes, st, err, err_size);
out:
    cm_opt_free(ws_opts, &wo);
    return rc;
}

/* ---------- event_source_mappings and schedules ---------- */

struct esmopt {
    char *queue, *function;
    int64_t batch_size, window_ns, max_concurrency;
    int report_failures, enabled;
};

static const struct cm_opt esm_opts[] = {
    CM_OPT_(struct esmopt, queue, "queue", CM_OPT_T_STRING, NULL, 0, 0, NULL, 1, "SQS queue name."),
    CM_OPT_(struct esmopt, function, "function", CM_OPT_T_STRING, NULL, 0, 0, NULL, 1,
            "Function invoked with the batches."),
    CM_OPT_INT(struct esmopt, batch_size, "batch_size", "10", 1, 10000,
               "Records per batch (above 10 needs batching_window >= 1s)."),
    CM_OPT_DURATION(struct esmopt, window_ns, "batching_window", "0s", 0, 300e9,
                    "MaximumBatchingWindowInSeconds: gather up to this long (whole seconds)."),
    CM_OPT_INT(struct esmopt, max_concurrency, "maximum_concurrency", "0", 0, 1000,
               "ScalingConfig.MaximumConcurrency 2..1000 (0: not set)."),
    CM_OPT_BOOL(struct esmopt, report_failures, "report_batch_item_failures", "false",
                "FunctionResponseTypes [ReportBatchItemFailures]."),
    CM_OPT_BOOL(struct esmopt, enabled, "enabled", "true", "Poll the queue."),
    CM_OPT_END,
};

static int parse_esm(const struct cm_ydoc *doc, const struct cm_ynode *n, size_t i,
                     struct sd_stack *st, char *err, size_t err_size)
{
    struct esmopt eo;
    struct cm_opt_err oe;
    char path[64];
    int rc;
    memset(&eo, 0, sizeof(eo));
    snprintf(path, sizeof(path), "event_source_mappings[%zu]", i);
    if (n->type != CM_YNODE_MAP) {
        rc = node_err(doc->name, n, path, "expected a map {queue, function, ...}", err, err_size);
        goto out;
    }
    if ((rc = cm_opt_defaults(esm_opts, &eo, &oe)) < 0 ||
        (rc = cm_opt_apply(esm_opts, doc, n, path, &eo, &oe)) < 0) {
        cm_strlcpy(err, oe.msg, err_size);
        goto out;
    }
    char key[96];
    if (!sd_stack_find_fn(st, eo.function)) {
        snprintf(key, sizeof(key), "%s.function", path);
        rc = node_err(doc->name, cm_yaml_get(n, "function"), key,
                      "no such function in functions:", err, err_size);
        goto out;
    }
    if (eo.window_ns % 1000000000 != 0 || (eo.batch_size > 10 && eo.window_ns < 1000000000)) {
        snprintf(key, sizeof(key), "%s.batching_window", path);
        rc = node_err(
            doc->name, cm_yaml_get(n, "batching_window") ? cm_yaml_get(n, "batching_window") : n,
            key, "whole seconds 0..300, at least 1s when batch_size is above 10", err, err_size);
        goto out;
    }
    if (eo.max_concurrency == 1) {
        snprintf(key, sizeof(key), "%s.maximum_concurrency", path);
        rc = node_err(doc->name, cm_yaml_get(n, "maximum_concurrency"), key,
                      "must be between 2 and 1000", err, err_size);
        goto out;
    }
    struct sd_stack_esm *m = &st->esms[st->n_esms++];
    m->queue = cm_xstrdup(eo.queue);
    m->function = cm_xstrdup(eo.function);
    m->batch_size = eo.batch_size;
    m->window_s = eo.window_ns / 1000000000;
    m->max_concurrency = eo.max_concurrency;
    m->report_failures = eo.report_failures;
    m->enabled = eo.enabled;
    m->line = n->line;
    m->col = n->col;
out:
    cm_opt_free(esm_opts, &eo);
    return rc;
}

static int parse_esms(const struct cm_ydoc *doc, const struct cm_ynode *n, struct sd_stack *st,
                      char *err, size_t err_size)
{
    if (!n || cm_yaml_is_null(n))
        return 0;
    if (n->type != CM_YNODE_SEQ)
        return node_err(doc->name, n, "event_source_mappings", "expected a list of mappings", err,
                        err_size);
    if (n->n > SD_STACK_MAX_ESMS)
        return node_err(doc->name, n, "event_source_mappings", "too many mappings", err, err_size);
    st->esms = cm_xcalloc(n->n + 1, sizeof(*st->esms));
    for (size_t i = 0; i < n->n; i++) {
        int rc = parse_esm(doc, n->vals[i], i, st, err, err_size);
        if (rc < 0)
            return rc;
    }
    return 0;
}

struct schedopt {
    char *name, *expression, *function, *input;
    int enabled;
};

static const struct cm_opt sched_opts[] = {
    CM_OPT_(struct schedopt, name, "name", CM_OPT_T_STRING, NULL, 0, 0, NULL, 1,
            "Rule name (1-64 of [A-Za-z0-9._-])."),
    CM_OPT_(struct schedopt, expression, "expression", CM_OPT_T_STRING, NULL, 0, 0, NULL, 1,
            "rate(5 minutes) or cron(min hour day-of-month month day-of-week year), UTC."),
    CM_OPT_(struct schedopt, function, "function", CM_OPT_T_STRING, NULL, 0, 0, NULL, 1,
            "Function invoked asynchronously (Event) with the scheduled event."),
    CM_OPT_STRING(struct schedopt, input, "input", NULL,
                  "Constant JSON passed instead of the scheduled event."),
    CM_OPT_BOOL(struct schedopt, enabled, "enabled", "true", "Fire the rule."),
    CM_OPT_END,
};

static int valid_rule_name(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
            return 0;
    }
    return n >= 1 && n <= 64;
}

/* Column of byte off in a scalar's value (plain or quoted, one line). */
static int scalar_col(const struct cm_ynode *v, size_t off)
{
    return v->col + (v->quoted ? 1 : 0) + (int)off;
}

static int parse_schedule(const struct cm_ydoc *doc, const struct cm_ynode *n, size_t i,
                          struct sd_stack *st, char *err, size_t err_size)
{
    struct schedopt so;
    struct cm_opt_err oe;
    char path[64], key[96], why[200];
    int rc;
    memset(&so, 0, sizeof(so));
    snprintf(path, sizeof(path), "schedules[%zu]", i);
    if (n->type != CM_YNODE_MAP) {
        rc = node_err(doc->name, n, path, "expected a map {name, expression, function}", err,
                      err_size);
        goto out;
    }
    if ((rc = cm_opt_defaults(sched_opts, &so, &oe)) < 0 ||
        (rc = cm_opt_apply(sched_opts, doc, n, path, &so, &oe)) < 0) {
        cm_strlcpy(err, oe.msg, err_size);
        goto out;
    }
    if (!valid_rule_name(so.name)) {
        snprintf(key, sizeof(key), "%s.name", path);
        rc = node_err(doc->name, cm_yaml_get(n, "name"), key, "1-64 of [A-Za-z0-9._-]", err,
                      err_size);
        goto out;
    }
    for (size_t k = 0; k < st->n_schedules; k++) {
        if (strcmp(st->schedules[k].name, so.name) == 0) {
            snprintf(key, sizeof(key), "%s.name", path);
            rc = node_err(doc->name, cm_yaml_get(n, "name"), key, "duplicate rule name", err,
                          err_size);
            goto out;
        }
    }
    struct sd_sched sc;
    size_t off = 0;
    if (sd_sched_parse(so.expression, strlen(so.expression), &sc, why, sizeof(why), &off) < 0) {
        const struct cm_ynode *v = cm_yaml_get(n, "expression");
        snprintf(err, err_size, "%s:%d:%d: %s.expression: %s", doc->name, v->line,
                 scalar_col(v, off), path, why);
        rc = CM_EINVAL;
        goto out;
    }
    if (!sd_stack_find_fn(st, so.function)) {
        snprintf(key, sizeof(key), "%s.function", path);
        rc = node_err(doc->name, cm_yaml_get(n, "function"), key,
                      "no such function in functions:", err, err_size);
        goto out;
    }
    if (so.input) {
        cJSON *j = cm_json_parse(so.input, strlen(so.input));
        cJSON_Delete(j);
        if (!j) {
            snprintf(key, sizeof(key), "%s.input", path);
            rc = node_err(doc->name, cm_yaml_get(n, "input"), key, "not valid JSON", err, err_size);
            goto out;
        }
    }
    struct sd_stack_schedule *s = &st->schedules[st->n_schedules++];
    s->name = cm_xstrdup(so.name);
    s->expression = cm_xstrdup(so.expression);
    s->function = cm_xstrdup(so.function);
    s->input = so.input ? cm_xstrdup(so.input) : NULL;
    s->enabled = so.enabled;
out:
    cm_opt_free(sched_opts, &so);
    return rc;
}

static int parse_schedules(const struct cm_ydoc *doc, const struct cm_ynode *n, struct sd_stack *st,
                           char *err, size_t err_size)
{
    if (!n || cm_yaml_is_null(n))
        return 0;
    if (n->type != CM_YNODE_SEQ)
        return node_err(doc->name, n, "schedules", "expected a list of rules", err, err_size);
    if (n->n > SD_STACK_MAX_SCHEDULES)
        return node_err(doc->name, n, "schedules", "too many rules", err, err_size);
    st->schedules = cm_xcalloc(n->n + 1, sizeof(*st->schedules));
    for (size_t i = 0; i < n->n; i++) {
        int rc = parse_schedule(doc, n->vals[i], i, st, err, err_size);
        if (rc < 0)
            return rc;
    }
    return 0;
}

struct tblopt {
    char *hash_key, *range_key, *ttl;
    int hash_type, range_type;
};

static const struct cm_opt table_opts[] = {
    CM_OPT_(struct tblopt, hash_key, "hash_key", CM_OPT_T_STRING, NULL, 0, 0, NULL, 1,
            "Partition key attribute name."),
    CM_OPT_ENUM(struct tblopt, hash_type, "hash_type", "S", "S|N|B", "Partition key type."),
    CM_OPT_STRING(struct tblopt, range_key, "range_key", NULL,
                  "Sort key attribute name (optional)."),
    CM_OPT_ENUM(struct tblopt, range_type, "range_type", "S", "S|N|B", "Sort key type."),
    CM_OPT_STRING(struct tblopt, ttl, "ttl_attribute", NULL,
                  "TTL attribute (epoch seconds); off when unset."),
    CM_OPT_END,
};

/* DynamoDB table names: 3-255 of [A-Za-z0-9_.-]. */
static int valid_table_name(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > 255)
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static int parse_tables(const struct cm_ydoc *doc, const struct cm_ynode *n, struct sd_stack *st,
                        char *err, size_t err_size)
{
    static const char *const types[] = {"S", "N", "B"};
    if (!n || cm_yaml_is_null(n))
        return 0;
    if (n->type != CM_YNODE_MAP)
        return node_err(doc->name, n, "tables", "expected a map of name: {hash_key, ...}", err,
                        err_size);
    st->tables = cm_xcalloc(n->n + 1, sizeof(*st->tables));
    for (size_t i = 0; i < n->n; i++) {
        struct tblopt to;
        struct cm_opt_err oe;
        char path[300];
        int rc = 0;
        memset(&to, 0, sizeof(to));
        snprintf(path, sizeof(path), "tables.%s", n->keys[i]->str);
        if (!valid_table_name(n->keys[i]->str))
            return node_err(doc->name, n->keys[i], path, "table names are 3-255 of [A-Za-z0-9_.-]",
                            err, err_size);
        if (cm_opt_defaults(table_opts, &to, &oe) < 0 ||
            cm_opt_apply(table_opts, doc, n->vals[i], path, &to, &oe) < 0) {
            cm_strlcpy(err, oe.msg, err_size);
            rc = CM_EINVAL;
        } else {
            struct sd_stack_table *t = &st->tables[st->n_tables++];
            t->name = cm_xstrdup(n->keys[i]->str);
            t->hash_key = cm_xstrdup(to.hash_key);
            t->hash_type = cm_xstrdup(types[to.hash_type]);
            if (to.range_key && to.range_key[0]) {
                t->range_key = cm_xstrdup(to.range_key);
                t->range_type = cm_xstrdup(types[to.range_type]);
            }
            t->ttl_attr = to.ttl && to.ttl[0] ? cm_xstrdup(to.ttl) : NULL;
        }
        cm_opt_free(table_opts, &to);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---------- queues ---------- */

struct qopt {
    int64_t vis_ns, ret_ns, delay_ns, wait_ns;
    uint64_t max_bytes;
    const struct cm_ynode *redrive;
};

static const struct cm_opt queue_opts[] = {
    CM_OPT_DURATION(struct qopt, vis_ns, "visibility_timeout", "30s", 0, 43200e9,
                    "VisibilityTimeout (whole seconds, up to 12h)."),
    CM_OPT_DURATION(struct qopt, ret_ns, "message_retention", "4d", 60e9, 1209600e9,
                    "MessageRetentionPeriod (1m..14d)."),
    CM_OPT_DURATION(struct qopt, delay_ns, "delay", "0s", 0, 900e9, "DelaySeconds (up to 15m)."),
    CM_OPT_DURATION(struct qopt, wait_ns, "receive_wait", "0s", 0, 20e9,
                    "ReceiveMessageWaitTimeSeconds: default long poll (up to 20s)."),
    CM_OPT_SIZE(struct qopt, max_bytes, "max_message_size", "1048576", 1024, 1048576,
                "MaximumMessageSize in bytes (1KiB..1MiB)."),
    CM_OPT_NODE(struct qopt, redrive, "redrive_policy",
                "{dead_letter_queue: <queue here>, max_receive_count: 1..1000}."),
    CM_OPT_END,
};

struct rdopt {
    char *dlq;
    int64_t max_receive;
};

static const struct cm_opt redrive_opts[] = {
    CM_OPT_(struct rdopt, dlq, "dead_letter_queue", CM_OPT_T_STRING, NULL, 0, 0, NULL, 1,
            "Queue that receives messages received max_receive_count times."),
    CM_OPT_(struct rdopt, max_receive, "max_receive_count", CM_OPT_T_INT, NULL, 1, 1000, NULL, 1,
            "Receives before a message moves to the dead-letter queue."),
    CM_OPT_END,
};

static int valid_queue_name(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= 80 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

static int parse_queue(const struct cm_ydoc *doc, const struct cm_ynode *map, size_t i,
                       struct sd_stack *st, char *err, size_t err_size)
{
    const struct cm_ynode *k = map->keys[i], *v = map->vals[i];
    struct qopt qo;
    struct rdopt ro;
    struct cm_opt_err oe;
    char path[300], rpath[340];
    int rc = 0;
    memset(&qo, 0, sizeof(qo));
    memset(&ro, 0, sizeof(ro));
    snprintf(path, sizeof(path), "queues.%s", k->str);
    if (!valid_queue_name(k->str))
        return node_err(doc->name, k, path,
                        "queue names are 1-80 of [A-Za-z0-9_-] (FIFO queues are not emulated)", err,
                        err_size);
    if (cm_opt_defaults(queue_opts, &qo, &oe) < 0 ||
        (!cm_yaml_is_null(v) && cm_opt_apply(queue_opts, doc, v, path, &qo, &oe) < 0)) {
        cm_strlcpy(err, oe.msg, err_size);
        return CM_EINVAL;
    }
    const int64_t durs[] = {qo.vis_ns, qo.ret_ns, qo.delay_ns, qo.wait_ns};
    for (int d = 0; d < 4; d++) {
        if (durs[d] % 1000000000 == 0)
            continue;
        snprintf(rpath, sizeof(rpath), "%s.%s", path, queue_opts[d].key);
        return node_err(doc->name, cm_yaml_get(v, queue_opts[d].key), rpath,
                        "SQS takes whole seconds", err, err_size);
    }
    snprintf(rpath, sizeof(rpath), "%s.redrive_policy", path);
    if (qo.redrive && !cm_yaml_is_null(qo.redrive)) {
        if (cm_opt_defaults(redrive_opts, &ro, &oe) < 0 ||
            cm_opt_apply(redrive_opts, doc, qo.redrive, rpath, &ro, &oe) < 0) {
            cm_strlcpy(err, oe.msg, err_size);
            rc = CM_EINVAL;
        } else if (strcmp(ro.dlq, k->str) == 0 || !cm_yaml_get(map, ro.dlq)) {
            rc = node_err(doc->name, cm_yaml_get(qo.redrive, "dead_letter_queue"), rpath,
                          "dead_letter_queue must be another queue of this stack", err, err_size);
        }
    }
    if (rc == 0) {
        struct sd_stack_queue *q = &st->queues[st->n_queues++];
        q->name = cm_xstrdup(k->str);
        q->visibility_timeout_s = qo.vis_ns / 1000000000;
        q->retention_s = qo.ret_ns / 1000000000;
        q->delay_s = qo.delay_ns / 1000000000;
        q->receive_wait_s = qo.wait_ns / 1000000000;
        q->max_message_bytes = (int64_t)qo.max_bytes;
        q->dlq = ro.dlq ? cm_xstrdup(ro.dlq) : NULL;
        q->max_receive_count = ro.max_receive;
    }
    cm_opt_free(redrive_opts, &ro);
    return rc;
}

static int parse_queues(const struct cm_ydoc *doc, const struct cm_ynode *n, struct sd_stack *st,
                        char *err, size_t err_size)
{
    if (!n || cm_yaml_is_null(n))
        return 0;
    if (n->type != CM_YNODE_MAP)
        return node_err(doc->name, n, "queues", "expected a map of name: {visibility_timeout, ...}",
                        err, err_size);
    st->queues = cm_xcalloc(n->n + 1, sizeof(*st->queues));
    for (size_t i = 0; i < n->n; i++) {
        int rc = parse_queue(doc, n, i, st, err, err_size);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int parse_doc(const struct cm_ydoc *doc, const char *base_dir, struct sd_stack *st,
                     char *err, size_t err_size)
{
    struct top t;
    struct glob g;
    struct cm_opt_err oe;
    int rc;
    memset(&t, 0, sizeof(t));
    memset(&g, 0, sizeof(g));
    if (!doc->root || doc->root->type != CM_YNODE_MAP) {
        rc = node_err(doc->name, doc->root, "(top)", "expected a map with stack/functions/http_api",
                      err, err_size);
        goto out;
    }
    if ((rc = cm_opt_apply(top_opts, doc, doc->root, "", &t, &oe)) < 0 ||
        (rc = cm_opt_defaults(glob_opts, &g, &oe)) < 0) {
        cm_strlcpy(err, oe.msg, err_size);
        goto out;
    }
    if (t.stack && !cm_yaml_is_null(t.stack) &&
        (rc = cm_opt_apply(glob_opts, doc, t.stack, "stack", &g, &oe)) < 0) {
        cm_strlcpy(err, oe.msg, err_size);
        goto out;
    }
    st->region = cm_xstrdup(g.region);
    st->account_id = cm_xstrdup(g.account_id);
    st->api_id = cm_xstrdup(g.api_id);
    st->account_concurrency = g.account_concurrency;
    st->idle_reclaim_ns = g.idle_reclaim_ns;
    if ((rc = parse_functions(doc, t.functions, base_dir, st, err, err_size)) < 0)
        goto out;
    if ((rc = parse_http_api(doc, t.http_api, st, err, err_size)) < 0)
        goto out;
    if ((rc = parse_websocket_api(doc, t.websocket_api, st, err, err_size)) < 0)
        goto out;
    if ((rc = parse_esms(doc, t.event_source_mappings, st, err, err_size)) < 0)
        goto out;
    if ((rc = parse_schedules(doc, t.schedules, st, err, err_size)) < 0)
        goto out;
    if ((rc = parse_tables(doc, t.tables, st, err, err_size)) < 0)
        goto out;
    rc = parse_queues(doc, t.queues, st, err, err_size);
out:
    cm_opt_free(glob_opts, &g);
    return rc;
}

int sd_stack_parse(const char *text, size_t len, const char *name, const char *base_dir,
                   struct sd_stack **out, char *err, size_t err_size)
{
    struct cm_ydoc *doc = NULL;
    struct sd_stack *st = cm_xcalloc(1, sizeof(*st));
    int rc = cm_yaml_parse(text, len, name, &doc, err, err_size);
    if (rc == 0)
        rc = parse_doc(doc, base_dir, st, err, err_size);
    cm_yaml_free(doc);
    if (rc < 0) {
        sd_stack_free(st);
        return rc;
    }
    *out = st;
    return 0;
}

int sd_stack_load(const char *path, struct sd_stack **out, char *err, size_t err_size)
{
    FILE *f = fopen(path, "rb");
    struct cm_buf b;
    char dir[4096];
    int rc = 0;
    cm_buf_init(&b, 16 << 20);
    if (!f) {
        snprintf(err, err_size, "%s: cannot open: %s", path, cm_strerror(CM_ENOTFOUND));
        rc = CM_ENOTFOUND;
        goto out;
    }
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (cm_buf_append(&b, chunk, n) < 0) {
            snprintf(err, err_size, "%s: file too large", path);
            rc = CM_ETOOBIG;
            goto out;
        }
    }
    cm_strlcpy(dir, path, sizeof(dir));
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        cm_strlcpy(dir, ".", sizeof(dir));
    rc = sd_stack_parse(b.data ? b.data : "", b.len, path, dir, out, err, err_size);
out:
    if (f)
        fclose(f);
    cm_buf_deinit(&b);
    return rc;
}

void sd_stack_free(struct sd_stack *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n_fns; i++) {
        struct sd_stack_fn *fn = &st->fns[i];
        free(fn->name);
        free(fn->bootstrap);
        free(fn->handler);
        for (size_t j = 0; j < fn->n_env; j++) {
            free(fn->env_keys[j]);
            free(fn->env_vals[j]);
        }
        free(fn->env_keys);
        free(fn->env_vals);
    }
    for (size_t i = 0; i < st->n_routes; i++) {
        free(st->routes[i].route_key);
        free(st->routes[i].function);
    }
    for (size_t i = 0; i < st->ws.n_routes; i++) {
        free(st->ws.routes[i].route_key);
        free(st->ws.routes[i].function);
    }
    free(st->ws.routes);
    free(st->ws.api_id);
    free(st->ws.stage);
    free(st->ws.route_selection);
    for (size_t i = 0; i < st->n_esms; i++) {
        free(st->esms[i].queue);
        free(st->esms[i].function);
    }
    free(st->esms);
    for (size_t i = 0; i < st->n_schedules; i++) {
        free(st->schedules[i].name);
        free(st->schedules[i].expression);
        free(st->schedules[i].function);
        free(st->schedules[i].input);
    }
    free(st->schedules);
    for (size_t i = 0; i < st->n_tables; i++) {
        struct sd_stack_table *t = &st->tables[i];
        free(t->name);
        free(t->hash_key);
        free(t->hash_type);
        free(t->range_key);
        free(t->range_type);
        free(t->ttl_attr);
    }
    free(st->tables);
    for (size_t i = 0; i < st->n_queues; i++) {
        free(st->queues[i].name);
        free(st->queues[i].dlq);
    }
    free(st->queues);
    free(st->fns);
    free(st->routes);
    free(st->region);
    free(st->account_id);
    free(st->api_id);
    free(st);
}

const struct sd_stack_fn *sd_stack_find_fn(const struct sd_stack *st, const char *name)
{
    for (size_t i = 0; i < st->n_fns; i++) {
        if (st->fns[i].name && strcmp(st->fns[i].name, name) == 0)
            return &st->fns[i];
    }
    return NULL;
}
