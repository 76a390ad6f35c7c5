#pragma once
// Local stand-ins for the services the evaluator calls, on 127.0.0.1 with a free port:
//   FakeOpenAi  an OpenAI-compatible chat-completions endpoint that answers from a function and
//               records every request it got (body, Authorization header);
//   FakeHttp    any POST endpoint (the app's predict_url, an HTTP scorer) answering from a
//               function and recording the requests.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "core/json_tree.h"
#include "core/json_writer.h"
#include "http/server.h"

namespace tracefeed::evaluate::testing {

struct RecordedRequest {
  std::string body;
  std::string authorization;
  std::vector<std::pair<std::string, std::string>> headers;
};

// The text of a chat-completions reply whose message content is `content`.
inline std::string chat_reply(const std::string& content) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.field("id", "chatcmpl-test");
  w.field("object", "chat.completion");
  w.key("choices");
  w.begin_array();
  w.begin_object();
  w.field_int("index", 0);
  w.key("message");
  w.begin_object();
  w.field("role", "assistant");
  w.field("content", content);
  w.end_object();
  w.field("finish_reason", "stop");
  w.end_object();
  w.end_array();
  w.end_object();
  return out;
}

inline std::string verdict_json(bool yes, const std::string& rationale) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.field("rationale", rationale);
  w.field("result", yes ? "yes" : "no");
  w.end_object();
  return out;
}

// The user message of a recorded chat-completions request ("" when it has none).
inline std::string prompt_of(const std::string& body) {
  auto tree = parse_json(body);
  if (!tree.is_ok()) return {};
  const JsonTree* messages = tree->find("messages");
  if (!messages || !messages->is_array() || messages->as_array().empty()) return {};
  const JsonTree* content = messages->as_array().back().find("content");
  return content && content->is_string() ? content->as_string() : std::string();
}

class FakeHttp {
 public:
  // Handler: (request body, headers) → response (status, body, extra headers).
  using Handler = std::function<void(const http::Request&, http::Response&)>;

  explicit FakeHttp(std::string path, Handler handler, int threads = 8) : _server(options(threads)) {
    _server.route("POST", std::move(path), [this, handler = std::move(handler)](const http::Request& req, http::Response& res) {
      {
        std::lock_guard lock(_mu);
        RecordedRequest r{req.body, std::string(req.header("authorization")), req.headers};
        _requests.push_back(std::move(r));
      }
      const int now = ++_in_flight;
      int seen = _max_in_flight.load();
      while (now > seen && !_max_in_flight.compare_exchange_weak(seen, now)) {
      }
      handler(req, res);
      --_in_flight;
    });
    Status s = _server.start();
    EXPECT_TRUE(s.is_ok()) << s.to_string();
  }
  ~FakeHttp() { _server.stop(); }

  std::string url() const { return _server.base_url(); }
  std::vector<RecordedRequest> requests() const {
    std::lock_guard lock(_mu);
    return _requests;
  }
  size_t request_count() const {
    std::lock_guard lock(_mu);
    return _requests.size();
  }
  int max_in_flight() const { return _max_in_flight.load(); }
  int in_flight() const { return _in_flight.load(); }

 private:
  static http::ServerOptions options(int threads) {
    http::ServerOptions o;
    o.listen = "127.0.0.1:0";
    o.threads = threads;
    return o;
  }
  http::Server _server;
  mutable std::mutex _mu;
  std::vector<RecordedRequest> _requests;
  std::atomic<int> _in_flight{0}, _max_in_flight{0};
};

// An OpenAI-compatible judge: POST /v1/chat/completions. `answer` gets the prompt and returns the
// message content (or sets res itself for error statuses and returns "").
class FakeOpenAi {
 public:
  using Answer = std::function<std::string(const std::string& prompt, http::Response& res)>;

  explicit FakeOpenAi(Answer answer, int threads = 8)
      : _http("/v1/chat/completions",
              [answer = std::move(answer)](const http::Request& req, http::Response& res) {
                std::string content = answer(prompt_of(req.body), res);
                if (res.status == 200 && res.body.empty()) res.json(200, chat_reply(content));
              },
              threads) {}

  std::string base_url() const { return _http.url() + "/v1"; }
  std::vector<RecordedRequest> requests() const { return _http.requests(); }
  size_t request_count() const { return _http.request_count(); }
  int max_in_flight() const { return _http.max_in_flight(); }

 private:
  FakeHttp _http;
};

// Waits (polling with a deadline, no fixed sleep) until `done` is true.
inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds deadline = std::chrono::seconds(20)) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// A gate handlers can wait on until the test opens it (for blocking a server deliberately).
class Gate {
 public:
  void open() {
    std::lock_guard lock(_mu);
    _open = true;
    _cv.notify_all();
  }
  // Waits until open (or `deadline`); returns whether it opened.
  bool wait(std::chrono::milliseconds deadline = std::chrono::seconds(30)) {
    std::unique_lock lock(_mu);
    return _cv.wait_for(lock, deadline, [&] { return _open; });
  }

 private:
  std::mutex _mu;
  std::condition_variable _cv;
  bool _open = false;
};

}  // namespace tracefeed::evaluate::testing
