#include "atelier/coordinator/met_search_page.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace atelier::coordinator {

std::string BodySnippet(absl::string_view body) {
  std::string s(body.substr(0, 80));
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return body.size() > 80 ? absl::StrCat(s, "...") : s;
}

absl::StatusOr<MetSearchPage> ParseMetSearchPage(absl::string_view body) {
  using json = nlohmann::json;
  const json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid JSON (", body.size(), " bytes): ", BodySnippet(body)));
  }
  MetSearchPage page;
  if (auto total = j.find("total"); total != j.end() && total->is_number_integer()) {
    page.total = total->get<int64_t>();
  }
  auto ids = j.find("objectIDs");
  if (ids == j.end() || ids->is_null()) return page;  // no results
  if (!ids->is_array()) return absl::InvalidArgumentError("JSON without an objectIDs list");
  for (const json& id : *ids) {
    if (!id.is_number_integer() ||
        (id.is_number_unsigned() && id.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))) {
      return absl::InvalidArgumentError("objectIDs holds something other than integers");
    }
    page.ids.push_back(id.get<int64_t>());
  }
  return page;
}

}  // namespace atelier::coordinator
