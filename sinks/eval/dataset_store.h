#pragma once
// DatasetStore: named, versioned evaluation datasets in the state store's `datasets` family
// (key layout in sinks/eval/README.md).
//
// A dataset is a set of member traces; each member has a materialized record (built from the
// joined trace, see dataset_record.h). Every change batch — one consumed poll of the eval topic,
// one API call, one refresh of changed traces — that changes anything makes exactly one new
// version of each dataset it changed. Record entries are append-only and keyed
// (dataset, record seq, version): reading version V takes, per record, the newest entry
// written at or before V, so any version stays readable and a version costs only the entries it
// changed (no copy of the dataset).
//
// Keeping records up to date: a record is rebuilt when its trace changes after it was added
// (an expert's expected_response arriving after routing, the root span arriving after the
// feedback). The join writes its batches through write_join_batch(), which marks the traces the
// batch touched that are members of some dataset as dirty, in the same write as the join's batch
// (atomic with the change); refresh_dirty() rebuilds them into a new version. Every write of this class and
// the join's write_join_batch take one mutex, so a member added concurrently with a join batch
// is either seen by that batch's mark or reads the state that batch wrote — no update is missed.
//
// Threads: every method is thread-safe. Writes (create, add_traces, remove_trace,
// apply_eval_batch, refresh_dirty, write_join_batch) are serialized by one mutex; reads take no
// lock and see committed versions only (a version is written atomically with its entries).

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/clock.h"
#include "core/model.h"
#include "core/result.h"
#include "processors/join/trace_reader.h"
#include "sinks/eval/dataset_record.h"

namespace tracefeed::state {
class Store;
class WriteBatch;
}  // namespace tracefeed::state

namespace tracefeed::eval {

struct DatasetStoreOptions {
  // Most dirty traces one refresh_dirty() rebuilds (it holds the write mutex, which the join's
  // write_join_batch waits for, for that long). Default: 256.
  size_t max_refresh_traces = 256;
  // Most trace ids one add_traces() call takes. Default: 1000.
  size_t max_traces_per_call = 1000;
};

struct DatasetInfo {
  std::string name;
  std::string dataset_id;     // dataset_id_for(name)
  int64_t latest_version = 0; // 0 = created, nothing added yet
  int64_t record_count = 0;   // records in latest_version
  UnixNanos created_time = 0;
  UnixNanos last_update_time = 0;
  std::string created_by;     // "api" or "rule:<rule name>"
};

struct VersionInfo {
  int64_t version = 0;
  UnixNanos created_time = 0;
  int64_t record_count = 0;  // records in this version
  int64_t added = 0;         // changes from the previous version
  int64_t updated = 0;
  int64_t removed = 0;
  std::string cause;         // "create", "eval_topic", "api", "refresh"
};

// What one change call did to one dataset.
struct ChangeSummary {
  std::string dataset;
  int64_t version = 0;   // the new version, or the unchanged latest when nothing changed
  bool changed = false;
  int64_t added = 0, updated = 0, unchanged = 0, removed = 0;
};

// One routed trace from the eval topic.
struct EvalAdd {
  std::string dataset;
  std::string trace_id;
  RecordOrigin origin;
};

// The next offset to consume from a partition, stored with the batch that consumed up to it.
struct ConsumedOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t next_offset = 0;
};

struct RecordPage {
  int64_t version = 0;
  int64_t record_count = 0;         // records in the whole version
  size_t records = 0;               // records appended by this call
  std::optional<int64_t> next_seq;  // where the next page starts; nullopt when done
};

struct VersionPage {
  std::vector<VersionInfo> versions;      // ascending
  std::optional<int64_t> next_version;    // where the next page starts
};

struct DatasetStoreStats {
  std::atomic<uint64_t> versions{0};         // versions made (not counting creation)
  std::atomic<uint64_t> records_added{0};
  std::atomic<uint64_t> records_updated{0};
  std::atomic<uint64_t> records_removed{0};
  std::atomic<uint64_t> marked_dirty{0};     // member traces a join batch changed
  std::atomic<uint64_t> refreshed{0};        // dirty traces rebuilt
};

class DatasetStore {
 public:
  // `store` holds the join's state (traces are read from it) and the datasets family; `clock`
  // stamps versions and records. Both must outlive this.
  DatasetStore(state::Store& store, const Clock& clock, DatasetStoreOptions options = {});
  DatasetStore(const DatasetStore&) = delete;
  DatasetStore& operator=(const DatasetStore&) = delete;

  // --- writes ---

