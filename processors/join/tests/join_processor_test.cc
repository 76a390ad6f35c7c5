#include "processors/join/join_processor.h"

#include "kafka/admin.h"
#include "kafka/embedded_broker.h"
#include "kafka/producer.h"
#include "processors/join/tests/test_support.h"
#include "processors/join/trace_reader.h"
#include "processors/route/router.h"
#include "state/store.h"

namespace tracefeed::join {
namespace {

using namespace testing;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Waits for `cond` with a deadline; the short pause between checks is a poll interval.
template <typename Fn>
bool eventually(Fn cond, seconds timeout = seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return cond();
}

class JoinProcessorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = kafka::EmbeddedBroker::start();
    ASSERT_TRUE(broker.is_ok()) << broker.status().to_string();
    _broker = std::move(broker).value();
    for (const auto& t : {_topics.traces, _topics.assessments, _topics.dead_letter}) {
      ASSERT_TRUE(_broker->create_topic(t, 2).is_ok());
    }
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

  void send(const std::string& topic, const std::string& json) {
    ASSERT_TRUE(_producer->produce(topic, kTrace, json).is_ok());
  }

  std::unique_ptr<JoinProcessor> start_processor() {
    JoinProcessorOptions o;
    o.topics = _topics;
    o.cluster_id = _cluster_id;
    o.group_id = "join-test";
    auto p = std::make_unique<JoinProcessor>(o, _client, *_store, _producer.get(), nullptr, _clock);
    EXPECT_TRUE(p->start().is_ok());
    return p;
  }

  Topics _topics = Topics::with_prefix("t.");
  SystemClock& _clock = SystemClock::instance();
  TempStore _store{_clock};
  std::unique_ptr<kafka::EmbeddedBroker> _broker;
  kafka::ClientOptions _client;
  std::string _cluster_id;
  std::unique_ptr<kafka::Producer> _producer;
};

TEST_F(JoinProcessorTest, JoinsFeedbackToItsTraceFromKafka) {
  send(_topics.assessments, feedback_json("e1", "a-01", "false"));
  send(_topics.traces, trace_json("e2", root_span()));
  send(_topics.assessments, feedback_json("e1", "a-01", "false"));  // a client retry
  send(_topics.assessments, "{not json");                             // dead-lettered
  ASSERT_TRUE(_producer->flush(seconds(10)).is_ok());

  auto p = start_processor();
  ASSERT_TRUE(eventually([&] { return p->stats().applied + p->stats().duplicates + p->stats().rejected_malformed >= 4; }));
  EXPECT_EQ(p->stats().applied, 2u);
  EXPECT_EQ(p->stats().duplicates, 1u);
  EXPECT_EQ(p->stats().rejected_malformed, 1u);
  EXPECT_EQ(p->stats().pending_assessments, 0);
  auto t = TraceReader(*_store).get(kTrace, true);
  ASSERT_TRUE(t.is_ok() && t->has_value());
  EXPECT_EQ((*t)->trace_info.assessments.size(), 1u);
  EXPECT_EQ((*t)->spans.size(), 1u);
  p->stop();
}

TEST_F(JoinProcessorTest, RestartResumesFromStoredOffsets) {
  send(_topics.traces, trace_json("e1", root_span()));
  send(_topics.assessments, feedback_json("e2", "a-01", "false"));
  ASSERT_TRUE(_producer->flush(seconds(10)).is_ok());
  {
    auto p = start_processor();
    ASSERT_TRUE(eventually([&] { return p->stats().applied == 2; }));
    p->stop();
  }
  send(_topics.assessments, feedback_json("e3", "a-02", "true"));
  ASSERT_TRUE(_producer->flush(seconds(10)).is_ok());
  auto p = start_processor();
  ASSERT_TRUE(eventually([&] { return p->stats().applied >= 1; }));
  // Only the new event: nothing re-read, so nothing seen as a duplicate either.
  EXPECT_TRUE(eventually([&] { return p->stats().applied == 1 && p->stats().duplicates == 0; }, seconds(2)));
  auto t = TraceReader(*_store).get(kTrace, false);
  ASSERT_TRUE(t.is_ok() && t->has_value());
  EXPECT_EQ((*t)->trace_info.assessments.size(), 2u);
}

// At-least-once: a batch's outputs (routed and dead letters) are acknowledged by Kafka before
// its state and offsets are written — at outputs_sent the stored offsets have not moved yet.
TEST_F(JoinProcessorTest, AtLeastOnceAcknowledgesOutputsBeforeTheStateWrite) {
  ASSERT_TRUE(_broker->create_topic(_topics.review, 2).is_ok());
  route::RuleSet rules;
  auto rule = route::compile_rule("down", "feedback.user_feedback = false", 1.0, 0, false,
                                  {{route::RuleAction::Kind::labeling_session, "q"}});
  ASSERT_TRUE(rule.is_ok()) << rule.status().to_string();
  rules.replace({std::move(rule).value()});
  route::Router router(_topics, rules);
  send(_topics.traces, trace_json("e1", root_span()));
  send(_topics.assessments, feedback_json("e2", "a-01", "false"));
  send(_topics.assessments, "{not json");
  ASSERT_TRUE(_producer->flush(seconds(10)).is_ok());

  std::mutex mu;
  std::vector<std::string> seen;  // "<point> outputs=<n> stored=<sum of stored offsets>"
  JoinProcessorOptions o;
  o.topics = _topics;
  o.cluster_id = _cluster_id;
  o.group_id = "join-test-order";
  o.fault_hook = [&](CommitPoint p, size_t, size_t outputs) {
    int64_t stored = 0;
    auto offsets = _store->stored_offsets(_cluster_id);
    if (offsets.is_ok()) {
      for (const auto& [tp, next] : *offsets) stored += next;
    }
    std::lock_guard lock(mu);
    seen.push_back(std::string(p == CommitPoint::outputs_sent ? "sent" : p == CommitPoint::state_written ? "written" : "other") +
                   " outputs=" + std::to_string(outputs) + " stored=" + std::to_string(stored));
  };
  JoinProcessor p(o, _client, *_store, _producer.get(), &router, _clock);
  ASSERT_TRUE(p.start().is_ok());
  ASSERT_TRUE(eventually([&] { return p.stats().applied + p.stats().rejected_malformed >= 3; }));
  p.stop();
  EXPECT_EQ(p.stats().routed_outputs, 1u);
  // Every batch: "sent" (outputs acknowledged, offsets unchanged) strictly before "written".
  std::lock_guard lock(mu);
  ASSERT_FALSE(seen.empty());
  ASSERT_EQ(seen.size() % 2, 0u);
  int64_t outputs = 0, last_stored = 0;
  for (size_t i = 0; i < seen.size(); i += 2) {
    ASSERT_EQ(seen[i].rfind("sent", 0), 0u) << seen[i];
    ASSERT_EQ(seen[i + 1].rfind("written", 0), 0u) << seen[i + 1];
    const int64_t before = std::stoll(seen[i].substr(seen[i].rfind('=') + 1));
    const int64_t after = std::stoll(seen[i + 1].substr(seen[i + 1].rfind('=') + 1));
    EXPECT_EQ(before, last_stored) << seen[i];
    EXPECT_GT(after, before) << seen[i + 1];
    last_stored = after;
    outputs += std::stoll(seen[i].substr(seen[i].find("outputs=") + 8));
  }
  EXPECT_EQ(outputs, 2);  // the review item and the dead letter
  EXPECT_EQ(last_stored, 3);
}

}  // namespace
}  // namespace tracefeed::join
