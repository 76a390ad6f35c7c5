#include "core/json_tree.h"

#include <simdjson.h>

namespace tracefeed {
namespace {

Status convert(simdjson::dom::element e, JsonTree& out, int depth) {
  if (depth > 64) return Status::invalid_argument("malformed JSON: nested deeper than 64 levels");
  switch (e.type()) {
    case simdjson::dom::element_type::OBJECT: {
      JsonTree::Object obj;
      for (auto field : simdjson::dom::object(e)) {
        JsonTree child;
        TF_RETURN_IF_ERROR(convert(field.value, child, depth + 1));
        obj.emplace_back(std::string(field.key), std::move(child));
      }
      out = JsonTree(std::move(obj));
      return Status::ok();
    }
    case simdjson::dom::element_type::ARRAY: {
      JsonTree::Array arr;
      for (auto item : simdjson::dom::array(e)) {
        JsonTree child;
        TF_RETURN_IF_ERROR(convert(item, child, depth + 1));
        arr.push_back(std::move(child));
      }
      out = JsonTree(std::move(arr));
      return Status::ok();
    }
    case simdjson::dom::element_type::STRING: out = JsonTree(std::string(std::string_view(e))); return Status::ok();
    case simdjson::dom::element_type::INT64: out = JsonTree(static_cast<double>(int64_t(e))); return Status::ok();
    case simdjson::dom::element_type::UINT64: out = JsonTree(static_cast<double>(uint64_t(e))); return Status::ok();
    case simdjson::dom::element_type::DOUBLE: out = JsonTree(double(e)); return Status::ok();
    case simdjson::dom::element_type::BOOL: out = JsonTree(bool(e)); return Status::ok();
    case simdjson::dom::element_type::NULL_VALUE: out = JsonTree(); return Status::ok();
  }
  return Status::invalid_argument("malformed JSON: unknown value type");
}

}  // namespace

const JsonTree* JsonTree::find(std::string_view key) const noexcept {
  const auto* obj = std::get_if<Object>(&_v);
  if (!obj) return nullptr;
  for (const auto& [k, v] : *obj) {
    if (k == key) return v.is_null() ? nullptr : &v;
  }
  return nullptr;
}

std::string_view JsonTree::type_name() const noexcept {
  if (is_null()) return "null";
  if (is_bool()) return "a boolean";
  if (is_number()) return "a number";
  if (is_string()) return "a string";
  if (is_array()) return "an array";
  return "an object";
}

void JsonTree::write(JsonWriter& w) const {
  if (is_null()) return w.null();
  if (is_bool()) return w.boolean(as_bool());
  if (is_number()) return w.number(as_number());
  if (is_string()) return w.string(as_string());
  if (is_array()) {
    w.begin_array();
    for (const auto& v : as_array()) v.write(w);
    return w.end_array();
  }
  w.begin_object();
  for (const auto& [k, v] : as_object()) {
    w.key(k);
    v.write(w);
  }
  w.end_object();
}

std::string JsonTree::to_json() const {
  std::string out;
  JsonWriter w(out);
  write(w);
  return out;
}

Result<JsonTree> parse_json(std::string_view text) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(text.data(), text.size()).get(root)) {
    return Status::invalid_argument(std::string("malformed JSON: ") + simdjson::error_message(err));
  }
  JsonTree out;
  TF_RETURN_IF_ERROR(convert(root, out, 0));
  return out;
}

}  // namespace tracefeed
