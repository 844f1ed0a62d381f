/* log.c: structured JSON log lines for functions, one object per line on
 * stdout, in the spirit of Powertools' Logger: every line carries the
 * function, the service, whether the environment is cold, and the request
 * and correlation ids of the invocation, so collectors can join log lines
 * with loadgen's requests. Not a general logger (the process log of tools is
 * cm_log). */
#include "rt.h"

#include "cm/clock.h"
#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"
#include "rt_int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define RT_LOG_NAME_MAX  256
#define RT_LOG_REQID_MAX 128
#define RT_LOG_MSG_MAX   8192
#define RT_LOG_LINE_MAX  ((size_t)256 << 10)

static struct {
    char function_name[RT_LOG_NAME_MAX];
    char service[RT_LOG_NAME_MAX];
    char request_id[RT_LOG_REQID_MAX];
    char correlation_id[RT_CORR_ID_MAX];
    int cold_start; /* 1 until the first invocation ends */
    int fd;
    enum cm_log_level level;
} g_log = {"function", "function", "", "", 1, 1, CM_LOG_INFO};

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR", "OFF"};

void rt_log_setup(const char *function_name, const char *service, int fd)
{
    cm_strlcpy(g_log.function_name, function_name ? function_name : "function",
               sizeof g_log.function_name);
    cm_strlcpy(g_log.service, service ? service : g_log.function_name, sizeof g_log.service);
    g_log.fd = fd;
}

void rt_log_set_level(enum cm_log_level level)
{
    g_log.level = level;
}

int rt_log_parse_level(const char *s, enum cm_log_level *out)
{
    static const struct {
        const char *name;
        enum cm_log_level level;
    } names[] = {
        {"debug", CM_LOG_DEBUG}, {"trace", CM_LOG_DEBUG},    {"info", CM_LOG_INFO},
        {"warn", CM_LOG_WARN},   {"warning", CM_LOG_WARN},   {"error", CM_LOG_ERROR},
        {"fatal", CM_LOG_ERROR}, {"critical", CM_LOG_ERROR}, {"off", CM_LOG_OFF},
    };
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].level;
            return 0;
        }
    }
    return CM_EINVAL;
}

void rt_log_begin_invocation(const char *request_id, const char *correlation_id, int cold_start)
{
    cm_strlcpy(g_log.request_id, request_id ? request_id : "", sizeof g_log.request_id);
    rt_log_set_correlation_id(correlation_id);
    g_log.cold_start = cold_start != 0;
}

void rt_log_end_invocation(void)
{
    g_log.request_id[0] = '\0';
    g_log.correlation_id[0] = '\0';
    g_log.cold_start = 0;
}

void rt_log_set_correlation_id(const char *id)
{
    cm_strlcpy(g_log.correlation_id, id ? id : "", sizeof g_log.correlation_id);
}

const char *rt_log_correlation_id(void)
{
    return g_log.correlation_id;
}

static int put_member(struct cm_buf *out, const char *key, const char *s)
{
    int rc = cm_buf_putc(out, ',');
    if (!rc)
        rc = cm_json_append_string(out, key, strlen(key));
    if (!rc)
        rc = cm_buf_putc(out, ':');
    if (!rc)
        rc = cm_json_append_string(out, s, strlen(s));
    return rc;
}

/* Numbers: integral values within 2^53 print exactly as integers; others
 * with 17 significant digits (round-trips a double); NaN/Inf are not JSON. */
static int put_number(struct cm_buf *out, double v)
{
    if (!isfinite(v))
        return cm_buf_puts(out, "null");
    if (v == floor(v) && fabs(v) < 9007199254740992.0)
        return cm_buf_printf(out, "%lld", (long long)v);
    return cm_buf_printf(out, "%.17g", v);
}

static int put_fields(struct cm_buf *out, const struct rt_log_field *fields, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!fields[i].key)
            continue;
        if (fields[i].str) {
            rc = put_member(out, fields[i].key, fields[i].str);
            continue;
        }
        rc = cm_buf_putc(out, ',');
        if (!rc)
            rc = cm_json_append_string(out, fields[i].key, strlen(fields[i].key));
        if (!rc)
            rc = cm_buf_putc(out, ':');
        if (!rc)
            rc = put_number(out, fields[i].num);
    }
    return rc;
}

int rt_log_format(struct cm_buf *out, int64_t now_ns, enum cm_log_level level,
                  const struct rt_log_field *fields, size_t n, const char *msg, size_t msg_len)
{
    char ts[32];
    cm_clock_format_utc(now_ns, 0, ts);
    if (level < CM_LOG_DEBUG || level > CM_LOG_ERROR)
        level = CM_LOG_ERROR;
    if (msg_len > RT_LOG_MSG_MAX)
        msg_len = RT_LOG_MSG_MAX;
    int rc = cm_buf_printf(out, "{\"timestamp\":\"%s\",\"level\":\"%s\",\"message\":", ts,
                           level_names[level]);
    if (!rc)
        rc = cm_json_append_string(out, msg, msg_len);
    if (!rc)
        rc = put_member(out, "service", g_log.service);
    if (!rc)
        rc = put_member(out, "functionName", g_log.function_name);
    if (!rc)
        rc = cm_buf_printf(out, ",\"coldStart\":%s", g_log.cold_start ? "true" : "false");
    if (!rc && g_log.request_id[0])
        rc = put_member(out, "requestId", g_log.request_id);
    if (!rc && g_log.correlation_id[0])
        rc = put_member(out, "correlationId", g_log.correlation_id);
    if (!rc)
        rc = put_fields(out, fields, n);
    if (!rc)
        rc = cm_buf_puts(out, "}\n");
    return rc;
}

/* One write() per line keeps lines whole even when other threads or the
 * EMF writer share the fd; loop only for short writes to pipes. */
void rt_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void log_v(enum cm_log_level level, const struct rt_log_field *fields, size_t n,
                  const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static void log_v(enum cm_log_level level, const struct rt_log_field *fields, size_t n,
                  const char *fmt, va_list ap)
{
    if (level < g_log.level || level >= CM_LOG_OFF)
        return;
    struct cm_buf line;
    cm_buf_init(&line, RT_LOG_LINE_MAX);
    /* A message over the cap is cut rather than dropped (vsnprintf
     * truncates); the line cap only bounds the extra fields. */
    char tmp[RT_LOG_MSG_MAX + 1];
    int m = vsnprintf(tmp, sizeof tmp, fmt, ap);
    size_t mlen = m < 0 ? 0 : (size_t)m >= sizeof tmp ? sizeof tmp - 1 : (size_t)m;
    if (rt_log_format(&line, cm_clock_wall_ns(), level, fields, n, tmp, mlen) == 0)
        rt_write_all(g_log.fd, line.data, line.len);
    cm_buf_deinit(&line);
}

void rt_log(enum cm_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_v(level, NULL, 0, fmt, ap);
    va_end(ap);
}

void rt_log_fields(enum cm_log_level level, const struct rt_log_field *fields, size_t n,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_v(level, fields, n, fmt, ap);
    va_end(ap);
}

/* Exposed to the other rt_ modules through rt_int.h. */
int rt_log_fd(void)
{
    return g_log.fd;
}
