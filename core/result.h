#pragma once
// Status and Result<T>: errors at I/O and module boundaries are values, never exceptions.
//
// A Status carries an ErrorCode and a message that names what is wrong
// ("trace_info.trace_id: expected \"tr-\" + 32 hex"). Result<T> holds either a T or a non-ok
// Status. Both are [[nodiscard]]: ignoring one is a compile error with -Werror.

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tracefeed {

enum class ErrorCode {
  ok = 0,
  invalid_argument,  // bad input from a client: maps to HTTP 400
  not_found,         // 404
  already_exists,    // 409
  conflict,          // 409: stale lease, superseded token, concurrent change
  permission_denied, // 403
  payload_too_large, // 413
  unavailable,       // 503: broker down, queue full; retry later
  timeout,           // 504 / retry
  io_error,          // disk, RocksDB
  corruption,        // stored data does not parse
  internal,          // a bug
};

[[nodiscard]] std::string_view error_code_name(ErrorCode code) noexcept;

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(ErrorCode code, std::string message) : _code(code), _message(std::move(message)) {}

  static Status ok() { return {}; }
  static Status invalid_argument(std::string m) { return {ErrorCode::invalid_argument, std::move(m)}; }
  static Status not_found(std::string m) { return {ErrorCode::not_found, std::move(m)}; }
  static Status already_exists(std::string m) { return {ErrorCode::already_exists, std::move(m)}; }
  static Status conflict(std::string m) { return {ErrorCode::conflict, std::move(m)}; }
  static Status unavailable(std::string m) { return {ErrorCode::unavailable, std::move(m)}; }
  static Status timeout(std::string m) { return {ErrorCode::timeout, std::move(m)}; }
  static Status io_error(std::string m) { return {ErrorCode::io_error, std::move(m)}; }
  static Status corruption(std::string m) { return {ErrorCode::corruption, std::move(m)}; }
  static Status internal(std::string m) { return {ErrorCode::internal, std::move(m)}; }

  bool is_ok() const noexcept { return _code == ErrorCode::ok; }
  explicit operator bool() const noexcept { return is_ok(); }
  ErrorCode code() const noexcept { return _code; }
  const std::string& message() const noexcept { return _message; }

  // "INVALID_ARGUMENT: trace_info.trace_id: expected ..."
  std::string to_string() const;

  // Returns a copy whose message is prefixed with `context + ": "`.
  Status with_context(std::string_view context) const;

 private:
  ErrorCode _code = ErrorCode::ok;
  std::string _message;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : _v(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : _v(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(_v).is_ok() && "Result constructed from an ok Status");
  }

  bool is_ok() const noexcept { return std::holds_alternative<T>(_v); }
  explicit operator bool() const noexcept { return is_ok(); }

  T& value() & { return std::get<T>(_v); }
  const T& value() const& { return std::get<T>(_v); }
  T&& value() && { return std::get<T>(std::move(_v)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // The error; Status::ok() when this holds a value.
  Status status() const { return is_ok() ? Status::ok() : std::get<Status>(_v); }

 private:
  std::variant<T, Status> _v;
};

}  // namespace tracefeed

// Propagates a non-ok Status from an expression returning Status.
#define TF_RETURN_IF_ERROR(expr)                    \
  do {                                              \
    ::tracefeed::Status _tf_status = (expr);        \
    if (!_tf_status.is_ok()) return _tf_status;     \
  } while (false)

#define TF_CONCAT_INNER(a, b) a##b
#define TF_CONCAT(a, b) TF_CONCAT_INNER(a, b)
// TF_ASSIGN_OR_RETURN(auto x, make_x()): binds the value or returns the error.
#define TF_ASSIGN_OR_RETURN(lhs, expr) TF_ASSIGN_OR_RETURN_IMPL(TF_CONCAT(_tf_result_, __LINE__), lhs, expr)
#define TF_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.is_ok()) return tmp.status();         \
  lhs = std::move(tmp).value()
