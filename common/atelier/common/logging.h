// Logging for every atelier process: spdlog, one line per event with time,
// level and component, to stderr. Call InitLogging once in main(); afterwards
// use spdlog's macros/functions (`spdlog::info("...")`) or a component logger.
//
// Thread safety: spdlog's loggers are thread-safe (the *_mt sinks are used).
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "spdlog/spdlog.h"

namespace atelier {

// Sets the default logger: `process` names the role ("coordinator",
// "crawler-3"), `level` is one of trace, debug, info, warn, error, off.
// Returns InvalidArgument naming the level if it is unknown.
absl::Status InitLogging(absl::string_view process, absl::string_view level = "info");

// A named logger that shares the default sinks (e.g. "lease", "fetch").
std::shared_ptr<spdlog::logger> ComponentLogger(const std::string& component);

}  // namespace atelier
