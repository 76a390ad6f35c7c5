// restart_bench: how long the join + route processor takes to resume after kill -9, with a
// realistic amount of state, against a real Kafka broker (PRODUCT.md §8: < 5 s, no rebuild).
//
//   restart_bench --brokers=HOST:PORT --worker=PATH/join_worker [--traces=200000] [--rounds=3]
//                 [--modes=alo,eos] [--membership=static,dynamic] [--dir=/tmp]
//
// For each mode (at-least-once, exactly-once) it builds state by running join_worker over the
// ordering stream of processors/join/tests/ordering_stream.h (`traces` traces, ~2.6 events
// each), then `rounds` times: produce a fresh chunk of events, SIGKILL the worker while it is in
// the middle of the chunk, start it again and measure
//   start_ms  — process start until JoinProcessor::start() returned (store open, pending scan,
//               exactly-once init_transactions, subscribe);
//   resume_ms — spawn until the restarted worker has written its first batch (group join,
//               assignment, exactly-once replay of the gap, first poll, apply, commit, write);
//   replayed  — records re-applied with outputs suppressed (exactly-once: at most one batch).
// With membership=static the worker has a stable --instance (group.instance.id); dynamic shows
// what a restart costs without it (waiting out the dead member's 10 s session).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kafka/admin.h"
#include "kafka/producer.h"
#include "processors/join/tests/ordering_stream.h"

extern char** environ;

using namespace tracefeed;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

namespace {

std::map<std::string, std::string> parse_args(int argc, char** argv) {
  std::map<std::string, std::string> a;
  for (int i = 1; i < argc; ++i) {
    std::string_view s = argv[i];
    if (s.size() < 3 || s.substr(0, 2) != "--") continue;
    s.remove_prefix(2);
    const auto eq = s.find('=');
    if (eq == std::string_view::npos) {
      a.emplace(std::string(s), std::string("1"));
    } else {
      a.emplace(std::string(s.substr(0, eq)), std::string(s.substr(eq + 1)));
    }
  }
  return a;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(item);
  return out;
}

pid_t spawn(std::vector<std::string> args, const fs::path& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

std::map<std::string, int64_t> read_progress(const fs::path& p) {
  std::map<std::string, int64_t> out;
  std::ifstream in(p);
  std::string kv;
  while (in >> kv) {
    const auto eq = kv.find('=');
    if (eq != std::string::npos) out[kv.substr(0, eq)] = std::stoll(kv.substr(eq + 1));
  }
  return out;
}

bool alive(pid_t pid) {
  int st = 0;
  return waitpid(pid, &st, WNOHANG) == 0;
}

// Polls the progress file every 2 ms until `cond` holds; false when the worker died or `timeout`.
template <typename Cond>
bool wait_progress(pid_t pid, const fs::path& progress, Cond cond, std::chrono::seconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (SteadyClock::now() < deadline) {
    if (cond(read_progress(progress))) return true;
    if (!alive(pid)) return false;
    std::this_thread::sleep_for(2ms);
  }
  return false;
}

uint64_t dir_bytes(const fs::path& dir) {
  uint64_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) n += e.file_size(ec);
  }
  return n;
}

struct Sample {
  int64_t start_ms = 0, resume_ms = 0, replayed = 0;
};

