/* scenario.c: scenario loading (see scenario.h). The option tables below are
 * the schema: YAML validation, --set overrides and the generated reference
 * (scenarios/README.md, `loadgen docs`) all come from them. */
#include "scenario.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cm/buf.h"
#include "cm/clock.h"
#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"
#include "cm/opt.h"
#include "cm/yaml.h"

#define S struct lg_scenario
static const struct cm_opt top_opts[] = {
    CM_OPT_STRING(S, name, "name", NULL,
                  "Scenario name, used in the run folder (default: file name)."),
    CM_OPT_STRING(S, description, "description", NULL, "What the scenario exercises."),
    CM_OPT_STRING(
        S, target, "target", "local",
        "`local` (start or reuse stackd) or a base URL like https://api.example.com/prod."),
    CM_OPT_BOOL(S, target_confirm, "target_confirm", "false",
                "Allow a non-loopback target without --yes."),
    CM_OPT_ENUM(S, executor, "executor", "open", "open|closed",
                "open: arrivals at the phase rates; closed: `vus` users looping with `think`."),
    CM_OPT_ENUM(S, arrival, "arrival", "uniform", "uniform|poisson",
                "Inter-arrival times: evenly spaced or exponential (Poisson process)."),
    CM_OPT_DURATION(S, warmup_ns, "warmup", "0s", 0, 0,
                    "Warm-up before the first phase at its starting rate; never recorded."),
    CM_OPT_INT(S, vus, "vus", "10", 1, 1000000,
               "Closed model: virtual users (phases may override)."),
    CM_OPT_DURATION(S, think_ns, "think", "0s", 0, 0, "Closed model: pause after each response."),
    CM_OPT_INT(S, workers, "workers", "0", 0, 256, "Worker threads (0: one per core)."),
    CM_OPT_INT(S, seed, "seed", "0", 0, 0,
               "Random seed for Poisson arrivals and the mix (0: random)."),
    CM_OPT_DURATION(S, lag_tolerance_ns, "lag_tolerance", "10ms", 0, 0,
                    "The run is invalid when the generator's p99 schedule lag exceeds this."),
    CM_OPT_DURATION(S, timer_slack_ns, "timer_slack", "0s", 0, 1e9,
                    "Open model: wake for arrivals on a grid of this and send those due together "
                    "(fewer wake-ups, each send at most this late; 0: every arrival on time)."),
    CM_OPT_INT(S, queue_max, "queue_max", "100000", 1, 100000000,
               "Arrivals waiting for a free connection (per run); beyond it they are dropped."),
    CM_OPT_DURATION(S, drain_ns, "drain", "10s", 0, 0,
                    "After the schedule ends, how long to wait for requests in flight."),
    CM_OPT_STRING(S, local_stack, "local_stack", "deploy/local/stack.yaml",
                  "target local: the stack file given to stackd."),
    CM_OPT_INT(
        S, local_port, "local_port", "4566", 0, 65535,
        "target local: reuse a stackd answering on this port, else start one (0: always start)."),
    CM_OPT_PERCENT(S, sample_requests, "sample_requests", "0",
                   "Fraction of requests written to requests.jsonl with their correlation ID "
                   "(1% or 0.01; 0: none)."),
    CM_OPT_NODE(S, phases_n, "phases", "List of load phases (see Phases)."),
    CM_OPT_NODE(S, requests_n, "requests", "Weighted mix of HTTP requests (see Requests)."),
    CM_OPT_NODE(S, thresholds_n, "thresholds", "Pass/fail expressions (see Thresholds)."),
    CM_OPT_NODE(S, http_n, "http", "HTTP client settings (see http)."),
    CM_OPT_NODE(S, corr_n, "correlation", "Correlation headers (see correlation)."),
    CM_OPT_NODE(S, data_n, "data", "A CSV or JSON file of values for {{data.COLUMN}} (see data)."),
    CM_OPT_END,
};
#undef S

#define P struct lg_phase
static const struct cm_opt phase_opts[] = {
    CM_OPT_STRING(P, name, "name", NULL, "Label shown in progress and results."),
    CM_OPT_DURATION(P, duration_ns, "duration", NULL, 1e6, 30.0 * 86400e9,
                    "How long the phase lasts."),
    CM_OPT_RATE(P, rate_per_s, "rate", "0/s", 0, 1e7, "Arrival rate at the start (200/s, 12k/m)."),
    CM_OPT_RATE(P, ramp_raw, "ramp_to", NULL, 0, 1e7,
                "Rate reached at the end, linearly from `rate` (default: constant)."),
    CM_OPT_ENUM(P, arrival_raw, "arrival", NULL, "uniform|poisson",
                "Overrides the scenario's `arrival` for this phase."),
    CM_OPT_BOOL(P, warmup, "warmup", "false", "Run but never record this phase."),
    CM_OPT_INT(P, vus_raw, "vus", NULL, 0, 1000000, "Closed model: users in this phase."),
    CM_OPT_DURATION(P, think_raw, "think", NULL, 0, 0, "Closed model: think time in this phase."),
    CM_OPT_END,
};
#undef P

