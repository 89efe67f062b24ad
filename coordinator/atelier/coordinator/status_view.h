// Renders a JobStatus for `atelier status`: StatusJson() is the --json object
// (stable snake_case field names, one object), RenderStatus() the view for a
// person (progress bar, rates, ETA, per-source table, workers, errors).
// Pure functions; thread-safe.
#pragma once

#include <string>

#include "atelier/v1/status.pb.h"
#include "nlohmann/json.hpp"

namespace atelier::coordinator {

nlohmann::json StatusJson(const v1::JobStatus& status);
// `width` is the progress bar width in characters.
std::string RenderStatus(const v1::JobStatus& status, int width = 40);
// "1h02m", "3m05s", "12s", "?" for negative.
std::string FormatEta(int64_t ms);

}  // namespace atelier::coordinator
