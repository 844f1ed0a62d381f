/* proc_test.c: cm_proc_rss_bytes tracks memory the process touches. */
#include <stdlib.h>
#include <string.h>

#include "../harness.h"
#include "cm/proc.h"

int main(void)
{
    int64_t before = cm_proc_rss_bytes();
    CHECK(before > 0);
    size_t n = 64u << 20;
    char *p = malloc(n);
    CHECK(p != NULL);
    if (p)
        memset(p, 1, n); /* touch every page */
    int64_t after = cm_proc_rss_bytes();
    CHECK_MSG(after - before >= (int64_t)(n * 9 / 10), "rss grew %lld bytes for %zu touched",
              (long long)(after - before), n);
    free(p);
    return TEST_REPORT();
}
