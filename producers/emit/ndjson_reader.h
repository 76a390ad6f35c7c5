#pragma once
// NdjsonReader: one envelope per line from a file or stdin, with line numbers for messages.
// Blank lines are skipped, a trailing '\r' is dropped. Not thread-safe (one reader per stream).

#include <cstdint>
#include <istream>
#include <string>

#include "core/event_json.h"
#include "core/result.h"

namespace tracefeed::emit {

class NdjsonReader {
 public:
  // `name` prefixes messages ("events.ndjson", "<stdin>"). `in` is borrowed.
  // Default max_line_bytes: 16 MiB (the gateway's default body limit).
  NdjsonReader(std::istream& in, std::string name, size_t max_line_bytes = 16u << 20);

  // The next non-blank line into `line` (reused buffer). not_found at the end of the input;
  // invalid_argument "NAME:LINE: ..." for a line over the limit (skipped, reading can go on).
  [[nodiscard]] Status next(std::string& line);

  // 1-based number of the line last returned.
  [[nodiscard]] uint64_t line_number() const noexcept { return _line; }
  [[nodiscard]] uint64_t bytes_read() const noexcept { return _bytes; }
  [[nodiscard]] const std::string& name() const noexcept { return _name; }

  // "NAME:LINE: message" for the line last returned.
  [[nodiscard]] std::string where(std::string_view message) const;

 private:
  std::istream& _in;
  const std::string _name;
  const size_t _max_line_bytes;
  uint64_t _line = 0;
  uint64_t _bytes = 0;
};

// Parses and validates `line` as one envelope with core's EventParser; the error names the place
// ("events.ndjson:7: assessment.assessment_name: ...").
[[nodiscard]] Status check_envelope_line(EventParser& parser, const NdjsonReader& reader, std::string_view line);

}  // namespace tracefeed::emit
