/* Unit tests for cm_opt: defaults, YAML validation with exact messages
 * (file:line:col: path: reason), nested sections through CM_OPT_NODE, bounds,
 * enums, unknown-key suggestions, flags (cm_opt_set), --help and markdown. */
#include "harness.h"

#include "cm/err.h"
#include "cm/opt.h"
#include "cm/yaml.h"

#include <stdio.h>
#include <stdlib.h>

struct phase {
    int64_t duration_ns;
    double rate_per_s;
    char *name;
};

static const struct cm_opt phase_opts[] = {
    CM_OPT_DURATION(struct phase, duration_ns, "duration", "30s", 1e6, 3.6e12,
                    "How long the phase runs."),
    CM_OPT_RATE(struct phase, rate_per_s, "rate", NULL, 0, 1e6, "Requests per second."),
    CM_OPT_STRING(struct phase, name, "name", NULL, "A label | for reports."),
    CM_OPT_END,
};

struct scen {
    int verbose;
    int64_t workers;
    double factor;
    char *target;
    int arrival;
    int64_t timeout_ns;
    double rate_per_s;
    uint64_t body_bytes;
    uint64_t requests;
    double error_budget;
    const struct cm_ynode *phases;
    const struct cm_ynode *extra;
};

static struct cm_opt scen_opts[] = {
    CM_OPT_BOOL(struct scen, verbose, "verbose", "false", "Log more."),
    CM_OPT_INT(struct scen, workers, "workers", "2", 1, 256, "Worker threads."),
    CM_OPT_DOUBLE(struct scen, factor, "factor", "1.5", 0, 0, "A free number."),
    CM_OPT_STRING(struct scen, target, "target", "local", "Where to send."),
    CM_OPT_ENUM(struct scen, arrival, "arrival", "uniform", "uniform|poisson|burst",
                "Arrival process."),
    CM_OPT_DURATION(struct scen, timeout_ns, "think_time", "250ms", 0, 0, "Pause between."),
    CM_OPT_RATE(struct scen, rate_per_s, "rate", "100/s", 1, 1e5, "Target rate."),
    CM_OPT_SIZE(struct scen, body_bytes, "body_size", "1KiB", 0, 1048576, "Body size."),
    CM_OPT_COUNT(struct scen, requests, "requests", "10k", 0, 0, "Stop after."),
    CM_OPT_PERCENT(struct scen, error_budget, "error_budget", "1%", "Allowed errors."),
    CM_OPT_NODE(struct scen, phases, "phases", "The phases, in order."),
    CM_OPT_NODE(struct scen, extra, "extra", "Free-form."),
    CM_OPT_END,
};

static struct cm_ydoc *parse(const char *text)
{
    struct cm_ydoc *doc = NULL;
    char err[256];
    int rc = cm_yaml_parse(text, strlen(text), "s.yaml", &doc, err, sizeof err);
    CHECK_MSG(rc == 0, "yaml: %s", err);
    return doc;
}

/* Applies text to a defaulted scen; returns rc and leaves the message in err. */
static int apply_text(const char *text, struct scen *s, struct cm_opt_err *err)
{
    memset(s, 0, sizeof *s);
    CHECK_INT(cm_opt_defaults(scen_opts, s, err), 0);
    struct cm_ydoc *doc = parse(text);
    if (!doc)
        return -100;
    int rc = cm_opt_apply(scen_opts, doc, doc->root, "", s, err);
    cm_yaml_free(doc);
    return rc;
}

static void apply_err(const char *text, const char *want)
{
    struct scen s;
    struct cm_opt_err err;
    CHECK_INT(apply_text(text, &s, &err), CM_EINVAL);
    CHECK_STR(err.msg, want);
    cm_opt_free(scen_opts, &s);
}

