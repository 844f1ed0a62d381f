/* settings_test.c: the scenario's `collectors:` section: defaults, both
 * queue forms, the config it yields, and errors that name file:line:col and
 * the key. */
#include "../harness.h"
#include "lgc.h"

#include "cm/yaml.h"

#include <string.h>

static int parse(const char *text, struct lgc_settings *s, struct cm_opt_err *e)
{
    struct cm_ydoc *doc = NULL;
    char err[256];
    if (cm_yaml_parse(text, strlen(text), "s.yaml", &doc, err, sizeof err))
        return -100;
    int rc = lgc_settings_parse(doc, cm_yaml_get(doc->root, "collectors"), "collectors", s, e);
    cm_yaml_free(doc); /* the settings own their strings */
    return rc;
}

int main(void)
{
    struct lgc_settings s;
    struct cm_opt_err e;
    CHECK_INT(parse("collectors:\n"
                    "  interval: 250ms\n"
                    "  queues: [order-events, {name: orders, dlq: orders-dlq}]\n"
                    "  functions: [create-order, process-orders]\n"
                    "  logs: false\n",
                    &s, &e),
              0);
    CHECK_INT(s.interval_ns, 250000000);
    CHECK_INT(s.n_queues, 2);
    CHECK_STR(s.queues[0].name, "order-events");
    CHECK(s.queues[0].dlq_name == NULL);
    CHECK_STR(s.queues[1].dlq_name, "orders-dlq");
    CHECK_INT(s.n_functions, 2);
    CHECK_STR(s.functions[1], "process-orders");
    CHECK_INT(s.cloudwatch, 1);
    CHECK_INT(s.join, 1);
    struct lgc_config cfg;
    lgc_settings_config(&s, &cfg);
    CHECK_INT(cfg.n_queues, 2);
    CHECK_INT(cfg.no_logs, 1);
    CHECK_INT(cfg.no_cloudwatch, 0);
    CHECK_STR(cfg.functions[0], "create-order");
    lgc_settings_free(&s);

    CHECK_INT(parse("other: 1\n", &s, &e), 0); /* no section: defaults */
    CHECK_INT(s.n_queues, 0);
    CHECK_INT(s.interval_ns, 0);
    lgc_settings_free(&s);

    CHECK_INT(parse("collectors:\n  intervall: 1s\n", &s, &e), CM_EINVAL);
    CHECK_MSG(strstr(e.msg, "s.yaml:2:3") && strstr(e.msg, "interval"), "%s", e.msg);
    CHECK_INT(parse("collectors:\n  queues:\n    - {name: a, dql: b}\n", &s, &e), CM_EINVAL);
    CHECK_MSG(strstr(e.msg, "s.yaml:3:") && strstr(e.msg, "collectors.queues[0]") &&
                  strstr(e.msg, "dql"),
              "%s", e.msg);
    CHECK_INT(parse("collectors:\n  functions: [a, [b]]\n", &s, &e), CM_EINVAL);
    CHECK_MSG(strstr(e.msg, "collectors.functions[1]") != NULL, "%s", e.msg);
    CHECK_INT(parse("collectors:\n  queues: {a: 1}\n", &s, &e), CM_EINVAL);
    CHECK_MSG(strstr(e.msg, "collectors.queues") != NULL, "%s", e.msg);
    CHECK_INT(parse("collectors:\n  queues: [{dlq: x}]\n", &s, &e), CM_EINVAL);
    CHECK_MSG(strstr(e.msg, "expected a name") != NULL, "%s", e.msg);
    lgc_settings_free(NULL);
    return TEST_REPORT();
}
