#include "processors/route/router.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

#include "core/event_json.h"
#include "core/hash.h"
#include "core/time_format.h"
#include "processors/filter/sampling.h"
#include "processors/route/time_index.h"
#include "processors/route/webhook.h"
#include "state/keys.h"
#include "state/store.h"
#include "state/write_batch.h"

namespace tracefeed::route {
namespace {

Status field_error(std::string_view rule, std::string_view field, std::string_view problem) {
  std::string m = "rules[";
  m += rule;
  m += "].";
  m += field;
  m += ": ";
  m += problem;
  return Status::invalid_argument(std::move(m));
}

std::string_view action_kind_name(RuleAction::Kind k) {
  switch (k) {
    case RuleAction::Kind::labeling_session: return "labeling_session";
    case RuleAction::Kind::eval: return "eval";
    case RuleAction::Kind::webhook: return "webhook";
  }
  return "labeling_session";
}

}  // namespace

std::string filter_error_detail(const Status& s) {
  std::string_view m = s.message();
  if (m.rfind("filter: ", 0) == 0) m.remove_prefix(8);
  return std::string(m);
}

std::string_view to_string(Decision d) noexcept {
  switch (d) {
    case Decision::routed: return "routed";
    case Decision::filtered_out: return "filtered_out";
    case Decision::sampled_out: return "sampled_out";
    case Decision::waiting_for_trace: return "waiting_for_trace";
    case Decision::failed: return "failed";
  }
  return "failed";
}

Result<Rule> compile_rule(std::string name, std::string filter_text, double sample_rate, int priority, bool backfill,
                          std::vector<RuleAction> actions) {
  if (name.empty()) return Status::invalid_argument("rules[].name: required");
  if (name.size() > 256 || name.find('\0') != std::string::npos) {
    return field_error(name, "name", "at most 256 bytes, no NUL");
  }
  if (name.find('/') != std::string::npos) {
    // As in the config file: '/' is reserved for tracefeed's own decision records (join/orphaned).
    return field_error(name, "name", "must not contain '/'");
  }
  if (!(sample_rate >= 0.0 && sample_rate <= 1.0)) {
    return field_error(name, "sample_rate", "expected a number between 0 and 1, got " + std::to_string(sample_rate));
  }
  if (actions.empty()) return field_error(name, "actions", "at least one action is required");
  for (const auto& a : actions) {
    if (a.target.empty()) return field_error(name, "actions", std::string(action_kind_name(a.kind)) + ": target required");
    if (a.kind == RuleAction::Kind::webhook) {
      if (Status s = check_webhook_url(a.target); !s.is_ok()) return field_error(name, "actions", "webhook: " + s.message());
    }
  }
  auto parsed = filter::parse_filter(filter_text);
  if (!parsed.is_ok()) return field_error(name, "filter", filter_error_detail(parsed.status()));
  Rule r;
  r.name = std::move(name);
  r.filter_text = std::move(filter_text);
  r.filter = std::move(parsed).value();
  r.sample_rate = sample_rate;
  r.priority = priority;
  r.backfill = backfill;
  r.actions = std::move(actions);
  return r;
}

Result<Rule> rule_from_json(const JsonTree& v) {
  if (!v.is_object()) return Status::invalid_argument("rule: expected a JSON object");
  const JsonTree* name = v.find("name");
  if (!name || !name->is_string()) return Status::invalid_argument("name: required string");
  const std::string& n = name->as_string();
  std::string filter_text;
  if (const JsonTree* f = v.find("filter")) {
    if (!f->is_string()) return field_error(n, "filter", "expected a string");
    filter_text = f->as_string();
  }
  double rate = 1.0;
  if (const JsonTree* s = v.find("sample_rate")) {
    if (!s->is_number()) return field_error(n, "sample_rate", "expected a number");
    rate = s->as_number();
  }
  int priority = 0;
  if (const JsonTree* p = v.find("priority")) {
    if (!p->is_number()) return field_error(n, "priority", "expected a number");
    priority = static_cast<int>(p->as_number());
  }
  bool backfill = false;
  if (const JsonTree* b = v.find("backfill")) {
    if (!b->is_bool()) return field_error(n, "backfill", "expected true or false");
    backfill = b->as_bool();
  }
  std::vector<RuleAction> actions;
  const JsonTree* acts = v.find("actions");
  if (!acts || !acts->is_array()) return field_error(n, "actions", "required array");
  for (size_t i = 0; i < acts->as_array().size(); ++i) {
    const JsonTree& a = acts->as_array()[i];
    const std::string where = "actions[" + std::to_string(i) + "]";
    if (!a.is_object() || a.as_object().size() != 1 || !a.as_object()[0].second.is_string()) {
      return field_error(n, where, "expected exactly one of {labeling_session: NAME}, {eval: DATASET}, {webhook: URL}");
    }
    const auto& [kind, target] = a.as_object()[0];
    RuleAction action;
    if (kind == "labeling_session") action.kind = RuleAction::Kind::labeling_session;
    else if (kind == "eval") action.kind = RuleAction::Kind::eval;
    else if (kind == "webhook") action.kind = RuleAction::Kind::webhook;
    else return field_error(n, where, "unknown action \"" + kind + "\" (labeling_session, eval or webhook)");
    action.target = target.as_string();
    actions.push_back(std::move(action));
  }
  return compile_rule(n, std::move(filter_text), rate, priority, backfill, std::move(actions));
}

void write_rule_json(JsonWriter& w, const Rule& r) {
  w.begin_object();
  w.field("name", r.name);
  w.field("filter", r.filter_text);
  w.key("sample_rate");
  w.number(r.sample_rate);
  w.field_int("priority", r.priority);
  w.field("backfill", r.backfill);
  w.key("actions");
  w.begin_array();
  for (const auto& a : r.actions) {
    w.begin_object();
    w.field(action_kind_name(a.kind), a.target);
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

std::string rule_version(const Rule& r) {
  std::string json;
  JsonWriter w(json);
  write_rule_json(w, r);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(xxh64(json)));
  return std::string(hex, 16);
}

void write_decision_json(std::string& out, std::string_view trace_id, std::string_view rule, Decision decision,
                         std::string_view reason, int64_t time_ns) {
  out.clear();
  JsonWriter w(out);
  w.begin_object();
  w.field("trace_id", trace_id);
  w.field("rule", rule);
  w.field("decision", to_string(decision));
  w.field("reason", reason);
  w.field("time", format_rfc3339(time_ns));
  w.end_object();
}

bool decision_fired(std::string_view stored) noexcept {
  return stored.find(R"("decision":"routed")") != std::string_view::npos ||
         stored.find(R"("decision":"failed")") != std::string_view::npos;
}

void RuleSet::replace(std::vector<Rule> rules) {
  auto next = std::make_shared<const std::vector<Rule>>(std::move(rules));
  std::lock_guard lock(_mu);
  _rules = std::move(next);
}

std::shared_ptr<const std::vector<Rule>> RuleSet::snapshot() const {
  std::lock_guard lock(_mu);
  return _rules;
}

void RuleSet::request_backfill(std::string name) {
  std::lock_guard lock(_mu);
  _backfill_requests.push_back(std::move(name));
}

std::vector<std::string> RuleSet::take_backfill_requests() const {
  std::lock_guard lock(_mu);
  return std::exchange(_backfill_requests, {});
}

Status Router::route(const Trace& trace, bool trace_present, int64_t time_ns, state::WriteBatch& batch,
                     std::vector<Output>& outputs, bool trace_changed) {
  if (trace_present && trace_changed) {
    // A blind put: cheaper than reading whether the entry exists. An entry left behind by an
    // earlier timestamp of this trace is skipped by readers (time_index.h).
    time_index::assign_key(_key, time_index::timestamp_ms_of(trace.trace_info.request_time), trace.trace_info.trace_id);
    batch.put(state::Family::meta, _key, "");
  }
  auto rules = _rules.snapshot();
  for (const Rule& rule : *rules) {
    TF_RETURN_IF_ERROR(route_one(rule, trace, trace_present, time_ns, batch, outputs));
  }
  return Status::ok();
}

Status Router::prefetch(std::span<const std::string_view> trace_ids, state::WriteBatch& batch) {
  auto rules = _rules.snapshot();
  _prefetch_keys.resize(trace_ids.size() * rules->size());
  size_t n = 0;
  for (std::string_view id : trace_ids) {
    for (const Rule& rule : *rules) state::assign_child_key(_prefetch_keys[n++], id, rule.name);
  }
  _prefetch_views.assign(_prefetch_keys.begin(), _prefetch_keys.begin() + static_cast<ptrdiff_t>(n));
  return batch.prefetch(state::Family::decisions, _prefetch_views);
}

Status Router::route_one(const Rule& rule, const Trace& trace, bool trace_present, int64_t time_ns,
                         state::WriteBatch& batch, std::vector<Output>& outputs) {
  return evaluate(rule, trace, trace_present, time_ns, batch, outputs).status();
}

Result<bool> Router::evaluate(const Rule& rule, const Trace& trace, bool trace_present, int64_t time_ns,
                                  state::WriteBatch& batch, std::vector<Output>& outputs) {
  const std::string& trace_id = trace.trace_info.trace_id;
  state::assign_child_key(_key, trace_id, rule.name);
  TF_ASSIGN_OR_RETURN(auto stored, batch.get(state::Family::decisions, _key));
  std::string_view previous;
  if (stored) {
    // Fires once. `failed` means it fired and a webhook of it could not be delivered.
    if (decision_fired(*stored)) return false;
    previous = *stored;
  }

  Decision decision;
  _reason.clear();
  if (!rule.filter.matches_assessments(trace.trace_info.assessments)) {
    decision = Decision::filtered_out;
    int i = rule.filter.first_unmatched(trace);
    _reason = i >= 0 ? "condition not met: " + rule.filter.conditions()[static_cast<size_t>(i)].text : "filter not met";
  } else if (rule.filter.needs_trace() && !trace_present) {
    decision = Decision::waiting_for_trace;
    _reason = "feedback conditions met; the trace has not arrived yet";
  } else if (!rule.filter.matches(trace)) {
    decision = Decision::filtered_out;
    int i = rule.filter.first_unmatched(trace);
    _reason = i >= 0 ? "condition not met: " + rule.filter.conditions()[static_cast<size_t>(i)].text : "filter not met";
  } else if (!filter::sampled_in(trace_id, rule.name, rule.sample_rate)) {
    decision = Decision::sampled_out;
    _reason = "not in the " + std::to_string(rule.sample_rate) + " sample";
  } else {
    decision = Decision::routed;
    _reason = "all conditions met";
    if (std::any_of(rule.actions.begin(), rule.actions.end(),
                    [](const RuleAction& a) { return a.kind == RuleAction::Kind::webhook; })) {
      _reason += "; webhook delivery pending";
    }
  }

  write_decision_json(_json, trace_id, rule.name, decision, _reason, time_ns);
  // Time (the last field) is left out of the comparison: re-evaluating to the same decision is
  // no change.
  const size_t before_time = _json.rfind(R"(,"time":)");
  if (!previous.empty() && previous.size() >= before_time &&
      previous.substr(0, before_time) == std::string_view(_json).substr(0, before_time)) {
    return false;
  }
  batch.put(state::Family::decisions, _key, _json);

  if (decision != Decision::routed) return false;
  for (size_t i = 0; i < rule.actions.size(); ++i) {
    const RuleAction& action = rule.actions[i];
    std::string value;
    JsonWriter ow(value);
    ow.begin_object();
    switch (action.kind) {
      case RuleAction::Kind::labeling_session:
        ow.field("type", "review_item");
        ow.field("labeling_session", action.target);
        break;
      case RuleAction::Kind::eval:
        ow.field("type", "eval_record");
        ow.field("dataset", action.target);
        break;
      case RuleAction::Kind::webhook:
        ow.field("type", "webhook");
        ow.field("delivery_id", trace_id + "/" + rule.name + "/" + std::to_string(i));
        break;
    }
    ow.field("trace_id", trace_id);
    ow.field("rule", rule.name);
    ow.field_int("priority", rule.priority);
    ow.field("time", format_rfc3339(time_ns));
    if (action.kind == RuleAction::Kind::webhook) {
      // The body is fixed now, so every retry (and a redelivery after a crash) sends the same bytes.
      ow.key("trace_info");
      write_json(ow, trace.trace_info);
      ow.end_object();
      std::string key = webhook_outbox_key(trace_id, rule.name, i);
      batch.put(state::Family::meta, key, webhook_outbox_value(action.target, value));
      if (_webhooks) _webhooks->submit(std::move(key));
      continue;
    }
    ow.end_object();
    const std::string& topic = action.kind == RuleAction::Kind::eval ? _topics.eval : _topics.review;
    outputs.push_back({topic, trace_id, std::move(value)});
  }
  return true;
}

// ---- backfill -------------------------------------------------------------------------------

namespace {

std::string progress_json(const BackfillProgress& p) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.field("rule", p.rule);
  w.field("version", p.version);
  w.field("cursor", p.cursor);
  w.field("done", p.done);
  w.key("evaluated");
  w.uint64(p.evaluated);
  w.key("routed");
  w.uint64(p.routed);
  w.end_object();
  return out;
}

Result<BackfillProgress> parse_progress(std::string_view stored) {
  TF_ASSIGN_OR_RETURN(auto v, parse_json(stored));
  BackfillProgress p;
  auto str = [&](const char* k) -> std::string {
    const JsonTree* f = v.find(k);
    return f && f->is_string() ? f->as_string() : std::string();
  };
  auto num = [&](const char* k) -> uint64_t {
    const JsonTree* f = v.find(k);
    return f && f->is_number() ? static_cast<uint64_t>(f->as_number()) : 0;
  };
  p.rule = str("rule");
  p.version = str("version");
  p.cursor = str("cursor");
  const JsonTree* done = v.find("done");
  p.done = done && done->is_bool() && done->as_bool();
  p.evaluated = num("evaluated");
  p.routed = num("routed");
  return p;
}

}  // namespace

std::string backfill_state_key(std::string_view rule) {
  std::string k("bfl\0", 4);
  k += rule;
  return k;
}

Result<std::optional<BackfillProgress>> read_backfill_progress(const state::Store& store, std::string_view rule) {
  TF_ASSIGN_OR_RETURN(auto stored, store.get(state::Family::meta, backfill_state_key(rule)));
  if (!stored) return std::optional<BackfillProgress>();
  auto p = parse_progress(*stored);
  if (!p.is_ok()) return Status::corruption("stored backfill progress of rule " + std::string(rule) + ": " + p.status().message());
  return std::optional<BackfillProgress>(std::move(p).value());
}

Result<size_t> Router::index_build_step(const state::Store& store, state::WriteBatch& batch) {
  TF_ASSIGN_OR_RETURN(auto cursor, batch.get(state::Family::meta, time_index::build_cursor_key));
  EventParser parser;
  Trace trace;
  Status inner;
  size_t visited = 0;
  TF_ASSIGN_OR_RETURN(
      auto next, store.scan(state::Family::traces, state::ScanRange{cursor.value_or(""), "", _backfill_options.traces_per_step},
                            [&](std::string_view id, std::string_view value) {
                              if (inner = parser.parse_trace(value, trace); !inner.is_ok()) {
                                inner = Status::corruption("stored trace " + std::string(id) + ": " + inner.message());
                                return false;
                              }
                              time_index::assign_key(_key, time_index::timestamp_ms_of(trace.trace_info.request_time), id);
                              batch.put(state::Family::meta, _key, "");
                              ++visited;
                              return true;
                            }));
  TF_RETURN_IF_ERROR(inner);
  if (next) {
    batch.put(state::Family::meta, time_index::build_cursor_key, *next);
  } else {
    // Traces the join wrote meanwhile were indexed by route(): the index is complete.
    batch.erase(state::Family::meta, time_index::build_cursor_key);
    batch.put(state::Family::meta, time_index::complete_key, "1");
    _index_complete = true;
    spdlog::info("route: trace time index built");
  }
  return visited;
}

void Router::backfill_abandoned() noexcept {
  _index_complete.reset();
  for (auto& job : _backfills) job.loaded = false;
  // A job the dropped step finished is not finished in the store: take it up again.
  if (_finished_by_last_step) _backfills.push_front(BackfillJob{std::move(*_finished_by_last_step), false, {}});
  _finished_by_last_step.reset();
}

Result<size_t> Router::backfill_step(const state::Store& store, state::WriteBatch& batch, const TraceLoader& load,
                                     int64_t time_ns, std::vector<Output>& outputs) {
  _finished_by_last_step.reset();
  for (auto& name : _rules.take_backfill_requests()) {
    auto it = std::find_if(_backfills.begin(), _backfills.end(), [&](const BackfillJob& j) { return j.rule == name; });
    if (it != _backfills.end()) {
      it->loaded = false;  // re-read: the rule may have a new version
    } else {
      _backfills.push_back(BackfillJob{std::move(name), false, {}});
    }
  }
  if (!_index_complete) {
    TF_ASSIGN_OR_RETURN(auto marker, store.get(state::Family::meta, time_index::complete_key));
    _index_complete = marker.has_value();
  }
  if (!*_index_complete) return index_build_step(store, batch);

  auto rules = _rules.snapshot();
  while (!_backfills.empty()) {
    BackfillJob& job = _backfills.front();
    auto rule = std::find_if(rules->begin(), rules->end(), [&](const Rule& r) { return r.name == job.rule; });
    if (rule == rules->end()) {  // deleted meanwhile
      _backfills.pop_front();
      continue;
    }
    const std::string version = rule_version(*rule);
    if (!job.loaded || job.progress.version != version) {
      TF_ASSIGN_OR_RETURN(auto stored, batch.get(state::Family::meta, backfill_state_key(job.rule)));
      std::optional<BackfillProgress> progress;
      if (stored) {
        auto parsed = parse_progress(*stored);
        if (parsed.is_ok() && parsed->version == version) progress = std::move(parsed).value();
      }
      job.progress = progress ? std::move(*progress) : BackfillProgress{job.rule, version, "", false, 0, 0};
      job.loaded = true;
      if (!job.progress.done) {
        spdlog::info("route: backfill of rule {} (version {}) {}", job.rule, version,
                     job.progress.evaluated == 0 ? "starts" : "resumes");
      }
    }
    if (job.progress.done) {  // this version ran already (maybe before a restart)
      _backfills.pop_front();
      continue;
    }
    std::vector<std::string> ids;
    TF_ASSIGN_OR_RETURN(auto next, store.scan(state::Family::traces,
                                              state::ScanRange{job.progress.cursor, "", _backfill_options.traces_per_step},
                                              [&](std::string_view id, std::string_view) {
                                                ids.emplace_back(id);
                                                return true;
                                              }));
    Trace trace;
    for (const auto& id : ids) {
      bool present = false;
      TF_RETURN_IF_ERROR(load(batch, id, trace, present));
      TF_ASSIGN_OR_RETURN(bool fired, evaluate(*rule, trace, present, time_ns, batch, outputs));
      ++job.progress.evaluated;
      if (fired) ++job.progress.routed;
    }
    job.progress.cursor = next.value_or("");
    job.progress.done = !next.has_value();
    batch.put(state::Family::meta, backfill_state_key(job.rule), progress_json(job.progress));
    if (job.progress.done) {
      spdlog::info("route: backfill of rule {} done: {} traces evaluated, fired for {}", job.rule,
                   job.progress.evaluated, job.progress.routed);
      _finished_by_last_step = job.rule;
      _backfills.pop_front();
    }
    return ids.size();
  }
  return size_t{0};
}

Result<std::vector<JsonTree>> read_decisions(const state::Store& store, std::string_view trace_id) {
  std::vector<JsonTree> out;
  Status inner;
  TF_RETURN_IF_ERROR(store.scan_prefix(state::Family::decisions, state::child_prefix(trace_id),
                                       [&](std::string_view, std::string_view value) {
                                         auto v = parse_json(value);
                                         if (!v.is_ok()) {
                                           inner = Status::corruption("stored decision: " + v.status().message());
                                           return false;
                                         }
                                         out.push_back(std::move(v).value());
                                         return true;
                                       }));
  TF_RETURN_IF_ERROR(inner);
  return out;
}

}  // namespace tracefeed::route
