// Fuzzes ShardReader (shard_reader.h) with a WebDataset shard: groups members
// into samples, parses their JSON and labels, checks sha256, to the end.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "atelier/common/testing/fuzz_input_file.h"
#include "atelier/dataset/shard_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static atelier::testing::FuzzInputFile file(".tar");
  auto reader = atelier::dataset::ShardReader::Open(file.Write(data, size));
  if (!reader.ok()) return 0;
  // Each sample consumes at least one 512-byte block, so this bounds the loop.
  for (size_t samples = 0; samples <= size / 512 + 2; ++samples) {
    auto sample = (*reader)->Next();
    if (!sample.ok() || !sample->has_value()) break;
  }
  return 0;
}
