/* order_validate_fuzz.c: the POST /orders body validator and the
 * OrderCreated parser on arbitrary bytes. Invariants: no crash or leak; a
 * rejected body has a message and a field path that names a real key; an
 * accepted order respects every bound, its total is the exact sum, and it
 * survives the DynamoDB item round trip and renders as valid JSON. */
#include "orders.h"

#include "cm/buf.h"
#include "cm/json.h"

#include <stdlib.h>
#include <string.h>

static void check_accepted(const struct ord_order *o)
{
    int64_t total = 0;
    if (!o->customer_name || !o->customer_name[0] || o->n_items < 1 || o->n_items > ORD_ITEMS_MAX)
        abort();
    for (size_t i = 0; i < o->n_items; i++) {
        const struct ord_item *it = &o->items[i];
        if (!it->sku[0] || it->qty < 1 || it->qty > ORD_QTY_MAX || it->price_cents < 0 ||
            it->price_cents > ORD_PRICE_MAX_CENTS)
            abort();
        total += it->qty * it->price_cents;
    }
    if (total != o->total_cents)
        abort();
    struct ord_order back;
    const char *why = NULL;
    cJSON *item = ord_order_to_item(o);
    ord_order_init(&back);
    if (ord_order_from_item(item, &back, &why) != 0 || back.total_cents != o->total_cents ||
        back.n_items != o->n_items || strcmp(back.customer_name, o->customer_name) != 0)
        abort();
    for (size_t i = 0; i < o->n_items; i++)
        if (back.items[i].price_cents != o->items[i].price_cents ||
            strcmp(back.items[i].sku, o->items[i].sku) != 0)
            abort();
    struct cm_buf b;
    cm_buf_init(&b, 0);
    if (ord_order_to_json(&back, &b) != 0)
        abort();
    cJSON *j = cm_json_parse(b.data, b.len);
    if (!j)
        abort();
    cJSON_Delete(j);
    cm_buf_deinit(&b);
    ord_order_deinit(&back);
    cJSON_Delete(item);
}

static void check_rejected(const struct ord_invalid *why)
{
    static const char *const fields[] = {"", "customerName", "items"};
    if (!why->message[0])
        abort();
    int known = strncmp(why->field, "items[", 6) == 0;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        known |= strcmp(why->field, fields[i]) == 0;
    if (!known)
        abort();
    struct cm_buf b;
    cm_buf_init(&b, 0);
    if (ord_invalid_json(why, &b) != 0)
        abort();
    cJSON *j = cm_json_parse(b.data, b.len);
    if (!j)
        abort();
    cJSON_Delete(j);
    cm_buf_deinit(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ord_order o;
    struct ord_invalid why;
    ord_order_init(&o);
    if (ord_order_parse_request((const char *)data, size, &o, &why) == 0)
        check_accepted(&o);
    else
        check_rejected(&why);
    ord_order_deinit(&o);

    struct ord_created m;
    const char *mwhy = NULL;
    if (ord_created_parse((const char *)data, size, &m, &mwhy) == 0) {
        if (!ord_id_valid(m.order_id, strlen(m.order_id)))
            abort();
    } else if (!mwhy) {
        abort();
    }
    ord_created_deinit(&m);
    return 0;
}
