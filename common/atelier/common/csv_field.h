// CsvField: one field of a CSV row (RFC 4180), quoted when it must be: a field
// holding a comma, a double quote, CR or LF is wrapped in double quotes with
// its quotes doubled; any other text is returned as it is. Pure.
#pragma once

#include <string>

namespace atelier {

std::string CsvField(const std::string& text);

}  // namespace atelier
