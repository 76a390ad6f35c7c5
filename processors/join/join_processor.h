#pragma once
// The join role: consumes `traces` and `assessments` in one consumer group and applies every
// event to RocksDB state with the Joiner; the Router (optional) turns the traces a batch touched
// into review/eval outputs. Each polled batch becomes ONE state WriteBatch that also carries the
// consumed offsets (keyed by Kafka cluster id), so state and progress move together.
//
// Two delivery modes (processors/join/README.md has the full argument):
//   - at-least-once (default; the only one the embedded broker supports): outputs are produced
//     and acknowledged, then the WriteBatch is written. A crash in between re-produces the same
//     outputs on restart; they carry a deterministic identity (trace_id + rule + target) so the
//     sinks drop the repeat.
//   - exactly-once (options.exactly_once, a real Kafka cluster): outputs and the batch's input
//     offsets are committed in ONE Kafka transaction (send_offsets_to_transaction with the
//     consumer's group metadata, KIP-447), then the WriteBatch is written. On assignment, a
//     partition whose RocksDB offset lags the group's committed offset (crash between the commit
//     and the state write) is replayed from RocksDB up to the committed offset with outputs
//     suppressed — they are already committed — as one batch, so the replay reproduces the
//     committed batch exactly. Readers of review/eval must use isolation.level=read_committed.
//
// The authoritative resume point is the RocksDB offset; in exactly-once mode the group's
// committed offset says how far outputs were already emitted.
//
// Threads: start() spawns the owner thread that polls, applies, produces and writes; rebalance
// handlers (and the exactly-once replay) run on it, inside poll_batch, i.e. between batches.
// stop() joins it. stats() and applied_offset() are safe from any thread.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "core/topics.h"
#include "kafka/client_options.h"
#include "processors/join/joiner.h"
#include "processors/join/orphans.h"

namespace tracefeed::state {
class Store;
class WriteBatch;
}  // namespace tracefeed::state
namespace tracefeed::kafka {
class Consumer;
class Message;
class Producer;
}  // namespace tracefeed::kafka

namespace tracefeed::route {
class Router;
struct Output;
}  // namespace tracefeed::route

