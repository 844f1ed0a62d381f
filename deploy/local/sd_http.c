/* sd_http.c: HTTP/1.1 request parsing (see sd_http.h) and the sd_req/sd_resp
 * helpers shared by every stackd service handler.
 *
 * Why hand-written: stackd runs one epoll loop that also watches the
 * per-environment Runtime API listeners, child pipes, a signalfd and a
 * timer; requests must be parked (Lambda /next long-polls, Invoke waits for
 * the function) and answered later from another connection's event. The
 * parser is ~300 lines, sans-IO and fuzzed (tests/fuzz/stackd/). */
#include "sd_http.h"

#include "cm/err.h"
#include "cm/mem.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *sd_req_header(const struct sd_req *r, const char *name, size_t *len)
{
    size_t n = strlen(name);
    for (int i = 0; i < r->n_headers; i++) {
        const struct sd_header *h = &r->headers[i];
        if (h->name_len == n && strncasecmp(h->name, name, n) == 0) {
            if (len)
                *len = h->value_len;
            return h->value;
        }
    }
    if (len)
        *len = 0;
    return NULL;
}

void sd_resp_init(struct sd_resp *resp)
{
    resp->status = 200;
    resp->content_type[0] = '\0';
    cm_buf_init(&resp->headers, 64 * 1024);
    cm_buf_init(&resp->body, 0);
}

void sd_resp_deinit(struct sd_resp *resp)
{
    if (!resp)
        return;
    cm_buf_deinit(&resp->headers);
    cm_buf_deinit(&resp->body);
}

void sd_resp_header(struct sd_resp *resp, const char *name, const char *value)
{
    /* CR/LF in a value would split the header: drop such values. */
    size_t nl = strlen(name), vl = strlen(value);
    if (memchr(value, '\r', vl) || memchr(value, '\n', vl) || strpbrk(name, "\r\n: "))
        return;
    /* Appends instead of a printf: this runs several times per request. */
    if (cm_buf_reserve(&resp->headers, nl + vl + 4) < 0)
        return; /* over the header maximum: the whole line is dropped */
    cm_buf_append(&resp->headers, name, nl);
    cm_buf_append(&resp->headers, ": ", 2);
    cm_buf_append(&resp->headers, value, vl);
    cm_buf_append(&resp->headers, "\r\n", 2);
}

const char *sd_http_reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 413:
        return "Payload Too Large";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Unknown";
    }
}

/* Token characters of RFC 9110 (method and header names). */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int ieq(const char *p, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(p, lit, n) == 0;
}

/* Offset just past the next '\n' at or after from, or 0 if none in [from, len). */
static size_t next_line(const char *buf, size_t from, size_t len)
{
    const char *nl = memchr(buf + from, '\n', len - from);
    return nl ? (size_t)(nl - buf) + 1 : 0;
}

/* Line [s, e) without its "\r\n" or "\n". */
static size_t trim_eol(const char *buf, size_t s, size_t e)
{
    if (e > s && buf[e - 1] == '\n')
        e--;
    if (e > s && buf[e - 1] == '\r')
        e--;
    return e;
}

struct head {
    size_t method_end, target_start, target_end, body_start;
    int minor;
    int chunked;
    int has_len;
    size_t content_len;
    int conn_close, conn_keep;
};

static int fail(struct sd_http_info *info, int status, int err)
{
    info->error_status = status;
    return err;
}

static int parse_request_line(const char *buf, size_t e, struct head *h, struct sd_http_info *info)
{
    size_t i = 0;
    while (i < e && is_tchar((unsigned char)buf[i]))
        i++;
    if (i == 0 || i >= e || buf[i] != ' ')
        return fail(info, 400, CM_EPARSE);
    h->method_end = i;
    h->target_start = ++i;
    while (i < e && buf[i] != ' ') {
        unsigned char c = (unsigned char)buf[i];
        if (c <= 0x20 || c == 0x7f)
            return fail(info, 400, CM_EPARSE);
        i++;
    }
    h->target_end = i;
    if (i == h->target_start || i >= e || buf[h->target_start] != '/')
        return fail(info, 400, CM_EPARSE);
    i++;
    if (e - i != 8 || memcmp(buf + i, "HTTP/1.", 7) != 0)
        return fail(info, 400, CM_EPARSE);
    if (buf[i + 7] != '0' && buf[i + 7] != '1')
        return fail(info, 400, CM_EPARSE);
    h->minor = buf[i + 7] - '0';
    return 0;
}

