#pragma once
// Applies events to processor state: traces merge, assessments join their trace, overrides and
// deletes follow MLflow's semantics, duplicates (same event_id) apply once.
//
// Deterministic: the same events in the same order make the same writes, whatever the wall
// clock says (times come from the events), so replaying after a crash reproduces state exactly.
//
// Stored values are core's canonical JSON: `traces` holds {trace_info, spans} (no
// assessments), `assessments` holds one assessment per key `<trace_id>\0<assessment_id>`,
// `pending` marks assessments whose trace has not arrived, and `meta` keeps override markers
// for an override that arrived before the assessment it replaces.
//
// Within a batch the Joiner keeps every trace it read or wrote parsed in memory (keyed by trace
// id), with its assessments once routing asked for them: a trace touched by several events of a
// batch is read and parsed once, and routing reads the merged trace from there instead of
// parsing what apply() just serialized. This batch layer belongs to one WriteBatch: it is dropped
// when a call comes with another batch object, and by begin_batch() — call it whenever a batch
// object is reused or a new one may live at the address of a dropped one (the join does it for
// every batch).
//
// Across batches: batch_written() (the batch is in the store) keeps the batch layer's traces in
// a bounded LRU of the store's state, so the trace a feedback event joins a moment after the
// trace was written is neither read back from RocksDB nor parsed, and its assessments are not
// scanned again. A batch takes its traces out of the LRU and gives them back only when written:
// a dropped batch (an aborted transaction) leaves nothing of itself behind. Both are one list
// with a flag per trace, so a trace changes sides without its parsed form being moved.
//
// Thread: a Joiner is used by one thread at a time (it owns a parser and scratch buffers).

#include <cstdint>
#include <list>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/event_json.h"
#include "core/model.h"
#include "core/result.h"

namespace tracefeed::state {
class Store;
class WriteBatch;
}

namespace tracefeed::join {

struct ApplyResult {
  enum class Kind { applied, duplicate, rejected };
  Kind kind = Kind::applied;
  Status error;          // for rejected: why (e.g. update of an unknown assessment)
  int pending_delta = 0; // change in assessments waiting for their trace
};

// A feedback or expectation as it was before and after one applied event (either may be absent:
// created, deleted). What quality metrics count: only valid values, and overrides/deletes take
// the old value out again.
struct AssessmentChange {
  std::optional<Assessment> before, after;
};

class Joiner {
 public:
  // Where apply() records AssessmentChanges of feedback (null = not recorded). The log must
  // outlive the calls to apply().
  void set_change_log(std::vector<AssessmentChange>* log) noexcept { _changes = log; }

  // Forgets the traces cached for the previous batch (see above).
  void begin_batch() {
    drop_layer();
    _pending_cleared.clear();
  }
  // Forgets every trace held in memory, the batch layer and the LRU of stored traces (the
  // indexes stay: load_indexes() reads them anew): for a restart of the join on this Joiner,
  // whose last batch may have been handed to batch_written() and then not written.
  void forget_traces() {
    begin_batch();
    _index.clear();
    _entries.clear();
  }
  // `batch`, the batch apply() last worked on, is in the store (or handed to a writer that
  // stops the join if it fails to write it): its traces join the LRU of
  // stored traces (see above) and the pending ids it cleared leave the pending index.
  void batch_written(const state::WriteBatch& batch);
  // Whether apply() wrote the trace itself (not only its assessments) in the current batch.
  [[nodiscard]] bool trace_written(const std::string& trace_id) const;

  // Reads two indexes once from `store` (returns how many pending entries it holds):
  // - pending: the ids of traces with feedback waiting in Family::pending. From then on a
  //   trace's first event asks the index instead of seeking the pending family — a RocksDB
  //   iterator seek that was ~8 % of the join's CPU, for traces that have nothing pending.
  // - overrides: the ids of traces with an override marker (an override that came before the
  //   assessment it replaces; rare), so that creating an assessment reads its marker only there.
  // Without load_indexes() every new trace seeks and every create reads, as before.
  //
  // Both may hold more ids than the store (a superset is safe: those traces read): an id is
  // added as soon as a batch puts a pending or override marker (even a batch that is dropped
  // later); a pending id is removed by batch_written() after the batch that joined the trace is
  // in the store, an override id stays until the next load.
  [[nodiscard]] Result<int64_t> load_indexes(const state::Store& store);

  // Reads up front, in one MultiGet per family, what apply() of these events will ask the store:
  // their event ids (dedup) and the traces neither cache holds. Optional: apply() reads what was
  // not prefetched itself. Call it after begin_batch(), before the events' apply().
  [[nodiscard]] Status prefetch(state::WriteBatch& batch, std::span<const Envelope* const> events);

