/* sd_ddb_expr.c: DynamoDB expressions for stackd (see sd_ddb_int.h): a
 * tokenizer, a recursive-descent parser into a node array, and evaluators for
 * conditions (Condition/Filter/KeyCondition), updates and projections.
 *
 * Condition grammar, loosest first (DynamoDB's precedence: comparisons, IN,
 * BETWEEN, functions, parentheses bind tightest; then NOT, AND, OR):
 *   cond    := and { OR and }
 *   and     := not { AND not }
 *   not     := NOT not | primary
 *   primary := '(' cond ')' | bool_fn '(' args ')'
 *            | operand ( cmp operand | BETWEEN operand AND operand
 *                      | IN '(' operand { ',' operand } ')' )
 *   operand := path | :value | size '(' path ')'
 *   path    := (name | #name) { '.' (name | #name) | '[' digits ']' }
 * Update: clauses SET/REMOVE/ADD/DELETE, each at most once, in any order:
 *   SET path '=' setval { ',' ... }, setval := term [ ('+'|'-') term ],
 *   term := path | :value | if_not_exists '(' path ',' term ')'
 *         | list_append '(' term ',' term ')'.
 * Bare attribute names must not be one of DynamoDB's 573 reserved words
 * (`count`, `status`, `name`, ...); #aliases exist for those. */
#include "sd_ddb_int.h"

#include "cm/err.h"
#include "cm/mem.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define EXPR_MAX_BYTES 4096 /* DynamoDB: expression strings up to 4 KB */
#define PATH_MAX_DEPTH 32
#define IN_MAX         100

enum tk {
    TK_EOF = 0,
    TK_NAME,
    TK_HASH,
    TK_VALUE,
    TK_INT,
    TK_LP,
    TK_RP,
    TK_LB,
    TK_RB,
    TK_COMMA,
    TK_DOT,
    TK_EQ,
    TK_NE,
    TK_LT,
    TK_LE,
    TK_GT,
    TK_GE,
    TK_PLUS,
    TK_MINUS,
    TK_BAD,
};

struct tok {
    enum tk t;
    size_t off, len;
};

enum nk {
    N_PATH = 1,
    N_VAL,
    N_SIZE,
    N_IFNE,
    N_LAPP,
    N_PLUS,
    N_MINUS,
    N_CMP,
    N_BETWEEN,
    N_IN,
    N_AND,
    N_OR,
    N_NOT,
    N_EXISTS,
    N_NEXISTS,
    N_TYPE,
    N_BEGINS,
    N_CONTAINS,
};

struct pel {
    char *name; /* NULL for a list index */
    int idx;
};

struct path {
    int n;
    struct pel el[PATH_MAX_DEPTH];
};

struct node {
    enum nk k;
    enum tk op;       /* N_CMP */
    int a, b, c;      /* child nodes, -1 for none */
    int *list, nlist; /* N_IN operands */
    struct path *path;
    const cJSON *val; /* N_VAL: borrowed from the request */
};

enum act_kind { ACT_SET = 1, ACT_REMOVE, ACT_ADD, ACT_DELETE };

struct act {
    enum act_kind k;
    int path; /* N_PATH node */
    int val;  /* value node, -1 for REMOVE */
};

struct sd_ddb_expr {
    enum sd_ddb_expr_kind kind;
    struct node *nodes;
    int nn, ncap;
    int root;         /* condition */
    struct act *acts; /* update */
    int nact, acap;
    int *proj; /* projection: N_PATH nodes */
    int nproj, pcap;
};

struct parser {
    const char *s;
    size_t n;
    struct tok *tk;
    int ntk, pos;
    struct sd_ddb_ectx *ctx;
    struct sd_ddb_expr *e;
    char *why;
    size_t why_size;
    int failed;
};

/* ---- tokens ---------------------------------------------------------------- */

static int is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

static int lex(struct parser *p)
{
    size_t cap = 16;
    p->tk = cm_xmalloc(cap * sizeof(*p->tk));
    for (size_t i = 0;;) {
        while (i < p->n && isspace((unsigned char)p->s[i]))
            i++;
        if ((size_t)p->ntk + 1 >= cap) {
            cap *= 2;
            p->tk = cm_xrealloc(p->tk, cap * sizeof(*p->tk));
        }
        struct tok *t = &p->tk[p->ntk++];
        t->off = i;
        t->len = 1;
        if (i >= p->n) {
            t->t = TK_EOF;
            t->len = 0;
            return 0;
        }
        char c = p->s[i], d = i + 1 < p->n ? p->s[i + 1] : '\0';
        size_t j = i + 1;
        switch (c) {
        case '(':
            t->t = TK_LP;
            break;
        case ')':
            t->t = TK_RP;
            break;
        case '[':
            t->t = TK_LB;
            break;
        case ']':
            t->t = TK_RB;
            break;
        case ',':
            t->t = TK_COMMA;
            break;
        case '.':
            t->t = TK_DOT;
            break;
        case '=':
            t->t = TK_EQ;
            break;
        case '+':
            t->t = TK_PLUS;
            break;
        case '-':
            t->t = TK_MINUS;
            break;
        case '<':
            t->t = d == '>' ? TK_NE : d == '=' ? TK_LE : TK_LT;
            j += d == '>' || d == '=';
            break;
        case '>':
            t->t = d == '=' ? TK_GE : TK_GT;
            j += d == '=';
            break;
        case '#':
        case ':':
            t->t = c == '#' ? TK_HASH : TK_VALUE;
            while (j < p->n && is_name_char(p->s[j]))
                j++;
            if (j == i + 1)
                t->t = TK_BAD;
            break;
        default:
            if (isdigit((unsigned char)c)) {
                t->t = TK_INT;
                while (j < p->n && isdigit((unsigned char)p->s[j]))
                    j++;
            } else if (is_name_char(c)) {
                t->t = TK_NAME;
                while (j < p->n && is_name_char(p->s[j]))
                    j++;
            } else {
                t->t = TK_BAD;
            }
        }
        t->len = j - i;
        i = j;
    }
}

static const struct tok *cur(const struct parser *p)
{
    return &p->tk[p->pos];
}

static const struct tok *peek(const struct parser *p, int k)
{
    int i = p->pos + k;
    return &p->tk[i < p->ntk ? i : p->ntk - 1];
}

static int tok_is(const struct parser *p, const struct tok *t, const char *kw)
{
    return t->t == TK_NAME && strlen(kw) == t->len && strncasecmp(p->s + t->off, kw, t->len) == 0;
}

static int is_keyword(const struct parser *p, const struct tok *t)
{
    static const char *const kws[] = {"AND", "OR",     "NOT", "BETWEEN", "IN",
                                      "SET", "REMOVE", "ADD", "DELETE",  NULL};
    for (int i = 0; kws[i]; i++)
        if (tok_is(p, t, kws[i]))
            return 1;
    return 0;
}

