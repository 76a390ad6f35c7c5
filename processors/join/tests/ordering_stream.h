#pragma once
// A deterministic input stream with every ordering the join must handle, the rules it is routed
// with, and the decisions it must end with — shared by the crash tests and join_worker (the
// child process they kill) and by bench/join/restart_bench.
//
// Every trace kind is monotone for the rules below: once a rule's condition holds for a trace it
// keeps holding, so the final decisions and outputs do not depend on where batch boundaries fall
// (which differs between a run with crashes and one without). All events of one trace carry the
// same envelope time, so decision and output timestamps do not depend on batching either.

#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/time_format.h"
#include "processors/route/router.h"

namespace tracefeed::join::testing {

inline constexpr const char* kRuleDown = "thumbs_down";          // -> review, labeling session review_q
inline constexpr const char* kRuleRetrieval = "retrieval_down";  // -> eval, dataset ds_retrieval

inline std::vector<route::Rule> ordering_rules() {
  std::vector<route::Rule> rules;
  auto a = route::compile_rule(kRuleDown, "feedback.user_feedback = false", 1.0, 1, false,
                               {{route::RuleAction::Kind::labeling_session, "review_q"}});
  auto b = route::compile_rule(kRuleRetrieval, "feedback.user_feedback = false AND span.type = 'RETRIEVER'", 1.0, 2,
                               false, {{route::RuleAction::Kind::eval, "ds_retrieval"}});
  if (a.is_ok()) rules.push_back(std::move(a).value());
  if (b.is_ok()) rules.push_back(std::move(b).value());
  return rules;
}

struct StreamEvent {
  bool trace_topic = false;  // traces topic, else assessments
  std::string key;           // trace id
  std::string value;         // envelope JSON (or a malformed record)
};

struct OrderingStream {
  std::vector<StreamEvent> events;
  // trace id -> rule -> final decision ("routed", "filtered_out", "waiting_for_trace").
  std::map<std::string, std::map<std::string, std::string>> expected;
  size_t malformed = 0;
  size_t traces() const { return expected.size(); }
};

inline std::string ordering_trace_id(size_t i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "tr-%016llx%016llx", static_cast<unsigned long long>(i * 0x9E3779B97F4A7C15ull),
                static_cast<unsigned long long>(i + 1));
  return buf;
}

