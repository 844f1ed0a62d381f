/* sd_wsapi.c: the WebSocket API and @connections (see sd_wsapi.h).
 *
 * Lifetime of a connection (struct wsc): created at the Upgrade request
 * (CONNECTING, the HTTP request deferred while $connect runs), OPEN after the
 * 101 (in the id table), and CLOSED when the socket goes away: it leaves the
 * table at once (so @connections answers 410), $disconnect is started, and
 * the struct is freed at the next tick. Freeing later matters because the
 * server reports the close from inside our own writes. Invocation callbacks
 * find their connection again by id, never by pointer. */
#include "sd_wsapi.h"

#include "sd_http.h"
#include "sd_ws.h"

#include "cm/buf.h"
#include "cm/clock.h"
#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"

#include <ctype.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define N_BUCKETS          32768 /* power of two; 15,000 connections -> chains of ~1 */
#define MAX_UA_BYTES       256
#define WS_MAX_INPUT_BYTES (SD_WS_MAX_FRAME_BYTES + 64 * 1024 + 64)
#define SCAN_EVERY_NS      CM_NS_PER_S

enum wsc_state { WSC_CONNECTING = 0, WSC_OPEN, WSC_CLOSED };

struct wsc {
    struct sd_wsapi *w;
    struct sd_conn *conn; /* NULL once the socket is closed */
    struct sd_ws_rx rx;
    int64_t connected_ms;   /* wall clock */
    int64_t connected_mono; /* ns */
    int64_t active_mono;    /* ns: last frame from the client */
    int64_t active_ms;      /* wall clock of the same */
    enum wsc_state state;
    int disc_code; /* close code reported to $disconnect */
    const char *disc_reason;
    char id[20];
    char ip[16];
    char *user_agent;        /* may be NULL */
    struct wsc *hnext;       /* id table chain */
    struct wsc *prev, *next; /* open connections */
    struct wsc *dead_next;   /* closed, freed at the next tick */
};

struct route {
    char *key;
    struct sd_fn *fn;
};

struct sd_wsapi {
    struct sd_server *srv;
    struct sd_lambda *l;
    int enabled;
    char *api_id, *stage, *region, *domain;
    char **sel_path; /* route selection path after "$request.body." */
    int n_sel;
    int64_t idle_ns, max_ns;
    struct route *routes;
    int n_routes;
    struct sd_fn *connect_fn, *disconnect_fn, *default_fn;
    struct wsc *buckets[N_BUCKETS];
    struct wsc *open; /* list of OPEN connections */
    struct wsc *dead;
    size_t n_open;
    int64_t next_scan_ns;
    uint64_t rnd;
    sd_wsapi_metric_fn metric;
    void *metric_ctx;
};

/* ---------- helpers ---------- */

static int select_path(char *const *path, int n, const char *body, size_t len, char *out,
                       size_t out_size);

static uint64_t rnd_next(struct sd_wsapi *w)
{
    w->rnd ^= w->rnd << 13;
    w->rnd ^= w->rnd >> 7;
    w->rnd ^= w->rnd << 17;
    return w->rnd;
}

/* API Gateway id shape: 15 URL-safe base64 characters and '=' ("R1kmxc2VNjMCFIA="). */
static void make_id(struct sd_wsapi *w, char out[20])
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint64_t a = rnd_next(w), b = rnd_next(w);
    for (int i = 0; i < 15; i++) {
        out[i] = al[(i < 10 ? a : b) & 63];
        if (i < 10)
            a >>= 6;
        else
            b >>= 6;
    }
    out[15] = '=';
    out[16] = '\0';
}

static unsigned hash_id(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h & (N_BUCKETS - 1);
}

static struct wsc *find(struct sd_wsapi *w, const char *id)
{
    for (struct wsc *c = w->buckets[hash_id(id)]; c; c = c->hnext) {
        if (strcmp(c->id, id) == 0)
            return c;
    }
    return NULL;
}

static void table_add(struct sd_wsapi *w, struct wsc *c)
{
    unsigned h = hash_id(c->id);
    c->hnext = w->buckets[h];
    w->buckets[h] = c;
    c->prev = NULL;
    c->next = w->open;
    if (w->open)
        w->open->prev = c;
    w->open = c;
    w->n_open++;
}

static void table_remove(struct sd_wsapi *w, struct wsc *c)
{
    for (struct wsc **pp = &w->buckets[hash_id(c->id)]; *pp; pp = &(*pp)->hnext) {
        if (*pp == c) {
            *pp = c->hnext;
            break;
        }
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        w->open = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = c->hnext = NULL;
    w->n_open--;
}

static void wsc_free(struct wsc *c)
{
    if (!c)
        return;
    sd_ws_rx_deinit(&c->rx);
    free(c->user_agent);
    free(c);
}

static void metric(struct sd_wsapi *w, const char *name, double v)
{
    if (w->metric)
        w->metric(w->metric_ctx, "AWS/ApiGateway", name, "ApiId", w->api_id, v, "Count",
                  cm_clock_wall_ns() / CM_NS_PER_MS);
}

static struct sd_fn *route_fn(const struct sd_wsapi *w, const char *key)
{
    for (int i = 0; i < w->n_routes; i++) {
        if (strcmp(w->routes[i].key, key) == 0)
            return w->routes[i].fn;
    }
    return NULL;
}

/* ---------- lifecycle ---------- */

static void split_selection(struct sd_wsapi *w, const char *expr)
{
    const char *p = expr + strlen("$request.body.");
    w->sel_path = cm_xcalloc(strlen(p) + 2, sizeof(char *));
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        w->sel_path[w->n_sel++] = cm_xstrndup(p, n);
        p += n + (dot ? 1 : 0);
    }
}

