/* hello: the smallest useful function, and the test double for stackd's
 * integration tests (cold start, timeout, crash, init failure). It answers
 * API Gateway HTTP API (payload 2.0) and WebSocket events with 200 and a JSON
 * body that echoes what the runtime saw (request id, trace id from
 * $_X_AMZN_TRACE_ID, correlation id, client context, remaining time), SQS
 * batches with a partial batch response, and direct Invoke payloads.
 *
 * Commands, taken from the path (`/sleep/250`, `/error`), the body (`sleep
 * 250`, `{"action":"sleep","ms":250}`) or a direct Invoke payload:
 *   sleep N   sleep N ms before answering        crash   abort() (SIGABRT)
 *   error     return a function error            big N   answer with N extra bytes
 *   fail      (SQS record body) report the record in batchItemFailures
 * Environment:
 *   HELLO_INIT_FAIL=1     init fails: reported through /init/error, exit 1
 *   HELLO_INIT_SLEEP_MS=N init takes N ms longer (slow cold start)
 *   HELLO_SLEEP_MS=N      every invocation takes N ms longer */
#include "rt.h"

#include "cm/clock.h"
#include "cm/err.h"
#include "cm/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HELLO_MAX_SLEEP_MS (15 * 60 * 1000) /* Lambda's longest timeout */
#define HELLO_MAX_BIG      ((long long)8 << 20)

enum hello_action { HELLO_OK, HELLO_SLEEP, HELLO_CRASH, HELLO_ERROR, HELLO_BIG, HELLO_FAIL };

struct hello_cmd {
    enum hello_action action;
    long long arg; /* ms for sleep, bytes for big */
};

static long long env_ll(const char *name, long long max)
{
    const char *v = getenv(name);
    char *end = NULL;
    long long n = v ? strtoll(v, &end, 10) : 0;
    if (!v || end == v || n < 0)
        return 0;
    return n > max ? max : n;
}

static long long parse_arg(const char *p, const char *end, long long max)
{
    while (p < end && (*p == ' ' || *p == '/' || *p == '='))
        p++;
    long long n = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++)
        n = n < max ? n * 10 + (*p - '0') : max;
    return n > max ? max : n;
}

/* Finds a command word in text: "sleep 250", "/x/sleep/250", "crash". */
static int parse_text(const char *p, size_t n, struct hello_cmd *c)
{
    static const struct {
        const char *word;
        enum hello_action action;
        long long max;
    } words[] = {
        {"sleep", HELLO_SLEEP, HELLO_MAX_SLEEP_MS},
        {"crash", HELLO_CRASH, 0},
        {"error", HELLO_ERROR, 0},
        {"big", HELLO_BIG, HELLO_MAX_BIG},
        {"fail", HELLO_FAIL, 0},
    };
    const char *end = p + n;
    for (const char *s = p; s < end; s++) {
        if (s != p && s[-1] != '/' && s[-1] != ' ')
            continue; /* words start a segment */
        for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
            size_t wl = strlen(words[i].word);
            if ((size_t)(end - s) < wl || memcmp(s, words[i].word, wl) != 0)
                continue;
            if (s + wl < end && s[wl] != '/' && s[wl] != ' ' && s[wl] != '=')
                continue;
            c->action = words[i].action;
            c->arg = words[i].max ? parse_arg(s + wl, end, words[i].max) : 0;
            return 1;
        }
    }
    return 0;
}

/* {"action":"sleep","ms":250} or {"action":"big","bytes":N}. */
static int parse_json_cmd(const cJSON *obj, struct hello_cmd *c)
{
    const char *action = cm_json_str(obj, "action", NULL);
    if (!action || !parse_text(action, strlen(action), c))
        return 0;
    long long max = 0;
    if (c->action == HELLO_SLEEP) {
        c->arg = cm_json_int(obj, "ms", c->arg);
        max = HELLO_MAX_SLEEP_MS;
    } else if (c->action == HELLO_BIG) {
        c->arg = cm_json_int(obj, "bytes", c->arg);
        max = HELLO_MAX_BIG;
    }
    c->arg = c->arg < 0 ? 0 : c->arg > max ? max : c->arg;
    return 1;
}

static void parse_body(const char *p, size_t n, struct hello_cmd *c)
{
    cJSON *j = cm_json_parse(p, n);
    if (!(cJSON_IsObject(j) && parse_json_cmd(j, c)))
        parse_text(p, n, c);
    cJSON_Delete(j);
}

/* Runs the command; returns 0, or a negative value with err set. */
static int act(const struct hello_cmd *c, struct rt_error *err)
{
    switch (c->action) {
    case HELLO_SLEEP:
        cm_clock_sleep_ns(c->arg * CM_NS_PER_MS);
        return 0;
    case HELLO_CRASH:
        rt_log(CM_LOG_WARN, "crashing on request");
        abort();
    case HELLO_ERROR:
        rt_error_set(err, "HelloError", "error requested by the event");
        return CM_EINVAL;
    default:
        return 0;
    }
}

static int put_kv(struct cm_buf *b, const char *key, const char *value)
{
    int rc = cm_buf_printf(b, ",\"%s\":", key);
    if (!value || !*value)
        return rc ? rc : cm_buf_puts(b, "null");
    return rc ? rc : cm_json_append_string(b, value, strlen(value));
}

