/* rt_int.h: private declarations shared by the rt_ modules. */
#ifndef RT_INT_H
#define RT_INT_H

#include <stddef.h>

/* Writes n bytes to fd, retrying short writes and EINTR; gives up silently
 * on other errors (a log that cannot be written is not a function error). */
void rt_write_all(int fd, const char *p, size_t n);
/* The fd log lines go to. */
int rt_log_fd(void);

#endif
