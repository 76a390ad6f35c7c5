#pragma once
// XXH64, xxHash's 64-bit hash, exactly (Python: xxhash.xxh64_intdigest(data, seed), Go:
// github.com/cespare/xxhash, C: XXH64(data, len, seed)). Everything that must hash the same in
// every process, platform and version uses it: rule sampling, derived assessment ids, the
// gateway's and OTLP's deterministic event ids, the dedup window.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tracefeed {

// Streaming XXH64 over several segments (no concatenation needed).
class Xxh64 {
 public:
  explicit Xxh64(uint64_t seed = 0) noexcept;
  void update(std::string_view data) noexcept;
  [[nodiscard]] uint64_t digest() const noexcept;

 private:
  void stripe(const unsigned char* p) noexcept;
  uint64_t _seed;
  uint64_t _v[4];
  unsigned char _buffer[32] = {};
  size_t _buffered = 0;
  uint64_t _total = 0;
};

[[nodiscard]] uint64_t xxh64(std::string_view data, uint64_t seed = 0) noexcept;

}  // namespace tracefeed
