#include "sinks/labeling/json_fields.h"

#include <algorithm>

#include "core/json_writer.h"

namespace tracefeed::labeling {

Status field_error(std::string_view path, std::string message) {
  return Status::invalid_argument(std::string(path) + ": " + std::move(message));
}

std::string json_quoted(std::string_view s) {
  std::string out;
  JsonWriter::append_escaped(out, s);
  return out;
}

Status check_known_keys(const JsonTree& obj, std::string_view path, std::span<const std::string_view> known,
                        std::span<const std::string_view> extra) {
  for (const auto& [k, v] : obj.as_object()) {
    if (std::find(known.begin(), known.end(), k) != known.end() ||
        std::find(extra.begin(), extra.end(), k) != extra.end()) {
      continue;
    }
    std::string expected;
    for (auto name : known) expected += (expected.empty() ? "" : ", ") + std::string(name);
    for (auto name : extra) expected += (expected.empty() ? "" : ", ") + std::string(name);
    return field_error(path.empty() ? k : std::string(path) + "." + k, "unknown key; expected one of: " + expected);
  }
  return Status::ok();
}

}  // namespace tracefeed::labeling