#define H struct lg_http_cfg
static const struct cm_opt http_opts[] = {
    CM_OPT_ENUM(H, version, "version", "1.1", "1.1|2|2-prior-knowledge",
                "HTTP version: 2 negotiates h2 over TLS (ALPN); 2-prior-knowledge is h2c (broken "
                "on connection reuse in libcurl 7.88.1)."),
    CM_OPT_BOOL(H, tls_verify, "tls_verify", "true",
                "Verify the server certificate and host name."),
    CM_OPT_INT(H, connections, "connections", "64", 1, 100000,
               "Connections in total (split over workers); requests beyond them wait in a queue."),
    CM_OPT_INT(H, max_streams, "max_streams", "100", 1, 10000,
               "HTTP/2: concurrent streams per connection."),
    CM_OPT_DURATION(H, connect_timeout_ns, "connect_timeout", "5s", 1e6, 3600e9,
                    "TCP+TLS connect timeout."),
    CM_OPT_DURATION(H, timeout_ns, "timeout", "30s", 1e6, 3600e9, "Whole-request timeout."),
    CM_OPT_BOOL(H, keepalive, "keepalive", "true",
                "Reuse connections (false: one connection per request)."),
    CM_OPT_ENUM(H, engine, "engine", "auto", "auto|curl|lean",
                "HTTP client: lean (loadgen's own HTTP/1.1 client, http:// only), curl "
                "(libcurl: TLS, HTTP/2); auto picks lean for http:// with version 1.1."),
    CM_OPT_END,
};
#undef H

#define C struct lg_corr_cfg
static const struct cm_opt corr_opts[] = {
    CM_OPT_BOOL(C, enabled, "enabled", "true",
                "Send a fresh correlation ID (UUIDv7) with every request."),
    CM_OPT_STRING(C, header, "header", "X-Correlation-Id", "Header carrying the correlation ID."),
    CM_OPT_BOOL(C, traceparent, "traceparent", "true", "Also send a W3C traceparent header."),
    CM_OPT_BOOL(C, xray, "xray", "false", "Also send an AWS X-Amzn-Trace-Id header."),
    CM_OPT_END,
};
#undef C

#define R struct lg_request
static const struct cm_opt req_opts[] = {
    CM_OPT_STRING(R, name, "name", NULL,
                  "Endpoint name, used in metrics and thresholds (http{name:X})."),
    CM_OPT_STRING(R, method, "method", "GET", "GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS."),
    CM_OPT_STRING(R, path, "path", NULL,
                  "Path (template) appended to the target URL, e.g. /orders/{{id}}."),
    CM_OPT_DOUBLE(R, weight, "weight", "1", 0, 1e9,
                  "Share of the mix (relative to the other requests)."),
    CM_OPT_DURATION(R, timeout_ns, "timeout", "0s", 0, 0, "Per-request timeout (0: http.timeout)."),
    CM_OPT_NODE(R, headers_n, "headers", "Map of header name to value (templates allowed)."),
    CM_OPT_NODE(R, body_n, "body",
                "A string (template) or a mapping sent as JSON (templates in strings)."),
    CM_OPT_NODE(R, expect_n, "expect",
                "Expected statuses: 201, [200, 404] or 2xx (default 2xx and 3xx)."),
    CM_OPT_NODE(
        R, capture_n, "capture",
        "Map of variable to `$.json.path` or `header:Name` from this response, for {{variable}}."),
    CM_OPT_END,
};
#undef R

#define T struct lg_thresh
static const struct cm_opt thresh_opts[] = {
    CM_OPT_STRING(T, text, "threshold", NULL, "The expression, e.g. http.latency.p99 < 300ms."),
    CM_OPT_BOOL(T, abort_on_fail, "abort_on_fail", "false", "Stop the run as soon as it fails."),
    CM_OPT_DURATION(T, delay_ns, "delay", "0s", 0, 0, "Grace period before abort_on_fail applies."),
    CM_OPT_END,
};
#undef T

#define D struct lg_data
static const struct cm_opt data_opts[] = {
    CM_OPT_STRING(D, file, "file", NULL,
                  "CSV (header row) or JSON (array of objects), relative to the scenario."),
    CM_OPT_ENUM(D, order, "order", "sequential", "sequential|random",
                "How rows are picked per request."),
    CM_OPT_END,
};
#undef D

static void serr(char *err, size_t sz, const struct lg_scenario *s, const struct cm_ynode *n,
                 const char *path, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void serr(char *err, size_t sz, const struct lg_scenario *s, const struct cm_ynode *n,
                 const char *path, const char *fmt, ...)
{
    if (!sz)
        return;
    int k;
    size_t ol = n && n->origin ? strlen(n->origin) : 0, pl = strlen(path);
    if (ol && ol >= pl && strcmp(n->origin + ol - pl, path) == 0) /* made by --set */
        k = snprintf(err, sz, "%s: ", n->origin);
    else if (ol)
        k = snprintf(err, sz, "%s: %s: ", n->origin, path);
    else
        k = snprintf(err, sz, "%s:%d:%d: %s: ", s->path, n ? n->line : 1, n ? n->col : 1, path);
    if (k < 0 || (size_t)k >= sz)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + k, sz - (size_t)k, fmt, ap);
    va_end(ap);
}

static int apply(const struct cm_opt *t, struct lg_scenario *s, const struct cm_ynode *n,
                 const char *path, void *obj, char *err, size_t sz)
{
    struct cm_opt_err oe;
    oe.msg[0] = 0;
    if (n && n->type != CM_YNODE_MAP) {
        serr(err, sz, s, n, path, "expected a mapping");
        return CM_EINVAL;
    }
    int rc = cm_opt_apply(t, s->doc, n, path, obj, &oe);
    if (rc)
        cm_strlcpy(err, oe.msg, sz);
    return rc;
}

static int defaults(const struct cm_opt *t, void *obj)
{
    struct cm_opt_err oe;
    return cm_opt_defaults(t, obj, &oe);
}

/* ---- data files ---- */

