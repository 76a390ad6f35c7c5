#pragma once
// Store: the RocksDB state of a tracefeed processor or sink (one per partition, or one per
// process — the caller decides; share a MemoryBudget between them). RocksDB stays behind this
// header: callers never include rocksdb.
//
// Threads: every const method, write() and stored_offsets() are safe to call concurrently.
// close() must not race with any other call. A WriteBatch is used by one thread at a time.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "state/family.h"
#include "state/offsets.h"
#include "state/store_options.h"

namespace tracefeed::state {

class WriteBatch;

// Called for each entry of a scan, in key order; return false to stop. The views are valid only
// during the call.
using ScanVisitor = std::function<bool(std::string_view key, std::string_view value)>;

struct ScanRange {
  // Inclusive lower bound. Default: "" (the first key).
  std::string_view start;
  // Exclusive upper bound. Default: "" (no bound).
  std::string_view end;
  // Maximum number of entries visited. Default: 0 (unbounded).
  size_t limit = 0;
};

struct WriteOptions {
  // fsync the WAL before write() returns. Without it a write survives a process crash
  // (kill -9) but not a machine crash. Default: false.
  bool sync = false;
};

struct StoreStats {
  uint64_t sst_bytes = 0;               // SST files of every family
  uint64_t memtable_bytes = 0;          // memtables of this store
  uint64_t table_readers_bytes = 0;     // table readers outside the cache (should be small)
  uint64_t estimated_keys = 0;          // RocksDB's estimate, every family
  uint64_t block_cache_capacity_bytes = 0;  // of the (maybe shared) memory budget
  uint64_t block_cache_usage_bytes = 0;     // includes memtable reservations
  uint64_t block_cache_pinned_bytes = 0;
};

class Store {
 public:
  // Opens (or creates) the store at options.path with every Family. Errors: invalid_argument
  // for bad options or an unknown column family on disk; unavailable when another open Store
  // (in this or another process) holds the directory; not_found when it does not exist and
  // !create_if_missing; io_error / corruption from RocksDB.
  // `clock` drives the dedup window; it must outlive the Store.
  [[nodiscard]] static Result<std::unique_ptr<Store>> open(const StoreOptions& options,
                                                           const Clock& clock);

  // Closes if still open; errors are lost — call close() to see them.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // --- reads (see the latest successful write) ---

  [[nodiscard]] Result<std::optional<std::string>> get(Family family, std::string_view key) const;

  // Batched point lookups (RocksDB MultiGet). values[i] is the value of keys[i] or nullopt;
  // `values` is resized to keys.size() and its strings' capacity is reused.
  [[nodiscard]] Status multi_get(Family family, std::span<const std::string_view> keys,
                                 std::vector<std::optional<std::string>>& values) const;
  [[nodiscard]] Result<std::vector<std::optional<std::string>>> multi_get(
      Family family, std::span<const std::string_view> keys) const;

  // Visits every entry whose key starts with `prefix` (e.g. child_prefix(trace_id)).
  [[nodiscard]] Status scan_prefix(Family family, std::string_view prefix,
                                   const ScanVisitor& visit) const;

  // Visits entries in [range.start, range.end), at most range.limit of them. Returns the key to
  // pass as the next page's start, or nullopt when the range is exhausted (or the visitor
  // stopped early).
  [[nodiscard]] Result<std::optional<std::string>> scan(Family family, const ScanRange& range,
                                                         const ScanVisitor& visit) const;

  // --- writes ---

  // Applies every change and offset in `batch` atomically (one RocksDB write, one WAL record).
  // On success the batch is cleared for reuse (unless WriteBatch::keep_after_write); on failure
  // it is unchanged. Returns the batch's
  // own error first if one of its mutations failed (WriteBatch::status()).
  [[nodiscard]] Status write(WriteBatch& batch, const WriteOptions& options = {});
  // Applies `batch` and `more` together, atomically (one RocksDB write; `more` wins where both
  // change a key): for a caller that adds changes of its own to a batch it must not modify,
  // because another thread reads through it (WriteBatch::read_over). Clears both on success
  // (`batch` unless it keeps its changes: WriteBatch::keep_after_write).
  [[nodiscard]] Status write(WriteBatch& batch, WriteBatch& more, const WriteOptions& options = {});

  // --- offsets ---

  // The next offsets to consume, stored for `cluster_id` only: offsets written under another
  // cluster id (e.g. a restarted embedded cluster) are never returned.
  [[nodiscard]] Result<OffsetMap> stored_offsets(std::string_view cluster_id) const;

  // Every cluster id with stored offsets, sorted (to notice that the cluster changed).
  [[nodiscard]] Result<std::vector<std::string>> known_cluster_ids() const;

  // --- size and maintenance ---

  // SST + memtable bytes of every family (tracefeed_state_bytes).
  [[nodiscard]] Result<uint64_t> approximate_bytes() const;
  [[nodiscard]] Result<uint64_t> approximate_bytes(Family family) const;
  [[nodiscard]] Result<StoreStats> stats() const;

  // Writes every memtable to SST files and waits (shorter WAL replay; tests).
  [[nodiscard]] Status flush();
  // Compacts the whole family down to the last level (applies the dedup window); waits.
  [[nodiscard]] Status compact(Family family);

  // Syncs the WAL and closes the database; later calls return unavailable. Idempotent.
  [[nodiscard]] Status close();

  [[nodiscard]] const std::string& path() const noexcept;

  struct Impl;  // defined in state/store_internal.h

 private:
  friend class WriteBatch;
  explicit Store(std::unique_ptr<Impl> impl);
  Status write_batches(WriteBatch& batch, WriteBatch* more, const WriteOptions& options);
  std::unique_ptr<Impl> _impl;
};

}  // namespace tracefeed::state
