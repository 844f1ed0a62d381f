/* aws_test.c: cm_aws configuration (credentials chain over real temp files
 * and environment variables, region, INI syntax, endpoint resolution), error
 * parsing, retry classification, backoff bounds, and request plumbing that
 * needs no server (a refused connection on 127.0.0.1 is retried and then
 * reported). */
#include "harness.h"

#include "cm/aws.h"
#include "cm/err.h"
#include "cm/mem.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char g_dir[256];

static void clear_env(void)
{
    static const char *const VARS[] = {"AWS_ACCESS_KEY_ID",
                                       "AWS_SECRET_ACCESS_KEY",
                                       "AWS_SESSION_TOKEN",
                                       "AWS_PROFILE",
                                       "AWS_DEFAULT_PROFILE",
                                       "AWS_SHARED_CREDENTIALS_FILE",
                                       "AWS_CONFIG_FILE",
                                       "AWS_REGION",
                                       "AWS_DEFAULT_REGION",
                                       "AWS_ENDPOINT_URL",
                                       "AWS_ENDPOINT_URL_SQS",
                                       "AWS_ENDPOINT_URL_DYNAMODB",
                                       "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
                                       "AWS_ENDPOINT_URL_LAMBDA",
                                       "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI",
                                       "AWS_ENDPOINT_URL_CLOUDWATCH",
                                       "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"};
    for (size_t i = 0; i < sizeof(VARS) / sizeof(VARS[0]); i++)
        unsetenv(VARS[i]);
    setenv("HOME", g_dir, 1); /* no ~/.aws of the machine leaks in */
}

static void write_file(const char *name, const char *text, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fputs(text, f);
    fclose(f);
}

static void test_creds_env(void)
{
    struct cm_aws_creds c;
    char err[256] = "";
    clear_env();
    setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "skenv", 1);
    setenv("AWS_SESSION_TOKEN", "tokenv", 1);
    CHECK_INT(cm_aws_creds_load(&c, err, sizeof(err)), 0);
    CHECK_STR(c.access_key_id, "AKENV");
    CHECK_STR(c.secret_access_key, "skenv");
    CHECK_STR(c.session_token, "tokenv");
    CHECK_STR(c.source, "environment");
    struct cm_sigv4_creds v = cm_aws_creds_view(&c);
    CHECK_STR(v.access_key_id, "AKENV");
    cm_aws_creds_deinit(&c);
    cm_aws_creds_deinit(&c); /* idempotent */
    unsetenv("AWS_SECRET_ACCESS_KEY");
    CHECK_INT(cm_aws_creds_load(&c, err, sizeof(err)), CM_EINVAL);
    CHECK(strstr(err, "AWS_SECRET_ACCESS_KEY") != NULL);
    cm_aws_creds_deinit(&c);
}

