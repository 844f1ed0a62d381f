/* sigv4.h: AWS Signature Version 4 (AWS4-HMAC-SHA256): header signing, query
 * presigning and server-side verification. Pure computation over a request
 * description; it sends nothing and reads no clock or environment (cm_aws
 * does that). Not SigV4a, not chunked (aws-chunked) payload signing.
 *
 * Canonicalisation follows AWS's SigV4 spec as botocore and aws-c-auth apply
 * it (docs/protocols.md section 6): the path is the wire path (already
 * percent-encoded as sent) and, except for S3, is normalised (dot segments and
 * empty segments removed) and percent-encoded once more; the query is split
 * on '&', decoded, re-encoded with the unreserved set and sorted by key then
 * value; header values are trimmed with inner whitespace runs collapsed.
 *
 * Thread-safety: a struct cm_sigv4_ctx is used by one thread at a time; use
 * one per worker. Everything else is reentrant. */
#ifndef CM_SIGV4_H
#define CM_SIGV4_H

#include "cm/buf.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define CM_SIGV4_ALGORITHM    "AWS4-HMAC-SHA256"
#define CM_SIGV4_UNSIGNED     "UNSIGNED-PAYLOAD"
#define CM_SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define CM_SIGV4_MAX_HEADERS  128  /* headers in one request (signing and verifying) */
#define CM_SIGV4_MAX_PARAMS   1024 /* query parameters in one request */
#define CM_SIGV4_MAX_SKEW_S   900  /* default allowed clock skew when verifying */

/* Credentials, borrowed NUL-terminated strings. session_token NULL or "" when
 * the credentials are long-term keys. */
struct cm_sigv4_creds {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token;
};

/* One HTTP header, (pointer, length); need not be NUL terminated. */
struct cm_sigv4_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

/* Initialiser for NUL-terminated strings (evaluates its arguments twice). */
#define CM_SIGV4_HEADER(n, v)                                                                      \
    {                                                                                              \
        (n), strlen(n), (v), strlen(v)                                                             \
    }

/* A request as it goes on (or came off) the wire. All members borrowed. */
struct cm_sigv4_request {
    const char *method; /* "GET", "POST", ... (NUL-terminated, upper case) */
    const char *host;   /* Host header value, with ":port" unless the scheme's default; */
    size_t host_len;    /* ignored when headers[] has a Host header */
    const char *path;   /* wire path, percent-encoded as sent, without '?query'; */
    size_t path_len;    /* empty means "/" */
    const char *query;  /* wire query without the leading '?', may be empty */
    size_t query_len;
    const struct cm_sigv4_header *headers; /* as sent; Host, X-Amz-Date, ... may be absent */
    size_t n_headers;
    const void *payload; /* body bytes; hashed unless payload_hash is set */
    size_t payload_len;
    const char *payload_hash; /* NULL, 64 lower-case hex, or CM_SIGV4_UNSIGNED */
};

enum cm_sigv4_flags {
    /* S3 rules: the path is neither normalised nor encoded again (the wire
     * path is the canonical URI), x-amz-content-sha256 is always sent, and a
     * presigned URL signs UNSIGNED-PAYLOAD unless payload_hash says otherwise. */
    CM_SIGV4_S3 = 1u << 0,
    /* Keep '.', '..' and empty path segments (aws-c-auth "normalize": false). */
    CM_SIGV4_NO_NORMALIZE = 1u << 1,
    /* Add and sign x-amz-content-sha256 (header signing only). */
    CM_SIGV4_CONTENT_SHA256 = 1u << 2,
    /* Send the session token but leave it out of the signature (a few
     * services, e.g. IoT; aws-c-auth "omit_session_token"). */
    CM_SIGV4_TOKEN_UNSIGNED = 1u << 3,
    /* Verify only: when the standard canonical form does not match, also try
     * the raw path and raw, unsorted query that libcurl 7.88's
     * CURLOPT_AWS_SIGV4 signs (protocols.md 6.4). */
    CM_SIGV4_ALLOW_RAW = 1u << 4,
};

/* How to sign: scope, credentials, time. All members borrowed. */
struct cm_sigv4_config {
    const char *region;                 /* "us-east-1" */
    const char *service;                /* signing name: "sqs", "dynamodb", "execute-api" */
    const struct cm_sigv4_creds *creds; /* required for signing */
    int64_t now_s;                      /* signing time, Unix seconds (UTC) */
    unsigned flags;                     /* enum cm_sigv4_flags */
};

/* Headers cm_sigv4_sign() asks the caller to add, in this order: X-Amz-Date,
 * [X-Amz-Security-Token], [X-Amz-Content-SHA256], Authorization. */
#define CM_SIGV4_MAX_ADD 4

/* Workspace and results; caller-owned storage, one per thread. Results stay
 * valid until the next call on the same context. */
struct cm_sigv4_ctx {
    char amz_date[17];               /* "20150830T123600Z" */
    char payload_hash[65];           /* hex SHA-256 or "UNSIGNED-PAYLOAD" as signed */
    char signature[65];              /* lower-case hex */
    struct cm_buf canonical_request; /* the last canonical request (for debugging and tests) */
    struct cm_buf string_to_sign;
    struct cm_buf authorization;                  /* Authorization header value (sign) */
    struct cm_buf query;                          /* full signed query string, no '?' (presign) */
    struct cm_buf signed_headers;                 /* "host;x-amz-date" */
    struct cm_sigv4_header add[CM_SIGV4_MAX_ADD]; /* headers to send (sign) */
    size_t n_add;
    /* private */
    struct cm_buf scratch;
    struct cm_buf decoded; /* presigned X-Amz-Credential / X-Amz-SignedHeaders */
    int64_t date_s;        /* now_s that amz_date holds (INT64_MIN: none) */
    void *entries;         /* sort arrays, grown on demand, bounded by the MAX_ constants */
    size_t entries_cap;
    struct {
        int valid;
        char date[9];
        char region[64];
        char service[64];
        char secret[128];
        unsigned char key[32];
    } kcache; /* last derived signing key, so steady-state signing costs one HMAC */
};

