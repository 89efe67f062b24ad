// Where a sample's labels come from: `--label-field HEAD=SOURCE,...`.
//
//   ParseLabelFields("country=country,cls=.cls,media=labels.media")
//     -> {country <- JSON field "country"}, {cls <- member .cls}, {media <- JSON "labels"."media"}
//
// SOURCE ".EXT" is the text of the sample's member with that extension
// (WebDataset's .cls or .txt; surrounding whitespace trimmed). Any other SOURCE
// is a dotted path into the sample's .json object ("status", "labels.media").
// An item without "=" names its head after the source (".cls" -> "cls",
// "labels.media" -> "media"). Head names must be distinct. A JSON string is
// the class as is, a number or boolean its JSON text; null or an absent field
// or member leaves the head unlabelled for that sample; an object or array is
// an invalid label (ShardReader skips the sample). Errors are InvalidArgument
// naming the spec item. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace atelier::dataset {

struct LabelField {
  enum class Kind { kJsonPath, kMember };
  std::string head;
  Kind kind = Kind::kJsonPath;
  std::string source;  // the dotted JSON path, or the member extension without its dot (lowercase)

  bool operator==(const LabelField&) const = default;
};

absl::StatusOr<std::vector<LabelField>> ParseLabelFields(std::string_view spec);

// The canonical spec ("head=.ext" / "head=path" joined by commas): parses back to `fields`.
std::string LabelFieldsToString(const std::vector<LabelField>& fields);

}  // namespace atelier::dataset
