// HOST:PORT addresses as the command line takes them (--listen,
// --metrics-listen, --coordinator): "0.0.0.0:7070", "localhost:0",
// "[::1]:7070". ParseListenAddress checks one before any work starts, so a
// typo fails at once with a message naming the address.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace atelier {

struct HostPort {
  std::string host;  // without IPv6 brackets
  int port = 0;      // 0..65535 (0: the system picks one, for servers)
};

// InvalidArgument "'<address>': expected HOST:PORT ..." when the host is
// empty or the port is not a number in 0..65535.
absl::StatusOr<HostPort> ParseListenAddress(absl::string_view address);

}  // namespace atelier
