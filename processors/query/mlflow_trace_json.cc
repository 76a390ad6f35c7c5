#include "processors/query/mlflow_trace_json.h"

#include <algorithm>
#include <charconv>
#include <cstdint>

#include "core/event_json.h"

namespace tracefeed::query {
namespace {

// A scanner over JSON text that returns each value's text without building a tree: span
// payloads are copied piecewise into AnyValue messages (string literals are valid proto-JSON
// strings as they are; number literals keep their exact digits).
class Cursor {
 public:
  explicit Cursor(std::string_view s) : _s(s) {}

  char peek() {
    skip_ws();
    return _i < _s.size() ? _s[_i] : '\0';
  }
  bool consume(char c) {
    if (peek() != c) return false;
    ++_i;
    return true;
  }
  bool at_end() { return peek() == '\0' && _i == _s.size(); }

  // The text of the next value, advanced past; empty when the text is not JSON there.
  std::string_view value(int depth = 0) {
    if (depth > 128) return {};
    const char c = peek();
    const size_t start = _i;
    bool ok = false;
    if (c == '"') {
      ok = string();
    } else if (c == '{' || c == '[') {
      ok = container(c, depth);
    } else if (c == 't') {
      ok = word("true");
    } else if (c == 'f') {
      ok = word("false");
    } else if (c == 'n') {
      ok = word("null");
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      ok = number();
    }
    return ok ? _s.substr(start, _i - start) : std::string_view();
  }

 private:
  void skip_ws() {
    while (_i < _s.size() && (_s[_i] == ' ' || _s[_i] == '\n' || _s[_i] == '\r' || _s[_i] == '\t')) ++_i;
  }
  bool string() {
    for (++_i; _i < _s.size(); ++_i) {
      if (_s[_i] == '\\') {
        ++_i;
      } else if (_s[_i] == '"') {
        ++_i;
        return true;
      }
    }
    return false;
  }
  // RFC 8259: -? digits (. digits)? ([eE] [+-]? digits)?
  bool number() {
    auto digits = [&] {
      const size_t from = _i;
      while (_i < _s.size() && _s[_i] >= '0' && _s[_i] <= '9') ++_i;
      return _i > from;
    };
    if (_s[_i] == '-') ++_i;
    if (!digits()) return false;
    if (_i < _s.size() && _s[_i] == '.') {
      ++_i;
      if (!digits()) return false;
    }
    if (_i < _s.size() && (_s[_i] == 'e' || _s[_i] == 'E')) {
      ++_i;
      if (_i < _s.size() && (_s[_i] == '+' || _s[_i] == '-')) ++_i;
      if (!digits()) return false;
    }
    return true;
  }
  bool word(std::string_view w) {
    if (_s.substr(_i, w.size()) != w) return false;
    _i += w.size();
    return true;
  }
  bool container(char open, int depth) {
    const char close = open == '{' ? '}' : ']';
    ++_i;
    if (consume(close)) return true;
    do {
      if (open == '{') {
        if (peek() != '"' || !string() || !consume(':')) return false;
      }
      if (value(depth + 1).empty()) return false;
    } while (consume(','));
    return consume(close);
  }

