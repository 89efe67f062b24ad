// FakeCoordinator: an in-process CrawlService on 127.0.0.1 for worker tests.
//
// Shards are given in order to whoever asks; a worker that registers again
// with the same worker_name gets its id back and re-leases the shard it held
// (with a new fencing token). CompleteShard/Heartbeat/ReportProgress/
// ReleaseShard check the fencing token like the real coordinator. Knobs:
// steal_on_heartbeat makes the first Heartbeat of a lease answer ok=false and
// marks the shard done as if another worker had committed it;
// steal_on_complete does the same to the first CompleteShard of a lease (the
// worker published its tar, then learns it was stale). SealSegment is
// accepted for the current lease like the real coordinator: the segments of a
// shard go to every later lease of it and are deleted by its accepted
// CompleteShard; AddSegment plants one as if an earlier holder had sealed it.
// Every request is recorded (seals with the sha256 of their file at that
// moment, when the dataset root is known). Thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "atelier/v1/crawl.grpc.pb.h"

namespace atelier::crawler::testing {

class FakeCoordinator final : public v1::CrawlService::Service {
 public:
  FakeCoordinator(v1::CrawlSettings settings, std::vector<std::vector<v1::WorkItem>> shards);
  ~FakeCoordinator() override;

  std::string address() const { return address_; }

  grpc::Status RegisterWorker(grpc::ServerContext*, const v1::RegisterWorkerRequest* request,
                              v1::RegisterWorkerResponse* response) override;
  grpc::Status LeaseShard(grpc::ServerContext*, const v1::LeaseShardRequest* request,
                          v1::LeaseShardResponse* response) override;
  grpc::Status Heartbeat(grpc::ServerContext*, const v1::HeartbeatRequest* request,
                         v1::HeartbeatResponse* response) override;
  grpc::Status ReportProgress(grpc::ServerContext*, const v1::ReportProgressRequest* request,
                              v1::ReportProgressResponse* response) override;
  grpc::Status CompleteShard(grpc::ServerContext*, const v1::CompleteShardRequest* request,
                             v1::CompleteShardResponse* response) override;
  grpc::Status ReleaseShard(grpc::ServerContext*, const v1::ReleaseShardRequest* request,
                            v1::ReleaseShardResponse* response) override;
  grpc::Status SealSegment(grpc::ServerContext*, const v1::SealSegmentRequest* request,
                           v1::SealSegmentResponse* response) override;

  struct Seal {
    v1::SealSegmentRequest request;
    bool accepted = false;
    std::string file_sha256;  // of dataset_root/path when sealed; "" if no file or no root
  };
  void AddSegment(uint64_t shard, v1::SealedSegment segment);
  // Every leased shard is pending again (its holder is presumed dead, as
  // when a lease's TTL ends); the next LeaseShard of anyone gets it.
  void ExpireLeases();
  // Where seals' files are read from (the workers' dataset root).
  void set_dataset_root(std::string root);
  std::vector<Seal> seals() const;
  // Until `n` seals were accepted, or `timeout` of real time; false on timeout.
  bool AwaitAcceptedSeals(int n, absl::Duration timeout) const;

  void set_steal_on_heartbeat(bool on);
  void set_steal_on_complete(bool on);
  std::vector<v1::CompleteShardRequest> completed() const;
  std::vector<v1::ReleaseShardRequest> released() const;
  int registrations() const;
  int heartbeats() const;
  int progress_results() const;  // ItemResults received through ReportProgress
  bool all_done() const;
  // Block (on the fake's mutex, no polling) until a lease has been released /
  // every shard is done, or `timeout` of real time passes; false on timeout.
  bool AwaitReleased(absl::Duration timeout) const;
  bool AwaitAllDone(absl::Duration timeout) const;

 private:
  struct Shard {
    std::vector<v1::WorkItem> items;
    enum class State { kPending, kLeased, kDone } state = State::kPending;
    std::string holder;
    uint64_t token = 0;
    int attempt = 0;
    std::vector<v1::SealedSegment> segments;
  };
  bool Current(uint64_t shard, uint64_t token) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool AllDoneLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const v1::CrawlSettings settings_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  mutable absl::Mutex mu_;
  std::vector<Shard> shards_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> ids_by_name_ ABSL_GUARDED_BY(mu_);
  uint64_t next_token_ ABSL_GUARDED_BY(mu_) = 1;
  bool steal_on_heartbeat_ ABSL_GUARDED_BY(mu_) = false;
  bool steal_on_complete_ ABSL_GUARDED_BY(mu_) = false;
  int registrations_ ABSL_GUARDED_BY(mu_) = 0;
  int heartbeats_ ABSL_GUARDED_BY(mu_) = 0;
  int progress_results_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<v1::CompleteShardRequest> completed_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::ReleaseShardRequest> released_ ABSL_GUARDED_BY(mu_);
  std::vector<Seal> seals_ ABSL_GUARDED_BY(mu_);
  int accepted_seals_ ABSL_GUARDED_BY(mu_) = 0;
  std::string dataset_root_ ABSL_GUARDED_BY(mu_);
};

}  // namespace atelier::crawler::testing
