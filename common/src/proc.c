/* proc.c: see proc.h. */
#include "cm/proc.h"

#include <stdio.h>
#include <unistd.h>

int64_t cm_proc_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long size = 0, resident = 0;
    if (!f)
        return -1;
    int n = fscanf(f, "%lld %lld", &size, &resident);
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    if (n != 2 || page <= 0)
        return -1;
    return (int64_t)resident * page;
}