static void test_defaults(void)
{
    struct scen s;
    struct cm_opt_err err;
    memset(&s, 0xab, sizeof s); /* every field is written */
    CHECK_INT(cm_opt_defaults(scen_opts, &s, &err), 0);
    CHECK_INT(s.verbose, 0);
    CHECK_INT(s.workers, 2);
    CHECK(s.factor == 1.5);
    CHECK_STR(s.target, "local");
    CHECK_INT(s.arrival, 0);
    CHECK_INT(s.timeout_ns, 250000000);
    CHECK(s.rate_per_s == 100);
    CHECK_INT(s.body_bytes, 1024);
    CHECK_INT(s.requests, 10000);
    CHECK(s.error_budget == 0.01);
    CHECK(s.phases == NULL && s.extra == NULL);
    cm_opt_free(scen_opts, &s);
    CHECK(s.target == NULL);
    cm_opt_free(scen_opts, &s); /* twice is fine */

    struct phase p;
    CHECK_INT(cm_opt_defaults(phase_opts, &p, NULL), 0);
    CHECK_INT(p.duration_ns, 30000000000);
    CHECK(p.rate_per_s == 0 && p.name == NULL);

    /* A bad default is a programming error, reported with the key. */
    struct cm_opt bad[] = {
        CM_OPT_DURATION(struct phase, duration_ns, "duration", "30", 0, 0, "x"),
        CM_OPT_END,
    };
    CHECK_INT(cm_opt_defaults(bad, &p, &err), CM_EINVAL);
    CHECK_STR(err.msg, "duration: bad default '30': each number in a duration needs a unit (ns, "
                       "us, ms, s, m, h or d), e.g. 250ms or 1m30s");
}

static void test_apply(void)
{
    struct scen s;
    struct cm_opt_err err;
    int rc = apply_text("verbose: yes\n"
                        "workers: 8\n"
                        "factor: -2.5e3\n"
                        "target: \"https://example.test/x\"\n"
                        "arrival: poisson\n"
                        "think_time: 1m30s\n"
                        "rate: 12k/m\n"
                        "body_size: 512KiB\n"
                        "requests: 1.5M\n"
                        "error_budget: 0.1%\n"
                        "phases:\n"
                        "  - {duration: 10s, rate: 5/s}\n"
                        "extra: 5\n",
                        &s, &err);
    CHECK_MSG(rc == 0, "apply: %s", err.msg);
    CHECK_INT(s.verbose, 1);
    CHECK_INT(s.workers, 8);
    CHECK(s.factor == -2500);
    CHECK_STR(s.target, "https://example.test/x");
    CHECK_INT(s.arrival, 1);
    CHECK_INT(s.timeout_ns, 90000000000);
    CHECK_NEAR(s.rate_per_s, 200, 1e-9);
    CHECK_INT(s.body_bytes, 524288);
    CHECK_INT(s.requests, 1500000);
    CHECK(s.error_budget == 0.001);
    /* NODE keeps the raw node (it points into the freed doc now: only
     * check it was set). */
    CHECK(s.phases != NULL && s.extra != NULL);
    cm_opt_free(scen_opts, &s);

    /* Absent keys keep what obj has; every bool spelling. */
    static const char *const yes[] = {"true", "True", "YES", "on", "On"};
    static const char *const no[] = {"false", "FALSE", "no", "off", "Off"};
    for (size_t i = 0; i < 5; i++) {
        char text[64];
        snprintf(text, sizeof text, "verbose: %s", yes[i]);
        CHECK_INT(apply_text(text, &s, &err), 0);
        CHECK_INT(s.verbose, 1);
        CHECK_INT(s.workers, 2);
        cm_opt_free(scen_opts, &s);
        snprintf(text, sizeof text, "verbose: %s", no[i]);
        CHECK_INT(apply_text(text, &s, &err), 0);
        CHECK_INT(s.verbose, 0);
        cm_opt_free(scen_opts, &s);
    }
    /* Quoted values are parsed like plain ones; an empty document or an
     * empty mapping sets nothing. */
    CHECK_INT(apply_text("workers: '4'\nrate: \"50/s\"\n", &s, &err), 0);
    CHECK_INT(s.workers, 4);
    CHECK(s.rate_per_s == 50);
    cm_opt_free(scen_opts, &s);
    CHECK_INT(apply_text("", &s, &err), 0);
    CHECK_INT(s.workers, 2);
    cm_opt_free(scen_opts, &s);
    CHECK_INT(apply_text("{}", &s, &err), 0);
    cm_opt_free(scen_opts, &s);
    /* A STRING replaced by YAML frees the default (ASan checks the leak). */
    CHECK_INT(apply_text("target: a\n", &s, &err), 0);
    CHECK_STR(s.target, "a");
    cm_opt_free(scen_opts, &s);
    /* Bounds are inclusive. */
    CHECK_INT(
        apply_text("workers: 256\nrate: 1/s\nbody_size: 1MiB\nerror_budget: 100%\n", &s, &err), 0);
    cm_opt_free(scen_opts, &s);
}

