#include "state/store.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>

#include "state/keys.h"
#include "state/store_internal.h"

namespace tracefeed::state {

namespace {

constexpr std::string_view format_version_key = "tracefeed.state.format_version";
constexpr std::string_view format_version = "1";

rocksdb::CompressionType to_rocksdb(Compression c) {
  switch (c) {
    case Compression::none: return rocksdb::kNoCompression;
    case Compression::snappy: return rocksdb::kSnappyCompression;
    case Compression::lz4: return rocksdb::kLZ4Compression;
    case Compression::zstd: return rocksdb::kZSTD;
  }
  return rocksdb::kNoCompression;
}

std::string_view compression_name(Compression c) {
  switch (c) {
    case Compression::none: return "none";
    case Compression::snappy: return "snappy";
    case Compression::lz4: return "lz4";
    case Compression::zstd: return "zstd";
  }
  return "unknown";
}

bool is_lock_error(const rocksdb::Status& s) {
  if (!s.IsIOError()) return false;
  const std::string text = s.ToString();
  // "lock hold by current process" (same process) / "While lock file: .../LOCK: Resource
  // temporarily unavailable" (another process).
  return text.find("lock hold by current process") != std::string::npos ||
         (text.find("/LOCK") != std::string::npos &&
          (text.find("Resource temporarily unavailable") != std::string::npos ||
           text.find("No locks available") != std::string::npos));
}

Status closed_error() { return Status::unavailable("state store is closed"); }

// The families keyed "<trace_id>\0<child id>": read by prefix (scan_prefix(child_prefix(id))).
bool is_child_family(Family f) {
  return f == Family::spans || f == Family::assessments || f == Family::pending || f == Family::decisions;
}

// Prefix of a child key: everything up to and including the first NUL ("<trace_id>\0"). Lets a
// prefix scan skip, by the prefix bloom filters, every SST file and memtable without that trace:
// the join scans a trace's assessments and pending feedback on every touch.
class ChildPrefixTransform final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "tracefeed.ChildPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    const void* nul = std::memchr(key.data(), '\0', key.size());
    return {key.data(), static_cast<size_t>(static_cast<const char*>(nul) - key.data()) + 1};
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return std::memchr(key.data(), '\0', key.size()) != nullptr;
  }
};

// True when a scan of `family` bounded to `prefix` may use the prefix filters: the prefix is a
// whole child prefix ("<id>\0", exactly one NUL, at the end).
bool prefix_seek(Family family, std::string_view prefix) {
  return is_child_family(family) && !prefix.empty() && prefix.back() == key_separator &&
         prefix.find(key_separator) == prefix.size() - 1;
}

}  // namespace

// --- shared helpers (store_internal.h) ---

Status from_rocksdb(const rocksdb::Status& s, std::string_view context) {
  ErrorCode code = ErrorCode::internal;
  if (s.IsNotFound() || s.IsPathNotFound()) {
    code = ErrorCode::not_found;
  } else if (s.IsCorruption()) {
    code = ErrorCode::corruption;
  } else if (s.IsIOError()) {
    code = ErrorCode::io_error;
  } else if (s.IsInvalidArgument() || s.IsNotSupported()) {
    code = ErrorCode::invalid_argument;
  } else if (s.IsTimedOut()) {
    code = ErrorCode::timeout;
  } else if (s.IsBusy() || s.IsTryAgain() || s.IsIncomplete() || s.IsShutdownInProgress() ||
             s.IsAborted()) {
    code = ErrorCode::unavailable;
  }
  std::string message(context);
  message += ": ";
  message += s.ToString();
  return Status(code, std::move(message));
}