/* DynamoDB's reserved words, sorted (upper case). */
static const char *const RESERVED[] = {
    "ABORT",
    "ABSOLUTE",
    "ACTION",
    "ADD",
    "AFTER",
    "AGENT",
    "AGGREGATE",
    "ALL",
    "ALLOCATE",
    "ALTER",
    "ANALYZE",
    "AND",
    "ANY",
    "ARCHIVE",
    "ARE",
    "ARRAY",
    "AS",
    "ASC",
    "ASCII",
    "ASENSITIVE",
    "ASSERTION",
    "ASYMMETRIC",
    "AT",
    "ATOMIC",
    "ATTACH",
    "ATTRIBUTE",
    "AUTH",
    "AUTHORIZATION",
    "AUTHORIZE",
    "AUTO",
    "AVG",
    "BACK",
    "BACKUP",
    "BASE",
    "BATCH",
    "BEFORE",
    "BEGIN",
    "BETWEEN",
    "BIGINT",
    "BINARY",
    "BIT",
    "BLOB",
    "BLOCK",
    "BOOLEAN",
    "BOTH",
    "BREADTH",
    "BUCKET",
    "BULK",
    "BY",
    "BYTE",
    "CALL",
    "CALLED",
    "CALLING",
    "CAPACITY",
    "CASCADE",
    "CASCADED",
    "CASE",
    "CAST",
    "CATALOG",
    "CHAR",
    "CHARACTER",
    "CHECK",
    "CLASS",
    "CLOB",
    "CLOSE",
    "CLUSTER",
    "CLUSTERED",
    "CLUSTERING",
    "CLUSTERS",
    "COALESCE",
    "COLLATE",
    "COLLATION",
    "COLLECTION",
    "COLUMN",
    "COLUMNS",
    "COMBINE",
    "COMMENT",
    "COMMIT",
    "COMPACT",
    "COMPILE",
    "COMPRESS",
    "CONDITION",
    "CONFLICT",
    "CONNECT",
    "CONNECTION",
    "CONSISTENCY",
    "CONSISTENT",
    "CONSTRAINT",
    "CONSTRAINTS",
    "CONSTRUCTOR",
    "CONSUMED",
    "CONTINUE",
    "CONVERT",
    "COPY",
    "CORRESPONDING",
    "COUNT",
    "COUNTER",
    "CREATE",
    "CROSS",
    "CUBE",
    "CURRENT",
    "CURSOR",
    "CYCLE",
    "DATA",
    "DATABASE",
    "DATE",
    "DATETIME",
    "DAY",
    "DEALLOCATE",
    "DEC",
    "DECIMAL",
    "DECLARE",
    "DEFAULT",
    "DEFERRABLE",
    "DEFERRED",
    "DEFINE",
    "DEFINED",
    "DEFINITION",
    "DELETE",
    "DELIMITED",
    "DEPTH",
    "DEREF",
    "DESC",
    "DESCRIBE",
    "DESCRIPTOR",
    "DETACH",
    "DETERMINISTIC",
    "DIAGNOSTICS",
    "DIRECTORIES",
    "DISABLE",
    "DISCONNECT",
    "DISTINCT",
    "DISTRIBUTE",
    "DO",
    "DOMAIN",
    "DOUBLE",
    "DROP",
    "DUMP",
    "DURATION",
    "DYNAMIC",
    "EACH",
    "ELEMENT",
    "ELSE",
    "ELSEIF",
    "EMPTY",
    "ENABLE",
    "END",
    "EQUAL",
    "EQUALS",
    "ERROR",
    "ESCAPE",
    "ESCAPED",
    "EVAL",
    "EVALUATE",
    "EXCEEDED",
    "EXCEPT",
    "EXCEPTION",
    "EXCEPTIONS",
    "EXCLUSIVE",
    "EXEC",
    "EXECUTE",
    "EXISTS",
    "EXIT",
    "EXPLAIN",
    "EXPLODE",
    "EXPORT",
    "EXPRESSION",
    "EXTENDED",
    "EXTERNAL",
    "EXTRACT",
    "FAIL",
    "FALSE",
    "FAMILY",
    "FETCH",
    "FIELDS",
    "FILE",
    "FILTER",
    "FILTERING",
    "FINAL",
    "FINISH",
    "FIRST",
    "FIXED",
    "FLATTERN",
    "FLOAT",
    "FOR",
    "FORCE",
    "FOREIGN",
    "FORMAT",
    "FORWARD",
    "FOUND",
    "FREE",
    "FROM",
    "FULL",
    "FUNCTION",
    "FUNCTIONS",
    "GENERAL",
    "GENERATE",
    "GET",
    "GLOB",
    "GLOBAL",
    "GO",
    "GOTO",
    "GRANT",
    "GREATER",
    "GROUP",
    "GROUPING",
    "HANDLER",
    "HASH",
    "HAVE",
    "HAVING",
    "HEAP",
    "HIDDEN",
    "HOLD",
    "HOUR",
    "IDENTIFIED",
    "IDENTITY",
    "IF",
    "IGNORE",
    "IMMEDIATE",
    "IMPORT",
    "IN",
    "INCLUDING",
    "INCLUSIVE",
    "INCREMENT",
    "INCREMENTAL",
    "INDEX",
    "INDEXED",
    "INDEXES",
    "INDICATOR",
    "INFINITE",
    "INITIALLY",
    "INLINE",
    "INNER",
    "INNTER",
    "INOUT",
    "INPUT",
    "INSENSITIVE",
    "INSERT",
    "INSTEAD",
    "INT",
    "INTEGER",
    "INTERSECT",
    "INTERVAL",
    "INTO",
    "INVALIDATE",
    "IS",
    "ISOLATION",
    "ITEM",
    "ITEMS",
    "ITERATE",
    "JOIN",
    "KEY",
    "KEYS",
    "LAG",
    "LANGUAGE",
    "LARGE",
    "LAST",
    "LATERAL",
    "LEAD",
    "LEADING",
    "LEAVE",
    "LEFT",
    "LENGTH",
    "LESS",
    "LEVEL",
    "LIKE",
    "LIMIT",
    "LIMITED",
    "LINES",
    "LIST",
    "LOAD",
    "LOCAL",
    "LOCALTIME",
    "LOCALTIMESTAMP",
    "LOCATION",
    "LOCATOR",
    "LOCK",
    "LOCKS",
    "LOG",
    "LOGED",
    "LONG",
    "LOOP",
    "LOWER",
    "MAP",
    "MATCH",
    "MATERIALIZED",
    "MAX",
    "MAXLEN",
    "MEMBER",
    "MERGE",
    "METHOD",
    "METRICS",
    "MIN",
    "MINUS",
    "MINUTE",
    "MISSING",
    "MOD",
    "MODE",
    "MODIFIES",
    "MODIFY",
    "MODULE",
    "MONTH",
    "MULTI",
    "MULTISET",
    "NAME",
    "NAMES",
    "NATIONAL",
    "NATURAL",
    "NCHAR",
    "NCLOB",
    "NEW",
    "NEXT",
    "NO",
    "NONE",
    "NOT",
    "NULL",
    "NULLIF",
    "NUMBER",
    "NUMERIC",
    "OBJECT",
    "OF",
    "OFFLINE",
    "OFFSET",
    "OLD",
    "ON",
    "ONLINE",
    "ONLY",
    "OPAQUE",
    "OPEN",
    "OPERATOR",
    "OPTION",
    "OR",
    "ORDER",
    "ORDINALITY",
    "OTHER",
    "OTHERS",
    "OUT",
    "OUTER",
    "OUTPUT",
    "OVER",
    "OVERLAPS",
    "OVERRIDE",
    "OWNER",
    "PAD",
    "PARALLEL",
    "PARAMETER",
    "PARAMETERS",
    "PARTIAL",
    "PARTITION",
    "PARTITIONED",
    "PARTITIONS",
    "PATH",
    "PERCENT",
    "PERCENTILE",
    "PERMISSION",
    "PERMISSIONS",
    "PIPE",
    "PIPELINED",
    "PLAN",
    "POOL",
    "POSITION",
    "PRECISION",
    "PREPARE",
    "PRESERVE",
    "PRIMARY",
    "PRIOR",
    "PRIVATE",
    "PRIVILEGES",
    "PROCEDURE",
    "PROCESSED",
    "PROJECT",
    "PROJECTION",
    "PROPERTY",
    "PROVISIONING",
    "PUBLIC",
    "PUT",
    "QUERY",
    "QUIT",
    "QUORUM",
    "RAISE",
    "RANDOM",
    "RANGE",
    "RANK",
    "RAW",
    "READ",
    "READS",
    "REAL",
    "REBUILD",
    "RECORD",
    "RECURSIVE",
    "REDUCE",
    "REF",
    "REFERENCE",
    "REFERENCES",
    "REFERENCING",
    "REGEXP",
    "REGION",
    "REINDEX",
    "RELATIVE",
    "RELEASE",
    "REMAINDER",
    "RENAME",
    "REPEAT",
    "REPLACE",
    "REQUEST",
    "RESET",
    "RESIGNAL",
    "RESOURCE",
    "RESPONSE",
    "RESTORE",
    "RESTRICT",
    "RESULT",
    "RETURN",
    "RETURNING",
    "RETURNS",
    "REVERSE",
    "REVOKE",
    "RIGHT",
    "ROLE",
    "ROLES",
    "ROLLBACK",
    "ROLLUP",
    "ROUTINE",
    "ROW",
    "ROWS",
    "RULE",
    "RULES",
    "SAMPLE",
    "SATISFIES",
    "SAVE",
    "SAVEPOINT",
    "SCAN",
    "SCHEMA",
    "SCOPE",
    "SCROLL",
    "SEARCH",
    "SECOND",
    "SECTION",
    "SEGMENT",
    "SEGMENTS",
    "SELECT",
    "SELF",
    "SEMI",
    "SENSITIVE",
    "SEPARATE",
    "SEQUENCE",
    "SERIALIZABLE",
    "SESSION",
    "SET",
    "SETS",
    "SHARD",
    "SHARE",
    "SHARED",
    "SHORT",
    "SHOW",
    "SIGNAL",
    "SIMILAR",
    "SIZE",
    "SKEWED",
    "SMALLINT",
    "SNAPSHOT",
    "SOME",
    "SOURCE",
    "SPACE",
    "SPACES",
    "SPARSE",
    "SPECIFIC",
    "SPECIFICTYPE",
    "SPLIT",
    "SQL",
    "SQLCODE",
    "SQLERROR",
    "SQLEXCEPTION",
    "SQLSTATE",
    "SQLWARNING",
    "START",
    "STATE",
    "STATIC",
    "STATUS",
    "STORAGE",
    "STORE",
    "STORED",
    "STREAM",
    "STRING",
    "STRUCT",
    "STYLE",
    "SUB",
    "SUBMULTISET",
    "SUBPARTITION",
    "SUBSTRING",
    "SUBTYPE",
    "SUM",
    "SUPER",
    "SYMMETRIC",
    "SYNONYM",
    "SYSTEM",
    "TABLE",
    "TABLESAMPLE",
    "TEMP",
    "TEMPORARY",
    "TERMINATED",
    "TEXT",
    "THAN",
    "THEN",
    "THROUGHPUT",
    "TIME",
    "TIMESTAMP",
    "TIMEZONE",
    "TINYINT",
    "TO",
    "TOKEN",
    "TOTAL",
    "TOUCH",
    "TRAILING",
    "TRANSACTION",
    "TRANSFORM",
    "TRANSLATE",
    "TRANSLATION",
    "TREAT",
    "TRIGGER",
    "TRIM",
    "TRUE",
    "TRUNCATE",
    "TTL",
    "TUPLE",
    "TYPE",
    "UNDER",
    "UNDO",
    "UNION",
    "UNIQUE",
    "UNIT",
    "UNKNOWN",
    "UNLOGGED",
    "UNNEST",
    "UNPROCESSED",
    "UNSIGNED",
    "UNTIL",
    "UPDATE",
    "UPPER",
    "URL",
    "USAGE",
    "USE",
    "USER",
    "USERS",
    "USING",
    "UUID",
    "VACUUM",
    "VALUE",
    "VALUED",
    "VALUES",
    "VARCHAR",
    "VARIABLE",
    "VARIANCE",
    "VARINT",
    "VARYING",
    "VIEW",
    "VIEWS",
    "VIRTUAL",
    "VOID",
    "WAIT",
    "WHEN",
    "WHENEVER",
    "WHERE",
    "WHILE",
    "WINDOW",
    "WITH",
    "WITHIN",
    "WITHOUT",
    "WORK",
    "WRAPPED",
    "WRITE",
    "YEAR",
    "ZONE",
};

