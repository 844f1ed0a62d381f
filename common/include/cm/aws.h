/* aws.h: a small AWS API client over libcurl: credentials chain, region,
 * endpoint resolution, signed awsJson / restJson requests as libcurl easy
 * handles that run inside the caller's multi handle, AWS error parsing, and
 * retries with capped exponential backoff and full jitter.
 *
 * Not an SDK: no service models, no IMDS/SSO/assume-role/credential_process
 * providers, no awsQuery serialisation (the caller builds the body). The same
 * code path talks to AWS and to stackd: endpoints come from AWS_ENDPOINT_URL
 * and AWS_ENDPOINT_URL_<SERVICE>.
 *
 * Thread-safety: a struct cm_aws_client and its requests belong to one thread
 * (each holds a SigV4 workspace); the pure functions are reentrant. */
#ifndef CM_AWS_H
#define CM_AWS_H

#include "cm/sigv4.h"

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------------ services */

enum cm_aws_protocol {
    CM_AWS_PROTO_JSON,      /* POST / with X-Amz-Target (awsJson1_0 / awsJson1_1) */
    CM_AWS_PROTO_REST_JSON, /* method + path (restJson1) */
};

struct cm_aws_service {
    const char *service_id;      /* SDK service id: "SQS", "CloudWatch Logs" (env var names) */
    const char *signing_name;    /* SigV4 scope: "sqs", "logs", "execute-api" */
    const char *endpoint_prefix; /* https://<prefix>.<region>.amazonaws.com */
    enum cm_aws_protocol protocol;
    const char *target_prefix; /* JSON: "AmazonSQS" -> X-Amz-Target: AmazonSQS.SendMessage */
    const char *content_type;  /* JSON: application/x-amz-json-1.0 or -1.1 */
    int query_compatible;      /* sends x-amzn-query-mode: true (SQS, CloudWatch; as JS v3) */
};

extern const struct cm_aws_service cm_aws_sqs;      /* awsJson1_0, AmazonSQS */
extern const struct cm_aws_service cm_aws_dynamodb; /* awsJson1_0, DynamoDB_20120810 */
extern const struct cm_aws_service cm_aws_logs;     /* awsJson1_1, Logs_20140328 */
extern const struct cm_aws_service
    cm_aws_cloudwatch;                            /* awsJson1_0, GraniteServiceVersion20100801 */
extern const struct cm_aws_service cm_aws_lambda; /* restJson1 */
extern const struct cm_aws_service cm_aws_apigw_mgmt; /* restJson1, signing name execute-api */

/* By signing name, endpoint prefix or service id ("sqs", "SQS", "CloudWatch
 * Logs", "execute-api", "apigatewaymanagementapi"); NULL when unknown. */
const struct cm_aws_service *cm_aws_service_find(const char *name);

/* ------------------------------------------------------------------ configuration */

/* Credentials with owned strings; free with cm_aws_creds_deinit. */
struct cm_aws_creds {
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL when none */
    char source[64];     /* "environment", "shared credentials file", "config file" */
};

/* The credentials chain, first hit wins:
 *  1. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
 *  2. profile AWS_PROFILE (else AWS_DEFAULT_PROFILE, else "default") in the
 *     shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
 *     ~/.aws/credentials), section [name];
 *  3. the same profile in the config file (AWS_CONFIG_FILE, else
 *     ~/.aws/config), section [profile name] ([default] for "default").
 * Returns 0; CM_ENOTFOUND when no source has keys; CM_EINVAL when only one of
 * the two environment keys is set; CM_EPARSE for a malformed file. err (may
 * be NULL) receives a one-line reason ("~/.aws/config:7:1: expected ..."). */
int cm_aws_creds_load(struct cm_aws_creds *out, char *err, size_t err_size);
void cm_aws_creds_deinit(struct cm_aws_creds *c);
/* Borrowed view for cm_sigv4. */
struct cm_sigv4_creds cm_aws_creds_view(const struct cm_aws_creds *c);

/* Region: AWS_REGION, AWS_DEFAULT_REGION, then `region` of the profile in the
 * config file. 0, CM_ENOTFOUND, CM_EPARSE, CM_ETOOBIG (out too small). */
int cm_aws_region_load(char *out, size_t out_size, char *err, size_t err_size);

/* The active profile name: AWS_PROFILE, AWS_DEFAULT_PROFILE or "default". */
const char *cm_aws_profile(void);

