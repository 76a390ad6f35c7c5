#include "processors/evaluate/evaluator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

#include "core/event_json.h"
#include "core/hash.h"
#include "core/ids.h"
#include "core/json_tree.h"
#include "core/time_format.h"
#include "http/server.h"
#include "processors/evaluate/predict.h"
#include "state/store.h"
#include "state/write_batch.h"

namespace tracefeed::evaluate {
namespace {

using state::Family;

constexpr std::string_view kRunPrefix = "eval/run/";
constexpr std::string_view kResultPrefix = "eval/res/";
constexpr std::string_view kEvaluationIdKey = "tracefeed.evaluation_id";
constexpr std::string_view kEvaluationRuleKey = "tracefeed.evaluation_rule";
constexpr std::string_view kOutputsKey = "tracefeed.evaluation.outputs";

std::string run_key(std::string_view id) { return std::string(kRunPrefix) + std::string(id); }

std::string result_prefix(std::string_view id) { return std::string(kResultPrefix) + std::string(id) + "/"; }

std::string result_key(std::string_view id, uint64_t index) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%012llu", static_cast<unsigned long long>(index));
  return result_prefix(id) + digits;
}

int64_t to_ns(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::string hex32(uint64_t a, uint64_t b) {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(a), static_cast<unsigned long long>(b));
  return buf;
}

// The event id of one published score: the same content publishes as the same event (a retried
// run is deduplicated by the pipeline), changed content as a new event that replaces the
// assessment of the same id (a re-scored item).
std::string score_event_id(const Assessment& a, const Score& s) {
  Xxh64 h1(0x65766131), h2(0x65766132);
  for (Xxh64* h : {&h1, &h2}) {
    h->update(a.assessment_id);
    h->update(std::string_view("\0", 1));
    h->update(s.feedback.value);
    h->update(std::string_view("\0", 1));
    h->update(s.rationale);
    if (s.feedback.error) {
      h->update(s.feedback.error->error_code);
      h->update(s.feedback.error->error_message);
    }
    h->update(s.source.source_id);
    h->update(s.span_id);
  }
  return hex32(h1.digest(), h2.digest());
}

bool retryable(ErrorCode c) { return c == ErrorCode::unavailable || c == ErrorCode::timeout; }

// "IO_ERROR", "NOT_FOUND", ...: the codes of the HTTP API's errors.
std::string code_name(ErrorCode c) { return std::string(error_code_name(c)); }

}  // namespace

struct Evaluator::Run {
  mutable std::mutex mu;
  RunSummary summary;  // guarded by mu
  std::vector<std::pair<uint64_t, std::string>> pending_results;  // guarded by mu
  // Gathered records (exactly one is set once gathered).
  bool gathered = false;
  std::vector<std::string> trace_ids;
  std::vector<EvalRecord> records;
  bool from_records = false;
  // Serializes flushes, so a batch never overtakes an earlier one.
  std::mutex flush_mu;
  // While executing: what stop() must interrupt. Guarded by Evaluator::_mu.
  std::vector<std::unique_ptr<Scorer>>* scorers = nullptr;
  PredictClient* predict = nullptr;
};

struct Evaluator::RuleState {
  ContinuousRule rule;
  std::string evaluation_id;  // "rule:<name>"
  std::vector<std::unique_ptr<Scorer>> scorers;
};

Evaluator::Evaluator(EvaluatorOptions options, EvaluatorSources sources, EvaluatorHooks hooks, state::Store& store,
                     EventSink& sink, const Clock& clock)
    : _options(std::move(options)), _sources(std::move(sources)), _hooks(std::move(hooks)), _store(store), _sink(sink),
      _clock(clock) {}

Evaluator::~Evaluator() { stop(); }

std::string Evaluator::score_assessment_id(std::string_view evaluation_id, std::string_view trace_id, std::string_view scorer) {
  std::string seed = "tracefeed.evaluate";
  for (std::string_view part : {evaluation_id, trace_id, scorer}) {
    seed.push_back('\0');
    seed += part;
  }
  return assessment_id_from(seed);
}

