#include "processors/route/router.h"

#include "core/time_format.h"
#include "processors/filter/sampling.h"
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
  if (!(sample_rate >= 0.0 && sample_rate <= 1.0)) {
    return field_error(name, "sample_rate", "expected a number between 0 and 1, got " + std::to_string(sample_rate));
  }
  if (actions.empty()) return field_error(name, "actions", "at least one action is required");
  for (const auto& a : actions) {
    if (a.target.empty()) return field_error(name, "actions", std::string(action_kind_name(a.kind)) + ": target required");
    if (a.kind == RuleAction::Kind::webhook) {
      return field_error(name, "actions", "webhook actions are not supported yet; use labeling_session or eval");
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

void RuleSet::replace(std::vector<Rule> rules) {
  auto next = std::make_shared<const std::vector<Rule>>(std::move(rules));
  std::lock_guard lock(_mu);
  _rules = std::move(next);
}

std::shared_ptr<const std::vector<Rule>> RuleSet::snapshot() const {
  std::lock_guard lock(_mu);
  return _rules;
}

Status Router::route(const Trace& trace, bool trace_present, int64_t time_ns, state::WriteBatch& batch,
                     std::vector<Output>& outputs) {
  auto rules = _rules.snapshot();
  for (const Rule& rule : *rules) {
    TF_RETURN_IF_ERROR(route_one(rule, trace, trace_present, time_ns, batch, outputs));
  }
  return Status::ok();
}

Status Router::route_one(const Rule& rule, const Trace& trace, bool trace_present, int64_t time_ns,
                         state::WriteBatch& batch, std::vector<Output>& outputs) {
  const std::string& trace_id = trace.trace_info.trace_id;
  state::assign_child_key(_key, trace_id, rule.name);
  TF_ASSIGN_OR_RETURN(auto stored, batch.get(state::Family::decisions, _key));
  std::string_view previous;
  if (stored) {
    if (stored->find(R"("decision":"routed")") != std::string::npos) return Status::ok();  // fires once
    previous = *stored;
  }

  Decision decision;
  std::string reason;
  if (!rule.filter.matches_assessments(trace.trace_info.assessments)) {
    decision = Decision::filtered_out;
    int i = rule.filter.first_unmatched(trace);
    reason = i >= 0 ? "condition not met: " + rule.filter.conditions()[static_cast<size_t>(i)].text : "filter not met";
  } else if (rule.filter.needs_trace() && !trace_present) {
    decision = Decision::waiting_for_trace;
    reason = "feedback conditions met; the trace has not arrived yet";
  } else if (!rule.filter.matches(trace)) {
    decision = Decision::filtered_out;
    int i = rule.filter.first_unmatched(trace);
    reason = i >= 0 ? "condition not met: " + rule.filter.conditions()[static_cast<size_t>(i)].text : "filter not met";
  } else if (!filter::sampled_in(trace_id, rule.name, rule.sample_rate)) {
    decision = Decision::sampled_out;
    reason = "not in the " + std::to_string(rule.sample_rate) + " sample";
  } else {
    decision = Decision::routed;
    reason = "all conditions met";
  }

  _json.clear();
  JsonWriter w(_json);
  w.begin_object();
  w.field("trace_id", trace_id);
  w.field("rule", rule.name);
  w.field("decision", to_string(decision));
  w.field("reason", reason);
  // Time is left out of the comparison below: re-evaluating to the same decision is no change.
  const size_t before_time = _json.size();
  w.field("time", format_rfc3339(time_ns));
  w.end_object();
  if (!previous.empty() && previous.size() >= before_time &&
      previous.substr(0, before_time) == std::string_view(_json).substr(0, before_time)) {
    return Status::ok();
  }
  batch.put(state::Family::decisions, _key, _json);

  if (decision != Decision::routed) return Status::ok();
  for (const auto& action : rule.actions) {
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
      case RuleAction::Kind::webhook: break;  // rejected by compile_rule
    }
    ow.field("trace_id", trace_id);
    ow.field("rule", rule.name);
    ow.field_int("priority", rule.priority);
    ow.field("time", format_rfc3339(time_ns));
    ow.end_object();
    const std::string& topic = action.kind == RuleAction::Kind::eval ? _topics.eval : _topics.review;
    outputs.push_back({topic, trace_id, std::move(value)});
  }
  return Status::ok();
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
