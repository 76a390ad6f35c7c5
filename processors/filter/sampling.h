#pragma once
// Deterministic rule sampling (PRODUCT.md §3 Rule.sample_rate): the same (trace, rule) gets
// the same answer in every process, on every platform, in every language.
//
// The function, exactly (so other implementations can agree):
//
//   h = XXH64(trace_id ++ 0x00 ++ rule_name, seed = 0)      // bytes as given (UTF-8), 64-bit
//   u = (h >> 11) * 2^-53                                  // top 53 bits -> [0, 1), exact in a
//   double sampled_in = rate >= 1 ? true : rate > 0 && u < rate    // NaN rate -> false
//
// XXH64 is xxHash's 64-bit variant (Python: xxhash.xxh64_intdigest(data), Go:
// github.com/cespare/xxhash Sum64, C: XXH64(data, len, 0)). Rules with different names
// sample independently; raising a rule's rate only adds traces (the set at 0.1 is a subset
// of the set at 0.2).

#include <cstdint>
#include <string_view>

namespace tracefeed::filter {

// XXH64 of `data` with seed 0.
[[nodiscard]] uint64_t xxh64(std::string_view data) noexcept;

// The sampling hash of a (trace, rule) pair mapped to [0, 1).
[[nodiscard]] double sample_point(std::string_view trace_id, std::string_view rule_name) noexcept;

[[nodiscard]] bool sampled_in(std::string_view trace_id, std::string_view rule_name,
                              double sample_rate) noexcept;

}  // namespace tracefeed::filter
