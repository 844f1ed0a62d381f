/* schedule.c: see schedule.h.
 *
 * Within a phase of length D with rate r(tau) = r0 + (r1 - r0) tau / D, the
 * expected count after tau is A(tau) = r0 tau + (r1 - r0) tau^2 / (2D).
 * Uniform arrival k is placed where the run's cumulative count equals k:
 * solving A(tau) = a gives tau = 2a / (r0 + sqrt(r0^2 + 2 (r1 - r0) a / D)),
 * the form that stays exact when r0 = 0 or r1 = r0.
 * Poisson with a time-varying rate uses thinning: candidates at rate
 * rmax = max(r0, r1) / N, each kept with probability r(t) / rmax. */
#include "schedule.h"

#include <math.h>
#include <stdlib.h>

#include "cm/clock.h"
#include "cm/mem.h"
#include "scenario.h"
#include "tmpl.h"

void lg_sched_init(struct lg_sched *s, const struct lg_phase *phases, size_t n, int worker,
                   int nworkers, uint64_t seed)
{
    s->ph = cm_xcalloc(n ? n : 1, sizeof(*s->ph));
    s->n = n;
    s->worker = worker;
    s->nworkers = nworkers > 0 ? nworkers : 1;
    s->cur = 0;
    s->k = (uint64_t)worker;
    s->t_ns = 0;
    s->rng =
        (seed ? seed : 0x243f6a8885a308d3ULL) ^ ((uint64_t)(worker + 1) * 0x9e3779b97f4a7c15ULL);
    int64_t t = 0;
    double cum = 0;
    for (size_t i = 0; i < n; i++) {
        struct lg_sched_phase *p = &s->ph[i];
        p->start_ns = t;
        p->dur_ns = phases[i].duration_ns;
        p->r0 = phases[i].rate_per_s;
        p->r1 = phases[i].ramp_to_per_s;
        p->poisson = phases[i].arrival == LG_ARRIVAL_POISSON;
        p->warmup = phases[i].warmup;
        p->cum_before = cum;
        cum += (p->r0 + p->r1) / 2.0 * (double)p->dur_ns / 1e9;
        t += p->dur_ns;
    }
    s->end_ns = t;
}

void lg_sched_deinit(struct lg_sched *s)
{
    free(s->ph);
    s->ph = NULL;
}

static double phase_count(const struct lg_sched_phase *p, double tau_s)
{
    double d = (double)p->dur_ns / 1e9;
    return p->r0 * tau_s + (p->r1 - p->r0) * tau_s * tau_s / (2.0 * d);
}

double lg_sched_expected(const struct lg_sched *s, int64_t t_ns)
{
    size_t i = lg_sched_phase_at(s, t_ns);
    if (!s->n)
        return 0;
    const struct lg_sched_phase *p = &s->ph[i];
    int64_t tau = t_ns - p->start_ns;
    if (tau > p->dur_ns)
        tau = p->dur_ns;
    if (tau < 0)
        tau = 0;
    return p->cum_before + phase_count(p, (double)tau / 1e9);
}

size_t lg_sched_phase_at(const struct lg_sched *s, int64_t t_ns)
{
    for (size_t i = 0; i < s->n; i++)
        if (t_ns < s->ph[i].start_ns + s->ph[i].dur_ns)
            return i;
    return s->n ? s->n - 1 : 0;
}

static int next_uniform(struct lg_sched *s, const struct lg_sched_phase *p, int64_t *t_ns)
{
    double a = (double)s->k - p->cum_before;
    double d = (double)p->dur_ns / 1e9;
    double total = phase_count(p, d);
    if (a >= total - 1e-9)
        return 0; /* arrival k belongs to a later phase */
    double den = p->r0 + sqrt(p->r0 * p->r0 + 2.0 * (p->r1 - p->r0) * a / d);
    double tau = den > 0 ? 2.0 * a / den : 0;
    *t_ns = p->start_ns + (int64_t)(tau * 1e9);
    s->k += (uint64_t)s->nworkers;
    return 1;
}

static int next_poisson(struct lg_sched *s, const struct lg_sched_phase *p, int64_t *t_ns)
{
    double rmax = (p->r0 > p->r1 ? p->r0 : p->r1) / s->nworkers;
    if (rmax <= 0)
        return 0;
    int64_t t = s->t_ns > p->start_ns ? s->t_ns : p->start_ns;
    for (int guard = 0; guard < 1000000; guard++) {
        /* uniform in (0, 1]: 53 random bits, never 0 */
        double u = ((double)(lg_rng_next(&s->rng) >> 11) + 1.0) / 9007199254740992.0;
        t += (int64_t)(-log(u) / rmax * 1e9);
        if (t >= p->start_ns + p->dur_ns)
            return 0;
        double tau = (double)(t - p->start_ns) / (double)p->dur_ns;
        double r = (p->r0 + (p->r1 - p->r0) * tau) / s->nworkers;
        double v = (double)(lg_rng_next(&s->rng) >> 11) / 9007199254740992.0;
        if (v * rmax <= r) {
            s->t_ns = t;
            *t_ns = t;
            return 1;
        }
    }
    return 0;
}

int lg_sched_next(struct lg_sched *s, int64_t *t_ns, int *phase)
{
    while (s->cur < s->n) {
        const struct lg_sched_phase *p = &s->ph[s->cur];
        int ok = p->poisson ? next_poisson(s, p, t_ns) : next_uniform(s, p, t_ns);
        if (ok) {
            *phase = (int)s->cur;
            return 1;
        }
        if (p->poisson)
            s->t_ns = p->start_ns + p->dur_ns;
        s->cur++;
        /* uniform: skip indices that fell into the finished phase's tail */
        if (s->cur < s->n && !s->ph[s->cur].poisson) {
            double need = s->ph[s->cur].cum_before;
            while ((double)s->k < need - 1e-9)
                s->k += (uint64_t)s->nworkers;
        }
    }
    return 0;
}
