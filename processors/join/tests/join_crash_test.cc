// Integration (real Kafka 3.9.1): the join + route processor as a child process (join_worker),
// killed with SIGKILL at chosen commit points and at a pseudo-random moment, restarted each time.
// The run with crashes must end with the same RocksDB state and the same review/eval topic
// contents as a run of the same stream without crashes:
//   - exactly-once: identical outputs read with read_committed (no loss, no duplicate);
//   - at-least-once: the same set of outputs (repeats allowed, each an exact copy).
// Also: the stream with every ordering (ordering_stream.h) ends with exactly the expected
// decisions; and, in-process, a second instance joining the group takes partitions over without
// a duplicate or lost output (revocation + a partition whose state is not local).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "kafka/tests/real_kafka.h"
#include "processors/join/join_processor.h"
#include "processors/join/tests/ordering_stream.h"
#include "processors/route/router.h"
#include "state/store.h"

extern char** environ;

namespace tracefeed::join {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using kafka::testing::unique_name;
using kafka::testing::wait_until;
using testing::make_ordering_stream;
using testing::OrderingStream;

constexpr int kPartitions = 3;

// A join_worker process; stdout and stderr go to `log`.
class Worker {
 public:
  Worker(const std::vector<std::string>& args, const fs::path& log) : _log(log) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::vector<std::string> all = {JOIN_WORKER};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&_pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) _pid = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Worker() {
    if (_pid > 0 && !_status) {
      ::kill(_pid, SIGKILL);
      (void)wait(30s);
    }
  }
  bool started() const { return _pid > 0; }
  void kill(int sig) { ::kill(_pid, sig); }
  // The raw wait status once the process ended, nullopt while it runs past `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    if (_status) return _status;
    wait_until(
        [&] {
          int st = 0;
          if (waitpid(_pid, &st, WNOHANG) == _pid) _status = st;
          return _status.has_value();
        },
        timeout, 5ms);
    return _status;
  }
  bool running() {
    if (_status) return false;
    int st = 0;
    if (waitpid(_pid, &st, WNOHANG) == _pid) _status = st;
    return !_status;
  }
  std::string log() const {
    std::ifstream in(_log);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  fs::path _log;
  pid_t _pid = -1;
  std::optional<int> _status;
};

struct PipelineRun {
  std::string prefix, group, instance;
  Topics topics;
  fs::path dir;
  fs::path state() const { return dir / "state"; }
  fs::path progress() const { return dir / "progress"; }
};

class JoinCrashTest : public kafka::testing::RealKafkaTest {
 protected:
  void TearDown() override {
    // Kept on failure: the worker logs and the stores say what happened.
    if (HasFailure()) {
      for (const auto& d : _dirs) std::fprintf(stderr, "kept %s\n", d.c_str());
      return;
    }
    for (const auto& d : _dirs) fs::remove_all(d);
  }

  kafka::ClientOptions client() const { return kafka::ClientOptions{bootstrap(), "tracefeed-join-it", {}}; }

  PipelineRun make_run(const std::string& name) {
    PipelineRun r;
    r.prefix = unique_name("join-" + name) + ".";
    r.group = unique_name("g");
    r.instance = unique_name("i");
    r.topics = Topics::with_prefix(r.prefix);
    r.dir = fs::temp_directory_path() / unique_name("join-crash");
    fs::create_directories(r.dir);
    _dirs.push_back(r.dir);
    auto admin = kafka::Admin::create(client());
    EXPECT_TRUE(admin.is_ok());
    std::vector<kafka::TopicSpec> specs;
    for (const auto& t : r.topics.all()) specs.push_back({t, kPartitions, 1, {}});
    Status s = (*admin)->create_topics(specs, 30s);
    EXPECT_TRUE(s.is_ok()) << s.to_string();
    return r;
  }

