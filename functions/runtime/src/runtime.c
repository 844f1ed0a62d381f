/* runtime.c: the Lambda Runtime API client loop (API version 2018-06-01).
 * Speaks, over one keep-alive libcurl easy handle, to
 * http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/...:
 *   GET  invocation/next            -> 200, body = event, headers
 *        Lambda-Runtime-Aws-Request-Id, -Deadline-Ms (epoch ms),
 *        -Invoked-Function-Arn, -Trace-Id, -Client-Context, -Cognito-Identity
 *   POST invocation/{id}/response   -> 202 (body = function result)
 *   POST invocation/{id}/error      -> 202 (body = error JSON, header
 *        Lambda-Runtime-Function-Error-Type)
 *   POST init/error                 -> 202, then the process exits
 * /next has no timeout: the sandbox may be frozen while it waits. A 500 from
 * the Runtime API means the environment is broken: exit promptly. It is not
 * a response-streaming runtime (no Lambda-Runtime-Function-Response-Mode). */
#include "rt.h"

#include "cm/clock.h"
#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"
#include "rt_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RT_API_PATH      "/2018-06-01/runtime/"
#define RT_NEXT_RETRIES  3     /* consecutive failed /next calls before exiting */
#define RT_POST_BODY_MAX 65536 /* Runtime API answers to our POSTs, kept for logs */
#define RT_EXIT_INIT     1
#define RT_EXIT_CONFIG   2
#define RT_EXIT_API_GONE 3

/* Headers of one /next response; bounded copies (longer values are cut,
 * which only the opaque JSON contexts could ever hit). */
struct rt_next {
    char request_id[256];
    char deadline_ms[32];
    char function_arn[512];
    char trace_id[1024];
    char client_context[8192];
    char cognito_identity[4096];
    struct cm_buf body;
};

struct rt_client {
    CURL *curl;
    char base[1024]; /* http://host:port[/prefix]/2018-06-01/runtime/ */
    char url[1536];
    char errbuf[CURL_ERROR_SIZE];
    struct cm_buf reply; /* body of the Runtime API's answer to a POST */
};

struct rt_state {
    const struct rt_function *fn;
    const char *name, *service, *ns;
    struct rt_client client;
    struct rt_next next;
    struct cm_buf response;
    struct rt_metrics *metrics;
    int cold;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    struct cm_buf *b = arg;
    size_t n = size * nmemb;
    /* Returning less than n makes curl fail the transfer (CURLE_WRITE_ERROR). */
    return cm_buf_append(b, p, n) == 0 ? n : 0;
}

static void copy_value(char *dst, size_t cap, const char *v, size_t n)
{
    while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
        n--;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

/* Header lines arrive one at a time, "Name: value\r\n", not NUL-terminated. */
static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
    struct rt_next *nx = arg;
    size_t n = size * nmemb;
    static const struct {
        const char *name;
        size_t off, cap;
    } map[] = {
        {"lambda-runtime-aws-request-id", offsetof(struct rt_next, request_id), 256},
        {"lambda-runtime-deadline-ms", offsetof(struct rt_next, deadline_ms), 32},
        {"lambda-runtime-invoked-function-arn", offsetof(struct rt_next, function_arn), 512},
        {"lambda-runtime-trace-id", offsetof(struct rt_next, trace_id), 1024},
        {"lambda-runtime-client-context", offsetof(struct rt_next, client_context), 8192},
        {"lambda-runtime-cognito-identity", offsetof(struct rt_next, cognito_identity), 4096},
    };
    const char *colon = memchr(p, ':', n);
    if (!colon)
        return n;
    size_t name_len = (size_t)(colon - p);
    const char *v = colon + 1;
    while (v < p + n && (*v == ' ' || *v == '\t'))
        v++;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strlen(map[i].name) == name_len && strncasecmp(p, map[i].name, name_len) == 0) {
            copy_value((char *)nx + map[i].off, map[i].cap, v, (size_t)(p + n - v));
            break;
        }
    }
    return n;
}

