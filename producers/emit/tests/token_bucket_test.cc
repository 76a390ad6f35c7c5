#include "producers/emit/token_bucket.h"

#include <gtest/gtest.h>

namespace tracefeed::emit {
namespace {

using namespace std::chrono_literals;

TEST(TokenBucket, StartsFullThenPacesAtTheRate) {
  ManualClock clock;
  TokenBucket b(1000, 10, clock);  // 1 token per ms, burst 10
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(b.try_take());
  EXPECT_FALSE(b.try_take());
  EXPECT_EQ(b.wait_ns(), 1'000'000);
  clock.advance(500us);
  EXPECT_FALSE(b.try_take());
  EXPECT_EQ(b.wait_ns(), 500'000);
  clock.advance(500us);
  EXPECT_TRUE(b.try_take());
  EXPECT_FALSE(b.try_take());
}

TEST(TokenBucket, NeverHoldsMoreThanTheBurst) {
  ManualClock clock;
  TokenBucket b(100, 5, clock);
  clock.advance(1h);
  int taken = 0;
  while (b.try_take()) ++taken;
  EXPECT_EQ(taken, 5);
}

TEST(TokenBucket, SustainedRateOverManySteps) {
  ManualClock clock;
  TokenBucket b(50'000, 100, clock);  // burst above one step's accrual
  int taken = 0;
  for (int step = 0; step < 1000; ++step) {  // 1 s in 1 ms steps
    clock.advance(1ms);
    while (b.try_take()) ++taken;
  }
  EXPECT_GE(taken, 50'000);
  EXPECT_LE(taken, 50'000 + 100) << "at most one burst above the rate";
}

}  // namespace
}  // namespace tracefeed::emit
