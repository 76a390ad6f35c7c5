#pragma once
// Kafka admin operations tracefeed needs at startup: create topics idempotently, check a topic's
// partition count, read the cluster id.
//
// Thread model: thread-safe; every call blocks the calling thread up to its timeout.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "kafka/client_options.h"

namespace tracefeed::kafka {

struct TopicSpec {
  std::string name;
  int partitions = 1;
  int replication_factor = 1;
  // Topic configs, e.g. {"cleanup.policy", "compact"}.
  std::map<std::string, std::string> config;
};

class Admin {
 public:
  [[nodiscard]] static Result<std::unique_ptr<Admin>> create(ClientOptions options);
  ~Admin();
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  // Creates every topic; one that already exists counts as success (its partition count is not
  // checked here — use describe_topic_partitions). The first failure is returned, naming the topic.
  [[nodiscard]] Status create_topics(const std::vector<TopicSpec>& topics, std::chrono::milliseconds timeout);

  // Number of partitions of `topic`; not_found if the broker does not know it.
  [[nodiscard]] Result<int> describe_topic_partitions(const std::string& topic, std::chrono::milliseconds timeout);

  // The cluster id reported in metadata; unavailable if the cluster does not report one.
  [[nodiscard]] Result<std::string> cluster_id(std::chrono::milliseconds timeout);

  struct Impl;

 private:
  explicit Admin(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> _impl;
};

}  // namespace tracefeed::kafka
