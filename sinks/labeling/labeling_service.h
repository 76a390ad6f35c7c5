#pragma once
// LabelingService: label schemas, labeling sessions and their review queues (PRODUCT.md §3),
// kept in RocksDB (Family::labeling) and mirrored in memory for fast claims.
//
// Durability: every change is written to RocksDB — with the WAL, and fsynced when
// `sync_writes` — before it is applied in memory and before the caller is answered. A lease
// that was handed out was stored first, so after a crash it is never handed out again; the
// fencing number of an item only grows. Routed items are written in one batch with the review
// topic offsets they were consumed from, so a restart resumes exactly where the state ends.
//
// Submissions: the answers are validated against their schemas, produced to `assessments`
// through the EventSink (one assessment per label: name = schema, source HUMAN/<reviewer>,
// metadata tracefeed.labeling_session_id) and acknowledged by Kafka BEFORE the review is
// recorded. Ids are deterministic — assessment id from (session, trace, reviewer, schema), event
// id from that and the lease token — so a retried submit produces nothing new (the gateway's and
// the join's event-id deduplication) and a reviewer's later answer replaces the earlier one. A
// crash between the acknowledgement and the record leaves the assessments on the trace and the
// item claimable again (at-least-once, never lost).
//
// Threads: every method is thread-safe. Registry changes (schemas, sessions) take a
// shared_mutex exclusively; claims, submits and skips take it shared and then the session's own
// mutex, so sessions never wait on each other. Lock order: registry, then sessions by id. A
// claim, submit or skip holds its session's mutex only to decide and to apply: the item is pinned
// (ReviewQueue) while the EventSink is called and while its RocksDB write is made, both with no
// lock held, so concurrent reviewers share fsyncs (RocksDB group commit) and Kafka round trips.
// apply_routed runs on the review consumer's thread.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/event_sink.h"
#include "core/json_tree.h"
#include "core/result.h"
#include "sinks/labeling/agreement.h"
#include "sinks/labeling/labeling_records.h"
#include "sinks/labeling/membership.h"
#include "sinks/labeling/review_queue.h"

namespace tracefeed::state {
class Store;
class WriteBatch;
}  // namespace tracefeed::state

