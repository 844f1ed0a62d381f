/* sd_ddb_int.h: the pieces of stackd's DynamoDB shared by sd_ddb.c and its
 * tests: decimal numbers (sd_ddb_value.c), AttributeValue validation and
 * comparison (sd_ddb_value.c), and the expression parser and evaluator
 * (sd_ddb_expr.c). Not used outside sd_ddb*. Values are cJSON trees in
 * DynamoDB's JSON shape ({"S":"x"}, {"N":"1"}, {"M":{...}}, ...). */
#ifndef SD_DDB_INT_H
#define SD_DDB_INT_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* ---- decimal numbers ------------------------------------------------------ */

#define SD_DDB_DEC_DIGITS 38 /* DynamoDB: up to 38 significant digits */

/* value = (neg ? -1 : 1) * dig[0..ndig) as an integer * 10^exp. Normalised:
 * no leading or trailing zero digit; zero is ndig == 0, neg == 0. */
struct sd_ddb_dec {
    int neg;
    int ndig;
    int exp;
    char dig[SD_DDB_DEC_DIGITS]; /* '0'..'9', not NUL terminated */
};

/* Parses a DynamoDB number ("-1.50", "1e3", ".5"). 0, CM_EINVAL (not a
 * number), CM_ERANGE (more than 38 significant digits, or magnitude outside
 * 1E-130 .. 9.99..E+125); *why (static) names the problem. */
int sd_ddb_dec_parse(const char *s, size_t n, struct sd_ddb_dec *out, const char **why);
/* -1, 0, 1 by numeric value. */
int sd_ddb_dec_cmp(const struct sd_ddb_dec *a, const struct sd_ddb_dec *b);
/* out = a + b (sub: a - b), exact. 0 or CM_ERANGE (*why set) when the result
 * needs more than 38 digits or leaves the range. out may alias a or b. */
int sd_ddb_dec_add(const struct sd_ddb_dec *a, const struct sd_ddb_dec *b, struct sd_ddb_dec *out,
                   const char **why);
int sd_ddb_dec_sub(const struct sd_ddb_dec *a, const struct sd_ddb_dec *b, struct sd_ddb_dec *out,
                   const char **why);
/* Plain decimal text without exponent ("-0.015", "1200"); at most
 * SD_DDB_DEC_TEXT bytes with the NUL. */
#define SD_DDB_DEC_TEXT 200
void sd_ddb_dec_format(const struct sd_ddb_dec *d, char *out, size_t out_size);
/* Bytes whose memcmp order is the numeric order; returns the length
 * (<= SD_DDB_DEC_KEY). */
#define SD_DDB_DEC_KEY 48
size_t sd_ddb_dec_sortkey(const struct sd_ddb_dec *d, unsigned char *out);

/* ---- base64 ---------------------------------------------------------------- */

/* Standard alphabet with padding. decode: 0 or CM_EINVAL; *out (free()) gets
 * *n bytes. */
int sd_ddb_b64_decode(const char *s, size_t n, unsigned char **out, size_t *out_n);
char *sd_ddb_b64_encode(const unsigned char *p, size_t n);

/* ---- AttributeValues --------------------------------------------------------- */

enum sd_ddb_type {
    SD_DDB_T_NONE = 0,
    SD_DDB_T_S,
    SD_DDB_T_N,
    SD_DDB_T_B,
    SD_DDB_T_BOOL,
    SD_DDB_T_NULL,
    SD_DDB_T_M,
    SD_DDB_T_L,
    SD_DDB_T_SS,
    SD_DDB_T_NS,
    SD_DDB_T_BS,
};

/* Type of a (validated) AttributeValue, SD_DDB_T_NONE for NULL/garbage. */
enum sd_ddb_type sd_ddb_av_type(const cJSON *av);
const char *sd_ddb_type_name(enum sd_ddb_type t); /* "S", "NS", ... */
/* The payload: child of av (string, bool, object, array). */
cJSON *sd_ddb_av_payload(const cJSON *av);

/* Validates one AttributeValue and canonicalises it in place (numbers
 * normalised, binaries re-encoded). 0 or CM_EINVAL with AWS's message in why. */
