/* docs_test.c: scenarios/README.md must equal `loadgen docs` (the key
 * reference generated from the option tables). Regenerate with
 * `build/loadgen/loadgen docs > scenarios/README.md`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "scenario.h"

static char *slurp(FILE *f, size_t *n)
{
    size_t cap = 1 << 16, len = 0;
    char *b = malloc(cap);
    size_t k;
    while (b && (k = fread(b + len, 1, cap - len, f)) > 0) {
        len += k;
        if (len == cap)
            b = realloc(b, cap *= 2);
    }
    *n = len;
    return b;
}

int main(void)
{
    const char *src = getenv("LG_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof(path), "%s/scenarios/README.md", src ? src : ".");
    FILE *gen = tmpfile();
    lg_scenario_markdown(gen);
    rewind(gen);
    size_t gn = 0, fn = 0;
    char *g = slurp(gen, &gn);
    fclose(gen);
    FILE *f = fopen(path, "rb");
    CHECK_MSG(f != NULL, "cannot open %s", path);
    char *d = f ? slurp(f, &fn) : NULL;
    if (f)
        fclose(f);
    CHECK_MSG(d && gn == fn && memcmp(g, d, gn) == 0,
              "%s is out of date: run `loadgen docs > scenarios/README.md`", path);
    free(g);
    free(d);
    return TEST_REPORT();
}
