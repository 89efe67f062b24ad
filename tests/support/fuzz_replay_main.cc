// fuzz_replay: runs libFuzzer entry points without libFuzzer (docs/fuzzing.md).
// Linked with a fuzzer's LLVMFuzzerTestOneInput by atelier_fuzzer() in the
// normal build, as NAME_replay, so every fuzzer compiles with g++ and its seed
// corpus is a regression test (CTest fuzz.NAME.corpus_replay).
//   usage: NAME_replay PATH...   (files, or folders whose files are run in name order)
// Exit codes: 0 every input ran; 1 no input was found or one cannot be read.
// A crash or sanitizer report of an input ends the process (its name is
// printed first).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path path(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      std::vector<std::filesystem::path> files;
      for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
      inputs.insert(inputs.end(), files.begin(), files.end());
    } else {
      inputs.push_back(path);
    }
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "fuzz_replay: no input (usage: %s PATH...)\n", argv[0]);
    return 1;
  }
  for (const auto& path : inputs) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "fuzz_replay: cannot read %s\n", path.c_str());
      return 1;
    }
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::fprintf(stderr, "fuzz_replay: %s (%zu bytes)\n", path.c_str(), bytes.size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  std::fprintf(stderr, "fuzz_replay: %zu inputs ran\n", inputs.size());
  return 0;
}
