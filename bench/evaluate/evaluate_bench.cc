// evaluate_bench: what scoring costs.
//
// Part 1, deterministic scorers: exact_match, token_f1, expected_facts_coverage, latency_ms and
// the correctness fallback over --records records (default 1,000,000), each scorer alone and
// all five per record, on --threads threads. The records are --distinct (default 65,536)
// generated examples (~60-word answers, ~20-word references, three facts) cycled, so the working
// set (~60 MB) does not sit in the CPU caches. Prints records/s and ns per record.
//
// Part 2, the judge path: the correctness scorer with an LLM judge (prompt render, HTTP POST of
// the chat completion, strict verdict parse) against a local OpenAI-compatible endpoint that
// answers at once, with --concurrency (default 64) requests in flight for --seconds (default 5).
// The same number of raw httplib POSTs of an equal-sized body to the same endpoint is the
// baseline: the difference is the evaluator's overhead per call. Prints calls/s, p50/p99
// latency and CPU µs per call (process CPU time / calls: client and server together) for both.
//
// Flags: --records N --distinct D --threads T --concurrency C --seconds S --skip-judge 1
//        --only NAME (one scorer, or "all" for the five together: for per-scorer instruction
//        counts with callgrind). EVAL_BENCH_DEBUG=1 prints why each failed call failed.

#include <httplib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/json_writer.h"
#include "processors/evaluate/judge.h"
#include "processors/evaluate/scorers.h"

namespace {

using namespace tracefeed;
using namespace tracefeed::evaluate;
using Clock = std::chrono::steady_clock;

struct Flags {
  size_t records = 1'000'000, distinct = 65'536;
  int threads = 1, concurrency = 64, seconds = 5;
  bool skip_judge = false;
  std::string only;  // --only NAME: just this scorer (for per-scorer instruction counts)
};

Flags parse(int argc, char** argv) {
  Flags f;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const long v = std::atol(argv[i + 1]);
    if (k == "--only") f.only = argv[i + 1];
    if (k == "--records") f.records = static_cast<size_t>(v);
    else if (k == "--distinct") f.distinct = static_cast<size_t>(v);
    else if (k == "--threads") f.threads = static_cast<int>(v);
    else if (k == "--concurrency") f.concurrency = static_cast<int>(v);
    else if (k == "--seconds") f.seconds = static_cast<int>(v);
    else if (k == "--skip-judge") f.skip_judge = v != 0;
  }
  return f;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

long peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

std::string json_string(const std::string& s) {
  std::string out;
  JsonWriter w(out);
  w.string(s);
  return out;
}

// ~60-word answers drawn from a small vocabulary, references overlapping about half of them.
std::vector<EvalRecord> make_records(size_t n) {
  static const char* vocab[] = {"mlflow", "open", "source", "platform", "machine", "learning", "lifecycle", "tracking",
                                "experiments", "models", "registry", "deployment", "the", "a", "for", "and", "with",
                                "projects", "metrics", "parameters", "artifacts", "runs", "serving", "evaluation",
                                "traces", "feedback", "labels", "datasets", "judges", "scores", "Python", "REST"};
  std::mt19937_64 rng(42);
  auto sentence = [&](int words) {
    std::string s;
    for (int i = 0; i < words; ++i) {
      if (i) s += (rng() % 9 == 0) ? ", " : " ";
      s += vocab[rng() % std::size(vocab)];
    }
    return s + ".";
  };
  std::vector<EvalRecord> out(n);
  for (size_t i = 0; i < n; ++i) {
    EvalRecord& r = out[i];
    r.record_id = r.trace_id = "tr-" + std::string(32, '0');
    r.inputs = R"({"user_question":"What is MLflow?"})";
    const std::string answer = sentence(60);
    r.outputs = json_string(answer);
    // Every other reference is a prefix of the answer: exact and partial matches both occur.
    const std::string reference = i % 2 ? answer.substr(0, answer.find(' ', 100)) : sentence(20);
    r.expectations.emplace_back("expected_response", json_string(reference));
    r.expectations.emplace_back("expected_facts",
                                "[" + json_string(sentence(5)) + "," + json_string(sentence(4)) + "," + json_string(sentence(6)) + "]");
    r.latency_ms = static_cast<double>(rng() % 5000) / 3.0;
  }
  return out;
}

void bench_deterministic(const Flags& f) {
  std::printf("== deterministic scorers: %zu records (%zu distinct), %d thread(s)\n", f.records, f.distinct, f.threads);
  const auto t0 = Clock::now();
  const std::vector<EvalRecord> records = make_records(f.distinct);
  std::printf("   generated in %.2f s\n", std::chrono::duration<double>(Clock::now() - t0).count());

  ScorerContext ctx;
  ctx.judge_unavailable = "no judge configured (benchmark)";
  std::vector<std::unique_ptr<Scorer>> all;
  for (const char* name : {"exact_match", "token_f1", "expected_facts_coverage", "latency_ms", "correctness"}) {
    all.push_back(std::move(make_scorer({name, name, {}, ""}, ctx)).value());
  }
  auto run = [&](const std::vector<const Scorer*>& scorers, const char* label) {
    std::atomic<size_t> next{0};
    std::atomic<uint64_t> checksum{0};
    const double cpu0 = cpu_seconds();
    const auto start = Clock::now();
    auto work = [&] {
      uint64_t local = 0;
      constexpr size_t kChunk = 1024;
      while (true) {
        const size_t begin = next.fetch_add(kChunk);
        if (begin >= f.records) break;
        const size_t end = std::min(f.records, begin + kChunk);
        for (size_t i = begin; i < end; ++i) {
          const EvalRecord& r = records[i % records.size()];
          for (const Scorer* s : scorers) {
            Score sc = s->score(r);
            local += sc.feedback.value.size() + sc.rationale.size();
          }
        }
      }
      checksum += local;
    };
    std::vector<std::thread> threads;
    for (int t = 1; t < f.threads; ++t) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    const double cpu = cpu_seconds() - cpu0;
    std::printf("   %-28s %10.0f records/s   %7.0f ns/record   (cpu %.2f s, checksum %llu)\n", label,
                static_cast<double>(f.records) / secs, secs * 1e9 / static_cast<double>(f.records), cpu,
                static_cast<unsigned long long>(checksum.load()));
  };
  std::vector<const Scorer*> every;
  for (const auto& s : all) {
    every.push_back(s.get());
    if (!f.only.empty() && f.only != s->name()) continue;
    run({s.get()}, s->name() == "correctness" ? "correctness (fallback)" : s->name().c_str());
  }
  if (f.only.empty() || f.only == "all") run(every, "all five per record");
  std::printf("   peak RSS %ld MiB\n", peak_rss_mib());
}

struct Latencies {
  std::vector<double> us;
  void merge(const std::vector<double>& v) { us.insert(us.end(), v.begin(), v.end()); }
  double pct(double p) {
    if (us.empty()) return 0;
    std::sort(us.begin(), us.end());
    return us[std::min(us.size() - 1, static_cast<size_t>(p * static_cast<double>(us.size())))];
  }
};

// cpp-httplib 0.11 listens with a backlog of 5 (compiled into Debian's library): 64 clients
// connecting at once overflow it and some connections fail — the endpoint's limit, which would
// blur the client's figures. A second listen() on the bound socket raises the backlog.
void raise_listen_backlog(int port) {
  for (int fd = 0; fd < 1024; ++fd) {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || addr.sin_family != AF_INET) continue;
    if (ntohs(addr.sin_port) == port) {
      ::listen(fd, 4096);
      return;
    }
  }
}

