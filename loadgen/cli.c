/* cli.c: argument parsing and the three commands. Flags may come before or
 * after the scenario file; every flag error exits 2 with one line. */
#include "cli.h"

#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/clock.h"
#include "cm/err.h"
#include "cm/mem.h"
#include "cm/units.h"
#include "run.h"
#include "scenario.h"

#ifndef LG_VERSION
#define LG_VERSION "0"
#endif

#define MAX_SETS 64

static const char usage_main[] =
    "usage: loadgen COMMAND [ARGS]\n"
    "\n"
    "Load-testing harness: open-model HTTP load with coordinated-omission-corrected\n"
    "latency, thresholds and versioned results.\n"
    "\n"
    "commands:\n"
    "  run FILE.yaml       run a scenario and write its results folder\n"
    "  validate FILE.yaml  check a scenario without running it\n"
    "  docs                print the scenario key reference (scenarios/README.md)\n"
    "\n"
    "  loadgen COMMAND --help   help for one command\n"
    "  loadgen --version\n"
    "\n"
    "exit codes: 0 thresholds passed, 1 a threshold failed, 2 bad usage or scenario,\n"
    "3 the run could not be done properly (target unreachable, generator fell behind),\n"
    "130 interrupted (partial results written, marked incomplete)\n";

static const char usage_run[] =
    "usage: loadgen run FILE.yaml [options]\n"
    "\n"
    "  --out DIR          results folder (default reports/runs/<scenario>-<UTC time>/)\n"
    "  --target T         `local` (start or reuse stackd) or a base URL; overrides the file\n"
    "  --set KEY=VALUE    set any scenario key (repeatable), nested ones too:\n"
    "                     http.timeout=2s, phases[1].rate=500/s, requests[0].weight=3\n"
    "  --duration D       cut (or stretch the last phase of) the schedule to D, e.g. 30s\n"
    "  --workers N        worker threads (default: one per core)\n"
    "  --quiet            no progress and no summary on the terminal\n"
    "  --yes              allow a non-loopback target\n"
    "\n"
    "Writes summary.json, histograms.hlog, timeseries.jsonl and report.md.\n"
    "Exit: 0 pass, 1 threshold failed, 2 bad usage/scenario, 3 invalid run, 130 interrupted.\n";

static const char usage_validate[] =
    "usage: loadgen validate FILE.yaml [--set KEY=VALUE ...]\n"
    "\n"
    "Loads and checks the scenario (keys, units, templates, thresholds, data file)\n"
    "and prints a one-line summary. Errors read file:line:col: key: reason (exit 2).\n";

static const char usage_docs[] = "usage: loadgen docs\n"
                                 "\n"
                                 "Prints the scenario key reference (markdown) generated from\n"
                                 "the option tables; scenarios/README.md is this output.\n";

struct args {
    const char *cmd;
    const char *file;
    const char *out, *target;
    const char *sets[MAX_SETS];
    size_t n_sets;
    int64_t duration_ns, workers;
    int quiet, yes, help;
};

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "loadgen: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see loadgen --help)\n");
    return LG_EXIT_USAGE;
}

static int need_value(int argc, char **argv, int i)
{
    return i + 1 < argc && argv[i + 1][0] != '\0';
}

