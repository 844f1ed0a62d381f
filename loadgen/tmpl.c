/* tmpl.c: template compiler and renderer (see tmpl.h). An expression is
 * "{{" name args "}}"; whitespace inside the braces is ignored. A literal
 * "{{" cannot be written (no request format we target needs it). */
#include "tmpl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm/buf.h"
#include "cm/clock.h"
#include "cm/err.h"
#include "cm/mem.h"

uint64_t lg_rng_next(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dULL;
}

static void add_seg(struct lg_tmpl *t, size_t *cap, struct lg_tseg s)
{
    if (t->n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        t->segs = cm_xrealloc(t->segs, *cap * sizeof(*t->segs));
    }
    t->segs[t->n++] = s;
    if (s.kind != LG_TSEG_LIT)
        t->dynamic = 1;
    if (s.kind == LG_TSEG_VAR)
        t->uses_vars = 1;
}

static int parse_int(const char **pp, const char *end, int64_t *out)
{
    const char *p = *pp;
    while (p < end && *p == ' ')
        p++;
    int neg = 0;
    if (p < end && *p == '-') {
        neg = 1;
        p++;
    }
    if (p >= end || *p < '0' || *p > '9')
        return CM_EPARSE;
    int64_t v = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        if (v > (INT64_MAX - 9) / 10)
            return CM_EPARSE;
        v = v * 10 + (*p++ - '0');
    }
    *out = neg ? -v : v;
    *pp = p;
    return 0;
}

static int find_name(const char *const *names, size_t n, const char *p, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(names[i]) == len && memcmp(names[i], p, len) == 0)
            return (int)i;
    return -1;
}

/* Parses the inside of one {{ }} (p..end, trimmed) into s. */
static int parse_expr(const char *p, const char *end, const struct lg_tmpl_names *nm,
                      struct lg_tseg *s, const char **why)
{
    const char *w = p;
    while (w < end && *w != ' ')
        w++;
    size_t wl = (size_t)(w - p);
    memset(s, 0, sizeof(*s));
#define IS(lit) (wl == sizeof(lit) - 1 && memcmp(p, lit, wl) == 0)
    if (IS("rand_int")) {
        s->kind = LG_TSEG_RAND_INT;
        if (parse_int(&w, end, &s->a) || parse_int(&w, end, &s->b) || s->a > s->b) {
            *why = "rand_int needs two integers A <= B";
            return CM_EPARSE;
        }
        while (w < end && *w == ' ')
            w++;
        if (w != end) {
            *why = "rand_int takes two arguments";
            return CM_EPARSE;
        }
        return 0;
    }
    if (w != end) {
        *why = "only rand_int takes arguments";
        return CM_EPARSE;
    }
    if (IS("uuid"))
        s->kind = LG_TSEG_UUID;
    else if (IS("seq"))
        s->kind = LG_TSEG_SEQ;
    else if (IS("now"))
        s->kind = LG_TSEG_NOW;
    else if (IS("now_iso"))
        s->kind = LG_TSEG_NOW_ISO;
    else if (IS("correlation_id"))
        s->kind = LG_TSEG_CORR;
    else if (wl > 5 && memcmp(p, "data.", 5) == 0) {
        s->kind = LG_TSEG_DATA;
        s->idx = find_name(nm ? nm->data_cols : NULL, nm ? nm->n_data : 0, p + 5, wl - 5);
        if (s->idx < 0) {
            *why = "unknown data column (no data file, or not in its header)";
            return CM_EPARSE;
        }
    } else {
        s->kind = LG_TSEG_VAR;
        s->idx = find_name(nm ? nm->vars : NULL, nm ? nm->n_vars : 0, p, wl);
        if (s->idx < 0) {
            *why = "unknown template name (functions: uuid, seq, rand_int A B, now, now_iso, "
                   "correlation_id, data.COLUMN, or a captured variable)";
            return CM_EPARSE;
        }
    }
#undef IS
    return 0;
}

static enum lg_tesc seg_escape(int mode, int in_query)
{
    switch (mode) {
    case LG_TMPL_JSON:
        return LG_TESC_JSON;
    case LG_TMPL_URL:
        return in_query ? LG_TESC_QUERY : LG_TESC_PATH;
    case LG_TMPL_HEADER:
        return LG_TESC_HEADER;
    }
    return LG_TESC_NONE;
}

int lg_tmpl_compile(const char *p, size_t n, const struct lg_tmpl_names *names, int mode,
                    struct lg_tmpl **out, const char **why, size_t *at)
{
    struct lg_tmpl *t = cm_xcalloc(1, sizeof(*t));
    size_t cap = 0, i = 0, lit_start = 0;
    int rc = 0;
    t->text = cm_xstrndup(p ? p : "", p ? n : 0);
    t->mode = mode;
    int in_query = 0; /* URL: a literal '?' came before */
    while (i + 1 < n) {
        if (!(p[i] == '{' && p[i + 1] == '{')) {
            i++;
            continue;
        }
        const char *close = NULL;
        for (size_t j = i + 2; j + 1 < n; j++)
            if (p[j] == '}' && p[j + 1] == '}') {
                close = p + j;
                break;
            }
        *at = i;
        if (!close) {
            *why = "unclosed {{";
            rc = CM_EPARSE;
            goto out;
        }
        if (i > lit_start) {
            add_seg(t, &cap,
                    (struct lg_tseg){.kind = LG_TSEG_LIT, .off = lit_start, .len = i - lit_start});
            in_query = in_query || memchr(p + lit_start, '?', i - lit_start) != NULL;
        }
        const char *b = p + i + 2, *e = close;
        while (b < e && *b == ' ')
            b++;
        while (e > b && e[-1] == ' ')
            e--;
        struct lg_tseg s;
        rc = parse_expr(b, e, names, &s, why);
        if (rc)
            goto out;
        s.esc = seg_escape(mode, in_query);
        add_seg(t, &cap, s);
        i = (size_t)(close - p) + 2;
        lit_start = i;
    }
    if (n > lit_start)
        add_seg(t, &cap,
                (struct lg_tseg){.kind = LG_TSEG_LIT, .off = lit_start, .len = n - lit_start});
out:
    if (rc) {
        lg_tmpl_free(t);
        t = NULL;
    }
    *out = t;
    return rc;
}

