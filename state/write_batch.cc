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
  auto& changes = _impl->changes[family_index(family)];
  auto it = changes.lower_bound(key);
  if (it != changes.end() && it->first == key) {
    if (it->second) {
      it->second->assign(value);
    } else {
      it->second.emplace(value);
    }
  } else {
    changes.emplace_hint(it, std::string(key), std::optional<std::string>(std::in_place, value));
  }
  ++_impl->operations;
  _impl->data_bytes += key.size() + value.size();
}

void WriteBatch::erase(Family family, std::string_view key) {
  if (!_impl->status.is_ok()) return;
  auto& changes = _impl->changes[family_index(family)];
  auto it = changes.lower_bound(key);
  if (it != changes.end() && it->first == key) {
    it->second.reset();
  } else {
    changes.emplace_hint(it, std::string(key), std::nullopt);
  }
  ++_impl->operations;
  _impl->data_bytes += key.size();
}

size_t WriteBatch::erase_prefix(Family family, std::string_view prefix) {
  if (!_impl->status.is_ok()) return 0;
  // Collect first: the scan visits views into the batch's own entries.
  std::vector<std::string> keys;
  const std::string upper = prefix_successor(prefix);
  auto scanned = _impl->store->scan(_impl.get(), family, prefix, upper, prefix, 0,
                                    [&](std::string_view key, std::string_view) {
                                      keys.emplace_back(key);
                                      return true;
                                    });
  if (!scanned.is_ok()) {
    _impl->fail(scanned.status().with_context("state batch erase_prefix"));
    return 0;
  }
  for (const auto& key : keys) erase(family, key);
  return keys.size();
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
  const auto& changes = _impl->changes[family_index(family)];
  if (auto it = changes.find(key); it != changes.end()) return it->second;
  if (_impl->base) {
    const auto& base = _impl->base->changes[family_index(family)];
    if (auto it = base.find(key); it != base.end()) return it->second;
  }
  if (const auto& prefetched = _impl->prefetched[family_index(family)]; !prefetched.empty()) {
    if (auto it = prefetched.find(key); it != prefetched.end()) return it->second;
  }
  std::string value;
  const rocksdb::Status s = store.db->Get(rocksdb::ReadOptions(), store.handle(family), to_slice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return from_rocksdb(s, family_context("get", family));
  return std::optional<std::string>(std::move(value));
}

Status WriteBatch::multi_get(Family family, std::span<const std::string_view> keys,
                             std::vector<std::optional<std::string>>& values) const {
  auto& store = *_impl->store;
  TF_RETURN_IF_ERROR(store.check_open());
  const size_t n = keys.size();
  values.resize(n);
  const auto& changes = _impl->changes[family_index(family)];
  const auto* base = _impl->base ? &_impl->base->changes[family_index(family)] : nullptr;
  // The batch (and the one it reads over) answers what it changed; the store is asked for the
  // rest in one MultiGet.
  std::vector<size_t> missing;
  std::vector<rocksdb::Slice> slices;
  for (size_t i = 0; i < n; ++i) {
    const std::optional<std::string>* changed = nullptr;  // the batch's change, else the base's
    if (auto it = changes.find(keys[i]); it != changes.end()) {
      changed = &it->second;
    } else if (base) {
      if (auto b = base->find(keys[i]); b != base->end()) changed = &b->second;
    }
    if (changed) {
      if (!*changed) {
        values[i].reset();
      } else if (values[i]) {
        values[i]->assign(**changed);
      } else {
        values[i].emplace(**changed);
      }
    } else {
      missing.push_back(i);
      slices.push_back(to_slice(keys[i]));
    }
  }
  if (missing.empty()) return Status::ok();
  const size_t m = missing.size();
  std::vector<rocksdb::PinnableSlice> pinned(m);
  std::vector<rocksdb::Status> statuses(m);
  store.db->MultiGet(rocksdb::ReadOptions(), store.handle(family), m, slices.data(), pinned.data(), statuses.data(),
                     /*sorted_input=*/false);
  for (size_t j = 0; j < m; ++j) {
    auto& v = values[missing[j]];
    if (statuses[j].IsNotFound()) {
      v.reset();
    } else if (!statuses[j].ok()) {
      return from_rocksdb(statuses[j], family_context("multi_get", family));
    } else if (v) {
      v->assign(pinned[j].data(), pinned[j].size());
    } else {
      v.emplace(pinned[j].data(), pinned[j].size());
    }
  }
  return Status::ok();
}

Status WriteBatch::prefetch(Family family, std::span<const std::string_view> keys) {
  const auto& changes = _impl->changes[family_index(family)];
  auto& prefetched = _impl->prefetched[family_index(family)];
  std::vector<std::string_view> missing;  // neither changed nor prefetched: one MultiGet
  missing.reserve(keys.size());
  const auto* base = _impl->base ? &_impl->base->changes[family_index(family)] : nullptr;
  for (std::string_view key : keys) {
    if (!changes.contains(key) && !(base && base->contains(key)) && !prefetched.contains(key)) missing.push_back(key);
  }
  if (missing.empty()) return Status::ok();
  std::vector<std::optional<std::string>> values;
  TF_RETURN_IF_ERROR(multi_get(family, missing, values).with_context("state prefetch"));
  for (size_t i = 0; i < missing.size(); ++i) prefetched.try_emplace(std::string(missing[i]), std::move(values[i]));
  return Status::ok();
}

Status WriteBatch::scan_prefix(Family family, std::string_view prefix, const ScanVisitor& visit) const {
  const std::string upper = prefix_successor(prefix);
  return _impl->store->scan(_impl.get(), family, prefix, upper, prefix, 0, visit).status();
}

void WriteBatch::scan_prefix_in_batch(Family family, std::string_view prefix, const ScanVisitor& visit) const {
  const auto* base = _impl->base ? &_impl->base->changes[family_index(family)] : nullptr;
  for (ChangeCursor c(&_impl->changes[family_index(family)], base, prefix); c.valid() && c.key().starts_with(prefix);
       c.next()) {
    if (c.value() && !visit(c.key(), *c.value())) return;
  }
}

void WriteBatch::read_over(const WriteBatch* base) noexcept { _impl->base = base ? base->_impl.get() : nullptr; }

void WriteBatch::keep_after_write() noexcept { _impl->keep = true; }

size_t WriteBatch::count() const noexcept { return _impl->operations; }

size_t WriteBatch::data_size_bytes() const noexcept { return _impl->data_bytes; }

const Status& WriteBatch::status() const noexcept { return _impl->status; }

void WriteBatch::clear() {
  _impl->release_iterators();
  for (auto& changes : _impl->changes) changes.clear();
  for (auto& prefetched : _impl->prefetched) prefetched.clear();
  _impl->operations = 0;
  _impl->data_bytes = 0;
  _impl->status = Status::ok();
  _impl->base = nullptr;
  _impl->keep = false;
}

}  // namespace tracefeed::state
