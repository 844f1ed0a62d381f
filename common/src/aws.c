/* aws.c: cm_aws clients and requests over libcurl easy handles (see aws.h).
 *
 * What goes on the wire, and why it is exactly what was signed
 * (protocols.md 6.4): the request sets its own Host header (the value SigV4
 * signed), suppresses "Expect: 100-continue" and libcurl's default
 * "Content-Type: application/x-www-form-urlencoded" for bodies, and never
 * uses CURLOPT_AWS_SIGV4 (libcurl 7.88 neither sorts nor re-encodes the
 * query). Unsigned extras libcurl adds (Accept, Content-Length, User-Agent)
 * are outside SignedHeaders, as with botocore.
 *
 *   awsJson:  POST <base>/  Content-Type: application/x-amz-json-1.x
 *             X-Amz-Target: <prefix>.<Operation>  [x-amzn-query-mode: true]
 *   restJson: <METHOD> <base><path>[?query]  [Content-Type]  extra headers */
#include "cm/aws.h"

#include "cm/buf.h"
#include "cm/clock.h"
#include "cm/err.h"
#include "cm/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_EXTRA_HEADERS 32
#define MAX_BODY_BYTES    ((size_t)64 << 20)
#define MAX_URL           8192

struct cm_aws_client {
    const struct cm_aws_service *svc;
    char region[64];
    char endpoint[MAX_URL]; /* as configured, no trailing '/' */
    char scheme[8];
    char host[512];       /* Host header value: host[:port], port only when not the default */
    char base_path[1024]; /* endpoint path without trailing '/', "" for none */
    struct cm_aws_creds creds;
    struct cm_sigv4_ctx sig;
    CURLSH *share; /* connection and DNS cache shared by the client's requests */
    int max_attempts;
    int64_t base_backoff_ns, max_backoff_ns;
    long timeout_ms;
    size_t max_response_bytes;
    uint64_t rng;
};

struct cm_aws_req {
    struct cm_aws_client *cl;
    CURL *easy;
    struct curl_slist *slist;
    char method[16];
    char *path;  /* wire path, base path included */
    char *query; /* "" for none */
    char *url;
    char *content_type; /* NULL: none */
    char target[256];   /* X-Amz-Target value, "" for none */
    struct cm_buf body;
    struct cm_buf extra; /* "name\0value\0" pairs of caller headers */
    size_t n_extra;
    struct cm_buf resp_body;
    struct cm_buf resp_hdrs; /* "name: value\r\n" lines of the final response */
    long status;
    CURLcode curl_code;
    int attempts;
    int too_big;
    int configured; /* easy handle options set (all but the header list) */
    struct cm_aws_error err;
    char errbuf[CURL_ERROR_SIZE];
};

/* ------------------------------------------------------------------ client */

/* Splits the endpoint URL with libcurl's URL parser into scheme, Host value
 * and base path. */
