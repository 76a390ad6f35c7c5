#pragma once
// MemoryBudget: one LRU block cache with a WriteBufferManager charged to it, so that block cache
// + memtables (+ index and filter blocks, which live in the cache) of every Store sharing the
// budget stay within capacity_bytes. Share one budget across the per-partition stores of a
// process so that adding partitions does not add memory.
//
// Thread-safe. Keep it alive for as long as any Store opened with it (Stores hold a reference).

#include <cstdint>
#include <memory>

#include "core/result.h"

namespace tracefeed::state {

class MemoryBudget {
 public:
  // capacity_bytes: total for block cache + memtables; at least 16 MiB.
  // write_buffer_fraction: share of capacity memtables may take before flushes are forced;
  // in (0, 0.9].
  [[nodiscard]] static Result<std::shared_ptr<MemoryBudget>> create(uint64_t capacity_bytes,
                                                                    double write_buffer_fraction);
  ~MemoryBudget();
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  [[nodiscard]] uint64_t capacity_bytes() const noexcept;
  // Bytes charged to the cache now: cached blocks, index/filter blocks and memtables.
  [[nodiscard]] uint64_t usage_bytes() const noexcept;
  // Part of usage_bytes() that cannot be evicted (pinned blocks, memtable reservations).
  [[nodiscard]] uint64_t pinned_bytes() const noexcept;
  // Memtable bytes of every store using this budget.
  [[nodiscard]] uint64_t memtable_bytes() const noexcept;

  struct Impl;  // defined in state/store_internal.h

 private:
  friend class Store;
  explicit MemoryBudget(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> _impl;
};

}  // namespace tracefeed::state
