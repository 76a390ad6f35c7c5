#pragma once
// EventQueue: the bounded buffer between the threads that call HttpTransport::send() and its one
// sender thread. Bounded by event count and by bytes; what push() does when full is the caller's
// BufferFullPolicy (block up to a timeout, or fail at once) — never a silent drop.
//
// Threads: push() from any thread; pop_batch() from the single consumer thread; the rest from any.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "producers/sdk/transport.h"

namespace tracefeed {

struct QueuedEvent {
  std::string json;
  int64_t enqueued_ns = 0;  // Clock::monotonic_ns() at push
};

class EventQueue {
 public:
  EventQueue(size_t max_events, size_t max_bytes) : _max_events(max_events), _max_bytes(max_bytes) {}

  // Copies `json` in. Errors: unavailable (full under `policy`, after `block_timeout` for block;
  // or closed), payload_too_large (one event larger than the whole byte bound).
  [[nodiscard]] Status push(std::string_view json, int64_t now_ns, BufferFullPolicy policy,
                            std::chrono::milliseconds block_timeout);

  // Consumer thread. Waits up to `wait` for a first event, then up to `linger` more for the batch
  // to fill (skipped when urgent or closed). Moves up to `max_events` / `max_bytes` (at least one
  // event) into `out`; returns how many. 0 means nothing arrived in time (or closed and empty).
  size_t pop_batch(std::vector<QueuedEvent>& out, size_t max_events, size_t max_bytes,
                   std::chrono::milliseconds wait, std::chrono::milliseconds linger);

  // While urgent (a flush is waiting), pop_batch does not linger. Counted, so flushes nest.
  void add_urgent(int delta);
  // Wakes everyone; later pushes fail with unavailable. What is queued stays for take_all().
  void close();
  [[nodiscard]] bool closed() const;
  // Everything still queued (after close(), to account for it as failed).
  [[nodiscard]] std::vector<QueuedEvent> take_all();
  [[nodiscard]] size_t size() const;
  [[nodiscard]] size_t bytes() const;

 private:
  const size_t _max_events;
  const size_t _max_bytes;
  mutable std::mutex _mu;
  std::condition_variable _not_empty;  // consumer waits here
  std::condition_variable _not_full;   // blocked producers wait here
  std::deque<QueuedEvent> _items;
  size_t _bytes = 0;
  int _urgent = 0;
  bool _closed = false;
};

}  // namespace tracefeed
