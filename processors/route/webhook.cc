#include "processors/route/webhook.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "processors/route/router.h"
#include "state/keys.h"
#include "state/store.h"
#include "state/write_batch.h"

namespace tracefeed::route {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Pause between two checks of whether a submitted entry has been committed yet: the join writes
// its batch right after the routed outputs are acknowledged, normally within milliseconds.
std::chrono::milliseconds commit_poll(int checks) {
  return std::chrono::milliseconds(std::min(200, 2 << std::min(checks, 7)));
}

// Minimum spacing of outbox rescans after an overflow.
constexpr std::chrono::milliseconds kRescanInterval{500};

struct KeyParts {
  std::string_view trace_id, rule;
};

std::optional<KeyParts> parse_outbox_key(std::string_view key) {
  if (!key.starts_with(webhook_outbox_all)) return std::nullopt;
  key.remove_prefix(webhook_outbox_all.size());
  const auto a = key.find('\0');
  if (a == std::string_view::npos) return std::nullopt;
  const auto b = key.find('\0', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  return KeyParts{key.substr(0, a), key.substr(a + 1, b - a - 1)};
}

struct SplitUrl {
  std::string scheme_host_port;  // "http://host:port"
  std::string path;              // "/path?query"
};

SplitUrl split_url(std::string_view url) {
  const auto scheme_end = url.find("://");
  const auto path_start = url.find('/', scheme_end + 3);
  if (path_start == std::string_view::npos) return {std::string(url), "/"};
  return {std::string(url.substr(0, path_start)), std::string(url.substr(path_start))};
}

bool retriable_status(int status) { return status == 408 || status == 429 || status >= 500; }

}  // namespace

Status WebhookOptions::validate() const {
  std::string problems;
  auto problem = [&](std::string_view field, std::string_view what) {
    if (!problems.empty()) problems += "; ";
    problems += field;
    problems += ": ";
    problems += what;
  };
  if (max_attempts < 1 || max_attempts > 100) problem("max_attempts", "must be in [1, 100]");
  if (initial_backoff.count() < 0) problem("initial_backoff", "must not be negative");
  if (max_backoff < initial_backoff) problem("max_backoff", "must be at least initial_backoff");
  if (connect_timeout.count() <= 0) problem("connect_timeout", "must be positive");
  if (request_timeout.count() <= 0) problem("request_timeout", "must be positive");
  if (queue_capacity < 1) problem("queue_capacity", "must be at least 1");
  if (workers < 1 || workers > 64) problem("workers", "must be in [1, 64]");
  if (commit_wait.count() <= 0) problem("commit_wait", "must be positive");
  if (problems.empty()) return Status::ok();
  return Status::invalid_argument("webhook options: " + problems);
}

std::string webhook_outbox_prefix(std::string_view trace_id, std::string_view rule) {
  std::string k(webhook_outbox_all);
  k += trace_id;
  k.push_back('\0');
  k += rule;
  k.push_back('\0');
  return k;
}

std::string webhook_outbox_key(std::string_view trace_id, std::string_view rule, size_t action_index) {
  std::string k = webhook_outbox_prefix(trace_id, rule);
  k += std::to_string(action_index);
  return k;
}

std::string webhook_outbox_value(std::string_view url, std::string_view body) {
  std::string v;
  v.reserve(url.size() + 1 + body.size());
  v += url;
  v.push_back('\0');
  v += body;
  return v;
}

Status check_webhook_url(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else {
    return Status::invalid_argument("expected an http:// or https:// URL, got \"" + std::string(url) + "\"");
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Status::invalid_argument("the URL must not contain spaces or control characters");
    }
  }
  const std::string_view host_port = rest.substr(0, rest.find_first_of("/?#"));
  if (host_port.empty() || host_port.front() == ':') return Status::invalid_argument("the URL has no host");
  return Status::ok();
}

WebhookDispatcher::WebhookDispatcher(state::Store& store, const Clock& clock, WebhookOptions options)
    : _store(store), _clock(clock), _options(options) {}

WebhookDispatcher::~WebhookDispatcher() { stop(); }

Status WebhookDispatcher::start() {
  TF_RETURN_IF_ERROR(_options.validate());
  {
    std::lock_guard lock(_mu);
    if (!_workers.empty()) return Status::ok();
    _stopping = false;
  }
  // Whatever an earlier run left in the outbox (crash, stop, or overflow) is delivered first.
  rescan_outbox();
  std::lock_guard lock(_mu);
  for (int i = 0; i < _options.workers; ++i) _workers.emplace_back([this] { run_worker(); });
  return Status::ok();
}

