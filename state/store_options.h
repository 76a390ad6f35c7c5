#pragma once
// Options of a state store: a plain struct, every field documented with its default where it
// is declared, validated by Store::open (all problems are reported at once).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "state/memory_budget.h"

namespace tracefeed::state {

enum class Compression : uint8_t { none, snappy, lz4, zstd };

struct StoreOptions {
  static constexpr uint64_t mib = 1024 * 1024;

  // Directory of the RocksDB database; parent directories are created when create_if_missing.
  // Default: "" (required).
  std::string path;

  // Create the database (and its column families) if it does not exist.
  // Default: true.
  bool create_if_missing = true;

  // Memory shared with other stores. When set, memory_budget_bytes and write_buffer_fraction
  // are ignored. Default: nullptr (the store makes its own budget from the two fields below).
  std::shared_ptr<MemoryBudget> memory_budget;

  // Block cache + memtables + index/filter blocks of this store, in bytes. At least 16 MiB.
  // Default: 512 MiB.
  uint64_t memory_budget_bytes = 512 * mib;

  // Share of the memory budget that memtables may use before flushes are forced; in (0, 0.9].
  // Default: 0.25.
  double write_buffer_fraction = 0.25;

  // Size of one memtable of one column family, in bytes; at least 64 KiB.
  // Default: 16 MiB.
  uint64_t write_buffer_size_bytes = 16 * mib;

  // Whole-key bloom filter bits per key, for point lookups (get, multi_get); 0 disables
  // them, at most 32. Default: 10 (~1 % false positives).
  int bloom_bits_per_key = 10;

  // Uncompressed size of a data block, in bytes; in [1 KiB, 1 MiB]. Smaller blocks make point
  // lookups of small values cheaper and the index larger. Default: 4096.
  uint32_t block_size_bytes = 4096;

  // Block compression; the linked RocksDB must support it (checked at open).
  // Default: Compression::lz4.
  Compression compression = Compression::lz4;

  // Compression of the last level (most of the data), when `compression` is not none.
  // Compression::none = the same as `compression`. zstd takes ~30 % less disk than lz4 for
  // tracefeed's JSON at more compaction CPU. Default: Compression::none (same as compression).
  Compression bottommost_compression = Compression::none;

  // Compress level-0 files (memtable flushes). They are rewritten by the next compaction, so
  // compressing them costs CPU on the write path for little disk. Default: false.
  bool compress_level0 = false;

  // Memtable bloom filter size as a share of the memtable (whole keys; in the child families
  // also "<trace_id>\0" prefixes), in [0, 0.25]; 0 disables it. The join's point reads mostly look
  // for absent keys (new event ids, decisions not yet made) and skip the memtable's skiplist
  // this way. Default: 0.05.
  double memtable_bloom_ratio = 0.05;

  // Background flush + compaction threads; in [1, 64]. Default: 2.
  int background_jobs = 2;

  // Open SST files kept by the table cache; -1 keeps them all, otherwise at least 16.
  // Default: 512.
  int max_open_files = 512;

  // Total WAL size after which the column families holding the oldest WAL data are flushed.
  // Bounds the WAL replayed after a crash, i.e. the restart time (measured ~0.1 s per MiB on a
  // 2-core machine loaded 5x, less when quiet). 0 lets RocksDB choose (4x the total memtable
  // size). Default: 32 MiB.
  uint64_t max_wal_bytes = 32 * mib;

  // How long an entry of Family::dedup (see WriteBatch::mark_applied) is kept at least; older
  // entries are dropped by compaction (so they may live longer, never shorter). 0 keeps them
  // forever. Default: 24 h.
  std::chrono::milliseconds dedup_window = std::chrono::hours(24);

  // Checks every field; the error lists every problem ("path: required; bloom_bits_per_key: ...").
  [[nodiscard]] Status validate() const;
};

}  // namespace tracefeed::state
