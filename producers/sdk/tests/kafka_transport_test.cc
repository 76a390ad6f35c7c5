// KafkaTransport against the embedded (mock) broker: what the SDK writes parses with core's
// EventParser and lands on the right topic, keyed by trace_id.
#include "producers/sdk/kafka_transport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>

#include "core/event_json.h"
#include "kafka/consumer.h"
#include "kafka/embedded_broker.h"
#include "kafka/tests/real_kafka.h"
#include "producers/sdk/tracer.h"

namespace tracefeed {
namespace {

using namespace std::chrono_literals;
using kafka::testing::unique_name;

struct Consumed {
  std::string topic, key, value;
  int32_t partition;
};

// Reads every partition of `topics` from the beginning until `n` records arrived (deadline 30 s).
std::vector<Consumed> consume(const std::string& brokers, const std::vector<std::string>& topics, int partitions,
                              size_t n) {
  kafka::ConsumerOptions o;
  o.client.brokers = brokers;
  o.read_committed = false;
  auto c = kafka::Consumer::create(o);
  EXPECT_TRUE(c.is_ok()) << c.status().to_string();
  if (!c.is_ok()) return {};
  std::vector<kafka::TopicPartitionOffset> assignment;
  for (const auto& t : topics) {
    for (int p = 0; p < partitions; ++p) assignment.push_back({t, p, kafka::kOffsetBeginning});
  }
  EXPECT_TRUE((*c)->assign(assignment).is_ok());
  std::vector<Consumed> out;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
    auto batch = (*c)->poll_batch(1000, 200ms);
    if (!batch.is_ok()) continue;
    for (auto& m : *batch) {
      out.push_back({std::string(m.topic()), std::string(m.key()), std::string(m.value()), m.partition()});
    }
  }
  return out;
}

class KafkaTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = kafka::EmbeddedBroker::start();
    ASSERT_TRUE(b.is_ok()) << b.status().to_string();
    broker = std::move(*b);
    prefix = unique_name("sdk") + ".";
    ASSERT_TRUE(broker->create_topic(prefix + "traces", kPartitions).is_ok());
    ASSERT_TRUE(broker->create_topic(prefix + "assessments", kPartitions).is_ok());
  }
  KafkaTransportOptions options() const {
    KafkaTransportOptions o;
    o.brokers = broker->bootstrap_servers();
    o.topic_prefix = prefix;
    return o;
  }
  static constexpr int kPartitions = 4;
  std::unique_ptr<kafka::EmbeddedBroker> broker;
  std::string prefix;
};

TEST_F(KafkaTransportTest, TracesAndFeedbackLandKeyedByTraceId) {
  std::atomic<int> acks{0};
  auto o = options();
  o.on_ack = [&](const Status& s, int64_t latency_ns) {
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    EXPECT_GE(latency_ns, 0);
    acks.fetch_add(1);
  };
  auto transport = KafkaTransport::create(o);
  ASSERT_TRUE(transport.is_ok()) << transport.status().to_string();
  Tracer tracer(**transport);
  constexpr int kTraces = 20;
  std::map<std::string, std::string> feedback_trace;  // assessment id → trace id
  for (int i = 0; i < kTraces; ++i) {
    std::string trace_id;
    {
      auto root = tracer.span("my_chatbot", SpanType::Chain);
      root.set_inputs(JsonValue::object({{"user_question", "q" + std::to_string(i)}}));
      auto child = tracer.span("retrieve_context", SpanType::Retriever);
      trace_id = root.trace_id();
    }
    auto id = tracer.log_feedback({.trace_id = trace_id, .name = "user_feedback", .value = i % 2 == 0,
                                   .source = {SourceType::human, "enduser_123"}});
    ASSERT_TRUE(id.is_ok()) << id.status().to_string();
    feedback_trace[*id] = trace_id;
  }
  ASSERT_TRUE(tracer.flush(30s).is_ok());
  EXPECT_EQ(acks.load(), 2 * kTraces);
  auto st = (*transport)->stats();
  EXPECT_EQ(st.enqueued, 2u * kTraces);
  EXPECT_EQ(st.acknowledged, 2u * kTraces);
  EXPECT_EQ(st.failed, 0u);

  auto records = consume(broker->bootstrap_servers(), {prefix + "traces", prefix + "assessments"}, kPartitions,
                         2 * kTraces);
  ASSERT_EQ(records.size(), 2u * kTraces);
  EventParser parser;
  std::map<std::string, int32_t> partition_of;  // trace id → partition, must agree across topics
  int traces = 0, assessments = 0;
  for (const auto& r : records) {
    auto e = parser.parse_envelope(r.value);
    ASSERT_TRUE(e.is_ok()) << e.status().to_string() << "\n" << r.value;
    EXPECT_EQ(r.key, e->trace_id());
    if (r.topic == prefix + "traces") {
      ASSERT_EQ(e->type, EventType::trace);
      EXPECT_EQ(e->trace().spans.size(), 2u);
      ++traces;
    } else {
      ASSERT_EQ(r.topic, prefix + "assessments");
      ASSERT_EQ(e->type, EventType::assessment);
      EXPECT_EQ(feedback_trace.at(e->assessment().assessment_id), e->trace_id());
      ++assessments;
    }
    auto [it, inserted] = partition_of.emplace(r.key, r.partition);
    if (!inserted) {
      EXPECT_EQ(it->second, r.partition) << "a trace and its feedback share a partition";
    }
  }
  EXPECT_EQ(traces, kTraces);
  EXPECT_EQ(assessments, kTraces);
  EXPECT_TRUE((*transport)->close(10s).is_ok());
  EXPECT_EQ((*transport)->send({EventType::trace, "e", "tr-x", "{}"}).code(), ErrorCode::unavailable);
}

