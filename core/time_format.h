#pragma once
// Wire formats of time in MLflow's proto-JSON: google.protobuf.Timestamp as RFC 3339
// ("2025-06-01T12:00:00.250Z") and google.protobuf.Duration as seconds ("1.250s").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tracefeed {

// Parses RFC 3339 with a 'Z' or ±HH:MM offset and up to 9 fractional digits.
[[nodiscard]] std::optional<int64_t> parse_rfc3339_ns(std::string_view s) noexcept;
// Formats as UTC with 0, 3, 6 or 9 fractional digits, as protobuf's JSON mapping does.
void append_rfc3339(std::string& out, int64_t unix_ns);
std::string format_rfc3339(int64_t unix_ns);

// Parses "1.250s", "-0.5s", "3s".
[[nodiscard]] std::optional<int64_t> parse_duration_ns(std::string_view s) noexcept;
void append_duration(std::string& out, int64_t ns);
std::string format_duration(int64_t ns);

}  // namespace tracefeed