static void test_apply_errors(void)
{
    apply_err("durations: 5s\n", "s.yaml:1:1: unknown key 'durations' (known keys: verbose, "
                                 "workers, factor, target, arrival, think_time, rate, body_size, "
                                 "requests, error_budget, phases, extra)");
    apply_err("verbose: on\nthink-time: 1s\n",
              "s.yaml:2:1: unknown key 'think-time' (did you mean 'think_time'?)");
    apply_err("Rate: 1/s\n", "s.yaml:1:1: unknown key 'Rate' (did you mean 'rate'?)");
    apply_err("wokrers: 2\n", "s.yaml:1:1: unknown key 'wokrers' (did you mean 'workers'?)");
    apply_err("workers: 0\n", "s.yaml:1:10: workers: must be at least 1 (got '0')");
    apply_err("workers: 257\n", "s.yaml:1:10: workers: must be at most 256 (got '257')");
    apply_err("workers: 1.5\n", "s.yaml:1:10: workers: expected an integer (got '1.5')");
    apply_err("workers: 99999999999999999999\n",
              "s.yaml:1:10: workers: integer out of range (got '99999999999999999999')");
    apply_err("factor: nan\n", "s.yaml:1:9: factor: expected a number (got 'nan')");
    apply_err("factor: 1e999\n", "s.yaml:1:9: factor: number out of range (got '1e999')");
    apply_err("verbose: maybe\n",
              "s.yaml:1:10: verbose: expected true or false (also yes/no, on/off) (got 'maybe')");
    apply_err("arrival: Poisson\n",
              "s.yaml:1:10: arrival: expected one of: uniform, poisson, burst (got 'Poisson')");
    apply_err("think_time: 30\n", "s.yaml:1:13: think_time: each number in a duration needs a unit "
                                  "(ns, us, ms, s, m, h or d), e.g. 250ms or 1m30s (got '30')");
    apply_err("think_time: -1s\n",
              "s.yaml:1:13: think_time: a duration must not be negative (got '-1s')");
    apply_err("rate: 200\n",
              "s.yaml:1:7: rate: expected a rate like 200/s, 12k/m or 100/250ms (got '200')");
    apply_err("rate: 0.5/s\n", "s.yaml:1:7: rate: must be at least 1/s (got '0.5/s')");
    apply_err("rate: 200k/s\n", "s.yaml:1:7: rate: must be at most 100000/s (got '200k/s')");
    apply_err("body_size: 2MB\n", "s.yaml:1:12: body_size: must be at most 1MiB (got '2MB')");
    apply_err("requests: 1.5\n", "s.yaml:1:11: requests: a count must be a whole number (got "
                                 "'1.5')");
    apply_err("error_budget: 150%\n",
              "s.yaml:1:15: error_budget: must be at most 100% (got '150%')");
    /* A mapping, a list or nothing where a scalar belongs. */
    apply_err("rate: {per: s}\n", "s.yaml:1:7: rate: expected a rate like 200/s, 12k/m or "
                                  "100/250ms (got a mapping)");
    apply_err("workers:\n  - 1\n", "s.yaml:2:3: workers: expected an integer (got a list)");
    apply_err("target:\n", "s.yaml:1:8: target: expected a string (got an empty value)");
    apply_err(
        "arrival: ~\n",
        "s.yaml:1:10: arrival: expected one of: uniform, poisson, burst (got an empty value)");
    apply_err("verbose: [true]\n",
              "s.yaml:1:10: verbose: expected true or false (also yes/no, on/off) (got a list)");
    /* The root itself must be a mapping. */
    apply_err("- a\n- b\n", "s.yaml:1:1: expected a mapping of keys (got a list)");
    apply_err("hello\n", "s.yaml:1:1: expected a mapping of keys (got a scalar)");
    /* Long and multi-line values are shortened and made printable. */
    apply_err("target: 1\nworkers: |\n  12\n  34\n",
              "s.yaml:2:10: workers: expected an integer (got '12?34?')");
    apply_err("workers: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
              "s.yaml:1:10: workers: expected an integer (got "
              "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...')");
}

