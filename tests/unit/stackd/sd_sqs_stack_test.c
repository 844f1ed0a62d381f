/* sd_sqs_stack_test.c: the queues: section of the stack file (sd_stack) and
 * its errors, which name file:line:col and the key. */
#include "harness.h"

#include "sd_stack.h"

#include <string.h>

static struct sd_stack *parse(const char *text, char *err, size_t n)
{
    struct sd_stack *st = NULL;
    err[0] = '\0';
    if (sd_stack_parse(text, strlen(text), "s.yaml", "/tmp", &st, err, n) < 0)
        return NULL;
    return st;
}

int main(void)
{
    char err[512];
    struct sd_stack *st =
        parse("queues:\n"
              "  dlq:\n"
              "  orders:\n"
              "    visibility_timeout: 2m\n"
              "    message_retention: 1d\n"
              "    delay: 5s\n"
              "    receive_wait: 20s\n"
              "    max_message_size: 256KiB\n"
              "    redrive_policy: {dead_letter_queue: dlq, max_receive_count: 3}\n",
              err, sizeof err);
    CHECK_MSG(st != NULL, "%s", err);
    if (st) {
        CHECK_INT(st->n_queues, 2);
        const struct sd_stack_queue *d = &st->queues[0], *q = &st->queues[1];
        CHECK_STR(d->name, "dlq");
        CHECK_INT(d->visibility_timeout_s, 30);
        CHECK_INT(d->retention_s, 345600);
        CHECK_INT(d->max_message_bytes, 1048576);
        CHECK(d->dlq == NULL);
        CHECK_STR(q->name, "orders");
        CHECK_INT(q->visibility_timeout_s, 120);
        CHECK_INT(q->retention_s, 86400);
        CHECK_INT(q->delay_s, 5);
        CHECK_INT(q->receive_wait_s, 20);
        CHECK_INT(q->max_message_bytes, 262144);
        CHECK_STR(q->dlq, "dlq");
        CHECK_INT(q->max_receive_count, 3);
        sd_stack_free(st);
    }
    static const struct {
        const char *yaml, *want;
    } bad[] = {
        {"queues:\n  a.fifo:\n", "s.yaml:2:3: queues.a.fifo:"},
        {"queues:\n  q:\n    visibility_timeout: 1500ms\n",
         "s.yaml:3:25: queues.q.visibility_timeout: SQS takes whole seconds"},
        {"queues:\n  q:\n    delay: 16m\n", "s.yaml:3:12: queues.q.delay"},
        {"queues:\n  q:\n    redrive_policy: {dead_letter_queue: q, max_receive_count: 2}\n",
         "dead_letter_queue must be another queue"},
        {"queues:\n  q:\n    redrive_policy: {dead_letter_queue: x, max_receive_count: 2}\n",
         "s.yaml:3:41: queues.q.redrive_policy"},
        {"queues:\n  d:\n  q:\n    redrive_policy: {dead_letter_queue: d}\n", "max_receive_count"},
        {"queues:\n  q:\n    colour: blue\n", "colour"},
        {"queues: [a]\n", "s.yaml:1:9: queues: expected a map"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        st = parse(bad[i].yaml, err, sizeof err);
        CHECK_MSG(st == NULL && strstr(err, bad[i].want) != NULL, "case %zu: got '%s', want '%s'",
                  i, err, bad[i].want);
        sd_stack_free(st);
    }
    return TEST_REPORT();
}