static int split_endpoint(struct cm_aws_client *c, char *err, size_t err_size)
{
    int rc = 0;
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
    CURLU *u = curl_url();
    if (!u)
        abort();
    if (curl_url_set(u, CURLUPART_URL, c->endpoint, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        if (err)
            snprintf(err, err_size, "endpoint '%s': not a URL like http://127.0.0.1:4566",
                     c->endpoint);
        rc = CM_EINVAL;
        goto out;
    }
    curl_url_get(u, CURLUPART_PORT, &port, 0); /* absent when not in the URL */
    curl_url_get(u, CURLUPART_PATH, &path, 0);
    cm_strlcpy(c->scheme, scheme, sizeof(c->scheme));
    /* Lower-case host, port only when it is not the scheme's default (what
     * libcurl would send, and what botocore signs). */
    int def = port && ((strcasecmp(scheme, "http") == 0 && strcmp(port, "80") == 0) ||
                       (strcasecmp(scheme, "https") == 0 && strcmp(port, "443") == 0));
    int n = snprintf(c->host, sizeof(c->host), "%s%s%s", host, port && !def ? ":" : "",
                     port && !def ? port : "");
    for (char *p = c->host; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    size_t pl = path ? strlen(path) : 0;
    while (pl && path[pl - 1] == '/')
        pl--;
    if (n < 0 || (size_t)n >= sizeof(c->host) || pl >= sizeof(c->base_path)) {
        rc = CM_ETOOBIG;
        goto out;
    }
    memcpy(c->base_path, path ? path : "", pl);
    c->base_path[pl] = '\0';
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_url_cleanup(u);
    return rc;
}

static int client_creds(struct cm_aws_client *c, const struct cm_sigv4_creds *given, char *err,
                        size_t err_size)
{
    if (!given)
        return cm_aws_creds_load(&c->creds, err, err_size);
    if (!given->access_key_id || !given->secret_access_key)
        return CM_EINVAL;
    c->creds.access_key_id = cm_xstrdup(given->access_key_id);
    c->creds.secret_access_key = cm_xstrdup(given->secret_access_key);
    c->creds.session_token =
        given->session_token && *given->session_token ? cm_xstrdup(given->session_token) : NULL;
    cm_strlcpy(c->creds.source, "options", sizeof(c->creds.source));
    return 0;
}

int cm_aws_client_new(const struct cm_aws_client_opts *o, struct cm_aws_client **out, char *err,
                      size_t err_size)
{
    int rc = 0;
    struct cm_aws_client *c = cm_xcalloc(1, sizeof(*c));
    cm_sigv4_ctx_init(&c->sig);
    *out = NULL;
    if (!o || !o->service) {
        rc = CM_EINVAL;
        goto out;
    }
    c->svc = o->service;
    if (o->region) {
        if (cm_strlcpy(c->region, o->region, sizeof(c->region)) >= sizeof(c->region)) {
            rc = CM_ETOOBIG;
            goto out;
        }
    } else if ((rc = cm_aws_region_load(c->region, sizeof(c->region), err, err_size))) {
        goto out;
    }
    if (o->endpoint) {
        if (cm_strlcpy(c->endpoint, o->endpoint, sizeof(c->endpoint)) >= sizeof(c->endpoint)) {
            rc = CM_ETOOBIG;
            goto out;
        }
    } else if ((rc =
                    cm_aws_endpoint_resolve(c->svc, c->region, c->endpoint, sizeof(c->endpoint)))) {
        goto out;
    }
    if ((rc = split_endpoint(c, err, err_size)) || (rc = client_creds(c, o->creds, err, err_size)))
        goto out;
    c->max_attempts = o->max_attempts > 0 ? (o->max_attempts > 20 ? 20 : o->max_attempts) : 3;
    c->base_backoff_ns = o->base_backoff_ns > 0 ? o->base_backoff_ns : 50 * CM_NS_PER_MS;
    c->max_backoff_ns = o->max_backoff_ns > 0 ? o->max_backoff_ns : 20 * CM_NS_PER_S;
    c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
    c->max_response_bytes = o->max_response_bytes ? o->max_response_bytes : (size_t)16 << 20;
    /* Requests made one after another (cm_aws_perform) keep their
     * connections warm through the share; inside a multi handle the
     * share's cache is used the same way. */
    c->share = curl_share_init();
    if (!c->share)
        abort();
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    c->rng = o->seed ? o->seed : (uint64_t)cm_clock_mono_ns() ^ (uint64_t)(uintptr_t)c;
    if (!c->rng)
        c->rng = 0x9e3779b97f4a7c15ull;
    *out = c;
    c = NULL;
out:
    cm_aws_client_free(c);
    return rc;
}

void cm_aws_client_free(struct cm_aws_client *c)
{
    if (!c)
        return;
    cm_aws_creds_deinit(&c->creds);
    cm_sigv4_ctx_deinit(&c->sig);
    if (c->share)
        curl_share_cleanup(c->share);
    free(c);
}

const char *cm_aws_client_endpoint(const struct cm_aws_client *c)
{
    return c->endpoint;
}

const char *cm_aws_client_region(const struct cm_aws_client *c)
{
    return c->region;
}

double cm_aws_client_rand01(struct cm_aws_client *c)
{
    /* xorshift64*; the top 53 bits make a double in [0, 1). */
    uint64_t x = c->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    c->rng = x;
    return (double)((x * 0x2545F4914F6CDD1Dull) >> 11) * 0x1.0p-53;
}

/* ------------------------------------------------------------------ requests */

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    struct cm_aws_req *r = arg;
    size_t n = size * nmemb;
    if (cm_buf_append(&r->resp_body, p, n)) {
        r->too_big = 1;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
    struct cm_aws_req *r = arg;
    size_t n = size * nmemb;
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) /* a new response (after 100 or a redirect) */
        cm_buf_reset(&r->resp_hdrs);
    else if (cm_buf_append(&r->resp_hdrs, p, n))
        return 0;
    return n;
}

static struct cm_aws_req *req_new(struct cm_aws_client *c, const char *method)
{
    struct cm_aws_req *r = cm_xcalloc(1, sizeof(*r));
    r->cl = c;
    cm_strlcpy(r->method, method, sizeof(r->method));
    cm_buf_init(&r->body, MAX_BODY_BYTES);
    cm_buf_init(&r->extra, 1 << 20);
    cm_buf_init(&r->resp_body, c->max_response_bytes);
    cm_buf_init(&r->resp_hdrs, 1 << 20);
    r->easy = curl_easy_init();
    if (!r->easy)
        abort();
    return r;
}

void cm_aws_req_free(struct cm_aws_req *r)
{
    if (!r)
        return;
    curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->slist);
    free(r->path);
    free(r->query);
    free(r->url);
    free(r->content_type);
    cm_buf_deinit(&r->body);
    cm_buf_deinit(&r->extra);
    cm_buf_deinit(&r->resp_body);
    cm_buf_deinit(&r->resp_hdrs);
    free(r);
}

