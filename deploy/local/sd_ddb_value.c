/* sd_ddb_value.c: DynamoDB values for stackd: exact decimal numbers (parse,
 * compare, add, subtract, format, a memcmp-sortable key), base64, and
 * AttributeValue validation, size, equality and ordering (see sd_ddb_int.h).
 * Numbers never go through double: DynamoDB keeps 38 significant digits. */
#include "sd_ddb_int.h"

#include "cm/err.h"
#include "cm/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEC_MAX_ADJ  126  /* 9.99..E+125: adjusted exponent ndig + exp <= 126 */
#define DEC_MIN_ADJ  -129 /* 1E-130 */
#define DEC_MAX_TEXT 1024
#define AV_MAX_DEPTH 32

/* ---- decimal ------------------------------------------------------------- */

/* Strips leading/trailing zeros of raw digits r[0..n) into d (exp adjusted). */
static int dec_from_digits(const char *r, int n, int exp, int neg, struct sd_ddb_dec *d,
                           const char **why)
{
    while (n > 0 && r[0] == '0') {
        r++;
        n--;
    }
    while (n > 0 && r[n - 1] == '0') {
        n--;
        exp++;
    }
    memset(d, 0, sizeof(*d));
    if (n == 0)
        return 0;
    if (n > SD_DDB_DEC_DIGITS) {
        *why = "Attempting to store more than 38 significant digits in a Number";
        return CM_ERANGE;
    }
    if (n + exp > DEC_MAX_ADJ) {
        *why = "Number overflow. Attempting to store a number with magnitude larger than "
               "supported range";
        return CM_ERANGE;
    }
    if (n + exp < DEC_MIN_ADJ) {
        *why = "Number underflow. Attempting to store a number with magnitude smaller than "
               "supported range";
        return CM_ERANGE;
    }
    d->neg = neg;
    d->ndig = n;
    d->exp = exp;
    memcpy(d->dig, r, (size_t)n);
    return 0;
}

int sd_ddb_dec_parse(const char *s, size_t n, struct sd_ddb_dec *out, const char **why)
{
    char raw[DEC_MAX_TEXT];
    int nr = 0, exp = 0, neg = 0, seen = 0, dot = 0;
    size_t i = 0;
    *why = "The parameter cannot be converted to a numeric value";
    if (n == 0 || n >= DEC_MAX_TEXT)
        return CM_EINVAL;
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        i++;
    }
    for (; i < n; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            raw[nr++] = c;
            seen = 1;
            if (dot)
                exp--;
        } else if (c == '.' && !dot) {
            dot = 1;
        } else {
            break;
        }
    }
    if (!seen)
        return CM_EINVAL;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        int eneg = 0, ev = 0, edig = 0;
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            eneg = s[i++] == '-';
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, edig++)
            if (ev < 100000)
                ev = ev * 10 + (s[i] - '0');
        if (!edig)
            return CM_EINVAL;
        exp += eneg ? -ev : ev;
    }
    if (i != n)
        return CM_EINVAL;
    return dec_from_digits(raw, nr, exp, neg, out, why);
}

/* Compares magnitudes. */
static int dec_cmp_abs(const struct sd_ddb_dec *a, const struct sd_ddb_dec *b)
{
    if (a->ndig == 0 || b->ndig == 0)
        return (a->ndig != 0) - (b->ndig != 0);
    int aa = a->ndig + a->exp, ab = b->ndig + b->exp;
    if (aa != ab)
        return aa < ab ? -1 : 1;
    int n = a->ndig > b->ndig ? a->ndig : b->ndig;
    for (int i = 0; i < n; i++) {
        char ca = i < a->ndig ? a->dig[i] : '0', cb = i < b->ndig ? b->dig[i] : '0';
        if (ca != cb)
            return ca < cb ? -1 : 1;
    }
    return 0;
}

int sd_ddb_dec_cmp(const struct sd_ddb_dec *a, const struct sd_ddb_dec *b)
{
    int sa = a->ndig == 0 ? 0 : (a->neg ? -1 : 1), sb = b->ndig == 0 ? 0 : (b->neg ? -1 : 1);
    if (sa != sb)
        return sa < sb ? -1 : 1;
    int c = dec_cmp_abs(a, b);
    return sa < 0 ? -c : c;
}

