// mlflow_peer_bench: one client program for both sides of the gateway's peer figure (PRODUCT.md §8:
// "an MLflow tracking server taking the same log_feedback calls").
//
// Against any MLflow-compatible tracking server at --url (tracefeed or `mlflow server`):
//   1. creates --traces traces with StartTraceV3 (POST /api/3.0/mlflow/traces), untimed, because
//      an MLflow server refuses assessments on traces it does not know;
//   2. for --warmup + --seconds, --connections client threads, each on its own keep-alive
//      connection, send what `mlflow.log_feedback(trace_id, name="user_feedback", value=...,
//      rationale=..., source=AssessmentSource(HUMAN, ...))` sends — POST
//      /api/3.0/mlflow/traces/{trace_id}/assessments with the body mlflow-skinny 3.17.2's RestStore
//      writes — each call with its own create_time and source id, as real calls have (identical
//      bodies would be deduplicated by tracefeed as client retries, which would flatter it).
// Only 200 replies that carry an assessment_id count.
//
// Prints calls/s, p50/p99/max call latency, failures, and — with --server-pid — the server's peak
// RSS (sum of VmHWM over the process and its descendants: MLflow runs one process per worker) and
// the CPU seconds it used per 1,000 calls in the measured period.
//
// Flags: --url URL (required) --seconds S (10) --warmup S (2) --connections N (16) --traces T (1000)
//        --server-pid PID (none) --label NAME (server)

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

namespace {

struct Flags {
  std::string url, label = "server";
  int seconds = 10, warmup = 2, connections = 16, traces = 1000, server_pid = 0;
};

Flags parse(int argc, char** argv) {
  Flags f;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--url") f.url = v;
    else if (k == "--label") f.label = v;
    else if (k == "--seconds") f.seconds = std::atoi(v.c_str());
    else if (k == "--warmup") f.warmup = std::atoi(v.c_str());
    else if (k == "--connections") f.connections = std::atoi(v.c_str());
    else if (k == "--traces") f.traces = std::atoi(v.c_str());
    else if (k == "--server-pid") f.server_pid = std::atoi(v.c_str());
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      std::exit(2);
    }
  }
  if (f.url.empty() || f.connections < 1 || f.traces < 1) {
    std::fprintf(stderr, "usage: mlflow_peer_bench --url http://127.0.0.1:PORT [--seconds S] [--connections N] ...\n");
    std::exit(2);
  }
  return f;
}

// RFC 3339 with milliseconds, as the MLflow client writes create_time.
std::string rfc3339_ms(int64_t unix_ms) {
  const time_t secs = static_cast<time_t>(unix_ms / 1000);
  tm t{};
  gmtime_r(&secs, &t);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour,
                t.tm_min, t.tm_sec, static_cast<int>(unix_ms % 1000));
  return buf;
}

std::string trace_id(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "tr-%08x%024llx", static_cast<unsigned>(::getpid()), static_cast<unsigned long long>(i));
  return buf;
}

// StartTraceV3 as the MLflow exporter sends it at the end of a traced call.
std::string start_trace_body(const std::string& id, int64_t now_ms) {
  return R"({"trace":{"trace_info":{"trace_id":")" + id +
         R"(","trace_location":{"type":"MLFLOW_EXPERIMENT","mlflow_experiment":{"experiment_id":"0"}},"request_time":")" +
         rfc3339_ms(now_ms) +
         R"(","execution_duration":"0.012s","state":"OK","trace_metadata":{"mlflow.trace_schema.version":"3"},)"
         R"("tags":{"mlflow.traceName":"my_chatbot"},"request_preview":"{\"user_question\": \"What is MLflow?\"}",)"
         R"("response_preview":"\"MLflow is an open-source platform for managing the end-to-end machine learning lifecycle.\""}}})";
}

// RestStore.create_assessment for mlflow.log_feedback (message_to_json of CreateAssessment).
std::string log_feedback_body(const std::string& id, int64_t create_ms, int conn, uint64_t seq) {
  const std::string t = rfc3339_ms(create_ms);
  return R"({"assessment":{"assessment_name":"user_feedback","trace_id":")" + id +
         R"(","source":{"source_type":"HUMAN","source_id":"enduser_)" + std::to_string(conn) + "_" + std::to_string(seq) +
         R"("},"create_time":")" + t + R"(","last_update_time":")" + t + R"(","feedback":{"value":)" +
         (seq % 3 == 0 ? "false" : "true") +
         R"(},"rationale":"Missing details about MLflow's key features like Projects and Model Registry","valid":true}})";
}

