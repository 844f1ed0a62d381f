/* opt.c: option tables (see opt.h). One table validates a YAML mapping, sets
 * flags, supplies defaults and bounds, and writes --help and the markdown key
 * reference. Values are parsed by cm_units and a few local scalar parsers; it
 * does not walk nested structures itself: a CM_OPT_NODE keeps the raw node and
 * the caller applies another table to it with a longer path. */
#include "cm/opt.h"

#include "cm/err.h"
#include "cm/mem.h"
#include "cm/units.h"
#include "cm/yaml.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char WHY_BOOL[] = "expected true or false (also yes/no, on/off)";
static const char WHY_INT[] = "expected an integer";
static const char WHY_INT_RANGE[] = "integer out of range";
static const char WHY_DOUBLE[] = "expected a number";
static const char WHY_DOUBLE_RANGE[] = "number out of range";
static const char WHY_STRING[] = "expected a string";
static const char WHY_STRING_NUL[] = "a string must not contain NUL bytes";
static const char WHY_ENUM[] = "not one of the choices";
static const char WHY_NODE[] = "expected a YAML mapping or list, not text";
static const char WHY_BELOW[] = "below the minimum";
static const char WHY_ABOVE[] = "above the maximum";

#define PATH_MAX_LEN 256
#define KEY_MAX_LEN  64 /* longer keys get no "did you mean" */

union value {
    int b; /* BOOL, ENUM */
    int64_t i;
    double d;
    uint64_t u;
    char *s;
    const struct cm_ynode *node;
};

const char *cm_opt_type_name(enum cm_opt_type t)
{
    switch (t) {
    case CM_OPT_T_BOOL:
        return "bool";
    case CM_OPT_T_INT:
        return "int";
    case CM_OPT_T_DOUBLE:
        return "number";
    case CM_OPT_T_STRING:
        return "string";
    case CM_OPT_T_ENUM:
        return "enum";
    case CM_OPT_T_DURATION:
        return "duration";
    case CM_OPT_T_RATE:
        return "rate";
    case CM_OPT_T_SIZE:
        return "size";
    case CM_OPT_T_COUNT:
        return "count";
    case CM_OPT_T_PERCENT:
        return "percent";
    case CM_OPT_T_NODE:
        return "section";
    case CM_OPT_T_END:
        break;
    }
    return "?";
}

/* ---- scalar parsers ---- */

static void trim(const char **s, size_t *n)
{
    while (*n && strchr(" \t\r\n", (*s)[0]))
        (*s)++, (*n)--;
    while (*n && strchr(" \t\r\n", (*s)[*n - 1]))
        (*n)--;
}

static int eq_nocase(const char *s, size_t n, const char *lit)
{
    size_t i = 0;
    for (; i < n && lit[i]; i++) {
        char c = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
        if (c != lit[i])
            return 0;
    }
    return i == n && !lit[i];
}

static int parse_bool(const char *s, size_t n, int *out)
{
    static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
    for (size_t i = 0; i < 3; i++) {
        if (eq_nocase(s, n, yes[i])) {
            *out = 1;
            return 0;
        }
        if (eq_nocase(s, n, no[i])) {
            *out = 0;
            return 0;
        }
    }
    return CM_EINVAL;
}

static int parse_int(const char *s, size_t n, int64_t *out, const char **why)
{
    size_t i = 0;
    int neg = 0;
    uint64_t v = 0, lim;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        neg = s[i++] == '-';
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (i == n) {
        *why = WHY_INT;
        return CM_EINVAL;
    }
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            *why = WHY_INT;
            return CM_EINVAL;
        }
        uint64_t dig = (uint64_t)(s[i] - '0');
        if (v > (lim - dig) / 10) {
            *why = WHY_INT_RANGE;
            return CM_ERANGE;
        }
        v = v * 10 + dig;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

/* [+-] digits [. digits] [(e|E) [+-] digits]: the grammar is checked here so
 * strtod never sees "nan", "inf", hex floats or locale surprises. */
