#include "processors/join/trace_reader.h"

#include "core/event_json.h"
#include "state/keys.h"
#include "state/store.h"

namespace tracefeed::join {
namespace {

EventParser& parser() {
  thread_local EventParser p;
  return p;
}

}  // namespace

Status TraceReader::fill_assessments(Trace& trace) const {
  Status parse_error;
  Status s = _store.scan_prefix(state::Family::assessments, state::child_prefix(trace.trace_info.trace_id),
                                [&](std::string_view, std::string_view value) {
                                  Assessment a;
                                  parse_error = parser().parse_assessment(value, a);
                                  if (!parse_error.is_ok()) return false;
                                  trace.trace_info.assessments.push_back(std::move(a));
                                  return true;
                                });
  TF_RETURN_IF_ERROR(s);
  if (!parse_error.is_ok()) return Status::corruption("stored assessment: " + parse_error.message());
  return Status::ok();
}

Result<std::optional<Trace>> TraceReader::get(std::string_view trace_id, bool with_spans) const {
  TF_ASSIGN_OR_RETURN(auto stored, _store.get(state::Family::traces, trace_id));
  Trace trace;
  if (stored) {
    if (Status s = parser().parse_trace(*stored, trace); !s.is_ok()) {
      return Status::corruption("stored trace " + std::string(trace_id) + ": " + s.message());
    }
    if (!with_spans) trace.spans.clear();
  } else {
    trace.trace_info.trace_id = std::string(trace_id);
  }
  TF_RETURN_IF_ERROR(fill_assessments(trace));
  if (!stored && trace.trace_info.assessments.empty()) return std::optional<Trace>();
  return std::optional<Trace>(std::move(trace));
}

Result<std::optional<Assessment>> TraceReader::get_assessment(std::string_view trace_id,
                                                              std::string_view assessment_id) const {
  TF_ASSIGN_OR_RETURN(auto stored, _store.get(state::Family::assessments, state::child_key(trace_id, assessment_id)));
  if (!stored) return std::optional<Assessment>();
  Assessment a;
  if (Status s = parser().parse_assessment(*stored, a); !s.is_ok()) {
    return Status::corruption("stored assessment: " + s.message());
  }
  return std::optional<Assessment>(std::move(a));
}

Status TraceReader::for_each(const std::function<bool(Trace&&)>& visit) const {
  Status inner;
  Status s = _store.scan_prefix(state::Family::traces, "", [&](std::string_view, std::string_view value) {
    Trace trace;
    if (inner = parser().parse_trace(value, trace); !inner.is_ok()) return false;
    if (inner = fill_assessments(trace); !inner.is_ok()) return false;
    return visit(std::move(trace));
  });
  TF_RETURN_IF_ERROR(s);
  return inner;
}

}  // namespace tracefeed::join
