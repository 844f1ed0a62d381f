/* sd_apigw.c: HTTP API routing, payload 2.0 events and response mapping (see
 * sd_apigw.h). */
#include "sd_apigw.h"

#include "cm/clock.h"
#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_SEGS 64

struct route {
    char *key;
    char *method; /* "ANY", "GET", ... ; NULL for $default */
    char *function;
    struct sd_fn *fn;
    int n_segs;
    char **segs; /* literal, "{name}" or "{name+}" */
};

struct call;

struct sd_apigw {
    struct sd_lambda *l;
    struct call *calls; /* waiting for their function, oldest last */
    int64_t integration_timeout_ns;
    char *api_id, *account_id, *region;
    struct route *routes;
    int n_routes;
    void (*metric)(void *ctx, const char *ns, const char *name, const char *dim_name,
                   const char *dim_value, double value, const char *unit, int64_t ts_ms);
    void *metric_ctx;
    uint64_t rnd;
};

/* Splits "/a/b/c" into segments (empty segments dropped). */
static int split_path(const char *p, char **segs, size_t *lens, int max)
{
    int n = 0;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *s = p;
        while (*p && *p != '/')
            p++;
        if (n >= max)
            return -1;
        segs[n] = (char *)s;
        lens[n] = (size_t)(p - s);
        n++;
    }
    return n;
}

int sd_apigw_new(const struct sd_stack *st, struct sd_lambda *l, struct sd_apigw **out)
{
    struct sd_apigw *g = cm_xcalloc(1, sizeof(*g));
    g->l = l;
    g->api_id = cm_xstrdup(st->api_id ? st->api_id : "local");
    g->account_id = cm_xstrdup(st->account_id ? st->account_id : "000000000000");
    g->region = cm_xstrdup(st->region ? st->region : "us-east-1");
    g->routes = cm_xcalloc(st->n_routes + 1, sizeof(*g->routes));
    g->rnd = (uint64_t)cm_clock_wall_ns() ^ 0x9E3779B97F4A7C15ull;
    g->integration_timeout_ns =
        st->integration_timeout_ns > 0 ? st->integration_timeout_ns : 30 * CM_NS_PER_S;
    for (size_t i = 0; i < st->n_routes; i++) {
        struct route *r = &g->routes[g->n_routes++];
        r->key = cm_xstrdup(st->routes[i].route_key);
        r->function = cm_xstrdup(st->routes[i].function);
        r->fn = sd_lambda_find(l, r->function, strlen(r->function));
        if (strcmp(r->key, "$default") == 0)
            continue;
        const char *sp = strchr(r->key, ' ');
        r->method = cm_xstrndup(r->key, (size_t)(sp - r->key));
        char *segs[MAX_SEGS];
        size_t lens[MAX_SEGS];
        int n = split_path(sp + 1, segs, lens, MAX_SEGS);
        if (n < 0)
            n = 0;
        r->segs = cm_xcalloc((size_t)n + 1, sizeof(char *));
        for (int k = 0; k < n; k++)
            r->segs[k] = cm_xstrndup(segs[k], lens[k]);
        r->n_segs = n;
    }
    *out = g;
    return 0;
}

void sd_apigw_free(struct sd_apigw *g)
{
    if (!g)
        return;
    for (int i = 0; i < g->n_routes; i++) {
        struct route *r = &g->routes[i];
        for (int k = 0; k < r->n_segs; k++)
            free(r->segs[k]);
        free(r->segs);
        free(r->key);
        free(r->method);
        free(r->function);
    }
    free(g->routes);
    free(g->api_id);
    free(g->account_id);
    free(g->region);
    free(g);
}

void sd_apigw_set_metric_hook(struct sd_apigw *g,
                              void (*metric)(void *ctx, const char *ns, const char *name,
                                             const char *dim_name, const char *dim_value,
                                             double value, const char *unit, int64_t ts_ms),
                              void *ctx)
{
    g->metric = metric;
    g->metric_ctx = ctx;
}

/* Score of route r for the request segments, or -1 when it does not match.
 * Per position: literal 3, {param} 2, greedy 1 (earlier positions weigh
 * more), plus 1 for an exact method. */
