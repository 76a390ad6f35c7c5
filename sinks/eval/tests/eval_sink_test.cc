#include "sinks/eval/eval_sink.h"

#include "core/json_tree.h"
#include "core/topics.h"
#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/embedded_broker.h"
#include "kafka/producer.h"
#include "sinks/eval/tests/test_support.h"

namespace tracefeed::eval {
namespace {

using namespace testing;
using std::chrono::seconds;

// What processors/route/router.cc produces to the eval topic for an `eval: DATASET` action.
std::string eval_record(const std::string& dataset, const std::string& trace, const std::string& rule = "thumbs_down") {
  return R"({"type":"eval_record","dataset":")" + dataset + R"(","trace_id":")" + trace + R"(","rule":")" + rule +
         R"(","priority":0,"time":"2025-06-01T12:00:05Z"})";
}

class EvalSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = kafka::EmbeddedBroker::start();
    ASSERT_TRUE(broker.is_ok()) << broker.status().to_string();
    _broker = std::move(broker).value();
    ASSERT_TRUE(_broker->create_topic(_topics.eval, 2).is_ok());
    ASSERT_TRUE(_broker->create_topic(_topics.dead_letter, 1).is_ok());
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
  }

  void send(const std::string& key, const std::string& value) {
    ASSERT_TRUE(_producer->produce(_topics.eval, key, value).is_ok());
  }
  void flush() { ASSERT_TRUE(_producer->flush(seconds(10)).is_ok()); }

  std::unique_ptr<EvalSink> start_sink(const std::string& group = "eval-sink-test") {
    EvalSinkOptions o;
    o.topic = _topics.eval;
    o.dead_letter_topic = _topics.dead_letter;
    o.cluster_id = _cluster_id;
    o.group_id = group;
    auto s = std::make_unique<EvalSink>(o, _client, _datasets, *_store, _producer.get(), _clock);
    Status started = s->start();
    EXPECT_TRUE(started.is_ok()) << started.to_string();
    return s;
  }

  int64_t record_count(const std::string& name) {
    auto info = _datasets.info(name);
    return info.is_ok() && info->has_value() ? (*info)->record_count : -1;
  }

  std::string latest_records(const std::string& name) {
    std::string out;
    auto page = _datasets.read_records(name, std::nullopt, 0, 1000, 1u << 20, out);
    EXPECT_TRUE(page.is_ok()) << page.status().to_string();
    return out;
  }

  Topics _topics = Topics::with_prefix("t.");
  SystemClock& _clock = SystemClock::instance();
  TempStore _store{_clock};
  DatasetStore _datasets{*_store, _clock};
  JoinedState _join{*_store, &_datasets};
  std::unique_ptr<kafka::EmbeddedBroker> _broker;
  kafka::ClientOptions _client;
  std::string _cluster_id;
  std::unique_ptr<kafka::Producer> _producer;
};

