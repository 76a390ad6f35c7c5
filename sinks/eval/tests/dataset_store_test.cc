#include "sinks/eval/dataset_store.h"

#include <limits>
#include <thread>

#include "core/json_tree.h"
#include "sinks/eval/tests/test_support.h"
#include "state/keys.h"

namespace tracefeed::eval {
namespace {

using namespace testing;

constexpr size_t kAll = std::numeric_limits<size_t>::max();

class DatasetStoreTest : public ::testing::Test {
 protected:
  // Every record of `version` (nullopt = latest), parsed.
  std::vector<JsonTree> records(std::string_view name, std::optional<int64_t> version = std::nullopt) {
    std::string out;
    auto page = _datasets.read_records(name, version, 0, kAll, kAll, out);
    EXPECT_TRUE(page.is_ok()) << page.status().to_string();
    std::vector<JsonTree> lines;
    size_t start = 0;
    while (start < out.size()) {
      const size_t nl = out.find('\n', start);
      auto v = parse_json(std::string_view(out).substr(start, nl - start));
      EXPECT_TRUE(v.is_ok()) << out;
      if (v.is_ok()) lines.push_back(std::move(v).value());
      start = nl + 1;
    }
    if (page.is_ok()) {
      EXPECT_EQ(static_cast<size_t>(page->record_count), lines.size());
    }
    return lines;
  }

  static std::string trace_of(const JsonTree& record) {
    return record.find("source")->find("source_data")->find("trace_id")->as_string();
  }
  static std::string expected_response(const JsonTree& record) {
    const JsonTree* e = record.find("expectations")->find("expected_response");
    return e ? e->as_string() : "";
  }

  size_t entries_of(std::string_view name) {
    size_t n = 0;
    std::string prefix("dr\0", 3);
    prefix += name;
    prefix.push_back('\0');
    EXPECT_TRUE(_store->scan_prefix(state::Family::datasets, prefix, [&](auto, auto) {
      ++n;
      return true;
    }).is_ok());
    return n;
  }

