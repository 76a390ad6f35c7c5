#include "processors/join/join_processor.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <pthread.h>

#include <condition_variable>
#include <cstdio>
#include <functional>
#include <filesystem>
#include <unordered_map>

#include "core/event_json.h"
#include "core/hash.h"
#include "core/json_writer.h"
#include "core/time_format.h"
#include "kafka/consumer.h"
#include "kafka/dead_letter.h"
#include "kafka/producer.h"
#include "processors/route/router.h"
#include "state/store.h"
#include "state/write_batch.h"

namespace tracefeed::join {
namespace {

constexpr auto kTxnCallTimeout = std::chrono::seconds(30);
constexpr auto kCommittedTimeout = std::chrono::seconds(30);
constexpr auto kSeekTimeout = std::chrono::seconds(10);

// "retriable: ..." statuses of the transactional API: the same call may simply be repeated.
bool retriable(const Status& s) {
  return (s.code() == ErrorCode::timeout || s.code() == ErrorCode::unavailable) &&
         s.message().find("retriable: ") != std::string::npos;
}

std::string derived_instance_id(const std::string& store_path) {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') std::snprintf(host, sizeof(host), "host");
  std::error_code ec;
  const std::string path = std::filesystem::absolute(store_path, ec).lexically_normal().string();
  char hash[17];
  std::snprintf(hash, sizeof(hash), "%016llx", static_cast<unsigned long long>(xxh64(ec ? store_path : path)));
  return std::string(host) + "-" + hash;
}

}  // namespace

// One unit of work: the state changes, offsets and outputs of a set of consumed records.
struct JoinProcessor::Batch {
  explicit Batch(state::Store& store) : write(store) {}

  struct Range {
    int64_t first = -1;  // first offset in the batch (to re-read an abandoned batch)
    int64_t next = 0;    // next offset to consume after the batch
    int64_t last_timestamp_ms = -1;
  };
  state::WriteBatch write;
  // Keyed by views into the records' topic names (valid while the records live, i.e. until
  // the batch is handed to the state writer): no allocation per record, only per partition.
  std::map<std::pair<std::string_view, int32_t>, Range> ranges;
  // The ranges' next offsets with owned topic names, for report_written (which may run after
  // the records are gone: a pipelined batch is reported during the next one).
  std::vector<std::pair<std::pair<std::string, int32_t>, int64_t>> next_offsets;
  // Traces whose state changed, in first-touch order, with the latest event time of that trace
  // in this batch: the time routing stamps on its decisions and outputs. Per trace (not per
  // batch), so a trace's stamp does not depend on which other partitions shared its batch.
  std::vector<std::pair<std::string, int64_t>> touched;
  // Feedback changes, reported once the state is written (on_assessment_change).
  std::vector<AssessmentChange> changes;
  std::unordered_map<std::string, size_t> touched_index;
  // Routed outputs and dead letters: produced (at-least-once: acknowledged) or committed
  // (exactly-once) before the batch's state and offsets are written.
  std::vector<route::Output> outputs;
  uint64_t routed = 0;
  size_t records = 0;
  uint64_t applied = 0, duplicates = 0, malformed = 0, unapplied = 0, suppressed = 0;
  int64_t pending_delta = 0;
  bool suppress_outputs = false;
  // A Router::backfill_step: no input records, no offsets (records = traces visited).
  bool background = false;
};

// Runs one job at a time on its own thread: write a batch's state (after freeing the batch
// reported before it). The owner thread submits a job and later waits for its status.
class JoinProcessor::StateWriter {
 public:
  using Job = std::function<Status()>;
  StateWriter() : _thread([this] { loop(); }) {}
  ~StateWriter() {
    {
      std::lock_guard lock(_mu);
      _quit = true;
    }
    _cv.notify_all();
    _thread.join();
  }
  StateWriter(const StateWriter&) = delete;
  StateWriter& operator=(const StateWriter&) = delete;

  // Runs `free` (destroys what it owns) and then `job`. Only after wait() returned for the job
  // before.
  void submit(std::unique_ptr<Batch> free, Job job) {
    {
      std::lock_guard lock(_mu);
      _free = std::move(free);
      _job = std::move(job);
      _done = false;
    }
    _cv.notify_all();
  }
  // The status of the last job submitted.
  Status wait() {
    std::unique_lock lock(_mu);
    _cv.wait(lock, [this] { return _done; });
    return _status;
  }

 private:
  void loop() {
    pthread_setname_np(pthread_self(), "tf:join-write");  // findable in top -H / perf
    std::unique_lock lock(_mu);
    for (;;) {
      _cv.wait(lock, [this] { return _quit || _job; });
      if (!_job) return;  // quit, nothing left to do
      Job job = std::move(_job);
      _job = nullptr;
      std::unique_ptr<Batch> free = std::move(_free);
      lock.unlock();
      free.reset();
      Status s = job();
      lock.lock();
      _status = std::move(s);
      _done = true;
      _cv.notify_all();
    }
  }

