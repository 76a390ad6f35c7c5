#include "processors/route/time_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace tracefeed::route::time_index {
namespace {

TEST(TimeIndex, KeysSortNewestFirstThenByTraceId) {
  std::vector<std::string> keys = {key(1000, "tr-b"), key(2000, "tr-a"), key(1000, "tr-a"), key(0, "tr-z"),
                                   key(-5, "tr-y"), key(1'700'000'000'000, "tr-c")};
  std::sort(keys.begin(), keys.end());
  std::vector<std::pair<int64_t, std::string>> order;
  for (const auto& k : keys) {
    auto e = parse(k);
    ASSERT_TRUE(e);
    order.emplace_back(e->timestamp_ms, std::string(e->trace_id));
  }
  const std::vector<std::pair<int64_t, std::string>> want = {
      {1'700'000'000'000, "tr-c"}, {2000, "tr-a"}, {1000, "tr-a"}, {1000, "tr-b"}, {0, "tr-z"}, {-5, "tr-y"}};
  EXPECT_EQ(order, want);
}

TEST(TimeIndex, BoundsSelectARangeOfTimestamps) {
  const std::string k999 = key(999, "tr-a"), k1000 = key(1000, "tr-a"), k2000 = key(2000, "tr-a"),
                    k2001 = key(2001, "tr-a");
  const std::string from = first_key_at_or_before(2000), to = end_key_before(1000);
  auto in = [&](const std::string& k) { return k >= from && k < to; };
  EXPECT_FALSE(in(k2001));
  EXPECT_TRUE(in(k2000));
  EXPECT_TRUE(in(k1000));
  EXPECT_FALSE(in(k999));
  EXPECT_LT(k999, end_key());
  EXPECT_GE(k2001, std::string(prefix));
}

TEST(TimeIndex, ParseRejectsOtherKeys) {
  EXPECT_FALSE(parse("tracefeed.time_index.complete"));
  EXPECT_FALSE(parse(std::string(prefix) + "short"));
  std::string k;
  assign_key(k, 42, "tr-x");
  EXPECT_EQ(k, key(42, "tr-x"));
  EXPECT_EQ(parse(k)->timestamp_ms, 42);
  EXPECT_EQ(timestamp_ms_of(1'700'000'000'123'456'789), 1'700'000'000'123);
}

}  // namespace
}  // namespace tracefeed::route::time_index
