/* Unit tests for the HTTP/1.1 request parser (sd_http.c). */
#include "harness.h"
#include "sd_http.h"

#include "cm/err.h"

#include <stdlib.h>
#include <string.h>

static const struct sd_http_limits lim = {10240, 1024};

/* Parses a copy of s (the parser writes into its buffer). */
static int parse(const char *s, struct sd_req *req, struct sd_http_info *info, char **keep)
{
    size_t n = strlen(s);
    char *b = malloc(n + 1);
    memcpy(b, s, n + 1);
    *keep = b;
    return sd_http_parse(b, n, &lim, req, info);
}

static void test_simple_get(void)
{
    struct sd_req r;
    struct sd_http_info in;
    char *b;
    const char *s = "GET /orders/42?x=1&y=2 HTTP/1.1\r\nHost: a\r\nUser-Agent:  curl/8 \r\n\r\n";
    CHECK_INT(parse(s, &r, &in, &b), SD_HTTP_DONE);
    CHECK_STR(r.method, "GET");
    CHECK_STR(r.path, "/orders/42");
    CHECK_STR(r.query, "x=1&y=2");
    CHECK_INT(r.n_headers, 2);
    size_t n;
    const char *ua = sd_req_header(&r, "user-agent", &n);
    CHECK(ua && n == 6 && memcmp(ua, "curl/8", 6) == 0);
    CHECK_INT(in.consumed, strlen(s));
    CHECK_INT(in.keep_alive, 1);
    CHECK_INT(r.body_len, 0);
    free(b);
}

static void test_content_length_and_pipelining(void)
{
    struct sd_req r;
    struct sd_http_info in;
    char *b;
    const char *s = "POST /a HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\n\r\n";
    CHECK_INT(parse(s, &r, &in, &b), SD_HTTP_DONE);
    CHECK_INT(r.body_len, 5);
    CHECK(memcmp(r.body, "hello", 5) == 0);
    CHECK_STR(b + in.consumed, "GET /b HTTP/1.1\r\n\r\n");
    free(b);
}

static void test_incomplete(void)
{
    struct sd_req r;
    struct sd_http_info in;
    char *b;
    CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\n", &r, &in, &b), SD_HTTP_NEED_MORE);
    free(b);
    CHECK_INT(parse("POST / HTTP/1.1\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\nab", &r,
                    &in, &b),
              SD_HTTP_NEED_MORE);
    CHECK_INT(in.head_done, 1);
    CHECK_INT(in.expect_continue, 1);
    CHECK_INT(in.need_total, strlen(b) - 2 + 10);
    free(b);
}

static void test_chunked(void)
{
    struct sd_req r;
    struct sd_http_info in;
    char *b;
    const char *s = "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
    CHECK_INT(parse(s, &r, &in, &b), SD_HTTP_DONE);
    CHECK_INT(r.body_len, 11);
    CHECK(memcmp(r.body, "hello world", 11) == 0);
    CHECK_STR(b + in.consumed, "NEXT");
    free(b);
    CHECK_INT(parse("POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", &r, &in, &b),
              SD_HTTP_NEED_MORE);
    free(b);
    CHECK_INT(parse("POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", &r, &in, &b),
              CM_EPARSE);
    CHECK_INT(in.error_status, 400);
    free(b);
}

static void test_limits_and_errors(void)
{
    struct sd_req r;
    struct sd_http_info in;
    char *b;
    CHECK_INT(parse("POST / HTTP/1.1\r\nContent-Length: 2000\r\n\r\n", &r, &in, &b), CM_ETOOBIG);
    CHECK_INT(in.error_status, 413);
    free(b);
    CHECK_INT(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n", &r, &in, &b),
              CM_ETOOBIG);
    CHECK_INT(in.error_status, 413);
    free(b);
    CHECK_INT(parse("GARBAGE\r\n\r\n", &r, &in, &b), CM_EPARSE);
    CHECK_INT(in.error_status, 400);
    free(b);
    CHECK_INT(parse("GET / HTTP/2.0\r\n\r\n", &r, &in, &b), CM_EPARSE);
    free(b);
    CHECK_INT(parse("GET / HTTP/1.1\r\n folded\r\n\r\n", &r, &in, &b), CM_EPARSE);
    free(b);
    CHECK_INT(
        parse("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", &r, &in, &b),
        CM_EPARSE);
    free(b);
    CHECK_INT(parse("POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                    &r, &in, &b),
              CM_EPARSE);
    free(b);
    CHECK_INT(parse("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", &r, &in, &b), CM_EPARSE);
    CHECK_INT(in.error_status, 501);
    free(b);
    /* Head larger than max_head_bytes: 431. */
    char big[12000];
    memset(big, 'a', sizeof(big));
    memcpy(big, "GET /", 5);
    big[sizeof(big) - 1] = '\0';
    CHECK_INT(parse(big, &r, &in, &b), CM_ETOOBIG);
    CHECK_INT(in.error_status, 431);
    free(b);
}

static void test_connection_semantics(void)
{
    struct sd_req r;
    struct sd_http_info in;
    char *b;
    CHECK_INT(parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &r, &in, &b), SD_HTTP_DONE);
    CHECK_INT(in.keep_alive, 0);
    free(b);
    CHECK_INT(parse("GET / HTTP/1.0\r\n\r\n", &r, &in, &b), SD_HTTP_DONE);
    CHECK_INT(in.keep_alive, 0);
    free(b);
    CHECK_INT(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r, &in, &b), SD_HTTP_DONE);
    CHECK_INT(in.keep_alive, 1);
    free(b);
    /* Bare LF line endings are accepted. */
    CHECK_INT(parse("GET /lf HTTP/1.1\nHost: x\n\n", &r, &in, &b), SD_HTTP_DONE);
    CHECK_STR(r.path, "/lf");
    free(b);
}

static void test_resp_helpers(void)
{
    struct sd_resp r;
    sd_resp_init(&r);
    sd_resp_header(&r, "X-A", "1");
    sd_resp_header(&r, "X-Bad", "a\r\nInjected: 1");
    CHECK_STR(cm_buf_cstr(&r.headers), "X-A: 1\r\n");
    sd_resp_deinit(&r);
    CHECK_STR(sd_http_reason(429), "Too Many Requests");
}

int main(void)
{
    test_simple_get();
    test_content_length_and_pipelining();
    test_incomplete();
    test_chunked();
    test_limits_and_errors();
    test_connection_semantics();
    test_resp_helpers();
    return TEST_REPORT();
}
