// Component tests: Producer, Consumer and Admin against the in-process EmbeddedBroker.
#include "kafka/embedded_broker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "kafka/admin.h"
#include "kafka/consumer.h"
#include "kafka/producer.h"
#include "kafka/tests/real_kafka.h"

namespace tracefeed::kafka {
namespace {

using namespace std::chrono_literals;
using testing::unique_name;
using testing::wait_until;

// Java's org.apache.kafka.common.utils.Utils.murmur2, transcribed independently of librdkafka so
// the test checks librdkafka against Java, not against itself.
std::int32_t java_murmur2(std::string_view data) {
  const std::uint32_t m = 0x5bd1e995;
  const int r = 24;
  const std::uint32_t length = static_cast<std::uint32_t>(data.size());
  std::uint32_t h = 0x9747b28c ^ length;
  const auto byte = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(data[i])); };
  const std::size_t length4 = length / 4;
  for (std::size_t i = 0; i < length4; ++i) {
    const std::size_t i4 = i * 4;
    std::uint32_t k = byte(i4) + (byte(i4 + 1) << 8) + (byte(i4 + 2) << 16) + (byte(i4 + 3) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const std::size_t tail = length & ~3u;
  switch (length % 4) {
    case 3: h ^= byte(tail + 2) << 16; [[fallthrough]];
    case 2: h ^= byte(tail + 1) << 8; [[fallthrough]];
    case 1: h ^= byte(tail); h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<std::int32_t>(h);
}

int java_partition(std::string_view key, int n) { return (java_murmur2(key) & 0x7fffffff) % n; }

TEST(JavaMurmur2, MatchesValuesComputedByKafkaClients391) {
  // Printed by org.apache.kafka.common.utils.Utils.murmur2 from kafka-clients-3.9.1.jar.
  EXPECT_EQ(java_murmur2("21"), -973932308);
  EXPECT_EQ(java_murmur2("foobar"), -790332482);
  EXPECT_EQ(java_murmur2("a-little-bit-long-string"), -985981536);
  EXPECT_EQ(java_murmur2("tr-0123456789abcdef0123456789abcdef"), -273646705);
  EXPECT_EQ(java_murmur2("tr-ffffffffffffffffffffffffffffffff"), 1568171175);
  EXPECT_EQ(java_murmur2("abc"), 479470107);
  EXPECT_EQ(java_partition("tr-0123456789abcdef0123456789abcdef", 7), 6);
  EXPECT_EQ(java_partition("a-little-bit-long-string", 12), 8);
}

class EmbeddedKafkaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = EmbeddedBroker::start();
    ASSERT_TRUE(b.is_ok()) << b.status().to_string();
    _broker = std::move(*b);
  }

  ClientOptions client() const { return ClientOptions{_broker->bootstrap_servers(), "tracefeed-test", {}}; }

  std::unique_ptr<Producer> producer(ProducerOptions opts = {}) {
    opts.client = client();
    auto p = Producer::create(std::move(opts));
    EXPECT_TRUE(p.is_ok()) << p.status().to_string();
    return p.is_ok() ? std::move(*p) : nullptr;
  }

  std::unique_ptr<Consumer> consumer(std::string group = "") {
    ConsumerOptions opts;
    opts.client = client();
    opts.group_id = std::move(group);
    auto c = Consumer::create(std::move(opts));
    EXPECT_TRUE(c.is_ok()) << c.status().to_string();
    return c.is_ok() ? std::move(*c) : nullptr;
  }

  // Polls until `n` messages arrived or the deadline passes.
  static std::vector<Message> consume(Consumer& c, std::size_t n, std::chrono::milliseconds timeout = 20s) {
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

  std::unique_ptr<EmbeddedBroker> _broker;
};

TEST_F(EmbeddedKafkaTest, BootstrapIsLoopback) {
  EXPECT_EQ(_broker->bootstrap_servers().rfind("127.0.0.1:", 0), 0u) << _broker->bootstrap_servers();
}

TEST_F(EmbeddedKafkaTest, BadPropertyIsAnErrorNamingIt) {
  ProducerOptions opts;
  opts.client = client();
  opts.client.properties["no.such.property"] = "1";
  auto p = Producer::create(opts);
  ASSERT_FALSE(p.is_ok());
  EXPECT_EQ(p.status().code(), ErrorCode::invalid_argument);
  EXPECT_NE(p.status().message().find("no.such.property"), std::string::npos) << p.status().to_string();

  ConsumerOptions copts;
  copts.client = client();
  copts.client.properties["fetch.wait.max.ms"] = "soon";
  auto c = Consumer::create(copts);
  ASSERT_FALSE(c.is_ok());
  EXPECT_NE(c.status().message().find("fetch.wait.max.ms"), std::string::npos) << c.status().to_string();

  copts = {};
  copts.client = client();
  copts.assignment_strategy = "bogus";
  auto c2 = Consumer::create(copts);
  ASSERT_FALSE(c2.is_ok());
  EXPECT_NE(c2.status().message().find("partition.assignment.strategy"), std::string::npos) << c2.status().to_string();

  copts = {};
  copts.client = client();
  copts.fetch_min_bytes = 0;  // librdkafka's range starts at 1
  auto c3 = Consumer::create(copts);
  ASSERT_FALSE(c3.is_ok());
  EXPECT_NE(c3.status().message().find("fetch.min.bytes"), std::string::npos) << c3.status().to_string();

  auto a = Admin::create(ClientOptions{"", "x", {}});
  EXPECT_FALSE(a.is_ok());
}

TEST_F(EmbeddedKafkaTest, ProduceBatchThenConsumeRoundTrip) {
  const std::string topic = unique_name("roundtrip");
  ASSERT_TRUE(_broker->create_topic(topic, 3).is_ok());
  auto p = producer();
  ASSERT_TRUE(p);
  std::vector<std::string> keys, values;
  for (int i = 0; i < 100; ++i) {
    keys.push_back("tr-" + std::to_string(i));
    values.push_back("value-" + std::to_string(i));
  }
  std::vector<ProduceRecord> records;
  for (int i = 0; i < 100; ++i) records.push_back({topic, keys[i], values[i], std::nullopt});
  const auto before_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
  std::vector<DeliveryReport> reports = p->produce_batch(records, 20s);
  ASSERT_EQ(reports.size(), 100u);
  for (const auto& r : reports) {
    ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
    EXPECT_EQ(r.topic, topic);
    EXPECT_GE(r.offset, 0);
  }

  auto c = consumer();
  ASSERT_TRUE(c);
  std::vector<TopicPartitionOffset> from = {{topic, 0, kOffsetBeginning}, {topic, 1, kOffsetBeginning},
                                            {topic, 2, kOffsetBeginning}};
  ASSERT_TRUE(c->assign(from).is_ok());
  std::vector<Message> got = consume(*c, 100);
  ASSERT_EQ(got.size(), 100u);
  std::map<std::string, std::string> seen;
  for (const Message& m : got) {
    EXPECT_EQ(m.topic(), topic);
    EXPECT_GE(m.timestamp_ms(), before_ms - 1000);
    seen[std::string(m.key())] = std::string(m.value());
  }
  ASSERT_EQ(seen.size(), 100u);
  EXPECT_EQ(seen["tr-42"], "value-42");
}

TEST_F(EmbeddedKafkaTest, PausedPartitionIsNotFetchedUntilResumed) {
  const std::string topic = unique_name("pause");
  ASSERT_TRUE(_broker->create_topic(topic, 1).is_ok());
  auto p = producer();
  ASSERT_TRUE(p);
  auto send = [&](int from, int n) {
    std::vector<std::string> values;
    for (int i = from; i < from + n; ++i) values.push_back("v" + std::to_string(i));
    std::vector<ProduceRecord> records;
    for (const auto& v : values) records.push_back({topic, "k", v, 0});
    for (const auto& r : p->produce_batch(records, 20s)) ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  };
  send(0, 10);
  auto c = consumer();
  ASSERT_TRUE(c);
  const TopicPartition tp{topic, 0};
  EXPECT_FALSE(c->fetch_progress(tp).has_value());  // nothing fetched yet
  const TopicPartitionOffset from[] = {{topic, 0, kOffsetBeginning}};
  ASSERT_TRUE(c->assign(from).is_ok());
  ASSERT_EQ(consume(*c, 10).size(), 10u);
  // Caught up: the client fetched to the end of the log, without asking the broker again.
  ASSERT_TRUE(wait_until([&] {
    auto progress = c->fetch_progress(tp);
    return progress && progress->position == 10 && progress->high_watermark == 10;
  }, 10s));

  const TopicPartition paused[] = {tp};
  ASSERT_TRUE(c->pause(paused).is_ok());
  send(10, 5);
  auto none = c->poll_batch(100, 500ms);  // would have fetched the 5 by now (fetch.wait.max.ms 10)
  ASSERT_TRUE(none.is_ok());
  EXPECT_TRUE(none->empty());
  ASSERT_TRUE(c->resume(paused).is_ok());
  auto rest = consume(*c, 5);
  ASSERT_EQ(rest.size(), 5u);
  EXPECT_EQ(rest[0].value(), "v10");
  EXPECT_EQ(rest[0].offset(), 10);
}

TEST_F(EmbeddedKafkaTest, KeysLandOnTheJavaMurmur2Partition) {
  const std::string topic = unique_name("murmur");
  constexpr int kPartitions = 7;
  ASSERT_TRUE(_broker->create_topic(topic, kPartitions).is_ok());
  auto p = producer();
  ASSERT_TRUE(p);
  std::vector<std::string> keys = {"21", "foobar", "a-little-bit-long-string", "tr-0123456789abcdef0123456789abcdef",
                                   "tr-ffffffffffffffffffffffffffffffff", "abc"};
  for (int i = 0; i < 40; ++i) keys.push_back("tr-" + std::to_string(i * 7919));
  std::vector<ProduceRecord> records;
  for (const auto& k : keys) records.push_back({topic, k, "v", std::nullopt});
  auto reports = p->produce_batch(records, 20s);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    ASSERT_TRUE(reports[i].status.is_ok()) << reports[i].status.to_string();
    EXPECT_EQ(reports[i].partition, java_partition(keys[i], kPartitions)) << keys[i];
  }
}

TEST_F(EmbeddedKafkaTest, DeliveryCallbackReportsPartitionAndOffset) {
  const std::string topic = unique_name("dr");
  ASSERT_TRUE(_broker->create_topic(topic, 2).is_ok());
  auto p = producer();
  ASSERT_TRUE(p);
  std::mutex mu;
  std::vector<DeliveryReport> reports;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(p->produce(topic, "", "v" + std::to_string(i), 1, [&](const DeliveryReport& r) {
                   std::lock_guard lock(mu);
                   reports.push_back(r);
                 }).is_ok());
  }
  ASSERT_TRUE(wait_until([&] { std::lock_guard lock(mu); return reports.size() == 10; }, 20s));
  std::lock_guard lock(mu);
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(reports[i].status.is_ok()) << reports[i].status.to_string();
    EXPECT_EQ(reports[i].partition, 1);
    EXPECT_EQ(reports[i].offset, i);  // one partition, idempotent producer: in order
  }
}

