/* fuzz.h: the libFuzzer entry points, force-included into every fuzz target
 * (tests/fuzz/CMakeLists.txt) so targets build warning-free with
 * -Wmissing-prototypes whether linked with libFuzzer or with driver.c. */
#ifndef LG_FUZZ_H
#define LG_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Runs one input; must not keep data. Return 0 (libFuzzer: -1 keeps the input
 * out of the corpus). Crashing or aborting is the failure signal. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional one-time set-up. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
