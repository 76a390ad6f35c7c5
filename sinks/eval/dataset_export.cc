#include "sinks/eval/dataset_export.h"

#include <httplib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

#include "producers/sdk/events_api.h"
#include "sinks/eval/dataset_record.h"

namespace tracefeed::eval {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// Percent-encodes one path segment (RFC 3986 unreserved characters pass as they are).
std::string encode_segment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    if (std::isalnum(u) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

std::string human_bytes(uint64_t n) {
  char buf[32];
  if (n >= (1u << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(n) / (1u << 20));
  } else if (n >= 1024) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(n) / 1024);
  } else {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  }
  return buf;
}

// Closes a FILE* it owns (not stdout) and removes the .part file unless committed.
class OutputFile {
 public:
  ~OutputFile() {
    if (_file && _file != stdout) std::fclose(_file);
    if (!_part.empty() && !_committed) {
      std::error_code ec;
      std::filesystem::remove(_part, ec);
    }
  }

  Status open(const std::string& path) {
    _path = path;
    if (path == "-") {
      _file = stdout;
      return Status::ok();
    }
    _part = path + ".part";
    _file = std::fopen(_part.c_str(), "wb");
    if (!_file) return Status::io_error(_part + ": " + std::strerror(errno));
    return Status::ok();
  }

  Status write(std::string_view data) {
    if (std::fwrite(data.data(), 1, data.size(), _file) != data.size()) {
      return Status::io_error((_part.empty() ? std::string("<stdout>") : _part) + ": " + std::strerror(errno));
    }
    return Status::ok();
  }

  // Flushes and, for a file, renames FILE.part to FILE.
  Status commit() {
    if (_file == stdout) {
      if (std::fflush(stdout) != 0) return Status::io_error(std::string("<stdout>: ") + std::strerror(errno));
      return Status::ok();
    }
    const int rc = std::fclose(_file);
    _file = nullptr;
    if (rc != 0) return Status::io_error(_part + ": " + std::strerror(errno));
    std::error_code ec;
    std::filesystem::rename(_part, _path, ec);
    if (ec) return Status::io_error(_path + ": " + ec.message());
    _committed = true;
    return Status::ok();
  }

 private:
  std::string _path, _part;
  std::FILE* _file = nullptr;
  bool _committed = false;
};

class Exporter {
 public:
  Exporter(const DatasetExportOptions& o, std::FILE* err, httplib::Client& client, std::string path)
      : _o(o), _err(err), _client(client), _path(std::move(path)) {
    _progress = o.progress.value_or(isatty(fileno(err)) != 0);
  }

  Result<DatasetExportSummary> run() {
    _start = SteadyClock::now();
    std::optional<std::string> token;
    OutputFile out;
    bool opened = false;
    while (true) {
      std::string target = _path + "?max_results=" + std::to_string(_o.page_size);
      if (token) {
        target += "&page_token=" + *token;
      } else if (_o.version) {
        target += "&version=" + std::to_string(*_o.version);
      }
      TF_ASSIGN_OR_RETURN(httplib::Result res, get(target));
      ++_summary.requests;
      if (res->status != 200) {
        const std::string message = error_body_message(res->body);
        const ErrorCode code = res->status == 404   ? ErrorCode::not_found
                               : res->status == 400 ? ErrorCode::invalid_argument
                                                    : ErrorCode::internal;
        return Status(code, "GET " + target + ": HTTP " + std::to_string(res->status) + ": " + message);
      }
      if (!opened) {
        _summary.version = std::strtoll(res->get_header_value("X-Tracefeed-Dataset-Version").c_str(), nullptr, 10);
        _total = std::strtoull(res->get_header_value("X-Tracefeed-Record-Count").c_str(), nullptr, 10);
        _summary.output = _o.output.empty() ? _o.name + "-v" + std::to_string(_summary.version) + ".jsonl" : _o.output;
        TF_RETURN_IF_ERROR(out.open(_summary.output));
        opened = true;
      }
      TF_RETURN_IF_ERROR(out.write(res->body));
      _summary.bytes += res->body.size();
      for (char ch : res->body) _summary.records += ch == '\n' ? 1 : 0;
      report_progress();
      if (!res->has_header("X-Tracefeed-Next-Page-Token")) break;
      token = res->get_header_value("X-Tracefeed-Next-Page-Token");
    }
    TF_RETURN_IF_ERROR(out.commit());
    _summary.seconds = std::chrono::duration<double>(SteadyClock::now() - _start).count();
    if (_progress) std::fputs("\n", _err);
    return _summary;
  }