namespace tracefeed::join {

// Points of the commit protocol, for fault-injection tests (JoinProcessorOptions::fault_hook).
enum class CommitPoint {
  outputs_sent,           // outputs produced (at-least-once: acknowledged; exactly-once: inside
                          // the open transaction, offsets sent), nothing committed yet
  transaction_committed,  // exactly-once only: transaction committed, state not yet written
  state_written,          // the batch's WriteBatch is in RocksDB
};

struct JoinProcessorOptions {
  Topics topics;
  // Consumer group shared by every `tracefeed process` instance. Default: tracefeed-processors.
  std::string group_id = "tracefeed-processors";
  // Cluster id the offsets are stored under (kafka::Admin::cluster_id()). Required.
  std::string cluster_id;
  // Most records applied in one state write (and, exactly-once, one transaction). Default: 2000.
  size_t max_batch = 2000;
  // How long one poll waits for the first record. Default: 50 ms.
  std::chrono::milliseconds poll_timeout{50};
  // The input consumer's fetch.min.bytes and fetch.wait.max.ms (kafka::ConsumerOptions): under
  // load the broker answers a fetch once this much is there, instead of once per record or two.
  // On a 2-core machine at 10,000 events/s that took the broker from 70-85 % to 55-65 % of a core
  // and cut the feedback -> review p99 2.4-3.4x; light traffic waits up to fetch_wait_max_ms for
  // it. Default: 64 KiB, 10 ms.
  int fetch_min_bytes = 64 * 1024;
  int fetch_wait_max_ms = 10;
  // Outputs and input offsets in one Kafka transaction (needs a real Kafka cluster: the embedded
  // broker's transactions are no-ops). Default: false (at-least-once).
  bool exactly_once = false;
  // Stable name of this processor instance: the same across restarts, different for every live
  // instance of the group (e.g. "<host>-0", or the pod name of a StatefulSet). When set it is
  // the consumer's group.instance.id (static membership: after a kill -9 the restarted instance
  // takes its partitions back at once instead of waiting out the session timeout) and the
  // suffix of the transactional.id. Default: "" — dynamic membership, and exactly-once derives
  // the transactional.id from the host name and the store path (stable for one state directory
  // on one host).
  std::string instance_id;
  // partition.assignment.strategy. Default: "range" (see kafka/README.md); "cooperative-sticky"
  // works too: revocation is handled per partition.
  std::string assignment_strategy = "range";
  // session.timeout.ms of the group member. Default: 10000.
  int session_timeout_ms = 10000;
  // transaction.timeout.ms (exactly-once): how long the broker keeps a transaction of a crashed
  // instance open when no instance with the same transactional.id comes back. Default: 60000.
  int transaction_timeout_ms = 60000;
  // Exactly-once replay: a gap of at most this many records is replayed as ONE batch (a crash
  // gap is always one batch of the run that crashed); a larger one (a partition whose state was
  // never here or is stale, e.g. moved from another host) is replayed in batches of max_batch.
  // Default: 20000.
  size_t exact_replay_limit = 20000;
  // How long a replay waits without receiving any record before it fails. Default: 60 s.
  std::chrono::milliseconds replay_idle_timeout{60000};
  // Fault injection for tests: called on the owner thread at each CommitPoint with the number of
  // records and outputs (routed + dead letters) of the batch. Default: none.
  std::function<void(CommitPoint, size_t records, size_t outputs)> fault_hook;
  // Background work of the Router (Router::backfill_step: the one-off time index build, then
  // requested rule backfills) runs on the owner thread between batches — live batches first: a
  // step follows a poll that returned fewer than max_batch records (the input is caught up), and
  // under sustained load at most one step every this many full batches, so a backfill neither
  // delays live traffic by more than one step (BackfillOptions::traces_per_step traces) per N
  // batches nor is starved by it. 0: steps only after short polls. Default: 16.
  size_t backfill_every_batches = 16;
  // Feedback still waiting for its trace this long after its create_time is marked orphaned by
  // the background step (OrphanSweep, orphans.h): a `join/orphaned` decision record and
  // JoinStats::orphaned_assessments. It still joins if the trace arrives. 0: no sweep.
  // Default: 1 h.
  std::chrono::milliseconds orphan_timeout = std::chrono::hours(1);
  // Event-time alignment of the two inputs (Kafka Streams calls it timestamp synchronization):
  // while an `assessments` partition has been consumed more than this far (record timestamps)
  // past the `traces` partition of the same number, and that traces partition has more to fetch,
  // the assessments partition is paused (at most ~2 s at a time) — only while that traces
  // partition is at least align_min_backlog records behind its end, i.e. during a backlog: a restart, a new
  // instance catching up. The backlog is then read with feedback beside its traces: librdkafka fetches by
  // bytes, a feedback record is ~5x smaller than a trace, and unaligned the feedback of a backlog
  // runs far ahead, waits in `pending` and is read back from RocksDB when its trace comes. Live
  // traffic is never held back (a pause drops what was fetched for the partition; in a first
  // version without the backlog condition, pauses at 5,000 events/s live tripled the p99 from
  // feedback to review record, 42 -> 126 ms). Measured (bench/join, 400,000 events
  // of backlog): 5–20 ms keep nearly every trace ahead of its feedback; at 100 ms a fifth of the
  // traces already find feedback pending; at 1 s (loadgen's backlog spans 4 s) nearly all do.
  // 0: no alignment. Default: 20 ms.
  std::chrono::milliseconds max_input_skew{20};
  // max_input_skew holds feedback back only while the traces partition is at least this many
  // records behind its end (a backlog; live traffic stays far below). Default: 1000.
  int64_t align_min_backlog = 1000;
  // Fault injection for the backfill step, like fault_hook (`records` = traces the step visited;
  // transaction_committed only for a step with outputs in exactly-once mode). Default: none.
  std::function<void(CommitPoint, size_t records, size_t outputs)> backfill_fault_hook;
  // Called on the owner thread for every feedback change of a batch, after the batch's state
  // is written (an abandoned batch reports nothing): quality metrics. Default: none.
  std::function<void(const Assessment* before, const Assessment* after)> on_assessment_change;
  // Writes a processed batch's state in place of Store::write, with every trace id the batch
  // touched — DatasetStore::write_join_batch, which marks the touched dataset members dirty in
  // the same batch, then writes it (Store::write's contract: cleared on success). Called on the
  // owner thread. Default: none (Store::write).
  std::function<Status(state::WriteBatch& batch, std::span<const std::string_view> touched)> write_batch;
};

struct JoinStats {
  std::atomic<uint64_t> applied{0};
  std::atomic<uint64_t> duplicates{0};
  std::atomic<uint64_t> rejected_malformed{0};  // not a valid envelope (dead-lettered)
  std::atomic<uint64_t> rejected_apply{0};      // valid envelope that cannot apply (e.g. update of unknown id)
  std::atomic<int64_t> pending_assessments{0};  // feedback waiting for its trace
  std::atomic<uint64_t> batches{0};
  std::atomic<uint64_t> routed_outputs{0};      // review/eval events produced
  std::atomic<uint64_t> replayed{0};            // records re-applied on assignment with outputs suppressed
  std::atomic<uint64_t> suppressed_outputs{0};  // outputs (incl. dead letters) a replay did not re-emit
  std::atomic<uint64_t> transactions{0};        // exactly-once: committed transactions
  std::atomic<uint64_t> aborted_transactions{0};  // exactly-once: aborted and re-read batches
  std::atomic<uint64_t> orphaned_assessments{0};  // newly marked (tracefeed_join_orphaned_assessments_total)
  std::atomic<uint64_t> orphaned_traces{0};       // join/orphaned decision records written
  std::atomic<uint64_t> backfill_steps{0};        // Router::backfill_step calls that wrote something
  std::atomic<uint64_t> backfill_traces{0};       // traces those steps visited (index build + rule backfills)
  std::atomic<uint64_t> backfill_outputs{0};      // review/eval events the steps produced (also in routed_outputs)
  std::atomic<uint64_t> input_pauses{0};          // assessments partitions paused to wait for their traces
};

class JoinProcessor {
 public:
  // `producer` (may be null) receives routed outputs and dead-letter records in at-least-once
  // mode; in exactly-once mode the processor owns a transactional producer instead and
  // `producer` is unused. `router` (may be null: join only) evaluates rules over every trace a
  // batch touched.
  JoinProcessor(JoinProcessorOptions options, kafka::ClientOptions client, state::Store& store,
                kafka::Producer* producer, route::Router* router, Clock& clock);
  ~JoinProcessor();
  JoinProcessor(const JoinProcessor&) = delete;
  JoinProcessor& operator=(const JoinProcessor&) = delete;

