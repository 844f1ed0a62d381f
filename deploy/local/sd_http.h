/* sd_http.h: sans-IO HTTP/1.1 request parser for stackd's edge port and the
 * per-environment Runtime API listeners. It finds one request at the start of
 * a buffer (pipelined requests after it stay untouched), supports
 * Content-Length and chunked bodies, and enforces size limits. It does not
 * do I/O, HTTP/2, obs-folded headers or trailers (trailers are skipped).
 *
 * Parsing is non-destructive until a request is complete; then the parser
 * writes NULs after method/path/query and decodes a chunked body in place,
 * so the sd_req it fills points into the caller's buffer. */
#ifndef SD_HTTP_H
#define SD_HTTP_H

#include "sd_req.h"

#include <stddef.h>

struct sd_http_limits {
    size_t max_head_bytes; /* request line + headers (API GW HTTP API: 10240) */
    size_t max_body_bytes; /* decoded body (API GW HTTP API: 10 MB) */
};

enum sd_http_status {
    SD_HTTP_NEED_MORE = 0, /* incomplete; read more and call again */
    SD_HTTP_DONE = 1,      /* one request parsed */
};

/* Parse result besides the request itself. */
struct sd_http_info {
    size_t consumed;     /* bytes of buf the request used (DONE only) */
    size_t need_total;   /* NEED_MORE with known body length: bytes needed in all, else 0 */
    int keep_alive;      /* 1 unless "Connection: close" or HTTP/1.0 without keep-alive */
    int expect_continue; /* "Expect: 100-continue" seen (head complete) */
    int head_done;       /* the request line and headers are complete */
    int error_status;    /* on a negative return: 400, 413, 431 or 501 */
};

/* Parses one request at buf[0..len). Returns SD_HTTP_DONE (req filled; buf
 * modified in place; the body may be shorter than its wire form),
 * SD_HTTP_NEED_MORE, or CM_EPARSE / CM_ETOOBIG with info->error_status set to
 * the HTTP status to answer with before closing. req->peer_ip and
 * recv_wall_ns are left for the caller. */
int sd_http_parse(char *buf, size_t len, const struct sd_http_limits *lim, struct sd_req *req,
                  struct sd_http_info *info);

/* Reason phrase for a status code ("OK", "Not Found", ...); "Unknown" otherwise. */
const char *sd_http_reason(int status);

#endif
