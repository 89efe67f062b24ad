// HTML escaping for the pages atelier writes (the trainer's report.html, the
// preview page of `atelier preview`): & < > " and ' become character
// references, so the result is safe as element text and inside single- or
// double-quoted attribute values. Pure function, thread-safe.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace atelier {

std::string HtmlEscape(absl::string_view text);

}  // namespace atelier