  // Counts pending assessments in state; exactly-once: creates the transactional producer and
  // runs init_transactions (fencing a crashed predecessor and aborting its open transaction);
  // joins the group and starts the owner thread.
  [[nodiscard]] Status start();
  // Stops polling, finishes the batch in hand, leaves the group (with static membership the
  // partitions move only when the session times out). Idempotent.
  void stop();

  const JoinStats& stats() const noexcept { return _stats; }
  // Next offset to apply for a partition of `topic` that this instance is assigned (0 when it
  // is not assigned here, or nothing was applied yet).
  int64_t applied_offset(const std::string& topic, int32_t partition) const;
  // The last error that stopped the owner thread, if any.
  Status last_error() const;
  // The transactional.id in exactly-once mode (empty otherwise); set by start().
  const std::string& transactional_id() const noexcept { return _transactional_id; }

 private:
  struct Batch;
  struct Gap;
  enum class TxnOutcome { committed, abandoned };

  void run();
  void fail(Status s);
  std::vector<kafka::TopicPartitionOffset> on_assign(std::span<const kafka::TopicPartition> parts);
  void on_revoke(std::span<const kafka::TopicPartition> parts);
  Status process(std::vector<kafka::Message>& records);
  Status backfill_step();
  Status orphan_step();
  Status prepare(std::span<kafka::Message> records, bool suppress_outputs, Batch& out);
  Status route_touched(Batch& b);
  void add_dead_letter(const kafka::Message& m, const Status& why, Batch& b);
  Status produce_acknowledged(const std::vector<route::Output>& outputs);
  Result<TxnOutcome> commit_transaction(const Batch& b);
  Status abort_transaction();
  Status replay(const std::vector<Gap>& gaps);
  Status write_state(Batch& b);
  // Pipelined writes (README.md, "One batch"): the owner thread hands a batch's state to the
  // state writer and applies the next batch meanwhile, reading over the one being written.
  void submit_write(std::unique_ptr<Batch> b);
  // Waits until the batch handed to the writer is in the store, then reports it (stats, applied
  // offsets, assessment changes, the state_written hook). Ok when nothing is in flight.
  Status finish_write();
  // Puts the batch's next offsets into its WriteBatch (and keeps them, owned, for reporting).
  void set_offsets(Batch& b);
  // Writes the batch's WriteBatch (Store::write or options.write_batch): any thread.
  Status write_batch_state(Batch& b);
  // What a written batch reports (owner thread).
  void report_written(Batch& b);
  void hook(CommitPoint p, const Batch& b) const;
  void advisory_commit();
  void note_input_times(const Batch& b);
  void align_inputs();

