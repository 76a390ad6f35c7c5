#pragma once
// Routing: rules over the joined trace decide which traces deserve a human look (PRODUCT.md
// §3 Rule). Every (trace, rule) evaluation leaves a decision record — routed, filtered_out,
// sampled_out, waiting_for_trace or failed, with a reason — so "why is this trace not in the
// queue?" has an answer. A rule fires at most once per trace: once a decision is `routed` (or
// `failed`: it fired, and a webhook of it could not be delivered) it is never evaluated again.
//
// Routing runs on the join's owner thread, after a batch is applied, over every trace the batch
// touched; outputs (review/eval events) are produced and acknowledged before the batch's state
// (decisions + offsets) is written, so a crash in between re-produces the same outputs with the
// same keys (at-least-once, idempotent at the sinks) and never loses one.
//
// Webhook actions do not block the join: a fired webhook becomes an outbox entry in the same
// batch (Family::meta, see webhook.h) and is delivered by the WebhookDispatcher's threads, which
// write the final decision (routed with "webhook delivered", or failed with the reason).
//
// Also on the join's thread, and for the same reason (it alone writes decisions, so a rule cannot
// fire twice for a trace): the trace time index (time_index.h) and backfills (backfill_step).
//
// Threads: a Router is used by the join's owner thread only. RuleSet is shared with HTTP threads.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
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

class WebhookDispatcher;

struct RuleAction {
  enum class Kind { labeling_session, eval, webhook };
  Kind kind = Kind::labeling_session;
  std::string target;  // session name, dataset name or URL (http:// or https://)
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
// Identifies a rule's definition: the hex XXH64 of its JSON form. A backfill runs once per version.
[[nodiscard]] std::string rule_version(const Rule& r);

// A filter parse error's message without the grammar's own "filter: " prefix, for callers
// that name the field themselves ("rules[r].filter: column 24: ...").
std::string filter_error_detail(const Status& s);

enum class Decision { routed, filtered_out, sampled_out, waiting_for_trace, failed };
std::string_view to_string(Decision d) noexcept;

// A decision record as stored in Family::decisions under child_key(trace_id, rule):
// {"trace_id","rule","decision","reason","time"}. Replaces `out`.
void write_decision_json(std::string& out, std::string_view trace_id, std::string_view rule, Decision decision,
                         std::string_view reason, int64_t time_ns);
// True when a stored decision record says the rule fired for the trace (routed or failed).
[[nodiscard]] bool decision_fired(std::string_view stored) noexcept;

// One message to produce: topic, key (trace_id), JSON value.
struct Output {
  std::string topic;
  std::string key;
  std::string value;
};

// The rule set, replaceable at run time from HTTP threads while the owner thread routes; also
// carries backfill requests from the rules registry to the join's thread.
class RuleSet {
 public:
  void replace(std::vector<Rule> rules);
  std::shared_ptr<const std::vector<Rule>> snapshot() const;

  // Asks the join's thread to evaluate rule `name` over the traces already stored (once per
  // rule version; see Router::backfill_step). Any thread.
  void request_backfill(std::string name);
  // The requests made since the last call (join thread). const: the request queue is a channel
  // beside the rules, and the Router holds the set as const.
  std::vector<std::string> take_backfill_requests() const;

 private:
  mutable std::mutex _mu;
  std::shared_ptr<const std::vector<Rule>> _rules = std::make_shared<const std::vector<Rule>>();
  mutable std::vector<std::string> _backfill_requests;
};

// Loads the joined view of a trace as `batch` sees it (the join passes Joiner::load_joined):
// trace_info + spans + every assessment; `present` false while only feedback has arrived.
using TraceLoader = std::function<Status(state::WriteBatch& batch, const std::string& trace_id, Trace& out,
                                         bool& present)>;

struct BackfillOptions {
  // Most traces one backfill_step evaluates (bounds the pause of the join's poll loop; ~10-20 µs
  // a trace). Default: 256.
  size_t traces_per_step = 256;
};

// Progress of a rule's backfill, as stored in Family::meta under backfill_state_key(rule).
struct BackfillProgress {
  std::string rule;
  std::string version;    // rule_version() it ran for
  std::string cursor;     // next trace id to evaluate; empty when done
  bool done = false;
  uint64_t evaluated = 0; // traces evaluated so far
  uint64_t routed = 0;    // of which the rule fired for
};
[[nodiscard]] std::string backfill_state_key(std::string_view rule);
[[nodiscard]] Result<std::optional<BackfillProgress>> read_backfill_progress(const state::Store& store,
                                                                           std::string_view rule);

class Router {
 public:
  // `webhooks` (may be null) is told about webhook outbox entries as they are written; without
  // it they wait in the outbox for the next dispatcher start.
  Router(Topics topics, const RuleSet& rules, WebhookDispatcher* webhooks = nullptr, BackfillOptions backfill = {})
      : _topics(std::move(topics)), _rules(rules), _webhooks(webhooks), _backfill_options(backfill) {}

