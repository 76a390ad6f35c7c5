#include "core/result.h"

namespace tracefeed {

std::string_view error_code_name(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::ok: return "OK";
    case ErrorCode::invalid_argument: return "INVALID_PARAMETER_VALUE";
    case ErrorCode::not_found: return "RESOURCE_DOES_NOT_EXIST";
    case ErrorCode::already_exists: return "RESOURCE_ALREADY_EXISTS";
    case ErrorCode::conflict: return "CONFLICT";
    case ErrorCode::permission_denied: return "PERMISSION_DENIED";
    case ErrorCode::payload_too_large: return "PAYLOAD_TOO_LARGE";
    case ErrorCode::unavailable: return "TEMPORARILY_UNAVAILABLE";
    case ErrorCode::timeout: return "DEADLINE_EXCEEDED";
    case ErrorCode::io_error: return "IO_ERROR";
    case ErrorCode::corruption: return "DATA_LOSS";
    case ErrorCode::internal: return "INTERNAL_ERROR";
  }
  return "UNKNOWN";
}

std::string Status::to_string() const {
  if (is_ok()) return "OK";
  std::string out(error_code_name(_code));
  out += ": ";
  out += _message;
  return out;
}

Status Status::with_context(std::string_view context) const {
  if (is_ok()) return *this;
  std::string m(context);
  m += ": ";
  m += _message;
  return {_code, std::move(m)};
}

}  // namespace tracefeed
