#pragma once
// KafkaTransport: the SDK straight to Kafka. Envelopes go to `<prefix>traces` (type trace) or
// `<prefix>assessments` (every assessment type), keyed by trace_id with the murmur2 partitioner,
// through kafka::Producer (idempotent, acks=all). Batching is librdkafka's (linger, batch size,
// compression below); the bounded buffer is librdkafka's local queue (max_buffered_events /
// max_buffered_kbytes).
//
// Buffer full: with BufferFullPolicy::block, send() waits (on a condition variable signalled by
// delivery reports, no polling sleeps) up to block_timeout for room, then returns unavailable;
// with ::error it returns unavailable at once. Never a silent drop.
//
// Threads: send/flush/close/stats are thread-safe. The AckObserver and the internal accounting run
// on the producer's poll thread.
//
// Cost per event: send() is one librdkafka enqueue (topics resolved once, no allocation of ours,
// the bytes copied once) plus one monotonic clock read when an AckObserver is set (the
// enqueue→ack latency rides along in the message's cookie). Delivery reports come back in
// batches: one clock read and two counter updates per batch, then the observer per event.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/clock.h"
#include "core/topics.h"
#include "producers/sdk/transport.h"

namespace tracefeed {
namespace kafka {
class Producer;
}

struct KafkaTransportOptions {
  // Comma-separated host:port list. Required.
  std::string brokers;
  // Topic name prefix (kafka.topic_prefix). Default: "tracefeed.".
  std::string topic_prefix = "tracefeed.";
  // client.id. Default: "tracefeed-sdk".
  std::string client_id = "tracefeed-sdk";
  // Bound on events waiting locally or in flight. Default: 100000.
  int max_buffered_events = 100000;
  // Bound on their bytes. Default: 64 MiB.
  int max_buffered_kbytes = 64 * 1024;
  // What send() does when the buffer is full. Default: block.
  BufferFullPolicy on_full = BufferFullPolicy::block;
  // How long send() blocks for room under BufferFullPolicy::block. Default: 5 s.
  std::chrono::milliseconds block_timeout = std::chrono::seconds(5);
  // linger.ms: wait this long to fill a batch. Default: 5.
  int linger_ms = 5;
  // batch.num.messages. Default: 10000.
  int batch_num_messages = 10000;
  // batch.size in bytes. Default: 1 MiB.
  int batch_size_bytes = 1 << 20;
  // compression.codec: none, gzip, snappy, lz4, zstd. Default: "lz4" (JSON compresses ~3-5x:
  // less network, disk and room in the embedded broker's 5 MiB per partition). lz4 costs
  // librdkafka ~1 µs of CPU per 500 B event; with the broker on the same host, or when the client
  // is CPU-bound, "none" carries more events/s (docs/benchmarks.md).
  std::string compression = "lz4";
  // message.timeout.ms: an event not acknowledged by then fails. Default: 30000.
  int message_timeout_ms = 30000;
  // Extra librdkafka properties (security.*, sasl.*, tuning); applied last. Default: empty.
  std::map<std::string, std::string> properties;
  // Optional; see transport.h.
  AckObserver on_ack;
};

class KafkaTransport final : public Transport {
 public:
  [[nodiscard]] static Result<std::unique_ptr<KafkaTransport>> create(KafkaTransportOptions options,
                                                                      const Clock& clock = SystemClock::instance());
  ~KafkaTransport() override;  // close(10 s)

  [[nodiscard]] Status send(const OutgoingEvent& event) override;
  [[nodiscard]] Status flush(std::chrono::milliseconds timeout) override;
  Status close(std::chrono::milliseconds timeout) override;
  [[nodiscard]] TransportStats stats() const override;

  const Topics& topics() const noexcept { return _topics; }

 private:
  struct Internals;  // the producer's topic handles and delivery listener (kafka/ stays private)

  KafkaTransport(KafkaTransportOptions options, const Clock& clock);
  // Buffer full under BufferFullPolicy::block: waits for delivery reports to make room.
  Status send_blocking(const OutgoingEvent& event, uint64_t cookie);

  const KafkaTransportOptions _options;
  const Clock& _clock;
  const Topics _topics;
  std::unique_ptr<Internals> _in;  // declared before _producer: the producer's listener lives here
  std::unique_ptr<kafka::Producer> _producer;

  std::atomic<bool> _closed{false};
  std::atomic<uint64_t> _enqueued{0}, _acknowledged{0}, _failed{0};
  std::atomic<int> _blocked_senders{0};  // senders waiting for room; delivery reports wake them
  mutable std::mutex _mu;                 // guards _first_error and pairs with _room
  std::condition_variable _room;
  std::string _first_error;
};

}  // namespace tracefeed