  std::mutex _mu;
  std::condition_variable _cv;
  Job _job;
  std::unique_ptr<Batch> _free;
  Status _status;
  bool _done = true;
  bool _quit = false;
  std::thread _thread;  // last: starts once the members above exist
};

// A range of one input partition to replay with outputs suppressed: [from, to).
struct JoinProcessor::Gap {
  std::string topic;
  int32_t partition = 0;
  int64_t from = 0;  // RocksDB's next offset, or kafka::kOffsetBeginning when none is stored
  int64_t to = 0;    // the group's committed offset: outputs up to here are already in Kafka
};

JoinProcessor::JoinProcessor(JoinProcessorOptions options, kafka::ClientOptions client, state::Store& store,
                             kafka::Producer* producer, route::Router* router, Clock& clock)
    : _options(std::move(options)),
      _client(std::move(client)),
      _store(store),
      _producer(producer),
      _router(router),
      _clock(clock) {}

JoinProcessor::~JoinProcessor() { stop(); }

Status JoinProcessor::start() {
  if (_options.cluster_id.empty()) return Status::invalid_argument("join: cluster_id is required");
  if (_options.max_batch == 0) return Status::invalid_argument("join: max_batch must be at least 1");
  _joiner.forget_traces();  // a restart: what a previous run kept in memory may not be stored
  TF_ASSIGN_OR_RETURN(_stats.pending_assessments, _joiner.load_indexes(_store));

  if (_options.exactly_once) {
    // Stable across restarts: init_transactions then fences the crashed predecessor's producer
    // and aborts its open transaction at once (instead of after transaction.timeout.ms), which
    // also unblocks the committed-offset fetch of on_assign (KIP-447 waits for pending
    // transactional offsets to settle).
    _transactional_id = _options.group_id + ".join." +
                        (_options.instance_id.empty() ? derived_instance_id(_store.path()) : _options.instance_id);
    kafka::ProducerOptions po;
    po.client = _client;
    po.client.client_id = "tracefeed-join-txn";
    po.transactional_id = _transactional_id;
    po.transaction_timeout_ms = _options.transaction_timeout_ms;
    po.linger_ms = 1;  // each batch waits for its outputs anyway: do not add a linger to it
    TF_ASSIGN_OR_RETURN(_txn, kafka::Producer::create(po));
    TF_RETURN_IF_ERROR(_txn->init_transactions(std::chrono::milliseconds(_options.transaction_timeout_ms) + kTxnCallTimeout)
                           .with_context("join: init_transactions (" + _transactional_id + ")"));
  }

  kafka::ConsumerOptions co;
  co.client = _client;
  co.client.client_id = "tracefeed-join";
  co.group_id = _options.group_id;
  co.group_instance_id = _options.instance_id;
  co.assignment_strategy = _options.assignment_strategy;
  co.session_timeout_ms = _options.session_timeout_ms;
  co.read_committed = true;
  co.fetch_min_bytes = _options.fetch_min_bytes;
  co.fetch_wait_max_ms = _options.fetch_wait_max_ms;
  TF_ASSIGN_OR_RETURN(_consumer, kafka::Consumer::create(co));
  kafka::RebalanceHandlers handlers;
  handlers.on_assign = [this](std::span<const kafka::TopicPartition> parts) { return on_assign(parts); };
  handlers.on_revoke = [this](std::span<const kafka::TopicPartition> parts) { on_revoke(parts); };
  TF_RETURN_IF_ERROR(_consumer->subscribe({_options.topics.traces, _options.topics.assessments}, std::move(handlers)));
  _stopping = false;
  _assign_error = Status::ok();
  if (_options.orphan_timeout.count() > 0) {
    OrphanSweepOptions oo;
    oo.timeout = _options.orphan_timeout;
    // An orphan is reported at most ~timeout/4 late (and never later than the default minute).
    oo.pass_interval = std::min<std::chrono::milliseconds>(oo.pass_interval, _options.orphan_timeout / 4);
    TF_RETURN_IF_ERROR(oo.validate().with_context("join"));
    _orphans = std::make_unique<OrphanSweep>(_store, oo);
  }
  _thread = std::thread([this] { run(); });
  return Status::ok();
}

void JoinProcessor::stop() {
  _stopping = true;
  if (_thread.joinable()) _thread.join();
  if (_consumer) {
    (void)_consumer->close();
    _consumer.reset();
  }
  if (_txn) {
    // Normally no transaction is open here (the owner thread commits or aborts each one it
    // begins); after an error that stopped it one may be, and the broker aborts it when the next
    // start() with the same transactional.id runs init_transactions.
    if (Status s = _txn->close(); !s.is_ok()) spdlog::warn("join: transactional producer close: {}", s.to_string());
    _txn.reset();
  }
}

int64_t JoinProcessor::applied_offset(const std::string& topic, int32_t partition) const {
  std::lock_guard lock(_mu);
  auto it = _applied.find({topic, partition});
  return it == _applied.end() ? 0 : it->second;
}

Status JoinProcessor::last_error() const {
  std::lock_guard lock(_mu);
  return _error;
}

void JoinProcessor::hook(CommitPoint p, const Batch& b) const {
  const auto& h = b.background ? _options.backfill_fault_hook : _options.fault_hook;
  if (h) h(p, b.records, b.outputs.size());
}

void JoinProcessor::fail(Status s) {
  // State was not written for the failed batch: the stored offsets still point at it, so a
  // restart retries it (and, exactly-once, replays it silently if its transaction committed).
  spdlog::critical("join: stopping: {}", s.to_string());
  std::lock_guard lock(_mu);
  _error = std::move(s);
}

void JoinProcessor::run() {
  // However the loop ends, the batch in flight is written and reported first (a failure to
  // write it after another failure is only logged: the first one is what stopped us).
  struct Drain {
    JoinProcessor* p;
    ~Drain() {
      if (Status s = p->finish_write(); !s.is_ok()) {
        if (p->last_error().is_ok()) {
          p->fail(std::move(s));
        } else {
          spdlog::warn("join: writing the last batch: {}", s.to_string());
        }
      }
    }
  } drain{this};
  int abandoned_in_a_row = 0;
  size_t full_batches_since_step = 0;
  while (!_stopping) {
    auto polled = _consumer->poll_batch(_options.max_batch, _options.poll_timeout);
    if (!_assign_error.is_ok()) {
      // Where to resume (or whether outputs were already emitted) is unknown: processing
      // anything now could lose or repeat outputs. (A replay cut short by stop() is no error.)
      if (!_stopping) fail(_assign_error);
      return;
    }
    if (!polled.is_ok()) {
      // Consumer errors (e.g. a broker going away) are transient for librdkafka: log and go on.
      spdlog::warn("join: poll: {}", polled.status().to_string());
      continue;
    }
    const uint64_t aborted_before = _stats.aborted_transactions;
    // Live records first; background work when the input is caught up (a short poll), or once
    // every backfill_every_batches full batches so that it also progresses under constant load.
    const bool caught_up = polled->size() < _options.max_batch;
    if (!polled->empty()) {
      if (Status s = process(*polled); !s.is_ok()) {
        fail(std::move(s));
        return;
      }
      if (!caught_up) ++full_batches_since_step;
    }
    // Pipelining pays while there is a backlog; caught up, each batch is written and reported
    // before the next poll (and before background steps, which read the store directly).
    if (caught_up) {
      if (Status s = finish_write(); !s.is_ok()) {
        fail(std::move(s));
        return;
      }
    }
    align_inputs();
    if (!_stopping && _stats.aborted_transactions == aborted_before &&
        (caught_up || (_options.backfill_every_batches > 0 && full_batches_since_step >= _options.backfill_every_batches))) {
      full_batches_since_step = 0;
      if (Status s = finish_write(); !s.is_ok()) {
        fail(std::move(s));
        return;
      }
      if (_router) {
        if (Status s = backfill_step(); !s.is_ok()) {
          fail(std::move(s));
          return;
        }
      }
      if (_orphans) {
        if (Status s = orphan_step(); !s.is_ok()) {
          fail(std::move(s));
          return;
        }
      }
    }
    if (polled->empty() && _stats.aborted_transactions == aborted_before) {
      advisory_commit();
      continue;
    }
    if (_stats.aborted_transactions != aborted_before) {
      // The batch was abandoned and will be re-read: back off a little so a persistent problem
      // (e.g. an output topic that does not exist) does not spin.
      ++abandoned_in_a_row;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1000, 50 << std::min(abandoned_in_a_row, 4))));
    } else {
      abandoned_in_a_row = 0;
    }
  }
}

