#include "atelier/common/memory_budget.h"

#include <malloc.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace atelier {

MemoryBudget::Reservation::Reservation(Reservation&& other) noexcept
    : budget_(std::exchange(other.budget_, nullptr)),
      bytes_(std::exchange(other.bytes_, 0)),
      waited_(std::exchange(other.waited_, false)),
      parked_(std::exchange(other.parked_, false)) {}

MemoryBudget::Reservation& MemoryBudget::Reservation::operator=(Reservation&& other) noexcept {
  if (this != &other) {
    Release();
    budget_ = std::exchange(other.budget_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
    waited_ = std::exchange(other.waited_, false);
    parked_ = std::exchange(other.parked_, false);
  }
  return *this;
}

bool MemoryBudget::Reservation::TryGrow(int64_t n) {
  if (n <= 0) return true;
  if (parked_) return false;
  if (budget_ == nullptr) {
    bytes_ += n;
    return true;
  }
  absl::MutexLock l(&budget_->mu_);
  if (!budget_->TryAcquireLocked(n, bytes_)) return false;
  bytes_ += n;
  return true;
}

void MemoryBudget::Reservation::Release() {
  if (budget_ != nullptr) budget_->Give(bytes_, waited_, parked_);
  budget_ = nullptr;
  bytes_ = 0;
  waited_ = false;
  parked_ = false;
}

void MemoryBudget::Reservation::Park() {
  if (budget_ == nullptr || parked_) return;
  parked_ = true;
  absl::MutexLock l(&budget_->mu_);
  budget_->parked_bytes_ += bytes_;
}

MemoryBudget::MemoryBudget(int64_t limit_bytes, Clock& clock) : limit_(std::max<int64_t>(1, limit_bytes)), clock_(clock) {}

void MemoryBudget::Take(int64_t bytes) {
  used_ += bytes;
  high_water_ = std::max(high_water_, used_);
}

bool MemoryBudget::TryAcquireLocked(int64_t bytes, int64_t own) {
  if (bytes == 0) return true;
  const bool fits = used_ + bytes <= limit_ && waiting_ == 0;
  if (!fits && used_ != own) return false;  // else granted alone
  Take(bytes);
  return true;
}

void MemoryBudget::Give(int64_t bytes, bool waited, bool parked) {
  absl::MutexLock l(&mu_);
  used_ -= bytes;
  if (waited) --acquired_;
  if (parked) parked_bytes_ -= bytes;
}

bool MemoryBudget::TryAcquire(int64_t bytes, Reservation* out) {
  out->Release();
  bytes = std::max<int64_t>(0, bytes);
  absl::MutexLock l(&mu_);
  if (!TryAcquireLocked(bytes, 0)) return false;
  *out = Reservation(this, bytes, /*waited=*/false);
  return true;
}

absl::StatusOr<MemoryBudget::Reservation> MemoryBudget::Acquire(int64_t bytes, absl::Time deadline) {
  bytes = std::max<int64_t>(0, bytes);
  absl::MutexLock l(&mu_);
  auto grantable = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return used_ + bytes <= limit_ || (acquired_ == 0 && used_ == parked_bytes_);
  };
  ++waiting_;
  waiting_bytes_ += bytes;
  const bool granted = clock_.WaitUntil(mu_, deadline, grantable);
  --waiting_;
  waiting_bytes_ -= bytes;
  if (!granted) {
    return absl::DeadlineExceededError(
        absl::StrCat("memory budget: ", bytes, " bytes not free in time (", used_, " of ", limit_, " in use)"));
  }
  Take(bytes);
  ++acquired_;
  return Reservation(this, bytes, /*waited=*/true);
}

int64_t MemoryBudget::used() const {
  absl::MutexLock l(&mu_);
  return used_;
}

int64_t MemoryBudget::high_water() const {
  absl::MutexLock l(&mu_);
  return high_water_;
}

int64_t MemoryBudget::shortfall() const {
  absl::MutexLock l(&mu_);
  return waiting_ == 0 ? 0 : std::max<int64_t>(0, used_ + waiting_bytes_ - limit_);
}

void ReturnLargeFreedBlocksToTheSystem() { mallopt(M_MMAP_THRESHOLD, 1 << 20); }

int MemoryBudget::waiting() const {
  absl::MutexLock l(&mu_);
  return waiting_;
}

}  // namespace atelier