static int set_url(struct cm_aws_req *r, const char *path, const char *query)
{
    struct cm_aws_client *c = r->cl;
    struct cm_buf b;
    cm_buf_init(&b, MAX_URL);
    int rc = cm_buf_printf(&b, "%s%s", c->base_path, path && *path ? path : "/");
    if (rc)
        goto out;
    r->path = cm_buf_steal(&b, NULL);
    r->query = cm_xstrdup(query ? query : "");
    rc = cm_buf_printf(&b, "%s://%s%s%s%s", c->scheme, c->host, r->path, *r->query ? "?" : "",
                       r->query);
    if (rc)
        goto out;
    r->url = cm_buf_steal(&b, NULL);
out:
    cm_buf_deinit(&b);
    return rc;
}

int cm_aws_req_json(struct cm_aws_client *c, const char *operation, const char *body, size_t len,
                    struct cm_aws_req **out)
{
    *out = NULL;
    if (c->svc->protocol != CM_AWS_PROTO_JSON || !operation || !*operation ||
        strpbrk(operation, "\r\n"))
        return CM_EINVAL;
    struct cm_aws_req *r = req_new(c, "POST");
    int n = snprintf(r->target, sizeof(r->target), "%s.%s", c->svc->target_prefix, operation);
    int rc = n < 0 || (size_t)n >= sizeof(r->target) ? CM_ETOOBIG : 0;
    if (!rc)
        rc = set_url(r, "/", NULL);
    if (!rc)
        rc = cm_buf_append(&r->body, body ? body : "{}", body ? len : 2);
    if (rc) {
        cm_aws_req_free(r);
        return rc;
    }
    r->content_type = cm_xstrdup(c->svc->content_type);
    *out = r;
    return 0;
}

static int bad_header_text(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] == '\r' || p[i] == '\n' || p[i] == '\0')
            return 1;
    return 0;
}

int cm_aws_req_rest(struct cm_aws_client *c, const char *method, const char *path,
                    const char *query, const struct cm_sigv4_header *headers, size_t n_headers,
                    const void *body, size_t len, const char *content_type, struct cm_aws_req **out)
{
    *out = NULL;
    if (!method || !*method || strlen(method) >= 16 || !path || path[0] != '/' ||
        n_headers > MAX_EXTRA_HEADERS || (content_type && strpbrk(content_type, "\r\n")) ||
        strpbrk(path, " \r\n#?") || (query && strpbrk(query, " \r\n#")))
        return CM_EINVAL;
    for (size_t i = 0; i < n_headers; i++)
        if (!headers[i].name_len || bad_header_text(headers[i].name, headers[i].name_len) ||
            bad_header_text(headers[i].value, headers[i].value_len) ||
            memchr(headers[i].name, ':', headers[i].name_len))
            return CM_EINVAL;
    struct cm_aws_req *r = req_new(c, method);
    int rc = set_url(r, path, query);
    for (size_t i = 0; !rc && i < n_headers; i++) {
        if ((rc = cm_buf_append(&r->extra, headers[i].name, headers[i].name_len)) ||
            (rc = cm_buf_putc(&r->extra, '\0')) ||
            (rc = cm_buf_append(&r->extra, headers[i].value, headers[i].value_len)) ||
            (rc = cm_buf_putc(&r->extra, '\0')))
            break;
        r->n_extra++;
    }
    if (!rc && body)
        rc = cm_buf_append(&r->body, body, len);
    if (rc) {
        cm_aws_req_free(r);
        return rc;
    }
    r->content_type = content_type ? cm_xstrdup(content_type) : NULL;
    *out = r;
    return 0;
}

/* The headers we send, in order; all signed except the ones cm_sigv4 leaves
 * unsigned. hs has room for MAX_EXTRA_HEADERS + 4. */
