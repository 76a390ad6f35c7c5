#pragma once
// tracefeed's Prometheus metrics: every family of PRODUCT.md §7 (the names are a contract), in
// one prometheus::Registry, exposed in the text format by metrics/exposition.h.
//
// Two ways a family gets its samples:
//  - handles: a component asks once for a prometheus::Counter/Histogram& with its label
//    values and keeps it; the hot path is then one atomic add (PLATFORM.md: ~8 ns a counter
//    increment, ~32 ns a histogram observation) — never a label lookup per event.
//  - sources: a callback the owning component registers (add_source) and that runs at scrape
//    time, for values that are state rather than events (queue depth, oldest item age, state
//    bytes, consumer lag, pending joins, agreement, the windowed ratio and score means of
//    sinks/metrics) and for counts a component already keeps durably (reviews completed, from
//    the labeling sink's stored progress, survive restarts).
//    Sources keep metrics/ free of any dependency on the modules above it: the wiring
//    (apps/runtime.cc) passes the closures in.
// Samples with equal label values are summed, across sources and handles alike, so several
// components (two stores, two join processors) can feed one series.
//
// Threads: every method is thread-safe. Handles stay valid for the life of the Metrics object.
// Sources run on the scraping HTTP worker with the source table locked: they must be quick,
// thread-safe and must not call back into this Metrics object (add_source, collect).

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/model.h"
#include "core/result.h"

namespace prometheus {
class Counter;
class Histogram;
class Registry;
struct MetricFamily;
template <typename T>
class Family;
}  // namespace prometheus

namespace tracefeed::metrics {

enum class Kind : uint8_t { counter, gauge, histogram };

// One family of the contract: its name, type, label names (in this order for Sample values),
// HELP text, and which component updates it. docs/metrics.md is written from the same words.
struct FamilyInfo {
  std::string_view name;
  Kind kind;
  std::span<const std::string_view> labels;
  std::string_view help;
  std::string_view updated_by;
};

// Every family of PRODUCT.md §7, in exposition order.
[[nodiscard]] std::span<const FamilyInfo> catalog() noexcept;
// The catalog entry named `name`, or nullptr.
[[nodiscard]] const FamilyInfo* find_family(std::string_view name) noexcept;

// The metric family names PRODUCT.md §7 fixes.
namespace names {
inline constexpr std::string_view events_ingested_total = "tracefeed_events_ingested_total";
inline constexpr std::string_view events_rejected_total = "tracefeed_events_rejected_total";
inline constexpr std::string_view consumer_lag = "tracefeed_consumer_lag";
inline constexpr std::string_view join_pending_assessments = "tracefeed_join_pending_assessments";
inline constexpr std::string_view join_orphaned_assessments_total = "tracefeed_join_orphaned_assessments_total";
inline constexpr std::string_view route_latency_seconds = "tracefeed_route_latency_seconds";
inline constexpr std::string_view state_bytes = "tracefeed_state_bytes";
inline constexpr std::string_view feedback_total = "tracefeed_feedback_total";
inline constexpr std::string_view negative_feedback_ratio = "tracefeed_negative_feedback_ratio";
inline constexpr std::string_view review_queue_depth = "tracefeed_review_queue_depth";
inline constexpr std::string_view review_item_age_seconds = "tracefeed_review_item_age_seconds";
inline constexpr std::string_view reviews_completed_total = "tracefeed_reviews_completed_total";
inline constexpr std::string_view eval_score = "tracefeed_eval_score";
inline constexpr std::string_view label_agreement = "tracefeed_label_agreement";
}  // namespace names

// One sample from a source: label values in the order of FamilyInfo::labels, and the value.
struct Sample {
  std::vector<std::string> label_values;
  double value = 0;
};
// Appends the family's current samples to `out`. Runs on the scraping thread (see above).
using SampleSource = std::function<void(std::vector<Sample>& out)>;

class Metrics;

// Keeps a source registered; destroying (or reset()) removes it, waiting for a scrape that is
// running it. Destroy it before whatever the source reads — and not while holding a lock the
// source takes. Move-only.
class SourceRegistration {
 public:
  SourceRegistration() = default;
  ~SourceRegistration() { reset(); }
  SourceRegistration(SourceRegistration&& other) noexcept;
  SourceRegistration& operator=(SourceRegistration&& other) noexcept;
  SourceRegistration(const SourceRegistration&) = delete;
  SourceRegistration& operator=(const SourceRegistration&) = delete;

  void reset();
  [[nodiscard]] bool active() const noexcept { return _owner != nullptr; }

 private:
  friend class Metrics;
  SourceRegistration(Metrics* owner, uint64_t id) : _owner(owner), _id(id) {}
  Metrics* _owner = nullptr;
  uint64_t _id = 0;
};

class Metrics {
 public:
  // `options.route_latency_buckets_seconds` are the histogram's upper bounds (validated by
  // config: positive, increasing). Other fields are for the exposition route.
  explicit Metrics(const config::MetricsOptions& options = {});
  ~Metrics();  // every SourceRegistration must be gone by now
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // --- operations ---

  // tracefeed_events_ingested_total{type}: events newly acknowledged by Kafka. The four types
  // exist from the start (zeros are visible); O(1), no lookup.
  [[nodiscard]] prometheus::Counter& events_ingested(EventType type) noexcept;
  // tracefeed_events_rejected_total{reason}: get-or-create (a locked map lookup): keep the handle.
  [[nodiscard]] prometheus::Counter& events_rejected(std::string_view reason);
  // tracefeed_route_latency_seconds: the event time of the assessment that got a trace routed →
  // the trace claimable in a labeling session.
  [[nodiscard]] prometheus::Histogram& route_latency() noexcept;
  // Observes `claimable_at − event_time` (clamped at 0: a client clock ahead of ours must not
  // produce negative latencies).
  void observe_route_latency(Clock::time_point claimable_at, UnixNanos event_time) noexcept;

  // --- quality ---

  // tracefeed_feedback_total{name,value}. Callers bound the label values (sinks/metrics does).
  [[nodiscard]] prometheus::Counter& feedback(std::string_view name, std::string_view value);

  // --- sources ---

  // Registers `source` for the catalog family `family` (counter or gauge; not a histogram).
  // Errors: invalid_argument for an unknown family or a histogram.
  [[nodiscard]] Result<SourceRegistration> add_source(std::string_view family, SampleSource source);

  // --- exposition ---

  // Every catalog family, in catalog order, with handles' and sources' samples merged. A family
  // without samples is still listed (HELP and TYPE lines only), so every contract name is
  // discoverable from the first scrape.
  [[nodiscard]] std::vector<prometheus::MetricFamily> collect() const;
  // collect() in the Prometheus text format 0.0.4.
  [[nodiscard]] std::string text() const;

 private:
  friend class SourceRegistration;
  void remove_source(uint64_t id);

  struct Source {
    uint64_t id;
    const FamilyInfo* family;
    SampleSource fn;
  };

  std::unique_ptr<prometheus::Registry> _registry;
  prometheus::Family<prometheus::Counter>* _ingested_family = nullptr;
  prometheus::Family<prometheus::Counter>* _rejected_family = nullptr;
  prometheus::Family<prometheus::Counter>* _feedback_family = nullptr;
  prometheus::Counter* _ingested[4] = {};
  prometheus::Histogram* _route_latency = nullptr;

  mutable std::mutex _sources_mu;  // guards _sources and _next_id; held while sources run
  std::vector<Source> _sources;
  uint64_t _next_id = 1;
};

}  // namespace tracefeed::metrics