// ---- rebalancing ----

std::vector<kafka::TopicPartitionOffset> JoinProcessor::on_assign(std::span<const kafka::TopicPartition> parts) {
  std::vector<kafka::TopicPartitionOffset> starts;
  // The stored offsets must include the batch in flight.
  if (Status s = finish_write(); !s.is_ok()) {
    _assign_error = s.with_context("join: writing the last batch before an assignment");
    return starts;
  }
  auto stored = _store.stored_offsets(_options.cluster_id);
  if (!stored.is_ok()) {
    _assign_error = stored.status().with_context("join: reading stored offsets");
    return starts;
  }
  for (const auto& p : parts) {
    auto it = stored->find(state::TopicPartition{p.topic, p.partition});
    // No stored offset for this cluster: start from the beginning of the log, not from a group
    // commit that may belong to state we no longer have.
    starts.push_back({p.topic, p.partition, it != stored->end() ? it->second : kafka::kOffsetBeginning});
  }
  std::vector<Gap> gaps;
  if (_options.exactly_once) {
    // How far outputs were already committed. With isolation.level=read_committed the fetch
    // waits for a pending transaction's offsets to settle (KIP-447); start() aborted ours.
    const std::vector<kafka::TopicPartition> list(parts.begin(), parts.end());
    // Long enough for a transaction of a dead instance with another transactional.id to time
    // out on the broker (nothing else can settle it).
    auto committed = _consumer->committed(
        list, std::chrono::milliseconds(_options.transaction_timeout_ms) + kCommittedTimeout);
    if (!committed.is_ok()) {
      _assign_error = committed.status().with_context("join: reading the group's committed offsets");
      return starts;
    }
    for (auto& start : starts) {
      for (const auto& c : *committed) {
        if (c.topic != start.topic || c.partition != start.partition || c.offset < 0) continue;
        if (c.offset > std::max<int64_t>(start.offset, 0)) {
          gaps.push_back({start.topic, start.partition, start.offset, c.offset});
        }
      }
    }
    if (!gaps.empty()) {
      if (Status s = replay(gaps); !s.is_ok()) {
        _assign_error = std::move(s);
        return starts;
      }
      for (auto& start : starts) {
        for (const auto& g : gaps) {
          if (g.topic == start.topic && g.partition == start.partition) start.offset = g.to;
        }
      }
    }
  }
  {
    // What this instance holds now, for applied_offset() (revoke forgot every revoked partition).
    std::lock_guard lock(_mu);
    for (const auto& start : starts) {
      if (start.offset >= 0) _applied[{start.topic, start.partition}] = start.offset;
    }
  }
  spdlog::info("join: assigned {} partitions ({} replayed with outputs suppressed)", parts.size(), gaps.size());
  return starts;
}

