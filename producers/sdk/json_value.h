#pragma once
// JsonValue: one JSON value for span inputs/outputs/attributes and assessment values, held as
// canonical minified JSON text (core's JsonText) so that emitting it costs a memcpy.
//
//   span.set_inputs(JsonValue::object({{"user_question", question}}));
//   tracer.log_feedback({.trace_id = id, .name = "user_feedback", .value = false});
//
// Scalars and strings convert implicitly; objects and arrays are built with object()/array(), or
// parsed (and validated) from JSON text with parse(). Thread-compatible (a plain value type).

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "core/model.h"
#include "core/result.h"

namespace tracefeed {

class JsonValue {
 public:
  // JSON null. As an assessment value, null means "absent".
  JsonValue() : _text("null") {}
  JsonValue(std::nullptr_t) : _text("null") {}  // NOLINT: implicit by design
  JsonValue(bool b) : _text(b ? "true" : "false") {}  // NOLINT
  template <std::integral T>
    requires(!std::same_as<T, bool> && !std::same_as<T, char>)
  JsonValue(T v) : _text(std::to_string(v)) {}  // NOLINT
  JsonValue(double v);                          // NOLINT; NaN/Inf become null
  JsonValue(const char* s) : JsonValue(std::string_view(s)) {}  // NOLINT
  JsonValue(const std::string& s) : JsonValue(std::string_view(s)) {}  // NOLINT
  JsonValue(std::string_view s);                                     // NOLINT: a JSON string

  // {"k": v, ...} in the given order. Keys must be valid UTF-8.
  static JsonValue object(std::initializer_list<std::pair<std::string_view, JsonValue>> fields);
  // [v, ...]
  static JsonValue array(std::initializer_list<JsonValue> items);
  // Parses and canonicalises JSON text (e.g. produced by another JSON library). Invalid JSON,
  // invalid UTF-8 or nesting deeper than core's kMaxJsonDepth → invalid_argument.
  [[nodiscard]] static Result<JsonValue> parse(std::string_view json);

  const JsonText& text() const noexcept { return _text; }
  bool is_null() const noexcept { return _text == "null"; }
  friend bool operator==(const JsonValue&, const JsonValue&) = default;

 private:
  struct Canonical {};
  JsonValue(Canonical, std::string text) : _text(std::move(text)) {}
  JsonText _text;
};

}  // namespace tracefeed
