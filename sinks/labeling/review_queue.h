#pragma once
// ReviewQueue: the items of one labeling session and the state machine of review — claim,
// fenced lease, submit, skip, expiry — with the indexes that make a claim cheap.
//
// It is the in-memory half of a session; RocksDB is the other (LabelingService keeps them in
// step). Every change follows one pattern: the caller asks for the changed item (a copy:
// plan_claim, or an Item it built after check_lease), puts it back *pinned* (Item::pinned: taken
// out of the queue and out of expiry), writes the changed item to RocksDB with no lock held, and
// then puts it unpinned — or, if the write failed, puts back the item as it was. So nothing is
// answered before it is durable, a lease the queue hands out has always been stored first, and
// concurrent writers share fsyncs. The exception is lease expiry, which changes memory only: the
// stored lease is in the past and is treated exactly alike when the item is loaded again.
//
// Item status (PRODUCT.md §3):
//   completed    reviews_per_item reviews from distinct reviewers (capped at the number of
//                assigned_users when the session has some);
//   skipped      not completed, and either reviews_per_item reviewers skipped it or, when the
//                session has assigned_users, every assigned user reviewed or skipped it;
//   in_progress  a lease is held (or being stored, or a submission with it being produced);
//   pending      waiting for a reviewer.
// Completed and skipped are final. A reviewer is never offered an item twice: not after
// reviewing it, not after skipping it. A reviewer holds at most one lease per session: claiming
// again while it is live returns the same item and lease (a retried claim never takes a second
// item).
//
// Claim order: the routing rule's priority (higher first), then age (added earlier first), then
// arrival order. Expired leases are found lazily, at the next claim (or progress read), and each
// expired item returns to the queue exactly once.
//
// Not thread-safe: the owner (LabelingService) holds the session's mutex around every call.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/model.h"
#include "core/result.h"

namespace tracefeed::labeling {

struct Lease {
  std::string reviewer;
  std::string token;  // "<n>-<16 hex>": n = the item's lease count (the fencing number)
  int64_t expires_at_ms = 0;
  bool operator==(const Lease&) const = default;
};

struct Review {
  std::string reviewer;
  std::string token;  // the lease it was submitted under: a retry with it is answered, not redone
  int64_t time_ms = 0;
  std::vector<std::pair<std::string, JsonText>> labels;       // schema → canonical JSON value
  std::vector<std::pair<std::string, std::string>> comments;  // schema → rationale
  bool operator==(const Review&) const = default;
};

struct Skip {
  std::string reviewer;
  std::string token;
  int64_t time_ms = 0;
  bool operator==(const Skip&) const = default;
};

enum class ItemSource : uint8_t { routed, api };
enum class ItemStatus : uint8_t { pending, in_progress, completed, skipped };
[[nodiscard]] std::string_view to_string(ItemSource s) noexcept;  // "routed", "api"
[[nodiscard]] std::string_view to_string(ItemStatus s) noexcept;  // "pending", ...
[[nodiscard]] std::optional<ItemStatus> parse_item_status(std::string_view s) noexcept;

struct Item {
  std::string trace_id;
  uint64_t seq = 0;      // arrival order within the session (1, 2, ...)
  int32_t priority = 0;  // the routing rule's priority; 0 when added through the API
  std::string rule;      // the routing rule; empty when added through the API
  ItemSource source = ItemSource::api;
  int64_t added_ms = 0;      // when it became reviewable (the routing time for routed items)
  uint64_t lease_count = 0;  // leases granted so far; the next lease is lease_count + 1
  std::optional<Lease> lease;
  std::vector<Review> reviews;
  std::vector<Skip> skips;
  // Memory only: the lease token while a change under that lease is being made durable — a
  // claim being written, a submission being produced and written, a skip being written. A pinned
  // item is neither claimable nor expirable, so the change cannot be overtaken meanwhile.
  std::string pinned;