  ManualClock _clock;
  TempStore _store{_clock};
  DatasetStore _datasets{*_store, _clock};
  JoinedState _join{*_store, &_datasets};
};

TEST_F(DatasetStoreTest, ApiAddIsIdempotent) {
  _join.apply({trace_event("e1", trace_id(1)), thumbs_down_event("e2", trace_id(1))});
  auto created = _datasets.create("golden");
  ASSERT_TRUE(created.is_ok()) << created.status().to_string();
  EXPECT_EQ(created->latest_version, 0);
  EXPECT_EQ(created->created_by, "api");

  auto first = _datasets.add_traces("golden", std::vector<std::string>{trace_id(1)});
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  EXPECT_TRUE(first->changed);
  EXPECT_EQ(first->version, 1);
  EXPECT_EQ(first->added, 1);

  _clock.advance(std::chrono::seconds(1));
  auto again = _datasets.add_traces("golden", std::vector<std::string>{trace_id(1), trace_id(1)});
  ASSERT_TRUE(again.is_ok());
  EXPECT_FALSE(again->changed);
  EXPECT_EQ(again->version, 1);
  EXPECT_EQ(again->unchanged, 2);

  auto info = _datasets.info("golden");
  ASSERT_TRUE(info.is_ok() && info->has_value());
  EXPECT_EQ((*info)->latest_version, 1);
  EXPECT_EQ((*info)->record_count, 1);
  auto lines = records("golden");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(trace_of(lines[0]), trace_id(1));
  EXPECT_EQ(lines[0].find("inputs")->find("user_question")->as_string(), "What is MLflow?");
  EXPECT_EQ(lines[0].find("lineage")->find("via")->as_string(), "api");
}

TEST_F(DatasetStoreTest, EveryVersionStaysReadable) {
  _join.apply({trace_event("e1", trace_id(1)), trace_event("e2", trace_id(2))});
  ASSERT_TRUE(_datasets.create("golden").is_ok());
  ASSERT_TRUE(_datasets.add_traces("golden", std::vector<std::string>{trace_id(1)}).is_ok());  // v1
  ASSERT_TRUE(_datasets.add_traces("golden", std::vector<std::string>{trace_id(2)}).is_ok());  // v2
  // The expert's label arrives for trace 1; re-adding it (MLflow's merge_records) updates it.
  JoinedState plain(*_store);
  plain.apply({expectation_event("e3", trace_id(1), "a-e1", "MLflow manages the ML lifecycle.")});
  auto v3 = _datasets.add_traces("golden", std::vector<std::string>{trace_id(1), trace_id(2)});
  ASSERT_TRUE(v3.is_ok());
  EXPECT_EQ(v3->version, 3);
  EXPECT_EQ(v3->updated, 1);
  EXPECT_EQ(v3->unchanged, 1);
  auto v4 = _datasets.remove_trace("golden", trace_id(2));
  ASSERT_TRUE(v4.is_ok()) << v4.status().to_string();
  EXPECT_EQ(v4->version, 4);

  EXPECT_TRUE(records("golden", 0).empty());
  auto r1 = records("golden", 1);
  ASSERT_EQ(r1.size(), 1u);
  EXPECT_EQ(expected_response(r1[0]), "");
  auto r2 = records("golden", 2);
  ASSERT_EQ(r2.size(), 2u);
  EXPECT_EQ(trace_of(r2[0]), trace_id(1));  // the order traces joined the dataset
  EXPECT_EQ(trace_of(r2[1]), trace_id(2));
  EXPECT_EQ(expected_response(r2[0]), "");
  auto r3 = records("golden", 3);
  ASSERT_EQ(r3.size(), 2u);
  EXPECT_EQ(expected_response(r3[0]), "MLflow manages the ML lifecycle.");
  EXPECT_EQ(r3[0].find("version")->as_number(), 3);
  EXPECT_EQ(r3[0].find("lineage")->find("assessment_ids")->as_array()[0].as_string(), "a-e1");
  EXPECT_EQ(r3[0].find("lineage")->find("labeling_session_ids")->as_array()[0].as_string(), "ls-quickstart");
  auto r4 = records("golden", 4);
  ASSERT_EQ(r4.size(), 1u);
  EXPECT_EQ(trace_of(r4[0]), trace_id(1));
  EXPECT_EQ(records("golden").size(), 1u);

  auto versions = _datasets.versions("golden", 0, 100);
  ASSERT_TRUE(versions.is_ok());
  ASSERT_EQ(versions->versions.size(), 5u);
  EXPECT_EQ(versions->versions[0].cause, "create");
  EXPECT_EQ(versions->versions[3].updated, 1);
  EXPECT_EQ(versions->versions[4].removed, 1);
  EXPECT_EQ(versions->versions[4].record_count, 1);
  auto page = _datasets.versions("golden", 1, 2);
  ASSERT_TRUE(page.is_ok());
  ASSERT_EQ(page->versions.size(), 2u);
  EXPECT_EQ(page->versions[0].version, 1);
  EXPECT_EQ(page->next_version, 3);

  std::string out;
  auto missing = _datasets.read_records("golden", 5, 0, kAll, kAll, out);
  EXPECT_EQ(missing.status().code(), ErrorCode::not_found);
  EXPECT_EQ(missing.status().message(), "version: dataset golden has versions 0 to 4, not 5");
}

TEST_F(DatasetStoreTest, AVersionStoresOnlyWhatChanged) {
  std::vector<std::string> events, ids;
  for (int i = 0; i < 50; ++i) {
    events.push_back(trace_event("t" + std::to_string(i), trace_id(i)));
    ids.push_back(trace_id(i));
  }
  _join.apply(events);
  ASSERT_TRUE(_datasets.create("big").is_ok());
  ASSERT_TRUE(_datasets.add_traces("big", ids).is_ok());
  // Ten versions, each changing one record: ten more entries, not ten copies of fifty.
  JoinedState plain(*_store);
  for (int i = 0; i < 10; ++i) {
    plain.apply({expectation_event("x" + std::to_string(i), trace_id(i), "a-f" + std::to_string(i), "label")});
    auto c = _datasets.add_traces("big", ids);
    ASSERT_TRUE(c.is_ok());
    EXPECT_EQ(c->updated, 1);
    EXPECT_EQ(c->unchanged, 49);
  }
  EXPECT_EQ(entries_of("big"), 60u);
  auto info = _datasets.info("big");
  EXPECT_EQ((*info)->latest_version, 11);
  auto v6 = records("big", 6);
  ASSERT_EQ(v6.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(expected_response(v6[static_cast<size_t>(i)]), i < 5 ? "label" : "") << i;
}

TEST_F(DatasetStoreTest, ApiAddIsAllOrNothing) {
  _join.apply({trace_event("e1", trace_id(1))});
  auto unknown_dataset = _datasets.add_traces("nope", std::vector<std::string>{trace_id(1)});
  EXPECT_EQ(unknown_dataset.status().code(), ErrorCode::not_found);
  EXPECT_EQ(unknown_dataset.status().message(), "dataset nope not found");

  ASSERT_TRUE(_datasets.create("golden").is_ok());
  EXPECT_EQ(_datasets.create("golden").status().code(), ErrorCode::already_exists);
  auto unknown_trace = _datasets.add_traces("golden", std::vector<std::string>{trace_id(1), trace_id(2)});
  EXPECT_EQ(unknown_trace.status().code(), ErrorCode::not_found);
  EXPECT_EQ(unknown_trace.status().message(), "trace_ids[1]: trace " + trace_id(2) + " not found");
  auto malformed = _datasets.add_traces("golden", std::vector<std::string>{trace_id(1), "tr-12"});
  EXPECT_EQ(malformed.status().code(), ErrorCode::invalid_argument);
  EXPECT_EQ(malformed.status().message(), R"(trace_ids[1]: expected "tr-" + 32 lowercase hex, got "tr-12")");
  EXPECT_EQ(_datasets.add_traces("golden", std::vector<std::string>{}).status().code(), ErrorCode::invalid_argument);
  EXPECT_EQ(_datasets.add_traces("golden", std::vector<std::string>(1001, trace_id(1))).status().message(),
            "trace_ids: at most 1000 per call, got 1001");
  // Nothing of the refused calls was written.
  EXPECT_EQ((*_datasets.info("golden"))->latest_version, 0);
  EXPECT_TRUE(records("golden").empty());
  EXPECT_EQ(_datasets.remove_trace("golden", trace_id(1)).status().code(), ErrorCode::not_found);
}

TEST_F(DatasetStoreTest, EvalBatchCreatesTheDatasetWithLineageAndStoresOffsets) {
  _join.apply({trace_event("e1", trace_id(1)), thumbs_down_event("e2", trace_id(1)), trace_event("e3", trace_id(2))});
  std::vector<EvalAdd> adds = {
      {"quickstart_eval", trace_id(1), {RecordOrigin::Via::eval_topic, "t.eval", 0, 7, "thumbs_down"}},
      {"quickstart_eval", trace_id(2), {RecordOrigin::Via::eval_topic, "t.eval", 1, 3, "thumbs_down"}},
      {"other", trace_id(1), {RecordOrigin::Via::eval_topic, "t.eval", 0, 8, "all"}},
  };
  std::vector<ConsumedOffset> offsets = {{"t.eval", 0, 9}, {"t.eval", 1, 4}};
  auto changes = _datasets.apply_eval_batch(adds, "cluster-a", offsets);
  ASSERT_TRUE(changes.is_ok()) << changes.status().to_string();
  ASSERT_EQ(changes->size(), 2u);  // one version of each dataset
  for (const auto& c : *changes) EXPECT_EQ(c.version, 1) << c.dataset;

  auto info = _datasets.info("quickstart_eval");
  ASSERT_TRUE(info.is_ok() && info->has_value());
  EXPECT_EQ((*info)->created_by, "rule:thumbs_down");
  EXPECT_EQ((*info)->record_count, 2);
  auto lines = records("quickstart_eval");
  ASSERT_EQ(lines.size(), 2u);
  const JsonTree* lineage = lines[0].find("lineage");
  EXPECT_EQ(lineage->find("via")->as_string(), "eval_topic");
  EXPECT_EQ(lineage->find("topic")->as_string(), "t.eval");
  EXPECT_EQ(lineage->find("partition")->as_number(), 0);
  EXPECT_EQ(lineage->find("offset")->as_number(), 7);
  EXPECT_EQ(lineage->find("rule")->as_string(), "thumbs_down");

  auto stored = _store->stored_offsets("cluster-a");
  ASSERT_TRUE(stored.is_ok());
  EXPECT_EQ((stored->at({"t.eval", 0})), 9);
  EXPECT_EQ((stored->at({"t.eval", 1})), 4);

  // The router is at-least-once: the same eval records again change nothing.
  auto again = _datasets.apply_eval_batch(adds, "cluster-a", offsets);
  ASSERT_TRUE(again.is_ok());
  for (const auto& c : *again) EXPECT_FALSE(c.changed) << c.dataset;
  EXPECT_EQ((*_datasets.info("quickstart_eval"))->latest_version, 1);

  auto list = _datasets.list();
  ASSERT_TRUE(list.is_ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "other");
  EXPECT_EQ((*list)[1].name, "quickstart_eval");
}

TEST_F(DatasetStoreTest, ALabelArrivingLaterMakesANewVersionThroughTheJoinHook) {
  _join.apply({trace_event("e1", trace_id(1)), thumbs_down_event("e2", trace_id(1)), trace_event("e3", trace_id(2))});
  std::vector<EvalAdd> adds = {{"quickstart_eval", trace_id(1), {RecordOrigin::Via::eval_topic, "t.eval", 0, 0, "r"}}};
  ASSERT_TRUE(_datasets.apply_eval_batch(adds, "c", {}).is_ok());
  EXPECT_EQ(*_datasets.refresh_dirty(), 0u);

  // Expectations for a member and a non-member, written by the join through the hook.
  _join.apply({expectation_event("e4", trace_id(1), "a-e4", "The ideal answer."),
               expectation_event("e5", trace_id(2), "a-e5", "Not in a dataset.")});
  EXPECT_EQ(_datasets.stats().marked_dirty, 1u);
  auto refreshed = _datasets.refresh_dirty();
  ASSERT_TRUE(refreshed.is_ok());
  EXPECT_EQ(*refreshed, 1u);
  EXPECT_EQ(*_datasets.refresh_dirty(), 0u);  // marks are cleared

  auto info = _datasets.info("quickstart_eval");
  EXPECT_EQ((*info)->latest_version, 2);
  EXPECT_EQ(expected_response(records("quickstart_eval", 1)[0]), "");
  auto v2 = records("quickstart_eval", 2);
  ASSERT_EQ(v2.size(), 1u);
  EXPECT_EQ(expected_response(v2[0]), "The ideal answer.");
  // The origin is kept: the record still says which eval record brought the trace in.
  EXPECT_EQ(v2[0].find("lineage")->find("via")->as_string(), "eval_topic");
  auto versions = _datasets.versions("quickstart_eval", 2, 1);
  EXPECT_EQ(versions->versions[0].cause, "refresh");

  // A change that does not touch the record (more feedback) refreshes to no new version.
  _join.apply({thumbs_down_event("e6", trace_id(1))});
  EXPECT_EQ(*_datasets.refresh_dirty(), 1u);
  EXPECT_EQ((*_datasets.info("quickstart_eval"))->latest_version, 2);

  // A removed member is no longer marked.
  ASSERT_TRUE(_datasets.remove_trace("quickstart_eval", trace_id(1)).is_ok());
  _join.apply({expectation_event("e7", trace_id(1), "a-e7", "Later.")});
  EXPECT_EQ(_datasets.stats().marked_dirty, 2u);
}

TEST_F(DatasetStoreTest, ARecordRoutedBeforeItsTraceWasWrittenIsCompletedByTheJoinWrite) {
  // The router produces eval records before the join writes the batch that routed them, so the
  // sink can meet a trace that is not in state yet.
  std::vector<EvalAdd> adds = {{"quickstart_eval", trace_id(1), {RecordOrigin::Via::eval_topic, "t.eval", 0, 0, "r"}}};
  ASSERT_TRUE(_datasets.apply_eval_batch(adds, "c", {}).is_ok());
  auto v1 = records("quickstart_eval");
  ASSERT_EQ(v1.size(), 1u);
  EXPECT_EQ(v1[0].find("inputs"), nullptr);

  _join.apply({trace_event("e1", trace_id(1)), thumbs_down_event("e2", trace_id(1))});
  ASSERT_EQ(*_datasets.refresh_dirty(), 1u);
  auto v2 = records("quickstart_eval");
  ASSERT_EQ(v2.size(), 1u);
  EXPECT_EQ(v2[0].find("inputs")->find("user_question")->as_string(), "What is MLflow?");
  EXPECT_EQ(v2[0].find("version")->as_number(), 2);
}

TEST_F(DatasetStoreTest, JoinWritesRacingAddsNeverLeaveAStaleRecord) {
  // One thread adds traces to a dataset (as the eval sink does) while another writes each
  // trace's expert label through the join hook. Whatever the interleaving, after the refresh
  // every record carries its label.
  constexpr int kTraces = 200;
  std::vector<std::string> events;
  for (int i = 0; i < kTraces; ++i) events.push_back(trace_event("t" + std::to_string(i), trace_id(i)));
  _join.apply(events);
  std::thread labels([&] {
    for (int i = 0; i < kTraces; ++i) {
      _join.apply({expectation_event("x" + std::to_string(i), trace_id(i), "a-f" + std::to_string(i), "label")});
    }
  });
  for (int i = 0; i < kTraces; ++i) {
    std::vector<EvalAdd> add = {{"race", trace_id(i), {RecordOrigin::Via::eval_topic, "t.eval", 0, i, "r"}}};
    ASSERT_TRUE(_datasets.apply_eval_batch(add, "c", {}).is_ok());
  }
  labels.join();
  while (true) {
    auto n = _datasets.refresh_dirty();
    ASSERT_TRUE(n.is_ok());
    if (*n == 0) break;
  }
  auto lines = records("race");
  ASSERT_EQ(lines.size(), static_cast<size_t>(kTraces));
  for (const auto& r : lines) EXPECT_EQ(expected_response(r), "label") << trace_of(r);
}

TEST_F(DatasetStoreTest, PagesFollowTheJoinOrderAndResume) {
  std::vector<std::string> events, ids;
  for (int i = 0; i < 25; ++i) {
    events.push_back(trace_event("t" + std::to_string(i), trace_id(100 - i)));  // ids in reverse order
    ids.push_back(trace_id(100 - i));
  }
  _join.apply(events);
  ASSERT_TRUE(_datasets.create("paged").is_ok());
  ASSERT_TRUE(_datasets.add_traces("paged", ids).is_ok());
  ASSERT_TRUE(_datasets.remove_trace("paged", ids[10]).is_ok());  // version 2: 24 records

  std::vector<std::string> seen;
  int64_t seq = 0;
  int pages = 0;
  while (true) {
    std::string out;
    auto page = _datasets.read_records("paged", 2, seq, 10, kAll, out);
    ASSERT_TRUE(page.is_ok());
    EXPECT_EQ(page->record_count, 24);
    ++pages;
    for (size_t start = 0; start < out.size();) {
      const size_t nl = out.find('\n', start);
      seen.push_back(trace_of(*parse_json(std::string_view(out).substr(start, nl - start))));
      start = nl + 1;
    }
    if (!page->next_seq) break;
    seq = *page->next_seq;
  }
  EXPECT_EQ(pages, 3);
  std::vector<std::string> expected = ids;
  expected.erase(expected.begin() + 10);
  EXPECT_EQ(seen, expected);

  // A byte limit ends a page after the record that crosses it.
  std::string out;
  auto small = _datasets.read_records("paged", 2, 0, kAll, 1, out);
  ASSERT_TRUE(small.is_ok());
  EXPECT_EQ(small->records, 1u);
  ASSERT_TRUE(small->next_seq.has_value());
  EXPECT_EQ(*small->next_seq, 1);
}

TEST_F(DatasetStoreTest, StateSurvivesARestart) {
  _join.apply({trace_event("e1", trace_id(1))});
  ASSERT_TRUE(_datasets.create("golden").is_ok());
  ASSERT_TRUE(_datasets.add_traces("golden", std::vector<std::string>{trace_id(1)}).is_ok());
  _store.reopen(_clock);
  DatasetStore reopened(*_store, _clock);
  auto info = reopened.info("golden");
  ASSERT_TRUE(info.is_ok() && info->has_value());
  EXPECT_EQ((*info)->latest_version, 1);
  std::string out;
  auto page = reopened.read_records("golden", std::nullopt, 0, kAll, kAll, out);
  ASSERT_TRUE(page.is_ok());
  EXPECT_EQ(page->records, 1u);

  // The membership index the join hook checks is rebuilt from state.
  ASSERT_TRUE(reopened.load().is_ok());
  JoinedState join(*_store, &reopened);
  join.apply({expectation_event("e2", trace_id(1), "a-e2", "After the restart."), trace_event("e3", trace_id(2))});
  EXPECT_EQ(reopened.stats().marked_dirty, 1u);
  ASSERT_EQ(*reopened.refresh_dirty(), 1u);
  EXPECT_EQ((*reopened.info("golden"))->latest_version, 2);
}

}  // namespace
}  // namespace tracefeed::eval
