// The Joiner's memory — the LRU of stored traces with their assessments, the pending index and
// the batch prefetch — must never change what it computes. Differential test: random event
// streams (traces in parts, feedback before and after its trace, overrides in both orders,
// updates, deletes, duplicates, dropped batches, restarts) go through a Joiner used as the join
// uses it and through a reference that starts every batch from nothing but the store. Every
// joined view and, at the end, every stored byte must agree.
#include <random>
#include <set>

#include "core/event_json.h"
#include "core/json_writer.h"
#include "processors/join/joiner.h"
#include "processors/join/tests/test_support.h"
#include "state/family.h"
#include "state/write_batch.h"

namespace tracefeed::join {
namespace {

using namespace testing;

constexpr int64_t kTimeNs = 1'700'000'000'000'000'000;

std::string trace_id(int i) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "tr-%032x", i + 1);
  return buf;
}

// One random stream over a few traces, so that every interleaving shows up often.
class Stream {
 public:
  explicit Stream(uint32_t seed) : _rng(seed) {}

  std::string next() {
    if (!_sent.empty() && pick(20) == 0) return _sent[pick(_sent.size())];  // a duplicate
    const std::string trace = trace_id(static_cast<int>(pick(kTraces)));
    const std::string event_id = "e" + std::to_string(++_events);
    std::string json;
    switch (pick(10)) {
      case 0:
      case 1:
        json = trace_json(event_id, pick(2) == 0 ? root_span() : child_span(), trace);
        break;
      case 2:
      case 3:
      case 4: {
        // Explicit ids from a small pool (so updates, deletes and overrides find them), or none
        // (derived from the event id).
        const std::string id = pick(4) == 0 ? "" : "a-" + std::to_string(pick(kIds));
        std::string extra;
        if (pick(4) == 0) extra = R"(,"overrides":"a-)" + std::to_string(pick(kIds)) + "\"";
        json = feedback_json(event_id, id, pick(2) == 0 ? "true" : "false", extra, trace);
        break;
      }
      case 5:
      case 6:
        json = R"({"event_id":")" + event_id + R"(","type":"assessment_update","assessment":{"assessment_id":"a-)" +
               std::to_string(pick(kIds)) + R"(","trace_id":")" + trace + R"(","rationale":"r)" + event_id + R"("}})";
        break;
      case 7:
        json = R"({"event_id":")" + event_id + R"(","type":"assessment_update","assessment":{"assessment_id":"a-)" +
               std::to_string(pick(kIds)) + R"(","trace_id":")" + trace + R"(","feedback":{"value":)" +
               (pick(2) == 0 ? "true" : "false") + "}}}";
        break;
      default:
        json = R"({"event_id":")" + event_id + R"(","type":"assessment_delete","assessment":{"assessment_id":"a-)" +
               std::to_string(pick(kIds)) + R"(","trace_id":")" + trace + R"("}})";
        break;
    }
    _sent.push_back(json);
    return json;
  }
  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(_rng); }

  static constexpr size_t kTraces = 6;
  static constexpr size_t kIds = 5;

 private:
  std::mt19937 _rng;
  std::vector<std::string> _sent;
  uint64_t _events = 0;
};

std::string joined_json(Joiner& joiner, state::WriteBatch& batch, const std::string& id) {
  bool present = false;
  auto t = joiner.joined(batch, id, present);
  EXPECT_TRUE(t.is_ok()) << t.status().to_string();
  if (!t.is_ok()) return "";
  return (present ? "present " : "absent ") + to_json(**t);
}

std::string dump(state::Store& store) {
  std::string out;
  for (state::Family f : state::all_families) {
    if (f == state::Family::offsets) continue;
    EXPECT_TRUE(store.scan_prefix(f, "", [&](std::string_view k, std::string_view v) {
      out += std::string(state::family_name(f)) + " " + std::string(k) + " = " + std::string(v) + "\n";
      return true;
    }).is_ok());
  }
  return out;
}

