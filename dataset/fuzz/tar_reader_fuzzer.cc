// Fuzzes TarReader (tar_reader.h) with a tar archive: reads every entry and
// every damage report to the end.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "atelier/common/testing/fuzz_input_file.h"
#include "atelier/dataset/tar_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static atelier::testing::FuzzInputFile file(".tar");
  auto tar = atelier::dataset::TarReader::Open(file.Write(data, size));
  if (!tar.ok()) return 0;
  // Each item consumes at least one 512-byte block, so this bounds the loop.
  for (size_t items = 0; items <= size / 512 + 2; ++items) {
    auto item = (*tar)->Next();
    if (!item.ok() || !item->has_value()) break;
  }
  return 0;
}
