// AddressGuard: which resolved addresses the crawler may connect to (the SSRF
// guard). By default it refuses loopback (127/8, ::1), link-local
// (169.254/16, fe80::/10: cloud metadata services live there), private
// (10/8, 172.16/12, 192.168/16, 100.64/10 carrier-grade NAT), unique-local
// (fc00::/7), unspecified (0/8, ::) and multicast/broadcast addresses;
// IPv4-mapped IPv6 addresses are judged as their IPv4 address. Everything can
// be allowed (allow_private_networks, for tests and intranet crawls), or just
// the networks of a CIDR allow-list ("10.1.0.0/16", "127.0.0.1/32", "::1/128").
//
// CurlFetcher asks it for every connection it opens (each redirect hop, each
// address tried), after DNS resolution. Immutable; thread-safe.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace atelier::net {

class AddressGuard {
 public:
  // The default guard: every public address, nothing of the above.
  AddressGuard() = default;
  // InvalidArgument naming the entry for a CIDR that does not parse.
  static absl::StatusOr<AddressGuard> Create(bool allow_private_networks, const std::vector<std::string>& allowed_cidrs);
  static AddressGuard AllowAll();

  bool Allows(const sockaddr* address) const;
  bool allows_everything() const { return allow_all_; }

 private:
  struct Network {
    std::array<uint8_t, 16> bytes{};  // IPv4 as IPv4-mapped IPv6
    int prefix = 0;                   // in bits of the 16 bytes
  };
  bool allow_all_ = false;
  std::vector<Network> allowed_;
};

}  // namespace atelier::net
