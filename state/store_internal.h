#pragma once
// PRIVATE to state/*.cc: the RocksDB side of Store, WriteBatch and MemoryBudget. Includes
// RocksDB headers — never include it from outside state/.

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <rocksdb/cache.h>
#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/status.h>
#include <rocksdb/utilities/write_batch_with_index.h>
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

struct Store::Impl {
  StoreOptions options;
  std::shared_ptr<MemoryBudget> memory;
  std::unique_ptr<DedupWindowFilter> dedup_filter;  // referenced by the dedup family's options
  rocksdb::DB* db = nullptr;                         // owned; deleted by close()
  rocksdb::ColumnFamilyHandle* default_family = nullptr;
  std::array<rocksdb::ColumnFamilyHandle*, family_count> families{};

  rocksdb::ColumnFamilyHandle* handle(Family family) const { return families[family_index(family)]; }
  Status check_open() const;
  Status close();
  // Iterates `family` over [lower, upper) of the store, or of batch-over-store if `batch`.
  Result<std::optional<std::string>> scan(rocksdb::WriteBatchWithIndex* batch, Family family,
                                          std::string_view lower, std::string_view upper,
                                          std::string_view prefix, size_t limit,
                                          const ScanVisitor& visit) const;
};

struct WriteBatch::Impl {
  explicit Impl(Store::Impl& s) : store(&s) {}
  Store::Impl* store;
  rocksdb::WriteBatchWithIndex batch{rocksdb::BytewiseComparator(), 0, /*overwrite_key=*/true};
  Status status;
  std::string scratch_key;
  std::string scratch_value;
  void fail(Status s) {
    if (status.is_ok()) status = std::move(s);
  }
};

}  // namespace tracefeed::state
