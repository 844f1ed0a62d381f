/* order.c: the order model: POST /orders validation with field paths, money
 * as exact cents, the API JSON and DynamoDB item forms of an order, and the
 * business rule. No I/O. */
#include "orders.h"

#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ord_order_init(struct ord_order *o)
{
    memset(o, 0, sizeof(*o));
    o->status = ORD_PENDING;
}

void ord_order_deinit(struct ord_order *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n_items; i++)
        free(o->items[i].sku);
    free(o->items);
    free(o->customer_name);
    free(o->correlation_id);
    free(o->reason);
    ord_order_init(o);
}

static const char *const STATUS_NAMES[] = {"PENDING", "CONFIRMED", "FAILED"};

const char *ord_status_name(enum ord_status s)
{
    return (unsigned)s < 3 ? STATUS_NAMES[s] : "PENDING";
}

int ord_status_parse(const char *s, enum ord_status *out)
{
    for (int i = 0; s && i < 3; i++) {
        if (strcmp(s, STATUS_NAMES[i]) == 0) {
            *out = (enum ord_status)i;
            return 0;
        }
    }
    return CM_EINVAL;
}

/* ------------------------------------------------------------------ validation */

static int invalid(struct ord_invalid *why, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int invalid(struct ord_invalid *why, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why->message, sizeof(why->message), fmt, ap);
    va_end(ap);
    cm_strlcpy(why->field, field, sizeof(why->field));
    return CM_EINVAL;
}

/* Unicode code points of valid UTF-8 (cJSON only produces valid UTF-8 from
 * escapes; raw bytes are counted by their lead bytes). */
static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* A required non-empty string of at most max code points. */
static int check_string(const cJSON *v, const char *path, size_t max, struct ord_invalid *why)
{
    if (!v)
        return invalid(why, path, "%s is required", path);
    if (!cJSON_IsString(v))
        return invalid(why, path, "%s must be a string", path);
    if (!v->valuestring[0])
        return invalid(why, path, "%s must not be empty", path);
    if (utf8_chars(v->valuestring) > max)
        return invalid(why, path, "%s must be at most %zu characters", path, max);
    return 0;
}

static int check_qty(const cJSON *v, const char *path, int64_t *out, struct ord_invalid *why)
{
    if (!v)
        return invalid(why, path, "%s is required", path);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble != floor(v->valuedouble))
        return invalid(why, path, "%s must be an integer", path);
    if (v->valuedouble < 1 || v->valuedouble > ORD_QTY_MAX)
        return invalid(why, path, "%s must be between 1 and %d", path, ORD_QTY_MAX);
    *out = (int64_t)v->valuedouble;
    return 0;
}

/* The JSON number is a double, so "at most 2 decimals" is checked on
 * price * 100: it must be within 1e-6 of an integer. Doubles hold prices up to
 * 1e6 to ~1e-10, so 19.99 (1998.9999999999998) passes and 0.001 (0.1) or
 * 1.005 (100.49999999999999, off by 0.5) do not. */
static int check_price(const cJSON *v, const char *path, int64_t *out, struct ord_invalid *why)
{
    if (!v)
        return invalid(why, path, "%s is required", path);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return invalid(why, path, "%s must be a number", path);
    double d = v->valuedouble;
    if (d < 0)
        return invalid(why, path, "%s must not be negative", path);
    if (d * 100 > (double)ORD_PRICE_MAX_CENTS)
        return invalid(why, path, "%s must be at most %lld", path,
                       (long long)(ORD_PRICE_MAX_CENTS / 100));
    double cents = d * 100, r = nearbyint(cents);
    if (fabs(cents - r) > 1e-6)
        return invalid(why, path, "%s must have at most 2 decimal places", path);
    *out = (int64_t)r;
    return 0;
}

static int parse_item(const cJSON *v, size_t i, struct ord_item *it, struct ord_invalid *why)
{
    char path[64], sub[80];
    snprintf(path, sizeof(path), "items[%zu]", i);
    if (!cJSON_IsObject(v))
        return invalid(why, path, "%s must be an object", path);
    snprintf(sub, sizeof(sub), "%s.sku", path);
    int rc = check_string(cJSON_GetObjectItemCaseSensitive(v, "sku"), sub, ORD_SKU_MAX_CHARS, why);
    if (rc)
        return rc;
    snprintf(sub, sizeof(sub), "%s.qty", path);
    rc = check_qty(cJSON_GetObjectItemCaseSensitive(v, "qty"), sub, &it->qty, why);
    if (rc)
        return rc;
    snprintf(sub, sizeof(sub), "%s.price", path);
    rc = check_price(cJSON_GetObjectItemCaseSensitive(v, "price"), sub, &it->price_cents, why);
    if (rc)
        return rc;
    it->sku = cm_xstrdup(cJSON_GetObjectItemCaseSensitive(v, "sku")->valuestring);
    return 0;
}