Status Evaluator::validate_options() const {
  std::string errors;
  auto bad = [&](const std::string& e) { errors += (errors.empty() ? "" : "; ") + e; };
  const auto& o = _options;
  if (o.max_concurrent_runs < 1 || o.max_concurrent_runs > 64) bad("evaluation.max_concurrent_runs: must be 1..64");
  if (o.record_concurrency < 1 || o.record_concurrency > 256) bad("evaluation.record_concurrency: must be 1..256");
  if (o.continuous_workers < 1 || o.continuous_workers > 64) bad("evaluation.continuous_workers: must be 1..64");
  if (o.max_queued_runs < 1) bad("evaluation.max_queued_runs: must be at least 1");
  if (o.max_records < 1) bad("evaluation.max_records: must be at least 1");
  if (o.max_results_page < 1) bad("evaluation.max_results_page: must be at least 1");
  if (o.results_batch < 1) bad("evaluation.results_batch: must be at least 1");
  if (o.continuous_queue < 1) bad("evaluation.continuous_queue: must be at least 1");
  if (o.score_window < 1) bad("evaluation.score_window: must be at least 1");
  if (!(o.scoring.correctness_recall_threshold > 0 && o.scoring.correctness_recall_threshold <= 1)) {
    bad("evaluation.correctness_recall_threshold: must be in (0, 1]");
  }
  if (!(o.scoring.fact_token_threshold > 0 && o.scoring.fact_token_threshold <= 1)) bad("evaluation.fact_token_threshold: must be in (0, 1]");
  if (o.scoring.max_prompt_field_bytes < 256) bad("evaluation.max_prompt_field_bytes: must be at least 256");
  if (!_sources.get_trace) bad("evaluator sources: get_trace is required");
  for (size_t i = 0; i < o.rules.size(); ++i) {
    const auto& r = o.rules[i];
    const std::string path = "evaluation.rules[" + std::to_string(i) + "]";
    if (r.name.empty()) bad(path + ".name: required");
    if (r.labeling_session.empty()) bad(path + ".labeling_session: required");
    if (r.scorers.empty()) bad(path + ".scorers: at least one scorer is required");
    for (size_t j = 0; j < i; ++j) {
      if (o.rules[j].name == r.name) bad(path + ".name: \"" + r.name + "\" is used twice");
    }
  }
  if (!errors.empty()) return Status::invalid_argument(errors);
  return Status::ok();
}

ScorerContext Evaluator::scorer_context() const {
  ScorerContext ctx;
  ctx.judge = _judge.get();
  ctx.judge_unavailable = _judge_unavailable;
  ctx.prompts = &*_prompts;
  ctx.scoring = _options.scoring;
  ctx.http_scorer = _options.http_scorer;
  return ctx;
}

Result<std::vector<std::unique_ptr<Scorer>>> Evaluator::build_scorers(const std::vector<ScorerSpec>& specs,
                                                                       std::string_view path) const {
  const ScorerContext ctx = scorer_context();
  std::vector<std::unique_ptr<Scorer>> out;
  for (size_t i = 0; i < specs.size(); ++i) {
    auto s = make_scorer(specs[i], ctx);
    if (!s.is_ok()) return s.status().with_context(std::string(path) + "[" + std::to_string(i) + "]");
    out.push_back(std::move(s).value());
  }
  return out;
}

Status Evaluator::start() {
  {
    std::lock_guard lock(_mu);
    if (_started) return Status::ok();
    if (_stopping) return Status::unavailable("evaluator: stopped; make a new one");
  }
  TF_RETURN_IF_ERROR(validate_options());
  auto prompts = PromptLibrary::load(_options.prompts_dir);
  if (!prompts.is_ok()) return prompts.status().with_context("evaluation.prompts_dir");
  _prompts = std::move(prompts).value();

  _judge_unavailable = judge_unavailable_reason(_options.judge);
  if (_judge_unavailable.empty()) {
    auto judge = ChatCompletionsJudge::create(_options.judge);
    if (!judge.is_ok()) return judge.status();
    _judge = std::move(judge).value();
    spdlog::info("evaluate: judge {} at {} ({} in flight at most)", _options.judge.model, _options.judge.base_url,
                 _options.judge.max_concurrency);
  } else {
    spdlog::warn("evaluate: {}. LLM scorers will report JUDGE_NOT_CONFIGURED; correctness falls back to token matching.",
                 _judge_unavailable);
  }

  for (size_t i = 0; i < _options.rules.size(); ++i) {
    auto rs = std::make_unique<RuleState>();
    rs->rule = _options.rules[i];
    rs->evaluation_id = "rule:" + rs->rule.name;
    const std::string path = "evaluation.rules[" + std::to_string(i) + "].scorers";
    for (size_t j = 0; j < rs->rule.scorers.size(); ++j) {
      auto spec = normalize_scorer_spec(rs->rule.scorers[j], path + "[" + std::to_string(j) + "]");
      if (!spec.is_ok()) return spec.status();
      for (size_t k = 0; k < j; ++k) {
        if (rs->rule.scorers[k].name == spec->name) {
          return Status::invalid_argument(path + "[" + std::to_string(j) + "]: scorer name \"" + spec->name + "\" is used twice");
        }
      }
      rs->rule.scorers[j] = std::move(spec).value();
    }
    auto scorers = build_scorers(rs->rule.scorers, path);
    if (!scorers.is_ok()) return scorers.status();
    rs->scorers = std::move(scorers).value();
    _rules.push_back(std::move(rs));
  }
  TF_RETURN_IF_ERROR(resume_stored_runs());

  std::lock_guard lock(_mu);
  _started = true;
  for (int i = 0; i < _options.max_concurrent_runs; ++i) _runners.emplace_back([this] { runner_loop(); });
  if (!_rules.empty()) {
    for (int i = 0; i < _options.continuous_workers; ++i) _continuous_workers.emplace_back([this] { continuous_loop(); });
  }
  return Status::ok();
}

