/* yaml.c: libyaml's event parser into a read-only tree (see yaml.h). Every
 * node and string lives in one arena freed by cm_yaml_free. It is not a YAML
 * emitter and resolves no tags beyond !!str: scalars stay text for the option
 * tables to interpret.
 *
 * Limits, so hostile input cannot exhaust memory or time (alias bombs): at most
 * YAML_MAX_NODES nodes counting every alias as the full size of its target,
 * nesting at most YAML_MAX_DEPTH, files at most YAML_MAX_FILE bytes.
 * Merge keys ("<<: *base", YAML 1.1) are applied: explicit keys win over merged
 * ones, and earlier merge sources over later ones. */
#include "cm/yaml.h"

#include "cm/err.h"
#include "cm/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#define YAML_MAX_DEPTH 64
#define YAML_MAX_NODES 1000000u
#define YAML_MAX_FILE  ((size_t)16 << 20)

/* ---- arena: bump allocation in 64 KiB blocks, one free ---- */

#define ARENA_BLOCK ((size_t)64 << 10)

struct arena_block {
    struct arena_block *next;
    size_t used, cap; /* bytes of mem[] */
    max_align_t mem[];
};

struct arena {
    struct arena_block *head;
};

static void *arena_alloc(struct arena *a, size_t n)
{
    const size_t align = sizeof(max_align_t);
    n = (n + align - 1) / align * align;
    struct arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        b = cm_xmalloc(sizeof *b + cap);
        b->used = 0;
        b->cap = cap;
        /* A big allocation gets its own block behind the current one, so the
         * current block's free space is not abandoned. */
        if (a->head && n > ARENA_BLOCK) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    void *p = (char *)b->mem + b->used;
    b->used += n;
    return p;
}

static char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *d = arena_alloc(a, n + 1);
    if (n)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static void arena_free(struct arena *a)
{
    if (!a)
        return;
    for (struct arena_block *b = a->head, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(a);
}

/* ---- strmap: open addressing from borrowed (ptr, len) to a node ---- */

struct strmap_ent {
    const char *s; /* NULL: empty slot */
    size_t len;
    struct cm_ynode *node;
    size_t weight; /* anchors: expanded size of node; 0 while it is still open */
};

struct strmap {
    struct strmap_ent *ents;
    size_t cap, n; /* cap is 0 or a power of two; n <= cap / 2 */
};

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static struct strmap_ent *strmap_slot(struct strmap_ent *ents, size_t cap, const char *s, size_t n)
{
    size_t i = (size_t)hash_bytes(s, n) & (cap - 1);
    while (ents[i].s && !(ents[i].len == n && memcmp(ents[i].s, s, n) == 0))
        i = (i + 1) & (cap - 1);
    return &ents[i];
}

/* The entry for s, or NULL when absent. */
static struct strmap_ent *strmap_get(struct strmap *m, const char *s, size_t n)
{
    if (!m->cap)
        return NULL;
    struct strmap_ent *e = strmap_slot(m->ents, m->cap, s, n);
    return e->s ? e : NULL;
}

/* The entry for s, created empty (node NULL) when absent. The pointer is
 * valid until the next strmap_put. */
static struct strmap_ent *strmap_put(struct strmap *m, const char *s, size_t n)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        struct strmap_ent *ents = cm_xcalloc(cap, sizeof *ents);
        for (size_t i = 0; i < m->cap; i++)
            if (m->ents[i].s)
                *strmap_slot(ents, cap, m->ents[i].s, m->ents[i].len) = m->ents[i];
        free(m->ents);
        m->ents = ents;
        m->cap = cap;
    }
    struct strmap_ent *e = strmap_slot(m->ents, m->cap, s, n);
    if (!e->s) {
        e->s = s;
        e->len = n;
        m->n++;
    }
    return e;
}

static void strmap_deinit(struct strmap *m)
{
    free(m->ents);
    memset(m, 0, sizeof *m);
}

/* ---- tree builder ---- */