/* The caller's side of CM_OPT_NODE: a list of phases, each a table. */
static int parse_phases(const struct cm_ydoc *doc, const struct cm_ynode *list, struct phase *out,
                        size_t max, size_t *n, struct cm_opt_err *err)
{
    if (!list || list->type != CM_YNODE_SEQ)
        return cm_opt_errorf(err, doc, list, "phases", "expected a list of phases");
    *n = 0;
    for (size_t i = 0; i < list->n && i < max; i++) {
        char path[32];
        snprintf(path, sizeof path, "phases[%zu]", i);
        cm_opt_defaults(phase_opts, &out[i], NULL);
        (*n)++;
        int rc = cm_opt_apply(phase_opts, doc, list->vals[i], path, &out[i], err);
        if (rc)
            return rc;
    }
    return 0;
}

static void test_nested(void)
{
    static const char text[] = "phases:\n"
                               "  - duration: 10s\n"
                               "    rate: 50/s\n"
                               "    name: warm\n"
                               "  - rate: 200/s\n"
                               "  - duration: 1m\n"
                               "    rate: 200/x\n";
    struct scen s;
    struct cm_opt_err err;
    struct phase ph[4];
    size_t n = 0;
    memset(&s, 0, sizeof s);
    struct cm_ydoc *doc = parse(text);
    if (!doc)
        return;
    CHECK_INT(cm_opt_defaults(scen_opts, &s, &err), 0);
    CHECK_INT(cm_opt_apply(scen_opts, doc, doc->root, "", &s, &err), 0);
    CHECK(s.phases && s.phases->type == CM_YNODE_SEQ);
    CHECK_INT(parse_phases(doc, s.phases, ph, 4, &n, &err), CM_EINVAL);
    CHECK_STR(err.msg, "s.yaml:7:11: phases[2].rate: expected a rate like 200/s, 12k/m or "
                       "100/250ms (got '200/x')");
    CHECK_INT(n, 3);
    CHECK_INT(ph[0].duration_ns, 10000000000);
    CHECK(ph[0].rate_per_s == 50);
    CHECK_STR(ph[0].name, "warm");
    CHECK_INT(ph[1].duration_ns, 30000000000); /* default */
    CHECK(ph[1].rate_per_s == 200);
    for (size_t i = 0; i < n; i++)
        cm_opt_free(phase_opts, &ph[i]);
    cm_opt_free(scen_opts, &s);
    cm_yaml_free(doc);

    /* Errors in a nested table name the path; unknown keys name the map. */
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"phases:\n  - duratoin: 5s\n",
         "s.yaml:2:5: phases[0]: unknown key 'duratoin' (did you mean 'duration'?)"},
        {"phases:\n  - durations: 5s\n",
         "s.yaml:2:5: phases[0]: unknown key 'durations' (did you mean 'duration'?)"},
        {"phases:\n  - {}\n  - duration: 1ms\n  - duration: 500us\n",
         "s.yaml:4:15: phases[2].duration: must be at least 1ms (got '500us')"},
        {"phases:\n  - duration: 2h\n",
         "s.yaml:2:15: phases[0].duration: must be at most 1h (got '2h')"},
        {"phases:\n  - [1, 2]\n", "s.yaml:2:5: phases[0]: expected a mapping of keys (got a list)"},
        {"phases: {a: 1}\n", "s.yaml:1:9: phases: expected a list of phases"},
        {"phases:\n  - zzz: 1\n", "s.yaml:2:5: phases[0]: unknown key 'zzz' (known keys: duration, "
                                  "rate, name)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(&s, 0, sizeof s);
        doc = parse(cases[i].text);
        if (!doc)
            continue;
        cm_opt_defaults(scen_opts, &s, NULL);
        CHECK_INT(cm_opt_apply(scen_opts, doc, doc->root, "", &s, &err), 0);
        n = 0;
        CHECK_INT(parse_phases(doc, s.phases, ph, 4, &n, &err), CM_EINVAL);
        CHECK_STR(err.msg, cases[i].want);
        for (size_t j = 0; j < n; j++)
            cm_opt_free(phase_opts, &ph[j]);
        cm_opt_free(scen_opts, &s);
        cm_yaml_free(doc);
    }
}

