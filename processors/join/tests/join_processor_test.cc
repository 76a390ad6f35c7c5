#include "processors/join/join_processor.h"

#include <cstdio>
#include <functional>
#include <set>
#include <span>
#include <thread>

#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/embedded_broker.h"
#include "kafka/producer.h"
#include "processors/join/tests/test_support.h"
#include "processors/join/trace_reader.h"
#include "processors/route/router.h"
#include "processors/route/time_index.h"
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

  // The sum of the stored next offsets of every input partition.
  int64_t stored_sum() {
    auto offsets = _store->stored_offsets(_cluster_id);
    EXPECT_TRUE(offsets.is_ok()) << offsets.status().to_string();
    int64_t sum = 0;
    if (offsets.is_ok()) {
      for (const auto& [tp, next] : *offsets) sum += next;
    }
    return sum;
  }

  // The quickstart's rule (thumbs-down -> labeling session "q"), and the review topic.
  void route_thumbs_down(route::RuleSet& rules) {
    ASSERT_TRUE(_broker->create_topic(_topics.review, 2).is_ok());
    auto rule = route::compile_rule("down", "feedback.user_feedback = false", 1.0, 0, false,
                                    {{route::RuleAction::Kind::labeling_session, "q"}});
    ASSERT_TRUE(rule.is_ok()) << rule.status().to_string();
    rules.replace({std::move(rule).value()});
  }

  // The commit points a processor reached, each with the stored offsets at that moment:
  // "sent outputs=<n> stored=<sum>" or "written ...".
  struct CommitLog {
    std::mutex mu;
    std::vector<std::string> seen;
  };
  std::function<void(CommitPoint, size_t, size_t)> record_commits(CommitLog& log) {
    return [this, &log](CommitPoint p, size_t, size_t outputs) {
      const int64_t stored = stored_sum();
      std::lock_guard lock(log.mu);
      log.seen.push_back(std::string(p == CommitPoint::outputs_sent    ? "sent"
                                     : p == CommitPoint::state_written ? "written"
                                                                       : "other") +
                         " outputs=" + std::to_string(outputs) + " stored=" + std::to_string(stored));
    };
  }
  // Every batch: "sent" (outputs acknowledged, stored offsets unchanged) strictly before
  // "written" (offsets moved); the outputs of all batches add up to `outputs`.
  void expect_sent_before_written(CommitLog& log, int64_t outputs, int64_t last_stored) {
    std::lock_guard lock(log.mu);
    const auto& seen = log.seen;
    ASSERT_FALSE(seen.empty());
    ASSERT_EQ(seen.size() % 2, 0u);
    int64_t sum = 0, stored = 0;
    for (size_t i = 0; i < seen.size(); i += 2) {
      ASSERT_EQ(seen[i].rfind("sent", 0), 0u) << seen[i];
      ASSERT_EQ(seen[i + 1].rfind("written", 0), 0u) << seen[i + 1];
      const int64_t before = std::stoll(seen[i].substr(seen[i].rfind('=') + 1));
      const int64_t after = std::stoll(seen[i + 1].substr(seen[i + 1].rfind('=') + 1));
      EXPECT_EQ(before, stored) << seen[i];
      EXPECT_GT(after, before) << seen[i + 1];
      stored = after;
      sum += std::stoll(seen[i].substr(seen[i].find("outputs=") + 8));
    }
    EXPECT_EQ(sum, outputs);
    EXPECT_EQ(stored, last_stored);
  }

  std::unique_ptr<JoinProcessor> start_processor(const std::function<void(JoinProcessorOptions&)>& tweak = {}) {
    JoinProcessorOptions o;
    o.topics = _topics;
    o.cluster_id = _cluster_id;
    o.group_id = "join-test";
    if (tweak) tweak(o);
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

// Event-time alignment (max_input_skew) holds an assessments partition back only while its
// traces partition has a backlog: feedback without any traces behind it is applied at once, and
// a backlog of traces with their feedback is read with pauses and applied completely, every
// feedback joined.
TEST_F(JoinProcessorTest, AlignmentNeverWaitsForTracesThatAreNotThere) {
  auto id = [](int i) {
    char buf[40];
    std::snprintf(buf, sizeof(buf), "tr-%032x", i + 1);
    return std::string(buf);
  };
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(_producer->produce(_topics.assessments, id(i), feedback_json("f" + std::to_string(i), "", "false", "", id(i))).is_ok());
  }
  ASSERT_TRUE(_producer->flush(seconds(10)).is_ok());
  auto tight = [](JoinProcessorOptions& o) {
    o.max_input_skew = milliseconds(1);
    o.align_min_backlog = 10;  // the embedded broker keeps ~5 MiB per partition: a small backlog
    o.max_batch = 50;
  };
  {
    auto p = start_processor(tight);
    ASSERT_TRUE(eventually([&] { return p->stats().applied == 300; }, seconds(10)));
    EXPECT_EQ(p->stats().input_pauses, 0u);
    EXPECT_EQ(p->stats().pending_assessments, 300);
    p->stop();
  }
  // Now a backlog of traces (each followed by more feedback) behind them. Traces ~10x the size of
  // a feedback record, as real ones are, so the fetches run ahead on feedback.
  const std::string big_span = R"({"span_id":"00000000000000a1","name":"my_chatbot","start_time_unix_nano":1748779200250000000,"end_time_unix_nano":1748779201500000000,"inputs":{"q":")" +
                               std::string(2000, 'x') + R"("}})";
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(_producer->produce(_topics.traces, id(i), trace_json("t" + std::to_string(i), big_span, id(i))).is_ok());
    ASSERT_TRUE(_producer->produce(_topics.assessments, id(i), feedback_json("g" + std::to_string(i), "", "true", "", id(i))).is_ok());
  }
  ASSERT_TRUE(_producer->flush(seconds(10)).is_ok());
  auto p = start_processor(tight);
  ASSERT_TRUE(eventually([&] { return p->stats().applied == 2000; }));
  EXPECT_GT(p->stats().input_pauses, 0u);
  EXPECT_EQ(p->stats().pending_assessments, 0);
  for (int i : {0, 299, 300, 999}) {
    auto t = TraceReader(*_store).get(id(i), true);
    ASSERT_TRUE(t.is_ok() && t->has_value()) << i;
    EXPECT_EQ((*t)->trace_info.assessments.size(), i < 300 ? 2u : 1u) << i;
  }
  p->stop();
}