static int cmp_reserved(const void *key, const void *elem)
{
    return strcasecmp(key, *(const char *const *)elem);
}

static int is_reserved(const char *s, size_t n)
{
    char w[32];
    if (n >= sizeof(w))
        return 0;
    memcpy(w, s, n);
    w[n] = '\0';
    return bsearch(w, RESERVED, sizeof(RESERVED) / sizeof(RESERVED[0]), sizeof(RESERVED[0]),
                   cmp_reserved) != NULL;
}

static int perr(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int perr(struct parser *p, const char *fmt, ...)
{
    if (!p->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->why, p->why_size, fmt, ap);
        va_end(ap);
        p->failed = 1;
    }
    return -1;
}

/* AWS: Syntax error; token: "<", near: "a < <" (previous, this, next token). */
static int syntax(struct parser *p)
{
    const struct tok *t = cur(p);
    size_t from = p->pos > 0 ? p->tk[p->pos - 1].off : t->off;
    const struct tok *nx = peek(p, 1);
    size_t to = t->t == TK_EOF ? t->off : nx->off + nx->len;
    if (to > p->n)
        to = p->n;
    if (t->t == TK_EOF)
        return perr(p, "Syntax error; token: \"<EOF>\", near: \"%.*s\"", (int)(to - from),
                    p->s + from);
    return perr(p, "Syntax error; token: \"%.*s\", near: \"%.*s\"", (int)t->len, p->s + t->off,
                (int)(to - from), p->s + from);
}

static int expect(struct parser *p, enum tk t)
{
    if (cur(p)->t != t)
        return syntax(p);
    p->pos++;
    return 0;
}

/* ---- nodes -------------------------------------------------------------------- */

static int add_node(struct parser *p, enum nk k)
{
    struct sd_ddb_expr *e = p->e;
    if (e->nn == e->ncap) {
        e->ncap = e->ncap ? e->ncap * 2 : 16;
        e->nodes = cm_xrealloc(e->nodes, (size_t)e->ncap * sizeof(*e->nodes));
    }
    struct node *nd = &e->nodes[e->nn];
    memset(nd, 0, sizeof(*nd));
    nd->k = k;
    nd->a = nd->b = nd->c = -1;
    return e->nn++;
}

static int node2(struct parser *p, enum nk k, int a, int b)
{
    int i = add_node(p, k);
    p->e->nodes[i].a = a;
    p->e->nodes[i].b = b;
    return i;
}

/* Index of key in obj's members, or -1. */
static int member_index(const cJSON *obj, const char *key, size_t len, const cJSON **out)
{
    int i = 0;
    for (const cJSON *c = obj ? obj->child : NULL; c; c = c->next, i++) {
        if (c->string && strlen(c->string) == len && memcmp(c->string, key, len) == 0) {
            *out = c;
            return i;
        }
    }
    return -1;
}

static int parse_value(struct parser *p)
{
    const struct tok *t = cur(p);
    const cJSON *v = NULL;
    int i = member_index(p->ctx->values, p->s + t->off, t->len, &v);
    if (i < 0)
        return perr(p,
                    "An expression attribute value used in expression is not defined; attribute "
                    "value: %.*s",
                    (int)t->len, p->s + t->off);
    if (i < (int)sizeof(p->ctx->used_values))
        p->ctx->used_values[i] = 1;
    p->pos++;
    int n = add_node(p, N_VAL);
    p->e->nodes[n].val = v;
    return n;
}

static int path_elem_name(struct parser *p, struct pel *el)
{
    const struct tok *t = cur(p);
    if (t->t == TK_HASH) {
        const cJSON *v = NULL;
        int i = member_index(p->ctx->names, p->s + t->off, t->len, &v);
        if (i < 0 || !cJSON_IsString(v))
            return perr(p,
                        "An expression attribute name used in the document path is not defined; "
                        "attribute name: %.*s",
                        (int)t->len, p->s + t->off);
        if (i < (int)sizeof(p->ctx->used_names))
            p->ctx->used_names[i] = 1;
        el->name = cm_xstrdup(v->valuestring);
    } else if (t->t == TK_NAME && !is_keyword(p, t)) {
        if (is_reserved(p->s + t->off, t->len))
            return perr(p, "Attribute name is a reserved keyword; reserved keyword: %.*s",
                        (int)t->len, p->s + t->off);
        el->name = cm_xstrndup(p->s + t->off, t->len);
    } else {
        return syntax(p);
    }
    p->pos++;
    return 0;
}

