// nccl_allreduce_check: checks atelier_nccl on a machine with GPUs.
//
//   nccl_allreduce_check [--world N] [--timeout-s S]
//
// Starts N ranks (default: one per visible GPU), each a child process on GPU
// `rank`, joined through a unique id that the parent creates and passes on the
// command line (hex). Each rank checks:
//   1. AllReduce sum and avg of 1M floats on a stream;
//   2. the bucketed path: a model's gradients assigned to buckets
//      (AssignBuckets), released in order as backward would (BucketReadiness),
//      allreduced on the side stream (BucketAllReducer), waited for, copied
//      back and averaged (UnflattenBucket); three iterations.
// Then one more child joins a 2-rank world alone and must get DeadlineExceeded
// from the watchdog after a few seconds instead of hanging.
// Exit code 0: all passed, or no GPU (prints SKIP). 1: a check failed.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "atelier/common/status_macros.h"
#include "atelier/trainer/gpu/bucket_allreducer.h"
#include "atelier/trainer/gpu/bucket_readiness.h"
#include "atelier/trainer/gpu/cuda_status.h"
#include "atelier/trainer/gpu/gradient_buckets.h"
#include "atelier/trainer/gpu/nccl_communicator.h"

extern char** environ;

namespace atelier::trainer::gpu {
namespace {

struct Args {
  int world = 0;  // 0: one rank per visible GPU
  int timeout_s = 60;
  int child_rank = -1;
  std::string id_hex;
  bool lonely = false;  // child that joins a 2-rank world alone
};

absl::Status CheckClose(const std::vector<float>& got, const std::vector<float>& want, absl::string_view what) {
  if (got.size() != want.size()) {
    return absl::InternalError(absl::StrCat(what, ": size ", got.size(), " != ", want.size()));
  }
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::fabs(got[i] - want[i]) > 1e-5f * std::max(1.0f, std::fabs(want[i]))) {
      return absl::InternalError(absl::StrCat(what, ": element ", i, " is ", got[i], ", expected ", want[i]));
    }
  }
  return absl::OkStatus();
}

// Check 1: plain allreduce, sum then avg.
absl::Status CheckAllReduce(NcclCommunicator& comm, cudaStream_t stream) {
  const int r = comm.rank(), w = comm.world_size();
  const size_t n = (1u << 20) + 3;
  std::vector<float> host(n), want(n);
  float* device = nullptr;
  RETURN_IF_ERROR(CudaStatus(cudaMalloc(&device, n * sizeof(float)), "cudaMalloc"));
  absl::Status status = [&]() -> absl::Status {
    for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kAvg}) {
      for (size_t i = 0; i < n; ++i) {
        const float v = static_cast<float>(i % 7 + 1);
        host[i] = static_cast<float>(r + 1) * v;
        const float sum = static_cast<float>(w * (w + 1) / 2) * v;
        want[i] = op == ReduceOp::kSum ? sum : sum / static_cast<float>(w);
      }
      RETURN_IF_ERROR(CudaStatus(cudaMemcpyAsync(device, host.data(), n * sizeof(float), cudaMemcpyHostToDevice, stream), "H2D"));
      RETURN_IF_ERROR(comm.AllReduce(device, n, op, stream));
      // Wait under the watchdog first: a copy into pageable memory blocks the
      // host until the stream reaches it, with no timeout.
      RETURN_IF_ERROR(comm.Synchronize(stream));
      RETURN_IF_ERROR(CudaStatus(cudaMemcpy(host.data(), device, n * sizeof(float), cudaMemcpyDeviceToHost), "D2H"));
      RETURN_IF_ERROR(CheckClose(host, want, op == ReduceOp::kSum ? "allreduce sum" : "allreduce avg"));
    }
    return absl::OkStatus();
  }();
  (void)cudaFree(device);
  return status;
}

