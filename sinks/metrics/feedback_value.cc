#include "sinks/metrics/feedback_value.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "core/json_tree.h"

namespace tracefeed::quality {
namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

void classify_string(std::string_view s, const FeedbackValueRules& rules, FeedbackValueClass& out) {
  out.label.assign(truncate_utf8(s, rules.max_label_bytes));
  out.negative = false;
  for (const auto& n : rules.negative_strings) {
    if (iequals(s, n)) {
      out.negative = true;
      break;
    }
  }
}

void set_other(FeedbackValueClass& out) {
  out.label.assign(kOtherLabel);
  out.negative = false;
}

}  // namespace

std::string_view truncate_utf8(std::string_view s, size_t max_bytes) noexcept {
  if (s.size() <= max_bytes) return s;
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // s[n] continues a sequence
  return s.substr(0, n);
}

void classify_feedback_value(std::string_view json, const FeedbackValueRules& rules, FeedbackValueClass& out) {
  if (json == "true" || json == "false") {
    out.label.assign(json);
    out.negative = json == "false";
    return;
  }
  if (json.empty()) return set_other(out);
  const char c = json.front();
  if (c == '"') {
    if (json.size() >= 2 && json.back() == '"' && json.find('\\') == std::string_view::npos) {
      return classify_string(json.substr(1, json.size() - 2), rules, out);
    }
    // Escapes are rare in feedback values: let the JSON parser undo them.
    auto tree = parse_json(json);
    if (!tree.is_ok() || !tree->is_string()) return set_other(out);
    return classify_string(tree->as_string(), rules, out);
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    double v = 0;
    auto [end, ec] = std::from_chars(json.data(), json.data() + json.size(), v);
    if (ec != std::errc() || end != json.data() + json.size() || !std::isfinite(v)) return set_other(out);
    out.negative = v <= rules.numeric_negative_at_or_below;
    // One decimal is enough to tell 0–1 scores apart and keeps ratings (1–5) whole; huge values
    // keep three significant digits. Every form fits the buffer.
    char buf[32];
    int n;
    const double r = std::round(v * 10) / 10;
    if (std::fabs(r) >= 1e15) {
      n = std::snprintf(buf, sizeof buf, "%.3g", v);
    } else if (r == std::trunc(r)) {
      n = std::snprintf(buf, sizeof buf, "%.0f", r == 0 ? 0.0 : r);  // no "-0"
    } else {
      n = std::snprintf(buf, sizeof buf, "%.1f", r);
    }
    std::string_view text(buf, n > 0 && static_cast<size_t>(n) < sizeof buf ? static_cast<size_t>(n) : 0);
    out.label.assign(text);
    return;
  }
  set_other(out);
}

}  // namespace tracefeed::quality