/* An open mapping or sequence. */
struct frame {
    struct cm_ynode *node;
    struct cm_ynode **items; /* MAP: key, value, key, value...; SEQ: values */
    size_t n, cap;
    struct strmap keys;       /* MAP: keys seen so far, for duplicates and merges */
    struct cm_ynode **merges; /* MAP: mappings named by "<<", in order */
    size_t nmerges, mcap;
    int want_key;       /* MAP: the next node is a key */
    int merge_value;    /* MAP: the last key was "<<" */
    size_t weight;      /* nodes below, aliases expanded */
    const char *anchor; /* arena copy, or NULL */
};

struct builder {
    struct arena *arena;
    const char *name;
    struct frame stack[YAML_MAX_DEPTH];
    int depth;
    struct strmap anchors;
    size_t total; /* nodes so far, aliases expanded */
    struct cm_ynode *root;
    int docs;
    char *err;
    size_t err_size;
};

static int fail(struct builder *b, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct builder *b, int line, int col, const char *fmt, ...)
{
    if (b->err_size) {
        int k = snprintf(b->err, b->err_size, "%s:%d:%d: ", b->name, line, col);
        if (k >= 0 && (size_t)k < b->err_size) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(b->err + k, b->err_size - (size_t)k, fmt, ap);
            va_end(ap);
        }
    }
    return CM_EPARSE;
}

/* Up to 60 bytes of s for a message, control bytes shown as '?'. */
static void show_text(char *out, size_t cap, const char *s, size_t n)
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

static void push_item(struct cm_ynode ***items, size_t *n, size_t *cap, struct cm_ynode *x)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *items = cm_xrealloc(*items, *cap * sizeof **items);
    }
    (*items)[(*n)++] = x;
}

static void frame_deinit(struct frame *f)
{
    free(f->items);
    free(f->merges);
    strmap_deinit(&f->keys);
    memset(f, 0, sizeof *f);
}

static int count_nodes(struct builder *b, size_t add, int line, int col)
{
    b->total += add;
    if (b->total > YAML_MAX_NODES)
        return fail(b, line, col, "document too large: more than %u nodes (aliases expanded)",
                    YAML_MAX_NODES);
    return 0;
}

static int is_merge_key(const struct cm_ynode *k)
{
    return k->type == CM_YNODE_SCALAR && !k->quoted && k->len == 2 && memcmp(k->str, "<<", 2) == 0;
}

/* Keys must be scalars and unique; "<<" starts a merge. (line, col) is where
 * the key was written (an alias's own place, not its anchor's). */
static int add_key(struct builder *b, struct frame *f, struct cm_ynode *k, int line, int col)
{
    char shown[64];
    if (k->type != CM_YNODE_SCALAR)
        return fail(b, line, col, "mapping keys must be scalars, not a %s",
                    k->type == CM_YNODE_MAP ? "mapping" : "list");
    struct strmap_ent *e = strmap_put(&f->keys, k->str, k->len);
    if (e->node) {
        show_text(shown, sizeof shown, k->str, k->len);
        return fail(b, line, col, "duplicate key '%s' (first at %d:%d)", shown, e->node->line,
                    e->node->col);
    }
    e->node = k;
    f->want_key = 0;
    if (is_merge_key(k))
        f->merge_value = 1;
    else
        push_item(&f->items, &f->n, &f->cap, k);
    return 0;
}

static int add_merge(struct builder *b, struct frame *f, struct cm_ynode *v, int line, int col)
{
    static const char why[] = "a merge key (<<) needs a mapping or a list of mappings";
    f->merge_value = 0;
    if (v->type == CM_YNODE_MAP) {
        push_item(&f->merges, &f->nmerges, &f->mcap, v);
        return 0;
    }
    if (v->type != CM_YNODE_SEQ)
        return fail(b, line, col, "%s", why);
    for (size_t i = 0; i < v->n; i++) {
        if (v->vals[i]->type != CM_YNODE_MAP)
            return fail(b, v->vals[i]->line, v->vals[i]->col, "%s", why);
        push_item(&f->merges, &f->nmerges, &f->mcap, v->vals[i]);
    }
    return 0;
}

