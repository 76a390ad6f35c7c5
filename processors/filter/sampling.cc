#include "processors/filter/sampling.h"

#include "core/hash.h"

namespace tracefeed::filter {

uint64_t xxh64(std::string_view data) noexcept { return tracefeed::xxh64(data); }

double sample_point(std::string_view trace_id, std::string_view rule_name) noexcept {
  Xxh64 h;
  h.update(trace_id);
  h.update(std::string_view("\0", 1));
  h.update(rule_name);
  return static_cast<double>(h.digest() >> 11) * 0x1.0p-53;
}

bool sampled_in(std::string_view trace_id, std::string_view rule_name,
                double sample_rate) noexcept {
  if (sample_rate >= 1.0) return true;
  if (!(sample_rate > 0.0)) return false;  // 0, negative, NaN
  return sample_point(trace_id, rule_name) < sample_rate;
}

}  // namespace tracefeed::filter
