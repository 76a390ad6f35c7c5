#pragma once
// A Transport for unit tests: keeps every envelope it takes, up to `capacity` (then unavailable,
// like a full buffer under BufferFullPolicy::error). Thread-safe.

#include <mutex>
#include <string>
#include <vector>

#include "producers/sdk/transport.h"

namespace tracefeed::testing {

class FakeTransport final : public Transport {
 public:
  struct Sent {
    EventType type;
    std::string event_id, trace_id, json;
  };

  explicit FakeTransport(size_t capacity = SIZE_MAX) : _capacity(capacity) {}

  Status send(const OutgoingEvent& e) override {
    std::lock_guard lock(_mu);
    if (_closed) return Status::unavailable("fake transport closed");
    if (_sent.size() >= _capacity) return Status::unavailable("fake transport full");
    _sent.push_back({e.type, std::string(e.event_id), std::string(e.trace_id), std::string(e.json)});
    return Status::ok();
  }
  Status flush(std::chrono::milliseconds) override { return Status::ok(); }
  Status close(std::chrono::milliseconds) override {
    std::lock_guard lock(_mu);
    _closed = true;
    return Status::ok();
  }
  TransportStats stats() const override {
    std::lock_guard lock(_mu);
    TransportStats s;
    s.enqueued = s.acknowledged = _sent.size();
    return s;
  }
  std::vector<Sent> sent() const {
    std::lock_guard lock(_mu);
    return _sent;
  }

 private:
  const size_t _capacity;
  mutable std::mutex _mu;
  std::vector<Sent> _sent;
  bool _closed = false;
};

}  // namespace tracefeed::testing