static void test_creds_files(void)
{
    struct cm_aws_creds c;
    char err[512] = "", cpath[512], gpath[512];
    clear_env();
    /* Nothing anywhere: a clear message naming the profile. */
    CHECK_INT(cm_aws_creds_load(&c, err, sizeof(err)), CM_ENOTFOUND);
    CHECK(strstr(err, "profile 'default'") != NULL);
    cm_aws_creds_deinit(&c);

    write_file("credentials",
               "# comment\n"
               "[default]\n"
               "aws_access_key_id = AKDEF\n"
               "aws_secret_access_key=skdef\n"
               "\n"
               "[dev]\n"
               "; another comment\n"
               "AWS_ACCESS_KEY_ID : AKDEV\r\n"
               "aws_secret_access_key = skdev  \n"
               "aws_session_token = tokdev\n"
               "s3 =\n"
               "    max_concurrent_requests = 20\n",
               cpath, sizeof(cpath));
    write_file("config",
               "[default]\n"
               "region = eu-west-1\n"
               "[profile cfgonly]\n"
               "aws_access_key_id = AKCFG\n"
               "aws_secret_access_key = skcfg\n"
               "region = ap-south-1\n"
               "[cfgonly]\n"
               "region = wrong-section\n",
               gpath, sizeof(gpath));
    setenv("AWS_SHARED_CREDENTIALS_FILE", cpath, 1);
    setenv("AWS_CONFIG_FILE", gpath, 1);
    CHECK_INT(cm_aws_creds_load(&c, err, sizeof(err)), 0);
    CHECK_STR(c.access_key_id, "AKDEF");
    CHECK(c.session_token == NULL);
    CHECK_STR(c.source, "shared credentials file");
    cm_aws_creds_deinit(&c);

    setenv("AWS_PROFILE", "dev", 1);
    CHECK_INT(cm_aws_creds_load(&c, err, sizeof(err)), 0);
    CHECK_STR(c.access_key_id, "AKDEV");
    CHECK_STR(c.secret_access_key, "skdev");
    CHECK_STR(c.session_token, "tokdev");
    cm_aws_creds_deinit(&c);

    /* Not in the credentials file: the config file's [profile name]. */
    setenv("AWS_PROFILE", "cfgonly", 1);
    CHECK_INT(cm_aws_creds_load(&c, err, sizeof(err)), 0);
    CHECK_STR(c.access_key_id, "AKCFG");
    CHECK_STR(c.source, "config file");
    cm_aws_creds_deinit(&c);
    char region[64];
    CHECK_INT(cm_aws_region_load(region, sizeof(region), err, sizeof(err)), 0);
    CHECK_STR(region, "ap-south-1");

    /* Environment beats files; AWS_REGION beats AWS_DEFAULT_REGION beats config. */
    setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "skenv", 1);
    CHECK_INT(cm_aws_creds_load(&c, err, sizeof(err)), 0);
    CHECK_STR(c.access_key_id, "AKENV");
    cm_aws_creds_deinit(&c);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_PROFILE");
    CHECK_INT(cm_aws_region_load(region, sizeof(region), err, sizeof(err)), 0);
    CHECK_STR(region, "eu-west-1");
    setenv("AWS_DEFAULT_REGION", "us-west-2", 1);
    CHECK_INT(cm_aws_region_load(region, sizeof(region), err, sizeof(err)), 0);
    CHECK_STR(region, "us-west-2");
    setenv("AWS_REGION", "us-east-2", 1);
    CHECK_INT(cm_aws_region_load(region, sizeof(region), err, sizeof(err)), 0);
    CHECK_STR(region, "us-east-2");
    char tiny[4];
    CHECK_INT(cm_aws_region_load(tiny, sizeof(tiny), err, sizeof(err)), CM_ETOOBIG);

    /* A missing profile falls through to "not found". */
    setenv("AWS_PROFILE", "nosuch", 1);
    CHECK_INT(cm_aws_creds_load(&c, err, sizeof(err)), CM_ENOTFOUND);
    CHECK(strstr(err, "nosuch") != NULL);
    cm_aws_creds_deinit(&c);

    /* Key without secret in the profile. */
    write_file("half", "[default]\naws_access_key_id = AKHALF\n", cpath, sizeof(cpath));
    setenv("AWS_SHARED_CREDENTIALS_FILE", cpath, 1);
    unsetenv("AWS_PROFILE");
    CHECK_INT(cm_aws_creds_load(&c, err, sizeof(err)), CM_EINVAL);
    CHECK(strstr(err, "aws_secret_access_key") != NULL);
    cm_aws_creds_deinit(&c);

    /* A syntax error names file:line:col. */
    write_file("bad", "[default]\naws_access_key_id = AK\nthis is not ini\n", cpath, sizeof(cpath));
    setenv("AWS_SHARED_CREDENTIALS_FILE", cpath, 1);
    CHECK_INT(cm_aws_creds_load(&c, err, sizeof(err)), CM_EPARSE);
    char want[600];
    snprintf(want, sizeof(want), "%s:3:1: expected '[section]' or 'key = value'", cpath);
    CHECK_STR(err, want);
    cm_aws_creds_deinit(&c);

    /* "~/" in the variable expands to $HOME. */
    write_file("tilde", "[default]\naws_access_key_id=AKT\naws_secret_access_key=skt\n", cpath,
               sizeof(cpath));
    setenv("AWS_SHARED_CREDENTIALS_FILE", "~/tilde", 1);
    CHECK_INT(cm_aws_creds_load(&c, err, sizeof(err)), 0);
    CHECK_STR(c.access_key_id, "AKT");
    cm_aws_creds_deinit(&c);
}

