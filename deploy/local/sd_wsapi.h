/* sd_wsapi.h: API Gateway WebSocket API emulation and its @connections
 * management API (protocols.md 3.3, 3.4), on stackd's edge port.
 *
 * Clients connect with an HTTP/1.1 Upgrade (any path on the edge port, e.g.
 * ws://127.0.0.1:4566/prod?user=u-7; the query and headers go to $connect).
 * $connect runs before the 101 (a non-2xx statusCode or a function error
 * rejects the handshake with that status); messages are routed by the
 * route selection expression ($request.body.<path> into the JSON body; no
 * match or non-JSON -> $default; no $default -> {"message":"Forbidden",...}
 * sent to the client); a route whose function returns a body sends it back to
 * the client; $disconnect runs after the close, best effort. Idle timeout and
 * maximum duration close with 1001; frames over 32 KB or messages over 128 KB
 * close with 1009.
 *
 * Management API (restJson1, signing name execute-api), with an optional
 * /{stage} prefix and "@" possibly sent as %40:
 *   POST   /@connections/{id}  body = raw data -> 200 (text frame, binary if not UTF-8)
 *   GET    /@connections/{id}  -> 200
 * {"connectedAt","identity":{"sourceIp","userAgent"},"lastActiveAt"} DELETE /@connections/{id}  ->
 * 204 (close frame 1000, then $disconnect) Errors: 410 GoneException (unknown or closed), 413
 * PayloadTooLargeException (over 128 KB), 429 LimitExceededException (the client is not reading),
 * 404 NotFoundException (bad path), all with x-amzn-ErrorType and
 * {"message":...}.
 * Not thread-safe; runs in the sd_server loop. */
#ifndef SD_WSAPI_H
#define SD_WSAPI_H

#include "sd_lambda.h"
#include "sd_req.h"
#include "sd_server.h"
#include "sd_stack.h"

#include <stddef.h>
#include <stdint.h>

struct sd_wsapi;

typedef void (*sd_wsapi_metric_fn)(void *ctx, const char *ns, const char *name,
                                   const char *dim_name, const char *dim_value, double value,
                                   const char *unit, int64_t ts_ms);

/* Uses st->ws (a disabled section answers every Upgrade with 404). Route
 * functions must exist in l. Free with sd_wsapi_free (before the server, after
 * sd_lambda_free so pending callbacks still find it). */
int sd_wsapi_new(struct sd_server *srv, const struct sd_stack *st, struct sd_lambda *l,
                 struct sd_wsapi **out);
void sd_wsapi_free(struct sd_wsapi *w);
/* AWS/ApiGateway ConnectCount, MessageCount, IntegrationError, ClientError,
 * ExecutionError with dimension ApiId. */
void sd_wsapi_set_metric_hook(struct sd_wsapi *w, sd_wsapi_metric_fn fn, void *ctx);

/* 1 when req asks for a WebSocket upgrade ("Upgrade: websocket"). */
int sd_wsapi_is_upgrade(const struct sd_req *req);
/* Handles an Upgrade request on conn: answers an error now, or defers it
 * while $connect runs and then upgrades or rejects. */
void sd_wsapi_handle_upgrade(struct sd_wsapi *w, struct sd_conn *conn, const struct sd_req *req);
/* Handles one @connections request (synchronous). */
void sd_wsapi_handle_mgmt(struct sd_wsapi *w, const struct sd_req *req, struct sd_resp *resp);
/* Idle timeout, maximum duration (checked about once a second) and freeing
 * closed connections; call from the loop's tick. */
void sd_wsapi_tick(struct sd_wsapi *w, int64_t now_mono_ns);
/* Graceful shutdown: sends close 1001 to every connection. */
void sd_wsapi_close_all(struct sd_wsapi *w);
/* Open connections. */
size_t sd_wsapi_count(const struct sd_wsapi *w);

/* Pure helpers (unit-tested). */
/* Evaluates expr ("$request.body.a.b") on a message body. 1 with the string
 * (or number) value copied into out, 0 when the body is not JSON or the path
 * does not lead to a string or number (route $default). */
int sd_wsapi_select(const char *expr, const char *body, size_t len, char *out, size_t out_size);
/* "[prefix]/@connections/{id}" (or %40connections; the router decides which
 * prefixes reach here) -> decoded id in out.
 * 0, or CM_ENOTFOUND when path is not a management path. */
int sd_wsapi_mgmt_path(const char *path, char *id, size_t id_size);

#endif
