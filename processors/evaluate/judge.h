#pragma once
// The LLM judge: an OpenAI-compatible chat-completions endpoint (OpenAI, Azure OpenAI's v1 API,
// vLLM, Ollama, LiteLLM, Databricks serving endpoints ...).
//
// One call = POST {base_url}/chat/completions {model, temperature, messages: [{role: user,
// content: <rendered prompt>}]} with `Authorization: Bearer <key>`; the answer's
// choices[0].message.content must be a strict verdict (verdict.h). Retries, backoff, timeouts
// and the concurrency bound come from HttpEndpoint. Answers that parse are cached by
// (model, prompt), so re-scoring an unchanged record (a retried run, a second scorer with the
// same prompt) costs no judge call.
//
// Threads: ask() from any number of threads.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/result.h"
#include "processors/evaluate/http_endpoint.h"
#include "processors/evaluate/verdict.h"

namespace tracefeed::evaluate {

struct JudgeOptions {
  // OpenAI-compatible base URL; "/chat/completions" is appended. Empty = no judge: the LLM
  // scorers answer JUDGE_NOT_CONFIGURED. Default: "" (the runtime maps
  // evaluation.judge.base_url, whose config default is https://api.openai.com/v1).
  std::string base_url;
  // Model name sent in every request. Default: "gpt-4o-mini".
  std::string model = "gpt-4o-mini";
  // Environment variable holding the API key. Empty = the endpoint needs no key (a local
  // server). When it names a variable that is unset or empty, there is no judge (see
  // judge_unavailable_reason). Default: "OPENAI_API_KEY".
  std::string api_key_env = "OPENAI_API_KEY";
  // Per-attempt timeout. Default: 30 s.
  std::chrono::milliseconds timeout{30'000};
  // Retries after the first attempt (connection errors, timeouts, 408, 429, 5xx). Default: 3.
  int max_retries = 3;
  // First backoff; doubles per retry up to backoff_max. Defaults: 500 ms, 30 s.
  std::chrono::milliseconds backoff_initial{500};
  std::chrono::milliseconds backoff_max{30'000};
  // Judge requests in flight at once, over every run and rule. Default: 4.
  int max_concurrency = 4;
  // Parsed verdicts kept, least recently used evicted; 0 disables the cache. Default: 10000.
  size_t cache_entries = 10'000;
  // Sampling temperature sent with each request. Default: 0 (as deterministic as it gets).
  double temperature = 0;
  // PEM CA bundle for an https judge with a private CA. Default: "" (system CA store).
  std::string ca_cert_file;
};

// Why there is no usable judge, or "" when there is one: no base_url, or api_key_env names an
// unset/empty variable. `getenv` is injectable for tests.
[[nodiscard]] std::string judge_unavailable_reason(const JudgeOptions& options,
                                                   const char* (*getenv_fn)(const char*) = nullptr);

struct JudgeStats {
  uint64_t calls = 0;         // ask() calls
  uint64_t cache_hits = 0;
  uint64_t requests = 0;      // HTTP attempts answered by the endpoint (retries included)
  uint64_t errors = 0;        // ask() that returned an error
  uint64_t parse_errors = 0;  // of which: the answer was not a verdict
};

class Judge {
 public:
  virtual ~Judge() = default;
  [[nodiscard]] virtual const std::string& model() const noexcept = 0;
  // The verdict for `prompt`. Errors: invalid_argument when the judge answered but not with a
  // verdict (JUDGE_PARSE_ERROR), anything else for transport, HTTP status or timeout
  // (JUDGE_ERROR). Never throws.
  [[nodiscard]] virtual Result<Verdict> ask(const std::string& prompt) = 0;
  // Interrupts in-flight calls (shutdown). Default: nothing to interrupt.
  virtual void cancel() {}
};

class ChatCompletionsJudge final : public Judge {
 public:
  // Errors: no usable judge (judge_unavailable_reason), or a bad base_url.
  [[nodiscard]] static Result<std::unique_ptr<ChatCompletionsJudge>> create(const JudgeOptions& options);

  const std::string& model() const noexcept override { return _options.model; }
  Result<Verdict> ask(const std::string& prompt) override;
  void cancel() override { _endpoint->cancel(); }
  [[nodiscard]] JudgeStats stats() const;

  // The request body sent for `prompt` (tests and the benchmark check it).
  [[nodiscard]] std::string request_body(const std::string& prompt) const;

 private:
  ChatCompletionsJudge(JudgeOptions options, std::unique_ptr<HttpEndpoint> endpoint);
  std::optional<Verdict> cache_get(uint64_t key, const std::string& prompt);
  void cache_put(uint64_t key, const std::string& prompt, const Verdict& v);

  JudgeOptions _options;
  std::unique_ptr<HttpEndpoint> _endpoint;

  // LRU cache keyed by XXH64(model, prompt); the prompt's second hash guards against a
  // collision handing back another prompt's verdict.
  struct CacheEntry {
    uint64_t key;
    uint64_t check;
    Verdict verdict;
  };
  std::mutex _cache_mu;
  std::list<CacheEntry> _lru;  // front = most recent
  std::unordered_map<uint64_t, std::list<CacheEntry>::iterator> _index;

  std::atomic<uint64_t> _calls{0}, _cache_hits{0}, _requests{0}, _errors{0}, _parse_errors{0};
};

}  // namespace tracefeed::evaluate