static int parse_items(const cJSON *items, struct ord_order *o, struct ord_invalid *why)
{
    if (!items)
        return invalid(why, "items", "items is required");
    if (!cJSON_IsArray(items))
        return invalid(why, "items", "items must be an array");
    int n = cJSON_GetArraySize(items);
    if (n < 1)
        return invalid(why, "items", "items must contain at least 1 item");
    if (n > ORD_ITEMS_MAX)
        return invalid(why, "items", "items must contain at most %d items", ORD_ITEMS_MAX);
    o->items = cm_xcalloc((size_t)n, sizeof(*o->items));
    const cJSON *v;
    cJSON_ArrayForEach(v, items)
    {
        int rc = parse_item(v, o->n_items, &o->items[o->n_items], why);
        if (rc)
            return rc;
        o->total_cents += o->items[o->n_items].qty * o->items[o->n_items].price_cents;
        o->n_items++;
    }
    return 0;
}

int ord_order_parse_request(const char *body, size_t len, struct ord_order *o,
                            struct ord_invalid *why)
{
    cJSON *root = NULL;
    int rc;
    if (len == 0) {
        rc = invalid(why, "", "request body is required");
        goto out;
    }
    if (len > ORD_BODY_MAX_BYTES) {
        rc = invalid(why, "", "request body must be at most %zu bytes", ORD_BODY_MAX_BYTES);
        goto out;
    }
    root = cm_json_parse(body, len);
    if (!root) {
        rc = invalid(why, "", "request body is not valid JSON");
        goto out;
    }
    if (!cJSON_IsObject(root)) {
        rc = invalid(why, "", "request body must be a JSON object");
        goto out;
    }
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "customerName");
    rc = check_string(name, "customerName", ORD_NAME_MAX_CHARS, why);
    if (rc)
        goto out;
    o->customer_name = cm_xstrdup(name->valuestring);
    rc = parse_items(cJSON_GetObjectItemCaseSensitive(root, "items"), o, why);
out:
    if (rc)
        ord_order_deinit(o);
    cJSON_Delete(root);
    return rc;
}

int ord_invalid_json(const struct ord_invalid *why, struct cm_buf *out)
{
    int rc = cm_buf_puts(out, "{\"message\":");
    rc = rc ? rc : cm_json_append_string(out, why->message, strlen(why->message));
    if (!rc && why->field[0]) {
        rc = cm_buf_puts(out, ",\"field\":");
        rc = rc ? rc : cm_json_append_string(out, why->field, strlen(why->field));
    }
    return rc ? rc : cm_buf_putc(out, '}');
}

int ord_message_json(const char *msg, struct cm_buf *out)
{
    int rc = cm_buf_puts(out, "{\"message\":");
    rc = rc ? rc : cm_json_append_string(out, msg, strlen(msg));
    return rc ? rc : cm_buf_putc(out, '}');
}

/* ------------------------------------------------------------------ money and ids */

const char *ord_money_format(int64_t cents, char out[ORD_MONEY_MAX])
{
    const char *sign = cents < 0 ? "-" : "";
    /* -INT64_MIN overflows; no order gets near it, so clamp. */
    uint64_t a = cents < 0 ? (uint64_t)(-(cents + 1)) + 1 : (uint64_t)cents;
    unsigned long long units = (unsigned long long)(a / 100), frac = (unsigned long long)(a % 100);
    if (frac == 0)
        snprintf(out, ORD_MONEY_MAX, "%s%llu", sign, units);
    else if (frac % 10 == 0)
        snprintf(out, ORD_MONEY_MAX, "%s%llu.%llu", sign, units, frac / 10);
    else
        snprintf(out, ORD_MONEY_MAX, "%s%llu.%02llu", sign, units, frac);
    return out;
}

