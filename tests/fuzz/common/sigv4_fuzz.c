/* Fuzz target for cm_sigv4: the input is a request as it would reach stackd
 * ("METHOD path?query\nName: value\n...\n\nbody"). It is verified as received
 * (any bytes, never a crash), then signed and presigned, and both signatures
 * must verify again (the signer and the verifier canonicalise the same way).
 * The round trip is checked only when the input's own headers cannot collide
 * with what the signer adds (Authorization, X-Amz-*) and the header names are
 * HTTP tokens, which is what the SignedHeaders syntax can carry. */
#include "cm/sigv4.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAXH 24
#define T0   1795332605

static int lookup(void *arg, const char *akid, size_t len, const char **secret)
{
    (void)arg, (void)akid, (void)len;
    *secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    return 0;
}

static int token_name(const char *p, size_t n)
{
    if (!n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-'))
            return 0;
    }
    return !(n >= 5 && strncasecmp(p, "x-amz", 5) == 0) &&
           !(n == 13 && strncasecmp(p, "authorization", 13) == 0);
}

static void verify_signed(struct cm_sigv4_ctx *c, struct cm_sigv4_request *req, int presigned)
{
    static char vals[CM_SIGV4_MAX_ADD][4096];
    static char q[1 << 16];
    struct cm_sigv4_header all[MAXH + CM_SIGV4_MAX_ADD];
    memcpy(all, req->headers, req->n_headers * sizeof(all[0]));
    size_t n = req->n_headers;
    struct cm_sigv4_request r = *req;
    if (presigned) {
        if (c->query.len >= sizeof(q))
            return;
        memcpy(q, c->query.data, c->query.len);
        r.query = q;
        r.query_len = c->query.len;
    } else {
        for (size_t i = 0; i < c->n_add; i++) {
            if (c->add[i].value_len >= sizeof(vals[i]))
                return;
            memcpy(vals[i], c->add[i].value, c->add[i].value_len);
            all[n] = c->add[i];
            all[n++].value = vals[i];
        }
    }
    r.headers = all;
    r.n_headers = n;
    struct cm_sigv4_verify_opts o = {.lookup = lookup, .now_s = T0};
    struct cm_sigv4_verify_result res;
    if (cm_sigv4_verify(c, &o, &r, &res) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct cm_sigv4_ctx c;
    static int init;
    if (!init)
        cm_sigv4_ctx_init(&c), init = 1;
    const char *p = (const char *)data, *end = p + size;
    const char *eol = memchr(p, '\n', size);
    const char *line_end = eol ? eol : end;
    const char *sp = memchr(p, ' ', (size_t)(line_end - p));
    if (!sp)
        return 0;
    char method[16];
    size_t ml = (size_t)(sp - p) < sizeof(method) - 1 ? (size_t)(sp - p) : sizeof(method) - 1;
    memcpy(method, p, ml);
    method[ml] = '\0';
    const char *target = sp + 1, *qm = memchr(target, '?', (size_t)(line_end - target));
    struct cm_sigv4_header h[MAXH];
    size_t nh = 0;
    int tokens = 1;
    const char *cur = eol ? eol + 1 : end;
    while (cur < end && *cur != '\n' && nh < MAXH) {
        const char *le = memchr(cur, '\n', (size_t)(end - cur));
        if (!le)
            le = end;
        const char *colon = memchr(cur, ':', (size_t)(le - cur));
        if (colon) {
            h[nh] = (struct cm_sigv4_header){cur, (size_t)(colon - cur), colon + 1,
                                             (size_t)(le - colon - 1)};
            tokens &= token_name(h[nh].name, h[nh].name_len);
            nh++;
        }
        cur = le + 1;
    }
    const char *body = cur < end ? cur + 1 : end;
    struct cm_sigv4_request req = {.method = method,
                                   .host = "127.0.0.1:4566",
                                   .host_len = 14,
                                   .path = target,
                                   .path_len = (size_t)((qm ? qm : line_end) - target),
                                   .query = qm ? qm + 1 : "",
                                   .query_len = qm ? (size_t)(line_end - qm - 1) : 0,
                                   .headers = h,
                                   .n_headers = nh,
                                   .payload = body,
                                   .payload_len = (size_t)(end - body)};

    struct cm_sigv4_verify_opts o = {.lookup = lookup, .now_s = T0, .flags = CM_SIGV4_ALLOW_RAW};
    struct cm_sigv4_verify_result res;
    cm_sigv4_verify(&c, &o, &req, &res); /* as received: anything goes, nothing crashes */

    struct cm_sigv4_creds cr = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                size & 1 ? "tok/en+=" : NULL};
    struct cm_sigv4_config cfg = {"us-east-1", "sqs", &cr, T0, 0};
    int presign_ok = tokens && !memmem(req.query, req.query_len, "X-Amz-", 6);
    if (method[0] && cm_sigv4_sign(&c, &cfg, &req) == 0 && tokens)
        verify_signed(&c, &req, 0);
    if (method[0] && cm_sigv4_presign(&c, &cfg, &req, 900) == 0 && presign_ok)
        verify_signed(&c, &req, 1);
    return 0;
}
