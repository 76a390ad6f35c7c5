// DedupWindow: claim/finish states, bounds (capacity, TTL on an injected clock) and concurrent
// duplicates (a waiter is released by the owner's outcome, never by a sleep).

#include "producers/publish/dedup_window.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

namespace tracefeed::publish {
namespace {

using Claim = DedupWindow::Claim;

auto far() { return std::chrono::steady_clock::now() + std::chrono::seconds(30); }

TEST(DedupWindowTest, AcknowledgedIdsAreRememberedFailedOnesForgotten) {
  ManualClock clock;
  DedupWindow w({.capacity = 10, .ttl = std::chrono::seconds(60)}, clock);
  const auto a = DedupWindow::key_of("a"), b = DedupWindow::key_of("b");
  ASSERT_EQ(*w.claim(a, far()), Claim::owner);
  w.finish(a, Status::ok());
  EXPECT_EQ(*w.claim(a, far()), Claim::acknowledged);
  ASSERT_EQ(*w.claim(b, far()), Claim::owner);
  w.finish(b, Status::unavailable("down"));
  EXPECT_EQ(*w.claim(b, far()), Claim::owner) << "a failed publish must be retried for real";
  EXPECT_EQ(w.size(), 1u);
}

TEST(DedupWindowTest, CapacityAndTtlBoundTheWindow) {
  ManualClock clock;
  DedupWindow w({.capacity = 3, .ttl = std::chrono::seconds(60)}, clock);
  for (std::string id : {"1", "2", "3", "4"}) {
    ASSERT_EQ(*w.claim(DedupWindow::key_of(id), far()), Claim::owner);
    w.finish(DedupWindow::key_of(id), Status::ok());
  }
  EXPECT_EQ(w.size(), 3u);
  EXPECT_EQ(*w.claim(DedupWindow::key_of("1"), far()), Claim::owner) << "oldest pushed out by capacity";
  w.finish(DedupWindow::key_of("1"), Status::ok());
  EXPECT_EQ(*w.claim(DedupWindow::key_of("4"), far()), Claim::acknowledged);
  clock.advance(std::chrono::seconds(61));
  EXPECT_EQ(*w.claim(DedupWindow::key_of("4"), far()), Claim::owner) << "expired by TTL";
  EXPECT_LE(w.size(), 1u);
}

TEST(DedupWindowTest, ConcurrentDuplicateWaitsForTheOwner) {
  ManualClock clock;
  DedupWindow w({}, clock);
  const auto k = DedupWindow::key_of("dup");
  ASSERT_EQ(*w.claim(k, far()), Claim::owner);
  auto waiter = std::async(std::launch::async, [&] { return w.claim(k, far()); });
  EXPECT_EQ(waiter.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout) << "blocked while in flight";
  w.finish(k, Status::ok());
  auto r = waiter.get();
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, Claim::acknowledged);
}

TEST(DedupWindowTest, WaiterTakesOverWhenTheOwnerFails) {
  ManualClock clock;
  DedupWindow w({}, clock);
  const auto k = DedupWindow::key_of("dup");
  ASSERT_EQ(*w.claim(k, far()), Claim::owner);
  auto waiter = std::async(std::launch::async, [&] { return w.claim(k, far()); });
  w.finish(k, Status::unavailable("down"));
  auto r = waiter.get();
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, Claim::owner);
}

TEST(DedupWindowTest, WaiterGivesUpAtItsDeadline) {
  ManualClock clock;
  DedupWindow w({}, clock);
  const auto k = DedupWindow::key_of("dup");
  ASSERT_EQ(*w.claim(k, far()), Claim::owner);
  auto r = w.claim(k, std::chrono::steady_clock::now() + std::chrono::milliseconds(20));
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::unavailable);
}

TEST(DedupWindowTest, DisabledWindowAlwaysOwns) {
  ManualClock clock;
  DedupWindow w({.capacity = 0}, clock);
  const auto k = DedupWindow::key_of("x");
  ASSERT_EQ(*w.claim(k, far()), Claim::owner);
  w.finish(k, Status::ok());
  EXPECT_EQ(*w.claim(k, far()), Claim::owner);
}

}  // namespace
}  // namespace tracefeed::publish