static int client_init(struct rt_client *c, const char *api)
{
    memset(c, 0, sizeof *c);
    cm_buf_init(&c->reply, RT_POST_BODY_MAX);
    size_t need = (size_t)snprintf(c->base, sizeof c->base, "http://%s" RT_API_PATH, api);
    if (need >= sizeof c->base || strpbrk(api, " \r\n"))
        return CM_EINVAL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return CM_EIO;
    c->curl = curl_easy_init();
    if (!c->curl)
        return CM_EIO;
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*"); /* never route the Runtime API via a proxy */
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 0L); /* /next blocks as long as it must */
    return 0;
}

static void client_deinit(struct rt_client *c)
{
    curl_easy_cleanup(c->curl);
    cm_buf_deinit(&c->reply);
    c->curl = NULL;
}

/* The id becomes a path segment of our POSTs: UUIDs and the like only. */
static int valid_request_id(const char *id)
{
    if (!*id)
        return 0;
    for (; *id; id++)
        if (!((*id >= 'a' && *id <= 'z') || (*id >= 'A' && *id <= 'Z') ||
              (*id >= '0' && *id <= '9') || *id == '-' || *id == '_' || *id == '.' || *id == ':'))
            return 0;
    return 1;
}

/* GET /next. Returns 0 with nx filled, CM_EAGAIN for a failure worth a retry
 * (transport error, unexpected status, no request id), CM_EIO for a 500. */
static int client_next(struct rt_client *c, struct rt_next *nx)
{
    memset(nx, 0, offsetof(struct rt_next, body));
    cm_buf_reset(&nx->body);
    snprintf(c->url, sizeof c->url, "%sinvocation/next", c->base);
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &nx->body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, nx);
    c->errbuf[0] = '\0';
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, NULL);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, NULL);
    if (cc != CURLE_OK) {
        rt_log(CM_LOG_ERROR, "runtime: GET %s failed: %s", c->url,
               c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
        return CM_EAGAIN;
    }
    if (status == 500) {
        rt_log(CM_LOG_ERROR, "runtime: GET %s: 500 from the Runtime API, exiting", c->url);
        return CM_EIO;
    }
    if (status != 200 || !valid_request_id(nx->request_id)) {
        rt_log(CM_LOG_ERROR, "runtime: GET %s: status %ld%s", c->url, status,
               valid_request_id(nx->request_id)
                   ? ""
                   : ", missing or unusable Lambda-Runtime-Aws-Request-Id");
        return CM_EAGAIN;
    }
    return 0;
}

/* POST body to base + path. error_type != NULL adds the error-type header.
 * Returns the HTTP status, or a negative cm_err on transport failure. */
static long client_post(struct rt_client *c, const char *path, const char *body, size_t len,
                        const char *error_type)
{
    char type_header[RT_ERROR_TYPE_MAX + 64];
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
    if (error_type) {
        snprintf(type_header, sizeof type_header, "Lambda-Runtime-Function-Error-Type: %s",
                 error_type);
        hdrs = curl_slist_append(hdrs, type_header);
    }
    snprintf(c->url, sizeof c->url, "%s%s", c->base, path);
    cm_buf_reset(&c->reply);
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &c->reply);
    c->errbuf[0] = '\0';
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    curl_slist_free_all(hdrs);
    if (cc != CURLE_OK && cc != CURLE_WRITE_ERROR) {
        rt_log(CM_LOG_ERROR, "runtime: POST %s failed: %s", c->url,
               c->errbuf[0] ? c->errbuf : curl_easy_strerror(cc));
        return CM_ECONN;
    }
    if (status != 202)
        rt_log(CM_LOG_ERROR, "runtime: POST %s: status %ld: %.512s", c->url, status,
               cm_buf_cstr(&c->reply));
    return status;
}

static long post_error(struct rt_client *c, const char *path, const struct rt_error *err,
                       const char *fallback_type)
{
    struct cm_buf body;
    cm_buf_init(&body, 0);
    rt_error_body(err, &body);
    long status =
        client_post(c, path, body.data, body.len, rt_error_header_type(err, fallback_type));
    cm_buf_deinit(&body);
    return status;
}

static const char *env_or(const char *set, const char *var, const char *fallback)
{
    if (set && *set)
        return set;
    const char *v = getenv(var);
    return v && *v ? v : fallback;
}

int64_t rt_remaining_ms_at(const struct rt_invocation *inv, int64_t now_ms)
{
    if (!inv || inv->deadline_ms <= 0)
        return INT64_MAX;
    return inv->deadline_ms - now_ms;
}