static int csv_split(const char *line, size_t n, char ***out, size_t *nf)
{
    size_t cap = 8, k = 0, i = 0;
    char **f = cm_xcalloc(cap, sizeof(*f));
    struct cm_buf b;
    cm_buf_init(&b, 1 << 20);
    for (;;) {
        cm_buf_reset(&b);
        if (i < n && line[i] == '"') {
            for (i++; i < n; i++) {
                if (line[i] == '"' && i + 1 < n && line[i + 1] == '"')
                    cm_buf_putc(&b, line[i++]);
                else if (line[i] == '"') {
                    i++;
                    break;
                } else
                    cm_buf_putc(&b, line[i]);
            }
            while (i < n && line[i] != ',')
                i++;
        } else {
            size_t st = i;
            while (i < n && line[i] != ',')
                i++;
            cm_buf_append(&b, line + st, i - st);
        }
        if (k == cap) {
            cap *= 2;
            f = cm_xrealloc(f, cap * sizeof(*f));
        }
        f[k++] = cm_xstrdup(cm_buf_cstr(&b));
        if (i >= n)
            break;
        i++; /* ',' */
    }
    cm_buf_deinit(&b);
    *out = f;
    *nf = k;
    return 0;
}

static void add_row(struct lg_data *d, char **row, size_t *cap)
{
    if (d->n_rows == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        d->rows = cm_xrealloc(d->rows, *cap * sizeof(*d->rows));
    }
    d->rows[d->n_rows++] = row;
}

static int load_csv(struct lg_data *d, const char *p, size_t n, const char **why)
{
    size_t i = 0, cap = 0, line_no = 0;
    while (i < n) {
        size_t st = i;
        while (i < n && p[i] != '\n')
            i++;
        size_t len = i - st;
        if (len && p[st + len - 1] == '\r')
            len--;
        i++;
        if (!len)
            continue;
        char **f;
        size_t nf;
        csv_split(p + st, len, &f, &nf);
        if (line_no++ == 0) {
            d->cols = f;
            d->n_cols = nf;
            continue;
        }
        if (nf != d->n_cols) {
            for (size_t k = 0; k < nf; k++)
                free(f[k]);
            free(f);
            *why = "a row has a different number of fields than the header";
            return CM_EPARSE;
        }
        add_row(d, f, &cap);
    }
    if (!d->n_cols || !d->n_rows) {
        *why = "needs a header row and at least one data row";
        return CM_EPARSE;
    }
    return 0;
}

static char *json_value_text(const cJSON *v)
{
    if (!v)
        return cm_xstrdup("");
    if (cJSON_IsString(v))
        return cm_xstrdup(v->valuestring);
    char *t = cJSON_PrintUnformatted(v);
    char *r = cm_xstrdup(t ? t : "");
    free(t);
    return r;
}

