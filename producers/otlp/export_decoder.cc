#include "producers/otlp/export_decoder.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "core/event_json.h"
#include "core/ids.h"
#include "core/json_writer.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace tracefeed::otlp {
namespace {

namespace pb_collector = opentelemetry::proto::collector::trace::v1;
namespace pb_trace = opentelemetry::proto::trace::v1;
namespace pb_common = opentelemetry::proto::common::v1;
namespace dom = simdjson::dom;

// AnyValue nesting beyond this is refused (the JSON we store is bounded at kMaxJsonDepth).
constexpr int kMaxAnyValueDepth = kMaxJsonDepth - 2;

constexpr std::string_view kHexDigits = "0123456789abcdef";

std::string to_hex(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHexDigits[c >> 4]);
    out.push_back(kHexDigits[c & 0xf]);
  }
  return out;
}

bool all_zero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// ---- base64 (bytesValue in OTLP/JSON; lenient ids) ------------------------------------------

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

bool base64_decode(std::string_view in, std::string& out) {
  out.clear();
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = base64_value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

void append_base64(std::string& out, std::string_view in) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t n = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], kAlphabet[n & 63]};
  }
  if (i + 1 == in.size()) {
    const uint32_t n = uint32_t(uint8_t(in[i])) << 16;
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const uint32_t n = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8);
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], '='};
  }
}

// OTLP/JSON ids are hex (not base64, unlike protobuf's generic JSON mapping). Producers that
// use a generic proto-JSON encoder send base64: accepted too, since the lengths cannot collide.
bool decode_json_id(std::string_view text, size_t want_bytes, std::string& out) {
  out.clear();
  if (text.empty()) return true;
  if (text.size() == want_bytes * 2) {
    out.resize(want_bytes);
    for (size_t i = 0; i < want_bytes; ++i) {
      auto [p, ec] = std::from_chars(text.data() + 2 * i, text.data() + 2 * i + 2, reinterpret_cast<uint8_t&>(out[i]), 16);
      if (ec != std::errc() || p != text.data() + 2 * i + 2) return false;
    }
    return true;
  }
  if (text.size() == (want_bytes + 2) / 3 * 4 && base64_decode(text, out) && out.size() == want_bytes) return true;
  out.clear();
  return false;
}

// ---- canonical JSON from parsed text ---------------------------------------------------------

bool write_dom(JsonWriter& w, dom::element e, int depth) {
  if (depth > kMaxJsonDepth) return false;
  switch (e.type()) {
    case dom::element_type::ARRAY: {
      dom::array arr;
      if (e.get_array().get(arr)) return false;
      w.begin_array();
      for (dom::element c : arr) {
        if (!write_dom(w, c, depth + 1)) return false;
      }
      w.end_array();
      return true;
    }
    case dom::element_type::OBJECT: {
      dom::object obj;
      if (e.get_object().get(obj)) return false;
      w.begin_object();
      for (dom::key_value_pair kv : obj) {
        w.key(kv.key);
        if (!write_dom(w, kv.value, depth + 1)) return false;
      }
      w.end_object();
      return true;
    }
    case dom::element_type::INT64: {
      int64_t v = 0;
      if (e.get_int64().get(v)) return false;
      w.int64(v);
      return true;
    }
    case dom::element_type::UINT64: {
      uint64_t v = 0;
      if (e.get_uint64().get(v)) return false;
      w.uint64(v);
      return true;
    }
    case dom::element_type::DOUBLE: {
      double v = 0;
      if (e.get_double().get(v)) return false;
      w.number(v);
      return true;
    }
    case dom::element_type::STRING: {
      std::string_view v;
      if (e.get_string().get(v)) return false;
      w.string(v);
      return true;
    }
    case dom::element_type::BOOL: {
      bool v = false;
      if (e.get_bool().get(v)) return false;
      w.boolean(v);
      return true;
    }
    case dom::element_type::NULL_VALUE:
      w.null();
      return true;
  }
  return false;
}

// Parses `text` as JSON and returns its canonical form, or nullopt when it is not JSON.
std::optional<JsonText> canonical_json(std::string_view text) {
  // Thread-local: the decoder runs on HTTP worker threads, each keeps its own buffers.
  thread_local dom::parser parser;
  dom::element root;
  if (parser.parse(text.data(), text.size()).get(root)) return std::nullopt;
  JsonText out;
  JsonWriter w(out);
  if (!write_dom(w, root, 0)) return std::nullopt;
  return out;
}

// ---- AnyValue → JSON -------------------------------------------------------------------------