int ord_money_parse(const char *p, size_t n, int64_t *cents)
{
    const int64_t limit = (int64_t)1 << 53;
    size_t i = 0;
    int neg = 0;
    if (i < n && (p[i] == '-' || p[i] == '+'))
        neg = p[i++] == '-';
    int64_t units = 0;
    size_t start = i;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        units = units * 10 + (p[i] - '0');
        if (units > limit / 100)
            return CM_ERANGE;
    }
    if (i == start)
        return CM_EINVAL;
    int64_t frac = 0;
    if (i < n && p[i] == '.') {
        i++;
        size_t fs = i;
        for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
            if (i - fs >= 2 && p[i] != '0')
                return CM_EINVAL; /* a third decimal that matters */
            if (i - fs < 2)
                frac = frac * 10 + (p[i] - '0');
        }
        if (i == fs)
            return CM_EINVAL;
        if (i - fs == 1)
            frac *= 10;
    }
    if (i != n)
        return CM_EINVAL;
    int64_t v = units * 100 + frac;
    *cents = neg ? -v : v;
    return 0;
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int ord_id_valid(const char *p, size_t n)
{
    if (!p || n != ORD_ID_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? p[i] != '-' : !is_hex(p[i]))
            return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ API JSON */

static int put_str(struct cm_buf *b, const char *key, const char *v)
{
    int rc = cm_buf_printf(b, ",\"%s\":", key);
    return rc ? rc : cm_json_append_string(b, v, strlen(v));
}

static int put_items(struct cm_buf *b, const struct ord_order *o)
{
    char m[ORD_MONEY_MAX];
    int rc = cm_buf_puts(b, "\"items\":[");
    for (size_t i = 0; !rc && i < o->n_items; i++) {
        rc = cm_buf_puts(b, i ? ",{\"sku\":" : "{\"sku\":");
        rc = rc ? rc : cm_json_append_string(b, o->items[i].sku, strlen(o->items[i].sku));
        rc = rc ? rc
                : cm_buf_printf(b, ",\"qty\":%lld,\"price\":%s}", (long long)o->items[i].qty,
                                ord_money_format(o->items[i].price_cents, m));
    }
    return rc ? rc : cm_buf_putc(b, ']');
}

int ord_order_to_json(const struct ord_order *o, struct cm_buf *out)
{
    char m[ORD_MONEY_MAX];
    int rc = cm_buf_puts(out, "{\"id\":");
    rc = rc ? rc : cm_json_append_string(out, o->id, strlen(o->id));
    rc = rc ? rc : put_str(out, "status", ord_status_name(o->status));
    rc = rc ? rc : put_str(out, "customerName", o->customer_name ? o->customer_name : "");
    rc = rc ? rc : cm_buf_putc(out, ',');
    rc = rc ? rc : put_items(out, o);
    rc = rc ? rc : cm_buf_printf(out, ",\"total\":%s", ord_money_format(o->total_cents, m));
    rc = rc ? rc : put_str(out, "createdAt", o->created_at);
    if (!rc && o->updated_at[0])
        rc = put_str(out, "updatedAt", o->updated_at);
    if (!rc && o->reason)
        rc = put_str(out, "reason", o->reason);
    if (!rc && o->correlation_id)
        rc = put_str(out, "correlationId", o->correlation_id);
    return rc ? rc : cm_buf_putc(out, '}');
}

/* ------------------------------------------------------------------ DynamoDB item */

cJSON *ord_av_s(const char *s)
{
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "S", s);
    return v;
}

cJSON *ord_av_n(const char *text)
{
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "N", text);
    return v;
}

cJSON *ord_av_n_i64(int64_t n)
{
    char t[24];
    snprintf(t, sizeof(t), "%lld", (long long)n);
    return ord_av_n(t);
}

const char *ord_av_get_s(const cJSON *item, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(item, name);
    return cm_json_str(v, "S", NULL);
}

static const char *av_get_n(const cJSON *item, const char *name)
{
    return cm_json_str(cJSON_GetObjectItemCaseSensitive(item, name), "N", NULL);
}

int64_t ord_av_get_i64(const cJSON *item, const char *name, int64_t fallback)
{
    const char *t = av_get_n(item, name);
    if (!t || !*t)
        return fallback;
    char *end = NULL;
    long long v = strtoll(t, &end, 10);
    return *end ? fallback : (int64_t)v;
}

static cJSON *money_av(int64_t cents)
{
    char m[ORD_MONEY_MAX];
    return ord_av_n(ord_money_format(cents, m));
}

cJSON *ord_order_to_item(const struct ord_order *o)
{
    cJSON *item = cJSON_CreateObject();
    cJSON_AddItemToObject(item, "id", ord_av_s(o->id));
    cJSON_AddItemToObject(item, "status", ord_av_s(ord_status_name(o->status)));
    cJSON_AddItemToObject(item, "customerName", ord_av_s(o->customer_name ? o->customer_name : ""));
    cJSON *list = cJSON_CreateArray();
    for (size_t i = 0; i < o->n_items; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddItemToObject(m, "sku", ord_av_s(o->items[i].sku));
        cJSON_AddItemToObject(m, "qty", ord_av_n_i64(o->items[i].qty));
        cJSON_AddItemToObject(m, "price", money_av(o->items[i].price_cents));
        cJSON *wrap = cJSON_CreateObject();
        cJSON_AddItemToObject(wrap, "M", m);
        cJSON_AddItemToArray(list, wrap);
    }
    cJSON *l = cJSON_CreateObject();
    cJSON_AddItemToObject(l, "L", list);
    cJSON_AddItemToObject(item, "items", l);
    cJSON_AddItemToObject(item, "total", money_av(o->total_cents));
    cJSON_AddItemToObject(item, "createdAt", ord_av_s(o->created_at));
    if (o->updated_at[0])
        cJSON_AddItemToObject(item, "updatedAt", ord_av_s(o->updated_at));
    if (o->correlation_id)
        cJSON_AddItemToObject(item, "correlationId", ord_av_s(o->correlation_id));
    if (o->reason)
        cJSON_AddItemToObject(item, "reason", ord_av_s(o->reason));
    return item;
}

