#include "producers/sdk/event_queue.h"

namespace tracefeed {

Status EventQueue::push(std::string_view json, int64_t now_ns, BufferFullPolicy policy,
                        std::chrono::milliseconds block_timeout) {
  if (json.size() > _max_bytes) {
    return {ErrorCode::payload_too_large, "event of " + std::to_string(json.size()) +
                                              " bytes is larger than the whole buffer (" + std::to_string(_max_bytes) +
                                              " bytes)"};
  }
  std::unique_lock lock(_mu);
  auto has_room = [&] { return _closed || (_items.size() < _max_events && _bytes + json.size() <= _max_bytes); };
  if (!has_room()) {
    if (policy == BufferFullPolicy::error ||
        !_not_full.wait_for(lock, block_timeout, has_room)) {
      return Status::unavailable("sdk buffer full (" + std::to_string(_items.size()) + " events, " +
                                 std::to_string(_bytes) + " bytes); retry later");
    }
  }
  if (_closed) return Status::unavailable("sdk transport closed");
  _items.push_back(QueuedEvent{std::string(json), now_ns});
  _bytes += json.size();
  lock.unlock();
  _not_empty.notify_one();
  return Status::ok();
}

size_t EventQueue::pop_batch(std::vector<QueuedEvent>& out, size_t max_events, size_t max_bytes,
                             std::chrono::milliseconds wait, std::chrono::milliseconds linger) {
  std::unique_lock lock(_mu);
  if (!_not_empty.wait_for(lock, wait, [&] { return _closed || !_items.empty(); })) return 0;
  if (_items.empty()) return 0;
  if (linger.count() > 0) {
    _not_empty.wait_for(lock, linger, [&] { return _closed || _urgent > 0 || _items.size() >= max_events || _bytes >= max_bytes; });
  }
  size_t n = 0, batch_bytes = 0;
  while (!_items.empty() && n < max_events) {
    const size_t sz = _items.front().json.size();
    if (n > 0 && batch_bytes + sz > max_bytes) break;
    batch_bytes += sz;
    _bytes -= sz;
    out.push_back(std::move(_items.front()));
    _items.pop_front();
    ++n;
  }
  lock.unlock();
  _not_full.notify_all();
  return n;
}

void EventQueue::add_urgent(int delta) {
  {
    std::lock_guard lock(_mu);
    _urgent += delta;
  }
  _not_empty.notify_all();
}

void EventQueue::close() {
  {
    std::lock_guard lock(_mu);
    _closed = true;
  }
  _not_empty.notify_all();
  _not_full.notify_all();
}

bool EventQueue::closed() const {
  std::lock_guard lock(_mu);
  return _closed;
}

std::vector<QueuedEvent> EventQueue::take_all() {
  std::vector<QueuedEvent> out;
  {
    std::lock_guard lock(_mu);
    out.assign(std::make_move_iterator(_items.begin()), std::make_move_iterator(_items.end()));
    _items.clear();
    _bytes = 0;
  }
  _not_full.notify_all();
  return out;
}

size_t EventQueue::size() const {
  std::lock_guard lock(_mu);
  return _items.size();
}

size_t EventQueue::bytes() const {
  std::lock_guard lock(_mu);
  return _bytes;
}

}  // namespace tracefeed
