// Internal to atelier_dataset (its .cc files only; nlohmann_json is a private
// dependency): parse a JSON object and read its typed fields with errors that
// name the origin (a file, or a shard entry) and the field.
//
//   ASSIGN_OR_RETURN(nlohmann::json object, ParseJsonObject(text, origin));
//   JsonFields fields(object, origin);
//   fields.Get("key", meta.key, /*required=*/true);
//   fields.Get("width", meta.width);
//   RETURN_IF_ERROR(fields.status());   // the first problem met, if any
//
// Absent optional fields leave the output untouched; JSON null counts as absent.
// Fields not asked for are ignored. Not thread-safe; pure otherwise.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace atelier::dataset::internal {

absl::StatusOr<nlohmann::json> ParseJsonObject(std::string_view text, std::string_view origin);

class JsonFields {
 public:
  JsonFields(const nlohmann::json& object, std::string_view origin)
      : object_(object), origin_(origin) {}

  void Get(const char* name, std::string& out, bool required = false);
  void Get(const char* name, int& out, bool required = false);
  void Get(const char* name, int64_t& out, bool required = false);
  void Get(const char* name, uint64_t& out, bool required = false);
  void Get(const char* name, double& out, bool required = false);
  void Get(const char* name, std::map<std::string, std::string>& out, bool required = false);
  void Get(const char* name, std::map<std::string, int64_t>& out, bool required = false);

  const absl::Status& status() const { return status_; }

 private:
  // The field's value, or nullptr when it is absent (recording an error if required).
  const nlohmann::json* Find(const char* name, bool required);
  void Fail(const std::string& field, const std::string& expected, const nlohmann::json& got);

  const nlohmann::json& object_;
  std::string origin_;
  absl::Status status_;
};

}  // namespace atelier::dataset::internal
