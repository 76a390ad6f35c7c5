#pragma once
// Shared by the evaluator and CLI tests: joined traces in a temp RocksDB (written through a
// Joiner), an EventSink whose assessments go back through the join (as the gateway's Kafka sink
// and the join processor would), and the quickstart's events.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>

#include "core/event_json.h"
#include "core/event_sink.h"
#include "core/time_format.h"
#include "processors/evaluate/tests/fake_servers.h"
#include "processors/join/joiner.h"
#include "processors/join/trace_reader.h"
#include "state/store.h"
#include "state/write_batch.h"

namespace tracefeed::evaluate::testing {

constexpr const char* kGood = "tr-00000000000000000000000000000001";
constexpr const char* kBad = "tr-00000000000000000000000000000002";
constexpr const char* kOther = "tr-00000000000000000000000000000003";
constexpr const char* kExpected = "MLflow is an open-source platform for managing the machine learning lifecycle.";

// The joined state: a temp RocksDB written through a Joiner. Thread-safe.
class State {
 public:
  explicit State(const Clock& clock) {
    _dir = std::filesystem::temp_directory_path() /
           ("tracefeed-evaluate-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(_dir);
    state::StoreOptions o;
    o.path = _dir.string();
    o.memory_budget_bytes = 64u << 20;
    auto s = state::Store::open(o, clock);
    EXPECT_TRUE(s.is_ok()) << s.status().to_string();
    _store = std::move(s).value();
    _reader = std::make_unique<join::TraceReader>(*_store);
  }
  ~State() {
    _reader.reset();
    _store.reset();
    std::filesystem::remove_all(_dir);
  }
  void apply(const Envelope& e) {
    std::lock_guard lock(_mu);
    state::WriteBatch batch(*_store);
    const auto r = _joiner.apply(e, 1'750'000'000'000'000'000, batch);
    EXPECT_NE(r.kind, join::ApplyResult::Kind::rejected) << r.error.to_string();
    EXPECT_TRUE(_store->write(batch).is_ok());
  }
  void apply(const std::string& json) {
    EventParser p;
    auto e = p.parse_envelope(json);
    ASSERT_TRUE(e.is_ok()) << e.status().to_string() << "\n" << json;
    apply(*e);
  }
  Trace trace(const std::string& id) const {
    auto t = _reader->get(id, true);
    EXPECT_TRUE(t.is_ok() && t->has_value());
    return t.is_ok() && t->has_value() ? std::move(**t) : Trace{};
  }
  // Valid assessments of a trace named `name`.
  std::vector<Assessment> assessments(const std::string& trace_id, const std::string& name) const {
    std::vector<Assessment> out;
    for (auto& a : trace(trace_id).trace_info.assessments) {
      if (a.assessment_name == name && a.valid) out.push_back(a);
    }
    return out;
  }
  state::Store& store() { return *_store; }
  const join::TraceReader& reader() const { return *_reader; }

 private:
  std::filesystem::path _dir;
  std::unique_ptr<state::Store> _store;
  std::unique_ptr<join::TraceReader> _reader;
  std::mutex _mu;
  join::Joiner _joiner;
};

// Publishes into the join (like the gateway's Kafka sink + the join processor), optionally
// answering unavailable to the first `busy` publishes.
class JoiningSink final : public EventSink {
 public:
  explicit JoiningSink(State& state) : _state(state) {}
  std::vector<Status> publish(std::span<const Envelope> events) override {
    std::vector<Status> out;
    if (busy > 0) {
      --busy;
      out.assign(events.size(), Status::unavailable("broker down"));
      return out;
    }
    for (const auto& e : events) {
      _state.apply(e);
      std::lock_guard lock(_mu);
      _published.push_back(e);
      out.push_back(Status::ok());
    }
    return out;
  }
  std::vector<Envelope> published() const {
    std::lock_guard lock(_mu);
    return _published;
  }
  std::atomic<int> busy{0};

 private:
  State& _state;
  mutable std::mutex _mu;
  std::vector<Envelope> _published;
};

inline std::string trace_event(const std::string& trace_id, const std::string& question, const std::string& answer, int64_t time_s) {
  return R"({"event_id":"t-)" + trace_id + R"(","type":"trace","trace":{"trace_info":{"trace_id":")" + trace_id +
         R"(","request_time":")" + format_rfc3339(time_s * 1'000'000'000) + R"(","execution_duration":"1.250s"},"spans":[
      {"span_id":"00000000000000a1","name":"my_chatbot","span_type":"CHAIN","inputs":{"user_question":")" + question +
         R"("},"outputs":")" + answer + R"("},
      {"span_id":"00000000000000a2","parent_span_id":"00000000000000a1","name":"retrieve_context","span_type":"RETRIEVER",
       "outputs":"MLflow is an open-source platform for managing the end-to-end machine learning lifecycle."}]}})";
}

inline std::string expectation_event(const std::string& event_id, const std::string& id, const std::string& trace_id, const std::string& name,
                              const std::string& value_json, const std::string& extra = "") {
  return R"({"event_id":")" + event_id + R"(","type":"assessment","assessment":{"assessment_id":")" + id +
         R"(","assessment_name":")" + name + R"(","trace_id":")" + trace_id +
         R"(","source":{"source_type":"HUMAN","source_id":"expert_1"},"expectation":{"value":)" + value_json +
         R"(},"metadata":{"tracefeed.labeling_session_id":"quickstart_review"})" + extra + "}}";
}

inline std::string feedback_event(const std::string& event_id, const std::string& trace_id, bool value) {
  return R"({"event_id":")" + event_id + R"(","type":"assessment","assessment":{"assessment_name":"user_feedback","trace_id":")" +
         trace_id + R"(","source":{"source_type":"HUMAN","source_id":"enduser_123"},"feedback":{"value":)" +
         (value ? "true" : "false") + "}}}";
}

// A judge that says "yes" when the app's answer mentions "open-source".
inline std::string judge_answer(const std::string& prompt, http::Response&) {
  const size_t at = prompt.find("<app_answer>");
  const bool yes = at != std::string::npos && prompt.find("open-source", at) != std::string::npos;
  return verdict_json(yes, yes ? "The answer supports the reference." : "The answer misses the reference.");
}

}  // namespace tracefeed::evaluate::testing
