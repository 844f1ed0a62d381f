/* aws_config.c: where cm_aws gets its configuration: the service table,
 * the credentials chain (environment, shared credentials file, config file),
 * the region and endpoint resolution (AWS_ENDPOINT_URL[_<SERVICE>]). Reads
 * the environment and files; sends nothing. The file syntax is the AWS
 * shared config INI dialect as botocore's ConfigParser reads it. */
#include "cm/aws.h"

#include "cm/err.h"
#include "cm/mem.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_FILE_BYTES (1 << 20)

const struct cm_aws_service cm_aws_sqs = {
    "SQS", "sqs", "sqs", CM_AWS_PROTO_JSON, "AmazonSQS", "application/x-amz-json-1.0", 1};
const struct cm_aws_service cm_aws_dynamodb = {"DynamoDB",
                                               "dynamodb",
                                               "dynamodb",
                                               CM_AWS_PROTO_JSON,
                                               "DynamoDB_20120810",
                                               "application/x-amz-json-1.0",
                                               0};
const struct cm_aws_service cm_aws_logs = {"CloudWatch Logs",
                                           "logs",
                                           "logs",
                                           CM_AWS_PROTO_JSON,
                                           "Logs_20140328",
                                           "application/x-amz-json-1.1",
                                           0};
const struct cm_aws_service cm_aws_cloudwatch = {"CloudWatch",
                                                 "monitoring",
                                                 "monitoring",
                                                 CM_AWS_PROTO_JSON,
                                                 "GraniteServiceVersion20100801",
                                                 "application/x-amz-json-1.0",
                                                 1};
const struct cm_aws_service cm_aws_lambda = {"Lambda", "lambda", "lambda", CM_AWS_PROTO_REST_JSON,
                                             NULL,     NULL,     0};
const struct cm_aws_service cm_aws_apigw_mgmt = {
    "ApiGatewayManagementApi", "execute-api", "execute-api", CM_AWS_PROTO_REST_JSON, NULL, NULL, 0};

static const struct cm_aws_service *const SERVICES[] = {
    &cm_aws_sqs,        &cm_aws_dynamodb, &cm_aws_logs,
    &cm_aws_cloudwatch, &cm_aws_lambda,   &cm_aws_apigw_mgmt,
};

const struct cm_aws_service *cm_aws_service_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof(SERVICES) / sizeof(SERVICES[0]); i++) {
        const struct cm_aws_service *s = SERVICES[i];
        if (strcasecmp(name, s->service_id) == 0 || strcmp(name, s->signing_name) == 0 ||
            strcmp(name, s->endpoint_prefix) == 0)
            return s;
    }
    if (strcasecmp(name, "apigatewaymanagementapi") == 0)
        return &cm_aws_apigw_mgmt;
    if (strcasecmp(name, "cloudwatch_logs") == 0 || strcasecmp(name, "cloudwatch-logs") == 0)
        return &cm_aws_logs;
    return NULL;
}

/* ------------------------------------------------------------------ helpers */

