/* query.c: awsQuery request parsing and the XML/JSON response writer (see
 * query.h). The parser keeps each array's element count in the array node's
 * otherwise unused `valueint`, so appending the N-th element of a list that
 * arrives in order (as every AWS SDK sends it) is O(1), not O(N). */
#include "cm/query.h"

#include "cm/buf.h"
#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long cm_query_urldecode(const char *p, size_t n, char *out, size_t out_size)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)p[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 1 < n ? hexval((unsigned char)p[i + 1]) : -1;
            int lo = i + 2 < n ? hexval((unsigned char)p[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return CM_EPARSE;
            c = hi * 16 + lo;
            i += 2;
        }
        if (c == 0)
            return CM_EPARSE;
        if (o + 1 >= out_size)
            return CM_ETOOBIG;
        out[o++] = (char)c;
    }
    if (out_size == 0)
        return CM_ETOOBIG;
    out[o] = '\0';
    return (long)o;
}

/* "1".."10000" -> index; 0 when seg is not all digits; CM_EPARSE for "0",
 * CM_ETOOBIG past the maximum. */
static long parse_index(const char *s, size_t n)
{
    if (n == 0 || n > 9)
        return n > 9 && strspn(s, "0123456789") >= n ? CM_ETOOBIG : 0;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    if (v == 0)
        return CM_EPARSE;
    return v > CM_QUERY_MAX_INDEX ? CM_ETOOBIG : v;
}

struct seg {
    const char *p;
    size_t n;
};

static int split_key(const char *key, struct seg *segs, int max, const char **why)
{
    int ns = 0;
    const char *s = key;
    for (;;) {
        const char *dot = strchr(s, '.');
        size_t len = dot ? (size_t)(dot - s) : strlen(s);
        if (len == 0) {
            *why = "empty segment in parameter name";
            return CM_EPARSE;
        }
        if (ns == max) {
            *why = "parameter name nested too deeply";
            return CM_ETOOBIG;
        }
        segs[ns].p = s;
        segs[ns].n = len;
        ns++;
        if (!dot)
            break;
        s = dot + 1;
    }
    return ns;
}

/* Element idx (1-based) of arr, creating null padding as needed. */
static cJSON *array_slot(cJSON *arr, long idx, const char **why)
{
    long size = arr->valueint;
    if (idx > size + CM_QUERY_MAX_GAP) {
        *why = "list index skips too many elements";
        return NULL;
    }
    while (size < idx) {
        cJSON_AddItemToArray(arr, cJSON_CreateNull());
        size++;
    }
    arr->valueint = (int)size;
    if (idx == size)
        return arr->child->prev; /* cJSON keeps the tail in head->prev */
    return cJSON_GetArrayItem(arr, (int)(idx - 1));
}

static cJSON *child_array(cJSON *cur, const struct seg *name, const char **why)
{
    char nm[256];
    if (name->n >= sizeof nm) {
        *why = "parameter name too long";
        return NULL;
    }
    memcpy(nm, name->p, name->n);
    nm[name->n] = '\0';
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(cur, nm);
    if (!arr) {
        arr = cJSON_CreateArray();
        arr->valueint = 0;
        cJSON_AddItemToObject(cur, nm, arr);
    } else if (!cJSON_IsArray(arr)) {
        *why = "parameter used both as a value and as a list";
        return NULL;
    }
    return arr;
}

/* Replaces (or adds) cur[name] / the list slot with a new node. */
static void put_member(cJSON *cur, const struct seg *name, cJSON *v)
{
    char nm[256];
    size_t n = name->n < sizeof nm - 1 ? name->n : sizeof nm - 1;
    memcpy(nm, name->p, n);
    nm[n] = '\0';
    if (cJSON_GetObjectItemCaseSensitive(cur, nm))
        cJSON_ReplaceItemInObjectCaseSensitive(cur, nm, v);
    else
        cJSON_AddItemToObject(cur, nm, v);
}

