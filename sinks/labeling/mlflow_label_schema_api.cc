#include "sinks/labeling/mlflow_label_schema_api.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <variant>

#include "http/server.h"
#include "sinks/labeling/json_fields.h"
#include "sinks/labeling/label_schema.h"

namespace tracefeed::labeling {
namespace {

constexpr int64_t kDefaultPageSize = 100;
constexpr int64_t kMaxPageSize = 1000;

Status check_keys(const JsonTree& obj, std::string_view path,
                  std::initializer_list<std::string_view> known) {
  return check_known_keys(obj, path, std::span<const std::string_view>(known.begin(), known.size()));
}

// Field readers. A null member reads as absent (protobuf's JSON form of an unset field).
const JsonTree* member(const JsonTree& obj, std::string_view key) {
  const JsonTree* v = obj.find(key);
  return v && !v->is_null() ? v : nullptr;
}

Result<std::optional<std::string>> opt_string(const JsonTree& obj, std::string_view key,
                                              std::string_view field) {
  const JsonTree* v = member(obj, key);
  if (!v) return std::optional<std::string>();
  if (!v->is_string()) return field_error(field, "expected a string, got " + std::string(v->type_name()));
  return std::optional<std::string>(v->as_string());
}

Result<std::string> req_string(const JsonTree& obj, std::string_view key) {
  TF_ASSIGN_OR_RETURN(auto v, opt_string(obj, key, key));
  if (!v || v->empty()) return field_error(key, "required");
  return *v;
}

Result<std::optional<bool>> opt_bool(const JsonTree& obj, std::string_view key,
                                     std::string_view field) {
  const JsonTree* v = member(obj, key);
  if (!v) return std::optional<bool>();
  if (v->is_bool()) return std::optional<bool>(v->as_bool());
  // Query strings and some JSON encoders send booleans as text.
  if (v->is_string() && (v->as_string() == "true" || v->as_string() == "false"))
    return std::optional<bool>(v->as_string() == "true");
  return field_error(field, "expected true or false, got " + std::string(v->type_name()));
}

// Protobuf's JSON form allows integers as numbers or as decimal strings (int64).
Result<std::optional<int64_t>> opt_int(const JsonTree& obj, std::string_view key,
                                       std::string_view field) {
  const JsonTree* v = member(obj, key);
  if (!v) return std::optional<int64_t>();
  if (v->is_number()) {
    const double d = v->as_number();
    if (std::floor(d) == d && std::fabs(d) <= 9.0e15)
      return std::optional<int64_t>(static_cast<int64_t>(d));
  } else if (v->is_string()) {
    const std::string& s = v->as_string();
    int64_t out = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && ptr == s.data() + s.size() && !s.empty())
      return std::optional<int64_t>(out);
  }
  return field_error(field, "expected an integer, got " + (v->is_string() ? json_quoted(v->as_string())
                                                                  : std::string(v->type_name())));
}

Result<std::optional<double>> opt_number(const JsonTree& obj, std::string_view key,
                                         std::string_view field) {
  const JsonTree* v = member(obj, key);
  if (!v) return std::optional<double>();
  if (v->is_number() && std::isfinite(v->as_number())) return std::optional<double>(v->as_number());
  return field_error(field, "expected a finite number, got " + std::string(v->type_name()));
}

Result<config::LabelSchemaType> type_from_json(const JsonTree& v) {
  if (v.is_string()) {
    const std::string& s = v.as_string();
    if (s == "FEEDBACK" || s == "feedback") return config::LabelSchemaType::feedback;
    if (s == "EXPECTATION" || s == "expectation") return config::LabelSchemaType::expectation;
    return field_error("type", "expected FEEDBACK or EXPECTATION, got " + json_quoted(s));
  }
  if (v.is_number() && v.as_number() == 1) return config::LabelSchemaType::feedback;
  if (v.is_number() && v.as_number() == 2) return config::LabelSchemaType::expectation;
  return field_error("type",
             "expected FEEDBACK or EXPECTATION, got " +
                 (v.is_number() ? std::to_string(v.as_number()) : std::string(v.type_name())));
}

// MLflow's LabelSchemaInput (exactly one of pass_fail, categorical, numeric, text).
Result<config::LabelInput> input_from_mlflow_json(const JsonTree& input) {
  constexpr std::string_view kKinds = "pass_fail, categorical, numeric, text";
  if (!input.is_object()) {
    return field_error("input", "expected an object with one of " + std::string(kKinds) + "; got " +
                            std::string(input.type_name()));
  }
  TF_RETURN_IF_ERROR(check_keys(input, "input", {"pass_fail", "categorical", "numeric", "text"}));
  const std::pair<std::string, JsonTree>* chosen = nullptr;
  size_t present = 0;
  for (const auto& kv : input.as_object()) {
    if (kv.second.is_null()) continue;
    ++present;
    chosen = &kv;
  }
  if (present != 1) {
    return field_error("input", "expected exactly one of " + std::string(kKinds) + "; got " +
                            std::to_string(present));
  }
  const auto& [kind, body] = *chosen;
  const std::string path = "input." + kind;
  if (!body.is_object())
    return field_error(path, "expected an object, got " + std::string(body.type_name()));
  auto field = [&](std::string_view key) { return path + "." + std::string(key); };
  if (kind == "pass_fail") {
    TF_RETURN_IF_ERROR(check_keys(body, path, {"positive_label", "negative_label"}));
    config::PassFailInput pf;
    TF_ASSIGN_OR_RETURN(auto pos, opt_string(body, "positive_label", field("positive_label")));
    TF_ASSIGN_OR_RETURN(auto neg, opt_string(body, "negative_label", field("negative_label")));
    if (pos) pf.positive_label = *pos;
    if (neg) pf.negative_label = *neg;
    return config::LabelInput(std::move(pf));
  }
  if (kind == "categorical") {
    TF_RETURN_IF_ERROR(check_keys(body, path, {"options", "multi_select"}));
    const JsonTree* v = member(body, "options");
    if (!v) return field_error(field("options"), "required");
    if (!v->is_array())
      return field_error(field("options"),
                 "expected an array of strings, got " + std::string(v->type_name()));
    std::vector<std::string> options;
    for (size_t i = 0; i < v->as_array().size(); ++i) {
      const JsonTree& o = v->as_array()[i];
      if (!o.is_string()) {
        return field_error(field("options") + "[" + std::to_string(i) + "]",
                   "expected a string, got " + std::string(o.type_name()));
      }
      options.push_back(o.as_string());
    }
    TF_ASSIGN_OR_RETURN(auto multi, opt_bool(body, "multi_select", field("multi_select")));
    if (multi.value_or(false))
      return config::LabelInput(config::CategoricalListInput{std::move(options)});
    return config::LabelInput(config::CategoricalInput{std::move(options)});
  }
  if (kind == "numeric") {
    TF_RETURN_IF_ERROR(check_keys(body, path, {"min_value", "max_value"}));
    TF_ASSIGN_OR_RETURN(auto lo, opt_number(body, "min_value", field("min_value")));
    TF_ASSIGN_OR_RETURN(auto hi, opt_number(body, "max_value", field("max_value")));
    return config::LabelInput(config::NumericInput{lo, hi});
  }
  TF_RETURN_IF_ERROR(check_keys(body, path, {"max_length"}));
  TF_ASSIGN_OR_RETURN(auto max_length, opt_int(body, "max_length", field("max_length")));
  return config::LabelInput(config::TextInput{max_length});
}

// validate_label_schema names tracefeed's fields; a multi-select categorical is tracefeed's
// categorical_list, which the MLflow caller sent as `input.categorical`.
Status validate_for_mlflow(const config::LabelSchema& schema) {
  Status s = validate_label_schema(schema);
  if (s.is_ok()) return s;
  std::string m = s.message();
  constexpr std::string_view from = "input.categorical_list.";
  if (m.starts_with(from)) m = "input.categorical." + m.substr(from.size());
  return Status{s.code(), std::move(m)};
}

Status check_representable(const config::LabelSchema& schema) {
  if (std::holds_alternative<config::TextListInput>(schema.input)) {
    return Status::invalid_argument(
        "label schema " + json_quoted(schema.name) +
        " has a text_list input, which MLflow's label schema API cannot represent; read it at GET "
        "/api/v1/label-schemas/" +
        schema.name);
  }
  return Status::ok();
}

void write_input(JsonWriter& w, const config::LabelInput& input) {
  // TextListInput is refused by check_representable before anything is written.
  const bool multi_select = std::holds_alternative<config::CategoricalListInput>(input);
  const bool categorical = multi_select || std::holds_alternative<config::CategoricalInput>(input);
  w.begin_object();
  w.key(categorical ? "categorical" : input_kind_name(input));  // MLflow: one categorical, multi_select
  w.begin_object();
  write_input_settings(w, input);
  if (categorical) w.field("multi_select", multi_select);
  w.end_object();
  w.end_object();
}

// http::write_error, with MLflow's name for a conflict: tracefeed's CONFLICT is not among the
// error codes the MLflow client knows (it would surface as INTERNAL_ERROR); RESOURCE_CONFLICT
// is, with the same 409.
void write_mlflow_error(http::Response& res, const Status& s) {
  http::write_error(res, s);
  if (s.code() != ErrorCode::conflict) return;
  std::string body;
  JsonWriter w(body);
  w.begin_object();
  w.field("error_code", "RESOURCE_CONFLICT");
  w.field("message", s.message());
  w.end_object();
  res.body = std::move(body);
}

// The request's fields: the JSON body, or for GET (and a DELETE without a body) the query
// string, as an object of strings.
Result<JsonTree> params_of(const http::Request& req) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    JsonTree::Object obj;
    for (const auto& [k, v] : req.query) {
      if (std::none_of(obj.begin(), obj.end(), [&](const auto& kv) { return kv.first == k; }))
        obj.emplace_back(k, JsonTree(v));
    }
    return JsonTree(std::move(obj));
  }
  TF_ASSIGN_OR_RETURN(JsonTree v, parse_json(req.body));
  if (!v.is_object())
    return Status::invalid_argument("expected a JSON object, got " + std::string(v.type_name()));
  return v;
}

