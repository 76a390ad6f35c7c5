#pragma once
// Test helpers for join tests: a fresh RocksDB store per test and event builders.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "core/clock.h"
#include "core/event_json.h"
#include "state/store.h"

namespace tracefeed::join::testing {

inline constexpr const char* kTrace = "tr-0123456789abcdef0123456789abcdef";

class TempStore {
 public:
  explicit TempStore(const Clock& clock, const std::string& suffix = "") {
    _dir = std::filesystem::temp_directory_path() /
           ("tracefeed-join-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + suffix);
    std::filesystem::remove_all(_dir);
    state::StoreOptions o;
    o.path = _dir.string();
    o.memory_budget_bytes = 64u << 20;
    auto s = state::Store::open(o, clock);
    EXPECT_TRUE(s.is_ok()) << s.status().to_string();
    if (s.is_ok()) _store = std::move(s).value();
  }
  ~TempStore() {
    _store.reset();
    std::filesystem::remove_all(_dir);
  }
  state::Store& operator*() { return *_store; }
  state::Store* operator->() { return _store.get(); }

 private:
  std::filesystem::path _dir;
  std::unique_ptr<state::Store> _store;
};

inline Envelope parse(const std::string& json) {
  EventParser p;
  auto e = p.parse_envelope(json);
  EXPECT_TRUE(e.is_ok()) << e.status().to_string() << "\n" << json;
  return e.is_ok() ? std::move(e).value() : Envelope{};
}

inline std::string feedback_json(const std::string& event_id, const std::string& id, const std::string& value,
                                 const std::string& extra = "", const std::string& trace = kTrace) {
  return R"({"event_id":")" + event_id + R"(","type":"assessment","time":"2025-06-01T12:00:0)" +
         std::to_string(event_id.size() % 10) + R"(Z","assessment":{)" +
         (id.empty() ? "" : R"("assessment_id":")" + id + R"(",)") + R"("assessment_name":"user_feedback","trace_id":")" +
         trace + R"(","source":{"source_type":"HUMAN","source_id":"enduser_123"},"feedback":{"value":)" + value + "}" +
         extra + "}}";
}

inline std::string trace_json(const std::string& event_id, const std::string& spans, const std::string& trace = kTrace) {
  return R"({"event_id":")" + event_id + R"(","type":"trace","trace":{"trace_info":{"trace_id":")" + trace +
         R"("},"spans":[)" + spans + "]}}";
}

inline std::string root_span() {
  return R"({"span_id":"00000000000000a1","name":"my_chatbot","start_time_unix_nano":1748779200250000000,"end_time_unix_nano":1748779201500000000,"status":"OK","span_type":"CHAIN","inputs":{"user_question":"What is MLflow?"},"outputs":"MLflow is a platform."})";
}

inline std::string child_span() {
  return R"({"span_id":"00000000000000a2","parent_span_id":"00000000000000a1","name":"retrieve_context","start_time_unix_nano":1748779200300000000,"end_time_unix_nano":1748779200400000000,"span_type":"RETRIEVER"})";
}

}  // namespace tracefeed::join::testing
