/* log.c: process logging to stderr, one write() per line so lines from
 * threads never interleave. JSON mode emits {"ts","level","prog","msg"}. */
#include "cm/log.h"

#include "cm/buf.h"
#include "cm/clock.h"
#include "cm/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static enum cm_log_level g_level = CM_LOG_INFO;
static int g_json;
static const char *g_prog = "loadgen";

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

void cm_log_set_level(enum cm_log_level level)
{
    g_level = level;
}

void cm_log_set_json(int on)
{
    g_json = on;
}

void cm_log_set_prog(const char *prog)
{
    g_prog = prog;
}

int cm_log_parse_level(const char *s, enum cm_log_level *out)
{
    for (int i = 0; i <= CM_LOG_OFF; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum cm_log_level)i;
            return 0;
        }
    }
    return CM_EINVAL;
}

int cm_log_enabled(enum cm_log_level level)
{
    return level >= g_level && level < CM_LOG_OFF;
}

static void put_json_string(char *dst, size_t cap, size_t *len, const char *s)
{
    for (; *s && *len + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            dst[(*len)++] = '\\';
            dst[(*len)++] = (char)c;
        } else if (c < 0x20) {
            *len += (size_t)snprintf(dst + *len, cap - *len, "\\u%04x", c);
        } else {
            dst[(*len)++] = (char)c;
        }
    }
}

void cm_log(enum cm_log_level level, const char *fmt, ...)
{
    if (!cm_log_enabled(level))
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    char line[4608];
    size_t len;
    if (g_json) {
        char ts[32];
        cm_clock_format_utc(cm_clock_wall_ns(), 0, ts);
        len = (size_t)snprintf(line, sizeof line,
                               "{\"ts\":\"%s\",\"level\":\"%s\",\"prog\":\"%s\",\"msg\":\"", ts,
                               level_names[level], g_prog);
        put_json_string(line, sizeof line, &len, msg);
        len += (size_t)snprintf(line + len, sizeof line - len, "\"}\n");
    } else {
        len = (size_t)snprintf(line, sizeof line, "%s: %s%s\n", g_prog,
                               level == CM_LOG_ERROR  ? "error: "
                               : level == CM_LOG_WARN ? "warning: "
                                                      : "",
                               msg);
    }
    if (len >= sizeof line)
        len = sizeof line - 1;
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
