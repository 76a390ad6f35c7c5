#include "producers/sdk/events_api.h"

#include <simdjson.h>

#include <charconv>

namespace tracefeed {

Result<EventsResponse> parse_events_response(std::string_view body) {
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element root;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS || !root.is_object()) {
    return Status::corruption("events response: not a JSON object: " + std::string(body.substr(0, 200)));
  }
  EventsResponse out;
  int64_t accepted = 0;
  if (root["accepted"].get(accepted) != simdjson::SUCCESS || accepted < 0) {
    return Status::corruption("events response: accepted: expected a non-negative integer");
  }
  out.accepted = static_cast<uint64_t>(accepted);
  simdjson::dom::array rejected;
  if (root["rejected"].get(rejected) == simdjson::SUCCESS) {
    for (simdjson::dom::element item : rejected) {
      RejectedEvent r;
      int64_t index = 0;
      if (item["index"].get(index) != simdjson::SUCCESS || index < 0) {
        return Status::corruption("events response: rejected[].index: expected a non-negative integer");
      }
      r.index = static_cast<size_t>(index);
      std::string_view s;
      if (item["error_code"].get(s) == simdjson::SUCCESS) r.error_code = s;
      if (item["message"].get(s) == simdjson::SUCCESS) r.message = s;
      out.rejected.push_back(std::move(r));
    }
  }
  return out;
}

std::string error_body_message(std::string_view body) {
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element root;
  std::string_view code, message;
  if (parser.parse(padded).get(root) == simdjson::SUCCESS && root["message"].get(message) == simdjson::SUCCESS) {
    if (root["error_code"].get(code) == simdjson::SUCCESS) return std::string(code) + ": " + std::string(message);
    return std::string(message);
  }
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r' || body.back() == ' ')) body.remove_suffix(1);
  return std::string(body.substr(0, 500));
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  double seconds = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || ptr != value.data() + value.size() || seconds < 0) return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

Result<BaseUrl> parse_base_url(std::string_view url) {
  constexpr std::string_view kHttp = "http://";
  if (url.substr(0, kHttp.size()) != kHttp) {
    return Status::invalid_argument("url: expected http://host:port, got \"" + std::string(url) + "\"");
  }
  const size_t slash = url.find('/', kHttp.size());
  BaseUrl out;
  out.scheme_host_port = std::string(url.substr(0, slash));
  if (out.scheme_host_port.size() == kHttp.size()) return Status::invalid_argument("url: missing host in \"" + std::string(url) + "\"");
  if (slash != std::string_view::npos) {
    out.path_prefix = std::string(url.substr(slash));
    while (!out.path_prefix.empty() && out.path_prefix.back() == '/') out.path_prefix.pop_back();
  }
  return out;
}

}  // namespace tracefeed