static long route_score(const struct route *r, const char *method, char **segs, size_t *lens, int n,
                        struct sd_apigw_match *m)
{
    long score = 0;
    int exact = strcmp(r->method, "ANY") != 0;
    if (exact && strcmp(r->method, method) != 0)
        return -1;
    m->n_params = 0;
    for (int k = 0; k < r->n_segs; k++) {
        const char *s = r->segs[k];
        size_t sl = strlen(s);
        int is_param = s[0] == '{' && sl >= 3 && s[sl - 1] == '}';
        int greedy = is_param && s[sl - 2] == '+';
        score *= 4;
        if (greedy) {
            if (k >= n)
                return -1;
            /* The rest of the path, from segment k (at least one segment). */
            const char *start = segs[k];
            const char *end = segs[n - 1] + lens[n - 1];
            if (m->n_params < SD_APIGW_MAX_PARAMS) {
                snprintf(m->names[m->n_params], sizeof(m->names[0]), "%.*s", (int)(sl - 3), s + 1);
                snprintf(m->values[m->n_params], sizeof(m->values[0]), "%.*s", (int)(end - start),
                         start);
                m->n_params++;
            }
            score += 1;
            for (int j = k + 1; j < MAX_SEGS && j < n; j++)
                score *= 4;
            return score * 2 + exact;
        }
        if (k >= n)
            return -1;
        if (is_param) {
            if (m->n_params < SD_APIGW_MAX_PARAMS) {
                snprintf(m->names[m->n_params], sizeof(m->names[0]), "%.*s", (int)(sl - 2), s + 1);
                snprintf(m->values[m->n_params], sizeof(m->values[0]), "%.*s", (int)lens[k],
                         segs[k]);
                m->n_params++;
            }
            score += 2;
        } else {
            if (lens[k] != sl || memcmp(s, segs[k], sl) != 0)
                return -1;
            score += 3;
        }
    }
    if (r->n_segs != n)
        return -1;
    return score * 2 + exact;
}

int sd_apigw_match(const struct sd_apigw *g, const char *method, const char *path,
                   struct sd_apigw_match *m)
{
    char *segs[MAX_SEGS];
    size_t lens[MAX_SEGS];
    int n = split_path(path, segs, lens, MAX_SEGS);
    long best = -1;
    int best_i = -1, def_i = -1;
    struct sd_apigw_match tmp;
    memset(m, 0, sizeof(*m));
    m->route = -1;
    for (int i = 0; n >= 0 && i < g->n_routes; i++) {
        const struct route *r = &g->routes[i];
        if (!r->method) {
            def_i = i;
            continue;
        }
        long sc = route_score(r, method, segs, lens, n, &tmp);
        if (sc > best) {
            best = sc;
            best_i = i;
            *m = tmp;
        }
    }
    if (best_i < 0 && def_i >= 0) {
        best_i = def_i;
        m->n_params = 0;
    }
    if (best_i < 0)
        return CM_ENOTFOUND;
    m->route = best_i;
    m->route_key = g->routes[best_i].key;
    m->function = g->routes[best_i].function;
    return 0;
}

/* ---------- event ---------- */

/* JSON string with the same escapes as cm_json_append_string, but runs of
 * plain bytes are copied at once: the event builder is on the hot path and
 * bodies reach 6 MB. */
static void json_str(struct cm_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;
    cm_buf_reserve(b, n + 2);
    cm_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        cm_buf_append(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"':
            cm_buf_append(b, "\\\"", 2);
            break;
        case '\\':
            cm_buf_append(b, "\\\\", 2);
            break;
        case '\n':
            cm_buf_append(b, "\\n", 2);
            break;
        case '\r':
            cm_buf_append(b, "\\r", 2);
            break;
        case '\t':
            cm_buf_append(b, "\\t", 2);
            break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            cm_buf_append(b, u, sizeof(u));
        }
        }
    }
    cm_buf_append(b, s + run, n - run);
    cm_buf_putc(b, '"');
}

static void put_key(struct cm_buf *b, const char *k)
{
    json_str(b, k, strlen(k));
    cm_buf_putc(b, ':');
}

static void put_str(struct cm_buf *b, const char *k, const char *v, size_t n)
{
    put_key(b, k);
    json_str(b, v, n);
    cm_buf_putc(b, ',');
}

