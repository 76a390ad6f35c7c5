#include "core/json_writer.h"

#include <charconv>
#include <cstring>
#include <cmath>

namespace tracefeed {
namespace {

// 1 = needs escaping (control characters, '"' and '\\').
constexpr bool needs_escape(unsigned char c) noexcept { return c < 0x20 || c == '"' || c == '\\'; }

}  // namespace

void JsonWriter::key(std::string_view k) {
  before_value();
  append_escaped(_out, k);
  _out.push_back(':');
  _after_key = true;
}

void JsonWriter::int64(int64_t v) {
  before_value();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  _out.append(buf, end);
}

void JsonWriter::uint64(uint64_t v) {
  before_value();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  _out.append(buf, end);
}

void JsonWriter::number(double v) {
  before_value();
  if (!std::isfinite(v)) {
    _out += "null";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  _out.append(buf, end);
}

void JsonWriter::raw(std::string_view json) {
  before_value();
  if (json.empty()) {
    _out += "null";
  } else {
    _out.append(json);
  }
}

namespace {

// True when any byte of `w` is < 0x20, '"' or '\\' (SWAR: eight bytes per step).
inline bool word_needs_escape(uint64_t w) noexcept {
  constexpr uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  const uint64_t quote = w ^ (ones * '"');
  const uint64_t backslash = w ^ (ones * '\\');
  const uint64_t below_space = (w - ones * 0x20) & ~w;               // byte < 0x20
  const uint64_t is_quote = (quote - ones) & ~quote;                 // byte == '"'
  const uint64_t is_backslash = (backslash - ones) & ~backslash;     // byte == '\\'
  return ((below_space | is_quote | is_backslash) & highs) != 0;
}

}  // namespace

void JsonWriter::append_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.reserve(out.size() + s.size() + 2);
  out.push_back('"');
  size_t run_start = 0;
  size_t i = 0;
  while (i < s.size()) {
    // Skip clean 8-byte words quickly; most strings have nothing to escape.
    while (i + 8 <= s.size()) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (word_needs_escape(w)) break;
      i += 8;
    }
    if (i >= s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (!needs_escape(c)) {
      ++i;
      continue;
    }
    out.append(s.data() + run_start, i - run_start);
    run_start = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default: {
        const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
        out.append(esc, 6);
      }
    }
    ++i;
  }
  out.append(s.data() + run_start, s.size() - run_start);
  out.push_back('"');
}

}  // namespace tracefeed
