// kill -9 in the middle of work: a child process writes unsynced batches and SIGKILLs itself;
// reopening recovers every acknowledged batch and its offsets from the WAL.

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

#include "state/tests/store_fixture.h"

extern char** environ;

namespace tracefeed::state {
namespace {

class CrashRecoveryTest : public testing::StoreTest {};

// Runs state_crash_writer and returns its wait status.
int run_crash_writer(const std::string& path, int batches) {
  std::string exe = TRACEFEED_STATE_CRASH_WRITER;
  std::string count = std::to_string(batches);
  char* argv[] = {exe.data(), const_cast<char*>(path.c_str()), count.data(), nullptr};
  pid_t pid = 0;
  if (posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv, environ) != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return status;
}

TEST_F(CrashRecoveryTest, KillNineRecoversAcknowledgedWritesAndOffsetsFromTheWal) {
  const std::string path = options().path;
  constexpr int batches = 500;
  const int status = run_crash_writer(path, batches);
  ASSERT_TRUE(WIFSIGNALED(status)) << "wait status " << status;
  ASSERT_EQ(WTERMSIG(status), SIGKILL);

  auto store = open_store();
  ASSERT_TRUE(store);
  auto offsets = store->stored_offsets("crash-cluster");
  ASSERT_TRUE(offsets.is_ok()) << offsets.status().to_string();
  EXPECT_EQ(*offsets, (OffsetMap{{{"tracefeed.traces", 0}, batches * 10}}));
  for (int i = 0; i < batches * 10; i += 97) {
    EXPECT_EQ(get(*store, Family::traces, "tr-" + std::to_string(i)), "trace " + std::to_string(i));
  }
  EXPECT_EQ(get(*store, Family::traces, "tr-" + std::to_string(batches * 10 - 1)),
            "trace " + std::to_string(batches * 10 - 1));
}

TEST_F(CrashRecoveryTest, ReopenAfterACrashIsRepeatable) {
  // Crash, recover, crash again on top of the recovered state.
  const std::string path = options().path;
  ASSERT_TRUE(WIFSIGNALED(run_crash_writer(path, 10)));
  ASSERT_TRUE(WIFSIGNALED(run_crash_writer(path, 20)));
  auto store = open_store();
  ASSERT_TRUE(store);
  auto offsets = store->stored_offsets("crash-cluster");
  ASSERT_TRUE(offsets.is_ok());
  EXPECT_EQ(*offsets, (OffsetMap{{{"tracefeed.traces", 0}, 200}}));
}

}  // namespace
}  // namespace tracefeed::state