int sd_ddb_av_check(cJSON *av, char *why, size_t why_size);
/* Validates an item (object name -> AttributeValue). */
int sd_ddb_item_check(cJSON *item, char *why, size_t why_size);
/* DynamoDB's size in bytes of a value / an item (names + values). */
size_t sd_ddb_av_size(const cJSON *av);
size_t sd_ddb_item_size(const cJSON *item);
/* Deep equality (sets ignore order). */
int sd_ddb_av_equal(const cJSON *a, const cJSON *b);
/* Ordering of two S, N or B values of the same type: sets *out to -1/0/1 and
 * returns 0, or CM_EINVAL when they are not comparable. */
int sd_ddb_av_cmp(const cJSON *a, const cJSON *b, int *out);
/* Sort/equality key bytes of a scalar key value (S: bytes, N: sortkey, B:
 * decoded); *out is malloc'ed. 0 or CM_EINVAL. */
int sd_ddb_av_keybytes(const cJSON *av, unsigned char **out, size_t *n);
/* A new {"N": text} value. */
cJSON *sd_ddb_av_number(const struct sd_ddb_dec *d);

/* ---- expressions ----------------------------------------------------------- */

/* Names and values a request supplies (borrowed), and which were used. */
struct sd_ddb_ectx {
    const cJSON *names;  /* ExpressionAttributeNames or NULL */
    const cJSON *values; /* ExpressionAttributeValues (validated) or NULL */
    unsigned char used_names[256];
    unsigned char used_values[256];
};

struct sd_ddb_expr;

enum sd_ddb_expr_kind {
    SD_DDB_EXPR_CONDITION = 1, /* Condition/Filter/KeyCondition expressions */
    SD_DDB_EXPR_UPDATE,
    SD_DDB_EXPR_PROJECTION,
};

/* Parses expr (n bytes). On failure returns CM_EPARSE/CM_EINVAL and writes
 * AWS's message ("Syntax error; token: \"<\", near: \"a < <\"", "An
 * expression attribute value used in expression is not defined; attribute
 * value: :v") into why, without the "Invalid XExpression: " prefix. */
int sd_ddb_expr_parse(enum sd_ddb_expr_kind kind, const char *expr, size_t n,
                      struct sd_ddb_ectx *ctx, struct sd_ddb_expr **out, char *why,
                      size_t why_size);
void sd_ddb_expr_free(struct sd_ddb_expr *e);

/* Condition: 1 true, 0 false for item (an object; NULL or {} when absent). */
int sd_ddb_expr_eval(const struct sd_ddb_expr *e, const cJSON *item);

/* Update: applies to item (an object, modified in place). Top-level names
 * the update touched are added to touched (an object used as a set, may be
 * NULL). keys lists the key attribute names (may not be updated). 0 or
 * CM_EINVAL with the message in why. */
int sd_ddb_expr_update(const struct sd_ddb_expr *e, cJSON *item, const char *const *keys,
                       int n_keys, cJSON *touched, char *why, size_t why_size);

/* Projection: a new object with the projected paths of item. */
cJSON *sd_ddb_expr_project(const struct sd_ddb_expr *e, const cJSON *item);
/* UpdateItem's UPDATED_OLD/UPDATED_NEW: a new object with the paths an
 * update expression acts on, as found in item (absent paths left out). */
cJSON *sd_ddb_expr_project_updated(const struct sd_ddb_expr *e, const cJSON *item);

/* Key condition: the hash key value and optional range condition. */
enum sd_ddb_kop {
    SD_DDB_KOP_NONE = 0,
    SD_DDB_KOP_EQ,
    SD_DDB_KOP_LT,
    SD_DDB_KOP_LE,
    SD_DDB_KOP_GT,
    SD_DDB_KOP_GE,
    SD_DDB_KOP_BETWEEN,
    SD_DDB_KOP_BEGINS,
};
struct sd_ddb_keycond {
    const cJSON *hash;    /* borrowed from the expression's values */
    enum sd_ddb_kop op;   /* on the range key; NONE when there is no range condition */
    const cJSON *r1, *r2; /* r2 for BETWEEN */
    char range_name[256]; /* attribute the range condition names */
};
/* Checks a parsed condition has the key-condition shape (hash = :v [AND one
 * range condition]) with hash_name as the equality and fills out. 0 or
 * CM_EINVAL with AWS's message in why. */
int sd_ddb_expr_keycond(const struct sd_ddb_expr *e, const char *hash_name,
                        struct sd_ddb_keycond *out, char *why, size_t why_size);

#endif