static void test_required(void)
{
    struct req {
        char *url;
        int64_t n;
    } r;
    struct cm_opt table[] = {
        CM_OPT_STRING(struct req, url, "url", NULL, "Endpoint."),
        CM_OPT_INT(struct req, n, "n", "1", 0, 0, "N."),
        CM_OPT_END,
    };
    table[0].required = 1;
    struct cm_opt_err err;
    struct cm_ydoc *doc = parse("outer:\n  n: 3\n");
    if (!doc)
        return;
    cm_opt_defaults(table, &r, NULL);
    CHECK_INT(cm_opt_apply(table, doc, cm_yaml_get(doc->root, "outer"), "outer", &r, &err),
              CM_EINVAL);
    CHECK_STR(err.msg, "s.yaml:2:3: outer: missing required key 'url'");
    /* No mapping at all (an empty document). */
    CHECK_INT(cm_opt_apply(table, doc, NULL, "", &r, &err), CM_EINVAL);
    CHECK_STR(err.msg, "s.yaml: missing required key 'url'");
    cm_yaml_free(doc);
    doc = parse("url: http://127.0.0.1:1/\n");
    if (doc) {
        CHECK_INT(cm_opt_apply(table, doc, doc->root, "", &r, &err), 0);
        CHECK_STR(r.url, "http://127.0.0.1:1/");
        cm_yaml_free(doc);
    }
    cm_opt_free(table, &r);
}

static void test_set(void)
{
    struct scen s;
    struct cm_opt_err err;
    memset(&s, 0, sizeof s);
    cm_opt_defaults(scen_opts, &s, NULL);
    CHECK_INT(cm_opt_set(scen_opts, "think-time", "2s", &s, &err), 0);
    CHECK_INT(s.timeout_ns, 2000000000);
    CHECK_INT(cm_opt_set(scen_opts, "think_time", "3s", &s, &err), 0);
    CHECK_INT(s.timeout_ns, 3000000000);
    CHECK_INT(cm_opt_set(scen_opts, "--body-size", "2KiB", &s, &err), 0);
    CHECK_INT(s.body_bytes, 2048);
    CHECK_INT(cm_opt_set(scen_opts, "verbose", NULL, &s, &err), 0); /* bare --verbose */
    CHECK_INT(s.verbose, 1);
    CHECK_INT(cm_opt_set(scen_opts, "verbose", "off", &s, &err), 0);
    CHECK_INT(s.verbose, 0);
    CHECK_INT(cm_opt_set(scen_opts, "target", " spaced ", &s, &err), 0);
    CHECK_STR(s.target, " spaced "); /* strings are taken as given */
    CHECK_INT(cm_opt_set(scen_opts, "arrival", "burst", &s, &err), 0);
    CHECK_INT(s.arrival, 2);
    CHECK_INT(cm_opt_set(scen_opts, "workers", " 16 ", &s, &err), 0);
    CHECK_INT(s.workers, 16);

    CHECK_INT(cm_opt_set(scen_opts, "thinktime", "1s", &s, &err), CM_ENOTFOUND);
    CHECK_STR(err.msg, "--thinktime: unknown option (did you mean '--think-time'?)");
    CHECK_INT(cm_opt_set(scen_opts, "bogus_option_name", "1", &s, &err), CM_ENOTFOUND);
    CHECK_STR(err.msg, "--bogus-option-name: unknown option (known options: --verbose, --workers, "
                       "--factor, --target, --arrival, --think-time, --rate, --body-size, "
                       "--requests, --error-budget, --phases, --extra)");
    CHECK_INT(cm_opt_set(scen_opts, "think-time", "30", &s, &err), CM_EINVAL);
    CHECK_STR(err.msg, "--think-time: each number in a duration needs a unit (ns, us, ms, s, m, h "
                       "or d), e.g. 250ms or 1m30s (got '30')");
    CHECK_INT(s.timeout_ns, 3000000000); /* unchanged */
    CHECK_INT(cm_opt_set(scen_opts, "workers", "1000", &s, &err), CM_EINVAL);
    CHECK_STR(err.msg, "--workers: must be at most 256 (got '1000')");
    CHECK_INT(cm_opt_set(scen_opts, "arrival", "steady", &s, &err), CM_EINVAL);
    CHECK_STR(err.msg, "--arrival: expected one of: uniform, poisson, burst (got 'steady')");
    CHECK_INT(cm_opt_set(scen_opts, "rate", NULL, &s, &err), CM_EINVAL);
    CHECK_STR(err.msg, "--rate: needs a value (expected a rate like 200/s, 12k/m or 100/250ms)");
    CHECK_INT(cm_opt_set(scen_opts, "phases", "x", &s, &err), CM_EINVAL);
    CHECK_STR(err.msg, "--phases: is a section; set it in the YAML file");
    CHECK_INT(cm_opt_set(scen_opts, "rate", "5/s", &s, NULL), 0); /* err may be NULL */
    cm_opt_free(scen_opts, &s);
}

