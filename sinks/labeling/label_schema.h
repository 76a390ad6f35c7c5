#pragma once
// Label schemas (PRODUCT.md §3, MLflow's create_label_schema): JSON in and out, validation of a
// schema, and validation of a reviewer's answer against its schema.
//
// The schema type is config's (config::LabelSchema with its LabelInput variant): a schema from
// the YAML file and one created through POST /api/v1/label-schemas are the same value.
// validate_label_schema() applies the rules of config's key table (config/schema.cc) — the
// bounds (1..100 options, max_length ranges, ...) are read from that table, not repeated here,
// so the file and the API can never disagree.
//
// All functions are pure and thread-safe.

#include <string>
#include <string_view>

#include "config/config.h"
#include "core/json_tree.h"
#include "core/json_writer.h"
#include "core/model.h"
#include "core/result.h"

namespace tracefeed::labeling {

// "categorical", "categorical_list", "text", "text_list", "numeric", "pass_fail".
[[nodiscard]] std::string_view input_kind_name(const config::LabelInput& input) noexcept;

// Checks every rule a schema from the config file must satisfy (name format, title, exactly the
// input's bounds). Errors are invalid_argument naming the field: `input.categorical.options[2]:
// duplicate option "Accurate"`.
[[nodiscard]] Status validate_label_schema(const config::LabelSchema& schema);

// The API body {name, type, title, instruction, enable_comment, input: {<kind>: {...}}} →
// validated schema. Unknown keys are errors (as in the config file), except `overwrite`, which
// belongs to the request rather than the schema and is read by the caller, and `source`, which
// GET adds (ignored).
[[nodiscard]] Result<config::LabelSchema> label_schema_from_json(const JsonTree& body);

// The settings of an input kind, the fields inside `"input": {"<kind>": {...}}` (options,
// max_length, min/max_value, labels...): shared by tracefeed's and MLflow's label schema JSON.
void write_input_settings(JsonWriter& w, const config::LabelInput& input);

// The schema as the API returns it (and as it is stored): every field, defaults included, and
// `"source": source` ("config" or "api") when `source` is not empty (the API shows it; the stored
// form has none).
void write_label_schema_json(JsonWriter& w, const config::LabelSchema& schema,
                             std::string_view source = {});

// Checks a reviewer's answer against its schema and returns the canonical JSON of the value
// that becomes the assessment's value:
//   categorical       a string among options                  → "Accurate"
//   categorical_list  distinct strings among options          → ["a","b"]
//   text              a string of at most max_length chars    → "..."
//   text_list         at most max_count strings, each at most max_length_each chars
//   numeric           a finite number in [min_value, max_value]
//   pass_fail         true/false, or the positive/negative label → true/false
// `path` names the field in errors ("labels.response_accuracy"). Lengths count Unicode code
// points ("characters", as the config describes max_length), not bytes.
[[nodiscard]] Result<JsonText> validate_label_value(const config::LabelSchema& schema,
                                                    const JsonTree& value, std::string_view path);

// Whether answers to this schema are categories that agreement (Cohen's / Fleiss' kappa) can be
// computed over: categorical, categorical_list (the set of picks is the category), numeric
// (exact values, nominal) and pass_fail. Free text is not.
[[nodiscard]] bool supports_agreement(const config::LabelSchema& schema) noexcept;

}  // namespace tracefeed::labeling
