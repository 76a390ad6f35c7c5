#pragma once
// Score: what one scorer says about one record — MLflow's Feedback: a value ("yes"/"no" or a
// number) with a rationale, or an error, and the source that produced it (LLM_JUDGE + the judge
// model, or CODE + the scorer). It becomes an assessment on the record's trace.

#include <optional>
#include <string>
#include <string_view>

#include "core/json_writer.h"
#include "core/model.h"

namespace tracefeed::evaluate {

// Error codes a Score can carry (feedback.error.error_code).
inline constexpr std::string_view kMissingExpectation = "MISSING_EXPECTATION";
inline constexpr std::string_view kMissingInputs = "MISSING_INPUTS";
inline constexpr std::string_view kMissingOutputs = "MISSING_OUTPUTS";
inline constexpr std::string_view kMissingRetrieverSpan = "MISSING_RETRIEVER_SPAN";
inline constexpr std::string_view kMissingLatency = "MISSING_LATENCY";
inline constexpr std::string_view kJudgeNotConfigured = "JUDGE_NOT_CONFIGURED";
inline constexpr std::string_view kJudgeError = "JUDGE_ERROR";              // transport, HTTP status, timeout
inline constexpr std::string_view kJudgeParseError = "JUDGE_PARSE_ERROR";  // the answer is not a verdict
inline constexpr std::string_view kScorerError = "SCORER_ERROR";           // an HTTP scorer failed

struct Score {
  std::string name;  // the assessment name (the scorer's name)
  Feedback feedback; // value (canonical JSON) or error
  std::string rationale;
  AssessmentSource source;
  std::string span_id;  // set when the score is about one span (a single RETRIEVER span)

  [[nodiscard]] bool is_error() const noexcept { return feedback.error.has_value(); }
  // The value as a number for aggregates and metrics: "yes" → 1, "no" → 0, true → 1,
  // false → 0, a number → itself; nullopt for errors and other values.
  [[nodiscard]] std::optional<double> numeric() const;
  // Whether the value is categorical yes/no (or a bool), as opposed to a number.
  [[nodiscard]] bool is_yes_no() const noexcept;

  static Score yes_no(std::string name, bool yes, std::string rationale, AssessmentSource source);
  static Score number(std::string name, double value, std::string rationale, AssessmentSource source);
  static Score error(std::string name, std::string_view code, std::string message, AssessmentSource source);

  // {"value": ..., "rationale": ..., "source": {...}, "error": {...}, "span_id": ...}
  void write(JsonWriter& w) const;
};

}  // namespace tracefeed::evaluate
