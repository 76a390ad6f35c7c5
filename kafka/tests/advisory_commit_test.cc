// AdvisoryCommitter against the embedded broker: applied offsets reach the group at most once a
// second, an idle consumer commits the high watermark, a forgotten partition is left alone.
#include "kafka/advisory_commit.h"

#include <gtest/gtest.h>

#include "kafka/consumer.h"
#include "kafka/embedded_broker.h"
#include "kafka/producer.h"

namespace tracefeed::kafka {
namespace {

using namespace std::chrono_literals;

TEST(AdvisoryCommitter, CommitsAppliedOffsetsThenTheWatermarkWhenIdle) {
  auto broker = EmbeddedBroker::start();
  ASSERT_TRUE(broker.is_ok()) << broker.status().to_string();
  ASSERT_TRUE((*broker)->create_topic("t", 2).is_ok());
  ClientOptions client;
  client.brokers = (*broker)->bootstrap_servers();
  ProducerOptions po;
  po.client = client;
  auto producer = Producer::create(po);
  ASSERT_TRUE(producer.is_ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*producer)->produce("t", "k", "v", 0).is_ok());
  ASSERT_TRUE((*producer)->produce("t", "k", "v", 1).is_ok());
  ASSERT_TRUE((*producer)->flush(10s).is_ok());

  ConsumerOptions co;
  co.client = client;
  co.group_id = "g";
  auto consumer = Consumer::create(co);
  ASSERT_TRUE(consumer.is_ok());
  auto committed = [&](int32_t partition) {
    const TopicPartition tp{"t", partition};
    auto c = (*consumer)->committed(std::span(&tp, 1), 10s);
    EXPECT_TRUE(c.is_ok());
    return c.is_ok() ? c->at(0).offset : -2;
  };

  AdvisoryCommitter committer(**consumer, /*commit_watermark_when_idle=*/true);
  const auto t0 = std::chrono::steady_clock::now();
  committer.applied("t", 0, 3);
  committer.applied("t", 1, 1);
  ASSERT_TRUE(committer.maybe_commit(false, t0).is_ok());
  EXPECT_EQ(committed(0), 3);
  EXPECT_EQ(committed(1), 1);

  committer.applied("t", 0, 4);
  ASSERT_TRUE(committer.maybe_commit(false, t0 + 500ms).is_ok());
  EXPECT_EQ(committed(0), 3) << "at most one commit a second";

  // Idle: what is left below the watermark cannot be read (markers, open transactions).
  ASSERT_TRUE(committer.maybe_commit(true, t0 + 1s).is_ok());
  EXPECT_EQ(committed(0), 5);
  EXPECT_EQ(committed(1), 1);

  // Partition 1 moved away: its new owner commits it.
  committer.forget("t", 1);
  committer.applied("t", 0, 5);
  ASSERT_TRUE((*consumer)->commit(std::vector<TopicPartitionOffset>{{"t", 1, 0}}).is_ok());
  ASSERT_TRUE(committer.maybe_commit(true, t0 + 2s).is_ok());
  EXPECT_EQ(committed(1), 0);
}

}  // namespace
}  // namespace tracefeed::kafka
