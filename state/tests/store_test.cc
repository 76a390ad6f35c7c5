// Store: reads, offsets, reopen, errors, sizes, dedup window — against RocksDB on disk.

#include "state/store.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "state/keys.h"
#include "state/tests/store_fixture.h"
#include "state/write_batch.h"

namespace tracefeed::state {
namespace {

using testing::StoreTest;
using Entries = std::vector<std::pair<std::string, std::string>>;

Entries collect_prefix(const Store& store, Family family, std::string_view prefix) {
  Entries out;
  const Status s = store.scan_prefix(family, prefix, [&](std::string_view k, std::string_view v) {
    out.emplace_back(k, v);
    return true;
  });
  EXPECT_TRUE(s.is_ok()) << s.to_string();
  return out;
}

TEST_F(StoreTest, PutGetInEveryFamilyKeepsFamiliesApart) {
  auto store = open_store();
  ASSERT_TRUE(store);
  WriteBatch batch(*store);
  for (Family f : all_families) batch.put(f, "key", std::string("value of ") + std::string(family_name(f)));
  ASSERT_TRUE(store->write(batch).is_ok());
  EXPECT_TRUE(batch.empty());
  for (Family f : all_families) {
    EXPECT_EQ(get(*store, f, "key"), std::string("value of ") + std::string(family_name(f)));
    EXPECT_EQ(get(*store, f, "other"), std::nullopt);
  }
}

TEST_F(StoreTest, ValuesAreOpaqueBytes) {
  auto store = open_store();
  ASSERT_TRUE(store);
  const std::string key("k\0\xff", 3);
  const std::string value("\0\1\2\xfe\xff", 5);
  WriteBatch batch(*store);
  batch.put(Family::traces, key, value);
  batch.put(Family::traces, "empty", "");
  ASSERT_TRUE(store->write(batch).is_ok());
  EXPECT_EQ(get(*store, Family::traces, key), value);
  EXPECT_EQ(get(*store, Family::traces, "empty"), std::string());
}

TEST_F(StoreTest, MultiGetReturnsValuesInKeyOrderAndMissesAsNullopt) {
  auto store = open_store();
  ASSERT_TRUE(store);
  WriteBatch batch(*store);
  for (int i = 0; i < 50; i += 2) batch.put(Family::traces, "tr-" + std::to_string(i), "v" + std::to_string(i));
  ASSERT_TRUE(store->write(batch).is_ok());
  ASSERT_TRUE(store->flush().is_ok());  // half from SSTs...
  batch.put(Family::traces, "tr-1", "v1");  // ...and one from the memtable
  ASSERT_TRUE(store->write(batch).is_ok());

  std::vector<std::string> owned;
  for (int i = 49; i >= 0; --i) owned.push_back("tr-" + std::to_string(i));
  std::vector<std::string_view> keys(owned.begin(), owned.end());
  std::vector<std::optional<std::string>> values(3, std::string("stale"));
  ASSERT_TRUE(store->multi_get(Family::traces, keys, values).is_ok());
  ASSERT_EQ(values.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    const int n = 49 - static_cast<int>(i);
    if (n % 2 == 0 || n == 1) {
      EXPECT_EQ(values[i], "v" + std::to_string(n)) << keys[i];
    } else {
      EXPECT_EQ(values[i], std::nullopt) << keys[i];
    }
  }
  auto again = store->multi_get(Family::traces, keys);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(*again, values);
  EXPECT_TRUE(store->multi_get(Family::traces, std::span<const std::string_view>{}, values).is_ok());
  EXPECT_TRUE(values.empty());
}

TEST_F(StoreTest, ScanPrefixReturnsOnlyTheChildrenOfOneTrace) {
  auto store = open_store();
  ASSERT_TRUE(store);
  WriteBatch batch(*store);
  for (auto trace : {"tr-1", "tr-12", "tr-2"}) {
    for (auto span : {"s3", "s1", "s2"}) batch.put(Family::spans, child_key(trace, span), std::string(trace) + span);
  }
  batch.put(Family::assessments, child_key("tr-1", "a-1"), "feedback");
  ASSERT_TRUE(store->write(batch).is_ok());

  const Entries spans = collect_prefix(*store, Family::spans, child_prefix("tr-1"));
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0], (std::pair<std::string, std::string>{child_key("tr-1", "s1"), "tr-1s1"}));
  EXPECT_EQ(spans[2].first, child_key("tr-1", "s3"));
  EXPECT_EQ(collect_prefix(*store, Family::assessments, child_prefix("tr-1")).size(), 1u);
  EXPECT_TRUE(collect_prefix(*store, Family::assessments, child_prefix("tr-12")).empty());
  EXPECT_EQ(collect_prefix(*store, Family::spans, "").size(), 9u);

