#pragma once
// TrafficGenerator: realistic envelopes for loadgen — chatbot traces with 1-5 spans (a CHAIN root,
// then RETRIEVER, CHAT_MODEL, TOOL, PARSER children), end-user thumbs up/down feedback with a
// configurable thumbs-down share, some feedback sent before its trace (the join's "pending"
// path), and some exact duplicates (same event_id: the idempotency path).
//
// Deterministic for a seed, apart from timestamps (from the Clock). Not thread-safe.

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "core/model.h"

namespace tracefeed::emit {

struct TrafficOptions {
  // Share of traces that get an end-user feedback event. Default: 1.0.
  double feedback_ratio = 1.0;
  // Share of feedback that is a thumbs-down (value false). Default: 0.2.
  double thumbs_down_ratio = 0.2;
  // Share of feedback sent before its trace. Default: 0.1.
  double feedback_first_ratio = 0.1;
  // Share of events sent twice with the same event_id. Default: 0.01.
  double duplicate_ratio = 0.01;
  // Spans per trace, uniform in [min_spans, max_spans] (1..5). Defaults: 1, 5.
  int min_spans = 1;
  int max_spans = 5;
  // Distinct end users (mlflow.trace.user, feedback source_id). Default: 1000.
  int users = 1000;
  // Seed of ids and choices. Default: 1.
  uint64_t seed = 1;
};

struct GeneratedEvent {
  EventType type = EventType::trace;
  std::string event_id;
  std::string trace_id;
  std::string json;  // the envelope, one line, no newline
};

struct TrafficCounts {
  uint64_t traces = 0, spans = 0, feedback = 0, thumbs_down = 0, feedback_first = 0, duplicates = 0;
};

class TrafficGenerator {
 public:
  TrafficGenerator(TrafficOptions options, const Clock& clock);

  // Appends the events of one user interaction (a trace and maybe its feedback, maybe a
  // duplicate) in the order to send them. Reuses `out`'s strings when it can.
  void next_interaction(std::vector<GeneratedEvent>& out);

  [[nodiscard]] const TrafficCounts& counts() const noexcept { return _counts; }

 private:
  bool chance(double p);
  UnixNanos now_ns() const;
  void serialize(const Envelope& e, GeneratedEvent& out);

  const TrafficOptions _options;
  const Clock& _clock;
  IdGenerator _ids;
  std::mt19937_64 _rng;
  TrafficCounts _counts;
};

}  // namespace tracefeed::emit
