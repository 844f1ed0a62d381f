/* error.c: function errors in the shape the Runtime API expects:
 * body {"errorMessage":"...","errorType":"...","stackTrace":[]} and the
 * Lambda-Runtime-Function-Error-Type header, whose value RIE and Lambda only
 * keep when it matches (Runtime|Function)\.[A-Z][a-zA-Z]+. */
#include "rt.h"

#include "cm/json.h"
#include "cm/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void rt_error_set(struct rt_error *err, const char *type, const char *fmt, ...)
{
    cm_strlcpy(err->type, type ? type : "Error", sizeof err->type);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}

int rt_error_body(const struct rt_error *err, struct cm_buf *out)
{
    const char *type = err->type[0] ? err->type : "Error";
    int rc = cm_buf_puts(out, "{\"errorMessage\":");
    rc = rc ? rc
            : cm_json_append_string(out, err->message, strnlen(err->message, sizeof err->message));
    rc = rc ? rc : cm_buf_puts(out, ",\"errorType\":");
    rc = rc ? rc : cm_json_append_string(out, type, strnlen(type, sizeof err->type));
    return rc ? rc : cm_buf_puts(out, ",\"stackTrace\":[]}");
}

static int is_header_type(const char *s)
{
    size_t skip;
    if (strncmp(s, "Runtime.", 8) == 0)
        skip = 8;
    else if (strncmp(s, "Function.", 9) == 0)
        skip = 9;
    else
        return 0;
    s += skip;
    if (!(*s >= 'A' && *s <= 'Z'))
        return 0;
    for (s++; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
            return 0;
    return 1;
}

const char *rt_error_header_type(const struct rt_error *err, const char *fallback)
{
    if (err && memchr(err->type, '\0', sizeof err->type) && is_header_type(err->type))
        return err->type;
    return fallback;
}