static size_t pct_decode(const char *s, size_t n, char *out, size_t out_size)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < out_size; i++) {
        if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
            isxdigit((unsigned char)s[i + 2])) {
            char hx[3] = {s[i + 1], s[i + 2], 0};
            out[o++] = (char)strtol(hx, NULL, 16);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return o;
}

/* Lower-cased header names, duplicates joined with ','; Cookie goes to
 * "cookies" instead. */
static void put_headers(struct cm_buf *b, const struct sd_req *req, const char *trace_id)
{
    int done[SD_MAX_HEADERS] = {0};
    int have_xff = 0, have_trace = 0;
    put_key(b, "headers");
    cm_buf_putc(b, '{');
    int first = 1;
    for (int i = 0; i < req->n_headers; i++) {
        const struct sd_header *h = &req->headers[i];
        if (done[i] || (h->name_len == 6 && strncasecmp(h->name, "cookie", 6) == 0))
            continue;
        char name[128];
        size_t nl = h->name_len < sizeof(name) - 1 ? h->name_len : sizeof(name) - 1;
        for (size_t k = 0; k < nl; k++)
            name[k] = (char)tolower((unsigned char)h->name[k]);
        name[nl] = '\0';
        have_xff |= strcmp(name, "x-forwarded-for") == 0;
        have_trace |= strcmp(name, "x-amzn-trace-id") == 0;
        int dup = 0;
        for (int j = i + 1; j < req->n_headers && !dup; j++) {
            const struct sd_header *o = &req->headers[j];
            dup = o->name_len == h->name_len && strncasecmp(o->name, h->name, h->name_len) == 0;
        }
        if (!first)
            cm_buf_putc(b, ',');
        first = 0;
        put_key(b, name);
        if (!dup) { /* the common case: no copy */
            json_str(b, h->value, h->value_len);
            continue;
        }
        struct cm_buf v;
        cm_buf_init(&v, 64 * 1024);
        cm_buf_append(&v, h->value, h->value_len);
        for (int j = i + 1; j < req->n_headers; j++) {
            const struct sd_header *o = &req->headers[j];
            if (o->name_len == h->name_len && strncasecmp(o->name, h->name, h->name_len) == 0) {
                cm_buf_putc(&v, ',');
                cm_buf_append(&v, o->value, o->value_len);
                done[j] = 1;
            }
        }
        json_str(b, v.data ? v.data : "", v.len);
        cm_buf_deinit(&v);
    }
    if (!have_xff) {
        cm_buf_puts(b, first ? "" : ",");
        put_key(b, "x-forwarded-for");
        json_str(b, req->peer_ip ? req->peer_ip : "127.0.0.1",
                 strlen(req->peer_ip ? req->peer_ip : "127.0.0.1"));
        cm_buf_puts(b, ",\"x-forwarded-proto\":\"http\"");
        first = 0;
    }
    if (!have_trace && trace_id) {
        cm_buf_puts(b, first ? "" : ",");
        put_key(b, "x-amzn-trace-id");
        json_str(b, trace_id, strlen(trace_id));
    }
    cm_buf_puts(b, "},");
}

static void put_cookies(struct cm_buf *b, const struct sd_req *req)
{
    int any = 0;
    for (int i = 0; i < req->n_headers; i++) {
        const struct sd_header *h = &req->headers[i];
        if (!(h->name_len == 6 && strncasecmp(h->name, "cookie", 6) == 0))
            continue;
        const char *p = h->value, *end = h->value + h->value_len;
        while (p < end) {
            while (p < end && (*p == ' ' || *p == ';'))
                p++;
            const char *s = p;
            while (p < end && *p != ';')
                p++;
            if (p > s) {
                cm_buf_puts(b, any ? "," : "\"cookies\":[");
                json_str(b, s, (size_t)(p - s));
                any = 1;
            }
        }
    }
    if (any)
        cm_buf_puts(b, "],");
}

