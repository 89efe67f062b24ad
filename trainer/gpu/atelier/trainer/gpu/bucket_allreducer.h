// BucketAllReducer: allreduces gradient buckets on a side stream while backward
// goes on, ordered with CUDA events.
//
//   Launch(b, ...):  record ready[b] on the compute stream (the bucket's flat
//                    gradients are written there), make the communication
//                    stream wait for it, enqueue ncclAllReduce on the
//                    communication stream, record done[b] there.
//   Wait(compute):   make the compute stream wait for done[b] of every bucket
//                    launched in this iteration (device-side; the host does
//                    not block), e.g. before the optimizer step.
//   Synchronize():   block the host until every launched bucket is done,
//                    polling ncclCommGetAsyncError under the communicator's
//                    watchdog; on error or timeout the communicator is aborted
//                    and a clear status comes back instead of a hang. Call it
//                    before anything that blocks the host on the compute
//                    stream (reading the loss).
//   Reset():         start the next iteration (after Wait/Synchronize).
//
// Every rank must launch the same buckets in the same order (BucketReadiness
// gives that order). The flat buffers are the caller's: they must stay alive
// and unchanged from Launch until the compute stream has passed Wait (with
// LibTorch's caching allocator: record the communication stream on them).
//
// Ownership: owns the communication stream and the events; borrows the
// communicator, which must outlive it. Not thread-safe.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "atelier/trainer/gpu/nccl_communicator.h"

namespace atelier::trainer::gpu {

class BucketAllReducer {
 public:
  // A non-blocking communication stream on the communicator's device and two
  // events per bucket.
  static absl::StatusOr<std::unique_ptr<BucketAllReducer>> Create(NcclCommunicator& comm, int num_buckets);

  BucketAllReducer(const BucketAllReducer&) = delete;
  BucketAllReducer& operator=(const BucketAllReducer&) = delete;
  ~BucketAllReducer();

  // InvalidArgument for a bucket out of range, FailedPrecondition for a bucket
  // launched twice in one iteration.
  absl::Status Launch(int bucket, float* flat, size_t count, ReduceOp op, cudaStream_t compute_stream);
  absl::Status Wait(cudaStream_t compute_stream);
  absl::Status Synchronize();
  void Reset();

  cudaStream_t comm_stream() const { return comm_stream_; }
  int launched() const { return static_cast<int>(launched_order_.size()); }

 private:
  explicit BucketAllReducer(NcclCommunicator& comm) : comm_(comm) {}

  NcclCommunicator& comm_;
  cudaStream_t comm_stream_ = nullptr;
  std::vector<cudaEvent_t> ready_;
  std::vector<cudaEvent_t> done_;
  std::vector<bool> launched_;
  std::vector<int> launched_order_;
};

}  // namespace atelier::trainer::gpu