static void test_ini(void)
{
    char out[32], err[256];
    const char *t = "[a]\nk = 1\n[b]\nk = 2\nK = 3\n  nested = x\n[ spaced ]\nx=y=z\n";
    size_t n = strlen(t);
    CHECK_INT(cm_aws_ini_get("f", t, n, "a", "k", out, sizeof(out), err, sizeof(err)), 0);
    CHECK_STR(out, "1");
    CHECK_INT(cm_aws_ini_get("f", t, n, "b", "k", out, sizeof(out), err, sizeof(err)), 0);
    CHECK_STR(out, "3"); /* keys are case-insensitive; the last one wins */
    CHECK_INT(cm_aws_ini_get("f", t, n, "spaced", "x", out, sizeof(out), err, sizeof(err)), 0);
    CHECK_STR(out, "y=z");
    CHECK_INT(cm_aws_ini_get("f", t, n, "b", "nested", out, sizeof(out), err, sizeof(err)),
              CM_ENOTFOUND);
    CHECK_INT(cm_aws_ini_get("f", t, n, "c", "k", out, sizeof(out), err, sizeof(err)),
              CM_ENOTFOUND);
    char small[2];
    CHECK_INT(cm_aws_ini_get("f", t, n, "spaced", "x", small, sizeof(small), err, sizeof(err)),
              CM_ETOOBIG);
    CHECK_INT(cm_aws_ini_get("f", "[a\n", 3, "a", "k", out, sizeof(out), err, sizeof(err)),
              CM_EPARSE);
    CHECK_STR(err, "f:1:1: section header without ']'");
    CHECK_INT(cm_aws_ini_get("f", "  x = 1\n", 8, "a", "k", out, sizeof(out), err, sizeof(err)),
              CM_EPARSE);
    CHECK_STR(err, "f:1:3: indented line outside a key");
    CHECK_INT(cm_aws_ini_get("f", "[a]\n= v\n", 8, "a", "k", out, sizeof(out), err, sizeof(err)),
              CM_EPARSE);
    /* Not NUL terminated: only n bytes count. */
    CHECK_INT(cm_aws_ini_get("f", "[a]\nk=12345", 7, "a", "k", out, sizeof(out), err, sizeof(err)),
              0);
    CHECK_STR(out, "1");
}