  void produce(const PipelineRun& r, const OrderingStream& stream) {
    kafka::ProducerOptions po;
    po.client = client();
    auto p = kafka::Producer::create(po);
    ASSERT_TRUE(p.is_ok());
    std::vector<kafka::ProduceRecord> records;
    for (const auto& e : stream.events) {
      records.push_back({e.trace_topic ? r.topics.traces : r.topics.assessments, e.key, e.value, std::nullopt});
    }
    for (const auto& rep : (*p)->produce_batch(records, 60s)) ASSERT_TRUE(rep.status.is_ok()) << rep.status.to_string();
  }

  std::unique_ptr<Worker> start(const PipelineRun& r, bool eos, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--brokers=" + bootstrap(), "--prefix=" + r.prefix, "--group=" + r.group,
                                     "--instance=" + r.instance, "--state=" + r.state().string(),
                                     "--progress=" + r.progress().string(), "--max-batch=40",
                                     "--fetch-bytes=2048"};
    if (eos) args.push_back("--eos");
    fs::remove(r.progress());  // a previous worker's progress must not count for this one
    args.insert(args.end(), extra.begin(), extra.end());
    auto w = std::make_unique<Worker>(args, r.dir / ("worker-" + std::to_string(_workers++) + ".log"));
    EXPECT_TRUE(w->started());
    return w;
  }

  static std::map<std::string, int64_t> progress(const PipelineRun& r) {
    std::map<std::string, int64_t> out;
    std::ifstream in(r.progress());
    std::string kv;
    while (in >> kv) {
      const auto eq = kv.find('=');
      if (eq != std::string::npos) out[kv.substr(0, eq)] = std::stoll(kv.substr(eq + 1));
    }
    return out;
  }

  // Waits until the worker has consumed at least `target` input records (stored offsets).
  ::testing::AssertionResult wait_consumed(const PipelineRun& r, Worker& w, int64_t target, std::chrono::seconds timeout = 45s) {
    const bool ok = wait_until(
        [&] { return !w.running() || progress(r)["consumed"] >= target; }, timeout, 5ms);
    if (!w.running()) return ::testing::AssertionFailure() << "worker exited early:\n" << w.log();
    if (!ok) return ::testing::AssertionFailure() << "consumed " << progress(r)["consumed"] << " of " << target << "\n" << w.log();
    return ::testing::AssertionSuccess();
  }

  static void stop(Worker& w) {
    w.kill(SIGTERM);
    auto st = w.wait(60s);
    ASSERT_TRUE(st.has_value()) << "worker did not stop\n" << w.log();
    ASSERT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0) << "status " << *st << "\n" << w.log();
  }

  // A worker that must kill itself at its --crash point.
  static void expect_self_kill(Worker& w) {
    auto st = w.wait(60s);
    ASSERT_TRUE(st.has_value()) << "worker did not reach its crash point\n" << w.log();
    ASSERT_TRUE(WIFSIGNALED(*st) && WTERMSIG(*st) == SIGKILL) << "status " << *st << "\n" << w.log();
  }

  // Every entry of the state families the join and route write, "family key" -> value. Offsets
  // are left out: they are keyed by topic names, which differ between runs. So is the time
  // index build's bookkeeping (tracefeed.time_index.{complete,build_cursor}): the background step
  // advances it after quiet polls, which an instance stopped (or killed) right after its last
  // batch may not have had yet — the next start goes on from it; the index entries themselves
  // are compared.
  static std::map<std::string, std::string> dump(const PipelineRun& r) {
    std::map<std::string, std::string> out;
    state::StoreOptions so;
    so.path = r.state().string();
    so.create_if_missing = false;
    auto store = state::Store::open(so, SystemClock::instance());
    EXPECT_TRUE(store.is_ok()) << store.status().to_string();
    if (!store.is_ok()) return out;
    for (state::Family f : state::all_families) {
      if (f == state::Family::offsets) continue;
      Status s = (*store)->scan_prefix(f, "", [&](std::string_view k, std::string_view v) {
        out[std::string(state::family_name(f)) + " " + std::string(k)] = std::string(v);
        return true;
      });
      EXPECT_TRUE(s.is_ok()) << s.to_string();
    }
    (void)(*store)->close();
    std::erase_if(out, [](const auto& e) { return e.first.starts_with("meta tracefeed.time_index."); });
    return out;
  }

  // Every record of `topic`, read from the beginning: a sentinel produced into each partition
  // after the writers stopped marks the end, so no wait on silence is needed.
  std::vector<std::string> read_topic(const std::string& topic, bool read_committed = true) {
    kafka::ProducerOptions po;
    po.client = client();
    auto p = kafka::Producer::create(po);
    EXPECT_TRUE(p.is_ok());
    std::vector<kafka::ProduceRecord> sentinels;
    for (int i = 0; i < kPartitions; ++i) sentinels.push_back({topic, "sentinel", "__sentinel__", i});
    for (const auto& rep : (*p)->produce_batch(sentinels, 30s)) EXPECT_TRUE(rep.status.is_ok()) << rep.status.to_string();
    kafka::ConsumerOptions co;
    co.client = client();
    co.read_committed = read_committed;
    auto c = kafka::Consumer::create(co);
    EXPECT_TRUE(c.is_ok());
    std::vector<kafka::TopicPartitionOffset> from;
    for (int i = 0; i < kPartitions; ++i) from.push_back({topic, i, kafka::kOffsetBeginning});
    EXPECT_TRUE((*c)->assign(from).is_ok());
    std::vector<std::string> values;
    std::set<int32_t> ended;  // partitions whose sentinel was read (an earlier read left one too)
    const bool done = wait_until(
        [&] {
          auto batch = (*c)->poll_batch(1000, 100ms);
          if (batch.is_ok()) {
            for (const auto& m : *batch) {
              if (m.value() == "__sentinel__") {
                ended.insert(m.partition());
              } else {
                values.emplace_back(m.value());
              }
            }
          }
          return ended.size() == static_cast<size_t>(kPartitions);
        },
        30s, 0ms);
    EXPECT_TRUE(done) << topic;
    std::sort(values.begin(), values.end());
    return values;
  }

  static std::string field(std::string_view json, const std::string& name) {
    const std::string key = "\"" + name + "\":\"";
    const auto at = json.find(key);
    if (at == std::string_view::npos) return "";
    const auto end = json.find('"', at + key.size());
    return std::string(json.substr(at + key.size(), end - at - key.size()));
  }

  // The decision of every (trace, rule) in a state dump equals the stream's expectation.
  static void expect_decisions(const std::map<std::string, std::string>& state, const OrderingStream& stream) {
    size_t checked = 0;
    for (const auto& [trace, rules] : stream.expected) {
      for (const auto& [rule, want] : rules) {
        std::string key = "decisions " + trace;
        key.push_back('\0');
        key += rule;
        auto it = state.find(key);
        ASSERT_NE(it, state.end()) << trace << " " << rule;
        EXPECT_EQ(field(it->second, "decision"), want) << trace << " " << rule << ": " << it->second;
        ++checked;
      }
    }
    EXPECT_EQ(checked, stream.traces() * 2);
  }

  // The identity sinks dedupe on (PRODUCT.md §3: a rule fires at most once per trace):
  // trace_id + rule + target.
  static std::set<std::string> identities(const std::vector<std::string>& outputs) {
    std::set<std::string> ids;
    for (const auto& v : outputs) {
      ids.insert(field(v, "trace_id") + "|" + field(v, "rule") + "|" + field(v, "labeling_session") + field(v, "dataset"));
    }
    return ids;
  }

  static size_t count_expected(const OrderingStream& stream, const char* rule) {
    size_t n = 0;
    for (const auto& [trace, rules] : stream.expected) n += rules.at(rule) == "routed" ? 1 : 0;
    return n;
  }

  void run_scenario(bool eos);

  std::vector<fs::path> _dirs;
  int _workers = 0;
};

