#pragma once
// Orphaned feedback: assessments that wait in Family::pending for a trace that has not come
// (issue #4). They still join the moment the trace arrives (the Joiner erases every pending key
// of a trace, whatever its value); the sweep only makes them visible: after `timeout` it marks
// each such pending entry (value "orphaned" instead of "") and leaves ONE decision record per
// trace under the pseudo-rule "join/orphaned" (decision waiting_for_trace), so that
// GET /api/v1/traces/{id}/decisions answers "why did nothing happen with this feedback?". The
// record stays as history after the trace arrives.
//
// Runs on the join's owner thread between batches (like Router::backfill_step), into a
// WriteBatch of its own that the caller writes before the next step. Reads and marks only:
// produces no outputs, so it needs no Kafka transaction in either delivery mode.
//
// Idempotent: a marked entry is skipped, and an existing record under the pseudo-rule is never
// rewritten, so stepping again over the same state (a restart rescans from the start; a dropped
// batch is simply redone by a later pass) marks nothing twice and writes nothing.
//
// Orphaned is judged by the assessment's create_time (the event time when the client sent
// none), not by its arrival, which the join does not store: feedback imported with an old
// create_time for a trace still on its way is marked at the next pass. Harmless — it still joins.
//
// Threads: one OrphanSweep per join, used by its owner thread only.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_json.h"
#include "core/model.h"
#include "core/result.h"

namespace tracefeed::state {
class Store;
class WriteBatch;
}  // namespace tracefeed::state

namespace tracefeed::join {

// The pseudo-rule of orphan decision records. Rules from the config file cannot contain '/'
// (KeyFormat::name); see README.md for rules created through the API.
inline constexpr std::string_view orphan_rule_name = "join/orphaned";
// The Family::pending value of a marked entry (an unmarked one is "").
inline constexpr std::string_view orphan_marker = "orphaned";

struct OrphanSweepOptions {
  // A pending assessment whose create_time is more than this before now is an orphan.
  // Default: 1 h. Must be > 0.
  std::chrono::milliseconds timeout = std::chrono::hours(1);
  // Most pending keys one step visits (bounds the pause of the poll loop; a visit is a point
  // read and a parse of the assessment unless the entry is already marked). Default: 1000; > 0.
  size_t max_per_step = 1000;
  // After a pass reached the end of Family::pending, the next pass starts no sooner than this,
  // so an idle join does not rescan its pending feedback at every empty poll. Default: 1 min.
  // 0: at the next step.
  std::chrono::milliseconds pass_interval = std::chrono::minutes(1);

  [[nodiscard]] Status validate() const;
};

struct OrphanStepResult {
  // Pending keys visited (marked ones included).
  size_t scanned = 0;
  // Entries newly marked: add to tracefeed_join_orphaned_assessments_total.
  size_t orphaned_assessments = 0;
  // Decision records written (one per trace, ever).
  size_t orphaned_traces = 0;
  // Pending keys whose assessment is missing or does not parse (left alone; corruption).
  size_t unreadable = 0;
  // This step reached the end of Family::pending.
  bool pass_complete = false;
};

class OrphanSweep {
 public:
  // `store` is the committed state the step's batches belong to; it must outlive the sweep.
  explicit OrphanSweep(const state::Store& store, OrphanSweepOptions options = {});

  // Visits the next pending keys (at most max_per_step, from an in-memory cursor) and marks the
  // orphans among them into `batch`, with their decision records stamped `now_ns`. The caller
  // writes `batch` (or drops it: the entries are found again by a later pass). A step with
  // nothing to do leaves `batch` empty. Errors: invalid options; RocksDB errors.
  [[nodiscard]] Result<OrphanStepResult> step(state::WriteBatch& batch, int64_t now_ns);

  // Starts the next pass from the first key at the next step (tests; after a dropped batch).
  void reset() noexcept;

 private:
  struct Entry {
    std::string key;
    bool marked = false;
  };
  // The orphans of one trace found in this step, for its decision record.
  struct TraceOrphans {
    std::string trace_id;
    std::string first_name, first_id;  // of the first orphan, for the reason
    bool first_is_feedback = true;
    size_t count = 0;
  };
  Status flush(state::WriteBatch& batch, TraceOrphans& t, int64_t now_ns, OrphanStepResult& r);

  const state::Store& _store;
  OrphanSweepOptions _options;
  std::string _cursor;        // next key of the current pass; empty: at the start
  int64_t _next_pass_ns = 0;  // a new pass starts no earlier
  std::vector<Entry> _page;   // reused across steps
  size_t _page_size = 0;
  EventParser _parser;
  Assessment _assessment;
  std::string _key, _json, _reason;  // reused scratch
};

}  // namespace tracefeed::join
