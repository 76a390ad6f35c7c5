// KafkaEventSink against the embedded broker: topic by type, key = trace_id, one record per
// event_id (within a call, across calls), serialization round-trips, dead-letter records.

#include "producers/publish/kafka_event_sink.h"

#include <algorithm>

#include <gtest/gtest.h>

#include <thread>

#include "core/event_json.h"
#include "kafka/consumer.h"
#include "kafka/embedded_broker.h"
#include "kafka/producer.h"
#include "kafka/tests/real_kafka.h"
#include "metrics/metrics.h"
#include "metrics/tests/exposition_text.h"

namespace tracefeed::publish {
namespace {

constexpr int kPartitions = 3;

Envelope feedback(std::string event_id, std::string trace_id) {
  Envelope e;
  e.event_id = std::move(event_id);
  e.type = EventType::assessment;
  e.time = 1'700'000'000'000'000'000;
  Assessment& a = e.payload.emplace<Assessment>();
  a.assessment_name = "user_feedback";
  a.trace_id = std::move(trace_id);
  a.value = Feedback{"false", std::nullopt};
  a.present = Assessment::f_name | Assessment::f_trace_id | Assessment::f_feedback;
  return e;
}

Envelope trace(std::string event_id, std::string trace_id) {
  Envelope e;
  e.event_id = std::move(event_id);
  e.type = EventType::trace;
  e.time = 1'700'000'000'000'000'000;
  e.payload.emplace<Trace>().trace_info.trace_id = std::move(trace_id);
  return e;
}

class KafkaEventSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = kafka::EmbeddedBroker::start();
    ASSERT_TRUE(b.is_ok());
    broker = std::move(*b);
    topics = Topics::with_prefix("t.");
    for (const auto& t : topics.all()) ASSERT_TRUE(broker->create_topic(t, kPartitions).is_ok());
    kafka::ProducerOptions po;
    po.client.brokers = broker->bootstrap_servers();
    auto p = kafka::Producer::create(po);
    ASSERT_TRUE(p.is_ok());
    producer = std::move(*p);
  }
  void TearDown() override {
    if (producer) (void)producer->close();
  }

  std::vector<std::pair<std::string, std::string>> read(const std::string& topic, size_t count) {
    auto c = kafka::Consumer::create(kafka::ConsumerOptions{.client = {.brokers = broker->bootstrap_servers()}});
    EXPECT_TRUE(c.is_ok());
    std::vector<kafka::TopicPartitionOffset> offsets;
    for (int p = 0; p < kPartitions; ++p) offsets.push_back({topic, p, kafka::kOffsetBeginning});
    EXPECT_TRUE((*c)->assign(offsets).is_ok());
    std::vector<std::pair<std::string, std::string>> out;
    kafka::testing::wait_until(
        [&] {
          auto batch = (*c)->poll_batch(100, std::chrono::milliseconds(100));
          if (batch.is_ok()) for (auto& m : *batch) out.emplace_back(std::string(m.key()), std::string(m.value()));
          return out.size() >= count;
        },
        std::chrono::seconds(20));
    return out;
  }
  int64_t count(const std::string& topic) {
    auto c = kafka::Consumer::create(kafka::ConsumerOptions{.client = {.brokers = broker->bootstrap_servers()}});
    int64_t n = 0;
    for (int p = 0; p < kPartitions; ++p) {
      auto w = (*c)->watermark_offsets({topic, p}, std::chrono::seconds(5));
      if (w.is_ok()) n += w->high - w->low;
    }
    return n;
  }

  std::unique_ptr<kafka::EmbeddedBroker> broker;
  Topics topics;
  std::unique_ptr<kafka::Producer> producer;
  ManualClock clock;
};

TEST_F(KafkaEventSinkTest, RoutesByTypeKeysByTraceIdAndDedupes) {
  KafkaEventSink sink(*producer, topics, clock);
  const std::string t1 = "tr-0000000000000000000000000000000a", t2 = "tr-0000000000000000000000000000000b";
  std::vector<Envelope> batch = {feedback("f1", t1), trace("t1", t1), feedback("f1", t1), feedback("f2", t2)};
  auto st = sink.publish(batch);
  ASSERT_EQ(st.size(), 4u);
  for (const auto& s : st) EXPECT_TRUE(s.is_ok()) << s.to_string();
  auto again = sink.publish(batch);  // a retry: acknowledged without producing
  for (const auto& s : again) EXPECT_TRUE(s.is_ok());
  EXPECT_EQ(sink.stats().produced.load(), 3u);
  EXPECT_EQ(sink.stats().deduplicated.load(), 5u);

  EXPECT_EQ(count(topics.assessments), 2);
  EXPECT_EQ(count(topics.traces), 1);
  auto assessments = read(topics.assessments, 2);
  ASSERT_EQ(assessments.size(), 2u);
  EventParser parser;
  for (auto& [key, value] : assessments) {
    auto e = parser.parse_envelope(value);
    ASSERT_TRUE(e.is_ok()) << e.status().to_string();
    EXPECT_EQ(key, e->trace_id());
  }
  auto traces = read(topics.traces, 1);
  ASSERT_EQ(traces.size(), 1u);
  EXPECT_EQ(traces[0].first, t1);
}

