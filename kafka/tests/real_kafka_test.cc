// Integration tests against a real Kafka 3.9.1 broker (the real_kafka ctest fixture, or one the
// test starts itself; see real_kafka.h).
#include "kafka/tests/real_kafka.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"

namespace tracefeed::kafka {
namespace {

using namespace std::chrono_literals;
using testing::RealKafkaTest;
using testing::unique_name;
using testing::wait_until;

class RealKafka : public RealKafkaTest {
 protected:
  ClientOptions client() const { return ClientOptions{bootstrap(), "tracefeed-it", {}}; }

  void create_topic(const std::string& name, int partitions) {
    auto a = Admin::create(client());
    ASSERT_TRUE(a.is_ok()) << a.status().to_string();
    std::vector<TopicSpec> specs = {{name, partitions, 1, {}}};
    Status s = (*a)->create_topics(specs, 30s);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
  }

  std::unique_ptr<Producer> producer(std::string transactional_id = "") {
    ProducerOptions opts;
    opts.client = client();
    opts.transactional_id = std::move(transactional_id);
    auto p = Producer::create(std::move(opts));
    EXPECT_TRUE(p.is_ok()) << p.status().to_string();
    return p.is_ok() ? std::move(*p) : nullptr;
  }

  std::unique_ptr<Consumer> consumer(std::string group, bool read_committed = true,
                                     std::string strategy = ConsumerOptions{}.assignment_strategy) {
    ConsumerOptions opts;
    opts.client = client();
    opts.group_id = std::move(group);
    opts.read_committed = read_committed;
    opts.assignment_strategy = std::move(strategy);
    opts.session_timeout_ms = 6000;
    auto c = Consumer::create(std::move(opts));
    EXPECT_TRUE(c.is_ok()) << c.status().to_string();
    return c.is_ok() ? std::move(*c) : nullptr;
  }

  void produce_all(Producer& p, const std::string& topic, int n, std::optional<int> partition = std::nullopt,
                   const std::string& prefix = "v") {
    std::vector<std::string> values;
    for (int i = 0; i < n; ++i) values.push_back(prefix + std::to_string(i));
    std::vector<ProduceRecord> records;
    for (int i = 0; i < n; ++i) records.push_back({topic, values[i], values[i], partition});
    for (const auto& r : p.produce_batch(records, 30s)) ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  }

  // Polls until `n` messages or the deadline.
  static std::vector<Message> consume(Consumer& c, std::size_t n, std::chrono::milliseconds timeout = 30s) {
    std::vector<Message> all;
    wait_until(
        [&] {
          auto batch = c.poll_batch(n - all.size(), 100ms);
          EXPECT_TRUE(batch.is_ok()) << batch.status().to_string();
          if (batch.is_ok()) {
            for (auto& m : *batch) all.push_back(std::move(m));
          }
          return all.size() >= n;
        },
        timeout, 0ms);
    return all;
  }
};

TEST_F(RealKafka, ClusterIdIsNonEmpty) {
  auto a = Admin::create(client());
  ASSERT_TRUE(a.is_ok());
  auto id = (*a)->cluster_id(10s);
  ASSERT_TRUE(id.is_ok()) << id.status().to_string();
  EXPECT_FALSE(id->empty());
}

TEST_F(RealKafka, AdminCreatesCompactedTopicIdempotently) {
  auto a = Admin::create(client());
  ASSERT_TRUE(a.is_ok());
  const std::string t = topic();
  std::vector<TopicSpec> specs = {{t, 3, 1, {{"cleanup.policy", "compact"}}}};
  ASSERT_TRUE((*a)->create_topics(specs, 30s).is_ok());
  ASSERT_TRUE((*a)->create_topics(specs, 30s).is_ok());
  auto n = (*a)->describe_topic_partitions(t, 10s);
  ASSERT_TRUE(n.is_ok()) << n.status().to_string();
  EXPECT_EQ(*n, 3);
  std::vector<TopicSpec> bad = {{topic("bad"), 1, 1, {{"cleanup.policy", "sometimes"}}}};
  Status s = (*a)->create_topics(bad, 30s);
  EXPECT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find(bad[0].name), std::string::npos) << s.to_string();
}

TEST_F(RealKafka, ConsumerGroupResumesFromCommittedOffsets) {
  const std::string t = topic();
  create_topic(t, 3);
  auto p = producer();
  ASSERT_TRUE(p);
  produce_all(*p, t, 30);
  const std::string group = unique_name("g");
  {
    auto c = consumer(group);
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->subscribe({t}).is_ok());
    std::vector<Message> got = consume(*c, 30);
    ASSERT_EQ(got.size(), 30u);
    std::map<int, std::int64_t> next;
    for (const auto& m : got) next[m.partition()] = std::max(next[m.partition()], m.offset() + 1);
    std::vector<TopicPartitionOffset> commit;
    for (auto [part, off] : next) commit.push_back({t, part, off});
    Status s = c->commit(commit);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    auto lag = c->lag({t, 0}, 10s);
    ASSERT_TRUE(lag.is_ok()) << lag.status().to_string();
    EXPECT_EQ(*lag, 0);
    ASSERT_TRUE(c->close().is_ok());
  }
  produce_all(*p, t, 5, std::nullopt, "late");
  auto c = consumer(group);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->subscribe({t}).is_ok());
  std::vector<Message> got = consume(*c, 5);
  ASSERT_EQ(got.size(), 5u);
  for (const auto& m : got) EXPECT_EQ(m.value().substr(0, 4), "late");
  // Nothing beyond the 5 new ones.
  auto more = c->poll_batch(10, 500ms);
  ASSERT_TRUE(more.is_ok());
  EXPECT_TRUE(more->empty());
}