void JoinProcessor::on_revoke(std::span<const kafka::TopicPartition> parts) {
  // Rebalance handlers run inside poll_batch, i.e. between batches: every record polled before
  // this point belongs to a batch that is completely done (outputs acknowledged or committed,
  // state written — the batch in flight is finished here) or was abandoned and not written.
  // Once revoked no record of theirs reaches process() again. Their state stays in the local
  // store (see README.md: what happens when a partition moves).
  if (Status s = finish_write(); !s.is_ok()) {
    // Its outputs went out, its state did not get written: stop (run() checks after the poll).
    _assign_error = s.with_context("join: writing the last batch before a revocation");
  }
  std::vector<kafka::TopicPartitionOffset> commits;
  {
    std::lock_guard lock(_mu);
    for (const auto& p : parts) {
      auto it = _applied.find({p.topic, p.partition});
      if (it == _applied.end()) continue;
      commits.push_back({p.topic, p.partition, it->second});
      _applied.erase(it);
    }
  }
  // Partitions leave the alignment unpaused (a pause must not outlive our ownership).
  std::vector<kafka::TopicPartition> unpause;
  for (const auto& p : parts) {
    auto it = _input_clock.find(p.partition);
    if (it == _input_clock.end()) continue;
    if (it->second.paused) unpause.push_back({_options.topics.assessments, p.partition});
    _input_clock.erase(it);
  }
  if (Status s = _consumer->resume(unpause); !s.is_ok()) spdlog::debug("join: resume on revoke: {}", s.to_string());
  // At-least-once: the group's offsets are advisory (lag); bring them up to date for the next
  // owner's lag metric. Exactly-once: the transactions already committed them.
  if (!_options.exactly_once && !commits.empty()) {
    if (Status s = _consumer->commit(commits); !s.is_ok()) spdlog::debug("join: advisory commit on revoke: {}", s.to_string());
  }
  spdlog::info("join: {} partitions revoked", parts.size());
}

// ---- one batch ----

Status JoinProcessor::process(std::vector<kafka::Message>& records) {
  auto owned = std::make_unique<Batch>(_store);
  Batch& b = *owned;
  // The batch before may still be being written: read through it meanwhile.
  if (_in_flight) b.write.read_over(&_in_flight->write);
  TF_RETURN_IF_ERROR(prepare(records, false, b));
  // This batch's outputs go out only once the batch before is in the store, so a crash leaves
  // at most one batch between the store and Kafka — what replay() and the restart assume.
  TF_RETURN_IF_ERROR(finish_write());
  if (!_options.exactly_once) {
    if (_producer && !b.outputs.empty()) TF_RETURN_IF_ERROR(produce_acknowledged(b.outputs));
    hook(CommitPoint::outputs_sent, b);
  } else {
    TF_ASSIGN_OR_RETURN(TxnOutcome outcome, commit_transaction(b));
    if (outcome == TxnOutcome::abandoned) {
      // Nothing of the batch is anywhere: re-read it from its first offsets. The state it was
      // applied to is unchanged (the WriteBatch is dropped), so the retry computes the same.
      std::vector<kafka::TopicPartitionOffset> back;
      for (const auto& [tp, r] : b.ranges) back.push_back({std::string(tp.first), tp.second, r.first});
      ++_stats.aborted_transactions;
      return _consumer->seek(back, kSeekTimeout).with_context("join: re-reading an aborted batch");
    }
    hook(CommitPoint::transaction_committed, b);
  }
  note_input_times(b);
  submit_write(std::move(owned));
  _commit_due = true;
  advisory_commit();
  return Status::ok();
}

void JoinProcessor::note_input_times(const Batch& b) {
  if (_options.max_input_skew.count() <= 0) return;
  for (const auto& [tp, r] : b.ranges) {
    InputClock& c = _input_clock[tp.second];
    const bool traces = tp.first == _options.topics.traces;
    int64_t& latest = traces ? c.traces_ms : c.assessments_ms;
    latest = std::max(latest, r.last_timestamp_ms);
    if (traces) c.traces_next = r.next;
  }
}