// {"label_schema": {...}}
void reply_schema(http::Response& res, const config::LabelSchema& schema,
                  std::string_view experiment_id) {
  if (Status s = check_representable(schema); !s.is_ok()) return write_mlflow_error(res, s);
  std::string body;
  JsonWriter w(body);
  w.begin_object();
  w.key("label_schema");
  (void)write_mlflow_label_schema_json(w, schema, experiment_id);
  w.end_object();
  res.json(200, std::move(body));
}

Result<std::string> optional_experiment(const JsonTree& p) {
  TF_ASSIGN_OR_RETURN(auto e, opt_string(p, "experiment_id", "experiment_id"));
  return e.value_or("");
}

template <typename Handler>
void both_versions(http::Server& server, std::string_view method, std::string_view rpc,
                   const Handler& handler) {
  for (std::string_view prefix :
       {"/api/3.0/mlflow/label-schemas/", "/api/2.0/mlflow/label-schemas/"})
    server.route(method, std::string(prefix) + std::string(rpc), handler);
}

}  // namespace

Result<config::LabelSchema> label_schema_from_mlflow_json(const JsonTree& body) {
  if (!body.is_object())
    return Status::invalid_argument("expected a JSON object, got " + std::string(body.type_name()));
  TF_RETURN_IF_ERROR(check_keys(
      body, "", {"experiment_id", "name", "type", "input", "instruction", "enable_comment"}));
  TF_RETURN_IF_ERROR(optional_experiment(body).status());
  config::LabelSchema schema;
  TF_ASSIGN_OR_RETURN(schema.name, req_string(body, "name"));
  schema.title = schema.name;  // MLflow shows the name as the prompt
  const JsonTree* type = member(body, "type");
  if (!type) return field_error("type", "required (FEEDBACK or EXPECTATION)");
  TF_ASSIGN_OR_RETURN(schema.type, type_from_json(*type));
  TF_ASSIGN_OR_RETURN(auto instruction, opt_string(body, "instruction", "instruction"));
  schema.instruction = instruction.value_or("");
  TF_ASSIGN_OR_RETURN(auto comment, opt_bool(body, "enable_comment", "enable_comment"));
  schema.enable_comment = comment.value_or(false);
  const JsonTree* input = member(body, "input");
  if (!input) return field_error("input", "required (one of pass_fail, categorical, numeric, text)");
  TF_ASSIGN_OR_RETURN(schema.input, input_from_mlflow_json(*input));
  TF_RETURN_IF_ERROR(validate_for_mlflow(schema));
  return schema;
}