static int set_path(cJSON *root, const char *key, const char *val, const char **why)
{
    struct seg segs[CM_QUERY_MAX_DEPTH * 3];
    int ns = split_key(key, segs, (int)(sizeof segs / sizeof segs[0]), why);
    if (ns < 0)
        return ns;
    cJSON *cur = root;
    for (int i = 0; i < ns;) {
        if (segs[i].n >= 256) {
            *why = "parameter name too long";
            return CM_ETOOBIG;
        }
        int skip = 0;
        long idx = 0;
        if (i + 2 < ns && segs[i + 1].n == 6 && memcmp(segs[i + 1].p, "member", 6) == 0) {
            idx = parse_index(segs[i + 2].p, segs[i + 2].n);
            skip = 3;
        }
        if (idx == 0 && i + 1 < ns) {
            idx = parse_index(segs[i + 1].p, segs[i + 1].n);
            skip = 2;
        }
        if (idx < 0) {
            *why = idx == CM_EPARSE ? "list index 0 (indexes start at 1)" : "list index too large";
            return (int)idx;
        }
        int last;
        cJSON *node;
        if (idx > 0) {
            cJSON *arr = child_array(cur, &segs[i], why);
            if (!arr)
                return CM_EPARSE;
            node = array_slot(arr, idx, why);
            if (!node)
                return CM_ETOOBIG;
            last = i + skip == ns;
            if (last) {
                cJSON_ReplaceItemViaPointer(arr, node, cJSON_CreateString(val));
                return 0;
            }
            if (cJSON_IsNull(node)) {
                cJSON *obj = cJSON_CreateObject();
                cJSON_ReplaceItemViaPointer(arr, node, obj);
                node = obj;
            }
            i += skip;
        } else {
            last = i + 1 == ns;
            char nm[256];
            memcpy(nm, segs[i].p, segs[i].n);
            nm[segs[i].n] = '\0';
            node = cJSON_GetObjectItemCaseSensitive(cur, nm);
            if (last) {
                if (node && (cJSON_IsObject(node) || cJSON_IsArray(node))) {
                    *why = "parameter used both as a value and as a structure";
                    return CM_EPARSE;
                }
                put_member(cur, &segs[i], cJSON_CreateString(val));
                return 0;
            }
            if (!node) {
                node = cJSON_CreateObject();
                cJSON_AddItemToObject(cur, nm, node);
            }
            i++;
        }
        if (!cJSON_IsObject(node)) {
            *why = "parameter used both as a value and as a structure";
            return CM_EPARSE;
        }
        cur = node;
    }
    return 0;
}

int cm_query_parse(const char *p, size_t n, cJSON **out, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    *out = NULL;
    cJSON *root = cJSON_CreateObject();
    char *kbuf = cm_xmalloc(n + 1), *vbuf = cm_xmalloc(n + 1);
    int rc = 0, params = 0;
    size_t i = 0;
    while (i < n && rc == 0) {
        const char *amp = memchr(p + i, '&', n - i);
        size_t end = amp ? (size_t)(amp - p) : n;
        if (end > i) {
            const char *eq = memchr(p + i, '=', end - i);
            size_t klen = eq ? (size_t)(eq - (p + i)) : end - i;
            const char *v = eq ? eq + 1 : p + end;
            size_t vlen = (size_t)(p + end - v);
            if (++params > CM_QUERY_MAX_PARAMS) {
                *why = "too many parameters";
                rc = CM_ETOOBIG;
                break;
            }
            long kl = cm_query_urldecode(p + i, klen, kbuf, n + 1);
            long vl = cm_query_urldecode(v, vlen, vbuf, n + 1);
            if (kl < 0 || vl < 0) {
                *why = "malformed %-escape in form body";
                rc = CM_EPARSE;
                break;
            }
            if (kl == 0) {
                *why = "empty parameter name";
                rc = CM_EPARSE;
                break;
            }
            rc = set_path(root, kbuf, vbuf, why);
        }
        i = end + 1;
    }
    free(kbuf);
    free(vbuf);
    if (rc) {
        cJSON_Delete(root);
        return rc;
    }
    *out = root;
    return 0;
}

int cm_query_get_num(const cJSON *obj, const char *key, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v))
        return 0;
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return 1;
    }
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return CM_EINVAL;
    char *end;
    errno = 0;
    double d = strtod(v->valuestring, &end);
    if (*end || errno == ERANGE || !isfinite(d))
        return CM_EINVAL;
    *out = d;
    return 1;
}

