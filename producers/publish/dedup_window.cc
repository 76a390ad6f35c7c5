#include "producers/publish/dedup_window.h"

#include "core/hash.h"
#include "core/ids.h"

namespace tracefeed::publish {

DedupWindow::Key DedupWindow::key_of(std::string_view event_id) noexcept {
  // Two independent 64-bit hashes: a false "already acknowledged" would lose an event, so the
  // collision odds must be negligible even with millions of ids in the window.
  return Key{xxh64(event_id, 0x7472616365666565ull), xxh64(event_id, 0x6465647570303031ull)};
}

DedupWindow::DedupWindow(DedupWindowOptions options, Clock& clock) : _options(options), _clock(clock) {}

Result<DedupWindow::Claim> DedupWindow::claim(const Key& key, std::chrono::steady_clock::time_point deadline) {
  if (!enabled()) return Claim::owner;
  std::unique_lock lock(_mu);
  evict_locked(_clock.monotonic_ns());
  while (true) {
    auto it = _entries.find(key);
    if (it == _entries.end()) {
      _entries.emplace(key, Entry{});
      return Claim::owner;
    }
    if (!it->second.in_flight) return Claim::acknowledged;
    if (_cv.wait_until(lock, deadline) == std::cv_status::timeout) {
      auto again = _entries.find(key);
      if (again == _entries.end()) {
        _entries.emplace(key, Entry{});
        return Claim::owner;
      }
      if (!again->second.in_flight) return Claim::acknowledged;
      return Status::unavailable("event_id: the same event is still being published by another request; retry later");
    }
  }
}

void DedupWindow::finish(const Key& key, const Status& outcome) {
  if (!enabled()) return;
  {
    std::lock_guard lock(_mu);
    auto it = _entries.find(key);
    if (it == _entries.end()) return;
    if (!outcome.is_ok()) {
      _entries.erase(it);
    } else if (it->second.in_flight) {
      it->second.in_flight = false;
      it->second.generation = _next_generation++;
      const int64_t now = _clock.monotonic_ns();
      _order.push_back(Aged{key, it->second.generation, now});
      ++_acked;
      evict_locked(now);
    }
  }
  _cv.notify_all();
}

void DedupWindow::evict_locked(int64_t now_ns) {
  const int64_t ttl_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(_options.ttl).count();
  while (!_order.empty() && (_acked > _options.capacity || now_ns - _order.front().acked_ns > ttl_ns)) {
    const Aged& old = _order.front();
    auto it = _entries.find(old.key);
    if (it != _entries.end() && !it->second.in_flight && it->second.generation == old.generation) {
      _entries.erase(it);
    }
    --_acked;
    _order.pop_front();
  }
}

size_t DedupWindow::size() const {
  std::lock_guard lock(_mu);
  return _acked;
}

}  // namespace tracefeed::publish
