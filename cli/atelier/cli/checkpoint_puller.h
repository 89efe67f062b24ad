// PullCheckpoint: downloads one checkpoint from a coordinator's
// CheckpointService into `output`, resumably and atomically:
//  - bytes go to "<output>.part"; "<output>.part.json" remembers the run, the
//    resolved file name and its sha256, so a later call resumes at the byte
//    where the last one stopped (and starts over if the file changed);
//  - the whole file's sha256 is verified before "<output>.part" (fsynced) is
//    renamed to `output` (PublishFile, atomic_file.h): a partial or corrupt
//    file never has the final name.
// Every file goes through `env` (tests: a FaultEnv); a full disk is
// RESOURCE_EXHAUSTED naming the file, and the bytes already held are resumed from.
// Blocking; not thread-safe for the same `output`.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "atelier/common/env.h"

namespace atelier::cli {

struct PullRequest {
  std::string coordinator;  // host:port
  std::string run;
  std::string which = "best";  // latest | best | step-N | model.pt | a file name
  std::string output;
  int chunk_bytes = 0;          // 0: server default
  // Test hook: stop (as if the connection dropped) after this many bytes of
  // this call; 0 = never.
  int64_t stop_after_bytes = 0;
};

struct PullResult {
  std::string name;     // resolved file name, e.g. ckpt-120.pt
  std::string sha256;
  int64_t size_bytes = 0;
  int64_t resumed_from = 0;  // bytes already held when this call started
};

// `progress(bytes_done, bytes_total)` is called after every chunk when set.
absl::StatusOr<PullResult> PullCheckpoint(const PullRequest& request,
                                          const std::function<void(int64_t, int64_t)>& progress = {},
                                          Env* env = Env::Default());

}  // namespace atelier::cli
