// Component (embedded broker) and integration (real Kafka, label integration) tests of the whole
// ingestion path: HTTP client → http::Server → Gateway → KafkaEventSink → Producer → Kafka, read
// back with kafka::Consumer. Checks: acknowledged ⇒ in the topic, keyed by trace_id, exactly once
// per event_id under retries and concurrent duplicates; 503 when the broker is unreachable;
// rejected input on the dead-letter topic. Built twice: GATEWAY_TEST_BROKER=embedded|real.

#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <set>
#include <thread>

#include "core/event_json.h"
#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/embedded_broker.h"
#include "kafka/producer.h"
#include "kafka/tests/real_kafka.h"
#include "producers/gateway/gateway.h"
#include "producers/publish/kafka_event_sink.h"

#define GW_STR2(x) #x
#define GW_STR(x) GW_STR2(x)

namespace tracefeed::gateway {
namespace {

using kafka::testing::unique_name;
using kafka::testing::wait_until;

constexpr int kPartitions = 4;
const bool kRealBroker = std::string_view(GW_STR(GATEWAY_TEST_BROKER)) == "real";

std::string trace_id(int i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "tr-%032x", i + 1);
  return buf;
}

std::string feedback_line(const std::string& event_id, const std::string& trace) {
  return R"({"event_id":")" + event_id + R"(","type":"assessment","assessment":{"assessment_name":"user_feedback","trace_id":")" +
         trace + R"(","source":{"source_type":"HUMAN","source_id":"u"},"feedback":{"value":false}}})";
}

struct Record {
  std::string key, value;
  int32_t partition;
};

class GatewayKafkaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (kRealBroker) {
      auto b = kafka::testing::real_kafka_bootstrap();
      ASSERT_TRUE(b.is_ok()) << b.status().to_string();
      _bootstrap = *b;
    } else {
      auto broker = kafka::EmbeddedBroker::start();
      ASSERT_TRUE(broker.is_ok()) << broker.status().to_string();
      _broker = std::move(*broker);
      _bootstrap = _broker->bootstrap_servers();
    }
    _topics = Topics::with_prefix(unique_name("gw") + ".");
    if (_broker) {
      for (const auto& t : _topics.all()) ASSERT_TRUE(_broker->create_topic(t, kPartitions).is_ok());
    } else {
      auto admin = kafka::Admin::create(kafka::ClientOptions{.brokers = _bootstrap});
      ASSERT_TRUE(admin.is_ok()) << admin.status().to_string();
      std::vector<kafka::TopicSpec> specs;
      for (const auto& t : _topics.all()) specs.push_back({t, kPartitions, 1, {}});
      ASSERT_TRUE((*admin)->create_topics(specs, std::chrono::seconds(30)).is_ok());
    }
    kafka::ProducerOptions po;
    po.client.brokers = _bootstrap;
    auto p = kafka::Producer::create(po);
    ASSERT_TRUE(p.is_ok()) << p.status().to_string();
    _producer = std::move(*p);
    _sink = std::make_unique<publish::KafkaEventSink>(*_producer, _topics, SystemClock::instance());
    _gateway = std::make_unique<Gateway>(GatewayOptions{}, *_sink, SystemClock::instance(), _sink.get());
    _server = std::make_unique<http::Server>(http::ServerOptions{.listen = "127.0.0.1:0", .threads = 4});
    _gateway->register_routes(*_server);
    ASSERT_TRUE(_server->start().is_ok());
  }

  void TearDown() override {
    if (_server) _server->stop();
    _server.reset();
    _gateway.reset();
    _sink.reset();
    if (_producer) (void)_producer->close(std::chrono::seconds(5));
    _producer.reset();
    _broker.reset();
  }

  httplib::Client client() {
    httplib::Client c("127.0.0.1", _server->port());
    c.set_read_timeout(std::chrono::seconds(60));
    return c;
  }

  // Total records in `topic` (sum of high − low watermarks): exact, no waiting for "silence".
  int64_t records_in(const std::string& topic) {
    auto consumer = kafka::Consumer::create(kafka::ConsumerOptions{.client = {.brokers = _bootstrap}});
    EXPECT_TRUE(consumer.is_ok());
    int64_t total = 0;
    for (int p = 0; p < kPartitions; ++p) {
      // A fresh topic's leader may not be known yet (NOT_LEADER_FOR_PARTITION): retry until it is.
      auto w = (*consumer)->watermark_offsets({topic, p}, std::chrono::seconds(10));
      for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
           !w.is_ok() && w.status().code() == ErrorCode::unavailable && std::chrono::steady_clock::now() < deadline;) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // retry interval
        w = (*consumer)->watermark_offsets({topic, p}, std::chrono::seconds(10));
      }
      EXPECT_TRUE(w.is_ok()) << w.status().to_string();
      if (w.is_ok()) total += w->high - w->low;
    }
    return total;
  }

  // Reads `count` records of `topic` from the beginning (deadline 30 s).
  std::vector<Record> read(const std::string& topic, size_t count) {
    auto consumer = kafka::Consumer::create(kafka::ConsumerOptions{.client = {.brokers = _bootstrap}});
    EXPECT_TRUE(consumer.is_ok());
    std::vector<kafka::TopicPartitionOffset> offsets;
    for (int p = 0; p < kPartitions; ++p) offsets.push_back({topic, p, kafka::kOffsetBeginning});
    EXPECT_TRUE((*consumer)->assign(offsets).is_ok());
    std::vector<Record> out;
    wait_until(
        [&] {
          auto batch = (*consumer)->poll_batch(1000, std::chrono::milliseconds(100));
          if (batch.is_ok()) {
            for (auto& m : *batch) out.push_back({std::string(m.key()), std::string(m.value()), m.partition()});
          }
          return out.size() >= count;
        },
        std::chrono::seconds(30));
    return out;
  }

  std::unique_ptr<kafka::EmbeddedBroker> _broker;
  std::string _bootstrap;
  Topics _topics;
  std::unique_ptr<kafka::Producer> _producer;
  std::unique_ptr<publish::KafkaEventSink> _sink;
  std::unique_ptr<Gateway> _gateway;
  std::unique_ptr<http::Server> _server;
};

