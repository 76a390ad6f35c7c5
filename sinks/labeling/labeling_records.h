#pragma once
// What the labeling sink stores in RocksDB (Family::labeling) and reads from Kafka.
//
// Key layout in Family::labeling (`\0` = one NUL byte; names and ids never contain NUL):
//   schema \0 <name>                          a label schema created through the API (JSON)
//   session \0 <labeling_session_id>          a session's definition (JSON, SessionRecord)
//   item \0 <labeling_session_id> \0 <trace>  an item: its reviews, skips and lease (JSON, Item)
//   orphan \0 <session name> \0 <trace>       a routed item whose session does not exist (yet)
// Consumed offsets of the review topic live in Family::offsets (WriteBatch::set_offset), written
// in the same batch as the items they produced.
//
// Values are JSON so that `ldb` and humans can read them; numbers in them stay below 2^53
// (times are milliseconds), so they survive the double-based JsonTree exactly.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_tree.h"
#include "core/result.h"
#include "sinks/labeling/review_queue.h"

namespace tracefeed::labeling {

// A labeling session's definition (PRODUCT.md §3); progress lives in its items.
struct SessionRecord {
  std::string id;    // labeling_session_id: 32 lowercase hex, random at creation
  std::string name;  // unique; rules route to a session by name
  std::string
      mlflow_run_id;  // 32 lowercase hex derived from id: "Labeling Sessions are MLflow Runs"
  std::string experiment_id =
      "0";  // the MLflow experiment the run belongs to (MLflow's default: "0")
  std::vector<std::string> label_schemas;
  std::vector<std::string> assigned_users;  // empty = anyone
  int32_t reviews_per_item = 1;
  std::chrono::milliseconds lease_duration{std::chrono::minutes(15)};
  int64_t create_time_ms = 0;
  bool from_config = false;  // defined in the config file: not deletable through the API
  bool operator==(const SessionRecord&) const = default;
};

// One record of the review topic, as the route processor writes it:
// {"type":"review_item","labeling_session":NAME,"trace_id":"tr-…","rule":R,"priority":N,"time":RFC3339}
struct RoutedItem {
  std::string session;  // session name
  std::string trace_id;
  std::string rule;
  int32_t priority = 0;
  // The record's `time`: the time of the event that made the rule fire (the feedback), in ns;
  // 0 when the record had none. Latency "feedback → claimable" is measured from it.
  int64_t time_ns = 0;
  bool operator==(const RoutedItem&) const = default;
};

// Parses and validates one review-topic record; errors name the field.
[[nodiscard]] Result<RoutedItem> parse_routed_item(std::string_view json);
[[nodiscard]] std::string routed_item_json(const RoutedItem& item);

[[nodiscard]] std::string schema_key(std::string_view name);
[[nodiscard]] std::string_view schema_prefix() noexcept;
[[nodiscard]] std::string session_key(std::string_view session_id);
[[nodiscard]] std::string_view session_prefix() noexcept;
[[nodiscard]] std::string item_key(std::string_view session_id, std::string_view trace_id);
[[nodiscard]] std::string item_prefix(std::string_view session_id);
[[nodiscard]] std::string_view all_items_prefix() noexcept;
[[nodiscard]] std::string orphan_key(std::string_view session_name, std::string_view trace_id);
[[nodiscard]] std::string orphan_prefix(std::string_view session_name);
[[nodiscard]] std::string_view all_orphans_prefix() noexcept;

// Appends the stored form to `out` (cleared first).
void encode_session(const SessionRecord& s, std::string& out);
[[nodiscard]] Result<SessionRecord> decode_session(std::string_view json);
void encode_item(const Item& item, std::string& out);
[[nodiscard]] Result<Item> decode_item(std::string_view json);

// 32 lowercase hex from `seed` (two XXH64 with different seeds): stable derived ids.
[[nodiscard]] std::string derived_hex32(std::string_view seed);

}  // namespace tracefeed::labeling
