#pragma once
// RAII Kafka producer: idempotent (enable.idempotence=true, acks=all), Java-compatible key
// partitioning (partitioner=murmur2_random: the same trace_id lands on the same partition from
// every client, Java or C++), a bounded local queue and delivery reports surfaced as Status.
//
// Thread model: every method is thread-safe (librdkafka's producer is). The Producer owns one
// background "poll thread" that serves delivery reports; DeliveryCallbacks run on that thread and
// must be short and must not call back into the Producer's blocking methods (flush, close,
// produce_batch, transactions). close() (also run by the destructor) flushes, then purges
// whatever is still queued so that every callback fires exactly once — never a silent drop.
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