void Evaluator::stop() {
  {
    std::lock_guard lock(_mu);
    if (_stopping) return;
    _stopping = true;
    _halt = true;
    // Interrupt what is in flight: the runners then see _stopping between records.
    if (_judge) _judge->cancel();
    for (auto& [id, run] : _active) {
      if (run->scorers) {
        for (auto& s : *run->scorers) s->cancel();
      }
      if (run->predict) run->predict->cancel();
    }
    for (auto& r : _rules) {
      for (auto& s : r->scorers) s->cancel();
    }
    _cv.notify_all();
  }
  for (auto& t : _runners) t.join();
  for (auto& t : _continuous_workers) t.join();
  _runners.clear();
  _continuous_workers.clear();
}

bool Evaluator::wait_stoppable(std::chrono::milliseconds d) {
  std::unique_lock lock(_mu);
  return !_cv.wait_for(lock, d, [&] { return _stopping; });
}

// ---- runs --------------------------------------------------------------------------------

Status Evaluator::persist_summary(const Run& run) const {
  std::string json;
  {
    std::lock_guard lock(run.mu);
    JsonWriter w(json);
    run.summary.write(w);
  }
  state::WriteBatch batch(_store);
  batch.put(Family::meta, run_key(run.summary.evaluation_id), json);
  return _store.write(batch);
}

Status Evaluator::gather(Run& run) const {
  const RecordSource& src = run.summary.request.source;
  switch (src.kind) {
    case RecordSource::Kind::labeling_session: {
      if (!_sources.session_traces) return Status::invalid_argument("labeling_session_id: labeling sessions are not served by this process");
      auto ids = _sources.session_traces(src.value);
      if (!ids.is_ok()) return ids.status().with_context("labeling_session_id");
      run.trace_ids = std::move(ids).value();
      break;
    }
    case RecordSource::Kind::filter: {
      if (!_sources.search) return Status::invalid_argument("filter: search is not served by this process");
      auto ids = _sources.search(src.value);
      if (!ids.is_ok()) return ids.status();
      run.trace_ids = std::move(ids).value();
      break;
    }
    case RecordSource::Kind::dataset: {
      if (!_sources.dataset_records) return Status::invalid_argument("dataset: datasets are not served by this process");
      auto records = _sources.dataset_records(src.value, src.dataset_version);
      if (!records.is_ok()) return records.status().with_context("dataset");
      run.records = std::move(records).value();
      run.from_records = true;
      break;
    }
  }
  run.gathered = true;
  return Status::ok();
}

Result<Evaluator::Submitted> Evaluator::submit(EvaluationRequest request) {
  {
    std::lock_guard lock(_mu);
    if (!_started || _stopping) return Status::unavailable("the evaluator is not running");
  }
  // One submit at a time: the id check, the stored summary and the queue entry go together.
  std::lock_guard submit_lock(_submit_mu);

  std::string id = request.evaluation_id;
  if (!id.empty()) {
    std::optional<Submitted> existing;
    bool same = false;
    {
      std::lock_guard lock(_mu);
      if (auto it = _active.find(id); it != _active.end()) {
        std::lock_guard run_lock(it->second->mu);
        same = it->second->summary.request == request;
        existing = Submitted{id, it->second->summary.status, true};
      }
    }
    bool rerun = false;
    if (!existing) {
      TF_ASSIGN_OR_RETURN(auto stored, _store.get(Family::meta, run_key(id)));
      if (stored) {
        TF_ASSIGN_OR_RETURN(RunSummary s, parse_run_summary_for_resume(*stored, _options.max_records));
        same = s.request == request;
        existing = Submitted{id, s.status, true};
        // Retrying a failed run runs it again under the same id: its assessments keep their ids.
        rerun = same && s.status == RunStatus::failed;
      }
    }
    if (existing && !same) return Status::conflict("evaluation_id: \"" + id + "\" is taken by a different request");
    if (existing && !rerun) return *existing;
    if (rerun) {
      state::WriteBatch batch(_store);
      batch.erase_prefix(Family::meta, result_prefix(id));
      TF_RETURN_IF_ERROR(_store.write(batch));
    }
  } else {
    id = "ev-" + new_event_id();
  }

  auto run = std::make_shared<Run>();
  run->summary.evaluation_id = id;
  run->summary.request = std::move(request);
  run->summary.status = RunStatus::pending;
  run->summary.created_ns = to_ns(_clock.now());
  const auto kind = run->summary.request.source.kind;
  if (kind == RecordSource::Kind::filter && !_sources.search) {
    return Status::invalid_argument("filter: search is not served by this process");
  }
  if (kind != RecordSource::Kind::filter) TF_RETURN_IF_ERROR(gather(*run));  // unknown session/dataset → 404 now

  {
    std::lock_guard lock(_mu);
    if (_queue.size() >= _options.max_queued_runs) {
      return Status::unavailable("evaluation queue is full (" + std::to_string(_queue.size()) + " runs waiting); retry later");
    }
  }
  TF_RETURN_IF_ERROR(persist_summary(*run));
  {
    std::lock_guard lock(_mu);
    _active[id] = run;
    _queue.push_back(run);
    _cv.notify_all();
  }
  ++_runs_submitted;
  return Submitted{id, RunStatus::pending, false};
}

