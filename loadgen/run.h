/* run.h: one run of a loaded scenario: resolve the target, start the
 * workers, merge their interval histograms every second (hlog, timeseries,
 * progress, abort thresholds, lag watch), then write the results. */
#ifndef LG_RUN_H
#define LG_RUN_H

#include <stdint.h>

struct lg_scenario;

enum lg_exit {
    LG_EXIT_PASS = 0,    /* every threshold passed */
    LG_EXIT_FAIL = 1,    /* a threshold failed (or aborted the run) */
    LG_EXIT_USAGE = 2,   /* bad usage or scenario */
    LG_EXIT_INVALID = 3, /* target unreachable, or the generator fell behind */
    LG_EXIT_INTERRUPTED = 130,
};

struct lg_run_opts {
    const char *out_dir; /* NULL: reports/runs/<scenario>-<UTC time> */
    const char *target;  /* NULL: the scenario's */
    int quiet;
    int yes;
    int64_t duration_ns; /* > 0: cut or extend the schedule */
    int64_t workers;     /* > 0: overrides the scenario */
};

/* Runs sc (modified only by duration). Returns an enum lg_exit value. */
int lg_run(struct lg_scenario *sc, const struct lg_run_opts *o);

/* Installs SIGINT/SIGTERM handlers that stop the current run. */
void lg_run_install_signals(void);

#endif
