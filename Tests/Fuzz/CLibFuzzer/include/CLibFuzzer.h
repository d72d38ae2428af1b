// libFuzzer's driver, for fuzz targets that bring their own `main` (SwiftPM renames a Swift
// executable's entry point, so libFuzzer's `main` cannot be used): it parses libFuzzer's flags
// from argv and runs `callback` on each input. Defined in libclang_rt.fuzzer (`-sanitize=fuzzer`).
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