Status Evaluator::resume_stored_runs() {
  std::vector<RunSummary> unfinished;
  TF_RETURN_IF_ERROR(_store.scan_prefix(Family::meta, kRunPrefix, [&](std::string_view key, std::string_view value) {
    auto s = parse_run_summary_for_resume(value, _options.max_records);
    if (!s.is_ok()) {
      spdlog::error("evaluate: skipping {}: {}", key, s.status().to_string());
      return true;
    }
    if (s->status == RunStatus::pending || s->status == RunStatus::running) unfinished.push_back(std::move(s).value());
    return true;
  }));
  for (auto& s : unfinished) {
    // Start over: the assessments it wrote get the same ids again, and its partial results go.
    state::WriteBatch batch(_store);
    batch.erase_prefix(Family::meta, result_prefix(s.evaluation_id));
    TF_RETURN_IF_ERROR(_store.write(batch));
    auto run = std::make_shared<Run>();
    run->summary.evaluation_id = s.evaluation_id;
    run->summary.request = std::move(s.request);
    run->summary.created_ns = s.created_ns;
    run->summary.status = RunStatus::pending;
    spdlog::info("evaluate: resuming evaluation {} (it had not finished)", s.evaluation_id);
    std::lock_guard lock(_mu);
    _active[s.evaluation_id] = run;
    _queue.push_back(run);
  }
  return Status::ok();
}

void Evaluator::runner_loop() {
  while (true) {
    std::shared_ptr<Run> run;
    {
      std::unique_lock lock(_mu);
      _cv.wait(lock, [&] { return _stopping || !_queue.empty(); });
      if (_stopping) return;
      run = _queue.front();
      _queue.pop_front();
    }
    execute(run);
  }
}

void Evaluator::fail_run(Run& run, std::string code, std::string message) {
  spdlog::warn("evaluate: evaluation {} failed: {}: {}", run.summary.evaluation_id, code, message);
  {
    std::lock_guard lock(run.mu);
    run.summary.status = RunStatus::failed;
    run.summary.error = RunError{std::move(code), std::move(message)};
    run.summary.finished_ns = to_ns(_clock.now());
  }
  if (Status s = persist_summary(run); !s.is_ok()) spdlog::error("evaluate: storing evaluation {}: {}", run.summary.evaluation_id, s.to_string());
  ++_runs_failed;
  std::lock_guard lock(_mu);
  _active.erase(run.summary.evaluation_id);
}

EvalRecord Evaluator::load_record(const Run& run, size_t index) const {
  if (run.from_records) {
    EvalRecord r = run.records[index];
    if (r.record_id.empty()) r.record_id = !r.trace_id.empty() ? r.trace_id : std::to_string(index);
    if (!r.trace_id.empty() && !r.trace) {
      // The record's source trace, when this process has it: its RETRIEVER spans and duration
      // (retrieval_groundedness, latency_ms, HTTP scorers); inputs, outputs and expectations stay
      // the dataset's.
      if (auto t = _sources.get_trace(r.trace_id); t.is_ok() && *t) {
        EvalRecord from_trace = record_from_trace(std::make_shared<const Trace>(std::move(**t)));
        r.retrievals = std::move(from_trace.retrievals);
        if (!r.latency_ms) r.latency_ms = from_trace.latency_ms;
        r.trace = std::move(from_trace.trace);
      }
    }
    return r;
  }
  const std::string& id = run.trace_ids[index];
  EvalRecord r;
  r.record_id = id;
  r.trace_id = id;
  auto trace = _sources.get_trace(id);
  if (!trace.is_ok()) {
    r.error_code = code_name(trace.status().code());
    r.error_message = "reading trace " + id + ": " + trace.status().message();
    return r;
  }
  if (!*trace) {
    r.error_code = "NOT_FOUND";
    r.error_message = "trace " + id + " is not known to this processor (not joined yet, or on another partition's host)";
    return r;
  }
  return record_from_trace(std::make_shared<const Trace>(std::move(**trace)));
}

void Evaluator::flush_results(Run& run) {
  std::lock_guard flush_lock(run.flush_mu);
  std::vector<std::pair<uint64_t, std::string>> take;
  {
    std::lock_guard lock(run.mu);
    take.swap(run.pending_results);
  }
  if (take.empty()) return;
  state::WriteBatch batch(_store);
  for (const auto& [index, line] : take) batch.put(Family::meta, result_key(run.summary.evaluation_id, index), line);
  if (Status s = _store.write(batch); !s.is_ok()) {
    spdlog::error("evaluate: storing {} results of evaluation {}: {}", take.size(), run.summary.evaluation_id, s.to_string());
    std::lock_guard lock(run.mu);
    run.summary.warnings.push_back("the results of " + std::to_string(take.size()) + " records could not be stored: " + s.message());
  }
}

