#pragma once
// The fast path of Tracer::log_feedback / override_feedback (internal to the SDK).
//
// log_feedback is the SDK's hottest call. Building an Assessment (a copy of every argument),
// validating it and walking core's generic writer cost several allocations and microseconds per
// event. When the arguments are plainly valid (the rules of core's validate_assessment), the
// envelope is written straight from them into a per-thread buffer, byte for byte what core's
// write_json(Envelope) writes for the same event (feedback_writer_test compares the two).
// Anything else is left to the Tracer's general path, which words the validation error exactly as
// core does.

#include <optional>
#include <string_view>

#include "core/model.h"
#include "producers/sdk/json_value.h"
#include "producers/sdk/transport.h"

namespace tracefeed::detail {

// The arguments log_feedback and override_feedback share, borrowed for one call.
struct FeedbackView {
  std::string_view trace_id, name, span_id;
  const AssessmentSource& source;  // unspecified + empty id → {CODE, "default"}, as MLflow does
  const JsonValue& value;          // null = absent (then `error` is required)
  std::string_view rationale;
  const StringMap& metadata;
  const std::optional<AssessmentError>& error;
  std::string_view overrides;  // empty unless override_feedback
};

// Would core's validate_envelope accept the assessment made from `f`? Conservative: it may say
// false for something valid (the general path then sends it), never true for something invalid.
[[nodiscard]] bool plainly_valid(const FeedbackView& f) noexcept;

struct WrittenFeedback {
  OutgoingEvent event;             // the envelope (type assessment), its event_id and key
  std::string_view assessment_id;  // "a-" + 32 hex, new
};

// Writes the envelope of a new feedback assessment made from `f` at `time` (event time,
// create_time and last_update_time alike) with fresh ids, or returns nullopt when `f` is not
// plainly_valid or `time` is not after 1970. Thread: any; the views returned point into a
// per-thread buffer and stay valid until the same thread's next call. A warm thread allocates
// nothing here.
[[nodiscard]] std::optional<WrittenFeedback> write_feedback_envelope(const FeedbackView& f,
                                                                     UnixNanos time);

}  // namespace tracefeed::detail