static void put_query(struct cm_buf *b, const char *q)
{
    /* Parameters in first-seen order; repeated ones comma-joined. */
    struct {
        char k[128];
        struct cm_buf v;
    } *ps = NULL;
    int n = 0;
    const char *p = q;
    if (!*q)
        return;
    ps = cm_xcalloc(64, sizeof(*ps));
    while (*p && n < 64) {
        const char *amp = strchr(p, '&');
        size_t fl = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', fl);
        size_t kl = eq ? (size_t)(eq - p) : fl;
        char k[128], v[1024];
        pct_decode(p, kl, k, sizeof(k));
        size_t vl = eq ? pct_decode(eq + 1, fl - kl - 1, v, sizeof(v)) : 0;
        if (!eq)
            v[0] = '\0';
        int idx = -1;
        for (int i = 0; i < n; i++) {
            if (strcmp(ps[i].k, k) == 0)
                idx = i;
        }
        if (kl > 0) {
            if (idx < 0) {
                idx = n++;
                cm_strlcpy(ps[idx].k, k, sizeof(ps[idx].k));
                cm_buf_init(&ps[idx].v, 64 * 1024);
            } else {
                cm_buf_putc(&ps[idx].v, ',');
            }
            cm_buf_append(&ps[idx].v, v, vl);
        }
        p += fl + (amp ? 1 : 0);
        if (!amp)
            break;
    }
    if (n) {
        cm_buf_puts(b, "\"queryStringParameters\":{");
        for (int i = 0; i < n; i++) {
            if (i)
                cm_buf_putc(b, ',');
            put_key(b, ps[i].k);
            json_str(b, ps[i].v.data ? ps[i].v.data : "", ps[i].v.len);
        }
        cm_buf_puts(b, "},");
    }
    for (int i = 0; i < n; i++)
        cm_buf_deinit(&ps[i].v);
    free(ps);
}

/* Text bodies travel as strings, everything else base64 (binary media). */
static int body_is_text(const struct sd_req *req)
{
    size_t n;
    const char *ct = sd_req_header(req, "content-type", &n);
    if (!ct)
        return 1;
    static const char *text[] = {"text/",
                                 "application/json",
                                 "application/xml",
                                 "application/javascript",
                                 "application/x-www-form-urlencoded",
                                 "application/x-amz-json",
                                 NULL};
    for (int i = 0; text[i]; i++) {
        size_t tl = strlen(text[i]);
        if (n >= tl && strncasecmp(ct, text[i], tl) == 0)
            return 1;
    }
    return strstr(ct, "+json") != NULL;
}

static void put_body(struct cm_buf *b, const struct sd_req *req)
{
    if (req->body_len == 0)
        return;
    if (body_is_text(req)) {
        put_str(b, "body", req->body, req->body_len);
        cm_buf_puts(b, "\"isBase64Encoded\":false");
        return;
    }
    size_t enc_len = 4 * ((req->body_len + 2) / 3);
    char *enc = cm_xmalloc(enc_len + 1);
    EVP_EncodeBlock((unsigned char *)enc, (const unsigned char *)req->body, (int)req->body_len);
    put_str(b, "body", enc, enc_len);
    free(enc);
    cm_buf_puts(b, "\"isBase64Encoded\":true");
}

int sd_apigw_build_event(struct cm_buf *b, const struct sd_req *req, const char *path,
                         const struct sd_apigw_match *m, const struct sd_apigw_ctx *c)
{
    char tbuf[64], dom[160];
    size_t ua_len;
    const char *ua = sd_req_header(req, "user-agent", &ua_len);
    time_t t = (time_t)(c->wall_ns / CM_NS_PER_S);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(tbuf, sizeof(tbuf), "%d/%b/%Y:%H:%M:%S +0000", &tm);
    snprintf(dom, sizeof(dom), "%s.execute-api.%s.amazonaws.com", c->api_id, c->region);
    cm_buf_puts(b, "{\"version\":\"2.0\",");
    put_str(b, "routeKey", m->route_key, strlen(m->route_key));
    put_str(b, "rawPath", path, strlen(path));
    put_str(b, "rawQueryString", req->query, strlen(req->query));
    put_cookies(b, req);
    put_headers(b, req, c->trace_id);
    put_query(b, req->query);
    if (m->n_params) {
        cm_buf_puts(b, "\"pathParameters\":{");
        for (int i = 0; i < m->n_params; i++) {
            char v[256];
            if (i)
                cm_buf_putc(b, ',');
            put_key(b, m->names[i]);
            size_t vl = pct_decode(m->values[i], strlen(m->values[i]), v, sizeof(v));
            json_str(b, v, vl);
        }
        cm_buf_puts(b, "},");
    }
    cm_buf_puts(b, "\"requestContext\":{");
    put_str(b, "accountId", c->account_id, strlen(c->account_id));
    put_str(b, "apiId", c->api_id, strlen(c->api_id));
    put_str(b, "domainName", dom, strlen(dom));
    put_str(b, "domainPrefix", c->api_id, strlen(c->api_id));
    cm_buf_puts(b, "\"http\":{");
    put_str(b, "method", req->method, strlen(req->method));
    put_str(b, "path", path, strlen(path));
    put_str(b, "protocol", "HTTP/1.1", 8);
    put_str(b, "sourceIp", req->peer_ip ? req->peer_ip : "127.0.0.1",
            strlen(req->peer_ip ? req->peer_ip : "127.0.0.1"));
    put_key(b, "userAgent");
    json_str(b, ua ? ua : "", ua ? ua_len : 0);
    cm_buf_puts(b, "},");
    put_str(b, "requestId", c->request_id, strlen(c->request_id));
    put_str(b, "routeKey", m->route_key, strlen(m->route_key));
    put_str(b, "stage", "$default", 8);
    put_str(b, "time", tbuf, strlen(tbuf));
    cm_buf_printf(b, "\"timeEpoch\":%lld},", (long long)(c->wall_ns / CM_NS_PER_MS));
    put_body(b, req);
    if (b->len && b->data[b->len - 1] == ',')
        b->len--;
    if (req->body_len == 0)
        cm_buf_puts(b, ",\"isBase64Encoded\":false");
    return cm_buf_puts(b, "}");
}

