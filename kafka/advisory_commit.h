#pragma once
// AdvisoryCommitter: commits a consumer's applied offsets to its group for lag monitoring only.
//
// tracefeed's consumers keep their real offsets in RocksDB, written with the state they produced;
// the group's committed offsets exist so that lag (high watermark − committed) can be read from
// outside (apps::LagMonitor). At most one commit a second, and also after the input went quiet,
// so a caught-up consumer reads lag 0. With `commit_watermark_when_idle`, an idle consumer
// commits the high watermark: what is left below it for a read_committed consumer is transaction
// commit markers (librdkafka's position does not step over them) or an open transaction's
// records, which are not readable yet — without it, every exactly-once input partition would
// show a lag of 1 forever.
//
// Threads: the consumer's owner thread only.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.h"

namespace tracefeed::kafka {

class Consumer;

class AdvisoryCommitter {
 public:
  // `consumer` must outlive this object.
  AdvisoryCommitter(Consumer& consumer, bool commit_watermark_when_idle);

  // A batch applied (and its state written): the next offset to read of a partition.
  void applied(std::string_view topic, int32_t partition, int64_t next);
  // The partition moved to another member: its new owner commits it from now on.
  void forget(std::string_view topic, int32_t partition);
  // Commits what changed, at most once a second; `idle`: the last poll returned nothing. Returns
  // the commit's error (advisory: callers log it and go on; the next call retries).
  [[nodiscard]] Status maybe_commit(bool idle, std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

 private:
  using Partition = std::pair<std::string, int32_t>;

  Consumer& _consumer;
  bool _watermark_when_idle;
  std::chrono::steady_clock::duration _interval = std::chrono::seconds(1);
  std::chrono::steady_clock::time_point _last{};
  std::map<Partition, int64_t> _applied;    // next offset to read, per partition
  std::map<Partition, int64_t> _committed;  // last advisory commit, per partition
};

}  // namespace tracefeed::kafka
