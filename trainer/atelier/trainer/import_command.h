// `atelier import folder|idx`: turn an image folder (DIR/<class>/<images>) or
// IDX files (the MNIST family) into WebDataset shards (importer.h).
//
// AddImportCommand declares the subcommand and its flags (stored in *flags,
// which must outlive parsing); RunImportCommand runs it after parsing and
// returns the exit code (0; 1 error naming the input).
#pragma once

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "atelier/trainer/importer.h"

namespace atelier::trainer {

struct ImportFlags {
  ImportOptions options;
  std::string dir;                       // folder
  std::string images, labels;            // idx
  std::vector<std::string> class_names;  // idx
  std::string key_prefix = "idx";        // idx
  std::string data_root;
  CLI::App* folder = nullptr;  // set by AddImportCommand: parsed() tells folder from idx
};

CLI::App* AddImportCommand(CLI::App& app, ImportFlags* flags);
int RunImportCommand(ImportFlags flags);

}  // namespace atelier::trainer
