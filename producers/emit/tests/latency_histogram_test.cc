#include "producers/emit/latency_histogram.h"

#include <gtest/gtest.h>

namespace tracefeed::emit {
namespace {

TEST(LatencyHistogram, PercentilesWithinBucketPrecision) {
  LatencyHistogram h;
  EXPECT_EQ(h.percentile_ns(50), 0);
  for (int64_t i = 1; i <= 1000; ++i) h.record(i * 1000);  // 1 µs .. 1 ms
  EXPECT_EQ(h.count(), 1000u);
  EXPECT_EQ(h.max_ns(), 1'000'000);
  EXPECT_NEAR(static_cast<double>(h.percentile_ns(50)), 500'000, 500'000 * 0.07);
  EXPECT_NEAR(static_cast<double>(h.percentile_ns(99)), 990'000, 990'000 * 0.07);
  EXPECT_EQ(h.percentile_ns(100), 1'000'000);
  h.record(-5);
  EXPECT_EQ(h.count(), 1001u);
}

}  // namespace
}  // namespace tracefeed::emit
