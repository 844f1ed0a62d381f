/* h1.h: a lean HTTP/1.1 client for cleartext http:// targets: a sans-IO
 * response parser (lg_h1_parse) and a non-blocking keep-alive connection pool
 * on a worker's lg_loop (lg_h1_pool). The caller serialises each request into
 * at most LG_H1_MAX_IOV buffers; the pool sends them with one sendmsg, parses
 * the response and reports it through one callback with its timings. Not a
 * general HTTP client: no TLS, no HTTP/2, no redirects, no pipelining, no
 * proxies, one destination address per pool. Single-threaded (the loop's
 * thread), no allocation per request once a connection's buffers have grown
 * to the largest response seen. */
#ifndef LG_H1_H
#define LG_H1_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "cm/buf.h"

struct lg_loop;

/* ---- response parser ---- */

#define LG_H1_MORE 0 /* lg_h1_parse: the response is not complete yet */
#define LG_H1_DONE 1 /* lg_h1_parse: one final response is complete */

#define LG_H1_MAX_HEADER_DEFAULT (64u * 1024) /* status line + header lines */
#define LG_H1_MAX_CHUNK_LINE     4096         /* a chunk-size line with its extensions */
#define LG_H1_MAX_INTERIM        16           /* 1xx responses before the final one */

/* Caller-owned; set the config fields, then lg_h1_parser_begin per response. */
struct lg_h1_parser {
    /* config */
    struct cm_buf *body_keep; /* NULL: drop the body; else up to its max, the rest counted */
    struct cm_buf *hdr_keep;  /* NULL: drop; else the final response's header lines, CRLF each */
    size_t max_header_bytes;  /* 0: LG_H1_MAX_HEADER_DEFAULT */
    /* result, valid once LG_H1_DONE */
    int status;             /* 100..999 */
    int minor;              /* HTTP/1.<minor> */
    int keep_alive;         /* 0: the server closes (Connection: close, HTTP/1.0, read-to-close) */
    int64_t content_length; /* -1 when absent */
    int64_t body_bytes;     /* body bytes seen (decoded, without chunk framing) */
    /* state */
    int state;
    int head;          /* the request was HEAD: no body follows */
    int chunked;       /* Transfer-Encoding: chunked */
    int te_other;      /* a Transfer-Encoding other than chunked: body to the close */
    int interim;       /* 1xx responses skipped */
    int64_t remaining; /* bytes left in the current Content-Length body or chunk */
    size_t hdr_bytes;  /* status + header (or trailer) bytes of the current block */
};

/* Starts a new response (head: the request was HEAD). Keeps the config. */
void lg_h1_parser_begin(struct lg_h1_parser *p, int head);

/* Parses data[0..len) (not NUL-terminated), continuing where the previous
 * call stopped. *used gets the bytes consumed; the caller keeps the rest (a
 * partial line) and passes it again, followed by more data, next time.
 * Returns LG_H1_MORE, LG_H1_DONE (*used then ends at the response's last
 * byte), CM_EPARSE (malformed, or a 101 upgrade nobody asked for) or
 * CM_ETOOBIG (header block past max_header_bytes, chunk line past
 * LG_H1_MAX_CHUNK_LINE, more than LG_H1_MAX_INTERIM 1xx). Never reads past
 * len. */
int lg_h1_parse(struct lg_h1_parser *p, const char *data, size_t len, size_t *used);

/* The peer closed the connection: LG_H1_DONE when the body runs to the close
 * (no Content-Length, not chunked), else CM_ECONN (truncated response). */
int lg_h1_parse_eof(struct lg_h1_parser *p);

/* Finds the last header `name` (case-insensitive) in a header block as kept
 * in hdr_keep (lines ending in CRLF): 1 and *val, *vlen (without surrounding
 * blanks, borrowed from block), or 0 when absent. */
int lg_h1_header(const char *block, size_t len, const char *name, const char **val, size_t *vlen);

/* ---- connection pool ---- */

#define LG_H1_MAX_IOV 4

enum lg_h1_err {
    LG_H1_OK = 0,
    LG_H1_E_CONNECT,   /* socket/connect failed (refused, unreachable, fd limit) */
    LG_H1_E_TIMEOUT,   /* request (or connect) deadline passed */
    LG_H1_E_TRANSPORT, /* send/recv failed or the peer closed mid-response */
    LG_H1_E_PARSE,     /* the response was malformed or too big */
    LG_H1_E_CANCELLED, /* lg_h1_pool_cancel_all */
};