static int atoi_bounded(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

static int parse_path(struct parser *p)
{
    struct path *path = cm_xcalloc(1, sizeof(*path));
    int n = add_node(p, N_PATH);
    p->e->nodes[n].path = path;
    if (path_elem_name(p, &path->el[path->n++]) < 0)
        return -1;
    for (;;) {
        enum tk t = cur(p)->t;
        if (t != TK_DOT && t != TK_LB)
            return n;
        if (path->n >= PATH_MAX_DEPTH)
            return perr(p, "The document path has too many nesting levels; nesting levels: %d",
                        path->n + 1);
        p->pos++;
        struct pel *el = &path->el[path->n++];
        if (t == TK_DOT) {
            if (path_elem_name(p, el) < 0)
                return -1;
            continue;
        }
        const struct tok *it = cur(p);
        if (it->t != TK_INT || it->len > 9)
            return syntax(p);
        el->idx = atoi_bounded(p->s + it->off, it->len);
        p->pos++;
        if (expect(p, TK_RB) < 0)
            return -1;
    }
}

/* Function call head: name token followed by '('. */
static int is_call(const struct parser *p)
{
    return cur(p)->t == TK_NAME && peek(p, 1)->t == TK_LP;
}

static int fn_is(const struct parser *p, const char *name)
{
    return tok_is(p, cur(p), name);
}

static int bad_function(struct parser *p)
{
    const struct tok *t = cur(p);
    static const char *const known[] = {"attribute_exists",
                                        "attribute_not_exists",
                                        "attribute_type",
                                        "begins_with",
                                        "contains",
                                        "size",
                                        "if_not_exists",
                                        "list_append",
                                        NULL};
    for (int i = 0; known[i]; i++)
        if (strlen(known[i]) == t->len && memcmp(known[i], p->s + t->off, t->len) == 0)
            return perr(p,
                        "The function is not allowed to be used this way in an expression; "
                        "function: %.*s",
                        (int)t->len, p->s + t->off);
    return perr(p, "Invalid function name; function: %.*s", (int)t->len, p->s + t->off);
}

/* Condition operand: path, :value or size(path). */
static int parse_operand(struct parser *p)
{
    const struct tok *t = cur(p);
    if (t->t == TK_VALUE)
        return parse_value(p);
    if (is_call(p)) {
        if (!fn_is(p, "size"))
            return bad_function(p);
        p->pos += 2;
        int a = parse_path(p);
        if (a < 0 || expect(p, TK_RP) < 0)
            return -1;
        return node2(p, N_SIZE, a, -1);
    }
    if (t->t == TK_NAME || t->t == TK_HASH)
        return parse_path(p);
    return syntax(p);
}

static int parse_or(struct parser *p);

/* attribute_exists(p) attribute_not_exists(p) attribute_type(p, v)
 * begins_with(a, b) contains(a, b). */
static int parse_bool_fn(struct parser *p)
{
    enum nk k;
    int nargs = 2, a, b = -1;
    if (fn_is(p, "attribute_exists"))
        k = N_EXISTS, nargs = 1;
    else if (fn_is(p, "attribute_not_exists"))
        k = N_NEXISTS, nargs = 1;
    else if (fn_is(p, "attribute_type"))
        k = N_TYPE;
    else if (fn_is(p, "begins_with"))
        k = N_BEGINS;
    else if (fn_is(p, "contains"))
        k = N_CONTAINS;
    else
        return bad_function(p);
    p->pos += 2;
    a = (k == N_EXISTS || k == N_NEXISTS || k == N_TYPE) ? parse_path(p) : parse_operand(p);
    if (a < 0)
        return -1;
    if (nargs == 2) {
        if (expect(p, TK_COMMA) < 0 || (b = parse_operand(p)) < 0)
            return -1;
        if (k == N_TYPE && p->e->nodes[b].k != N_VAL)
            return perr(p, "%s",
                        "Incorrect operand type for operator or function; operator or function: "
                        "attribute_type, operand type: PATH");
        if (k == N_TYPE) {
            static const char *const types[] = {"S",    "SS",   "N", "NS", "B", "BS",
                                                "BOOL", "NULL", "L", "M",  NULL};
            const cJSON *tv = p->e->nodes[b].val;
            int known = 0;
            for (int i = 0; types[i] && sd_ddb_av_type(tv) == SD_DDB_T_S; i++)
                known |= strcmp(types[i], tv->child->valuestring) == 0;
            if (!known)
                return perr(p,
                            "Invalid attribute type name found; type: %s, valid types: "
                            "{ B,NULL,SS,BOOL,L,BS,N,NS,S,M }",
                            sd_ddb_av_type(tv) == SD_DDB_T_S ? tv->child->valuestring : "?");
        }
    }
    if (expect(p, TK_RP) < 0)
        return -1;
    return node2(p, k, a, b);
}

static int parse_primary(struct parser *p)
{
    if (cur(p)->t == TK_LP) {
        p->pos++;
        int c = parse_or(p);
        if (c < 0 || expect(p, TK_RP) < 0)
            return -1;
        return c;
    }
    if (is_call(p) && !fn_is(p, "size"))
        return parse_bool_fn(p);
    int a = parse_operand(p);
    if (a < 0)
        return -1;
    const struct tok *t = cur(p);
    if (t->t >= TK_EQ && t->t <= TK_GE) {
        p->pos++;
        int b = parse_operand(p);
        if (b < 0)
            return -1;
        int n = node2(p, N_CMP, a, b);
        p->e->nodes[n].op = t->t;
        return n;
    }
    if (tok_is(p, t, "BETWEEN")) {
        p->pos++;
        int b = parse_operand(p);
        if (b < 0)
            return -1;
        if (!tok_is(p, cur(p), "AND"))
            return syntax(p);
        p->pos++;
        int c = parse_operand(p);
        if (c < 0)
            return -1;
        int n = node2(p, N_BETWEEN, a, b);
        p->e->nodes[n].c = c;
        return n;
    }
    if (tok_is(p, t, "IN")) {
        p->pos++;
        if (expect(p, TK_LP) < 0)
            return -1;
        int list[IN_MAX], nl = 0;
        for (;;) {
            if (nl == IN_MAX)
                return perr(p, "%s",
                            "Too many operands for the IN operator; operator: IN, number of "
                            "operands: more than 100");
            if ((list[nl++] = parse_operand(p)) < 0)
                return -1;
            if (cur(p)->t == TK_RP)
                break;
            if (expect(p, TK_COMMA) < 0)
                return -1;
        }
        p->pos++;
        int n = node2(p, N_IN, a, -1);
        p->e->nodes[n].list = cm_xmalloc((size_t)nl * sizeof(int));
        memcpy(p->e->nodes[n].list, list, (size_t)nl * sizeof(int));
        p->e->nodes[n].nlist = nl;
        return n;
    }
    return syntax(p);
}

static int parse_not(struct parser *p)
{
    if (tok_is(p, cur(p), "NOT")) {
        p->pos++;
        int a = parse_not(p);
        return a < 0 ? -1 : node2(p, N_NOT, a, -1);
    }
    return parse_primary(p);
}

static int parse_and(struct parser *p)
{
    int a = parse_not(p);
    while (a >= 0 && tok_is(p, cur(p), "AND")) {
        p->pos++;
        int b = parse_not(p);
        a = b < 0 ? -1 : node2(p, N_AND, a, b);
    }
    return a;
}

static int parse_or(struct parser *p)
{
    int a = parse_and(p);
    while (a >= 0 && tok_is(p, cur(p), "OR")) {
        p->pos++;
        int b = parse_and(p);
        a = b < 0 ? -1 : node2(p, N_OR, a, b);
    }
    return a;
}

/* ---- update and projection ----------------------------------------------------------- */

static int parse_term(struct parser *p)
{
    const struct tok *t = cur(p);
    if (t->t == TK_VALUE)
        return parse_value(p);
    if (is_call(p)) {
        int ifne = fn_is(p, "if_not_exists");
        if (!ifne && !fn_is(p, "list_append"))
            return bad_function(p);
        p->pos += 2;
        int a = ifne ? parse_path(p) : parse_term(p), b;
        if (a < 0 || expect(p, TK_COMMA) < 0 || (b = parse_term(p)) < 0 || expect(p, TK_RP) < 0)
            return -1;
        return node2(p, ifne ? N_IFNE : N_LAPP, a, b);
    }
    if (t->t == TK_NAME || t->t == TK_HASH)
        return parse_path(p);
    return syntax(p);
}

static int parse_setval(struct parser *p)
{
    int a = parse_term(p);
    if (a < 0)
        return -1;
    enum tk t = cur(p)->t;
    if (t != TK_PLUS && t != TK_MINUS)
        return a;
    p->pos++;
    int b = parse_term(p);
    return b < 0 ? -1 : node2(p, t == TK_PLUS ? N_PLUS : N_MINUS, a, b);
}

static void add_act(struct parser *p, enum act_kind k, int path, int val)
{
    struct sd_ddb_expr *e = p->e;
    if (e->nact == e->acap) {
        e->acap = e->acap ? e->acap * 2 : 8;
        e->acts = cm_xrealloc(e->acts, (size_t)e->acap * sizeof(*e->acts));
    }
    e->acts[e->nact++] = (struct act){k, path, val};
}

/* 1 when one path is a prefix of the other (DynamoDB rejects such pairs). */
static int paths_overlap(const struct path *a, const struct path *b)
{
    int n = a->n < b->n ? a->n : b->n;
    for (int i = 0; i < n; i++) {
        const struct pel *x = &a->el[i], *y = &b->el[i];
        if ((x->name == NULL) != (y->name == NULL))
            return 0;
        if (x->name ? strcmp(x->name, y->name) != 0 : x->idx != y->idx)
            return 0;
    }
    return 1;
}

static void path_text(const struct path *pa, char *out, size_t size)
{
    size_t k = 0;
    out[0] = '\0';
    for (int i = 0; i < pa->n && k < size; i++) {
        int w = pa->el[i].name
                    ? snprintf(out + k, size - k, "%s%s", i ? ", " : "", pa->el[i].name)
                    : snprintf(out + k, size - k, "%s[%d]", i ? ", " : "", pa->el[i].idx);
        if (w < 0)
            break;
        k += (size_t)w;
    }
}

static int check_overlaps(struct parser *p)
{
    struct sd_ddb_expr *e = p->e;
    for (int i = 0; i < e->nact; i++) {
        for (int j = 0; j < i; j++) {
            const struct path *a = e->nodes[e->acts[j].path].path,
                              *b = e->nodes[e->acts[i].path].path;
            if (paths_overlap(a, b)) {
                char ta[512], tb[512];
                path_text(a, ta, sizeof(ta));
                path_text(b, tb, sizeof(tb));
                return perr(p,
                            "Two document paths overlap with each other; must remove or rewrite "
                            "one of these paths; path one: [%s], path two: [%s]",
                            ta, tb);
            }
        }
    }
    return 0;
}

static int parse_update(struct parser *p)
{
    static const char *const kws[] = {"SET", "REMOVE", "ADD", "DELETE"};
    int seen[4] = {0, 0, 0, 0};
    if (cur(p)->t == TK_EOF)
        return syntax(p);
    while (cur(p)->t != TK_EOF) {
        int k = -1;
        for (int i = 0; i < 4; i++)
            if (tok_is(p, cur(p), kws[i]))
                k = i;
        if (k < 0)
            return syntax(p);
        if (seen[k]++)
            return perr(p, "The \"%s\" section can only be used once in an update expression;",
                        kws[k]);
        p->pos++;
        for (;;) {
            int path = parse_path(p), val = -1;
            if (path < 0)
                return -1;
            if (k == 0) {
                if (expect(p, TK_EQ) < 0 || (val = parse_setval(p)) < 0)
                    return -1;
            } else if (k >= 2) {
                if (cur(p)->t != TK_VALUE)
                    return syntax(p);
                if ((val = parse_value(p)) < 0)
                    return -1;
            }
            add_act(p, (enum act_kind)(k + 1), path, val);
            if (cur(p)->t != TK_COMMA)
                break;
            p->pos++;
        }
    }
    return check_overlaps(p);
}

static int parse_projection(struct parser *p)
{
    struct sd_ddb_expr *e = p->e;
    for (;;) {
        int n = parse_path(p);
        if (n < 0)
            return -1;
        if (e->nproj == e->pcap) {
            e->pcap = e->pcap ? e->pcap * 2 : 8;
            e->proj = cm_xrealloc(e->proj, (size_t)e->pcap * sizeof(int));
        }
        e->proj[e->nproj++] = n;
        if (cur(p)->t != TK_COMMA)
            return 0;
        p->pos++;
    }
}

int sd_ddb_expr_parse(enum sd_ddb_expr_kind kind, const char *expr, size_t n,
                      struct sd_ddb_ectx *ctx, struct sd_ddb_expr **out, char *why, size_t why_size)
{
    struct parser p;
    memset(&p, 0, sizeof(p));
    p.s = expr;
    p.n = n;
    p.ctx = ctx;
    p.why = why;
    p.why_size = why_size;
    p.e = cm_xcalloc(1, sizeof(*p.e));
    p.e->kind = kind;
    *out = NULL;
    if (n == 0) {
        snprintf(why, why_size, "%s", "The expression can not be empty;");
        sd_ddb_expr_free(p.e);
        return CM_EINVAL;
    }
    if (n > EXPR_MAX_BYTES) {
        snprintf(why, why_size, "%s",
                 "Expression size has exceeded the maximum allowed size; expression size: >4096");
        sd_ddb_expr_free(p.e);
        return CM_EINVAL;
    }
    lex(&p);
    for (int i = 0; i < p.ntk; i++) {
        if (p.tk[i].t == TK_BAD) {
            snprintf(why, why_size, "Invalid character encountered; character: \"%.*s\"",
                     (int)p.tk[i].len, expr + p.tk[i].off);
            p.failed = 1;
            break;
        }
    }
    if (!p.failed) {
        int rc = kind == SD_DDB_EXPR_CONDITION ? (p.e->root = parse_or(&p))
                 : kind == SD_DDB_EXPR_UPDATE  ? parse_update(&p)
                                               : parse_projection(&p);
        if (rc >= 0 && cur(&p)->t != TK_EOF)
            syntax(&p);
    }
    free(p.tk);
    if (p.failed) {
        sd_ddb_expr_free(p.e);
        return CM_EPARSE;
    }
    *out = p.e;
    return 0;
}

void sd_ddb_expr_free(struct sd_ddb_expr *e)
{
    if (!e)
        return;
    for (int i = 0; i < e->nn; i++) {
        struct node *nd = &e->nodes[i];
        if (nd->path) {
            for (int j = 0; j < nd->path->n; j++)
                free(nd->path->el[j].name);
            free(nd->path);
        }
        free(nd->list);
    }
    free(e->nodes);
    free(e->acts);
    free(e->proj);
    free(e);
}

/* ---- evaluation ------------------------------------------------------------------- */

/* The value at path in item, or NULL. */
static const cJSON *resolve(const struct path *pa, int n, const cJSON *item)
{
    const cJSON *v = item ? cJSON_GetObjectItemCaseSensitive(item, pa->el[0].name) : NULL;
    for (int i = 1; v && i < n; i++) {
        const struct pel *el = &pa->el[i];
        enum sd_ddb_type t = sd_ddb_av_type(v);
        if (el->name)
            v = t == SD_DDB_T_M ? cJSON_GetObjectItemCaseSensitive(v->child, el->name) : NULL;
        else
            v = t == SD_DDB_T_L ? cJSON_GetArrayItem(v->child, el->idx) : NULL;
    }
    return v;
}

static cJSON *num_value(long n)
{
    char txt[32];
    snprintf(txt, sizeof(txt), "%ld", n);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "N", txt);
    return o;
}