/* ---------- response mapping ---------- */

static int set_body_b64(struct sd_resp *resp, const char *s)
{
    size_t n = strlen(s);
    if (n % 4 != 0)
        return CM_EPARSE;
    unsigned char *out = cm_xmalloc(n / 4 * 3 + 4);
    int dn = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
    if (dn < 0) {
        free(out);
        return CM_EPARSE;
    }
    while (n > 0 && s[n - 1] == '=') { /* EVP_DecodeBlock counts padding as zero bytes */
        dn--;
        n--;
    }
    cm_buf_append(&resp->body, out, (size_t)dn);
    free(out);
    return 0;
}

static void header_value(const cJSON *v, char *out, size_t n)
{
    if (cJSON_IsString(v))
        cm_strlcpy(out, v->valuestring, n);
    else if (cJSON_IsNumber(v))
        snprintf(out, n, "%.15g", v->valuedouble);
    else if (cJSON_IsBool(v))
        cm_strlcpy(out, cJSON_IsTrue(v) ? "true" : "false", n);
    else
        out[0] = '\0';
}

static void add_header(struct sd_resp *resp, const char *name, const char *val)
{
    if (strcasecmp(name, "content-type") == 0)
        cm_strlcpy(resp->content_type, val, sizeof(resp->content_type));
    else if (strcasecmp(name, "content-length") != 0 && strcasecmp(name, "connection") != 0 &&
             strcasecmp(name, "transfer-encoding") != 0)
        sd_resp_header(resp, name, val);
}

static int map_structured(const cJSON *o, struct sd_resp *resp)
{
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(o, "statusCode");
    if (!cJSON_IsNumber(sc) || sc->valuedouble < 100 || sc->valuedouble > 599)
        return CM_EPARSE;
    resp->status = (int)sc->valuedouble;
    const cJSON *h, *hs = cJSON_GetObjectItemCaseSensitive(o, "headers");
    char val[4096];
    cJSON_ArrayForEach(h, hs)
    {
        header_value(h, val, sizeof(val));
        add_header(resp, h->string, val);
    }
    const cJSON *mv = cJSON_GetObjectItemCaseSensitive(o, "multiValueHeaders");
    cJSON_ArrayForEach(h, mv)
    {
        const cJSON *it;
        cJSON_ArrayForEach(it, h)
        {
            header_value(it, val, sizeof(val));
            add_header(resp, h->string, val);
        }
    }
    const cJSON *ck, *cks = cJSON_GetObjectItemCaseSensitive(o, "cookies");
    cJSON_ArrayForEach(ck, cks)
    {
        if (cJSON_IsString(ck))
            sd_resp_header(resp, "Set-Cookie", ck->valuestring);
    }
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(o, "body");
    int b64 = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "isBase64Encoded"));
    if (cJSON_IsString(body)) {
        if (b64)
            return set_body_b64(resp, body->valuestring);
        cm_buf_puts(&resp->body, body->valuestring);
    } else if (body && !cJSON_IsNull(body)) {
        cm_json_append(&resp->body, body);
    }
    return 0;
}

