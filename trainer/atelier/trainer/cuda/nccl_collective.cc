#include "atelier/trainer/cuda/nccl_collective.h"

#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "atelier/common/status_macros.h"
#include "atelier/trainer/gpu/nccl_communicator.h"
#include "atelier/trainer/rendezvous_store.h"

namespace atelier::trainer {
namespace {

constexpr char kUniqueIdKey[] = "atelier/nccl-unique-id";

absl::StatusOr<ncclDataType_t> NcclType(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat32: return ncclFloat32;
    case torch::kFloat64: return ncclFloat64;
    case torch::kBFloat16: return ncclBfloat16;
    case torch::kFloat16: return ncclFloat16;
    case torch::kInt64: return ncclInt64;
    case torch::kInt32: return ncclInt32;
    case torch::kUInt8: return ncclUint8;
    default:
      return absl::InvalidArgumentError(absl::StrCat("NCCL cannot reduce tensors of ", c10::toString(t.scalar_type())));
  }
}

// A started bucket allreduce: `done` is recorded on the communication stream.
class PendingNccl : public PendingCollective {
 public:
  PendingNccl(gpu::NcclCommunicator& comm, c10::DeviceIndex device, at::cuda::CUDAEvent done)
      : comm_(comm), device_(device), done_(std::move(done)) {}
  absl::Status Wait() override {
    try {
      done_.block(c10::cuda::getCurrentCUDAStream(device_));
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("waiting for an NCCL allreduce: ", e.what()));
    }
    return comm_.Health();
  }

 private:
  gpu::NcclCommunicator& comm_;
  c10::DeviceIndex device_;
  at::cuda::CUDAEvent done_;
};

class NcclCollective : public Collective {
 public:
  NcclCollective(c10::intrusive_ptr<c10d::Store> store, std::unique_ptr<gpu::NcclCommunicator> comm,
                 c10::cuda::CUDAStream comm_stream)
      : store_(std::move(store)), comm_(std::move(comm)), comm_stream_(comm_stream),
        device_(static_cast<c10::DeviceIndex>(comm_->device())) {}
  ~NcclCollective() override { comm_->Close().IgnoreError(); }

  int rank() const override { return comm_->rank(); }
  int world_size() const override { return comm_->world_size(); }

  absl::Status Broadcast(std::vector<torch::Tensor>& tensors, int root) override {
    for (torch::Tensor& t : tensors) {
      torch::Tensor mine = rank() == root ? t : torch::zeros_like(t);
      RETURN_IF_ERROR(ReduceBlocking(mine));
      if (rank() != root) {
        torch::NoGradGuard no_grad;
        t.copy_(mine);
      }
    }
    return absl::OkStatus();
  }

  absl::Status AllReduceSum(torch::Tensor& tensor) override { return ReduceBlocking(tensor); }

  absl::Status Barrier() override {
    torch::Tensor one = torch::ones({1}, torch::TensorOptions(torch::kFloat32).device(torch::kCUDA, device_));
    return ReduceBlocking(one);
  }

  absl::StatusOr<std::unique_ptr<PendingCollective>> StartAllReduceSum(torch::Tensor tensor) override {
    if (!tensor.is_cuda() || !tensor.is_contiguous()) {
      return absl::InvalidArgumentError("StartAllReduceSum needs a contiguous tensor on the GPU");
    }
    ASSIGN_OR_RETURN(ncclDataType_t type, NcclType(tensor));
    try {
      c10::cuda::CUDAGuard guard(device_);
      c10::cuda::CUDAStream compute = c10::cuda::getCurrentCUDAStream(device_);
      at::cuda::CUDAEvent ready;
      ready.record(compute);
      ready.block(comm_stream_);
      RETURN_IF_ERROR(comm_->AllReduce(tensor.data_ptr(), static_cast<size_t>(tensor.numel()), type,
                                       gpu::ReduceOp::kSum, comm_stream_.stream()));
      tensor.record_stream(comm_stream_.unwrap());
      at::cuda::CUDAEvent done;
      done.record(comm_stream_);
      return std::unique_ptr<PendingCollective>(std::make_unique<PendingNccl>(*comm_, device_, std::move(done)));
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("starting an NCCL allreduce: ", e.what()));
    }
  }

 private:
  // Sums `tensor` (GPU or CPU) in place; returns once the result is readable.
  absl::Status ReduceBlocking(torch::Tensor& tensor) {
    ASSIGN_OR_RETURN(ncclDataType_t type, NcclType(tensor));
    try {
      c10::cuda::CUDAGuard guard(device_);
      cudaStream_t stream = c10::cuda::getCurrentCUDAStream(device_).stream();
      torch::NoGradGuard no_grad;
      torch::Tensor on_gpu = tensor.to(torch::Device(torch::kCUDA, device_)).contiguous();
      RETURN_IF_ERROR(comm_->AllReduce(on_gpu.data_ptr(), static_cast<size_t>(on_gpu.numel()), type,
                                       gpu::ReduceOp::kSum, stream));
      RETURN_IF_ERROR(comm_->Synchronize(stream));
      if (!on_gpu.is_same(tensor)) tensor.copy_(on_gpu);
      return absl::OkStatus();
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("NCCL allreduce on rank ", rank(), ": ", e.what()));
    }
  }

  c10::intrusive_ptr<c10d::Store> store_;
  std::unique_ptr<gpu::NcclCommunicator> comm_;
  c10::cuda::CUDAStream comm_stream_;
  c10::DeviceIndex device_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Collective>> ConnectNccl(const LaunchInfo& launch, int device_index,
                                                        std::chrono::seconds connect_timeout,
                                                        std::chrono::seconds collective_timeout) {
  c10::intrusive_ptr<c10d::Store> store;
  std::string id;
  try {
    store = JoinRendezvousStore(launch, connect_timeout);
    if (launch.rank == 0) {
      ASSIGN_OR_RETURN(id, gpu::CreateUniqueIdBytes());
      store->set(kUniqueIdKey, std::vector<uint8_t>(id.begin(), id.end()));
    } else {
      std::vector<uint8_t> bytes = store->get(kUniqueIdKey);  // waits up to the store's timeout
      id.assign(bytes.begin(), bytes.end());
    }
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("cannot reach the rendezvous at ", launch.master_addr, ":",
                                               launch.master_port, " as rank ", launch.rank, " of ",
                                               launch.world_size, ": ", e.what()));
  }
  gpu::NcclOptions options;
  options.watchdog.timeout = absl::FromChrono(collective_timeout);
  ASSIGN_OR_RETURN(std::unique_ptr<gpu::NcclCommunicator> comm,
                   gpu::NcclCommunicator::Create(id, launch.rank, launch.world_size, device_index, options));
  try {
    c10::cuda::CUDAStream comm_stream =
        c10::cuda::getStreamFromPool(/*isHighPriority=*/true, static_cast<c10::DeviceIndex>(device_index));
    return std::unique_ptr<Collective>(
        std::make_unique<NcclCollective>(std::move(store), std::move(comm), comm_stream));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("cannot create the NCCL stream: ", e.what()));
  }
}

}  // namespace atelier::trainer
