/* sd_logs.c: CloudWatch Logs for stackd (see sd_logs.h).
 *
 * Protocol: awsJson1_1. POST / with X-Amz-Target: Logs_20140328.<Op>, body a
 * JSON object with camelCase members; the response has Content-Type
 * application/x-amz-json-1.1 and x-amzn-RequestId; errors are HTTP 400 with
 * {"__type":"ResourceNotFoundException","message":"..."}.
 *
 * Store: groups sorted by name, streams sorted by name, each stream's events
 * sorted by (timestamp, sequence) in a window [off, off+n) of a pointer
 * array, so appends and front evictions are O(1) amortised and an
 * out-of-order event is one binary search plus a memmove.
 *
 * Tokens are our own and opaque to clients: GetLogEvents "f/<ts>/<seq>"
 * (events after that key) and "b/<ts>/<seq>" (events before it);
 * FilterLogEvents "<ts>/<seq>" (events after it, interleaved by time);
 * Describe* a decimal offset or a name. */
#include "sd_logs.h"

#include "cm/buf.h"
#include "cm/clock.h"
#include "cm/corr.h"
#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"
#include "cm/query.h"
#include "sd_cw.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LG_MAX_EVENT_BYTES (1u << 20)
#define LG_EVENT_OVERHEAD  26 /* AWS counts each event as len(message) + 26 */
#define LG_MAX_BATCH       10000
#define LG_MAX_BATCH_BYTES 1048576
#define LG_MAX_RESP_BYTES  (1u << 20)
#define LG_TOO_NEW_MS      (2LL * 3600 * 1000)
#define LG_TOO_OLD_MS      (14LL * 86400 * 1000)
#define LG_ACCOUNT         "000000000000"
#define LG_JSON_CT         "application/x-amz-json-1.1"
#define LG_TARGET_PREFIX   "Logs_20140328."

struct lg_event {
    int64_t ts_ms;     /* event time */
    int64_t ingest_ms; /* when stackd stored it */
    uint64_t seq;      /* store-wide, increasing: ties on ts_ms keep arrival order */
    uint32_t len;      /* message bytes */
    char msg[];        /* len bytes + NUL */
};

struct lg_stream {
    char *name;
    int64_t created_ms;
    int64_t last_ingest_ms; /* 0 before the first event */
    struct lg_event **ev;   /* window [off, off + n) sorted by (ts_ms, seq) */
    size_t off, n, cap;
    size_t bytes; /* message bytes held */
};

struct lg_group {
    char *name;
    int64_t created_ms;
    struct lg_stream **streams; /* sorted by name */
    size_t n, cap;
};

struct sd_logs {
    struct sd_logs_config cfg;
    struct lg_group **groups; /* sorted by name */
    size_t n, cap;
    size_t bytes;  /* message bytes in all streams */
    size_t events; /* events in all streams */
    uint64_t seq;
    struct sd_cw *cw; /* borrowed; EMF target */
};

/* ---- store ---------------------------------------------------------------- */

struct sd_logs *sd_logs_new(const struct sd_logs_config *cfg)
{
    struct sd_logs *lg = cm_xcalloc(1, sizeof *lg);
    if (cfg)
        lg->cfg = *cfg;
    if (!lg->cfg.max_events_per_stream)
        lg->cfg.max_events_per_stream = 100000;
    if (!lg->cfg.max_bytes)
        lg->cfg.max_bytes = (size_t)256 << 20;
    if (!lg->cfg.max_groups)
        lg->cfg.max_groups = 10000;
    if (!lg->cfg.max_streams_per_group)
        lg->cfg.max_streams_per_group = 10000;
    return lg;
}

static void stream_free(struct lg_stream *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->ev[s->off + i]);
    free(s->ev);
    free(s->name);
    free(s);
}

void sd_logs_free(struct sd_logs *lg)
{
    if (!lg)
        return;
    for (size_t i = 0; i < lg->n; i++) {
        struct lg_group *g = lg->groups[i];
        for (size_t j = 0; j < g->n; j++)
            stream_free(g->streams[j]);
        free(g->streams);
        free(g->name);
        free(g);
    }
    free(lg->groups);
    free(lg);
}

void sd_logs_set_cw(struct sd_logs *lg, struct sd_cw *cw)
{
    lg->cw = cw;
}

size_t sd_logs_event_count(const struct sd_logs *lg)
{
    return lg->events;
}

size_t sd_logs_bytes(const struct sd_logs *lg)
{
    return lg->bytes;
}

/* Lower bound of name in a sorted array of structs whose first member is
 * `char *name`; *found tells whether it is there. */
static size_t find_name(void *const *arr, size_t n, const char *name, int *found)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(*(char *const *)arr[mid], name);
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < n && strcmp(*(char *const *)arr[lo], name) == 0;
    return lo;
}

static struct lg_group *group_get(const struct sd_logs *lg, const char *name)
{
    int found;
    size_t i = find_name((void *const *)lg->groups, lg->n, name, &found);
    return found ? lg->groups[i] : NULL;
}

static struct lg_stream *stream_get(const struct lg_group *g, const char *name)
{
    int found;
    size_t i = find_name((void *const *)g->streams, g->n, name, &found);
    return found ? g->streams[i] : NULL;
}

/* Log group names: 1-512 of [.-_/#A-Za-z0-9]. */
static int valid_group_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 512)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("._-/#", s[i]))
            return 0;
    return 1;
}

/* Log stream names: 1-512 chars, no ':' or '*'. */
static int valid_stream_name(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n <= 512 && !strpbrk(s, ":*");
}

static void insert_ptr(void ***arr, size_t *n, size_t *cap, size_t at, void *p)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *arr = cm_xrealloc(*arr, *cap * sizeof **arr);
    }
    memmove(*arr + at + 1, *arr + at, (*n - at) * sizeof **arr);
    (*arr)[at] = p;
    (*n)++;
}

int sd_logs_create_group(struct sd_logs *lg, const char *group, int64_t now_ms)
{
    if (!valid_group_name(group))
        return CM_EINVAL;
    int found;
    size_t at = find_name((void *const *)lg->groups, lg->n, group, &found);
    if (found)
        return CM_ESTATE;
    if (lg->n >= lg->cfg.max_groups)
        return CM_ETOOBIG;
    struct lg_group *g = cm_xcalloc(1, sizeof *g);
    g->name = cm_xstrdup(group);
    g->created_ms = now_ms;
    insert_ptr((void ***)&lg->groups, &lg->n, &lg->cap, at, g);
    return 0;
}

int sd_logs_create_stream(struct sd_logs *lg, const char *group, const char *stream, int64_t now_ms)
{
    struct lg_group *g = group_get(lg, group);
    if (!g)
        return CM_ENOTFOUND;
    if (!valid_stream_name(stream))
        return CM_EINVAL;
    int found;
    size_t at = find_name((void *const *)g->streams, g->n, stream, &found);
    if (found)
        return CM_ESTATE;
    if (g->n >= lg->cfg.max_streams_per_group)
        return CM_ETOOBIG;
    struct lg_stream *s = cm_xcalloc(1, sizeof *s);
    s->name = cm_xstrdup(stream);
    s->created_ms = now_ms;
    insert_ptr((void ***)&g->streams, &g->n, &g->cap, at, s);
    return 0;
}