int sd_apigw_map_response(const char *out, size_t len, struct sd_resp *resp)
{
    cJSON *j = cm_json_parse(out, len);
    int rc = 0;
    resp->status = 200;
    if (j && cJSON_IsObject(j) && cJSON_GetObjectItemCaseSensitive(j, "statusCode")) {
        rc = map_structured(j, resp);
    } else if (j && cJSON_IsString(j)) {
        cm_strlcpy(resp->content_type, "application/json", sizeof(resp->content_type));
        cm_buf_puts(&resp->body, j->valuestring);
    } else if (j) {
        /* Any other JSON: the output itself is the body. */
        cm_strlcpy(resp->content_type, "application/json", sizeof(resp->content_type));
        cm_buf_append(&resp->body, out, len);
    } else {
        rc = CM_EPARSE; /* not JSON at all: API Gateway answers 500 */
    }
    cJSON_Delete(j);
    return rc;
}

/* ---------- request handling ---------- */

struct call {
    struct sd_apigw *g;
    struct sd_conn *conn; /* NULL once answered (integration timeout) */
    int64_t start_ns;
    char request_id[24];
    struct call *prev, *next;
};

static void call_unlink(struct sd_apigw *g, struct call *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        g->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

static void gw_metric(struct sd_apigw *g, const char *name, double v, const char *unit)
{
    if (g->metric)
        g->metric(g->metric_ctx, "AWS/ApiGateway", name, "ApiId", g->api_id, v, unit,
                  cm_clock_wall_ns() / CM_NS_PER_MS);
}

static void gw_reply(struct sd_apigw *g, struct sd_conn *conn, struct sd_resp *r,
                     const char *request_id, int64_t start_ns, double integ_ms)
{
    sd_resp_header(r, "apigw-requestid", request_id);
    double lat_ms = (double)(cm_clock_mono_ns() - start_ns) / 1e6;
    gw_metric(g, "Count", 1, "Count");
    gw_metric(g, "Latency", lat_ms, "Milliseconds");
    if (integ_ms >= 0)
        gw_metric(g, "IntegrationLatency", integ_ms, "Milliseconds");
    gw_metric(g, "4xx", r->status >= 400 && r->status < 500, "Count");
    gw_metric(g, "5xx", r->status >= 500, "Count");
    sd_conn_reply(conn, r);
}

static void gw_error(struct sd_apigw *g, struct sd_conn *conn, int status, const char *msg,
                     const char *request_id, int64_t start_ns, double integ_ms)
{
    struct sd_resp r;
    sd_resp_init(&r);
    r.status = status;
    cm_strlcpy(r.content_type, "application/json", sizeof(r.content_type));
    cm_buf_printf(&r.body, "{\"message\":\"%s\"}", msg);
    gw_reply(g, conn, &r, request_id, start_ns, integ_ms);
    sd_resp_deinit(&r);
}

static void on_done(void *ctx, const struct sd_inv_result *res)
{
    struct call *c = ctx;
    struct sd_resp r;
    sd_resp_init(&r);
    double integ_ms = (double)(cm_clock_mono_ns() - c->start_ns) / 1e6;
    call_unlink(c->g, c);
    if (!c->conn) {
        /* already answered 503 at the integration timeout */
    } else if (!sd_conn_alive(c->conn)) {
        sd_conn_release(c->conn);
    } else if (res->status == SD_INV_OK &&
               sd_apigw_map_response(res->body, res->body_len, &r) == 0) {
        gw_reply(c->g, c->conn, &r, c->request_id, c->start_ns, integ_ms);
    } else if (res->status == SD_INV_TIMEOUT) {
        gw_error(c->g, c->conn, 503, "Service Unavailable", c->request_id, c->start_ns, integ_ms);
    } else {
        gw_error(c->g, c->conn, 500, "Internal Server Error", c->request_id, c->start_ns, integ_ms);
    }
    sd_resp_deinit(&r);
    free(c);
}

static void make_request_id(struct sd_apigw *g, char out[24])
{
    /* Shape of API GW ids ("LV7fzho-PHcEJPw="): 15 base64url chars + '='. */
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int i = 0; i < 15; i++) {
        g->rnd ^= g->rnd << 13;
        g->rnd ^= g->rnd >> 7;
        g->rnd ^= g->rnd << 17;
        out[i] = al[g->rnd & 63];
    }
    out[15] = '=';
    out[16] = '\0';
}

