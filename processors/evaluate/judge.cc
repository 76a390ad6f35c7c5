#include "processors/evaluate/judge.h"

#include <cstdlib>

#include "core/hash.h"
#include "core/json_writer.h"
#include "processors/evaluate/record.h"

namespace tracefeed::evaluate {
namespace {

constexpr uint64_t kCheckSeed = 0x6a75646765ull;  // "judge"

uint64_t cache_key(const std::string& model, const std::string& prompt, uint64_t seed) {
  Xxh64 h(seed);
  h.update(model);
  h.update(std::string_view("\0", 1));
  h.update(prompt);
  return h.digest();
}

}  // namespace

std::string judge_unavailable_reason(const JudgeOptions& options, const char* (*getenv_fn)(const char*)) {
  if (options.base_url.empty()) return "no judge configured: evaluation.judge.enabled is false (or its base_url is empty)";
  if (options.api_key_env.empty()) return {};
  const char* key = getenv_fn ? getenv_fn(options.api_key_env.c_str()) : std::getenv(options.api_key_env.c_str());
  if (!key || !*key) {
    return "no judge configured: environment variable " + options.api_key_env +
           " (evaluation.judge.api_key_env) is not set; set it to the API key of " + options.base_url +
           ", or set api_key_env to \"\" for an endpoint that needs no key";
  }
  return {};
}

Result<std::unique_ptr<ChatCompletionsJudge>> ChatCompletionsJudge::create(const JudgeOptions& options) {
  if (std::string why = judge_unavailable_reason(options); !why.empty()) return Status::invalid_argument(why);
  if (options.model.empty()) return Status::invalid_argument("evaluation.judge.model: must not be empty");
  EndpointOptions eo;
  eo.url = options.base_url;
  eo.timeout = options.timeout;
  eo.max_retries = options.max_retries;
  eo.backoff_initial = options.backoff_initial;
  eo.backoff_max = options.backoff_max;
  eo.max_concurrency = options.max_concurrency;
  eo.ca_cert_file = options.ca_cert_file;
  if (!options.api_key_env.empty()) {
    // Read once, here: the key lives in this endpoint's headers, never in the config or logs.
    eo.headers.emplace_back("Authorization", std::string("Bearer ") + std::getenv(options.api_key_env.c_str()));
  }
  auto endpoint = HttpEndpoint::create(std::move(eo));
  if (!endpoint.is_ok()) return endpoint.status().with_context("evaluation.judge.base_url");
  return std::unique_ptr<ChatCompletionsJudge>(new ChatCompletionsJudge(options, std::move(endpoint).value()));
}

ChatCompletionsJudge::ChatCompletionsJudge(JudgeOptions options, std::unique_ptr<HttpEndpoint> endpoint)
    : _options(std::move(options)), _endpoint(std::move(endpoint)) {}

std::string ChatCompletionsJudge::request_body(const std::string& prompt) const {
  std::string body;
  JsonWriter w(body);
  w.begin_object();
  w.field("model", _options.model);
  w.key("temperature");
  w.number(_options.temperature);
  w.key("messages");
  w.begin_array();
  w.begin_object();
  w.field("role", "user");
  w.field("content", prompt);
  w.end_object();
  w.end_array();
  w.end_object();
  return body;
}

std::optional<Verdict> ChatCompletionsJudge::cache_get(uint64_t key, const std::string& prompt) {
  if (_options.cache_entries == 0) return std::nullopt;
  const uint64_t check = cache_key(_options.model, prompt, kCheckSeed);
  std::lock_guard lock(_cache_mu);
  auto it = _index.find(key);
  if (it == _index.end() || it->second->check != check) return std::nullopt;
  _lru.splice(_lru.begin(), _lru, it->second);
  return it->second->verdict;
}

void ChatCompletionsJudge::cache_put(uint64_t key, const std::string& prompt, const Verdict& v) {
  if (_options.cache_entries == 0) return;
  const uint64_t check = cache_key(_options.model, prompt, kCheckSeed);
  std::lock_guard lock(_cache_mu);
  if (auto it = _index.find(key); it != _index.end()) {
    it->second->check = check;
    it->second->verdict = v;
    _lru.splice(_lru.begin(), _lru, it->second);
    return;
  }
  _lru.push_front({key, check, v});
  _index[key] = _lru.begin();
  while (_lru.size() > _options.cache_entries) {
    _index.erase(_lru.back().key);
    _lru.pop_back();
  }
}

Result<Verdict> ChatCompletionsJudge::ask(const std::string& prompt) {
  ++_calls;
  const uint64_t key = _options.cache_entries ? cache_key(_options.model, prompt, 0) : 0;
  if (auto hit = cache_get(key, prompt)) {
    ++_cache_hits;
    return *hit;
  }
  auto reply = _endpoint->post_json("/chat/completions", request_body(prompt));
  if (!reply.is_ok()) {
    ++_errors;
    return Status(reply.status().code() == ErrorCode::invalid_argument ? ErrorCode::unavailable : reply.status().code(),
                  reply.status().message());
  }
  _requests += static_cast<uint64_t>(reply->attempts);
  if (reply->status < 200 || reply->status > 299) {
    ++_errors;
    std::string msg = "judge " + _options.base_url + " answered HTTP " + std::to_string(reply->status);
    if (reply->status == 401 || reply->status == 403) msg += " (check the key in " + _options.api_key_env + ")";
    msg += ": " + clip_utf8(reply->body, 300);
    return Status::unavailable(std::move(msg));
  }
  auto content = chat_completion_content(reply->body);
  if (!content.is_ok()) {
    ++_errors;
    ++_parse_errors;
    return content.status();
  }
  auto verdict = parse_verdict(*content);
  if (!verdict.is_ok()) {
    ++_errors;
    ++_parse_errors;
    return verdict.status();
  }
  cache_put(key, prompt, *verdict);
  return verdict;
}

JudgeStats ChatCompletionsJudge::stats() const {
  return {_calls.load(), _cache_hits.load(), _requests.load(), _errors.load(), _parse_errors.load()};
}

}  // namespace tracefeed::evaluate