/* Looks key up in [section] of an INI text (the AWS shared config syntax:
 * '#'/';' comment lines, "key = value" or "key: value", keys case-insensitive,
 * indented lines continue a nested value and are skipped). fname names the
 * text in errors. Returns 0 (out set), CM_ENOTFOUND, CM_ETOOBIG (value does
 * not fit), CM_EPARSE (err gets "fname:line:col: reason"). The whole text is
 * checked, so a syntax error is reported even after the key. */
int cm_aws_ini_get(const char *fname, const char *text, size_t len, const char *section,
                   const char *key, char *out, size_t out_size, char *err, size_t err_size);

/* Endpoint URL for svc: AWS_ENDPOINT_URL_<SERVICE_ID> (service id upper-cased,
 * spaces to '_': AWS_ENDPOINT_URL_CLOUDWATCH_LOGS), then AWS_ENDPOINT_URL,
 * both ignored when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true; else
 * https://<prefix>.<region>.amazonaws.com (.amazonaws.com.cn for cn-*).
 * API Gateway management has no regional default (it lives under an API id):
 * callers pass the endpoint. 0, CM_EINVAL (no region for the default),
 * CM_ETOOBIG. */
int cm_aws_endpoint_resolve(const struct cm_aws_service *svc, const char *region, char *out,
                            size_t out_size);

/* "AWS_ENDPOINT_URL_" + id upper-cased, spaces to '_'. 0 or CM_ETOOBIG. */
int cm_aws_endpoint_env_name(const struct cm_aws_service *svc, char *out, size_t out_size);

/* ------------------------------------------------------------------ errors and retries */

struct cm_aws_error {
    char code[128];    /* "ThrottlingException", "AWS.SimpleQueueService.NonExistentQueue" */
    char message[512]; /* may be empty */
};

/* Parses an AWS error response. Code sources in order: x-amzn-query-error
 * header (part before ';'), x-amzn-ErrorType header (part before ':'), JSON
 * "__type" (after the last '#', before ':'), JSON "code"/"Code", XML
 * <Error><Code>; message from JSON "message"/"Message"/"errorMessage" or XML
 * <Message> (entities decoded). Header arguments may be NULL; body need not
 * be NUL terminated. Returns 0 when a code was found, else CM_ENOTFOUND with
 * code "Unknown" and a message naming the status. */
int cm_aws_error_parse(long status, const char *errortype_hdr, size_t errortype_len,
                       const char *query_error_hdr, size_t query_error_len, const char *body,
                       size_t body_len, struct cm_aws_error *out);

/* 1 for throttling error codes (ThrottlingException, TooManyRequestsException,
 * ProvisionedThroughputExceededException, RequestLimitExceeded, ...). */
int cm_aws_is_throttle(const char *code);
/* 1 when a failed attempt should be retried: curl transport errors
 * (connect, send/receive, timeout, empty reply), HTTP 429, 500, 502, 503,
 * 504, throttling codes and transient codes (RequestTimeout, InternalError,
 * ServiceUnavailable...). curl_code CURLE_OK means an HTTP response arrived. */
int cm_aws_is_retryable(CURLcode curl_code, long status, const char *code);

/* Full-jitter backoff: rand01 * min(cap_ns, base_ns * 2^(attempt-1)), where
 * attempt >= 1 counts the failed attempts so far and rand01 is in [0, 1)
 * (clamped). Never negative, never above cap_ns; no overflow for any attempt. */
int64_t cm_aws_backoff_ns(int attempt, double rand01, int64_t base_ns, int64_t cap_ns);

/* ------------------------------------------------------------------ client */

struct cm_aws_client_opts {
    const struct cm_aws_service *service; /* required */
    const char *region;                   /* NULL: cm_aws_region_load() */
    const char *endpoint;                 /* NULL: cm_aws_endpoint_resolve() */
    const struct cm_sigv4_creds *creds;   /* NULL: cm_aws_creds_load(); copied */
    int max_attempts;                     /* 0: 3 (first try included), at most 20 */
    int64_t base_backoff_ns;              /* 0: 50 ms */
    int64_t max_backoff_ns;               /* 0: 20 s */
    long timeout_ms;                      /* per attempt; 0: 30000 */
    size_t max_response_bytes;            /* 0: 16 MiB; more fails the attempt */
    uint64_t seed;                        /* jitter PRNG seed; 0: from the clock */
};

struct cm_aws_client;
struct cm_aws_req;

/* Creates a client; the options are copied. 0, or an error from the
 * credentials/region/endpoint steps (err gets a one-line reason). Free with
 * cm_aws_client_free (NULL ok) after freeing all its requests. The client's
 * requests share one connection cache (kept alive between requests, also
 * inside a multi handle). */
