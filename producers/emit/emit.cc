#include "producers/emit/emit.h"

#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "producers/emit/ndjson_reader.h"
#include "producers/sdk/events_api.h"

namespace tracefeed::emit {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Where each line of the current batch came from, to turn a rejected index into FILE:LINE.
struct LineRef {
  size_t file;
  uint64_t line;
};

class Emitter {
 public:
  Emitter(const EmitOptions& o, std::FILE* err, httplib::Client& client, std::string path)
      : _o(o), _err(err), _client(client), _path(std::move(path)) {
    _progress = o.progress.value_or(isatty(fileno(err)) != 0);
  }

  Status run() {
    _start = Clock::now();
    uint64_t total_bytes = 0;
    for (const auto& f : _o.files) {
      if (f != "-") {
        std::error_code ec;
        const auto sz = std::filesystem::file_size(f, ec);
        if (!ec) total_bytes += sz;
      }
    }
    _total_bytes = total_bytes;
    for (size_t i = 0; i < _o.files.size(); ++i) {
      const std::string& f = _o.files[i];
      if (f == "-") {
        TF_RETURN_IF_ERROR(read_stream(std::cin, "<stdin>", i));
      } else {
        std::ifstream in(f, std::ios::binary);
        if (!in) return Status::not_found(f + ": cannot open");
        TF_RETURN_IF_ERROR(read_stream(in, f, i));
      }
    }
    TF_RETURN_IF_ERROR(send_batch());
    _summary.seconds = std::chrono::duration<double>(Clock::now() - _start).count();
    if (_progress) std::fputs("\n", _err);
    return Status::ok();
  }

  EmitSummary& summary() { return _summary; }

 private:
  Status read_stream(std::istream& in, const std::string& name, size_t file_index) {
    NdjsonReader reader(in, name);
    std::string line;
    const uint64_t bytes_before = _bytes_done;
    while (true) {
      Status s = reader.next(line);
      _bytes_done = bytes_before + reader.bytes_read();
      if (s.code() == ErrorCode::not_found) break;
      if (s.code() == ErrorCode::io_error) return s;
      ++_summary.lines;
      if (!s.is_ok()) {
        reject(s.message());
        continue;
      }
      if (_o.validate) {
        Status v = check_envelope_line(_parser, reader, line);
        if (!v.is_ok()) {
          reject(v.message());
          continue;
        }
      }
      if (!_refs.empty() && (_refs.size() >= _o.batch_size || _body.size() + line.size() + 1 > _o.max_batch_bytes)) {
        TF_RETURN_IF_ERROR(send_batch());
      }
      _body += line;
      _body += '\n';
      _refs.push_back({file_index, reader.line_number()});
    }
    return Status::ok();
  }

  void reject(std::string message) {
    ++_summary.rejected;
    if (_summary.first_errors.size() < _o.max_reported_errors) _summary.first_errors.push_back(std::move(message));
  }

  std::string where(const LineRef& r) const {
    return (_o.files[r.file] == "-" ? std::string("<stdin>") : _o.files[r.file]) + ":" + std::to_string(r.line);
  }

