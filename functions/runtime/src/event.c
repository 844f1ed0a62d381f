/* event.c: what the runtime reads from any event before the handler sees it:
 * the correlation id loadgen put on the request (architecture.md, "One
 * correlation ID, end to end"). Event-type specific parsing lives in apigw.c
 * and sqs.c. */
#include "rt.h"

#include "cm/json.h"
#include "cm/mem.h"

#include <string.h>
#include <strings.h>

static int copy_out(const char *s, char *out, size_t cap)
{
    if (!s || !*s)
        return 0;
    cm_strlcpy(out, s, cap);
    return 1;
}

/* headers.x-correlation-id, any case: API Gateway v2 lower-cases names, but
 * WebSocket $connect events and hand-written test events may not. */
static const char *header_corr(const cJSON *headers)
{
    if (!cJSON_IsObject(headers))
        return NULL;
    for (const cJSON *h = headers->child; h; h = h->next)
        if (h->string && cJSON_IsString(h) && strcasecmp(h->string, "x-correlation-id") == 0)
            return h->valuestring;
    return NULL;
}

static const char *sqs_corr(const cJSON *records)
{
    const cJSON *first = cJSON_IsArray(records) ? records->child : NULL;
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(first, "messageAttributes");
    const cJSON *attr = cJSON_GetObjectItemCaseSensitive(attrs, "correlation_id");
    return cm_json_str(attr, "stringValue", NULL);
}

int rt_event_correlation_id(const cJSON *root, char *out, size_t cap)
{
    if (cap)
        out[0] = '\0';
    if (!cJSON_IsObject(root) || cap == 0)
        return 0;
    if (copy_out(header_corr(cJSON_GetObjectItemCaseSensitive(root, "headers")), out, cap))
        return 1;
    if (copy_out(sqs_corr(cJSON_GetObjectItemCaseSensitive(root, "Records")), out, cap))
        return 1;
    /* Direct Invoke payloads (producer, tests) may carry it at the top. */
    if (copy_out(cm_json_str(root, "correlation_id", NULL), out, cap))
        return 1;
    return copy_out(cm_json_str(root, "correlationId", NULL), out, cap);
}
