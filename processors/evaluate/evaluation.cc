#include "processors/evaluate/evaluation.h"

#include <algorithm>
#include <cmath>

#include "core/time_format.h"
#include "processors/evaluate/http_endpoint.h"
#include "processors/filter/filter.h"

namespace tracefeed::evaluate {
namespace {

bool valid_client_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

Result<std::string> string_field(const JsonTree& json, std::string_view key, bool required, size_t max_bytes) {
  const JsonTree* v = json.find(key);
  if (!v) {
    if (required) return Status::invalid_argument(std::string(key) + ": required");
    return std::string();
  }
  if (!v->is_string()) return Status::invalid_argument(std::string(key) + ": expected a string, got " + std::string(v->type_name()));
  if (v->as_string().size() > max_bytes) {
    return Status::invalid_argument(std::string(key) + ": longer than " + std::to_string(max_bytes) + " bytes");
  }
  return v->as_string();
}

void write_time(JsonWriter& w, std::string_view key, int64_t ns) {
  if (ns == 0) return;
  w.field(key, format_rfc3339(ns));
}

}  // namespace

std::string_view to_string(RunStatus s) noexcept {
  switch (s) {
    case RunStatus::pending: return "pending";
    case RunStatus::running: return "running";
    case RunStatus::done: return "done";
    case RunStatus::failed: return "failed";
  }
  return "unknown";
}

std::optional<RunStatus> parse_run_status(std::string_view s) noexcept {
  for (RunStatus r : {RunStatus::pending, RunStatus::running, RunStatus::done, RunStatus::failed}) {
    if (to_string(r) == s) return r;
  }
  return std::nullopt;
}

void EvaluationRequest::write(JsonWriter& w) const {
  w.begin_object();
  if (!evaluation_id.empty()) w.field("evaluation_id", evaluation_id);
  if (!name.empty()) w.field("name", name);
  switch (source.kind) {
    case RecordSource::Kind::labeling_session: w.field("labeling_session_id", source.value); break;
    case RecordSource::Kind::filter: w.field("filter", source.value); break;
    case RecordSource::Kind::dataset:
      w.key("dataset");
      w.begin_object();
      w.field("name", source.value);
      if (source.dataset_version) w.field_int("version", *source.dataset_version);
      w.end_object();
      break;
  }
  w.key("scorers");
  w.begin_array();
  for (const auto& s : scorers) s.write(w);
  w.end_array();
  if (!predict_url.empty()) w.field("predict_url", predict_url);
  if (max_records) w.field_int("max_records", static_cast<int64_t>(max_records));
  w.end_object();
}

Result<EvaluationRequest> parse_evaluation_request(const JsonTree& json, size_t max_records_limit) {
  if (!json.is_object()) return Status::invalid_argument("body: expected a JSON object");
  static constexpr std::string_view kKnown[] = {"evaluation_id", "name",        "labeling_session_id", "dataset",
                                                "filter",        "scorers",     "predict_url",         "max_records"};
  for (const auto& [k, v] : json.as_object()) {
    if (std::find(std::begin(kKnown), std::end(kKnown), k) == std::end(kKnown)) {
      return Status::invalid_argument(k + ": unknown field (expected labeling_session_id | dataset | filter, scorers, "
                                          "predict_url, evaluation_id, name, max_records)");
    }
  }
  EvaluationRequest r;
  TF_ASSIGN_OR_RETURN(r.evaluation_id, string_field(json, "evaluation_id", false, 64));
  if (!r.evaluation_id.empty() && !valid_client_id(r.evaluation_id)) {
    return Status::invalid_argument("evaluation_id: use 1..64 of A-Z a-z 0-9 _ -");
  }
  TF_ASSIGN_OR_RETURN(r.name, string_field(json, "name", false, 256));

  int sources = 0;
  if (json.find("labeling_session_id")) {
    ++sources;
    r.source.kind = RecordSource::Kind::labeling_session;
    TF_ASSIGN_OR_RETURN(r.source.value, string_field(json, "labeling_session_id", true, 256));
    if (r.source.value.empty()) return Status::invalid_argument("labeling_session_id: must not be empty");
  }
  if (const JsonTree* d = json.find("dataset")) {
    ++sources;
    r.source.kind = RecordSource::Kind::dataset;
    if (d->is_string()) {
      r.source.value = d->as_string();
    } else if (d->is_object()) {
      const JsonTree* n = d->find("name");
      if (!n || !n->is_string()) return Status::invalid_argument("dataset.name: required string");
      r.source.value = n->as_string();
      if (const JsonTree* v = d->find("version")) {
        if (!v->is_number() || v->as_number() < 1 || v->as_number() != std::floor(v->as_number()) || v->as_number() > 9e15) {
          return Status::invalid_argument("dataset.version: expected a positive integer");
        }
        r.source.dataset_version = static_cast<int64_t>(v->as_number());
      }
    } else {
      return Status::invalid_argument("dataset: expected a dataset name or {name, version}");
    }
    if (r.source.value.empty() || r.source.value.size() > 256) return Status::invalid_argument("dataset: name must be 1..256 bytes");
  }
  if (json.find("filter")) {
    ++sources;
    r.source.kind = RecordSource::Kind::filter;
    TF_ASSIGN_OR_RETURN(r.source.value, string_field(json, "filter", true, 16 * 1024));
    if (auto f = filter::parse_filter(r.source.value); !f.is_ok()) return f.status();  // "filter: column N: ..."
  }
  if (sources != 1) {
    return Status::invalid_argument(sources == 0 ? "labeling_session_id: one of labeling_session_id, dataset or filter is required"
                                                 : "filter: give only one of labeling_session_id, dataset or filter");
  }

  const JsonTree* scorers = json.find("scorers");
  if (!scorers) return Status::invalid_argument("scorers: required (e.g. [\"correctness\"])");
  TF_ASSIGN_OR_RETURN(r.scorers, parse_scorer_specs(*scorers, "scorers"));

  TF_ASSIGN_OR_RETURN(r.predict_url, string_field(json, "predict_url", false, 2048));
  if (!r.predict_url.empty()) {
    if (auto u = parse_http_url(r.predict_url); !u.is_ok()) return Status::invalid_argument("predict_url: " + u.status().message());
  }
  if (const JsonTree* m = json.find("max_records")) {
    if (!m->is_number() || m->as_number() < 1 || m->as_number() != std::floor(m->as_number()) ||
        m->as_number() > static_cast<double>(max_records_limit)) {
      return Status::invalid_argument("max_records: expected an integer in 1.." + std::to_string(max_records_limit));
    }
    r.max_records = static_cast<size_t>(m->as_number());
  }
  return r;
}

void ScorerAggregate::add(const Score& score) {
  if (score.is_error()) {
    ++_errors;
    return;
  }
  ++_count;
  const std::string& v = score.feedback.value;
  if (v == "\"yes\"" || v == "true") {
    ++_yes;
    return;
  }
  if (v == "\"no\"" || v == "false") {
    ++_no;
    return;
  }
  if (auto n = score.numeric()) {
    if (_numeric == 0 || *n < _min) _min = *n;
    if (_numeric == 0 || *n > _max) _max = *n;
    _sum += *n;
    ++_numeric;
    return;
  }
  ++_other;  // a custom scorer's string or list value: counted, not averaged
}

std::optional<double> ScorerAggregate::mean() const noexcept {
  if (_yes + _no > 0 && _numeric == 0) return static_cast<double>(_yes) / static_cast<double>(_yes + _no);
  if (_numeric > 0 && _yes + _no == 0) return _sum / static_cast<double>(_numeric);
  if (_numeric > 0) return (_sum + static_cast<double>(_yes)) / static_cast<double>(_numeric + _yes + _no);
  return std::nullopt;
}

void ScorerAggregate::write_fields(JsonWriter& w, const std::string& name) const {
  if (auto m = mean()) {
    w.key(name + "/mean");
    w.number(*m);
  }
  w.field_int(name + "/count", static_cast<int64_t>(_count));
  w.field_int(name + "/errors", static_cast<int64_t>(_errors));
  if (_yes + _no > 0) {
    w.field_int(name + "/yes", static_cast<int64_t>(_yes));
    w.field_int(name + "/no", static_cast<int64_t>(_no));
  }
  if (_numeric > 0) {
    w.key(name + "/min");
    w.number(_min);
    w.key(name + "/max");
    w.number(_max);
  }
}

void RunSummary::write(JsonWriter& w) const {
  w.begin_object();
  w.field("evaluation_id", evaluation_id);
  if (!request.name.empty()) w.field("name", request.name);
  w.field("status", to_string(status));
  w.key("request");
  request.write(w);
  write_time(w, "created_time", created_ns);
  write_time(w, "started_time", started_ns);
  write_time(w, "finished_time", finished_ns);
  w.key("progress");
  w.begin_object();
  w.field_int("total", static_cast<int64_t>(total));
  w.field_int("completed", static_cast<int64_t>(completed));
  w.field_int("record_errors", static_cast<int64_t>(record_errors));
  w.end_object();
  w.key("aggregates");
  w.begin_object();
  for (const auto& [name, agg] : aggregates) agg.write_fields(w, name);
  w.end_object();
  w.key("assessments");
  w.begin_object();
  w.field_int("written", static_cast<int64_t>(assessments_written));
  w.field_int("failed", static_cast<int64_t>(assessments_failed));
  w.end_object();
  w.key("warnings");
  w.begin_array();
  for (const auto& warning : warnings) w.string(warning);
  w.end_array();
  if (error) {
    w.key("error");
    w.begin_object();
    w.field("error_code", error->error_code);
    w.field("message", error->message);
    w.end_object();
  }
  w.end_object();
}

Result<RunSummary> parse_run_summary_for_resume(std::string_view json, size_t max_records_limit) {
  auto tree = parse_json(json);
  if (!tree.is_ok()) return Status::corruption("stored evaluation: " + tree.status().message());
  RunSummary s;
  const JsonTree* id = tree->find("evaluation_id");
  const JsonTree* status = tree->find("status");
  const JsonTree* request = tree->find("request");
  if (!id || !id->is_string() || !status || !status->is_string() || !request) {
    return Status::corruption("stored evaluation: evaluation_id, status or request missing");
  }
  s.evaluation_id = id->as_string();
  auto st = parse_run_status(status->as_string());
  if (!st) return Status::corruption("stored evaluation " + s.evaluation_id + ": unknown status " + status->as_string());
  s.status = *st;
  // The stored request was valid when stored; a lowered server limit must not strand it.
  auto req = parse_evaluation_request(*request, std::max<size_t>(max_records_limit, 1) * 1000);
  if (!req.is_ok()) return Status::corruption("stored evaluation " + s.evaluation_id + ": request: " + req.status().message());
  s.request = std::move(req).value();
  if (const JsonTree* c = tree->find("created_time"); c && c->is_string()) {
    if (auto ns = parse_rfc3339_ns(c->as_string())) s.created_ns = *ns;
  }
  return s;
}

void write_record_result(JsonWriter& w, uint64_t index, const EvalRecord& record, const std::vector<Score>& scores,
                         const std::vector<std::string>& assessment_ids) {
  w.begin_object();
  w.field_int("index", static_cast<int64_t>(index));
  w.field("record_id", record.record_id);
  if (!record.trace_id.empty()) w.field("trace_id", record.trace_id);
  w.field_raw("inputs", record.inputs);
  w.field_raw("outputs", record.outputs);
  if (record.outputs_predicted) w.field("outputs_predicted", true);
  w.key("expectations");
  w.begin_object();
  for (const auto& [n, v] : record.expectations) w.field_raw(n, v);
  w.end_object();
  if (record.latency_ms) {
    w.key("latency_ms");
    w.number(*record.latency_ms);
  }
  w.key("scores");
  w.begin_object();
  for (size_t i = 0; i < scores.size(); ++i) {
    w.key(scores[i].name);
    // Score::write, plus the assessment id it was written as.
    std::string one;
    JsonWriter sw(one);
    scores[i].write(sw);
    if (i < assessment_ids.size() && !assessment_ids[i].empty()) {
      one.pop_back();  // '}'
      one += ",\"assessment_id\":";
      JsonWriter::append_escaped(one, assessment_ids[i]);
      one += '}';
    }
    w.raw(one);
  }
  w.end_object();
  if (record.has_error()) {
    w.key("error");
    w.begin_object();
    w.field("error_code", record.error_code);
    w.field("message", record.error_message);
    w.end_object();
  }
  w.end_object();
}

}  // namespace tracefeed::evaluate