 private:
  // One GET, retried on connection errors, 429 and 5xx until retry_timeout.
  Result<httplib::Result> get(const std::string& target) {
    const auto first = SteadyClock::now();
    auto backoff = 100ms;
    while (true) {
      httplib::Result res = _client.Get(target);
      std::string error;
      std::optional<std::chrono::milliseconds> retry_after;
      if (!res) {
        error = "GET " + target + ": " + httplib::to_string(res.error());
      } else if (is_retriable_http_status(res->status)) {
        error = "HTTP " + std::to_string(res->status) + ": " + error_body_message(res->body);
        if (res->has_header("Retry-After")) retry_after = parse_retry_after(res->get_header_value("Retry-After"));
      } else {
        return res;
      }
      const auto delay = retry_after.value_or(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      if (SteadyClock::now() + delay - first > _o.retry_timeout) {
        return Status::unavailable("gave up after " + std::to_string(_o.retry_timeout.count()) + " ms: " + error);
      }
      ++_summary.retries;
      if (!_progress) std::fprintf(_err, "retrying in %lld ms: %s\n", static_cast<long long>(delay.count()), error.c_str());
      std::this_thread::sleep_for(delay);  // back-off in a CLI, not a test
    }
  }

  void report_progress() {
    if (_progress) {
      constexpr int kWidth = 30;
      const double frac =
          _total > 0 ? std::min(1.0, static_cast<double>(_summary.records) / static_cast<double>(_total)) : 1.0;
      std::string bar(kWidth, ' ');
      for (int i = 0; i < static_cast<int>(frac * kWidth); ++i) bar[static_cast<size_t>(i)] = '=';
      std::fprintf(_err, "\r[%s] %3.0f%%  %llu/%llu records  %s ", bar.c_str(), frac * 100,
                   static_cast<unsigned long long>(_summary.records), static_cast<unsigned long long>(_total),
                   human_bytes(_summary.bytes).c_str());
      std::fflush(_err);
    } else if (SteadyClock::now() - _last_line >= 1s) {
      _last_line = SteadyClock::now();
      std::fprintf(_err, "dataset export: %llu/%llu records, %s\n", static_cast<unsigned long long>(_summary.records),
                   static_cast<unsigned long long>(_total), human_bytes(_summary.bytes).c_str());
    }
  }

  const DatasetExportOptions& _o;
  std::FILE* _err;
  httplib::Client& _client;
  const std::string _path;
  bool _progress = false;
  uint64_t _total = 0;
  DatasetExportSummary _summary;
  SteadyClock::time_point _start, _last_line{};
};

}  // namespace

namespace {

Status validate_options(const DatasetExportOptions& options) {
  TF_RETURN_IF_ERROR(validate_dataset_name(options.name, "NAME"));
  if (options.version && *options.version < 0) return Status::invalid_argument("--version: must be >= 0");
  if (options.page_size == 0 || options.page_size > 10000) {
    return Status::invalid_argument("page size: must be from 1 to 10000");
  }
  return parse_base_url(options.url).status().with_context("--url");
}

}  // namespace

Result<DatasetExportSummary> export_dataset(const DatasetExportOptions& options, std::FILE* err) {
  TF_RETURN_IF_ERROR(validate_options(options));
  TF_ASSIGN_OR_RETURN(BaseUrl base, parse_base_url(options.url));
  httplib::Client client(base.scheme_host_port);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  client.set_read_timeout(120, 0);
  Exporter exporter(options, err, client,
                    base.path_prefix + "/api/v1/datasets/" + encode_segment(options.name) + "/records");
  return exporter.run();
}

int run_dataset_export(const DatasetExportOptions& options) {
  if (Status s = validate_options(options); !s.is_ok()) {
    std::fprintf(stderr, "dataset export: %s\n", s.to_string().c_str());
    return 2;
  }
  auto r = export_dataset(options, stderr);
  if (!r.is_ok()) {
    std::fprintf(stderr, "dataset export: %s\n", r.status().to_string().c_str());
    // After the options passed, not_found / invalid_argument can only be the server's answer.
    const ErrorCode c = r.status().code();
    return c == ErrorCode::not_found || c == ErrorCode::invalid_argument ? 1 : 2;
  }
  const auto& s = *r;
  const double rate = s.seconds > 0 ? static_cast<double>(s.records) / s.seconds : 0;
  std::fprintf(stderr, "exported %llu records of dataset %s version %lld to %s (%s) in %.2f s, %.0f records/s\n",
               static_cast<unsigned long long>(s.records), options.name.c_str(), static_cast<long long>(s.version),
               s.output == "-" ? "<stdout>" : s.output.c_str(), human_bytes(s.bytes).c_str(), s.seconds, rate);
  return 0;
}

}  // namespace tracefeed::eval
