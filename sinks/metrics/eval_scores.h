#pragma once
// EvalScores: tracefeed_eval_score{scorer}, the mean of each scorer's most recent scores.
//
// The evaluator reports every numeric score as it is made (EvaluatorHooks::on_score: "yes" = 1,
// "no" = 0, numbers as they are), from one-off runs and from continuous rules alike. The gauge
// is the mean of the last `window` scores of each scorer — not a time window, because
// evaluations are bursty (a run scores a dataset in a minute, then nothing for a day) and the
// dashboard should keep showing the latest quality between them.
//
// Cardinality guard: scorer names come from requests, so at most `max_scorers` get their own
// series; later ones count as scorer="other"; names are cut to 64 bytes.
//
// Threads: record() from the evaluator's scoring threads, the source on the scraping HTTP
// worker; one mutex.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/metrics.h"

namespace tracefeed::quality {

struct EvalScoresOptions {
  // Scores per scorer the mean is over. Default: 100.
  size_t window = 100;
  // Scorers with their own series. Default: 100.
  size_t max_scorers = 100;
};

class EvalScores {
 public:
  // Registers the tracefeed_eval_score source; `metrics` must outlive this object.
  // Errors: invalid_argument for a zero window or max_scorers.
  [[nodiscard]] static Result<std::unique_ptr<EvalScores>> create(metrics::Metrics& metrics, EvalScoresOptions options = {});
  ~EvalScores();
  EvalScores(const EvalScores&) = delete;
  EvalScores& operator=(const EvalScores&) = delete;

  // One score of `scorer`. Non-finite values are ignored.
  void record(std::string_view scorer, double value);
  // The current mean of `scorer` (as labelled), or nullopt without scores (tests).
  [[nodiscard]] std::optional<double> mean(std::string_view scorer) const;

 private:
  struct Recent {
    std::vector<double> ring;  // up to window values
    size_t next = 0;           // where the next value goes once the ring is full
  };
  explicit EvalScores(EvalScoresOptions options) : _options(options) {}

  EvalScoresOptions _options;
  mutable std::mutex _mu;
  std::map<std::string, Recent, std::less<>> _scorers;  // guarded by _mu
  metrics::SourceRegistration _source;                  // last: gone before the state it reads
};

}  // namespace tracefeed::quality
