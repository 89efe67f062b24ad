// Fuzzes ParseMetSearchPage (met_search_page.h) with a Met /search answer body.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "atelier/coordinator/met_search_page.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)atelier::coordinator::ParseMetSearchPage(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