  // Applies `e` to `batch` (whose reads see its own earlier writes). `event_time_ns` is the
  // envelope's time, or the Kafka record's timestamp when the envelope has none.
  [[nodiscard]] ApplyResult apply(const Envelope& e, int64_t event_time_ns, state::WriteBatch& batch);

  // The joined view of a trace as `batch` sees it: trace_info + spans + every assessment.
  // `present` is false while only feedback has arrived (out.trace_info has just the id).
  [[nodiscard]] Status load_joined(state::WriteBatch& batch, const std::string& trace_id, Trace& out, bool& present);
  // The same view without copying it: valid until the next call on this Joiner.
  [[nodiscard]] Result<const Trace*> joined(state::WriteBatch& batch, const std::string& trace_id, bool& present);

 private:
  ApplyResult apply_trace(const Trace& part, state::WriteBatch& batch);
  ApplyResult apply_create(const Envelope& e, int64_t time_ns, state::WriteBatch& batch);
  ApplyResult apply_update(const Assessment& change, int64_t time_ns, state::WriteBatch& batch);
  ApplyResult apply_delete(const Assessment& target, state::WriteBatch& batch);
  Result<std::optional<Assessment>> load_assessment(state::WriteBatch& batch, const std::string& key);
  void store_assessment(state::WriteBatch& batch, const std::string& key, const Assessment& a);

  void log_change(const Assessment* before, const Assessment* after);

  // A trace as `batch` has it: parsed; trace_info.assessments is every assessment of the trace
  // in key order once joined() loaded them (assessments_loaded), and apply() keeps it so.
  struct Cached {
    Trace trace;
    bool present = false;  // stored (in the batch or the store); else trace_info has just the id
    // The store holds no assessment of this trace: it arrived in this batch and no feedback was
    // pending for it. (Feedback stored before its trace always has a pending marker, so no
    // pending marker means no stored assessment.) joined() then reads the batch only.
    bool none_stored = false;
    bool assessments_loaded = false;
    bool written = false;  // apply_trace wrote it in this batch
  };
  // Keeps a cached trace's loaded assessments what a scan of `batch` would return after an
  // apply() wrote `a` (null: erased) under `assessment_id`.
  void cache_assessment(const state::WriteBatch& batch, const std::string& trace_id, std::string_view assessment_id,
                        const Assessment* a);
  // The cached entry of `trace_id`, read from `batch` on a miss. Errors: the stored trace does
  // not parse (corruption), RocksDB errors.
  Result<Cached*> cached(state::WriteBatch& batch, const std::string& trace_id);

  // Every trace held in memory, in one list, most recently used first: the batch layer (entries
  // `in_layer`, read or written through `_layer_batch`) and behind it the LRU of stored traces.
  // A trace moves between the two by a flag and a splice, not by moving the parsed trace.
  struct Entry {
    std::string id;
    Cached c;
    bool in_layer = false;
  };
  using Entries = std::list<Entry>;
  // Makes `batch` the one the layer belongs to (dropping another batch's layer).
  void use_layer_of(const state::WriteBatch& batch);
  // Erases the layer's entries: their batch was dropped, or is read through no more.
  void drop_layer();
  void erase_entry(Entries::iterator it);
  Entries _entries;
  std::unordered_map<std::string_view, Entries::iterator> _index;  // views of Entry::id
  std::vector<Entries::iterator> _layer;
  const state::WriteBatch* _layer_batch = nullptr;
  // Most traces in the layer at once (far above a batch's 2,000 records); beyond, it restarts.
  static constexpr size_t kMaxCachedTraces = 16384;
  // Most traces kept in memory once their batch is written (a batch's layer may go beyond it
  // until then). About 3 KiB each for loadgen's 1–5 span traces: ~50 MiB when full.
  static constexpr size_t kMaxStoredTraces = 16384;

  bool _indexed = false;
  std::unordered_set<std::string> _pending_traces;
  std::unordered_set<std::string> _override_traces;
  std::vector<std::string> _pending_cleared;  // joined in the current batch: drop once written

  EventParser _parser;
  std::string _key, _key2, _json;  // reused scratch
  std::vector<std::string_view> _views;
  std::vector<AssessmentChange>* _changes = nullptr;
};

// Key of an override marker in Family::meta: "ovr\0<trace_id>\0<overridden assessment id>".
std::string override_marker_key(std::string_view trace_id, std::string_view overridden_id);

}  // namespace tracefeed::join
