#include "sinks/metrics/feedback_metrics.h"

#include <prometheus/counter.h>

#include <variant>

namespace tracefeed::quality {

Result<std::unique_ptr<FeedbackMetrics>> FeedbackMetrics::create(metrics::Metrics& metrics, Clock& clock,
                                                                 FeedbackMetricsOptions options) {
  if (options.ratio_window < std::chrono::seconds(static_cast<int64_t>(kBuckets))) {
    return Status::invalid_argument("feedback metrics: ratio_window must be at least 60 s");
  }
  if (options.max_names == 0) return Status::invalid_argument("feedback metrics: max_names must be at least 1");
  std::unique_ptr<FeedbackMetrics> m(new FeedbackMetrics(metrics, clock, std::move(options)));
  auto* self = m.get();
  TF_ASSIGN_OR_RETURN(m->_ratio_source,
                      metrics.add_source(metrics::names::negative_feedback_ratio, [self](std::vector<metrics::Sample>& out) {
                        std::lock_guard lock(self->_mu);
                        const int64_t now = self->now_index();
                        for (const NameState& s : self->_states) {
                          const double r = self->ratio_locked(s, now);
                          if (r >= 0) out.push_back({{s.label}, r});
                        }
                      }));
  return m;
}

FeedbackMetrics::FeedbackMetrics(metrics::Metrics& metrics, Clock& clock, FeedbackMetricsOptions options)
    : _metrics(metrics),
      _clock(clock),
      _options(std::move(options)),
      _bucket_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(_options.ratio_window).count() /
                 static_cast<int64_t>(kBuckets)) {
  // Names past the cap, and a feedback really named "other", share one state: two states with
  // one label would expose two ratio samples that the registry would add up.
  NameState& other = _states.emplace_back();
  other.label = std::string(kOtherLabel);
  _by_name.emplace(other.label, &other);
}

FeedbackMetrics::~FeedbackMetrics() { _ratio_source.reset(); }

bool FeedbackMetrics::counts(const Assessment* a) noexcept {
  if (!a || !a->valid) return false;
  const auto* f = std::get_if<Feedback>(&a->value);
  return f && !f->value.empty() && !f->error;
}

FeedbackMetrics::NameState& FeedbackMetrics::state_for(std::string_view name) {
  const std::string_view label = truncate_utf8(name, _options.value.max_label_bytes);
  if (auto it = _by_name.find(label); it != _by_name.end()) return *it->second;
  if (_states.size() - 1 >= _options.max_names) return _states.front();
  NameState& s = _states.emplace_back();
  s.label = std::string(label);
  _by_name.emplace(s.label, &s);
  return s;
}

prometheus::Counter& FeedbackMetrics::counter_for(NameState& s, std::string_view value_label) {
  for (ValueSlot& v : s.values) {
    if (v.label == value_label) return *v.counter;
  }
  if (s.values.size() < _options.max_values_per_name && value_label != kOtherLabel) {
    return *s.values.emplace_back(ValueSlot{std::string(value_label), &_metrics.feedback(s.label, value_label)}).counter;
  }
  if (!s.other_value) s.other_value = &_metrics.feedback(s.label, kOtherLabel);
  return *s.other_value;
}

int64_t FeedbackMetrics::now_index() const {
  const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(_clock.now().time_since_epoch()).count();
  return now_ns / _bucket_ns;
}

void FeedbackMetrics::add_to_window(NameState& s, UnixNanos create_time, int delta, bool negative) {
  const int64_t now = now_index();
  int64_t index = create_time / _bucket_ns;
  if (index > now) index = now;
  if (index <= now - static_cast<int64_t>(kBuckets) || index < 0) return;  // older than the window
  Bucket& b = s.window[static_cast<size_t>(index) % kBuckets];
  if (b.index != index) {
    if (delta < 0) return;  // its bucket was already recycled (or predates a restart)
    b = Bucket{index, 0, 0};
  }
  b.all = std::max<int64_t>(0, b.all + delta);
  if (negative) b.negative = std::max<int64_t>(0, b.negative + delta);
}

double FeedbackMetrics::ratio_locked(const NameState& s, int64_t now) const {
  int64_t all = 0, negative = 0;
  for (const Bucket& b : s.window) {
    if (b.index > now - static_cast<int64_t>(kBuckets) && b.index <= now) {
      all += b.all;
      negative += b.negative;
    }
  }
  if (all == 0) return -1;
  return static_cast<double>(std::min(negative, all)) / static_cast<double>(all);
}

void FeedbackMetrics::on_assessment_applied(const Assessment* before, const Assessment* after) {
  const bool was = counts(before);
  const bool is = counts(after);
  if (!was && !is) return;
  if (was && is && before->assessment_name == after->assessment_name && before->create_time == after->create_time &&
      std::get<Feedback>(before->value).value == std::get<Feedback>(after->value).value) {
    return;  // rationale, metadata or source changed: nothing the metrics show
  }
  std::lock_guard lock(_mu);
  if (was) {
    classify_feedback_value(std::get<Feedback>(before->value).value, _options.value, _scratch);
    add_to_window(state_for(before->assessment_name), before->create_time, -1, _scratch.negative);
  }
  if (is) {
    classify_feedback_value(std::get<Feedback>(after->value).value, _options.value, _scratch);
    NameState& s = state_for(after->assessment_name);
    counter_for(s, _scratch.label).Increment();
    add_to_window(s, after->create_time, +1, _scratch.negative);
  }
}

double FeedbackMetrics::negative_ratio(std::string_view name) const {
  std::lock_guard lock(_mu);
  auto it = _by_name.find(truncate_utf8(name, _options.value.max_label_bytes));
  if (it == _by_name.end()) return -1;
  return ratio_locked(*it->second, now_index());
}

}  // namespace tracefeed::quality