// max_input_skew. Runs after every poll, also an empty one, so a pause always ends.
void JoinProcessor::align_inputs() {
  constexpr int64_t kMaxPauseNs = 2'000'000'000;
  if (_options.max_input_skew.count() <= 0 || _input_clock.empty()) return;
  const int64_t skew_ms = _options.max_input_skew.count();
  const int64_t now_ns = _clock.monotonic_ns();
  std::vector<kafka::TopicPartition> pause, resume;
  for (auto& [partition, c] : _input_clock) {
    bool hold = c.assessments_ms >= 0 && c.assessments_ms > c.traces_ms + skew_ms;
    if (hold) {
      // Only while the traces partition is well behind its end (a backlog): never wait for
      // traffic that is not there yet (live) or not at all (a partition without traces).
      const auto traces = _consumer->fetch_progress({_options.topics.traces, partition});
      const int64_t applied = c.traces_next >= 0 ? c.traces_next : (traces ? traces->position : 0);
      hold = traces && traces->position < traces->high_watermark &&
             traces->high_watermark - applied >= _options.align_min_backlog;
    }
    if (hold && !c.paused) {
      c.paused = true;
      c.paused_at_ns = now_ns;
      pause.push_back({_options.topics.assessments, partition});
    } else if (c.paused && (!hold || now_ns - c.paused_at_ns > kMaxPauseNs)) {
      c.paused = false;
      resume.push_back({_options.topics.assessments, partition});
    }
  }
  if (Status s = _consumer->pause(pause); !s.is_ok()) spdlog::warn("join: pausing feedback input: {}", s.to_string());
  if (Status s = _consumer->resume(resume); !s.is_ok()) spdlog::warn("join: resuming feedback input: {}", s.to_string());
  _stats.input_pauses += pause.size();
}