static void test_endpoints(void)
{
    char url[256], name[128];
    clear_env();
    CHECK_INT(cm_aws_endpoint_env_name(&cm_aws_dynamodb, name, sizeof(name)), 0);
    CHECK_STR(name, "AWS_ENDPOINT_URL_DYNAMODB");
    CHECK_INT(cm_aws_endpoint_env_name(&cm_aws_sqs, name, sizeof(name)), 0);
    CHECK_STR(name, "AWS_ENDPOINT_URL_SQS");
    CHECK_INT(cm_aws_endpoint_env_name(&cm_aws_logs, name, sizeof(name)), 0);
    CHECK_STR(name, "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS");
    CHECK_INT(cm_aws_endpoint_env_name(&cm_aws_lambda, name, sizeof(name)), 0);
    CHECK_STR(name, "AWS_ENDPOINT_URL_LAMBDA");
    CHECK_INT(cm_aws_endpoint_env_name(&cm_aws_apigw_mgmt, name, sizeof(name)), 0);
    CHECK_STR(name, "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI");
    CHECK_INT(cm_aws_endpoint_env_name(&cm_aws_cloudwatch, name, sizeof(name)), 0);
    CHECK_STR(name, "AWS_ENDPOINT_URL_CLOUDWATCH");
    CHECK_INT(cm_aws_endpoint_env_name(&cm_aws_sqs, name, 10), CM_ETOOBIG);

    CHECK_INT(cm_aws_endpoint_resolve(&cm_aws_sqs, "eu-west-1", url, sizeof(url)), 0);
    CHECK_STR(url, "https://sqs.eu-west-1.amazonaws.com");
    CHECK_INT(cm_aws_endpoint_resolve(&cm_aws_cloudwatch, "us-east-1", url, sizeof(url)), 0);
    CHECK_STR(url, "https://monitoring.us-east-1.amazonaws.com");
    CHECK_INT(cm_aws_endpoint_resolve(&cm_aws_logs, "cn-north-1", url, sizeof(url)), 0);
    CHECK_STR(url, "https://logs.cn-north-1.amazonaws.com.cn");
    CHECK_INT(cm_aws_endpoint_resolve(&cm_aws_sqs, NULL, url, sizeof(url)), CM_EINVAL);
    CHECK_INT(cm_aws_endpoint_resolve(&cm_aws_sqs, "us-east-1", url, 10), CM_ETOOBIG);

    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566/", 1);
    CHECK_INT(cm_aws_endpoint_resolve(&cm_aws_dynamodb, "us-east-1", url, sizeof(url)), 0);
    CHECK_STR(url, "http://127.0.0.1:4566");
    setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000", 1);
    setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "http://127.0.0.1:9000", 1);
    setenv("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", "http://127.0.0.1:9001/prod", 1);
    CHECK_INT(cm_aws_endpoint_resolve(&cm_aws_dynamodb, "us-east-1", url, sizeof(url)), 0);
    CHECK_STR(url, "http://127.0.0.1:8000");
    CHECK_INT(cm_aws_endpoint_resolve(&cm_aws_logs, NULL, url, sizeof(url)), 0);
    CHECK_STR(url, "http://127.0.0.1:9000");
    CHECK_INT(cm_aws_endpoint_resolve(&cm_aws_apigw_mgmt, NULL, url, sizeof(url)), 0);
    CHECK_STR(url, "http://127.0.0.1:9001/prod");
    CHECK_INT(cm_aws_endpoint_resolve(&cm_aws_sqs, NULL, url, sizeof(url)), 0);
    CHECK_STR(url, "http://127.0.0.1:4566"); /* falls back to the global one */
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
    CHECK_INT(cm_aws_endpoint_resolve(&cm_aws_dynamodb, "us-east-1", url, sizeof(url)), 0);
    CHECK_STR(url, "https://dynamodb.us-east-1.amazonaws.com");

    CHECK(cm_aws_service_find("sqs") == &cm_aws_sqs);
    CHECK(cm_aws_service_find("CloudWatch Logs") == &cm_aws_logs);
    CHECK(cm_aws_service_find("logs") == &cm_aws_logs);
    CHECK(cm_aws_service_find("execute-api") == &cm_aws_apigw_mgmt);
    CHECK(cm_aws_service_find("apigatewaymanagementapi") == &cm_aws_apigw_mgmt);
    CHECK(cm_aws_service_find("monitoring") == &cm_aws_cloudwatch);
    CHECK(cm_aws_service_find("s3") == NULL);
    clear_env();
}

