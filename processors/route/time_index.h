#pragma once
// The time index of stored traces, for search_traces (processors/query): one empty-valued entry
// per trace in Family::meta,
//
//   "tix\0" + u64 BE ordinal(timestamp_ms) + trace_id
//
// where ordinal() reverses the order, so a forward scan visits traces newest first and, within one
// millisecond, by trace_id ascending — exactly MLflow's default order (timestamp_ms DESC,
// request_id ASC). A bound on trace.timestamp_ms becomes a key range.
//
// Writer: the Router, on the join's owner thread, in the join's WriteBatch, for every trace a
// batch touched (route() is called for each of them); a one-off build over traces stored before
// the index existed runs in chunks through Router::backfill_step and then sets `complete_key`.
// Readers use the index only once that marker is set; until then they scan every trace.
//
// Entries are never deleted: when a trace's timestamp changes (its root span arrived later with
// another start time) the old entry stays behind, stale. Readers skip an entry whose trace no
// longer has that timestamp, so every trace is seen once, at its current position.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tracefeed::route::time_index {

// Every entry starts with this (4 bytes: "tix" and NUL).
inline constexpr std::string_view prefix{"tix\0", 4};
// Family::meta key, present (value "1") once every stored trace has an entry.
inline constexpr std::string_view complete_key = "tracefeed.time_index.complete";
// Family::meta key of the build's progress: the next trace id to index.
inline constexpr std::string_view build_cursor_key = "tracefeed.time_index.build_cursor";

// The entry of `trace_id` at `timestamp_ms`.
[[nodiscard]] std::string key(int64_t timestamp_ms, std::string_view trace_id);
// Replaces `out` with key(timestamp_ms, trace_id), reusing its capacity (join thread, hot path).
void assign_key(std::string& out, int64_t timestamp_ms, std::string_view trace_id);

// The first key of entries with timestamp_ms <= max_ms (a scan from here is newest first).
[[nodiscard]] std::string first_key_at_or_before(int64_t max_ms);
// The exclusive upper bound of the entries with timestamp_ms >= min_ms.
[[nodiscard]] std::string end_key_before(int64_t min_ms);
// The exclusive upper bound of every entry.
[[nodiscard]] std::string end_key();

struct Entry {
  int64_t timestamp_ms = 0;
  std::string_view trace_id;
};
// nullopt when `k` is not an index entry.
[[nodiscard]] std::optional<Entry> parse(std::string_view k) noexcept;

// A trace's timestamp as the index and the filter grammar see it (trace.timestamp_ms).
[[nodiscard]] constexpr int64_t timestamp_ms_of(int64_t request_time_ns) noexcept {
  return request_time_ns / 1'000'000;
}

}  // namespace tracefeed::route::time_index
