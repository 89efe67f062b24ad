#include "atelier/dataset/sample_key.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "atelier/dataset/sha256.h"

namespace atelier::dataset {

std::string BamKey(int64_t mid) { return absl::StrCat("bam-", mid); }

std::string MetKey(int64_t object_id, int image_index) {
  return absl::StrCat("met-", object_id, "-", image_index);
}

std::string UrlKey(std::string_view url) { return "url-" + Sha256Hex(url).substr(0, 16); }

absl::Status ValidateKey(std::string_view key) {
  auto invalid = [key](const std::string& why) {
    constexpr size_t kShown = 64;
    std::string shown = absl::CEscape(std::string(key.substr(0, kShown)));
    if (key.size() > kShown) shown += "...";
    return absl::InvalidArgumentError(absl::StrCat("invalid sample key \"", shown, "\": ", why));
  };
  if (key.empty()) return invalid("empty");
  if (key.size() > kMaxKeyLength) {
    return invalid(absl::StrCat(key.size(), " characters, at most ", kMaxKeyLength, " allowed"));
  }
  for (size_t i = 0; i < key.size(); ++i) {
    const char c = key[i];
    if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') continue;
    return invalid(absl::StrCat("character '", absl::CEscape(std::string(1, c)),
                                "' at position ", i, "; only [A-Za-z0-9_-] allowed"));
  }
  return absl::OkStatus();
}

}  // namespace atelier::dataset