static void test_error_parse(void)
{
    struct cm_aws_error e;
    const char *b = "{\"__type\":\"com.amazonaws.dynamodb.v20120810#"
                    "ConditionalCheckFailedException\",\"message\":\"The conditional request "
                    "failed\"}";
    CHECK_INT(cm_aws_error_parse(400, NULL, 0, NULL, 0, b, strlen(b), &e), 0);
    CHECK_STR(e.code, "ConditionalCheckFailedException");
    CHECK_STR(e.message, "The conditional request failed");
    b = "{\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\",\"message\":\"nope\"}";
    const char *qe = "AWS.SimpleQueueService.NonExistentQueue;Sender";
    CHECK_INT(cm_aws_error_parse(400, NULL, 0, qe, strlen(qe), b, strlen(b), &e), 0);
    CHECK_STR(e.code, "AWS.SimpleQueueService.NonExistentQueue");
    CHECK_STR(e.message, "nope");
    const char *et = "GoneException:http://internal.amazon.com/coral/";
    CHECK_INT(cm_aws_error_parse(410, et, strlen(et), NULL, 0, "{}", 2, &e), 0);
    CHECK_STR(e.code, "GoneException");
    b = "{\"Type\":\"User\",\"Message\":\"Function not found: f\"}";
    CHECK_INT(cm_aws_error_parse(404, "ResourceNotFoundException", 25, NULL, 0, b, strlen(b), &e),
              0);
    CHECK_STR(e.code, "ResourceNotFoundException");
    CHECK_STR(e.message, "Function not found: f");
    b = "{\"code\":\"ThrottlingException\"}";
    CHECK_INT(cm_aws_error_parse(400, NULL, 0, NULL, 0, b, strlen(b), &e), 0);
    CHECK_STR(e.code, "ThrottlingException");
    b = "{\"errorType\":\"x\",\"errorMessage\":\"boom\",\"__type\":\"A:B\"}";
    CHECK_INT(cm_aws_error_parse(400, NULL, 0, NULL, 0, b, strlen(b), &e), 0);
    CHECK_STR(e.code, "A");
    CHECK_STR(e.message, "boom");
    b = "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"http://queue.amazonaws.com/doc/"
        "2012-11-05/\"><Error><Type>Sender</Type><Code>AWS.SimpleQueueService."
        "NonExistentQueue</Code><Message>The queue &amp; &lt;q&gt; does not exist.</Message>"
        "<Detail/></Error><RequestId>42</RequestId></ErrorResponse>";
    CHECK_INT(cm_aws_error_parse(400, NULL, 0, NULL, 0, b, strlen(b), &e), 0);
    CHECK_STR(e.code, "AWS.SimpleQueueService.NonExistentQueue");
    CHECK_STR(e.message, "The queue & <q> does not exist.");
    b = "<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>";
    CHECK_INT(cm_aws_error_parse(503, NULL, 0, NULL, 0, b, strlen(b), &e), 0);
    CHECK_STR(e.code, "SlowDown");
    CHECK_INT(cm_aws_error_parse(502, NULL, 0, NULL, 0, "<html>bad gateway", 17, &e), CM_ENOTFOUND);
    CHECK_STR(e.code, "Unknown");
    CHECK_STR(e.message, "HTTP status 502");
    CHECK_INT(cm_aws_error_parse(500, NULL, 0, NULL, 0, NULL, 5, &e), CM_ENOTFOUND);
    CHECK_INT(cm_aws_error_parse(400, NULL, 0, NULL, 0, "{\"__type\":", 10, &e), CM_ENOTFOUND);
    /* Long values are truncated, never overflow. */
    char big[2000];
    memset(big, 'x', sizeof(big));
    memcpy(big, "{\"__type\":\"", 11);
    memcpy(big + sizeof(big) - 2, "\"}", 2);
    CHECK_INT(cm_aws_error_parse(400, NULL, 0, NULL, 0, big, sizeof(big), &e), 0);
    CHECK_INT(strlen(e.code), sizeof(e.code) - 1);
}