std::vector<int> process_tree(int root) {
  std::vector<int> out{root};
  for (size_t i = 0; i < out.size(); ++i) {
    std::ifstream children("/proc/" + std::to_string(out[i]) + "/task/" + std::to_string(out[i]) + "/children");
    int child;
    while (children >> child) out.push_back(child);
  }
  return out;
}

// Sum of VmHWM (peak RSS) in KiB over the server's processes.
long peak_rss_kib(int root) {
  long total = 0;
  for (int pid : process_tree(root)) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("VmHWM:", 0) == 0) total += std::atol(line.c_str() + 6);
    }
  }
  return total;
}

// utime + stime of the server's processes, in seconds.
double cpu_seconds(int root) {
  double total = 0;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (int pid : process_tree(root)) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const size_t close = content.rfind(')');  // the command name may contain spaces
    if (close == std::string::npos) continue;
    std::istringstream rest(content.substr(close + 2));
    std::string field;
    long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::atoll(field.c_str());
      if (i == 15) stime = std::atoll(field.c_str());
    }
    total += static_cast<double>(utime + stime) / tick;
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  const Flags f = parse(argc, argv);
  const int64_t base_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();

  std::vector<std::string> traces;
  {
    httplib::Client cli(f.url);
    cli.set_keep_alive(true);
    cli.set_read_timeout(std::chrono::seconds(60));
    for (int i = 0; i < f.traces; ++i) {
      traces.push_back(trace_id(i));
      auto res = cli.Post("/api/3.0/mlflow/traces", start_trace_body(traces.back(), base_ms + i), "application/json");
      if (!res || res->status != 200) {
        std::fprintf(stderr, "StartTraceV3 failed: %s\n",
                     res ? (std::to_string(res->status) + " " + res->body.substr(0, 300)).c_str() : httplib::to_string(res.error()).c_str());
        return 1;
      }
    }
  }

  std::atomic<bool> measuring{false}, stop{false};
  std::atomic<uint64_t> calls{0}, failures{0};
  std::vector<std::vector<int64_t>> latencies(static_cast<size_t>(f.connections));
  std::vector<std::thread> clients;
  for (int c = 0; c < f.connections; ++c) {
    clients.emplace_back([&, c] {
      httplib::Client cli(f.url);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      cli.set_read_timeout(std::chrono::seconds(60));
      auto& lat = latencies[static_cast<size_t>(c)];
      lat.reserve(1 << 18);
      for (uint64_t seq = 0; !stop.load(std::memory_order_relaxed); ++seq) {
        const std::string& id = traces[(seq * static_cast<uint64_t>(f.connections) + static_cast<uint64_t>(c)) % traces.size()];
        const std::string body = log_feedback_body(id, base_ms + static_cast<int64_t>(seq), c, seq);
        const std::string path = "/api/3.0/mlflow/traces/" + id + "/assessments";
        const auto t0 = std::chrono::steady_clock::now();
        auto res = cli.Post(path, body, "application/json");
        const auto t1 = std::chrono::steady_clock::now();
        const bool ok = res && res->status == 200 && res->body.find("\"assessment_id\"") != std::string::npos;
        if (!measuring.load(std::memory_order_relaxed)) continue;
        if (!ok) {
          if (failures.fetch_add(1, std::memory_order_relaxed) < 3) {
            std::fprintf(stderr, "%s: %s\n", f.label.c_str(),
                         res ? (std::to_string(res->status) + " " + res->body.substr(0, 300)).c_str()
                             : httplib::to_string(res.error()).c_str());
          }
          continue;
        }
        calls.fetch_add(1, std::memory_order_relaxed);
        lat.push_back(std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(f.warmup));  // a benchmark's warm-up, not test synchronisation
  const double cpu0 = f.server_pid ? cpu_seconds(f.server_pid) : 0;
  measuring = true;
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(f.seconds));
  measuring = false;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu1 = f.server_pid ? cpu_seconds(f.server_pid) : 0;
  stop = true;
  for (auto& t : clients) t.join();

  std::vector<int64_t> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))] / 1000.0; };
  std::printf("mlflow_peer_bench label=%s url=%s connections=%d traces=%d seconds=%.1f\n", f.label.c_str(), f.url.c_str(),
              f.connections, f.traces, elapsed);
  std::printf("calls_per_s=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f failures=%llu", calls.load() / elapsed, pct(0.50), pct(0.99),
              all.empty() ? 0.0 : all.back() / 1000.0, static_cast<unsigned long long>(failures.load()));
  if (f.server_pid) {
    std::printf(" server_peak_rss_mib=%.1f server_cpu_s_per_1k_calls=%.3f", peak_rss_kib(f.server_pid) / 1024.0,
                calls.load() ? (cpu1 - cpu0) * 1000.0 / static_cast<double>(calls.load()) : 0.0);
  }
  std::printf("\n");
  return 0;
}