/* Attaches a finished node (weight: its expanded size) to the open parent. */
static int attach(struct builder *b, struct cm_ynode *x, size_t weight, int line, int col)
{
    if (b->depth == 0) {
        b->root = x;
        return 0;
    }
    struct frame *f = &b->stack[b->depth - 1];
    f->weight += weight;
    if (f->node->type == CM_YNODE_SEQ) {
        push_item(&f->items, &f->n, &f->cap, x);
        return 0;
    }
    if (f->want_key)
        return add_key(b, f, x, line, col);
    f->want_key = 1;
    if (f->merge_value)
        return add_merge(b, f, x, line, col);
    push_item(&f->items, &f->n, &f->cap, x);
    return 0;
}

static struct cm_ynode *new_node(struct builder *b, enum cm_ynode_type t, const yaml_mark_t *m)
{
    struct cm_ynode *x = arena_alloc(b->arena, sizeof *x);
    memset(x, 0, sizeof *x);
    x->type = t;
    x->line = (int)m->line + 1;
    x->col = (int)m->column + 1;
    return x;
}

/* Registers an anchor; weight 0 marks a node still open (an alias to it
 * would be a cycle). A later anchor of the same name replaces it. */
static const char *define_anchor(struct builder *b, const yaml_char_t *name, struct cm_ynode *x,
                                 size_t weight)
{
    if (!name)
        return NULL;
    const char *s = (const char *)name;
    char *copy = arena_strndup(b->arena, s, strlen(s));
    struct strmap_ent *e = strmap_put(&b->anchors, copy, strlen(copy));
    e->node = x;
    e->weight = weight;
    return copy;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
    const yaml_mark_t *m = &ev->start_mark;
    int rc = count_nodes(b, 1, (int)m->line + 1, (int)m->column + 1);
    if (rc)
        return rc;
    struct cm_ynode *x = new_node(b, CM_YNODE_SCALAR, m);
    x->len = ev->data.scalar.length;
    x->str = arena_strndup(b->arena, (const char *)ev->data.scalar.value, x->len);
    /* Quoted and block styles (and an explicit !!str) are never null/bool. */
    x->quoted =
        ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
        (ev->data.scalar.tag && strcmp((const char *)ev->data.scalar.tag, YAML_STR_TAG) == 0);
    define_anchor(b, ev->data.scalar.anchor, x, 1);
    return attach(b, x, 1, x->line, x->col);
}

static int on_alias(struct builder *b, const yaml_event_t *ev)
{
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    const char *name = (const char *)ev->data.alias.anchor;
    char shown[64];
    show_text(shown, sizeof shown, name, strlen(name));
    struct strmap_ent *e = strmap_get(&b->anchors, name, strlen(name));
    if (!e)
        return fail(b, line, col, "unknown anchor '%s'", shown);
    if (!e->weight)
        return fail(b, line, col, "alias '*%s' is inside the node it names (recursive alias)",
                    shown);
    struct cm_ynode *x = e->node;
    size_t w = e->weight;
    int rc = count_nodes(b, w, line, col);
    return rc ? rc : attach(b, x, w, line, col);
}

static int on_start(struct builder *b, const yaml_event_t *ev, enum cm_ynode_type t)
{
    const yaml_mark_t *m = &ev->start_mark;
    if (b->depth == YAML_MAX_DEPTH)
        return fail(b, (int)m->line + 1, (int)m->column + 1, "nesting deeper than %d levels",
                    YAML_MAX_DEPTH);
    int rc = count_nodes(b, 1, (int)m->line + 1, (int)m->column + 1);
    if (rc)
        return rc;
    struct frame *f = &b->stack[b->depth++];
    memset(f, 0, sizeof *f);
    f->node = new_node(b, t, m);
    f->want_key = t == CM_YNODE_MAP;
    const yaml_char_t *anchor =
        t == CM_YNODE_MAP ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    f->anchor = define_anchor(b, anchor, f->node, 0);
    return 0;
}