TEST_F(RealKafka, CommittedTransactionIsVisibleAbortedIsNot) {
  const std::string t = topic();
  create_topic(t, 1);
  auto p = producer(unique_name("txn"));
  ASSERT_TRUE(p);
  ASSERT_TRUE(p->init_transactions(30s).is_ok());

  ASSERT_TRUE(p->begin_transaction().is_ok());
  produce_all(*p, t, 3, 0, "committed-");
  Status s = p->commit_transaction(30s);
  ASSERT_TRUE(s.is_ok()) << s.to_string();

  ASSERT_TRUE(p->begin_transaction().is_ok());
  produce_all(*p, t, 3, 0, "aborted-");
  s = p->abort_transaction(30s);
  ASSERT_TRUE(s.is_ok()) << s.to_string();

  ASSERT_TRUE(p->begin_transaction().is_ok());
  produce_all(*p, t, 1, 0, "marker-");
  ASSERT_TRUE(p->commit_transaction(30s).is_ok());

  auto read = [&](bool read_committed) {
    auto c = consumer("", read_committed);
    std::vector<TopicPartitionOffset> from = {{t, 0, kOffsetBeginning}};
    EXPECT_TRUE(c->assign(from).is_ok());
    std::vector<std::string> values;
    wait_until(
        [&] {
          auto batch = c->poll_batch(100, 100ms);
          if (batch.is_ok()) {
            for (const auto& m : *batch) values.emplace_back(m.value());
          }
          return !values.empty() && values.back() == "marker-0";
        },
        30s, 0ms);
    return values;
  };
  EXPECT_EQ(read(true), (std::vector<std::string>{"committed-0", "committed-1", "committed-2", "marker-0"}));
  // read_uncommitted sees the aborted ones: the check above is meaningful.
  EXPECT_EQ(read(false).size(), 7u);
}

TEST_F(RealKafka, SendOffsetsToTransactionStoresOffsets) {
  const std::string in = topic("in");
  const std::string out = topic("out");
  create_topic(in, 1);
  create_topic(out, 1);
  auto plain = producer();
  produce_all(*plain, in, 10, 0);

  const std::string group = unique_name("g");
  auto c = consumer(group);
  ASSERT_TRUE(c->subscribe({in}).is_ok());
  std::vector<Message> got = consume(*c, 10);
  ASSERT_EQ(got.size(), 10u);

  auto p = producer(unique_name("txn"));
  ASSERT_TRUE(p->init_transactions(30s).is_ok());
  ASSERT_TRUE(p->begin_transaction().is_ok());
  produce_all(*p, out, 2, 0);
  auto md = c->group_metadata();
  ASSERT_TRUE(md.is_ok()) << md.status().to_string();
  std::vector<TopicPartitionOffset> offsets = {{in, 0, 7}};
  Status s = p->send_offsets_to_transaction(offsets, *md, 30s);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  s = p->commit_transaction(30s);
  ASSERT_TRUE(s.is_ok()) << s.to_string();

  std::vector<TopicPartition> tps = {{in, 0}};
  auto committed = c->committed(tps, 10s);
  ASSERT_TRUE(committed.is_ok()) << committed.status().to_string();
  ASSERT_EQ(committed->size(), 1u);
  EXPECT_EQ((*committed)[0].offset, 7);
}

TEST_F(RealKafka, TransactionalStateErrorsAreStatuses) {
  auto p = producer(unique_name("txn"));
  ASSERT_TRUE(p);
  // begin before init: a usage error, not a crash.
  Status s = p->begin_transaction();
  EXPECT_FALSE(s.is_ok());
  ASSERT_TRUE(p->init_transactions(30s).is_ok());
  // commit with no transaction open.
  EXPECT_FALSE(p->commit_transaction(5s).is_ok());
  EXPECT_TRUE(p->fatal_error().is_ok());
}

