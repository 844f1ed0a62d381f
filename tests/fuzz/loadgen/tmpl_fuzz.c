/* tmpl_fuzz.c: the template compiler on arbitrary bytes in each mode (size
 * mod 4), then rendering what compiled: must not crash; literal-only
 * templates render to the input; escaping never lets a value's space, line
 * break, '#' or non-ASCII byte into a URL, nor a line break into a header. */
#include <stdlib.h>
#include <string.h>

#include "cm/buf.h"
#include "tmpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const cols[] = {"user"};
    static const char *const vars[] = {"id"};
    struct lg_tmpl_names nm = {cols, 1, vars, 1};
    struct lg_tmpl *t = NULL;
    const char *why = NULL;
    size_t at = 0;
    char *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    int mode = (int)(size % 4);
    if (lg_tmpl_compile(copy, size, &nm, mode, &t, &why, &at) == 0) {
        uint64_t rng = 1;
        const char *row[] = {"x\"y /\r\n#%\xff"};
        const char *vals[] = {"v\n"};
        size_t lens[] = {2};
        struct lg_tmpl_ctx c = {.seq = 1,
                                .corr_id = "c",
                                .wall_ns = 1,
                                .rng = &rng,
                                .data_row = row,
                                .vars = vals,
                                .var_lens = lens};
        struct cm_buf b;
        cm_buf_init(&b, 1 << 20);
        lg_tmpl_render(t, &c, &b);
        if (!t->dynamic && (b.len != size || memcmp(b.data ? b.data : "", copy, size) != 0))
            abort();
        const char *bad = mode == LG_TMPL_URL ? " \r\n#\xff" : mode == LG_TMPL_HEADER ? "\r\n" : "";
        for (const char *q = bad; *q; q++)
            if (!memchr(copy, *q, size) && b.len && memchr(b.data, *q, b.len))
                abort();
        cm_buf_deinit(&b);
        lg_tmpl_free(t);
    } else if (t || !why) {
        abort();
    }
    free(copy);
    return 0;
}