  // Evaluates every rule for `trace` (trace_info.assessments filled; `trace_present` false when
  // only feedback has arrived), writes changed decision records into `batch` and appends the
  // outputs of newly routed rules. `time_ns` stamps decisions and outputs (event time). Also
  // keeps the trace's time index entry (time_index.h) — unless `trace_changed` is false: only its
  // assessments changed, so the entry written when the trace itself was (or the index build's)
  // is still right, and rewriting it would cost a memtable insert per feedback event. Call it for
  // every trace a batch touched.
  [[nodiscard]] Status route(const Trace& trace, bool trace_present, int64_t time_ns, state::WriteBatch& batch,
                             std::vector<Output>& outputs, bool trace_changed = true);
  // Reads the decision records route() will read for these traces (every rule) in one MultiGet
  // (state::WriteBatch::prefetch). Optional; call it before routing a batch's touched traces.
  [[nodiscard]] Status prefetch(std::span<const std::string_view> trace_ids, state::WriteBatch& batch);
  // Evaluates one rule.
  [[nodiscard]] Status route_one(const Rule& rule, const Trace& trace, bool trace_present, int64_t time_ns,
                                 state::WriteBatch& batch, std::vector<Output>& outputs);

  // Join owner thread, between batches (also after an empty poll): does the next chunk of
  // background work into `batch` — first the one-off time index build over traces stored before
  // the index existed, then requested rule backfills (RuleSet::request_backfill), each over every
  // stored trace once per rule version, at most BackfillOptions::traces_per_step traces per call.
  // Outputs of rules that fire are appended exactly as route() does; the caller produces them,
  // waits for their acknowledgement and writes `batch` (progress is stored in it, so a restart
  // resumes where the last written step ended and a finished backfill is not redone).
  // `store` is the committed state the batch belongs to (scans); `time_ns` stamps decisions.
  // Returns the number of traces visited: 0 when there is no work.
  [[nodiscard]] Result<size_t> backfill_step(const state::Store& store, state::WriteBatch& batch,
                                             const TraceLoader& load, int64_t time_ns, std::vector<Output>& outputs);
  // The caller dropped the batch of the last backfill_step (e.g. its exactly-once transaction
  // aborted): forget the in-memory progress so the next step re-reads it from the store and
  // evaluates the same traces again. Join owner thread.
  void backfill_abandoned() noexcept;

 private:
  struct BackfillJob {
    std::string rule;
    bool loaded = false;  // progress read from state
    BackfillProgress progress;
  };
  // Evaluates one rule; true when it fired now (false too when it had fired before).
  Result<bool> evaluate(const Rule& rule, const Trace& trace, bool trace_present, int64_t time_ns,
                        state::WriteBatch& batch, std::vector<Output>& outputs);
  Result<size_t> index_build_step(const state::Store& store, state::WriteBatch& batch);

  Topics _topics;
  const RuleSet& _rules;
  WebhookDispatcher* _webhooks;
  BackfillOptions _backfill_options;
  std::string _key, _json, _reason;
  std::vector<std::string> _prefetch_keys;  // prefetch(): reused, so its keys keep their buffers
  std::vector<std::string_view> _prefetch_views;
  std::optional<bool> _index_complete;  // unknown until the first backfill_step
  std::deque<BackfillJob> _backfills;
  std::optional<std::string> _finished_by_last_step;  // for backfill_abandoned()
};

// Decision records of a trace, as stored: [{trace_id, rule, decision, reason, time}, ...].
[[nodiscard]] Result<std::vector<JsonTree>> read_decisions(const state::Store& store, std::string_view trace_id);

}  // namespace tracefeed::route
