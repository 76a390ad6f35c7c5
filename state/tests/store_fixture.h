#pragma once
// A test fixture owning a fresh directory, a ManualClock and small-memory store options.

#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>
#include <string>

#include "core/clock.h"
#include "state/store.h"
#include "state/tests/temp_dir.h"
#include "state/write_batch.h"

namespace tracefeed::state::testing {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(_dir.ok()) << "mkdtemp failed"; }

  StoreOptions options(const std::string& name = "db") const {
    StoreOptions o;
    o.path = _dir.sub(name);
    o.memory_budget_bytes = 32 * StoreOptions::mib;
    o.write_buffer_size_bytes = 1 * StoreOptions::mib;
    return o;
  }

  std::unique_ptr<Store> open_store(const StoreOptions& o) {
    auto store = Store::open(o, _clock);
    EXPECT_TRUE(store.is_ok()) << store.status().to_string();
    return store.is_ok() ? std::move(store).value() : nullptr;
  }
  std::unique_ptr<Store> open_store() { return open_store(options()); }

  static std::optional<std::string> get(const Store& store, Family family, std::string_view key) {
    auto value = store.get(family, key);
    EXPECT_TRUE(value.is_ok()) << value.status().to_string();
    return value.is_ok() ? *value : std::nullopt;
  }

  // Writes these entries to `store` in one batch: a test's "already stored" state.
  struct Entry {
    Family family;
    std::string key;
    std::string value;
  };
  static void store_entries(Store& store, std::initializer_list<Entry> entries) {
    WriteBatch setup(store);
    for (const auto& e : entries) setup.put(e.family, e.key, e.value);
    const Status s = store.write(setup);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
  }

  TempDir _dir;
  ManualClock _clock;
};

}  // namespace tracefeed::state::testing