// At-least-once: the group's committed offsets are advisory — RocksDB holds the real ones — and
// serve the lag metric. At most once a second, every assigned partition's applied offset (also
// after the input went quiet, so the lag of a caught-up group reads 0). Exactly-once: the
// transactions commit them.
void JoinProcessor::advisory_commit() {
  if (_options.exactly_once || !_commit_due) return;
  const int64_t now = _clock.monotonic_ns();
  if (now - _last_commit_ns < 1'000'000'000) return;
  _last_commit_ns = now;
  _commit_due = false;
  std::vector<kafka::TopicPartitionOffset> commits;
  {
    std::lock_guard lock(_mu);
    for (const auto& [tp, next] : _applied) commits.push_back({tp.first, tp.second, next});
  }
  if (commits.empty()) return;
  if (Status s = _consumer->commit(commits); !s.is_ok()) spdlog::debug("join: advisory commit: {}", s.to_string());
}

// Marks feedback whose trace did not come within orphan_timeout (orphans.h). No outputs, so no
// transaction in either mode: its own small write, like the decisions it records.
Status JoinProcessor::orphan_step() {
  state::WriteBatch batch(_store);
  const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(_clock.now().time_since_epoch()).count();
  TF_ASSIGN_OR_RETURN(const OrphanStepResult r, _orphans->step(batch, now_ns));
  if (r.unreadable > 0) spdlog::warn("join: {} pending assessments without a readable assessment", r.unreadable);
  if (batch.empty()) return Status::ok();
  TF_RETURN_IF_ERROR(_store.write(batch).with_context("join: writing an orphan step"));
  _stats.orphaned_assessments += r.orphaned_assessments;
  _stats.orphaned_traces += r.orphaned_traces;
  return Status::ok();
}

// One Router::backfill_step (time index build, rule backfills) as its own unit of work: its
// outputs are acknowledged (at-least-once) or committed in a transaction of their own, without
// input offsets (exactly-once), before its WriteBatch — decisions and backfill progress — is
// written. A crash in between re-runs the step after the restart; see README.md for why the
// repeated outputs are harmless.
Status JoinProcessor::backfill_step() {
  Batch b(_store);
  b.background = true;
  _joiner.begin_batch();
  const int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(_clock.now().time_since_epoch()).count();
  const route::TraceLoader load = [this](state::WriteBatch& w, const std::string& id, Trace& out, bool& present) {
    return _joiner.load_joined(w, id, out, present);
  };
  TF_ASSIGN_OR_RETURN(const size_t visited, _router->backfill_step(_store, b.write, load, now_ns, b.outputs));
  if (b.write.empty() && b.outputs.empty()) return Status::ok();  // nothing to do
  b.records = visited;
  if (!_options.exactly_once) {
    if (_producer && !b.outputs.empty()) TF_RETURN_IF_ERROR(produce_acknowledged(b.outputs));
    hook(CommitPoint::outputs_sent, b);
  } else if (!b.outputs.empty()) {
    TF_ASSIGN_OR_RETURN(TxnOutcome outcome, commit_transaction(b));
    if (outcome == TxnOutcome::abandoned) {
      // The batch is dropped: the Router must not believe its progress moved.
      _router->backfill_abandoned();
      ++_stats.aborted_transactions;
      return Status::ok();
    }
    hook(CommitPoint::transaction_committed, b);
  } else {
    hook(CommitPoint::outputs_sent, b);
  }
  TF_RETURN_IF_ERROR(_store.write(b.write).with_context("join: writing a backfill step"));
  ++_stats.backfill_steps;
  _stats.backfill_traces += visited;
  _stats.backfill_outputs += b.outputs.size();
  _stats.routed_outputs += b.outputs.size();
  hook(CommitPoint::state_written, b);
  return Status::ok();
}

Status JoinProcessor::prepare(std::span<kafka::Message> records, bool suppress_outputs, Batch& b) {
  b.suppress_outputs = suppress_outputs;
  _joiner.begin_batch();  // a new Batch: nothing cached from a previous (maybe dropped) one
  _joiner.set_change_log(_options.on_assessment_change ? &b.changes : nullptr);
  b.records += records.size();
  // Parse everything first, so that the store is read once for the whole batch (Joiner::prefetch).
  if (_envelopes.size() < records.size()) _envelopes.resize(records.size());
  _parsed.resize(records.size());
  _prefetch.clear();
  for (size_t i = 0; i < records.size(); ++i) {
    _parsed[i] = _parser.parse_envelope(records[i].value(), _envelopes[i]);
    if (_parsed[i].is_ok()) _prefetch.push_back(&_envelopes[i]);
  }
  TF_RETURN_IF_ERROR(_joiner.prefetch(b.write, _prefetch));
  for (size_t i = 0; i < records.size(); ++i) {
    const kafka::Message& m = records[i];
    const Envelope& e = _envelopes[i];
    Batch::Range& range = b.ranges[{m.topic(), m.partition()}];
    if (range.first < 0) range.first = m.offset();
    range.next = m.offset() + 1;
    range.last_timestamp_ms = std::max(range.last_timestamp_ms, m.timestamp_ms());
    if (const Status& s = _parsed[i]; !s.is_ok()) {
      ++b.malformed;
      add_dead_letter(m, s, b);
      continue;
    }
    const int64_t record_time_ns = m.timestamp_ms() > 0 ? m.timestamp_ms() * 1'000'000 : 0;
    ApplyResult r = _joiner.apply(e, record_time_ns, b.write);
    switch (r.kind) {
      case ApplyResult::Kind::applied: {
        ++b.applied;
        const int64_t time_ns = e.time != 0 ? e.time : record_time_ns;
        auto [it, inserted] = b.touched_index.try_emplace(e.trace_id(), b.touched.size());
        if (inserted) {
          b.touched.emplace_back(e.trace_id(), time_ns);
        } else {
          b.touched[it->second].second = std::max(b.touched[it->second].second, time_ns);
        }
        break;
      }
      case ApplyResult::Kind::duplicate: ++b.duplicates; break;
      case ApplyResult::Kind::rejected:
        if (r.error.code() == ErrorCode::io_error || r.error.code() == ErrorCode::corruption) return r.error;
        ++b.unapplied;
        add_dead_letter(m, r.error, b);
        break;
    }
    b.pending_delta += r.pending_delta;
  }
  if (_router && !b.touched.empty()) TF_RETURN_IF_ERROR(route_touched(b));
  return Status::ok();
}

Status JoinProcessor::route_touched(Batch& b) {
  std::vector<route::Output> routed;
  std::vector<std::string_view> ids;
  ids.reserve(b.touched.size());
  for (const auto& t : b.touched) ids.push_back(t.first);
  TF_RETURN_IF_ERROR(_router->prefetch(ids, b.write));
  for (const auto& [trace_id, time_ns] : b.touched) {
    bool present = false;
    // The trace as the batch left it, from the Joiner's per-batch cache (not re-read, not
    // re-parsed).
    TF_ASSIGN_OR_RETURN(const Trace* joined, _joiner.joined(b.write, trace_id, present));
    TF_RETURN_IF_ERROR(_router->route(*joined, present, time_ns, b.write, routed, _joiner.trace_written(trace_id)));
  }
  if (b.suppress_outputs) {
    b.suppressed += routed.size();
    return Status::ok();
  }
  b.routed = routed.size();
  if (b.outputs.empty()) {
    b.outputs = std::move(routed);
  } else {
    for (auto& o : routed) b.outputs.push_back(std::move(o));
  }
  return Status::ok();
}

void JoinProcessor::set_offsets(Batch& b) {
  for (const auto& [tp, r] : b.ranges) {
    b.write.set_offset(_options.cluster_id, tp.first, tp.second, r.next);
    b.next_offsets.push_back({{std::string(tp.first), tp.second}, r.next});
  }
}

Status JoinProcessor::write_state(Batch& b) {
  set_offsets(b);
  TF_RETURN_IF_ERROR(write_batch_state(b));
  _joiner.batch_written(b.write);
  report_written(b);
  return Status::ok();
}

void JoinProcessor::submit_write(std::unique_ptr<Batch> b) {
  set_offsets(*b);
  b->write.read_over(nullptr);  // applied; the batch before may be freed now
  b->write.keep_after_write();  // the next batch reads over it while, and after, it is written
  // From here the Joiner's memory holds this batch's traces as stored: the next batch reads
  // them from there and everything else through this batch until it is written.
  _joiner.batch_written(b->write);
  if (!_writer) _writer = std::make_unique<StateWriter>();
  Batch* raw = b.get();
  _in_flight = std::move(b);
  _writer->submit(std::move(_retired), [this, raw] { return write_batch_state(*raw); });
}

Status JoinProcessor::finish_write() {
  if (!_in_flight) return Status::ok();
  Status s = _writer->wait();
  std::unique_ptr<Batch> b = std::move(_in_flight);
  if (!s.is_ok()) return s;
  report_written(*b);
  hook(CommitPoint::state_written, *b);
  _retired = std::move(b);
  return Status::ok();
}

Status JoinProcessor::write_batch_state(Batch& b) {
  if (_options.write_batch) {
    std::vector<std::string_view> touched;
    touched.reserve(b.touched.size());
    for (const auto& t : b.touched) touched.push_back(t.first);
    return _options.write_batch(b.write, touched);
  }
  return _store.write(b.write);
}

void JoinProcessor::report_written(Batch& b) {
  if (_options.on_assessment_change) {
    for (const auto& c : b.changes) {
      _options.on_assessment_change(c.before ? &*c.before : nullptr, c.after ? &*c.after : nullptr);
    }
  }
  _stats.applied += b.applied;
  _stats.duplicates += b.duplicates;
  _stats.rejected_malformed += b.malformed;
  _stats.rejected_apply += b.unapplied;
  _stats.pending_assessments += b.pending_delta;
  ++_stats.batches;
  if (!b.suppress_outputs) _stats.routed_outputs += b.routed;
  {
    std::lock_guard lock(_mu);
    for (const auto& [tp, next] : b.next_offsets) _applied[tp] = next;
  }
}

// ---- at-least-once ----

Status JoinProcessor::produce_acknowledged(const std::vector<route::Output>& outputs) {
  std::vector<kafka::ProduceRecord> records;
  records.reserve(outputs.size());
  for (const auto& o : outputs) records.push_back({o.topic, o.key, o.value, std::nullopt});
  // Outputs are acknowledged before the decisions and offsets are written. While Kafka refuses
  // them, wait and retry (backpressure on the join) — never drop and move on.
  for (int attempt = 0;; ++attempt) {
    auto reports = _producer->produce_batch(records, std::chrono::seconds(30));
    std::vector<kafka::ProduceRecord> failed;
    Status first_error;
    for (size_t i = 0; i < reports.size(); ++i) {
      if (!reports[i].status.is_ok()) {
        failed.push_back(records[i]);
        if (first_error.is_ok()) first_error = reports[i].status;
      }
    }
    if (failed.empty()) break;
    if (_stopping) return Status::unavailable("join: stopping with unacknowledged outputs: " + first_error.to_string());
    spdlog::warn("join: {} outputs not acknowledged ({}); retrying", failed.size(), first_error.to_string());
    records = std::move(failed);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1000, 50 << std::min(attempt, 4))));
  }
  return Status::ok();
}

