#pragma once
// WriteBatch: the changes of one processing step — state puts/erases, applied event ids and
// the consumed offsets — applied atomically by Store::write, so state and offsets never
// disagree after a crash.
//
// Read-your-own-writes: get / multi_get / scan_prefix on the batch see its own uncommitted
// changes layered over the store (an ordered map of the changed keys per family, looked up
// before the store; scans merge both). A join that puts a pending assessment and sees its trace
// later in the same batch finds it. Store::write applies the LAST change of every key once, in
// key order: a key put n times in a batch costs one memtable insert and one WAL entry.
//
// Errors are sticky: put/erase/set_offset/... return nothing; the first failure (bad argument,
// RocksDB error) is kept in status() and returned by Store::write, which then writes nothing.
//
// Not thread-safe, with one exception: a batch that keeps its changes (keep_after_write) may be
// written by Store::write on one thread while another thread reads through a batch layered over
// it (read_over) — both only read its changes. Bound to the Store it was made for; the Store
// must outlive it.

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "state/family.h"
#include "state/store.h"

namespace tracefeed::state {

class WriteBatch {
 public:
  explicit WriteBatch(Store& store);
  ~WriteBatch();
  WriteBatch(WriteBatch&&) noexcept;
  WriteBatch& operator=(WriteBatch&&) noexcept;
  WriteBatch(const WriteBatch&) = delete;
  WriteBatch& operator=(const WriteBatch&) = delete;

  void put(Family family, std::string_view key, std::string_view value);
  void erase(Family family, std::string_view key);
  // Erases every key starting with `prefix` that the batch or the store holds now (one point
  // delete per key, no range delete) and returns how many (0 after an error, kept in status()).
  // Meant for small sets such as the pending assessments of one trace.
  size_t erase_prefix(Family family, std::string_view prefix);

  // Records that the next offset to consume from (topic, partition) of cluster `cluster_id` is
  // `next_offset`. cluster_id and topic: non-empty, no '\0'; partition, next_offset >= 0.
  void set_offset(std::string_view cluster_id, std::string_view topic, int32_t partition,
                  int64_t next_offset);

  // Records event_id in Family::dedup, applied at `applied_at` (kept for the dedup window).
  // Check with get(Family::dedup, event_id) / multi_get: a value means "already applied".
  void mark_applied(std::string_view event_id, Clock::time_point applied_at);

  // Reads through the batch, then the store.
  [[nodiscard]] Result<std::optional<std::string>> get(Family family, std::string_view key) const;
  [[nodiscard]] Status multi_get(Family family, std::span<const std::string_view> keys,
                                 std::vector<std::optional<std::string>>& values) const;
  [[nodiscard]] Status scan_prefix(Family family, std::string_view prefix,
                                   const ScanVisitor& visit) const;
  // Reads these keys from the store in one MultiGet and keeps the answers in the batch, so that
  // a later get() of one costs a hash lookup: for a caller that knows its reads up front (the join
  // prefetches a polled batch's event ids, traces and decisions — RocksDB's batched MultiGet
  // checks each file's filter once for all of them). The answers are the store's as of this
  // call, so only for keys no other writer changes while the batch is open. Keys the batch has
  // changed or prefetched already are not read again; clear() forgets the answers.
  [[nodiscard]] Status prefetch(Family family, std::span<const std::string_view> keys);
  // Visits the entries the batch itself put under `prefix` (not the store's, not erased ones), in
  // key order, without touching RocksDB: for a caller that knows the store holds nothing there.
  void scan_prefix_in_batch(Family family, std::string_view prefix, const ScanVisitor& visit) const;

  // Reads through this batch also see `base`'s changes, under this batch's own (null: none):
  // for a batch that follows one still being written by another thread, whose changes are not
  // in the store yet (the join writes a batch while it applies the next one). Only `base`'s
  // changes count, not its prefetched answers. `base` must outlive the setting and must not
  // change meanwhile — Store::write of it must keep it (keep_after_write) — and once `base` is in
  // the store, this batch may keep reading through it or drop it: both layers then agree.
  // Reset by clear().
  void read_over(const WriteBatch* base) noexcept;
  // Store::write leaves this batch's changes in place instead of clearing it, so that a batch
  // reading over it (read_over) still sees them while, and after, it is written. Reset by
  // clear().
  void keep_after_write() noexcept;

  // Number of operations (puts, erases, offsets) made on the batch (a key changed twice counts
  // twice; Store::write applies it once).
  [[nodiscard]] size_t count() const noexcept;
  // Key + value bytes of those operations, to cap a batch by bytes.
  [[nodiscard]] size_t data_size_bytes() const noexcept;
  [[nodiscard]] bool empty() const noexcept { return count() == 0; }

  // The first error of a mutation, or ok.
  [[nodiscard]] const Status& status() const noexcept;

  // Drops every change and the error; keeps allocated buffers.
  void clear();

  struct Impl;  // defined in state/store_internal.h

 private:
  friend class Store;
  std::unique_ptr<Impl> _impl;
};

}  // namespace tracefeed::state
