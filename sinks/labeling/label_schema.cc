#include "sinks/labeling/label_schema.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "config/schema.h"
#include "config/value_format.h"
#include "core/event_json.h"
#include "sinks/labeling/json_fields.h"

namespace tracefeed::labeling {
namespace {

using config::LabelInput;
using config::LabelSchema;

constexpr std::string_view kSchemaPath = "label_schemas[]";

// The config key table's row for a label-schema key ("input.text.max_length"). Every key used
// here has a row; a missing one is a bug caught by the unit tests.
const config::KeySpec& spec(std::string_view key) {
  static const config::KeySpec empty{};
  const config::KeySpec* s =
      config::find_key_spec(std::string(kSchemaPath) + "." + std::string(key));
  return s ? *s : empty;
}

std::string number_text(double v) {
  std::string out;
  JsonWriter w(out);
  w.number(v);
  return out;
}

size_t code_points(std::string_view s) noexcept {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// Keys of `obj` that the table does not list under `mapping` (plus `extra`) are errors, as in
// the config file: a typo ("max_lenght") must not silently become "unbounded".
Status check_keys(const JsonTree& obj, std::string_view mapping, std::string_view path,
                  std::initializer_list<std::string_view> extra = {}) {
  const auto known = config::child_keys(mapping);
  return check_known_keys(obj, path, known, std::span<const std::string_view>(extra.begin(), extra.size()));
}

Status check_options(const std::vector<std::string>& options, std::string_view path,
                     const config::KeySpec& s) {
  if (options.size() < s.min_items || options.size() > s.max_items) {
    return field_error(path, "expected " + std::to_string(s.min_items) + " to " +
                         std::to_string(s.max_items) + " options, got " +
                         std::to_string(options.size()));
  }
  std::set<std::string_view> seen;
  for (size_t i = 0; i < options.size(); ++i) {
    const std::string item = std::string(path) + "[" + std::to_string(i) + "]";
    if (options[i].empty()) return field_error(item, "must not be empty");
    if (!seen.insert(options[i]).second)
      return field_error(item, "duplicate option " + json_quoted(options[i]));
  }
  return Status::ok();
}

Status check_int_range(const std::optional<int64_t>& v, std::string_view path,
                       const config::KeySpec& s) {
  if (!v) return Status::ok();
  if ((s.min && *v < *s.min) || (s.max && *v > *s.max)) {
    return field_error(path, "expected an integer from " + number_text(s.min.value_or(0)) + " to " +
                         number_text(s.max.value_or(0)) + ", got " + std::to_string(*v));
  }
  return Status::ok();
}

// ---- JSON field readers: each names the field in its error ----

Result<std::string> read_string(const JsonTree& obj, std::string_view key, std::string_view path,
                                bool required, std::string fallback = "") {
  const JsonTree* v = obj.find(key);
  const std::string field = std::string(path) + std::string(key);
  if (!v) {
    if (required) return field_error(field, "required");
    return fallback;
  }
  if (!v->is_string()) return field_error(field, "expected a string, got " + std::string(v->type_name()));
  return v->as_string();
}

Result<std::optional<int64_t>> read_int(const JsonTree& obj, std::string_view key,
                                        std::string_view path) {
  const JsonTree* v = obj.find(key);
  if (!v) return std::optional<int64_t>();
  const std::string field = std::string(path) + std::string(key);
  if (!v->is_number()) return field_error(field, "expected an integer, got " + std::string(v->type_name()));
  const double d = v->as_number();
  if (!(std::floor(d) == d) || std::fabs(d) > 9.0e15)
    return field_error(field, "expected an integer, got " + number_text(d));
  return std::optional<int64_t>(static_cast<int64_t>(d));
}

Result<std::optional<double>> read_number(const JsonTree& obj, std::string_view key,
                                          std::string_view path) {
  const JsonTree* v = obj.find(key);
  if (!v) return std::optional<double>();
  if (!v->is_number() || !std::isfinite(v->as_number())) {
    return field_error(std::string(path) + std::string(key),
               "expected a number, got " + std::string(v->type_name()));
  }
  return std::optional<double>(v->as_number());
}

Result<std::vector<std::string>> read_options(const JsonTree& obj, std::string_view path) {
  const JsonTree* v = obj.find("options");
  const std::string field = std::string(path) + "options";
  if (!v) return field_error(field, "required");
  if (!v->is_array())
    return field_error(field, "expected an array of strings, got " + std::string(v->type_name()));
  std::vector<std::string> out;
  out.reserve(v->as_array().size());
  for (size_t i = 0; i < v->as_array().size(); ++i) {
    const JsonTree& item = v->as_array()[i];
    if (!item.is_string()) {
      return field_error(field + "[" + std::to_string(i) + "]",
                 "expected a string, got " + std::string(item.type_name()));
    }
    out.push_back(item.as_string());
  }
  return out;
}

Result<LabelInput> input_from_json(const JsonTree& input) {
  if (!input.is_object())
    return field_error("input",
               "expected an object with one of categorical, categorical_list, text, "
               "text_list, numeric, pass_fail; got " +
                   std::string(input.type_name()));
  TF_RETURN_IF_ERROR(check_keys(input, "label_schemas[].input", "input"));
  const auto& members = input.as_object();
  size_t present = 0;
  for (const auto& [k, v] : members) present += !v.is_null();
  if (present != 1) {
    return field_error("input",
               "expected exactly one of categorical, categorical_list, text, text_list, numeric, "
               "pass_fail; got " +
                   std::to_string(present));
  }
  for (const auto& [kind, body] : members) {
    if (body.is_null()) continue;
    const std::string path = "input." + kind + ".";
    if (!body.is_object())
      return field_error("input." + kind, "expected an object, got " + std::string(body.type_name()));
    TF_RETURN_IF_ERROR(check_keys(body, "label_schemas[].input." + kind, "input." + kind));
    if (kind == "categorical") {
      TF_ASSIGN_OR_RETURN(auto options, read_options(body, path));
      return LabelInput(config::CategoricalInput{std::move(options)});
    }
    if (kind == "categorical_list") {
      TF_ASSIGN_OR_RETURN(auto options, read_options(body, path));
      return LabelInput(config::CategoricalListInput{std::move(options)});
    }
    if (kind == "text") {
      TF_ASSIGN_OR_RETURN(auto max_length, read_int(body, "max_length", path));
      return LabelInput(config::TextInput{max_length});
    }
    if (kind == "text_list") {
      TF_ASSIGN_OR_RETURN(auto each, read_int(body, "max_length_each", path));
      TF_ASSIGN_OR_RETURN(auto count, read_int(body, "max_count", path));
      return LabelInput(config::TextListInput{each, count});
    }
    if (kind == "numeric") {
      TF_ASSIGN_OR_RETURN(auto lo, read_number(body, "min_value", path));
      TF_ASSIGN_OR_RETURN(auto hi, read_number(body, "max_value", path));
      return LabelInput(config::NumericInput{lo, hi});
    }
    config::PassFailInput pf;
    TF_ASSIGN_OR_RETURN(pf.positive_label,
                        read_string(body, "positive_label", path, false, pf.positive_label));
    TF_ASSIGN_OR_RETURN(pf.negative_label,
                        read_string(body, "negative_label", path, false, pf.negative_label));
    return LabelInput(std::move(pf));
  }
  return Status::internal("input: unreachable");
}

}  // namespace

std::string_view input_kind_name(const LabelInput& input) noexcept {
  switch (input.index()) {
    case 0:
      return "categorical";
    case 1:
      return "categorical_list";
    case 2:
      return "text";
    case 3:
      return "text_list";
    case 4:
      return "numeric";
    default:
      return "pass_fail";
  }
}

Status validate_label_schema(const LabelSchema& schema) {
  if (std::string why = config::check_name(schema.name); !why.empty()) return field_error("name", why);
  if (schema.title.empty()) return field_error("title", "must not be empty");
  return std::visit(
      [](const auto& in) -> Status {
        using T = std::decay_t<decltype(in)>;
        if constexpr (std::is_same_v<T, config::CategoricalInput>) {
          return check_options(in.options, "input.categorical.options",
                               spec("input.categorical.options"));
        } else if constexpr (std::is_same_v<T, config::CategoricalListInput>) {
          return check_options(in.options, "input.categorical_list.options",
                               spec("input.categorical_list.options"));
        } else if constexpr (std::is_same_v<T, config::TextInput>) {
          return check_int_range(in.max_length, "input.text.max_length",
                                 spec("input.text.max_length"));
        } else if constexpr (std::is_same_v<T, config::TextListInput>) {
          TF_RETURN_IF_ERROR(check_int_range(in.max_length_each, "input.text_list.max_length_each",
                                             spec("input.text_list.max_length_each")));
          return check_int_range(in.max_count, "input.text_list.max_count",
                                 spec("input.text_list.max_count"));
        } else if constexpr (std::is_same_v<T, config::NumericInput>) {
          if (in.min_value && in.max_value && !(*in.min_value < *in.max_value)) {
            return field_error("input.numeric.max_value",
                       "must be greater than min_value (" + number_text(*in.min_value) + ")");
          }
          return Status::ok();
        } else {
          if (in.positive_label.empty())
            return field_error("input.pass_fail.positive_label", "must not be empty");
          if (in.negative_label.empty())
            return field_error("input.pass_fail.negative_label", "must not be empty");
          if (in.positive_label == in.negative_label) {
            return field_error("input.pass_fail.negative_label",
                       "must differ from positive_label (" + json_quoted(in.positive_label) + ")");
          }
          return Status::ok();
        }
      },
      schema.input);
}

Result<LabelSchema> label_schema_from_json(const JsonTree& body) {
  if (!body.is_object())
    return Status::invalid_argument("expected a JSON object, got " + std::string(body.type_name()));
  // `overwrite` belongs to the request; `source` is what GET adds, so a schema read back can be
  // sent again as it is.
  TF_RETURN_IF_ERROR(check_keys(body, kSchemaPath, "", {"overwrite", "source"}));
  LabelSchema schema;
  TF_ASSIGN_OR_RETURN(schema.name, read_string(body, "name", "", true));
  TF_ASSIGN_OR_RETURN(std::string type, read_string(body, "type", "", true));
  if (type == "feedback") {
    schema.type = config::LabelSchemaType::feedback;
  } else if (type == "expectation") {
    schema.type = config::LabelSchemaType::expectation;
  } else {
    return field_error("type", "expected \"feedback\" or \"expectation\", got " + json_quoted(type));
  }
  TF_ASSIGN_OR_RETURN(schema.title, read_string(body, "title", "", true));
  TF_ASSIGN_OR_RETURN(schema.instruction, read_string(body, "instruction", "", false));
  if (const JsonTree* c = body.find("enable_comment")) {
    if (!c->is_bool())
      return field_error("enable_comment", "expected true or false, got " + std::string(c->type_name()));
    schema.enable_comment = c->as_bool();
  }
  const JsonTree* input = body.find("input");
  if (!input) return field_error("input", "required");
  TF_ASSIGN_OR_RETURN(schema.input, input_from_json(*input));
  TF_RETURN_IF_ERROR(validate_label_schema(schema));
  return schema;
}

void write_input_settings(JsonWriter& w, const LabelInput& input) {
  std::visit(
      [&](const auto& in) {
        using T = std::decay_t<decltype(in)>;
        if constexpr (std::is_same_v<T, config::CategoricalInput> ||
                      std::is_same_v<T, config::CategoricalListInput>) {
          w.key("options");
          w.begin_array();
          for (const auto& o : in.options) w.string(o);
          w.end_array();
        } else if constexpr (std::is_same_v<T, config::TextInput>) {
          if (in.max_length) w.field_int("max_length", *in.max_length);
        } else if constexpr (std::is_same_v<T, config::TextListInput>) {
          if (in.max_length_each) w.field_int("max_length_each", *in.max_length_each);
          if (in.max_count) w.field_int("max_count", *in.max_count);
        } else if constexpr (std::is_same_v<T, config::NumericInput>) {
          if (in.min_value) {
            w.key("min_value");
            w.number(*in.min_value);
          }
          if (in.max_value) {
            w.key("max_value");
            w.number(*in.max_value);
          }
        } else {
          w.field("positive_label", in.positive_label);
          w.field("negative_label", in.negative_label);
        }
      },
      input);
}

void write_label_schema_json(JsonWriter& w, const LabelSchema& schema, std::string_view source) {
  w.begin_object();
  w.field("name", schema.name);
  w.field("type", config::label_schema_type_name(schema.type));
  w.field("title", schema.title);
  w.field("instruction", schema.instruction);
  w.field("enable_comment", schema.enable_comment);
  w.key("input");
  w.begin_object();
  w.key(input_kind_name(schema.input));
  w.begin_object();
  write_input_settings(w, schema.input);
  w.end_object();
  w.end_object();
  if (!source.empty()) w.field("source", source);
  w.end_object();
}

Result<JsonText> validate_label_value(const LabelSchema& schema, const JsonTree& value,
                                      std::string_view path) {
  std::string out;
  JsonWriter w(out);
  auto expected = [&](std::string_view what) {
    return field_error(path, "expected " + std::string(what) + ", got " + std::string(value.type_name()));
  };
  auto check_text = [&](std::string_view text, const std::optional<int64_t>& max,
                        std::string_view field) -> Status {
    if (max) {
      const size_t n = code_points(text);
      if (n > static_cast<size_t>(*max)) {
        return field_error(field, "longer than " + std::to_string(*max) + " characters (" +
                              std::to_string(n) + ")");
      }
    }
    return Status::ok();
  };
  auto one_of = [](const std::vector<std::string>& options) {
    std::string s = "[";
    for (size_t i = 0; i < options.size(); ++i) s += (i ? ", " : "") + json_quoted(options[i]);
    return s + "]";
  };
  Status status = std::visit(
      [&](const auto& in) -> Status {
        using T = std::decay_t<decltype(in)>;
        if constexpr (std::is_same_v<T, config::CategoricalInput>) {
          if (!value.is_string()) return expected("one of " + one_of(in.options));
          if (std::find(in.options.begin(), in.options.end(), value.as_string()) ==
              in.options.end()) {
            return field_error(path,
                       json_quoted(value.as_string()) + " is not one of " + one_of(in.options));
          }
          w.string(value.as_string());
        } else if constexpr (std::is_same_v<T, config::CategoricalListInput>) {
          if (!value.is_array()) return expected("an array of options from " + one_of(in.options));
          std::set<std::string_view> seen;
          w.begin_array();
          for (size_t i = 0; i < value.as_array().size(); ++i) {
            const JsonTree& item = value.as_array()[i];
            const std::string field = std::string(path) + "[" + std::to_string(i) + "]";
            if (!item.is_string())
              return field_error(field, "expected a string, got " + std::string(item.type_name()));
            if (std::find(in.options.begin(), in.options.end(), item.as_string()) ==
                in.options.end()) {
              return field_error(field,
                         json_quoted(item.as_string()) + " is not one of " + one_of(in.options));
            }
            if (!seen.insert(item.as_string()).second)
              return field_error(field, "duplicate option " + json_quoted(item.as_string()));
            w.string(item.as_string());
          }
          w.end_array();
        } else if constexpr (std::is_same_v<T, config::TextInput>) {
          if (!value.is_string()) return expected("a string");
          TF_RETURN_IF_ERROR(check_text(value.as_string(), in.max_length, path));
          w.string(value.as_string());
        } else if constexpr (std::is_same_v<T, config::TextListInput>) {
          if (!value.is_array()) return expected("an array of strings");
          const auto& items = value.as_array();
          if (in.max_count && items.size() > static_cast<size_t>(*in.max_count)) {
            return field_error(path, "more than " + std::to_string(*in.max_count) + " items (" +
                                 std::to_string(items.size()) + ")");
          }
          w.begin_array();
          for (size_t i = 0; i < items.size(); ++i) {
            const std::string field = std::string(path) + "[" + std::to_string(i) + "]";
            if (!items[i].is_string())
              return field_error(field, "expected a string, got " + std::string(items[i].type_name()));
            TF_RETURN_IF_ERROR(check_text(items[i].as_string(), in.max_length_each, field));
            w.string(items[i].as_string());
          }
          w.end_array();
        } else if constexpr (std::is_same_v<T, config::NumericInput>) {
          if (!value.is_number() || !std::isfinite(value.as_number())) return expected("a number");
          const double v = value.as_number();
          if ((in.min_value && v < *in.min_value) || (in.max_value && v > *in.max_value)) {
            return field_error(
                path, number_text(v) + " is out of range [" +
                          (in.min_value ? number_text(*in.min_value) : std::string("-inf")) + ", " +
                          (in.max_value ? number_text(*in.max_value) : std::string("inf")) + "]");
          }
          w.number(v);
        } else {
          if (value.is_bool()) {
            w.boolean(value.as_bool());
          } else if (value.is_string() && value.as_string() == in.positive_label) {
            w.boolean(true);
          } else if (value.is_string() && value.as_string() == in.negative_label) {
            w.boolean(false);
          } else {
            return field_error(path, "expected true, false, " + json_quoted(in.positive_label) + " or " +
                                 json_quoted(in.negative_label) + ", got " +
                                 (value.is_string() ? json_quoted(value.as_string())
                                                    : std::string(value.type_name())));
          }
        }
        return Status::ok();
      },
      schema.input);
  TF_RETURN_IF_ERROR(status);
  if (out.size() > kMaxAssessmentValueBytes) {
    return field_error(path, "value larger than " + std::to_string(kMaxAssessmentValueBytes) + " bytes");
  }
  return out;
}

bool supports_agreement(const LabelSchema& schema) noexcept {
  return !std::holds_alternative<config::TextInput>(schema.input) &&
         !std::holds_alternative<config::TextListInput>(schema.input);
}

}  // namespace tracefeed::labeling
