/* opt.h: option tables. One table per schema drives YAML validation, CLI
 * flags, defaults, bounds, --help and the generated key reference
 * (markdown). Unknown keys are errors. Errors read
 *   "file:line:col: path.to.key: reason"
 * for YAML and "--flag: reason" for flags.
 *
 *   struct phase { int64_t duration_ns; double rate_per_s; };
 *   static const struct cm_opt phase_opts[] = {
 *       CM_OPT_DURATION(struct phase, duration_ns, "duration", "30s", 0, 0, "How long."),
 *       ...,
 *       CM_OPT_END,
 *   };
 */
#ifndef CM_OPT_H
#define CM_OPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct cm_ynode;
struct cm_ydoc;

enum cm_opt_type {
    CM_OPT_T_END = 0,
    CM_OPT_T_BOOL,     /* int: true/false/yes/no/on/off */
    CM_OPT_T_INT,      /* int64_t, bounds min..max when min < max */
    CM_OPT_T_DOUBLE,   /* double, bounds min..max when min < max */
    CM_OPT_T_STRING,   /* char * (heap, cm_opt_free frees it) */
    CM_OPT_T_ENUM,     /* int: index into choices ("a|b|c") */
    CM_OPT_T_DURATION, /* int64_t nanoseconds */
    CM_OPT_T_RATE,     /* double per second */
    CM_OPT_T_SIZE,     /* uint64_t bytes */
    CM_OPT_T_COUNT,    /* uint64_t */
    CM_OPT_T_PERCENT,  /* double fraction */
    CM_OPT_T_NODE,     /* const struct cm_ynode *: kept raw for a custom parser */
};

struct cm_opt {
    const char *key; /* YAML key; the flag is --key with '_' shown as '-' */
    enum cm_opt_type type;
    size_t offset;       /* offsetof into the target struct */
    const char *def;     /* default as text (parsed like user input), or NULL */
    double min, max;     /* bounds (in the parsed unit: ns, per second, bytes) when min < max */
    const char *choices; /* ENUM: "uniform|poisson" */
    const char *help;    /* one sentence for --help and the reference */
    int required;        /* missing key is an error */
};

#define CM_OPT_(T, field, k, ty, d, lo, hi, ch, req, h)                                            \
    {                                                                                              \
        .key = (k), .type = (ty), .offset = offsetof(T, field), .def = (d), .min = (lo),           \
        .max = (hi), .choices = (ch), .help = (h), .required = (req)                               \
    }
#define CM_OPT_BOOL(T, f, k, d, h)        CM_OPT_(T, f, k, CM_OPT_T_BOOL, d, 0, 0, NULL, 0, h)
#define CM_OPT_INT(T, f, k, d, lo, hi, h) CM_OPT_(T, f, k, CM_OPT_T_INT, d, lo, hi, NULL, 0, h)
#define CM_OPT_DOUBLE(T, f, k, d, lo, hi, h)                                                       \
    CM_OPT_(T, f, k, CM_OPT_T_DOUBLE, d, lo, hi, NULL, 0, h)
#define CM_OPT_STRING(T, f, k, d, h)   CM_OPT_(T, f, k, CM_OPT_T_STRING, d, 0, 0, NULL, 0, h)
#define CM_OPT_ENUM(T, f, k, d, ch, h) CM_OPT_(T, f, k, CM_OPT_T_ENUM, d, 0, 0, ch, 0, h)
#define CM_OPT_DURATION(T, f, k, d, lo, hi, h)                                                     \
    CM_OPT_(T, f, k, CM_OPT_T_DURATION, d, lo, hi, NULL, 0, h)
#define CM_OPT_RATE(T, f, k, d, lo, hi, h)  CM_OPT_(T, f, k, CM_OPT_T_RATE, d, lo, hi, NULL, 0, h)
#define CM_OPT_SIZE(T, f, k, d, lo, hi, h)  CM_OPT_(T, f, k, CM_OPT_T_SIZE, d, lo, hi, NULL, 0, h)
#define CM_OPT_COUNT(T, f, k, d, lo, hi, h) CM_OPT_(T, f, k, CM_OPT_T_COUNT, d, lo, hi, NULL, 0, h)
#define CM_OPT_PERCENT(T, f, k, d, h)       CM_OPT_(T, f, k, CM_OPT_T_PERCENT, d, 0, 1, NULL, 0, h)
#define CM_OPT_NODE(T, f, k, h)             CM_OPT_(T, f, k, CM_OPT_T_NODE, NULL, 0, 0, NULL, 0, h)
#define CM_OPT_END                                                                                 \
    {                                                                                              \
        .key = NULL                                                                                \
    }

