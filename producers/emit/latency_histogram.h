#pragma once
// LatencyHistogram: log-linear buckets (16 per power of two, ≤ ~6% relative error) over
// nanoseconds, for ack-latency percentiles in loadgen and the benchmarks. record() is lock-free
// and thread-safe (it runs on delivery-report threads); percentiles are read after the run.

#include <array>
#include <atomic>
#include <cstdint>

namespace tracefeed::emit {

class LatencyHistogram {
 public:
  void record(int64_t ns) noexcept;
  [[nodiscard]] uint64_t count() const noexcept;
  [[nodiscard]] int64_t max_ns() const noexcept { return _max.load(std::memory_order_relaxed); }
  // The upper bound of the bucket holding the p-th percentile (p in [0, 100]); 0 when empty.
  [[nodiscard]] int64_t percentile_ns(double p) const noexcept;

 private:
  static constexpr int kSubBits = 4;
  static constexpr int kBuckets = 64 << kSubBits;
  static int bucket_of(uint64_t v) noexcept;
  static uint64_t upper_bound_of(int bucket) noexcept;
  std::array<std::atomic<uint64_t>, kBuckets> _counts{};
  std::atomic<int64_t> _max{0};
};

}  // namespace tracefeed::emit
