/* sd_req.h: the request/response pair every emulated AWS service handler in
 * stackd works on. The server (sd_server) parses the HTTP request off the
 * edge port, routes it (by path, X-Amz-Target, Action=, Host), and calls one
 * service handler, which fills the response; the server writes it out.
 * Handlers are sans-IO: no sockets, so they are unit-testable with a struct. */
#ifndef SD_REQ_H
#define SD_REQ_H

#include "cm/buf.h"

#include <stddef.h>
#include <stdint.h>

#define SD_MAX_HEADERS 64

struct sd_header {
    const char *name; /* as received; compare case-insensitively */
    size_t name_len;
    const char *value;
    size_t value_len;
};

struct sd_req {
    const char *method; /* "GET", "POST", ... NUL terminated */
    const char *path;   /* raw path without the query, NUL terminated, not decoded */
    const char *query;  /* raw query without '?', NUL terminated, "" when none */
    struct sd_header headers[SD_MAX_HEADERS];
    int n_headers;
    const char *body; /* n bytes, not NUL terminated */
    size_t body_len;
    const char *peer_ip;  /* "127.0.0.1" */
    int64_t recv_wall_ns; /* wall clock when the request was complete */
};

struct sd_resp {
    int status;            /* HTTP status */
    char content_type[96]; /* "" for none */
    struct cm_buf headers; /* extra "Name: value\r\n" lines */
    struct cm_buf body;
};

/* First header named name (case-insensitive), or NULL; *len gets its length. */
const char *sd_req_header(const struct sd_req *r, const char *name, size_t *len);

void sd_resp_init(struct sd_resp *resp);
void sd_resp_deinit(struct sd_resp *resp);
/* Adds "name: value\r\n" to resp->headers. */
void sd_resp_header(struct sd_resp *resp, const char *name, const char *value);

#endif
