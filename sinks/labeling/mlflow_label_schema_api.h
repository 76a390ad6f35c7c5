#pragma once
// MLflow's label-schema REST API (mlflow >= 3.14, OSS tracking store) over LabelingService, so
// that mlflow.genai.label_schemas.{create,get,list,update,delete}_label_schema work against
// tracefeed unchanged. Paths and JSON are those of mlflow/protos/label_schemas.proto; each is
// served under /api/3.0/mlflow/label-schemas/ (what mlflow 3.17's RestStore calls) and
// /api/2.0/mlflow/label-schemas/.
//
// clang-format off
//   POST   …/create       {experiment_id, name, type, input, instruction, enable_comment}
//                                                    → {label_schema}   (409 if the name exists)
//   GET    …/get          ?schema_id=                → {label_schema}
//   GET    …/get-by-name  ?experiment_id=&name=      → {label_schema}
//   GET    …/list         ?experiment_id=&max_results=&page_token=
//                                                    → {label_schemas, next_page_token}
//   PATCH  …/update       {schema_id, name, instruction, enable_comment, input} → {label_schema}
//   DELETE …/delete       {schema_id}                → {}  (no-op when it does not exist)
// clang-format on
//
// The mapping onto tracefeed's schema (the same one the config file and /api/v1/label-schemas
// use):
//   - schema_id is the schema's name: tracefeed schemas are identified by name, globally.
//   - experiment_id is accepted and echoed back; the schemas are not scoped to an experiment
//     (every experiment sees the same set). Schemas read by schema_id carry none.
//   - title (which MLflow's OSS model lacks, and tracefeed requires) is the name: MLflow shows
//     the name to reviewers as the prompt. A schema updated through this API keeps its title.
//   - type FEEDBACK | EXPECTATION (or 1 | 2); input pass_fail | categorical (multi_select →
//     tracefeed's categorical_list) | numeric | text.
//   - A text_list schema (config file or /api/v1 only) has no MLflow OSS form: `list` leaves it
//     out and `get` answers 400 naming /api/v1/label-schemas.
//   - Renaming (update with another name) and changing the input kind are refused (400): answers
//     and sessions refer to a schema by name, and old answers must still fit their schema.
//   - Schemas from the config file are read-only here, as in /api/v1 (409).
// Errors are MLflow's {"error_code", "message"} with the field named
// (`input.categorical.options[1]: duplicate option "a"`); unknown keys are errors.
//
// Handlers run on the HTTP worker threads; the service is thread-safe.

#include <string_view>

#include "config/config.h"
#include "core/json_tree.h"
#include "core/json_writer.h"
#include "core/result.h"
#include "sinks/labeling/labeling_service.h"

namespace tracefeed::http {
class Server;
}

namespace tracefeed::labeling {

// Registers the routes above; `service` must outlive the server.
void register_mlflow_label_schema_routes(http::Server& server, LabelingService& service);

// A CreateLabelSchema body → a validated tracefeed schema (title = name).
[[nodiscard]] Result<config::LabelSchema> label_schema_from_mlflow_json(const JsonTree& body);

// MLflow's LabelSchema message for `schema`: {schema_id, [experiment_id], name, type, instruction,
// enable_comment, input, is_default}. Errors (invalid_argument) for a text_list schema, which
// MLflow's OSS model cannot express.
[[nodiscard]] Status write_mlflow_label_schema_json(JsonWriter& w,
                                                    const config::LabelSchema& schema,
                                                    std::string_view experiment_id);

}  // namespace tracefeed::labeling
