#include "core/hash.h"

#include <cstring>

namespace tracefeed {
namespace {

constexpr uint64_t P1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t P2 = 0xC2B2AE3D27D4EB4FULL;
constexpr uint64_t P3 = 0x165667B19E3779F9ULL;
constexpr uint64_t P4 = 0x85EBCA77C2B2AE63ULL;
constexpr uint64_t P5 = 0x27D4EB2F165667C5ULL;

constexpr uint64_t rotl(uint64_t x, int r) noexcept {
  return (x << r) | (x >> (64 - r));
}

// Little-endian reads, whatever the host order.
uint64_t read64(const unsigned char* p) noexcept {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint32_t read32(const unsigned char* p) noexcept {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

constexpr uint64_t round(uint64_t acc, uint64_t input) noexcept {
  acc += input * P2;
  acc = rotl(acc, 31);
  return acc * P1;
}
constexpr uint64_t merge_round(uint64_t acc, uint64_t val) noexcept {
  acc ^= round(0, val);
  return acc * P1 + P4;
}

}  // namespace

Xxh64::Xxh64(uint64_t seed) noexcept
    : _seed(seed), _v{seed + P1 + P2, seed + P2, seed, seed - P1} {}

void Xxh64::update(std::string_view data) noexcept {
  if (data.empty()) return;  // an empty view may have a null data(): no memcpy from it
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t len = data.size();
  _total += len;
  if (_buffered + len < 32) {
    std::memcpy(_buffer + _buffered, p, len);
    _buffered += len;
    return;
  }
  if (_buffered > 0) {
    size_t fill = 32 - _buffered;
    std::memcpy(_buffer + _buffered, p, fill);
    stripe(_buffer);
    p += fill;
    len -= fill;
    _buffered = 0;
  }
  while (len >= 32) {
    stripe(p);
    p += 32;
    len -= 32;
  }
  std::memcpy(_buffer, p, len);
  _buffered = len;
}

uint64_t Xxh64::digest() const noexcept {
  uint64_t h;
  if (_total >= 32) {
    h = rotl(_v[0], 1) + rotl(_v[1], 7) + rotl(_v[2], 12) + rotl(_v[3], 18);
    for (uint64_t v : _v) h = merge_round(h, v);
  } else {
    h = _seed + P5;
  }
  h += _total;
  const unsigned char* p = _buffer;
  size_t len = _buffered;
  while (len >= 8) {
    h ^= round(0, read64(p));
    h = rotl(h, 27) * P1 + P4;
    p += 8;
    len -= 8;
  }
  if (len >= 4) {
    h ^= static_cast<uint64_t>(read32(p)) * P1;
    h = rotl(h, 23) * P2 + P3;
    p += 4;
    len -= 4;
  }
  while (len > 0) {
    h ^= (*p) * P5;
    h = rotl(h, 11) * P1;
    ++p;
    --len;
  }
  h ^= h >> 33;
  h *= P2;
  h ^= h >> 29;
  h *= P3;
  h ^= h >> 32;
  return h;
}

void Xxh64::stripe(const unsigned char* p) noexcept {
  for (int i = 0; i < 4; ++i) _v[i] = round(_v[i], read64(p + 8 * i));
}

uint64_t xxh64(std::string_view data, uint64_t seed) noexcept {
  Xxh64 h(seed);
  h.update(data);
  return h.digest();
}

}  // namespace tracefeed
