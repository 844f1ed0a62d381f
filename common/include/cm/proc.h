/* proc.h: facts about the running process that benchmarks and scale tests
 * report (resident memory). Linux only: reads /proc/self. */
#ifndef CM_PROC_H
#define CM_PROC_H

#include <stdint.h>

/* Resident set size of this process in bytes (/proc/self/statm times the
 * page size), or -1 when it cannot be read. */
int64_t cm_proc_rss_bytes(void);

#endif