TEST_F(GatewayKafkaTest, AcknowledgedEventsAreInTheTopicKeyedByTraceIdExactlyOnce) {
  constexpr int kEvents = 60;
  std::string body;
  for (int i = 0; i < kEvents; ++i) body += feedback_line("ev-" + std::to_string(i), trace_id(i % 7)) + "\n";

  // The same batch: once, then retried sequentially, then by 4 concurrent clients.
  auto c = client();
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto res = c.Post("/api/v1/events", body, "application/x-ndjson");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 202) << res->body;
    EXPECT_EQ(res->body, R"({"accepted":60})");
  }
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      auto cc = client();
      auto res = cc.Post("/api/v1/events", body, "application/x-ndjson");
      if (res && res->status == 202) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);

  EXPECT_EQ(records_in(_topics.assessments), kEvents) << "every event_id exactly once";
  EXPECT_EQ(records_in(_topics.traces), 0);
  std::vector<Record> records = read(_topics.assessments, kEvents);
  ASSERT_EQ(records.size(), static_cast<size_t>(kEvents));
  std::set<std::string> ids;
  std::map<std::string, int32_t> partition_of;
  EventParser parser;
  for (const auto& r : records) {
    auto e = parser.parse_envelope(r.value);
    ASSERT_TRUE(e.is_ok()) << e.status().to_string() << " " << r.value;
    EXPECT_EQ(r.key, e->trace_id()) << "keyed by trace_id";
    ids.insert(e->event_id);
    auto [it, fresh] = partition_of.emplace(r.key, r.partition);
    EXPECT_EQ(it->second, r.partition) << "one trace, one partition";
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kEvents));
  EXPECT_EQ(_gateway->stats().ingested(EventType::assessment), 6u * kEvents) << "every acknowledgement is counted";
  EXPECT_EQ(_sink->stats().produced.load(), static_cast<uint64_t>(kEvents));
}