int cm_query_get_bool(const cJSON *obj, const char *key, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v))
        return 0;
    if (cJSON_IsBool(v)) {
        *out = cJSON_IsTrue(v);
        return 1;
    }
    if (cJSON_IsString(v)) {
        if (strcasecmp(v->valuestring, "true") == 0) {
            *out = 1;
            return 1;
        }
        if (strcasecmp(v->valuestring, "false") == 0) {
            *out = 0;
            return 1;
        }
    }
    return CM_EINVAL;
}

const cJSON *cm_query_get_list(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsArray(v) ? v : NULL;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const char *p, size_t n, size_t *pos, int count, int *out)
{
    int v = 0;
    for (int i = 0; i < count; i++) {
        if (*pos >= n || !isdigit((unsigned char)p[*pos]))
            return CM_EINVAL;
        v = v * 10 + (p[(*pos)++] - '0');
    }
    *out = v;
    return 0;
}

static int expect(const char *p, size_t n, size_t *pos, const char *any)
{
    if (*pos >= n || !strchr(any, p[*pos]) || p[*pos] == '\0')
        return CM_EINVAL;
    (*pos)++;
    return 0;
}

static int parse_epoch_text(const char *p, size_t n, int64_t *out_ms)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return CM_EINVAL;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    double d = strtod(tmp, &end);
    if (*end || errno == ERANGE || !isfinite(d) || fabs(d) > 1e13)
        return CM_EINVAL;
    *out_ms = llround(d * 1000.0);
    return 0;
}

int cm_query_parse_time_ms(const char *p, size_t n, int64_t *out_ms)
{
    size_t pos = 0;
    int y, mo, d, h, mi, s;
    if (n < 19 || memchr(p, '-', n) == NULL || (n > 4 && p[4] != '-'))
        return parse_epoch_text(p, n, out_ms);
    if (digits(p, n, &pos, 4, &y) || expect(p, n, &pos, "-") || digits(p, n, &pos, 2, &mo) ||
        expect(p, n, &pos, "-") || digits(p, n, &pos, 2, &d) || expect(p, n, &pos, "Tt ") ||
        digits(p, n, &pos, 2, &h) || expect(p, n, &pos, ":") || digits(p, n, &pos, 2, &mi) ||
        expect(p, n, &pos, ":") || digits(p, n, &pos, 2, &s))
        return CM_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return CM_EINVAL;
    int64_t ms = 0;
    if (pos < n && p[pos] == '.') {
        pos++;
        int64_t scale = 100;
        size_t start = pos;
        while (pos < n && isdigit((unsigned char)p[pos])) {
            ms += (p[pos] - '0') * scale;
            scale /= 10;
            pos++;
        }
        if (pos == start)
            return CM_EINVAL;
    }
    int64_t off_min = 0;
    if (pos < n && (p[pos] == 'Z' || p[pos] == 'z')) {
        pos++;
    } else if (pos < n && (p[pos] == '+' || p[pos] == '-')) {
        int sign = p[pos++] == '-' ? -1 : 1, oh, om;
        if (digits(p, n, &pos, 2, &oh))
            return CM_EINVAL;
        if (pos < n && p[pos] == ':')
            pos++;
        if (digits(p, n, &pos, 2, &om) || oh > 23 || om > 59)
            return CM_EINVAL;
        off_min = sign * (oh * 60 + om);
    }
    if (pos != n)
        return CM_EINVAL;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - off_min * 60;
    *out_ms = secs * 1000 + ms;
    return 0;
}

int cm_query_get_time_ms(const cJSON *obj, const char *key, int64_t *out_ms)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v))
        return 0;
    if (cJSON_IsNumber(v)) {
        if (!isfinite(v->valuedouble) || fabs(v->valuedouble) > 1e13)
            return CM_EINVAL;
        *out_ms = llround(v->valuedouble * 1000.0);
        return 1;
    }
    if (!cJSON_IsString(v))
        return CM_EINVAL;
    if (cm_query_parse_time_ms(v->valuestring, strlen(v->valuestring), out_ms))
        return CM_EINVAL;
    return 1;
}

int cm_query_append_double(struct cm_buf *out, double v, int xml_style)
{
    char tmp[40];
    if (!isfinite(v))
        return cm_buf_puts(out, xml_style ? (isnan(v) ? "NaN"
                                             : v > 0  ? "Infinity"
                                                      : "-Infinity")
                                          : "null");
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(tmp, sizeof tmp, "%.0f", v == 0 ? 0.0 : v); /* no "-0" */
    } else {
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(tmp, sizeof tmp, "%.*g", prec, v);
            if (strtod(tmp, NULL) == v)
                break;
        }
    }
    int rc = cm_buf_puts(out, tmp);
    if (rc == 0 && xml_style && !strpbrk(tmp, ".e"))
        rc = cm_buf_puts(out, ".0");
    return rc;
}