  std::string_view _s;
  size_t _i = 0;
};

// Calls f(key literal, value text) for each member of a JSON object; false when `obj` is not one.
template <typename F>
bool for_each_member(std::string_view obj, F&& f) {
  Cursor c(obj);
  if (!c.consume('{')) return false;
  if (c.consume('}')) return c.at_end();
  do {
    if (c.peek() != '"') return false;
    const std::string_view key = c.value();
    if (key.empty() || !c.consume(':')) return false;
    const std::string_view v = c.value();
    if (v.empty() || !f(key, v)) return false;
  } while (c.consume(','));
  return c.consume('}') && c.at_end();
}

// Calls f(element text) for each element of a JSON array; false when `arr` is not one.
template <typename F>
bool for_each_element(std::string_view arr, F&& f) {
  Cursor c(arr);
  if (!c.consume('[')) return false;
  if (c.consume(']')) return c.at_end();
  do {
    const std::string_view v = c.value();
    if (v.empty() || !f(v)) return false;
  } while (c.consume(','));
  return c.consume(']') && c.at_end();
}

bool append_any(std::string& out, std::string_view v) {
  Cursor c(v);
  const std::string_view text = c.value();
  if (text.empty() || !c.at_end()) return false;
  switch (text.front()) {
    case '"':
      out += R"({"string_value":)";
      out += text;
      out += '}';
      return true;
    case 't':
    case 'f':
      out += R"({"bool_value":)";
      out += text;
      out += '}';
      return true;
    case 'n':
      out += "{}";
      return true;
    case '[': {
      out += R"({"array_value":{"values":[)";
      bool first = true;
      if (!for_each_element(text, [&](std::string_view e) {
            if (!first) out += ',';
            first = false;
            return append_any(out, e);
          })) {
        return false;
      }
      out += "]}}";
      return true;
    }
    case '{': {
      out += R"({"kvlist_value":{"values":[)";
      bool first = true;
      if (!for_each_member(text, [&](std::string_view key, std::string_view e) {
            if (!first) out += ',';
            first = false;
            out += R"({"key":)";
            out += key;
            out += R"(,"value":)";
            if (!append_any(out, e)) return false;
            out += '}';
            return true;
          })) {
        return false;
      }
      out += "]}}";
      return true;
    }
    default: {
      int64_t n = 0;
      const bool integral = text.find_first_of(".eE") == std::string_view::npos;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (integral && ec == std::errc() && end == text.data() + text.size()) {
        out += R"({"int_value":")";  // int64 is a string in proto-JSON
        out += text;
        out += "\"}";
      } else {
        out += R"({"double_value":)";
        out += text;
        out += '}';
      }
      return true;
    }
  }
}

void write_key_value(JsonWriter& w, std::string_view key, std::string_view json) {
  w.begin_object();
  w.field("key", key);
  w.key("value");
  std::string any;
  append_any_value(any, json);
  w.raw(any);
  w.end_object();
}

void write_string_key_value(JsonWriter& w, std::string_view key, std::string_view value) {
  w.begin_object();
  w.field("key", key);
  w.key("value");
  w.begin_object();
  w.field("string_value", value);
  w.end_object();
  w.end_object();
}

// OTel's SpanKind name for the decoder's otel.span_kind value ("\"SERVER\""), or "".
std::string_view span_kind_of(std::string_view json) {
  if (json == R"("INTERNAL")") return "SPAN_KIND_INTERNAL";
  if (json == R"("SERVER")") return "SPAN_KIND_SERVER";
  if (json == R"("CLIENT")") return "SPAN_KIND_CLIENT";
  if (json == R"("PRODUCER")") return "SPAN_KIND_PRODUCER";
  if (json == R"("CONSUMER")") return "SPAN_KIND_CONSUMER";
  return {};
}

std::string_view status_code_of(SpanStatus s) {
  switch (s) {
    case SpanStatus::ok: return "STATUS_CODE_OK";
    case SpanStatus::error: return "STATUS_CODE_ERROR";
    case SpanStatus::unset: break;
  }
  return "STATUS_CODE_UNSET";
}

bool is_span_field_key(std::string_view k) {
  return k == "mlflow.traceRequestId" || k == "mlflow.spanType" || k == "mlflow.spanInputs" ||
         k == "mlflow.spanOutputs";
}

// One event of the span's events array ({name, time_unix_nano, attributes: {k: json}}); any
// other member is left out, and an element that is not an object is skipped.
void write_event(JsonWriter& w, std::string_view event) {
  std::string_view name, time, attributes;
  if (!for_each_member(event, [&](std::string_view key, std::string_view v) {
        if (key == R"("name")" && v.front() == '"') name = v;
        else if (key == R"("time_unix_nano")") time = v;
        else if (key == R"("attributes")" && v.front() == '{') attributes = v;
        return true;
      })) {
    return;
  }
  w.begin_object();
  if (!name.empty()) w.field_raw("name", name);
  if (!time.empty()) {
    // A number or a numeric string; fixed64 is a string in proto-JSON.
    if (time.front() == '"') time = time.substr(1, time.size() - 2);
    uint64_t ns = 0;
    const auto [end, ec] = std::from_chars(time.data(), time.data() + time.size(), ns);
    if (ec == std::errc() && end == time.data() + time.size()) w.field("time_unix_nano", std::to_string(ns));
  }
  if (!attributes.empty()) {
    w.key("attributes");
    w.begin_array();
    (void)for_each_member(attributes, [&](std::string_view key, std::string_view v) {
      w.begin_object();
      w.field_raw("key", key);
      w.key("value");
      std::string any;
      append_any_value(any, v);
      w.raw(any);
      w.end_object();
      return true;
    });
    w.end_array();
  }
  w.end_object();
}

}  // namespace

