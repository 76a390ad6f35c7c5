// state_crash_writer PATH BATCHES: writes BATCHES batches of 10 traces, each with the offset of
// its last trace, without sync, then kills itself with SIGKILL — no close, no destructor, no
// flush. crash_recovery_test.cc checks what survives.

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/clock.h"
#include "state/store.h"
#include "state/write_batch.h"

int main(int argc, char** argv) {
  using namespace tracefeed::state;
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s PATH BATCHES\n", argv[0]);
    return 2;
  }
  StoreOptions options;
  options.path = argv[1];
  options.memory_budget_bytes = 32 * StoreOptions::mib;
  const int batches = std::atoi(argv[2]);
  tracefeed::ManualClock clock;
  auto store = Store::open(options, clock);
  if (!store.is_ok()) {
    std::fprintf(stderr, "%s\n", store.status().to_string().c_str());
    return 1;
  }
  WriteBatch batch(**store);
  int next = 0;
  for (int b = 0; b < batches; ++b) {
    for (int i = 0; i < 10; ++i, ++next) {
      batch.put(Family::traces, "tr-" + std::to_string(next), "trace " + std::to_string(next));
    }
    batch.set_offset("crash-cluster", "tracefeed.traces", 0, next);
    if (auto s = (*store)->write(batch); !s.is_ok()) {
      std::fprintf(stderr, "%s\n", s.to_string().c_str());
      return 1;
    }
  }
  raise(SIGKILL);
  return 3;  // not reached
}
