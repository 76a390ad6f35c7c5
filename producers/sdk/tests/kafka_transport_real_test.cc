// KafkaTransport against a real Kafka broker (the real_kafka fixture): acknowledged ⇒ in the
// topic, exactly once per event_id, keyed by trace_id.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/event_json.h"
#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/tests/real_kafka.h"
#include "producers/sdk/kafka_transport.h"
#include "producers/sdk/tracer.h"

namespace tracefeed {
namespace {

using namespace std::chrono_literals;

class SdkRealKafka : public kafka::testing::RealKafkaTest {};

TEST_F(SdkRealKafka, AcknowledgedEventsAreInTheTopicsOncePerEventId) {
  const std::string prefix = topic("sdk") + ".";
  constexpr int kPartitions = 3;
  {
    auto admin = kafka::Admin::create(kafka::ClientOptions{bootstrap(), "sdk-it", {}});
    ASSERT_TRUE(admin.is_ok()) << admin.status().to_string();
    std::vector<kafka::TopicSpec> specs = {{prefix + "traces", kPartitions, 1, {}},
                                           {prefix + "assessments", kPartitions, 1, {}}};
    ASSERT_TRUE((*admin)->create_topics(specs, 30s).is_ok());
  }
  KafkaTransportOptions o;
  o.brokers = bootstrap();
  o.topic_prefix = prefix;
  auto transport = KafkaTransport::create(o);
  ASSERT_TRUE(transport.is_ok()) << transport.status().to_string();
  Tracer tracer(**transport);
  constexpr int kTraces = 200;
  for (int i = 0; i < kTraces; ++i) {
    std::string trace_id;
    {
      auto root = tracer.span("my_chatbot", SpanType::Chain);
      auto r = tracer.span("retrieve_context", SpanType::Retriever);
      trace_id = root.trace_id();
    }
    ASSERT_TRUE(tracer.log_feedback({.trace_id = trace_id, .name = "user_feedback", .value = false}).is_ok());
  }
  ASSERT_TRUE(tracer.flush(60s).is_ok());
  auto st = (*transport)->stats();
  ASSERT_EQ(st.acknowledged, 2u * kTraces) << st.first_error;

  kafka::ConsumerOptions co;
  co.client.brokers = bootstrap();
  auto c = kafka::Consumer::create(co);
  ASSERT_TRUE(c.is_ok());
  std::vector<kafka::TopicPartitionOffset> assignment;
  for (const auto& t : {prefix + "traces", prefix + "assessments"}) {
    for (int p = 0; p < kPartitions; ++p) assignment.push_back({t, p, kafka::kOffsetBeginning});
  }
  ASSERT_TRUE((*c)->assign(assignment).is_ok());
  std::multiset<std::string> event_ids;
  std::map<std::string, int32_t> partition_of;
  EventParser parser;
  size_t seen = 0;
  kafka::testing::wait_until([&] {
    auto batch = (*c)->poll_batch(1000, 100ms);
    if (batch.is_ok()) {
      for (auto& m : *batch) {
        ++seen;
        auto e = parser.parse_envelope(m.value());
        EXPECT_TRUE(e.is_ok()) << e.status().to_string();
        if (!e.is_ok()) continue;
        EXPECT_EQ(m.key(), e->trace_id());
        event_ids.insert(e->event_id);
        auto [it, inserted] = partition_of.emplace(std::string(m.key()), m.partition());
        if (!inserted) {
          EXPECT_EQ(it->second, m.partition());
        }
      }
    }
    return seen >= 2u * kTraces;
  }, 60s, 0ms);
  EXPECT_EQ(seen, 2u * kTraces);
  std::set<std::string> unique(event_ids.begin(), event_ids.end());
  EXPECT_EQ(unique.size(), event_ids.size()) << "each event_id exactly once";
  EXPECT_TRUE((*transport)->close(10s).is_ok());
}

}  // namespace
}  // namespace tracefeed