namespace tracefeed::labeling {

// An item that just reached reviews_per_item reviews (LabelingOptions::on_item_completed).
struct CompletedItemInfo {
  std::string session_id;
  std::string session_name;
  std::string trace_id;
  // Every assessment its reviews produced (they reach the joined trace through Kafka).
  std::vector<std::string> assessment_ids;
};

struct LabelingOptions {
  // fsync the WAL before a claim, submit or skip is answered: survives a machine crash, at the
  // cost of one fsync per answer. Without it the WAL is still written before answering, which
  // survives a crash of the process (kill -9). Default: false.
  bool sync_writes = false;
  // "http://host:port" of the web UI, for each session's `url` (<base>/#/review/<session id>).
  // Called when a session is rendered, so it may be wired before the server has its port.
  // Default: none (the url is the relative "/#/review/<id>").
  std::function<std::string()> review_app_base_url;
  // The search grammar (PRODUCT.md §5) over stored traces, for POST …/items {"filter": …}:
  // returns at most `max_results` matching trace ids. Default: none (such requests get 503).
  std::function<Result<std::vector<std::string>>(std::string_view filter, size_t max_results)>
      search;
  // Most traces one POST …/items may add (trace_ids, or filter matches). Default: 10000.
  size_t max_items_per_request = 10000;
  // Called once for every routed item that became claimable, with the session name and the time
  // from the event that made the rule fire (the review record's `time`: the feedback's time) to
  // claimable, in ns — for tracefeed_route_latency_seconds. Not called for records without a
  // time. Runs on the review consumer's thread; keep it short. Default: none.
  std::function<void(std::string_view session, int64_t latency_ns)> on_routed;
  // Called once when a submit completes an item (continuous evaluation), on the submitting
  // thread after the review is stored, outside every lock. A retried submit does not call it
  // again. Default: none.
  std::function<void(const CompletedItemInfo&)> on_item_completed;
  // Items erased per RocksDB write when a session is deleted. Default: 10000.
  size_t delete_batch_items = 10000;
};

// Counters, readable at any time (relaxed atomics).
struct LabelingStats {
  std::atomic<uint64_t> items_routed{0};     // routed items added to a session
  std::atomic<uint64_t> items_added{0};      // items added through the API
  std::atomic<uint64_t> duplicates{0};       // routed or API adds of an item already there
  std::atomic<uint64_t> orphaned{0};         // routed items kept for a session that does not exist
  std::atomic<uint64_t> orphans_adopted{0};  // orphans moved into a session created later
  std::atomic<uint64_t> claims{
      0};  // leases granted (not counting a reviewer's own lease returned again)
  std::atomic<uint64_t> claims_empty{0};  // claims answered 204
  std::atomic<uint64_t> submits{0};       // reviews recorded
  std::atomic<uint64_t> skips{0};
  std::atomic<uint64_t> leases_expired{0};  // leases returned to the queue after expiring
  std::atomic<uint64_t> conflicts{0};       // 409s: stale, foreign, expired tokens
  std::atomic<uint64_t> assessments_produced{0};
  std::atomic<uint64_t> produce_failures{
      0};  // submits answered 503 because Kafka did not acknowledge
};

struct SchemaEntry {
  config::LabelSchema schema;
  bool from_config = false;
};

struct SchemaAgreement {
  std::string schema;
  Agreement agreement;
};

// A session as the API shows it.
struct SessionView {
  SessionRecord record;
  std::string url;
  StatusCounts counts;
  std::map<std::string, ReviewerProgress> reviewers;
  std::vector<SchemaAgreement> agreement;  // schemas with items reviewed twice or more
};

// One agreement figure, for the metrics module (tracefeed_label_agreement{session,schema}).
struct AgreementValue {
  std::string session;  // session name
  std::string schema;
  Agreement agreement;
};

// Queue figures of one session, for the metrics module.
struct SessionMetrics {
  std::string session;                    // session name
  StatusCounts counts;                    // pending = tracefeed_review_queue_depth
  double oldest_pending_age_seconds = 0;  // tracefeed_review_item_age_seconds
  std::map<std::string, ReviewerProgress>
      reviewers;  // reviewed = tracefeed_reviews_completed_total
};

struct ClaimResult {
  std::string trace_id;
  Lease lease;
  bool reused = false;  // the reviewer's own live lease, returned again
};

struct SubmitResult {
  std::string trace_id;
  ItemStatus status = ItemStatus::pending;
  std::vector<std::pair<std::string, std::string>> assessment_ids;  // schema → assessment id
  bool retried = false;  // already recorded: this answers a retry
};

struct SkipResult {
  std::string trace_id;
  ItemStatus status = ItemStatus::pending;
};

struct AddResult {
  size_t added = 0;
  size_t already_present = 0;
};

struct ItemPage {
  std::vector<std::pair<Item, ItemStatus>> items;
  uint64_t next_seq = 0;  // 0 = no more pages
};

// Where a consumed review-topic batch ends, stored with the items (Family::offsets).
struct ConsumedOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t next_offset = 0;
};

class LabelingService final : public SessionMembership {
 public:
  // `store`, `sink` and `clock` must outlive the service.
  LabelingService(state::Store& store, EventSink& sink, Clock& clock, LabelingOptions options = {});
  ~LabelingService() override;
  LabelingService(const LabelingService&) = delete;
  LabelingService& operator=(const LabelingService&) = delete;

  // Loads the state, then applies the config: its schemas and sessions are created or updated
  // (a config session keeps its id and items across restarts); a session that left the config
  // keeps its items and becomes API-managed. Routed items that were waiting for a session now
  // defined are moved into it. Call once, before anything else.
  [[nodiscard]] Status load(const std::vector<config::LabelSchema>& schemas,
                            const std::vector<config::LabelingSession>& sessions);

  // ---- label schemas ----
  // Creates or (with overwrite) replaces an API schema. Errors: invalid_argument (validation),
  // already_exists (name taken, no overwrite; or defined in the config file).
  [[nodiscard]] Status put_schema(config::LabelSchema schema, bool overwrite);
  [[nodiscard]] std::optional<SchemaEntry> get_schema(std::string_view name) const;
  [[nodiscard]] std::vector<SchemaEntry> list_schemas() const;
  // Errors: not_found; conflict when defined in the config file or used by a session.
  [[nodiscard]] Status delete_schema(std::string_view name);

  // ---- labeling sessions (`ref` = labeling_session_id or name) ----
  // `spec`: name, label_schemas, assigned_users, reviews_per_item, lease_duration,
  // experiment_id; ids and times are made here. Errors: invalid_argument, already_exists.
  [[nodiscard]] Result<SessionView> create_session(SessionRecord spec);
  [[nodiscard]] Result<SessionView> get_session(std::string_view ref) const;
  [[nodiscard]] std::vector<SessionView> list_sessions() const;
  // Deletes the session and its items (their assessments stay on the traces). Errors:
  // not_found; conflict for a session defined in the config file.
  [[nodiscard]] Status delete_session(std::string_view ref);