int sd_wsapi_new(struct sd_server *srv, const struct sd_stack *st, struct sd_lambda *l,
                 struct sd_wsapi **out)
{
    struct sd_wsapi *w = cm_xcalloc(1, sizeof(*w));
    const struct sd_stack_ws *ws = &st->ws;
    w->srv = srv;
    w->l = l;
    w->enabled = ws->enabled;
    w->api_id = cm_xstrdup(ws->api_id ? ws->api_id : "localws");
    w->stage = cm_xstrdup(ws->stage ? ws->stage : "prod");
    w->region = cm_xstrdup(st->region ? st->region : "us-east-1");
    size_t dn = strlen(w->api_id) + strlen(w->region) + 40;
    w->domain = cm_xmalloc(dn);
    snprintf(w->domain, dn, "%s.execute-api.%s.amazonaws.com", w->api_id, w->region);
    split_selection(w, ws->route_selection ? ws->route_selection : "$request.body.action");
    w->idle_ns = ws->idle_timeout_ns > 0 ? ws->idle_timeout_ns : 600 * CM_NS_PER_S;
    w->max_ns = ws->max_duration_ns > 0 ? ws->max_duration_ns : 7200 * CM_NS_PER_S;
    w->routes = cm_xcalloc(ws->n_routes + 1, sizeof(*w->routes));
    for (size_t i = 0; i < ws->n_routes; i++) {
        struct route *r = &w->routes[w->n_routes++];
        r->key = cm_xstrdup(ws->routes[i].route_key);
        r->fn = sd_lambda_find(l, ws->routes[i].function, strlen(ws->routes[i].function));
    }
    w->connect_fn = route_fn(w, "$connect");
    w->disconnect_fn = route_fn(w, "$disconnect");
    w->default_fn = route_fn(w, "$default");
    uint64_t seed = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (read(fd, &seed, sizeof(seed)) != (ssize_t)sizeof(seed))
            seed = 0;
        close(fd);
    }
    w->rnd = (seed ^ (uint64_t)cm_clock_wall_ns()) | 1;
    *out = w;
    return 0;
}

void sd_wsapi_free(struct sd_wsapi *w)
{
    if (!w)
        return;
    /* The server frees the sockets; only our structs go here. */
    while (w->open) {
        struct wsc *c = w->open;
        w->open = c->next;
        wsc_free(c);
    }
    while (w->dead) {
        struct wsc *c = w->dead;
        w->dead = c->dead_next;
        wsc_free(c);
    }
    for (int i = 0; i < w->n_routes; i++)
        free(w->routes[i].key);
    for (int i = 0; i < w->n_sel; i++)
        free(w->sel_path[i]);
    free(w->sel_path);
    free(w->routes);
    free(w->api_id);
    free(w->stage);
    free(w->region);
    free(w->domain);
    free(w);
}

void sd_wsapi_set_metric_hook(struct sd_wsapi *w, sd_wsapi_metric_fn fn, void *ctx)
{
    w->metric = fn;
    w->metric_ctx = ctx;
}

size_t sd_wsapi_count(const struct sd_wsapi *w)
{
    return w->n_open;
}

/* ---------- events (protocols.md 3.3) ---------- */

static void put_str(struct cm_buf *b, const char *k, const char *v, size_t n)
{
    cm_json_append_string(b, k, strlen(k));
    cm_buf_putc(b, ':');
    cm_json_append_string(b, v, n);
    cm_buf_putc(b, ',');
}

static void put_cstr(struct cm_buf *b, const char *k, const char *v)
{
    put_str(b, k, v, strlen(v));
}

struct ev_ctx {
    const struct wsc *c;
    const char *route_key, *event_type, *request_id, *message_id;
    int64_t now_ms;
};

