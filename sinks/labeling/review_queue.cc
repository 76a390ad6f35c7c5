#include "sinks/labeling/review_queue.h"

#include <algorithm>

#include "core/time_format.h"

namespace tracefeed::labeling {
namespace {

void bump(uint64_t& counter, int sign) noexcept {
  if (sign > 0) {
    ++counter;
  } else {
    --counter;
  }
}

}  // namespace

std::string_view to_string(ItemSource s) noexcept {
  return s == ItemSource::routed ? "routed" : "api";
}

std::string_view to_string(ItemStatus s) noexcept {
  switch (s) {
    case ItemStatus::pending:
      return "pending";
    case ItemStatus::in_progress:
      return "in_progress";
    case ItemStatus::completed:
      return "completed";
    case ItemStatus::skipped:
      return "skipped";
  }
  return "pending";
}

std::optional<ItemStatus> parse_item_status(std::string_view s) noexcept {
  for (auto st :
       {ItemStatus::pending, ItemStatus::in_progress, ItemStatus::completed, ItemStatus::skipped}) {
    if (to_string(st) == s) return st;
  }
  return std::nullopt;
}

bool Item::reviewed_by(std::string_view reviewer) const noexcept {
  return std::any_of(reviews.begin(), reviews.end(),
                     [&](const Review& r) { return r.reviewer == reviewer; });
}

bool Item::skipped_by(std::string_view reviewer) const noexcept {
  return std::any_of(skips.begin(), skips.end(),
                     [&](const Skip& s) { return s.reviewer == reviewer; });
}

void ReviewQueue::set_policy(QueuePolicy policy) {
  for (auto& [seq, item] : _items) index(item, -1);
  _policy = std::move(policy);
  for (auto& [seq, item] : _items) index(item, +1);
}

const Item* ReviewQueue::find(std::string_view trace_id) const {
  auto it = _seq_of.find(std::string(trace_id));
  return it == _seq_of.end() ? nullptr : &_items.at(it->second);
}

void ReviewQueue::put(Item item) {
  auto known = _seq_of.find(item.trace_id);
  if (known != _seq_of.end()) {
    Item& old = _items.at(known->second);
    index(old, -1);
    item.seq = old.seq;  // an item keeps its place in arrival order
    old = std::move(item);
    index(old, +1);
    return;
  }
  if (item.seq == 0) item.seq = _next_seq;
  _next_seq = std::max(_next_seq, item.seq + 1);
  _seq_of.emplace(item.trace_id, item.seq);
  auto [it, inserted] = _items.emplace(item.seq, std::move(item));
  index(it->second, +1);
}

ItemStatus ReviewQueue::status(const Item& item) const noexcept {
  // With assigned users, an item cannot get more distinct reviews than there are of them.
  const size_t needed =
      _policy.assigned_users.empty()
          ? static_cast<size_t>(_policy.reviews_per_item)
          : std::min(static_cast<size_t>(_policy.reviews_per_item), _policy.assigned_users.size());
  if (item.reviews.size() >= needed) return ItemStatus::completed;
  if (is_skipped(item)) return ItemStatus::skipped;
  if (item.lease || !item.pinned.empty()) return ItemStatus::in_progress;
  return ItemStatus::pending;
}

bool ReviewQueue::is_skipped(const Item& item) const noexcept {
  const size_t needed =
      _policy.assigned_users.empty()
          ? static_cast<size_t>(_policy.reviews_per_item)
          : std::min(static_cast<size_t>(_policy.reviews_per_item), _policy.assigned_users.size());
  if (item.skips.size() >= needed) return true;
  if (_policy.assigned_users.empty() || item.skips.empty()) return false;
  return std::all_of(
      _policy.assigned_users.begin(), _policy.assigned_users.end(),
      [&](const std::string& user) { return item.reviewed_by(user) || item.skipped_by(user); });
}

void ReviewQueue::index(const Item& item, int sign) {
  const ItemStatus st = status(item);
  switch (st) {
    case ItemStatus::pending:
      bump(_counts.pending, sign);
      if (sign > 0) {
        _claimable.insert(queue_key(item));
        _pending_age.emplace(item.added_ms, item.seq);
      } else {
        _claimable.erase(queue_key(item));
        _pending_age.erase({item.added_ms, item.seq});
      }
      break;
    case ItemStatus::in_progress:
      bump(_counts.in_progress, sign);
      if (item.lease) {
        bump(_reviewers[item.lease->reviewer].in_progress, sign);
        // A pinned lease (being stored, or its submission being produced) cannot expire
        // meanwhile: it is not indexed.
        if (item.pinned.empty()) {
          const std::pair<int64_t, uint64_t> by_time{item.lease->expires_at_ms, item.seq};
          const std::pair<std::string, uint64_t> by_reviewer{item.lease->reviewer, item.seq};
          if (sign > 0) {
            _leased.insert(by_time);
            _held_by.insert(by_reviewer);
          } else {
            _leased.erase(by_time);
            _held_by.erase(by_reviewer);
          }
        }
      }
      break;
    case ItemStatus::completed:
      bump(_counts.completed, sign);
      break;
    case ItemStatus::skipped:
      bump(_counts.skipped, sign);
      break;
  }
  for (const auto& r : item.reviews) bump(_reviewers[r.reviewer].reviewed, sign);
  for (const auto& s : item.skips) bump(_reviewers[s.reviewer].skipped, sign);
}

size_t ReviewQueue::expire_leases(int64_t now_ms) {
  size_t n = 0;
  while (!_leased.empty() && _leased.begin()->first <= now_ms) {
    Item& item = _items.at(_leased.begin()->second);
    index(item, -1);
    item.lease.reset();
    index(item, +1);
    ++n;
  }
  return n;
}

std::optional<Item> ReviewQueue::plan_claim(std::string_view reviewer, int64_t now_ms,
                                            std::string_view token_suffix, bool* reused) {
  expire_leases(now_ms);
  *reused = false;
  auto held = _held_by.lower_bound({std::string(reviewer), 0});
  if (held != _held_by.end() && held->first == reviewer) {
    *reused = true;
    return _items.at(held->second);
  }
  for (const QueueKey& key : _claimable) {
    const Item& candidate = _items.at(std::get<2>(key));
    if (candidate.reviewed_by(reviewer) || candidate.skipped_by(reviewer)) continue;
    Item claimed = candidate;
    ++claimed.lease_count;
    claimed.lease = Lease{std::string(reviewer),
                          std::to_string(claimed.lease_count) + "-" + std::string(token_suffix),
                          now_ms + _policy.lease_duration.count()};
    return claimed;
  }
  return std::nullopt;
}

Result<LeaseCheck> ReviewQueue::check_lease(std::string_view trace_id, std::string_view reviewer,
                                            std::string_view token, int64_t now_ms) const {
  const Item* item = find(trace_id);
  if (!item)
    return Status::not_found("trace " + std::string(trace_id) + " is not in this labeling session");
  for (const auto& r : item->reviews) {
    if (r.token != token) continue;
    if (r.reviewer == reviewer) return LeaseCheck::already_submitted;
    return Status::conflict("lease_token: the lease belongs to another reviewer");
  }
  for (const auto& s : item->skips) {
    if (s.token != token) continue;
    if (s.reviewer == reviewer) return LeaseCheck::already_skipped;
    return Status::conflict("lease_token: the lease belongs to another reviewer");
  }
  const ItemStatus st = status(*item);
  if (st == ItemStatus::completed || st == ItemStatus::skipped) {
    return Status::conflict("lease_token: the item is already " + std::string(to_string(st)));
  }
  if (!item->lease || item->lease->token != token) {
    return Status::conflict(
        "lease_token: not the current lease of this item (it expired and the item was claimed "
        "again, or the "
        "token is wrong); claim an item again");
  }
  if (item->lease->reviewer != reviewer)
    return Status::conflict("lease_token: the lease belongs to another reviewer");
  if (item->pinned == token) {
    return Status::conflict(
        "lease_token: a request with this lease is in progress; retry when it has finished");
  }
  if (item->lease->expires_at_ms <= now_ms) {
    return Status::conflict("lease_token: the lease expired at " +
                            format_rfc3339(item->lease->expires_at_ms * 1'000'000) +
                            "; claim an item again");
  }
  return LeaseCheck::ok;
}

std::map<std::string, ReviewerProgress> ReviewQueue::reviewer_progress() const {
  std::map<std::string, ReviewerProgress> out;
  for (const auto& [name, p] : _reviewers) {
    if (p.reviewed || p.skipped || p.in_progress) out.emplace(name, p);
  }
  return out;
}

int64_t ReviewQueue::oldest_pending_age_ms(int64_t now_ms) const {
  // Claim order is by priority first, so age has its own index.
  if (_pending_age.empty()) return 0;
  return std::max<int64_t>(0, now_ms - _pending_age.begin()->first);
}

void ReviewQueue::for_each(uint64_t from, const std::function<bool(const Item&)>& visit) const {
  for (auto it = _items.lower_bound(from); it != _items.end(); ++it) {
    if (!visit(it->second)) return;
  }
}

}  // namespace tracefeed::labeling
