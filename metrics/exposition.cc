#include "metrics/exposition.h"

#include <regex>

namespace tracefeed::metrics {

void register_metrics_route(http::Server& server, const Metrics& metrics, std::string path) {
  // The route table matches ECMAScript regexes over the whole path: quote the configured path so
  // a '.' or '+' in it means itself.
  static const std::regex kSpecial(R"([.^$|()\[\]{}*+?\\])");
  std::string pattern = std::regex_replace(path, kSpecial, R"(\$&)");
  server.route("GET", std::move(pattern), [&metrics](const http::Request&, http::Response& res) {
    res.status = 200;
    res.content_type = std::string(kTextContentType);
    res.body = metrics.text();
  });
}

}  // namespace tracefeed::metrics
