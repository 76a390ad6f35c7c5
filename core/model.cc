#include "core/model.h"

namespace tracefeed {

std::string_view to_string(TraceState s) noexcept {
  switch (s) {
    case TraceState::ok: return "OK";
    case TraceState::error: return "ERROR";
    case TraceState::in_progress: return "IN_PROGRESS";
    case TraceState::unspecified: break;
  }
  return "STATE_UNSPECIFIED";
}

std::string_view to_string(SpanStatus s) noexcept {
  switch (s) {
    case SpanStatus::ok: return "OK";
    case SpanStatus::error: return "ERROR";
    case SpanStatus::unset: break;
  }
  return "UNSET";
}

std::string_view to_string(SourceType s) noexcept {
  switch (s) {
    case SourceType::human: return "HUMAN";
    case SourceType::llm_judge: return "LLM_JUDGE";
    case SourceType::code: return "CODE";
    case SourceType::unspecified: break;
  }
  return "SOURCE_TYPE_UNSPECIFIED";
}

std::string_view to_string(EventType t) noexcept {
  switch (t) {
    case EventType::trace: return "trace";
    case EventType::assessment: return "assessment";
    case EventType::assessment_update: return "assessment_update";
    case EventType::assessment_delete: return "assessment_delete";
  }
  return "unknown";
}

const Span* Trace::root_span() const noexcept {
  for (const auto& s : spans) {
    if (s.is_root()) return &s;
  }
  return nullptr;
}

const std::string& Envelope::trace_id() const {
  if (const auto* t = std::get_if<Trace>(&payload)) return t->trace_info.trace_id;
  return std::get<Assessment>(payload).trace_id;
}

}  // namespace tracefeed
