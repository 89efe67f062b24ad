// Sample keys: the `<key>` of `<key>.<ext>` entries in a WebDataset shard.
//
//   BamKey(12345)        -> "bam-12345"
//   MetKey(436535, 0)    -> "met-436535-0"   (object id, image index in the object)
//   UrlKey("https://..") -> "url-" + first 16 hex digits of sha256(url)
//
// A valid key is 1..200 characters from [A-Za-z0-9_-]: never a dot (WebDataset
// splits entry names at the first dot) nor a slash. All functions are pure and
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace atelier::dataset {

inline constexpr size_t kMaxKeyLength = 200;

std::string BamKey(int64_t mid);
std::string MetKey(int64_t object_id, int image_index);
std::string UrlKey(std::string_view url);

// OK, or InvalidArgument naming the (escaped, shortened) key and the rule broken.
absl::Status ValidateKey(std::string_view key);

}  // namespace atelier::dataset
