/* Fuzz target: the HTTP/1.1 request parser (sd_http_parse) on arbitrary
 * bytes, then the router and the payload 2.0 event builder on whatever
 * parsed, including pipelined requests behind the first. */
#include "sd_apigw.h"
#include "sd_http.h"
#include "sd_router.h"

#include "cm/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct sd_http_limits lim = {2048, 4096};
    char *buf = malloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = '\0';
    size_t off = 0;
    for (int i = 0; i < 8 && off < size; i++) {
        struct sd_req req;
        struct sd_http_info info;
        memset(&req, 0, sizeof(req));
        int rc = sd_http_parse(buf + off, size - off, &lim, &req, &info);
        if (rc != SD_HTTP_DONE)
            break;
        if (info.consumed == 0 || info.consumed > size - off)
            abort(); /* must make progress and stay in bounds */
        req.peer_ip = "127.0.0.1";
        struct sd_route rt;
        sd_router_classify(&req, &rt);
        struct sd_apigw_match m;
        memset(&m, 0, sizeof(m));
        m.route_key = "$default";
        struct sd_apigw_ctx ctx = {"api", "000000000000", "us-east-1", "rid=", 0, NULL};
        struct cm_buf ev;
        cm_buf_init(&ev, 0);
        sd_apigw_build_event(&ev, &req, rt.path, &m, &ctx);
        cm_buf_deinit(&ev);
        off += info.consumed;
    }
    free(buf);
    return 0;
}