/* Appends the pairs of the merge sources whose keys are not there yet. */
static void apply_merges(struct frame *f)
{
    for (size_t i = 0; i < f->nmerges; i++) {
        const struct cm_ynode *src = f->merges[i];
        for (size_t j = 0; j < src->n; j++) {
            struct strmap_ent *e = strmap_put(&f->keys, src->keys[j]->str, src->keys[j]->len);
            if (e->node)
                continue;
            e->node = src->keys[j];
            push_item(&f->items, &f->n, &f->cap, src->keys[j]);
            push_item(&f->items, &f->n, &f->cap, src->vals[j]);
        }
    }
}

static int on_end(struct builder *b)
{
    struct frame *f = &b->stack[b->depth - 1];
    struct cm_ynode *x = f->node;
    if (x->type == CM_YNODE_MAP) {
        apply_merges(f);
        x->n = f->n / 2;
        x->keys = arena_alloc(b->arena, (x->n ? x->n : 1) * sizeof *x->keys);
        x->vals = arena_alloc(b->arena, (x->n ? x->n : 1) * sizeof *x->vals);
        for (size_t i = 0; i < x->n; i++) {
            x->keys[i] = f->items[2 * i];
            x->vals[i] = f->items[2 * i + 1];
        }
    } else {
        x->n = f->n;
        x->vals = arena_alloc(b->arena, (x->n ? x->n : 1) * sizeof *x->vals);
        if (x->n)
            memcpy(x->vals, f->items, x->n * sizeof *x->vals);
    }
    size_t weight = f->weight + 1;
    if (f->anchor) {
        struct strmap_ent *e = strmap_get(&b->anchors, f->anchor, strlen(f->anchor));
        if (e && e->node == x)
            e->weight = weight;
    }
    frame_deinit(f);
    b->depth--;
    return attach(b, x, weight, x->line, x->col);
}

static int on_event(struct builder *b, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++b->docs > 1)
            return fail(b, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                        "a second YAML document; only one is allowed per file");
        return 0;
    case YAML_SCALAR_EVENT:
        return on_scalar(b, ev);
    case YAML_ALIAS_EVENT:
        return on_alias(b, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(b, ev, CM_YNODE_SEQ);
    case YAML_MAPPING_START_EVENT:
        return on_start(b, ev, CM_YNODE_MAP);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return on_end(b);
    default:
        return 0;
    }
}

/* libyaml's own error, with the place it names. Reader errors (bad UTF-8)
 * carry a byte offset instead of a mark. */
static int libyaml_error(struct builder *b, const yaml_parser_t *ps, const char *p, size_t len)
{
    const char *problem = ps->problem ? ps->problem : "cannot parse YAML";
    if (ps->error == YAML_MEMORY_ERROR)
        return fail(b, 1, 1, "out of memory in the YAML parser");
    if (ps->error == YAML_READER_ERROR) {
        int line = 1, col = 1;
        for (size_t i = 0; i < ps->problem_offset && i < len; i++, col++)
            if (p[i] == '\n') {
                line++;
                col = 0;
            }
        if (ps->problem_value != -1)
            return fail(b, line, col, "%s (byte 0x%02x)", problem, (unsigned)ps->problem_value);
        return fail(b, line, col, "%s", problem);
    }
    int line = (int)ps->problem_mark.line + 1, col = (int)ps->problem_mark.column + 1;
    if (ps->context)
        return fail(b, line, col, "%s (%s started at %d:%d)", problem, ps->context,
                    (int)ps->context_mark.line + 1, (int)ps->context_mark.column + 1);
    return fail(b, line, col, "%s", problem);
}

int cm_yaml_parse(const char *p, size_t len, const char *name, struct cm_ydoc **out, char *err,
                  size_t err_size)
{
    struct builder *b = cm_xcalloc(1, sizeof *b);
    yaml_parser_t ps;
    int rc = 0, ps_ok = 0;
    *out = NULL;
    if (err_size)
        err[0] = '\0';
    b->arena = cm_xcalloc(1, sizeof *b->arena);
    b->name = name ? name : "<yaml>";
    b->err = err;
    b->err_size = err_size;
    if (!yaml_parser_initialize(&ps)) {
        rc = fail(b, 1, 1, "cannot initialise the YAML parser");
        goto out;
    }
    ps_ok = 1;
    yaml_parser_set_input_string(&ps, (const unsigned char *)(len ? p : ""), len);
    for (int done = 0; !done && rc == 0;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&ps, &ev)) {
            rc = libyaml_error(b, &ps, p, len);
            break;
        }
        rc = on_event(b, &ev);
        done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
    }
    if (rc == 0) {
        struct cm_ydoc *doc = arena_alloc(b->arena, sizeof *doc);
        doc->name = arena_strndup(b->arena, b->name, strlen(b->name));
        doc->root = b->root;
        doc->arena = b->arena;
        b->arena = NULL;
        *out = doc;
    }
