// Micro-benchmarks of the state store on the access pattern of the join: ~300 B values over
// ~1 M keys (TRACEFEED_STATE_BENCH_KEYS), default StoreOptions (512 MiB budget, bloom
// filters), WAL on, no fsync unless the name says so.
//
//   build-*/bin/state_bench [--benchmark_filter=...]
//   TRACEFEED_STATE_BENCH_DIR=/path (default: a fresh dir under $TMPDIR, removed at exit)
//
// Reads run first, against the preloaded and compacted keys; writes run last and add keys.
// At the end it prints store sizes, cache usage and peak RSS.

#include <stdlib.h>
#include <sys/resource.h>

#include <benchmark/benchmark.h>

#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/clock.h"
#include "state/store.h"
#include "state/write_batch.h"

namespace tracefeed::state {
namespace {

uint64_t mix64(uint64_t x) {  // splitmix64 finalizer: spreads sequential ids over the key space
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void make_key(std::string& out, uint64_t i) {
  char buf[40];
  const int n = std::snprintf(buf, sizeof buf, "tr-%016" PRIx64 "%016" PRIx64, mix64(i), i);
  out.assign(buf, static_cast<size_t>(n));
}

// ~300 B of JSON-like text with a few random fields (compresses like real trace_info).
void make_value(std::string& out, uint64_t i) {
  char buf[400];
  const int n = std::snprintf(
      buf, sizeof buf,
      "{\"trace_id\":\"tr-%016" PRIx64 "\",\"request_time\":%" PRIu64
      ",\"execution_duration_ms\":%" PRIu64
      ",\"state\":\"OK\",\"request_preview\":\"What is the capital of country %" PRIu64
      "?\",\"response_preview\":\"The answer is city %" PRIx64
      "\",\"tags\":{\"mlflow.user\":\"user-%" PRIu64 "\",\"env\":\"prod\"},\"assessments\":[]}",
      mix64(i), static_cast<uint64_t>(1'700'000'000'000ULL + i), mix64(i) % 5000, i % 200, mix64(i + 1), i % 10000);
  out.assign(buf, static_cast<size_t>(n));
}

struct BenchState {
  ManualClock clock;
  std::string dir;
  bool remove_dir = false;
  std::unique_ptr<Store> store;
  uint64_t preloaded = 0;
  uint64_t next_new = 0;  // next key id for write benchmarks
};

BenchState& bench_state() {
  static BenchState* state = [] {
    auto* s = new BenchState;
    if (const char* d = std::getenv("TRACEFEED_STATE_BENCH_DIR")) {
      s->dir = d;
    } else {
      std::string pattern = (std::filesystem::temp_directory_path() / "tracefeed-state-bench-XXXXXX").string();
      if (mkdtemp(pattern.data()) == nullptr) std::abort();
      s->dir = pattern;
      s->remove_dir = true;
    }
    s->preloaded = 1'000'000;
    if (const char* n = std::getenv("TRACEFEED_STATE_BENCH_KEYS")) s->preloaded = std::strtoull(n, nullptr, 10);
    StoreOptions options;
    options.path = s->dir + "/db";
    auto store = Store::open(options, s->clock);
    if (!store.is_ok()) {
      std::fprintf(stderr, "open: %s\n", store.status().to_string().c_str());
      std::abort();
    }
    s->store = std::move(store).value();
    auto existing = s->store->get(Family::meta, "bench.preloaded");
    if (!existing.is_ok() || !*existing || std::stoull(**existing) != s->preloaded) {
      std::fprintf(stderr, "preloading %" PRIu64 " keys into %s ...\n", s->preloaded, options.path.c_str());
      WriteBatch batch(*s->store);
      std::string key;
      std::string value;
      for (uint64_t i = 0; i < s->preloaded; ++i) {
        make_key(key, i);
        make_value(value, i);
        batch.put(Family::traces, key, value);
        if (batch.count() == 1000 || i + 1 == s->preloaded) {
          if (!s->store->write(batch).is_ok()) std::abort();
        }
      }
      batch.put(Family::meta, "bench.preloaded", std::to_string(s->preloaded));
      if (!s->store->write(batch).is_ok() || !s->store->compact(Family::traces).is_ok()) std::abort();
    }
    s->next_new = s->preloaded + 1'000'000'000ULL;
    return s;
  }();
  return *state;
}

void BM_RandomGet(benchmark::State& state) {
  auto& s = bench_state();
  std::mt19937_64 rng(1);
  std::string key;
  uint64_t found = 0;
  for (auto _ : state) {
    make_key(key, rng() % s.preloaded);
    auto v = s.store->get(Family::traces, key);
    found += v.is_ok() && v->has_value();
  }
  if (found != static_cast<uint64_t>(state.iterations())) state.SkipWithError("missing keys");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RandomGet)->UseRealTime();

void BM_RandomGetMiss(benchmark::State& state) {  // absent keys: bloom filters answer
  auto& s = bench_state();
  std::mt19937_64 rng(2);
  std::string key;
  for (auto _ : state) {
    make_key(key, s.preloaded + 5'000'000'000ULL + rng() % 1'000'000);
    auto v = s.store->get(Family::traces, key);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RandomGetMiss)->UseRealTime();

void BM_MultiGet100(benchmark::State& state) {
  auto& s = bench_state();
  std::mt19937_64 rng(3);
  std::vector<std::string> owned(100);
  std::vector<std::string_view> keys(100);
  std::vector<std::optional<std::string>> values;
  for (auto _ : state) {
    for (size_t i = 0; i < 100; ++i) {
      make_key(owned[i], rng() % s.preloaded);
      keys[i] = owned[i];
    }
    if (!s.store->multi_get(Family::traces, keys, values).is_ok()) state.SkipWithError("multi_get");
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_MultiGet100)->UseRealTime();

// The join's step: read 100 keys through the batch (half hit, half new), then put 100.
void BM_BatchMultiGetThenPut100(benchmark::State& state) {
  auto& s = bench_state();
  std::mt19937_64 rng(4);
  WriteBatch batch(*s.store);
  std::vector<std::string> owned(100);
  std::vector<std::string_view> keys(100);
  std::vector<std::optional<std::string>> values;
  std::string value;
  for (auto _ : state) {
    for (size_t i = 0; i < 100; ++i) {
      make_key(owned[i], i % 2 == 0 ? rng() % s.preloaded : s.next_new++);
      keys[i] = owned[i];
    }
    if (!batch.multi_get(Family::traces, keys, values).is_ok()) state.SkipWithError("multi_get");
    for (size_t i = 0; i < 100; ++i) {
      make_value(value, i);
      batch.put(Family::traces, keys[i], value);
    }
    batch.set_offset("bench-cluster", "tracefeed.traces", 0, static_cast<int64_t>(s.next_new));
    if (!s.store->write(batch).is_ok()) state.SkipWithError("write");
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_BatchMultiGetThenPut100)->UseRealTime();

void BM_BatchPut100(benchmark::State& state) {
  auto& s = bench_state();
  const bool sync = state.range(0) != 0;
  WriteBatch batch(*s.store);
  std::string key;
  std::string value;
  for (auto _ : state) {
    for (int i = 0; i < 100; ++i) {
      const uint64_t id = s.next_new++;
      make_key(key, id);
      make_value(value, id);
      batch.put(Family::traces, key, value);
    }
    batch.set_offset("bench-cluster", "tracefeed.traces", 0, static_cast<int64_t>(s.next_new));
    if (!s.store->write(batch, WriteOptions{.sync = sync}).is_ok()) state.SkipWithError("write");
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_BatchPut100)->ArgName("sync")->Arg(0)->Arg(1)->UseRealTime();

void report_and_close() {
  auto& s = bench_state();
  if (auto stats = s.store->stats(); stats.is_ok()) {
    std::printf("store: sst %.1f MiB, memtables %.1f MiB, ~%" PRIu64 " keys; block cache %.1f / %.1f MiB (pinned %.1f MiB)\n",
                static_cast<double>(stats->sst_bytes) / (1 << 20), static_cast<double>(stats->memtable_bytes) / (1 << 20),
                stats->estimated_keys, static_cast<double>(stats->block_cache_usage_bytes) / (1 << 20),
                static_cast<double>(stats->block_cache_capacity_bytes) / (1 << 20),
                static_cast<double>(stats->block_cache_pinned_bytes) / (1 << 20));
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("peak RSS: %.1f MiB\n", static_cast<double>(usage.ru_maxrss) / 1024.0);
  if (auto st = s.store->close(); !st.is_ok()) std::fprintf(stderr, "close: %s\n", st.to_string().c_str());
  if (s.remove_dir) {
    std::error_code ec;
    std::filesystem::remove_all(s.dir, ec);
  }
}

}  // namespace
}  // namespace tracefeed::state

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  tracefeed::state::bench_state();  // preload before timing anything
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  tracefeed::state::report_and_close();
  return 0;
}
