#pragma once
// The column families of a tracefeed state store. One RocksDB column family per Family; the
// key layout of each is documented in state/README.md.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tracefeed::state {

enum class Family : uint8_t {
  traces,       // trace_info by trace_id
  spans,        // trace_id \0 span_id
  assessments,  // trace_id \0 assessment_id
  pending,      // assessments that arrived before their trace: trace_id \0 assessment_id
  dedup,        // applied event_ids; value = applied-at time (bounded by StoreOptions::dedup_window)
  decisions,    // trace_id \0 rule name
  rules,        // rule name (routing rules and their state)
  offsets,      // consumed offsets: cluster_id \0 topic \0 partition (written by WriteBatch::set_offset)
  meta,         // store metadata (format version, ...)
  labeling,     // free for the labeling sink
  datasets,     // free for the evaluation sink
};

inline constexpr size_t family_count = 11;

inline constexpr std::array<Family, family_count> all_families = {
    Family::traces,  Family::spans,   Family::assessments, Family::pending,
    Family::dedup,   Family::decisions, Family::rules,     Family::offsets,
    Family::meta,    Family::labeling, Family::datasets,
};

// The RocksDB column family name ("traces", "spans", ...). Stable: it is stored on disk.
[[nodiscard]] std::string_view family_name(Family family) noexcept;

[[nodiscard]] constexpr size_t family_index(Family family) noexcept {
  return static_cast<size_t>(family);
}

}  // namespace tracefeed::state
