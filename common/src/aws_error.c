/* aws_error.c: AWS error responses -> (code, message), and the retry policy:
 * which failures are retried and how long to wait. Pure functions over their
 * arguments; no I/O, no clock, no randomness of their own.
 *
 * Error shapes (protocols.md 2.1-2.3):
 *   awsJson:  {"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"..."}
 *             [x-amzn-query-error: AWS.SimpleQueueService.NonExistentQueue;Sender]
 *   restJson: x-amzn-ErrorType: GoneException[:http://...]  {"message":"..."}
 *   awsQuery / S3: <ErrorResponse><Error><Code>..</Code><Message>..</Message></Error>... */
#include "cm/aws.h"

#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"

#include <stdio.h>
#include <string.h>

static void copy_span(char *out, size_t size, const char *p, size_t n)
{
    while (n && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n'))
        n--;
    if (n >= size)
        n = size - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

/* Shape name from a JSON __type: after the last '#', before any ':'. */
static void set_type_code(char *out, size_t size, const char *t)
{
    const char *hash = strrchr(t, '#');
    if (hash)
        t = hash + 1;
    size_t n = strcspn(t, ":");
    copy_span(out, size, t, n);
}

/* Appends XML text with the five predefined entities and numeric ASCII
 * references decoded; anything else is copied. */
static void xml_text(char *out, size_t size, const char *p, size_t n)
{
    static const struct {
        const char *ent;
        char ch;
    } ENT[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    size_t w = 0;
    for (size_t i = 0; i < n && w + 1 < size; i++) {
        char ch = p[i];
        if (ch == '&') {
            for (size_t k = 0; k < sizeof(ENT) / sizeof(ENT[0]); k++) {
                size_t el = strlen(ENT[k].ent);
                if (i + el <= n && memcmp(p + i, ENT[k].ent, el) == 0) {
                    ch = ENT[k].ch;
                    i += el - 1;
                    break;
                }
            }
        }
        out[w++] = ch;
    }
    out[w] = '\0';
}

static const char *find_bytes(const char *hay, size_t n, const char *needle)
{
    size_t nl = strlen(needle);
    for (size_t i = 0; i + nl <= n; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, nl) == 0)
            return hay + i;
    return NULL;
}

/* Text of the first <tag>...</tag> after from (no attributes on the tag). */
static int xml_element(const char *body, size_t n, const char *tag, char *out, size_t size)
{
    char open[40], close[40];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    const char *a = find_bytes(body, n, open);
    if (!a)
        return 0;
    a += strlen(open);
    const char *b = find_bytes(a, n - (size_t)(a - body), close);
    if (!b)
        return 0;
    xml_text(out, size, a, (size_t)(b - a));
    return 1;
}

static void parse_json_body(const char *body, size_t n, struct cm_aws_error *out, int need_code)
{
    cJSON *j = cm_json_parse(body, n);
    if (!j)
        return;
    if (cJSON_IsObject(j)) {
        const char *t = cm_json_str(j, "__type", NULL);
        if (!t)
            t = cm_json_str(j, "code", NULL);
        if (!t)
            t = cm_json_str(j, "Code", NULL);
        if (need_code && t)
            set_type_code(out->code, sizeof(out->code), t);
        const char *m = cm_json_str(j, "message", NULL);
        if (!m)
            m = cm_json_str(j, "Message", NULL);
        if (!m)
            m = cm_json_str(j, "errorMessage", NULL);
        if (m)
            copy_span(out->message, sizeof(out->message), m, strlen(m));
    }
    cJSON_Delete(j);
}

int cm_aws_error_parse(long status, const char *errortype_hdr, size_t errortype_len,
                       const char *query_error_hdr, size_t query_error_len, const char *body,
                       size_t body_len, struct cm_aws_error *out)
{
    out->code[0] = out->message[0] = '\0';
    if (!body)
        body_len = 0;
    if (query_error_hdr && query_error_len) {
        const char *semi = memchr(query_error_hdr, ';', query_error_len);
        copy_span(out->code, sizeof(out->code), query_error_hdr,
                  semi ? (size_t)(semi - query_error_hdr) : query_error_len);
    }
    if (!out->code[0] && errortype_hdr && errortype_len) {
        const char *colon = memchr(errortype_hdr, ':', errortype_len);
        copy_span(out->code, sizeof(out->code), errortype_hdr,
                  colon ? (size_t)(colon - errortype_hdr) : errortype_len);
    }
    size_t i = 0;
    while (i < body_len &&
           (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
        i++;
    if (i < body_len && body[i] == '{') {
        parse_json_body(body, body_len, out, !out->code[0]);
    } else if (i < body_len && body[i] == '<') {
        /* awsQuery wraps <Error> in <ErrorResponse>; S3 uses a bare <Error>. */
        const char *e = find_bytes(body, body_len, "<Error>");
        size_t off = e ? (size_t)(e - body) : 0;
        char code[sizeof(out->code)];
        if (!out->code[0] && xml_element(body + off, body_len - off, "Code", code, sizeof(code)))
            copy_span(out->code, sizeof(out->code), code, strlen(code));
        xml_element(body + off, body_len - off, "Message", out->message, sizeof(out->message));
    }
    if (out->code[0])
        return 0;
    cm_strlcpy(out->code, "Unknown", sizeof(out->code));
    if (!out->message[0])
        snprintf(out->message, sizeof(out->message), "HTTP status %ld", status);
    return CM_ENOTFOUND;
}

static int in_list(const char *code, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(code, list[i]) == 0)
            return 1;
    return 0;
}

/* botocore's standard retry mode lists these throttling codes. */
static const char *const THROTTLE[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "AWS.SimpleQueueService.RequestThrottled",
};

static const char *const TRANSIENT[] = {
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "IDPCommunicationError",
    "EC2ThrottledException",
};

int cm_aws_is_throttle(const char *code)
{
    return code && in_list(code, THROTTLE, sizeof(THROTTLE) / sizeof(THROTTLE[0]));
}

int cm_aws_is_retryable(CURLcode curl_code, long status, const char *code)
{
    switch (curl_code) {
    case CURLE_OK:
        break;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
    if (status == 429 || status == 500 || status == 502 || status == 503 || status == 504)
        return 1;
    if (!code)
        return 0;
    return cm_aws_is_throttle(code) ||
           in_list(code, TRANSIENT, sizeof(TRANSIENT) / sizeof(TRANSIENT[0]));
}

int64_t cm_aws_backoff_ns(int attempt, double rand01, int64_t base_ns, int64_t cap_ns)
{
    if (cap_ns <= 0 || base_ns <= 0 || attempt < 1)
        return 0;
    if (!(rand01 >= 0.0)) /* also catches NaN */
        rand01 = 0.0;
    if (rand01 >= 1.0)
        rand01 = 0x1.fffffffffffffp-1;
    /* ceiling = min(cap, base * 2^(attempt-1)); doubling stops at the cap, so
     * no intermediate exceeds 2 * cap (cap < 2^62 keeps that in range). */
    int64_t ceiling = base_ns < cap_ns ? base_ns : cap_ns;
    for (int i = 1; i < attempt && ceiling < cap_ns; i++)
        ceiling = ceiling > cap_ns / 2 ? cap_ns : ceiling * 2;
    int64_t d = (int64_t)(rand01 * (double)ceiling);
    return d < 0 ? 0 : (d > cap_ns ? cap_ns : d);
}
