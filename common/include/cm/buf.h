/* buf.h: growable byte buffer with a hard maximum. Passing the maximum is an
 * error (CM_ETOOBIG) and leaves the buffer as it was, never unbounded growth.
 * The data is always NUL-terminated after `len` bytes (not counted). */
#ifndef CM_BUF_H
#define CM_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct cm_buf {
    char *data; /* NULL until the first append; data[len] == '\0' after that */
    size_t len; /* bytes used, excluding the terminating NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* largest len allowed */
};

#define CM_BUF_MAX_DEFAULT ((size_t)64 << 20)

/* Caller-owned storage; max 0 means CM_BUF_MAX_DEFAULT. */
void cm_buf_init(struct cm_buf *b, size_t max);
void cm_buf_deinit(struct cm_buf *b);
/* len = 0, keeps the allocation. */
void cm_buf_reset(struct cm_buf *b);
/* Ensure room for n more bytes. 0 or CM_ETOOBIG. */
int cm_buf_reserve(struct cm_buf *b, size_t n);
int cm_buf_append(struct cm_buf *b, const void *p, size_t n);
int cm_buf_puts(struct cm_buf *b, const char *s);
int cm_buf_putc(struct cm_buf *b, char c);
int cm_buf_printf(struct cm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int cm_buf_vprintf(struct cm_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Always a valid C string ("" for an empty buffer); owned by b. */
const char *cm_buf_cstr(struct cm_buf *b);
/* Hand the data to the caller (free with free()), leaving b empty. */
char *cm_buf_steal(struct cm_buf *b, size_t *len);

#endif
