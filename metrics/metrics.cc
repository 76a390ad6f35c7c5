#include "metrics/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cassert>
#include <map>
#include <sstream>

namespace tracefeed::metrics {
namespace {

constexpr std::string_view kType[] = {"type"};
constexpr std::string_view kReason[] = {"reason"};
constexpr std::string_view kTopicPartition[] = {"topic", "partition"};
constexpr std::string_view kNameValue[] = {"name", "value"};
constexpr std::string_view kName[] = {"name"};
constexpr std::string_view kSession[] = {"session"};
constexpr std::string_view kSessionReviewer[] = {"session", "reviewer"};
constexpr std::string_view kScorer[] = {"scorer"};
constexpr std::string_view kSessionSchema[] = {"session", "schema"};

constexpr std::span<const std::string_view> none() { return {}; }

// PRODUCT.md §7. HELP texts say the unit and what one sample means; docs/metrics.md says more.
constexpr FamilyInfo kCatalog[] = {
    {names::events_ingested_total, Kind::counter, kType,
     "Events newly acknowledged by Kafka, by event type (a retry acknowledged again from the dedup window is not counted twice).",
     "producers/publish (KafkaEventSink)"},
    {names::events_rejected_total, Kind::counter, kReason,
     "Events refused, by reason (invalid_event, malformed_body, unsupported_media_type, too_many_events, unavailable, publish_failed).",
     "producers/publish (unavailable, publish_failed); the gateway's validation (the other reasons)"},
    {names::consumer_lag, Kind::gauge, kTopicPartition,
     "Records between a consumer group's committed offset and the partition's high watermark (every instance of a group reports every partition: aggregate with max).",
     "apps::LagMonitor (join, labeling and eval-sink groups) through a ConsumerLagTable source"},
    {names::join_pending_assessments, Kind::gauge, none(),
     "Assessments waiting in the join for their trace to arrive.", "processors/join (source)"},
    {names::join_orphaned_assessments_total, Kind::counter, none(),
     "Assessments the join marked orphaned: still waiting for their trace join.orphan_timeout after they were created (they still join if it comes).",
     "processors/join (OrphanSweep), read at scrape time"},
    {names::route_latency_seconds, Kind::histogram, none(),
     "Seconds from the event that got a trace routed (the assessment's event time) to the trace being claimable in a labeling session.",
     "sinks/labeling"},
    {names::state_bytes, Kind::gauge, none(),
     "Bytes of RocksDB state (SST files + memtables) of every store of this process.", "state::Store (source)"},
    {names::feedback_total, Kind::counter, kNameValue,
     "Valid feedback applied by the join, by assessment name and bounded value label.",
     "sinks/metrics (FeedbackMetrics, called by the join)"},
    {names::negative_feedback_ratio, Kind::gauge, kName,
     "Share of negative feedback among valid feedback created within the ratio window, by assessment name.",
     "sinks/metrics (FeedbackMetrics, source)"},
    {names::review_queue_depth, Kind::gauge, kSession,
     "Items of a labeling session waiting to be claimed (pending).", "sinks/labeling (source)"},
    {names::review_item_age_seconds, Kind::gauge, kSession,
     "Age in seconds of the oldest pending item of a labeling session (0 when none).", "sinks/labeling (source)"},
    {names::reviews_completed_total, Kind::counter, kSessionReviewer,
     "Reviews submitted in a labeling session, by reviewer.", "sinks/labeling (source over its stored progress)"},
    {names::eval_score, Kind::gauge, kScorer,
     "Mean of the last 100 scores of each scorer (yes/pass = 1, no/fail = 0), from evaluation runs and rules.",
     "sinks/metrics (EvalScores, fed by the evaluator's on_score hook; source)"},
    {names::label_agreement, Kind::gauge, kSessionSchema,
     "Observed agreement (0-1) of reviewers' labels on items with two or more reviews, by session and schema.",
     "sinks/labeling (source)"},
};

prometheus::MetricType to_prometheus(Kind k) {
  switch (k) {
    case Kind::counter: return prometheus::MetricType::Counter;
    case Kind::gauge: return prometheus::MetricType::Gauge;
    case Kind::histogram: return prometheus::MetricType::Histogram;
  }
  return prometheus::MetricType::Untyped;
}

std::string help_of(std::string_view name) { return std::string(find_family(name)->help); }

// The value a counter or gauge sample carries.
double& value_of(prometheus::ClientMetric& m, Kind k) { return k == Kind::counter ? m.counter.value : m.gauge.value; }

}  // namespace

std::span<const FamilyInfo> catalog() noexcept { return kCatalog; }

const FamilyInfo* find_family(std::string_view name) noexcept {
  for (const auto& f : kCatalog) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// --- SourceRegistration ---

SourceRegistration::SourceRegistration(SourceRegistration&& other) noexcept
    : _owner(std::exchange(other._owner, nullptr)), _id(other._id) {}

SourceRegistration& SourceRegistration::operator=(SourceRegistration&& other) noexcept {
  if (this != &other) {
    reset();
    _owner = std::exchange(other._owner, nullptr);
    _id = other._id;
  }
  return *this;
}

void SourceRegistration::reset() {
  if (_owner) std::exchange(_owner, nullptr)->remove_source(_id);
}

// --- Metrics ---

Metrics::Metrics(const config::MetricsOptions& options) : _registry(std::make_unique<prometheus::Registry>()) {
  using std::string;
  _ingested_family = &prometheus::BuildCounter()
                          .Name(string(names::events_ingested_total))
                          .Help(help_of(names::events_ingested_total))
                          .Register(*_registry);
  for (EventType t : {EventType::trace, EventType::assessment, EventType::assessment_update, EventType::assessment_delete}) {
    _ingested[static_cast<size_t>(t)] = &_ingested_family->Add({{"type", string(to_string(t))}});
  }
  _rejected_family = &prometheus::BuildCounter()
                          .Name(string(names::events_rejected_total))
                          .Help(help_of(names::events_rejected_total))
                          .Register(*_registry);
  _feedback_family = &prometheus::BuildCounter()
                          .Name(string(names::feedback_total))
                          .Help(help_of(names::feedback_total))
                          .Register(*_registry);
  auto& latency = prometheus::BuildHistogram()
                      .Name(string(names::route_latency_seconds))
                      .Help(help_of(names::route_latency_seconds))
                      .Register(*_registry);
  _route_latency = &latency.Add({}, prometheus::Histogram::BucketBoundaries(options.route_latency_buckets_seconds));
}

Metrics::~Metrics() = default;

prometheus::Counter& Metrics::events_ingested(EventType type) noexcept { return *_ingested[static_cast<size_t>(type)]; }

prometheus::Counter& Metrics::events_rejected(std::string_view reason) {
  return _rejected_family->Add({{"reason", std::string(reason)}});
}

prometheus::Histogram& Metrics::route_latency() noexcept { return *_route_latency; }

void Metrics::observe_route_latency(Clock::time_point claimable_at, UnixNanos event_time) noexcept {
  const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(claimable_at.time_since_epoch()).count();
  const int64_t d = now_ns - event_time;
  _route_latency->Observe(d > 0 ? static_cast<double>(d) / 1e9 : 0.0);
}

prometheus::Counter& Metrics::feedback(std::string_view name, std::string_view value) {
  return _feedback_family->Add({{"name", std::string(name)}, {"value", std::string(value)}});
}

Result<SourceRegistration> Metrics::add_source(std::string_view family, SampleSource source) {
  const FamilyInfo* info = find_family(family);
  if (!info) return Status::invalid_argument("metrics: no family named " + std::string(family));
  if (info->kind == Kind::histogram) {
    return Status::invalid_argument("metrics: " + std::string(family) + " is a histogram; observe it through its handle");
  }
  if (!source) return Status::invalid_argument("metrics: empty source for " + std::string(family));
  std::lock_guard lock(_sources_mu);
  const uint64_t id = _next_id++;
  _sources.push_back({id, info, std::move(source)});
  return SourceRegistration(this, id);
}

void Metrics::remove_source(uint64_t id) {
  std::lock_guard lock(_sources_mu);
  std::erase_if(_sources, [id](const Source& s) { return s.id == id; });
}

std::vector<prometheus::MetricFamily> Metrics::collect() const {
  std::vector<prometheus::MetricFamily> owned = _registry->Collect();
  std::vector<prometheus::MetricFamily> out;
  out.reserve(std::size(kCatalog));
  std::vector<Sample> samples;
  std::lock_guard lock(_sources_mu);
  for (const FamilyInfo& info : kCatalog) {
    prometheus::MetricFamily& f = out.emplace_back();
    f.name = std::string(info.name);
    f.help = std::string(info.help);
    f.type = to_prometheus(info.kind);
    for (auto& o : owned) {
      if (o.name == f.name) f.metric = std::move(o.metric);
    }
    if (info.kind == Kind::histogram) continue;

    // Samples with equal labels are summed; labels are kept sorted by name, as the registry's are.
    std::map<std::vector<prometheus::ClientMetric::Label>, size_t> index;
    for (size_t i = 0; i < f.metric.size(); ++i) {
      auto labels = f.metric[i].label;
      std::sort(labels.begin(), labels.end());
      index.emplace(std::move(labels), i);
    }
    for (const Source& s : _sources) {
      if (s.family != &info) continue;
      samples.clear();
      s.fn(samples);
      for (Sample& sample : samples) {
        // One value per label name is the source's contract; a source that breaks it is a bug
        // caught by tests (debug builds), and its sample is left out rather than mislabelled.
        assert(sample.label_values.size() == info.labels.size());
        if (sample.label_values.size() != info.labels.size()) continue;
        std::vector<prometheus::ClientMetric::Label> labels;
        labels.reserve(info.labels.size());
        for (size_t l = 0; l < info.labels.size(); ++l) {
          labels.push_back({std::string(info.labels[l]), std::move(sample.label_values[l])});
        }
        std::sort(labels.begin(), labels.end());
        auto [it, fresh] = index.try_emplace(labels, f.metric.size());
        if (fresh) {
          prometheus::ClientMetric& m = f.metric.emplace_back();
          m.label = std::move(labels);
          value_of(m, info.kind) = sample.value;
        } else {
          value_of(f.metric[it->second], info.kind) += sample.value;
        }
      }
    }
  }
  return out;
}

std::string Metrics::text() const {
  std::ostringstream os;
  prometheus::TextSerializer().Serialize(os, collect());
  return std::move(os).str();
}

}  // namespace tracefeed::metrics
