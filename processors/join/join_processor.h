#pragma once
// The join role: consumes `traces` and `assessments` in one consumer group and applies every
// event to RocksDB state with the Joiner. Each polled batch becomes ONE state WriteBatch that
// also carries the consumed offsets (keyed by Kafka cluster id), so state and progress move
// together: after a crash the processor resumes exactly where its state ends, with no rebuild.
//
// The authoritative offsets are the ones in RocksDB: on assignment the processor seeks there
// (kafka::RebalanceHandlers::on_assign); offsets committed to the group are advisory (lag
// monitoring) and committed at most once a second.
//
// Threads: start() spawns the owner thread that polls, applies and writes; stop() joins it.
// stats() and applied_offset() are safe from any thread.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/result.h"
#include "core/topics.h"
#include "kafka/client_options.h"
#include "processors/join/joiner.h"

namespace tracefeed::state {
class Store;
}
namespace tracefeed::kafka {
class Consumer;
class Message;
class Producer;
}  // namespace tracefeed::kafka

namespace tracefeed::route {
class Router;
}

namespace tracefeed::join {

struct JoinProcessorOptions {
  Topics topics;
  // Consumer group shared by every `tracefeed process` instance. Default: tracefeed-processors.
  std::string group_id = "tracefeed-processors";
  // Cluster id the offsets are stored under (kafka::Admin::cluster_id()). Required.
  std::string cluster_id;
  // Most records applied in one state write. Default: 2000.
  size_t max_batch = 2000;
  // How long one poll waits for the first record. Default: 50 ms.
  std::chrono::milliseconds poll_timeout{50};
};

struct JoinStats {
  std::atomic<uint64_t> applied{0};
  std::atomic<uint64_t> duplicates{0};
  std::atomic<uint64_t> rejected_malformed{0};  // not a valid envelope (dead-lettered)
  std::atomic<uint64_t> rejected_apply{0};      // valid envelope that cannot apply (e.g. update of unknown id)
  std::atomic<int64_t> pending_assessments{0};  // feedback waiting for its trace
  std::atomic<uint64_t> batches{0};
  std::atomic<uint64_t> routed_outputs{0};      // review/eval events produced
};

class JoinProcessor {
 public:
  // `producer` (may be null) receives routed outputs and dead-letter records; `router` (may be
  // null: join only) evaluates rules over every trace a batch touched.
  JoinProcessor(JoinProcessorOptions options, kafka::ClientOptions client, state::Store& store,
                kafka::Producer* producer, route::Router* router, Clock& clock);
  ~JoinProcessor();
  JoinProcessor(const JoinProcessor&) = delete;
  JoinProcessor& operator=(const JoinProcessor&) = delete;

  // Counts pending assessments in state, joins the group and starts the owner thread.
  [[nodiscard]] Status start();
  // Stops polling, finishes the batch in hand, leaves the group. Idempotent.
  void stop();

  const JoinStats& stats() const noexcept { return _stats; }
  // Next offset to apply for a partition of `topic` (0 when nothing was applied yet).
  int64_t applied_offset(const std::string& topic, int32_t partition) const;
  // The last error that stopped the owner thread, if any.
  Status last_error() const;

 private:
  void run();
  Status process(std::vector<kafka::Message>& records);
  Status route_touched(const std::vector<std::string>& touched, int64_t time_ns, state::WriteBatch& batch);
  void dead_letter(const kafka::Message& m, const Status& why);

  JoinProcessorOptions _options;
  kafka::ClientOptions _client;
  state::Store& _store;
  kafka::Producer* _producer;
  route::Router* _router;
  Clock& _clock;
  Joiner _joiner;
  EventParser _parser;
  Envelope _envelope;
  std::unique_ptr<kafka::Consumer> _consumer;
  std::thread _thread;
  std::atomic<bool> _stopping{false};
  JoinStats _stats;
  mutable std::mutex _mu;  // guards _applied and _error
  std::map<std::pair<std::string, int32_t>, int64_t> _applied;
  Status _error;
  int64_t _last_commit_ns = 0;
};

}  // namespace tracefeed::join