/* Both operands within range span adjusted exponents -129..126 plus 38
 * digits, so an aligned integer needs at most 126 + 129 + 38 < 300 digits. */
#define DEC_WORK 320

/* Writes |d| * 10^(d->exp - e) right-aligned into w[DEC_WORK] (digit values). */
static void dec_align(const struct sd_ddb_dec *d, int e, unsigned char *w)
{
    memset(w, 0, DEC_WORK);
    int shift = d->exp - e; /* >= 0 */
    int end = DEC_WORK - shift;
    for (int i = 0; i < d->ndig; i++)
        w[end - d->ndig + i] = (unsigned char)(d->dig[i] - '0');
}

static int dec_addsub(const struct sd_ddb_dec *a, const struct sd_ddb_dec *b, int negate_b,
                      struct sd_ddb_dec *out, const char **why)
{
    unsigned char wa[DEC_WORK], wb[DEC_WORK], wr[DEC_WORK];
    char txt[DEC_WORK];
    int bneg = negate_b ? !b->neg : b->neg;
    if (b->ndig == 0) {
        *out = *a;
        return 0;
    }
    if (a->ndig == 0) {
        *out = *b;
        out->neg = bneg;
        return 0;
    }
    int e = a->exp < b->exp ? a->exp : b->exp;
    dec_align(a, e, wa);
    dec_align(b, e, wb);
    int rneg;
    if (a->neg == bneg) {
        int carry = 0;
        for (int i = DEC_WORK - 1; i >= 0; i--) {
            int s = wa[i] + wb[i] + carry;
            wr[i] = (unsigned char)(s % 10);
            carry = s / 10;
        }
        rneg = a->neg;
    } else {
        int c = dec_cmp_abs(a, b);
        const unsigned char *big = c >= 0 ? wa : wb, *small = c >= 0 ? wb : wa;
        int borrow = 0;
        for (int i = DEC_WORK - 1; i >= 0; i--) {
            int s = big[i] - small[i] - borrow;
            borrow = s < 0;
            wr[i] = (unsigned char)(s < 0 ? s + 10 : s);
        }
        rneg = c >= 0 ? a->neg : bneg;
    }
    for (int i = 0; i < DEC_WORK; i++)
        txt[i] = (char)('0' + wr[i]);
    return dec_from_digits(txt, DEC_WORK, e, rneg, out, why);
}

int sd_ddb_dec_add(const struct sd_ddb_dec *a, const struct sd_ddb_dec *b, struct sd_ddb_dec *out,
                   const char **why)
{
    struct sd_ddb_dec r;
    int rc = dec_addsub(a, b, 0, &r, why);
    if (rc == 0)
        *out = r;
    return rc;
}

int sd_ddb_dec_sub(const struct sd_ddb_dec *a, const struct sd_ddb_dec *b, struct sd_ddb_dec *out,
                   const char **why)
{
    struct sd_ddb_dec r;
    int rc = dec_addsub(a, b, 1, &r, why);
    if (rc == 0)
        *out = r;
    return rc;
}

void sd_ddb_dec_format(const struct sd_ddb_dec *d, char *out, size_t out_size)
{
    char t[SD_DDB_DEC_TEXT];
    size_t k = 0;
    if (d->ndig == 0) {
        cm_strlcpy(out, "0", out_size);
        return;
    }
    if (d->neg)
        t[k++] = '-';
    int point = d->ndig + d->exp; /* digits before the decimal point */
    if (d->exp >= 0) {
        memcpy(t + k, d->dig, (size_t)d->ndig);
        k += (size_t)d->ndig;
        for (int i = 0; i < d->exp; i++)
            t[k++] = '0';
    } else if (point > 0) {
        memcpy(t + k, d->dig, (size_t)point);
        k += (size_t)point;
        t[k++] = '.';
        memcpy(t + k, d->dig + point, (size_t)(d->ndig - point));
        k += (size_t)(d->ndig - point);
    } else {
        t[k++] = '0';
        t[k++] = '.';
        for (int i = 0; i < -point; i++)
            t[k++] = '0';
        memcpy(t + k, d->dig, (size_t)d->ndig);
        k += (size_t)d->ndig;
    }
    t[k] = '\0';
    cm_strlcpy(out, t, out_size);
}