void WebhookDispatcher::stop() {
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(_mu);
    _stopping = true;
    workers.swap(_workers);
  }
  _cv.notify_all();
  for (auto& t : workers) t.join();
  std::lock_guard lock(_mu);
  _scheduled.clear();
  _known.clear();
}

size_t WebhookDispatcher::queued() const {
  std::lock_guard lock(_mu);
  return _known.size();
}

void WebhookDispatcher::submit(std::string outbox_key) {
  const auto now = SteadyClock::now();
  {
    std::lock_guard lock(_mu);
    if (_known.count(outbox_key) != 0) return;
    if (_known.size() >= _options.queue_capacity) {
      // Durable in the outbox already (or about to be, with the join's batch): a rescan finds it.
      _rescan_until = now + _options.commit_wait;
      ++_stats.overflowed;
      return;
    }
    Job job;
    job.key = outbox_key;
    job.submitted = now;
    _known.insert(std::move(outbox_key));
    _scheduled.emplace(now, std::move(job));
  }
  _cv.notify_one();
}

void WebhookDispatcher::rescan_outbox() {
  {
    std::lock_guard lock(_mu);
    if (_rescanning || _known.size() >= _options.queue_capacity) return;
    _rescanning = true;
    _last_rescan = SteadyClock::now();
  }
  // Read without the lock: keys in flight are skipped below. Entries already finished are
  // erased from the outbox, so those found are committed and not yet delivered.
  std::vector<std::string> found;
  auto scanned = _store.scan(state::Family::meta,
                             state::ScanRange{webhook_outbox_all, state::prefix_successor(webhook_outbox_all),
                                              _options.queue_capacity + static_cast<size_t>(_options.workers)},
                             [&](std::string_view key, std::string_view) {
                               found.emplace_back(key);
                               return true;
                             });
  if (!scanned.is_ok()) spdlog::warn("webhooks: scanning the outbox: {}", scanned.status().to_string());
  const auto now = SteadyClock::now();
  {
    std::lock_guard lock(_mu);
    _rescanning = false;
    for (auto& key : found) {
      if (_known.size() >= _options.queue_capacity) break;
      if (!_known.insert(key).second) continue;
      Job job;
      job.key = std::move(key);
      job.from_outbox = true;
      job.submitted = now;
      _scheduled.emplace(now, std::move(job));
    }
    // A full page, or more than fitted: the outbox holds more, look again once there is room.
    _rescan_pending = !scanned.is_ok() || scanned->has_value() || _known.size() >= _options.queue_capacity;
  }
  _cv.notify_all();
}

std::chrono::milliseconds WebhookDispatcher::backoff(int attempts) const {
  auto wait = _options.initial_backoff;
  for (int i = 1; i < attempts && wait < _options.max_backoff; ++i) wait *= 2;
  return std::min(wait, _options.max_backoff);
}

void WebhookDispatcher::run_worker() {
  std::unique_lock lock(_mu);
  while (!_stopping) {
    const auto now = SteadyClock::now();
    const bool want_rescan = _rescan_pending || now < _rescan_until;
    if (want_rescan && !_rescanning && _known.size() <= _options.queue_capacity / 2 &&
        now - _last_rescan >= kRescanInterval) {
      lock.unlock();
      rescan_outbox();
      lock.lock();
      continue;
    }
    SteadyTime wake = SteadyTime::max();
    if (want_rescan) wake = _last_rescan + kRescanInterval;
    if (_scheduled.empty() || _scheduled.begin()->first > now) {
      if (!_scheduled.empty()) wake = std::min(wake, _scheduled.begin()->first);
      if (wake == SteadyTime::max()) {
        _cv.wait(lock);
      } else {
        _cv.wait_until(lock, wake);
      }
      continue;
    }
    auto it = _scheduled.begin();
    Job job = std::move(it->second);
    _scheduled.erase(it);
    lock.unlock();
    SteadyTime next{};
    const Outcome outcome = handle(job, next);
    lock.lock();
    if (outcome == Outcome::retry && !_stopping) {
      _scheduled.emplace(next, std::move(job));
      // Another worker may be sleeping past `next`.
      _cv.notify_one();
    } else {
      _known.erase(job.key);
    }
  }
}