// Writes an AnyValue as JSON. False (with `why` set) when it nests too deep or holds invalid UTF-8.
bool write_any_value(JsonWriter& w, const pb_common::AnyValue& v, int depth, std::string& why) {
  if (depth > kMaxAnyValueDepth) {
    why = "nested deeper than " + std::to_string(kMaxAnyValueDepth) + " levels";
    return false;
  }
  switch (v.value_case()) {
    case pb_common::AnyValue::kStringValue:
      if (!is_valid_utf8(v.string_value())) {
        why = "invalid UTF-8";
        return false;
      }
      w.string(v.string_value());
      return true;
    case pb_common::AnyValue::kBoolValue: w.boolean(v.bool_value()); return true;
    case pb_common::AnyValue::kIntValue: w.int64(v.int_value()); return true;
    case pb_common::AnyValue::kDoubleValue: w.number(v.double_value()); return true;
    case pb_common::AnyValue::kArrayValue:
      w.begin_array();
      for (const auto& item : v.array_value().values()) {
        if (!write_any_value(w, item, depth + 1, why)) return false;
      }
      w.end_array();
      return true;
    case pb_common::AnyValue::kKvlistValue:
      w.begin_object();
      for (const auto& kv : v.kvlist_value().values()) {
        if (!is_valid_utf8(kv.key())) {
          why = "invalid UTF-8 in a key";
          return false;
        }
        w.key(kv.key());
        if (!kv.has_value()) {
          w.null();
        } else if (!write_any_value(w, kv.value(), depth + 1, why)) {
          return false;
        }
      }
      w.end_object();
      return true;
    case pb_common::AnyValue::kBytesValue: {
      // OTLP/JSON's own representation of bytes: base64.
      std::string b64;
      append_base64(b64, v.bytes_value());
      w.string(b64);
      return true;
    }
    case pb_common::AnyValue::kStringValueStrindex:  // profiles only
    case pb_common::AnyValue::VALUE_NOT_SET: w.null(); return true;
  }
  w.null();
  return true;
}

// MLflow's span attributes are JSON-encoded on the OpenTelemetry exporter path
// ("\"RETRIEVER\"", "{\"question\": ...}") and typed on MLflow's REST path: a string that parses
// as JSON is taken as that JSON, any other value as itself.
bool mlflow_attribute_json(const pb_common::AnyValue& v, JsonText& out, std::string& why) {
  if (v.value_case() == pb_common::AnyValue::kStringValue) {
    if (auto parsed = canonical_json(v.string_value())) {
      out = std::move(*parsed);
      return true;
    }
  }
  out.clear();
  JsonWriter w(out);
  return write_any_value(w, v, 0, why);
}

// GenAI message attributes: structured, or a JSON string of the messages, or plain text.
bool gen_ai_content_json(const pb_common::AnyValue& v, JsonText& out, std::string& why) {
  if (v.value_case() == pb_common::AnyValue::kStringValue) {
    const std::string& s = v.string_value();
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && (s[first] == '[' || s[first] == '{')) {
      if (auto parsed = canonical_json(s)) {
        out = std::move(*parsed);
        return true;
      }
    }
  }
  out.clear();
  JsonWriter w(out);
  return write_any_value(w, v, 0, why);
}

// The text of a JSON string value ("\"RETRIEVER\"" → RETRIEVER), or the JSON itself.
std::string json_string_text(const JsonText& json) {
  if (json.size() >= 2 && json.front() == '"') {
    thread_local dom::parser parser;
    dom::element root;
    std::string_view s;
    if (!parser.parse(json.data(), json.size()).get(root) && !root.get_string().get(s)) return std::string(s);
  }
  return json;
}

// ---- OTLP/JSON → ExportTraceServiceRequest --------------------------------------------------

// Per-span problems found while reading OTLP/JSON that the protobuf message cannot carry (an id
// that is not hex): they reject that span, not the request.
using SpanIdErrors = std::unordered_map<const pb_trace::Span*, std::string>;

// Reads the OTLP/JSON encoding (camelCase field names as the spec says; snake_case accepted
// too; unknown fields ignored, as OTLP receivers must). Errors name the JSON path.
class JsonRequestReader {
 public:
  Status read(std::string_view body, pb_collector::ExportTraceServiceRequest& out, SpanIdErrors& id_errors) {
    thread_local dom::parser parser;
    dom::element root;
    if (auto err = parser.parse(body.data(), body.size()).get(root)) {
      return Status::invalid_argument(std::string("body: not valid JSON (") + simdjson::error_message(err) + ")");
    }
    _id_errors = &id_errors;
    dom::object obj;
    if (!as_object(root, obj)) return error("expected an object");
    for (dom::key_value_pair kv : obj) {
      if (is(kv.key, "resourceSpans", "resource_spans")) {
        if (!each(kv.value, "resourceSpans", [&](dom::element e) { return read_resource_spans(e, *out.add_resource_spans()); })) break;
      }
    }
    return _error;
  }

 private:
  static bool is(std::string_view key, std::string_view camel, std::string_view snake) { return key == camel || key == snake; }

  Status error(std::string_view what) {
    if (_error.is_ok()) _error = Status::invalid_argument((_path.empty() ? std::string("body") : _path) + ": " + std::string(what));
    return _error;
  }
  bool fail(std::string_view what) {
    (void)error(what);
    return false;
  }

  // Runs fn with `seg` appended to the path.
  template <typename Fn>
  bool at(std::string_view seg, Fn&& fn) {
    const size_t mark = _path.size();
    if (!_path.empty() && seg.front() != '[') _path.push_back('.');
    _path.append(seg);
    const bool ok = fn();
    if (ok) _path.resize(mark);
    return ok;
  }

  bool as_object(dom::element e, dom::object& obj) { return !e.get_object().get(obj); }

