#include "atelier/net/address_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace atelier::net {
namespace {

using Bytes = std::array<uint8_t, 16>;

Bytes MappedV4(const uint8_t v4[4]) {
  Bytes b{};
  b[10] = 0xff;
  b[11] = 0xff;
  std::memcpy(b.data() + 12, v4, 4);
  return b;
}

bool IsMappedV4(const Bytes& b) {
  for (int i = 0; i < 10; ++i) {
    if (b[i] != 0) return false;
  }
  return b[10] == 0xff && b[11] == 0xff;
}

bool InPrefix(const Bytes& address, const Bytes& network, int prefix) {
  for (int bit = 0; bit < prefix; ++bit) {
    const int i = bit / 8, shift = 7 - bit % 8;
    if (((address[i] >> shift) & 1) != ((network[i] >> shift) & 1)) return false;
  }
  return true;
}

bool IsPrivateV4(const uint8_t a[4]) {
  return a[0] == 0 || a[0] == 10 || a[0] == 127 || (a[0] == 169 && a[1] == 254) ||
         (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
         (a[0] == 100 && (a[1] & 0xc0) == 64) || a[0] >= 224;  // multicast, reserved, broadcast
}

bool IsPrivate(const Bytes& b) {
  if (IsMappedV4(b)) return IsPrivateV4(b.data() + 12);
  bool zero_prefix = true;
  for (int i = 0; i < 15; ++i) zero_prefix = zero_prefix && b[i] == 0;
  if (zero_prefix && (b[15] == 0 || b[15] == 1)) return true;  // ::, ::1
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;      // fe80::/10 link-local
  if ((b[0] & 0xfe) == 0xfc) return true;                      // fc00::/7 unique-local
  if (b[0] == 0xff) return true;                               // multicast
  return false;
}

}  // namespace

absl::StatusOr<AddressGuard> AddressGuard::Create(bool allow_private_networks,
                                                  const std::vector<std::string>& allowed_cidrs) {
  AddressGuard guard;
  guard.allow_all_ = allow_private_networks;
  for (const std::string& cidr : allowed_cidrs) {
    const size_t slash = cidr.find('/');
    const std::string host = cidr.substr(0, slash);
    Network net;
    int max_prefix = 128, offset = 0;
    uint8_t v4[4];
    if (inet_pton(AF_INET, host.c_str(), v4) == 1) {
      net.bytes = MappedV4(v4);
      max_prefix = 32;
      offset = 96;
    } else if (inet_pton(AF_INET6, host.c_str(), net.bytes.data()) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("allowed network '", cidr, "': not an IPv4 or IPv6 address"));
    }
    int prefix = max_prefix;
    if (slash != std::string::npos &&
        (!absl::SimpleAtoi(cidr.substr(slash + 1), &prefix) || prefix < 0 || prefix > max_prefix)) {
      return absl::InvalidArgumentError(
          absl::StrCat("allowed network '", cidr, "': the prefix length must be 0..", max_prefix));
    }
    net.prefix = prefix + offset;
    guard.allowed_.push_back(net);
  }
  return guard;
}

AddressGuard AddressGuard::AllowAll() {
  AddressGuard guard;
  guard.allow_all_ = true;
  return guard;
}

bool AddressGuard::Allows(const sockaddr* address) const {
  if (allow_all_) return true;
  Bytes b{};
  if (address->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    b = MappedV4(reinterpret_cast<const uint8_t*>(&in->sin_addr.s_addr));
  } else if (address->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    std::memcpy(b.data(), in6->sin6_addr.s6_addr, 16);
  } else {
    return false;  // unix sockets and the like: never
  }
  for (const Network& net : allowed_) {
    if (InPrefix(b, net.bytes, net.prefix)) return true;
  }
  return !IsPrivate(b);
}

}  // namespace atelier::net
