/* sd_app.c: wiring of stackd (see sd_app.h). Edge-port dispatch follows
 * sd_router; synchronous services (Logs, CloudWatch) answer inline, Lambda
 * Invoke and HTTP API requests are answered when the invocation ends. */
#include "sd_app.h"

#include "sd_apigw.h"
#include "sd_cw.h"
#include "sd_ddb.h"
#include "sd_esm.h"
#include "sd_lambda.h"
#include "sd_lambda_api.h"
#include "sd_logs.h"
#include "sd_router.h"
#include "sd_sched.h"
#include "sd_server.h"
#include "sd_sqs.h"
#include "sd_stack.h"
#include "sd_wsapi.h"

#include "cm/clock.h"
#include "cm/err.h"
#include "cm/log.h"
#include "cm/mem.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

enum phase { PH_RUN = 0, PH_DRAIN, PH_KILL };

struct app {
    const struct sd_app_config *cfg;
    struct sd_server *srv;
    struct sd_stack *stack;
    struct sd_lambda *lambda;
    struct sd_apigw *apigw;
    struct sd_wsapi *wsapi;
    struct sd_logs *logs;
    struct sd_cw *cw;
    struct sd_ddb *ddb;
    struct sd_sqs *sqs;
    struct sd_esm *esm;           /* SQS event source mappings */
    struct sd_sched_rules *rules; /* scheduled rules */
    int64_t ddb_sweep_ns;         /* next TTL sweep (monotonic) */
    enum phase phase;
    int64_t phase_deadline_ns;
};

static void hook_log(void *ctx, const char *group, const char *stream, int64_t ts_ms,
                     const char *msg, size_t len)
{
    struct app *a = ctx;
    sd_logs_put(a->logs, group, stream, ts_ms, msg, len, ts_ms);
}

static void hook_metric(void *ctx, const char *ns, const char *name, const char *dim_name,
                        const char *dim_value, double value, const char *unit, int64_t ts_ms)
{
    struct app *a = ctx;
    struct sd_dim d = {dim_name, dim_value};
    sd_cw_record(a->cw, ns, name, &d, 1, value, unit, ts_ms);
}

static void reply_simple(struct sd_conn *conn, int status, const char *body)
{
    struct sd_resp r;
    sd_resp_init(&r);
    r.status = status;
    cm_strlcpy(r.content_type, "application/json", sizeof(r.content_type));
    cm_buf_puts(&r.body, body);
    sd_conn_reply(conn, &r);
    sd_resp_deinit(&r);
}

typedef void (*sync_handler)(void *svc, const struct sd_req *req, struct sd_resp *resp);

static void run_sync(void *svc, sync_handler h, struct sd_conn *conn, const struct sd_req *req)
{
    struct sd_resp r;
    sd_resp_init(&r);
    h(svc, req, &r);
    sd_conn_reply(conn, &r);
    sd_resp_deinit(&r);
}

static void logs_h(void *svc, const struct sd_req *req, struct sd_resp *resp)
{
    sd_logs_handle(svc, req, resp);
}

static void cw_h(void *svc, const struct sd_req *req, struct sd_resp *resp)
{
    sd_cw_handle(svc, req, resp);
}

static void ddb_h(void *svc, const struct sd_req *req, struct sd_resp *resp)
{
    sd_ddb_handle(svc, req, resp);
}

static void wsmgmt_h(void *svc, const struct sd_req *req, struct sd_resp *resp)
{
    sd_wsapi_handle_mgmt(svc, req, resp);
}

/* SQS long polls are answered later through these (sd_sqs_io). */
static void sqs_reply(void *ctx, void *token, const struct sd_resp *resp)
{
    if (resp && sd_conn_alive(token))
        sd_conn_reply(token, resp);
    else
        sd_conn_release(token);
}

static int sqs_alive(void *ctx, void *token)
{
    return sd_conn_alive(token);
}

static void sqs_request(struct app *a, struct sd_conn *conn, const struct sd_req *req)
{
    struct sd_resp r;
    sd_resp_init(&r);
    if (sd_sqs_handle(a->sqs, req, &r, conn) == SD_SQS_DEFERRED)
        sd_conn_defer(conn);
    else
        sd_conn_reply(conn, &r);
    sd_resp_deinit(&r);
}

static void esm_h(void *svc, const struct sd_req *req, struct sd_resp *resp)
{
    sd_esm_api_handle(svc, req, resp);
}