static void test_retry_policy(void)
{
    CHECK(cm_aws_is_throttle("ThrottlingException"));
    CHECK(cm_aws_is_throttle("ProvisionedThroughputExceededException"));
    CHECK(cm_aws_is_throttle("TooManyRequestsException"));
    CHECK(cm_aws_is_throttle("RequestLimitExceeded"));
    CHECK(!cm_aws_is_throttle("ValidationException"));
    CHECK(!cm_aws_is_throttle(NULL));
    CHECK(cm_aws_is_retryable(CURLE_OK, 429, NULL));
    CHECK(cm_aws_is_retryable(CURLE_OK, 400, "ThrottlingException"));
    CHECK(cm_aws_is_retryable(CURLE_OK, 500, "InternalServerError"));
    CHECK(cm_aws_is_retryable(CURLE_OK, 503, NULL));
    CHECK(cm_aws_is_retryable(CURLE_OK, 504, "Unknown"));
    CHECK(cm_aws_is_retryable(CURLE_COULDNT_CONNECT, 0, NULL));
    CHECK(cm_aws_is_retryable(CURLE_OPERATION_TIMEDOUT, 0, NULL));
    CHECK(cm_aws_is_retryable(CURLE_GOT_NOTHING, 0, NULL));
    CHECK(!cm_aws_is_retryable(CURLE_OK, 400, "ValidationException"));
    CHECK(!cm_aws_is_retryable(CURLE_OK, 403, "SignatureDoesNotMatch"));
    CHECK(!cm_aws_is_retryable(CURLE_OK, 410, "GoneException"));
    CHECK(!cm_aws_is_retryable(CURLE_URL_MALFORMAT, 0, NULL));
}

static void test_backoff(void)
{
    const int64_t base = 50000000, cap = 20000000000LL;
    CHECK_INT(cm_aws_backoff_ns(1, 0.0, base, cap), 0);
    CHECK_INT(cm_aws_backoff_ns(1, 0.5, base, cap), base / 2);
    CHECK_INT(cm_aws_backoff_ns(3, 0.5, base, cap), 2 * base);
    CHECK_INT(cm_aws_backoff_ns(0, 0.5, base, cap), 0);
    CHECK_INT(cm_aws_backoff_ns(2, 0.5, 0, cap), 0);
    const double rs[] = {0.0, 1e-9, 0.25, 0.5, 0.999999999, 1.0, 7.0, -3.0, 0.0 / 0.0};
    int monotone = 1, bounded = 1;
    for (int a = 1; a <= 200; a++) {
        int64_t ceiling = base;
        for (int i = 1; i < a && ceiling < cap; i++)
            ceiling = ceiling * 2 > cap ? cap : ceiling * 2;
        int64_t prev = -1;
        for (size_t i = 0; i < sizeof(rs) / sizeof(rs[0]); i++) {
            int64_t d = cm_aws_backoff_ns(a, rs[i], base, cap);
            if (d < 0 || d > ceiling || d > cap)
                bounded = 0;
            if (i < 6 && d < prev)
                monotone = 0;
            if (i < 6)
                prev = d;
        }
        CHECK_MSG(cm_aws_backoff_ns(a, 0.999999999, base, cap) >= ceiling * 0.999,
                  "attempt %d reaches its ceiling", a);
    }
    CHECK(bounded);
    CHECK(monotone);
    int64_t huge = cm_aws_backoff_ns(1000000, 0.5, INT64_MAX / 2, INT64_MAX / 4);
    CHECK(huge >= INT64_MAX / 8 - 4096 && huge <= INT64_MAX / 4);
    CHECK(cm_aws_backoff_ns(62, 1.0, 1, INT64_MAX) <= INT64_MAX);
}

