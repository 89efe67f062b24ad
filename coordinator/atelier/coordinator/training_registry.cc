#include "atelier/coordinator/training_registry.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace atelier::coordinator {

absl::StatusOr<JoinResult> TrainingRegistry::Join(const JoinRequest& request) {
  if (request.run.empty()) return absl::InvalidArgumentError("JoinTraining: empty run name");
  if (request.world_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("JoinTraining: world_size ", request.world_size, " for run '",
                                                   request.run, "' must be at least 1"));
  }
  if (request.member_id.empty()) return absl::InvalidArgumentError("JoinTraining: empty member_id");
  absl::MutexLock lock(&mu_);
  Run& run = runs_[request.run];
  auto find_member = [&run, &request] {
    return std::find_if(run.members.begin(), run.members.end(),
                        [&](const Member& m) { return m.member_id == request.member_id; });
  };
  auto existing = find_member();
  if (existing == run.members.end()) {
    if (run.complete) {
      // A new process joins a formed group: the group is being re-formed
      // (restart after a failure). Start a new generation.
      run.members.clear();
      run.complete = false;
      ++run.generation;
    }
    if (!run.members.empty() && run.world_size != request.world_size) {
      return absl::FailedPreconditionError(absl::StrCat("JoinTraining: run '", request.run, "' is forming with world_size ",
                                                        run.world_size, ", not ", request.world_size));
    }
    run.world_size = request.world_size;
    run.members.push_back(Member{request.member_id, request.hostname, request.store_port});
    // Releasing mu_ wakes the members waiting below.
    if (static_cast<int>(run.members.size()) == run.world_size) run.complete = true;
  }
  const uint64_t generation = run.generation;
  const bool formed = clock_->WaitUntil(mu_, clock_->Now() + request.timeout, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = runs_.find(request.run);
    return it != runs_.end() && it->second.complete && it->second.generation == generation;
  });
  if (!formed) {
    auto& r = runs_[request.run];
    const size_t joined = r.members.size();
    r.members.erase(std::remove_if(r.members.begin(), r.members.end(),
                                   [&](const Member& m) { return m.member_id == request.member_id; }),
                    r.members.end());
    return absl::DeadlineExceededError(absl::StrCat("JoinTraining: run '", request.run, "' has ", joined, " of ",
                                                    request.world_size, " ranks after waiting ",
                                                    absl::FormatDuration(request.timeout)));
  }
  const Run& formed_run = runs_[request.run];
  auto member = std::find_if(formed_run.members.begin(), formed_run.members.end(),
                             [&](const Member& m) { return m.member_id == request.member_id; });
  JoinResult result;
  result.rank = static_cast<int>(member - formed_run.members.begin());
  result.world_size = formed_run.world_size;
  result.master_addr = formed_run.members.front().hostname;
  result.master_port = formed_run.members.front().store_port;
  result.generation = formed_run.generation;
  return result;
}

void TrainingRegistry::ReportMetrics(const atelier::v1::ReportMetricsRequest& report) {
  if (report.rank() != 0) return;
  absl::MutexLock lock(&mu_);
  Run& run = runs_[report.run()];
  run.has_report = true;
  run.last = report;
  if (report.world_size() > 0) run.world_size = report.world_size();
  run.updated_at_ms = clock_->NowMillis();
}

bool TrainingRegistry::RequestStop(const std::string& run) {
  absl::MutexLock lock(&mu_);
  const bool known = runs_.contains(run);
  runs_[run].stop_requested = true;
  return known;
}

bool TrainingRegistry::StopRequested(const std::string& run) const {
  absl::MutexLock lock(&mu_);
  auto it = runs_.find(run);
  return it != runs_.end() && it->second.stop_requested;
}

std::vector<atelier::v1::TrainingRunStatus> TrainingRegistry::Runs() const {
  absl::MutexLock lock(&mu_);
  std::vector<atelier::v1::TrainingRunStatus> out;
  for (const auto& [name, run] : runs_) {
    if (!run.has_report && run.members.empty()) continue;
    atelier::v1::TrainingRunStatus status;
    status.set_run(name);
    status.set_world_size(run.world_size);
    if (run.has_report) *status.mutable_last() = run.last;
    status.set_updated_at_ms(run.updated_at_ms);
    out.push_back(std::move(status));
  }
  return out;
}

}  // namespace atelier::coordinator
