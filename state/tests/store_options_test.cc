#include "state/store_options.h"

#include <gtest/gtest.h>

#include "state/memory_budget.h"

namespace tracefeed::state {
namespace {

TEST(StoreOptions, DefaultsWithAPathAreValid) {
  StoreOptions options;
  options.path = "/tmp/x";
  EXPECT_TRUE(options.validate().is_ok()) << options.validate().to_string();
}

TEST(StoreOptions, EveryProblemIsReportedAtOnce) {
  StoreOptions options;
  options.memory_budget_bytes = 1024;
  options.write_buffer_fraction = 1.5;
  options.bloom_bits_per_key = 64;
  options.block_size_bytes = 10;
  options.background_jobs = 0;
  options.max_open_files = 3;
  options.write_buffer_size_bytes = 1;
  options.dedup_window = std::chrono::milliseconds(-1);
  options.memtable_bloom_ratio = 0.5;
  const Status s = options.validate();
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), ErrorCode::invalid_argument);
  for (const char* field : {"path", "memory_budget_bytes", "write_buffer_fraction", "bloom_bits_per_key",
                            "block_size_bytes", "background_jobs", "max_open_files",
                            "write_buffer_size_bytes", "dedup_window", "memtable_bloom_ratio"}) {
    EXPECT_NE(s.message().find(field), std::string::npos) << field << " missing from " << s.message();
  }
}

TEST(StoreOptions, SharedBudgetMakesOwnBudgetFieldsIrrelevant) {
  auto budget = MemoryBudget::create(32 * StoreOptions::mib, 0.5);
  ASSERT_TRUE(budget.is_ok());
  StoreOptions options;
  options.path = "/tmp/x";
  options.memory_budget = *budget;
  options.memory_budget_bytes = 0;
  EXPECT_TRUE(options.validate().is_ok());
  EXPECT_EQ((*budget)->capacity_bytes(), 32 * StoreOptions::mib);
}

TEST(MemoryBudget, RejectsBadArguments) {
  EXPECT_EQ(MemoryBudget::create(1024, 0.25).status().code(), ErrorCode::invalid_argument);
  EXPECT_EQ(MemoryBudget::create(64 * StoreOptions::mib, 0.0).status().code(), ErrorCode::invalid_argument);
  EXPECT_EQ(MemoryBudget::create(64 * StoreOptions::mib, 0.95).status().code(), ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace tracefeed::state
