#include "core/ids.h"

#include "core/hash.h"

#include <random>

namespace tracefeed {
namespace {

// Branch-free over the whole string (ids are checked on every event): OR together a "bad"
// flag per character instead of returning at the first bad one.
bool all_lower_hex(std::string_view s) noexcept {
  unsigned bad = 0;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const unsigned digit = static_cast<unsigned>(c - '0') < 10u;
    const unsigned hex = static_cast<unsigned>(c - 'a') < 6u;
    bad |= !(digit | hex);
  }
  return bad == 0;
}

uint64_t splitmix64(uint64_t& x) noexcept {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

IdGenerator& thread_generator() {
  thread_local IdGenerator gen([] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }());
  return gen;
}

}  // namespace

bool is_lower_hex(std::string_view s) noexcept { return !s.empty() && all_lower_hex(s); }

bool is_trace_id(std::string_view s) noexcept {
  return s.size() == 35 && s.substr(0, 3) == "tr-" && all_lower_hex(s.substr(3));
}

bool is_span_id(std::string_view s) noexcept { return s.size() == 16 && all_lower_hex(s); }

bool is_assessment_id(std::string_view s) noexcept {
  return s.size() >= 3 && s.size() <= 66 && s.substr(0, 2) == "a-" && all_lower_hex(s.substr(2));
}

IdGenerator::IdGenerator(uint64_t seed) {
  for (auto& word : _s) word = splitmix64(seed);
}

uint64_t IdGenerator::next() noexcept {
  const uint64_t result = rotl(_s[1] * 5, 7) * 9;
  const uint64_t t = _s[1] << 17;
  _s[2] ^= _s[0];
  _s[3] ^= _s[1];
  _s[1] ^= _s[2];
  _s[0] ^= _s[3];
  _s[2] ^= t;
  _s[3] = rotl(_s[3], 45);
  return result;
}

void IdGenerator::append_hex(std::string& out, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  while (digits > 0) {
    uint64_t r = next();
    for (int i = 0; i < 16 && digits > 0; ++i, --digits) {
      out.push_back(kHex[r & 0xf]);
      r >>= 4;
    }
  }
}

std::string IdGenerator::trace_id() {
  std::string out = "tr-";
  append_hex(out, 32);
  return out;
}

std::string IdGenerator::span_id() {
  std::string out;
  append_hex(out, 16);
  return out;
}

std::string IdGenerator::assessment_id() {
  std::string out = "a-";
  append_hex(out, 32);
  return out;
}

std::string IdGenerator::event_id() {
  std::string out;
  append_hex(out, 32);
  return out;
}

std::string assessment_id_from(std::string_view seed) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "a-";
  for (uint64_t salt : {0x5eedULL, 0xfeedULL}) {
    uint64_t h = xxh64(seed, salt);
    for (int i = 0; i < 16; ++i, h >>= 4) out.push_back(kHex[h & 0xf]);
  }
  return out;
}

std::string new_trace_id() { return thread_generator().trace_id(); }
std::string new_span_id() { return thread_generator().span_id(); }
std::string new_assessment_id() { return thread_generator().assessment_id(); }
std::string new_event_id() { return thread_generator().event_id(); }

}  // namespace tracefeed
