// Internal to atelier_dataset: the labels a LabelField list gives one sample.
//
//   ASSIGN_OR_RETURN(auto labels, ExtractLabels(fields, &json_object, members));
//
// `object` is the sample's parsed .json (nullptr when it has none); `members`
// maps each member's extension (lowercase, without the dot) to its bytes.
// InvalidArgument, naming the field, for an object or array value. Pure.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "atelier/dataset/label_fields.h"
#include "nlohmann/json.hpp"

namespace atelier::dataset::internal {

absl::StatusOr<std::map<std::string, std::string>> ExtractLabels(
    const std::vector<LabelField>& fields, const nlohmann::json* object,
    const std::map<std::string, std::string_view>& members);

}  // namespace atelier::dataset::internal
