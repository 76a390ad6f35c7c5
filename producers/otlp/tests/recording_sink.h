#pragma once
// A fake EventSink for tests: records what was published; answers with a scripted Status.

#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/event_sink.h"

namespace tracefeed::otlp::testing {

class RecordingSink final : public EventSink {
 public:
  std::vector<Status> publish(std::span<const Envelope> events) override {
    std::lock_guard lock(_mu);
    std::vector<Status> out;
    for (const auto& e : events) {
      ++_calls;
      if (!_next_status.is_ok()) {
        out.push_back(_next_status);
        continue;
      }
      // Idempotent by event_id, as the real sink.
      if (_ids.insert(e.event_id).second) _envelopes.push_back(e);
      out.push_back(Status::ok());
    }
    return out;
  }

  // Every later publish answers `s` for each envelope (ok to accept again).
  void fail_with(Status s) {
    std::lock_guard lock(_mu);
    _next_status = std::move(s);
  }
  std::vector<Envelope> envelopes() const {
    std::lock_guard lock(_mu);
    return _envelopes;
  }
  size_t calls() const {
    std::lock_guard lock(_mu);
    return _calls;
  }

 private:
  mutable std::mutex _mu;
  Status _next_status;
  std::set<std::string> _ids;
  std::vector<Envelope> _envelopes;
  size_t _calls = 0;
};

}  // namespace tracefeed::otlp::testing