/* Layout: class byte ('1' negative, '2' zero, '3' positive), then for
 * positives the adjusted exponent + 200 as three digits and the digits; for
 * negatives the nines' complement of both followed by '~' (above every
 * digit), so that a longer digit string of a negative sorts first. */
size_t sd_ddb_dec_sortkey(const struct sd_ddb_dec *d, unsigned char *out)
{
    size_t k = 0;
    if (d->ndig == 0) {
        out[0] = '2';
        return 1;
    }
    int adj = d->ndig + d->exp + 200; /* 71 .. 326 */
    if (d->neg)
        adj = 999 - adj;
    out[k++] = d->neg ? '1' : '3';
    out[k++] = (unsigned char)('0' + adj / 100);
    out[k++] = (unsigned char)('0' + adj / 10 % 10);
    out[k++] = (unsigned char)('0' + adj % 10);
    for (int i = 0; i < d->ndig; i++)
        out[k++] = (unsigned char)(d->neg ? '9' - d->dig[i] + '0' : d->dig[i]);
    if (d->neg)
        out[k++] = '~';
    return k;
}

/* ---- base64 ------------------------------------------------------------------ */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *sd_ddb_b64_encode(const unsigned char *p, size_t n)
{
    char *o = cm_xmalloc((n + 2) / 3 * 4 + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        o[k++] = B64[v >> 18 & 63];
        o[k++] = B64[v >> 12 & 63];
        o[k++] = i + 1 < n ? B64[v >> 6 & 63] : '=';
        o[k++] = i + 2 < n ? B64[v & 63] : '=';
    }
    o[k] = '\0';
    return o;
}

static int b64_val(char c)
{
    const char *p = c ? strchr(B64, c) : NULL;
    return p ? (int)(p - B64) : -1;
}

int sd_ddb_b64_decode(const char *s, size_t n, unsigned char **out, size_t *out_n)
{
    while (n > 0 && s[n - 1] == '=')
        n--;
    if (n % 4 == 1)
        return CM_EINVAL;
    unsigned char *o = cm_xmalloc(n / 4 * 3 + 3);
    size_t k = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_val(s[i]);
        if (v < 0) {
            free(o);
            return CM_EINVAL;
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[k++] = (unsigned char)(acc >> bits);
        }
    }
    *out = o;
    *out_n = k;
    return 0;
}

/* ---- AttributeValues -------------------------------------------------------------- */

static const char *const TYPE_NAMES[] = {"",  "S", "N",  "B",  "BOOL", "NULL",
                                         "M", "L", "SS", "NS", "BS"};

const char *sd_ddb_type_name(enum sd_ddb_type t)
{
    return (unsigned)t < sizeof(TYPE_NAMES) / sizeof(TYPE_NAMES[0]) ? TYPE_NAMES[t] : "";
}

enum sd_ddb_type sd_ddb_av_type(const cJSON *av)
{
    if (!av || !cJSON_IsObject(av) || !av->child || !av->child->string)
        return SD_DDB_T_NONE;
    for (int t = SD_DDB_T_S; t <= SD_DDB_T_BS; t++)
        if (strcmp(av->child->string, TYPE_NAMES[t]) == 0)
            return (enum sd_ddb_type)t;
    return SD_DDB_T_NONE;
}

cJSON *sd_ddb_av_payload(const cJSON *av)
{
    return av ? av->child : NULL;
}

static int fail(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return CM_EINVAL;
}

static int check_number(cJSON *s, char *why, size_t why_size)
{
    struct sd_ddb_dec d;
    const char *w;
    char txt[SD_DDB_DEC_TEXT];
    if (!cJSON_IsString(s))
        return fail(why, why_size, "%s", "NUMBER_VALUE cannot be converted to String");
    if (sd_ddb_dec_parse(s->valuestring, strlen(s->valuestring), &d, &w) < 0)
        return fail(why, why_size, "%s", w);
    sd_ddb_dec_format(&d, txt, sizeof(txt));
    if (strcmp(txt, s->valuestring) != 0)
        cJSON_SetValuestring(s, txt);
    return 0;
}

