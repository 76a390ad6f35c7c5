#pragma once
// Wiring helpers: EvaluatorSources functions backed by the processor's joined state
// (join::TraceReader). The labeling sessions and datasets live in sinks/, above processors, so
// the runtime wires those two itself.
//
// The returned functions hold a reference to `reader`, which must outlive them. Thread-safe.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/model.h"
#include "core/result.h"

namespace tracefeed::join {
class TraceReader;
}

namespace tracefeed::evaluate {

// get_trace: the joined trace with spans and every assessment (valid and overridden).
[[nodiscard]] std::function<Result<std::optional<Trace>>(const std::string&)> reader_trace_getter(
    const join::TraceReader& reader);

// search: ids of the traces matching the filter, newest request first, at most `max_results`
// (a full scan of the stored traces, like the search API).
[[nodiscard]] std::function<Result<std::vector<std::string>>(const std::string&)> reader_searcher(
    const join::TraceReader& reader, size_t max_results);

}  // namespace tracefeed::evaluate