TEST_F(KafkaTransportTest, FullBufferFailsOrBlocksNeverDrops) {
  auto o = options();
  o.max_buffered_events = 1;
  o.linger_ms = 1000;  // keep the first message queued locally
  o.on_full = BufferFullPolicy::error;
  auto transport = KafkaTransport::create(o);
  ASSERT_TRUE(transport.is_ok());
  const std::string json = R"({"event_id":"e"})";
  ASSERT_TRUE((*transport)->send({EventType::assessment, "e1", "k", json}).is_ok());
  Status full = (*transport)->send({EventType::assessment, "e2", "k", json});
  EXPECT_EQ(full.code(), ErrorCode::unavailable) << full.to_string();

  // Blocking: the second send waits until the first is delivered (after its linger), then succeeds.
  o.on_full = BufferFullPolicy::block;
  o.block_timeout = 30s;
  o.linger_ms = 50;
  auto blocking = KafkaTransport::create(o);
  ASSERT_TRUE(blocking.is_ok());
  ASSERT_TRUE((*blocking)->send({EventType::assessment, "e1", "k", json}).is_ok());
  EXPECT_TRUE((*blocking)->send({EventType::assessment, "e2", "k", json}).is_ok());
  ASSERT_TRUE((*blocking)->flush(30s).is_ok());
  EXPECT_EQ((*blocking)->stats().acknowledged, 2u);
  ASSERT_TRUE((*transport)->flush(30s).is_ok());
  EXPECT_EQ((*transport)->stats().acknowledged, 1u);
}

TEST_F(KafkaTransportTest, ObserverGetsEachEventsLatencyOnTheTransportsClock) {
  ManualClock clock;
  std::mutex mu;
  std::vector<int64_t> latencies;
  auto o = options();
  o.linger_ms = 60000;  // nothing leaves before flush(): the clock moves first
  o.message_timeout_ms = 120000;
  o.on_ack = [&](const Status& s, int64_t ns) {
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    std::lock_guard lock(mu);
    latencies.push_back(ns);
  };
  auto transport = KafkaTransport::create(o, clock);
  ASSERT_TRUE(transport.is_ok()) << transport.status().to_string();
  const std::string json = R"({"event_id":"e"})";
  ASSERT_TRUE((*transport)->send({EventType::assessment, "e1", "k1", json}).is_ok());
  clock.advance(3ms);
  ASSERT_TRUE((*transport)->send({EventType::trace, "e2", "k2", json}).is_ok());
  clock.advance(2ms);
  ASSERT_TRUE((*transport)->flush(30s).is_ok());
  // flush() returns after the observer ran for every event, and the counts include them.
  std::lock_guard lock(mu);
  std::sort(latencies.begin(), latencies.end());
  EXPECT_EQ(latencies, (std::vector<int64_t>{2'000'000, 5'000'000}));
  EXPECT_EQ((*transport)->stats().acknowledged, 2u);
}

TEST_F(KafkaTransportTest, UnreachableBrokerFailsEveryTakenEventOnClose) {
  KafkaTransportOptions o;
  o.brokers = "127.0.0.1:1";  // nothing listens
  o.message_timeout_ms = 60000;
  std::atomic<int> failed{0};
  o.on_ack = [&](const Status& s, int64_t) {
    if (!s.is_ok()) failed.fetch_add(1);
  };
  auto transport = KafkaTransport::create(o);
  ASSERT_TRUE(transport.is_ok());
  ASSERT_TRUE((*transport)->send({EventType::assessment, "e1", "k", "{}"}).is_ok());
  (void)(*transport)->close(100ms);
  EXPECT_EQ(failed.load(), 1);
  EXPECT_EQ((*transport)->stats().failed, 1u);
  EXPECT_FALSE((*transport)->stats().first_error.empty());
}

}  // namespace
}  // namespace tracefeed
