#include "atelier/crawler/met_object.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace atelier::crawler {

namespace {

std::string FieldAsString(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
  if (value.is_number()) return value.dump();
  return "";
}

}  // namespace

std::string DecadeLabel(int64_t year) {
  // Floor division so that -451 -> -460s.
  int64_t decade = year >= 0 ? (year / 10) * 10 : -(((-year) + 9) / 10) * 10;
  return absl::StrCat(decade, "s");
}

std::string CenturyLabel(int64_t year) {
  if (year <= 0) return absl::StrCat((-year) / 100 + 1, "th century BCE");
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
  if (auto it = j.find("objectID"); it != j.end() && it->is_number_integer()) object.object_id = it->get<int64_t>();
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
  const bool has_year = begin != j.end() && begin->is_number_integer();
  for (const std::string& field : label_fields) {
    if (!has_year) continue;
    const int64_t year = begin->get<int64_t>();
    if (field == "decade") object.derived_labels["decade"] = DecadeLabel(year);
    if (field == "century") object.derived_labels["century"] = CenturyLabel(year);
  }
  return object;
}

}  // namespace atelier::crawler