void append_u32_be(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

void append_u64_be(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

uint32_t read_u32_be(std::string_view in) noexcept {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

uint64_t read_u64_be(std::string_view in) noexcept {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

bool DedupWindowFilter::Filter(int /*level*/, const rocksdb::Slice& /*key*/,
                               const rocksdb::Slice& value, std::string* /*new_value*/,
                               bool* /*value_changed*/) const {
  if (value.size() < 8) return false;  // not ours: keep
  const auto applied_ms = static_cast<int64_t>(read_u64_be(to_view(value)));
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             _clock.now().time_since_epoch())
                             .count();
  return now_ms - applied_ms > _window_ms;
}

// --- MemoryBudget ---

MemoryBudget::MemoryBudget(std::unique_ptr<Impl> impl) : _impl(std::move(impl)) {}
MemoryBudget::~MemoryBudget() = default;

Result<std::shared_ptr<MemoryBudget>> MemoryBudget::create(uint64_t capacity_bytes,
                                                           double write_buffer_fraction) {
  if (capacity_bytes < 16 * StoreOptions::mib) {
    return Status::invalid_argument("memory budget: capacity must be at least 16 MiB");
  }
  if (!(write_buffer_fraction > 0.0 && write_buffer_fraction <= 0.9)) {
    return Status::invalid_argument("memory budget: write_buffer_fraction must be in (0, 0.9]");
  }
  auto impl = std::make_unique<Impl>();
  rocksdb::LRUCacheOptions cache_options;
  cache_options.capacity = capacity_bytes;
  cache_options.num_shard_bits = -1;  // RocksDB picks by capacity
  cache_options.strict_capacity_limit = false;  // a full cache must not fail reads
  // Index and filter blocks go to the high-priority pool so data blocks evict first.
  cache_options.high_pri_pool_ratio = 0.1;
  impl->cache = rocksdb::NewLRUCache(cache_options);
  if (!impl->cache) return Status::internal("memory budget: could not create the block cache");
  // Memtable memory is charged to the cache as dummy entries: cache + memtables <= capacity.
  impl->write_buffers = std::make_shared<rocksdb::WriteBufferManager>(
      static_cast<size_t>(static_cast<double>(capacity_bytes) * write_buffer_fraction), impl->cache,
      /*allow_stall=*/false);
  return std::shared_ptr<MemoryBudget>(new MemoryBudget(std::move(impl)));
}

uint64_t MemoryBudget::capacity_bytes() const noexcept { return _impl->cache->GetCapacity(); }
uint64_t MemoryBudget::usage_bytes() const noexcept { return _impl->cache->GetUsage(); }
uint64_t MemoryBudget::pinned_bytes() const noexcept { return _impl->cache->GetPinnedUsage(); }
uint64_t MemoryBudget::memtable_bytes() const noexcept {
  return _impl->write_buffers->memory_usage();
}

// --- Store::Impl ---

Status Store::Impl::check_open() const { return db == nullptr ? closed_error() : Status::ok(); }

Status Store::Impl::close() {
  if (db == nullptr) return Status::ok();
  {
    // Iterators must go before the database.
    std::lock_guard lock(iterators->mu);
    for (WriteBatch::Impl* b : iterators->holders) {
      for (auto& it : b->iterators) it.reset();
      b->holding = false;
    }
    iterators->holders.clear();
  }
  Status result;
  // The WAL holds every write since the last flush; make it durable before letting go.
  if (auto s = db->SyncWAL(); !s.ok()) result = from_rocksdb(s, "state close: sync WAL");
  for (auto*& h : families) {
    if (h == nullptr) continue;
    if (auto s = db->DestroyColumnFamilyHandle(h); !s.ok() && result.is_ok()) {
      result = from_rocksdb(s, "state close: release column family");
    }
    h = nullptr;
  }
  if (default_family != nullptr) {
    if (auto s = db->DestroyColumnFamilyHandle(default_family); !s.ok() && result.is_ok()) {
      result = from_rocksdb(s, "state close: release default column family");
    }
    default_family = nullptr;
  }
  if (auto s = db->Close(); !s.ok() && result.is_ok()) result = from_rocksdb(s, "state close");
  delete db;
  db = nullptr;
  return result;
}

Result<std::optional<std::string>> Store::Impl::scan(const WriteBatch::Impl* batch,
                                                     Family family, std::string_view lower,
                                                     std::string_view upper,
                                                     std::string_view prefix, size_t limit,
                                                     const ScanVisitor& visit) const {
  TF_RETURN_IF_ERROR(check_open());
  rocksdb::ReadOptions read_options;
  // Child families have a prefix extractor: a scan within one child prefix uses the prefix bloom
  // filters; anything else must ask for total order, or it would see only one prefix.
  if (prefix_seek(family, prefix)) {
    read_options.prefix_same_as_start = true;
  } else {
    read_options.total_order_seek = true;
  }
  rocksdb::Slice upper_slice = to_slice(upper);
  if (!upper.empty()) read_options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> owned;
  rocksdb::Iterator* it = nullptr;
  if (batch != nullptr && read_options.prefix_same_as_start) {
    // A child-prefix scan through a batch: reuse the batch's iterator of this family (the prefix
    // bounds it, so it needs no upper bound of its own) unless a write happened since it was made.
    auto* b = const_cast<WriteBatch::Impl*>(batch);  // the cache is not part of the batch's value
    const uint64_t now = writes.load(std::memory_order_acquire);
    if (b->iterators_at != now) {
      b->release_iterators();
      b->iterators_at = now;
    }
    auto& cached = b->iterators[family_index(family)];
    if (!cached) {
      rocksdb::ReadOptions prefix_options;
      prefix_options.prefix_same_as_start = true;
      cached.reset(db->NewIterator(prefix_options, handle(family)));
      std::lock_guard lock(b->registry->mu);
      if (!b->holding) {
        b->registry->holders.insert(b);
        b->holding = true;
      }
    }
    it = cached.get();
  } else {
    owned.reset(db->NewIterator(read_options, handle(family)));
    it = owned.get();
  }
  auto in_range = [&](std::string_view key) {
    return (upper.empty() || key < upper) && (prefix.empty() || key.starts_with(prefix));
  };
  // Merge the store's entries with the batch's changes (which win on equal keys; an erase hides
  // the stored entry).
  // (and of the batch it reads over, under its own)
  ChangeCursor ch(batch != nullptr ? &batch->changes[family_index(family)] : nullptr,
                  batch != nullptr && batch->base != nullptr ? &batch->base->changes[family_index(family)] : nullptr,
                  lower);
  size_t visited = 0;
  it->Seek(to_slice(lower));
  for (;;) {
    const bool db_valid = it->Valid() && in_range(to_view(it->key()));
    const bool ch_valid = ch.valid() && in_range(ch.key());
    if (!db_valid && !ch_valid) break;
    std::string_view key, value;
    bool from_changes = false;
    if (ch_valid && (!db_valid || ch.key() <= to_view(it->key()))) {
      if (db_valid && ch.key() == to_view(it->key())) it->Next();
      if (!ch.value()) {  // erased in the batch
        ch.next();
        continue;
      }
      key = ch.key();
      value = *ch.value();
      from_changes = true;
    } else {
      key = to_view(it->key());
      value = to_view(it->value());
    }
    if (limit != 0 && visited == limit) return std::optional<std::string>(std::string(key));
    ++visited;
    if (!visit(key, value)) return std::optional<std::string>();
    if (from_changes) {
      ch.next();
    } else {
      it->Next();
    }
  }
  if (auto s = it->status(); !s.ok()) {
    return from_rocksdb(s, std::string("state scan of ") + std::string(family_name(family)));
  }
  return std::optional<std::string>();
}

// --- Store ---

Store::Store(std::unique_ptr<Impl> impl) : _impl(std::move(impl)) {}

Store::~Store() {
  if (_impl) (void)_impl->close();  // errors are reported by an explicit close()
}

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& options, const Clock& clock) {
  TF_RETURN_IF_ERROR(options.validate());
  const std::string context = "state store " + options.path;

  const auto supported = rocksdb::GetSupportedCompressions();
  for (Compression c : {options.compression, options.bottommost_compression}) {
    if (c != Compression::none &&
        std::find(supported.begin(), supported.end(), to_rocksdb(c)) == supported.end()) {
      return Status::invalid_argument(context + ": compression " + std::string(compression_name(c)) +
                                      " is not supported by the linked RocksDB");
    }
  }

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  if (options.memory_budget) {
    impl->memory = options.memory_budget;
  } else {
    TF_ASSIGN_OR_RETURN(impl->memory, MemoryBudget::create(options.memory_budget_bytes,
                                                           options.write_buffer_fraction));
  }
  impl->options.memory_budget = impl->memory;
  if (options.dedup_window.count() > 0) {
    impl->dedup_filter = std::make_unique<DedupWindowFilter>(clock, options.dedup_window);
  }

  if (options.create_if_missing) {
    std::error_code ec;
    const auto parent = std::filesystem::path(options.path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) return Status::io_error(context + ": create parent directory: " + ec.message());
  }

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = options.background_jobs;
  db_options.max_open_files = options.max_open_files;
  db_options.max_total_wal_size = options.max_wal_bytes;
  db_options.write_buffer_manager = impl->memory->_impl->write_buffers;
  db_options.bytes_per_sync = 1 * StoreOptions::mib;
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  // Restart after kill -9: replay the WAL into memtables and go, instead of first flushing what
  // was replayed to L0 files (with a full WAL that flush was most of a 10 s restart).
  db_options.avoid_flush_during_recovery = true;
  db_options.keep_log_file_num = 5;
  db_options.max_log_file_size = 16 * StoreOptions::mib;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = impl->memory->_impl->cache;
  table.block_size = options.block_size_bytes;
  table.cache_index_and_filter_blocks = true;  // so they count against the memory budget
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.optimize_filters_for_memory = true;
  table.format_version = 5;
  if (options.bloom_bits_per_key > 0) {
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(options.bloom_bits_per_key, false));
  }
  std::shared_ptr<rocksdb::TableFactory> table_factory(rocksdb::NewBlockBasedTableFactory(table));

  rocksdb::ColumnFamilyOptions family_options;
  family_options.table_factory = table_factory;
  family_options.write_buffer_size = options.write_buffer_size_bytes;
  family_options.max_write_buffer_number = 2;
  family_options.compression = to_rocksdb(options.compression);
  family_options.level_compaction_dynamic_level_bytes = true;

  // Memtable bloom filters (whole keys, and child prefixes below): most of the join's point reads
  // look for keys that are not there (event ids not yet applied, pending feedback, decisions
  // not yet made) and skip the memtable's skiplist this way.
  family_options.memtable_prefix_bloom_size_ratio = options.memtable_bloom_ratio;
  family_options.memtable_whole_key_filtering = options.memtable_bloom_ratio > 0;
  if (options.compression != Compression::none && options.bottommost_compression != Compression::none) {
    family_options.bottommost_compression = to_rocksdb(options.bottommost_compression);
  }
  // Flushes and L0 are rewritten soon by compaction: spend no CPU compressing them.
  if (!options.compress_level0) {
    family_options.compression_per_level.assign(7, to_rocksdb(options.compression));
    family_options.compression_per_level[0] = rocksdb::kNoCompression;
  }
  std::shared_ptr<const rocksdb::SliceTransform> child_prefix = std::make_shared<ChildPrefixTransform>();

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, family_options);
  for (Family f : all_families) {
    rocksdb::ColumnFamilyOptions cf = family_options;
    if (f == Family::dedup) cf.compaction_filter = impl->dedup_filter.get();
    if (is_child_family(f)) cf.prefix_extractor = child_prefix;
    descriptors.emplace_back(std::string(family_name(f)), cf);
  }

  // Every family on disk must be opened; one we do not know was written by something else.
  std::vector<std::string> existing;
  if (rocksdb::DB::ListColumnFamilies(db_options, options.path, &existing).ok()) {
    for (const auto& name : existing) {
      const bool known = std::any_of(descriptors.begin(), descriptors.end(),
                                     [&](const auto& d) { return d.name == name; });
      if (!known) {
        return Status::invalid_argument(context + ": unknown column family \"" + name +
                                        "\" (written by a newer tracefeed or another program?)");
      }
    }
  }

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  const rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, descriptors, &handles, &db);
  if (!s.ok()) {
    if (is_lock_error(s)) {
      return Status::unavailable(context + ": the directory is locked by another open store (in "
                                           "this or another process): " + s.ToString());
    }
    if (s.IsInvalidArgument() && !options.create_if_missing &&
        s.ToString().find("does not exist") != std::string::npos) {
      return Status::not_found(context + ": does not exist (create_if_missing is false)");
    }
    return from_rocksdb(s, context + ": open");
  }
  impl->db = db;
  impl->default_family = handles[0];
  for (size_t i = 0; i < family_count; ++i) impl->families[i] = handles[i + 1];
  std::unique_ptr<Store> store(new Store(std::move(impl)));

  // Format version: written at creation, checked on every open.
  TF_ASSIGN_OR_RETURN(auto version, store->get(Family::meta, format_version_key));
  if (!version) {
    const rocksdb::Status put = store->_impl->db->Put(
        rocksdb::WriteOptions(), store->_impl->handle(Family::meta), to_slice(format_version_key),
        to_slice(format_version));
    if (!put.ok()) return from_rocksdb(put, context + ": write format version");
  } else if (*version != format_version) {
    return Status::invalid_argument(context + ": format version " + *version +
                                    " is not supported (this build reads " +
                                    std::string(format_version) + ")");
  }
  return store;
}

