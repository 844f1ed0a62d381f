/* sd_stack.h: the stack definition stackd hosts (deploy/local/stack.yaml):
 * global settings, functions and HTTP API routes. Parsed with cm_yaml and
 * validated by cm_opt tables, so errors name file:line:col and the key.
 * Extending the schema (queues, tables, mappings, websocket routes,
 * schedules) means one row in top_opts plus one section parser.
 *
 *   stack:        {region, account_id, account_concurrency, idle_reclaim, api_id}
 *   functions:    {<name>: {bootstrap, handler, memory_mb, timeout,
 *                           reserved_concurrency, environment: {K: V}}}
 *   http_api:     {integration_timeout,
 *                  routes: {"POST /orders": <fn>, "GET /orders/{id}": <fn>, "$default": <fn>}}
 *   websocket_api: {api_id, stage, route_selection_expression, idle_timeout,
 *                   max_connection_duration,
 *                   routes: {"$connect": <fn>, "$disconnect": <fn>, "$default": <fn>, "subscribe":
 * <fn>}}
 *   event_source_mappings: [{queue, function, batch_size, batching_window,
 *                            maximum_concurrency, report_batch_item_failures, enabled}]
 *   schedules:    [{name, expression: "rate(5 minutes)" | "cron(0 12 * * ? *)", function,
 *                   enabled, input: '{"k":1}'}]
 *   tables:       {<name>: {hash_key, hash_type: S|N|B, range_key, range_type, ttl_attribute}}
 *                 (DynamoDB tables created at start when missing)
 *   queues:       {<name>: {visibility_timeout, message_retention, delay, receive_wait,
 *                           max_message_size,
 *                           redrive_policy: {dead_letter_queue, max_receive_count}}}
 *                 (SQS standard queues created, or updated to these settings, at start)
 *
 * bootstrap may use ${VAR} / ${VAR:-default}; a relative result is relative to
 * the stack file's directory. */
#ifndef SD_STACK_H
#define SD_STACK_H

#include <stddef.h>
#include <stdint.h>

#define SD_STACK_MAX_FUNCTIONS 256
#define SD_STACK_MAX_ROUTES    300 /* HTTP API quota */
#define SD_STACK_MAX_ENV       128

struct sd_stack_fn {
    char *name;
    char *bootstrap; /* absolute or relative to the current directory (resolved) */
    char *handler;   /* _HANDLER */
    int64_t memory_mb;
    int64_t timeout_ns;
    int64_t reserved_concurrency; /* -1: none */
    size_t n_env;
    char **env_keys, **env_vals;
};

struct sd_stack_route {
    char *route_key; /* "POST /orders", "ANY /x/{proxy+}", "$default" */
    char *function;
};

#define SD_STACK_MAX_WS_ROUTES 300

/* The WebSocket API (enabled when the section is present). */
struct sd_stack_ws {
    int enabled;
    char *api_id;            /* requestContext.apiId ("localws") */
    char *stage;             /* requestContext.stage ("prod") */
    char *route_selection;   /* "$request.body.action" */
    int64_t idle_timeout_ns; /* 10 min on AWS */
    int64_t max_duration_ns; /* 2 h on AWS */
    size_t n_routes;
    struct sd_stack_route *routes; /* route_key "$connect", "$default", "subscribe", ... */
};

#define SD_STACK_MAX_ESMS      100
#define SD_STACK_MAX_SCHEDULES 300

/* event_source_mappings: [{queue, function, batch_size, batching_window,
 * maximum_concurrency, report_batch_item_failures, enabled}] (SQS -> Lambda). */
struct sd_stack_esm {
    char *queue;             /* queue name (must exist when stackd starts) */
    char *function;          /* a function of this stack */
    int64_t batch_size;      /* 1..10000, default 10; above 10 needs batching_window >= 1 s */
    int64_t window_s;        /* batching_window 0..300 s */
    int64_t max_concurrency; /* 2..1000, 0: not set */
    int report_failures;     /* report_batch_item_failures */
    int enabled;
    int line, col; /* of the entry, for errors found at startup */
};

/* schedules: [{name, expression, function, enabled, input}] (EventBridge rules
 * invoking a function asynchronously). */
struct sd_stack_schedule {
    char *name;       /* rule name (ARN .../rule/NAME) */
    char *expression; /* rate(...) or cron(...), validated with sd_sched_parse */
    char *function;
    char *input; /* constant JSON passed instead of the scheduled event, or NULL */
    int enabled;
};

struct sd_stack_table {
    char *name;
    char *hash_key, *hash_type;   /* type "S", "N" or "B" */
    char *range_key, *range_type; /* NULL for a hash-only table */
    char *ttl_attr;               /* NULL: TTL off */
};

/* queues: one SQS standard queue; durations are whole seconds. */
struct sd_stack_queue {
    char *name;
    int64_t visibility_timeout_s; /* 0..43200, default 30 */
    int64_t retention_s;          /* 60..1209600, default 345600 (4 days) */
    int64_t delay_s;              /* 0..900 */
    int64_t receive_wait_s;       /* 0..20 */
    int64_t max_message_bytes;    /* 1024..1048576 */
    char *dlq;                    /* redrive_policy.dead_letter_queue (a queue here), or NULL */
    int64_t max_receive_count;    /* 1..1000 with dlq */
};

struct sd_stack {
    char *region;
    char *account_id;
    char *api_id;
    int64_t account_concurrency;
    int64_t idle_reclaim_ns;
    size_t n_fns;
    struct sd_stack_fn *fns;
    size_t n_routes;
    struct sd_stack_route *routes;
    int64_t integration_timeout_ns; /* HTTP API integration timeout */
    struct sd_stack_ws ws;
    size_t n_esms;
    struct sd_stack_esm *esms;
    size_t n_schedules;
    struct sd_stack_schedule *schedules;
    size_t n_tables;
    struct sd_stack_table *tables;
    size_t n_queues;
    struct sd_stack_queue *queues;
};

/* Loads and validates path. On failure returns a cm_err and writes one line
 * "file:line:col: key: reason" into err. Free with sd_stack_free. */
int sd_stack_load(const char *path, struct sd_stack **out, char *err, size_t err_size);
/* Same from memory; name is used in messages, base_dir resolves relative
 * bootstrap paths. */
int sd_stack_parse(const char *text, size_t len, const char *name, const char *base_dir,
                   struct sd_stack **out, char *err, size_t err_size);
void sd_stack_free(struct sd_stack *st);
const struct sd_stack_fn *sd_stack_find_fn(const struct sd_stack *st, const char *name);

#endif