  // A JSON array (null = empty) whose elements fn reads.
  template <typename Fn>
  bool each(dom::element e, std::string_view name, Fn&& fn) {
    return at(name, [&] {
      if (e.is_null()) return true;
      dom::array arr;
      if (e.get_array().get(arr)) return fail("expected an array");
      size_t i = 0;
      for (dom::element item : arr) {
        const std::string idx = "[" + std::to_string(i++) + "]";
        if (!at(idx, [&] { return fn(item); })) return false;
      }
      return true;
    });
  }

  template <typename Fn>
  bool object(dom::element e, Fn&& fn) {
    if (e.is_null()) return true;
    dom::object obj;
    if (e.get_object().get(obj)) return fail("expected an object");
    for (dom::key_value_pair kv : obj) {
      if (!fn(kv.key, kv.value)) return false;
    }
    return true;
  }

  bool read_string(dom::element e, std::string_view name, std::string& out) {
    return at(name, [&] {
      if (e.is_null()) return true;
      std::string_view s;
      if (e.get_string().get(s)) return fail("expected a string");
      out.assign(s);
      return true;
    });
  }

  // uint64/fixed64 (times): a decimal string (proto3 JSON's int64 form) or a number.
  bool read_u64(dom::element e, std::string_view name, uint64_t& out) {
    return at(name, [&] {
      if (e.is_null()) return true;
      std::string_view s;
      if (!e.get_string().get(s)) {
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        if (ec != std::errc() || p != s.data() + s.size()) return fail("expected an unsigned integer, got \"" + std::string(s) + "\"");
        return true;
      }
      if (!e.get_uint64().get(out)) return true;
      double d = 0;
      if (!e.get_double().get(d) && d >= 0 && d < 1.8446744073709552e19 && std::floor(d) == d) {
        out = static_cast<uint64_t>(d);
        return true;
      }
      return fail("expected an unsigned integer");
    });
  }

  bool read_i64(dom::element e, std::string_view name, int64_t& out) {
    return at(name, [&] {
      if (e.is_null()) return true;
      std::string_view s;
      if (!e.get_string().get(s)) {
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        if (ec != std::errc() || p != s.data() + s.size()) return fail("expected an integer, got \"" + std::string(s) + "\"");
        return true;
      }
      if (!e.get_int64().get(out)) return true;
      double d = 0;
      if (!e.get_double().get(d) && std::floor(d) == d && std::fabs(d) < 9.2e18) {
        out = static_cast<int64_t>(d);
        return true;
      }
      return fail("expected an integer");
    });
  }

  bool read_u32(dom::element e, std::string_view name, uint32_t& out) {
    uint64_t v = 0;
    if (!read_u64(e, name, v)) return false;
    if (v > std::numeric_limits<uint32_t>::max()) return at(name, [&] { return fail("out of range for uint32"); });
    out = static_cast<uint32_t>(v);
    return true;
  }

  // Enums: the number or the value's name.
  template <typename NameToValue>
  bool read_enum(dom::element e, std::string_view name, int& out, NameToValue&& parse_name) {
    return at(name, [&] {
      if (e.is_null()) return true;
      std::string_view s;
      if (!e.get_string().get(s)) {
        if (!parse_name(s, out)) return fail("unknown enum value \"" + std::string(s) + "\"");
        return true;
      }
      int64_t v = 0;
      if (e.get_int64().get(v) || v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
        return fail("expected an enum name or number");
      }
      out = static_cast<int>(v);
      return true;
    });
  }

  bool read_double(dom::element e, std::string_view name, double& out) {
    return at(name, [&] {
      std::string_view s;
      if (!e.get_string().get(s)) {
        if (s == "NaN") out = std::numeric_limits<double>::quiet_NaN();
        else if (s == "Infinity") out = std::numeric_limits<double>::infinity();
        else if (s == "-Infinity") out = -std::numeric_limits<double>::infinity();
        else {
          auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
          if (ec != std::errc() || p != s.data() + s.size()) return fail("expected a number");
        }
        return true;
      }
      if (e.get_double().get(out)) return fail("expected a number");
      return true;
    });
  }

  bool read_any_value(dom::element e, pb_common::AnyValue& out, int depth) {
    if (depth > kMaxAnyValueDepth) return fail("nested deeper than " + std::to_string(kMaxAnyValueDepth) + " levels");
    return object(e, [&](std::string_view k, dom::element v) {
      if (is(k, "stringValue", "string_value")) return read_string(v, k, *out.mutable_string_value());
      if (is(k, "boolValue", "bool_value")) {
        return at(k, [&] {
          bool b = false;
          if (v.get_bool().get(b)) return fail("expected a boolean");
          out.set_bool_value(b);
          return true;
        });
      }
      if (is(k, "intValue", "int_value")) {
        int64_t i = 0;
        if (!read_i64(v, k, i)) return false;
        out.set_int_value(i);
        return true;
      }
      if (is(k, "doubleValue", "double_value")) {
        double d = 0;
        if (!read_double(v, k, d)) return false;
        out.set_double_value(d);
        return true;
      }
      if (is(k, "arrayValue", "array_value")) {
        auto* arr = out.mutable_array_value();
        return at(k, [&] {
          return object(v, [&](std::string_view k2, dom::element v2) {
            if (k2 != "values") return true;
            return each(v2, k2, [&](dom::element item) { return read_any_value(item, *arr->add_values(), depth + 1); });
          });
        });
      }
      if (is(k, "kvlistValue", "kvlist_value")) {
        auto* list = out.mutable_kvlist_value();
        return at(k, [&] {
          return object(v, [&](std::string_view k2, dom::element v2) {
            if (k2 != "values") return true;
            return each(v2, k2, [&](dom::element item) { return read_key_value(item, *list->add_values(), depth + 1); });
          });
        });
      }
      if (is(k, "bytesValue", "bytes_value")) {
        return at(k, [&] {
          std::string_view s;
          if (v.get_string().get(s)) return fail("expected a base64 string");
          if (!base64_decode(s, *out.mutable_bytes_value())) return fail("not valid base64");
          return true;
        });
      }
      return true;
    });
  }