void JoinCrashTest::run_scenario(bool eos) {
  // Dated now (whole seconds), the same for both runs.
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  const OrderingStream stream = make_ordering_stream(400, now_s * 1'000'000'000);
  const auto total = static_cast<int64_t>(stream.events.size());

  // A: one uninterrupted run.
  PipelineRun a = make_run("a");
  ASSERT_NO_FATAL_FAILURE(produce(a, stream));
  {
    auto w = start(a, eos);
    ASSERT_TRUE(wait_consumed(a, *w, total));
    ASSERT_NO_FATAL_FAILURE(stop(*w));
  }
  const auto state_a = dump(a);
  ASSERT_NO_FATAL_FAILURE(expect_decisions(state_a, stream));
  const auto review_a = read_topic(a.topics.review);
  const auto eval_a = read_topic(a.topics.eval);
  const auto dead_a = read_topic(a.topics.dead_letter);
  ASSERT_EQ(review_a.size(), count_expected(stream, testing::kRuleDown));
  ASSERT_EQ(eval_a.size(), count_expected(stream, testing::kRuleRetrieval));
  EXPECT_EQ(identities(review_a).size(), review_a.size());
  EXPECT_EQ(dead_a.size(), stream.malformed);

  // B: the same stream, killed four times.
  PipelineRun b = make_run("b");
  ASSERT_NO_FATAL_FAILURE(produce(b, stream));
  std::string logs;
  {
    // Between the commit of outputs and the state write: the case exactly-once must replay
    // silently and at-least-once re-emits.
    auto w = start(b, eos, {eos ? "--crash=transaction_committed:3" : "--crash=outputs_sent:3"});
    ASSERT_NO_FATAL_FAILURE(expect_self_kill(*w));
    logs += w->log();
  }
  {
    // Exactly-once: with a transaction open (outputs produced, offsets sent), which the restart
    // must abort. At-least-once: right after a state write.
    auto w = start(b, eos, {eos ? "--crash=outputs_sent:4" : "--crash=state_written:2"});
    ASSERT_NO_FATAL_FAILURE(expect_self_kill(*w));
    logs += w->log();
  }
  {
    // From outside, at a pseudo-random point of the run.
    std::mt19937 rng(eos ? 7 : 11);
    const int64_t at = total / 3 + static_cast<int64_t>(rng() % static_cast<unsigned>(total / 3));
    auto w = start(b, eos);
    ASSERT_TRUE(wait_consumed(b, *w, at));
    w->kill(SIGKILL);
    ASSERT_TRUE(w->wait(30s).has_value());
    logs += w->log();
  }
  {
    auto w = start(b, eos);
    ASSERT_TRUE(wait_consumed(b, *w, total));
    ASSERT_NO_FATAL_FAILURE(stop(*w));
    logs += w->log();
  }
  // The restart after the first crash found the committed-but-unwritten batch (exactly-once).
  if (eos) {
    EXPECT_NE(logs.find("with outputs suppressed (one batch)"), std::string::npos) << logs;
  }

  const auto state_b = dump(b);
  EXPECT_EQ(state_b.size(), state_a.size());
  for (const auto& [k, v] : state_b) {
    if (!state_a.contains(k)) ADD_FAILURE() << "only after crashes: " << k << " = " << v;
  }
  for (const auto& [k, v] : state_a) {
    auto it = state_b.find(k);
    if (it == state_b.end()) {
      ADD_FAILURE() << "missing after crashes: " << k;
    } else {
      EXPECT_EQ(it->second, v) << k;
    }
  }
  const auto review_b = read_topic(b.topics.review);
  const auto eval_b = read_topic(b.topics.eval);
  const auto dead_b = read_topic(b.topics.dead_letter);
  if (eos) {
    // Byte for byte: nothing lost, nothing twice.
    EXPECT_EQ(review_b, review_a);
    EXPECT_EQ(eval_b, eval_a);
    EXPECT_EQ(dead_b.size(), dead_a.size());
    // The outputs_sent crash kills a transaction holding at least one output (review, eval or
    // dead letter; which of them depends on the batch): read_uncommitted sees it, read_committed
    // does not — read_committed matters.
    const size_t uncommitted = read_topic(b.topics.review, false).size() + read_topic(b.topics.eval, false).size() +
                               read_topic(b.topics.dead_letter, false).size();
    EXPECT_GT(uncommitted, review_b.size() + eval_b.size() + dead_b.size());
  } else {
    EXPECT_EQ(identities(review_b), identities(review_a));
    EXPECT_EQ(identities(eval_b), identities(eval_a));
    EXPECT_GE(review_b.size(), review_a.size());
    // A repeat is an exact copy of the first emission, so dropping repeats by identity is safe.
    const std::set<std::string> distinct(review_b.begin(), review_b.end());
    EXPECT_EQ(distinct.size(), identities(review_b).size());
    EXPECT_GE(dead_b.size(), dead_a.size());
  }
}

TEST_F(JoinCrashTest, ExactlyOnceKill9LeavesSameStateAndOutputs) { run_scenario(true); }

TEST_F(JoinCrashTest, AtLeastOnceKill9LosesNothing) { run_scenario(false); }

// In-process: one exactly-once instance consumes half the stream, a second one joins the group
// (the partitions it is given were revoked from the first, and their state is not in its store:
// it rebuilds them from the log with outputs suppressed up to the committed offsets), then the
// rest of the stream flows. Every expected output is committed exactly once.
TEST_F(JoinCrashTest, PartitionsMovingToASecondInstanceKeepOutputsExactlyOnce) {
  const int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  OrderingStream stream = make_ordering_stream(400, now_s * 1'000'000'000);
  PipelineRun r = make_run("move");
  auto admin = kafka::Admin::create(client());
  ASSERT_TRUE(admin.is_ok());
  auto cluster = (*admin)->cluster_id(10s);
  ASSERT_TRUE(cluster.is_ok());

  struct Instance {
    std::unique_ptr<state::Store> store;
    route::RuleSet rules;
    std::unique_ptr<route::Router> router;
    std::unique_ptr<JoinProcessor> processor;
  };
  auto start_instance = [&](Instance& in, const std::string& name) {
    state::StoreOptions so;
    so.path = (r.dir / name).string();
    so.memory_budget_bytes = 64u << 20;
    auto store = state::Store::open(so, SystemClock::instance());
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    in.store = std::move(store).value();
    in.rules.replace(testing::ordering_rules());
    in.router = std::make_unique<route::Router>(r.topics, in.rules);
    JoinProcessorOptions o;
    o.topics = r.topics;
    o.cluster_id = *cluster;
    o.group_id = r.group;
    o.exactly_once = true;
    o.max_batch = 40;
    in.processor = std::make_unique<JoinProcessor>(o, client(), *in.store, nullptr, in.router.get(),
                                                   SystemClock::instance());
    Status s = in.processor->start();
    ASSERT_TRUE(s.is_ok()) << s.to_string();
  };
  auto consumed = [&](std::initializer_list<Instance*> instances) {
    int64_t n = 0;
    for (const Instance* in : instances) {
      for (const auto& t : {r.topics.traces, r.topics.assessments}) {
        for (int p = 0; p < kPartitions; ++p) n += in->processor->applied_offset(t, p);
      }
    }
    return n;
  };

  OrderingStream first = stream, second = stream;
  const size_t half = stream.events.size() / 2;
  first.events.resize(half);
  second.events.erase(second.events.begin(), second.events.begin() + static_cast<std::ptrdiff_t>(half));
  ASSERT_NO_FATAL_FAILURE(produce(r, first));
  Instance a, b;
  ASSERT_NO_FATAL_FAILURE(start_instance(a, "a"));
  ASSERT_TRUE(wait_until([&] { return consumed({&a}) >= static_cast<int64_t>(half); }, 45s));
  ASSERT_NO_FATAL_FAILURE(start_instance(b, "b"));
  ASSERT_NO_FATAL_FAILURE(produce(r, second));
  const auto total = static_cast<int64_t>(stream.events.size());
  // Done when the two together hold every input offset (a revoked partition leaves a's count).
  const bool done = wait_until([&] { return consumed({&a, &b}) == total && b.processor->stats().batches > 0; }, 60s);
  EXPECT_TRUE(done) << "consumed " << consumed({&a, &b}) << " of " << total;
  a.processor->stop();
  b.processor->stop();
  EXPECT_TRUE(a.processor->last_error().is_ok()) << a.processor->last_error().to_string();
  EXPECT_TRUE(b.processor->last_error().is_ok()) << b.processor->last_error().to_string();
  // b got partitions whose history it had never seen and rebuilt them silently.
  EXPECT_GT(b.processor->stats().replayed, 0u);
  EXPECT_GT(b.processor->stats().suppressed_outputs, 0u);

  const auto review = read_topic(r.topics.review);
  const auto eval = read_topic(r.topics.eval);
  EXPECT_EQ(review.size(), count_expected(stream, testing::kRuleDown));
  EXPECT_EQ(identities(review).size(), review.size());
  EXPECT_EQ(eval.size(), count_expected(stream, testing::kRuleRetrieval));
  EXPECT_EQ(identities(eval).size(), eval.size());
  std::set<std::string> want;
  for (const auto& [trace, rules] : stream.expected) {
    if (rules.at(testing::kRuleDown) == "routed") want.insert(trace + "|" + testing::kRuleDown + "|review_q");
  }
  EXPECT_EQ(identities(review), want);
}


// Exactly-once backfill (join_worker --backfill-rule): each Router::backfill_step's outputs are
// committed in a transaction of their own (no input offsets), then its state is written. A kill -9
// between that commit and the state write re-runs the step after the restart: exactly that step's
// outputs appear twice in the committed log, with the same identity (trace, rule, target) — what
// the sinks drop (README.md) — and everything else exactly once; the live outputs are untouched.
TEST_F(JoinCrashTest, ExactlyOnceBackfillStepCrashRepeatsOnlyThatStepsOutputs) {
  const int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  OrderingStream stream = make_ordering_stream(120, now_s * 1'000'000'000);
  PipelineRun r = make_run("backfill");
  ASSERT_NO_FATAL_FAILURE(produce(r, stream));
  const auto total = static_cast<int64_t>(stream.events.size());
  {
    auto w = start(r, true);
    ASSERT_TRUE(wait_consumed(r, *w, total));
    ASSERT_NO_FATAL_FAILURE(stop(*w));
  }
  const auto live = read_topic(r.topics.review);
  {
    auto w = start(r, true, {"--backfill-rule", "--backfill-per-step=8", "--crash=backfill_transaction_committed:2"});
    ASSERT_NO_FATAL_FAILURE(expect_self_kill(*w));
  }
  {
    auto w = start(r, true, {"--backfill-rule", "--backfill-per-step=8"});
    const bool done = wait_until([&] { return !w->running() || progress(r)["backfill_done"] == 1; }, 60s, 5ms);
    ASSERT_TRUE(done && w->running()) << w->log();
    EXPECT_GT(progress(r)["backfill_steps"], 0);
    ASSERT_NO_FATAL_FAILURE(stop(*w));
  }
  std::vector<std::string> backfilled, others;
  for (const auto& v : read_topic(r.topics.review)) (field(v, "rule") == "bf" ? backfilled : others).push_back(v);
  EXPECT_EQ(others, live);
  std::set<std::string> want;
  for (const auto& [k, v] : dump(r)) {
    if (k.rfind("decisions ", 0) == 0 && field(v, "rule") == "bf" && field(v, "decision") == "routed") {
      want.insert(field(v, "trace_id") + "|bf|bf_q");
    }
  }
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(identities(backfilled), want);
  // The crashed step's outputs, once more: at least one, at most one step (8 traces).
  EXPECT_GT(backfilled.size(), want.size());
  EXPECT_LE(backfilled.size() - want.size(), 8u);
  std::map<std::string, int> copies;
  for (const auto& v : backfilled) ++copies[field(v, "trace_id")];
  for (const auto& [trace, n] : copies) EXPECT_LE(n, 2) << trace;
}

}  // namespace
}  // namespace tracefeed::join
