#include "atelier/trainer/gpu/bucket_allreducer.h"

#include "absl/strings/str_cat.h"
#include "atelier/common/status_macros.h"
#include "atelier/trainer/gpu/cuda_status.h"

namespace atelier::trainer::gpu {

absl::StatusOr<std::unique_ptr<BucketAllReducer>> BucketAllReducer::Create(NcclCommunicator& comm, int num_buckets) {
  if (num_buckets < 0) return absl::InvalidArgumentError(absl::StrCat("negative bucket count ", num_buckets));
  RETURN_IF_ERROR(CudaStatus(cudaSetDevice(comm.device()), absl::StrCat("cudaSetDevice(", comm.device(), ")")));
  std::unique_ptr<BucketAllReducer> reducer(new BucketAllReducer(comm));
  RETURN_IF_ERROR(CudaStatus(cudaStreamCreateWithFlags(&reducer->comm_stream_, cudaStreamNonBlocking),
                             "creating the NCCL communication stream"));
  for (int i = 0; i < num_buckets; ++i) {
    for (auto* events : {&reducer->ready_, &reducer->done_}) {
      cudaEvent_t event = nullptr;
      RETURN_IF_ERROR(CudaStatus(cudaEventCreateWithFlags(&event, cudaEventDisableTiming),
                                 absl::StrCat("creating the events of bucket ", i)));
      events->push_back(event);
    }
  }
  reducer->launched_.assign(num_buckets, false);
  return reducer;
}

BucketAllReducer::~BucketAllReducer() {
  for (cudaEvent_t e : ready_) (void)cudaEventDestroy(e);
  for (cudaEvent_t e : done_) (void)cudaEventDestroy(e);
  if (comm_stream_ != nullptr) (void)cudaStreamDestroy(comm_stream_);
}

absl::Status BucketAllReducer::Launch(int bucket, float* flat, size_t count, ReduceOp op,
                                      cudaStream_t compute_stream) {
  if (bucket < 0 || bucket >= static_cast<int>(launched_.size())) {
    return absl::InvalidArgumentError(
        absl::StrCat("bucket ", bucket, " out of range [0, ", launched_.size(), ")"));
  }
  if (launched_[bucket]) {
    return absl::FailedPreconditionError(absl::StrCat("bucket ", bucket, " launched twice in one iteration"));
  }
  const std::string what = absl::StrCat("bucket ", bucket);
  RETURN_IF_ERROR(CudaStatus(cudaEventRecord(ready_[bucket], compute_stream), absl::StrCat(what, ": record ready")));
  RETURN_IF_ERROR(CudaStatus(cudaStreamWaitEvent(comm_stream_, ready_[bucket], 0),
                             absl::StrCat(what, ": communication stream waits for ready")));
  RETURN_IF_ERROR(Annotate(comm_.AllReduce(flat, count, op, comm_stream_), what));
  RETURN_IF_ERROR(CudaStatus(cudaEventRecord(done_[bucket], comm_stream_), absl::StrCat(what, ": record done")));
  launched_[bucket] = true;
  launched_order_.push_back(bucket);
  return absl::OkStatus();
}

absl::Status BucketAllReducer::Wait(cudaStream_t compute_stream) {
  for (int bucket : launched_order_) {
    RETURN_IF_ERROR(CudaStatus(cudaStreamWaitEvent(compute_stream, done_[bucket], 0),
                               absl::StrCat("compute stream waits for bucket ", bucket)));
  }
  return absl::OkStatus();
}

absl::Status BucketAllReducer::Synchronize() {
  for (int bucket : launched_order_) {
    RETURN_IF_ERROR(comm_.WaitForEvent(
        done_[bucket], absl::StrCat("allreduce of bucket ", bucket, " (rank ", comm_.rank(), " of ",
                                    comm_.world_size(), ")")));
  }
  return absl::OkStatus();
}

void BucketAllReducer::Reset() {
  launched_.assign(launched_.size(), false);
  launched_order_.clear();
}

}  // namespace atelier::trainer::gpu