  bool read_key_value(dom::element e, pb_common::KeyValue& out, int depth) {
    return object(e, [&](std::string_view k, dom::element v) {
      if (k == "key") return read_string(v, k, *out.mutable_key());
      if (k == "value") return at(k, [&] { return read_any_value(v, *out.mutable_value(), depth); });
      return true;
    });
  }

  bool read_attributes(dom::element e, std::string_view name, google::protobuf::RepeatedPtrField<pb_common::KeyValue>& out) {
    return each(e, name, [&](dom::element item) { return read_key_value(item, *out.Add(), 0); });
  }

  bool read_id(dom::element e, std::string_view name, size_t want_bytes, std::string& out, const pb_trace::Span* span) {
    return at(name, [&] {
      if (e.is_null()) return true;
      std::string_view s;
      if (e.get_string().get(s)) return fail("expected a hex string");
      if (!decode_json_id(s, want_bytes, out)) {
        // The span is rejected on its own (see map), not the request.
        if (span && !_id_errors->count(span)) {
          std::string shown(s.substr(0, 64));
          if (!is_valid_utf8(shown)) shown = "(not UTF-8)";
          (*_id_errors)[span] = std::string(name) + ": expected " + std::to_string(want_bytes * 2) + " hex digits, got \"" +
                                shown + "\"";
        }
        out.clear();
      }
      return true;
    });
  }

  bool read_status(dom::element e, pb_trace::Status& out) {
    return object(e, [&](std::string_view k, dom::element v) {
      if (k == "message") return read_string(v, k, *out.mutable_message());
      if (k == "code") {
        int code = 0;
        if (!read_enum(v, k, code, [](std::string_view s, int& o) {
              pb_trace::Status::StatusCode c{};
              if (!pb_trace::Status::StatusCode_Parse(std::string(s), &c)) return false;
              o = c;
              return true;
            })) {
          return false;
        }
        out.set_code(static_cast<pb_trace::Status::StatusCode>(code));
        return true;
      }
      return true;
    });
  }

  bool read_event(dom::element e, pb_trace::Span::Event& out) {
    return object(e, [&](std::string_view k, dom::element v) {
      if (is(k, "timeUnixNano", "time_unix_nano")) {
        uint64_t t = 0;
        if (!read_u64(v, k, t)) return false;
        out.set_time_unix_nano(t);
        return true;
      }
      if (k == "name") return read_string(v, k, *out.mutable_name());
      if (k == "attributes") return read_attributes(v, k, *out.mutable_attributes());
      return true;
    });
  }

  bool read_link(dom::element e, pb_trace::Span::Link& out, const pb_trace::Span* span) {
    return object(e, [&](std::string_view k, dom::element v) {
      if (is(k, "traceId", "trace_id")) return read_id(v, k, 16, *out.mutable_trace_id(), span);
      if (is(k, "spanId", "span_id")) return read_id(v, k, 8, *out.mutable_span_id(), span);
      if (is(k, "traceState", "trace_state")) return read_string(v, k, *out.mutable_trace_state());
      if (k == "attributes") return read_attributes(v, k, *out.mutable_attributes());
      return true;
    });
  }

  bool read_span(dom::element e, pb_trace::Span& out) {
    return object(e, [&](std::string_view k, dom::element v) {
      if (is(k, "traceId", "trace_id")) return read_id(v, k, 16, *out.mutable_trace_id(), &out);
      if (is(k, "spanId", "span_id")) return read_id(v, k, 8, *out.mutable_span_id(), &out);
      if (is(k, "parentSpanId", "parent_span_id")) return read_id(v, k, 8, *out.mutable_parent_span_id(), &out);
      if (is(k, "traceState", "trace_state")) return read_string(v, k, *out.mutable_trace_state());
      if (k == "name") return read_string(v, k, *out.mutable_name());
      if (k == "flags") {
        uint32_t f = 0;
        if (!read_u32(v, k, f)) return false;
        out.set_flags(f);
        return true;
      }
      if (k == "kind") {
        int kind = 0;
        if (!read_enum(v, k, kind, [](std::string_view s, int& o) {
              pb_trace::Span::SpanKind sk{};
              if (!pb_trace::Span::SpanKind_Parse(std::string(s), &sk)) return false;
              o = sk;
              return true;
            })) {
          return false;
        }
        out.set_kind(static_cast<pb_trace::Span::SpanKind>(kind));
        return true;
      }
      if (is(k, "startTimeUnixNano", "start_time_unix_nano")) {
        uint64_t t = 0;
        if (!read_u64(v, k, t)) return false;
        out.set_start_time_unix_nano(t);
        return true;
      }
      if (is(k, "endTimeUnixNano", "end_time_unix_nano")) {
        uint64_t t = 0;
        if (!read_u64(v, k, t)) return false;
        out.set_end_time_unix_nano(t);
        return true;
      }
      if (k == "attributes") return read_attributes(v, k, *out.mutable_attributes());
      if (k == "events") return each(v, k, [&](dom::element item) { return read_event(item, *out.add_events()); });
      if (k == "links") return each(v, k, [&](dom::element item) { return read_link(item, *out.add_links(), &out); });
      if (k == "status") return at(k, [&] { return read_status(v, *out.mutable_status()); });
      return true;
    });
  }

