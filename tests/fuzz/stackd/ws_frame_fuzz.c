/* Fuzz target: the WebSocket frame receiver (sd_ws_rx_feed) on arbitrary
 * bytes, as a client would send them, with small limits so the size checks
 * are reached. Checks progress, bounds and that messages are valid UTF-8
 * when text. */
#include "sd_ws.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size + 1);
    memcpy(buf, data, size);
    struct sd_ws_rx rx;
    sd_ws_rx_init(&rx, 512, 2048);
    size_t off = 0;
    for (int i = 0; i < 4096 && off < size; i++) {
        struct sd_ws_event ev;
        size_t used = 0;
        int code = 0;
        int rc = sd_ws_rx_feed(&rx, buf + off, size - off, &used, &ev, &code);
        if (rc < 0) {
            if (code != 1002 && code != 1007 && code != 1009)
                abort();
            break;
        }
        if (used > size - off)
            abort();
        if (used == 0)
            break;
        if (ev.type == SD_WS_EV_MESSAGE &&
            (ev.len > 2048 || (!ev.binary && !sd_ws_utf8_valid(ev.data, ev.len))))
            abort();
        off += used;
    }
    sd_ws_rx_deinit(&rx);
    struct cm_buf out;
    cm_buf_init(&out, 0);
    sd_ws_append_message(&out, SD_WS_OP_BINARY, data, size, 100);
    cm_buf_deinit(&out);
    free(buf);
    return 0;
}