static int load_json(struct lg_data *d, const char *p, size_t n, const char **why)
{
    cJSON *root = cm_json_parse(p, n);
    size_t cap = 0;
    int rc = CM_EPARSE;
    *why = "expected a JSON array of objects";
    if (!root || !cJSON_IsArray(root) || !cJSON_GetArraySize(root) ||
        !cJSON_IsObject(cJSON_GetArrayItem(root, 0)))
        goto out;
    const cJSON *first = cJSON_GetArrayItem(root, 0), *it;
    d->n_cols = (size_t)cJSON_GetArraySize(first);
    d->cols = cm_xcalloc(d->n_cols ? d->n_cols : 1, sizeof(char *));
    size_t k = 0;
    cJSON_ArrayForEach(it, first) d->cols[k++] = cm_xstrdup(it->string ? it->string : "");
    cJSON_ArrayForEach(it, root)
    {
        if (!cJSON_IsObject(it))
            goto out;
        char **row = cm_xcalloc(d->n_cols ? d->n_cols : 1, sizeof(char *));
        for (size_t c = 0; c < d->n_cols; c++)
            row[c] = json_value_text(cJSON_GetObjectItemCaseSensitive(it, d->cols[c]));
        add_row(d, row, &cap);
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

static int read_file(const char *path, char **out, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return CM_ENOTFOUND;
    struct cm_buf b;
    cm_buf_init(&b, 256u << 20);
    char tmp[65536];
    size_t k;
    int rc = 0;
    while ((k = fread(tmp, 1, sizeof(tmp), f)) > 0)
        if ((rc = cm_buf_append(&b, tmp, k)) != 0)
            break;
    fclose(f);
    *out = cm_buf_steal(&b, n);
    if (!*out)
        *out = cm_xstrdup("");
    cm_buf_deinit(&b);
    return rc;
}

static char *relative_to(const char *base, const char *file)
{
    if (file[0] == '/')
        return cm_xstrdup(file);
    const char *slash = strrchr(base, '/');
    if (!slash)
        return cm_xstrdup(file);
    struct cm_buf b;
    cm_buf_init(&b, 0);
    cm_buf_append(&b, base, (size_t)(slash - base) + 1);
    cm_buf_puts(&b, file);
    size_t n;
    char *r = cm_buf_steal(&b, &n);
    cm_buf_deinit(&b);
    return r;
}

static int load_data(struct lg_scenario *s, char *err, size_t sz)
{
    if (!s->data_n)
        return 0;
    int rc = apply(data_opts, s, s->data_n, "data", &s->data, err, sz);
    if (rc)
        return rc;
    const struct cm_ynode *fn = cm_yaml_get(s->data_n, "file");
    if (!s->data.file) {
        serr(err, sz, s, s->data_n, "data.file", "required");
        return CM_EINVAL;
    }
    char *path = relative_to(s->path, s->data.file), *text = NULL;
    size_t n = 0;
    const char *why = "cannot read the file";
    rc = read_file(path, &text, &n);
    if (rc == 0) {
        size_t l = strlen(path);
        rc = (l > 5 && strcmp(path + l - 5, ".json") == 0) ? load_json(&s->data, text, n, &why)
                                                           : load_csv(&s->data, text, n, &why);
    }
    if (rc)
        serr(err, sz, s, fn, "data.file", "%s: %s", path, why);
    free(path);
    free(text);
    return rc ? CM_EINVAL : 0;
}

/* ---- requests ---- */

static int add_var(struct lg_scenario *s, const char *name)
{
    for (size_t i = 0; i < s->n_vars; i++)
        if (strcmp(s->vars[i], name) == 0)
            return (int)i;
    s->vars = cm_xrealloc(s->vars, (s->n_vars + 1) * sizeof(*s->vars));
    s->vars[s->n_vars] = cm_xstrdup(name);
    return (int)s->n_vars++;
}

static int parse_captures(struct lg_scenario *s, struct lg_request *r, const char *path, char *err,
                          size_t sz)
{
    const struct cm_ynode *n = r->capture_n;
    if (!n || cm_yaml_is_null(n))
        return 0;
    if (n->type != CM_YNODE_MAP) {
        serr(err, sz, s, n, path,
             "capture: expected a mapping of variable to $.path or header:Name");
        return CM_EINVAL;
    }
    r->caps = cm_xcalloc(n->n ? n->n : 1, sizeof(*r->caps));
    for (size_t i = 0; i < n->n; i++) {
        const struct cm_ynode *k = n->keys[i], *v = n->vals[i];
        if (v->type != CM_YNODE_SCALAR) {
            serr(err, sz, s, v, path, "capture: %s: expected $.path or header:Name", k->str);
            return CM_EINVAL;
        }
        const char *t = k->str;
        int ok = isalpha((unsigned char)t[0]) || t[0] == '_';
        for (size_t j = 0; t[j]; j++)
            ok = ok && (isalnum((unsigned char)t[j]) || t[j] == '_');
        if (!ok || strncmp(t, "data", 5) == 0) {
            serr(err, sz, s, k, path, "capture: %s: a variable name is letters, digits and _", t);
            return CM_EINVAL;
        }
        struct lg_capture *c = &r->caps[r->n_caps++];
        c->var = add_var(s, t);
        if (strncmp(v->str, "$.", 2) == 0 && v->len > 2) {
            c->from = LG_CAP_JSON;
            c->arg = cm_xstrdup(v->str + 2);
        } else if (strncmp(v->str, "header:", 7) == 0 && v->len > 7) {
            c->from = LG_CAP_HEADER;
            c->arg = cm_xstrdup(v->str + 7);
        } else {
            serr(err, sz, s, v, path, "capture: %s: expected $.path or header:Name", t);
            return CM_EINVAL;
        }
    }
    return 0;
}

static int expect_one(struct lg_request *r, const struct cm_ynode *v)
{
    if (v->type != CM_YNODE_SCALAR)
        return -1;
    const char *t = v->str;
    if (v->len == 3 && t[0] >= '1' && t[0] <= '5' && (t[1] | 32) == 'x' && (t[2] | 32) == 'x') {
        int b = (t[0] - '0') * 100;
        memset(r->expect + b, 1, 100);
        return 0;
    }
    char *end;
    long code = strtol(t, &end, 10);
    if (end == t || *end || code < 100 || code > 599)
        return -1;
    r->expect[code] = 1;
    return 0;
}

static int parse_expect(struct lg_scenario *s, struct lg_request *r, const char *path, char *err,
                        size_t sz)
{
    const struct cm_ynode *n = r->expect_n;
    if (!n || cm_yaml_is_null(n)) {
        memset(r->expect + 200, 1, 200);
        return 0;
    }
    int bad = 0;
    const struct cm_ynode *at = n;
    if (n->type == CM_YNODE_SEQ) {
        for (size_t i = 0; i < n->n && !bad; i++)
            if (expect_one(r, n->vals[i])) {
                bad = 1;
                at = n->vals[i];
            }
        bad = bad || n->n == 0;
    } else {
        bad = expect_one(r, n) != 0;
    }
    if (bad)
        serr(err, sz, s, at, path,
             "expect: expected a status (100..599), a class like 2xx, or a list");
    return bad ? CM_EINVAL : 0;
}

static const struct lg_tmpl_names *names_of(const struct lg_scenario *s, struct lg_tmpl_names *nm)
{
    nm->data_cols = (const char *const *)s->data.cols;
    nm->n_data = s->data.n_cols;
    nm->vars = (const char *const *)s->vars;
    nm->n_vars = s->n_vars;
    return nm;
}

static int compile(struct lg_scenario *s, const struct cm_ynode *n, const char *text, size_t len,
                   int mode, const char *path, struct lg_tmpl **out, char *err, size_t sz)
{
    struct lg_tmpl_names nm;
    const char *why = NULL;
    size_t at = 0;
    int rc = lg_tmpl_compile(text, len, names_of(s, &nm), mode, out, &why, &at);
    if (rc)
        serr(err, sz, s, n, path, "%s (at \"%.*s\")", why, (int)(len - at > 24 ? 24 : len - at),
             text + at);
    return rc ? CM_EINVAL : 0;
}

static int numeric_template(const char *t, size_t n)
{
    static const char *const nums[] = {"{{seq}}", "{{now}}", "{{rand_int "};
    if (n < 4 || t[n - 1] != '}' || t[n - 2] != '}' || memmem(t + 2, n - 4, "{{", 2))
        return 0;
    for (size_t i = 0; i < 3; i++)
        if (strncmp(t, nums[i], strlen(nums[i])) == 0)
            return 1;
    return 0;
}

static int plain_json_scalar(const struct cm_ynode *v)
{
    if (v->quoted)
        return 0;
    if (cm_yaml_is_null(v) || strcmp(v->str, "true") == 0 || strcmp(v->str, "false") == 0)
        return 1;
    char *end;
    strtod(v->str, &end);
    return v->len && *end == 0 && !isspace((unsigned char)v->str[0]) &&
           strspn(v->str, "0123456789+-.eE") == v->len;
}

/* Emits a YAML node as JSON text whose strings may hold templates. */
static void yaml_to_json(const struct cm_ynode *v, struct cm_buf *b)
{
    if (v->type == CM_YNODE_MAP) {
        cm_buf_putc(b, '{');
        for (size_t i = 0; i < v->n; i++) {
            if (i)
                cm_buf_putc(b, ',');
            cm_json_append_string(b, v->keys[i]->str, v->keys[i]->len);
            cm_buf_putc(b, ':');
            yaml_to_json(v->vals[i], b);
        }
        cm_buf_putc(b, '}');
    } else if (v->type == CM_YNODE_SEQ) {
        cm_buf_putc(b, '[');
        for (size_t i = 0; i < v->n; i++) {
            if (i)
                cm_buf_putc(b, ',');
            yaml_to_json(v->vals[i], b);
        }
        cm_buf_putc(b, ']');
    } else if (plain_json_scalar(v)) {
        cm_buf_puts(b, cm_yaml_is_null(v) ? "null" : v->str);
    } else if (numeric_template(v->str, v->len)) {
        cm_buf_append(b, v->str, v->len);
    } else {
        cm_json_append_string(b, v->str, v->len);
    }
}

static int compile_body(struct lg_scenario *s, struct lg_request *r, const char *path, char *err,
                        size_t sz, int *json)
{
    const struct cm_ynode *n = r->body_n;
    *json = 0;
    if (!n || cm_yaml_is_null(n))
        return 0;
    if (n->type == CM_YNODE_SCALAR) {
        /* a string body that is JSON text gets its values JSON-escaped too */
        size_t i = strspn(n->str, " \t\r\n");
        int looks_json = n->str[i] == '{' || n->str[i] == '[';
        return compile(s, n, n->str, n->len, looks_json ? LG_TMPL_JSON : LG_TMPL_RAW, path,
                       &r->body_t, err, sz);
    }
    struct cm_buf b;
    cm_buf_init(&b, 16u << 20);
    yaml_to_json(n, &b);
    *json = 1;
    int rc = compile(s, n, cm_buf_cstr(&b), b.len, LG_TMPL_JSON, path, &r->body_t, err, sz);
    cm_buf_deinit(&b);
    return rc;
}

static void add_header(struct lg_request *r, const char *name, struct lg_tmpl *t)
{
    r->headers = cm_xrealloc(r->headers, (r->n_headers + 1) * sizeof(*r->headers));
    r->headers[r->n_headers].name = cm_xstrdup(name);
    r->headers[r->n_headers++].value = t;
    if (t->dynamic)
        r->headers_dynamic = 1;
}

static int compile_headers(struct lg_scenario *s, struct lg_request *r, const char *path, char *err,
                           size_t sz, int json_body)
{
    const struct cm_ynode *n = r->headers_n;
    int has_ct = 0;
    if (n && !cm_yaml_is_null(n)) {
        if (n->type != CM_YNODE_MAP) {
            serr(err, sz, s, n, path, "headers: expected a mapping of header name to value");
            return CM_EINVAL;
        }
        for (size_t i = 0; i < n->n; i++) {
            const struct cm_ynode *k = n->keys[i], *v = n->vals[i];
            if (v->type != CM_YNODE_SCALAR || strpbrk(k->str, ": \r\n") || !k->len ||
                memchr(v->str, '\n', v->len)) {
                serr(err, sz, s, v, path,
                     "headers: %s: a header is a name without ':' and a one-line value", k->str);
                return CM_EINVAL;
            }
            struct lg_tmpl *t;
            int rc = compile(s, v, v->str, v->len, LG_TMPL_HEADER, path, &t, err, sz);
            if (rc)
                return rc;
            add_header(r, k->str, t);
            has_ct = has_ct || strcasecmp(k->str, "content-type") == 0;
        }
    }
    if (json_body && !has_ct) {
        struct lg_tmpl *t;
        const char *why;
        size_t at;
        lg_tmpl_compile("application/json", 16, NULL, LG_TMPL_RAW, &t, &why, &at);
        add_header(r, "Content-Type", t);
    }
    return 0;
}

static int check_method(const char *m)
{
    static const char *const ok[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (strcmp(m, ok[i]) == 0)
            return 0;
    return -1;
}

static int parse_requests(struct lg_scenario *s, char *err, size_t sz)
{
    const struct cm_ynode *n = s->requests_n;
    char path[64];
    if (!n || n->type != CM_YNODE_SEQ || n->n == 0) {
        serr(err, sz, s, n ? n : s->doc->root, "requests", "expected a non-empty list of requests");
        return CM_EINVAL;
    }
    s->reqs = cm_xcalloc(n->n, sizeof(*s->reqs));
    s->req_names = cm_xcalloc(n->n, sizeof(*s->req_names));
    for (size_t i = 0; i < n->n; i++) { /* pass 1: options and capture names */
        struct lg_request *r = &s->reqs[i];
        snprintf(path, sizeof(path), "requests[%zu]", i);
        defaults(req_opts, r);
        s->n_reqs++;
        r->line = n->vals[i]->line;
        r->col = n->vals[i]->col;
        int rc = apply(req_opts, s, n->vals[i], path, r, err, sz);
        if (rc)
            return rc;
        const struct cm_ynode *name_n = cm_yaml_get(n->vals[i], "name");
        if (!r->name || !r->name[0] || strpbrk(r->name, "{},: ")) {
            serr(err, sz, s, name_n ? name_n : n->vals[i], path,
                 "name: required, without spaces or {},:");
            return CM_EINVAL;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->reqs[j].name, r->name) == 0) {
                serr(err, sz, s, name_n, path, "name: \"%s\" is used twice", r->name);
                return CM_EINVAL;
            }
        s->req_names[i] = r->name;
        for (char *m = r->method; *m; m++)
            *m = (char)toupper((unsigned char)*m);
        if (check_method(r->method)) {
            serr(err, sz, s, cm_yaml_get(n->vals[i], "method"), path, "method: unknown method %s",
                 r->method);
            return CM_EINVAL;
        }
        if (!r->path || r->path[0] != '/') {
            const struct cm_ynode *pn = cm_yaml_get(n->vals[i], "path");
            serr(err, sz, s, pn ? pn : n->vals[i], path, "path: required, starting with /");
            return CM_EINVAL;
        }
        if ((rc = parse_captures(s, r, path, err, sz)) || (rc = parse_expect(s, r, path, err, sz)))
            return rc;
        s->total_weight += r->weight;
    }
    for (size_t i = 0; i < s->n_reqs; i++) { /* pass 2: templates */
        struct lg_request *r = &s->reqs[i];
        int json = 0, rc;
        snprintf(path, sizeof(path), "requests[%zu]", i);
        const struct cm_ynode *pn = cm_yaml_get(n->vals[i], "path");
        if ((rc = compile(s, pn, r->path, strlen(r->path), LG_TMPL_URL, path, &r->path_t, err,
                          sz)) ||
            (rc = compile_body(s, r, path, err, sz, &json)) ||
            (rc = compile_headers(s, r, path, err, sz, json)))
            return rc;
        r->uses_vars = r->path_t->uses_vars || (r->body_t && r->body_t->uses_vars);
        for (size_t h = 0; h < r->n_headers; h++)
            r->uses_vars = r->uses_vars || r->headers[h].value->uses_vars;
        if (!r->uses_vars)
            s->indep_weight += r->weight;
    }
    if (s->total_weight <= 0 || s->indep_weight <= 0) {
        serr(err, sz, s, n, "requests",
             "needs a request with weight > 0 that uses no captured variable");
        return CM_EINVAL;
    }
    return 0;
}

/* ---- phases ---- */

static int parse_phases(struct lg_scenario *s, char *err, size_t sz)
{
    const struct cm_ynode *n = s->phases_n;
    char path[64];
    if (!n || n->type != CM_YNODE_SEQ || n->n == 0) {
        serr(err, sz, s, n ? n : s->doc->root, "phases", "expected a non-empty list of phases");
        return CM_EINVAL;
    }
    size_t extra = s->warmup_ns > 0;
    s->phases = cm_xcalloc(n->n + extra, sizeof(*s->phases));
    s->phases_cap = n->n + extra;
    for (size_t i = 0; i < n->n; i++) {
        struct lg_phase *p = &s->phases[extra + i];
        snprintf(path, sizeof(path), "phases[%zu]", i);
        defaults(phase_opts, p);
        p->ramp_raw = -1;
        p->arrival_raw = -1;
        p->vus_raw = -1;
        p->think_raw = -1;
        s->n_phases++;
        int rc = apply(phase_opts, s, n->vals[i], path, p, err, sz);
        if (rc)
            return rc;
        p->line = n->vals[i]->line;
        p->col = n->vals[i]->col;
        if (!cm_yaml_get(n->vals[i], "duration")) {
            serr(err, sz, s, n->vals[i], path, "duration: required");
            return CM_EINVAL;
        }
        if (s->executor == LG_EXEC_OPEN && !cm_yaml_get(n->vals[i], "rate") &&
            !cm_yaml_get(n->vals[i], "ramp_to")) {
            serr(err, sz, s, n->vals[i], path, "rate: required for the open model (e.g. 100/s)");
            return CM_EINVAL;
        }
        p->ramp_to_per_s = p->ramp_raw >= 0 ? p->ramp_raw : p->rate_per_s;
        p->arrival = p->arrival_raw >= 0 ? p->arrival_raw : s->arrival;
        p->vus = p->vus_raw >= 0 ? p->vus_raw : s->vus;
        p->think_ns = p->think_raw >= 0 ? p->think_raw : s->think_ns;
    }
    if (extra) {
        struct lg_phase *w = &s->phases[0], *f = &s->phases[1];
        *w = *f;
        w->name = cm_xstrdup("warmup");
        w->duration_ns = s->warmup_ns;
        w->ramp_to_per_s = w->rate_per_s;
        w->warmup = 1;
        s->n_phases++;
    }
    return 0;
}

/* ---- thresholds ---- */

static int parse_thresholds(struct lg_scenario *s, char *err, size_t sz)
{
    const struct cm_ynode *n = s->thresholds_n;
    char path[64];
    if (!n || cm_yaml_is_null(n))
        return 0;
    if (n->type != CM_YNODE_SEQ) {
        serr(err, sz, s, n, "thresholds", "expected a list of expressions");
        return CM_EINVAL;
    }
    s->th = cm_xcalloc(n->n ? n->n : 1, sizeof(*s->th));
    for (size_t i = 0; i < n->n; i++) {
        const struct cm_ynode *v = n->vals[i], *tn = v;
        struct lg_thresh *t = &s->th[s->n_th++];
        snprintf(path, sizeof(path), "thresholds[%zu]", i);
        defaults(thresh_opts, t);
        if (v->type == CM_YNODE_SCALAR) {
            t->text = cm_xstrdup(v->str);
        } else {
            int rc = apply(thresh_opts, s, v, path, t, err, sz);
            if (rc)
                return rc;
            tn = cm_yaml_get(v, "threshold");
            if (!t->text || !tn) {
                serr(err, sz, s, v, path, "threshold: required");
                return CM_EINVAL;
            }
        }
        t->line = tn->line;
        t->col = tn->col;
        const char *why = NULL;
        size_t at = 0;
        if (lg_thresh_parse(t->text, strlen(t->text), &t->expr, &why, &at)) {
            serr(err, sz, s, tn, path, "%s (at \"%s\")", why, t->text + at);
            return CM_EINVAL;
        }
        if (lg_thresh_resolve(&t->expr, s->req_names, s->n_reqs)) {
            serr(err, sz, s, tn, path, "no request is named \"%s\"", t->expr.ep_name);
            return CM_EINVAL;
        }
    }
    return 0;
}

/* ---- overrides ---- */

/* Lists at the top level, named for messages: "no phase 7 (the scenario has 3)". */
static const struct {
    const char *key, *item;
} list_names[] = {{"phases", "phase"}, {"requests", "request"}, {"thresholds", "threshold"}};

/* --set KEY=VALUE edits the YAML tree before anything is validated, so every
 * key the file may hold can be set ("phases[1].rate", "http.timeout",
 * "requests[0].headers.X-Api-Key") and the value goes through the same
 * checks; errors at the new node name the flag (cm_ynode.origin). */
static int apply_set(struct lg_scenario *s, const char *kv, char *err, size_t sz)
{
    const char *eq = strchr(kv, '=');
    char key[257], origin[300], why[256];
    size_t kl = eq ? (size_t)(eq - kv) : 0;
    if (!eq || kl == 0 || kl >= sizeof(key)) {
        snprintf(err, sz, "--set %s: expected key=value", kv);
        return CM_EINVAL;
    }
    memcpy(key, kv, kl);
    key[kl] = 0;
    snprintf(origin, sizeof(origin), "--set %s", key);
    int rc = cm_yaml_set(s->doc, key, eq + 1, strlen(eq + 1), origin, why, sizeof(why));
    if (rc == 0)
        return 0;
    for (size_t i = 0; rc == CM_ERANGE && i < sizeof(list_names) / sizeof(list_names[0]); i++) {
        size_t n = strlen(list_names[i].key);
        const struct cm_ynode *l = cm_yaml_get(s->doc->root, list_names[i].key);
        if (strncmp(key, list_names[i].key, n) == 0 && key[n] == '[' && l) {
            unsigned long long idx = strtoull(key + n + 1, NULL, 10);
            snprintf(err, sz, "%s: no %s %llu (the scenario has %zu)", origin, list_names[i].item,
                     idx, l->n);
            return CM_EINVAL;
        }
    }
    snprintf(err, sz, "%s: %s", origin, why);
    return CM_EINVAL;
}

static char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strrchr(b, '.');
    return cm_xstrndup(b, dot && dot > b ? (size_t)(dot - b) : strlen(b));
}

static int load_doc(struct lg_scenario *s, const char *const *sets, size_t n_sets, char *err,
                    size_t sz)
{
    int rc;
    for (size_t i = 0; i < n_sets; i++)
        if ((rc = apply_set(s, sets[i], err, sz)))
            return rc;
    if (!s->doc->root || s->doc->root->type != CM_YNODE_MAP) {
        serr(err, sz, s, s->doc->root, "scenario", "expected a mapping with phases and requests");
        return CM_EINVAL;
    }
    if ((rc = apply(top_opts, s, s->doc->root, "", s, err, sz)) ||
        (rc = apply(http_opts, s, s->http_n, "http", &s->http, err, sz)) ||
        (rc = apply(corr_opts, s, s->corr_n, "correlation", &s->corr, err, sz)))
        return rc;
    if (!s->name || !s->name[0]) {
        free(s->name);
        s->name = base_name(s->path);
    }
    if (!s->corr.header || !s->corr.header[0] || strpbrk(s->corr.header, ": \r\n")) {
        serr(err, sz, s, s->corr_n, "correlation.header", "must be a header name");
        return CM_EINVAL;
    }
    if ((rc = load_data(s, err, sz)) || (rc = parse_requests(s, err, sz)) ||
        (rc = parse_phases(s, err, sz)) || (rc = parse_thresholds(s, err, sz)))
        return rc;
    return 0;
}

static struct lg_scenario *scenario_new(const char *path)
{
    struct lg_scenario *s = cm_xcalloc(1, sizeof(*s));
    s->path = cm_xstrdup(path);
    defaults(top_opts, s);
    defaults(http_opts, &s->http);
    defaults(corr_opts, &s->corr);
    return s;
}

static int finish_load(struct lg_scenario *s, int rc, struct lg_scenario **out)
{
    if (rc) {
        lg_scenario_free(s);
        s = NULL;
        if (rc != CM_ENOTFOUND && rc != CM_EIO)
            rc = CM_EINVAL;
    }
    *out = s;
    return rc;
}

int lg_scenario_load(const char *path, const char *const *sets, size_t n_sets,
                     struct lg_scenario **out, char *err, size_t sz)
{
    struct lg_scenario *s = scenario_new(path);
    int rc = cm_yaml_load_file(path, &s->doc, err, sz);
    if (rc == 0)
        rc = load_doc(s, sets, n_sets, err, sz);
    return finish_load(s, rc, out);
}

int lg_scenario_parse(const char *p, size_t n, const char *name, struct lg_scenario **out,
                      char *err, size_t sz)
{
    struct lg_scenario *s = scenario_new(name);
    int rc = cm_yaml_parse(p, n, name, &s->doc, err, sz);
    if (rc == 0)
        rc = load_doc(s, NULL, 0, err, sz);
    return finish_load(s, rc, out);
}

static void free_request(struct lg_request *r)
{
    cm_opt_free(req_opts, r);
    lg_tmpl_free(r->path_t);
    lg_tmpl_free(r->body_t);
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->headers[i].name);
        lg_tmpl_free(r->headers[i].value);
    }
    free(r->headers);
    for (size_t i = 0; i < r->n_caps; i++)
        free(r->caps[i].arg);
    free(r->caps);
}