static void put_request_context(struct sd_wsapi *w, struct cm_buf *b, const struct ev_ctx *e)
{
    char t[64];
    time_t secs = (time_t)(e->now_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(t, sizeof(t), "%d/%b/%Y:%H:%M:%S +0000", &tm);
    cm_buf_puts(b, "\"requestContext\":{");
    put_cstr(b, "routeKey", e->route_key);
    if (e->message_id)
        put_cstr(b, "messageId", e->message_id);
    if (strcmp(e->event_type, "DISCONNECT") == 0) {
        cm_buf_printf(b, "\"disconnectStatusCode\":%d,", e->c->disc_code);
        put_cstr(b, "disconnectReason", e->c->disc_reason ? e->c->disc_reason : "");
    }
    put_cstr(b, "eventType", e->event_type);
    put_cstr(b, "extendedRequestId", e->request_id);
    put_cstr(b, "requestTime", t);
    put_cstr(b, "messageDirection", "IN");
    put_cstr(b, "stage", w->stage);
    cm_buf_printf(b, "\"connectedAt\":%lld,\"requestTimeEpoch\":%lld,",
                  (long long)e->c->connected_ms, (long long)e->now_ms);
    cm_buf_puts(b, "\"identity\":{");
    if (e->c->user_agent)
        put_cstr(b, "userAgent", e->c->user_agent);
    cm_buf_puts(b, "\"sourceIp\":");
    cm_json_append_string(b, e->c->ip, strlen(e->c->ip));
    cm_buf_puts(b, "},");
    put_cstr(b, "requestId", e->request_id);
    put_cstr(b, "domainName", w->domain);
    put_cstr(b, "connectionId", e->c->id);
    cm_buf_puts(b, "\"apiId\":");
    cm_json_append_string(b, w->api_id, strlen(w->api_id));
    cm_buf_putc(b, '}');
}

/* "headers" (last value wins, as API Gateway's single-value map) and
 * "multiValueHeaders", names as received, plus X-Forwarded-* when absent. */
static void put_headers(struct cm_buf *b, const struct sd_req *req, const char *ip)
{
    int is_dup_later[SD_MAX_HEADERS] = {0};
    int have_xff = 0;
    for (int i = 0; i < req->n_headers; i++) {
        const struct sd_header *h = &req->headers[i];
        have_xff |= h->name_len == 15 && strncasecmp(h->name, "x-forwarded-for", 15) == 0;
        for (int j = i + 1; j < req->n_headers; j++) {
            const struct sd_header *o = &req->headers[j];
            if (o->name_len == h->name_len && strncasecmp(o->name, h->name, h->name_len) == 0)
                is_dup_later[i] = 1;
        }
    }
    for (int pass = 0; pass < 2; pass++) {
        cm_buf_puts(b, pass == 0 ? "\"headers\":{" : ",\"multiValueHeaders\":{");
        int first = 1;
        for (int i = 0; i < req->n_headers; i++) {
            const struct sd_header *h = &req->headers[i];
            if (pass == 0 && is_dup_later[i])
                continue;
            int seen = 0;
            for (int j = 0; j < i && pass == 1; j++)
                seen |= req->headers[j].name_len == h->name_len &&
                        strncasecmp(req->headers[j].name, h->name, h->name_len) == 0;
            if (seen)
                continue;
            cm_buf_puts(b, first ? "" : ",");
            first = 0;
            cm_json_append_string(b, h->name, h->name_len);
            cm_buf_putc(b, ':');
            if (pass == 0) {
                cm_json_append_string(b, h->value, h->value_len);
                continue;
            }
            cm_buf_putc(b, '[');
            for (int j = i, n = 0; j < req->n_headers; j++) {
                const struct sd_header *o = &req->headers[j];
                if (o->name_len != h->name_len || strncasecmp(o->name, h->name, h->name_len))
                    continue;
                cm_buf_puts(b, n++ ? "," : "");
                cm_json_append_string(b, o->value, o->value_len);
            }
            cm_buf_putc(b, ']');
        }
        if (!have_xff) {
            cm_buf_puts(b, first ? "" : ",");
            cm_buf_puts(b, pass == 0 ? "\"X-Forwarded-For\":" : "\"X-Forwarded-For\":[");
            cm_json_append_string(b, ip, strlen(ip));
            cm_buf_puts(b, pass == 0 ? ",\"X-Forwarded-Proto\":\"http\""
                                     : "],\"X-Forwarded-Proto\":[\"http\"]");
        }
        cm_buf_putc(b, '}');
    }
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
            out[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    out[o] = '\0';
    return o;
}

/* queryStringParameters (last value wins) and multiValueQueryStringParameters,
 * decoded; both omitted when the query is empty. */
static void put_query(struct cm_buf *b, const char *q)
{
    enum { MAXP = 64 };
    char *keys[MAXP], *vals[MAXP];
    int n = 0;
    for (const char *p = q; *p && n < MAXP;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t kl = eq ? (size_t)(eq - p) : len;
        if (kl > 0) {
            keys[n] = cm_xmalloc(kl + 1);
            pct_decode(p, kl, keys[n], kl + 1);
            size_t vl = eq ? len - kl - 1 : 0;
            vals[n] = cm_xmalloc(vl + 1);
            pct_decode(eq ? eq + 1 : "", vl, vals[n], vl + 1);
            n++;
        }
        p += len + (amp ? 1 : 0);
    }
    for (int pass = 0; pass < 2 && n > 0; pass++) {
        cm_buf_puts(b, pass == 0 ? "\"queryStringParameters\":{"
                                 : ",\"multiValueQueryStringParameters\":{");
        int first = 1;
        for (int i = 0; i < n; i++) {
            int later = 0, earlier = 0;
            for (int j = 0; j < n; j++) {
                if (strcmp(keys[j], keys[i]) == 0) {
                    later |= j > i;
                    earlier |= j < i;
                }
            }
            if ((pass == 0 && later) || (pass == 1 && earlier))
                continue;
            cm_buf_puts(b, first ? "" : ",");
            first = 0;
            cm_json_append_string(b, keys[i], strlen(keys[i]));
            cm_buf_putc(b, ':');
            if (pass == 0) {
                cm_json_append_string(b, vals[i], strlen(vals[i]));
                continue;
            }
            cm_buf_putc(b, '[');
            for (int j = i, k = 0; j < n; j++) {
                if (strcmp(keys[j], keys[i]) == 0) {
                    cm_buf_puts(b, k++ ? "," : "");
                    cm_json_append_string(b, vals[j], strlen(vals[j]));
                }
            }
            cm_buf_putc(b, ']');
        }
        cm_buf_putc(b, '}');
    }
    if (n > 0)
        cm_buf_putc(b, ',');
    for (int i = 0; i < n; i++) {
        free(keys[i]);
        free(vals[i]);
    }
}

static void put_body_b64(struct cm_buf *b, const char *data, size_t len)
{
    size_t need = 4 * ((len + 2) / 3) + 1;
    char *enc = cm_xmalloc(need);
    int n = EVP_EncodeBlock((unsigned char *)enc, (const unsigned char *)data, (int)len);
    put_str(b, "body", enc, n > 0 ? (size_t)n : 0);
    free(enc);
}

/* ---------- invocations ---------- */

enum call_kind { CALL_CONNECT, CALL_MESSAGE, CALL_DISCONNECT };

struct call {
    struct sd_wsapi *w;
    enum call_kind kind;
    struct wsc *pending; /* CALL_CONNECT: the connection being set up */
    char id[20];         /* CALL_MESSAGE: connection id, looked up again */
    char request_id[20];
};

static int invoke(struct sd_wsapi *w, struct sd_fn *fn, const struct cm_buf *ev, struct call *call,
                  sd_inv_done_fn done)
{
    struct sd_invoke_opts o = {ev->data, ev->len, 0, NULL, NULL, done, call};
    int rc = sd_lambda_invoke(w->l, fn, &o);
    if (rc < 0)
        free(call);
    return rc;
}

/* Sends a text message to an open connection (nothing when it is gone). */
static void send_text(struct wsc *c, const char *s, size_t n, int binary)
{
    if (!c->conn)
        return;
    struct cm_buf f;
    cm_buf_init(&f, 0);
    sd_ws_append_message(&f, binary ? SD_WS_OP_BINARY : SD_WS_OP_TEXT, s, n, 0);
    sd_conn_write(c->conn, f.data, f.len);
    cm_buf_deinit(&f);
}

/* {"message": "...", "connectionId": "...", "requestId": "..."}: what API
 * Gateway sends a client when a message cannot be delivered. */
static void send_gateway_error(struct wsc *c, const char *msg, const char *request_id)
{
    char t[256];
    int n = snprintf(t, sizeof(t),
                     "{\"message\": \"%s\", \"connectionId\":\"%s\", \"requestId\":\"%s\"}", msg,
                     c->id, request_id);
    if (n > 0 && (size_t)n < sizeof(t)) /* msg is one of our short literals */
        send_text(c, t, (size_t)n, 0);
}

/* Closes with a close frame; $disconnect reports code. */
static void close_with(struct wsc *c, int code, const char *reason)
{
    if (!c->conn)
        return;
    c->disc_code = code;
    c->disc_reason = reason;
    struct cm_buf f;
    cm_buf_init(&f, 256);
    sd_ws_append_close(&f, code, reason);
    struct sd_conn *conn = c->conn;
    if (sd_conn_write(conn, f.data, f.len) == 0 && c->conn)
        sd_conn_close_after_write(conn);
    else if (c->conn)
        sd_conn_close_after_write(conn); /* not writable: close anyway */
    cm_buf_deinit(&f);
}

static void on_message_done(void *ctx, const struct sd_inv_result *res)
{
    struct call *call = ctx;
    struct sd_wsapi *w = call->w;
    struct wsc *c = find(w, call->id);
    if (res->status != SD_INV_OK) {
        metric(w, "IntegrationError", 1);
        if (c && res->status != SD_INV_SHUTDOWN)
            send_gateway_error(c, "Internal server error", call->request_id);
        free(call);
        return;
    }
    cJSON *j = c ? cm_json_parse(res->body, res->body_len) : NULL;
    const cJSON *body = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "body") : NULL;
    if (c && cJSON_IsString(body)) {
        /* Two-way route: the integration's body goes back as a message. */
        const char *s = body->valuestring;
        size_t n = strlen(s);
        if (cm_json_bool(j, "isBase64Encoded", 0)) {
            unsigned char *dec = cm_xmalloc(n / 4 * 3 + 4);
            int dn = EVP_DecodeBlock(dec, (const unsigned char *)s, (int)n);
            if (dn >= 0) {
                size_t pad = n >= 2 ? (s[n - 1] == '=') + (s[n - 2] == '=') : 0;
                send_text(c, (const char *)dec, (size_t)dn - pad, 1);
            }
            free(dec);
        } else {
            send_text(c, s, n, 0);
        }
    }
    cJSON_Delete(j);
    free(call);
}

static void on_disconnect_done(void *ctx, const struct sd_inv_result *res)
{
    struct call *call = ctx;
    if (res->status != SD_INV_OK && res->status != SD_INV_SHUTDOWN)
        metric(call->w, "IntegrationError", 1);
    free(call);
}

static void make_event(struct sd_wsapi *w, struct cm_buf *ev, const struct wsc *c,
                       const char *route_key, const char *type, const char *rid, const char *mid)
{
    struct ev_ctx e = {c, route_key, type, rid, mid, cm_clock_wall_ns() / CM_NS_PER_MS};
    put_request_context(w, ev, &e);
}

static void fire_disconnect(struct sd_wsapi *w, struct wsc *c)
{
    if (!w->disconnect_fn)
        return;
    struct cm_buf ev;
    struct call *call = cm_xcalloc(1, sizeof(*call));
    call->w = w;
    call->kind = CALL_DISCONNECT;
    make_id(w, call->request_id);
    cm_buf_init(&ev, 0);
    cm_buf_puts(&ev, "{\"headers\":{\"Host\":");
    cm_json_append_string(&ev, w->domain, strlen(w->domain));
    cm_buf_puts(&ev, ",\"X-Forwarded-For\":");
    cm_json_append_string(&ev, c->ip, strlen(c->ip));
    cm_buf_puts(&ev, "},\"multiValueHeaders\":{\"Host\":[");
    cm_json_append_string(&ev, w->domain, strlen(w->domain));
    cm_buf_puts(&ev, "],\"X-Forwarded-For\":[");
    cm_json_append_string(&ev, c->ip, strlen(c->ip));
    cm_buf_puts(&ev, "]},");
    make_event(w, &ev, c, "$disconnect", "DISCONNECT", call->request_id, NULL);
    cm_buf_puts(&ev, ",\"isBase64Encoded\":false}");
    if (invoke(w, w->disconnect_fn, &ev, call, on_disconnect_done) < 0)
        metric(w, "ExecutionError", 1); /* best effort, as on AWS */
    cm_buf_deinit(&ev);
}

/* ---------- frames from the client ---------- */

static void handle_message(struct sd_wsapi *w, struct wsc *c, const struct sd_ws_event *e)
{
    char key[160];
    struct sd_fn *fn = NULL;
    const char *route_key = "$default";
    metric(w, "MessageCount", 1);
    if (!e->binary && select_path(w->sel_path, w->n_sel, e->data, e->len, key, sizeof(key)) &&
        (fn = route_fn(w, key)) != NULL && key[0] != '$')
        route_key = key;
    else
        fn = w->default_fn;
    struct call *call = cm_xcalloc(1, sizeof(*call));
    call->w = w;
    call->kind = CALL_MESSAGE;
    memcpy(call->id, c->id, sizeof(c->id));
    make_id(w, call->request_id);
    if (!fn) {
        metric(w, "ClientError", 1);
        send_gateway_error(c, "Forbidden", call->request_id);
        free(call);
        return;
    }
    char mid[20];
    make_id(w, mid);
    struct cm_buf ev;
    cm_buf_init(&ev, 0);
    cm_buf_putc(&ev, '{');
    make_event(w, &ev, c, route_key, "MESSAGE", call->request_id, mid);
    cm_buf_putc(&ev, ',');
    if (e->binary)
        put_body_b64(&ev, e->data, e->len);
    else
        put_str(&ev, "body", e->data, e->len);
    cm_buf_printf(&ev, "\"isBase64Encoded\":%s}", e->binary ? "true" : "false");
    char rid[20];
    memcpy(rid, call->request_id, sizeof(rid));
    int rc = invoke(w, fn, &ev, call, on_message_done);
    cm_buf_deinit(&ev);
    if (rc == CM_EAGAIN) {
        metric(w, "ClientError", 1);
        send_gateway_error(c, "Too Many Requests", rid);
    } else if (rc < 0) {
        metric(w, "ExecutionError", 1);
        send_gateway_error(c, "Internal server error", rid);
    }
}

static void handle_event(struct sd_wsapi *w, struct wsc *c, const struct sd_ws_event *e)
{
    struct cm_buf f;
    switch (e->type) {
    case SD_WS_EV_MESSAGE:
        handle_message(w, c, e);
        break;
    case SD_WS_EV_PING:
        cm_buf_init(&f, 256);
        sd_ws_append_message(&f, SD_WS_OP_PONG, e->data, e->len, 0);
        sd_conn_write(c->conn, f.data, f.len);
        cm_buf_deinit(&f);
        break;
    case SD_WS_EV_CLOSE: {
        /* Echo the code (RFC 6455 5.5.1), then close. */
        c->disc_code = e->close_code;
        c->disc_reason = "";
        cm_buf_init(&f, 256);
        if (e->close_code == SD_WS_CLOSE_NO_STATUS)
            cm_buf_append(&f, "\x88\x00", 2);
        else
            sd_ws_append_close(&f, e->close_code, NULL);
        struct sd_conn *conn = c->conn;
        sd_conn_write(conn, f.data, f.len);
        if (c->conn)
            sd_conn_close_after_write(conn);
        cm_buf_deinit(&f);
        break;
    }
    default:
        break;
    }
}

static size_t ws_on_data(void *ctx, struct sd_conn *conn, uint8_t *buf, size_t len)
{
    struct wsc *c = ctx;
    struct sd_wsapi *w = c->w;
    size_t off = 0;
    (void)conn;
    while (off < len && c->conn && c->disc_code == 0) {
        struct sd_ws_event e;
        size_t used = 0;
        int code = 0;
        int rc = sd_ws_rx_feed(&c->rx, buf + off, len - off, &used, &e, &code);
        if (rc < 0) {
            metric(w, "ClientError", 1);
            close_with(c, code, code == SD_WS_CLOSE_TOO_BIG ? "Message too big" : "Protocol error");
            return len;
        }
        if (used == 0)
            break;
        off += used;
        c->active_mono = cm_clock_mono_ns();
        c->active_ms = cm_clock_wall_ns() / CM_NS_PER_MS;
        handle_event(w, c, &e);
    }
    if (c->disc_code != 0)
        return len; /* closing: ignore the rest */
    return off;
}

static void ws_on_close(void *ctx, struct sd_conn *conn)
{
    struct wsc *c = ctx;
    struct sd_wsapi *w = c->w;
    (void)conn;
    c->conn = NULL;
    if (c->state != WSC_OPEN)
        return;
    c->state = WSC_CLOSED;
    if (c->disc_code == 0)
        c->disc_code = SD_WS_CLOSE_ABNORMAL; /* TCP ended without a close frame */
    table_remove(w, c);
    fire_disconnect(w, c);
    c->dead_next = w->dead;
    w->dead = c;
}

static const struct sd_upgrade_ops ws_ops = {ws_on_data, ws_on_close};

/* ---------- handshake ---------- */

static int header_has_token(const struct sd_req *req, const char *name, const char *token)
{
    size_t tl = strlen(token);
    for (int i = 0; i < req->n_headers; i++) {
        const struct sd_header *h = &req->headers[i];
        if (strlen(name) != h->name_len || strncasecmp(h->name, name, h->name_len) != 0)
            continue;
        const char *p = h->value, *end = h->value + h->value_len;
        while (p < end) {
            while (p < end && (*p == ' ' || *p == ',' || *p == '\t'))
                p++;
            const char *s = p;
            while (p < end && *p != ',')
                p++;
            const char *e = p;
            while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            if ((size_t)(e - s) == tl && strncasecmp(s, token, tl) == 0)
                return 1;
        }
    }
    return 0;
}

int sd_wsapi_is_upgrade(const struct sd_req *req)
{
    return header_has_token(req, "upgrade", "websocket");
}

static void reply_status(struct sd_conn *conn, int status, const char *body, const char *extra)
{
    struct sd_resp r;
    sd_resp_init(&r);
    r.status = status;
    if (body) {
        cm_strlcpy(r.content_type, "application/json", sizeof(r.content_type));
        cm_buf_puts(&r.body, body);
    }
    if (extra)
        cm_buf_puts(&r.headers, extra);
    sd_conn_reply(conn, &r);
    sd_resp_deinit(&r);
}

/* proto: the Sec-WebSocket-Protocol the $connect integration chose, or NULL. */
static void upgrade(struct sd_wsapi *w, struct wsc *c, const char *accept, const char *proto)
{
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s%s%s\r\n",
                     accept, proto ? "Sec-WebSocket-Protocol: " : "", proto ? proto : "",
                     proto ? "\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof(head))
        n = 0; /* cannot happen: proto is at most 128 bytes */
    struct sd_conn *conn = c->conn;
    if (!sd_conn_alive(conn)) {
        sd_conn_release(conn);
        wsc_free(c);
        return;
    }
    c->state = WSC_OPEN;
    c->active_mono = cm_clock_mono_ns();
    c->active_ms = cm_clock_wall_ns() / CM_NS_PER_MS;
    table_add(w, c);
    sd_conn_upgrade(conn, head, (size_t)n, &ws_ops, c, WS_MAX_INPUT_BYTES);
}

struct connect_call {
    struct call base;
    char accept[29];
};

/* Sec-WebSocket-Protocol from the $connect result's "headers" (a subprotocol
 * the function picked), when it is a plain token list. */
static void find_protocol(const cJSON *j, char *out, size_t n)
{
    const cJSON *h = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "headers") : NULL;
    const cJSON *v;
    cJSON_ArrayForEach(v, h)
    {
        if (!v->string || strcasecmp(v->string, "sec-websocket-protocol") != 0 ||
            !cJSON_IsString(v) || strlen(v->valuestring) >= n)
            continue;
        for (const char *p = v->valuestring; *p; p++) {
            if (!(isalnum((unsigned char)*p) || strchr("!#$%&'*+-.^_`|~, ", *p)))
                return; /* no header injection */
        }
        cm_strlcpy(out, v->valuestring, n);
    }
}