/* A scheduled rule fired: an Event invocation, as EventBridge does. */
static void fire_rule(void *ctx, const char *function, const char *payload, size_t len)
{
    struct app *a = ctx;
    char id[40];
    struct sd_fn *fn = sd_lambda_find(a->lambda, function, strlen(function));
    if (!fn || sd_lambda_invoke_event(a->lambda, fn, payload, len, id) < 0)
        cm_warn("schedule: could not queue an invocation of %s", function);
}

/* queues: from the stack file, created or updated at start; dead-letter
 * queues first (pass 0 without redrive), so every target exists. */
static int create_stack_queues(struct app *a, int64_t now_ms)
{
    char err[512];
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < a->stack->n_queues; i++) {
            const struct sd_stack_queue *q = &a->stack->queues[i];
            struct sd_sqs_queue_opts o = {
                q->visibility_timeout_s, q->retention_s,       q->delay_s,
                q->receive_wait_s,       q->max_message_bytes, pass ? q->dlq : NULL,
                q->max_receive_count};
            if ((pass == 0 || q->dlq) &&
                sd_sqs_ensure_queue(a->sqs, q->name, &o, now_ms, err, sizeof(err)) < 0) {
                fprintf(stderr, "stackd: %s: %s\n", a->cfg->stack_path, err);
                return CM_EINVAL;
            }
        }
    }
    return 0;
}

/* The stack file's mappings; their queues exist by now (create_stack_queues). */
static int create_stack_esms(struct app *a, int64_t now_ms)
{
    char err[512];
    for (size_t i = 0; i < a->stack->n_esms; i++) {
        const struct sd_stack_esm *m = &a->stack->esms[i];
        struct sd_esm_spec s = {m->queue,           m->function,        m->batch_size, m->window_s,
                                m->max_concurrency, m->report_failures, m->enabled};
        if (sd_esm_create(a->esm, &s, now_ms, NULL, err, sizeof(err)) < 0) {
            fprintf(stderr, "stackd: %s:%d:%d: event_source_mappings[%zu]: %s\n",
                    a->cfg->stack_path, m->line, m->col, i, err);
            return CM_EINVAL;
        }
    }
    return 0;
}

static void edge_request(void *ctx, struct sd_conn *conn, struct sd_req *req)
{
    struct app *a = ctx;
    struct sd_route rt;
    sd_router_classify(req, &rt);
    switch (rt.svc) {
    case SD_SVC_HTTP_API:
        sd_apigw_handle(a->apigw, conn, req, rt.path);
        break;
    case SD_SVC_LAMBDA:
        if (sd_esm_api_match(req->path))
            run_sync(a->esm, esm_h, conn, req);
        else
            sd_lambda_api_handle(a->lambda, conn, req);
        break;
    case SD_SVC_LOGS:
        run_sync(a->logs, logs_h, conn, req);
        break;
    case SD_SVC_CW:
        run_sync(a->cw, cw_h, conn, req);
        break;
    case SD_SVC_DYNAMODB:
        run_sync(a->ddb, ddb_h, conn, req);
        break;
    case SD_SVC_SQS:
        sqs_request(a, conn, req);
        break;
    case SD_SVC_WEBSOCKET:
        sd_wsapi_handle_upgrade(a->wsapi, conn, req);
        break;
    case SD_SVC_APIGW_MGMT:
        run_sync(a->wsapi, wsmgmt_h, conn, req);
        break;
    case SD_SVC_CONTROL:
        if (strcmp(req->path, "/_stackd/health") == 0)
            reply_simple(conn, 200, "{\"status\":\"ok\"}");
        else
            reply_simple(conn, 404, "{\"message\":\"Not Found\"}");
        break;
    default: {
        char body[256];
        snprintf(body, sizeof(body),
                 "{\"__type\":\"UnknownOperationException\",\"message\":\"service %s is not "
                 "emulated by stackd\"}",
                 rt.sigv4_service[0] ? rt.sigv4_service : sd_router_service_name(rt.svc));
        reply_simple(conn, 400, body);
    }
    }
}

static void begin_kill(struct app *a, int64_t now)
{
    a->phase = PH_KILL;
    sd_lambda_stop_envs(a->lambda, now, a->cfg->kill_grace_ns);
    a->phase_deadline_ns = now + a->cfg->kill_grace_ns + CM_NS_PER_S;
}