static int parse_content_length(const char *v, size_t n, struct head *h, struct sd_http_info *info)
{
    size_t val = 0;
    if (n == 0 || n > 15)
        return fail(info, n > 15 ? 413 : 400, n > 15 ? CM_ETOOBIG : CM_EPARSE);
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return fail(info, 400, CM_EPARSE);
        val = val * 10 + (size_t)(v[i] - '0');
    }
    if (h->has_len && h->content_len != val)
        return fail(info, 400, CM_EPARSE);
    h->has_len = 1;
    h->content_len = val;
    return 0;
}

/* One "Name: value" line; records it in req and notes the framing headers. */
static int parse_header(char *buf, size_t s, size_t e, struct head *h, struct sd_req *req,
                        struct sd_http_info *info)
{
    size_t i = s;
    while (i < e && is_tchar((unsigned char)buf[i]))
        i++;
    if (i == s || i >= e || buf[i] != ':')
        return fail(info, 400, CM_EPARSE); /* also rejects obs-fold lines */
    size_t name_len = i - s;
    i++;
    while (i < e && (buf[i] == ' ' || buf[i] == '\t'))
        i++;
    size_t ve = e;
    while (ve > i && (buf[ve - 1] == ' ' || buf[ve - 1] == '\t'))
        ve--;
    for (size_t k = i; k < ve; k++) {
        unsigned char c = (unsigned char)buf[k];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail(info, 400, CM_EPARSE);
    }
    if (req->n_headers >= SD_MAX_HEADERS)
        return fail(info, 431, CM_ETOOBIG);
    struct sd_header *hd = &req->headers[req->n_headers++];
    hd->name = buf + s;
    hd->name_len = name_len;
    hd->value = buf + i;
    hd->value_len = ve - i;
    const char *v = buf + i;
    size_t vn = ve - i;
    if (ieq(hd->name, name_len, "content-length"))
        return parse_content_length(v, vn, h, info);
    if (ieq(hd->name, name_len, "transfer-encoding")) {
        if (!ieq(v, vn, "chunked") || h->chunked)
            return fail(info, 501, CM_EPARSE);
        h->chunked = 1;
    } else if (ieq(hd->name, name_len, "connection")) {
        if (ieq(v, vn, "close"))
            h->conn_close = 1;
        else if (ieq(v, vn, "keep-alive"))
            h->conn_keep = 1;
    } else if (ieq(hd->name, name_len, "expect") && ieq(v, vn, "100-continue")) {
        info->expect_continue = 1;
    }
    return 0;
}

