#pragma once
// RAII Kafka consumer: consumer-group member or manually assigned reader, manual commits only
// (enable.auto.commit=false), read_committed by default, low fetch.wait.max.ms so an idle
// partition does not add 500 ms to every poll.
//
// Thread model: a Consumer is NOT thread-safe — create it, poll it, commit and close it from one
// thread (the "owner thread"). Rebalance handlers run on the owner thread, inside poll_batch()
// (or close()). librdkafka's own threads never call user code.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "kafka/client_options.h"

namespace tracefeed::kafka {

struct ConsumerOptions {
  ClientOptions client;
  // group.id. Required for subscribe(); may be empty for a pure assign()-and-read consumer, which
  // then gets a private random group id (librdkafka needs one) that commits would go to.
  // Default: empty.
  std::string group_id;
  // partition.assignment.strategy. Default: "range" — against Kafka 3.9.1 with librdkafka
  // 2.0.2 and manual commits, "cooperative-sticky" is not safe (see kafka/README.md);
  // "roundrobin" and "range" are.
  std::string assignment_strategy = "range";
  // isolation.level=read_committed (true) or read_uncommitted. Default: true.
  bool read_committed = true;
  // fetch.wait.max.ms: how long the broker holds a fetch for fetch_min_bytes to arrive.
  // Default: 10.
  int fetch_wait_max_ms = 10;
  // fetch.min.bytes: the broker answers a fetch once this much is there (or fetch_wait_max_ms
  // passed). 1 answers at once with whatever arrived; more makes fewer, fuller fetches under
  // load at up to fetch_wait_max_ms of latency when traffic is light. Default: 1.
  int fetch_min_bytes = 1;
  // auto.offset.reset when there is no committed offset: "earliest" or "latest".
  // Default: "earliest" (never skip data on a new group).
  std::string auto_offset_reset = "earliest";
  // session.timeout.ms. Default: 10000.
  int session_timeout_ms = 10000;
  // Bound on the prefetch queue per partition (queued.max.messages.kbytes). Default: 64 MiB.
  int queued_max_kbytes = 64 * 1024;
  // group.instance.id: static group membership (KIP-345). A member that restarts with the same
  // id within session_timeout_ms takes its partitions back without a rebalance (and without
  // waiting for the old member's session to expire); a second live member with the same id is
  // fenced. close() then does not leave the group: the partitions move only once the session
  // times out. Must be stable per instance and unique among live members. Default: empty (dynamic
  // membership).
  std::string group_instance_id;
  // max.poll.interval.ms: the longest the owner thread may go without poll_batch() (rebalance
  // handlers included) before the member is dropped from the group. Default: 300000.
  int max_poll_interval_ms = 300000;
};

// One consumed record. Owns librdkafka's message (no copy of key/value); move-only. The views
// returned by key()/value() are valid while this Message lives. A Message shares ownership of its
// consumer's librdkafka handle (librdkafka cannot destroy a handle while its messages live), so it
// may outlive the Consumer; the handle is freed with the last Message.
class Message {
 public:
  Message() = default;
  ~Message();
  Message(Message&& other) noexcept;
  Message& operator=(Message&& other) noexcept;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;

  [[nodiscard]] std::string_view topic() const;
  [[nodiscard]] std::int32_t partition() const;
  [[nodiscard]] std::int64_t offset() const;
  [[nodiscard]] std::string_view key() const;
  [[nodiscard]] std::string_view value() const;
  // Milliseconds since the epoch (create or log-append time); -1 when unknown.
  [[nodiscard]] std::int64_t timestamp_ms() const;

  // Takes ownership of an rd_kafka_message_t (passed as void* to keep librdkafka out of this
  // header). Internal to kafka/.
  Message(void* rd_kafka_message, std::shared_ptr<void> owner)
      : _msg(rd_kafka_message), _owner(std::move(owner)) {}

 private:
  void* _msg = nullptr;
  std::shared_ptr<void> _owner;  // the rd_kafka_t; released after _msg is destroyed
};

// Opaque consumer-group metadata for Producer::send_offsets_to_transaction.
class ConsumerGroupMetadata {
 public:
  ~ConsumerGroupMetadata();
  ConsumerGroupMetadata(ConsumerGroupMetadata&&) noexcept;
  ConsumerGroupMetadata& operator=(ConsumerGroupMetadata&&) noexcept;
  ConsumerGroupMetadata(const ConsumerGroupMetadata&) = delete;
  ConsumerGroupMetadata& operator=(const ConsumerGroupMetadata&) = delete;

