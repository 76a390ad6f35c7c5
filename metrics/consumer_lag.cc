#include "metrics/consumer_lag.h"

#include <algorithm>

namespace tracefeed::metrics {

Result<SourceRegistration> ConsumerLagTable::register_source(Metrics& metrics) {
  return metrics.add_source(names::consumer_lag, [this](std::vector<Sample>& out) {
    std::lock_guard lock(_mu);
    for (const auto& [tp, lag] : _lag) {
      out.push_back({{tp.first, std::to_string(tp.second)}, static_cast<double>(lag)});
    }
  });
}

void ConsumerLagTable::update(std::string_view topic, int32_t partition, int64_t lag) {
  std::lock_guard lock(_mu);
  // Every few seconds per partition: the key's allocation does not matter.
  _lag[{std::string(topic), partition}] = std::max<int64_t>(lag, 0);
}

void ConsumerLagTable::retain(std::string_view topic, std::span<const int32_t> partitions) {
  std::lock_guard lock(_mu);
  std::erase_if(_lag, [&](const auto& e) {
    return e.first.first == topic && std::find(partitions.begin(), partitions.end(), e.first.second) == partitions.end();
  });
}

void ConsumerLagTable::clear() {
  std::lock_guard lock(_mu);
  _lag.clear();
}

int64_t ConsumerLagTable::get(std::string_view topic, int32_t partition) const {
  std::lock_guard lock(_mu);
  auto it = _lag.find({std::string(topic), partition});
  return it == _lag.end() ? -1 : it->second;
}

}  // namespace tracefeed::metrics