TEST_F(EmbeddedKafkaTest, UnknownPartitionFailsVisibly) {
  const std::string topic = unique_name("nopart");
  ASSERT_TRUE(_broker->create_topic(topic, 1).is_ok());
  auto p = producer();
  ASSERT_TRUE(p);
  std::vector<ProduceRecord> records = {{topic, "k", "v", 5}};
  auto reports = p->produce_batch(records, 20s);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].status.code(), ErrorCode::not_found) << reports[0].status.to_string();
}

TEST_F(EmbeddedKafkaTest, FullQueueIsUnavailableNotADrop) {
  const std::string topic = unique_name("full");
  ASSERT_TRUE(_broker->create_topic(topic, 1).is_ok());
  ProducerOptions opts;
  opts.max_queued_messages = 10;
  opts.linger_ms = 20000;  // hold messages locally so the queue stays full
  opts.message_timeout_ms = 60000;
  auto p = producer(opts);
  ASSERT_TRUE(p);
  std::atomic<int> delivered{0};
  Status last;
  int accepted = 0;
  for (int i = 0; i < 20; ++i) {
    last = p->produce(topic, "k", "v", std::nullopt, [&](const DeliveryReport&) { delivered++; });
    if (!last.is_ok()) break;
    ++accepted;
  }
  EXPECT_EQ(accepted, 10);
  EXPECT_EQ(last.code(), ErrorCode::unavailable) << last.to_string();
  EXPECT_NE(last.message().find("queue full"), std::string::npos);
  // Every accepted message is still accounted for: flush delivers them all.
  ASSERT_TRUE(p->flush(30s).is_ok());
  EXPECT_EQ(delivered.load(), 10);
}