TEST_F(GatewayKafkaTest, MlflowCreateAssessmentIsPublishedOnceUnderRetries) {
  const std::string trace = trace_id(42);
  const std::string body = R"({"assessment": {"assessment_name": "user_feedback", "trace_id": ")" + trace +
                           R"(", "source": {"source_type": "HUMAN", "source_id": "enduser_123"}, "create_time": "2025-06-01T12:00:00.358Z",
                           "last_update_time": "2025-06-01T12:00:00.358Z", "feedback": {"value": false}, "rationale": "r", "valid": true}})";
  auto c = client();
  std::string first_id;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto res = c.Post("/api/3.0/mlflow/traces/" + trace + "/assessments", body, "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    const auto pos = res->body.find("\"assessment_id\":\"a-");
    ASSERT_NE(pos, std::string::npos) << res->body;
    const std::string id = res->body.substr(pos + 17, 34);
    if (attempt == 0) first_id = id;
    EXPECT_EQ(id, first_id) << "a retry gets the same assessment id";
  }
  EXPECT_EQ(records_in(_topics.assessments), 1);
  auto records = read(_topics.assessments, 1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].key, trace);
  EXPECT_NE(records[0].value.find(first_id), std::string::npos);
}

TEST_F(GatewayKafkaTest, RejectedInputGoesToTheDeadLetterTopicAndNothingElse) {
  auto c = client();
  auto res = c.Post("/api/v1/events", R"([{"type":"assessment","assessment":{"assessment_name":"a.b"}}])", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  auto records = read(_topics.dead_letter, 1);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_NE(records[0].value.find(R"("reason":"invalid_event")"), std::string::npos) << records[0].value;
  EXPECT_NE(records[0].value.find(R"("raw":)"), std::string::npos);
  EXPECT_EQ(records_in(_topics.assessments), 0);
  // The server keeps serving after bad input.
  auto good = c.Post("/api/v1/events", feedback_line("ok-1", trace_id(1)), "application/x-ndjson");
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 202);
}

// A producer pointed at a port where no broker listens: every publish times out → 503 with
// Retry-After and nothing is acknowledged.
TEST_F(GatewayKafkaTest, UnreachableBrokerIs503) {
  kafka::ProducerOptions po;
  po.client.brokers = "127.0.0.1:1";
  po.message_timeout_ms = 500;
  auto p = kafka::Producer::create(po);
  ASSERT_TRUE(p.is_ok());
  publish::KafkaEventSink sink(**p, _topics, SystemClock::instance(),
                               publish::KafkaEventSinkOptions{.ack_timeout = std::chrono::milliseconds(2000)});
  Gateway gw(GatewayOptions{}, sink, SystemClock::instance());
  http::Server server(http::ServerOptions{.listen = "127.0.0.1:0", .threads = 2});
  gw.register_routes(server);
  ASSERT_TRUE(server.start().is_ok());
  httplib::Client c("127.0.0.1", server.port());
  c.set_read_timeout(std::chrono::seconds(30));
  auto res = c.Post("/api/v1/events", feedback_line("down-1", trace_id(1)) + "\n" + feedback_line("down-2", trace_id(2)),
                    "application/x-ndjson");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503) << res->body;
  EXPECT_TRUE(res->has_header("Retry-After"));
  EXPECT_NE(res->body.find(R"("accepted":0)"), std::string::npos) << res->body;
  EXPECT_NE(res->body.find(R"("index":1)"), std::string::npos) << res->body;
  EXPECT_EQ(sink.dedup_window().size(), 0u) << "failed ids are not remembered: a retry publishes for real";
  server.stop();
  (void)(*p)->close(std::chrono::milliseconds(100));
}

}  // namespace
}  // namespace tracefeed::gateway