static void on_connect_done(void *ctx, const struct sd_inv_result *res)
{
    struct connect_call *cc = ctx;
    struct sd_wsapi *w = cc->base.w;
    struct wsc *c = cc->base.pending;
    int status = 200;
    char proto[129];
    proto[0] = '\0';
    if (res->status != SD_INV_OK) {
        metric(w, "IntegrationError", 1);
        status = 500;
    } else {
        cJSON *j = cm_json_parse(res->body, res->body_len);
        const cJSON *sc =
            cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "statusCode") : NULL;
        if (cJSON_IsNumber(sc))
            status = sc->valueint;
        if (status < 100 || status > 599)
            status = 500;
        find_protocol(j, proto, sizeof(proto));
        cJSON_Delete(j);
    }
    if (status >= 200 && status < 300) {
        upgrade(w, c, cc->accept, proto[0] ? proto : NULL);
    } else {
        if (sd_conn_alive(c->conn))
            reply_status(c->conn, status, NULL, NULL);
        else
            sd_conn_release(c->conn);
        wsc_free(c);
    }
    free(cc);
}

/* Validates the opening handshake (RFC 6455 4.2.1); 0 or the status to answer. */
static int check_handshake(const struct sd_req *req, char accept[29])
{
    size_t kn = 0, vn = 0;
    const char *key = sd_req_header(req, "sec-websocket-key", &kn);
    const char *ver = sd_req_header(req, "sec-websocket-version", &vn);
    if (strcmp(req->method, "GET") != 0 || !header_has_token(req, "connection", "upgrade"))
        return 400;
    if (!ver || vn != 2 || memcmp(ver, "13", 2) != 0)
        return 426;
    if (!key || sd_ws_accept_key(key, kn, accept) < 0)
        return 400;
    return 0;
}

