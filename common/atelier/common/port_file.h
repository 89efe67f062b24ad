// Port files: how a server started on port 0 (any free port) tells the tests
// and scripts that start it which ports it bound, without them parsing its log
// or picking a "free" port that someone else may take before the server binds
// it. A port file holds one `KEY=PORT` line per listening socket, e.g.
//
//   grpc_port=40123
//   metrics_port=40124
//
// (valid shell assignments: a script can `. FILE`, or
// `sed -n 's/^grpc_port=//p' FILE`). WritePortFile writes it atomically: a
// temporary file beside FILE, then rename(2), so whoever sees FILE sees all of
// it. Thread-safe (no shared state).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace atelier {

// Writes `ports` (key, port) in order, replacing FILE if it exists. Keys are
// [a-z0-9_]+. Written with atelier::WriteFileAtomically (a temporary
// FILE.tmp-<pid>-<hex>, removed on failure; errors as env.h).
absl::Status WritePortFile(const std::filesystem::path& file,
                           const std::vector<std::pair<std::string, int>>& ports);

// Reads a port file: NotFound when FILE does not exist (not written yet),
// InvalidArgument naming FILE and the line for anything but KEY=PORT lines.
absl::StatusOr<std::map<std::string, int>> ReadPortFile(const std::filesystem::path& file);

}  // namespace atelier