static int parse_head(char *buf, size_t len, const struct sd_http_limits *lim, struct head *h,
                      struct sd_req *req, struct sd_http_info *info)
{
    size_t scan = len < lim->max_head_bytes ? len : lim->max_head_bytes;
    size_t s = 0, e = next_line(buf, 0, scan);
    if (!e)
        return len >= lim->max_head_bytes ? fail(info, 431, CM_ETOOBIG) : SD_HTTP_NEED_MORE;
    int rc = parse_request_line(buf, trim_eol(buf, s, e), h, info);
    if (rc < 0)
        return rc;
    for (;;) {
        s = e;
        e = next_line(buf, s, scan);
        if (!e)
            return len >= lim->max_head_bytes ? fail(info, 431, CM_ETOOBIG) : SD_HTTP_NEED_MORE;
        size_t te = trim_eol(buf, s, e);
        if (te == s)
            break;
        rc = parse_header(buf, s, te, h, req, info);
        if (rc < 0)
            return rc;
    }
    h->body_start = e;
    if (h->chunked && h->has_len)
        return fail(info, 400, CM_EPARSE); /* smuggling guard */
    if (h->has_len && h->content_len > lim->max_body_bytes)
        return fail(info, 413, CM_ETOOBIG);
    return SD_HTTP_DONE;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Walks a chunked body starting at off. With decode, moves the data down to
 * off in place. Returns DONE with *end (offset after the trailers) and
 * *body_len, NEED_MORE, or an error. */
static int walk_chunks(char *buf, size_t len, size_t off, size_t max_body, int decode, size_t *end,
                       size_t *body_len, struct sd_http_info *info)
{
    size_t p = off, out = off, total = 0;
    for (;;) {
        size_t e = next_line(buf, p, len);
        if (!e)
            return len - p > 1024 ? fail(info, 400, CM_EPARSE) : SD_HTTP_NEED_MORE;
        size_t te = trim_eol(buf, p, e), sz = 0, digits = 0;
        for (size_t i = p; i < te && buf[i] != ';'; i++) {
            int v = hexval(buf[i]);
            if (v < 0 || ++digits > 15)
                return fail(info, 400, CM_EPARSE);
            sz = sz * 16 + (size_t)v;
        }
        if (digits == 0)
            return fail(info, 400, CM_EPARSE);
        if (sz > max_body || total + sz > max_body)
            return fail(info, 413, CM_ETOOBIG);
        p = e;
        if (sz == 0)
            break;
        if (len - p < sz + 1)
            return SD_HTTP_NEED_MORE;
        if (decode)
            memmove(buf + out, buf + p, sz);
        out += sz;
        total += sz;
        p += sz;
        if (buf[p] == '\r') {
            if (len - p < 2)
                return SD_HTTP_NEED_MORE;
            p++;
        }
        if (buf[p] != '\n')
            return fail(info, 400, CM_EPARSE);
        p++;
    }
    for (;;) { /* trailers until an empty line; skipped */
        size_t e = next_line(buf, p, len);
        if (!e)
            return len - p > 8192 ? fail(info, 431, CM_ETOOBIG) : SD_HTTP_NEED_MORE;
        int empty = trim_eol(buf, p, e) == p;
        p = e;
        if (empty)
            break;
    }
    *end = p;
    *body_len = total;
    return SD_HTTP_DONE;
}

int sd_http_parse(char *buf, size_t len, const struct sd_http_limits *lim, struct sd_req *req,
                  struct sd_http_info *info)
{
    struct head h;
    memset(&h, 0, sizeof(h));
    memset(info, 0, sizeof(*info));
    req->n_headers = 0;
    int rc = parse_head(buf, len, lim, &h, req, info);
    if (rc != SD_HTTP_DONE)
        return rc;
    info->head_done = 1;
    size_t end, body_len;
    if (h.chunked) {
        rc = walk_chunks(buf, len, h.body_start, lim->max_body_bytes, 0, &end, &body_len, info);
        if (rc != SD_HTTP_DONE)
            return rc;
        walk_chunks(buf, len, h.body_start, lim->max_body_bytes, 1, &end, &body_len, info);
    } else {
        body_len = h.has_len ? h.content_len : 0;
        end = h.body_start + body_len;
        if (len < end) {
            info->need_total = end;
            return SD_HTTP_NEED_MORE;
        }
    }
    info->consumed = end;
    info->keep_alive = h.minor == 1 ? !h.conn_close : (h.conn_keep && !h.conn_close);
    /* Complete: terminate the method, path and query in place. */
    buf[h.method_end] = '\0';
    req->method = buf;
    char *target = buf + h.target_start;
    char *q = memchr(target, '?', h.target_end - h.target_start);
    buf[h.target_end] = '\0';
    if (q) {
        *q = '\0';
        req->query = q + 1;
    } else {
        req->query = buf + h.target_end; /* "" */
    }
    req->path = target;
    req->body = buf + h.body_start;
    req->body_len = body_len;
    return SD_HTTP_DONE;
}
