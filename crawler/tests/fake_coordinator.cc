#include "fake_coordinator.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "atelier/dataset/sha256.h"

namespace atelier::crawler::testing {

FakeCoordinator::FakeCoordinator(v1::CrawlSettings settings, std::vector<std::vector<v1::WorkItem>> shards)
    : settings_(std::move(settings)) {
  for (auto& items : shards) {
    Shard s;
    s.items = std::move(items);
    shards_.push_back(std::move(s));
  }
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(this);
  server_ = builder.BuildAndStart();
  address_ = absl::StrCat("127.0.0.1:", port);
}

FakeCoordinator::~FakeCoordinator() { server_->Shutdown(); }

bool FakeCoordinator::Current(uint64_t shard, uint64_t token) const {
  return shard < shards_.size() && shards_[shard].state == Shard::State::kLeased && shards_[shard].token == token;
}

grpc::Status FakeCoordinator::RegisterWorker(grpc::ServerContext*, const v1::RegisterWorkerRequest* request,
                                             v1::RegisterWorkerResponse* response) {
  absl::MutexLock l(&mu_);
  ++registrations_;
  auto [it, added] = ids_by_name_.emplace(request->worker_name(), absl::StrCat("w", ids_by_name_.size() + 1));
  response->set_worker_id(it->second);
  *response->mutable_settings() = settings_;
  response->set_job_name("fake-job");
  return grpc::Status::OK;
}

grpc::Status FakeCoordinator::LeaseShard(grpc::ServerContext*, const v1::LeaseShardRequest* request,
                                         v1::LeaseShardResponse* response) {
  absl::MutexLock l(&mu_);
  bool any_open = false;
  for (size_t i = 0; i < shards_.size(); ++i) {
    Shard& s = shards_[i];
    if (s.state != Shard::State::kDone) any_open = true;
    const bool mine = s.state == Shard::State::kLeased && s.holder == request->worker_id();
    if (s.state != Shard::State::kPending && !mine) continue;
    s.state = Shard::State::kLeased;
    s.holder = request->worker_id();
    s.token = next_token_++;
    ++s.attempt;
    response->set_has_shard(true);
    response->set_shard_id(i);
    response->set_fencing_token(s.token);
    response->set_attempt(s.attempt);
    for (const auto& item : s.items) *response->add_items() = item;
    for (const auto& segment : s.segments) *response->add_segments() = segment;
    return grpc::Status::OK;
  }
  response->set_has_shard(false);
  response->set_job_done(!any_open);
  return grpc::Status::OK;
}

grpc::Status FakeCoordinator::Heartbeat(grpc::ServerContext*, const v1::HeartbeatRequest* request,
                                        v1::HeartbeatResponse* response) {
  absl::MutexLock l(&mu_);
  ++heartbeats_;
  if (steal_on_heartbeat_ && Current(request->shard_id(), request->fencing_token())) {
    Shard& s = shards_[request->shard_id()];
    s.state = Shard::State::kDone;
    s.holder = "another-worker";
    response->set_ok(false);
    return grpc::Status::OK;
  }
  response->set_ok(Current(request->shard_id(), request->fencing_token()));
  return grpc::Status::OK;
}

grpc::Status FakeCoordinator::ReportProgress(grpc::ServerContext*, const v1::ReportProgressRequest* request,
                                             v1::ReportProgressResponse* response) {
  absl::MutexLock l(&mu_);
  progress_results_ += request->results_size();
  response->set_ok(Current(request->shard_id(), request->fencing_token()));
  return grpc::Status::OK;
}

grpc::Status FakeCoordinator::CompleteShard(grpc::ServerContext*, const v1::CompleteShardRequest* request,
                                            v1::CompleteShardResponse* response) {
  absl::MutexLock l(&mu_);
  if (!Current(request->shard_id(), request->fencing_token())) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "stale fencing token");
  }
  shards_[request->shard_id()].state = Shard::State::kDone;
  if (steal_on_complete_) {
    shards_[request->shard_id()].holder = "another-worker";
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "stale fencing token");
  }
  completed_.push_back(*request);
  shards_[request->shard_id()].segments.clear();
  response->set_accepted(true);
  return grpc::Status::OK;
}

