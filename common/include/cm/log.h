/* log.h: process log to stderr, plain text or JSON lines. Not for hot paths:
 * a failed request is a counter, never a log line. Thread-safe (one write()
 * per line). */
#ifndef CM_LOG_H
#define CM_LOG_H

enum cm_log_level {
    CM_LOG_DEBUG = 0,
    CM_LOG_INFO = 1,
    CM_LOG_WARN = 2,
    CM_LOG_ERROR = 3,
    CM_LOG_OFF = 4,
};

/* Defaults: INFO, plain text, program name "loadgen". Set once at start. */
void cm_log_set_level(enum cm_log_level level);
void cm_log_set_json(int on);
void cm_log_set_prog(const char *prog);
/* Parses "debug", "info", "warn", "error", "off"; 0 or CM_EINVAL. */
int cm_log_parse_level(const char *s, enum cm_log_level *out);
int cm_log_enabled(enum cm_log_level level);

void cm_log(enum cm_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define cm_debug(...) cm_log(CM_LOG_DEBUG, __VA_ARGS__)
#define cm_info(...)  cm_log(CM_LOG_INFO, __VA_ARGS__)
#define cm_warn(...)  cm_log(CM_LOG_WARN, __VA_ARGS__)
#define cm_error(...) cm_log(CM_LOG_ERROR, __VA_ARGS__)

#endif