void cm_sigv4_ctx_init(struct cm_sigv4_ctx *c);
/* Frees buffers and wipes cached key material. Accepts NULL. */
void cm_sigv4_ctx_deinit(struct cm_sigv4_ctx *c);

/* Signs req for header authentication. On success c->authorization,
 * c->amz_date, c->signature, c->payload_hash, c->canonical_request,
 * c->string_to_sign and c->add[0..n_add) are set; add[] values point into c
 * or into cfg->creds (the session token), so send them before those change.
 * Caller headers named Authorization and X-Amz-Date are ignored (replaced);
 * User-Agent, Expect and X-Amzn-Trace-Id are sent unsigned, like botocore.
 * A caller X-Amz-Content-SHA256 is signed and its value is the payload hash.
 * Returns 0, CM_EINVAL (missing host, method, region, service or keys; bad
 * payload_hash) or CM_ETOOBIG (more than the MAX_ constants allow). */
int cm_sigv4_sign(struct cm_sigv4_ctx *c, const struct cm_sigv4_config *cfg,
                  const struct cm_sigv4_request *req);

/* Presigns req (query authentication) valid for expires_s seconds (1..604800).
 * On success c->query holds the whole query string to send after '?': the
 * original query, then the X-Amz-* parameters ending with X-Amz-Signature.
 * Signs host plus the caller's headers (minus the unsigned ones above).
 * Returns like cm_sigv4_sign(); CM_ERANGE for a bad expires_s. */
int cm_sigv4_presign(struct cm_sigv4_ctx *c, const struct cm_sigv4_config *cfg,
                     const struct cm_sigv4_request *req, int64_t expires_s);

/* Why a verification failed; AWS error code names in comments. */
enum cm_sigv4_verdict {
    CM_SIGV4_VALID = 0,
    CM_SIGV4_MISSING,   /* no Authorization header or X-Amz-Signature: MissingAuthenticationToken */
    CM_SIGV4_MALFORMED, /* unparsable Authorization / X-Amz-* query: IncompleteSignature */
    CM_SIGV4_UNKNOWN_KEY, /* lookup does not know the access key: UnrecognizedClientException */
    CM_SIGV4_SKEWED,      /* X-Amz-Date too far from now: InvalidSignatureException */
    CM_SIGV4_EXPIRED,     /* presigned URL past X-Amz-Expires: AccessDenied / Request has expired */
    CM_SIGV4_MISMATCH,    /* the signature differs: SignatureDoesNotMatch */
};

/* Looks up the secret key for an access key id; returns 0 and sets *secret
 * (a string that outlives the call), or CM_ENOTFOUND. */
typedef int (*cm_sigv4_secret_fn)(void *arg, const char *access_key_id, size_t len,
                                  const char **secret);

struct cm_sigv4_verify_opts {
    cm_sigv4_secret_fn lookup;
    void *lookup_arg;
    int64_t now_s;      /* the server's clock, Unix seconds */
    int64_t max_skew_s; /* 0 means CM_SIGV4_MAX_SKEW_S */
    unsigned flags;     /* CM_SIGV4_S3, CM_SIGV4_NO_NORMALIZE, CM_SIGV4_ALLOW_RAW */
};

/* What the verifier learned from the credential scope (valid when the
 * Authorization parsed, even if the signature did not match). Points into
 * the request's header or query bytes. */
struct cm_sigv4_verify_result {
    enum cm_sigv4_verdict verdict;
    const char *access_key_id;
    size_t access_key_id_len;
    const char *region;
    size_t region_len;
    const char *service; /* the signing name, a robust dispatch key */
    size_t service_len;
    int presigned; /* 1 when the signature came in the query */
};

/* Verifies a received request: header authentication (Authorization) or a
 * presigned query (X-Amz-Signature). Uses exactly the SignedHeaders the client
 * listed with their received values, the received x-amz-content-sha256 when
 * present (else the SHA-256 of payload), the wire path encoded once more
 * (unless CM_SIGV4_S3), and compares in constant time. Returns 0 when valid,
 * else CM_EINVAL with res->verdict saying why. */
int cm_sigv4_verify(struct cm_sigv4_ctx *c, const struct cm_sigv4_verify_opts *opts,
                    const struct cm_sigv4_request *req, struct cm_sigv4_verify_result *res);

/* AWS error code and HTTP status for a verdict ("SignatureDoesNotMatch", 403). */
const char *cm_sigv4_verdict_code(enum cm_sigv4_verdict v);
int cm_sigv4_verdict_status(enum cm_sigv4_verdict v);

/* Appends p[0..n) percent-encoded with AWS's rules: everything but
 * A-Z a-z 0-9 - _ . ~ becomes %XX (upper case); '/' too unless keep_slash.
 * 0 or CM_ETOOBIG. */
int cm_sigv4_uri_encode(struct cm_buf *out, const void *p, size_t n, int keep_slash);

/* Lower-case hex SHA-256 of p[0..n) into out (65 bytes with the NUL). */
void cm_sigv4_sha256_hex(const void *p, size_t n, char out[65]);

/* Formats Unix seconds as "YYYYMMDDTHHMMSSZ"; out holds 17 bytes. */
void cm_sigv4_format_date(int64_t now_s, char out[17]);

#endif
