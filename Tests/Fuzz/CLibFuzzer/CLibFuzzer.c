#include "CLibFuzzer.h"

// libFuzzer's runtime refers to this symbol (its own `main` would call it). The targets run
// through LLVMFuzzerRunDriver with their own callback instead, so this is never called.
__attribute__((weak)) int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    (void)data;
    (void)size;
    return 0;
}
