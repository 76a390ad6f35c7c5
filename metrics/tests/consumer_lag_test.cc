#include "metrics/consumer_lag.h"

#include <gtest/gtest.h>

#include "metrics/tests/exposition_text.h"

namespace tracefeed::metrics {
namespace {

using testing::count_samples;
using testing::sample_value;

TEST(ConsumerLagTable, PublishesTheLatestLagPerTopicPartition) {
  Metrics m;
  ConsumerLagTable table;
  auto reg = table.register_source(m);
  ASSERT_TRUE(reg.is_ok());
  table.update("tracefeed.traces", 0, 10);
  table.update("tracefeed.traces", 1, 3);
  table.update("tracefeed.assessments", 0, 7);
  table.update("tracefeed.traces", 0, 4);    // replaces 10
  table.update("tracefeed.assessments", 1, -2);  // watermark read before the position: 0
  const std::string text = m.text();
  EXPECT_EQ(sample_value(text, R"(tracefeed_consumer_lag{partition="0",topic="tracefeed.traces"})"), 4.0);
  EXPECT_EQ(sample_value(text, R"(tracefeed_consumer_lag{partition="1",topic="tracefeed.traces"})"), 3.0);
  EXPECT_EQ(sample_value(text, R"(tracefeed_consumer_lag{partition="0",topic="tracefeed.assessments"})"), 7.0);
  EXPECT_EQ(sample_value(text, R"(tracefeed_consumer_lag{partition="1",topic="tracefeed.assessments"})"), 0.0);
  EXPECT_EQ(table.get("tracefeed.traces", 0), 4);
  EXPECT_EQ(table.get("tracefeed.traces", 9), -1);
}

TEST(ConsumerLagTable, RetainDropsPartitionsTakenAwayByARebalance) {
  Metrics m;
  ConsumerLagTable table;
  auto reg = table.register_source(m);
  ASSERT_TRUE(reg.is_ok());
  for (int32_t p = 0; p < 4; ++p) {
    table.update("t", p, p);
    table.update("u", p, p);
  }
  const int32_t kept[] = {1, 3};
  table.retain("t", kept);
  EXPECT_EQ(table.get("t", 0), -1);
  EXPECT_EQ(table.get("t", 1), 1);
  EXPECT_EQ(table.get("t", 2), -1);
  EXPECT_EQ(table.get("t", 3), 3);
  EXPECT_EQ(table.get("u", 2), 2);  // other topics untouched
  EXPECT_EQ(count_samples(m.text(), "tracefeed_consumer_lag"), 6u);
  table.clear();
  EXPECT_EQ(count_samples(m.text(), "tracefeed_consumer_lag"), 0u);
}

}  // namespace
}  // namespace tracefeed::metrics