  int visited = 0;
  ASSERT_TRUE(store->scan_prefix(Family::spans, child_prefix("tr-2"), [&](auto, auto) {
    ++visited;
    return false;  // stop after the first
  }).is_ok());
  EXPECT_EQ(visited, 1);
}

// The child families have a "<trace_id>\0" prefix extractor (prefix bloom filters): prefix scans
// must still find children spread over memtables and several flushed files, a scan that is not
// one child prefix must still see every key in order, and tr-1 must not match tr-12.
TEST_F(StoreTest, PrefixFiltersKeepScansExactAcrossFlushes) {
  auto store = open_store();
  ASSERT_TRUE(store);
  for (Family f : {Family::spans, Family::assessments, Family::pending, Family::decisions}) {
    for (int round = 0; round < 3; ++round) {
      WriteBatch batch(*store);
      for (const char* trace : {"tr-1", "tr-12", "tr-2"}) {
        batch.put(f, child_key(trace, "c" + std::to_string(round)), trace);
      }
      ASSERT_TRUE(store->write(batch).is_ok());
      if (round < 2) {
        ASSERT_TRUE(store->flush().is_ok());
      }
    }
    SCOPED_TRACE(std::string(family_name(f)));
    EXPECT_EQ(collect_prefix(*store, f, child_prefix("tr-1")),
              (Entries{{child_key("tr-1", "c0"), "tr-1"}, {child_key("tr-1", "c1"), "tr-1"}, {child_key("tr-1", "c2"), "tr-1"}}));
    EXPECT_TRUE(collect_prefix(*store, f, child_prefix("tr-3")).empty());
    EXPECT_EQ(collect_prefix(*store, f, "").size(), 9u);
    EXPECT_EQ(collect_prefix(*store, f, "tr-1").size(), 6u);  // not a child prefix: tr-1 and tr-12
    Entries range;
    auto next = store->scan(f, ScanRange{child_key("tr-12", "c2"), "", 3}, [&](std::string_view k, std::string_view v) {
      range.emplace_back(k, v);
      return true;
    });
    ASSERT_TRUE(next.is_ok());
    EXPECT_EQ(range, (Entries{{child_key("tr-12", "c2"), "tr-12"}, {child_key("tr-2", "c0"), "tr-2"}, {child_key("tr-2", "c1"), "tr-2"}}));
    WriteBatch reader(*store);
    reader.put(f, child_key("tr-1", "c9"), "batch");
    Entries through_batch;
    ASSERT_TRUE(reader.scan_prefix(f, child_prefix("tr-1"), [&](std::string_view k, std::string_view v) {
      through_batch.emplace_back(k, v);
      return true;
    }).is_ok());
    EXPECT_EQ(through_batch.size(), 4u);
  }
}

TEST_F(StoreTest, ScanPagesThroughARangeWithAResumeKey) {
  auto store = open_store();
  ASSERT_TRUE(store);
  WriteBatch batch(*store);
  for (int i = 0; i < 25; ++i) {
    char key[8];
    std::snprintf(key, sizeof key, "k%02d", i);
    batch.put(Family::labeling, key, std::to_string(i));
  }
  batch.put(Family::labeling, "z-outside", "x");
  ASSERT_TRUE(store->write(batch).is_ok());

  std::vector<std::string> seen;
  std::string start = "k";
  int pages = 0;
  while (true) {
    ++pages;
    auto next = store->scan(Family::labeling, ScanRange{start, "l", 10}, [&](std::string_view k, std::string_view) {
      seen.emplace_back(k);
      return true;
    });
    ASSERT_TRUE(next.is_ok()) << next.status().to_string();
    if (!*next) break;
    start = **next;
  }
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_EQ(seen.front(), "k00");
  EXPECT_EQ(seen.back(), "k24");

  // Exactly `limit` entries left: no next page.
  auto last = store->scan(Family::labeling, ScanRange{"k20", "l", 5}, [](auto, auto) { return true; });
  ASSERT_TRUE(last.is_ok());
  EXPECT_EQ(*last, std::nullopt);
}

