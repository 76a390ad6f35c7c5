#include "processors/join/orphans.h"

#include <limits>
#include <utility>

#include "processors/route/router.h"
#include "state/family.h"
#include "state/keys.h"
#include "state/store.h"
#include "state/write_batch.h"

namespace tracefeed::join {

using state::Family;

namespace {

// The timeout as an operator writes it: "1h", "90m" → "1h30m", "45s", "1500ms".
std::string human_duration(std::chrono::milliseconds d) {
  const int64_t ms = d.count();
  if (ms % 1000 != 0) return std::to_string(ms) + "ms";
  int64_t s = ms / 1000;
  std::string out;
  if (s >= 3600) {
    out += std::to_string(s / 3600) + "h";
    s %= 3600;
  }
  if (s >= 60) {
    out += std::to_string(s / 60) + "m";
    s %= 60;
  }
  if (s > 0 || out.empty()) out += std::to_string(s) + "s";
  return out;
}

int64_t to_ns(std::chrono::milliseconds d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

}  // namespace

Status OrphanSweepOptions::validate() const {
  if (timeout.count() <= 0) {
    return Status::invalid_argument("orphan sweep: timeout: must be > 0, got " +
                                    std::to_string(timeout.count()) + " ms");
  }
  // Far beyond any sensible timeout, and keeps now - timeout clear of overflow.
  if (timeout > std::chrono::hours(24 * 365 * 100)) {
    return Status::invalid_argument("orphan sweep: timeout: at most 100 years");
  }
  if (max_per_step == 0) return Status::invalid_argument("orphan sweep: max_per_step: must be > 0");
  if (pass_interval.count() < 0 || pass_interval > std::chrono::hours(24 * 365 * 100)) {
    return Status::invalid_argument(
        "orphan sweep: pass_interval: must be between 0 and 100 years, got " +
        std::to_string(pass_interval.count()) + " ms");
  }
  return Status::ok();
}

OrphanSweep::OrphanSweep(const state::Store& store, OrphanSweepOptions options)
    : _store(store), _options(options) {}

void OrphanSweep::reset() noexcept {
  _cursor.clear();
  _next_pass_ns = 0;
}

Result<OrphanStepResult> OrphanSweep::step(state::WriteBatch& batch, int64_t now_ns) {
  TF_RETURN_IF_ERROR(_options.validate());
  OrphanStepResult r;
  if (_cursor.empty() && now_ns < _next_pass_ns) return r;  // the last pass ended recently

  // One page of keys from the committed state. The batch is normally fresh (nothing of it to
  // merge); when it is not, each unmarked entry is re-read through it below.
  const bool batch_was_empty = batch.empty();
  _page_size = 0;
  state::ScanRange range;
  range.start = _cursor;
  range.limit = _options.max_per_step;
  auto collect = [&](std::string_view key, std::string_view value) {
    if (_page_size == _page.size()) _page.emplace_back();
    Entry& e = _page[_page_size++];
    e.key.assign(key);
    e.marked = value == orphan_marker;
    return true;
  };
  TF_ASSIGN_OR_RETURN(auto next, _store.scan(Family::pending, range, collect));
  r.scanned = _page_size;

  // validate() bounds the timeout: no overflow.
  const int64_t cutoff = now_ns - to_ns(_options.timeout);
  TraceOrphans trace;
  for (size_t i = 0; i < _page_size; ++i) {
    const Entry& e = _page[i];
    const std::string_view trace_id = state::parent_of(e.key);
    if (trace_id != trace.trace_id) {
      TF_RETURN_IF_ERROR(flush(batch, trace, now_ns, r));
      trace.trace_id.assign(trace_id);
    }
    if (e.marked) continue;
    if (!batch_was_empty) {
      TF_ASSIGN_OR_RETURN(auto current, batch.get(Family::pending, e.key));
      if (!current || *current == orphan_marker) continue;  // joined or marked in this batch
    }
    TF_ASSIGN_OR_RETURN(auto stored, batch.get(Family::assessments, e.key));
    if (!stored || !_parser.parse_assessment(*stored, _assessment).is_ok()) {
      ++r.unreadable;  // the Joiner writes both in one batch: only corruption gets here
      continue;
    }
    if (_assessment.create_time >= cutoff) continue;  // not (yet) older than now - timeout
    batch.put(Family::pending, e.key, orphan_marker);
    ++r.orphaned_assessments;
    if (trace.count++ == 0) {
      trace.first_name = _assessment.assessment_name;
      trace.first_id = _assessment.assessment_id;
      trace.first_is_feedback = _assessment.is_feedback();
    }
  }
  TF_RETURN_IF_ERROR(flush(batch, trace, now_ns, r));

  if (next) {
    _cursor = std::move(*next);
  } else {
    _cursor.clear();
    r.pass_complete = true;
    _next_pass_ns = now_ns + to_ns(_options.pass_interval);
  }
  return r;
}

// Writes the decision record of `t`'s orphans found in this step, unless the trace has one: one
// record per trace, ever (its orphans may span two steps, or a later one may be orphaned after
// the first), and a record at that key that is not ours (a rule created through the API under
// the same name) is not overwritten.
Status OrphanSweep::flush(state::WriteBatch& batch, TraceOrphans& t, int64_t now_ns,
                          OrphanStepResult& r) {
  if (t.count == 0) return Status::ok();
  const size_t count = std::exchange(t.count, 0);
  state::assign_child_key(_key, t.trace_id, orphan_rule_name);
  TF_ASSIGN_OR_RETURN(auto existing, batch.get(Family::decisions, _key));
  if (existing) return Status::ok();
  _reason = "orphaned: no trace ";
  _reason += human_duration(_options.timeout);
  _reason += t.first_is_feedback ? " after feedback " : " after expectation ";
  _reason += t.first_name;
  _reason += " (assessment ";
  _reason += t.first_id;
  _reason += ')';
  if (count > 1) {
    _reason += " and ";
    _reason += std::to_string(count - 1);
    _reason += count == 2 ? " more assessment" : " more assessments";
  }
  _reason += "; it still joins if the trace arrives";
  route::write_decision_json(_json, t.trace_id, orphan_rule_name,
                             route::Decision::waiting_for_trace, _reason, now_ns);
  batch.put(Family::decisions, _key, _json);
  ++r.orphaned_traces;
  return Status::ok();
}

}  // namespace tracefeed::join
