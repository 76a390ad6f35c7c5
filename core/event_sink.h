#pragma once
// Where validated events go. The gateway's endpoints (native, MLflow-compatible, OTLP) and the
// tools (emit, loadgen) publish through this interface; production wires the Kafka-backed
// implementation (producers/publish), tests wire a fake.

#include <span>
#include <vector>

#include "core/model.h"
#include "core/result.h"

namespace tracefeed {

class EventSink {
 public:
  virtual ~EventSink() = default;

  // Publishes every envelope and blocks until each is durably accepted (acknowledged by Kafka)
  // or has failed. Returns one Status per envelope, in order: ok means it will never be lost;
  // unavailable means try again later (queue full, broker down: HTTP 503 + Retry-After).
  // An envelope whose event_id was already published is acknowledged again without being
  // written twice (event_id is the idempotency key). Thread-safe.
  [[nodiscard]] virtual std::vector<Status> publish(std::span<const Envelope> events) = 0;
};

}  // namespace tracefeed
