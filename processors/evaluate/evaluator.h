#pragma once
// Evaluator: runs evaluations (POST /api/v1/evaluations) and the continuous evaluation rules.
//
// A run: gather the records (a labeling session's traces, a dataset, or a search filter),
// optionally re-run the app on each record's inputs (predict_url), score every record with
// every scorer, write each score as an assessment through the normal pipeline (the EventSink →
// Kafka → join, like any log_feedback), and keep the run — status, progress, per-record
// results, aggregates — in RocksDB (Family::meta, keys "eval/run/<id>" and
// "eval/res/<id>/<index>"; layout in README.md).
//
// Idempotent by construction: an assessment's id is derived from (evaluation id, trace id,
// scorer name), so a run that is retried — resumed after a crash or a restart, which every
// unfinished run is — rewrites the same assessments instead of adding new ones.
//
// Continuous: an evaluation rule names a labeling session and scorers; the labeling sink calls
// item_completed() when an item of that session completes, and its trace is scored (after the
// reviewer's labels are visible in the joined trace), with the same idempotent assessments
// (evaluation id "rule:<name>") and the on_score hook (tracefeed_eval_score{scorer}).
//
// Threads: `max_concurrent_runs` runner threads, each scoring one run with up to
// `record_concurrency` threads; `continuous_workers` threads for the rules. Judge calls are
// bounded over all of them by the judge's max_concurrency. Every queue is bounded: submit()
// answers unavailable (HTTP 503) when `max_queued_runs` runs wait; item_completed() answers
// unavailable when `continuous_queue` items wait. Public methods are thread-safe.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/event_sink.h"
#include "core/model.h"
#include "core/result.h"
#include "processors/evaluate/evaluation.h"
#include "processors/evaluate/judge.h"
#include "processors/evaluate/prompts.h"
#include "processors/evaluate/record.h"
#include "processors/evaluate/scorers.h"

namespace tracefeed::state {
class Store;
}
namespace tracefeed::http {
class Server;
}

