#include "producers/sdk/kafka_transport.h"

#include <algorithm>

#include "kafka/producer.h"

namespace tracefeed {

using namespace std::chrono_literals;

Result<std::unique_ptr<KafkaTransport>> KafkaTransport::create(KafkaTransportOptions options, const Clock& clock) {
  if (options.max_buffered_events <= 0) return Status::invalid_argument("kafka transport max_buffered_events: must be > 0");
  kafka::ProducerOptions po;
  po.client.brokers = options.brokers;
  po.client.client_id = options.client_id;
  po.max_queued_messages = options.max_buffered_events;
  po.max_queued_kbytes = options.max_buffered_kbytes;
  po.linger_ms = options.linger_ms;
  po.message_timeout_ms = options.message_timeout_ms;
  po.client.properties = {
      {"batch.num.messages", std::to_string(options.batch_num_messages)},
      {"batch.size", std::to_string(options.batch_size_bytes)},
      {"compression.codec", options.compression},
  };
  for (const auto& [k, v] : options.properties) po.client.properties[k] = v;
  TF_ASSIGN_OR_RETURN(auto producer, kafka::Producer::create(std::move(po)));
  return std::unique_ptr<KafkaTransport>(new KafkaTransport(std::move(options), clock, std::move(producer)));
}

KafkaTransport::KafkaTransport(KafkaTransportOptions options, const Clock& clock,
                               std::unique_ptr<kafka::Producer> producer)
    : _options(std::move(options)),
      _clock(clock),
      _topics(Topics::with_prefix(_options.topic_prefix)),
      _producer(std::move(producer)) {}

KafkaTransport::~KafkaTransport() { (void)close(10s); }

void KafkaTransport::on_delivery(const Status& status, int64_t enqueued_ns) {
  if (status.is_ok()) {
    _acknowledged.fetch_add(1);
  } else {
    _failed.fetch_add(1);
    std::lock_guard lock(_mu);
    if (_first_error.empty()) _first_error = status.to_string();
  }
  if (_options.on_ack) _options.on_ack(status, _clock.monotonic_ns() - enqueued_ns);
  // Pairs with the check in send(): either the sender sees our increment or we see it waiting.
  if (_blocked_senders.load() > 0) {
    std::lock_guard lock(_mu);
    _room.notify_all();
  }
}

Status KafkaTransport::send(const OutgoingEvent& event) {
  const std::string& topic = event.type == EventType::trace ? _topics.traces : _topics.assessments;
  const auto deadline = std::chrono::steady_clock::now() + _options.block_timeout;
  while (true) {
    const uint64_t done_before = _acknowledged.load() + _failed.load();
    const int64_t t0 = _clock.monotonic_ns();
    Status s = _producer->produce(topic, event.trace_id, event.json, std::nullopt,
                                  [this, t0](const kafka::DeliveryReport& r) { on_delivery(r.status, t0); });
    if (s.is_ok()) {
      _enqueued.fetch_add(1, std::memory_order_relaxed);
      return s;
    }
    if (s.code() != ErrorCode::unavailable || _options.on_full == BufferFullPolicy::error) return s;
    // Buffer full and policy block: wait for a delivery report to make room.
    std::unique_lock lock(_mu);
    _blocked_senders.fetch_add(1);
    if (_acknowledged.load() + _failed.load() == done_before) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) {
        _blocked_senders.fetch_sub(1);
        return Status::unavailable("kafka transport: buffer full (" + std::to_string(_options.max_buffered_events) +
                                   " events) for " + std::to_string(_options.block_timeout.count()) + " ms");
      }
      // Capped so a closed producer (no more reports) is noticed too.
      _room.wait_for(lock, std::min<std::chrono::steady_clock::duration>(deadline - now, 100ms));
    }
    _blocked_senders.fetch_sub(1);
  }
}

Status KafkaTransport::flush(std::chrono::milliseconds timeout) { return _producer->flush(timeout); }

Status KafkaTransport::close(std::chrono::milliseconds timeout) {
  // Producer::close purges what it could not deliver; those callbacks count them as failed.
  return _producer->close(timeout);
}

TransportStats KafkaTransport::stats() const {
  TransportStats st;
  st.enqueued = _enqueued.load();
  st.acknowledged = _acknowledged.load();
  st.failed = _failed.load();
  std::lock_guard lock(_mu);
  st.first_error = _first_error;
  return st;
}

}  // namespace tracefeed
