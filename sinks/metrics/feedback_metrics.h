#pragma once
// FeedbackMetrics: tracefeed_feedback_total{name,value} and tracefeed_negative_feedback_ratio{name}
// from the assessments the join applies.
//
// Why in the join and not a separate consumer of `assessments`: only the join knows whether an
// assessment still counts — an override marks the old one invalid, a delete removes it, an
// update changes its value — and it already holds both versions when it applies the change.
// The join calls on_assessment_applied(before, after) for every assessment it stores or
// removes; this class works out what changed.
//
// What counts: a Feedback (not an Expectation) that is valid, has a value and no error. Its
// value is classified by feedback_value.h.
//  - tracefeed_feedback_total{name,value} (counter) goes up each time a feedback starts counting
//    with a value: created, its value changed by an update, or restored because the override
//    that replaced it was deleted. Counters never go down: an override shows as one more
//    feedback with the new value.
//  - tracefeed_negative_feedback_ratio{name} (gauge) = negative / all, over the counting feedback
//    whose create_time lies in the last `ratio_window`. An override or delete takes the old
//    feedback out of its window bucket again, so the ratio reflects what is valid now. A name
//    with no feedback in the window has no sample. A create_time in the future counts as now;
//    one older than the window counts in feedback_total only.
//
// Cardinality guard (Prometheus keeps every label combination forever):
//  - at most `max_names` assessment names get their own series; later names count as
//    name="other" (the first names seen keep theirs until restart);
//  - at most `max_values_per_name` distinct value labels per name; later ones count as
//    value="other"; labels are cut to `value.max_label_bytes` (64), names to the same bound;
//  - numbers are rounded to one decimal (0–1 scores → at most 11 labels), non-scalars are
//    "other".
// So the feedback_total family has at most (max_names + 1) × (max_values_per_name + 1) series.
//
// State lives in memory: after a restart the counters start from 0 (Prometheus' rate() handles
// resets) and the ratio window refills from new feedback; an invalidation of feedback counted
// before the restart is clamped so no bucket goes below zero.
//
// Threads: on_assessment_applied() from the join's owner thread(s); the ratio source runs on the
// scraping HTTP worker. One mutex guards the state (uncontended on the event path).

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/model.h"
#include "metrics/metrics.h"
#include "sinks/metrics/feedback_value.h"

namespace tracefeed::quality {

struct FeedbackMetricsOptions {
  FeedbackValueRules value;
  // Assessment names with their own series. Default: 100.
  size_t max_names = 100;
  // Distinct value labels per name (not counting "other"). Default: 20.
  size_t max_values_per_name = 20;
  // The window of tracefeed_negative_feedback_ratio, by create_time, kept in 60 buckets (so the
  // ratio moves in steps of window/60). Default: 15 minutes.
  std::chrono::seconds ratio_window{std::chrono::minutes(15)};
};

class FeedbackMetrics {
 public:
  // Registers the ratio source on `metrics`; `metrics` and `clock` must outlive this object.
  // Errors: invalid_argument for a ratio_window under 60 s or a zero max_names.
  [[nodiscard]] static Result<std::unique_ptr<FeedbackMetrics>> create(metrics::Metrics& metrics, Clock& clock,
                                                                      FeedbackMetricsOptions options = {});
  ~FeedbackMetrics();
  FeedbackMetrics(const FeedbackMetrics&) = delete;
  FeedbackMetrics& operator=(const FeedbackMetrics&) = delete;

  // One assessment changed in the join's state: `before` is what was stored (nullptr when it is
  // new), `after` what is stored now (nullptr when it was deleted). Either may be an expectation
  // or invalid; only counting feedback matters. The join calls it once per stored change:
  //   create                  (nullptr, &created)
  //   create overriding X     (nullptr, &created) and (&X as it was, &X with valid=false)
  //   update                  (&stored, &updated)
  //   delete                  (&stored, nullptr)
  //   delete of override of X (&deleted, nullptr) and (&X invalid, &X with valid=true)
  void on_assessment_applied(const Assessment* before, const Assessment* after);

  // The ratio of `name` (as labelled) over the window now, or -1 without feedback in it (tests).
  [[nodiscard]] double negative_ratio(std::string_view name) const;

 private:
  static constexpr size_t kBuckets = 60;
  struct Bucket {
    int64_t index = -1;  // create_time / bucket width; -1 = empty
    int64_t all = 0;
    int64_t negative = 0;
  };
  struct ValueSlot {
    std::string label;
    prometheus::Counter* counter;
  };
  struct NameState {
    std::string label;
    std::vector<ValueSlot> values;
    prometheus::Counter* other_value = nullptr;
    Bucket window[kBuckets];
  };
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>()(s); }
  };

  FeedbackMetrics(metrics::Metrics& metrics, Clock& clock, FeedbackMetricsOptions options);
  static bool counts(const Assessment* a) noexcept;
  NameState& state_for(std::string_view name);
  prometheus::Counter& counter_for(NameState& s, std::string_view value_label);
  void add_to_window(NameState& s, UnixNanos create_time, int delta, bool negative);
  int64_t now_index() const;
  double ratio_locked(const NameState& s, int64_t now) const;

  metrics::Metrics& _metrics;
  Clock& _clock;
  FeedbackMetricsOptions _options;
  int64_t _bucket_ns;

  mutable std::mutex _mu;  // guards everything below
  std::unordered_map<std::string, NameState*, NameHash, std::equal_to<>> _by_name;
  std::deque<NameState> _states;  // stable addresses; the "other" name is _states[0]
  FeedbackValueClass _scratch;

  // Last, so it is gone before the state its source reads (the destructor also resets it first).
  metrics::SourceRegistration _ratio_source;
};

}  // namespace tracefeed::quality
