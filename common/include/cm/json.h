/* json.h: small helpers over cJSON for the shapes AWS and our files use.
 * Getters return the fallback when the key is missing or of another type. */
#ifndef CM_JSON_H
#define CM_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

struct cm_buf;

/* Parses n bytes (need not be NUL terminated); NULL on malformed JSON. Free
 * with cJSON_Delete. */
cJSON *cm_json_parse(const char *p, size_t n);
const char *cm_json_str(const cJSON *obj, const char *key, const char *fallback);
/* Also the fallback for a non-finite value (cJSON reads 1e400 as infinity). */
double cm_json_num(const cJSON *obj, const char *key, double fallback);
/* Fractions truncate toward zero; values outside [-2^63, 2^63) give the
 * fallback. Integers above 2^53 come back rounded to a double's precision. */
int64_t cm_json_int(const cJSON *obj, const char *key, int64_t fallback);
int cm_json_bool(const cJSON *obj, const char *key, int fallback);
/* Appends obj as compact JSON, the shape of cJSON_PrintUnformatted but with
 * exact integers below 2^63 and NaN/infinity as null. 0, CM_ETOOBIG (out
 * unchanged) or CM_EINVAL (NULL or invalid item, nesting deeper than 1000). */
int cm_json_append(struct cm_buf *out, const cJSON *obj);
/* Appends s (n bytes) as a quoted JSON string with escapes. */
int cm_json_append_string(struct cm_buf *out, const char *s, size_t n);

#endif
