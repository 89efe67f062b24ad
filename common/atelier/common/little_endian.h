// Fixed-width little-endian integers in byte strings, for the small binary
// headers of on-disk records (independent of the host's byte order).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace atelier {

inline void AppendU64LittleEndian(std::string& out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

// Reads the 8 bytes at `p`.
inline uint64_t ReadU64LittleEndian(const void* p) {
  const auto* bytes = static_cast<const uint8_t*>(p);
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

}  // namespace atelier
