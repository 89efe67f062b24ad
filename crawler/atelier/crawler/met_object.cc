#include "atelier/crawler/met_object.h"

#include <algorithm>
#include <cstdint>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace atelier::crawler {

namespace {

// An integer that fits int64 (nlohmann reads integers above INT64_MAX as
// unsigned, which get<int64_t>() would wrap to negative numbers).
bool IsInt64(const nlohmann::json& value) {
  return value.is_number_integer() &&
         !(value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX));
}

std::string FieldAsString(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_number_unsigned()) return std::to_string(value.get<uint64_t>());
  if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
  if (value.is_number()) return value.dump();
  return "";
}

// |year| without overflow (INT64_MIN has no int64 magnitude).
uint64_t Magnitude(int64_t year) {
  return year >= 0 ? static_cast<uint64_t>(year) : 0 - static_cast<uint64_t>(year);
}

}  // namespace

std::string DecadeLabel(int64_t year) {
  // Floor division so that -451 -> -460s; in uint64, as INT64_MIN's decade is below INT64_MIN.
  if (year >= 0) return absl::StrCat((year / 10) * 10, "s");
  return absl::StrCat("-", (Magnitude(year) + 9) / 10 * 10, "s");
}

std::string CenturyLabel(int64_t year) {
  if (year <= 0) return absl::StrCat(Magnitude(year) / 100 + 1, "th century BCE");
  const int64_t c = (year - 1) / 100 + 1;
  const char* suffix = "th";
  if (c % 100 < 11 || c % 100 > 13) {
    if (c % 10 == 1) suffix = "st";
    if (c % 10 == 2) suffix = "nd";
    if (c % 10 == 3) suffix = "rd";
  }
  return absl::StrCat(c, suffix, " century");
}

std::string MetObjectUrl(absl::string_view api, int64_t object_id) {
  return absl::StrCat(absl::StripSuffix(api, "/"), "/objects/", object_id);
}

absl::StatusOr<MetObject> ParseMetObject(absl::string_view body, const std::vector<std::string>& label_fields) {
  nlohmann::json j = nlohmann::json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Met object answer is not a JSON object (", body.size(), " bytes starting with '",
                     body.substr(0, 40), "')"));
  }
  MetObject object;
  if (auto it = j.find("objectID"); it != j.end() && IsInt64(*it)) object.object_id = it->get<int64_t>();
  std::set<std::string> seen;
  auto add_url = [&](const nlohmann::json& v) {
    if (!v.is_string()) return;
    std::string url = v.get<std::string>();
    if (url.empty() || !seen.insert(url).second) return;
    object.image_urls.push_back(std::move(url));
  };
  if (auto it = j.find("primaryImage"); it != j.end()) add_url(*it);
  if (auto it = j.find("additionalImages"); it != j.end() && it->is_array()) {
    for (const auto& v : *it) add_url(v);
  }
  for (const char* field : {"title", "objectDate", "objectBeginDate", "objectEndDate", "culture", "country",
                            "department", "classification", "isPublicDomain", "objectURL", "medium"}) {
    auto it = j.find(field);
    if (it == j.end()) continue;
    std::string value = FieldAsString(*it);
    if (!value.empty()) object.extra[field] = std::move(value);
  }
  auto begin = j.find("objectBeginDate");
  const bool has_year = begin != j.end() && IsInt64(*begin);
  for (const std::string& field : label_fields) {
    if (!has_year) continue;
    const int64_t year = begin->get<int64_t>();
    if (field == "decade") object.derived_labels["decade"] = DecadeLabel(year);
    if (field == "century") object.derived_labels["century"] = CenturyLabel(year);
  }
  return object;
}

}  // namespace atelier::crawler