TEST_F(EmbeddedKafkaTest, CloseFailsPendingMessagesThroughTheirCallbacks) {
  const std::string topic = unique_name("close");
  ProducerOptions opts;
  opts.client = ClientOptions{"127.0.0.1:1", "tracefeed-test", {{"log_level", "0"}}};  // nobody listens
  opts.message_timeout_ms = 60000;
  auto created = Producer::create(opts);
  ASSERT_TRUE(created.is_ok()) << created.status().to_string();
  auto p = std::move(*created);
  std::atomic<int> failed{0};
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(p->produce(topic, "k", "v", std::nullopt, [&](const DeliveryReport& r) {
                   if (!r.status.is_ok()) failed++;
                 }).is_ok());
  }
  EXPECT_FALSE(p->close(100ms).is_ok());
  EXPECT_EQ(failed.load(), 5);
  EXPECT_EQ(p->produce(topic, "k", "v").code(), ErrorCode::unavailable);
}

// Collects what the fast path reports; thread-safe (the poll thread writes, the test reads).
class RecordingListener final : public DeliveryListener {
 public:
  void on_delivered(std::span<const CookieDelivery> batch) override {
    std::lock_guard lock(_mu);
    ++_calls;
    for (const auto& d : batch) _outcomes.emplace_back(d.cookie, d.status);
  }
  std::vector<std::pair<std::uint64_t, Status>> outcomes() const {
    std::lock_guard lock(_mu);
    return _outcomes;
  }
  int calls() const {
    std::lock_guard lock(_mu);
    return _calls;
  }

