#include "atelier/trainer/rendezvous_store.h"

namespace atelier::trainer {

c10::intrusive_ptr<c10d::Store> JoinRendezvousStore(const LaunchInfo& launch, std::chrono::seconds timeout) {
  c10d::TCPStoreOptions options;
  options.port = static_cast<uint16_t>(launch.master_port);
  options.isServer = launch.rank == 0;
  options.numWorkers = launch.world_size;
  options.waitWorkers = true;
  options.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  return c10::make_intrusive<c10d::TCPStore>(launch.master_addr, options);
}

}  // namespace atelier::trainer
