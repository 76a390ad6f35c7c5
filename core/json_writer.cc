#include "core/json_writer.h"

#include <charconv>
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

void JsonWriter::append_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run_start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (!needs_escape(c)) continue;
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
  }
  out.append(s.data() + run_start, s.size() - run_start);
  out.push_back('"');
}

}  // namespace tracefeed
