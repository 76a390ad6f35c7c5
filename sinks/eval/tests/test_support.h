#pragma once
// Test helpers for the datasets tests: a fresh RocksDB store per test, joined state written with
// the real Joiner, and event builders for the quickstart's trace and labels.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/event_json.h"
#include "processors/join/joiner.h"
#include "sinks/eval/dataset_store.h"
#include "state/store.h"
#include "state/write_batch.h"

namespace tracefeed::eval::testing {

// "tr-" + 32 hex from a number: many distinct valid trace ids.
inline std::string trace_id(int n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "tr-%032x", n);
  return buf;
}

class TempStore {
 public:
  explicit TempStore(const Clock& clock) {
    _dir = std::filesystem::temp_directory_path() /
           ("tracefeed-datasets-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(_dir);
    open(clock);
  }
  ~TempStore() {
    _store.reset();
    std::filesystem::remove_all(_dir);
  }
  // Closes and reopens the same directory (a restart).
  void reopen(const Clock& clock) {
    if (_store) {
      EXPECT_TRUE(_store->close().is_ok());
    }
    _store.reset();
    open(clock);
  }
  state::Store& operator*() { return *_store; }
  state::Store* operator->() { return _store.get(); }

 private:
  void open(const Clock& clock) {
    state::StoreOptions o;
    o.path = _dir.string();
    o.memory_budget_bytes = 64u << 20;
    auto s = state::Store::open(o, clock);
    ASSERT_TRUE(s.is_ok()) << s.status().to_string();
    _store = std::move(s).value();
  }

  std::filesystem::path _dir;
  std::unique_ptr<state::Store> _store;
};

inline std::string trace_event(const std::string& event_id, const std::string& trace,
                               const std::string& question = "What is MLflow?") {
  return R"({"event_id":")" + event_id + R"(","type":"trace","trace":{"trace_info":{"trace_id":")" + trace +
         R"(","request_time":"2025-06-01T12:00:00Z","state":"OK"},"spans":[{"span_id":"00000000000000a1","name":"my_chatbot","start_time_unix_nano":1748779200250000000,"end_time_unix_nano":1748779201500000000,"status":"OK","span_type":"CHAIN","inputs":{"user_question":")" +
         question + R"("},"outputs":"MLflow is a platform."}]}})";
}

inline std::string thumbs_down_event(const std::string& event_id, const std::string& trace) {
  return R"({"event_id":")" + event_id + R"(","type":"assessment","time":"2025-06-01T12:00:05Z","assessment":{"assessment_name":"user_feedback","trace_id":")" +
         trace + R"(","source":{"source_type":"HUMAN","source_id":"enduser_123"},"feedback":{"value":false}}})";
}

// An expert's expected_response from a labeling session.
inline std::string expectation_event(const std::string& event_id, const std::string& trace,
                                     const std::string& assessment_id, const std::string& value,
                                     const std::string& session = "ls-quickstart") {
  return R"({"event_id":")" + event_id + R"(","type":"assessment","time":"2025-06-01T12:10:00Z","assessment":{"assessment_id":")" +
         assessment_id + R"(","assessment_name":"expected_response","trace_id":")" + trace +
         R"(","source":{"source_type":"HUMAN","source_id":"expert_1"},"expectation":{"value":")" + value +
         R"("},"metadata":{"tracefeed.labeling_session_id":")" + session + R"("}}})";
}

// Applies events with the real Joiner, as the join processor does; written through `datasets`'
// batch writer when given (the wiring of tracefeed run), else straight to the store.
class JoinedState {
 public:
  explicit JoinedState(state::Store& store, DatasetStore* datasets = nullptr) : _store(store), _datasets(datasets) {}

  void apply(const std::vector<std::string>& events) {
    state::WriteBatch batch(_store);
    std::vector<std::string> touched;
    EventParser parser;
    for (const auto& json : events) {
      auto e = parser.parse_envelope(json);
      ASSERT_TRUE(e.is_ok()) << e.status().to_string() << "\n" << json;
      auto r = _joiner.apply(*e, 1'748'779'200'000'000'000, batch);
      ASSERT_EQ(r.kind, join::ApplyResult::Kind::applied) << r.error.to_string();
      touched.push_back(e->trace_id());
    }
    std::vector<std::string_view> views(touched.begin(), touched.end());
    Status s = _datasets ? _datasets->write_join_batch(batch, views) : _store.write(batch);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
  }

 private:
  state::Store& _store;
  DatasetStore* _datasets;
  join::Joiner _joiner;
};

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

}  // namespace tracefeed::eval::testing