TEST_F(RealKafka, ExplicitOffsetAssignResumesWhereTold) {
  const std::string t = topic();
  create_topic(t, 1);
  auto p = producer();
  produce_all(*p, t, 20, 0);

  auto c = consumer("");
  std::vector<TopicPartitionOffset> from = {{t, 0, 12}};
  ASSERT_TRUE(c->assign(from).is_ok());
  std::vector<Message> got = consume(*c, 8);
  ASSERT_EQ(got.size(), 8u);
  EXPECT_EQ(got.front().offset(), 12);
  EXPECT_EQ(got.front().value(), "v12");

  // The same through a group rebalance: the assign handler supplies the start (as the
  // processors do from RocksDB), overriding the group's committed offset.
  const std::string group = unique_name("g");
  auto g = consumer(group);
  std::vector<TopicPartitionOffset> committed = {{t, 0, 3}};
  ASSERT_TRUE(g->commit(committed).is_ok());
  ASSERT_TRUE(g->subscribe({t}, {.on_assign = [&](std::span<const TopicPartition> tps) {
                                   std::vector<TopicPartitionOffset> starts;
                                   for (const auto& tp : tps) starts.push_back({tp.topic, tp.partition, 15});
                                   return starts;
                                 },
                                 .on_revoke = {}})
                  .is_ok());
  got = consume(*g, 5);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got.front().offset(), 15);
}

TEST_F(RealKafka, SeekRereadsAGroupMemberPartitionFromTheGivenOffset) {
  const std::string t = topic();
  create_topic(t, 1);
  auto p = producer();
  produce_all(*p, t, 10, 0);
  auto c = consumer(unique_name("g"));
  ASSERT_TRUE(c->subscribe({t}).is_ok());
  std::vector<Message> got = consume(*c, 10);
  ASSERT_EQ(got.size(), 10u);
  // As the join does with a batch whose transaction it aborted: read it again.
  std::vector<TopicPartitionOffset> back = {{t, 0, 4}};
  Status s = c->seek(back, 10s);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  got = consume(*c, 6);
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(got.front().offset(), 4);
  EXPECT_EQ(got.back().value(), "v9");
}

TEST_F(RealKafka, StaticMemberWithTheSameInstanceIdFencesTheOldOne) {
  const std::string t = topic();
  create_topic(t, 2);
  auto p = producer();
  produce_all(*p, t, 4);
  const std::string group = unique_name("g"), instance = unique_name("i");
  auto member = [&] {
    ConsumerOptions opts;
    opts.client = client();
    opts.group_id = group;
    opts.group_instance_id = instance;
    opts.session_timeout_ms = 6000;
    auto c = Consumer::create(std::move(opts));
    EXPECT_TRUE(c.is_ok()) << c.status().to_string();
    return std::move(c).value();
  };
  auto first = member();
  ASSERT_TRUE(first->subscribe({t}).is_ok());
  ASSERT_EQ(consume(*first, 4).size(), 4u);
  // A restarted instance (same group.instance.id) takes the membership over; the old handle is
  // fenced instead of both consuming the same partitions.
  auto second = member();
  ASSERT_TRUE(second->subscribe({t}).is_ok());
  ASSERT_TRUE(wait_until(
      [&] {
        (void)second->poll_batch(10, 50ms);
        auto as = second->assignment();
        return as.is_ok() && as->size() == 2;
      },
      30s, 0ms));
  bool fenced = false;
  wait_until(
      [&] {
        auto r = first->poll_batch(10, 50ms);
        fenced = !r.is_ok();
        return fenced;
      },
      30s, 0ms);
  EXPECT_TRUE(fenced);
}

// Two members of one group, manual commits (also from the revoke handler, as the processors
// do), a member joining mid-stream and later leaving. A strategy "works" if every commit succeeds and no message
// is lost.
struct StrategyOutcome {
  std::vector<std::string> commit_errors;
  std::vector<std::string> poll_errors;
  std::size_t distinct_seen = 0;
  bool both_assigned = false;
};