// ---- exactly-once ----

Result<JoinProcessor::TxnOutcome> JoinProcessor::commit_transaction(const Batch& b) {
  // Anything but "committed" or "abandoned" (aborted cleanly) stops the processor without
  // writing state; that is always safe: on restart on_assign compares the group's committed
  // offsets with RocksDB's and replays what committed.
  TF_RETURN_IF_ERROR(_txn->begin_transaction().with_context("join: begin_transaction"));
  Status why;
  if (!b.outputs.empty()) {
    // Wait until the brokers hold every output (commit_transaction would wait for them anyway):
    // from here a crash leaves them in the log, uncommitted, for the restart's init_transactions
    // to abort — what read_committed readers never see. Any failure: abort and re-read.
    std::vector<kafka::ProduceRecord> records;
    records.reserve(b.outputs.size());
    for (const auto& o : b.outputs) records.push_back({o.topic, o.key, o.value, std::nullopt});
    for (const auto& report : _txn->produce_batch(records, kTxnCallTimeout)) {
      if (!report.status.is_ok()) {
        why = report.status.with_context("join: producing an output in the transaction");
        break;
      }
    }
  }
  if (why.is_ok() && !b.background) {  // a backfill step consumed no input: no offsets
    std::vector<kafka::TopicPartitionOffset> offsets;
    offsets.reserve(b.ranges.size());
    for (const auto& [tp, r] : b.ranges) offsets.push_back({std::string(tp.first), tp.second, r.next});
    // The group metadata carries the generation: a member that has been rebalanced away is
    // fenced here (KIP-447), so a zombie cannot commit offsets it no longer owns.
    auto group = _consumer->group_metadata();
    if (!group.is_ok()) {
      why = group.status();
    } else {
      do {
        why = _txn->send_offsets_to_transaction(offsets, *group, kTxnCallTimeout);
      } while (retriable(why) && !_stopping);
    }
  }
  if (why.is_ok()) {
    hook(CommitPoint::outputs_sent, b);
    do {
      why = _txn->commit_transaction(kTxnCallTimeout);
    } while (retriable(why) && !_stopping);
    if (why.is_ok()) {
      ++_stats.transactions;
      return TxnOutcome::committed;
    }
  }
  // Fatal (e.g. fenced by a newer instance with our transactional.id: we are the zombie) or a
  // wrong-state error (a bug): stop. Anything else (abortable, an output that could not be
  // enqueued, a rebalance that fenced our generation, stopping): abort and re-read the batch.
  if (why.code() == ErrorCode::internal || why.code() == ErrorCode::invalid_argument) return why;
  spdlog::warn("join: aborting the transaction, the batch will be re-read: {}", why.to_string());
  TF_RETURN_IF_ERROR(abort_transaction());
  return TxnOutcome::abandoned;
}

