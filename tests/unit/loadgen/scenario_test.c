/* scenario_test.c: loading valid scenarios, and broken ones: every error
 * names file:line:col and the key. */
#include <stdlib.h>
#include <string.h>

#include "cm/err.h"
#include "harness.h"
#include "scenario.h"

static const char good[] = "name: shop\n"
                           "target: http://127.0.0.1:8080\n"
                           "warmup: 2s\n"
                           "http: {connections: 8, version: '2'}\n"
                           "phases:\n"
                           "  - {duration: 10s, rate: 100/s}\n"
                           "  - {duration: 5s, rate: 100/s, ramp_to: 12k/m, arrival: poisson}\n"
                           "requests:\n"
                           "  - name: create\n"
                           "    method: post\n"
                           "    path: /orders\n"
                           "    body: {sku: \"{{uuid}}\", qty: \"{{rand_int 1 5}}\", note: x}\n"
                           "    expect: [201, 2xx]\n"
                           "    capture: {id: $.id, loc: 'header:Location'}\n"
                           "  - name: get\n"
                           "    path: /orders/{{id}}\n"
                           "    weight: 3\n"
                           "thresholds:\n"
                           "  - http.latency.p99 < 300ms\n"
                           "  - threshold: http{name:get}.errors.rate < 1%\n"
                           "    abort_on_fail: true\n"
                           "    delay: 10s\n";

static int parse(const char *text, struct lg_scenario **s, char *err, size_t n)
{
    err[0] = 0;
    return lg_scenario_parse(text, strlen(text), "t.yaml", s, err, n);
}

/* The message must start with "t.yaml:LINE:COL: " and contain key. */
static void bad(const char *text, int line, int col, const char *key)
{
    struct lg_scenario *s = NULL;
    char err[1024], want[64];
    int rc = parse(text, &s, err, sizeof(err));
    CHECK_MSG(rc != 0 && s == NULL, "accepted: %s", text);
    snprintf(want, sizeof(want), "t.yaml:%d:%d: ", line, col);
    CHECK_MSG(strncmp(err, want, strlen(want)) == 0, "want %s got \"%s\"", want, err);
    CHECK_MSG(strstr(err, key) != NULL, "want key %s in \"%s\"", key, err);
}

#define PH "phases: [{duration: 1s, rate: 1/s}]\n"
#define RQ "requests: [{name: a, path: /}]\n"

static const char nested_yaml[] = "phases:\n"
                                  "  - {duration: 1s, rate: 5/s}\n"
                                  "  - {duration: 2s, rate: 10/s}\n"
                                  "  - {duration: 2s, rate: 10/s}\n"
                                  "requests:\n"
                                  "  - {name: a, path: /a}\n"
                                  "  - {name: b, path: /b, headers: {X-K: v}}\n"
                                  "thresholds: ['http.rps > 1']\n";

/* Loads nested_yaml with one --set; returns the scenario or NULL (err set). */
static struct lg_scenario *load_set(const char *set, char *err, size_t sz)
{
    struct lg_scenario *s = NULL;
    FILE *f = fopen("/tmp/lg_scenario_nested.yaml", "w");
    if (f) {
        fputs(nested_yaml, f);
        fclose(f);
    }
    const char *sets[] = {set};
    err[0] = 0;
    lg_scenario_load("/tmp/lg_scenario_nested.yaml", sets, 1, &s, err, sz);
    remove("/tmp/lg_scenario_nested.yaml");
    return s;
}

