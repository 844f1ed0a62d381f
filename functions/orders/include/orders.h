/* orders.h: the order model shared by the order-system functions (prefix
 * ord_): request validation with field paths, the DynamoDB item encoding of
 * an order, the OrderCreated / OrderUpdated messages, idempotency keys and
 * hashes, the business rule, and thin DynamoDB / SQS / @connections calls
 * through cm_aws over one libcurl multi handle (its connection cache is what
 * keeps connections warm across invocations).
 *
 * Money is held as integer cents (int64_t); prices accept at most 2
 * decimals, so every total is exact. The pure functions (everything but
 * ord_aws_*) are reentrant. docs/functions.md describes the wire contracts. */
#ifndef ORDERS_H
#define ORDERS_H

#include "cm/aws.h"
#include "cm/buf.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define ORD_NAME_MAX_CHARS  200                 /* customerName, Unicode code points */
#define ORD_SKU_MAX_CHARS   64                  /* items[].sku, code points */
#define ORD_ITEMS_MAX       100                 /* items per order */
#define ORD_QTY_MAX         1000                /* items[].qty upper bound (lower is 1) */
#define ORD_PRICE_MAX_CENTS 100000000LL         /* items[].price <= 1,000,000.00 */
#define ORD_BODY_MAX_BYTES  ((size_t)256 << 10) /* request bodies we parse */
#define ORD_ID_LEN          36                  /* UUID text */
#define ORD_IDEM_KEY_MAX    255                 /* Idempotency-Key header bytes */
#define ORD_MONEY_MAX       32                  /* buffer for ord_money_format */

/* ------------------------------------------------------------------ model */

enum ord_status { ORD_PENDING, ORD_CONFIRMED, ORD_FAILED };

struct ord_item {
    char *sku;           /* owned */
    int64_t qty;         /* 1..ORD_QTY_MAX */
    int64_t price_cents; /* 0..ORD_PRICE_MAX_CENTS */
};

struct ord_order {
    char id[ORD_ID_LEN + 1]; /* "" until assigned */
    enum ord_status status;
    char *customer_name; /* owned */
    struct ord_item *items;
    size_t n_items;
    int64_t total_cents;  /* sum of qty * price_cents */
    char created_at[32];  /* ISO 8601 UTC with ms; "" until assigned */
    char updated_at[32];  /* "" when never updated */
    char *correlation_id; /* owned; NULL when none */
    char *reason;         /* owned; why it FAILED, NULL otherwise */
};

void ord_order_init(struct ord_order *o);
/* Frees the owned strings and items; o is left as after init. NULL ok. */
void ord_order_deinit(struct ord_order *o);
/* "PENDING", "CONFIRMED", "FAILED". */
const char *ord_status_name(enum ord_status s);
/* Name -> status. 0 or CM_EINVAL. */
int ord_status_parse(const char *s, enum ord_status *out);

/* A 400 answer: message names the field; field is its path ("items[2].qty")
 * or "" when the problem is the body as a whole. */
struct ord_invalid {
    char message[256];
    char field[64];
};

/* Validates a POST /orders body (len bytes, need not be NUL-terminated) and
 * fills o's customer_name, items and total_cents (o must be initialised;
 * unknown keys are ignored). 0, or CM_EINVAL with *why filled (o is then
 * deinitialised). */
int ord_order_parse_request(const char *body, size_t len, struct ord_order *o,
                            struct ord_invalid *why);
/* Appends {"message":"...","field":"..."} ("field" left out when empty). */
int ord_invalid_json(const struct ord_invalid *why, struct cm_buf *out);
/* Appends {"message":"<msg>"}. */
int ord_message_json(const char *msg, struct cm_buf *out);

/* "12.3" style decimal with no trailing zeros (DynamoDB's normal form, also
 * a valid JSON number). Returns out. */
const char *ord_money_format(int64_t cents, char out[ORD_MONEY_MAX]);
/* Decimal text ("12", "12.3", "12.30", "-1.5") -> cents; more than 2
 * decimals, exponents or other text are CM_EINVAL; |value| > 2^53 cents is
 * CM_ERANGE. */
int ord_money_parse(const char *p, size_t n, int64_t *cents);