// At-least-once: a batch's outputs (routed and dead letters) are acknowledged by Kafka before
// its state and offsets are written — at outputs_sent the stored offsets have not moved yet.
TEST_F(JoinProcessorTest, AtLeastOnceAcknowledgesOutputsBeforeTheStateWrite) {
  route::RuleSet rules;
  route_thumbs_down(rules);
  route::Router router(_topics, rules);
  send(_topics.traces, trace_json("e1", root_span()));
  send(_topics.assessments, feedback_json("e2", "a-01", "false"));
  send(_topics.assessments, "{not json");
  ASSERT_TRUE(_producer->flush(seconds(10)).is_ok());

  CommitLog log;
  JoinProcessorOptions o;
  o.topics = _topics;
  o.cluster_id = _cluster_id;
  o.group_id = "join-test-order";
  o.fault_hook = record_commits(log);
  JoinProcessor p(o, _client, *_store, _producer.get(), &router, _clock);
  ASSERT_TRUE(p.start().is_ok());
  ASSERT_TRUE(eventually([&] { return p.stats().applied + p.stats().rejected_malformed >= 3; }));
  p.stop();
  EXPECT_EQ(p.stats().routed_outputs, 1u);
  expect_sent_before_written(log, 2, 3);  // the review item and the dead letter
}