grpc::Status FakeCoordinator::ReleaseShard(grpc::ServerContext*, const v1::ReleaseShardRequest* request,
                                           v1::ReleaseShardResponse* response) {
  absl::MutexLock l(&mu_);
  released_.push_back(*request);
  if (!Current(request->shard_id(), request->fencing_token())) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "stale fencing token");
  }
  Shard& s = shards_[request->shard_id()];
  s.state = Shard::State::kPending;
  s.holder.clear();
  response->set_released(true);
  return grpc::Status::OK;
}

grpc::Status FakeCoordinator::SealSegment(grpc::ServerContext*, const v1::SealSegmentRequest* request,
                                          v1::SealSegmentResponse* response) {
  absl::MutexLock l(&mu_);
  Seal seal{*request, Current(request->shard_id(), request->fencing_token()), ""};
  if (!dataset_root_.empty() && !request->segment().path().empty()) {
    auto sha = dataset::Sha256OfFile(std::filesystem::path(dataset_root_) / request->segment().path());
    if (sha.ok()) seal.file_sha256 = *sha;
  }
  seals_.push_back(seal);
  if (seal.accepted) {
    v1::SealedSegment segment = request->segment();
    segment.set_fencing_token(request->fencing_token());
    shards_[request->shard_id()].segments.push_back(std::move(segment));
    ++accepted_seals_;
  }
  response->set_accepted(seal.accepted);
  return grpc::Status::OK;
}

void FakeCoordinator::AddSegment(uint64_t shard, v1::SealedSegment segment) {
  absl::MutexLock l(&mu_);
  shards_.at(shard).segments.push_back(std::move(segment));
}

void FakeCoordinator::ExpireLeases() {
  absl::MutexLock l(&mu_);
  for (Shard& s : shards_) {
    if (s.state != Shard::State::kLeased) continue;
    s.state = Shard::State::kPending;
    s.holder.clear();
  }
}

void FakeCoordinator::set_dataset_root(std::string root) {
  absl::MutexLock l(&mu_);
  dataset_root_ = std::move(root);
}

std::vector<FakeCoordinator::Seal> FakeCoordinator::seals() const {
  absl::MutexLock l(&mu_);
  return seals_;
}

bool FakeCoordinator::AwaitAcceptedSeals(int n, absl::Duration timeout) const {
  absl::MutexLock l(&mu_);
  auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return accepted_seals_ >= n; };
  return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
}

void FakeCoordinator::set_steal_on_heartbeat(bool on) {
  absl::MutexLock l(&mu_);
  steal_on_heartbeat_ = on;
}

void FakeCoordinator::set_steal_on_complete(bool on) {
  absl::MutexLock l(&mu_);
  steal_on_complete_ = on;
}

std::vector<v1::CompleteShardRequest> FakeCoordinator::completed() const {
  absl::MutexLock l(&mu_);
  return completed_;
}

std::vector<v1::ReleaseShardRequest> FakeCoordinator::released() const {
  absl::MutexLock l(&mu_);
  return released_;
}

int FakeCoordinator::registrations() const {
  absl::MutexLock l(&mu_);
  return registrations_;
}

int FakeCoordinator::heartbeats() const {
  absl::MutexLock l(&mu_);
  return heartbeats_;
}

int FakeCoordinator::progress_results() const {
  absl::MutexLock l(&mu_);
  return progress_results_;
}

bool FakeCoordinator::AllDoneLocked() const {
  for (const auto& s : shards_) {
    if (s.state != Shard::State::kDone) return false;
  }
  return true;
}

bool FakeCoordinator::all_done() const {
  absl::MutexLock l(&mu_);
  return AllDoneLocked();
}

bool FakeCoordinator::AwaitReleased(absl::Duration timeout) const {
  absl::MutexLock l(&mu_);
  auto released = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !released_.empty(); };
  return mu_.AwaitWithTimeout(absl::Condition(&released), timeout);
}

bool FakeCoordinator::AwaitAllDone(absl::Duration timeout) const {
  absl::MutexLock l(&mu_);
  auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return AllDoneLocked(); };
  return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
}

}  // namespace atelier::crawler::testing
