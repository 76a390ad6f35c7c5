// LagMonitor against the embedded broker: lag = high watermark − the group's committed offset,
// per partition, and the whole retained log when the group has committed nothing.
#include "apps/lag_monitor.h"

#include <gtest/gtest.h>

#include "kafka/consumer.h"
#include "kafka/embedded_broker.h"
#include "kafka/producer.h"
#include "metrics/consumer_lag.h"

namespace tracefeed::apps {
namespace {

TEST(LagMonitor, LagIsHighWatermarkMinusTheGroupsCommittedOffset) {
  auto broker = kafka::EmbeddedBroker::start();
  ASSERT_TRUE(broker.is_ok()) << broker.status().to_string();
  ASSERT_TRUE((*broker)->create_topic("t", 2).is_ok());
  kafka::ClientOptions client;
  client.brokers = (*broker)->bootstrap_servers();

  kafka::ProducerOptions po;
  po.client = client;
  auto producer = kafka::Producer::create(po);
  ASSERT_TRUE(producer.is_ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*producer)->produce("t", "k", "v", 0).is_ok());
  for (int i = 0; i < 2; ++i) ASSERT_TRUE((*producer)->produce("t", "k", "v", 1).is_ok());
  ASSERT_TRUE((*producer)->flush(std::chrono::seconds(10)).is_ok());

  // The group has consumed 3 records of partition 0 and nothing of partition 1.
  kafka::ConsumerOptions co;
  co.client = client;
  co.group_id = "g";
  auto committer = kafka::Consumer::create(co);
  ASSERT_TRUE(committer.is_ok());
  const kafka::TopicPartitionOffset done{"t", 0, 3};
  ASSERT_TRUE((*committer)->commit(std::span(&done, 1)).is_ok());

  metrics::ConsumerLagTable table;
  LagMonitorOptions options;
  options.groups.push_back({"g", {{"t", 2}}});
  LagMonitor monitor(options, client, table);
  ASSERT_TRUE(monitor.start().is_ok());
  monitor.refresh();
  EXPECT_EQ(table.get("t", 0), 2);
  EXPECT_EQ(table.get("t", 1), 2);
  monitor.stop();
}

}  // namespace
}  // namespace tracefeed::apps
