// `atelier shard ls FILE` and `atelier shard cat FILE KEY`: look inside a
// WebDataset shard, atelier's or foreign (img2dataset...), without Python.
// `ls` prints one line per intact sample and, when samples were skipped or
// the shard gave none, a summary of what was skipped and why (exit code 1).
// `cat` prints the sample's .json as stored.
#include <cstdio>
#include <iostream>

#include "absl/strings/str_format.h"
#include "atelier/cli/commands.h"
#include "atelier/dataset/shard_reader.h"

namespace atelier::cli {
namespace {

int ListShardCommand(const std::string& file, bool json_lines) {
  auto listing = dataset::ListShard(file);
  if (!listing.ok()) {
    std::cerr << "atelier shard ls: " << listing.status().message() << "\n";
    return 1;
  }
  if (!json_lines) std::cout << absl::StrFormat("%-32s %-5s %10s %12s\n", "KEY", "TYPE", "BYTES", "OFFSET");
  for (const auto& s : listing->samples) {
    if (json_lines) {
      std::cout << absl::StrFormat(R"({"key":"%s","format":"%s","bytes":%d,"offset":%d})", s.key,
                                   s.image_format, s.image_bytes, s.offset)
                << "\n";
    } else {
      std::cout << absl::StrFormat("%-32s %-5s %10d %12d\n", s.key, s.image_format, s.image_bytes, s.offset);
    }
  }
  const dataset::ReadReport& report = listing->report;
  if (report.skipped() > 0 || !report.bad_shards.empty()) {
    std::cerr << "atelier shard ls: " << listing->samples.size() << " intact samples; " << report.Summary() << "\n";
    return 1;
  }
  if (!json_lines) std::cerr << listing->samples.size() << " samples\n";
  return 0;
}

int CatSampleCommand(const std::string& file, const std::string& key) {
  auto json = dataset::ReadSampleJson(file, key);
  if (!json.ok()) {
    std::cerr << "atelier shard cat: " << json.status().message() << "\n";
    return 1;
  }
  std::cout << *json << "\n";
  return 0;
}

}  // namespace

void AddShardCommand(CLI::App& app, int& exit_code) {
  auto* shard = app.add_subcommand("shard", "look inside a WebDataset shard (.tar)");
  shard->require_subcommand(1);

  auto* ls = shard->add_subcommand("ls", "list the samples of a shard (atelier's or any WebDataset tar): key, image type, size, offset");
  auto file = std::make_shared<std::string>();
  auto json_lines = std::make_shared<bool>(false);
  ls->add_option("FILE", *file, "shard file, e.g. data/shards/000000.tar")->required();
  ls->add_flag("--json", *json_lines, "one JSON object per sample instead of a table");
  ls->callback([file, json_lines, &exit_code] { exit_code = ListShardCommand(*file, *json_lines); });

  auto* cat = shard->add_subcommand("cat", "print one sample's .json as stored");
  auto cat_file = std::make_shared<std::string>();
  auto key = std::make_shared<std::string>();
  cat->add_option("FILE", *cat_file, "shard file")->required();
  cat->add_option("KEY", *key, "sample key, e.g. bam-12345 or met-436535-0")->required();
  cat->callback([cat_file, key, &exit_code] { exit_code = CatSampleCommand(*cat_file, *key); });
}

}  // namespace atelier::cli
