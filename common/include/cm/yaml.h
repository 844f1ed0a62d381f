/* yaml.h: YAML (via libyaml) into a read-only tree that keeps the line and
 * column of every node, so every later error can name file:line:col.
 * Supports block and flow mappings/sequences, scalars of all styles, anchors
 * and aliases (an alias resolves to a shared node), and a single document.
 * Mapping keys must be scalars; a duplicate key is an error (naming the
 * second occurrence and the first). YAML 1.1 merge keys ("<<: *base" or
 * "<<: [*a, *b]") are applied: explicit keys win, then earlier sources.
 * Limits against hostile input: 1,000,000 nodes counting each alias as the
 * size of what it names (alias bombs), nesting depth 64, files 16 MiB. */
#ifndef CM_YAML_H
#define CM_YAML_H

#include <stddef.h>

enum cm_ynode_type {
    CM_YNODE_SCALAR = 1,
    CM_YNODE_MAP = 2,
    CM_YNODE_SEQ = 3,
};

struct cm_ynode {
    enum cm_ynode_type type;
    int line;   /* 1-based */
    int col;    /* 1-based */
    int quoted; /* scalar not plain: quoted, block (| >) or !!str; never null */
    /* SCALAR: the value, NUL terminated (len excludes the NUL). */
    const char *str;
    size_t len;
    /* MAP: n pairs keys[i] -> vals[i], in document order. SEQ: n items in vals. */
    size_t n;
    struct cm_ynode **keys;
    struct cm_ynode **vals;
    /* NULL for nodes read from the document; for nodes made by cm_yaml_set,
     * the origin it was given (e.g. "--set http.timeout"): messages name it
     * instead of line:col (which are 0). */
    const char *origin;
};

struct cm_ydoc {
    const char *name;      /* file name used in messages */
    struct cm_ynode *root; /* NULL for an empty document */
    void *arena;           /* private: owns every node and string */
};

/* Parses len bytes of YAML (need not be NUL terminated). name is used in
 * error messages. On failure returns CM_EPARSE, sets *out = NULL and writes
 * "name:line:col: reason" into err (err_size bytes, may be 0). Free the
 * document with cm_yaml_free; nodes are valid until then. Thread-safe. */
int cm_yaml_parse(const char *p, size_t len, const char *name, struct cm_ydoc **out, char *err,
                  size_t err_size);
/* Reads and parses a file (doc->name = path); CM_ENOTFOUND / CM_EIO /
 * CM_ETOOBIG (over 16 MiB) with "path: reason" in err, or CM_EPARSE. */
int cm_yaml_load_file(const char *path, struct cm_ydoc **out, char *err, size_t err_size);
/* Sets the value at path to a plain scalar (value: n bytes, need not be NUL
 * terminated), as if the document had said so: "rate", "http.timeout",
 * "phases[1].rate", "requests[0].headers.X-Api-Key". Keys are separated by
 * '.', list items are [N] (0-based, existing items only); missing mapping
 * keys are added, and missing or null mappings on the way are created.
 * Containers along the path are copied first, so a node shared through an
 * alias changes only at this path. New nodes carry origin (copied; "--set
 * KEY"). Errors (err gets "reason", without origin): CM_EINVAL for a bad
 * path ("expected a key after '.'", "phases.rate: phases is a list, use
 * phases[N]", "name is not a mapping"); CM_ERANGE for an item past the end
 * ("phases[7]: no item 7 (the list has 3)"). On error the document may be
 * partly changed but stays well-formed. Not thread-safe for one document. */
int cm_yaml_set(struct cm_ydoc *doc, const char *path, const char *value, size_t n,
                const char *origin, char *err, size_t err_size);
/* Frees the document and every node in it; NULL is fine. */
void cm_yaml_free(struct cm_ydoc *doc);

/* Value for key in a MAP node, or NULL (also when node is not a MAP). */
const struct cm_ynode *cm_yaml_get(const struct cm_ynode *map, const char *key);
/* Scalar helpers: 1 when the scalar is null (~, null, Null, NULL, empty,
 * unquoted), or n is NULL; 0 for maps and sequences. */
int cm_yaml_is_null(const struct cm_ynode *n);

#endif