Result<std::optional<std::string>> Store::get(Family family, std::string_view key) const {
  TF_RETURN_IF_ERROR(_impl->check_open());
  std::string value;
  const rocksdb::Status s =
      _impl->db->Get(rocksdb::ReadOptions(), _impl->handle(family), to_slice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return from_rocksdb(s, std::string("state get from ") + std::string(family_name(family)));
  return std::optional<std::string>(std::move(value));
}

namespace {

// Copies MultiGet results into `values`, reusing string capacity.
Status collect_multi_get(Family family, size_t n, std::vector<rocksdb::PinnableSlice>& pinned,
                         const std::vector<rocksdb::Status>& statuses,
                         std::vector<std::optional<std::string>>& values) {
  values.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const auto& s = statuses[i];
    if (s.IsNotFound()) {
      values[i].reset();
    } else if (!s.ok()) {
      return from_rocksdb(s, std::string("state multi_get from ") + std::string(family_name(family)));
    } else if (values[i]) {
      values[i]->assign(pinned[i].data(), pinned[i].size());
    } else {
      values[i].emplace(pinned[i].data(), pinned[i].size());
    }
    pinned[i].Reset();
  }
  return Status::ok();
}

}  // namespace

Status Store::multi_get(Family family, std::span<const std::string_view> keys,
                        std::vector<std::optional<std::string>>& values) const {
  TF_RETURN_IF_ERROR(_impl->check_open());
  const size_t n = keys.size();
  std::vector<rocksdb::Slice> slices(n);
  for (size_t i = 0; i < n; ++i) slices[i] = to_slice(keys[i]);
  std::vector<rocksdb::PinnableSlice> pinned(n);
  std::vector<rocksdb::Status> statuses(n);
  _impl->db->MultiGet(rocksdb::ReadOptions(), _impl->handle(family), n, slices.data(),
                      pinned.data(), statuses.data(), /*sorted_input=*/false);
  return collect_multi_get(family, n, pinned, statuses, values);
}

