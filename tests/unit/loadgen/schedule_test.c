/* schedule_test.c: intended send times: counts per phase, ramps, the split
 * across workers, Poisson rate, warm-up flags. */
#include <stdlib.h>
#include <string.h>

#include "cm/clock.h"
#include "harness.h"
#include "scenario.h"
#include "schedule.h"

static struct lg_phase ph(double secs, double r0, double r1, int poisson)
{
    struct lg_phase p;
    memset(&p, 0, sizeof(p));
    p.duration_ns = (int64_t)(secs * 1e9);
    p.rate_per_s = r0;
    p.ramp_to_per_s = r1;
    p.arrival = poisson;
    return p;
}

static uint64_t count(struct lg_phase *p, size_t n, int w, int nw, int64_t *last, int *mono)
{
    struct lg_sched s;
    lg_sched_init(&s, p, n, w, nw, 1);
    int64_t t, prev = -1;
    int phase;
    uint64_t k = 0;
    *mono = 1;
    while (lg_sched_next(&s, &t, &phase)) {
        if (t < prev)
            *mono = 0;
        prev = t;
        k++;
    }
    *last = prev;
    lg_sched_deinit(&s);
    return k;
}

int main(void)
{
    int64_t last;
    int mono;
    /* constant 100/s for 10 s: 1000 arrivals, 10 ms apart */
    struct lg_phase p1[] = {ph(10, 100, 100, 0)};
    CHECK_INT(count(p1, 1, 0, 1, &last, &mono), 1000);
    CHECK(mono);
    CHECK_INT(last, 9990 * CM_NS_PER_MS);
    /* split across 3 workers: the union is the same 1000 arrivals */
    uint64_t sum = 0;
    for (int w = 0; w < 3; w++)
        sum += count(p1, 1, w, 3, &last, &mono);
    CHECK_INT(sum, 1000);
    /* linear ramp 0 -> 200/s over 10 s: 1000 arrivals; the k-th at sqrt(k/10) s */
    struct lg_phase p2[] = {ph(10, 0, 200, 0)};
    struct lg_sched s;
    lg_sched_init(&s, p2, 1, 0, 1, 1);
    int64_t t;
    int phase;
    uint64_t k = 0;
    int ramp_ok = 1;
    while (lg_sched_next(&s, &t, &phase)) {
        double want = sqrt((double)k / 10.0) * 1e9;
        if (fabs((double)t - want) > 1e3)
            ramp_ok = 0;
        k++;
    }
    lg_sched_deinit(&s);
    CHECK_INT(k, 1000);
    CHECK(ramp_ok);
    /* steps and a pause: 2 s at 50/s, 1 s pause, 1 s at 300/s */
    struct lg_phase p3[] = {ph(2, 50, 50, 0), ph(1, 0, 0, 0), ph(1, 300, 300, 0)};
    CHECK_INT(count(p3, 3, 0, 1, &last, &mono), 400);
    CHECK(mono);
    lg_sched_init(&s, p3, 3, 0, 1, 1);
    int in_pause = 0;
    while (lg_sched_next(&s, &t, &phase))
        if (t >= 2 * CM_NS_PER_S && t < 3 * CM_NS_PER_S)
            in_pause++;
    lg_sched_deinit(&s);
    CHECK_INT(in_pause, 0);
    /* Poisson 1000/s for 20 s over 2 workers: about 20000 (sd ~141) */
    struct lg_phase p4[] = {ph(20, 1000, 1000, 1)};
    sum = count(p4, 1, 0, 2, &last, &mono) + count(p4, 1, 1, 2, &last, &mono);
    CHECK(mono);
    CHECK_NEAR((double)sum, 20000, 800);
    /* Poisson ramp 0 -> 1000/s over 10 s: about 5000 */
    struct lg_phase p5[] = {ph(10, 0, 1000, 1)};
    CHECK_NEAR((double)count(p5, 1, 0, 1, &last, &mono), 5000, 400);
    /* expected count helper */
    lg_sched_init(&s, p3, 3, 0, 1, 1);
    CHECK_NEAR(lg_sched_expected(&s, 4 * CM_NS_PER_S), 400, 1e-6);
    CHECK_NEAR(lg_sched_expected(&s, 1 * CM_NS_PER_S), 50, 1e-6);
    CHECK_INT(lg_sched_phase_at(&s, 2500 * CM_NS_PER_MS), 1);
    lg_sched_deinit(&s);
    return TEST_REPORT();
}