/* A port on 127.0.0.1 that refuses connections: bound, then closed. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
        getsockname(fd, (struct sockaddr *)&a, &len))
        abort();
    close(fd);
    return ntohs(a.sin_port);
}

static void test_client(void)
{
    clear_env();
    char err[256] = "", ep[64];
    struct cm_aws_client *c = NULL;
    struct cm_sigv4_creds cr = {"AK", "SK", NULL};
    struct cm_aws_client_opts o = {.service = &cm_aws_sqs,
                                   .region = "us-east-1",
                                   .endpoint = "HTTP://LocalHost:80/Stage/",
                                   .creds = &cr};
    CHECK_INT(cm_aws_client_new(&o, &c, err, sizeof(err)), 0);
    CHECK_STR(cm_aws_client_endpoint(c), "HTTP://LocalHost:80/Stage/");
    CHECK_STR(cm_aws_client_region(c), "us-east-1");
    double r = cm_aws_client_rand01(c);
    CHECK(r >= 0.0 && r < 1.0);
    struct cm_aws_req *q = NULL;
    CHECK_INT(cm_aws_req_json(c, "SendMessage", "{}", 2, &q), 0);
    CHECK_INT(cm_aws_req_sign(q, 1440938160), 0);
    CHECK(cm_aws_req_from_easy(cm_aws_req_easy(q)) == q);
    CHECK_INT(cm_aws_req_status(q), 0);
    cm_aws_req_free(q);
    CHECK_INT(cm_aws_req_json(c, "Bad\nOp", "{}", 2, &q), CM_EINVAL);
    CHECK(q == NULL);
    CHECK_INT(cm_aws_req_rest(c, "GET", "no-slash", NULL, NULL, 0, NULL, 0, NULL, &q), CM_EINVAL);
    struct cm_sigv4_header bad = CM_SIGV4_HEADER("X-A", "v\r\nInjected: 1");
    CHECK_INT(cm_aws_req_rest(c, "GET", "/", NULL, &bad, 1, NULL, 0, NULL, &q), CM_EINVAL);
    cm_aws_client_free(c);
    cm_aws_client_free(NULL);

    /* REST on a JSON-only helper is refused the other way round too. */
    o.service = &cm_aws_lambda;
    CHECK_INT(cm_aws_client_new(&o, &c, err, sizeof(err)), 0);
    CHECK_INT(cm_aws_req_json(c, "Invoke", "{}", 2, &q), CM_EINVAL);
    cm_aws_client_free(c);

    o.endpoint = "not a url";
    CHECK_INT(cm_aws_client_new(&o, &c, err, sizeof(err)), CM_EINVAL);
    CHECK(strstr(err, "not a URL") != NULL);
    o.endpoint = NULL;
    o.region = NULL;
    CHECK_INT(cm_aws_client_new(&o, &c, err, sizeof(err)), CM_ENOTFOUND);
    CHECK(strstr(err, "no AWS region") != NULL);

    /* Connection refused: retried max_attempts times, then CM_ECONN. */
    snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", closed_port());
    struct cm_aws_client_opts o2 = {.service = &cm_aws_dynamodb,
                                    .region = "us-east-1",
                                    .endpoint = ep,
                                    .creds = &cr,
                                    .max_attempts = 3,
                                    .base_backoff_ns = 1000000,
                                    .max_backoff_ns = 5000000,
                                    .timeout_ms = 5000,
                                    .seed = 42};
    CHECK_INT(cm_aws_client_new(&o2, &c, err, sizeof(err)), 0);
    CHECK_INT(cm_aws_req_json(c, "PutItem", "{\"TableName\":\"t\"}", 16, &q), 0);
    CHECK_INT(cm_aws_perform(q), CM_ECONN);
    CHECK_INT(cm_aws_req_attempts(q), 3);
    CHECK_INT(cm_aws_req_curl_code(q), CURLE_COULDNT_CONNECT);
    CHECK_STR(cm_aws_req_error(q)->code, "TransportError");
    cm_aws_req_free(q);
    cm_aws_client_free(c);
}

int main(void)
{
    snprintf(g_dir, sizeof(g_dir), "/tmp/cm_aws_test.XXXXXX");
    if (!mkdtemp(g_dir))
        return 2;
    test_creds_env();
    test_creds_files();
    test_ini();
    test_endpoints();
    test_error_parse();
    test_retry_policy();
    test_backoff();
    test_client();
    const char *files[] = {"credentials", "config", "half", "bad", "tilde"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", g_dir, files[i]);
        unlink(p);
    }
    rmdir(g_dir);
    return TEST_REPORT();
}