Result<std::vector<std::optional<std::string>>> Store::multi_get(
    Family family, std::span<const std::string_view> keys) const {
  std::vector<std::optional<std::string>> values;
  TF_RETURN_IF_ERROR(multi_get(family, keys, values));
  return values;
}

Status Store::scan_prefix(Family family, std::string_view prefix, const ScanVisitor& visit) const {
  const std::string upper = prefix_successor(prefix);
  return _impl->scan(nullptr, family, prefix, upper, prefix, 0, visit).status();
}

Result<std::optional<std::string>> Store::scan(Family family, const ScanRange& range,
                                               const ScanVisitor& visit) const {
  return _impl->scan(nullptr, family, range.start, range.end, {}, range.limit, visit);
}

Status Store::write(WriteBatch& batch, const WriteOptions& options) { return write_batches(batch, nullptr, options); }

Status Store::write(WriteBatch& batch, WriteBatch& more, const WriteOptions& options) {
  return write_batches(batch, &more, options);
}

Status Store::write_batches(WriteBatch& batch, WriteBatch* more, const WriteOptions& options) {
  TF_RETURN_IF_ERROR(_impl->check_open());
  for (const WriteBatch* b : {&batch, more}) {
    if (b == nullptr) continue;
    if (b->_impl == nullptr || b->_impl->store != _impl.get()) {
      return Status::invalid_argument("state write: the batch belongs to another store");
    }
    TF_RETURN_IF_ERROR(b->_impl->status);
  }
  // One operation per changed key, in key order (sequential memtable inserts); `more` after.
  auto& rep = batch._impl->rep;
  rep.Clear();
  for (const WriteBatch* b : {&batch, more}) {
    if (b == nullptr) continue;
    for (size_t f = 0; f < family_count; ++f) {
      rocksdb::ColumnFamilyHandle* cf = _impl->families[f];
      for (const auto& [key, value] : b->_impl->changes[f]) {
        const rocksdb::Status s = value ? rep.Put(cf, to_slice(key), to_slice(*value)) : rep.Delete(cf, to_slice(key));
        if (!s.ok()) return from_rocksdb(s, "state write");
      }
    }
  }
  rocksdb::WriteOptions write_options;
  write_options.sync = options.sync;
  const rocksdb::Status s = _impl->db->Write(write_options, &rep);
  rep.Clear();
  if (!s.ok()) return from_rocksdb(s, "state write");
  _impl->writes.fetch_add(1, std::memory_order_acq_rel);
  if (!batch._impl->keep) batch.clear();
  if (more != nullptr) more->clear();
  return Status::ok();
}

