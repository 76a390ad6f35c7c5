#pragma once
// The evaluation API's data: the request (POST /api/v1/evaluations), a run's summary with its
// aggregates (GET /api/v1/evaluations/{id}), and one record's result. JSON in and out; the same
// JSON is what the run store keeps in RocksDB.
//
// Pure functions and plain structs; thread-compatible.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json_tree.h"
#include "core/json_writer.h"
#include "core/result.h"
#include "processors/evaluate/record.h"
#include "processors/evaluate/score.h"
#include "processors/evaluate/scorers.h"

namespace tracefeed::evaluate {

enum class RunStatus : uint8_t { pending, running, done, failed };
[[nodiscard]] std::string_view to_string(RunStatus s) noexcept;  // "pending", "running", "done", "failed"
[[nodiscard]] std::optional<RunStatus> parse_run_status(std::string_view s) noexcept;

// Where the records come from: exactly one of the three.
struct RecordSource {
  enum class Kind : uint8_t { labeling_session, dataset, filter };
  Kind kind = Kind::labeling_session;
  // The labeling session (id or name, as the runtime's resolver accepts), the dataset name, or
  // the search filter (PRODUCT.md §5; "" = every trace).
  std::string value;
  // Dataset version; nullopt = the latest.
  std::optional<int64_t> dataset_version;
  bool operator==(const RecordSource&) const = default;
};

struct EvaluationRequest {
  // Client-chosen id ([A-Za-z0-9_-], 1..64): POSTing the same request again returns the same
  // run instead of starting another. Empty = the server makes "ev-" + 32 hex.
  std::string evaluation_id;
  // Display name. Default: "".
  std::string name;
  RecordSource source;
  std::vector<ScorerSpec> scorers;
  // Re-run the app on every record's inputs (predict.h). Default: "" (score the traces' outputs).
  std::string predict_url;
  // Most records to evaluate (the first ones found). 0 = the server's limit.
  size_t max_records = 0;

  // The canonical JSON form: what is stored and echoed.
  void write(JsonWriter& w) const;
  bool operator==(const EvaluationRequest&) const = default;
};

// Parses a request body (or a stored request). Errors name the field:
//   {labeling_session_id | dataset | filter, scorers, predict_url?, evaluation_id?, name?,
//    max_records?}
// `dataset` is a name or {name, version}; `filter` is checked with the search grammar (the error
// gives the position). `max_records_limit` bounds max_records (and is its default).
[[nodiscard]] Result<EvaluationRequest> parse_evaluation_request(const JsonTree& json, size_t max_records_limit);

// Aggregates of one scorer over a run (or a rule): MLflow's metric names "<scorer>/mean", ...
class ScorerAggregate {
 public:
  void add(const Score& score);
  // Flattened into the aggregates object:
  //   <name>/mean    yes/no: share of "yes"; numbers: the mean (absent when nothing scored)
  //   <name>/count   scored records (errors excluded)
  //   <name>/errors  records the scorer could not score
  //   <name>/yes, <name>/no      for yes/no scorers
  //   <name>/min, <name>/max     for numeric scorers
  void write_fields(JsonWriter& w, const std::string& name) const;
  [[nodiscard]] std::optional<double> mean() const noexcept;
  [[nodiscard]] uint64_t count() const noexcept { return _count; }
  [[nodiscard]] uint64_t errors() const noexcept { return _errors; }
  [[nodiscard]] uint64_t yes() const noexcept { return _yes; }
  [[nodiscard]] uint64_t no() const noexcept { return _no; }

 private:
  uint64_t _count = 0, _errors = 0, _yes = 0, _no = 0, _numeric = 0, _other = 0;
  double _sum = 0, _min = 0, _max = 0;
};

struct RunError {
  std::string error_code;
  std::string message;
};

struct RunSummary {
  std::string evaluation_id;
  EvaluationRequest request;
  RunStatus status = RunStatus::pending;
  int64_t created_ns = 0, started_ns = 0, finished_ns = 0;  // 0 = not yet
  uint64_t total = 0;          // records found (after max_records)
  uint64_t completed = 0;      // records processed (scored or failed)
  uint64_t record_errors = 0;  // records that could not be scored at all
  uint64_t assessments_written = 0;
  uint64_t assessments_failed = 0;
  std::vector<std::pair<std::string, ScorerAggregate>> aggregates;  // in scorer order
  std::vector<std::string> warnings;
  std::optional<RunError> error;  // status failed: why

  // {evaluation_id, name, status, request, created_time, started_time, finished_time,
  //  progress: {total, completed, record_errors}, aggregates: {...}, assessments: {written,
  //  failed}, warnings: [...], error: {error_code, message}}
  void write(JsonWriter& w) const;
};

// What a stored summary must give back to resume a run: id, request, status, created time.
[[nodiscard]] Result<RunSummary> parse_run_summary_for_resume(std::string_view json, size_t max_records_limit);

// One record's result line (GET results, --output JSONL):
// {index, record_id, trace_id, inputs, outputs, outputs_predicted, expectations, latency_ms,
//  scores: {<name>: {value, rationale, source, error, span_id, assessment_id}}, error}
void write_record_result(JsonWriter& w, uint64_t index, const EvalRecord& record, const std::vector<Score>& scores,
                         const std::vector<std::string>& assessment_ids);

}  // namespace tracefeed::evaluate