/* size(): characters... bytes of S and B, elements of sets, lists, maps. */
static cJSON *size_of(const cJSON *v)
{
    const cJSON *p = sd_ddb_av_payload(v);
    switch (sd_ddb_av_type(v)) {
    case SD_DDB_T_S:
        return num_value((long)strlen(p->valuestring));
    case SD_DDB_T_B:
        return num_value((long)sd_ddb_av_size(v));
    case SD_DDB_T_M:
    case SD_DDB_T_L:
    case SD_DDB_T_SS:
    case SD_DDB_T_NS:
    case SD_DDB_T_BS:
        return num_value(cJSON_GetArraySize(p));
    default:
        return NULL;
    }
}

/* A condition operand's value (borrowed, or owned through *own), or NULL. */
static const cJSON *operand(const struct sd_ddb_expr *e, int i, const cJSON *item, cJSON **own)
{
    const struct node *nd = &e->nodes[i];
    *own = NULL;
    if (nd->k == N_VAL)
        return nd->val;
    if (nd->k == N_PATH)
        return resolve(nd->path, nd->path->n, item);
    if (nd->k == N_SIZE) {
        const cJSON *v = operand(e, nd->a, item, own);
        *own = v ? size_of(v) : NULL;
        return *own;
    }
    return NULL;
}