 private:
  mutable std::mutex _mu;
  std::vector<std::pair<std::uint64_t, Status>> _outcomes;
  int _calls = 0;
};

TEST_F(EmbeddedKafkaTest, CookieProduceReportsEveryCookieOnceInBatchesBeforeFlushReturns) {
  const std::string topic = unique_name("cookie");
  constexpr int kPartitions = 3;
  ASSERT_TRUE(_broker->create_topic(topic, kPartitions).is_ok());
  RecordingListener listener;
  ProducerOptions opts;
  opts.listener = &listener;
  opts.linger_ms = 50;  // many messages per produce request, so reports come in batches
  auto p = producer(opts);
  ASSERT_TRUE(p);
  auto handle = p->topic(topic);
  ASSERT_TRUE(handle.is_ok()) << handle.status().to_string();
  EXPECT_EQ(handle->name(), topic);
  auto again = p->topic(topic);
  ASSERT_TRUE(again.is_ok());

  constexpr std::uint64_t kMessages = 2000;
  std::vector<std::string> keys;
  for (std::uint64_t i = 0; i < kMessages; ++i) keys.push_back("tr-" + std::to_string(i * 7919));
  for (std::uint64_t i = 0; i < kMessages; ++i) {
    // Alternate the two handles of the same topic: they must behave as one.
    const TopicHandle& h = i % 2 == 0 ? *handle : *again;
    ASSERT_TRUE(p->produce(h, keys[i], "v" + std::to_string(i), i + (std::uint64_t{1} << 62)).is_ok());
  }
  // No waiting: flush() returns only after the listener saw every outcome.
  ASSERT_TRUE(p->flush(30s).is_ok());
  auto outcomes = listener.outcomes();
  ASSERT_EQ(outcomes.size(), kMessages);
  std::vector<int> seen(kMessages, 0);
  for (const auto& [cookie, status] : outcomes) {
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    ASSERT_GE(cookie, std::uint64_t{1} << 62);
    ASSERT_LT(cookie - (std::uint64_t{1} << 62), kMessages);
    ++seen[cookie - (std::uint64_t{1} << 62)];
  }
  for (std::uint64_t i = 0; i < kMessages; ++i) EXPECT_EQ(seen[i], 1) << "cookie " << i;
  EXPECT_LT(listener.calls(), static_cast<int>(kMessages) / 10) << "reports should arrive in batches";

  // Same partitioner as the by-name path: murmur2 like Java.
  auto c = consumer();
  ASSERT_TRUE(c);
  std::vector<TopicPartitionOffset> assignment;
  for (int part = 0; part < kPartitions; ++part) assignment.push_back({topic, part, kOffsetBeginning});
  ASSERT_TRUE(c->assign(assignment).is_ok());
  auto messages = consume(*c, kMessages);
  ASSERT_EQ(messages.size(), kMessages);
  for (const auto& m : messages) EXPECT_EQ(m.partition(), java_partition(m.key(), kPartitions)) << m.key();
}

