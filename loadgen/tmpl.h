/* tmpl.h: request templates ("/orders/{{id}}", JSON bodies with {{uuid}}),
 * compiled once when the scenario loads into a list of segments and rendered
 * per request with no parsing. Functions: {{uuid}} (random UUIDv4),
 * {{seq}} (unique per run), {{rand_int A B}} (inclusive), {{now}} (Unix ms),
 * {{now_iso}} (UTC ISO 8601), {{correlation_id}}, {{data.COLUMN}} (a data
 * file row) and {{NAME}} (a value captured from an earlier response).
 * Values from outside (data.COLUMN and captured variables) are escaped for
 * where they land (enum lg_tmpl_mode): percent-encoded in a URL path segment
 * or query, JSON-escaped in a JSON body, CR/LF/NUL replaced by spaces in a
 * header; functions produce safe characters and are never escaped.
 * Not thread-safe to compile; rendering only reads the template. */
#ifndef LG_TMPL_H
#define LG_TMPL_H

#include <stddef.h>
#include <stdint.h>

struct cm_buf;

enum lg_tseg_kind {
    LG_TSEG_LIT = 0,
    LG_TSEG_UUID,
    LG_TSEG_SEQ,
    LG_TSEG_RAND_INT,
    LG_TSEG_NOW,
    LG_TSEG_NOW_ISO,
    LG_TSEG_CORR,
    LG_TSEG_DATA,
    LG_TSEG_VAR,
};

/* Where a template is used, which decides how DATA/VAR values are escaped. */
enum lg_tmpl_mode {
    LG_TMPL_RAW = 0,    /* as is */
    LG_TMPL_JSON = 1,   /* inside a JSON string: \" \\ and \u00XX for controls */
    LG_TMPL_URL = 2,    /* a path, then a query after the first literal '?' */
    LG_TMPL_HEADER = 3, /* a header value: CR, LF and NUL become spaces */
};

/* How one segment's value is escaped (derived from the mode and position). */
enum lg_tesc { LG_TESC_NONE = 0, LG_TESC_JSON, LG_TESC_PATH, LG_TESC_QUERY, LG_TESC_HEADER };

struct lg_tseg {
    enum lg_tseg_kind kind;
    enum lg_tesc esc; /* DATA/VAR only */
    size_t off, len;  /* LIT: bytes of lg_tmpl.text */
    int64_t a, b;     /* RAND_INT bounds */
    int idx;          /* DATA column / VAR index */
};

struct lg_tmpl {
    struct lg_tseg *segs;
    size_t n;
    char *text;    /* literal storage (owned) */
    int mode;      /* enum lg_tmpl_mode */
    int uses_vars; /* a VAR segment is present */
    int dynamic;   /* anything but literals */
};

/* Names a template may refer to: data columns and capture variables.
 * Borrowed arrays of NUL-terminated names. */
struct lg_tmpl_names {
    const char *const *data_cols;
    size_t n_data;
    const char *const *vars;
    size_t n_vars;
};

/* Per-request values. rng is the worker's xorshift state. data_row has
 * n_data entries (may be NULL when no data file); vars/var_lens n_vars
 * entries (a NULL value renders as empty). */
struct lg_tmpl_ctx {
    uint64_t seq;
    const char *corr_id;
    int64_t wall_ns;
    uint64_t *rng;
    const char *const *data_row;
    const char *const *vars;
    const size_t *var_lens;
};

/* Compiles n bytes for mode (enum lg_tmpl_mode). On error returns CM_EPARSE and *why names the
 * reason (static text); *at is the byte offset of the bad expression. */
int lg_tmpl_compile(const char *p, size_t n, const struct lg_tmpl_names *names, int mode,
                    struct lg_tmpl **out, const char **why, size_t *at);
void lg_tmpl_free(struct lg_tmpl *t);
/* Appends the rendering to out; 0 or CM_ETOOBIG. */
int lg_tmpl_render(const struct lg_tmpl *t, const struct lg_tmpl_ctx *c, struct cm_buf *out);
/* xorshift64* step, used for rand_int and uuid. */
uint64_t lg_rng_next(uint64_t *s);

#endif