int cm_aws_client_new(const struct cm_aws_client_opts *o, struct cm_aws_client **out, char *err,
                      size_t err_size);
void cm_aws_client_free(struct cm_aws_client *c);
const char *cm_aws_client_endpoint(const struct cm_aws_client *c);
const char *cm_aws_client_region(const struct cm_aws_client *c);
/* Next value in [0, 1) of the client's jitter PRNG (xorshift). */
double cm_aws_client_rand01(struct cm_aws_client *c);

/* A JSON-protocol call: POST <endpoint path or />, X-Amz-Target:
 * <target_prefix>.<operation>, the service's content type, body copied.
 * 0, CM_EINVAL (not a JSON service, bad operation), CM_ETOOBIG. Free with
 * cm_aws_req_free. */
int cm_aws_req_json(struct cm_aws_client *c, const char *operation, const char *body, size_t len,
                    struct cm_aws_req **out);

/* A REST call: method, wire path (percent-encoded; appended to the
 * endpoint's path), query (encoded, no '?', may be NULL), extra headers
 * (copied; signed unless User-Agent/Expect/X-Amzn-Trace-Id), body (copied,
 * may be NULL) and content type (NULL: none is sent). */
int cm_aws_req_rest(struct cm_aws_client *c, const char *method, const char *path,
                    const char *query, const struct cm_sigv4_header *headers, size_t n_headers,
                    const void *body, size_t len, const char *content_type,
                    struct cm_aws_req **out);
void cm_aws_req_free(struct cm_aws_req *r);

/* Signs the request at now_s and (re)configures its easy handle: URL, exact
 * header list (Host set explicitly, Expect and default Content-Type
 * suppressed so libcurl sends what was signed), body, callbacks, timeout.
 * Clears the previous response. 0 or a cm_sigv4 error. */
int cm_aws_req_sign(struct cm_aws_req *r, int64_t now_s);
/* The easy handle (CURLINFO_PRIVATE is r). Owned by r. */
CURL *cm_aws_req_easy(struct cm_aws_req *r);
/* The request behind an easy handle from CURLMSG_DONE; NULL if not ours. */
struct cm_aws_req *cm_aws_req_from_easy(CURL *e);

/* Multi integration (the caller owns the multi and its loop):
 *   cm_aws_req_attach(r, multi, now_s)   sign + curl_multi_add_handle
 *   ... on CURLMSG_DONE for cm_aws_req_easy(r):
 *   cm_aws_req_detach(r, multi)          curl_multi_remove_handle
 *   rc = cm_aws_req_finish(r, msg->data.result)
 *   if (rc && cm_aws_req_next_delay(r, cm_aws_client_rand01(c), &ns))
 *       re-attach after ns (the caller's timer)
 * attach/detach: 0 or CM_EIO (curl refused). */
int cm_aws_req_attach(struct cm_aws_req *r, CURLM *multi, int64_t now_s);
int cm_aws_req_detach(struct cm_aws_req *r, CURLM *multi);

/* Records the outcome of an attempt. Returns 0 for HTTP 2xx; CM_EAWS for an
 * HTTP error (cm_aws_req_error has the parsed code); CM_ETOOBIG when the
 * response passed max_response_bytes; CM_ETIMEDOUT, CM_ECONN or CM_EIO for
 * transport failures. */
int cm_aws_req_finish(struct cm_aws_req *r, CURLcode result);
/* After a failed finish: 1 and *delay_ns when the failure is retryable and
 * attempts remain (cm_aws_req_finish counted this one), else 0. */
int cm_aws_req_next_delay(struct cm_aws_req *r, double rand01, int64_t *delay_ns);

/* Blocking convenience for non-hot paths: sign, perform, finish, back off
 * and retry up to max_attempts, sleeping between attempts. Returns like
 * cm_aws_req_finish for the last attempt. */
int cm_aws_perform(struct cm_aws_req *r);

/* Completed response (valid until the request is signed again or freed). */
long cm_aws_req_status(const struct cm_aws_req *r); /* 0 before any HTTP response */
const char *cm_aws_req_body(const struct cm_aws_req *r, size_t *len); /* NUL-terminated */
/* A response header value (first match, case-insensitive, trimmed); NULL if
 * absent. Points into r. */
const char *cm_aws_req_header(const struct cm_aws_req *r, const char *name, size_t *len);
const struct cm_aws_error *cm_aws_req_error(const struct cm_aws_req *r);
int cm_aws_req_attempts(const struct cm_aws_req *r); /* attempts finished so far */
CURLcode cm_aws_req_curl_code(const struct cm_aws_req *r);

#endif