  JoinProcessorOptions _options;
  kafka::ClientOptions _client;
  state::Store& _store;
  kafka::Producer* _producer;
  route::Router* _router;
  Clock& _clock;
  Joiner _joiner;
  EventParser _parser;
  // prepare(): a polled batch parsed (reused: their buffers keep their capacity), each record's
  // parse status, and the parsed ones for Joiner::prefetch.
  std::vector<Envelope> _envelopes;
  std::vector<Status> _parsed;
  std::vector<const Envelope*> _prefetch;
  std::unique_ptr<kafka::Consumer> _consumer;
  std::unique_ptr<kafka::Producer> _txn;  // exactly-once only
  std::unique_ptr<OrphanSweep> _orphans;  // null when orphan_timeout is 0
  std::string _transactional_id;
  std::thread _thread;
  // The state writer: one thread writing one batch at a time, while the owner thread applies
  // the next. At most one batch is in flight; the one reported before it is freed by the writer
  // too (its maps take a while to destroy), once nothing reads over it.
  class StateWriter;
  std::unique_ptr<StateWriter> _writer;
  std::unique_ptr<Batch> _in_flight;
  std::unique_ptr<Batch> _retired;
  std::atomic<bool> _stopping{false};
  JoinStats _stats;
  // Set by a rebalance handler (owner thread) when it cannot establish where to resume; the
  // owner thread stops before processing anything after it.
  Status _assign_error;
  mutable std::mutex _mu;  // guards _applied and _error
  std::map<std::pair<std::string, int32_t>, int64_t> _applied;
  Status _error;
  // max_input_skew: the latest record timestamp applied from each input, by partition number.
  struct InputClock {
    int64_t traces_ms = -1, assessments_ms = -1;
    int64_t traces_next = -1;  // next traces offset to apply
    bool paused = false;  // the assessments partition
    int64_t paused_at_ns = 0;
  };
  std::map<int32_t, InputClock> _input_clock;
  int64_t _last_commit_ns = 0;
  bool _commit_due = false;  // applied offsets moved since the last advisory commit
};

}  // namespace tracefeed::join