static int compare(enum tk op, const cJSON *a, const cJSON *b)
{
    int c;
    if (!a || !b)
        return op == TK_NE && (a || b);
    if (op == TK_EQ)
        return sd_ddb_av_equal(a, b);
    if (op == TK_NE)
        return !sd_ddb_av_equal(a, b);
    if (sd_ddb_av_cmp(a, b, &c) < 0)
        return 0;
    switch (op) {
    case TK_LT:
        return c < 0;
    case TK_LE:
        return c <= 0;
    case TK_GT:
        return c > 0;
    default:
        return c >= 0;
    }
}

static int begins_with(const cJSON *a, const cJSON *b)
{
    enum sd_ddb_type t = sd_ddb_av_type(a);
    if (!a || !b || t != sd_ddb_av_type(b) || (t != SD_DDB_T_S && t != SD_DDB_T_B))
        return 0;
    unsigned char *x = NULL, *y = NULL;
    size_t nx, ny;
    int r = sd_ddb_av_keybytes(a, &x, &nx) == 0 && sd_ddb_av_keybytes(b, &y, &ny) == 0 &&
            ny <= nx && memcmp(x, y, ny) == 0;
    free(x);
    free(y);
    return r;
}

static int contains(const cJSON *a, const cJSON *b)
{
    enum sd_ddb_type ta = sd_ddb_av_type(a), tb = sd_ddb_av_type(b);
    if (!a || !b)
        return 0;
    if (ta == SD_DDB_T_S && tb == SD_DDB_T_S)
        return strstr(a->child->valuestring, b->child->valuestring) != NULL;
    if (ta == SD_DDB_T_L) {
        for (const cJSON *x = a->child->child; x; x = x->next)
            if (sd_ddb_av_equal(x, b))
                return 1;
        return 0;
    }
    if ((ta == SD_DDB_T_SS && tb == SD_DDB_T_S) || (ta == SD_DDB_T_NS && tb == SD_DDB_T_N) ||
        (ta == SD_DDB_T_BS && tb == SD_DDB_T_B)) {
        for (const cJSON *x = a->child->child; x; x = x->next) {
            cJSON *w = cJSON_CreateObject();
            cJSON_AddStringToObject(w, sd_ddb_type_name(tb), x->valuestring);
            int eq = sd_ddb_av_equal(w, b);
            cJSON_Delete(w);
            if (eq)
                return 1;
        }
    }
    return 0;
}

static int eval(const struct sd_ddb_expr *e, int i, const cJSON *item)
{
    const struct node *nd = &e->nodes[i];
    cJSON *oa = NULL, *ob = NULL, *oc = NULL;
    const cJSON *a, *b, *c;
    int r = 0;
    switch (nd->k) {
    case N_AND:
        return eval(e, nd->a, item) && eval(e, nd->b, item);
    case N_OR:
        return eval(e, nd->a, item) || eval(e, nd->b, item);
    case N_NOT:
        return !eval(e, nd->a, item);
    case N_EXISTS:
    case N_NEXISTS: {
        const struct path *pa = e->nodes[nd->a].path;
        int ex = resolve(pa, pa->n, item) != NULL;
        return nd->k == N_EXISTS ? ex : !ex;
    }
    default:
        break;
    }
    a = operand(e, nd->a, item, &oa);
    b = nd->b >= 0 ? operand(e, nd->b, item, &ob) : NULL;
    switch (nd->k) {
    case N_CMP:
        r = compare(nd->op, a, b);
        break;
    case N_BETWEEN:
        c = operand(e, nd->c, item, &oc);
        r = compare(TK_GE, a, b) && compare(TK_LE, a, c);
        break;
    case N_IN:
        for (int k = 0; !r && k < nd->nlist; k++) {
            cJSON *ox;
            const cJSON *x = operand(e, nd->list[k], item, &ox);
            r = compare(TK_EQ, a, x);
            cJSON_Delete(ox);
        }
        break;
    case N_TYPE:
        r = a && sd_ddb_av_type(b) == SD_DDB_T_S &&
            strcmp(sd_ddb_type_name(sd_ddb_av_type(a)), b->child->valuestring) == 0;
        break;
    case N_BEGINS:
        r = begins_with(a, b);
        break;
    case N_CONTAINS:
        r = contains(a, b);
        break;
    default:
        r = 0;
    }
    cJSON_Delete(oa);
    cJSON_Delete(ob);
    cJSON_Delete(oc);
    return r;
}

int sd_ddb_expr_eval(const struct sd_ddb_expr *e, const cJSON *item)
{
    return e && e->kind == SD_DDB_EXPR_CONDITION ? eval(e, e->root, item) : 0;
}

/* ---- update ------------------------------------------------------------------------ */

static int ufail(char *why, size_t n, const char *msg)
{
    snprintf(why, n, "%s", msg);
    return CM_EINVAL;
}

#define MSG_BAD_TYPE "An operand in the update expression has an incorrect data type"
#define MSG_NO_ATTR  "The provided expression refers to an attribute that does not exist in the item"
#define MSG_BAD_PATH "The document path provided in the update expression is invalid for update"

/* A SET right-hand side evaluated against old (the item before the update):
 * a new value, or NULL with why set. */