static void set_err(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t size, const char *fmt, ...)
{
    if (!err || !size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* Path from an environment variable or the default under $HOME; "~/"
 * expands to $HOME. CM_ETOOBIG when it does not fit. */
static int file_path(const char *var, const char *home_rel, char *out, size_t size)
{
    const char *p = env(var), *home = env("HOME");
    int n;
    if (p && p[0] == '~' && p[1] == '/' && home)
        n = snprintf(out, size, "%s%s", home, p + 1);
    else if (p)
        n = snprintf(out, size, "%s", p);
    else
        n = snprintf(out, size, "%s/%s", home ? home : "", home_rel);
    return n < 0 || (size_t)n >= size ? CM_ETOOBIG : 0;
}

/* Reads a whole file (bounded). CM_ENOTFOUND when it does not exist. */
static int read_file(const char *path, char **out, size_t *len, char *err, size_t err_size)
{
    int rc = 0;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        rc = errno == ENOENT ? CM_ENOTFOUND : cm_err_from_errno(errno);
        if (rc != CM_ENOTFOUND)
            set_err(err, err_size, "%s: %s", path, strerror(errno));
        goto out;
    }
    buf = cm_xmalloc(MAX_FILE_BYTES + 1);
    size_t n = fread(buf, 1, MAX_FILE_BYTES + 1, f);
    if (ferror(f)) {
        set_err(err, err_size, "%s: read error", path);
        rc = CM_EIO;
        goto out;
    }
    if (n > MAX_FILE_BYTES) {
        set_err(err, err_size, "%s: larger than %d bytes", path, MAX_FILE_BYTES);
        rc = CM_ETOOBIG;
        goto out;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    if (f)
        fclose(f);
    return rc;
}

/* ------------------------------------------------------------------ INI */

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v';
}

static void trim_span(const char **p, size_t *n)
{
    while (*n && is_blank(**p))
        (*p)++, (*n)--;
    while (*n && is_blank((*p)[*n - 1]))
        (*n)--;
}

/* Section header "[ name ]": 1 and the trimmed name, 0 when not a header,
 * CM_EPARSE when '[' has no closing ']'. */
static int parse_section(const char *p, size_t n, const char **name, size_t *nlen)
{
    if (!n || p[0] != '[')
        return 0;
    const char *close = memchr(p, ']', n);
    if (!close)
        return CM_EPARSE;
    *name = p + 1;
    *nlen = (size_t)(close - p - 1);
    trim_span(name, nlen);
    return 1;
}

int cm_aws_ini_get(const char *fname, const char *text, size_t len, const char *section,
                   const char *key, char *out, size_t out_size, char *err, size_t err_size)
{
    int rc = CM_ENOTFOUND, in_section = 0, have_key = 0;
    size_t seclen = strlen(section), keylen = strlen(key), lineno = 0;
    for (size_t s = 0; s < len;) {
        size_t e = s;
        while (e < len && text[e] != '\n')
            e++;
        lineno++;
        const char *line = text + s;
        size_t n = e - s;
        s = e + 1;
        if (n && line[n - 1] == '\r')
            n--;
        size_t ind = 0;
        while (ind < n && is_blank(line[ind]))
            ind++;
        if (ind == n || line[ind] == '#' || line[ind] == ';')
            continue;
        if (ind > 0) { /* continuation of a nested value, e.g. "s3 =\n  addressing_style = ..." */
            if (!have_key) {
                set_err(err, err_size, "%s:%zu:%zu: indented line outside a key", fname, lineno,
                        ind + 1);
                return CM_EPARSE;
            }
            continue;
        }
        const char *name;
        size_t nlen;
        int sec = parse_section(line, n, &name, &nlen);
        if (sec < 0) {
            set_err(err, err_size, "%s:%zu:1: section header without ']'", fname, lineno);
            return CM_EPARSE;
        }
        if (sec) {
            in_section = nlen == seclen && memcmp(name, section, seclen) == 0;
            have_key = 0;
            continue;
        }
        size_t d = 0;
        while (d < n && line[d] != '=' && line[d] != ':')
            d++;
        if (d == n || d == 0) {
            set_err(err, err_size, "%s:%zu:1: expected '[section]' or 'key = value'", fname,
                    lineno);
            return CM_EPARSE;
        }
        have_key = 1;
        const char *k = line, *v = line + d + 1;
        size_t kl = d, vl = n - d - 1;
        trim_span(&k, &kl);
        trim_span(&v, &vl);
        if (!in_section || kl != keylen || strncasecmp(k, key, kl) != 0)
            continue;
        if (vl >= out_size) {
            set_err(err, err_size, "%s:%zu:%zu: value of '%s' longer than %zu bytes", fname, lineno,
                    d + 2, key, out_size - 1);
            return CM_ETOOBIG;
        }
        memcpy(out, v, vl);
        out[vl] = '\0';
        rc = 0; /* keep going: the last assignment wins, and syntax errors count */
    }
    return rc;
}

/* Looks key up in one profile of one file; file missing = not found. */
static int profile_get(const char *var, const char *home_rel, int config_style, const char *key,
                       char *out, size_t size, char *err, size_t err_size)
{
    char path[4096], section[300];
    char *text = NULL;
    size_t len = 0;
    const char *prof = cm_aws_profile();
    int rc = file_path(var, home_rel, path, sizeof(path));
    if (rc)
        goto out;
    if (config_style && strcmp(prof, "default") != 0)
        snprintf(section, sizeof(section), "profile %s", prof);
    else
        snprintf(section, sizeof(section), "%s", prof);
    if ((rc = read_file(path, &text, &len, err, err_size)))
        goto out;
    rc = cm_aws_ini_get(path, text, len, section, key, out, size, err, err_size);
    if (rc == CM_ENOTFOUND && config_style && strcmp(prof, "default") == 0)
        rc = cm_aws_ini_get(path, text, len, "profile default", key, out, size, err, err_size);
out:
    free(text);
    return rc;
}

/* ------------------------------------------------------------------ credentials */

const char *cm_aws_profile(void)
{
    const char *p = env("AWS_PROFILE");
    if (!p)
        p = env("AWS_DEFAULT_PROFILE");
    return p ? p : "default";
}

void cm_aws_creds_deinit(struct cm_aws_creds *c)
{
    if (!c)
        return;
    if (c->secret_access_key)
        memset(c->secret_access_key, 0, strlen(c->secret_access_key));
    free(c->access_key_id);
    free(c->secret_access_key);
    free(c->session_token);
    c->access_key_id = c->secret_access_key = c->session_token = NULL;
}

struct cm_sigv4_creds cm_aws_creds_view(const struct cm_aws_creds *c)
{
    struct cm_sigv4_creds v = {c->access_key_id, c->secret_access_key, c->session_token};
    return v;
}

static int creds_from_file(struct cm_aws_creds *out, const char *var, const char *home_rel,
                           int config_style, const char *source, char *err, size_t err_size)
{
    char ak[256], sk[256], tok[4096];
    int rc = profile_get(var, home_rel, config_style, "aws_access_key_id", ak, sizeof(ak), err,
                         err_size);
    if (rc)
        return rc;
    rc = profile_get(var, home_rel, config_style, "aws_secret_access_key", sk, sizeof(sk), err,
                     err_size);
    if (rc == CM_ENOTFOUND) {
        set_err(err, err_size,
                "profile '%s' in the %s has aws_access_key_id but no "
                "aws_secret_access_key",
                cm_aws_profile(), source);
        return CM_EINVAL;
    }
    if (rc)
        return rc;
    rc = profile_get(var, home_rel, config_style, "aws_session_token", tok, sizeof(tok), err,
                     err_size);
    if (rc && rc != CM_ENOTFOUND)
        return rc;
    out->access_key_id = cm_xstrdup(ak);
    out->secret_access_key = cm_xstrdup(sk);
    out->session_token = rc == 0 && tok[0] ? cm_xstrdup(tok) : NULL;
    cm_strlcpy(out->source, source, sizeof(out->source));
    memset(sk, 0, sizeof(sk));
    return 0;
}

int cm_aws_creds_load(struct cm_aws_creds *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof(*out));
    const char *ak = env("AWS_ACCESS_KEY_ID"), *sk = env("AWS_SECRET_ACCESS_KEY");
    if (ak && sk) {
        out->access_key_id = cm_xstrdup(ak);
        out->secret_access_key = cm_xstrdup(sk);
        const char *tok = env("AWS_SESSION_TOKEN");
        out->session_token = tok ? cm_xstrdup(tok) : NULL;
        cm_strlcpy(out->source, "environment", sizeof(out->source));
        return 0;
    }
    if (ak || sk) {
        set_err(err, err_size, "%s is set but %s is not",
                ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
        return CM_EINVAL;
    }
    int rc = creds_from_file(out, "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials", 0,
                             "shared credentials file", err, err_size);
    if (rc != CM_ENOTFOUND)
        return rc;
    rc = creds_from_file(out, "AWS_CONFIG_FILE", ".aws/config", 1, "config file", err, err_size);
    if (rc == CM_ENOTFOUND)
        set_err(err, err_size,
                "no AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or add "
                "profile '%s' to ~/.aws/credentials",
                cm_aws_profile());
    return rc;
}

int cm_aws_region_load(char *out, size_t out_size, char *err, size_t err_size)
{
    const char *r = env("AWS_REGION");
    if (!r)
        r = env("AWS_DEFAULT_REGION");
    if (r) {
        if (cm_strlcpy(out, r, out_size) >= out_size)
            return CM_ETOOBIG;
        return 0;
    }
    int rc =
        profile_get("AWS_CONFIG_FILE", ".aws/config", 1, "region", out, out_size, err, err_size);
    if (rc == CM_ENOTFOUND)
        set_err(err, err_size, "no AWS region: set AWS_REGION or region in profile '%s'",
                cm_aws_profile());
    return rc;
}

/* ------------------------------------------------------------------ endpoints */

int cm_aws_endpoint_env_name(const struct cm_aws_service *svc, char *out, size_t out_size)
{
    const char *prefix = "AWS_ENDPOINT_URL_";
    size_t pl = strlen(prefix), il = strlen(svc->service_id);
    if (pl + il + 1 > out_size)
        return CM_ETOOBIG;
    memcpy(out, prefix, pl);
    for (size_t i = 0; i < il; i++) {
        unsigned char ch = (unsigned char)svc->service_id[i];
        out[pl + i] = ch == ' ' || ch == '-' ? '_' : (char)toupper(ch);
    }
    out[pl + il] = '\0';
    return 0;
}

int cm_aws_endpoint_resolve(const struct cm_aws_service *svc, const char *region, char *out,
                            size_t out_size)
{
    char name[128];
    const char *ign = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    int use_env = !(ign && strcasecmp(ign, "true") == 0);
    const char *url = NULL;
    if (use_env && cm_aws_endpoint_env_name(svc, name, sizeof(name)) == 0)
        url = env(name);
    if (use_env && !url)
        url = env("AWS_ENDPOINT_URL");
    if (url) {
        size_t n = strlen(url);
        while (n > 1 && url[n - 1] == '/') /* "http://h:1/" and "http://h:1" are one endpoint */
            n--;
        if (n >= out_size)
            return CM_ETOOBIG;
        memcpy(out, url, n);
        out[n] = '\0';
        return 0;
    }
    if (!region || !*region)
        return CM_EINVAL;
    int cn = strncmp(region, "cn-", 3) == 0;
    int w = snprintf(out, out_size, "https://%s.%s.amazonaws.com%s", svc->endpoint_prefix, region,
                     cn ? ".cn" : "");
    return w < 0 || (size_t)w >= out_size ? CM_ETOOBIG : 0;
}
