#pragma once
// PRIVATE to state/*.cc: the RocksDB side of Store, WriteBatch and MemoryBudget. Includes
// RocksDB headers — never include it from outside state/.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <map>
#include <mutex>
#include <set>
#include <optional>
#include <string>
#include <unordered_map>
#include <string_view>

#include <rocksdb/cache.h>
#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/status.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>

#include "core/clock.h"
#include "core/result.h"
#include "state/family.h"
#include "state/memory_budget.h"
#include "state/store.h"
#include "state/store_options.h"
#include "state/write_batch.h"

namespace tracefeed::state {

// Maps a non-ok RocksDB status to a tracefeed Status whose message starts with `context`.
[[nodiscard]] Status from_rocksdb(const rocksdb::Status& status, std::string_view context);

inline rocksdb::Slice to_slice(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view to_view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

// Big-endian fixed-width integers: they sort like the numbers they encode.
void append_u32_be(std::string& out, uint32_t v);
void append_u64_be(std::string& out, uint64_t v);
[[nodiscard]] uint32_t read_u32_be(std::string_view in) noexcept;  // in.size() >= 4
[[nodiscard]] uint64_t read_u64_be(std::string_view in) noexcept;  // in.size() >= 8

struct MemoryBudget::Impl {
  std::shared_ptr<rocksdb::Cache> cache;
  std::shared_ptr<rocksdb::WriteBufferManager> write_buffers;
};

// Drops Family::dedup entries older than the window during compaction. Stateless apart from
// the clock; called from RocksDB's compaction threads concurrently.
class DedupWindowFilter final : public rocksdb::CompactionFilter {
 public:
  DedupWindowFilter(const Clock& clock, std::chrono::milliseconds window)
      : _clock(clock), _window_ms(window.count()) {}
  bool Filter(int level, const rocksdb::Slice& key, const rocksdb::Slice& value,
              std::string* new_value, bool* value_changed) const override;
  const char* Name() const override { return "tracefeed.DedupWindowFilter"; }

 private:
  const Clock& _clock;
  int64_t _window_ms;
};

// The WriteBatches that hold cached store iterators (WriteBatch::Impl::iterators), so that
// Store::close can release them before the database goes. Shared with the batches: a batch that
// outlives its store's close finds it here, with its iterators already released.
struct IteratorRegistry {
  std::mutex mu;
  std::set<WriteBatch::Impl*> holders;
};

struct Store::Impl {
  StoreOptions options;
  std::shared_ptr<IteratorRegistry> iterators = std::make_shared<IteratorRegistry>();
  // Successful Store::write calls: a batch's cached iterators older than the last write are
  // recreated, so a scan never misses a write that completed before it.
  std::atomic<uint64_t> writes{0};
  std::shared_ptr<MemoryBudget> memory;
  std::unique_ptr<DedupWindowFilter> dedup_filter;  // referenced by the dedup family's options
  rocksdb::DB* db = nullptr;                         // owned; deleted by close()
  rocksdb::ColumnFamilyHandle* default_family = nullptr;
  std::array<rocksdb::ColumnFamilyHandle*, family_count> families{};

  rocksdb::ColumnFamilyHandle* handle(Family family) const { return families[family_index(family)]; }
  Status check_open() const;
  Status close();
  // Iterates `family` over [lower, upper) of the store, or of batch-over-store if `batch`.
  Result<std::optional<std::string>> scan(const WriteBatch::Impl* batch, Family family,
                                          std::string_view lower, std::string_view upper,
                                          std::string_view prefix, size_t limit,
                                          const ScanVisitor& visit) const;
};

// The batch's changes live in an ordered map per family (key -> value, or nullopt for an erase):
// reads look there first, then in the store, and Store::write turns the maps into one
// rocksdb::WriteBatch with ONE operation per key, in key order. Cheaper than RocksDB's
// WriteBatchWithIndex for the join's pattern (each trace read and rewritten by every event of a
// batch): a lookup is a std::string comparison per level instead of decoding index entries from
// the serialized batch, and a key written n times reaches the memtable (and the WAL) once.
// The changes of a batch and of the batch it reads over (read_over) as one ordered sequence:
// where both have a key, the batch's own change wins. Erases are visited too (nullopt).
class ChangeCursor {
 public:
  using Changes = std::map<std::string, std::optional<std::string>, std::less<>>;
  ChangeCursor(const Changes* own, const Changes* base, std::string_view lower) : _own(own), _base(base) {
    if (_own) _a = _own->lower_bound(lower);
    if (_base) _b = _base->lower_bound(lower);
  }
  [[nodiscard]] bool valid() const { return (_own && _a != _own->end()) || (_base && _b != _base->end()); }
  // Valid only while valid().
  [[nodiscard]] std::string_view key() const { return from_own() ? std::string_view(_a->first) : std::string_view(_b->first); }
  [[nodiscard]] const std::optional<std::string>& value() const { return from_own() ? _a->second : _b->second; }
  void next() {
    const bool own = from_own();
    if (own) {
      if (_base && _b != _base->end() && _b->first == _a->first) ++_b;
      ++_a;
    } else {
      ++_b;
    }
  }

 private:
  [[nodiscard]] bool from_own() const {
    if (!_own || _a == _own->end()) return false;
    if (!_base || _b == _base->end()) return true;
    return _a->first <= _b->first;
  }
  const Changes* _own;
  const Changes* _base;
  Changes::const_iterator _a, _b;
};

struct WriteBatch::Impl {
  using Changes = std::map<std::string, std::optional<std::string>, std::less<>>;
  explicit Impl(Store::Impl& s) : store(&s), registry(s.iterators) {}
  ~Impl() { release_iterators(); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  Store::Impl* store;
  // One store iterator per family for child-prefix scans (prefix_same_as_start), reused by every
  // scan of the batch while no Store::write happened since it was made (`iterators_at`): creating
  // a RocksDB iterator costs more than seeking one. Released by clear(), the destructor and
  // Store::close.
  std::shared_ptr<IteratorRegistry> registry;
  std::array<std::unique_ptr<rocksdb::Iterator>, family_count> iterators;
  uint64_t iterators_at = 0;
  bool holding = false;  // registered in `registry` (guarded by registry->mu)
  void release_iterators() {
    std::lock_guard lock(registry->mu);
    if (!holding) return;
    for (auto& it : iterators) it.reset();
    registry->holders.erase(this);
    holding = false;
  }
  std::array<Changes, family_count> changes;
  // prefetch(): the store's answers for keys the batch has not changed.
  struct ViewHash {
    using is_transparent = void;
    size_t operator()(std::string_view v) const noexcept { return std::hash<std::string_view>{}(v); }
  };
  using Prefetched = std::unordered_map<std::string, std::optional<std::string>, ViewHash, std::equal_to<>>;
  std::array<Prefetched, family_count> prefetched;
  const Impl* base = nullptr;  // read_over()
  bool keep = false;           // keep_after_write()
  size_t operations = 0;   // put/erase calls (count())
  size_t data_bytes = 0;   // their key + value bytes (data_size_bytes())
  rocksdb::WriteBatch rep;  // built by Store::write; its buffer is reused
  Status status;
  std::string scratch_key;
  std::string scratch_value;
  void fail(Status s) {
    if (status.is_ok()) status = std::move(s);
  }
};

}  // namespace tracefeed::state
