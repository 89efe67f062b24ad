// Fuzzes ParseJobSpec (job_spec.h) with a job spec's YAML text. Relative paths
// resolve under /nonexistent: parsing reads no file.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "atelier/spec/job_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)atelier::ParseJobSpec(absl::string_view(reinterpret_cast<const char*>(data), size), "fuzz.yaml",
                              "/nonexistent");
  return 0;
}
