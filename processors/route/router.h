#pragma once
// Routing: rules over the joined trace decide which traces deserve a human look (PRODUCT.md
// §3 Rule). Every (trace, rule) evaluation leaves a decision record — routed, filtered_out,
// sampled_out, waiting_for_trace or failed, with a reason — so "why is this trace not in the
// queue?" has an answer. A rule fires at most once per trace: once `routed`, never again.
//
// Routing runs on the join's owner thread, after a batch is applied, over every trace the batch
// touched; outputs (review/eval events) are produced and acknowledged before the batch's state
// (decisions + offsets) is written, so a crash in between re-produces the same outputs with the
// same keys (at-least-once, idempotent at the sinks) and never loses one.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/json_tree.h"
#include "core/model.h"
#include "core/result.h"
#include "core/topics.h"
#include "processors/filter/filter.h"

namespace tracefeed::state {
class WriteBatch;
class Store;
}  // namespace tracefeed::state

namespace tracefeed::route {

struct RuleAction {
  enum class Kind { labeling_session, eval, webhook };
  Kind kind = Kind::labeling_session;
  std::string target;  // session name, dataset name or URL
};

struct Rule {
  std::string name;
  std::string filter_text;
  filter::Filter filter;
  double sample_rate = 1.0;
  int priority = 0;
  bool backfill = false;
  std::vector<RuleAction> actions;
};

// Validates and compiles a rule; errors name the field ("rules[thumbs_down].filter: column 27: ...").
[[nodiscard]] Result<Rule> compile_rule(std::string name, std::string filter_text, double sample_rate, int priority,
                                        bool backfill, std::vector<RuleAction> actions);
// A rule from its JSON form ({name, filter, sample_rate, priority, backfill, actions: [{labeling_session: S} | {eval: D} | {webhook: URL}]}).
[[nodiscard]] Result<Rule> rule_from_json(const JsonTree& v);
void write_rule_json(JsonWriter& w, const Rule& r);

// A filter parse error's message without the grammar's own "filter: " prefix, for callers
// that name the field themselves ("rules[r].filter: column 24: ...").
std::string filter_error_detail(const Status& s);

enum class Decision { routed, filtered_out, sampled_out, waiting_for_trace, failed };
std::string_view to_string(Decision d) noexcept;

// One message to produce: topic, key (trace_id), JSON value.
struct Output {
  std::string topic;
  std::string key;
  std::string value;
};

// The rule set, replaceable at run time from HTTP threads while the owner thread routes.
class RuleSet {
 public:
  void replace(std::vector<Rule> rules);
  std::shared_ptr<const std::vector<Rule>> snapshot() const;

 private:
  mutable std::mutex _mu;
  std::shared_ptr<const std::vector<Rule>> _rules = std::make_shared<const std::vector<Rule>>();
};

class Router {
 public:
  Router(Topics topics, const RuleSet& rules) : _topics(std::move(topics)), _rules(rules) {}

  // Evaluates every rule for `trace` (trace_info.assessments filled; `trace_present` false when
  // only feedback has arrived), writes changed decision records into `batch` and appends the
  // outputs of newly routed rules. `time_ns` stamps decisions and outputs (event time).
  [[nodiscard]] Status route(const Trace& trace, bool trace_present, int64_t time_ns, state::WriteBatch& batch,
                             std::vector<Output>& outputs);
  // Evaluates one rule (backfill of a new rule).
  [[nodiscard]] Status route_one(const Rule& rule, const Trace& trace, bool trace_present, int64_t time_ns,
                                 state::WriteBatch& batch, std::vector<Output>& outputs);

 private:
  Topics _topics;
  const RuleSet& _rules;
  std::string _key, _json;
};

// Decision records of a trace, as stored: [{trace_id, rule, decision, reason, time}, ...].
[[nodiscard]] Result<std::vector<JsonTree>> read_decisions(const state::Store& store, std::string_view trace_id);

}  // namespace tracefeed::route