long sd_logs_stream_events(const struct sd_logs *lg, const char *group, const char *stream)
{
    const struct lg_group *g = group_get(lg, group);
    const struct lg_stream *s = g ? stream_get(g, stream) : NULL;
    return s ? (long)s->n : -1;
}

static int key_less(int64_t ts_a, uint64_t seq_a, int64_t ts_b, uint64_t seq_b)
{
    return ts_a < ts_b || (ts_a == ts_b && seq_a < seq_b);
}

/* First index i in [0, n) whose event key is > (ts, seq) (upper bound). */
static size_t stream_upper(const struct lg_stream *s, int64_t ts, uint64_t seq)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct lg_event *e = s->ev[s->off + mid];
        if (key_less(ts, seq, e->ts_ms, e->seq))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* First index whose timestamp is >= ts. */
static size_t stream_lower_ts(const struct lg_stream *s, int64_t ts)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->ev[s->off + mid]->ts_ms < ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void stream_evict_front(struct sd_logs *lg, struct lg_stream *s)
{
    if (s->n == 0)
        return;
    struct lg_event *e = s->ev[s->off];
    s->bytes -= e->len;
    lg->bytes -= e->len;
    lg->events--;
    free(e);
    s->off++;
    s->n--;
    if (s->n == 0)
        s->off = 0;
}

/* Makes room for one more event at the end of the window. */
static void stream_reserve(struct lg_stream *s)
{
    if (s->off + s->n < s->cap)
        return;
    if (s->off > 0 && s->off >= s->cap / 4) {
        memmove(s->ev, s->ev + s->off, s->n * sizeof *s->ev);
        s->off = 0;
        return;
    }
    s->cap = s->cap ? s->cap * 2 : 16;
    s->ev = cm_xrealloc(s->ev, s->cap * sizeof *s->ev);
}

/* Frees the oldest events store-wide until bytes <= target. The oldest is
 * the smallest front timestamp over all streams; one O(streams) scan finds
 * it and the runner-up, and the oldest stream is then trimmed up to the
 * runner-up's front, so streams that do not overlap in time cost one scan
 * each, and the whole run is amortised by evicting down to 90% of the cap. */
static void evict_total(struct sd_logs *lg, size_t target)
{
    while (lg->bytes > target && lg->events > 0) {
        struct lg_stream *best = NULL;
        int64_t second = INT64_MAX;
        for (size_t i = 0; i < lg->n; i++) {
            struct lg_group *g = lg->groups[i];
            for (size_t j = 0; j < g->n; j++) {
                struct lg_stream *s = g->streams[j];
                if (!s->n)
                    continue;
                int64_t ts = s->ev[s->off]->ts_ms;
                if (!best || ts < best->ev[best->off]->ts_ms) {
                    if (best)
                        second = best->ev[best->off]->ts_ms;
                    best = s;
                } else if (ts < second) {
                    second = ts;
                }
            }
        }
        if (!best)
            break;
        do
            stream_evict_front(lg, best);
        while (lg->bytes > target && best->n && best->ev[best->off]->ts_ms <= second);
    }
}

static void stream_append(struct sd_logs *lg, struct lg_stream *s, int64_t ts_ms, const char *msg,
                          size_t len, int64_t now_ms)
{
    struct lg_event *e = cm_xmalloc(sizeof *e + len + 1);
    e->ts_ms = ts_ms;
    e->ingest_ms = now_ms;
    e->seq = ++lg->seq;
    e->len = (uint32_t)len;
    memcpy(e->msg, msg, len);
    e->msg[len] = '\0';
    stream_reserve(s);
    size_t at = s->n;
    if (s->n && s->ev[s->off + s->n - 1]->ts_ms > ts_ms)
        at = stream_upper(s, ts_ms, e->seq);
    memmove(s->ev + s->off + at + 1, s->ev + s->off + at, (s->n - at) * sizeof *s->ev);
    s->ev[s->off + at] = e;
    s->n++;
    s->bytes += len;
    s->last_ingest_ms = now_ms;
    lg->bytes += len;
    lg->events++;
    while (s->n > lg->cfg.max_events_per_stream)
        stream_evict_front(lg, s);
    if (lg->bytes > lg->cfg.max_bytes)
        evict_total(lg, lg->cfg.max_bytes / 10 * 9);
}

/* EMF documents may follow Lambda's text prefix ("<time>\t<request id>\t");
 * look for the object start in the first 256 bytes and only bother the cw
 * store when the text mentions "_aws". */
static void ingest_emf(struct sd_logs *lg, const char *msg, size_t len, int64_t ts_ms)
{
    if (!lg->cw || len < 8)
        return;
    size_t scan = len < 256 ? len : 256;
    const char *brace = memchr(msg, '{', scan);
    if (!brace || !memmem(brace, len - (size_t)(brace - msg), "\"_aws\"", 6))
        return;
    (void)sd_cw_ingest_emf(lg->cw, brace, len - (size_t)(brace - msg), ts_ms);
}

int sd_logs_put(struct sd_logs *lg, const char *group, const char *stream, int64_t ts_ms,
                const char *msg, size_t len, int64_t now_ms)
{
    if (len > LG_MAX_EVENT_BYTES)
        return CM_EINVAL;
    struct lg_group *g = group_get(lg, group);
    if (!g) {
        int rc = sd_logs_create_group(lg, group, now_ms);
        if (rc)
            return rc == CM_ETOOBIG ? rc : CM_EINVAL;
        g = group_get(lg, group);
    }
    struct lg_stream *s = stream_get(g, stream);
    if (!s) {
        int rc = sd_logs_create_stream(lg, group, stream, now_ms);
        if (rc)
            return rc == CM_ETOOBIG ? rc : CM_EINVAL;
        s = stream_get(g, stream);
    }
    stream_append(lg, s, ts_ms, msg, len, now_ms);
    ingest_emf(lg, msg, len, ts_ms);
    return 0;
}

/* ---- filter patterns -------------------------------------------------------- */

enum { F_ALL, F_TERMS, F_JSON };
enum { T_REQ, T_NOT, T_OPT };
enum { J_AND, J_OR, J_CMP };
enum { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE, C_NULL, C_NOTEXISTS, C_TRUE, C_FALSE };

#define LG_FILTER_MAX_DEPTH 32
#define LG_FILTER_MAX_LEN   1024 /* AWS: filterPattern is at most 1024 chars */

struct fterm {
    char *s;
    size_t n;
    int mode; /* T_* */
};

struct jstep {
    char *key; /* NULL: array index */
    long index;
};

struct jnode {
    int type; /* J_* */
    struct jnode *l, *r;
    struct jstep *steps;
    int n_steps;
    int cmp; /* C_* */
    int is_num;
    double num;
    char *str;
};

