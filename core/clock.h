#pragma once
// Injectable time. Production code takes a Clock& in its constructor; tests pass a ManualClock
// and own time (no sleeps in tests).

#include <atomic>
#include <chrono>
#include <cstdint>

namespace tracefeed {

class Clock {
 public:
  using time_point = std::chrono::system_clock::time_point;
  virtual ~Clock() = default;
  // Wall-clock time (timestamps in events, lease expiry). Thread-safe.
  virtual time_point now() const = 0;
  // Monotonic nanoseconds for measuring durations. Thread-safe.
  virtual int64_t monotonic_ns() const = 0;
};

class SystemClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::system_clock::now(); }
  int64_t monotonic_ns() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  // The process-wide system clock, for wiring in main(); libraries take a Clock&.
  static SystemClock& instance() {
    static SystemClock clock;
    return clock;
  }
};

// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_unix_ms = 1'700'000'000'000) : _ns(start_unix_ms * 1'000'000) {}
  time_point now() const override {
    return time_point(std::chrono::duration_cast<time_point::duration>(
        std::chrono::nanoseconds(_ns.load(std::memory_order_relaxed))));
  }
  int64_t monotonic_ns() const override { return _ns.load(std::memory_order_relaxed); }
  void advance(std::chrono::nanoseconds d) { _ns.fetch_add(d.count(), std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> _ns;
};

}  // namespace tracefeed
