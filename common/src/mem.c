/* mem.c: aborting allocators. Out of memory is not a recoverable condition
 * for a load generator or an emulator: say so and stop. */
#include "cm/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die_oom(size_t n)
{
    fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", n);
    abort();
}

void *cm_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die_oom(n);
    return p;
}

void *cm_xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (!p)
        die_oom(nmemb * size);
    return p;
}

void *cm_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        die_oom(n);
    return q;
}

char *cm_xstrndup(const char *p, size_t n)
{
    char *s = cm_xmalloc(n + 1);
    if (n)
        memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

char *cm_xstrdup(const char *s)
{
    return cm_xstrndup(s, strlen(s));
}

size_t cm_strlcpy(char *dst, const char *src, size_t dst_size)
{
    size_t n = strlen(src);
    if (dst_size) {
        size_t c = n < dst_size - 1 ? n : dst_size - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}