void sd_wsapi_handle_upgrade(struct sd_wsapi *w, struct sd_conn *conn, const struct sd_req *req)
{
    char accept[29];
    if (!w->enabled) {
        reply_status(conn, 404, "{\"message\":\"Not Found\"}", NULL);
        return;
    }
    int st = check_handshake(req, accept);
    if (st) {
        reply_status(conn, st, "{\"message\":\"Bad WebSocket handshake\"}",
                     st == 426 ? "Sec-WebSocket-Version: 13\r\n" : NULL);
        return;
    }
    metric(w, "ConnectCount", 1);
    struct wsc *c = cm_xcalloc(1, sizeof(*c));
    c->w = w;
    c->conn = conn;
    sd_ws_rx_init(&c->rx, 0, 0);
    do
        make_id(w, c->id);
    while (find(w, c->id));
    cm_strlcpy(c->ip, req->peer_ip ? req->peer_ip : "127.0.0.1", sizeof(c->ip));
    size_t un = 0;
    const char *ua = sd_req_header(req, "user-agent", &un);
    if (ua)
        c->user_agent = cm_xstrndup(ua, un < MAX_UA_BYTES ? un : MAX_UA_BYTES);
    c->connected_ms = (req->recv_wall_ns ? req->recv_wall_ns : cm_clock_wall_ns()) / CM_NS_PER_MS;
    c->connected_mono = cm_clock_mono_ns();
    sd_conn_defer(conn);
    if (!w->connect_fn) {
        upgrade(w, c, accept, NULL);
        return;
    }
    struct connect_call *cc = cm_xcalloc(1, sizeof(*cc));
    cc->base.w = w;
    cc->base.kind = CALL_CONNECT;
    cc->base.pending = c;
    memcpy(cc->accept, accept, sizeof(accept));
    make_id(w, cc->base.request_id);
    struct cm_buf ev;
    cm_buf_init(&ev, 0);
    cm_buf_putc(&ev, '{');
    put_headers(&ev, req, c->ip);
    put_query(&ev, req->query);
    make_event(w, &ev, c, "$connect", "CONNECT", cc->base.request_id, NULL);
    cm_buf_puts(&ev, ",\"isBase64Encoded\":false}");
    struct sd_invoke_opts o = {ev.data, ev.len, 0, NULL, NULL, on_connect_done, cc};
    int rc = sd_lambda_invoke(w->l, w->connect_fn, &o);
    cm_buf_deinit(&ev);
    if (rc < 0) {
        free(cc);
        metric(w, rc == CM_EAGAIN ? "ClientError" : "ExecutionError", 1);
        reply_status(conn, rc == CM_EAGAIN ? 429 : 500, NULL, NULL);
        wsc_free(c);
    }
}

