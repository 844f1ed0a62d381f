/* Unit tests for stack file parsing (sd_stack.c): the good path and errors
 * that name file:line:col. */
#include "harness.h"
#include "sd_stack.h"

#include "cm/clock.h"

#include <stdlib.h>
#include <string.h>

static const char good[] = "stack:\n"
                           "  account_concurrency: 50\n"
                           "  idle_reclaim: 30s\n"
                           "functions:\n"
                           "  hello:\n"
                           "    bootstrap: bin/bootstrap\n"
                           "    memory_mb: 256\n"
                           "    timeout: 10s\n"
                           "    reserved_concurrency: 5\n"
                           "    environment:\n"
                           "      A: one\n"
                           "      B: \"2\"\n"
                           "  abs:\n"
                           "    bootstrap: ${SD_STACK_TEST_DIR:-/opt}/fn\n"
                           "http_api:\n"
                           "  routes:\n"
                           "    \"POST /orders\": hello\n"
                           "    \"GET /orders/{id}\": abs\n"
                           "    $default: hello\n";

static void test_good(void)
{
    struct sd_stack *st = NULL;
    char err[512] = "";
    int rc = sd_stack_parse(good, strlen(good), "t.yaml", "/base", &st, err, sizeof(err));
    CHECK_MSG(rc == 0, "parse failed: %s", err);
    if (rc != 0)
        return;
    CHECK_INT(st->account_concurrency, 50);
    CHECK_INT(st->idle_reclaim_ns, 30 * CM_NS_PER_S);
    CHECK_STR(st->region, "us-east-1");
    CHECK_INT(st->n_fns, 2);
    const struct sd_stack_fn *h = sd_stack_find_fn(st, "hello");
    CHECK(h != NULL);
    if (h) {
        CHECK_STR(h->bootstrap, "/base/bin/bootstrap");
        CHECK_INT(h->memory_mb, 256);
        CHECK_INT(h->timeout_ns, 10 * CM_NS_PER_S);
        CHECK_INT(h->reserved_concurrency, 5);
        CHECK_INT(h->n_env, 2);
        CHECK_STR(h->env_keys[1], "B");
        CHECK_STR(h->env_vals[1], "2");
    }
    const struct sd_stack_fn *a = sd_stack_find_fn(st, "abs");
    CHECK(a && strcmp(a->bootstrap, "/opt/fn") == 0);
    CHECK(a && a->memory_mb == 128 && a->timeout_ns == 3 * CM_NS_PER_S &&
          a->reserved_concurrency == -1);
    CHECK_INT(st->n_routes, 3);
    CHECK_STR(st->routes[1].route_key, "GET /orders/{id}");
    CHECK_STR(st->routes[2].route_key, "$default");
    sd_stack_free(st);
}

/* Expects a failure whose message starts with prefix. */
static void expect_err(const char *yaml, const char *prefix, const char *needle)
{
    struct sd_stack *st = NULL;
    char err[512] = "";
    int rc = sd_stack_parse(yaml, strlen(yaml), "s.yaml", "/b", &st, err, sizeof(err));
    CHECK_MSG(rc < 0, "expected an error for:\n%s", yaml);
    CHECK_MSG(strncmp(err, prefix, strlen(prefix)) == 0, "error '%s' should start with '%s'", err,
              prefix);
    CHECK_MSG(!needle || strstr(err, needle), "error '%s' should mention '%s'", err, needle);
    sd_stack_free(st);
}

static void test_errors(void)
{
    expect_err("functions:\n  f:\n    memory_mb: 256\n", "s.yaml:3:", "bootstrap");
    expect_err("functions:\n  f:\n    bootstrap: /x\n    memory_mb: 64\n",
               "s.yaml:4:", "memory_mb");
    expect_err("functions:\n  f:\n    bootstrap: /x\n    colour: red\n", "s.yaml:4:", "colour");
    expect_err("functions:\n  f:\n    bootstrap: /x\nhttp_api:\n  routes:\n    \"FETCH /a\": f\n",
               "s.yaml:6:5:", "method");
    expect_err("functions:\n  f:\n    bootstrap: /x\nhttp_api:\n  routes:\n    \"GET /a\": g\n",
               "s.yaml:6:", "no such function");
    expect_err("functions:\n  f:\n    bootstrap: /x\nhttp_api:\n  routes:\n"
               "    \"GET /a/{p+}/b\": f\n",
               "s.yaml:6:5:", "greedy");
    expect_err("functions:\n  \"bad name\":\n    bootstrap: /x\n", "s.yaml:2:", "names");
    expect_err("functions:\n  f:\n    bootstrap: ${SD_STACK_TEST_SURELY_UNSET}/x\n",
               "s.yaml:3:", "not set");
    expect_err("unknown_section: {}\n", "s.yaml:1:", "unknown_section");
    expect_err("functions: [1, 2]\n", "s.yaml:1:", "functions");
    expect_err("functions:\n  f: {bootstrap: /x\n", "s.yaml:", NULL); /* YAML syntax */
    expect_err("functions:\n  f:\n    bootstrap: /x\n    environment: [a]\n",
               "s.yaml:4:", "environment");
}

static void test_load_missing(void)
{
    struct sd_stack *st = NULL;
    char err[512];
    CHECK(sd_stack_load("/nonexistent/stack.yaml", &st, err, sizeof(err)) < 0);
    CHECK(strstr(err, "/nonexistent/stack.yaml") != NULL);
}

int main(void)
{
    unsetenv("SD_STACK_TEST_DIR");
    test_good();
    test_errors();
    test_load_missing();
    return TEST_REPORT();
}