int cm_query_append_iso_ms(struct cm_buf *out, int64_t ms)
{
    int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int frac = (int)(ms - secs * 1000);
    /* civil_from_days (H. Hinnant) */
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t sod = secs - days * 86400;
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    int rc = cm_buf_printf(out, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld", (long long)y,
                           (long long)m, (long long)d, (long long)(sod / 3600),
                           (long long)(sod / 60 % 60), (long long)(sod % 60));
    if (rc == 0 && frac)
        rc = cm_buf_printf(out, ".%03d", frac);
    return rc ? rc : cm_buf_putc(out, 'Z');
}

int cm_query_append_xml_text(struct cm_buf *out, const char *s, size_t n)
{
    int rc = 0;
    size_t run = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        case '\r':
            rep = "&#13;";
            break;
        default:
            break;
        }
        if (rep) {
            rc = cm_buf_append(out, s + run, i - run);
            if (rc == 0)
                rc = cm_buf_puts(out, rep);
            run = i + 1;
        }
    }
    return rc ? rc : cm_buf_append(out, s + run, n - run);
}

static void keep(struct cm_query_out *o, int rc)
{
    if (rc && !o->err)
        o->err = rc;
}

void cm_query_out_begin(struct cm_query_out *o, struct cm_buf *buf, enum cm_query_fmt fmt,
                        const char *op, const char *xmlns, int has_result)
{
    memset(o, 0, sizeof *o);
    o->buf = buf;
    o->fmt = fmt;
    o->op = op;
    o->has_result = has_result;
    o->kind[0] = CM_QUERY_OBJ;
    if (fmt == CM_QUERY_JSON) {
        keep(o, cm_buf_putc(buf, '{'));
        return;
    }
    keep(o, cm_buf_printf(buf, "<?xml version=\"1.0\"?>\n<%sResponse xmlns=\"%s\">", op, xmlns));
    if (has_result)
        keep(o, cm_buf_printf(buf, "<%sResult>", op));
}

/* Writes what precedes a member's value: JSON separator and key, XML open tag. */
static void member_open(struct cm_query_out *o, const char *name)
{
    int k = o->kind[o->depth];
    if (o->fmt == CM_QUERY_JSON) {
        if (o->count[o->depth]++)
            keep(o, cm_buf_putc(o->buf, ','));
        if (k != CM_QUERY_LIST) {
            keep(o, cm_json_append_string(o->buf, name, strlen(name)));
            keep(o, cm_buf_putc(o->buf, ':'));
        }
        return;
    }
    o->count[o->depth]++;
    if (k == CM_QUERY_LIST) {
        keep(o, cm_buf_puts(o->buf, "<member>"));
    } else if (k == CM_QUERY_MAP) {
        keep(o, cm_buf_puts(o->buf, "<entry><key>"));
        keep(o, cm_query_append_xml_text(o->buf, name, strlen(name)));
        keep(o, cm_buf_puts(o->buf, "</key><value>"));
    } else {
        keep(o, cm_buf_printf(o->buf, "<%s>", name));
    }
}

static void member_close(struct cm_query_out *o, const char *name)
{
    if (o->fmt == CM_QUERY_JSON)
        return;
    int k = o->kind[o->depth];
    if (k == CM_QUERY_LIST)
        keep(o, cm_buf_puts(o->buf, "</member>"));
    else if (k == CM_QUERY_MAP)
        keep(o, cm_buf_puts(o->buf, "</value></entry>"));
    else
        keep(o, cm_buf_printf(o->buf, "</%s>", name));
}

void cm_query_out_open(struct cm_query_out *o, const char *name, enum cm_query_kind kind)
{
    if (o->depth + 1 >= CM_QUERY_MAX_DEPTH) {
        keep(o, CM_ESTATE);
        return;
    }
    member_open(o, name);
    if (o->fmt == CM_QUERY_JSON)
        keep(o, cm_buf_putc(o->buf, kind == CM_QUERY_LIST ? '[' : '{'));
    o->depth++;
    o->kind[o->depth] = (unsigned char)kind;
    o->count[o->depth] = 0;
    o->names[o->depth] = name;
}

