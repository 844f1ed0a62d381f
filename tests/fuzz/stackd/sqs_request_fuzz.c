/* sqs_request_fuzz.c: whole SQS requests. The first byte picks the protocol
 * (bit 0: JSON, else awsQuery with the Action taken from the body) and the
 * operation (bits 1-4; 15 feeds the rest to the attribute decoder instead),
 * bit 5 asks for a long-poll token. One in-memory store lives across inputs
 * (queues "q" with a redrive policy to "dlq") and is rebuilt every 2000
 * inputs so it stays small. Every answer must be a well-formed body of its
 * protocol with an AWS status, and every deferred poll must be answered. */
#include "sd_sqs.h"
#include "sd_sqs_int.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct sd_sqs *s;
static int inputs, pending;
static int64_t now_ms = 1700000000000LL;
static const char *ops[] = {"CreateQueue",
                            "GetQueueUrl",
                            "ListQueues",
                            "DeleteQueue",
                            "GetQueueAttributes",
                            "SetQueueAttributes",
                            "PurgeQueue",
                            "SendMessage",
                            "SendMessageBatch",
                            "ReceiveMessage",
                            "DeleteMessage",
                            "DeleteMessageBatch",
                            "ChangeMessageVisibility",
                            "ChangeMessageVisibilityBatch",
                            "Nope"};

static void on_reply(void *ctx, void *token, const struct sd_resp *resp)
{
    pending--;
    if (resp && resp->status != 200)
        abort();
}

static void rebuild(void)
{
    char err[256];
    struct sd_sqs_io io = {on_reply, NULL, NULL};
    struct sd_sqs_queue_opts o;
    sd_sqs_free(s);
    if (pending != 0)
        abort();
    if (sd_sqs_new(NULL, &io, &s, err, sizeof err))
        abort();
    sd_sqs_queue_opts_init(&o);
    sd_sqs_ensure_queue(s, "dlq", &o, now_ms, err, sizeof err);
    o.dlq_name = "dlq";
    o.max_receive_count = 2;
    sd_sqs_ensure_queue(s, "q", &o, now_ms, err, sizeof err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s || ++inputs % 2000 == 0)
        rebuild();
    if (size == 0)
        return 0;
    int json = data[0] & 1, op = (data[0] >> 1) & 15, tok = (data[0] >> 5) & 1;
    if (op == 15) {
        size_t pos = 0;
        struct sd_sqs_attr a;
        for (int i = 0; i < 100 && sd_sqs_attr_next(data + 1, size - 1, &pos, &a) == 1; i++)
            if (a.name_len + a.type_len + a.value_len > size)
                abort();
        return 0;
    }
    char target[96];
    snprintf(target, sizeof target, "AmazonSQS.%s", ops[op]);
    struct sd_req r;
    memset(&r, 0, sizeof r);
    r.method = "POST";
    r.path = (data[0] & 0x40) ? "/000000000000/q" : "/";
    r.query = "";
    if (json) {
        r.headers[0] = (struct sd_header){"X-Amz-Target", 12, target, strlen(target)};
        r.n_headers = 1;
    }
    r.body = (const char *)data + 1;
    r.body_len = size - 1;
    now_ms += 700;
    r.recv_wall_ns = now_ms * 1000000;
    struct sd_resp resp;
    sd_resp_init(&resp);
    int rc = sd_sqs_handle(s, &r, &resp, tok ? &resp : NULL);
    if (rc == SD_SQS_DEFERRED) {
        pending++;
    } else {
        int st = resp.status;
        if (st != 200 && st != 400 && st != 403 && st != 404)
            abort();
        if (json) {
            cJSON *j = cJSON_ParseWithLength(resp.body.data, resp.body.len);
            if (!j)
                abort();
            cJSON_Delete(j);
        } else if (!resp.body.data || strncmp(resp.body.data, "<?xml", 5) != 0) {
            abort();
        }
    }
    sd_resp_deinit(&resp);
    /* 21 s later every poll has passed its deadline */
    sd_sqs_tick(s, now_ms + 21000);
    if (pending != 0)
        abort();
    return 0;
}
