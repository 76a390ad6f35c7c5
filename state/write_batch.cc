#include "state/write_batch.h"

#include <string>
#include <utility>
#include <vector>

#include "state/keys.h"
#include "state/store_internal.h"

namespace tracefeed::state {

namespace {

std::string family_context(std::string_view op, Family family) {
  std::string out("state batch ");
  out += op;
  out += " in ";
  out += family_name(family);
  return out;
}

}  // namespace

WriteBatch::WriteBatch(Store& store) : _impl(std::make_unique<Impl>(*store._impl)) {}
WriteBatch::~WriteBatch() = default;
WriteBatch::WriteBatch(WriteBatch&&) noexcept = default;
WriteBatch& WriteBatch::operator=(WriteBatch&&) noexcept = default;

void WriteBatch::put(Family family, std::string_view key, std::string_view value) {
  if (!_impl->status.is_ok()) return;
  if (auto s = _impl->batch.Put(_impl->store->handle(family), to_slice(key), to_slice(value)); !s.ok()) {
    _impl->fail(from_rocksdb(s, family_context("put", family)));
  }
}

void WriteBatch::erase(Family family, std::string_view key) {
  if (!_impl->status.is_ok()) return;
  if (auto s = _impl->batch.Delete(_impl->store->handle(family), to_slice(key)); !s.ok()) {
    _impl->fail(from_rocksdb(s, family_context("erase", family)));
  }
}

void WriteBatch::erase_prefix(Family family, std::string_view prefix) {
  if (!_impl->status.is_ok()) return;
  // Collect first: changing the batch while its iterator is open invalidates the iterator.
  std::vector<std::string> keys;
  const std::string upper = prefix_successor(prefix);
  auto scanned = _impl->store->scan(&_impl->batch, family, prefix, upper, prefix, 0,
                                    [&](std::string_view key, std::string_view) {
                                      keys.emplace_back(key);
                                      return true;
                                    });
  if (!scanned.is_ok()) {
    _impl->fail(scanned.status().with_context("state batch erase_prefix"));
    return;
  }
  for (const auto& key : keys) erase(family, key);
}

void WriteBatch::set_offset(std::string_view cluster_id, std::string_view topic,
                            int32_t partition, int64_t next_offset) {
  if (!_impl->status.is_ok()) return;
  if (cluster_id.empty() || cluster_id.find(key_separator) != std::string_view::npos) {
    _impl->fail(Status::invalid_argument("state set_offset: cluster_id must be non-empty without NUL"));
    return;
  }
  if (topic.empty() || topic.find(key_separator) != std::string_view::npos) {
    _impl->fail(Status::invalid_argument("state set_offset: topic must be non-empty without NUL"));
    return;
  }
  if (partition < 0 || next_offset < 0) {
    _impl->fail(Status::invalid_argument("state set_offset: " + std::string(topic) + "/" +
                                         std::to_string(partition) + ": partition and offset must be >= 0, got offset " +
                                         std::to_string(next_offset)));
    return;
  }
  // key = cluster_id \0 topic \0 partition (u32 BE); value = next offset (u64 BE)
  auto& key = _impl->scratch_key;
  assign_child_key(key, cluster_id, topic);
  key.push_back(key_separator);
  append_u32_be(key, static_cast<uint32_t>(partition));
  auto& value = _impl->scratch_value;
  value.clear();
  append_u64_be(value, static_cast<uint64_t>(next_offset));
  put(Family::offsets, key, value);
}

void WriteBatch::mark_applied(std::string_view event_id, Clock::time_point applied_at) {
  auto& value = _impl->scratch_value;
  value.clear();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(applied_at.time_since_epoch());
  append_u64_be(value, static_cast<uint64_t>(ms.count()));
  put(Family::dedup, event_id, value);
}

Result<std::optional<std::string>> WriteBatch::get(Family family, std::string_view key) const {
  auto& store = *_impl->store;
  TF_RETURN_IF_ERROR(store.check_open());
  std::string value;
  const rocksdb::Status s = _impl->batch.GetFromBatchAndDB(
      store.db, rocksdb::ReadOptions(), store.handle(family), to_slice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return from_rocksdb(s, family_context("get", family));
  return std::optional<std::string>(std::move(value));
}

Status WriteBatch::multi_get(Family family, std::span<const std::string_view> keys,
                             std::vector<std::optional<std::string>>& values) const {
  auto& store = *_impl->store;
  TF_RETURN_IF_ERROR(store.check_open());
  const size_t n = keys.size();
  std::vector<rocksdb::Slice> slices(n);
  for (size_t i = 0; i < n; ++i) slices[i] = to_slice(keys[i]);
  std::vector<rocksdb::PinnableSlice> pinned(n);
  std::vector<rocksdb::Status> statuses(n);
  _impl->batch.MultiGetFromBatchAndDB(store.db, rocksdb::ReadOptions(), store.handle(family), n,
                                      slices.data(), pinned.data(), statuses.data(),
                                      /*sorted_input=*/false);
  values.resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (statuses[i].IsNotFound()) {
      values[i].reset();
    } else if (!statuses[i].ok()) {
      return from_rocksdb(statuses[i], family_context("multi_get", family));
    } else if (values[i]) {
      values[i]->assign(pinned[i].data(), pinned[i].size());
    } else {
      values[i].emplace(pinned[i].data(), pinned[i].size());
    }
  }
  return Status::ok();
}

Status WriteBatch::scan_prefix(Family family, std::string_view prefix, const ScanVisitor& visit) const {
  const std::string upper = prefix_successor(prefix);
  return _impl->store->scan(&_impl->batch, family, prefix, upper, prefix, 0, visit).status();
}

size_t WriteBatch::count() const noexcept {
  return static_cast<size_t>(_impl->batch.GetWriteBatch()->Count());
}

size_t WriteBatch::data_size_bytes() const noexcept { return _impl->batch.GetDataSize(); }

const Status& WriteBatch::status() const noexcept { return _impl->status; }

void WriteBatch::clear() {
  _impl->batch.Clear();
  _impl->status = Status::ok();
}

}  // namespace tracefeed::state
