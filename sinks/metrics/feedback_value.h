#pragma once
// How one feedback value counts in the quality metrics: its bounded label for
// tracefeed_feedback_total{value} and whether it is negative for
// tracefeed_negative_feedback_ratio.
//
//   JSON value          label                                   negative when
//   true / false        "true" / "false"                        false
//   number              rounded to one decimal, written without value <= numeric_negative_at_or_below
//                       a trailing ".0" ("0.7", "1", "-3");      (the unrounded value)
//                       beyond ±1e15 three digits ("1e+20")
//   string              the string, cut to max_label_bytes      it equals (ASCII case-insensitive) one
//                       on a UTF-8 boundary                     of negative_strings
//   null, list, map     "other"                                 never
//
// Pure functions; no state.

#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"

namespace tracefeed::quality {

struct FeedbackValueRules {
  // A number at or below this is negative. The default suits the 0–1 scores of judges and
  // pass/fail as 0/1; a 1–5 rating wants e.g. 2. Default: 0.5.
  double numeric_negative_at_or_below = 0.5;
  // String values that are negative, compared ASCII case-insensitively. Default: no, bad,
  // thumbs_down, negative, fail, failed, incorrect, inaccurate, unhelpful, not_helpful.
  std::vector<std::string> negative_strings = {"no",         "bad",       "thumbs_down", "negative",  "fail",
                                               "failed",     "incorrect", "inaccurate",  "unhelpful", "not_helpful"};
  // Longest value label in bytes (cut on a UTF-8 boundary). Default: 64.
  size_t max_label_bytes = 64;
};

// The label for values that are not scalars and for everything past a cardinality cap.
inline constexpr std::string_view kOtherLabel = "other";

struct FeedbackValueClass {
  std::string label;      // reused buffer
  bool negative = false;
};

// Classifies canonical JSON text (core's JsonText) into `out`. Allocation-free for booleans,
// numbers and strings without escapes once `out.label` has capacity.
void classify_feedback_value(std::string_view json, const FeedbackValueRules& rules, FeedbackValueClass& out);

// `s` cut to at most `max_bytes`, never inside a UTF-8 sequence.
[[nodiscard]] std::string_view truncate_utf8(std::string_view s, size_t max_bytes) noexcept;

}  // namespace tracefeed::quality
