/* sigv4_sign_tool.c: reads request descriptions, one JSON object per line on
 * stdin, signs each with cm_sigv4 and prints one JSON line per request:
 *   in:  {"id":1,"mode":"header"|"query","method":"GET","host":"h:8080",
 *         "path":"/a%20b","query":"x=1","headers":[["Name","value"],...],
 *         "body_hex":"7b7d","region":"us-east-1","service":"sqs","akid":"...",
 *         "secret":"...","token":"..."|null,"time":1440938160,"s3":false,
 *         "expires":3600}
 *   out: {"id":1,"signature":"<hex>","canonical":"<canonical request>",
 *         "authorization":"...","query":"..."}   or {"id":1,"error":"..."}
 * With "mode":"verify" the request is one botocore signed (headers include
 * Authorization, or the query carries X-Amz-Signature); it is checked with
 * cm_sigv4_verify at "time" against "secret" and the output is
 *   {"id":1,"verdict":0,"code":"OK","canonical":"..."}
 * The driver (sigv4_botocore.py) compares the signatures with botocore's. */
#include "cm/buf.h"
#include "cm/err.h"
#include "cm/json.h"
#include "cm/mem.h"
#include "cm/sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE    (1 << 20)
#define MAX_HEADERS 64

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

static size_t unhex(const char *s, unsigned char *out, size_t max)
{
    size_t n = 0;
    for (; s[0] && s[1] && n < max; s += 2) {
        int hi = hexval(s[0]), lo = hexval(s[1]);
        if (hi < 0 || lo < 0)
            break;
        out[n++] = (unsigned char)(hi << 4 | lo);
    }
    return n;
}

static void put_field(struct cm_buf *o, const char *key, const char *v, size_t n)
{
    cm_buf_printf(o, ",\"%s\":", key);
    cm_json_append_string(o, v, n);
}

static int lookup_secret(void *arg, const char *akid, size_t len, const char **secret)
{
    (void)akid, (void)len;
    *secret = arg;
    return 0;
}

static void verify_one(struct cm_sigv4_ctx *c, const cJSON *in, struct cm_sigv4_request *req,
                       struct cm_buf *o)
{
    struct cm_sigv4_verify_opts vo = {.lookup = lookup_secret,
                                      .lookup_arg = (void *)cm_json_str(in, "secret", ""),
                                      .now_s = cm_json_int(in, "time", 0),
                                      .flags = cm_json_bool(in, "s3", 0) ? CM_SIGV4_S3 : 0u};
    struct cm_sigv4_verify_result res;
    cm_sigv4_verify(c, &vo, req, &res);
    const char *code = cm_sigv4_verdict_code(res.verdict);
    cm_buf_printf(o, "{\"id\":%lld,\"verdict\":%d", (long long)cm_json_int(in, "id", -1),
                  (int)res.verdict);
    put_field(o, "code", code, strlen(code));
    put_field(o, "canonical", c->canonical_request.data, c->canonical_request.len);
    cm_buf_puts(o, "}\n");
}

static void sign_one(struct cm_sigv4_ctx *c, const cJSON *in, struct cm_buf *o)
{
    static struct cm_sigv4_header hs[MAX_HEADERS];
    static unsigned char body[MAX_LINE / 2];
    size_t nh = 0;
    const cJSON *harr = cJSON_GetObjectItemCaseSensitive(in, "headers"), *h;
    cJSON_ArrayForEach(h, harr)
    {
        const cJSON *n = cJSON_GetArrayItem(h, 0), *v = cJSON_GetArrayItem(h, 1);
        if (nh == MAX_HEADERS || !cJSON_IsString(n) || !cJSON_IsString(v))
            break;
        hs[nh++] = (struct cm_sigv4_header)CM_SIGV4_HEADER(n->valuestring, v->valuestring);
    }
    const char *token = cm_json_str(in, "token", NULL);
    struct cm_sigv4_creds cr = {cm_json_str(in, "akid", ""), cm_json_str(in, "secret", ""), token};
    struct cm_sigv4_config cfg = {cm_json_str(in, "region", ""), cm_json_str(in, "service", ""),
                                  &cr, cm_json_int(in, "time", 0),
                                  cm_json_bool(in, "s3", 0) ? CM_SIGV4_S3 : 0u};
    const char *path = cm_json_str(in, "path", ""), *query = cm_json_str(in, "query", "");
    const char *host = cm_json_str(in, "host", "");
    size_t blen = unhex(cm_json_str(in, "body_hex", ""), body, sizeof(body));
    struct cm_sigv4_request req = {.method = cm_json_str(in, "method", "GET"),
                                   .host = host,
                                   .host_len = strlen(host),
                                   .path = path,
                                   .path_len = strlen(path),
                                   .query = query,
                                   .query_len = strlen(query),
                                   .headers = hs,
                                   .n_headers = nh,
                                   .payload = body,
                                   .payload_len = blen};
    if (strcmp(cm_json_str(in, "mode", "header"), "verify") == 0) {
        verify_one(c, in, &req, o);
        return;
    }
    int presign = strcmp(cm_json_str(in, "mode", "header"), "query") == 0;
    int rc = presign ? cm_sigv4_presign(c, &cfg, &req, cm_json_int(in, "expires", 3600))
                     : cm_sigv4_sign(c, &cfg, &req);
    cm_buf_printf(o, "{\"id\":%lld", (long long)cm_json_int(in, "id", -1));
    if (rc) {
        const char *e = cm_strerror(rc);
        put_field(o, "error", e, strlen(e));
    } else {
        put_field(o, "signature", c->signature, strlen(c->signature));
        put_field(o, "canonical", c->canonical_request.data, c->canonical_request.len);
        if (presign)
            put_field(o, "query", c->query.data, c->query.len);
        else
            put_field(o, "authorization", c->authorization.data, c->authorization.len);
    }
    cm_buf_puts(o, "}\n");
}

int main(void)
{
    char *line = cm_xmalloc(MAX_LINE);
    struct cm_sigv4_ctx c;
    struct cm_buf o;
    int rc = 0;
    long lineno = 0;
    cm_sigv4_ctx_init(&c);
    cm_buf_init(&o, 0);
    while (fgets(line, MAX_LINE, stdin)) {
        lineno++;
        size_t n = strlen(line);
        if (n && line[n - 1] != '\n' && !feof(stdin)) {
            fprintf(stderr, "<stdin>:%ld: line longer than %d bytes\n", lineno, MAX_LINE);
            rc = 1;
            goto out;
        }
        cJSON *in = cm_json_parse(line, n);
        if (!in) {
            fprintf(stderr, "<stdin>:%ld: malformed JSON\n", lineno);
            rc = 1;
            goto out;
        }
        cm_buf_reset(&o);
        sign_one(&c, in, &o);
        fwrite(o.data, 1, o.len, stdout);
        cJSON_Delete(in);
    }
out:
    cm_buf_deinit(&o);
    cm_sigv4_ctx_deinit(&c);
    free(line);
    return rc;
}
