// WriteBatch: atomicity with offsets, sticky errors, read-your-own-writes.

#include "state/write_batch.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "state/keys.h"
#include "state/tests/store_fixture.h"

namespace tracefeed::state {
namespace {

class WriteBatchTest : public testing::StoreTest {};

std::vector<std::string> keys_with_prefix(const WriteBatch& batch, Family family, std::string_view prefix) {
  std::vector<std::string> keys;
  const Status s = batch.scan_prefix(family, prefix, [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  });
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  return keys;
}

TEST_F(WriteBatchTest, StateAndOffsetsBecomeVisibleTogether) {
  auto store = open_store();
  ASSERT_TRUE(store);
  WriteBatch batch(*store);
  batch.put(Family::traces, "tr-1", "trace");
  batch.put(Family::assessments, child_key("tr-1", "a-1"), "thumbs down");
  batch.set_offset("c1", "tracefeed.assessments", 2, 101);
  EXPECT_EQ(batch.count(), 3u);
  EXPECT_GT(batch.data_size_bytes(), 0u);

  // Nothing is visible before write().
  EXPECT_EQ(get(*store, Family::traces, "tr-1"), std::nullopt);
  auto before = store->stored_offsets("c1");
  ASSERT_TRUE(before.is_ok());
  EXPECT_TRUE(before->empty());

  ASSERT_TRUE(store->write(batch).is_ok());
  EXPECT_EQ(get(*store, Family::traces, "tr-1"), "trace");
  EXPECT_EQ(get(*store, Family::assessments, child_key("tr-1", "a-1")), "thumbs down");
  auto after = store->stored_offsets("c1");
  ASSERT_TRUE(after.is_ok());
  EXPECT_EQ(*after, (OffsetMap{{{"tracefeed.assessments", 2}, 101}}));
}

TEST_F(WriteBatchTest, ABatchWithAnErrorWritesNothing) {
  auto store = open_store();
  ASSERT_TRUE(store);
  WriteBatch batch(*store);
  batch.put(Family::traces, "tr-1", "trace");
  batch.set_offset("c1", "tracefeed.traces", -1, 5);  // bad partition
  batch.put(Family::traces, "tr-2", "ignored after the error");
  ASSERT_FALSE(batch.status().is_ok());
  const Status s = store->write(batch);
  EXPECT_EQ(s.code(), ErrorCode::invalid_argument);
  EXPECT_NE(s.message().find("partition"), std::string::npos) << s.to_string();
  EXPECT_EQ(get(*store, Family::traces, "tr-1"), std::nullopt);
  auto offsets = store->stored_offsets("c1");
  ASSERT_TRUE(offsets.is_ok());
  EXPECT_TRUE(offsets->empty());

  batch.clear();  // the batch is usable again
  EXPECT_TRUE(batch.status().is_ok());
  batch.put(Family::traces, "tr-3", "ok");
  ASSERT_TRUE(store->write(batch).is_ok());
  EXPECT_EQ(get(*store, Family::traces, "tr-3"), "ok");
}

TEST_F(WriteBatchTest, SetOffsetValidatesItsArguments) {
  auto store = open_store();
  ASSERT_TRUE(store);
  WriteBatch batch(*store);
  for (auto bad : {std::pair<std::string, std::string>{"", "t"}, {"c", ""}, {std::string("c\0x", 3), "t"},
                   {"c", std::string("t\0", 2)}}) {
    batch.clear();
    batch.set_offset(bad.first, bad.second, 0, 1);
    EXPECT_EQ(batch.status().code(), ErrorCode::invalid_argument);
  }
  batch.clear();
  batch.set_offset("c", "t", 0, -1);
  EXPECT_EQ(batch.status().code(), ErrorCode::invalid_argument);
}

TEST_F(WriteBatchTest, BatchReadsSeeTheirOwnWritesOverTheStore) {
  auto store = open_store();
  ASSERT_TRUE(store);
  ASSERT_NO_FATAL_FAILURE(store_entries(*store, {
       {Family::traces, "tr-stored", "stored"},
       {Family::traces, "tr-erased", "stored but erased in the batch"},
       {Family::pending, child_key("tr-9", "a-1"), "pending from an earlier batch"}}));
  WriteBatch batch(*store);
  batch.put(Family::traces, "tr-new", "from the batch");
  batch.put(Family::traces, "tr-stored", "overwritten in the batch");
  batch.erase(Family::traces, "tr-erased");
  batch.put(Family::pending, child_key("tr-9", "a-2"), "pending from this batch");

  auto fresh = batch.get(Family::traces, "tr-new");
  ASSERT_TRUE(fresh.is_ok());
  EXPECT_EQ(*fresh, "from the batch");
  auto overwritten = batch.get(Family::traces, "tr-stored");
  ASSERT_TRUE(overwritten.is_ok());
  EXPECT_EQ(*overwritten, "overwritten in the batch");
  auto erased = batch.get(Family::traces, "tr-erased");
  ASSERT_TRUE(erased.is_ok());
  EXPECT_EQ(*erased, std::nullopt);
  // The store itself does not see the batch.
  EXPECT_EQ(get(*store, Family::traces, "tr-stored"), "stored");

  const std::vector<std::string_view> keys{"tr-erased", "tr-new", "tr-missing", "tr-stored"};
  std::vector<std::optional<std::string>> values;
  ASSERT_TRUE(batch.multi_get(Family::traces, keys, values).is_ok());
  EXPECT_EQ(values, (std::vector<std::optional<std::string>>{
                        std::nullopt, "from the batch", std::nullopt, "overwritten in the batch"}));

  EXPECT_EQ(keys_with_prefix(batch, Family::pending, child_prefix("tr-9")),
            (std::vector<std::string>{child_key("tr-9", "a-1"), child_key("tr-9", "a-2")}));
}

TEST_F(WriteBatchTest, PrefetchAnswersGetsUntilTheBatchChangesTheKeyOrIsCleared) {
  auto store = open_store();
  ASSERT_TRUE(store);
  ASSERT_NO_FATAL_FAILURE(store_entries(*store, {
       {Family::traces, "tr-1", "stored 1"},
       {Family::traces, "tr-2", "stored 2"}}));
  WriteBatch batch(*store);
  batch.put(Family::traces, "tr-2", "changed in the batch");
  const std::vector<std::string_view> keys{"tr-1", "tr-2", "tr-absent", "tr-1"};
  ASSERT_TRUE(batch.prefetch(Family::traces, keys).is_ok());
  // Another writer changes tr-1 behind the batch's back: the batch answers from what it read
  // (prefetch is only for keys no other writer changes while the batch is open).
  {
    WriteBatch other(*store);
    other.put(Family::traces, "tr-1", "changed by another writer");
    ASSERT_TRUE(store->write(other).is_ok());
  }
  EXPECT_EQ(*batch.get(Family::traces, "tr-1"), "stored 1");
  EXPECT_EQ(*batch.get(Family::traces, "tr-2"), "changed in the batch");  // the batch's change wins
  EXPECT_EQ(*batch.get(Family::traces, "tr-absent"), std::nullopt);
  batch.put(Family::traces, "tr-1", "changed after the prefetch");
  EXPECT_EQ(*batch.get(Family::traces, "tr-1"), "changed after the prefetch");
  batch.erase(Family::traces, "tr-absent");
  ASSERT_TRUE(batch.prefetch(Family::traces, keys).is_ok());  // nothing left to read
  EXPECT_EQ(*batch.get(Family::traces, "tr-absent"), std::nullopt);
  // Written (clear()): the answers are forgotten, the next get reads the store.
  ASSERT_TRUE(store->write(batch).is_ok());
  {
    WriteBatch other(*store);
    other.put(Family::traces, "tr-absent", "now stored");
    ASSERT_TRUE(store->write(other).is_ok());
  }
  EXPECT_EQ(*batch.get(Family::traces, "tr-absent"), "now stored");
}

TEST_F(WriteBatchTest, ErasePrefixRemovesStoredAndBatchedChildren) {
  auto store = open_store();
  ASSERT_TRUE(store);
  ASSERT_NO_FATAL_FAILURE(store_entries(*store, {
       {Family::pending, child_key("tr-1", "a-1"), "x"},
       {Family::pending, child_key("tr-1", "a-2"), "x"},
       {Family::pending, child_key("tr-12", "a-1"), "other trace"}}));
  WriteBatch batch(*store);
  batch.put(Family::pending, child_key("tr-1", "a-3"), "x");
  EXPECT_EQ(batch.erase_prefix(Family::pending, child_prefix("tr-1")), 3u);  // two stored, one batched
  ASSERT_TRUE(batch.status().is_ok()) << batch.status().to_string();
  EXPECT_TRUE(keys_with_prefix(batch, Family::pending, child_prefix("tr-1")).empty());
  ASSERT_TRUE(store->write(batch).is_ok());

  std::vector<std::string> left;
  ASSERT_TRUE(store->scan_prefix(Family::pending, "", [&](std::string_view k, std::string_view) {
    left.emplace_back(k);
    return true;
  }).is_ok());
  EXPECT_EQ(left, (std::vector<std::string>{child_key("tr-12", "a-1")}));
}

TEST_F(WriteBatchTest, MarkAppliedIsVisibleThroughTheBatchAndAfterWrite) {
  auto store = open_store();
  ASSERT_TRUE(store);
  WriteBatch batch(*store);
  batch.mark_applied("ev-1", _clock.now());
  auto seen = batch.get(Family::dedup, "ev-1");
  ASSERT_TRUE(seen.is_ok());
  EXPECT_TRUE(seen->has_value());
  ASSERT_TRUE(store->write(batch).is_ok());
  EXPECT_TRUE(get(*store, Family::dedup, "ev-1").has_value());
  EXPECT_FALSE(get(*store, Family::dedup, "ev-2").has_value());
}

TEST_F(WriteBatchTest, ABatchOfAnotherStoreIsRejected) {
  auto first = open_store(options("a"));
  auto second = open_store(options("b"));
  ASSERT_TRUE(first && second);
  WriteBatch batch(*first);
  batch.put(Family::traces, "k", "v");
  EXPECT_EQ(second->write(batch).code(), ErrorCode::invalid_argument);
  EXPECT_EQ(batch.count(), 1u);  // unchanged on failure
  EXPECT_TRUE(first->write(batch).is_ok());
}

TEST_F(WriteBatchTest, AMovedBatchKeepsItsChanges) {
  auto store = open_store();
  ASSERT_TRUE(store);
  WriteBatch batch(*store);
  batch.put(Family::traces, "k", "v");
  WriteBatch moved(std::move(batch));
  ASSERT_TRUE(store->write(moved).is_ok());
  EXPECT_EQ(get(*store, Family::traces, "k"), "v");
}

// The join applies batch N+1 while batch N is written on another thread: N+1 reads over N.
TEST_F(WriteBatchTest, ABatchReadingOverAnotherSeesItsChangesUnderItsOwn) {
  auto store = open_store();
  ASSERT_TRUE(store);
  ASSERT_NO_FATAL_FAILURE(store_entries(*store, {
       {Family::assessments, child_key("tr-1", "a"), "stored a"},
       {Family::assessments, child_key("tr-1", "c"), "stored c"},
       {Family::assessments, child_key("tr-1", "e"), "stored e"}}));
  WriteBatch base(*store);
  base.put(Family::assessments, child_key("tr-1", "b"), "base b");
  base.put(Family::assessments, child_key("tr-1", "c"), "base c");
  base.erase(Family::assessments, child_key("tr-1", "e"));
  base.put(Family::assessments, child_key("tr-1", "f"), "base f");
  base.keep_after_write();
  WriteBatch top(*store);
  top.read_over(&base);
  top.put(Family::assessments, child_key("tr-1", "c"), "top c");
  top.put(Family::assessments, child_key("tr-1", "d"), "top d");
  top.erase(Family::assessments, child_key("tr-1", "f"));

  const auto expect_layers = [&](const char* when) {
    SCOPED_TRACE(when);
    std::vector<std::string> seen;
    ASSERT_TRUE(top.scan_prefix(Family::assessments, child_prefix("tr-1"), [&](std::string_view k, std::string_view v) {
                     seen.push_back(std::string(k.substr(k.size() - 1)) + "=" + std::string(v));
                     return true;
                   }).is_ok());
    EXPECT_EQ(seen, (std::vector<std::string>{"a=stored a", "b=base b", "c=top c", "d=top d"}));
    seen.clear();
    top.scan_prefix_in_batch(Family::assessments, child_prefix("tr-1"), [&](std::string_view k, std::string_view v) {
      seen.push_back(std::string(k.substr(k.size() - 1)) + "=" + std::string(v));
      return true;
    });
    EXPECT_EQ(seen, (std::vector<std::string>{"b=base b", "c=top c", "d=top d"}));
    for (auto [id, want] : std::vector<std::pair<std::string, std::optional<std::string>>>{
             {"a", "stored a"}, {"b", "base b"}, {"c", "top c"}, {"d", "top d"}, {"e", std::nullopt}, {"f", std::nullopt}}) {
      auto got = top.get(Family::assessments, child_key("tr-1", id));
      ASSERT_TRUE(got.is_ok());
      EXPECT_EQ(*got, want) << id;
    }
    const std::vector<std::string> keys{child_key("tr-1", "a"), child_key("tr-1", "b"), child_key("tr-1", "e"),
                                        child_key("tr-1", "f")};
    const std::vector<std::string_view> views(keys.begin(), keys.end());
    std::vector<std::optional<std::string>> values;
    ASSERT_TRUE(top.multi_get(Family::assessments, views, values).is_ok());
    EXPECT_EQ(values, (std::vector<std::optional<std::string>>{"stored a", "base b", std::nullopt, std::nullopt}));
  };
  // A prefetch asks the store only for what neither batch changed: "e", erased in the base, stays
  // erased although the store still has it.
  const std::vector<std::string> prefetch{child_key("tr-1", "a"), child_key("tr-1", "e")};
  const std::vector<std::string_view> prefetch_views(prefetch.begin(), prefetch.end());
  ASSERT_TRUE(top.prefetch(Family::assessments, prefetch_views).is_ok());
  expect_layers("base not written yet");

  // Written on another thread (as the join does) while the top batch reads over it: the base
  // keeps its changes, so both views agree throughout.
  std::thread writer([&] { EXPECT_TRUE(store->write(base).is_ok()); });
  for (int i = 0; i < 20; ++i) expect_layers("base being written");
  writer.join();
  EXPECT_EQ(base.count(), 4u);  // kept
  expect_layers("base written");
  EXPECT_EQ(get(*store, Family::assessments, child_key("tr-1", "b")), "base b");

  // Cleared, a batch forgets both settings: written again, it is cleared.
  base.clear();
  base.put(Family::traces, "k", "v");
  ASSERT_TRUE(store->write(base).is_ok());
  EXPECT_EQ(base.count(), 0u);
}

TEST_F(WriteBatchTest, TwoBatchesAreWrittenTogetherAndTheSecondWins) {
  auto store = open_store();
  ASSERT_TRUE(store);
  WriteBatch batch(*store), more(*store);
  batch.put(Family::traces, "tr-1", "from batch");
  batch.put(Family::traces, "tr-2", "from batch");
  batch.keep_after_write();
  more.put(Family::traces, "tr-2", "from more");
  more.put(Family::datasets, "dd", "");
  ASSERT_TRUE(store->write(batch, more).is_ok());
  EXPECT_EQ(get(*store, Family::traces, "tr-1"), "from batch");
  EXPECT_EQ(get(*store, Family::traces, "tr-2"), "from more");
  EXPECT_EQ(get(*store, Family::datasets, "dd"), "");
  EXPECT_EQ(batch.count(), 2u);  // it keeps its changes
  EXPECT_EQ(more.count(), 0u);

  // Either one's error writes neither.
  WriteBatch bad(*store);
  bad.set_offset("c1", "t", -1, 0);
  batch.put(Family::traces, "tr-3", "x");
  EXPECT_FALSE(store->write(batch, bad).is_ok());
  EXPECT_EQ(get(*store, Family::traces, "tr-3"), std::nullopt);
}

}  // namespace
}  // namespace tracefeed::state
