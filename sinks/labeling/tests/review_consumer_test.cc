#include "sinks/labeling/review_consumer.h"

#include <gtest/gtest.h>

#include "kafka/admin.h"
#include "kafka/embedded_broker.h"
#include "kafka/producer.h"
#include "sinks/labeling/labeling_service.h"
#include "sinks/labeling/tests/test_support.h"

namespace tracefeed::labeling {
namespace {

using namespace testing;
using std::chrono::seconds;

std::string review_record(const std::string& session, const std::string& trace_id,
                          int priority = 0) {
  return R"({"type":"review_item","labeling_session":")" + session + R"(","trace_id":")" +
         trace_id + R"(","rule":"thumbs_down_to_review","priority":)" + std::to_string(priority) +
         R"(,"time":"2025-06-01T12:00:00.250Z"})";
}

class ReviewConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = kafka::EmbeddedBroker::start();
    ASSERT_TRUE(broker.is_ok()) << broker.status().to_string();
    _broker = std::move(broker).value();
    ASSERT_TRUE(_broker->create_topic(_topic, 2).is_ok());
    _client.brokers = _broker->bootstrap_servers();
    auto admin = kafka::Admin::create(_client);
    ASSERT_TRUE(admin.is_ok());
    auto id = (*admin)->cluster_id(seconds(10));
    ASSERT_TRUE(id.is_ok());
    _cluster_id = *id;
    kafka::ProducerOptions po;
    po.client = _client;
    auto producer = kafka::Producer::create(po);
    ASSERT_TRUE(producer.is_ok());
    _producer = std::move(producer).value();
    start_service();
  }

  void TearDown() override {
    _consumer.reset();
    _service.reset();
    _producer.reset();
  }

  void start_service() {
    _service = std::make_unique<LabelingService>(*_store, _sink, _clock);
    config::LabelingSession s;
    s.name = "quickstart_review";
    s.label_schemas = {"response_accuracy"};
    ASSERT_TRUE(_service->load({categorical("response_accuracy", {"Accurate", "Inaccurate"})}, {s})
                    .is_ok());
  }

  void start_consumer() {
    ReviewConsumerOptions o;
    o.topic = _topic;
    o.cluster_id = _cluster_id;
    o.group_id = "labeling-test";
    o.dead_letter = [this](std::string_view reason, const Status& error, std::string_view raw) {
      std::lock_guard lock(_mu);
      _dead.push_back(std::string(reason) + ": " + error.message() + " | " + std::string(raw));
    };
    _consumer = std::make_unique<ReviewConsumer>(o, _client, *_store, *_service);
    ASSERT_TRUE(_consumer->start().is_ok());
  }

  void send(const std::string& key, const std::string& value) {
    ASSERT_TRUE(_producer->produce(_topic, key, value).is_ok());
  }

  uint64_t items() { return _service->get_session("quickstart_review")->counts.total(); }

  SystemClock& _clock = SystemClock::instance();
  TempStore _store{_clock};
  FakeSink _sink;
  std::string _topic = "t.review";
  std::unique_ptr<kafka::EmbeddedBroker> _broker;
  kafka::ClientOptions _client;
  std::string _cluster_id;
  std::unique_ptr<kafka::Producer> _producer;
  std::unique_ptr<LabelingService> _service;
  std::unique_ptr<ReviewConsumer> _consumer;
  std::mutex _mu;
  std::vector<std::string> _dead;
};

TEST_F(ReviewConsumerTest, RoutedTracesBecomeClaimableAndRestartsResumeExactly) {
  for (int i = 1; i <= 10; ++i) send(trace(i), review_record("quickstart_review", trace(i)));
  send(trace(3), review_record("quickstart_review", trace(3)));  // re-produced after a router crash
  send(trace(11),
       R"({"type":"review_item","labeling_session":"quickstart_review","trace_id":"tr-nope"})");
  send(trace(12), review_record("not_yet_created", trace(12)));
  ASSERT_TRUE(_producer->flush(seconds(10)).is_ok());
  start_consumer();

  ASSERT_TRUE(
      eventually([&] { return _consumer->stats().records + _consumer->stats().malformed >= 13; }));
  EXPECT_EQ(items(), 10u);
  EXPECT_EQ(_service->stats().duplicates.load(), 1u);
  EXPECT_EQ(_consumer->stats().malformed.load(), 1u);
  {
    std::lock_guard lock(_mu);
    ASSERT_EQ(_dead.size(), 1u);
    EXPECT_NE(_dead[0].find("invalid_review_item: trace_id"), std::string::npos) << _dead[0];
  }
  EXPECT_EQ(_service->orphaned_items().at("not_yet_created"), 1u);
  auto claimed = _service->claim("quickstart_review", "alice");
  ASSERT_TRUE(claimed.is_ok() && claimed->has_value());

  // Restart: offsets come from RocksDB; nothing already applied is read again.
  _consumer->stop();
  _consumer.reset();
  _service.reset();
  _store.reopen();
  start_service();
  for (int i = 13; i <= 15; ++i) send(trace(i), review_record("quickstart_review", trace(i)));
  ASSERT_TRUE(_producer->flush(seconds(10)).is_ok());
  start_consumer();
  ASSERT_TRUE(eventually([&] { return _consumer->stats().records >= 3; }));
  EXPECT_EQ(items(), 13u);
  EXPECT_EQ(_consumer->stats().records.load(), 3u) << "resumed after the stored offsets";
  EXPECT_EQ(_service->stats().duplicates.load(), 0u);
  EXPECT_EQ(_service->get_session("quickstart_review")->counts.in_progress, 1u)
      << "alice's lease survived";
  EXPECT_TRUE(_consumer->last_error().is_ok());
}

TEST_F(ReviewConsumerTest, ANewClusterStartsFromItsBeginning) {
  // Offsets stored for another cluster id (e.g. a restarted embedded broker) are ignored.
  ConsumedOffset stale{_topic, 0, 1'000'000};
  ASSERT_TRUE(_service->apply_routed({}, "some-older-cluster", std::span(&stale, 1)).is_ok());
  for (int i = 1; i <= 4; ++i) send(trace(i), review_record("quickstart_review", trace(i)));
  ASSERT_TRUE(_producer->flush(seconds(10)).is_ok());
  start_consumer();
  ASSERT_TRUE(eventually([&] { return items() == 4; }));
}

}  // namespace
}  // namespace tracefeed::labeling
