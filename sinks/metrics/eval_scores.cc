#include "sinks/metrics/eval_scores.h"

#include <cmath>

#include "sinks/metrics/feedback_value.h"

namespace tracefeed::quality {

Result<std::unique_ptr<EvalScores>> EvalScores::create(metrics::Metrics& metrics, EvalScoresOptions options) {
  if (options.window == 0 || options.max_scorers == 0) {
    return Status::invalid_argument("eval scores: window and max_scorers must be at least 1");
  }
  std::unique_ptr<EvalScores> e(new EvalScores(options));
  auto* self = e.get();
  TF_ASSIGN_OR_RETURN(e->_source, metrics.add_source(metrics::names::eval_score, [self](std::vector<metrics::Sample>& out) {
    std::lock_guard lock(self->_mu);
    for (const auto& [name, r] : self->_scorers) {
      // The sum is recomputed here, not kept running: a long run of adds and removes in floating
      // point drifts, and a scrape is rare next to record().
      double sum = 0;
      for (double v : r.ring) sum += v;
      out.push_back({{name}, sum / static_cast<double>(r.ring.size())});
    }
  }));
  return e;
}

EvalScores::~EvalScores() { _source.reset(); }

void EvalScores::record(std::string_view scorer, double value) {
  if (!std::isfinite(value)) return;
  std::string_view label = truncate_utf8(scorer, 64);
  std::lock_guard lock(_mu);
  auto it = _scorers.find(label);
  if (it == _scorers.end()) {
    const size_t named = _scorers.size() - _scorers.count(kOtherLabel);
    if (named >= _options.max_scorers) {
      label = kOtherLabel;
      it = _scorers.find(label);
    }
    if (it == _scorers.end()) it = _scorers.emplace(std::string(label), Recent{}).first;
  }
  Recent& r = it->second;
  if (r.ring.size() < _options.window) {
    r.ring.push_back(value);
  } else {
    r.ring[r.next] = value;
  }
  r.next = (r.next + 1) % _options.window;
}

std::optional<double> EvalScores::mean(std::string_view scorer) const {
  std::lock_guard lock(_mu);
  auto it = _scorers.find(truncate_utf8(scorer, 64));
  if (it == _scorers.end() || it->second.ring.empty()) return std::nullopt;
  double sum = 0;
  for (double v : it->second.ring) sum += v;
  return sum / static_cast<double>(it->second.ring.size());
}

}  // namespace tracefeed::quality