/* The JSON the function answers with (the body of an HTTP response). */
static int hello_body(const struct rt_invocation *inv, const char *path, const char *method,
                      long long pad, struct cm_buf *b)
{
    int64_t left = rt_remaining_ms(inv);
    int rc = cm_buf_printf(b, "{\"message\":\"hello\",\"coldStart\":%s,\"remainingMs\":%lld",
                           inv->cold_start ? "true" : "false",
                           (long long)(left == INT64_MAX ? -1 : left));
    rc = rc ? rc : put_kv(b, "requestId", inv->request_id);
    rc = rc ? rc : put_kv(b, "traceId", getenv("_X_AMZN_TRACE_ID"));
    rc = rc ? rc : put_kv(b, "correlationId", inv->correlation_id);
    rc = rc ? rc : put_kv(b, "functionArn", inv->function_arn);
    rc = rc ? rc : put_kv(b, "clientContext", inv->client_context);
    rc = rc ? rc : put_kv(b, "cognitoIdentity", inv->cognito_identity);
    rc = rc ? rc : put_kv(b, "path", path);
    rc = rc ? rc : put_kv(b, "method", method);
    if (!rc && pad > 0) {
        rc = cm_buf_puts(b, ",\"pad\":\"");
        for (long long i = 0; i < pad && !rc; i += 64)
            rc =
                cm_buf_append(b, "................................................................",
                              (size_t)(pad - i < 64 ? pad - i : 64));
        rc = rc ? rc : cm_buf_putc(b, '"');
    }
    return rc ? rc : cm_buf_putc(b, '}');
}

static int handle_apigw(const struct rt_invocation *inv, struct rt_apigw_request *req,
                        struct cm_buf *response, struct rt_error *err)
{
    struct hello_cmd c = {HELLO_OK, 0};
    if (!parse_text(req->raw_path, strlen(req->raw_path), &c))
        parse_body(req->body, req->body_len, &c);
    struct rt_log_field f[] = {
        {"path", req->raw_path, 0}, {"method", req->method, 0}, {"routeKey", req->route_key, 0}};
    rt_log_fields(CM_LOG_INFO, f, 3, "hello");
    int rc = act(&c, err);
    if (rc)
        return rc;
    struct cm_buf body;
    cm_buf_init(&body, RT_MAX_EVENT_BYTES);
    rc = hello_body(inv, req->raw_path, req->method, c.action == HELLO_BIG ? c.arg : 0, &body);
    if (!rc && req->is_websocket && req->body_len)
        rc = rt_apigw_respond_json(inv, 200, req->body, response); /* echo the frame */
    else if (!rc)
        rc = rt_apigw_respond_json(inv, 200, body.data, response);
    cm_buf_deinit(&body);
    return rc;
}

static int hello_record(const struct rt_invocation *inv, const struct rt_sqs_record *r, void *arg)
{
    struct hello_cmd c = {HELLO_OK, 0};
    parse_body(r->body, r->body_len, &c);
    struct rt_log_field f[] = {{"messageId", r->message_id, 0}};
    rt_log_fields(CM_LOG_INFO, f, 1, "hello record");
    struct rt_error err;
    return c.action == HELLO_FAIL || act(&c, &err) != 0;
}

static int handler(const struct rt_invocation *inv, const char *event, size_t len,
                   struct cm_buf *response, struct rt_error *err)
{
    long long extra = env_ll("HELLO_SLEEP_MS", HELLO_MAX_SLEEP_MS);
    if (extra)
        cm_clock_sleep_ns(extra * CM_NS_PER_MS);
    rt_metrics_add(inv->metrics, "Hellos", RT_UNIT_COUNT, 1);
    const cJSON *ev = inv->event_json;
    if (cJSON_IsObject(ev) &&
        cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(ev, "requestContext"))) {
        struct rt_apigw_request req;
        const char *why = NULL;
        int rc = rt_apigw_request_from_json(ev, &req, &why);
        if (rc)
            rt_error_set(err, "InvalidEvent", "%s", why ? why : "bad event");
        else
            rc = handle_apigw(inv, &req, response, err);
        rt_apigw_request_deinit(&req);
        return rc;
    }
    if (cJSON_IsObject(ev) && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(ev, "Records"))) {
        struct rt_sqs_event sqs;
        const char *why = NULL;
        int rc = rt_sqs_event_from_json(ev, &sqs, &why);
        if (rc)
            rt_error_set(err, "InvalidEvent", "%s", why ? why : "bad event");
        else
            rc = rt_sqs_process(inv, &sqs, hello_record, NULL, response);
        rt_sqs_event_deinit(&sqs);
        return rc < 0 ? rc : 0;
    }
    /* Direct Invoke: the payload itself is the command. */
    struct hello_cmd c = {HELLO_OK, 0};
    parse_body(event, len, &c);
    rt_log(CM_LOG_INFO, "hello");
    int rc = act(&c, err);
    return rc ? rc : hello_body(inv, "", "", c.action == HELLO_BIG ? c.arg : 0, response);
}

static int init(void *user, struct rt_error *err)
{
    long long ms = env_ll("HELLO_INIT_SLEEP_MS", HELLO_MAX_SLEEP_MS);
    if (ms)
        cm_clock_sleep_ns(ms * CM_NS_PER_MS);
    const char *fail = getenv("HELLO_INIT_FAIL");
    if (fail && strcmp(fail, "1") == 0) {
        rt_error_set(err, "HelloInitError", "init failed on request (HELLO_INIT_FAIL=1)");
        return CM_EINVAL;
    }
    return 0;
}

int main(void)
{
    struct rt_function fn = {.init = init, .handler = handler};
    return rt_run(&fn);
}
