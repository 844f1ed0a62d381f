/* json.c: helpers over cJSON (see json.h). */
#include "cm/json.h"

#include "cm/buf.h"
#include "cm/err.h"

#include <stdio.h>
#include <stdlib.h>

cJSON *cm_json_parse(const char *p, size_t n)
{
    return cJSON_ParseWithLength(p, n);
}

const char *cm_json_str(const cJSON *obj, const char *key, const char *fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : fallback;
}

double cm_json_num(const cJSON *obj, const char *key, double fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : fallback;
}

int64_t cm_json_int(const cJSON *obj, const char *key, int64_t fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v))
        return fallback;
    /* valuedouble holds the full 53-bit precision; valueint saturates at INT_MAX. */
    return (int64_t)v->valuedouble;
}

int cm_json_bool(const cJSON *obj, const char *key, int fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : fallback;
}

int cm_json_append(struct cm_buf *out, const cJSON *obj)
{
    char *s = cJSON_PrintUnformatted(obj);
    if (!s)
        return CM_EINVAL;
    int rc = cm_buf_puts(out, s);
    cJSON_free(s);
    return rc;
}

int cm_json_append_string(struct cm_buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
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
    return rc ? rc : cm_buf_putc(out, '"');
}