/* What the done callback gets; pointers are valid during the callback only. */
struct lg_h1_result {
    int err;            /* enum lg_h1_err */
    const char *what;   /* static text for errors, "" when ok */
    int status;         /* HTTP status when err == 0 */
    int64_t connect_ns; /* TCP connect time when this request opened a connection, else -1 */
    int64_t ttfb_ns;    /* lg_h1_send to the first response byte (-1 if none) */
    int64_t total_ns;   /* lg_h1_send to completion */
    int64_t bytes_in;   /* response bytes read (headers + body as on the wire) */
    int64_t body_bytes; /* body bytes (without chunk framing); subset of bytes_in */
    const char *body;   /* the kept body (keep_body), else NULL */
    size_t body_len;
    const char *headers; /* the kept header lines (keep_headers), else NULL */
    size_t headers_len;
};

typedef void (*lg_h1_done_fn)(void *user, const struct lg_h1_result *r, int64_t now_ns);

struct lg_h1_cfg {
    struct sockaddr_storage addr; /* destination (AF_INET or AF_INET6) */
    socklen_t addr_len;
    int conns;                  /* connections at most (>= 1) */
    int64_t connect_timeout_ns; /* > 0 */
    int keepalive;              /* 0: close after every response */
    size_t max_header_bytes;    /* 0: LG_H1_MAX_HEADER_DEFAULT */
    size_t body_cap;            /* body bytes kept per response at most (keep_body) */
    lg_h1_done_fn done;
};

/* One request for lg_h1_send. The iov memory is borrowed until done runs
 * (a request retried on a fresh connection is sent again from it). */
struct lg_h1_req {
    struct iovec iov[LG_H1_MAX_IOV];
    int iovcnt;
    int head;           /* HEAD: the response has no body */
    int keep_body;      /* keep up to body_cap bytes of the body for the callback */
    int keep_headers;   /* keep the header lines for the callback */
    int64_t timeout_ns; /* whole request, from lg_h1_send; > 0 */
    void *user;         /* passed to done */
};

struct lg_h1_pool;
struct lg_h1_conn;

/* Registers a ticker on loop (for deadlines). CM_EINVAL on a bad cfg,
 * CM_ETOOBIG when the loop has no ticker slot left. */
int lg_h1_pool_new(struct lg_loop *loop, const struct lg_h1_cfg *cfg, struct lg_h1_pool **out);
/* Closes every connection without callbacks. Accepts NULL. */
void lg_h1_pool_free(struct lg_h1_pool *p);

/* A connection with no request in flight (open ones first), or NULL. */
struct lg_h1_conn *lg_h1_pool_idle(struct lg_h1_pool *p);
/* Requests in flight. */
int lg_h1_pool_busy(const struct lg_h1_pool *p);
/* Open sockets (idle or busy). */
int lg_h1_pool_open(const struct lg_h1_pool *p);

/* Starts req on c (from lg_h1_pool_idle): connects first when c is closed.
 * done is always called later, never from inside lg_h1_send. A request that
 * fails on a reused connection before any response byte (the server closed
 * it while idle) is retried once on a new connection. */
void lg_h1_send(struct lg_h1_conn *c, const struct lg_h1_req *req, int64_t now_ns);

/* Ends every request in flight with LG_H1_E_CANCELLED (callbacks run) and
 * closes their connections. Returns how many. */
int lg_h1_pool_cancel_all(struct lg_h1_pool *p, int64_t now_ns);

/* Splits an http:// URL: host (for Host:, with the port when one was given)
 * into host_hdr, the numeric-or-name host into host/port for getaddrinfo, the
 * path prefix (no trailing '/', may be empty) into prefix. CM_EINVAL when not
 * http:// or a part does not fit its buffer. */
int lg_h1_split_url(const char *url, char *host_hdr, size_t host_hdr_size, char *host,
                    size_t host_size, char *port, size_t port_size, char *prefix,
                    size_t prefix_size);

/* Resolves host:port (blocking getaddrinfo: set-up time only) into cfg->addr;
 * of several addresses, the first that accepts a connection within 1 s.
 * CM_ECONN when it does not resolve. */
int lg_h1_resolve(const char *host, const char *port, struct lg_h1_cfg *cfg);

#endif
