#include "producers/emit/token_bucket.h"

#include <algorithm>
#include <cmath>

namespace tracefeed::emit {

TokenBucket::TokenBucket(double rate_per_second, double burst, const Clock& clock)
    : _rate(rate_per_second), _burst(std::max(1.0, burst)), _clock(clock), _tokens(_burst), _last_ns(clock.monotonic_ns()) {}

void TokenBucket::refill() {
  const int64_t now = _clock.monotonic_ns();
  if (now > _last_ns) {
    _tokens = std::min(_burst, _tokens + static_cast<double>(now - _last_ns) * _rate / 1e9);
    _last_ns = now;
  }
}

bool TokenBucket::try_take(double n) {
  refill();
  if (_tokens + 1e-9 < n) return false;
  _tokens -= n;
  return true;
}

int64_t TokenBucket::wait_ns(double n) {
  refill();
  if (_tokens >= n) return 0;
  return static_cast<int64_t>(std::ceil((n - _tokens) * 1e9 / _rate));
}

}  // namespace tracefeed::emit