std::string base64_of_hex(std::string_view hex) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return {};
  std::string bytes;
  bytes.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return {};
    bytes.push_back(static_cast<char>(hi << 4 | lo));
  }
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t chunk = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (n > 1) chunk |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    if (n > 2) chunk |= static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kAlphabet[(chunk >> 18) & 63]);
    out.push_back(kAlphabet[(chunk >> 12) & 63]);
    out.push_back(n > 1 ? kAlphabet[(chunk >> 6) & 63] : '=');
    out.push_back(n > 2 ? kAlphabet[chunk & 63] : '=');
  }
  return out;
}

void append_any_value(std::string& out, std::string_view json) {
  const size_t mark = out.size();
  if (append_any(out, json)) return;
  out.resize(mark);
  out += R"({"string_value":)";
  JsonWriter::append_escaped(out, json);
  out += '}';
}

void write_otel_span(JsonWriter& w, const Span& s, std::string_view trace_id) {
  std::string_view kind, status_message;
  for (const auto& [k, v] : s.attributes) {
    if (k == "otel.span_kind") kind = span_kind_of(v);
    else if (k == "otel.status_description" && !v.empty() && v.front() == '"') status_message = v;
  }
  w.begin_object();
  w.field("trace_id", base64_of_hex(trace_id.starts_with("tr-") ? trace_id.substr(3) : trace_id));
  w.field("span_id", base64_of_hex(s.span_id));
  if (!s.parent_span_id.empty()) w.field("parent_span_id", base64_of_hex(s.parent_span_id));
  w.field("name", s.name);
  if (!kind.empty()) w.field("kind", kind);
  w.field("start_time_unix_nano", std::to_string(std::max<int64_t>(0, s.start_time_unix_nano)));
  if (s.end_time_unix_nano > 0) w.field("end_time_unix_nano", std::to_string(s.end_time_unix_nano));

  w.key("attributes");
  w.begin_array();
  write_string_key_value(w, "mlflow.traceRequestId", trace_id);
  write_string_key_value(w, "mlflow.spanType", s.span_type.empty() ? std::string_view("UNKNOWN") : s.span_type);
  if (!s.inputs.empty()) write_key_value(w, "mlflow.spanInputs", s.inputs);
  if (!s.outputs.empty()) write_key_value(w, "mlflow.spanOutputs", s.outputs);
  for (const auto& [k, v] : s.attributes) {
    if (is_span_field_key(k)) continue;  // the span's own fields above win
    if (k == "otel.span_kind" && !kind.empty()) continue;
    if (k == "otel.status_description" && !status_message.empty()) continue;
    write_key_value(w, k, v);
  }
  w.end_array();

  if (!s.events.empty()) {
    w.key("events");
    w.begin_array();
    (void)for_each_element(s.events, [&](std::string_view e) {
      if (e.front() == '{') write_event(w, e);
      return true;
    });
    w.end_array();
  }

  w.key("status");
  w.begin_object();
  w.field("code", status_code_of(s.status));
  if (!status_message.empty()) w.field_raw("message", status_message);
  w.end_object();
  w.end_object();
}

void write_mlflow_trace(JsonWriter& w, const Trace& t) {
  w.begin_object();
  w.key("trace_info");
  write_json(w, t.trace_info);
  w.key("spans");
  w.begin_array();
  for (const auto& s : t.spans) write_otel_span(w, s, t.trace_info.trace_id);
  w.end_array();
  w.end_object();
}

}  // namespace tracefeed::query
