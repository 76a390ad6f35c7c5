#pragma once
// An evaluation dataset record and how one is built from a joined trace (docs/datasets.md).
//
// A record is what MLflow's `EvaluationDataset.merge_records(traces)` makes of a trace:
// `inputs` = the root span's inputs, `outputs` = its outputs, `expectations` = the trace's valid
// expectation assessments by name, `source` = the trace. tracefeed adds lineage: where the record
// came from (the eval topic's partition and offset and the rule, or the API) and which
// assessments its expectations came from (and their labeling sessions).
//
// Pure functions: no I/O, no clock. Thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json_writer.h"
#include "core/model.h"
#include "core/result.h"

namespace tracefeed::eval {

// Largest dataset name, in bytes.
inline constexpr size_t kMaxDatasetNameBytes = 256;

// Where a dataset member came from. Kept from the first add: a later refresh (an expert label
// arriving) changes the record's content, not its origin.
struct RecordOrigin {
  enum class Via : uint8_t { eval_topic, api };
  Via via = Via::api;
  // The eval record that added the trace (via == eval_topic); empty / -1 otherwise.
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  std::string rule;
};

[[nodiscard]] std::string_view to_string(RecordOrigin::Via via) noexcept;  // "eval_topic", "api"

// The content of a record: everything that, when it changes, makes a new dataset version.
struct RecordContent {
  std::string trace_id;
  // The root span's inputs, as a JSON object: inputs that are not an object are wrapped as
  // {"request": <inputs>} (mlflow.genai.evaluate passes inputs to predict_fn as keyword
  // arguments). Empty = no root span yet (written as null).
  JsonText inputs;
  // The root span's outputs, any JSON. Empty = absent (written as null).
  JsonText outputs;
  // Valid expectation assessments, one per name (the most recently updated wins), sorted by name.
  std::vector<std::pair<std::string, JsonText>> expectations;
  // The assessments `expectations` came from, in the order of `expectations`.
  std::vector<std::string> assessment_ids;
  // Distinct tracefeed.labeling_session_id metadata of those assessments, sorted.
  std::vector<std::string> labeling_session_ids;

  bool operator==(const RecordContent&) const = default;
};

// Builds the content from a joined trace (trace_info.assessments filled, spans included).
[[nodiscard]] RecordContent build_record_content(const Trace& joined);

// A stable 64-bit digest of the content (XXH64 over a length-prefixed encoding): equal content,
// equal hash, so re-adding an unchanged trace makes no new version.
[[nodiscard]] uint64_t content_hash(const RecordContent& content);

// Everything a stored record line holds besides its content.
struct RecordEnvelope {
  std::string dataset_name;
  int64_t version = 0;           // the dataset version in which this content was written
  UnixNanos create_time = 0;     // when the trace joined the dataset
  UnixNanos last_update_time = 0;
  RecordOrigin origin;
};

// Writes one record as a JSON object (one JSONL line without the newline):
// {dataset_record_id, dataset_id, dataset_name, version, inputs, outputs, expectations,
//  source: {source_type: "TRACE", source_data: {trace_id}}, create_time, last_update_time,
//  lineage: {via, topic, partition, offset, rule, assessment_ids, labeling_session_ids}}.
void write_record_json(JsonWriter& w, const RecordContent& content, const RecordEnvelope& envelope);

// "d-" + 32 hex, derived from the name: the same dataset has the same id everywhere.
[[nodiscard]] std::string dataset_id_for(std::string_view dataset_name);
// "dr-" + 32 hex, derived from (dataset name, trace id): one record per trace per dataset.
[[nodiscard]] std::string record_id_for(std::string_view dataset_name, std::string_view trace_id);

// A dataset name: 1..256 bytes of UTF-8, no control characters, no '/', not "." or "..".
// Errors name `field` ("name: ...", "dataset: ...").
[[nodiscard]] Status validate_dataset_name(std::string_view name, std::string_view field = "name");

}  // namespace tracefeed::eval
