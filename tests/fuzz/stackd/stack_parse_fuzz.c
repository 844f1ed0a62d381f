/* Fuzz target: stack file parsing (YAML + option tables + route keys). */
#include "sd_stack.h"

#include <stdint.h>
#include <stddef.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sd_stack *st = NULL;
    char err[512];
    if (sd_stack_parse((const char *)data, size, "fuzz.yaml", "/base", &st, err, sizeof(err)) == 0)
        sd_stack_free(st);
    return 0;
}