void Evaluator::execute(const std::shared_ptr<Run>& run) {
  const std::string id = run->summary.evaluation_id;
  {
    std::lock_guard lock(run->mu);
    run->summary.status = RunStatus::running;
    run->summary.started_ns = to_ns(_clock.now());
  }
  if (Status s = persist_summary(*run); !s.is_ok()) return fail_run(*run, "IO_ERROR", s.message());
  if (!run->gathered) {
    if (Status s = gather(*run); !s.is_ok()) return fail_run(*run, code_name(s.code()), s.message());
  }
  const EvaluationRequest& request = run->summary.request;
  size_t total = run->from_records ? run->records.size() : run->trace_ids.size();
  const size_t limit = request.max_records ? request.max_records : _options.max_records;
  std::vector<std::string> warnings;
  if (total > limit) {
    warnings.push_back("found " + std::to_string(total) + " records; evaluating the first " + std::to_string(limit) +
                       " (max_records)");
    total = limit;
  }
  if (total == 0) warnings.push_back("no records to evaluate");

  auto built = build_scorers(request.scorers, "scorers");
  if (!built.is_ok()) return fail_run(*run, code_name(built.status().code()), built.status().message());
  std::vector<std::unique_ptr<Scorer>> scorers = std::move(built).value();
  if (!_judge) {
    for (const auto& spec : request.scorers) {
      if (!uses_judge(spec.type)) continue;
      if (spec.type == "correctness") {
        warnings.push_back(spec.name + ": " + _judge_unavailable + "; using the deterministic fallback (source CODE)");
      } else {
        warnings.push_back(spec.name + ": " + _judge_unavailable + "; not scored (JUDGE_NOT_CONFIGURED)");
      }
    }
  }
  std::unique_ptr<PredictClient> predict;
  if (!request.predict_url.empty()) {
    EndpointOptions po = _options.predict;
    po.url = request.predict_url;
    auto p = PredictClient::create(std::move(po), _clock);
    if (!p.is_ok()) return fail_run(*run, "INVALID_ARGUMENT", "predict_url: " + p.status().message());
    predict = std::move(p).value();
  }
  {
    std::lock_guard lock(run->mu);
    run->summary.total = total;
    run->summary.warnings.insert(run->summary.warnings.end(), warnings.begin(), warnings.end());
    run->summary.aggregates.clear();
    for (const auto& s : scorers) run->summary.aggregates.emplace_back(s->name(), ScorerAggregate{});
  }
  {
    std::lock_guard lock(_mu);
    if (_stopping) return;  // stays resumable
    run->scorers = &scorers;
    run->predict = predict.get();
  }

  std::atomic<size_t> next{0};
  auto work = [&] {
    std::string line;
    while (!_halt) {
      const size_t i = next.fetch_add(1);
      if (i >= total) return;
      EvalRecord record = load_record(*run, i);
      if (predict && !record.has_error()) predict->predict(record);
      if (_halt) return;  // the predict call may have been interrupted
      Scored scored = score_record(record, scorers, id, "");
      if (scored.interrupted) return;
      line.clear();
      JsonWriter w(line);
      write_record_result(w, i, record, scored.scores, scored.assessment_ids);
      bool flush = false;
      {
        std::lock_guard lock(run->mu);
        RunSummary& s = run->summary;
        ++s.completed;
        if (record.has_error()) ++s.record_errors;
        s.assessments_written += scored.written;
        s.assessments_failed += scored.failed;
        for (size_t k = 0; k < scored.scores.size() && k < s.aggregates.size(); ++k) s.aggregates[k].second.add(scored.scores[k]);
        run->pending_results.emplace_back(i, line);
        flush = run->pending_results.size() >= _options.results_batch;
      }
      if (flush) flush_results(*run);
    }
  };
  const size_t threads = std::min<size_t>(static_cast<size_t>(_options.record_concurrency), std::max<size_t>(total, 1));
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < threads; ++t) helpers.emplace_back(work);
  work();
  for (auto& t : helpers) t.join();

  bool interrupted = false;
  {
    std::lock_guard lock(_mu);
    run->scorers = nullptr;
    run->predict = nullptr;
    interrupted = _stopping;
  }
  flush_results(*run);
  if (interrupted) {
    std::lock_guard lock(run->mu);
    if (run->summary.completed < run->summary.total) return;  // resumed at the next start
  }
  {
    std::lock_guard lock(run->mu);
    run->summary.status = RunStatus::done;
    run->summary.finished_ns = to_ns(_clock.now());
  }
  if (Status s = persist_summary(*run); !s.is_ok()) spdlog::error("evaluate: storing evaluation {}: {}", id, s.to_string());
  ++_runs_done;
  std::lock_guard lock(_mu);
  _active.erase(id);
}

// ---- scoring and writing -----------------------------------------------------------------

