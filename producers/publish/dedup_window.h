#pragma once
// A bounded, thread-safe window of recently acknowledged event ids: the gateway's first line of
// idempotency (the processors dedupe again downstream, so this window only has to catch the
// common case — a client retrying within minutes).
//
// Each event id moves through: absent → in flight (one publisher owns it) → acknowledged (kept
// until it is older than `ttl` or pushed out by `capacity` newer ones) or back to absent (its
// publish failed, so a retry must produce it again).
//
// Concurrent duplicates: a second publisher that claims an id already in flight waits (up to its
// deadline) for the owner's outcome instead of producing a second copy: acknowledged → it is
// acknowledged too; failed → the waiter becomes the owner and publishes it itself. Ids are stored as a 128-bit hash, not the
// string: ~60 bytes per entry, and a false match needs a 128-bit collision.
//
// Thread: every method is thread-safe (one mutex; waiters block on a condition variable).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"
#include "core/result.h"

namespace tracefeed::publish {

struct DedupWindowOptions {
  // Acknowledged ids kept at most; the oldest are forgotten first. 0 disables deduplication.
  // Default: 1,000,000 (about 60 MiB when full).
  size_t capacity = 1'000'000;
  // Acknowledged ids older than this are forgotten. Default: 10 minutes.
  std::chrono::milliseconds ttl{std::chrono::minutes(10)};
};

class DedupWindow {
 public:
  struct Key {
    uint64_t hi = 0, lo = 0;
    friend bool operator==(const Key&, const Key&) = default;
  };
  static Key key_of(std::string_view event_id) noexcept;

  enum class Claim : uint8_t {
    owner,         // the caller must publish, then call finish()
    acknowledged,  // already acknowledged: acknowledge again, publish nothing
  };

  DedupWindow(DedupWindowOptions options, Clock& clock);

  // Claims `key`. Blocks while another publisher has it in flight, until that one finishes or
  // `deadline` passes (→ unavailable).
  [[nodiscard]] Result<Claim> claim(const Key& key, std::chrono::steady_clock::time_point deadline);
  // Ends an owner claim: ok → remembered as acknowledged; error → forgotten (a waiter takes over).
  void finish(const Key& key, const Status& outcome);

  // Acknowledged ids currently remembered (for tests and metrics).
  [[nodiscard]] size_t size() const;
  [[nodiscard]] bool enabled() const noexcept { return _options.capacity > 0; }

 private:
  struct KeyHash {
    size_t operator()(const Key& k) const noexcept { return static_cast<size_t>(k.lo ^ (k.hi * 0x9E3779B97F4A7C15ull)); }
  };
  struct Entry {
    bool in_flight = true;
    uint64_t generation = 0;   // matches the _order entry that may evict it
  };
  struct Aged {
    Key key;
    uint64_t generation;
    int64_t acked_ns;
  };
  void evict_locked(int64_t now_ns);

  DedupWindowOptions _options;
  Clock& _clock;
  mutable std::mutex _mu;
  std::condition_variable _cv;
  std::unordered_map<Key, Entry, KeyHash> _entries;  // guarded by _mu
  std::deque<Aged> _order;                           // acknowledged, oldest first; guarded by _mu
  uint64_t _next_generation = 1;
  size_t _acked = 0;
};

}  // namespace tracefeed::publish