  [[nodiscard]] bool reviewed_by(std::string_view reviewer) const noexcept;
  [[nodiscard]] bool skipped_by(std::string_view reviewer) const noexcept;
  bool operator==(const Item&) const = default;
};

// How the session's settings shape its queue.
struct QueuePolicy {
  int32_t reviews_per_item = 1;
  std::vector<std::string> assigned_users;  // empty = anyone
  std::chrono::milliseconds lease_duration{std::chrono::minutes(15)};
};

struct StatusCounts {
  uint64_t pending = 0, in_progress = 0, completed = 0, skipped = 0;
  [[nodiscard]] uint64_t total() const noexcept {
    return pending + in_progress + completed + skipped;
  }
};

struct ReviewerProgress {
  uint64_t reviewed = 0;     // items this reviewer submitted
  uint64_t skipped = 0;      // items this reviewer skipped
  uint64_t in_progress = 0;  // leases held now
};

// What check_lease found.
enum class LeaseCheck {
  ok,                 // the lease is current, live and the reviewer's
  already_submitted,  // this reviewer already submitted with this token (answer the retry)
  already_skipped,    // this reviewer already skipped with this token
};

class ReviewQueue {
 public:
  explicit ReviewQueue(QueuePolicy policy) : _policy(std::move(policy)) {}

  [[nodiscard]] const QueuePolicy& policy() const noexcept { return _policy; }
  // Replaces the policy and re-indexes every item (statuses may change).
  void set_policy(QueuePolicy policy);

  [[nodiscard]] const Item* find(std::string_view trace_id) const;
  [[nodiscard]] size_t size() const noexcept { return _items.size(); }
  [[nodiscard]] uint64_t next_seq() const noexcept { return _next_seq; }

  // Inserts `item`, or replaces the item with its trace_id, and indexes it. Call it after the
  // item is durable (see above).
  void put(Item item);

  [[nodiscard]] ItemStatus status(const Item& item) const noexcept;

  // Returns every lease that expired at or before `now_ms` to the queue. Returns how many.
  size_t expire_leases(int64_t now_ms);

  // The item `reviewer` should get next, already carrying its new lease (token from
  // `token_suffix`, 16 hex, expiry now + lease_duration) — or the reviewer's live lease when
  // they hold one (`*reused` = true; nothing to store). nullopt when nothing is claimable for
  // this reviewer. Expires leases first. Changes nothing else: store the item, then put() it.
  [[nodiscard]] std::optional<Item> plan_claim(std::string_view reviewer, int64_t now_ms,
                                               std::string_view token_suffix, bool* reused);

  // Checks that `token` is the current, live lease of `reviewer` on the item. Errors:
  // not_found (no such item), conflict (stale, superseded, foreign or expired token; a
  // submission with it in flight; item already completed or skipped).
  [[nodiscard]] Result<LeaseCheck> check_lease(std::string_view trace_id, std::string_view reviewer,
                                               std::string_view token, int64_t now_ms) const;

  // Counts by status; in_progress includes leases that expired but were not yet returned
  // (call expire_leases first for exact figures).
  [[nodiscard]] const StatusCounts& counts() const noexcept { return _counts; }
  [[nodiscard]] std::map<std::string, ReviewerProgress> reviewer_progress() const;
  // Time the oldest pending item has waited, in ms (0 when none is pending).
  [[nodiscard]] int64_t oldest_pending_age_ms(int64_t now_ms) const;

  // Visits items in arrival order starting at seq `from`, until `visit` returns false.
  void for_each(uint64_t from, const std::function<bool(const Item&)>& visit) const;

 private:
  using QueueKey = std::tuple<int64_t, int64_t, uint64_t>;  // (-priority, added_ms, seq)
  static QueueKey queue_key(const Item& item) noexcept {
    return {-int64_t{item.priority}, item.added_ms, item.seq};
  }

  [[nodiscard]] bool is_skipped(const Item& item) const noexcept;
  void index(const Item& item, int sign);  // add (+1) or remove (-1) from indexes and counters

  QueuePolicy _policy;
  std::map<uint64_t, Item> _items;                      // by seq
  std::unordered_map<std::string, uint64_t> _seq_of;    // trace_id → seq
  std::set<QueueKey> _claimable;                        // pending items, in claim order
  std::set<std::pair<int64_t, uint64_t>> _pending_age;  // (added_ms, seq) of pending items
  std::set<std::pair<int64_t, uint64_t>> _leased;       // (expires_at_ms, seq) of held leases
  std::set<std::pair<std::string, uint64_t>> _held_by;  // (reviewer, seq) of held leases
  std::map<std::string, ReviewerProgress, std::less<>> _reviewers;
  StatusCounts _counts;
  uint64_t _next_seq = 1;
};

}  // namespace tracefeed::labeling