out:
    if (ps_ok)
        yaml_parser_delete(&ps);
    while (b->depth > 0)
        frame_deinit(&b->stack[--b->depth]);
    strmap_deinit(&b->anchors);
    arena_free(b->arena);
    free(b);
    return rc;
}

static int file_error(const char *path, int rc, const char *why, char *err, size_t err_size)
{
    if (err_size)
        snprintf(err, err_size, "%s: %s", path, why);
    return rc;
}

/* Reads at most YAML_MAX_FILE + 1 bytes, whatever st_size claims (pipes). */
static int read_bounded(int fd, char **data, size_t *len)
{
    size_t cap = 64 << 10, n = 0;
    char *buf = cm_xmalloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap > YAML_MAX_FILE)
                break;
            cap *= 2;
            buf = cm_xrealloc(buf, cap);
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            errno = e;
            return CM_EIO;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *data = buf;
    *len = n;
    return 0;
}

int cm_yaml_load_file(const char *path, struct cm_ydoc **out, char *err, size_t err_size)
{
    char *data = NULL, eb[128];
    size_t len = 0;
    int rc;
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        rc = e == ENOENT ? CM_ENOTFOUND : CM_EIO;
        return file_error(path, rc, strerror_r(e, eb, sizeof eb), err, err_size);
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        rc = file_error(path, CM_EIO, "is a directory", err, err_size);
        goto out;
    }
    if (read_bounded(fd, &data, &len)) {
        rc = file_error(path, CM_EIO, strerror_r(errno, eb, sizeof eb), err, err_size);
        goto out;
    }
    if (len > YAML_MAX_FILE) {
        rc = file_error(path, CM_ETOOBIG, "file larger than 16 MiB", err, err_size);
        goto out;
    }
    rc = cm_yaml_parse(data, len, path, out, err, err_size);
out:
    free(data);
    close(fd);
    return rc;
}

/* ---- edits (--set) ---- */

#define SET_MAX_PATH 256

static struct cm_ynode *set_node(struct arena *a, enum cm_ynode_type t, const char *origin)
{
    struct cm_ynode *x = arena_alloc(a, sizeof *x);
    memset(x, 0, sizeof *x);
    x->type = t;
    x->origin = origin;
    if (t == CM_YNODE_SCALAR)
        x->str = arena_strndup(a, "", 0);
    return x;
}

/* A shallow copy with room for `extra` more entries: edits along a path must
 * not reach other places that share the node through an alias. */
static struct cm_ynode *set_clone(struct arena *a, const struct cm_ynode *x, size_t extra)
{
    struct cm_ynode *c = arena_alloc(a, sizeof *c);
    *c = *x;
    size_t cap = x->n + extra ? x->n + extra : 1;
    c->vals = arena_alloc(a, cap * sizeof *c->vals);
    if (x->n)
        memcpy(c->vals, x->vals, x->n * sizeof *c->vals);
    if (x->type == CM_YNODE_MAP) {
        c->keys = arena_alloc(a, cap * sizeof *c->keys);
        if (x->n)
            memcpy(c->keys, x->keys, x->n * sizeof *c->keys);
    }
    return c;
}