double median(std::vector<int64_t> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? static_cast<double>(v[v.size() / 2])
                      : (static_cast<double>(v[v.size() / 2 - 1]) + static_cast<double>(v[v.size() / 2])) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  if (!args.count("brokers") || !args.count("worker")) {
    std::fprintf(stderr, "usage: restart_bench --brokers=HOST:PORT --worker=PATH/join_worker [--traces=N] [--rounds=N]\n"
                         "       [--modes=alo,eos] [--membership=static,dynamic] [--dir=/tmp]\n");
    return 2;
  }
  const size_t traces = args.count("traces") ? std::stoul(args["traces"]) : 200000;
  const int rounds = args.count("rounds") ? std::stoi(args["rounds"]) : 3;
  const auto modes = split(args.count("modes") ? args["modes"] : "alo,eos");
  const auto memberships = split(args.count("membership") ? args["membership"] : "static,dynamic");
  const fs::path base = args.count("dir") ? fs::path(args["dir"]) : fs::temp_directory_path();
  kafka::ClientOptions client{args["brokers"], "restart-bench", {}};

  const int64_t now_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::fprintf(stderr, "generating %zu traces...\n", traces);
  const join::testing::OrderingStream stream = join::testing::make_ordering_stream(traces, now_s * 1'000'000'000);
  // 85 % builds the state; the rest is fed in chunks, one per kill.
  const size_t build = stream.events.size() * 85 / 100;
  const size_t chunk = (stream.events.size() - build) / static_cast<size_t>(std::max(1, rounds * 2));  // two per round

  auto admin = kafka::Admin::create(client);
  if (!admin.is_ok()) return std::fprintf(stderr, "admin: %s\n", admin.status().to_string().c_str()), 1;
  kafka::ProducerOptions po;
  po.client = client;
  auto producer = kafka::Producer::create(po);
  if (!producer.is_ok()) return std::fprintf(stderr, "producer: %s\n", producer.status().to_string().c_str()), 1;

  std::printf("restart after kill -9: %zu traces, %zu events to build state, chunks of %zu events, %d rounds\n",
              traces, build, chunk, rounds);
  std::printf("%-4s %-8s %10s %10s %10s %10s %10s %12s\n", "mode", "members", "state_MiB", "start_ms", "resume_ms",
              "resume_max", "replayed", "build_ev/s");
  std::random_device rd;
  for (const auto& mode : modes) {
    for (const auto& membership : memberships) {
      const std::string tag = "rb-" + mode + "-" + membership + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 100000);
      const Topics topics = Topics::with_prefix(tag + ".");
      std::vector<kafka::TopicSpec> specs;
      for (const auto& t : topics.all()) specs.push_back({t, 8, 1, {}});
      if (Status s = (*admin)->create_topics(specs, 30s); !s.is_ok()) {
        std::fprintf(stderr, "create topics: %s\n", s.to_string().c_str());
        return 1;
      }
      const fs::path dir = base / tag;
      fs::create_directories(dir);
      const fs::path progress = dir / "progress";
      std::vector<std::string> wargs = {args["worker"], "--brokers=" + args["brokers"], "--prefix=" + tag + ".",
                                        "--group=" + tag, "--state=" + (dir / "state").string(),
                                        "--progress=" + progress.string(), "--max-batch=2000"};
      if (mode == "eos") wargs.push_back("--eos");
      if (membership == "static") wargs.push_back("--instance=" + tag + "-0");

      size_t produced = 0;
      auto produce_upto = [&](size_t end) {
        std::vector<kafka::ProduceRecord> records;
        for (; produced < end; ++produced) {
          const auto& e = stream.events[produced];
          records.push_back({e.trace_topic ? topics.traces : topics.assessments, e.key, e.value, std::nullopt});
          if (records.size() == 50000 || produced + 1 == end) {
            for (const auto& r : (*producer)->produce_batch(records, 120s)) {
              if (!r.status.is_ok()) std::fprintf(stderr, "produce: %s\n", r.status.to_string().c_str());
            }
            records.clear();
          }
        }
      };
      produce_upto(build);
      const auto build_start = SteadyClock::now();
      pid_t pid = spawn(wargs, dir / "worker.log");
      if (!wait_progress(pid, progress, [&](auto p) { return p["consumed"] >= static_cast<int64_t>(build); }, 600s)) {
        std::fprintf(stderr, "building state failed; see %s\n", (dir / "worker.log").c_str());
        ::kill(pid, SIGKILL);
        return 1;
      }
      const double build_s = std::chrono::duration<double>(SteadyClock::now() - build_start).count();
      std::vector<Sample> samples;
      for (int r = 0; r < rounds; ++r) {
        const int64_t before = read_progress(progress)["consumed"];
        produce_upto(std::min(stream.events.size(), produced + chunk));
        // Kill in the middle of the chunk: batches are in flight.
        wait_progress(pid, progress, [&](auto p) { return p["consumed"] >= before + static_cast<int64_t>(chunk / 4); }, 120s);
        ::kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        fs::remove(progress);
        // More input while it is down, so the restarted worker has a batch to write even if the
        // killed one had finished its chunk.
        produce_upto(std::min(stream.events.size(), produced + chunk));
        const auto t0 = SteadyClock::now();
        pid = spawn(wargs, dir / "worker.log");
        Sample s;
        if (!wait_progress(pid, progress, [&](auto p) { return p["batches"] >= 1; }, 120s)) {
          std::fprintf(stderr, "restart %d did not resume; see %s\n", r, (dir / "worker.log").c_str());
          ::kill(pid, SIGKILL);
          return 1;
        }
        s.resume_ms = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - t0).count();
        auto p = read_progress(progress);
        s.start_ms = p["start_ms"];
        s.replayed = p["replayed"];
        samples.push_back(s);
        // Let it finish the chunk before the next round.
        wait_progress(pid, progress, [&](auto q) { return q["consumed"] >= static_cast<int64_t>(produced); }, 300s);
      }
      ::kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
      std::vector<int64_t> starts, resumes, replayed;
      for (const auto& s : samples) {
        starts.push_back(s.start_ms);
        resumes.push_back(s.resume_ms);
        replayed.push_back(s.replayed);
      }
      std::printf("%-4s %-8s %10.1f %10.0f %10.0f %10lld %10.0f %12.0f\n", mode.c_str(), membership.c_str(),
                  static_cast<double>(dir_bytes(dir / "state")) / (1 << 20), median(starts), median(resumes),
                  static_cast<long long>(*std::max_element(resumes.begin(), resumes.end())), median(replayed),
                  static_cast<double>(build) / build_s);
      std::fflush(stdout);
      fs::remove_all(dir);
    }
  }
  return 0;
}
