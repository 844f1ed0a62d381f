/* clock.h: monotonic and wall clocks in nanoseconds. Code that decides on
 * time takes `now` as a parameter; only the edges call these. */
#ifndef CM_CLOCK_H
#define CM_CLOCK_H

#include <stdint.h>

#define CM_NS_PER_US 1000LL
#define CM_NS_PER_MS 1000000LL
#define CM_NS_PER_S  1000000000LL

/* CLOCK_MONOTONIC, ns. */
int64_t cm_clock_mono_ns(void);
/* CLOCK_REALTIME, ns since the Unix epoch. */
int64_t cm_clock_wall_ns(void);
/* Sleep for ns (restarts on EINTR). */
void cm_clock_sleep_ns(int64_t ns);
/* UTC time formatting: "20261122T071956Z" (basic, SigV4 style) when basic != 0,
 * else "2026-11-22T07:19:56.123Z". out must hold 32 bytes. */
void cm_clock_format_utc(int64_t wall_ns, int basic, char out[32]);

#endif
