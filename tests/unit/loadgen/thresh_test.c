/* thresh_test.c: threshold grammar, errors and evaluation against stats. */
#include <string.h>

#include "cm/err.h"
#include "cm/hist.h"
#include "harness.h"
#include "stats.h"
#include "thresh.h"

static int parse(const char *s, struct lg_thresh_expr *e, const char **why)
{
    size_t at;
    return lg_thresh_parse(s, strlen(s), e, why, &at);
}

int main(void)
{
    struct lg_thresh_expr e;
    const char *why = NULL;

    CHECK_INT(parse("http.latency.p99 < 300ms", &e, &why), 0);
    CHECK_INT(e.kind, LG_TK_HIST);
    CHECK_INT(e.metric, LG_H_LATENCY);
    CHECK_NEAR(e.pct, 99, 1e-9);
    CHECK_INT(e.op, LG_OP_LT);
    CHECK_NEAR(e.value, 300000, 1e-6);
    CHECK_STR(e.metric_text, "http.latency.p99");

    CHECK_INT(parse("http.errors.rate < 0.1%", &e, &why), 0);
    CHECK_INT(e.kind, LG_TK_CTR);
    CHECK_INT(e.agg, LG_AGG_RATE);
    CHECK_NEAR(e.value, 0.001, 1e-12);

    CHECK_INT(parse("http.rps > 900", &e, &why), 0);
    CHECK_INT(e.kind, LG_TK_RPS);
    CHECK_NEAR(e.value, 900, 1e-9);
    CHECK_INT(parse("http.rps >= 900/s", &e, &why), 0);
    CHECK_NEAR(e.value, 900, 1e-9);

    CHECK_INT(parse("http{name:create}.latency.p999 < 1s", &e, &why), 0);
    CHECK_STR(e.ep_name, "create");
    CHECK_NEAR(e.pct, 99.9, 1e-9);
    CHECK_NEAR(e.value, 1e6, 1e-6);
    CHECK_INT(parse("http.latency.p9999 <= 2s", &e, &why), 0);
    CHECK_NEAR(e.pct, 99.99, 1e-9);
    CHECK_INT(parse("http.latency.p(99.5) < 5", &e, &why), 0); /* bare number: ms */
    CHECK_NEAR(e.pct, 99.5, 1e-9);
    CHECK_NEAR(e.value, 5000, 1e-6);
    CHECK_INT(parse("http.latency.p50 < 1ms", &e, &why), 0);
    CHECK_NEAR(e.pct, 50, 1e-9);
    CHECK_INT(parse("http{status:5xx}.latency.max < 2s", &e, &why), 0);
    CHECK_INT(e.status_class, 5);
    CHECK_INT(parse("generator.lag.p99 < 5ms", &e, &why), 0);
    CHECK_INT(e.kind, LG_TK_LAG);
    CHECK_INT(parse("http.requests.count > 10", &e, &why), 0);
    CHECK_INT(e.agg, LG_AGG_COUNT);
    CHECK_INT(parse("http.requests.rate > 10/s", &e, &why), 0);
    CHECK_INT(e.agg, LG_AGG_PER_S);

    CHECK_INT(parse("http.latency < 3ms", &e, &why), CM_EPARSE);
    CHECK_INT(parse("http.bogus.p99 < 3ms", &e, &why), CM_EPARSE);
    CHECK_INT(parse("db.latency.p99 < 3ms", &e, &why), CM_EPARSE);
    CHECK_INT(parse("http.latency.p99 3ms", &e, &why), CM_EPARSE);
    CHECK_INT(parse("http.latency.p99 <", &e, &why), CM_EPARSE);
    CHECK_INT(parse("http.latency.p99 < fast", &e, &why), CM_EPARSE);
    CHECK_INT(parse("http{name:x.latency.p99 < 1s", &e, &why), CM_EPARSE);
    CHECK_INT(parse("http{zone:x}.latency.p99 < 1s", &e, &why), CM_EPARSE);
    CHECK_INT(parse("http.errors.p99 < 1", &e, &why), CM_EPARSE);
    CHECK_INT(parse("http.latency.p(101) < 1s", &e, &why), CM_EPARSE);
    CHECK_INT(parse("", &e, &why), CM_EPARSE);

    const char *names[] = {"create", "get"};
    CHECK_INT(parse("http{name:get}.latency.p99 < 1s", &e, &why), 0);
    CHECK_INT(lg_thresh_resolve(&e, names, 2), 0);
    CHECK_INT(e.ep, 1);
    CHECK_INT(parse("http{name:nope}.latency.p99 < 1s", &e, &why), 0);
    CHECK_INT(lg_thresh_resolve(&e, names, 2), CM_ENOTFOUND);

    /* evaluation: 100 requests to "create", 1..100 ms, 2 errors */
    struct lg_stats *s = lg_stats_new(2);
    for (int i = 1; i <= 100; i++) {
        lg_stats_hist(s, 0, LG_H_LATENCY, i * 1000);
        lg_stats_count(s, 0, LG_C_REQUESTS, 1);
        lg_stats_count(s, 0, LG_C_COMPLETED, 1);
    }
    lg_stats_count(s, 0, LG_C_ERRORS, 2);
    double v;
    int has;
    CHECK_INT(parse("http.latency.p99 < 100ms", &e, &why), 0);
    CHECK_INT(lg_thresh_eval(&e, s, 10, &v, &has), 1);
    CHECK_NEAR(v, 99000, 99);
    CHECK_INT(parse("http.latency.p99 < 90ms", &e, &why), 0);
    CHECK_INT(lg_thresh_eval(&e, s, 10, &v, &has), 0);
    CHECK_INT(parse("http.errors.rate < 1%", &e, &why), 0);
    CHECK_INT(lg_thresh_eval(&e, s, 10, &v, &has), 0);
    CHECK_NEAR(v, 0.02, 1e-12);
    CHECK_INT(parse("http.rps > 9.9", &e, &why), 0);
    CHECK_INT(lg_thresh_eval(&e, s, 10, &v, &has), 1);
    CHECK_NEAR(v, 10, 1e-9);
    /* a metric without samples fails */
    CHECK_INT(parse("http{name:get}.latency.p99 < 1h", &e, &why), 0);
    lg_thresh_resolve(&e, names, 2);
    CHECK_INT(lg_thresh_eval(&e, s, 10, &v, &has), 0);
    CHECK_INT(has, 0);
    CHECK_INT(parse("http{name:get}.errors.rate < 100%", &e, &why), 0);
    lg_thresh_resolve(&e, names, 2);
    CHECK_INT(lg_thresh_eval(&e, s, 10, &v, &has), 0);
    lg_stats_free(s);
    return TEST_REPORT();
}
