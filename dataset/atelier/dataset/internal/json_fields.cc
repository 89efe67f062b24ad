#include "atelier/dataset/internal/json_fields.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace atelier::dataset::internal {
namespace {

// Reads a JSON integer into `out` if it fits T; false otherwise.
template <typename T>
bool GetInteger(const nlohmann::json& value, T& out) {
  if (value.is_number_unsigned()) {
    const uint64_t v = value.get<uint64_t>();
    if (!std::in_range<T>(v)) return false;
    out = static_cast<T>(v);
    return true;
  }
  if (!value.is_number_integer()) return false;
  const int64_t v = value.get<int64_t>();
  if (!std::in_range<T>(v)) return false;
  out = static_cast<T>(v);
  return true;
}

}  // namespace

absl::StatusOr<nlohmann::json> ParseJsonObject(std::string_view text, std::string_view origin) {
  nlohmann::json object;
  try {
    object = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(origin), ": invalid JSON: ", e.what()));
  }
  if (!object.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(origin), ": expected a JSON object, got ",
                                                   object.type_name()));
  }
  return object;
}

const nlohmann::json* JsonFields::Find(const char* name, bool required) {
  if (!status_.ok()) return nullptr;
  auto it = object_.find(name);
  if (it == object_.end() || it->is_null()) {
    if (required) {
      status_ = absl::InvalidArgumentError(
          absl::StrCat(origin_, ": required field \"", name, "\" is missing"));
    }
    return nullptr;
  }
  return &*it;
}

void JsonFields::Fail(const std::string& field, const std::string& expected,
                      const nlohmann::json& got) {
  std::string shown = got.dump();
  if (shown.size() > 40) shown = shown.substr(0, 40) + "...";
  status_ = absl::InvalidArgumentError(absl::StrCat(origin_, ": field \"", field, "\" must be ",
                                                    expected, ", got ", got.type_name(), " ", shown));
}

void JsonFields::Get(const char* name, std::string& out, bool required) {
  const nlohmann::json* value = Find(name, required);
  if (value == nullptr) return;
  if (!value->is_string()) return Fail(name, "a string", *value);
  out = value->get<std::string>();
}

void JsonFields::Get(const char* name, int& out, bool required) {
  const nlohmann::json* value = Find(name, required);
  if (value != nullptr && !GetInteger(*value, out)) Fail(name, "a 32-bit integer", *value);
}

void JsonFields::Get(const char* name, int64_t& out, bool required) {
  const nlohmann::json* value = Find(name, required);
  if (value != nullptr && !GetInteger(*value, out)) Fail(name, "a 64-bit integer", *value);
}

void JsonFields::Get(const char* name, uint64_t& out, bool required) {
  const nlohmann::json* value = Find(name, required);
  if (value != nullptr && !GetInteger(*value, out)) Fail(name, "a non-negative integer", *value);
}

void JsonFields::Get(const char* name, double& out, bool required) {
  const nlohmann::json* value = Find(name, required);
  if (value == nullptr) return;
  if (!value->is_number()) return Fail(name, "a number", *value);
  out = value->get<double>();
}

void JsonFields::Get(const char* name, std::map<std::string, std::string>& out, bool required) {
  const nlohmann::json* value = Find(name, required);
  if (value == nullptr) return;
  if (!value->is_object()) return Fail(name, "an object of strings", *value);
  std::map<std::string, std::string> result;
  for (const auto& [k, v] : value->items()) {
    if (!v.is_string()) return Fail(absl::StrCat(name, ".", k), "a string", v);
    result[k] = v.get<std::string>();
  }
  out = std::move(result);
}

void JsonFields::Get(const char* name, std::map<std::string, int64_t>& out, bool required) {
  const nlohmann::json* value = Find(name, required);
  if (value == nullptr) return;
  if (!value->is_object()) return Fail(name, "an object of integers", *value);
  std::map<std::string, int64_t> result;
  for (const auto& [k, v] : value->items()) {
    if (!GetInteger(v, result[k])) return Fail(absl::StrCat(name, ".", k), "a 64-bit integer", v);
  }
  out = std::move(result);
}

}  // namespace atelier::dataset::internal
