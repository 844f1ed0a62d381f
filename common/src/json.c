/* json.c: helpers over cJSON (see json.h). */
#include "cm/json.h"

#include "cm/buf.h"
#include "cm/err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cJSON *cm_json_parse(const char *p, size_t n)
{
    /* cJSON stops after the first value and ignores what follows ("{}x",
     * "1 2"); one JSON text may only be followed by whitespace. */
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(p, n, &end, 0);
    if (!v)
        return NULL;
    size_t i = (size_t)(end - p);
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    if (i < n) {
        cJSON_Delete(v);
        return NULL;
    }
    return v;
}

const char *cm_json_str(const cJSON *obj, const char *key, const char *fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : fallback;
}

double cm_json_num(const cJSON *obj, const char *key, double fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    /* JSON has no NaN or infinity; cJSON makes an infinity out of an
     * overflowing literal such as 1e400. */
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : fallback;
}

int64_t cm_json_int(const cJSON *obj, const char *key, int64_t fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v))
        return fallback;
    /* valuedouble holds the full 53-bit precision; valueint saturates at
     * INT_MAX. Converting a double outside [-2^63, 2^63) (or NaN) to int64_t
     * is undefined, so those fall back. Both bounds are exact doubles. */
    double d = v->valuedouble;
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
        return fallback;
    return (int64_t)d;
}

int cm_json_bool(const cJSON *obj, const char *key, int fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : fallback;
}

/* Deeper trees can only be built in code (cJSON's parser stops at 1000). */
#define JSON_MAX_DEPTH 1000

/* Numbers are printed here rather than by cJSON, whose printer accepts 15
 * significant digits whenever they read back within a relative DBL_EPSILON:
 * 9007199254740991 came out as 9.00719925474099e+15. Integers below 2^63
 * print exactly; other values with the fewest digits (15..17) that read
 * back as the same double; NaN and infinities, which JSON lacks, as null. */
static int append_number(struct cm_buf *out, double d)
{
    if (!isfinite(d))
        return cm_buf_puts(out, "null");
    if (d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0)
        return cm_buf_printf(out, "%lld", (long long)d);
    char tmp[32];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    return cm_buf_puts(out, tmp);
}

static int append_value(struct cm_buf *out, const cJSON *v, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        return CM_EINVAL;
    if (cJSON_IsNull(v))
        return cm_buf_puts(out, "null");
    if (cJSON_IsFalse(v))
        return cm_buf_puts(out, "false");
    if (cJSON_IsTrue(v))
        return cm_buf_puts(out, "true");
    if (cJSON_IsNumber(v))
        return append_number(out, v->valuedouble);
    if (cJSON_IsString(v))
        return v->valuestring ? cm_json_append_string(out, v->valuestring, strlen(v->valuestring))
                              : CM_EINVAL;
    if (cJSON_IsRaw(v))
        return v->valuestring ? cm_buf_puts(out, v->valuestring) : CM_EINVAL;
    int obj = cJSON_IsObject(v);
    if (!obj && !cJSON_IsArray(v))
        return CM_EINVAL;
    int rc = cm_buf_putc(out, obj ? '{' : '[');
    for (const cJSON *c = v->child; c && rc == 0; c = c->next) {
        if (c != v->child)
            rc = cm_buf_putc(out, ',');
        if (rc == 0 && obj)
            rc = c->string ? cm_json_append_string(out, c->string, strlen(c->string)) : CM_EINVAL;
        if (rc == 0 && obj)
            rc = cm_buf_putc(out, ':');
        if (rc == 0)
            rc = append_value(out, c, depth + 1);
    }
    return rc ? rc : cm_buf_putc(out, obj ? '}' : ']');
}

int cm_json_append(struct cm_buf *out, const cJSON *obj)
{
    if (!obj)
        return CM_EINVAL;
    size_t start = out->len;
    int rc = append_value(out, obj, 0);
    if (rc && out->data) {
        out->len = start;
        out->data[start] = '\0';
    }
    return rc;
}

int cm_json_append_string(struct cm_buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t start = out->len;
    int rc = cm_buf_reserve(out, n + 2);
    if (rc)
        return rc;
    rc = cm_buf_putc(out, '"');
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            rc = cm_buf_append(out, "\\\"", 2);
            break;
        case '\\':
            rc = cm_buf_append(out, "\\\\", 2);
            break;
        case '\n':
            rc = cm_buf_append(out, "\\n", 2);
            break;
        case '\r':
            rc = cm_buf_append(out, "\\r", 2);
            break;
        case '\t':
            rc = cm_buf_append(out, "\\t", 2);
            break;
        default:
            if (c < 0x20) {
                char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                rc = cm_buf_append(out, u, sizeof u);
            } else {
                rc = cm_buf_putc(out, (char)c);
            }
        }
    }
    if (rc == 0)
        rc = cm_buf_putc(out, '"');
    if (rc) {
        /* Escapes can pass the maximum midway: leave the buffer as it was. */
        out->len = start;
        out->data[start] = '\0';
    }
    return rc;
}
