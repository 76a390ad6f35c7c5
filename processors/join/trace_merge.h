#pragma once
// How parts of one trace combine. A trace may arrive in several parts (spans as they end, then
// the root; or StartTraceV3's trace_info and OTLP spans separately): parts merge field by field.

#include "core/model.h"

namespace tracefeed::join {

// Merges `part` into `into`: a field set in `part` wins over the stored one; maps merge key by
// key; spans merge by span_id (a re-sent span replaces the stored one). Deterministic.
void merge_trace(Trace& into, Trace&& part);

// Fills trace_info fields a client left empty from the root span (request/response previews,
// request_time, execution_duration, state), as MLflow does. Idempotent.
void derive_from_root(Trace& trace);

// Longest preview kept in trace_info (MLflow truncates request/response previews too).
inline constexpr size_t kPreviewBytes = 1000;

}  // namespace tracefeed::join