TEST_F(KafkaEventSinkTest, DeadLetterRecordsAreTruncatedJson) {
  KafkaEventSink sink(*producer, topics, clock, KafkaEventSinkOptions{.dead_letter_raw_max_bytes = 8});
  sink.dead_letter("invalid_event", Status::invalid_argument("assessment.assessment_name: required"), "0123456789abcdef");
  sink.dead_letter("malformed_body", Status::invalid_argument("body"), "\xff\xfe");
  auto records = read(topics.dead_letter, 2);
  ASSERT_EQ(records.size(), 2u);
  // The two records may sit on different partitions, so they can be read in either order.
  std::sort(records.begin(), records.end(),
            [](const auto& a, const auto& b) { return a.second.find("invalid_event") != std::string::npos &&
                                                      b.second.find("invalid_event") == std::string::npos; });
  EXPECT_EQ(records[0].second,
            R"({"reason":"invalid_event","error_code":"INVALID_PARAMETER_VALUE","message":"assessment.assessment_name: required",)"
            R"("raw":"01234567","raw_bytes":16,"time":"2023-11-14T22:13:20Z"})");
  EXPECT_NE(records[1].second.find(R"("raw_hex":"fffe")"), std::string::npos) << records[1].second;
  EXPECT_EQ(sink.stats().dead_lettered.load(), 2u);
}

TEST_F(KafkaEventSinkTest, QueueFullIsUnavailableAndNotRemembered) {
  kafka::ProducerOptions po;
  po.client.brokers = broker->bootstrap_servers();
  po.max_queued_messages = 2;
  po.linger_ms = 200;
  auto small = kafka::Producer::create(po);
  ASSERT_TRUE(small.is_ok());
  KafkaEventSink sink(**small, topics, clock);
  std::vector<Envelope> batch;
  for (int i = 0; i < 6; ++i) batch.push_back(feedback("q" + std::to_string(i), "tr-0000000000000000000000000000000c"));
  auto st = sink.publish(batch);
  size_t unavailable = 0;
  for (const auto& s : st) unavailable += s.code() == ErrorCode::unavailable;
  EXPECT_GE(unavailable, 1u);
  // A retry of the refused ones publishes them for real (the window forgot them).
  std::vector<Envelope> retry;
  for (size_t i = 0; i < st.size(); ++i) if (!st[i].is_ok()) retry.push_back(batch[i]);
  size_t acked = st.size() - unavailable;
  while (!retry.empty()) {
    // Unavailable means "retry later" (the gateway's 503 + Retry-After): the queue frees as
    // the earlier messages are delivered.
    auto r = sink.publish(std::span<const Envelope>(retry.data(), 1));
    for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
         r[0].code() == ErrorCode::unavailable && std::chrono::steady_clock::now() < deadline;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // retry interval
      r = sink.publish(std::span<const Envelope>(retry.data(), 1));
    }
    ASSERT_TRUE(r[0].is_ok()) << r[0].to_string();
    retry.erase(retry.begin());
    ++acked;
  }
  EXPECT_EQ(acked, 6u);
  (void)(*small)->close();
  EXPECT_EQ(count(topics.assessments), 6);
}

TEST_F(KafkaEventSinkTest, CountsIngestedByTypeAndRejectedByReasonInPrometheus) {
  metrics::Metrics m;
  const std::string t1 = "tr-0000000000000000000000000000000d";
  {
    KafkaEventSink sink(*producer, topics, clock, {}, &m);
    std::vector<Envelope> batch = {feedback("m1", t1), trace("m2", t1), feedback("m3", t1), feedback("m1", t1)};
    for (const auto& s : sink.publish(batch)) EXPECT_TRUE(s.is_ok()) << s.to_string();
    for (const auto& s : sink.publish(batch)) EXPECT_TRUE(s.is_ok());  // a retry is not ingested twice
  }
  std::string text = m.text();
  using metrics::testing::sample_value;
  EXPECT_EQ(sample_value(text, R"(tracefeed_events_ingested_total{type="assessment"})"), 2.0);
  EXPECT_EQ(sample_value(text, R"(tracefeed_events_ingested_total{type="trace"})"), 1.0);
  EXPECT_EQ(sample_value(text, R"(tracefeed_events_ingested_total{type="assessment_update"})"), 0.0);
  EXPECT_EQ(sample_value(text, R"(tracefeed_events_rejected_total{reason="unavailable"})"), 0.0);

  // A full producer queue refuses some: each counts once as unavailable, none as ingested.
  kafka::ProducerOptions po;
  po.client.brokers = broker->bootstrap_servers();
  po.max_queued_messages = 2;
  po.linger_ms = 200;
  auto small = kafka::Producer::create(po);
  ASSERT_TRUE(small.is_ok());
  KafkaEventSink sink(**small, topics, clock, {}, &m);
  std::vector<Envelope> burst;
  for (int i = 0; i < 6; ++i) burst.push_back(feedback("b" + std::to_string(i), t1));
  size_t refused = 0;
  for (const auto& s : sink.publish(burst)) refused += !s.is_ok();
  ASSERT_GE(refused, 1u);
  text = m.text();
  EXPECT_EQ(sample_value(text, R"(tracefeed_events_rejected_total{reason="unavailable"})"), static_cast<double>(refused));
  EXPECT_EQ(sample_value(text, R"(tracefeed_events_rejected_total{reason="publish_failed"})"), 0.0);
  EXPECT_EQ(sample_value(text, R"(tracefeed_events_ingested_total{type="assessment"})"), 2.0 + static_cast<double>(6 - refused));
  (void)(*small)->close();
}

}  // namespace
}  // namespace tracefeed::publish