static int parse_flag(struct args *a, int argc, char **argv, int *i)
{
    const char *f = argv[*i];
    if (strcmp(f, "--help") == 0 || strcmp(f, "-h") == 0) {
        a->help = 1;
        return 0;
    }
    if (strcmp(f, "--quiet") == 0 || strcmp(f, "-q") == 0) {
        a->quiet = 1;
        return 0;
    }
    if (strcmp(f, "--yes") == 0 || strcmp(f, "-y") == 0) {
        a->yes = 1;
        return 0;
    }
    int takes = !strcmp(f, "--out") || !strcmp(f, "--target") || !strcmp(f, "--set") ||
                !strcmp(f, "--duration") || !strcmp(f, "--workers");
    if (!takes)
        return bad("unknown option %s", f);
    if (!need_value(argc, argv, *i))
        return bad("%s needs a value", f);
    const char *v = argv[++*i];
    if (!strcmp(f, "--out"))
        a->out = v;
    else if (!strcmp(f, "--target"))
        a->target = v;
    else if (!strcmp(f, "--set")) {
        if (a->n_sets == MAX_SETS)
            return bad("%s: too many", f);
        if (!strchr(v, '='))
            return bad("--set %s: expected KEY=VALUE", v);
        a->sets[a->n_sets++] = v;
    } else if (!strcmp(f, "--duration")) {
        const char *why = NULL;
        if (cm_units_duration_ns(v, strlen(v), 0, &a->duration_ns, &why) || a->duration_ns <= 0)
            return bad("--duration: expected a duration like 30s or 2m, got \"%s\"", v);
    } else {
        char *end;
        long n = strtol(v, &end, 10);
        if (*end || n < 1 || n > 256)
            return bad("--workers: expected 1..256, got \"%s\"", v);
        a->workers = n;
    }
    return 0;
}

static int parse_args(struct args *a, int argc, char **argv)
{
    memset(a, 0, sizeof(*a));
    a->cmd = argv[1];
    for (int i = 2; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1]) {
            int rc = parse_flag(a, argc, argv, &i);
            if (rc)
                return rc;
        } else if (!a->file) {
            a->file = argv[i];
        } else {
            return bad("unexpected argument %s", argv[i]);
        }
    }
    return 0;
}

static int load(const struct args *a, struct lg_scenario **sc)
{
    char err[1024];
    if (!a->file) {
        fprintf(stderr, "loadgen: %s needs a scenario file (see loadgen %s --help)\n", a->cmd,
                a->cmd);
        return LG_EXIT_USAGE;
    }
    if (lg_scenario_load(a->file, a->sets, a->n_sets, sc, err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        return LG_EXIT_USAGE;
    }
    return 0;
}

static int cmd_validate(const struct args *a)
{
    struct lg_scenario *sc;
    int rc = load(a, &sc);
    if (rc)
        return rc;
    char d[32];
    cm_units_format_duration(lg_scenario_duration_ns(sc), d);
    printf("%s: ok: %s, %zu phases (%s), %zu requests, %zu thresholds, target %s\n", a->file,
           sc->name, sc->n_phases, d, sc->n_reqs, sc->n_th, sc->target);
    lg_scenario_free(sc);
    return 0;
}

static int cmd_run(const struct args *a)
{
    struct lg_scenario *sc;
    int rc = load(a, &sc);
    if (rc)
        return rc;
    struct lg_run_opts o = {
        .out_dir = a->out,
        .target = a->target,
        .quiet = a->quiet,
        .yes = a->yes,
        .duration_ns = a->duration_ns,
        .workers = a->workers,
    };
    lg_run_install_signals();
    rc = lg_run(sc, &o);
    lg_scenario_free(sc);
    return rc;
}

int lg_cli_main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_main, stderr);
        return LG_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage_main, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("loadgen %s (%s)\n", LG_VERSION, curl_version());
        return 0;
    }
    struct args a;
    int rc = parse_args(&a, argc, argv);
    if (rc)
        return rc;
    if (!strcmp(cmd, "run") || !strcmp(cmd, "validate") || !strcmp(cmd, "docs")) {
        if (a.help) {
            fputs(!strcmp(cmd, "run")        ? usage_run
                  : !strcmp(cmd, "validate") ? usage_validate
                                             : usage_docs,
                  stdout);
            return 0;
        }
    } else {
        return bad("unknown command %s", cmd);
    }
    if (!strcmp(cmd, "docs")) {
        lg_scenario_markdown(stdout);
        return 0;
    }
    curl_global_init(CURL_GLOBAL_ALL);
    rc = !strcmp(cmd, "run") ? cmd_run(&a) : cmd_validate(&a);
    curl_global_cleanup();
    return rc;
}
