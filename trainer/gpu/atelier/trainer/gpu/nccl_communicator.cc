#include "atelier/trainer/gpu/nccl_communicator.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "atelier/common/status_macros.h"
#include "atelier/trainer/gpu/cuda_status.h"

namespace atelier::trainer::gpu {

absl::StatusOr<std::string> CreateUniqueIdBytes() {
  ncclUniqueId id;
  RETURN_IF_ERROR(NcclStatus(ncclGetUniqueId(&id), "ncclGetUniqueId"));
  return UniqueIdBytes(id);
}

std::string UniqueIdBytes(const ncclUniqueId& id) { return std::string(id.internal, NCCL_UNIQUE_ID_BYTES); }

absl::StatusOr<ncclUniqueId> FromUniqueIdBytes(absl::string_view bytes) {
  if (bytes.size() != NCCL_UNIQUE_ID_BYTES) {
    return absl::InvalidArgumentError(absl::StrCat("NCCL unique id must be ", NCCL_UNIQUE_ID_BYTES,
                                                   " bytes, got ", bytes.size()));
  }
  ncclUniqueId id;
  std::memcpy(id.internal, bytes.data(), NCCL_UNIQUE_ID_BYTES);
  return id;
}

NcclCommunicator::NcclCommunicator(int rank, int world_size, int device, const NcclOptions& options)
    : rank_(rank), world_size_(world_size), device_(device), options_(options) {
  if (options_.clock == nullptr) options_.clock = &Clock::Real();
}

absl::StatusOr<std::unique_ptr<NcclCommunicator>> NcclCommunicator::Create(absl::string_view unique_id_bytes,
                                                                           int rank, int world_size, int device,
                                                                           const NcclOptions& options) {
  if (world_size < 1) return absl::InvalidArgumentError(absl::StrCat("NCCL world size must be >= 1, got ", world_size));
  if (rank < 0 || rank >= world_size) {
    return absl::InvalidArgumentError(absl::StrCat("NCCL rank ", rank, " out of range [0, ", world_size, ")"));
  }
  ASSIGN_OR_RETURN(const ncclUniqueId id, FromUniqueIdBytes(unique_id_bytes));
  RETURN_IF_ERROR(RequireCudaDevice(device));

  std::unique_ptr<NcclCommunicator> comm(new NcclCommunicator(rank, world_size, device, options));
  RETURN_IF_ERROR(comm->MakeDeviceCurrent());
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;  // every call may answer ncclInProgress: Complete() watches it
  ncclUniqueId id_copy = id;
  const ncclResult_t result = ncclCommInitRankConfig(&comm->comm_, world_size, id_copy, rank, &config);
  if (comm->comm_ == nullptr) {
    return NcclStatus(result == ncclSuccess ? ncclInternalError : result,
                      absl::StrCat("ncclCommInitRankConfig (rank ", rank, " of ", world_size, ", cuda:", device, ")"));
  }
  RETURN_IF_ERROR(comm->Complete(
      result, absl::StrCat("joining the NCCL communicator (rank ", rank, " of ", world_size, ", cuda:", device, ")")));
  return comm;
}

NcclCommunicator::~NcclCommunicator() { (void)Close(); }

absl::Status NcclCommunicator::MakeDeviceCurrent() {
  int current = -1;
  RETURN_IF_ERROR(CudaStatus(cudaGetDevice(&current), "cudaGetDevice"));
  if (current == device_) return absl::OkStatus();
  return CudaStatus(cudaSetDevice(device_), absl::StrCat("cudaSetDevice(", device_, ")"));
}

absl::Status NcclCommunicator::CheckUsable() const {
  if (comm_ == nullptr) return absl::FailedPreconditionError("NCCL communicator is closed");
  if (!failure_.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("NCCL communicator was aborted: ", failure_.message()));
  }
  return absl::OkStatus();
}

absl::Status NcclCommunicator::Health() {
  RETURN_IF_ERROR(CheckUsable());
  ncclResult_t async_error = ncclSuccess;
  RETURN_IF_ERROR(NcclStatus(ncclCommGetAsyncError(comm_, &async_error), "ncclCommGetAsyncError", comm_));
  if (async_error == ncclSuccess || async_error == ncclInProgress) return absl::OkStatus();
  return NcclStatus(async_error, absl::StrCat("NCCL rank ", rank_, " of ", world_size_), comm_);
}

