/* sd_sqs_attr.c: SQS message attributes as bytes: the encoding clients hash
 * for MD5OfMessageAttributes (protocols.md 4.3), which stackd also uses to
 * store them, plus the body MD5, base64 and the character rules SQS applies
 * to message bodies. */
#include "sd_sqs_int.h"

#include "cm/err.h"
#include "cm/mem.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

void sd_sqs_md5_hex(const void *p, size_t n, char out[33])
{
    static const char hx[] = "0123456789abcdef";
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dn = 0;
    EVP_Digest(p, n, d, &dn, EVP_md5(), NULL);
    for (unsigned i = 0; i < 16; i++) {
        out[2 * i] = hx[d[i] >> 4];
        out[2 * i + 1] = hx[d[i] & 15];
    }
    out[32] = '\0';
}

static int put_u32(struct cm_buf *b, size_t v)
{
    unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    return cm_buf_append(b, x, 4);
}

static int put_lv(struct cm_buf *b, const void *p, size_t n)
{
    int rc = put_u32(b, n);
    return rc ? rc : cm_buf_append(b, p, n);
}

static int attr_cmp(const void *a, const void *b)
{
    return strcmp(((const struct sqs_attr_in *)a)->name, ((const struct sqs_attr_in *)b)->name);
}

int sqs_attrs_encode(struct sqs_attr_in *a, int n, struct cm_buf *out)
{
    int rc = 0;
    qsort(a, (size_t)n, sizeof *a, attr_cmp);
    for (int i = 0; i < n && rc == 0; i++) {
        unsigned char tt = a[i].binary ? 2 : 1;
        rc = put_lv(out, a[i].name, strlen(a[i].name));
        if (rc == 0)
            rc = put_lv(out, a[i].type, strlen(a[i].type));
        if (rc == 0)
            rc = cm_buf_append(out, &tt, 1);
        if (rc == 0)
            rc = put_lv(out, a[i].value, a[i].value_len);
    }
    return rc;
}

static int get_lv(const unsigned char *enc, size_t len, size_t *pos, const unsigned char **p,
                  size_t *n)
{
    if (len - *pos < 4)
        return CM_EPARSE;
    const unsigned char *x = enc + *pos;
    size_t v = ((size_t)x[0] << 24) | ((size_t)x[1] << 16) | ((size_t)x[2] << 8) | x[3];
    *pos += 4;
    if (len - *pos < v)
        return CM_EPARSE;
    *p = enc + *pos;
    *n = v;
    *pos += v;
    return 0;
}

int sd_sqs_attr_next(const unsigned char *enc, size_t len, size_t *pos, struct sd_sqs_attr *a)
{
    const unsigned char *p;
    size_t n;
    if (!enc || *pos >= len)
        return 0;
    if (get_lv(enc, len, pos, &p, &n))
        return CM_EPARSE;
    a->name = (const char *)p;
    a->name_len = n;
    if (get_lv(enc, len, pos, &p, &n))
        return CM_EPARSE;
    a->type = (const char *)p;
    a->type_len = n;
    if (*pos >= len)
        return CM_EPARSE;
    a->binary = enc[(*pos)++] == 2;
    if (get_lv(enc, len, pos, &a->value, &a->value_len))
        return CM_EPARSE;
    return 1;
}

int sqs_attr_name_selected(const char *name, size_t n, const char *const *names, int n_names)
{
    for (int i = 0; i < n_names; i++) {
        const char *s = names[i];
        size_t sl = strlen(s);
        if (strcmp(s, "All") == 0 || strcmp(s, ".*") == 0)
            return 1;
        if (sl == n && memcmp(s, name, n) == 0)
            return 1;
        /* "prefix.*" selects names starting with "prefix." */
        if (sl >= 3 && memcmp(s + sl - 2, ".*", 2) == 0 && n >= sl - 1 &&
            memcmp(s, name, sl - 1) == 0)
            return 1;
    }
    return 0;
}

int sqs_attrs_select(const unsigned char *enc, size_t len, const char *const *names, int n_names,
                     struct cm_buf *out)
{
    size_t pos = 0, start = 0;
    struct sd_sqs_attr a;
    int rc;
    while ((rc = sd_sqs_attr_next(enc, len, &pos, &a)) == 1) {
        if (sqs_attr_name_selected(a.name, a.name_len, names, n_names) &&
            cm_buf_append(out, enc + start, pos - start))
            return CM_ETOOBIG;
        start = pos;
    }
    return rc;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sqs_b64_encode(const unsigned char *p, size_t n, struct cm_buf *out)
{
    int rc = cm_buf_reserve(out, (n + 2) / 3 * 4);
    for (size_t i = 0; i < n && rc == 0; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char q[4] = {b64[(v >> 18) & 63], b64[(v >> 12) & 63], i + 1 < n ? b64[(v >> 6) & 63] : '=',
                     i + 2 < n ? b64[v & 63] : '='};
        rc = cm_buf_append(out, q, 4);
    }
    return rc;
}

static int b64_val(int c)
{
    const char *x = c ? strchr(b64, c) : NULL;
    return x ? (int)(x - b64) : -1;
}

int sqs_b64_decode(const char *s, size_t n, unsigned char **out, size_t *out_n)
{
    *out = NULL;
    *out_n = 0;
    if (n % 4)
        return CM_EINVAL;
    unsigned char *o = cm_xmalloc(n / 4 * 3 + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int j = 0; j < 4; j++) {
            if (s[i + j] == '=' && i + 4 == n && j >= 2) {
                v[j] = 0;
                pad++;
            } else if (pad || (v[j] = b64_val((unsigned char)s[i + j])) < 0) {
                free(o);
                return CM_EINVAL;
            }
        }
        unsigned w = (unsigned)(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
        o[k++] = (unsigned char)(w >> 16);
        if (pad < 2)
            o[k++] = (unsigned char)(w >> 8);
        if (pad < 1)
            o[k++] = (unsigned char)w;
    }
    *out = o;
    *out_n = k;
    return 0;
}

int sqs_body_chars_ok(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i], cp;
        size_t len;
        if (c < 0x80) {
            if (c < 0x20 && c != 9 && c != 10 && c != 13)
                return 0;
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i < len)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        /* overlong forms, surrogates, U+FFFE/U+FFFF and beyond U+10FFFF are refused */
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF || cp > 0x10FFFF)
            return 0;
        i += len;
    }
    return 1;
}

int sqs_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > SQS_MAX_NAME)
        return 0;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}
