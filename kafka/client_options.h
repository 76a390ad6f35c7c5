#pragma once
// Options shared by every Kafka client in tracefeed, and the small value types (topic-partition,
// offsets) that cross the kafka/ module boundary. No librdkafka type appears here: kafka/ is the
// only module that includes librdkafka, and callers never need to.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

namespace tracefeed::kafka {

// Options every client (producer, consumer, admin) takes. Validated when the client is created:
// an unknown or malformed librdkafka property fails creation with a Status naming the property.
struct ClientOptions {
  // Comma-separated host:port list. Required.
  std::string brokers;
  // Default: "tracefeed". Shows up in broker logs and quotas.
  std::string client_id = "tracefeed";
  // Pass-through librdkafka properties (e.g. security.protocol, sasl.*, ssl.*, or tuning such as
  // linger.ms). Applied after tracefeed's defaults, so they win. Default: empty.
  std::map<std::string, std::string> properties;
};

struct TopicPartition {
  std::string topic;
  std::int32_t partition = 0;
  friend bool operator==(const TopicPartition&, const TopicPartition&) = default;
  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
};

// An offset attached to a topic-partition. For commits and send_offsets_to_transaction this is
// the NEXT offset to consume (last processed + 1), as in Kafka itself.
struct TopicPartitionOffset {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  friend bool operator==(const TopicPartitionOffset&, const TopicPartitionOffset&) = default;
};

// Special offsets for Consumer::assign / rebalance handlers.
inline constexpr std::int64_t kOffsetBeginning = -2;  // oldest retained message
inline constexpr std::int64_t kOffsetEnd = -1;        // next message to be produced
inline constexpr std::int64_t kOffsetStored = -1000;  // the group's committed offset (or auto.offset.reset)

}  // namespace tracefeed::kafka
