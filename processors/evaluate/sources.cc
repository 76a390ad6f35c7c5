#include "processors/evaluate/sources.h"

#include <algorithm>

#include "processors/filter/filter.h"
#include "processors/join/trace_reader.h"

namespace tracefeed::evaluate {

std::function<Result<std::optional<Trace>>(const std::string&)> reader_trace_getter(const join::TraceReader& reader) {
  return [&reader](const std::string& trace_id) { return reader.get(trace_id, /*with_spans=*/true); };
}

std::function<Result<std::vector<std::string>>(const std::string&)> reader_searcher(const join::TraceReader& reader,
                                                                                    size_t max_results) {
  return [&reader, max_results](const std::string& filter_text) -> Result<std::vector<std::string>> {
    TF_ASSIGN_OR_RETURN(filter::Filter f, filter::parse_filter(filter_text));
    std::vector<std::pair<int64_t, std::string>> matches;
    TF_RETURN_IF_ERROR(reader.for_each([&](Trace&& t) {
      if (f.matches(t)) matches.emplace_back(t.trace_info.request_time, std::move(t.trace_info.trace_id));
      return true;
    }));
    std::stable_sort(matches.begin(), matches.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    if (matches.size() > max_results) matches.resize(max_results);
    std::vector<std::string> ids;
    ids.reserve(matches.size());
    for (auto& [time, id] : matches) ids.push_back(std::move(id));
    return ids;
  };
}

}  // namespace tracefeed::evaluate