Evaluator::Scored Evaluator::score_record(EvalRecord& record, const std::vector<std::unique_ptr<Scorer>>& scorers,
                                          const std::string& evaluation_id, std::string_view rule) {
  Scored out;
  if (!record.has_error()) {
    out.scores.reserve(scorers.size());
    for (const auto& s : scorers) out.scores.push_back(s->score(record));
  }
  if (_halt) {
    out.interrupted = true;
    return out;
  }
  out.assessment_ids.assign(out.scores.size(), std::string());
  publish_scores(record, evaluation_id, rule, out);
  for (const auto& s : out.scores) {
    const auto v = s.numeric();
    if (!v) continue;
    {
      std::lock_guard lock(_gauge_mu);
      auto it = _gauges.find(s.name);
      if (it == _gauges.end()) it = _gauges.emplace(s.name, Window{}).first;
      Window& w = it->second;
      if (w.values.size() < _options.score_window) {
        w.values.push_back(*v);
      } else {
        w.sum -= w.values[w.next];
        w.values[w.next] = *v;
        w.next = (w.next + 1) % w.values.size();
      }
      w.sum += *v;
    }
    if (_hooks.on_score) _hooks.on_score(s.name, *v);
  }
  ++_records_scored;
  return out;
}

void Evaluator::publish_scores(const EvalRecord& record, const std::string& evaluation_id, std::string_view rule, Scored& scored) {
  if (record.trace_id.empty() || scored.scores.empty()) return;
  const int64_t now = to_ns(_clock.now());
  std::vector<Envelope> envelopes;
  std::vector<size_t> index;  // envelope → score
  for (size_t i = 0; i < scored.scores.size(); ++i) {
    const Score& s = scored.scores[i];
    // A missing judge is a fact about this process, not about the trace: say it in the run, do
    // not stamp it on every trace.
    if (s.feedback.error && s.feedback.error->error_code == kJudgeNotConfigured) continue;
    using F = Assessment::Field;
    Assessment a;
    a.assessment_id = score_assessment_id(evaluation_id, record.trace_id, s.name);
    a.assessment_name = s.name;
    a.trace_id = record.trace_id;
    a.span_id = s.span_id;
    a.source = s.source;
    a.create_time = now;
    a.last_update_time = now;
    Feedback fb = s.feedback;
    if (fb.error && fb.error->error_message.size() > kMaxRationaleBytes / 2) {
      fb.error->error_message = clip_utf8(fb.error->error_message, kMaxRationaleBytes / 2);
    }
    a.value = std::move(fb);
    a.rationale = s.rationale.size() > kMaxRationaleBytes - 32 ? clip_utf8(s.rationale, kMaxRationaleBytes - 32) : s.rationale;
    a.metadata.emplace_back(std::string(kEvaluationIdKey), evaluation_id);
    if (!rule.empty()) a.metadata.emplace_back(std::string(kEvaluationRuleKey), std::string(rule));
    if (record.outputs_predicted) a.metadata.emplace_back(std::string(kOutputsKey), "predicted");
    a.valid = true;
    a.present = F::f_assessment_id | F::f_name | F::f_trace_id | F::f_source | F::f_create_time | F::f_last_update_time |
                F::f_feedback | F::f_metadata | F::f_valid;
    if (!a.span_id.empty()) a.present |= F::f_span_id;
    if (!a.rationale.empty()) a.present |= F::f_rationale;
    Envelope e;
    e.type = EventType::assessment;
    e.time = now;
    e.event_id = score_event_id(a, s);
    e.payload = std::move(a);
    if (Status v = validate_envelope(e); !v.is_ok()) {
      spdlog::warn("evaluate: score {} of trace {} is not a valid assessment: {}", s.name, record.trace_id, v.to_string());
      ++scored.failed;
      continue;
    }
    envelopes.push_back(std::move(e));
    index.push_back(i);
  }

  const auto deadline = std::chrono::steady_clock::now() + _options.publish_retry_timeout;
  auto delay = std::chrono::milliseconds(50);
  while (!envelopes.empty()) {
    const std::vector<Status> statuses = _sink.publish(envelopes);
    std::vector<Envelope> retry_envelopes;
    std::vector<size_t> retry_index;
    Status last;
    for (size_t k = 0; k < envelopes.size(); ++k) {
      const Status st = k < statuses.size() ? statuses[k] : Status::internal("the event sink gave no status");
      if (st.is_ok()) {
        scored.assessment_ids[index[k]] = envelopes[k].assessment().assessment_id;
        ++scored.written;
      } else if (retryable(st.code())) {
        retry_envelopes.push_back(std::move(envelopes[k]));
        retry_index.push_back(index[k]);
        last = st;
      } else {
        spdlog::warn("evaluate: writing score {} of trace {}: {}", scored.scores[index[k]].name, record.trace_id, st.to_string());
        ++scored.failed;
      }
    }
    envelopes = std::move(retry_envelopes);
    index = std::move(retry_index);
    if (envelopes.empty()) break;
    if (std::chrono::steady_clock::now() + delay > deadline || !wait_stoppable(delay)) {
      spdlog::warn("evaluate: {} scores of trace {} not written: {}", envelopes.size(), record.trace_id, last.to_string());
      scored.failed += envelopes.size();
      break;
    }
    delay = std::min(delay * 2, std::chrono::milliseconds(2000));
  }
  _assessments_written += scored.written;
  _assessments_failed += scored.failed;
}

// ---- continuous --------------------------------------------------------------------------