namespace tracefeed::evaluate {

class PredictClient;

// A continuous evaluation rule (config: evaluation.rules[]).
struct ContinuousRule {
  // Unique; the evaluation id of its assessments is "rule:<name>". Required.
  std::string name;
  // The labeling session (id or name) whose completed items it scores. Required.
  std::string labeling_session;
  // At least one. Required.
  std::vector<ScorerSpec> scorers;
};

struct EvaluatorOptions {
  // The judge. base_url "" = none.
  JudgeOptions judge;
  // Directory whose <name>.txt files replace the built-in judge prompts. Default: "" (none).
  std::string prompts_dir;
  ScoringOptions scoring;
  // Calls to predict_url (the url comes from each request). Defaults: timeout 30 s, 2 retries,
  // 8 in flight per run.
  EndpointOptions predict = {.url = "", .timeout = std::chrono::seconds(30), .max_retries = 2, .max_concurrency = 8};
  // Calls to HTTP scorers (the url comes from each spec). Defaults: timeout 30 s, 2 retries,
  // 8 in flight per scorer.
  EndpointOptions http_scorer = {.url = "", .timeout = std::chrono::seconds(30), .max_retries = 2, .max_concurrency = 8};
  // Runs executing at once; others wait in the queue. 1..64. Default: 2.
  int max_concurrent_runs = 2;
  // Records of one run scored at once. 1..256. Default: 8.
  int record_concurrency = 8;
  // Runs waiting to start; more are refused with unavailable (503). Default: 16.
  size_t max_queued_runs = 16;
  // Most records in one run (requests may ask for fewer). Default: 100000.
  size_t max_records = 100'000;
  // Largest page of results a GET returns. Default: 1000.
  size_t max_results_page = 1000;
  // Results are written to RocksDB in batches of this many records (and at the end). Default: 64.
  size_t results_batch = 64;
  // How long a record's assessments are retried when the EventSink is unavailable before they
  // count as failed. Default: 30 s.
  std::chrono::milliseconds publish_retry_timeout{30'000};
  // Continuous evaluation rules. Default: none.
  std::vector<ContinuousRule> rules;
  // Completed items waiting to be scored by the rules; more are refused. Default: 1024.
  size_t continuous_queue = 1024;
  // Threads scoring completed items. 1..64. Default: 2.
  int continuous_workers = 2;
  // How long a completed item waits for its review's assessments to appear in the joined trace
  // before it is scored anyway. Default: 10 s.
  std::chrono::milliseconds label_wait{10'000};
  // Scores per scorer that score_gauges() averages (the most recent ones, from rules and runs).
  // Default: 1000.
  size_t score_window = 1000;
};

// Where records come from: wired by the runtime (sources.h has the TraceReader-backed ones).
// Each is called from runner threads and HTTP worker threads; each must be thread-safe. A
// missing function makes that kind of source unavailable (a request for it gets 400).
struct EvaluatorSources {
  // Trace ids matching a search filter (PRODUCT.md §5).
  std::function<Result<std::vector<std::string>>(const std::string& filter)> search;
  // Trace ids of a labeling session's items, by session id or name; not_found when unknown.
  std::function<Result<std::vector<std::string>>(const std::string& session)> session_traces;
  // A dataset's records (record_id, trace_id when it has a source trace, inputs, outputs,
  // expectations); version nullopt = latest; not_found when unknown.
  std::function<Result<std::vector<EvalRecord>>(const std::string& dataset, std::optional<int64_t> version)> dataset_records;
  // The joined trace (spans and assessments with valid flags); nullopt when unknown. Required.
  std::function<Result<std::optional<Trace>>(const std::string& trace_id)> get_trace;
};

struct EvaluatorHooks {
  // Called for every score with a numeric value ("yes" = 1, "no" = 0), from runs and rules, on
  // the scoring thread: keep it cheap. Default: none. (score_gauges() is the ready-made gauge.)
  std::function<void(std::string_view scorer, double value)> on_score;
};

// tracefeed_eval_score{scorer}: the mean of a scorer's most recent numeric scores.
struct ScoreGauge {
  std::string scorer;
  double mean = 0;
  uint64_t count = 0;  // scores in the window (at most score_window)
};

// A labeling item that completed (all its reviews are in).
struct CompletedItem {
  std::string labeling_session_id;
  std::string labeling_session_name;
  std::string trace_id;
  // The assessments the reviews produced: the item is scored once the joined trace shows them
  // (or after label_wait). Empty = score at once.
  std::vector<std::string> assessment_ids;
};

struct EvaluatorStats {
  uint64_t runs_submitted = 0, runs_done = 0, runs_failed = 0;
  uint64_t records_scored = 0;
  uint64_t assessments_written = 0, assessments_failed = 0;
  uint64_t continuous_scored = 0, continuous_rejected = 0;
  JudgeStats judge;
};

class Evaluator {
 public:
  // `store`, `sink` and `clock` must outlive the Evaluator.
  Evaluator(EvaluatorOptions options, EvaluatorSources sources, EvaluatorHooks hooks, state::Store& store, EventSink& sink,
            const Clock& clock);
  ~Evaluator();  // stop()
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  // Validates the options, loads the prompts, connects the judge (or notes why there is none),
  // builds the rules' scorers, resumes every stored run that had not finished, and starts the
  // threads. Errors name the option ("evaluation.rules[0].scorers[1].type: ...").
  [[nodiscard]] Status start();

  // Stops taking work, interrupts judge/predict/scorer calls and joins every thread. Runs that
  // were not finished stay "running" in the store and resume at the next start(). Idempotent.
  void stop();

  struct Submitted {
    std::string evaluation_id;
    RunStatus status = RunStatus::pending;
    bool existing = false;  // a request with this evaluation_id was already known
  };
  // Queues a run. For a labeling session or a dataset the records are looked up now, so an
  // unknown one is a not_found here. A client evaluation_id that is known answers that run
  // (existing = true) — unless it failed, then it runs again under the same id. Errors: invalid_argument (no such source wired),
  // not_found, conflict (evaluation_id taken by a different request), unavailable (queue full,
  // stopping).
  [[nodiscard]] Result<Submitted> submit(EvaluationRequest request);

  // The run's summary with one page of results (from index `page_token`, at most
  // `max_results`), as the GET body. not_found for an unknown id.
  [[nodiscard]] Result<std::string> get_json(const std::string& evaluation_id, uint64_t page_token, size_t max_results) const;
  // Every stored run's summary, newest first (at most `limit`).
  [[nodiscard]] Result<std::string> list_json(size_t limit) const;
  // Deletes a finished run and its results. conflict while it is pending or running.
  [[nodiscard]] Status remove(const std::string& evaluation_id);

  // Queues a completed labeling item for the rules of its session. ok when no rule matches.
  // unavailable when the continuous queue is full (counted in stats().continuous_rejected).
  [[nodiscard]] Status item_completed(CompletedItem item);

  // POST/GET /api/v1/evaluations, GET/DELETE /api/v1/evaluations/{id}.
  void register_routes(http::Server& server);

  [[nodiscard]] EvaluatorStats stats() const;
  // Per scorer, the mean of its last `score_window` numeric scores ("yes" = 1): the value of
  // tracefeed_eval_score{scorer}. Sorted by scorer. Thread-safe (the metrics scrape thread).
  [[nodiscard]] std::vector<ScoreGauge> score_gauges() const;
  // Why there is no judge ("" when there is one).
  [[nodiscard]] const std::string& judge_unavailable() const noexcept { return _judge_unavailable; }

  // The assessment id a score of (evaluation, trace, scorer) is written as.
  [[nodiscard]] static std::string score_assessment_id(std::string_view evaluation_id, std::string_view trace_id,
                                                       std::string_view scorer);

 private:
  struct Run;
  struct RuleState;
  struct ContinuousJob {
    size_t rule = 0;
    std::string trace_id;
    std::vector<std::string> assessment_ids;
  };
  // What scoring one record produced.
  struct Scored {
    std::vector<Score> scores;
    std::vector<std::string> assessment_ids;  // "" where not written
    uint64_t written = 0, failed = 0;
    // stop() came while scoring: the scores may be errors of interrupted calls, so they are
    // neither written nor counted (the record is scored again when the run resumes).
    bool interrupted = false;
  };

  Status validate_options() const;
  ScorerContext scorer_context() const;
  Result<std::vector<std::unique_ptr<Scorer>>> build_scorers(const std::vector<ScorerSpec>& specs, std::string_view path) const;
  Status gather(Run& run) const;
  Status resume_stored_runs();
  void runner_loop();
  void execute(const std::shared_ptr<Run>& run);
  void fail_run(Run& run, std::string code, std::string message);
  EvalRecord load_record(const Run& run, size_t index) const;
  Scored score_record(EvalRecord& record, const std::vector<std::unique_ptr<Scorer>>& scorers,
                      const std::string& evaluation_id, std::string_view rule);
  void publish_scores(const EvalRecord& record, const std::string& evaluation_id, std::string_view rule, Scored& scored);
  void flush_results(Run& run);
  Status persist_summary(const Run& run) const;
  void continuous_loop();
  void score_completed(const ContinuousJob& job);
  bool wait_stoppable(std::chrono::milliseconds d);

  EvaluatorOptions _options;
  EvaluatorSources _sources;
  EvaluatorHooks _hooks;
  state::Store& _store;
  EventSink& _sink;
  const Clock& _clock;

  std::optional<PromptLibrary> _prompts;
  std::unique_ptr<ChatCompletionsJudge> _judge;
  std::string _judge_unavailable;

  std::mutex _submit_mu;   // one submit() at a time (id check + store + queue)
  mutable std::mutex _mu;  // guards everything below up to the threads
  std::condition_variable _cv;
  bool _started = false;
  bool _stopping = false;
  std::map<std::string, std::shared_ptr<Run>> _active;  // pending and running
  std::deque<std::shared_ptr<Run>> _queue;
  std::deque<ContinuousJob> _continuous;
  std::vector<std::unique_ptr<RuleState>> _rules;

  std::vector<std::thread> _runners;
  std::vector<std::thread> _continuous_workers;

  struct Window {
    std::vector<double> values;  // ring of the last score_window scores
    size_t next = 0;
    double sum = 0;
  };
  mutable std::mutex _gauge_mu;
  std::map<std::string, Window, std::less<>> _gauges;

  std::atomic<bool> _halt{false};  // set by stop(), read between records without the lock
  std::atomic<uint64_t> _runs_submitted{0}, _runs_done{0}, _runs_failed{0}, _records_scored{0};
  std::atomic<uint64_t> _assessments_written{0}, _assessments_failed{0};
  std::atomic<uint64_t> _continuous_scored{0}, _continuous_rejected{0};
};

}  // namespace tracefeed::evaluate