  bool read_resource_spans(dom::element e, pb_trace::ResourceSpans& out) {
    return object(e, [&](std::string_view k, dom::element v) {
      if (k == "resource") {
        return at(k, [&] {
          return object(v, [&](std::string_view k2, dom::element v2) {
            if (k2 == "attributes") return read_attributes(v2, k2, *out.mutable_resource()->mutable_attributes());
            return true;
          });
        });
      }
      if (is(k, "scopeSpans", "scope_spans")) {
        return each(v, k, [&](dom::element ss) {
          auto& scope_spans = *out.add_scope_spans();
          return object(ss, [&](std::string_view k2, dom::element v2) {
            if (k2 == "scope") {
              return at(k2, [&] {
                return object(v2, [&](std::string_view k3, dom::element v3) {
                  if (k3 == "name") return read_string(v3, k3, *scope_spans.mutable_scope()->mutable_name());
                  if (k3 == "version") return read_string(v3, k3, *scope_spans.mutable_scope()->mutable_version());
                  return true;
                });
              });
            }
            if (k2 == "spans") return each(v2, k2, [&](dom::element sp) { return read_span(sp, *scope_spans.add_spans()); });
            return true;
          });
        });
      }
      return true;
    });
  }

  std::string _path;
  Status _error;
  SpanIdErrors* _id_errors = nullptr;
};

// ---- ExportTraceServiceRequest → Traces -----------------------------------------------------

std::string_view span_kind_name(int kind) {
  switch (kind) {
    case pb_trace::Span::SPAN_KIND_INTERNAL: return "INTERNAL";
    case pb_trace::Span::SPAN_KIND_SERVER: return "SERVER";
    case pb_trace::Span::SPAN_KIND_CLIENT: return "CLIENT";
    case pb_trace::Span::SPAN_KIND_PRODUCER: return "PRODUCER";
    case pb_trace::Span::SPAN_KIND_CONSUMER: return "CONSUMER";
    default: return {};
  }
}

// OpenInference's span kinds (Arize/Phoenix instrumentations) are MLflow span types already.
std::string openinference_span_type(std::string_view kind) {
  std::string upper(kind);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  static constexpr std::string_view kKnown[] = {"LLM", "CHAIN", "TOOL", "RETRIEVER", "EMBEDDING", "AGENT", "RERANKER"};
  for (auto k : kKnown) {
    if (upper == k) return upper;
  }
  return {};
}

struct SpanExtras {
  std::string trace_id;  // tracefeed trace id of this span
  StringMap metadata;    // trace_metadata this span contributes (user, session)
};

class Mapper {
 public:
  Mapper(const DecodeOptions& options, const SpanIdErrors& id_errors) : _options(options), _id_errors(id_errors) {
    if (!options.experiment_id.empty()) {
      JsonWriter w(_trace_location);
      w.begin_object();
      w.field("type", "MLFLOW_EXPERIMENT");
      w.key("mlflow_experiment");
      w.begin_object();
      w.field("experiment_id", options.experiment_id);
      w.end_object();
      w.end_object();
    }
  }

  DecodedExport run(const pb_collector::ExportTraceServiceRequest& request) {
    for (int r = 0; r < request.resource_spans_size(); ++r) {
      const auto& rs = request.resource_spans(r);
      std::string service_name;
      for (const auto& kv : rs.resource().attributes()) {
        if (kv.key() == "service.name" && kv.value().has_string_value() && is_valid_utf8(kv.value().string_value())) {
          service_name = kv.value().string_value();
        }
      }
      for (int s = 0; s < rs.scope_spans_size(); ++s) {
        const auto& ss = rs.scope_spans(s);
        for (int i = 0; i < ss.spans_size(); ++i) {
          const std::string path = "resource_spans[" + std::to_string(r) + "].scope_spans[" + std::to_string(s) +
                                   "].spans[" + std::to_string(i) + "]";
          add_span(ss.spans(i), path, service_name);
        }
      }
    }
    finish();
    return std::move(_out);
  }

 private:
  void reject(const std::string& message, int64_t spans = 1) {
    _out.rejected_spans += spans;
    if (_details < _options.max_error_details) {
      if (!_out.error_message.empty()) _out.error_message += "; ";
      _out.error_message += message;
    }
    ++_details;
  }

