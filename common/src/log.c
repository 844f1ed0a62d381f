/* log.c: process logging to stderr, one write() per line so lines from
 * threads never interleave. JSON mode emits {"ts","level","prog","msg"};
 * every line is valid JSON (bytes that are not UTF-8 become U+FFFD). Lines
 * are bounded: messages are cut at 2047 bytes. */
#include "cm/log.h"

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

/* The line under construction: never longer than LOG_LINE_MAX - LOG_TAIL,
 * so the closing characters and the newline always fit. */
#define LOG_LINE_MAX 4608
#define LOG_TAIL     4   /* "\"}\n" and room to spare */
#define LOG_PROG_MAX 256 /* bytes of the program name taken into a JSON line */

struct log_line {
    char buf[LOG_LINE_MAX];
    size_t len;
};

static void put_raw(struct log_line *l, const char *s)
{
    for (; *s && l->len < LOG_LINE_MAX - LOG_TAIL; s++)
        l->buf[l->len++] = *s;
}

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0 if
 * it is not one (RFC 3629: no overlongs, no surrogates, nothing past
 * U+10FFFF). */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

/* Appends at most max bytes of s as the inside of a JSON string. Bytes that
 * are not well-formed UTF-8 (including a character cut by truncation)
 * become U+FFFD, so the line is always valid JSON. Stops, at a character
 * boundary, when the line is full. */
static void put_json(struct log_line *l, const char *s, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strnlen(s, max);
    const size_t room = LOG_LINE_MAX - LOG_TAIL;
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        char esc[6];
        const char *out = esc;
        size_t k = 0, used = 1;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            k = 2;
        } else if (c < 0x20) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            k = 6;
        } else if (c < 0x80) {
            esc[0] = (char)c;
            k = 1;
        } else if ((used = utf8_seq_len(p + i, n - i)) > 0) {
            out = s + i;
            k = used;
        } else {
            out = "\xef\xbf\xbd"; /* U+FFFD */
            k = 3;
            used = 1;
        }
        if (l->len + k > room)
            break;
        memcpy(l->buf + l->len, out, k);
        l->len += k;
        i += used;
    }
}

/* vsnprintf cut s at len bytes: drop a multi-byte character it split, so
 * the cut does not show up as U+FFFD. */
static void drop_cut_char(char *s, size_t len)
{
    size_t i = len;
    while (i > 0 && len - i < 4 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
        i--;
    if (i == 0 || (unsigned char)s[i - 1] < 0xc0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    if (len - (i - 1) < need)
        s[i - 1] = '\0';
}

void cm_log(enum cm_log_level level, const char *fmt, ...)
{
    if (!cm_log_enabled(level))
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (r >= (int)sizeof msg)
        drop_cut_char(msg, sizeof msg - 1);

    struct log_line l = {.len = 0};
    if (g_json) {
        char ts[32];
        cm_clock_format_utc(cm_clock_wall_ns(), 0, ts);
        put_raw(&l, "{\"ts\":\"");
        put_raw(&l, ts);
        put_raw(&l, "\",\"level\":\"");
        put_raw(&l, level_names[level]);
        put_raw(&l, "\",\"prog\":\"");
        /* The header is at most ~60 + 24 + 6 * LOG_PROG_MAX bytes, so none
         * of its raw parts is ever cut. */
        put_json(&l, g_prog, LOG_PROG_MAX);
        put_raw(&l, "\",\"msg\":\"");
        put_json(&l, msg, sizeof msg);
        memcpy(l.buf + l.len, "\"}\n", 3);
        l.len += 3;
    } else {
        put_raw(&l, g_prog);
        put_raw(&l, ": ");
        put_raw(&l, level == CM_LOG_ERROR ? "error: " : level == CM_LOG_WARN ? "warning: " : "");
        put_raw(&l, msg);
        l.buf[l.len++] = '\n';
    }
    ssize_t w = write(STDERR_FILENO, l.buf, l.len);
    (void)w;
}
