#pragma once
// Transport: where the SDK's serialized event envelopes go. Two production implementations —
// KafkaTransport (straight to the topics, kafka_transport.h) and HttpTransport (to the gateway's
// POST /api/v1/events, http_transport.h) — and fakes in tests.
//
// Contract for every implementation:
//   - send() is thread-safe and copies what it needs from the views before returning.
//   - Buffers are bounded. What happens when full is the transport's BufferFullPolicy: block the
//     caller up to a timeout, or fail at once; either way the caller gets a non-ok Status and
//     the event is NOT taken. Never a silent drop.
//   - An event that was taken (send() returned ok) ends in exactly one AckObserver call and is
//     counted in exactly one of stats().acknowledged / stats().failed.
//   - Every envelope carries an event_id, so resending it (HTTP retries, librdkafka's idempotent
//     retries) is applied once downstream.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/model.h"
#include "core/result.h"

namespace tracefeed {

// One serialized envelope on its way out. Views are valid only during send().
struct OutgoingEvent {
  EventType type = EventType::trace;
  std::string_view event_id;
  std::string_view trace_id;  // the Kafka key: every event of a trace lands on one partition
  std::string_view json;      // the whole envelope, one JSON object, no newline
  UnixNanos time = 0;         // the envelope's "time"; KafkaTransport stamps the record with it (0: now)
};

// What send() does when the transport's bounded buffer is full.
enum class BufferFullPolicy {
  block,  // wait up to the transport's block_timeout for room, then return unavailable
  error,  // return unavailable at once
};

// Called once per taken event when its fate is known: ok (acknowledged by Kafka / accepted by the
// gateway) or the error. `enqueue_to_ack_ns` is measured from send() to the verdict. Runs on the
// transport's background thread (librdkafka's poll thread / the HTTP sender thread): keep it short
// and do not call back into the transport.
using AckObserver = std::function<void(const Status& status, int64_t enqueue_to_ack_ns)>;

struct TransportStats {
  uint64_t enqueued = 0;      // taken by send()
  uint64_t acknowledged = 0;  // confirmed delivered
  uint64_t failed = 0;        // taken, then definitively not delivered (rejected, timed out, closed)
  uint64_t retries = 0;       // HTTP batches re-sent (Kafka retries are librdkafka's, not counted)
  int64_t last_retry_delay_ms = -1;  // HTTP: the last back-off waited (Retry-After or computed); -1 = none
  std::string first_error;    // first failure, for diagnostics; empty when none
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Takes one event. Thread-safe. Errors: unavailable (buffer full, see BufferFullPolicy, or
  // closed), invalid_argument / payload_too_large (this event can never be sent).
  [[nodiscard]] virtual Status send(const OutgoingEvent& event) = 0;
  // Blocks until every taken event has its verdict, or `timeout` passes (→ timeout). Thread-safe.
  [[nodiscard]] virtual Status flush(std::chrono::milliseconds timeout) = 0;
  // Flushes for up to `timeout`, then stops background work; events still pending fail (counted,
  // observed). Idempotent; send() after close() returns unavailable. Not ok when anything pending
  // was dropped by the close.
  virtual Status close(std::chrono::milliseconds timeout) = 0;
  [[nodiscard]] virtual TransportStats stats() const = 0;
};

}  // namespace tracefeed
