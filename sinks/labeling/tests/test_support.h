#pragma once
// Test helpers for the labeling sink: a RocksDB store in a fresh temp dir that can be reopened
// (restarts), a fake EventSink that records what would go to Kafka, and small builders.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "config/config.h"
#include "core/clock.h"
#include "core/event_sink.h"
#include "state/store.h"

namespace tracefeed::labeling::testing {

inline std::string trace(int i) {
  std::string hex = std::to_string(i);
  return "tr-" + std::string(32 - hex.size(), '0') + hex;
}

class TempStore {
 public:
  explicit TempStore(const Clock& clock, const std::string& suffix = "") : _clock(clock) {
    _dir = std::filesystem::temp_directory_path() /
           ("tracefeed-labeling-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + suffix);
    std::filesystem::remove_all(_dir);
    open();
  }
  ~TempStore() {
    _store.reset();
    std::filesystem::remove_all(_dir);
  }
  // Closes and opens the store again (a restart).
  void reopen() {
    if (_store) {
      EXPECT_TRUE(_store->close().is_ok());
    }
    _store.reset();
    open();
  }
  state::Store& operator*() { return *_store; }
  state::Store* operator->() { return _store.get(); }

 private:
  void open() {
    state::StoreOptions o;
    o.path = _dir.string();
    o.memory_budget_bytes = 64u << 20;
    auto s = state::Store::open(o, _clock);
    ASSERT_TRUE(s.is_ok()) << s.status().to_string();
    _store = std::move(s).value();
  }
  const Clock& _clock;
  std::filesystem::path _dir;
  std::unique_ptr<state::Store> _store;
};

// Records every envelope it is asked to publish; `fail` makes it refuse (Kafka down).
class FakeSink final : public EventSink {
 public:
  std::vector<Status> publish(std::span<const Envelope> events) override {
    std::lock_guard lock(_mu);
    ++calls;
    std::vector<Status> out;
    for (const auto& e : events) {
      if (fail) {
        out.push_back(Status::unavailable("broker down"));
        continue;
      }
      published.push_back(e);
      out.push_back(Status::ok());
    }
    return out;
  }
  std::vector<Envelope> snapshot() {
    std::lock_guard lock(_mu);
    return published;
  }
  size_t size() {
    std::lock_guard lock(_mu);
    return published.size();
  }

  std::atomic<bool> fail{false};
  std::atomic<int> calls{0};

 private:
  std::mutex _mu;
  std::vector<Envelope> published;
};

inline config::LabelSchema categorical(std::string name, std::vector<std::string> options,
                                       bool comments = false) {
  config::LabelSchema s;
  s.name = std::move(name);
  s.type = config::LabelSchemaType::feedback;
  s.title = "Is the response factually accurate?";
  s.enable_comment = comments;
  s.input = config::CategoricalInput{std::move(options)};
  return s;
}

inline config::LabelSchema text_expectation(std::string name,
                                            std::optional<int64_t> max_length = std::nullopt) {
  config::LabelSchema s;
  s.name = std::move(name);
  s.type = config::LabelSchemaType::expectation;
  s.title = "What would be the ideal response?";
  s.input = config::TextInput{max_length};
  return s;
}

inline config::LabelSchema numeric(std::string name, double lo, double hi) {
  config::LabelSchema s;
  s.name = std::move(name);
  s.title = "Score";
  s.input = config::NumericInput{lo, hi};
  return s;
}

// Waits for `cond` with a deadline; the short pause between checks is a poll interval.
template <typename Fn>
bool eventually(Fn cond, std::chrono::seconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

}  // namespace tracefeed::labeling::testing
