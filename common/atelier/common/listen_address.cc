#include "atelier/common/listen_address.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace atelier {

absl::StatusOr<HostPort> ParseListenAddress(absl::string_view address) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", address, "': expected HOST:PORT (e.g. 0.0.0.0:7070 or [::1]:7070); ", why));
  };
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos) return bad("no ':PORT'");
  HostPort result;
  absl::string_view host = address.substr(0, colon);
  const absl::string_view port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != absl::string_view::npos) {
    return bad("put an IPv6 host in brackets");
  }
  if (host.empty()) return bad("the host is empty");
  for (char c : port) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return bad("the port is not a number");
  }
  if (port.empty() || port.size() > 5 || !absl::SimpleAtoi(port, &result.port) || result.port > 65535) {
    return bad("the port must be 0..65535");
  }
  result.host = std::string(host);
  return result;
}

}  // namespace atelier