static int parse_double(const char *s, size_t n, double *out, const char **why)
{
    char buf[80];
    size_t i = 0, d;
    if (n >= sizeof buf)
        goto bad;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
        ;
    if (i == d)
        goto bad;
    if (i < n && s[i] == '.') {
        for (d = ++i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            ;
        if (i == d)
            goto bad;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        if (++i < n && (s[i] == '-' || s[i] == '+'))
            i++;
        for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            ;
        if (i == d)
            goto bad;
    }
    if (i != n)
        goto bad;
    memcpy(buf, s, n);
    buf[n] = '\0';
    double v = strtod(buf, NULL);
    if (!isfinite(v)) {
        *why = WHY_DOUBLE_RANGE;
        return CM_ERANGE;
    }
    *out = v;
    return 0;
bad:
    *why = WHY_DOUBLE;
    return CM_EINVAL;
}

/* Index of s in "a|b|c", or -1. */
static int find_choice(const char *choices, const char *s, size_t n)
{
    int idx = 0;
    for (const char *c = choices ? choices : ""; *c; idx++) {
        const char *bar = strchr(c, '|');
        size_t len = bar ? (size_t)(bar - c) : strlen(c);
        if (len == n && memcmp(c, s, n) == 0)
            return idx;
        if (!bar)
            break;
        c = bar + 1;
    }
    return -1;
}

/* Parses without bounds and without touching the destination. */
static int parse_raw(const struct cm_opt *o, const char *s, size_t n, union value *v,
                     const char **why)
{
    int rc;
    if (o->type != CM_OPT_T_STRING)
        trim(&s, &n);
    switch (o->type) {
    case CM_OPT_T_BOOL:
        *why = WHY_BOOL;
        return parse_bool(s, n, &v->b);
    case CM_OPT_T_INT:
        return parse_int(s, n, &v->i, why);
    case CM_OPT_T_DOUBLE:
        return parse_double(s, n, &v->d, why);
    case CM_OPT_T_STRING:
        if (memchr(s, '\0', n)) {
            *why = WHY_STRING_NUL;
            return CM_EINVAL;
        }
        v->s = cm_xstrndup(s, n);
        return 0;
    case CM_OPT_T_ENUM:
        v->b = find_choice(o->choices, s, n);
        *why = WHY_ENUM;
        return v->b < 0 ? CM_EINVAL : 0;
    case CM_OPT_T_DURATION:
        return cm_units_duration_ns(s, n, 0, &v->i, why);
    case CM_OPT_T_RATE:
        return cm_units_rate_per_s(s, n, &v->d, why);
    case CM_OPT_T_SIZE:
        return cm_units_size_bytes(s, n, &v->u, why);
    case CM_OPT_T_COUNT:
        return cm_units_count(s, n, &v->u, why);
    case CM_OPT_T_PERCENT:
        return cm_units_percent(s, n, &v->d, why);
    default:
        rc = CM_EINVAL;
        *why = WHY_NODE;
        return rc;
    }
}

static int has_bounds(const struct cm_opt *o)
{
    switch (o->type) {
    case CM_OPT_T_INT:
    case CM_OPT_T_DOUBLE:
    case CM_OPT_T_DURATION:
    case CM_OPT_T_RATE:
    case CM_OPT_T_SIZE:
    case CM_OPT_T_COUNT:
    case CM_OPT_T_PERCENT:
        return o->min < o->max;
    default:
        return 0;
    }
}

/* The value in the unit of the bounds (ns, per second, bytes, fraction). */
static double as_double(const struct cm_opt *o, const union value *v)
{
    switch (o->type) {
    case CM_OPT_T_INT:
    case CM_OPT_T_DURATION:
        return (double)v->i;
    case CM_OPT_T_SIZE:
    case CM_OPT_T_COUNT:
        return (double)v->u;
    default:
        return v->d;
    }
}

static size_t field_size(enum cm_opt_type t)
{
    switch (t) {
    case CM_OPT_T_BOOL:
    case CM_OPT_T_ENUM:
        return sizeof(int);
    case CM_OPT_T_INT:
    case CM_OPT_T_DURATION:
        return sizeof(int64_t);
    case CM_OPT_T_SIZE:
    case CM_OPT_T_COUNT:
        return sizeof(uint64_t);
    case CM_OPT_T_STRING:
        return sizeof(char *);
    case CM_OPT_T_NODE:
        return sizeof(const struct cm_ynode *);
    default:
        return sizeof(double);
    }
}

/* Writes v into the field; a STRING field's old value is freed. */
static void store(const struct cm_opt *o, void *dst, const union value *v)
{
    if (o->type == CM_OPT_T_STRING) {
        char *old;
        memcpy(&old, dst, sizeof old);
        free(old);
    }
    /* Every union member starts at offset 0; copy the field's own size. */
    memcpy(dst, v, field_size(o->type));
}

int cm_opt_parse_value(const struct cm_opt *o, const char *s, size_t n, void *dst, const char **why)
{
    const char *dummy;
    union value v;
    memset(&v, 0, sizeof v);
    if (!why)
        why = &dummy;
    int rc = parse_raw(o, s, n, &v, why);
    if (rc)
        return rc;
    if (has_bounds(o)) {
        double x = as_double(o, &v);
        if (x < o->min || x > o->max) {
            *why = x < o->min ? WHY_BELOW : WHY_ABOVE;
            return CM_ERANGE;
        }
    }
    store(o, dst, &v);
    return 0;
}

/* ---- messages ---- */

static int64_t clamp_i64(double x)
{
    if (x >= 9.2233720368547758e18)
        return INT64_MAX;
    if (x <= -9.2233720368547758e18)
        return INT64_MIN;
    return (int64_t)x;
}

static uint64_t clamp_u64(double x)
{
    if (x >= 1.8446744073709552e19)
        return UINT64_MAX;
    return x <= 0 ? 0 : (uint64_t)x;
}

static void format_size(uint64_t b, char *out, size_t cap)
{
    static const struct {
        uint64_t mul;
        const char *name;
    } units[] = {{1ull << 40, "TiB"}, {1ull << 30, "GiB"},      {1ull << 20, "MiB"},
                 {1ull << 10, "KiB"}, {1000000000000ull, "TB"}, {1000000000ull, "GB"},
                 {1000000ull, "MB"},  {1000ull, "KB"}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (b && b % units[i].mul == 0) {
            snprintf(out, cap, "%" PRIu64 "%s", b / units[i].mul, units[i].name);
            return;
        }
    }
    snprintf(out, cap, "%" PRIu64 "B", b);
}

/* Whole numbers in full up to 1e15 ("1000000", not "1e+06"), others %g. */
static void format_number(double x, const char *suffix, char *out, size_t cap)
{
    if (x == floor(x) && fabs(x) < 1e15)
        snprintf(out, cap, "%.0f%s", x, suffix);
    else
        snprintf(out, cap, "%g%s", x, suffix);
}

/* A bound, in the notation a user would write for this option. */
static void format_bound(const struct cm_opt *o, double x, char *out, size_t cap)
{
    switch (o->type) {
    case CM_OPT_T_DURATION: {
        char d[32];
        cm_units_format_duration(clamp_i64(x), d);
        snprintf(out, cap, "%s", d);
        return;
    }
    case CM_OPT_T_RATE:
        format_number(x, "/s", out, cap);
        return;
    case CM_OPT_T_SIZE:
        format_size(clamp_u64(x), out, cap);
        return;
    case CM_OPT_T_COUNT:
        snprintf(out, cap, "%" PRIu64, clamp_u64(x));
        return;
    case CM_OPT_T_PERCENT:
        snprintf(out, cap, "%g%%", x * 100);
        return;
    case CM_OPT_T_INT:
        snprintf(out, cap, "%" PRId64, clamp_i64(x));
        return;
    default:
        format_number(x, "", out, cap);
        return;
    }
}

/* "a, b, c" from "a|b|c". */
static void format_choices(const char *choices, const char *sep, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (const char *c = choices ? choices : ""; *c && o + 1 < cap; c++) {
        const char *add = *c == '|' ? sep : NULL;
        size_t len = add ? strlen(add) : 1;
        if (o + len >= cap)
            break;
        memcpy(out + o, add ? add : c, len);
        o += len;
    }
    out[o] = '\0';
}

/* What a value of this option looks like, as a sentence starting "expected". */
static void expected_text(const struct cm_opt *o, char *out, size_t cap)
{
    const char *why = WHY_STRING;
    union value v;
    char ch[200];
    switch (o->type) {
    case CM_OPT_T_ENUM:
        format_choices(o->choices, ", ", ch, sizeof ch);
        snprintf(out, cap, "expected one of: %s", ch);
        return;
    case CM_OPT_T_STRING:
        break;
    default:
        /* Each parser answers empty input with its "expected ..." sentence, so
         * the wording lives in one place. */
        parse_raw(o, "", 0, &v, &why);
        break;
    }
    snprintf(out, cap, "%s", why);
}

/* The reason for a rejected value, without place or "(got ...)". */
static void reason_text(const struct cm_opt *o, const char *why, char *out, size_t cap)
{
    char b[64];
    if (why == WHY_BELOW || why == WHY_ABOVE) {
        format_bound(o, why == WHY_BELOW ? o->min : o->max, b, sizeof b);
        snprintf(out, cap, "must be at %s %s", why == WHY_BELOW ? "least" : "most", b);
    } else if (why == WHY_ENUM || o->type == CM_OPT_T_ENUM) {
        expected_text(o, out, cap);
    } else {
        snprintf(out, cap, "%s", why);
    }
}

/* Up to 60 bytes of the user's text for "(got '...')", control bytes as '?'. */
static void show_text(const char *s, size_t n, char *out, size_t cap)
{
    size_t max = cap > 64 ? 60 : cap - 4, o = 0;
    for (size_t i = 0; i < n && i < max; i++)
        out[o++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    if (n > max) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

int cm_opt_errorf(struct cm_opt_err *err, const struct cm_ydoc *doc, const struct cm_ynode *at,
                  const char *path, const char *fmt, ...)
{
    if (!err)
        return CM_EINVAL;
    const char *name = doc && doc->name ? doc->name : "<yaml>";
    int k;
    if (at && at->origin) {
        /* made by cm_yaml_set: name the flag; its key usually is the path */
        k = snprintf(err->msg, sizeof err->msg, "%s: ", at->origin);
        size_t ol = strlen(at->origin), pl = path ? strlen(path) : 0;
        if (pl && ol >= pl && strcmp(at->origin + ol - pl, path) == 0)
            path = NULL;
    } else if (at)
        k = snprintf(err->msg, sizeof err->msg, "%s:%d:%d: ", name, at->line, at->col);
    else
        k = snprintf(err->msg, sizeof err->msg, "%s: ", name);
    if (k >= 0 && (size_t)k < sizeof err->msg && path && *path)
        k += snprintf(err->msg + k, sizeof err->msg - (size_t)k, "%s: ", path);
    if (k >= 0 && (size_t)k < sizeof err->msg) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg + k, sizeof err->msg - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return CM_EINVAL;
}

/* ---- key lookup and suggestions ---- */

static char norm(char c)
{
    if (c >= 'A' && c <= 'Z')
        return (char)(c - 'A' + 'a');
    return c == '-' ? '_' : c;
}

/* Optimal string alignment distance (Levenshtein plus adjacent swaps), with
 * case and '-'/'_' ignored. Both lengths <= KEY_MAX_LEN. */
static size_t edit_distance(const char *a, size_t an, const char *b, size_t bn)
{
    size_t d[KEY_MAX_LEN + 1][KEY_MAX_LEN + 1];
    for (size_t i = 0; i <= an; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= bn; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= an; i++) {
        for (size_t j = 1; j <= bn; j++) {
            size_t cost = norm(a[i - 1]) != norm(b[j - 1]);
            size_t best = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && norm(a[i - 1]) == norm(b[j - 2]) &&
                norm(a[i - 2]) == norm(b[j - 1]) && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[an][bn];
}

/* The known key closest to s when the distance is small for its length:
 * 1 for keys up to 3 characters, 2 up to 6, 3 beyond. */
static const struct cm_opt *suggest(const struct cm_opt *table, const char *s, size_t n)
{
    const struct cm_opt *best = NULL;
    size_t best_d = SIZE_MAX;
    if (n > KEY_MAX_LEN)
        return NULL;
    for (const struct cm_opt *o = table; o->key; o++) {
        size_t kn = strlen(o->key);
        if (kn > KEY_MAX_LEN)
            continue;
        size_t limit = kn <= 3 ? 1 : kn <= 6 ? 2 : 3;
        size_t dist = edit_distance(s, n, o->key, kn);
        if (dist <= limit && dist < best_d) {
            best = o;
            best_d = dist;
        }
    }
    return best;
}

/* flag: '-' and '_' are the same character (for --set and flags). */
static const struct cm_opt *find(const struct cm_opt *table, const char *s, size_t n, int flag)
{
    for (const struct cm_opt *o = table; o->key; o++) {
        if (strlen(o->key) != n)
            continue;
        size_t i = 0;
        while (i < n && (o->key[i] == s[i] || (flag && (o->key[i] == '-' || o->key[i] == '_') &&
                                               (s[i] == '-' || s[i] == '_'))))
            i++;
        if (i == n)
            return o;
    }
    return NULL;
}

/* "--think-time" for key "think_time". */
static void flag_name(const char *key, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    if (cap < 4)
        return;
    out[o++] = '-';
    out[o++] = '-';
    for (size_t i = 0; i < n && o + 1 < cap; i++)
        out[o++] = key[i] == '_' ? '-' : key[i];
    out[o] = '\0';
}

/* ", known keys: a, b, c" while it fits in a message; "" otherwise. */
static void known_keys(const struct cm_opt *table, int flags, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (const struct cm_opt *t = table; t->key; t++) {
        char name[KEY_MAX_LEN + 8];
        if (flags)
            flag_name(t->key, strlen(t->key), name, sizeof name);
        else
            snprintf(name, sizeof name, "%s", t->key);
        int k = snprintf(out + o, cap - o, "%s%s", t == table ? "" : ", ", name);
        if (k < 0 || (size_t)k >= cap - o) {
            out[0] = '\0';
            return;
        }
        o += (size_t)k;
    }
}

/* " (did you mean 'x'?)" or " (known keys: ...)" or "". */
static void unknown_hint(const struct cm_opt *table, const char *s, size_t n, int flags, char *out,
                         size_t cap)
{
    char list[200];
    const struct cm_opt *near = suggest(table, s, n);
    out[0] = '\0';
    if (near) {
        char name[KEY_MAX_LEN + 8];
        if (flags)
            flag_name(near->key, strlen(near->key), name, sizeof name);
        else
            snprintf(name, sizeof name, "%s", near->key);
        snprintf(out, cap, " (did you mean '%s'?)", name);
        return;
    }
    known_keys(table, flags, list, sizeof list);
    if (list[0])
        snprintf(out, cap, " (known %s: %s)", flags ? "options" : "keys", list);
}

/* ---- YAML ---- */

static const char *node_kind(const struct cm_ynode *n)
{
    if (n->type == CM_YNODE_MAP)
        return "a mapping";
    if (n->type == CM_YNODE_SEQ)
        return "a list";
    return "an empty value";
}

static int apply_one(const struct cm_opt *o, const struct cm_ydoc *doc, const struct cm_ynode *v,
                     const char *path, void *obj, struct cm_opt_err *err)
{
    void *dst = (char *)obj + o->offset;
    char text[256], shown[64];
    const char *why = NULL;
    if (o->type == CM_OPT_T_NODE) {
        memcpy(dst, &v, sizeof v);
        return 0;
    }
    if (v->type != CM_YNODE_SCALAR || cm_yaml_is_null(v)) {
        expected_text(o, text, sizeof text);
        return cm_opt_errorf(err, doc, v, path, "%s (got %s)", text, node_kind(v));
    }
    if (cm_opt_parse_value(o, v->str, v->len, dst, &why) == 0)
        return 0;
    reason_text(o, why, text, sizeof text);
    show_text(v->str, v->len, shown, sizeof shown);
    return cm_opt_errorf(err, doc, v, path, "%s (got '%s')", text, shown);
}

static void join_path(const char *path, const char *key, size_t kn, char *out, size_t cap)
{
    if (path && *path)
        snprintf(out, cap, "%s.%.*s", path, (int)kn, key);
    else
        snprintf(out, cap, "%.*s", (int)kn, key);
}

int cm_opt_apply(const struct cm_opt *table, const struct cm_ydoc *doc, const struct cm_ynode *map,
                 const char *path, void *obj, struct cm_opt_err *err)
{
    char sub[PATH_MAX_LEN], hint[256], shown[64];
    int rc;
    if (err)
        err->msg[0] = '\0';
    if (map && map->type != CM_YNODE_MAP && !cm_yaml_is_null(map))
        return cm_opt_errorf(err, doc, map, path, "expected a mapping of keys (got %s)",
                             map->type == CM_YNODE_SEQ ? "a list" : "a scalar");
    if (map && map->type != CM_YNODE_MAP)
        map = NULL; /* "key:" with nothing after it: an empty mapping */
    for (size_t i = 0; map && i < map->n; i++) {
        const struct cm_ynode *k = map->keys[i];
        const struct cm_opt *o = find(table, k->str, k->len, 0);
        if (!o) {
            unknown_hint(table, k->str, k->len, 0, hint, sizeof hint);
            show_text(k->str, k->len, shown, sizeof shown);
            return cm_opt_errorf(err, doc, k, path, "unknown key '%s'%s", shown, hint);
        }
        join_path(path, k->str, k->len, sub, sizeof sub);
        rc = apply_one(o, doc, map->vals[i], sub, obj, err);
        if (rc)
            return rc;
    }
    for (const struct cm_opt *o = table; o->key; o++)
        if (o->required && !cm_yaml_get(map, o->key))
            return cm_opt_errorf(err, doc, map, path, "missing required key '%s'", o->key);
    return 0;
}

/* ---- defaults, flags, free ---- */

int cm_opt_defaults(const struct cm_opt *table, void *obj, struct cm_opt_err *err)
{
    if (err)
        err->msg[0] = '\0';
    for (const struct cm_opt *o = table; o->key; o++) {
        void *dst = (char *)obj + o->offset;
        const char *why = NULL;
        memset(dst, 0, field_size(o->type));
        if (!o->def || o->type == CM_OPT_T_NODE)
            continue;
        if (cm_opt_parse_value(o, o->def, strlen(o->def), dst, &why)) {
            if (err)
                snprintf(err->msg, sizeof err->msg, "%s: bad default '%s': %s", o->key, o->def,
                         why);
            return CM_EINVAL;
        }
    }
    return 0;
}

int cm_opt_set(const struct cm_opt *table, const char *key, const char *value, void *obj,
               struct cm_opt_err *err)
{
    char flag[KEY_MAX_LEN + 8], hint[256], text[256], shown[64];
    const char *why = NULL;
    struct cm_opt_err dummy;
    if (!err)
        err = &dummy;
    err->msg[0] = '\0';
    if (key[0] == '-' && key[1] == '-')
        key += 2;
    size_t kn = strlen(key);
    const struct cm_opt *o = find(table, key, kn, 1);
    flag_name(key, kn, flag, sizeof flag);
    if (!o) {
        unknown_hint(table, key, kn, 1, hint, sizeof hint);
        snprintf(err->msg, sizeof err->msg, "%s: unknown option%s", flag, hint);
        return CM_ENOTFOUND;
    }
    if (o->type == CM_OPT_T_NODE) {
        snprintf(err->msg, sizeof err->msg, "%s: is a section; set it in the YAML file", flag);
        return CM_EINVAL;
    }
    if (!value && o->type == CM_OPT_T_BOOL)
        value = "true"; /* a bare --flag */
    if (!value) {
        expected_text(o, text, sizeof text);
        snprintf(err->msg, sizeof err->msg, "%s: needs a value (%s)", flag, text);
        return CM_EINVAL;
    }
    int rc = cm_opt_parse_value(o, value, strlen(value), (char *)obj + o->offset, &why);
    if (rc) {
        reason_text(o, why, text, sizeof text);
        show_text(value, strlen(value), shown, sizeof shown);
        snprintf(err->msg, sizeof err->msg, "%s: %s (got '%s')", flag, text, shown);
        return CM_EINVAL;
    }
    return 0;
}

void cm_opt_free(const struct cm_opt *table, void *obj)
{
    if (!obj)
        return;
    for (const struct cm_opt *o = table; o->key; o++) {
        if (o->type != CM_OPT_T_STRING)
            continue;
        char *s = NULL;
        void *dst = (char *)obj + o->offset;
        memcpy(&s, dst, sizeof s);
        free(s);
        s = NULL;
        memcpy(dst, &s, sizeof s);
    }
}

/* ---- --help and markdown ---- */

static void metavar(const struct cm_opt *o, char *out, size_t cap)
{
    if (o->type == CM_OPT_T_ENUM) {
        snprintf(out, cap, "%s", o->choices ? o->choices : "");
        return;
    }
    size_t i = 0;
    for (const char *s = cm_opt_type_name(o->type); *s && i + 1 < cap; s++)
        out[i++] = *s >= 'a' && *s <= 'z' ? (char)(*s - 'a' + 'A') : *s;
    out[i] = '\0';
}

static void bounds_text(const struct cm_opt *o, const char *sep, char *out, size_t cap)
{
    char lo[64], hi[64];
    out[0] = '\0';
    if (!has_bounds(o))
        return;
    format_bound(o, o->min, lo, sizeof lo);
    format_bound(o, o->max, hi, sizeof hi);
    snprintf(out, cap, "%s%s%s", lo, sep, hi);
}

void cm_opt_help(const struct cm_opt *table, FILE *out)
{
    enum { MAX_COL = 34 };
    char left[256], meta[128], bounds[140];
    int width = 0;
    for (const struct cm_opt *o = table; o->key; o++) {
        if (o->type == CM_OPT_T_NODE)
            continue;
        metavar(o, meta, sizeof meta);
        int w = (int)(strlen(o->key) + strlen(meta)) + 5; /* "  --" + key + " " + meta */
        if (w > width)
            width = w;
    }
    if (width > MAX_COL)
        width = MAX_COL;
    for (const struct cm_opt *o = table; o->key; o++) {
        if (o->type == CM_OPT_T_NODE)
            continue; /* sections are YAML only */
        char flag[KEY_MAX_LEN + 8];
        flag_name(o->key, strlen(o->key), flag, sizeof flag);
        metavar(o, meta, sizeof meta);
        snprintf(left, sizeof left, "  %s %s", flag, meta);
        if ((int)strlen(left) > width)
            fprintf(out, "%s\n%*s", left, width + 2, "");
        else
            fprintf(out, "%-*s", width + 2, left);
        fputs(o->help ? o->help : "", out);
        bounds_text(o, "..", bounds, sizeof bounds);
        if (o->required)
            fputs(" (required)", out);
        else if (o->def && bounds[0])
            fprintf(out, " (default: %s; %s)", o->def, bounds);
        else if (o->def)
            fprintf(out, " (default: %s)", o->def);
        else if (bounds[0])
            fprintf(out, " (%s)", bounds);
        fputc('\n', out);
    }
}

/* Text for a markdown table cell: '|' escaped, newlines as spaces. */
static void md_cell(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            fputs("\\|", out);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', out);
        else
            fputc(*s, out);
    }
}

void cm_opt_markdown(const struct cm_opt *table, FILE *out)
{
    char bounds[256];
    fputs("| key | type | default | bounds | description |\n", out);
    fputs("| --- | --- | --- | --- | --- |\n", out);
    for (const struct cm_opt *o = table; o->key; o++) {
        fputs("| `", out);
        md_cell(out, o->key);
        fprintf(out, "` | %s | ", cm_opt_type_name(o->type));
        if (o->required) {
            fputs("required", out);
        } else if (o->def) {
            fputc('`', out);
            md_cell(out, o->def);
            fputc('`', out);
        }
        fputs(" | ", out);
        if (o->type == CM_OPT_T_ENUM) {
            format_choices(o->choices, "`, `", bounds, sizeof bounds);
            fprintf(out, "`%s`", bounds);
        } else {
            bounds_text(o, " .. ", bounds, sizeof bounds);
            md_cell(out, bounds);
        }
        fputs(" | ", out);
        md_cell(out, o->help);
        fputs(" |\n", out);
    }
}
