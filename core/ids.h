#pragma once
// Ids in MLflow 3's formats: trace "tr-" + 32 lowercase hex, span 16 lowercase hex,
// assessment "a-" + 32 lowercase hex. Event ids are any client string; ours are 32 hex.

#include <cstdint>
#include <string>
#include <string_view>

namespace tracefeed {

[[nodiscard]] bool is_trace_id(std::string_view s) noexcept;
[[nodiscard]] bool is_span_id(std::string_view s) noexcept;
// "a-" followed by 1..64 lowercase hex digits (MLflow makes 32; we accept shorter client ids).
[[nodiscard]] bool is_assessment_id(std::string_view s) noexcept;
[[nodiscard]] bool is_lower_hex(std::string_view s) noexcept;

// Makes random ids from a xoshiro256** stream. Not thread-safe: one per thread, or use the
// free functions below, which keep one per thread seeded from std::random_device.
class IdGenerator {
 public:
  explicit IdGenerator(uint64_t seed);
  std::string trace_id();
  std::string span_id();
  std::string assessment_id();
  std::string event_id();
  uint64_t next() noexcept;

 private:
  void append_hex(std::string& out, int digits);
  uint64_t _s[4];
};

// "a-" + 32 hex derived from `seed` (an event_id): the processors name assessments that arrive
// without an id this way, so that replaying the same events after a crash gives the same ids.
std::string assessment_id_from(std::string_view seed);

std::string new_trace_id();
std::string new_span_id();
std::string new_assessment_id();
std::string new_event_id();

}  // namespace tracefeed
