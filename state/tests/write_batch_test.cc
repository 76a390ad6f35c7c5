// WriteBatch: atomicity with offsets, sticky errors, read-your-own-writes.

#include "state/write_batch.h"

#include <gtest/gtest.h>

#include <string>
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
  {
    WriteBatch setup(*store);
    setup.put(Family::traces, "tr-stored", "stored");
    setup.put(Family::traces, "tr-erased", "stored but erased in the batch");
    setup.put(Family::pending, child_key("tr-9", "a-1"), "pending from an earlier batch");
    ASSERT_TRUE(store->write(setup).is_ok());
  }
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
  {
    WriteBatch setup(*store);
    setup.put(Family::traces, "tr-1", "stored 1");
    setup.put(Family::traces, "tr-2", "stored 2");
    ASSERT_TRUE(store->write(setup).is_ok());
  }
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
  {
    WriteBatch setup(*store);
    setup.put(Family::pending, child_key("tr-1", "a-1"), "x");
    setup.put(Family::pending, child_key("tr-1", "a-2"), "x");
    setup.put(Family::pending, child_key("tr-12", "a-1"), "other trace");
    ASSERT_TRUE(store->write(setup).is_ok());
  }
  WriteBatch batch(*store);
  batch.put(Family::pending, child_key("tr-1", "a-3"), "x");
  batch.erase_prefix(Family::pending, child_prefix("tr-1"));
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

}  // namespace
}  // namespace tracefeed::state