Status Evaluator::item_completed(CompletedItem item) {
  std::lock_guard lock(_mu);
  if (!_started || _stopping) return Status::unavailable("the evaluator is not running");
  std::vector<size_t> matches;
  for (size_t i = 0; i < _rules.size(); ++i) {
    const std::string& s = _rules[i]->rule.labeling_session;
    if ((!item.labeling_session_id.empty() && s == item.labeling_session_id) ||
        (!item.labeling_session_name.empty() && s == item.labeling_session_name)) {
      matches.push_back(i);
    }
  }
  if (matches.empty()) return Status::ok();
  if (_continuous.size() + matches.size() > _options.continuous_queue) {
    ++_continuous_rejected;
    return Status::unavailable("continuous evaluation queue is full (" + std::to_string(_continuous.size()) +
                               " items waiting); trace " + item.trace_id + " is not scored");
  }
  for (size_t i : matches) _continuous.push_back({i, item.trace_id, item.assessment_ids});
  _cv.notify_all();
  return Status::ok();
}

void Evaluator::continuous_loop() {
  while (true) {
    ContinuousJob job;
    {
      std::unique_lock lock(_mu);
      _cv.wait(lock, [&] { return _stopping || !_continuous.empty(); });
      if (_stopping) return;
      job = std::move(_continuous.front());
      _continuous.pop_front();
    }
    score_completed(job);
  }
}

void Evaluator::score_completed(const ContinuousJob& job) {
  RuleState& rs = *_rules[job.rule];
  const auto deadline = std::chrono::steady_clock::now() + _options.label_wait;
  auto delay = std::chrono::milliseconds(10);
  std::optional<Trace> trace;
  while (true) {
    auto t = _sources.get_trace(job.trace_id);
    if (t.is_ok() && *t) {
      trace = std::move(**t);
      // The reviewer's labels travel through Kafka and the join: wait until they are visible.
      const bool all = std::all_of(job.assessment_ids.begin(), job.assessment_ids.end(), [&](const std::string& id) {
        return std::any_of(trace->trace_info.assessments.begin(), trace->trace_info.assessments.end(),
                           [&](const Assessment& a) { return a.assessment_id == id; });
      });
      if (all) break;
    }
    if (std::chrono::steady_clock::now() + delay > deadline) {
      spdlog::warn("evaluate: rule {}: trace {} {} after {} ms; scoring what is there", rs.rule.name, job.trace_id,
                   trace ? "does not show all of the review's assessments" : "is not known", _options.label_wait.count());
      break;
    }
    if (!wait_stoppable(delay)) return;
    delay = std::min(delay * 2, std::chrono::milliseconds(500));
  }
  if (!trace) return;
  EvalRecord record = record_from_trace(std::make_shared<const Trace>(std::move(*trace)));
  if (record.has_error()) {
    spdlog::warn("evaluate: rule {}: {}", rs.rule.name, record.error_message);
    return;
  }
  if (score_record(record, rs.scorers, rs.evaluation_id, rs.rule.name).interrupted) return;
  ++_continuous_scored;
}

// ---- reads -------------------------------------------------------------------------------

Result<std::string> Evaluator::get_json(const std::string& evaluation_id, uint64_t page_token, size_t max_results) const {
  std::string summary;
  {
    std::lock_guard lock(_mu);
    if (auto it = _active.find(evaluation_id); it != _active.end()) {
      std::lock_guard run_lock(it->second->mu);
      JsonWriter w(summary);
      it->second->summary.write(w);
    }
  }
  if (summary.empty()) {
    TF_ASSIGN_OR_RETURN(auto stored, _store.get(Family::meta, run_key(evaluation_id)));
    if (!stored) return Status::not_found("evaluation " + evaluation_id + " not found");
    summary = std::move(*stored);
  }
  max_results = std::min(max_results, _options.max_results_page);
  std::string results;
  std::optional<std::string> next;
  if (max_results > 0) {
    const std::string start = result_key(evaluation_id, page_token);
    std::string end = result_prefix(evaluation_id);
    end.back() = '/' + 1;  // just past every key under the prefix
    state::ScanRange range{start, end, max_results};
    TF_ASSIGN_OR_RETURN(next, _store.scan(Family::meta, range, [&](std::string_view, std::string_view value) {
                          if (!results.empty()) results.push_back(',');
                          results += value;
                          return true;
                        }));
  }
  if (summary.empty() || summary.back() != '}') return Status::corruption("stored evaluation " + evaluation_id + " is not an object");
  summary.pop_back();
  summary += ",\"results\":[";
  summary += results;
  summary += "]";
  if (next) {
    const std::string prefix = result_prefix(evaluation_id);
    summary += ",\"next_page_token\":\"" + std::to_string(std::stoull(next->substr(prefix.size()))) + "\"";
  }
  summary += "}";
  return summary;
}

