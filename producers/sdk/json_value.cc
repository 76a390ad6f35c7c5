#include "producers/sdk/json_value.h"

#include <simdjson.h>

#include "core/event_json.h"
#include "core/json_writer.h"

namespace tracefeed {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not one.
size_t utf8_sequence_length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n = 0;
  uint32_t cp = 0;
  if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1F; }
  else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; }
  else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07; }
  else return 0;
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

// The writer requires valid UTF-8; strings from an app may not be. Invalid bytes become U+FFFD
// rather than producing an event every consumer would reject.
std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

Status write_canonical(JsonWriter& w, simdjson::dom::element e, int depth) {
  if (depth > kMaxJsonDepth) return Status::invalid_argument("JSON nested deeper than " + std::to_string(kMaxJsonDepth));
  switch (e.type()) {
    case simdjson::dom::element_type::OBJECT:
      w.begin_object();
      for (auto field : simdjson::dom::object(e)) {
        w.key(field.key);
        TF_RETURN_IF_ERROR(write_canonical(w, field.value, depth + 1));
      }
      w.end_object();
      return Status::ok();
    case simdjson::dom::element_type::ARRAY:
      w.begin_array();
      for (auto item : simdjson::dom::array(e)) TF_RETURN_IF_ERROR(write_canonical(w, item, depth + 1));
      w.end_array();
      return Status::ok();
    case simdjson::dom::element_type::STRING: w.string(std::string_view(e)); return Status::ok();
    case simdjson::dom::element_type::INT64: w.int64(int64_t(e)); return Status::ok();
    case simdjson::dom::element_type::UINT64: w.uint64(uint64_t(e)); return Status::ok();
    case simdjson::dom::element_type::DOUBLE: w.number(double(e)); return Status::ok();
    case simdjson::dom::element_type::BOOL: w.boolean(bool(e)); return Status::ok();
    case simdjson::dom::element_type::NULL_VALUE: w.null(); return Status::ok();
  }
  return Status::internal("unknown JSON element type");
}

}  // namespace

JsonValue::JsonValue(double v) {
  JsonWriter w(_text);
  w.number(v);
}

JsonValue::JsonValue(std::string_view s) {
  if (is_valid_utf8(s)) {
    JsonWriter::append_escaped(_text, s);
  } else {
    JsonWriter::append_escaped(_text, sanitize_utf8(s));
  }
}

JsonValue JsonValue::object(std::initializer_list<std::pair<std::string_view, JsonValue>> fields) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  for (const auto& [k, v] : fields) {
    if (is_valid_utf8(k)) {
      w.key(k);
    } else {
      w.key(sanitize_utf8(k));
    }
    w.raw(v.text());
  }
  w.end_object();
  return JsonValue(Canonical{}, std::move(out));
}

JsonValue JsonValue::array(std::initializer_list<JsonValue> items) {
  std::string out;
  JsonWriter w(out);
  w.begin_array();
  for (const auto& v : items) w.raw(v.text());
  w.end_array();
  return JsonValue(Canonical{}, std::move(out));
}

Result<JsonValue> JsonValue::parse(std::string_view json) {
  // One DOM parser per thread: parse() is off the hot path (apps mostly build values directly).
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root)) {
    return Status::invalid_argument(std::string("invalid JSON: ") + simdjson::error_message(err));
  }
  std::string out;
  JsonWriter w(out);
  TF_RETURN_IF_ERROR(write_canonical(w, root, 0));
  return JsonValue(Canonical{}, std::move(out));
}

}  // namespace tracefeed
