// Internal to atelier_dataset: SampleMeta from an already parsed JSON object,
// for readers that also look at other fields of the same object.
//
// With an empty `default_key` "key" is required (SampleMetaFromJson's rule);
// otherwise an absent "key" takes `default_key` (a foreign WebDataset sample
// whose key is its member name). Errors as SampleMetaFromJson's. Pure.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "atelier/dataset/sample.h"
#include "nlohmann/json.hpp"

namespace atelier::dataset::internal {

absl::StatusOr<SampleMeta> SampleMetaFromObject(const nlohmann::json& object, std::string_view origin,
                                                std::string_view default_key);

}  // namespace atelier::dataset::internal
