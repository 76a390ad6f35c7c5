#include "producers/otlp/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

namespace tracefeed::otlp {

bool is_gzip(std::string_view data) noexcept {
  return data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f && static_cast<unsigned char>(data[1]) == 0x8b;
}

Result<std::string> gunzip(std::string_view data, size_t max_output_bytes) {
  if (!is_gzip(data)) return Status::invalid_argument("body: Content-Encoding is gzip but the body is not gzip data");
  if (data.size() > std::numeric_limits<uInt>::max()) return Status::invalid_argument("body: gzip input too large");
  z_stream zs{};
  // 16 + MAX_WBITS: gzip wrapper only (no zlib/raw deflate).
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return Status::internal("zlib: inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());

  std::string out;
  // Grow geometrically, never past the limit (+1 byte to detect "more than the limit").
  const size_t hard_cap = max_output_bytes == std::numeric_limits<size_t>::max() ? max_output_bytes : max_output_bytes + 1;
  out.resize(std::min(hard_cap, std::max<size_t>(data.size() * 4, 4096)));
  size_t produced = 0;
  Status error;
  for (;;) {
    if (produced == out.size()) {
      if (out.size() >= hard_cap) break;
      out.resize(std::min(hard_cap, out.size() * 2));
    }
    const size_t room = std::min<size_t>(out.size() - produced, std::numeric_limits<uInt>::max());
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(room);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    produced += room - zs.avail_out;
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      // Another gzip member follows (concatenated gzip streams).
      if (inflateReset(&zs) != Z_OK) {
        error = Status::invalid_argument("body: corrupt gzip data");
        break;
      }
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && zs.avail_out != 0) {
      error = Status::invalid_argument("body: truncated gzip data");
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      error = Status::invalid_argument(std::string("body: corrupt gzip data (") + (zs.msg ? zs.msg : "inflate error") + ")");
      break;
    }
  }
  inflateEnd(&zs);
  if (!error.is_ok()) return error;
  if (produced > max_output_bytes) {
    return Status{ErrorCode::payload_too_large, "body: gzip data inflates to more than the limit of " +
                                                    std::to_string(max_output_bytes) + " bytes"};
  }
  out.resize(produced);
  return out;
}

Result<std::string> gzip(std::string_view data) {
  if (data.size() > std::numeric_limits<uInt>::max()) return Status::invalid_argument("gzip: input too large");
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Status::internal("zlib: deflateInit2 failed");
  }
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const size_t produced = out.size() - zs.avail_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return Status::internal("zlib: deflate did not finish");
  out.resize(produced);
  return out;
}

}  // namespace tracefeed::otlp
