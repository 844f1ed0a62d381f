/* message.c: the queue messages (OrderCreated in, OrderUpdated pushed to
 * WebSocket clients) and the idempotency keys and hashes, which follow the
 * Powertools idempotency utility (aws-facts.md 1.5): record id
 * "<function>#<md5 of the JSON-serialised key>", payload validation by md5. */
#include "orders.h"

#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ord_created_build(const struct ord_order *o, struct cm_buf *out)
{
    char m[ORD_MONEY_MAX];
    const char *name = o->customer_name ? o->customer_name : "";
    int rc = cm_buf_puts(out, "{\"type\":\"OrderCreated\",\"orderId\":");
    rc = rc ? rc : cm_json_append_string(out, o->id, strlen(o->id));
    rc = rc ? rc : cm_buf_puts(out, ",\"customerName\":");
    rc = rc ? rc : cm_json_append_string(out, name, strlen(name));
    rc = rc ? rc : cm_buf_printf(out, ",\"total\":%s}", ord_money_format(o->total_cents, m));
    return rc;
}

void ord_created_deinit(struct ord_created *m)
{
    if (!m)
        return;
    free(m->customer_name);
    m->customer_name = NULL;
}

int ord_created_parse(const char *p, size_t n, struct ord_created *m, const char **why)
{
    memset(m, 0, sizeof(*m));
    m->total_cents = -1;
    cJSON *root = cm_json_parse(p, n);
    int rc = CM_EINVAL;
    if (!root) {
        *why = "body is not JSON";
        rc = CM_EPARSE;
        goto out;
    }
    if (!cJSON_IsObject(root)) {
        *why = "body is not a JSON object";
        goto out;
    }
    const char *type = cm_json_str(root, "type", NULL);
    if (cJSON_GetObjectItemCaseSensitive(root, "type") && (!type || strcmp(type, "OrderCreated"))) {
        *why = "type is not OrderCreated";
        goto out;
    }
    const char *id = cm_json_str(root, "orderId", NULL);
    if (!id) {
        *why = "orderId is missing";
        goto out;
    }
    if (!ord_id_valid(id, strlen(id))) {
        *why = "orderId is not a UUID";
        goto out;
    }
    cm_strlcpy(m->order_id, id, sizeof(m->order_id));
    const char *name = cm_json_str(root, "customerName", NULL);
    m->customer_name = name ? cm_xstrdup(name) : NULL;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "total");
    if (cJSON_IsNumber(t) && t->valuedouble >= 0 && t->valuedouble < 9e13)
        m->total_cents = (int64_t)(t->valuedouble * 100 + 0.5);
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

int ord_updated_build(const struct ord_order *o, const char *correlation_id, struct cm_buf *out)
{
    const char *name = o->customer_name ? o->customer_name : "";
    int rc = cm_buf_puts(out, "{\"type\":\"OrderUpdated\",\"orderId\":");
    rc = rc ? rc : cm_json_append_string(out, o->id, strlen(o->id));
    rc = rc ? rc
            : cm_buf_printf(out,
                            ",\"status\":\"%s\",\"correlationId\":", ord_status_name(o->status));
    if (!rc && correlation_id && *correlation_id)
        rc = cm_json_append_string(out, correlation_id, strlen(correlation_id));
    else if (!rc)
        rc = cm_buf_puts(out, "null");
    rc = rc ? rc : cm_buf_puts(out, ",\"customerName\":");
    rc = rc ? rc : cm_json_append_string(out, name, strlen(name));
    if (!rc && o->reason) {
        rc = cm_buf_puts(out, ",\"reason\":");
        rc = rc ? rc : cm_json_append_string(out, o->reason, strlen(o->reason));
    }
    return rc ? rc : cm_buf_putc(out, '}');
}

void ord_md5_hex(const void *p, size_t n, char out[ORD_MD5_HEX])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dn = 0;
    if (EVP_Digest(p, n, d, &dn, EVP_md5(), NULL) != 1 || dn != 16)
        abort(); /* MD5 is always available in libcrypto's default provider */
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[32] = '\0';
}

int ord_idem_record_id(const char *function_name, const char *key, size_t key_len, char *out,
                       size_t cap)
{
    struct cm_buf b;
    char h[ORD_MD5_HEX];
    cm_buf_init(&b, 4 * ORD_IDEM_KEY_MAX + 16);
    int rc = cm_json_append_string(&b, key, key_len);
    if (!rc) {
        ord_md5_hex(b.data, b.len, h);
        int n = snprintf(out, cap, "%s#%s", function_name, h);
        rc = n < 0 || (size_t)n >= cap ? CM_ETOOBIG : 0;
    }
    cm_buf_deinit(&b);
    return rc;
}

void ord_idem_validation(const struct ord_order *o, char out[ORD_MD5_HEX])
{
    struct cm_buf b;
    char m[ORD_MONEY_MAX];
    const char *name = o->customer_name ? o->customer_name : "";
    cm_buf_init(&b, 0);
    int rc = cm_buf_puts(&b, "{\"customerName\":");
    rc = rc ? rc : cm_json_append_string(&b, name, strlen(name));
    rc = rc ? rc : cm_buf_puts(&b, ",\"items\":[");
    for (size_t i = 0; !rc && i < o->n_items; i++) {
        rc = cm_buf_puts(&b, i ? ",{\"sku\":" : "{\"sku\":");
        rc = rc ? rc : cm_json_append_string(&b, o->items[i].sku, strlen(o->items[i].sku));
        rc = rc ? rc
                : cm_buf_printf(&b, ",\"qty\":%lld,\"price\":%s}", (long long)o->items[i].qty,
                                ord_money_format(o->items[i].price_cents, m));
    }
    rc = rc ? rc : cm_buf_puts(&b, "]}");
    /* A bounded order (100 items of 64-character skus) is far below the
     * default buffer maximum. */
    ord_md5_hex(b.data ? b.data : "", rc ? 0 : b.len, out);
    cm_buf_deinit(&b);
}