  // Internal to kafka/: the rd_kafka_consumer_group_metadata_t*, owned.
  explicit ConsumerGroupMetadata(void* handle) : _handle(handle) {}
  [[nodiscard]] void* handle() const { return _handle; }

 private:
  void* _handle = nullptr;
};

// Called on the owner thread when the group hands partitions to this member. Return the explicit
// starting offset for any of them (e.g. from RocksDB, where processors keep authoritative
// offsets); partitions left out start at the group's committed offset (or auto.offset.reset).
using AssignHandler = std::function<std::vector<TopicPartitionOffset>(std::span<const TopicPartition>)>;
// Called on the owner thread before partitions are taken away (commit or persist progress here).
using RevokeHandler = std::function<void(std::span<const TopicPartition>)>;

struct RebalanceHandlers {
  AssignHandler on_assign;  // may be empty
  RevokeHandler on_revoke;  // may be empty
};

struct Watermarks {
  std::int64_t low = 0;   // oldest retained offset
  std::int64_t high = 0;  // next offset to be written
};

class Consumer {
 public:
  [[nodiscard]] static Result<std::unique_ptr<Consumer>> create(ConsumerOptions options);
  ~Consumer();  // close()
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Joins the group (needs group_id) and follows its assignment. `handlers` run on the owner
  // thread inside poll_batch().
  [[nodiscard]] Status subscribe(const std::vector<std::string>& topics, RebalanceHandlers handlers = {});

  // Reads exactly these partitions from exactly these offsets (no group membership; commits
  // still go to group_id if set). Replaces any previous assignment.
  [[nodiscard]] Status assign(std::span<const TopicPartitionOffset> offsets);

  // Current assignment.
  [[nodiscard]] Result<std::vector<TopicPartition>> assignment() const;

  // Waits up to `timeout` for the first message, then takes what is already fetched, up to
  // `max_messages`. An empty vector means nothing arrived. A consumer error (e.g. unknown topic)
  // is returned as a Status — after the messages that preceded it have been handed out.
  [[nodiscard]] Result<std::vector<Message>> poll_batch(std::size_t max_messages,
                                                        std::chrono::milliseconds timeout);

  // Moves the fetch position of assigned partitions to these offsets (the next record returned
  // for each is the one at its offset) and drops records already fetched past them. Waits up to
  // `timeout` for the seek to take effect. For re-reading a batch whose processing was abandoned.
  [[nodiscard]] Status seek(std::span<const TopicPartitionOffset> offsets, std::chrono::milliseconds timeout);

  // Stops fetching these assigned partitions until resume(): for flow control between inputs
  // (the join holds back feedback that runs ahead of its traces). Records of them already fetched
  // may still be handed out by poll_batch.
  [[nodiscard]] Status pause(std::span<const TopicPartition> partitions);
  [[nodiscard]] Status resume(std::span<const TopicPartition> partitions);

  // How far the client has fetched `partition` and how far the log went at the last fetch
  // response, without asking the broker; nullopt until both are known.
  struct FetchProgress {
    std::int64_t position = 0;        // next offset the client will fetch
    std::int64_t high_watermark = 0;  // as of the last fetch response
  };
  [[nodiscard]] std::optional<FetchProgress> fetch_progress(const TopicPartition& partition) const;

  // Synchronously commits these offsets (NEXT offset to consume) for group_id.
  [[nodiscard]] Status commit(std::span<const TopicPartitionOffset> offsets);

  // Group's committed offsets for these partitions; offset -1001 when none is committed.
  [[nodiscard]] Result<std::vector<TopicPartitionOffset>> committed(std::span<const TopicPartition> partitions,
                                                                    std::chrono::milliseconds timeout);

  // Low/high watermarks from the partition leader.
  [[nodiscard]] Result<Watermarks> watermark_offsets(const TopicPartition& partition,
                                                     std::chrono::milliseconds timeout);

  // high watermark − committed offset (or − low watermark if nothing is committed).
  [[nodiscard]] Result<std::int64_t> lag(const TopicPartition& partition, std::chrono::milliseconds timeout);

  // For Producer::send_offsets_to_transaction.
  [[nodiscard]] Result<ConsumerGroupMetadata> group_metadata() const;

  // Leaves the group (running the revoke handler) and destroys the handle. Idempotent.
  Status close();

  struct Impl;

 private:
  explicit Consumer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> _impl;
};

}  // namespace tracefeed::kafka