void cm_query_out_close(struct cm_query_out *o)
{
    if (o->depth == 0) {
        keep(o, CM_ESTATE);
        return;
    }
    const char *name = o->names[o->depth];
    if (o->fmt == CM_QUERY_JSON)
        keep(o, cm_buf_putc(o->buf, o->kind[o->depth] == CM_QUERY_LIST ? ']' : '}'));
    o->depth--;
    member_close(o, name);
}

void cm_query_out_strn(struct cm_query_out *o, const char *name, const char *s, size_t n)
{
    member_open(o, name);
    if (o->fmt == CM_QUERY_JSON)
        keep(o, cm_json_append_string(o->buf, s, n));
    else
        keep(o, cm_query_append_xml_text(o->buf, s, n));
    member_close(o, name);
}

void cm_query_out_str(struct cm_query_out *o, const char *name, const char *s)
{
    cm_query_out_strn(o, name, s, strlen(s));
}

void cm_query_out_num(struct cm_query_out *o, const char *name, double v)
{
    member_open(o, name);
    keep(o, cm_query_append_double(o->buf, v, o->fmt == CM_QUERY_XML));
    member_close(o, name);
}

void cm_query_out_int(struct cm_query_out *o, const char *name, int64_t v)
{
    member_open(o, name);
    keep(o, cm_buf_printf(o->buf, "%lld", (long long)v));
    member_close(o, name);
}

void cm_query_out_bool(struct cm_query_out *o, const char *name, int v)
{
    member_open(o, name);
    keep(o, cm_buf_puts(o->buf, v ? "true" : "false"));
    member_close(o, name);
}

void cm_query_out_time_ms(struct cm_query_out *o, const char *name, int64_t ms)
{
    member_open(o, name);
    if (o->fmt == CM_QUERY_JSON)
        keep(o, cm_query_append_double(o->buf, (double)ms / 1000.0, 0));
    else
        keep(o, cm_query_append_iso_ms(o->buf, ms));
    member_close(o, name);
}

int cm_query_out_end(struct cm_query_out *o, const char *request_id)
{
    if (o->depth != 0)
        keep(o, CM_ESTATE);
    while (o->depth > 0)
        cm_query_out_close(o);
    if (o->fmt == CM_QUERY_JSON) {
        keep(o, cm_buf_putc(o->buf, '}'));
        return o->err;
    }
    if (o->has_result)
        keep(o, cm_buf_printf(o->buf, "</%sResult>", o->op));
    keep(o, cm_buf_puts(o->buf, "<ResponseMetadata><RequestId>"));
    keep(o, cm_query_append_xml_text(o->buf, request_id, strlen(request_id)));
    keep(o, cm_buf_printf(o->buf, "</RequestId></ResponseMetadata></%sResponse>", o->op));
    return o->err;
}

int cm_query_error_body(struct cm_buf *out, enum cm_query_fmt fmt, const char *xmlns, int sender,
                        const char *code, const char *json_type, const char *message,
                        const char *request_id)
{
    int rc;
    if (fmt == CM_QUERY_JSON) {
        rc = cm_buf_puts(out, "{\"__type\":");
        if (rc == 0)
            rc = cm_json_append_string(out, json_type, strlen(json_type));
        if (rc == 0)
            rc = cm_buf_puts(out, ",\"message\":");
        if (rc == 0)
            rc = cm_json_append_string(out, message, strlen(message));
        return rc ? rc : cm_buf_putc(out, '}');
    }
    rc = cm_buf_printf(out,
                       "<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"%s\"><Error><Type>%s</Type>"
                       "<Code>",
                       xmlns, sender ? "Sender" : "Receiver");
    if (rc == 0)
        rc = cm_query_append_xml_text(out, code, strlen(code));
    if (rc == 0)
        rc = cm_buf_puts(out, "</Code><Message>");
    if (rc == 0)
        rc = cm_query_append_xml_text(out, message, strlen(message));
    if (rc == 0)
        rc = cm_buf_puts(out, "</Message><Detail/></Error><RequestId>");
    if (rc == 0)
        rc = cm_query_append_xml_text(out, request_id, strlen(request_id));
    return rc ? rc : cm_buf_puts(out, "</RequestId></ErrorResponse>");
}