void lg_tmpl_free(struct lg_tmpl *t)
{
    if (!t)
        return;
    free(t->segs);
    free(t->text);
    free(t);
}

static int put_json(struct cm_buf *out, const char *s, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char two[2] = {'\\', (char)c};
            rc = cm_buf_append(out, two, 2);
        } else if (c < 0x20) {
            rc = cm_buf_printf(out, "\\u%04x", c);
        } else {
            rc = cm_buf_putc(out, (char)c);
        }
    }
    return rc;
}

/* RFC 3986: a value in a path segment may keep unreserved characters,
 * sub-delims and ':' '@' (pchar) but not '/', '?', '#' or '%'; in a query
 * it also loses '&', '=', '+' (form decoders read + as space) and ';'. */
static int url_keep(unsigned char c, int query)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return 1;
    if (strchr("-._~!$'()*,:@", c) && c)
        return 1;
    return !query && c && strchr("&=+;", c);
}

static int put_url(struct cm_buf *out, const char *s, size_t n, int query)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        if (url_keep(c, query)) {
            rc = cm_buf_putc(out, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = cm_buf_append(out, e, 3);
        }
    }
    return rc;
}

/* A header value cannot carry a line break (it would end the header and
 * start another one) or NUL: those become spaces. */
static int put_header(struct cm_buf *out, const char *s, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = cm_buf_putc(out, s[i] == '\r' || s[i] == '\n' || s[i] == '\0' ? ' ' : s[i]);
    return rc;
}

static int put_escaped(struct cm_buf *out, const char *s, size_t n, enum lg_tesc esc)
{
    switch (esc) {
    case LG_TESC_JSON:
        return put_json(out, s, n);
    case LG_TESC_PATH:
    case LG_TESC_QUERY:
        return put_url(out, s, n, esc == LG_TESC_QUERY);
    case LG_TESC_HEADER:
        return put_header(out, s, n);
    case LG_TESC_NONE:
        break;
    }
    return cm_buf_append(out, s, n);
}

static int put_uuid4(struct cm_buf *out, uint64_t *rng)
{
    uint64_t a = lg_rng_next(rng), b = lg_rng_next(rng);
    a = (a & 0xffffffffffff0fffULL) | 0x4000ULL;             /* version 4 */
    b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL; /* variant 10 */
    return cm_buf_printf(out, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(a >> 32),
                         (unsigned)((a >> 16) & 0xffff), (unsigned)(a & 0xffff),
                         (unsigned)(b >> 48), (unsigned long long)(b & 0xffffffffffffULL));
}

static int render_seg(const struct lg_tmpl *t, const struct lg_tseg *s, const struct lg_tmpl_ctx *c,
                      struct cm_buf *out)
{
    switch (s->kind) {
    case LG_TSEG_LIT:
        return cm_buf_append(out, t->text + s->off, s->len);
    case LG_TSEG_UUID:
        return put_uuid4(out, c->rng);
    case LG_TSEG_SEQ:
        return cm_buf_printf(out, "%llu", (unsigned long long)c->seq);
    case LG_TSEG_RAND_INT: {
        /* span <= 2^64; modulo bias is below 2^-32 for spans under 2^32 */
        uint64_t span = (uint64_t)(s->b - s->a) + 1;
        uint64_t r = lg_rng_next(c->rng);
        int64_t v = span ? (int64_t)((uint64_t)s->a + r % span) : (int64_t)r;
        return cm_buf_printf(out, "%lld", (long long)v);
    }
    case LG_TSEG_NOW:
        return cm_buf_printf(out, "%lld", (long long)(c->wall_ns / CM_NS_PER_MS));
    case LG_TSEG_NOW_ISO: {
        char ts[32];
        cm_clock_format_utc(c->wall_ns, 0, ts);
        return cm_buf_puts(out, ts);
    }
    case LG_TSEG_CORR:
        return c->corr_id ? cm_buf_puts(out, c->corr_id) : 0;
    case LG_TSEG_DATA: {
        const char *v = c->data_row ? c->data_row[s->idx] : NULL;
        return v ? put_escaped(out, v, strlen(v), s->esc) : 0;
    }
    case LG_TSEG_VAR: {
        const char *v = c->vars ? c->vars[s->idx] : NULL;
        return v ? put_escaped(out, v, c->var_lens[s->idx], s->esc) : 0;
    }
    }
    return 0;
}

int lg_tmpl_render(const struct lg_tmpl *t, const struct lg_tmpl_ctx *c, struct cm_buf *out)
{
    for (size_t i = 0; i < t->n; i++) {
        int rc = render_seg(t, &t->segs[i], c, out);
        if (rc)
            return rc;
    }
    return 0;
}