/* --set reaches every key, nested ones too, with errors naming the flag. */
static void test_nested_sets(void)
{
    char err[512];
    struct lg_scenario *s = load_set("phases[1].rate=500/s", err, sizeof(err));
    CHECK_MSG(s != NULL, "%s", err);
    if (s) {
        CHECK_NEAR(s->phases[1].rate_per_s, 500, 1e-9);
        CHECK_NEAR(s->phases[0].rate_per_s, 5, 1e-9);
        lg_scenario_free(s);
    }
    s = load_set("http.timeout=2s", err, sizeof(err));
    CHECK(s && s->http.timeout_ns == 2000000000LL && s->http.connections == 64);
    lg_scenario_free(s);
    s = load_set("requests[0].weight=3", err, sizeof(err));
    CHECK(s && s->reqs[0].weight == 3 && s->reqs[1].weight == 1);
    lg_scenario_free(s);
    s = load_set("requests[1].headers.X-K=w", err, sizeof(err));
    CHECK(s && s->reqs[1].n_headers == 1 && !strcmp(s->reqs[1].headers[0].value->text, "w"));
    lg_scenario_free(s);
    s = load_set("thresholds[0]=http.rps > 5", err, sizeof(err));
    CHECK(s && s->n_th == 1 && !strcmp(s->th[0].text, "http.rps > 5"));
    lg_scenario_free(s);
    s = load_set("timer_slack=1ms", err, sizeof(err));
    CHECK(s && s->timer_slack_ns == 1000000);
    lg_scenario_free(s);
    s = load_set("correlation.xray=true", err, sizeof(err));
    CHECK(s && s->corr.xray == 1 && s->corr.traceparent == 1);
    lg_scenario_free(s);

    static const struct {
        const char *set, *want;
    } bad[] = {
        {"phases[7].rate=5/s", "--set phases[7].rate: no phase 7 (the scenario has 3)"},
        {"requests[2].weight=1", "--set requests[2].weight: no request 2 (the scenario has 2)"},
        {"phases[1].rate=fast",
         "--set phases[1].rate: expected a rate like 200/s, 12k/m or 100/250ms (got 'fast')"},
        {"http.timeout=2", "--set http.timeout: each number in a duration needs a unit"},
        {"phases[1].ratee=1/s",
         "--set phases[1].ratee: phases[1]: unknown key 'ratee' (did you mean 'rate'?)"},
        {"phases.rate=1/s", "--set phases.rate: phases is a list (use [N]), not a mapping"},
        {"thresholds[0]=bogus", "--set thresholds[0]: metric must start with http or generator"},
        {"requests[0].path=/x/{{bad", "--set requests[0].path: requests[0]: unclosed {{"},
        {"phases[a]=1", "--set phases[a]: expected [N] at \"[a]\""},
        {"=1", "--set =1: expected key=value"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        s = load_set(bad[i].set, err, sizeof(err));
        CHECK_MSG(s == NULL && strncmp(err, bad[i].want, strlen(bad[i].want)) == 0,
                  "--set %s: got \"%s\"", bad[i].set, err);
        lg_scenario_free(s);
    }
}

int main(void)
{
    struct lg_scenario *s = NULL;
    char err[1024];
    CHECK_INT(parse(good, &s, err, sizeof(err)), 0);
    if (!s) {
        fprintf(stderr, "%s\n", err);
        return TEST_REPORT();
    }
    CHECK_STR(s->name, "shop");
    CHECK_INT(s->n_phases, 3); /* warm-up first */
    CHECK(s->phases[0].warmup);
    CHECK_NEAR(s->phases[0].rate_per_s, 100, 1e-9);
    CHECK_NEAR(s->phases[2].ramp_to_per_s, 200, 1e-9);
    CHECK_INT(s->phases[2].arrival, LG_ARRIVAL_POISSON);
    CHECK_INT(s->http.connections, 8);
    CHECK_INT(s->http.version, LG_HTTP_2);
    CHECK_STR(s->reqs[0].method, "POST");
    CHECK(s->reqs[0].expect[201] && s->reqs[0].expect[250] && !s->reqs[0].expect[404]);
    CHECK(!s->reqs[0].uses_vars && s->reqs[1].uses_vars);
    CHECK_INT(s->n_vars, 2);
    CHECK_INT(s->reqs[0].n_headers, 1); /* Content-Type added for a JSON body */
    CHECK(strstr(s->reqs[0].body_t->text, "\"qty\":{{rand_int 1 5}}") != NULL);
    CHECK(strstr(s->reqs[0].body_t->text, "\"note\":\"x\"") != NULL);
    CHECK_INT(s->n_th, 2);
    CHECK(s->th[1].abort_on_fail);
    CHECK_INT(s->th[1].expr.ep, 1);
    CHECK_INT(lg_scenario_duration_ns(s), 17000000000LL);
    lg_scenario_set_duration(s, 7000000000LL);
    CHECK_INT(s->n_phases, 2);
    CHECK_INT(lg_scenario_duration_ns(s), 7000000000LL);
    lg_scenario_free(s);

    bad(PH RQ "bogus: 1\n", 3, 1, "bogus");
    bad("phases: [{duration: 1s, rate: fast}]\n" RQ, 1, 31, "rate");
    bad("phases: [{rate: 1/s}]\n" RQ, 1, 10, "duration");
    bad("phases: [{duration: 1s}]\n" RQ, 1, 10, "rate");
    bad("phases: []\n" RQ, 1, 9, "phases");
    bad(PH "requests: [{name: a}]\n", 2, 12, "path");
    bad(PH "requests: [{name: a, path: '/x/{{nope}}'}]\n", 2, 28, "unknown template");
    bad(PH "requests: [{name: a, path: '/{{rand_int 3 1}}'}]\n", 2, 28, "rand_int");
    bad(PH "requests:\n  - {name: a, path: /}\n  - {name: a, path: /b}\n", 4, 12, "used twice");
    bad(PH "requests: [{name: a, path: /, method: FETCH}]\n", 2, 39, "method");
    bad(PH "requests: [{name: a, path: /, expect: 700}]\n", 2, 39, "expect");
    bad(PH "requests: [{name: a, path: /, capture: {id: id}}]\n", 2, 45, "capture");
    bad(PH RQ "thresholds: ['http.latency.p99 < soon']\n", 3, 14, "thresholds[0]");
    bad(PH RQ "thresholds: ['http{name:zz}.latency.p99 < 1s']\n", 3, 14, "zz");
    bad(PH RQ "thresholds:\n  - {threshold: 'http.rps > 1', abort: true}\n", 4, 33, "abort");
    bad(PH RQ "http: {version: '3'}\n", 3, 17, "version");
    bad(PH RQ "http: {connections: 0}\n", 3, 21, "connections");
    bad(PH RQ "data: {file: missing.csv}\n", 3, 14, "data.file");
    bad("phases: [{duration: 1s, rate: 1/s}\n", 2, 1, "");
    bad("- just\n- a list\n", 1, 1, "mapping");

    /* --set overrides, with errors naming the flag */
    const char *sets[] = {"http.connections=3", "lag_tolerance=5ms"};
    FILE *f = fopen("/tmp/lg_scenario_test.yaml", "w");
    if (f) {
        fputs(PH RQ, f);
        fclose(f);
    }
    CHECK_INT(lg_scenario_load("/tmp/lg_scenario_test.yaml", sets, 2, &s, err, sizeof(err)), 0);
    if (s) {
        CHECK_INT(s->http.connections, 3);
        CHECK_INT(s->lag_tolerance_ns, 5000000);
        CHECK_STR(s->name, "lg_scenario_test");
        lg_scenario_free(s);
    }
    const char *bad_set[] = {"http.connections=lots"};
    CHECK(lg_scenario_load("/tmp/lg_scenario_test.yaml", bad_set, 1, &s, err, sizeof(err)) != 0);
    CHECK(strstr(err, "--set http.connections") != NULL);
    const char *bad_key[] = {"nope=1"};
    CHECK(lg_scenario_load("/tmp/lg_scenario_test.yaml", bad_key, 1, &s, err, sizeof(err)) != 0);
    CHECK_STR(err, "--set nope: unknown key 'nope' (did you mean 'name'?)");
    remove("/tmp/lg_scenario_test.yaml");
    test_nested_sets();
    CHECK_INT(lg_scenario_load("/tmp/does-not-exist.yaml", NULL, 0, &s, err, sizeof(err)),
              CM_ENOTFOUND);
    remove("/tmp/lg_scenario_test.yaml");

    /* data files: JSON array of objects, CSV with quotes, relative to the scenario */
    f = fopen("/tmp/lg_scenario_data.json", "w");
    if (f) {
        fputs("[{\"user\": \"ann\", \"age\": 31}, {\"user\": \"bo\", \"age\": 7}]", f);
        fclose(f);
    }
    f = fopen("/tmp/lg_scenario_data.csv", "w");
    if (f) {
        fputs("user,note\r\n\"c, d\",\"say \"\"hi\"\"\"\r\n", f);
        fclose(f);
    }
    f = fopen("/tmp/lg_scenario_test.yaml", "w");
    if (f) {
        fputs(PH "data: {file: lg_scenario_data.json, order: random}\n"
                 "requests: [{name: a, path: '/u/{{data.user}}/{{data.age}}'}]\n",
              f);
        fclose(f);
    }
    CHECK_INT(lg_scenario_load("/tmp/lg_scenario_test.yaml", NULL, 0, &s, err, sizeof(err)), 0);
    if (s) {
        CHECK_INT(s->data.n_rows, 2);
        CHECK_INT(s->data.n_cols, 2);
        CHECK_STR(s->data.rows[1][0], "bo");
        CHECK_STR(s->data.rows[0][1], "31");
        CHECK_INT(s->data.order, 1);
        lg_scenario_free(s);
    }
    f = fopen("/tmp/lg_scenario_test.yaml", "w");
    if (f) {
        fputs(PH "data: {file: lg_scenario_data.csv}\n"
                 "requests: [{name: a, path: '/u/{{data.note}}'}]\n",
              f);
        fclose(f);
    }
    CHECK_INT(lg_scenario_load("/tmp/lg_scenario_test.yaml", NULL, 0, &s, err, sizeof(err)), 0);
    if (s) {
        CHECK_INT(s->data.n_rows, 1);
        CHECK_STR(s->data.rows[0][0], "c, d");
        CHECK_STR(s->data.rows[0][1], "say \"hi\"");
        lg_scenario_free(s);
    }
    remove("/tmp/lg_scenario_test.yaml");
    remove("/tmp/lg_scenario_data.json");
    remove("/tmp/lg_scenario_data.csv");
    return TEST_REPORT();
}
