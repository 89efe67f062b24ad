#include "atelier/coordinator/csv_reader.h"

#include "absl/strings/str_cat.h"

namespace atelier::coordinator {

bool CsvReader::Next(std::vector<std::string>& fields) {
  fields.clear();
  if (!error_.ok()) return false;
  if (first_) {
    first_ = false;
    if (in_.peek() == 0xEF) {
      // Not a BOM (or the input ends inside one): the bytes read go back.
      char bom[3] = {};
      in_.read(bom, 3);
      const std::streamsize got = in_.gcount();
      if (!(got == 3 && bom[1] == '\xBB' && bom[2] == '\xBF')) {
        in_.clear();
        for (std::streamsize i = got - 1; i >= 0; --i) in_.putback(bom[i]);
      }
    }
  }
  if (in_.peek() == std::char_traits<char>::eof()) return false;
  record_line_ = next_line_;
  std::string field;
  bool quoted = false;       // inside quotes
  bool was_quoted = false;   // field started with a quote
  int c;
  while ((c = in_.get()) != std::char_traits<char>::eof()) {
    if (quoted) {
      if (c == '"') {
        if (in_.peek() == '"') {
          in_.get();
          field.push_back('"');
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++next_line_;
        field.push_back(static_cast<char>(c));
      }
      continue;
    }
    if (c == '"') {
      if (!field.empty() || was_quoted) {
        error_ = absl::InvalidArgumentError(
            absl::StrCat("line ", next_line_, ": a quote inside an unquoted field"));
        return false;
      }
      quoted = was_quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
      was_quoted = false;
    } else if (c == '\r' && in_.peek() == '\n') {
      continue;
    } else if (c == '\n') {
      ++next_line_;
      fields.push_back(std::move(field));
      return true;
    } else {
      if (was_quoted) {
        error_ = absl::InvalidArgumentError(
            absl::StrCat("line ", next_line_, ": text after a closing quote"));
        return false;
      }
      field.push_back(static_cast<char>(c));
    }
  }
  if (quoted) {
    error_ = absl::InvalidArgumentError(
        absl::StrCat("line ", record_line_, ": a quoted field is never closed"));
    return false;
  }
  fields.push_back(std::move(field));
  return true;
}

}  // namespace atelier::coordinator
