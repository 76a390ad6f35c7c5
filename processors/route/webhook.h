#pragma once
// Webhook actions of routing rules ({webhook: URL}, PRODUCT.md §3): when a rule fires for a trace,
// tracefeed POSTs a JSON summary of the trace to the URL,
//
//   {"type":"webhook","delivery_id":"<trace_id>/<rule>/<action index>","rule":...,"trace_id":...,
//    "time":...,"trace_info":{... MLflow trace_info with its assessments ...}}
//
// with headers X-Tracefeed-Delivery (= delivery_id) and X-Tracefeed-Attempt. Delivery is
// AT-LEAST-ONCE: a crash after the receiver answered but before the outcome was stored sends the
// same body again on restart; receivers deduplicate on delivery_id.
//
// How it stays off the join's hot path and durable:
//  1. The Router (join thread) writes an outbox entry — Family::meta, key
//     "whk\0<trace_id>\0<rule>\0<action index>", value "<url>\0<body>" — in the join's WriteBatch,
//     together with the decision `routed` ("webhook delivery pending"), and submit()s the key.
//  2. A worker delivers only entries it can read from the store, i.e. committed ones (a submitted
//     key not visible yet is re-checked until `commit_wait`). 2xx = delivered. Connection errors,
//     timeouts, 408, 429 and 5xx are retried with exponential backoff up to `max_attempts`; other
//     4xx fail at once.
//  3. The outcome is written by the worker in its own small RocksDB write: the outbox entry is
//     erased and the decision becomes `routed` ("... webhook delivered ...") or `failed` (with the
//     URL, the attempts and the last error). This cannot race with the join's WriteBatch: the join
//     never writes the decision of a rule that has fired (decision_fired()), nor the outbox entry
//     again, so the worker is the only writer of both from then on.
//  4. start() queues every outbox entry left by a previous run.
//
// Bounds: at most `queue_capacity` entries in memory; submit() never blocks the join — when the
// queue is full the entry stays in the outbox (it is durable there) and is picked up by a rescan
// of the outbox once the queue has room. At most `workers` requests in flight, each bounded by
// the connect and request timeouts.
//
// https:// URLs work when cpp-httplib is built with OpenSSL (Debian's 0.11 package is:
// CPPHTTPLIB_OPENSSL_SUPPORT); the server certificate is verified against the system CA store.
//
// Threads: submit() and stats() from any thread; start()/stop() from the owner (runtime) thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace tracefeed::state {
class Store;
}

namespace tracefeed::route {

struct WebhookOptions {
  // Attempts before the decision becomes `failed`; in [1, 100]. Default: 5.
  int max_attempts = 5;
  // Wait before the second attempt, doubled for each later one. Default: 500 ms.
  std::chrono::milliseconds initial_backoff{500};
  // Longest wait between two attempts. Default: 30 s.
  std::chrono::milliseconds max_backoff{30'000};
  // TCP (and TLS) connect timeout of one attempt. Default: 2 s.
  std::chrono::milliseconds connect_timeout{2'000};
  // Read and write timeout of one attempt. Default: 5 s.
  std::chrono::milliseconds request_timeout{5'000};
  // Outbox entries held in memory (scheduled or in flight); more wait in the outbox. At least 1.
  // Default: 10000.
  size_t queue_capacity = 10'000;
  // Delivery threads (requests in flight); in [1, 64]. Default: 2.
  int workers = 2;
  // How long a submitted entry that is not yet committed is waited for before the dispatcher
  // gives up on it (the join's batch failed; a restart finds it in the outbox if it was written
  // after all). Default: 30 s.
  std::chrono::milliseconds commit_wait{30'000};

  [[nodiscard]] Status validate() const;
};

struct WebhookStats {
  std::atomic<uint64_t> attempts{0};    // HTTP requests made
  std::atomic<uint64_t> delivered{0};   // entries answered 2xx
  std::atomic<uint64_t> failed{0};      // entries given up on (decision `failed`)
  std::atomic<uint64_t> overflowed{0};  // submits left to the outbox rescan because the queue was full
};

// "whk\0<trace_id>\0<rule>\0<action_index>".
[[nodiscard]] std::string webhook_outbox_key(std::string_view trace_id, std::string_view rule, size_t action_index);
// "whk\0<trace_id>\0<rule>\0": every outbox entry of one (trace, rule).
[[nodiscard]] std::string webhook_outbox_prefix(std::string_view trace_id, std::string_view rule);
// "whk\0": the whole outbox.
inline constexpr std::string_view webhook_outbox_all{"whk\0", 4};
// "<url>\0<body>".
[[nodiscard]] std::string webhook_outbox_value(std::string_view url, std::string_view body);

// Checks a webhook target: an absolute http:// or https:// URL with a host, no spaces or control
// characters. invalid_argument names the problem.
[[nodiscard]] Status check_webhook_url(std::string_view url);

class WebhookDispatcher {
 public:
  // `store` and `clock` (timestamps of decision records) must outlive the dispatcher.
  WebhookDispatcher(state::Store& store, const Clock& clock, WebhookOptions options = {});
  ~WebhookDispatcher();  // stop()
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  // Validates the options, queues the outbox entries left by an earlier run and starts the workers.
  [[nodiscard]] Status start();
  // Stops the workers; a request in flight finishes first (bounded by its timeouts). Entries not
  // delivered stay in the outbox for the next start(). Idempotent.
  void stop();

  // An outbox entry was written (maybe not committed yet). Never blocks; see the bounds above.
  void submit(std::string outbox_key);

  [[nodiscard]] const WebhookStats& stats() const noexcept { return _stats; }
  // Entries in memory (scheduled or in flight).
  [[nodiscard]] size_t queued() const;

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;
  struct Job {
    std::string key;
    int attempts = 0;
    int commit_checks = 0;
    bool from_outbox = false;  // found in the store: already committed
    SteadyTime submitted;
    std::string last_error;
  };
  enum class Outcome { done, retry };

  void run_worker();
  // Delivers or reschedules one job (no lock held). Sets `next` when it must run again.
  Outcome handle(Job& job, SteadyTime& next);
  [[nodiscard]] Status finalize(const Job& job, std::string_view url, bool delivered, std::string_view detail);
  void rescan_outbox();
  std::chrono::milliseconds backoff(int attempts) const;

  state::Store& _store;
  const Clock& _clock;
  WebhookOptions _options;
  WebhookStats _stats;

  mutable std::mutex _mu;  // guards everything below
  std::condition_variable _cv;
  std::multimap<SteadyTime, Job> _scheduled;
  std::unordered_set<std::string> _known;  // keys scheduled or in flight
  SteadyTime _rescan_until{};              // rescan the outbox until then (an overflow happened)
  SteadyTime _last_rescan{};
  bool _rescan_pending = false;            // the last rescan filled the queue: the outbox holds more
  bool _stopping = false;
  bool _rescanning = false;
  std::vector<std::thread> _workers;

  std::mutex _finalize_mu;  // serialises the read-modify-write of decision records
};

}  // namespace tracefeed::route