int64_t rt_remaining_ms(const struct rt_invocation *inv)
{
    return rt_remaining_ms_at(inv, cm_clock_wall_ns() / CM_NS_PER_MS);
}

static int64_t parse_deadline(const char *s)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0)
        return 0;
    return (int64_t)v;
}

/* The runtime's own error for a handler that failed without saying why. */
static void default_error(struct rt_error *err, int rc)
{
    if (!err->type[0])
        cm_strlcpy(err->type, "Runtime.HandlerError", sizeof err->type);
    if (!err->message[0])
        snprintf(err->message, sizeof err->message, "handler failed: %s", cm_strerror(rc));
}

static void write_cold_start(struct rt_state *st)
{
    struct cm_buf doc;
    cm_buf_init(&doc, 0);
    if (rt_metrics_cold_start_doc(st->ns, st->name, st->service, cm_clock_wall_ns() / CM_NS_PER_MS,
                                  &doc) == 0)
        rt_write_all(rt_log_fd(), doc.data, doc.len);
    cm_buf_deinit(&doc);
}

static void prepare_metrics(struct rt_state *st, const struct rt_invocation *inv)
{
    rt_metrics_reset(st->metrics);
    rt_metrics_add_dimension(st->metrics, "service", st->service);
    rt_metrics_set_property(st->metrics, "requestId", inv->request_id);
    if (*inv->correlation_id)
        rt_metrics_set_property(st->metrics, "correlationId", inv->correlation_id);
}

/* Calls the handler and posts its outcome. Returns the POST's HTTP status
 * or a negative cm_err. */
static long invoke(struct rt_state *st, const struct rt_invocation *inv, const char *event,
                   size_t len)
{
    struct rt_error err = {{0}, {0}};
    char path[512];
    cm_buf_reset(&st->response);
    int rc = st->fn->handler(inv, event, len, &st->response, &err);
    rt_metrics_flush_fd(st->metrics);
    if (rc == 0 && st->response.len > RT_MAX_RESPONSE_BYTES) {
        rt_error_set(&err, "Function.ResponseSizeTooLarge",
                     "Response payload size (%zu bytes) exceeded maximum allowed payload size "
                     "(%zu bytes).",
                     st->response.len, RT_MAX_RESPONSE_BYTES);
        rc = CM_ETOOBIG;
    }
    if (rc == 0) {
        snprintf(path, sizeof path, "invocation/%s/response", inv->request_id);
        return client_post(&st->client, path, st->response.data, st->response.len, NULL);
    }
    default_error(&err, rc);
    struct rt_log_field f[] = {{"errorType", err.type, 0}, {"errorMessage", err.message, 0}};
    rt_log_fields(CM_LOG_ERROR, f, 2, "invocation failed");
    snprintf(path, sizeof path, "invocation/%s/error", inv->request_id);
    return post_error(&st->client, path, &err, "Function.Unhandled");
}

static long run_one(struct rt_state *st)
{
    struct rt_next *nx = &st->next;
    char corr[RT_CORR_ID_MAX];
    if (nx->trace_id[0])
        setenv("_X_AMZN_TRACE_ID", nx->trace_id, 1);
    else
        unsetenv("_X_AMZN_TRACE_ID");
    const char *event = nx->body.data ? nx->body.data : "";
    cJSON *json = cm_json_parse(event, nx->body.len);
    rt_event_correlation_id(json, corr, sizeof corr);
    struct rt_invocation inv = {
        .request_id = nx->request_id,
        .deadline_ms = parse_deadline(nx->deadline_ms),
        .function_arn = nx->function_arn,
        .trace_id = nx->trace_id,
        .client_context = nx->client_context,
        .cognito_identity = nx->cognito_identity,
        .correlation_id = corr,
        .cold_start = st->cold,
        .event_json = json,
        .metrics = st->metrics,
        .user = st->fn->user,
    };
    rt_log_begin_invocation(inv.request_id, corr, st->cold);
    prepare_metrics(st, &inv);
    if (st->cold)
        write_cold_start(st);
    long status = invoke(st, &inv, event, nx->body.len);
    rt_log_end_invocation();
    cJSON_Delete(json);
    st->cold = 0;
    return status;
}

