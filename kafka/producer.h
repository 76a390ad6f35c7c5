#pragma once
// RAII Kafka producer: idempotent (enable.idempotence=true, acks=all), Java-compatible key
// partitioning (partitioner=murmur2_random: the same trace_id lands on the same partition from
// every client, Java or C++), a bounded local queue and delivery reports surfaced as Status.
//
// Thread model: every method is thread-safe (librdkafka's producer is). The Producer owns one
// background "poll thread" that takes delivery reports from librdkafka in batches (its event
// API); DeliveryCallbacks and the DeliveryListener run on that thread and must be short and must
// not call back into the Producer's blocking methods (flush, close, produce_batch,
// transactions). flush() returns only after they ran. close() (also run by the destructor)
// flushes, then purges whatever is still queued so that every callback fires exactly once —
// never a silent drop.
//
// Two ways to produce: produce(topic name, ..., DeliveryCallback) for occasional messages, and
// produce(TopicHandle, ..., cookie) with a DeliveryListener for high rates (the SDK): no
// allocation per message, no topic lookup by name, one listener call per batch of reports.
//
// Transactions (only with ProducerOptions::transactional_id set) map librdkafka's error classes
// onto ErrorCode:
//   - retriable   → ErrorCode::timeout (timed out) or ErrorCode::unavailable: call the same
//                   method again.
//   - abortable   → ErrorCode::conflict, message prefixed "abortable: ": call
//                   abort_transaction() and redo the whole transaction.
//   - fatal       → ErrorCode::internal, message prefixed "fatal: " (e.g. fenced by a newer
//                   instance with the same transactional.id): destroy this Producer and create
//                   a new one.
//   - anything else (bad state, bad argument) → ErrorCode::invalid_argument.

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

class ConsumerGroupMetadata;
class DeliveryListener;

struct ProducerOptions {
  ClientOptions client;
  // Bound on messages waiting in the local queue (queue.buffering.max.messages). When full,
  // produce() returns ErrorCode::unavailable at once; it never blocks and never drops.
  // Default: 100000.
  int max_queued_messages = 100000;
  // Bound on bytes waiting in the local queue (queue.buffering.max.kbytes). Default: 256 MiB.
  int max_queued_kbytes = 256 * 1024;
  // linger.ms: how long to wait to fill a batch. Default: 5.
  int linger_ms = 5;
  // message.timeout.ms: a message not acknowledged by then fails with ErrorCode::timeout.
  // Default: 30000.
  int message_timeout_ms = 30000;
  // Setting this makes the producer transactional (call init_transactions() first).
  // Default: empty (not transactional).
  std::string transactional_id;
  // transaction.timeout.ms. Default: 60000.
  int transaction_timeout_ms = 60000;
  // Receives the outcomes of produce(TopicHandle, ..., cookie); borrowed, must outlive the
  // Producer. Default: none (then those outcomes are only counted by flush/queued).
  DeliveryListener* listener = nullptr;
};

// Outcome of one message: ok with its partition/offset, or why it failed.
struct DeliveryReport {
  Status status;
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
};

// Runs once per message on the Producer's poll thread.
using DeliveryCallback = std::function<void(const DeliveryReport&)>;

// The outcome of one message produced with a cookie (the allocation-free path below).
struct CookieDelivery {
  std::uint64_t cookie = 0;  // what produce(TopicHandle, ...) was given
  Status status;             // ok, or why it failed (the same mapping as DeliveryReport)
};

// Receives the outcomes of produce(TopicHandle, key, value, cookie) in batches: one call per
// batch of delivery reports librdkafka hands over (a produce response's worth, often
// thousands), so a high-rate producer pays for one virtual call, not one allocation and one
// std::function per message. Thread: the poll thread (or the thread inside close()); the same
// rules as DeliveryCallback (short, no blocking Producer calls). Must outlive the Producer.
class DeliveryListener {
 public:
  virtual void on_delivered(std::span<const CookieDelivery> batch) = 0;

 protected:
  ~DeliveryListener() = default;
};

class Producer;

// A topic resolved once (Producer::topic), so that producing to it skips librdkafka's
// per-message lookup of the topic by name (a lock and a hash probe). Cheap to copy; valid as
// long as the Producer that made it (after close(), producing through it returns unavailable).
class TopicHandle {
 public:
  TopicHandle() = default;
  [[nodiscard]] bool valid() const noexcept { return _topic != nullptr; }
  [[nodiscard]] const std::string& name() const noexcept;