struct sd_logs_filter {
    int kind; /* F_* */
    struct fterm *terms;
    int n_terms;
    int n_opt; /* subset of n_terms with mode T_OPT */
    struct jnode *root;
};

static void jnode_free(struct jnode *j)
{
    if (!j)
        return;
    jnode_free(j->l);
    jnode_free(j->r);
    for (int i = 0; i < j->n_steps; i++)
        free(j->steps[i].key);
    free(j->steps);
    free(j->str);
    free(j);
}

void sd_logs_filter_free(struct sd_logs_filter *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->n_terms; i++)
        free(f->terms[i].s);
    free(f->terms);
    jnode_free(f->root);
    free(f);
}

struct jparse {
    const char *p;
    size_t n, i;
    int depth;
    const char *why;
};

static void jp_ws(struct jparse *jp)
{
    while (jp->i < jp->n && isspace((unsigned char)jp->p[jp->i]))
        jp->i++;
}

static int jp_lit(struct jparse *jp, const char *lit)
{
    size_t l = strlen(lit);
    if (jp->n - jp->i >= l && memcmp(jp->p + jp->i, lit, l) == 0) {
        jp->i += l;
        return 1;
    }
    return 0;
}

/* A quoted string (after the opening quote) with \" and \\ escapes. */
static char *jp_quoted(struct jparse *jp)
{
    struct cm_buf b;
    cm_buf_init(&b, LG_FILTER_MAX_LEN + 1);
    while (jp->i < jp->n && jp->p[jp->i] != '"') {
        char c = jp->p[jp->i++];
        if (c == '\\' && jp->i < jp->n)
            c = jp->p[jp->i++];
        if (cm_buf_putc(&b, c))
            break;
    }
    if (jp->i >= jp->n) {
        jp->why = "unterminated quoted string in filter pattern";
        cm_buf_deinit(&b);
        return NULL;
    }
    jp->i++;
    char *s = cm_buf_steal(&b, NULL);
    return s ? s : cm_xstrdup("");
}

static int jp_selector(struct jparse *jp, struct jnode *j)
{
    if (!jp_lit(jp, "$")) {
        jp->why = "expected a selector starting with $ in JSON filter pattern";
        return CM_EPARSE;
    }
    while (jp->i < jp->n && (jp->p[jp->i] == '.' || jp->p[jp->i] == '[')) {
        if (j->n_steps >= 32) {
            jp->why = "selector too deep in filter pattern";
            return CM_EPARSE;
        }
        j->steps = cm_xrealloc(j->steps, (size_t)(j->n_steps + 1) * sizeof *j->steps);
        struct jstep *st = &j->steps[j->n_steps];
        st->key = NULL;
        st->index = 0;
        if (jp->p[jp->i++] == '.') {
            size_t start = jp->i;
            while (jp->i < jp->n && !strchr(" \t\r\n.[]=!<>()&|}\"", jp->p[jp->i]))
                jp->i++;
            if (jp->i == start) {
                jp->why = "empty field name after '.' in filter pattern";
                return CM_EPARSE;
            }
            st->key = cm_xstrndup(jp->p + start, jp->i - start);
        } else {
            size_t start = jp->i;
            while (jp->i < jp->n && isdigit((unsigned char)jp->p[jp->i]) && jp->i - start < 9)
                st->index = st->index * 10 + (jp->p[jp->i++] - '0');
            if (jp->i == start || !jp_lit(jp, "]")) {
                jp->why = "expected [number] in filter pattern selector";
                return CM_EPARSE;
            }
        }
        j->n_steps++;
    }
    return 0;
}

static int jp_value(struct jparse *jp, struct jnode *j)
{
    jp_ws(jp);
    if (jp_lit(jp, "\"")) {
        j->str = jp_quoted(jp);
        return j->str ? 0 : CM_EPARSE;
    }
    size_t start = jp->i;
    while (jp->i < jp->n && !strchr(" \t\r\n()&|}", jp->p[jp->i]))
        jp->i++;
    if (jp->i == start) {
        jp->why = "expected a value after the operator in filter pattern";
        return CM_EPARSE;
    }
    j->str = cm_xstrndup(jp->p + start, jp->i - start);
    char *end;
    double d = strtod(j->str, &end);
    if (*end == '\0' && end != j->str) {
        j->is_num = 1;
        j->num = d;
    }
    return 0;
}

static int jp_compare(struct jparse *jp, struct jnode *j)
{
    static const struct {
        const char *lit;
        int cmp;
    } ops[] = {{"!=", C_NE}, {"<=", C_LE}, {">=", C_GE}, {"=", C_EQ}, {"<", C_LT}, {">", C_GT}};
    jp_ws(jp);
    int rc = jp_selector(jp, j);
    if (rc)
        return rc;
    jp_ws(jp);
    if (jp_lit(jp, "IS")) {
        jp_ws(jp);
        if (jp_lit(jp, "NULL"))
            j->cmp = C_NULL;
        else if (jp_lit(jp, "TRUE"))
            j->cmp = C_TRUE;
        else if (jp_lit(jp, "FALSE"))
            j->cmp = C_FALSE;
        else {
            jp->why = "expected NULL, TRUE or FALSE after IS in filter pattern";
            return CM_EPARSE;
        }
        return 0;
    }
    if (jp_lit(jp, "NOT")) {
        jp_ws(jp);
        if (!jp_lit(jp, "EXISTS")) {
            jp->why = "expected EXISTS after NOT in filter pattern";
            return CM_EPARSE;
        }
        j->cmp = C_NOTEXISTS;
        return 0;
    }
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        if (jp_lit(jp, ops[k].lit)) {
            j->cmp = ops[k].cmp;
            rc = jp_value(jp, j);
            if (rc == 0 && j->cmp >= C_LT && j->cmp <= C_GE && !j->is_num) {
                jp->why = "<, <=, > and >= need a number in filter pattern";
                rc = CM_EPARSE;
            }
            return rc;
        }
    }
    jp->why = "expected an operator (=, !=, <, <=, >, >=, IS, NOT EXISTS) in filter pattern";
    return CM_EPARSE;
}

static int jp_or(struct jparse *jp, struct jnode **out);

static int jp_unary(struct jparse *jp, struct jnode **out)
{
    jp_ws(jp);
    if (jp_lit(jp, "(")) {
        if (++jp->depth > LG_FILTER_MAX_DEPTH) {
            jp->why = "filter pattern nested too deeply";
            return CM_EPARSE;
        }
        int rc = jp_or(jp, out);
        jp->depth--;
        jp_ws(jp);
        if (rc == 0 && !jp_lit(jp, ")")) {
            jp->why = "expected ')' in filter pattern";
            rc = CM_EPARSE;
        }
        return rc;
    }
    struct jnode *j = cm_xcalloc(1, sizeof *j);
    j->type = J_CMP;
    *out = j;
    return jp_compare(jp, j);
}