static int check_binary(cJSON *s, char *why, size_t why_size)
{
    unsigned char *raw;
    size_t n;
    if (!cJSON_IsString(s) || sd_ddb_b64_decode(s->valuestring, strlen(s->valuestring), &raw, &n))
        return fail(why, why_size, "%s", "Invalid Base64 value for a binary attribute");
    char *enc = sd_ddb_b64_encode(raw, n);
    if (strcmp(enc, s->valuestring) != 0)
        cJSON_SetValuestring(s, enc);
    free(enc);
    free(raw);
    return 0;
}

static int check_set(cJSON *arr, enum sd_ddb_type t, char *why, size_t why_size)
{
    static const char *const names[] = {"string", "number", "binary"};
    const char *tn = names[t - SD_DDB_T_SS];
    if (!cJSON_IsArray(arr))
        return fail(why, why_size, "Supplied AttributeValue %s is not a list", sd_ddb_type_name(t));
    if (!arr->child)
        return fail(why, why_size,
                    "One or more parameter values were invalid: An %s set  may not be empty", tn);
    for (cJSON *e = arr->child; e; e = e->next) {
        int rc = t == SD_DDB_T_SS   ? (cJSON_IsString(e) ? 0 : CM_EINVAL)
                 : t == SD_DDB_T_NS ? check_number(e, why, why_size)
                                    : check_binary(e, why, why_size);
        if (rc < 0) {
            if (t == SD_DDB_T_SS)
                fail(why, why_size, "%s", "STRING_SET_VALUE cannot be converted to String");
            return CM_EINVAL;
        }
        for (cJSON *f = arr->child; f != e; f = f->next)
            if (strcmp(f->valuestring, e->valuestring) == 0)
                return fail(why, why_size,
                            "One or more parameter values were invalid: Input collection "
                            "contains duplicates: %s",
                            e->valuestring);
    }
    return 0;
}

static int av_check(cJSON *av, int depth, char *why, size_t why_size)
{
    if (depth > AV_MAX_DEPTH)
        return fail(why, why_size, "%s",
                    "Nesting Levels have exceeded supported limits: Nesting levels for "
                    "attribute values cannot exceed 32");
    if (!cJSON_IsObject(av) || !av->child)
        return fail(why, why_size, "%s",
                    "Supplied AttributeValue is empty, must contain exactly one of the "
                    "supported datatypes");
    if (av->child->next)
        return fail(why, why_size, "%s",
                    "Supplied AttributeValue has more than one datatypes set, must contain "
                    "exactly one of the supported datatypes");
    enum sd_ddb_type t = sd_ddb_av_type(av);
    cJSON *p = av->child;
    switch (t) {
    case SD_DDB_T_S:
        return cJSON_IsString(p)
                   ? 0
                   : fail(why, why_size, "%s", "STRING_VALUE cannot be converted to String");
    case SD_DDB_T_N:
        return check_number(p, why, why_size);
    case SD_DDB_T_B:
        return check_binary(p, why, why_size);
    case SD_DDB_T_BOOL:
        return cJSON_IsBool(p)
                   ? 0
                   : fail(why, why_size, "%s", "BOOL_VALUE cannot be converted to Boolean");
    case SD_DDB_T_NULL:
        if (!cJSON_IsTrue(p))
            return fail(why, why_size, "%s",
                        "One or more parameter values were invalid: Null attribute value types "
                        "must have the value of true");
        return 0;
    case SD_DDB_T_M:
        if (!cJSON_IsObject(p))
            return fail(why, why_size, "%s", "Supplied AttributeValue M is not a map");
        for (cJSON *e = p->child; e; e = e->next)
            if (av_check(e, depth + 1, why, why_size) < 0)
                return CM_EINVAL;
        return 0;
    case SD_DDB_T_L:
        if (!cJSON_IsArray(p))
            return fail(why, why_size, "%s", "Supplied AttributeValue L is not a list");
        for (cJSON *e = p->child; e; e = e->next)
            if (av_check(e, depth + 1, why, why_size) < 0)
                return CM_EINVAL;
        return 0;
    case SD_DDB_T_SS:
    case SD_DDB_T_NS:
    case SD_DDB_T_BS:
        return check_set(p, t, why, why_size);
    default:
        return fail(why, why_size, "%s",
                    "Supplied AttributeValue is empty, must contain exactly one of the "
                    "supported datatypes");
    }
}