TEST_F(EmbeddedKafkaTest, CookieProduceRejectsWhatCannotBeSent) {
  const std::string topic = unique_name("cookie-bad");
  ASSERT_TRUE(_broker->create_topic(topic, 1).is_ok());
  RecordingListener listener;
  ProducerOptions opts;
  opts.listener = &listener;
  opts.max_queued_messages = 5;
  opts.linger_ms = 20000;  // hold messages locally so the queue stays full
  opts.message_timeout_ms = 60000;
  auto p = producer(opts);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->topic("").status().code(), ErrorCode::invalid_argument);
  EXPECT_EQ(p->produce(TopicHandle(), "k", "v", 1).code(), ErrorCode::invalid_argument);
  auto handle = p->topic(topic);
  ASSERT_TRUE(handle.is_ok());
  EXPECT_EQ(p->produce(*handle, "k", "v", std::uint64_t{1} << 63).code(), ErrorCode::invalid_argument);
  int accepted = 0;
  Status last;
  for (int i = 0; i < 10; ++i) {
    last = p->produce(*handle, "k", "v", static_cast<std::uint64_t>(i));
    if (!last.is_ok()) break;
    ++accepted;
  }
  EXPECT_EQ(accepted, 5);
  EXPECT_EQ(last.code(), ErrorCode::unavailable) << last.to_string();
  EXPECT_NE(last.message().find("queue full"), std::string::npos);
  ASSERT_TRUE(p->flush(30s).is_ok());
  EXPECT_EQ(listener.outcomes().size(), 5u);  // rejected messages are never reported
  ASSERT_TRUE(p->close().is_ok());
  EXPECT_EQ(p->produce(*handle, "k", "v", 1).code(), ErrorCode::unavailable);
  EXPECT_EQ(p->topic(topic).status().code(), ErrorCode::unavailable);
  EXPECT_EQ(handle->name(), topic);  // a handle kept past close() still names its topic
}

TEST_F(EmbeddedKafkaTest, CloseFailsPendingCookiesThroughTheListener) {
  RecordingListener listener;
  ProducerOptions opts;
  opts.client = ClientOptions{"127.0.0.1:1", "tracefeed-test", {{"log_level", "0"}}};  // nobody listens
  opts.message_timeout_ms = 60000;
  opts.listener = &listener;
  auto created = Producer::create(opts);
  ASSERT_TRUE(created.is_ok()) << created.status().to_string();
  auto p = std::move(*created);
  auto handle = p->topic(unique_name("close-cookie"));
  ASSERT_TRUE(handle.is_ok());
  for (std::uint64_t i = 0; i < 5; ++i) ASSERT_TRUE(p->produce(*handle, "k", "v", i).is_ok());
  EXPECT_FALSE(p->close(100ms).is_ok());
  auto outcomes = listener.outcomes();
  ASSERT_EQ(outcomes.size(), 5u);
  std::vector<std::uint64_t> cookies;
  for (const auto& [cookie, status] : outcomes) {
    EXPECT_EQ(status.code(), ErrorCode::unavailable) << status.to_string();
    cookies.push_back(cookie);
  }
  std::sort(cookies.begin(), cookies.end());
  EXPECT_EQ(cookies, (std::vector<std::uint64_t>{0, 1, 2, 3, 4}));
}

