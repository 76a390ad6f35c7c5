#pragma once
// The evaluation sink: consumes the `eval` topic — the route processor's
// {"type":"eval_record","dataset","trace_id","rule","priority","time"} records, keyed by
// trace_id — and adds each routed trace to its dataset (DatasetStore::apply_eval_batch). One
// poll = one state write that also carries the consumed offsets (keyed by Kafka cluster id), so
// a restart resumes exactly where the datasets end; a record produced twice (the router is
// at-least-once) changes nothing the second time.
//
// Between polls the owner thread rebuilds the records of member traces that changed since they
// were added (DatasetStore::refresh_dirty).
//
// A record that is not a valid eval record goes to the dead-letter topic (when a producer is
// given) and is counted; it never stops the sink. A state write error stops the sink (offsets
// still point at the batch, so a restart retries it); last_error() says why.
//
// Threads: start() spawns the owner thread (poll, apply, refresh); stop() joins it. stats() and
// last_error() are safe from any thread.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "core/clock.h"
#include "core/result.h"
#include "kafka/client_options.h"
#include "sinks/eval/dataset_store.h"

namespace tracefeed::kafka {
class AdvisoryCommitter;
class Consumer;
class Message;
class Producer;
}  // namespace tracefeed::kafka

namespace tracefeed::eval {

struct EvalSinkOptions {
  // The eval topic (Topics::eval). Required.
  std::string topic;
  // Where invalid records go (Topics::dead_letter). Default: empty = counted and logged only.
  std::string dead_letter_topic;
  // Consumer group of the evaluation sinks. Default: tracefeed-eval-sink.
  std::string group_id = "tracefeed-eval-sink";
  // Cluster id the offsets are stored under (kafka::Admin::cluster_id()). Required.
  std::string cluster_id;
  // Most records applied in one state write (one dataset version). Default: 500.
  size_t max_batch = 500;
  // How long one poll waits for the first record; also the refresh cadence when idle.
  // Default: 50 ms.
  std::chrono::milliseconds poll_timeout{50};
};

struct EvalSinkStats {
  std::atomic<uint64_t> consumed{0};   // records read from the topic
  std::atomic<uint64_t> applied{0};    // valid eval records applied (changed or not)
  std::atomic<uint64_t> rejected{0};   // not a valid eval record (dead-lettered)
  std::atomic<uint64_t> batches{0};    // state writes of consumed records
};

// Parses one eval-topic record. Errors name the field ("dataset: required string").
[[nodiscard]] Result<EvalAdd> parse_eval_record(std::string_view json);

class EvalSink {
 public:
  // `producer` (may be null) receives dead letters. `datasets`, `producer` and `clock` must
  // outlive the sink.
  EvalSink(EvalSinkOptions options, kafka::ClientOptions client, DatasetStore& datasets, state::Store& store,
           kafka::Producer* producer, Clock& clock);
  ~EvalSink();
  EvalSink(const EvalSink&) = delete;
  EvalSink& operator=(const EvalSink&) = delete;

  // Joins the group (each partition resumes from the offset stored in state) and starts the
  // owner thread.
  [[nodiscard]] Status start();
  // Stops polling after the batch in hand and leaves the group. Idempotent.
  void stop();

  const EvalSinkStats& stats() const noexcept { return _stats; }
  // The error that stopped the owner thread, or ok.
  Status last_error() const;

 private:
  void run();
  Status process(std::vector<kafka::Message>& records);
  void dead_letter(const kafka::Message& m, const Status& why);
  void fail(const Status& s);
  // Applied offsets to the group for the lag metric (kafka::AdvisoryCommitter).
  void advisory_commit(bool idle);

  EvalSinkOptions _options;
  kafka::ClientOptions _client;
  DatasetStore& _datasets;
  state::Store& _store;
  kafka::Producer* _producer;
  Clock& _clock;
  std::unique_ptr<kafka::Consumer> _consumer;
  std::thread _thread;
  std::atomic<bool> _stopping{false};
  EvalSinkStats _stats;
  mutable std::mutex _mu;  // guards _error
  Status _error;
  std::unique_ptr<kafka::AdvisoryCommitter> _committer;  // owner thread
};

}  // namespace tracefeed::eval
