// The review consumer against Apache Kafka (scripts/kafka/, ctest fixture real_kafka): the route
// processor may write the review topic in transactions, and only committed items may reach a
// session (the embedded mock cluster cannot show this: it hands out aborted records too).
#include <gtest/gtest.h>

#include <set>

#include "kafka/admin.h"
#include "kafka/producer.h"
#include "kafka/tests/real_kafka.h"
#include "sinks/labeling/labeling_service.h"
#include "sinks/labeling/review_consumer.h"
#include "sinks/labeling/tests/test_support.h"

namespace tracefeed::labeling {
namespace {

using namespace std::chrono_literals;
using kafka::testing::RealKafkaTest;
using kafka::testing::unique_name;
using kafka::testing::wait_until;
using testing::categorical;
using testing::FakeSink;
using testing::TempStore;
using testing::trace;

std::string review_record(const std::string& trace_id) {
  return R"({"type":"review_item","labeling_session":"quickstart_review","trace_id":")" + trace_id +
         R"(","rule":"thumbs_down_to_review","priority":0,"time":"2025-06-01T12:00:00.250Z"})";
}

class ReviewConsumerRealKafka : public RealKafkaTest {
 protected:
  void SetUp() override {
    RealKafkaTest::SetUp();
    if (HasFatalFailure()) return;
    _client = kafka::ClientOptions{bootstrap(), "tracefeed-labeling-it", {}};
    _topic = topic("review");
    auto admin = kafka::Admin::create(_client);
    ASSERT_TRUE(admin.is_ok());
    ASSERT_TRUE((*admin)->create_topics({{_topic, 2, 1, {}}}, 30s).is_ok());
    auto id = (*admin)->cluster_id(30s);
    ASSERT_TRUE(id.is_ok());
    _cluster_id = *id;
    start_service();
  }

  void start_service() {
    _service = std::make_unique<LabelingService>(*_store, _sink, _clock);
    config::LabelingSession s;
    s.name = "quickstart_review";
    s.label_schemas = {"response_accuracy"};
    ASSERT_TRUE(_service->load({categorical("response_accuracy", {"Accurate", "Inaccurate"})}, {s})
                    .is_ok());
  }

  std::unique_ptr<ReviewConsumer> start_consumer() {
    ReviewConsumerOptions o;
    o.topic = _topic;
    o.cluster_id = _cluster_id;
    o.group_id = unique_name("labeling");
    auto c = std::make_unique<ReviewConsumer>(o, _client, *_store, *_service);
    EXPECT_TRUE(c->start().is_ok());
    return c;
  }

  void produce_in_transaction(kafka::Producer& p, int from, int to, bool commit) {
    ASSERT_TRUE(p.begin_transaction().is_ok());
    std::vector<std::string> keys, values;
    for (int i = from; i <= to; ++i) {
      keys.push_back(trace(i));
      values.push_back(review_record(trace(i)));
    }
    std::vector<kafka::ProduceRecord> records;
    for (size_t i = 0; i < keys.size(); ++i)
      records.push_back({_topic, keys[i], values[i], std::nullopt});
    for (const auto& r : p.produce_batch(records, 30s))
      ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
    Status s = commit ? p.commit_transaction(30s) : p.abort_transaction(30s);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
  }

  std::set<std::string> traces_in_session() {
    auto page = _service->list_items("quickstart_review", std::nullopt, 0, 1000);
    std::set<std::string> out;
    for (const auto& [item, status] : page->items) out.insert(item.trace_id);
    return out;
  }

  SystemClock& _clock = SystemClock::instance();
  TempStore _store{_clock};
  FakeSink _sink;
  kafka::ClientOptions _client;
  std::string _topic;
  std::string _cluster_id;
  std::unique_ptr<LabelingService> _service;
};

TEST_F(ReviewConsumerRealKafka, OnlyCommittedItemsAndExactResumeAfterRestart) {
  kafka::ProducerOptions po;
  po.client = _client;
  po.transactional_id = unique_name("router");
  auto producer = kafka::Producer::create(po);
  ASSERT_TRUE(producer.is_ok()) << producer.status().to_string();
  ASSERT_TRUE((*producer)->init_transactions(30s).is_ok());
  produce_in_transaction(**producer, 1, 5, true);
  produce_in_transaction(**producer, 6, 8, false);  // a router batch that was rolled back
  produce_in_transaction(**producer, 9, 10, true);

  auto consumer = start_consumer();
  ASSERT_TRUE(wait_until([&] { return traces_in_session().size() >= 7; }, 60s));
  std::set<std::string> expected;
  for (int i : {1, 2, 3, 4, 5, 9, 10}) expected.insert(trace(i));
  EXPECT_EQ(traces_in_session(), expected) << "aborted routing never reaches a session";

  consumer->stop();
  consumer.reset();
  _service.reset();
  _store.reopen();
  start_service();
  produce_in_transaction(**producer, 11, 12, true);
  consumer = start_consumer();
  // The batch's items are visible before its stats are counted: wait for both.
  ASSERT_TRUE(wait_until([&] { return traces_in_session().size() >= 9 && consumer->stats().records.load() >= 2; }, 60s));
  EXPECT_EQ(consumer->stats().records.load(), 2u)
      << "resumed from the offsets stored with the items";
  EXPECT_EQ(_service->stats().duplicates.load(), 0u);
  consumer->stop();
}

}  // namespace
}  // namespace tracefeed::labeling
