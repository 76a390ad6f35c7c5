#pragma once
// Reads joined traces from processor state for the read APIs (MLflow GetTrace, search).
// Thread-safe: each call parses with a thread-local parser; reads see committed state only.

#include <functional>
#include <optional>
#include <string_view>

#include "core/model.h"
#include "core/result.h"

namespace tracefeed::state {
class Store;
}

namespace tracefeed::join {

class TraceReader {
 public:
  explicit TraceReader(state::Store& store) : _store(store) {}

  // The trace with trace_info.assessments filled (valid and invalid ones, as MLflow returns
  // them); spans only when `with_spans`. nullopt when neither the trace nor any assessment of
  // it is known.
  [[nodiscard]] Result<std::optional<Trace>> get(std::string_view trace_id, bool with_spans) const;
  [[nodiscard]] Result<std::optional<Assessment>> get_assessment(std::string_view trace_id,
                                                                 std::string_view assessment_id) const;
  // Visits every stored trace (joined, with spans) until `visit` returns false.
  [[nodiscard]] Status for_each(const std::function<bool(Trace&&)>& visit) const;

 private:
  Status fill_assessments(Trace& trace) const;
  state::Store& _store;
};

}  // namespace tracefeed::join
