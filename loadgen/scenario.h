/* scenario.h: a load scenario loaded from YAML and validated through option
 * tables (the tables also generate scenarios/README.md). Everything that is
 * parsed (templates, thresholds, captures, data files) is compiled here, so
 * a scenario that loads will run; every error names file:line:col. The
 * result is read-only and shared by all workers. */
#ifndef LG_SCENARIO_H
#define LG_SCENARIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "thresh.h"
#include "tmpl.h"

struct cm_ydoc;
struct cm_ynode;

enum lg_arrival { LG_ARRIVAL_UNIFORM = 0, LG_ARRIVAL_POISSON = 1 };
enum lg_executor { LG_EXEC_OPEN = 0, LG_EXEC_CLOSED = 1 };
enum lg_httpver { LG_HTTP_1_1 = 0, LG_HTTP_2 = 1, LG_HTTP_2_PK = 2 };
/* http.engine: auto = lean for http:// with version 1.1, curl otherwise */
enum lg_http_engine { LG_ENGINE_AUTO = 0, LG_ENGINE_CURL = 1, LG_ENGINE_LEAN = 2 };

struct lg_phase {
    char *name;
    int64_t duration_ns;
    double rate_per_s;    /* arrival rate at the phase start (open model) */
    double ramp_to_per_s; /* rate at the end (== rate_per_s unless ramp_to is set) */
    int arrival;          /* enum lg_arrival (inherits the scenario's) */
    int warmup;           /* never recorded */
    int64_t vus;          /* closed model: virtual users in this phase */
    int64_t think_ns;     /* closed model: pause after each response */
    /* raw values from the option table, before inheritance */
    int arrival_raw;
    int64_t vus_raw, think_raw;
    double ramp_raw;
    int line, col;
};

struct lg_http_cfg {
    int version; /* enum lg_httpver */
    int tls_verify;
    int64_t connections; /* total over all workers */
    int64_t max_streams; /* HTTP/2 streams per connection */
    int64_t connect_timeout_ns;
    int64_t timeout_ns;
    int keepalive;
    int engine; /* enum lg_http_engine */
};

struct lg_corr_cfg {
    int enabled;
    int traceparent;
    int xray;
    char *header;
};

enum lg_cap_from { LG_CAP_JSON = 0, LG_CAP_HEADER = 1 };

struct lg_capture {
    int var;   /* index into lg_scenario.vars */
    int from;  /* enum lg_cap_from */
    char *arg; /* JSON path without "$." or header name */
};

struct lg_header {
    char *name;
    struct lg_tmpl *value;
};

struct lg_request {
    char *name;
    char *method;
    char *path;
    double weight;
    int64_t timeout_ns; /* 0: http.timeout */
    const struct cm_ynode *headers_n, *body_n, *expect_n, *capture_n;
    /* compiled */
    struct lg_tmpl *path_t;
    struct lg_tmpl *body_t; /* NULL: no body */
    struct lg_header *headers;
    size_t n_headers;
    int headers_dynamic; /* a header value is a template with functions */
    uint8_t expect[600]; /* expect[status] != 0: counted as ok */
    struct lg_capture *caps;
    size_t n_caps;
    int uses_vars; /* needs captured values: skipped while none exist */
    int line, col;
};

struct lg_thresh {
    char *text;
    int abort_on_fail;
    int64_t delay_ns;
    struct lg_thresh_expr expr;
    int line, col;
};

struct lg_data {
    char *file;
    int order; /* 0 sequential, 1 random */
    char **cols;
    size_t n_cols;
    char ***rows; /* n_rows x n_cols */
    size_t n_rows;
};

/* Non-HTTP traffic (issue #6). Declared for the engines; the parser does not
 * fill these yet: n_sqs, n_ws, n_e2e and n_endpoints stay 0. */
enum lg_ep_kind { LG_EP_HTTP = 0, LG_EP_SQS = 1, LG_EP_WS = 2 };

/* One entry of the unified endpoint list: http{name:x}, sqs{name:x}, ws{name:x}. */
struct lg_endpoint {
    char *name;
    int kind;  /* enum lg_ep_kind */
    int index; /* into reqs, sqs or ws by kind */
};

struct lg_burst {
    int64_t at_ns;    /* from the start of the item's first phase */
    int64_t messages; /* sent at once */
    int batch;        /* messages per SendMessageBatch (1: SendMessage) */
    int line, col;
};

struct lg_attr {
    char *name; /* String message attribute */
    struct lg_tmpl *value;
};

