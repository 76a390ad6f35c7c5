#pragma once
// Bounded memory of assessment id → name, for override_feedback (internal to the SDK).
//
// The last `capacity` ids remembered are kept in a ring (the oldest is forgotten first) with an
// open-addressing index over it. Once the ring is full, remembering reuses the evicted slot's
// strings, so a warm Tracer allocates nothing per log_feedback here (a node-based map and a queue
// of id strings cost four allocations and frees per event).
//
// Not thread-safe: the Tracer guards it with its mutex.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tracefeed::detail {

class RememberedNames {
 public:
  // Positions are 32-bit: a capacity beyond 2^31 entries (hundreds of GiB) is clamped.
  explicit RememberedNames(size_t capacity)
      : _capacity(capacity < (size_t{1} << 31) ? capacity : size_t{1} << 31) {}

  // Remembers `id` → `name`; with `capacity` entries already, forgets the oldest first. An id
  // remembered again gets the new name (and keeps its place in the order). No-op at capacity 0.
  void remember(std::string_view id, std::string_view name);
  [[nodiscard]] std::optional<std::string> name_of(std::string_view id) const;
  [[nodiscard]] size_t size() const noexcept { return _ring.size(); }

 private:
  struct Entry {
    std::string id, name;
  };
  static constexpr uint32_t kEmpty = 0;  // index cells hold ring position + 1

  size_t home(std::string_view id) const noexcept;
  // The index cell holding `id`, or the empty cell where it would go.
  size_t find_cell(std::string_view id) const noexcept;
  void erase_cell(size_t cell) noexcept;
  void grow_index();

  const size_t _capacity;
  std::vector<Entry> _ring;      // grows to _capacity, then is reused oldest-first
  size_t _oldest = 0;            // next ring slot to reuse once full
  std::vector<uint32_t> _index;  // linear probing, size a power of two, at most half full
};

}  // namespace tracefeed::detail