  void add_span(const pb_trace::Span& in, const std::string& path, const std::string& service_name) {
    Span span;
    SpanExtras extras;
    if (Status st = map_span(in, path, span, extras); !st.is_ok()) {
      reject(st.message());
      return;
    }
    auto [it, inserted] = _index.try_emplace(extras.trace_id, _out.traces.size());
    if (inserted) {
      Trace t;
      t.trace_info.trace_id = extras.trace_id;
      t.trace_info.trace_location = _trace_location;
      t.trace_info.state = TraceState::in_progress;
      _out.traces.push_back(std::move(t));
      _seen.emplace_back();
    }
    Trace& trace = _out.traces[it->second];
    if (!_seen[it->second].insert(span.span_id).second) {
      reject(path + ".span_id: duplicate span " + span.span_id + " of trace " + extras.trace_id + " in one request");
      return;
    }
    auto& meta = trace.trace_info.trace_metadata;
    auto put_meta = [&](const std::string& k, const std::string& v, bool overwrite) {
      for (auto& [mk, mv] : meta) {
        if (mk == k) {
          if (overwrite) mv = v;
          return;
        }
      }
      meta.emplace_back(k, v);
    };
    if (!service_name.empty()) put_meta("service.name", service_name, false);
    for (const auto& [k, v] : extras.metadata) put_meta(k, v, span.is_root());
    if (span.is_root()) fill_trace_info(span, trace.trace_info);
    trace.spans.push_back(std::move(span));
    ++_out.accepted_spans;
  }

  void fill_trace_info(const Span& root, TraceInfo& info) const {
    info.request_time = root.start_time_unix_nano;
    if (root.end_time_unix_nano != 0) info.execution_duration_ns = root.end_time_unix_nano - root.start_time_unix_nano;
    // OpenTelemetry leaves successful spans UNSET: an ended root without an error is OK.
    if (root.status == SpanStatus::error) info.state = TraceState::error;
    else if (root.end_time_unix_nano != 0 || root.status == SpanStatus::ok) info.state = TraceState::ok;
    else info.state = TraceState::in_progress;
    info.request_preview = json_preview(root.inputs, _options.preview_max_bytes);
    info.response_preview = json_preview(root.outputs, _options.preview_max_bytes);
  }

  // Safety net: the mapping above already checked every span; a trace that still does not
  // validate is rejected whole rather than published.
  void finish() {
    std::vector<Trace> kept;
    kept.reserve(_out.traces.size());
    for (auto& t : _out.traces) {
      if (Status st = validate_trace(t, "trace"); !st.is_ok()) {
        const auto n = static_cast<int64_t>(t.spans.size());
        _out.accepted_spans -= n;
        reject(st.message(), n);
        continue;
      }
      kept.push_back(std::move(t));
    }
    _out.traces = std::move(kept);
  }

  Status field_error(const std::string& path, std::string_view field, std::string_view what) const {
    return Status::invalid_argument(path + "." + std::string(field) + ": " + std::string(what));
  }