/* One precedence level: operand (op operand)*, left-associative. */
static int jp_level(struct jparse *jp, struct jnode **out, const char *op, int type,
                    int (*operand)(struct jparse *, struct jnode **))
{
    int rc = operand(jp, out);
    while (rc == 0) {
        jp_ws(jp);
        if (!jp_lit(jp, op))
            break;
        struct jnode *j = cm_xcalloc(1, sizeof *j);
        j->type = type;
        j->l = *out;
        *out = j;
        rc = operand(jp, &j->r);
    }
    return rc;
}

static int jp_and(struct jparse *jp, struct jnode **out)
{
    return jp_level(jp, out, "&&", J_AND, jp_unary);
}

static int jp_or(struct jparse *jp, struct jnode **out)
{
    return jp_level(jp, out, "||", J_OR, jp_and);
}

static int compile_json(struct sd_logs_filter *f, const char *p, size_t n, const char **why)
{
    struct jparse jp = {.p = p, .n = n, .i = 0};
    jp_ws(&jp);
    jp_lit(&jp, "{");
    int rc = jp_or(&jp, &f->root);
    jp_ws(&jp);
    if (rc == 0 && !jp_lit(&jp, "}")) {
        jp.why = "expected '}' at the end of the JSON filter pattern";
        rc = CM_EPARSE;
    }
    jp_ws(&jp);
    if (rc == 0 && jp.i != n) {
        jp.why = "unexpected text after '}' in filter pattern";
        rc = CM_EPARSE;
    }
    *why = jp.why;
    return rc;
}

static int compile_terms(struct sd_logs_filter *f, const char *p, size_t n, const char **why)
{
    struct jparse jp = {.p = p, .n = n, .i = 0};
    for (;;) {
        jp_ws(&jp);
        if (jp.i >= n)
            break;
        int mode = T_REQ;
        if (p[jp.i] == '-' || p[jp.i] == '?') {
            mode = p[jp.i] == '-' ? T_NOT : T_OPT;
            jp.i++;
        }
        char *s;
        if (jp_lit(&jp, "\"")) {
            s = jp_quoted(&jp);
            if (!s) {
                *why = jp.why;
                return CM_EPARSE;
            }
        } else {
            size_t start = jp.i;
            while (jp.i < n && !isspace((unsigned char)p[jp.i]))
                jp.i++;
            if (jp.i == start) {
                *why = "'-' or '?' must be followed by a term in filter pattern";
                return CM_EPARSE;
            }
            s = cm_xstrndup(p + start, jp.i - start);
        }
        f->terms = cm_xrealloc(f->terms, (size_t)(f->n_terms + 1) * sizeof *f->terms);
        f->terms[f->n_terms].s = s;
        f->terms[f->n_terms].n = strlen(s);
        f->terms[f->n_terms].mode = mode;
        f->n_terms++;
        f->n_opt += mode == T_OPT;
    }
    f->kind = f->n_terms ? F_TERMS : F_ALL;
    return 0;
}

