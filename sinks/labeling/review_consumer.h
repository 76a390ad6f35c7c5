#pragma once
// ReviewConsumer: feeds the `review` topic (routed traces, written by the route processor) into
// the LabelingService. Each polled batch becomes one RocksDB write that holds the new items AND
// the consumed offsets (keyed by Kafka cluster id), so a restart resumes exactly where the state
// ends and never adds or loses an item twice over.
//
// The authoritative offsets are the ones in RocksDB: on assignment the consumer seeks there
// (no stored offset for this cluster = the beginning of the log); offsets committed to the
// group are advisory (lag monitoring), at most once a second. read_committed: the route
// processor may write the topic transactionally.
//
// One labeling instance serves a session's queue (claims must see every item), so run one
// labeling role per cluster; its consumer group then holds every partition of the topic.
//
// Malformed records (not a review_item, bad trace id) are counted and handed to `dead_letter`
// — never a crash, never silence. A failed state write stops the owner thread (the stored
// offsets still point before the batch, so a restart retries it); last_error() says why.
//
// Threads: start() spawns the owner thread that polls and applies; stop() joins it. stats(),
// applied_offset() and last_error() are safe from any thread.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "core/result.h"
#include "kafka/client_options.h"

namespace tracefeed::kafka {
class AdvisoryCommitter;
class Consumer;
class Message;
}  // namespace tracefeed::kafka
namespace tracefeed::state {
class Store;
}

namespace tracefeed::labeling {

class LabelingService;

struct ReviewConsumerOptions {
  // The review topic (Topics::review). Required.
  std::string topic;
  // Kafka cluster id the offsets are stored under (kafka::Admin::cluster_id()). Required.
  std::string cluster_id;
  // Default: "tracefeed-labeling".
  std::string group_id = "tracefeed-labeling";
  // Most records applied in one state write. Default: 1000.
  size_t max_batch = 1000;
  // How long one poll waits for the first record. Default: 50 ms.
  std::chrono::milliseconds poll_timeout{50};
  // Where malformed records go: (reason, error, raw record). Called on the owner thread; must not
  // block for long. Default: none (they are still counted and logged).
  std::function<void(std::string_view reason, const Status& error, std::string_view raw)>
      dead_letter;
};

struct ReviewConsumerStats {
  std::atomic<uint64_t> records{0};    // review records applied (incl. duplicates and orphans)
  std::atomic<uint64_t> malformed{0};  // records refused (dead-lettered)
  std::atomic<uint64_t> batches{0};
};

class ReviewConsumer {
 public:
  // `store` must be the store `service` writes to; both must outlive the consumer.
  ReviewConsumer(ReviewConsumerOptions options, kafka::ClientOptions client, state::Store& store,
                 LabelingService& service);
  ~ReviewConsumer();  // stop()
  ReviewConsumer(const ReviewConsumer&) = delete;
  ReviewConsumer& operator=(const ReviewConsumer&) = delete;

  // Joins the group and starts the owner thread.
  [[nodiscard]] Status start();
  // Stops polling, finishes the batch in hand, leaves the group. Idempotent.
  void stop();

  [[nodiscard]] const ReviewConsumerStats& stats() const noexcept { return _stats; }
  // Next offset to apply for a partition (0 when nothing was applied in this process).
  [[nodiscard]] int64_t applied_offset(int32_t partition) const;
  // The error that stopped the owner thread, if any.
  [[nodiscard]] Status last_error() const;

 private:
  void run();
  Status process(std::vector<kafka::Message>& records);
  // Applied offsets to the group for the lag metric (kafka::AdvisoryCommitter).
  void advisory_commit(bool idle);

  ReviewConsumerOptions _options;
  kafka::ClientOptions _client;
  state::Store& _store;
  LabelingService& _service;
  std::unique_ptr<kafka::Consumer> _consumer;
  std::thread _thread;
  std::atomic<bool> _stopping{false};
  ReviewConsumerStats _stats;
  mutable std::mutex _mu;  // guards _applied and _error
  std::map<int32_t, int64_t> _applied;
  Status _error;
  std::unique_ptr<kafka::AdvisoryCommitter> _committer;  // owner thread
};

}  // namespace tracefeed::labeling
