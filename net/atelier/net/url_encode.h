// Percent-encoding of a URL query component (RFC 3986: unreserved characters
// kept, every other byte as %XX). Pure; thread-safe.
#pragma once

#include <string>

namespace atelier::net {

std::string UrlEncode(const std::string& s);

}  // namespace atelier::net