  Status map_span(const pb_trace::Span& in, const std::string& path, Span& out, SpanExtras& extras) const {
    if (auto it = _id_errors.find(&in); it != _id_errors.end()) return Status::invalid_argument(path + "." + it->second);
    const std::string& tid = in.trace_id();
    if (tid.size() != 16) {
      return field_error(path, "trace_id", "expected 16 bytes (32 hex digits), got " + std::to_string(tid.size()) + " bytes");
    }
    if (all_zero(tid)) return field_error(path, "trace_id", "must not be all zeros");
    if (in.span_id().size() != 8) {
      return field_error(path, "span_id", "expected 8 bytes (16 hex digits), got " + std::to_string(in.span_id().size()) + " bytes");
    }
    if (all_zero(in.span_id())) return field_error(path, "span_id", "must not be all zeros");
    out.span_id = to_hex(in.span_id());
    // Some exporters send an all-zero parent for a root span.
    if (!in.parent_span_id().empty() && !all_zero(in.parent_span_id())) {
      if (in.parent_span_id().size() != 8) {
        return field_error(path, "parent_span_id",
                           "expected 8 bytes (16 hex digits) or empty for a root span, got " +
                               std::to_string(in.parent_span_id().size()) + " bytes");
      }
      out.parent_span_id = to_hex(in.parent_span_id());
      if (out.parent_span_id == out.span_id) return field_error(path, "parent_span_id", "a span cannot be its own parent");
    }
    if (in.name().empty()) return field_error(path, "name", "required");
    if (in.name().size() > kMaxNameBytes) {
      return field_error(path, "name", "longer than " + std::to_string(kMaxNameBytes) + " bytes");
    }
    if (!is_valid_utf8(in.name())) return field_error(path, "name", "invalid UTF-8");
    out.name = in.name();
    constexpr auto kMaxNanos = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    if (in.start_time_unix_nano() > kMaxNanos) return field_error(path, "start_time_unix_nano", "out of range");
    if (in.end_time_unix_nano() > kMaxNanos) return field_error(path, "end_time_unix_nano", "out of range");
    out.start_time_unix_nano = static_cast<int64_t>(in.start_time_unix_nano());
    out.end_time_unix_nano = static_cast<int64_t>(in.end_time_unix_nano());
    if (out.end_time_unix_nano != 0 && out.end_time_unix_nano < out.start_time_unix_nano) {
      return field_error(path, "end_time_unix_nano", "must not be before start_time_unix_nano");
    }
    switch (in.status().code()) {
      case pb_trace::Status::STATUS_CODE_OK: out.status = SpanStatus::ok; break;
      case pb_trace::Status::STATUS_CODE_ERROR: out.status = SpanStatus::error; break;
      default: out.status = SpanStatus::unset; break;
    }

    // Attributes: MLflow's and GenAI's are lifted into span fields, the rest kept as JSON.
    std::string why;
    std::string mlflow_trace_id;
    std::string gen_ai_operation;
    std::string openinference_kind;
    JsonText gen_ai_inputs, gen_ai_outputs;
    bool has_mlflow_inputs = false, has_mlflow_outputs = false;
    auto& attrs = out.attributes;
    auto put_attr = [&attrs](const std::string& k, JsonText v) {
      for (auto& [ak, av] : attrs) {
        if (ak == k) {  // duplicate key: the last one wins, as in the OpenTelemetry SDKs
          av = std::move(v);
          return;
        }
      }
      attrs.emplace_back(k, std::move(v));
    };
    for (int a = 0; a < in.attributes_size(); ++a) {
      const auto& kv = in.attributes(a);
      const std::string& key = kv.key();
      const std::string apath = "attributes[" + std::to_string(a) + "]";
      if (key.empty()) return field_error(path, apath + ".key", "required");
      if (key.size() > kMaxNameBytes) return field_error(path, apath + ".key", "longer than " + std::to_string(kMaxNameBytes) + " bytes");
      if (!is_valid_utf8(key)) return field_error(path, apath + ".key", "invalid UTF-8");
      const std::string vpath = "attributes[\"" + key + "\"]";
      JsonText value;
      if (key.starts_with("mlflow.")) {
        if (!mlflow_attribute_json(kv.value(), value, why)) return field_error(path, vpath, why);
        if (key == "mlflow.traceRequestId") {
          mlflow_trace_id = json_string_text(value);
          continue;
        }
        if (key == "mlflow.spanType") {
          out.span_type = json_string_text(value);
          if (out.span_type.size() > kMaxNameBytes) return field_error(path, vpath, "longer than " + std::to_string(kMaxNameBytes) + " bytes");
          continue;
        }
        if (key == "mlflow.spanInputs") {
          out.inputs = std::move(value);
          has_mlflow_inputs = true;
          continue;
        }
        if (key == "mlflow.spanOutputs") {
          out.outputs = std::move(value);
          has_mlflow_outputs = true;
          continue;
        }
        if (key == "mlflow.trace.user" || key == "mlflow.trace.session") {
          extras.metadata.emplace_back(key, json_string_text(value));
        }
        put_attr(key, std::move(value));
        continue;
      }
      if (key == "gen_ai.input.messages" || key == "gen_ai.prompt") {
        // The current convention wins over the deprecated one whatever the order.
        if (gen_ai_inputs.empty() || key == "gen_ai.input.messages") {
          if (!gen_ai_content_json(kv.value(), gen_ai_inputs, why)) return field_error(path, vpath, why);
        }
      } else if (key == "gen_ai.output.messages" || key == "gen_ai.completion") {
        if (gen_ai_outputs.empty() || key == "gen_ai.output.messages") {
          if (!gen_ai_content_json(kv.value(), gen_ai_outputs, why)) return field_error(path, vpath, why);
        }
      }
      JsonWriter w(value);
      if (!write_any_value(w, kv.value(), 0, why)) return field_error(path, vpath, why);
      if (key == "gen_ai.operation.name") gen_ai_operation = json_string_text(value);
      else if (key == "openinference.span.kind") openinference_kind = json_string_text(value);
      else if (key == "user.id") extras.metadata.emplace_back("mlflow.trace.user", json_string_text(value));
      else if (key == "session.id") extras.metadata.emplace_back("mlflow.trace.session", json_string_text(value));
      put_attr(key, std::move(value));
    }
    // GenAI messages become inputs/outputs when MLflow's are absent; they then leave the
    // attributes (no second copy of a long conversation).
    auto lift = [&](JsonText& target, bool has_mlflow, JsonText& gen_ai, std::string_view current, std::string_view old) {
      if (has_mlflow || gen_ai.empty()) return;
      target = std::move(gen_ai);
      std::erase_if(attrs, [&](const auto& kv) { return kv.first == current || kv.first == old; });
    };
    lift(out.inputs, has_mlflow_inputs, gen_ai_inputs, "gen_ai.input.messages", "gen_ai.prompt");
    lift(out.outputs, has_mlflow_outputs, gen_ai_outputs, "gen_ai.output.messages", "gen_ai.completion");

    if (out.span_type.empty() && !gen_ai_operation.empty()) out.span_type = span_type_for_gen_ai_operation(gen_ai_operation);
    if (out.span_type.empty() && !openinference_kind.empty()) out.span_type = openinference_span_type(openinference_kind);
    if (out.span_type.empty()) out.span_type = "UNKNOWN";

    if (auto kind = span_kind_name(in.kind()); !kind.empty()) {
      JsonText v;
      JsonWriter(v).string(kind);
      put_attr("otel.span_kind", std::move(v));
    }
    if (!in.status().message().empty()) {
      if (!is_valid_utf8(in.status().message())) return field_error(path, "status.message", "invalid UTF-8");
      JsonText v;
      JsonWriter(v).string(in.status().message());
      put_attr("otel.status_description", std::move(v));
    }
    if (in.links_size() > 0) {
      JsonText v;
      JsonWriter w(v);
      w.begin_array();
      for (int l = 0; l < in.links_size(); ++l) {
        const auto& link = in.links(l);
        w.begin_object();
        w.field("trace_id", to_hex(link.trace_id()));
        w.field("span_id", to_hex(link.span_id()));
        if (link.attributes_size() > 0) {
          if (!write_attributes(w, link.attributes(), why)) return field_error(path, "links[" + std::to_string(l) + "].attributes", why);
        }
        w.end_object();
      }
      w.end_array();
      put_attr("otel.links", std::move(v));
    }
    if (in.events_size() > 0) {
      JsonWriter w(out.events);
      w.begin_array();
      for (int e = 0; e < in.events_size(); ++e) {
        const auto& ev = in.events(e);
        const std::string epath = "events[" + std::to_string(e) + "]";
        if (!is_valid_utf8(ev.name())) return field_error(path, epath + ".name", "invalid UTF-8");
        if (ev.time_unix_nano() > kMaxNanos) return field_error(path, epath + ".time_unix_nano", "out of range");
        w.begin_object();
        w.field("name", ev.name());
        w.field_int("time_unix_nano", static_cast<int64_t>(ev.time_unix_nano()));
        if (ev.attributes_size() > 0 && !write_attributes(w, ev.attributes(), why)) {
          return field_error(path, epath + ".attributes", why);
        }
        w.end_object();
      }
      w.end_array();
    }

    if (!mlflow_trace_id.empty() && is_trace_id(mlflow_trace_id)) {
      extras.trace_id = std::move(mlflow_trace_id);
    } else {
      extras.trace_id = mlflow_trace_id_from_otel(tid);
    }
    return Status::ok();
  }

