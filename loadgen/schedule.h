/* schedule.h: intended send times for the open model. The run's arrivals form
 * one sequence; with N workers, uniform arrival k goes to worker k mod N, and
 * Poisson arrivals are N independent processes of rate r(t)/N (their sum is a
 * Poisson process of rate r(t)). Times are ns from the run start; nothing
 * here reads the clock. */
#ifndef LG_SCHEDULE_H
#define LG_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

struct lg_phase;

struct lg_sched_phase {
    int64_t start_ns, dur_ns;
    double r0, r1;     /* rate per second at start and end */
    double cum_before; /* expected arrivals of the whole run before this phase */
    int poisson;
    int warmup;
};

struct lg_sched {
    struct lg_sched_phase *ph;
    size_t n;
    int worker, nworkers;
    size_t cur;   /* current phase */
    uint64_t k;   /* uniform: next global arrival index */
    int64_t t_ns; /* poisson: time of the last arrival */
    uint64_t rng;
    int64_t end_ns;
};

/* Builds the schedule for one worker; free with lg_sched_deinit. */
void lg_sched_init(struct lg_sched *s, const struct lg_phase *phases, size_t n, int worker,
                   int nworkers, uint64_t seed);
void lg_sched_deinit(struct lg_sched *s);
/* Next arrival of this worker: 1 with *t_ns (from the run start) and *phase,
 * 0 when the schedule is over. */
int lg_sched_next(struct lg_sched *s, int64_t *t_ns, int *phase);
/* Expected arrivals (whole run) by time t_ns: the integral of the rate. */
double lg_sched_expected(const struct lg_sched *s, int64_t t_ns);
/* Index of the phase containing t_ns (last phase after the end). */
size_t lg_sched_phase_at(const struct lg_sched *s, int64_t t_ns);

#endif
