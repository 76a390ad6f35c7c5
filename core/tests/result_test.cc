#include "core/result.h"

#include <gtest/gtest.h>

#include "core/clock.h"

namespace tracefeed {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return Status::invalid_argument("value: expected > 0, got " + std::to_string(v));
  return v;
}

Status use_macro(int v, int* out) {
  TF_ASSIGN_OR_RETURN(*out, parse_positive(v));
  return Status::ok();
}

TEST(Result, HoldsValueOrError) {
  auto good = parse_positive(3);
  ASSERT_TRUE(good.is_ok());
  EXPECT_EQ(*good, 3);
  auto bad = parse_positive(-1);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::invalid_argument);
  EXPECT_EQ(bad.status().to_string(), "INVALID_PARAMETER_VALUE: value: expected > 0, got -1");
}

TEST(Result, MacrosPropagate) {
  int out = 0;
  EXPECT_TRUE(use_macro(5, &out).is_ok());
  EXPECT_EQ(out, 5);
  Status s = use_macro(0, &out);
  EXPECT_EQ(s.code(), ErrorCode::invalid_argument);
  EXPECT_EQ(s.with_context("spans[0]").message(), "spans[0]: value: expected > 0, got 0");
}

TEST(ManualClock, MovesOnlyWhenTold) {
  ManualClock clock(1000);
  auto t0 = clock.now();
  EXPECT_EQ(clock.now(), t0);
  clock.advance(std::chrono::milliseconds(250));
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(clock.now() - t0).count(), 250);
}

}  // namespace
}  // namespace tracefeed
