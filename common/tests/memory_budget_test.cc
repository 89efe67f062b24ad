#include "atelier/common/memory_budget.h"

#include <thread>

#include "atelier/common/fake_clock.h"
#include "atelier/common/status_matchers.h"
#include "gtest/gtest.h"

namespace atelier {
namespace {

// Deadlines are on the FakeClock, far ahead: a wait ends because the budget
// changed (or because the test advanced the clock past the deadline), never
// because real time passed.
constexpr absl::Duration kFar = absl::Hours(1);

TEST(MemoryBudgetTest, TryAcquireWithinTheLimitAndReleases) {
  FakeClock clock;
  MemoryBudget budget(100, clock);
  MemoryBudget::Reservation a, b;
  ASSERT_TRUE(budget.TryAcquire(60, &a));
  EXPECT_FALSE(budget.TryAcquire(41, &b));
  EXPECT_EQ(b.bytes(), 0);
  ASSERT_TRUE(budget.TryAcquire(40, &b));
  EXPECT_EQ(budget.used(), 100);
  a.Release();
  EXPECT_EQ(budget.used(), 40);
  { MemoryBudget::Reservation moved = std::move(b); }
  EXPECT_EQ(budget.used(), 0);
  EXPECT_EQ(budget.high_water(), 100);
}

TEST(MemoryBudgetTest, TryGrowStopsAtTheLimit) {
  FakeClock clock;
  MemoryBudget budget(100, clock);
  MemoryBudget::Reservation other, body;
  ASSERT_TRUE(budget.TryAcquire(10, &other));
  ASSERT_TRUE(budget.TryAcquire(0, &body));
  EXPECT_TRUE(body.TryGrow(60));
  EXPECT_FALSE(body.TryGrow(31));
  EXPECT_EQ(body.bytes(), 60);
  EXPECT_TRUE(body.TryGrow(30));
  EXPECT_EQ(budget.used(), 100);
  body.Release();
  EXPECT_EQ(budget.used(), 10);
}

TEST(MemoryBudgetTest, AnOversizeRequestIsGrantedAlone) {
  FakeClock clock;
  MemoryBudget budget(100, clock);
  MemoryBudget::Reservation big, small;
  ASSERT_TRUE(budget.TryAcquire(250, &big));  // nothing else held
  EXPECT_FALSE(budget.TryAcquire(1, &small));
  big.Release();
  EXPECT_TRUE(budget.TryAcquire(1, &small));
  small.Release();
  ASSERT_TRUE(budget.TryAcquire(1, &small));
  EXPECT_FALSE(budget.TryAcquire(250, &big));  // not alone any more
  // A body larger than the budget grows while it is the only holder.
  EXPECT_TRUE(small.TryGrow(300));
  EXPECT_EQ(budget.used(), 301);
}

// A budget of 100 with 80 held by a first decode, and a second decode of 50
// waiting in Acquire on a thread of its own (its deadline `timeout` ahead on
// the fake clock). Results are read after Join(), never asserted on the thread.
struct SecondDecodeWaits {
  explicit SecondDecodeWaits(absl::Duration timeout = kFar) {
    first = *budget.Acquire(80, clock.Now() + kFar);
    waiter = std::thread([this, timeout] {
      absl::StatusOr<MemoryBudget::Reservation> second = budget.Acquire(50, clock.Now() + timeout);
      status = second.status();
      used_after_grant = budget.used();
    });
    clock.WaitForSleepers(1);  // the waiter is inside Acquire
  }
  void Join() { waiter.join(); }
  FakeClock clock;
  MemoryBudget budget{100, clock};
  MemoryBudget::Reservation first;
  absl::Status status;
  int64_t used_after_grant = -1;
  std::thread waiter;
};

TEST(MemoryBudgetTest, AcquireWaitsForARelease) {
  SecondDecodeWaits w;
  EXPECT_EQ(w.budget.waiting(), 1);
  w.first.Release();
  w.Join();
  EXPECT_TRUE(w.status.ok()) << w.status;
  EXPECT_EQ(w.used_after_grant, 50);
  EXPECT_EQ(w.budget.used(), 0);
  EXPECT_EQ(w.budget.high_water(), 80);
}

TEST(MemoryBudgetTest, WaitersGoBeforeTryAcquire) {
  SecondDecodeWaits w;
  MemoryBudget::Reservation body;
  EXPECT_FALSE(w.budget.TryAcquire(10, &body));  // it would fit, but a decode is waiting
  EXPECT_EQ(w.budget.shortfall(), 30);
  w.first.Release();
  w.Join();
  EXPECT_TRUE(w.status.ok());
  EXPECT_EQ(w.budget.shortfall(), 0);
  EXPECT_TRUE(w.budget.TryAcquire(10, &body));
}

TEST(MemoryBudgetTest, AcquireEndsAtItsDeadline) {
  SecondDecodeWaits w(absl::Seconds(5));
  w.clock.Advance(absl::Seconds(6));
  w.Join();
  EXPECT_TRUE(absl::IsDeadlineExceeded(w.status)) << w.status;
  EXPECT_EQ(w.budget.used(), 80);
  EXPECT_EQ(w.budget.waiting(), 0);
}

TEST(MemoryBudgetTest, ADecodeWaitsForBodiesInFlight) {
  FakeClock clock;
  MemoryBudget budget(100, clock);
  MemoryBudget::Reservation bodies;
  ASSERT_TRUE(budget.TryAcquire(90, &bodies));  // bodies still arriving: they end on their own
  EXPECT_TRUE(absl::IsDeadlineExceeded(budget.Acquire(50, clock.Now()).status()));
  EXPECT_EQ(budget.high_water(), 90);
}

TEST(MemoryBudgetTest, ADecodeGoesAheadOfParkedBodiesThatFillTheBudget) {
  FakeClock clock;
  MemoryBudget budget(100, clock);
  MemoryBudget::Reservation bodies;
  ASSERT_TRUE(budget.TryAcquire(90, &bodies));
  bodies.Park();  // queued for decoding: only a decode frees them
  EXPECT_FALSE(bodies.TryGrow(1));
  // Granted although it does not fit, or the queued bodies could never drain.
  absl::StatusOr<MemoryBudget::Reservation> decode = budget.Acquire(50, clock.Now());
  ASSERT_TRUE(decode.ok()) << decode.status();
  EXPECT_EQ(budget.used(), 140);
  // A second decode that does not fit waits for the first.
  EXPECT_TRUE(absl::IsDeadlineExceeded(budget.Acquire(20, clock.Now()).status()));
  decode->Release();
  bodies.Release();
  EXPECT_EQ(budget.used(), 0);
  EXPECT_TRUE(budget.Acquire(100, clock.Now()).ok());
}

TEST(MemoryBudgetTest, AnEmptyReservationCountsNothing) {
  MemoryBudget::Reservation unbound;
  EXPECT_TRUE(unbound.TryGrow(1'000'000));
  EXPECT_EQ(unbound.bytes(), 1'000'000);
  unbound.Release();
  EXPECT_EQ(unbound.bytes(), 0);
}

}  // namespace
}  // namespace atelier
