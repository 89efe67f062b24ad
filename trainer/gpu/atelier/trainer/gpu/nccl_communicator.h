// NcclCommunicator: one NCCL communicator for this process's one GPU, with a
// watchdog so that a dead peer or a stuck collective becomes an absl::Status
// instead of a hang.
//
// Needs only the CUDA runtime and NCCL (no LibTorch). The unique id exchange is
// the caller's: rank 0 calls CreateUniqueIdBytes() and hands the bytes to every
// rank through its rendezvous (c10d's TCPStore, the coordinator); each rank then
// calls NcclCommunicator::Create with them.
//
// The communicator runs in NCCL's non-blocking mode: every NCCL call that
// answers ncclInProgress is polled (ncclCommGetAsyncError) under the watchdog,
// so initialisation with a peer that never shows up ends in DeadlineExceeded
// after options.watchdog.timeout. On any NCCL error or timeout the communicator
// is aborted (ncclCommAbort) and every later call fails with
// FailedPrecondition naming the first error.
//
// Ownership: owns the ncclComm_t; buffers and streams are the caller's.
// Thread safety: one thread uses a communicator at a time.
#pragma once

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "atelier/common/clock.h"
#include "atelier/trainer/gpu/watchdog.h"

namespace atelier::trainer::gpu {

enum class ReduceOp { kSum, kAvg };

// A new NCCL unique id (rank 0 only), as NCCL_UNIQUE_ID_BYTES raw bytes.
absl::StatusOr<std::string> CreateUniqueIdBytes();
// The raw bytes of `id`, and back. FromUniqueIdBytes: InvalidArgument unless
// exactly NCCL_UNIQUE_ID_BYTES long.
std::string UniqueIdBytes(const ncclUniqueId& id);
absl::StatusOr<ncclUniqueId> FromUniqueIdBytes(absl::string_view bytes);

struct NcclOptions {
  WatchdogOptions watchdog;
  Clock* clock = nullptr;  // nullptr: Clock::Real()
};

class NcclCommunicator {
 public:
  // Makes `device` current and joins the `world_size`-rank communicator named
  // by `unique_id_bytes` as `rank`. FailedPrecondition "no CUDA device ..."
  // when no GPU is visible (checked first: never crashes without a GPU),
  // OutOfRange for a device that does not exist, InvalidArgument for a bad
  // rank / world size / id, DeadlineExceeded when the peers do not all join in
  // time.
  static absl::StatusOr<std::unique_ptr<NcclCommunicator>> Create(absl::string_view unique_id_bytes, int rank,
                                                                  int world_size, int device,
                                                                  const NcclOptions& options = {});

  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;
  // Close() (errors ignored: call Close() to see them).
  ~NcclCommunicator();

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  int device() const { return device_; }
  ncclComm_t raw() const { return comm_; }
  const NcclOptions& options() const { return options_; }
  Clock& clock() const { return *options_.clock; }

  // Enqueues an in-place allreduce of `count` elements of `dtype` at device
  // pointer `buffer` on `stream`. Returns once enqueued; the result is ready
  // when `stream` reaches it.
  absl::Status AllReduce(void* buffer, size_t count, ncclDataType_t dtype, ReduceOp op, cudaStream_t stream);
  absl::Status AllReduce(float* buffer, size_t count, ReduceOp op, cudaStream_t stream) {
    return AllReduce(buffer, count, ncclFloat32, op, stream);
  }

  // Blocks until `event` has completed, polling the communicator's async error
  // under the watchdog; aborts on error or timeout.
  absl::Status WaitForEvent(cudaEvent_t event, absl::string_view what);
  // Blocks until all work enqueued so far on `stream` has completed (records
  // an event and waits for it with WaitForEvent).
  absl::Status Synchronize(cudaStream_t stream);

  // OK while no asynchronous NCCL error has been reported.
  absl::Status Health();
  // Aborts the communicator (ncclCommAbort); later calls fail with `reason`.
  void Abort(const absl::Status& reason);
  bool aborted() const { return !failure_.ok(); }

  // Flushes and destroys the communicator (ncclCommFinalize, ncclCommDestroy),
  // under the watchdog. Idempotent.
  absl::Status Close();

 private:
  NcclCommunicator(int rank, int world_size, int device, const NcclOptions& options);

  absl::Status MakeDeviceCurrent();
  // Completes a non-blocking NCCL call: polls while it is in progress; aborts
  // and returns the error if it failed.
  absl::Status Complete(ncclResult_t result, absl::string_view what);
  absl::Status CheckUsable() const;

  int rank_;
  int world_size_;
  int device_;
  NcclOptions options_;
  ncclComm_t comm_ = nullptr;
  absl::Status failure_;  // the error that aborted the communicator
};

}  // namespace atelier::trainer::gpu