/* ---------- @connections ---------- */

static void mgmt_error(struct sd_resp *resp, int status, const char *type, const char *msg)
{
    resp->status = status;
    cm_strlcpy(resp->content_type, "application/json", sizeof(resp->content_type));
    sd_resp_header(resp, "x-amzn-ErrorType", type);
    cm_buf_reset(&resp->body);
    cm_buf_puts(&resp->body, "{\"message\":");
    cm_json_append_string(&resp->body, msg, strlen(msg));
    cm_buf_putc(&resp->body, '}');
}

static void iso_ms(char *out, size_t n, int64_t ms)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char t[40];
    strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, n, "%s.%03dZ", t, (int)(ms % 1000));
}

static void mgmt_get(const struct wsc *c, struct sd_resp *resp)
{
    char a[48], b[48];
    iso_ms(a, sizeof(a), c->connected_ms);
    iso_ms(b, sizeof(b), c->active_ms);
    resp->status = 200;
    cm_strlcpy(resp->content_type, "application/json", sizeof(resp->content_type));
    cm_buf_printf(&resp->body, "{\"connectedAt\":\"%s\",\"identity\":{\"sourceIp\":", a);
    cm_json_append_string(&resp->body, c->ip, strlen(c->ip));
    cm_buf_puts(&resp->body, ",\"userAgent\":");
    const char *ua = c->user_agent ? c->user_agent : "";
    cm_json_append_string(&resp->body, ua, strlen(ua));
    cm_buf_printf(&resp->body, "},\"lastActiveAt\":\"%s\"}", b);
}

