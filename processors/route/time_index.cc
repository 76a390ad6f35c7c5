#include "processors/route/time_index.h"

namespace tracefeed::route::time_index {
namespace {

// Newest first: flip the sign bit (signed -> unsigned order) and invert.
uint64_t ordinal(int64_t ms) noexcept { return ~(static_cast<uint64_t>(ms) ^ (uint64_t{1} << 63)); }
int64_t from_ordinal(uint64_t o) noexcept { return static_cast<int64_t>(~o ^ (uint64_t{1} << 63)); }

void append_u64_be(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::string ordinal_prefix(int64_t ms) {
  std::string out(prefix);
  append_u64_be(out, ordinal(ms));
  return out;
}

}  // namespace

void assign_key(std::string& out, int64_t timestamp_ms, std::string_view trace_id) {
  out.clear();
  out.append(prefix);
  append_u64_be(out, ordinal(timestamp_ms));
  out.append(trace_id);
}

std::string key(int64_t timestamp_ms, std::string_view trace_id) {
  std::string out;
  assign_key(out, timestamp_ms, trace_id);
  return out;
}

std::string first_key_at_or_before(int64_t max_ms) { return ordinal_prefix(max_ms); }

std::string end_key_before(int64_t min_ms) {
  // Entries with ms >= min_ms have ordinal <= ordinal(min_ms): stop at the next ordinal.
  if (min_ms == INT64_MIN) return end_key();
  return ordinal_prefix(min_ms - 1);
}

std::string end_key() {
  std::string out(prefix);
  out.back() = '\1';  // "tix\1": past every "tix\0..." key
  return out;
}

std::optional<Entry> parse(std::string_view k) noexcept {
  if (k.size() < prefix.size() + 8 || k.substr(0, prefix.size()) != prefix) return std::nullopt;
  uint64_t o = 0;
  for (size_t i = 0; i < 8; ++i) o = (o << 8) | static_cast<unsigned char>(k[prefix.size() + i]);
  return Entry{from_ordinal(o), k.substr(prefix.size() + 8)};
}

}  // namespace tracefeed::route::time_index