TEST_F(EmbeddedKafkaTest, ConsumerGroupCommitsAndReportsLag) {
  const std::string topic = unique_name("group");
  ASSERT_TRUE(_broker->create_topic(topic, 2).is_ok());
  auto p = producer();
  ASSERT_TRUE(p);
  std::vector<ProduceRecord> records;
  for (int i = 0; i < 10; ++i) records.push_back({topic, "", "v", i % 2});
  for (const auto& r : p->produce_batch(records, 20s)) ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();

  auto c = consumer(unique_name("g"));
  ASSERT_TRUE(c);
  std::vector<TopicPartition> assigned;
  ASSERT_TRUE(c->subscribe({topic}, {.on_assign = [&](std::span<const TopicPartition> tps) {
                                       assigned.assign(tps.begin(), tps.end());
                                       return std::vector<TopicPartitionOffset>{};
                                     },
                                     .on_revoke = {}})
                  .is_ok());
  std::vector<Message> got = consume(*c, 10);
  ASSERT_EQ(got.size(), 10u);
  EXPECT_EQ(assigned.size(), 2u);
  std::vector<TopicPartitionOffset> commit = {{topic, 0, 3}, {topic, 1, 5}};
  ASSERT_TRUE(c->commit(commit).is_ok());
  std::vector<TopicPartition> tps = {{topic, 0}, {topic, 1}};
  auto committed = c->committed(tps, 10s);
  ASSERT_TRUE(committed.is_ok()) << committed.status().to_string();
  EXPECT_EQ(*committed, commit);
  auto w = c->watermark_offsets({topic, 0}, 10s);
  ASSERT_TRUE(w.is_ok()) << w.status().to_string();
  EXPECT_EQ(w->low, 0);
  EXPECT_EQ(w->high, 5);
  auto lag = c->lag({topic, 0}, 10s);
  ASSERT_TRUE(lag.is_ok()) << lag.status().to_string();
  EXPECT_EQ(*lag, 2);
  EXPECT_TRUE(c->group_metadata().is_ok());
  EXPECT_TRUE(c->close().is_ok());
}

TEST_F(EmbeddedKafkaTest, AdminCountsPartitions) {
  auto a = Admin::create(client());
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  const std::string topic = unique_name("admin");
  ASSERT_TRUE(_broker->create_topic(topic, 4).is_ok());
  auto n = (*a)->describe_topic_partitions(topic, 10s);
  ASSERT_TRUE(n.is_ok()) << n.status().to_string();
  EXPECT_EQ(*n, 4);
  EXPECT_EQ((*a)->describe_topic_partitions(unique_name("missing"), 10s).status().code(), ErrorCode::not_found);
}

// librdkafka 2.0.2's mock cluster does not answer CreateTopics (topics come from
// EmbeddedBroker::create_topic); Admin::create_topics must fail cleanly, not hang. The real
// broker test covers create_topics itself.
TEST_F(EmbeddedKafkaTest, AdminCreateTopicsOnTheMockTimesOutCleanly) {
  auto a = Admin::create(client());
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  std::vector<TopicSpec> specs = {{unique_name("admin"), 4, 1, {{"cleanup.policy", "compact"}}}};
  Status s = (*a)->create_topics(specs, 500ms);
  EXPECT_EQ(s.code(), ErrorCode::timeout) << s.to_string();
}

TEST_F(EmbeddedKafkaTest, ClusterIdIsReported) {
  auto a = Admin::create(client());
  ASSERT_TRUE(a.is_ok());
  auto id = (*a)->cluster_id(10s);
  ASSERT_TRUE(id.is_ok()) << id.status().to_string();
  EXPECT_FALSE(id->empty());
  std::cerr << "mock cluster id: " << *id << "\n";
}

}  // namespace
}  // namespace tracefeed::kafka

// The mock's cluster id can repeat across starts (it is address-derived); log_id must not, since
// stored offsets are keyed by it.
TEST(EmbeddedBrokerLogId, EveryStartIsADifferentLog) {
  std::string first;
  {
    auto a = tracefeed::kafka::EmbeddedBroker::start();
    ASSERT_TRUE(a.is_ok()) << a.status().to_string();
    first = (*a)->log_id();
  }
  auto b = tracefeed::kafka::EmbeddedBroker::start();
  ASSERT_TRUE(b.is_ok()) << b.status().to_string();
  EXPECT_FALSE(first.empty());
  EXPECT_NE((*b)->log_id(), first);
}
