#include "atelier/dataset/label_fields.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "atelier/dataset/internal/label_values.h"

namespace atelier::dataset {

absl::StatusOr<std::vector<LabelField>> ParseLabelFields(std::string_view spec_text) {
  const absl::string_view spec(spec_text.data(), spec_text.size());
  std::vector<LabelField> fields;
  std::set<std::string> heads;
  for (absl::string_view item : absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    item = absl::StripAsciiWhitespace(item);
    const auto invalid = [item](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("--label-field item \"", item, "\": ", why));
    };
    LabelField field;
    absl::string_view source = item;
    const size_t equals = item.find('=');
    if (equals != std::string_view::npos) {
      field.head = std::string(absl::StripAsciiWhitespace(item.substr(0, equals)));
      source = absl::StripAsciiWhitespace(item.substr(equals + 1));
      if (field.head.empty()) return invalid("empty head name before '='");
    }
    if (source.empty()) return invalid("empty source (expected .EXT or a JSON path)");
    if (source.front() == '.') {
      field.kind = LabelField::Kind::kMember;
      field.source = absl::AsciiStrToLower(std::string(source.substr(1)));
      if (field.source.empty() || field.source.find('/') != std::string::npos) {
        return invalid("a member source is .EXT, e.g. .cls or .txt");
      }
      if (field.head.empty()) field.head = field.source;
    } else {
      field.source = std::string(source);
      for (absl::string_view part : absl::StrSplit(source, '.')) {
        if (part.empty()) return invalid("empty component in the JSON path");
      }
      if (field.head.empty()) field.head = std::string(source.substr(source.rfind('.') + 1));
    }
    if (!heads.insert(field.head).second) return invalid(absl::StrCat("head \"", field.head, "\" given twice"));
    fields.push_back(std::move(field));
  }
  if (fields.empty()) return absl::InvalidArgumentError("--label-field is empty (expected HEAD=SOURCE,...)");
  return fields;
}

std::string LabelFieldsToString(const std::vector<LabelField>& fields) {
  std::string text;
  for (const LabelField& field : fields) {
    absl::StrAppend(&text, text.empty() ? "" : ",", field.head, "=",
                    field.kind == LabelField::Kind::kMember ? "." : "", field.source);
  }
  return text;
}

namespace internal {

absl::StatusOr<std::map<std::string, std::string>> ExtractLabels(
    const std::vector<LabelField>& fields, const nlohmann::json* object,
    const std::map<std::string, std::string_view>& members) {
  std::map<std::string, std::string> labels;
  for (const LabelField& field : fields) {
    if (field.kind == LabelField::Kind::kMember) {
      auto it = members.find(field.source);
      if (it == members.end()) continue;
      const absl::string_view text = absl::StripAsciiWhitespace(absl::string_view(it->second.data(), it->second.size()));
      if (!text.empty()) labels[field.head] = std::string(text);
      continue;
    }
    const nlohmann::json* value = object;
    for (absl::string_view part : absl::StrSplit(field.source, '.')) {
      if (value == nullptr || !value->is_object()) {
        value = nullptr;
        break;
      }
      auto it = value->find(std::string(part));
      value = it == value->end() ? nullptr : &*it;
    }
    if (value == nullptr || value->is_null()) continue;
    if (value->is_string()) {
      labels[field.head] = value->get<std::string>();
    } else if (value->is_number() || value->is_boolean()) {
      labels[field.head] = value->dump();
    } else {
      return absl::InvalidArgumentError(absl::StrCat("label field \"", field.source, "\" for head \"",
                                                     field.head, "\" is a JSON ", value->type_name(),
                                                     ", not a string, number or boolean"));
    }
  }
  return labels;
}

}  // namespace internal
}  // namespace atelier::dataset