WebhookDispatcher::Outcome WebhookDispatcher::handle(Job& job, SteadyTime& next) {
  auto stored = _store.get(state::Family::meta, job.key);
  const auto now = SteadyClock::now();
  if (!stored.is_ok()) {
    spdlog::warn("webhooks: reading outbox entry: {}", stored.status().to_string());
    next = now + std::chrono::seconds(1);
    return Outcome::retry;
  }
  if (!stored->has_value()) {
    // Finished already (found by a rescan while in flight), or the join's batch holding it is
    // not committed yet: wait for it, but not forever (a failed batch never commits).
    if (job.from_outbox || now - job.submitted >= _options.commit_wait) return Outcome::done;
    next = now + commit_poll(job.commit_checks++);
    return Outcome::retry;
  }
  job.from_outbox = true;
  const std::string& value = **stored;
  const auto sep = value.find('\0');
  const auto parts = parse_outbox_key(job.key);
  if (sep == std::string::npos || !parts) {
    spdlog::error("webhooks: malformed outbox entry; dropping it");
    (void)finalize(job, "", false, "malformed outbox entry");
    return Outcome::done;
  }
  const std::string_view url(value.data(), sep);
  const std::string_view body = std::string_view(value).substr(sep + 1);

  ++job.attempts;
  ++_stats.attempts;
  const SplitUrl target = split_url(url);
  httplib::Client client(target.scheme_host_port);
  client.set_connection_timeout(_options.connect_timeout);
  client.set_read_timeout(_options.request_timeout);
  client.set_write_timeout(_options.request_timeout);
  const std::string delivery_id = std::string(parts->trace_id) + "/" + std::string(parts->rule) + "/" +
                                  job.key.substr(job.key.rfind('\0') + 1);
  httplib::Headers headers = {{"X-Tracefeed-Delivery", delivery_id},
                              {"X-Tracefeed-Attempt", std::to_string(job.attempts)},
                              {"User-Agent", "tracefeed-webhook"}};
  auto res = client.Post(target.path, headers, body.data(), body.size(), "application/json");
  bool permanent = false;
  if (res && res->status >= 200 && res->status < 300) {
    const std::string detail = "HTTP " + std::to_string(res->status) + " on attempt " + std::to_string(job.attempts);
    if (Status s = finalize(job, url, true, detail); !s.is_ok()) {
      spdlog::warn("webhooks: storing the outcome: {}", s.to_string());
      next = SteadyClock::now() + std::chrono::seconds(1);
      --job.attempts;  // delivered again later: at-least-once
      return Outcome::retry;
    }
    ++_stats.delivered;
    return Outcome::done;
  }
  if (res) {
    job.last_error = "HTTP " + std::to_string(res->status);
    permanent = !retriable_status(res->status);
  } else {
    job.last_error = httplib::to_string(res.error());
  }
  if (!permanent && job.attempts < _options.max_attempts) {
    next = SteadyClock::now() + backoff(job.attempts);
    return Outcome::retry;
  }
  const std::string detail = permanent ? job.last_error + " (not retried)"
                                       : job.last_error + " after " + std::to_string(job.attempts) + " attempts";
  if (Status s = finalize(job, url, false, detail); !s.is_ok()) {
    spdlog::warn("webhooks: storing the outcome: {}", s.to_string());
    next = SteadyClock::now() + std::chrono::seconds(1);
    return Outcome::retry;
  }
  ++_stats.failed;
  spdlog::warn("webhooks: giving up on {} for rule {} of {}: {}", url, parts->rule, parts->trace_id, detail);
  return Outcome::done;
}

Status WebhookDispatcher::finalize(const Job& job, std::string_view url, bool delivered, std::string_view detail) {
  const auto parts = parse_outbox_key(job.key);
  std::lock_guard lock(_finalize_mu);
  state::WriteBatch batch(_store);
  batch.erase(state::Family::meta, job.key);
  if (!parts) return _store.write(batch);

  // Other webhooks of the same (trace, rule) still pending?
  bool others = false;
  TF_RETURN_IF_ERROR(_store.scan_prefix(state::Family::meta, webhook_outbox_prefix(parts->trace_id, parts->rule),
                                        [&](std::string_view key, std::string_view) {
                                          others = key != job.key;
                                          return !others;
                                        }));
  const std::string decision_key = state::child_key(parts->trace_id, parts->rule);
  TF_ASSIGN_OR_RETURN(auto current, _store.get(state::Family::decisions, decision_key));
  const bool already_failed = current && current->find(R"("decision":"failed")") != std::string::npos;
  const int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(_clock.now().time_since_epoch()).count();
  std::string record;
  if (!delivered && !already_failed) {
    std::string reason = "all conditions met; webhook ";
    reason += url;
    reason += " failed: ";
    reason += detail;
    write_decision_json(record, parts->trace_id, parts->rule, Decision::failed, reason, now_ns);
  } else if (delivered && !already_failed && !others) {
    std::string reason = "all conditions met; webhook delivered: ";
    reason += url;
    reason += " answered ";
    reason += detail;
    write_decision_json(record, parts->trace_id, parts->rule, Decision::routed, reason, now_ns);
  }
  if (!record.empty()) batch.put(state::Family::decisions, decision_key, record);
  return _store.write(batch);
}

}  // namespace tracefeed::route