static void test_parse_value(void)
{
    const struct cm_opt *rate = &scen_opts[6];
    double d = -1;
    const char *why = NULL;
    CHECK_INT(cm_opt_parse_value(rate, "7/s", 3, &d, &why), 0);
    CHECK(d == 7);
    CHECK_INT(cm_opt_parse_value(rate, "7/s", 3, &d, NULL), 0);
    CHECK_INT(cm_opt_parse_value(rate, "0/s", 3, &d, &why), CM_ERANGE);
    CHECK_STR(why, "below the minimum");
    CHECK_INT(cm_opt_parse_value(rate, "1M/s", 4, &d, &why), CM_ERANGE);
    CHECK_STR(why, "above the maximum");
    CHECK(d == 7); /* untouched on failure */
    CHECK_INT(cm_opt_parse_value(&scen_opts[10], "x", 1, &d, &why), CM_EINVAL);
    CHECK_STR(why, "expected a YAML mapping or list, not text");
    char *str = NULL;
    CHECK_INT(cm_opt_parse_value(&scen_opts[3], "a\0b", 3, &str, &why), CM_EINVAL);
    CHECK_STR(why, "a string must not contain NUL bytes");
    CHECK(str == NULL);
    /* Only n bytes are read. */
    int64_t w = 0;
    CHECK_INT(cm_opt_parse_value(&scen_opts[1], "12345", 2, &w, &why), 0);
    CHECK_INT(w, 12);
    CHECK_INT(cm_opt_parse_value(&scen_opts[1], "-3", 2, &w, &why), CM_ERANGE);
    CHECK_STR(cm_opt_type_name(CM_OPT_T_DURATION), "duration");
    CHECK_STR(cm_opt_type_name(CM_OPT_T_DOUBLE), "number");
    CHECK_STR(cm_opt_type_name(CM_OPT_T_NODE), "section");

    /* INT edges. */
    struct cm_opt any = CM_OPT_INT(struct scen, workers, "w", NULL, 0, 0, "");
    CHECK_INT(cm_opt_parse_value(&any, "-9223372036854775808", 20, &w, &why), 0);
    CHECK(w == INT64_MIN);
    CHECK_INT(cm_opt_parse_value(&any, "9223372036854775807", 19, &w, &why), 0);
    CHECK(w == INT64_MAX);
    CHECK_INT(cm_opt_parse_value(&any, "9223372036854775808", 19, &w, &why), CM_ERANGE);
    CHECK_INT(cm_opt_parse_value(&any, "+5", 2, &w, &why), 0);
    CHECK_INT(w, 5);
    CHECK_INT(cm_opt_parse_value(&any, "-", 1, &w, &why), CM_EINVAL);
    CHECK_INT(cm_opt_parse_value(&any, "0x10", 4, &w, &why), CM_EINVAL);
    struct cm_opt dbl = CM_OPT_DOUBLE(struct scen, factor, "f", NULL, 0, 0, "");
    static const char *const bad[] = {"", ".5", "5.", "1e", "1e+", "inf", "0x1p3", "1,5", "--1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(cm_opt_parse_value(&dbl, bad[i], strlen(bad[i]), &d, &why) == CM_EINVAL,
                  "double '%s'", bad[i]);
    CHECK_INT(cm_opt_parse_value(&dbl, "1E-3", 4, &d, &why), 0);
    CHECK(d == 0.001);
}