TEST_F(StoreTest, ReopenKeepsDataAndOffsets) {
  {
    auto store = open_store();
    ASSERT_TRUE(store);
    WriteBatch batch(*store);
    batch.put(Family::traces, "tr-1", "trace one");
    batch.put(Family::decisions, child_key("tr-1", "thumbs_down_to_review"), "routed");
    batch.set_offset("cluster-A", "tracefeed.traces", 0, 42);
    batch.set_offset("cluster-A", "tracefeed.assessments", 3, 7);
    ASSERT_TRUE(store->write(batch).is_ok());
    ASSERT_TRUE(store->close().is_ok());
    EXPECT_TRUE(store->close().is_ok());  // idempotent
  }
  auto store = open_store();
  ASSERT_TRUE(store);
  EXPECT_EQ(get(*store, Family::traces, "tr-1"), "trace one");
  EXPECT_EQ(get(*store, Family::decisions, child_key("tr-1", "thumbs_down_to_review")), "routed");
  auto offsets = store->stored_offsets("cluster-A");
  ASSERT_TRUE(offsets.is_ok()) << offsets.status().to_string();
  const OffsetMap expected{{{"tracefeed.assessments", 3}, 7}, {{"tracefeed.traces", 0}, 42}};
  EXPECT_EQ(*offsets, expected);
}

TEST_F(StoreTest, DestroyWithoutCloseKeepsData) {
  {
    auto store = open_store();
    ASSERT_TRUE(store);
    WriteBatch batch(*store);
    batch.put(Family::traces, "tr-1", "x");
    ASSERT_TRUE(store->write(batch).is_ok());
  }  // destructor only
  auto store = open_store();
  ASSERT_TRUE(store);
  EXPECT_EQ(get(*store, Family::traces, "tr-1"), "x");
}

TEST_F(StoreTest, OffsetsOfAnotherClusterAreNeverReturned) {
  auto store = open_store();
  ASSERT_TRUE(store);
  WriteBatch batch(*store);
  batch.set_offset("old-cluster", "tracefeed.traces", 0, 1000);
  batch.set_offset("old-cluster", "tracefeed.traces", 1, 2000);
  batch.set_offset("old-cluster-2", "tracefeed.traces", 0, 5);  // a cluster id extending another
  batch.set_offset("new-cluster", "tracefeed.traces", 0, 10);
  ASSERT_TRUE(store->write(batch).is_ok());

  auto fresh = store->stored_offsets("new-cluster");
  ASSERT_TRUE(fresh.is_ok());
  EXPECT_EQ(*fresh, (OffsetMap{{{"tracefeed.traces", 0}, 10}}));
  auto old = store->stored_offsets("old-cluster");
  ASSERT_TRUE(old.is_ok());
  EXPECT_EQ(old->size(), 2u);
  auto none = store->stored_offsets("never-seen");
  ASSERT_TRUE(none.is_ok());
  EXPECT_TRUE(none->empty());
  auto ids = store->known_cluster_ids();
  ASSERT_TRUE(ids.is_ok());
  EXPECT_EQ(*ids, (std::vector<std::string>{"new-cluster", "old-cluster", "old-cluster-2"}));
  EXPECT_EQ(store->stored_offsets("").status().code(), ErrorCode::invalid_argument);
}

TEST_F(StoreTest, LaterOffsetOverwritesEarlier) {
  auto store = open_store();
  ASSERT_TRUE(store);
  WriteBatch batch(*store);
  batch.set_offset("c", "t", 0, 1);
  batch.set_offset("c", "t", 0, 2);
  ASSERT_TRUE(store->write(batch).is_ok());
  batch.set_offset("c", "t", 0, 3);
  ASSERT_TRUE(store->write(batch, WriteOptions{.sync = true}).is_ok());
  auto offsets = store->stored_offsets("c");
  ASSERT_TRUE(offsets.is_ok());
  EXPECT_EQ(*offsets, (OffsetMap{{{"t", 0}, 3}}));
}

TEST_F(StoreTest, SecondOpenOfTheSameDirectoryIsALockError) {
  auto first = open_store();
  ASSERT_TRUE(first);
  auto second = Store::open(options(), _clock);
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), ErrorCode::unavailable);
  EXPECT_NE(second.status().message().find("locked by another open store"), std::string::npos)
      << second.status().to_string();
  ASSERT_TRUE(first->close().is_ok());
  EXPECT_TRUE(open_store());  // free again after close
}

TEST_F(StoreTest, InvalidOptionsAreRejectedAtOpen) {
  StoreOptions o = options();
  o.bloom_bits_per_key = -1;
  o.path.clear();
  auto store = Store::open(o, _clock);
  ASSERT_FALSE(store.is_ok());
  EXPECT_EQ(store.status().code(), ErrorCode::invalid_argument);
  EXPECT_NE(store.status().message().find("bloom_bits_per_key"), std::string::npos);
  EXPECT_NE(store.status().message().find("path"), std::string::npos);
}