// With a backlog the state of batch N is written on the state writer's thread while batch N+1 is
// applied (reading over N); N+1's outputs still go out only after N is in the store.
TEST_F(JoinProcessorTest, PipelinedWritesKeepOutputsBehindTheStateOfTheBatchBefore) {
  route::RuleSet rules;
  route_thumbs_down(rules);
  route::Router router(_topics, rules);
  send(_topics.assessments, feedback_json("e2", "a-01", "false"));  // before its trace
  send(_topics.traces, trace_json("e1", root_span()));
  constexpr int kMalformed = 10;  // each one an output (a dead letter): every batch has outputs
  for (int i = 0; i < kMalformed; ++i) send(_topics.assessments, "{not json");
  ASSERT_TRUE(_producer->flush(seconds(10)).is_ok());

  CommitLog log;
  std::mutex mu;
  std::set<std::thread::id> hook_threads, write_threads;
  JoinProcessorOptions o;
  o.topics = _topics;
  o.cluster_id = _cluster_id;
  o.group_id = "join-test-pipeline";
  o.max_batch = 2;  // full batches: a backlog
  o.write_batch = [&](state::WriteBatch& batch, std::span<const std::string_view>) {
    {
      std::lock_guard lock(mu);
      write_threads.insert(std::this_thread::get_id());
    }
    std::this_thread::sleep_for(milliseconds(5));  // a slow disk: the next batch overlaps
    return _store->write(batch);
  };
  o.fault_hook = [&, record = record_commits(log)](CommitPoint p, size_t records, size_t outputs) {
    {
      std::lock_guard lock(mu);
      hook_threads.insert(std::this_thread::get_id());
    }
    record(p, records, outputs);
  };
  JoinProcessor p(o, _client, *_store, _producer.get(), &router, _clock);
  ASSERT_TRUE(p.start().is_ok());
  ASSERT_TRUE(eventually([&] { return p.stats().applied + p.stats().rejected_malformed >= 2 + kMalformed; }));
  p.stop();
  EXPECT_EQ(p.stats().routed_outputs, 1u);
  EXPECT_EQ(p.stats().rejected_malformed, static_cast<uint64_t>(kMalformed));
  {
    // The writes ran on a thread of their own.
    std::lock_guard lock(mu);
    ASSERT_EQ(write_threads.size(), 1u);
    ASSERT_EQ(hook_threads.size(), 1u);
    EXPECT_NE(*write_threads.begin(), *hook_threads.begin());
  }
  // Still strictly alternating: a batch's outputs are sent when the store holds everything before
  // it, and its state is written after.
  {
    std::lock_guard lock(log.mu);
    EXPECT_GE(log.seen.size(), 8u);
  }
  expect_sent_before_written(log, 1 + kMalformed, 2 + kMalformed);
  // The feedback joined its trace across batches.
  TraceReader reader(*_store);
  auto joined = reader.get(kTrace, false);
  ASSERT_TRUE(joined.is_ok());
  ASSERT_TRUE(joined->has_value());
  EXPECT_EQ((*joined)->trace_info.assessments.size(), 1u);
}

// A batch whose state cannot be written stops the join: the batch after it (already applied over
// it) sends no outputs, and the store keeps the offsets of the last batch written.
TEST_F(JoinProcessorTest, AFailedPipelinedWriteStopsTheJoinBeforeTheNextOutputs) {
  for (int i = 0; i < 12; ++i) send(_topics.assessments, "{not json");
  ASSERT_TRUE(_producer->flush(seconds(10)).is_ok());
  std::mutex mu;
  int writes = 0, sent = 0;
  int64_t stored_when_written = 0;
  JoinProcessorOptions o;
  o.topics = _topics;
  o.cluster_id = _cluster_id;
  o.group_id = "join-test-write-fails";
  o.max_batch = 2;
  o.write_batch = [&](state::WriteBatch& batch, std::span<const std::string_view>) {
    std::lock_guard lock(mu);
    if (++writes == 3) return Status::io_error("disk full (test)");
    return _store->write(batch);
  };
  o.fault_hook = [&](CommitPoint p, size_t, size_t) {
    std::lock_guard lock(mu);
    if (p == CommitPoint::outputs_sent) ++sent;
    if (p == CommitPoint::state_written) stored_when_written = stored_sum();
  };
  JoinProcessor p(o, _client, *_store, _producer.get(), nullptr, _clock);
  ASSERT_TRUE(p.start().is_ok());
  ASSERT_TRUE(eventually([&] { return !p.last_error().is_ok(); }));
  p.stop();
  EXPECT_NE(p.last_error().to_string().find("disk full (test)"), std::string::npos) << p.last_error().to_string();
  std::lock_guard lock(mu);
  EXPECT_EQ(writes, 3);
  EXPECT_EQ(sent, 3);  // the two written batches and the failed one; nothing after it
  EXPECT_EQ(p.stats().batches, 2u);
  const int64_t stored = stored_sum();
  EXPECT_EQ(stored, stored_when_written);
  EXPECT_EQ(stored, 4);  // two batches of two
}

// ---- background work: the time index build and rule backfills (Router::backfill_step) ----

std::string trace_n(int i) {
  char id[40];
  std::snprintf(id, sizeof id, "tr-%032d", i);
  return id;
}

// A trace whose root span starts `i` seconds after a fixed time: distinct timestamps.
std::string trace_at(int i) {
  const int64_t start = 1'748'779'200'000'000'000 + int64_t{i} * 1'000'000'000;
  return R"({"event_id":"t)" + std::to_string(i) + R"(","type":"trace","trace":{"trace_info":{"trace_id":")" +
         trace_n(i) + R"("},"spans":[{"span_id":"00000000000000a1","name":"chat","start_time_unix_nano":)" +
         std::to_string(start) + R"(,"end_time_unix_nano":)" + std::to_string(start + 500'000'000) +
         R"(,"status":"OK","span_type":"CHAIN"}]}})";
}