/* 1 when p (n bytes) is a UUID in text form (36 characters, dashes at
 * 8/13/18/23, hex digits elsewhere), else 0. */
int ord_id_valid(const char *p, size_t n);

/* The order as the API returns it: {"id","status","customerName","items":
 * [{"sku","qty","price"}],"total","createdAt"[,"updatedAt"][,"reason"]
 * [,"correlationId"]}. */
int ord_order_to_json(const struct ord_order *o, struct cm_buf *out);
/* The order as a DynamoDB item (protocols.md 5.1): id S, status S,
 * customerName S, items L of M {sku S, qty N, price N}, total N, createdAt
 * S, and updatedAt / correlationId / reason S when set. A new cJSON object
 * (free with cJSON_Delete). */
cJSON *ord_order_to_item(const struct ord_order *o);
/* Decodes a DynamoDB item (borrowed) into o (initialised). 0 or CM_EINVAL
 * with *why naming the attribute (o deinitialised). */
int ord_order_from_item(const cJSON *item, struct ord_order *o, const char **why);

/* The business rule applied by process-orders: FAILED (with *reason set to
 * a static sentence) when total_cents > max_total_cents or an sku starts
 * with "FAIL-", else CONFIRMED. */
enum ord_status ord_order_decide(const struct ord_order *o, int64_t max_total_cents,
                                 const char **reason);

/* ------------------------------------------------------------------ messages */

/* {"type":"OrderCreated","orderId","customerName","total"}. */
int ord_created_build(const struct ord_order *o, struct cm_buf *out);

struct ord_created {
    char order_id[ORD_ID_LEN + 1];
    char *customer_name; /* owned; NULL when absent */
    int64_t total_cents; /* -1 when absent */
};
/* Parses an OrderCreated body. CM_EPARSE (not JSON) or CM_EINVAL (not an
 * object, "type" present but not "OrderCreated", orderId missing or not a
 * UUID) with *why set; m is always safe to deinit. */
int ord_created_parse(const char *p, size_t n, struct ord_created *m, const char **why);
void ord_created_deinit(struct ord_created *m);

/* {"type":"OrderUpdated","orderId","status","correlationId","customerName"
 * [,"reason"]}; correlation_id and reason may be NULL (written as null /
 * left out). */
int ord_updated_build(const struct ord_order *o, const char *correlation_id, struct cm_buf *out);

/* ------------------------------------------------------------------ idempotency */

#define ORD_MD5_HEX 33 /* 32 hex digits + NUL */

/* Lower-case hex MD5 of n bytes. */
void ord_md5_hex(const void *p, size_t n, char out[ORD_MD5_HEX]);
/* The idempotency record id the way Powertools builds it:
 * "<function_name>#<md5 of the key as a JSON string>", e.g.
 * "create-order#<md5 of "\"abc\"">". 0 or CM_ETOOBIG (out too small). */
int ord_idem_record_id(const char *function_name, const char *key, size_t key_len, char *out,
                       size_t cap);
/* The payload validation hash: md5 of the canonical order text
 * {"customerName":..,"items":[{"sku","qty","price"}..]}, so the same order
 * with other whitespace or key order hashes the same. */
void ord_idem_validation(const struct ord_order *o, char out[ORD_MD5_HEX]);

/* ------------------------------------------------------------------ AWS calls */

struct ord_aws;

/* One per process (create it in the function's init). Clients for DynamoDB
 * and SQS are created on first use from the usual environment (credentials
 * chain, AWS_REGION, AWS_ENDPOINT_URL[_<SERVICE>]); timeout_ms bounds each
 * attempt. Never fails (aborts on OOM); free with ord_aws_free (NULL ok). */
struct ord_aws *ord_aws_new(long timeout_ms);
void ord_aws_free(struct ord_aws *a);
/* Wall-clock deadline (Unix ms) for the calls that follow: attempts and
 * backoff stop there and the call fails with CM_ETIMEDOUT. */
void ord_aws_set_deadline(struct ord_aws *a, int64_t deadline_ms);

struct rt_invocation;
/* Sets the deadline from the invocation: its remaining time minus a reserve
 * (a tenth of it, at most 500 ms) for answering; 10 s when the invocation
 * has no deadline. */
