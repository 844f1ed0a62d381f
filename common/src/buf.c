/* buf.c: growable, bounded byte buffer (see buf.h). Growth doubles, capped at
 * max + 1 (room for the NUL). */
#include "cm/buf.h"

#include "cm/err.h"
#include "cm/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cm_buf_init(struct cm_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : CM_BUF_MAX_DEFAULT;
}

void cm_buf_deinit(struct cm_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void cm_buf_reset(struct cm_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int cm_buf_reserve(struct cm_buf *b, size_t n)
{
    if (n > b->max - b->len)
        return CM_ETOOBIG;
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    b->data = cm_xrealloc(b->data, cap);
    b->cap = cap;
    return 0;
}

int cm_buf_append(struct cm_buf *b, const void *p, size_t n)
{
    int rc = cm_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int cm_buf_puts(struct cm_buf *b, const char *s)
{
    return cm_buf_append(b, s, strlen(s));
}

int cm_buf_putc(struct cm_buf *b, char c)
{
    return cm_buf_append(b, &c, 1);
}

int cm_buf_vprintf(struct cm_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return CM_EINVAL;
    if ((size_t)n < sizeof small)
        return cm_buf_append(b, small, (size_t)n);
    int rc = cm_buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int cm_buf_printf(struct cm_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = cm_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

const char *cm_buf_cstr(struct cm_buf *b)
{
    return b->data ? b->data : "";
}

char *cm_buf_steal(struct cm_buf *b, size_t *len)
{
    char *p = b->data ? b->data : cm_xstrndup("", 0);
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