TEST_F(StoreTest, MissingDirectoryWithoutCreateIsNotFound) {
  StoreOptions o = options("absent");
  o.create_if_missing = false;
  auto store = Store::open(o, _clock);
  ASSERT_FALSE(store.is_ok());
  EXPECT_EQ(store.status().code(), ErrorCode::not_found) << store.status().to_string();
}

TEST_F(StoreTest, CallsAfterCloseAreUnavailable) {
  auto store = open_store();
  ASSERT_TRUE(store);
  WriteBatch batch(*store);
  batch.put(Family::traces, "k", "v");
  ASSERT_TRUE(store->close().is_ok());
  EXPECT_EQ(store->get(Family::traces, "k").status().code(), ErrorCode::unavailable);
  EXPECT_EQ(store->write(batch).code(), ErrorCode::unavailable);
  EXPECT_EQ(batch.get(Family::traces, "k").status().code(), ErrorCode::unavailable);
  EXPECT_EQ(store->approximate_bytes().status().code(), ErrorCode::unavailable);
}

TEST_F(StoreTest, SizesGrowWithData) {
  auto store = open_store();
  ASSERT_TRUE(store);
  auto before = store->approximate_bytes();
  ASSERT_TRUE(before.is_ok());
  WriteBatch batch(*store);
  const std::string value(300, 'x');
  for (int i = 0; i < 2000; ++i) batch.put(Family::spans, "span-" + std::to_string(i), value);
  ASSERT_TRUE(store->write(batch).is_ok());
  auto in_memtable = store->approximate_bytes(Family::spans);
  ASSERT_TRUE(in_memtable.is_ok());
  EXPECT_GT(*in_memtable, 2000u * 300u);
  ASSERT_TRUE(store->flush().is_ok());
  auto stats = store->stats();
  ASSERT_TRUE(stats.is_ok());
  EXPECT_GT(stats->sst_bytes, 0u);
  EXPECT_GE(stats->estimated_keys, 2000u);
  EXPECT_EQ(stats->block_cache_capacity_bytes, 32 * StoreOptions::mib);
  auto after = store->approximate_bytes();
  ASSERT_TRUE(after.is_ok());
  EXPECT_GT(*after, *before);
  ASSERT_TRUE(get(*store, Family::spans, "span-7").has_value());  // loads a block into the cache
  auto cached = store->stats();
  ASSERT_TRUE(cached.is_ok());
  EXPECT_GT(cached->block_cache_usage_bytes, 0u);
}

TEST_F(StoreTest, DedupEntriesOutsideTheWindowAreDroppedByCompaction) {
  StoreOptions o = options();
  o.dedup_window = std::chrono::hours(1);
  auto store = open_store(o);
  ASSERT_TRUE(store);
  WriteBatch batch(*store);
  batch.mark_applied("ev-old", _clock.now());
  ASSERT_TRUE(store->write(batch).is_ok());
  _clock.advance(std::chrono::minutes(50));
  batch.mark_applied("ev-new", _clock.now());
  ASSERT_TRUE(store->write(batch).is_ok());

  ASSERT_TRUE(store->compact(Family::dedup).is_ok());
  EXPECT_TRUE(get(*store, Family::dedup, "ev-old").has_value());  // 50 min old: inside

  _clock.advance(std::chrono::minutes(20));  // ev-old 70 min, ev-new 20 min
  ASSERT_TRUE(store->compact(Family::dedup).is_ok());
  EXPECT_FALSE(get(*store, Family::dedup, "ev-old").has_value());
  EXPECT_TRUE(get(*store, Family::dedup, "ev-new").has_value());
}

TEST_F(StoreTest, StoresShareOneMemoryBudget) {
  auto budget = MemoryBudget::create(64 * StoreOptions::mib, 0.25);
  ASSERT_TRUE(budget.is_ok());
  StoreOptions a = options("p0");
  StoreOptions b = options("p1");
  a.memory_budget = b.memory_budget = *budget;
  auto first = open_store(a);
  auto second = open_store(b);
  ASSERT_TRUE(first && second);
  WriteBatch batch(*first);
  batch.put(Family::traces, "k", std::string(100'000, 'x'));
  ASSERT_TRUE(first->write(batch).is_ok());
  EXPECT_GT((*budget)->memtable_bytes(), 100'000u);
  auto stats = second->stats();
  ASSERT_TRUE(stats.is_ok());
  EXPECT_EQ(stats->block_cache_capacity_bytes, 64 * StoreOptions::mib);
  EXPECT_GE(stats->block_cache_usage_bytes, (*budget)->memtable_bytes());  // memtables charged to the cache
}

}  // namespace
}  // namespace tracefeed::state