Status write_mlflow_label_schema_json(JsonWriter& w, const config::LabelSchema& schema,
                                      std::string_view experiment_id) {
  TF_RETURN_IF_ERROR(check_representable(schema));
  w.begin_object();
  w.field("schema_id", schema.name);
  if (!experiment_id.empty()) w.field("experiment_id", experiment_id);
  w.field("name", schema.name);
  w.field("type", schema.type == config::LabelSchemaType::feedback ? "FEEDBACK" : "EXPECTATION");
  if (!schema.instruction.empty()) w.field("instruction", schema.instruction);
  w.field("enable_comment", schema.enable_comment);
  w.key("input");
  write_input(w, schema.input);
  w.field("is_default", false);
  w.end_object();
  return Status::ok();
}

void register_mlflow_label_schema_routes(http::Server& server, LabelingService& service) {
  both_versions(server, "POST", "create",
                [&service](const http::Request& req, http::Response& res) {
                  auto p = params_of(req);
                  if (!p.is_ok()) return write_mlflow_error(res, p.status());
                  auto schema = label_schema_from_mlflow_json(*p);
                  if (!schema.is_ok()) return write_mlflow_error(res, schema.status());
                  const std::string experiment = optional_experiment(*p).value();
                  if (Status s = service.put_schema(*schema, /*overwrite=*/false); !s.is_ok())
                    return write_mlflow_error(res, s);
                  reply_schema(res, *schema, experiment);
                });

  both_versions(server, "GET", "get", [&service](const http::Request& req, http::Response& res) {
    auto p = params_of(req);
    if (!p.is_ok()) return write_mlflow_error(res, p.status());
    auto id = req_string(*p, "schema_id");
    if (!id.is_ok()) return write_mlflow_error(res, id.status());
    auto e = service.get_schema(*id);
    if (!e)
      return write_mlflow_error(
          res, Status::not_found("label schema " + json_quoted(*id) + " not found"));
    reply_schema(res, e->schema, "");
  });

  both_versions(
      server, "GET", "get-by-name", [&service](const http::Request& req, http::Response& res) {
        auto p = params_of(req);
        if (!p.is_ok()) return write_mlflow_error(res, p.status());
        auto name = req_string(*p, "name");
        if (!name.is_ok()) return write_mlflow_error(res, name.status());
        auto experiment = optional_experiment(*p);
        if (!experiment.is_ok()) return write_mlflow_error(res, experiment.status());
        auto e = service.get_schema(*name);
        if (!e)
          return write_mlflow_error(
              res, Status::not_found("label schema " + json_quoted(*name) + " not found"));
        reply_schema(res, e->schema, *experiment);
      });

  both_versions(server, "GET", "list", [&service](const http::Request& req, http::Response& res) {
    auto p = params_of(req);
    if (!p.is_ok()) return write_mlflow_error(res, p.status());
    auto experiment = optional_experiment(*p);
    if (!experiment.is_ok()) return write_mlflow_error(res, experiment.status());
    auto max = opt_int(*p, "max_results", "max_results");
    if (!max.is_ok()) return write_mlflow_error(res, max.status());
    const int64_t page_size = max->value_or(kDefaultPageSize);
    if (page_size < 1 || page_size > kMaxPageSize) {
      return write_mlflow_error(
          res, field_error("max_results", "expected an integer from 1 to " + std::to_string(kMaxPageSize) +
                                      ", got " + std::to_string(page_size)));
    }
    // The token is the name the next page starts at (names are unique; order is by name).
    auto token = opt_string(*p, "page_token", "page_token");
    if (!token.is_ok()) return write_mlflow_error(res, token.status());
    auto entries = service.list_schemas();
    std::sort(entries.begin(), entries.end(), [](const SchemaEntry& a, const SchemaEntry& b) {
      return a.schema.name < b.schema.name;
    });
    std::string body;
    JsonWriter w(body);
    w.begin_object();
    w.key("label_schemas");
    w.begin_array();
    int64_t n = 0;
    std::string next;
    for (const auto& e : entries) {
      if (token->has_value() && e.schema.name < **token) continue;
      if (!check_representable(e.schema).is_ok()) continue;  // text_list: /api/v1 only
      if (n == page_size) {
        next = e.schema.name;
        break;
      }
      (void)write_mlflow_label_schema_json(w, e.schema, *experiment);
      ++n;
    }
    w.end_array();
    if (!next.empty()) w.field("next_page_token", next);
    w.end_object();
    res.json(200, std::move(body));
  });

  both_versions(
      server, "PATCH", "update", [&service](const http::Request& req, http::Response& res) {
        auto p = params_of(req);
        if (!p.is_ok()) return write_mlflow_error(res, p.status());
        if (Status s =
                check_keys(*p, "", {"schema_id", "name", "instruction", "enable_comment", "input"});
            !s.is_ok()) {
          return write_mlflow_error(res, s);
        }
        auto id = req_string(*p, "schema_id");
        if (!id.is_ok()) return write_mlflow_error(res, id.status());
        auto existing = service.get_schema(*id);
        if (!existing)
          return write_mlflow_error(
              res, Status::not_found("label schema " + json_quoted(*id) + " not found"));
        config::LabelSchema schema = existing->schema;
        auto name = opt_string(*p, "name", "name");
        if (!name.is_ok()) return write_mlflow_error(res, name.status());
        if (*name && **name != schema.name) {
          return write_mlflow_error(
              res, field_error("name",
                       "renaming a label schema is not supported (answers and sessions refer to "
                       "it by name); create a new schema instead"));
        }
        auto instruction = opt_string(*p, "instruction", "instruction");
        if (!instruction.is_ok()) return write_mlflow_error(res, instruction.status());
        if (*instruction) schema.instruction = **instruction;
        auto comment = opt_bool(*p, "enable_comment", "enable_comment");
        if (!comment.is_ok()) return write_mlflow_error(res, comment.status());
        if (*comment) schema.enable_comment = **comment;
        if (const JsonTree* in = member(*p, "input")) {
          auto input = input_from_mlflow_json(*in);
          if (!input.is_ok()) return write_mlflow_error(res, input.status());
          if (input->index() != schema.input.index()) {
            auto categorical = [](const config::LabelInput& i) {
              return std::holds_alternative<config::CategoricalInput>(i) ||
                     std::holds_alternative<config::CategoricalListInput>(i);
            };
            const bool multi_switch = categorical(*input) && categorical(schema.input);
            return write_mlflow_error(
                res,
                multi_switch
                    ? field_error("input.categorical.multi_select", "cannot be changed after creation")
                    : field_error("input", "cannot change the input kind of " + json_quoted(schema.name) +
                                       " (it is " + std::string(input_kind_name(schema.input)) +
                                       "); create a new schema instead"));
          }
          schema.input = std::move(input).value();
        }
        if (Status s = validate_for_mlflow(schema); !s.is_ok()) return write_mlflow_error(res, s);
        if (Status s = service.put_schema(schema, /*overwrite=*/true); !s.is_ok())
          return write_mlflow_error(res, s);
        reply_schema(res, schema, "");
      });

  both_versions(
      server, "DELETE", "delete", [&service](const http::Request& req, http::Response& res) {
        auto p = params_of(req);
        if (!p.is_ok()) return write_mlflow_error(res, p.status());
        auto id = req_string(*p, "schema_id");
        if (!id.is_ok()) return write_mlflow_error(res, id.status());
        // MLflow's DeleteLabelSchema is a no-op for a schema that does not exist.
        if (Status s = service.delete_schema(*id); !s.is_ok() && s.code() != ErrorCode::not_found)
          return write_mlflow_error(res, s);
        res.json(200, "{}");
      });
}

}  // namespace tracefeed::labeling
