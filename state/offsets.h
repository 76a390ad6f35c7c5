#pragma once
// Consumed Kafka offsets as stored in Family::offsets.

#include <compare>
#include <cstdint>
#include <map>
#include <string>

namespace tracefeed::state {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

// (topic, partition) -> the next offset to consume.
using OffsetMap = std::map<TopicPartition, int64_t>;

}  // namespace tracefeed::state