static cJSON *term_value(const struct sd_ddb_expr *e, int i, const cJSON *old, char *why, size_t wn)
{
    const struct node *nd = &e->nodes[i];
    const cJSON *v;
    cJSON *x = NULL, *y = NULL, *r = NULL;
    switch (nd->k) {
    case N_VAL:
        return cJSON_Duplicate(nd->val, 1);
    case N_PATH:
        v = resolve(nd->path, nd->path->n, old);
        if (!v)
            ufail(why, wn, MSG_NO_ATTR);
        return v ? cJSON_Duplicate(v, 1) : NULL;
    case N_IFNE:
        v = resolve(e->nodes[nd->a].path, e->nodes[nd->a].path->n, old);
        return v ? cJSON_Duplicate(v, 1) : term_value(e, nd->b, old, why, wn);
    default:
        break;
    }
    if (!(x = term_value(e, nd->a, old, why, wn)) || !(y = term_value(e, nd->b, old, why, wn)))
        goto out;
    if (nd->k == N_LAPP) {
        if (sd_ddb_av_type(x) != SD_DDB_T_L || sd_ddb_av_type(y) != SD_DDB_T_L) {
            ufail(why, wn,
                  "Incorrect operand type for operator or function; operator or "
                  "function: list_append, operand type: not a list");
            goto out;
        }
        while (y->child->child)
            cJSON_AddItemToArray(x->child, cJSON_DetachItemViaPointer(y->child, y->child->child));
        r = x;
        x = NULL;
        goto out;
    }
    struct sd_ddb_dec a, b;
    const char *w;
    if (sd_ddb_av_type(x) != SD_DDB_T_N || sd_ddb_av_type(y) != SD_DDB_T_N ||
        sd_ddb_dec_parse(x->child->valuestring, strlen(x->child->valuestring), &a, &w) < 0 ||
        sd_ddb_dec_parse(y->child->valuestring, strlen(y->child->valuestring), &b, &w) < 0) {
        ufail(why, wn, MSG_BAD_TYPE);
        goto out;
    }
    if ((nd->k == N_PLUS ? sd_ddb_dec_add(&a, &b, &a, &w) : sd_ddb_dec_sub(&a, &b, &a, &w)) < 0) {
        ufail(why, wn, w);
        goto out;
    }
    r = sd_ddb_av_number(&a);
out:
    cJSON_Delete(x);
    cJSON_Delete(y);
    return r;
}

/* Stores v (owned) at path in item. */
static int set_at(cJSON *item, const struct path *pa, cJSON *v, char *why, size_t wn)
{
    const struct pel *last = &pa->el[pa->n - 1];
    cJSON *parent;
    if (pa->n == 1) {
        parent = item;
    } else {
        cJSON *pv = (cJSON *)resolve(pa, pa->n - 1, item);
        enum sd_ddb_type t = sd_ddb_av_type(pv);
        if (!pv || (last->name ? t != SD_DDB_T_M : t != SD_DDB_T_L)) {
            cJSON_Delete(v);
            return ufail(why, wn, MSG_BAD_PATH);
        }
        parent = pv->child;
    }
    if (last->name) {
        if (cJSON_GetObjectItemCaseSensitive(parent, last->name))
            cJSON_ReplaceItemInObjectCaseSensitive(parent, last->name, v);
        else
            cJSON_AddItemToObject(parent, last->name, v);
    } else if (last->idx < cJSON_GetArraySize(parent)) {
        cJSON_ReplaceItemInArray(parent, last->idx, v);
    } else {
        cJSON_AddItemToArray(parent, v);
    }
    return 0;
}

static void remove_at(cJSON *item, const struct path *pa)
{
    const struct pel *last = &pa->el[pa->n - 1];
    cJSON *parent = item;
    if (pa->n > 1) {
        cJSON *pv = (cJSON *)resolve(pa, pa->n - 1, item);
        enum sd_ddb_type t = sd_ddb_av_type(pv);
        if (!pv || (last->name ? t != SD_DDB_T_M : t != SD_DDB_T_L))
            return;
        parent = pv->child;
    }
    if (last->name)
        cJSON_DeleteItemFromObjectCaseSensitive(parent, last->name);
    else if (last->idx < cJSON_GetArraySize(parent))
        cJSON_DeleteItemFromArray(parent, last->idx);
}

static int set_contains(const cJSON *arr, const cJSON *x, enum sd_ddb_type st)
{
    enum sd_ddb_type et = st == SD_DDB_T_SS   ? SD_DDB_T_S
                          : st == SD_DDB_T_NS ? SD_DDB_T_N
                                              : SD_DDB_T_B;
    cJSON *wx = cJSON_CreateObject(), *wy = cJSON_CreateObject();
    cJSON_AddStringToObject(wx, sd_ddb_type_name(et), x->valuestring);
    cJSON_AddStringToObject(wy, sd_ddb_type_name(et), "");
    int found = 0;
    for (const cJSON *y = arr->child; y && !found; y = y->next) {
        cJSON_SetValuestring(wy->child, y->valuestring);
        found = sd_ddb_av_equal(wx, wy);
    }
    cJSON_Delete(wx);
    cJSON_Delete(wy);
    return found;
}

/* ADD (number increment or set union) and DELETE (set difference). */
static int add_delete(cJSON *item, const struct path *pa, const cJSON *v, int is_add, char *why,
                      size_t wn)
{
    const cJSON *cur_v = resolve(pa, pa->n, item);
    enum sd_ddb_type tv = sd_ddb_av_type(v), tc = sd_ddb_av_type(cur_v);
    int vset = tv == SD_DDB_T_SS || tv == SD_DDB_T_NS || tv == SD_DDB_T_BS;
    if (is_add && tv != SD_DDB_T_N && !vset)
        return ufail(why, wn,
                     "Incorrect operand type for operator or function; operator: ADD, "
                     "operand type: not a number or set");
    if (!is_add && !vset)
        return ufail(why, wn,
                     "Incorrect operand type for operator or function; operator: "
                     "DELETE, operand type: not a set");
    if (!cur_v)
        return is_add ? set_at(item, pa, cJSON_Duplicate(v, 1), why, wn) : 0;
    if (tc != tv)
        return ufail(why, wn, MSG_BAD_TYPE);
    if (tv == SD_DDB_T_N) {
        struct sd_ddb_dec a, b;
        const char *w;
        if (sd_ddb_dec_parse(cur_v->child->valuestring, strlen(cur_v->child->valuestring), &a, &w) <
                0 ||
            sd_ddb_dec_parse(v->child->valuestring, strlen(v->child->valuestring), &b, &w) < 0 ||
            sd_ddb_dec_add(&a, &b, &a, &w) < 0)
            return ufail(why, wn, w);
        return set_at(item, pa, sd_ddb_av_number(&a), why, wn);
    }
    cJSON *nv = cJSON_Duplicate(cur_v, 1);
    if (is_add) {
        for (const cJSON *x = v->child->child; x; x = x->next)
            if (!set_contains(nv->child, x, tv))
                cJSON_AddItemToArray(nv->child, cJSON_CreateString(x->valuestring));
    } else {
        for (cJSON *x = nv->child->child, *nx; x; x = nx) {
            nx = x->next;
            if (set_contains(v->child, x, tv))
                cJSON_Delete(cJSON_DetachItemViaPointer(nv->child, x));
        }
        if (!nv->child->child) {
            cJSON_Delete(nv);
            remove_at(item, pa);
            return 0;
        }
    }
    return set_at(item, pa, nv, why, wn);
}

/* REMOVE a[1], a[3]: later indices first so earlier removals do not shift them. */
static int remove_order(const struct sd_ddb_expr *e, int x, int y)
{
    const struct path *a = e->nodes[e->acts[x].path].path, *b = e->nodes[e->acts[y].path].path;
    return a->el[a->n - 1].idx > b->el[b->n - 1].idx;
}

