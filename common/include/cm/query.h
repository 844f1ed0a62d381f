/* query.h: the AWS query protocol (awsQuery) on the server side, and one
 * response writer that emits either awsQuery XML or awsJson bodies from the
 * same calls, so a service implements each operation once for both protocols.
 *
 * Requests: an application/x-www-form-urlencoded body ("Action=PutMetricData&
 * Version=2010-08-01&MetricData.member.1.MetricName=x") becomes a cJSON object
 * shaped like the awsJson request of the same operation: "A.member.N" (non-
 * flattened list, CloudWatch) and "A.N" (flattened list, SQS) become arrays
 * with element N-1, "A.B" nests objects. Every leaf stays a string (the query
 * protocol has no types); use the cm_query_get_* helpers, which accept both
 * the JSON types and their query spellings.
 *
 * Not a general XML library: it writes only the shapes AWS query responses
 * use (structures, <member> lists, <entry><key/><value/></entry> maps). */
#ifndef CM_QUERY_H
#define CM_QUERY_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

struct cm_buf;

#define CM_QUERY_MAX_PARAMS 20000 /* key=value pairs per request */
#define CM_QUERY_MAX_INDEX  10000 /* largest N in "A.member.N" */
#define CM_QUERY_MAX_GAP    64    /* list elements that may be skipped (filled with null) */
#define CM_QUERY_MAX_DEPTH  16    /* nesting of the writer and of request keys */

/* Decodes n bytes of application/x-www-form-urlencoded text (%XX, '+' is a
 * space) into out (out_size bytes, NUL terminated). Returns the decoded
 * length, or CM_EPARSE (bad %-escape, embedded NUL) or CM_ETOOBIG. */
long cm_query_urldecode(const char *p, size_t n, char *out, size_t out_size);

/* Parses a form body (n bytes, need not be NUL terminated) into a new cJSON
 * object (free with cJSON_Delete). Later duplicates of a key win. Errors:
 * CM_EPARSE (bad escape, a key used both as a value and as a parent, empty
 * key segment, index 0), CM_ETOOBIG (limits above); *why (if not NULL) then
 * gets a static sentence. */
int cm_query_parse(const char *p, size_t n, cJSON **out, const char **why);

/* Typed getters over a parsed request of either protocol. Each returns 1
 * when the key is present and well-formed, 0 when absent, CM_EINVAL when
 * present but malformed (e.g. "abc" for a number). */
int cm_query_get_num(const cJSON *obj, const char *key, double *out);
int cm_query_get_bool(const cJSON *obj, const char *key, int *out);
/* Timestamps: a JSON number is epoch seconds (may be fractional); a string
 * is ISO 8601 ("2024-01-01T00:00:00Z", ".123", "+02:00" offsets) or an
 * epoch-seconds number. Result in epoch milliseconds. */
int cm_query_get_time_ms(const cJSON *obj, const char *key, int64_t *out_ms);
/* The same parse for a bare string (n bytes). 0 or CM_EINVAL. */
int cm_query_parse_time_ms(const char *p, size_t n, int64_t *out_ms);
/* A list member: the array at key, or NULL when absent or not an array. */
const cJSON *cm_query_get_list(const cJSON *obj, const char *key);

/* Appends the shortest decimal that reads back as v ("10", "0.1", "1e+300");
 * for the query protocol an integral value gets ".0" appended when xml_style. */
int cm_query_append_double(struct cm_buf *out, double v, int xml_style);

/* Appends an ISO 8601 UTC time ("2024-01-01T00:00:00Z", or with ".123" when
 * ms is not a whole second). */
int cm_query_append_iso_ms(struct cm_buf *out, int64_t ms);

/* XML text escaping of n bytes (& < > " '). */
int cm_query_append_xml_text(struct cm_buf *out, const char *s, size_t n);

enum cm_query_fmt {
    CM_QUERY_XML = 0,  /* awsQuery: <OpResponse xmlns=...><OpResult>... */
    CM_QUERY_JSON = 1, /* awsJson1_0 / 1_1: {...} */
};

enum cm_query_kind {
    CM_QUERY_OBJ = 0,
    CM_QUERY_LIST = 1,
    CM_QUERY_MAP = 2,
};

/* The writer. Caller-owned; nothing to free. Errors (CM_ETOOBIG from the
 * buffer, or a misuse such as closing too often: CM_ESTATE) are sticky and
 * returned by cm_query_out_end. Inside a list, member names are ignored
 * (XML <member>, JSON array element); inside a map, the name is the key
 * (XML <entry><key>name</key><value>v</value></entry>, JSON "name":v). */
struct cm_query_out {
    struct cm_buf *buf;
    enum cm_query_fmt fmt;
    const char *op; /* operation name, borrowed until _end */
    int has_result; /* XML: write the <OpResult> wrapper */
    int depth;
    unsigned char kind[CM_QUERY_MAX_DEPTH];
    int count[CM_QUERY_MAX_DEPTH];         /* members written at each level */
    const char *names[CM_QUERY_MAX_DEPTH]; /* XML closing tags, borrowed */
    int err;
};

/* Starts a response of operation op ("GetMetricData"). For XML writes the
 * declaration, <opResponse xmlns="xmlns"> and, when has_result, <opResult>;
 * for JSON writes "{". */
void cm_query_out_begin(struct cm_query_out *o, struct cm_buf *buf, enum cm_query_fmt fmt,
                        const char *op, const char *xmlns, int has_result);
/* Closes everything; XML adds <ResponseMetadata><RequestId>. Returns 0 or
 * the first error. */
int cm_query_out_end(struct cm_query_out *o, const char *request_id);

/* Containers; name is borrowed until the matching close. */
void cm_query_out_open(struct cm_query_out *o, const char *name, enum cm_query_kind kind);
void cm_query_out_close(struct cm_query_out *o);

void cm_query_out_str(struct cm_query_out *o, const char *name, const char *s);
void cm_query_out_strn(struct cm_query_out *o, const char *name, const char *s, size_t n);
void cm_query_out_num(struct cm_query_out *o, const char *name, double v);
void cm_query_out_int(struct cm_query_out *o, const char *name, int64_t v);
void cm_query_out_bool(struct cm_query_out *o, const char *name, int v);
/* XML: ISO 8601; JSON: epoch seconds (fractional when needed). */
void cm_query_out_time_ms(struct cm_query_out *o, const char *name, int64_t ms);

/* A whole error body. XML: <ErrorResponse xmlns><Error><Type>Sender|Receiver
 * </Type><Code>code</Code><Message>..</Message><Detail/></Error><RequestId>
 * </ErrorResponse>. JSON: {"__type":"json_type","message":".."}. sender
 * selects Type. */
int cm_query_error_body(struct cm_buf *out, enum cm_query_fmt fmt, const char *xmlns, int sender,
                        const char *code, const char *json_type, const char *message,
                        const char *request_id);

#endif
