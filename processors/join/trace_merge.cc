#include "processors/join/trace_merge.h"

#include "core/event_json.h"

#include <algorithm>

namespace tracefeed::join {
namespace {

void merge_map(StringMap& into, StringMap&& part) {
  for (auto& [k, v] : part) {
    auto it = std::find_if(into.begin(), into.end(), [&](const auto& kv) { return kv.first == k; });
    if (it == into.end()) {
      into.emplace_back(std::move(k), std::move(v));
    } else {
      it->second = std::move(v);
    }
  }
}

template <typename T>
void take_if_set(T& into, T&& part) {
  if (part != T{}) into = std::move(part);
}

}  // namespace

void merge_trace(Trace& into, Trace&& part) {
  TraceInfo& a = into.trace_info;
  TraceInfo& b = part.trace_info;
  if (a.trace_id.empty()) a.trace_id = std::move(b.trace_id);
  take_if_set(a.client_request_id, std::move(b.client_request_id));
  take_if_set(a.trace_location, std::move(b.trace_location));
  take_if_set(a.request_time, std::move(b.request_time));
  take_if_set(a.execution_duration_ns, std::move(b.execution_duration_ns));
  if (b.state != TraceState::unspecified) a.state = b.state;
  take_if_set(a.request_preview, std::move(b.request_preview));
  take_if_set(a.response_preview, std::move(b.response_preview));
  merge_map(a.trace_metadata, std::move(b.trace_metadata));
  merge_map(a.tags, std::move(b.tags));
  for (auto& span : part.spans) {
    auto it = std::find_if(into.spans.begin(), into.spans.end(),
                           [&](const Span& s) { return s.span_id == span.span_id; });
    if (it == into.spans.end()) {
      into.spans.push_back(std::move(span));
    } else {
      *it = std::move(span);
    }
  }
}

void derive_from_root(Trace& trace) {
  const Span* root = trace.root_span();
  if (!root) return;
  TraceInfo& info = trace.trace_info;
  if (info.request_time == 0) info.request_time = root->start_time_unix_nano;
  if (info.execution_duration_ns == 0 && root->end_time_unix_nano > root->start_time_unix_nano) {
    info.execution_duration_ns = root->end_time_unix_nano - root->start_time_unix_nano;
  }
  if (info.request_preview.empty()) info.request_preview = json_preview(root->inputs, kPreviewBytes);
  if (info.response_preview.empty()) info.response_preview = json_preview(root->outputs, kPreviewBytes);
  if (info.state == TraceState::unspecified || info.state == TraceState::in_progress) {
    if (root->status == SpanStatus::error) info.state = TraceState::error;
    else if (root->end_time_unix_nano != 0) info.state = TraceState::ok;
  }
}

}  // namespace tracefeed::join
