#include "apps/lag_monitor.h"

#include <spdlog/spdlog.h>

#include "kafka/consumer.h"
#include "metrics/consumer_lag.h"

namespace tracefeed::apps {

LagMonitor::LagMonitor(LagMonitorOptions options, kafka::ClientOptions client, metrics::ConsumerLagTable& table)
    : _options(std::move(options)), _client(std::move(client)), _table(table) {}

LagMonitor::~LagMonitor() { stop(); }

Status LagMonitor::start() {
  for (const LagGroup& g : _options.groups) {
    kafka::ConsumerOptions co;
    co.client = _client;
    co.client.client_id = "tracefeed-lag-monitor";
    // Reads the group's committed offsets; never subscribes, so it never joins the group.
    co.group_id = g.group_id;
    TF_ASSIGN_OR_RETURN(auto consumer, kafka::Consumer::create(co));
    _groups.push_back({g, std::move(consumer)});
  }
  _thread = std::thread([this] {
    std::unique_lock lock(_mu);
    while (!_stopping) {
      lock.unlock();
      refresh();
      lock.lock();
      _wake.wait_for(lock, _options.interval, [this] { return _stopping; });
    }
  });
  return Status::ok();
}

void LagMonitor::stop() {
  {
    std::lock_guard lock(_mu);
    _stopping = true;
  }
  _wake.notify_all();
  if (_thread.joinable()) _thread.join();
  for (Group& g : _groups) {
    if (g.consumer) (void)g.consumer->close();
  }
  _groups.clear();
}

void LagMonitor::refresh() {
  for (Group& g : _groups) {
    for (const LagTopic& topic : g.spec.topics) {
      std::vector<kafka::TopicPartition> parts;
      for (int32_t p = 0; p < topic.partitions; ++p) parts.push_back({topic.name, p});
      auto committed = g.consumer->committed(parts, _options.request_timeout);
      if (!committed.is_ok()) {
        spdlog::debug("lag monitor: committed offsets of {} for {}: {}", g.spec.group_id, topic.name,
                      committed.status().to_string());
        continue;
      }
      for (const auto& c : *committed) {
        auto marks = g.consumer->watermark_offsets({c.topic, c.partition}, _options.request_timeout);
        if (!marks.is_ok()) continue;
        // Nothing committed yet: everything retained is still to be read.
        const int64_t from = c.offset >= 0 ? c.offset : marks->low;
        _table.update(c.topic, c.partition, marks->high - from);
      }
    }
  }
}

}  // namespace tracefeed::apps