void ord_aws_begin(struct ord_aws *a, const struct rt_invocation *inv);

/* Result of a call: the parsed JSON answer (NULL when the body is empty or
 * not JSON), the AWS error, the HTTP status. Free with ord_resp_deinit. */
struct ord_resp {
    cJSON *json;
    struct cm_aws_error err; /* code "" on success */
    long status;             /* 0 when no HTTP answer */
};
void ord_resp_deinit(struct ord_resp *r);

/* DynamoDB / SQS JSON-protocol call (operation "PutItem", "SendMessage").
 * body is borrowed. 0; CM_EAWS (r->err has the code); CM_ETIMEDOUT, CM_ECONN,
 * CM_EIO, CM_ETOOBIG; or a client setup error (logged once). */
int ord_ddb(struct ord_aws *a, const char *op, const cJSON *body, struct ord_resp *r);
int ord_sqs(struct ord_aws *a, const char *op, const cJSON *body, struct ord_resp *r);
/* POST <endpoint>/@connections/<id> with data as the body, signed for
 * execute-api. Returns as ord_ddb; a 410 is CM_EAWS with r->status 410. */
int ord_ws_post(struct ord_aws *a, const char *endpoint, const char *connection_id,
                const char *data, size_t len, struct ord_resp *r);
/* 1 when the failure is worth retrying later (throttling, 5xx, timeouts,
 * transport), 0 otherwise. */
int ord_aws_transient(int rc, const struct ord_resp *r);

/* The @connections endpoint: $WS_MANAGEMENT_ENDPOINT, else
 * $AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI, else https://<domain>/<stage>
 * when domain is not empty, else NULL. out holds cap bytes. */
const char *ord_ws_endpoint(const char *domain, const char *stage, char *out, size_t cap);

/* ------------------------------------------------------------------ connections table */
/* CONNECTIONS_TABLE (pk S, sk S; TTL attribute `expiration`):
 *   pk "conn#<id>"        sk "meta"               the connection (connectedAt, customerName)
 *   pk "order#<orderId>"  sk "conn#<id>"          a subscription to one order
 *   pk "customer#<name>"  sk "conn#<id>"          a subscription to a customer's orders
 *   pk "conn#<id>"        sk "sub#<subscription pk>"  reverse entry, for $disconnect */

#define ORD_CONN_TTL_S 7500 /* API Gateway closes WebSocket connections after 2 h */

/* Writes the connection's meta item (customer may be NULL). 0 or a call error. */
int ord_conn_put(struct ord_aws *a, const char *table, const char *conn_id, const char *customer,
                 int64_t now_ms);
/* Writes the subscription item under key ("order#<id>" / "customer#<name>")
 * and its reverse entry. 0 or a call error (r holds the failed answer). */
int ord_conn_subscribe(struct ord_aws *a, const char *table, const char *key, const char *conn_id,
                       int64_t now_ms);
/* Deletes the connection's meta item, its subscriptions and their reverse
 * entries (at most 500 items). Returns the number of items deleted or a
 * call error. */
int ord_conn_delete_all(struct ord_aws *a, const char *table, const char *conn_id);

/* ------------------------------------------------------------------ DynamoDB JSON helpers */

/* {"S": s} / {"N": text} attribute values (new objects). */
cJSON *ord_av_s(const char *s);
cJSON *ord_av_n(const char *text);
cJSON *ord_av_n_i64(int64_t v);
/* item.<name>.S or NULL. */
const char *ord_av_get_s(const cJSON *item, const char *name);
/* item.<name>.N parsed as an integer; fallback when absent or not integral. */
int64_t ord_av_get_i64(const cJSON *item, const char *name, int64_t fallback);

/* API Gateway answers: status + ord_invalid_json / ord_message_json body
 * through rt_apigw_response_write. 0 or a cm_err. */
int ord_respond_invalid(const struct rt_invocation *inv, const struct ord_invalid *why,
                        struct cm_buf *out);
int ord_respond_message(const struct rt_invocation *inv, int status, const char *msg,
                        struct cm_buf *out);

/* Reads $name as a positive integer, fallback when unset or invalid. */
int64_t ord_env_i64(const char *name, int64_t fallback, int64_t min, int64_t max);

#endif