  // Creates an empty dataset (version 0). already_exists when the name is taken.
  [[nodiscard]] Result<DatasetInfo> create(std::string_view name);

  // Adds traces to a dataset, or rebuilds their records when they are members already (MLflow's
  // merge_records): one new version if any record changed, none otherwise (idempotent). All or
  // nothing: not_found for an unknown dataset or trace (naming `trace_ids[i]`), invalid_argument
  // for a malformed id or too many ids. Written with fsync: the reply acknowledges it.
  [[nodiscard]] Result<ChangeSummary> add_traces(std::string_view name, std::span<const std::string> trace_ids);

  // Removes one trace's record (a tombstone in a new version). not_found when the dataset does
  // not exist or the trace is not a member.
  [[nodiscard]] Result<ChangeSummary> remove_trace(std::string_view name, std::string_view trace_id);

  // Applies one consumed poll of the eval topic and its offsets in one atomic write: datasets
  // named by a rule are created on first use (created_by "rule:<rule>"), one version per
  // changed dataset. `adds` must have valid names and trace ids (the sink checks them).
  [[nodiscard]] Result<std::vector<ChangeSummary>> apply_eval_batch(std::span<const EvalAdd> adds,
                                                                    std::string_view cluster_id,
                                                                    std::span<const ConsumedOffset> offsets);

  // Rebuilds the records of up to max_refresh_traces dirty traces (one version per changed
  // dataset) and clears their marks. Returns how many traces it took; 0 when none were dirty.
  [[nodiscard]] Result<size_t> refresh_dirty();

  // The join's batch writer: writes `batch` to the store together with dirty marks for the
  // `touched` traces that belong to a dataset, atomically (Store::write's contract: cleared on
  // success unless it keeps its changes). Does not modify `batch` otherwise. Runs on the join's
  // state-writer thread. Membership is checked in memory (a hash of every member
  // trace id, 8 bytes + node each), so a batch of non-members costs a hash lookup per trace.
  [[nodiscard]] Status write_join_batch(state::WriteBatch& batch, std::span<const std::string_view> touched);

  // Loads the in-memory index of member traces (one scan of the `dt` keys). Called by the first
  // write otherwise; call it at startup so the join's first batch does not wait for it.
  [[nodiscard]] Status load();

  // --- reads ---

  [[nodiscard]] Result<std::vector<DatasetInfo>> list() const;
  [[nodiscard]] Result<std::optional<DatasetInfo>> info(std::string_view name) const;
  // Versions from `from_version` up, at most `limit`. not_found for an unknown dataset.
  [[nodiscard]] Result<VersionPage> versions(std::string_view name, int64_t from_version, size_t limit) const;

  // Appends the JSONL lines ('\n'-terminated) of `version` (nullopt = latest) to `out`, in the
  // order records joined the dataset, starting at record seq `start_seq`. Stops at a record
  // boundary once `max_records` records were appended or `out` grew by `max_bytes` or more (a
  // page may be empty but still have a next_seq; follow it until it is nullopt). not_found for
  // an unknown dataset or version (the message says which versions exist).
  [[nodiscard]] Result<RecordPage> read_records(std::string_view name, std::optional<int64_t> version,
                                                int64_t start_seq, size_t max_records, size_t max_bytes,
                                                std::string& out) const;

  [[nodiscard]] size_t max_traces_per_call() const noexcept { return _options.max_traces_per_call; }
  const DatasetStoreStats& stats() const noexcept { return _stats; }

 private:
  struct Change;   // one change batch (dataset_store.cc)
  struct Pending;  // one dataset touched by a change batch
  Result<Pending*> load_dataset(Change& change, std::string_view name, bool create, std::string_view created_by);
  Status upsert(Change& change, Pending& dataset, const std::string& trace_id, const Trace& joined,
                const RecordOrigin* origin);
  Status commit(Change& change, bool sync);
  ChangeSummary summary_of(const Pending& p) const;
  Status load_locked();

  state::Store& _store;
  const Clock& _clock;
  DatasetStoreOptions _options;
  join::TraceReader _reader;
  DatasetStoreStats _stats;
  std::mutex _write_mu;  // serializes every write, including the join's write_join_batch
  // Guarded by _write_mu: XXH64 of every trace id that is a member of some dataset (the `dt`
  // keys), changed only after the write that changed membership succeeded. A multiset, so two
  // ids with the same hash stay exact; a collision with a non-member only costs a spurious mark.
  bool _loaded = false;
  std::unordered_multiset<uint64_t> _members;
};

}  // namespace tracefeed::eval