static size_t build_headers(const struct cm_aws_req *r, struct cm_sigv4_header *hs)
{
    size_t n = 0;
    const struct cm_aws_client *c = r->cl;
    hs[n++] = (struct cm_sigv4_header)CM_SIGV4_HEADER("Host", c->host);
    if (r->content_type)
        hs[n++] = (struct cm_sigv4_header)CM_SIGV4_HEADER("Content-Type", r->content_type);
    if (r->target[0])
        hs[n++] = (struct cm_sigv4_header)CM_SIGV4_HEADER("X-Amz-Target", r->target);
    if (r->target[0] && c->svc->query_compatible)
        hs[n++] = (struct cm_sigv4_header)CM_SIGV4_HEADER("x-amzn-query-mode", "true");
    const char *p = r->extra.data;
    for (size_t i = 0; i < r->n_extra; i++) {
        const char *name = p, *value = p + strlen(p) + 1;
        hs[n++] = (struct cm_sigv4_header)CM_SIGV4_HEADER(name, value);
        p = value + strlen(value) + 1;
    }
    return n;
}

static int slist_add(struct curl_slist **l, const char *name, size_t nl, const char *v, size_t vl)
{
    char line[8192];
    if (nl + vl + 3 > sizeof(line))
        return CM_ETOOBIG;
    memcpy(line, name, nl);
    line[nl] = ':';
    line[nl + 1] = ' ';
    memcpy(line + nl + 2, v, vl);
    line[nl + 2 + vl] = '\0';
    struct curl_slist *t = curl_slist_append(*l, line);
    if (!t)
        abort();
    *l = t;
    return 0;
}

static void set_method(struct cm_aws_req *r)
{
    CURL *e = r->easy;
    int has_body = r->body.len > 0 || strcmp(r->method, "POST") == 0 ||
                   strcmp(r->method, "PUT") == 0 || strcmp(r->method, "PATCH") == 0;
    if (strcmp(r->method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (has_body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body.data ? r->body.data : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body.len);
        if (strcmp(r->method, "POST") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        if (strcmp(r->method, "GET") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
    }
}

int cm_aws_req_sign(struct cm_aws_req *r, int64_t now_s)
{
    struct cm_aws_client *c = r->cl;
    struct cm_sigv4_header hs[MAX_EXTRA_HEADERS + 4];
    size_t n = build_headers(r, hs);
    struct cm_sigv4_creds cr = cm_aws_creds_view(&c->creds);
    struct cm_sigv4_config cfg = {c->region, c->svc->signing_name, &cr, now_s, 0};
    struct cm_sigv4_request sr = {.method = r->method,
                                  .host = c->host,
                                  .host_len = strlen(c->host),
                                  .path = r->path,
                                  .path_len = strlen(r->path),
                                  .query = r->query,
                                  .query_len = strlen(r->query),
                                  .headers = hs,
                                  .n_headers = n,
                                  .payload = r->body.data,
                                  .payload_len = r->body.len};
    int rc = cm_sigv4_sign(&c->sig, &cfg, &sr);
    if (rc)
        return rc;
    curl_slist_free_all(r->slist);
    r->slist = NULL;
    for (size_t i = 0; !rc && i < n; i++)
        rc = slist_add(&r->slist, hs[i].name, hs[i].name_len, hs[i].value, hs[i].value_len);
    for (size_t i = 0; !rc && i < c->sig.n_add; i++)
        rc = slist_add(&r->slist, c->sig.add[i].name, c->sig.add[i].name_len, c->sig.add[i].value,
                       c->sig.add[i].value_len);
    if (rc)
        return rc;
    /* "Name:" with nothing after removes a header libcurl would add. */
    r->slist = curl_slist_append(r->slist, "Expect:");
    if (!r->content_type)
        r->slist = curl_slist_append(r->slist, "Content-Type:");
    if (!r->slist)
        abort();

    CURL *e = r->easy;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->slist);
    if (!r->configured) { /* the rest never changes between attempts */
        curl_easy_setopt(e, CURLOPT_URL, r->url);
        curl_easy_setopt(e, CURLOPT_USERAGENT, "loadgen/0.1");
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
        curl_easy_setopt(e, CURLOPT_PRIVATE, r);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                         c->timeout_ms < 10000 ? c->timeout_ms : 10000L);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_SHARE, c->share);
        set_method(r);
        r->configured = 1;
    }
    cm_buf_reset(&r->resp_body);
    cm_buf_reset(&r->resp_hdrs);
    r->status = 0;
    r->too_big = 0;
    r->curl_code = CURLE_OK;
    r->errbuf[0] = '\0';
    r->err.code[0] = r->err.message[0] = '\0';
    return 0;
}

