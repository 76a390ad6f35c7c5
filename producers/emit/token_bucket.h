#pragma once
// TokenBucket: paces loadgen at a target rate. `rate` tokens per second accrue up to `burst`;
// time comes from the injected Clock (tests use ManualClock). Not thread-safe (one per sender).

#include <cstdint>

#include "core/clock.h"

namespace tracefeed::emit {

class TokenBucket {
 public:
  // rate > 0 tokens/s; burst >= 1 tokens (the bucket starts full).
  TokenBucket(double rate_per_second, double burst, const Clock& clock);

  // Takes `n` tokens if they are there now.
  [[nodiscard]] bool try_take(double n = 1);
  // Nanoseconds until `n` tokens will be there (0: now).
  [[nodiscard]] int64_t wait_ns(double n = 1);

 private:
  void refill();
  const double _rate;
  const double _burst;
  const Clock& _clock;
  double _tokens;
  int64_t _last_ns;
};

}  // namespace tracefeed::emit