static int money_from_av(const cJSON *m, const char *name, int64_t *cents)
{
    const char *t = av_get_n(m, name);
    return t ? ord_money_parse(t, strlen(t), cents) : CM_EINVAL;
}

static int item_from_av(const cJSON *wrap, struct ord_item *it, const char **why)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(wrap, "M");
    const char *sku = ord_av_get_s(m, "sku");
    if (!cJSON_IsObject(m) || !sku) {
        *why = "items[].sku: expected {\"S\":...} inside {\"M\":...}";
        return CM_EINVAL;
    }
    it->qty = ord_av_get_i64(m, "qty", -1);
    if (it->qty < 0 || money_from_av(m, "price", &it->price_cents) != 0) {
        *why = "items[].qty / items[].price: expected {\"N\":...}";
        return CM_EINVAL;
    }
    it->sku = cm_xstrdup(sku);
    return 0;
}

static int items_from_av(const cJSON *item, struct ord_order *o, const char **why)
{
    const cJSON *l =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(item, "items"), "L");
    if (!cJSON_IsArray(l)) {
        *why = "items: expected {\"L\":[...]}";
        return CM_EINVAL;
    }
    int n = cJSON_GetArraySize(l);
    o->items = cm_xcalloc(n > 0 ? (size_t)n : 1, sizeof(*o->items));
    const cJSON *v;
    cJSON_ArrayForEach(v, l)
    {
        int rc = item_from_av(v, &o->items[o->n_items], why);
        if (rc)
            return rc;
        o->n_items++;
    }
    return 0;
}

static char *dup_or_null(const char *s)
{
    return s ? cm_xstrdup(s) : NULL;
}

int ord_order_from_item(const cJSON *item, struct ord_order *o, const char **why)
{
    int rc = CM_EINVAL;
    const char *id = ord_av_get_s(item, "id");
    const char *status = ord_av_get_s(item, "status");
    const char *name = ord_av_get_s(item, "customerName");
    const char *created = ord_av_get_s(item, "createdAt");
    const char *updated = ord_av_get_s(item, "updatedAt");
    if (!id || strlen(id) > ORD_ID_LEN) {
        *why = "id: expected {\"S\":\"<uuid>\"}";
        goto out;
    }
    if (!status || ord_status_parse(status, &o->status) != 0) {
        *why = "status: expected PENDING, CONFIRMED or FAILED";
        goto out;
    }
    if (!name) {
        *why = "customerName: expected {\"S\":...}";
        goto out;
    }
    if (money_from_av(item, "total", &o->total_cents) != 0) {
        *why = "total: expected {\"N\":...} with at most 2 decimals";
        goto out;
    }
    cm_strlcpy(o->id, id, sizeof(o->id));
    cm_strlcpy(o->created_at, created ? created : "", sizeof(o->created_at));
    cm_strlcpy(o->updated_at, updated ? updated : "", sizeof(o->updated_at));
    o->customer_name = cm_xstrdup(name);
    o->correlation_id = dup_or_null(ord_av_get_s(item, "correlationId"));
    o->reason = dup_or_null(ord_av_get_s(item, "reason"));
    rc = items_from_av(item, o, why);
out:
    if (rc)
        ord_order_deinit(o);
    return rc;
}

enum ord_status ord_order_decide(const struct ord_order *o, int64_t max_total_cents,
                                 const char **reason)
{
    *reason = NULL;
    if (o->total_cents > max_total_cents) {
        *reason = "total over the limit";
        return ORD_FAILED;
    }
    for (size_t i = 0; i < o->n_items; i++) {
        if (strncmp(o->items[i].sku, "FAIL-", 5) == 0) {
            *reason = "sku rejected (FAIL-*)";
            return ORD_FAILED;
        }
    }
    return ORD_CONFIRMED;
}

int64_t ord_env_i64(const char *name, int64_t fallback, int64_t min, int64_t max)
{
    const char *v = getenv(name);
    char *end = NULL;
    if (!v || !*v)
        return fallback;
    long long n = strtoll(v, &end, 10);
    if (*end || n < min || n > max)
        return fallback;
    return (int64_t)n;
}