Result<std::string> Evaluator::list_json(size_t limit) const {
  std::vector<std::pair<int64_t, std::string>> runs;
  std::map<std::string, std::string> active;
  {
    std::lock_guard lock(_mu);
    for (const auto& [id, run] : _active) {
      std::lock_guard run_lock(run->mu);
      std::string json;
      JsonWriter w(json);
      run->summary.write(w);
      active[id] = std::move(json);
    }
  }
  TF_RETURN_IF_ERROR(_store.scan_prefix(Family::meta, kRunPrefix, [&](std::string_view key, std::string_view value) {
    const std::string id(key.substr(kRunPrefix.size()));
    std::string json = active.count(id) ? active[id] : std::string(value);
    int64_t created = 0;
    if (auto tree = parse_json(json); tree.is_ok()) {
      if (const JsonTree* c = tree->find("created_time"); c && c->is_string()) created = parse_rfc3339_ns(c->as_string()).value_or(0);
    }
    runs.emplace_back(created, std::move(json));
    return true;
  }));
  std::stable_sort(runs.begin(), runs.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::string out = "{\"evaluations\":[";
  for (size_t i = 0; i < runs.size() && i < limit; ++i) {
    if (i) out += ',';
    out += runs[i].second;
  }
  out += "]}";
  return out;
}

Status Evaluator::remove(const std::string& evaluation_id) {
  {
    std::lock_guard lock(_mu);
    if (_active.count(evaluation_id)) return Status::conflict("evaluation " + evaluation_id + " is still running");
  }
  TF_ASSIGN_OR_RETURN(auto stored, _store.get(Family::meta, run_key(evaluation_id)));
  if (!stored) return Status::not_found("evaluation " + evaluation_id + " not found");
  state::WriteBatch batch(_store);
  batch.erase(Family::meta, run_key(evaluation_id));
  batch.erase_prefix(Family::meta, result_prefix(evaluation_id));
  return _store.write(batch);
}

std::vector<ScoreGauge> Evaluator::score_gauges() const {
  std::lock_guard lock(_gauge_mu);
  std::vector<ScoreGauge> out;
  for (const auto& [name, w] : _gauges) {
    if (w.values.empty()) continue;
    out.push_back({name, w.sum / static_cast<double>(w.values.size()), w.values.size()});
  }
  return out;
}

EvaluatorStats Evaluator::stats() const {
  EvaluatorStats s;
  s.runs_submitted = _runs_submitted;
  s.runs_done = _runs_done;
  s.runs_failed = _runs_failed;
  s.records_scored = _records_scored;
  s.assessments_written = _assessments_written;
  s.assessments_failed = _assessments_failed;
  s.continuous_scored = _continuous_scored;
  s.continuous_rejected = _continuous_rejected;
  if (_judge) s.judge = _judge->stats();
  return s;
}

// ---- HTTP --------------------------------------------------------------------------------

void Evaluator::register_routes(http::Server& server) {
  server.route("POST", "/api/v1/evaluations", [this](const http::Request& req, http::Response& res) {
    auto json = parse_json(req.body);
    if (!json.is_ok()) return http::write_error(res, json.status());
    auto request = parse_evaluation_request(*json, _options.max_records);
    if (!request.is_ok()) return http::write_error(res, request.status());
    auto submitted = submit(std::move(request).value());
    if (!submitted.is_ok()) return http::write_error(res, submitted.status());
    std::string body;
    JsonWriter w(body);
    w.begin_object();
    w.field("evaluation_id", submitted->evaluation_id);
    w.field("status", to_string(submitted->status));
    w.end_object();
    res.json(submitted->existing ? 200 : 202, std::move(body));
  });
  server.route("GET", "/api/v1/evaluations", [this](const http::Request&, http::Response& res) {
    auto list = list_json(1000);
    if (!list.is_ok()) return http::write_error(res, list.status());
    res.json(200, std::move(list).value());
  });
  server.route("GET", R"(/api/v1/evaluations/([^/]+))", [this](const http::Request& req, http::Response& res) {
    uint64_t page_token = 0;
    size_t max_results = 100;
    auto parse_uint = [](std::string_view s, uint64_t& out) {
      if (s.empty() || s.size() > 15) return false;
      out = 0;
      for (char c : s) {
        if (c < '0' || c > '9') return false;
        out = out * 10 + static_cast<uint64_t>(c - '0');
      }
      return true;
    };
    if (req.has_query_param("page_token") && !parse_uint(req.query_param("page_token"), page_token)) {
      return http::write_error(res, Status::invalid_argument("page_token: expected the next_page_token of a previous page"));
    }
    if (req.has_query_param("max_results")) {
      uint64_t m = 0;
      if (!parse_uint(req.query_param("max_results"), m) || m > _options.max_results_page) {
        return http::write_error(res, Status::invalid_argument("max_results: expected 0.." + std::to_string(_options.max_results_page)));
      }
      max_results = static_cast<size_t>(m);
    }
    auto body = get_json(req.path_params[0], page_token, max_results);
    if (!body.is_ok()) return http::write_error(res, body.status());
    res.json(200, std::move(body).value());
  });
  server.route("DELETE", R"(/api/v1/evaluations/([^/]+))", [this](const http::Request& req, http::Response& res) {
    if (Status s = remove(req.path_params[0]); !s.is_ok()) return http::write_error(res, s);
    res.json(200, "{}");
  });
}

}  // namespace tracefeed::evaluate
