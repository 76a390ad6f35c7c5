#pragma once
// Key layout helpers shared by every writer of a state store (see state/README.md).
//
// Child records of a trace (spans, assessments, pending, decisions) are keyed
// "<trace_id>\0<child_id>": all children of one trace are contiguous and sorted by child id,
// and the prefix "<trace_id>\0" never matches a longer trace id. Components must not contain
// '\0' (trace, span and assessment ids are validated in core/ to be printable).

#include <string>
#include <string_view>

namespace tracefeed::state {

inline constexpr char key_separator = '\0';

// "<parent>\0<child>".
[[nodiscard]] std::string child_key(std::string_view parent, std::string_view child);

// Replaces `out` with "<parent>\0<child>", reusing its capacity (hot paths).
void assign_child_key(std::string& out, std::string_view parent, std::string_view child);

// "<parent>\0": the prefix of every child key of `parent`.
[[nodiscard]] std::string child_prefix(std::string_view parent);

// The part of a child key before the first '\0' (the whole key if there is none).
[[nodiscard]] std::string_view parent_of(std::string_view key) noexcept;

// The part of a child key after the first '\0' (empty if there is none).
[[nodiscard]] std::string_view child_of(std::string_view key) noexcept;

// The smallest key greater than every key that starts with `prefix`, i.e. the exclusive upper
// bound of a prefix scan. Empty when no such key exists (prefix empty or all 0xff bytes).
[[nodiscard]] std::string prefix_successor(std::string_view prefix);

}  // namespace tracefeed::state