int sd_ddb_expr_update(const struct sd_ddb_expr *e, cJSON *item, const char *const *keys,
                       int n_keys, cJSON *touched, char *why, size_t why_size)
{
    int rc = 0;
    if (!e || e->kind != SD_DDB_EXPR_UPDATE)
        return ufail(why, why_size, "not an update expression");
    for (int i = 0; i < e->nact; i++) {
        const char *top = e->nodes[e->acts[i].path].path->el[0].name;
        for (int k = 0; k < n_keys; k++) {
            if (strcmp(top, keys[k]) == 0) {
                snprintf(why, why_size,
                         "One or more parameter values were invalid: Cannot update attribute %s. "
                         "This attribute is part of the key",
                         top);
                return CM_EINVAL;
            }
        }
        if (touched && !cJSON_GetObjectItemCaseSensitive(touched, top))
            cJSON_AddTrueToObject(touched, top);
    }
    cJSON *old = cJSON_Duplicate(item, 1);
    int *rm = cm_xmalloc(((size_t)e->nact + 1) * sizeof(int)), nrm = 0;
    for (int i = 0; rc == 0 && i < e->nact; i++) {
        const struct act *a = &e->acts[i];
        const struct path *pa = e->nodes[a->path].path;
        if (a->k == ACT_SET) {
            cJSON *v = term_value(e, a->val, old, why, why_size);
            rc = v ? set_at(item, pa, v, why, why_size) : CM_EINVAL;
        } else if (a->k == ACT_REMOVE) {
            int j = nrm++;
            while (j > 0 && remove_order(e, i, rm[j - 1])) {
                rm[j] = rm[j - 1];
                j--;
            }
            rm[j] = i;
        }
    }
    for (int j = 0; rc == 0 && j < nrm; j++)
        remove_at(item, e->nodes[e->acts[rm[j]].path].path);
    for (int i = 0; rc == 0 && i < e->nact; i++) {
        const struct act *a = &e->acts[i];
        if (a->k == ACT_ADD || a->k == ACT_DELETE)
            rc = add_delete(item, e->nodes[a->path].path, e->nodes[a->val].val, a->k == ACT_ADD,
                            why, why_size);
    }
    free(rm);
    cJSON_Delete(old);
    return rc;
}

/* ---- projection --------------------------------------------------------------------- */

/* Copies the value at path into dst (an item object), creating the maps and
 * lists on the way; list elements keep their relative order, compacted. */
static void project_path(cJSON *dst, const struct path *pa, const cJSON *item)
{
    if (!resolve(pa, pa->n, item))
        return;
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(item, pa->el[0].name);
    cJSON *container = dst; /* object (name -> AV) or array of AVs */
    for (int i = 0; i < pa->n; i++) {
        const struct pel *el = &pa->el[i];
        cJSON *have = el->name && cJSON_IsObject(container)
                          ? cJSON_GetObjectItemCaseSensitive(container, el->name)
                          : NULL;
        if (i == pa->n - 1) {
            if (!have) {
                if (el->name)
                    cJSON_AddItemToObject(container, el->name, cJSON_Duplicate(src, 1));
                else
                    cJSON_AddItemToArray(container, cJSON_Duplicate(src, 1));
            }
            return;
        }
        enum sd_ddb_type t = sd_ddb_av_type(src);
        if (!have || sd_ddb_av_type(have) != t) {
            have = cJSON_CreateObject();
            cJSON_AddItemToObject(have, sd_ddb_type_name(t),
                                  t == SD_DDB_T_M ? cJSON_CreateObject() : cJSON_CreateArray());
            if (el->name)
                cJSON_AddItemToObject(container, el->name, have);
            else
                cJSON_AddItemToArray(container, have);
        }
        container = have->child;
        const struct pel *nx = &pa->el[i + 1];
        src = nx->name ? cJSON_GetObjectItemCaseSensitive(src->child, nx->name)
                       : cJSON_GetArrayItem(src->child, nx->idx);
    }
}

cJSON *sd_ddb_expr_project_updated(const struct sd_ddb_expr *e, const cJSON *item)
{
    cJSON *out = cJSON_CreateObject();
    for (int i = 0; e && item && e->kind == SD_DDB_EXPR_UPDATE && i < e->nact; i++)
        project_path(out, e->nodes[e->acts[i].path].path, item);
    return out;
}

cJSON *sd_ddb_expr_project(const struct sd_ddb_expr *e, const cJSON *item)
{
    cJSON *out = cJSON_CreateObject();
    for (int i = 0; e && item && i < e->nproj; i++)
        project_path(out, e->nodes[e->proj[i]].path, item);
    return out;
}

/* ---- key conditions ------------------------------------------------------------------ */

struct kpart {
    const char *name;
    enum sd_ddb_kop op;
    const cJSON *v1, *v2;
};

static int key_part(const struct sd_ddb_expr *e, int i, struct kpart *out, char *why, size_t wn)
{
    const struct node *nd = &e->nodes[i];
    static const char *const opname[] = {[N_AND] = "AND",
                                         [N_OR] = "OR",
                                         [N_NOT] = "NOT",
                                         [N_IN] = "IN",
                                         [N_EXISTS] = "attribute_exists",
                                         [N_NEXISTS] = "attribute_not_exists",
                                         [N_TYPE] = "attribute_type",
                                         [N_CONTAINS] = "contains",
                                         [N_SIZE] = "size"};
    const struct node *a = &e->nodes[nd->a];
    if (nd->k != N_CMP && nd->k != N_BETWEEN && nd->k != N_BEGINS) {
        snprintf(why, wn, "Invalid operator used in KeyConditionExpression: %s",
                 (size_t)nd->k < sizeof(opname) / sizeof(opname[0]) && opname[nd->k] ? opname[nd->k]
                                                                                     : "?");
        return CM_EINVAL;
    }
    const struct node *b = &e->nodes[nd->b];
    if (nd->k == N_CMP && a->k == N_VAL && b->k == N_PATH) { /* :v = pk */
        const struct node *t = a;
        a = b;
        b = t;
    }
    if (a->k != N_PATH || a->path->n != 1 || b->k != N_VAL ||
        (nd->k == N_BETWEEN && e->nodes[nd->c].k != N_VAL) || (nd->k == N_CMP && nd->op == TK_NE))
        return ufail(why, wn, "Query key condition not supported");
    out->name = a->path->el[0].name;
    out->v1 = b->val;
    out->v2 = nd->k == N_BETWEEN ? e->nodes[nd->c].val : NULL;
    if (nd->k == N_BETWEEN)
        out->op = SD_DDB_KOP_BETWEEN;
    else if (nd->k == N_BEGINS)
        out->op = SD_DDB_KOP_BEGINS;
    else
        out->op = nd->op == TK_EQ   ? SD_DDB_KOP_EQ
                  : nd->op == TK_LT ? SD_DDB_KOP_LT
                  : nd->op == TK_LE ? SD_DDB_KOP_LE
                  : nd->op == TK_GT ? SD_DDB_KOP_GT
                                    : SD_DDB_KOP_GE;
    return 0;
}

int sd_ddb_expr_keycond(const struct sd_ddb_expr *e, const char *hash_name,
                        struct sd_ddb_keycond *out, char *why, size_t why_size)
{
    struct kpart parts[2];
    int np = 0;
    memset(out, 0, sizeof(*out));
    if (!e || e->kind != SD_DDB_EXPR_CONDITION)
        return ufail(why, why_size, "Query key condition not supported");
    const struct node *root = &e->nodes[e->root];
    if (root->k == N_AND) {
        if (key_part(e, root->a, &parts[0], why, why_size) < 0 ||
            key_part(e, root->b, &parts[1], why, why_size) < 0)
            return CM_EINVAL;
        np = 2;
    } else {
        if (key_part(e, e->root, &parts[0], why, why_size) < 0)
            return CM_EINVAL;
        np = 1;
    }
    int h = -1;
    for (int i = 0; i < np; i++)
        if (strcmp(parts[i].name, hash_name) == 0 && parts[i].op == SD_DDB_KOP_EQ && h < 0)
            h = i;
    if (h < 0) {
        snprintf(why, why_size, "Query condition missed key schema element: %s", hash_name);
        return CM_EINVAL;
    }
    out->hash = parts[h].v1;
    if (np == 2) {
        const struct kpart *r = &parts[1 - h];
        if (strcmp(r->name, hash_name) == 0)
            return ufail(why, why_size, "Query key condition not supported");
        out->op = r->op;
        out->r1 = r->v1;
        out->r2 = r->v2;
        cm_strlcpy(out->range_name, r->name, sizeof(out->range_name));
    }
    return 0;
}