// Check 2: bucketed allreduce on the side stream, as the trainer drives it.
absl::Status CheckBuckets(NcclCommunicator& comm, cudaStream_t compute) {
  const int r = comm.rank(), w = comm.world_size();
  std::vector<ParamInfo> params;
  for (int p = 0; p < 23; ++p) params.push_back(ParamInfo{absl::StrCat("p", p), (p * 7919) % 9000 + 1, 4, "float32"});
  params[11].numel = 40000;  // over the cap: its own bucket
  ASSIGN_OR_RETURN(const BucketPlan plan, AssignBuckets(params, {.cap_bytes = 64 << 10, .first_cap_bytes = 16 << 10}));
  const int nb = static_cast<int>(plan.buckets.size());
  ASSIGN_OR_RETURN(auto reducer, BucketAllReducer::Create(comm, nb));

  std::vector<float*> device(nb, nullptr);
  std::vector<std::vector<float>> staging(nb);
  absl::Status status = [&]() -> absl::Status {
    for (int b = 0; b < nb; ++b) {
      staging[b].resize(plan.buckets[b].numel);
      RETURN_IF_ERROR(CudaStatus(cudaMalloc(&device[b], staging[b].size() * sizeof(float)), "cudaMalloc"));
    }
    for (int iteration = 0; iteration < 3; ++iteration) {
      std::vector<std::vector<float>> grads(params.size()), averaged(params.size());
      std::vector<std::vector<float>> want(params.size());
      for (size_t p = 0; p < params.size(); ++p) {
        grads[p].resize(params[p].numel);
        averaged[p].assign(params[p].numel, -1.0f);
        want[p].resize(params[p].numel);
        for (int64_t i = 0; i < params[p].numel; ++i) {
          const float base = static_cast<float>((p + 1) * (iteration + 1));
          const float jitter = static_cast<float>(i % 5);
          grads[p][i] = static_cast<float>(r + 1) * base + jitter;
          want[p][i] = (static_cast<float>(w * (w + 1) / 2) * base + static_cast<float>(w) * jitter) / static_cast<float>(w);
        }
      }
      std::vector<std::span<const float>> in(grads.begin(), grads.end());
      BucketReadiness readiness(plan);
      for (int p = static_cast<int>(params.size()) - 1; p >= 0; --p) {  // backward order
        ASSIGN_OR_RETURN(const std::vector<int> released, readiness.MarkReady(p));
        for (int b : released) {
          RETURN_IF_ERROR(FlattenBucket(plan.buckets[b], in, staging[b]));
          RETURN_IF_ERROR(CudaStatus(cudaMemcpyAsync(device[b], staging[b].data(), staging[b].size() * sizeof(float),
                                                     cudaMemcpyHostToDevice, compute), "H2D"));
          RETURN_IF_ERROR(reducer->Launch(b, device[b], staging[b].size(), ReduceOp::kSum, compute));
        }
      }
      if (!readiness.AllLaunched() || reducer->launched() != nb) return absl::InternalError("not every bucket launched");
      RETURN_IF_ERROR(reducer->Wait(compute));
      RETURN_IF_ERROR(reducer->Synchronize());  // host waits under the watchdog
      RETURN_IF_ERROR(comm.Synchronize(compute));
      for (int b = 0; b < nb; ++b) {
        RETURN_IF_ERROR(CudaStatus(cudaMemcpyAsync(staging[b].data(), device[b], staging[b].size() * sizeof(float),
                                                   cudaMemcpyDeviceToHost, compute), "D2H"));
      }
      RETURN_IF_ERROR(CudaStatus(cudaStreamSynchronize(compute), "D2H"));
      std::vector<std::span<float>> out(averaged.begin(), averaged.end());
      for (int b = 0; b < nb; ++b) {
        RETURN_IF_ERROR(UnflattenBucket(plan.buckets[b], staging[b], out, 1.0f / static_cast<float>(w)));
      }
      for (size_t p = 0; p < params.size(); ++p) {
        RETURN_IF_ERROR(CheckClose(averaged[p], want[p], absl::StrCat("iteration ", iteration, " ", params[p].name)));
      }
      reducer->Reset();
    }
    return absl::OkStatus();
  }();
  for (float* d : device) (void)cudaFree(d);
  if (status.ok()) std::printf("rank %d: %d buckets allreduced on the side stream, 3 iterations\n", r, nb);
  return status;
}

absl::Status RunRank(const Args& args) {
  // (Checked by hand: abseil's HexStringToBytes changed signature after 20220623.)
  if (args.id_hex.size() % 2 != 0 ||
      args.id_hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("--id: not a hex string: ", args.id_hex));
  }
  const std::string id = absl::HexStringToBytes(args.id_hex);
  const int world = args.lonely ? 2 : args.world;
  NcclOptions options;
  options.watchdog.timeout = absl::Seconds(args.lonely ? 5 : args.timeout_s);
  ASSIGN_OR_RETURN(auto comm, NcclCommunicator::Create(id, args.child_rank, world, args.child_rank, options));
  cudaStream_t stream = nullptr;
  RETURN_IF_ERROR(CudaStatus(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate"));
  absl::Status status = CheckAllReduce(*comm, stream);
  if (status.ok()) {
    std::printf("rank %d of %d: allreduce sum and avg correct\n", comm->rank(), comm->world_size());
    status = CheckBuckets(*comm, stream);
  }
  (void)cudaStreamDestroy(stream);
  if (status.ok()) status = comm->Close();
  return status;
}

int SpawnAndWait(const std::vector<std::vector<std::string>>& argvs, int timeout_s) {
  std::vector<pid_t> pids;
  for (const auto& argv : argvs) {
    std::vector<char*> cargv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    cargv.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, cargv.data(), environ) != 0) {
      std::fprintf(stderr, "FAIL: cannot start a rank\n");
      return 1;
    }
    pids.push_back(pid);
  }
  int failures = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(timeout_s + 30);
  for (pid_t pid : pids) {
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (absl::Now() > deadline) {
        std::fprintf(stderr, "FAIL: rank process %d still running after %d s; killing it\n", pid, timeout_s + 30);
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        break;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failures;
  }
  return failures;
}