void lg_scenario_free(struct lg_scenario *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_reqs; i++)
        free_request(&s->reqs[i]);
    free(s->reqs);
    free(s->req_names);
    for (size_t i = 0; i < s->phases_cap; i++)
        free(s->phases[i].name);
    free(s->phases);
    for (size_t i = 0; i < s->n_th; i++)
        free(s->th[i].text);
    free(s->th);
    for (size_t i = 0; i < s->n_vars; i++)
        free(s->vars[i]);
    free(s->vars);
    for (size_t r = 0; r < s->data.n_rows; r++) {
        for (size_t c = 0; c < s->data.n_cols; c++)
            free(s->data.rows[r][c]);
        free(s->data.rows[r]);
    }
    free(s->data.rows);
    for (size_t c = 0; c < s->data.n_cols; c++)
        free(s->data.cols[c]);
    free(s->data.cols);
    cm_opt_free(data_opts, &s->data);
    cm_opt_free(corr_opts, &s->corr);
    cm_opt_free(http_opts, &s->http);
    cm_opt_free(top_opts, s);
    cm_yaml_free(s->doc);
    free(s->path);
    free(s);
}

int64_t lg_scenario_duration_ns(const struct lg_scenario *s)
{
    int64_t d = 0;
    for (size_t i = 0; i < s->n_phases; i++)
        d += s->phases[i].duration_ns;
    return d;
}