  // ---- items ----
  // Adds traces (idempotent: one already in the session counts as already_present).
  [[nodiscard]] Result<AddResult> add_items(std::string_view ref,
                                            const std::vector<std::string>& trace_ids);
  // Adds the traces matching a search filter (through LabelingOptions::search).
  [[nodiscard]] Result<AddResult> add_items_matching(std::string_view ref, std::string_view filter);
  // Items in arrival order from seq `from` (1 = the start), optionally of one status.
  [[nodiscard]] Result<ItemPage> list_items(std::string_view ref, std::optional<ItemStatus> status,
                                            uint64_t from, size_t max_results) const;

  // ---- review ----
  // The next item for `reviewer` with a new lease, or nullopt when none is left for them.
  // Errors: not_found (session), permission_denied (not an assigned user).
  [[nodiscard]] Result<std::optional<ClaimResult>> claim(std::string_view ref,
                                                         std::string_view reviewer);
  // `labels`: {schema: value}, at least one; `comments` (may be null): {schema: text}.
  // Errors: invalid_argument (a label fails its schema), permission_denied, not_found,
  // conflict (stale, foreign or expired token), unavailable (Kafka did not acknowledge: retry
  // with the same token).
  [[nodiscard]] Result<SubmitResult> submit(std::string_view ref, std::string_view trace_id,
                                            std::string_view reviewer, std::string_view lease_token,
                                            const JsonTree& labels, const JsonTree* comments);
  [[nodiscard]] Result<SkipResult> skip(std::string_view ref, std::string_view trace_id,
                                        std::string_view reviewer, std::string_view lease_token);

  // ---- the review topic ----
  // Adds routed items (idempotent) and records `offsets` for `cluster_id` in the same write.
  // Items for a session that does not exist are kept as orphans and moved into the session if
  // one with that name is created later. Errors: io_error (nothing applied; retry the batch).
  [[nodiscard]] Status apply_routed(std::span<const RoutedItem> items, std::string_view cluster_id,
                                    std::span<const ConsumedOffset> offsets);

  // ---- metrics ----
  [[nodiscard]] std::vector<AgreementValue> agreement() const;
  [[nodiscard]] std::vector<SessionMetrics> session_metrics() const;
  // Routed items waiting for a session, by session name.
  [[nodiscard]] std::map<std::string, uint64_t> orphaned_items() const;
  [[nodiscard]] const LabelingStats& stats() const noexcept { return _stats; }

  // ---- SessionMembership ----
  [[nodiscard]] std::optional<SessionRun> find_run(std::string_view run_id) const override;
  [[nodiscard]] std::optional<std::vector<std::string>> traces_of_run(
      std::string_view run_id) const override;
  [[nodiscard]] std::vector<SessionRun> sessions_of_trace(std::string_view trace_id) const override;

 private:
  struct Session;
  using SessionPtr = std::shared_ptr<Session>;

  [[nodiscard]] SessionPtr find_session_locked(std::string_view ref) const;  // _mu held
  [[nodiscard]] Result<SessionPtr> resolve(std::string_view ref) const;
  [[nodiscard]] SessionView view_locked(Session& s,
                                        int64_t now_ms) const;  // _mu shared + s.mu held
  [[nodiscard]] std::vector<SchemaAgreement> agreement_locked(Session& s) const;
  [[nodiscard]] Status write_item(std::string_view session_id, const Item& item);
  [[nodiscard]] Result<AddResult> add_traces(Session& s, const std::vector<std::string>& trace_ids);
  [[nodiscard]] Status adopt_orphans_locked(Session& s, state::WriteBatch* batch,
                                            std::vector<Item>* adopted);
  [[nodiscard]] static Status validate_session_spec(const SessionRecord& spec);
  [[nodiscard]] int64_t now_ms() const;

  state::Store& _store;
  EventSink& _sink;
  Clock& _clock;
  LabelingOptions _options;
  mutable LabelingStats _stats;  // counted in const readers too (lease expiry)

  mutable std::shared_mutex _mu;  // guards the maps below and serialises registry changes
  std::map<std::string, std::shared_ptr<const SchemaEntry>, std::less<>> _schemas;
  std::map<std::string, SessionPtr, std::less<>> _sessions;      // by id
  std::map<std::string, std::string, std::less<>> _session_ids;  // name → id
  mutable std::mutex _orphan_mu;  // guards _orphans (apply_routed changes it under a shared _mu)
  std::map<std::string, uint64_t, std::less<>> _orphans;  // session name → routed items waiting
};

}  // namespace tracefeed::labeling