void bench_judge(const Flags& f) {
  std::printf("== judge path: correctness scorer → local OpenAI-compatible endpoint, %d in flight, %d s\n", f.concurrency,
              f.seconds);
  httplib::Server server;
  // Keep-alive connections hold a server thread each: one per client connection, plus spares.
  server.new_task_queue = [n = f.concurrency + 8] { return new httplib::ThreadPool(static_cast<size_t>(n)); };
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(1'000'000);
  const std::string reply = R"({"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"{\"rationale\": \"Let's think step by step. The answer states the reference.\", \"result\": \"yes\"}"},"finish_reason":"stop"}]})";
  server.Post("/v1/chat/completions", [&](const httplib::Request&, httplib::Response& res) { res.set_content(reply, "application/json"); });
  const int port = server.bind_to_any_port("127.0.0.1");
  raise_listen_backlog(port);
  std::thread listener([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const std::string base = "http://127.0.0.1:" + std::to_string(port);

  JudgeOptions jo;
  jo.base_url = base + "/v1";
  jo.api_key_env = "";
  jo.max_concurrency = f.concurrency;
  jo.cache_entries = 0;  // every call goes to the endpoint
  jo.max_retries = 0;
  auto judge = std::move(ChatCompletionsJudge::create(jo)).value();
  auto prompts = std::move(PromptLibrary::load()).value();
  ScorerContext ctx;
  ctx.judge = judge.get();
  ctx.prompts = &prompts;
  auto correctness = std::move(make_scorer({"correctness", "correctness", {}, ""}, ctx)).value();
  const std::vector<EvalRecord> records = make_records(1024);
  const size_t body_bytes = judge->request_body(*prompts.render("correctness", {{"request", "What is MLflow?"},
                                                                                {"response", text_of(records[0].outputs)},
                                                                                {"expected_response", text_of(records[0].expectations[0].second)}}))
                                .size();

  auto measure = [&](const char* label, const std::function<bool(size_t, httplib::Client&)>& call) {
    std::atomic<bool> stop{false}, go{false};
    std::atomic<int> ready{0};
    std::atomic<uint64_t> calls{0}, failures{0};
    std::vector<std::vector<double>> lat(static_cast<size_t>(f.concurrency));
    std::vector<std::thread> threads;
    for (int t = 0; t < f.concurrency; ++t) {
      threads.emplace_back([&, t] {
        httplib::Client client(base);
        client.set_keep_alive(true);
        client.set_tcp_nodelay(true);
        size_t i = static_cast<size_t>(t);
        // Warm-up: open the connection (a burst of 64 connects can overflow the test server's
        // small listen backlog; that is the endpoint's limit, not the client's), then wait for all.
        for (int tries = 0; tries < 20 && !call(i, client); ++tries) {
        }
        i += static_cast<size_t>(f.concurrency);
        ++ready;
        while (!go) std::this_thread::sleep_for(std::chrono::microseconds(200));
        while (!stop) {
          const auto c0 = Clock::now();
          const bool ok = call(i, client);
          lat[static_cast<size_t>(t)].push_back(std::chrono::duration<double, std::micro>(Clock::now() - c0).count());
          ++calls;
          if (!ok) ++failures;
          i += static_cast<size_t>(f.concurrency);
        }
      });
    }
    while (ready.load() < f.concurrency) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const double cpu0 = cpu_seconds();
    const auto start = Clock::now();
    go = true;
    std::this_thread::sleep_for(std::chrono::seconds(f.seconds));
    stop = true;
    for (auto& t : threads) t.join();
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    const double cpu = cpu_seconds() - cpu0;
    Latencies all;
    for (const auto& v : lat) all.merge(v);
    const double n = static_cast<double>(calls.load());
    std::printf("   %-34s %8.0f calls/s   p50 %7.0f µs   p99 %7.0f µs   cpu %5.1f µs/call   failures %llu\n", label, n / secs,
                all.pct(0.50), all.pct(0.99), cpu * 1e6 / n, static_cast<unsigned long long>(failures.load()));
    return std::make_pair(all.pct(0.50), cpu * 1e6 / n);
  };

  const std::string raw_body(body_bytes, ' ');
  std::string padded = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":")" + std::string(body_bytes > 80 ? body_bytes - 80 : 0, 'x') + "\"}]}";
  auto raw_call = [&](size_t, httplib::Client& c) {
    auto res = c.Post("/v1/chat/completions", padded, "application/json");
    if (!res && std::getenv("EVAL_BENCH_DEBUG")) std::fprintf(stderr, "raw: %s\n", httplib::to_string(res.error()).c_str());
    return res && res->status == 200;
  };
  // Baseline before and after the judge phase (the machine's load drifts; their mean is used).
  auto raw1 = measure("baseline: raw POST, same size", raw_call);
  auto full = measure("correctness scorer via judge", [&](size_t i, httplib::Client&) {
    // Vary the record and salt the question so no two calls share a prompt.
    EvalRecord r = records[i % records.size()];
    r.inputs = R"({"user_question":"What is MLflow? #)" + std::to_string(i) + "\"}";
    Score s = correctness->score(r);
    if (s.is_error() && std::getenv("EVAL_BENCH_DEBUG")) std::fprintf(stderr, "judge: %s\n", s.feedback.error->error_message.c_str());
    return !s.is_error();
  });
  auto raw2 = measure("baseline again", raw_call);
  const std::pair<double, double> raw{(raw1.first + raw2.first) / 2, (raw1.second + raw2.second) / 2};
  std::printf("   request body ~%zu bytes; overhead per call: p50 %+.0f µs, cpu %+.1f µs\n", body_bytes, full.first - raw.first,
              full.second - raw.second);
  const JudgeStats st = judge->stats();
  std::printf("   judge stats: %llu calls, %llu HTTP replies, %llu errors; peak RSS %ld MiB\n",
              static_cast<unsigned long long>(st.calls), static_cast<unsigned long long>(st.requests),
              static_cast<unsigned long long>(st.errors), peak_rss_mib());
  correctness.reset();
  judge.reset();
  server.stop();
  listener.join();
}

}  // namespace

int main(int argc, char** argv) {
  const Flags f = parse(argc, argv);
  bench_deterministic(f);
  if (!f.skip_judge) bench_judge(f);
  return 0;
}