  Status send_batch() {
    if (_refs.empty()) return Status::ok();
    const auto first_attempt = Clock::now();
    auto backoff = 100ms;
    while (true) {
      auto res = _client.Post(_path, _body, std::string(kNdjsonContentType));
      std::string error;
      std::optional<std::chrono::milliseconds> retry_after;
      if (!res) {
        error = "POST " + _path + ": " + httplib::to_string(res.error());
      } else if (res->status == 200 || res->status == 202) {
        auto parsed = parse_events_response(res->body);
        if (!parsed.is_ok()) return parsed.status();
        _summary.sent += _refs.size();
        for (const auto& r : parsed->rejected) {
          const std::string at = r.index < _refs.size() ? where(_refs[r.index]) : "index " + std::to_string(r.index);
          reject(at + ": " + r.error_code + ": " + r.message);
        }
        _summary.accepted += _refs.size() - std::min(_refs.size(), parsed->rejected.size());
        break;
      } else if (is_retriable_http_status(res->status)) {
        error = "HTTP " + std::to_string(res->status) + ": " + error_body_message(res->body);
        if (res->has_header("Retry-After")) retry_after = parse_retry_after(res->get_header_value("Retry-After"));
      } else {
        // The whole batch was refused (e.g. 400 unparseable body, 413 too large).
        _summary.sent += _refs.size();
        reject(where(_refs.front()) + "-" + std::to_string(_refs.back().line) + ": HTTP " +
               std::to_string(res->status) + ": " + error_body_message(res->body));
        _summary.rejected += _refs.size() - 1;
        break;
      }
      const auto delay = retry_after.value_or(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      if (Clock::now() + delay - first_attempt > _o.retry_timeout) {
        _summary.failed += _refs.size();
        return Status::unavailable("gave up after " + std::to_string(_o.retry_timeout.count()) + " ms: " + error);
      }
      ++_summary.retries;
      if (!_progress) std::fprintf(_err, "retrying in %lld ms: %s\n", static_cast<long long>(delay.count()), error.c_str());
      std::this_thread::sleep_for(delay);  // back-off in a CLI, not a test
    }
    _body.clear();
    _refs.clear();
    report_progress();
    return Status::ok();
  }

  void report_progress() {
    const double secs = std::max(1e-9, std::chrono::duration<double>(Clock::now() - _start).count());
    const double rate = static_cast<double>(_summary.sent) / secs;
    if (_progress) {
      constexpr int kWidth = 30;
      const double frac = _total_bytes > 0 ? std::min(1.0, static_cast<double>(_bytes_done) / static_cast<double>(_total_bytes)) : 0;
      std::string bar(kWidth, ' ');
      for (int i = 0; i < static_cast<int>(frac * kWidth); ++i) bar[i] = '=';
      std::fprintf(_err, "\r[%s] %3.0f%%  %llu sent  %llu rejected  %.0f events/s ", bar.c_str(), frac * 100,
                   static_cast<unsigned long long>(_summary.sent), static_cast<unsigned long long>(_summary.rejected), rate);
      std::fflush(_err);
    } else if (Clock::now() - _last_line >= 1s) {
      _last_line = Clock::now();
      std::fprintf(_err, "emit: %llu sent, %llu accepted, %llu rejected, %.0f events/s\n",
                   static_cast<unsigned long long>(_summary.sent), static_cast<unsigned long long>(_summary.accepted),
                   static_cast<unsigned long long>(_summary.rejected), rate);
    }
  }

  const EmitOptions& _o;
  std::FILE* _err;
  httplib::Client& _client;
  const std::string _path;
  bool _progress = false;
  EventParser _parser;
  EmitSummary _summary;
  std::string _body;           // the batch being built, NDJSON; reused
  std::vector<LineRef> _refs;  // its lines' origins
  uint64_t _total_bytes = 0, _bytes_done = 0;
  Clock::time_point _start, _last_line{};
};

}  // namespace

Result<EmitSummary> emit_files(const EmitOptions& options, std::FILE* err) {
  if (options.files.empty()) return Status::invalid_argument("emit: at least one FILE (or -) is required");
  if (options.batch_size == 0) return Status::invalid_argument("emit: --batch-size must be > 0");
  TF_ASSIGN_OR_RETURN(BaseUrl base, parse_base_url(options.url));
  httplib::Client client(base.scheme_host_port);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  client.set_read_timeout(60, 0);
  Emitter emitter(options, err, client, base.path_prefix + std::string(kEventsPath));
  Status s = emitter.run();
  if (!s.is_ok()) return s;
  return std::move(emitter.summary());
}

int run_emit(const EmitOptions& options) {
  auto r = emit_files(options, stderr);
  if (!r.is_ok()) {
    std::fprintf(stderr, "emit: %s\n", r.status().to_string().c_str());
    return 2;
  }
  const EmitSummary& s = *r;
  std::fprintf(stderr, "emit: %llu lines, %llu sent, %llu accepted, %llu rejected, %llu failed, %llu retries in %.2f s (%.0f events/s)\n",
               static_cast<unsigned long long>(s.lines), static_cast<unsigned long long>(s.sent),
               static_cast<unsigned long long>(s.accepted), static_cast<unsigned long long>(s.rejected),
               static_cast<unsigned long long>(s.failed), static_cast<unsigned long long>(s.retries), s.seconds,
               s.seconds > 0 ? static_cast<double>(s.accepted) / s.seconds : 0.0);
  for (const auto& e : s.first_errors) std::fprintf(stderr, "  rejected: %s\n", e.c_str());
  if (s.rejected > s.first_errors.size()) {
    std::fprintf(stderr, "  ... and %llu more\n", static_cast<unsigned long long>(s.rejected - s.first_errors.size()));
  }
  return s.rejected == 0 && s.failed == 0 ? 0 : 1;
}

}  // namespace tracefeed::emit
