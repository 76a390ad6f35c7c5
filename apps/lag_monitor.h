#pragma once
// LagMonitor: tracefeed_consumer_lag{topic,partition} for the consumer groups of this process.
//
// Every tracefeed consumer (the join, the review consumer, the eval sink) keeps its real offsets
// in RocksDB and commits them to its Kafka group as well, about once a second, for exactly this:
// lag = the partition's high watermark − the group's committed offset. One thread per process
// asks the brokers every `interval` through its own (never subscribed) consumer handle per group
// and stores the figures in a metrics::ConsumerLagTable, so the scrape reads memory only and the
// consumers' owner threads never pay a broker round trip for a metric.
//
// Every instance of a group reports the group's lag for every partition of its topics, so with
// several instances use max by (topic, partition), not sum, on a dashboard.
//
// Threads: start() and stop() from the owner (the runtime); the work on the monitor's thread.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"
#include "kafka/client_options.h"

namespace tracefeed::kafka {
class Consumer;
}
namespace tracefeed::metrics {
class ConsumerLagTable;
}

namespace tracefeed::apps {

struct LagTopic {
  std::string name;
  int32_t partitions = 0;
};

struct LagGroup {
  std::string group_id;
  std::vector<LagTopic> topics;
};

struct LagMonitorOptions {
  std::vector<LagGroup> groups;
  // How often lags are refreshed. Default: 5 s.
  std::chrono::milliseconds interval{5000};
  // Bound on each broker request. Default: 2 s.
  std::chrono::milliseconds request_timeout{2000};
};

class LagMonitor {
 public:
  LagMonitor(LagMonitorOptions options, kafka::ClientOptions client, metrics::ConsumerLagTable& table);
  ~LagMonitor();  // stop()
  LagMonitor(const LagMonitor&) = delete;
  LagMonitor& operator=(const LagMonitor&) = delete;

  // Creates the consumer handles and starts the thread (the first refresh runs at once).
  [[nodiscard]] Status start();
  void stop();

  // One refresh of every group (the thread's loop body; tests call it directly).
  void refresh();

 private:
  struct Group {
    LagGroup spec;
    std::unique_ptr<kafka::Consumer> consumer;
  };

  LagMonitorOptions _options;
  kafka::ClientOptions _client;
  metrics::ConsumerLagTable& _table;
  std::vector<Group> _groups;
  std::mutex _mu;
  std::condition_variable _wake;
  bool _stopping = false;  // guarded by _mu
  std::thread _thread;
};

}  // namespace tracefeed::apps