int sd_ddb_av_check(cJSON *av, char *why, size_t why_size)
{
    return av_check(av, 1, why, why_size);
}

int sd_ddb_item_check(cJSON *item, char *why, size_t why_size)
{
    if (!cJSON_IsObject(item))
        return fail(why, why_size, "%s",
                    "One or more parameter values were invalid: Item is not a map");
    for (cJSON *e = item->child; e; e = e->next) {
        if (!e->string || !e->string[0])
            return fail(why, why_size, "%s",
                        "One or more parameter values were invalid: An AttributeValue may not "
                        "contain an empty attribute name");
        if (av_check(e, 1, why, why_size) < 0)
            return CM_EINVAL;
    }
    return 0;
}

/* DynamoDB's published sizing: strings/binaries by bytes, numbers about one
 * byte per two significant digits plus one, 1 byte for BOOL/NULL, 3 bytes of
 * overhead per map/list plus 1 per element. */
static size_t num_size(const char *s)
{
    size_t dig = 0;
    for (; *s; s++)
        dig += *s >= '0' && *s <= '9';
    return (dig + 1) / 2 + 1;
}

size_t sd_ddb_av_size(const cJSON *av)
{
    cJSON *p = sd_ddb_av_payload(av);
    size_t n = 0;
    unsigned char *raw;
    size_t rn;
    switch (sd_ddb_av_type(av)) {
    case SD_DDB_T_S:
        return strlen(p->valuestring);
    case SD_DDB_T_N:
        return num_size(p->valuestring);
    case SD_DDB_T_B:
        return strlen(p->valuestring) / 4 * 3;
    case SD_DDB_T_BOOL:
    case SD_DDB_T_NULL:
        return 1;
    case SD_DDB_T_M:
        for (cJSON *e = p->child; e; e = e->next)
            n += strlen(e->string) + sd_ddb_av_size(e) + 1;
        return n + 3;
    case SD_DDB_T_L:
        for (cJSON *e = p->child; e; e = e->next)
            n += sd_ddb_av_size(e) + 1;
        return n + 3;
    case SD_DDB_T_SS:
        for (cJSON *e = p->child; e; e = e->next)
            n += strlen(e->valuestring);
        return n;
    case SD_DDB_T_NS:
        for (cJSON *e = p->child; e; e = e->next)
            n += num_size(e->valuestring);
        return n;
    case SD_DDB_T_BS:
        for (cJSON *e = p->child; e; e = e->next)
            if (sd_ddb_b64_decode(e->valuestring, strlen(e->valuestring), &raw, &rn) == 0) {
                n += rn;
                free(raw);
            }
        return n;
    default:
        return 0;
    }
}

size_t sd_ddb_item_size(const cJSON *item)
{
    size_t n = 0;
    for (cJSON *e = item ? item->child : NULL; e; e = e->next)
        n += strlen(e->string) + sd_ddb_av_size(e);
    return n;
}

static int set_has(const cJSON *arr, const cJSON *x, enum sd_ddb_type t)
{
    struct sd_ddb_dec a, b;
    const char *w;
    for (const cJSON *e = arr->child; e; e = e->next) {
        if (t == SD_DDB_T_NS) {
            if (sd_ddb_dec_parse(e->valuestring, strlen(e->valuestring), &a, &w) == 0 &&
                sd_ddb_dec_parse(x->valuestring, strlen(x->valuestring), &b, &w) == 0 &&
                sd_ddb_dec_cmp(&a, &b) == 0)
                return 1;
        } else if (strcmp(e->valuestring, x->valuestring) == 0) {
            return 1;
        }
    }
    return 0;
}

