/* mem.h: allocation that aborts on out-of-memory, so callers never test for
 * NULL. Free with free(). */
#ifndef CM_MEM_H
#define CM_MEM_H

#include <stddef.h>

void *cm_xmalloc(size_t n);
void *cm_xcalloc(size_t nmemb, size_t size);
void *cm_xrealloc(void *p, size_t n);
char *cm_xstrdup(const char *s);
/* Copies n bytes of p (need not be NUL terminated) and terminates the copy. */
char *cm_xstrndup(const char *p, size_t n);

/* Bounded copy that always terminates dst (dst_size > 0); returns strlen(src),
 * so a result >= dst_size means the copy was truncated. */
size_t cm_strlcpy(char *dst, const char *src, size_t dst_size);

#endif