void NcclCommunicator::Abort(const absl::Status& reason) {
  if (comm_ == nullptr || !failure_.ok()) return;
  failure_ = reason.ok() ? absl::CancelledError("aborted by the caller") : reason;
  (void)ncclCommAbort(comm_);
}

absl::Status NcclCommunicator::Complete(ncclResult_t result, absl::string_view what) {
  if (result == ncclSuccess) return absl::OkStatus();
  if (result != ncclInProgress) {
    absl::Status status = NcclStatus(result, what, comm_);
    Abort(status);
    return status;
  }
  WatchdogProbe probe;
  probe.done = [this, what]() -> absl::StatusOr<bool> {
    ncclResult_t state = ncclSuccess;
    RETURN_IF_ERROR(NcclStatus(ncclCommGetAsyncError(comm_, &state), "ncclCommGetAsyncError", comm_));
    if (state == ncclInProgress) return false;
    if (state == ncclSuccess) return true;
    return NcclStatus(state, what, comm_);
  };
  probe.abort = [this, what]() {
    Abort(absl::DeadlineExceededError(absl::StrCat(what, ": failed or timed out")));
  };
  absl::Status status = WaitWithWatchdog(what, probe, options_.watchdog, *options_.clock);
  if (!status.ok()) failure_ = status;  // the precise error, for later calls
  return status;
}

absl::Status NcclCommunicator::AllReduce(void* buffer, size_t count, ncclDataType_t dtype, ReduceOp op,
                                         cudaStream_t stream) {
  RETURN_IF_ERROR(CheckUsable());
  RETURN_IF_ERROR(MakeDeviceCurrent());
  const ncclRedOp_t nccl_op = op == ReduceOp::kAvg ? ncclAvg : ncclSum;
  return Complete(ncclAllReduce(buffer, buffer, count, dtype, nccl_op, comm_, stream),
                  absl::StrCat("ncclAllReduce of ", count, " elements (rank ", rank_, " of ", world_size_, ")"));
}

absl::Status NcclCommunicator::WaitForEvent(cudaEvent_t event, absl::string_view what) {
  RETURN_IF_ERROR(CheckUsable());
  WatchdogProbe probe;
  probe.done = [event, what]() -> absl::StatusOr<bool> {
    const cudaError_t e = cudaEventQuery(event);
    if (e == cudaSuccess) return true;
    if (e == cudaErrorNotReady) return false;
    return CudaStatus(e, absl::StrCat(what, ": cudaEventQuery"));
  };
  probe.health = [this]() { return Health(); };
  probe.abort = [this, what]() { Abort(absl::DeadlineExceededError(absl::StrCat(what, ": failed or timed out"))); };
  absl::Status status = WaitWithWatchdog(what, probe, options_.watchdog, *options_.clock);
  if (!status.ok()) failure_ = status;
  return status;
}

absl::Status NcclCommunicator::Synchronize(cudaStream_t stream) {
  RETURN_IF_ERROR(CheckUsable());
  RETURN_IF_ERROR(MakeDeviceCurrent());
  cudaEvent_t event = nullptr;
  RETURN_IF_ERROR(CudaStatus(cudaEventCreateWithFlags(&event, cudaEventDisableTiming), "cudaEventCreate"));
  absl::Status status = CudaStatus(cudaEventRecord(event, stream), "cudaEventRecord");
  if (status.ok()) status = WaitForEvent(event, absl::StrCat("NCCL rank ", rank_, ": waiting for the stream"));
  (void)cudaEventDestroy(event);
  return status;
}

absl::Status NcclCommunicator::Close() {
  if (comm_ == nullptr) return absl::OkStatus();
  absl::Status status;
  if (failure_.ok()) {
    (void)MakeDeviceCurrent();
    status = Complete(ncclCommFinalize(comm_), absl::StrCat("ncclCommFinalize (rank ", rank_, ")"));
  }
  if (failure_.ok()) {
    // Complete() may abort; only a healthy, finalized communicator is destroyed.
    const ncclResult_t result = ncclCommDestroy(comm_);
    if (status.ok()) status = NcclStatus(result, "ncclCommDestroy", nullptr);
  }
  comm_ = nullptr;
  return status;
}

}  // namespace atelier::trainer::gpu