int sd_logs_filter_compile(const char *p, size_t n, struct sd_logs_filter **out, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    *why = NULL;
    *out = NULL;
    if (n > LG_FILTER_MAX_LEN) {
        *why = "filterPattern is longer than 1024 characters";
        return CM_EPARSE;
    }
    struct sd_logs_filter *f = cm_xcalloc(1, sizeof *f);
    size_t i = 0;
    while (i < n && isspace((unsigned char)p[i]))
        i++;
    int rc;
    if (i < n && p[i] == '[') {
        *why = "space-delimited filter patterns ([a, b, ...]) are not supported by stackd";
        rc = CM_EUNSUPP;
    } else if (i < n && p[i] == '{') {
        f->kind = F_JSON;
        rc = compile_json(f, p + i, n - i, why);
    } else {
        rc = compile_terms(f, p, n, why);
    }
    if (rc) {
        if (!*why)
            *why = "malformed filter pattern";
        sd_logs_filter_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

/* '*' matches any run of characters; everything else literally. */
static int glob_match(const char *pat, const char *s)
{
    const char *star = NULL, *back = NULL;
    while (*s) {
        if (*pat == '*') {
            star = pat++;
            back = s;
        } else if (*pat == *s) {
            pat++;
            s++;
        } else if (star) {
            pat = star + 1;
            s = ++back;
        } else {
            return 0;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

static const cJSON *json_select(const cJSON *root, const struct jnode *j)
{
    const cJSON *cur = root;
    for (int i = 0; i < j->n_steps && cur; i++) {
        if (j->steps[i].key)
            cur =
                cJSON_IsObject(cur) ? cJSON_GetObjectItemCaseSensitive(cur, j->steps[i].key) : NULL;
        else
            cur = cJSON_IsArray(cur) ? cJSON_GetArrayItem(cur, (int)j->steps[i].index) : NULL;
    }
    return cur;
}

static int json_compare(const cJSON *v, const struct jnode *j)
{
    switch (j->cmp) {
    case C_NOTEXISTS:
        return v == NULL;
    case C_NULL:
        return v && cJSON_IsNull(v);
    case C_TRUE:
        return v && cJSON_IsTrue(v);
    case C_FALSE:
        return v && cJSON_IsFalse(v);
    default:
        break;
    }
    if (!v)
        return 0;
    if (cJSON_IsNumber(v) && j->is_num) {
        double a = v->valuedouble, b = j->num;
        switch (j->cmp) {
        case C_EQ:
            return a == b;
        case C_NE:
            return a != b;
        case C_LT:
            return a < b;
        case C_LE:
            return a <= b;
        case C_GT:
            return a > b;
        default:
            return a >= b;
        }
    }
    if (cJSON_IsString(v) && (j->cmp == C_EQ || j->cmp == C_NE)) {
        int m = glob_match(j->str, v->valuestring);
        return j->cmp == C_EQ ? m : !m;
    }
    return 0;
}

static int json_eval(const cJSON *root, const struct jnode *j)
{
    if (j->type == J_AND)
        return json_eval(root, j->l) && json_eval(root, j->r);
    if (j->type == J_OR)
        return json_eval(root, j->l) || json_eval(root, j->r);
    return json_compare(json_select(root, j), j);
}

int sd_logs_filter_match(const struct sd_logs_filter *f, const char *msg, size_t n)
{
    if (!f || f->kind == F_ALL)
        return 1;
    if (f->kind == F_JSON) {
        cJSON *doc = cJSON_ParseWithLength(msg, n);
        int m = doc && (cJSON_IsObject(doc) || cJSON_IsArray(doc)) && json_eval(doc, f->root);
        cJSON_Delete(doc);
        return m;
    }
    int any_opt = 0;
    for (int i = 0; i < f->n_terms; i++) {
        const struct fterm *t = &f->terms[i];
        int found = t->n == 0 || memmem(msg, n, t->s, t->n) != NULL;
        if (t->mode == T_REQ && !found)
            return 0;
        if (t->mode == T_NOT && found)
            return 0;
        any_opt |= t->mode == T_OPT && found;
    }
    return f->n_opt == 0 || any_opt;
}

/* ---- awsJson1_1 handler ----------------------------------------------------- */

struct lctx {
    struct sd_logs *lg;
    const cJSON *in;
    struct cm_query_out o;
    int64_t now_ms;
    char region[32];
    const char *err_type; /* set on failure */
    char err_msg[300];
};

static int fail(struct lctx *c, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct lctx *c, const char *type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err_msg, sizeof c->err_msg, fmt, ap);
    va_end(ap);
    c->err_type = type;
    return -1;
}

#define E_NOTFOUND "ResourceNotFoundException"
#define E_INVALID  "InvalidParameterException"
#define E_EXISTS   "ResourceAlreadyExistsException"
#define E_LIMIT    "LimitExceededException"

/* A required string member; fails with InvalidParameterException. */
static const char *need_str(struct lctx *c, const char *key)
{
    const char *s = cm_json_str(c->in, key, NULL);
    if (!s || !*s)
        fail(c, E_INVALID,
             "1 validation error detected: Value at '%s' failed to satisfy "
             "constraint: Member must not be null",
             key);
    return s;
}

/* Optional integer member in [lo, hi]; def when absent. -1 after failing. */
static int opt_int(struct lctx *c, const char *key, int64_t lo, int64_t hi, int64_t def,
                   int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->in, key);
    *out = def;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble < (double)lo || v->valuedouble > (double)hi)
        return fail(c, E_INVALID, "%s must be a number from %lld to %lld", key, (long long)lo,
                    (long long)hi);
    *out = (int64_t)v->valuedouble;
    return 0;
}

static struct lg_group *need_group(struct lctx *c, const char *name)
{
    struct lg_group *g = group_get(c->lg, name);
    if (!g)
        fail(c, E_NOTFOUND, "The specified log group does not exist.");
    return g;
}

static void out_arn(struct lctx *c, const char *name, const char *group, const char *stream)
{
    char arn[1200];
    if (stream)
        snprintf(arn, sizeof arn, "arn:aws:logs:%s:%s:log-group:%s:log-stream:%s", c->region,
                 LG_ACCOUNT, group, stream);
    else
        snprintf(arn, sizeof arn, "arn:aws:logs:%s:%s:log-group:%s:*", c->region, LG_ACCOUNT,
                 group);
    cm_query_out_str(&c->o, name, arn);
}

static int op_create_group(struct lctx *c)
{
    const char *name = need_str(c, "logGroupName");
    if (!name)
        return -1;
    int rc = sd_logs_create_group(c->lg, name, c->now_ms);
    if (rc == CM_ESTATE)
        return fail(c, E_EXISTS, "The specified log group already exists");
    if (rc == CM_EINVAL)
        return fail(c, E_INVALID, "Invalid log group name: %.200s", name);
    if (rc)
        return fail(c, E_LIMIT, "Resource limit exceeded.");
    return 0;
}

static int op_create_stream(struct lctx *c)
{
    const char *group = need_str(c, "logGroupName");
    const char *stream = group ? need_str(c, "logStreamName") : NULL;
    if (!stream)
        return -1;
    int rc = sd_logs_create_stream(c->lg, group, stream, c->now_ms);
    if (rc == CM_ENOTFOUND)
        return fail(c, E_NOTFOUND, "The specified log group does not exist.");
    if (rc == CM_ESTATE)
        return fail(c, E_EXISTS, "The specified log stream already exists");
    if (rc == CM_EINVAL)
        return fail(c, E_INVALID, "Invalid log stream name: %.200s", stream);
    if (rc)
        return fail(c, E_LIMIT, "Resource limit exceeded.");
    return 0;
}

/* Validates the batch first (AWS rejects the whole call for shape errors)
 * and reports too-new/too-old events instead of storing them. */
static int op_put_events(struct lctx *c)
{
    const char *group = need_str(c, "logGroupName");
    const char *sname = group ? need_str(c, "logStreamName") : NULL;
    if (!sname)
        return -1;
    struct lg_group *g = need_group(c, group);
    if (!g)
        return -1;
    struct lg_stream *s = stream_get(g, sname);
    if (!s)
        return fail(c, E_NOTFOUND, "The specified log stream does not exist.");
    const cJSON *evs = cJSON_GetObjectItemCaseSensitive(c->in, "logEvents");
    int n = cJSON_IsArray(evs) ? cJSON_GetArraySize(evs) : 0;
    if (n == 0)
        return fail(c, E_INVALID, "logEvents must be a non-empty list");
    if (n > LG_MAX_BATCH)
        return fail(c, E_INVALID, "logEvents holds %d events; the maximum is %d", n, LG_MAX_BATCH);
    size_t batch_bytes = 0;
    int64_t prev = INT64_MIN;
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, evs)
    {
        const cJSON *ts = cJSON_GetObjectItemCaseSensitive(e, "timestamp");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(e, "message");
        if (!cJSON_IsNumber(ts) || !(ts->valuedouble >= 0 && ts->valuedouble < 1e15) ||
            !cJSON_IsString(m) || !m->valuestring[0])
            return fail(c, E_INVALID,
                        "logEvents[%d] needs a numeric timestamp and a non-empty "
                        "message",
                        i);
        if ((int64_t)ts->valuedouble < prev)
            return fail(c, E_INVALID,
                        "Log events in a single PutLogEvents request must be in "
                        "chronological order.");
        prev = (int64_t)ts->valuedouble;
        batch_bytes += strlen(m->valuestring) + LG_EVENT_OVERHEAD;
        i++;
    }
    if (batch_bytes > LG_MAX_BATCH_BYTES)
        return fail(c, E_INVALID, "Upload too large: %zu bytes exceeds limit of %d", batch_bytes,
                    LG_MAX_BATCH_BYTES);
    int too_new = -1, too_old = -1;
    i = 0;
    cJSON_ArrayForEach(e, evs)
    {
        int64_t ts = (int64_t)cJSON_GetObjectItemCaseSensitive(e, "timestamp")->valuedouble;
        const char *m = cJSON_GetObjectItemCaseSensitive(e, "message")->valuestring;
        if (ts > c->now_ms + LG_TOO_NEW_MS) {
            if (too_new < 0)
                too_new = i;
        } else if (ts < c->now_ms - LG_TOO_OLD_MS) {
            too_old = i;
        } else {
            size_t len = strlen(m);
            if (len > LG_MAX_EVENT_BYTES)
                len = LG_MAX_EVENT_BYTES;
            stream_append(c->lg, s, ts, m, len, c->now_ms);
            ingest_emf(c->lg, m, len, ts);
        }
        i++;
    }
    char tok[32];
    snprintf(tok, sizeof tok, "%" PRIu64, c->lg->seq);
    cm_query_out_str(&c->o, "nextSequenceToken", tok);
    if (too_new >= 0 || too_old >= 0) {
        cm_query_out_open(&c->o, "rejectedLogEventsInfo", CM_QUERY_OBJ);
        if (too_new >= 0)
            cm_query_out_int(&c->o, "tooNewLogEventStartIndex", too_new);
        if (too_old >= 0)
            cm_query_out_int(&c->o, "tooOldLogEventEndIndex", too_old);
        cm_query_out_close(&c->o);
    }
    return 0;
}

static int op_describe_groups(struct lctx *c)
{
    int64_t limit;
    if (opt_int(c, "limit", 1, 50, 50, &limit))
        return -1;
    const char *prefix = cm_json_str(c->in, "logGroupNamePrefix", "");
    const char *pattern = cm_json_str(c->in, "logGroupNamePattern", NULL);
    const char *token = cm_json_str(c->in, "nextToken", NULL);
    if (*prefix && pattern)
        return fail(c, E_INVALID,
                    "logGroupNamePrefix and logGroupNamePattern are mutually "
                    "exclusive");
    int found;
    size_t i = find_name((void *const *)c->lg->groups, c->lg->n, token ? token : prefix, &found);
    if (token && found)
        i++; /* the token names the last group already returned */
    size_t plen = strlen(prefix);
    int64_t emitted = 0;
    cm_query_out_open(&c->o, "logGroups", CM_QUERY_LIST);
    for (; i < c->lg->n && emitted < limit; i++) {
        const struct lg_group *g = c->lg->groups[i];
        if (strncmp(g->name, prefix, plen) != 0) {
            if (strcmp(g->name, prefix) > 0 && plen)
                break;
            continue;
        }
        if (pattern && !strstr(g->name, pattern))
            continue;
        size_t bytes = 0;
        for (size_t j = 0; j < g->n; j++)
            bytes += g->streams[j]->bytes;
        cm_query_out_open(&c->o, "", CM_QUERY_OBJ);
        cm_query_out_str(&c->o, "logGroupName", g->name);
        cm_query_out_int(&c->o, "creationTime", g->created_ms);
        cm_query_out_int(&c->o, "metricFilterCount", 0);
        out_arn(c, "arn", g->name, NULL);
        cm_query_out_int(&c->o, "storedBytes", (int64_t)bytes);
        cm_query_out_close(&c->o);
        emitted++;
    }
    cm_query_out_close(&c->o);
    /* More may follow only if the loop stopped on the limit with groups left
     * that still carry the prefix. */
    if (emitted == limit && i < c->lg->n && strncmp(c->lg->groups[i]->name, prefix, plen) == 0)
        cm_query_out_str(&c->o, "nextToken", c->lg->groups[i - 1]->name);
    return 0;
}

static int stream_cmp_last_event(const void *a, const void *b)
{
    const struct lg_stream *x = *(const struct lg_stream *const *)a;
    const struct lg_stream *y = *(const struct lg_stream *const *)b;
    int64_t tx = x->n ? x->ev[x->off + x->n - 1]->ts_ms : 0;
    int64_t ty = y->n ? y->ev[y->off + y->n - 1]->ts_ms : 0;
    if (tx != ty)
        return tx < ty ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void out_stream(struct lctx *c, const struct lg_group *g, const struct lg_stream *s)
{
    cm_query_out_open(&c->o, "", CM_QUERY_OBJ);
    cm_query_out_str(&c->o, "logStreamName", s->name);
    cm_query_out_int(&c->o, "creationTime", s->created_ms);
    if (s->n) {
        cm_query_out_int(&c->o, "firstEventTimestamp", s->ev[s->off]->ts_ms);
        cm_query_out_int(&c->o, "lastEventTimestamp", s->ev[s->off + s->n - 1]->ts_ms);
        cm_query_out_int(&c->o, "lastIngestionTime", s->last_ingest_ms);
    }
    out_arn(c, "arn", g->name, s->name);
    cm_query_out_int(&c->o, "storedBytes", (int64_t)s->bytes);
    cm_query_out_close(&c->o);
}

static int op_describe_streams(struct lctx *c)
{
    const char *gname = need_str(c, "logGroupName");
    const struct lg_group *g = gname ? need_group(c, gname) : NULL;
    if (!g)
        return -1;
    int64_t limit;
    if (opt_int(c, "limit", 1, 50, 50, &limit))
        return -1;
    const char *prefix = cm_json_str(c->in, "logStreamNamePrefix", "");
    const char *order = cm_json_str(c->in, "orderBy", "LogStreamName");
    int desc = cm_json_bool(c->in, "descending", 0);
    int by_time = strcmp(order, "LastEventTime") == 0;
    if (!by_time && strcmp(order, "LogStreamName") != 0)
        return fail(c, E_INVALID, "orderBy must be LogStreamName or LastEventTime");
    if (by_time && *prefix)
        return fail(c, E_INVALID, "Cannot order by LastEventTime with a logStreamNamePrefix.");
    const char *token = cm_json_str(c->in, "nextToken", "0");
    char *end;
    unsigned long long skip = strtoull(token, &end, 10);
    if (*end)
        return fail(c, E_INVALID, "The specified nextToken is invalid.");
    /* Matching streams in the requested order, then a window of them. */
    struct lg_stream **sel = cm_xmalloc((g->n + 1) * sizeof *sel);
    size_t ns = 0, plen = strlen(prefix);
    for (size_t i = 0; i < g->n; i++)
        if (strncmp(g->streams[i]->name, prefix, plen) == 0)
            sel[ns++] = g->streams[i];
    if (by_time)
        qsort(sel, ns, sizeof *sel, stream_cmp_last_event);
    cm_query_out_open(&c->o, "logStreams", CM_QUERY_LIST);
    size_t k = (size_t)skip, emitted = 0;
    for (; k < ns && emitted < (size_t)limit; k++, emitted++)
        out_stream(c, g, sel[desc ? ns - 1 - k : k]);
    cm_query_out_close(&c->o);
    if (k < ns) {
        char tok[32];
        snprintf(tok, sizeof tok, "%zu", k);
        cm_query_out_str(&c->o, "nextToken", tok);
    }
    free(sel);
    return 0;
}

/* Token "<d>/<ts>/<seq>" (d = 'f' or 'b') or, with d == 0, "<ts>/<seq>". */
static int parse_token(const char *tok, char d, int64_t *ts, uint64_t *seq)
{
    if (d) {
        if (tok[0] != d || tok[1] != '/')
            return CM_EINVAL;
        tok += 2;
    }
    char *end;
    long long t = strtoll(tok, &end, 10);
    if (end == tok || *end != '/')
        return CM_EINVAL;
    const char *s = end + 1;
    unsigned long long q = strtoull(s, &end, 10);
    if (end == s || *end)
        return CM_EINVAL;
    *ts = t;
    *seq = q;
    return 0;
}

static void out_token(struct lctx *c, const char *name, char d, int64_t ts, uint64_t seq)
{
    char tok[64];
    if (d)
        snprintf(tok, sizeof tok, "%c/%lld/%" PRIu64, d, (long long)ts, seq);
    else
        snprintf(tok, sizeof tok, "%lld/%" PRIu64, (long long)ts, seq);
    cm_query_out_str(&c->o, name, tok);
}

/* Reads startTime/endTime (ms; end exclusive). */
static int time_range(struct lctx *c, int64_t *start, int64_t *end)
{
    if (opt_int(c, "startTime", 0, INT64_C(1) << 52, 0, start) ||
        opt_int(c, "endTime", 0, INT64_C(1) << 52, INT64_C(1) << 52, end))
        return -1;
    if (*end < *start)
        return fail(c, E_INVALID, "endTime must not be before startTime");
    return 0;
}

static int op_get_events(struct lctx *c)
{
    const char *gname = need_str(c, "logGroupName");
    const char *sname = gname ? need_str(c, "logStreamName") : NULL;
    const struct lg_group *g = sname ? need_group(c, gname) : NULL;
    if (!g)
        return -1;
    const struct lg_stream *s = stream_get(g, sname);
    if (!s)
        return fail(c, E_NOTFOUND, "The specified log stream does not exist.");
    int64_t limit, t0, t1;
    if (opt_int(c, "limit", 1, 10000, 10000, &limit) || time_range(c, &t0, &t1))
        return -1;
    const char *tok = cm_json_str(c->in, "nextToken", NULL);
    int head = cm_json_bool(c->in, "startFromHead", 0);
    int64_t kts = 0;
    uint64_t kseq = 0;
    int forward = head;
    if (tok) {
        if (parse_token(tok, 'f', &kts, &kseq) == 0)
            forward = 1;
        else if (parse_token(tok, 'b', &kts, &kseq) == 0)
            forward = 0;
        else
            return fail(c, E_INVALID, "The specified nextToken is invalid.");
    }
    /* Candidate window [lo, hi) of indexes: the time range, cut by the token. */
    size_t lo = stream_lower_ts(s, t0), hi = stream_lower_ts(s, t1);
    if (tok && forward) {
        size_t u = stream_upper(s, kts, kseq);
        lo = u > lo ? u : lo;
    } else if (tok) {
        size_t u = stream_upper(s, kts, kseq);
        /* events strictly before the key: those below its lower bound */
        while (u > 0 &&
               !key_less(s->ev[s->off + u - 1]->ts_ms, s->ev[s->off + u - 1]->seq, kts, kseq))
            u--;
        hi = u < hi ? u : hi;
    }
    if (hi < lo)
        hi = lo;
    /* Take `limit` events (and at most ~1 MB) from the head or the tail. */
    size_t a = lo, b = hi, bytes = 0;
    if (forward) {
        b = a;
        while (b < hi && (int64_t)(b - a) < limit && bytes < LG_MAX_RESP_BYTES)
            bytes += s->ev[s->off + b++]->len + LG_EVENT_OVERHEAD;
    } else {
        a = b;
        while (a > lo && (int64_t)(b - a) < limit && bytes < LG_MAX_RESP_BYTES)
            bytes += s->ev[s->off + --a]->len + LG_EVENT_OVERHEAD;
    }
    cm_query_out_open(&c->o, "events", CM_QUERY_LIST);
    for (size_t i = a; i < b; i++) {
        const struct lg_event *e = s->ev[s->off + i];
        cm_query_out_open(&c->o, "", CM_QUERY_OBJ);
        cm_query_out_int(&c->o, "timestamp", e->ts_ms);
        cm_query_out_strn(&c->o, "message", e->msg, e->len);
        cm_query_out_int(&c->o, "ingestionTime", e->ingest_ms);
        cm_query_out_close(&c->o);
    }
    cm_query_out_close(&c->o);
    if (a < b) {
        const struct lg_event *first = s->ev[s->off + a], *last = s->ev[s->off + b - 1];
        out_token(c, "nextForwardToken", 'f', last->ts_ms, last->seq);
        out_token(c, "nextBackwardToken", 'b', first->ts_ms, first->seq);
    } else if (tok) {
        /* Nothing new: hand the same token back, which is how clients know
         * they reached the end. */
        cm_query_out_str(&c->o, forward ? "nextForwardToken" : "nextBackwardToken", tok);
        out_token(c, forward ? "nextBackwardToken" : "nextForwardToken", forward ? 'b' : 'f', kts,
                  kseq);
    } else {
        out_token(c, "nextForwardToken", 'f', t0 > 0 ? t0 - 1 : 0, UINT64_MAX >> 1);
        out_token(c, "nextBackwardToken", 'b', t0, 0);
    }
    return 0;
}

/* k-way merge cursor for FilterLogEvents. */
struct fcur {
    const struct lg_stream *s;
    size_t i, end; /* next index, end of the time range */
};

static int fcur_less(const struct fcur *x, const struct fcur *y)
{
    const struct lg_event *a = x->s->ev[x->s->off + x->i], *b = y->s->ev[y->s->off + y->i];
    return key_less(a->ts_ms, a->seq, b->ts_ms, b->seq);
}

static void heap_down(struct fcur *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && fcur_less(&h[l], &h[m]))
            m = l;
        if (r < n && fcur_less(&h[r], &h[m]))
            m = r;
        if (m == i)
            return;
        struct fcur t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static int select_streams(struct lctx *c, const struct lg_group *g, const struct lg_stream ***out,
                          size_t *n_out)
{
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(c->in, "logStreamNames");
    const char *prefix = cm_json_str(c->in, "logStreamNamePrefix", NULL);
    if (names && prefix)
        return fail(c, E_INVALID,
                    "logStreamNames and logStreamNamePrefix are mutually "
                    "exclusive");
    const struct lg_stream **sel = cm_xmalloc((g->n + 1) * sizeof *sel);
    size_t ns = 0;
    if (cJSON_IsArray(names)) {
        const cJSON *nm;
        cJSON_ArrayForEach(nm, names)
        {
            const struct lg_stream *s = cJSON_IsString(nm) ? stream_get(g, nm->valuestring) : NULL;
            if (!s) {
                free(sel);
                return fail(c, E_NOTFOUND, "The specified log stream does not exist.");
            }
            int dup = 0;
            for (size_t k = 0; k < ns; k++)
                dup |= sel[k] == s;
            if (!dup && ns < g->n)
                sel[ns++] = s;
        }
    } else {
        size_t plen = prefix ? strlen(prefix) : 0;
        for (size_t i = 0; i < g->n; i++)
            if (!prefix || strncmp(g->streams[i]->name, prefix, plen) == 0)
                sel[ns++] = g->streams[i];
    }
    *out = sel;
    *n_out = ns;
    return 0;
}

static void out_filtered(struct lctx *c, const struct lg_stream *s, const struct lg_event *e)
{
    char id[24];
    snprintf(id, sizeof id, "%" PRIu64, e->seq);
    cm_query_out_open(&c->o, "", CM_QUERY_OBJ);
    cm_query_out_str(&c->o, "logStreamName", s->name);
    cm_query_out_int(&c->o, "timestamp", e->ts_ms);
    cm_query_out_strn(&c->o, "message", e->msg, e->len);
    cm_query_out_int(&c->o, "ingestionTime", e->ingest_ms);
    cm_query_out_str(&c->o, "eventId", id);
    cm_query_out_close(&c->o);
}

static int op_filter_events(struct lctx *c)
{
    const char *gname = need_str(c, "logGroupName");
    const struct lg_group *g = gname ? need_group(c, gname) : NULL;
    if (!g)
        return -1;
    int64_t limit, t0, t1;
    if (opt_int(c, "limit", 1, 10000, 10000, &limit) || time_range(c, &t0, &t1))
        return -1;
    const char *pat = cm_json_str(c->in, "filterPattern", "");
    const char *tok = cm_json_str(c->in, "nextToken", NULL);
    int64_t kts = INT64_MIN;
    uint64_t kseq = 0;
    if (tok && parse_token(tok, 0, &kts, &kseq))
        return fail(c, E_INVALID, "The specified nextToken is invalid.");
    struct sd_logs_filter *f = NULL;
    const char *why = NULL;
    if (sd_logs_filter_compile(pat, strlen(pat), &f, &why))
        return fail(c, E_INVALID, "Invalid filter pattern: %s", why);
    const struct lg_stream **sel = NULL;
    size_t ns = 0;
    if (select_streams(c, g, &sel, &ns)) {
        sd_logs_filter_free(f);
        return -1;
    }
    struct fcur *h = cm_xmalloc((ns + 1) * sizeof *h);
    size_t nh = 0;
    for (size_t k = 0; k < ns; k++) {
        struct fcur cur = {sel[k], stream_lower_ts(sel[k], t0), stream_lower_ts(sel[k], t1)};
        if (tok) {
            size_t u = stream_upper(sel[k], kts, kseq);
            cur.i = u > cur.i ? u : cur.i;
        }
        if (cur.i < cur.end)
            h[nh++] = cur;
    }
    for (size_t k = nh; k-- > 0;)
        heap_down(h, nh, k);
    int64_t emitted = 0;
    size_t bytes = 0;
    const struct lg_event *last = NULL;
    cm_query_out_open(&c->o, "events", CM_QUERY_LIST);
    while (nh > 0 && emitted < limit && bytes < LG_MAX_RESP_BYTES) {
        const struct lg_stream *s = h[0].s;
        const struct lg_event *e = s->ev[s->off + h[0].i];
        last = e;
        if (sd_logs_filter_match(f, e->msg, e->len)) {
            out_filtered(c, s, e);
            emitted++;
            bytes += e->len + LG_EVENT_OVERHEAD;
        }
        if (++h[0].i >= h[0].end)
            h[0] = h[--nh];
        heap_down(h, nh, 0);
    }
    cm_query_out_close(&c->o);
    cm_query_out_open(&c->o, "searchedLogStreams", CM_QUERY_LIST);
    for (size_t k = 0; k < ns; k++) {
        cm_query_out_open(&c->o, "", CM_QUERY_OBJ);
        cm_query_out_str(&c->o, "logStreamName", sel[k]->name);
        cm_query_out_bool(&c->o, "searchedCompletely", nh == 0);
        cm_query_out_close(&c->o);
    }
    cm_query_out_close(&c->o);
    if (nh > 0 && last)
        out_token(c, "nextToken", 0, last->ts_ms, last->seq);
    free(h);
    free(sel);
    sd_logs_filter_free(f);
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(struct lctx *);
} lg_ops[] = {
    {"CreateLogGroup", op_create_group},
    {"CreateLogStream", op_create_stream},
    {"PutLogEvents", op_put_events},
    {"DescribeLogGroups", op_describe_groups},
    {"DescribeLogStreams", op_describe_streams},
    {"GetLogEvents", op_get_events},
    {"FilterLogEvents", op_filter_events},
};

/* Region from "Credential=AK/20240101/us-east-1/logs/aws4_request". */
static void region_from_auth(const struct sd_req *req, char out[32])
{
    cm_strlcpy(out, "us-east-1", 32);
    size_t n;
    const char *a = sd_req_header(req, "authorization", &n);
    const char *cred = a ? memmem(a, n, "Credential=", 11) : NULL;
    if (!cred)
        return;
    const char *end = a + n, *p = cred;
    int slashes = 0;
    while (p < end && slashes < 2 && *p != ',')
        slashes += *p++ == '/';
    const char *q = p;
    while (q < end && *q != '/' && *q != ',')
        q++;
    if (slashes == 2 && q > p && (size_t)(q - p) < 32) {
        memcpy(out, p, (size_t)(q - p));
        out[q - p] = '\0';
    }
}

void sd_logs_handle(struct sd_logs *lg, const struct sd_req *req, struct sd_resp *resp)
{
    struct lctx c = {.lg = lg};
    char rid[CM_CORR_ID_LEN + 1];
    c.now_ms =
        req->recv_wall_ns ? req->recv_wall_ns / CM_NS_PER_MS : cm_clock_wall_ns() / CM_NS_PER_MS;
    cm_corr_new_id(c.now_ms, rid);
    region_from_auth(req, c.region);
    size_t tn = 0;
    const char *target = sd_req_header(req, "x-amz-target", &tn);
    size_t pl = strlen(LG_TARGET_PREFIX);
    int (*fn)(struct lctx *) = NULL;
    const char *opname = "";
    if (target && tn > pl && memcmp(target, LG_TARGET_PREFIX, pl) == 0) {
        for (size_t i = 0; i < sizeof lg_ops / sizeof lg_ops[0]; i++) {
            if (strlen(lg_ops[i].name) == tn - pl &&
                memcmp(lg_ops[i].name, target + pl, tn - pl) == 0) {
                fn = lg_ops[i].fn;
                opname = lg_ops[i].name;
            }
        }
    }
    cJSON *in = NULL;
    int rc = -1;
    if (!fn) {
        fail(&c, "UnknownOperationException", "Unknown operation %.*s", (int)(tn < 100 ? tn : 100),
             target ? target : "(no X-Amz-Target)");
    } else {
        in = req->body_len ? cJSON_ParseWithLength(req->body, req->body_len) : cJSON_CreateObject();
        if (!cJSON_IsObject(in)) {
            fail(&c, "SerializationException", "The request body is not a JSON object");
        } else {
            c.in = in;
            cm_buf_reset(&resp->body);
            cm_query_out_begin(&c.o, &resp->body, CM_QUERY_JSON, opname, "", 1);
            rc = fn(&c);
            if (rc == 0 && cm_query_out_end(&c.o, rid))
                rc = fail(&c, "ServiceUnavailableException", "The response is too large");
        }
    }
    cJSON_Delete(in);
    resp->status = 200;
    cm_strlcpy(resp->content_type, LG_JSON_CT, sizeof resp->content_type);
    sd_resp_header(resp, "x-amzn-RequestId", rid);
    if (rc == 0)
        return;
    resp->status = strcmp(c.err_type, "ServiceUnavailableException") == 0 ? 503 : 400;
    cm_buf_reset(&resp->body);
    cm_query_error_body(&resp->body, CM_QUERY_JSON, "", 1, c.err_type, c.err_type, c.err_msg, rid);
}