static void on_signal(void *ctx, int signo)
{
    struct app *a = ctx;
    int64_t now = cm_clock_mono_ns();
    if (signo == SIGCHLD) {
        sd_lambda_on_sigchld(a->lambda);
        return;
    }
    if (a->phase == PH_RUN) {
        cm_info("signal %d: stopping (draining %d in-flight invocations)", signo,
                sd_lambda_inflight(a->lambda));
        sd_server_stop_accepting(a->srv);
        sd_wsapi_close_all(a->wsapi);
        sd_sqs_end_polls(a->sqs); /* long polls answer empty instead of waiting */
        a->phase = PH_DRAIN;
        a->phase_deadline_ns = now + a->cfg->drain_ns;
    } else if (a->phase == PH_DRAIN) {
        begin_kill(a, now); /* second signal: do not wait */
    }
}

static void on_tick(void *ctx, int64_t now)
{
    struct app *a = ctx;
    sd_lambda_tick(a->lambda, now);
    sd_apigw_tick(a->apigw, now);
    sd_wsapi_tick(a->wsapi, now);
    sd_sqs_tick(a->sqs, cm_clock_wall_ns() / CM_NS_PER_MS);
    if (a->phase == PH_RUN) { /* no new invocations while stopping */
        sd_esm_tick(a->esm, cm_clock_wall_ns() / CM_NS_PER_MS);
        sd_sched_rules_tick(a->rules, cm_clock_wall_ns() / CM_NS_PER_MS, fire_rule, a);
    }
    if (now >= a->ddb_sweep_ns) { /* DynamoDB TTL: delete expired items, once a second */
        sd_ddb_tick(a->ddb, cm_clock_wall_ns() / CM_NS_PER_MS, 1000);
        a->ddb_sweep_ns = now + CM_NS_PER_S;
    }
    if (a->phase == PH_DRAIN && (sd_lambda_inflight(a->lambda) == 0 || now >= a->phase_deadline_ns))
        begin_kill(a, now);
    if (a->phase == PH_KILL && (sd_lambda_children(a->lambda) <= 0 || now >= a->phase_deadline_ns))
        sd_server_stop(a->srv);
}

static int write_port_file(const char *path, int port)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return cm_err_from_errno(errno);
    fprintf(f, "%d\n", port);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        int err = cm_err_from_errno(errno);
        unlink(tmp);
        return err;
    }
    return 0;
}

static void app_free(struct app *a)
{
    sd_lambda_free(a->lambda); /* pending callbacks still reach apigw and wsapi */
    sd_apigw_free(a->apigw);
    sd_wsapi_free(a->wsapi);
    sd_esm_free(a->esm); /* after sd_lambda_free (batch callbacks), before sd_sqs_free */
    sd_sched_rules_free(a->rules);
    sd_sqs_free(a->sqs); /* releases deferred long polls: before the server */
    sd_server_free(a->srv);
    sd_logs_free(a->logs);
    sd_cw_free(a->cw);
    sd_ddb_free(a->ddb);
    sd_stack_free(a->stack);
}

/* Raises the soft open-files limit to the hard one (WebSocket sessions are
 * long-lived sockets: loadgen holds 15,000) and sizes the server's
 * connection limit below it, keeping 512 descriptors for environments,
 * pipes and listeners. */
static int max_connections(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 4096;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t want = rl.rlim_max == RLIM_INFINITY ? 1048576 : rl.rlim_max;
        struct rlimit nr = {want, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &nr) == 0)
            rl.rlim_cur = want;
    }
    rlim_t n = rl.rlim_cur == RLIM_INFINITY ? 1048576 : rl.rlim_cur;
    n = n > 1024 + 512 ? n - 512 : 1024;
    return n > 1000000 ? 1000000 : (int)n;
}