static int set_fail(int rc, char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int set_fail(int rc, char *err, size_t err_size, const char *fmt, ...)
{
    if (err_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* Makes *slot a (private copy of a) mapping and returns the slot of key
 * (added as a null scalar when missing). */
static struct cm_ynode **set_key(struct arena *a, struct cm_ynode **slot, const char *key,
                                 size_t kl, const char *origin)
{
    struct cm_ynode *m = *slot;
    m = set_clone(a, !m || cm_yaml_is_null(m) ? set_node(a, CM_YNODE_MAP, origin) : m, 1);
    *slot = m;
    for (size_t i = 0; i < m->n; i++)
        if (m->keys[i]->len == kl && memcmp(m->keys[i]->str, key, kl) == 0)
            return &m->vals[i];
    struct cm_ynode *k = set_node(a, CM_YNODE_SCALAR, origin);
    k->str = arena_strndup(a, key, kl);
    k->len = kl;
    m->keys[m->n] = k;
    m->vals[m->n] = set_node(a, CM_YNODE_SCALAR, origin);
    return &m->vals[m->n++];
}

int cm_yaml_set(struct cm_ydoc *doc, const char *path, const char *value, size_t n,
                const char *origin, char *err, size_t err_size)
{
    size_t plen = strlen(path);
    if (plen == 0 || plen > SET_MAX_PATH)
        return set_fail(CM_EINVAL, err, err_size, "expected a key path of 1 to %d bytes",
                        SET_MAX_PATH);
    struct arena *a = doc->arena;
    const char *org = origin ? arena_strndup(a, origin, strlen(origin)) : NULL;
    struct cm_ynode **slot = &doc->root;
    const char *p = path;
    for (;;) {
        size_t kl = strcspn(p, ".[]");
        if (kl == 0)
            return set_fail(CM_EINVAL, err, err_size, "expected a key at \"%s\"", p);
        const struct cm_ynode *cur = *slot;
        if (cur && !cm_yaml_is_null(cur) && cur->type != CM_YNODE_MAP)
            return set_fail(CM_EINVAL, err, err_size, "%.*s is %s, not a mapping",
                            p == path ? 8 : (int)(p - path - 1), p == path ? "document" : path,
                            cur->type == CM_YNODE_SEQ ? "a list (use [N])" : "a scalar");
        slot = set_key(a, slot, p, kl, org);
        p += kl;
        while (*p == '[') {
            char *end;
            unsigned long long idx = strtoull(p + 1, &end, 10);
            if (end == p + 1 || *end != ']' || p[1] == '-' || p[1] == '+' || p[1] == ' ')
                return set_fail(CM_EINVAL, err, err_size, "expected [N] at \"%s\"", p);
            const struct cm_ynode *s = *slot;
            if (!s || s->type != CM_YNODE_SEQ)
                return set_fail(CM_EINVAL, err, err_size, "%.*s is not a list", (int)(p - path),
                                path);
            if (idx >= s->n)
                return set_fail(CM_ERANGE, err, err_size, "%.*s: no item %llu (the list has %zu)",
                                (int)(end + 1 - path), path, idx, s->n);
            struct cm_ynode *c = set_clone(a, s, 0);
            *slot = c;
            slot = &c->vals[idx];
            p = end + 1;
        }
        if (*p == '\0')
            break;
        if (*p != '.' || p[1] == '\0')
            return set_fail(CM_EINVAL, err, err_size, "expected '.KEY' or '[N]' at \"%s\"", p);
        p++;
    }
    struct cm_ynode *v = set_node(a, CM_YNODE_SCALAR, org);
    v->str = arena_strndup(a, value, n);
    v->len = n;
    *slot = v;
    return 0;
}

void cm_yaml_free(struct cm_ydoc *doc)
{
    if (doc)
        arena_free(doc->arena); /* doc itself lives in the arena */
}

const struct cm_ynode *cm_yaml_get(const struct cm_ynode *map, const char *key)
{
    if (!map || map->type != CM_YNODE_MAP)
        return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < map->n; i++)
        if (map->keys[i]->len == n && memcmp(map->keys[i]->str, key, n) == 0)
            return map->vals[i];
    return NULL;
}

int cm_yaml_is_null(const struct cm_ynode *n)
{
    if (!n)
        return 1;
    if (n->type != CM_YNODE_SCALAR || n->quoted)
        return 0;
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
        if (strlen(nulls[i]) == n->len && memcmp(nulls[i], n->str, n->len) == 0)
            return 1;
    return 0;
}
