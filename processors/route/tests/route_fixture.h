#pragma once
// Shared by the route component tests: a store, a joiner and helpers that apply events and route
// the touched trace as the join processor does after each batch, and run backfill steps as its
// owner thread does between batches.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>

#include "processors/join/joiner.h"
#include "processors/join/tests/test_support.h"
#include "processors/route/router.h"
#include "state/write_batch.h"

namespace tracefeed::route::testing {

using namespace join::testing;

inline constexpr int64_t kTimeNs = 1'700'000'000'000'000'000;

// Waits for `done` up to `timeout`, checking every few milliseconds.
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

class RouteFixture : public ::testing::Test {
 protected:
  void set_rules(std::vector<Rule> rules) { _rules.replace(std::move(rules)); }

  // Applies one event and routes its trace in one batch.
  std::vector<Output> apply(Router& router, const std::string& json) {
    state::WriteBatch batch(*_store);
    const Envelope e = parse(json);
    (void)_joiner.apply(e, kTimeNs, batch);
    Trace t;
    bool present = false;
    EXPECT_TRUE(_joiner.load_joined(batch, e.trace_id(), t, present).is_ok());
    std::vector<Output> out;
    EXPECT_TRUE(router.route(t, present, kTimeNs, batch, out).is_ok());
    EXPECT_TRUE(_store->write(batch).is_ok());
    return out;
  }

  // Applies an event without routing (state written by a join without a router).
  void apply_unrouted(const std::string& json) {
    state::WriteBatch batch(*_store);
    (void)_joiner.apply(parse(json), kTimeNs, batch);
    ASSERT_TRUE(_store->write(batch).is_ok());
  }

  TraceLoader loader() {
    return [this](state::WriteBatch& b, const std::string& id, Trace& t, bool& present) {
      return _joiner.load_joined(b, id, t, present);
    };
  }

  // Runs backfill steps (each in its own batch, as the join's hook does) until there is no work.
  // Returns every output; `steps` receives the number of steps that did work.
  std::vector<Output> drain_backfill(Router& router, int* steps = nullptr) {
    std::vector<Output> all;
    int n = 0;
    for (int guard = 0; guard < 10'000; ++guard) {
      state::WriteBatch batch(*_store);
      std::vector<Output> out;
      auto visited = router.backfill_step(*_store, batch, loader(), kTimeNs, out);
      EXPECT_TRUE(visited.is_ok()) << visited.status().to_string();
      if (!visited.is_ok()) break;
      const bool wrote = !batch.empty();
      EXPECT_TRUE(_store->write(batch).is_ok());
      all.insert(all.end(), out.begin(), out.end());
      if (*visited == 0 && !wrote) break;
      ++n;
    }
    if (steps) *steps = n;
    return all;
  }

  std::string decision(const std::string& rule, const std::string& trace = kTrace) {
    auto d = read_decisions(*_store, trace);
    EXPECT_TRUE(d.is_ok());
    for (const auto& v : *d) {
      if (v.find("rule")->as_string() == rule) return v.find("decision")->as_string() + ": " + v.find("reason")->as_string();
    }
    return "";
  }

  static Rule rule(const std::string& name, const std::string& filter, std::vector<RuleAction> actions,
                   bool backfill = false) {
    auto r = compile_rule(name, filter, 1.0, 0, backfill, std::move(actions));
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? std::move(r).value() : Rule{};
  }

  static std::string trace_id(int i) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "tr-%032x", i);
    return buf;
  }

  ManualClock _clock;
  TempStore _store{_clock};
  join::Joiner _joiner;
  RuleSet _rules;
  Topics _topics = Topics::with_prefix("tf.");
};

}  // namespace tracefeed::route::testing
