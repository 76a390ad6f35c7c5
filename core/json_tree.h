#pragma once
// A small owned JSON tree for API request bodies and stored records (rules, label schemas,
// sessions): not the hot path — events use EventParser. Parsed with simdjson's DOM.
//
//   auto v = parse_json(body);                       // Result<JsonTree>, error names the byte
//   const JsonTree* name = v->find("name");         // nullptr when absent
//   if (!name || !name->is_string()) return Status::invalid_argument("name: expected a string");

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/json_writer.h"
#include "core/result.h"

namespace tracefeed {

class JsonTree {
 public:
  using Array = std::vector<JsonTree>;
  using Object = std::vector<std::pair<std::string, JsonTree>>;  // in document order

  JsonTree() = default;  // null
  explicit JsonTree(bool b) : _v(b) {}
  explicit JsonTree(double d) : _v(d) {}
  explicit JsonTree(std::string s) : _v(std::move(s)) {}
  explicit JsonTree(Array a) : _v(std::move(a)) {}
  explicit JsonTree(Object o) : _v(std::move(o)) {}

  bool is_null() const noexcept { return std::holds_alternative<std::monostate>(_v); }
  bool is_bool() const noexcept { return std::holds_alternative<bool>(_v); }
  bool is_number() const noexcept { return std::holds_alternative<double>(_v); }
  bool is_string() const noexcept { return std::holds_alternative<std::string>(_v); }
  bool is_array() const noexcept { return std::holds_alternative<Array>(_v); }
  bool is_object() const noexcept { return std::holds_alternative<Object>(_v); }

  bool as_bool() const { return std::get<bool>(_v); }
  double as_number() const { return std::get<double>(_v); }
  const std::string& as_string() const { return std::get<std::string>(_v); }
  const Array& as_array() const { return std::get<Array>(_v); }
  const Object& as_object() const { return std::get<Object>(_v); }

  // The member named `key` of an object (nullptr when absent, null, or not an object).
  const JsonTree* find(std::string_view key) const noexcept;
  // "a string", "a number", ... for error messages.
  std::string_view type_name() const noexcept;

  void write(JsonWriter& w) const;
  std::string to_json() const;

 private:
  std::variant<std::monostate, bool, double, std::string, Array, Object> _v;
};

// Parses one JSON document (64 levels deep at most). Errors: "malformed JSON at byte N: ...".
[[nodiscard]] Result<JsonTree> parse_json(std::string_view text);

}  // namespace tracefeed
