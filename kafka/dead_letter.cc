#include "kafka/dead_letter.h"

#include "core/event_json.h"
#include "core/json_writer.h"
#include "core/time_format.h"
#include "kafka/consumer.h"

namespace tracefeed::kafka {

std::string dead_letter_record(const Message& m, const Status& why, int64_t now_unix_ns) {
  std::string record;
  JsonWriter w(record);
  w.begin_object();
  w.field("reason", error_code_name(why.code()));
  w.field("message", why.message());
  w.field("source_topic", m.topic());
  w.field_int("source_partition", m.partition());
  w.field_int("source_offset", m.offset());
  w.field("time", format_rfc3339(now_unix_ns));
  // The raw record, truncated: enough to find and fix the producer, bounded in size.
  std::string_view raw = m.value().substr(0, 4096);
  if (is_valid_utf8(raw)) w.field("raw", raw);
  w.end_object();
  return record;
}

}  // namespace tracefeed::kafka