int Main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--world" && has_value && absl::SimpleAtoi(argv[i + 1], &args.world) && args.world >= 1) {
      ++i;
    } else if (a == "--timeout-s" && has_value && absl::SimpleAtoi(argv[i + 1], &args.timeout_s) && args.timeout_s >= 1) {
      ++i;
    } else if (a == "--child-rank" && has_value && absl::SimpleAtoi(argv[i + 1], &args.child_rank)) {
      ++i;
    } else if (a == "--id" && has_value) {
      args.id_hex = argv[++i];
    } else if (a == "--lonely") {
      args.lonely = true;
    } else {
      std::fprintf(stderr, "usage: nccl_allreduce_check [--world N] [--timeout-s S]\nbad argument: %s\n", a.c_str());
      return 2;
    }
  }

  if (args.child_rank >= 0) {
    absl::Status status = RunRank(args);
    if (args.lonely) {
      if (status.code() == absl::StatusCode::kDeadlineExceeded) {
        std::printf("lonely rank: watchdog turned a missing peer into DeadlineExceeded: %s\n",
                    std::string(status.message()).c_str());
        return 0;
      }
      std::fprintf(stderr, "FAIL: lonely rank expected DeadlineExceeded, got %s\n", status.ToString().c_str());
      return 1;
    }
    if (!status.ok()) {
      std::fprintf(stderr, "FAIL: rank %d: %s\n", args.child_rank, status.ToString().c_str());
      return 1;
    }
    return 0;
  }

  std::string why;
  const int gpus = VisibleCudaDevices(&why);
  if (gpus == 0) {
    std::printf("SKIP: no CUDA device visible (%s); nothing checked\n", why.c_str());
    return 0;
  }
  int version = 0;
  if (!LinkedNcclVersion(&version).ok()) return 1;
  if (args.world == 0) args.world = gpus;
  if (args.world > gpus) {
    std::fprintf(stderr, "FAIL: --world %d needs %d GPUs, %d visible (one GPU per rank)\n", args.world, args.world, gpus);
    return 1;
  }
  std::printf("NCCL %d (header %d), %d GPU(s) visible, world %d\n", version, NCCL_VERSION_CODE, gpus, args.world);

  const std::string self = "/proc/self/exe";
  auto id = CreateUniqueIdBytes();
  if (!id.ok()) {
    std::fprintf(stderr, "FAIL: %s\n", id.status().ToString().c_str());
    return 1;
  }
  std::vector<std::vector<std::string>> ranks;
  for (int r = 0; r < args.world; ++r) {
    ranks.push_back({self, "--child-rank", std::to_string(r), "--world", std::to_string(args.world), "--timeout-s",
                     std::to_string(args.timeout_s), "--id", absl::BytesToHexString(*id)});
  }
  const int failed = SpawnAndWait(ranks, args.timeout_s);

  auto lonely_id = CreateUniqueIdBytes();
  if (!lonely_id.ok()) return 1;
  const int lonely_failed =
      SpawnAndWait({{self, "--child-rank", "0", "--lonely", "--id", absl::BytesToHexString(*lonely_id)}}, 10);

  if (failed != 0 || lonely_failed != 0) {
    std::fprintf(stderr, "FAIL: %d of %d ranks failed; watchdog check %s\n", failed, args.world,
                 lonely_failed == 0 ? "passed" : "failed");
    return 1;
  }
  std::printf("PASS: allreduce, bucketed side-stream allreduce (world %d) and the watchdog\n", args.world);
  return 0;
}

}  // namespace
}  // namespace atelier::trainer::gpu

int main(int argc, char** argv) { return atelier::trainer::gpu::Main(argc, argv); }
