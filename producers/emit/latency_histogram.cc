#include "producers/emit/latency_histogram.h"

#include <bit>
#include <cmath>

namespace tracefeed::emit {

int LatencyHistogram::bucket_of(uint64_t v) noexcept {
  if (v < (1u << kSubBits)) return static_cast<int>(v);
  const int msb = 63 - std::countl_zero(v);
  const int shift = msb - kSubBits;
  const uint64_t sub = (v >> shift) & ((1u << kSubBits) - 1);
  return ((shift + 1) << kSubBits) + static_cast<int>(sub);
}

uint64_t LatencyHistogram::upper_bound_of(int bucket) noexcept {
  if (bucket < (1 << kSubBits)) return static_cast<uint64_t>(bucket);
  const int shift = (bucket >> kSubBits) - 1;
  const uint64_t sub = static_cast<uint64_t>(bucket & ((1 << kSubBits) - 1));
  return (((uint64_t{1} << kSubBits) | sub) << shift) + ((uint64_t{1} << shift) - 1);
}

void LatencyHistogram::record(int64_t ns) noexcept {
  const uint64_t v = ns < 0 ? 0 : static_cast<uint64_t>(ns);
  _counts[bucket_of(v)].fetch_add(1, std::memory_order_relaxed);
  int64_t prev = _max.load(std::memory_order_relaxed);
  while (static_cast<int64_t>(v) > prev && !_max.compare_exchange_weak(prev, static_cast<int64_t>(v))) {
  }
}

uint64_t LatencyHistogram::count() const noexcept {
  uint64_t n = 0;
  for (const auto& c : _counts) n += c.load(std::memory_order_relaxed);
  return n;
}

int64_t LatencyHistogram::percentile_ns(double p) const noexcept {
  const uint64_t total = count();
  if (total == 0) return 0;
  const auto rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(total)));
  uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += _counts[b].load(std::memory_order_relaxed);
    if (seen >= rank && seen > 0) {
      const auto ub = static_cast<int64_t>(upper_bound_of(b));
      return ub < max_ns() ? ub : max_ns();
    }
  }
  return max_ns();
}

}  // namespace tracefeed::emit