static void mgmt_post(struct wsc *c, const struct sd_req *req, struct sd_resp *resp)
{
    struct cm_buf f;
    if (req->body_len > SD_WS_MAX_MESSAGE_BYTES) {
        mgmt_error(resp, 413, "PayloadTooLargeException", "Message too long");
        return;
    }
    int binary = !sd_ws_utf8_valid(req->body, req->body_len);
    cm_buf_init(&f, 0);
    sd_ws_append_message(&f, binary ? SD_WS_OP_BINARY : SD_WS_OP_TEXT, req->body, req->body_len, 0);
    int rc = sd_conn_write(c->conn, f.data, f.len);
    cm_buf_deinit(&f);
    if (rc == CM_ETOOBIG)
        mgmt_error(resp, 429, "LimitExceededException", "The client is not reading its messages");
    else if (rc < 0)
        mgmt_error(resp, 410, "GoneException", "Connection is gone");
    else
        resp->status = 200;
}

void sd_wsapi_handle_mgmt(struct sd_wsapi *w, const struct sd_req *req, struct sd_resp *resp)
{
    char id[128];
    if (sd_wsapi_mgmt_path(req->path, id, sizeof(id)) < 0) {
        mgmt_error(resp, 404, "NotFoundException", "No such @connections resource");
        return;
    }
    struct wsc *c = find(w, id);
    if (!c || !c->conn) {
        mgmt_error(resp, 410, "GoneException", "Connection is gone");
        return;
    }
    if (strcmp(req->method, "POST") == 0) {
        mgmt_post(c, req, resp);
    } else if (strcmp(req->method, "GET") == 0) {
        mgmt_get(c, resp);
    } else if (strcmp(req->method, "DELETE") == 0) {
        close_with(c, SD_WS_CLOSE_NORMAL, "");
        resp->status = 204;
    } else {
        mgmt_error(resp, 405, "MethodNotAllowedException", "POST, GET or DELETE");
    }
}

