#pragma once
// Serves Metrics on tracefeed's one HTTP server (http/server.h) — not prometheus-cpp's own
// civetweb Exposer: one listener, one worker pool, one set of limits for every role.

#include <string>
#include <string_view>

#include "http/server.h"
#include "metrics/metrics.h"

namespace tracefeed::metrics {

// The Content-Type of the Prometheus text exposition format 0.0.4.
inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4";

// Registers `GET <path>` (config::MetricsOptions::path, default "/metrics") on `server`, answering
// 200 with metrics.text(). Call before server.start(); `metrics` must outlive the server.
// Thread: the handler runs on an HTTP worker and runs the sources there (see metrics.h).
void register_metrics_route(http::Server& server, const Metrics& metrics, std::string path = "/metrics");

}  // namespace tracefeed::metrics