Result<OffsetMap> Store::stored_offsets(std::string_view cluster_id) const {
  if (cluster_id.empty() || cluster_id.find(key_separator) != std::string_view::npos) {
    return Status::invalid_argument("state stored_offsets: cluster_id must be non-empty without NUL");
  }
  OffsetMap offsets;
  Status bad;
  const std::string prefix = child_prefix(cluster_id);
  TF_RETURN_IF_ERROR(scan_prefix(Family::offsets, prefix, [&](std::string_view key, std::string_view value) {
    // key = cluster_id \0 topic \0 partition(u32 BE); value = next offset (u64 BE)
    const std::string_view rest = key.substr(prefix.size());
    const auto sep = rest.find(key_separator);
    if (sep == std::string_view::npos || rest.size() != sep + 5 || value.size() != 8) {
      bad = Status::corruption("state offsets: malformed entry for cluster " + std::string(cluster_id));
      return false;
    }
    offsets[TopicPartition{std::string(rest.substr(0, sep)),
                           static_cast<int32_t>(read_u32_be(rest.substr(sep + 1)))}] =
        static_cast<int64_t>(read_u64_be(value));
    return true;
  }));
  TF_RETURN_IF_ERROR(bad);
  return offsets;
}

Result<std::vector<std::string>> Store::known_cluster_ids() const {
  std::vector<std::string> ids;
  std::string next;  // seek past each cluster's keys: one seek per cluster, not per offset
  while (true) {
    std::optional<std::string> found;
    TF_ASSIGN_OR_RETURN(auto resume, scan(Family::offsets, ScanRange{next, {}, 0},
                                          [&](std::string_view key, std::string_view) {
                                            found.emplace(parent_of(key));
                                            return false;
                                          }));
    (void)resume;
    if (!found) break;
    next = prefix_successor(child_prefix(*found));
    ids.push_back(std::move(*found));
  }
  return ids;
}