class JoinBackfillTest : public JoinProcessorTest {
 protected:
  void SetUp() override {
    JoinProcessorTest::SetUp();
    ASSERT_TRUE(_broker->create_topic(_topics.review, 2).is_ok());
  }

  void send_keyed(const std::string& topic, const std::string& key, const std::string& json) {
    ASSERT_TRUE(_producer->produce(topic, key, json).is_ok());
  }
  // Traces 1..n; feedback "false" for the odd ones, "true" for the even ones.
  void send_history(int n) {
    for (int i = 1; i <= n; ++i) {
      send_keyed(_topics.traces, trace_n(i), trace_at(i));
      send_keyed(_topics.assessments, trace_n(i),
                 feedback_json("f" + std::to_string(i), "a-01", i % 2 ? "false" : "true", "", trace_n(i)));
    }
    ASSERT_TRUE(_producer->flush(seconds(10)).is_ok());
  }

  static route::Rule backfill_rule() {
    auto r = route::compile_rule("bf", "feedback.user_feedback = false", 1.0, 0, true,
                                 {{route::RuleAction::Kind::labeling_session, "s"}});
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return std::move(r).value();
  }

  std::unique_ptr<JoinProcessor> start_with(route::Router* router, JoinProcessorOptions o = {}) {
    o.topics = _topics;
    o.cluster_id = _cluster_id;
    o.group_id = "join-backfill";
    auto p = std::make_unique<JoinProcessor>(o, _client, *_store, _producer.get(), router, _clock);
    EXPECT_TRUE(p->start().is_ok());
    return p;
  }

  bool index_complete() {
    auto m = _store->get(state::Family::meta, route::time_index::complete_key);
    return m.is_ok() && m->has_value();
  }
  std::optional<route::BackfillProgress> progress() {
    auto p = route::read_backfill_progress(*_store, "bf");
    EXPECT_TRUE(p.is_ok()) << p.status().to_string();
    return p.is_ok() ? *p : std::nullopt;
  }

  // Every review record's key, read to the end: a sentinel produced into each partition after the
  // processor stopped marks it, so no wait on silence.
  std::multiset<std::string> review_keys() {
    std::multiset<std::string> keys;
    for (int p = 0; p < 2; ++p) EXPECT_TRUE(_producer->produce(_topics.review, "sentinel", "end", p).is_ok());
    EXPECT_TRUE(_producer->flush(seconds(10)).is_ok());
    kafka::ConsumerOptions co;
    co.client = _client;
    auto c = kafka::Consumer::create(co);
    EXPECT_TRUE(c.is_ok());
    if (!c.is_ok()) return keys;
    std::vector<kafka::TopicPartitionOffset> from{{_topics.review, 0, kafka::kOffsetBeginning},
                                                  {_topics.review, 1, kafka::kOffsetBeginning}};
    EXPECT_TRUE((*c)->assign(from).is_ok());
    int sentinels = 0;
    const auto deadline = std::chrono::steady_clock::now() + seconds(20);
    while (sentinels < 2 && std::chrono::steady_clock::now() < deadline) {
      auto batch = (*c)->poll_batch(100, milliseconds(100));
      if (!batch.is_ok()) continue;
      for (const auto& m : *batch) {
        if (m.key() == "sentinel") {
          ++sentinels;
        } else {
          EXPECT_NE(m.value().find(R"("rule":"bf")"), std::string_view::npos) << m.value();
          keys.emplace(m.key());
        }
      }
    }
    EXPECT_EQ(sentinels, 2);
    return keys;
  }
};

// A backfill rule added after its traces were stored routes each matching one exactly once, the
// live path and the backfill never both fire for a trace, and the review topic holds one record
// per routed trace.
TEST_F(JoinBackfillTest, ARuleAddedLaterRoutesStoredTracesOnceBesideTheLivePath) {
  send_history(6);
  route::RuleSet rules;
  route::Router router(_topics, rules, nullptr, route::BackfillOptions{2});
  auto p = start_with(&router);
  ASSERT_TRUE(eventually([&] { return p->stats().applied == 12; }));
  // The rule goes live first; new thumbs-down feedback on trace 2 routes it on the live path.
  rules.replace({backfill_rule()});
  send_keyed(_topics.assessments, trace_n(2), feedback_json("f2b", "a-02", "false", "", trace_n(2)));
  ASSERT_TRUE(_producer->flush(seconds(10)).is_ok());
  ASSERT_TRUE(eventually([&] { return p->stats().applied == 13 && p->stats().routed_outputs == 1; }));
  // Then its backfill: 1, 3 and 5 fire; 2 fired already.
  rules.request_backfill("bf");
  ASSERT_TRUE(eventually([&] { auto pr = progress(); return pr && pr->done; }));
  EXPECT_EQ(progress()->evaluated, 6u);
  EXPECT_EQ(progress()->routed, 3u);
  // Live feedback on a trace the backfill routed does not fire it again.
  send_keyed(_topics.assessments, trace_n(1), feedback_json("f1b", "a-02", "false", "", trace_n(1)));
  ASSERT_TRUE(_producer->flush(seconds(10)).is_ok());
  ASSERT_TRUE(eventually([&] { return p->stats().applied == 14; }));
  p->stop();
  EXPECT_EQ(p->stats().backfill_outputs, 3u);
  EXPECT_EQ(p->stats().routed_outputs, 4u);
  EXPECT_EQ(review_keys(), (std::multiset<std::string>{trace_n(1), trace_n(2), trace_n(3), trace_n(5)}));
}

