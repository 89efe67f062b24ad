// MemoryBudget: one process-wide count of the bytes that big, short-lived
// buffers hold (a crawler's bodies in flight and the images it is decoding),
// so that their sum stays under a limit.
//
// Two ways to take bytes:
// - TryAcquire / Reservation::TryGrow never wait (the fetcher's event loop
//   grows a body's reservation as it arrives and pauses the transfer when
//   refused). Granted when the bytes fit and nobody is waiting in Acquire
//   (waiters go first), or when nothing else is held (a request larger than
//   the whole budget is granted alone; a reservation may grow alone).
// - Acquire waits (an image decode, on a processing thread) until the bytes
//   fit, or until everything still held is parked (Reservation::Park: bodies
//   waiting to be decoded, which only a decode can free) and no other
//   Acquire'd reservation is held: so decodes never deadlock behind the
//   bodies queued for them, and a decode larger than the whole budget runs
//   alone. Waits end at `deadline` on the injected Clock (DeadlineExceeded);
//   nothing here sleeps.
//
// used() <= limit() therefore holds except for a request granted alone (one
// body larger than the budget with nothing else held, or one decode with only
// parked bodies held); high_water() is the largest used() seen.
//
// Thread safety: every method may be called from any thread. A Reservation
// belongs to one thread at a time and must not outlive its budget.
#pragma once

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "atelier/common/clock.h"

namespace atelier {

// The crawler's default (docs/crawler.md, crawl.memory_budget_bytes).
inline constexpr int64_t kDefaultMemoryBudgetBytes = int64_t{224} << 20;

// Makes glibc's malloc give blocks of 1 MiB and more back to the system as
// soon as they are freed (a fixed mmap threshold instead of the adaptive one,
// which grows to 32 MiB and then keeps freed bodies in the heap), so that the
// resident size follows what a MemoryBudget counts. Executables call it once
// at start (process-wide).
void ReturnLargeFreedBlocksToTheSystem();

class MemoryBudget {
 public:
  class Reservation {
   public:
    Reservation() = default;
    Reservation(Reservation&& other) noexcept;
    Reservation& operator=(Reservation&& other) noexcept;
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;
    ~Reservation() { Release(); }

    int64_t bytes() const { return bytes_; }
    // Adds `n` more bytes under TryAcquire's rule; false (nothing changes)
    // when refused. A default-constructed Reservation has no budget: it
    // grows without limit and counts nothing.
    bool TryGrow(int64_t n);
    // Gives every byte back (also done by the destructor).
    void Release();
    // Marks the bytes as held until a decode frees them (a fetched body
    // queued for decoding). A parked reservation does not grow.
    void Park();

   private:
    friend class MemoryBudget;
    Reservation(MemoryBudget* budget, int64_t bytes, bool waited) : budget_(budget), bytes_(bytes), waited_(waited) {}
    MemoryBudget* budget_ = nullptr;
    int64_t bytes_ = 0;
    bool waited_ = false;  // taken with Acquire (counts as a decode)
    bool parked_ = false;
  };

  MemoryBudget(int64_t limit_bytes, Clock& clock);
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // Never waits. On true `*out` holds `bytes` (what it held before is given
  // back first); false when refused (rule above).
  bool TryAcquire(int64_t bytes, Reservation* out);
  // Waits until granted (rule above) or `deadline` passes (DeadlineExceeded).
  absl::StatusOr<Reservation> Acquire(int64_t bytes, absl::Time deadline);

  int64_t limit() const { return limit_; }
  int64_t used() const;
  int64_t high_water() const;
  int waiting() const;  // callers blocked in Acquire
  // Bytes that must be given back before every waiting Acquire fits (0 when
  // none waits): what a holder that can give memory back should free.
  int64_t shortfall() const;

 private:
  // `own`: what the growing reservation already holds (0 for a new one).
  bool TryAcquireLocked(int64_t bytes, int64_t own) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Take(int64_t bytes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Give(int64_t bytes, bool waited, bool parked);

  const int64_t limit_;
  Clock& clock_;
  mutable absl::Mutex mu_;
  int64_t used_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t high_water_ ABSL_GUARDED_BY(mu_) = 0;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t waiting_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // what the waiters ask for, together
  int acquired_ ABSL_GUARDED_BY(mu_) = 0;  // reservations held that came from Acquire
  int64_t parked_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // bytes of parked reservations
};

}  // namespace atelier