// `traces` traces of 8 kinds (i % 8), their events interleaved pseudo-randomly (seeded) while
// each trace's own events keep their order; every 50th trace also sends a malformed record.
// Trace i's events carry time base_ns + i s. Pass a recent base (e.g. now): applied event ids
// are kept for the store's dedup window counted from event time, so a stream dated long ago
// loses them at the first compaction.
inline OrderingStream make_ordering_stream(size_t traces, int64_t base_ns, uint64_t seed = 42) {
  OrderingStream s;
  std::vector<std::vector<StreamEvent>> per_trace(traces);
  for (size_t i = 0; i < traces; ++i) {
    const std::string id = ordering_trace_id(i);
    const std::string time = format_rfc3339(base_ns + static_cast<int64_t>(i) * 1'000'000'000);
    auto& ev = per_trace[i];
    int n = 0;
    auto eid = [&] { return id + "-e" + std::to_string(n++); };
    const std::string root = R"({"span_id":"00000000000000a1","name":"chat","start_time_unix_nano":1748736000250000000,)"
                             R"("end_time_unix_nano":1748736001500000000,"status":"OK","span_type":"CHAIN",)"
                             R"("inputs":{"q":"What is MLflow?"},"outputs":"A platform."})";
    const std::string child = R"({"span_id":"00000000000000a2","parent_span_id":"00000000000000a1","name":"retrieve",)"
                              R"("start_time_unix_nano":1748736000300000000,"end_time_unix_nano":1748736000400000000,)"
                              R"("span_type":"RETRIEVER"})";
    auto trace = [&](const std::string& spans, std::string event_id = "") {
      if (event_id.empty()) event_id = eid();
      ev.push_back({true, id,
                    R"({"event_id":")" + event_id + R"(","type":"trace","time":")" + time +
                        R"(","trace":{"trace_info":{"trace_id":")" + id + R"("},"spans":[)" + spans + "]}}"});
    };
    auto feedback = [&](const std::string& aid, bool value, const std::string& overrides = "",
                        std::string event_id = "") {
      if (event_id.empty()) event_id = eid();
      ev.push_back({false, id,
                    R"({"event_id":")" + event_id + R"(","type":"assessment","time":")" + time +
                        R"(","assessment":{"assessment_id":")" + aid + R"(","assessment_name":"user_feedback","trace_id":")" +
                        id + R"(","source":{"source_type":"HUMAN","source_id":"u1"},"feedback":{"value":)" +
                        (value ? "true" : "false") + "}" +
                        (overrides.empty() ? "" : R"(,"overrides":")" + overrides + "\"") + "}}"});
    };
    auto& want = s.expected[id];
    switch (i % 8) {
      case 0:  // trace, then thumbs down
        trace(root + "," + child);
        feedback("a-01", false);
        want = {{kRuleDown, "routed"}, {kRuleRetrieval, "routed"}};
        break;
      case 1:  // thumbs down before its trace (which has no retriever)
        feedback("a-01", false);
        trace(root);
        want = {{kRuleDown, "routed"}, {kRuleRetrieval, "filtered_out"}};
        break;
      case 2:  // trace in parts, feedback between them
        trace(root);
        feedback("a-01", false);
        trace(child);
        want = {{kRuleDown, "routed"}, {kRuleRetrieval, "routed"}};
        break;
      case 3: {  // client retries: the same events twice
        const std::string t = eid(), f = eid();
        trace(root + "," + child, t);
        feedback("a-01", true, "", f);
        trace(root + "," + child, t);
        feedback("a-01", true, "", f);
        want = {{kRuleDown, "filtered_out"}, {kRuleRetrieval, "filtered_out"}};
        break;
      }
      case 4:  // a thumbs-down override arrives before the original it replaces
        feedback("a-02", false, "a-01");
        feedback("a-01", true);
        trace(root + "," + child);
        want = {{kRuleDown, "routed"}, {kRuleRetrieval, "routed"}};
        break;
      case 5:  // a thumbs-up override arrives before a thumbs-down original: never routed
        feedback("a-02", true, "a-01");
        feedback("a-01", false);
        trace(root);
        want = {{kRuleDown, "filtered_out"}, {kRuleRetrieval, "filtered_out"}};
        break;
      case 6:  // thumbs up, later updated to thumbs down
        trace(root + "," + child);
        feedback("a-01", true);
        ev.push_back({false, id,
                      R"({"event_id":")" + eid() + R"(","type":"assessment_update","time":")" + time +
                          R"(","assessment":{"assessment_id":"a-01","trace_id":")" + id +
                          R"(","feedback":{"value":false}}})"});
        want = {{kRuleDown, "routed"}, {kRuleRetrieval, "routed"}};
        break;
      case 7:  // feedback whose trace never comes
        feedback("a-01", false);
        want = {{kRuleDown, "routed"}, {kRuleRetrieval, "waiting_for_trace"}};
        break;
    }
    if (i % 50 == 49) {
      ev.push_back({false, id, "{not json"});
      ++s.malformed;
    }
  }
  // Interleave: repeatedly take the next event of a random trace that has events left.
  std::mt19937_64 rng(seed);
  std::vector<size_t> next(traces, 0);
  std::vector<size_t> live;
  for (size_t i = 0; i < traces; ++i) live.push_back(i);
  while (!live.empty()) {
    const size_t k = rng() % live.size();
    const size_t t = live[k];
    s.events.push_back(std::move(per_trace[t][next[t]++]));
    if (next[t] == per_trace[t].size()) {
      live[k] = live.back();
      live.pop_back();
    }
  }
  return s;
}

}  // namespace tracefeed::join::testing
