#pragma once
// The dead-letter record of a consumed message that could not be applied (PRODUCT.md: bad input
// gets a dead-letter record with its reason): {reason, message, source_topic, source_partition,
// source_offset, time, raw (the first 4 KiB, when valid UTF-8)}. Every consumer writes the same
// shape, so one tool reads the dead-letter topic.

#include <cstdint>
#include <string>

#include "core/result.h"

namespace tracefeed::kafka {

class Message;

// `now_unix_ns`: when it was rejected.
[[nodiscard]] std::string dead_letter_record(const Message& m, const Status& why, int64_t now_unix_ns);

}  // namespace tracefeed::kafka
