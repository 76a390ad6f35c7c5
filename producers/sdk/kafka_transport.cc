#include "producers/sdk/kafka_transport.h"

#include <algorithm>

#include "kafka/producer.h"

namespace tracefeed {

using namespace std::chrono_literals;

namespace {

// The record's timestamp: the envelope's time (Kafka's CreateTime is when the event was made),
// which also spares librdkafka a clock read per message. 0 (unknown or before 1970): now.
int64_t timestamp_ms(const OutgoingEvent& e) { return e.time > 0 ? e.time / 1'000'000 : 0; }

}  // namespace

// What send() needs per event without a lookup (the two topics, resolved once) and what the
// producer reports back to (the listener: accounting, the observer, waking blocked senders).
struct KafkaTransport::Internals final : kafka::DeliveryListener {
  explicit Internals(KafkaTransport& t) : transport(t) {}

  // Thread: the producer's poll thread (or the thread inside close). One call per batch of
  // delivery reports; the cookie is the monotonic enqueue time when an observer is set.
  void on_delivered(std::span<const kafka::CookieDelivery> batch) override {
    KafkaTransport& t = transport;
    uint64_t ok = 0;
    for (const auto& d : batch) {
      if (d.status.is_ok()) {
        ++ok;
      } else {
        std::lock_guard lock(t._mu);
        if (t._first_error.empty()) t._first_error = d.status.to_string();
      }
    }
    if (t._options.on_ack) {
      const int64_t now = t._clock.monotonic_ns();  // once per batch
      for (const auto& d : batch) t._options.on_ack(d.status, now - static_cast<int64_t>(d.cookie));
    }
    // Counted after the observer ran: whoever sees the counts move also sees the observer calls.
    t._acknowledged.fetch_add(ok);
    t._failed.fetch_add(batch.size() - ok);
    // Pairs with the check in send_blocking(): either the sender sees our increment or we see it
    // waiting.
    if (t._blocked_senders.load() > 0) {
      std::lock_guard lock(t._mu);
      t._room.notify_all();
    }
  }

  KafkaTransport& transport;
  kafka::TopicHandle traces, assessments;
};

Result<std::unique_ptr<KafkaTransport>> KafkaTransport::create(KafkaTransportOptions options, const Clock& clock) {
  if (options.max_buffered_events <= 0) return Status::invalid_argument("kafka transport max_buffered_events: must be > 0");
  std::unique_ptr<KafkaTransport> t(new KafkaTransport(std::move(options), clock));
  const KafkaTransportOptions& o = t->_options;
  kafka::ProducerOptions po;
  po.client.brokers = o.brokers;
  po.client.client_id = o.client_id;
  po.max_queued_messages = o.max_buffered_events;
  po.max_queued_kbytes = o.max_buffered_kbytes;
  po.linger_ms = o.linger_ms;
  po.message_timeout_ms = o.message_timeout_ms;
  po.listener = t->_in.get();
  po.client.properties = {
      {"batch.num.messages", std::to_string(o.batch_num_messages)},
      {"batch.size", std::to_string(o.batch_size_bytes)},
      {"compression.codec", o.compression},
  };
  for (const auto& [k, v] : o.properties) po.client.properties[k] = v;
  TF_ASSIGN_OR_RETURN(t->_producer, kafka::Producer::create(std::move(po)));
  TF_ASSIGN_OR_RETURN(t->_in->traces, t->_producer->topic(t->_topics.traces));
  TF_ASSIGN_OR_RETURN(t->_in->assessments, t->_producer->topic(t->_topics.assessments));
  return t;
}

KafkaTransport::KafkaTransport(KafkaTransportOptions options, const Clock& clock)
    : _options(std::move(options)),
      _clock(clock),
      _topics(Topics::with_prefix(_options.topic_prefix)),
      _in(std::make_unique<Internals>(*this)) {}

KafkaTransport::~KafkaTransport() { (void)close(10s); }

Status KafkaTransport::send(const OutgoingEvent& event) {
  // The latency clock is read only when someone observes it; it travels as the message's cookie.
  const uint64_t cookie = _options.on_ack ? static_cast<uint64_t>(std::max<int64_t>(0, _clock.monotonic_ns())) : 0;
  Status s = _producer->produce(event.type == EventType::trace ? _in->traces : _in->assessments, event.trace_id,
                                event.json, cookie, timestamp_ms(event));
  if (s.is_ok()) {
    _enqueued.fetch_add(1, std::memory_order_relaxed);
    return s;
  }
  if (s.code() != ErrorCode::unavailable || _options.on_full == BufferFullPolicy::error ||
      _closed.load(std::memory_order_acquire)) {
    return s;
  }
  return send_blocking(event, cookie);
}

Status KafkaTransport::send_blocking(const OutgoingEvent& event, uint64_t cookie) {
  const kafka::TopicHandle& topic = event.type == EventType::trace ? _in->traces : _in->assessments;
  const auto deadline = std::chrono::steady_clock::now() + _options.block_timeout;
  while (true) {
    const uint64_t done_before = _acknowledged.load() + _failed.load();
    Status s = _producer->produce(topic, event.trace_id, event.json, cookie, timestamp_ms(event));
    if (s.is_ok()) {
      _enqueued.fetch_add(1, std::memory_order_relaxed);
      return s;
    }
    if (s.code() != ErrorCode::unavailable || _closed.load(std::memory_order_acquire)) return s;
    // Buffer full: wait for a delivery report to make room.
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
  _closed.store(true, std::memory_order_release);
  if (!_producer) return Status::ok();  // create() failed before the producer existed
  // Producer::close purges what it could not deliver; the listener counts those as failed.
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
