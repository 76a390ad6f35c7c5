#pragma once
// The client side of the gateway's native endpoint POST /api/v1/events (PRODUCT.md §4), shared by
// HttpTransport and `tracefeed emit`: its path, its response body, and which answers to retry.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tracefeed {

inline constexpr std::string_view kEventsPath = "/api/v1/events";
inline constexpr std::string_view kNdjsonContentType = "application/x-ndjson";

struct RejectedEvent {
  size_t index = 0;  // position in the request's batch (0-based)
  std::string error_code;
  std::string message;
};

// {"accepted": N} or {"accepted": N, "rejected": [{"index", "error_code", "message"}]}.
struct EventsResponse {
  uint64_t accepted = 0;
  std::vector<RejectedEvent> rejected;
};

[[nodiscard]] Result<EventsResponse> parse_events_response(std::string_view body);

// The message of an error body {"error_code", "message"}, or the body itself (trimmed) if it is not one.
[[nodiscard]] std::string error_body_message(std::string_view body);

// 429 and 5xx except 501: the gateway is overloaded or Kafka is unreachable; retry later.
[[nodiscard]] constexpr bool is_retriable_http_status(int status) noexcept {
  return status == 429 || (status >= 500 && status != 501 && status < 600);
}

// Retry-After in delay-seconds form ("3"); HTTP-dates are not supported (nullopt).
[[nodiscard]] std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value);

// Splits "http://host:port[/prefix]" into scheme://host:port and the path prefix ("" or "/prefix").
struct BaseUrl {
  std::string scheme_host_port;
  std::string path_prefix;
};
[[nodiscard]] Result<BaseUrl> parse_base_url(std::string_view url);

}  // namespace tracefeed