int sd_app_run(const struct sd_app_config *cfg)
{
    struct app a;
    char err[1024];
    int code = 1, port = 0;
    memset(&a, 0, sizeof(a));
    a.cfg = cfg;
    if (sd_stack_load(cfg->stack_path, &a.stack, err, sizeof(err)) < 0) {
        fprintf(stderr, "stackd: %s\n", err);
        return 2;
    }
    if (cfg->data_dir && mkdir(cfg->data_dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "stackd: --data-dir %s: %s\n", cfg->data_dir, strerror(errno));
        code = 2;
        goto out;
    }
    char ddb_path[4096];
    if (cfg->data_dir)
        snprintf(ddb_path, sizeof(ddb_path), "%s/dynamodb.sqlite", cfg->data_dir);
    if (sd_ddb_open(cfg->data_dir ? ddb_path : NULL, a.stack->region, a.stack->account_id, &a.ddb,
                    err, sizeof(err)) < 0) {
        fprintf(stderr, "stackd: dynamodb: %s\n", err);
        goto out;
    }
    for (size_t i = 0; i < a.stack->n_tables; i++) {
        const struct sd_stack_table *t = &a.stack->tables[i];
        if (sd_ddb_declare_table(a.ddb, t->name, t->hash_key, t->hash_type, t->range_key,
                                 t->range_type, t->ttl_attr, cm_clock_wall_ns() / CM_NS_PER_MS, err,
                                 sizeof(err)) < 0) {
            fprintf(stderr, "stackd: %s: tables.%s: %s\n", cfg->stack_path, t->name, err);
            code = 2;
            goto out;
        }
    }
    struct sd_server_opts so = {max_connections(), 10 * CM_NS_PER_MS, 0};
    int rc = sd_server_new(&so, on_signal, &a, &a.srv);
    if (rc < 0) {
        fprintf(stderr, "stackd: event loop: %s\n", cm_strerror(rc));
        goto out;
    }
    /* API Gateway HTTP API limits: 10 KB request line + headers, 10 MB payload. */
    struct sd_http_limits lim = {10240, 10u * 1024 * 1024};
    rc = sd_server_listen(a.srv, cfg->bind, cfg->port, &lim, edge_request, &a, NULL, &port);
    if (rc < 0) {
        fprintf(stderr, "stackd: listen %s:%d: %s\n", cfg->bind, cfg->port, strerror(errno));
        goto out;
    }
    a.logs = sd_logs_new(NULL);
    a.cw = sd_cw_new(NULL);
    sd_logs_set_cw(a.logs, a.cw);
    char endpoint[128];
    snprintf(endpoint, sizeof(endpoint), "http://%s:%d",
             strcmp(cfg->bind, "0.0.0.0") == 0 ? "127.0.0.1" : cfg->bind, port);
    struct sd_lambda_config lc = {
        a.stack->region,          a.stack->account_id, a.stack->account_concurrency,
        a.stack->idle_reclaim_ns, 10 * CM_NS_PER_S,    endpoint,
        cfg->use_cgroups};
    struct sd_lambda_hooks hooks = {hook_log, hook_metric, &a};
    sd_lambda_new(a.srv, a.stack, &lc, &hooks, &a.lambda);
    char sqs_path[4096];
    if (cfg->data_dir)
        snprintf(sqs_path, sizeof(sqs_path), "%s/sqs.sqlite", cfg->data_dir);
    struct sd_sqs_config qc = {cfg->data_dir ? sqs_path : NULL, a.stack->region,
                               a.stack->account_id, endpoint};
    struct sd_sqs_io qio = {sqs_reply, sqs_alive, &a};
    if (sd_sqs_new(&qc, &qio, &a.sqs, err, sizeof(err)) < 0) {
        fprintf(stderr, "stackd: sqs: %s\n", err);
        goto out;
    }
    if (create_stack_queues(&a, cm_clock_wall_ns() / CM_NS_PER_MS) < 0) {
        code = 2;
        goto out;
    }
    struct sd_esm_config ec = {a.stack->region, a.stack->account_id};
    sd_esm_new_stackd(&ec, a.sqs, a.lambda, &a.esm);
    if (create_stack_esms(&a, cm_clock_wall_ns() / CM_NS_PER_MS) < 0) {
        code = 2;
        goto out;
    }
    a.rules = sd_sched_rules_new(a.stack, cm_clock_wall_ns() / CM_NS_PER_MS);
    sd_apigw_new(a.stack, a.lambda, &a.apigw);
    sd_apigw_set_metric_hook(a.apigw, hook_metric, &a);
    sd_wsapi_new(a.srv, a.stack, a.lambda, &a.wsapi);
    sd_wsapi_set_metric_hook(a.wsapi, hook_metric, &a);
    sd_server_set_tick(a.srv, on_tick, &a);
    if (cfg->port_file && (rc = write_port_file(cfg->port_file, port)) < 0) {
        fprintf(stderr, "stackd: --port-file %s: %s\n", cfg->port_file, cm_strerror(rc));
        goto out;
    }
    cm_info("listening on %s:%d (%zu functions, %zu routes)", cfg->bind, port, a.stack->n_fns,
            a.stack->n_routes);
    rc = sd_server_run(a.srv);
    code = rc < 0 ? 1 : 0;
    cm_info("stopped");
out:
    app_free(&a);
    return code;
}