/* Runs fn into a temporary file and returns its text (static buffer). */
static const char *capture(void (*fn)(const struct cm_opt *, FILE *), const struct cm_opt *t)
{
    static char text[4096];
    FILE *f = tmpfile();
    if (!f)
        return "";
    fn(t, f);
    rewind(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static void test_help(void)
{
    CHECK_STR(capture(cm_opt_help, scen_opts),
              "  --verbose BOOL                   Log more. (default: false)\n"
              "  --workers INT                    Worker threads. (default: 2; 1..256)\n"
              "  --factor NUMBER                  A free number. (default: 1.5)\n"
              "  --target STRING                  Where to send. (default: local)\n"
              "  --arrival uniform|poisson|burst  Arrival process. (default: uniform)\n"
              "  --think-time DURATION            Pause between. (default: 250ms)\n"
              "  --rate RATE                      Target rate. (default: 100/s; 1/s..100000/s)\n"
              "  --body-size SIZE                 Body size. (default: 1KiB; 0B..1MiB)\n"
              "  --requests COUNT                 Stop after. (default: 10k)\n"
              "  --error-budget PERCENT           Allowed errors. (default: 1%; 0%..100%)\n");
    CHECK_STR(capture(cm_opt_help, phase_opts),
              "  --duration DURATION  How long the phase runs. (default: 30s; 1ms..1h)\n"
              "  --rate RATE          Requests per second. (0/s..1000000/s)\n"
              "  --name STRING        A label | for reports.\n");
    /* A long flag moves its help to the next line. */
    struct cm_opt longk[] = {
        CM_OPT_INT(struct scen, workers, "a_very_long_option_name_for_testing", NULL, 0, 0, "H."),
        CM_OPT_END,
    };
    CHECK_STR(capture(cm_opt_help, longk), "  --a-very-long-option-name-for-testing INT\n"
                                           "                                    H.\n");
}

static void test_markdown(void)
{
    CHECK_STR(capture(cm_opt_markdown, phase_opts),
              "| key | type | default | bounds | description |\n"
              "| --- | --- | --- | --- | --- |\n"
              "| `duration` | duration | `30s` | 1ms .. 1h | How long the phase runs. |\n"
              "| `rate` | rate |  | 0/s .. 1000000/s | Requests per second. |\n"
              "| `name` | string |  |  | A label \\| for reports. |\n");
    const char *md = capture(cm_opt_markdown, scen_opts);
    CHECK(strstr(md, "| `arrival` | enum | `uniform` | `uniform`, `poisson`, `burst` | Arrival "
                     "process. |\n") != NULL);
    CHECK(strstr(md, "| `phases` | section |  |  | The phases, in order. |\n") != NULL);
    CHECK(strstr(md, "| `error_budget` | percent | `1%` | 0% .. 100% | Allowed errors. |\n") !=
          NULL);
}

/* A node made by cm_yaml_set names its origin (the flag) instead of line:col. */
static void test_origin(void)
{
    struct cm_ydoc *doc = parse("duration: 1s\n");
    struct phase p;
    struct cm_opt_err err;
    if (!doc)
        return;
    char why[128];
    CHECK_INT(cm_yaml_set(doc, "rate", "fast", 4, "--set phases[0].rate", why, sizeof why), 0);
    cm_opt_defaults(phase_opts, &p, NULL);
    CHECK_INT(cm_opt_apply(phase_opts, doc, doc->root, "phases[0]", &p, &err), CM_EINVAL);
    CHECK(strncmp(err.msg, "--set phases[0].rate: expected a rate", 37) == 0);
    cm_opt_free(phase_opts, &p);
    CHECK_INT(cm_yaml_set(doc, "rat", "1/s", 3, "--set phases[0].rat", why, sizeof why), 0);
    CHECK_INT(cm_yaml_set(doc, "rate", "1/s", 3, "--set phases[0].rate", why, sizeof why), 0);
    cm_opt_defaults(phase_opts, &p, NULL);
    CHECK_INT(cm_opt_apply(phase_opts, doc, doc->root, "phases[0]", &p, &err), CM_EINVAL);
    CHECK_STR(err.msg, "--set phases[0].rat: phases[0]: unknown key 'rat' (did you mean 'rate'?)");
    cm_opt_free(phase_opts, &p);
    cm_yaml_free(doc);
}

int main(void)
{
    test_defaults();
    test_apply();
    test_apply_errors();
    test_nested();
    test_required();
    test_set();
    test_parse_value();
    test_help();
    test_markdown();
    test_origin();
    return TEST_REPORT();
}