  static bool write_attributes(JsonWriter& w, const google::protobuf::RepeatedPtrField<pb_common::KeyValue>& attrs,
                               std::string& why) {
    w.key("attributes");
    w.begin_object();
    std::unordered_set<std::string_view> seen;
    for (const auto& kv : attrs) {
      if (!is_valid_utf8(kv.key())) {
        why = "invalid UTF-8 in a key";
        return false;
      }
      if (!seen.insert(kv.key()).second) continue;
      w.key(kv.key());
      if (!write_any_value(w, kv.value(), 0, why)) return false;
    }
    w.end_object();
    return true;
  }

  const DecodeOptions& _options;
  const SpanIdErrors& _id_errors;
  JsonText _trace_location;
  DecodedExport _out;
  std::unordered_map<std::string, size_t> _index;             // tracefeed trace id → _out.traces
  std::vector<std::unordered_set<std::string>> _seen;         // span ids per trace
  size_t _details = 0;
};

}  // namespace

std::optional<Encoding> encoding_for_content_type(std::string_view ct) noexcept {
  while (!ct.empty() && (ct.front() == ' ' || ct.front() == '\t')) ct.remove_prefix(1);
  auto matches = [&](std::string_view type) {
    if (!iequals_prefix(ct, type)) return false;
    const std::string_view rest = ct.substr(type.size());
    return rest.empty() || rest.front() == ';' || rest.front() == ' ';
  };
  if (matches("application/x-protobuf") || matches("application/protobuf")) return Encoding::protobuf;
  if (matches("application/json")) return Encoding::json;
  return std::nullopt;
}

std::string mlflow_trace_id_from_otel(std::string_view trace_id_bytes) { return "tr-" + to_hex(trace_id_bytes); }

std::string_view span_type_for_gen_ai_operation(std::string_view op) noexcept {
  // https://opentelemetry.io/docs/specs/semconv/gen-ai/ (gen_ai.operation.name values).
  if (op == "chat") return "CHAT_MODEL";
  if (op == "text_completion" || op == "generate_content") return "LLM";
  if (op == "embeddings") return "EMBEDDING";
  if (op == "execute_tool") return "TOOL";
  if (op == "invoke_agent" || op == "create_agent") return "AGENT";
  if (op == "retrieval") return "RETRIEVER";
  if (op == "rerank") return "RERANKER";
  return {};
}

Result<DecodedExport> decode_export_request(std::string_view body, Encoding enc, const DecodeOptions& options) {
  pb_collector::ExportTraceServiceRequest request;
  SpanIdErrors id_errors;
  if (enc == Encoding::protobuf) {
    if (body.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
      return Status{ErrorCode::payload_too_large, "body: larger than 2 GiB"};
    }
    if (!request.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return Status::invalid_argument("body: not a valid protobuf ExportTraceServiceRequest");
    }
  } else {
    JsonRequestReader reader;
    TF_RETURN_IF_ERROR(reader.read(body, request, id_errors));
  }
  Mapper mapper(options, id_errors);
  return mapper.run(request);
}

}  // namespace tracefeed::otlp