// Backfill progress is written with each step's batch: a new processor resumes at the cursor
// instead of starting over, and no trace is routed twice.
TEST_F(JoinBackfillTest, ProgressSurvivesARestart) {
  send_history(10);
  route::RuleSet rules;
  {
    route::Router router(_topics, rules);
    auto p = start_with(&router);
    ASSERT_TRUE(eventually([&] { return p->stats().applied == 20 && index_complete(); }));
    p->stop();
  }
  {
    // One trace a step; the rule is deleted after the third step's batch is written, which ends
    // its backfill there (as a stop would).
    rules.replace({backfill_rule()});
    rules.request_backfill("bf");
    route::Router router(_topics, rules, nullptr, route::BackfillOptions{1});
    std::atomic<int> written{0};
    JoinProcessorOptions o;
    o.backfill_fault_hook = [&](CommitPoint point, size_t, size_t) {
      if (point == CommitPoint::state_written && ++written == 3) rules.replace({});
    };
    auto p = start_with(&router, o);
    ASSERT_TRUE(eventually([&] { return written >= 3; }));
    p->stop();
    EXPECT_EQ(p->stats().backfill_traces, 3u);
  }
  auto stopped = progress();
  ASSERT_TRUE(stopped.has_value());
  EXPECT_FALSE(stopped->done);
  EXPECT_EQ(stopped->evaluated, 3u);
  EXPECT_EQ(stopped->cursor, trace_n(4));
  // A restart: the registry asks for the backfill again at load.
  rules.replace({backfill_rule()});
  rules.request_backfill("bf");
  route::Router router(_topics, rules, nullptr, route::BackfillOptions{4});
  auto p = start_with(&router);
  ASSERT_TRUE(eventually([&] { auto pr = progress(); return pr && pr->done; }));
  p->stop();
  EXPECT_EQ(p->stats().backfill_traces, 7u);  // 4..10, not 1..10
  EXPECT_EQ(progress()->evaluated, 10u);
  EXPECT_EQ(progress()->routed, 5u);
  EXPECT_EQ(review_keys(), (std::multiset<std::string>{trace_n(1), trace_n(3), trace_n(5), trace_n(7), trace_n(9)}));
}

// Traces stored before the time index existed (here: by a join without a router) are indexed by
// the background step; then the completion marker is set and search_traces uses the index, whose
// forward scan is newest first.
TEST_F(JoinBackfillTest, TheTimeIndexIsBuiltForTracesStoredBeforeIt) {
  send_history(5);
  {
    auto p = start_with(nullptr);
    ASSERT_TRUE(eventually([&] { return p->stats().applied == 10; }));
    p->stop();
  }
  EXPECT_FALSE(index_complete());
  route::RuleSet rules;
  route::Router router(_topics, rules, nullptr, route::BackfillOptions{2});
  auto p = start_with(&router);
  ASSERT_TRUE(eventually([&] { return index_complete(); }));
  p->stop();
  EXPECT_EQ(p->stats().backfill_traces, 5u);
  EXPECT_EQ(p->stats().backfill_steps, 3u);  // 2 + 2 + 1 traces; the last one sets the marker
  std::vector<std::string> order;
  ASSERT_TRUE(_store->scan_prefix(state::Family::meta, route::time_index::prefix, [&](std::string_view k, std::string_view) {
    auto e = route::time_index::parse(k);
    EXPECT_TRUE(e.has_value());
    if (e) order.emplace_back(e->trace_id);
    return true;
  }).is_ok());
  EXPECT_EQ(order, (std::vector<std::string>{trace_n(5), trace_n(4), trace_n(3), trace_n(2), trace_n(1)}));
}

}  // namespace
}  // namespace tracefeed::join