static uint64_t next_rnd(struct sd_apigw *g)
{
    g->rnd ^= g->rnd << 13;
    g->rnd ^= g->rnd >> 7;
    g->rnd ^= g->rnd << 17;
    return g->rnd;
}

/* X-Ray format "Root=1-<8 hex epoch seconds>-<24 hex>". */
static void make_trace_id(struct sd_apigw *g, char *out, size_t n)
{
    uint64_t a = next_rnd(g), b = next_rnd(g);
    snprintf(out, n, "Root=1-%08llx-%08llx%016llx",
             (unsigned long long)(cm_clock_wall_ns() / CM_NS_PER_S),
             (unsigned long long)(a & 0xffffffffu), (unsigned long long)b);
}

void sd_apigw_handle(struct sd_apigw *g, struct sd_conn *conn, const struct sd_req *req,
                     const char *path)
{
    struct sd_apigw_match m;
    char rid[24];
    int64_t start = cm_clock_mono_ns();
    make_request_id(g, rid);
    if (sd_apigw_match(g, req->method, path, &m) < 0) {
        gw_error(g, conn, 404, "Not Found", rid, start, -1);
        return;
    }
    struct sd_fn *fn = g->routes[m.route].fn;
    if (!fn) {
        gw_error(g, conn, 500, "Internal Server Error", rid, start, -1);
        return;
    }
    struct cm_buf ev;
    cm_buf_init(&ev, 0);
    size_t tn;
    const char *trace = sd_req_header(req, "x-amzn-trace-id", &tn);
    char tbuf[256];
    if (trace && tn < sizeof(tbuf)) {
        memcpy(tbuf, trace, tn);
        tbuf[tn] = '\0';
    } else {
        make_trace_id(g, tbuf, sizeof(tbuf)); /* API Gateway adds one when absent */
    }
    struct sd_apigw_ctx ctx = {g->api_id, g->account_id, g->region, rid, req->recv_wall_ns, tbuf};
    if (!ctx.wall_ns)
        ctx.wall_ns = cm_clock_wall_ns();
    sd_apigw_build_event(&ev, req, path, &m, &ctx);
    if (ev.len > 6u * 1024 * 1024) { /* Lambda's synchronous payload limit */
        cm_buf_deinit(&ev);
        gw_error(g, conn, 413, "Request Entity Too Large", rid, start, -1);
        return;
    }
    struct call *c = cm_xcalloc(1, sizeof(*c));
    c->g = g;
    c->conn = conn;
    c->start_ns = start;
    memcpy(c->request_id, rid, sizeof(rid));
    struct sd_invoke_opts o = {ev.data, ev.len, 0, tbuf, NULL, on_done, c};
    int rc = sd_lambda_invoke(g->l, fn, &o);
    cm_buf_deinit(&ev);
    if (rc < 0) {
        free(c);
        if (rc == CM_EAGAIN)
            gw_error(g, conn, 429, "Too Many Requests", rid, start, -1);
        else
            gw_error(g, conn, 500, "Internal Server Error", rid, start, -1);
        return;
    }
    c->next = g->calls;
    if (g->calls)
        g->calls->prev = c;
    g->calls = c;
    sd_conn_defer(conn);
}

void sd_apigw_tick(struct sd_apigw *g, int64_t now_mono_ns)
{
    /* The function keeps running (its own timeout applies); the client gets
     * 503 at API Gateway's 30 s integration limit. */
    for (struct call *c = g->calls; c; c = c->next) {
        if (c->conn && now_mono_ns - c->start_ns >= g->integration_timeout_ns) {
            double integ_ms = (double)(now_mono_ns - c->start_ns) / 1e6;
            if (sd_conn_alive(c->conn))
                gw_error(g, c->conn, 503, "Service Unavailable", c->request_id, c->start_ns,
                         integ_ms);
            else
                sd_conn_release(c->conn);
            c->conn = NULL;
        }
    }
}

void sd_apigw_set_integration_timeout(struct sd_apigw *g, int64_t ns)
{
    g->integration_timeout_ns = ns;
}
