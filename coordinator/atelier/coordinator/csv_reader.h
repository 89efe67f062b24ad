// CsvReader: RFC 4180 CSV records from a stream, one record at a time.
// Handles quoted fields with commas, doubled quotes ("") and line breaks,
// CRLF and LF line ends, and a UTF-8 BOM at the start. Not thread-safe.
#pragma once

#include <istream>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace atelier::coordinator {

class CsvReader {
 public:
  explicit CsvReader(std::istream& in) : in_(in) {}
  // Reads the next record into `fields`. Returns false at the end of input or
  // on an error (then error() is not OK and names the line).
  bool Next(std::vector<std::string>& fields);
  const absl::Status& error() const { return error_; }
  // 1-based line where the last record returned started.
  int line() const { return record_line_; }

 private:
  std::istream& in_;
  int next_line_ = 1;
  int record_line_ = 0;
  bool first_ = true;
  absl::Status error_;
};

}  // namespace atelier::coordinator
