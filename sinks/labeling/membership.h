#pragma once
// Which traces belong to which labeling session — for the search side.
//
// MLflow treats a labeling session as an MLflow run ("Labeling Sessions are MLflow Runs"): the
// quickstart's step 6 calls mlflow.search_traces(run_id=labeling_session.mlflow_run_id). The
// MLflow client turns that into GET /api/2.0/mlflow/runs/get?run_id=… (the run's experiment_id
// must be among the searched experiments) and then a trace search whose filter has
// `attribute.run_id = '<run_id>'` appended (mlflow-skinny 3.x; older clients send
// `metadata.mlflow.sourceRun = '<run_id>'`). A search module answers both from this interface:
// a run id that names a session matches the traces in that session.
//
// Implemented by LabelingService. Thread-safe; calls take the affected sessions' locks briefly.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tracefeed::labeling {

// A labeling session seen as an MLflow run.
struct SessionRun {
  std::string run_id;         // mlflow_run_id (32 hex)
  std::string experiment_id;  // "0" unless the session was created with another
  std::string session_id;     // labeling_session_id
  std::string name;           // the session name; also the run name
  int64_t start_time_ms = 0;  // session creation time
};

class SessionMembership {
 public:
  virtual ~SessionMembership() = default;

  // The session whose mlflow_run_id (or labeling_session_id) is `run_id`; nullopt if none.
  [[nodiscard]] virtual std::optional<SessionRun> find_run(std::string_view run_id) const = 0;

  // The trace ids in that session, in arrival order; nullopt when no session has that run id.
  [[nodiscard]] virtual std::optional<std::vector<std::string>> traces_of_run(
      std::string_view run_id) const = 0;

  // The sessions `trace_id` has been added to.
  [[nodiscard]] virtual std::vector<SessionRun> sessions_of_trace(
      std::string_view trace_id) const = 0;
};

}  // namespace tracefeed::labeling
