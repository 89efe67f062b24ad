// Collective over NCCL for CUDA training (built only with -DATELIER_CUDA=ON):
// one communicator per process, one GPU per process.
//
// Rendezvous: rank 0 serves a c10d::TCPStore at MASTER_ADDR:MASTER_PORT (as
// for Gloo), creates the NCCL unique id and publishes it there; every rank
// reads it and joins with gpu::NcclCommunicator (non-blocking init under the
// watchdog: a missing peer ends in DeadlineExceeded, not a hang).
//
// Tensors on this process's GPU are reduced in place; CPU tensors (metric
// sums, stop flags) are staged through the GPU. AllReduceSum, Broadcast and
// Barrier block the host until the result is there, waiting under the
// watchdog (ncclCommGetAsyncError polled; on error or timeout the
// communicator is aborted and every later call fails with that error).
// Broadcast is an allreduce in which every rank but the root contributes
// zeros (exact: x + 0 = x).
//
// StartAllReduceSum (gradient buckets during backward) does not block: it
// records an event on the current stream, makes the communication stream wait
// for it, enqueues ncclAllReduce there, records a "done" event and marks the
// tensor as used by the communication stream (caching allocator). Wait() makes
// the current stream wait for "done" on the device and checks the
// communicator's health; the host blocks only at the next blocking call.
//
// Ownership: owns the store, the communicator and the communication stream.
// Thread safety: one thread at a time (backward's hooks run while the
// training thread is blocked in backward()).
#pragma once

#include <chrono>
#include <memory>

#include "absl/status/statusor.h"
#include "atelier/trainer/collective.h"
#include "atelier/trainer/launcher_env.h"

namespace atelier::trainer {

// `device_index`: this process's GPU (made current by the communicator).
// `connect_timeout` bounds the rendezvous (every rank joins the store);
// `collective_timeout` bounds each NCCL call and device wait afterwards (the
// watchdog aborts the communicator and the call fails naming this rank).
absl::StatusOr<std::unique_ptr<Collective>> ConnectNccl(const LaunchInfo& launch, int device_index,
                                                        std::chrono::seconds connect_timeout,
                                                        std::chrono::seconds collective_timeout);

}  // namespace atelier::trainer
