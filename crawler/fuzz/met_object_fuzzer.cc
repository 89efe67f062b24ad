// Fuzzes ParseMetObject (met_object.h) with a GET <api>/objects/<id> answer
// body, asking for both derived labels.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "atelier/crawler/met_object.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<std::string> kLabelFields = {"decade", "century"};
  const absl::string_view body(reinterpret_cast<const char*>(data), size);
  (void)atelier::crawler::ParseMetObject(body, kLabelFields);
  return 0;
}
