#pragma once
// gzip request bodies (Content-Encoding: gzip) with a bound on the inflated size: a few KiB of
// gzip can inflate to GiBs (a "zip bomb"), so inflation stops at `max_output_bytes`.

#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tracefeed::otlp {

// True when `data` starts with the gzip magic bytes 1f 8b.
[[nodiscard]] bool is_gzip(std::string_view data) noexcept;

// Inflates a gzip stream (several concatenated members are accepted, as RFC 1952 allows).
// Errors: invalid_argument for corrupt or truncated input; payload_too_large when the output
// would exceed `max_output_bytes` (nothing beyond the limit is ever allocated).
[[nodiscard]] Result<std::string> gunzip(std::string_view data, size_t max_output_bytes);

// Compresses `data` as one gzip member (for tests and clients).
[[nodiscard]] Result<std::string> gzip(std::string_view data);

}  // namespace tracefeed::otlp