void lg_scenario_set_duration(struct lg_scenario *s, int64_t d_ns)
{
    int64_t t = 0;
    for (size_t i = 0; i < s->n_phases; i++) {
        struct lg_phase *p = &s->phases[i];
        int last = i + 1 == s->n_phases;
        if (t + p->duration_ns >= d_ns || last) {
            int64_t nd = d_ns - t;
            if (nd < p->duration_ns && p->ramp_to_per_s != p->rate_per_s)
                p->ramp_to_per_s = p->rate_per_s + (p->ramp_to_per_s - p->rate_per_s) * (double)nd /
                                                       (double)p->duration_ns;
            p->duration_ns = nd > 0 ? nd : 0;
            for (size_t j = i + 1; j < s->n_phases; j++) {
                free(s->phases[j].name);
                s->phases[j].name = NULL;
            }
            s->n_phases = i + 1;
            return;
        }
        t += p->duration_ns;
    }
}

static void section(FILE *out, const char *title, const char *text, const struct cm_opt *t)
{
    fprintf(out, "\n## %s\n\n%s\n\n", title, text);
    cm_opt_markdown(t, out);
}

void lg_scenario_markdown(FILE *out)
{
    fputs("# Scenario reference\n\n"
          "Generated by `loadgen docs` from the option tables in loadgen/scenario.c; do not edit.\n"
          "A test (unit.loadgen.docs_test) fails when this file is out of date.\n\n"
          "Every file in this folder opens with a comment saying what it exercises and what a\n"
          "good result looks like. Units: durations `250ms`, `1.5s`, `2m`; rates `200/s`,\n"
          "`12k/m`; percentages `0.1%`. Unknown keys are errors, reported as\n"
          "`file:line:col: key: reason`. `loadgen validate FILE` checks a file without running "
          "it;\n`--set KEY=VALUE` sets any key as if the file said so, nested ones too: `--set "
          "http.timeout=2s`,\n`--set phases[1].rate=500/s`, `--set requests[0].weight=3`, "
          "`--set requests[0].headers.X-Api-Key=k`\n(list items are 0-based and must exist; "
          "errors name the flag: `--set phases[7].rate: no phase 7\n(the scenario has 3)`).\n",
          out);
    section(out, "Top level", "Keys at the top of the file.", top_opts);
    section(out, "Phases",
            "`phases` is a list run in order. Open model: each phase sends arrivals at `rate`, "
            "ramping\nlinearly to `ramp_to` when given; an instant step is a phase with a new "
            "`rate`, a spike a\nshort phase with a high `rate`, a pause `rate: 0/s`. Arrivals are "
            "scheduled independently of\nresponses; latency is measured from each request's "
            "intended send time.",
            phase_opts);
    section(out, "Requests",
            "`requests` is a weighted mix; each arrival picks one by `weight`. Templates in "
            "`path`,\nheader values and `body` strings: `{{uuid}}`, `{{seq}}`, `{{rand_int A B}}`, "
            "`{{now}}` (Unix\nms), `{{now_iso}}`, `{{correlation_id}}`, `{{data.COLUMN}}` and "
            "`{{VAR}}` for a value\ncaptured by an earlier response (`capture: {id: $.id}`). A "
            "request that uses a captured\nvariable takes a recent value; until one exists its "
            "arrivals go to the other requests\n(counted as `no_capture`). In a mapping body, a "
            "string that is only `{{seq}}`, `{{now}}`\nor `{{rand_int A B}}` is sent as a JSON "
            "number. Data and captured values are escaped\nfor where they land: "
            "percent-encoded in the path and query, JSON-escaped in a JSON body,\nline breaks "
            "removed in headers.",
            req_opts);
    section(out, "Thresholds",
            "`thresholds` is a list of expressions (a string, or a mapping with `threshold`, "
            "`abort_on_fail`\nand `delay`): `http.latency.p99 < 300ms`, `http.errors.rate < "
            "0.1%`, `http.rps > 900`,\n`http{name:create}.latency.p999 < 1s`, "
            "`http{status:5xx}.latency.max < 2s`,\n`generator.lag.p99 < 5ms`. Histograms: "
            "`latency` (from the intended send time),\n`latency_uncorrected`, `connect`, `ttfb` "
            "with `pNN`, `p(99.5)`, `mean`, `min`, `max`, `med`.\nCounters: `requests`, "
            "`errors`, `timeouts`, `connect_errors`, `transport_errors`,\n`unexpected_status`, "
            "`status_4xx`, `status_5xx`, `status_429`, `dropped` with `count`, `rate`\n"
            "(fraction of completed requests) or `per_s`. A metric without samples fails.",
            thresh_opts);
    section(out, "http", "Client settings (libcurl).", http_opts);
    section(out, "correlation",
            "Each request carries a fresh correlation ID (UUIDv7) and trace context.", corr_opts);
    section(out, "data", "Rows for `{{data.COLUMN}}`.", data_opts);
}