Status JoinProcessor::abort_transaction() {
  Status s;
  do {
    s = _txn->abort_transaction(kTxnCallTimeout);
  } while (retriable(s) && !_stopping);
  return s.with_context("join: abort_transaction");
}

// Replays [from, to) of each gap into state with outputs suppressed: those outputs were
// committed with the offsets `to` by the transaction whose state write was lost (or, for a
// partition whose state was never here, by whoever owned it before).
Status JoinProcessor::replay(const std::vector<Gap>& gaps) {
  uint64_t total = 0;
  for (const auto& g : gaps) total += static_cast<uint64_t>(g.to - std::max<int64_t>(g.from, 0));
  // A crash gap is exactly one batch of the run that crashed; replaying it as one batch makes
  // the same decisions that batch made (see README.md). Larger gaps are rebuilds: batch them.
  const bool exact = total <= _options.exact_replay_limit;
  spdlog::info("join: replaying {} records of {} partitions with outputs suppressed ({})", total, gaps.size(),
               exact ? "one batch" : "batches");

  kafka::ConsumerOptions co;
  co.client = _client;
  co.client.client_id = "tracefeed-join-replay";
  co.read_committed = true;
  TF_ASSIGN_OR_RETURN(auto reader, kafka::Consumer::create(co));
  std::vector<kafka::TopicPartitionOffset> from;
  std::map<std::pair<std::string, int32_t>, size_t> open;  // partition -> index in gaps, until done
  for (size_t i = 0; i < gaps.size(); ++i) {
    from.push_back({gaps[i].topic, gaps[i].partition, gaps[i].from});
    open[{gaps[i].topic, gaps[i].partition}] = i;
  }
  TF_RETURN_IF_ERROR(reader->assign(from));

  std::vector<kafka::Message> buffer;
  std::map<std::pair<std::string, int32_t>, bool> seen_first;
  auto flush = [&](bool last) -> Status {
    Batch b(_store);
    TF_RETURN_IF_ERROR(prepare(buffer, true, b));
    if (last) {
      // The committed offset, even when the records just before it are not visible (e.g.
      // transaction markers of a transactional input producer).
      for (const auto& g : gaps) b.ranges[{g.topic, g.partition}].next = g.to;
    }
    TF_RETURN_IF_ERROR(write_state(b));
    _stats.replayed += buffer.size();
    _stats.suppressed_outputs += b.suppressed;
    buffer.clear();
    return Status::ok();
  };
  auto last_progress = std::chrono::steady_clock::now();
  while (!open.empty()) {
    if (_stopping) return Status::unavailable("join: stopping during a replay");
    auto polled = reader->poll_batch(_options.max_batch, std::chrono::milliseconds(100));
    if (!polled.is_ok()) {
      spdlog::warn("join: replay poll: {}", polled.status().to_string());
    } else {
      for (auto& m : *polled) {
        std::pair<std::string, int32_t> tp{std::string(m.topic()), m.partition()};
        auto it = open.find(tp);
        if (it == open.end()) continue;  // past its end already
        const Gap& g = gaps[it->second];
        if (!seen_first[tp] && g.from >= 0 && m.offset() > g.from) {
          spdlog::warn("join: replay of {}/{}: records {}..{} are no longer in the log (retention); state misses them",
                       g.topic, g.partition, g.from, m.offset() - 1);
        }
        seen_first[tp] = true;
        if (m.offset() >= g.to) {
          open.erase(it);
          continue;
        }
        if (m.offset() + 1 >= g.to) open.erase(it);
        buffer.push_back(std::move(m));
        last_progress = std::chrono::steady_clock::now();
      }
    }
    if (!exact && buffer.size() >= _options.max_batch) TF_RETURN_IF_ERROR(flush(false));
    if (std::chrono::steady_clock::now() - last_progress > _options.replay_idle_timeout) {
      std::string which;
      for (const auto& [tp, i] : open) which += " " + tp.first + "/" + std::to_string(tp.second) + " (to " + std::to_string(gaps[i].to) + ")";
      return Status::timeout("join: replay received nothing for " + std::to_string(_options.replay_idle_timeout.count()) +
                             " ms; still open:" + which);
    }
  }
  TF_RETURN_IF_ERROR(flush(true));
  (void)reader->close();
  return Status::ok();
}

void JoinProcessor::add_dead_letter(const kafka::Message& m, const Status& why, Batch& b) {
  if (b.suppress_outputs) {
    ++b.suppressed;
    return;
  }
  if (!_options.exactly_once && !_producer) return;
  std::string record = kafka::dead_letter_record(
      m, why, std::chrono::duration_cast<std::chrono::nanoseconds>(_clock.now().time_since_epoch()).count());
  // With the batch's outputs: exactly-once, in its transaction (committed once, with the offsets
  // that consumed the record); at-least-once, acknowledged before the offsets move past it, so a
  // kill -9 cannot lose it.
  b.outputs.push_back({_options.topics.dead_letter, std::string(m.key()), std::move(record)});
}

}  // namespace tracefeed::join
