/* sqs_fuzz.c: the SQS batch event parser, the per-record helper and the
 * partial batch response. Invariants: no crash or leak; a parsed batch has a
 * non-empty messageId per record; the response is valid JSON listing exactly
 * the records the callback failed (all after the first failure for FIFO). */
#include "rt.h"

#include "cm/json.h"

#include <stdlib.h>
#include <string.h>

/* Fails every record whose body length is odd. */
static int odd_fails(const struct rt_invocation *inv, const struct rt_sqs_record *r, void *arg)
{
    (void)rt_sqs_message_attribute(r, "correlation_id");
    (void)rt_sqs_attribute(r, "AWSTraceHeader");
    return (int)(r->body_len & 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rt_sqs_event ev;
    const char *why = NULL;
    int rc = rt_sqs_event_parse((const char *)data, size, &ev, &why);
    if (rc != 0) {
        if (!why)
            abort();
        rt_sqs_event_deinit(&ev);
        return 0;
    }
    size_t want = 0;
    for (size_t i = 0; i < ev.n_records; i++) {
        if (!ev.records[i].message_id[0] || strlen(ev.records[i].body) != ev.records[i].body_len)
            abort();
        want += (ev.fifo && want) ? 1 : (ev.records[i].body_len & 1);
    }
    struct cm_buf out;
    cm_buf_init(&out, 0);
    int failed = rt_sqs_process(NULL, &ev, odd_fails, NULL, &out);
    if (failed < 0 || (size_t)failed != want)
        abort();
    cJSON *j = cm_json_parse(out.data, out.len);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "batchItemFailures");
    if (!cJSON_IsArray(list) || (size_t)cJSON_GetArraySize(list) != want)
        abort();
    cJSON_Delete(j);
    cm_buf_deinit(&out);
    rt_sqs_event_deinit(&ev);
    return 0;
}