struct lg_sqs {
    char *name;
    char *queue; /* queue name or URL */
    int batch;   /* 1: SendMessage, 2..10: SendMessageBatch */
    struct lg_tmpl *body_t;
    struct lg_tmpl *poison_body_t; /* NULL: a fixed malformed body */
    double poison_share;           /* 0..1 */
    struct lg_attr *attrs;
    size_t n_attrs;
    int64_t delay_ns;
    struct lg_phase *phases; /* rate = messages per second */
    size_t n_phases;
    struct lg_burst *bursts;
    size_t n_bursts;
    int e2e; /* index into e2e started by these sends, -1: none */
    int line, col;
};

enum lg_ws_reconnect { LG_WS_NEVER = 0, LG_WS_ON_DROP = 1 };

struct lg_ws {
    char *name;
    char *url;               /* NULL: the target's WebSocket URL */
    struct lg_phase *phases; /* sessions = vus (target concurrent), rate = opens per second */
    size_t n_phases;
    int64_t hold_ns;          /* 0: until the phase ends */
    struct lg_tmpl **on_open; /* {{session}} = global session index */
    size_t n_on_open;
    int64_t ping_ns;
    int reconnect; /* enum lg_ws_reconnect */
    int64_t reconnect_delay_ns;
    char **source_addrs; /* NULL: 127.0.0.1-127.0.0.16 for loopback targets */
    size_t n_source_addrs;
    int64_t max_msg;
    int line, col;
};

struct lg_e2e {
    char *name;
    char *correlation_field; /* JSON path in the pushed message ("correlationId") */
    char *match_field;       /* NULL: any pushed message with the ID matches */
    char **match_values;
    size_t n_match_values;
    int64_t timeout_ns; /* then counted as missing */
    int line, col;
};

struct lg_scenario {
    char *name;
    char *description;
    char *target;
    int target_confirm;
    int executor;
    int arrival;
    int64_t warmup_ns;
    int64_t vus;
    int64_t think_ns;
    int64_t workers;
    int64_t seed;
    int64_t lag_tolerance_ns;
    int64_t timer_slack_ns; /* open model: arrivals are taken on a grid of this (0: each on time) */
    int64_t queue_max;
    int64_t drain_ns;
    char *local_stack;
    int64_t local_port;
    double sample_requests; /* fraction of requests logged to requests.jsonl */
    const struct cm_ynode *phases_n, *requests_n, *thresholds_n, *http_n, *corr_n, *data_n;

    struct lg_http_cfg http;
    struct lg_corr_cfg corr;
    struct lg_phase *phases;
    size_t n_phases;
    size_t phases_cap; /* allocated entries (names freed over all of them) */
    struct lg_request *reqs;
    size_t n_reqs;
    const char **req_names; /* n_reqs, borrowed from reqs */
    struct lg_thresh *th;
    size_t n_th;
    char **vars; /* capture variable names */
    size_t n_vars;
    struct lg_data data;
    double total_weight;
    double indep_weight; /* weight of requests that need no captured value */

    struct cm_ydoc *doc;
    char *path;

    /* issue #6, not parsed yet (all zero) */
    struct lg_sqs *sqs;
    size_t n_sqs;
    struct lg_ws *ws;
    size_t n_ws;
    struct lg_e2e *e2e;
    size_t n_e2e;
    struct lg_endpoint *endpoints; /* http, then sqs, then ws */
    size_t n_endpoints;
};

/* Loads and validates path. sets: n "key=value" overrides (dotted keys for
 * sections: "http.connections=8"), applied after the file. On error returns
 * CM_EINVAL (or CM_ENOTFOUND/CM_EIO) and writes "file:line:col: key: reason"
 * into err. */
int lg_scenario_load(const char *path, const char *const *sets, size_t n_sets,
                     struct lg_scenario **out, char *err, size_t err_size);
/* The same from memory (n bytes, need not be NUL terminated); name is used
 * in messages and as the base for a relative data file. */
int lg_scenario_parse(const char *p, size_t n, const char *name, struct lg_scenario **out,
                      char *err, size_t err_size);
void lg_scenario_free(struct lg_scenario *s);
/* Sum of phase durations (including warm-up), ns. */
int64_t lg_scenario_duration_ns(const struct lg_scenario *s);
/* Cuts (or extends the last phase of) the schedule to total d_ns. */
void lg_scenario_set_duration(struct lg_scenario *s, int64_t d_ns);
/* Writes the key reference (markdown) for every section. */
void lg_scenario_markdown(FILE *out);

#endif