int sd_ddb_av_equal(const cJSON *a, const cJSON *b)
{
    enum sd_ddb_type t = sd_ddb_av_type(a);
    if (t == SD_DDB_T_NONE || t != sd_ddb_av_type(b))
        return 0;
    cJSON *pa = a->child, *pb = b->child;
    int c;
    switch (t) {
    case SD_DDB_T_S:
    case SD_DDB_T_B:
    case SD_DDB_T_N:
        return sd_ddb_av_cmp(a, b, &c) == 0 && c == 0;
    case SD_DDB_T_BOOL:
        return cJSON_IsTrue(pa) == cJSON_IsTrue(pb);
    case SD_DDB_T_NULL:
        return 1;
    case SD_DDB_T_M:
        if (cJSON_GetArraySize(pa) != cJSON_GetArraySize(pb))
            return 0;
        for (cJSON *e = pa->child; e; e = e->next) {
            cJSON *f = cJSON_GetObjectItemCaseSensitive(pb, e->string);
            if (!f || !sd_ddb_av_equal(e, f))
                return 0;
        }
        return 1;
    case SD_DDB_T_L: {
        cJSON *e = pa->child, *f = pb->child;
        for (; e && f; e = e->next, f = f->next)
            if (!sd_ddb_av_equal(e, f))
                return 0;
        return !e && !f;
    }
    default: /* sets: same size, every element of a in b (no duplicates) */
        if (cJSON_GetArraySize(pa) != cJSON_GetArraySize(pb))
            return 0;
        for (cJSON *e = pa->child; e; e = e->next)
            if (!set_has(pb, e, t))
                return 0;
        return 1;
    }
}

int sd_ddb_av_cmp(const cJSON *a, const cJSON *b, int *out)
{
    enum sd_ddb_type t = sd_ddb_av_type(a);
    if (t != sd_ddb_av_type(b) || (t != SD_DDB_T_S && t != SD_DDB_T_N && t != SD_DDB_T_B))
        return CM_EINVAL;
    if (!cJSON_IsString(a->child) || !cJSON_IsString(b->child))
        return CM_EINVAL;
    if (t == SD_DDB_T_S) {
        int c = strcmp(a->child->valuestring, b->child->valuestring);
        *out = (c > 0) - (c < 0);
        return 0;
    }
    unsigned char *ka = NULL, *kb = NULL;
    size_t na, nb;
    int rc = CM_EINVAL;
    if (sd_ddb_av_keybytes(a, &ka, &na) == 0 && sd_ddb_av_keybytes(b, &kb, &nb) == 0) {
        int c = memcmp(ka, kb, na < nb ? na : nb);
        if (c == 0)
            c = (na > nb) - (na < nb);
        *out = (c > 0) - (c < 0);
        rc = 0;
    }
    free(ka);
    free(kb);
    return rc;
}

int sd_ddb_av_keybytes(const cJSON *av, unsigned char **out, size_t *n)
{
    enum sd_ddb_type t = sd_ddb_av_type(av);
    const cJSON *p = sd_ddb_av_payload(av);
    if (!cJSON_IsString(p))
        return CM_EINVAL;
    const char *s = p->valuestring;
    if (t == SD_DDB_T_S) {
        *n = strlen(s);
        *out = cm_xmalloc(*n + 1);
        memcpy(*out, s, *n + 1);
        return 0;
    }
    if (t == SD_DDB_T_B)
        return sd_ddb_b64_decode(s, strlen(s), out, n);
    if (t == SD_DDB_T_N) {
        struct sd_ddb_dec d;
        const char *w;
        if (sd_ddb_dec_parse(s, strlen(s), &d, &w) < 0)
            return CM_EINVAL;
        *out = cm_xmalloc(SD_DDB_DEC_KEY);
        *n = sd_ddb_dec_sortkey(&d, *out);
        return 0;
    }
    return CM_EINVAL;
}

cJSON *sd_ddb_av_number(const struct sd_ddb_dec *d)
{
    char txt[SD_DDB_DEC_TEXT];
    sd_ddb_dec_format(d, txt, sizeof(txt));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "N", txt);
    return o;
}
