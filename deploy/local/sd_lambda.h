/* sd_lambda.h: the Lambda service: functions, execution environments (child
 * processes running the function's bootstrap), the Runtime API each
 * environment talks to, invocations (synchronous and queued Event ones),
 * scaling, throttling, timeouts, crashes, idle reclaim, platform log lines
 * (START/END/REPORT) and platform metrics.
 *
 * Runtime API: every environment gets its own listener on 127.0.0.1:<port>
 * in the server's event loop, passed as AWS_LAMBDA_RUNTIME_API=127.0.0.1:port;
 * the connection identifies the environment, so runtimes that parse host:port
 * strictly work. Paths (protocols.md 1.1):
 *   GET  /2018-06-01/runtime/invocation/next          (parked until an invoke)
 *   POST /2018-06-01/runtime/invocation/{id}/response -> 202 {"status":"OK"}
 *   POST /2018-06-01/runtime/invocation/{id}/error    -> 202
 *   POST /2018-06-01/runtime/init/error               -> 202
 * Not thread-safe; runs inside the sd_server loop. */
#ifndef SD_LAMBDA_H
#define SD_LAMBDA_H

#include "sd_server.h"
#include "sd_stack.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sd_lambda;
struct sd_fn;

/* Sinks for platform output; any member may be NULL. */
struct sd_lambda_hooks {
    /* One log event (msg without trailing newline). */
    void (*log_put)(void *ctx, const char *group, const char *stream, int64_t ts_ms,
                    const char *msg, size_t len);
    /* One metric value with one dimension. */
    void (*metric)(void *ctx, const char *ns, const char *name, const char *dim_name,
                   const char *dim_value, double value, const char *unit, int64_t ts_ms);
    void *ctx;
};

struct sd_lambda_config {
    const char *region;
    const char *account_id;
    int64_t account_concurrency;
    int64_t idle_reclaim_ns;
    int64_t init_timeout_ns;  /* 10 s on AWS */
    const char *endpoint_url; /* AWS_ENDPOINT_URL for functions: "http://127.0.0.1:4566" */
    int use_cgroups;          /* try memory/cpu limits (warns once when unavailable) */
};

/* Function configuration as the Lambda API shows it. Changes apply to
 * environments started afterwards. */
struct sd_fn_config {
    char *name;
    char *bootstrap;
    char *handler;
    int64_t memory_mb;
    int64_t timeout_ns;
    int64_t reserved_concurrency; /* -1: none */
    size_t n_env;
    char **env_keys, **env_vals;
    char last_modified[40]; /* "2026-11-22T07:00:00.000+0000" */
    char revision_id[40];
    int64_t code_size;
    char code_sha256[48]; /* base64 SHA-256 of the bootstrap file */
};

enum sd_inv_status {
    SD_INV_OK = 0,
    SD_INV_FN_ERROR,   /* the runtime posted /error: body is its error JSON */
    SD_INV_TIMEOUT,    /* killed at the function timeout */
    SD_INV_CRASH,      /* runtime exited during the invocation */
    SD_INV_INIT_ERROR, /* init failed (init/error, exit or init timeout) */
    SD_INV_SHUTDOWN,   /* stackd is stopping */
};

struct sd_inv_result {
    enum sd_inv_status status;
    const char *request_id;
    const char *body; /* response or error JSON; body_len bytes */
    size_t body_len;
    const char *log_tail; /* last <= 4 KB of this invocation's log, when asked */
    size_t log_tail_len;
    double duration_ms;
    int cold;
};

typedef void (*sd_inv_done_fn)(void *ctx, const struct sd_inv_result *res);

struct sd_invoke_opts {
    const char *payload;
    size_t payload_len;
    int want_tail;              /* collect the log tail */
    const char *trace_id;       /* X-Amzn-Trace-Id or NULL */
    const char *client_context; /* decoded JSON or NULL */
    sd_inv_done_fn done;
    void *ctx;
};

int sd_lambda_new(struct sd_server *srv, const struct sd_stack *st,
                  const struct sd_lambda_config *cfg, const struct sd_lambda_hooks *hooks,
                  struct sd_lambda **out);
/* Kills every environment (SIGKILL) and frees. Pending callbacks get
 * SD_INV_SHUTDOWN first. Accepts NULL. */
void sd_lambda_free(struct sd_lambda *l);

/* By name, partial ARN ("acct:function:name") or full ARN (qualifier ignored
 * when it is $LATEST); NULL when unknown. */
struct sd_fn *sd_lambda_find(struct sd_lambda *l, const char *name_or_arn, size_t len);
size_t sd_lambda_count(const struct sd_lambda *l);
struct sd_fn *sd_lambda_at(struct sd_lambda *l, size_t i);
struct sd_fn_config *sd_fn_config(struct sd_fn *fn);
/* "arn:aws:lambda:<region>:<acct>:function:<name>" into out (size >= 160). */
void sd_fn_arn(const struct sd_lambda *l, const struct sd_fn *fn, char *out, size_t out_size);
/* Marks the configuration changed: idle environments started with the old one
 * are stopped, new ones use the new configuration. */
void sd_fn_config_changed(struct sd_lambda *l, struct sd_fn *fn);

/* Starts a synchronous invocation. 0: opts->done will be called exactly once
 * later (never from inside this call). CM_EAGAIN: throttled (concurrency
 * limit); nothing was started. */
int sd_lambda_invoke(struct sd_lambda *l, struct sd_fn *fn, const struct sd_invoke_opts *opts);
/* Queues an Event invocation (copied): delivered when capacity allows, with
 * up to 2 retries on function errors (1 s then 2 s later). CM_ETOOBIG when
 * the function's queue is full. request_id (>= 37 bytes) gets its id. */
int sd_lambda_invoke_event(struct sd_lambda *l, struct sd_fn *fn, const char *payload, size_t len,
                           char *request_id);

/* Concurrency in use by fn (environments holding an invocation), and over
 * all functions. */
int sd_lambda_concurrency(const struct sd_lambda *l, const struct sd_fn *fn);
int sd_lambda_inflight(const struct sd_lambda *l);

/* Event-loop hooks: timeouts, idle reclaim, retries (tick) and child exit. */
void sd_lambda_tick(struct sd_lambda *l, int64_t now_mono_ns);
void sd_lambda_on_sigchld(struct sd_lambda *l);
/* Graceful stop: SIGTERM every environment; after grace_ns SIGKILL (tick
 * drives it). Returns the number of child processes still running. */
int sd_lambda_stop_envs(struct sd_lambda *l, int64_t now_mono_ns, int64_t grace_ns);
int sd_lambda_children(const struct sd_lambda *l);

/* Formatting helpers (pure; unit-tested). */
/* "REPORT RequestId: id\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t
 * Max Memory Used: 20 MB[\tInit Duration: 3.45 ms][\tStatus: timeout]" into out. */
void sd_lambda_format_report(char *out, size_t out_size, const char *request_id, double duration_ms,
                             int64_t memory_mb, int64_t max_used_mb, double init_ms, int timed_out);
/* "2026/11/22/[$LATEST]" + 32 hex from rnd into out (>= 64 bytes). */
void sd_lambda_format_stream(char *out, size_t out_size, int64_t wall_ns, const uint8_t rnd[16]);
/* Random UUIDv4 "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" (37 bytes with NUL). */
void sd_lambda_uuid(char out[37]);

#endif
