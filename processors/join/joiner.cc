#include "processors/join/joiner.h"

#include <algorithm>

#include "core/ids.h"
#include "processors/join/trace_merge.h"
#include "state/family.h"
#include "state/keys.h"
#include "state/store.h"
#include "state/write_batch.h"

namespace tracefeed::join {

using state::Family;

std::string override_marker_key(std::string_view trace_id, std::string_view overridden_id) {
  std::string k = "ovr";
  k.push_back(state::key_separator);
  k += trace_id;
  k.push_back(state::key_separator);
  k += overridden_id;
  return k;
}

Result<int64_t> Joiner::load_indexes(const state::Store& store) {
  _pending_traces.clear();
  _pending_cleared.clear();
  _override_traces.clear();
  _indexed = false;
  int64_t entries = 0;
  TF_RETURN_IF_ERROR(store.scan_prefix(Family::pending, "", [&](std::string_view key, std::string_view) {
    ++entries;
    _pending_traces.emplace(key.substr(0, key.find(state::key_separator)));
    return true;
  }));
  std::string markers = "ovr";  // override_marker_key's prefix
  markers.push_back(state::key_separator);
  TF_RETURN_IF_ERROR(store.scan_prefix(Family::meta, markers, [&](std::string_view key, std::string_view) {
    key.remove_prefix(markers.size());
    _override_traces.emplace(key.substr(0, key.find(state::key_separator)));
    return true;
  }));
  _indexed = true;
  return entries;
}

void Joiner::batch_written(const state::WriteBatch& batch) {
  for (const auto& id : _pending_cleared) _pending_traces.erase(id);
  _pending_cleared.clear();
  if (_layer_batch != &batch) {
    drop_layer();
    return;
  }
  // The layer's traces are stored now: they stay where they are (at the front), as stored.
  for (auto it : _layer) {
    it->in_layer = false;
    it->c.written = false;
    it->c.none_stored = false;  // the store may hold its assessments now
  }
  _layer.clear();
  _layer_batch = nullptr;
  while (_entries.size() > kMaxStoredTraces) erase_entry(std::prev(_entries.end()));
}

bool Joiner::trace_written(const std::string& trace_id) const {
  auto it = _index.find(trace_id);
  return it != _index.end() && it->second->in_layer && it->second->c.written;
}

void Joiner::use_layer_of(const state::WriteBatch& batch) {
  if (_layer_batch == &batch) return;
  drop_layer();
  _layer_batch = &batch;
}

void Joiner::drop_layer() {
  for (auto it : _layer) {
    _index.erase(it->id);
    _entries.erase(it);
  }
  _layer.clear();
  _layer_batch = nullptr;
}

void Joiner::erase_entry(Entries::iterator it) {
  _index.erase(it->id);
  _entries.erase(it);
}

void Joiner::cache_assessment(const state::WriteBatch& batch, const std::string& trace_id,
                              std::string_view assessment_id, const Assessment* a) {
  use_layer_of(batch);  // so that an entry in the layer is this batch's
  auto found = _index.find(trace_id);
  if (found == _index.end()) return;
  auto entry = found->second;
  if (!entry->in_layer) {
    erase_entry(entry);  // not in this batch's layer: a stored copy would go stale
    return;
  }
  Cached& c = entry->c;
  if (!c.assessments_loaded) return;
  auto& list = c.trace.trace_info.assessments;
  auto pos = std::lower_bound(list.begin(), list.end(), assessment_id,
                              [](const Assessment& x, std::string_view id) { return x.assessment_id < id; });
  const bool found_id = pos != list.end() && pos->assessment_id == assessment_id;
  if (a == nullptr) {
    if (found_id) list.erase(pos);
  } else if (found_id) {
    *pos = *a;
  } else {
    list.insert(pos, *a);
  }
}

Status Joiner::prefetch(state::WriteBatch& batch, std::span<const Envelope* const> events) {
  _views.clear();
  for (const Envelope* e : events) {
    if (!e->event_id.empty()) _views.push_back(e->event_id);
  }
  TF_RETURN_IF_ERROR(batch.prefetch(Family::dedup, _views));
  _views.clear();
  for (const Envelope* e : events) {
    const std::string& id = e->trace_id();
    if (!_index.contains(id)) _views.push_back(id);
  }
  return batch.prefetch(Family::traces, _views);
}

ApplyResult Joiner::apply(const Envelope& e, int64_t event_time_ns, state::WriteBatch& batch) {
  if (!e.event_id.empty()) {
    auto seen = batch.get(Family::dedup, e.event_id);
    if (!seen.is_ok()) return {ApplyResult::Kind::rejected, seen.status(), 0};
    if (seen->has_value()) return {ApplyResult::Kind::duplicate, Status::ok(), 0};
  }
  const int64_t time_ns = e.time != 0 ? e.time : event_time_ns;
  ApplyResult r;
  switch (e.type) {
    case EventType::trace: r = apply_trace(e.trace(), batch); break;
    case EventType::assessment: r = apply_create(e, time_ns, batch); break;
    case EventType::assessment_update: r = apply_update(e.assessment(), time_ns, batch); break;
    case EventType::assessment_delete: r = apply_delete(e.assessment(), batch); break;
  }
  if (r.kind == ApplyResult::Kind::applied && !e.event_id.empty()) {
    batch.mark_applied(e.event_id, Clock::time_point(std::chrono::duration_cast<Clock::time_point::duration>(
                                       std::chrono::nanoseconds(time_ns))));
  }
  return r;
}

Result<Joiner::Cached*> Joiner::cached(state::WriteBatch& batch, const std::string& trace_id) {
  use_layer_of(batch);
  // Bounded: a caller that reads many traces through one batch without begin_batch() must not
  // grow the layer without end. Dropping it is always safe — what apply() changed is in the batch.
  if (_layer.size() >= kMaxCachedTraces) {
    drop_layer();
    _layer_batch = &batch;
  }
  if (auto found = _index.find(trace_id); found != _index.end()) {
    auto entry = found->second;
    if (!entry->in_layer) {
      entry->in_layer = true;
      _layer.push_back(entry);
      _entries.splice(_entries.begin(), _entries, entry);
    }
    return &entry->c;
  }
  TF_ASSIGN_OR_RETURN(auto stored, batch.get(Family::traces, trace_id));
  Entries::iterator entry;
  if (_entries.size() >= kMaxStoredTraces && !_entries.back().in_layer) {
    // Full: the least recently used stored trace's node becomes this one (no allocation, and
    // the parse below reuses its strings' buffers).
    entry = std::prev(_entries.end());
    _index.erase(entry->id);
    _entries.splice(_entries.begin(), _entries, entry);
    entry->id.assign(trace_id);
  } else {
    entry = _entries.emplace(_entries.begin(), Entry{trace_id, {}, false});
  }
  Cached& c = entry->c;
  c.present = stored.has_value();
  c.none_stored = false;
  c.assessments_loaded = false;
  c.written = false;
  if (c.present) {
    if (Status s = _parser.parse_trace(*stored, c.trace); !s.is_ok()) {
      _entries.erase(entry);
      return Status::corruption("stored trace " + trace_id + ": " + s.message());
    }
    c.trace.trace_info.assessments.clear();
  } else {
    c.trace = Trace{};
    c.trace.trace_info.trace_id = trace_id;
    // No trace and nothing pending: the store holds no assessment of it either.
    c.none_stored = _indexed && !_pending_traces.contains(trace_id);
  }
  entry->in_layer = true;
  _index.emplace(entry->id, entry);
  _layer.push_back(entry);
  return &c;
}

Result<const Trace*> Joiner::joined(state::WriteBatch& batch, const std::string& trace_id, bool& present) {
  TF_ASSIGN_OR_RETURN(Cached * c, cached(batch, trace_id));
  present = c->present;
  if (c->assessments_loaded) return &c->trace;
  auto& assessments = c->trace.trace_info.assessments;
  assessments.clear();
  Status inner;
  auto add = [&](std::string_view, std::string_view value) {
    Assessment& a = assessments.emplace_back();
    inner = _parser.parse_assessment(value, a);
    return inner.is_ok();
  };
  if (c->none_stored) {
    batch.scan_prefix_in_batch(Family::assessments, state::child_prefix(trace_id), add);
  } else {
    TF_RETURN_IF_ERROR(batch.scan_prefix(Family::assessments, state::child_prefix(trace_id), add));
  }
  if (!inner.is_ok()) {
    assessments.clear();
    return Status::corruption("stored assessment of " + trace_id + ": " + inner.message());
  }
  c->assessments_loaded = true;
  return &c->trace;
}

Status Joiner::load_joined(state::WriteBatch& batch, const std::string& trace_id, Trace& out, bool& present) {
  TF_ASSIGN_OR_RETURN(const Trace* t, joined(batch, trace_id, present));
  out = *t;
  return Status::ok();
}

ApplyResult Joiner::apply_trace(const Trace& part, state::WriteBatch& batch) {
  const std::string& id = part.trace_info.trace_id;
  auto found = cached(batch, id);
  if (!found.is_ok()) return {ApplyResult::Kind::rejected, found.status(), 0};
  Cached& c = **found;
  Trace& trace = c.trace;
  // joined() may have loaded them; the stored trace has none.
  std::vector<Assessment> assessments = std::move(trace.trace_info.assessments);
  trace.trace_info.assessments.clear();
  int pending_delta = 0;
  if (c.present) {
    merge_trace(trace, Trace(part));
  } else {
    // Feedback that came before its trace is joined now: clear its pending markers. While the
    // trace is absent every assessment of it is pending, so loaded assessments name them all.
    if (c.assessments_loaded) {
      for (const Assessment& a : assessments) {
        state::assign_child_key(_key2, id, a.assessment_id);
        batch.erase(Family::pending, _key2);
        --pending_delta;
      }
      if (_indexed && _pending_traces.contains(id)) _pending_cleared.push_back(id);
    } else if (!_indexed || _pending_traces.contains(id)) {
      pending_delta = -static_cast<int>(batch.erase_prefix(Family::pending, state::child_prefix(id)));
      if (!batch.status().is_ok()) return {ApplyResult::Kind::rejected, batch.status(), 0};
      if (_indexed) _pending_cleared.push_back(id);
    }
    c.none_stored = pending_delta == 0;
    trace = part;
    trace.trace_info.assessments.clear();
    c.present = true;
  }
  derive_from_root(trace);
  _json.clear();
  JsonWriter w(_json);
  write_json(w, trace);
  batch.put(Family::traces, id, _json);
  trace.trace_info.assessments = std::move(assessments);
  c.written = true;
  return {ApplyResult::Kind::applied, Status::ok(), pending_delta};
}

Result<std::optional<Assessment>> Joiner::load_assessment(state::WriteBatch& batch, const std::string& key) {
  TF_ASSIGN_OR_RETURN(auto stored, batch.get(Family::assessments, key));
  if (!stored) return std::optional<Assessment>();
  Assessment a;
  if (Status s = _parser.parse_assessment(*stored, a); !s.is_ok()) {
    return Status::corruption("stored assessment: " + s.message());
  }
  return std::optional<Assessment>(std::move(a));
}

void Joiner::store_assessment(state::WriteBatch& batch, const std::string& key, const Assessment& a) {
  _json.clear();
  JsonWriter w(_json);
  write_json(w, a);
  batch.put(Family::assessments, key, _json);
  cache_assessment(batch, a.trace_id, a.assessment_id, &a);
}

void Joiner::log_change(const Assessment* before, const Assessment* after) {
  if (!_changes || !((before && before->is_feedback()) || (after && after->is_feedback()))) return;
  auto& c = _changes->emplace_back();
  if (before) c.before = *before;
  if (after) c.after = *after;
}

ApplyResult Joiner::apply_create(const Envelope& e, int64_t time_ns, state::WriteBatch& batch) {
  Assessment a = e.assessment();
  if (a.assessment_id.empty()) {
    // Deterministic, so a replay names it the same; event_id is unique per event (or, when a
    // client sent none, the content stands in for it).
    a.assessment_id = assessment_id_from(!e.event_id.empty() ? e.event_id : to_json(a));
  }
  if (a.create_time == 0) a.create_time = time_ns;
  if (a.last_update_time == 0) a.last_update_time = a.create_time;
  a.valid = true;
  if (a.source.source_type == SourceType::unspecified && a.source.source_id.empty()) {
    a.source = {SourceType::code, "default"};  // MLflow's default source
  }
  // Its trace into the batch layer first, so that the cached assessments follow the writes below.
  auto trace = cached(batch, a.trace_id);
  if (!trace.is_ok()) return {ApplyResult::Kind::rejected, trace.status(), 0};
  // An override that arrived before this assessment already replaced it.
  if (!_indexed || _override_traces.contains(a.trace_id)) {
    auto marker = batch.get(Family::meta, override_marker_key(a.trace_id, a.assessment_id));
    if (!marker.is_ok()) return {ApplyResult::Kind::rejected, marker.status(), 0};
    if (marker->has_value()) a.valid = false;
  }

  if (!a.overrides.empty()) {
    state::assign_child_key(_key2, a.trace_id, a.overrides);
    auto old = load_assessment(batch, _key2);
    if (!old.is_ok()) return {ApplyResult::Kind::rejected, old.status(), 0};
    if (old->has_value()) {
      std::optional<Assessment> was;
      if (_changes) was = **old;
      (*old)->valid = false;
      store_assessment(batch, _key2, **old);
      if (was) log_change(&*was, &**old);
    } else {
      batch.put(Family::meta, override_marker_key(a.trace_id, a.overrides), a.assessment_id);
      if (_indexed) _override_traces.insert(a.trace_id);
    }
  }
  state::assign_child_key(_key, a.trace_id, a.assessment_id);
  store_assessment(batch, _key, a);
  log_change(nullptr, &a);

  if (!(*trace)->present) {
    batch.put(Family::pending, _key, "");
    if (_indexed) _pending_traces.insert(a.trace_id);
    return {ApplyResult::Kind::applied, Status::ok(), 1};
  }
  return {};
}

ApplyResult Joiner::apply_update(const Assessment& change, int64_t time_ns, state::WriteBatch& batch) {
  using F = Assessment::Field;
  state::assign_child_key(_key, change.trace_id, change.assessment_id);
  auto stored = load_assessment(batch, _key);
  if (!stored.is_ok()) return {ApplyResult::Kind::rejected, stored.status(), 0};
  if (!stored->has_value()) {
    return {ApplyResult::Kind::rejected,
            Status::not_found("assessment " + change.assessment_id + " of trace " + change.trace_id + " does not exist"), 0};
  }
  Assessment& a = **stored;
  std::optional<Assessment> was;
  if (_changes && a.is_feedback()) was = a;
  if (change.has(F::f_name)) a.assessment_name = change.assessment_name;
  if (change.has(F::f_span_id)) a.span_id = change.span_id;
  if (change.has(F::f_source)) a.source = change.source;
  if (change.has(F::f_rationale)) a.rationale = change.rationale;
  if (change.has(F::f_metadata)) a.metadata = change.metadata;
  if (change.has(F::f_feedback) || change.has(F::f_expectation)) {
    if (change.has(F::f_feedback) != a.is_feedback()) {
      return {ApplyResult::Kind::rejected,
              Status::invalid_argument("assessment " + a.assessment_id + ": cannot change a " +
                                       (a.is_feedback() ? "feedback into an expectation" : "expectation into a feedback")),
              0};
    }
    a.value = change.value;
  }
  a.last_update_time = change.last_update_time != 0 ? change.last_update_time : time_ns;
  store_assessment(batch, _key, a);
  if (was) log_change(&*was, &a);
  return {};
}

ApplyResult Joiner::apply_delete(const Assessment& target, state::WriteBatch& batch) {
  state::assign_child_key(_key, target.trace_id, target.assessment_id);
  auto stored = load_assessment(batch, _key);
  if (!stored.is_ok()) return {ApplyResult::Kind::rejected, stored.status(), 0};
  if (!stored->has_value()) return {};  // deleting what is not there is a no-op (idempotent)
  batch.erase(Family::assessments, _key);
  cache_assessment(batch, target.trace_id, target.assessment_id, nullptr);
  log_change(&**stored, nullptr);
  int pending_delta = 0;
  auto pending = batch.get(Family::pending, _key);
  if (!pending.is_ok()) return {ApplyResult::Kind::rejected, pending.status(), 0};
  if (pending->has_value()) {
    batch.erase(Family::pending, _key);
    pending_delta = -1;
  }
  // Deleting an override restores the assessment it replaced, as in MLflow.
  if (const std::string& overridden = (*stored)->overrides; !overridden.empty()) {
    state::assign_child_key(_key2, target.trace_id, overridden);
    auto old = load_assessment(batch, _key2);
    if (!old.is_ok()) return {ApplyResult::Kind::rejected, old.status(), 0};
    if (old->has_value()) {
      std::optional<Assessment> was;
      if (_changes) was = **old;
      (*old)->valid = true;
      store_assessment(batch, _key2, **old);
      if (was) log_change(&*was, &**old);
    } else {
      batch.erase(Family::meta, override_marker_key(target.trace_id, overridden));
    }
  }
  return {ApplyResult::Kind::applied, Status::ok(), pending_delta};
}

}  // namespace tracefeed::join
