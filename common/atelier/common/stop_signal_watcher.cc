#include "atelier/common/stop_signal_watcher.h"

#include <pthread.h>

namespace atelier {

void StopSignalWatcher::BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

StopSignalWatcher::StopSignalWatcher(std::function<void(int)> on_signal) {
  BlockStopSignals();
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  thread_ = std::thread([this, on_signal = std::move(on_signal)] {
    int sig = 0;
    if (sigwait(&signals_, &sig) != 0 || closing_) return;
    on_signal(sig);
  });
}

StopSignalWatcher::~StopSignalWatcher() {
  closing_ = true;
  // Wakes sigwait when no signal came; pending and discarded otherwise.
  pthread_kill(thread_.native_handle(), SIGTERM);
  thread_.join();
}

}  // namespace atelier