void run_stream(uint32_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  ManualClock clock;
  TempStore fast_store(clock, "-fast"), ref_store(clock, "-ref");
  Stream stream(seed);
  auto fast = std::make_unique<Joiner>();
  ASSERT_TRUE(fast->load_indexes(*fast_store).is_ok());
  state::WriteBatch fast_batch(*fast_store);
  EventParser parser;
  size_t written = 0, dropped = 0, restarts = 0;

  for (int round = 0; round < 300; ++round) {
    std::vector<Envelope> events;
    const size_t n = 1 + stream.pick(8);
    for (size_t i = 0; i < n; ++i) events.push_back(parse(stream.next()));

    // As the join does: begin, prefetch, apply, join the traces (routing loads assessments).
    fast->begin_batch();
    std::vector<const Envelope*> ptrs;
    for (const auto& e : events) ptrs.push_back(&e);
    ASSERT_TRUE(fast->prefetch(fast_batch, ptrs).is_ok());
    Joiner ref;  // nothing but the store
    state::WriteBatch ref_batch(*ref_store);
    for (const auto& e : events) {
      const ApplyResult a = fast->apply(e, kTimeNs, fast_batch);
      const ApplyResult b = ref.apply(e, kTimeNs, ref_batch);
      ASSERT_EQ(a.kind, b.kind) << "round " << round << ": " << to_json(e);
      ASSERT_EQ(a.pending_delta, b.pending_delta) << "round " << round << ": " << to_json(e);
      ASSERT_EQ(a.error.to_string(), b.error.to_string());
    }
    for (size_t t = 0; t < Stream::kTraces; ++t) {
      // Some traces go to the LRU without their assessments loaded (a join without a router).
      if (stream.pick(3) == 0) continue;
      ASSERT_EQ(joined_json(*fast, fast_batch, trace_id(static_cast<int>(t))),
                joined_json(ref, ref_batch, trace_id(static_cast<int>(t))))
          << "round " << round << ", trace " << t;
    }
    if (stream.pick(6) == 0) {
      // An aborted transaction: the batch is dropped in both.
      fast_batch.clear();
      ++dropped;
      continue;
    }
    ASSERT_TRUE(fast_store->write(fast_batch).is_ok());
    fast->batch_written(fast_batch);
    ASSERT_TRUE(ref_store->write(ref_batch).is_ok());
    ++written;
    if (stream.pick(25) == 0) {
      // A restart: memory starts over from the store.
      fast = std::make_unique<Joiner>();
      ASSERT_TRUE(fast->load_indexes(*fast_store).is_ok());
      ++restarts;
    }
  }
  EXPECT_GT(written, 100u);
  EXPECT_GT(dropped, 10u);
  EXPECT_GT(restarts, 2u);
  EXPECT_EQ(dump(*fast_store), dump(*ref_store));
}

TEST(JoinerCacheTest, SameResultsAsAJoinerWithoutMemory) {
  for (uint32_t seed = 1; seed <= 8; ++seed) {
    run_stream(seed);
    if (HasFatalFailure()) return;
  }
}

// More traces than the Joiner keeps (16,384 stored ones): the least recently used are evicted
// and their memory is reused for the next trace read from the store. Every joined view must
// still match a Joiner that starts each batch from the store alone — no span or assessment of
// an evicted trace may show up in the trace that took its place, present or absent.
TEST(JoinerCacheTest, EvictedTracesLeaveNothingBehindInTheTracesReusingTheirMemory) {
  ManualClock clock;
  TempStore fast_store(clock, "-fast"), ref_store(clock, "-ref");
  Joiner fast;
  ASSERT_TRUE(fast.load_indexes(*fast_store).is_ok());
  state::WriteBatch fast_batch(*fast_store);
  std::mt19937 rng(7);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  int traces = 0, events = 0, read_back = 0, absent = 0;
  for (int round = 0; round < 60; ++round) {
    std::vector<Envelope> batch;
    std::vector<std::string> touched;
    for (int i = 0; i < 500; ++i) {
      const std::string event_id = "e" + std::to_string(++events);
      std::string json;
      const size_t kind = pick(10);
      if (kind < 7 || traces == 0) {
        // A new trace of one or two spans.
        touched.push_back(trace_id(traces++));
        json = trace_json(event_id, pick(2) == 0 ? root_span() : root_span() + "," + child_span(), touched.back());
      } else if (kind < 9) {
        // Feedback on an earlier trace: late in the run mostly one evicted long ago.
        touched.push_back(trace_id(static_cast<int>(pick(static_cast<size_t>(traces)))));
        json = feedback_json(event_id, "", pick(2) == 0 ? "true" : "false", "", touched.back());
        ++read_back;
      } else {
        // Feedback whose trace never comes.
        touched.push_back(trace_id(1'000'000 + events));
        json = feedback_json(event_id, "", "false", "", touched.back());
        ++absent;
      }
      batch.push_back(parse(json));
    }
    fast.begin_batch();
    std::vector<const Envelope*> ptrs;
    for (const auto& e : batch) ptrs.push_back(&e);
    ASSERT_TRUE(fast.prefetch(fast_batch, ptrs).is_ok());
    Joiner ref;
    state::WriteBatch ref_batch(*ref_store);
    for (const auto& e : batch) {
      ASSERT_EQ(fast.apply(e, kTimeNs, fast_batch).kind, ref.apply(e, kTimeNs, ref_batch).kind) << to_json(e);
    }
    for (const auto& id : touched) {
      ASSERT_EQ(joined_json(fast, fast_batch, id), joined_json(ref, ref_batch, id)) << "round " << round << ", " << id;
    }
    ASSERT_TRUE(fast_store->write(fast_batch).is_ok());
    fast.batch_written(fast_batch);
    ASSERT_TRUE(ref_store->write(ref_batch).is_ok());
  }
  EXPECT_GT(traces, 20000);  // well past the 16,384 kept
  EXPECT_GT(read_back, 4000);
  EXPECT_GT(absent, 2000);
  EXPECT_EQ(dump(*fast_store), dump(*ref_store));
}