 private:
  friend class Producer;
  struct Entry;
  explicit TopicHandle(const Entry* topic) : _topic(topic) {}
  const Entry* _topic = nullptr;
};

// One message of produce_batch. The views must stay valid for the duration of the call
// (librdkafka copies the bytes at enqueue).
struct ProduceRecord {
  std::string_view topic;
  std::string_view key;
  std::string_view value;
  std::optional<std::int32_t> partition;  // unset: murmur2(key) like Java
};

class Producer {
 public:
  [[nodiscard]] static Result<std::unique_ptr<Producer>> create(ProducerOptions options);
  ~Producer();  // close(10 s)
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Enqueues one message; returns once librdkafka copied it. An empty key is sent as a null key
  // (random partition). `on_delivery` (may be empty) runs
  // later on the poll thread with the broker's verdict. Errors returned here mean the message
  // was NOT enqueued and `on_delivery` will not run: unavailable (local queue full — retry
  // later / answer 503), payload_too_large, not_found (unknown topic/partition), invalid_argument.
  [[nodiscard]] Status produce(std::string_view topic, std::string_view key, std::string_view value,
                               std::optional<std::int32_t> partition = std::nullopt,
                               DeliveryCallback on_delivery = {});

  // Resolves `topic` once for the fast produce() below. Thread-safe; asking twice for the same
  // name returns the same handle. Errors: invalid_argument (empty name), unavailable (closed).
  [[nodiscard]] Result<TopicHandle> topic(std::string_view topic);

  // The high-rate path: like produce() above (same errors, same partitioning by murmur2(key),
  // the bytes copied before it returns), but without a per-message allocation: the outcome goes
  // to ProducerOptions::listener in a batch, tagged with `cookie` (< 2^63; e.g. the enqueue
  // time, for latency). `timestamp_ms` is the record's timestamp (Unix ms; 0: librdkafka reads
  // the clock). An error returned here means the message was NOT enqueued and no outcome will
  // be reported.
  [[nodiscard]] Status produce(const TopicHandle& topic, std::string_view key, std::string_view value,
                               std::uint64_t cookie, std::int64_t timestamp_ms = 0);

  // Enqueues every record, then blocks (calling thread) until each is acknowledged by the
  // brokers or `timeout` passes. Returns one DeliveryReport per record, in order. A record that
  // could not be enqueued carries that error (e.g. unavailable on queue full); one not
  // acknowledged in time carries ErrorCode::timeout (it may still be delivered later). For the
  // gateway: answer 202 only if every report is ok.
  [[nodiscard]] std::vector<DeliveryReport> produce_batch(std::span<const ProduceRecord> records,
                                                          std::chrono::milliseconds timeout);

  // Waits until the local queue is empty and every delivery callback ran; timeout otherwise.
  [[nodiscard]] Status flush(std::chrono::milliseconds timeout);

  // Flushes for up to `timeout`, purges what is left (their callbacks run with unavailable),
  // stops the poll thread and destroys the handle. Idempotent. Later calls to produce return
  // unavailable.
  Status close(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Messages waiting locally or in flight (rd_kafka_outq_len).
  [[nodiscard]] int queued() const;

  // ---- transactions (see the error-class mapping above) ----
  [[nodiscard]] Status init_transactions(std::chrono::milliseconds timeout);
  [[nodiscard]] Status begin_transaction();
  // Stores consumer offsets (next offset to consume) atomically with the transaction.
  [[nodiscard]] Status send_offsets_to_transaction(std::span<const TopicPartitionOffset> offsets,
                                                   const ConsumerGroupMetadata& group,
                                                   std::chrono::milliseconds timeout);
  [[nodiscard]] Status commit_transaction(std::chrono::milliseconds timeout);
  [[nodiscard]] Status abort_transaction(std::chrono::milliseconds timeout);

  // The producer's fatal error (ErrorCode::internal) if it hit one, else ok.
  [[nodiscard]] Status fatal_error() const;

  struct Impl;

 private:
  explicit Producer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> _impl;
};

}  // namespace tracefeed::kafka