/* An error with its place; msg is "file:line:col: key: reason". */
struct cm_opt_err {
    char msg[512];
};

/* Sets every field of obj to its table default (NULL default: zero); STRING
 * fields are overwritten without being freed, so call it on fresh storage. A
 * default that does not parse is a table bug: CM_EINVAL, "key: bad default". */
int cm_opt_defaults(const struct cm_opt *table, void *obj, struct cm_opt_err *err);
/* Validates map against table and fills obj: unknown keys, wrong types,
 * out-of-bounds values and missing required keys are errors (CM_EINVAL)
 * naming doc->name:line:col and path (prefix "" or "phases[1]"). Keys absent
 * from map keep the value obj already has (call cm_opt_defaults first).
 * Keys match exactly. Messages, e.g.:
 *   s.yaml:3:5: phases[1]: unknown key 'durations' (did you mean 'duration'?)
 *   s.yaml:4:11: phases[1].rate: expected a rate like 200/s, ... (got '200')
 *   s.yaml:2:10: workers: must be at most 256 (got '257')
 *   s.yaml:5:7: rate: expected a rate like ... (got a mapping)
 * A null value ("key:" or "key: ~") is an error except for a NODE; map may be
 * NULL or a null scalar (treated as an empty mapping). A NODE field points
 * into doc and is valid until cm_yaml_free(doc). On error obj may be partly
 * filled; cm_opt_free still frees it correctly. */
int cm_opt_apply(const struct cm_opt *table, const struct cm_ydoc *doc, const struct cm_ynode *map,
                 const char *path, void *obj, struct cm_opt_err *err);
/* Sets one option from text (a flag value or --set key=value): key may use
 * '-' or '_' and may start with "--". CM_ENOTFOUND for an unknown key
 * ("--durations: unknown option (did you mean '--duration'?)"); CM_EINVAL for
 * a bad value ("--workers: must be at most 256 (got '1000')") or a NODE key.
 * value NULL means "true" for a BOOL (a bare --flag), else an error. err may
 * be NULL. */
int cm_opt_set(const struct cm_opt *table, const char *key, const char *value, void *obj,
               struct cm_opt_err *err);
/* Parses one scalar of the given type into dst, the field itself (used by
 * cm_opt_apply and by custom parsers), checking bounds; why gets a static
 * reason on failure ("below the minimum" / "above the maximum" with
 * CM_ERANGE) and dst is untouched. A STRING dst must hold NULL or a heap
 * string, which is freed when replaced. Leading/trailing whitespace is
 * trimmed except for STRING. */
int cm_opt_parse_value(const struct cm_opt *o, const char *s, size_t n, void *dst,
                       const char **why);
/* For custom parsers of CM_OPT_NODE sections: writes
 * "doc->name:line:col: path: reason" into err (at NULL: no line:col; path
 * NULL or "": none) and returns CM_EINVAL, so `return cm_opt_errorf(...)`. */
int cm_opt_errorf(struct cm_opt_err *err, const struct cm_ydoc *doc, const struct cm_ynode *at,
                  const char *path, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Frees the STRING fields of obj and sets them to NULL; obj NULL is fine. */
void cm_opt_free(const struct cm_opt *table, void *obj);
/* Writes "  --key VALUE   help (default: d; min..max)" lines, aligned; NODE
 * entries (YAML only) are left out. */
void cm_opt_help(const struct cm_opt *table, FILE *out);
/* Writes a markdown table: key | type | default | bounds | description. */
void cm_opt_markdown(const struct cm_opt *table, FILE *out);
/* Name of a type for messages and docs ("duration", "rate", ...). */
const char *cm_opt_type_name(enum cm_opt_type t);

#endif