// A caller that reads more traces through one batch than the layer holds (16,384) without
// begin_batch() — as a backfill could — has the layer restarted under it (run under ASan in
// CI), and every view stays right.
TEST(JoinerCacheTest, ReadingMoreTracesThanTheLayerHoldsThroughOneBatchStaysRight) {
  ManualClock clock;
  TempStore store(clock);
  Joiner joiner;
  ASSERT_TRUE(joiner.load_indexes(*store).is_ok());
  constexpr int kTraces = 17000;
  for (int from = 0; from < kTraces; from += 1000) {
    state::WriteBatch w(*store);
    for (int i = from; i < from + 1000; ++i) {
      const std::string e = "e" + std::to_string(i);
      ASSERT_EQ(joiner.apply(parse(trace_json(e, root_span(), trace_id(i))), kTimeNs, w).kind, ApplyResult::Kind::applied);
    }
    ASSERT_TRUE(store->write(w).is_ok());
    joiner.batch_written(w);
  }
  state::WriteBatch reader(*store);
  Joiner fresh;
  for (int i = 0; i < kTraces; ++i) {
    if (i % 1000 == 0 || i >= 16380) {  // compare a sample, and all around the restart
      ASSERT_EQ(joined_json(joiner, reader, trace_id(i)), joined_json(fresh, reader, trace_id(i))) << i;
    } else {
      ASSERT_FALSE(joined_json(joiner, reader, trace_id(i)).empty());
    }
  }
  EXPECT_EQ(joined_json(joiner, reader, trace_id(0)), joined_json(fresh, reader, trace_id(0)));
}

// A batch object the layer does not belong to may change a trace the layer holds (a caller
// that skipped begin_batch()): the other batch's layer goes, and nothing stale stays behind.
TEST(JoinerCacheTest, AChangeThroughAnotherBatchDropsTheLayerItDoesNotBelongTo) {
  ManualClock clock;
  TempStore store(clock);
  Joiner joiner;
  ASSERT_TRUE(joiner.load_indexes(*store).is_ok());
  const std::string id = trace_id(0);
  {
    state::WriteBatch w(*store);
    ASSERT_EQ(joiner.apply(parse(trace_json("e1", root_span(), id)), kTimeNs, w).kind, ApplyResult::Kind::applied);
    ASSERT_EQ(joiner.apply(parse(feedback_json("e2", "a-1", "true", "", id)), kTimeNs, w).kind,
              ApplyResult::Kind::applied);
    ASSERT_FALSE(joined_json(joiner, w, id).empty());
    ASSERT_TRUE(store->write(w).is_ok());
    joiner.batch_written(w);
  }
  state::WriteBatch a(*store), b(*store);
  ASSERT_FALSE(joined_json(joiner, a, id).empty());  // the trace moves into a's layer
  const std::string update = R"({"event_id":"e3","type":"assessment_update","assessment":{"assessment_id":"a-1","trace_id":")" +
                             id + R"(","rationale":"changed through b"}})";
  ASSERT_EQ(joiner.apply(parse(update), kTimeNs, b).kind, ApplyResult::Kind::applied);
  Joiner fresh;
  EXPECT_EQ(joined_json(joiner, b, id), joined_json(fresh, b, id));
  joiner.begin_batch();
  EXPECT_EQ(joined_json(joiner, a, id), joined_json(fresh, a, id));  // a never saw the update
}

}  // namespace
}  // namespace tracefeed::join