Result<uint64_t> Store::approximate_bytes() const {
  TF_RETURN_IF_ERROR(_impl->check_open());
  uint64_t sst = 0;
  uint64_t mem = 0;
  if (!_impl->db->GetAggregatedIntProperty(rocksdb::DB::Properties::kTotalSstFilesSize, &sst) ||
      !_impl->db->GetAggregatedIntProperty(rocksdb::DB::Properties::kCurSizeAllMemTables, &mem)) {
    return Status::internal("state approximate_bytes: size properties unavailable");
  }
  return sst + mem;
}

Result<uint64_t> Store::approximate_bytes(Family family) const {
  TF_RETURN_IF_ERROR(_impl->check_open());
  uint64_t sst = 0;
  uint64_t mem = 0;
  auto* h = _impl->handle(family);
  if (!_impl->db->GetIntProperty(h, rocksdb::DB::Properties::kTotalSstFilesSize, &sst) ||
      !_impl->db->GetIntProperty(h, rocksdb::DB::Properties::kCurSizeAllMemTables, &mem)) {
    return Status::internal("state approximate_bytes: size properties unavailable");
  }
  return sst + mem;
}

Result<StoreStats> Store::stats() const {
  TF_RETURN_IF_ERROR(_impl->check_open());
  StoreStats stats;
  auto* db = _impl->db;
  using P = rocksdb::DB::Properties;
  if (!db->GetAggregatedIntProperty(P::kTotalSstFilesSize, &stats.sst_bytes) ||
      !db->GetAggregatedIntProperty(P::kCurSizeAllMemTables, &stats.memtable_bytes) ||
      !db->GetAggregatedIntProperty(P::kEstimateTableReadersMem, &stats.table_readers_bytes) ||
      !db->GetAggregatedIntProperty(P::kEstimateNumKeys, &stats.estimated_keys)) {
    return Status::internal("state stats: properties unavailable");
  }
  stats.block_cache_capacity_bytes = _impl->memory->capacity_bytes();
  stats.block_cache_usage_bytes = _impl->memory->usage_bytes();
  stats.block_cache_pinned_bytes = _impl->memory->pinned_bytes();
  return stats;
}

Status Store::flush() {
  TF_RETURN_IF_ERROR(_impl->check_open());
  std::vector<rocksdb::ColumnFamilyHandle*> handles(_impl->families.begin(), _impl->families.end());
  rocksdb::FlushOptions flush_options;
  flush_options.wait = true;
  if (auto s = _impl->db->Flush(flush_options, handles); !s.ok()) return from_rocksdb(s, "state flush");
  return Status::ok();
}

Status Store::compact(Family family) {
  TF_RETURN_IF_ERROR(_impl->check_open());
  rocksdb::CompactRangeOptions compact_options;
  compact_options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  if (auto s = _impl->db->CompactRange(compact_options, _impl->handle(family), nullptr, nullptr);
      !s.ok()) {
    return from_rocksdb(s, std::string("state compact ") + std::string(family_name(family)));
  }
  return Status::ok();
}

Status Store::close() { return _impl->close(); }

const std::string& Store::path() const noexcept { return _impl->options.path; }

}  // namespace tracefeed::state