static int init_function(struct rt_state *st)
{
    if (!st->fn->init)
        return 0;
    struct rt_error err = {{0}, {0}};
    int rc = st->fn->init(st->fn->user, &err);
    if (rc == 0)
        return 0;
    if (!err.type[0])
        cm_strlcpy(err.type, "Runtime.InitError", sizeof err.type);
    if (!err.message[0])
        snprintf(err.message, sizeof err.message, "init failed: %s", cm_strerror(rc));
    struct rt_log_field f[] = {{"errorType", err.type, 0}, {"errorMessage", err.message, 0}};
    rt_log_fields(CM_LOG_ERROR, f, 2, "init failed");
    post_error(&st->client, "init/error", &err, "Runtime.InitError");
    return rc;
}

static int loop(struct rt_state *st)
{
    int failures = 0;
    for (;;) {
        int rc = client_next(&st->client, &st->next);
        if (rc == CM_EIO)
            return RT_EXIT_API_GONE;
        if (rc) {
            if (++failures >= RT_NEXT_RETRIES) {
                rt_log(CM_LOG_ERROR, "runtime: %d failed /next calls in a row, exiting", failures);
                return RT_EXIT_API_GONE;
            }
            cm_clock_sleep_ns(50 * CM_NS_PER_MS * failures);
            continue;
        }
        failures = 0;
        if (run_one(st) == 500) {
            rt_log(CM_LOG_ERROR, "runtime: 500 from the Runtime API, exiting");
            return RT_EXIT_API_GONE;
        }
    }
}

static void setup_logging(const char *name, const char *service)
{
    enum cm_log_level level = CM_LOG_INFO;
    const char *lv = getenv("AWS_LAMBDA_LOG_LEVEL");
    if (!lv || !*lv)
        lv = getenv("POWERTOOLS_LOG_LEVEL");
    if (lv && *lv && rt_log_parse_level(lv, &level) != 0)
        level = CM_LOG_INFO;
    rt_log_setup(name, service, 1);
    rt_log_set_level(level);
}

int rt_run(const struct rt_function *fn)
{
    int64_t t0_ns = cm_clock_mono_ns();
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    if (!fn || !fn->handler) {
        fprintf(stderr, "rt_run: no handler given\n");
        return RT_EXIT_CONFIG;
    }
    if (!api || !*api) {
        fprintf(stderr, "rt_run: AWS_LAMBDA_RUNTIME_API is not set; this program is a Lambda "
                        "function and runs under the Lambda Runtime API (AWS or stackd)\n");
        return RT_EXIT_CONFIG;
    }
    signal(SIGPIPE, SIG_IGN);
    struct rt_state st = {.fn = fn, .cold = 1};
    st.name = env_or(fn->name, "AWS_LAMBDA_FUNCTION_NAME", "function");
    st.service = env_or(fn->service, "POWERTOOLS_SERVICE_NAME", st.name);
    st.ns = env_or(fn->metrics_namespace, "POWERTOOLS_METRICS_NAMESPACE", "Orders");
    setup_logging(st.name, st.service);
    if (strlen(st.ns) > 255) {
        rt_log(CM_LOG_WARN, "metrics namespace longer than 255 bytes; using \"Orders\"");
        st.ns = "Orders";
    }
    cm_buf_init(&st.next.body, RT_MAX_EVENT_BYTES);
    cm_buf_init(&st.response, RT_MAX_EVENT_BYTES);
    st.metrics = rt_metrics_new(st.ns, rt_log_fd());
    int status;
    if (client_init(&st.client, api) != 0) {
        fprintf(stderr, "rt_run: AWS_LAMBDA_RUNTIME_API=%s: cannot set up the client\n", api);
        status = RT_EXIT_CONFIG;
        goto out;
    }
    if (init_function(&st) != 0) {
        status = RT_EXIT_INIT;
        goto out;
    }
    struct rt_log_field f[] = {
        {"initDurationMs", NULL, (double)(cm_clock_mono_ns() - t0_ns) / (double)CM_NS_PER_MS}};
    rt_log_fields(CM_LOG_DEBUG, f, 1, "runtime ready");
    status = loop(&st);
out:
    client_deinit(&st.client);
    rt_metrics_free(st.metrics);
    cm_buf_deinit(&st.next.body);
    cm_buf_deinit(&st.response);
    return status;
}