CURL *cm_aws_req_easy(struct cm_aws_req *r)
{
    return r->easy;
}

struct cm_aws_req *cm_aws_req_from_easy(CURL *e)
{
    char *p = NULL;
    if (!e || curl_easy_getinfo(e, CURLINFO_PRIVATE, &p) != CURLE_OK)
        return NULL;
    return (struct cm_aws_req *)(void *)p;
}

int cm_aws_req_attach(struct cm_aws_req *r, CURLM *multi, int64_t now_s)
{
    int rc = cm_aws_req_sign(r, now_s);
    if (rc)
        return rc;
    return curl_multi_add_handle(multi, r->easy) == CURLM_OK ? 0 : CM_EIO;
}

int cm_aws_req_detach(struct cm_aws_req *r, CURLM *multi)
{
    return curl_multi_remove_handle(multi, r->easy) == CURLM_OK ? 0 : CM_EIO;
}

static int transport_err(CURLcode cc)
{
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
        return CM_ETIMEDOUT;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_SSL_CONNECT_ERROR:
        return CM_ECONN;
    default:
        return CM_EIO;
    }
}

int cm_aws_req_finish(struct cm_aws_req *r, CURLcode result)
{
    r->attempts++;
    r->curl_code = result;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
    if (r->too_big) {
        cm_strlcpy(r->err.code, "ResponseTooLarge", sizeof(r->err.code));
        snprintf(r->err.message, sizeof(r->err.message), "response body over %zu bytes",
                 r->cl->max_response_bytes);
        return CM_ETOOBIG;
    }
    if (result != CURLE_OK) {
        cm_strlcpy(r->err.code, "TransportError", sizeof(r->err.code));
        snprintf(r->err.message, sizeof(r->err.message), "%s",
                 r->errbuf[0] ? r->errbuf : curl_easy_strerror(result));
        return transport_err(result);
    }
    if (r->status >= 200 && r->status < 300)
        return 0;
    size_t tl = 0, ql = 0;
    const char *t = cm_aws_req_header(r, "x-amzn-ErrorType", &tl);
    const char *q = cm_aws_req_header(r, "x-amzn-query-error", &ql);
    cm_aws_error_parse(r->status, t, tl, q, ql, r->resp_body.data, r->resp_body.len, &r->err);
    return CM_EAWS;
}

int cm_aws_req_next_delay(struct cm_aws_req *r, double rand01, int64_t *delay_ns)
{
    struct cm_aws_client *c = r->cl;
    *delay_ns = 0;
    if (r->attempts >= c->max_attempts || r->too_big)
        return 0;
    if (!cm_aws_is_retryable(r->curl_code, r->status, r->err.code[0] ? r->err.code : NULL))
        return 0;
    *delay_ns = cm_aws_backoff_ns(r->attempts, rand01, c->base_backoff_ns, c->max_backoff_ns);
    return 1;
}

int cm_aws_perform(struct cm_aws_req *r)
{
    int rc = 0;
    for (int i = 0; i < r->cl->max_attempts; i++) {
        rc = cm_aws_req_sign(r, cm_clock_wall_ns() / CM_NS_PER_S);
        if (rc)
            return rc;
        rc = cm_aws_req_finish(r, curl_easy_perform(r->easy));
        int64_t delay;
        if (rc == 0 || !cm_aws_req_next_delay(r, cm_aws_client_rand01(r->cl), &delay))
            break;
        cm_clock_sleep_ns(delay);
    }
    return rc;
}

long cm_aws_req_status(const struct cm_aws_req *r)
{
    return r->status;
}

const char *cm_aws_req_body(const struct cm_aws_req *r, size_t *len)
{
    if (len)
        *len = r->resp_body.len;
    return r->resp_body.data ? r->resp_body.data : "";
}

const char *cm_aws_req_header(const struct cm_aws_req *r, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    const char *p = r->resp_hdrs.data, *end = p + r->resp_hdrs.len;
    while (p && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end;
        if ((size_t)(le - p) > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            const char *v = p + nl + 1;
            while (v < le && (*v == ' ' || *v == '\t'))
                v++;
            const char *ve = le;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            if (len)
                *len = (size_t)(ve - v);
            return v;
        }
        p = eol ? eol + 1 : end;
    }
    return NULL;
}

const struct cm_aws_error *cm_aws_req_error(const struct cm_aws_req *r)
{
    return &r->err;
}

int cm_aws_req_attempts(const struct cm_aws_req *r)
{
    return r->attempts;
}

CURLcode cm_aws_req_curl_code(const struct cm_aws_req *r)
{
    return r->curl_code;
}