class AssignmentStrategy : public RealKafka, public ::testing::WithParamInterface<std::string> {
 protected:
  StrategyOutcome run(const std::string& strategy) {
    StrategyOutcome out;
    const std::string t = topic("s");
    create_topic(t, 4);
    auto p = producer();
    std::vector<std::string> vals;
    for (int i = 0; i < 40; ++i) vals.push_back("a" + std::to_string(i));
    std::vector<ProduceRecord> recs;
    for (int i = 0; i < 40; ++i) recs.push_back({t, vals[i], vals[i], i % 4});
    for (const auto& r : p->produce_batch(recs, 30s)) EXPECT_TRUE(r.status.is_ok());

    const std::string group = unique_name("g");
    struct Member {
      std::unique_ptr<Consumer> c;
      std::map<int, std::int64_t> next;  // partition -> next offset to commit
    };
    Member a{consumer(group, true, strategy), {}}, b{consumer(group, true, strategy), {}};
    std::set<std::pair<int, std::int64_t>> seen;
    auto handlers = [&](Member& m) {
      RebalanceHandlers h;
      h.on_revoke = [&, mp = &m](std::span<const TopicPartition> tps) {
        std::vector<TopicPartitionOffset> commit;
        for (const auto& tp : tps) {
          auto it = mp->next.find(tp.partition);
          if (it != mp->next.end()) commit.push_back({tp.topic, tp.partition, it->second});
          mp->next.erase(tp.partition);
        }
        Status s = mp->c->commit(commit);
        if (!s.is_ok()) out.commit_errors.push_back("revoke: " + s.to_string());
      };
      return h;
    };
    auto pump = [&](Member& m) {
      auto batch = m.c->poll_batch(100, 50ms);
      if (!batch.is_ok()) {
        out.poll_errors.push_back(batch.status().to_string());
        return;
      }
      if (batch->empty()) return;
      for (const auto& msg : *batch) {
        seen.insert({msg.partition(), msg.offset()});
        m.next[msg.partition()] = msg.offset() + 1;
      }
      std::vector<TopicPartitionOffset> commit;
      for (auto [part, off] : m.next) commit.push_back({t, part, off});
      Status s = m.c->commit(commit);
      if (!s.is_ok()) out.commit_errors.push_back(s.to_string());
    };
    auto assigned = [](Member& m) {
      auto as = m.c->assignment();
      return as.is_ok() ? as->size() : 0;
    };

    EXPECT_TRUE(a.c->subscribe({t}, handlers(a)).is_ok());
    wait_until([&] { pump(a); return seen.size() >= 20; }, 30s, 0ms);
    EXPECT_TRUE(b.c->subscribe({t}, handlers(b)).is_ok());
    out.both_assigned = wait_until(
        [&] {
          pump(a);
          pump(b);
          return assigned(a) > 0 && assigned(b) > 0 && assigned(a) + assigned(b) == 4;
        },
        30s, 0ms);
    recs.clear();
    std::vector<std::string> vals2;
    for (int i = 0; i < 40; ++i) vals2.push_back("b" + std::to_string(i));
    for (int i = 0; i < 40; ++i) recs.push_back({t, vals2[i], vals2[i], i % 4});
    for (const auto& r : p->produce_batch(recs, 30s)) EXPECT_TRUE(r.status.is_ok());
    wait_until([&] { pump(a); pump(b); return seen.size() >= 80; }, 30s, 0ms);
    // Both still hold their partitions after the traffic (no silent drop of the assignment).
    out.both_assigned = out.both_assigned && assigned(a) + assigned(b) == 4;

    // B leaves (committing in its revoke handler); A must take over all four partitions and
    // continue from B's commits.
    EXPECT_TRUE(b.c->close().is_ok());
    const bool a_took_over = wait_until([&] { pump(a); return assigned(a) == 4; }, 30s, 0ms);
    out.both_assigned = out.both_assigned && a_took_over;
    recs.clear();
    std::vector<std::string> vals3;
    for (int i = 0; i < 40; ++i) vals3.push_back("c" + std::to_string(i));
    for (int i = 0; i < 40; ++i) recs.push_back({t, vals3[i], vals3[i], i % 4});
    for (const auto& r : p->produce_batch(recs, 30s)) EXPECT_TRUE(r.status.is_ok());
    wait_until([&] { pump(a); return seen.size() >= 120; }, 30s, 0ms);
    out.distinct_seen = seen.size();
    EXPECT_TRUE(a.c->close().is_ok());
    return out;
  }
};

TEST_P(AssignmentStrategy, ManualCommitsSurviveAMemberJoining) {
  StrategyOutcome o = run(GetParam());
  for (const auto& e : o.commit_errors) ADD_FAILURE() << GetParam() << " commit error: " << e;
  for (const auto& e : o.poll_errors) ADD_FAILURE() << GetParam() << " poll error: " << e;
  EXPECT_TRUE(o.both_assigned) << GetParam();
  EXPECT_EQ(o.distinct_seen, 120u) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(RealKafka, AssignmentStrategy,
                         ::testing::Values("range", "roundrobin", "cooperative-sticky"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) if (c == '-') c = '_';
                           return n;
                         });

}  // namespace
}  // namespace tracefeed::kafka
