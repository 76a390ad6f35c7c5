#pragma once
// KafkaEventSink: the production EventSink. Serializes each envelope with core's writer, sends it
// to its topic (trace → traces; assessment, assessment_update, assessment_delete → assessments)
// keyed by trace_id (the producer partitions with murmur2, like Java clients), waits for the
// brokers' acknowledgements and returns one Status per envelope. A bounded DedupWindow of
// recently acknowledged event ids makes client retries publish nothing twice.
//
// Also a DeadLetterSink: rejected input can be recorded on the dead-letter topic as
// {reason, error_code, message, raw (truncated), time}.
//
// Metrics (when given a metrics::Metrics): tracefeed_events_ingested_total{type} counts every
// envelope newly acknowledged by Kafka — every ingestion path (native, MLflow, OTLP) publishes
// here, and a retry acknowledged again from the dedup window is not counted twice;
// tracefeed_events_rejected_total{reason} counts envelopes this sink could not publish, as
// reason="unavailable" (not acknowledged: a retry may succeed) or "publish_failed" (refused, e.g.
// too large) — the gateway's RejectReason names. Handles are resolved once in the constructor:
// a publish() call adds to at most six counters, once per call, not once per event.
//
// Thread: publish() and dead_letter() are thread-safe and run on the caller's thread (HTTP
// workers); publish() blocks until every record is acknowledged or fails (ack_timeout). The
// Producer, Clock, Metrics and this sink are owned by the wiring (apps/runtime.cc); the producer
// and the metrics must outlive the sink.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/event_sink.h"
#include "core/topics.h"
#include "producers/publish/dedup_window.h"

namespace tracefeed::kafka {
class Producer;
}
namespace tracefeed::metrics {
class Metrics;
}
namespace prometheus {
class Counter;
}

namespace tracefeed::publish {

// Where rejected input goes for later inspection. Implementations must not block for long and
// must never fail the request that was rejected: recording is best effort and counted.
class DeadLetterSink {
 public:
  virtual ~DeadLetterSink() = default;
  // `reason` is a short machine word ("invalid_event", "malformed_body", ...); `error` is what the
  // client was told; `raw` the refused bytes (the sink truncates them). Thread-safe.
  virtual void dead_letter(std::string_view reason, const Status& error, std::string_view raw) = 0;
};

struct KafkaEventSinkOptions {
  DedupWindowOptions dedup;
  // Longest wait for the brokers' acknowledgement of one publish() call; records not
  // acknowledged by then are reported unavailable (they may still land: the dedup window does
  // not remember them, and the processors dedupe by event_id). Default: 30 s.
  std::chrono::milliseconds ack_timeout{30000};
  // Record rejected input on the dead-letter topic. Default: true.
  bool dead_letter_enabled = true;
  // Longest `raw` kept in a dead-letter record, in bytes (cut on a UTF-8 boundary). Default: 4 KiB.
  size_t dead_letter_raw_max_bytes = 4096;
};

// Counters readable by a metrics sink at any time (relaxed atomics).
struct KafkaEventSinkStats {
  std::atomic<uint64_t> produced{0};            // records acknowledged by Kafka
  std::atomic<uint64_t> deduplicated{0};        // envelopes acknowledged again without producing
  std::atomic<uint64_t> failed{0};              // envelopes answered with an error
  std::atomic<uint64_t> dead_lettered{0};       // dead-letter records enqueued
  std::atomic<uint64_t> dead_letter_dropped{0}; // dead-letter records not enqueued (queue full)
};

class KafkaEventSink final : public EventSink, public DeadLetterSink {
 public:
  // `metrics` may be null (no Prometheus counting; stats() still counts).
  KafkaEventSink(kafka::Producer& producer, Topics topics, Clock& clock, KafkaEventSinkOptions options = {},
                 metrics::Metrics* metrics = nullptr);

  [[nodiscard]] std::vector<Status> publish(std::span<const Envelope> events) override;
  void dead_letter(std::string_view reason, const Status& error, std::string_view raw) override;

  [[nodiscard]] const KafkaEventSinkStats& stats() const noexcept { return _stats; }
  [[nodiscard]] const DedupWindow& dedup_window() const noexcept { return _dedup; }

  // The topic an envelope of `type` goes to.
  [[nodiscard]] const std::string& topic_for(EventType type) const noexcept;

 private:
  kafka::Producer& _producer;
  Topics _topics;
  Clock& _clock;
  KafkaEventSinkOptions _options;
  DedupWindow _dedup;
  KafkaEventSinkStats _stats;
  // Prometheus handles, null without metrics: ingested by EventType, and the two reject reasons.
  prometheus::Counter* _ingested[4] = {};
  prometheus::Counter* _rejected_unavailable = nullptr;
  prometheus::Counter* _rejected_failed = nullptr;
};

// The Status an envelope gets from a delivery report's error: unavailable for everything a retry
// may fix (queue full, broker down, timeout), the original code otherwise (e.g. too large).
[[nodiscard]] Status publish_status_from_delivery(const Status& delivery);

}  // namespace tracefeed::publish
