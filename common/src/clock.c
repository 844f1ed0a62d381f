/* clock.c: clock_gettime wrappers and UTC formatting. */
#include "cm/clock.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

static int64_t ts_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * CM_NS_PER_S + ts.tv_nsec;
}

int64_t cm_clock_mono_ns(void)
{
    return ts_ns(CLOCK_MONOTONIC);
}

int64_t cm_clock_wall_ns(void)
{
    return ts_ns(CLOCK_REALTIME);
}

void cm_clock_sleep_ns(int64_t ns)
{
    if (ns <= 0)
        return;
    struct timespec ts = {.tv_sec = ns / CM_NS_PER_S, .tv_nsec = ns % CM_NS_PER_S};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void cm_clock_format_utc(int64_t wall_ns, int basic, char out[32])
{
    /* Floor division, so instants before 1970 keep a 0..999 ms part:
     * -1 ns is 1969-12-31T23:59:59.999Z, not ...00.-00Z. */
    int64_t sec = wall_ns / CM_NS_PER_S, rem = wall_ns % CM_NS_PER_S;
    if (rem < 0) {
        sec--;
        rem += CM_NS_PER_S;
    }
    time_t secs = (time_t)sec;
    int ms = (int)(rem / CM_NS_PER_MS);
    struct tm tm;
    gmtime_r(&secs, &tm);
    if (basic)
        strftime(out, 32, "%Y%m%dT%H%M%SZ", &tm);
    else {
        char base[24];
        strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(out, 32, "%s.%03dZ", base, ms);
    }
}
