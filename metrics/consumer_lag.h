#pragma once
// ConsumerLagTable: the latest lag of each topic-partition a consumer owns, published for
// tracefeed_consumer_lag{topic,partition}.
//
// Why a table and not a scrape-time call: kafka::Consumer is not thread-safe and its lag() asks
// the partition leader (a network round trip), so it must run on the consumer's owner thread,
// between polls, every few seconds; the scrape only reads what was last stored here.
//
// Threads: update()/retain()/clear() from the owner thread(s), the source from the scraping
// thread: every method is thread-safe.

#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "metrics/metrics.h"

namespace tracefeed::metrics {

class ConsumerLagTable {
 public:
  // Registers the table as a tracefeed_consumer_lag source; the table must outlive the returned
  // registration.
  [[nodiscard]] Result<SourceRegistration> register_source(Metrics& metrics);

  // Records the lag of one partition (negative values are stored as 0: a position past the
  // watermark only means the watermark was read first).
  void update(std::string_view topic, int32_t partition, int64_t lag);
  // Forgets every partition of `topic` not in `partitions` (after a rebalance took them away),
  // so a partition owned elsewhere is not reported twice.
  void retain(std::string_view topic, std::span<const int32_t> partitions);
  void clear();

  // The stored lag, or -1 when the partition is unknown (tests).
  [[nodiscard]] int64_t get(std::string_view topic, int32_t partition) const;

 private:
  mutable std::mutex _mu;
  std::map<std::pair<std::string, int32_t>, int64_t> _lag;  // guarded by _mu
};

}  // namespace tracefeed::metrics
