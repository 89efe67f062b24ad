#include "atelier/dataset/sample.h"

#include "atelier/common/status_macros.h"
#include "atelier/dataset/internal/json_fields.h"
#include "atelier/dataset/internal/sample_json.h"
#include "nlohmann/json.hpp"

namespace atelier::dataset {

std::string SampleMetaToJson(const SampleMeta& meta) {
  nlohmann::ordered_json json;
  json["key"] = meta.key;
  json["source"] = meta.source;
  json["url"] = meta.url;
  json["labels"] = meta.labels;
  json["width"] = meta.width;
  json["height"] = meta.height;
  json["original_width"] = meta.original_width;
  json["original_height"] = meta.original_height;
  json["sha256"] = meta.sha256;
  json["image_format"] = meta.image_format;
  json["extra"] = meta.extra;
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace internal {

absl::StatusOr<SampleMeta> SampleMetaFromObject(const nlohmann::json& object, std::string_view origin,
                                                std::string_view default_key) {
  SampleMeta meta;
  meta.key = std::string(default_key);
  internal::JsonFields fields(object, origin);
  fields.Get("key", meta.key, /*required=*/default_key.empty());
  fields.Get("source", meta.source);
  fields.Get("url", meta.url);
  fields.Get("labels", meta.labels);
  fields.Get("width", meta.width);
  fields.Get("height", meta.height);
  fields.Get("original_width", meta.original_width);
  fields.Get("original_height", meta.original_height);
  fields.Get("sha256", meta.sha256);
  fields.Get("image_format", meta.image_format);
  fields.Get("extra", meta.extra);
  RETURN_IF_ERROR(fields.status());
  return meta;
}

}  // namespace internal

absl::StatusOr<SampleMeta> SampleMetaFromJson(std::string_view json, std::string_view origin) {
  ASSIGN_OR_RETURN(nlohmann::json object, internal::ParseJsonObject(json, origin));
  return internal::SampleMetaFromObject(object, origin, "");
}

}  // namespace atelier::dataset
