/* query_fuzz.c: the awsQuery form parser and time parser on arbitrary bytes.
 * Invariants: a rejected body always says why; an accepted one yields an
 * object whose leaves are strings, arrays or objects only, and writing it
 * back through the XML and JSON writers never fails or overflows. */
#include "cm/buf.h"
#include "cm/query.h"

#include <stdlib.h>
#include <string.h>

static void walk(const cJSON *j, struct cm_query_out *o, int depth)
{
    if (depth > 3 * CM_QUERY_MAX_DEPTH)
        abort();
    const cJSON *c;
    cJSON_ArrayForEach(c, j)
    {
        const char *name = c->string ? c->string : "";
        if (cJSON_IsString(c)) {
            cm_query_out_str(o, name, c->valuestring);
        } else if (cJSON_IsNull(c)) {
            if (!cJSON_IsArray(j))
                abort(); /* null only pads lists */
        } else if (cJSON_IsArray(c) || cJSON_IsObject(c)) {
            if (o->depth + 2 < CM_QUERY_MAX_DEPTH) {
                cm_query_out_open(o, name, cJSON_IsArray(c) ? CM_QUERY_LIST : CM_QUERY_OBJ);
                walk(c, o, depth + 1);
                cm_query_out_close(o);
            }
        } else {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    cJSON *j = NULL;
    const char *why = NULL;
    int rc = cm_query_parse(p, size, &j, &why);
    if (rc != 0) {
        if (!why || j)
            abort();
    } else {
        if (!cJSON_IsObject(j))
            abort();
        struct cm_buf b;
        cm_buf_init(&b, 0);
        for (int fmt = 0; fmt < 2; fmt++) {
            struct cm_query_out o;
            cm_buf_reset(&b);
            cm_query_out_begin(&o, &b, fmt ? CM_QUERY_JSON : CM_QUERY_XML, "Op", "urn:x", 1);
            walk(j, &o, 0);
            if (cm_query_out_end(&o, "r") != 0)
                abort();
            if (fmt) {
                cJSON *back = cJSON_Parse(cm_buf_cstr(&b));
                if (!back)
                    abort();
                cJSON_Delete(back);
            }
        }
        cm_buf_deinit(&b);
        cJSON_Delete(j);
    }
    int64_t ms;
    if (cm_query_parse_time_ms(p, size, &ms) == 0) {
        struct cm_buf b;
        cm_buf_init(&b, 0);
        if (cm_query_append_iso_ms(&b, ms) != 0)
            abort();
        cm_buf_deinit(&b);
    }
    char out[64];
    long n = cm_query_urldecode(p, size, out, sizeof out);
    if (n >= (long)sizeof out)
        abort();
    return 0;
}
