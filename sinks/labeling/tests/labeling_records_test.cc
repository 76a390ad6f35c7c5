#include "sinks/labeling/labeling_records.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/ids.h"

namespace tracefeed::labeling {
namespace {

using ::testing::HasSubstr;
using namespace std::string_literals;

constexpr const char* kTrace = "tr-0123456789abcdef0123456789abcdef";

TEST(LabelingRecords, ItemRoundTripsWithReviewsSkipsAndLease) {
  Item item;
  item.trace_id = kTrace;
  item.seq = 42;
  item.priority = -3;
  item.rule = "thumbs_down_to_review";
  item.source = ItemSource::routed;
  item.added_ms = 1'748'779'200'250;
  item.lease_count = 3;
  item.lease = Lease{"carol@example.com", "3-0123456789abcdef", 1'748'780'100'250};
  item.reviews.push_back(
      Review{"alice",
             "1-aaaaaaaaaaaaaaaa",
             1'748'779'300'000,
             {{"response_accuracy", R"("Accurate")"}, {"score", "4.5"}, {"tags", R"(["a","b"])"}},
             {{"response_accuracy", "looks right \"quoted\""}}});
  item.skips.push_back(Skip{"bob", "2-bbbbbbbbbbbbbbbb", 1'748'779'400'000});
  item.pinned = "memory only";
  std::string json;
  encode_item(item, json);
  auto back = decode_item(json);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string() << "\n" << json;
  item.pinned.clear();  // never stored
  EXPECT_EQ(*back, item);
}

TEST(LabelingRecords, SessionRoundTrips) {
  SessionRecord s;
  s.id = new_event_id();
  s.name = "quickstart_review";
  s.mlflow_run_id = derived_hex32("mlflow-run:" + s.id);
  s.experiment_id = "7";
  s.label_schemas = {"response_accuracy", "expected_response"};
  s.assigned_users = {"alice@example.com"};
  s.reviews_per_item = 3;
  s.lease_duration = std::chrono::minutes(5);
  s.create_time_ms = 1'748'779'200'250;
  s.from_config = true;
  std::string json;
  encode_session(s, json);
  auto back = decode_session(json);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(*back, s);
  EXPECT_EQ(decode_session("{nope").status().code(), ErrorCode::corruption);
  EXPECT_EQ(decode_session(R"({"labeling_session_id":"x","name":7})").status().code(),
            ErrorCode::corruption);
}

TEST(LabelingRecords, RoutedItemFromTheRouter) {
  // What processors/route/router.cc produces.
  auto r = parse_routed_item(
      R"({"type":"review_item","labeling_session":"quickstart_review","trace_id":"tr-0123456789abcdef0123456789abcdef","rule":"thumbs_down_to_review","priority":5,"time":"2025-06-01T12:00:00.250Z"})");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->session, "quickstart_review");
  EXPECT_EQ(r->trace_id, kTrace);
  EXPECT_EQ(r->rule, "thumbs_down_to_review");
  EXPECT_EQ(r->priority, 5);
  EXPECT_EQ(r->time_ns, 1'748'779'200'250'000'000);
  auto again = parse_routed_item(routed_item_json(*r));
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(*again, *r);
}

TEST(LabelingRecords, BadRoutedItemsNameTheField) {
  EXPECT_THAT(parse_routed_item(R"({"type":"eval_record"})").status().message(), HasSubstr("type"));
  EXPECT_THAT(parse_routed_item(
                  R"({"type":"review_item","trace_id":"tr-0123456789abcdef0123456789abcdef"})")
                  .status()
                  .message(),
              HasSubstr("labeling_session"));
  EXPECT_THAT(
      parse_routed_item(R"({"type":"review_item","labeling_session":"s","trace_id":"tr-12"})")
          .status()
          .message(),
      HasSubstr("trace_id"));
  EXPECT_THAT(
      parse_routed_item(
          R"({"type":"review_item","labeling_session":"s","trace_id":"tr-0123456789abcdef0123456789abcdef","time":"yesterday"})")
          .status()
          .message(),
      HasSubstr("time"));
  EXPECT_EQ(parse_routed_item("not json").status().code(), ErrorCode::invalid_argument);
}

TEST(LabelingRecords, KeysKeepSessionsApart) {
  EXPECT_EQ(item_key("s1", kTrace), "item\0s1\0"s + kTrace);
  EXPECT_EQ(item_prefix("s1"), "item\0s1\0"s);
  EXPECT_NE(item_key("s1", kTrace).rfind(item_prefix("s1"), 0), std::string::npos);
  EXPECT_EQ(item_key("s12", kTrace).rfind(item_prefix("s1"), 0), std::string::npos)
      << "s1's prefix must not match s12";
  EXPECT_EQ(orphan_key("name", kTrace).rfind(all_orphans_prefix(), 0), 0u);
  EXPECT_EQ(session_key("abc").rfind(session_prefix(), 0), 0u);
  EXPECT_EQ(schema_key("abc").rfind(schema_prefix(), 0), 0u);
}

TEST(LabelingRecords, DerivedIdsAreStableHex) {
  const std::string a = derived_hex32("seed");
  EXPECT_EQ(a.size(), 32u);
  EXPECT_TRUE(is_lower_hex(a));
  EXPECT_EQ(a, derived_hex32("seed"));
  EXPECT_NE(a, derived_hex32("seed2"));
}

}  // namespace
}  // namespace tracefeed::labeling