int sd_wsapi_mgmt_path(const char *path, char *id, size_t id_size)
{
    const char *p = strstr(path, "/@connections/");
    size_t skip = 14;
    if (!p) {
        p = strcasestr(path, "/%40connections/");
        skip = 16;
    }
    if (!p)
        return CM_ENOTFOUND; /* any prefix: "/{stage}", "/_aws/execute-api/<id>/{stage}" */
    const char *s = p + skip;
    size_t n = strlen(s);
    if (n == 0 || memchr(s, '/', n))
        return CM_ENOTFOUND;
    pct_decode(s, n, id, id_size);
    return id[0] ? 0 : CM_ENOTFOUND;
}

/* ---------- route selection ---------- */

static int select_path(char *const *path, int n, const char *body, size_t len, char *out,
                       size_t out_size)
{
    cJSON *j = cm_json_parse(body, len);
    const cJSON *v = j;
    for (int i = 0; i < n && v; i++)
        v = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, path[i]) : NULL;
    int ok = 0;
    if (cJSON_IsString(v) && v->valuestring[0]) {
        cm_strlcpy(out, v->valuestring, out_size);
        ok = strlen(v->valuestring) < out_size;
    } else if (cJSON_IsNumber(v)) {
        snprintf(out, out_size, "%.17g", v->valuedouble);
        ok = 1;
    }
    cJSON_Delete(j);
    return ok;
}

int sd_wsapi_select(const char *expr, const char *body, size_t len, char *out, size_t out_size)
{
    static const char pre[] = "$request.body.";
    char *path[16];
    int n = 0, ok = 0;
    if (strncmp(expr, pre, sizeof(pre) - 1) != 0)
        return 0;
    for (const char *p = expr + sizeof(pre) - 1; *p && n < 16;) {
        const char *dot = strchr(p, '.');
        size_t k = dot ? (size_t)(dot - p) : strlen(p);
        path[n++] = cm_xstrndup(p, k);
        p += k + (dot ? 1 : 0);
    }
    ok = n > 0 && select_path(path, n, body, len, out, out_size);
    for (int i = 0; i < n; i++)
        free(path[i]);
    return ok;
}

/* ---------- timers ---------- */

void sd_wsapi_tick(struct sd_wsapi *w, int64_t now)
{
    while (w->dead) {
        struct wsc *c = w->dead;
        w->dead = c->dead_next;
        wsc_free(c);
    }
    if (now < w->next_scan_ns)
        return;
    w->next_scan_ns = now + SCAN_EVERY_NS;
    for (struct wsc *c = w->open, *nx; c; c = nx) {
        nx = c->next; /* close_with may unlink c (never nx: it only closes c) */
        if (!c->conn || c->disc_code)
            continue;
        if (now - c->connected_mono >= w->max_ns || now - c->active_mono >= w->idle_ns)
            close_with(c, SD_WS_CLOSE_GOING_AWAY, "Going away");
    }
}

void sd_wsapi_close_all(struct sd_wsapi *w)
{
    for (struct wsc *c = w->open, *nx; c; c = nx) {
        nx = c->next;
        if (c->conn && !c->disc_code)
            close_with(c, SD_WS_CLOSE_GOING_AWAY, "Going away");
    }
}
