#include "producers/sdk/event_queue.h"

#include <gtest/gtest.h>

#include <thread>

namespace tracefeed {
namespace {

using namespace std::chrono_literals;

TEST(EventQueue, ErrorPolicyFailsAtOnceWhenFull) {
  EventQueue q(2, 1 << 20);
  EXPECT_TRUE(q.push("a", 0, BufferFullPolicy::error, 0ms).is_ok());
  EXPECT_TRUE(q.push("b", 0, BufferFullPolicy::error, 0ms).is_ok());
  Status s = q.push("c", 0, BufferFullPolicy::error, 0ms);
  EXPECT_EQ(s.code(), ErrorCode::unavailable);
  EXPECT_EQ(q.size(), 2u);
}

TEST(EventQueue, ByteBoundAndOversizeEvents) {
  EventQueue q(100, 10);
  EXPECT_TRUE(q.push("12345678", 0, BufferFullPolicy::error, 0ms).is_ok());
  EXPECT_EQ(q.push("123", 0, BufferFullPolicy::error, 0ms).code(), ErrorCode::unavailable);
  EXPECT_EQ(q.push("12345678901", 0, BufferFullPolicy::block, 1h).code(), ErrorCode::payload_too_large);
  EXPECT_EQ(q.bytes(), 8u);
}

TEST(EventQueue, BlockPolicyTimesOut) {
  EventQueue q(1, 1 << 20);
  ASSERT_TRUE(q.push("a", 0, BufferFullPolicy::block, 0ms).is_ok());
  EXPECT_EQ(q.push("b", 0, BufferFullPolicy::block, 20ms).code(), ErrorCode::unavailable);
}

TEST(EventQueue, BlockPolicyWaitsForRoom) {
  EventQueue q(1, 1 << 20);
  ASSERT_TRUE(q.push("a", 0, BufferFullPolicy::block, 0ms).is_ok());
  Status pushed = Status::internal("not run");
  std::thread producer([&] { pushed = q.push("b", 0, BufferFullPolicy::block, 60s); });
  std::vector<QueuedEvent> out;
  ASSERT_EQ(q.pop_batch(out, 10, 1 << 20, 10s, 0ms), 1u);
  producer.join();  // returns once the pop made room
  EXPECT_TRUE(pushed.is_ok()) << pushed.to_string();
  out.clear();
  ASSERT_EQ(q.pop_batch(out, 10, 1 << 20, 10s, 0ms), 1u);
  EXPECT_EQ(out[0].json, "b");
}

TEST(EventQueue, CloseWakesABlockedProducer) {
  EventQueue q(1, 1 << 20);
  ASSERT_TRUE(q.push("a", 0, BufferFullPolicy::block, 0ms).is_ok());
  Status pushed;
  std::thread producer([&] { pushed = q.push("b", 0, BufferFullPolicy::block, 60s); });
  q.close();
  producer.join();
  EXPECT_EQ(pushed.code(), ErrorCode::unavailable);
  EXPECT_EQ(q.take_all().size(), 1u);
}

TEST(EventQueue, BatchesRespectEventAndByteLimits) {
  EventQueue q(100, 1 << 20);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(q.push("0123456789", i, BufferFullPolicy::error, 0ms).is_ok());
  std::vector<QueuedEvent> out;
  EXPECT_EQ(q.pop_batch(out, 4, 1 << 20, 0ms, 0ms), 4u);
  out.clear();
  EXPECT_EQ(q.pop_batch(out, 100, 25, 0ms, 0ms), 2u);
  EXPECT_EQ(out[0].enqueued_ns, 4);
  out.clear();
  EXPECT_EQ(q.pop_batch(out, 100, 5, 0ms, 0ms), 1u) << "always at least one event";
  EXPECT_EQ(q.size(), 3u);
}

TEST(EventQueue, UrgentSkipsTheLinger) {
  EventQueue q(100, 1 << 20);
  ASSERT_TRUE(q.push("a", 0, BufferFullPolicy::error, 0ms).is_ok());
  q.add_urgent(1);
  std::vector<QueuedEvent> out;
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(q.pop_batch(out, 100, 1 << 20, 0ms, 1h), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
}

}  // namespace
}  // namespace tracefeed
