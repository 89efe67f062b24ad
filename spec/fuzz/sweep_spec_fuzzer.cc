// Fuzzes ParseSweepSpec (sweep_spec.h) with a sweep spec's YAML text.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "atelier/spec/sweep_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)atelier::ParseSweepSpec(absl::string_view(reinterpret_cast<const char*>(data), size), "fuzz.yaml",
                                "/nonexistent");
  return 0;
}