TEST_F(EvalSinkTest, RoutedTracesBecomeRecordsAndBadRecordsAreDeadLettered) {
  _join.apply({trace_event("e1", trace_id(1)), thumbs_down_event("e2", trace_id(1)), trace_event("e3", trace_id(2)),
               thumbs_down_event("e4", trace_id(2))});
  send(trace_id(1), eval_record("quickstart_eval", trace_id(1)));
  send(trace_id(2), eval_record("quickstart_eval", trace_id(2)));
  send(trace_id(1), eval_record("quickstart_eval", trace_id(1)));  // the router's at-least-once repeat
  send(trace_id(3), R"({"type":"eval_record","dataset":"quickstart_eval","trace_id":"bad"})");
  flush();

  auto sink = start_sink();
  ASSERT_TRUE(eventually([&] { return sink->stats().consumed == 4; })) << sink->stats().consumed;
  EXPECT_EQ(sink->stats().applied, 3u);
  EXPECT_EQ(sink->stats().rejected, 1u);
  EXPECT_EQ(record_count("quickstart_eval"), 2);
  const std::string lines = latest_records("quickstart_eval");
  EXPECT_NE(lines.find(R"("inputs":{"user_question":"What is MLflow?"})"), std::string::npos) << lines;
  EXPECT_NE(lines.find(R"("lineage":{"via":"eval_topic","topic":"t.eval")"), std::string::npos) << lines;
  EXPECT_TRUE(sink->last_error().is_ok());

  // The bad record is on the dead-letter topic, naming the field and where it came from.
  kafka::ConsumerOptions co;
  co.client = _client;
  auto reader = kafka::Consumer::create(co);
  ASSERT_TRUE(reader.is_ok());
  std::vector<kafka::TopicPartitionOffset> from = {{_topics.dead_letter, 0, kafka::kOffsetBeginning}};
  ASSERT_TRUE((*reader)->assign(from).is_ok());
  std::string dead;
  ASSERT_TRUE(eventually([&] {
    auto polled = (*reader)->poll_batch(10, std::chrono::milliseconds(100));
    if (polled.is_ok() && !polled->empty()) dead = std::string((*polled)[0].value());
    return !dead.empty();
  }));
  EXPECT_NE(dead.find(R"("message":"trace_id: expected \"tr-\" + 32 lowercase hex")"), std::string::npos) << dead;
  EXPECT_NE(dead.find(R"("source_topic":"t.eval")"), std::string::npos) << dead;
  sink->stop();
}

TEST_F(EvalSinkTest, RestartResumesFromTheStoredOffsets) {
  _join.apply({trace_event("e1", trace_id(1)), trace_event("e2", trace_id(2)), trace_event("e3", trace_id(3))});
  send(trace_id(1), eval_record("golden", trace_id(1)));
  send(trace_id(2), eval_record("golden", trace_id(2)));
  flush();
  {
    auto sink = start_sink();
    ASSERT_TRUE(eventually([&] { return sink->stats().consumed == 2; }));
    sink->stop();
  }
  const int64_t versions_before = (*_datasets.info("golden"))->latest_version;
  send(trace_id(3), eval_record("golden", trace_id(3)));
  flush();
  // A new group: nothing committed there, so resuming at the right place can only come from the
  // offsets stored with the datasets.
  auto sink = start_sink("eval-sink-test-restarted");
  ASSERT_TRUE(eventually([&] { return record_count("golden") == 3; }));
  // Only the new record was read: nothing consumed twice, one more version.
  EXPECT_TRUE(eventually([&] { return sink->stats().consumed == 1; }, seconds(2)));
  EXPECT_EQ(sink->stats().consumed, 1u);
  EXPECT_EQ((*_datasets.info("golden"))->latest_version, versions_before + 1);
  sink->stop();
}

TEST_F(EvalSinkTest, AnExpertLabelArrivingLaterIsPickedUpByTheSink) {
  _join.apply({trace_event("e1", trace_id(1)), thumbs_down_event("e2", trace_id(1))});
  send(trace_id(1), eval_record("quickstart_eval", trace_id(1)));
  flush();
  auto sink = start_sink();
  ASSERT_TRUE(eventually([&] { return record_count("quickstart_eval") == 1; }));
  EXPECT_EQ(latest_records("quickstart_eval").find("expected_response"), std::string::npos);

  // The reviewer submits expected_response; the join writes it through the dataset hook and the
  // sink's owner thread rebuilds the record into a new version.
  _join.apply({expectation_event("e3", trace_id(1), "a-e3", "MLflow manages the ML lifecycle.")});
  ASSERT_TRUE(eventually([&] {
    return latest_records("quickstart_eval").find(R"("expected_response":"MLflow manages the ML lifecycle.")") !=
           std::string::npos;
  })) << latest_records("quickstart_eval");
  EXPECT_EQ((*_datasets.info("quickstart_eval"))->latest_version, 2);
  sink->stop();
}

}  // namespace
}  // namespace tracefeed::eval
